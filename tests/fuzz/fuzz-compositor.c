/*
 * A stand-in compositor for the fuzz targets, see fuzz-compositor.h.
 *
 * Every resource gets the same dispatcher: it creates the objects a
 * request makes (with the interface the protocol names), closes the fds
 * it carries, and destroys the object on a "destroy" or "release"
 * request. Each object remembers its parent: the wl_surface a request
 * names (frame callbacks, presentation feedback, xdg_surfaces,
 * subsurfaces), else the object the request was sent to. When a surface
 * goes, its frame callbacks go too and its feedback is discarded, as
 * wlroots does.
 */
#define _GNU_SOURCE /* memfd_create */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>

#include "fuzz-compositor.h"

/* from the protocol code vmd links */
extern const struct wl_interface xdg_wm_base_interface;
extern const struct wl_interface xdg_surface_interface;
extern const struct wl_interface xdg_toplevel_interface;
extern const struct wl_interface xdg_popup_interface;
extern const struct wl_interface zxdg_decoration_manager_v1_interface;
extern const struct wl_interface wp_presentation_interface;
extern const struct wl_interface wp_presentation_feedback_interface;
extern const struct wl_interface wp_viewporter_interface;
extern const struct wl_interface tessera_guest_memory_v1_interface;

#define MAX_OUTPUTS 4
#define MAX_KEYMAP 4096

struct obj {
	struct wl_list link; /* fuzz_compositor.objects */
	struct fuzz_compositor *comp;
	struct wl_resource *resource;
	const struct wl_interface *iface;
	struct obj *parent;
	struct client_info *client;
};

struct client_info {
	struct wl_list link; /* fuzz_compositor.clients */
	struct wl_client *client;
	struct wl_listener destroy;
	bool with_guest_memory;
	bool dying;
};

/* what bind_global() gets, one per interface */
struct global {
	struct fuzz_compositor *comp;
	const struct wl_interface *iface;
};

struct fuzz_compositor {
	struct global globals[16];
	size_t nglobals;
	struct wl_display *display;
	struct wl_event_loop *loop;
	struct wl_list objects; /* obj.link */
	struct wl_list clients; /* client_info.link */
	struct wl_global *guest_memory;
	struct wl_global *outputs[MAX_OUTPUTS];
	size_t noutputs;
	pthread_t thread;
	volatile bool thread_running;
};

static const struct wl_interface *const globals[] = {
	&wl_compositor_interface, &wl_subcompositor_interface, &wl_shm_interface,
	&xdg_wm_base_interface, &wl_seat_interface,
	&zxdg_decoration_manager_v1_interface, &wp_presentation_interface,
	&wp_viewporter_interface,
};

static struct client_info *client_info(struct fuzz_compositor *comp,
		const struct wl_client *client) {
	struct client_info *info;
	wl_list_for_each(info, &comp->clients, link) {
		if (info->client == client) {
			return info;
		}
	}
	return NULL;
}

/* ---- events ---- */

/* Sends the event called name if the object's version has it. */
static void post(struct wl_resource *resource, const char *name,
		union wl_argument *args) {
	const struct obj *o = wl_resource_get_user_data(resource);
	const struct wl_interface *iface = o->iface;
	for (int i = 0; i < iface->event_count; i++) {
		const struct wl_message *ev = &iface->events[i];
		if (strcmp(ev->name, name) != 0) {
			continue;
		}
		int since = atoi(ev->signature); /* a leading version, or 0 */
		if (wl_resource_get_version(resource) >= (since > 0 ? since : 1)) {
			wl_resource_post_event_array(resource, (uint32_t)i, args);
		}
		return;
	}
	CHECK(false); /* no such event */
}

#define ARGS(...) ((union wl_argument[]){ __VA_ARGS__ })

static bool is(const struct obj *o, const struct wl_interface *iface) {
	return o->iface == iface;
}

/* The index-th object of that interface of the client (modulo their
 * number), or NULL. */
static struct obj *pick(struct fuzz_compositor *comp, struct client_info *info,
		const struct wl_interface *iface, uint32_t index) {
	size_t n = 0;
	struct obj *o;
	wl_list_for_each(o, &comp->objects, link) {
		n += o->client == info && is(o, iface);
	}
	if (n == 0) {
		return NULL;
	}
	index %= n;
	wl_list_for_each(o, &comp->objects, link) {
		if (o->client == info && is(o, iface) && index-- == 0) {
			return o;
		}
	}
	return NULL;
}

