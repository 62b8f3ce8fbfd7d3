"""Shared pieces of the vmd-session tests.

tessera (tests/lib/tessera_test.py) starts vmd-session-test as the
daemon of a VM through its config (`vmd = PATH`). The test talks to it
through a FIFO and reads its log (see vmd-session-test.c for the commands).
The end-to-end tests run the real tessera-vmd and drive it with
vmd-session-e2e (Guest).
"""

import os
import re
import shutil
import subprocess
import tempfile

import tessera_proc
import tessera_test as t

VM_FRAME = "cc3333"


def config(name="work", color=VM_FRAME, program=None):
    program = program or t.program("VMD_SESSION_TEST")
    return f"""
[vm {name}]
color = #{color}
vhost-user = /nonexistent/{name}.sock
vmd = {program}
"""


class Vm:
    """The vmd-session-test daemon of one VM."""

    def __init__(self, tessera, name="work", timeout=20):
        self.tessera = tessera
        self.name = name
        self.log_path = os.path.join(tessera.tmp, f"{name}.log")
        self.log = t.ClientLog(self.log_path)
        self.ctl_path = os.path.join(tessera.tmp, f"{name}.ctl")
        t.wait_for(lambda: any(line.startswith("ready") for line in self.lines()),
                   timeout, f"{name}: vmd-session-test ready")
        self.check_no_failures()
        self.ctl = open(self.ctl_path, "w")

    def lines(self):
        return self.log.lines()

    def check_no_failures(self):
        bad = [line for line in self.lines()
               if line.startswith("fail ") or line.startswith("lost")]
        if bad:
            t.fail(f"{self.name}: {bad}\n" + self.tessera.log()[-4000:])

    def cmd(self, line, timeout=20):
        """Runs one command; it must succeed."""
        ok, fail = f"ok {line}", f"fail {line}:"
        before = sum(1 for l in self.lines() if l == ok)

        def done():
            lines = self.lines()
            for l in lines:
                if l.startswith(fail):
                    t.fail(f"{self.name}: {l}")
            return sum(1 for l in lines if l == ok) > before
        self.ctl.write(line + "\n")
        self.ctl.flush()
        t.wait_for(done, timeout, f"'{line}' done")

    def matching(self, pattern):
        rx = re.compile(pattern)
        return [line for line in self.lines() if rx.search(line)]

    def wait(self, pattern, timeout=20, count=1):
        return t.wait_for(lambda: (lambda m: m if len(m) >= count else None)(
            self.matching(pattern)), timeout, f"{self.name}: /{pattern}/ x{count}")

    def events(self, ctx, kind):
        """The fields of every logged event of that type, in order."""
        out = []
        prefix = f"event ctx={ctx} {kind} "
        for line in self.lines():
            if line.startswith(prefix) or line == prefix.rstrip():
                fields = {}
                for word in line[len(prefix):].split():
                    if "=" in word:
                        k, v = word.split("=", 1)
                        fields[k] = v
                out.append(fields)
        return out

    def stats(self):
        before = len(self.matching(r"^stats "))
        self.cmd("stats")
        line = self.wait(r"^stats ", count=before + 1)[-1]
        return {k: int(v) for k, v in (w.split("=") for w in line.split()[1:])}

    def quit(self):
        """Ends the daemon; it must exit with status 0 (no leaks under
        LeakSanitizer, whose exit status is not 0). tessera restarts it:
        the exit is declared (Tessera.expect_daemon_exit)."""
        self.tessera.expect_daemon_exit(self.name, r"^exited with status 0$")
        self.ctl.write("quit\n")
        self.ctl.flush()
        t.wait_for(lambda: self.matching(r"^exit "), 20, f"{self.name} exit")
        status = t.wait_for(
            lambda: re.findall(rf"vm '{self.name}': daemon \(pid \d+\) (exited with "
                               rf"status \d+|killed by signal \d+)", self.tessera.log()),
            20, "the daemon's exit in tessera's log")
        t.check(status[0] == "exited with status 0",
                f"{self.name}: daemon {status[0]}\n" + self.tessera.log()[-6000:])
        self.ctl.close()


