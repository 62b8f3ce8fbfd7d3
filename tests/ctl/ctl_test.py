"""What the tesseractl tests share: running tesseractl against a Tessera
(exit status checked), its --json reply and its tables, and raw
connections to the control socket."""

import json
import os
import re
import socket
import subprocess

import tessera_test as t

# tesseractl's exit statuses (tesseractl(1))
OK, TESSERA_ERROR, USAGE, UNREACHABLE = 0, 1, 2, 3


def ctl(tessera, *args, expect=OK, env=None, prefix=()):
    """Runs tesseractl ARGS with the environment of tessera's clients; its
    exit status must be expect (None: any). The CompletedProcess."""
    argv = [*prefix, t.program("TESSERA_CTL"), *map(str, args)]
    res = subprocess.run(argv, env=env if env is not None else tessera.client_env,
                         capture_output=True, text=True, timeout=40)
    t.check(expect is None or res.returncode == expect,
            f"tesseractl {' '.join(map(str, args))}: exit {res.returncode}, expected "
            f"{expect}\nstdout: {res.stdout!r}\nstderr: {res.stderr!r}")
    return res


def ctl_json(tessera, *args, expect=OK, **kwargs):
    """tesseractl --json ARGS: the reply, one JSON object on one line."""
    res = ctl(tessera, "--json", *args, expect=expect, **kwargs)
    lines = res.stdout.splitlines()
    t.check(len(lines) == 1, f"--json {args}: {len(lines)} lines: {res.stdout!r}")
    reply = json.loads(lines[0])
    t.check(reply.get("version") == 1 and reply.get("ok") == (expect == OK),
            f"--json {args}: reply {reply}")
    return reply


def table(res):
    """A table tesseractl printed: a list of {HEADER: cell} per row."""
    lines = res.stdout.splitlines()
    t.check(lines, f"no table in {res.stdout!r}")
    header = re.split(r"\s{2,}", lines[0].strip())
    rows = []
    for line in lines[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        t.check(len(cells) == len(header), f"row {line!r} does not fit header {header}")
        rows.append(dict(zip(header, cells)))
    return rows


def vms(tessera):
    """{name: VM object} from vm list --json."""
    return {vm["name"]: vm for vm in ctl_json(tessera, "vm", "list")["vms"]}


def windows(tessera):
    """The window objects of window list --json, front to back."""
    return ctl_json(tessera, "window", "list")["windows"]


def socket_path(tessera):
    return os.path.join(tessera.runtime_dir, f"tessera-{tessera.display}.sock")


class Raw:
    """A connection to the control socket that writes whatever it is given."""

    def __init__(self, tessera):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(socket_path(tessera))
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """The next reply line as an object; None if tessera closed the
        connection."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:  # closed with our bytes unread
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, data):
        self.send(data)
        return self.reply()

    def close(self):
        self.sock.close()
