"""Host loopback tier for tessera-agent (test tiers: docs/ARCHITECTURE.md).

tessera (headless, pixman) runs a VM whose tessera-vmd listens on a
vhost-user socket; tessera-agent connects to it with --transport
vhost-user:SOCK, playing VMM and guest driver (same vmd code path as a real
guest); guest clients connect to the agent in their own XDG_RUNTIME_DIR.
Programs come from the environment meson sets (TESSERA, TESSERA_VMD,
TESSERA_AGENT, TESSERA_SIMPLE_SHM, TESSERA_PNG_PROBE, ...).
"""

import os
import re
import signal
import subprocess

import tessera_proc
import tessera_test as t

VM = "guest"
VM_COLOR = "cc3333"


class GuestVM:
    """One VM of a Loopback: its tessera-vmd's vhost-user socket and the
    tessera-agent(s) the test runs on it, each guest in its own
    XDG_RUNTIME_DIR. tessera.stop() (through Loopback) stops the current
    agent and checks every agent the test started on this VM: it ran until
    the end (or ended with a status declared by expect_agent_exit) and
    exited with status 0; its log holds no sanitizer report and no ERROR
    line the test did not declare (expect_error)."""

    def __init__(self, tessera, name, sock, agent_args, runtime_name):
        self.tessera = tessera
        self.name = name
        self.sock = sock
        self.agent = None
        self.agent_log = None
        self.agents = []  # (Popen, log path) of every agent started
        self.checked_agents = set()  # pids whose exit status was checked
        self.expected_agent_exits = []
        self.guest_runtime = os.path.join(tessera.tmp, runtime_name)
        os.mkdir(self.guest_runtime, 0o700)
        self.agent_env = dict(tessera.env)
        self.agent_env["XDG_RUNTIME_DIR"] = self.guest_runtime
        self.agent_env.pop("WAYLAND_DISPLAY", None)
        self.agent_args = list(agent_args)
        self.guest_env = None
        self.x_display = None

    def start_agent(self):
        agent = t.program("TESSERA_AGENT")
        self.agent_log_path = os.path.join(self.tessera.tmp,
                                           f"agent-{len(os.listdir(self.tessera.tmp))}.log")
        self.agent_log = open(self.agent_log_path, "w")
        self.agent = subprocess.Popen(
            [agent, "-v", "--transport", f"vhost-user:{self.sock}",
             "--socket", "guest-0", *self.agent_args],
            env=self.agent_env, stdout=subprocess.PIPE, stderr=self.agent_log, text=True)
        self.agents.append((self.agent, self.agent_log_path))
        line = self.agent.stdout.readline()
        if not line.startswith("WAYLAND_DISPLAY="):
            self.agent.kill()
            self.agent.wait()
            t.fail(f"tessera-agent of VM {self.name} did not print WAYLAND_DISPLAY "
                   f"(got {line!r}):\n" + self.log())
        self.guest_env = dict(self.agent_env)
        self.guest_env["WAYLAND_DISPLAY"] = line.strip().split("=", 1)[1]
        # With Xwayland on (it logs so before printing), DISPLAY=:N follows.
        self.guest_env.pop("DISPLAY", None)
        self.x_display = None
        if "X11 applications connect to DISPLAY=" in self.log():
            line = self.agent.stdout.readline()
            if not line.startswith("DISPLAY=:"):
                t.fail(f"tessera-agent did not print DISPLAY after WAYLAND_DISPLAY "
                       f"(got {line!r})")
            self.x_display = line.strip().split("=", 1)[1]
            self.guest_env["DISPLAY"] = self.x_display
        t.wait_for(lambda: "host session" in self.log() and "running" in self.log(),
                   15, f"the agent's session with the host (VM {self.name})")

    def log(self):
        if not self.agent_log.closed:
            self.agent_log.flush()
        with open(self.agent_log_path, errors="replace") as f:
            return f.read()

    def guest_client(self, argv, **kwargs):
        """A client of the agent (a guest application)."""
        proc = subprocess.Popen([str(a) for a in argv], env=self.guest_env, **kwargs)
        self.tessera.clients.append(proc)
        return proc

    def vmd_pid(self):
        return tessera_proc.find_vmd(self.sock)

    def agent_counters(self):
        """The agent's counters (SIGUSR1)."""
        before = self.log().count("counters (SIGUSR1)")
        self.agent.send_signal(signal.SIGUSR1)
        t.wait_for(lambda: self.log().count("counters (SIGUSR1)") > before, 10,
                   "the agent's counters")
        line = [ln for ln in self.log().splitlines() if "counters (SIGUSR1)" in ln][-1]
        return {k.strip(): int(v) for v, k in
                ((m.group(2), m.group(1)) for m in
                 re.finditer(r"([a-z -]+) (\d+)", line.split(":", 2)[-1]))}

    def expect_agent_exit(self, status):
        """Declares that an agent ends during the test with this exit
        status (a Popen returncode: -9 for SIGKILL), e.g. killed by the
        test, which then starts another."""
        self.expected_agent_exits.append(status)

    def stop_agent(self):
        """Ends the current agent (SIGTERM); it must have run until now
        and exit with status 0."""
        problems = self._stop_agent()
        if problems:
            print(self.log())
            t.fail("\n".join(problems))

    def _stop_agent(self):
        agent = self.agent
        if agent is None or agent.stdout.closed:
            return []
        problems = []
        if agent.poll() is not None and agent.returncode not in self.expected_agent_exits:
            problems.append(f"tessera-agent (pid {agent.pid}) died during the test "
                            f"(status {agent.returncode}; declare an intended exit "
                            "with expect_agent_exit)")
        elif t.terminate(agent, 15, "tessera-agent") != 0:
            problems.append(f"tessera-agent (pid {agent.pid}) exited with status "
                            f"{agent.returncode} on SIGTERM")
        agent.stdout.close()
        self.agent_log.close()
        self.checked_agents.add(agent.pid)
        return problems

    def stop_agents(self):
        """Stops the current agent, then checks every agent of this VM:
        each ended with status 0 or one the test declared, and its log
        holds no sanitizer report and no undeclared ERROR line. Returns the
        problems found."""
        problems = self._stop_agent()
        for agent, log_path in self.agents:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
                problems.append(f"tessera-agent (pid {agent.pid}) still ran at the end")
            elif (agent.pid not in self.checked_agents and agent.returncode != 0
                  and agent.returncode not in self.expected_agent_exits):
                problems.append(f"tessera-agent (pid {agent.pid}) exited with status "
                                f"{agent.returncode}")
            with open(log_path, errors="replace") as f:
                text = f.read()
            problems += t.log_problems(text, f"the log of tessera-agent (pid {agent.pid})",
                                       self.tessera.expected_errors)
            # wlroots starts Xwayland again when its client goes away: not
            # while the agent exits
            if "counters (exit)" in text and \
                    "Restarting Xwayland" in text.split("counters (exit)", 1)[1]:
                problems.append(f"tessera-agent (pid {agent.pid}) started Xwayland "
                                "again while exiting")
        return problems

    def kill(self):
        if self.agent is not None and self.agent.poll() is None:
            self.agent.kill()
            self.agent.wait()


