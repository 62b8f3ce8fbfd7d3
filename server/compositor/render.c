/*
 * Drawing the scene on an output with the pixman renderer.
 *
 * wlroots 0.15's wlr_scene_output_commit() draws every node that meets
 * the damage, bottom to top, and its pixman renderer draws each texture
 * as a transformed composite (a solid mask, a matrix turned into a pixman
 * transform that is seldom exactly a translation): pixman's generic
 * nearest-neighbour path, per pixel, even for an unscaled opaque window.
 * With many windows that is most of tessera's time.
 *
 * Here, when every enabled node is an image shown 1:1 or a solid rectangle
 * (the usual case: windows, their frames and title bars; a surface cropped
 * by a viewport source rectangle of its own size counts: vmd crops
 * client-side decorated VM windows to their geometry so) and the output is
 * not transformed, the damage is drawn with pixman blits (SRC for opaque
 * pixels, OVER otherwise) at integer offsets, and nothing is drawn under
 * what an opaque node covers. On an output of scale 2 or 4 (HiDPI), "1:1"
 * is one buffer pixel per output pixel (a client's buffer_scale equal to
 * the output's), and a surface of 1/2 or 1/4 of that resolution (a
 * scale-1 client) is blown up with pixman's nearest filter, as wlroots'
 * pixman renderer draws it; a buffer node (a title bar) is drawn at its
 * buffer's size in output pixels, as wlroots 0.15's scene draws it; a
 * cropped surface keeps its crop, which wlroots 0.15's drawing ignores. Otherwise (a buffer scaled by
 * another ratio, transformed, without CPU access; another output scale
 * or transform) the frame goes to wlr_scene_output_commit(), which also
 * tries direct scan-out of a buffer covering the whole output; the blits
 * always draw.
 * TESSERA_WLROOTS_RENDER=1 sends every frame to wlroots, to compare
 * (tests/bench/test_render.py). Buffers are read between
 * wlr_buffer_begin/end_data_ptr_access(), one at a time, as wlroots'
 * renderer does (for wl_shm: the SIGBUS guard against a client that
 * shrinks its pool).
 */
#include <pixman.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_damage.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_surface.h>
#include <wlr/util/region.h>

#include "pixman-format.h"
#include "render.h"

/* One node to draw, in output coordinates. */
struct render_item {
	pixman_box32_t box;
	pixman_op_t op;
	/* a solid rectangle when buffer is NULL */
	pixman_color_t color;
	/* else this buffer's memory, through the texture's image over it
	 * (surface) or an image made when drawing (buffer node) */
	struct wlr_buffer *buffer;
	int src_x, src_y; /* where box's top left corner is in the buffer */
	int zoom; /* output pixels per buffer pixel, each way: 1, 2 or 4 */
	pixman_format_code_t format;
	pixman_image_t *texture_image;
	pixman_region32_t opaque; /* what it hides, output coordinates */
	pixman_region32_t visible; /* what of it to draw */
};

struct render_list {
	struct render_item *items;
	size_t count, capacity;
	bool ok;
	int scale; /* the output's: output pixels per layout unit */
};

/*
 * The zoom at which an image of buffer_size pixels fills size layout units
 * on the list's output: 1, 2 or 4 (pixman's nearest filter is exact for
 * these), else 0.
 */
static int zoom_of(const struct render_list *list, double buffer_size, int size) {
	for (int zoom = 1; zoom <= 4; zoom *= 2) {
		if (buffer_size * zoom == (double)size * list->scale) {
			return zoom;
		}
	}
	return 0;
}

/* An item of width x height output pixels at x, y (output pixels). */
static struct render_item *list_add_pixels(struct render_list *list, int x, int y,
		int width, int height) {
	if (list->count == list->capacity) {
		size_t capacity = list->capacity == 0 ? 64 : list->capacity * 2;
		struct render_item *items = realloc(list->items, capacity * sizeof(*items));
		if (items == NULL) {
			return NULL;
		}
		list->items = items;
		list->capacity = capacity;
	}
	struct render_item *item = &list->items[list->count++];
	*item = (struct render_item){
		.box = { x, y, x + width, y + height },
		.op = PIXMAN_OP_OVER,
		.zoom = 1,
	};
	pixman_region32_init(&item->opaque);
	pixman_region32_init(&item->visible);
	return item;
}

/* An item covering width x height layout units at x, y. */
static struct render_item *list_add(struct render_list *list, int x, int y,
		int width, int height) {
	return list_add_pixels(list, x * list->scale, y * list->scale, width * list->scale,
		height * list->scale);
}

static void item_finish(struct render_item *item) {
	pixman_region32_fini(&item->opaque);
	pixman_region32_fini(&item->visible);
}

