#!/bin/sh
# Builds one fuzz target with clang's libFuzzer plus ASan and UBSan:
#
#   build-fuzz.sh SOURCE_ROOT WORK_DIR TARGET
#
# writes WORK_DIR/fuzz-TARGET, WORK_DIR/fuzz-TARGET.max_len (the largest
# input, for -max_len) and the Wayland protocol code some targets need
# into WORK_DIR/proto. TARGET:
#   wire          fuzz-wire.c, the wire codec (protocol/wire)
#   virtqueue     fuzz-virtqueue.c, the device side split virtqueue
#                 (common/virtio/virtqueue.c) against malicious rings
#   vhost-user    fuzz-vhost-user.c, the vhost-user backend
#                 (server/vmd/vhost-user.c) fed a malicious message stream
#   config        fuzz-config.c, the compositor's config loader
#                 (server/compositor/config.c, keymap.c)
#   vmd-gpu       fuzz-vmd-gpu.c, tessera-vmd's virtio-gpu device
#                 (server/vmd/gpu.c, resource.c, console.c, cpu-share.c,
#                 virgl.c, the session)
#                 fed control and cursor queue commands, with
#                 fuzz-compositor.c as its compositor
#   guest-memory  fuzz-guest-memory.c, the compositor's
#                 tessera_guest_memory_v1 (server/compositor/guest-memory.c)
#   agent-ring    fuzz-agent-ring.c, the agent's reader of the event ring
#                 and keymap area (guest-agent/host.c and what it calls)
#   virgl         fuzz-virgl.c, tessera-vmd's virgl path (server/vmd/virgl.c,
#                 resource.c) in front of virglrenderer (EGL surfaceless)
#
# The project compiles with gcc, which has no libFuzzer, so targets are
# built here with clang (CLANG overrides the compiler). Exit 77 (skip) if
# clang or its libFuzzer runtime (Debian: libclang-rt-14-dev) is missing,
# 2 for a bad TARGET, 1 if the build fails. The fuzz runs are run-fuzz.sh
# (bounded, for the test suite) and scripts/fuzz.sh (long runs).
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 SOURCE_ROOT WORK_DIR TARGET" >&2
	exit 2
fi
src=$1
work=$2
target=$3
clang=${CLANG:-clang}
proto=$work/proto

# Generates the code (added to $protocol_sources) and the header of a
# Wayland protocol into $proto: protocol NAME XML server|client
protocol_sources=
protocol() {
	mkdir -p "$proto"
	header=$proto/$1-protocol.h
	if [ "$3" = client ]; then
		header=$proto/$1-client-protocol.h
	fi
	wayland-scanner private-code "$2" "$proto/$1-protocol.c"
	wayland-scanner "$3-header" "$2" "$header"
	protocol_sources="$protocol_sources $proto/$1-protocol.c"
}

# the sources of the vmd-session library (server/vmd/meson.build)
vmd_session_sources() {
	for f in buffer clipboard cursor events frame gmem guest-access id-map input \
			popup session share shm subsurface surface toplevel udmabuf xdg-surface; do
		printf '%s ' "$src/server/vmd/session/$f.c"
	done
	printf '%s ' "$src/server/vmd/wayland.c"
}

pkgs=
common="$src/common/log.c $src/common/vm-settings.c $src/common/color.c \
	$src/common/clock.c"
wire="$src/protocol/wire/tessera-wire.c $src/protocol/wire/tessera-wire-ring.c \
	$src/protocol/wire/tessera-wire-string.c"
virtio="$src/common/virtio/memory-table.c $src/common/virtio/virtqueue.c \
	$src/common/virtio/vhost-user-proto.c"
includes="-I$src/common -I$src/common/virtio -I$src/protocol -I$src/protocol/wire"

# per target: sources and flags (as "$@")
case "$target" in
wire)
	# shellcheck disable=SC2086 # lists
	set -- $includes $wire "$src/tests/fuzz/fuzz-wire.c"
	max_len=20000
	;;
virtqueue)
	# shellcheck disable=SC2086
	set -- $includes "$src/common/virtio/memory-table.c" \
		"$src/common/virtio/virtqueue.c" "$src/tests/fuzz/fuzz-virtqueue.c"
	max_len=8192
	;;
vhost-user)
	# shellcheck disable=SC2086
	set -- $includes "-I$src/server/vmd" "$src/common/log.c" $virtio \
		"$src/server/vmd/vhost-user.c" "$src/tests/fuzz/fuzz-vhost-user.c"
	pkgs="wayland-server"
	max_len=8192
	;;
config)
	# shellcheck disable=SC2086
	set -- $includes "-I$src/server/compositor" $common $wire \
		"$src/server/compositor/config.c" "$src/server/compositor/keymap.c" \
		"$src/tests/fuzz/fuzz-config.c"
	pkgs="inih xkbcommon xkbregistry glib-2.0"
	max_len=16384
	;;
virgl)
	# shellcheck disable=SC2086 # lists
	set -- $includes "-I$src/server/vmd" $common $virtio \
		"$src/server/vmd/virgl.c" "$src/server/vmd/resource.c" \
		"$src/tests/fuzz/fuzz-virgl.c"
	pkgs="virglrenderer epoxy libdrm wayland-server"
	max_len=65536
	;;
