#ifndef TESSERA_CONFIG_H
#define TESSERA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keymap.h"
#include "vm-settings.h"

/*
 * The compositor's configuration file: INI syntax, one section per VM.
 *
 *   # comment
 *   [vm work]
 *   color = #3465a4                  ; required, #RRGGBB
 *   vhost-user = /run/tessera/work.sock   ; required, unique among VMs
 *   vmd = /usr/libexec/my-vmd        ; optional, runs instead of tessera-vmd
 *   keyboard-layout = de             ; optional, also -variant, -model, -options
 *   image = /var/lib/vm/work.qcow2   ; optional: tessera starts QEMU (qemu.c)
 *
 * The file is untrusted input: every line, name and value is checked against
 * the limits below, and the first problem found is reported as
 * "FILE:LINE: problem" (or "FILE: problem" when no line applies).
 */

#define TESSERA_VM_NAME_MAX 32     /* [A-Za-z0-9_-], 1..32 chars */
#define TESSERA_CONFIG_MAX_VMS 64
#define TESSERA_CONFIG_PATH_MAX 107 /* fits sockaddr_un.sun_path with NUL */

/* The keys of a [vm NAME] section about the VMM tessera runs (qemu.c). */
#define TESSERA_QEMU_KEYS(X) \
	X(IMAGE, "image") \
	X(KERNEL, "kernel") \
	X(INITRD, "initrd") \
	X(APPEND, "append") \
	X(MEMORY, "memory") \
	X(CPUS, "cpus") \
	X(ACCEL, "accel") \
	X(QEMU, "qemu") \
	X(QEMU_ARGS, "qemu-args") \
	X(AUTOSTART, "autostart") \
	X(RESTART, "restart") \
	X(CONSOLE, "console") \
	X(SHUTDOWN_TIMEOUT, "shutdown-timeout")

#define TESSERA_QEMU_KEY_ENUM(id, key) TESSERA_QEMU_KEY_##id,
enum tessera_qemu_key {
	TESSERA_QEMU_KEYS(TESSERA_QEMU_KEY_ENUM)
	TESSERA_QEMU_KEY_COUNT,
};

#define TESSERA_QEMU_MEMORY_MIN (UINT64_C(128) << 20)
#define TESSERA_QEMU_MEMORY_MAX (UINT64_C(1) << 40)
#define TESSERA_QEMU_MEMORY_DEFAULT (UINT64_C(1) << 30)
#define TESSERA_QEMU_CPUS_MAX 64
#define TESSERA_QEMU_ARGS_MAX 128
#define TESSERA_QEMU_SHUTDOWN_TIMEOUT_DEFAULT 30 /* seconds */
#define TESSERA_QEMU_SHUTDOWN_TIMEOUT_MAX 600

enum tessera_vm_accel { TESSERA_VM_ACCEL_AUTO, TESSERA_VM_ACCEL_KVM, TESSERA_VM_ACCEL_TCG };
enum tessera_vm_restart { TESSERA_VM_RESTART_ON_FAILURE, TESSERA_VM_RESTART_NO };
enum tessera_vm_console { TESSERA_VM_CONSOLE_AUTO, TESSERA_VM_CONSOLE_SHOW,
	TESSERA_VM_CONSOLE_HIDE };

/*
 * The VMM tessera starts for a VM with an image or a kernel (qemu.c). The
 * strings are as written; "resolved" fields are filled at start by
 * tessera_qemu_check_config(), not by the loader.
 */
struct tessera_vm_qemu_config {
	int line[TESSERA_QEMU_KEY_COUNT]; /* where each key was set, 0 = not set */
	char *image, *kernel, *initrd, *append, *qemu;
	char **args; /* qemu-args split shell-like, NULL-terminated; or NULL */
	uint64_t memory; /* bytes, a multiple of 1M */
	unsigned int cpus;
	enum tessera_vm_accel accel;
	bool autostart;
	enum tessera_vm_restart restart;
	enum tessera_vm_console console;
	unsigned int shutdown_timeout; /* seconds */

	/* resolved at start */
	char *qemu_path; /* the binary, PATH searched */
	bool kvm; /* the accelerator chosen */
};

struct tessera_vm_config {
	char name[TESSERA_VM_NAME_MAX + 1];
	uint32_t color;             /* 0xRRGGBB */
	char vhost_user_path[TESSERA_CONFIG_PATH_MAX + 1];
	char *vmd_path;             /* optional program to run instead of tessera-vmd; NULL = default */
	int line;                   /* line of the [vm NAME] header */
	/* the keymap of the VM's windows (keymap.h), checked and compiled
	 * once at load; all empty = the host keymap */
	struct tessera_keymap_names keyboard;
	/* per-VM daemon settings (common/vm-settings.h), checked here and
	 * passed to tessera-vmd as --KEY VALUE as written; by enum
	 * tessera_vm_setting_id, "" = not set (the daemon's default) */
	char settings[TESSERA_VM_SETTING_ID_COUNT][TESSERA_VM_SETTING_VALUE_MAX + 1];
	struct tessera_vm_qemu_config qemu;
};

/* Whether tessera starts the VMM of this VM (it has an image or a kernel). */
bool tessera_vm_config_has_qemu(const struct tessera_vm_config *vm);

struct tessera_config {
	char *path;                 /* file it came from */
	struct tessera_vm_config *vms;
	size_t vm_count;
	/* clipboard-keep (before the first section): a paste leaves the
	 * global clipboard as it was */
	bool clipboard_keep;
};

/*
 * Loads the file at path into config (which is overwritten: finish a config
 * that was loaded before). On success returns true and config owns its
 * memory until tessera_config_finish(). On failure returns false, leaves
 * config zeroed and writes "FILE:LINE: problem" (or "FILE: problem" when no
 * line applies) into err, NUL-terminated and truncated to err_size (err may
 * be NULL when err_size is 0).
 */
bool tessera_config_load(struct tessera_config *config, const char *path,
	char *err, size_t err_size);
/* Frees what config owns and zeroes it. Accepts a zeroed or NULL config. */
void tessera_config_finish(struct tessera_config *config);
/* The VM called name, or NULL. */
const struct tessera_vm_config *tessera_config_find_vm(
	const struct tessera_config *config, const char *name);

#endif
