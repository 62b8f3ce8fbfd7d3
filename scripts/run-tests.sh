#!/usr/bin/env bash
# Installs everything the tests need, builds tessera twice and runs the
# whole test suite:
#   1. build/ci        -Werror, all tests (unit, integration, real VM, fuzz)
#   2. build/ci-asan   -Werror with ASan+UBSan, all tests once more except
#                      the fuzz run (already sanitized) and the real-VM
#                      tier (TCG guests under ASan take too long for CI)
#                      and the packaging tier (it builds the packages from
#                      source, without the sanitizers)
#
# Every tier runs or the run fails: a test that skips (meson's SKIP, exit
# 77) fails the run, named with its reason, unless its tier (meson suite)
# was allowed to skip with --allow-skip; the summary at the end lists every
# skip either way. With CI=true the Python tests fail instead of skipping
# (tests/lib/tessera_test.py).
#
#   scripts/run-tests.sh [--no-install] [--quick] [--allow-skip TIER]...
#                        [-- MESON-TEST-ARGS...]
#     --quick               only the first build (no sanitizer pass)
#     --allow-skip TIER     the tests of TIER (a suite: agent, vm, fuzz, ...;
#                           or a comma list) may skip: configures the builds
#                           with -Dskip-tiers, so that a missing dependency
#                           of the tier is no configure error either
#     -- MESON-TEST-ARGS    passed to both meson test runs (e.g. --suite
#                           compositor): a partial run, said so in the summary
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
install=1
quick=0
allow_skip=()
test_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--no-install) install=0 ;;
	--quick) quick=1 ;;
	--allow-skip)
		[ $# -ge 2 ] || { echo "run-tests.sh: --allow-skip needs a tier" >&2; exit 2; }
		IFS=, read -ra tiers <<<"$2"
		allow_skip+=("${tiers[@]}")
		shift
		;;
	--) shift; test_args=("$@"); break ;;
	*) echo "run-tests.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
skip_tiers=$(IFS=,; echo "${allow_skip[*]}")

if [ "$install" = 1 ]; then
	"$here/scripts/install-deps.sh" --tests
	"$here/scripts/install-vm-deps.sh"
fi

# The tests start their own compositors; never let them talk to a
# desktop session this script may have been started from.
unset WAYLAND_DISPLAY WAYLAND_SOCKET DISPLAY
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d /tmp/tessera-runtime.XXXXXX)}"
mkdir -p "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

status=0
summary=()
run_build() {
	local dir=$1; shift
	local setup_args=(-Dwerror=true "-Dskip-tiers=$skip_tiers" "$@")
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$here" "${setup_args[@]}"
	else
		meson configure "$dir" "${setup_args[@]}" >/dev/null
	fi
	ninja -C "$dir"
}

# Reads the run's meson-logs/testlog.json: prints every skipped test with
# the reason it gave ("SKIP: ..." on its output) and whether its tier may
# skip; exits 1 if one may not.
check_skips() {
	python3 - "$1/meson-logs/testlog.json" "$skip_tiers" <<'EOF'
import json
import sys

path, allowed = sys.argv[1], [t for t in sys.argv[2].split(",") if t]
bad = 0
with open(path) as f:
    for line in f:
        r = json.loads(line)
        if r["result"] != "SKIP":
            continue
        # "tessera:agent+vm / name": the suites before " / "
        suites = r["name"].split(" / ")[0].split(":", 1)[-1].split("+")
        out = (r.get("stdout") or "") + (r.get("stderr") or "")
        why = [l.strip() for l in out.splitlines() if l.strip().startswith("SKIP")]
        why = "; ".join(why) or ("(no reason given) " + " | ".join(out.splitlines()[-3:]))
        tiers = [s for s in suites if s in allowed]
        if tiers:
            print(f"!!! SKIPPED (allowed: --allow-skip {tiers[0]}): {r['name']}: {why}")
        else:
            print(f"!!! SKIPPED, NOT ALLOWED: {r['name']}: {why}")
            bad += 1
if bad:
    print(f"!!! {bad} test(s) skipped: every tier must run (scripts/install-deps.sh "
          "--tests and scripts/install-vm-deps.sh install what they need; "
          "--allow-skip TIER lets a tier skip)")
sys.exit(1 if bad else 0)
EOF
}

# meson test in build dir $1 with the arguments after it; then the skips.
run_tests() {
	local dir=$1; shift
	local name
	name=${dir#"$here"/}
	local tests_ok=1 skips_ok=1
	meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" "${test_args[@]}" \
		|| tests_ok=0
	local report
	report=$(check_skips "$dir") || skips_ok=0
	[ -z "$report" ] || echo "$report"
	local why=()
	[ "$tests_ok" = 1 ] || why+=("tests failed")
	[ "$skips_ok" = 1 ] || why+=("tests skipped")
	if [ "${#why[@]}" = 0 ]; then
		summary+=("$name: passed")
	else
		status=1
		summary+=("$name: FAILED: $(IFS=,; echo "${why[*]}")")
	fi
	[ -z "$report" ] || summary+=("$report")
}

echo "=== build with -Werror"
run_build "$here/build/ci"
echo "=== tests"
run_tests "$here/build/ci"

if [ "$quick" = 0 ]; then
	echo "=== build with -Werror, ASan and UBSan"
	run_build "$here/build/ci-asan" -Db_sanitize=address,undefined -Db_lundef=false
	echo "=== tests under ASan+UBSan"
	# The sanitizer options (tests/lsan.supp among them) come with the
	# build: the default test setup of a sanitized build (tests/meson.build).
	run_tests "$here/build/ci-asan" --no-suite fuzz --no-suite vm --no-suite packaging
fi

echo
echo "=== summary"
if [ "${#allow_skip[@]}" -gt 0 ]; then
	echo "!!! SKIPS ALLOWED for the tiers: ${allow_skip[*]} (--allow-skip)"
fi
if [ "${#test_args[@]}" -gt 0 ]; then
	echo "!!! PARTIAL RUN: meson test ${test_args[*]}"
fi
if [ "$quick" = 1 ]; then
	echo "!!! no sanitizer pass (--quick)"
fi
for line in "${summary[@]}"; do
	echo "$line"
done
exit "$status"
