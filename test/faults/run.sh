#!/usr/bin/env bash
# test/faults/run.sh — the "hessra" PostgreSQL extension under load and faults.
#
# Builds the extension and installs it into a private tree (build_install), mints TEST-ONLY
# tokens through the engine's C ABI (pg-plugin/test/mint.c, committed test keys),
# starts throwaway clusters with scripts/pg-cluster.sh (as the postgres OS user,
# 127.0.0.1, free ports) and checks:
#   A. parallel clients, each setting its own token per transaction
#      (hessra_set_token($1) or set_config('hessra.token', $1, true)), never see
#      another subject's rows, and see nothing once the transaction is over;
#   B. the same through PgBouncer in transaction pooling mode (fewer server
#      connections than clients), plus the documented session-SET hazard;
#   C. key rotation under load (atomic rename + pg_reload_conf()): no errors,
#      old-key tokens stop working, new-key tokens start working — also in a
#      session that stays open across the rotation;
#   D. a streaming hot standby (pg_basebackup -R) with its own configuration
#      verifies tokens and serves RLS queries;
#   E. backends terminated (pg_terminate_backend) and cancelled (statement_timeout)
#      in the middle of long RLS queries, parallel ones included, while clients
#      run: the server stays up (same pg_postmaster_start_time(), no crash in the
#      log) and other sessions keep working;
#   F. tokens never reach the server log nor pg_stat_activity when passed as a bind
#      parameter; the SET LOCAL literal form does show in pg_stat_activity (to the
#      same role and superusers only): documented, see SECURITY.md;
#   G. trust in the database (trust.sh): a revocation or key committed on the primary
#      counts at the next statement of open sessions, on the standby after replay and
#      through PgBouncer; an unreadable revocation table fails closed.
# Prints figures and "N passed, M failed"; exit status 0 only when all passed.
# Environment: DURATION (seconds per load phase, default 6), KEEP=1 keeps the
# work directory, PG_CONFIG picks the PostgreSQL.
set -uo pipefail
SUITE=faults
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../scripts/pg-test-lib.sh
source "$HERE/../../scripts/pg-test-lib.sh"
DURATION="${DURATION:-6}"
T_START=$SECONDS

