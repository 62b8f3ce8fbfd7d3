#!/usr/bin/env python3
"""Usage: check-man-options.py PROGRAM PAGE.scd

The options that PROGRAM --help lists (long and short) must be exactly the
options documented in the OPTIONS section of its manual page (doc/*.scd),
and the page must be the program's (its title is the program's name).
"""

import os
import re
import subprocess
import sys

import man_page

# An option line of --help: a few spaces, then options separated by ", "
# ("  -b, --backend NAME  ...", "      --socket NAME ...", "  --log FILE ...").
# Deeper indented lines continue a description.
HELP_OPTIONS = re.compile(r"^ {1,8}((?:--?[A-Za-z0-9][A-Za-z0-9-]*)(?:, +--?[A-Za-z0-9][A-Za-z0-9-]*)*)(?:\s|$)")


def help_options(program):
    env = {k: v for k, v in os.environ.items()
           if k not in ("WAYLAND_DISPLAY", "WAYLAND_SOCKET", "DISPLAY")}
    res = subprocess.run([program, "--help"], capture_output=True, text=True,
                         env=env, timeout=20)
    if res.returncode != 0:
        raise AssertionError(f"{program} --help exited {res.returncode}: {res.stderr}")
    names = []
    for line in res.stdout.splitlines():
        m = HELP_OPTIONS.match(line)
        if m:
            names += [name.strip() for name in m.group(1).split(",")]
    return names


def check_no_repeats(names, where):
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise AssertionError(f"{where} lists {', '.join(repeated)} more than once")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    program, page = sys.argv[1:]
    name = os.path.basename(program)
    text = man_page.read(page)
    title = text.splitlines()[0].split()[0] if text else ""
    failures = []
    if title != f"{name}(1)":
        failures.append(f"{page}: title {title!r}, expected '{name}(1)'")

    in_help = help_options(program)
    options = man_page.section(text, "OPTIONS")
    if options is None:
        failures.append(f"{page}: no OPTIONS section")
        options = []
    in_page = man_page.options(options)
    try:
        check_no_repeats(in_help, f"{name} --help")
        check_no_repeats(in_page, f"{page} OPTIONS")
    except AssertionError as e:
        failures.append(str(e))
    if not in_help:
        failures.append(f"{name} --help: no option found (has its format changed?)")

    for kind, prefix in (("long", "--"), ("short", "-")):
        def of_kind(names):
            return {n for n in names if n.startswith(prefix) and
                    (kind == "long" or not n.startswith("--"))}
        help_set, page_set = of_kind(in_help), of_kind(in_page)
        if help_set - page_set:
            failures.append(f"{kind} options in '{name} --help' but not in the OPTIONS "
                            f"of {os.path.basename(page)}: {' '.join(sorted(help_set - page_set))}")
        if page_set - help_set:
            failures.append(f"{kind} options in the OPTIONS of {os.path.basename(page)} "
                            f"but not in '{name} --help': {' '.join(sorted(page_set - help_set))}")

    if failures:
        for f in failures:
            print(f"FAIL: {f}")
        return 1
    print(f"PASS: {name}: {len(set(in_help))} options, the same in --help and "
          f"{os.path.basename(page)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
