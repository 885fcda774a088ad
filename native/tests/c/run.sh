#!/bin/sh
# Builds the C test program against include/hessra_ffi.h, links it once with
# the shared library and once with the static library, and runs both under
# valgrind (leaks of kind "definite" and memory errors fail the run).
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
samples=$(cd "$native/.." && pwd)/../shared/conformance/biscuit-samples
[ -d "$samples" ] || samples=""
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
    $runner "$out/test_ffi_$variant" $samples >"$log" 2>&1
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

echo "$total_pass passed, $total_fail failed"
exit $status
