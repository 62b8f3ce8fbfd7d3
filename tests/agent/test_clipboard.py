#!/usr/bin/env python3
"""The clipboard between VMs, only on the user's word (tessera.ini(5)
clipboard, clipboard-max, clipboard-keep; tesseractl(1) clipboard): VM
guest's selection (wl-copy) copied into tessera's clipboard by tesseractl
and by Ctrl+Shift+C in its window, pasted into VM b (wl-paste reads it)
by tesseractl and by Ctrl+Shift+V in b's window, once unless
clipboard-keep; a PNG re-encoded (pixels kept, a text chunk and a trailing
payload gone); invalid UTF-8, NUL bytes and non-PNG "images" refused; the
VMs' policies; a source that never stops is cut at clipboard-max with an
error while the other VM keeps presenting, one that stalls is given up on;
an X11 application (xclip) as source and target; the notice drawn above
every window."""

import os
import struct
import subprocess
import time
import zlib

import agent_test as a
import tessera_test as t

B = "b"
B_COLOR = "3366cc"
TEXT = "text/plain;charset=utf-8"
NOTICE = "ffd700"  # clipboard.c: NOTICE_BACKGROUND


def ctl(loop, *args):
    return loop.tessera.run([t.program("TESSERA_CTL"), *args], check_rc=False, timeout=40)


def ctl_ok(loop, *args):
    res = ctl(loop, *args)
    t.check(res.returncode == 0, f"tesseractl {' '.join(args)} failed "
            f"({res.returncode}): {res.stderr}{res.stdout}")
    return res.stdout


def ctl_refused(loop, what, *args):
    res = ctl(loop, *args)
    t.check(res.returncode == 1, f"tesseractl {' '.join(args)} was not refused "
            f"({res.returncode}): {res.stdout}{res.stderr}")
    t.check(what in res.stderr, f"tesseractl {' '.join(args)}: expected '{what}' "
            f"in: {res.stderr}")
    return res.stderr


def guest(loop, argv, stdin=None, timeout=20):
    res = subprocess.run([str(x) for x in argv], env=loop.guest_env, input=stdin,
                         capture_output=True, timeout=timeout)
    return res


def wl_copy(loop, data, mime=None):
    """wl-copy serves the selection from a child in the background, which
    keeps no pipe of ours open."""
    res = subprocess.run([t.host_program("wl-copy")] + (["--type", mime] if mime else []),
                         env=loop.guest_env, input=data, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, timeout=20)
    t.check(res.returncode == 0, "wl-copy failed")


def wl_paste(loop, mime=None):
    res = guest(loop, [t.host_program("wl-paste"), "--no-newline"] +
                (["--type", mime] if mime else []))
    return res.returncode, res.stdout


def wait_paste(loop, want, mime=None, timeout=15):
    last = [None]

    def ok():
        rc, out = wl_paste(loop, mime)
        last[0] = (rc, out[:80])
        return rc == 0 and out == want
    t.wait_for(ok, timeout, f"the guest's selection to be the pasted bytes "
               f"(last: {last[0]})")


def png(width, height, rgb, trailer=b""):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    row = b"\0" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"tEXt", b"Comment\0hidden payload") +
            chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"") + trailer)


def png_chunks(data):
    """The chunk types of a PNG and whether nothing follows its IEND."""
    t.check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, chunks = 8, []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append(data[pos + 4:pos + 8])
        pos += 12 + length
        if chunks[-1] == b"IEND":
            break
    return chunks, pos == len(data)


