#!/bin/sh
# Builds the C test program against include/hessra_ffi.h, links it once with
# the shared library and once with the static library, and runs both under
# valgrind (leaks of kind "definite" and memory errors fail the run). Then
# the README's seed-only example (seed_example.c, verify TOKEN KEY SUBJECT
# RESOURCE), linked both ways, on a token minted through the ABI
# (test_ffi --mint): "valid" and exit 0 for the right subject, exit 1 for a
# wrong one, under valgrind too.
#
#   native/tests/c/run.sh            # from anywhere
#   NO_VALGRIND=1 native/tests/c/run.sh
#
# Honours CARGO_TARGET_DIR. Needs cc, c++, cargo, libssl-dev, libpcre2-dev and
# valgrind (skipped with a warning when missing, unless REQUIRE_VALGRIND=1).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
native=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$native/target}
release="$target/release"
out="$target/c-tests"
samples="$native/tests/data/biscuit-samples"
mkdir -p "$out"

CFLAGS="-std=c99 -Wall -Wextra -Werror -O1 -g -I$native/include"

echo "== header compiles as C99 and C++"
cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c "$native/include/hessra_ffi.h"
c++ -Wall -Wextra -Werror -fsyntax-only -x c++ "$native/include/hessra_ffi.h"

echo "== cargo build --release"
(cd "$native" && cargo build --release --offline --quiet)

echo "== link against libhessra_ffi.so and libhessra_ffi.a"
# shellcheck disable=SC2086
cc $CFLAGS "$here/test_ffi.c" -o "$out/test_ffi_shared" \
    -L"$release" -Wl,-rpath,"$release" -lhessra_ffi -lpthread
# shellcheck disable=SC2086
cc $CFLAGS "$here/test_ffi.c" -o "$out/test_ffi_static" \
    "$release/libhessra_ffi.a" -lcrypto -lpcre2-8 -lpthread -ldl -lm
# The README's example, with the flags the README shows (no -O1 -g needed).
cc -std=c99 -Wall -Wextra -Werror -I"$native/include" "$here/seed_example.c" -o "$out/seed_example_shared" \
    -L"$release" -Wl,-rpath,"$release" -lhessra_ffi
cc -std=c99 -Wall -Wextra -Werror -I"$native/include" "$here/seed_example.c" -o "$out/seed_example_static" \
    "$release/libhessra_ffi.a" -lcrypto -lpcre2-8 -lpthread -ldl -lm

runner=""
if [ "${NO_VALGRIND:-}" = "" ] && command -v valgrind >/dev/null 2>&1; then
    runner="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1"
elif [ "${REQUIRE_VALGRIND:-}" = "1" ]; then
    echo "valgrind is required but not installed" >&2
    exit 1
else
    echo "warning: running without valgrind" >&2
fi

total_pass=0
total_fail=0
status=0
for variant in shared static; do
    echo "== $variant${runner:+ (valgrind)}"
    log="$out/test_ffi_$variant.log"
    set +e
    # shellcheck disable=SC2086
    $runner "$out/test_ffi_$variant" "$samples" >"$log" 2>&1
    rc=$?
    set -e
    cat "$log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
    if [ -z "$line" ]; then
        echo "$variant: no result line (crashed?)" >&2
        total_fail=$((total_fail + 1))
        status=1
        continue
    fi
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed}
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ]; then
        echo "$variant: exit status $rc" >&2
        [ "$f" -gt 0 ] || total_fail=$((total_fail + 1))
        status=1
    fi
done

echo "== seed_example.c (README's C API example)${runner:+ (valgrind)}"
minted=$("$out/test_ffi_static" --mint alice orders read) || { echo "test_ffi --mint failed" >&2; exit 1; }
token=$(printf '%s\n' "$minted" | sed -n 1p)
key=$(printf '%s\n' "$minted" | sed -n 2p)
# A valgrind error exits 99, so it cannot pass for the example's own exit 1.
seed_runner=${runner:+$runner --error-exitcode=99}
# seed_case VARIANT SUBJECT WANT_STATUS WANT_OUTPUT
seed_case() {
    set +e
    # shellcheck disable=SC2086
    got=$($seed_runner "$out/seed_example_$1" "$token" "$key" "$2" orders 2>"$out/seed_example.err")
    rc=$?
    set -e
    if [ "$rc" -eq "$3" ] && [ "$got" = "$4" ]; then
        total_pass=$((total_pass + 1))
    else
        echo "FAIL seed_example ($1, subject $2): exit $rc, output '$got' (want exit $3, '$4')" >&2
        cat "$out/seed_example.err" >&2
        total_fail=$((total_fail + 1))
        status=1
    fi
}
for variant in shared static; do
    seed_case "$variant" alice 0 "valid"
    seed_case "$variant" bob 1 "verification failed"
done
set +e
"$out/seed_example_static" "$token" >/dev/null 2>&1
rc=$?
set -e
if [ "$rc" -eq 2 ]; then total_pass=$((total_pass + 1)); else echo "FAIL seed_example usage: exit $rc (want 2)" >&2; total_fail=$((total_fail + 1)); status=1; fi

echo "$total_pass passed, $total_fail failed"
exit $status
