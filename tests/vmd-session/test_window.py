#!/usr/bin/env python3
"""A guest window through the session, zero copy: pixels, VM frame and
"[NAME] title"; a second buffer releases the first with increasing release
points; damage shows; subsurface and popup; a memory table change; the
session destroyed (window gone) and created again; no bytes copied on the
tessera_guest_memory_v1 path; a clean exit."""

import re

import vmd_session_test as v
from vmd_session_test import t

GREEN, BLUE, MAGENTA, YELLOW, CYAN = "33cc33", "3355aa", "ff00ff", "ffff00", "00ffff"


def release_points(vm, ctx):
    return [int(e["point"]) for e in vm.events(ctx, "BUFFER_RELEASE")]


def test():
    t.program("TESSERA_TEST_TOPLEVELS")
    tessera = t.Tessera(size=(800, 600), config=v.config())
    try:
        vm = v.Vm(tessera)
        t.check(vm.matching(r"^guest-memory yes"),
                "tessera_guest_memory_v1 not offered to the VM connection")
        vm.cmd("hello 1")
        vm.wait(r"event ctx=1 HELLO_REPLY version=1")
        vm.wait(r"event ctx=1 OUTPUT output=\d+ size=800x600")

        vm.cmd(f"resource 1 200 120 {GREEN}")
        vm.cmd(f"resource 2 200 120 {BLUE} contig")
        vm.cmd("buffer 1 1")
        vm.cmd("buffer 2 2")
        vm.cmd("window 1 1 hello world")
        vm.wait(r"^mapped ctx=1 surface=1")
        # The keymap comes with the keyboard focus, which the only window
        # gets.
        vm.wait(r"event ctx=1 KEYMAP")
        vm.cmd("keymap")
        vm.wait(r"^keymap ctx=1 ok")
        configure = vm.events(1, "CONFIGURE")[0]
        t.check(configure["decoration"] == "2", f"decoration not server side: {configure}")

        png = v.shot_with(tessera, GREEN)
        cx, cy, cw, ch = t.frame_check(png, GREEN, v.VM_FRAME, "guest window")
        t.check((cw, ch) == (200, 120), f"guest window content is {cw}x{ch}")
        t.check("[work] hello world" in tessera.titles(),
                f"titles: {tessera.titles()}")
        vm.wait(r"event ctx=1 FRAME_DONE surface=1")

        # A second buffer releases the first, and back.
        vm.cmd("commit 1 2 all frame")
        vm.wait(r"event ctx=1 BUFFER_RELEASE buffer=1 ")
        v.shot_with(tessera, BLUE, absent=[GREEN])
        vm.cmd("commit 1 1 all frame")
        vm.wait(r"event ctx=1 BUFFER_RELEASE buffer=2 ")
        v.shot_with(tessera, GREEN, absent=[BLUE])
        points = release_points(vm, 1)
        t.check(points == sorted(points) and len(set(points)) == len(points),
                f"release points not increasing: {points}")

        # Damage: the guest brings the released buffer 2 up to date with
        # what is shown (green), draws a square, commits only the square.
        vm.cmd(f"fill 2 {GREEN}")
        vm.cmd(f"fill 2 {MAGENTA} 10 10 20 20")
        vm.cmd("commit 1 2 frame damage 10 10 20 20")
        png = v.shot_with(tessera, MAGENTA, GREEN)
        t.check(png.bbox(MAGENTA)[:4] == (cx + 10, cy + 10, 20, 20),
                f"damaged square at {png.bbox(MAGENTA)}")

        # A subsurface and a popup.
        vm.cmd(f"resource 3 40 30 {YELLOW}")
        vm.cmd("buffer 3 3")
        vm.cmd("subsurface 2 1 150 80 3")
        png = v.shot_with(tessera, YELLOW)
        t.check(png.bbox(YELLOW)[:4] == (cx + 150, cy + 80, 40, 30),
                f"subsurface at {png.bbox(YELLOW)}, window content at {(cx, cy)}")
        vm.cmd(f"resource 4 50 40 {CYAN}")
        vm.cmd("buffer 4 4")
        vm.cmd("popup 3 1 4")
        vm.wait(r"event ctx=1 POPUP_CONFIGURE surface=3")
        vm.wait(r"^mapped ctx=1 surface=3")
        v.shot_with(tessera, CYAN)
        vm.cmd("destroy-surface 3")
        v.shot_with(tessera, GREEN, MAGENTA, absent=[CYAN])

        # Nested popups on another toplevel; destroying the toplevel
        # dismisses both (innermost first, as xdg-shell requires).
        for res, (w, h, color) in {5: (60, 50, "ff8800"), 6: (30, 20, "8800ff"),
                                   7: (20, 10, "00ff88")}.items():
            vm.cmd(f"resource {res} {w} {h} {color}")
            vm.cmd(f"buffer {res} {res}")
        vm.cmd("window 7 5 popup parent")
        vm.wait(r"^mapped ctx=1 surface=7")
        vm.cmd("popup 8 7 6")
        vm.wait(r"^mapped ctx=1 surface=8")
        vm.cmd("popup 9 8 7")
        vm.wait(r"^mapped ctx=1 surface=9")
        v.shot_with(tessera, "ff8800", "8800ff", "00ff88")
        vm.cmd("destroy-surface 7")
        vm.wait(r"event ctx=1 POPUP_DONE surface=9")
        vm.wait(r"event ctx=1 POPUP_DONE surface=8")
        v.shot_with(tessera, GREEN, absent=["ff8800", "8800ff", "00ff88"])
        vm.cmd("destroy-surface 9")
        vm.cmd("destroy-surface 8")

        # A subsurface whose size is no multiple of its scale (allowed for
        # subsurfaces): the compositor connection survives it.
        vm.cmd("resource 11 41 31 ffffff")
        vm.cmd("buffer 9 11")
        vm.cmd("subsurface 10 1 0 0 9")
        vm.cmd("commit 10 9 scale 2 all")
        vm.cmd("commit 1 2")
        vm.cmd("destroy-surface 10")
        vm.cmd("commit 1 2")
        vm.check_no_failures()

        # Unmapped (no buffer) and mapped again: a new configure to
        # acknowledge first, and the title is still there.
        configures = len(vm.matching(r"event ctx=1 CONFIGURE surface=1 "))
        vm.cmd("commit 1 0")
        v.shot_with(tessera, absent=[GREEN, MAGENTA])
        vm.wait(r"event ctx=1 CONFIGURE surface=1 ", count=configures + 1)
        vm.cmd("commit 1 2 all")
        v.shot_with(tessera, GREEN, MAGENTA)
        t.check("[work] hello world" in tessera.titles(),
                f"title after a remap: {tessera.titles()}")

        # The VMM sends the memory table again: buffers are imported anew.
        before = vm.stats()
        vm.cmd("memory-change")
        vm.cmd("commit 1 1 all")
        vm.wait(r"event ctx=1 BUFFER_RELEASE buffer=2 ", count=3)
        v.shot_with(tessera, GREEN, absent=[MAGENTA])
        after = vm.stats()
        t.check(after["gmem"] > before["gmem"], f"not imported again: {after}")

        stats = vm.stats()
        t.check(stats["bytes_copied"] == 0,
                f"bytes copied on the guest memory path: {stats}")
        t.check(stats["shm"] == 0 and stats["failed"] == 0, f"buffer paths: {stats}")
        t.check(stats["frames"] >= 5 and stats["releases"] >= 3, f"stats: {stats}")

        # A full HD buffer: bytes copied per frame on the host.
        vm.cmd("resource 10 1920 1080 204060 contig")
        vm.cmd("buffer 10 10")
        vm.cmd("window 20 10 full hd")
        vm.wait(r"^mapped ctx=1 surface=20")
        before = vm.stats()
        for _ in range(10):
            vm.cmd("commit 20 10 all")
        after = vm.stats()
        frames = after["frames"] - before["frames"]
        copied = after["bytes_copied"] - before["bytes_copied"]
        print(f"bytes copied on the host per 1920x1080 frame (tessera_guest_memory_v1): "
              f"{copied // frames} ({frames} frames)")
        t.check(copied == 0, f"{copied} bytes copied for {frames} frames")
        # The user closes the window from the host (a taskbar's close
        # through foreign-toplevel): the guest gets CLOSE for it, and only
        # for it; the window stays until the guest destroys it.
        res = tessera.run([t.program("TESSERA_TEST_TOPLEVELS"), "--close",
                           "[work] full hd"])
        vm.wait(r"event ctx=1 CLOSE surface=20")
        t.check(not vm.matching(r"event ctx=1 CLOSE surface=1\b"),
                "CLOSE for the wrong window")
        t.check("[work] full hd" in tessera.titles(), "closed without the guest")
        vm.cmd("destroy-surface 20")
        t.wait_for(lambda: "[work] full hd" not in tessera.titles(), 10,
                   "the window to go after the guest destroyed it")

        # Destroying the session takes its windows away; a new one works.
        vm.cmd("destroy-session")
        v.shot_with(tessera, absent=[GREEN, BLUE, MAGENTA, YELLOW])
        t.check(not any(title.startswith("[work]") for title in tessera.titles()),
                f"titles after destroy: {tessera.titles()}")
        vm.cmd("create-session")
        vm.cmd("hello 2")
        vm.cmd("buffer 1 1")
        vm.cmd("window 1 1 again")
        vm.wait(r"^mapped ctx=2 surface=1")
        v.shot_with(tessera, GREEN)
        t.check("[work] again" in tessera.titles(), f"titles: {tessera.titles()}")
        t.check(re.search(r"vm 'work': frames \d+, bytes copied 0,", tessera.log()),
                "no counters logged at session end")

        vm.check_no_failures()
        vm.quit()
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
