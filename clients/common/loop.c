#define _GNU_SOURCE /* signalfd */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "tessera-client.h"

#define MAX_LOOP_FDS 8

int tessera_client_signalfd(const int *signals, size_t count) {
	sigset_t mask;
	sigemptyset(&mask);
	for (size_t i = 0; i < count; i++) {
		sigaddset(&mask, signals[i]);
	}
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot block signals");
		return -1;
	}
	int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		tessera_log_errno(TESSERA_ERROR, "cannot create a signalfd");
	}
	return fd;
}

int tessera_client_read_signal(int signal_fd) {
	struct signalfd_siginfo info;
	ssize_t n = read(signal_fd, &info, sizeof(info));
	if (n != (ssize_t)sizeof(info)) {
		if (n < 0 && errno != EAGAIN) {
			tessera_log_errno(TESSERA_ERROR, "cannot read the signalfd");
		}
		return 0;
	}
	return (int)info.ssi_signo;
}

bool tessera_client_handle_stop_signal(void *data) {
	const int *signal_fd = data;
	tessera_client_read_signal(*signal_fd);
	return false;
}

static void log_display_error(struct wl_display *display) {
	int err = wl_display_get_error(display);
	if (err == EPROTO) {
		const struct wl_interface *interface;
		uint32_t id;
		uint32_t code = wl_display_get_protocol_error(display, &interface, &id);
		tessera_log(TESSERA_ERROR, "protocol error %" PRIu32 " on %s@%" PRIu32, code,
			interface != NULL ? interface->name : "?", id);
	} else {
		tessera_log(TESSERA_ERROR, "lost the connection to the compositor: %s",
			strerror(err != 0 ? err : errno));
	}
}

bool tessera_client_run(struct wl_display *display, const struct tessera_client_fd *fds,
		size_t count, const bool *running) {
	if (count > MAX_LOOP_FDS) {
		tessera_log(TESSERA_ERROR, "cannot watch %zu descriptors (at most %d)", count,
			MAX_LOOP_FDS);
		return false;
	}
	struct pollfd pfds[MAX_LOOP_FDS + 1];
	pfds[0].fd = wl_display_get_fd(display);
	for (size_t i = 0; i < count; i++) {
		pfds[i + 1] = (struct pollfd){ .fd = fds[i].fd, .events = POLLIN };
	}
	while (*running) {
		while (wl_display_prepare_read(display) != 0) {
			if (wl_display_dispatch_pending(display) < 0) {
				goto display_error;
			}
			if (!*running) {
				return true;
			}
		}
		pfds[0].events = POLLIN;
		if (wl_display_flush(display) < 0) {
			if (errno != EAGAIN) {
				wl_display_cancel_read(display);
				goto display_error;
			}
			pfds[0].events |= POLLOUT;
		}
		if (poll(pfds, count + 1, -1) < 0) {
			wl_display_cancel_read(display);
			if (errno == EINTR) {
				continue;
			}
			tessera_log_errno(TESSERA_ERROR, "cannot poll");
			return false;
		}
		if (pfds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			if (wl_display_read_events(display) < 0) {
				goto display_error;
			}
		} else {
			wl_display_cancel_read(display);
		}
		if (wl_display_dispatch_pending(display) < 0) {
			goto display_error;
		}
		for (size_t i = 0; i < count; i++) {
			if ((pfds[i + 1].revents & POLLIN) && !fds[i].handle(fds[i].data)) {
				return true;
			}
		}
	}
	return true;

display_error:
	log_display_error(display);
	return false;
}
