#!/usr/bin/env python3
"""Boot a test guest under QEMU (TCG) and run one command in it.

    tests/vm/run-guest.py [--kernel 6.1|6.12] [options] [--] COMMAND...

COMMAND runs under /bin/sh in the guest, chrooted into the host root
(read-only 9p) with $TESSERA_VM_RESULTS a writable directory shared with
the host. Prints the guest console, the boot times and the command's exit
status; exits with that status (77 when the VM tier cannot run here, 124 on
timeout). Examples:

    tests/vm/run-guest.py -- 'ls -l /sys/class/drm; dmesg | grep drm'
    tests/vm/run-guest.py --kernel 6.12 --gpu -- ls -l /dev/udmabuf
    tests/vm/run-guest.py --qemu-arg=-chardev \\
        --qemu-arg=socket,id=gpu,path=/tmp/vmd.sock \\
        --qemu-arg=-device --qemu-arg=vhost-user-gpu-pci,chardev=gpu -- true

The library behind it is tests/vm/tessera_vm.py (run_guest(), Guest).
"""

import argparse
import shlex
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import tessera_vm  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--kernel", choices=tessera_vm.KERNELS, default="6.1")
    ap.add_argument("--memory", default="1G", help="guest RAM (default 1G)")
    ap.add_argument("--no-memfd", action="store_true",
                    help="plain guest RAM instead of a shared memfd backend")
    ap.add_argument("--gpu", action="store_true",
                    help="add QEMU's built-in virtio-gpu-pci device")
    ap.add_argument("--qemu-arg", action="append", default=[],
                    metavar="ARG", help="extra QEMU argument (repeatable)")
    ap.add_argument("--module", action="append", default=[],
                    help="also load this guest module (repeatable)")
    ap.add_argument("--append", default="", help="extra kernel arguments")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="kill the guest after this many seconds")
    ap.add_argument("--build-dir", help="where to cache the initramfs")
    ap.add_argument("--log", help="write the console log here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (results, log)")
    ap.add_argument("--verbose-kernel", action="store_true",
                    help="kernel messages on the console (slower)")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="do not echo the console")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args(argv)

    qemu_args = list(args.qemu_arg)
    if args.gpu:
        qemu_args += ["-device", "virtio-gpu-pci"]
    command = (args.command[0] if len(args.command) == 1
               else shlex.join(args.command))
    guest = tessera_vm.Guest(
        command, kernel=args.kernel, build_dir=args.build_dir,
        qemu_args=qemu_args, memory=args.memory, memfd=not args.no_memfd,
        timeout=args.timeout, modules=args.module, append=args.append,
        log_path=args.log, echo=not args.quiet,
        verbose_kernel=args.verbose_kernel, keep=args.keep)
    try:
        with guest:
            guest.start()
            res = guest.wait()
    except tessera_vm.VmSkip as e:
        print(f"run-guest: cannot run: {e}", file=sys.stderr)
        return 77
    except tessera_vm.VmError as e:
        print(f"run-guest: error: {e}", file=sys.stderr)
        return 1

    if args.quiet:
        sys.stdout.write(res.output)
    if res.qemu_stderr.strip():
        print("run-guest: qemu stderr:\n" + res.qemu_stderr.rstrip(),
              file=sys.stderr)
    if res.init_error:
        print(f"run-guest: guest init failed: {res.init_error}",
              file=sys.stderr)
    if args.keep:
        print(f"run-guest: kept {guest.workdir}")
    print(f"run-guest: kernel {args.kernel}: {res.summary()}")
    if res.timed_out:
        return 124
    if res.status is None:
        print("run-guest: the command did not complete", file=sys.stderr)
        return 1
    return res.status


if __name__ == "__main__":
    sys.exit(main())
