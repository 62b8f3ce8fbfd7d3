#!/usr/bin/env python3
"""Build the initramfs of the real-VM test tier (tests/vm).

The image holds the host's static busybox, /init (tests/vm/init.sh) and the
kernel modules a test guest needs, taken from a kernel tree unpacked by
scripts/install-vm-deps.sh, with their dependencies resolved from each
module's .modinfo. Compressed modules (.ko.xz, .ko.gz, .ko.zst — the
bookworm-backports kernels ship .ko.xz, which busybox modprobe does not
load) are decompressed and `depmod -b` indexes the copied tree.

Output: a newc cpio archive, gzip-compressed unless --no-compress. Nothing
is written outside the output path and a temporary staging directory.

    tests/vm/mkinitramfs.py --kernel 6.1 -o build-vm/initramfs-6.1.cpio.gz
    tests/vm/mkinitramfs.py --kernel-dir /path/to/unpacked -o out.cpio.gz \\
        --module vgem
"""

import argparse
import gzip
import lzma
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
INIT_SCRIPT = os.path.join(HERE, "init.sh")
DEFAULT_CACHE = "/var/cache/tessera-vm"

# Modules /init loads at boot: the virtio transport, the two 9p shares, an
# entropy source, and the GPU driver (which pulls in drm & co).
BOOT_MODULES = [
    "virtio_pci",
    "virtio_rng",
    "9pnet_virtio",
    "9p",
    "virtio_gpu",
]
# Copied as well, loaded only when a test asks (tessera.modules=...).
EXTRA_MODULES = [
    "vgem",
    "udmabuf",
    "virtio_console",
    "virtio_input",
]

MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.gz", ".ko.zst")


class InitramfsError(Exception):
    pass


def cache_dir():
    return os.environ.get("TESSERA_VM_CACHE", DEFAULT_CACHE)


def kernel_root(version):
    """Unpacked kernel tree for '6.1' or '6.12' in the cache."""
    return os.path.join(cache_dir(), "linux-" + version)


def kernel_release(root):
    """The single lib/modules/<kver> in an unpacked kernel tree."""
    mod_dir = os.path.join(root, "lib", "modules")
    try:
        kvers = sorted(d for d in os.listdir(mod_dir)
                       if os.path.isdir(os.path.join(mod_dir, d)))
    except OSError as e:
        raise InitramfsError(f"no kernel modules in {root}: {e}") from e
    if len(kvers) != 1:
        raise InitramfsError(f"expected one kernel in {mod_dir}, found {kvers}")
    return kvers[0]


def kernel_image(root):
    kver = kernel_release(root)
    path = os.path.join(root, "boot", "vmlinuz-" + kver)
    if not os.path.isfile(path):
        raise InitramfsError(f"no kernel image {path}")
    return path


def module_name(filename):
    base = os.path.basename(filename)
    for suffix in MODULE_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.replace("-", "_")