setup_pg
command -v pgbench >/dev/null || fatal "pgbench not found"
PGBOUNCER="$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hessra-faults.XXXXXX")"
chmod 0755 "$WORK"
build_install "$WORK/pgtree"
P_DIR="$WORK/primary"; S_DIR="$WORK/standby"; PB_DIR="$WORK/pgbouncer"
BG_PIDS=()
cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    if [[ -f "$PB_DIR/pgbouncer.pid" ]]; then
        p="$(cat "$PB_DIR/pgbouncer.pid" 2>/dev/null)"
        [[ -n "$p" ]] && kill "$p" 2>/dev/null
    fi
    [[ -d "$S_DIR/data" ]] && "$CLUSTER" stop "$S_DIR" >/dev/null 2>&1
    [[ -d "$P_DIR/data" ]] && "$CLUSTER" stop "$P_DIR" >/dev/null 2>&1
    wait 2>/dev/null
    if [[ "${KEEP:-}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tokens and configuration files ------------------------------------------
cc_engine "$WORK/mint" "$REPO/pg-plugin/test/mint.c" || fatal "cannot build the mint helper"
KEYS="$REPO/pg-plugin/test"
OLD_KEY="$KEYS/test-root.key"; NEW_KEY="$KEYS/test-other.key"; STBY_KEY="$KEYS/test-edge.key"
PUB_OLD="$("$WORK/mint" pubkey "$OLD_KEY")" || fatal "mint pubkey"
PUB_NEW="$("$WORK/mint" pubkey "$NEW_KEY")" || fatal "mint pubkey"
PUB_STBY="$("$WORK/mint" pubkey "$STBY_KEY")" || fatal "mint pubkey"
NSUBJ=8
declare -A TOK_OLD TOK_NEW TOK_STBY EXPECT
ALL_TOKENS=()
for i in $(seq 1 $NSUBJ); do
    TOK_OLD[$i]="$("$WORK/mint" token "$OLD_KEY" "u$i" docs read 3600)" || fatal "mint"
    TOK_NEW[$i]="$("$WORK/mint" token "$NEW_KEY" "u$i" docs read 3600)" || fatal "mint"
    TOK_STBY[$i]="$("$WORK/mint" token "$STBY_KEY" "u$i" docs read 3600)" || fatal "mint"
    EXPECT[$i]=$((3 * i))
    ALL_TOKENS+=("${TOK_OLD[$i]}" "${TOK_NEW[$i]}" "${TOK_STBY[$i]}")
done
CONF="$WORK/conf"; mkdir -p "$CONF"; chmod 0755 "$CONF"
cfg_json() { printf '{"version": 1, "default_key": "k", "keys": [{"id": "k", "public_key": "%s"}]}' "$1"; }
write_file_atomic "$CONF/primary.json" "$(cfg_json "$PUB_OLD")"
write_file_atomic "$CONF/standby.json" "$(cfg_json "$PUB_STBY")"

# ---- primary cluster -------------------------------------------------------------
PORT="$(free_port)" || fatal "no free port"
PORT="$(pg_start "$P_DIR" "$PORT" "hessra.config_path = '$CONF/primary.json'
max_connections = 60
wal_level = replica
max_wal_senders = 4
hot_standby = on
log_min_messages = warning
log_min_error_statement = error")" || fatal "could not start the primary"
printf '%s\n' "local replication all trust" "host replication all 127.0.0.1/32 trust" \
    | as_pg tee -a "$P_DIR/data/pg_hba.conf" >/dev/null
PSQL_PORT=$PORT
sql -c "SELECT pg_reload_conf()" >/dev/null
sql -c "CREATE DATABASE faults" || fatal "CREATE DATABASE"
PSQL_DB=faults
sql <<SQL || fatal "schema setup failed"
CREATE EXTENSION hessra;
CREATE ROLE app LOGIN;
CREATE ROLE other LOGIN;
CREATE TABLE docs (id serial PRIMARY KEY, owner text NOT NULL, body text);
INSERT INTO docs (owner, body)
  SELECT 'u' || s, 'row ' || n || ' of u' || s FROM generate_series(1, $NSUBJ) s, generate_series(1, 3 * s) n;
INSERT INTO docs (owner, body) SELECT 'nobody', 'orphan ' || n FROM generate_series(1, 20) n;
CREATE TABLE big (id int PRIMARY KEY, owner text NOT NULL);
INSERT INTO big SELECT g, 'u' || (g % $NSUBJ + 1) FROM generate_series(1, 400000) g;
ANALYZE;
DO \$\$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['docs', 'big'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING ((SELECT hessra_row_security(current_setting(''hessra.token'', true), ''docs'', ''read'')))', t || '_read', t);
    EXECUTE format('CREATE POLICY %I ON %I AS RESTRICTIVE FOR SELECT USING (owner = (SELECT hessra_current_subject()))', t || '_owner', t);
    EXECUTE format('GRANT SELECT ON %I TO app, other', t);
  END LOOP;
END \$\$;
SQL
P_START="$(sql -c 'SELECT pg_postmaster_start_time()')"
log "primary on 127.0.0.1:$PORT (PostgreSQL $PG_MAJOR); $NSUBJ subjects, docs: $(sql -c 'SELECT count(*) FROM docs') rows, big: 400000 rows"

# ---- pgbench scripts -------------------------------------------------------------
# Each transaction sets its own token (bind parameter), then asserts that every
# visible row is its own and that it sees all of them; after COMMIT nothing is
# visible. A violation raises an error whose text names it.
ASSERT_OWN="SELECT CASE WHEN count(*) = :expect::bigint AND count(*) FILTER (WHERE owner <> :subj::text) = 0 THEN 'ok'
  ELSE ('ISOLATION-VIOLATION ' || :subj::text || ' saw ' || count(*) || ' rows, ' || count(*) FILTER (WHERE owner <> :subj::text) || ' foreign')::int::text END FROM docs;"
ASSERT_NONE="SELECT CASE WHEN count(*) = 0 THEN 'ok' ELSE ('LEAK-AFTER-COMMIT ' || count(*) || ' rows visible without a token')::int::text END FROM docs;"
cat >"$WORK/set_token.sql" <<EOF
BEGIN;
SELECT hessra_set_token(:tok);
$ASSERT_OWN
END;
$ASSERT_NONE
EOF
cat >"$WORK/set_config.sql" <<EOF
BEGIN;
SELECT set_config('hessra.token', :tok, true);
$ASSERT_OWN
END;
$ASSERT_NONE
EOF
# during a rotation a token either works fully or not at all, never partially or for someone else
cat >"$WORK/rotation.sql" <<EOF
BEGIN;
SELECT hessra_set_token(:tok);
SELECT CASE WHEN count(*) IN (0, :expect::bigint) AND count(*) FILTER (WHERE owner <> :subj::text) = 0 THEN 'ok'
  ELSE ('ISOLATION-VIOLATION ' || :subj::text || ' saw ' || count(*) || ' rows, ' || count(*) FILTER (WHERE owner <> :subj::text) || ' foreign')::int::text END FROM docs;
END;
$ASSERT_NONE
EOF

# run_clients TAG HOST PORT SCRIPT-CHOOSER TOKENS-ARRAY-NAME CLIENTS-PER-SUBJECT [DURATION]
# starts one pgbench per subject in the background; results land in $WORK/TAG.*
run_clients() {
    local tag="$1" host="$2" port="$3" chooser="$4" arr="$5" per="$6" dur="${7:-$DURATION}" i script
    local -n toks="$arr"
    CLIENT_PIDS=()
    for i in $(seq 1 $NSUBJ); do
        script="$WORK/$chooser.sql"
        [[ $chooser == mixed ]] && { script="$WORK/set_token.sql"; (( i % 2 == 0 )) && script="$WORK/set_config.sql"; }
        pgbench -n -M extended -h "$host" -p "$port" -U app -c "$per" -j 1 -T "$dur" \
            -f "$script" -D "tok=${toks[$i]}" faults -D "subj=u$i" -D "expect=${EXPECT[$i]}" \
            >"$WORK/$tag.$i.out" 2>"$WORK/$tag.$i.err" &
        CLIENT_PIDS+=($!)
    done
}
# wait_clients TAG: waits, then sets TXNS (transactions done), ERRS (pgbench
# runs that failed), VIOL (isolation violations reported)
wait_clients() {
    local tag="$1" p i n rc
    ERRS=0; TXNS=0
    for p in "${CLIENT_PIDS[@]}"; do wait "$p"; rc=$?; [[ $rc -ne 0 ]] && ERRS=$((ERRS + 1)); done
    for i in $(seq 1 $NSUBJ); do
        n="$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$WORK/$tag.$i.out")"
        TXNS=$((TXNS + ${n:-0}))
    done
    VIOL=$(cat "$WORK/$tag".*.err | grep -cE 'ISOLATION-VIOLATION|LEAK-AFTER-COMMIT' || true)
    if [[ $ERRS -ne 0 || $VIOL -ne 0 ]]; then
        cat "$WORK/$tag".*.err | grep -E 'ERROR|error|aborted|VIOLATION|LEAK' | sort | uniq -c | head -n 8 | cut -c1-220 >&2
    fi
}

# ---- A0. the assertion itself catches a violation (harness self-test) -----------------
pgbench -n -M extended -h 127.0.0.1 -p "$PORT" -U app -c 1 -t 1 -f "$WORK/set_token.sql" \
    -D "tok=${TOK_OLD[2]}" -D subj=u1 -D "expect=${EXPECT[2]}" faults >/dev/null 2>"$WORK/selftest.err"
check "A0. harness self-test: presenting u2's token while claiming to be u1 is reported as an isolation violation" \
    grep -q "ISOLATION-VIOLATION u1 saw ${EXPECT[2]} rows, ${EXPECT[2]} foreign" "$WORK/selftest.err"

# ---- A. parallel clients, direct ---------------------------------------------------
log "A. $((NSUBJ * 2)) clients ($NSUBJ subjects x 2), ${DURATION}s, direct"
run_clients A 127.0.0.1 "$PORT" mixed TOK_OLD 2
wait_clients A
check "A. $((NSUBJ * 2)) parallel clients, own token per transaction: $TXNS transactions, 0 foreign rows, 0 rows after COMMIT (violations: $VIOL, failed clients: $ERRS)" \
    test $ERRS -eq 0 -a $VIOL -eq 0 -a $TXNS -gt 0
FIG_A=$TXNS

# ---- B. through PgBouncer (transaction pooling) ------------------------------------
if [[ -z "$PGBOUNCER" ]]; then
    fail "B. pgbouncer is not installed (Debian package pgbouncer)"
else
    mkdir -p "$PB_DIR"; chown postgres: "$PB_DIR" 2>/dev/null || true
    PB_PORT="$(free_port)" || fatal "no free port"
    printf '"app" ""\n"postgres" ""\n' >"$PB_DIR/userlist.txt"
    cat >"$PB_DIR/pgbouncer.ini" <<EOF
[databases]
faults = host=127.0.0.1 port=$PORT dbname=faults
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $PB_DIR/userlist.txt
pool_mode = transaction
default_pool_size = 3
max_client_conn = 100
logfile = $PB_DIR/pgbouncer.log
pidfile = $PB_DIR/pgbouncer.pid
admin_users = postgres
ignore_startup_parameters = extra_float_digits
EOF
    chmod -R a+rX "$PB_DIR"
    if ! as_pg "$PGBOUNCER" -d -q "$PB_DIR/pgbouncer.ini" 2>"$PB_DIR/start.err"; then
        cat "$PB_DIR/start.err" >&2
        fail "B. pgbouncer did not start"
    else
        for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PB_PORT") 2>/dev/null && break; sleep 0.1; done
        log "B. $((NSUBJ * 2)) clients through PgBouncer (transaction pooling, 3 server connections), ${DURATION}s"
        run_clients B 127.0.0.1 "$PB_PORT" mixed TOK_OLD 2
        wait_clients B
        servers="$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND datname = 'faults'")"
        check "B. $((NSUBJ * 2)) clients via PgBouncer transaction pooling on $servers server connections: $TXNS transactions, 0 foreign rows, 0 rows after COMMIT (violations: $VIOL, failed clients: $ERRS)" \
            test $ERRS -eq 0 -a $VIOL -eq 0 -a $TXNS -gt 0 -a "$servers" -le 3
        FIG_B=$TXNS
        # documented hazard: a *session-level* SET through a transaction pooler stays on
        # the server connection and is inherited by other clients' transactions
        printf 'SET hessra.token = %s;\n' "'${TOK_OLD[1]}'" >"$WORK/session_set.sql"
        leaked=0
        for r in $(seq 1 6); do
            psql -X -q -h 127.0.0.1 -p "$PB_PORT" -U app -d faults -f "$WORK/session_set.sql" >/dev/null 2>&1
        done
        for r in $(seq 1 24); do
            n="$(psql -X -At -h 127.0.0.1 -p "$PB_PORT" -U app -d faults -c 'SELECT count(*) FROM docs' 2>/dev/null)"
            [[ "${n:-0}" -gt 0 ]] && leaked=$((leaked + 1))
        done
        echo "note - B. hazard (documented, not a failure): after a client ran session-level 'SET hessra.token' through PgBouncer" \
             "transaction pooling, $leaked of 24 later token-less transactions of other clients saw that token's rows." \
             "Use hessra_set_token(\$1) / SET LOCAL inside a transaction, never SET, behind a transaction pooler."
        FIG_B_HAZARD=$leaked
        # clean the pooled connections for the next phases
        psql -X -q -h 127.0.0.1 -p "$PB_PORT" -U postgres -d pgbouncer -c 'RECONNECT faults' >/dev/null 2>&1 || true
        kill "$(cat "$PB_DIR/pgbouncer.pid")" 2>/dev/null; rm -f "$PB_DIR/pgbouncer.pid"
    fi
fi

# ---- C. key rotation under load ------------------------------------------------------
log "C. key rotation under load: $NSUBJ clients on old-key tokens + $NSUBJ on new-key tokens, ${DURATION}s"
CFG_OLD="$(cfg_json "$PUB_OLD")"; CFG_NEW="$(cfg_json "$PUB_NEW")"
run_clients C1 127.0.0.1 "$PORT" rotation TOK_OLD 1
PIDS_C1=("${CLIENT_PIDS[@]}")
run_clients C2 127.0.0.1 "$PORT" rotation TOK_NEW 1
PIDS_C2=("${CLIENT_PIDS[@]}")
rotations=0; rot_err=0
end=$((SECONDS + DURATION - 1))
while [[ $SECONDS -lt $end && $rotations -lt 40 ]]; do
    if (( rotations % 2 == 0 )); then write_file_atomic "$CONF/primary.json" "$CFG_NEW"; else write_file_atomic "$CONF/primary.json" "$CFG_OLD"; fi
    sql -c "SELECT pg_reload_conf()" >/dev/null 2>>"$WORK/rotation.err" || rot_err=$((rot_err + 1))
    rotations=$((rotations + 1))
    sleep 0.3
done
# end on the new key
write_file_atomic "$CONF/primary.json" "$CFG_NEW"
sql -c "SELECT pg_reload_conf()" >/dev/null
CLIENT_PIDS=("${PIDS_C1[@]}"); wait_clients C1; T1=$TXNS; E1=$ERRS; V1=$VIOL
CLIENT_PIDS=("${PIDS_C2[@]}"); wait_clients C2; T2=$TXNS; E2=$ERRS; V2=$VIOL
check "C. $rotations key rotations (atomic rename + pg_reload_conf) under $((2 * NSUBJ)) clients: $((T1 + T2)) transactions, no error, no partial or foreign result (failed clients: $((E1 + E2)), violations: $((V1 + V2)))" \
    test $((E1 + E2 + V1 + V2 + rot_err)) -eq 0 -a $((T1 + T2)) -gt 0
FIG_C=$((T1 + T2)); FIG_ROT=$rotations
sleep 0.2
count_as_app() { # PORT TOKEN -> visible rows in docs for that token
    printf 'BEGIN;\nSELECT hessra_set_token(%s);\nSELECT count(*) FROM docs;\nCOMMIT;\n' "'$2'" \
        | psql -X -q -At -h 127.0.0.1 -p "$1" -U app -d faults 2>&1 | grep -vE '^$'
}
a="$(count_as_app "$PORT" "${TOK_OLD[2]}")"; b="$(count_as_app "$PORT" "${TOK_NEW[2]}")"
check "C. after the rotation: old-key token sees $a rows (want 0), new-key token sees $b rows (want ${EXPECT[2]})" \
    test "$a" == 0 -a "$b" == "${EXPECT[2]}"
# one app session open across two rotations: plain file rename (picked up by the per-statement
# stat) and rename + pg_reload_conf()
cat >"$WORK/session_rotation.sql" <<EOF
BEGIN; SELECT hessra_set_token('${TOK_NEW[3]}'); SELECT 'new-before', count(*) FROM docs; COMMIT;
\\! cp -p '$CONF/old.json' '$CONF/.next.json' && mv -f '$CONF/.next.json' '$CONF/primary.json'
BEGIN; SELECT hessra_set_token('${TOK_NEW[3]}'); SELECT 'new-after-rename', count(*) FROM docs; COMMIT;
BEGIN; SELECT hessra_set_token('${TOK_OLD[3]}'); SELECT 'old-after-rename', count(*) FROM docs; COMMIT;
\\! cp -p '$CONF/new.json' '$CONF/.next.json' && mv -f '$CONF/.next.json' '$CONF/primary.json' && psql -X -q -At -h 127.0.0.1 -p $PORT -U postgres -d faults -c 'SELECT pg_reload_conf()' >/dev/null
BEGIN; SELECT hessra_set_token('${TOK_OLD[3]}'); SELECT 'old-after-reload', count(*) FROM docs; COMMIT;
BEGIN; SELECT hessra_set_token('${TOK_NEW[3]}'); SELECT 'new-after-reload', count(*) FROM docs; COMMIT;
EOF
write_file_atomic "$CONF/old.json" "$CFG_OLD"; write_file_atomic "$CONF/new.json" "$CFG_NEW"
got="$(psql -X -q -At -F= -h 127.0.0.1 -p "$PORT" -U app -d faults -f "$WORK/session_rotation.sql" 2>&1 | grep -E '^[a-z-]+=' | tr '\n' ' ')"
e3=${EXPECT[3]}
want="new-before=$e3 new-after-rename=0 old-after-rename=$e3 old-after-reload=0 new-after-reload=$e3 "
check "C. one session across two rotations sees each new key at its next statement: $got" test "$got" == "$want"

# a configuration file replaced by a broken one: fail closed (ERROR, SQLSTATE F0000), then recover
write_file_atomic "$CONF/primary.json" '{"version": 1, "keys": [ this is not json'
broken="$(printf 'BEGIN;\nSELECT hessra_set_token(%s);\n\\set VERBOSITY verbose\nSELECT count(*) FROM docs;\nCOMMIT;\n' "'${TOK_NEW[2]}'" \
    | psql -X -q -At -h 127.0.0.1 -p "$PORT" -U app -d faults 2>&1)"
write_file_atomic "$CONF/primary.json" "$CFG_NEW"
fixed="$(count_as_app "$PORT" "${TOK_NEW[2]}")"
check "C. a broken configuration file fails closed (ERROR F0000, no rows, no token in the message) and is picked up again once fixed ($fixed rows)" \
    eval '[[ "$broken" == *"ERROR:  F0000"* && "$broken" != *"${TOK_NEW[2]:20:30}"* && "$fixed" == "${EXPECT[2]}" ]]'

# ---- D. streaming hot standby with its own configuration ------------------------------
log "D. hot standby (pg_basebackup -R) trusting its own key"
S_PORT="$(free_port)" || fatal "no free port"
mkdir -p "$S_DIR"; chown postgres: "$S_DIR"; chmod 0700 "$S_DIR"
if as_pg pg_basebackup -h 127.0.0.1 -p "$PORT" -U postgres -D "$S_DIR/data" -R -X stream -c fast >"$S_DIR/basebackup.log" 2>&1; then
    printf '%s\n' "unix_socket_directories = '$S_DIR'" "hessra.config_path = '$CONF/standby.json'" \
        | as_pg tee -a "$S_DIR/data/postgresql.conf" >/dev/null
    if S_PORT="$(pg_start "$S_DIR" "$S_PORT")"; then
        PSQL_PORT=$S_PORT
        for _ in $(seq 1 50); do [[ "$(sql -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" == t ]] && break; sleep 0.1; done
        PSQL_PORT=$PORT
        sql -c "CREATE TABLE replay_marker AS SELECT 42 AS v" >/dev/null
        PSQL_PORT=$S_PORT
        for _ in $(seq 1 100); do
            [[ "$(sql -c "SELECT to_regclass('replay_marker') IS NOT NULL" 2>/dev/null)" == t ]] && break; sleep 0.1
        done
        check "D. standby is in recovery and has replayed the primary (marker row visible)" \
            test "$(sql -c 'SELECT pg_is_in_recovery()')/$(sql -c 'SELECT v FROM replay_marker' 2>/dev/null)" == "t/42"
        a="$(count_as_app "$S_PORT" "${TOK_STBY[4]}")"; b="$(count_as_app "$S_PORT" "${TOK_NEW[4]}")"
        c="$(count_as_app "$PORT" "${TOK_STBY[4]}")"
        check "D. standby's own key: standby-key token sees $a rows (want ${EXPECT[4]}), primary-key token sees $b (want 0); the primary refuses the standby-key token ($c rows)" \
            test "$a" == "${EXPECT[4]}" -a "$b" == 0 -a "$c" == 0
        v="$(printf "SELECT hessra_verify_token('%s', 'u5', 'docs', 'read'), hessra_verify_token('%s', 'u5', 'docs', 'read');\n" "${TOK_STBY[5]}" "${TOK_NEW[5]}" \
            | psql -X -q -At -h 127.0.0.1 -p "$S_PORT" -U app -d faults 2>&1)"
        check "D. hessra_verify_token on the standby: standby key t, primary key f (got $v)" test "$v" == "t|f"
        log "D. $NSUBJ read-only clients on the standby, 4s"
        run_clients D 127.0.0.1 "$S_PORT" set_token TOK_STBY 1 4
        wait_clients D
        check "D. $NSUBJ parallel clients on the hot standby: $TXNS transactions, 0 foreign rows (violations: $VIOL, failed clients: $ERRS)" \
            test $ERRS -eq 0 -a $VIOL -eq 0 -a $TXNS -gt 0
        FIG_D=$TXNS
        check "D. standby log has no crash" eval '! log_has_crash "$S_DIR/server.log"'
        PSQL_PORT=$PORT
    else
        fail "D. the standby did not start"; tail -n 20 "$S_DIR/server.log" >&2
    fi
else
    fail "D. pg_basebackup failed"; cat "$S_DIR/basebackup.log" >&2
fi

# ---- E. backends terminated / cancelled mid-query -----------------------------------
log "E. terminating and cancelling long RLS queries while $NSUBJ clients run"
run_clients E 127.0.0.1 "$PORT" set_token TOK_NEW 1 $((DURATION + 4))
PIDS_E=("${CLIENT_PIDS[@]}")
# a long RLS query (~1M engine verifications, 10 s or more if not stopped): the policy on big, plus one engine verification per row (the
# resource varies, so the per-statement memo cannot answer), optionally parallel
long_query() { # NAME PARALLEL(0|1) TOKEN
    local par=""
    [[ $2 == 1 ]] && par="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
    cat <<EOF
SET application_name = '$1';
$par
BEGIN;
SELECT hessra_set_token('$3');
SELECT count(*) FROM big b, generate_series(1, 20) k
 WHERE hessra_verify_token(current_setting('hessra.token'), b.owner, 'docs' || ((b.id + k) % 97)::text, 'read') IS NOT NULL;
COMMIT;
EOF
}
terminated=0; term_ok=0
for r in 1 2 3 4 5 6; do
    par=$((r % 2))
    long_query "victim-$r" $par "${TOK_NEW[1]}" >"$WORK/victim-$r.sql"
    psql -X -q -At -h 127.0.0.1 -p "$PORT" -U app -d faults -f "$WORK/victim-$r.sql" >"$WORK/victim-$r.out" 2>&1 &
    vpid=$!; BG_PIDS+=($vpid)
    bpid=""
    for _ in $(seq 1 50); do
        bpid="$(sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'victim-$r' AND backend_type = 'client backend' AND state = 'active' AND query LIKE '%big%'")"
        [[ -n "$bpid" ]] && break; sleep 0.05
    done
    sleep 0.4
    workers=0
    [[ -n "$bpid" ]] && workers="$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE leader_pid = $bpid AND pid <> $bpid")"
    if [[ -n "$bpid" && "$(sql -c "SELECT pg_terminate_backend($bpid)")" == t ]]; then terminated=$((terminated + 1)); fi
    wait "$vpid"
    if grep -q 'terminating connection due to administrator command' "$WORK/victim-$r.out"; then term_ok=$((term_ok + 1)); fi
    [[ $par == 1 ]] && log "E. parallel victim $r had $workers parallel workers when terminated"
