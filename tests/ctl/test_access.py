#!/usr/bin/env python3
"""Only the user tessera runs as may use its control socket. The socket is
created with mode 0600 in the private runtime directory; to show that
tessera checks the peer's credentials itself, the test opens both to
everyone and runs tesseractl as nobody (setpriv, as root): tessera refuses
the connection with a reason, logs it and lists nothing; the same user is
still served."""

import os
import shutil

import compositor_test
import ctl_test as c
import tessera_test as t

NOBODY = 65534


def test():
    if os.geteuid() != 0:
        t.skip("running tesseractl as another user needs root (setpriv)")
    setpriv = t.host_program("setpriv")
    as_nobody = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    tessera = t.Tessera(size=(400, 300),
                        config=compositor_test.fake_vm_config({"work": "cc3333"}))
    try:
        t.ClientLog(f"{tessera.tmp}/work.log").wait("mapped")
        path = c.socket_path(tessera)
        # a copy of tesseractl nobody may run, and the way to the socket
        os.chmod(tessera.tmp, 0o711)
        ctl = os.path.join(tessera.tmp, "tesseractl")
        shutil.copy(t.program("TESSERA_CTL"), ctl)
        os.chmod(ctl, 0o755)
        env = {**tessera.client_env, "TESSERA_CTL": ctl}

        # As created: the runtime directory and the 0600 socket keep
        # nobody out before tessera is even asked.
        res = c.ctl(tessera, "--socket", path, "vm", "list", env=env, prefix=as_nobody,
                    expect=c.UNREACHABLE)
        t.check("Permission denied" in res.stderr, f"nobody, socket closed: {res.stderr!r}")
        t.check("refused a connection" not in tessera.log(), "tessera saw a connection")

        # Reachable: tessera itself refuses.
        os.chmod(tessera.runtime_dir, 0o711)
        os.chmod(path, 0o666)
        res = c.ctl(tessera, "--socket", path, "vm", "list", env=env, prefix=as_nobody,
                    expect=c.TESSERA_ERROR)
        t.check(res.stdout == "" and res.stderr ==
                "tesseractl: permission denied: tessera runs as uid 0 and serves no other "
                f"user (you are uid {NOBODY})\n", f"nobody: {res.stdout!r} {res.stderr!r}")
        reply = c.ctl_json(tessera, "--socket", path, "vm", "stop", "work", env=env,
                           prefix=as_nobody, expect=c.TESSERA_ERROR)
        t.check(reply["code"] == "permission-denied" and set(reply) ==
                {"version", "ok", "code", "error"}, f"nobody --json: {reply}")
        t.wait_for(lambda: tessera.log().count(f"ctl: refused a connection of uid {NOBODY}")
                   == 2, 10, "tessera's log lines about the refusals")
        # nothing happened to the VM, and the user is served
        t.check(c.vms(tessera)["work"]["state"] == "running", "the VM after nobody's stop")
        t.check(len(tessera.daemon_pids()["work"]) == 1, "the VM's daemon was restarted")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
