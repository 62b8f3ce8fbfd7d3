#!/usr/bin/env python3
"""Pointer details through the agent: a guest client's cursor surface is
the host's cursor over its window (hotspot respected); wheel scrolling on
the host reaches the client as wl_pointer.axis with discrete steps; an
interactive resize on the host (Alt + right drag) reaches the guest as
configures that respect the guest client's minimum size."""

import subprocess

import agent_test as a
import tessera_test as t


def test():
    pointer = t.program("TESSERA_TEST_POINTER")
    grim = t.host_program("grim")
    wtype = t.host_program("wtype")
    # wlroots 0.15 leaks each virtual keyboard's wlr_keyboard (wtype)
    loop = a.Loopback(size=(800, 600))
    try:
        client = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--frames", "3",
                                    "--size", "300x200", "--color", "102030",
                                    "--cursor", "ff8000", "--title", "pointer"],
                                   stdout=subprocess.PIPE, text=True)
        a.read_until(client, "done 3")
        png = a.screenshot_with(loop, ["102030"], what="the client's window")
        x, y, w, h, _ = png.bbox("102030")
        cx, cy = x + w // 2, y + h // 2
        loop.tessera.run([pointer, "move", cx, cy, "sleep", "100", "click", "left",
                          "sleep", "100", "scroll", "2", "sleep", "100"])
        lines = a.read_until(client, "pointer axis 0 30")
        t.check(any(line.startswith("pointer enter") for line in lines),
                f"no pointer enter: {lines}")
        t.check("pointer discrete 0 2" in lines, f"no 2 discrete steps: {lines}")

        def cursor_shown():
            shot = f"{loop.tessera.tmp}/cursor.png"
            loop.tessera.run([grim, "-c", shot])
            box = t.Png(shot).bbox("ff8000")
            return box if box and box[2:4] == (16, 16) else None
        bx, by, bw, bh, _ = t.wait_for(cursor_shown, 10, "the guest's cursor on the host")
        t.check((bx, by) == (cx - 8, cy - 8),
                f"cursor at {(bx, by)}, expected {(cx - 8, cy - 8)} (hotspot 8,8)")
        client.terminate()
        client.wait()
        client.stdout.close()
        loop.wait_title("[guest] pointer", present=False)

        # Alt + right drag from near the bottom-right corner towards the
        # top-left: the host shrinks the window, but not below the
        # guest's minimum size of 250x180.
        client = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--frames", "3",
                                    "--size", "300x200", "--min-size", "250x180",
                                    "--color", "204060", "--title", "limits"],
                                   stdout=subprocess.PIPE, text=True)
        a.read_until(client, "done 3")
        png = a.screenshot_with(loop, ["204060"], what="the limited window")
        x, y, w, h, _ = png.bbox("204060")
        alt = subprocess.Popen([wtype, "-M", "alt", "-s", "3000", "-m", "alt"],
                               env=loop.tessera.client_env)
        try:
            loop.tessera.run([pointer, "sleep", "500", "move", x + w - 10, y + h - 10,
                              "press", "right", "sleep", "100", "move", x + 60, y + 40,
                              "sleep", "100", "move", x + 20, y + 20, "sleep", "200",
                              "release", "right", "sleep", "100"])
        finally:
            alt.wait(timeout=10)
        lines = a.read_until(client, "configure 250 180", timeout=15)
        sizes = [tuple(map(int, line.split()[1:])) for line in lines
                 if line.startswith("configure ")]
        t.check(all(cw == 0 or (cw >= 250 and ch >= 180) for cw, ch in sizes),
                f"configured below the minimum size: {sizes}")
        client.terminate()
        client.wait()
        client.stdout.close()
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