def read_module(path):
    """Raw ELF bytes of a possibly compressed module."""
    if path.endswith(".xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".gz"):
        with gzip.open(path) as f:
            return f.read()
    if path.endswith(".zst"):
        zstd = shutil.which("zstd")
        if not zstd:
            raise InitramfsError(f"{path}: need the zstd program to decompress")
        return subprocess.run([zstd, "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


def modinfo(elf, path):
    """key -> [values] from the .modinfo section of an ELF64 module."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise InitramfsError(f"{path}: not a little-endian ELF64 module")
    try:
        shoff, = struct.unpack_from("<Q", elf, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)

        def section(i):
            off = shoff + i * shentsize
            name, _type, _flags, _addr, sh_offset, size = \
                struct.unpack_from("<IIQQQQ", elf, off)
            return name, sh_offset, size

        _, str_off, str_size = section(shstrndx)
        names = elf[str_off:str_off + str_size]
        for i in range(shnum):
            name, off, size = section(i)
            end = names.find(b"\0", name)
            if names[name:end] == b".modinfo":
                info = {}
                for entry in elf[off:off + size].split(b"\0"):
                    key, sep, value = entry.partition(b"=")
                    if sep:
                        info.setdefault(key.decode(), []).append(
                            value.decode(errors="replace"))
                return info
    except struct.error as e:
        raise InitramfsError(f"{path}: truncated ELF: {e}") from e
    raise InitramfsError(f"{path}: no .modinfo section")


def module_deps(info):
    deps = []
    for value in info.get("depends", []):
        deps += [d for d in value.split(",") if d]
    # softdep=pre: a b post: c -- "pre" modules must be loaded first
    for value in info.get("softdep", []):
        words = value.split()
        pre = False
        for w in words:
            if w.endswith(":"):
                pre = w == "pre:"
            elif pre:
                deps.append(w.replace("-", "_"))
    return deps


class ModuleTree:
    def __init__(self, root):
        self.kver = kernel_release(root)
        self.base = os.path.join(root, "lib", "modules", self.kver)
        self.files = {}  # name -> path relative to self.base
        for dirpath, _dirs, files in os.walk(os.path.join(self.base, "kernel")):
            for f in files:
                if f.endswith(MODULE_SUFFIXES):
                    rel = os.path.relpath(os.path.join(dirpath, f), self.base)
                    self.files[module_name(f)] = rel
        self.builtin = set()
        try:
            with open(os.path.join(self.base, "modules.builtin")) as f:
                self.builtin = {module_name(line.strip()) for line in f
                                if line.strip()}
        except OSError:
            pass
        self.elf = {}  # name -> decompressed bytes

    def resolve(self, names, optional=False):
        """Modules to copy for names, dependencies first. Built-in modules
        are skipped; a missing module is an error unless optional."""
        order, seen = [], set()

        def visit(name, chain):
            name = name.replace("-", "_")
            if name in seen or name in self.builtin:
                return True
            if name not in self.files:
                if optional and not chain:
                    return False
                raise InitramfsError(
                    f"module {name} (needed by {' <- '.join(chain) or 'init'})"
                    f" not found in {self.base}")
            if name in chain:
                raise InitramfsError(f"module dependency loop: {chain + [name]}")
            path = os.path.join(self.base, self.files[name])
            elf = read_module(path)
            self.elf[name] = elf
            for dep in module_deps(modinfo(elf, path)):
                visit(dep, chain + [name])
            seen.add(name)
            order.append(name)
            return True

        for n in names:
            visit(n, [])
        return order

    def staged_path(self, name):
        rel = self.files[name]
        for suffix in (".xz", ".gz", ".zst"):
            if rel.endswith(suffix):
                rel = rel[: -len(suffix)]
        return rel


class CpioWriter:
    """newc ("070701") archive writer."""

    def __init__(self, out):
        self.out = out
        self.ino = 1
        self.written = 0

    def _write(self, data):
        self.out.write(data)
        self.written += len(data)

    def _pad(self):
        if self.written % 4:
            self._write(b"\0" * (4 - self.written % 4))

    def entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        self._write(b"070701" + b"".join(b"%08X" % v for v in fields))
        self._write(name_b)
        self._pad()
        self._write(data)
        self._pad()

    def add_tree(self, root, skip_top=()):
        """Everything under root, directories before their contents."""
        for dirpath, dirs, files in os.walk(root):
            if dirpath == root:
                dirs[:] = [d for d in dirs if d not in skip_top]
            dirs.sort()
            for name in dirs + sorted(files):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    self.entry(rel, st.st_mode, os.readlink(path).encode())
                elif stat.S_ISDIR(st.st_mode):
                    self.entry(rel, st.st_mode, nlink=2)
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        self.entry(rel, st.st_mode, f.read())

    def finish(self):
        self.entry("TRAILER!!!", 0)


def find_busybox():
    for path in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.isfile(path):
            return path
    raise InitramfsError("no busybox: install busybox-static "
                         "(scripts/install-vm-deps.sh)")


def check_static(path):
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF":
        raise InitramfsError(f"{path} is not an ELF binary")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", elf, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            raise InitramfsError(f"{path} is dynamically linked: install "
                                 "busybox-static")


def run_depmod(stage, kver):
    depmod = shutil.which("depmod") or next(
        (p for p in ("/usr/sbin/depmod", "/sbin/depmod") if os.path.exists(p)),
        None)
    cmd = [depmod] if depmod else [os.path.join(stage, "bin", "busybox"),
                                   "depmod"]
    subprocess.run(cmd + ["-b", stage, kver], check=True)


def build(kernel_dir, output, extra_modules=(), compress=True, busybox=None,
          quiet=False):
    """Build the initramfs for the unpacked kernel at kernel_dir into
    output. Returns a dict describing what went in."""
    busybox = busybox or find_busybox()
    check_static(busybox)
    tree = ModuleTree(kernel_dir)
    boot = tree.resolve(BOOT_MODULES)
    extra = tree.resolve(EXTRA_MODULES + list(extra_modules), optional=True)
    all_mods = boot + [m for m in extra if m not in boot]

    out_dir = os.path.dirname(os.path.abspath(output))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tessera-initramfs-") as stage:
        for d in ("bin", "dev", "etc", "proc", "sys", "host", "results",
                  "tmp", "run", "root"):
            os.mkdir(os.path.join(stage, d))
        shutil.copy(busybox, os.path.join(stage, "bin", "busybox"))
        os.chmod(os.path.join(stage, "bin", "busybox"), 0o755)
        applets = subprocess.run([busybox, "--list"], check=True, text=True,
                                 stdout=subprocess.PIPE).stdout.split()
        for applet in applets:
            if applet != "busybox" and "/" not in applet:
                os.symlink("busybox", os.path.join(stage, "bin", applet))
        os.symlink("bin", os.path.join(stage, "sbin"))
        shutil.copy(INIT_SCRIPT, os.path.join(stage, "init"))
        os.chmod(os.path.join(stage, "init"), 0o755)

        mod_base = os.path.join(stage, "lib", "modules", tree.kver)
        os.makedirs(mod_base)
        for name in all_mods:
            dest = os.path.join(mod_base, tree.staged_path(name))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(tree.elf[name])
        for f in ("modules.builtin", "modules.builtin.modinfo",
                  "modules.order"):
            src = os.path.join(tree.base, f)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(mod_base, f))
        run_depmod(stage, tree.kver)
        with open(os.path.join(stage, "etc", "tessera-modules"), "w") as f:
            f.write("".join(m + "\n" for m in boot))
        with open(os.path.join(stage, "etc", "tessera-kernel"), "w") as f:
            f.write(tree.kver + "\n")

        tmp_out = f"{output}.tmp{os.getpid()}"
        try:
            with open(tmp_out, "wb") as raw:
                if compress:
                    out = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6,
                                        mtime=0)
                else:
                    out = raw
                cpio = CpioWriter(out)
                # the kernel opens /dev/console before running /init
                cpio.entry("dev", stat.S_IFDIR | 0o755, nlink=2)
                cpio.entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
                cpio.add_tree(stage, skip_top={"dev"})
                cpio.finish()
                if compress:
                    out.close()
            os.replace(tmp_out, output)
        except BaseException:
            if os.path.exists(tmp_out):
                os.unlink(tmp_out)
            raise

    info = {
        "output": output,
        "kernel": tree.kver,
        "boot_modules": boot,
        "extra_modules": [m for m in extra if m not in boot],
        "size": os.path.getsize(output),
    }
    if not quiet:
        print(f"mkinitramfs: {output}: kernel {tree.kver}, "
              f"{len(all_mods)} modules, {info['size']} bytes")
        print(f"mkinitramfs: boot modules: {' '.join(boot)}")
        print(f"mkinitramfs: extra modules: {' '.join(info['extra_modules'])}")
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--kernel", choices=["6.1", "6.12"],
                     help="kernel from $TESSERA_VM_CACHE "
                     f"(default {DEFAULT_CACHE})")
    src.add_argument("--kernel-dir", help="an unpacked linux-image package")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--module", action="append", default=[],
                    help="copy this module too (repeatable)")
    ap.add_argument("--no-compress", action="store_true",
                    help="plain cpio instead of cpio.gz")
    ap.add_argument("--busybox", help="static busybox to use")
    args = ap.parse_args(argv)
    root = args.kernel_dir or kernel_root(args.kernel)
    try:
        build(root, args.output, args.module, not args.no_compress,
              args.busybox)
    except (InitramfsError, OSError, subprocess.CalledProcessError) as e:
        print(f"mkinitramfs: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