done
check "E. $terminated backends terminated mid-query (3 of them parallel queries), each client told 'terminating connection due to administrator command' ($term_ok)" \
    test $terminated -eq 6 -a $term_ok -eq 6
# cancel: statement_timeout inside the long query, then the same session goes on working
cat >"$WORK/cancel.sql" <<EOF
SET statement_timeout = '400ms';
$(long_query cancel-victim 1 "${TOK_NEW[1]}" | sed 1d)
ROLLBACK;
SET statement_timeout = 0;
BEGIN; SELECT hessra_set_token('${TOK_NEW[6]}'); SELECT 'after-cancel', count(*) FROM docs; COMMIT;
EOF
out="$(psql -X -q -At -F= -h 127.0.0.1 -p "$PORT" -U app -d faults -f "$WORK/cancel.sql" 2>&1)"
check "E. a cancelled query (statement_timeout) errors cleanly and its session keeps working" \
    eval '[[ "$out" == *"canceling statement due to statement timeout"* && "$out" == *"after-cancel=${EXPECT[6]}"* ]]'
CLIENT_PIDS=("${PIDS_E[@]}"); wait_clients E
check "E. $NSUBJ concurrent clients unaffected by the terminations: $TXNS transactions, no error (failed clients: $ERRS, violations: $VIOL)" \
    test $ERRS -eq 0 -a $VIOL -eq 0 -a $TXNS -gt 0
