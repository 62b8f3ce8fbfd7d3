#!/usr/bin/env python3
"""Fairness between VMs (small scale; bench/fairness.py measures at length).

Two VMs on one tessera. VM "guest" runs weston-simple-shm through
tessera-agent on the loopback. VM "flood" is flood-guest on its own
tessera-vmd, with small limits: maximum-size batches of 1 KiB titles and
full-damage commits, several queued at once, its window's event ring never
read, virtio-gpu resources up to the limit and beyond, oversized batches,
throw-away sessions that create surfaces or buffers until the host ends
them. In alternating windows, with and without the flood:

- the flood VM gets its errors: refused virtio-gpu commands, ERROR LIMIT
  events ending its throw-away sessions, vmd log lines naming each limit;
  its window's own session survives (a frame after the flood);
- the calm VM gets none (no ERROR line of its vmd or agent) and keeps
  presenting: during the flood its client shows at least 80% of the
  frames it showed in the calm windows of the same run (a ratio, never a
  speed);
- tessera's memory stays bounded (RSS and fds sampled during the flood,
  bounds below), comes back once the flood VM is gone, and every daemon
  keeps its pid.
"""

import os
import time

import fairness
import tessera_proc
import tessera_test as t

SMALL_LIMITS = ("max-resources = 64", "max-surfaces = 32", "max-buffers = 64")
BATCH = 256 * 1024
ROUNDS = 3
SECONDS = 1.5
MIN_RATIO = 0.8
# What the flood VM can make tessera hold is bounded by its limits: 64
# buffers, each a mapping of guest memory that is paged in only where it
# is shown (its window's two 640x480 buffers: 2.4 MiB), 32 surfaces and a
# title of at most 1 KiB each, the frame callbacks of one frame. 16 MiB
# above the level before the flood covers that and the allocator's slack
# (a leak of the 1 KiB titles or of a mapping per commit would pass it
# within the first second of a flood sending tens of thousands).
RSS_BOUND_KIB = 16 * 1024
# In a sanitizer build, memory freed goes into AddressSanitizer's
# quarantine first (256 MiB by default, filled within a second of the
# flood): capped for this test, and counted in the bound.
ASAN_QUARANTINE_MB = 8
# Buffers of guest memory take no fd in tessera (guest-memory.c maps them
# from the one fd per memory region, received once), surfaces neither.
FD_BOUND = 8


