#!/usr/bin/env python3
"""Usage: test_packages.py SOURCE_ROOT VERSION

The Debian packages, built, checked, installed and run:

1. scripts/build-packages.sh builds tessera_VERSION_*.deb and
   tessera-agent_VERSION_*.deb (dpkg-buildpackage, out of tree: git sees
   the same work tree before and after, ignored files included);
2. lintian reports no error on the build (its warnings are printed);
3. a fresh Debian chroot (mmdebstrap of this machine's release from this
   machine's apt sources, holding only what the packages depend on, not
   what they recommend: the demo below needs no more; cached as a tarball,
   rebuilt when that list changes; the .debs it downloads are kept with
   those of scripts/make-guest-image.sh, so neither fetches one twice)
   takes both packages with dpkg -i, without anything else to fetch;
4. there the installed programs run the demo: tessera (headless), the
   tessera-vmd it starts, tessera-agent on the vhost-user loopback with a
   guest tessera-simple-shm, and a host tessera-simple-shm; the screenshot
   shows the guest window framed in its VM's colour and the host window;
   tessera, its daemon and the agent exit 0 with clean logs (the harness's
   stop()); the agent's user unit is enabled for every user.

Runs as root (mmdebstrap, chroot, a private mount namespace for /proc in
the chroot). Prints the time of each step. The chroot cache is
$XDG_CACHE_HOME/tessera/packaging (~/.cache/tessera/packaging); the
.debs are in $TESSERA_VM_CACHE/guest-apt (/var/cache/tessera-vm/guest-apt),
under the lock the guest image's build holds (guest-image.lock there).
"""

import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import tessera_test as t

NS_MARK = "TESSERA_PACKAGING_NS"
VM_COLOR = "cc3333"      # agent_test.VM_COLOR, the VM of the loopback
GUEST_COLOR = "2e7d32"
HOST_COLOR = "1565c0"


def step(what, start):
    print(f"time: {what}: {time.monotonic() - start:.1f} s", flush=True)


def run(argv, what, timeout=1800, **kwargs):
    res = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                         timeout=timeout, **kwargs)
    t.check(res.returncode == 0,
            f"{what}: {argv[0]} exited {res.returncode}:\n{res.stdout[-4000:]}{res.stderr[-4000:]}")
    return res


def enter_namespace():
    """Re-runs this test in a private mount namespace: what it mounts in the
    chroot goes away with it, whatever happens."""
    if os.environ.get(NS_MARK) == "1":
        return
    unshare = t.host_program("unshare")
    env = dict(os.environ, **{NS_MARK: "1"})
    os.execve(unshare, [unshare, "--mount", "--propagation", "private",
                        sys.executable, *sys.argv], env)


def tree_state(source_root):
    """git's view of the work tree, ignored files included (None when it
    is not a git checkout)."""
    res = subprocess.run(["git", "-C", source_root, "status", "--porcelain", "--ignored"],
                         capture_output=True, text=True)
    return res.stdout if res.returncode == 0 else None


def build(source_root, out, version):
    start = time.monotonic()
    before = tree_state(source_root)
    res = run([os.path.join(source_root, "scripts", "build-packages.sh"), out],
              "scripts/build-packages.sh", timeout=2000)
    print(res.stdout, flush=True)
    step("build-packages.sh", start)
    after = tree_state(source_root)
    t.check(before == after, "build-packages.sh changed the work tree:\n"
            f"before:\n{before}after:\n{after}")
    debs = {}
    for name in ("tessera", "tessera-agent"):
        found = glob.glob(os.path.join(out, f"{name}_{version}_*.deb"))
        t.check(len(found) == 1, f"{name}_{version}_*.deb: found {found} in {out}")
        debs[name] = found[0]
    changes = glob.glob(os.path.join(out, f"tessera_{version}_*.changes"))
    t.check(len(changes) == 1, f"tessera_{version}_*.changes: found {changes}")
    return debs, changes[0]