FIG_E=$TXNS; FIG_TERM=$terminated
now_start="$(sql -c 'SELECT pg_postmaster_start_time()')"
check "E. primary never restarted (pg_postmaster_start_time unchanged) and its log shows no crash" \
    eval '[[ "$now_start" == "$P_START" ]] && ! log_has_crash "$P_DIR/server.log"'

# ---- F. token leakage: pg_stat_activity and the server log ------------------------------
log "F. token leakage"
# (1) SET LOCAL with a literal: the statement text, token included, is the session's
#     pg_stat_activity.query while it is idle in transaction (documented)
cat >"$WORK/literal.sql" <<EOF
SET application_name = 'literal-setter';
BEGIN;
SET LOCAL hessra.token = '${TOK_NEW[7]}';
\\! sleep 1.5
COMMIT;
EOF
psql -X -q -h 127.0.0.1 -p "$PORT" -U app -d faults -f "$WORK/literal.sql" >/dev/null 2>&1 &
lpid=$!; BG_PIDS+=($lpid)
# (2) hessra_set_token(\$1) with a bind parameter, idle in transaction for 1.5 s (pgbench \sleep)
printf 'BEGIN;\nSELECT hessra_set_token(:tok);\n\\sleep 1500 ms\nEND;\n' >"$WORK/bind.sql"
PGAPPNAME=bind-setter pgbench -n -M extended -h 127.0.0.1 -p "$PORT" -U app -c 1 -t 1 -f "$WORK/bind.sql" \
    -D "tok=${TOK_NEW[8]}" faults >"$WORK/bind.out" 2>&1 &
