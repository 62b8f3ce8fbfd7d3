#!/usr/bin/env python3
"""Video in the guest: mpv plays a 1080p, 30 frames/s H.264 clip of 30 s
(generated with ffmpeg's testsrc2 at test time) through tessera-agent over
the vhost-user loopback, into a 640x360 window (--vo=wlshm: mpv scales in
software into wl_shm buffers, which the agent copies to the host).

Checked: the window appears framed as "[guest] video"; its pixels change
while it plays; mpv plays the clip to its end (time position >= 29 s) and
exits 0; the agent forwarded frames meanwhile. Printed: mpv's frames
played and dropped (mpv-figures.lua), the frames the agent committed to
the host in that time, and the time ffmpeg took to make the clip."""

import os
import subprocess
import time

import agent_test as a
import tessera_test as t
import video_clip

SECONDS = 30


def test():
    mpv = t.host_program("mpv")
    ffmpeg = t.host_program("ffmpeg")
    loop = a.Loopback(size=(1024, 768))
    try:
        clip = os.path.join(loop.tessera.tmp, "clip.mp4")
        took = video_clip.make_clip(ffmpeg, clip, SECONDS)
        print(f"ffmpeg made the {SECONDS} s 1080p clip in {took:.1f} s")

        out_path = os.path.join(loop.tessera.tmp, "mpv.out")
        before = loop.agent_counters()
        with open(out_path, "w") as out:
            proc = loop.guest_client(video_clip.mpv_command(mpv, clip, "video"),
                                     stdout=out, stderr=subprocess.STDOUT)
        started = time.monotonic()
        t.wait_for(lambda: "[guest] video" in loop.titles() or proc.poll() is not None,
                   30, "mpv's window")
        t.check(proc.poll() is None, "mpv exited before its window showed")

        def playing():
            png = loop.tessera.screenshot()
            frame = png.bbox(a.VM_COLOR)
            if frame is None:
                return None
            fx, fy, fw, fh, _ = frame
            box = (fx + t.BORDER, fy + t.TITLE, fw - 2 * t.BORDER, fh - t.TITLE - t.BORDER)
            return (png, box) if png.region(*box)[0] >= 32 else None

        png, box = t.wait_for(playing, 30, "the video in mpv's window")
        t.check((box[2], box[3]) == (640, 360), f"mpv's window is {box[2]}x{box[3]}")
        points = [(x, y) for x in range(box[0], box[0] + box[2], 9)
                  for y in range(box[1], box[1] + box[3], 9)]
        first = png.pixels(points)
        time.sleep(1)
        t.check(loop.tessera.screenshot().pixels(points) != first,
                "mpv's window did not change in a second of playing")

        status = proc.wait(SECONDS + 60)
        elapsed = time.monotonic() - started
        after = loop.agent_counters()
        with open(out_path, errors="replace") as f:
            text = f.read()
        t.check(status == 0, f"mpv exited {status}:\n{text[-2000:]}")
        fig = video_clip.figures(text)
        t.check(fig is not None, f"no figures from mpv:\n{text[-2000:]}")
        t.check((fig.get("time-pos") or 0) >= SECONDS - 1,
                f"mpv did not play to the end: {fig}")
        commits = after["commits"] - before["commits"]
        t.check(commits > 0, "the agent forwarded no frame while mpv played")
        print(f"mpv through the agent (loopback, vo=wlshm), {elapsed:.1f} s: "
              + video_clip.summary(fig, commits))
        loop.wait_title("[guest] video", present=False)
        loop.stop()
    finally:
        loop.cleanup()


if __name__ == "__main__":
    t.main(test)
