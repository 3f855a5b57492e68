#!/usr/bin/env bash
# test_cairn_cluster.sh - tools/cairn-cluster up/status/down on loopback
# (suite 'mds'): up starts the shards and prints the configuration, a second
# up is harmless (same pids), status reports them, cairnctl's verbs work on
# the cluster (pools, OSDs, errors, fsck), up restarts a shard that died,
# down stops exactly the recorded pids and leaves no process behind, status
# then fails, bad arguments exit 2.  Whatever happens, the recorded pids are stopped at exit.
#
# Usage: test_cairn_cluster.sh CAIRN_CLUSTER BUILDDIR.  Exits 77 when the
# daemon or cairnctl is not built.
set -euo pipefail

script=$1
build=$2
if [[ ! -x $build/mds/cairn-mds || ! -x $build/tools/cairnctl ]]; then
	echo "SKIP: $build/mds/cairn-mds or $build/tools/cairnctl is not built"
	exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-cluster-test-XXXXXX")
declare -a pids=()

cleanup() {
	local rc=$? pid
	# Never leave a daemon behind, even if the script under test failed to.
	for pid in "${pids[@]}"; do
		if [[ -r /proc/$pid/cmdline ]] && tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1 |
			grep -q 'cairn-mds$'; then
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

# A process that runs (not a zombie waiting to be reaped).
alive() {
	local state
	[[ -r /proc/$1/stat ]] || return 1
	state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

read_pids() {
	pids=()
	local f
	for f in "$dir"/run/mds*.pid; do
		[[ -f $f ]] && pids+=("$(cat "$f")")
	done
}

# 1. up: prints the configuration's path, and nothing else, on stdout.
conf=$("$script" up --dir "$dir" --build "$build" --shards 3 --osd 0 --pool rep:2) ||
	fail "up exited $?"
[[ $conf == "$dir/cairn.conf" ]] || fail "up printed '$conf'"
[[ $(stat -c %a "$dir/cairn.key") == 600 ]] || fail "cairn.key is not mode 0600"
grep -q 'scheme = "rep:2"' "$conf" || fail "the pool is not in $conf"
read_pids
((${#pids[@]} == 3)) || fail "expected 3 pid files, found ${#pids[@]}"
for pid in "${pids[@]}"; do
	alive "$pid" || fail "pid $pid is not running"
	tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1 | grep -q 'cairn-mds$' ||
		fail "pid $pid is not cairn-mds"
done
"$build/tools/cairnctl" -c "$conf" status >/dev/null || fail "cairnctl status failed"

# 2. up again: harmless, same processes, same configuration.
before="${pids[*]}"
conf2=$("$script" up --dir "$dir" --build "$build" 2>/dev/null) || fail "second up failed"
[[ $conf2 == "$conf" ]] || fail "second up printed '$conf2'"
read_pids
[[ "${pids[*]}" == "$before" ]] || fail "second up changed the pids: $before -> ${pids[*]}"

# 3. status: each daemon running, and the cluster's status.
out=$("$script" status --dir "$dir") || fail "status exited $?"
[[ $(grep -c ' running ' <<<"$out") == 3 ]] || fail "status: $out"
grep -q '3 of 3 reachable' <<<"$out" || fail "status: $out"

# 4. cairnctl against the running cluster: pools, OSDs, errors, fsck.
ctl() { "$build/tools/cairnctl" -c "$conf" "$@"; }
ctl pool create fast --scheme rep:3 --chunk-size 4M >/dev/null || fail "pool create failed"
rc=0
err=$(ctl pool create fast --scheme rep:3 2>&1 >/dev/null) || rc=$?
if ((rc != 1)) || ! grep -q 'exists' <<<"$err"; then fail "duplicate pool: exit $rc, '$err'"; fi
ctl pool ls | grep -q '^2 *fast *rep:3 *4M' || fail "pool ls: $(ctl pool ls)"
ctl --json pool ls | grep -q '"name":"fast","scheme":"rep:3"' || fail "pool ls --json"
ctl osd ls | grep -q 'no OSDs registered' || fail "osd ls: $(ctl osd ls)"
rc=0
err=$(ctl osd out 7 2>&1) || rc=$?
if ((rc != 1)) || ! grep -q 'no such OSD' <<<"$err"; then fail "osd out 7: exit $rc, '$err'"; fi
rc=0
ctl quota ls 2>/dev/null || rc=$?
((rc == 2)) || fail "quota exited $rc"
ctl --json status | grep -q '"shards_reachable":3' || fail "status --json: $(ctl --json status)"
ctl fsck --no-progress | grep -q 'fsck: clean' || fail "fsck: $(ctl fsck --no-progress)"

# 5. a shard that died is restarted by up, the others are kept.
kill -KILL "${pids[1]}"
while alive "${pids[1]}"; do sleep 0.05; done
"$script" status --dir "$dir" >/dev/null 2>&1 && fail "status succeeded with a dead shard"
"$script" up --dir "$dir" --build "$build" >/dev/null 2>&1 || fail "up after a crash failed"
old=("${pids[@]}")
read_pids
[[ ${pids[0]} == "${old[0]}" && ${pids[2]} == "${old[2]}" ]] || fail "up restarted live shards"
if [[ ${pids[1]} == "${old[1]}" ]] || ! alive "${pids[1]}"; then
	fail "shard 1 was not restarted"
fi

# 6. down: exactly the recorded pids, none left, pid files removed.
"$script" down --dir "$dir" || fail "down exited $?"
for pid in "${pids[@]}"; do
	for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
	alive "$pid" && fail "pid $pid still runs after down"
done
compgen -G "$dir/run/*.pid" >/dev/null && fail "pid files left after down"
"$script" status --dir "$dir" >/dev/null 2>&1 && fail "status succeeded after down"
"$script" down --dir "$dir" 2>/dev/null || fail "a second down failed"

# 7. bad arguments: exit 2 with usage.
rc=0
"$script" up --dir "$dir" --shards 0 2>/dev/null || rc=$?
((rc == 2)) || fail "--shards 0 exited $rc"
rc=0
"$script" up --dir "$dir" --pool ec:4 2>/dev/null || rc=$?
((rc == 2)) || fail "--pool ec:4 exited $rc"
rc=0
"$script" frob 2>/dev/null || rc=$?
((rc == 2)) || fail "unknown verb exited $rc"
rc=0
"$script" status 2>/dev/null || rc=$?
((rc == 2)) || fail "status without --dir exited $rc"
echo "PASS"