bpid=$!; BG_PIDS+=($bpid)
sleep 0.7
probe() { # ROLE APP-NAME -> the query text that role sees for that session
    psql -X -q -At -h 127.0.0.1 -p "$PORT" -U "$1" -d faults \
        -c "SELECT coalesce(query, '<null>') FROM pg_stat_activity WHERE application_name = '$2'" 2>&1
}
lit_super="$(probe postgres literal-setter)"; lit_same="$(probe app literal-setter)"; lit_other="$(probe other literal-setter)"
bind_super="$(probe postgres bind-setter)"
wait "$lpid" "$bpid"
t7="${TOK_NEW[7]}"; t8="${TOK_NEW[8]}"
if [[ "$lit_super" == *"$t7"* && "$lit_same" == *"$t7"* ]]; then
    echo "note - F. documented: 'SET LOCAL hessra.token = <literal>' shows the token in pg_stat_activity.query to superusers and to the same role while the transaction is open"
fi
check "F. the literal SET LOCAL form is hidden from other roles in pg_stat_activity (they see: ${lit_other:0:40})" \
    eval '[[ "$lit_other" != *"$t7"* && -n "$lit_other" ]]'
check "F. hessra_set_token(\$1) with a bind parameter: pg_stat_activity.query is '$bind_super' (no token, even for a superuser)" \
    eval '[[ "$bind_super" == *"hessra_set_token"* && "$bind_super" != *"$t8"* ]]'
