/*
 * The VMM of a VM that has an image or a kernel: checks at start (the QEMU
 * binary, its version, the accelerator, the files), QEMU's command line
 * (guest RAM in a shared memfd, vhost-user-gpu-pci on the daemon's socket,
 * no display of its own, a QMP socket), its log file, and the ACPI shutdown
 * over QMP. vm.c spawns and supervises the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "qemu.h"

#define DEFAULT_QEMU "qemu-system-x86_64"
#define QMP_TIMEOUT_MS 1000

static void report(char *err, size_t err_size, const struct tessera_config *config,
		int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(char *err, size_t err_size, const struct tessera_config *config,
		int line, const char *fmt, ...) {
	int n = snprintf(err, err_size, "%s:%d: ", config->path, line);
	if (n < 0 || (size_t)n >= err_size) {
		return;
	}
	va_list args;
	va_start(args, fmt);
	vsnprintf(err + n, err_size - (size_t)n, fmt, args);
	va_end(args);
}

/* The line of key in vm, else that of its section. */
static int key_line(const struct tessera_vm_config *vm, enum tessera_qemu_key key) {
	return vm->qemu.line[key] > 0 ? vm->qemu.line[key] : vm->line;
}

/*
 * Whether KVM can run a VM here: /dev/kvm opens, speaks the stable API and
 * creates a VM. why says which step failed.
 */
static bool kvm_usable(char *why, size_t size) {
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, size, "cannot open /dev/kvm: %s", strerror(errno));
		return false;
	}
	int version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(why, size, "/dev/kvm has API version %d, not %d", version,
			KVM_API_VERSION);
		close(fd);
		return false;
	}
	int vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		snprintf(why, size, "/dev/kvm cannot create a VM: %s", strerror(errno));
		close(fd);
		return false;
	}
	close(vm);
	close(fd);
	snprintf(why, size, "/dev/kvm opens and creates a VM");
	return true;
}

/* One `QEMU --version` per binary. */
struct qemu_version {
	char *path;
	int major, minor, micro; /* major -1: unknown */
	char text[64];
};

static bool run_version(const char *path, struct qemu_version *v, char *why,
		size_t size) {
	char *argv[] = { (char *)path, "--version", NULL };
	char *out = NULL;
	int status = 0;
	GError *error = NULL;
	v->major = -1;
	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
			&out, NULL, &status, &error)) {
		snprintf(why, size, "cannot run '%s --version': %s", path, error->message);
		g_error_free(error);
		return false;
	}
	const char *at = out != NULL ? strstr(out, "version ") : NULL;
	if (at == NULL || sscanf(at, "version %d.%d.%d", &v->major, &v->minor,
			&v->micro) < 2) {
		snprintf(why, size, "cannot read the version of '%s' from its "
			"--version output", path);
		v->major = -1;
		g_free(out);
		return false;
	}
	snprintf(v->text, sizeof(v->text), "%d.%d.%d", v->major, v->minor,
		v->micro < 0 ? 0 : v->micro);
	g_free(out);
	return true;
}

/* A readable regular file (or block device, for an image). */
static bool check_file(const char *path, bool block_ok, char *why, size_t size) {
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, size, "%s", strerror(errno));
		return false;
	}
	struct stat st;
	bool ok = fstat(fd, &st) == 0 &&
		(S_ISREG(st.st_mode) || (block_ok && S_ISBLK(st.st_mode)));
	if (!ok) {
		snprintf(why, size, "not a regular file");
	} else {
		char byte;
		if (read(fd, &byte, 1) < 0) {
			snprintf(why, size, "%s", strerror(errno));
			ok = false;
		}
	}
	close(fd);
	return ok;
}

