#!/usr/bin/env python3
"""tessera's command line: help, version, bad arguments, the automatic
fallback to headless+pixman, --socket, --size and -s."""

import os
import subprocess
import tempfile

import tessera_test as t


def run_tessera(args, env_extra=None):
    env = dict(os.environ)
    for var in ("WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY"):
        env.pop(var, None)
    env["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="tessera-cli-")
    if env_extra:
        env.update(env_extra)
    return subprocess.run([t.program("TESSERA"), *args], env=env,
                          capture_output=True, text=True, timeout=20)


def test_arguments():
    res = run_tessera(["--help"])
    t.check(res.returncode == 0 and "Usage: tessera" in res.stdout, "--help")
    res = run_tessera(["--version"])
    t.check(res.returncode == 0 and res.stdout.startswith("tessera "), "--version")
    for args, message in [
        (["--size", "0x100"], "invalid size '0x100'"),
        (["--size", "100"], "invalid size '100'"),
        (["--size", "99999x10"], "invalid size '99999x10'"),
        (["--backend", "x11"], "unknown backend 'x11'"),
        (["--socket", "a/b"], "invalid socket name 'a/b'"),
        (["--no-such-option"], "Usage: tessera"),
        (["stray"], "unexpected argument 'stray'"),
    ]:
        res = run_tessera(args)
        t.check(res.returncode == 2, f"{args}: exit {res.returncode}, expected 2")
        t.check(message in res.stderr, f"{args}: stderr lacks {message!r}: {res.stderr}")


def test_fallback_socket_size_startup():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    startup = f"{simple_shm} --color 123456 --size 64x48 --log $TESSERA_TEST_DIR/s.log"
    tessera = t.Tessera(size=(640, 400), backend=None,
                        args=["--socket", "tessera-test-sock", "-s", startup])
    # The -s client shares tessera's stderr and outlives it by a moment.
    tessera.expect_error(r"^[\d:.]+ \[ERROR\] lost the connection to the compositor: ")
    try:
        t.check(tessera.display == "tessera-test-sock", f"socket {tessera.display}")
        t.check(os.path.exists(os.path.join(tessera.runtime_dir, "tessera-test-sock")),
                "no socket file in XDG_RUNTIME_DIR")
        t.wait_for(lambda: "falling back to the headless backend with the pixman "
                   "renderer" in tessera.log(), 5, "the fallback log line")
        log = t.ClientLog(f"{tessera.tmp}/s.log")
        log.wait("mapped")
        png = t.wait_for(lambda: (lambda p: p if p.bbox("123456") else None)
                         (tessera.screenshot()), 10, "the -s client's window")
        t.check(png.size() == (640, 400), f"output size {png.size()}")
        t.check(png.bbox("123456")[2:4] == (64, 48), "the -s client's window size")

        # A second compositor on the same socket fails clearly.
        res = run_tessera(["--backend", "headless", "--socket", "tessera-test-sock"],
                          {"XDG_RUNTIME_DIR": tessera.runtime_dir})
        t.check(res.returncode == 1 and "cannot listen on socket 'tessera-test-sock'"
                in res.stderr, f"second compositor: {res.returncode} {res.stderr}")
        tessera.stop()
    finally:
        tessera.cleanup()


def test():
    test_arguments()
    test_fallback_socket_size_startup()


if __name__ == "__main__":
    t.main(test)
