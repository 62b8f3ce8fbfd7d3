#!/usr/bin/env python3
"""New windows cover nothing while there is room: host windows of assorted
sizes open one after the other on an 800x600 output until it is full.

The rule (server/compositor/placement.c): a spot is free when the window
lies within the output, at least 16 pixels from its top and left edges,
and 8 pixels or more from every other window. For each new window the test
works out from the screenshot, by brute force, whether such a spot
existed; if one did, the new window must show whole, where it covers
nothing and keeps the gap (and until a window had to cascade, every
earlier window must still show whole). When none did, the window cascades: inside the output, whole (it
has the focus, so it is on top), and with a top left corner of its own,
so that it does not hide another window exactly."""

import tessera_test as t

W, H = 800, 600
MARGIN, GAP = 16, 8
SIZES = [(300, 200), (200, 150), (250, 250), (150, 100), (350, 120), (120, 300),
         (200, 200), (180, 90), (260, 140), (100, 100), (300, 150), (220, 180),
         (240, 160), (160, 240)]
# distinct, saturated and far from each other and from the black background
COLORS = ["e6194b", "3cb44b", "ffe119", "4363d8", "f58231", "911eb4", "46f0f0",
          "f032e6", "bcf60c", "fabebe", "008080", "e6beff", "9a6324", "fffac8"]


def free_spot_exists(boxes, w, h):
    """Whether a w x h window has a free spot among boxes, by rows."""
    for y in range(MARGIN, H - h + 1):
        blocked = sorted((bx - GAP - w + 1, bx + bw + GAP - 1)
                         for bx, by, bw, bh in boxes
                         if by - GAP - h + 1 <= y <= by + bh + GAP - 1)
        x = MARGIN
        for lo, hi in blocked:
            if lo > x:
                break
            x = max(x, hi + 1)
        if x <= W - w:
            return True
    return False


def gap_between(a, b):
    """The distance between two boxes along the axis that separates them
    (negative: they overlap)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return max(bx - (ax + aw), ax - (bx + bw), by - (ay + ah), ay - (by + bh))


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    tessera = t.Tessera(size=(W, H))
    try:
        placed, cascaded = [], 0
        for i, (w, h) in enumerate(SIZES):
            free = free_spot_exists([box for box, _ in placed], w, h)
            log = t.ClientLog(f"{tessera.tmp}/w{i}.log")
            tessera.client([simple_shm, "--color", COLORS[i], "--size", f"{w}x{h}",
                            "--title", f"w{i}", "--log", log.path])
            log.wait("mapped")
            png = t.wait_for(lambda: (lambda p: p if p.count(COLORS[i]) == w * h
                                      else None)(tessera.screenshot()), 10,
                             f"window {i} ({w}x{h}) whole on screen")
            x, y, bw, bh, _ = png.bbox(COLORS[i])
            box = (x, y, w, h)
            t.check((bw, bh) == (w, h), f"window {i}: {bw}x{bh} on screen, expected {w}x{h}")
            t.check(x >= 0 and y >= 0 and x + w <= W and y + h <= H,
                    f"window {i} at {box} is not inside the output")
            if free:
                t.check(x >= MARGIN and y >= MARGIN, f"window {i} at {box}: "
                        f"less than {MARGIN} pixels from the top or left edge")
                for j, (other, color) in enumerate(placed):
                    t.check(gap_between(box, other) >= GAP,
                            f"window {i} at {box} is {gap_between(box, other)} pixels "
                            f"from window {j} at {other} although there was room")
                    if not cascaded:
                        t.check(png.count(color) == other[2] * other[3],
                                f"window {j} at {other} is covered, although there "
                                f"was room for every window so far")
            else:
                cascaded += 1
                corners = [(ox, oy) for (ox, oy, _, _), _ in placed]
                t.check((x, y) not in corners, f"cascaded window {i} at {box} has "
                        f"the corner of another window: {corners}")
            placed.append((box, COLORS[i]))
        t.check(len(placed) - cascaded >= 8 and cascaded >= 2,
                f"{len(placed) - cascaded} windows placed free and {cascaded} cascaded: "
                "the sizes no longer fill the output (adjust SIZES)")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
