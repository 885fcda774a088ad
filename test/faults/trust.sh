# test/faults/trust.sh — G. trust in the database (issue 22), sourced by test/faults/run.sh once the
# primary ($PORT), the hot standby ($S_PORT, when it started) and the PgBouncer configuration ($PB_DIR)
# exist. A revocation or a key committed on the primary counts at the next statement of:
#   G1. a session of the primary opened before it (in autocommit and inside a transaction block);
#   G2. a session of the hot standby opened before it, once the commit is replayed there;
#   G3. every server connection PgBouncer (transaction pooling) hands out;
# and a table that cannot be read fails closed (G4): an ERROR with a SQLSTATE, never "not revoked" —
# locked by another session (lock_timeout), and its index corrupted on disk (the error raised inside
# the engine's revocation lookup, kept, and re-raised once the engine returned; nothing cached).
log "G. trust in the database: revocations and keys committed on the primary"

revocation_id() { sql -c "SELECT hessra_inspect('$1')->'revocation_ids'->>0"; }
# on the primary, then wait until the standby (when there is one) replayed it
cat >"$WORK/primary_change.sh" <<EOF
#!/usr/bin/env bash
set -e
psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PORT -U postgres -d faults -c "\$1" >/dev/null
[[ -n "\${2:-}" ]] || exit 0
# the insert position: with synchronous_commit = off the commit may not be written yet (pg_current_wal_lsn)
lsn="\$(psql -X -At -h 127.0.0.1 -p $PORT -U postgres -d faults -c 'SELECT pg_current_wal_insert_lsn()')"
for _ in \$(seq 1 200); do
    [[ "\$(psql -X -At -h 127.0.0.1 -p "\$2" -U postgres -d faults -c "SELECT pg_last_wal_replay_lsn() >= '\$lsn'")" == t ]] && exit 0
    sleep 0.05
done
echo "not replayed on the standby" >&2; exit 1
EOF
chmod 0755 "$WORK/primary_change.sh"

# G1. a long-lived session of the primary
T1="${TOK_NEW[5]}"; ID1="$(revocation_id "$T1")"
cat >"$WORK/trust_session.sql" <<EOF
BEGIN; SELECT hessra_set_token('$T1'); SELECT 'before', count(*) FROM docs; COMMIT;
BEGIN; SELECT hessra_set_token('$T1'); SELECT 'in-transaction-before', count(*) FROM docs;
\\! bash '$WORK/primary_change.sh' "INSERT INTO hessra_revocations (revocation_id, reason) VALUES (decode('$ID1', 'hex'), 'faults G1')"
SELECT 'in-transaction-after', count(*) FROM docs; COMMIT;
BEGIN; SELECT hessra_set_token('$T1'); SELECT 'after', count(*) FROM docs; COMMIT;
BEGIN; SELECT hessra_set_token('${TOK_NEW[6]}'); SELECT 'other-token', count(*) FROM docs; COMMIT;
EOF
got="$(psql -X -q -At -F= -h 127.0.0.1 -p "$PORT" -U app -d faults -f "$WORK/trust_session.sql" 2>&1 | grep -E '^[a-z-]+=' | tr '\n' ' ')"
e5=${EXPECT[5]}; e6=${EXPECT[6]}
check "G1. a primary session opened before the revocation refuses the token at its next statement, inside its transaction too: $got" \
    test "$got" == "before=$e5 in-transaction-before=$e5 in-transaction-after=0 after=0 other-token=$e6 "
check "G1. a new session of the primary refuses it too" test "$(count_as_app "$PORT" "$T1")" == 0

# G2. a long-lived session of the hot standby
if [[ -n "${S_PORT:-}" && -f "$S_DIR/data/standby.signal" ]]; then
    T2="${TOK_STBY[6]}"; ID2="$(revocation_id "$T2")"
    T2K="$("$WORK/mint" token "$NEW_KEY" u7 docs read 3600 11)" || fatal "mint"
    ALL_TOKENS+=("$T2K")
    cat >"$WORK/trust_standby.sql" <<EOF
BEGIN; SELECT hessra_set_token('$T2'); SELECT 'before', count(*) FROM docs; COMMIT;
BEGIN; SELECT hessra_set_token('$T2K'); SELECT 'key-before', count(*) FROM docs; COMMIT;
\\! bash '$WORK/primary_change.sh' "INSERT INTO hessra_revocations (revocation_id) VALUES (decode('$ID2', 'hex'))" $S_PORT
BEGIN; SELECT hessra_set_token('$T2'); SELECT 'after-replay', count(*) FROM docs; COMMIT;
\\! bash '$WORK/primary_change.sh' "INSERT INTO hessra_trusted_keys (key_id, public_key, root_key_id) VALUES ('faults-db', '$PUB_NEW', 11)" $S_PORT
BEGIN; SELECT hessra_set_token('$T2K'); SELECT 'key-after-replay', count(*) FROM docs; COMMIT;
EOF
    psql -X -q -At -F= -h 127.0.0.1 -p "$S_PORT" -U app -d faults -f "$WORK/trust_standby.sql" >"$WORK/trust_standby.out" 2>&1
    got="$(grep -E '^[a-z-]+=' "$WORK/trust_standby.out" | tr '\n' ' ')$(grep -E 'ERROR|rror:|not replayed' "$WORK/trust_standby.out" | head -3 | tr '\n' ' ')"
    e7=${EXPECT[7]}
    check "G2. a standby session opened before refuses the revoked token and trusts the new key once the commit is replayed: $got" \
        test "$got" == "before=$e6 key-before=0 after-replay=0 key-after-replay=$e7 "
    check "G2. the standby's log has no crash" eval '! log_has_crash "$S_DIR/server.log"'
