#!/usr/bin/env python3
"""Nested: tessera started inside another Wayland compositor (here another
tessera) picks the Wayland backend by itself and shows its output, with
its own clients, as a window of the parent."""

import os
import subprocess

import tessera_test as t


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    toplevels = t.program("TESSERA_TEST_TOPLEVELS")
    parent = t.Tessera(size=(1024, 768))
    child = None
    try:
        env = dict(parent.client_env)  # WAYLAND_DISPLAY = the parent
        child_log = os.path.join(parent.tmp, "child.log")
        with open(child_log, "w") as log:
            child = subprocess.Popen(
                [t.program("TESSERA"), "-v", "--socket", "nested-child",
                 "-s", f"{simple_shm} --color 2266aa --size 120x90"],
                env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        line = child.stdout.readline()
        t.check(line.strip() == "WAYLAND_DISPLAY=nested-child", f"child printed {line!r}")
        with open(child_log) as f:
            t.check("Creating wayland backend" in f.read(),
                    "the nested tessera did not pick the Wayland backend")
        # The child's client is visible in the parent's screenshot.
        t.wait_for(lambda: (lambda p: p.bbox("2266aa") and p.bbox("2266aa")[2:4]
                            == (120, 90))(parent.screenshot()), 15,
                   "the nested client in the parent's output")
        titles = parent.run([toplevels]).stdout
        t.check("tessera - WL-1" in titles, f"parent's windows: {titles!r}")
        child.terminate()
        t.check(child.wait(timeout=10) == 0, "the nested tessera did not exit cleanly")
        with open(child_log, errors="replace") as f:
            # wlroots looks for a DRM device first (there may be none); the
            # child's -s client loses its compositor as the child exits.
            t.check_log(f.read(), "the nested tessera's log", [
                r"tessera \[ERROR\] \[render/wlr_renderer\.c:\d+\] drmGetDevices2 failed: ",
                r"^[\d:.]+ \[ERROR\] lost the connection to the compositor: "])
        parent.stop()
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        parent.cleanup()


if __name__ == "__main__":
    t.main(test)
