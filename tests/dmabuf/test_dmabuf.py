#!/usr/bin/env python3
"""linux-dmabuf CPU import (common/wlr/linux-dmabuf.c) on tessera
headless + pixman, with sealed memfds standing in for dmabufs (there is no
/dev/udmabuf here; tests/vm/test_udmabuf.py covers real dmabufs).

- the global is offered (v3) with ARGB8888/XRGB8888 + LINEAR only;
- a buffer made through params.create shows its pixels cell by cell;
  pixels rewritten in the same memory show after a damage-only commit
  (read in place: zero copy); a create_immed buffer shows too;
- every bad request gets the protocol's error, import failures the
  failed event (create) or invalid_wl_buffer (create_immed);
- afterwards the compositor holds no fd and no mapping of the memfds."""

import subprocess

import tessera_proc
import tessera_test as t

WIDTH, HEIGHT = 128, 96
MEMFD = "/memfd:tessera-dmabuf-test"
P = "zwp_linux_buffer_params_v1"

CASES = {
    "plane-idx": f"error {P} 1",
    "plane-idx-4": f"error {P} 1",
    "plane-set": f"error {P} 2",
    "incomplete": f"error {P} 3",
    "bad-format": f"error {P} 4",
    "bad-modifier": f"error {P} 4",
    "bad-dimensions": f"error {P} 5",
    "huge-dimensions": f"error {P} 5",
    "out-of-bounds": f"error {P} 6",
    "offset-overflow": f"error {P} 6",
    "short-stride": f"error {P} 6",
    "already-used": f"error {P} 0",
    "unsealed-immed": f"error {P} 7",
    "unsealed": "failed",
    "pipe": "failed",
    "flags": "failed",
}


def color(x, y, phase):
    return "%02x%02x%02x" % (40 + 50 * (x // 32), 20 + 19 * (y // 8), 0x30 * (phase + 1))


def memfd_use(pid):
    """(fds, mappings) of the test's memfds in the process."""
    fds = sum(1 for target in tessera_proc.fd_targets(pid) if target.startswith(MEMFD))
    return fds, len(tessera_proc.memfd_maps(pid, MEMFD))


def check_pattern(tessera, phase, what):
    def shot():
        png = tessera.screenshot()
        box = png.bbox(color(0, 0, phase))
        return (png, box) if box is not None else None
    png, box = t.wait_for(shot, 10, f"{what}: phase {phase} on screen")
    ox, oy = box[0], box[1]
    points, expected = [], []
    for cy in range(HEIGHT // 8):
        for cx in range(WIDTH // 32):
            for dx, dy in ((0, 0), (31, 7), (13, 3)):
                x, y = cx * 32 + dx, cy * 8 + dy
                points.append((ox + x, oy + y))
                expected.append(color(x, y, phase))
    got = png.pixels(points)
    bad = [(p, e, g) for p, e, g in zip(points, expected, got) if e != g]
    t.check(not bad, f"{what}: {len(bad)} wrong pixels, first {bad[:3]}")


def test():
    client = t.program("DMABUF_CLIENT")
    tessera = t.Tessera(args=["-v"], size=(640, 480))
    pid = tessera.proc.pid
    try:
        t.check("linux-dmabuf: the renderer imports no dmabufs: CPU import" in tessera.log(),
                "the CPU import was not created")
        res = tessera.run([client, "formats"])
        formats = sorted(line for line in res.stdout.splitlines() if line.startswith("format"))
        t.check(formats == ["format 34325241 0000000000000000",
                            "format 34325258 0000000000000000"], f"formats: {formats}")

        for case, expected in CASES.items():
            res = tessera.run([client, case], check_rc=False)
            t.check(res.returncode == 0 and res.stdout.strip() == expected,
                    f"case {case}: expected {expected!r}, got {res.stdout.strip()!r} "
                    f"(exit {res.returncode}, {res.stderr.strip()})")
            t.check(tessera.alive(), f"tessera died in case {case}")
        t.wait_for(lambda: memfd_use(pid) == (0, 0), 10,
                   f"no memfd left after the error cases (now {memfd_use(pid)})")

        proc = tessera.client([client, "show"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)

        def say(cmd, answer):
            if cmd:
                proc.stdin.write(cmd + "\n")
                proc.stdin.flush()
            line = proc.stdout.readline().strip()
            t.check(line == answer, f"client said {line!r}, expected {answer!r}")

        say(None, "shown")
        check_pattern(tessera, 0, "params.create buffer")
        fds, maps = memfd_use(pid)
        t.check(fds == 1 and maps == 1, f"compositor holds {fds} fds, {maps} maps")
        say("rewrite", "rewritten")
        check_pattern(tessera, 1, "same memory, damage only")
        say("immed", "immed-shown")
        check_pattern(tessera, 2, "create_immed buffer")
        say("quit", "torn-down")
        proc.wait(timeout=10)
        t.wait_for(lambda: memfd_use(pid) == (0, 0), 10,
                   f"no memfd left after teardown (now {memfd_use(pid)})")
        text = tessera.log()
        t.check("from a sealed memfd" in text and "no copy" in text,
                "no buffer creation logged")
        tessera.stop()
        text = tessera.log()
        t.check("0 live buffers, 0 bytes mapped, 3 buffers created, 4 imports failed, "
                "0 bytes copied" in text, "final linux-dmabuf counters not as expected "
                "(3 created: 2 shown, 1 in already-used; 4 failed imports)")
    finally:
        tessera.cleanup()


t.main(test)
