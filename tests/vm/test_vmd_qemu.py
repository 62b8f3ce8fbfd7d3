#!/usr/bin/env python3
"""vm-vmd-qemu: a real VMM against tessera-vmd.

tessera (headless) starts tessera-vmd for `[vm qemu]`; QEMU (>= 8, TCG)
boots the Debian 6.1 guest kernel with `vhost-user-gpu-pci` on vmd's
socket and guest RAM in a shared memfd. Checked: the guest's virtio_gpu
driver binds with virgl (`[drm] features: +virgl` in the guest's dmesg),
the guest's framebuffer console becomes the VM's console window on tessera
(framed in the VM colour, the guest's mode size, text pixels in it), and a
line the guest writes to /dev/tty1 changes its pixels. Prints the guest's
boot-to-console time and vmd's copy counters per console frame. Exits 77
with the reason when QEMU >= 8 or the guest kernel are missing.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import tessera_proc  # noqa: E402
import tessera_test as t  # noqa: E402
import tessera_vm  # noqa: E402

VM = "qemu"
FRAME = "c62828"
OUTPUT = (1024, 768)
# vmd offers the output's size less a 32-pixel margin on each side
MODE = (OUTPUT[0] - 64, OUTPUT[1] - 64)

GUEST = r"""
fail() { echo "GUEST-FAIL: $*"; exit 1; }
dmesg | grep -F '[drm]' | tee drm.log
grep -q 'features: +virgl' drm.log || fail "no '[drm] features: +virgl'"
grep -q 'Initialized virtio_gpu' drm.log || fail "virtio_gpu did not initialize"
dmesg | grep -iE 'fbcon|frame buffer device' | tee fbcon.log
[ -c /dev/tty1 ] || fail "no /dev/tty1"
cat /sys/class/graphics/fb0/virtual_size > fbsize 2>/dev/null
# clear the console, then a recognisable line, then wait for the host
printf '\033[2J\033[H' > /dev/tty1
i=0
while [ $i -lt 40 ]; do
	echo "tessera-vm-console-test line $i: the quick brown fox" > /dev/tty1
	i=$((i + 1))
done
echo written > written
n=0
while [ ! -e step2 ] && [ $n -lt 1200 ]; do sleep 0.1; n=$((n + 1)); done
printf '\033[2J\033[H' > /dev/tty1
echo written2 > written2
n=0
while [ ! -e done ] && [ $n -lt 1200 ]; do sleep 0.1; n=$((n + 1)); done
echo ok > marker
"""


def console_box(png):
    """Content box of the VM's console window (inside the frame), or None."""
    frame = png.bbox(FRAME)
    if frame is None:
        return None
    fx, fy, fw, fh, _ = frame
    return (fx + t.BORDER, fy + t.TITLE, fw - 2 * t.BORDER,
            fh - t.TITLE - t.BORDER)


