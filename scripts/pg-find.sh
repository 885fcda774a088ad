# scripts/pg-find.sh — where PostgreSQL is installed, for the repository's shell scripts. Source it.
#
# The one place the scripts look: pg-test-lib.sh (and through it the pg_regress, corpus and fault
# suites), pg-cluster.sh, install-deps.sh and demo.sh. The CLI (`hessra pg`, src/pg/pg-config.ts)
# looks in the same order, with more install layouts, because it ships to machines without these
# scripts; test/pg/pg-config.test.ts checks that both pick the same installation here.
#
# find_pg_config   prints the pg_config to use: $PG_CONFIG, else pg_config on PATH, else the newest
#                  /usr/lib/postgresql/<major>/bin/pg_config. Returns 1 (prints nothing) when none.
# find_pg_bindir   prints the directory of the server binaries (initdb, pg_ctl, psql): $PG_BINDIR,
#                  else find_pg_config's --bindir, else the newest /usr/lib/postgresql/<major>/bin.
#                  Returns 1 (prints nothing) when none holds initdb and pg_ctl.

find_pg_config() {
    if [[ -n "${PG_CONFIG:-}" ]]; then
        # An explicit choice is used as given (a bad one fails loudly where it is run).
        if [[ "$PG_CONFIG" == */* ]]; then echo "$PG_CONFIG"; else command -v "$PG_CONFIG" || return 1; fi
        return 0
    fi
    if command -v pg_config 2>/dev/null; then return 0; fi
    local d
    d="$(_pg_newest_bindir)"
    [[ -n "$d" && -x "$d/pg_config" ]] || return 1
    echo "$d/pg_config"
}

find_pg_bindir() {
    local d pgc
    if [[ -n "${PG_BINDIR:-}" ]] && _pg_is_bindir "$PG_BINDIR"; then
        echo "$PG_BINDIR"; return 0
    fi
    if pgc="$(find_pg_config)"; then
        d="$("$pgc" --bindir 2>/dev/null || true)"
        if _pg_is_bindir "$d"; then echo "$d"; return 0; fi
    fi
    d="$(_pg_newest_bindir)"
    _pg_is_bindir "$d" || return 1
    echo "$d"
}

_pg_is_bindir() { [[ -n "$1" && -x "$1/initdb" && -x "$1/pg_ctl" ]]; }

# The bin directory of the highest major version under /usr/lib/postgresql (Debian's layout).
_pg_newest_bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    echo "$d"
}
