#!/usr/bin/python3
"""A Qt 6 Widgets application (PyQt6, Debian's python3-pyqt6) for the
loopback tests of Qt in the guest (test_qt.py, through toolkit_test.py).
Run it with Debian's /usr/bin/python3 and QT_QPA_PLATFORM=wayland. Its
twin for GTK is gtk-widgets.py.

A main window of 480x320 in plain colours, with a menu bar ("File": a
QMenu), a QComboBox, a QLineEdit and a button that opens a QDialog
(transient for the main window: xdg_toplevel.set_parent). Each kind of
window has a colour of its own so that a screenshot finds it. It prints
to stdout, one line each, flushed:

  widget NAME X Y W H   where a widget is, relative to the main area (the
                        part of the window in the main colour): menu (the
                        "File" item of the menu bar), combo, entry, button
  ready                 after the widget lines
  size W H              the main window's size, at each resize
  text TEXT             the line edit's text, at each change
  combo TEXT            the combo box's choice, at each change
  shown NAME            a window (main, dialog) or popup (menu, combo,
                        context) became visible
  hidden NAME           it went away
"""

import sys

from PyQt6.QtCore import QEvent, QObject, QPoint, QTimer
from PyQt6.QtWidgets import (QApplication, QComboBox, QDialog, QLineEdit, QMainWindow,
                             QPushButton, QWidget)

MAIN = "2060a0"
MENU = "e040e0"
COMBO = "40e0e0"
DIALOG = "e0a040"
CONTEXT = "a0e040"


def say(*words):
    print(*words, flush=True)


class Watch(QObject):
    """Prints when a window or popup shows and hides."""

    def __init__(self, name, widget):
        super().__init__(widget)
        self.name = name
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Show:
            say("shown", self.name)
        elif event.type() == QEvent.Type.Hide:
            say("hidden", self.name)
        return False


class Entry(QLineEdit):
    """A line edit whose context menu has the context colour."""

    def contextMenuEvent(self, event):
        menu = self.createStandardContextMenu()
        menu.setStyleSheet(f"QMenu {{ background: #{CONTEXT}; }}")
        Watch("context", menu)
        menu.exec(event.globalPos())
        menu.deleteLater()


class Combo(QComboBox):
    """A combo box that tells when its list opens and closes."""

    def showPopup(self):
        super().showPopup()
        say("shown combo")

    def hidePopup(self):
        super().hidePopup()
        say("hidden combo")


class Main(QMainWindow):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("qt widgets")
        self.central = central = QWidget(objectName="central")
        central.setStyleSheet(f"QWidget#central {{ background: #{MAIN}; }}")
        self.setCentralWidget(central)

        menu = self.menuBar().addMenu("File")
        menu.setStyleSheet(f"QMenu {{ background: #{MENU}; }}")
        for name in ("first", "second", "third"):
            menu.addAction(name)
        Watch("menu", menu)

        self.combo = Combo(central)
        self.combo.addItems(["one", "two", "three", "four"])
        self.combo.setGeometry(20, 20, 160, 30)
        self.combo.view().setStyleSheet(f"background: #{COMBO};")
        self.combo.currentTextChanged.connect(lambda text: say("combo", text))

        self.entry = Entry(central)
        self.entry.setGeometry(20, 80, 240, 30)
        self.entry.textChanged.connect(lambda text: say("text", text))

        self.button = QPushButton("dialog", central)
        self.button.setGeometry(20, 140, 120, 30)
        self.button.clicked.connect(self.open_dialog)
        self.dialog = None
        self.resize(480, 320)

    def open_dialog(self):
        self.dialog = QDialog(self)
        self.dialog.setWindowTitle("qt dialog")
        self.dialog.setStyleSheet(f"QDialog {{ background: #{DIALOG}; }}")
        self.dialog.setFixedSize(200, 120)
        Watch("dialog", self.dialog)
        self.dialog.show()

    def report_widgets(self):
        bar = self.menuBar()
        file_menu = bar.actionGeometry(bar.actions()[0])
        for name, widget, rect in (
                ("menu", bar, file_menu),
                ("combo", self.combo, self.combo.rect()),
                ("entry", self.entry, self.entry.rect()),
                ("button", self.button, self.button.rect())):
            pos = widget.mapTo(self, rect.topLeft()) - self.central.mapTo(self, QPoint(0, 0))
            say("widget", name, pos.x(), pos.y(), rect.width(), rect.height())
        say("ready")

    def resizeEvent(self, event):
        say("size", event.size().width(), event.size().height())
        super().resizeEvent(event)


def main():
    app = QApplication(sys.argv)
    app.setStyle("Fusion")
    window = Main()
    Watch("main", window)
    window.show()
    QTimer.singleShot(0, window.report_widgets)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
