#!/bin/sh
# Stand-in VM daemon for the guest-memory tests: tessera starts it like
# tessera-vmd (pre-connected WAYLAND_SOCKET, --vhost-user/--name/--color) and
# it runs gmem-client through that tagged connection. What the client does
# comes from the test's environment: GMEM_SCENARIO_<name> is a comma list,
# one scenario per start of the daemon (tessera restarts it after it
# exits); starts beyond the list run "idle". The client logs to
# $TESSERA_TEST_DIR/<name>.log and waits for step files named
# $TESSERA_TEST_DIR/<name>.<run>.<step>.
set -eu
name=
while [ $# -gt 0 ]; do
	case "$1" in
	--name) name=$2; shift 2 ;;
	--vhost-user|--color) shift 2 ;;
	*) echo "gmem-vmd: unexpected argument '$1'" >&2; exit 2 ;;
	esac
done
[ -n "$name" ] || { echo "gmem-vmd: no --name" >&2; exit 2; }
runs_file="$TESSERA_TEST_DIR/$name.runs"
run=$(( $(cat "$runs_file" 2>/dev/null || echo 0) + 1 ))
echo "$run" > "$runs_file"
list=idle
eval "list=\${GMEM_SCENARIO_$name:-idle}"
scenario=idle
i=0
IFS=,
for s in $list; do
	i=$((i + 1))
	if [ "$i" -eq "$run" ]; then
		scenario=$s
	fi
done
unset IFS
exec "$GMEM_CLIENT" --name "$name" --scenario "$scenario" --run "$run" \
	--log "$TESSERA_TEST_DIR/$name.log" --control "$TESSERA_TEST_DIR/$name"
