"""GTK and Qt applications in the guest, as a user meets them: what
test_gtk.py and test_qt.py share.

check_widgets() drives gtk-widgets.py or qt-widgets.py (twins that print
where their widgets are and what they receive, see their docstrings)
through the agent on the loopback and checks, on the host:

* the window is framed in the VM colour, its main area touching the frame;
* the "File" menu of the menu bar opens right below its item, the
  combo box's list over the combo box, the entry's context menu at the
  pointer: each a popup with its own VM frame, found by that frame inside
  the window;
* keys reach the focused entry and the chosen combo item the application;
* the dialog (transient for the window: xdg_toplevel.set_parent) opens as a
  framed VM window centred over its parent and stays above it when the
  parent is clicked;
* an interactive resize on the host (Alt + right drag, or a drag of the
  frame's corner) resizes the window by exactly the drag, and the
  application learns its new size; a drag of the title bar moves it.
"""

import os
import subprocess

import agent_test as a
import tessera_test as t

# A click that opens a popup as a hand does: the button held for 100 ms (a
# press and release back to back reach the toolkit before its popup exists,
# and GTK 3's menu then misses the click that should close it)
CLICK_LEFT = ["press", "left", "sleep", "100", "release", "left"]

MAIN = "2060a0"  # the main area of the twins
POPUP_BORDER = 2  # TESSERA_POPUP_BORDER_WIDTH
# how far (pixels) a popup may be from where its toolkit puts it (menu
# item and pointer positions are integers; toolkits round the rest)
NEAR = 4


def debian_python(module):
    """Debian's python3 when it can import module (the toolkits' bindings
    are Debian packages); skips otherwise."""
    path = "/usr/bin/python3"
    if not os.path.exists(path) or subprocess.run(
            [path, "-c", f"import {module}"], capture_output=True).returncode != 0:
        t.skip(f"{path} cannot import {module} "
               "(scripts/install-deps.sh --tests installs it)")
    return path


def guest_env(loop, x11=False, **variables):
    """The environment of a toolkit application in the guest: on the
    agent's Wayland display only, or on its Xwayland only (x11), without
    an accessibility bus; plus the variables."""
    env = dict(loop.guest_env, NO_AT_BRIDGE="1", **variables)
    if x11 and loop.x_display is None:
        t.fail("the agent printed no DISPLAY (Xwayland)")
    env.pop("WAYLAND_DISPLAY" if x11 else "DISPLAY", None)
    return env


class Twin:
    """gtk-widgets.py or qt-widgets.py running in the guest."""

    def __init__(self, loop, argv, env, name):
        self.loop = loop
        self.name = name
        self.log = open(f"{loop.tessera.tmp}/{name}.log", "w")
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=self.log)
        loop.tessera.clients.append(self.proc)
        self.widgets = {}
        self.size = None  # the last "size W H"
        for line in self.read("ready"):
            words = line.split()
            if words[:1] == ["widget"] and len(words) == 6:
                self.widgets[words[1]] = tuple(int(v) for v in words[2:])
        t.check(set(self.widgets) == {"menu", "combo", "entry", "button"},
                f"{name}: widgets {self.widgets}")

    def read(self, want, timeout=30.0):
        lines = a.read_until(self.proc, want, timeout)
        for line in lines:
            if line.startswith("size "):
                self.size = tuple(int(v) for v in line.split()[1:])
        return lines

    def read_all(self, *wants):
        """Reads until each of the lines wants came, in any order."""
        missing = set(wants)
        self.read(lambda line: missing.discard(line) or not missing)

    def stop(self):
        a.stop_client(self.proc)
        self.log.close()


def content_box(frame):
    """The inside of a VM window's frame (x, y, w, h)."""
    fx, fy, fw, fh = frame[:4]
    return (fx + t.BORDER, fy + t.TITLE, fw - 2 * t.BORDER, fh - t.TITLE - t.BORDER)


def inner_frame(png, box):
    """The box (x, y, w, h) a VM frame inside box surrounds: a popup's
    geometry, a dialog's frame. None without one."""
    found = png.bbox(a.VM_COLOR, within=box)
    return found[:4] if found else None


def near(a_pos, b_pos):
    return all(abs(p - q) <= NEAR for p, q in zip(a_pos, b_pos))


