#ifndef TESSERA_QEMU_H
#define TESSERA_QEMU_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * The VMM tessera starts for a VM with an image or a kernel: the checks at
 * start, QEMU's command line, its log file, its QMP socket. Spawning and
 * supervision are vm.c's.
 */

/* QEMU without KVM accepts a vhost-user device from this version on. */
#define TESSERA_QEMU_TCG_MIN_MAJOR 8
/* Room for $XDG_RUNTIME_DIR/tessera/NAME-qmp.sock. */
#define TESSERA_QEMU_PATH_MAX 4096

/*
 * For every VM with a VMM: finds the QEMU binary (the qemu key, else
 * qemu-system-x86_64 in PATH), runs `QEMU --version` once per binary,
 * chooses the accelerator (auto: KVM when /dev/kvm opens and can create a
 * VM, else TCG; logged with the reason), refuses a QEMU older than
 * TESSERA_QEMU_TCG_MIN_MAJOR under TCG, and checks that the image, kernel
 * and initrd are readable files. Fills the resolved fields of each VM's
 * qemu config. On a problem returns false with "FILE:LINE: problem" in err.
 */
bool tessera_qemu_check_config(struct tessera_config *config, char *err,
	size_t err_size);

/* $XDG_RUNTIME_DIR/tessera (created, mode 0700) + "/NAME" + suffix; false
 * (logged) if it cannot be made or does not fit size. */
bool tessera_qemu_runtime_path(const char *name, const char *suffix,
	char *out, size_t size);

/* QEMU's argv for vm, with its QMP socket at qmp_path; g_strfreev() it. */
char **tessera_qemu_argv(const struct tessera_vm_config *vm, const char *qmp_path);

/*
 * Opens the VM's QEMU log ($XDG_RUNTIME_DIR/tessera/NAME-qemu.log), emptied
 * when truncate, and writes a header line with argv. Returns the fd
 * (O_CLOEXEC) or -1 (logged).
 */
int tessera_qemu_open_log(const struct tessera_vm_config *vm, bool truncate,
	char *const argv[]);

/* Whether some process listens on the UNIX socket path (/proc/net/unix);
 * nothing connects to it. */
bool tessera_qemu_socket_listening(const char *path);

/*
 * Asks QEMU for an ACPI shutdown over its QMP socket (qmp_capabilities,
 * system_powerdown), waiting at most about a second for its answers. False
 * (logged) if QEMU could not be asked.
 */
bool tessera_qemu_powerdown(const char *vm_name, const char *qmp_path);

#endif
