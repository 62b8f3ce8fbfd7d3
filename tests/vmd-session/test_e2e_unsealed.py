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

import os
import shutil
import tempfile

import tessera_proc
import vmd_session_test as v
from vmd_session_test import t

VM = "e2e"
FRAME = "2a7f62"
REFUSAL = ("guest memory region {} is not a memfd sealed against shrinking: "
           "its buffers are copied")


def run_window_case(tessera, pid, sock, case):
    """Runs the window case; (bytes vmd copied for its full-HD frames,
    number of those frames)."""
    guest = v.Guest(tessera, sock, case)
    color = guest.ready("mapped")[0]
    cx, cy, cw, ch = t.frame_check(v.shot_with(tessera, color), color, FRAME, case)
    t.check((cw, ch) == (200, 120), f"{case}: content {cw}x{ch}")
    t.check(f"[{VM}] e2e window" in tessera.titles(), f"titles: {tessera.titles()}")
    guest.go()
    guest.ready("released")
    guest.go()
    guest.ready("fullhd-start")
    before = tessera_proc.vmd_stats(tessera, pid)
    guest.go()
    frames = int(guest.ready("fullhd-done")[0])
    after = tessera_proc.vmd_stats(tessera, pid)
    v.shot_with(tessera, "204060")
    guest.go()
    guest.ready("done")
    guest.finish()
    t.wait_for(lambda: not any(n.startswith(f"[{VM}]") for n in tessera.titles()),
               10, f"the windows of the {case} guest to go")
    t.check(int(after["frames"]) - int(before["frames"]) == frames,
            f"{case}: vmd counted {int(after['frames']) - int(before['frames'])} frames, "
            f"the guest sent {frames}")
    return int(after["bytes_copied"]) - int(before["bytes_copied"]), frames


def test():
    vmd = t.program("TESSERA_VMD")
    t.program("VMD_SESSION_E2E")
    t.program("TESSERA_TEST_TOPLEVELS")
    sock_dir = tempfile.mkdtemp(prefix="tessera-vmd-unsealed-")
    sock = os.path.join(sock_dir, "gpu.sock")
    config = f"[vm {VM}]\ncolor = #{FRAME}\nvhost-user = {sock}\n"
    tessera = t.Tessera(size=(800, 600), config=config, env={"TESSERA_VMD": vmd})
    try:
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's socket")
        pid = t.wait_for(lambda: tessera_proc.find_vmd(sock), 10, "the tessera-vmd process")

        copied, frames = run_window_case(tessera, pid, sock, "unsealed")
        log = tessera.log()
        for region in (0, 1):
            t.check(REFUSAL.format(region) in log,
                    f"no line refusing region {region}:\n{log[-4000:]}")
        t.check(f"guest memory: vm '{VM}': region" not in log,
                "tessera was handed the unsealed guest memory")
        t.check(copied == frames * 1920 * 1080 * 4,
                f"{copied} bytes copied for {frames} full-HD frames")
        errors = [line for line in log.splitlines() if "[ERROR]" in line]
        t.check(not errors, f"errors: {errors}")
        t.check(tessera_proc.find_vmd(sock) == pid, "tessera-vmd was restarted")

        # The next guest seals its memory: zero copy again.
        copied, frames = run_window_case(tessera, pid, sock, "window")
        t.check(copied == 0, f"{copied} bytes copied for {frames} frames of a sealed guest")
        t.check(f"guest memory: vm '{VM}': region" in tessera.log(),
                "the sealed guest's memory was not handed to tessera")
        t.check(tessera_proc.find_vmd(sock) == pid, "tessera-vmd was restarted")
        tessera.stop()
    finally:
        tessera.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)


if __name__ == "__main__":
    t.main(test)
