#!/usr/bin/env python3
"""GL clients in the guest, through tessera-agent over the vhost-user
loopback, rendered by Mesa (llvmpipe: the host has no GPU to give):

* weston-simple-egl (-o, opaque): its window appears framed in the VM
  colour with the triangle's many colours; it keeps presenting (two
  screenshots a second apart differ inside the window, and it reports
  frames every 5 s); the frames/s it prints are printed.
* tessera-simple-egl (libepoxy, wayland-egl): its background colour
  fills its 250x250 window inside the VM frame exactly, the triangle's
  colours are inside, it keeps presenting; frames/s printed. Given no
  EGL (LD_LIBRARY_PATH pointing at a libEGL.so.1 that is no library) it
  exits 3 with "cannot load EGL" or "cannot initialise EGL".
* glmark2-es2-wayland, in its default mode (swap interval 0: it renders
  ahead and needs its buffers back at once; Mesa 22.3 crashes when none
  is free) and with --swap-mode fifo (one frame per frame callback): two
  short scenes each in a window on tessera that keeps presenting; its
  frames/s and score printed.
* tessera-simple-dmabuf with no DRM render node (--device of a missing
  path; on a host without /dev/dri also the default): exits 3 with
  "cannot open DRM device" / "cannot find a DRM render node". (Its
  buffers on a real render node are tested in the QEMU guest:
  tests/vm/test_gl_vm.py.)
"""

import os
import re
import subprocess
import time

import agent_test as a
import tessera_test as t

EGL_BACKGROUND = "203040"
FPS_LINE = re.compile(r"(\d+) frames in ([\d.]+) (?:s|seconds): ([\d.]+) (?:frames/s|fps)")


class Output:
    """A client's stdout in a file, read as it grows."""

    def __init__(self, path):
        self.path = path

    def text(self):
        with open(self.path, errors="replace") as f:
            return f.read()

    def rates(self):
        return [float(m.group(3)) for m in FPS_LINE.finditer(self.text())]


def start(loop, name, argv, env=None):
    out = Output(os.path.join(loop.tessera.tmp, f"{name}.out"))
    with open(out.path, "w") as f:
        genv = dict(loop.guest_env)
        genv.update(env or {})
        proc = subprocess.Popen(argv, env=genv, stdout=f, stderr=subprocess.STDOUT)
    loop.tessera.clients.append(proc)
    return proc, out


def window_box(png):
    """The inside of the (single) VM frame on screen."""
    frame = png.bbox(a.VM_COLOR)
    t.check(frame is not None, "no VM frame on screen")
    fx, fy, fw, fh, _ = frame
    return (fx + t.BORDER, fy + t.TITLE, fw - 2 * t.BORDER, fh - t.TITLE - t.BORDER)


def check_presenting(loop, what, min_colors):
    """The window shows many colours and changes from one second to the next."""
    def drawn():
        png = loop.tessera.screenshot()
        if png.bbox(a.VM_COLOR) is None:
            return None
        box = window_box(png)
        return (png, box) if png.region(*box)[0] >= min_colors else None

    png, box = t.wait_for(drawn, 30, f"{what}'s drawing in its VM frame")
    t.check(box[2] > 100 and box[3] > 100, f"{what}'s window is {box[2]}x{box[3]}")
    first = png.pixels([(x, y) for x in range(box[0], box[0] + box[2], 7)
                        for y in range(box[1], box[1] + box[3], 7)])
    time.sleep(1)
    png2 = loop.tessera.screenshot()
    t.check(window_box(png2) == box, f"{what}'s frame moved")
    second = png2.pixels([(x, y) for x in range(box[0], box[0] + box[2], 7)
                          for y in range(box[1], box[1] + box[3], 7)])
    t.check(first != second, f"{what} stopped presenting: the same pixels a second apart")
    return png, box


def wait_rates(proc, out, what, count=2):
    t.wait_for(lambda: len(out.rates()) >= count or proc.poll() is not None, 40,
               f"{count} frame reports of {what}")
    t.check(proc.poll() is None, f"{what} exited early:\n{out.text()[-2000:]}")
    rates = out.rates()
    t.check(all(r > 0 for r in rates), f"{what} reports no frames: {rates}")
    return rates


def stop(proc, what):
    proc.terminate()
    try:
        status = proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        t.fail(f"{what} did not end on SIGTERM")
    return status


def test_weston_simple_egl(loop):
    # its reports are printf()s: line-buffered into the file (stdbuf)
    proc, out = start(loop, "weston-simple-egl", ["stdbuf", "-oL",
                                                  t.host_program("weston-simple-egl"), "-o"])
    loop.wait_title("[guest] simple-egl", timeout=30)
    check_presenting(loop, "weston-simple-egl", 16)
    rates = wait_rates(proc, out, "weston-simple-egl")
    print(f"weston-simple-egl through the agent (llvmpipe): {rates} frames/s")
    stop(proc, "weston-simple-egl")
    loop.wait_title("[guest] simple-egl", present=False)


