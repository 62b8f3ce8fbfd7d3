#!/usr/bin/python3
"""A GTK 3 application (PyGObject: Debian's python3-gi and gir1.2-gtk-3.0)
for the loopback tests of GTK in the guest (test_gtk.py, through
toolkit_test.py). Run it with Debian's /usr/bin/python3 and
GDK_BACKEND=wayland. It is the twin of qt-widgets.py and prints the same
lines, flushed:

  widget NAME X Y W H   where a widget is, relative to the main area (the
                        part of the window in the main colour): menu (the
                        "File" item of the menu bar), combo, entry, button
  ready                 after the widget lines
  size W H              the main window's size, at each change
  text TEXT             the entry's text, at each change
  combo TEXT            the combo box's choice, at each change
  shown NAME            a window (main, dialog) or popup (menu, combo,
                        context) was mapped
  hidden NAME           it was unmapped

The window draws its own title bar and shadow (client-side decorations,
as GTK does on Wayland); the dialog is transient for the main window
(xdg_toplevel.set_parent).
"""

import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402

MAIN = "2060a0"
CSS = f"#main {{ background-color: #{MAIN}; }}".encode()


def say(*words):
    print(*words, flush=True)


def watch(name, widget):
    widget.connect("map", lambda *_: say("shown", name))
    widget.connect("unmap", lambda *_: say("hidden", name))


class Main(Gtk.Window):
    def __init__(self):
        super().__init__(title="gtk widgets")
        self.set_default_size(480, 320)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
        self.add(box)

        bar = Gtk.MenuBar()
        self.file_item = Gtk.MenuItem(label="File")
        menu = Gtk.Menu()
        for name in ("first", "second", "third"):
            menu.append(Gtk.MenuItem(label=name))
        self.file_item.set_submenu(menu)
        watch("menu", menu)
        bar.append(self.file_item)
        box.pack_start(bar, False, False, 0)

        # an event box draws its background (a GtkFixed draws none)
        area = Gtk.EventBox(name="main")
        box.pack_start(area, True, True, 0)
        self.main = Gtk.Fixed()
        area.add(self.main)
        self.combo = Gtk.ComboBoxText()
        for name in ("one", "two", "three", "four"):
            self.combo.append_text(name)
        self.combo.set_active(0)
        self.combo.set_size_request(160, 30)
        self.combo.connect("changed", lambda c: say("combo", c.get_active_text()))
        self.combo.connect("notify::popup-shown", lambda c, _: say(
            "shown" if c.props.popup_shown else "hidden", "combo"))
        self.main.put(self.combo, 20, 20)

        self.entry = Gtk.Entry()
        self.entry.set_size_request(240, 30)
        self.entry.connect("changed", lambda e: say("text", e.get_text()))
        self.entry.connect("populate-popup", lambda e, popup: watch("context", popup))
        self.main.put(self.entry, 20, 80)

        self.button = Gtk.Button(label="dialog")
        self.button.set_size_request(120, 30)
        self.button.connect("clicked", self.open_dialog)
        self.main.put(self.button, 20, 140)

        self.size = None
        self.connect("size-allocate", self.report_size)
        watch("main", self)

    def open_dialog(self, _button):
        dialog = Gtk.Dialog(title="gtk dialog", transient_for=self)
        dialog.set_default_size(200, 120)
        watch("dialog", dialog)
        dialog.show_all()

    def report_size(self, *_):
        size = self.get_size()
        if size != self.size:
            self.size = size
            say("size", size.width, size.height)

    def report_widgets(self):
        for name, widget in (("menu", self.file_item), ("combo", self.combo),
                             ("entry", self.entry), ("button", self.button)):
            x, y = widget.translate_coordinates(self.main, 0, 0)
            alloc = widget.get_allocation()
            say("widget", name, x, y, alloc.width, alloc.height)
        say("ready")
        return False


def main():
    provider = Gtk.CssProvider()
    provider.load_from_data(CSS)
    window = Main()
    Gtk.StyleContext.add_provider_for_screen(window.get_screen(), provider,
                                             Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)
    window.connect("destroy", Gtk.main_quit)
    window.show_all()
    GLib.timeout_add(200, window.report_widgets)
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
