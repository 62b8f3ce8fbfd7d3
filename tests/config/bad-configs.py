#!/usr/bin/env python3
"""Runs the tessera compositor on bad configuration files.

Usage: bad-configs.py PATH-TO-TESSERA

For every case a config file is written into a temporary directory and
`tessera --config FILE --backend headless` runs (10 s timeout, a private
XDG_RUNTIME_DIR). It must exit with status 1 and print "FILE:LINE: message"
(or "FILE: message") on stderr; wlr_log may put a prefix before it, so the
text is matched as a substring. One more case runs a valid, empty config
without XDG_RUNTIME_DIR, which must fail the same way and name the variable.
"""

import os
import signal
import subprocess
import sys
import tempfile

TIMEOUT = 10

# (name, file content, expected text after "FILE"); None content = no file
CASES = [
    ("missing-file", None, ": cannot open: No such file or directory"),
    ("syntax-error",
     b"[vm work]\ncolor = #ff0000\nthis is not ini\nvhost-user = /a\n",
     ":3: syntax error"),
    ("unterminated-section", b"# vms\n[vm work\n", ":2: syntax error"),
    ("line-too-long", b"[vm work]\n# " + b"x" * 250 + b"\n",
     ":2: line too long (limit 199 characters)"),
    ("key-outside-section", b"# c\n\ncolor = #ff0000\n",
     ":3: key 'color' outside a [vm NAME] section"),
    ("unknown-section", b"; c\n\n[foo]\n", ":3: unknown section '[foo]'"),
    ("missing-vm-name", b"[vm]\n",
     ":1: missing vm name in '[vm]' (expected [vm NAME])"),
    ("text-after-section", b"[vm work] x\n",
     ":1: unexpected text after section header: '[vm work] x'"),
    ("unknown-key",
     b"[vm work]\ncolor = #ff0000\nvhost-user = /a\n\n; c\n\ncolour = #00ff00\n",
     ":7: unknown key 'colour' in [vm work]"),
    ("invalid-color",
     b"[vm work]\nvhost-user = /a\n\n\ncolor = #12345\n",
     ":5: invalid color '#12345' for vm 'work' (expected #RRGGBB)"),
    ("color-without-hash", b"[vm work]\ncolor = ff0000\n",
     ":2: invalid color 'ff0000' for vm 'work' (expected #RRGGBB)"),
    ("invalid-vm-name", b"[vm w@rk]\n",
     ":1: invalid vm name 'w@rk' (allowed characters: A-Z a-z 0-9 _ -)"),
    ("vm-name-too-long", b"[vm " + b"n" * 33 + b"]\n",
     ":1: vm name '" + "n" * 33 + "' too long (limit 32 characters)"),
    ("duplicate-vm",
     b"# vms\n[vm work]\ncolor = #ff0000\nvhost-user = /a\n\n"
     b"[vm other]\ncolor = #00ff00\nvhost-user = /b\n[vm work]\n",
     ":9: duplicate vm 'work' (first defined at line 2)"),
    ("duplicate-key",
     b"[vm work]\ncolor = #ff0000\nvhost-user = /a\n\n\ncolor = #ff0000\n",
     ":6: duplicate key 'color' in [vm work]"),
    ("missing-vhost-user", b"\n[vm work]\ncolor = #ff0000\n",
     ":2: vm 'work' has no vhost-user socket path"),
    ("missing-color", b"[vm work]\nvhost-user = /a\n[vm b]\n",
     ":1: vm 'work' has no color"),
    ("too-many-vms",
     b"".join(b"[vm vm%d]\ncolor = #%06x\nvhost-user = /run/vm%d.sock\n"
              % (i, i, i) for i in range(65)),
     ":193: too many vms (limit 64)"),
    ("vhost-user-path-too-long",
     b"[vm work]\ncolor = #000000\nvhost-user = /" + b"p" * 107 + b"\n",
     ":3: vhost-user path too long for vm 'work' (108 bytes, limit 107)"),
    ("vmd-path-too-long", b"[vm work]\nvmd = /" + b"p" * 120 + b"\n",
     ":2: vmd path too long for vm 'work' (121 bytes, limit 107)"),
    ("empty-value", b"[vm work]\ncolor = #000000\nvhost-user =\n",
     ":3: empty value for 'vhost-user' in [vm work]"),
    ("control-character", b"[vm work]\nvmd = /a\x1bb\n",
     ":2: control character in vmd path '/a\\x1bb' for vm 'work'"),
    ("same-vhost-user-path",
     b"[vm a]\ncolor = #000000\nvhost-user = /run/x.sock\n"
     b"[vm b]\ncolor = #000000\nvhost-user = /run/x.sock\n",
     ":6: vm 'b' uses vhost-user path '/run/x.sock' already used by "
     "vm 'a' (line 1)"),
    ("nul-byte", b"[vm work]\ncol\0or = #ff0000\n", ":2: NUL byte in line"),
    ("invalid-utf8", b"[vm work]\ncolor = #ff0000\nvhost-user = /\xff\n",
     ":3: invalid UTF-8"),
    # keyboard layouts: checked against the xkb registry and compiled once
    # the section is complete (a variant goes with its layout)
    ("unknown-keyboard-layout",
     b"[vm work]\ncolor = #ff0000\nkeyboard-layout = xx\nvhost-user = /a\n",
     ":3: invalid keyboard-layout 'xx' for vm 'work' (unknown layout 'xx')"),
    ("unknown-keyboard-variant",
     b"[vm work]\nkeyboard-variant = nodeadkeys,bogus\ncolor = #ff0000\n"
     b"vhost-user = /a\nkeyboard-layout = de,fr\n[vm b]\n",
     ":2: invalid keyboard-variant 'nodeadkeys,bogus' for vm 'work' "
     "(layout 'fr' has no variant 'bogus')"),
    ("keyboard-variant-without-layout",
     b"[vm work]\ncolor = #ff0000\nvhost-user = /a\nkeyboard-variant = dvorak\n",
     ":4: invalid keyboard-variant 'dvorak' for vm 'work' "
     "(a variant needs a keyboard-layout)"),
    ("unknown-keyboard-option",
     b"[vm work]\ncolor = #ff0000\nvhost-user = /a\n"
     b"keyboard-options = ctrl:nocaps,compose:nowhere\n",
     ":4: invalid keyboard-options 'ctrl:nocaps,compose:nowhere' for vm 'work' "
     "(unknown option 'compose:nowhere')"),
    ("unknown-keyboard-model",
     b"[vm work]\ncolor = #ff0000\nvhost-user = /a\nkeyboard-model = pc999\n",
     ":4: invalid keyboard-model 'pc999' for vm 'work' (unknown model 'pc999')"),
    ("keyboard-layout-characters",
     b"[vm work]\nkeyboard-layout = de(nodeadkeys)\n",
     ":2: invalid keyboard-layout 'de(nodeadkeys)' for vm 'work' "
     "(allowed characters: A-Z a-z 0-9 _ - . : + ,)"),
    ("keyboard-layout-too-long",
     b"[vm work]\nkeyboard-layout = " + b"us," * 43 + b"\n",
     ":2: invalid keyboard-layout '" + "us," * 43 + "' for vm 'work' "
     "(129 characters, limit 127)"),
    ("duplicate-keyboard-layout",
     b"[vm work]\nkeyboard-layout = de\nkeyboard-layout = us\n",
     ":3: duplicate key 'keyboard-layout' in [vm work]"),
]

