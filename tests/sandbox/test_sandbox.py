#!/usr/bin/env python3
"""sandbox: tessera-vmd confines itself (server/vmd/sandbox.h).

TESSERA_VMD_TEST is tessera-vmd built with a test hook: on SIGUSR2 it makes the
system call named by TESSERA_VMD_TEST_SYSCALL. Checked:

- started by tessera, the daemon shows a seccomp filter in
  /proc/PID/status (Seccomp: 2, at least one filter, NoNewPrivs) and still
  serves a VMM that connects, leaves and connects again;
- a forbidden call (a network socket) kills it with SIGSYS, tessera logs
  the signal and starts a new daemon, confined too, that serves the VMM;
- standalone: opening a file for writing, running a program, signalling
  another process, a network socket, an executable mapping kill it with
  SIGSYS and have no effect; opening a file
  for reading too, except in sanitizer builds (the runtime reads
  /proc/self/maps and the binaries), which the daemon says when it
  confines itself;
- removing a file outside the socket's directory fails (Landlock) and the
  daemon goes on; at SIGTERM it still exits 0 and removes its socket;
- --sandbox=off: no filter, the same socket call succeeds and the daemon
  goes on; --sandbox with another value is a usage error (exit 2).
"""

import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile

import tessera_proc
import tessera_test as t

VM = "sbx"
SIGSYS = signal.SIGSYS.value


def landlock_abi():
    """The Landlock ABI version the kernel offers, 0 without Landlock
    (landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    system call 444 on every architecture)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0),
                           ctypes.c_uint32(1))
    return max(version, 0)


def status(pid):
    """The fields of /proc/PID/status as a dict of strings."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def check_confined(pid, what):
    s = status(pid)
    t.check(s.get("Seccomp") == "2", f"{what}: Seccomp is {s.get('Seccomp')}, not 2")
    t.check(int(s.get("Seccomp_filters", "0")) >= 1,
            f"{what}: Seccomp_filters is {s.get('Seccomp_filters')}")
    t.check(s.get("NoNewPrivs") == "1", f"{what}: NoNewPrivs is {s.get('NoNewPrivs')}")


def serve(driver, sock, tessera, times=2):
    """The daemon serves a VMM that connects, leaves and comes back."""
    for _ in range(times):
        res = subprocess.run([driver, sock, "basic"], capture_output=True,
                             text=True, timeout=60)
        if res.returncode != 0:
            print(res.stdout + res.stderr)
            print("--- tessera/vmd log (tail)\n" + tessera.log()[-4000:])
            t.fail(f"test-vmd-gpu basic exited {res.returncode}")


class Standalone:
    """The test daemon run by hand against the test's tessera."""

    def __init__(self, program, tessera, sock_dir, name, sandbox=True, call=None,
                 args=()):
        self.sock = os.path.join(sock_dir, f"{name}.sock")
        self.log_path = os.path.join(tessera.tmp, f"{name}.log")
        env = dict(tessera.client_env)
        if call is not None:
            env["TESSERA_VMD_TEST_SYSCALL"] = call
        self.log_file = open(self.log_path, "w")
        args = [*args] if sandbox else ["--sandbox=off", *args]
        self.proc = subprocess.Popen(
            [program, "--vhost-user", self.sock, "--name", name, *args],
            env=env, stdout=self.log_file, stderr=self.log_file)
        # the daemon confines itself right after this line
        self.wait_log("sandbox: confined" if sandbox else "virtio-gpu device on",
                      "the daemon to start")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, what):
        def found():
            m = re.search(pattern, self.log())
            if m is None and self.proc.poll() is not None:
                t.fail(f"vmd exited {self.proc.returncode} waiting for {what}:\n"
                       + self.log())
            return m
        return t.wait_for(found, 15, what).group(0)

    def call(self):
        """SIGUSR2: the hook makes its call."""
        self.proc.send_signal(signal.SIGUSR2)

    def wait_end(self, what):
        """Waits for the daemon to exit or for the hook's call to return;
        the exit status or None."""
        t.wait_for(lambda: self.proc.poll() is not None or "test hook:" in self.log(),
                   15, what)
        return self.proc.poll()

    def stop(self):
        rc = t.terminate(self.proc, 15, "vmd")
        self.log_file.close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log_file.closed:
            self.log_file.close()


