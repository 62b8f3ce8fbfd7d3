#!/usr/bin/env python3
"""clipboard: how long the largest clipboard transfer takes. Two VMs, "a"
and "b", on one tessera (headless), each with its tessera-agent on the
vhost-user loopback; a selection of SIZE bytes is set in VM a (wl-copy),
copied into tessera's clipboard (tesseractl clipboard copy --from a),
pasted into VM b (tesseractl clipboard paste --to b) and read there
(wl-paste), for a text and a PNG of that size (incompressible noise, so
the PNG really is SIZE bytes), --rounds times each. Prints the time of
each step and of the whole transfer.

  bench/clipboard.py --build BUILD_DIR [--size 16M] [--rounds 3]

(ninja -C BUILD_DIR bench-clipboard runs it with the defaults.) Nothing
here asserts: it measures and prints.
"""

import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "lib"))

import tessera_test as t  # noqa: E402


def noise_png(size):
    """An RGB PNG of random pixels stored without compression: about size
    bytes."""
    width = 1024
    height = max(1, size // (width * 3 + 1))
    rng = random.Random(1)
    rows = b"".join(b"\0" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b""))


def noise_text(size):
    rng = random.Random(2)
    alphabet = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\n"
    return bytes(rng.choice(alphabet) for _ in range(size))


class Agent:
    def __init__(self, tessera, name, sock):
        runtime = os.path.join(tessera.tmp, f"guest-{name}")
        os.mkdir(runtime, 0o700)
        self.env = dict(tessera.env)
        self.env["XDG_RUNTIME_DIR"] = runtime
        self.env.pop("WAYLAND_DISPLAY", None)
        self.log = open(os.path.join(tessera.tmp, f"agent-{name}.log"), "w")
        self.proc = subprocess.Popen(
            [os.environ["TESSERA_AGENT"], "--transport", f"vhost-user:{sock}",
             "--socket", f"guest-{name}", "--xwayland", "off"],
            env=self.env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("WAYLAND_DISPLAY="):
            sys.exit(f"agent {name}: no WAYLAND_DISPLAY (got {line!r})")
        self.env["WAYLAND_DISPLAY"] = line.strip().split("=", 1)[1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=15)
        self.log.close()


def run(tessera, agents, ctl, data, mime, rounds):
    a, b = agents
    steps = []
    for _ in range(rounds):
        subprocess.run(["wl-copy", "--type", mime], input=data, env=a.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["wl-copy", "--type", mime], input=b"-", env=b.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        res = subprocess.run([ctl, "clipboard", "copy", "--from", "a"], env=tessera.client_env,
                             capture_output=True, text=True)
        t1 = time.monotonic()
        if res.returncode != 0:
            sys.exit(f"copy failed: {res.stderr}")
        res = subprocess.run([ctl, "clipboard", "paste", "--to", "b"], env=tessera.client_env,
                             capture_output=True, text=True)
        t2 = time.monotonic()
        if res.returncode != 0:
            sys.exit(f"paste failed: {res.stderr}")
        got = subprocess.run(["wl-paste", "--no-newline", "--type", mime], env=b.env,
                             capture_output=True).stdout
        t3 = time.monotonic()
        if mime == "image/png":
            ok = got.startswith(b"\x89PNG") and len(got) > len(data) // 2
        else:
            ok = got == data
        if not ok:
            sys.exit(f"VM b read {len(got)} bytes that are not what VM a copied")
        steps.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0, len(got)))
    return steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="meson build directory")
    ap.add_argument("--size", default="16M", help="bytes (K, M suffixes)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for var, rel in (("TESSERA", "server/compositor/tessera"),
                     ("TESSERA_VMD", "server/vmd/tessera-vmd"),
                     ("TESSERA_AGENT", "guest-agent/tessera-agent"),
                     ("TESSERA_CTL", "server/ctl/tesseractl")):
        os.environ[var] = os.path.join(build, rel)
    for tool in ("wl-copy", "wl-paste"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing (wl-clipboard)")
    size = int(args.size.rstrip("KM")) << {"K": 10, "M": 20}.get(args.size[-1], 0)

    tmp = tempfile.mkdtemp(prefix="clipboard-bench-")
    socks = {vm: os.path.join(tmp, f"{vm}.sock") for vm in ("a", "b")}
    config = "".join(f"[vm {vm}]\ncolor = #{color}\nvhost-user = {socks[vm]}\n"
                     f"clipboard-max = {max(size * 2, 16 << 20)}\n\n"
                     for vm, color in (("a", "cc3333"), ("b", "3355ee")))
    tessera = t.Tessera(size=(1024, 768), config=config,
                        env={"TESSERA_VMD": os.environ["TESSERA_VMD"]})
    agents = []
    try:
        t.wait_for(lambda: all(os.path.exists(s) for s in socks.values()), 15,
                   "the daemons' sockets")
        agents = [Agent(tessera, vm, socks[vm]) for vm in ("a", "b")]
        time.sleep(1)
        print(f"clipboard: {size} bytes from VM a to tessera's clipboard to VM b, "
              f"{args.rounds} rounds (tessera -v, headless, loopback agents)")
        print(f"{'what':<6} {'bytes':>10} {'copy s':>8} {'paste s':>8} {'read s':>8} "
              f"{'total s':>8} {'MiB/s':>7}")
        for mime, data in (("text/plain;charset=utf-8", noise_text(size)),
                           ("image/png", noise_png(size))):
            for copy, paste, read, total, n in run(tessera, agents, os.environ["TESSERA_CTL"],
                                                    data, mime, args.rounds):
                print(f"{'PNG' if 'png' in mime else 'text':<6} {len(data):>10} "
                      f"{copy:>8.3f} {paste:>8.3f} {read:>8.3f} {total:>8.3f} "
                      f"{len(data) / total / (1 << 20):>7.1f}")
    finally:
        for agent in agents:
            agent.stop()
        tessera.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
