#!/bin/sh
# Stand-in for tessera-vmd in compositor tests: tessera starts it like a
# VM daemon (pre-connected WAYLAND_SOCKET, --vhost-user/--name/--color) and
# it shows one tessera-simple-shm window through that tagged connection.
# The client's content colour and title come from the environment of the
# test (per VM: FAKE_VMD_COLOR_<name>, FAKE_VMD_TITLE_<name>).
# Its whole command line goes to $TESSERA_TEST_DIR/<name>.args; with
# FAKE_VMD_EXIT_<name>=N it exits with N at once instead.
set -eu
args="$*"
name=
while [ $# -gt 0 ]; do
	case "$1" in
	--name) name=$2; shift 2 ;;
	--*) [ $# -ge 2 ] || { echo "fake-vmd: $1 without a value" >&2; exit 2; }; shift 2 ;;
	*) echo "fake-vmd: unexpected argument '$1'" >&2; exit 2 ;;
	esac
done
[ -n "$name" ] || { echo "fake-vmd: no --name" >&2; exit 2; }
echo "$args" >> "$TESSERA_TEST_DIR/$name.args"
eval "exit_status=\${FAKE_VMD_EXIT_$name:-}"
[ -z "$exit_status" ] || exit "$exit_status"
eval "color=\${FAKE_VMD_COLOR_$name:-33cc33}"
eval "title=\${FAKE_VMD_TITLE_$name:-$name window}"
eval "extra=\${FAKE_VMD_ARGS_$name:-}"
# shellcheck disable=SC2086
exec "$TESSERA_SIMPLE_SHM" --color "$color" --title "$title" --size 200x120 \
	--log "$TESSERA_TEST_DIR/$name.log" $extra
