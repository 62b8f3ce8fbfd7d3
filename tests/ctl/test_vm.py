#!/usr/bin/env python3
"""tesseractl vm list/stop/start/restart against fake VMs: the list shows
each VM's state and daemon pid (in a table and as JSON); stop ends the
daemon, its windows leave the screen and the state reads stopped while
the other VM goes on; start brings the window back with a new daemon;
restart replaces the daemon. A daemon that ignores SIGTERM is killed
after the stop timeout."""

import os
import shutil
import tempfile
import time

import compositor_test
import ctl_test as c
import tessera_test as t

COLORS = {"work": "cc3333", "bank": "3333cc"}
CONTENT = {"work": "33cc33", "bank": "cccc33"}


def on_screen(tessera, vm):
    return tessera.screenshot().bbox(CONTENT[vm]) is not None


def test_stop_start_restart():
    tessera = t.Tessera(size=(800, 600), config=compositor_test.fake_vm_config(COLORS),
                        env={f"FAKE_VMD_COLOR_{vm}": CONTENT[vm] for vm in COLORS})
    try:
        for vm in COLORS:
            t.ClientLog(f"{tessera.tmp}/{vm}.log").wait("mapped")
        t.wait_for(lambda: on_screen(tessera, "work") and on_screen(tessera, "bank"), 10,
                   "both VM windows")
        pids = tessera.daemon_pids()

        # vm list: a table for people ...
        rows = {row["NAME"]: row for row in c.table(c.ctl(tessera, "vm", "list"))}
        t.check(set(rows) == {"work", "bank"}, f"vm list rows {rows}")
        for vm in COLORS:
            t.check(rows[vm] == {"NAME": vm, "STATE": "running",
                                 "DAEMON-PID": str(pids[vm][0]), "QEMU-PID": "-",
                                 "WINDOWS": "1", "FRAMES": "-", "BYTES-COPIED": "-"},
                    f"vm list row of {vm}: {rows[vm]}")
        # ... and JSON for scripts
        listed = c.vms(tessera)
        for vm in COLORS:
            t.check(listed[vm] == {"name": vm, "state": "running", "daemon_pid": pids[vm][0],
                                   "qemu_pid": None, "windows": 1, "frames": None,
                                   "bytes_copied": None, "starts": 1,
                                   "color": "#" + COLORS[vm]},
                    f"vm list --json of {vm}: {listed[vm]}")

        # stop: the daemon ends (cleanly: SIGTERM), the window goes, the
        # other VM stays
        tessera.expect_daemon_exit("work", r"^exited with status 0$")
        res = c.ctl(tessera, "vm", "stop", "work")
        t.check(res.stdout == "vm 'work': stopped\n", f"vm stop printed {res.stdout!r}")
        t.check(f"vm 'work': daemon (pid {pids['work'][0]}) exited with status 0"
                in tessera.log(), "the daemon had not exited when vm stop returned")
        listed = c.vms(tessera)
        t.check(listed["work"]["state"] == "stopped" and listed["work"]["daemon_pid"] is None
                and listed["work"]["windows"] == 0, f"work after stop: {listed['work']}")
        t.check(listed["bank"]["state"] == "running" and listed["bank"]["windows"] == 1,
                f"bank after work's stop: {listed['bank']}")
        t.check([w["vm"] for w in c.windows(tessera)] == ["bank"],
                f"windows after stop: {c.windows(tessera)}")
        t.check(not on_screen(tessera, "work") and on_screen(tessera, "bank"),
                "the stopped VM's window is on screen, or the other one is not")
        # it stays stopped (no restart after the back-off)
        time.sleep(1.2)
        t.check(len(tessera.daemon_pids()["work"]) == 1, "the stopped VM was restarted")
        # stopping it again changes nothing
        reply = c.ctl_json(tessera, "vm", "stop", "work")
        t.check(reply["changed"] is False and reply["vm"]["state"] == "stopped",
                f"second stop: {reply}")
        t.check(c.ctl(tessera, "vm", "stop", "work").stdout ==
                "vm 'work' is already stopped\n", "second stop's text")

        # start: a new daemon, the window is back
        reply = c.ctl_json(tessera, "vm", "start", "work")
        pids = tessera.daemon_pids()
        t.check(len(pids["work"]) == 2, f"daemon starts {pids}")
        t.check(reply["changed"] is True and reply["vm"]["state"] == "running"
                and reply["vm"]["daemon_pid"] == pids["work"][1], f"vm start: {reply}")
        t.wait_for(lambda: on_screen(tessera, "work"), 10, "work's window after vm start")
        t.check(c.vms(tessera)["work"]["windows"] == 1, "work's window count after start")
        res = c.ctl(tessera, "vm", "start", "work")
        t.check(res.stdout == f"vm 'work' is already running (daemon pid {pids['work'][1]})\n",
                f"start of a running VM printed {res.stdout!r}")

        # restart: the daemon is replaced and its window comes back
        res = c.ctl(tessera, "vm", "restart", "work")
        pids = tessera.daemon_pids()
        t.check(len(pids["work"]) == 3, f"daemon starts after restart {pids}")
        t.check(res.stdout == f"vm 'work': running (daemon pid {pids['work'][2]})\n",
                f"vm restart printed {res.stdout!r}")
        t.check(f"(pid {pids['work'][1]}) exited with status 0" in tessera.log(),
                "the old daemon did not exit cleanly")
        t.wait_for(lambda: c.vms(tessera)["work"]["windows"] == 1, 10,
                   "work's window after restart")
        t.wait_for(lambda: on_screen(tessera, "work"), 10, "work's window on screen")
        reply = c.ctl_json(tessera, "vm", "restart", "work")
        pids = tessera.daemon_pids()
        t.check(reply["vm"]["daemon_pid"] == pids["work"][3] and reply["changed"] is True,
                f"restart --json {reply}")
        # a stopped VM's restart starts it
        c.ctl(tessera, "vm", "stop", "bank")
        tessera.expect_daemon_exit("bank", r"^exited with status 0$")
        t.wait_for(lambda: not on_screen(tessera, "bank"), 10, "bank's window to go")
        c.ctl(tessera, "vm", "restart", "bank")
        t.check(c.vms(tessera)["bank"]["state"] == "running", "bank after restart")
        t.wait_for(lambda: on_screen(tessera, "bank"), 10, "bank's window after restart")
        t.check(len(tessera.daemon_pids()["bank"]) == 2, "bank's daemon starts")
        tessera.stop()
    finally:
        tessera.cleanup()