# (3) an error later in the transaction logs the failing statement, not the token parameter
printf 'BEGIN;\nSELECT hessra_set_token(:tok);\nSELECT 1/0;\nEND;\n' >"$WORK/err.sql"
pgbench -n -M extended -h 127.0.0.1 -p "$PORT" -U app -c 1 -t 1 -f "$WORK/err.sql" -D "tok=${TOK_NEW[8]}" faults >/dev/null 2>&1
# a broken token in a policy: false, never an error; explain never echoes it
v="$(printf "SELECT hessra_verify_token('%s', 'u1', 'docs'), hessra_explain('%s', 'u1', 'docs', 'read');\n" "${TOK_NEW[1]}xx" "${TOK_NEW[1]}xx" \
    | psql -X -q -At -h 127.0.0.1 -p "$PORT" -U app -d faults 2>&1)"
check "F. a corrupted token gives false and hessra_explain does not echo it (${v:0:80})" \
    eval '[[ "$v" == f\|denied* && "$v" != *"${TOK_NEW[1]:20:30}"* ]]'
# (4) with statement logging on, bind parameters are logged unless log_parameter_max_length = 0
sql -c "ALTER ROLE app SET log_statement = 'all'" -c "ALTER ROLE app SET log_parameter_max_length = 0" >/dev/null
pgbench -n -M extended -h 127.0.0.1 -p "$PORT" -U app -c 1 -t 3 \
    -f "$WORK/set_token.sql" -D "tok=${TOK_NEW[2]}" -D subj=u2 -D "expect=${EXPECT[2]}" faults >"$WORK/logall.out" 2>&1 \
    || fail "F. pgbench with log_statement=all failed: $(tail -n 2 "$WORK/logall.out")"
