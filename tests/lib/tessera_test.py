"""The harness of the Python tests: a tessera compositor on the headless
backend (Tessera), its screenshots (Png), the --log file of
tessera-simple-shm (ClientLog), waiting, failing and skipping.

Tessera.stop() is where every integration test ends: it asserts that
tessera ran until then, exited with status 0, that each VM daemon kept its
pid (no exit, hence no restart, the test did not declare with
expect_daemon_exit) and exited with status 0 at shutdown, and that the log
holds no sanitizer report and no ERROR line the test did not declare with
expect_error. main() fails a test that left a Tessera unstopped.

Skips: a test that cannot run (a program not built, a tool not installed)
calls skip(). With CI=true that is a failure, unless the test's tier
(TESSERA_TEST_TIER, set by its meson.build) is listed in
TESSERA_SKIP_TIERS (the meson option skip-tiers, which
scripts/run-tests.sh --allow-skip sets).

tests/lib is on PYTHONPATH (test_env in tests/meson.build; by hand:
PYTHONPATH=tests/lib). Programs come from the environment that meson sets
for each test (TESSERA, TESSERA_SIMPLE_SHM, TESSERA_PNG_PROBE,
TESSERA_TEST_POINTER, TESSERA_TEST_TOPLEVELS, ...). Every test runs its
own compositor on the headless backend in a private XDG_RUNTIME_DIR.
/proc helpers (fds, mappings, tessera-vmd) are in tessera_proc.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77

# Frame geometry drawn by the compositor (server/compositor/server.h).
BORDER = 4
TITLE = 22


def program(name, required=True):
    path = os.environ.get(name, "")
    if not path or not os.path.exists(path):
        if required:
            skip(f"{name} is not built (variable unset or file missing)")
        return None
    return path


def host_program(name):
    path = shutil.which(name)
    if path is None:
        skip(f"'{name}' is not installed (scripts/install-deps.sh --tests installs it)")
    return path


def guest_globals(side):
    """The interfaces protocol/guest-globals.h marks with side ("vm",
    "vm-only" or "guest"), printed by tests/tools/guest-globals."""
    out = subprocess.run([program("TESSERA_GUEST_GLOBALS"), side], check=True,
                         capture_output=True, text=True).stdout.split()
    check(out, f"protocol/guest-globals.h lists no {side} global")
    return set(out)


def skip_allowed():
    """Whether this test may skip: always outside CI; with CI=true only
    when its tier is one of the skip-tiers the build was configured with."""
    if os.environ.get("CI") != "true":
        return True
    tier = os.environ.get("TESSERA_TEST_TIER", "")
    return tier != "" and tier in os.environ.get("TESSERA_SKIP_TIERS", "").split(",")


def skip(reason):
    """Ends a test that cannot run: exit 77 (meson: SKIP) saying why, or a
    failure when skips are not allowed (skip_allowed())."""
    if not skip_allowed():
        tier = os.environ.get("TESSERA_TEST_TIER", "?")
        print(f"FAIL: cannot run: {reason}\n"
              f"(CI=true: every tier runs; tier '{tier}' may skip only with "
              f"-Dskip-tiers={tier}, e.g. scripts/run-tests.sh --allow-skip {tier})",
              flush=True)
        sys.exit(1)
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def fail(message):
    raise AssertionError(message)


def check(condition, message):
    if not condition:
        fail(message)


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def terminate(proc, timeout, what):
    """Ends proc (a Popen) with SIGTERM if it still runs; it must exit
    within timeout seconds (else SIGKILL and a failure). Its exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            fail(f"{what} did not exit on SIGTERM")
    return proc.returncode


# The first line of a report of AddressSanitizer, LeakSanitizer (also
# "==PID==ERROR: LeakSanitizer") or UndefinedBehaviorSanitizer.
SANITIZER_REPORT = re.compile(r"==\d+==\s*(ERROR|WARNING): \w*Sanitizer"
                              r"|SUMMARY: \w*Sanitizer|: runtime error: ")
# tessera_log's ERROR lines (common/log.c), of every program.
ERROR_LINE = re.compile(r"(^|\s)\[ERROR\] ")


def log_problems(text, what, expected_errors=(), judged=()):
    """What a daemon's log must not hold: sanitizer reports and ERROR lines
    that none of the regexes in expected_errors matches (lines in judged
    were looked at by other checks). A list of messages, empty when the
    log is clean."""
    problems = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if SANITIZER_REPORT.search(line):
            problems.append(f"{what}: sanitizer report:\n" + "\n".join(lines[i:i + 40]))
        elif (ERROR_LINE.search(line) and line not in judged
              and not any(rx.search(line) for rx in expected_errors)):
            problems.append(f"{what}: unexpected ERROR line: {line}")
    return problems


