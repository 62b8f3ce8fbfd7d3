#!/bin/sh
# Builds the wire fuzz target with clang's libFuzzer (plus ASan and UBSan)
# and runs it for a bounded time on the committed seed corpus.
#
#   run-fuzz.sh SOURCE_ROOT WORK_DIR [SECONDS]
#
# The project compiles with gcc, which has no libFuzzer, so the target is
# built here with clang (CLANG overrides the compiler). New inputs go to
# WORK_DIR/corpus (the committed seeds in tests/fuzz/corpus/wire are only
# read), crash reproducers to WORK_DIR/crash-*. Exit 77 (skip) if clang or
# its libFuzzer runtime (Debian: libclang-rt-14-dev) is missing.
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 SOURCE_ROOT WORK_DIR [SECONDS]" >&2
	exit 2
fi
src=$1
work=$2
seconds=${3:-60}
clang=${CLANG:-clang}

if ! command -v "$clang" >/dev/null 2>&1; then
	echo "SKIP: $clang not found (install clang and libclang-rt-14-dev to fuzz)"
	exit 77
fi

mkdir -p "$work"
cat >"$work/probe.c" <<'PROBE'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	(void)data;
	(void)size;
	return 0;
}
PROBE
if ! "$clang" -fsanitize=fuzzer,address,undefined "$work/probe.c" \
		-o "$work/probe" >"$work/probe.log" 2>&1; then
	echo "SKIP: $clang cannot link -fsanitize=fuzzer,address,undefined" \
		"(libclang-rt-14-dev missing?):"
	cat "$work/probe.log"
	exit 77
fi

echo "building $work/fuzz-wire with $("$clang" --version | head -n 1)"
"$clang" -std=c11 -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_POSIX_C_SOURCE=200809L \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-I"$src/protocol/wire" \
	"$src/protocol/wire/tessera-wire.c" \
	"$src/protocol/wire/tessera-wire-ring.c" \
	"$src/protocol/wire/tessera-wire-string.c" \
	"$src/tests/fuzz/fuzz-wire.c" \
	-o "$work/fuzz-wire"

seeds="$src/tests/fuzz/corpus/wire"
if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
	echo "no seed corpus in $seeds" >&2
	exit 1
fi
rm -rf "$work/corpus"
mkdir -p "$work/corpus"

echo "fuzzing for ${seconds}s from $seeds"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:print_stacktrace=1:halt_on_error=1"
exec "$work/fuzz-wire" \
	-max_total_time="$seconds" \
	-timeout=10 \
	-rss_limit_mb=2048 \
	-max_len=20000 \
	-print_final_stats=1 \
	-artifact_prefix="$work/" \
	"$work/corpus" "$seeds"
