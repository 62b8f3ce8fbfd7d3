#!/usr/bin/env python3
"""Event ring overflow through the real tessera-vmd (vmd-session-e2e plays
VMM, guest driver and agent on its vhost-user socket): a guest commits
3000 frames asking for presentation feedback and a frame callback, and
does not read its 64 KiB ring meanwhile. vmd does not block: tessera and
vmd keep serving (a host client maps, the window stays, vmd answers
SIGUSR1) while it counts dropped events. Once the guest reads again, every
commit's PRESENTED is either in the ring or counted by an ERROR OVERFLOW
(the counts add up to vmd's own dropped-event counter), the FRAME_DONE of
the last commit is there (state events are never lost), and a WAIT on the
empty ring is held until the next event completes it."""

import tessera_proc
import vmd_session_test as v
from vmd_session_test import t


def dropped(tessera, pid):
    return int(tessera_proc.vmd_stats(tessera, pid)["events_dropped"])


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    e2e = v.E2eHost("tessera-vmd-overflow-")
    tessera, pid = e2e.tessera, e2e.pid
    try:
        guest = e2e.guest("overflow")
        color = guest.ready("mapped")[0]
        t.frame_check(v.shot_with(tessera, color), color, e2e.FRAME, "the guest window")
        # A host window takes the focus now, so that no input event for the
        # guest mixes with the flood: every event dropped is a PRESENTED.
        first = t.ClientLog(f"{tessera.tmp}/first.log")
        tessera.client([simple_shm, "--color", "606060", "--size", "120x90",
                        "--log", first.path])
        first.wait("keyboard enter")
        before = dropped(tessera, pid)
        guest.go()

        commits = int(guest.ready("flooded")[0])
        # The guest reads nothing now; vmd drops what does not fit and
        # keeps serving, and so does tessera.
        t.wait_for(lambda: dropped(tessera, pid) > before, 20, "vmd to drop events")
        second = t.ClientLog(f"{tessera.tmp}/second.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "120x90",
                        "--log", second.path])
        second.wait("mapped")
        v.shot_with(tessera, color, "606060", "808080")
        guest.go()

        presented, lost, notices = map(int, guest.ready("drained"))
        print(f"{commits} commits: {presented} PRESENTED read, {lost} dropped "
              f"(in {notices} OVERFLOW notices)")
        t.check(presented + lost == commits, f"{presented} + {lost} != {commits}")
        t.check(dropped(tessera, pid) - before == lost,
                f"vmd counted {dropped(tessera, pid) - before} dropped events, the "
                f"OVERFLOW notices {lost}")
        guest.go()
        guest.ready("held")
        guest.go()
        guest.ready("done")
        guest.finish()
        e2e.wait_windows_gone("the guest's window to go")
        e2e.check_same_vmd()
        tessera.stop()
    finally:
        e2e.cleanup()


if __name__ == "__main__":
    t.main(test)
