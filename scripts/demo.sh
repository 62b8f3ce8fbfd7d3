#!/usr/bin/env bash
# The tessera demo: installs what is needed, builds, starts tessera on the
# headless backend (pixman), shows a host window and two labelled VM
# windows, takes a screenshot with grim and prints its path.
#
#   scripts/demo.sh [--no-install] [--keep-running]
#
# The VM windows come from guest applications through tessera-agent (on
# the vhost-user loopback transport, standing in for a QEMU guest) and
# tessera-vmd, which tessera starts for each [vm NAME] of the config.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
install=1
keep=0
for arg in "$@"; do
	case "$arg" in
	--no-install) install=0 ;;
	--keep-running) keep=1 ;;
	*) echo "demo.sh: unknown argument '$arg'" >&2; exit 2 ;;
	esac
done

if [ "$install" = 1 ]; then
	"$here/scripts/install-deps.sh"
fi

build="$here/build-demo"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$here" --buildtype=release >/dev/null
fi
ninja -C "$build" >/dev/null

out="$here/out"
mkdir -p "$out"
work=$(mktemp -d /tmp/tessera-demo.XXXXXX)
export XDG_RUNTIME_DIR="$work/runtime"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset WAYLAND_DISPLAY WAYLAND_SOCKET DISPLAY

# Two VMs. Each gets its tessera-vmd (started by tessera) listening on a
# vhost-user socket; a tessera-agent plays the VM on the loopback transport
# (VMM + guest driver + guest compositor in one process, the same bytes on
# the virtqueues as a QEMU guest) and runs the "guest" applications.
cat > "$work/tessera.ini" <<EOS
# Two VMs, each with its colour and the socket its VMM connects to.
[vm work]
color = #c62828
vhost-user = $work/work.sock

[vm personal]
color = #1565c0
vhost-user = $work/personal.sock
EOS

"$build/server/compositor/tessera" ${TESSERA_DEMO_VERBOSE:+-v} --backend headless --size 1280x720 \
	--config "$work/tessera.ini" > "$work/stdout" 2> "$work/tessera.log" &
tessera_pid=$!
cleanup() {
	kill "$tessera_pid" 2>/dev/null || true
	wait "$tessera_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 100); do
	grep -q WAYLAND_DISPLAY= "$work/stdout" 2>/dev/null && break
	sleep 0.1
done
export WAYLAND_DISPLAY=$(sed -n 's/^WAYLAND_DISPLAY=//p' "$work/stdout")
[ -n "$WAYLAND_DISPLAY" ] || { cat "$work/tessera.log" >&2; exit 1; }
echo "tessera is running: WAYLAND_DISPLAY=$WAYLAND_DISPLAY (XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR)"

# guest NAME COMMAND: a tessera-agent for VM NAME running COMMAND inside
guest() {
	local name=$1 cmd=$2 i
	for i in $(seq 100); do [ -S "$work/$name.sock" ] && break; sleep 0.1; done
	mkdir -m 700 "$work/guest-$name"
	XDG_RUNTIME_DIR="$work/guest-$name" WAYLAND_DISPLAY= "$build/guest-agent/tessera-agent" -q \
		--transport "vhost-user:$work/$name.sock" --socket wayland-guest -s "$cmd" \
		> "$work/agent-$name.out" 2> "$work/agent-$name.log" &
}
guest work "foot --window-size-chars=48x6 --title mail sh -c 'echo \"Inside VM work: foot through tessera-agent.\"; exec sleep 1000000'"
guest personal "$build/clients/tessera-simple-shm --animate --color 2e7d32 --size 320x200 --title '[host] not really the host'"

weston-simple-shm >/dev/null 2>&1 &
foot --window-size-chars=52x8 --title "host terminal" sh -c 'echo "A host terminal (grey: host windows are neutral)."; echo "VM windows are framed and titled by tessera,"; echo "in the colour of their VM; the title prefix"; echo "is the VM name, whatever the client says."; exec sleep 1000000' >/dev/null 2>&1 &
sleep 4

shot="$out/demo.png"
grim "$shot"
echo "screenshot: $shot"
echo "  host windows (weston-simple-shm, foot) and two VM windows framed and"
echo "  titled by tessera: [work] in red, [personal] in blue (whose client"
echo "  claims to be '[host]' and cannot)"

if [ "$keep" = 1 ]; then
	echo "--keep-running: tessera stays up until Ctrl+C"
	wait "$tessera_pid"
fi
