#!/usr/bin/env bash
# The npm package as a user gets it: packs what is built (scripts/package.sh --npm-only --no-build),
# installs the tarball with `npm install -g` into a temporary prefix, and runs the installed `hessra`
# with a PATH that has no cargo: keys generate, token mint, verify (allowed and denied), the error when
# the prebuilt engine does not load, and `pg sandbox start` / `pg status` / `pg sandbox stop` (which
# build the extension from the package with only make, a C compiler and the server headers).
#
# Installs the extension into the local PostgreSQL: run it under the shared lock
# (flock /tmp/hessra-pg.lock bash test/package/run.sh); `npm test` already holds it.
set -uo pipefail
SUITE=package
# shellcheck source=../../scripts/pg-test-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/pg-test-lib.sh"

work="$(mktemp -d)"
chmod 0755 "$work" # the server's OS user (postgres, when we are root) must reach the sandbox inside
sandbox="$work/home/sandbox"
cleanup() {
    [[ -d "$sandbox" ]] && run_hessra pg sandbox stop --dir "$sandbox" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

bash "$REPO/scripts/package.sh" --npm-only --no-build --out "$work/release" 2>"$work/package.log" \
    || { cat "$work/package.log" >&2; fatal "scripts/package.sh failed"; }
tarball="$(ls "$work"/release/hessra-*.tgz)"
npm install -g --prefix "$work/prefix" --prefer-offline --no-audit --no-fund "$tarball" >"$work/install.log" 2>&1 \
    || { cat "$work/install.log" >&2; fatal "npm install -g $tarball failed"; }
installed="$work/prefix/lib/node_modules/hessra"

# Only system directories and the prefix on PATH: no ~/.cargo/bin, no node_modules/.bin.
clean_path="$work/prefix/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
mkdir -p "$work/home"
run_hessra() {
    (cd "$work/home" && env -i PATH="$clean_path" HOME="$work/home" NO_COLOR=1 \
        HESSRA_CONFIG="$work/home/hessra.json" hessra "$@")
}

check "cargo is not on the PATH the installed CLI runs with" \
    bash -c "! PATH='$clean_path' command -v cargo >/dev/null"
check "the installed package has no local engine build" test ! -e "$installed/native/target"
check "the installed package ships the engine prebuilt for linux-x64-gnu" \
    test -f "$installed/prebuilt/linux-x64-gnu/libhessra_ffi.so" -a -f "$installed/prebuilt/linux-x64-gnu/libhessra_ffi.a"

# Issue 26 item 8: the installed package.json has no development scripts (prepare, test, lint, ...).
check "the installed package.json keeps only the build:native script" \
    node -e 'const p = require(process.argv[1]); process.exit(JSON.stringify(Object.keys(p.scripts)) === "[\"build:native\"]" && !p.devDependencies ? 0 : 1)' \
    "$installed/package.json"

check "keys generate" run_hessra keys generate --out root.pem >/dev/null 2>&1
pub="$(run_hessra keys public root.pem)"
check "keys public prints the public key" test "${pub#ed25519/}" != "$pub"
printf '{"version":1,"default_key":"root","keys":[{"id":"root","public_key":"%s"}]}\n' "$pub" >"$work/home/hessra.json"
token="$(run_hessra token mint --private-key root.pem --subject alice --resource docs --operation read --ttl 1h 2>/dev/null)"
check "token mint prints a token" test -n "$token"

run_hessra verify --subject alice --resource docs --operation read "$token" >"$work/allowed.out" 2>&1
check "verify: allowed (exit 0)" test $? -eq 0
check "verify: says valid" grep -q "valid" "$work/allowed.out"
run_hessra verify --subject bob --resource docs --operation read "$token" >"$work/denied.out" 2>&1
check "verify: another subject is denied (exit 1)" test $? -eq 1

# A prebuilt engine that does not load (and no local build): exit 5, naming what to run.
so="$installed/prebuilt/linux-x64-gnu/libhessra_ffi.so"
cp "$so" "$work/engine.so"
printf 'not an ELF file' >"$so"
run_hessra verify --subject alice --resource docs "$token" >"$work/broken.out" 2>&1
check "verify without a loadable engine: exit 5" test $? -eq 5
check "verify without a loadable engine: names the prebuilt library" grep -q "prebuilt/linux-x64-gnu/libhessra_ffi.so" "$work/broken.out"
check "verify without a loadable engine: says how to build one" grep -q "npm run build:native" "$work/broken.out"
cp "$work/engine.so" "$so"
# HESSRA_FFI_LIB naming a missing file, on the platform the package ships for (issue 26 item 4).
(cd "$work/home" && env -i PATH="$clean_path" HOME="$work/home" NO_COLOR=1 HESSRA_FFI_LIB=/nope.so \
    hessra verify --subject alice --resource docs "$token") >"$work/nope.out" 2>&1
check "HESSRA_FFI_LIB=/nope.so: exit 5" test $? -eq 5
check "HESSRA_FFI_LIB=/nope.so: does not claim the package lacks this platform" bash -c "! grep -q 'other platforms' '$work/nope.out'"
check "HESSRA_FFI_LIB=/nope.so: says to unset it to use the shipped engine" grep -q "unset HESSRA_FFI_LIB" "$work/nope.out"

# The playground from the installed package: its page ships, and it answers only under its secret.
(cd "$work/home" && exec env -i PATH="$clean_path" HOME="$work/home" NO_COLOR=1 HESSRA_CONFIG="$work/home/hessra.json" \
    hessra playground --no-open) >"$work/playground.url" 2>"$work/playground.err" &
playground_pid=$!
for _ in $(seq 100); do [[ -s "$work/playground.url" ]] && break; sleep 0.2; done
purl="$(head -n 1 "$work/playground.url")"
http_check() { # URL STATUS [TEXT]: the answer has that status (and holds TEXT)
    node -e 'const [u, s, x = ""] = process.argv.slice(1)
fetch(u).then(async (r) => process.exit(r.status === Number(s) && (await r.text()).includes(x) ? 0 : 1), () => process.exit(1))' "$@"
}
check "playground prints its URL on 127.0.0.1 with a secret" grep -qE '^http://127\.0\.0\.1:[0-9]+/[A-Za-z0-9_-]{32}/$' "$work/playground.url"
check "playground serves its page from the package" http_check "$purl" 200 'data-testid="verdict"'
check "playground serves its script" http_check "${purl}playground.js" 200 'The hessra playground page'
check "playground refuses a request without the secret" http_check "${purl%/*/}/" 403
kill -TERM "$playground_pid"
wait "$playground_pid"
check "playground stops cleanly on SIGTERM (exit 0)" test $? -eq 0

# The extension, built from the package: make + cc + server headers, no cargo.
url="$(run_hessra pg sandbox start --dir "$sandbox" --port "$(free_port)" 2>"$work/sandbox.err")"
check "pg sandbox start (builds the extension without cargo)" test -n "$url"
check "pg sandbox start linked the prebuilt static library" grep -q "using .*prebuilt/linux-x64-gnu/libhessra_ffi.a" "$work/sandbox.err"
run_hessra pg status --database "$url" >"$work/status.out" 2>&1
check "pg status: healthy (exit 0)" test $? -eq 0
check "pg status: the configuration loads" grep -q "config loads: *yes" "$work/status.out"
check "pg sandbox stop" run_hessra pg sandbox stop --dir "$sandbox"

summary
[[ $FAILED -eq 0 ]]
