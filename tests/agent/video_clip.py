"""The video tests' clip and mpv's figures (tests/agent/test_video.py,
tests/vm/test_gl_vm.py).

make_clip() generates the clip with ffmpeg at test time (testsrc2, H.264,
1080p, 30 frames/s): nothing is committed. mpv_command() plays it through
a Wayland compositor with mpv-figures.lua, which prints mpv's frame
counters when the file ends; figures() parses that line."""

import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
FIGURES_SCRIPT = os.path.join(HERE, "mpv-figures.lua")
WIDTH, HEIGHT, RATE = 1920, 1080, 30


def make_clip(ffmpeg, path, seconds):
    """An H.264 clip of seconds at 1080p, 30 frames/s; returns the time taken."""
    import time
    t0 = time.monotonic()
    subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={RATE}",
                    "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", path],
                   check=True, timeout=300)
    return time.monotonic() - t0


def mpv_command(mpv, clip, title, vo="wlshm"):
    """mpv playing clip once in a 640x360 window, no audio, no config."""
    return [mpv, "--no-config", f"--vo={vo}", "--hwdec=no", "--ao=null", "--no-audio",
            "--autofit=640x360", "--input-terminal=no", "--msg-level=all=warn",
            f"--title={title}", f"--script={FIGURES_SCRIPT}", clip]


def figures(text):
    """mpv's counters from its output (a dict), or None."""
    m = re.search(r"^mpv-figures: (.*)$", text, re.M)
    if m is None:
        return None
    words = m.group(1).split()
    return {k: (None if v == "none" else float(v)) for k, v in zip(words[::2], words[1::2])}


def summary(fig, commits=None):
    """One line for the test's output."""
    played = fig.get("estimated-frame-number") or 0
    dropped = (fig.get("frame-drop-count") or 0) + (fig.get("decoder-frame-drop-count") or 0)
    line = (f"{played:.0f} frames played of {fig.get('time-pos') or 0:.1f} s, "
            f"{dropped:.0f} dropped (vo {fig.get('frame-drop-count') or 0:.0f}, decoder "
            f"{fig.get('decoder-frame-drop-count') or 0:.0f}), delayed "
            f"{fig.get('vo-delayed-frame-count') or 0:.0f}, mistimed "
            f"{fig.get('mistimed-frame-count') or 0:.0f}")
    if commits is not None:
        line += f"; {commits} frames committed to the host"
    return line
