/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host-side ring tests: the functions of test_*.c, each true on
 * success, which main.c registers with the kselftest harness.
 */
#ifndef RING_TESTS_H
#define RING_TESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "host_util.h"

struct unhelped_case {
	bool send_before_consume;	/* a producer looks at the tail first */
	uint32_t capacity;
};

struct mpmc_config {
	unsigned int producers;
	unsigned int consumers;
	uint32_t capacity;
	uint32_t per_producer;
	uint64_t start;		/* initial cursor position */
};

struct chaos_config {
	unsigned int producers;
	unsigned int consumers;
	unsigned int killers;		/* threads that claim, die and repair */
	uint32_t capacity;
	uint32_t per_producer;
	uint32_t deaths;		/* per killer */
};

/* test_spsc2.c; test_spsc2_threads' arg: the capacity (uint32_t) */
bool test_spsc2_basic(const void *arg);
bool test_spsc2_deaths(const void *arg);
bool test_spsc2_garbage(const void *arg);
bool test_spsc2_threads(const void *arg);
/* test_basic.c */
bool test_empty_recv(const void *arg);
bool test_fill_to_capacity(const void *arg);
bool test_fifo(const void *arg);
bool test_wrap_laps(const void *arg);
bool test_zero_length(const void *arg);
bool test_max_size(const void *arg);
bool test_emsgsize(const void *arg);
bool test_can_send_recv(const void *arg);
/* test_lap_wrap.c */
bool test_lap_diff(const void *arg);
bool test_fifo_across_lap_wrap(const void *arg);
bool test_fifo_across_cursor_wrap(const void *arg);
bool test_repair_at_lap_wrap(const void *arg);
/* test_repair.c; arg: NULL, a struct unhelped_case or chaos_config */
bool test_dead_writer(const void *arg);
bool test_dead_reader(const void *arg);
bool test_dead_reader_of_tombstone(const void *arg);
bool test_writer_dies_before_tail_help(const void *arg);
bool test_reader_dies_before_head_help(const void *arg);
bool test_stale_cursor_states(const void *arg);
bool test_stale_walk(const void *arg);
bool test_repair_under_traffic(const void *arg);
/* test_garbage.c; arg: NULL, or the capacity (uint32_t) */
bool test_garbage_single(const void *arg);
bool test_garbage_concurrent(const void *arg);
/* test_mpmc.c; arg: a struct mpmc_config */
bool test_mpmc(const void *arg);
/* test_stream.c; arg: NULL, or the capacity (uint32_t) */
bool test_stream_claim(const void *arg);
bool test_stream_repair(const void *arg);
bool test_stream_next(const void *arg);
bool test_stream_garbage(const void *arg);
bool test_stream_threads(const void *arg);

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

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

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
