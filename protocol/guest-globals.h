/*
 * What guests see: the one list of the Wayland globals on either side of
 * the VM boundary. Every program that decides what a VM may use reads it:
 *
 *   - tessera (server/compositor/vm.c) shows a VM's connection only the
 *     rows marked TESSERA_GLOBAL_VM, and hides the TESSERA_GLOBAL_VM_ONLY
 *     rows from host clients;
 *   - tessera-vmd (server/vmd/wayland.c) binds nothing outside the VM rows;
 *   - tessera-agent (guest-agent/main.c) offers guest applications exactly
 *     the TESSERA_GLOBAL_GUEST rows and hides whatever else wlroots creates;
 *   - the tests get the list from tests/tools/guest-globals.c and check
 *     both sides against it (tests/compositor/test_vm_label.py,
 *     tests/agent/test_protocols.py).
 *
 * A protocol missing here is invisible to guests whatever the code does.
 * Adding one: a row here, the bind in server/vmd/wayland.c, the global in
 * the agent, and the wire messages that carry its state (CONTRIBUTING.md).
 *
 *   X(interface name, who sees it)
 */
#ifndef TESSERA_PROTOCOL_GUEST_GLOBALS_H
#define TESSERA_PROTOCOL_GUEST_GLOBALS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum tessera_guest_global_side {
	/* A VM's connection to tessera (its tessera-vmd) may bind it. */
	TESSERA_GLOBAL_VM = 1 << 0,
	/* Only VM connections see it: host clients have no use for it. */
	TESSERA_GLOBAL_VM_ONLY = 1 << 1,
	/* tessera-agent offers it to the applications inside the guest. */
	TESSERA_GLOBAL_GUEST = 1 << 2,
	/* tessera-agent offers it only where the guest has a render node
	 * (GL clients on virgl). */
	TESSERA_GLOBAL_GUEST_GPU = 1 << 3,
};

#define TESSERA_GUEST_GLOBALS(X) \
	X("wl_compositor", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("wl_subcompositor", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("wl_shm", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("wl_seat", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("wl_output", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("zxdg_output_manager_v1", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("xdg_wm_base", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("zxdg_decoration_manager_v1", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("wp_presentation", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("wp_viewporter", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	X("zwp_linux_dmabuf_v1", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_GUEST) \
	/* the guest's own clipboard; nothing crosses the VM boundary */ \
	X("wl_data_device_manager", TESSERA_GLOBAL_GUEST) \
	/* captures only the agent's share outputs: windows of other VMs the \
	 * host's user shared into this one (guest-agent/share.c) */ \
	X("zwlr_screencopy_manager_v1", TESSERA_GLOBAL_GUEST) \
	/* the same clipboard for the guest's own tools (wl-copy, wl-paste, \
	 * clipboard managers), which have no window to hold the focus */ \
	X("zwlr_data_control_manager_v1", TESSERA_GLOBAL_GUEST) \
	/* Mesa's EGL finds the render node and hands over virgl's buffers */ \
	X("wl_drm", TESSERA_GLOBAL_GUEST_GPU) \
	/* zero-copy buffers in guest RAM, used by tessera-vmd only */ \
	X("tessera_guest_memory_v1", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_VM_ONLY) \
	/* the daemon's counters, for tesseractl vm list */ \
	X("tessera_vmd_v1", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_VM_ONLY) \
	/* windows of other VMs shared into this one (server/compositor/share.c) */ \
	X("tessera_vmd_share_v1", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_VM_ONLY) \
	/* the user's clipboard transfers, on the user's word only */ \
	X("tessera_vmd_clipboard_v1", TESSERA_GLOBAL_VM | TESSERA_GLOBAL_VM_ONLY)

struct tessera_guest_global {
	const char *interface;
	unsigned int sides; /* enum tessera_guest_global_side bits */
};

#define TESSERA_GUEST_GLOBAL_ROW(name, sides) { name, sides },
static const struct tessera_guest_global tessera_guest_globals[] = {
	TESSERA_GUEST_GLOBALS(TESSERA_GUEST_GLOBAL_ROW)
};
#undef TESSERA_GUEST_GLOBAL_ROW

/* The sides of interface, 0 when it is not in the list. */
static inline unsigned int tessera_guest_global_sides(const char *interface) {
	size_t n = sizeof(tessera_guest_globals) / sizeof(tessera_guest_globals[0]);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(tessera_guest_globals[i].interface, interface) == 0) {
			return tessera_guest_globals[i].sides;
		}
	}
	return 0;
}

/* Whether interface is marked with every bit of side. */
static inline bool tessera_guest_global_is(const char *interface, unsigned int side) {
	return (tessera_guest_global_sides(interface) & side) == side;
}

#endif