static bool check_vm(struct tessera_config *config, struct tessera_vm_config *vm,
		GPtrArray *versions, bool *kvm_probed, bool *kvm_ok, char *kvm_why,
		size_t kvm_why_size, char *err, size_t err_size) {
	struct tessera_vm_qemu_config *q = &vm->qemu;
	char why[512];
	const struct { const char *path; enum tessera_qemu_key key; bool block; } files[] = {
		{ q->image, TESSERA_QEMU_KEY_IMAGE, true },
		{ q->kernel, TESSERA_QEMU_KEY_KERNEL, false },
		{ q->initrd, TESSERA_QEMU_KEY_INITRD, false },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].path != NULL && !check_file(files[i].path, files[i].block,
				why, sizeof(why))) {
			report(err, err_size, config, key_line(vm, files[i].key),
				"cannot read %s '%s' of vm '%s': %s", i == 0 ? "image" :
				i == 1 ? "kernel" : "initrd", files[i].path, vm->name, why);
			return false;
		}
	}

	const char *wanted = q->qemu != NULL ? q->qemu : DEFAULT_QEMU;
	char *path = strchr(wanted, '/') != NULL ?
		(access(wanted, X_OK) == 0 ? g_strdup(wanted) : NULL) :
		g_find_program_in_path(wanted);
	if (path == NULL) {
		if (strchr(wanted, '/') != NULL) {
			report(err, err_size, config, key_line(vm, TESSERA_QEMU_KEY_QEMU),
				"cannot find QEMU for vm '%s': '%s': %s", vm->name, wanted,
				strerror(errno));
		} else {
			report(err, err_size, config, key_line(vm, TESSERA_QEMU_KEY_QEMU),
				"cannot find QEMU for vm '%s': no '%s' in PATH (install QEMU "
				"or set qemu = PATH)", vm->name, wanted);
		}
		return false;
	}
	q->qemu_path = strdup(path);
	g_free(path);
	if (q->qemu_path == NULL) {
		report(err, err_size, config, vm->line, "out of memory");
		return false;
	}

	struct qemu_version *version = NULL;
	for (guint i = 0; i < versions->len; i++) {
		struct qemu_version *v = g_ptr_array_index(versions, i);
		if (strcmp(v->path, q->qemu_path) == 0) {
			version = v;
		}
	}
	if (version == NULL) {
		version = g_new0(struct qemu_version, 1);
		version->path = g_strdup(q->qemu_path);
		g_ptr_array_add(versions, version);
		if (!run_version(q->qemu_path, version, why, sizeof(why))) {
			report(err, err_size, config, key_line(vm, TESSERA_QEMU_KEY_QEMU),
				"QEMU for vm '%s' does not work: %s", vm->name, why);
			return false;
		}
		tessera_log(TESSERA_INFO, "%s is QEMU %s", q->qemu_path, version->text);
	} else if (version->major < 0) {
		report(err, err_size, config, key_line(vm, TESSERA_QEMU_KEY_QEMU),
			"QEMU for vm '%s' does not work (see above)", vm->name);
		return false;
	}

	if (q->accel != TESSERA_VM_ACCEL_TCG && !*kvm_probed) {
		*kvm_ok = kvm_usable(kvm_why, kvm_why_size);
		*kvm_probed = true;
	}
	switch (q->accel) {
	case TESSERA_VM_ACCEL_KVM:
		if (!*kvm_ok) {
			report(err, err_size, config, key_line(vm, TESSERA_QEMU_KEY_ACCEL),
				"accel = kvm for vm '%s', but KVM is not usable: %s",
				vm->name, kvm_why);
			return false;
		}
		q->kvm = true;
		tessera_log(TESSERA_INFO, "vm '%s': KVM (accel = kvm; %s)", vm->name, kvm_why);
		break;
	case TESSERA_VM_ACCEL_AUTO:
		q->kvm = *kvm_ok;
		tessera_log(TESSERA_INFO, "vm '%s': %s (accel = auto; %s)", vm->name,
			q->kvm ? "KVM" : "TCG, no KVM", kvm_why);
		break;
	case TESSERA_VM_ACCEL_TCG:
		q->kvm = false;
		tessera_log(TESSERA_INFO, "vm '%s': TCG (accel = tcg)", vm->name);
		break;
	}
	if (!q->kvm && version->major < TESSERA_QEMU_TCG_MIN_MAJOR) {
		report(err, err_size, config, key_line(vm, q->accel == TESSERA_VM_ACCEL_TCG ?
				TESSERA_QEMU_KEY_ACCEL : TESSERA_QEMU_KEY_QEMU),
			"QEMU %s at %s is too old for vm '%s': without KVM, vhost-user "
			"needs QEMU %d.0 or newer (found %s, need >= %d.0; KVM: %s)",
			version->text, q->qemu_path, vm->name, TESSERA_QEMU_TCG_MIN_MAJOR,
			version->text, TESSERA_QEMU_TCG_MIN_MAJOR,
			q->accel == TESSERA_VM_ACCEL_TCG ? "not used, accel = tcg" : kvm_why);
		return false;
	}

	char qmp[TESSERA_QEMU_PATH_MAX];
	if (snprintf(qmp, sizeof(qmp), "%s/tessera/%s-qmp.sock",
			getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "",
			vm->name) >= (int)sizeof(((struct sockaddr_un *)0)->sun_path)) {
		report(err, err_size, config, vm->line, "the QMP socket of vm '%s' (%s) "
			"does not fit a UNIX socket address: use a shorter XDG_RUNTIME_DIR",
			vm->name, qmp);
		return false;
	}
	return true;
}

