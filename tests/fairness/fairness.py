"""Two VMs on one tessera (headless), for tests/fairness/test_fairness.py
and bench/fairness.py. TwoVMs: the calm VM (CALM_VM, "guest") is
tessera-agent on the vhost-user loopback (tests/agent/agent_test.py's
Loopback, with a second VM in its config) running a client whose
WAYLAND_DEBUG log FrameLog times; the flood VM (FLOOD_VM) is flood-guest
(Flooder) on its own tessera-vmd, flooding on command. memory() and
Sampler: tessera's RSS and fds.

Programs come from the environment (TESSERA, TESSERA_VMD, TESSERA_AGENT,
FLOOD_GUEST, ...); tests/lib and tests/agent are on PYTHONPATH.
"""

import os
import re
import shutil
import subprocess
import tempfile
import threading

import agent_test
import tessera_proc
import tessera_test as t

CALM_VM = agent_test.VM
FLOOD_VM = "flood"
FLOOD_COLOR = "e08010"


class TwoVMs(agent_test.Loopback):
    """tessera with the calm VM (vmd + tessera-agent, as Loopback) and the
    flood VM (its own vmd, whose socket flood-guest drives). flood_settings:
    extra "key = value" lines of the flood VM's [vm] section."""

    def __init__(self, flood_settings=(), **kwargs):
        self._flood_dir = tempfile.mkdtemp(prefix="tessera-flood-")
        self.flood_sock = os.path.join(self._flood_dir, "flood.sock")
        self.flood_settings = list(flood_settings)
        self.flooder = None
        try:
            super().__init__(**kwargs)
        except BaseException:
            shutil.rmtree(self._flood_dir, ignore_errors=True)
            raise
        t.wait_for(lambda: os.path.exists(self.flood_sock), 15,
                   "the flood VM's vhost-user socket")

    def _config_args(self, config):
        config += f"\n[vm {FLOOD_VM}]\ncolor = #{FLOOD_COLOR}\n" \
                  f"vhost-user = {self.flood_sock}\n"
        config += "".join(f"{line}\n" for line in self.flood_settings)
        return super()._config_args(config)

    def vmd_pids(self):
        """{VM name: pid} of the running tessera-vmds."""
        return {name: tessera_proc.find_vmd(sock)
                for name, sock in ((CALM_VM, self.sock), (FLOOD_VM, self.flood_sock))}

    def start_flooder(self, batch_bytes):
        self.flooder = Flooder(self.flood_sock, batch_bytes)
        return self.flooder.ready("mapped")[0]

    def timed_client(self, argv, log_path):
        """A guest client of the calm VM with WAYLAND_DEBUG=client written
        to log_path (FrameLog reads it)."""
        env = dict(self.guest_env)
        env["WAYLAND_DEBUG"] = "client"
        log = open(log_path, "w")
        proc = subprocess.Popen([str(a) for a in argv], env=env, stdout=log, stderr=log)
        log.close()
        self.tessera.clients.append(proc)
        return FrameLog(log_path)

    def cleanup(self):
        if self.flooder is not None:
            self.flooder.kill()
        super().cleanup()
        shutil.rmtree(self._flood_dir, ignore_errors=True)


class Flooder:
    """flood-guest (FLOOD_GUEST) on a vhost-user socket."""

    def __init__(self, sock, batch_bytes):
        self.proc = subprocess.Popen([t.program("FLOOD_GUEST"), sock, str(batch_bytes)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def ready(self, phase, timeout=60):
        line = self._line(timeout)
        if not line.startswith(f"READY {phase}"):
            t.fail(f"flood-guest: expected READY {phase}, got {line!r}")
        return line.split()[2:]

    def _line(self, timeout):
        import select
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            t.fail(f"flood-guest said nothing within {timeout} s")
        line = self.proc.stdout.readline().strip()
        if not line:
            t.fail(f"flood-guest exited ({self.proc.wait()})")
        return line

    def send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def start_flood(self, seconds, kinds="titles,commits,limits"):
        self.send(f"flood {seconds} {kinds}")

    def flood_result(self, timeout=120):
        """The DONE line of a flood as a dict of numbers."""
        line = self._line(timeout)
        if not line.startswith("DONE "):
            t.fail(f"flood-guest: expected DONE, got {line!r}")
        return {k: float(v) if "." in v else int(v)
                for k, v in (w.split("=", 1) for w in line.split()[1:])}

    def check_alive(self):
        """Reads its window's ring and shows one more frame: the number of
        ERROR events its window's session got."""
        self.send("check")
        return int(self.ready("alive")[0])

    def quit(self):
        self.send("quit")
        self.ready("done")
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        t.check(rc == 0, f"flood-guest exited {rc}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# WAYLAND_DEBUG=client lines: "[1234567.890]  -> wl_surface@3.commit()"
LINE = re.compile(r"^\[\s*(\d+\.\d+)\]\s+(->)?\s*(\S+?)@(\d+)\.(\w+)\((.*)\)")


class FrameLog:
    """The WAYLAND_DEBUG=client log of a client that asks for a frame
    callback with each commit (weston-simple-shm): frames and
    commit->frame-done latency between two marks (file offsets)."""

    def __init__(self, path):
        self.path = path

    def mark(self):
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def frames(self, start, end):
        """(commit time, done time) in ms of every frame callback that was
        requested by a commit and done between the marks."""
        with open(self.path, "rb") as f:
            f.seek(start)
            data = f.read(end - start).decode(errors="replace")
        pending = {}  # surface -> callback requested before its commit
        sent = {}  # callback -> time of the commit that carried it
        frames = []
        wrap = 0.0
        last = None
        for line in data.splitlines():
            m = LINE.match(line)
            if not m:
                continue
            ts, out, iface, oid, msg, args = m.groups()
            # libwayland prints a 32-bit microsecond clock in ms
            ts = float(ts) + wrap
            if last is not None and ts < last - 1000000:
                wrap += 4294967.296
                ts += 4294967.296
            last = ts
            if out and iface == "wl_surface" and msg == "frame":
                cb = re.search(r"new id wl_callback@(\d+)", args)
                if cb:
                    pending[oid] = cb.group(1)
            elif out and iface == "wl_surface" and msg == "commit":
                cb = pending.pop(oid, None)
                if cb is not None:
                    sent[cb] = ts
            elif not out and iface == "wl_callback" and msg == "done":
                t0 = sent.pop(oid, None)
                if t0 is not None and ts >= t0:
                    frames.append((t0, ts))
        return frames

    def wait_frames(self, count, timeout=15):
        start = 0
        return t.wait_for(lambda: len(self.frames(start, self.mark())) >= count, timeout,
                          f"{count} frames of the calm VM's client")


def memory(pid):
    """(RSS in KiB, open fds) of a process."""
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss, tessera_proc.fd_count(pid)


class Sampler(threading.Thread):
    """memory(pid) every 50 ms, from start() to stop() (which returns the
    samples)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.05):
            try:
                self.samples.append(memory(self.pid))
            except (OSError, StopIteration):
                return

    def stop(self):
        self.stopping.set()
        self.join()
        return self.samples
