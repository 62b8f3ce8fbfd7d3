/*
 * What the newer seed generators (gen-*-seeds.c) share: an input being
 * written (integers little-endian, as fuzz_get16() ... read them) and
 * saving it as a file of the corpus directory (seed_dir, set by main()).
 */
#ifndef TESSERA_TESTS_FUZZ_GEN_SEEDS_H
#define TESSERA_TESTS_FUZZ_GEN_SEEDS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_MAX 16384

static const char *seed_dir;
static int seeds_written;
static uint8_t seed[SEED_MAX];
static size_t seed_len;

static inline void put8(uint8_t v) {
	if (seed_len == sizeof(seed)) {
		fprintf(stderr, "seed too long\n");
		exit(1);
	}
	seed[seed_len++] = v;
}

static inline void put16(uint16_t v) {
	put8((uint8_t)v);
	put8((uint8_t)(v >> 8));
}

static inline void put32(uint32_t v) {
	put16((uint16_t)v);
	put16((uint16_t)(v >> 16));
}

static inline void put64(uint64_t v) {
	put32((uint32_t)v);
	put32((uint32_t)(v >> 32));
}

static inline void put_bytes(const void *p, size_t n) {
	for (size_t i = 0; i < n; i++) {
		put8(((const uint8_t *)p)[i]);
	}
}

/* Starts a new seed. */
static inline void seed_start(void) {
	seed_len = 0;
}

/* Writes the seed as seed_dir/name. */
static inline void seed_save(const char *name) {
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(seed, 1, seed_len, f) != seed_len || fclose(f) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	seeds_written++;
}

/* The usual main(): checks the arguments, runs write_seeds(). */
static inline int seed_main(int argc, char *argv[], void (*write_seeds)(void)) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	write_seeds();
	printf("wrote %d seeds\n", seeds_written);
	return 0;
}

#endif
