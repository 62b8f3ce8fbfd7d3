#!/usr/bin/env python3
"""Guest applications through tessera-agent over the vhost-user loopback:
Debian's weston-simple-shm and foot, and tessera-simple-shm, appear on
tessera with their pixels, the VM's border and "[guest] ..." titles;
weston-simple-shm (two buffers) keeps animating for 300+ frames, so
releases flow back; the copy path copies only damage."""

import os
import re
import subprocess

import agent_test as a
import tessera_test as t


def count_commits(path):
    with open(path, errors="replace") as f:
        text = f.read()
    return (len(re.findall(r"wl_surface@\d+\.commit\(\)", text)),
            len(re.findall(r"wl_buffer@\d+\.release\(\)", text)))


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    weston_shm = t.host_program("weston-simple-shm")
    foot = t.host_program("foot")
    loop = a.Loopback(size=(1024, 768))
    try:
        # A solid client: exact pixels inside the VM's frame.
        log = t.ClientLog(f"{loop.tessera.tmp}/solid.log")
        loop.guest_client([simple_shm, "--color", "33cc33", "--size", "200x120",
                           "--title", "solid", "--log", log.path])
        log.wait("mapped", 20)
        loop.wait_title("[guest] solid")
        png = a.screenshot_with(loop, ["33cc33"], what="the solid window")
        x, y, w, h = t.frame_check(png, "33cc33", a.VM_COLOR, "solid guest window")
        t.check((w, h) == (200, 120), f"solid window content is {w}x{h}")

        # weston-simple-shm: two wl_shm buffers, redraws on every frame done.
        wlog = os.path.join(loop.tessera.tmp, "weston-simple-shm.log")
        env = dict(loop.guest_env)
        env["WAYLAND_DEBUG"] = "client"
        with open(wlog, "w") as f:
            proc = subprocess.Popen([weston_shm], env=env, stdout=f, stderr=f)
            loop.tessera.clients.append(proc)
        loop.wait_title("[guest] simple-shm", timeout=20)
        t.wait_for(lambda: count_commits(wlog)[0] >= 300, 120,
                   "300 frames of weston-simple-shm")
        commits, releases = count_commits(wlog)
        t.check(releases >= commits - 3, f"{commits} commits but {releases} releases")
        t.check(proc.poll() is None, "weston-simple-shm exited")

        # foot: a real terminal (data device, seat, outputs, shm).
        foot_log = os.path.join(loop.tessera.tmp, "foot.log")
        with open(foot_log, "w") as f:
            loop.guest_env["WAYLAND_DEBUG"] = "client"
            loop.guest_client([foot, "--title", "guest terminal", "-o",
                               "colors.background=102030", "sh", "-c",
                               "echo tessera-agent; sleep 600"], stdout=f, stderr=f)
        loop.wait_title("[guest] guest terminal", timeout=30)

        png = a.screenshot_with(loop, ["102030"], what="foot's window")
        fx, fy, fw, fh, _ = png.bbox("102030")
        t.check(fw >= 100 and fh >= 50, f"foot's window is {fw}x{fh}")
        # the background plus text: more than one colour inside
        distinct, dominant = png.region(fx, fy, fw, fh)
        t.check(dominant == "102030", f"foot's background is #{dominant}")
        t.check(distinct >= 2, "no text in foot's window")
        # inside a frame of the VM colour
        frame = png.bbox(a.VM_COLOR)
        t.check(frame is not None, "no VM frame on screen")
        vx, vy, vw, vh, _ = frame
        t.check(vx < fx and vy < fy and vx + vw > fx + fw and vy + vh > fy + fh,
                f"foot's window {(fx, fy, fw, fh)} is not inside the VM frame "
                f"{(vx, vy, vw, vh)}")

        # app_id travels too (weston-simple-shm sets one)
        rows = loop.tessera.toplevels()
        t.check(["[guest] simple-shm", "org.freedesktop.weston.simple-shm"] in
                [row[:2] for row in rows], f"toplevels on the host: {rows}")

        titles = loop.titles()
        t.check("[guest] simple-shm" in titles and "[guest] solid" in titles,
                f"titles on the host: {titles}")

        # a "foreign" dmabuf (a sealed memfd, not from a virtio-gpu device):
        # copied by the agent, double-buffered, releases flowing
        before = loop.agent_counters()
        dm = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--buffers", "memfd",
                                "--frames", "30", "--color", "3355ee", "--title", "dmabuf"],
                               stdout=subprocess.PIPE, text=True)
        out = a.read_until(dm, "done 30")
        t.check(sum(1 for line in out if line.startswith("release")) >= 28,
                "the memfd dmabuf client got too few releases")
        png = a.screenshot_with(loop, ["3355ee"], what="the dmabuf client's last frame")
        dx, dy, dw, dh, _ = png.bbox("3355ee")
        t.check((dw, dh) == (160, 100), f"dmabuf window content {dw}x{dh}")
        after = loop.agent_counters()
        t.check(after["bytes copied"] - before["bytes copied"] >= 30 * 160 * 100 * 4,
                f"foreign dmabufs were not copied: {before} -> {after}")
        t.check(after["zero-copy commits"] == before["zero-copy commits"],
                "a memfd was forwarded as a virtio-gpu resource")
        dm.terminate()
        dm.wait()
        dm.stdout.close()

        counters = loop.agent_counters()
        t.check(counters.get("bytes copied", 0) > 0, f"agent counters: {counters}")
        print(f"weston-simple-shm: {count_commits(wlog)[0]} commits; agent: {counters}")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
