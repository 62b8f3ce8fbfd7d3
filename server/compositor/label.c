#include <assert.h>
#include <cairo.h>
#include <drm_fourcc.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_scene.h>

#include "label.h"
#include "log.h"

#define LABEL_FONT "Sans Bold 10"
#define LABEL_PADDING 6

/* A wlr_buffer backed by a cairo image surface (ARGB32 = DRM ARGB8888). */
struct label_buffer {
	struct wlr_buffer base;
	cairo_surface_t *surface;
};

struct tessera_label {
	struct wlr_scene_node *parent;
	struct wlr_scene_buffer *scene_buffer;
	char *text;
	uint32_t background, foreground;
	int width, height;
	int x, y;
};

static void label_buffer_destroy(struct wlr_buffer *wlr_buffer) {
	struct label_buffer *buffer = wl_container_of(wlr_buffer, buffer, base);
	cairo_surface_destroy(buffer->surface);
	free(buffer);
}

static bool label_buffer_begin_data_ptr_access(struct wlr_buffer *wlr_buffer,
		uint32_t flags, void **data, uint32_t *format, size_t *stride) {
	struct label_buffer *buffer = wl_container_of(wlr_buffer, buffer, base);
	if (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE) {
		return false;
	}
	*data = cairo_image_surface_get_data(buffer->surface);
	*format = DRM_FORMAT_ARGB8888;
	*stride = cairo_image_surface_get_stride(buffer->surface);
	return true;
}

static void label_buffer_end_data_ptr_access(struct wlr_buffer *wlr_buffer) {
	/* nothing to do */
}

static const struct wlr_buffer_impl label_buffer_impl = {
	.destroy = label_buffer_destroy,
	.begin_data_ptr_access = label_buffer_begin_data_ptr_access,
	.end_data_ptr_access = label_buffer_end_data_ptr_access,
};

static void set_source_rgb(cairo_t *cr, uint32_t rgb) {
	cairo_set_source_rgb(cr, ((rgb >> 16) & 0xff) / 255.0,
		((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0);
}

static struct label_buffer *label_render(const char *text, uint32_t background,
		uint32_t foreground, int width, int height) {
	struct label_buffer *buffer = calloc(1, sizeof(*buffer));
	if (buffer == NULL) {
		return NULL;
	}
	buffer->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
	if (cairo_surface_status(buffer->surface) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(buffer->surface);
		free(buffer);
		return NULL;
	}

	cairo_t *cr = cairo_create(buffer->surface);
	set_source_rgb(cr, background);
	cairo_paint(cr);

	PangoLayout *layout = pango_cairo_create_layout(cr);
	PangoFontDescription *font = pango_font_description_from_string(LABEL_FONT);
	pango_layout_set_font_description(layout, font);
	pango_font_description_free(font);
	pango_layout_set_single_paragraph_mode(layout, TRUE);
	pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
	int text_width = width - 2 * LABEL_PADDING;
	if (text_width < 1) {
		text_width = 1;
	}
	pango_layout_set_width(layout, text_width * PANGO_SCALE);
	pango_layout_set_text(layout, text, -1);

	int text_w, text_h;
	pango_layout_get_pixel_size(layout, &text_w, &text_h);
	set_source_rgb(cr, foreground);
	cairo_move_to(cr, LABEL_PADDING, (height - text_h) / 2.0);
	pango_cairo_show_layout(cr, layout);
	g_object_unref(layout);
	cairo_destroy(cr);
	cairo_surface_flush(buffer->surface);

	wlr_buffer_init(&buffer->base, &label_buffer_impl, width, height);
	return buffer;
}

struct tessera_label *tessera_label_create(struct wlr_scene_node *parent) {
	struct tessera_label *label = calloc(1, sizeof(*label));
	if (label == NULL) {
		return NULL;
	}
	label->parent = parent;
	return label;
}

void tessera_label_destroy(struct tessera_label *label) {
	if (label == NULL) {
		return;
	}
	if (label->scene_buffer != NULL) {
		wlr_scene_node_destroy(&label->scene_buffer->node);
	}
	free(label->text);
	free(label);
}

void tessera_label_set(struct tessera_label *label, const char *text,
		uint32_t background, uint32_t foreground, int width, int height) {
	if (label->text != NULL && strcmp(label->text, text) == 0 &&
			label->background == background && label->foreground == foreground &&
			label->width == width && label->height == height) {
		return;
	}
	char *copy = strdup(text);
	if (copy == NULL) {
		return;
	}
	free(label->text);
	label->text = copy;
	label->background = background;
	label->foreground = foreground;
	label->width = width;
	label->height = height;

	if (label->scene_buffer != NULL) {
		wlr_scene_node_destroy(&label->scene_buffer->node);
		label->scene_buffer = NULL;
	}
	if (width <= 0 || height <= 0) {
		return;
	}
	struct label_buffer *buffer = label_render(text, background, foreground,
		width, height);
	if (buffer == NULL) {
		tessera_log(TESSERA_ERROR, "cannot render label '%s'", text);
		return;
	}
	label->scene_buffer = wlr_scene_buffer_create(label->parent, &buffer->base);
	/* The scene node holds its own reference. */
	wlr_buffer_drop(&buffer->base);
	if (label->scene_buffer == NULL) {
		return;
	}
	wlr_scene_node_set_position(&label->scene_buffer->node, label->x, label->y);
}

void tessera_label_set_position(struct tessera_label *label, int x, int y) {
	label->x = x;
	label->y = y;
	if (label->scene_buffer != NULL) {
		wlr_scene_node_set_position(&label->scene_buffer->node, x, y);
	}
}