def sanitizer_env(env):
    """Under ASan (the sanitizer pass), for tessera-simple-egl only: the
    slow unwinder (tests/meson.build) deadlocks in libgcc's
    _Unwind_Find_FDE when llvmpipe's JIT registers its code's frames from
    inside malloc, so it unwinds the fast way; and Mesa's driver leaks
    112 bytes at exit from inside the module eglTerminate() unloads, whose
    frames have no name a suppression could match, so leaks are not
    checked (memory errors still are)."""
    opts = env.get("ASAN_OPTIONS")
    if opts is not None:
        opts = opts.replace("fast_unwind_on_malloc=0", "fast_unwind_on_malloc=1")
        env = dict(env, ASAN_OPTIONS=opts.replace("detect_leaks=1", "detect_leaks=0"))
    return env


def test_tessera_simple_egl(loop, program):
    proc, out = start(loop, "tessera-simple-egl", [program, "--color", EGL_BACKGROUND,
                                                   "--title", "gl"],
                      env=sanitizer_env(loop.guest_env))
    loop.wait_title("[guest] gl", timeout=30)
    png, box = check_presenting(loop, "tessera-simple-egl", 16)
    t.check((box[2], box[3]) == (250, 250), f"tessera-simple-egl is {box[2]}x{box[3]}")
    # the background reaches the frame on every side: nothing between
    for px, py in ((box[0], box[1]), (box[0] + box[2] - 1, box[1] + box[3] - 1),
                   (box[0] + box[2] // 2, box[1])):
        t.check(png.pixel(px, py) == EGL_BACKGROUND,
                f"tessera-simple-egl at {(px, py)} is #{png.pixel(px, py)}")
    rates = wait_rates(proc, out, "tessera-simple-egl")
    print(f"tessera-simple-egl through the agent (llvmpipe): {rates} frames/s")
    t.check(stop(proc, "tessera-simple-egl") == 0, "tessera-simple-egl exited non-zero")
    t.check(FPS_LINE.search(out.text().splitlines()[-1]) is not None,
            f"no frames/s at exit: {out.text()[-300:]}")
    loop.wait_title("[guest] gl", present=False)

    # no EGL library: a clear message and status 3, no crash
    fake = os.path.join(loop.tessera.tmp, "no-egl")
    os.mkdir(fake)
    for lib in ("libEGL.so.1", "libEGL.so"):
        with open(os.path.join(fake, lib), "w") as f:
            f.write("not a library\n")
    env = dict(sanitizer_env(loop.guest_env), LD_LIBRARY_PATH=fake)
    res = subprocess.run([program], env=env, capture_output=True, text=True, timeout=30)
    t.check(res.returncode == 3 and re.search(r"cannot (load|initialise) EGL", res.stderr),
            f"tessera-simple-egl without EGL: status {res.returncode}, {res.stderr!r}")


def test_glmark2(loop):
    glmark2 = t.host_program("glmark2-es2-wayland")
    for mode in (), ("--swap-mode", "fifo"):
        name = " ".join(("glmark2",) + mode)
        proc, out = start(loop, name, [glmark2, *mode, "--size", "320x240",
                                       "-b", "build:duration=4", "-b", "texture:duration=3"])
        # glmark2 sets no title: its window is the VM frame on screen
        check_presenting(loop, name, 8)
        status = proc.wait(60)
        text = out.text()
        t.check(status == 0, f"{name} exited {status}:\n{text[-2000:]}")
        scenes = re.findall(r"\[(\w+)\].*FPS: (\d+)", text)
        score = re.search(r"glmark2 Score: (\d+)", text)
        t.check(len(scenes) == 2 and score is not None, f"{name}'s results:\n{text[-2000:]}")
        t.check(all(int(fps) > 0 for _, fps in scenes), f"{name}: scenes at 0 FPS: {scenes}")
        print(f"glmark2-es2-wayland {' '.join(mode) or '(swap interval 0)'} through the "
              f"agent (llvmpipe): {scenes}, score {score.group(1)}")


def test_simple_dmabuf_no_device(loop, program):
    missing = os.path.join(loop.tessera.tmp, "renderD-missing")
    res = subprocess.run([program, "--device", missing], env=loop.guest_env,
                         capture_output=True, text=True, timeout=30)
    t.check(res.returncode == 3 and f"cannot open DRM device '{missing}'" in res.stderr,
            f"tessera-simple-dmabuf --device {missing}: {res.returncode}, {res.stderr!r}")
    if not os.path.isdir("/dev/dri") or not any(
            n.startswith("renderD") for n in os.listdir("/dev/dri")):
        res = subprocess.run([program], env=loop.guest_env, capture_output=True,
                             text=True, timeout=30)
        t.check(res.returncode == 3 and "cannot find a DRM render node" in res.stderr,
                f"tessera-simple-dmabuf without /dev/dri: {res.returncode}, {res.stderr!r}")


def test():
    simple_egl = t.program("TESSERA_SIMPLE_EGL")
    simple_dmabuf = t.program("TESSERA_SIMPLE_DMABUF")
    t.host_program("weston-simple-egl")
    t.host_program("glmark2-es2-wayland")
    loop = a.Loopback(size=(1024, 768))
    try:
        test_simple_dmabuf_no_device(loop, simple_dmabuf)
        test_weston_simple_egl(loop)
        test_tessera_simple_egl(loop, simple_egl)
        test_glmark2(loop)
        print(f"agent: {loop.agent_counters()}")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
