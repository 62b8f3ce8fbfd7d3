#!/usr/bin/env python3
"""X11 input and menus through the agent's Xwayland: two windows of the
libxcb test client; a click on one and typing reach that client only (it
logs the X events it gets), then the other; a click opens an
override-redirect menu, which appears on the host as a popup exactly at
its place relative to its window."""

import agent_test as a
import tessera_test as t


def center(png, color):
    x, y, w, h, _ = png.bbox(color)
    return x + w // 2, y + h // 2


def click(loop, point):
    """A click where no pointer was: the host sends focus, enter and the
    button together (a window that is not focused gets no pointer events);
    X11 windows overlap in X, so the agent must raise the window in X
    before Xwayland sees them."""
    loop.tessera.run([t.program("TESSERA_TEST_POINTER"), "move", *point, "click", "left",
                      "sleep", "100"])


def test():
    t.host_program("Xwayland")
    x11_client = t.program("AGENT_X11_CLIENT")
    wtype = t.host_program("wtype")
    loop = a.Loopback(size=(1024, 768))
    try:
        tmp = loop.tessera.tmp
        first = t.ClientLog(f"{tmp}/first.log")
        second = t.ClientLog(f"{tmp}/second.log")
        loop.guest_client([x11_client, "--title", "first", "--color", "33cc33",
                           "--size", "220x160", "--menu", "30,40,90,70,e0e040",
                           "--log", first.path])
        first.wait("mapped first", 30)
        loop.guest_client([x11_client, "--title", "second", "--color", "3355ee",
                           "--size", "220x160", "--log", second.path])
        second.wait("mapped second", 30)
        png = a.screenshot_with(loop, ["33cc33", "3355ee"], what="both X11 windows")
        c1, c2 = center(png, "33cc33"), center(png, "3355ee")

        # click the second, type: only the second hears it
        click(loop, c2)
        second.wait("button 1 pressed", 20)
        second.wait("focus in second", 20)
        loop.tessera.run([wtype, "b"])
        second.wait_key("b", 20)
        t.check(not first.has("key "), f"first got keys: {first.matching('key ')}")
        t.check(not first.has("button "), f"first got clicks: {first.matching('button ')}")

        # click the first: its menu opens at (30, 40) of it; keys follow
        # the focus
        click(loop, c1)
        first.wait("button 1 pressed", 20)
        first.wait("menu mapped at", 20)
        png = a.screenshot_with(loop, ["33cc33", "e0e040"], what="window and its menu")
        wx, wy, ww, wh, _ = png.bbox("33cc33")
        mx, my, mw, mh, _ = png.bbox("e0e040")
        t.check((mw, mh) == (90, 70), f"the menu shows {mw}x{mh}, not 90x70")
        t.check((mx - wx, my - wy) == (30, 40),
                f"the menu is at {(mx - wx, my - wy)} of its window, not (30, 40)")
        first.wait("focus in first", 20)
        loop.tessera.run([wtype, "a"])
        first.wait_key("a", 20)
        t.check(second.pressed_keys() == ["b"], f"second got {second.pressed_keys()}")
        t.check(first.pressed_keys() == ["a"], f"first got {first.pressed_keys()}")
        t.check(len(second.matching("button ")) == 1,
                f"second got {second.matching('button ')}")

        # a click in the menu goes to the menu
        loop.tessera.run([t.program("TESSERA_TEST_POINTER"), "move", mx + 10, my + 20,
                          "click", "left", "sleep", "100"])
        t.wait_for(lambda: [ln for ln in first.matching("button 1 pressed")
                            if ln.endswith(" menu")], 20, "the click in the menu")
        t.check(not second.has("button 1 pressed 10 20"), "second got the menu's click")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
