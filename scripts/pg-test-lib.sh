# scripts/pg-test-lib.sh — helpers shared by the suites that run against a
# throwaway PostgreSQL: pg-plugin/test/run.sh, test/corpus/run.sh and
# test/faults/run.sh. Source it; it sets REPO, CLUSTER, and defines the
# functions below. Never exits on its own except through fatal().

LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$LIB_DIR/.." && pwd)"
CLUSTER="$REPO/scripts/pg-cluster.sh"
NATIVE_LIB_GIVEN="${NATIVE_LIB:-}"
NATIVE_LIB="${NATIVE_LIB:-$REPO/native/target/release/libhessra_ffi.a}"
: "${SUITE:=tests}"

PASSED=0
FAILED=0
FAILURES=()

log() { echo "[$SUITE] $*" >&2; }
pass() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); echo "FAIL - $*"; }
# check NAME COMMAND...: pass when COMMAND succeeds
check() { local name="$1"; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
fatal() { log "$*"; echo "$PASSED passed, $((FAILED + 1)) failed"; exit 1; }
summary() {
    if [[ ${#FAILURES[@]} -gt 0 ]]; then
        echo "failures:"; printf '  %s\n' "${FAILURES[@]}"
    fi
    echo "$PASSED passed, $FAILED failed"
}

# shellcheck source=pg-find.sh
source "$LIB_DIR/pg-find.sh"

# Sets PGC, PG_MAJOR, PG_BIN (server binaries of the same major), PATH.
setup_pg() {
    PGC="$(find_pg_config || true)"
    [[ -n "$PGC" ]] || fatal "pg_config not found (install postgresql-server-dev-<major>)"
    PG_MAJOR="$("$PGC" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
    [[ -f "$("$PGC" --includedir-server)/postgres.h" && -f "$("$PGC" --pgxs)" ]] \
        || fatal "PostgreSQL $PG_MAJOR server headers missing (apt-get install postgresql-server-dev-$PG_MAJOR)"
    export PG_CONFIG="$PGC"
    PG_BIN="$(find_pg_bindir)" || fatal "PostgreSQL $PG_MAJOR server binaries not found (install postgresql, or set PG_BINDIR)"
    export PG_BINDIR="$PG_BIN"
    export PATH="$PG_BIN:$PATH"
    log "PostgreSQL $PG_MAJOR ($PG_BIN)"
}

# build_install TREE [TARGET...]: builds the engine (a no-op when it is up to
# date; skipped when NATIVE_LIB names a prebuilt library), then builds the
# extension and any extra pg-plugin make targets given, and installs it into
# the private installation tree TREE (scripts/pg-private-tree.sh; a directory
# the server's OS user can reach, e.g. inside the suite's work directory).
# Exports PG_BINDIR as the tree's bindir, so clusters started through
# pg-cluster.sh load this build's extension and nothing is installed into
# the system's PostgreSQL (where another checkout's test run would replace it).
build_install() {
    local tree="$1"; shift
    if [[ -z "${NATIVE_LIB_GIVEN:-}" ]]; then
        CARGO_TARGET_DIR="$REPO/native/target" \
            cargo build --release --offline --manifest-path "$REPO/native/Cargo.toml" -q >&2 \
            || fatal "native engine build failed"
    fi
    make -C "$REPO/pg-plugin" PG_CONFIG="$PGC" NATIVE_LIB="$NATIVE_LIB" -s all "$@" >&2 \
        || fatal "extension build failed"
    PG_BINDIR="$(bash "$REPO/scripts/pg-private-tree.sh" "$PGC" "$tree")" \
        || fatal "could not make a private PostgreSQL installation tree in $tree"
    export PG_BINDIR
    make -C "$REPO/pg-plugin" PG_CONFIG="$PGC" NATIVE_LIB="$NATIVE_LIB" DESTDIR="$tree" -s install >&2 \
        || fatal "make -C pg-plugin install DESTDIR=$tree failed"
}

# cc_engine OUT SRC...: a C program linked statically with the engine.
cc_engine() {
    local out="$1"; shift
    cc -std=c99 -O1 -g -Wall -I"$REPO/native/include" -o "$out" "$@" "$NATIVE_LIB" \
        -lcrypto -lpcre2-8 -lpthread -ldl -lm
}

# A free TCP port on 127.0.0.1 (nothing answers on it). Ports are drawn at
# random from a wide range, so parallel suites rarely collide.
free_port() {
    local p i
    for i in $(seq 1 100); do
        p=$(( 20000 + (RANDOM * 7 + $$) % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

# as_pg CMD...: run as the cluster's OS user (postgres when we are root).
as_pg() {
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start DIR PORT [extra postgresql.conf lines]: throwaway cluster; retries
# on another port if the first one was taken meanwhile. Prints the port used.
pg_start() {
    local dir="$1" port="$2" conf="${3:-}" try
    for try in 1 2 3; do
        if PG_CLUSTER_CONF="$conf" "$CLUSTER" start "$dir" "$port" >/dev/null 2>"$dir.start.err"; then
            echo "$port"; return 0
        fi
        port="$(free_port)" || break
    done
    cat "$dir.start.err" >&2
    return 1
}

# psql against a cluster: PSQL_PORT and PSQL_HOST set by the caller
# (host is a socket directory or 127.0.0.1).
sql() { psql -X -q -v ON_ERROR_STOP=1 -At -h "${PSQL_HOST:-127.0.0.1}" -p "$PSQL_PORT" -U "${PSQL_USER:-postgres}" -d "${PSQL_DB:-postgres}" "$@"; }

# Whether a server log shows a backend crash or a restart.
log_has_crash() {
    grep -E "terminated by signal|was terminated by exception|PANIC|all server processes terminated|server process \(PID [0-9]+\) exited with exit code [^0]" "$1" >/dev/null 2>&1
}

# write_file_atomic PATH CONTENT: write to a temp file in the same directory,
# mode 0644, then rename over PATH.
write_file_atomic() {
    local tmp
    tmp="$(mktemp "$(dirname "$1")/.tmp.XXXXXX")"
    printf '%s\n' "$2" >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$1"
}
