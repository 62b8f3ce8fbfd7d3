#!/usr/bin/env python3
"""Usage: check-config-docs.py CONFIG-KEYS tessera.ini.5.scd tessera-vmd.1.scd
                            config.c EXAMPLE

Keeps the documentation of the configuration honest, against what the code
accepts (CONFIG-KEYS is tests/install/config-keys.c, which asks the config
loader and the per-VM settings table):

- the keys documented in tessera.ini(5) are exactly the keys the loader
  accepts: every key of the settings table and the loader's own keys (the
  candidates are the documented keys, the table's keys and the string
  literals of config.c; the loader decides which it knows);
- for every setting of the table, tessera.ini(5) gives its syntax, default
  and range, and tessera-vmd(1) its syntax, default and maximum, equal to
  the table's;
- the example of tessera.ini(5) and the example file load without error,
  and the example file shows every key.
"""

import re
import subprocess
import sys
import tempfile

import man_page

KEY_TERM = re.compile(r"\*([a-z][a-z0-9-]*)\* = _([^_]+)_")
PLACEHOLDER = {"N": "N", "BYTES": "BYTES", "WxH": "WxH", "PATH": "PATH"}
SHIFT = {"": 0, "K": 10, "M": 20, "G": 30}


def run(helper, *args):
    res = subprocess.run([helper, *args], capture_output=True, text=True, timeout=20)
    return res.returncode, res.stdout, res.stderr


def table(helper):
    rc, out, err = run(helper, "settings")
    if rc != 0:
        raise AssertionError(f"config-keys settings: exit {rc}: {err}")
    rows = {}
    for line in out.splitlines():
        key, syntax, default, minimum, maximum = line.split()
        rows[key] = (syntax, default, minimum, maximum)
    if not rows:
        raise AssertionError("config-keys settings printed no setting")
    return rows


def value(syntax, text):
    """A documented value in the helper's form ("4096", "320x200"), or None."""
    if "|" in syntax:
        return text if text in syntax.split("|") else None
    if syntax == "PATH":
        return None
    if syntax == "WxH":
        return text if re.fullmatch(r"[1-9][0-9]*x[1-9][0-9]*", text) else None
    m = re.fullmatch(r"([1-9][0-9]*)([KMG]?)", text)
    if m is None or (syntax == "N" and m.group(2)):
        return None
    return str(int(m.group(1)) << SHIFT[m.group(2)])


def after(label, text):
    """The word after "LABEL: " in text, without trailing punctuation."""
    m = re.search(re.escape(label) + r": (\S+)", text)
    return m.group(1).rstrip(".,;:") if m else None


def check_setting(failures, where, key, row, placeholder, desc, last_label):
    syntax, default, minimum, maximum = row
    if placeholder != PLACEHOLDER.get(syntax, syntax):
        failures.append(f"{where}: {key} takes _{placeholder}_, the table says {syntax}")
    documented = after("Default", desc)
    if documented is None:
        failures.append(f"{where}: {key} has no 'Default: '")
    elif default in ("0", "0x0"):
        if value(syntax, documented) is not None:
            failures.append(f"{where}: {key} documents default {documented}, "
                            "the table has none (the consumer decides)")
    elif value(syntax, documented) != default:
        failures.append(f"{where}: {key} default {documented}, the table says {default}")
    if "|" in syntax or syntax == "PATH":
        return  # no range: the words are the syntax, a path has none
    if last_label == "Range":
        m = re.search(r"Range: (\S+) to (\S+?)\.", desc)
        if m is None:
            failures.append(f"{where}: {key} has no 'Range: MIN to MAX.'")
        elif (value(syntax, m.group(1)), value(syntax, m.group(2))) != (minimum, maximum):
            failures.append(f"{where}: {key} range {m.group(1)} to {m.group(2)}, "
                            f"the table says {minimum} to {maximum}")
    else:
        documented = after("Maximum", desc)
        if documented is None or value(syntax, documented) != maximum:
            failures.append(f"{where}: {key} maximum {documented}, the table says {maximum}")


