#!/usr/bin/env python3
"""Xwayland in the agent: with --xwayland at its default (lazy) the agent
prints DISPLAY=:N after WAYLAND_DISPLAY (and gives it to -s commands) and starts Xwayland only when the
first X11 client connects; an X11 window (the libxcb test client) then
appears on the host framed in the VM's colour with its pixels, titled from
_NET_WM_NAME (or WM_NAME alone) with WM_CLASS as app_id, with its dialog as
a framed window too, centred over its parent; Debian's xterm, xeyes and xmessage come up as VM
windows with their titles and classes."""

import os

import agent_test as a
import tessera_test as t


def xwayland_running(display):
    """Whether an Xwayland serves display (wlroots double-forks it: it is
    not the agent's child)."""
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (FileNotFoundError, NotADirectoryError, PermissionError, ProcessLookupError):
            continue
        if argv and os.path.basename(argv[0]) == b"Xwayland" and display.encode() in argv:
            return True
    return False


def test():
    t.host_program("Xwayland")
    xterm = t.host_program("xterm")
    xeyes = t.host_program("xeyes")
    x11_client = t.program("AGENT_X11_CLIENT")
    loop = a.Loopback(size=(1024, 768), agent_args=(
        "-s", 'echo "$DISPLAY" > "$XDG_RUNTIME_DIR/display.out"'))
    try:
        t.check(loop.x_display is not None and loop.x_display.startswith(":"),
                "the agent printed no DISPLAY=:N")
        out = os.path.join(loop.guest_runtime, "display.out")
        t.wait_for(lambda: os.path.exists(out) and open(out).read().endswith("\n"), 10,
                   "the -s command")
        t.check(open(out).read() == loop.x_display + "\n",
                f"the -s command got DISPLAY={open(out).read()!r}")
        t.check(not xwayland_running(loop.x_display), "Xwayland runs before any X11 client (lazy)")
        tmp = loop.tessera.tmp
        log = t.ClientLog(f"{tmp}/x11.log")
        loop.guest_client([x11_client, "--title", "x11 window", "--class", "TesseraX11",
                           "--color", "22aa66", "--size", "240x160", "--log", log.path])
        log.wait("mapped x11 window", 30)
        t.check(xwayland_running(loop.x_display), "no Xwayland after the first X11 client")
        loop.wait_title("[guest] x11 window", timeout=20)
        png = a.screenshot_with(loop, ["22aa66"], what="the X11 window")
        cx, cy, cw, ch = t.frame_check(png, "22aa66", a.VM_COLOR, "the X11 window")
        t.check((cw, ch) == (240, 160), f"the X11 window shows {cw}x{ch}, not 240x160")

        # titles from _NET_WM_NAME, or WM_NAME alone; app_id from WM_CLASS;
        # a dialog (WM_TRANSIENT_FOR) is a VM window of its own
        t.check(["[guest] x11 window", "TesseraX11"] in loop.tessera.toplevels(),
                f"toplevels: {loop.tessera.toplevels()}")
        old = t.ClientLog(f"{tmp}/old.log")
        loop.guest_client([x11_client, "--title", "old style", "--wm-name-only", "--class",
                           "OldStyle", "--color", "aa22aa", "--dialog", "a dialog,2266aa",
                           "--log", old.path])
        old.wait("mapped a dialog", 30)
        t.wait_for(lambda: ["[guest] old style", "OldStyle"] in loop.tessera.toplevels()
                   and ["[guest] a dialog", "OldStyle"] in loop.tessera.toplevels(), 20,
                   "the WM_NAME window and its dialog with their app_id")
        png = a.screenshot_with(loop, ["aa22aa", "2266aa"], what="window and dialog")
        dx, dy, dw, dh, _ = png.bbox("2266aa")
        t.check((dw, dh) == (120, 80), f"the dialog shows {dw}x{dh}, not 120x80")
        for x, y in ((dx - 1, dy + dh // 2), (dx + dw, dy + dh // 2), (dx + dw // 2, dy + dh),
                     (dx + 1, dy - 2)):
            t.check(png.pixel(x, y) == a.VM_COLOR,
                    f"the dialog's frame: pixel {(x, y)} is #{png.pixel(x, y)}")
        # the dialog (WM_TRANSIENT_FOR: its parent on the host) centred over
        # its window
        wx, wy, ww, wh, _ = png.bbox("aa22aa")
        t.check(abs((dx + dw / 2) - (wx + ww / 2)) <= 1
                and abs((dy - t.TITLE + (dh + t.TITLE) / 2) - (wy - t.TITLE + (wh + t.TITLE) / 2))
                <= 1, f"the dialog {(dx, dy, dw, dh)} is not centred over its window "
                f"{(wx, wy, ww, wh)}")

        # Debian's X11 applications
        loop.guest_client([xterm, "-T", "an xterm", "-e", "sleep", "600"])
        loop.wait_title("[guest] an xterm", timeout=30)
        loop.guest_client([xeyes])
        loop.wait_title("[guest] xeyes", timeout=30)
        loop.guest_client([t.host_program("xmessage"), "hello from X11"])
        loop.wait_title("[guest] xmessage", timeout=30)
        rows = loop.tessera.toplevels()
        for row in (["[guest] an xterm", "XTerm"], ["[guest] xeyes", "XEyes"],
                    ["[guest] xmessage", "Xmessage"]):
            t.check(row in rows, f"no {row} in {rows}")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
