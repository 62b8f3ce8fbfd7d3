#!/usr/bin/env python3
"""vm-udmabuf: guest buffers through real udmabufs (the real-VM tier).

The bookworm-backports 6.12 guest kernel has /dev/udmabuf. Inside the
guest (host root over 9p, our build tree at its host path) run tessera
headless, the real tessera-vmd it starts for a [vm NAME] section, and
udmabuf-frontend (tests/dmabuf) playing VMM, guest driver and agent on
vmd's socket with guest RAM in a sealed memfd. vmd must turn the window
buffer into a udmabuf over the guest RAM memfd and hand it to tessera's
linux-dmabuf (CPU import of a real dmabuf, DMA_BUF_IOCTL_SYNC around
reads); grim takes a screenshot. On the host: the pixels are the
frontend's bands, vmd logged the udmabuf path and 0 bytes copied, tessera
imported a dmabuf (not a memfd). Exits 77 when QEMU >= 8 or the 6.12 kernel
are missing.
"""

import argparse
import os
import sys
import tempfile

sys.dont_write_bytecode = True
import tessera_test as t  # noqa: E402
import tessera_vm  # noqa: E402

VM = "udm"
FRAME = "7b1fa2"
WIDTH, HEIGHT = 200, 120

GUEST = r"""
fail() { echo "GUEST-FAIL: $*"; exit 1; }
[ -c /dev/udmabuf ] || fail "no /dev/udmabuf in the guest"
R=$TESSERA_VM_RESULTS
export XDG_RUNTIME_DIR=/run/user/0
export WLR_BACKENDS=headless WLR_RENDERER=pixman TESSERA_VMD="$VMD"
cat > /tmp/tessera.ini <<INI
[vm udm]
color = #7b1fa2
vhost-user = /tmp/udm.sock
INI
"$TESSERA" -v --backend headless --size 640x480 --config /tmp/tessera.ini \
	> /tmp/tessera.out 2> "$R/tessera.log" &
tpid=$!
n=0
while ! grep -q WAYLAND_DISPLAY= /tmp/tessera.out 2>/dev/null; do
	sleep 0.2; n=$((n + 1)); [ $n -lt 300 ] || fail "tessera did not start"
done
export WAYLAND_DISPLAY=$(sed -n 's/^WAYLAND_DISPLAY=//p' /tmp/tessera.out)
n=0
while [ ! -S /tmp/udm.sock ]; do
	sleep 0.2; n=$((n + 1)); [ $n -lt 300 ] || fail "vmd's socket did not appear"
done
"$FRONTEND" /tmp/udm.sock /tmp > "$R/frontend.log" 2>&1 &
fpid=$!
n=0
while [ ! -e /tmp/mapped ]; do
	kill -0 $fpid 2>/dev/null || fail "udmabuf-frontend exited early"
	sleep 0.2; n=$((n + 1)); [ $n -lt 600 ] || fail "the window was not mapped"
done
sleep 1
grim "$R/shot.png" || fail "grim failed"
vmdpid=$(pgrep -f "tessera-vmd.*/tmp/udm.sock" | head -n 1)
[ -n "$vmdpid" ] && kill -USR1 "$vmdpid"
sleep 0.5
touch /tmp/done
n=0
while [ ! -e /tmp/finished ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
kill $tpid
wait $tpid
echo "tessera exit $?" > "$R/tessera.status"
echo ok > "$R/marker"
"""


def colour(x, y):
    r = 0xc0 if x < WIDTH // 2 else 0x30
    return "%02x%02x%02x" % (r, 20 + 40 * (y // 20), 0x60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--timeout", type=float, default=150)
    args = ap.parse_args()
    env = {name: t.program(name) for name in
           ("TESSERA", "TESSERA_VMD", "TESSERA_PNG_PROBE", "UDMABUF_FRONTEND")}
    t.host_program("grim")
    cmd = (f"TESSERA={env['TESSERA']}\nVMD={env['TESSERA_VMD']}\n"
           f"FRONTEND={env['UDMABUF_FRONTEND']}\n" + GUEST)
    try:
        res = tessera_vm.run_guest(cmd, kernel="6.12", build_dir=args.build_dir,
                                   timeout=args.timeout)
    except tessera_vm.VmSkip as e:
        t.skip(str(e))
    log = res.files.get("tessera.log", b"").decode(errors="replace")
    print(f"vm-udmabuf: {res.summary()}")

    def dump():
        print("--- guest output\n" + res.output[-4000:])
        print("--- tessera + vmd log (guest)\n" + log[-8000:])
        print("--- frontend\n" + res.files.get("frontend.log", b"").decode(errors="replace"))

    try:
        t.check(not res.timed_out, f"guest timed out after {args.timeout:.0f} s")
        t.check(res.status == 0 and b"ok" in res.files.get("marker", b""),
                f"guest command failed (status {res.status})")
        shot = res.files.get("shot.png")
        t.check(shot is not None, "no screenshot came back")
        with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as f:
            f.write(shot)
            path = f.name
        try:
            png = t.Png(path)
            box = png.bbox(colour(0, 0))
            t.check(box is not None, "the window's pixels are not on screen")
            ox, oy = box[0], box[1]
            points, expected = [], []
            for y in range(0, HEIGHT, 10):
                for x in (0, WIDTH // 2 - 1, WIDTH // 2, WIDTH - 1):
                    points.append((ox + x, oy + y))
                    expected.append(colour(x, y))
            got = png.pixels(points)
            bad = [(p, e, g) for p, e, g in zip(points, expected, got) if e != g]
            t.check(not bad, f"{len(bad)} wrong pixels, first {bad[:3]}")
            t.check(png.pixel(ox - 1, oy + 40) == FRAME, "no VM frame left of the window")
        finally:
            os.unlink(path)
        t.check("buffers go to the compositor as udmabufs through linux-dmabuf" in log,
                "vmd did not log the udmabuf path")
        t.check("linux-dmabuf: buffer 200x120 format 0x34325258 from a dmabuf" in log,
                "tessera did not import a real dmabuf")
        stats = [line for line in log.splitlines() if "bytes copied" in line
                 and f"vm '{VM}'" in line]
        t.check(stats and all("bytes copied 0," in line for line in stats),
                f"vmd copied bytes: {stats}")
        for line in stats[-1:]:
            print(f"vm-udmabuf: vmd counters: {line.strip()}")
        t.check(b"tessera exit 0" in res.files.get("tessera.status", b""),
                f"tessera exit: {res.files.get('tessera.status')}")
    except AssertionError:
        dump()
        raise


t.main(main)
