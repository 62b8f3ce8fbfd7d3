"""Reading the scdoc sources of the manual pages (doc/*.scd) for the tests
that compare them with the programs.

Conventions the pages follow (and these functions rely on):
- a section starts with "# NAME" at the start of a line, a subsection with
  "## Name"; a section runs to the next "# " heading outside a ``` block;
- a documented option or key is a definition: a line at column 0 that starts
  with its bold name ("*-b*, *--backend* _NAME_", "*color* = _#RRGGBB_"),
  followed by its description, indented with tabs.
"""

import re

SKIP = 77


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def section(text, name):
    """The lines of section "# NAME" (with its subsections), or None."""
    lines = text.splitlines()
    start = None
    literal = False  # inside a ``` block, where "# " is text
    for i, line in enumerate(lines):
        if line.strip() == "```":
            literal = not literal
        elif literal:
            continue
        elif start is None:
            if line.strip() == f"# {name}":
                start = i + 1
        elif line.startswith("# "):
            return lines[start:i]
    return lines[start:] if start is not None else None


def definitions(lines, term_pattern):
    """(term match, description text) for each definition whose term line
    matches term_pattern (a compiled regex matched at column 0); the
    description is its indented lines joined by single spaces."""
    result = []
    current = None
    for line in lines:
        m = term_pattern.match(line)
        if m:
            current = [m, []]
            result.append(current)
        elif current is not None and line.startswith("\t"):
            current[1].append(line.strip())
        else:
            current = None
    return [(m, " ".join(words)) for m, words in result]


OPTION_TERM = re.compile(r"\*-")
OPTION_NAME = re.compile(r"\*(--?[A-Za-z0-9][A-Za-z0-9-]*)\*")


def options(lines):
    """The options named by the definitions of these lines ("-b", "--backend"),
    in order, with repetitions."""
    names = []
    for m, _ in definitions(lines, OPTION_TERM):
        term = m.string
        names += OPTION_NAME.findall(term)
    return names