sql -c "ALTER ROLE app RESET log_parameter_max_length" >/dev/null
sleep 0.3
leaks=0; n=0
for f in "$P_DIR/server.log" "$S_DIR/server.log" "$PB_DIR/pgbouncer.log"; do
    [[ -f "$f" ]] || continue
    for t in "${ALL_TOKENS[@]}"; do
        n=$((n + 1))
        if grep -qF -- "${t:20:40}" "$f"; then leaks=$((leaks + 1)); log "token found in $f"; fi
    done
done
check "F. no token in the primary, standby or PgBouncer logs ($n token/log pairs checked, log_statement=all with log_parameter_max_length=0 included)" test $leaks -eq 0
# the hazard, demonstrated last (after the log check): log_statement=all with the default
# log_parameter_max_length logs bind parameters, token included
pgbench -n -M extended -h 127.0.0.1 -p "$PORT" -U app -c 1 -t 1 \
    -f "$WORK/set_token.sql" -D "tok=${TOK_NEW[3]}" -D subj=u3 -D "expect=${EXPECT[3]}" faults >/dev/null 2>&1
sql -c "ALTER ROLE app RESET log_statement" >/dev/null
sleep 0.3
if grep -qF -- "${TOK_NEW[3]:20:40}" "$P_DIR/server.log"; then
    echo "note - F. documented: with log_statement=all (or log_min_duration_statement) and the default log_parameter_max_length, PostgreSQL logs bind parameters, token included; set log_parameter_max_length = 0"
