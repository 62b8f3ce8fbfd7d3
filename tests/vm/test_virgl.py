"""vm-virgl: GPU acceleration for the guest's Mesa (virglrenderer in tessera-vmd).

tessera (headless) starts tessera-vmd for `[vm guest]` with the default
gpu = auto: virglrenderer on EGL surfaceless (llvmpipe on the host, no
/dev/dri here), capsets VIRGL and VIRGL2. QEMU (TCG) boots the Debian 6.1
guest on vmd's socket. In the guest, from the 9p-shared host root (so the
guest's Mesa is the host's):

- eglinfo names virgl as the renderer of the virtio-gpu device;
- tessera-agent (virtgpu transport), then weston-simple-egl rendering with
  virgl through it: its window on tessera shows the triangle (the VM's
  frame around red, green and blue pixels) and keeps presenting (the
  pixels change, vmd's frame and read-back counters grow);
- the same client with the guest's own llvmpipe (LIBGL_ALWAYS_SOFTWARE=1),
  for the figures;
- glmark2-es2-wayland's build scene both ways: its GL_RENDERER with virgl
  must be virgl's; its frame rates are printed;
- xterm through the agent's Xwayland (started without glamor, which on
  virgl shows no window): framed on tessera with its background colour.

Prints for both: frames per second (weston-simple-egl's own count), host
CPU (vmd + QEMU) per frame, and vmd's bytes read back per frame (the host
copies: without a render node each frame's damage is read back once into
the wl_shm buffer).
"""

import os
import re
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import tessera_proc  # noqa: E402
import tessera_test as t  # noqa: E402
import tessera_vm  # noqa: E402

VM = "guest"
FRAME = "8e24aa"
XTERM_BG = "2060c0"
RUN_SECONDS = 20
GUEST_TIMEOUT = 600

GUEST = tessera_vm.GUEST_HELPERS + r"""
eglinfo > eglinfo.txt 2>&1 || echo "eglinfo exit $?" >> eglinfo.txt
ls -l /dev/dri >> eglinfo.txt
"$AGENT" -v --transport virtgpu --socket wayland-1 > agent.out 2> agent.log &
agent=$!
n=0
while [ ! -e "$XDG_RUNTIME_DIR/wayland-1" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
WAYLAND_DISPLAY=wayland-1 stdbuf -oL weston-simple-egl -o -b \
	> egl.out 2> egl.log &
egl=$!
touch egl.started
wait_file step2
kill -INT $egl; wait $egl
# the same client with the guest's own llvmpipe
WAYLAND_DISPLAY=wayland-1 LIBGL_ALWAYS_SOFTWARE=1 stdbuf -oL weston-simple-egl -o -b \
	> soft.out 2> soft.log &
soft=$!
touch soft.started
wait_file done
kill -INT $soft; wait $soft
# glmark2's build scene, with virgl and with the guest's llvmpipe
for gl in virgl soft; do
	if [ $gl = soft ]; then export LIBGL_ALWAYS_SOFTWARE=1; fi
	WAYLAND_DISPLAY=wayland-1 timeout 120 glmark2-es2-wayland -s 250x250 \
		-b build:duration=10 > glmark2-$gl.out 2>&1
done
unset LIBGL_ALWAYS_SOFTWARE
touch glmark2.done
# an X11 application through the agent's Xwayland
export "$(grep '^DISPLAY=' agent.out)"
xterm -title xterm-virgl -bg '#@XTERM@' -fg white -geometry 50x8 \
	-e sh -c 'echo X11 beside virgl; sleep 600' > xterm.log 2>&1 &
xterm=$!
touch xterm.started
wait_file xterm.done
kill $xterm
kill $agent
status=0
wait $agent || status=$?
echo "agent exit $status" > agent.status
[ "$status" = 0 ] || fail "the agent exited with status $status"
"""


def fps_lines(text):
    """weston-simple-egl's "N frames in S seconds: F fps" lines as floats."""
    return [float(m) for m in re.findall(r"frames in \d+ seconds: ([0-9.]+) fps", text)]


