#!/usr/bin/env python3
"""A host that goes away does not kill guest applications: tessera-vmd is
killed (tessera restarts it), the agent reconnects, re-creates the window
and its buffer, and the client — which never noticed — keeps animating."""

import os
import re
import signal
import subprocess

import agent_test as a
import tessera_test as t


def commits(path):
    with open(path, errors="replace") as f:
        return len(re.findall(r"wl_surface@\d+\.commit\(\)", f.read()))


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    weston_shm = t.host_program("weston-simple-shm")
    loop = a.Loopback(size=(800, 600))
    try:
        log = t.ClientLog(f"{loop.tessera.tmp}/solid.log")
        solid = loop.guest_client([simple_shm, "--color", "33cc33", "--size", "160x100",
                                   "--title", "solid", "--log", log.path])
        wlog = os.path.join(loop.tessera.tmp, "weston.log")
        env = dict(loop.guest_env)
        env["WAYLAND_DEBUG"] = "client"
        with open(wlog, "w") as f:
            anim = subprocess.Popen([weston_shm], env=env, stdout=f, stderr=f)
            loop.tessera.clients.append(anim)
        loop.wait_title("[guest] solid", timeout=20)
        loop.wait_title("[guest] simple-shm", timeout=20)

        vmd = loop.vmd_pid()
        t.check(vmd is not None, "no tessera-vmd child of tessera")
        loop.tessera.expect_daemon_exit(a.VM, r"^killed by signal 9$")
        # noticed by the event loop, or inside a wait for a completion
        loop.expect_error(r"tessera-agent \[ERROR\] lost the host \(vhost-user .*\): "
                          r".*closed the vhost-user connection; reconnecting")
        # killed while the agent made a buffer: that fails first
        loop.expect_error(r"tessera-agent \[ERROR\] cannot create a \d+x\d+ buffer "
                          r"resource: .*closed the vhost-user connection$")
        os.kill(vmd, signal.SIGKILL)
        t.wait_for(lambda: "lost the host" in loop.log(), 15, "the agent noticing")
        t.wait_for(lambda: loop.vmd_pid() not in (None, vmd), 15, "a new tessera-vmd")
        t.wait_for(lambda: "(session 2)" in loop.log(), 20, "the agent reconnecting")
        loop.wait_title("[guest] solid", timeout=20)
        loop.wait_title("[guest] simple-shm", timeout=20)
        png = a.screenshot_with(loop, ["33cc33"], what="the solid window again")
        x, y, w, h, _ = png.bbox("33cc33")
        t.check((w, h) == (160, 100), f"content is {w}x{h}")
        for px, py in ((x - 1, y + h // 2), (x + w, y + h // 2), (x + w // 2, y + h)):
            t.check(png.pixel(px, py) == a.VM_COLOR,
                    f"no VM frame at {(px, py)} after the reconnection")
        n = commits(wlog)
        t.wait_for(lambda: commits(wlog) >= n + 60, 60,
                   "weston-simple-shm animating after the reconnection")
        t.check(solid.poll() is None and anim.poll() is None, "a guest client died")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
