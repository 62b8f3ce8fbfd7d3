#!/usr/bin/env python3
"""Input through the agent: pointer clicks and key presses injected on the
host arrive at the guest client whose window has the focus, and at no
other guest client (the agent maps the host's focus to the right guest
surface and client)."""

import agent_test as a
import tessera_test as t


def center(png, color):
    x, y, w, h, _ = png.bbox(color)
    return x + w // 2, y + h // 2


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    pointer = t.program("TESSERA_TEST_POINTER")
    wtype = t.host_program("wtype")
    loop = a.Loopback(size=(1024, 768))
    try:
        tmp = loop.tessera.tmp
        first = t.ClientLog(f"{tmp}/first.log")
        second = t.ClientLog(f"{tmp}/second.log")
        loop.guest_client([simple_shm, "--color", "33cc33", "--size", "200x150",
                           "--title", "first", "--log", first.path])
        first.wait("mapped", 20)
        loop.guest_client([simple_shm, "--color", "3355ee", "--size", "200x150",
                           "--title", "second", "--log", second.path])
        second.wait("mapped", 20)
        png = a.screenshot_with(loop, ["33cc33", "3355ee"], what="both guest windows")
        c1, c2 = center(png, "33cc33"), center(png, "3355ee")

        # Click the first window, type: only the first client hears it.
        # (Both already had the focus once, when they were mapped: wait for
        # what the click brings, not for lines logged before it.)
        mark = t.log_mark(first)
        loop.tessera.run([pointer, "move", *c1, "click", "left", "sleep", "100"])
        t.wait_after(first, mark, "pointer button 272 pressed")
        t.wait_after(first, mark, "keyboard enter")
        loop.tessera.run([wtype, "a"])
        first.wait_key("a")
        t.check(not second.has("key "), f"second got keys: {second.matching('key ')}")
        t.check(not second.has("pointer button"), "second got the first's click")

        # Click the second: the focus moves, keys follow it.
        mark1, mark2 = t.log_mark(first), t.log_mark(second)
        loop.tessera.run([pointer, "move", *c2, "click", "left", "sleep", "100"])
        t.wait_after(second, mark2, "pointer button 272 pressed")
        t.wait_after(second, mark2, "keyboard enter")
        t.wait_after(first, mark1, "keyboard leave")
        loop.tessera.run([wtype, "b"])
        second.wait_key("b")
        t.check(first.pressed_keys() == ["a"], f"first got {first.pressed_keys()}")
        t.check(second.pressed_keys() == ["b"], f"second got {second.pressed_keys()}")
        clicks = first.matching("pointer button 272 pressed")
        t.check(len(clicks) == 1, f"first got {len(clicks)} clicks")

        # Closing a guest window on the host (a taskbar's close button):
        # xdg_toplevel.close reaches that client only.
        loop.tessera.run([t.program("TESSERA_TEST_TOPLEVELS"), "--close", "[guest] second"])
        second.wait("close")
        t.check(not first.has("close"), "the first client was asked to close too")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
