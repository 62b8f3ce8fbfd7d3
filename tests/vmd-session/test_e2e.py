#!/usr/bin/env python3
"""End to end: tessera headless starts the real tessera-vmd for a [vm NAME]
section; vmd-session-e2e plays VMM, guest driver and agent on its
vhost-user socket (common/virtio-gpu-frontend). A guest window appears
with its pixels, the VM frame and "[NAME] title"; a second buffer releases
the first; a 1920x1080 buffer is shown without a byte copied on the host
(vmd's SIGUSR1 counters); a VMM that disappears mid-frame leaves tessera
serving other clients, and vmd takes the next connection with its fds and
guest memory mappings back where they were."""

import os
import re
import signal
import subprocess
import tempfile

import vmd_session_test as v
from vmd_session_test import t

VM = "e2e"
FRAME = "2a7f62"


def find_vmd(sock):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"tessera-vmd") and sock.encode() in argv:
            return int(entry)
    return None


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def memfd_maps(pid):
    with open(f"/proc/{pid}/maps") as f:
        return sorted(line.split(None, 5)[-1].strip() for line in f if "memfd:" in line)


def stats(tessera, pid):
    before = tessera.log().count("stats (SIGUSR1)")
    os.kill(pid, signal.SIGUSR1)
    t.wait_for(lambda: tessera.log().count("stats (SIGUSR1)") > before, 10,
               "vmd's counters after SIGUSR1")
    line = [ln for ln in tessera.log().splitlines() if "stats (SIGUSR1)" in ln][-1]
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", line)}


class Guest:
    def __init__(self, tessera, sock, case):
        self.tessera = tessera
        self.proc = subprocess.Popen([t.program("VMD_SESSION_E2E"), sock, case],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def ready(self, phase):
        line = self.proc.stdout.readline().strip()
        if not line.startswith(f"READY {phase}"):
            self.proc.kill()
            self.proc.wait()
            print(self.tessera.log()[-6000:])
            t.fail(f"expected READY {phase}, got {line!r}")
        return line.split()[2:]

    def go(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def finish(self):
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        t.check(rc == 0, f"vmd-session-e2e exited {rc}")


def test():
    vmd = t.program("TESSERA_VMD")
    t.program("VMD_SESSION_E2E")
    t.program("TESSERA_TEST_TOPLEVELS")
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    sock_dir = tempfile.mkdtemp(prefix="tessera-vmd-e2e-")
    sock = os.path.join(sock_dir, "gpu.sock")
    config = f"[vm {VM}]\ncolor = #{FRAME}\nvhost-user = {sock}\n"
    tessera = t.Tessera(size=(800, 600), config=config, env={"TESSERA_VMD": vmd})
    try:
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's socket")
        pid = t.wait_for(lambda: find_vmd(sock), 10, "the tessera-vmd process")
        baseline_fds = fd_count(pid)
        baseline_maps = memfd_maps(pid)

        guest = Guest(tessera, sock, "window")
        color = guest.ready("mapped")[0]
        png = v.shot_with(tessera, color)
        cx, cy, cw, ch = t.frame_check(png, color, FRAME, "guest window")
        t.check((cw, ch) == (200, 120), f"guest window content is {cw}x{ch}")
        t.check(f"[{VM}] e2e window" in v.titles(tessera), f"titles: {v.titles(tessera)}")
        guest.go()
        p1, p2 = (int(p) for p in guest.ready("released"))
        t.check(0 < p1 < p2, f"release points {p1}, {p2}")
        v.shot_with(tessera, color)
        guest.go()

        guest.ready("fullhd-start")
        before = stats(tessera, pid)
        guest.go()
        frames = int(guest.ready("fullhd-done")[0])
        after = stats(tessera, pid)
        copied = int(after["bytes_copied"]) - int(before["bytes_copied"])
        counted = int(after["frames"]) - int(before["frames"])
        print(f"tessera-vmd: {frames} frames of 1920x1080 shown, bytes copied on "
              f"the host per frame: {copied // max(counted, 1)} "
              f"(tessera_guest_memory_v1)")
        t.check(counted == frames, f"vmd counted {counted} frames, sent {frames}")
        t.check(copied == 0, f"{copied} bytes copied for {frames} frames")
        v.shot_with(tessera, "204060")
        guest.go()
        guest.ready("done")
        guest.finish()
        t.wait_for(lambda: not any(n.startswith(f"[{VM}]") for n in v.titles(tessera)),
                   10, "the windows of the finished guest to go")

        # A VMM that disappears mid-frame.
        guest = Guest(tessera, sock, "abandon")
        color = guest.ready("abandon")[0]
        guest.go()
        guest.finish()
        t.wait_for(lambda: not any(n.startswith(f"[{VM}]") for n in v.titles(tessera)),
                   10, "the abandoned window to go")
        t.check(find_vmd(sock) == pid, "tessera-vmd was restarted")
        t.wait_for(lambda: fd_count(pid) == baseline_fds, 10,
                   f"vmd's fd count back to {baseline_fds}")
        t.wait_for(lambda: memfd_maps(pid) == baseline_maps, 10,
                   "vmd's guest memory mappings gone")
        host = t.ClientLog(f"{tessera.tmp}/host.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "120x90",
                        "--title", "host", "--log", host.path])
        host.wait("mapped")
        v.shot_with(tessera, "808080", absent=[color])

        # vmd takes the next connection.
        guest = Guest(tessera, sock, "window")
        color = guest.ready("mapped")[0]
        v.shot_with(tessera, color)
        guest.go()
        guest.ready("released")
        guest.go()
        guest.ready("fullhd-start")
        guest.go()
        guest.ready("fullhd-done")
        guest.go()
        guest.ready("done")
        guest.finish()
        t.wait_for(lambda: fd_count(pid) == baseline_fds, 10,
                   f"vmd's fd count back to {baseline_fds} after a clean exit")
        tessera.stop()
    finally:
        tessera.cleanup()
        try:
            os.rmdir(sock_dir)
        except OSError:
            pass


if __name__ == "__main__":
    t.main(test)
