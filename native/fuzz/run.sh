#!/usr/bin/env bash
# Coverage-guided fuzzing of the engine through its C ABI (harness.c).
#
#   native/fuzz/run.sh replay            replay corpus/ with a normal release
#                                        build (no nightly, no libFuzzer):
#                                        fails on a crash or an input slower
#                                        than 1 s. Part of `npm test`.
#   native/fuzz/run.sh campaign [SECS]   libFuzzer campaign (default 300 s):
#                                        engine instrumented by nightly rustc
#                                        (SanitizerCoverage + AddressSanitizer),
#                                        per-input -timeout so quadratic work
#                                        is reported, not only crashes. New
#                                        inputs go to $FUZZ_WORK/corpus (kept
#                                        out of the repo); crash-*, timeout-*,
#                                        slow-unit-* files to $FUZZ_WORK.
#                                        `npm run fuzz`.
#
# The campaign needs `rustup toolchain install nightly` and clang with
# libFuzzer (`bash scripts/install-deps.sh --fuzz` installs libclang-rt-N-dev
# for the installed clang-N). Environment: FUZZ_WORK (default
# native/target/fuzz-work), FUZZ_TIMEOUT (seconds per input, default 2).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
native="$(cd "$here/.." && pwd)"
mode="${1:-replay}"

case "$mode" in
replay)
    (cd "$native" && cargo build --release --offline --quiet)
    out="$native/target/fuzz-replay"
    mkdir -p "$out"
    cc -std=c99 -D_POSIX_C_SOURCE=200809L -DFUZZ_REPLAY -O1 -g -Wall -Wextra -Werror -I"$native/include" \
        "$here/harness.c" -o "$out/replay" \
        "$native/target/release/libhessra_ffi.a" -lcrypto -lpcre2-8 -lpthread -ldl -lm
    # shellcheck disable=SC2046
    "$out/replay" $(find "$here/corpus" -type f | sort)
    ;;
campaign)
    secs="${2:-300}"
    work="${FUZZ_WORK:-$native/target/fuzz-work}"
    clang="$(ls /usr/bin/clang-[0-9]* 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$clang" ]] || clang="$(command -v clang || true)"
    if [[ -z "$clang" ]] || ! "$clang" -fsanitize=fuzzer -x c /dev/null -o /dev/null 2>/dev/null; then
        bash "$native/../scripts/install-deps.sh" --fuzz
        clang="$(ls /usr/bin/clang-[0-9]* | sort -V | tail -n 1)"
    fi
    rustup toolchain list | grep -q '^nightly' \
        || { echo "fuzz: the nightly toolchain is required (rustup toolchain install nightly)" >&2; exit 5; }
    triple=x86_64-unknown-linux-gnu
    lib="$native/target/fuzz/$triple/release/libhessra_ffi.a"
    echo "fuzz: building the instrumented engine (nightly, sancov + ASan)" >&2
    (cd "$native" && CARGO_TARGET_DIR="$native/target/fuzz" \
        CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        RUSTFLAGS="-C passes=sancov-module -C llvm-args=-sanitizer-coverage-level=3 \
-C llvm-args=-sanitizer-coverage-inline-8bit-counters -C llvm-args=-sanitizer-coverage-pc-table \
-C llvm-args=-sanitizer-coverage-trace-compares -Z sanitizer=address" \
        cargo +nightly rustc --release --offline --quiet --lib --crate-type staticlib --target "$triple")
    mkdir -p "$work/corpus"
    echo "fuzz: linking the harness with $clang (libFuzzer, ASan)" >&2
    "$clang" -g -O1 -fsanitize=fuzzer,address -I"$native/include" "$here/harness.c" -o "$work/fuzz-engine" \
        "$lib" -lcrypto -lpcre2-8 -lpthread -ldl -lm
    cd "$work"
    # the repository corpus seeds the campaign; new inputs land in $work/corpus
    exec ./fuzz-engine -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-2}" -rss_limit_mb=2048 \
        -max_len=16384 -dict="$here/datalog.dict" -report_slow_units=1 -print_final_stats=1 \
        "$work/corpus" "$here/corpus"
    ;;
*)
    echo "usage: $0 replay | campaign [SECONDS]" >&2
    exit 2
    ;;
esac