static uint32_t serial(struct fuzz_compositor *comp) {
	return wl_display_next_serial(comp->display);
}

static void send_keymap(struct wl_resource *keyboard, const char *text, size_t len) {
	int fd = memfd_create("fuzz-keymap", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, text, len) == (ssize_t)len && write(fd, "", 1) == 1);
	post(keyboard, "keymap", ARGS({ .u = WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1 },
		{ .h = fd }, { .u = (uint32_t)len + 1 }));
	close(fd); /* the event carries a duplicate */
}

static void send_output_state(struct wl_resource *output, int32_t width,
		int32_t height, int32_t refresh, int32_t scale) {
	post(output, "geometry", ARGS({ .i = 0 }, { .i = 0 }, { .i = 300 },
		{ .i = 200 }, { .i = WL_OUTPUT_SUBPIXEL_UNKNOWN }, { .s = "fuzz" },
		{ .s = "output" }, { .i = WL_OUTPUT_TRANSFORM_NORMAL }));
	post(output, "mode", ARGS({ .u = WL_OUTPUT_MODE_CURRENT }, { .i = width },
		{ .i = height }, { .i = refresh }));
	post(output, "scale", ARGS({ .i = scale }));
	post(output, "done", NULL);
}

/* What a new object hears at once. */
static void announce(struct fuzz_compositor *comp, struct obj *o) {
	struct wl_resource *r = o->resource;
	if (is(o, &wl_shm_interface)) {
		post(r, "format", ARGS({ .u = WL_SHM_FORMAT_ARGB8888 }));
		post(r, "format", ARGS({ .u = WL_SHM_FORMAT_XRGB8888 }));
	} else if (is(o, &wl_seat_interface)) {
		post(r, "capabilities", ARGS({ .u = WL_SEAT_CAPABILITY_POINTER |
			WL_SEAT_CAPABILITY_KEYBOARD }));
		post(r, "name", ARGS({ .s = "seat0" }));
	} else if (is(o, &wl_keyboard_interface)) {
		static const char keymap[] = "xkb_keymap { fuzz };";
		send_keymap(r, keymap, sizeof(keymap) - 1);
		post(r, "repeat_info", ARGS({ .i = 25 }, { .i = 600 }));
	} else if (is(o, &wl_output_interface)) {
		send_output_state(r, 1920, 1080, 60000, 1);
	} else if (is(o, &wp_presentation_interface)) {
		post(r, "clock_id", ARGS({ .u = CLOCK_MONOTONIC }));
	} else if (is(o, &tessera_guest_memory_v1_interface)) {
		post(r, "budget", ARGS({ .u = 1024 }, { .u = 16384 }, { .u = 1 },
			{ .u = 0 }));
	}
}

/* ---- objects ---- */

static void destroy_obj(struct wl_resource *resource);
static int dispatch(const void *impl, void *target, uint32_t opcode,
	const struct wl_message *msg, union wl_argument *args);

static struct obj *add_obj(struct fuzz_compositor *comp, struct client_info *info,
		struct wl_resource *resource, const struct wl_interface *iface,
		struct obj *parent) {
	struct obj *o = calloc(1, sizeof(*o));
	CHECK(o != NULL);
	o->comp = comp;
	o->resource = resource;
	o->iface = iface;
	o->parent = parent;
	o->client = info;
	wl_list_insert(comp->objects.prev, &o->link);
	wl_resource_set_dispatcher(resource, dispatch, comp, o, destroy_obj);
	return o;
}

/* A surface's frame callbacks and feedback end with it. */
static void end_children(struct fuzz_compositor *comp, struct obj *parent) {
	bool again = true;
	while (again) {
		again = false;
		struct obj *o;
		wl_list_for_each(o, &comp->objects, link) {
			if (o->parent != parent) {
				continue;
			}
			o->parent = NULL;
			if (is(o, &wl_callback_interface)) {
				wl_resource_destroy(o->resource);
			} else if (is(o, &wp_presentation_feedback_interface)) {
				post(o->resource, "discarded", NULL);
				wl_resource_destroy(o->resource);
			} else {
				continue;
			}
			again = true; /* the list changed */
			break;
		}
	}
}