def check_contents(debs):
    """Each program in the package of its side (dpkg-deb -c)."""
    want = {
        "tessera": ["./usr/bin/tessera", "./usr/bin/tessera-vmd", "./usr/bin/tesseractl",
                    "./usr/bin/tessera-simple-shm", "./usr/bin/tessera-frame-probe",
                    "./usr/bin/tessera-bench", "./usr/share/man/man1/tessera.1.gz",
                    "./usr/share/man/man5/tessera.ini.5.gz",
                    "./usr/share/doc/tessera/examples/tessera.ini"],
        "tessera-agent": ["./usr/bin/tessera-agent",
                          "./usr/lib/systemd/user/tessera-agent.service",
                          "./usr/lib/environment.d/60-tessera-agent.conf",
                          "./usr/share/man/man1/tessera-agent.1.gz",
                          "./usr/bin/tessera-simple-dmabuf", "./usr/bin/tessera-simple-egl"],
    }
    for name, paths in want.items():
        listing = run(["dpkg-deb", "-c", debs[name]], f"dpkg-deb -c {name}").stdout
        files = {line.split()[5] for line in listing.splitlines() if len(line.split()) >= 6}
        for path in paths:
            t.check(path in files, f"{os.path.basename(debs[name])} lacks {path}")
        other = "tessera-agent" if name == "tessera" else "tessera"
        t.check(f"./usr/bin/{other}" not in files,
                f"{os.path.basename(debs[name])} holds ./usr/bin/{other}")


def lintian(changes):
    start = time.monotonic()
    prog = t.host_program("lintian")
    res = subprocess.run([prog, "--tag-display-limit", "0", "--display-info", changes],
                         capture_output=True, text=True, timeout=900)
    lines = res.stdout.splitlines()
    errors = [line for line in lines if line.startswith("E:")]
    warnings = [line for line in lines if line.startswith("W:")]
    print(f"lintian: {len(errors)} error(s), {len(warnings)} warning(s)")
    for line in lines:
        print(f"  {line}")
    step("lintian", start)
    t.check(res.returncode in (0, 1) and "internal error" not in res.stderr.lower(),
            f"lintian exited {res.returncode}: {res.stderr}")
    t.check(not errors, "lintian errors:\n" + "\n".join(errors))


def package_names(debs):
    """What the packages depend on (not what they recommend: the agent runs
    without Xwayland, tessera's labels without fonts-dejavu-core): the first
    of each set of alternatives, without version constraints."""
    names = set()
    for deb in debs.values():
        value = run(["dpkg-deb", "-f", deb, "Depends"], "dpkg-deb -f Depends").stdout
        for item in value.split(","):
            name = re.split(r"[\s(|:]", item.strip(), maxsplit=1)[0]
            if name:
                names.add(name)
    return sorted(names)


def os_codename():
    with open("/etc/os-release") as f:
        m = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", f.read(), re.M)
    t.check(m is not None, "/etc/os-release has no VERSION_CODENAME")
    return m.group(1)


def apt_sources():
    """This machine's apt sources, as mmdebstrap takes them: the files."""
    files = []
    if os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list") as f:
            if any(line.strip() and not line.lstrip().startswith("#") for line in f):
                files.append("/etc/apt/sources.list")
    files += sorted(glob.glob("/etc/apt/sources.list.d/*.list")
                    + glob.glob("/etc/apt/sources.list.d/*.sources"))
    t.check(files, "no apt sources on this machine")
    return files


def apt_options():
    """The settings of this machine's apt that reaching its sources may
    need (a proxy, an archive whose Release files are not recent)."""
    keep = re.compile(r"^Acquire::(https?::Proxy|Check-Valid-Until|Check-Date) ")
    dump = run(["apt-config", "dump"], "apt-config dump").stdout
    return [line.rstrip() for line in dump.splitlines() if keep.match(line)]


def apt_archive():
    """The .debs both bootstraps keep: scripts/make-guest-image.sh's
    download cache, and the lock that script holds while it writes there."""
    cache = os.environ.get("TESSERA_VM_CACHE") or "/var/cache/tessera-vm"
    archive = os.path.join(cache, "guest-apt")
    t.check(not re.search(r"\s", archive),
            f"cannot share the apt archive {archive!r}: mmdebstrap's sync hooks "
            "take no blanks")
    os.makedirs(archive, exist_ok=True)
    return archive, os.path.join(cache, "guest-image.lock")


