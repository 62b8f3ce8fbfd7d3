#!/usr/bin/env python3
"""HiDPI: the scale guest clients see and how their buffers are shown.

The guest client (output-client) draws a checkerboard of 1-pixel squares
in two colours at a density of buffer pixels per surface pixel.

* A scale-2 host output, the VM's scale by default: the guest sees scale
  2. A 100x60 window of density 2 shown with buffer_scale 2, with
  buffer_scale 2 and a viewport, and with buffer_scale 1 and a viewport
  (the HiDPI way of viewporter clients) keeps every buffer pixel on one
  output pixel: 200x120 pixels of exact checkerboard, in a VM frame of
  twice its size.
  The same with every frame drawn by wlroots (TESSERA_WLROOTS_RENDER=1)
  instead of tessera's blits (render.c).
* A client-side decorated window on a scale-2 output: the crop to its
  geometry holds (no shadow pixel, the content at twice its size).
* A scale-1 host output and a VM with scale = 2: the guest sees the output
  at twice the pixels with scale 2, the same place and size in the layout;
  the 2x buffer is shown at half size: the window is 100x60 on the host.
* A scale-2 host output and a VM with scale = 1: the guest sees the
  output's size in the layout with scale 1; a 1x buffer is shown twice as
  large: the frame is twice the window's size plus decorations.
"""

import os
import subprocess

import agent_test as a
import tessera_test as t

BORDER = 4  # TESSERA_BORDER_WIDTH
TITLE = 22  # TESSERA_TITLE_HEIGHT
W, H = 100, 60


def guest_outputs(loop, want):
    probe = loop.guest_client([t.program("AGENT_OUTPUT_CLIENT"), "--no-window"],
                              stdout=subprocess.PIPE, text=True)
    lines = a.read_until(probe, lambda line: line.split()[:1] == ["output"] and
                         line.split()[2:] == want.split(), timeout=20)
    a.stop_client(probe)
    return lines


def window(loop, colors, *args):
    proc = loop.guest_client([t.program("AGENT_OUTPUT_CLIENT"), "--size", f"{W}x{H}",
                              "--colors", ",".join(colors), *args],
                             stdout=subprocess.PIPE, text=True)
    a.read_until(proc, "mapped")
    return proc


def check_sharp(png, colors, what):
    """2W x 2H pixels of exact 1-pixel checkerboard."""
    box = png.bbox(colors[0])
    t.check(box is not None, f"{what}: not on screen")
    x, y, w, h, n = box
    t.check((w, h, n) == (2 * W, 2 * H, 2 * W * H) and png.count(colors[1]) == 2 * W * H,
            f"{what}: {colors[0]} {w}x{h} ({n} pixels), {png.count(colors[1])} of "
            f"{colors[1]}; expected {2 * W}x{2 * H} with {2 * W * H} of each")
    # the first colour where x + y is even, in buffer pixels: the top left
    # pixel of its box is one
    corner = png.pixels([(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1),
                         (x + 2 * W - 1, y + 2 * H - 1)])
    t.check(corner == [colors[0], colors[1], colors[1], colors[0], colors[0]],
            f"{what}: the pixels at the top left corner are {corner}")


def frame_size(png):
    box = png.bbox(a.VM_COLOR)
    return None if box is None else box[2:4]


def test_host_scale_2(wlroots):
    """wlroots: TESSERA_WLROOTS_RENDER=1, every frame drawn by wlroots'
    renderer instead of tessera's blits (render.c)."""
    if wlroots:
        os.environ["TESSERA_WLROOTS_RENDER"] = "1"
    loop = a.Loopback(size=(640, 480), tessera_args=["--outputs", "640x480:2"])
    os.environ.pop("TESSERA_WLROOTS_RENDER", None)
    try:
        guest_outputs(loop, "0 0 640 480 2")
        cases = [
            (("ff0000", "0000ff"), ["--density", "2"], "buffer_scale 2"),
            (("00ff00", "ff00ff"), ["--density", "2", "--viewport"],
             "buffer_scale 2 and a viewport"),
            (("ffff00", "00ffff"), ["--density", "2", "--buffer-scale", "1", "--viewport"],
             "buffer_scale 1 and a viewport to 1/2"),
        ]
        for colors, args, what in cases:
            what += " (wlroots' drawing)" if wlroots else " (tessera's blits)"
            proc = window(loop, colors, *args)
            png = a.screenshot_with(loop, colors, what=what)
            check_sharp(png, colors, what)
            size = frame_size(png)
            t.check(size == (2 * (W + 2 * BORDER), 2 * (H + TITLE + BORDER)),
                    f"{what}: VM frame {size}")
            a.stop_client(proc)
            loop.wait_title("output-client", present=False)
        loop.tessera.stop()
    finally:
        loop.cleanup()


def test_vm_scale(host_scale, vm_scale, density, want_output, want_frame):
    loop = a.Loopback(size=(640, 480), tessera_args=["--outputs", f"640x480:{host_scale}"],
                      vm_config=f"scale = {vm_scale}\n")
    try:
        guest_outputs(loop, want_output)
        colors = ("ff0000", "0000ff")
        proc = window(loop, colors, "--density", str(density))
        what = f"host scale {host_scale}, VM scale {vm_scale}"
        png = t.wait_for(lambda: (lambda p: p if frame_size(p) else None)(
            loop.tessera.screenshot()), 15, what)
        t.check(frame_size(png) == want_frame,
                f"{what}: VM frame {frame_size(png)}, expected {want_frame}")
        if host_scale == density:
            check_sharp(png, colors, what)
        a.stop_client(proc)
        loop.tessera.stop()
    finally:
        loop.cleanup()


def test_csd_scale_2():
    """A client-side decorated window (cropped to its geometry by vmd's
    viewport) on a scale-2 output: tessera's blits keep the crop."""
    loop = a.Loopback(size=(640, 480), tessera_args=["--outputs", "640x480:2"])
    try:
        content, shadow = "2060a0", "ff00ff"
        client = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--frames", "3",
                                    "--size", f"{W}x{H}", "--color", content,
                                    "--shadow", f"12,{shadow}", "--title", "shadow"],
                                   stdout=subprocess.PIPE, text=True)
        a.read_until(client, "done 3")
        png = a.screenshot_with(loop, [content], what="the shadowed window")
        t.check(png.count(shadow) == 0, f"{png.count(shadow)} pixels of the shadow on screen")
        t.check(png.bbox(content)[2:] == (2 * W, 2 * H, 4 * W * H),
                f"content {png.bbox(content)}, expected {2 * W}x{2 * H}")
        t.check(frame_size(png) == (2 * (W + 2 * BORDER), 2 * (H + TITLE + BORDER)),
                f"VM frame {frame_size(png)}")
        a.stop_client(client)
        loop.tessera.stop()
    finally:
        loop.cleanup()


def main():
    test_host_scale_2(wlroots=False)
    test_host_scale_2(wlroots=True)
    test_csd_scale_2()
    # a 2x buffer on a scale-1 output: half size, correct geometry
    test_vm_scale(1, 2, 2, "0 0 1280 960 2", (W + 2 * BORDER, H + TITLE + BORDER))
    # a 1x buffer on a scale-2 output: drawn at twice its size
    test_vm_scale(2, 1, 1, "0 0 320 240 1", (2 * (W + 2 * BORDER), 2 * (H + TITLE + BORDER)))
    # the VM's scale equal to the host's: as without the setting
    test_vm_scale(2, 2, 2, "0 0 640 480 2", (2 * (W + 2 * BORDER), 2 * (H + TITLE + BORDER)))


if __name__ == "__main__":
    t.main(main)
