#!/bin/sh
# Builds a fuzz target with clang's libFuzzer (plus ASan and UBSan, see
# build-fuzz.sh for the targets) and runs it for a bounded time on its
# committed seed corpus.
#
#   run-fuzz.sh SOURCE_ROOT WORK_DIR [SECONDS [TARGET]]
#
# TARGET defaults to wire. New inputs go to WORK_DIR/corpus (the committed
# seeds in tests/fuzz/corpus/TARGET, or corpus/$FUZZ_SEEDS for a variant of
# a target, are only read), crash reproducers to
# WORK_DIR/crash-*. Exit 77 (skip) if clang or its libFuzzer runtime
# (Debian: libclang-rt-14-dev) is missing. Long runs: scripts/fuzz.sh,
# which sets FUZZ_PREBUILT=1 (WORK_DIR/fuzz-TARGET is built already) and
# FUZZ_KEEP_CORPUS=1 (WORK_DIR/corpus grows from run to run; by default it
# starts empty).
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 SOURCE_ROOT WORK_DIR [SECONDS [TARGET]]" >&2
	exit 2
fi
src=$1
work=$2
seconds=${3:-60}
target=${4:-wire}

if [ "${FUZZ_PREBUILT:-0}" != 1 ]; then
	"$src/tests/fuzz/build-fuzz.sh" "$src" "$work" "$target"
fi

seeds="$src/tests/fuzz/corpus/${FUZZ_SEEDS:-$target}"
if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
	echo "no seed corpus in $seeds" >&2
	exit 1
fi
if [ "${FUZZ_KEEP_CORPUS:-0}" != 1 ]; then
	rm -rf "$work/corpus"
fi
mkdir -p "$work/corpus"

echo "fuzzing for ${seconds}s from $seeds"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:print_stacktrace=1:halt_on_error=1"
# libFuzzer reports a crash with exit status 77 by default, which meson
# would take for a skip: make it a failure
exec "$work/fuzz-$target" \
	-error_exitcode=1 \
	-max_total_time="$seconds" \
	-timeout=10 \
	-rss_limit_mb=2048 \
	-max_len="$(cat "$work/fuzz-$target.max_len")" \
	-print_final_stats=1 \
	-artifact_prefix="$work/" \
	"$work/corpus" "$seeds"
