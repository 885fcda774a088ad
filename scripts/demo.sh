#!/usr/bin/env bash
# demo.sh — hessra end to end (`npm run demo`), on a fresh machine:
#
#   system packages → npm ci → native engine + CLI build → a root key → tokens for alice (read),
#   bob (read + write), an expired one and a forged one → `hessra verify` each → a throwaway PostgreSQL
#   (`hessra pg sandbox start`) → `hessra pg install` → the example application's table
#   (examples/documents) → generated RLS policies applied → the example's node:http server, which hands
#   each request's Bearer token to the database with withToken → which rows each token sees and whether
#   it may insert, over HTTP → `hessra pg sandbox stop`, clean up.
#
# Everything happens in a temporary directory with its own configuration (HESSRA_CONFIG): your own
# ~/.config/hessra is never read or written. Exit status 0 only when every step behaved as expected.
#
# Environment: KEEP=1 keeps the temporary directory (the sandbox is stopped either way);
#              HESSRA_DEMO_SKIP_SETUP=1 skips the package/npm/build steps.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  B=$'\e[1m'; G=$'\e[32m'; R=$'\e[31m'; D=$'\e[2m'; N=$'\e[0m'
else
  B=''; G=''; R=''; D=''; N=''
fi
section() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
failures=0
expect() { # expect NAME WANT GOT
  if [[ "$2" == "$3" ]]; then
    printf '  %s✔%s %s: %s\n' "$G" "$N" "$1" "$3"
  else
    printf '  %s✖ %s: expected %s, got %s%s\n' "$R" "$1" "$2" "$3" "$N"
    failures=$((failures + 1))
  fi
}

# ---- 1. setup -------------------------------------------------------------------------------------
if [[ "${HESSRA_DEMO_SKIP_SETUP:-}" != 1 ]]; then
  section "System packages"
  bash scripts/install-deps.sh
  if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    section "npm ci"
    npm ci --no-audit --no-fund
  fi
  section "Building the native engine and the CLI"
  cargo build --release --offline --manifest-path native/Cargo.toml
  build_log="$(mktemp)"
  npm run --silent build >"$build_log" 2>&1 || { cat "$build_log" >&2; rm -f "$build_log"; echo "demo: the CLI build failed" >&2; exit 1; }
  rm -f "$build_log"
fi

hessra() { node "$root/bin/run.js" "$@"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/hessra-demo.XXXXXX")"
chmod 0755 "$work" # the sandbox server (the postgres OS user when we are root) must reach it
sandbox="$work/sb"
export HESSRA_CONFIG="$work/hessra.json"
export NO_COLOR="${NO_COLOR:-}"
app_pid=''
cleanup() {
  local rc=$?
  [[ -n "$app_pid" ]] && kill "$app_pid" 2>/dev/null
  hessra pg sandbox stop --dir "$sandbox" ${KEEP:+--keep} >/dev/null 2>&1 || true
  if [[ "${KEEP:-}" == 1 ]]; then echo "${D}kept $work${N}" >&2; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 2. keys and tokens ---------------------------------------------------------------------------
section "A root key pair, trusted in $HESSRA_CONFIG"
hessra keys generate --out "$work/root.pem" --id demo --add
hessra keys generate --out "$work/attacker.pem" >/dev/null 2>&1 # NOT trusted: signs the forged token

section "Tokens"
now=$(date +%s)
cat >"$work/rights.dl" <<'EOF'
right({subject}, "documents", "read");
right({subject}, "documents", "write");
check if subject($s), resource($r), operation($o), right($s, $r, $o);
check if time($t), $t < {expires};
EOF
tok_alice=$(hessra token mint --private-key "$work/root.pem" --subject alice --resource documents --operation read --ttl 1h)
tok_bob=$(hessra token mint --private-key "$work/root.pem" --datalog "$work/rights.dl" --param subject=bob --param expires=$((now + 3600)))
tok_expired=$(hessra token mint --private-key "$work/root.pem" --datalog "$work/rights.dl" --param subject=bob --param expires=$((now - 60)))
tok_forged=$(hessra token mint --private-key "$work/attacker.pem" --datalog "$work/rights.dl" --param subject=bob --param expires=$((now + 3600)))
echo "  alice:   read on documents, 1 hour"
echo "  bob:     read + write on documents, 1 hour"
echo "  expired: bob's rights, expired a minute ago"
echo "  forged:  bob's rights, signed by a key nobody trusts"

section "hessra verify (exit 0 = valid, 1 = denied or expired)"
verify() { # verify NAME TOKEN SUBJECT OPERATION WANT
  local rc=0
  hessra verify "$2" --subject "$3" --resource documents --operation "$4" >"$work/verify.out" 2>&1 || rc=$?
  sed 's/^/    /' "$work/verify.out" | head -n 3
  expect "verify $1 ($3 $4)" "exit $5" "exit $rc"
}
verify alice "$tok_alice" alice read 0
verify alice "$tok_alice" alice write 1
verify bob "$tok_bob" bob write 0
verify expired "$tok_expired" bob read 1
verify forged "$tok_forged" bob read 1

# ---- 3. PostgreSQL --------------------------------------------------------------------------------
section "A throwaway PostgreSQL (hessra pg sandbox start)"
url=$(hessra pg sandbox start --dir "$sandbox")
echo "  $url"

section "hessra pg install --database $url"
hessra pg install --database "$url"

# shellcheck source=pg-find.sh
source "$root/scripts/pg-find.sh"
psql_bin="$(command -v psql || echo "$(find_pg_bindir)/psql")"
psql() { "$psql_bin" "$url" -X -q -v ON_ERROR_STOP=1 "$@"; }

section "The example application's table (examples/documents/schema.sql): documents of alice and bob"
psql -f examples/documents/schema.sql
psql -c 'TABLE documents'

section "hessra pg policy generate --table documents --owner-column owner --role documents_app"
hessra pg policy generate --table documents --owner-column owner --role documents_app

section "hessra pg policy apply (one transaction)"
hessra pg policy apply --database "$url" --table documents --owner-column owner --role documents_app

# ---- 4. who sees what, through the example application ---------------------------------------------
section "The example application (examples/documents/server.mjs), connected as documents_app"
app_db="${url/postgres@/documents_app@}"
DATABASE_URL="$app_db" PORT=0 node examples/documents/server.mjs >"$work/app.log" 2>&1 &
app_pid=$!
app=''
for _ in $(seq 1 100); do
  app=$(sed -nE 's/^listening on (http:[^ ]+)$/\1/p' "$work/app.log")
  [[ -n "$app" ]] && break
  kill -0 "$app_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$app" ]] || { cat "$work/app.log" >&2; echo "demo: the example application did not start" >&2; exit 1; }
