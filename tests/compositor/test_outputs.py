#!/usr/bin/env python3
"""Several headless outputs (tessera --outputs, --scale; tesseractl output).

* --outputs 640x480,400x300:2: two outputs side by side, the second at
  scale 2 (200x150 in the layout); grim -o takes each at its own size in
  pixels; tesseractl output list shows names, modes, scales and positions.
* A host window on the scale-2 output is drawn at twice its size there
  (wlroots draws scaled outputs; tessera's blits the 1:1 one).
* --outputs 3 --size 300x200: three outputs of --size.
* tesseractl output add / remove while tessera runs; a bad size, scale or
  name is refused (status 1) and changes nothing; a window that no output
  shows any more is placed again on one.
* Bad --outputs and --scale values: status 2 with the reason.
"""

import subprocess

import tessera_test as t
from test_command_line import run_tessera


def ctl(tessera, *args, check_rc=True):
    return tessera.run([t.program("TESSERA_CTL"), *args], check_rc=check_rc)


def test_bad_options():
    for args, message in [
        (["--outputs", "0"], "invalid outputs '0'"),
        (["--outputs", "9"], "invalid outputs '9'"),
        (["--outputs", "640x480,"], "invalid outputs '640x480,'"),
        (["--outputs", "640x480:5"], "invalid outputs '640x480:5'"),
        (["--outputs", "640x480:0"], "invalid outputs '640x480:0'"),
        (["--outputs", ",".join(["10x10"] * 9)], "invalid outputs"),
        (["--outputs", "0x480"], "invalid outputs '0x480'"),
        (["--scale", "0"], "invalid scale '0'"),
        (["--scale", "5"], "invalid scale '5'"),
        (["--scale", "1.5"], "invalid scale '1.5'"),
    ]:
        res = run_tessera(args)
        t.check(res.returncode == 2, f"{args}: exit {res.returncode}, expected 2")
        t.check(message in res.stderr, f"{args}: stderr lacks {message!r}: {res.stderr}")


def test_two_outputs():
    tessera = t.Tessera(args=["--outputs", "640x480,400x300:2"])
    listing = ctl(tessera, "output", "list").stdout.splitlines()
    t.check(listing == ["HEADLESS-1 640x480 scale 1 at 0,0",
                        "HEADLESS-2 400x300 scale 2 at 640,0"],
            f"tesseractl output list: {listing}")
    t.check(tessera.screenshot(output="HEADLESS-1").size() == (640, 480), "HEADLESS-1 size")
    t.check(tessera.screenshot(output="HEADLESS-2").size() == (400, 300), "HEADLESS-2 size")

    # Host windows: placement fills the left output first, then goes
    # right; the 160x100 window that fits only on the second output is
    # drawn 320x200 there.
    tessera.client([t.program("TESSERA_SIMPLE_SHM"), "--size", "620x440",
                    "--color", "30a030"])
    t.wait_for(lambda: tessera.screenshot(output="HEADLESS-1").bbox("30a030"), 10,
               "the first window")
    tessera.client([t.program("TESSERA_SIMPLE_SHM"), "--size", "160x100",
                    "--color", "a03030"])
    shot = t.wait_for(lambda: (lambda p: p if p.bbox("a03030") else None)(
        tessera.screenshot(output="HEADLESS-2")), 10, "the window on the scale-2 output")
    x, y, w, h, n = shot.bbox("a03030")
    t.check((w, h, n) == (320, 200, 320 * 200),
            f"window on the scale-2 output: {w}x{h} ({n} pixels), expected 320x200")
    t.check(tessera.screenshot(output="HEADLESS-1").bbox("a03030") is None,
            "the second window shows on the first output")

    # Outputs come and go.
    out = ctl(tessera, "output", "add", "320x240:2").stdout.strip()
    t.check(out == "output HEADLESS-3 320x240 scale 2 at 840,0: added", f"output add: {out}")
    t.check(tessera.screenshot(output="HEADLESS-3").size() == (320, 240), "HEADLESS-3 size")
    for args, message in [
        (["output", "add", "0x10"], "is WxH or WxH:SCALE"),
        (["output", "add", "10x10:9"], "is WxH or WxH:SCALE"),
        (["output", "remove", "HDMI-A-1"], "no output named 'HDMI-A-1'"),
    ]:
        res = ctl(tessera, *args, check_rc=False)
        t.check(res.returncode == 1 and message in res.stderr,
                f"tesseractl {args}: exit {res.returncode}, {res.stderr!r}")
    out = ctl(tessera, "output", "remove", "HEADLESS-1").stdout.strip()
    t.check(out == "output HEADLESS-1 640x480 scale 1 at 0,0: removed", f"output remove: {out}")
    listing = ctl(tessera, "output", "list").stdout.splitlines()
    t.check(listing == ["HEADLESS-2 400x300 scale 2 at 0,0",
                        "HEADLESS-3 320x240 scale 2 at 200,0"],
            f"tesseractl output list after remove: {listing}")
    # The outputs left moved to the left; the red window, on none of them
    # now, is placed again where one shows it.
    t.wait_for(lambda: any(tessera.screenshot(output=name).bbox("a03030")
                           for name in ("HEADLESS-2", "HEADLESS-3")), 10,
               "the window of the removed layout position on an output again")
    tessera.stop()


def test_count():
    tessera = t.Tessera(args=["--outputs", "3"], size=(300, 200))
    listing = ctl(tessera, "output", "list").stdout.splitlines()
    t.check(listing == [f"HEADLESS-{i + 1} 300x200 scale 1 at {300 * i},0" for i in range(3)],
            f"tesseractl output list: {listing}")
    t.check(tessera.screenshot().size() == (900, 200), "the whole layout")
    tessera.stop()


def main():
    test_bad_options()
    test_two_outputs()
    test_count()


if __name__ == "__main__":
    t.main(main)
