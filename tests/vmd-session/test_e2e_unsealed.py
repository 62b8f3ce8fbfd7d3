#!/usr/bin/env python3
"""tessera-vmd's own refusal of unsealed guest memory. Every other test's
VMM seals its guest RAM memfd, so these checks of vmd never ran: here
vmd-session-e2e runs its window case with RAM in a memfd without seals
(as a VMM whose memory backend does not seal). vmd must not hand that
memory to the compositor (which would map it, and a guest shrinking the
file would fault tessera): it says so in one clear line per region and
shows the guest's buffers through wl_shm copies instead, every byte of
every frame. Nothing else breaks: the window has its pixels, frame and
title, tessera logs no error and maps no region of that guest, vmd is not
restarted, and the next (sealed) guest gets zero-copy again."""

import vmd_session_test as v
from vmd_session_test import t

REFUSAL = ("guest memory region {} is not a memfd sealed against shrinking: "
           "its buffers are copied")
REGION_ADDED = f"guest memory: vm '{v.E2eHost.VM}': region"


def test():
    t.program("TESSERA_TEST_TOPLEVELS")
    e2e = v.E2eHost("tessera-vmd-unsealed-")
    tessera = e2e.tessera
    try:
        run = v.run_window_case(e2e, "unsealed")
        log = tessera.log()
        for region in (0, 1):
            t.check(REFUSAL.format(region) in log,
                    f"no line refusing region {region}:\n{log[-4000:]}")
        t.check(REGION_ADDED not in log, "tessera was handed the unsealed guest memory")
        t.check(run["copied"] == run["frames"] * 1920 * 1080 * 4,
                f"{run['copied']} bytes copied for {run['frames']} full-HD frames")
        errors = [line for line in log.splitlines() if "[ERROR]" in line]
        t.check(not errors, f"errors: {errors}")
        e2e.check_same_vmd()

        # The next guest seals its memory: zero copy again.
        run = v.run_window_case(e2e)
        t.check(run["copied"] == 0,
                f"{run['copied']} bytes copied for {run['frames']} frames of a sealed guest")
        t.check(REGION_ADDED in tessera.log(),
                "the sealed guest's memory was not handed to tessera")
        e2e.check_same_vmd()
        tessera.stop()
    finally:
        e2e.cleanup()


if __name__ == "__main__":
    t.main(test)