def drag(loop, start, delta, button="left"):
    """A drag on the host from start by delta with that button held."""
    loop.tessera.run([t.program("TESSERA_TEST_POINTER"), "move", *start,
                      "press", button, "sleep", "100",
                      "move", start[0] + delta[0] // 2, start[1] + delta[1] // 2,
                      "sleep", "100", "move", start[0] + delta[0], start[1] + delta[1],
                      "sleep", "200", "release", button, "sleep", "100"])


def alt_drag(loop, start, delta):
    """Alt + right drag on the host from start by delta: tessera's
    interactive resize from the nearest corner."""
    alt = subprocess.Popen([t.host_program("wtype"), "-M", "alt", "-s", "3000", "-m", "alt"],
                           env=loop.tessera.client_env)
    try:
        loop.tessera.run([t.program("TESSERA_TEST_POINTER"), "sleep", "500"])
        drag(loop, start, delta, "right")
    finally:
        alt.wait(timeout=10)


def wait_frame(loop, want, what):
    """The VM frame's box once it is want (x, y, w, h; None: any)."""
    def framed():
        box = loop.tessera.screenshot().bbox(a.VM_COLOR)
        return box if box and all(v is None or v == b for v, b in zip(want, box)) else None
    return t.wait_for(framed, 15, what)[:4]


