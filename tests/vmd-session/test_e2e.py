#!/usr/bin/env python3
"""End to end: tessera headless starts the real tessera-vmd for a [vm NAME]
section; vmd-session-e2e plays VMM, guest driver and agent on its
vhost-user socket (common/frontend/virtio-gpu-frontend). A guest window appears
with its pixels, the VM frame and "[NAME] title"; a second buffer releases
the first; a 1920x1080 buffer is shown without a byte copied on the host
(vmd's SIGUSR1 counters); a VMM that disappears mid-frame leaves tessera
serving other clients, and vmd takes the next connection with its fds and
guest memory mappings back where they were.

Input through the device: a new guest window does not take the focus from
a host window; while the host window has it, keys (wtype) and clicks reach
only the host, and the pointer passing over the VM window leaves the
guest's event ring without any pointer or key event; a click on the VM
window gives the ring KEYBOARD_ENTER, POINTER_ENTER and the button, a key
arrives as KEYBOARD_KEY with wtype's keymap written into the guest's
(re-armed) keymap area; a click back on the host window gives
KEYBOARD_LEAVE and no further key."""

import os

import tessera_proc
import vmd_session_test as v
from vmd_session_test import t

VM = v.E2eHost.VM
FRAME = v.E2eHost.FRAME


class RingLog(t.ClientLog):
    """The events the input case read from the guest's ring, one a line."""

    def __init__(self, path, guest):
        super().__init__(path)
        self.guest = guest
        self.syncs = 0

    def events(self, kind, since=0):
        """The fields of the events of that type from line `since` on."""
        out = []
        for line in self.lines()[since:]:
            words = line.split()
            if words and words[0] == kind:
                out.append(dict(w.split("=", 1) for w in words[1:] if "=" in w))
        return out

    def wait_count(self, kind, count, since=0, timeout=10):
        return t.wait_for(lambda: (lambda e: e if len(e) >= count else None)(
            self.events(kind, since)), timeout, f"{kind} x{count} in the ring")

    def sync(self):
        """Returns once every event vmd got from tessera so far was read
        from the ring (a frame committed now and its FRAME_DONE)."""
        self.syncs += 1
        self.guest.go("sync")
        self.wait(f"sync {self.syncs}", timeout=20)

    def check_no_failures(self):
        bad = [line for line in self.lines()
               if line.startswith("fail ") or line.startswith("ERROR ")]
        t.check(not bad, f"guest ring: {bad}")


