#!/usr/bin/env python3
"""Cleanup: a guest client that exits, a client killed while it animates,
a client that destroys each buffer while it is in use, and the agent killed mid-frame all take their windows off the host, and
nothing leaks: tessera-vmd's and the agent's open fds and mappings come
back to the same numbers cycle after cycle."""

import os
import subprocess
import time

import agent_test as a
import tessera_proc
import tessera_test as t


def settle(pid, seconds=1.0):
    time.sleep(seconds)
    return tessera_proc.fd_count(pid), tessera_proc.map_count(pid)


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    weston_shm = t.host_program("weston-simple-shm")
    loop = a.Loopback(size=(800, 600))
    try:
        tmp = loop.tessera.tmp
        vmd = loop.vmd_pid()
        t.check(vmd is not None, "no tessera-vmd")
        samples = []
        for cycle in range(4):
            # a client that exits by itself after some frames
            log = t.ClientLog(f"{tmp}/exit-{cycle}.log")
            p = loop.guest_client([simple_shm, "--color", "33cc33", "--size", "120x80",
                                   "--title", f"exits {cycle}", "--animate",
                                   "--frames", "30", "--log", log.path])
            loop.wait_title(f"[guest] exits {cycle}", timeout=20)
            p.wait(timeout=60)
            loop.wait_title(f"[guest] exits {cycle}", present=False)
            # a client killed while it animates (buffers in use)
            k = loop.guest_client([weston_shm], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            loop.wait_title("[guest] simple-shm", timeout=20)
            time.sleep(0.5)
            k.kill()
            k.wait()
            loop.wait_title("[guest] simple-shm", present=False)
            # a client destroying each buffer right after committing it
            churn = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--frames", "40",
                                       "--color", "3355ee", "--title", f"churn {cycle}"],
                                      stdout=subprocess.PIPE, text=True)
            a.read_until(churn, "done 40")
            png = a.screenshot_with(loop, ["3355ee"], what="guest-client's last frame")
            t.frame_check(png, "3355ee", a.VM_COLOR, "guest-client window")
            churn.terminate()
            churn.wait()
            churn.stdout.close()
            loop.wait_title(f"[guest] churn {cycle}", present=False)
            samples.append((settle(vmd), settle(loop.agent.pid, 0)))
        print(f"(vmd fds, maps), (agent fds, maps) per cycle: {samples}")
        # the first cycle may warm caches up; after it, no growth at all
        t.check(samples[1] == samples[2] == samples[3],
                f"fd/mapping counts grow across cycles: {samples}")

        # The agent killed in the middle of an animation: the host drops the
        # VM's windows; a new agent works again, and vmd has not grown.
        k = loop.guest_client([weston_shm], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        loop.wait_title("[guest] simple-shm", timeout=20)
        time.sleep(0.5)
        loop.expect_agent_exit(-9)
        loop.agent.kill()
        loop.agent.wait()
        loop.agent.stdout.close()
        loop.agent_log.close()
        loop.wait_title("[guest] simple-shm", present=False)
        k.kill()
        k.wait()
        t.wait_for(lambda: os.path.exists(loop.sock), 15, "vmd listening again")
        vmd = loop.vmd_pid()
        before = settle(vmd)
        os.unlink(os.path.join(loop.guest_runtime, "guest-0"))
        lock = os.path.join(loop.guest_runtime, "guest-0.lock")
        if os.path.exists(lock):
            os.unlink(lock)
        loop.start_agent()
        log = t.ClientLog(f"{tmp}/after.log")
        p = loop.guest_client([simple_shm, "--color", "3355ee", "--size", "120x80",
                               "--title", "after", "--log", log.path])
        loop.wait_title("[guest] after", timeout=20)
        png = a.screenshot_with(loop, ["3355ee"], what="the new agent's window")
        t.frame_check(png, "3355ee", a.VM_COLOR, "window of the new agent")
        p.terminate()
        p.wait()
        loop.wait_title("[guest] after", present=False)
        loop.stop_agent()
        t.wait_for(lambda: loop.vmd_pid() is not None, 15, "vmd")
        after = settle(loop.vmd_pid())
        print(f"vmd (fds, maps) before the new agent {before}, after it left {after}")
        t.check(after[0] <= before[0], f"vmd fds grew: {before} -> {after}")
        loop.tessera.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
