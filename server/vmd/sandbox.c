/*
 * The confinement of tessera-vmd: see sandbox.h.
 *
 * The allow-list is what the running daemon calls (read from the code,
 * traced with strace over the vmd, vmd-session and agent test tiers, and
 * checked with the filter logging instead of killing, under ASan too):
 * the wl_event_loop (epoll, the signalfd, the timerfd, eventfds), the VMM
 * (accepting the next connection, vhost-user messages with fds, the
 * guest's memory mapped), the compositor (libwayland: messages with fds,
 * which it duplicates), buffers (memfds), malloc, logging (write) and
 * ending (the socket's removal, exit). Everything the daemon needs once
 * (its sockets, libraries, /dev/udmabuf) it has before this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/udmabuf.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/*
 * A sanitizer's runtime makes system calls of its own: reports read
 * /proc/self/maps and the binaries for symbols, and LeakSanitizer's check
 * at exit stops the process with a ptrace-ing clone that lists
 * /proc/self/task. Builds with a sanitizer (tests only) allow those calls;
 * the daemon is installed without.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
	defined(VMD_SANDBOX_SANITIZER)
#define SANITIZER_RUNTIME 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define SANITIZER_RUNTIME 1
#endif
#endif

/* Allowed with any arguments. */
static const int any_arguments[] = {
	/* the event loop: epoll, the signalfd, the resume timer, eventfds
	 * (kick and call fds), the vhost-user kick poll; clock_gettime
	 * where the vDSO does not answer */
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(poll),
	SCMP_SYS(timerfd_settime),
	SCMP_SYS(clock_gettime),
	/* the VMM and the compositor: the next VMM connection on the
	 * listening socket, messages with fds */
	SCMP_SYS(accept4),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(close),
	/* guest memory (fstat of its fds), buffers and the console (memfds),
	 * malloc (realloc and free of large blocks too) */
	SCMP_SYS(newfstatat),
	SCMP_SYS(memfd_create),
	SCMP_SYS(ftruncate),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	SCMP_SYS(brk),
	/* a call interrupted by a stop (a debugger, SIGSTOP) goes on */
	SCMP_SYS(restart_syscall),
	/* ending: the socket's removal (Landlock narrows it), exit, abort()
	 * (with tgkill below) */
	SCMP_SYS(unlink),
	SCMP_SYS(exit_group),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
};

/* fcntl commands: O_NONBLOCK on the VMM's fds, libwayland's duplicates of
 * the fds it sends, the seals of guest memory and shm buffers. */
static const int fcntl_commands[] = {
	F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_GET_SEALS, F_ADD_SEALS,
};

/*
 * GL driver: what virglrenderer with Mesa makes once started (traced with
 * seccomp's log action over tests/vm/test_virgl.py: a guest's GL through
 * the device): futex (Mesa's locks), lseek and sysinfo (llvmpipe's memory
 * queries), and executable memory for llvmpipe's code: LLVM's JIT maps
 * its code writable, then protects it executable (never both), so mprotect
 * may make a page executable, never writable and executable. No mapping is
 * made executable by mmap: Mesa's run-time assembler (translate_sse) asks
 * for one readable, writable and executable heap; it gets EPERM and Mesa
 * falls back to its generic (C) vertex translation. Only when virglrenderer
 * runs (gpu = auto or virgl; without it executable memory kills vmd);
 * Mesa is set up not to start threads or write a shader cache later
 * (virgl.c).
 */
static const int gl_calls[] = {
	SCMP_SYS(futex),
	SCMP_SYS(lseek),
	SCMP_SYS(sysinfo),
};

#ifdef SANITIZER_RUNTIME
/* Seen with GCC's libasan (ASan, LSan, UBSan): a report symbolized, the
 * leak check's StopTheWorld (a clone that ptraces the process, then
 * exits with exit()). */
static const int sanitizer_calls[] = {
	SCMP_SYS(exit),
	SCMP_SYS(stat),
	SCMP_SYS(readlink),
	SCMP_SYS(getdents),
	SCMP_SYS(lseek),
	SCMP_SYS(prctl),
	SCMP_SYS(ptrace),
	SCMP_SYS(wait4),
	SCMP_SYS(sched_yield),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(getppid),
	SCMP_SYS(futex),
};
static const int sanitizer_fcntl_commands[] = { F_GETFD, F_SETFD };
#define SANITIZER_NOTE " (with the sanitizer runtime's)"
#else
#define SANITIZER_NOTE ""
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Landlock ---- */

