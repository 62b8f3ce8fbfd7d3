#!/usr/bin/env python3
"""A guest client that commits once without a buffer after acking its
first configure (foot does), then its first frame: the window appears on
the host. The agent took that empty commit for an unmap and held the
frame for a new configure from the host that never came (foot's window
then showed only when a second host configure happened to arrive in
between)."""

import subprocess

import agent_test as a
import tessera_test as t


def test():
    loop = a.Loopback(size=(800, 600))
    try:
        client = loop.guest_client([t.program("AGENT_GUEST_CLIENT"), "--empty-commit",
                                    "--frames", "3", "--color", "3355ee",
                                    "--title", "empty first"], stdout=subprocess.PIPE)
        a.read_until(client, "done 3", timeout=20)
        loop.wait_title(f"[{a.VM}] empty first")
        png = a.screenshot_with(loop, ["3355ee"], what="the window")
        t.frame_check(png, "3355ee", a.VM_COLOR, "the window")
        a.stop_client(client)
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