def read(results, name):
    try:
        with open(os.path.join(results, name), errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def content_box(png):
    frame = png.bbox(FRAME)
    if frame is None:
        return None
    fx, fy, fw, fh, _ = frame
    return (fx + t.BORDER, fy + t.TITLE, fw - 2 * t.BORDER, fh - t.TITLE - t.BORDER)


def samples(png, box):
    """The colours of every 4th pixel of every 4th row of box."""
    x0, y0, w, h = box
    return png.pixels([(x, y) for y in range(y0, y0 + h, 4) for x in range(x0, x0 + w, 4)])


def triangle(colors):
    """Counts of reddish, greenish and bluish pixels (the triangle's
    corners are pure red, green and blue, blended inside)."""
    counts = [0, 0, 0]
    for p in colors:
        rgb = (int(p[0:2], 16), int(p[2:4], 16), int(p[4:6], 16))
        for i, c in enumerate(rgb):
            if c > 128 and all(v < c - 64 for j, v in enumerate(rgb) if j != i):
                counts[i] += 1
    return counts


def host_cpu(pids):
    return sum(tessera_proc.cpu_ticks(p) for p in pids) / os.sysconf("SC_CLK_TCK")


def measure(tessera, guest, vmd_pid, results, out_name, what):
    """Runs the client RUN_SECONDS (after its first fps line), returns
    (fps, host CPU seconds per frame, bytes read back per frame)."""
    t.wait_for(lambda: fps_lines(read(results, out_name)), 180,
               f"the first fps line of weston-simple-egl ({what})")
    pids = [vmd_pid, guest.proc.pid]
    s0 = tessera_proc.vmd_stats(tessera, vmd_pid)
    c0, n0, w0 = host_cpu(pids), len(fps_lines(read(results, out_name))), time.monotonic()
    time.sleep(RUN_SECONDS)
    s1 = tessera_proc.vmd_stats(tessera, vmd_pid)
    c1, w1 = host_cpu(pids), time.monotonic()
    fps = fps_lines(read(results, out_name))[n0:] or fps_lines(read(results, out_name))[-1:]
    rate = sum(fps) / len(fps)
    frames = int(s1["frames"]) - int(s0["frames"])
    read_back = int(s1["virgl_read_bytes"]) - int(s0["virgl_read_bytes"])
    per_frame = (c1 - c0) / frames if frames > 0 else float("nan")
    print(f"{what}: {rate:.1f} frames/s (weston-simple-egl), {frames} frames shown "
          f"in {w1 - w0:.1f} s, host CPU (vmd + QEMU) {1000 * per_frame:.1f} ms per frame, "
          f"{read_back // max(frames, 1)} bytes read back per frame")
    return rate, per_frame, read_back / max(frames, 1)


def test(args):
    agent = t.program("TESSERA_AGENT")
    t.program("TESSERA_TEST_TOPLEVELS")
    t.program("TESSERA_VMD")
    tessera_vm.require(args.kernel, t.skip)
    t.host_program("grim")
    for tool in ("weston-simple-egl", "eglinfo"):
        t.host_program(tool)

    sock_dir = tempfile.mkdtemp(prefix="tessera-vm-virgl-")
    sock = os.path.join(sock_dir, "gpu.sock")
    config = f"[vm {VM}]\ncolor = #{FRAME}\nvhost-user = {sock}\n"
    tessera = None
    guest = None
    try:
        tessera = t.Tessera(size=(1024, 768), config=config,
                            env={"TESSERA_VMD": os.environ["TESSERA_VMD"]})
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's socket")
        vmd_pid = t.wait_for(lambda: tessera_proc.find_vmd(sock), 10, "the tessera-vmd process")
        t.check("GPU acceleration: virgl (gpu = auto)" in tessera.log(),
                "vmd did not start virglrenderer")
        guest = tessera_vm.Guest(f"AGENT={agent}\n" + GUEST.replace("@XTERM@", XTERM_BG),
                                 kernel=args.kernel,
                                 build_dir=args.build_dir,
                                 qemu_args=["-chardev", f"socket,id=gpu,path={sock}",
                                            "-device", "vhost-user-gpu-pci,chardev=gpu"],
                                 append="video=Virtual-1:d",
                                 timeout=GUEST_TIMEOUT)
        try:
            guest.start()
        except tessera_vm.VmSkip as e:
            t.skip(str(e))
        results = guest.results_dir

        def titles():
            if guest.proc.poll() is not None:
                t.fail("the guest stopped early:\n" + read(results, "agent.log")[-2000:])
            return tessera.titles()

        t.wait_for(lambda: os.path.exists(os.path.join(results, "egl.started")), 240,
                   "the guest to start weston-simple-egl")
        info = read(results, "eglinfo.txt")
        drivers = re.findall(r"(.* platform:|EGL driver name: .*|eglinfo exit .*)", info)
        print("guest eglinfo: " + "; ".join(drivers))
        t.check("EGL driver name: virtio_gpu" in drivers,
                "the guest's eglinfo names no virtio_gpu (virgl) driver:\n" +
                "\n".join(drivers))

        t.wait_for(lambda: f"[{VM}] simple-egl" in titles(), 240,
                   "weston-simple-egl's window from the guest")

        def drawn():
            png = tessera.screenshot()
            box = content_box(png)
            if box is None:
                return None
            colors = samples(png, box)
            counts = triangle(colors)
            return (box, colors, counts) if min(counts) >= 5 else None

        box, first, counts = t.wait_for(drawn, 120, "the triangle in simple-egl's frame")
        print(f"simple-egl window: content {box[2]}x{box[3]}; reddish, greenish, bluish "
              f"samples (1 in 16 pixels): {counts}")

        # it keeps presenting: the triangle turns, frames and read-backs grow
        s0 = tessera_proc.vmd_stats(tessera, vmd_pid)

        def turned():
            p = tessera.screenshot()
            b = content_box(p)
            return b is not None and b == box and samples(p, b) != first

        t.wait_for(turned, 60, "the triangle to turn")
        virgl = measure(tessera, guest, vmd_pid, results, "egl.out", "virgl")
        s1 = tessera_proc.vmd_stats(tessera, vmd_pid)
        t.check(int(s1["frames"]) > int(s0["frames"]) + 10 and
                int(s1["virgl_read_bytes"]) > int(s0["virgl_read_bytes"]) and
                int(s1["virgl_submits"]) > int(s0["virgl_submits"]),
                f"simple-egl stopped presenting through virgl: {s0} -> {s1}")

        open(os.path.join(results, "step2"), "w").close()
        t.wait_for(lambda: os.path.exists(os.path.join(results, "soft.started")), 60,
                   "the llvmpipe run to start")
        soft = measure(tessera, guest, vmd_pid, results, "soft.out", "guest llvmpipe")
        print(f"virgl / guest llvmpipe: {virgl[0] / soft[0]:.2f}x the frame rate, "
              f"{virgl[1] / soft[1]:.2f}x the host CPU per frame")

        open(os.path.join(results, "done"), "w").close()
        t.wait_for(lambda: os.path.exists(os.path.join(results, "glmark2.done")), 300,
                   "glmark2-es2-wayland's runs in the guest")
        for gl in ("virgl", "soft"):
            out = read(results, f"glmark2-{gl}.out")
            renderer = re.search(r"GL_RENDERER:\s*(.*)", out)
            fps = re.search(r"FPS: (\d+)", out)
            print(f"glmark2-es2-wayland build, {gl}: renderer "
                  f"{renderer.group(1) if renderer else '?'}, "
                  f"{fps.group(1) if fps else '?'} frames/s")
            if gl == "virgl":
                t.check(renderer is not None and renderer.group(1).startswith("virgl"),
                        f"glmark2 in the guest names no virgl renderer:\n{out[-2000:]}")

        # X11: xterm's window, framed, its background shown
        t.wait_for(lambda: os.path.exists(os.path.join(results, "xterm.started")), 60,
                   "the guest to start xterm")
        started = time.monotonic()
        t.wait_for(lambda: f"[{VM}] xterm-virgl" in titles(), 180,
                   "xterm's window from the guest's Xwayland")

        def xterm_shown():
            png = tessera.screenshot()
            box, bg = content_box(png), png.bbox(XTERM_BG)
            if box is None or bg is None or bg[2] < 200 or bg[3] < 60:
                return None
            return box, bg
        box, bg = t.wait_for(xterm_shown, 60, "xterm's background in the VM's frame")
        t.check(box[0] <= bg[0] and bg[0] + bg[2] <= box[0] + box[2] and
                box[1] <= bg[1] and bg[1] + bg[3] <= box[1] + box[3],
                f"xterm's background {bg[:4]} is not inside the VM's frame {box}")
        print(f"xterm through Xwayland: window after {time.monotonic() - started:.1f} s, "
              f"background {bg[2]}x{bg[3]} inside the frame")
        open(os.path.join(results, "xterm.done"), "w").close()
        res = guest.wait()
        log = res.files.get("agent.log", b"").decode(errors="replace")
        t.check(res.status == 0, f"guest command failed ({res.status}):\n{res.output[-3000:]}"
                f"\nagent log:\n{log[-3000:]}")
        tessera.stop()
    finally:
        if guest is not None:
            guest.kill()
        if tessera is not None:
            tessera.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)


if __name__ == "__main__":
    tessera_vm.test_main(t.main, test)
