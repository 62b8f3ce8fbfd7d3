#!/usr/bin/env bash
# The tessera demo: installs what is needed, builds, starts tessera on the
# headless backend (pixman), shows a host window and two labelled VM
# windows, takes a screenshot with grim and prints its path.
#
#   scripts/demo.sh [--no-install] [--keep-running] [--vms]
#
# The VM windows come from guest applications through tessera-agent (on
# the vhost-user loopback transport, standing in for a QEMU guest) and
# tessera-vmd, which tessera starts for each [vm NAME] of the config.
#
# --vms: two real QEMU guests instead, started by tessera from its config
# (minutes under TCG), screenshot out/demo-vms.png once both have a window.
# Each boots the Debian guest image of scripts/make-guest-image.sh
# (build-demo/guest-image/; built when missing if this runs as root with
# mmdebstrap), whose systemd user session runs tessera-agent and foot;
# else (or with TESSERA_DEMO_GUESTS=initramfs) the test initramfs of
# tests/vm running the agent and tessera-simple-shm of build-demo (over 9p).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
install=1
keep=0
vms=0
for arg in "$@"; do
	case "$arg" in
	--no-install) install=0 ;;
	--keep-running) keep=1 ;;
	--vms) vms=1 ;;
	*) echo "demo.sh: unknown argument '$arg'" >&2; exit 2 ;;
	esac
done

if [ "$install" = 1 ]; then
	"$here/scripts/install-deps.sh"
	if [ "$vms" = 1 ]; then
		"$here/scripts/install-vm-deps.sh"
	fi
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

# vm_sections: [vm work] and [vm personal] for two real guests that
# tessera boots itself (--vms)
vm_sections() {
	local image="$build/guest-image/guest.img" name color have=0
	if [ "${TESSERA_DEMO_GUESTS:-}" = initramfs ]; then
		:
	elif [ "$(id -u)" = 0 ] && command -v mmdebstrap >/dev/null; then
		# up to date with this build's agent (quick when it is)
		"$here/scripts/make-guest-image.sh" --build-dir "$build" "$image" >&2 && have=1
	elif [ -f "$image.ini" ]; then
		have=1
	fi
	if [ "$have" = 1 ]; then
		echo "guests: the Debian image $image" >&2
		for name in work personal; do
			color=$([ "$name" = work ] && echo c62828 || echo 1565c0)
			# both boot the one image, each on a snapshot of it
			sed -e "s/^\[vm guest\]/[vm $name]/" -e "s/^color = .*/color = #$color/" \
				-e '/^qemu-args = -drive /s/$/,snapshot=on/' -e '/^#/d' "$image.ini"
			printf 'vhost-user = %s\n\n' "$work/$name.sock"
		done
		return
	fi
	echo "guests: the test initramfs of tests/vm (no Debian image: make-guest-image.sh" \
		"needs root and mmdebstrap)" >&2
	# the guests' files in /tmp, not $work: tessera.ini lines are short
	PYTHONPATH="$here/tests/vm" python3 - "$build" "$work" <<'PY'
import sys
import tessera_vm
build, work = sys.argv[1:]
guest = """
export XDG_RUNTIME_DIR=/run/user/0
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
@BUILD@/guest-agent/tessera-agent --transport virtgpu --socket wayland-1 > agent.log 2>&1 &
while [ ! -S "$XDG_RUNTIME_DIR/wayland-1" ]; do sleep 0.1; done
WAYLAND_DISPLAY=wayland-1 @BUILD@/clients/tessera-simple-shm --animate --color @COLOR@ \
	--size 320x200 --title @TITLE@ > client.log 2>&1 &
while :; do sleep 10; done
"""
for name, frame, color in (("work", "c62828", "e07010"), ("personal", "1565c0", "2e7d32")):
    script = (guest.replace("@BUILD@", build).replace("@COLOR@", color)
              .replace("@TITLE@", f"{name}-client"))
    g = tessera_vm.Guest(script, kernel="6.1", build_dir=f"{build}/vm-initramfs",
                         memory="512M", append="video=Virtual-1:d")
    try:
        keys = g.tessera_keys()
    except (tessera_vm.VmSkip, tessera_vm.VmError) as e:
        sys.exit(f"demo.sh: cannot prepare a test guest: {e}")
    print(f"# guest files: {g.workdir}")
    print(f"[vm {name}]\ncolor = #{frame}\nvhost-user = {work}/{name}.sock")
    print("".join(f"{k} = {v}\n" for k, v in keys.items()))
PY
}

