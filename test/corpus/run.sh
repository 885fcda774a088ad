#!/usr/bin/env bash
# test/corpus/run.sh — the hostile-input corpus through the C ABI and SQL.
#
#   test/corpus/run.sh            everything (C ABI, valgrind subset, SQL)
#   NO_SQL=1 / NO_VALGRIND=1      skip a part
#   KEEP=1                        keep the work directory
#
# 1. generate.mjs writes every input (deterministic, TEST-ONLY keys) and checks
#    that test/corpus/manifest.json is up to date;
# 2. runner.c (linked with native/target/release/libhessra_ffi.a) feeds each input
#    to the C ABI: expected HessraResult, a time bound per input, no token in any
#    error message; then the valgrind subset (memory errors and definite leaks fail);
# 3. a throwaway PostgreSQL cluster (scripts/pg-cluster.sh) with the extension:
#    hessra_verify_token(token) must return the expected boolean (false for every
#    hostile input), hessra_row_security / hessra_explain / hessra_inspect /
#    hessra_current_subject must not raise, hessra_explain must not echo the token,
#    the postmaster must not restart and the server log must not contain a token.
# Last line: "N passed, M failed".
set -uo pipefail
SUITE=corpus
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../scripts/pg-test-lib.sh
source "$HERE/../../scripts/pg-test-lib.sh"