static void destroy_obj(struct wl_resource *resource) {
	struct obj *o = wl_resource_get_user_data(resource);
	struct fuzz_compositor *comp = o->comp;
	wl_list_remove(&o->link);
	if (!o->client->dying) {
		end_children(comp, o);
	}
	struct obj *other;
	wl_list_for_each(other, &comp->objects, link) {
		if (other->parent == o) {
			other->parent = NULL;
		}
	}
	free(o);
}

static int dispatch(const void *impl, void *target, uint32_t opcode,
		const struct wl_message *msg, union wl_argument *args) {
	struct fuzz_compositor *comp = (void *)impl;
	struct wl_resource *resource = target;
	struct obj *self = wl_resource_get_user_data(resource);
	struct wl_client *client = wl_resource_get_client(resource);

	/* the surface the request names, if any, is the new object's parent */
	struct obj *parent = self;
	int i = 0;
	for (const char *c = msg->signature; *c != '\0'; c++) {
		if ((*c >= '0' && *c <= '9') || *c == '?') {
			continue;
		}
		if (*c == 'o' && args[i].o != NULL && wl_resource_instance_of(
				(struct wl_resource *)args[i].o, &wl_surface_interface, comp)) {
			parent = wl_resource_get_user_data((struct wl_resource *)args[i].o);
		}
		i++;
	}
	i = 0;
	for (const char *c = msg->signature; *c != '\0'; c++) {
		if ((*c >= '0' && *c <= '9') || *c == '?') {
			continue;
		}
		if (*c == 'h') {
			close(args[i].h);
		} else if (*c == 'n') {
			struct wl_resource *r = wl_resource_create(client, msg->types[i],
				wl_resource_get_version(resource), args[i].n);
			CHECK(r != NULL);
			announce(comp, add_obj(comp, self->client, r, msg->types[i], parent));
		}
		i++;
	}
	if (strcmp(msg->name, "destroy") == 0 || strcmp(msg->name, "release") == 0) {
		wl_resource_destroy(resource);
	}
	return 0;
}

static void bind_global(struct wl_client *client, void *data, uint32_t version,
		uint32_t id) {
	const struct global *global = data;
	struct fuzz_compositor *comp = global->comp;
	struct wl_resource *r = wl_resource_create(client, global->iface,
		(int)version, id);
	CHECK(r != NULL);
	announce(comp, add_obj(comp, client_info(comp, client), r, global->iface,
		NULL));
}

static bool global_filter(const struct wl_client *client,
		const struct wl_global *global, void *data) {
	struct fuzz_compositor *comp = data;
	if (global != comp->guest_memory) {
		return true;
	}
	struct client_info *info = client_info(comp, client);
	return info != NULL && info->with_guest_memory;
}

static void handle_client_destroy(struct wl_listener *listener, void *data) {
	struct client_info *info = wl_container_of(listener, info, destroy);
	info->dying = true; /* its resources go next, each on its own */
	info->client = NULL;
}

static struct wl_global *add_global(struct fuzz_compositor *comp,
		const struct wl_interface *iface, int version) {
	/* one entry per interface: every wl_output global shares one */
	struct global *global = NULL;
	for (size_t i = 0; i < comp->nglobals; i++) {
		if (comp->globals[i].iface == iface) {
			global = &comp->globals[i];
		}
	}
	if (global == NULL) {
		CHECK(comp->nglobals < sizeof(comp->globals) / sizeof(comp->globals[0]));
		global = &comp->globals[comp->nglobals++];
		*global = (struct global){ .comp = comp, .iface = iface };
	}
	struct wl_global *g = wl_global_create(comp->display, iface, version,
		global, bind_global);
	CHECK(g != NULL);
	return g;
}

/* ---- public ---- */

struct fuzz_compositor *fuzz_compositor_create(void) {
	struct fuzz_compositor *comp = calloc(1, sizeof(*comp));
	CHECK(comp != NULL);
	wl_list_init(&comp->objects);
	wl_list_init(&comp->clients);
	comp->display = wl_display_create();
	CHECK(comp->display != NULL);
	comp->loop = wl_display_get_event_loop(comp->display);
	wl_display_set_global_filter(comp->display, global_filter, comp);
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
		add_global(comp, globals[i], globals[i]->version);
	}
	comp->guest_memory = add_global(comp, &tessera_guest_memory_v1_interface, 1);
	comp->outputs[comp->noutputs++] = add_global(comp, &wl_output_interface, 2);
	return comp;
}

