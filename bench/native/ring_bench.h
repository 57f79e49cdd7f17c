/* SPDX-License-Identifier: MIT */
/*
 * ring_bench: chan's shared ring header (kmod/chan_ring.h) compiled in user
 * space, against the user-space rings Debian packages, on two threads.
 *
 * Each queue is a struct rb_impl. Its produce() and consume() run the
 * whole timed loop, so that the queue's own push and pop are inlined into
 * it (an indirect call per message would flatten the differences between
 * the fast rings). The loops are written once, in RB_LOOPS() below, and
 * instantiated per queue, message size and mode with constants.
 */
#ifndef RING_BENCH_H
#define RING_BENCH_H

#include <sched.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rb_mode { RB_SPSC, RB_MPSC, RB_MPMC, RB_NR_MODES };

#define RB_MODE_BIT(m)	(1U << (m))
#define RB_ALL_MODES	(RB_MODE_BIT(RB_SPSC) | RB_MODE_BIT(RB_MPSC) | \
			 RB_MODE_BIT(RB_MPMC))

/**
 * struct rb_impl - one queue under test
 * @name: short name (a column of the CSV)
 * @what: how it is used, for the notes
 * @modes: RB_MODE_BIT()s it runs in
 * @peer: 1 for a peer library, 0 for chan itself and the reference ring
 * @create: a queue of @cap slots for @size-byte messages, used in @mode
 * @destroy: free it
 * @produce: send messages 0..n-1 (spinning while full)
 * @consume: receive n messages (spinning while empty); returns how many
 *	arrived out of order or corrupted
 */
struct rb_impl {
	const char *name;
	const char *what;
	unsigned int modes;
	int peer;
	void *(*create)(int mode, unsigned int size, unsigned int cap);
	void (*destroy)(void *q);
	void (*produce)(void *q, int mode, unsigned int size, uint64_t n);
	uint64_t (*consume)(void *q, int mode, unsigned int size, uint64_t n);
};

extern const struct rb_impl rb_chan, rb_chan_fp, rb_chan_spsc, rb_chan_spsc_inline, rb_chan_spsc_fence,
	rb_chan_spsc_v1, rb_chan_spsc_hdr, rb_chan_spsc_compact, rb_chan_spsc_compact_fence, rb_vyukov, rb_ck, rb_urcu, rb_mutex,
	rb_dpdk, rb_boost_queue, rb_boost_spsc, rb_moodycamel;

struct rb_m8 {
	uint64_t seq;
};

struct rb_m64 {
	uint64_t seq;
	unsigned char pad[56];
};

/*
 * Waiting for room or for a message: pause, and after a while give the
 * CPU away (the host is shared; a spinning thread must not starve the
 * thread it waits for if both landed on one core).
 */
static inline void rb_wait(unsigned int *spins)
{
	if (++*spins < 1024) {
		__builtin_ia32_pause();
	} else {
		*spins = 0;
		sched_yield();
	}
}

/*
 * The timed loops of one queue: Q_push(q, mode, &msg) and Q_pop(q, mode,
 * &msg) return non-zero on success, and are inlined with constant mode and
 * message type.
 */
#define RB_LOOPS(Q)							\
static inline __attribute__((always_inline)) void			\
Q##_produce_t(void *q, int mode, uint64_t n, int big)			\
{									\
	struct rb_m64 m;						\
	uint64_t i;							\
									\
	(void)mode;							\
	memset(&m, 0xa5, sizeof(m));					\
	for (i = 0; i < n; i++) {					\
		unsigned int spins = 0;					\
									\
		m.seq = i;						\
		if (big) {						\
			while (!Q##_push64(q, mode, &m))		\
				rb_wait(&spins);			\
		} else {						\
			struct rb_m8 s = { i };				\
									\
			while (!Q##_push8(q, mode, &s))			\
				rb_wait(&spins);			\
		}							\
	}								\
}									\
static inline __attribute__((always_inline)) uint64_t			\
Q##_consume_t(void *q, int mode, uint64_t n, int big)			\
{									\
	uint64_t i, bad = 0;						\
									\
	(void)mode;							\
	for (i = 0; i < n; i++) {					\
		unsigned int spins = 0;					\
									\
		if (big) {						\
			struct rb_m64 m;				\
									\
			while (!Q##_pop64(q, mode, &m))			\
				rb_wait(&spins);			\
			bad += m.seq != i || m.pad[55] != 0xa5;		\
		} else {						\
			struct rb_m8 s;					\
									\
			while (!Q##_pop8(q, mode, &s))			\
				rb_wait(&spins);			\
			bad += s.seq != i;				\
		}							\
	}								\
	return bad;							\
}									\
static void Q##_produce(void *q, int mode, unsigned int size, uint64_t n) \
{									\
	switch (mode * 2 + (size > 8)) {				\
	case RB_SPSC * 2: Q##_produce_t(q, RB_SPSC, n, 0); break;	\
	case RB_SPSC * 2 + 1: Q##_produce_t(q, RB_SPSC, n, 1); break;	\
	case RB_MPSC * 2: Q##_produce_t(q, RB_MPSC, n, 0); break;	\
	case RB_MPSC * 2 + 1: Q##_produce_t(q, RB_MPSC, n, 1); break;	\
	case RB_MPMC * 2: Q##_produce_t(q, RB_MPMC, n, 0); break;	\
	default: Q##_produce_t(q, RB_MPMC, n, 1); break;		\
	}								\
}									\
static uint64_t Q##_consume(void *q, int mode, unsigned int size,	\
			    uint64_t n)					\
{									\
	switch (mode * 2 + (size > 8)) {				\
	case RB_SPSC * 2: return Q##_consume_t(q, RB_SPSC, n, 0);	\
	case RB_SPSC * 2 + 1: return Q##_consume_t(q, RB_SPSC, n, 1);	\
	case RB_MPSC * 2: return Q##_consume_t(q, RB_MPSC, n, 0);	\
	case RB_MPSC * 2 + 1: return Q##_consume_t(q, RB_MPSC, n, 1);	\
	case RB_MPMC * 2: return Q##_consume_t(q, RB_MPMC, n, 0);	\
	default: return Q##_consume_t(q, RB_MPMC, n, 1);		\
	}								\
}

#ifdef __cplusplus
}
#endif

#endif /* RING_BENCH_H */
