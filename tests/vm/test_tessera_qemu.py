"""vm-tessera-qemu: tessera starts and supervises QEMU itself.

One config, two VMs with `kernel`, `initrd`, `append` and `qemu-args`
(direct boot of the test initramfs, the 9p shares of tessera_vm.py): tessera
starts each VM's tessera-vmd, then QEMU once the daemon listens. In each
guest, tessera-agent (virtgpu transport) and guest-client drawing its own
colour. Checked: both windows framed in their VM's colour with the client's
pixels; QEMU's command line (shared memfd RAM, vhost-user-gpu-pci on the
daemon's socket, no display, QMP) and its log file; `tesseractl vm list`
shows the QEMU pids.

Then, while VM "a" keeps presenting (its frame count in `tesseractl vm
list` grows in every second of the test), VM "b" is restarted with
`tesseractl vm restart` (ACPI shutdown over QMP, which the test guest
ignores, so QEMU is killed after its shutdown-timeout) and its QEMU is
killed with SIGKILL (restart = on-failure starts it again): each time b's
window comes back, with a new QEMU pid, and b's tessera-vmd (a new one
after vm restart and after QEMU's death) holds as many open files as with
the first QEMU (its mappings are printed). `vm list`'s frames and bytes copied are the daemons' own
(SIGUSR1 statistics). Prints the boot-to-window times.
"""

import json
import os
import shutil
import re
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import tessera_proc  # noqa: E402
import tessera_test as t  # noqa: E402
import tessera_vm  # noqa: E402
from ctl_test import ctl_json  # noqa: E402

VMS = {"a": ("1565c0", "e07010"), "b": ("c62828", "10a0e0")}  # frame, client
SHUTDOWN_TIMEOUT = 2

GUEST = r"""
export XDG_RUNTIME_DIR=/run/user/0
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
"$AGENT" --transport virtgpu --socket wayland-1 > agent.log 2>&1 &
n=0
while [ ! -S "$XDG_RUNTIME_DIR/wayland-1" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
WAYLAND_DISPLAY=wayland-1 "$CLIENT" --frames 100000 --color @COLOR@ --title @TITLE@ \
	> client.out 2>&1 &
while :; do sleep 10; done
"""


def section(name, frame, keys):
    lines = [f"[vm {name}]", f"color = #{frame}"]
    lines += [f"{k} = {v}" for k, v in keys.items()]
    for line in lines:
        t.check(len(line) < 200, f"config line too long for tessera.ini: {line!r}")
    return "\n".join(lines) + "\n"


