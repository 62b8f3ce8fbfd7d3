#!/usr/bin/env bash
# Installs everything the tests need, builds tessera twice and runs the
# whole test suite:
#   1. build/ci        -Werror, all tests (unit, integration, real VM, fuzz)
#   2. build/ci-asan   -Werror with ASan+UBSan, all tests once more except
#                      the fuzz run (already sanitized) and the real-VM
#                      tier (TCG guests under ASan take too long for CI)
#
#   scripts/run-tests.sh [--no-install] [--quick]
#     --quick   only the first build (no sanitizer pass)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
install=1
quick=0
for arg in "$@"; do
	case "$arg" in
	--no-install) install=0 ;;
	--quick) quick=1 ;;
	*) echo "run-tests.sh: unknown argument '$arg'" >&2; exit 2 ;;
	esac
done

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
run_build() {
	local dir=$1; shift
	local setup_args=("$@")
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$here" -Dwerror=true "${setup_args[@]}"
	else
		meson configure "$dir" -Dwerror=true "${setup_args[@]}" >/dev/null
	fi
	ninja -C "$dir"
}

echo "=== build with -Werror"
run_build "$here/build/ci"
echo "=== tests"
meson test -C "$here/build/ci" --print-errorlogs --num-processes 2 || status=1

if [ "$quick" = 0 ]; then
	echo "=== build with -Werror, ASan and UBSan"
	run_build "$here/build/ci-asan" -Db_sanitize=address,undefined -Db_lundef=false
	echo "=== tests under ASan+UBSan"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	LSAN_OPTIONS="suppressions=$here/tests/lsan.supp:print_suppressions=0" \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C "$here/build/ci-asan" --print-errorlogs --num-processes 2 \
		--no-suite fuzz --no-suite vm || status=1
fi

exit "$status"
