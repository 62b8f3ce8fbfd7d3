#!/usr/bin/env python3
"""Window sharing (PROTOCOL.md §17, server/compositor/share.c): a window of
VM A ("guest") shared into VM B ("b") on the user's word (tesseractl share)
becomes the output SHARE-<id> of B's agent, which B's clients capture with
wlr-screencopy (grim, also of a region): B receives A's pixels exactly, one host copy per
frame, counted; A's window carries "shared → [b]" while the share lasts;
VM C ("c") sees nothing of it. Each way a share ends is checked: tesseractl
share stop, the window closed, B's daemon restarted, A stopped.

test_share.py          the pixels, the mark, the counters, C
test_share.py rate     A's frame rate while shared (≥ 55 frames/s), and
                       the frames B receives (printed)
test_share.py ends     the four ends; B's share output goes each time
test_share.py resize   A's window resized while shared: B's output follows
test_share.py key      the key + click: Alt+Shift+S with B's window focused,
                       then a click on A's window; Escape cancels
test_share.py portal   xdg-desktop-portal-wlr in B (private D-Bus session,
                       PipeWire + WirePlumber): ScreenCast of SHARE-<id>
                       gives a PipeWire node whose frame (GStreamer) is A's
                       checkerboard
"""

import os
import re
import subprocess
import sys
import time

import agent_test as a
import tessera_test as t

B, B_COLOR = "b", "33cc33"
C, C_COLOR = "c", "3333cc"
W, H = 200, 120


def start(extra=((B, B_COLOR), (C, C_COLOR))):
    return a.Loopback(size=(1024, 768), extra_vms=list(extra))


def window_id(loop, vm=a.VM):
    for w in loop.ctl("window", "list")["windows"]:
        if w["vm"] == vm:
            return w["id"]
    t.fail(f"no window of VM {vm}: {loop.ctl('window', 'list')}")


def share(loop, wid, to=B):
    reply = loop.ctl("share", str(wid), "--to", to)
    return reply["share"]["id"]


def shares(loop):
    return {s["id"]: s for s in loop.ctl("share", "list")["shares"]}


def grim(vm, output, path, ok=True):
    """grim in VM vm (against its agent) of one output, or of all (None)."""
    res = subprocess.run([t.host_program("grim")] + (["-o", output] if output else []) +
                         [path], env=vm.guest_env, capture_output=True, text=True,
                         timeout=30)
    if ok:
        t.check(res.returncode == 0, f"grim -o {output} in VM {vm.name}: {res.stderr}")
        return t.Png(path)
    return res


def has_output(vm, name):
    res = grim(vm, name, os.path.join(vm.tessera.tmp, "probe.png"), ok=False)
    return res.returncode == 0


