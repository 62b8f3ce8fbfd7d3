#!/usr/bin/env python3
"""Guest-side protocols of the agent: the globals a guest application
expects are there, and exactly those protocol/guest-globals.h lists; wl_shm
offers only formats the wire protocol carries; wl_output matches the host's output (size, scale,
refresh), as weston-info sees it on both sides; presentation feedback
flows from the host's frames (weston-presentation-shm gets presented
events); wp_viewporter works (weston-scaler's window has the viewport's
destination size on the host); a subsurface appears at its position
above its parent."""

import os
import re
import subprocess

import agent_test as a
import tessera_test as t

# What guest applications expect, whatever the list says.
GLOBALS = ["wl_compositor", "wl_subcompositor", "wl_shm", "zwp_linux_dmabuf_v1",
           "xdg_wm_base", "wl_seat", "wl_output", "wp_presentation", "wp_viewporter",
           "wl_data_device_manager", "zxdg_output_manager_v1"]


def outputs(info):
    """[(width, height, refresh, scale)] from weston-info's text."""
    res = []
    for block in info.split("interface: 'wl_output'")[1:]:
        mode = re.search(r"width: (\d+) px, height: (\d+) px, refresh: ([\d.]+) Hz", block)
        scale = re.search(r"scale: (\d+)", block)
        t.check(mode and scale, f"cannot parse weston-info's output:\n{block[:400]}")
        res.append((int(mode.group(1)), int(mode.group(2)), float(mode.group(3)),
                    int(scale.group(1))))
    return res


def test():
    info_tool = t.host_program("weston-info")
    presentation = t.host_program("weston-presentation-shm")
    scaler = t.host_program("weston-scaler")
    loop = a.Loopback(size=(960, 720))
    try:
        guest = subprocess.run([info_tool], env=loop.guest_env, capture_output=True,
                               text=True, timeout=20).stdout
        host = loop.tessera.run([info_tool]).stdout
        for name in GLOBALS:
            t.check(f"interface: '{name}'" in guest, f"the agent offers no {name}")
        # ... and exactly the guest rows of protocol/guest-globals.h
        offered = set(re.findall(r"interface: '(\w+)'", guest))
        listed = t.guest_globals("guest")
        t.check(offered == listed, f"the agent offers {sorted(offered)}, "
                f"protocol/guest-globals.h lists {sorted(listed)}")
        # wl_shm: only formats the wire protocol carries (a buffer in any
        # other could never reach the host: its window would never show)
        shm = re.search(r"interface: 'wl_shm'.*\n\s*formats: (.*)", guest)
        t.check(shm is not None, f"no wl_shm formats in weston-info's output:\n{guest}")
        formats = set(re.sub(r"\(0x[0-9a-f]+\)", "", shm.group(1)).replace("'", "").split())
        carried = {"ARGB8888", "XRGB8888", "AB24", "XB24"}
        t.check({"ARGB8888", "XRGB8888"} <= formats <= carried,
                f"the agent's wl_shm formats {sorted(formats)}, the wire carries "
                f"{sorted(carried)}")
        g, h = outputs(guest), outputs(host)
        t.check(g == h and g, f"guest outputs {g} differ from the host's {h}")

        # presentation feedback: the host's frames, through vmd and the agent
        plog = os.path.join(loop.tessera.tmp, "presentation.log")
        # weston-presentation-shm, ended by SIGINT, may destroy its
        # xdg_surface before its toplevel: a protocol error of the client's
        loop.expect_error(r"tessera-agent \[ERROR\] .*Tried to destroy an xdg_surface "
                          r"before its role object")
        env = dict(loop.guest_env)
        env["WAYLAND_DEBUG"] = "client"
        with open(plog, "w") as f:
            subprocess.run(["timeout", "-s", "INT", "4", presentation, "-f"], env=env,
                           stdout=f, stderr=f)
        with open(plog, errors="replace") as f:
            text = f.read()
        presented = len(re.findall(r"wp_presentation_feedback@\d+\.presented\(", text))
        t.check(presented >= 20, f"only {presented} presented events in 4 s")

        # viewporter: weston-scaler's picture is 421x337; "-d" scales it to a
        # 220x308 destination, "-s" crops a source so that the window is
        # 55x77. The agent applies the viewport in its copy; the host sees
        # a window of exactly that size (inside the VM frame).
        for mode, size in (("-d", (220, 308)), ("-s", (55, 77))):
            proc = loop.guest_client([scaler, mode], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            loop.wait_title("[guest] Scaler Test Box", timeout=20)

            def framed(want=size):
                box = loop.tessera.screenshot().bbox(a.VM_COLOR)
                return box if box and box[2:4] == (want[0] + 2 * t.BORDER,
                                                   want[1] + t.TITLE + t.BORDER) else None
            t.wait_for(framed, 15, f"weston-scaler {mode} as a {size[0]}x{size[1]} window")
            proc.terminate()
            proc.wait()
            loop.wait_title("[guest] Scaler Test Box", present=False)
        # subsurfaces: a solid child at (30, 20) above a 160x100 window
        client = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--frames", "3",
                                    "--color", "102030", "--title", "with child",
                                    "--subsurface", "30,20,50,40,20c040"],
                                   stdout=subprocess.PIPE, text=True)
        a.read_until(client, "mapped")
        loop.wait_title("[guest] with child", timeout=20)
        png = a.screenshot_with(loop, ["20c040", "102030"], what="window and subsurface")
        sx, sy, sw, sh, _ = png.bbox("20c040")
        cx, cy, cw, ch, _ = png.bbox("102030")
        t.check((cw, ch) == (160, 100) and (sw, sh) == (50, 40) and
                (sx - cx, sy - cy) == (30, 20),
                f"subsurface {(sx, sy, sw, sh)} not at (30, 20) of the window {(cx, cy, cw, ch)}")
        client.terminate()
        client.wait()
        client.stdout.close()
        print(f"presented events: {presented}; outputs: {g}")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
