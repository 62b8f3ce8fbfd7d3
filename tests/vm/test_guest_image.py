"""vm-guest-image: the Debian guest image, booted by tessera under TCG.

scripts/make-guest-image.sh builds the image (its base system is cached in
$TESSERA_VM_CACHE, so only the first run on a machine bootstraps Debian;
the agent of this build is added each time it changed) into the build
directory. tessera boots it from the config section the script writes
(direct kernel boot, the ext4 root as a virtio disk, snapshot=on so the
image stays as built), under TCG. In the guest, getty logs the user in on
tty1, its systemd user session starts tessera-agent.service, and
tessera-foot.service starts foot once the agent's socket is there.

Checked: the window "[guest] foot" appears on tessera with foot's
background (the colour the image's foot.ini sets) framed on all sides in
the VM's colour (nothing but the user's systemd starts the agent and foot
in the image), and QEMU ran under TCG on the snapshot of the image.
Printed: the image build time (and whether the base came from the cache),
its size, and the boot-to-first-window time.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import tessera_test as t  # noqa: E402
import tessera_vm  # noqa: E402

FRAME = "2e7d32"
FOOT_BACKGROUND = "264653"  # make-guest-image.sh's foot.ini
SHUTDOWN_TIMEOUT = 5


def build_image(script, project_build, out):
    if os.geteuid() != 0:
        t.skip("make-guest-image.sh runs as root (mmdebstrap, mkfs.ext4 -d)")
    if shutil.which("mmdebstrap") is None:
        t.skip("no mmdebstrap: run scripts/install-vm-deps.sh")
    t0 = time.monotonic()
    proc = subprocess.run([script, "--build-dir", project_build, out],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=3000)
    took = time.monotonic() - t0
    print(proc.stdout, end="")
    t.check(proc.returncode == 0, f"make-guest-image.sh failed ({proc.returncode})")
    fresh = "base system: built" in proc.stdout
    print(f"image build: {took:.0f} s ({'fresh bootstrap' if fresh else 'base from cache'})")
    for suffix in ("", ".vmlinux", ".initrd", ".ini"):
        t.check(os.path.isfile(out + suffix), f"make-guest-image.sh made no {out}{suffix}")


def config(out, vhost_user):
    """tessera.ini from the script's section: this test's colour, socket and
    an image QEMU does not write to."""
    lines = []
    with open(out + ".ini") as f:
        for line in f.read().splitlines():
            if line.startswith("color ="):
                line = f"color = #{FRAME}"
            elif line.startswith("qemu-args =") and "-drive file=" in line:
                line += ",snapshot=on"
            lines.append(line)
    t.check("[vm guest]" in lines, f"{out}.ini has no [vm guest]: {lines}")
    lines += [f"vhost-user = {vhost_user}", "accel = tcg",
              f"shutdown-timeout = {SHUTDOWN_TIMEOUT}"]
    for line in lines:
        t.check(len(line) < 200, f"config line too long for tessera.ini: {line!r}")
    return "\n".join(lines) + "\n"


def test(args):
    t.program("TESSERA_VMD")
    t.host_program("grim")
    try:
        tessera_vm.qemu_binary()
    except tessera_vm.VmSkip as e:
        t.skip(str(e))
    out = os.path.join(args.build_dir, "guest-image", "guest.img")
    build_image(args.script, args.project_build, out)

    sock_dir = tempfile.mkdtemp(prefix="tg-")
    tessera = None
    try:
        t0 = time.monotonic()
        tessera = t.Tessera(size=(1024, 768), config=config(out, os.path.join(sock_dir, "g.sock")),
                            env={"TESSERA_VMD": os.environ["TESSERA_VMD"]})

        def foot():
            png = tessera.screenshot()
            if png.bbox(FOOT_BACKGROUND) is None or "[guest] foot" not in tessera.titles():
                return None
            return t.frame_check(png, FOOT_BACKGROUND, FRAME, "the guest's foot")

        box = t.wait_for(foot, 600, "the guest's foot window framed in the VM's colour")
        boot = time.monotonic() - t0
        print(f"boot to first window (TCG): {boot:.1f} s; foot {box[2]}x{box[3]} "
              f"at {box[0]},{box[1]}")
        t.check(box[2] >= 200 and box[3] >= 100, f"foot's window is too small: {box}")

        log = os.path.join(tessera.runtime_dir, "tessera", "guest-qemu.log")
        with open(log, errors="replace") as f:
            text = f.read()
        first = text.splitlines()[0] if text else ""
        t.check(first.startswith("# tessera starts:") and "tcg" in first and
                "snapshot=on" in first, f"QEMU's log {log} starts with {first!r}")
        tessera.stop()
    finally:
        if tessera is not None:
            tessera.cleanup()
        shutil.rmtree(sock_dir, ignore_errors=True)


def main():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True, help="this test's directory")
    parser.add_argument("--project-build", required=True, help="meson build directory")
    parser.add_argument("--script", required=True, help="scripts/make-guest-image.sh")
    args = parser.parse_args()
    t.main(lambda: test(args))


if __name__ == "__main__":
    main()
