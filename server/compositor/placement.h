#ifndef TESSERA_PLACEMENT_H
#define TESSERA_PLACEMENT_H

struct tessera_view;

/*
 * Moves a view being mapped to the first free spot of the output
 * (scanning a grid from the top left), so that new windows do not cover
 * each other; when the output is full, they cascade.
 */
void tessera_place_new_view(struct tessera_view *view);

#endif
