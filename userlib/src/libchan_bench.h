/* SPDX-License-Identifier: MIT */
/*
 * For the native ring benchmark only (bench/native), which measures
 * libchan's fast path itself without a kernel: a handle over memory laid
 * out as a mappable ring (a CHAN_RING_HDR_SIZE header, then the slots),
 * with no channel fd. It is in the static library but not in
 * libchan.map, so the shared library does not export it.
 */
#ifndef LIBCHAN_BENCH_H
#define LIBCHAN_BENCH_H

#include <stdbool.h>
#include <stdint.h>

struct chan_ep;

/*
 * A handle on the ring at @mem for @roles, claiming with @token (2..65535).
 * Nothing sleeps in a kernel on such a ring, so no wake-up is ever asked;
 * where the fast path would enter the kernel (a full or empty ring for a
 * caller that would wait), it fails instead (the fd is -1).
 */
int chan_ep_attach_ring(struct chan_ep **epp, void *mem, uint32_t msg_size,
			uint32_t capacity, unsigned int roles, uint32_t token);

/*
 * The same, for the one sender or receiver of a CHAN_CREATE_SPSC ring;
 * @fenced false leaves out the full barrier before the waiter count, which
 * every real handle has: not correct against a sleeping peer, only a
 * measure of what that barrier costs.
 */
int chan_ep_attach_ring_spsc(struct chan_ep **epp, void *mem,
			     uint32_t msg_size, uint32_t capacity,
			     unsigned int roles, uint32_t token, bool fenced);

/*
 * The same on a compact SPSC ring (kmod/chan_spsc_ring.h, what a
 * CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE channel maps): @mem is laid out
 * as one, a CHAN_RING_HDR_SIZE header and then chan_spsc_ring_size()
 * bytes of lengths and packed payload slots; no token is written.
 */
int chan_ep_attach_ring_compact(struct chan_ep **epp, void *mem,
				uint32_t msg_size, uint32_t capacity,
				unsigned int roles, bool fenced);

#endif /* LIBCHAN_BENCH_H */
