#!/usr/bin/env python3
"""vmd-gpu: tessera-vmd's virtio-gpu device against tessera headless.

tessera starts tessera-vmd for a configured VM (tagged connection, the
real daemon); test-vmd-gpu plays VMM and guest driver on its vhost-user
socket (common/frontend/virtio-gpu-frontend). Checked: features, config, display
info, EDID (checksum, and edid-decode --check), fences echoed,
the held WAIT doorbell, malformed commands answered with errors while vmd
keeps serving, per-VM limits, the 2D console path (a "[NAME] console"
window framed in the VM colour with the pixels the guest wrote, damage
updates, format conversion), and a VMM that disappears mid-way: vmd
accepts the next connection with its fd count, guest-memory mappings and
counters back where they were.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import tessera_proc
import tessera_test as t

VM = "gputest"
FRAME = "3355ee"

# The ERROR lines vmd logs for what test-vmd-gpu sends on purpose: its
# probes of what the device lacks ("basic"), every command of "malformed"
# and the refusals at the per-VM limits ("limits").
BASIC_ERRORS = [
    # virglrenderer's VIRGL and VIRGL2 (gpu = auto, the default)
    'GET_CAPSET_INFO: capset index 2 (the device has 2)',
    'GET_EDID: scanout 3 (the device has 1)',
]
MALFORMED_ERRORS = [
    'RESOURCE_UNREF: no resource 4242',
    'control queue: unsupported command 0x777 (unknown command)',
    'SUBMIT_3D: no context 99',
    'control queue: unsupported command 0x9999 (unknown command)',
    'control queue: unsupported command 0x10c (RESOURCE_CREATE_BLOB)',
    'control queue: command of 8 bytes, shorter than its header',
    'unknown command: 36 bytes, 40 expected',
    'GET_DISPLAY_INFO: response buffer of 24 bytes, 408 needed',
    'unknown command: response buffer of 0 bytes, 24 needed',
    'RESOURCE_CREATE_2D: resource id 0',
    'RESOURCE_CREATE_2D: resource 1 already exists',
    'RESOURCE_CREATE_2D: resource 2: unsupported format 77',
    'RESOURCE_CREATE_2D: resource 2: size 0x8 (1..16384)',
    'RESOURCE_CREATE_2D: resource 2: size 20000x8 (1..16384)',
    'RESOURCE_CREATE_2D: resource 2: 16384x16384 is 1073741824 bytes, limit 268435456',
    'RESOURCE_CREATE_3D: resource 3: bad target (target 42 format 1 8x8x1 array 1 levels 0 samples 0)',
    'RESOURCE_CREATE_3D: resource 3: bad depth (target 2 format 1 8x8x0 array 1 levels 0 samples 0)',
    'RESOURCE_CREATE_3D: resource 3: 4096x4096x4096 x1 exceeds the resource size limit of 268435456 bytes',
    'RESOURCE_ATTACH_BACKING: no resource 77',
    'RESOURCE_ATTACH_BACKING: resource 1: extent 0 [0x10000000000, +0x1000) is not inside one guest memory region',
    'RESOURCE_ATTACH_BACKING: resource 1: extent 0 [0xffffffffffffff9b, +0x1000) is not inside one guest memory region',
    'RESOURCE_ATTACH_BACKING: resource 1: extent 0 [0x3fff800, +0x1000) is not inside one guest memory region',
    'RESOURCE_ATTACH_BACKING: resource 1: extent 0 is empty',
    'RESOURCE_ATTACH_BACKING: resource 1: 16 bytes of backing for a resource of 256 bytes',
    'RESOURCE_ATTACH_BACKING: resource 1: 3 entries announced, 16 bytes sent',
    'RESOURCE_ATTACH_BACKING: resource 1: 100000 entries (1..16384)',
    'RESOURCE_ATTACH_BACKING: resource 1: 0 entries (1..16384)',
    'RESOURCE_ATTACH_BACKING: resource 1 already has backing',
    'SET_SCANOUT: scanout 1 (the device has 1)',
    'SET_SCANOUT: rectangle 9x8+0+0 of resource 1 (8x8; at most 8192x8192 shown)',
    'SET_SCANOUT: rectangle 32x8+4294967280+0 of resource 1 (8x8; at most 8192x8192 shown)',
    'SET_SCANOUT: no resource 55',
    'RESOURCE_FLUSH: rectangle 8x8+4+4 outside resource 1 (8x8)',
    "TRANSFER_TO_HOST_2D: offset 4000 + 256 bytes beyond the 4096 bytes of resource 1's backing",
    "TRANSFER_TO_HOST_2D: offset 18446744073709551605 + 256 bytes beyond the 4096 bytes of resource 1's backing",
    'TRANSFER_TO_HOST_2D: no resource 0',
    'CTX_CREATE: context id 0 is invalid',
    'CTX_CREATE: context 5: name length 1000, context_init 0x0 (CONTEXT_INIT is not offered)',
    'CTX_ATTACH_RESOURCE: no context 6',
    'CTX_DESTROY: no context 6',
    'SUBMIT_3D: context 5: payload of 64 bytes (8 sent, limit 262144)',
    'SUBMIT_3D: context 5: payload of 4294967295 bytes (8 sent, limit 262144)',
    'cursor queue: command of 5 bytes, 56 expected',
    'UPDATE_CURSOR: no resource 999',
    'MOVE_CURSOR: scanout 7 (the device has 1)',
]
LIMITS_ERRORS = [
    'RESOURCE_CREATE_2D: resource 999 refused: limit of 4096 resources reached',
    'CTX_CREATE: context 5000 refused: limit of 64 contexts reached',
]


def expect_vmd_errors(tessera, messages):
    for message in messages:
        tessera.expect_error(rf"tessera-vmd\[{VM}\] \[ERROR\] {re.escape(message)}$")


class Driver:
    def __init__(self, tessera, sock):
        self.program = t.program("TESSERA_TEST_VMD_GPU")
        self.tessera = tessera
        self.sock = sock

    def run(self, *args, timeout=120):
        res = subprocess.run([self.program, self.sock, *map(str, args)],
                             capture_output=True, text=True, timeout=timeout)
        sys.stdout.write(res.stdout)
        if res.returncode != 0:
            print(res.stderr)
            print("--- tessera/vmd log (tail)\n" + self.tessera.log()[-4000:])
            t.fail(f"test-vmd-gpu {' '.join(map(str, args))} exited "
                   f"{res.returncode}")
        return res.stdout

    def start(self, *args):
        return subprocess.Popen([self.program, self.sock, *map(str, args)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)


def ready(proc, what):
    line = proc.stdout.readline().strip()
    if not line.startswith("READY"):
        proc.kill()
        t.fail(f"expected READY {what}, got {line!r}")
    return line.split()[2:]


def go(proc):
    proc.stdin.write("\n")
    proc.stdin.flush()


def screenshot_with(tessera, color, what):
    return t.wait_for(
        lambda: (lambda p: p if p.bbox(color) else None)(tessera.screenshot()),
        15, what)


def test():
    vmd = t.program("TESSERA_VMD")
    t.host_program("grim")
    decoder = t.host_program("edid-decode")
    t.program("TESSERA_TEST_TOPLEVELS")
    sock_dir = tempfile.mkdtemp(prefix="tessera-vmd-gpu-")
    sock = os.path.join(sock_dir, "gpu.sock")
    config = f"[vm {VM}]\ncolor = #{FRAME}\nvhost-user = {sock}\n"
    tessera = None
    try:
        tessera = t.Tessera(size=(800, 600), config=config,
                            env={"TESSERA_VMD": vmd})
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's socket")
        pid = t.wait_for(lambda: tessera_proc.find_vmd(sock), 10, "the tessera-vmd process")
        d = Driver(tessera, sock)
        expect_vmd_errors(tessera, BASIC_ERRORS)

        # features, config, display info, EDID
        edid = os.path.join(tessera.tmp, "edid.bin")
        out = d.run("basic", edid)
        t.check("GPU acceleration: virgl (gpu = auto)" in tessera.log() and
                "capsets 2\n" in out, "gpu = auto: no virgl capsets")
        m = re.search(r"display (\d+)x(\d+)", out)
        t.check(m is not None, "no display size printed")
        # 800x600 output less the margin for the frame
        t.check((int(m.group(1)), int(m.group(2))) == (736, 536),
                f"display mode {m.group(1)}x{m.group(2)}, expected 736x536")
        res = subprocess.run([decoder, "--check", edid], capture_output=True, text=True)
        if res.returncode != 0:
            print(res.stdout + res.stderr)
            t.fail("edid-decode --check rejects vmd's EDID")
        print("edid-decode --check: conformant")

        baseline_fds = tessera_proc.fd_count(pid)
        baseline_memfd = tessera_proc.memfd_maps(pid)
        s = tessera_proc.vmd_stats(tessera, pid)
        t.check(s["resources"] == "0" and s["mapped_bytes"] == "0",
                f"after a clean disconnect: {s}")

        d.run("fences")
        expect_vmd_errors(tessera, MALFORMED_ERRORS)
        d.run("malformed")
        expect_vmd_errors(tessera, LIMITS_ERRORS)
        d.run("limits", 4096, 64)
        d.run("wait")
        t.check(tessera_proc.find_vmd(sock) == pid, "vmd restarted during the tests")

        # the 2D console path
        proc = d.start("console")
        args = ready(proc, "1")
        png = screenshot_with(tessera, args[0], "the console window")
        cx, cy, cw, ch = t.frame_check(png, "008080", FRAME, "console")
        t.check((cw, ch) == (320, 200), f"console is {cw}x{ch}, not 320x200")
        names = tessera.titles()
        t.check(f"[{VM}] console" in names, f"titles: {names}")
        go(proc)
        ready(proc, "2")
        png = screenshot_with(tessera, "ff8000", "the flushed square")
        box = png.bbox("ff8000")
        t.check(box[:4] == (cx + 100, cy + 60, 40, 30),
                f"square at {box[:4]}, expected {(cx + 100, cy + 60, 40, 30)}")
        t.check(png.pixel(cx + 5, cy + 5) == "008080", "rest of the console")
        go(proc)
        ready(proc, "2b")
        png = screenshot_with(tessera, "0000ff", "the second flushed square")
        box = png.bbox("0000ff")
        t.check(box[:4] == (cx + 10, cy + 10, 8, 8),
                f"square at {box[:4]}, expected {(cx + 10, cy + 10, 8, 8)}")
        t.check(png.bbox("ff8000")[:4] == (cx + 100, cy + 60, 40, 30),
                "the first square changed")
        s = tessera_proc.vmd_stats(tessera, pid)
        frames = int(s["console_frames"])
        copied = int(s["console_bytes_copied"])
        last = int(s["console_last_frame_bytes"])
        print(f"console: {frames} frames, {copied} bytes copied; the last "
              f"frame (an 8x8 flush, buffers in use) copied {last} bytes")
        t.check(frames >= 3, f"console counters: {s}")
        # the 8x8 flush, plus at most the 40x30 the reused buffer missed
        t.check(8 * 8 * 4 <= last <= (8 * 8 + 40 * 30) * 4,
                f"an 8x8 damage copied {last} bytes")
        go(proc)
        ready(proc, "3")
        png = screenshot_with(tessera, "7020a0", "the R8G8B8X8 scanout")
        x2, y2, w2, h2 = t.frame_check(png, "7020a0", FRAME, "console 2")
        t.check((w2, h2) == (320, 200), f"second scanout {w2}x{h2}")
        go(proc)
        ready(proc, "4")
        t.wait_for(lambda: tessera.screenshot().bbox("7020a0") is None, 10,
                   "the console window to go when the scanout is disabled")
        go(proc)
        t.check(proc.wait(timeout=30) == 0, "console case failed")

        # a VMM that goes away with state behind
        proc = d.start("abandon")
        ready(proc, "abandon")
        screenshot_with(tessera, "606060", "the abandoned console")
        s = tessera_proc.vmd_stats(tessera, pid)
        t.check(int(s["resources"]) == 66 and int(s["mapped_bytes"]) > 0 and
                s["held_now"] == "1", f"before the disconnect: {s}")
        go(proc)
        proc.wait(timeout=30)
        t.check(proc.returncode == 0, "abandon case failed")
        t.wait_for(lambda: tessera_proc.vmd_stats(tessera, pid)["resources"] == "0", 10,
                   "vmd to free the guest's resources")
        s = tessera_proc.vmd_stats(tessera, pid)
        t.check(s["mapped_bytes"] == "0" and s["mapped_regions"] == "0" and
                s["held_now"] == "0" and s["backing_bytes"] == "0" and
                s["contexts"] == "0", f"after the disconnect: {s}")
        t.wait_for(lambda: tessera.screenshot().bbox("606060") is None, 10,
                   "the console window to vanish with the VMM")
        t.check(tessera_proc.fd_count(pid) == baseline_fds,
                f"vmd has {tessera_proc.fd_count(pid)} fds, {baseline_fds} before")
        t.check(tessera_proc.memfd_maps(pid) == baseline_memfd,
                f"memfd mappings {tessera_proc.memfd_maps(pid)}, before {baseline_memfd}")
        # and serves the next VMM
        d.run("basic")
        t.check(tessera_proc.find_vmd(sock) == pid, "vmd was restarted")
        # the frontend has exited; vmd closes the connection once it sees
        # the hang-up
        t.wait_for(lambda: tessera_proc.fd_count(pid) == baseline_fds, 10,
                   f"vmd's fds to return to {baseline_fds} after the next connection")
        s = tessera_proc.vmd_stats(tessera, pid)
        print(f"vmd counters: connections={s['connections']} "
              f"commands={s['commands']} errors={s['errors']}")
        tessera.stop()
        log = tessera.log()
        t.check("stats (exit)" in log, "vmd printed no counters at exit")
        t.check("AddressSanitizer" not in log and "runtime error" not in log,
                "sanitizer report in the log")
        tessera.cleanup()

        # gpu = off: today's device, no capsets
        tessera = t.Tessera(size=(800, 600), config=config + "gpu = off\n",
                            env={"TESSERA_VMD": vmd})
        t.wait_for(lambda: tessera_proc.find_vmd(sock), 10, "the tessera-vmd process")
        t.wait_for(lambda: os.path.exists(sock), 15, "vmd's socket")
        tessera.expect_error(rf"tessera-vmd\[{VM}\] \[ERROR\] "
                             r"GET_CAPSET_INFO: capset index 0 \(the device has 0\)$")
        tessera.expect_error(rf"tessera-vmd\[{VM}\] \[ERROR\] "
                             r"GET_EDID: scanout 3 \(the device has 1\)$")
        out = Driver(tessera, sock).run("basic")
        t.check("capsets 0\n" in out and "GPU acceleration: off (gpu = off)" in
                tessera.log(), f"gpu = off: {out}")
        tessera.stop()
    except AssertionError:
        if tessera is not None:
            print("--- tessera/vmd log (tail)\n" + tessera.log()[-8000:])
            print(f"tessera {'running' if tessera.alive() else 'exited'}")
        raise
    finally:
        if tessera is not None:
            tessera.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)


if __name__ == "__main__":
    t.main(test)
