#!/usr/bin/env python3
"""vm-boot / vm-boot-612: boot a Debian guest kernel under QEMU (TCG) with
QEMU's built-in virtio-gpu-pci device and check, inside the guest, that the
virtio_gpu DRM driver bound to it (and with --udmabuf that /dev/udmabuf
exists, as in the bookworm-backports 6.12 kernel). Exits 77 with a reason
when QEMU >= 8 or the kernel images are missing (scripts/install-vm-deps.sh).
"""

import argparse
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import tessera_vm  # noqa: E402

GUEST_CHECK = r"""
fail() { echo "GUEST-FAIL: $*"; exit 1; }
echo "kernel: $(uname -r)"
echo "--- /sys/class/drm"
ls /sys/class/drm
[ -e /sys/class/drm/card0 ] || fail "no /sys/class/drm/card0"
# card0's device is the PCI function (virtio-pci); the virtio device on it
# is the one the DRM driver binds.
dev=$(readlink -f /sys/class/drm/card0/device)
echo "card0 device: $dev ($(basename "$(readlink -f "$dev/driver")"))"
driver=
for v in "$dev"/virtio*; do
	[ -e "$v/driver" ] && driver=$(basename "$(readlink -f "$v/driver")")
done
echo "card0 virtio driver: $driver"
[ "$driver" = virtio_gpu ] || fail "card0's virtio device is driven by '$driver', not virtio_gpu"
[ -c /dev/dri/card0 ] || fail "no /dev/dri/card0"
[ -c /dev/dri/renderD128 ] || fail "no /dev/dri/renderD128"
echo "--- dmesg [drm]"
dmesg | grep -F '[drm]' | tee drm.log
grep -q 'Initialized virtio_gpu' drm.log ||
	fail "dmesg has no 'Initialized virtio_gpu' line"
if [ "$CHECK_UDMABUF" = 1 ]; then
	echo "--- udmabuf"
	ls -l /dev/udmabuf || fail "no /dev/udmabuf"
	[ -c /dev/udmabuf ] || fail "/dev/udmabuf is not a character device"
fi
echo "$(uname -r) virtio_gpu ok" > marker
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", choices=tessera_vm.KERNELS, required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--udmabuf", action="store_true")
    ap.add_argument("--timeout", type=float, default=150)
    args = ap.parse_args()

    cmd = f"CHECK_UDMABUF={int(args.udmabuf)}\n" + GUEST_CHECK
    try:
        res = tessera_vm.run_guest(
            cmd, kernel=args.kernel, build_dir=args.build_dir,
            qemu_args=["-device", "virtio-gpu-pci"], timeout=args.timeout)
    except tessera_vm.VmSkip as e:
        print(f"SKIP: {e}")
        return 77

    print(res.output, end="")
    print(f"vm-boot: kernel {args.kernel}: {res.summary()}")
    errors = []
    if res.timed_out:
        errors.append(f"guest timed out after {args.timeout:.0f}s")
    if res.init_error:
        errors.append(f"guest /init failed: {res.init_error}")
    if res.status != 0:
        errors.append(f"guest command exit status {res.status}")
    if res.boot_time is None:
        errors.append("no 'init up' marker on the console")
    marker = res.files.get("marker", b"").decode(errors="replace")
    if "virtio_gpu ok" not in marker:
        errors.append(f"marker file missing or wrong: {marker!r}")
    if "[drm]" not in res.files.get("drm.log", b"").decode(errors="replace"):
        errors.append("no [drm] lines came back from the guest")
    if errors:
        print("--- console\n" + res.serial[-6000:])
        if res.qemu_stderr.strip():
            print("--- qemu stderr\n" + res.qemu_stderr)
        for e in errors:
            print(f"FAIL: {e}")
        return 1
    print(f"PASS: {marker.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
