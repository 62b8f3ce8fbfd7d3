#!/usr/bin/env python3
"""Soak: does tessera leak over hours of VMs coming and going?

One headless tessera runs --vms VMs (4 by default), each with its own
tessera-vmd (spawned by tessera, as for real VMs) and a tessera-agent on
the vhost-user loopback, with an animating client (weston-simple-shm)
inside each "guest". Every --churn seconds (30) one agent or one client,
in turn, is killed with SIGKILL and started again; every --vmd-churn
seconds (300) one tessera-vmd is killed and tessera restarts it (the agent
reconnects). Every --sample seconds (60) it samples the open fds, memory
mappings and RSS of tessera and of each tessera-vmd and prints them; at
the end it prints the slope per hour of each series (least squares; for
a VM's vmd the steepest over the lives of its successive processes) —
flat is the goal — and exits 1 if tessera died, a process could not be
started again or a series grew past --max-slope per hour.

    python3 bench/soak.py --build build              # one hour
    python3 bench/soak.py --build build --duration 600 --json soak.json

Not a test: it runs for a long time and prints figures.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "tests", "lib"))
import tessera_proc  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sample(pid):
    """fds, mappings and RSS (KiB) of pid; None if it is gone."""
    try:
        return {"fds": tessera_proc.fd_count(pid), "maps": tessera_proc.map_count(pid),
                "rss_kib": rss_kib(pid)}
    except (FileNotFoundError, ProcessLookupError):
        return None


def slope_per_hour(points):
    """Least-squares slope of [(seconds, value)] in units per hour."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return 0.0
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx * 3600


