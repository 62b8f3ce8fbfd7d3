#!/usr/bin/env python3
"""Malformed batches (bad ids, unknown resource, stride too small, a range
beyond the resource, too many surfaces, wrong state, roles, ...) each end
the guest session that sent them with an ERROR event in its ring, the
fatal code in the ring status and a log line naming the VM; every later
submission of that context is refused. Another session of the same VM,
its window, tessera and the daemon carry on; a new session works."""

import vmd_session_test as v
from vmd_session_test import t

GREEN, BLUE = "33cc33", "3355aa"
MAX_SURFACES = 8

CASES = [
    ("zero-id", "ID"),
    ("id-reuse", "ID_REUSE"),
    ("resource", "RESOURCE"),
    ("stride", "STRIDE"),
    ("range", "RANGE"),
    ("state", "STATE"),
    ("truncated", "TRUNCATED"),
    ("role", "ROLE"),
    ("no-object", "NO_OBJECT"),
    ("unacked", "STATE"),
    ("ack", "VALUE"),
    ("cycle", "VALUE"),
    ("surfaces", "LIMIT"),
]


def test():
    tessera = t.Tessera(size=(800, 600), config=v.config(),
                        env={"VMD_SESSION_TEST_MAX_SURFACES": str(MAX_SURFACES)})
    try:
        vm = v.Vm(tessera)
        vm.cmd("hello 1")
        vm.cmd(f"resource 1 200 120 {GREEN}")
        vm.cmd(f"resource 2 200 120 {BLUE}")
        vm.cmd("buffer 1 1")
        vm.cmd("buffer 2 2")
        vm.cmd("window 1 1 survivor")
        vm.wait(r"^mapped ctx=1 surface=1")
        v.shot_with(tessera, GREEN)

        for i, (kind, code) in enumerate(CASES):
            ctx = 10 + i
            vm.cmd(f"hello {ctx}")
            vm.wait(rf"event ctx={ctx} HELLO_REPLY")
            # the session's end is logged as an ERROR naming the VM
            tessera.expect_error(rf"\[ERROR\] vm 'work': context {ctx}: {code} .*: session ended$")
            vm.cmd(f"malformed {kind}")
            vm.wait(rf"^malformed {kind} result=error")
            error = vm.wait(rf"event ctx={ctx} ERROR code=")[0]
            t.check(f"code={code} " in error, f"{kind}: {error}, expected {code}")
            vm.wait(rf"^status ctx={ctx} {code}$")
            t.check(f"vm 'work': context {ctx}: {code} " in tessera.log(),
                    f"{kind}: no log line naming the VM and the error")
            # the context is dead for good
            vm.cmd("commit 1 0")
            vm.wait(rf"^submit ctx={ctx} result=error", count=2)
        t.check("max_surfaces" in tessera.log(), "the LIMIT log line does not name the limit")

        # Untouched: the first session, its window, the compositor.
        vm.cmd("use 1")
        vm.cmd("commit 1 2 all")
        vm.wait(r"event ctx=1 BUFFER_RELEASE buffer=1 ")
        v.shot_with(tessera, BLUE, absent=[GREEN])
        t.check(not vm.events(1, "ERROR"), f"errors in session 1: {vm.events(1, 'ERROR')}")
        stats = vm.stats()
        t.check(stats["errors"] == len(CASES), f"errors counted: {stats}")

        # A new session after all that.
        vm.cmd("hello 40")
        vm.cmd("buffer 1 1")
        vm.cmd("window 1 1 newcomer")
        vm.wait(r"^mapped ctx=40 surface=1")
        t.check("[work] newcomer" in tessera.titles(), f"titles: {tessera.titles()}")
        # A right-to-left override cannot run into the trusted label.
        vm.cmd("window 2 1 evil\u202egnp.exe")
        vm.wait(r"^mapped ctx=40 surface=2")
        t.check("[work] evil\ufffdgnp.exe" in tessera.titles(),
                f"bidi override not neutralised: {tessera.titles()}")
        vm.cmd("destroy-surface 2")

        # CTX_DESTROY of the first session: its window goes, the other stays.
        vm.cmd("ctx-destroy 1")
        t.wait_for(lambda: "[work] survivor" not in tessera.titles(), 10,
                   "the destroyed session's window to go")
        t.check("[work] newcomer" in tessera.titles(), f"titles: {tessera.titles()}")
        v.shot_with(tessera, GREEN, absent=[BLUE])

        vm.check_no_failures()
        vm.quit()
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
