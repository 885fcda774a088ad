#!/usr/bin/env bash
# The single entry point to every test (`npm test`). Installs what is missing,
# builds the engine, then runs each suite in turn; stops at the first failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

passed=0
failed=0
stage() {
  local name="$1"; shift
  echo
  echo "==> $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "==> $name FAILED" >&2
    echo "stages: $passed passed, $failed failed"
    exit 1
  fi
}

stage "system packages" bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  stage "npm install" npm ci --no-audit --no-fund
fi
stage "lint (rustfmt, clippy, eslint)" npm run lint
stage "engine build (release)" cargo build --release --offline --manifest-path native/Cargo.toml
stage "engine tests (unit)" cargo test --release --offline --manifest-path native/Cargo.toml --lib
stage "conformance samples" cargo test --release --offline --manifest-path native/Cargo.toml --test conformance -- --nocapture
stage "C ABI test program under valgrind" bash native/tests/c/run.sh
stage "fuzz smoke (60 s)" bash native/tests/fuzz.sh 60
stage "fuzz corpus replay (C ABI, bounded time per input)" bash native/fuzz/run.sh replay
stage "PostgreSQL extension (pg_regress)" bash pg-plugin/test/run.sh
stage "hostile-input corpus (C ABI, valgrind, SQL)" bash test/corpus/run.sh
stage "PostgreSQL under load and faults (pooling, rotation, standby, kills)" bash test/faults/run.sh
stage "CLI build" npm run build
stage "CLI, library and end-to-end tests (mocha)" npm run test:mocha
stage "npm package installed without cargo (keys, mint, verify, pg sandbox)" bash test/package/run.sh
echo
echo "stages: $passed passed, $failed failed"
