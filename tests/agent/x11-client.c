/*
 * x11-client: an X11 test client (libxcb) for the agent's Xwayland tests.
 *
 * One window filled with a colour (its background), titled with both
 * _NET_WM_NAME and WM_NAME (or WM_NAME only), with WM_CLASS and optional
 * WM_NORMAL_HINTS size limits; optionally a dialog transient for it and an
 * override-redirect "menu" that opens at a point of the window at the
 * first left click. It logs what it receives to --log (one line each,
 * flushed): "mapped TITLE", "focus in TITLE", "enter TITLE" (the pointer
 * came in), "button N pressed X Y
 * TITLE", "key CODE pressed KEYSYM TITLE", "menu mapped at X Y" (root
 * coordinates), "window at X Y" (root position of the main window).
 *
 *   x11-client --title T --class C --color RRGGBB [--size WxH]
 *              [--min WxH] [--max WxH] [--wm-name-only]
 *              [--dialog TITLE,RRGGBB] [--menu X,Y,W,H,RRGGBB] --log PATH
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xcb/xcb.h>
#include <xcb/xcb_icccm.h>

static FILE *log_file;

static void logf_line(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputc('\n', log_file);
	fflush(log_file);
}

static void die(const char *what) {
	fprintf(stderr, "x11-client: %s\n", what);
	exit(1);
}

static uint32_t parse_color(const char *text) {
	char *end;
	unsigned long v = strtoul(text, &end, 16);
	if (strlen(text) != 6 || *end != '\0') {
		die("a colour is RRGGBB");
	}
	return (uint32_t)v;
}

static void parse_size(const char *text, int *w, int *h) {
	if (sscanf(text, "%dx%d", w, h) != 2 || *w <= 0 || *h <= 0) {
		die("a size is WxH");
	}
}

static xcb_atom_t atom(xcb_connection_t *c, const char *name) {
	xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(c,
		xcb_intern_atom(c, 0, (uint16_t)strlen(name), name), NULL);
	if (r == NULL) {
		die("cannot intern an atom");
	}
	xcb_atom_t a = r->atom;
	free(r);
	return a;
}

struct window {
	xcb_window_t id;
	const char *title;
	bool exposed;
};

static xcb_window_t make_window(xcb_connection_t *c, xcb_screen_t *screen, int x, int y,
		int w, int h, uint32_t color, bool override_redirect) {
	xcb_window_t id = xcb_generate_id(c);
	uint32_t mask = XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK;
	uint32_t values[] = {
		color,
		override_redirect,
		XCB_EVENT_MASK_EXPOSURE | XCB_EVENT_MASK_BUTTON_PRESS | XCB_EVENT_MASK_KEY_PRESS |
			XCB_EVENT_MASK_FOCUS_CHANGE | XCB_EVENT_MASK_STRUCTURE_NOTIFY |
			XCB_EVENT_MASK_ENTER_WINDOW,
	};
	xcb_create_window(c, XCB_COPY_FROM_PARENT, id, screen->root, (int16_t)x, (int16_t)y,
		(uint16_t)w, (uint16_t)h, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual,
		mask, values);
	return id;
}

static void set_title(xcb_connection_t *c, xcb_window_t id, const char *title,
		bool wm_name_only) {
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, id, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8,
		(uint32_t)strlen(title), title);
	if (!wm_name_only) {
		xcb_change_property(c, XCB_PROP_MODE_REPLACE, id, atom(c, "_NET_WM_NAME"),
			atom(c, "UTF8_STRING"), 8, (uint32_t)strlen(title), title);
	}
}

static void set_class(xcb_connection_t *c, xcb_window_t id, const char *class) {
	/* WM_CLASS: instance NUL class NUL */
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "x11-client%c%s", '\0', class);
	if (n < 0 || (size_t)n + 1 > sizeof(buf)) {
		die("class too long");
	}
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, id, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 8,
		(uint32_t)n + 1, buf);
}

/* The keysym of a keycode (first level), as text: the character for
 * printable Latin-1, else 0xNNNN. */
