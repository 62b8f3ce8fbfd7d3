#!/usr/bin/env python3
"""The restart back-off of a VM daemon, measured from the daemons
themselves (fake-vmd.sh writes the time of each start and quick exit; the
test notes when it kills one), not read from tessera's log: 0.5 s after
the first death, then doubling (1, 2, 4, 8, 16 s) while the daemon keeps
dying at once, capped at 30 s (not 32); a daemon that ran 10 s is healthy,
so after its death the back-off starts again at 0.5 s, then 1 s.

The delays are compile-time constants of server/compositor/vm.c, so the
test takes their real time (about 75 s, nearly all of it asleep). Each
measured delay must be at least the designed one and less than the
designed one plus a margin for reaping and spawning that still tells it
from the next step (e.g. the capped delay in [30, 31.5) s)."""

import os
import signal
import time

import compositor_test
import tessera_test as t

# designed delay (s) before each restart while the daemon dies at once
QUICK = [0.5, 1, 2, 4, 8, 16, 30]
HEALTHY = 10.5  # how long the daemon runs before the reset is checked
AFTER_RESET = [0.5, 1]


def now():
    """The clock of /proc/uptime, which fake-vmd.sh reads."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class Times:
    """flaky.times: "start T" and "exit T STATUS" lines of fake-vmd.sh."""

    def __init__(self, path):
        self.path = path

    def events(self):
        try:
            with open(self.path) as f:
                return [(w[0], float(w[1])) for w in (line.split() for line in f) if w]
        except FileNotFoundError:
            return []

    def starts(self):
        return [v for k, v in self.events() if k == "start"]

    def exits(self):
        return [v for k, v in self.events() if k == "exit"]

    def wait(self, starts, exits, timeout):
        return t.wait_for(lambda: len(self.starts()) >= starts and
                          len(self.exits()) >= exits, timeout,
                          f"{starts} daemon starts and {exits} quick exits")


def check_delay(what, measured, nominal):
    margin = min(nominal, 1.5)
    print(f"{what}: {measured:.2f} s (designed {nominal} s)")
    # fake-vmd.sh stamps its exit before exiting and its start after being
    # spawned: a measured delay cannot be shorter than the real one (10 ms
    # steps of /proc/uptime aside)
    t.check(nominal - 0.02 <= measured < nominal + margin,
            f"{what}: {measured:.2f} s, expected {nominal} s")


def test():
    tessera = t.Tessera(size=(800, 600), config=compositor_test.fake_vm_config(
        {"flaky": "cc3333"}))
    try:
        log = t.ClientLog(f"{tessera.tmp}/flaky.log")
        times = Times(f"{tessera.tmp}/flaky.times")
        exit_file = f"{tessera.tmp}/flaky.exit"
        log.wait("mapped")

        # The daemon killed by the test, then every start exiting with 1.
        tessera.expect_daemon_exit("flaky", r"^(killed by signal 9|exited with status 1)$")
        # From now on every start exits at once with status 1.
        with open(exit_file, "w") as f:
            f.write("1\n")
        died = now()
        os.kill(log.pids()[0], signal.SIGKILL)
        # the 6 quick starts of the doubling, then the healthy one after
        # the capped delay: it must find the exit file gone
        times.wait(1 + 6, 6, sum(QUICK[:6]) + 20)
        os.remove(exit_file)
        starts, exits = times.starts(), times.exits()
        previous = [died] + exits
        for i, nominal in enumerate(QUICK[:6]):
            check_delay(f"restart {i + 1}", starts[1 + i] - previous[i], nominal)

        # The capped delay, then a daemon that stays up.
        times.wait(1 + 7, 6, QUICK[6] + 20)
        check_delay("restart 7 (capped)", times.starts()[7] - times.exits()[5], QUICK[6])
        t.wait_for(lambda: len(log.pids()) >= 2, 10, "the healthy daemon's window")
        started = times.starts()[7]
        time.sleep(max(0.0, started + HEALTHY - now()))

        # It ran long enough: the back-off starts over.
        with open(exit_file, "w") as f:
            f.write("1\n")
        died = now()
        os.kill(log.pids()[1], signal.SIGKILL)
        times.wait(1 + 9, 8, sum(AFTER_RESET) + 20)
        starts, exits = times.starts(), times.exits()
        check_delay("restart after a healthy run", starts[8] - died, AFTER_RESET[0])
        check_delay("the next one", starts[9] - exits[6], AFTER_RESET[1])
        t.check(tessera.alive(), "tessera died")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
