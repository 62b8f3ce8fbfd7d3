#!/usr/bin/env python3
"""vmd-command-line: tessera-vmd's command line and life cycle.

A bad command line exits 2 with a message; --help and --version exit 0.
Standalone (WAYLAND_DISPLAY of a tessera headless): it listens on its
socket, prints its counters on SIGUSR1, and on SIGTERM exits 0 after
printing them again, removing its socket.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import tessera_test as t

BAD = [
    [],
    ["--name", "x"],
    ["--vhost-user", "/tmp/x.sock"],
    ["--vhost-user", "/tmp/x.sock", "--name", "a b"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x" * 33],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--color", "red"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--max-resources", "0"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--max-resources", "-1"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--max-backing", "3T"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--max-contexts", "99999"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--max-surfaces", "5000"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--display-size", "100x100"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--display-size", "800"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "extra"],
    ["--vhost-user", "/tmp/x.sock", "--name", "x", "--bogus"],
]


def test():
    vmd = t.program("TESSERA_VMD")
    for args in BAD:
        res = subprocess.run([vmd, *args], capture_output=True, text=True,
                             timeout=10)
        t.check(res.returncode == 2, f"{args}: exit {res.returncode}, not 2")
        t.check(res.stderr.strip() != "", f"{args}: no message")
    for args in (["--help"], ["--version"]):
        res = subprocess.run([vmd, *args], capture_output=True, text=True,
                             timeout=10)
        t.check(res.returncode == 0 and res.stdout, f"{args}: {res.returncode}")

    sock_dir = tempfile.mkdtemp(prefix="tessera-vmd-cl-")
    sock = os.path.join(sock_dir, "vm.sock")
    tessera = t.Tessera(size=(640, 480))
    try:
        proc = subprocess.Popen(
            [vmd, "--vhost-user", sock, "--name", "standalone", "--color",
             "#123456", "--display-size", "800x600", "--max-resources", "16",
             "--max-batch-size", "64K"],
            env=tessera.client_env, stderr=subprocess.PIPE, text=True)
        t.wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, 10,
                   "the socket")
        t.check(proc.poll() is None, f"vmd exited {proc.returncode}")
        time.sleep(0.2)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        t.check(proc.returncode == 0, f"exit status {proc.returncode} after "
                f"SIGTERM:\n{err}")
        t.check("stats (SIGUSR1): connections=0" in err, f"no counters:\n{err}")
        t.check("stats (exit)" in err, "no counters at exit")
        t.check(all("tessera-vmd[standalone]" in line for line in
                    err.splitlines() if line.strip()),
                f"a log line without the VM name:\n{err}")
        t.check(not os.path.exists(sock), "the socket was left behind")
        t.check("AddressSanitizer" not in err and "runtime error" not in err,
                "sanitizer report")
        tessera.stop()
    finally:
        tessera.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)


if __name__ == "__main__":
    t.main(test)
