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
* gtk3-widget-factory (GTK 3, header bar and shadow drawn by the client):
  framed without gap the same way.
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


def check_framed_without_gap(loop, argv, name, env=None):
    """A client-side decorated application in the guest: the pixels right
    inside its VM frame, on every side, are its window's (bright: frame,
    header bar, background), not its shadow (dark over the black
    background)."""
    log = open(f"{loop.tessera.tmp}/{name}.log", "w")
    proc = subprocess.Popen(argv, env=env or loop.guest_env, stdout=log, stderr=log)
    loop.tessera.clients.append(proc)
    t.wait_for(lambda: any(title.startswith("[guest]") for title in loop.titles()), 30,
               f"{name}'s window")

    def framed():
        png = loop.tessera.screenshot()
        frame = png.bbox(a.VM_COLOR)
        if frame is None or frame[2] < 100:
            return None
        return frame, frame_gaps(png, frame, lambda c: luminance(c) > 0x80)
    # the window may show its first frames before it is drawn in full
    try:
        frame, gaps = t.wait_for(
            lambda: (lambda r: r if r and set(r[1].values()) == {0} else None)(framed()),
            15, f"{name} framed without gap")
    except BaseException:
        print(f"{name}: last measure (frame, gaps): {framed()}")
        raise
    print(f"{name}: VM frame {frame[:4]}, gaps {gaps}")
    proc.terminate()
    proc.wait()
    log.close()
    t.wait_for(lambda: not any(title.startswith("[guest]") for title in loop.titles()),
               15, f"{name} gone")


def test_weston_terminal(loop):
    check_framed_without_gap(loop, [t.host_program("weston-terminal")], "weston-terminal")


def test_gtk3(loop):
    # GTK on the agent's display only; no session bus or settings daemon
    env = dict(loop.guest_env, GDK_BACKEND="wayland", NO_AT_BRIDGE="1",
               GSETTINGS_BACKEND="memory")
    check_framed_without_gap(loop, [t.host_program("gtk3-widget-factory")],
                             "gtk3-widget-factory", env=env)


def test():
    pointer = t.program("TESSERA_TEST_POINTER")
    t.host_program("grim")
    # room for gtk3-widget-factory's window, frame included
    loop = a.Loopback(size=(1600, 1000))
    try:
        test_shadow_client(loop, pointer)
        test_weston_terminal(loop)
        test_gtk3(loop)
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
