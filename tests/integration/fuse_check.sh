#!/usr/bin/env bash
# fuse_check.sh - suite 'fuse': Cairn through its POSIX mount.  Starts a
# local cluster with 2 MDS shards and an ec:4+2 pool of 64 KiB chunks
# mounted at TMP/mnt (tools/cairn-cluster up --mount) and a second mount of the same cluster at TMP/mnt2
# (cairn-fuse -c CONF), then runs
#   1. posix_check on TMP/mnt/p, with TMP/mnt2/p as the same directory seen
#      through the second mount (locks and close-to-open across mounts);
#   2. fsx_cairn, 100,000 random operations (CAIRN_FSX_OPS) on
#      TMP/mnt/fsx.dat against a reference file in TMP/ref on the local disk;
#   3. a tar of the source tree (build directories and .git left out) into
#      TMP/mnt/src, compared with `diff -r` against the same tar extracted
#      to TMP/ref/src and with `tar --compare` (modes, times, owners, links).
# Whatever happens, both mounts are unmounted (fusermount3 -u) and the
# cluster is stopped (cairn-cluster down) at exit; TMP is removed on success
# and kept for inspection on failure.
#
# Usage: fuse_check.sh CAIRN_CLUSTER BUILD_DIR POSIX_CHECK FSX.  Exits 77
# with the reason when not root, without /dev/fuse, or when
# BUILD_DIR/client/fuse/cairn-fuse is not built.
set -euo pipefail

if (($# != 4)); then
	echo "usage: fuse_check.sh CAIRN_CLUSTER BUILD_DIR POSIX_CHECK FSX" >&2
	exit 2
fi
cluster=$1
build=$2
posix_check=$3
fsx=$4
fuse_bin=$build/client/fuse/cairn-fuse
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if ((EUID != 0)); then
	echo "SKIP: needs root (FUSE mounts, and posix_check switches to uid 65534)"
	exit 77
fi
if [[ ! -c /dev/fuse ]]; then
	echo "SKIP: /dev/fuse is missing"
	exit 77
fi
if [[ ! -x $fuse_bin ]]; then
	echo "SKIP: $fuse_bin is not built"
	exit 77
fi
if ! command -v fusermount3 >/dev/null; then
	echo "SKIP: fusermount3 is not installed"
	exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-fuse-test-XXXXXX")
chmod 755 "$dir" # uid 65534 must reach the mounts
mnt=$dir/mnt
mnt2=$dir/mnt2
mkdir -p "$mnt" "$mnt2" "$dir/ref"

mounted() {
	mountpoint -q "$1" 2>/dev/null
}

cleanup() {
	local rc=$? m
	trap - EXIT
	for m in "$mnt2" "$mnt"; do
		if mounted "$m" && ! fusermount3 -u "$m"; then
			echo "cleanup: $m is busy; detaching it lazily" >&2
			fusermount3 -u -z "$m" || true
		fi
	done
	"$cluster" down --dir "$dir" >&2 || echo "cleanup: cairn-cluster down failed" >&2
	# Never remove the directory while something is still mounted in it.
	if ((rc == 0)) && ! mounted "$mnt" && ! mounted "$mnt2"; then
		rm -rf "$dir"
	else
		echo "kept $dir" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

fail() {
	local f
	echo "FAIL: $*" >&2
	for f in "$dir"/log/*.log "$dir/fuse2.log"; do
		[[ -f $f ]] && { echo "---- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

step() {
	echo "== $(date +%T) $*"
}

step "cairn-cluster up --shards 2 --mount $mnt"
conf=$("$cluster" up --dir "$dir" --build "$build" --shards 2 --chunk 64K --mount "$mnt") ||
	fail "cairn-cluster up exited $?"
mounted "$mnt" || fail "$mnt is not mounted after cairn-cluster up"

# The second mount: cairn-fuse may detach itself or stay in the foreground,
# so it runs in the background and the mount point is watched.
step "second mount at $mnt2"
"$fuse_bin" -c "$conf" -o allow_other,default_permissions "$mnt2" >"$dir/fuse2.log" 2>&1 &
fuse_pid=$!
fuse_done=0
for _ in $(seq 300); do
	mounted "$mnt2" && break
	if ((fuse_done == 0)) && ! kill -0 "$fuse_pid" 2>/dev/null; then
		fuse_done=1
		rc=0
		wait "$fuse_pid" || rc=$?
		((rc == 0)) || fail "cairn-fuse -c $conf $mnt2 exited $rc"
	fi
	sleep 0.1
done
mounted "$mnt2" || fail "$mnt2 is not mounted 30 s after cairn-fuse started"

step "posix_check $mnt/p $mnt2/p"
mkdir "$mnt/p"
"$posix_check" "$mnt/p" "$mnt2/p" || fail "posix_check found failures (above)"

ops=${CAIRN_FSX_OPS:-100000}
step "fsx_cairn: $ops operations on $mnt/fsx.dat"
"$fsx" -N "$ops" "$mnt/fsx.dat" "$dir/ref/fsx.dat" || fail "fsx_cairn failed (above)"

step "tar of $src into $mnt/src, and back"
tar -C "$src" --exclude-vcs --exclude-tag-all=build.ninja -cf "$dir/ref/src.tar" . ||
	fail "tar of $src failed"
mkdir "$mnt/src" "$dir/ref/src"
tar -C "$dir/ref/src" -xf "$dir/ref/src.tar" || fail "tar extraction to $dir/ref/src failed"
tar -C "$mnt/src" -xf "$dir/ref/src.tar" || fail "tar extraction into the mount failed"
diff -r "$dir/ref/src" "$mnt/src" || fail "diff -r: the tree in the mount differs"
tar -C "$mnt/src" --compare -f "$dir/ref/src.tar" ||
	fail "tar --compare: the tree in the mount differs"
diff -r "$dir/ref/src" "$mnt2/src" || fail "diff -r: the tree through the second mount differs"

step "done"
echo "PASS"
