#!/usr/bin/env python3
"""VM windows: clients arriving through a tagged connection get a frame in
the VM colour and a [NAME]-prefixed title drawn by the compositor, which
they cannot remove or spoof, and see exactly the globals that
protocol/guest-globals.h lets VMs see."""

import tessera_test as t

# Globals a VM must not see (besides checking the whole list below), and
# some it must.
FORBIDDEN = [
    "zwlr_screencopy_manager_v1",
    "zwlr_export_dmabuf_manager_v1",
    "zwlr_data_control_manager_v1",
    "zwp_virtual_keyboard_manager_v1",
    "zwlr_virtual_pointer_manager_v1",
    "zwlr_foreign_toplevel_manager_v1",
    "wl_data_device_manager",
]
ALLOWED = ["xdg_wm_base", "wl_seat", "wl_shm", "wp_presentation"]


def test():
    fake_vmd = t.program("TESSERA_FAKE_VMD")
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    toplevels = t.program("TESSERA_TEST_TOPLEVELS")
    binds = " ".join(f"--bind {name}" for name in FORBIDDEN + ALLOWED)
    config = f"""
[vm work]
color = #cc3333
vhost-user = /nonexistent/work.sock
vmd = {fake_vmd}

[vm bank]
color = #3355ee
vhost-user = /nonexistent/bank.sock
vmd = {fake_vmd}
"""
    env = {
        "FAKE_VMD_COLOR_work": "33cc33",
        "FAKE_VMD_TITLE_work": "hello",
        # A VM asking for client-side decorations still gets the frame.
        "FAKE_VMD_ARGS_work": binds + " --decoration client",
        "FAKE_VMD_COLOR_bank": "ddcc22",
        # A VM trying to pass as the host.
        "FAKE_VMD_TITLE_bank": "[host] Terminal",
    }
    tessera = t.Tessera(size=(800, 600), config=config, env=env)
    try:
        work = t.ClientLog(f"{tessera.tmp}/work.log")
        bank = t.ClientLog(f"{tessera.tmp}/bank.log")
        work.wait("mapped")
        bank.wait("mapped")

        host_log = t.ClientLog(f"{tessera.tmp}/host.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "150x100",
                        "--title", "host window", "--log", host_log.path,
                        "--bind", "zwlr_screencopy_manager_v1"])
        host_log.wait("mapped")

        # Pixels: each VM window framed in its colour; the host window not.
        png = t.wait_for(lambda: (lambda p: p if p.bbox("808080") and p.bbox("33cc33")
                                  and p.bbox("ddcc22") else None)(tessera.screenshot()),
                         10, "all three windows on screen")
        wx, wy, ww, wh = t.frame_check(png, "33cc33", "cc3333", "vm work")
        t.check((ww, wh) == (200, 120), f"vm work content is {ww}x{wh}, not 200x120")
        t.frame_check(png, "ddcc22", "3355ee", "vm bank")
        hx, hy, hw, hh, _ = png.bbox("808080")
        t.check((hw, hh) == (150, 100), f"host window is {hw}x{hh}")
        t.check(png.pixel(hx - 1, hy + 10) not in ("cc3333", "3355ee"),
                "host window has a VM frame")

        # The title bar holds text: other colours on the VM colour.
        distinct, dominant = png.region(wx, wy - t.TITLE + 2, ww, t.TITLE - 4)
        t.check(dominant == "cc3333", f"title bar is #{dominant}")
        t.check(distinct >= 3, "no title text drawn in the title bar")

        # Titles as the host shows them (foreign-toplevel, for taskbars).
        titles = [line.split("\t")[0] for line in
                  tessera.run([toplevels]).stdout.splitlines()]
        t.check("[work] hello" in titles, f"titles: {titles}")
        t.check("[bank] [host] Terminal" in titles, f"titles: {titles}")
        t.check("host window" in titles, f"titles: {titles}")

        # Decorations: the compositor insists on server side.
        t.check(work.has("decoration server"), "vm was allowed client-side decorations")

        # Filtered globals.
        for name in FORBIDDEN:
            t.check(work.has(f"bind {name} absent"), f"vm sees {name}")
        for name in ALLOWED:
            t.check(work.has(f"bind {name} ok"), f"vm does not see {name}")
        # The whole list: a VM sees what tessera offers and guest-globals.h
        # allows VMs, nothing more; host clients see all but the VM-only rows.
        def advertised(log):
            return {line.split()[1] for line in log.matching("global ")}
        vm_side, vm_only = t.guest_globals("vm"), t.guest_globals("vm-only")
        offered = advertised(host_log) | (vm_only & advertised(work))
        t.check(not (advertised(host_log) & vm_only),
                f"host client sees {advertised(host_log) & vm_only}")
        t.check(vm_only <= advertised(work), f"vm misses {vm_only - advertised(work)}")
        t.check(advertised(work) == offered & vm_side,
                f"vm sees {sorted(advertised(work))}, expected {sorted(offered & vm_side)}")
        t.check(host_log.has("bind zwlr_screencopy_manager_v1 ok"),
                "host client does not see screencopy")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