static void version_free(gpointer data) {
	struct qemu_version *v = data;
	g_free(v->path);
	g_free(v);
}

bool tessera_qemu_check_config(struct tessera_config *config, char *err,
		size_t err_size) {
	GPtrArray *versions = g_ptr_array_new_with_free_func(version_free);
	bool kvm_probed = false, kvm_ok = false;
	char kvm_why[256] = "";
	bool ok = true;
	for (size_t i = 0; i < config->vm_count && ok; i++) {
		if (tessera_vm_config_has_qemu(&config->vms[i])) {
			ok = check_vm(config, &config->vms[i], versions, &kvm_probed,
				&kvm_ok, kvm_why, sizeof(kvm_why), err, err_size);
		}
	}
	g_ptr_array_free(versions, TRUE);
	return ok;
}

bool tessera_qemu_runtime_path(const char *name, const char *suffix, char *out,
		size_t size) {
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (runtime == NULL || runtime[0] == '\0') {
		tessera_log(TESSERA_ERROR, "cannot place the files of vm '%s': "
			"XDG_RUNTIME_DIR is not set", name);
		return false;
	}
	int n = snprintf(out, size, "%s/tessera", runtime);
	if (n < 0 || (size_t)n >= size) {
		return false;
	}
	if (mkdir(out, 0700) != 0 && errno != EEXIST) {
		tessera_log_errno(TESSERA_ERROR, "cannot create %s", out);
		return false;
	}
	n = snprintf(out, size, "%s/tessera/%s%s", runtime, name, suffix);
	return n > 0 && (size_t)n < size;
}

/* "qcow2" when the image starts with QCOW's magic, else "raw". */
static const char *image_format(const char *path) {
	unsigned char magic[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		if (read(fd, magic, sizeof(magic)) != (ssize_t)sizeof(magic)) {
			memset(magic, 0, sizeof(magic));
		}
		close(fd);
	}
	return memcmp(magic, "QFI\xfb", 4) == 0 ? "qcow2" : "raw";
}

/* QEMU's -drive and -chardev take "," as a separator; a literal one is
 * written ",,". */
static char *escape_commas(const char *s) {
	GString *out = g_string_new(NULL);
	for (; *s != '\0'; s++) {
		g_string_append_c(out, *s);
		if (*s == ',') {
			g_string_append_c(out, ',');
		}
	}
	return g_string_free(out, FALSE);
}

char **tessera_qemu_argv(const struct tessera_vm_config *vm, const char *qmp_path) {
	const struct tessera_vm_qemu_config *q = &vm->qemu;
	GPtrArray *argv = g_ptr_array_new();
	uint64_t mib = q->memory >> 20;
	char *vhost = escape_commas(vm->vhost_user_path);
	char *qmp = escape_commas(qmp_path);
#define ADD(s) g_ptr_array_add(argv, g_strdup(s))
#define ADDF(...) g_ptr_array_add(argv, g_strdup_printf(__VA_ARGS__))
	ADD(q->qemu_path);
	ADD("-name");
	ADDF("guest=%s", vm->name);
	ADD("-nodefaults");
	ADD("-no-user-config");
	ADD("-accel");
	ADD(q->kvm ? "kvm" : "tcg");
	ADD("-machine");
	ADD("pc,memory-backend=mem");
	ADD("-m");
	ADDF("%" PRIu64 "M", mib);
	ADD("-object");
	ADDF("memory-backend-memfd,id=mem,size=%" PRIu64 "M,share=on", mib);
	ADD("-smp");
	ADDF("%u", q->cpus);
	ADD("-display");
	ADD("none");
	ADD("-serial");
	ADD("stdio");
	ADD("-chardev");
	ADDF("socket,id=gpu,path=%s", vhost);
	ADD("-device");
	ADD("vhost-user-gpu-pci,chardev=gpu");
	ADD("-qmp");
	ADDF("unix:%s,server=on,wait=off", qmp);
	if (q->image != NULL) {
		char *image = escape_commas(q->image);
		ADD("-drive");
		ADDF("file=%s,format=%s,if=virtio", image, image_format(q->image));
		g_free(image);
	} else {
		ADD("-kernel");
		ADD(q->kernel);
		if (q->initrd != NULL) {
			ADD("-initrd");
			ADD(q->initrd);
		}
		if (q->append != NULL) {
			ADD("-append");
			ADD(q->append);
		}
	}
	for (char **arg = q->args; arg != NULL && *arg != NULL; arg++) {
		ADD(*arg);
	}
#undef ADD
#undef ADDF
	g_ptr_array_add(argv, NULL);
	g_free(vhost);
	g_free(qmp);
	return (char **)g_ptr_array_free(argv, FALSE);
}

