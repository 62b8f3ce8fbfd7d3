"""Boot a throw-away test guest under QEMU (the real-VM test tier).

The guest is Debian's kernel (6.1, or 6.12 from bookworm-backports, both
unpacked by scripts/install-vm-deps.sh) with an initramfs built by
mkinitramfs.py. It sees the host root read-only over 9p and runs a shell
command chrooted into it; a private host directory is shared writable for
the command's results. QEMU always runs under TCG (a KVM guest stalls on
the development machines) with guest RAM in a shared memfd, as vhost-user
backends such as tessera-vmd need.

Typical use from a test (a script in tests/vm, which Python puts first on
sys.path; elsewhere, put tests/vm on PYTHONPATH):

    import tessera_vm
    try:
        res = tessera_vm.run_guest("ls /sys/class/drm > $TESSERA_VM_RESULTS/x",
                                   kernel="6.1", build_dir=builddir,
                                   qemu_args=["-device", "virtio-gpu-pci"])
    except tessera_vm.VmSkip as e:
        print("SKIP:", e); sys.exit(77)
    res.status, res.output, res.files["x"], res.boot_time ...

Several guests at once: Guest(...).start() each, then .wait() each.

A vhost-user GPU backend (tessera-vmd): start it listening on a UNIX
socket first (QEMU connects as the client when it starts and waits for the
vhost-user handshake), then pass

    qemu_args=["-chardev", f"socket,id=gpu,path={sock}",
               "-device", "vhost-user-gpu-pci,chardev=gpu"]

with memfd=True (the default: vhost-user needs guest RAM in shared fds).
Checked with QEMU's own vhost-user-gpu backend: the guest's virtio_gpu
binds exactly as with the built-in virtio-gpu-pci.

The command runs as root in the guest with /bin/sh (the host's), cwd and
$TESSERA_VM_RESULTS = the results directory (the same path as on the host),
$TESSERA_VM_KERNEL = the guest kernel release, XDG_RUNTIME_DIR=/run/user/0.
"""

import dataclasses
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import mkinitramfs  # next to this file, so on sys.path with it

MIN_QEMU = (8, 0)
KERNELS = ("6.1", "6.12")
MARKER = "TESSERA-VM: "
MAX_RESULT_BYTES = 16 << 20


# The start of a guest command that a test steps from the host: the
# runtime directory, fail MESSAGE (exit 1 with GUEST-FAIL: MESSAGE) and
# wait_file FILE, the host's go-ahead (a file it creates in the results
# directory) within $WAIT_SECONDS (default 180) seconds.
SHELL_HELPERS = r"""
export XDG_RUNTIME_DIR=/run/user/0
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fail() { echo "GUEST-FAIL: $*"; exit 1; }
wait_file() {
	n=0
	while [ ! -e "$1" ]; do
		[ $n -lt $((${WAIT_SECONDS:-180} * 10)) ] ||
			fail "no $1 from the host within ${WAIT_SECONDS:-180} s"
		sleep 0.1
		n=$((n + 1))
	done
}
"""


class VmSkip(Exception):
    """The VM tier cannot run here (no QEMU >= 8, no kernel images...)."""


class VmError(Exception):
    """Setting up the guest failed."""


