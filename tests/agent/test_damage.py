#!/usr/bin/env python3
"""The agent copies only damage: a wl_shm client's frames reach the host
through the agent's own resources (its copy pool), and the bytes it copies
(its "bytes copied" counter) are exactly the damaged area times 4 bytes
per pixel, for full damage, one rectangle, several overlapping ones and
one sticking out of the buffer.

Each client is a fresh 160x100 window (guest-client, wl_shm buffers, each
frame waiting for the previous one's frame callback) committing FRAMES
frames, the first with full damage. The agent's pool then holds two
buffers in turn: the first two commits fill them whole, every later one
copies what was damaged since that buffer was last written, i.e. the
damage of this commit and of the previous one (the same rectangles here).
The last frame has another colour: on the host it shows in the damaged
area only."""

import subprocess

import agent_test as a
import tessera_test as t

W, H = 160, 100
FULL = W * H
FRAMES = 10
BRIGHT = "33cc33"
DARK = "196619"  # guest-client's colour for the frames before the last


def union_area(rects):
    """Pixels of the union of the rectangles, clipped to the buffer."""
    return sum(1 for y in range(H) for x in range(W)
               if any(rx <= x < rx + rw and ry <= y < ry + rh for rx, ry, rw, rh in rects))


# name -> damage rectangles of the frames after the first (none: full)
PATTERNS = {
    "full": [],
    "rectangle": [(10, 20, 30, 40)],
    "rectangles": [(0, 0, 16, 16), (8, 8, 16, 16), (100, 50, 40, 30)],
    "clipped": [(150, 90, 40, 40), (60, 0, 1, 100)],
}


def run_client(loop, name, rects):
    """Runs a client to its last frame; the bytes the agent copied."""
    before = loop.agent_counters()["bytes copied"]
    args = [t.program("AGENT_GUEST_CLIENT"), "--frames", FRAMES, "--color", BRIGHT,
            "--title", name]
    for r in rects:
        args += ["--damage", ",".join(map(str, r))]
    client = loop.guest_client(args, stdout=subprocess.PIPE)
    a.read_until(client, f"done {FRAMES}")
    copied = loop.agent_counters()["bytes copied"] - before
    return client, copied


def test():
    loop = a.Loopback(size=(800, 600))
    try:
        for name, rects in PATTERNS.items():
            client, copied = run_client(loop, name, rects)
            damage = union_area(rects) if rects else FULL
            expected = 4 * (2 * FULL + (FRAMES - 2) * damage)
            print(f"{name}: {copied} bytes copied for {FRAMES} frames of {damage} "
                  f"damaged pixels (expected {expected})")
            t.check(copied == expected, f"{name}: the agent copied {copied} bytes, "
                    f"expected {expected} (damage {rects or 'full'})")

            # What the host shows: the last frame's colour where it damaged.
            png = a.screenshot_with(loop, [BRIGHT], what=f"the {name} window")
            if rects:
                t.check(png.count(BRIGHT) == damage, f"{name}: {png.count(BRIGHT)} "
                        f"pixels of the last frame's colour, damage is {damage}")
                t.check(png.count(DARK) == FULL - damage,
                        f"{name}: {png.count(DARK)} pixels of the earlier colour")
            else:
                t.check(png.count(BRIGHT) == FULL, f"{name}: {png.count(BRIGHT)} pixels")
            a.stop_client(client)
            loop.wait_title(f"[{a.VM}] {name}", present=False)
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
