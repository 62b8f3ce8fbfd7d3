#!/usr/bin/env python3
"""Qt 6 in the guest: qt-widgets.py (Qt Widgets through PyQt6 on Qt's
Wayland platform plugin, server-side decorated) through the agent — menus
and the combo box's list at their place, typing, the context menu at the
pointer, a dialog centred over its window, resizing by the host
(toolkit_test.check_widgets)."""

import os

import agent_test as a
import tessera_test as t
import toolkit_test as k


def test():
    python = k.debian_python("PyQt6.QtWidgets")
    t.host_program("grim")
    loop = a.Loopback(size=(1024, 768))
    try:
        env = dict(loop.guest_env, QT_QPA_PLATFORM="wayland", NO_AT_BRIDGE="1")
        env.pop("DISPLAY", None)
        app = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qt-widgets.py")
        k.check_widgets(loop, [python, app], env, "qt-widgets", "qt widgets", "qt dialog")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
