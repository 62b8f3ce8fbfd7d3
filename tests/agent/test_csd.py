#!/usr/bin/env python3
"""Client-side decorated guest windows: the VM frame hugs the window
geometry. What a guest client draws outside its geometry (a shadow) is
cropped (vmd sets a viewport on the host surface), so:

* guest-client --shadow: a 300x200 window inside a buffer 24 pixels larger
  on every side, the border in a shadow colour. The shadow colour appears
  nowhere on screen; the content fills the inside of the VM frame exactly
  (gap 0 on every side); a subsurface keeps its place relative to the
  content; a click where the shadow would be reaches nobody, a click on
  the window arrives at surface coordinates (geometry offset included).
* weston-terminal (client-side decorations with a shadow): the pixels right
  inside the VM frame are the terminal's own frame, not its shadow.
"""

import subprocess

import agent_test as a
import tessera_test as t

BORDER = 4  # TESSERA_BORDER_WIDTH
TITLE = 22  # TESSERA_TITLE_HEIGHT
SHADOW = 24
CONTENT = "2060a0"
SHADOW_COLOR = "ff00ff"
SUB = "30c050"


def frame_gaps(png, frame, inside):
    """Columns/rows between the inner edge of the VM frame (box of the
    frame colour) and the first pixel on which inside(colour) holds,
    along the middle row and column, for left, right, top, bottom."""
    fx, fy, fw, fh, _ = frame
    ix1, iy1 = fx + BORDER, fy + TITLE
    ix2, iy2 = fx + fw - BORDER - 1, fy + fh - BORDER - 1
    my, mx = (iy1 + iy2) // 2, (ix1 + ix2) // 2
    rays = {
        "left": [(x, my) for x in range(ix1, mx)],
        "right": [(x, my) for x in range(ix2, mx, -1)],
        "top": [(mx, y) for y in range(iy1, my)],
        "bottom": [(mx, y) for y in range(iy2, my, -1)],
    }
    gaps = {}
    for side, points in rays.items():
        colours = png.pixels(points)
        gaps[side] = next((i for i, c in enumerate(colours) if inside(c)), len(colours))
    return gaps


def test_shadow_client(loop, pointer):
    client = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--frames", "3",
                                "--size", "300x200", "--color", CONTENT,
                                "--shadow", f"{SHADOW},{SHADOW_COLOR}",
                                "--subsurface", f"{SHADOW + 10},{SHADOW + 10},50,30,{SUB}",
                                "--title", "shadow"],
                               stdout=subprocess.PIPE, text=True)
    a.read_until(client, "done 3")
    png = a.screenshot_with(loop, [CONTENT, SUB], what="the shadowed window")
    t.check(png.count(SHADOW_COLOR) == 0,
            f"{png.count(SHADOW_COLOR)} pixels of the client's shadow on screen")
    x, y, w, h, n = png.bbox(CONTENT)
    t.check((w, h, n) == (300, 200, 300 * 200 - 50 * 30),
            f"content {w}x{h} ({n} pixels), expected 300x200 minus the subsurface")
    t.check(png.bbox(SUB)[:4] == (x + 10, y + 10, 50, 30),
            f"subsurface at {png.bbox(SUB)[:4]}, expected {(x + 10, y + 10, 50, 30)}")
    frame = png.bbox(a.VM_COLOR)
    t.check(frame is not None and frame[:4] == (x - BORDER, y - TITLE, w + 2 * BORDER,
                                                h + TITLE + BORDER),
            f"VM frame at {frame}, expected tight around the content at {(x, y, w, h)}")
    gaps = frame_gaps(png, frame, lambda c: c == CONTENT)
    t.check(set(gaps.values()) == {0}, f"gap between the frame and the window: {gaps}")
    # the frame's colour right around the content, on every side
    ring = [(x - 1, y + h // 2), (x + w, y + h // 2), (x + w // 2, y + h),
            (x + w - 1, y - 1)]
    t.check(set(png.pixels(ring)) == {a.VM_COLOR},
            f"around the content: {png.pixels(ring)}, expected the frame colour")

    # Where the shadow was drawn (left of the frame, and below it) nothing
    # of the client receives a click; on the window, the client gets the
    # coordinates in its surface (shadow included).
    loop.tessera.run([pointer, "move", x - BORDER - SHADOW // 2, y + 50, "sleep", "100",
                      "click", "left", "sleep", "100",
                      "move", x + 100, y + h + BORDER + SHADOW // 2, "sleep", "100",
                      "click", "left", "sleep", "100",
                      "move", x + 100, y + 50, "sleep", "100", "click", "left",
                      "sleep", "100", "move", x + 120, y + 60, "sleep", "100"])
    lines = a.read_until(client, f"pointer motion {SHADOW + 120} {SHADOW + 60}")
    events = [line for line in lines if line.startswith("pointer")]
    t.check(events[:1] == [f"pointer enter {SHADOW + 100} {SHADOW + 50}"],
            f"expected the first pointer event to be the enter on the window at "
            f"{(SHADOW + 100, SHADOW + 50)}: {events}")
    presses = [line for line in events if line == "pointer button 272 pressed"]
    t.check(len(presses) == 1, f"expected one click on the window, got {events}")
    a.stop_client(client)
    loop.wait_title("[guest] shadow", present=False)


def luminance(colour):
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return (r * 299 + g * 587 + b * 114) // 1000


def test_weston_terminal(loop):
    terminal = t.host_program("weston-terminal")
    proc = loop.guest_client([terminal], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    t.wait_for(lambda: any(title.startswith("[guest]") for title in loop.titles()), 20,
               "weston-terminal's window")

    def framed():
        png = loop.tessera.screenshot()
        frame = png.bbox(a.VM_COLOR)
        return (png, frame) if frame is not None and frame[2] > 100 else None
    png, frame = t.wait_for(framed, 15, "weston-terminal framed")
    # Its frame (light grey, title bar above the dark terminal) fills the
    # VM frame; its shadow is dark over the black background.
    gaps = frame_gaps(png, frame, lambda c: luminance(c) > 0x80)
    print(f"weston-terminal: VM frame {frame[:4]}, gaps {gaps}")
    t.check(set(gaps.values()) == {0},
            f"gap between the VM frame and weston-terminal's window: {gaps}")
    proc.terminate()
    proc.wait()
    t.wait_for(lambda: not any(title.startswith("[guest]") for title in loop.titles()),
               15, "weston-terminal gone")


def test():
    pointer = t.program("TESSERA_TEST_POINTER")
    t.host_program("grim")
    loop = a.Loopback(size=(1024, 768))
    try:
        test_shadow_client(loop, pointer)
        test_weston_terminal(loop)
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
