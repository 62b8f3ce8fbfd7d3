#!/usr/bin/env python3
"""A guest that stops reading its event ring never blocks vmd: stream events
(presentation feedback) are dropped and counted, state events (FRAME_DONE)
wait in the backlog, the window keeps its last frame; once the guest reads
again it finds ERROR OVERFLOW with the count, then the state events. A guest
that corrupts its ring's tail loses its session (status RING), nothing
else."""

import vmd_session_test as v
from vmd_session_test import t

GREEN, BLUE = "33cc33", "3355aa"
FLOOD = 2000


def test():
    tessera = t.Tessera(size=(800, 600), config=v.config())
    try:
        vm = v.Vm(tessera)
        vm.cmd("hello 1 16384")
        vm.cmd(f"resource 1 200 120 {GREEN}")
        vm.cmd(f"resource 2 200 120 {BLUE}")
        vm.cmd("buffer 1 1")
        vm.cmd("buffer 2 2")
        vm.cmd("window 1 1 flooded")
        vm.wait(r"^mapped ctx=1 surface=1")
        vm.wait(r"event ctx=1 FRAME_DONE surface=1 serial=1$")

        vm.cmd("reading off")
        vm.cmd(f"flood 1 1 {FLOOD}")
        t.wait_for(lambda: vm.stats()["dropped"] > 0, 20, "events dropped")
        # Nothing blocked: the compositor answers, the window is there.
        v.shot_with(tessera, GREEN)
        dropped = vm.stats()["dropped"]
        print(f"events dropped while the guest did not read: {dropped}")

        vm.cmd("reading on")
        overflow = vm.wait(r"event ctx=1 ERROR code=OVERFLOW")
        last = 10000 + FLOOD - 1
        vm.wait(rf"event ctx=1 FRAME_DONE surface=1 serial={last}$")
        t.wait_for(lambda: vm.stats()["dropped"] == sum(
            int(e["count"]) for e in vm.events(1, "ERROR") if e["code"] == "OVERFLOW"),
            10, "OVERFLOW counts adding up to the dropped events")
        t.check(len(overflow) >= 1, "no overflow notice")
        presented = vm.events(1, "PRESENTED")
        t.check(0 < len(presented) < FLOOD, f"{len(presented)} PRESENTED events")

        # Still working.
        vm.cmd("commit 1 2 all frame")
        vm.wait(r"event ctx=1 BUFFER_RELEASE buffer=1 ")
        v.shot_with(tessera, BLUE, absent=[GREEN])

        # A corrupted tail ends the session at the next event.
        tessera.expect_error(r"\[ERROR\] vm 'work': context 1: RING ring\.tail: .*: session ended$")
        vm.cmd("corrupt-tail")
        vm.cmd("commit 1 1 all frame")
        t.wait_for(lambda: "context 1: RING" in tessera.log(), 10, "the RING error")
        vm.cmd("status")
        vm.wait(r"^ring-status ctx=1 RING")
        t.wait_for(lambda: "[work] flooded" not in tessera.titles(), 10,
                   "the broken session's window to go")
        vm.cmd("hello 2")
        vm.cmd("buffer 1 1")
        vm.cmd("window 1 1 after")
        vm.wait(r"^mapped ctx=2 surface=1")
        v.shot_with(tessera, GREEN)

        vm.check_no_failures()
        vm.quit()
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