/* Rights of Landlock ABI 1, and 2 (REFER: linking and renaming across
 * directories); later rights concern opening files, which seccomp
 * forbids. */
#define FS_RIGHTS_ABI1 ((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)

/* The directory of path, opened O_PATH; -1 (logged) if it cannot be. */
static int open_parent(const char *path) {
	size_t len = strlen(path);
	char *dir = malloc(len + 2);
	if (dir == NULL) {
		return -1;
	}
	memcpy(dir, path, len + 1);
	char *slash = strrchr(dir, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		slash[slash == dir ? 1 : 0] = '\0';
	}
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "sandbox: cannot open %s", dir);
	}
	free(dir);
	return fd;
}

/*
 * Nothing of the file system (no new files, no writes, no removal, no
 * execution; in builds without a sanitizer no reading either) except
 * removing files beneath the socket's directory. 1 done, 0 the kernel has
 * no Landlock, -1 failed (logged).
 */
static int restrict_files(const char *socket_path, int *abi) {
	*abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
		LANDLOCK_CREATE_RULESET_VERSION);
	if (*abi < 1) {
		return 0;
	}
	struct landlock_ruleset_attr attr = { .handled_access_fs = FS_RIGHTS_ABI1 };
	if (*abi >= 2) {
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	}
#ifdef SANITIZER_RUNTIME
	attr.handled_access_fs &=
		~(uint64_t)(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
#endif
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0) {
		tessera_log_errno(TESSERA_ERROR, "sandbox: cannot create a Landlock ruleset");
		return -1;
	}
	int ret = -1;
	struct landlock_path_beneath_attr rule = {
		.allowed_access = LANDLOCK_ACCESS_FS_REMOVE_FILE,
		.parent_fd = open_parent(socket_path),
	};
	if (rule.parent_fd < 0) {
		goto out;
	}
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
			&rule, 0) != 0) {
		tessera_log_errno(TESSERA_ERROR, "sandbox: cannot add a Landlock rule");
		goto out;
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		tessera_log_errno(TESSERA_ERROR, "sandbox: cannot apply the Landlock ruleset");
		goto out;
	}
	ret = 1;
out:
	if (rule.parent_fd >= 0) {
		close(rule.parent_fd);
	}
	close(ruleset);
	return ret;
}

/* ---- seccomp ---- */

static bool allow(scmp_filter_ctx ctx, int call, unsigned int n_args,
		const struct scmp_arg_cmp *args, const char **failed) {
	int ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, call, n_args, args);
	if (ret != 0) {
		*failed = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, call);
		errno = -ret;
		return false;
	}
	return true;
}

/* The rules; *count: the system calls they allow. */
static bool add_rules(scmp_filter_ctx ctx, const struct vmd_sandbox_options *options,
		unsigned int *count, const char **failed) {
	for (size_t i = 0; i < COUNT(any_arguments); i++) {
		if (!allow(ctx, any_arguments[i], 0, NULL, failed)) {
			return false;
		}
	}
	*count = COUNT(any_arguments);

	/* mappings, never executable */
	const struct scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	if (!allow(ctx, SCMP_SYS(mmap), 1, &no_exec, failed) ||
			!allow(ctx, SCMP_SYS(mprotect), 1, &no_exec, failed)) {
		return false;
	}
	*count += 2;

	for (size_t i = 0; i < COUNT(fcntl_commands); i++) {
		const struct scmp_arg_cmp cmd = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_commands[i]);
		if (!allow(ctx, SCMP_SYS(fcntl), 1, &cmd, failed)) {
			return false;
		}
	}
#ifdef SANITIZER_RUNTIME
	for (size_t i = 0; i < COUNT(sanitizer_fcntl_commands); i++) {
		const struct scmp_arg_cmp cmd =
			SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)sanitizer_fcntl_commands[i]);
		if (!allow(ctx, SCMP_SYS(fcntl), 1, &cmd, failed)) {
			return false;
		}
	}
