#!/usr/bin/env python3
"""tessera-agent's command line: --help and --version succeed; a bad
transport, an unknown option, a bad socket name, a bad --xwayland or a
missing XDG_RUNTIME_DIR exit non-zero with a message naming the problem;
with no host it still serves clients (and says it waits for the host).
Without Xwayland installed, --xwayland on fails and the default (lazy)
runs without X11, printing no DISPLAY. -s may be given several times: every
command runs."""

import os
import subprocess
import tempfile

import tessera_test as t


def run(args, env, timeout=10):
    return subprocess.run([t.program("TESSERA_AGENT")] + args, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test():
    tmp = tempfile.mkdtemp(prefix="tessera-agent-cli-")
    env = dict(os.environ)
    env["XDG_RUNTIME_DIR"] = tmp
    env.pop("WAYLAND_DISPLAY", None)
    res = run(["--help"], env)
    t.check(res.returncode == 0 and "--transport" in res.stdout, f"--help: {res}")
    res = run(["--version"], env)
    t.check(res.returncode == 0 and res.stdout.startswith("tessera-agent "), f"--version: {res}")
    for args, words in ((["--transport", "serial:/dev/ttyS0"], "unknown transport"),
                        (["--transport", "vhost-user:"], "empty"),
                        (["--bogus"], "Usage"),
                        (["--socket", "a/b"], "without '/'"),
                        (["--xwayland", "sometimes"], "lazy, on or off"),
                        (["-s", "true"] * 33, "more than 32 -s"),
                        (["extra"], "unexpected argument")):
        res = run(args, env)
        t.check(res.returncode == 2, f"{args} exited {res.returncode}, not 2")
        t.check(words in res.stderr, f"{args}: no '{words}' in: {res.stderr[-500:]}")
    bad = dict(env)
    bad.pop("XDG_RUNTIME_DIR")
    res = run(["--transport", "vhost-user:/nonexistent.sock"], bad)
    t.check(res.returncode != 0 and "XDG_RUNTIME_DIR" in res.stderr,
            f"no XDG_RUNTIME_DIR: {res.returncode} {res.stderr[-300:]}")
    # no host yet: the socket is up anyway, and the agent says it waits
    proc = subprocess.Popen([t.program("TESSERA_AGENT"), "--transport",
                             f"vhost-user:{tmp}/nobody.sock", "--socket", "w-0",
                             "--xwayland", "off"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t.check(proc.stdout.readline().strip() == "WAYLAND_DISPLAY=w-0",
                "no WAYLAND_DISPLAY line without a host")
        t.check(os.path.exists(os.path.join(tmp, "w-0")), "no socket without a host")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    t.check(proc.returncode == 0, f"exit status {proc.returncode} on SIGTERM")
    t.check("waiting for the host" in err, f"no 'waiting for the host' in: {err[-500:]}")
    t.check(out == "", f"printed more than WAYLAND_DISPLAY with --xwayland off: {out!r}")
    t.check("Xwayland is off" in err, f"no 'Xwayland is off' in: {err[-500:]}")

    # --xwayland on without Xwayland: exit 1 naming it; lazy: a log line,
    # no DISPLAY, and the agent runs
    missing = dict(env)
    missing["WLR_XWAYLAND"] = os.path.join(tmp, "no-Xwayland")
    res = run(["--transport", f"vhost-user:{tmp}/nobody.sock", "--xwayland", "on"], missing)
    t.check(res.returncode == 1 and "cannot start Xwayland" in res.stderr,
            f"--xwayland on without Xwayland: {res.returncode} {res.stderr[-300:]}")
    proc = subprocess.Popen([t.program("TESSERA_AGENT"), "--transport",
                             f"vhost-user:{tmp}/nobody.sock", "--socket", "w-1"], env=missing,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t.check(proc.stdout.readline().strip() == "WAYLAND_DISPLAY=w-1",
                "no WAYLAND_DISPLAY line without Xwayland")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    t.check(proc.returncode == 0, f"exit status {proc.returncode} on SIGTERM (no Xwayland)")
    t.check(out == "", f"printed DISPLAY without Xwayland: {out!r}")
    t.check("Xwayland is not installed" in err, f"no 'not installed' in: {err[-500:]}")

    # -s is repeatable: every command runs, in order, with WAYLAND_DISPLAY
    # (and no DISPLAY without Xwayland)
    out1, out2 = os.path.join(tmp, "one.out"), os.path.join(tmp, "two.out")
    proc = subprocess.Popen([t.program("TESSERA_AGENT"), "--transport",
                             f"vhost-user:{tmp}/nobody.sock", "--socket", "w-2",
                             "-s", f'echo "one $WAYLAND_DISPLAY ${{DISPLAY-none}}" > {out1}',
                             "-s", f'echo "two $WAYLAND_DISPLAY" > {out2}'], env=missing,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t.wait_for(lambda: all(os.path.exists(p) and open(p).read().endswith("\n")
                               for p in (out1, out2)), 10, "both -s commands")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    t.check(open(out1).read() == "one w-2 none\n", f"first -s wrote {open(out1).read()!r}")
    t.check(open(out2).read() == "two w-2\n", f"second -s wrote {open(out2).read()!r}")
    t.check(proc.returncode == 0, f"exit status {proc.returncode} on SIGTERM (-s twice)")


if __name__ == "__main__":
    t.main(test)
