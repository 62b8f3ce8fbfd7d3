#!/usr/bin/env bash
# vm-deps-sources: scripts/install-vm-deps.sh derives the bookworm-backports
# source from the machine's own apt sources, in deb822 and one-line format.
# Runs --print-source against fixture /etc/apt trees (changes nothing);
# also --print-entry SUITE, the mirror of scripts/make-guest-image.sh.
set -euo pipefail

script="${1:?usage: test_install_sources.sh path/to/install-vm-deps.sh}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
passes=0

# $1 name, $2 expected output (exact), $3 expected exit status; the fixture
# is whatever was written into $work/$1 (an /etc/apt directory); the
# script's arguments: $args (default --print-source).
check() {
	local out status=0
	# shellcheck disable=SC2086 # $args is a word list
	out="$(TESSERA_VM_APT_ETC="$work/$1" bash "$script" ${args:---print-source} 2>&1)" ||
		status=$?
	if [ "$status" != "$3" ] || [ "$out" != "$2" ]; then
		echo "FAIL $1: exit $status (want $3), output:"
		echo "$out" | sed 's/^/    /'
		echo "  wanted:"
		echo "$2" | sed 's/^/    /'
		failures=$((failures + 1))
	else
		echo "ok $1"
		passes=$((passes + 1))
	fi
}

# Fixture sources use the reserved .invalid domain; the scheme comes from
# a variable so that no line of this file looks like a real apt source.
scheme=http
header="# Added by tessera scripts/install-vm-deps.sh (QEMU >= 8, 6.12 kernel)"
stanza() { # uri [signed-by]
	printf '%s\nTypes: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main' \
		"$header" "$1"
	[ -z "${2:-}" ] || printf '\nSigned-By: %s' "$2"
}

# deb822, security stanza first, main suite second with a comment inside
mkdir -p "$work/deb822/sources.list.d"
cat >"$work/deb822/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${scheme}://security.mirror.invalid/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
# http://old.mirror.invalid/debian
URIs: ${scheme}://mirror.invalid/debian ${scheme}://second.mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
echo 'deb http://other.mirror.invalid/debian bookworm main' \
	>"$work/deb822/sources.list.d/other.list.disabled"
check deb822 "$(stanza http://mirror.invalid/debian \
	/usr/share/keyrings/debian-archive-keyring.gpg)" 0
tab=$'\t'
args="--print-entry bookworm-security" check deb822 \
	"http://security.mirror.invalid/debian-security$tab/usr/share/keyrings/debian-archive-keyring.gpg" 0
args="--print-entry bookworm-updates" check deb822 \
	"http://mirror.invalid/debian$tab/usr/share/keyrings/debian-archive-keyring.gpg" 0

# deb822: a disabled stanza and a deb-src-only one are skipped
mkdir -p "$work/deb822-disabled/sources.list.d"
cat >"$work/deb822-disabled/sources.list.d/a.sources" <<EOF
Enabled: no
Types: deb
URIs: ${scheme}://disabled.mirror.invalid/debian
Suites: bookworm
Components: main

Types: deb-src
URIs: ${scheme}://src.mirror.invalid/debian
Suites: bookworm
Components: main
EOF
cat >"$work/deb822-disabled/sources.list.d/b.sources" <<EOF
types: deb
uris: https://mirror.invalid/debian/
suites: bookworm
components: main
EOF
check deb822-disabled "$(stanza https://mirror.invalid/debian/)" 0

# one-line sources.list, with options and a security line first
mkdir -p "$work/oneline"
cat >"$work/oneline/sources.list" <<EOF
# deb cdrom:[Debian GNU/Linux 12]/ bookworm main
deb ${scheme}://security.mirror.invalid/debian-security bookworm-security main
deb-src http://src.mirror.invalid/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${scheme}://mirror.invalid/debian bookworm main non-free-firmware
deb ${scheme}://later.mirror.invalid/debian bookworm main
EOF
check oneline "$(stanza http://mirror.invalid/debian \
	/usr/share/keyrings/debian-archive-keyring.gpg)" 0
args="--print-entry bookworm-security" check oneline \
	"http://security.mirror.invalid/debian-security$tab" 0
args="--print-entry bookworm-updates" check oneline \
	"install-vm-deps.sh: error: no enabled 'bookworm-updates' entry in $work/oneline" 1

# one-line entry in sources.list.d/*.list, no options
mkdir -p "$work/oneline-d/sources.list.d"
echo 'deb http://mirror.invalid/debian/ bookworm main' \
	>"$work/oneline-d/sources.list.d/debian.list"
check oneline-d "$(stanza http://mirror.invalid/debian/)" 0

# backports already configured: nothing to add
mkdir -p "$work/has-backports"
cat >"$work/has-backports/sources.list" <<EOF
deb ${scheme}://mirror.invalid/debian bookworm main
deb ${scheme}://mirror.invalid/debian bookworm-backports main
EOF
check has-backports "install-vm-deps.sh: bookworm-backports already in the apt sources" 0

# no bookworm entry at all: a clear error
mkdir -p "$work/none/sources.list.d"
echo 'deb http://mirror.invalid/debian trixie main' >"$work/none/sources.list"
check none "install-vm-deps.sh: error: no enabled 'bookworm' entry in $work/none to take the mirror from" 1

echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