# VMs tessera starts QEMU for: checked at start, after the file loaded.
# "{tmp}" is the test's directory, which holds "kernel" (a readable file),
# "old-qemu" (a QEMU 7.2 by its --version) and "new-qemu" (10.0). These need
# no QEMU installed.
QEMU_VM = "[vm work]\ncolor = #ff0000\nvhost-user = /a\n"
QEMU_CASES = [
    ("qemu-missing-path", QEMU_VM + "kernel = {tmp}/kernel\nqemu = {tmp}/no-qemu\n",
     ":5: cannot find QEMU for vm 'work': '{tmp}/no-qemu': No such file or directory"),
    ("qemu-missing-in-path", QEMU_VM + "kernel = {tmp}/kernel\nqemu = no-such-qemu\n",
     ":5: cannot find QEMU for vm 'work': no 'no-such-qemu' in PATH "
     "(install QEMU or set qemu = PATH)"),
    ("qemu-too-old-tcg",
     QEMU_VM + "kernel = {tmp}/kernel\nqemu = {tmp}/old-qemu\naccel = tcg\n",
     ":6: QEMU 7.2.0 at {tmp}/old-qemu is too old for vm 'work': without KVM, "
     "vhost-user needs QEMU 8.0 or newer (found 7.2.0, need >= 8.0; KVM: not "
     "used, accel = tcg)"),
    ("image-missing", QEMU_VM + "image = {tmp}/no-image.qcow2\nqemu = {tmp}/new-qemu\n",
     ":4: cannot read image '{tmp}/no-image.qcow2' of vm 'work': "
     "No such file or directory"),
    ("image-directory", QEMU_VM + "image = {tmp}\nqemu = {tmp}/new-qemu\n",
     ":4: cannot read image '{tmp}' of vm 'work': not a regular file"),
    ("initrd-missing",
     QEMU_VM + "kernel = {tmp}/kernel\ninitrd = {tmp}/no-initrd\nqemu = {tmp}/new-qemu\n",
     ":5: cannot read initrd '{tmp}/no-initrd' of vm 'work': No such file or directory"),
    ("memory-too-small", QEMU_VM + "kernel = {tmp}/kernel\nmemory = 64M\n",
     ":5: memory '64M' for vm 'work' out of range (expected 128M to 1024G: "
     "a guest needs at least 128M)"),
    ("memory-syntax", QEMU_VM + "kernel = {tmp}/kernel\nmemory = 2 G\n",
     ":5: invalid memory '2 G' for vm 'work' (expected a size with a K, M or G "
     "suffix, as 2G)"),
    ("memory-not-megabytes", QEMU_VM + "kernel = {tmp}/kernel\nmemory = 131073K\n",
     ":5: memory '131073K' for vm 'work' is not a whole number of megabytes"),
    ("cpus-out-of-range", QEMU_VM + "kernel = {tmp}/kernel\ncpus = 65\n",
     ":5: invalid cpus '65' for vm 'work' (expected 1 to 64)"),
    ("accel-unknown", QEMU_VM + "kernel = {tmp}/kernel\naccel = hvf\n",
     ":5: invalid accel 'hvf' for vm 'work' (expected auto, kvm or tcg)"),
    ("restart-unknown", QEMU_VM + "kernel = {tmp}/kernel\nrestart = always\n",
     ":5: invalid restart 'always' for vm 'work' (expected no or on-failure)"),
    ("console-unknown", QEMU_VM + "console = never\n",
     ":4: invalid console 'never' for vm 'work' (expected auto, show or hide)"),
    ("qemu-args-quote", QEMU_VM + "kernel = {tmp}/kernel\nqemu-args = -device 'virtio\n",
     ":5: invalid qemu-args for vm 'work' ("),
    ("image-and-kernel", QEMU_VM + "image = {tmp}/kernel\nkernel = {tmp}/kernel\n",
     ":5: vm 'work' has both 'image' and 'kernel' (a disk image or a direct "
     "kernel boot, not both)"),
    ("memory-without-image", QEMU_VM + "memory = 2G\n",
     ":4: 'memory' in [vm work] needs 'image' or 'kernel' (tessera starts QEMU "
     "only for a VM with one of them)"),
    ("append-without-kernel", QEMU_VM + "image = {tmp}/kernel\nappend = quiet\n",
     ":5: 'append' in [vm work] needs 'kernel'"),
]


