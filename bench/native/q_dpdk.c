// SPDX-License-Identifier: MIT
/*
 * DPDK's rte_ring with the element API (8- and 64-byte elements copied in
 * place), on memory we allocate: rte_ring_init() needs no EAL. The ring is
 * set single- or multi-producer/consumer per mode and driven with the
 * matching sp/mp, sc/mc calls. Holds capacity-1 (no RING_F_EXACT_SZ).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ring_bench.h"

static void *dq_create(int mode, unsigned int size, unsigned int cap)
{
	unsigned int flags = 0;
	ssize_t bytes = rte_ring_get_memsize_elem(size, cap);
	struct rte_ring *r;

	if (bytes < 0)
		abort();
	r = aligned_alloc(4096, ((size_t)bytes + 4095) & ~(size_t)4095);
	if (!r)
		abort();
	memset(r, 0, (size_t)bytes);
	if (mode == RB_SPSC)
		flags = RING_F_SP_ENQ | RING_F_SC_DEQ;
	else if (mode == RB_MPSC)
		flags = RING_F_SC_DEQ;
	if (rte_ring_init(r, "bench", cap, flags))
		abort();
	return r;
}

static void dq_destroy(void *q)
{
	free(q);
}

static inline __attribute__((always_inline)) int
dq_push(struct rte_ring *r, int mode, void *m, unsigned int size)
{
	if (mode == RB_SPSC)
		return !rte_ring_sp_enqueue_elem(r, m, size);
	return !rte_ring_mp_enqueue_elem(r, m, size);
}

static inline __attribute__((always_inline)) int
dq_pop(struct rte_ring *r, int mode, void *m, unsigned int size)
{
	if (mode == RB_MPMC)
		return !rte_ring_mc_dequeue_elem(r, m, size);
	return !rte_ring_sc_dequeue_elem(r, m, size);
}

#define dq_push8(q, mode, m)	dq_push(q, mode, m, 8)
#define dq_push64(q, mode, m)	dq_push(q, mode, m, 64)
#define dq_pop8(q, mode, m)	dq_pop(q, mode, m, 8)
#define dq_pop64(q, mode, m)	dq_pop(q, mode, m, 64)
RB_LOOPS(dq)

const struct rb_impl rb_dpdk = {
	"rte_ring", "DPDK rte_ring element API, sp/mp enqueue and sc/mc dequeue per mode; holds capacity-1",
	RB_ALL_MODES, 1, dq_create, dq_destroy, dq_produce, dq_consume,
};
