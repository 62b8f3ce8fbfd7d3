#!/usr/bin/env python3
"""tessera_guest_memory_v1, bad input: each VM daemon below sends one
invalid request and must get the protocol error for it (interface, code and
a message naming the problem), logged by the compositor with the VM's name.
Meanwhile the compositor keeps running and serving: a good VM's window
shows its pattern and follows new pixels, a host client works, and the host
client does not even see the global."""

import re

import tessera_test as t
import test_pixels as px

MANAGER = "tessera_guest_memory_v1"
PARAMS = "tessera_guest_buffer_params_v1"

# scenario (= VM name): interface, error code, part of the message
BAD = {
    "bad_unsealed": (MANAGER, 0, "lacks F_SEAL_SHRINK"),
    "bad_not_memfd": (MANAGER, 0, "not a memfd"),
    "bad_fd_too_small": (MANAGER, 0, "smaller than offset"),
    "bad_write_only": (MANAGER, 0, "not open for reading"),
    "bad_region_misaligned": (MANAGER, 1, "multiples of the page size"),
    "bad_region_overflow": (MANAGER, 1, "overflows 64 bits"),
    "bad_overlap": (MANAGER, 2, "overlaps region"),
    "bad_too_many_regions": (MANAGER, 3, "too many regions"),
    "bad_too_many_params": (MANAGER, 4, "too many params objects"),
    "bad_used_twice": (PARAMS, 0, "already called"),
    "bad_extent_overflow": (PARAMS, 1, "overflows 64 bits"),
    "bad_misaligned": (PARAMS, 2, "gpa 0x100000100 is not a multiple of the page size"),
    "bad_misaligned_length": (PARAMS, 2, "it is not the last extent"),
    "bad_too_many_extents": (PARAMS, 3, "too many extents"),
    "bad_outside": (PARAMS, 4, "extent 1 (gpa 0x40000000, length 0x1000) does not lie"),
    "bad_straddle": (PARAMS, 4, "does not lie inside one region"),
    "bad_format": (PARAMS, 5, "wl_shm codes are not accepted"),
    "bad_size": (PARAMS, 6, "width 0 and height 16 must each be 1..8192"),
    "bad_stride": (PARAMS, 7, "stride 60 invalid for width 16"),
    "bad_too_small": (PARAMS, 8, "fewer than offset 0 + stride 256 * height 33"),
    "bad_size_overflow": (PARAMS, 8, "fewer than offset 4294967292 + stride 32768"),
    "bad_no_extents": (PARAMS, 8, "0 extents hold 0x0 bytes"),
    "bad_too_large": (PARAMS, 9, "takes the buffer over"),
    "bad_too_many_mappings": (PARAMS, 9,
                              "budget exceeded by a buffer of 67112960 bytes in 16385 mappings"),
    "bad_offset": (PARAMS, 11, "offset 2 is not a multiple of 4"),
}


def test():
    vmd = t.program("GMEM_VMD")
    t.program("GMEM_CLIENT")
    simple_shm = t.program("TESSERA_SIMPLE_SHM")
    config = f"""
[vm {px.VM}]
color = #{px.FRAME}
vhost-user = /nonexistent/{px.VM}.sock
vmd = {vmd}
"""
    env = {"GMEM_SCENARIO_" + px.VM: "show"}
    for name in BAD:
        config += f"""
[vm {name}]
color = #202020
vhost-user = /nonexistent/{name}.sock
vmd = {vmd}
"""
        env["GMEM_SCENARIO_" + name] = name
    tessera = t.Tessera(size=(640, 480), config=config, env=env)
    # What each bad VM provokes on purpose: the compositor's log line, the
    # daemon's own report of the error (libwayland's) and its exit.
    for name, (interface, code, text) in BAD.items():
        tessera.expect_error(rf"tessera \[ERROR\] guest memory: vm '{name}': protocol "
                             rf"error {code} on {interface}: .*{re.escape(text)}")
        tessera.expect_error(rf"\[ERROR\] libwayland: {interface}@\d+: error {code}: "
                             rf".*{re.escape(text)}")
        tessera.expect_daemon_exit(name, r"^exited with status 1$")
    try:
        good = t.ClientLog(f"{tessera.tmp}/{px.VM}.log")
        good.wait("1 connected", timeout=30)
        open(f"{tessera.tmp}/{px.VM}.1.start", "w").close()
        good.wait("1 mapped", timeout=30)
        # The process-wide mapping limit (32768) is split between the
        # configured VMs: no VM can exhaust another's share.
        vms = 1 + len(BAD)
        budget = good.matching("1 budget ")
        t.check(budget == [f"1 budget 1024 {min(16384, 32768 // vms)} 4294967296"],
                f"budget with {vms} VMs: {budget}")

        failures = []
        for name, (interface, code, text) in BAD.items():
            log = t.ClientLog(f"{tessera.tmp}/{name}.log")
            log.wait("1 protocol-error", timeout=30)
            got = log.matching("1 protocol-error")[0]
            want = f"1 protocol-error {interface} {code}"
            if got != want:
                failures.append(f"{name}: got '{got}', expected '{want}'")
                continue
            messages = [line for line in log.matching("1 wayland-log")
                        if f"{interface}@" in line and f"error {code}: " in line]
            if not any(text in line for line in messages):
                failures.append(f"{name}: no message with '{text}' in "
                                f"{log.matching('1 wayland-log')}")
        t.check(not failures, "wrong errors:\n  " + "\n  ".join(failures))

        # The compositor logged each one with the VM's name, and the
        # daemons ended with status 1 (their own error path, no leak report).
        for name, (interface, code, text) in BAD.items():
            t.wait_for(lambda: f"vm '{name}': daemon" in tessera.log(), 20,
                       f"daemon of {name} exited")
            text_log = tessera.log()
            t.check(f"guest memory: vm '{name}': protocol error {code} on {interface}: "
                    in text_log, f"compositor log lacks the error of {name}")
            t.check(any(f"vm '{name}': daemon (pid" in line and "exited with status 1" in line
                        for line in text_log.splitlines()),
                    f"daemon of {name} did not exit with status 1")

        # Still serving: the good VM's window, old and new pixels.
        t.check(tessera.alive(), "tessera died")
        px.check_pattern(tessera, 0, "good VM among bad ones")
        open(f"{tessera.tmp}/{px.VM}.1.rewrite", "w").close()
        good.wait("1 rewritten")
        px.check_pattern(tessera, 1, "good VM after the bad ones")

        # A host client works and does not see the global.
        host = t.ClientLog(f"{tessera.tmp}/host.log")
        tessera.client([simple_shm, "--color", "808080", "--size", "100x80",
                        "--log", host.path, "--bind", MANAGER])
        host.wait("mapped")
        t.check(host.has(f"bind {MANAGER} absent"), "a host client sees the VM-only global")
        t.wait_for(lambda: tessera.screenshot().bbox("808080"), 10, "host window on screen")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
