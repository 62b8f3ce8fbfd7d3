#!/bin/sh
# Builds a fuzz target with clang's libFuzzer (plus ASan and UBSan) and runs
# it for a bounded time on its committed seed corpus.
#
#   run-fuzz.sh SOURCE_ROOT WORK_DIR [SECONDS [TARGET]]
#
# TARGET (default wire):
#   wire        fuzz-wire.c, the wire codec (protocol/wire)
#   virtqueue   fuzz-virtqueue.c, the device side split virtqueue
#               (common/virtio/virtqueue.c) against malicious rings
#   vhost-user  fuzz-vhost-user.c, the vhost-user backend
#               (server/vmd/vhost-user.c) fed a malicious message stream
#
# The project compiles with gcc, which has no libFuzzer, so the target is
# built here with clang (CLANG overrides the compiler). New inputs go to
# WORK_DIR/corpus (the committed seeds in tests/fuzz/corpus/TARGET are only
# read), crash reproducers to WORK_DIR/crash-*. Exit 77 (skip) if clang or
# its libFuzzer runtime (Debian: libclang-rt-14-dev) is missing.
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 SOURCE_ROOT WORK_DIR [SECONDS [TARGET]]" >&2
	exit 2
fi
src=$1
work=$2
seconds=${3:-60}
target=${4:-wire}
clang=${CLANG:-clang}

# per target: include directories and sources (as "$@"), the largest input
case "$target" in
wire)
	set -- "-I$src/protocol/wire" \
		"$src/protocol/wire/tessera-wire.c" \
		"$src/protocol/wire/tessera-wire-ring.c" \
		"$src/protocol/wire/tessera-wire-string.c" \
		"$src/tests/fuzz/fuzz-wire.c"
	max_len=20000
	;;
virtqueue)
	set -- "-I$src/common/virtio" \
		"$src/common/virtio/memory-table.c" \
		"$src/common/virtio/virtqueue.c" \
		"$src/tests/fuzz/fuzz-virtqueue.c"
	max_len=8192
	;;
vhost-user)
	set -- "-I$src/common" "-I$src/common/virtio" "-I$src/server/vmd" \
		"$src/common/log.c" \
		"$src/common/virtio/memory-table.c" \
		"$src/common/virtio/virtqueue.c" \
		"$src/common/virtio/vhost-user-proto.c" \
		"$src/server/vmd/vhost-user.c" \
		"$src/tests/fuzz/fuzz-vhost-user.c"
	pkgs="wayland-server"
	# shellcheck disable=SC2086 # pkgs is a list
	if ! pkg_flags=$(pkg-config --cflags --libs $pkgs); then
		echo "pkg-config cannot find $pkgs" >&2
		exit 1
	fi
	# shellcheck disable=SC2086 # pkg-config output is a list of flags
	set -- "$@" $pkg_flags
	max_len=8192
	;;
*)
	echo "unknown fuzz target '$target'" >&2
	exit 2
	;;
esac

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

echo "building $work/fuzz-$target with $("$clang" --version | head -n 1)"
"$clang" -std=c11 -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_POSIX_C_SOURCE=200809L \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	"$@" \
	-o "$work/fuzz-$target"

seeds="$src/tests/fuzz/corpus/$target"
if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
	echo "no seed corpus in $seeds" >&2
	exit 1
fi
rm -rf "$work/corpus"
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
	-max_len="$max_len" \
	-print_final_stats=1 \
	-artifact_prefix="$work/" \
	"$work/corpus" "$seeds"
