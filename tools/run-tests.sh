#!/bin/bash
# run-tests.sh - install every dependency (tools/install-deps.sh), build, and
# run every test suite: once with gcc, once more with AddressSanitizer and
# UndefinedBehaviorSanitizer, and a libFuzzer smoke run built with clang.
# Exits non-zero on any failure.
#
# Usage: tools/run-tests.sh [--no-install] [--quick]
#   --no-install  skip apt-get (dependencies already present)
#   --quick       plain build and tests only (no sanitizer or fuzz pass)
# Environment: FUZZ_SECONDS (default 30) per fuzz target; CAIRN_FSX_OPS_SAN
# (default 5000) fsx operations in the sanitizer pass.
set -euo pipefail

cd "$(dirname "$0")/.."
INSTALL=1
QUICK=0
for arg in "$@"; do
	case "$arg" in
	--no-install) INSTALL=0 ;;
	--quick) QUICK=1 ;;
	*) echo "run-tests.sh: unknown argument '$arg'" >&2; exit 2 ;;
	esac
done

if [ "$INSTALL" = 1 ]; then
	tools/install-deps.sh
fi

# run_suites DIR [SUITE] -- MESON_OPTIONS...: configure and build DIR, then
# run every suite (or only SUITE).
run_suites() {
	local dir=$1 suite=$2
	shift 3
	echo "== building $dir"
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@"
	else
		meson setup "$dir" "$@"
	fi
	meson compile -C "$dir"
	echo "== testing $dir ${suite:-(all suites)}"
	meson test -C "$dir" --print-errorlogs --num-processes 2 ${suite:+--suite "$suite"}
}

run_suites build "" --

if [ "$QUICK" = 1 ]; then
	exit 0
fi

# The sanitizer pass runs the same suites with the long data runs shortened
# (they ran at full length above): a few times slower code, same paths.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
CAIRN_FSX_OPS=${CAIRN_FSX_OPS_SAN:-5000} CAIRN_TEST_SHORT=1 \
	run_suites build-san "" -- -Dsanitize=address,undefined

echo "== fuzz smoke run"
# The clang build also proves the tree compiles warning-free with clang; its
# tests are the fuzz suite only (the others ran twice above).  clang leaves
# the sanitizer runtime out of shared libraries (libcairn.so), so they must
# be allowed undefined symbols there: b_lundef=false.
CC=clang run_suites build-fuzz fuzz -- -Dfuzz=true -Dsanitize=address,undefined -Db_lundef=false
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
for target in build-fuzz/tests/fuzz/fuzz_*; do
	if [ ! -f "$target" ] || [ ! -x "$target" ]; then continue; fi # not fuzz_*.p/
	name=$(basename "$target")
	corpus=$(mktemp -d)
	cp tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null || true
	echo "-- $name for ${FUZZ_SECONDS}s"
	"$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$corpus" \
		> "build-fuzz/$name.log" 2>&1 || {
		tail -50 "build-fuzz/$name.log"
		echo "fuzz target $name crashed" >&2
		exit 1
	}
	grep -E 'stat::number_of_executed_units|Done' "build-fuzz/$name.log" || true
	rm -rf "$corpus"
done
echo "== all suites passed"
