#!/usr/bin/env python3
"""Per-VM daemon settings from the config reach the daemon's command line;
a daemon that rejects its settings (exit status 2) is reported and not
restarted, while the other VMs carry on."""

import time

import tessera_test as t


def test():
    fake_vmd = t.program("TESSERA_FAKE_VMD")
    config = f"""
[vm work]
color = #cc3333
vhost-user = /nonexistent/work.sock
vmd = {fake_vmd}
max-surfaces = 16
max-buffer-bytes = 64M
display-size = 1280x720

[vm broken]
color = #3355ee
vhost-user = /nonexistent/broken.sock
vmd = {fake_vmd}
max-contexts = 3
"""
    tessera = t.Tessera(size=(800, 600), config=config,
                        env={"FAKE_VMD_EXIT_broken": "2"})
    tessera.expect_daemon_exit("broken", r"^exited with status 2$")
    tessera.expect_error(r"tessera \[ERROR\] vm 'broken': the daemon rejected its settings ")
    try:
        work = t.ClientLog(f"{tessera.tmp}/work.log")
        work.wait("mapped")
        args = t.wait_for(lambda: t.ClientLog(f"{tessera.tmp}/work.args").lines(), 5,
                          "the daemon's arguments")
        t.check(args[0] == "--vhost-user /nonexistent/work.sock --name work --color cc3333 "
                "--display-size 1280x720 --max-surfaces 16 --max-buffer-bytes 64M",
                f"daemon command line: {args[0]!r}")
        t.wait_for(lambda: "vm 'broken': the daemon rejected its settings" in tessera.log(),
                   10, "the rejected settings to be reported")
        time.sleep(1.5)  # longer than the first back-off
        broken_args = t.ClientLog(f"{tessera.tmp}/broken.args").lines()
        t.check(len(broken_args) == 1, f"the broken daemon was restarted: {broken_args}")
        t.check("--max-contexts 3" in broken_args[0], broken_args[0])
        t.check("vm 'broken': restart in" not in tessera.log(), "a restart was scheduled")
        t.check(tessera.screenshot().bbox("33cc33") is not None, "vm work's window is gone")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
