#!/usr/bin/env bash
# Installs everything tessera needs to build, run its demo and run its
# tests on Debian 12. Idempotent; run as root (or through sudo).
#
#   scripts/install-deps.sh            build + run dependencies
#   scripts/install-deps.sh --tests    also what the test suite needs
set -euo pipefail

want_tests=0
for arg in "$@"; do
	case "$arg" in
	--tests) want_tests=1 ;;
	*) echo "install-deps.sh: unknown argument '$arg'" >&2; exit 2 ;;
	esac
done

SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi

build_pkgs=(
	build-essential meson ninja-build pkg-config python3
	libwlroots-dev libwayland-dev wayland-protocols libxkbcommon-dev libxkbregistry-dev
	libpixman-1-dev libdrm-dev libinih-dev libpng-dev libseccomp-dev
	libcairo2-dev libpango1.0-dev fonts-dejavu-core xkb-data
	libjson-c-dev
)
# The wlr-protocols XML (screencopy, virtual pointer, foreign toplevel) for
# the test tools: Debian 12 ships it only inside this source package.
build_pkgs+=(librust-wayland-protocols-dev)
# The agent's Xwayland (wlr/xwayland.h) and the X11 test client (libxcb).
build_pkgs+=(libxcb1-dev libxcb-icccm4-dev)
# The manual pages (doc/*.scd).
build_pkgs+=(scdoc)
# tessera-vmd's GPU acceleration for guests (server/vmd/virgl.c):
# virglrenderer and libepoxy; tessera-simple-dmabuf (Mesa's GBM) and
# tessera-simple-egl (libepoxy, wayland-egl); Mesa's EGL and drivers
# (llvmpipe without a GPU, virtio-gpu in a guest) to run them.
build_pkgs+=(libvirglrenderer-dev libepoxy-dev libgbm-dev libegl-dev)
run_pkgs=(weston grim foot libegl-mesa0 libgl1-mesa-dri libgbm1)
# systemd: systemd-analyze, which checks the agent's unit.
test_pkgs=(wtype clang libclang-rt-14-dev edid-decode waypipe systemd)
# X11 applications in the guest (tests/agent/test_xwayland*.py): Xwayland,
# xeyes and xmessage, xterm.
test_pkgs+=(xwayland x11-apps xterm)
# The clipboard between VMs (tests/agent/test_clipboard.py): wl-clipboard
# (wl-copy, wl-paste) for Wayland guests, xclip for X11 ones.
test_pkgs+=(wl-clipboard xclip)
# tessera-bench's plot (and its smoke test, suite bench).
test_pkgs+=(gnuplot-nox)
# gtk3-widget-factory: a GTK 3 application in the guest (tests/agent/test_csd.py).
test_pkgs+=(gtk-3-examples)
# The Debian packages (tests/packaging): dpkg-buildpackage with debhelper
# (scripts/build-packages.sh adds the rest of debian/control's build
# dependencies), lintian, mmdebstrap for the chroot they are installed in;
# virt-xml-validate for the libvirt domain.
test_pkgs+=(dpkg-dev debhelper lintian mmdebstrap libvirt-clients)
# Qt 6 and GTK 3 applications in the guest (tests/agent/test_qt.py,
# test_gtk.py): Qt Widgets and GTK through Debian's Python bindings, and
# Qt's Wayland platform plugin.
test_pkgs+=(python3-pyqt6 qt6-wayland python3-gi gir1.2-gtk-3.0)
# Qt Quick Controls in Qt's qml runtime (tests/agent/test_qt.py).
test_pkgs+=(qml-qt6 qml6-module-qtqml qml6-module-qtquick qml6-module-qtquick-controls
	qml6-module-qtquick-templates qml6-module-qtquick-window qml6-module-qtquick-layouts
	qml6-module-qtqml-workerscript)
# GL in the guest (tests/vm/test_virgl.py, the guest shares the host's root):
# eglinfo (mesa-utils-extra) names the renderer, glmark2 for the figures.
test_pkgs+=(mesa-utils mesa-utils-extra glmark2-es2-wayland)
# GL and video in the guest (tests/agent/test_gl.py, test_video.py,
# tests/vm/test_gl_vm.py): mpv and ffmpeg (which makes the clip); xterm's
# fonts.
test_pkgs+=(mpv ffmpeg xfonts-base)
# A share streamed by xdg-desktop-portal-wlr (tests/agent/test_share.py
# portal): a private D-Bus session (dbus-daemon, gdbus), PipeWire and
# WirePlumber, and GStreamer's pipewiresrc and videoconvert to take a frame.
test_pkgs+=(xdg-desktop-portal-wlr dbus-daemon libglib2.0-bin pipewire pipewire-bin wireplumber
	gstreamer1.0-tools gstreamer1.0-pipewire gstreamer1.0-plugins-base)

pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}")
if [ "$want_tests" = 1 ]; then
	pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
	echo "install-deps.sh: all packages present"
fi
