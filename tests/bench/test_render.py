#!/usr/bin/env python3
"""tessera draws its scene with pixman blits and skips what opaque windows
hide (server/compositor/render.c) where wlroots' pixman renderer takes a
transformed, per-pixel path; TESSERA_WLROOTS_RENDER=1 makes it draw every
frame the wlroots way. The same scene, built frame by frame (partial
redraws into the output's buffers), must come out identical both ways,
pixel for pixel: overlapping host windows with and without server-side
frames, a VM window with its coloured frame and "[vm] title" bar, a window
raised over the others, and one closed (what it covered drawn again).
The same on an output of scale 2 (tessera --scale 2), where the blits
show the scale-1 clients and title bars at twice their size with pixman's
nearest filter.
"""

import os
import struct
import zlib

import tessera_test as t


def pixels(path):
    """(width, height, RGB bytes) of an 8-bit, non-interlaced PNG (grim's)."""
    with open(path, "rb") as f:
        data = f.read()
    t.check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            t.check(depth == 8 and color in (2, 6) and interlace == 0,
                    f"{path}: unexpected PNG layout {depth} {color} {interlace}")
        elif kind == b"IDAT":
            idat += chunk
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    out, prev = bytearray(), bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        out += b"".join(line[i:i + 3] for i in range(0, stride, bpp))
    return width, height, bytes(out)


def scene(wlroots_only, scale=1):
    """Builds the scene on a fresh tessera with an output of that scale;
    returns its screenshot."""
    fake_vmd = t.program("TESSERA_FAKE_VMD")
    # a large VM window first: the host windows cascade over parts of it
    env = {"FAKE_VMD_COLOR_work": "33cc33", "FAKE_VMD_TITLE_work": "guest window",
           "FAKE_VMD_ARGS_work": "--size 560x360"}
    if wlroots_only:
        env["TESSERA_WLROOTS_RENDER"] = "1"
    # the same layout (800x600) at any scale
    server = t.Tessera(size=(800 * scale, 600 * scale), env=env, args=["--scale", str(scale)],
                       config=f"[vm work]\ncolor = #c62828\nvhost-user = /nonexistent/work.sock\n"
                              f"vmd = {fake_vmd}\n")
    try:
        t.ClientLog(os.path.join(server.tmp, "work.log")).wait("mapped")
        shm = t.program("TESSERA_SIMPLE_SHM")
        clients = {}
        for name, color, size, extra in (
                ("big", "3366cc", "420x300", ["--decoration", "server"]),
                ("plain", "aa8800", "300x260", []),
                ("tall", "884499", "260x420", ["--decoration", "server"]),
                ("gone", "dd2266", "200x200", ["--decoration", "server"])):
            log = os.path.join(server.tmp, f"{name}.log")
            clients[name] = server.client([shm, "--color", color, "--size", size, "--title",
                                           name, "--log", log] + extra)
            t.ClientLog(log).wait("mapped")
        # the last window goes: what it covered is drawn again
        t.check(server.screenshot().count("dd2266") > 0, "the last window is not shown")
        clients["gone"].terminate()
        clients["gone"].wait(timeout=10)
        t.wait_for(lambda: server.screenshot().count("dd2266") == 0, 10,
                   "the closed window to disappear")
        shot = server.screenshot()
        width, height, rgb = pixels(shot.path)
        server.stop_clients()
        server.stop()
        return width, height, rgb
    finally:
        server.cleanup()


def test():
    for scale in (1, 2):
        fast = scene(wlroots_only=False, scale=scale)
        slow = scene(wlroots_only=True, scale=scale)
        compare(fast, slow, scale)


def compare(fast, slow, scale):
    width = 800 * scale
    t.check(fast[:2] == slow[:2] == (width, 600 * scale),
            f"screenshot sizes {fast[:2]} {slow[:2]}")
    differ = [i // 3 for i in range(0, len(fast[2]), 3) if fast[2][i:i + 3] != slow[2][i:i + 3]]
    t.check(not differ, f"scale {scale}: {len(differ)} pixels differ between the blits and "
            f"wlroots' drawing, first at {[(i % width, i // width) for i in differ[:5]]}")
    colors = {fast[2][i:i + 3] for i in range(0, len(fast[2]), 3)}
    for rgb in ("3366cc", "aa8800", "884499", "33cc33", "c62828"):
        t.check(bytes.fromhex(rgb) in colors, f"#{rgb} is not on the screen")
    t.check(bytes.fromhex("dd2266") not in colors, "the closed window is still shown")
    print(f"PASS: scale {scale}: {len(fast[2]) // 3} pixels identical, {len(colors)} colours")


if __name__ == "__main__":
    t.main(test)