int tessera_qemu_open_log(const struct tessera_vm_config *vm, bool truncate,
		char *const argv[]) {
	char path[TESSERA_QEMU_PATH_MAX];
	if (!tessera_qemu_runtime_path(vm->name, "-qemu.log", path, sizeof(path))) {
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
		(truncate ? O_TRUNC : 0), 0600);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "vm '%s': cannot open %s", vm->name, path);
		return -1;
	}
	char *quoted = NULL;
	GString *line = g_string_new("# tessera starts:");
	for (char *const *arg = argv; *arg != NULL; arg++) {
		quoted = g_shell_quote(*arg);
		g_string_append_printf(line, " %s", quoted);
		g_free(quoted);
	}
	g_string_append_c(line, '\n');
	if (write(fd, line->str, line->len) < 0) {
		tessera_log_errno(TESSERA_ERROR, "vm '%s': cannot write %s", vm->name, path);
	}
	g_string_free(line, TRUE);
	tessera_log(TESSERA_INFO, "vm '%s': QEMU's output goes to %s", vm->name, path);
	return fd;
}

bool tessera_qemu_socket_listening(const char *path) {
	FILE *f = fopen("/proc/net/unix", "re");
	if (f == NULL) {
		return false;
	}
	/* Num RefCount Protocol Flags Type St Inode Path; Flags has
	 * __SO_ACCEPTCON (1 << 16) for a listening socket. */
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		unsigned long flags;
		char name[sizeof(line)];
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %511s", &flags, name) == 2 &&
				(flags & 0x10000) != 0 && strcmp(name, path) == 0) {
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Reads until a line with "return" or "error" came back count times, or
 * QMP_TIMEOUT_MS passed (SO_RCVTIMEO). */
static bool qmp_wait_replies(int fd, int count) {
	char buf[4096];
	size_t len = 0;
	int seen = 0;
	while (seen < count) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) {
			return false;
		}
		len += (size_t)n;
		buf[len] = '\0';
		char *nl;
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			if (strstr(buf, "\"return\"") != NULL) {
				seen++;
			} else if (strstr(buf, "\"error\"") != NULL) {
				return false;
			}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1) {
			len = 0; /* an over-long event: drop it */
		}
	}
	return true;
}

bool tessera_qemu_powerdown(const char *vm_name, const char *qmp_path) {
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(qmp_path) >= sizeof(addr.sun_path)) {
		return false;
	}
	strcpy(addr.sun_path, qmp_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "vm '%s': cannot create a QMP socket", vm_name);
		return false;
	}
	struct timeval tv = { .tv_sec = QMP_TIMEOUT_MS / 1000,
		.tv_usec = (QMP_TIMEOUT_MS % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	static const char request[] = "{\"execute\":\"qmp_capabilities\"}\n"
		"{\"execute\":\"system_powerdown\"}\n";
	bool ok = false;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		tessera_log_errno(TESSERA_ERROR, "vm '%s': cannot connect to QEMU's QMP "
			"socket %s", vm_name, qmp_path);
	} else if (write(fd, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1) {
		tessera_log_errno(TESSERA_ERROR, "vm '%s': cannot write to QEMU's QMP "
			"socket", vm_name);
	} else if (!qmp_wait_replies(fd, 2)) {
		tessera_log(TESSERA_ERROR, "vm '%s': QEMU did not confirm system_powerdown "
			"within %d ms", vm_name, QMP_TIMEOUT_MS);
	} else {
		ok = true;
		tessera_log(TESSERA_INFO, "vm '%s': asked QEMU for an ACPI shutdown "
			"(system_powerdown)", vm_name);
	}
	close(fd);
	return ok;
}
