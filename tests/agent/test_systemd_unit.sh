#!/bin/sh
# The systemd user unit of the agent is valid (systemd-analyze verify),
# with ExecStart pointing at the tessera-agent that was built.
set -eu
unit=$1 agent=$2
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is not installed"; exit 77; }
dir=$(mktemp -d /tmp/tessera-unit.XXXXXX)
trap 'rm -rf "$dir"' EXIT
sed "s#^ExecStart=[^ ]*#ExecStart=$agent#" "$unit" > "$dir/tessera-agent.service"
grep -q "^ExecStart=$agent --transport virtgpu" "$dir/tessera-agent.service"
out=$(systemd-analyze verify "$dir/tessera-agent.service" 2>&1) || { echo "$out"; exit 1; }
# verify also reports problems without failing: none may be about our unit
if echo "$out" | grep -q "tessera-agent.service"; then echo "$out"; exit 1; fi
echo "PASS"