def qemu_binary():
    """(path, (major, minor, micro)) of a usable qemu-system-x86_64."""
    path = os.environ.get("TESSERA_QEMU") or shutil.which("qemu-system-x86_64")
    if not path:
        raise VmSkip("qemu-system-x86_64 not found: run "
                     "scripts/install-vm-deps.sh (QEMU >= 8 from "
                     "bookworm-backports)")
    try:
        out = subprocess.run([path, "--version"], check=True, text=True,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise VmSkip(f"{path} --version failed: {e}") from e
    m = re.search(r"version (\d+)\.(\d+)(?:\.(\d+))?", out)
    if not m:
        raise VmSkip(f"cannot parse the version of {path}: {out.strip()!r}")
    version = tuple(int(x or 0) for x in m.groups())
    if version[:2] < MIN_QEMU:
        raise VmSkip(f"{path} is QEMU {'.'.join(map(str, version))}; the VM "
                     f"tier needs >= {MIN_QEMU[0]} (vhost-user without KVM): "
                     "run scripts/install-vm-deps.sh")
    return path, version


def require(kernel, skip):
    """Calls skip(reason) unless QEMU >= 8 and the kernel are here (a test
    passes tessera_test.skip)."""
    try:
        qemu_binary()
        kernel_paths(kernel)
    except VmSkip as e:
        skip(str(e))


def test_main(run, test):
    """The main() of a test that takes --kernel and --build-dir: parses them
    and calls run(lambda: test(args)) (run = tessera_test.main)."""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", default="6.1")
    parser.add_argument("--build-dir", required=True)
    args = parser.parse_args()
    run(lambda: test(args))


# Shell functions for a guest command steered by the host through files in
# the results directory: fail REASON (the verdict), wait_file NAME (the
# host's go-ahead, at most 300 s).
GUEST_HELPERS = r"""
export XDG_RUNTIME_DIR=/run/user/0
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fail() { echo "GUEST-FAIL: $*"; exit 1; }
wait_file() {
	n=0
	while [ ! -e "$1" ]; do
		[ $n -lt 3000 ] || fail "no $1 from the host within 300 s"
		sleep 0.1
		n=$((n + 1))
	done
}
"""


def client_color(color):
    """What tests/agent/guest-client draws with --color COLOR (RRGGBB) until
    its last frame: the colour halved."""
    return "%06x" % ((int(color, 16) >> 1) & 0x7f7f7f)


def kernel_paths(kernel, pvh=True):
    """(unpacked root, kernel image) of kernel '6.1' or '6.12'. With pvh,
    the uncompressed ELF vmlinux when install-vm-deps.sh made one: QEMU
    boots it directly (PVH entry), skipping the bzImage decompressor, which
    takes seconds under TCG."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, not {kernel!r}")
    root = mkinitramfs.kernel_root(kernel)
    try:
        image = mkinitramfs.kernel_image(root)
    except mkinitramfs.InitramfsError as e:
        raise VmSkip(f"no {kernel} guest kernel in {mkinitramfs.cache_dir()} "
                     f"({e}): run scripts/install-vm-deps.sh") from e
    elf = os.path.join(os.path.dirname(image),
                       "vmlinux-" + os.path.basename(image)[len("vmlinuz-"):])
    if pvh and os.path.isfile(elf):
        return root, elf
    return root, image


def _stamp(kernel_root, modules, compress):
    h = hashlib.sha256()
    for f in (mkinitramfs.__file__, mkinitramfs.INIT_SCRIPT):
        with open(f, "rb") as fh:
            h.update(fh.read())
    h.update(os.path.realpath(kernel_root).encode())
    busybox = mkinitramfs.find_busybox()
    st = os.stat(busybox)
    h.update(f"{busybox}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(repr((sorted(modules), compress)).encode())
    return h.hexdigest()


def initramfs_for(kernel, build_dir, modules=(), compress=True):
    """Path of the initramfs for kernel in build_dir, (re)built when its
    inputs changed."""
    root, _ = kernel_paths(kernel)
    try:
        mkinitramfs.check_static(mkinitramfs.find_busybox())
        stamp = _stamp(root, modules, compress)
    except mkinitramfs.InitramfsError as e:
        raise VmSkip(str(e)) from e
    suffix = "-" + "-".join(sorted(modules)) if modules else ""
    out = os.path.join(build_dir, f"initramfs-{kernel}{suffix}.cpio"
                       + (".gz" if compress else ""))
    stamp_file = out + ".stamp"
    try:
        with open(stamp_file) as f:
            if f.read().strip() == stamp and os.path.exists(out):
                return out
    except OSError:
        pass
    try:
        mkinitramfs.build(root, out, modules, compress, quiet=True)
    except mkinitramfs.InitramfsError as e:
        raise VmError(f"building {out}: {e}") from e
    with open(stamp_file, "w") as f:
        f.write(stamp + "\n")
    return out


@dataclasses.dataclass
class GuestResult:
    status: int | None          # exit status of the guest command
    output: str                 # its stdout+stderr (results/output)
    files: dict                 # name -> bytes, regular files it left in
                                # the results directory
    serial: str                 # whole console log
    timed_out: bool
    qemu_status: int | None     # QEMU's exit status (None if killed)
    qemu_stderr: str
    boot_time: float | None     # guest uptime when /init started, s
    host_init_time: float | None  # host: QEMU spawn -> /init marker, s
    cmd_time: float | None      # guest: command run time, s
    total_time: float           # host: QEMU spawn -> exit, s
    markers: list               # [(host seconds, marker text)]
    init_error: str | None      # what /init died of, if anything

    @property
    def ok(self):
        return self.status == 0 and not self.timed_out

    def summary(self):
        def f(v):
            return "-" if v is None else f"{v:.2f}s"
        return (f"boot-to-init {f(self.boot_time)} (guest uptime), "
                f"spawn-to-init {f(self.host_init_time)} (host), "
                f"command {f(self.cmd_time)}, total {f(self.total_time)}, "
                f"status {self.status}"
                + (", TIMED OUT" if self.timed_out else ""))


class Guest:
    """One QEMU guest. start() boots it in the background; wait() collects
    the result; kill() stops it. Use as a context manager to be sure the
    guest is gone and its temporary files removed."""

    def __init__(self, command, *, kernel="6.1", build_dir=None,
                 qemu_args=(), memory="1G", memfd=True, machine="pc",
                 timeout=120.0, modules=(), append="", files_in=None,
                 log_path=None, echo=False, verbose_kernel=False,
                 keep=False, pvh=True):
        self.command = command
        self.kernel = kernel
        self.build_dir = build_dir or os.path.join(
            tempfile.gettempdir(), f"tessera-vm-build-{os.getuid()}")
        self.qemu_args = list(qemu_args)
        self.memory = memory
        self.memfd = memfd
        self.machine = machine
        self.timeout = timeout
        self.modules = list(modules)
        self.append = append
        self.files_in = files_in or {}
        self.log_path = log_path
        self.echo = echo
        self.verbose_kernel = verbose_kernel
        self.keep = keep
        self.pvh = pvh
        self.proc = None
        self.workdir = None
        self.results_dir = None
        self._lines = []
        self._reader = None
        self._t0 = None
        self._result = None

    # -- setup ------------------------------------------------------------

    def kept_dirs(self):
        """The project tree and the build directory, when they live under
        /tmp or /run (which the guest covers with its own tmpfs): the guest
        must still see them to run what was built."""
        dirs = []
        source = os.path.realpath(os.path.join(os.path.dirname(
            os.path.abspath(__file__)), "..", ".."))
        candidates = [source]
        if self.build_dir:
            candidates.append(os.path.realpath(self.build_dir))
        for path in candidates:
            if (path.startswith("/tmp/") or path.startswith("/run/")) and \
                    not re.search(r"[\s,]", path) and \
                    not any(path == d or path.startswith(d + "/") for d in dirs):
                dirs.append(path)
        return dirs

    def kernel_append(self):
        """The guest kernel's command line, as a list."""
        append = ["console=ttyS0", "panic=-1",
                  f"tessera.results={self.results_dir}"]
        append += ["loglevel=7"] if self.verbose_kernel else ["quiet"]
        if self.modules:
            append.append("tessera.modules=" + ",".join(self.modules))
        keep = self.kept_dirs()
        if keep:
            append.append("tessera.keep=" + ",".join(keep))
        if self.append:
            append.append(self.append)
        return append

    def shares(self):
        """QEMU arguments of the two 9p shares the guest's /init mounts."""
        return ["-virtfs", "local,path=/,mount_tag=hostroot,"
                "security_model=none,readonly=on,multidevs=remap",
                "-virtfs", f"local,path={self.results_dir},mount_tag=results,"
                "security_model=none,multidevs=remap"]

    def qemu_command(self, qemu, vmlinuz, initrd):
        append = self.kernel_append()
        machine = self.machine
        cmd = [qemu, "-accel", "tcg", "-m", self.memory, "-smp", "1",
               "-nodefaults", "-no-user-config", "-display", "none",
               "-serial", "stdio", "-no-reboot",
               "-kernel", vmlinuz, "-initrd", initrd,
               "-append", " ".join(append)] + self.shares() + [
               "-device", "virtio-rng-pci"]
        if self.memfd:
            cmd += ["-object", f"memory-backend-memfd,id=mem,"
                    f"size={self.memory},share=on"]
            machine += ",memory-backend=mem"
        cmd += ["-machine", machine]
        return cmd + self.qemu_args

    def tessera_keys(self):
        """For a guest that tessera starts itself: prepares the guest as
        start() does (initramfs, results directory, command) and returns
        the keys of its [vm NAME] section of tessera.ini (a dict: qemu,
        kernel, initrd, append, memory, accel, qemu-args). The results land
        in self.results_dir; read them with results(); cleanup() removes
        them."""
        qemu, vmlinuz, initrd = self._prepare()
        # tessera.ini lines are short: the 9p shares without the options
        # that only silence a warning
        args = [a.replace(",multidevs=remap", "") for a in self.shares()]
        args += ["-no-reboot"] + self.qemu_args
        return {"qemu": qemu, "kernel": vmlinuz, "initrd": initrd,
                "append": " ".join(self.kernel_append()),
                "memory": self.memory, "accel": "tcg",
                "qemu-args": " ".join(_shell_quote(a) for a in args)}

    def result_file(self, name):
        """The bytes of a file the guest command left in the results
        directory, or None."""
        try:
            with open(os.path.join(self.results_dir, name), "rb") as f:
                return f.read(MAX_RESULT_BYTES)
        except OSError:
            return None

    def cleanup(self):
        self._cleanup()

    def _prepare(self):
        """(qemu, kernel image, initramfs) with the results directory and
        the command written."""
        qemu, _ = qemu_binary()
        _, vmlinuz = kernel_paths(self.kernel, self.pvh)
        os.makedirs(self.build_dir, exist_ok=True)
        extra = [m for m in self.modules
                 if m not in mkinitramfs.EXTRA_MODULES]
        initrd = initramfs_for(self.kernel, self.build_dir, extra)

        self.workdir = tempfile.mkdtemp(prefix="tessera-vm-")
        try:
            self.results_dir = os.path.join(self.workdir, "results")
            os.mkdir(self.results_dir)
            if re.search(r"\s", self.results_dir):
                raise VmError(f"temporary path {self.results_dir!r} has "
                              "blanks; set TMPDIR")
            cmd = self.command
            if not isinstance(cmd, str):
                cmd = " ".join(_shell_quote(a) for a in cmd)
            with open(os.path.join(self.results_dir, "cmd.sh"), "w") as f:
                f.write(cmd + "\n")
            for name, data in self.files_in.items():
                if "/" in name or name in ("cmd.sh", "output", "status"):
                    raise VmError(f"bad input file name {name!r}")
                mode = "wb" if isinstance(data, bytes) else "w"
                with open(os.path.join(self.results_dir, name), mode) as f:
                    f.write(data)
        except BaseException:
            self._cleanup()
            raise
        return qemu, vmlinuz, initrd

    def start(self):
        qemu, vmlinuz, initrd = self._prepare()
        try:
            argv = self.qemu_command(qemu, vmlinuz, initrd)
            self._log = open(self.log_path or
                             os.path.join(self.workdir, "serial.log"), "w")
            self._log.write("# " + " ".join(_shell_quote(a) for a in argv)
                            + "\n")
            self._log.flush()
            self._stderr = open(os.path.join(self.workdir, "qemu.stderr"),
                                "w+")
            self._t0 = time.monotonic()
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=self._stderr, start_new_session=True)
        except BaseException:
            self._cleanup()
            raise
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            t = time.monotonic() - self._t0
            line = raw.decode(errors="replace").rstrip("\r\n")
            self._lines.append((t, line))
            self._log.write(line + "\n")
            self._log.flush()
            if self.echo:
                print(line, flush=True)

    # -- teardown ---------------------------------------------------------

    def kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def wait(self):
        """Wait for the guest to power off (or the timeout) and return a
        GuestResult. Always stops QEMU and removes temporary files
        (unless keep)."""
        if self._result:
            return self._result
        if not self.proc:
            raise VmError("guest not started")
        timed_out = False
        try:
            remaining = self.timeout - (time.monotonic() - self._t0)
            try:
                self.proc.wait(timeout=max(remaining, 0))
            except subprocess.TimeoutExpired:
                timed_out = True
                self.kill()
            total = time.monotonic() - self._t0
            self._reader.join(timeout=10)
            self._result = self._collect(timed_out, total)
        finally:
            self._cleanup()
        return self._result

    def _collect(self, timed_out, total):
        markers = [(t, line[line.index(MARKER) + len(MARKER):])
                   for t, line in self._lines if MARKER in line]
        boot = host_init = cmd_start = cmd_end = None
        for t, text in markers:
            words = text.split()
            if text.startswith("init up ") and len(words) >= 3:
                boot, host_init = _float(words[2]), t
            elif text.startswith("cmd start ") and len(words) >= 3:
                cmd_start = _float(words[2])
            elif text.startswith("cmd exit ") and len(words) >= 4:
                cmd_end = _float(words[3])
        files = {}
        budget = MAX_RESULT_BYTES
        # the smallest first: the status and the logs, not a large input
        # the host put there (a video clip) eat the budget
        names = [n for n in os.listdir(self.results_dir)
                 if n != "cmd.sh" and os.path.isfile(os.path.join(self.results_dir, n))]
        for name in sorted(names, key=lambda n: (os.path.getsize(
                os.path.join(self.results_dir, n)), n)):
            path = os.path.join(self.results_dir, name)
            with open(path, "rb") as f:
                data = f.read(budget)
            budget -= len(data)
            files[name] = data
        status = None
        if "status" in files:
            try:
                status = int(files["status"].decode().strip())
            except ValueError:
                pass
        self._stderr.seek(0)
        init_error = files.get("init-error")
        return GuestResult(
            status=status,
            output=files.get("output", b"").decode(errors="replace"),
            files=files,
            serial="\n".join(line for _, line in self._lines),
            timed_out=timed_out,
            qemu_status=None if timed_out else self.proc.returncode,
            qemu_stderr=self._stderr.read(),
            boot_time=boot,
            host_init_time=host_init,
            cmd_time=(cmd_end - cmd_start
                      if cmd_start is not None and cmd_end is not None
                      else None),
            total_time=total,
            markers=markers,
            init_error=init_error.decode(errors="replace").strip()
            if init_error else None,
        )

    def _cleanup(self):
        self.kill()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        for attr in ("_log", "_stderr"):
            f = getattr(self, attr, None)
            if f:
                f.close()
                setattr(self, attr, None)
        if self.workdir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc and not self._result:
            self.kill()
            self._cleanup()


def run_guest(command, **kwargs):
    """Boot a guest, run command (a shell string or an argv list) in it and
    return a GuestResult. Keyword arguments: see Guest. Raises VmSkip when
    the tier cannot run here."""
    with Guest(command, **kwargs) as g:
        g.start()
        return g.wait()


def _float(s):
    try:
        return float(s)
    except ValueError:
        return None


def _shell_quote(s):
    if re.fullmatch(r"[\w@%+=:,./-]+", s):
        return s
    return "'" + s.replace("'", "'\"'\"'") + "'"