#endif
	*count += 1;

	/* cpu-share.c: itself between SCHED_OTHER and SCHED_IDLE, nothing
	 * else (no real-time policy, no other process) */
	const int policies[] = { SCHED_OTHER, SCHED_IDLE };
	for (size_t i = 0; i < COUNT(policies); i++) {
		const struct scmp_arg_cmp policy[] = {
			SCMP_A0(SCMP_CMP_EQ, 0),
			SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)policies[i]),
		};
		if (!allow(ctx, SCMP_SYS(sched_setscheduler), 2, policy, failed)) {
			return false;
		}
	}
	*count += 1;

	if (options->gl) {
		for (size_t i = 0; i < COUNT(gl_calls); i++) {
			if (!allow(ctx, gl_calls[i], 0, NULL, failed)) {
				return false;
			}
		}
		const struct scmp_arg_cmp exec_only =
			SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_EXEC);
		const struct scmp_arg_cmp exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC);
		int ret = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM),
			SCMP_SYS(mmap), 1, &exec);
		if (ret != 0) {
			*failed = "mmap";
			errno = -ret;
			return false;
		}
		if (!allow(ctx, SCMP_SYS(mprotect), 1, &exec_only, failed)) {
			return false;
		}
		*count += COUNT(gl_calls);
	}
	if (options->gl && options->drm) {
		/* the GPU driver on the render node (GBM, EGL, dmabuf exports):
		 * DRM ioctls (type 'd'), on the only DRM fds the daemon has */
		const struct scmp_arg_cmp drm_ioctl =
			SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, (scmp_datum_t)'d' << 8);
		if (!allow(ctx, SCMP_SYS(ioctl), 1, &drm_ioctl, failed)) {
			return false;
		}
		*count += 1;
	}

	/* abort(): SIGABRT to itself */
	const struct scmp_arg_cmp self = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
	if (!allow(ctx, SCMP_SYS(tgkill), 1, &self, failed)) {
		return false;
	}
	*count += 1;

	if (options->udmabuf_fd >= 0) {
		const struct scmp_arg_cmp create[] = {
			SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)options->udmabuf_fd),
			SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)UDMABUF_CREATE_LIST),
		};
		if (!allow(ctx, SCMP_SYS(ioctl), 2, create, failed)) {
			return false;
		}
		*count += 1;
	}

#ifdef SANITIZER_RUNTIME
	for (size_t i = 0; i < COUNT(sanitizer_calls); i++) {
		if (!allow(ctx, sanitizer_calls[i], 0, NULL, failed)) {
			return false;
		}
	}
	/* read-only opens; the clone of LeakSanitizer's StopTheWorld */
	const scmp_datum_t write_flags = O_ACCMODE | O_CREAT | O_TRUNC;
	const struct scmp_arg_cmp open_read_only =
		SCMP_A1(SCMP_CMP_MASKED_EQ, write_flags, O_RDONLY);
	const struct scmp_arg_cmp openat_read_only =
		SCMP_A2(SCMP_CMP_MASKED_EQ, write_flags, O_RDONLY);
	const struct scmp_arg_cmp no_thread =
		SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
	const struct scmp_arg_cmp tcgets = SCMP_A1(SCMP_CMP_EQ, TCGETS);
	if (!allow(ctx, SCMP_SYS(open), 1, &open_read_only, failed) ||
			!allow(ctx, SCMP_SYS(openat), 1, &openat_read_only, failed) ||
			!allow(ctx, SCMP_SYS(clone), 1, &no_thread, failed) ||
			!allow(ctx, SCMP_SYS(ioctl), 1, &tcgets, failed)) {
		return false;
	}
	/* ioctl counted with udmabuf's if there is one */
	*count += COUNT(sanitizer_calls) + 3 + (options->udmabuf_fd < 0 ? 1 : 0);
#endif
	return true;
}

