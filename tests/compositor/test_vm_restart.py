#!/usr/bin/env python3
"""A VM daemon that dies: its windows disappear, the compositor keeps
running and serving clients, and the daemon is restarted with back-off."""

import os
import re
import signal

import tessera_test as t


def test():
    fake_vmd = t.program("TESSERA_FAKE_VMD")
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    config = f"""
[vm work]
color = #cc3333
vhost-user = /nonexistent/work.sock
vmd = {fake_vmd}
"""
    tessera = t.Tessera(size=(800, 600), config=config,
                        env={"FAKE_VMD_COLOR_work": "33cc33"})
    try:
        vm = t.ClientLog(f"{tessera.tmp}/work.log")
        vm.wait("mapped")
        t.wait_for(lambda: tessera.screenshot().bbox("cc3333"), 10, "the VM window")
        first_pid = vm.pids()[0]

        tessera.expect_daemon_exit("work", r"^killed by signal 9$")
        os.kill(first_pid, signal.SIGKILL)
        t.wait_for(lambda: f"(pid {first_pid}) killed by signal 9" in tessera.log(),
                   10, "the compositor to notice the daemon's death")
        t.check(tessera.alive(), "tessera died with the VM daemon")
        # Restart comes after a back-off (500 ms); until then the VM's
        # window is gone.
        png = tessera.screenshot()
        t.check(png.bbox("cc3333") is None and png.bbox("33cc33") is None,
                "the dead VM's window is still on screen")

        # The compositor serves a new client.
        host = t.ClientLog(f"{tessera.tmp}/host.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "100x80",
                        "--log", host.path])
        host.wait("mapped")
        t.wait_for(lambda: tessera.screenshot().bbox("808080"), 10, "the new host window")

        # The daemon comes back, as a new process, and so does its window.
        t.wait_for(lambda: len(vm.pids()) >= 2, 10, "the VM daemon to restart")
        second_pid = vm.pids()[1]
        t.check(second_pid != first_pid, "same pid after restart")
        t.wait_for(lambda: tessera.screenshot().bbox("cc3333"), 10,
                   "the VM window after the restart")

        # Dying again soon: the back-off doubles.
        os.kill(second_pid, signal.SIGKILL)
        t.wait_for(lambda: len(vm.pids()) >= 3, 10, "the second restart")
        delays = [int(d) for d in re.findall(r"vm 'work': restart in (\d+) ms", tessera.log())]
        t.check(delays[:2] == [500, 1000], f"back-off delays {delays}")
        t.check(tessera.alive(), "tessera died")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
