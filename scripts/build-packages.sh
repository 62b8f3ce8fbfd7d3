#!/usr/bin/env bash
# Builds tessera's Debian packages (debian/) on Debian 12 and puts them in
# OUTDIR: tessera_VERSION_ARCH.deb (host) and tessera-agent_VERSION_ARCH.deb
# (guest), with the .buildinfo and .changes of the build.
#
#   scripts/build-packages.sh OUTDIR
#
# Installs the build dependencies first (apt-get; nothing when
# dpkg-checkbuilddeps finds them all). Builds out of tree: the tracked and
# untracked-but-not-ignored files of the work tree (or the whole tree when
# it is not a git checkout) are copied to a temporary directory, so the
# work tree stays clean. Prints what it built. Run as root or with sudo.
set -euo pipefail

usage() {
	echo "usage: scripts/build-packages.sh OUTDIR" >&2
	exit 2
}
[ "$#" = 1 ] || usage
case "$1" in -*) usage ;; esac
mkdir -p "$1"
out=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)

SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

start=$(date +%s)

# dpkg-checkbuilddeps (dpkg-dev) says what debian/control needs that is
# missing; apt-get build-dep installs it from the directory's control file.
if ! command -v dpkg-checkbuilddeps >/dev/null; then
	echo "build-packages.sh: installing dpkg-dev"
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends dpkg-dev
fi
if ! (cd "$here" && dpkg-checkbuilddeps) 2>/dev/null; then
	echo "build-packages.sh: installing the build dependencies"
	$SUDO apt-get update
	(cd "$here" && $SUDO apt-get build-dep -y --no-install-recommends ./)
else
	echo "build-packages.sh: build dependencies present"
fi

version=$(cd "$here" && dpkg-parsechangelog -S Version)
work=$(mktemp -d /tmp/tessera-packages.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/tessera-$version"
mkdir "$src"
if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$here" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	tar -C "$here" --exclude='./build*' --exclude=./out -cf - . | tar -xf - -C "$src"
fi

echo "build-packages.sh: building tessera $version in $src"
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=${TESSERA_BUILD_JOBS:-2}" \
	dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log" >&2
	echo "build-packages.sh: cannot build the packages: dpkg-buildpackage failed (log above)" >&2
	exit 1
}

shopt -s nullglob
built=("$work"/*.deb "$work"/*.buildinfo "$work"/*.changes)
for p in tessera tessera-agent; do
	[ -n "$(compgen -G "$work/${p}_${version}_*.deb")" ] || {
		echo "build-packages.sh: cannot find ${p}_${version}_*.deb after the build" >&2
		exit 1
	}
done
cp "${built[@]}" "$out/"

echo "build-packages.sh: built in $(( $(date +%s) - start )) s, in $out:"
for deb in "$work"/*.deb; do
	printf '  %-44s %6s KiB  %s\n' "$(basename "$deb")" "$(( $(stat -c %s "$deb") / 1024 ))" \
		"$(dpkg-deb -f "$deb" Depends | cut -c1-60)..."
done
