#ifndef TESSERA_RENDER_H
#define TESSERA_RENDER_H

#include <stdbool.h>

struct wlr_scene_output;

/*
 * wlr_scene_output_commit(), drawn with pixman blits where wlroots 0.15's
 * pixman renderer would take its slow transformed path, and without what
 * opaque nodes hide (render.c). Other renderers: wlr_scene_output_commit().
 */
bool tessera_render_scene_output(struct wlr_scene_output *scene_output);

#endif