def check_killed(program, tessera, sock_dir, name, call, effect_absent, args=()):
    """The call kills the daemon with SIGSYS and has no effect."""
    vmd = Standalone(program, tessera, sock_dir, name, call=call, args=args)
    try:
        vmd.call()
        rc = vmd.wait_end(f"vmd to die of {call}")
        t.check(rc == -SIGSYS, f"{call}: exit status {rc}, not SIGSYS:\n{vmd.log()}")
        t.check(effect_absent(), f"{call} had its effect")
        print(f"{call}: killed by SIGSYS")
    finally:
        vmd.kill()


def test():
    program = t.program("TESSERA_VMD_TEST")
    driver = t.program("TESSERA_TEST_VMD_GPU")
    sock_dir = tempfile.mkdtemp(prefix="tessera-sandbox-")
    outside = tempfile.mkdtemp(prefix="tessera-sandbox-outside-")
    sock = os.path.join(sock_dir, "gpu.sock")
    config = f"[vm {VM}]\ncolor = #3355ee\nvhost-user = {sock}\n"
    tessera = t.Tessera(size=(800, 600), config=config,
                        env={"TESSERA_VMD": program})
    # serve()'s driver asks for what the device lacks, on purpose
    tessera.expect_error(r"\[ERROR\] (GET_CAPSET_INFO: capset index \d+ \(the device has \d+\)|"
                         r"GET_EDID: scanout 3 \(the device has 1\))$")
    try:
        # started by tessera: confined, and serving
        pid = t.wait_for(lambda: tessera_proc.find_vmd(sock), 15, "the test daemon")
        t.wait_for(lambda: "sandbox: confined" in tessera.log(), 15,
                   "vmd to confine itself")
        line = re.search(r"sandbox: confined: .*", tessera.log()).group(0)
        print(line)
        sanitizer = "sanitizer runtime" in line
        check_confined(pid, "vmd started by tessera")
        serve(driver, sock, tessera)
        t.check(tessera_proc.find_vmd(sock) == pid, "vmd restarted while serving")

        # a forbidden call: SIGSYS, and tessera restarts the daemon
        starts = tessera.log().count("sandbox: confined")
        tessera.expect_daemon_exit(VM, rf"killed by signal {SIGSYS}$")
        os.kill(pid, signal.SIGUSR2)
        t.wait_for(lambda: re.search(rf"\(pid {pid}\) killed by signal {SIGSYS}\b",
                                     tessera.log()), 15,
                   f"tessera to log vmd {pid} killed by SIGSYS")
        t.check("test hook:" not in tessera.log(), "the socket call returned")
        new_pid = t.wait_for(lambda: (lambda p: p if p not in (None, pid) else None)(
            tessera_proc.find_vmd(sock)), 15, "tessera to restart vmd")
        t.wait_for(lambda: tessera.log().count("sandbox: confined") > starts, 15,
                   "the new vmd to confine itself")
        check_confined(new_pid, "restarted vmd")
        serve(driver, sock, tessera, times=1)
        t.check(tessera_proc.find_vmd(sock) == new_pid, "the restarted vmd was replaced")
        print(f"vmd {pid} killed by SIGSYS, restarted as {new_pid}, serving")

        # standalone: what a compromised daemon cannot do
        created = os.path.join(outside, "created")
        check_killed(program, tessera, sock_dir, "write", f"open-write:{created}",
                     lambda: not os.path.exists(created))
        marker = os.path.join(outside, "ran")
        script = os.path.join(outside, "run.sh")
        with open(script, "w") as f:
            f.write(f"#!/bin/sh\ntouch {marker}\n")
        os.chmod(script, 0o755)
        check_killed(program, tessera, sock_dir, "exec", f"execve:{script}",
                     lambda: not os.path.exists(marker))
        check_killed(program, tessera, sock_dir, "kill", f"kill:{tessera.proc.pid}",
                     lambda: tessera.alive())
        check_killed(program, tessera, sock_dir, "net", "socket", lambda: True)
        # executable memory: none without virglrenderer; with it (llvmpipe
        # compiles code) no page made writable and executable by mprotect,
        # and mmap refuses executable mappings (EPERM: Mesa falls back)
        for call in ("mmap-exec", "mprotect-exec"):
            check_killed(program, tessera, sock_dir, call, call, lambda: True,
                         args=("--gpu", "off"))
        check_killed(program, tessera, sock_dir, "mprotect-wx", "mprotect-wx",
                     lambda: True, args=("--gpu", "virgl"))
        for call in ("mmap-exec", "mmap-wx"):
            vmd = Standalone(program, tessera, sock_dir, call, call=call,
                             args=("--gpu", "virgl"))
            try:
                vmd.call()
                out = vmd.wait_log(rf"test hook: {call} returned .*", f"the {call}")
                t.check("returned -1: Operation not permitted" in out,
                        f"{call} with virgl: {out}")
                print(f"{call} with virgl: refused (EPERM)")
                t.check(vmd.stop() == 0, f"exit status after SIGTERM:\n{vmd.log()}")
            finally:
                vmd.kill()
        secret = os.path.join(outside, "secret")
        with open(secret, "w") as f:
            f.write("secret\n")
        if sanitizer:
            vmd = Standalone(program, tessera, sock_dir, "read", call=f"open-read:{secret}")
            try:
                vmd.call()
                vmd.wait_log(r"test hook: open-read:\S+ returned \d+",
                         "the read-only open")
                print("open-read: allowed (sanitizer build)")
                t.check(vmd.stop() == 0, f"exit status after SIGTERM:\n{vmd.log()}")
            finally:
                vmd.kill()
        else:
            check_killed(program, tessera, sock_dir, "read", f"open-read:{secret}",
                         lambda: True)

        # unlink: only in the socket's directory
        vmd = Standalone(program, tessera, sock_dir, "unlink", call=f"unlink:{secret}")
        try:
            abi = landlock_abi()
            landlock = re.search(r"files: Landlock ABI (\d+)", vmd.log())
            vmd.call()
            out = vmd.wait_log(r"test hook: unlink:\S+ returned .*", "the unlink")
            if abi > 0:
                t.check(landlock is not None and int(landlock.group(1)) == abi,
                        f"the kernel has Landlock ABI {abi}, vmd says:\n{vmd.log()}")
                t.check("returned -1: Permission denied" in out,
                        f"unlink outside the socket's directory:\n{out}")
                t.check(os.path.exists(secret), "the file outside was removed")
                print("unlink outside the socket's directory: Permission denied "
                      f"(Landlock ABI {abi})")
            else:
                print("NOTE: this kernel has no Landlock: unlink outside the "
                      "socket's directory is not confined")
                t.check(landlock is None, f"vmd claims Landlock:\n{vmd.log()}")
                t.check(not os.path.exists(secret), "vmd says unlink is not confined")
            t.check(vmd.proc.poll() is None, "vmd died of the unlink")
            t.check(os.path.exists(vmd.sock), "no socket")
            rc = vmd.stop()
            t.check(rc == 0, f"exit status {rc} after SIGTERM:\n{vmd.log()}")
            t.check(not os.path.exists(vmd.sock), "the socket was left behind")
            t.check("stats (exit)" in vmd.log(), "no counters at exit")
        finally:
            vmd.kill()

        # --sandbox=off: the same call goes through
        vmd = Standalone(program, tessera, sock_dir, "off", sandbox=False, call="socket")
        try:
            vmd.call()
            vmd.wait_log(r"test hook: socket returned \d+", "the socket call")
            s = status(vmd.proc.pid)
            t.check(s.get("Seccomp") == "0", f"--sandbox=off: Seccomp {s.get('Seccomp')}")
            t.check("sandbox:" not in vmd.log(), f"--sandbox=off:\n{vmd.log()}")
            t.check(vmd.proc.poll() is None, "vmd died with --sandbox=off")
            t.check(vmd.stop() == 0, f"exit status after SIGTERM:\n{vmd.log()}")
            print("--sandbox=off: the socket call returned a socket")
        finally:
            vmd.kill()
        res = subprocess.run([program, "--vhost-user", sock, "--name", "x",
                              "--sandbox", "maybe"], capture_output=True, text=True,
                             timeout=10)
        t.check(res.returncode == 2 and "--sandbox" in res.stderr,
                f"--sandbox maybe: exit {res.returncode}: {res.stderr}")

        tessera.stop()
        log = tessera.log()
        t.check("AddressSanitizer" not in log and "runtime error" not in log,
                "sanitizer report in the log")
    except AssertionError:
        print("--- tessera/vmd log (tail)\n" + tessera.log()[-4000:])
        raise
    finally:
        tessera.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)
        shutil.rmtree(outside, ignore_errors=True)


if __name__ == "__main__":
    t.main(test)
