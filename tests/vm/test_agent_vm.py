"""vm-agent: tessera-agent in a real guest.

tessera (headless) starts tessera-vmd for `[vm guest]`; QEMU (>= 8, TCG)
boots the Debian 6.1 guest with `vhost-user-gpu-pci` on vmd's socket. In
the guest, from the 9p-shared host root: tessera-agent with the virtgpu
transport (the render node of the virtio_gpu driver, EXECBUFFER, fenced
WAIT), Debian's weston-simple-shm (wl_shm: copied by the agent into its
own resources), then guest-client with virtio-gpu dumb buffers of the card
node and then with 3D resources of the render node, exported as dmabufs
(forwarded with zero copies: PRIME import + RESOURCE_INFO).
Then the agent exits, a second one is killed with SIGKILL while its
client runs, and a third one works. Checked on the host: the windows appear with the VM's frame and
"[guest] ..." titles and their pixels; the dmabuf clients' frames were
all zero-copy (the agent's counters). Prints
the time from QEMU's start to the first guest window.
"""

import argparse
import os
import re
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import tessera_test as t  # noqa: E402
import tessera_vm  # noqa: E402

VM = "guest"
FRAME = "2e7d32"
DUMB = "e07010"
RENDER = "1090e0"
FRAMES = 60

GUEST = tessera_vm.SHELL_HELPERS + r"""
ls -l /dev/dri > dri.txt 2>&1
"$AGENT" -v --transport virtgpu --socket wayland-1 -s weston-simple-shm \
	> agent.out 2> agent.log &
agent=$!
wait_file step2
WAYLAND_DISPLAY=wayland-1 "$CLIENT" --buffers dumb --frames @FRAMES@ --color @DUMB@ \
	--title dumb > client.out 2> client.log &
wait_file step3
WAYLAND_DISPLAY=wayland-1 "$CLIENT" --buffers render --frames @FRAMES@ --color @RENDER@ \
	--title render > render.out 2> render.log &
wait_file step4
kill $agent
status=0
wait $agent || status=$?
echo "agent exit $status" > agent.status
# an agent killed outright once the host shows its window: its context
# dies with its file; a new one works
"$AGENT" --transport virtgpu --socket wayland-2 > agent2.out 2> agent2.log &
agent2=$!
wait_file "$XDG_RUNTIME_DIR/wayland-2"
WAYLAND_DISPLAY=wayland-2 "$CLIENT" --frames 100000 --color @DUMB@ --title again \
	> again.out &
wait_file step5
kill -9 $agent2
"$AGENT" -v --transport virtgpu --socket wayland-3 > agent3.out 2> agent3.log &
agent3=$!
wait_file "$XDG_RUNTIME_DIR/wayland-3"
WAYLAND_DISPLAY=wayland-3 "$CLIENT" --frames 5 --color @RENDER@ --title third > third.out &
wait_file done
kill $agent3
status3=0
wait $agent3 || status3=$?
echo "agent exit $status3" > agent3.status
# the script's status is the guest's verdict (not that of its last echo)
[ "$status" = 0 ] || fail "the first agent exited with status $status"
[ "$status3" = 0 ] || fail "the third agent exited with status $status3"
"""