class Loopback:
    """tessera + one tessera-vmd per VM (spawned by tessera) + a
    tessera-agent on each (GuestVM). The first VM is VM ("guest"); its
    agent, clients and log are the Loopback's own attributes (agent,
    guest_env, guest_client, log, ...). extra_vms: further VMs, each a
    (name, colour "rrggbb", extra [vm] lines) tuple; vm(name) gives one.
    Every agent gets agent_args.

    tessera.stop() (also through stop()) first stops the agents, then
    checks every agent the test started (GuestVM.stop_agents)."""

    def __init__(self, size=(1024, 768), agent_args=(), tessera_args=(), vm_config="",
                 extra_vms=()):
        self.sock = None
        self.tessera = None
        self.vms = {}
        extra_vms = [tuple(v) + ("",) * (3 - len(v)) for v in extra_vms]
        config_sock = "@SOCK@"
        config = f"""
[vm {VM}]
color = #{VM_COLOR}
vhost-user = {config_sock}
{vm_config}"""
        for name, color, lines in extra_vms:
            config += f"""
[vm {name}]
color = #{color}
vhost-user = @DIR@/{name}.sock
{lines}"""
        # The socket lives in tessera's private test directory, which is
        # only known once it exists: write the config afterwards.
        env = {"TESSERA_VMD": t.program("TESSERA_VMD")}
        self.tessera = t.Tessera(size=size, config=None, env=env,
                                 args=self._config_args(config) + list(tessera_args))
        # Stopping tessera stops and checks the agents first.
        self.tessera.before_stop.append(self._stop_agents)
        socks = [(VM, self.sock, "guest-runtime")] + \
            [(name, os.path.join(self._cfgdir, f"{name}.sock"), f"guest-runtime-{name}")
             for name, _, _ in extra_vms]
        for name, sock, runtime in socks:
            t.wait_for(lambda: os.path.exists(sock), 15,
                       f"the vhost-user socket of VM {name}'s vmd")
            self.vms[name] = GuestVM(self.tessera, name, sock, agent_args, runtime)
        for vm in self.vms.values():
            vm.start_agent()

    def _config_args(self, config):
        import tempfile
        d = tempfile.mkdtemp(prefix="tessera-agent-test-")
        self._cfgdir = d
        self.sock = os.path.join(d, "vm.sock")
        path = os.path.join(d, "tessera.ini")
        with open(path, "w") as f:
            f.write(config.replace("@SOCK@", self.sock).replace("@DIR@", d))
        return ["--config", path]

    def vm(self, name):
        """The GuestVM called name."""
        return self.vms[name]

    # The first VM's agent, as the Loopback's own.
    @property
    def primary(self):
        return self.vms[VM]

    agent = property(lambda self: self.primary.agent)
    agent_log = property(lambda self: self.primary.agent_log)
    agent_log_path = property(lambda self: self.primary.agent_log_path)
    agent_env = property(lambda self: self.primary.agent_env)
    guest_env = property(lambda self: self.primary.guest_env)
    guest_runtime = property(lambda self: self.primary.guest_runtime)
    x_display = property(lambda self: self.primary.x_display)

    def start_agent(self):
        self.primary.start_agent()

    def log(self):
        return self.primary.log()

    def guest_client(self, argv, **kwargs):
        return self.primary.guest_client(argv, **kwargs)

    def vmd_pid(self):
        return self.primary.vmd_pid()

    def agent_counters(self):
        return self.primary.agent_counters()

    def expect_agent_exit(self, status):
        self.primary.expect_agent_exit(status)

    def stop_agent(self):
        self.primary.stop_agent()

    def titles(self):
        return self.tessera.titles()

    def wait_title(self, title, present=True, timeout=15):
        return t.wait_for(lambda: (title in self.titles()) == present, timeout,
                          f"window '{title}' {'on' if present else 'gone from'} the host")

    def expect_error(self, pattern):
        """ERROR lines the test provokes on purpose, in tessera's log (with
        vmd's) or an agent's (Tessera.expect_error)."""
        self.tessera.expect_error(pattern)

    def ctl(self, *args, ok=True):
        """tesseractl --json ARGS: its reply, which must say ok (or not,
        with ok=False: tesseractl then exits 1)."""
        import json
        res = self.tessera.run([t.program("TESSERA_CTL"), "--json", *args], check_rc=False)
        t.check(res.returncode == (0 if ok else 1),
                f"tesseractl {' '.join(map(str, args))}: exit {res.returncode}\n"
                f"{res.stdout}{res.stderr}")
        reply = json.loads(res.stdout)
        t.check(reply.get("ok") == ok, f"tesseractl {args}: {reply}")
        return reply

    def _stop_agents(self):
        """Run by tessera.stop()."""
        problems = []
        for vm in self.vms.values():
            problems += vm.stop_agents()
        return problems

    def stop(self):
        self.tessera.stop()

    def cleanup(self):
        for vm in self.vms.values():
            vm.kill()
        if self.tessera is not None:
            self.tessera.cleanup()
        import shutil
        shutil.rmtree(self._cfgdir, ignore_errors=True)


