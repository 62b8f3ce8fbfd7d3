"""vm-console-auto: console = auto hides the VM's console while its agent
has windows, and shows it again when they are gone.

tessera starts one VM's QEMU from its config (the test initramfs, direct
kernel boot, the guest console on the virtio-gpu output). The console
window ("[c] console") shows first; then tessera-agent and guest-client
start in the guest: once the client's window is up the console is hidden
(no longer listed, its frame gone from the screen: only the client's window
is framed in the VM's colour). Then the guest kills the agent: its window
goes and the console is listed and drawn again. While the console shows,
`tesseractl vm list` counts its frames and the bytes tessera-vmd copied
for them (the console is vmd's one copying path), never more than the
daemon's own statistics (SIGUSR1).
"""

import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import tessera_proc  # noqa: E402
import tessera_test as t  # noqa: E402
import tessera_vm  # noqa: E402
from ctl_test import ctl_json  # noqa: E402

VM = "c"
FRAME = "6a1b9a"
COLOR = "20c040"

GUEST = r"""
export XDG_RUNTIME_DIR=/run/user/0
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
n=0
while [ ! -e start ] && [ $n -lt 1800 ]; do sleep 0.1; n=$((n + 1)); done
"$AGENT" --transport virtgpu --socket wayland-1 > agent.log 2>&1 &
agent=$!
n=0
while [ ! -S "$XDG_RUNTIME_DIR/wayland-1" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
WAYLAND_DISPLAY=wayland-1 "$CLIENT" --frames 100000 --color @COLOR@ --title app \
	> client.out 2>&1 &
n=0
while [ ! -e stop-agent ] && [ $n -lt 1800 ]; do sleep 0.1; n=$((n + 1)); done
kill -9 $agent
while :; do sleep 10; done
"""


def test(args):
    agent = t.program("TESSERA_AGENT")
    client = t.program("AGENT_GUEST_CLIENT")
    t.program("TESSERA_TEST_TOPLEVELS")
    t.program("TESSERA_CTL")
    tessera_vm.require(args.kernel, t.skip)
    t.host_program("grim")

    sock_dir = tempfile.mkdtemp(prefix="tc-")
    guest = tessera_vm.Guest(f"AGENT={agent}\nCLIENT={client}\n" +
                             GUEST.replace("@COLOR@", COLOR),
                             kernel=args.kernel, build_dir=args.build_dir, memory="512M")
    tessera = None
    try:
        keys = guest.tessera_keys()
        keys["vhost-user"] = os.path.join(sock_dir, "c.sock")
        keys["console"] = "auto"
        config = f"[vm {VM}]\ncolor = #{FRAME}\n" + "".join(
            f"{k} = {v}\n" for k, v in keys.items())
        t0 = time.monotonic()
        tessera = t.Tessera(size=(1024, 768), config=config,
                            env={"TESSERA_VMD": os.environ["TESSERA_VMD"]})

        t.wait_for(lambda: f"[{VM}] console" in tessera.titles(), 120, "the console window")
        print(f"console window {time.monotonic() - t0:.1f} s after tessera started")
        png = tessera.screenshot()
        t.check(png.bbox(FRAME) is not None, "the console window is not drawn")

        # the console's copies, as vm list shows them (reported by the daemon)
        def counted():
            vm = ctl_json(tessera, "vm", "list")["vms"][0]
            return vm if vm["frames"] and vm["bytes_copied"] else None
        listed = t.wait_for(counted, 10, "frames and bytes copied in vm list")
        stats = tessera_proc.vmd_stats(
            tessera, tessera_proc.find_vmd(keys["vhost-user"]))
        frames = int(stats["frames"]) + int(stats["console_frames"])
        print(f"vm list: frames {listed['frames']}, bytes_copied {listed['bytes_copied']} "
              f"(daemon: {frames}, {stats['bytes_copied']})")
        t.check(listed["frames"] <= frames and
                listed["bytes_copied"] <= int(stats["bytes_copied"]),
                f"vm list is ahead of the daemon: {listed} vs {stats}")

        open(os.path.join(guest.results_dir, "start"), "w").close()

        def client_alone():
            if tessera.titles() != [f"[{VM}] app"]:
                return None
            png = tessera.screenshot()
            return png if png.bbox(tessera_vm.client_color(COLOR)) is not None else None

        png = t.wait_for(client_alone, 120, "the client's window, alone (console hidden)")
        # only the client's window is framed: the console's frame is gone
        t.frame_check(png, tessera_vm.client_color(COLOR), FRAME, "the client's window")
        t.check("console window hidden" in tessera.log(), "tessera did not log the hiding")

        open(os.path.join(guest.results_dir, "stop-agent"), "w").close()
        t.wait_for(lambda: tessera.titles() == [f"[{VM}] console"], 60,
                   "the console again, once the agent is gone")
        png = tessera.screenshot()
        t.check(png.bbox(tessera_vm.client_color(COLOR)) is None, "the client's pixels remain")
        t.check(png.bbox(FRAME) is not None, "the console window is not drawn again")
        tessera.stop()
    finally:
        if tessera is not None:
            tessera.cleanup()
        guest.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)


if __name__ == "__main__":
    tessera_vm.test_main(t.main, test)