vmd-gpu)
	wl_protocols=$(pkg-config --variable=pkgdatadir wayland-protocols)
	for p in xdg-shell:stable/xdg-shell/xdg-shell.xml \
			xdg-decoration-unstable-v1:unstable/xdg-decoration/xdg-decoration-unstable-v1.xml \
			presentation-time:stable/presentation-time/presentation-time.xml \
			viewporter:stable/viewporter/viewporter.xml \
			linux-dmabuf-unstable-v1:unstable/linux-dmabuf/linux-dmabuf-unstable-v1.xml \
			xdg-output-unstable-v1:unstable/xdg-output/xdg-output-unstable-v1.xml; do
		protocol "${p%%:*}" "$wl_protocols/${p#*:}" client
	done
	protocol tessera-guest-memory-v1 "$src/protocol/tessera-guest-memory-v1.xml" client
	for p in tessera-vmd-v1 tessera-vmd-share-v1 tessera-vmd-clipboard-v1; do
		protocol "$p" "$src/protocol/$p.xml" client
	done
	# shellcheck disable=SC2046,SC2086 # lists
	set -- $includes "-I$src/server/vmd" "-I$src/server/vmd/session" "-I$proto" \
		-pthread $common $wire $virtio $protocol_sources $(vmd_session_sources) \
		"$src/server/vmd/vhost-user.c" "$src/server/vmd/gpu.c" \
		"$src/server/vmd/edid.c" "$src/server/vmd/resource.c" \
		"$src/server/vmd/console.c" "$src/server/vmd/cpu-share.c" \
		"$src/server/vmd/virgl.c" \
		"$src/tests/fuzz/fuzz-compositor.c" "$src/tests/fuzz/fuzz-vmd-gpu.c"
	pkgs="wayland-server wayland-client pixman-1 virglrenderer epoxy libdrm"
	max_len=16384
	;;
guest-memory)
	protocol tessera-guest-memory-v1 "$src/protocol/tessera-guest-memory-v1.xml" server
	wayland-scanner client-header "$src/protocol/tessera-guest-memory-v1.xml" \
		"$proto/tessera-guest-memory-v1-client-protocol.h"
	# shellcheck disable=SC2086
	set -- $includes "-I$src/server/compositor" "-I$src/common/wlr" "-I$proto" \
		-DWLR_USE_UNSTABLE $common $wire $protocol_sources \
		"$src/common/wlr/client-buffer.c" \
		"$src/server/compositor/guest-memory.c" \
		"$src/tests/fuzz/fuzz-guest-memory.c"
	pkgs="wlroots wayland-server wayland-client pixman-1 libdrm"
	max_len=8192
	;;
agent-ring)
	wl_protocols=$(pkg-config --variable=pkgdatadir wayland-protocols)
	protocol linux-dmabuf-unstable-v1 \
		"$wl_protocols/unstable/linux-dmabuf/linux-dmabuf-unstable-v1.xml" server
	protocol xdg-shell "$wl_protocols/stable/xdg-shell/xdg-shell.xml" client
	protocol wayland-drm "$src/protocol/wayland-drm.xml" server
	# WLR_PROTOCOLS_DIR: meson's wlr_protocols_dir; else found as
	# protocol/meson.build finds it
	wlr_protocols=${WLR_PROTOCOLS_DIR:-$(find /usr/share/cargo/registry -maxdepth 2 \
		-path '*/wayland-protocols-*/wlr-protocols' 2>/dev/null | sort | tail -n 1)}
	protocol wlr-screencopy-unstable-v1 \
		"$wlr_protocols/unstable/wlr-screencopy-unstable-v1.xml" server
	# wlroots' headers want the server header too (the code is the same)
	wayland-scanner server-header "$wl_protocols/stable/xdg-shell/xdg-shell.xml" \
		"$proto/xdg-shell-protocol.h"
	agent=
	for f in buffer clipboard commit host output screencopy seat server share surface \
			wl-drm xwayland transport/transport transport/transport-vhost-user \
			transport/transport-virtgpu; do
		agent="$agent $src/guest-agent/$f.c"
	done
	# shellcheck disable=SC2086
	set -- $includes "-I$src/guest-agent" "-I$src/guest-agent/transport" \
		"-I$src/common/wlr" "-I$src/common/frontend" "-I$proto" \
		-DWLR_USE_UNSTABLE $common $wire $virtio $protocol_sources $agent \
		"$src/common/frontend/vhost-user-frontend.c" \
		"$src/common/frontend/virtio-gpu-frontend.c" \
		"$src/common/frontend/virtqueue-driver.c" \
		"$src/common/wlr/client-buffer.c" "$src/common/wlr/linux-dmabuf.c" \
		"$src/common/wlr/wlr-log.c" "$src/common/wlr/pixman-format.c" \
		"$src/tests/fuzz/fuzz-agent-ring.c"
	pkgs="wlroots wayland-server wayland-client xkbcommon pixman-1 libdrm xcb"
	max_len=16384
	;;
*)
	echo "unknown fuzz target '$target'" >&2
	exit 2
	;;
esac

if [ -n "$pkgs" ]; then
	# shellcheck disable=SC2086 # a list of packages
	if ! pkg_flags=$(pkg-config --cflags --libs $pkgs); then
		echo "pkg-config cannot find $pkgs" >&2
		exit 1
	fi
	# shellcheck disable=SC2086 # pkg-config output is a list of flags
	set -- "$@" $pkg_flags
fi

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
# the largest input, for the runs
echo "$max_len" >"$work/fuzz-$target.max_len"
