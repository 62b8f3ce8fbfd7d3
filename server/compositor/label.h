#ifndef TESSERA_LABEL_H
#define TESSERA_LABEL_H

#include <stdint.h>

struct wlr_scene_node;

/*
 * A single line of text rendered by the compositor (pango + cairo) into a
 * scene buffer node. Used for window titles; the text never comes from a
 * client unprefixed, see decoration.c.
 */
struct tessera_label;

struct tessera_label *tessera_label_create(struct wlr_scene_node *parent);
void tessera_label_destroy(struct tessera_label *label);
/*
 * Renders text (valid UTF-8) with the given colours (0xRRGGBB) into a box
 * of width x height pixels; text that does not fit is ellipsized.
 * Does nothing when nothing changed.
 */
void tessera_label_set(struct tessera_label *label, const char *text,
	uint32_t background, uint32_t foreground, int width, int height);
void tessera_label_set_position(struct tessera_label *label, int x, int y);

#endif
