#!/usr/bin/env python3
"""Qt 6 in the guest.

* qt-widgets.py (Qt Widgets through PyQt6 on Qt's Wayland platform
  plugin, server-side decorated) through the agent: menus and the combo
  box's list at their place, typing, the context menu at the pointer, a
  dialog centred over its window, resizing by the host
  (toolkit_test.check_widgets); the same through Xwayland (Qt's xcb
  plugin).
* qt-quick.qml in Qt's qml runtime (Qt Quick Controls, software
  rendering): framed without gap; its Menu opens below its button and its
  ComboBox's list over the combo box (popups Qt Quick draws inside the
  window); a click on an item chooses it; typed text reaches the field.
"""

import os
import subprocess

import agent_test as a
import tessera_test as t
import toolkit_test as k

HERE = os.path.dirname(os.path.abspath(__file__))
QML = "/usr/lib/qt6/bin/qml"  # Debian's qml-qt6
MENU = "e040e0"
COMBO = "40e0e0"


def test_quick(loop):
    if not os.path.exists(QML):
        t.skip(f"no {QML} (scripts/install-deps.sh --tests installs qml-qt6)")
    pointer = t.program("TESSERA_TEST_POINTER")
    env = k.guest_env(loop, QT_QPA_PLATFORM="wayland", QT_QUICK_BACKEND="software",
                      QT_MESSAGE_PATTERN="%{message}")
    proc = subprocess.Popen([QML, os.path.join(HERE, "qt-quick.qml")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    loop.tessera.clients.append(proc)
    a.read_until(proc, "ready")
    loop.wait_title("[guest] qt quick", timeout=30)
    png = a.screenshot_with(loop, [k.MAIN], what="the Qt Quick window")
    x, y, w, h = t.frame_check(png, k.MAIN, a.VM_COLOR, "the Qt Quick window")
    t.check((w, h) == (400, 300), f"the Qt Quick window shows {w}x{h}, not 400x300")

    def click(px, py):
        loop.tessera.run([pointer, "move", px, py, "sleep", "100", "click", "left",
                          "sleep", "100"])

    def shown(color, what):
        return t.wait_for(lambda: loop.tessera.screenshot().bbox(color), 15, what)

    # the menu right below its button (20, 140, 120, 30), closed by a click
    # elsewhere
    click(x + 80, y + 155)
    a.read_until(proc, "shown menu")
    mx, my, _, _, _ = shown(MENU, "the Qt Quick menu")
    t.check((mx, my) == (x + 20, y + 170),
            f"the Qt Quick menu at {(mx, my)}, expected {(x + 20, y + 170)}")
    click(x + 350, y + 250)
    t.wait_for(lambda: loop.tessera.screenshot().bbox(MENU) is None, 15,
               "the Qt Quick menu closed")

    # the combo box's list over the combo box (20, 80, 160, 30); its third
    # of four items chosen by a click
    cx, cy = x + 100, y + 95
    click(cx, cy)
    a.read_until(proc, "shown combo")
    bx, by, bw, bh, _ = shown(COMBO, "the Qt Quick combo box's list")
    t.check(bx <= cx < bx + bw and by <= cy < by + bh,
            f"the Qt Quick combo box's list at {(bx, by, bw, bh)} does not cover the "
            f"combo box at {(cx, cy)}")
    click(cx, by + bh * 5 // 8)
    a.read_until(proc, "combo three")

    # typing into the field (20, 20, 200, 30)
    click(x + 120, y + 35)
    loop.tessera.run([t.host_program("wtype"), "hello quick"])
    a.read_until(proc, "text hello quick")
    a.stop_client(proc)
    loop.wait_title("[guest] qt quick", present=False)


def test():
    python = k.debian_python("PyQt6.QtWidgets")
    t.host_program("grim")
    t.host_program("Xwayland")
    loop = a.Loopback(size=(1024, 768))
    try:
        app = [python, os.path.join(HERE, "qt-widgets.py")]
        k.check_widgets(loop, app, k.guest_env(loop, QT_QPA_PLATFORM="wayland"),
                        "qt-widgets", "qt widgets", "qt dialog")
        # the same through Xwayland: menus are override-redirect windows,
        # the dialog a WM_TRANSIENT_FOR window
        k.check_widgets(loop, app, k.guest_env(loop, x11=True, QT_QPA_PLATFORM="xcb"),
                        "qt-widgets-x11", "qt widgets", "qt dialog")
        test_quick(loop)
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
