/*
 * Prints the rows of protocol/guest-globals.h for the tests that check
 * each side against it: "guest-globals vm|vm-only|guest" prints the
 * interfaces marked so, one per line.
 */
#include <stdio.h>
#include <string.h>

#include "guest-globals.h"

int main(int argc, char *argv[]) {
	static const struct {
		const char *name;
		unsigned int side;
	} sides[] = {
		{ "vm", TESSERA_GLOBAL_VM },
		{ "vm-only", TESSERA_GLOBAL_VM_ONLY },
		{ "guest", TESSERA_GLOBAL_GUEST },
	};
	for (size_t i = 0; argc == 2 && i < sizeof(sides) / sizeof(sides[0]); i++) {
		if (strcmp(argv[1], sides[i].name) != 0) {
			continue;
		}
		size_t n = sizeof(tessera_guest_globals) / sizeof(tessera_guest_globals[0]);
		for (size_t j = 0; j < n; j++) {
			if (tessera_guest_globals[j].sides & sides[i].side) {
				printf("%s\n", tessera_guest_globals[j].interface);
			}
		}
		return 0;
	}
	fprintf(stderr, "usage: %s vm|vm-only|guest\n", argv[0]);
	return 2;
}