echo "  $app — each request's Authorization: Bearer token goes to PostgreSQL with withToken(),"
echo "  as a bind parameter for that request's transaction only; the policies decide"
# request TOKEN [BODY]: GET /documents (POST BODY) with the token (none when empty); prints the visible
# ids ("1,2" or "none"), or for a POST "yes" (201) or "no". The token goes through the environment, not argv.
request() {
  TOKEN="$1" BODY="${2:-}" node -e '
    const {TOKEN, BODY} = process.env
    const headers = TOKEN ? {authorization: `Bearer ${TOKEN}`} : {}
    const init = BODY ? {method: "POST", headers: {...headers, "content-type": "application/json"}, body: BODY} : {headers}
    fetch(process.argv[1], init).then(async (r) => {
      const body = await r.json()
      if (BODY) console.log(r.status === 201 ? "yes" : "no")
      else if (r.status !== 200) throw new Error(`GET answered ${r.status}`)
      else console.log(body.documents.map((d) => d.id).join(",") || "none")
    }).catch((e) => { console.error(`demo: ${e.message}`); process.exit(1) })' "$app"
}
visible() { request "$1"; }
can_insert() { request "$1" "{\"id\": $3, \"owner\": \"$2\", \"title\": \"new\"}"; }

section "What each token sees, through the example application"
printf '\n  %s%-8s %-28s %-14s %s%s\n' "$B" "token" "rows visible" "insert own" "insert as other" "$N"
row() { # row NAME TOKEN SUBJECT OTHER ID WANT_ROWS WANT_OWN WANT_OTHER
  local rows own other
  rows=$(visible "$2")
  own=$(can_insert "$2" "$3" "$5")
  other=$(can_insert "$2" "$4" "$(( $5 + 1 ))")
  printf '  %-8s %-28s %-14s %s\n' "$1" "$rows" "$own" "$other"
  [[ "$rows" == "$6" && "$own" == "$7" && "$other" == "$8" ]] || {
    printf '  %s✖ %s: expected rows %s, insert own %s, insert as other %s%s\n' "$R" "$1" "$6" "$7" "$8" "$N"
    failures=$((failures + 1))
  }
}
row alice "$tok_alice" alice bob 10 "1,2" no no
row bob "$tok_bob" bob alice 20 "3,4" yes no
row expired "$tok_expired" bob alice 30 none no no
row forged "$tok_forged" bob alice 40 none no no
row garbage "not-a-token" bob alice 50 none no no
row none "" bob alice 60 none no no
echo
echo "  ${D}(rows listed before the insert attempts; bob's own insert added row 20.)"
echo "  superusers are not subject to RLS; the table now holds:${N}"
psql -At -c "SELECT '  ' || string_agg(id || ' ' || owner, ', ' ORDER BY id) FROM documents"

section "EXPLAIN, through withToken: the token is checked once per statement (InitPlan), not per row"
plan=$(TOKEN="$tok_bob" DATABASE_URL="$app_db" node --input-type=module -e '
  import pg from "pg"
  import {withToken} from "hessra"
  const client = new pg.Client({connectionString: process.env.DATABASE_URL})
  await client.connect()
  const r = await withToken(client, process.env.TOKEN, (c) => c.query("EXPLAIN (COSTS OFF) SELECT * FROM documents"))
  for (const row of r.rows) console.log(row["QUERY PLAN"])
  await client.end()')
echo "$plan" | sed 's/^/    /'
if grep -q InitPlan <<<"$plan"; then expect "hessra check runs as an InitPlan" yes yes; else expect "hessra check runs as an InitPlan" yes no; fi

section "hessra pg status"
rc=0
hessra pg status --database "$url" || rc=$?
expect "pg status" "exit 0" "exit $rc"

section "hessra pg sandbox stop"
hessra pg sandbox stop --dir "$sandbox" ${KEEP:+--keep}

echo
if [[ $failures -eq 0 ]]; then
  echo "${G}${B}demo: everything behaved as expected${N}"
  exit 0
fi
echo "${R}${B}demo: $failures unexpected result(s)${N}"
exit 1