def test():
    t.host_program("weston-simple-shm")
    t.program("FLOOD_GUEST")
    os.environ["ASAN_OPTIONS"] = ":".join(
        [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o] +
        [f"quarantine_size_mb={ASAN_QUARANTINE_MB}"])
    vms = fairness.TwoVMs(flood_settings=SMALL_LIMITS)
    # the flood VM's daemon refuses what passes its limits, on purpose
    vms.tessera.expect_error(rf"tessera-vmd\[{fairness.FLOOD_VM}\] \[ERROR\]")
    try:
        tessera_pid = vms.tessera.proc.pid
        log = vms.timed_client([t.host_program("weston-simple-shm")],
                               os.path.join(vms.tessera.tmp, "client.log"))
        log.wait_frames(30)
        no_flood_vm = fairness.memory(tessera_pid)[1]
        vms.start_flooder(BATCH)
        vmds = vms.vmd_pids()
        t.check(all(vmds.values()), f"daemons: {vmds}")
        rss_before, fds_before = fairness.memory(tessera_pid)

        calm_frames = flood_frames = 0
        floods, samples = [], []
        for _ in range(ROUNDS):
            start = log.mark()
            time.sleep(SECONDS)
            calm_frames += len(log.frames(start, log.mark()))
            sampler = fairness.Sampler(tessera_pid)
            sampler.start()
            vms.flooder.start_flood(SECONDS + 0.3)
            time.sleep(0.3)
            start = log.mark()
            time.sleep(SECONDS)
            flood_frames += len(log.frames(start, log.mark()))
            floods.append(vms.flooder.flood_result())
            samples += sampler.stop()
        total = {k: sum(f[k] for f in floods) for k in floods[0]}
        print(f"calm VM: {calm_frames} frames without the flood, {flood_frames} with it "
              f"({ROUNDS} x {SECONDS} s each); flood VM: {total}")

        # The flood happened, and the flood VM got its errors.
        t.check(total["commits"] > 0 and total["titles"] > 0 and total["batches"] > 0,
                f"no flood: {total}")
        t.check(total["refused"] > 0, f"no virtio-gpu command refused: {total}")
        t.check(total["sessions"] > 0 and total["limit_errors"] == total["sessions"]
                and total["limit_ended"] == total["sessions"]
                and total["other_ended"] == 0,
                f"the throw-away sessions did not all end with ERROR LIMIT: {total}")
        vms.flooder.check_alive()

        # The calm VM kept presenting.
        t.check(calm_frames > 0, "the calm VM's client showed no frame")
        ratio = flood_frames / calm_frames
        t.check(ratio >= MIN_RATIO,
                f"the calm VM's client showed {flood_frames} frames during the flood, "
                f"{calm_frames} without: ratio {ratio:.2f} < {MIN_RATIO}")

        # tessera's memory stayed bounded.
        peak_rss = max(s[0] for s in samples)
        peak_fds = max(s[1] for s in samples)
        print(f"tessera: RSS {rss_before} KiB before the flood, peak {peak_rss} KiB; "
              f"fds {fds_before}, peak {peak_fds}")
        t.check(peak_rss <= rss_before + RSS_BOUND_KIB + ASAN_QUARANTINE_MB * 1024,
                f"tessera's RSS grew from {rss_before} to {peak_rss} KiB")
        t.check(peak_fds <= fds_before + FD_BOUND,
                f"tessera's fds grew from {fds_before} to {peak_fds}")

        # Errors: the flood VM's vmd names every limit, the calm VM has none.
        log_text = vms.tessera.log()
        flood_lines = [ln for ln in log_text.splitlines()
                       if f"tessera-vmd[{fairness.FLOOD_VM}]" in ln]
        for limit in ("limit of 64 resources reached", "(max_surfaces)",
                      "(max_buffers)", f"limit {BATCH})"):
            t.check(any(limit in ln for ln in flood_lines),
                    f"no log line of the flood VM's vmd names '{limit}'")
        calm_errors = [ln for ln in log_text.splitlines()
                       if f"tessera-vmd[{fairness.CALM_VM}]" in ln and "[ERROR]" in ln]
        t.check(not calm_errors, f"the calm VM's vmd logged errors: {calm_errors[:5]}")
        calm_stats = tessera_proc.vmd_stats(vms.tessera, vmds[fairness.CALM_VM])
        t.check(calm_stats["errors"] == "0",
                f"the calm VM's vmd refused commands: {calm_stats}")
        # every ERROR event the agent reads is logged as "host fatal error"
        # or "host notice"
        agent_errors = [ln for ln in vms.log().splitlines()
                        if "[ERROR]" in ln or "host fatal error" in ln or "host notice" in ln]
        t.check(not agent_errors, f"the calm VM's agent logged errors: {agent_errors[:5]}")

        # The flood VM leaves: tessera gives back what it held for it.
        vms.flooder.quit()
        t.wait_for(lambda: fairness.memory(tessera_pid)[1] <= no_flood_vm, 10,
                   f"tessera's fds back to {no_flood_vm} once the flood VM left")
        rss_after = fairness.memory(tessera_pid)[0]
        t.check(rss_after <= rss_before + RSS_BOUND_KIB + ASAN_QUARANTINE_MB * 1024,
                f"tessera's RSS {rss_after} KiB after the flood VM left "
                f"({rss_before} before)")
        t.check(vms.vmd_pids() == vmds, f"a daemon was restarted: {vmds} -> "
                f"{vms.vmd_pids()}")
        bad = [ln for ln in vms.tessera.log().splitlines()
               if "runtime error" in ln or "Sanitizer" in ln or "exited with status" in ln
               or "killed by signal" in ln]
        t.check(not bad, f"tessera's log: {bad[:5]}")
        vms.stop()
    finally:
        vms.cleanup()


if __name__ == "__main__":
    t.main(test)
