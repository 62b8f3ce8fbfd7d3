#!/usr/bin/env python3
"""tessera_guest_memory_v1, the good path: a VM daemon (gmem-client) shows a
window whose buffer is 15 scattered pages of its "guest RAM" (a sealed memfd,
two regions). The screenshot must show exactly the pattern it wrote, cell by
cell (the extent -> address mapping is right); pixels rewritten in guest RAM
show up on the SAME wl_buffer, with or without attaching it again (the
compositor reads guest RAM in place: zero copy); wl_buffer.release comes
when another buffer replaces it; and when the client tears down or vanishes
the compositor has no mapping and no fd of the memfd left."""

import tessera_proc
import tessera_test as t

# What gmem-client.c draws (BUF_* and pattern_pixel there).
WIDTH, HEIGHT = 128, 96
CELL_W, CELL_H = 32, 8
FRAME = "aa00aa"
MEMFD = "/memfd:tessera-gmem-guest-ram"
VM = "gm"


def color(x, y, phase):
    cx, cy = x // CELL_W, y // CELL_H
    return "%02x%02x%02x" % (40 + 50 * cx, 20 + 19 * cy, 0x30 * (phase + 1))


def content_origin(png):
    """The top-left of the window content, from the VM frame around it."""
    frame = png.bbox(FRAME)
    t.check(frame is not None, "no VM frame on screen")
    fx, fy, fw, fh, _ = frame
    t.check((fw, fh) == (WIDTH + 2 * t.BORDER, HEIGHT + t.TITLE + t.BORDER),
            f"frame {fw}x{fh} does not surround a {WIDTH}x{HEIGHT} buffer")
    return fx + t.BORDER, fy + t.TITLE


