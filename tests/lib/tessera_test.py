"""The harness of the Python tests: a tessera compositor on the headless
backend (Tessera), its screenshots (Png), the --log file of
tessera-simple-shm (ClientLog), waiting, failing and skipping.

tests/lib is on PYTHONPATH (test_env in tests/meson.build; by hand:
PYTHONPATH=tests/lib). Programs come from the environment that meson sets
for each test (TESSERA, TESSERA_SIMPLE_SHM, TESSERA_PNG_PROBE,
TESSERA_TEST_POINTER, TESSERA_TEST_TOPLEVELS, ...). Every test runs its
own compositor on the headless backend in a private XDG_RUNTIME_DIR.
/proc helpers (fds, mappings, tessera-vmd) are in tessera_proc.
"""

import os
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


def skip(reason):
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


def extend_lsan_suppressions(env, lines, tmpdir):
    """For a process that knowingly triggers a leak inside a system
    library: the run's LeakSanitizer suppressions plus these lines."""
    parts = [p for p in env.get("LSAN_OPTIONS", "").split(":") if p]
    base = ""
    for p in parts:
        if p.startswith("suppressions="):
            with open(p.split("=", 1)[1]) as f:
                base = f.read()
    path = os.path.join(tmpdir, f"lsan-{len(os.listdir(tmpdir))}.supp")
    with open(path, "w") as f:
        f.write(base + "\n".join(lines) + "\n")
    parts = [p for p in parts if not p.startswith("suppressions=")]
    env["LSAN_OPTIONS"] = ":".join(parts + [f"suppressions={path}"])


class Tessera:
    """A tessera compositor on the headless backend."""

    def __init__(self, args=(), size=(800, 600), config=None, env=None,
                 backend="headless", lsan_extra=()):
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
        if lsan_extra:
            extend_lsan_suppressions(self.env, lsan_extra, self.tmp)
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

    def screenshot(self, name=None):
        self.shot_count += 1
        path = os.path.join(self.tmp, name or f"shot-{self.shot_count}.png")
        self.run([host_program("grim"), path])
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
        """Stops the compositor; it must exit cleanly (status 0)."""
        self.stop_clients()
        terminate(self.proc, 20, "tessera")
        self.proc.stdout.close()
        self.stderr.close()
        rc = self.proc.returncode
        if rc != 0:
            print(self.log())
            fail(f"tessera exited with status {rc}")

    def cleanup(self):
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

    def bbox(self, color, tolerance=0):
        """(x, y, w, h, count) of the pixels of that colour, or None."""
        rc, out = self._run("bbox", color, tolerance)
        if rc == 1:
            return None
        return tuple(int(v) for v in out)

    def count(self, color, tolerance=0):
        return int(self._run("count", color, tolerance)[1][0])

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
    """Runs test() and turns exceptions into a clear failure."""
    try:
        test()
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