fi
# a token stored as a role default: where PostgreSQL lets an ordinary role do it, the token lands in
# pg_roles.rolconfig (readable by every role); where it refuses (PostgreSQL 15+ without SET privilege),
# the refused statement -- token literal included -- is written to the server log
printf "ALTER ROLE app SET hessra.token = '%s';\n" "${TOK_NEW[6]}" | psql -X -q -h 127.0.0.1 -p "$PORT" -U app -d faults >/dev/null 2>&1
rolecfg="$(psql -X -q -At -h 127.0.0.1 -p "$PORT" -U other -d faults -c "SELECT array_to_string(rolconfig, ' ') FROM pg_roles WHERE rolname = 'app'" 2>&1)"
if [[ "$rolecfg" == *"${TOK_NEW[6]:20:30}"* ]]; then
    echo "note - F. documented: 'ALTER ROLE <self> SET hessra.token' is allowed for an ordinary role and stores the token in pg_roles.rolconfig, readable by every role"
elif grep -qF -- "${TOK_NEW[6]:20:40}" "$P_DIR/server.log"; then
    echo "note - F. documented: 'ALTER ROLE <self> SET hessra.token = <literal>' is refused here, and the refused statement, token literal included, is written to the server log (log_min_error_statement)"
fi
sql -c "ALTER ROLE app RESET hessra.token" >/dev/null

# ---- G. trust in the database -------------------------------------------------------
# shellcheck source=trust.sh
source "$HERE/trust.sh"

# ---- figures -----------------------------------------------------------------------
echo
echo "figures (PostgreSQL $PG_MAJOR, ${DURATION}s per load phase, $(nproc 2>/dev/null || echo '?') cores):"
echo "  A. direct:      $((NSUBJ * 2)) clients, ${FIG_A:-0} transactions, 0 cross-subject rows"
echo "  B. PgBouncer:   $((NSUBJ * 2)) clients on 3 server connections, ${FIG_B:-0} transactions; session-SET hazard hit ${FIG_B_HAZARD:-?}/24"
echo "  C. rotation:    ${FIG_ROT:-0} rotations under $((2 * NSUBJ)) clients, ${FIG_C:-0} transactions, 0 errors"
echo "  D. standby:     $NSUBJ clients, ${FIG_D:-0} transactions with the standby's own key"
echo "  E. faults:      ${FIG_TERM:-0} backends terminated mid-query + 1 cancelled, ${FIG_E:-0} concurrent transactions unaffected, 0 restarts"
echo "  G. trust:       ${FIG_G:-not run}"
echo "  total time:     $((SECONDS - T_START)) s"
summary
[[ $FAILED -eq 0 ]]
