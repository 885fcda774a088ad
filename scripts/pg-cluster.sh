#!/usr/bin/env bash
# pg-cluster.sh — a throwaway PostgreSQL cluster for tests.
#
#   scripts/pg-cluster.sh start DIR PORT   initdb (if needed) + start; prints "host port"
#   scripts/pg-cluster.sh stop DIR         stop (fast) — leaves DIR in place
#   scripts/pg-cluster.sh status DIR       exit 0 when running
#   scripts/pg-cluster.sh bindir           print the PostgreSQL bin directory used
#
# The cluster lives in DIR/data, logs to DIR/server.log, listens on 127.0.0.1
# only on PORT, and puts its unix socket in DIR. Authentication is "trust" for
# local and loopback connections (it is a throwaway test cluster: never point
# this at real data). When run as root, the server runs as the "postgres" OS
# user (created if missing); otherwise as the calling user.
#
# The PostgreSQL bin directory is find_pg_bindir's (scripts/pg-find.sh): $PG_BINDIR,
# else `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin.
# Extra postgresql.conf lines may be passed in $PG_CLUSTER_CONF (newline separated).
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }

# shellcheck source=pg-find.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-find.sh"

find_bindir() {
    find_pg_bindir || die "no PostgreSQL server binaries found (install postgresql, or set PG_BINDIR / PG_CONFIG)"
}

# Runs a command as the cluster's OS user.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

ensure_user() {
    [[ $EUID -eq 0 ]] || return 0
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres \
            || die "could not create the postgres OS user"
    fi
}

cmd="${1:-}"
case "$cmd" in
    bindir)
        find_bindir
        ;;
    start)
        dir="${2:-}"; port="${3:-}"
        [[ -n "$dir" && -n "$port" ]] || die "usage: $0 start DIR PORT"
        [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number"
        bindir="$(find_bindir)"
        ensure_user
        mkdir -p "$dir"
        dir="$(cd "$dir" && pwd)"
        if [[ $EUID -eq 0 ]]; then
            chown postgres: "$dir"
            chmod 0700 "$dir"
            # the server must be able to reach DIR
            as_pg test -x "$dir" \
                || die "the postgres OS user cannot reach $dir (a parent directory is not traversable); use e.g. DIR=\$(mktemp -d)"
        fi
        if [[ ! -f "$dir/data/PG_VERSION" ]]; then
            as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
                --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
                || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
            {
                echo "# --- pg-cluster.sh ---"
                echo "listen_addresses = '127.0.0.1'"
                echo "port = $port"
                echo "unix_socket_directories = '$dir'"
                echo "fsync = off"
                echo "synchronous_commit = off"
                echo "full_page_writes = off"
                echo "shared_buffers = 64MB"
                echo "max_connections = 30"
                echo "max_worker_processes = 8"
                echo "max_parallel_workers = 4"
                echo "log_min_messages = warning"
                echo "log_line_prefix = '%m [%p] '"
                if [[ -n "${PG_CLUSTER_CONF:-}" ]]; then printf '%s\n' "$PG_CLUSTER_CONF"; fi
            } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
            printf '%s\n' \
                "local all all trust" \
                "host all all 127.0.0.1/32 trust" \
                | as_pg tee "$dir/data/pg_hba.conf" >/dev/null
        else
            # reuse: keep the port in sync
            as_pg sed -i "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
        fi
        if as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
            echo "127.0.0.1 $port"
            exit 0
        fi
        as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
            || { tail -n 40 "$dir/server.log" >&2 || true; die "server did not start"; }
        echo "127.0.0.1 $port"
        ;;
    stop)
        dir="${2:-}"
        [[ -n "$dir" ]] || die "usage: $0 stop DIR"
        [[ -f "$dir/data/PG_VERSION" ]] || exit 0
        bindir="$(find_bindir)"
        if as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
            as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
        fi
        ;;
    status)
        dir="${2:-}"
        [[ -n "$dir" ]] || die "usage: $0 status DIR"
        [[ -f "$dir/data/PG_VERSION" ]] || { echo "no cluster in $dir"; exit 3; }
        bindir="$(find_bindir)"
        as_pg "$bindir/pg_ctl" -D "$dir/data" status
        ;;
    *)
        echo "usage: $0 start DIR PORT | stop DIR | status DIR | bindir" >&2
        exit 2
        ;;
esac
