#!/usr/bin/env python3
"""tesseractl's errors and exit statuses, and a control socket that takes
untrusted input: usage errors exit 2 without asking tessera; unknown VMs
and windows exit 1 with tessera's reason (as JSON with --json); no tessera
exits 3. The socket is found from TESSERA_SOCKET (which commands tessera
starts get, and VM daemons do not), WAYLAND_DISPLAY or --socket. On the
raw socket, garbage, wrong members, deep nesting, bad UTF-8, NUL bytes
get an error reply and the connection goes on; an oversized request gets
an error and the connection ends; a client that floods requests without
reading, one that stays silent and too many connections leave tessera
serving everyone else."""

import os
import socket
import time

import compositor_test
import ctl_test as c
import tessera_test as t

USAGE_ERRORS = {
    (): "no command given",
    ("bogus",): "unknown command 'bogus' (expected vm, window, output, share or clipboard)",
    ("vm",): "incomplete command 'vm'",
    ("vm", "frobnicate"): "unknown command 'vm frobnicate'",
    ("vm", "start"): "'start' needs an argument",
    ("vm", "list", "extra"): "unexpected argument 'extra'",
    ("window", "focus", "abc"): "a window id is a positive integer, not 'abc'",
    ("window", "close", "0"): "a window id is a positive integer, not '0'",
    ("window", "focus", "-3"): "a window id is a positive integer, not '-3'",
    ("window", "focus", "99999999999999999999"): "a window id is a positive integer",
    ("share",): "incomplete command 'share'",
    ("share", "3"): "share a window as: share ID --to NAME",
    ("share", "3", "--into", "b"): "share a window as: share ID --to NAME",
    ("share", "3x", "--to", "b"): "a window id is a positive integer, not '3x'",
    ("share", "start", "3"): "unknown command 'share start'",
    ("share", "stop"): "'stop' needs an argument",
    ("share", "stop", "0"): "a share id is a positive integer, not '0'",
    ("share", "stop", "4294967296"): "a share id is a positive integer",
    ("share", "list", "extra"): "unexpected argument 'extra'",
}


def check_usage(tessera):
    for args, message in USAGE_ERRORS.items():
        res = c.ctl(tessera, *args, expect=c.USAGE)
        t.check(res.stderr.startswith("tesseractl: " + message) and res.stdout == "",
                f"tesseractl {args}: {res.stderr!r}")
    res = c.ctl(tessera, "--bogus", "vm", "list", expect=c.USAGE)
    t.check("Usage: tesseractl" in res.stderr, f"--bogus: {res.stderr!r}")


def check_tessera_errors(tessera):
    for verb in ("start", "stop", "restart"):
        res = c.ctl(tessera, "vm", verb, "nope", expect=c.TESSERA_ERROR)
        t.check(res.stderr == "tesseractl: no VM named 'nope'\n" and res.stdout == "",
                f"vm {verb} nope: {res.stderr!r}")
        reply = c.ctl_json(tessera, "vm", verb, "nope", expect=c.TESSERA_ERROR)
        t.check(reply["code"] == "no-such-vm" and reply["error"] == "no VM named 'nope'",
                f"vm {verb} nope --json: {reply}")
    for verb in ("focus", "close"):
        res = c.ctl(tessera, "window", verb, 999, expect=c.TESSERA_ERROR)
        t.check(res.stderr == "tesseractl: no window with id 999\n",
                f"window {verb} 999: {res.stderr!r}")
        reply = c.ctl_json(tessera, "window", verb, 999, expect=c.TESSERA_ERROR)
        t.check(reply["code"] == "no-such-window", f"window {verb} 999 --json: {reply}")


def check_finding_the_socket(tessera):
    path = c.socket_path(tessera)
    t.check(os.stat(path).st_mode & 0o777 == 0o600,
            f"socket mode {oct(os.stat(path).st_mode)}")
    # what a command tessera started sees
    env_file = os.path.join(tessera.tmp, "startup.env")
    t.wait_for(lambda: os.path.exists(env_file) and os.path.getsize(env_file) > 0, 10,
               "the startup command's environment")
    with open(env_file) as f:
        startup_env = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    t.check(startup_env.get("TESSERA_SOCKET") == path,
            f"TESSERA_SOCKET of a startup command: {startup_env.get('TESSERA_SOCKET')!r}")
    # and what a VM daemon does not
    pid = tessera.daemon_pids()["work"][0]
    with open(f"/proc/{pid}/environ", "rb") as f:
        daemon_env = f.read().split(b"\0")
    t.check(not any(v.startswith(b"TESSERA_SOCKET=") for v in daemon_env),
            "a VM daemon got TESSERA_SOCKET")
    bare = {k: v for k, v in tessera.client_env.items()
            if k not in ("WAYLAND_DISPLAY", "TESSERA_SOCKET")}
    t.check(c.ctl_json(tessera, "vm", "list", env={**bare, "TESSERA_SOCKET": path})["vms"],
            "tesseractl through TESSERA_SOCKET")
    t.check(c.ctl_json(tessera, "--socket", path, "vm", "list", env=bare)["vms"],
            "tesseractl --socket")
    res = c.ctl(tessera, "vm", "list", env=bare, expect=c.UNREACHABLE)
    t.check("cannot tell where tessera's control socket is" in res.stderr, res.stderr)
    res = c.ctl(tessera, "--socket", os.path.join(tessera.tmp, "none.sock"), "vm", "list",
                expect=c.UNREACHABLE)
    t.check("cannot reach tessera at" in res.stderr and "is tessera running?" in res.stderr,
            res.stderr)


