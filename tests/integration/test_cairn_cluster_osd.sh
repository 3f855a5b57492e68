#!/usr/bin/env bash
# test_cairn_cluster_osd.sh - tools/cairn-cluster with OSDs (suite 'osd'):
# up --osd 6 --hosts 3 starts one cairn-mds shard and six cairn-osd
# processes in three fake hosts and returns once the map shows them up,
# status lists them, up restarts an OSD that died and nothing else, the
# recorded layout wins over a different --osd, down stops exactly the
# recorded pids.  Whatever happens, the recorded pids are stopped at exit.
#
# Usage: test_cairn_cluster_osd.sh CAIRN_CLUSTER BUILDDIR.  Exits 77 when a
# daemon or cairnctl is not built.
set -euo pipefail

script=$1
build=$2
for bin in mds/cairn-mds osd/cairn-osd tools/cairnctl; do
	if [[ ! -x $build/$bin ]]; then
		echo "SKIP: $build/$bin is not built"
		exit 77
	fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-cluster-osd-XXXXXX")
declare -a pids=()

# A process that runs a cairn binary (not a zombie waiting to be reaped).
alive() {
	local state
	[[ -r /proc/$1/stat ]] || return 1
	state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

read_pids() {
	pids=()
	local f
	for f in "$dir"/run/*.pid; do
		[[ -f $f ]] && pids+=("$(cat "$f")")
	done
}

cleanup() {
	local rc=$? pid
	read_pids 2>/dev/null || true
	# Never leave a daemon behind, even if the script under test failed to.
	for pid in "${pids[@]}"; do
		if alive "$pid" && tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1 |
			grep -Eq 'cairn-(mds|osd)$'; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	if ((rc == 0)); then rm -rf "$dir"; else echo "kept $dir" >&2; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$dir"/log/*.log; do
		[[ -f $f ]] && { echo "---- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

osd_pid() { cat "$dir/run/osd$1.pid"; }
ctl() { "$build/tools/cairnctl" -c "$conf" -t 5 "$@"; }

# 1. up with six OSDs in three hosts: returns once all are up in the map.
conf=$("$script" up --dir "$dir" --build "$build" --shards 1 --osd 6 --hosts 3 --pool ec:4+2) ||
	fail "up exited $?"
[[ $conf == "$dir/cairn.conf" ]] || fail "up printed '$conf'"
for i in 0 1 2 3 4 5; do
	[[ -f $dir/run/osd$i.pid ]] || fail "no pid file for osd $i"
	pid=$(osd_pid $i)
	alive "$pid" || fail "osd $i (pid $pid) is not running"
	tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1 | grep -q 'cairn-osd$' ||
		fail "pid $pid is not cairn-osd"
	[[ -f $dir/osd$i/superblock ]] || fail "osd $i has no store in $dir/osd$i"
done
json=$(ctl --json osd ls) || fail "cairnctl osd ls failed"
(($(grep -o '"up":true' <<<"$json" | wc -l) == 6)) || fail "not six OSDs up: $json"
for h in 0 1 2; do
	(($(grep -o "\"host\":\"host$h\"" <<<"$json" | wc -l) == 2)) || fail "host$h: $json"
done

# 2. status lists the shard and the OSDs.
out=$("$script" status --dir "$dir") || fail "status exited $?"
(($(grep -c '^osd.* running ' <<<"$out") == 6)) || fail "status: $out"
(($(grep -c '^mds.* running ' <<<"$out") == 1)) || fail "status: $out"

# 3. an OSD that died: status fails, up restarts it and nothing else.
read_pids
before=("$(osd_pid 0)" "$(osd_pid 1)" "$(osd_pid 2)" "$(osd_pid 3)" "$(osd_pid 4)" "$(osd_pid 5)")
kill -KILL "${before[2]}"
while alive "${before[2]}"; do sleep 0.05; done
"$script" status --dir "$dir" >/dev/null 2>&1 && fail "status succeeded with a dead OSD"
"$script" up --dir "$dir" --build "$build" --osd 3 >/dev/null 2>"$dir/up.err" ||
	fail "up after a crash failed"
grep -q 'holds 6 OSD(s) in 3 host(s)' "$dir/up.err" || fail "no note about the layout: $(cat "$dir/up.err")"
for i in 0 1 3 4 5; do
	[[ $(osd_pid $i) == "${before[i]}" ]] || fail "up restarted osd $i"
done
if [[ $(osd_pid 2) == "${before[2]}" ]] || ! alive "$(osd_pid 2)"; then
	fail "osd 2 was not restarted"
fi
(($(ctl --json osd ls | grep -o '"up":true' | wc -l) == 6)) || fail "osd 2 not up again"

# 4. down: exactly the recorded pids, none left, pid files removed.
read_pids
"$script" down --dir "$dir" || fail "down exited $?"
for pid in "${pids[@]}"; do
	for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
	alive "$pid" && fail "pid $pid still runs after down"
done
compgen -G "$dir/run/*.pid" >/dev/null && fail "pid files left after down"
"$script" status --dir "$dir" >/dev/null 2>&1 && fail "status succeeded after down"
echo "PASS"
