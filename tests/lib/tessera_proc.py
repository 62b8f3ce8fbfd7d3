"""What a test sees of other processes through /proc: open fds, memory
mappings, children, the tessera-vmd serving a vhost-user socket and the
counters it logs on SIGUSR1.

Leak checks compare these before and after: fd_count() and memfd_maps()
of a daemon must come back to their baseline once a guest has gone.
"""

import os
import re
import signal

import tessera_test as t


def fd_count(pid):
    """How many fds the process has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_targets(pid):
    """What each open fd of the process points to ("/memfd:NAME
    (deleted)", "socket:[N]", a path...); fds closed meanwhile are left
    out."""
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            pass
    return targets


def map_count(pid):
    """How many memory mappings the process has."""
    with open(f"/proc/{pid}/maps") as f:
        return sum(1 for _ in f)


def file_map_count(pid):
    """How many of the process's memory mappings map a file (libraries,
    memfds such as guest RAM): unlike anonymous ones (malloc's, which vary
    with allocation timing), the same for two processes that did the same."""
    with open(f"/proc/{pid}/maps") as f:
        return sum(1 for line in f
                   if len(line.split(None, 5)) == 6 and line.split(None, 5)[5].startswith("/"))


def memfd_maps(pid, name="memfd:"):
    """The file of every mapping of the process whose line in
    /proc/PID/maps holds name (by default: every memfd), in address order,
    e.g. "/memfd:tessera-gmem-guest-ram (deleted)"."""
    with open(f"/proc/{pid}/maps") as f:
        return [line.split(None, 5)[-1].strip() for line in f if name in line]


def child_pids(pid):
    """The pids of the process's children ([] once it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def find_vmd(sock):
    """The pid of the tessera-vmd serving the vhost-user socket sock, or
    None."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"tessera-vmd") and sock.encode() in argv:
            return int(entry)
    return None


def vmd_stats(tessera, pid):
    """The counters of the tessera-vmd pid (started by the t.Tessera
    tessera, which logs its daemons' lines): SIGUSR1 makes it log one
    "stats (SIGUSR1) key=value..." line. A dict of strings."""
    before = tessera.log().count("stats (SIGUSR1)")
    os.kill(pid, signal.SIGUSR1)
    t.wait_for(lambda: tessera.log().count("stats (SIGUSR1)") > before, 10,
               "vmd's counters after SIGUSR1")
    line = [ln for ln in tessera.log().splitlines() if "stats (SIGUSR1)" in ln][-1]
    return dict(re.findall(r"(\w+)=(\S+)", line))


def cpu_ticks(pid):
    """User + system CPU time of pid in clock ticks (os.sysconf
    "SC_CLK_TCK" per second), None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def percentile(values, p):
    """The p-th percentile of values (nearest rank), nan for none."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]