def visible_point(png, color, box):
    """A point of the box showing that colour (the window may be partly
    covered)."""
    x, y, w, h = box[:4]
    for fx, fy in ((2, 2), (1, 1), (3, 3), (1, 3), (3, 1)):
        p = (x + w * fx // 4, y + h * fy // 4)
        if png.pixel(*p) == color:
            return p
    t.fail(f"no visible point of #{color} in {box}")


def activated(ring):
    """Whether the last CONFIGURE of the window has the ACTIVATED state."""
    configures = ring.events("CONFIGURE")
    t.check(configures, "no CONFIGURE")
    return int(configures[-1]["states"], 16) & 8 != 0


def keys_pressed(ring, since=0):
    return [int(e["key"]) for e in ring.events("KEYBOARD_KEY", since) if e["state"] == "1"]


def input_focus(tessera, sock, host):
    """Input reaches the guest's ring only while its window has the focus.
    The host window (808080, focused) is on screen."""
    pointer = t.program("TESSERA_TEST_POINTER")
    wtype = t.host_program("wtype")
    ring = RingLog(os.path.join(tessera.tmp, "ring.log"), None)
    guest = v.Guest(tessera, sock, "input", ring.path)
    ring.guest = guest
    color = guest.ready("input")[0]
    png = v.shot_with(tessera, color, "808080")
    t.frame_check(png, color, FRAME, "guest input window")
    vm_point = visible_point(png, color, png.bbox(color))
    host_point = visible_point(png, "808080", png.bbox("808080"))
    ring.sync()
    # A new VM window does not take the focus from a host window.
    t.check(not ring.events("KEYBOARD_ENTER"), "the new VM window took the focus")
    t.check(not activated(ring), "the new VM window is shown activated")
    # No keymap either: a VM gets the keymap only with the focus (a
    # virtual keyboard's keymap lists the very characters typed).
    t.check(not ring.events("KEYMAP"), f"keymaps before the focus: {ring.events('KEYMAP')}")

    # The host window has the focus: nothing reaches the ring.
    mark = len(ring.lines())
    presses = len(host.matching("pointer button 272 pressed"))
    tessera.run([wtype, "q"])
    host.wait_key("q")
    tessera.run([pointer, "move", *vm_point, "sleep", "100",
                 "move", vm_point[0] + 5, vm_point[1] + 5, "sleep", "100"])
    tessera.run([pointer, "move", *host_point, "click", "left", "sleep", "100"])
    t.wait_for(lambda: len(host.matching("pointer button 272 pressed")) > presses, 10,
               "the click on the host window")
    ring.sync()
    # (KEYBOARD_REPEAT_INFO is seat state: it comes whatever the focus.)
    for kind in ("KEYMAP", "KEYBOARD_ENTER", "KEYBOARD_KEY", "KEYBOARD_MODIFIERS",
                 "POINTER_ENTER", "POINTER_MOTION", "POINTER_BUTTON", "POINTER_AXIS"):
        t.check(not ring.events(kind, mark),
                f"the unfocused VM got {kind}: {ring.events(kind, mark)}")

    # A click on the VM window: focus, pointer and keys for the ring.
    mark = len(ring.lines())
    host_leaves = len(host.matching("keyboard leave"))
    host_enters = len(host.matching("keyboard enter"))
    tessera.run([pointer, "move", *vm_point, "click", "left", "sleep", "100"])
    enter = ring.wait_count("KEYBOARD_ENTER", 1, mark)[0]
    t.check(enter["surface"] == "1" and enter["keys"] == "0", f"KEYBOARD_ENTER {enter}")
    focus_keymaps = ring.events("KEYMAP", mark)
    t.check(focus_keymaps and all(k["text"] == "ok" for k in focus_keymaps),
            f"no keymap with the focus: {focus_keymaps}")
    # the keymap comes right before the KEYBOARD_ENTER (SET_KEYMAP_AREA in
    # protocol/PROTOCOL.md)
    kinds = [line.split()[0] for line in ring.lines()[mark:] if line]
    first_enter = kinds.index("KEYBOARD_ENTER")
    t.check(first_enter > 0 and kinds[first_enter - 1] == "KEYMAP",
            f"KEYBOARD_ENTER not right after a KEYMAP: {kinds[:first_enter + 1]}")
    penter = ring.wait_count("POINTER_ENTER", 1, mark)[0]
    t.check(penter["surface"] == "1" and 0 <= int(penter["x"]) < 200
            and 0 <= int(penter["y"]) < 120, f"POINTER_ENTER {penter}")
    buttons = ring.wait_count("POINTER_BUTTON", 2, mark)
    t.check([(b["button"], b["state"]) for b in buttons] == [("272", "1"), ("272", "0")],
            f"buttons: {buttons}")
    ring.wait(f"cursor serial={penter['serial']}")
    t.wait_for(lambda: len(host.matching("keyboard leave")) == host_leaves + 1, 10,
               "the host window's keyboard leave")
    keymaps = len(ring.events("KEYMAP"))
    tessera.run([wtype, "z"])
    presses_vm = ring.wait_count("KEYBOARD_KEY", 2, mark)
    t.check([k["state"] for k in presses_vm] == ["1", "0"]
            and presses_vm[0]["key"] == presses_vm[1]["key"], f"keys: {presses_vm}")
    ring.sync()
    t.check(len(keys_pressed(ring, mark)) == 1, f"VM keys: {keys_pressed(ring, mark)}")
    # wtype's own keymap reached the guest's re-armed keymap area
    new = ring.events("KEYMAP")[keymaps:]
    t.check(new and all(k["text"] == "ok" for k in new), f"keymaps for wtype: {new}")
    t.check(host.pressed_keys() == ["q"], f"host got VM keys: {host.pressed_keys()}")
    t.check(activated(ring), "the focused VM window is not shown activated")

    # Back to the host window: KEYBOARD_LEAVE, then nothing more.
    mark = len(ring.lines())
    tessera.run([pointer, "move", *host_point, "click", "left", "sleep", "100"])
    leave = ring.wait_count("KEYBOARD_LEAVE", 1, mark)[0]
    t.check(leave["surface"] == "1", f"KEYBOARD_LEAVE {leave}")
    ring.wait_count("POINTER_LEAVE", 1, mark)
    t.wait_for(lambda: len(host.matching("keyboard enter")) == host_enters + 1, 10,
               "the host window's keyboard enter")
    mark = len(ring.lines())
    tessera.run([wtype, "w"])
    host.wait_key("w")
    tessera.run([pointer, "move", *vm_point, "sleep", "100"])
    ring.sync()
    for kind in ("KEYMAP", "KEYBOARD_ENTER", "KEYBOARD_KEY", "KEYBOARD_MODIFIERS",
                 "POINTER_ENTER", "POINTER_MOTION", "POINTER_BUTTON", "POINTER_AXIS"):
        t.check(not ring.events(kind, mark),
                f"the VM got {kind} after losing the focus: {ring.events(kind, mark)}")
    t.check(not activated(ring), "the VM window is still shown activated")
    ring.check_no_failures()
    guest.go("quit")
    guest.ready("done")
    guest.finish()
    t.wait_for(lambda: not any(n.startswith(f"[{VM}]") for n in tessera.titles()),
               10, "the input window to go")


def test():
    t.program("TESSERA_TEST_TOPLEVELS")
    t.program("TESSERA_TEST_POINTER")
    t.host_program("wtype")
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    e2e = v.E2eHost("tessera-vmd-e2e-")
    tessera, sock, pid = e2e.tessera, e2e.sock, e2e.pid
    try:
        baseline_fds = tessera_proc.fd_count(pid)
        baseline_maps = sorted(tessera_proc.memfd_maps(pid))

        run = v.run_window_case(e2e)
        t.check(0 < run["p1"] < run["p2"], f"release points {run['p1']}, {run['p2']}")
        print(f"tessera-vmd: {run['frames']} frames of 1920x1080 shown, bytes copied on "
              f"the host per frame: {run['copied'] // max(run['frames'], 1)} "
              f"(tessera_guest_memory_v1)")
        t.check(run["copied"] == 0, f"{run['copied']} bytes copied for {run['frames']} frames")

        # A VMM that disappears mid-frame.
        guest = v.Guest(tessera, sock, "abandon")
        color = guest.ready("abandon")[0]
        guest.go()
        guest.finish()
        t.wait_for(lambda: not any(n.startswith(f"[{VM}]") for n in tessera.titles()),
                   10, "the abandoned window to go")
        t.check(tessera_proc.find_vmd(sock) == pid, "tessera-vmd was restarted")
        t.wait_for(lambda: tessera_proc.fd_count(pid) == baseline_fds, 10,
                   f"vmd's fd count back to {baseline_fds}")
        t.wait_for(lambda: sorted(tessera_proc.memfd_maps(pid)) == baseline_maps, 10,
                   "vmd's guest memory mappings gone")
        host = t.ClientLog(f"{tessera.tmp}/host.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "120x90",
                        "--title", "host", "--log", host.path])
        host.wait("mapped")
        v.shot_with(tessera, "808080", absent=[color])

        # vmd takes the next connection.
        v.run_window_case(e2e)
        t.wait_for(lambda: tessera_proc.fd_count(pid) == baseline_fds, 10,
                   f"vmd's fd count back to {baseline_fds} after a clean exit")

        input_focus(tessera, sock, host)
        t.wait_for(lambda: tessera_proc.fd_count(pid) == baseline_fds, 10,
                   f"vmd's fd count back to {baseline_fds} after the input guest")
        t.check(tessera_proc.find_vmd(sock) == pid, "tessera-vmd was restarted")
        tessera.stop()
    finally:
        e2e.cleanup()


if __name__ == "__main__":
    t.main(test)
