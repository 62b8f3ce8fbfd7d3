#!/usr/bin/env python3
"""What a VM window cannot do on its own: go fullscreen or maximized,
move or resize itself (no button held), choose its position by moving its
window geometry, escape its frame with subsurfaces. A VM's client
(guest-client on the tagged connection) sets its window geometry to its
main surface and puts one subsurface above-left of it and one
below-right: the frame goes around all of it, every VM pixel is inside.
Then it asks to be maximized, fullscreen, moved and resized and moves its
geometry's origin: tessera answers with a configure that has none of
those states and imposes no size, and the window stays exactly where it
was, pixel for pixel."""

import compositor_test
import tessera_test as t

FRAME = "cc3333"
MAIN = ("33cc33", 160, 100)
# colour, x, y, w, h relative to the window's top left corner
SUBSURFACES = [("ddcc22", -60, -40, 50, 30), ("2288ee", 170, 110, 70, 50)]
REQUESTS = ["maximize", "fullscreen", "move", "resize",
            # the geometry's origin 100 px left and 50 px up, in the subsurface
            "geometry=-100,-50,160,100"]


def framed_window(png):
    """(frame box, content boxes by colour): the window's frame surrounds
    the union of its surfaces, and every VM pixel is inside the frame."""
    boxes = {}
    for color, w, h in [MAIN] + [(c, sw, sh) for c, _, _, sw, sh in SUBSURFACES]:
        box = png.bbox(color)
        t.check(box is not None, f"no pixel of #{color}")
        # all of it visible: nothing clipped, nothing hidden under the frame
        t.check(box[2:] == (w, h, w * h), f"#{color} shows as {box}, expected {w}x{h}")
        boxes[color] = box[:4]
    x0 = min(b[0] for b in boxes.values())
    y0 = min(b[1] for b in boxes.values())
    x1 = max(b[0] + b[2] for b in boxes.values())
    y1 = max(b[1] + b[3] for b in boxes.values())
    frame = png.bbox(FRAME)
    t.check(frame is not None, "no frame")
    expected = (x0 - t.BORDER, y0 - t.TITLE, x1 - x0 + 2 * t.BORDER,
                y1 - y0 + t.TITLE + t.BORDER)
    t.check(frame[:4] == expected, f"frame {frame[:4]} does not surround the "
            f"window's surfaces {(x0, y0, x1 - x0, y1 - y0)}: expected {expected}")
    # Every side is frame colour along its whole length.
    fx, fy, fw, fh = expected
    sides = ([(x, fy + t.TITLE - 1) for x in range(fx, fx + fw, 7)] +
             [(x, fy + fh - 1) for x in range(fx, fx + fw, 7)] +
             [(fx, y) for y in range(fy, fy + fh, 7)] +
             [(fx + fw - 1, y) for y in range(fy, fy + fh, 7)])
    colors = png.pixels(sides)
    wrong = [(p, c) for p, c in zip(sides, colors) if c != FRAME]
    t.check(not wrong, f"frame pixels of another colour: {wrong[:5]}")
    # The subsurfaces sit where the client put them, relative to the window.
    mx, my = boxes[MAIN[0]][:2]
    for color, sx, sy, _, _ in SUBSURFACES:
        t.check(boxes[color][:2] == (mx + sx, my + sy),
                f"#{color} at {boxes[color][:2]}, expected {(mx + sx, my + sy)}")
    return expected, boxes


def test():
    client = t.program("AGENT_GUEST_CLIENT")
    args = ["--color", MAIN[0], "--size", f"{MAIN[1]}x{MAIN[2]}", "--frames", "2",
            "--title", "requests", "--trigger", "go",
            # the window proper is the main surface: the subsurfaces stick out
            "--geometry", f"0,0,{MAIN[1]},{MAIN[2]}"]
    for color, x, y, w, h in SUBSURFACES:
        args += ["--subsurface", f"{x},{y},{w},{h},{color}"]
    for request in REQUESTS:
        args += ["--request", request]
    env = {"FAKE_VMD_CLIENT_work": client, "FAKE_VMD_ARGS_work": " ".join(args)}
    tessera = t.Tessera(size=(800, 600), config=compositor_test.fake_vm_config(
        {"work": FRAME}), env=env)
    try:
        log = t.ClientLog(f"{tessera.tmp}/work.log")
        log.wait("done 2")
        png = t.wait_for(lambda: (lambda p: p if all(
            p.bbox(c) for c in [MAIN[0]] + [s[0] for s in SUBSURFACES]) else None)(
            tessera.screenshot()), 10, "the VM window and its subsurfaces")
        frame, boxes = framed_window(png)
        configures = len(log.matching("configure "))
        t.check(configures >= 1, "no configure before the requests")

        mark = t.log_mark(log)
        open(f"{tessera.tmp}/go", "w").close()
        log.wait("requested")
        after = log.lines()[mark:]
        sizes = [line for line in after if line.startswith("configure ")]
        states = [line for line in after if line.startswith("states ")]
        # tessera answers maximize and fullscreen (xdg-shell wants a
        # configure) but grants nothing
        t.check(len(sizes) >= 1, f"no configure answered the requests: {after}")
        t.check(all(line == "configure 0 0" for line in sizes),
                f"tessera imposed a size: {sizes}")
        for line in log.matching("states "):
            t.check("maximized" not in line and "fullscreen" not in line
                    and "resizing" not in line, f"granted: {line}")
        t.check(states and all("activated" in line for line in states),
                f"the focused window lost its activated state: {states}")

        png = tessera.screenshot()
        frame_after, boxes_after = framed_window(png)
        t.check((frame_after, boxes_after) == (frame, boxes),
                f"the window moved or changed: frame {frame} -> {frame_after}, "
                f"surfaces {boxes} -> {boxes_after}")
        t.check(tessera.alive(), "tessera died")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