def test_text_and_png(loop):
    text = "Grüße aus der VM — ✓\nzweite Zeile\t".encode() * 100
    wl_copy(loop, text)
    out = ctl_ok(loop, "clipboard", "copy", "--from", a.VM)
    t.check(f"text/plain;charset=utf-8, {len(text)} bytes, from {a.VM}" in out,
            f"clipboard copy reported: {out}")
    notice = f"[{a.VM}] → clipboard: {len(text) / 1024:.1f} KiB text"
    t.check(notice in loop.tessera.log(), f"no notice '{notice}' in tessera's log")
    shot = loop.tessera.screenshot()
    w, _ = shot.size()
    t.check(shot.pixel(w // 2 - 200, 8) == NOTICE, "no notice drawn at the top of the "
            f"output (pixel {shot.pixel(w // 2 - 200, 8)})")
    # into VM b, whose selection was another
    b = loop.vm(B)
    wl_copy(b, b"something else")
    out = ctl_ok(loop, "clipboard", "paste", "--to", B)
    wait_paste(b, text)
    t.check(f"clipboard → [{B}]: {len(text) / 1024:.1f} KiB text" in loop.tessera.log(),
            "no notice of the paste in tessera's log")
    t.check("clipboard: empty" in ctl_ok(loop, "clipboard", "show"),
            "the clipboard kept its content after a paste without clipboard-keep")
    ctl_refused(loop, "empty", "clipboard", "paste", "--to", a.VM)

    # a PNG: re-encoded, its pixels kept, its text chunk and trailer gone
    image = png(7, 5, (12, 200, 99), trailer=b"#!/bin/sh rm -rf ~")
    wl_copy(loop, image, "image/png")
    out = ctl_ok(loop, "clipboard", "copy", "--from", a.VM)
    t.check("image/png" in out, f"clipboard copy of a PNG reported: {out}")
    wl_copy(b, b"other")
    ctl_ok(loop, "clipboard", "paste", "--to", B)
    t.wait_for(lambda: wl_paste(b, "image/png")[0] == 0, 15, "a PNG in VM b")
    rc, pasted = wl_paste(b, "image/png")
    path = os.path.join(loop.tessera.tmp, "pasted.png")
    with open(path, "wb") as f:
        f.write(pasted)
    shot = t.Png(path)  # read with libpng by tessera-png-probe
    t.check(shot.size() == (7, 5), f"pasted PNG is {shot.size()}")
    colors = set(shot.pixels([(x, y) for x in range(7) for y in range(5)]))
    t.check(colors == {"0cc863"}, f"pasted PNG's pixels: {colors}")
    chunks, exact = png_chunks(pasted)
    t.check(b"tEXt" not in chunks and exact, f"pasted PNG kept more than the "
            f"image: chunks {chunks}, nothing after IEND: {exact}")


def test_refused_content(loop):
    for data, mime, why in (
            (b"caf\xe9 latin-1", TEXT, "not valid UTF-8"),
            (b"a\0b", TEXT, "NUL"),
            (b"GIF89a not a png", "image/png", "not a PNG"),
            (png(4, 4, (1, 2, 3))[:40], "image/png", "PNG")):
        wl_copy(loop, data, mime)
        ctl_refused(loop, why, "clipboard", "copy", "--from", a.VM)
        t.check("clipboard: empty" in ctl_ok(loop, "clipboard", "show"),
                f"refused content ({why}) reached the clipboard")


def test_flood(loop):
    """A source that writes forever: cut at clipboard-max (64M here) with an
    error; meanwhile VM b's window keeps presenting, and so does the VM's
    own."""
    flood = loop.guest_client([t.program("AGENT_CLIP_FLOOD")], stdout=subprocess.PIPE,
                              text=True)
    t.check(flood.stdout.readline().strip() == "offered", "clip-flood did not offer")
    shm = loop.guest_client([t.program("TESSERA_SIMPLE_SHM"), "--title", "steady"])
    loop.wait_title(f"[{a.VM}] steady")
    steady = t.ClientLog(f"{loop.tessera.tmp}/steady-b.log")
    loop.vm(B).guest_client([t.program("TESSERA_SIMPLE_SHM"), "--animate", "--title",
                             "steady b", "--size", "64x64", "--log", steady.path])
    steady.wait("frame", 20)
    loop.expect_error(r"clipboard copy from VM guest cut off at its clipboard-max "
                      r"of 67108864 bytes")
    frames = []
    start = time.monotonic()
    copy = subprocess.Popen([t.program("TESSERA_CTL"), "clipboard", "copy", "--from", a.VM],
                            env=loop.tessera.client_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    while copy.poll() is None:
        frames.append((time.monotonic(), len(steady.matching("frame "))))
        time.sleep(0.1)
    took = time.monotonic() - start
    out, err = copy.communicate()
    t.check(copy.returncode == 1 and "clipboard-max" in err,
            f"the flood was not cut off at clipboard-max: {copy.returncode} {out}{err}")
    during = frames[-1][1] - frames[0][1] if len(frames) > 1 else 0
    span = frames[-1][0] - frames[0][0] if len(frames) > 1 else 0
    print(f"flood of 64 MiB cut off after {took:.2f} s; VM b's window meanwhile: "
          f"{during} frames in {span:.2f} s")
    t.check(took < 1 or during >= span * 10,
            f"VM b's window showed {during} frames in the {span:.1f} s of the flood")
    t.check("clipboard: empty" in ctl_ok(loop, "clipboard", "show"),
            "a cut-off copy reached the clipboard")
    line = flood.stdout.readline().strip()
    t.check(line.startswith("cut after "), f"clip-flood was not cut off: {line!r}")
    t.check(shm.poll() is None, "the steady client died")
    flood.terminate()
    flood.wait()

    # a source that never writes: the agent gives up after 5 s
    stall = loop.guest_client([t.program("AGENT_CLIP_FLOOD"), "--stall"],
                              stdout=subprocess.PIPE, text=True)
    t.check(stall.stdout.readline().strip() == "offered", "clip-flood did not offer")
    start = time.monotonic()
    ctl_refused(loop, "timed out", "clipboard", "copy", "--from", a.VM)
    took = time.monotonic() - start
    t.check(4 <= took < 12, f"a stalled source was given up on after {took:.1f} s")
    wl_copy(loop, b"after the stall")
    out = ctl_ok(loop, "clipboard", "copy", "--from", a.VM)
    t.check("15 bytes" in out, f"the next copy after a stalled one: {out}")
    stall.terminate()

    # a guest reader that asks for the pasted selection and never reads it:
    # given up on after 5 s, while other readers get it at once
    big = b"x" * (1 << 20)
    wl_copy(loop, big)
    ctl_ok(loop, "clipboard", "copy", "--from", a.VM)
    # (a small selection first: the reader would stall wl-copy itself)
    wl_copy(loop, b"small")
    reader = loop.guest_client([t.program("AGENT_CLIP_FLOOD"), "--reader", TEXT],
                               stdout=subprocess.PIPE, text=True)
    t.check(reader.stdout.readline().strip() == "asked", "the reader did not ask")
    ctl_ok(loop, "clipboard", "paste", "--to", a.VM)
    t.check(reader.stdout.readline().strip() == "asked",
            "the silent reader did not ask for the pasted selection")
    wait_paste(loop, big)
    t.wait_for(lambda: "a client stopped reading the pasted selection" in loop.log(), 15,
               "the agent giving up on the silent reader")
    reader.terminate()


def click(loop, color, what):
    """Clicks the middle of the window showing color: it gets the focus."""
    png = a.screenshot_with(loop, [color], what=what)
    x, y, w, h, _ = png.bbox(color)
    loop.tessera.run([t.program("TESSERA_TEST_POINTER"), "move", x + w // 2, y + h // 2,
                      "click", "left", "sleep", "300"])


def focused_window(loop, vm, color, title):
    """A tessera-simple-shm window of vm, clicked: its log once it has the
    keyboard focus."""
    log = t.ClientLog(f"{loop.tessera.tmp}/{title}.log")
    vm.guest_client([t.program("TESSERA_SIMPLE_SHM"), "--color", color, "--size",
                     "200x150", "--title", title, "--log", log.path])
    log.wait("mapped", 20)
    click(loop, color, f"VM {vm.name}'s window {title}")
    log.wait("keyboard enter")
    return log


def test_keys(loop):
    """Ctrl+Shift+C / V in the VM's window: the clipboard's keys, never the
    window's."""
    wtype = t.host_program("wtype")
    log = focused_window(loop, loop.primary, "33cc33", "keys")
    text = b"typed with the keys"
    wl_copy(loop, text)
    loop.tessera.run([wtype, "-M", "ctrl", "-M", "shift", "-k", "c", "-m", "shift",
                      "-m", "ctrl"])
    t.wait_for(lambda: f"[{a.VM}] → clipboard: {len(text)} B text" in loop.tessera.log(),
               15, "the copy by Ctrl+Shift+C")
    # Ctrl+Shift+V in VM b's window
    b = loop.vm(B)
    b_log = focused_window(loop, b, "cccc33", "keys-b")
    wl_copy(b, b"replaced")
    loop.tessera.run([wtype, "-M", "ctrl", "-M", "shift", "-k", "v", "-m", "shift",
                      "-m", "ctrl"])
    wait_paste(b, text)
    t.check(f"clipboard → [{B}]: {len(text)} B text" in loop.tessera.log(),
            "no notice of the paste")
    for name, client_log in (("guest", log), (B, b_log)):
        pressed = client_log.pressed_keys()
        t.check(not any(k.lower() in ("c", "v") for k in pressed),
                f"VM {name}'s window got the clipboard's keys: {pressed}")


class Host:
    """The host's side, for wl_copy / wl_paste: tessera's own clients."""

    def __init__(self, loop):
        self.guest_env = loop.tessera.client_env


def test_host(loop):
    """The same keys in a host window move between the host's own selection
    (wl-copy on tessera, data control) and tessera's clipboard."""
    wtype = t.host_program("wtype")
    host = Host(loop)
    log = t.ClientLog(f"{loop.tessera.tmp}/host-window.log")
    loop.tessera.client([t.program("TESSERA_SIMPLE_SHM"), "--color", "808080", "--size",
                         "200x150", "--title", "host window", "--log", log.path])
    log.wait("mapped", 20)
    click(loop, "808080", "the host window")
    log.wait("keyboard enter")
    wl_copy(host, b"from the host")
    loop.tessera.run([wtype, "-M", "ctrl", "-M", "shift", "-k", "c", "-m", "shift",
                      "-m", "ctrl"])
    t.wait_for(lambda: "[host] → clipboard: 13 B text" in loop.tessera.log(), 15,
               "the copy of the host's selection by Ctrl+Shift+C")
    b = loop.vm(B)
    wl_copy(b, b"-")
    ctl_ok(loop, "clipboard", "paste", "--to", B)
    wait_paste(b, b"from the host")
    # and back: VM guest's selection into the host's by Ctrl+Shift+V
    wl_copy(loop, b"to the host")
    ctl_ok(loop, "clipboard", "copy", "--from", a.VM)
    click(loop, "808080", "the host window")
    loop.tessera.run([wtype, "-M", "ctrl", "-M", "shift", "-k", "v", "-m", "shift",
                      "-m", "ctrl"])
    wait_paste(host, b"to the host")


def test_x11(loop):
    """xclip under the agent's Xwayland as source and as target. wlroots
    0.15's window manager bridges X11's CLIPBOARD to the seat only while an
    X11 window has the focus (xwayland/selection: "no xwayland surface
    focused"), as when the user presses the keys in an X11 application."""
    xclip = t.host_program("xclip")
    t.check(loop.x_display is not None, "the agent has no Xwayland")
    log = t.ClientLog(f"{loop.tessera.tmp}/x11.log")
    loop.guest_client([t.program("AGENT_X11_CLIENT"), "--title", "x11 window",
                       "--color", "22aa66", "--size", "240x160", "--log", log.path])
    log.wait("mapped x11 window", 30)
    click(loop, "22aa66", "the X11 window")
    text = b"from an X11 client \xe2\x9c\x93"
    subprocess.run([xclip, "-selection", "clipboard", "-i"], input=text,
                   env=loop.guest_env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=20, check=True)

    def copied():
        res = ctl(loop, "clipboard", "copy", "--from", a.VM)
        return res.returncode == 0 and f"{len(text)} bytes" in res.stdout
    t.wait_for(copied, 15, "xclip's selection copied from the VM")
    wl_copy(loop, b"not this")
    ctl_ok(loop, "clipboard", "paste", "--to", a.VM)

    def x_paste():
        res = subprocess.run([xclip, "-selection", "clipboard", "-o"],
                             env=loop.guest_env, capture_output=True, timeout=20)
        return res.returncode == 0 and res.stdout == text
    t.wait_for(x_paste, 15, "xclip reading the pasted selection")


class KeepLoopback(a.Loopback):
    """A loopback whose tessera.ini starts with clipboard-keep = yes."""

    def _config_args(self, config):
        return super()._config_args("clipboard-keep = yes\n" + config)


def test_policy():
    """clipboard = copy: no paste into the VM; none: nothing either way;
    clipboard-keep = yes: a paste leaves the clipboard as it was."""
    for policy, copy_ok, paste_ok in (("copy", True, False), ("paste", False, True),
                                       ("none", False, False)):
        loop = KeepLoopback(size=(640, 480), vm_config=f"clipboard = {policy}\n")
        try:
            wl_copy(loop, b"policy test")
            if copy_ok:
                ctl_ok(loop, "clipboard", "copy", "--from", a.VM)
                ctl_ok(loop, "clipboard", "paste", "--to", a.VM) if paste_ok else \
                    ctl_refused(loop, "forbids pastes", "clipboard", "paste", "--to", a.VM)
                t.check("11 bytes" in ctl_ok(loop, "clipboard", "show"),
                        "clipboard-keep = yes: the clipboard did not keep its content")
            else:
                ctl_refused(loop, "forbids copies", "clipboard", "copy", "--from", a.VM)
                ctl_refused(loop, "empty" if paste_ok else "forbids pastes",
                            "clipboard", "paste", "--to", a.VM)
        finally:
            loop.tessera.stop()


def test():
    t.host_program("wl-copy")
    t.host_program("wl-paste")
    loop = a.Loopback(size=(1024, 768), vm_config="clipboard-max = 64M\n",
                      extra_vms=[(B, B_COLOR)])
    try:
        test_text_and_png(loop)
        test_refused_content(loop)
        test_keys(loop)
        test_host(loop)
        test_x11(loop)
        test_flood(loop)
    finally:
        loop.tessera.stop()
    test_policy()


if __name__ == "__main__":
    t.main(test)
