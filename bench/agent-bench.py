#!/usr/bin/env python3
"""agent-bench: the same client (Debian's weston-simple-shm by default)
connected to tessera directly, through tessera-agent on the vhost-user
loopback (agent -> tessera-vmd -> tessera), and through waypipe, side by
side in one run (docs/ARCHITECTURE.md). Prints, per path: frames per second
(frame callbacks done), commits per second, commit->release and
commit->frame-done latency (p50/p90/p99/max, from the client's own
WAYLAND_DEBUG protocol log, so exactly what the client sees), and CPU time
per frame of every process involved; then the ratios to the direct path.

  PYTHONPATH=tests/lib bench/agent-bench.py --build BUILD_DIR [--seconds 10]
                       [--rounds 2] [--client CMD] [--no-waypipe]

(ninja -C BUILD_DIR bench-agent runs it with the defaults; tests/lib holds
the /proc helpers it shares with the tests.)

Nothing here asserts: it measures and prints. Paths run interleaved
(round-robin, --rounds times) so that a noisy neighbour hits them alike.
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import tessera_proc

LINE = re.compile(r"^\[\s*(\d+\.\d+)\]\s+(->)?\s*(\S+?)@(\d+)\.(\w+)\((.*)\)")


def parse(path):
    """Frame and buffer timing from a WAYLAND_DEBUG=client log (ms)."""
    attached = {}  # surface -> buffer attached since the last commit
    committed = {}  # buffer -> time of the commit that showed it
    frame_sent = {}  # callback id -> commit time
    pending_frame = {}  # surface -> callback id requested before commit
    release, frame_done, commits, dones = [], [], [], []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            ts, out, iface, oid, msg, args = m.groups()
            ts = float(ts)
            if out and iface == "wl_surface" and msg == "attach":
                b = re.match(r"wl_buffer@(\d+)", args)
                attached[oid] = b.group(1) if b else None
            elif out and iface == "wl_surface" and msg == "frame":
                cb = re.search(r"new id wl_callback@(\d+)", args)
                if cb:
                    pending_frame[oid] = cb.group(1)
            elif out and iface == "wl_surface" and msg == "commit":
                commits.append(ts)
                buf = attached.pop(oid, None)
                if buf is not None:
                    committed[buf] = ts
                cb = pending_frame.pop(oid, None)
                if cb is not None:
                    frame_sent[cb] = ts
            elif not out and iface == "wl_buffer" and msg == "release":
                t0 = committed.pop(oid, None)
                if t0 is not None:
                    release.append(ts - t0)
            elif not out and iface == "wl_callback" and msg == "done":
                dones.append(ts)
                t0 = frame_sent.pop(oid, None)
                if t0 is not None:
                    frame_done.append(ts - t0)
    return commits, dones, release, frame_done


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def tree_ticks(pid):
    """CPU ticks of a process and its descendants (waypipe server runs the
    real client as its child)."""
    total = cpu_ticks(pid)
    if total is None:
        return None
    for child in tessera_proc.child_pids(pid):
        total += tree_ticks(child) or 0
    return total


class Host:
    """tessera headless with one VM whose tessera-vmd listens on a socket."""

    def __init__(self, build, size):
        self.tmp = tempfile.mkdtemp(prefix="tessera-bench-")
        self.runtime = os.path.join(self.tmp, "runtime")
        os.mkdir(self.runtime, 0o700)
        self.sock = os.path.join(self.tmp, "vm.sock")
        cfg = os.path.join(self.tmp, "tessera.ini")
        with open(cfg, "w") as f:
            f.write(f"[vm bench]\ncolor = #c62828\nvhost-user = {self.sock}\n")
        self.env = dict(os.environ)
        for var in ("WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY", "WAYLAND_DEBUG"):
            self.env.pop(var, None)
        self.env["XDG_RUNTIME_DIR"] = self.runtime
        self.env["TESSERA_VMD"] = os.path.join(build, "server/vmd/tessera-vmd")
        self.log = open(os.path.join(self.tmp, "tessera.log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(build, "server/compositor/tessera"), "-q", "--backend", "headless",
             "--size", size, "--config", cfg],
            env=self.env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("WAYLAND_DISPLAY="):
            sys.exit(f"tessera did not start: {line!r}")
        self.env["WAYLAND_DISPLAY"] = line.strip().split("=", 1)[1]
        deadline = time.monotonic() + 15
        while not os.path.exists(self.sock):
            if time.monotonic() > deadline:
                sys.exit("tessera-vmd did not listen")
            time.sleep(0.05)
        self.vmd = tessera_proc.find_vmd(self.sock)

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_client(cmd, env, seconds, log_path, procs):
    """Runs the client for `seconds` with WAYLAND_DEBUG=client; returns
    the CPU ticks used by it and by `procs` meanwhile."""
    env = dict(env)
    env["WAYLAND_DEBUG"] = "client"
    with open(log_path, "w") as log:
        client = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
        time.sleep(1.0)  # connected, first frames: not measured
        watched = {name: pid for name, pid in procs.items() if pid}
        watched["client"] = client.pid
        # the clients and waypipe fork the processes that do the work
        ticks = {n: (tree_ticks if n in ("client", "waypipe-client") else cpu_ticks)
                 for n in watched}
        before = {n: ticks[n](p) for n, p in watched.items()}
        mark = os.path.getsize(log_path)
        time.sleep(seconds)
        after = {n: ticks[n](p) for n, p in watched.items()}
        end = os.path.getsize(log_path)
        client.send_signal(signal.SIGINT)
        try:
            client.wait(timeout=5)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()
    # keep only the measured window of the log
    with open(log_path, "rb") as f:
        f.seek(mark)
        data = f.read(end - mark)
    cut = data.find(b"\n")
    with open(log_path, "wb") as f:
        f.write(data[cut + 1:])
    return {n: (after[n] - before[n]) if before[n] is not None and after[n] is not None
            else None for n in watched}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="meson build directory")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--size", default="1920x1080", help="tessera's output")
    ap.add_argument("--client", default="weston-simple-shm")
    ap.add_argument("--no-waypipe", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    agent_bin = os.path.join(build, "guest-agent/tessera-agent")
    for path in (agent_bin, os.path.join(build, "server/compositor/tessera")):
        if not os.path.exists(path):
            sys.exit(f"{path} is not built")
    cmd = shlex.split(args.client)
    waypipe = None if args.no_waypipe else shutil.which("waypipe")
    hz = os.sysconf("SC_CLK_TCK")

    host = Host(build, args.size)
    work = tempfile.mkdtemp(prefix="tessera-bench-run-")
    # the agent, as a guest, in its own runtime directory
    guest_runtime = os.path.join(work, "guest")
    os.mkdir(guest_runtime, 0o700)
    agent_env = dict(host.env)
    agent_env.pop("WAYLAND_DISPLAY")
    agent_env["XDG_RUNTIME_DIR"] = guest_runtime
    agent_log = open(os.path.join(work, "agent.log"), "w")
    agent = subprocess.Popen([agent_bin, "-q", "--transport", f"vhost-user:{host.sock}",
                              "--socket", "bench-guest"], env=agent_env,
                             stdout=subprocess.PIPE, stderr=agent_log, text=True)
    line = agent.stdout.readline()
    if not line.startswith("WAYLAND_DISPLAY="):
        sys.exit("tessera-agent did not start")
    guest_env = dict(agent_env)
    guest_env["WAYLAND_DISPLAY"] = "bench-guest"
    time.sleep(0.5)

    paths = {
        "direct": (host.env, {"tessera": host.proc.pid}),
        "agent loopback": (guest_env, {"tessera": host.proc.pid, "vmd": host.vmd,
                                       "agent": agent.pid}),
    }
    wp = None
    if waypipe:
        wp_runtime = os.path.join(work, "waypipe")
        os.mkdir(wp_runtime, 0o700)
        wp_sock = os.path.join(work, "waypipe.sock")
        wp = subprocess.Popen([waypipe, "--socket", wp_sock, "client"], env=host.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        wp_env = dict(host.env)
        wp_env["XDG_RUNTIME_DIR"] = wp_runtime
        # "client" is then waypipe server with the real client, its child
        paths["waypipe"] = (wp_env, {"tessera": host.proc.pid, "waypipe-client": wp.pid})
        cmd_for = {"waypipe": [waypipe, "--socket", wp_sock, "server", "--"] + cmd}
    else:
        cmd_for = {}

    results = {name: {"commits": [], "dones": [], "release": [], "frame": [], "cpu": {},
                      "seconds": 0.0} for name in paths}
    for rnd in range(args.rounds):
        for name, (env, procs) in paths.items():
            log_path = os.path.join(work, f"{name.replace(' ', '-')}-{rnd}.log")
            cpu = run_client(cmd_for.get(name, cmd), env, args.seconds, log_path, procs)
            commits, dones, release, frame = parse(log_path)
            r = results[name]
            r["commits"] += commits
            r["dones"] += dones
            r["release"] += release
            r["frame"] += frame
            r["seconds"] += args.seconds
            for proc_name, ticks in cpu.items():
                if ticks is not None:
                    r["cpu"][proc_name] = r["cpu"].get(proc_name, 0) + ticks

    print(f"agent-bench: client '{args.client}', tessera {args.size} headless (pixman), "
          f"{args.rounds} x {args.seconds:.0f} s per path, interleaved")
    print(f"{'path':<16}{'frames/s':>10}{'commits/s':>11}  "
          f"{'commit->release ms p50/p90/p99/max':>36}  {'commit->frame ms p50/p99':>26}")
    summary = {}
    for name, r in results.items():
        fps = len(r["dones"]) / r["seconds"]
        cps = len(r["commits"]) / r["seconds"]
        rel = r["release"]
        fr = r["frame"]
        summary[name] = (fps, pct(rel, 50), pct(fr, 50))
        print(f"{name:<16}{fps:>10.1f}{cps:>11.1f}  "
              f"{pct(rel, 50):>8.2f}/{pct(rel, 90):.2f}/{pct(rel, 99):.2f}/"
              f"{max(rel) if rel else float('nan'):.2f}".ljust(64) +
              f"{pct(fr, 50):>10.2f}/{pct(fr, 99):.2f}")
    print("CPU time per frame (ms), per process:")
    for name, r in results.items():
        frames = max(1, len(r["dones"]))
        parts = ", ".join(f"{p} {1000.0 * ticks / hz / frames:.3f}"
                          for p, ticks in sorted(r["cpu"].items()))
        print(f"  {name:<16}{parts}")
    base = summary.get("direct")
    if base:
        print("ratios to direct:")
        for name, (fps, rel, fr) in summary.items():
            if name == "direct":
                continue
            print(f"  {name:<16}frames/s x{fps / base[0]:.2f}, commit->release p50 "
                  f"x{rel / base[1]:.2f}, commit->frame p50 x{fr / base[2]:.2f}")
    agent.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=10)
    agent_log.close()
    if wp is not None:
        wp.terminate()
        wp.wait()
    host.close()
    shutil.rmtree(work, ignore_errors=True)
    if statistics.mean([len(r["dones"]) for r in results.values()]) == 0:
        sys.exit("no frames at all: the client did not run")


if __name__ == "__main__":
    main()
