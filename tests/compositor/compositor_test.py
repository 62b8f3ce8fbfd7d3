"""What the compositor tests share beyond tests/lib: the config of VMs
whose daemon is tests/compositor/fake-vmd.sh."""

import tessera_test as t


def fake_vm_config(vms):
    """The [vm NAME] sections of a config for vms, a dict of VM name ->
    frame colour (RRGGBB), each run by fake-vmd.sh."""
    fake_vmd = t.program("TESSERA_FAKE_VMD")
    return "".join(f"[vm {name}]\ncolor = #{color}\nvhost-user = /nonexistent/{name}.sock\n"
                   f"vmd = {fake_vmd}\n\n" for name, color in vms.items())
