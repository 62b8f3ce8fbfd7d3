#!/usr/bin/env bash
# The tessera demo: installs what is needed, builds, starts tessera on the
# headless backend (pixman), shows a host window and two labelled VM
# windows, takes a screenshot with grim and prints its path.
#
#   scripts/demo.sh [--no-install] [--keep-running]
#
# The VM windows arrive through tagged connections that tessera creates
# for each [vm NAME] of the config, exactly as tessera-vmd's will.
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

# A stand-in "VM": shows one window through the tagged connection.
cat > "$work/vm-window.sh" <<EOS
#!/bin/sh
name=
while [ \$# -gt 0 ]; do
	case "\$1" in --name) name=\$2; shift 2 ;; *) shift 2 ;; esac
done
case "\$name" in
work) exec "$build/clients/tessera-simple-shm" --animate --color ffb300 --size 360x220 --title "mail" ;;
*) exec "$build/clients/tessera-simple-shm" --animate --color 2e7d32 --size 320x200 --title "[host] not really the host" ;;
esac
EOS
chmod +x "$work/vm-window.sh"
cat > "$work/tessera.ini" <<EOS
# Two VMs, each with its colour and the socket its VMM would connect to.
[vm work]
color = #c62828
vhost-user = $work/work.sock
vmd = $work/vm-window.sh

[vm personal]
color = #1565c0
vhost-user = $work/personal.sock
vmd = $work/vm-window.sh
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

weston-simple-shm >/dev/null 2>&1 &
foot --window-size-chars=52x8 --title "host terminal" sh -c 'echo "A host terminal (grey: host windows are neutral)."; echo "VM windows are framed and titled by tessera,"; echo "in the colour of their VM; the title prefix"; echo "is the VM name, whatever the client says."; exec sleep 1000000' >/dev/null 2>&1 &
sleep 3

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
