// A Qt Quick Controls 2 window for test_qt.py, run by Qt 6's qml runtime
// (/usr/lib/qt6/bin/qml, Debian's qml-qt6) with QT_QUICK_BACKEND=software.
// Its popups (Menu, the ComboBox's list) are drawn inside the window. It
// logs, one message each (QT_MESSAGE_PATTERN=%{message}): "ready", "text
// TEXT" at each change of the field, "combo TEXT" when an item is chosen,
// "shown menu" / "shown combo" when a popup has opened.
import QtQuick
import QtQuick.Controls

ApplicationWindow {
    width: 400
    height: 300
    visible: true
    title: "qt quick"
    color: "#2060a0"

    TextField {
        x: 20; y: 20; width: 200; height: 30
        onTextChanged: console.info("text " + text)
    }
    ComboBox {
        id: combo
        x: 20; y: 80; width: 160; height: 30
        model: ["one", "two", "three", "four"]
        onActivated: console.info("combo " + currentText)
        popup.background: Rectangle { color: "#40e0e0" }
        popup.onOpened: console.info("shown combo")
    }
    Button {
        id: button
        x: 20; y: 140; width: 120; height: 30
        text: "menu"
        onClicked: menu.open()
        Menu {
            id: menu
            y: button.height
            background: Rectangle { implicitWidth: 160; color: "#e040e0" }
            onOpened: console.info("shown menu")
            MenuItem { text: "first" }
            MenuItem { text: "second" }
        }
    }
    Component.onCompleted: console.info("ready")
}
