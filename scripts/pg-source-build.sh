#!/usr/bin/env bash
# pg-source-build.sh MAJOR — build a PostgreSQL MAJOR server from Debian's
# source package into the cache and print its pg_config path.
#
# Used by scripts/pg-versions.sh for majors that have no binary package for
# this Debian release. The source package comes from the Debian release that
# ships that major (13: Debian 11 with its security updates, 15: Debian 12,
# 17: Debian 13, anything else: sid), since deb.debian.org serves only the
# releases it still supports. Only the upstream tarball inside the source
# package is built (plain ./configure && make, no Debian patches): a stock
# server is what the extension must work with. The build tools it needs
# (bison, flex, a C compiler, make) are installed with apt-get when missing
# (as root; otherwise it says which). The build takes ~10 minutes on 2 cores;
# the result is cached in $HESSRA_PG_CACHE/<version> so reruns take a second.
#
# apt runs with a private sources list and state directory under a temporary
# directory: nothing under /etc/apt is touched, nothing is left behind.
set -euo pipefail

die() { echo "pg-source-build: $*" >&2; exit 1; }

major="${1:-}"
[[ "$major" =~ ^[0-9]+$ ]] || die "usage: $0 MAJOR"

# The server runs as the postgres OS user when we are root, so the cache must
# be reachable by it: root's ~/.cache (mode 0700 home) is not.
default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/hessra/pg-builds"
[[ $EUID -eq 0 ]] && default_cache=/var/cache/hessra/pg-builds
cache="${HESSRA_PG_CACHE:-$default_cache}"
mkdir -p "$cache"

# A finished build of this major: the newest complete one in the cache.
cached="$(ls -d "$cache/$major".*/.complete 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -n "$cached" ]]; then
    echo "$(dirname "$cached")/bin/pg_config"
    exit 0
fi

# The Debian suites serving postgresql-MAJOR's source (apt takes the newest version among them).
case "$major" in
    13) suites=("bullseye" "bullseye-security") ;;
    15) suites=("bookworm" "bookworm-security") ;;
    17) suites=("trixie" "trixie-security") ;;
    *) suites=("sid") ;;
esac

# Build tools: PostgreSQL 18's tarball no longer ships the bison/flex outputs.
missing=()
command -v bison >/dev/null || missing+=(bison)
command -v flex >/dev/null || missing+=(flex)
command -v make >/dev/null || missing+=(make)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $EUID -eq 0 ]] || die "building PostgreSQL $major from source needs ${missing[*]} (apt-get install ${missing[*]})"
    echo "pg-source-build: installing ${missing[*]}" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/parts" "$work/apt/cache/archives/partial"
for suite in "${suites[@]}"; do
    uri=http://deb.debian.org/debian
    [[ "$suite" == *-security ]] && uri=http://deb.debian.org/debian-security
    printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" "$suite" >"$work/apt/parts/$suite.sources"
done
apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/apt/parts"
    -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
    -o "APT::Sandbox::User=root")
echo "pg-source-build: fetching Debian's postgresql-$major source package (${suites[*]})" >&2
apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update (deb-src ${suites[*]}) failed"
(cd "$work" && apt-get "${apt_opts[@]}" -qq source --download-only "postgresql-$major" >&2) \
    || die "apt-get source postgresql-$major failed"
orig="$(ls "$work"/postgresql-"$major"_*.orig.tar.* 2>/dev/null | head -n 1)"
[[ -n "$orig" ]] || die "no upstream tarball in the postgresql-$major source package"
version="$(basename "$orig" | sed -E 's/^postgresql-[0-9]+_([0-9.]+)\.orig\.tar\..*/\1/')"
prefix="$cache/$version"

echo "pg-source-build: building PostgreSQL $version into $prefix (takes ~10 min)" >&2
tar -xf "$orig" -C "$work"
src="$(ls -d "$work"/postgresql-"$version" 2>/dev/null)" || die "unexpected tarball layout"
rm -rf "$prefix"
(
    cd "$src"
    ./configure --prefix="$prefix" --without-icu --without-readline --without-zlib \
        --without-llvm >"$work/configure.log" 2>&1 \
        || { tail -n 30 "$work/configure.log"; exit 1; }
    make -j"$(nproc)" -s >"$work/make.log" 2>&1 || { tail -n 40 "$work/make.log"; exit 1; }
    make -s install >"$work/install.log" 2>&1 || { tail -n 40 "$work/install.log"; exit 1; }
) >&2 || die "building PostgreSQL $version failed"
touch "$prefix/.complete"
echo "$prefix/bin/pg_config"
