#!/usr/bin/env python3
"""Two VMs on one tessera over the vhost-user loopback (agent_test's
extra_vms): each VM's tessera-vmd and tessera-agent are its own, each
guest's window is framed in its VM's colour and labelled with its VM's
name, and each VM's window list entry names its VM."""

import agent_test as a
import tessera_test as t

B = "b"
B_COLOR = "3366cc"


def test():
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    loop = a.Loopback(size=(1024, 768), extra_vms=[(B, B_COLOR)])
    try:
        b = loop.vm(B)
        t.check(b.vmd_pid() not in (None, loop.vmd_pid()),
                f"VM {B} has no tessera-vmd of its own")
        for vm, color, title in ((loop.primary, "33cc33", "one"), (b, "cccc33", "two")):
            log = t.ClientLog(f"{loop.tessera.tmp}/{title}.log")
            vm.guest_client([simple_shm, "--color", color, "--size", "200x120",
                             "--title", title, "--log", log.path])
            log.wait("mapped", 20)
        loop.wait_title(f"[{a.VM}] one")
        loop.wait_title(f"[{B}] two")
        png = a.screenshot_with(loop, ["33cc33", "cccc33"], what="both windows")
        t.frame_check(png, "33cc33", a.VM_COLOR, f"VM {a.VM}'s window")
        t.frame_check(png, "cccc33", B_COLOR, f"VM {B}'s window")

        windows = {w["title"]: w["vm"] for w in loop.ctl("window", "list")["windows"]}
        t.check(windows.get("one") == a.VM and windows.get("two") == B,
                f"window list: {windows}")
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