def test_kill_after_timeout():
    """A daemon that ignores SIGTERM: vm stop kills it after 5 s."""
    fake_vmd = t.program("TESSERA_FAKE_VMD")
    config = compositor_test.fake_vm_config({"stubborn": "cc3333"})
    script_dir = tempfile.mkdtemp(prefix="tessera-ctl-")
    script = os.path.join(script_dir, "stubborn-vmd.sh")
    with open(script, "w") as f:
        # (exec would not do: the client blocks SIGTERM for its signalfd,
        # and a blocked signal is delivered even when ignored)
        f.write(f"#!/bin/sh\ntrap '' TERM\n{fake_vmd} \"$@\" &\nwait\n")
    os.chmod(script, 0o755)
    tessera = t.Tessera(size=(400, 300), config=config.replace(f"vmd = {fake_vmd}",
                                                               f"vmd = {script}"))
    try:
        t.ClientLog(f"{tessera.tmp}/stubborn.log").wait("mapped")
        tessera.expect_daemon_exit("stubborn", r"^killed by signal 9$")
        tessera.expect_error(r"vm 'stubborn': daemon \(pid \d+\) did not exit within "
                             r"5000 ms of SIGTERM: killing it")
        # the client the killed script started outlives it and then loses
        # its connection, which tessera closed with the daemon's exit
        tessera.expect_error(r"lost the connection to the compositor")
        start = time.monotonic()
        reply = c.ctl_json(tessera, "vm", "stop", "stubborn")
        took = time.monotonic() - start
        t.check(reply["vm"]["state"] == "stopped" and reply["vm"]["windows"] == 0,
                f"vm stop of a stubborn daemon: {reply}")
        t.check(took >= 4.9, f"vm stop returned after {took:.1f} s, before the timeout")
        t.check("killed by signal 9" in tessera.log(), "the daemon was not killed")
        print(f"vm stop of a daemon ignoring SIGTERM took {took:.2f} s")
        tessera.stop()
    finally:
        tessera.cleanup()
        shutil.rmtree(script_dir)


def test():
    test_stop_start_restart()
    test_kill_after_timeout()


if __name__ == "__main__":
    t.main(test)
