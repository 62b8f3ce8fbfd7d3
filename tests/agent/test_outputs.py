#!/usr/bin/env python3
"""Several host outputs reach the guest (tessera --outputs 640x480,800x600:
two headless outputs side by side).

* A guest client sees one wl_output per host output, with the host's mode,
  scale and layout position (xdg_output logical position).
* Placement puts two 340x200 windows on the left output and the third on
  the right one; an 800-pixel wide window fits on neither and cascades
  across both. Each is told the outputs it is on (wl_surface.enter,
  forwarded by vmd and the agent) and no other; a screenshot of each
  output (grim -o) shows the windows on it.
* An output added on the host (tesseractl output add) reaches the guest as
  a new wl_output at its place; one removed (tesseractl output remove)
  goes from the guest (global removed), the window that was on it is told
  (wl_surface.leave), and the outputs right of it move left.
"""

import os
import subprocess

import agent_test as a
import tessera_test as t

BORDER = 4  # TESSERA_BORDER_WIDTH
TITLE = 22  # TESSERA_TITLE_HEIGHT
MARGIN = 16  # placement.c
GAP = 8
W, H = 340, 200
WIDE = 800
COLORS = ["c01010", "10c010", "1010c0", "c0c010"]


def outputs_of(lines, state):
    """Folds "output ID X Y W H S" and "output-removed ID" lines into state
    {id: (x, y, w, h, s)}; returns the set of values."""
    for line in lines:
        words = line.split()
        if words[:1] == ["output"]:
            state[words[1]] = tuple(int(v) for v in words[2:])
        elif words[:1] == ["output-removed"]:
            state.pop(words[1], None)
    return set(state.values())


def wait_outputs(proc, state, want, what):
    """Reads the client's lines until the outputs it knows are want."""
    def done(line):
        outputs_of([line], state)
        return set(state.values()) == want
    if set(state.values()) != want:
        a.read_until(proc, done, timeout=20)
    t.check(set(state.values()) == want, f"{what}: {set(state.values())}, expected {want}")


def check_three(loop):
    """Two windows on the left output, one on the right one."""
    shot1 = t.wait_for(lambda: (lambda p: p if p.bbox(COLORS[1]) else None)(
        loop.tessera.screenshot(output="HEADLESS-1")), 15, "the left output's windows")
    shot2 = t.wait_for(lambda: (lambda p: p if p.bbox(COLORS[2]) else None)(
        loop.tessera.screenshot(output="HEADLESS-2")), 15, "the right output's window")
    t.check(shot1.size() == (640, 480), f"left output {shot1.size()}")
    t.check(shot2.size() == (800, 600), f"right output {shot2.size()}")
    second_top = MARGIN + H + TITLE + BORDER + GAP
    for shot, color, where in [(shot1, COLORS[0], (MARGIN, MARGIN)),
                               (shot1, COLORS[1], (MARGIN, second_top)),
                               (shot2, COLORS[2], (MARGIN, MARGIN))]:
        want = (where[0] + BORDER, where[1] + TITLE, W, H, W * H)
        t.check(shot.bbox(color) == want, f"window {color} at {shot.bbox(color)}, "
                f"expected {want}")
    t.check(shot1.bbox(COLORS[2]) is None, "the third window shows on the left output")
    t.check(shot2.bbox(COLORS[0]) is None and shot2.bbox(COLORS[1]) is None,
            "a window of the left output shows on the right one")


def ctl(loop, *args):
    return loop.tessera.run([t.program("TESSERA_CTL"), *args])


def test(loop):
    client = t.program("AGENT_OUTPUT_CLIENT")
    probe = loop.guest_client([client, "--no-window"], stdout=subprocess.PIPE, text=True)
    probe_state = {}
    wait_outputs(probe, probe_state, {(0, 0, 640, 480, 1), (640, 0, 800, 600, 1)},
                 "the guest's outputs")

    # Placement fills the left output (two windows), then the right one;
    # a window wider than any output cascades across both.
    sizes = [(W, H), (W, H), (W, H), (WIDE, H // 2)]
    windows = []
    for color, (w, h) in zip(COLORS, sizes):
        proc = loop.guest_client([client, "--size", f"{w}x{h}", "--colors", f"{color},{color}"],
                                 stdout=subprocess.PIPE, text=True)
        seen = a.read_until(proc, "mapped")
        windows.append((proc, seen))
        if len(windows) == 3:
            check_three(loop)
    want_on = [{(0, 0)}, {(0, 0)}, {(640, 0)}, {(0, 0), (640, 0)}]
    # told at the map, before the first frame is done
    for i, ((proc, seen), want) in enumerate(zip(windows, want_on)):
        entered = {tuple(int(v) for v in line.split()[1:]) for line in seen
                   if line.startswith("enter ")}
        t.check(entered == want, f"window {i + 1} entered the outputs at {entered}, "
                f"expected {want}")
    # the cascade's second step (the first corner is taken): 64,64
    left = 64 + BORDER
    b1 = loop.tessera.screenshot(output="HEADLESS-1").bbox(COLORS[3])
    b2 = loop.tessera.screenshot(output="HEADLESS-2").bbox(COLORS[3])
    t.check(b1 is not None and b1[0] == left and b1[2] == 640 - left and
            b2 is not None and b2[0] == 0 and b2[2] == WIDE - (640 - left),
            f"wide window across both outputs: {b1}, {b2}")

    # A new output on the host: the guest gets it at its place, right of
    # the others.
    ctl(loop, "output", "add", "320x240")
    t.wait_for(lambda: "output HEADLESS-3: 320x240 scale 1 at 1440,0" in loop.tessera.log(),
               10, "the new output")
    wait_outputs(probe, probe_state, {(0, 0, 640, 480, 1), (640, 0, 800, 600, 1),
                                      (1440, 0, 320, 240, 1)}, "after output add")
    shot3 = loop.tessera.screenshot(output="HEADLESS-3")
    t.check(shot3.size() == (320, 240), f"the new output {shot3.size()}")

    # The right output goes: the guest loses it, the windows on it are told.
    ctl(loop, "output", "remove", "HEADLESS-2")
    wait_outputs(probe, probe_state, {(0, 0, 640, 480, 1), (640, 0, 320, 240, 1)},
                 "after output remove")
    a.read_until(windows[2][0], "leave 640 0")
    a.read_until(windows[3][0], "leave 640 0")
    for proc, _ in windows:
        a.stop_client(proc)

    a.stop_client(probe)
    loop.tessera.stop()


def main():
    loop = a.Loopback(size=(640, 480), tessera_args=["--outputs", "640x480,800x600"])
    try:
        test(loop)
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(main)
