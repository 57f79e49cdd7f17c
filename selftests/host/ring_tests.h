/* SPDX-License-Identifier: GPL-2.0 */
/* The host-side ring tests, one table per file, gathered by main.c. */
#ifndef RING_TESTS_H
#define RING_TESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "host_tap.h"

extern const struct host_test basic_tests[];
extern const unsigned int basic_tests_count;
extern const struct host_test mpmc_tests[];
extern const unsigned int mpmc_tests_count;
extern const struct host_test repair_tests[];
extern const unsigned int repair_tests_count;
extern const struct host_test lap_wrap_tests[];
extern const unsigned int lap_wrap_tests_count;
extern const struct host_test garbage_tests[];
extern const unsigned int garbage_tests_count;

/* test_basic.c: FIFO traffic at random depths from cursor position start. */
bool ring_fifo_run(uint32_t cap, uint32_t msg_size, uint64_t start,
		   uint64_t total, uint64_t seed);

/*
 * test_basic.c: chan_ring_can_send() and chan_ring_can_recv() predict what
 * a claim does in the ring's present state (tried, then undone), and no
 * claim hits the retry bound.
 */
struct ring_fixture;
bool ring_can_agrees(struct ring_fixture *f, const char *state);

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Deterministic payload bytes for message tag, and their check. */
static inline unsigned char msg_byte(uint64_t tag, uint32_t i)
{
	return (unsigned char)((tag * 0x9e3779b97f4a7c15ULL >> 56) + i * 7 + (i >> 8));
}

static inline void msg_fill(void *buf, uint32_t len, uint64_t tag)
{
	unsigned char *p = buf;
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = msg_byte(tag, i);
}

/* Index of the first wrong byte, or len if all are right. */
static inline uint32_t msg_verify(const void *buf, uint32_t len, uint64_t tag)
{
	const unsigned char *p = buf;
	uint32_t i;

	for (i = 0; i < len; i++)
		if (p[i] != msg_byte(tag, i))
			break;
	return i;
}

#endif /* RING_TESTS_H */
