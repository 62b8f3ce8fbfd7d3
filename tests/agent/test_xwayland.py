#!/usr/bin/env python3
"""Xwayland in the agent: with --xwayland at its default (lazy) the agent
prints DISPLAY=:N after WAYLAND_DISPLAY (and gives it to -s commands) and starts Xwayland only when the
first X11 client connects; an X11 window (the libxcb test client) then
appears on the host framed in the VM's colour with its pixels, and Debian's
xterm and xeyes come up as VM windows too."""

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

        # Debian's X11 applications
        loop.guest_client([xterm, "-T", "an xterm", "-e", "sleep", "600"])
        loop.wait_title("[guest] an xterm", timeout=30)
        loop.guest_client([xeyes])
        loop.wait_title("[guest] xeyes", timeout=30)
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