command -v node >/dev/null || fatal "node is required"
command -v cc >/dev/null || fatal "a C compiler is required"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hessra-corpus.XXXXXX")"
chmod 0755 "$WORK"
PGDIR="$WORK/cluster"
cleanup() {
    [[ -d "$PGDIR/data" ]] && "$CLUSTER" stop "$PGDIR" >/dev/null 2>&1
    if [[ "${KEEP:-}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- 1. generate -------------------------------------------------------------
OUT="$WORK/corpus"
t0=$SECONDS
node "$HERE/generate.mjs" "$OUT" || fatal "corpus generation failed"
NCASES=$(wc -l <"$OUT/cases.tsv")
log "$NCASES inputs generated in $((SECONDS - t0)) s"
if cmp -s "$OUT/manifest.json" "$HERE/manifest.json"; then
    pass "manifest.json is up to date with generate.mjs"
else
    fail "manifest.json is stale: run 'node test/corpus/generate.mjs --manifest > test/corpus/manifest.json'"
fi

# ---- 2. C ABI ------------------------------------------------------------------
if [[ ! -f "$NATIVE_LIB" ]]; then
    log "building the native engine (release)"
    cargo build --release --offline --manifest-path "$REPO/native/Cargo.toml" -q >&2 || fatal "engine build failed"
fi
cc_engine "$WORK/runner" "$HERE/runner.c" || fatal "runner.c does not compile"
"$WORK/runner" "$OUT/cases.tsv" "$OUT" >"$WORK/c-abi.log" 2>&1
rc=$?
grep -v '^ok ' "$WORK/c-abi.log"
line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/c-abi.log" | tail -n1)"
# every input counts: one result per input in the final tally
if [[ -n "$line" ]]; then
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed}
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    while read -r l; do FAILURES+=("C ABI: ${l#FAIL }"); done < <(grep '^FAIL' "$WORK/c-abi.log")
    echo "C ABI: $line over $NCASES inputs; slowest: $(grep -E '^ok ' "$WORK/c-abi.log" | awk '{print $(NF-1), $2}' | sort -g | tail -n1) ms"
fi
[[ $rc -eq 0 || $rc -eq 1 ]] && [[ -n "$line" ]] || fail "C ABI: runner crashed (exit $rc)"

if [[ "${NO_VALGRIND:-}" != 1 ]]; then
    if command -v valgrind >/dev/null; then
        CORPUS_VALGRIND=1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=42 \
            "$WORK/runner" "$OUT/cases.tsv" "$OUT" --valgrind-subset >"$WORK/valgrind.log" 2>&1
        rc=$?
        line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/valgrind.log" | tail -n1)"
        if [[ $rc -eq 42 || -z "$line" ]]; then
            fail "valgrind subset: memory errors or leaks (exit $rc)"
            grep -E '^==[0-9]+==' "$WORK/valgrind.log" | head -n 30
        else
            # expected-code failures are already counted above; valgrind judges memory only
            pass "valgrind subset: no memory error, no definite leak (${line%%,*} results checked)"
        fi
    else
        log "valgrind not installed: skipping the valgrind subset"
    fi
fi

# ---- 3. SQL --------------------------------------------------------------------
if [[ "${NO_SQL:-}" == 1 ]]; then summary; [[ $FAILED -eq 0 ]]; exit; fi
setup_pg
build_install "$WORK/pgtree"
ROOT_KEY="$(node -e 'const m=require(process.argv[1]);console.log(m.root_key)' "$OUT/manifest.json")"
P256_KEY="$(node -e 'const m=require(process.argv[1]);console.log(m.p256_root_key)' "$OUT/manifest.json")"
CONF="$WORK/conf"; mkdir -p "$CONF"; chmod 0755 "$CONF"
printf '{"version": 1, "default_key": "root", "keys": [{"id": "root", "public_key": "%s"}]}\n' "$ROOT_KEY" >"$CONF/root.json"
printf '{"version": 1, "default_key": "p256", "keys": [{"id": "p256", "public_key": "%s"}]}\n' "$P256_KEY" >"$CONF/p256.json"
chmod 0644 "$CONF"/*.json
chmod -R a+rX "$OUT"

PORT="$(free_port)" || fatal "no free port"
PORT="$(pg_start "$PGDIR" "$PORT" "hessra.config_path = '$CONF/root.json'")" || fatal "could not start PostgreSQL"
PSQL_PORT=$PORT
sql -c "CREATE EXTENSION hessra" || fatal "CREATE EXTENSION hessra failed"
START_TIME="$(sql -c 'SELECT pg_postmaster_start_time()')"

# One SELECT per case; tokens are read server-side (pg_read_file), so no token
# is ever part of a statement's text.
q() { printf "'%s'" "${1//\'/\'\'}"; }
# hessra_current_subject() with the input as hessra.token: NULL for every input
# that must be refused, except a valid token replayed for another subject
# (then it names the token's own subject); some subject for the controls.
subject_expect() {
    case "$1:$2" in
        replay-*) echo "hessra_current_subject() = 'alice'" ;;
        blk-version-huge:*) echo "hessra_current_subject() IS NULL" ;;  # valid, but grants no right
        *:true) echo "hessra_current_subject() IS NOT NULL" ;;
        *) echo "hessra_current_subject() IS NULL" ;;
    esac
}
SQLF="$WORK/cases.sql"
EXPECT="$WORK/expected.txt"
: >"$EXPECT"
{
    echo "SET statement_timeout = '20s';"
    for cfg in root p256; do
        want_key=$ROOT_KEY; [[ $cfg == p256 ]] && want_key=$P256_KEY
        echo "SELECT 'init', hessra_init($(q "$CONF/$cfg.json"));"
        while IFS=$'\t' read -r name kind enc file key subj res op ccodes cfgcodes sqlres maxms vg; do
            [[ "$sqlres" == - || "$key" != "$want_key" ]] && continue
            echo "$name|$sqlres" >>"$EXPECT"
            path="$OUT/$file"
            cat <<SQL
SELECT $(q "$name"), v, rs IS NOT NULL, coalesce(e LIKE 'allowed%', false),
       length(btrim(t)) >= 60 AND strpos(e, substr(btrim(t), 30, 24)) > 0,
       i IS NULL OR jsonb_typeof(i) = 'object'
  FROM (SELECT t, hessra_verify_token(t, $(q "$subj"), $(q "$res"), $(q "$op")) v,
               hessra_row_security(t, $(q "$res"), $(q "$op")) rs,
               hessra_explain(t, $(q "$subj"), $(q "$res"), $(q "$op")) e,
               hessra_inspect(t) i
          FROM (SELECT pg_read_file($(q "$path")) t) s) x;
SELECT set_config('hessra.token', pg_read_file($(q "$path")), false);
SELECT 'subject', $(q "$name"), $(subject_expect "$name" "$sqlres");
SQL
        done <"$OUT/cases.tsv"
    done
    echo "RESET hessra.token;"
} >"$SQLF"
NSQL=$(wc -l <"$EXPECT")
t0=$SECONDS
PSQL_HOST="$PGDIR" psql -X -At -F'|' -h "$PGDIR" -p "$PORT" -U postgres -d postgres -f "$SQLF" \
    >"$WORK/sql.out" 2>"$WORK/sql.err"
sql_secs=$((SECONDS - t0))
errors=$(grep -c 'ERROR' "$WORK/sql.err" || true)
if [[ $errors -eq 0 ]]; then
    pass "SQL: no function raised an error over $NSQL inputs ($sql_secs s)"
else
    fail "SQL: $errors statements raised an error"
    grep ERROR "$WORK/sql.err" | sort | uniq -c | head -n 10 | cut -c1-200
fi
bad=0; wrong=()
while IFS='|' read -r name want; do
    got="$(grep -E "^$(printf '%s' "$name" | sed 's/[.[\*^$]/\\&/g')\|" "$WORK/sql.out" | head -n1)"
    IFS='|' read -r _ v rs allowed leak inspect <<<"$got"
    wantb=f; [[ $want == true ]] && wantb=t
    if [[ -z "$got" ]]; then bad=$((bad + 1)); wrong+=("$name: no result"); continue; fi
    [[ "$v" == "$wantb" ]] || { bad=$((bad + 1)); wrong+=("$name: hessra_verify_token = $v, expected $wantb"); }
    [[ "$rs" == t ]] || { bad=$((bad + 1)); wrong+=("$name: hessra_row_security returned NULL"); }
    [[ "$allowed" == "$wantb" ]] || { bad=$((bad + 1)); wrong+=("$name: hessra_explain allowed=$allowed, expected $wantb"); }
    [[ "$leak" == f ]] || { bad=$((bad + 1)); wrong+=("$name: hessra_explain echoes the token"); }
    [[ "$inspect" == t ]] || { bad=$((bad + 1)); wrong+=("$name: hessra_inspect returned a non-object"); }
done <"$EXPECT"
falses=$(grep -c '|false$' "$EXPECT" || true)
badn=0
[[ $bad -gt 0 ]] && badn=$(printf '%s\n' "${wrong[@]}" | cut -d: -f1 | sort -u | wc -l)
PASSED=$((PASSED + NSQL - badn)); FAILED=$((FAILED + badn))
echo "SQL: $((NSQL - badn)) of $NSQL inputs give the expected result ($falses hostile inputs -> false, $((NSQL - falses)) controls -> true); explain/inspect/row_security agree, explain never echoes the token"
for w in "${wrong[@]}"; do FAILURES+=("SQL: $w"); done
subj_bad=$(grep -c '^subject|.*|f$' "$WORK/sql.out" || true)
subj_n=$(grep -c '^subject|' "$WORK/sql.out" || true)
if [[ $subj_bad -eq 0 && $subj_n -eq $NSQL ]]; then
    pass "SQL: hessra_current_subject() with each input as hessra.token: NULL for every refused input ($subj_n inputs)"
else
    fail "SQL: hessra_current_subject() wrong for $subj_bad inputs ($subj_n of $NSQL answered)"
fi

now_start="$(sql -c 'SELECT pg_postmaster_start_time()' 2>/dev/null)"
if [[ "$now_start" == "$START_TIME" ]] && ! log_has_crash "$PGDIR/server.log"; then
    pass "SQL: server never crashed or restarted (postmaster start time unchanged)"
else
    fail "SQL: the server restarted or a backend crashed (see $PGDIR/server.log)"
    grep -E "terminated by signal|PANIC" "$PGDIR/server.log" | head -n5
fi
# no token in the server log: the middle 32 characters of every token text
while IFS=$'\t' read -r name kind enc file _; do
    [[ $kind == token && $enc == text ]] || continue
    t="$(tr -d ' \t\n' <"$OUT/$file" | cut -c20-51)"
    [[ ${#t} -eq 32 ]] && printf '%s\n' "$t"
done <"$OUT/cases.tsv" | sort -u >"$WORK/patterns.txt"
if ! grep -qF -f "$WORK/patterns.txt" "$PGDIR/server.log"; then
    pass "SQL: no token in the server log ($(wc -l <"$WORK/patterns.txt") token patterns, $(wc -l <"$PGDIR/server.log") log lines)"
else
    fail "SQL: a token appears in the server log"
fi

summary
[[ $FAILED -eq 0 ]]
