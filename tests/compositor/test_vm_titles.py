#!/usr/bin/env python3
"""The titles a VM gives its windows, as the host shows them (the
foreign-toplevel list that taskbars read; the title bar draws the same
string): always "[NAME] " first, then the client's title made valid UTF-8
(each invalid byte becomes U+FFFD), with control characters (C0, DEL, C1)
and line/paragraph separators as spaces, every bidirectional control
(embeddings, overrides, isolates, LRM/RLM/ALM marks) as U+FFFD, and at
most 256 bytes, cut between characters.

The fake VM daemons run tessera-simple-shm with the raw bytes as --title
(through the environment, so any byte but NUL)."""

import os
import subprocess

import compositor_test
import tessera_test as t

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
CAP = 256

# VM name -> (raw title bytes, the title the host must show after "[name] ")
CASES = {
    "utf": (b"ok\xff\xfe!\xc3", "ok\ufffd\ufffd!\ufffd"),
    "ctrl": (b"a\x01b\x1bc\x7fd\xc2\x85e\xc2\x9bf\xe2\x80\xa8g\xe2\x80\xa9h",
             "a b c d e f g h"),
    "bidi": ("".join(f"{chr(65 + i)}{c}" for i, c in enumerate(BIDI)).encode() + b"Z",
             "".join(f"{chr(65 + i)}\ufffd" for i in range(len(BIDI))) + "Z"),
    # An override right after the label, then text that would run into it.
    "spoof": ("\u202e[host] \u2066x".encode(), "\ufffd[host] \ufffdx"),
    "long": (b"x" * 300, "x" * CAP),
    "exact": (b"y" * CAP, "y" * CAP),
    # two-byte characters: 128 of them fill the 256 bytes exactly
    "accent": (("\u00e9" * 200).encode(), "\u00e9" * 128),
    # three-byte characters: 85 fit (255 bytes), the 86th would not
    "euro": (("\u20ac" * 100).encode(), "\u20ac" * 85),
    # the cap applies to the cleaned title: 200 invalid bytes are 200
    # replacement characters, of which 85 fit
    "junk": (b"\xff" * 200, "\ufffd" * 85),
}


def toplevel_titles(tessera):
    """The titles the compositor announces, as raw bytes decoded strictly
    (the compositor must send valid UTF-8)."""
    res = subprocess.run([t.program("TESSERA_TEST_TOPLEVELS")], env=tessera.client_env,
                         capture_output=True, timeout=20)
    t.check(res.returncode == 0, f"tessera-test-toplevels exited {res.returncode}: "
            f"{res.stderr.decode(errors='replace')}")
    titles = []
    for line in res.stdout.split(b"\n"):
        if not line:
            continue
        try:
            titles.append(line.split(b"\t")[0].decode("utf-8"))
        except UnicodeDecodeError:
            t.fail(f"a title is not valid UTF-8: {line!r}")
    return titles


def test():
    t.program("TESSERA_TEST_TOPLEVELS")
    config = compositor_test.fake_vm_config({name: "cc3333" for name in CASES})
    # bytes in the environment: os.fsencode() turns the escapes back
    env = {f"FAKE_VMD_TITLE_{name}": os.fsdecode(raw) for name, (raw, _) in CASES.items()}
    tessera = t.Tessera(size=(1280, 800), config=config, env=env)
    try:
        for name in CASES:
            t.ClientLog(f"{tessera.tmp}/{name}.log").wait("mapped")
        titles = t.wait_for(lambda: (lambda ts: ts if len(ts) == len(CASES) else None)(
            toplevel_titles(tessera)), 10, "every VM window in the toplevel list")
        for name, (raw, shown) in CASES.items():
            expected = f"[{name}] {shown}"
            mine = [x for x in titles if x.startswith(f"[{name}] ")]
            t.check(mine == [expected], f"vm {name}: title {raw!r} shown as {mine!r}, "
                    f"expected {expected!r}")
            t.check(len(shown.encode()) <= CAP, f"the expectation of {name} is too long")
        # Nothing dangerous anywhere in any title.
        for title in titles:
            bad = [c for c in title if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0
                   or c in BIDI or c in "\u2028\u2029"]
            t.check(not bad, f"title {title!r} holds {bad!r}")
        tessera.stop()
    finally:
        tessera.cleanup()


if __name__ == "__main__":
    t.main(test)
