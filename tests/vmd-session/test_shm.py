#!/usr/bin/env python3
"""Without tessera_guest_memory_v1 (disabled in the daemon) buffers go
through wl_shm mirrors: the right pixels, and exactly the damaged bytes
copied (plus, for a buffer coming back, what other commits damaged since
it was last brought up to date)."""

import vmd_session_test as v
from vmd_session_test import t

GREEN, BLUE, MAGENTA, ORANGE = "33cc33", "3355aa", "ff00ff", "ffa500"
W, H = 200, 120


def copied(vm):
    return vm.stats()["bytes_copied"]


def test():
    tessera = t.Tessera(size=(800, 600), config=v.config(),
                        env={"VMD_SESSION_TEST_SHM": "1"})
    try:
        vm = v.Vm(tessera)
        t.check(vm.matching(r"^guest-memory no"), "guest memory was not disabled")
        vm.cmd("hello 1")
        vm.wait(r"event ctx=1 HELLO_REPLY")
        vm.cmd(f"resource 1 {W} {H} {GREEN}")
        vm.cmd(f"resource 2 {W} {H} {GREEN} contig")
        vm.cmd("buffer 1 1")
        vm.cmd("buffer 2 2")
        t.check(copied(vm) == 0, "bytes copied before any commit")
        vm.cmd("window 1 1 copied")
        vm.wait(r"^mapped ctx=1 surface=1")
        png = v.shot_with(tessera, GREEN)
        cx, cy, cw, ch = t.frame_check(png, GREEN, v.VM_FRAME, "copied window")
        t.check((cw, ch) == (W, H), f"window content {cw}x{ch}")
        stats = vm.stats()
        t.check(stats["bytes_copied"] == W * H * 4,
                f"first frame copied {stats['bytes_copied']} bytes, not {W * H * 4}")
        t.check(stats["shm"] == 2 and stats["gmem"] == 0, f"paths: {stats}")

        # The same buffer again with a 20x20 damage: 1600 bytes.
        vm.cmd(f"fill 1 {MAGENTA} 10 10 20 20")
        base = copied(vm)
        vm.cmd("commit 1 1 frame damage 10 10 20 20")
        png = v.shot_with(tessera, MAGENTA, GREEN)
        t.check(png.bbox(MAGENTA)[:4] == (cx + 10, cy + 10, 20, 20),
                f"square at {png.bbox(MAGENTA)}")
        t.check(copied(vm) - base == 20 * 20 * 4,
                f"{copied(vm) - base} bytes copied for a 20x20 damage")

        # Pixels outside the damage are not copied: the guest changes
        # buffer 1 without declaring it, the screen must not change.
        vm.cmd(f"fill 1 {ORANGE} 100 50 10 10")
        base = copied(vm)
        vm.cmd("commit 1 1 damage 0 0 1 1")
        t.check(copied(vm) - base == 4, f"{copied(vm) - base} bytes for a 1x1 damage")
        png = tessera.screenshot()
        t.check(png.bbox(ORANGE) is None, "undamaged pixels were copied")

        # Buffer 2 is new to the surface: copied whole. Then buffer 1
        # comes back with a 10x10 damage, plus the 1x1 damaged while it
        # was not shown.
        vm.cmd(f"fill 2 {MAGENTA} 10 10 20 20")
        base = copied(vm)
        vm.cmd("commit 1 2 damage 0 0 1 1")
        vm.wait(r"event ctx=1 BUFFER_RELEASE buffer=1 ")
        t.check(copied(vm) - base == W * H * 4,
                f"{copied(vm) - base} bytes for a buffer new to the surface")
        vm.cmd(f"fill 1 {BLUE} 50 50 10 10")
        base = copied(vm)
        vm.cmd("commit 1 1 damage 50 50 10 10")
        vm.wait(r"event ctx=1 BUFFER_RELEASE buffer=2 ")
        t.check(copied(vm) - base == 10 * 10 * 4 + 4,
                f"{copied(vm) - base} bytes for 10x10 + 1x1 of stale damage")
        png = v.shot_with(tessera, BLUE)
        t.check(png.bbox(BLUE)[:4] == (cx + 50, cy + 50, 10, 10),
                f"blue square at {png.bbox(BLUE)}")

        # A full HD buffer with full damage: bytes copied per frame.
        vm.cmd("resource 10 1920 1080 204060 contig")
        vm.cmd("buffer 10 10")
        vm.cmd("window 5 10 full hd")
        vm.wait(r"^mapped ctx=1 surface=5")
        before = vm.stats()
        for _ in range(10):
            vm.cmd("commit 5 10 all")
        after = vm.stats()
        frames = after["frames"] - before["frames"]
        per_frame = (after["bytes_copied"] - before["bytes_copied"]) // frames
        print(f"bytes copied on the host per 1920x1080 frame (wl_shm fallback, "
              f"full damage): {per_frame}")
        t.check(per_frame == 1920 * 1080 * 4, f"{per_frame} bytes per full frame")
        base = copied(vm)
        vm.cmd("commit 5 10 damage 0 0 64 64")
        print(f"bytes copied for a 64x64 damage: {copied(vm) - base}")
        t.check(copied(vm) - base == 64 * 64 * 4, "64x64 damage")
        vm.cmd("destroy-surface 5")

        # The guest drops a resource: its buffer keeps its last pixels.
        vm.cmd("resource-gone 2")
        base = copied(vm)
        vm.cmd("commit 1 2 all")
        t.check(copied(vm) == base, "copied from a resource that is gone")
        v.shot_with(tessera, MAGENTA)

        vm.check_no_failures()
        vm.quit()
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
