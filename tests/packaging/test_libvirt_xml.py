#!/usr/bin/env python3
"""Usage: test_libvirt_xml.py SOURCE_ROOT

doc/libvirt/tessera-vm.xml, the libvirt domain of a tessera VM:

- virt-xml-validate (libvirt's own schema) accepts it as a domain, and
  rejects copies broken where it matters (a memory backing libvirt does
  not know, a device element that does not exist), so the validator really
  reads the file;
- its guest RAM is a shared memfd, it gives QEMU a vhost-user-gpu-pci on a
  socket chardev, and that socket is the vhost-user path of the tessera.ini
  section docs/libvirt.md shows.
"""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import tessera_test as t

QEMU_NS = "{http://libvirt.org/schemas/domain/qemu/1.0}"


def validate(validator, path):
    res = subprocess.run([validator, path, "domain"], capture_output=True, text=True,
                         timeout=30)
    return res.returncode, res.stdout + res.stderr


def test():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    root = sys.argv[1]
    validator = t.host_program("virt-xml-validate")
    domain = os.path.join(root, "doc", "libvirt", "tessera-vm.xml")
    doc = os.path.join(root, "docs", "libvirt.md")

    rc, out = validate(validator, domain)
    t.check(rc == 0, f"virt-xml-validate rejects {domain}: {out}")
    print(out.strip())

    with open(domain) as f:
        text = f.read()
    with tempfile.TemporaryDirectory() as tmp:
        for what, old, new in (
                ("an unknown memory source", "<source type='memfd'/>",
                 "<source type='tessera'/>"),
                ("an unknown device", "<video>", "<tessera-gpu/><video>")):
            t.check(old in text, f"{domain} has no {old}")
            broken = os.path.join(tmp, "broken.xml")
            with open(broken, "w") as f:
                f.write(text.replace(old, new, 1))
            rc, out = validate(validator, broken)
            t.check(rc != 0, f"virt-xml-validate accepts a copy with {what}: {out}")

    xml = ET.parse(domain).getroot()
    t.check(xml.tag == "domain", f"root element {xml.tag}")
    backing = xml.find("memoryBacking")
    t.check(backing is not None, "no <memoryBacking>")
    t.check(backing.find("source").get("type") == "memfd", "guest RAM is not a memfd")
    t.check(backing.find("access").get("mode") == "shared", "guest RAM is not shared")
    args = [a.get("value") for a in xml.iter(QEMU_NS + "arg")]
    chardevs = {}
    for opt, value in zip(args, args[1:]):
        if opt == "-chardev":
            fields = dict(kv.split("=", 1) for kv in value.split(",")[1:])
            t.check(value.split(",")[0] == "socket", f"chardev {value} is not a socket")
            chardevs[fields["id"]] = fields["path"]
    devices = [value for opt, value in zip(args, args[1:]) if opt == "-device"]
    gpus = [d for d in devices if d.split(",")[0] == "vhost-user-gpu-pci"]
    t.check(len(gpus) == 1, f"not one vhost-user-gpu-pci: {devices}")
    chardev = dict(kv.split("=", 1) for kv in gpus[0].split(",")[1:]).get("chardev")
    t.check(chardev in chardevs, f"the GPU's chardev {chardev} is not defined: {args}")

    with open(doc) as f:
        guide = f.read()
    m = re.search(r"^\[vm (\S+)\]\n(?:.*\n)*?vhost-user = (\S+)$", guide, re.M)
    t.check(m is not None, f"{doc} shows no [vm NAME] section with vhost-user")
    t.check(m.group(2) == chardevs[chardev],
            f"the domain's socket {chardevs[chardev]} is not {m.group(2)} of {doc}")
    t.check(xml.find("name").text == m.group(1),
            f"the domain is named {xml.find('name').text}, the VM {m.group(1)}")


if __name__ == "__main__":
    t.main(test)