def read_until(proc, want, timeout=30.0):
    """Lines a client printed (since the last call), up to the one equal
    to want (or for which want(line) is true, when it is callable). Reads
    the pipe's fd directly: lines buffered by Python's file object would be
    invisible to select()."""
    import select
    import time
    fd = proc.stdout.fileno()
    pending = getattr(proc, "_pending", b"")
    lines = []
    deadline = time.monotonic() + timeout
    while True:
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            lines.append(line.decode(errors="replace").strip())
            if (want(lines[-1]) if callable(want) else lines[-1] == want):
                proc._pending = pending
                return lines
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            t.fail(f"no '{want}' from the client within {timeout:.0f} s: {lines[-5:]}")
        chunk = os.read(fd, 65536)
        if not chunk:
            t.fail(f"the client exited before '{want}': {lines[-5:]}")
        pending += chunk


def screenshot_with(loop, colors, timeout=15, what="windows"):
    """A screenshot holding pixels of every colour."""
    return t.wait_for(lambda: (lambda p: p if all(p.bbox(c) for c in colors) else None)(
        loop.tessera.screenshot()), timeout, what)


def stop_client(proc):
    """Ends a guest client started with stdout=PIPE (guest-client stays
    until terminated)."""
    proc.terminate()
    proc.wait()
    proc.stdout.close()
