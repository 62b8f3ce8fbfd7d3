#!/usr/bin/env python3
"""tessera-vmd standalone against a foreign compositor (Debian's weston,
headless): no tessera_guest_memory_v1 and no usable linux-dmabuf there, so
guest buffers go through wl_shm copies. A guest (vmd-session-e2e playing
VMM, driver and agent) gets its window configured and its frames done,
and its buffers released with increasing release points."""

import os
import re
import shutil
import signal
import subprocess
import tempfile

import tessera_test as t


def test():
    weston = t.host_program("weston")
    vmd = t.program("TESSERA_VMD")
    e2e = t.program("VMD_SESSION_E2E")
    tmp = tempfile.mkdtemp(prefix="tessera-foreign-")
    runtime = os.path.join(tmp, "runtime")
    os.mkdir(runtime, 0o700)
    env = dict(os.environ)
    for var in ("WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY"):
        env.pop(var, None)
    env["XDG_RUNTIME_DIR"] = runtime
    procs = []
    try:
        weston_log = open(os.path.join(tmp, "weston.log"), "w")
        procs.append(subprocess.Popen(
            [weston, "--backend=headless-backend.so", "--socket=wl-foreign",
             "--width=1024", "--height=768", "--idle-time=0"],
            env=env, stdout=weston_log, stderr=weston_log))
        t.wait_for(lambda: os.path.exists(os.path.join(runtime, "wl-foreign")), 15,
                   "weston's socket")
        env["WAYLAND_DISPLAY"] = "wl-foreign"
        sock = os.path.join(runtime, "vm.sock")
        vmd_log_path = os.path.join(tmp, "vmd.log")
        vmd_log = open(vmd_log_path, "w")
        vmd_proc = subprocess.Popen([vmd, "--vhost-user", sock, "--name", "foreign"],
                                    env=env, stdout=vmd_log, stderr=vmd_log)
        procs.append(vmd_proc)
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's vhost-user socket")

        # Each "go" line lets the guest take its next step: window, release,
        # a 1920x1080 window, frames, exit.
        res = subprocess.run([e2e, sock, "window"], env=env, input="go\n" * 8,
                             capture_output=True, text=True, timeout=90)
        t.check(res.returncode == 0, f"guest failed ({res.returncode}): "
                f"{res.stdout}{res.stderr}")
        released = re.search(r"READY released (\d+) (\d+)", res.stdout)
        t.check(released and int(released.group(2)) > int(released.group(1)),
                f"no increasing release points: {res.stdout!r}")

        vmd_proc.send_signal(signal.SIGTERM)
        vmd_proc.wait(timeout=15)
        vmd_log.close()
        with open(vmd_log_path, errors="replace") as f:
            log = f.read()
        stats = re.search(r"vm 'foreign': frames (\d+), bytes copied (\d+), releases "
                          r"(\d+).*buffers: (\d+) udmabuf, (\d+) guest memory, "
                          r"(\d+) wl_shm", log)
        t.check(stats is not None, "no session statistics in vmd's log:\n" + log)
        frames, copied, releases, udmabuf, gmem, shm = map(int, stats.groups())
        t.check(udmabuf == 0 and gmem == 0 and shm == 3,
                f"buffer paths: {udmabuf} udmabuf, {gmem} guest memory, {shm} wl_shm")
        # The guest commits whole-buffer damage: three 200x120 commits
        # (buffer 1, 2, 1), then the 1920x1080 window's first commit and N
        # more frames. The copies are exactly those bytes.
        fullhd = re.search(r"READY fullhd-done (\d+)", res.stdout)
        t.check(fullhd is not None, f"no full-HD frames: {res.stdout!r}")
        n = int(fullhd.group(1))
        expected = 3 * 200 * 120 * 4 + (n + 1) * 1920 * 1080 * 4
        t.check(copied == expected, f"bytes copied {copied}, expected {expected}")
        print(f"wl_shm path: {copied} bytes copied for {frames} frames "
              f"({n} of 1920x1080: {1920 * 1080 * 4} bytes each)")
        t.check(releases >= 2, f"releases {releases}")
        errors = [line for line in log.splitlines() if "[ERROR]" in line]
        t.check(not errors, "errors in vmd's log:\n" + "\n".join(errors))
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if os.environ.get("TESSERA_KEEP_TEST_DIR"):
            print(f"test files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t.main(test)
