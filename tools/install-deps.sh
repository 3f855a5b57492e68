#!/bin/bash
# install-deps.sh - install the Debian 12 packages that building, testing and
# mounting Cairn need, and fio for tools/bench/fuse-bench (apt-get; through
# sudo when not root).  Run by
# tools/run-tests.sh and tools/quickstart.sh; harmless to run again.
#
# Usage: tools/install-deps.sh
set -euo pipefail

PACKAGES=(
	meson ninja-build pkg-config gcc clang libclang-rt-14-dev
	libfuse3-dev fuse3 liburing-dev librocksdb-dev libisal-dev libzstd-dev
	libconfig-dev libcmocka-dev libibverbs-dev librdmacm-dev libssl-dev
	python3 iproute2 procps psmisc shellcheck attr fio
)

if [ "$#" -gt 0 ]; then
	echo "install-deps.sh: takes no arguments" >&2
	exit 2
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "== installing dependencies"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
	"${PACKAGES[@]}"
