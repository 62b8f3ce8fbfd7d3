#!/usr/bin/env python3
"""A VM window cannot take the focus from another VM's window: while the
user types into VM work's window, VM bank maps a window; bank gets no
keyboard focus and no key, work keeps both. Only the user's click gives
bank the focus. (A VM window mapped while a host window has the focus is
checked through the real tessera-vmd in tests/vmd-session/test_e2e.py.)"""

import os

import compositor_test
import tessera_test as t


def test():
    pointer = t.program("TESSERA_TEST_POINTER")
    wtype = t.host_program("wtype")
    config = compositor_test.fake_vm_config({"work": "cc3333", "bank": "3355ee"})
    tessera = t.Tessera(size=(800, 600), config=config,
                        env={"FAKE_VMD_COLOR_work": "33cc33",
                             "FAKE_VMD_COLOR_bank": "ddcc22",
                             "FAKE_VMD_GATE_bank": "1"})
    try:
        work = t.ClientLog(f"{tessera.tmp}/work.log")
        bank = t.ClientLog(f"{tessera.tmp}/bank.log")
        work.wait("mapped")
        work.wait("keyboard enter")
        tessera.run([wtype, "a"])
        work.wait_key("a")

        # bank's window comes while the user types into work's.
        mark = t.log_mark(work)
        open(os.path.join(tessera.tmp, "bank.go"), "w").close()
        bank.wait("mapped")
        t.wait_for(lambda: (lambda p: p if p.bbox("33cc33") and p.bbox("ddcc22")
                            else None)(tessera.screenshot()), 10, "both VM windows")
        # A key typed now goes through the compositor after the map: if
        # the focus had moved, bank would get it.
        tessera.run([wtype, "b"])
        work.wait_key("b")
        t.check(not bank.has("keyboard enter"), "bank's new window took the keyboard focus "
                f"from work's: {bank.lines()}")
        t.check(not bank.has("key "), f"bank got keys: {bank.matching('key ')}")
        t.check(not [line for line in work.lines()[mark:] if line.startswith("keyboard leave")],
                "work lost the keyboard focus to bank's new window")
        t.check(work.pressed_keys() == ["a", "b"], f"work got {work.pressed_keys()}")

        # The user's click gives bank the focus.
        png = tessera.screenshot()
        bx, by, bw, bh, _ = png.bbox("ddcc22")
        mark_work, mark_bank = t.log_mark(work), t.log_mark(bank)
        tessera.run([pointer, "move", bx + bw // 2, by + bh // 2, "click", "left",
                     "sleep", "100"])
        t.wait_after(bank, mark_bank, "keyboard enter")
        t.wait_after(work, mark_work, "keyboard leave")
        tessera.run([wtype, "c"])
        bank.wait_key("c")
        t.check(bank.pressed_keys() == ["c"], f"bank got {bank.pressed_keys()}")
        t.check(work.pressed_keys() == ["a", "b"], f"work got {work.pressed_keys()}")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
