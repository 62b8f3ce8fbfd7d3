#!/usr/bin/env python3
"""A commit of a host-rendered buffer (host_storage: a virgl resource in
tessera-vmd) is read back and shown only once the device's fence queued at
that commit has retired, never before; the surface's later commits wait
behind it (order kept), a buffer destroyed meanwhile is not attached, and
every fence retired shows the last commit. The stand-in device's fences
retire at once unless the test holds them."""

import time

import vmd_session_test as v
from vmd_session_test import t

GREEN, BLUE, MAGENTA, ORANGE = "33cc33", "3355aa", "ff00ff", "ffa500"
W, H = 160, 100


def unchanged(tessera, present, absent, seconds=1.0):
    """The screen keeps showing `present` without `absent` for a while."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        png = tessera.screenshot()
        t.check(png.bbox(present) is not None and png.bbox(absent) is None,
                f"a commit waiting for its fence was shown ({absent} on screen)")
        time.sleep(0.2)


def test():
    tessera = t.Tessera(size=(800, 600), config=v.config())
    try:
        vm = v.Vm(tessera)
        vm.cmd("hello 1")
        vm.wait(r"event ctx=1 HELLO_REPLY")
        vm.cmd(f"resource 1 {W} {H} {GREEN}")
        vm.cmd("host 1")
        vm.cmd(f"resource 2 {W} {H} {MAGENTA}")
        vm.cmd(f"resource 3 {W} {H} {ORANGE}")
        vm.cmd("host 3")
        for b in (1, 2, 3):
            vm.cmd(f"buffer {b} {b}")
        # The mapping commit waits for a fence, which retires at once.
        vm.cmd("window 1 1 fenced")
        vm.wait(r"^mapped ctx=1 surface=1")
        vm.wait(r"^fence retired 1$")
        png = v.shot_with(tessera, GREEN)
        cx, cy, cw, ch = t.frame_check(png, GREEN, v.VM_FRAME, "host-rendered window")
        t.check((cw, ch) == (W, H), f"window content {cw}x{ch}")
        stats = vm.stats()
        t.check(stats["deferred"] == 1 and stats["bytes_copied"] == W * H * 4,
                f"first frame: {stats}")

        # Held: the host "renders" blue, the commit waits; a commit of a
        # guest buffer behind it waits too.
        vm.cmd("fences hold")
        vm.cmd(f"fill 1 {BLUE}")
        vm.cmd("commit 1 1 all frame")
        vm.wait(r"^fence queued 2$")
        vm.cmd("commit 1 2 all")
        unchanged(tessera, GREEN, BLUE)
        unchanged(tessera, GREEN, MAGENTA, 0.2)
        stats = vm.stats()
        t.check(stats["bytes_copied"] == W * H * 4,
                f"read back before the fence: {stats}")
        vm.cmd("fences release")
        # both in order: blue read back, then magenta on top
        png = v.shot_with(tessera, MAGENTA, absent=[GREEN, BLUE])
        vm.wait(r"event ctx=1 BUFFER_RELEASE buffer=1 ")
        vm.wait(r"event ctx=1 FRAME_DONE surface=1")
        stats = vm.stats()
        t.check(stats["bytes_copied"] == 2 * W * H * 4 and stats["deferred"] == 3,
                f"after the fence: {stats}")

        # A buffer destroyed while its commit waits is not attached: the
        # window keeps its pixels; the next fenced commit shows.
        vm.cmd("fences hold")
        vm.cmd("commit 1 3 all")
        vm.cmd("destroy-buffer 3")
        vm.cmd("fences release")
        vm.wait(r"^fence retired 3$")
        unchanged(tessera, MAGENTA, ORANGE, 0.5)
        vm.cmd("buffer 4 1")
        vm.cmd("commit 1 4 all")
        v.shot_with(tessera, BLUE, absent=[MAGENTA])

        # A surface destroyed with commits waiting: nothing left behind.
        vm.cmd("fences hold")
        vm.cmd("commit 1 4 all")
        vm.cmd("destroy-surface 1")
        vm.cmd("fences release")
        t.wait_for(lambda: tessera.screenshot().bbox(BLUE) is None, 10,
                   "the destroyed window gone")
        vm.check_no_failures()
        vm.quit()
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