def test(args):
    agent = t.program("TESSERA_AGENT")
    client = t.program("AGENT_GUEST_CLIENT")
    t.program("TESSERA_TEST_TOPLEVELS")
    t.program("TESSERA_VMD")
    tessera_vm.require(args.kernel, t.skip)
    t.host_program("grim")
    if not os.path.exists("/usr/bin/weston-simple-shm"):
        t.skip("weston-simple-shm is not installed (scripts/install-deps.sh --tests)")

    sock_dir = tempfile.mkdtemp(prefix="tessera-vm-agent-")
    sock = os.path.join(sock_dir, "gpu.sock")
    config = f"[vm {VM}]\ncolor = #{FRAME}\nvhost-user = {sock}\n"
    tessera = None
    guest = None
    try:
        tessera = t.Tessera(size=(1024, 768), config=config,
                            env={"TESSERA_VMD": os.environ["TESSERA_VMD"]})
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's socket")
        script = (f"AGENT={agent}\nCLIENT={client}\n" +
                  GUEST.replace("@FRAMES@", str(FRAMES)).replace("@DUMB@", DUMB)
                  .replace("@RENDER@", RENDER))
        guest = tessera_vm.Guest(script, kernel=args.kernel, build_dir=args.build_dir,
                                 qemu_args=["-chardev", f"socket,id=gpu,path={sock}",
                                            "-device", "vhost-user-gpu-pci,chardev=gpu"],
                                 # no console on the virtio-gpu output: only
                                 # the agent's windows are framed in FRAME
                                 append="video=Virtual-1:d",
                                 timeout=args.timeout)
        try:
            t0 = time.monotonic()
            guest.start()
        except tessera_vm.VmSkip as e:
            t.skip(str(e))
        results = guest.results_dir

        def titles():
            if guest.proc.poll() is not None:
                t.fail("the guest stopped early")
            return tessera.titles()

        t.wait_for(lambda: f"[{VM}] simple-shm" in titles(), args.timeout,
                   "weston-simple-shm's window from the guest")
        first_window = time.monotonic() - t0
        print(f"QEMU start to the guest's first window on tessera: {first_window:.2f} s")

        def shm_window():
            png = tessera.screenshot()
            frame = png.bbox(FRAME)
            if frame is None:
                return None
            fx, fy, fw, fh, _ = frame
            box = (fx + t.BORDER, fy + t.TITLE, fw - 2 * t.BORDER, fh - t.TITLE - t.BORDER)
            distinct, _ = png.region(*box)
            return (png, box) if distinct >= 16 else None

        png, box = t.wait_for(shm_window, 30, "weston-simple-shm's pattern in its frame")
        print(f"weston-simple-shm window: content {box[2]}x{box[3]} at {box[0]},{box[1]}")
        t.check((box[2], box[3]) == (250, 250),
                f"weston-simple-shm content is {box[2]}x{box[3]}, not 250x250")

        open(os.path.join(results, "step2"), "w").close()
        t.wait_for(lambda: f"[{VM}] dumb" in titles(), 60, "the dumb-buffer client's window")

        def finished(name):
            try:
                with open(os.path.join(results, name)) as f:
                    return f"done {FRAMES}" in f.read()
            except FileNotFoundError:
                return False

        def check_window(color, what):
            png = t.wait_for(lambda: (lambda p: p if p.bbox(color) else None)(
                tessera.screenshot()), 20, f"the {what} client's colour")
            dx, dy, dw, dh, _ = png.bbox(color)
            t.check((dw, dh) == (160, 100), f"{what} window content {dw}x{dh}")
            for px, py in ((dx - 1, dy + dh // 2), (dx + dw, dy + dh // 2),
                           (dx + dw // 2, dy + dh)):
                t.check(png.pixel(px, py) == FRAME,
                        f"the {what} window has no VM frame at {(px, py)}")

        t.wait_for(lambda: finished("client.out"), 90, f"{FRAMES} frames of the dumb-buffer client")
        check_window(DUMB, "dumb-buffer")
        open(os.path.join(results, "step3"), "w").close()
        t.wait_for(lambda: f"[{VM}] render" in titles(), 60, "the 3D-resource client's window")
        t.wait_for(lambda: finished("render.out"), 90, f"{FRAMES} frames of the 3D-resource client")
        check_window(RENDER, "3D-resource")

        # the first agent exits (its windows go), a second one is killed
        # with SIGKILL mid-run (its window goes), a third one works
        open(os.path.join(results, "step4"), "w").close()
        t.wait_for(lambda: f"[{VM}] again" in titles(), 60, "the second agent's window")
        open(os.path.join(results, "step5"), "w").close()
        t.wait_for(lambda: f"[{VM}] third" in titles(), 60, "the third agent's window")
        names = titles()
        t.check(names == [f"[{VM}] third"], f"windows of dead agents remain: {names}")

        open(os.path.join(results, "done"), "w").close()
        res = guest.wait()
        log = res.files.get("agent.log", b"").decode(errors="replace")
        t.check(res.status == 0, f"guest command failed ({res.status}):\n{res.output[-3000:]}"
                f"\nagent log:\n{log[-3000:]}")
        counters = re.search(r"counters \(exit\): commits (\d+), bytes copied (\d+), "
                             r"zero-copy commits (\d+), releases (\d+)", log)
        t.check(counters is not None, f"no counters in the agent's log:\n{log[-3000:]}")
        commits, copied, zero_copy, releases = map(int, counters.groups())
        print(f"agent in the guest: {commits} commits, {copied} bytes copied, "
              f"{zero_copy} zero-copy commits, {releases} releases")
        # each dmabuf client commits exactly FRAMES buffers, each forwarded
        # without a copy; weston-simple-shm's wl_shm frames are copied
        t.check(zero_copy == 2 * FRAMES, f"{zero_copy} zero-copy commits for the "
                f"2 x {FRAMES} dmabuf frames")
        t.check(copied > 0, "weston-simple-shm's wl_shm frames were not copied")
        for name in ("agent.status", "agent3.status"):
            t.check(b"agent exit 0" in res.files.get(name, b""),
                    f"an agent did not exit cleanly: {name}: {res.files.get(name)}")
        tessera.stop()
    finally:
        if guest is not None:
            guest.kill()
        if tessera is not None:
            tessera.cleanup()
        import shutil
        shutil.rmtree(sock_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", default="6.1")
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    t.main(lambda: test(args))


if __name__ == "__main__":
    main()