/* Loads the filter; *count: the system calls it allows. */
static bool filter_calls(const struct vmd_sandbox_options *options, unsigned int *count) {
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		tessera_log(TESSERA_ERROR, "sandbox: cannot create a seccomp filter");
		return false;
	}
	const char *failed = NULL;
	bool ok = false;
	int ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (ret == 0) {
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	}
	if (ret != 0) {
		errno = -ret;
		tessera_log_errno(TESSERA_ERROR, "sandbox: cannot set up the seccomp filter");
	} else if (!add_rules(ctx, options, count, &failed)) {
		tessera_log_errno(TESSERA_ERROR, "sandbox: cannot allow %s",
			failed != NULL ? failed : "a system call");
	} else if ((ret = seccomp_load(ctx)) != 0) {
		errno = -ret;
		tessera_log_errno(TESSERA_ERROR, "sandbox: cannot load the seccomp filter");
	} else {
		ok = true;
	}
	seccomp_release(ctx);
	return ok;
}

bool vmd_sandbox_enter(const struct vmd_sandbox_options *options) {
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		tessera_log_errno(TESSERA_ERROR, "sandbox: cannot set no_new_privs");
		return false;
	}
	int abi;
	int files = restrict_files(options->socket_path, &abi);
	unsigned int count = 0;
	if (files < 0 || !filter_calls(options, &count)) {
		tessera_log(TESSERA_ERROR, "cannot confine the daemon (--sandbox=off runs "
			"it unconfined)");
		return false;
	}
	char files_text[96] = "no Landlock in this kernel: unlink is not confined "
		"to the socket's directory";
	if (files > 0) {
		snprintf(files_text, sizeof(files_text), "Landlock ABI %d", abi);
	}
	tessera_log(TESSERA_INFO, "sandbox: confined: seccomp allows %u system calls%s; "
		"files: %s", count, SANITIZER_NOTE, files_text);
	return true;
}

/* ---- test hook ---- */

#ifdef VMD_SANDBOX_TEST_HOOK
#include <signal.h>
#include <sys/socket.h>
#include <wayland-server-core.h>

extern char **environ;

static int handle_test_signal(int signal_number, void *data) {
	const char *call = getenv("TESSERA_VMD_TEST_SYSCALL");
	if (call == NULL) {
		call = "socket";
	}
	const char *colon = strchr(call, ':');
	const char *path = colon != NULL ? colon + 1 : "/etc/passwd";
	size_t name_len = colon != NULL ? (size_t)(colon - call) : strlen(call);
	char name[32];
	snprintf(name, sizeof(name), "%.*s", (int)name_len, call);
	long ret;
	bool is_fd = false;
	if (strcmp(name, "socket") == 0) {
		ret = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		is_fd = true;
	} else if (strcmp(name, "open-read") == 0) {
		ret = open(path, O_RDONLY | O_CLOEXEC);
		is_fd = true;
	} else if (strcmp(name, "open-write") == 0) {
		ret = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		is_fd = true;
	} else if (strcmp(name, "execve") == 0) {
		char *argv[] = { (char *)path, NULL };
		ret = execve(path, argv, environ);
	} else if (strcmp(name, "kill") == 0) {
		ret = kill(colon != NULL ? atoi(path) : 1, 0);
	} else if (strcmp(name, "unlink") == 0) {
		ret = unlink(path);
	} else if (strncmp(name, "mmap-", 5) == 0 || strncmp(name, "mprotect-", 9) == 0) {
		/* mmap-exec, mprotect-exec: executable; -wx: writable and
		 * executable */
		bool direct = name[1] == 'm';
		int exec = PROT_READ | PROT_EXEC |
			(strstr(name, "-wx") != NULL ? PROT_WRITE : 0);
		void *p = mmap(NULL, 4096, direct ? exec : PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ret = p == MAP_FAILED ? -1 : 0;
		if (p != MAP_FAILED) {
			if (!direct) {
				ret = mprotect(p, 4096, exec);
			}
			munmap(p, 4096);
		}
	} else {
		tessera_log(TESSERA_ERROR, "test hook: unknown call '%s'", call);
		return 0;
	}
	if (ret < 0) {
		tessera_log_errno(TESSERA_INFO, "test hook: %s returned %ld", call, ret);
	} else {
		tessera_log(TESSERA_INFO, "test hook: %s returned %ld", call, ret);
	}
	if (is_fd && ret >= 0) {
		close((int)ret);
	}
	return 0;
}

struct wl_event_source *vmd_sandbox_add_test_hook(struct wl_event_loop *loop) {
	return wl_event_loop_add_signal(loop, SIGUSR2, handle_test_signal, NULL);
}
#endif
