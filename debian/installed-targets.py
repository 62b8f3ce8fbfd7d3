#!/usr/bin/env python3
"""Prints the outputs of the targets meson installs, relative to the build
directory given as argument, from `meson introspect --targets` on standard
input: debian/rules builds only these (the test suite's programs are no
part of the packages)."""

import json
import os
import sys

builddir = os.path.abspath(sys.argv[1])
outputs = []
for target in json.load(sys.stdin):
    if target.get("installed"):
        outputs += [os.path.relpath(f, builddir) for f in target["filename"]]
if not outputs:
    sys.exit("installed-targets.py: meson reports no installed target")
print(" ".join(outputs))