def test(args):
    vmd = t.program("TESSERA_VMD")
    tessera_vm.require(args.kernel, t.skip)
    t.host_program("grim")
    t.program("TESSERA_TEST_TOPLEVELS")

    sock_dir = tempfile.mkdtemp(prefix="tessera-vmd-qemu-")
    sock = os.path.join(sock_dir, "gpu.sock")
    config = f"[vm {VM}]\ncolor = #{FRAME}\nvhost-user = {sock}\n"
    tessera = None
    guest = None
    try:
        tessera = t.Tessera(size=OUTPUT, config=config,
                            env={"TESSERA_VMD": vmd})
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's socket")
        pid = t.wait_for(lambda: tessera_proc.find_vmd(sock), 10, "the tessera-vmd process")

        qemu_args = ["-chardev", f"socket,id=gpu,path={sock}",
                     "-device", "vhost-user-gpu-pci,chardev=gpu"]
        guest = tessera_vm.Guest(GUEST, kernel=args.kernel,
                                 build_dir=args.build_dir, qemu_args=qemu_args,
                                 timeout=args.timeout)
        try:
            t0 = time.monotonic()
            guest.start()
        except tessera_vm.VmSkip as e:
            t.skip(str(e))
        results = guest.results_dir

        def console_up():
            if guest.proc.poll() is not None:
                t.fail("the guest stopped before its console appeared")
            png = tessera.screenshot()
            box = console_box(png)
            if box is None:
                return None
            distinct, _ = png.region(*box)
            return (png, box) if distinct >= 2 else None

        png, box = t.wait_for(console_up, args.timeout, "the VM console window "
                              "with text")
        boot_to_console = time.monotonic() - t0
        print(f"guest boot-to-console: {boot_to_console:.2f} s (QEMU start to "
              "console text in tessera's window)")
        x, y, w, h = box
        t.check((w, h) == MODE, f"console window {w}x{h}, expected the "
                f"guest's mode {MODE[0]}x{MODE[1]}")
        # the frame surrounds the content on all sides
        for px, py in ((x - 1, y + h // 2), (x + w, y + h // 2),
                       (x + w // 2, y + h), (x + 1, y - t.TITLE + 1)):
            t.check(png.pixel(px, py) == FRAME,
                    f"pixel {(px, py)} of the console frame is "
                    f"#{png.pixel(px, py)}")
        names = tessera.titles()
        t.check(f"[{VM}] console" in names, f"titles: {names}")

        # the guest's text: wait for its 40 lines, then look at them
        t.wait_for(lambda: os.path.exists(os.path.join(results, "written")) or
                   guest.proc.poll() is not None, args.timeout,
                   "the guest to write to /dev/tty1")
        def text_shown():
            png = tessera.screenshot()
            b = console_box(png)
            if b is None:
                return None
            # fbcon draws grey (#aaaaaa) text on black
            n = png.count("aaaaaa")
            return (png, n) if n > 2000 else None
        png, text_pixels = t.wait_for(text_shown, 30, "the guest's text lines "
                                      "on the console")
        distinct, dominant = png.region(*box)
        t.check(dominant == "000000", f"console background #{dominant}")
        print(f"console: {text_pixels} text pixels, {distinct} colours")
        s1 = tessera_proc.vmd_stats(tessera, pid)

        # the guest clears its console: the text goes
        open(os.path.join(results, "step2"), "w").close()
        t.wait_for(lambda: os.path.exists(os.path.join(results, "written2")) or
                   guest.proc.poll() is not None, 60, "the guest to clear tty1")
        t.wait_for(lambda: tessera.screenshot().count("aaaaaa") < text_pixels // 4,
                   30, "the cleared console")
        s2 = tessera_proc.vmd_stats(tessera, pid)
        open(os.path.join(results, "done"), "w").close()
        res = guest.wait()
        guest = None
        print(res.output, end="")
        print(f"vm-vmd-qemu: {res.summary()}")
        if res.status != 0:
            print("--- console\n" + res.serial[-4000:])
            print("--- qemu stderr\n" + res.qemu_stderr)
            print("--- tessera/vmd log (tail)\n" + tessera.log()[-6000:])
            t.fail(f"guest command exit status {res.status}")
        fbsize = res.files.get("fbsize", b"").decode().strip()
        t.check(fbsize == f"{MODE[0]},{MODE[1]}", f"guest fb0 size {fbsize!r}")

        frames = int(s2["console_frames"])
        copied = int(s2["console_bytes_copied"])
        print(f"vmd: {frames} console frames, {copied} bytes copied "
              f"({copied // max(frames, 1)} per frame on average, "
              f"{s1['console_last_frame_bytes']} in the frame before the "
              f"clear, a full frame is {MODE[0] * MODE[1] * 4}); "
              f"flushes={s2['flushes']} commands={s2['commands']} "
              f"errors={s2['errors']} contexts={s2['contexts']}")
        # the VMM went away: vmd is still there, without the guest's state
        t.wait_for(lambda: tessera_proc.vmd_stats(tessera, pid)["resources"] == "0", 15,
                   "vmd to free the guest's resources after QEMU exited")
        t.check(tessera_proc.find_vmd(sock) == pid, "vmd restarted")
        t.wait_for(lambda: console_box(tessera.screenshot()) is None, 10,
                   "the console window to go with the VM")
        t.check(s2["errors"] == "0", f"the guest driver got error responses: "
                f"{s2['errors']} (see the vmd lines of the log)")
        tessera.stop()
        log = tessera.log()
        t.check("stats (exit)" in log, "vmd printed no counters at exit")
        t.check("AddressSanitizer" not in log and "runtime error" not in log,
                "sanitizer report in the log")
    finally:
        if guest is not None and guest.proc is not None:
            guest.kill()
            guest.wait()
        if tessera is not None:
            tessera.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", choices=tessera_vm.KERNELS, default="6.1")
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--timeout", type=float, default=150)
    args = ap.parse_args()
    t.main(lambda: test(args))


if __name__ == "__main__":
    main()
