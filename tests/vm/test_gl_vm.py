"""vm-gl: GBM, X11, GL and video in a real guest, through tessera-agent
over the virtgpu transport.

tessera (headless) starts tessera-vmd for `[vm guest]`; QEMU (>= 8, TCG)
boots the Debian 6.1 guest with `vhost-user-gpu-pci` on vmd's socket (`gpu =
off`: a 2D virtio-gpu without virgl). In the guest, from the 9p-shared host root, one
tessera-agent (--xwayland on) serves, one after the other:

1. tessera-simple-dmabuf: buffers from Mesa's GBM on the virtio-gpu DRM
   node, shared through linux-dmabuf. On the render node Mesa's GBM needs
   the virgl driver (3D); without it the client's exit status and message
   are recorded and printed (why is in the report of test_gl_vm's output:
   the driver's own debug lines), and the card node, where GBM falls back
   to dumb buffers, is used. Checked: its window with its colour inside the
   VM frame; every frame forwarded with zero copies (the agent's counters
   around the client, SIGUSR1).
2. xterm through the agent's Xwayland: "[guest] xterm-guest" framed on
   tessera with its background colour and text.
3. weston-simple-egl (Mesa in the guest): its window presents; its
   frames/s printed.
4. mpv playing a 1080p, 30 frames/s clip (made by ffmpeg on the host at
   test time, read by the guest from the results share): it plays to the
   end; frames played and dropped printed. The clip lasts --clip-seconds
   (default 30): under TCG mpv takes 2 to 20 times the clip's length on a
   shared 2-core host (30 s of clip took 172 s at load average 7; 5 s
   took 10 s on a quiet machine, 83 to 129 s at load 11 to 12).
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
import video_clip  # noqa: E402

VM = "guest"
FRAME = "2e7d32"
GBM = "e07010"
XTERM_BG = "1040a0"
EGL_SECONDS = 20

GUEST = tessera_vm.SHELL_HELPERS + r"""
WAIT_SECONDS=300
# the agent's counters, logged on SIGUSR1: wait for the line
counters() {
	before=$(grep -c 'counters (SIGUSR1)' agent.log)
	kill -USR1 $agent
	n=0
	while [ "$(grep -c 'counters (SIGUSR1)' agent.log)" = "$before" ]; do
		[ $n -lt 300 ] || fail "no counters from the agent"
		sleep 0.1
		n=$((n + 1))
	done
	grep 'counters (SIGUSR1)' agent.log | tail -n 1 > "$1"
}
ls -l /dev/dri > dri.txt 2>&1
"$AGENT" -v --transport virtgpu --socket wayland-1 --xwayland on \
	> agent.out 2> agent.log &
agent=$!
n=0
until grep -q '^DISPLAY=' agent.out; do
	[ $n -lt 600 ] || fail "the agent printed no DISPLAY"
	sleep 0.1
	n=$((n + 1))
done
export WAYLAND_DISPLAY=wayland-1
export "$(grep '^DISPLAY=' agent.out)"

# 1. GBM: the render node, then (if Mesa cannot use it) the card node.
# The client runs until the host has seen its window (gbm-seen) or it
# fails; SIGTERM ends it with status 0.
run_gbm() {
	name=$1
	shift
	"$DMABUF" "$@" --color @GBM@ --title "gbm-$name" > "dmabuf-$name.out" 2> "dmabuf-$name.log" &
	pid=$!
	while [ ! -e gbm-seen ] && kill -0 $pid 2>/dev/null; do
		sleep 0.1
	done
	kill $pid 2>/dev/null
	status=0
	wait $pid || status=$?
	echo $status > "dmabuf-$name.status"
}
counters gbm-before.txt
run_gbm render
if [ "$(cat dmabuf-render.status)" != 0 ]; then
	# why: Mesa's loader and driver messages
	EGL_LOG_LEVEL=debug LIBGL_DEBUG=verbose MESA_DEBUG=1 "$DMABUF" --frames 1 \
		> dmabuf-debug.log 2>&1
	run_gbm card --device "$(ls /dev/dri/card* | head -n 1)"
fi
counters gbm-after.txt
touch gbm-done
wait_file step2

# 2. xterm through Xwayland
xterm -title xterm-guest -bg '#@XTERM@' -fg white -geometry 50x8 \
	-e sh -c 'echo tessera through Xwayland; sleep 600' > xterm.log 2>&1 &
xterm=$!
wait_file step3
kill $xterm

# 3. weston-simple-egl
stdbuf -oL weston-simple-egl -o > egl.out 2>&1 &
egl=$!
wait_file step4
kill $egl
wait $egl