def test(args):
    agent = t.program("TESSERA_AGENT")
    client = t.program("AGENT_GUEST_CLIENT")
    t.program("TESSERA_TEST_TOPLEVELS")
    t.program("TESSERA_CTL")
    tessera_vm.require(args.kernel, t.skip)
    t.host_program("grim")

    sock_dir = tempfile.mkdtemp(prefix="tq-")
    guests = {}
    tessera = None
    try:
        config = ""
        for name, (frame, color) in VMS.items():
            script = (f"AGENT={agent}\nCLIENT={client}\n" +
                      GUEST.replace("@COLOR@", color).replace("@TITLE@", f"win-{name}"))
            guest = tessera_vm.Guest(script, kernel=args.kernel, build_dir=args.build_dir,
                                     memory="512M", append="video=Virtual-1:d")
            guests[name] = guest
            try:
                keys = guest.tessera_keys()
            except tessera_vm.VmSkip as e:
                t.skip(str(e))
            keys["vhost-user"] = os.path.join(sock_dir, f"{name}.sock")
            keys["shutdown-timeout"] = SHUTDOWN_TIMEOUT
            config += section(name, frame, keys)

        t0 = time.monotonic()
        tessera = t.Tessera(size=(1024, 768), config=config,
                            env={"TESSERA_VMD": os.environ["TESSERA_VMD"]})

        def window(name):
            frame, color = VMS[name]
            png = tessera.screenshot()
            box = png.bbox(tessera_vm.client_color(color))
            if box is None:
                return None
            t.frame_check(png, tessera_vm.client_color(color), frame, f"vm {name}'s window")
            return box

        for name in VMS:
            box = t.wait_for(lambda: window(name), 120, f"vm {name}'s window")
            print(f"vm {name}: window {box[2]}x{box[3]} at {box[0]},{box[1]}, "
                  f"{time.monotonic() - t0:.1f} s after tessera started")
            t.check((box[2], box[3]) == (160, 100), f"vm {name}: content {box}")
        titles = sorted(tessera.titles())
        t.check(titles == ["[a] win-a", "[b] win-b"], f"windows: {titles}")

        vms = {vm["name"]: vm for vm in ctl_json(tessera, "vm", "list")["vms"]}
        for name in VMS:
            pid = vms[name]["qemu_pid"]
            t.check(vms[name]["state"] == "running" and isinstance(pid, int),
                    f"vm {name}: {vms[name]}")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode() for a in f.read().split(b"\0")]
            sock = os.path.join(sock_dir, f"{name}.sock")
            for want in ("memory-backend-memfd,id=mem,size=512M,share=on",
                         f"socket,id=gpu,path={sock}", "vhost-user-gpu-pci,chardev=gpu",
                         "none", "tcg"):
                t.check(want in argv, f"vm {name}: QEMU's argv lacks {want}: {argv}")
            log = os.path.join(tessera.runtime_dir, "tessera", f"{name}-qemu.log")
            with open(log, errors="replace") as f:
                text = f.read()
            t.check(text.startswith("# tessera starts:") and "TESSERA-VM: init up" in text,
                    f"vm {name}: QEMU's log {log}: {text[:2000]!r}")

        # vm list shows the daemons' own counters (reported at most every
        # 250 ms: never ahead of the daemon, at most ~0.25 s behind)
        vmd = {name: tessera_proc.find_vmd(os.path.join(sock_dir, f"{name}.sock"))
               for name in VMS}
        t.check(None not in vmd.values(), f"tessera-vmd pids {vmd}")
        for name in VMS:
            listed = {vm["name"]: vm for vm in ctl_json(tessera, "vm", "list")["vms"]}[name]
            stats = tessera_proc.vmd_stats(tessera, vmd[name])
            frames = int(stats["frames"]) + int(stats["console_frames"])
            copied = int(stats["bytes_copied"])
            t.check(isinstance(listed["frames"], int) and 0 < listed["frames"] <= frames
                    and frames - listed["frames"] <= 30,
                    f"vm {name}: vm list frames {listed['frames']}, the daemon's {frames}")
            t.check(isinstance(listed["bytes_copied"], int)
                    and listed["bytes_copied"] <= copied,
                    f"vm {name}: vm list bytes copied {listed['bytes_copied']}, "
                    f"the daemon's {copied}")
            print(f"vm {name}: vm list frames {listed['frames']} bytes_copied "
                  f"{listed['bytes_copied']} (daemon: {frames}, {copied})")

        # what b's daemon holds with its first QEMU
        def held(pid):
            return (tessera_proc.fd_count(pid), tessera_proc.file_map_count(pid),
                    tessera_proc.map_count(pid))
        baseline = held(vmd["b"])
        print(f"vm b: tessera-vmd holds {baseline[0]} fds, {baseline[1]} file mappings "
              f"({baseline[2]} in all)")

        # a keeps presenting while b goes and comes back
        samples = []
        stop_sampling = threading.Event()

        def sample():
            while not stop_sampling.is_set():
                vms = {vm["name"]: vm for vm in ctl_json(tessera, "vm", "list")["vms"]}
                samples.append((time.monotonic(), vms["a"]["frames"]))
                stop_sampling.wait(1.0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def qemu_pid(name):
            vms = {vm["name"]: vm for vm in ctl_json(tessera, "vm", "list")["vms"]}
            return vms[name]["qemu_pid"]

        def b_back(old_pid):
            pid = qemu_pid("b")
            if pid is None or pid == old_pid or "[b] win-b" not in tessera.titles():
                return None
            return window("b")

        def check_held(after):
            pid = tessera_proc.find_vmd(os.path.join(sock_dir, "b.sock"))
            t.check(pid is not None, f"no tessera-vmd of vm b after {after}")
            now = held(pid)
            print(f"vm b: tessera-vmd ({'the same' if pid == vmd['b'] else 'a new'} "
                  f"process) holds {now[0]} fds, {now[1]} file mappings ({now[2]} in "
                  f"all) after {after}")
            # Only the descriptors are compared: each restart brings a new
            # daemon, whose mappings depend on how many of its guest's
            # buffers (extents of guest RAM) are alive at that moment and
            # on malloc's arenas (differences of 4 to 16 seen).
            t.check(now[0] == baseline[0], f"vm b's tessera-vmd holds {now[0]} fds after "
                    f"{after}, {baseline[0]} before")

        old = qemu_pid("b")
        t1 = time.monotonic()
        reply = ctl_json(tessera, "vm", "restart", "b")
        t.check(reply["vm"]["state"] == "running", f"restart b: {reply}")
        t.wait_for(lambda: b_back(old), 120, "vm b's window after tesseractl vm restart")
        print(f"vm b: back {time.monotonic() - t1:.1f} s after tesseractl vm restart "
              f"(shutdown-timeout {SHUTDOWN_TIMEOUT} s)")
        check_held("vm restart")
        t.check(f"the guest did not power off within {SHUTDOWN_TIMEOUT} s" in tessera.log(),
                "tessera did not kill b's QEMU after its shutdown-timeout")

        old = qemu_pid("b")
        t2 = time.monotonic()
        os.kill(old, 9)
        tessera.expect_error(rf"vm 'b': QEMU \(pid {old}\) killed by signal 9")
        t.wait_for(lambda: b_back(old), 120, "vm b's window after kill -9 of its QEMU")
        print(f"vm b: back {time.monotonic() - t2:.1f} s after kill -9 of its QEMU")
        check_held("kill -9")
        tessera.expect_daemon_exit("b", "exited with status 0")

        stop_sampling.set()
        sampler.join(30)
        t.check(len(samples) >= 10, f"only {len(samples)} samples of vm a's frames")
        gaps = [(b[1] - a[1], b[0] - a[0]) for a, b in zip(samples, samples[1:])]
        print("vm a: frames per ~1 s interval during b's restarts: "
              + " ".join(str(d) for d, _ in gaps))
        t.check(all(d > 0 for d, _ in gaps), f"vm a stopped presenting: {gaps}")
        tessera.stop()
    finally:
        if tessera is not None:
            tessera.cleanup()
        for guest in guests.values():
            guest.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)


if __name__ == "__main__":
    tessera_vm.test_main(t.main, test)
