#!/usr/bin/env python3
"""Popups through the agent: a guest client's xdg_popup, positioned by an
xdg_positioner (a 60x50 popup anchored at the point (40, 30) of its
window, gravity bottom-right), appears on the host exactly there, and
the client gets the matching configure."""

import subprocess

import agent_test as a
import tessera_test as t


def test():
    loop = a.Loopback(size=(800, 600))
    try:
        client = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--frames", "3",
                                    "--color", "102030", "--title", "menu owner",
                                    "--popup", "40,30,60,50,e040e0"],
                                   stdout=subprocess.PIPE, text=True)
        lines = a.read_until(client, "popup mapped")
        t.check("mapped" in lines, f"guest-client printed {lines}")
        t.check("popup configure 40 30 60 50" in lines,
                f"the popup was configured elsewhere: {lines}")
        png = a.screenshot_with(loop, ["102030", "e040e0"], what="window and popup")
        wx, wy, ww, wh, _ = png.bbox("102030")
        px, py, pw, ph, _ = png.bbox("e040e0")
        t.check((ww, wh) == (160, 100), f"window content {ww}x{wh}")
        t.check((pw, ph) == (60, 50), f"popup {pw}x{ph}, not 60x50")
        t.check((px - wx, py - wy) == (40, 30),
                f"popup at {(px - wx, py - wy)} of the window, not (40, 30)")
        client.terminate()
        client.wait()
        client.stdout.close()
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