if [ "$vms" = 1 ]; then
	vm_sections > "$work/tessera.ini"
else
	# Two VMs. Each gets its tessera-vmd (started by tessera) listening on a
	# vhost-user socket; a tessera-agent plays the VM on the loopback transport
	# (VMM + guest driver + guest compositor in one process, the same bytes on
	# the virtqueues as a QEMU guest) and runs the "guest" applications.
	cat > "$work/tessera.ini" <<-EOS
	# Two VMs, each with its colour and the socket its VMM connects to.
	[vm work]
	color = #c62828
	vhost-user = $work/work.sock

	[vm personal]
	color = #1565c0
	vhost-user = $work/personal.sock
	EOS
fi

"$build/server/compositor/tessera" ${TESSERA_DEMO_VERBOSE:+-v} --backend headless --size 1280x720 \
	--config "$work/tessera.ini" > "$work/stdout" 2> "$work/tessera.log" &
tessera_pid=$!
cleanup() {
	kill "$tessera_pid" 2>/dev/null || true
	wait "$tessera_pid" 2>/dev/null || true
	sed -n 's/^# guest files: //p' "$work/tessera.ini" | xargs -r rm -rf
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
if [ "$vms" = 1 ]; then
	# tessera boots both; wait for a window of each (not its console)
	echo "booting two guests (minutes under TCG); QEMU's logs: $XDG_RUNTIME_DIR/tessera/"
	started=$SECONDS
	until "$build/server/ctl/tesseractl" --json window list 2>/dev/null | python3 -c '
import json, sys
wins = json.load(sys.stdin)["windows"]
vms = {w["vm"] for w in wins if w["vm"] and w["app_id"] != "tessera-vmd-console"}
sys.exit(0 if {"work", "personal"} <= vms else 1)'; do
		if [ $((SECONDS - started)) -gt 900 ]; then
			echo "demo.sh: the guests showed no window within 900 s; see" \
				"$XDG_RUNTIME_DIR/tessera/*-qemu.log" >&2
			exit 1
		fi
		sleep 2
	done
	echo "both guests have a window, $((SECONDS - started)) s after tessera started"
	sleep 3
else
	guest work "foot --window-size-chars=48x6 --title mail sh -c 'echo \"Inside VM work: foot through tessera-agent.\"; exec sleep 1000000'"
	guest personal "$build/clients/tessera-simple-shm --animate --color 2e7d32 --size 320x200 --title '[host] not really the host'"

	weston-simple-shm >/dev/null 2>&1 &
	foot --window-size-chars=52x8 --title "host terminal" sh -c 'echo "A host terminal (grey: host windows are neutral)."; echo "VM windows are framed and titled by tessera,"; echo "in the colour of their VM; the title prefix"; echo "is the VM name, whatever the client says."; exec sleep 1000000' >/dev/null 2>&1 &
	sleep 4
fi

shot="$out/demo$([ "$vms" = 1 ] && echo -vms).png"
grim "$shot"
echo "screenshot: $shot"
if [ "$vms" = 1 ]; then
	echo "  a window of each real guest, framed and titled by tessera: [work] in"
	echo "  red, [personal] in blue"
else
	echo "  host windows (weston-simple-shm, foot) and two VM windows framed and"
	echo "  titled by tessera: [work] in red, [personal] in blue (whose client"
	echo "  claims to be '[host]' and cannot)"
fi

if [ "$keep" = 1 ]; then
	echo "--keep-running: tessera stays up until Ctrl+C"
	wait "$tessera_pid"
fi
