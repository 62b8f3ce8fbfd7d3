#!/bin/sh
# Stand-in for tessera-vmd in compositor tests: tessera starts it like a
# VM daemon (pre-connected WAYLAND_SOCKET, --vhost-user/--name/--color) and
# it shows one tessera-simple-shm window through that tagged connection.
# The client's content colour and title come from the environment of the
# test (per VM: FAKE_VMD_COLOR_<name>, FAKE_VMD_TITLE_<name>).
# Its whole command line goes to $TESSERA_TEST_DIR/<name>.args; with
# FAKE_VMD_EXIT_<name>=N it exits with N at once instead.
#
# Per VM, also:
#   FAKE_VMD_CLIENT_<name>=PROGRAM  runs PROGRAM with FAKE_VMD_ARGS_<name>
#       instead of tessera-simple-shm, in $TESSERA_TEST_DIR (relative paths
#       in its arguments land there), its output in <name>.log; SIGTERM
#       ends it and the script exits 0, as tessera-vmd does;
#   FAKE_VMD_GATE_<name>=1  waits until $TESSERA_TEST_DIR/<name>.go exists
#       before showing anything (the test decides when the window comes).
# Every start appends "start SECONDS" to $TESSERA_TEST_DIR/<name>.times
# (SECONDS: /proc/uptime, 10 ms steps). While $TESSERA_TEST_DIR/<name>.exit
# exists, it exits at once with the status written there, after appending
# "exit SECONDS STATUS".
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
uptime_now() { read -r up _ < /proc/uptime; echo "$up"; }
echo "start $(uptime_now)" >> "$TESSERA_TEST_DIR/$name.times"
echo "$args" >> "$TESSERA_TEST_DIR/$name.args"
if [ -e "$TESSERA_TEST_DIR/$name.exit" ]; then
	read -r exit_status < "$TESSERA_TEST_DIR/$name.exit"
	echo "exit $(uptime_now) $exit_status" >> "$TESSERA_TEST_DIR/$name.times"
	exit "$exit_status"
fi
eval "exit_status=\${FAKE_VMD_EXIT_$name:-}"
[ -z "$exit_status" ] || exit "$exit_status"
eval "gate=\${FAKE_VMD_GATE_$name:-}"
if [ -n "$gate" ]; then
	while [ ! -e "$TESSERA_TEST_DIR/$name.go" ]; do sleep 0.05; done
fi
eval "color=\${FAKE_VMD_COLOR_$name:-33cc33}"
eval "title=\${FAKE_VMD_TITLE_$name:-$name window}"
eval "extra=\${FAKE_VMD_ARGS_$name:-}"
eval "client=\${FAKE_VMD_CLIENT_$name:-}"
if [ -n "$client" ]; then
	cd "$TESSERA_TEST_DIR"
	# Like tessera-vmd, exit 0 at tessera's SIGTERM (a test client may
	# not handle it); otherwise with the client's status.
	# shellcheck disable=SC2086
	"$client" $extra > "$name.log" 2>&1 &
	child=$!
	trap 'kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM
	set +e
	wait "$child"
	exit_status=$?
	exit "$exit_status"
fi
# shellcheck disable=SC2086
exec "$TESSERA_SIMPLE_SHM" --color "$color" --title "$title" --size 200x120 \
	--log "$TESSERA_TEST_DIR/$name.log" $extra
