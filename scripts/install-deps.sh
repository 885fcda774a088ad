#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only when missing.
# Works on Debian 12 and 13: the PostgreSQL major version is detected, never assumed.
#   --fuzz   also clang and its libFuzzer runtime (libclang-rt-N-dev), for the
#            coverage-guided campaign (`npm run fuzz`); `npm test` does not need them.
set -euo pipefail

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in libssl-dev libpcre2-dev pkg-config postgresql postgresql-contrib valgrind pgbouncer; do
  have "$p" || need+=("$p")
done
command -v cc >/dev/null || need+=(build-essential)
# The playground's browser tests (test/playground/) drive the system browser: Debian 12 and 13 both
# ship it as `chromium` (/usr/bin/chromium); nothing downloads a browser of its own.
have chromium || need+=(chromium)
# `hessra completion fish` is tested in a real fish (test/unit/completion.test.ts).
have fish || need+=(fish)

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages: $* (run as root or install them)" >&2
    exit 5
  fi
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}" >&2
  apt_install "${need[@]}"
fi

# The server headers must match the major version of the PostgreSQL the tests build against.
# shellcheck source=pg-find.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-find.sh"
pgc=$(find_pg_config) || { echo "install-deps: pg_config not found (is the postgresql package installed?)" >&2; exit 5; }
major=$("$pgc" --version | sed -nE 's/^PostgreSQL ([0-9]+).*/\1/p')
if [ -z "$major" ]; then
  echo "install-deps: cannot tell the PostgreSQL major version from $pgc --version" >&2
  exit 5
fi
have "postgresql-server-dev-$major" || apt_install "postgresql-server-dev-$major"

# libFuzzer ships with clang's runtime package, named after the clang major
# version (Debian 12: 14, 16, ...; Debian 13: 19, ...): use the newest clang
# installed, else the newest one apt offers with its runtime.
if [ "${1:-}" = --fuzz ]; then
  clang_major=$(ls /usr/bin/clang-[0-9]* 2>/dev/null | sed 's/.*clang-//' | sort -n | tail -n 1)
  if [ -z "$clang_major" ]; then
    clang_major=$(apt-cache search --names-only '^libclang-rt-[0-9]+-dev$' | sed -E 's/^libclang-rt-([0-9]+)-dev.*/\1/' | sort -n | tail -n 1)
    [ -n "$clang_major" ] || { echo "install-deps: no libclang-rt-N-dev package found" >&2; exit 5; }
  fi
  fuzz_need=()
  for p in "clang-$clang_major" "libclang-rt-$clang_major-dev"; do
    have "$p" || fuzz_need+=("$p")
  done
  if [ ${#fuzz_need[@]} -gt 0 ]; then
    echo "install-deps: installing ${fuzz_need[*]}" >&2
    apt_install "${fuzz_need[@]}"
  fi
fi

# Debian's postgresql package starts a cluster on 5432; the tests use their own
# throwaway clusters and never touch it.
command -v cargo >/dev/null || { echo "install-deps: cargo (Rust) is required" >&2; exit 5; }
echo "install-deps: ok (PostgreSQL $major)" >&2
