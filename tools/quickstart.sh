#!/bin/bash
# quickstart.sh - from a fresh Debian 12 machine to a mounted Cairn file
# system: installs the dependencies (tools/install-deps.sh), builds into
# build/, starts a local cluster in /var/tmp/cairn with the defaults of
# tools/cairn-cluster (2 metadata shards, 6 OSDs in 3 fake hosts, an
# ec:4+2 pool), mounts it on MOUNTPOINT and prints how to use and stop it.
# Running it again is harmless: what runs is reported, not restarted.
#
# Usage: tools/quickstart.sh [--no-install] [MOUNTPOINT]   (default /mnt/cairn)
#   --no-install  skip apt-get (dependencies already present)
set -euo pipefail

cd "$(dirname "$0")/.."
DIR=/var/tmp/cairn
MNT=/mnt/cairn
INSTALL=1
usage() {
	echo "usage: tools/quickstart.sh [--no-install] [MOUNTPOINT]" >&2
	exit 2
}
for arg in "$@"; do
	case "$arg" in
	--no-install) INSTALL=0 ;;
	-*) usage ;;
	*) MNT=$arg ;;
	esac
done
case $MNT in
/*) ;;
*) MNT=$PWD/$MNT ;;
esac
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

if [ "$INSTALL" = 1 ]; then
	tools/install-deps.sh
fi

echo "== building into build/"
[ -f build/build.ninja ] || meson setup build
meson compile -C build

# The mount point: created if missing, and given to the caller when not
# root (cairn-fuse then mounts through fusermount3).  A dead mount left by
# a killed cairn-fuse cannot be stat'ed; cairn-fuse clears it.
if [ ! -d "$MNT" ] && ! mkdir -p "$MNT" 2>/dev/null; then
	if [ -n "$SUDO" ] && $SUDO mkdir -p "$MNT" 2>/dev/null; then
		$SUDO chown "$(id -u):$(id -g)" "$MNT"
	fi
fi

echo "== starting the cluster in $DIR and mounting it on $MNT"
CONF=$(tools/cairn-cluster up --dir "$DIR" --mount "$MNT")

cat <<END

Cairn is mounted on $MNT (cluster in $DIR, configuration $CONF).

  Use it:      cp -r /usr/share/doc $MNT/ && ls $MNT && df -h $MNT
  Status:      tools/cairn-cluster status --dir $DIR
               build/tools/cairnctl -c $CONF status
  Unmount:     fusermount3 -u $MNT      (or: umount $MNT as root)
  Mount again: build/client/fuse/cairn-fuse -c $CONF $MNT
               (or: build/client/fuse/mount.cairn $CONF $MNT)
  Stop all:    tools/cairn-cluster down --dir $DIR
END