class Guest:
    """vmd-session-e2e SOCKET CASE ARGS: VMM, guest driver and agent of the
    real tessera-vmd serving SOCKET. It prints "READY <phase> ..." lines
    and takes a line on stdin before each next step."""

    def __init__(self, tessera, sock, case, *args):
        self.tessera = tessera
        self.proc = subprocess.Popen([t.program("VMD_SESSION_E2E"), sock, case, *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def ready(self, phase):
        """The words after "READY <phase>"; fails on any other line."""
        line = self.proc.stdout.readline().strip()
        if not line.startswith(f"READY {phase}"):
            self.proc.kill()
            self.proc.wait()
            print(self.tessera.log()[-6000:])
            t.fail(f"expected READY {phase}, got {line!r}")
        return line.split()[2:]

    def go(self, command=""):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def finish(self):
        """It must exit with status 0."""
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        t.check(rc == 0, f"vmd-session-e2e exited {rc}")


class E2eHost:
    """tessera (headless) running the real tessera-vmd of [vm e2e] on a
    vhost-user socket in a directory of its own, for Guest."""

    VM = "e2e"
    FRAME = "2a7f62"

    def __init__(self, prefix):
        vmd = t.program("TESSERA_VMD")
        t.program("VMD_SESSION_E2E")
        self.sock_dir = tempfile.mkdtemp(prefix=prefix)
        self.sock = os.path.join(self.sock_dir, "gpu.sock")
        config = f"[vm {self.VM}]\ncolor = #{self.FRAME}\nvhost-user = {self.sock}\n"
        self.tessera = t.Tessera(size=(800, 600), config=config,
                                 env={"TESSERA_VMD": vmd})
        t.wait_for(lambda: os.path.exists(self.sock), 15, "vmd's socket")
        self.pid = t.wait_for(lambda: tessera_proc.find_vmd(self.sock), 10,
                              "the tessera-vmd process")

    def guest(self, case, *args):
        return Guest(self.tessera, self.sock, case, *args)

    def wait_windows_gone(self, what):
        t.wait_for(lambda: not any(n.startswith(f"[{self.VM}]")
                                   for n in self.tessera.titles()), 10, what)

    def check_same_vmd(self):
        t.check(tessera_proc.find_vmd(self.sock) == self.pid, "tessera-vmd was restarted")

    def cleanup(self):
        self.tessera.cleanup()
        shutil.rmtree(self.sock_dir, ignore_errors=True)


def run_window_case(host, case="window"):
    """vmd-session-e2e's window case (or one run like it): a 200x120
    window with its pixels, frame and title, two buffers released in turn,
    full-HD frames, a clean exit. A dict: the release points p1 and p2,
    the full-HD frames sent and vmd's bytes_copied for them."""
    tessera = host.tessera
    guest = host.guest(case)
    color = guest.ready("mapped")[0]
    cx, cy, cw, ch = t.frame_check(shot_with(tessera, color), color, host.FRAME,
                                   f"{case} window")
    t.check((cw, ch) == (200, 120), f"{case} window content is {cw}x{ch}")
    t.check(f"[{host.VM}] e2e window" in tessera.titles(), f"titles: {tessera.titles()}")
    guest.go()
    p1, p2 = (int(p) for p in guest.ready("released"))
    shot_with(tessera, color)
    guest.go()
    guest.ready("fullhd-start")
    before = tessera_proc.vmd_stats(tessera, host.pid)
    guest.go()
    frames = int(guest.ready("fullhd-done")[0])
    after = tessera_proc.vmd_stats(tessera, host.pid)
    counted = int(after["frames"]) - int(before["frames"])
    t.check(counted == frames, f"vmd counted {counted} frames, sent {frames}")
    shot_with(tessera, "204060")
    guest.go()
    guest.ready("done")
    guest.finish()
    host.wait_windows_gone(f"the windows of the finished {case} guest to go")
    return {"p1": p1, "p2": p2, "frames": frames,
            "copied": int(after["bytes_copied"]) - int(before["bytes_copied"])}


def shot_with(tessera, *colors, absent=(), timeout=10):
    """A screenshot showing every colour and none of `absent`."""
    def take():
        png = tessera.screenshot()
        if all(png.bbox(c) for c in colors) and not any(png.bbox(c) for c in absent):
            return png
        return None
    return t.wait_for(take, timeout, f"screenshot with {colors} without {list(absent)}")
