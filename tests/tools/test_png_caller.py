#!/usr/bin/env python3
"""The tests read screenshots through tessera_test.Png, which runs
tessera-png-probe: "nothing of that colour" (exit 1 with "none") must be
told from a probe that crashed, was killed or had a sanitizer report (any
other exit, or 1 without "none"); those must fail the test, not read as
an absent colour. Checked with the real probe on a real PNG and with
stand-in probes that crash."""

import os
import shutil
import struct
import tempfile
import zlib

import tessera_test as t


def write_png(path, width, height, rgb):
    """A PNG of one colour (8-bit RGB)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    row = b"\0" + bytes(rgb) * width
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def fake_probe(tmp, name, body):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


def raises(what, fn):
    try:
        fn()
    except AssertionError as e:
        print(f"{what}: fails the test ({e})")
        return
    t.fail(f"{what}: read as an answer instead of failing")


def test():
    t.program("TESSERA_PNG_PROBE")
    tmp = tempfile.mkdtemp(prefix="tessera-png-caller-")
    try:
        png_path = os.path.join(tmp, "shot.png")
        write_png(png_path, 4, 3, (0x12, 0x34, 0x56))
        png = t.Png(png_path)
        t.check(png.bbox("123456") == (0, 0, 4, 3, 12), f"bbox {png.bbox('123456')}")
        t.check(png.bbox("ffffff") is None, "an absent colour is not None")
        t.check(png.count("ffffff") == 0, "count of an absent colour")

        cases = {
            "a probe killed by SIGSEGV": "kill -SEGV $$",
            "a probe killed by SIGKILL": "kill -KILL $$",
            "a probe exiting 1 without 'none' (a sanitizer's default status)":
                "echo '==1==ERROR: AddressSanitizer: heap-use-after-free' >&2; exit 1",
            "a probe exiting 2": "echo 'cannot decode' >&2; exit 2",
            "a probe exiting 3": "exit 3",
        }
        for i, (what, body) in enumerate(cases.items()):
            png.probe = fake_probe(tmp, f"probe-{i}", body)
            raises(f"bbox through {what}", lambda: png.bbox("ffffff"))
            raises(f"pixel through {what}", lambda: png.pixel(0, 0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t.main(test)
