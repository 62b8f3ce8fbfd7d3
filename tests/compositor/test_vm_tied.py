#!/usr/bin/env python3
"""A VM's processes never outlive tessera: when tessera is killed (SIGKILL,
as in a crash: no clean shutdown), its VM daemon (tessera-vmd) and the
QEMU it started end too, while a command started with -s carries on (as
sway's do). QEMU here is a stand-in that reports a version and waits."""

import os
import re
import shutil
import signal
import tempfile
import time

import tessera_test as t

FAKE_QEMU = """#!/bin/sh
case "$1" in --version) echo "QEMU emulator version 10.0.0"; exit 0 ;; esac
echo $$ >> "$TESSERA_TEST_DIR/qemu.pids"
exec sleep 600
"""


def alive(pid):
    """Running, not a zombie waiting for a parent that does not reap."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test():
    vmd = t.program("TESSERA_VMD")
    tmp = tempfile.mkdtemp(prefix="tessera-tied-")
    qemu = os.path.join(tmp, "qemu")
    with open(qemu, "w") as f:
        f.write(FAKE_QEMU)
    os.chmod(qemu, 0o755)
    config = f"""
[vm tied]
color = #2e7d32
vhost-user = {tmp}/tied.sock
vmd = {vmd}
kernel = {qemu}
qemu = {qemu}
accel = tcg
memory = 256M
"""
    tessera = t.Tessera(size=(640, 480), config=config,
                        args=["-s", "exec sleep 600"])
    command = None
    try:
        pids_file = os.path.join(tessera.tmp, "qemu.pids")
        t.wait_for(lambda: os.path.exists(pids_file), 20, "QEMU started by tessera")
        with open(pids_file) as f:
            qemu_pid = int(f.read().split()[0])
        vmd_pid = tessera.daemon_pids()["tied"][0]
        command = int(t.wait_for(
            lambda: re.search(r"started 'exec sleep 600' \(pid (\d+)\)", tessera.log()),
            10, "the -s command").group(1))
        t.check(all(alive(p) for p in (qemu_pid, vmd_pid, command)),
                "QEMU, the daemon or the command is not running")

        tessera.crash()
        t0 = time.monotonic()
        t.wait_for(lambda: not alive(vmd_pid) and not alive(qemu_pid), 10,
                   "the daemon and QEMU to end after tessera was killed")
        print(f"tessera-vmd and QEMU ended {time.monotonic() - t0:.2f} s after tessera")
        t.check(alive(command), "the -s command ended with tessera")
    finally:
        if command is not None and alive(command):
            os.kill(command, signal.SIGKILL)
        tessera.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t.main(test)