/* A surface whose buffer is shown 1:1: its pixman texture, read through
 * the client buffer it was made from. */
static bool add_surface(struct render_list *list, struct wlr_scene_surface *scene_surface,
		int x, int y) {
	struct wlr_surface *surface = scene_surface->surface;
	struct wlr_texture *texture = wlr_surface_get_texture(surface);
	if (texture == NULL) {
		return true; /* nothing to draw, as in wlroots */
	}
	int width = surface->current.width, height = surface->current.height;
	/* the part of the buffer shown: all of it, or a viewport's source
	 * rectangle (vmd crops a VM window to its geometry so) */
	struct wlr_fbox src;
	wlr_surface_get_buffer_source_box(surface, &src);
	int zoom = zoom_of(list, src.width, width);
	if (!wlr_texture_is_pixman(texture) || surface->buffer == NULL ||
			surface->buffer->source == NULL ||
			surface->current.transform != WL_OUTPUT_TRANSFORM_NORMAL ||
			zoom == 0 || zoom_of(list, src.height, height) != zoom ||
			src.x != (int)src.x || src.y != (int)src.y || src.x < 0 || src.y < 0 ||
			src.x + src.width > texture->width || src.y + src.height > texture->height) {
		return false;
	}
	struct render_item *item = list_add(list, x, y, width, height);
	if (item == NULL) {
		return false;
	}
	item->src_x = (int)src.x;
	item->src_y = (int)src.y;
	item->zoom = zoom;
	/* The texture must still show the buffer's memory (wlroots re-creates
	 * its image when a wl_shm pool was resized). One buffer at a time is
	 * open: wl_shm allows no more. */
	item->buffer = surface->buffer->source;
	item->texture_image = wlr_pixman_texture_get_image(texture);
	void *data;
	uint32_t format;
	size_t stride;
	if (item->texture_image == NULL || !wlr_buffer_begin_data_ptr_access(item->buffer,
			WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride)) {
		return false;
	}
	bool same = pixman_image_get_data(item->texture_image) == data;
	wlr_buffer_end_data_ptr_access(item->buffer);
	if (!same) {
		return false;
	}
	const pixman_box32_t *box = &item->box;
	if (wlr_texture_is_opaque(texture)) {
		item->op = PIXMAN_OP_SRC;
		pixman_region32_union_rect(&item->opaque, &item->opaque, box->x1, box->y1,
			box->x2 - box->x1, box->y2 - box->y1);
	} else {
		wlr_region_scale(&item->opaque, &surface->opaque_region, (float)list->scale);
		pixman_region32_translate(&item->opaque, box->x1, box->y1);
		pixman_region32_intersect_rect(&item->opaque, &item->opaque, box->x1, box->y1,
			box->x2 - box->x1, box->y2 - box->y1);
	}
	return true;
}

/* A buffer node (tessera's title bars) shown 1:1. */
static bool add_buffer(struct render_list *list, struct wlr_scene_buffer *scene_buffer,
		int x, int y) {
	struct wlr_buffer *buffer = scene_buffer->buffer;
	if (buffer == NULL) {
		return false;
	}
	/* wlroots 0.15 draws a buffer node at its buffer's size in output
	 * pixels, whatever the output's scale: so here too */
	if (scene_buffer->transform != WL_OUTPUT_TRANSFORM_NORMAL ||
			!wlr_fbox_empty(&scene_buffer->src_box) ||
			(scene_buffer->dst_width > 0 && (list->scale != 1 ||
				scene_buffer->dst_width != buffer->width)) ||
			(scene_buffer->dst_height > 0 && (list->scale != 1 ||
				scene_buffer->dst_height != buffer->height))) {
		return false;
	}
	struct render_item *item = list_add_pixels(list, x * list->scale, y * list->scale,
		buffer->width, buffer->height);
	if (item == NULL) {
		return false;
	}
	void *data;
	uint32_t format;
	size_t stride;
	if (!wlr_buffer_begin_data_ptr_access(buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ,
			&data, &format, &stride)) {
		return false;
	}
	wlr_buffer_end_data_ptr_access(buffer);
	item->buffer = buffer;
	item->format = tessera_pixman_format_from_drm(format);
	if (item->format == 0) {
		return false;
	}
	if (PIXMAN_FORMAT_A(item->format) == 0) {
		item->op = PIXMAN_OP_SRC;
		pixman_region32_union_rect(&item->opaque, &item->opaque, item->box.x1,
			item->box.y1, item->box.x2 - item->box.x1, item->box.y2 - item->box.y1);
	}
	return true;
}