# 4. mpv
counters mpv-before.txt
mpv @MPV@ > mpv.out 2>&1
echo $? > mpv.status
counters mpv-after.txt
touch mpv-done
wait_file done
kill $agent
status=0
wait $agent || status=$?
echo "agent exit $status" > agent.status
[ "$status" = 0 ] || fail "the agent exited with status $status"
"""


def counters(text):
    return {k.strip(): int(v) for k, v in re.findall(r"([a-z -]+) (\d+)",
                                                     text.split(":", 2)[-1])}


def test(args):
    agent = t.program("TESSERA_AGENT")
    dmabuf = t.program("TESSERA_SIMPLE_DMABUF")
    t.program("TESSERA_TEST_TOPLEVELS")
    t.program("TESSERA_VMD")
    tessera_vm.require(args.kernel, t.skip)
    t.host_program("grim")
    for name in ("xterm", "Xwayland", "weston-simple-egl", "mpv", "ffmpeg"):
        t.host_program(name)

    sock_dir = tempfile.mkdtemp(prefix="tessera-vm-gl-")
    sock = os.path.join(sock_dir, "gpu.sock")
    # the 2D device (virgl has its own test, vm-virgl)
    config = f"[vm {VM}]\ncolor = #{FRAME}\nvhost-user = {sock}\ngpu = off\n"
    tessera = None
    guest = None
    try:
        tessera = t.Tessera(size=(1024, 768), config=config,
                            env={"TESSERA_VMD": os.environ["TESSERA_VMD"]})
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's socket")
        mpv_args = " ".join(video_clip.mpv_command("", "clip.mp4", "video")[1:])
        script = (f"AGENT={agent}\nDMABUF={dmabuf}\n" +
                  GUEST.replace("@GBM@", GBM)
                  .replace("@XTERM@", XTERM_BG).replace("@MPV@", mpv_args))
        guest = tessera_vm.Guest(script, kernel=args.kernel, build_dir=args.build_dir,
                                 qemu_args=["-chardev", f"socket,id=gpu,path={sock}",
                                            "-device", "vhost-user-gpu-pci,chardev=gpu"],
                                 append="video=Virtual-1:d", memory="2G",
                                 # the whole run, under meson's 900 s
                                 timeout=840)
        try:
            guest.start()
        except tessera_vm.VmSkip as e:
            t.skip(str(e))
        results = guest.results_dir
        # the clip, in the results share the guest reads
        clip = os.path.join(results, "clip.mp4")
        took = video_clip.make_clip(t.host_program("ffmpeg"), clip, args.clip_seconds)
        print(f"ffmpeg made the {args.clip_seconds} s 1080p clip in {took:.1f} s")

        def result(name):
            data = guest.result_file(name)
            return None if data is None else data.decode(errors="replace")

        def guest_file(name, timeout, what):
            def ready():
                if guest.proc.poll() is not None:
                    t.fail(f"the guest stopped early:\n{guest_output()}")
                return result(name) is not None
            t.wait_for(ready, timeout, what)

        def guest_output():
            return "\n".join(f"--- {n}:\n{(result(n) or '')[-1500:]}" for n in
                             ("agent.log", "dmabuf-render.log", "dmabuf-card.log", "dri.txt"))

        def inside_frame(color, what, timeout=60):
            png = t.wait_for(lambda: (lambda p: p if p.bbox(color) and p.bbox(FRAME)
                                      else None)(tessera.screenshot()),
                             timeout, f"{what}'s colour in a VM frame")
            x, y, w, h, _ = png.bbox(color)
            fx, fy, fw, fh, _ = png.bbox(FRAME)
            t.check(fx < x and fy < y and fx + fw > x + w and fy + fh > y + h,
                    f"{what} {(x, y, w, h)} is not inside the VM frame {(fx, fy, fw, fh)}")
            return png, (x, y, w, h)

        # 1. GBM
        def gbm_window():
            if guest.proc.poll() is not None:
                t.fail(f"the guest stopped early:\n{guest_output()}")
            names = tessera.titles()
            for node in ("render", "card"):
                if f"[{VM}] gbm-{node}" in names:
                    return node
            if result("dmabuf-card.status") is not None:
                t.fail(f"tessera-simple-dmabuf failed on both nodes:\n{guest_output()}")
            return None
        node = t.wait_for(gbm_window, args.timeout, "the GBM client's window")
        png, box = inside_frame(GBM, f"the GBM client ({node} node)")
        # the square moves in the middle: the colour's box is the buffer's
        t.check((box[2], box[3]) == (256, 256), f"the GBM window's colour is {box[2]}x{box[3]}")
        open(os.path.join(results, "gbm-seen"), "w").close()
        guest_file("gbm-done", 120, "the GBM client's end")
        status = int(result(f"dmabuf-{node}.status"))
        out = (result(f"dmabuf-{node}.out") or "").strip()
        t.check(status == 0, f"tessera-simple-dmabuf on the {node} node exited {status}:\n"
                f"{result(f'dmabuf-{node}.log')}\n{guest_output()}")
        before, after = counters(result("gbm-before.txt")), counters(result("gbm-after.txt"))
        commits = after["commits"] - before["commits"]
        zero = after["zero-copy commits"] - before["zero-copy commits"]
        copied = after["bytes copied"] - before["bytes copied"]
        # every commit but the first (the xdg-shell one, without a buffer)
        # brought a GBM buffer: each one forwarded without a copy
        t.check(commits >= 3 and zero == commits - 1 and copied == 0,
                f"GBM frames on the {node} node: {commits} commits, {zero} zero-copy, "
                f"{copied} bytes copied")
        print(f"tessera-simple-dmabuf in the guest, GBM on the virtio-gpu {node} node: "
              f"{zero} buffers committed, all zero-copy, 0 bytes copied; {out}")
        if node == "card":
            debug = result("dmabuf-debug.log") or ""
            print(f"GBM on the render node: exit {result('dmabuf-render.status').strip()}: "
                  f"{(result('dmabuf-render.log') or '').strip()}")
            print("Mesa on the render node said:\n  " + "\n  ".join(
                line for line in debug.splitlines()
                if line.strip() and "drirc" not in line)[:3000])

        # 2. xterm through Xwayland
        open(os.path.join(results, "step2"), "w").close()
        t.wait_for(lambda: f"[{VM}] xterm-guest" in tessera.titles(), 120,
                   "xterm's window from the guest's Xwayland")
        # its text may come a frame after its background: wait for both
        def xterm_text():
            png, box = inside_frame(XTERM_BG, "xterm")
            return (png, box) if png.region(*box)[0] >= 2 else None
        png, (x, y, w, h) = t.wait_for(xterm_text, 60, "xterm's text")
        t.check(w >= 200 and h >= 80, f"xterm's window is {w}x{h}")
        distinct, dominant = png.region(x, y, w, h)
        t.check(dominant == XTERM_BG, f"xterm: dominant #{dominant}, not its background")
        print(f"xterm through Xwayland in the guest: {w}x{h}, {distinct} colours")
        open(os.path.join(results, "step3"), "w").close()
        t.wait_for(lambda: f"[{VM}] xterm-guest" not in tessera.titles(), 60,
                   "xterm's window gone")

        # 3. weston-simple-egl
        t.wait_for(lambda: f"[{VM}] simple-egl" in tessera.titles(), 120,
                   "weston-simple-egl's window")
        t0 = time.monotonic()

        def egl_rates():
            return [float(m) for m in re.findall(r"frames in [\d.]+ seconds: ([\d.]+) fps",
                                                 result("egl.out") or "")]
        t.wait_for(lambda: len(egl_rates()) >= 2 or time.monotonic() - t0 > EGL_SECONDS
                   and egl_rates(), 120, "weston-simple-egl's frame reports")
        rates = egl_rates()
        t.check(all(r > 0 for r in rates), f"weston-simple-egl in the guest: {rates}")
        print(f"weston-simple-egl in the guest (Mesa, TCG): {rates} frames/s")
        open(os.path.join(results, "step4"), "w").close()
        mpv_start = time.monotonic()

        # 4. mpv
        t.wait_for(lambda: f"[{VM}] video" in tessera.titles() or result("mpv-done"),
                   120, "mpv's window from the guest")
        guest_file("mpv-done", args.clip_seconds * 20 + 120, "mpv's end")
        played = time.monotonic() - mpv_start
        mpv_out = result("mpv.out") or ""
        t.check(result("mpv.status") == "0\n",
                f"mpv in the guest exited {result('mpv.status')}:\n{mpv_out[-2000:]}")
        fig = video_clip.figures(mpv_out)
        t.check(fig is not None and (fig.get("time-pos") or 0) >= args.clip_seconds - 1,
                f"mpv did not play to the end: {fig}\n{mpv_out[-2000:]}")
        commits = (counters(result("mpv-after.txt"))["commits"] -
                   counters(result("mpv-before.txt"))["commits"])
        t.check(commits > 0, "mpv's frames did not reach the host")
        print(f"mpv in the guest (TCG, vo=wlshm), {args.clip_seconds} s of 1080p30 in about "
              f"{played:.0f} s: " + video_clip.summary(fig, commits))

        open(os.path.join(results, "done"), "w").close()
        res = guest.wait()
        t.check(res.status == 0, f"guest command failed ({res.status}):\n"
                f"{res.output[-3000:]}\n{guest_output()}")
        tessera.stop()
        stats = re.findall(r"vm '%s': frames \d+, bytes copied \d+.*" % VM, tessera.log())
        if stats:
            print(f"tessera-vmd: {stats[-1]}")
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
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--clip-seconds", type=int, default=30)
    args = parser.parse_args()
    t.main(lambda: test(args))


if __name__ == "__main__":
    main()