def wait_line(path, prefix, proc, timeout, what):
    """The first line of file path starting with prefix, written by proc."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith(prefix):
                    return line.strip()
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"{what} printed no {prefix} within {timeout} s")


class Guest:
    """One VM's agent (on the vhost-user loopback) and its client."""

    def __init__(self, soak, index):
        self.soak = soak
        self.name = f"vm{index}"
        self.sock = os.path.join(soak.tmp, f"{self.name}.sock")
        self.runtime = os.path.join(soak.tmp, f"{self.name}-runtime")
        os.mkdir(self.runtime, 0o700)
        self.agent = None
        self.client = None
        self.env = None

    def start_agent(self):
        env = dict(self.soak.env)
        env["XDG_RUNTIME_DIR"] = self.runtime
        n = self.soak.counts["agent starts"]
        out = os.path.join(self.soak.tmp, f"{self.name}-agent-{n}.out")
        err = open(os.path.join(self.soak.tmp, f"{self.name}-agent-{n}.log"), "w")
        with open(out, "w") as stdout:
            self.agent = subprocess.Popen(
                [self.soak.agent_exe, "--transport", f"vhost-user:{self.sock}",
                 "--socket", "guest-0"], env=env, stdout=stdout, stderr=err)
        err.close()
        line = wait_line(out, "WAYLAND_DISPLAY=", self.agent, 30, f"{self.name}'s agent")
        env["WAYLAND_DISPLAY"] = line.split("=", 1)[1]
        self.env = env
        self.soak.counts["agent starts"] += 1

    def start_client(self):
        self.client = subprocess.Popen([self.soak.client_exe], env=self.env,
                                       stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.soak.counts["client starts"] += 1

    def kill_agent(self):
        for proc in (self.client, self.agent):
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                proc.wait()
        self.start_agent()
        self.start_client()

    def kill_client(self):
        if self.client.poll() is None:
            self.client.kill()
        self.client.wait()
        self.start_client()

    def stop(self):
        for proc in (self.client, self.agent):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


class Soak:
    def __init__(self, opts):
        self.opts = opts
        build = opts.build
        self.tessera_exe = os.path.join(build, "server/compositor/tessera")
        self.vmd_exe = os.path.join(build, "server/vmd/tessera-vmd")
        self.agent_exe = os.path.join(build, "guest-agent/tessera-agent")
        for exe in (self.tessera_exe, self.vmd_exe, self.agent_exe):
            if not os.access(exe, os.X_OK):
                raise RuntimeError(f"{exe} is not built (ninja -C {build})")
        self.client_exe = shutil.which(opts.client)
        if self.client_exe is None:
            raise RuntimeError(f"'{opts.client}' is not installed "
                               "(scripts/install-deps.sh --tests installs weston)")
        self.tmp = tempfile.mkdtemp(prefix="tessera-soak-")
        self.env = dict(os.environ)
        for var in ("WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY", "WLR_BACKENDS"):
            self.env.pop(var, None)
        self.env["TESSERA_VMD"] = self.vmd_exe
        self.counts = {"agent starts": 0, "client starts": 0, "vmd kills": 0}
        self.guests = [Guest(self, i) for i in range(opts.vms)]
        self.tessera = None
        self.samples = []

    def start(self):
        runtime = os.path.join(self.tmp, "runtime")
        os.mkdir(runtime, 0o700)
        env = dict(self.env)
        env["XDG_RUNTIME_DIR"] = runtime
        config = os.path.join(self.tmp, "tessera.ini")
        with open(config, "w") as f:
            for i, guest in enumerate(self.guests):
                f.write(f"[vm {guest.name}]\ncolor = #{(0x30 + 0x30 * i) % 256:02x}6090\n"
                        f"vhost-user = {guest.sock}\n\n")
        out = os.path.join(self.tmp, "tessera.out")
        self.tessera_log = os.path.join(self.tmp, "tessera.log")
        with open(out, "w") as stdout, open(self.tessera_log, "w") as stderr:
            self.tessera = subprocess.Popen(
                [self.tessera_exe, "--backend", "headless", "--size", "1600x1200",
                 "--config", config], env=env, stdout=stdout, stderr=stderr)
        wait_line(out, "WAYLAND_DISPLAY=", self.tessera, 30, "tessera")
        for guest in self.guests:
            deadline = time.monotonic() + 30
            while not os.path.exists(guest.sock):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{guest.name}'s vmd does not listen")
                time.sleep(0.05)
            guest.start_agent()
            guest.start_client()

    def vmd_pids(self):
        return {g.name: tessera_proc.find_vmd(g.sock) for g in self.guests}

    def take_sample(self, t0):
        row = {"t": round(time.monotonic() - t0, 1),
               "tessera": sample(self.tessera.pid), "vmd": {}}
        for name, pid in self.vmd_pids().items():
            row["vmd"][name] = sample(pid) if pid else None
            if row["vmd"][name] is not None:
                row["vmd"][name]["pid"] = pid
        self.samples.append(row)
        vmd_fds = "/".join(str(v["fds"]) if v else "-" for v in row["vmd"].values())
        vmd_rss = "/".join(str(v["rss_kib"] // 1024) if v else "-"
                           for v in row["vmd"].values())
        ts = row["tessera"]
        print(f"{row['t']:8.0f} s  tessera fds {ts['fds']:4d} maps {ts['maps']:5d} "
              f"rss {ts['rss_kib'] / 1024:7.1f} MiB | vmd fds {vmd_fds} rss MiB {vmd_rss}"
              f" | agents {self.counts['agent starts']} clients "
              f"{self.counts['client starts']} vmd kills {self.counts['vmd kills']}",
              flush=True)

    def churn(self, step):
        guest = self.guests[step % len(self.guests)]
        if step % 2 == 0:
            guest.kill_client()
        else:
            guest.kill_agent()

    def kill_vmd(self, step):
        guest = self.guests[step % len(self.guests)]
        pid = tessera_proc.find_vmd(guest.sock)
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        self.counts["vmd kills"] += 1
        # tessera starts a new one after its back-off; the agent reconnects.
        deadline = time.monotonic() + 30
        while tessera_proc.find_vmd(guest.sock) in (None, pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"tessera did not restart {guest.name}'s vmd")
            time.sleep(0.1)

    def run(self):
        opts = self.opts
        t0 = time.monotonic()
        # Let start-up settle before the first sample (pools, fonts, caches).
        time.sleep(min(opts.warmup, opts.duration))
        self.take_sample(t0)
        next_sample = time.monotonic() + opts.sample
        next_churn = time.monotonic() + opts.churn
        next_vmd = time.monotonic() + opts.vmd_churn
        churns = vmd_kills = 0
        end = t0 + opts.duration
        while time.monotonic() < end:
            if self.tessera.poll() is not None:
                raise RuntimeError(f"tessera exited with status {self.tessera.returncode}")
            now = time.monotonic()
            if now >= next_vmd:
                self.kill_vmd(vmd_kills)
                vmd_kills += 1
                next_vmd += opts.vmd_churn
            if now >= next_churn:
                self.churn(churns)
                churns += 1
                next_churn += opts.churn
            if now >= next_sample:
                self.take_sample(t0)
                next_sample += opts.sample
            time.sleep(max(0.0, min(next_sample, next_churn, next_vmd, end)
                           - time.monotonic()))
        self.take_sample(t0)

    def slopes(self):
        """Slope per hour of tessera's series, and of each VM's vmd: the
        steepest over the lives of its vmds (each pid a segment of its own,
        its first sample dropped: the agent may not have reconnected yet;
        segments of fewer than 3 samples left out)."""
        series, segments = {}, {}
        for row in self.samples:
            for key in ("fds", "maps", "rss_kib"):
                series.setdefault(f"tessera {key}", []).append((row["t"], row["tessera"][key]))
            for name, values in row["vmd"].items():
                if values is not None:
                    segments.setdefault((name, values["pid"]), []).append((row["t"], values))
        slopes = {name: slope_per_hour(points) for name, points in series.items()}
        for (name, _pid), points in segments.items():
            if len(points) < 4:
                continue
            for key in ("fds", "maps", "rss_kib"):
                value = slope_per_hour([(t, v[key]) for t, v in points[1:]])
                label = f"vmd {name} {key}"
                slopes[label] = max(slopes.get(label, value), value)
        return slopes

    def stop(self):
        for guest in self.guests:
            guest.stop()
        status = None
        if self.tessera is not None and self.tessera.poll() is None:
            self.tessera.terminate()
            try:
                status = self.tessera.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.tessera.kill()
                status = self.tessera.wait()
        return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="build", help="meson build directory")
    parser.add_argument("--duration", type=float, default=3600, help="seconds (3600)")
    parser.add_argument("--vms", type=int, default=4, help="VMs (4)")
    parser.add_argument("--churn", type=float, default=30,
                        help="seconds between agent/client kills (30)")
    parser.add_argument("--vmd-churn", type=float, default=300,
                        help="seconds between vmd kills (300)")
    parser.add_argument("--sample", type=float, default=60, help="seconds between samples (60)")
    parser.add_argument("--warmup", type=float, default=20,
                        help="seconds before the first sample (20)")
    parser.add_argument("--client", default="weston-simple-shm",
                        help="the animating client in each guest")
    parser.add_argument("--max-slope", type=float, default=None,
                        help="fail if an fd or mapping series grows faster than this per hour")
    parser.add_argument("--json", help="write samples, counts and slopes here")
    opts = parser.parse_args()
    if not 1 <= opts.vms <= 16 or opts.duration <= 0 or min(
            opts.churn, opts.vmd_churn, opts.sample) <= 0:
        parser.error("--vms is 1..16; durations are positive")

    soak = Soak(opts)
    status = 1
    try:
        print(f"soak: {opts.vms} VMs for {opts.duration:.0f} s, churn every "
              f"{opts.churn:.0f} s, vmd killed every {opts.vmd_churn:.0f} s "
              f"(files in {soak.tmp})", flush=True)
        soak.start()
        soak.run()
        status = 0
    except RuntimeError as e:
        print(f"soak: {e}", file=sys.stderr)
    finally:
        rc = soak.stop()
    if rc not in (None, 0):
        print(f"soak: tessera exited with status {rc}", file=sys.stderr)
        status = 1
    slopes = soak.slopes()
    print("\nslope per hour (least squares over the samples):")
    for name, value in sorted(slopes.items()):
        unit = " KiB" if name.endswith("rss_kib") else ""
        print(f"  {name:28s} {value:+10.1f}{unit}")
    if opts.max_slope is not None:
        for name, value in slopes.items():
            if not name.endswith("rss_kib") and value > opts.max_slope:
                print(f"soak: {name} grows by {value:.1f} per hour", file=sys.stderr)
                status = 1
    print("counts: " + ", ".join(f"{k} {v}" for k, v in soak.counts.items()))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"samples": soak.samples, "counts": soak.counts, "slopes": slopes,
                       "options": vars(opts)}, f, indent=1)
    if status == 0:
        shutil.rmtree(soak.tmp, ignore_errors=True)
    else:
        print(f"soak: logs kept in {soak.tmp}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