static void add_rect(struct render_list *list, struct wlr_scene_rect *rect, int x, int y) {
	struct render_item *item = list_add(list, x, y, rect->width, rect->height);
	if (item == NULL) {
		list->ok = false;
		return;
	}
	/* the conversion of wlroots' pixman renderer */
	item->color = (pixman_color_t){
		.red = (uint16_t)(rect->color[0] * 0xffff),
		.green = (uint16_t)(rect->color[1] * 0xffff),
		.blue = (uint16_t)(rect->color[2] * 0xffff),
		.alpha = (uint16_t)(rect->color[3] * 0xffff),
	};
	if (item->color.alpha == 0xffff) {
		item->op = PIXMAN_OP_SRC;
		pixman_region32_union_rect(&item->opaque, &item->opaque, item->box.x1,
			item->box.y1, item->box.x2 - item->box.x1, item->box.y2 - item->box.y1);
	}
}

/* Every enabled node with something to show, bottom to top (the order in
 * which wlroots draws them); list->ok false when one needs wlroots. */
static void collect(struct render_list *list, struct wlr_scene_node *node, int x, int y) {
	if (!node->state.enabled || !list->ok) {
		return;
	}
	x += node->state.x;
	y += node->state.y;
	switch (node->type) {
	case WLR_SCENE_NODE_ROOT:
	case WLR_SCENE_NODE_TREE:
		break;
	case WLR_SCENE_NODE_SURFACE:;
		struct wlr_scene_surface *scene_surface = wlr_scene_surface_from_node(node);
		list->ok = add_surface(list, scene_surface, x, y);
		break;
	case WLR_SCENE_NODE_RECT:;
		struct wlr_scene_rect *rect = wl_container_of(node, rect, node);
		if (rect->width > 0 && rect->height > 0) {
			add_rect(list, rect, x, y);
		}
		break;
	case WLR_SCENE_NODE_BUFFER:;
		struct wlr_scene_buffer *scene_buffer = wl_container_of(node, scene_buffer, node);
		if (scene_buffer->buffer != NULL) {
			list->ok = add_buffer(list, scene_buffer, x, y);
		}
		break;
	}
	struct wlr_scene_node *child;
	wl_list_for_each(child, &node->state.children, state.link) {
		collect(list, child, x, y);
	}
}

static void fill(pixman_image_t *target, pixman_op_t op, const pixman_color_t *color,
		pixman_region32_t *region) {
	int n;
	pixman_box32_t *boxes = pixman_region32_rectangles(region, &n);
	if (n > 0) {
		pixman_image_fill_boxes(op, target, color, n, boxes);
	}
}

static void draw_buffer(pixman_image_t *target, struct render_item *item) {
	void *data;
	uint32_t format;
	size_t stride;
	if (!wlr_buffer_begin_data_ptr_access(item->buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ,
			&data, &format, &stride)) {
		return; /* checked when collected: cannot happen */
	}
	pixman_image_t *image = item->texture_image;
	if (image == NULL || item->zoom > 1) {
		/* zoomed: an image of its own, the texture's keeps its state */
		pixman_format_code_t pixman_format = image != NULL ?
			pixman_image_get_format(image) : item->format;
		image = pixman_image_create_bits_no_clear(pixman_format, item->buffer->width,
			item->buffer->height, data, (int)stride);
	}
	if (image != NULL && item->zoom > 1) {
		/* output pixel (x, y) shows buffer pixel (x / zoom, y / zoom) */
		pixman_transform_t transform;
		pixman_transform_init_scale(&transform, pixman_int_to_fixed(1) / item->zoom,
			pixman_int_to_fixed(1) / item->zoom);
		pixman_image_set_transform(image, &transform);
		pixman_image_set_filter(image, PIXMAN_FILTER_NEAREST, NULL, 0);
	}
	int n;
	pixman_box32_t *boxes = pixman_region32_rectangles(&item->visible, &n);
	for (int j = 0; image != NULL && j < n; j++) {
		pixman_image_composite32(item->op, image, NULL, target,
			boxes[j].x1 - item->box.x1 + item->src_x * item->zoom,
			boxes[j].y1 - item->box.y1 + item->src_y * item->zoom, 0, 0,
			boxes[j].x1, boxes[j].y1, boxes[j].x2 - boxes[j].x1, boxes[j].y2 - boxes[j].y1);
	}
	if (image != NULL && image != item->texture_image) {
		pixman_image_unref(image);
	}
	wlr_buffer_end_data_ptr_access(item->buffer);
}

/* Draws the damage: each node what no opaque node above it covers, the
 * background where none does. */
