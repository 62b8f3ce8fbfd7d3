#!/usr/bin/env python3
"""Per-VM keyboard layouts: VM de (keyboard-layout = de) and VM us
(keyboard-layout = us) each get their own keymap while their window has the
focus, a host window keeps the keymap of the keyboard typing. The same key
(Linux code 21, KEY_Y, typed by a virtual keyboard with a us keymap) is
then z in VM de's window and y in VM us's and in the host window; focus
going back and forth switches the keymaps back and forth."""

import compositor_test
import tessera_test as t

KEY_Y = 21


def keymaps_after(log, mark):
    return [line.split(" ", 1)[1] for line in log.lines()[mark:]
            if line.startswith("keymap ")]


def keys_after(log, mark):
    return [line.split()[3] for line in log.lines()[mark:]
            if line.startswith("key ") and line.split()[2] == "pressed"]


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    pointer = t.program("TESSERA_TEST_POINTER")
    keyboard = t.program("TESSERA_TEST_KEYBOARD")
    config = compositor_test.fake_vm_config({"de": "cc3333", "us": "3355ee"})
    config = config.replace("[vm de]\n", "[vm de]\nkeyboard-layout = de\n")
    config = config.replace("[vm us]\n", "[vm us]\nkeyboard-layout = us\n"
                            "keyboard-options = ctrl:nocaps\n")
    tessera = t.Tessera(size=(800, 600), config=config,
                        env={"FAKE_VMD_COLOR_de": "33cc33",
                             "FAKE_VMD_COLOR_us": "ddcc22"})
    try:
        logs = {"de": t.ClientLog(f"{tessera.tmp}/de.log"),
                "us": t.ClientLog(f"{tessera.tmp}/us.log"),
                "host": t.ClientLog(f"{tessera.tmp}/host.log")}
        logs["de"].wait("mapped")
        logs["us"].wait("mapped")
        tessera.client([simple_shm, "--color", "808080", "--size", "200x120",
                        "--title", "host", "--log", logs["host"].path])
        logs["host"].wait("keyboard enter")
        colors = {"de": "33cc33", "us": "ddcc22", "host": "808080"}
        png = t.wait_for(lambda: (lambda p: p if all(p.bbox(c) for c in colors.values())
                                  else None)(tessera.screenshot()), 10, "three windows")
        centers = {}
        for name, color in colors.items():
            x, y, w, h, _ = png.bbox(color)
            centers[name] = (x + w // 2, y + h // 2)
        t.check("de" in tessera.log() and "keymap German" in tessera.log(),
                "tessera did not log VM de's keymap")

        def type_into(name, expected_keymap, expected_key):
            marks = {n: t.log_mark(log) for n, log in logs.items()}
            log = logs[name]
            tessera.run([pointer, "move", *centers[name], "click", "left", "sleep", "100"])
            t.wait_after(log, marks[name], "keyboard enter")
            tessera.run([keyboard, "key", str(KEY_Y)])
            t.wait_for(lambda: keys_after(log, marks[name]), 10, f"a key in {name}'s window")
            got = keys_after(log, marks[name])
            t.check(got == [expected_key], f"{name}'s window: KEY_Y gave {got}, "
                    f"expected ['{expected_key}']")
            keymaps = keymaps_after(log, marks[name])
            if expected_keymap is not None:
                t.check(keymaps and keymaps[-1] == expected_keymap,
                        f"{name}'s window got the keymaps {keymaps}, "
                        f"expected {expected_keymap} last")
            else:
                t.check("German" not in keymaps, f"the host window got a VM's keymap: "
                        f"{keymaps}")
            for other, other_log in logs.items():
                if other != name:
                    t.check(not keys_after(other_log, marks[other]),
                            f"{other}'s window got keys meant for {name}'s")

        type_into("de", "German", "z")
        type_into("us", "English (US)", "y")
        type_into("host", None, "y")
        type_into("de", "German", "z")
        type_into("host", None, "y")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
