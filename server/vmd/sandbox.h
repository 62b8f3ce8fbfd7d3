/*
 * The confinement of tessera-vmd (README.md, "Security model").
 *
 * A daemon parses everything its guest sends. Once it has what it needs
 * from the world (its Wayland connection, its listening vhost-user socket,
 * /dev/udmabuf if there is one), and before the first guest byte is read,
 * it confines itself:
 *
 * - seccomp (libseccomp): an allow-list of the system calls the running
 *   daemon makes; any other call kills the process (SIGSYS, which tessera
 *   logs before it restarts the daemon). Some calls are allowed only with
 *   given arguments: no executable mappings (with virglrenderer, for
 *   llvmpipe's code: private anonymous ones, and mprotect never writable
 *   and executable at once), ioctl only UDMABUF_CREATE_LIST
 *   on /dev/udmabuf, fcntl only the commands used, signals only to itself.
 *   Builds with a sanitizer allow what its runtime needs on top (reports,
 *   the leak check at exit): see sandbox.c.
 * - Landlock, where the kernel has it: no access to the file system at all
 *   except removing files in the socket's directory (the daemon removes its
 *   socket at exit; seccomp cannot look at the path of an unlink).
 *
 * It cannot be undone; --sandbox=off (a debugging aid) skips it.
 */
#ifndef TESSERA_VMD_SANDBOX_H
#define TESSERA_VMD_SANDBOX_H

#include <stdbool.h>

struct wl_event_loop;
struct wl_event_source;

struct vmd_sandbox_options {
	/* the listening socket, removed at exit */
	const char *socket_path;
	/* /dev/udmabuf opened beforehand, or -1 */
	int udmabuf_fd;
	/* virglrenderer runs (virgl.h): Mesa's GL driver needs a little more
	 * (sandbox.c, "GL driver") */
	bool gl;
	/* ... on a render node: the GPU driver's DRM ioctls (sandbox.c) */
	bool drm;
};

/* Confines the process from now on; false (logged) if it cannot: the
 * daemon must not go on unconfined by accident. */
bool vmd_sandbox_enter(const struct vmd_sandbox_options *options);

#ifdef VMD_SANDBOX_TEST_HOOK
/*
 * Only in the test build (server/vmd/test-hook, for tests/sandbox), never
 * in the installed daemon: on SIGUSR2 the daemon makes the call named by
 * TESSERA_VMD_TEST_SYSCALL and logs what it returned, if it returns:
 * socket (AF_INET, the default), open-read:PATH, open-write:PATH
 * (creating), execve:PATH, kill:PID (signal 0), unlink:PATH, mmap-exec,
 * mprotect-exec (an executable mapping), mmap-wx, mprotect-wx (writable and
 * executable). Remove the source before the loop.
 */
struct wl_event_source *vmd_sandbox_add_test_hook(struct wl_event_loop *loop);
#endif

#endif
