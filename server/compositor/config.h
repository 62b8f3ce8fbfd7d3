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
 *
 * The file is untrusted input: every line, name and value is checked against
 * the limits below, and the first problem found is reported as
 * "FILE:LINE: problem" (or "FILE: problem" when no line applies).
 */

#define TESSERA_VM_NAME_MAX 32     /* [A-Za-z0-9_-], 1..32 chars */
#define TESSERA_CONFIG_MAX_VMS 64
#define TESSERA_CONFIG_PATH_MAX 107 /* fits sockaddr_un.sun_path with NUL */

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
};

struct tessera_config {
	char *path;                 /* file it came from */
	struct tessera_vm_config *vms;
	size_t vm_count;
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
