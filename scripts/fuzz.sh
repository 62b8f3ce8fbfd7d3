#!/usr/bin/env bash
# Long fuzzing runs (the test suite's are 30 s per target):
#
#   scripts/fuzz.sh --hours N [--jobs J] [--dir DIR] [TARGET...]
#
# Builds every TARGET (default: all of tests/fuzz/build-fuzz.sh's) with
# clang's libFuzzer, ASan and UBSan, then fuzzes them, J at a time
# (default: the number of CPUs), each for its share of the N hours
# (N hours * J / number of targets, J at most that number; N may be a
# fraction), one libFuzzer process per target. Each target's corpus grows in DIR/TARGET/corpus (default DIR:
# build/fuzz-long) from one run to the next, starting from the committed
# seeds in tests/fuzz/corpus/TARGET; crash reproducers go to
# DIR/TARGET/crash-* (leak-, timeout-, oom-), the log to DIR/TARGET/log.
#
# Prints, per target: executions, executions per second, coverage
# (libFuzzer's cov: edges, ft: features), corpus size and every reproducer
# written by this run; exits 1 if a target crashed (or its run failed), 2
# for a bad command line, 77 if clang or its libFuzzer runtime is missing.
# A reproducer replays with DIR/TARGET/fuzz-TARGET REPRODUCER, or with the
# project compiler's build/tests/fuzz/fuzz-TARGET-replay REPRODUCER.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
all_targets=(wire virtqueue vhost-user config vmd-gpu guest-memory agent-ring virgl)

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

hours=
jobs=$(nproc)
dir=$here/build/fuzz-long
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--hours) hours=${2:-}; shift 2 || usage ;;
	--jobs) jobs=${2:-}; shift 2 || usage ;;
	--dir) dir=${2:-}; shift 2 || usage ;;
	-h|--help) usage ;;
	-*) echo "fuzz.sh: unknown option '$1'" >&2; usage ;;
	*) targets+=("$1"); shift ;;
	esac
done
if [ -z "$hours" ] || ! [[ "$hours" =~ ^[0-9]+([.][0-9]+)?$ ]] ||
		! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
	usage
fi
if [ ${#targets[@]} -eq 0 ]; then
	targets=("${all_targets[@]}")
fi
for t in "${targets[@]}"; do
	if ! printf '%s\n' "${all_targets[@]}" | grep -qx -- "$t"; then
		echo "fuzz.sh: unknown target '$t' (${all_targets[*]})" >&2
		exit 2
	fi
done
# each target's share of the wall time, in whole seconds (at least 10)
share=$(awk -v h="$hours" -v j="$jobs" -v n="${#targets[@]}" \
	'BEGIN { s = int(h * 3600 * (j < n ? j : n) / n); print (s < 10 ? 10 : s) }')

echo "=== building ${targets[*]} in $dir"
mkdir -p "$dir"
for t in "${targets[@]}"; do
	status=0
	"$here/tests/fuzz/build-fuzz.sh" "$here" "$dir/$t" "$t" >"$dir/$t.build.log" 2>&1 ||
		status=$?
	if [ "$status" -ne 0 ]; then
		cat "$dir/$t.build.log" >&2
		exit "$status" # 77: no clang or libFuzzer
	fi
done

# One target's run (tests/fuzz/run-fuzz.sh on the target built above,
# keeping its corpus); its status goes to DIR/TARGET/status.
run_target() {
	local t=$1 work=$dir/$1
	touch "$work/started"
	local status=0
	FUZZ_PREBUILT=1 FUZZ_KEEP_CORPUS=1 "$here/tests/fuzz/run-fuzz.sh" "$here" \
		"$work" "$share" "$t" >"$work/log" 2>&1 || status=$?
	echo "$status" >"$work/status"
}

echo "=== fuzzing for ${share}s per target, $jobs at a time (about $hours h)"
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	echo "    $t"
	run_target "$t" &
	running=$((running + 1))
done
wait

# The value of a libFuzzer final stat, or "?".
stat() {
	local v
	v=$(sed -n "s/^stat::$2: *//p" "$1" | tail -n 1)
	echo "${v:-?}"
}

echo "=== results"
printf '%-13s %12s %8s %7s %8s %8s  %s\n' target executions exec/s cov ft corpus result
failed=0
for t in "${targets[@]}"; do
	work=$dir/$t
	log=$work/log
	status=$(cat "$work/status" 2>/dev/null || echo 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	mapfile -t found < <(find "$work" -maxdepth 1 -newer "$work/started" \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
		sort)
	result=ok
	if [ "${#found[@]}" -gt 0 ] || [ "$status" != 0 ]; then
		result="FAILED (exit $status)"
		failed=1
	fi
	printf '%-13s %12s %8s %7s %8s %8s  %s\n' "$t" \
		"$(stat "$log" number_of_executed_units)" \
		"$(stat "$log" average_exec_per_sec)" "${cov:-?}" "${ft:-?}" \
		"$(find "$work/corpus" -type f | wc -l)" "$result"
	for f in "${found[@]}"; do
		echo "    reproducer: $f"
	done
	if [ "$result" != ok ]; then
		echo "    log: $log"
	fi
done
exit "$failed"
