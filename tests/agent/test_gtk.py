#!/usr/bin/env python3
"""GTK 3 in the guest.

* gtk-widgets.py (PyGObject, client-side decorated with GTK's own title
  bar and shadow) through the agent: menus and the combo box's list at
  their place, typing, the context menu at the pointer, a dialog centred
  over its window, resizing by the host (toolkit_test.check_widgets); the
  same through Xwayland (GDK_BACKEND=x11).
* gtk3-widget-factory (gtk-3-examples), at the places its page 1 has on
  Debian 12 (GTK 3.24, Adwaita; checked before use): typing into the
  "entry" entry draws the text in it, its context menu opens at the
  pointer, the "Andrea" combo box's list opens over the combo box, and
  Alt + right drag on the host resizes the window by exactly the drag.
"""

import os
import subprocess

import agent_test as a
import tessera_test as t
import toolkit_test as k

# gtk3-widget-factory's page 1, relative to the window geometry (the
# inside of the VM frame): the editable entry showing "entry" and the
# "Andrea" combo box (x, y, w, h)
FACTORY_ENTRY = (11, 234, 325, 31)
FACTORY_COMBO = (393, 234, 156, 31)


def gtk_env(loop, x11=False):
    """GTK on the agent's Wayland display or Xwayland; no session bus or
    settings daemon."""
    return k.guest_env(loop, x11, GDK_BACKEND="x11" if x11 else "wayland",
                       GSETTINGS_BACKEND="memory")


def test_widget_factory(loop):
    pointer = t.program("TESSERA_TEST_POINTER")
    wtype = t.host_program("wtype")
    log = open(f"{loop.tessera.tmp}/gtk3-widget-factory.log", "w")
    proc = subprocess.Popen([t.host_program("gtk3-widget-factory")], env=gtk_env(loop),
                            stdout=log, stderr=log)
    loop.tessera.clients.append(proc)
    loop.wait_title("[guest] gtk3-widget-factory", timeout=30)

    def framed():
        """The frame once the window is laid out (GTK may grow it after
        its first frames): the same in two screenshots."""
        frames = [loop.tessera.screenshot().bbox(a.VM_COLOR) for _ in range(2)]
        return frames[0][:4] if frames[0] and frames[0][2] > 1000 and \
            frames[0] == frames[1] else None
    frame = t.wait_for(framed, 15, "gtk3-widget-factory framed")
    inside = k.content_box(frame)

    def at(rect, dx=0, dy=0):
        return inside[0] + rect[0] + dx, inside[1] + rect[1] + dy

    # the page as expected: the entry white where its text does not reach
    blank = (*at(FACTORY_ENTRY, 60, 10), 200, 12)

    def entry_blank():
        return loop.tessera.screenshot().region(*blank) == (1, "ffffff")
    t.wait_for(entry_blank, 15, f"gtk3-widget-factory's entry at {at(FACTORY_ENTRY)}, "
               f"blank after its text (has GTK's layout changed?)")

    # typing: the text shows in the entry
    ex, ey = at(FACTORY_ENTRY, 200, FACTORY_ENTRY[3] // 2)
    loop.tessera.run([pointer, "move", ex, ey, "sleep", "100", "click", "left", "sleep", "200"])
    loop.tessera.run([wtype, " typed through tessera"])
    t.wait_for(lambda: loop.tessera.screenshot().region(*blank)[0] > 8, 15,
               "the typed text in gtk3-widget-factory's entry")

    # the context menu at the pointer, the combo box's list over it; a
    # click outside closes each
    def popup(x, y, button):
        loop.tessera.run([pointer, "move", x, y, "sleep", "100", "click", button,
                          "sleep", "100"])
        return t.wait_for(lambda: k.inner_frame(loop.tessera.screenshot(), inside), 15,
                          "a popup of gtk3-widget-factory")

    def close():
        free = (inside[0] + inside[2] - 300, inside[1] + 60)
        loop.tessera.run([pointer, "move", *free, "sleep", "100", "click", "left",
                          "sleep", "100"])
        t.wait_for(lambda: k.inner_frame(loop.tessera.screenshot(), inside) is None, 15,
                   "gtk3-widget-factory's popup closed")
    px, py = at(FACTORY_ENTRY, 40, FACTORY_ENTRY[3] // 2)
    box = popup(px, py, "right")
    print(f"gtk3-widget-factory: context menu frame at {box}")
    t.check(k.near((box[0] + k.POPUP_BORDER, box[1] + k.POPUP_BORDER), (px, py)),
            f"the context menu at {box}, expected at the pointer {(px, py)}")
    close()
    cx, cy = at(FACTORY_COMBO, FACTORY_COMBO[2] // 2, FACTORY_COMBO[3] // 2)
    box = popup(cx, cy, "left")
    print(f"gtk3-widget-factory: combo box list frame at {box}")
    t.check(box[0] <= cx < box[0] + box[2] and box[1] <= cy < box[1] + box[3],
            f"the combo box's list at {box} does not cover the combo box at {(cx, cy)}")
    close()

    # Alt + right drag from the bottom-right corner: bigger by the drag
    frame = t.wait_for(framed, 15, "gtk3-widget-factory framed")
    grow = (120, 100)
    start = (frame[0] + frame[2] - 12, frame[1] + frame[3] - 12)
    k.alt_drag(loop, start, grow)
    want = (frame[2] + grow[0], frame[3] + grow[1])
    t.wait_for(lambda: (lambda f: f and f[2:4] == want)(
        loop.tessera.screenshot().bbox(a.VM_COLOR)), 15,
        f"gtk3-widget-factory's frame resized to {want}")
    proc.terminate()
    proc.wait()
    log.close()
    loop.wait_title("[guest] gtk3-widget-factory", present=False)


def test():
    python = k.debian_python("gi; gi.require_version('Gtk', '3.0')")
    t.host_program("grim")
    t.host_program("Xwayland")
    # room for gtk3-widget-factory's window, frame included, and its resize
    loop = a.Loopback(size=(1600, 1000))
    try:
        app = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gtk-widgets.py")
        k.check_widgets(loop, [python, app], gtk_env(loop), "gtk-widgets", "gtk widgets",
                        "gtk dialog")
        # the same through Xwayland: menus are override-redirect windows,
        # the dialog a WM_TRANSIENT_FOR window
        k.check_widgets(loop, [python, app], gtk_env(loop, x11=True), "gtk-widgets-x11",
                        "gtk widgets", "gtk dialog")
        test_widget_factory(loop)
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