def mmdebstrap_shared(argv, archive, lock_path):
    """Runs mmdebstrap with the shared archive: its .debs copied into the
    chroot first, the new ones copied back at the end, none left in the
    tarball. Under the image build's lock: no half-written .deb is read."""
    argv = [argv[0], "--skip=download/empty", "--skip=essential/unlink",
            '--setup-hook=mkdir -p "$1"/var/cache/apt/archives/',
            f"--setup-hook=sync-in {archive} /var/cache/apt/archives/",
            f"--customize-hook=sync-out /var/cache/apt/archives {archive}",
            '--customize-hook=rm -f "$1"/var/cache/apt/archives/*.deb', *argv[1:]]
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"chroot: waiting for {lock_path} (a guest image is being built)",
                  flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        before = len(glob.glob(os.path.join(archive, "*.deb")))
        run(argv, "mmdebstrap", timeout=1500)
        after = len(glob.glob(os.path.join(archive, "*.deb")))
    print(f"chroot: {after - before} .deb(s) downloaded, now {after} in {archive}")


def chroot_tarball(debs):
    """A tarball of a fresh chroot holding what the packages need, from the
    cache or made now."""
    suite = os_codename()
    names = package_names(debs)
    key = hashlib.sha256((suite + "\n" + "\n".join(names)).encode()).hexdigest()[:16]
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or
                         os.path.join(os.path.expanduser("~"), ".cache"),
                         "tessera", "packaging")
    os.makedirs(cache, exist_ok=True)
    tarball = os.path.join(cache, f"chroot-{suite}-{key}.tar")
    if os.path.exists(tarball):
        print(f"chroot: cached {tarball}")
        return tarball
    start = time.monotonic()
    mmdebstrap = t.host_program("mmdebstrap")
    # dpkg in the chroot under eatmydata (a hook of mmdebstrap's package):
    # no fsync for a chroot that only becomes a tarball
    eatmydata = "/usr/share/mmdebstrap/hooks/eatmydata"
    t.check(os.path.isdir(eatmydata), f"cannot speed up mmdebstrap: no {eatmydata}")
    argv = [mmdebstrap, "--mode=root", "--variant=minbase", "--format=tar",
            f"--hook-dir={eatmydata}", "--include=" + ",".join(names)]
    argv += [f"--aptopt={opt}" for opt in apt_options()]
    partial = tarball + ".partial"
    if os.path.exists(partial):  # left by an interrupted run
        os.unlink(partial)
    argv += [suite, partial, *apt_sources()]
    archive, lock_path = apt_archive()
    print(f"chroot: mmdebstrap {suite} with {' '.join(names)}", flush=True)
    mmdebstrap_shared(argv, archive, lock_path)
    for old in glob.glob(os.path.join(cache, "chroot-*.tar")):
        os.unlink(old)  # the chroot of other dependencies
    os.rename(partial, tarball)
    step("mmdebstrap (cached for the next runs)", start)
    return tarball


def make_root(tarball, tmp):
    start = time.monotonic()
    root = os.path.join(tmp, "r")
    os.mkdir(root)
    run(["tar", "-xf", tarball, "-C", root, "--numeric-owner"], "extracting the chroot")
    run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")], "mounting /proc")
    # Paths of the host under the chroot are the same paths inside it: the
    # harness's directories, sockets and programs resolve on both sides.
    inside = root + os.path.dirname(root)
    os.makedirs(inside)
    os.symlink("/", root + root)
    step("extracting the chroot", start)
    return root


def unmount(root):
    subprocess.run(["umount", "--recursive", "--lazy", os.path.join(root, "proc")],
                   capture_output=True)
    with open("/proc/self/mounts") as f:
        left = [line.split()[1] for line in f if line.split()[1].startswith(root + "/")]
    return left


def install(root, debs):
    start = time.monotonic()
    dest = os.path.join(root, "tmp")
    names = []
    for deb in debs.values():
        shutil.copy(deb, dest)
        names.append("/tmp/" + os.path.basename(deb))
    res = run(["chroot", root, "dpkg", "-i", *names], "dpkg -i in the chroot")
    print(res.stdout[-2000:])
    status = run(["chroot", root, "dpkg-query", "-W", "-f", "${Package} ${Status}\n",
                  "tessera", "tessera-agent"], "dpkg-query").stdout
    for name in ("tessera", "tessera-agent"):
        t.check(f"{name} install ok installed" in status,
                f"{name} not installed in the chroot: {status}")
    step("dpkg -i in the chroot", start)


