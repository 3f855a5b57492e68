#!/usr/bin/env bash
# posix_local.sh - suite 'fuse': the checkers of fuse_check.sh run on local
# file systems, where every check must pass, so that posix_check and
# fsx_cairn are themselves tested on every run.  posix_check runs in a
# directory of ${TMPDIR:-/tmp} with a bind mount of it as the second mount
# (the same directory again when bind mounts are not allowed here), and on a
# tmpfs when one can be mounted; fsx_cairn runs 20,000 operations.
# Whatever happens, what it mounted is unmounted and the directory removed
# at exit.
#
# Usage: posix_local.sh POSIX_CHECK FSX.  Exits 77 when not root.
set -euo pipefail

if (($# != 2)); then
	echo "usage: posix_local.sh POSIX_CHECK FSX" >&2
	exit 2
fi
posix_check=$1
fsx=$2

if ((EUID != 0)); then
	echo "SKIP: posix_check needs root (it switches to uid 65534)"
	exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-posix-local-XXXXXX")
chmod 755 "$dir" # uid 65534 must reach the checks' directories
declare -a mounts=()

cleanup() {
	local rc=$? m
	trap - EXIT
	for m in "${mounts[@]}"; do
		umount "$m" || umount -l "$m" || true
	done
	for m in "${mounts[@]}"; do
		if mountpoint -q "$m"; then
			echo "kept $dir: $m is still mounted" >&2
			exit "$rc"
		fi
	done
	rm -rf "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

mkdir "$dir/p" "$dir/view" "$dir/tmpfs"
second=$dir/view
if mount --bind "$dir/p" "$dir/view" 2>/dev/null; then
	mounts+=("$dir/view")
else
	echo "note: no bind mount here; the second directory is the first one again"
	second=$dir/p
fi
echo "== posix_check $dir/p $second ($(stat -f -c %T "$dir/p"))"
"$posix_check" "$dir/p" "$second"

if mount -t tmpfs -o mode=755,size=256m tmpfs "$dir/tmpfs" 2>/dev/null; then
	mounts=("$dir/tmpfs" "${mounts[@]}")
	mkdir "$dir/tmpfs/p"
	echo "== posix_check $dir/tmpfs/p (tmpfs)"
	"$posix_check" "$dir/tmpfs/p" "$dir/tmpfs/p"
else
	echo "note: no tmpfs can be mounted here; skipping the tmpfs run"
fi

echo "== fsx_cairn: 20000 operations"
"$fsx" -N 20000 "$dir/fsx.dat" "$dir/fsx.ref"
echo "PASS"