void fuzz_compositor_destroy(struct fuzz_compositor *comp) {
	if (comp == NULL) {
		return;
	}
	wl_display_destroy_clients(comp->display);
	wl_display_destroy(comp->display);
	struct client_info *info, *tmp;
	wl_list_for_each_safe(info, tmp, &comp->clients, link) {
		wl_list_remove(&info->link);
		free(info);
	}
	free(comp);
}

int fuzz_compositor_connect(struct fuzz_compositor *comp, bool with_guest_memory,
		struct wl_client **client) {
	int pair[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
	struct client_info *info = calloc(1, sizeof(*info));
	CHECK(info != NULL);
	info->with_guest_memory = with_guest_memory;
	wl_list_insert(&comp->clients, &info->link);
	info->client = wl_client_create(comp->display, pair[0]);
	CHECK(info->client != NULL);
	info->destroy.notify = handle_client_destroy;
	wl_client_add_destroy_listener(info->client, &info->destroy);
	*client = info->client;
	return pair[1];
}

static void *thread_main(void *data) {
	struct fuzz_compositor *comp = data;
	while (comp->thread_running) {
		wl_event_loop_dispatch(comp->loop, 10);
		wl_display_flush_clients(comp->display);
	}
	return NULL;
}

void fuzz_compositor_start_thread(struct fuzz_compositor *comp) {
	comp->thread_running = true;
	CHECK(pthread_create(&comp->thread, NULL, thread_main, comp) == 0);
}

void fuzz_compositor_stop_thread(struct fuzz_compositor *comp) {
	comp->thread_running = false;
	CHECK(pthread_join(comp->thread, NULL) == 0);
}

void fuzz_compositor_dispatch(struct fuzz_compositor *comp) {
	FUZZ_DISPATCH(comp->loop, 0);
	wl_display_flush_clients(comp->display);
}

size_t fuzz_compositor_objects(struct fuzz_compositor *comp,
		struct wl_client *client) {
	struct client_info *info = client_info(comp, client);
	size_t n = 0;
	struct obj *o;
	wl_list_for_each(o, &comp->objects, link) {
		/* outputs come and go with their globals (wl_output v2 has no
		 * release request) */
		n += o->client == info && !is(o, &wl_output_interface);
	}
	return n;
}


/* Ends every callback or feedback of the client with its event. */
static void end_all(struct fuzz_compositor *comp, struct client_info *info,
		const struct wl_interface *iface, uint32_t presented_flags) {
	bool again = true;
	while (again) {
		again = false;
		struct obj *o;
		wl_list_for_each(o, &comp->objects, link) {
			if (o->client != info || !is(o, iface)) {
				continue;
			}
			if (iface == &wl_callback_interface) {
				post(o->resource, "done", ARGS({ .u = 1000 }));
			} else {
				post(o->resource, "presented", ARGS({ .u = 0 }, { .u = 1 },
					{ .u = 500 }, { .u = 16666666 }, { .u = 0 }, { .u = 7 },
					{ .u = presented_flags }));
			}
			wl_resource_destroy(o->resource);
			again = true;
			break;
		}
	}
}

/* The configure serial comes from the input, so that a seed can ack it. */
static void configure_xdg_surface(struct obj *o, uint32_t configure_serial) {
	if (o->parent != NULL && is(o->parent, &xdg_surface_interface)) {
		post(o->parent->resource, "configure", ARGS({ .u = configure_serial }));
	}
}

void fuzz_compositor_event(struct fuzz_compositor *comp, struct wl_client *client,
		struct fuzz_input *in) {
	struct client_info *info = client_info(comp, client);
	CHECK(info != NULL);
	enum fuzz_compositor_event ev =
		(enum fuzz_compositor_event)(fuzz_get8(in) % FUZZ_EV_COUNT);
	uint8_t k = fuzz_get8(in); /* which object */
	struct obj *o;
	struct wl_array keys;
	wl_array_init(&keys);
	switch (ev) {
	case FUZZ_EV_FRAME_DONE:
		end_all(comp, info, &wl_callback_interface, 0);
		break;
	case FUZZ_EV_PRESENTED:
		end_all(comp, info, &wp_presentation_feedback_interface, k & 0xf);
		break;
	case FUZZ_EV_CONFIGURE: {
		uint32_t configure_serial = fuzz_get16(in);
		int32_t width = fuzz_get16(in), height = fuzz_get16(in);
		uint8_t nstates = fuzz_get8(in) % 5;
		for (uint8_t i = 0; i < nstates; i++) {
			uint32_t *state = wl_array_add(&keys, sizeof(*state));
			CHECK(state != NULL);
			*state = fuzz_get8(in) % 10;
		}
		if ((o = pick(comp, info, &xdg_toplevel_interface, k)) != NULL) {
			post(o->resource, "configure", ARGS({ .i = width }, { .i = height },
				{ .a = &keys }));
			configure_xdg_surface(o, configure_serial);
		}
		break;
	}
	case FUZZ_EV_POPUP_CONFIGURE: {
		uint32_t configure_serial = fuzz_get16(in);
		int32_t x = (int16_t)fuzz_get16(in), y = (int16_t)fuzz_get16(in);
		int32_t width = fuzz_get16(in), height = fuzz_get16(in);
		if ((o = pick(comp, info, &xdg_popup_interface, k)) != NULL) {
			post(o->resource, "configure", ARGS({ .i = x }, { .i = y },
				{ .i = width }, { .i = height }));
			configure_xdg_surface(o, configure_serial);
		}
		break;
	}
	case FUZZ_EV_CLOSE:
		if ((o = pick(comp, info, &xdg_toplevel_interface, k)) != NULL) {
			post(o->resource, "close", NULL);
		}
		break;
	case FUZZ_EV_POPUP_DONE:
		if ((o = pick(comp, info, &xdg_popup_interface, k)) != NULL) {
			post(o->resource, "popup_done", NULL);
		}
		break;
	case FUZZ_EV_RELEASE:
		if ((o = pick(comp, info, &wl_buffer_interface, k)) != NULL) {
			post(o->resource, "release", NULL);
		}
		break;
	case FUZZ_EV_SURFACE_ENTER:
	case FUZZ_EV_SURFACE_LEAVE: {
		struct obj *output = pick(comp, info, &wl_output_interface, fuzz_get8(in));
		if ((o = pick(comp, info, &wl_surface_interface, k)) != NULL &&
				output != NULL) {
			post(o->resource, ev == FUZZ_EV_SURFACE_ENTER ? "enter" : "leave",
				ARGS({ .o = (struct wl_object *)output->resource }));
		}
		break;
	}
	case FUZZ_EV_POINTER_ENTER:
	case FUZZ_EV_KEYBOARD_ENTER: {
		wl_fixed_t x = (int16_t)fuzz_get16(in) * 64, y = (int16_t)fuzz_get16(in) * 64;
		uint8_t nkeys = fuzz_get8(in) % 8;
		for (uint8_t i = 0; i < nkeys; i++) {
			uint32_t *key = wl_array_add(&keys, sizeof(*key));
			CHECK(key != NULL);
			*key = fuzz_get8(in);
		}
		struct obj *surface = pick(comp, info, &wl_surface_interface, k);
		if (surface == NULL) {
			break;
		}
		struct wl_object *s = (struct wl_object *)surface->resource;
		if (ev == FUZZ_EV_POINTER_ENTER &&
				(o = pick(comp, info, &wl_pointer_interface, 0)) != NULL) {
			post(o->resource, "enter", ARGS({ .u = serial(comp) }, { .o = s },
				{ .f = x }, { .f = y }));
			post(o->resource, "frame", NULL);
		} else if (ev == FUZZ_EV_KEYBOARD_ENTER &&
				(o = pick(comp, info, &wl_keyboard_interface, 0)) != NULL) {
			post(o->resource, "enter", ARGS({ .u = serial(comp) }, { .o = s },
				{ .a = &keys }));
		}
		break;
	}
	case FUZZ_EV_POINTER_LEAVE:
	case FUZZ_EV_KEYBOARD_LEAVE: {
		struct obj *surface = pick(comp, info, &wl_surface_interface, k);
		const struct wl_interface *device = ev == FUZZ_EV_POINTER_LEAVE ?
			&wl_pointer_interface : &wl_keyboard_interface;
		if (surface != NULL && (o = pick(comp, info, device, 0)) != NULL) {
			post(o->resource, "leave", ARGS({ .u = serial(comp) },
				{ .o = (struct wl_object *)surface->resource }));
		}
		break;
	}
	case FUZZ_EV_POINTER_MOTION: {
		wl_fixed_t x = (int16_t)fuzz_get16(in) * 64, y = (int16_t)fuzz_get16(in) * 64;
		if ((o = pick(comp, info, &wl_pointer_interface, 0)) != NULL) {
			post(o->resource, "motion", ARGS({ .u = 2000 }, { .f = x }, { .f = y }));
			post(o->resource, "frame", NULL);
		}
		break;
	}
	case FUZZ_EV_POINTER_BUTTON:
		if ((o = pick(comp, info, &wl_pointer_interface, 0)) != NULL) {
			post(o->resource, "button", ARGS({ .u = serial(comp) }, { .u = 3000 },
				{ .u = 0x110 + (k & 7) }, { .u = k >> 7 }));
			post(o->resource, "frame", NULL);
		}
		break;
	case FUZZ_EV_POINTER_AXIS: {
		uint32_t axis = k & 1;
		int32_t value = (int16_t)fuzz_get16(in);
		if ((o = pick(comp, info, &wl_pointer_interface, 0)) == NULL) {
			break;
		}
		if (k & 2) {
			post(o->resource, "axis_source", ARGS({ .u = (k >> 4) & 3 }));
		}
		if (k & 4) {
			post(o->resource, "axis_stop", ARGS({ .u = 4000 }, { .u = axis }));
		} else {
			if (k & 8) {
				post(o->resource, "axis_value120", ARGS({ .u = axis }, { .i = value }));
			}
			post(o->resource, "axis", ARGS({ .u = 4000 }, { .u = axis },
				{ .f = value * 16 }));
		}
		post(o->resource, "frame", NULL);
		break;
	}
	case FUZZ_EV_KEY:
		if ((o = pick(comp, info, &wl_keyboard_interface, 0)) != NULL) {
			post(o->resource, "key", ARGS({ .u = serial(comp) }, { .u = 5000 },
				{ .u = fuzz_get8(in) }, { .u = k & 1 }));
		}
		break;
	case FUZZ_EV_MODIFIERS:
		if ((o = pick(comp, info, &wl_keyboard_interface, 0)) != NULL) {
			post(o->resource, "modifiers", ARGS({ .u = serial(comp) },
				{ .u = fuzz_get8(in) }, { .u = fuzz_get8(in) },
				{ .u = fuzz_get8(in) }, { .u = k & 3 }));
		}
		break;
	case FUZZ_EV_KEYMAP: {
		/* k * 32 bytes of text from the input, NUL-terminated */
		size_t n;
		const uint8_t *text = fuzz_get_bytes(in, (size_t)k * 32 % MAX_KEYMAP, &n);
		if ((o = pick(comp, info, &wl_keyboard_interface, 0)) != NULL) {
			send_keymap(o->resource, (const char *)text, n);
		}
		break;
	}
	case FUZZ_EV_REPEAT_INFO:
		if ((o = pick(comp, info, &wl_keyboard_interface, 0)) != NULL) {
			post(o->resource, "repeat_info", ARGS({ .i = (int8_t)k },
				{ .i = (int16_t)fuzz_get16(in) }));
		}
		break;
	case FUZZ_EV_OUTPUT_MODE: {
		int32_t width = fuzz_get16(in), height = fuzz_get16(in);
		int32_t refresh = fuzz_get16(in) * 16, scale = k % 4;
		if ((o = pick(comp, info, &wl_output_interface, k >> 2)) != NULL) {
			send_output_state(o->resource, width, height, refresh, scale);
		}
		break;
	}
	case FUZZ_EV_OUTPUT_ADD:
		if (comp->noutputs < MAX_OUTPUTS) {
			comp->outputs[comp->noutputs++] = add_global(comp,
				&wl_output_interface, 2);
		}
		break;
	case FUZZ_EV_OUTPUT_REMOVE:
		if (comp->noutputs > 1) {
			size_t i = k % comp->noutputs;
			wl_global_destroy(comp->outputs[i]);
			comp->outputs[i] = comp->outputs[--comp->noutputs];
		}
		break;
	case FUZZ_EV_PING:
		if ((o = pick(comp, info, &xdg_wm_base_interface, 0)) != NULL) {
			post(o->resource, "ping", ARGS({ .u = serial(comp) }));
		}
		break;
	case FUZZ_EV_COUNT:
		break;
	}
	wl_array_release(&keys);
}