def check_log(text, what, expected_errors=()):
    """Fails when log_problems() finds anything (for a program a test runs
    itself rather than through Tessera)."""
    problems = log_problems(text, what, [re.compile(p) for p in expected_errors])
    check(not problems, "\n".join(problems))


# A Tessera the test has not stopped yet (main() fails the test if any is
# left: its daemons' exits and its log would go unchecked).
_unstopped = []

# tessera's lines about its VM daemons (server/compositor/vm.c).
DAEMON_STARTED = re.compile(r"\bvm '([^']+)': started .* \(pid (\d+),")
DAEMON_ENDED = re.compile(r"\bvm '([^']+)': daemon \(pid (\d+)\) (exited with status \d+|"
                          r"killed by signal \d+|ended with wait status \S+)( at shutdown)?$")


class Tessera:
    """A tessera compositor on the headless backend."""

    def __init__(self, args=(), size=(800, 600), config=None, env=None,
                 backend="headless"):
        self.tmp = tempfile.mkdtemp(prefix="tessera-test-")
        self.runtime_dir = os.path.join(self.tmp, "runtime")
        os.mkdir(self.runtime_dir, 0o700)
        self.width, self.height = size
        self.env = dict(os.environ)
        for var in ("WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY", "WLR_BACKENDS"):
            self.env.pop(var, None)
        self.env["XDG_RUNTIME_DIR"] = self.runtime_dir
        self.env["TESSERA_TEST_DIR"] = self.tmp
        if env:
            self.env.update(env)
        cmd = [program("TESSERA"), "-v"]
        if backend is not None:
            cmd += ["--backend", backend]
        cmd += ["--size", f"{self.width}x{self.height}"]
        if config is not None:
            path = os.path.join(self.tmp, "tessera.ini")
            with open(path, "w") as f:
                f.write(config)
            cmd += ["--config", path]
        cmd += list(args)
        self.stderr_path = os.path.join(self.tmp, "tessera.log")
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("WAYLAND_DISPLAY="):
            self.proc.kill()
            self.proc.wait()
            fail(f"tessera did not print WAYLAND_DISPLAY (got {line!r}); log:\n"
                 + self.log())
        self.display = line.strip().split("=", 1)[1]
        self.client_env = dict(self.env)
        self.client_env["WAYLAND_DISPLAY"] = self.display
        self.clients = []
        self.shot_count = 0
        self.expected_errors = []
        self.expected_exits = []  # (vm name, compiled regex)
        self.before_stop = []  # callables stop() runs first (agent_test)
        _unstopped.append(self)

    def expect_error(self, pattern):
        """Declares ERROR lines the test provokes on purpose: stop() accepts
        the lines (of tessera, its daemons, agent_test's agents) that the
        regex pattern matches anywhere."""
        self.expected_errors.append(re.compile(pattern))

    def expect_daemon_exit(self, vm, how):
        """Declares that the daemon of VM vm ends during the test (and that
        tessera restarts it) in the way the regex how matches in tessera's
        line about it: "exited with status N" or "killed by signal N"."""
        self.expected_exits.append((vm, re.compile(how)))

    def daemon_pids(self):
        """{vm name: [pid of each start of its daemon]}, from the log."""
        pids = {}
        for vm, pid in DAEMON_STARTED.findall(self.log()):
            pids.setdefault(vm, []).append(int(pid))
        return pids

    def log(self):
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def client(self, argv, **kwargs):
        proc = subprocess.Popen(argv, env=self.client_env, **kwargs)
        self.clients.append(proc)
        return proc

    def run(self, argv, check_rc=True, timeout=20):
        argv = [str(a) for a in argv]
        res = subprocess.run(argv, env=self.client_env, capture_output=True,
                             text=True, timeout=timeout)
        if check_rc and res.returncode != 0:
            fail(f"{argv} exited {res.returncode}: {res.stderr}")
        return res

    def toplevels(self):
        """[title, app_id] of every toplevel, as tessera-test-toplevels
        lists them (TESSERA_TEST_TOPLEVELS; the test skips without it)."""
        out = self.run([program("TESSERA_TEST_TOPLEVELS")]).stdout
        return [line.split("\t") for line in out.splitlines()]

    def titles(self):
        return [row[0] for row in self.toplevels()]

    def screenshot(self, name=None, output=None):
        """All outputs, or only the output of that name (grim -o)."""
        self.shot_count += 1
        path = os.path.join(self.tmp, name or f"shot-{self.shot_count}.png")
        self.run([host_program("grim")] + (["-o", output] if output else []) + [path])
        return Png(path)

    def stop_clients(self):
        """Ends the clients started through client(): SIGTERM, SIGKILL
        after 5 s."""
        for proc in self.clients:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.clients:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self):
        """Stops the compositor and checks how the test went for it: it
        ran until now and exits with status 0; each VM daemon kept its pid
        unless the test declared its exit (expect_daemon_exit) and exited
        with status 0 at shutdown; no sanitizer report and no undeclared
        ERROR line in the log (expect_error)."""
        if self in _unstopped:
            _unstopped.remove(self)
        self.stop_clients()
        problems = []
        for hook in self.before_stop:
            problems += hook()
        if self.proc.poll() is not None:
            problems.append(f"tessera died during the test (status {self.proc.returncode})")
        terminate(self.proc, 30, "tessera")
        self.proc.stdout.close()
        self.stderr.close()
        rc = self.proc.returncode
        if rc != 0:
            problems.append(f"tessera exited with status {rc}")
        daemon_problems, exit_lines = self.daemon_problems()
        problems += daemon_problems
        problems += log_problems(self.log(), "tessera's log (with its daemons)",
                                 self.expected_errors, exit_lines)
        if problems:
            print(self.log())
            fail("\n".join(problems))

    def crash(self):
        """Kills tessera with SIGKILL, as a crash would, and waits for it:
        for tests of what happens to its children. The test ends with this
        instead of stop() (there is nothing left to check in tessera)."""
        if self in _unstopped:
            _unstopped.remove(self)
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()

    def daemon_problems(self):
        """What went wrong with the VM daemons, from tessera's lines about
        them: an exit during the test that expect_daemon_exit did not
        declare, an exit at shutdown other than status 0, a daemon whose
        exit tessera never logged. (problems, the exit lines judged)."""
        problems = []
        ended = set()
        lines = set()
        for line in self.log().splitlines():
            m = DAEMON_ENDED.search(line)
            if m is None:
                continue
            lines.add(line)
            vm, pid, how, at_shutdown = m.groups()
            ended.add(int(pid))
            if at_shutdown:
                if how != "exited with status 0":
                    problems.append(f"vm '{vm}': its daemon (pid {pid}) {how} when "
                                    "tessera stopped, not with status 0")
            elif not any(name == vm and rx.search(how) for name, rx in self.expected_exits):
                problems.append(f"vm '{vm}': its daemon (pid {pid}) {how} during the "
                                "test (a crash? tessera restarts it; declare an "
                                "intended exit with expect_daemon_exit)")
        for vm, pids in self.daemon_pids().items():
            for pid in pids:
                if pid not in ended:
                    problems.append(f"vm '{vm}': tessera logged no exit of its daemon "
                                    f"(pid {pid})")
        return problems, lines

    def cleanup(self):
        if self in _unstopped and sys.exc_info()[0] is not None:
            # (called from a finally:) the test failed before stop(): its
            # log is about to go
            lines = [line for line in self.log().splitlines() if "[DEBUG]" not in line]
            print(f"tessera's log (the test ended before stop(); status "
                  f"{self.proc.poll()}), {min(len(lines), 200)} last lines without "
                  "DEBUG:\n" + "\n".join(lines[-200:]), flush=True)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for proc in self.clients:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if os.environ.get("TESSERA_KEEP_TEST_DIR"):
            print(f"test files kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Png:
    """A screenshot, read through tessera-png-probe (libpng)."""

    def __init__(self, path):
        self.path = path
        self.probe = program("TESSERA_PNG_PROBE")

    def _run(self, *args):
        res = subprocess.run([self.probe, self.path, *map(str, args)],
                             capture_output=True, text=True)
        # 1 only with the probe's own "none": a crash, a signal or a
        # sanitizer's exit status must not read as "no such pixel"
        if res.returncode not in (0, 1) or (
                res.returncode == 1 and res.stdout.split()[-1:] != ["none"]):
            fail(f"png-probe {args} exited {res.returncode}: {res.stderr}")
        return res.returncode, res.stdout.split()

    def size(self):
        return tuple(int(v) for v in self._run("size")[1])

    def pixel(self, x, y):
        return self._run("pixel", x, y)[1][0]

    def pixels(self, points):
        """The colours at many points, in one run of the probe."""
        args = []
        for x, y in points:
            args += ["pixel", x, y]
        return self._run(*args)[1]

    def bbox(self, color, tolerance=0, within=None):
        """(x, y, w, h, count) of the pixels of that colour, or None; only
        inside the rectangle within (x, y, w, h) when given."""
        clip = ["clip", *within] if within else []
        rc, out = self._run(*clip, "bbox", color, tolerance)
        if rc == 1:
            return None
        return tuple(int(v) for v in out)

    def count(self, color, tolerance=0, within=None):
        clip = ["clip", *within] if within else []
        return int(self._run(*clip, "count", color, tolerance)[1][0])

    def region(self, x, y, w, h):
        """(number of distinct colours, dominant colour) of a rectangle."""
        out = self._run("region", x, y, w, h)[1]
        values = dict(zip(out[0::2], out[1::2]))
        return int(values["distinct"]), values["dominant"]


class ClientLog:
    """The --log file of a tessera-simple-shm client."""

    def __init__(self, path):
        self.path = path

    def lines(self):
        try:
            with open(self.path, errors="replace") as f:
                return [line.rstrip("\n") for line in f]
        except FileNotFoundError:
            return []

    def has(self, prefix):
        return any(line.startswith(prefix) for line in self.lines())

    def matching(self, prefix):
        return [line for line in self.lines() if line.startswith(prefix)]

    def wait(self, prefix, timeout=10.0):
        return wait_for(lambda: self.matching(prefix), timeout,
                        f"'{prefix}' in {os.path.basename(self.path)}")

    def pressed_keys(self):
        """Keysym names of the key presses received, in order."""
        return [line.split()[3] for line in self.matching("key ")
                if len(line.split()) >= 4 and line.split()[2] == "pressed"]

    def wait_key(self, keysym, timeout=10.0):
        return wait_for(lambda: keysym in self.pressed_keys(), timeout,
                        f"key '{keysym}' in {os.path.basename(self.path)}")

    def pids(self):
        return [int(line.split()[1]) for line in self.matching("pid ")]


def frame_check(png, content_color, frame_color, what="window"):
    """Asserts that the content is framed on all sides by the frame colour
    (BORDER pixels, TITLE pixels on top) and returns the content box."""
    content = png.bbox(content_color)
    check(content is not None, f"{what}: no pixel of its colour #{content_color}")
    frame = png.bbox(frame_color)
    check(frame is not None, f"{what}: no frame pixel of colour #{frame_color}")
    cx, cy, cw, ch, _ = content
    fx, fy, fw, fh, _ = frame
    check((fx, fy, fw, fh) == (cx - BORDER, cy - TITLE, cw + 2 * BORDER, ch + TITLE + BORDER),
          f"{what}: frame {(fx, fy, fw, fh)} does not surround content {(cx, cy, cw, ch)}")
    # Every side of the frame really has the colour (not just the corners).
    for x, y in ((cx - 1, cy + ch // 2), (cx + cw, cy + ch // 2),
                 (cx + cw // 2, cy + ch), (cx + 1, cy - TITLE + 1)):
        check(png.pixel(x, y) == frame_color,
              f"{what}: pixel {(x, y)} is #{png.pixel(x, y)}, not the frame colour")
    return cx, cy, cw, ch


def main(test):
    """Runs test() and turns exceptions into a clear failure. A test that
    returns with a Tessera it never stopped fails: what stop() checks
    (daemon exits, sanitizer reports, ERROR lines) was not checked."""
    try:
        test()
        check(not _unstopped, f"the test did not stop {len(_unstopped)} tessera "
              "instance(s) (Tessera.stop() checks their daemons and logs)")
    except AssertionError as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
    print("PASS", flush=True)


def log_mark(log):
    """Where a ClientLog (or any object with lines()) ends now: wait_after()
    looks only at what comes after it, so that a wait for an event caused
    by an action cannot be satisfied by a line logged before the action."""
    return len(log.lines())


def wait_after(log, mark, prefix, timeout=10.0, count=1):
    """The lines of log after mark (log_mark()) that start with prefix,
    once there are count of them."""
    def new():
        lines = [line for line in log.lines()[mark:] if line.startswith(prefix)]
        return lines if len(lines) >= count else None
    return wait_for(new, timeout, f"'{prefix}' x{count} in {os.path.basename(log.path)} "
                    f"after line {mark}")
