// SPDX-License-Identifier: MIT
/* Helpers that need no kernel: the clock for deadlines, type tags. */
#include <time.h>

#include "libchan_private.h"

uint64_t chan_now_ns(void)
{
	int saved = errno;
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	errno = saved;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#define FNV1A64_OFFSET	0xcbf29ce484222325ULL
#define FNV1A64_PRIME	0x00000100000001b3ULL

static uint64_t fnv1a64_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV1A64_PRIME;
}

uint64_t chan_type_tag(const char *type_name, size_t size)
{
	uint64_t h = FNV1A64_OFFSET;
	uint64_t sz = size;
	const unsigned char *p;
	int i;

	for (p = (const unsigned char *)(type_name ? type_name : ""); *p; p++)
		h = fnv1a64_byte(h, *p);
	/* The size as 8 little-endian bytes, so the tag is the same on any host. */
	for (i = 0; i < 8; i++, sz >>= 8)
		h = fnv1a64_byte(h, (unsigned char)sz);
	/* 0 means "no type" in the ABI. */
	return h ? h : FNV1A64_OFFSET;
}
