#!/usr/bin/env python3
"""Usage: test-install.py MESON BUILDDIR PREFIX BINDIR DATADIR MANDIR VERSION
                       MAN-PAGES(true|false)

Runs `meson install --destdir` from the build directory into a temporary
directory and checks what it installed:

- exactly the expected files, no more, no fewer: the programs, the
  agent's systemd user unit and environment.d file, the example config and
  (when built) the manual pages; no test tool;
- the installed programs run (--version, or --help for the
  tessera-simple-* clients, which have no --version) and the unit starts the installed agent;
- the installed example config is accepted by the installed tessera: it
  runs headless with it, starts a daemon for each of its VMs with the
  section's settings (a stand-in daemon that shows a window through the
  VM's tagged connection, tests/compositor/fake-vmd.sh) and exits 0; the
  same file with one bad value makes it exit 1 with FILE:LINE.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import tessera_test as t

PROGRAMS = ["tessera", "tessera-vmd", "tessera-agent", "tessera-simple-shm",
            "tessera-simple-dmabuf", "tessera-simple-egl",
            "tessera-frame-probe", "tessera-bench", "tesseractl"]
# the weston-style clients have --help but no --version
HELP_ONLY = {"tessera-simple-shm", "tessera-simple-dmabuf", "tessera-simple-egl"}
MAN_PAGES = ["man1/tessera.1", "man1/tessera-vmd.1", "man1/tessera-agent.1",
             "man1/tessera-simple-shm.1", "man1/tessera-simple-dmabuf.1",
             "man1/tessera-simple-egl.1", "man1/tessera-frame-probe.1",
             "man1/tessera-bench.1", "man1/tesseractl.1", "man5/tessera.ini.5"]


class Layout:
    def __init__(self, prefix, bindir, datadir, mandir, man_pages):
        def under_prefix(path):
            return os.path.normpath(os.path.join(prefix, path))
        self.bindir = under_prefix(bindir)
        self.unit = under_prefix("lib/systemd/user/tessera-agent.service")
        self.environment = under_prefix("lib/environment.d/60-tessera-agent.conf")
        self.example = os.path.join(under_prefix(datadir), "doc/tessera/examples/tessera.ini")
        self.mandir = under_prefix(mandir)
        self.man_pages = man_pages

    def expected(self):
        files = {os.path.join(self.bindir, p) for p in PROGRAMS}
        files |= {self.unit, self.environment, self.example}
        if self.man_pages:
            files |= {os.path.join(self.mandir, p) for p in MAN_PAGES}
        return files


def installed_files(destdir):
    found = set()
    for root, dirs, files in os.walk(destdir):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            found.add("/" + os.path.relpath(os.path.join(root, name), destdir))
    return found


def check_tree(destdir, layout):
    found, expected = installed_files(destdir), layout.expected()
    t.check(found == expected,
            "installed tree differs from the expected list:\n"
            + "".join(f"  unexpected: {p}\n" for p in sorted(found - expected))
            + "".join(f"  missing: {p}\n" for p in sorted(expected - found)))


def check_programs(destdir, layout, version):
    for name in PROGRAMS:
        path = destdir + os.path.join(layout.bindir, name)
        t.check(os.access(path, os.X_OK), f"{path} is not executable")
        if name in HELP_ONLY:
            res = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=20)
            t.check(res.returncode == 0 and res.stdout.startswith("usage: "),
                    f"installed {name} --help: exit {res.returncode}, {res.stdout!r}")
            continue
        res = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20)
        t.check(res.returncode == 0 and res.stdout == f"{name} {version}\n",
                f"installed {name} --version: exit {res.returncode}, {res.stdout!r}")


def check_unit(destdir, layout):
    with open(destdir + layout.unit) as f:
        unit = f.read()
    m = re.search(r"^ExecStart=(\S+)(.*)$", unit, re.M)
    t.check(m is not None, "the unit has no ExecStart")
    agent = os.path.join(layout.bindir, "tessera-agent")
    t.check(m.group(1) == agent, f"the unit runs {m.group(1)}, not the installed {agent}")
    socket = re.search(r"--socket (\S+)", m.group(2))
    t.check(socket is not None, "the unit gives the agent no --socket")
    with open(destdir + layout.environment) as f:
        env = f.read()
    t.check(re.search(rf"^WAYLAND_DISPLAY={re.escape(socket.group(1))}$", env, re.M),
            f"environment.d file does not set WAYLAND_DISPLAY={socket.group(1)}: {env!r}")


def check_man_pages(destdir, layout):
    for page in MAN_PAGES if layout.man_pages else []:
        name, section = os.path.basename(page).rsplit(".", 1)
        with open(destdir + os.path.join(layout.mandir, page)) as f:
            text = f.read()
        t.check(re.search(rf'^\.TH "{re.escape(name)}" "{section}"', text, re.M),
                f"{page}: no .TH header for {name}({section})")


def example_sections(path):
    """{vm name: [(key, value), ...]} of the example, as written."""
    sections, current = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = re.fullmatch(r"\[vm ([A-Za-z0-9_-]+)\]", line)
            if m:
                current = sections.setdefault(m.group(1), [])
            elif current is not None and line and line[0] not in ";#":
                key, value = (s.strip() for s in line.split("=", 1))
                current.append((key, value.split(" ;")[0].strip()))
    return sections


def check_example(destdir, layout, tmp):
    tessera = destdir + os.path.join(layout.bindir, "tessera")
    example = destdir + layout.example
    sections = example_sections(example)
    t.check(len(sections) >= 2, f"the example has {len(sections)} VM(s)")

    # Accepted: tessera runs with it and starts each VM's daemon with the
    # section's settings; the stand-in daemon shows a window through the
    # VM's connection (with the installed tessera-simple-shm).
    os.environ["TESSERA"] = tessera
    fake_vmd = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                            "compositor", "fake-vmd.sh")
    env = {"TESSERA_VMD": fake_vmd,
           "TESSERA_SIMPLE_SHM": destdir + os.path.join(layout.bindir, "tessera-simple-shm")}
    # the keys tessera passes on are tessera-vmd's options; the others
    # (keyboard layouts, QEMU's) are tessera's own and must not reach it
    vmd_help = subprocess.run([destdir + os.path.join(layout.bindir, "tessera-vmd"), "--help"],
                              capture_output=True, text=True).stdout
    vmd_options = set(re.findall(r"--[a-z][a-z0-9-]*", vmd_help))
    server = t.Tessera(args=["--config", example], env=env)
    try:
        t.check(f"config {example}: {len(sections)} VM(s)" in server.log(),
                "tessera did not log loading the example's VMs:\n" + server.log())
        for name, keys in sections.items():
            t.ClientLog(os.path.join(server.tmp, f"{name}.log")).wait("mapped")
            with open(os.path.join(server.tmp, f"{name}.args")) as f:
                args = f.readline().split()
            expected = ["--name", name]
            for key, value in keys:
                if key == "color":
                    expected += ["--color", value.lstrip("#").lower()]
                elif f"--{key}" in vmd_options:
                    expected += [f"--{key}", value]
                else:
                    t.check(f"--{key}" not in args,
                            f"vm {name}: tessera's own key {key} reached the daemon: {args}")
            pairs = list(zip(args[0::2], args[1::2]))
            for option, value in zip(expected[0::2], expected[1::2]):
                t.check((option, value) in pairs,
                        f"vm {name}: daemon started without {option} {value}: {args}")
        server.stop()
    finally:
        server.cleanup()

    # Rejected: the same file with one bad value.
    bad = os.path.join(tmp, "bad.ini")
    with open(example) as f:
        lines = f.read().splitlines()
    lines.append("max-contexts = 0")
    with open(bad, "w") as f:
        f.write("\n".join(lines) + "\n")
    runtime = os.path.join(tmp, "runtime")
    os.mkdir(runtime, 0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, TESSERA_VMD=fake_vmd)
    res = subprocess.run([tessera, "--backend", "headless", "--config", bad],
                         capture_output=True, text=True, env=env, timeout=30)
    t.check(res.returncode == 1 and f"{bad}:{len(lines)}: invalid max-contexts '0'" in res.stderr,
            f"a bad copy of the example: exit {res.returncode}, {res.stderr}")


def test():
    if len(sys.argv) != 9:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    meson, builddir, prefix, bindir, datadir, mandir, version, man_pages = sys.argv[1:]
    layout = Layout(prefix, bindir, datadir, mandir, man_pages == "true")
    tmp = tempfile.mkdtemp(prefix="tessera-install-")
    try:
        destdir = os.path.join(tmp, "destdir")
        res = subprocess.run([meson, "install", "-C", builddir, "--destdir", destdir,
                              "--no-rebuild", "--quiet"],
                             capture_output=True, text=True, timeout=300)
        t.check(res.returncode == 0,
                f"meson install exited {res.returncode}: {res.stdout}{res.stderr}")
        check_tree(destdir, layout)
        check_programs(destdir, layout, version)
        check_unit(destdir, layout)
        check_man_pages(destdir, layout)
        check_example(destdir, layout, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t.main(test)
