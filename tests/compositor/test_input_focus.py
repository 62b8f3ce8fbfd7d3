#!/usr/bin/env python3
"""Input goes only to the focused window: a VM window receives no keyboard
or pointer event while a host window has focus, and does once the user
clicks it (and then the host window gets nothing)."""

import tessera_test as t


def keys(log):
    return log.pressed_keys()


def test():
    fake_vmd = t.program("TESSERA_FAKE_VMD")
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    pointer = t.program("TESSERA_TEST_POINTER")
    wtype = t.host_program("wtype")
    config = f"""
[vm work]
color = #cc3333
vhost-user = /nonexistent/work.sock
vmd = {fake_vmd}
"""
    tessera = t.Tessera(size=(800, 600), config=config,
                        env={"FAKE_VMD_COLOR_work": "33cc33"})
    try:
        vm = t.ClientLog(f"{tessera.tmp}/work.log")
        vm.wait("mapped")
        # Nothing else on screen: the VM window has the focus.
        vm.wait("keyboard enter")

        host = t.ClientLog(f"{tessera.tmp}/host.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "200x150",
                        "--title", "host", "--log", host.path])
        host.wait("keyboard enter")
        vm.wait("keyboard leave")

        png = t.wait_for(lambda: (lambda p: p if p.bbox("808080") and p.bbox("33cc33")
                                  else None)(tessera.screenshot()), 10, "both windows")
        vx, vy, vw, vh, _ = png.bbox("33cc33")
        hx, hy, hw, hh, _ = png.bbox("808080")
        vm_center = (vx + vw // 2, vy + vh // 2)
        host_center = (hx + hw // 2, hy + hh // 2)

        # Typing while the host window has focus: only the host hears it.
        tessera.run([wtype, "q"])
        host.wait_key("q")
        # The pointer passing over the unfocused VM window: no event.
        tessera.run([pointer, "move", *vm_center, "sleep", "100",
                     "move", vm_center[0] + 5, vm_center[1] + 5, "sleep", "100"])
        tessera.run([pointer, "move", *host_center, "click", "left", "sleep", "100"])
        host.wait("pointer button 272 pressed")
        t.check(not vm.has("key "), f"VM got keys while unfocused: {vm.matching('key ')}")
        t.check(not vm.has("pointer "), f"VM got pointer events while unfocused: "
                f"{vm.matching('pointer ')}")

        # Click on the VM window: focus moves, the click reaches the VM.
        vm_mark, host_mark = t.log_mark(vm), t.log_mark(host)
        tessera.run([pointer, "move", *vm_center, "click", "left", "sleep", "100"])
        t.wait_after(vm, vm_mark, "pointer enter")
        t.wait_after(vm, vm_mark, "pointer button 272 pressed")
        t.wait_after(host, host_mark, "keyboard leave")
        t.check(len(vm.matching("keyboard enter")) == 2, "VM did not get the focus back")
        tessera.run([wtype, "z"])
        vm.wait_key("z")
        t.check(keys(host) == ["q"], f"host got keys meant for the VM: {keys(host)}")
        t.check(keys(vm) == ["z"], f"VM keys: {keys(vm)}")
        t.check(host.has("pointer leave"), "host kept pointer focus")

        # And back: clicking the host window returns the keyboard to it.
        # (The VM lost the focus once before, when the host window came.)
        vm_mark = t.log_mark(vm)
        tessera.run([pointer, "move", *host_center, "click", "left", "sleep", "100"])
        t.wait_after(vm, vm_mark, "keyboard leave")
        n_before = len(vm.matching("key "))
        tessera.run([wtype, "w"])
        host.wait_key("w")
        t.check(len(vm.matching("key ")) == n_before, "VM got a key after losing focus")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
