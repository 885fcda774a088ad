#!/usr/bin/env bash
# pg-plugin/test/run.sh — build, install and test the "hessra" extension on a
# throwaway PostgreSQL cluster. Exit status 0 only when everything passed; the
# last line is "N passed, M failed".
#
# Environment:
#   PG_CONFIG     pg_config to build against (default: the one in PATH, else
#                 /usr/lib/postgresql/<newest>/bin/pg_config)
#   NATIVE_LIB    use this libhessra_ffi.a instead of building ../native
#   HESSRA_NO_APT=1  never apt-get missing packages
#   KEEP=1        keep the temporary directory (cluster, logs, configs)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN="$(cd "$HERE/.." && pwd)"
SUITE=pg-plugin
# shellcheck source=../../scripts/pg-test-lib.sh
source "$PLUGIN/../scripts/pg-test-lib.sh"

# ---- prerequisites and build --------------------------------------------
[[ "${HESSRA_NO_APT:-}" == 1 ]] || bash "$REPO/scripts/install-deps.sh" || fatal "missing system packages"
setup_pg
MAKE_ARGS=(PG_CONFIG="$PGC" NATIVE_LIB="$NATIVE_LIB")
build_install test/mint

# ---- throwaway cluster, configuration, tokens ---------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hessra-pg.XXXXXX")"
chmod 0755 "$WORK"
PGDIR="$WORK/cluster"
cleanup() {
    "$CLUSTER" stop "$PGDIR" >/dev/null 2>&1 || true
    if [[ "${KEEP:-}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

PORT="$(free_port)" || fatal "no free port"

MINT="$PLUGIN/test/mint"
ROOTKEY="$HERE/test-root.key"; EDGEKEY="$HERE/test-edge.key"; OTHERKEY="$HERE/test-other.key"
PUB_ROOT="$("$MINT" pubkey "$ROOTKEY")" || fatal "mint pubkey failed"
PUB_EDGE="$("$MINT" pubkey "$EDGEKEY")" || fatal "mint pubkey failed"
PUB_OTHER="$("$MINT" pubkey "$OTHERKEY")" || fatal "mint pubkey failed"

CONF="$WORK/conf"         # root-owned, like /etc
PGCONF="$WORK/pgconf"     # owned by the server user: the tests rewrite a file there
mkdir -p "$CONF" "$PGCONF" "$CONF/a-directory.json"
chmod 0755 "$CONF" "$PGCONF"
id postgres >/dev/null 2>&1 && [[ $EUID -eq 0 ]] && chown postgres: "$PGCONF"

JSON_GOOD="{\"version\": 1, \"default_key\": \"test\", \"keys\": [{\"id\": \"test\", \"public_key\": \"$PUB_ROOT\"}, {\"id\": \"edge\", \"public_key\": \"$PUB_EDGE\", \"root_key_id\": 7}]}"
JSON_ALT="{\"version\": 1, \"default_key\": \"untrusted-only\", \"keys\": [{\"id\": \"untrusted-only\", \"public_key\": \"$PUB_OTHER\"}]}"
write_conf() { # name mode content
    printf '%s\n' "$3" > "$CONF/$1"; chmod "$2" "$CONF/$1"
}
write_conf good.json 0644 "$JSON_GOOD"
write_conf alt.json 0644 "$JSON_ALT"
write_conf leeway.json 0644 "${JSON_GOOD%\}}, \"leeway_seconds\": 3600}"
write_conf slow.json 0644 "${JSON_GOOD%\}}, \"limits\": {\"max_time_ms\": 600000}}"
write_conf chain.json 0644 "${JSON_GOOD%\}}, \"service_chains\": {\"orders\": [{\"component\": \"edge\", \"public_key\": \"$PUB_EDGE\"}]}}"
write_conf writable.json 0666 "$JSON_GOOD"
write_conf bad.json 0644 '{ "version": 1, "keys": [ this is not json'
write_conf nokeys.json 0644 '{"version": 1, "keys": []}'
write_conf badowner.json 0644 "$JSON_GOOD"
if [[ $EUID -eq 0 ]]; then chown 65534 "$CONF/badowner.json"; fi
# Key files named by a configuration get the configuration file's checks.
write_conf key-good.pub 0644 "$PUB_ROOT"
write_conf key-writable.pub 0666 "$PUB_ROOT"
write_conf key-badowner.pub 0644 "$PUB_ROOT"
if [[ $EUID -eq 0 ]]; then chown 65534 "$CONF/key-badowner.pub"; fi
json_keyfile() { printf '{"version": 1, "keys": [{"id": "test", "public_key_file": "%s"}]}' "$1"; }
write_conf keyfile.json 0644 "$(json_keyfile key-good.pub)"
write_conf keyfile-writable.json 0644 "$(json_keyfile key-writable.pub)"
write_conf keyfile-badowner.json 0644 "$(json_keyfile "$CONF/key-badowner.pub")"

mint() { "$MINT" token "$@" || fatal "minting a test token failed: $*"; }
TOK_ALICE="$(mint "$ROOTKEY" alice orders read 3600)"
TOK_BOB="$(mint "$ROOTKEY" bob orders read 3600)"
TOK_ALICE_WRITE="$(mint "$ROOTKEY" alice orders write 3600)"
TOK_ALICE_DOCS="$(mint "$ROOTKEY" alice documents read 3600)"
TOK_EXPIRED="$(mint "$ROOTKEY" alice orders read -3600)"
TOK_RECENT="$(mint "$ROOTKEY" alice orders read -120)"
TOK_NOEXP="$(mint "$ROOTKEY" alice orders read 0)"
TOK_UNTRUSTED="$(mint "$OTHERKEY" alice orders read 3600)"
TOK_EDGE="$(mint "$EDGEKEY" alice orders read 3600 7)"
TOK_EDGE_NOKID="$(mint "$EDGEKEY" alice orders read 3600)"
TOK_MULTI="$("$MINT" datalog "$ROOTKEY" 'right("alice", "orders", "read"); right("carol", "orders", "read"); check if subject($s), resource($r), operation($o), right($s, $r, $o);')" \
    || fatal "minting a test token failed: multi"
# A validly signed token whose strings hold a NUL (jsonb cannot).
TOK_NUL="$("$MINT" datalog "$ROOTKEY" 'right({s}, "orders", "read");' -1 '{"s": "ali\u0000ce"}')" \
    || fatal "minting a test token failed: nul"
# Quadratic work per element of an 8,000-element set (issue 18; 43 KB).
TOK_BOMB="$("$MINT" datalog "$ROOTKEY" "right(\"alice\", \"orders\", \"read\"); big({$(seq -s ', ' 0 7999)}); check if big(\$x), \$x.all(\$a -> \$x.contains(\$x));")" \
    || fatal "minting a test token failed: bomb"
# Rendering cost (issue 23): a check repeating a 24 KB string 600 times (14 MB of text, 43 KB).
TOK_RENDER_BOMB="$("$MINT" datalog "$ROOTKEY" "right(\"alice\", \"orders\", \"read\"); check if nosuch(\$x), $(printf '{s} + %.0s' $(seq 1 599)){s} == {s};" -1 "{\"s\": \"$(printf 'A%.0s' $(seq 1 24000))\"}")" \
    || fatal "minting a test token failed: render bomb"
# One token per statement (issue 23): mallory may read notes; a token naming bob, for another resource.
TOK_MALLORY_NOTES="$(mint "$ROOTKEY" mallory notes read 3600)"
TOK_BOB_CALENDAR="$(mint "$ROOTKEY" bob calendar read 3600)"
# Identity tokens (issue 12): delegatable alice, delegated to alice:laptop, expired.
TOK_ID_ALICE="$("$MINT" identity "$ROOTKEY" urn:hessra:alice 3600)" || fatal "minting a test token failed: identity"
TOK_ID_LAPTOP="$("$MINT" identity "$ROOTKEY" urn:hessra:alice 3600 urn:hessra:alice:laptop)" \
    || fatal "minting a test token failed: identity laptop"
TOK_ID_EXPIRED="$("$MINT" identity "$ROOTKEY" urn:hessra:alice -60)" || fatal "minting a test token failed: identity expired"
TOK_ID_UNTRUSTED="$("$MINT" identity "$OTHERKEY" urn:hessra:alice 3600)" || fatal "minting a test token failed: identity untrusted"
# What a token grants (issue 24): one and two resources, a copy narrowed to
# one of them, expired; a token restricted to a domain and a prefix.
RIGHTS_CHECK='check if subject($s), resource($r), operation($o), right($s, $r, $o); check if time($t), $t < {exp};'
mint_rights() { # EXP DATALOG-FACTS
    "$MINT" datalog "$ROOTKEY" "$2 $RIGHTS_CHECK" -1 "{\"exp\": $1}" || fatal "minting a test token failed: $2"
}
IN_AN_HOUR=$(( $(date +%s) + 3600 ))
TOK_ONE="$(mint_rights "$IN_AN_HOUR" 'right("alice", "r1", "read");')"
TOK_TWO="$(mint_rights "$IN_AN_HOUR" 'right("alice", "r1", "read"); right("alice", "r2", "read"); right("alice", "r1", "write");')"
TOK_TWO_NARROWED="$("$MINT" attenuate "$ROOTKEY" "$TOK_TWO" 'check if resource("r2");')" || fatal "attenuating a test token failed"
TOK_TWO_EXPIRED="$(mint_rights $(( $(date +%s) - 60 )) 'right("alice", "r1", "read"); right("alice", "r2", "read");')"
TOK_SCOPED="$(mint_rights "$IN_AN_HOUR" 'right("alice", "orders", "read"); check if domain("example.com"); check if prefix("tenants/acme");')"
TOK_ID_DOMAIN="$("$MINT" identity-in-domain "$ROOTKEY" urn:hessra:carol 3600 example.com)" || fatal "minting a test token failed: identity in domain"
ALL_TOKENS=("$TOK_RENDER_BOMB" "$TOK_MALLORY_NOTES" "$TOK_BOB_CALENDAR" "$TOK_ID_DOMAIN" "$TOK_ONE" "$TOK_TWO" "$TOK_TWO_NARROWED" "$TOK_TWO_EXPIRED" "$TOK_SCOPED" "$TOK_ID_ALICE" "$TOK_ID_LAPTOP" "$TOK_ID_EXPIRED" "$TOK_ID_UNTRUSTED" "$TOK_BOMB" "$TOK_ALICE" "$TOK_BOB" "$TOK_ALICE_WRITE" "$TOK_ALICE_DOCS" "$TOK_EXPIRED" "$TOK_RECENT"
            "$TOK_NOEXP" "$TOK_UNTRUSTED" "$TOK_EDGE" "$TOK_EDGE_NOKID" "$TOK_MULTI" "$TOK_NUL")

# psql variables for the tests (never echoed: ECHO is off while they are set)
mkdir -p "$PLUGIN/test/tmp"
VARS="$PLUGIN/test/tmp/vars.psql"
q() { printf "'%s'" "${1//\'/\'\'}"; }
{
    echo '\set ECHO none'
    echo "\\set tok_alice $(q "$TOK_ALICE")"
    echo "\\set tok_bob $(q "$TOK_BOB")"
    echo "\\set tok_alice_write $(q "$TOK_ALICE_WRITE")"
    echo "\\set tok_alice_docs $(q "$TOK_ALICE_DOCS")"
    echo "\\set tok_expired $(q "$TOK_EXPIRED")"
    echo "\\set tok_recent $(q "$TOK_RECENT")"
    echo "\\set tok_noexp $(q "$TOK_NOEXP")"
    echo "\\set tok_untrusted $(q "$TOK_UNTRUSTED")"
    echo "\\set tok_edge $(q "$TOK_EDGE")"
    echo "\\set tok_edge_nokid $(q "$TOK_EDGE_NOKID")"
    echo "\\set tok_multi $(q "$TOK_MULTI")"
    echo "\\set tok_nul $(q "$TOK_NUL")"
    echo "\\set tok_bomb $(q "$TOK_BOMB")"
    echo "\\set tok_render_bomb $(q "$TOK_RENDER_BOMB")"
    echo "\\set tok_mallory_notes $(q "$TOK_MALLORY_NOTES")"
    echo "\\set tok_bob_calendar $(q "$TOK_BOB_CALENDAR")"
    echo "\\set tok_id_alice $(q "$TOK_ID_ALICE")"
    echo "\\set tok_id_laptop $(q "$TOK_ID_LAPTOP")"
    echo "\\set tok_id_expired $(q "$TOK_ID_EXPIRED")"
    echo "\\set tok_id_untrusted $(q "$TOK_ID_UNTRUSTED")"
    echo "\\set tok_one $(q "$TOK_ONE")"
    echo "\\set tok_two $(q "$TOK_TWO")"
    echo "\\set tok_two_narrowed $(q "$TOK_TWO_NARROWED")"
    echo "\\set tok_two_expired $(q "$TOK_TWO_EXPIRED")"
    echo "\\set tok_scoped $(q "$TOK_SCOPED")"
    echo "\\set tok_id_domain $(q "$TOK_ID_DOMAIN")"
    echo "\\set cfg_chain $(q "$CONF/chain.json")"
    echo "\\set server_log $(q "$PGDIR/server.log")"
    echo "\\set cfgdir $(q "$WORK")"
    echo "\\set cfg_good $(q "$CONF/good.json")"
    echo "\\set cfg_alt $(q "$CONF/alt.json")"
    echo "\\set cfg_leeway $(q "$CONF/leeway.json")"
    echo "\\set cfg_slow $(q "$CONF/slow.json")"
    echo "\\set cfg_writable $(q "$CONF/writable.json")"
    echo "\\set cfg_bad $(q "$CONF/bad.json")"
    echo "\\set cfg_nokeys $(q "$CONF/nokeys.json")"
    echo "\\set cfg_badowner $(q "$CONF/badowner.json")"
    echo "\\set cfg_dir $(q "$CONF/a-directory.json")"
    echo "\\set cfg_keyfile $(q "$CONF/keyfile.json")"
    echo "\\set cfg_keyfile_writable $(q "$CONF/keyfile-writable.json")"
    echo "\\set cfg_keyfile_badowner $(q "$CONF/keyfile-badowner.json")"
    echo "\\set cfg_missing $(q "$CONF/missing.json")"
    echo "\\set cfg_mut $(q "$PGCONF/mutable.json")"
    echo "\\set cfg_rev $(q "$PGCONF/revocation.json")"
    echo "\\set rev_file $(q "$PGCONF/revoked.txt")"
    echo "\\set json_good $(q "$JSON_GOOD")"
    echo "\\set json_alt $(q "$JSON_ALT")"
    echo '\set ECHO all'
} > "$VARS"
chmod 0644 "$VARS"

# ---- run ----------------------------------------------------------------
log "starting a throwaway cluster on 127.0.0.1:$PORT"
"$CLUSTER" start "$PGDIR" "$PORT" >/dev/null || fatal "could not start PostgreSQL"

passed=0; failed=0
OUT="$WORK/installcheck.out"
make -C "$PLUGIN" "${MAKE_ARGS[@]}" -s installcheck PGHOST="$PGDIR" PGPORT="$PORT" PGUSER=postgres \
    >"$OUT" 2>&1
rc=$?
cat "$OUT"
passed=$(grep -cE '^ok [0-9]+|\.\.\. ok' "$OUT" || true)
failed=$(grep -cE '^not ok [0-9]+|\.\.\. FAILED|failed \(ignored\)' "$OUT" || true)
if [[ $rc -ne 0 ]]; then
    [[ -f "$PLUGIN/regression.diffs" ]] && cat "$PLUGIN/regression.diffs"
    [[ $failed -eq 0 ]] && failed=1
fi

# pg_cancel_backend / pg_terminate_backend from another session stop a
# verification of the bomb token (engine limit 10 minutes) within 2 seconds,
# and a statement rendering the render bomb's failed check over and over.
bomb_sql() { # FILE TOKEN QUERY
    {
        echo "CREATE EXTENSION IF NOT EXISTS hessra;"
        echo "SELECT hessra_init($(q "$CONF/slow.json")) \\g /dev/null"
        echo "SELECT set_config('hessra.token', $(q "$2"), false) \\g /dev/null"
        echo "$3"
    } > "$1"
}
BOMB_SQL="$WORK/bomb.sql"
bomb_sql "$BOMB_SQL" "$TOK_BOMB" "SELECT hessra_verify_token(current_setting('hessra.token'), 'alice', 'orders');"
RENDER_SQL="$WORK/render-bomb.sql"
bomb_sql "$RENDER_SQL" "$TOK_RENDER_BOMB" "SELECT count(*) FROM generate_series(1, 10000000) g WHERE hessra_explain(current_setting('hessra.token'), 'alice', 'orders', 'read') <> '';"
interrupt_case() { # NAME SIGNAL_FUNCTION EXPECTED_MESSAGE [SQL_FILE]
    local out="$WORK/$1.out" bg started=0 t0 ms i
    PGAPPNAME="hessra_$1" psql -X -q -At -h "$PGDIR" -p "$PORT" -U postgres -d postgres -f "${4:-$BOMB_SQL}" >"$out" 2>&1 &
    bg=$!
    for i in $(seq 1 100); do
        if [[ "$(psql -X -At -h "$PGDIR" -p "$PORT" -U postgres -d postgres -c \
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hessra_$1' AND state = 'active' AND query LIKE '%hessra_%(current_setting%'")" == 1 ]]; then
            started=1; break
        fi
        sleep 0.1
    done
    sleep 0.3 # well inside the engine's work
    t0=$(date +%s%N)
    psql -X -q -At -h "$PGDIR" -p "$PORT" -U postgres -d postgres -c \
        "SELECT $2(pid) FROM pg_stat_activity WHERE application_name = 'hessra_$1'" >/dev/null
    wait "$bg"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [[ $started -eq 1 && $ms -lt 2000 ]] && grep -qF "$3" "$out"; then
        passed=$((passed + 1)); log "ok: $2 stops a verification in ${ms} ms"
    else
        failed=$((failed + 1)); log "FAILED: $2 (started=$started, ${ms} ms): $(head -c 300 "$out")"
    fi
}
interrupt_case cancel pg_cancel_backend "canceling statement due to user request"
interrupt_case terminate pg_terminate_backend "terminating connection due to administrator command"
interrupt_case render_cancel pg_cancel_backend "canceling statement due to user request" "$RENDER_SQL"

# The server log must never contain a token.
leak=0
for t in "${ALL_TOKENS[@]}"; do
    if grep -qF -- "${t%%=*}" "$PGDIR/server.log" 2>/dev/null; then leak=1; fi
done
if [[ $leak -eq 0 ]]; then
    passed=$((passed + 1)); log "ok: no token in the server log"
else
    failed=$((failed + 1)); log "FAILED: a token appears in the server log ($PGDIR/server.log)"
    grep -nF -- "${TOK_ALICE%%=*}" "$PGDIR/server.log" | head -5 | cut -c1-200 >&2
fi
if [[ $failed -ne 0 ]]; then
    log "server log tail:"; tail -n 30 "$PGDIR/server.log" >&2 || true
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