def check_widgets(loop, argv, env, name, title, dialog_title):
    pointer = t.program("TESSERA_TEST_POINTER")
    wtype = t.host_program("wtype")
    app = Twin(loop, argv, env, name)
    loop.wait_title(f"[guest] {title}", timeout=30)

    def drawn():
        """(VM frame, main area) once the main area reaches the frame on
        the left, right and bottom (the window drawn, framed without gap)."""
        png = loop.tessera.screenshot()
        frame, main = png.bbox(a.VM_COLOR), png.bbox(MAIN)
        if frame is None or main is None:
            return None
        x, y, w, h = content_box(frame)
        mx, my, mw, mh, _ = main
        return (frame[:4], main[:4]) if (mx, mx + mw, my + mh) == (x, x + w, y + h) else None
    frame, (mx, my, mw, mh) = t.wait_for(drawn, 15, f"{name}'s window framed")
    inside = content_box(frame)

    def on_screen(widget):
        x, y, w, h = app.widgets[widget]
        return mx + x, my + y, w, h

    def centre(widget):
        x, y, w, h = on_screen(widget)
        return x + w // 2, y + h // 2

    def popup_after(actions, popup):
        """Runs the pointer actions; the popup's geometry once it shows."""
        loop.tessera.run([pointer, *actions, "sleep", "100"])
        app.read(f"shown {popup}")

        def framed():
            box = inner_frame(loop.tessera.screenshot(), inside)
            return box and (box[0] + POPUP_BORDER, box[1] + POPUP_BORDER,
                            box[2] - 2 * POPUP_BORDER, box[3] - 2 * POPUP_BORDER)
        box = t.wait_for(framed, 15, f"{name}'s {popup} popup framed on the host")
        print(f"{name}: {popup} popup at {box}")
        return box

    # a free spot of the main area, away from the widgets and popups
    free_spot = (mx + mw - 20, my + mh - 20)

    def popup_gone(popup):
        t.wait_for(lambda: inner_frame(loop.tessera.screenshot(), inside) is None, 15,
                   f"{name}'s {popup} popup gone")

    def dismiss(popup):
        """A click outside the popup closes it (xdg_popup.popup_done)."""
        # GTK 3's menus take a button within 500 ms of their opening
        # (MENU_SHELL_TIMEOUT) as part of the click that opened them: a
        # hand does not click outside that fast either
        loop.tessera.run([pointer, "move", *free_spot, "sleep", "600", *CLICK_LEFT,
                          "sleep", "100"])
        app.read(f"hidden {popup}")
        popup_gone(popup)

    # the menu of the menu bar: right below its item
    x, y, w, h = on_screen("menu")
    box = popup_after(["move", *centre("menu"), "sleep", "100", *CLICK_LEFT], "menu")
    t.check(near(box[:2], (x, y + h)),
            f"{name}: the File menu at {box}, expected right below its item at "
            f"{(x, y, w, h)}")
    dismiss("menu")

    # the combo box's list over the combo box; the third item chosen
    cx, cy = centre("combo")
    box = popup_after(["move", cx, cy, "sleep", "100", *CLICK_LEFT], "combo")
    t.check(box[0] <= cx < box[0] + box[2] and box[1] <= cy < box[1] + box[3],
            f"{name}: the combo box's list at {box} does not cover the combo box "
            f"at {on_screen('combo')}")
    # a click on the third of its four items (the list's rows are equal)
    loop.tessera.run([pointer, "move", cx, box[1] + box[3] * 5 // 8, "sleep", "100",
                      "click", "left", "sleep", "100"])
    app.read_all("combo three", "hidden combo")
    popup_gone("combo")

    # typing into the entry
    ex, ey = centre("entry")
    loop.tessera.run([pointer, "move", ex, ey, "sleep", "100", "click", "left",
                      "sleep", "200"])
    loop.tessera.run([wtype, "hello tessera"])
    app.read("text hello tessera")

    # the entry's context menu at the pointer
    px, py = on_screen("entry")[0] + 30, ey
    box = popup_after(["move", px, py, "sleep", "100", "press", "right", "sleep", "100",
                       "release", "right"], "context")
    t.check(near(box[:2], (px, py)),
            f"{name}: the context menu at {box}, expected at the pointer {(px, py)}")
    dismiss("context")

    # the dialog: a VM window centred over its parent, above it
    loop.tessera.run([pointer, "move", *centre("button"), "sleep", "100", "click", "left"])
    app.read("shown dialog")
    loop.wait_title(f"[guest] {dialog_title}", timeout=20)
    dialog = t.wait_for(lambda: inner_frame(loop.tessera.screenshot(), inside), 15,
                        f"{name}'s dialog framed over its window")
    print(f"{name}: window frame {frame}, dialog frame {dialog}")
    for axis in (0, 1):
        parent_mid = frame[axis] + frame[axis + 2] / 2
        dialog_mid = dialog[axis] + dialog[axis + 2] / 2
        t.check(abs(parent_mid - dialog_mid) <= 1,
                f"{name}: dialog frame {dialog} not centred over its window's {frame}")
    png = loop.tessera.screenshot()
    ring = [(dialog[0] + 1, dialog[1] + dialog[3] // 2),
            (dialog[0] + dialog[2] - 2, dialog[1] + dialog[3] // 2),
            (dialog[0] + dialog[2] // 2, dialog[1] + dialog[3] - 2),
            (dialog[0] + dialog[2] // 2, dialog[1] + 2)]
    t.check(set(png.pixels(ring)) == {a.VM_COLOR},
            f"{name}: the dialog's frame: {png.pixels(ring)} at {ring}")
    # a click on the parent: the dialog stays above it
    loop.tessera.run([pointer, "move", *free_spot, "sleep", "100", "click", "left",
                      "sleep", "200"])
    t.check(inner_frame(loop.tessera.screenshot(), inside) == dialog,
            f"{name}: the dialog is no longer above its window after a click on it")

    # Alt + right drag from the bottom-right corner: bigger by the drag
    size = app.size
    grow = (200, 120)
    alt_drag(loop, (frame[0] + frame[2] - 12, frame[1] + frame[3] - 12), grow)
    want = (frame[2] + grow[0], frame[3] + grow[1])
    frame = wait_frame(loop, (None, None, *want), f"{name}'s frame resized to {want}")
    main = loop.tessera.screenshot().bbox(MAIN)
    t.check(main[2:4] == (mw + grow[0], mh + grow[1]),
            f"{name}: main area {main[2:4]} after the resize, expected "
            f"{(mw + grow[0], mh + grow[1])}")
    size = (size[0] + grow[0], size[1] + grow[1])
    app.read(f"size {size[0]} {size[1]}")

    # a drag of the frame's bottom-right corner resizes the window (the
    # only edge of a client-side decorated one), a drag of its title bar
    # moves it
    shrink = (-100, -60)
    drag(loop, (frame[0] + frame[2] - 2, frame[1] + frame[3] - 2), shrink)
    want = (frame[2] + shrink[0], frame[3] + shrink[1])
    frame = wait_frame(loop, (frame[0], frame[1], *want),
                       f"{name}'s frame resized by its corner to {want}")
    app.read(f"size {size[0] + shrink[0]} {size[1] + shrink[1]}")
    step = (40, 30)
    drag(loop, (frame[0] + frame[2] - 60, frame[1] + t.TITLE // 2), step)
    wait_frame(loop, (frame[0] + step[0], frame[1] + step[1], *frame[2:]),
               f"{name}'s frame moved by its title bar by {step}")
    app.stop()
    loop.wait_title(f"[guest] {title}", present=False)