def check_pattern(tessera, phase, what):
    """Waits for the screenshot to show this phase, then checks every cell
    whole (one colour, the right one) and its corners and frame."""
    def shot():
        png = tessera.screenshot()
        if png.bbox(FRAME) is None:
            return None
        ox, oy = content_origin(png)
        return png if png.pixel(ox, oy) == color(0, 0, phase) else None
    png = t.wait_for(shot, 10, f"{what}: phase {phase} on screen")
    ox, oy = content_origin(png)
    points, expected = [], []
    for cy in range(HEIGHT // CELL_H):
        for cx in range(WIDTH // CELL_W):
            x0, y0 = cx * CELL_W, cy * CELL_H
            for x, y in ((x0, y0), (x0 + CELL_W - 1, y0), (x0, y0 + CELL_H - 1),
                         (x0 + CELL_W - 1, y0 + CELL_H - 1), (x0 + 13, y0 + 3)):
                points.append((ox + x, oy + y))
                expected.append(color(x, y, phase))
    got = png.pixels(points)
    bad = [(p, e, g) for p, e, g in zip(points, expected, got) if e != g]
    t.check(not bad, f"{what}: {len(bad)} wrong pixels, first: at {bad[:3]} "
            "(position, expected, got)")
    for cy in range(HEIGHT // CELL_H):
        for cx in range(WIDTH // CELL_W):
            x0, y0 = cx * CELL_W, cy * CELL_H
            distinct, dominant = png.region(ox + x0, oy + y0, CELL_W, CELL_H)
            t.check(distinct == 1 and dominant == color(x0, y0, phase),
                    f"{what}: cell {cx},{cy} has {distinct} colours, mostly "
                    f"#{dominant}, expected only #{color(x0, y0, phase)}")
    # Just outside the content: the frame on the left and the bottom.
    t.check(png.pixel(ox - 1, oy + 40) == FRAME, f"{what}: no frame left of content")
    t.check(png.pixel(ox + 40, oy + HEIGHT) == FRAME, f"{what}: no frame below content")
    return png


def fds(pid):
    """The compositor's open fds: (count, how many are the guest memfd)."""
    names = tessera_proc.fd_targets(pid)
    return len(names), sum(1 for n in names if n.startswith(MEMFD))


def memfd_maps(pid):
    return tessera_proc.memfd_maps(pid, MEMFD)


def test():
    vmd = t.program("GMEM_VMD")
    t.program("GMEM_CLIENT")
    config = f"""
[vm {VM}]
color = #{FRAME}
vhost-user = /nonexistent/{VM}.sock
vmd = {vmd}
"""
    env = {"GMEM_SCENARIO_" + VM: "show,crash"}
    # -v -v: debug log, where the guest memory counters go.
    tessera = t.Tessera(args=["-v"], size=(640, 480), config=config, env=env)
    pid = tessera.proc.pid
    log = t.ClientLog(f"{tessera.tmp}/{VM}.log")

    def step(run, name):
        open(f"{tessera.tmp}/{VM}.{run}.{name}", "w").close()

    try:
        log.wait("1 connected")
        t.check(log.has("1 global tessera_guest_memory_v1 ok"),
                "the VM does not see tessera_guest_memory_v1")
        # One VM configured: the whole per-client budget.
        budget = log.wait("1 budget ")
        t.check(budget[0] == "1 budget 1024 16384 4294967296", f"budget: {budget}")
        base_fds, base_memfds = fds(pid)
        t.check(base_memfds == 0 and not memfd_maps(pid), "memfd in use before start")

        # The pattern, through 15 scattered extents in two regions.
        step(1, "start")
        log.wait("1 mapped")
        check_pattern(tessera, 0, "first commit")
        count, memfds = fds(pid)
        t.check(memfds == 2, f"compositor holds {memfds} memfd fds, expected 2 regions")
        t.check(memfd_maps(pid), "no mapping of the guest memfd in the compositor")
        created = [line for line in tessera.log().splitlines()
                   if "guest memory: vm 'gm': buffer 128x96" in line]
        t.check(len(created) == 1, f"buffer creations logged: {created}")
        t.check("15 extents in 12 mappings, 61440 bytes mapped" in created[0],
                f"adjacent extents not merged as expected: {created[0]}")

        # Zero copy: new pixels in guest RAM, the same wl_buffer attached again.
        step(1, "rewrite")
        log.wait("1 rewritten")
        check_pattern(tessera, 1, "same wl_buffer attached again")
        # ... and only damage, no attach at all.
        step(1, "damage")
        log.wait("1 damaged")
        check_pattern(tessera, 2, "damage without attach")
        t.check(not log.has("1 release"), "buffer released while still attached: "
                f"{log.matching('1 release')}")
        text = tessera.log()
        t.check(text.count("guest memory: vm 'gm': buffer 128x96") == 1,
                "a new buffer was created for rewritten pixels")
        t.check(" 0 bytes copied" in text and "bytes copied" in text,
                "no counter line with 0 bytes copied")

        # A second buffer replaces the first: the first is released.
        step(1, "swap")
        log.wait("1 swapped")
        t.check(log.matching("1 release") == ["1 release 1"],
                f"releases after the swap: {log.matching('1 release')}")
        check_pattern(tessera, 3, "second buffer")

        # Regions removed while buffers map them: the mappings stay valid.
        step(1, "drop-regions")
        log.wait("1 regions-dropped")
        check_pattern(tessera, 4, "after the regions were removed")
        _, memfds = fds(pid)
        t.check(memfds == 0, f"{memfds} region fds still open after region destroy")
        t.check(memfd_maps(pid), "buffer mappings went away with the regions")

        # Explicit teardown (buffer 2 destroyed while on screen): all unmapped.
        step(1, "teardown")
        log.wait("1 torn-down")
        t.wait_for(lambda: not memfd_maps(pid), 10, "mappings gone after teardown")
        t.wait_for(lambda: fds(pid) == (base_fds, 0), 10,
                   f"fd count back to {base_fds} after teardown (now {fds(pid)})")
        t.check("2 buffers created" in tessera.log(), "stats: not 2 buffers created")

        # Run 2: the daemon is restarted; this time it vanishes mid-way.
        # Both runs end with status 0, tessera restarting the daemon.
        tessera.expect_daemon_exit(VM, r"^exited with status 0$")
        step(1, "exit")
        log.wait("2 connected", timeout=20)
        t.wait_for(lambda: fds(pid) == (base_fds, 0), 10,
                   f"fd count back to {base_fds} with a fresh connection")
        step(2, "start")
        log.wait("2 mapped")
        check_pattern(tessera, 0, "restarted daemon")
        step(2, "swap")
        log.wait("2 swapped")
        check_pattern(tessera, 3, "restarted daemon, second buffer")
        t.check(memfd_maps(pid) and fds(pid)[1] == 2, "run 2 maps nothing")
        step(2, "exit")
        log.wait("2 exiting")

        # Run 3 (idle) connects once run 2's connection is gone.
        log.wait("3 connected", timeout=20)
        t.wait_for(lambda: not memfd_maps(pid), 10, "mappings gone after the crash")
        t.wait_for(lambda: fds(pid) == (base_fds, 0), 10,
                   f"fd count back to {base_fds} after the crash (now {fds(pid)})")
        t.check(tessera.alive(), "tessera died")
        tessera.stop()
        text = tessera.log()
        t.check("0 live buffers, 0 regions, 0 bytes mapped in 0 mappings, 0 bytes copied"
                in text, "final counters not back to zero")
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
