#!/usr/bin/env bash
# scripts/pg-private-tree.sh — a private PostgreSQL installation tree: a server started from it loads
# the extension files installed into the tree, and nothing is installed into, or changed in, the
# system's PostgreSQL (its dpkg-owned files stay as they are).
#
#   scripts/pg-private-tree.sh PG_CONFIG TREE [--link-extension]
#
# PostgreSQL finds its share and lib directories relative to the directory of its own executable
# (src/port/path.c, make_relative_path: the compiled-in bindir, sharedir and pkglibdir keep their
# relative positions), after resolving symbolic links. So TREE mirrors the server's own absolute
# paths — TREE/<bindir>, TREE/<pkglibdir>, TREE/<sharedir> — and holds:
#   - copies of postgres, initdb, pg_ctl and pg_config (copies: a link would resolve to the system's
#     directory), refreshed when the system's differ;
#   - symbolic links to every other entry of pkglibdir and sharedir; extension/ and bitcode/ are
#     directories of links to each entry except the hessra extension's own files, which
#     `make install DESTDIR=TREE` puts there. --link-extension links the system's hessra files too
#     (a server using the extension installed in the system).
# The tree's pg_config reports the tree's directories. Prints the tree's bindir; writes nothing
# outside TREE. Used by `hessra pg sandbox` (src/pg/sandbox.ts) and the test suites
# (scripts/pg-test-lib.sh).
set -euo pipefail
umask 022

die() { echo "pg-private-tree: $*" >&2; exit 1; }

[[ $# -ge 2 ]] || die "usage: $0 PG_CONFIG TREE [--link-extension]"
pgc="$1"; tree="$2"; link_extension=0
[[ "${3:-}" == --link-extension ]] && link_extension=1
[[ -x "$pgc" ]] || die "$pgc is not an executable pg_config"
[[ "$tree" == /* ]] || die "TREE must be an absolute path"

bindir="$("$pgc" --bindir)"; pkglibdir="$("$pgc" --pkglibdir)"; sharedir="$("$pgc" --sharedir)"
[[ "$bindir" == /* && "$pkglibdir" == /* && "$sharedir" == /* ]] || die "$pgc reports relative directories"
for d in "$pkglibdir" "$sharedir"; do [[ -d "$d" ]] || die "$d (from $pgc) does not exist"; done

# is_ours NAME: a file of the hessra extension (installed into the tree, not linked)
is_ours() { [[ "$1" == hessra.* || "$1" == hessra--* || "$1" == hessra ]]; }

# mirror SRC DST: DST gets a link to each entry of SRC (none replaces a file of our own); the
# directories named in $EXPAND are mirrored the same way, one level down.
EXPAND=" extension bitcode "
mirror() {
    local src="$1" dst="$2" entry name
    mkdir -p "$dst"
    chmod 0755 "$dst"
    for entry in "$src"/* "$src"/.[!.]*; do
        [[ -e "$entry" || -L "$entry" ]] || continue
        name="${entry##*/}"
        if [[ -d "$entry" && ! -L "$entry" && "$EXPAND" == *" $name "* ]]; then
            mirror "$entry" "$dst/$name"
        elif [[ $link_extension -eq 1 ]] || ! is_ours "$name"; then
            # never follow a link already there (-n), never replace a real file (an installed one)
            if [[ -L "$dst/$name" || ! -e "$dst/$name" ]]; then ln -sfn "$entry" "$dst/$name"; fi
        fi
    done
}

mkdir -p "$tree$bindir"
chmod 0755 "$tree" "$tree$bindir"
for prog in postgres initdb pg_ctl pg_config; do
    [[ -x "$bindir/$prog" ]] || die "$bindir/$prog is missing (install the PostgreSQL server package)"
    if ! cmp -s "$bindir/$prog" "$tree$bindir/$prog"; then
        cp -f "$bindir/$prog" "$tree$bindir/.$prog.tmp"
        chmod 0755 "$tree$bindir/.$prog.tmp"
        mv -f "$tree$bindir/.$prog.tmp" "$tree$bindir/$prog"
    fi
done
mirror "$pkglibdir" "$tree$pkglibdir"
mirror "$sharedir" "$tree$sharedir"

# the copies must find the tree, not the system (a server built non-relocatable would not)
[[ "$("$tree$bindir/pg_config" --pkglibdir)" == "$tree$pkglibdir" ]] \
    || die "PostgreSQL at $bindir does not find its directories relative to its binaries; a private tree cannot be used"
echo "$tree$bindir"