static void draw_list(struct render_list *list, pixman_image_t *target,
		const pixman_region32_t *damage) {
	pixman_region32_t uncovered;
	pixman_region32_init(&uncovered);
	pixman_region32_copy(&uncovered, (pixman_region32_t *)damage);
	for (size_t i = list->count; i-- > 0;) {
		struct render_item *item = &list->items[i];
		pixman_region32_intersect_rect(&item->visible, &uncovered, item->box.x1,
			item->box.y1, item->box.x2 - item->box.x1, item->box.y2 - item->box.y1);
		pixman_region32_subtract(&uncovered, &uncovered, &item->opaque);
	}
	fill(target, PIXMAN_OP_SRC, &(pixman_color_t){ .alpha = 0xffff }, &uncovered);
	pixman_region32_fini(&uncovered);
	for (size_t i = 0; i < list->count; i++) {
		struct render_item *item = &list->items[i];
		if (item->buffer == NULL) {
			fill(target, item->op, &item->color, &item->visible);
		} else if (pixman_region32_not_empty(&item->visible)) {
			draw_buffer(target, item);
		}
	}
}

static void list_finish(struct render_list *list) {
	for (size_t i = 0; i < list->count; i++) {
		item_finish(&list->items[i]);
	}
	free(list->items);
}

/* What wlroots' drawing does for presentation feedback: every enabled
 * surface whose primary output this is was sampled for the frame. */
static void mark_sampled(struct wlr_scene_node *node, struct wlr_presentation *presentation,
		struct wlr_output *output) {
	if (!node->state.enabled) {
		return;
	}
	if (node->type == WLR_SCENE_NODE_SURFACE) {
		struct wlr_scene_surface *scene_surface = wlr_scene_surface_from_node(node);
		if (scene_surface->primary_output == output &&
				wlr_surface_get_texture(scene_surface->surface) != NULL) {
			wlr_presentation_surface_sampled_on_output(presentation,
				scene_surface->surface, output);
		}
	}
	struct wlr_scene_node *child;
	wl_list_for_each(child, &node->state.children, state.link) {
		mark_sampled(child, presentation, output);
	}
}

/* TESSERA_WLROOTS_RENDER=1: every frame the wlroots way (to compare). */
static bool wlroots_only(void) {
	static int only = -1;
	if (only < 0) {
		const char *env = getenv("TESSERA_WLROOTS_RENDER");
		only = env != NULL && strcmp(env, "1") == 0;
	}
	return only;
}

bool tessera_render_scene_output(struct wlr_scene_output *scene_output) {
	struct wlr_output *output = scene_output->output;
	struct wlr_renderer *renderer = output->renderer;
	struct wlr_scene *scene = scene_output->scene;
	if (renderer == NULL || !wlr_renderer_is_pixman(renderer) || wlroots_only() ||
			(output->scale != 1.0f && output->scale != 2.0f && output->scale != 4.0f) ||
			output->transform != WL_OUTPUT_TRANSFORM_NORMAL) {
		return wlr_scene_output_commit(scene_output);
	}
	/* every node a blit, or the whole frame the wlroots way */
	struct render_list list = { .ok = true, .scale = (int)output->scale };
	collect(&list, &scene->node, -scene_output->x, -scene_output->y);
	if (!list.ok) {
		list_finish(&list);
		return wlr_scene_output_commit(scene_output);
	}

	bool needs_frame;
	pixman_region32_t damage;
	pixman_region32_init(&damage);
	if (!wlr_output_damage_attach_render(scene_output->damage, &needs_frame, &damage) ||
			!needs_frame) {
		pixman_region32_fini(&damage);
		list_finish(&list);
		if (!needs_frame) {
			wlr_output_rollback(output);
			return true;
		}
		return false;
	}
	wlr_renderer_begin(renderer, output->width, output->height);
	wlr_renderer_scissor(renderer, NULL);
	pixman_image_t *target = wlr_pixman_renderer_get_current_image(renderer);
	if (target != NULL) {
		draw_list(&list, target, &damage);
	}
	list_finish(&list);
	wlr_output_render_software_cursors(output, &damage);
	wlr_renderer_end(renderer);
	pixman_region32_fini(&damage);
	if (target == NULL) {
		wlr_output_rollback(output);
		return false;
	}
	if (scene->presentation != NULL) {
		mark_sampled(&scene->node, scene->presentation, output);
	}

	int width, height;
	wlr_output_transformed_resolution(output, &width, &height);
	pixman_region32_t frame_damage;
	pixman_region32_init(&frame_damage);
	wlr_region_transform(&frame_damage, &scene_output->damage->current,
		wlr_output_transform_invert(output->transform), width, height);
	wlr_output_set_damage(output, &frame_damage);
	pixman_region32_fini(&frame_damage);
	return wlr_output_commit(output);
}