def write_qemu_fixtures(tmp):
    with open(os.path.join(tmp, "kernel"), "w") as f:
        f.write("not really a kernel\n")
    for name, version in (("old-qemu", "7.2.0"), ("new-qemu", "10.0.2")):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write("#!/bin/sh\necho 'QEMU emulator version %s'\n" % version)
        os.chmod(path, 0o755)


def run(tessera, config, env):
    """Runs tessera; returns (status, stderr text) or (None, why)."""
    proc = subprocess.Popen(
        [tessera, "--config", config, "--backend", "headless"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        # its own process group: takes any child with it
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return None, "still running after %d s; stderr:\n%s" % (
            TIMEOUT, err.decode("utf-8", "replace"))
    return proc.returncode, err.decode("utf-8", "replace")


def base_env(runtime_dir):
    env = dict(os.environ)
    for name in ("WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY"):
        env.pop(name, None)
    env["XDG_RUNTIME_DIR"] = runtime_dir
    env["WLR_RENDERER"] = "pixman"
    env["WLR_LIBINPUT_NO_DEVICES"] = "1"
    return env


def check(name, status, stderr, expected):
    if status is None:
        print("FAIL %s: %s" % (name, stderr))
        return False
    problems = []
    if status != 1:
        problems.append("exit status %d, expected 1" % status)
    if expected not in stderr:
        problems.append("stderr lacks %r" % expected)
    if problems:
        print("FAIL %s: %s; stderr was:\n%s" % (
            name, "; ".join(problems), stderr.rstrip()))
        return False
    print("ok   %s" % name)
    return True


def main():
    if len(sys.argv) != 2:
        print("usage: %s PATH-TO-TESSERA" % sys.argv[0], file=sys.stderr)
        return 2
    tessera = os.path.abspath(sys.argv[1])
    if not os.access(tessera, os.X_OK):
        print("%s is not an executable" % tessera, file=sys.stderr)
        return 1

    failed = 0
    with tempfile.TemporaryDirectory(prefix="tessera-bad-configs-") as tmp:
        runtime_dir = os.path.join(tmp, "runtime")
        os.mkdir(runtime_dir, 0o700)
        env = base_env(runtime_dir)

        for name, content, suffix in CASES:
            config = os.path.join(tmp, name + ".ini")
            if content is not None:
                with open(config, "wb") as f:
                    f.write(content)
            status, stderr = run(tessera, config, env)
            if not check(name, status, stderr, config + suffix):
                failed += 1

        write_qemu_fixtures(tmp)
        for name, content, suffix in QEMU_CASES:
            config = os.path.join(tmp, name + ".ini")
            with open(config, "w") as f:
                f.write(content.format(tmp=tmp))
            status, stderr = run(tessera, config, env)
            if not check(name, status, stderr, config + suffix.format(tmp=tmp)):
                failed += 1

        # a valid config, but nowhere to put the Wayland socket
        config = os.path.join(tmp, "empty.ini")
        with open(config, "wb") as f:
            f.write(b"# no VMs\n")
        env = base_env(runtime_dir)
        del env["XDG_RUNTIME_DIR"]
        status, stderr = run(tessera, config, env)
        if not check("no-xdg-runtime-dir", status, stderr, "XDG_RUNTIME_DIR"):
            failed += 1

    total = len(CASES) + len(QEMU_CASES) + 1
    print("%d of %d cases passed" % (total - failed, total))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
