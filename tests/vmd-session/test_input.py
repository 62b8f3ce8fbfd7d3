#!/usr/bin/env python3
"""Keyboard and pointer input reaches the guest's event ring only while the
VM's window has the focus."""

import vmd_session_test as v
from vmd_session_test import t

GREEN = "33cc33"


def keys(vm):
    """Key presses in the ring (wtype brings its own keymap: the codes are
    its own, so only their number is checked)."""
    return [int(e["key"]) for e in vm.events(1, "KEYBOARD_KEY") if e["state"] == "1"]


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    pointer = t.program("TESSERA_TEST_POINTER")
    wtype = t.host_program("wtype")
    tessera = t.Tessera(size=(800, 600), config=v.config())
    try:
        vm = v.Vm(tessera)
        vm.cmd("hello 1")
        vm.cmd(f"resource 1 200 120 {GREEN}")
        vm.cmd("buffer 1 1")
        vm.cmd("window 1 1 input")
        vm.wait(r"^mapped ctx=1 surface=1")
        # the guest's cursor: a 16x16 surface set at every pointer enter
        vm.cmd("resource 2 16 16 ff00ff")
        vm.cmd("buffer 2 2")
        vm.cmd("cursor-surface 2 2")
        # Alone on screen: the VM window has the focus.
        vm.wait(r"event ctx=1 KEYBOARD_ENTER surface=1")

        host = t.ClientLog(f"{tessera.tmp}/host.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "200x150",
                        "--title", "host", "--log", host.path])
        host.wait("keyboard enter")
        vm.wait(r"event ctx=1 KEYBOARD_LEAVE surface=1")
        png = v.shot_with(tessera, GREEN, "808080")
        vx, vy, vw, vh, _ = png.bbox(GREEN)
        hx, hy, hw, hh, _ = png.bbox("808080")
        vm_center = (vx + vw // 2, vy + vh // 2)
        host_center = (hx + hw // 2, hy + hh // 2)

        # The host window has the focus: nothing for the VM, not even the
        # keymap of wtype's virtual keyboard (it lists the typed characters).
        unfocused_keymaps = len(vm.events(1, "KEYMAP"))
        tessera.run([wtype, "q"])
        host.wait_key("q")
        tessera.run([pointer, "move", *vm_center, "sleep", "100",
                     "move", vm_center[0] + 5, vm_center[1] + 5, "sleep", "100"])
        tessera.run([pointer, "move", *host_center, "click", "left", "sleep", "100"])
        host.wait("pointer button 272 pressed")
        t.check(keys(vm) == [], f"VM got keys while unfocused: {keys(vm)}")
        t.check(len(vm.events(1, "KEYMAP")) == unfocused_keymaps,
                "VM got the host's virtual keyboard keymap while unfocused")
        t.check(not vm.events(1, "POINTER_BUTTON") and not vm.events(1, "POINTER_MOTION"),
                "VM got pointer events while unfocused")

        # A click focuses the VM window: pointer and keys reach the ring.
        tessera.run([pointer, "move", *vm_center, "click", "left", "sleep", "100"])
        vm.wait(r"event ctx=1 POINTER_ENTER surface=1")
        vm.wait(r"event ctx=1 POINTER_BUTTON button=272 state=1")
        vm.wait(r"event ctx=1 POINTER_BUTTON button=272 state=0")
        vm.wait(r"event ctx=1 KEYBOARD_ENTER surface=1", count=2)
        vm.wait(r"^cursor ctx=1 surface=2 serial=")
        enter = vm.events(1, "POINTER_ENTER")[-1]
        t.check(0 <= int(enter["x"]) < 200 and 0 <= int(enter["y"]) < 120,
                f"pointer enter outside the surface: {enter}")
        keymaps = len(vm.events(1, "KEYMAP"))
        tessera.run([wtype, "z"])
        vm.wait(r"event ctx=1 KEYBOARD_KEY key=\d+ state=1")
        vm.wait(r"event ctx=1 KEYBOARD_KEY key=\d+ state=0")
        t.check(len(keys(vm)) == 1, f"VM keys: {keys(vm)}")
        # wtype's keymap reached the guest's (re-armed) keymap area
        t.check(len(vm.events(1, "KEYMAP")) > keymaps, "no KEYMAP for wtype's keymap")
        vm.cmd("keymap")
        vm.wait(r"^keymap ctx=1 ok")
        t.check(host.pressed_keys() == ["q"], f"host got VM keys: {host.pressed_keys()}")

        # Back to the host window: the VM hears nothing more.
        tessera.run([pointer, "move", *host_center, "click", "left", "sleep", "100"])
        vm.wait(r"event ctx=1 KEYBOARD_LEAVE surface=1", count=2)
        vm.wait(r"event ctx=1 POINTER_LEAVE surface=1")
        tessera.run([wtype, "w"])
        host.wait_key("w")
        t.check(len(keys(vm)) == 1, f"VM got a key after losing focus: {keys(vm)}")

        t.check(not vm.events(1, "ERROR"), f"errors: {vm.events(1, 'ERROR')}")
        vm.check_no_failures()
        vm.quit()
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
