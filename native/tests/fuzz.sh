#!/bin/sh
# Seeded mutation fuzzing of the engine (std only; see tests/fuzz.rs).
#   tests/fuzz.sh [SECONDS]        default 60
#   HESSRA_FUZZ_SEED=N tests/fuzz.sh 300   reproduce or vary a campaign
# Failing inputs land in ${CARGO_TARGET_DIR:-target}/fuzz-crashes/<target>/.
set -eu
native=$(cd "$(dirname "$0")/.." && pwd)
cd "$native"
HESSRA_FUZZ_SECONDS=${1:-60} exec cargo test --release --offline --test fuzz -- --nocapture