static void keysym_name(xcb_connection_t *c, xcb_keycode_t code, char *out, size_t size) {
	xcb_get_keyboard_mapping_reply_t *r = xcb_get_keyboard_mapping_reply(c,
		xcb_get_keyboard_mapping(c, code, 1), NULL);
	uint32_t sym = 0;
	if (r != NULL && xcb_get_keyboard_mapping_keysyms_length(r) > 0) {
		sym = xcb_get_keyboard_mapping_keysyms(r)[0];
	}
	free(r);
	if (sym > 0x20 && sym < 0x7f) {
		snprintf(out, size, "%c", (char)sym);
	} else {
		snprintf(out, size, "0x%04x", sym);
	}
}

int main(int argc, char *argv[]) {
	const char *title = "x11-client", *class = "X11Client", *log_path = NULL;
	const char *dialog_title = NULL;
	uint32_t color = 0x336699, dialog_color = 0;
	int width = 200, height = 150, min_w = 0, min_h = 0, max_w = 0, max_h = 0;
	int menu_x = 0, menu_y = 0, menu_w = 0, menu_h = 0;
	uint32_t menu_color = 0;
	bool wm_name_only = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(arg, "--wm-name-only") == 0) {
			wm_name_only = true;
			continue;
		}
		if (val == NULL) {
			die("an option lacks its value");
		}
		i++;
		if (strcmp(arg, "--title") == 0) {
			title = val;
		} else if (strcmp(arg, "--class") == 0) {
			class = val;
		} else if (strcmp(arg, "--color") == 0) {
			color = parse_color(val);
		} else if (strcmp(arg, "--size") == 0) {
			parse_size(val, &width, &height);
		} else if (strcmp(arg, "--min") == 0) {
			parse_size(val, &min_w, &min_h);
		} else if (strcmp(arg, "--max") == 0) {
			parse_size(val, &max_w, &max_h);
		} else if (strcmp(arg, "--log") == 0) {
			log_path = val;
		} else if (strcmp(arg, "--dialog") == 0) {
			static char buf[256];
			const char *comma = strrchr(val, ',');
			if (comma == NULL || (size_t)(comma - val) >= sizeof(buf)) {
				die("--dialog TITLE,RRGGBB");
			}
			memcpy(buf, val, (size_t)(comma - val));
			dialog_title = buf;
			dialog_color = parse_color(comma + 1);
		} else if (strcmp(arg, "--menu") == 0) {
			char hex[7];
			if (sscanf(val, "%d,%d,%d,%d,%6s", &menu_x, &menu_y, &menu_w, &menu_h, hex) != 5 ||
					menu_w <= 0 || menu_h <= 0) {
				die("--menu X,Y,W,H,RRGGBB");
			}
			menu_color = parse_color(hex);
		} else {
			die("unknown option");
		}
	}
	if (log_path == NULL) {
		die("--log PATH is required");
	}
	log_file = fopen(log_path, "w");
	if (log_file == NULL) {
		die("cannot open the log");
	}

	xcb_connection_t *c = xcb_connect(NULL, NULL);
	if (xcb_connection_has_error(c)) {
		die("cannot connect to $DISPLAY");
	}
	xcb_screen_t *screen = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
	xcb_atom_t wm_protocols = atom(c, "WM_PROTOCOLS");
	xcb_atom_t wm_delete = atom(c, "WM_DELETE_WINDOW");

	struct window windows[3] = {0};
	size_t count = 0;
	windows[count++] = (struct window){
		make_window(c, screen, 10, 10, width, height, color, false), title, false };
	xcb_window_t main_id = windows[0].id;
	set_title(c, main_id, title, wm_name_only);
	set_class(c, main_id, class);
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, main_id, wm_protocols, XCB_ATOM_ATOM, 32,
		1, &wm_delete);
	if (min_w > 0 || max_w > 0) {
		xcb_size_hints_t hints = {0};
		if (min_w > 0) {
			xcb_icccm_size_hints_set_min_size(&hints, min_w, min_h);
		}
		if (max_w > 0) {
			xcb_icccm_size_hints_set_max_size(&hints, max_w, max_h);
		}
		xcb_icccm_set_wm_normal_hints(c, main_id, &hints);
	}
	xcb_map_window(c, main_id);

	xcb_window_t menu_id = XCB_WINDOW_NONE;
	bool menu_open = false, dialog_made = false;
	xcb_flush(c);
	xcb_generic_event_t *ev;
	while ((ev = xcb_wait_for_event(c)) != NULL) {
		switch (ev->response_type & 0x7f) {
		case XCB_EXPOSE: {
			xcb_expose_event_t *e = (xcb_expose_event_t *)ev;
			for (size_t i = 0; i < count; i++) {
				if (windows[i].id == e->window && !windows[i].exposed) {
					windows[i].exposed = true;
					logf_line("mapped %s", windows[i].title);
				}
			}
			if (e->window == menu_id) {
				xcb_translate_coordinates_reply_t *r = xcb_translate_coordinates_reply(c,
					xcb_translate_coordinates(c, menu_id, screen->root, 0, 0), NULL);
				if (r != NULL) {
					logf_line("menu mapped at %d %d", r->dst_x, r->dst_y);
					free(r);
				}
			}
			if (e->window == main_id && dialog_title != NULL && !dialog_made) {
				/* a dialog transient for the main window */
				dialog_made = true;
				xcb_window_t d = make_window(c, screen, 40, 40, 120, 80, dialog_color, false);
				windows[count++] = (struct window){ d, dialog_title, false };
				set_title(c, d, dialog_title, false);
				set_class(c, d, class);
				xcb_change_property(c, XCB_PROP_MODE_REPLACE, d, XCB_ATOM_WM_TRANSIENT_FOR,
					XCB_ATOM_WINDOW, 32, 1, &main_id);
				xcb_atom_t dialog_type = atom(c, "_NET_WM_WINDOW_TYPE_DIALOG");
				xcb_change_property(c, XCB_PROP_MODE_REPLACE, d,
					atom(c, "_NET_WM_WINDOW_TYPE"), XCB_ATOM_ATOM, 32, 1, &dialog_type);
				xcb_map_window(c, d);
			}
			break;
		}
		case XCB_ENTER_NOTIFY: {
			xcb_enter_notify_event_t *e = (xcb_enter_notify_event_t *)ev;
			for (size_t i = 0; i < count; i++) {
				if (windows[i].id == e->event) {
					logf_line("enter %s", windows[i].title);
				}
			}
			break;
		}
		case XCB_FOCUS_IN: {
			xcb_focus_in_event_t *e = (xcb_focus_in_event_t *)ev;
			for (size_t i = 0; i < count; i++) {
				if (windows[i].id == e->event) {
					logf_line("focus in %s", windows[i].title);
				}
			}
			break;
		}
		case XCB_BUTTON_PRESS: {
			xcb_button_press_event_t *e = (xcb_button_press_event_t *)ev;
			const char *name = e->event == menu_id ? "menu" : "?";
			for (size_t i = 0; i < count; i++) {
				if (windows[i].id == e->event) {
					name = windows[i].title;
				}
			}
			logf_line("button %u pressed %d %d %s", e->detail, e->event_x, e->event_y, name);
			if (e->event == main_id && e->detail == 1 && menu_w > 0 && !menu_open) {
				/* the menu at its point of the window, in root coordinates */
				xcb_translate_coordinates_reply_t *r = xcb_translate_coordinates_reply(c,
					xcb_translate_coordinates(c, main_id, screen->root, 0, 0), NULL);
				if (r == NULL) {
					die("cannot find the window on the root");
				}
				logf_line("window at %d %d", r->dst_x, r->dst_y);
				menu_id = make_window(c, screen, r->dst_x + menu_x, r->dst_y + menu_y,
					menu_w, menu_h, menu_color, true);
				free(r);
				xcb_map_window(c, menu_id);
				menu_open = true;
			}
			break;
		}
		case XCB_KEY_PRESS: {
			xcb_key_press_event_t *e = (xcb_key_press_event_t *)ev;
			char sym[16];
			keysym_name(c, e->detail, sym, sizeof(sym));
			const char *name = "?";
			for (size_t i = 0; i < count; i++) {
				if (windows[i].id == e->event) {
					name = windows[i].title;
				}
			}
			logf_line("key %u pressed %s %s", e->detail, sym, name);
			break;
		}
		case XCB_CLIENT_MESSAGE: {
			xcb_client_message_event_t *e = (xcb_client_message_event_t *)ev;
			if (e->type == wm_protocols && e->data.data32[0] == wm_delete) {
				logf_line("close");
				free(ev);
				xcb_disconnect(c);
				return 0;
			}
			break;
		}
		default:
			break;
		}
		free(ev);
		xcb_flush(c);
	}
	logf_line("disconnected");
	xcb_disconnect(c);
	return 0;
}
