#ifndef TESSERA_PLACEMENT_H
#define TESSERA_PLACEMENT_H

struct tessera_view;

/*
 * Moves a view being mapped to the highest, then leftmost spot of the
 * output where its frame covers no other window (with a gap around it),
 * so that new windows cover nothing while there is room; when there is
 * none, they cascade from the top left, each with its title bar in view.
 * A transient window (xdg_toplevel.set_parent: a dialog) goes centred over
 * its parent instead, within the output.
 */
void tessera_place_new_view(struct tessera_view *view);

struct tessera_server;

/*
 * Places again, as new windows, the mapped windows whose frame no output
 * shows any part of (their output went away), so that none is lost off
 * screen; the others stay where they are.
 */
void tessera_place_lost_views(struct tessera_server *server);

#endif