BAD_REQUESTS = [
    (b"hello", "bad-request"),
    (b"[1, 2]", "bad-request"),
    (b'{"version": 1, "command": "vm list"} trailing', "bad-request"),
    (b'{"version": 2, "command": "vm list"}', "unsupported-version"),
    (b'{"command": "vm list"}', "bad-request"),
    (b'{"version": 1}', "bad-request"),
    (b'{"version": 1, "command": "vm explode"}', "unknown-command"),
    (b'{"version": 1, "command": "vm list", "extra": 1}', "bad-request"),
    (b'{"version": 1, "command": "vm start"}', "bad-request"),
    (b'{"version": 1, "command": "vm start", "vm": 5}', "bad-request"),
    (b'{"version": 1, "command": "window focus", "id": "1"}', "bad-request"),
    (b'{"version": 1, "command": "window focus", "id": -1}', "bad-request"),
    (b'{"version": 1, "command": "window focus", "id": 1e3}', "bad-request"),
    (b'{"version": 1, "command": "vm list", "x": [[[[[[[[1]]]]]]]]}', "bad-request"),
    (b'{"version": 1, "command": "vm list\xff"}', "bad-request"),
    (b'{"version": 1, "command": "vm\x00list"}', "bad-request"),
]


def check_raw(tessera):
    raw = c.Raw(tessera)
    for request, code in BAD_REQUESTS:
        reply = raw.request(request + b"\n")
        t.check(reply is not None and reply["ok"] is False and reply["code"] == code
                and reply["error"], f"{request!r}: {reply}")
        # the same connection goes on
        t.check(raw.request(b'{"version":1,"command":"vm list"}\n')["ok"] is True,
                f"no service after {request!r}")
    # two requests in one write: two replies, in order
    raw.send(b'{"version":1,"command":"window list"}\n{"version":1,"command":"vm list"}\n')
    first, second = raw.reply(), raw.reply()
    t.check("windows" in first and "vms" in second, f"pipelined replies {first} {second}")
    raw.close()

    # a request longer than the limit: an error, then the connection ends
    raw = c.Raw(tessera)
    reply = raw.request(b"x" * 5000)
    t.check(reply is not None and reply["code"] == "too-long", f"oversized: {reply}")
    t.check(raw.reply() is None, "the connection went on after an oversized request")
    raw.close()

    # one client floods requests and reads nothing, another stays silent
    # in the middle of a line: tesseractl is served all the same
    flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    flood.connect(c.socket_path(tessera))
    flood.setblocking(False)
    sent = 0
    chunk = b'{"version":1,"command":"window list"}\n' * 100
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            sent += flood.send(chunk)
        except BlockingIOError:
            break
    t.check(sent < 50 * 1024 * 1024, "tessera kept reading a client that reads nothing")
    silent = c.Raw(tessera)
    silent.send(b'{"version": 1, "comm')
    start = time.monotonic()
    t.check(c.vms(tessera)["work"]["state"] == "running", "vm list during the flood")
    took = time.monotonic() - start
    t.check(took < 5, f"vm list took {took:.1f} s while a client flooded")
    print(f"flooding client: {sent} bytes in before tessera stopped reading it; "
          f"vm list meanwhile took {took * 1000:.0f} ms")
    flood.close()
    silent.close()

    # at most 16 connections: the next one is refused with a reason
    conns = [c.Raw(tessera) for _ in range(16)]
    extra = c.Raw(tessera)
    reply = extra.reply()
    t.check(reply is not None and reply["code"] == "busy", f"17th connection: {reply}")
    extra.close()
    for conn in conns:
        conn.close()
    t.wait_for(lambda: c.ctl(tessera, "vm", "list", expect=None).returncode == 0, 10,
               "service after the connections closed")


def test():
    config = compositor_test.fake_vm_config({"work": "cc3333"})
    tessera = t.Tessera(size=(400, 300), config=config,
                        args=["-s", 'env > "$TESSERA_TEST_DIR/startup.env"'])
    try:
        t.ClientLog(f"{tessera.tmp}/work.log").wait("mapped")
        check_usage(tessera)
        check_tessera_errors(tessera)
        check_finding_the_socket(tessera)
        check_raw(tessera)
        t.check(tessera.alive(), "tessera died")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