else
    fail "G2. no hot standby to test (see D)"
fi

# G3. through PgBouncer in transaction pooling mode: every pooled server connection
if [[ -n "$PGBOUNCER" && -f "$PB_DIR/pgbouncer.ini" ]] && as_pg "$PGBOUNCER" -d -q "$PB_DIR/pgbouncer.ini" 2>"$PB_DIR/start2.err"; then
    for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PB_PORT") 2>/dev/null && break; sleep 0.1; done
    T3="${TOK_NEW[8]}"; ID3="$(revocation_id "$T3")"
    printf 'BEGIN;\nSELECT hessra_set_token(:tok);\nSELECT CASE WHEN count(*) = :expect::bigint THEN 1 ELSE (%s)::int END FROM docs;\nEND;\n' \
        "'SAW-' || count(*) || '-ROWS'" >"$WORK/pooled.sql"
    pooled() { # EXPECT: 4 clients x 2 s through the pooler; prints the failed transactions (0: all saw EXPECT rows)
        pgbench -n -M extended -h 127.0.0.1 -p "$PB_PORT" -U app -c 4 -j 1 -T 2 -f "$WORK/pooled.sql" \
            -D "tok=$T3" -D "expect=$1" faults >"$WORK/pooled.out" 2>&1
        local n; n="$(grep -c 'SAW-' "$WORK/pooled.out" || true)"
        echo "${n:-0}/$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$WORK/pooled.out")"
    }
    warm="$(pooled "${EXPECT[8]}")"
    servers="$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND datname = 'faults'")"
    bash "$WORK/primary_change.sh" "INSERT INTO hessra_revocations (revocation_id) VALUES (decode('$ID3', 'hex'))"
    cold="$(pooled 0)"
    check "G3. through PgBouncer (transaction pooling, $servers server connections): before the revocation ${warm} transactions saw another count; after it ${cold} did (every pooled connection refuses it)" \
        eval '[[ "$warm" == 0/* && "$cold" == 0/* && "${warm#0/}" -gt 0 && "${cold#0/}" -gt 0 ]]'
    kill "$(cat "$PB_DIR/pgbouncer.pid")" 2>/dev/null; rm -f "$PB_DIR/pgbouncer.pid"
else
    fail "G3. pgbouncer did not start again: $(cat "$PB_DIR/start2.err" 2>/dev/null)"
fi

# G4. fail closed: the table locked by another session (lock_timeout), then its index corrupted on disk
psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d faults \
    -c "BEGIN; LOCK TABLE hessra_revocations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT;" >/dev/null 2>&1 &
lpid=$!; BG_PIDS+=($lpid)
for _ in $(seq 1 50); do
    [[ "$(sql -c "SELECT count(*) FROM pg_locks WHERE relation = 'hessra_revocations'::regclass AND mode = 'AccessExclusiveLock' AND granted")" == 1 ]] && break
    sleep 0.05
done
locked="$(printf "SET lock_timeout = '300ms';\n\\\\set VERBOSITY verbose\nSELECT hessra_verify_token('%s', 'u2', 'docs', 'read');\n" "${TOK_NEW[2]}" \
    | psql -X -q -At -h 127.0.0.1 -p "$PORT" -U app -d faults 2>&1)"
wait "$lpid"
check "G4. the revocation table locked by another session: ERROR 55P03 (lock_timeout), no answer, no token in the message" \
    eval '[[ "$locked" == *"ERROR:  55P03"* && "$locked" != *"${TOK_NEW[2]:20:30}"* && "$locked" != t && "$locked" != f ]]'

idx="$(sql -c "SELECT pg_relation_filepath('hessra_revocations_pkey')")"
sql -c "CHECKPOINT" >/dev/null
"$CLUSTER" stop "$P_DIR" >/dev/null 2>&1
# block 1 is the index's root page (block 0 its metapage): garbage there is unreadable
as_pg bash -c "head -c 8192 /dev/urandom | dd of='$P_DIR/data/$idx' bs=8192 seek=1 conv=notrunc status=none"
PORT="$(pg_start "$P_DIR" "$PORT")" || fatal "the primary did not start again"
corrupt="$(printf "\\\\set VERBOSITY verbose\nSELECT hessra_verify_token('%s', 'u2', 'docs', 'read');\nSELECT hessra_verify_token('%s', 'u2', 'docs', 'read');\n" "${TOK_NEW[2]}" "${TOK_NEW[2]}" \
    | psql -X -q -At -h 127.0.0.1 -p "$PORT" -U app -d faults 2>&1)"
n_err="$(grep -c 'ERROR:  XX001: hessra could not read its table hessra_revocations to verify a token' <<<"$corrupt" || true)"
answers="$(grep -cxE 't|f' <<<"$corrupt" || true)"
check "G4. its index corrupted on disk: each verification is an ERROR XX001 raised from inside the engine's lookup ($n_err of 2, $answers answers), nothing cached" \
    eval '[[ "$n_err" == 2 && "$answers" == 0 && "$corrupt" == *"invalid page in block 1"* ]]'
sql -c "REINDEX INDEX hessra_revocations_pkey" >/dev/null
check "G4. after REINDEX the table answers again (u2 sees its rows, the revoked token none)" \
    test "$(count_as_app "$PORT" "${TOK_NEW[2]}")/$(count_as_app "$PORT" "$T1")" == "${EXPECT[2]}/0"
check "G. the primary's log has no crash" eval '! log_has_crash "$P_DIR/server.log"'
FIG_G="revoked at commit: primary session, standby session after replay, $servers pooled connections; fail closed when locked or corrupted"