def example_block(text):
    lines = man_page.section(text, "EXAMPLE") or []
    block, inside = [], False
    for line in lines:
        if line.strip() == "```":
            if inside:
                return "\n".join(block) + "\n"
            inside = True
        elif inside:
            block.append(line)
    return None


def check_loads(failures, helper, path, what):
    rc, out, err = run(helper, "load", path)
    if rc != 0:
        failures.append(f"{what} does not load: {out.strip()} {err.strip()}")
        return []
    names = out.split()
    if not names:
        failures.append(f"{what} has no VM")
    return names


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    helper, ini_page, vmd_page, config_c, example = sys.argv[1:]
    failures = []
    settings = table(helper)

    # The keys of tessera.ini(5) against what the loader accepts.
    ini_text = man_page.read(ini_page)
    terms = []
    for name in ("KEYS", "PER-VM SETTINGS"):
        lines = man_page.section(ini_text, name)
        if lines is None:
            failures.append(f"{ini_page}: no {name} section")
            continue
        terms += man_page.definitions(lines, KEY_TERM)
    documented = [m.group(1) for m, _ in terms]
    repeated = sorted({k for k in documented if documented.count(k) > 1})
    if repeated:
        failures.append(f"{ini_page}: documents {', '.join(repeated)} more than once")
    literals = set(re.findall(r'"([a-z][a-z0-9-]*)"', man_page.read(config_c)))
    candidates = sorted(set(documented) | literals | set(settings))
    rc, out, err = run(helper, "probe", *candidates)
    if rc != 0:
        raise AssertionError(f"config-keys probe: exit {rc}: {err}")
    verdicts = dict(line.split() for line in out.splitlines())
    accepted = {k for k, v in verdicts.items() if v == "accepted"}
    if set(candidates) != set(verdicts):
        failures.append(f"config-keys probe answered for {sorted(verdicts)}")
    if not set(settings) <= accepted:
        failures.append("the loader does not accept the settings "
                        f"{' '.join(sorted(set(settings) - accepted))}")
    if accepted - set(documented):
        failures.append("keys the loader accepts but tessera.ini(5) does not document: "
                        + " ".join(sorted(accepted - set(documented))))
    if set(documented) - accepted:
        failures.append("keys tessera.ini(5) documents but the loader rejects: "
                        + " ".join(sorted(set(documented) - accepted)))

    # Syntax, default and range of every setting, in both pages.
    by_key = {m.group(1): (m.group(2), desc) for m, desc in terms}
    vmd_lines = man_page.section(man_page.read(vmd_page), "OPTIONS") or []
    vmd_terms = man_page.definitions(vmd_lines, re.compile(r"\*--([a-z][a-z0-9-]*)\* _([^_]+)_"))
    vmd_by_key = {m.group(1): (m.group(2), desc) for m, desc in vmd_terms}
    for key, row in settings.items():
        if key in by_key:
            check_setting(failures, "tessera.ini(5)", key, row, *by_key[key], "Range")
        if key not in vmd_by_key:
            failures.append(f"tessera-vmd(1): no --{key} in OPTIONS")
        else:
            check_setting(failures, "tessera-vmd(1)", key, row, *vmd_by_key[key], "Maximum")

    # The examples.
    block = example_block(ini_text)
    if block is None:
        failures.append(f"{ini_page}: no example block in EXAMPLE")
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
            f.write(block)
            f.flush()
            check_loads(failures, helper, f.name, "the example of tessera.ini(5)")
    check_loads(failures, helper, example, example)
    shown = set(re.findall(r"^[;#]?\s*([a-z][a-z0-9-]*)\s*=", man_page.read(example), re.M))
    if accepted - shown:
        failures.append(f"{example} does not show the keys {' '.join(sorted(accepted - shown))}")

    if failures:
        for f in failures:
            print(f"FAIL: {f}")
        return 1
    print(f"PASS: {len(accepted)} keys ({len(settings)} settings) documented as the code "
          "accepts them; the examples load")
    return 0


if __name__ == "__main__":
    sys.exit(main())
