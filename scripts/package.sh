#!/usr/bin/env bash
# package.sh — `npm run package`: the release artifacts, in release/ (gitignored):
#
#   hessra-<version>.tgz                           the npm package, with the engine prebuilt for this
#                                                  platform (prebuilt/<os>-<arch>-<libc>/: the stripped
#                                                  shared library for the CLI, the static library for
#                                                  building the extension; the header is native/include)
#   postgresql-<major>-hessra_<version>_<arch>.deb the extension for the local PostgreSQL major
#   SHA256SUMS
#
#   scripts/package.sh [--out DIR] [--npm-only] [--no-build]
#
# --no-build packs what is already built (dist/, native/target/release/): the tests use it.
# Needs node/npm, cargo (unless --no-build), and for the .deb: make, a C compiler, the server headers
# of the local PostgreSQL, dpkg-deb and dpkg-shlibdeps (dpkg-dev).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "package: $*" >&2; exit 1; }
log() { echo "package: $*" >&2; }

out="$REPO/release"
npm_only=0
build=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --npm-only) npm_only=1; shift ;;
        --no-build) build=0; shift ;;
        *) die "unknown argument $1 (usage: $0 [--out DIR] [--npm-only] [--no-build])" ;;
    esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$REPO"

native="$REPO/native/target/release"
if [[ $build -eq 1 ]]; then
    # a fresh clone has no node_modules: the build needs the dev dependencies (tsc, oclif)
    if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
        log "installing the build's npm dependencies (npm ci)"
        npm ci --no-audit --no-fund >&2 || die "npm ci failed"
    fi
    log "building the CLI and the engine"
    npm run -s build >&2
    cargo build --release --offline --manifest-path native/Cargo.toml -q
fi
for f in dist/index.js oclif.manifest.json "$native/libhessra_ffi.so" "$native/libhessra_ffi.a"; do
    [[ -e "$f" ]] || die "$f is missing: build first (npm run build, npm run build:native) or drop --no-build"
done

work="$(mktemp -d)"
# prebuilt/ exists only while packing: a clone must keep loading its own fresh build
cleanup() { rm -rf "$work" "$REPO/prebuilt"; }
trap cleanup EXIT

# --- the npm package -------------------------------------------------------------------------------
# The platform directory is named by the same function the CLI uses to find it.
tag="$(node --input-type=module -e "import {platformTag} from '$REPO/dist/native/binding.js'; console.log(platformTag())")"
[[ -n "$tag" ]] || die "could not tell this platform's name"
rm -rf "$REPO/prebuilt"
mkdir -p "$REPO/prebuilt/$tag"
strip --strip-unneeded -o "$REPO/prebuilt/$tag/libhessra_ffi.so" "$native/libhessra_ffi.so"
strip --strip-debug -o "$REPO/prebuilt/$tag/libhessra_ffi.a" "$native/libhessra_ffi.a"
log "packing the npm package (engine prebuilt for $tag)"
tarball="$(npm pack --ignore-scripts --silent --pack-destination "$out" | tail -n 1)"
[[ -f "$out/$tarball" ]] || die "npm pack wrote no tarball"
# The installed package.json keeps only the scripts a user runs (build:native, for platforms without a
# prebuilt engine): `prepare`, the tests and the linters need the repository and its dev dependencies,
# and npm warns about an install-time script it did not run.
mkdir -p "$work/pack"
tar -xzf "$out/$tarball" -C "$work/pack"
node -e '
const fs = require("fs"), f = process.argv[1], p = JSON.parse(fs.readFileSync(f, "utf8"))
p.scripts = {"build:native": p.scripts["build:native"]}
delete p.devDependencies
fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n")' "$work/pack/package/package.json" || die "could not rewrite the packed package.json"
tar -czf "$out/$tarball" -C "$work/pack" --owner=0 --group=0 --numeric-owner package
artifacts=("$tarball")
log "wrote $out/$tarball"

# --- the Debian package of the extension ----------------------------------------------------------
if [[ $npm_only -eq 0 ]]; then
    command -v dpkg-deb >/dev/null || die "dpkg-deb not found (the .deb is built on Debian; --npm-only skips it)"
    SUITE=package
    # shellcheck source=pg-test-lib.sh
    source "$REPO/scripts/pg-test-lib.sh"
    pgc="$(find_pg_config || true)"
    [[ -n "$pgc" ]] || die "pg_config not found (install postgresql-server-dev-<major>, or set PG_CONFIG)"
    major="$("$pgc" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
    version="$(sed -nE "s/^default_version *= *'([^']+)'.*/\1/p" pg-plugin/hessra.control)"
    [[ -n "$version" ]] || die "no default_version in pg-plugin/hessra.control"
    arch="$(dpkg --print-architecture)"
    pkg="postgresql-$major-hessra"
    root="$work/$pkg"
    log "building $pkg $version for PostgreSQL $major ($pgc)"
    umask 022
    make -C pg-plugin -s PG_CONFIG="$pgc" NATIVE_LIB="$native/libhessra_ffi.a" all >&2
    make -C pg-plugin -s PG_CONFIG="$pgc" NATIVE_LIB="$native/libhessra_ffi.a" DESTDIR="$root" install >&2
    so="$root$("$pgc" --pkglibdir)/hessra.so"
    [[ -f "$so" ]] || die "the staged install has no $so"
    strip --strip-unneeded "$so"

    doc="$root/usr/share/doc/$pkg"
    mkdir -p "$doc"
    cp pg-plugin/README.md "$doc/README.md"
    cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: hessra

Files: *
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
COPYRIGHT

    # The shared libraries hessra.so links (libcrypto, libpcre2, libc) name different packages on
    # Debian 12 (libssl3) and 13 (libssl3t64): ask dpkg-shlibdeps, which knows, else dpkg -S.
    mkdir -p "$work/deb/debian"
    printf 'Source: hessra\n\nPackage: %s\nArchitecture: any\n' "$pkg" >"$work/deb/debian/control"
    shlibs=""
    if command -v dpkg-shlibdeps >/dev/null; then
        shlibs="$(cd "$work/deb" && dpkg-shlibdeps -O -e"$so" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
    fi
    if [[ -z "$shlibs" ]]; then
        shlibs="$(ldd "$so" | awk '/=> \//{print $3}' | while read -r lib; do
            dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
        done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')"
    fi
    [[ -n "$shlibs" ]] || die "could not tell which packages provide the libraries hessra.so links"

    mkdir -p "$root/DEBIAN"
    (cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
    cat >"$root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: ${DEBFULLNAME:-hessra developers} <${DEBEMAIL:-hessra@localhost}>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: postgresql-$major, $shlibs
Section: database
Priority: optional
Description: Hessra authorization tokens for PostgreSQL $major row-level security
 The hessra extension verifies Hessra (Biscuit) tokens inside PostgreSQL:
 signed, attenuable authorization tokens whose Datalog rules decide which
 rows a session may read or write. The token engine is linked statically;
 the server needs no preloading. After installing: CREATE EXTENSION hessra;
 then point hessra.config_path at the configuration holding the trusted
 public keys (see /usr/share/doc/$pkg/README.md).
CONTROL
    deb="${pkg}_${version}_${arch}.deb"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$out/$deb" >/dev/null
    artifacts+=("$deb")
    log "wrote $out/$deb (Depends: postgresql-$major, $shlibs)"
fi

(cd "$out" && sha256sum "${artifacts[@]}" >SHA256SUMS)
log "wrote $out/SHA256SUMS"