def test_pixels():
    loop = start()
    try:
        b, c = loop.vm(B), loop.vm(C)
        client = loop.guest_client([t.program("AGENT_OUTPUT_CLIENT"), "--size", f"{W}x{H}",
                                    "--colors", "ff0000,0000ff"],
                                   stdout=subprocess.PIPE, text=True)
        a.read_until(client, "mapped")
        wid = window_id(loop)
        # not into its own VM, not a window that does not exist
        loop.ctl("share", str(wid), "--to", a.VM, ok=False)
        loop.ctl("share", "999", "--to", B, ok=False)

        def bar_background():
            # A's title bar: pixels of A's colour are not text
            shot = loop.tessera.screenshot()
            x, y, w, h, _ = shot.bbox("ff0000")
            return shot.count(a.VM_COLOR, within=(x, y - 22, w, 22))

        unshared = bar_background()
        t.check(unshared > 0, "A's title bar is not in A's colour")
        sid = share(loop, wid)
        mark = f"[{a.VM}] (shared \u2192 [{B}])"
        t.wait_for(lambda: any(x.startswith(mark) for x in loop.titles()), 15,
                   "the mark in the title")

        # B captures A's window, pixel for pixel
        t.wait_for(lambda: has_output(b, f"SHARE-{sid}"), 15, f"SHARE-{sid} in VM {B}")
        png = t.wait_for(lambda: (lambda p: p if p.count("ff0000") == W * H // 2 else None)(
            grim(b, f"SHARE-{sid}", os.path.join(loop.tessera.tmp, "b.png"))), 15,
            "A's checkerboard in B's capture")
        t.check(png.size() == (W, H), f"B's capture is {png.size()}")
        t.check(png.count("0000ff") == W * H // 2, "B's capture is not the checkerboard")
        t.check(png.pixels([(0, 0), (1, 0), (0, 1), (W - 1, H - 1)]) ==
                ["ff0000", "0000ff", "0000ff", "ff0000"], "checkerboard misplaced in B")
        # one host copy of the whole frame: the window did not change since
        s = shares(loop)[sid]
        t.check(s["frames"] == 1 and s["bytes_copied"] == W * H * 4,
                f"share counters: {s}")
        t.check((s["from"], s["to"], s["window"]) == (a.VM, B, wid), f"share: {s}")
        t.wait_for(lambda: next(v for v in loop.ctl("vm", "list")["vms"]
                                if v["name"] == B).get("bytes_copied", 0) >= W * H * 4,
                   10, f"VM {B}'s bytes copied counting the share")
        text = loop.tessera.run([t.program("TESSERA_CTL"), "share", "list"]).stdout
        t.check(f"{a.VM}" in text and f"{W}x{H}" in text and str(W * H * 4) in text,
                f"share list printed {text!r}")

        # the mark is drawn by tessera in A's title bar: more text on it
        t.wait_for(lambda: 0 < bar_background() < unshared, 10,
                   "the mark's text in A's title bar")

        # C sees nothing: no share output, its other outputs capture black
        t.check(not has_output(c, f"SHARE-{sid}"), f"VM {C} has SHARE-{sid}")
        cp = grim(c, None, os.path.join(loop.tessera.tmp, "c.png"))
        cw, ch = cp.size()
        t.check(cp.count("000000") == cw * ch, f"VM {C}'s capture shows something")
        bp = grim(b, None, os.path.join(loop.tessera.tmp, "b-all.png"))
        t.check(bp.count("ff0000") == W * H // 2,
                f"VM {B}'s whole capture shows more or less than the shared window")
        # a region of it (capture_output_region, clipped to the output)
        sx, sy, sw, sh, _ = bp.bbox("ff0000")
        res = subprocess.run([t.host_program("grim"), "-g", f"{sx + 1},{sy} 4x2",
                              os.path.join(loop.tessera.tmp, "b-region.png")],
                             env=b.guest_env, capture_output=True, text=True, timeout=30)
        t.check(res.returncode == 0, f"grim -g in VM {B}: {res.stderr}")
        rp = t.Png(os.path.join(loop.tessera.tmp, "b-region.png"))
        t.check(rp.size() == (4, 2) and
                rp.pixels([(x, y) for y in range(2) for x in range(4)]) ==
                ["0000ff", "ff0000", "0000ff", "ff0000", "ff0000", "0000ff", "ff0000",
                 "0000ff"], f"VM {B}'s capture of a region of the share: {rp.size()}")
        t.check("share" not in c.log(), f"VM {C}'s agent heard of the share")
        loop.stop()
    finally:
        loop.cleanup()


def frames_of(log):
    return sum(1 for line in log.lines() if line.startswith("frame "))


def test_rate():
    loop = start(extra=((B, B_COLOR),))
    try:
        log = t.ClientLog(f"{loop.tessera.tmp}/anim.log")
        loop.guest_client([t.program("TESSERA_SIMPLE_SHM"), "--color", "ff8800", "--size",
                           "640x480", "--animate", "--title", "call", "--log", log.path])
        log.wait("mapped", 20)
        loop.wait_title(f"[{a.VM}] call")

        def rate(seconds=4.0):
            f0, t0 = frames_of(log), time.monotonic()
            time.sleep(seconds)
            return (frames_of(log) - f0) / (time.monotonic() - t0)

        alone = rate()
        sid = share(loop, window_id(loop))
        t.wait_for(lambda: shares(loop)[sid]["buffers"] == 3, 15, "B's buffers")
        s0, t0 = shares(loop)[sid], time.monotonic()
        shared = rate()
        s1 = shares(loop)[sid]
        received = (s1["frames"] - s0["frames"]) / (time.monotonic() - t0)
        per_frame = (s1["bytes_copied"] - s0["bytes_copied"]) / max(1, s1["frames"] -
                                                                     s0["frames"])
        print(f"A alone {alone:.1f} frames/s; A shared {shared:.1f} frames/s; B received "
              f"{received:.1f} frames/s; {per_frame:.0f} host bytes copied per shared "
              f"frame (one copy of {640 * 480 * 4}); {s1['frames_skipped']} skipped")
        t.check(shared >= 55, f"A presents {shared:.1f} frames/s while shared (< 55)")
        t.check(received > 0, "B received no frames")
        t.check(per_frame <= 640 * 480 * 4, f"{per_frame} bytes copied per frame")
        loop.stop()
    finally:
        loop.cleanup()


def test_ends():
    loop = start(extra=((B, B_COLOR),))
    try:
        b = loop.vm(B)
        simple_shm = t.program("TESSERA_SIMPLE_SHM")

        def window(title):
            log = t.ClientLog(f"{loop.tessera.tmp}/{title}.log")
            proc = loop.guest_client([simple_shm, "--color", "ff8800", "--size", f"{W}x{H}",
                                      "--title", title, "--log", log.path])
            log.wait("mapped", 20)
            loop.wait_title(f"[{a.VM}] {title}")
            return proc

        def shared(title):
            sid = share(loop, next(w["id"] for w in loop.ctl("window", "list")["windows"]
                                   if w["title"] == title))
            loop.wait_title(f"[{a.VM}] (shared \u2192 [{B}]) {title}")
            t.wait_for(lambda: has_output(b, f"SHARE-{sid}"), 15, f"SHARE-{sid} in B")
            return sid

        def ended(sid, title, how):
            t.wait_for(lambda: sid not in shares(loop), 15, f"share {sid} ended by {how}")
            t.wait_for(lambda: not has_output(b, f"SHARE-{sid}"), 15,
                       f"SHARE-{sid} gone from B after {how}")
            t.check(not any("shared \u2192" in x for x in loop.titles()),
                    f"a window still carries the mark after {how}: {loop.titles()}")

        # 1. tesseractl share stop
        window("one")
        sid = shared("one")
        text = loop.tessera.run([t.program("TESSERA_CTL"), "share", "stop", str(sid)]).stdout
        t.check(text == f"share {sid} stopped\n", f"share stop printed {text!r}")
        loop.ctl("share", "stop", str(sid), ok=False)
        ended(sid, "one", "share stop")
        loop.wait_title(f"[{a.VM}] one")

        # 2. the window closed
        proc = window("two")
        sid = shared("two")
        loop.ctl("window", "close", str(next(w["id"] for w in
                                              loop.ctl("window", "list")["windows"]
                                              if w["title"] == "two")))
        t.wait_for(lambda: proc.poll() is not None, 15, "the client closing")
        ended(sid, "two", "closing the window")

        # 3. B's daemon restarted
        sid = shared("one")
        loop.tessera.expect_daemon_exit(B, r"^exited with status 0$")
        loop.expect_error(r"tessera-agent \[ERROR\] lost the host \(vhost-user .*b\.sock\)")
        loop.ctl("vm", "restart", B)
        ended(sid, "one", f"restarting VM {B}")
        t.wait_for(lambda: "(session 2)" in b.log(), 20, f"VM {B}'s agent reconnecting")

        # 4. A stopped
        sid = shared("one")
        loop.tessera.expect_daemon_exit(a.VM, r"^exited with status 0$")
        loop.expect_error(r"tessera-agent \[ERROR\] lost the host \(vhost-user .*vm\.sock\)")
        loop.expect_error(r"\[ERROR\] lost the connection to the compositor")
        loop.ctl("vm", "stop", a.VM)
        ended(sid, "one", f"stopping VM {a.VM}")
        loop.ctl("vm", "start", a.VM)
        t.wait_for(lambda: "(session 2)" in loop.log(), 20, f"VM {a.VM}'s agent reconnecting")
        loop.stop()
    finally:
        loop.cleanup()


def test_resize():
    """A's window resized by the host while shared: B's share output takes
    the new size and shows the whole window again; B's session carries on."""
    import toolkit_test
    loop = start(extra=((B, B_COLOR),))
    try:
        b = loop.vm(B)
        log = t.ClientLog(f"{loop.tessera.tmp}/grow.log")
        loop.guest_client([t.program("TESSERA_SIMPLE_SHM"), "--color", "ff8800", "--size",
                           f"{W}x{H}", "--title", "grow", "--log", log.path])
        log.wait("mapped", 20)
        loop.wait_title(f"[{a.VM}] grow")
        sid = share(loop, window_id(loop))
        path = os.path.join(loop.tessera.tmp, "b.png")

        def shows(w, h):
            if not has_output(b, f"SHARE-{sid}"):
                return None
            png = grim(b, f"SHARE-{sid}", path)
            return png if png.size() == (w, h) and png.count("ff8800") == w * h else None

        t.wait_for(lambda: shows(W, H), 15, f"the {W}x{H} window in B")
        x, y, w, h, _ = loop.tessera.screenshot().bbox("ff8800")
        toolkit_test.alt_drag(loop, (x + w - 10, y + h - 10), (60, 40))
        t.wait_for(lambda: shows(W + 60, H + 40), 15, f"the {W + 60}x{H + 40} window in B")
        s = shares(loop)[sid]
        t.check((s["width"], s["height"]) == (W + 60, H + 40), f"share: {s}")
        t.check("session 2" not in b.log(), f"VM {B}'s session ended")
        loop.stop()
    finally:
        loop.cleanup()


def center(png, color):
    x, y, w, h, _ = png.bbox(color)
    return x + w // 2, y + h // 2


def test_key():
    """Alt+Shift+S with B's window focused, then a click on A's window:
    shared into B; the click reaches no client. Escape cancels a pick."""
    pointer = t.program("TESSERA_TEST_POINTER")
    wtype = t.host_program("wtype")
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    loop = start(extra=((B, B_COLOR),))
    try:
        b = loop.vm(B)
        logs = {}
        for vm, color, title in ((loop.primary, "ff8800", "source"), (b, "3355ee", "call")):
            logs[title] = t.ClientLog(f"{loop.tessera.tmp}/{title}.log")
            vm.guest_client([simple_shm, "--color", color, "--size", f"{W}x{H}",
                             "--title", title, "--log", logs[title].path])
            logs[title].wait("mapped", 20)
        png = a.screenshot_with(loop, ["ff8800", "3355ee"], what="both windows")
        source, call = center(png, "ff8800"), center(png, "3355ee")

        def keys_then_click(*keys):
            loop.tessera.run([pointer, "move", *call, "click", "left", "sleep", "100"])
            t.wait_for(lambda: logs["call"].has("keyboard enter"), 10, "B's window focused")
            loop.tessera.run([wtype, "-M", "alt", "-M", "shift", "s", "-m", "shift", "-m",
                              "alt", *keys])
            mark = t.log_mark(logs["source"])
            loop.tessera.run([pointer, "move", *source, "click", "left", "sleep", "200"])
            return mark

        # armed, then Escape: the click is an ordinary click
        mark = keys_then_click("-k", "Escape")
        t.wait_after(logs["source"], mark, "pointer button 272 pressed")
        t.check(shares(loop) == {}, f"a share after Escape: {shares(loop)}")

        # armed: the click shares the window and reaches nobody
        mark = keys_then_click()
        t.wait_for(lambda: len(shares(loop)) == 1, 10, "the share the click made")
        s = next(iter(shares(loop).values()))
        t.check((s["from"], s["to"]) == (a.VM, B), f"share: {s}")
        loop.wait_title(f"[{a.VM}] (shared \u2192 [{B}]) source")
        time.sleep(0.5)
        t.check(not any(line.startswith("pointer button") for line in
                        logs["source"].lines()[mark:]),
                f"the picking click reached the window: {logs['source'].lines()[mark:]}")
        t.wait_for(lambda: has_output(b, f"SHARE-{s['id']}"), 15, "the share output in B")
        loop.stop()
    finally:
        loop.cleanup()


XDPW = "/usr/libexec/xdg-desktop-portal-wlr"
PORTAL_BUS = "org.freedesktop.impl.portal.desktop.wlr"

PORTAL_PATH = "/org/freedesktop/portal/desktop"
SESSION = PORTAL_PATH + "/session/t/s1"


def screencast(gdbus, env, log, method, *args):
    """One call of xdg-desktop-portal-wlr's ScreenCast implementation, as
    xdg-desktop-portal makes it: the results (GVariant text) of a
    response 0."""
    res = subprocess.run([gdbus, "call", "--session", "--timeout", "60", "--dest",
                          PORTAL_BUS, "--object-path", PORTAL_PATH, "--method",
                          "org.freedesktop.impl.portal.ScreenCast." + method,
                          f"{PORTAL_PATH}/request/t/{method}", SESSION, "tessera-test",
                          *args], env=env, capture_output=True, text=True, timeout=90)
    t.check(res.returncode == 0 and res.stdout.startswith("(uint32 0,"),
            f"ScreenCast.{method}: {res.stdout}{res.stderr}\nxdg-desktop-portal-wlr's log "
            "ends:\n" + "\n".join(open(log, errors="replace").read().splitlines()[-40:]))
    return res.stdout


def test_portal():
    """A guest's screen-sharing application (a browser, a video call) uses
    xdg-desktop-portal-wlr: with chooser_type=none and output_name=SHARE-1
    it casts the share into a PipeWire stream; a frame of that stream is
    A's checkerboard, exactly."""
    dbus_daemon = t.host_program("dbus-daemon")
    pipewire = t.host_program("pipewire")
    wireplumber = t.host_program("wireplumber")
    gst = t.host_program("gst-launch-1.0")
    if not os.access(XDPW, os.X_OK):
        t.skip(f"{XDPW} is not installed (scripts/install-deps.sh --tests installs it)")
    gdbus = t.host_program("gdbus")
    loop = start(extra=((B, B_COLOR),))
    daemons = []
    try:
        b = loop.vm(B)
        client = loop.guest_client([t.program("AGENT_OUTPUT_CLIENT"), "--size", f"{W}x{H}",
                                    "--colors", "ff0000,0000ff"],
                                   stdout=subprocess.PIPE, text=True)
        a.read_until(client, "mapped")
        sid = share(loop, window_id(loop))
        t.check(sid == 1, f"the first share is {sid}, not 1 (output_name=SHARE-1)")
        t.wait_for(lambda: (lambda p: p.count("ff0000") == W * H // 2)(
            grim(b, "SHARE-1", os.path.join(loop.tessera.tmp, "b.png"))), 15,
            "A's checkerboard in B's SHARE-1")

        # B's desktop session: its own D-Bus, PipeWire, WirePlumber, portal
        home = os.path.join(loop.tessera.tmp, "b-home")
        env = dict(b.guest_env)
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"),
                         ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")):
            env[var] = os.path.join(home, sub)
            os.makedirs(env[var])
        os.makedirs(os.path.join(env["XDG_CONFIG_HOME"], "xdg-desktop-portal-wlr"))
        with open(os.path.join(env["XDG_CONFIG_HOME"], "xdg-desktop-portal-wlr",
                               "config"), "w") as f:
            f.write("[screencast]\noutput_name=SHARE-1\nchooser_type=none\n")
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)

        def daemon(argv, name, **kwargs):
            log = open(os.path.join(loop.tessera.tmp, name + ".log"), "w")
            proc = subprocess.Popen(argv, env=env, stderr=log, **kwargs)
            daemons.append((proc, name, log))
            return proc

        bus = daemon([dbus_daemon, "--session", "--nofork", "--nopidfile",
                      "--print-address=1", "--address=unix:path=" + os.path.join(home, "bus")],
                     "dbus-daemon",
                     stdout=subprocess.PIPE, text=True)
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
        t.check(env["DBUS_SESSION_BUS_ADDRESS"].startswith("unix:"),
                "dbus-daemon printed no address")
        daemon([pipewire], "pipewire")
        t.wait_for(lambda: os.path.exists(os.path.join(b.guest_runtime, "pipewire-0")), 20,
                   "PipeWire's socket")
        daemon([wireplumber], "wireplumber")
        daemon([XDPW, "-l", "DEBUG"], "xdpw")
        xdpw_log = os.path.join(loop.tessera.tmp, "xdpw.log")

        def portal_up():
            res = subprocess.run([gdbus, "call", "--session", "--dest",
                                  "org.freedesktop.DBus", "--object-path",
                                  "/org/freedesktop/DBus", "--method",
                                  "org.freedesktop.DBus.NameHasOwner", PORTAL_BUS],
                                 env=env, capture_output=True, text=True, timeout=30)
            return "true" in res.stdout

        t.wait_for(portal_up, 30, "xdg-desktop-portal-wlr on B's session bus")
        screencast(gdbus, env, xdpw_log, "CreateSession", "{}")
        screencast(gdbus, env, xdpw_log, "SelectSources",
                   "{'types': <uint32 1>, 'multiple': <false>}")
        started = screencast(gdbus, env, xdpw_log, "Start", "", "{}")
        # 'streams': <[(uint32 NODE, {..., 'size': <(W, H)>, ...})]>
        streams = re.findall(r"\(uint32 (\d+), \{[^{}]*'size': <\((\d+), (\d+)\)>", started)
        t.check(len(streams) == 1, f"Start's streams: {started}")
        node, width, height = streams[0]
        t.check((int(width), int(height)) == (W, H), f"Start's stream: {started}")

        # one frame of the PipeWire node, as a guest application takes it,
        # in bytes: R, G, B per pixel, rows of W * 3 (a multiple of 4: no padding)
        path = os.path.join(loop.tessera.tmp, "portal.rgb")
        res = subprocess.run([gst, "-q", "pipewiresrc", f"path={node}", "num-buffers=1", "!",
                              "videoconvert", "!", "video/x-raw,format=RGB", "!", "filesink",
                              f"location={path}"], env=env, capture_output=True, text=True,
                             timeout=60)
        t.check(res.returncode == 0, f"gst-launch-1.0 failed: {res.stdout}{res.stderr}")
        with open(path, "rb") as f:
            frame = f.read()
        t.check(len(frame) == W * H * 3, f"the portal's frame has {len(frame)} bytes, "
                f"not {W}x{H} RGB")
        want = b"".join(bytes.fromhex("ff0000" if (x + y) % 2 == 0 else "0000ff")
                        for y in range(H) for x in range(W))
        wrong = sum(1 for i in range(0, len(frame), 3) if frame[i:i + 3] != want[i:i + 3])
        t.check(wrong == 0, f"{wrong} pixels of the portal's frame are not A's checkerboard "
                f"(first pixels {frame[:12].hex()})")
        for proc, name, log in reversed(daemons):
            t.check(t.terminate(proc, 15, name) in (0, -15), f"{name} exited with status "
                    f"{proc.returncode}")
        loop.stop()
    finally:
        for proc, name, log in reversed(daemons):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
        loop.cleanup()


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "pixels"
    t.main({"pixels": test_pixels, "rate": test_rate, "ends": test_ends,
            "key": test_key, "resize": test_resize, "portal": test_portal}[which])
