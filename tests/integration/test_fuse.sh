#!/usr/bin/env bash
# test_fuse.sh - the FUSE mount end to end (suite 'fuse'): tools/cairn-cluster
# up --mount on a temporary directory, then through the mount: a few MiB
# written with dd from /dev/urandom and read back byte for byte (cmp),
# mkdir/ls/rename/rm, extended attributes (setfattr/getfattr, else python3),
# statfs (df); cairn-fuse killed with SIGKILL leaves a mount that answers
# ENOTCONN, mount.cairn remounts it and the data is still there; umount and
# fusermount3 -u both unmount; errors of cairn-fuse and mount.cairn are one
# clear line; down unmounts and stops everything.  Whatever happens, the
# mounts are undone and the cluster stopped at exit.
#
# Usage: test_fuse.sh CAIRN_CLUSTER BUILDDIR.  Exits 77 (skipped, with the
# reason) when not root, without /dev/fuse or fusermount3, or when the
# binaries are not built.
set -euo pipefail

script=$1
build=$2
fuse_bin=$build/client/fuse/cairn-fuse
mount_bin=$build/client/fuse/mount.cairn

skip() {
	echo "SKIP: $*"
	exit 77
}
[[ $(id -u) == 0 ]] || skip "not root (FUSE mounts need root here)"
[[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
command -v fusermount3 >/dev/null || skip "fusermount3 is not installed (apt install fuse3)"
for b in "$fuse_bin" "$mount_bin" "$build/mds/cairn-mds" "$build/osd/cairn-osd" \
	"$build/tools/cairnctl"; do
	[[ -x $b ]] || skip "$b is not built"
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-fuse-test-XXXXXX")
mnt=$dir/mnt
declare -a extra_pids=()

mounted() {
	M=$mnt awk '$5 == ENVIRON["M"] && / - fuse\.cairn / { found = 1 } END { exit !found }' \
		/proc/self/mountinfo
}

# A process that runs (not a zombie waiting to be reaped).
alive() {
	local state
	[[ -r /proc/$1/stat ]] || return 1
	state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

# Waits up to 5 s for pid $1 to end; false if it still runs.
wait_gone() {
	for _ in $(seq 100); do
		alive "$1" || return 0
		sleep 0.05
	done
	return 1
}

cleanup() {
	local rc=$? pid
	trap - EXIT
	for _ in 1 2 3; do
		mounted || break
		fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	done
	"$script" down --dir "$dir" >/dev/null 2>&1 || true
	for pid in "${extra_pids[@]}"; do
		[[ -r /proc/$pid/cmdline ]] && grep -q cairn-fuse "/proc/$pid/cmdline" &&
			kill -KILL "$pid" 2>/dev/null
	done
	if mounted; then
		echo "cleanup: $mnt is still mounted; $dir kept" >&2
	elif ((rc == 0)); then
		rm -rf --one-file-system "$dir"
	else
		echo "kept $dir" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$dir"/log/fuse.log "$dir"/log/mds0.log; do
		[[ -f $f ]] && { echo "---- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

# Runs "$@" expecting failure with exit status $1 and one line matching $2
# (after the usage, for bad usage).
expect_fail() {
	local want_rc=$1 want_msg=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	((rc == want_rc)) || fail "$* exited $rc, expected $want_rc: $out"
	out=$(grep -v '^usage: \|^  ' <<<"$out")
	grep -q -- "$want_msg" <<<"$out" || fail "$*: expected '$want_msg', got: $out"
	(($(wc -l <<<"$out") == 1)) || fail "$*: expected one line, got: $out"
}

fuse_pid() { cat "$dir/run/fuse.pid"; }

seed=${TEST_SEED:-$RANDOM}
echo "seed $seed (data from /dev/urandom; the seed only picks the sizes)"
RANDOM=$seed
size1=$(((3 << 20) + RANDOM)) # a few MiB, not stripe-aligned

# 1. up --mount: the cluster and the mount, shown in mountinfo as fuse.cairn.
conf=$("$script" up --dir "$dir" --build "$build" --mount "$mnt" 2>"$dir/up.log") ||
	fail "up --mount exited $?: $(cat "$dir/up.log")"
mounted || fail "$mnt is not in /proc/self/mountinfo after up"
grep -q " $mnt fuse.cairn " /proc/mounts || fail "/proc/mounts: $(grep "$mnt" /proc/mounts)"
out=$("$script" status --dir "$dir" 2>&1) || fail "status exited $?: $out"
grep -q "^fuse   running .* mounted on $mnt" <<<"$out" || fail "status: $out"
out=$("$script" up --dir "$dir" --build "$build" --mount "$mnt" 2>&1 >/dev/null) ||
	fail "a second up --mount failed: $out"
grep -q "already mounted" <<<"$out" || fail "a second up --mount did not report the mount: $out"

# 2. Data byte for byte: dd in, cmp out, reread with another block size.
dd if=/dev/urandom of="$dir/ref" bs=$size1 count=1 iflag=fullblock status=none
dd if="$dir/ref" of="$mnt/data" bs=1M status=none || fail "dd into the mount failed"
cmp "$dir/ref" "$mnt/data" || fail "data read back differs"
[[ $(stat -c %s "$mnt/data") == "$size1" ]] || fail "size $(stat -c %s "$mnt/data") != $size1"
dd if="$mnt/data" of="$dir/back" bs=4096 status=none
cmp "$dir/ref" "$dir/back" || fail "data read back with 4 KiB reads differs"
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
cmp "$dir/ref" "$mnt/data" || fail "data read back with a cold page cache differs"
printf 'tail' >>"$mnt/data"
[[ $(tail -c 4 "$mnt/data") == tail ]] || fail "append did not land at the end"

# 2b. One file through several descriptors of this mount: what one writes
# or truncates, the others read and stat see at once, before any close;
# a shared writable mapping reaches the file.
if command -v python3 >/dev/null; then
	python3 - "$mnt/multi" "$seed" <<'EOF' || fail "several descriptors of one file"
import mmap, os, random, sys
path, seed = sys.argv[1], int(sys.argv[2])
random.seed(seed)
data = random.randbytes(3 * 1024 * 1024 + random.randrange(4096))
w = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
r = os.open(path, os.O_RDONLY)
os.pwrite(w, data, 0)
assert os.fstat(r).st_size == len(data), "size seen by another descriptor"
assert os.pread(r, len(data) + 100, 0) == data, "data through another descriptor"
os.ftruncate(w, 1000)
assert os.stat(path).st_size == 1000, "size after truncate"
os.ftruncate(w, 5000)
assert os.pread(r, 9000, 0) == data[:1000] + bytes(4000), "hole after truncate up"
os.close(w)
os.close(r)
assert os.stat(path).st_size == 5000, "size after close"
os.truncate(path, 10)
assert open(path, "rb").read() == data[:10], "truncate by path"
fd = os.open(path, os.O_RDWR)
os.ftruncate(fd, 1 << 20)
m = mmap.mmap(fd, 1 << 20)
m[:] = data[: 1 << 20]
m.flush()
m.close()
os.close(fd)
assert open(path, "rb").read() == data[: 1 << 20], "shared mapping"
os.unlink(path)
EOF
else
	echo "note: no python3: several descriptors of one file not checked"
fi

# 3. Names: mkdir, ls, rename, rm.
mkdir -p "$mnt/d1/d2"
echo hello >"$mnt/d1/d2/f"
[[ $(ls "$mnt/d1/d2") == f ]] || fail "ls: $(ls -la "$mnt/d1/d2")"
mv "$mnt/d1/d2/f" "$mnt/d1/g"
[[ ! -e $mnt/d1/d2/f && $(cat "$mnt/d1/g") == hello ]] || fail "rename"
mv "$mnt/d1/d2" "$mnt/d3"
[[ -d $mnt/d3 && ! -e $mnt/d1/d2 ]] || fail "rename of a directory"
rm "$mnt/d1/g"
rmdir "$mnt/d3" "$mnt/d1"
[[ $(ls -A "$mnt") == data ]] || fail "after rm: $(ls -A "$mnt")"

# 4. Extended attributes.
if command -v setfattr >/dev/null && command -v getfattr >/dev/null; then
	setfattr -n user.cairn -v 42 "$mnt/data"
	[[ $(getfattr --only-values -n user.cairn "$mnt/data") == 42 ]] || fail "getfattr"
	setfattr -x user.cairn "$mnt/data"
	getfattr -n user.cairn "$mnt/data" >/dev/null 2>&1 && fail "xattr still there"
elif command -v python3 >/dev/null; then
	python3 - "$mnt/data" <<'EOF' || fail "xattrs through python3"
import errno, os, sys
p = sys.argv[1]
os.setxattr(p, "user.cairn", b"42")
assert os.getxattr(p, "user.cairn") == b"42"
assert "user.cairn" in os.listxattr(p)
os.removexattr(p, "user.cairn")
try:
    os.getxattr(p, "user.cairn")
    sys.exit(1)
except OSError as e:
    assert e.errno == errno.ENODATA
EOF
else
	echo "note: neither setfattr nor python3: extended attributes not checked"
fi

# 5. statfs: df sees a fuse.cairn file system with some size.
read -r fstype blocks < <(df -T -P -k "$mnt" | awk 'NR == 2 { print $2, $3 }')
[[ $fstype == fuse.cairn ]] || fail "df type '$fstype'"
((blocks > 0)) || fail "df shows $blocks blocks"

# 6. SIGKILL: the mount stays, dead (ENOTCONN); mount.cairn remounts it.
pid=$(fuse_pid)
kill -KILL "$pid"
wait_gone "$pid" || fail "cairn-fuse survived SIGKILL"
# (stat may still be answered from the kernel's attribute cache for a moment.)
err=$(ls "$mnt" 2>&1) && fail "ls of the dead mount succeeded"
# ENOTCONN, or ECONNABORTED for a request the kernel had queued when the
# daemon's descriptor was closed.
grep -qE "Transport endpoint is not connected|Software caused connection abort" <<<"$err" ||
	fail "dead mount: $err"
"$script" status --dir "$dir" >/dev/null 2>&1 && fail "status succeeded with a dead mount"
"$mount_bin" "$conf" "$mnt" -o rw,defaults,_netdev,nofail,x-systemd.automount ||
	fail "mount.cairn over the dead mount failed"
mounted || fail "mount.cairn did not mount"
extra_pids+=("$(pgrep -n -f "cairn-fuse -c $conf")")
cmp "$dir/ref" <(head -c "$size1" "$mnt/data") || fail "data differs after the remount"

# 7. umount(8) unmounts, and the daemon ends.
pid=${extra_pids[-1]}
umount "$mnt" || fail "umount failed"
mounted && fail "still mounted after umount: $(grep "$mnt" /proc/self/mountinfo)"
wait_gone "$pid" || fail "cairn-fuse runs on after umount"

# 8. cairn-fuse by hand (daemon), then fusermount3 -u.
"$fuse_bin" -c "$conf" -o entry_timeout=0.5,attr_timeout=0.5,default_permissions "$mnt" ||
	fail "cairn-fuse failed"
extra_pids+=("$(pgrep -n -f "cairn-fuse -c $conf")")
mounted || fail "cairn-fuse returned before the mount was up"
cmp "$dir/ref" <(head -c "$size1" "$mnt/data") || fail "data differs on the third mount"
pid=${extra_pids[-1]}
fusermount3 -u "$mnt" || fail "fusermount3 -u failed"
mounted && fail "still mounted after fusermount3 -u"
wait_gone "$pid" || fail "cairn-fuse runs on after fusermount3 -u"

# 9. Errors: one line each, before anything is mounted.
expect_fail 1 "mount point $dir/nowhere: No such file" "$fuse_bin" -c "$conf" "$dir/nowhere"
expect_fail 1 "is not a directory" "$fuse_bin" -c "$conf" "$dir/ref"
expect_fail 1 "cannot read configuration" "$fuse_bin" -c "$dir/none.conf" "$mnt"
printf 'cluster = { name = "x"; };\nmds = 3;\n' >"$dir/bad.conf"
expect_fail 1 "bad.conf:" "$fuse_bin" -c "$dir/bad.conf" "$mnt"
expect_fail 1 "bad option 'entry_timeout=-1'" "$fuse_bin" -c "$conf" -o entry_timeout=-1 "$mnt"
expect_fail 1 "unknown option.*frobnicate" "$fuse_bin" -c "$conf" -o frobnicate "$mnt"
expect_fail 32 "configuration /etc/cairn/no-such-cluster.conf" "$mount_bin" no-such-cluster "$mnt"
expect_fail 1 "expected CONF_OR_NAME and MOUNTPOINT" "$mount_bin" "$conf"
out=$("$mount_bin" -fv "$conf" "$mnt" -o ro,noauto,user,allow_other 2>&1) ||
	fail "mount.cairn -fv failed: $out"
[[ $out == *"cairn-fuse -c $conf -o ro,allow_other $mnt" ]] || fail "mount.cairn -fv: $out"
mounted && fail "mount.cairn -f mounted"

# 10. down unmounts what up mounted; an unreachable cluster is one line.
"$script" up --dir "$dir" --build "$build" --mount "$mnt" >/dev/null 2>&1 || fail "up again"
mounted || fail "up did not mount again"
"$script" down --dir "$dir" 2>/dev/null || fail "down failed"
mounted && fail "down left the mount"
[[ -z $(pgrep -f "cairn-fuse -f -c $conf" || true) ]] || fail "down left cairn-fuse running"
start=$SECONDS
expect_fail 1 "cannot reach the cluster" "$fuse_bin" -c "$conf" "$mnt"
((SECONDS - start < 30)) || fail "the unreachable cluster took $((SECONDS - start)) s to report"
echo "PASS"