def check_installed(root, version):
    for name in ("tessera", "tessera-vmd", "tesseractl", "tessera-agent",
                 "tessera-frame-probe", "tessera-bench"):
        res = run(["chroot", root, f"/usr/bin/{name}", "--version"], f"installed {name}")
        t.check(res.stdout == f"{name} {version}\n",
                f"installed {name} --version: {res.stdout!r}")
    # dh_installsystemduser enables the agent for every user's session.
    link = os.path.join(root, "etc/systemd/user/default.target.wants/tessera-agent.service")
    t.check(os.path.islink(link), f"the agent's user unit is not enabled: no {link}")
    target = os.readlink(link)
    t.check(target in ("/usr/lib/systemd/user/tessera-agent.service",
                       "/lib/systemd/user/tessera-agent.service")
            and os.path.isfile(root + target),
            f"the agent's user unit is enabled as {target}, not the installed unit")


def wrappers(root, tmp):
    """host path -> chroot: one script per installed program. Each runs in
    a network namespace of its own: the chroot's /tmp has none of the host's
    X lock files, so the agent's Xwayland would otherwise pick a display
    whose abstract socket a host X server holds. Pathname sockets (Wayland,
    vhost-user) work across network namespaces."""
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    paths = {}
    for name in ("tessera", "tessera-agent", "tessera-simple-shm"):
        path = os.path.join(bindir, name)
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\nexec unshare --net chroot {root} /usr/bin/{name} \"$@\"\n")
        os.chmod(path, 0o755)
        paths[name] = path
    return paths


def demo(root, tmp):
    import agent_test
    start = time.monotonic()
    progs = wrappers(root, tmp)
    os.environ["TESSERA"] = progs["tessera"]
    os.environ["TESSERA_AGENT"] = progs["tessera-agent"]
    # the path tessera (inside) execs, which also exists from outside
    os.environ["TESSERA_VMD"] = root + "/usr/bin/tessera-vmd"
    # the harness's directories, reachable from inside the chroot
    harness_tmp = os.path.join(root, "tmp", "harness")
    os.mkdir(harness_tmp)
    tempfile.tempdir = harness_tmp
    t.check(agent_test.VM_COLOR == VM_COLOR, "agent_test's VM colour changed")

    loop = agent_test.Loopback(size=(800, 600))
    try:
        guest = loop.guest_client([progs["tessera-simple-shm"], "--color", GUEST_COLOR,
                                   "--size", "240x160", "--title", "guest"])
        host = loop.tessera.client([progs["tessera-simple-shm"], "--color", HOST_COLOR,
                                    "--size", "160x120", "--title", "host"])
        png = agent_test.screenshot_with(loop, [GUEST_COLOR, HOST_COLOR, VM_COLOR],
                                         timeout=30, what="the guest and the host window")
        cx, cy, cw, ch = t.frame_check(png, GUEST_COLOR, VM_COLOR, "the guest window")
        t.check((cw, ch) == (240, 160), f"the guest window is {cw}x{ch}, not 240x160")
        hx, hy, hw, hh, count = png.bbox(HOST_COLOR)
        t.check((hw, hh) == (160, 120) and count == 160 * 120,
                f"the host window: {hw}x{hh}, {count} pixels")
        t.check(guest.poll() is None and host.poll() is None, "a client exited")
        # the chroot holds the Depends only: the agent runs without its
        # Recommends (Xwayland)
        t.check("Xwayland is not installed" in loop.log(),
                "the agent in the chroot did not report Xwayland missing:\n" + loop.log())
        loop.stop()
    finally:
        loop.cleanup()
    step("the demo in the chroot", start)


def test():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    source_root, version = sys.argv[1:]
    if os.geteuid() != 0:
        t.skip("needs root (mmdebstrap, chroot, mount)")
    for tool in ("mmdebstrap", "lintian", "chroot", "unshare"):
        t.host_program(tool)
    enter_namespace()
    total = time.monotonic()

    tmp = tempfile.mkdtemp(prefix="tessera-pkg.", dir="/tmp")
    root = None
    try:
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        debs, changes = build(source_root, out, version)
        check_contents(debs)
        lintian(changes)
        tarball = chroot_tarball(debs)
        root = make_root(tarball, tmp)
        install(root, debs)
        check_installed(root, version)
        demo(root, tmp)
    finally:
        left = unmount(root) if root is not None else []
        if left:
            print(f"still mounted, {tmp} kept: {left}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    step("the whole test", total)


if __name__ == "__main__":
    t.main(test)
