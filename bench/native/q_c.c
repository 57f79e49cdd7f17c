// SPDX-License-Identifier: MIT
/*
 * The queues written in C: chan's ring, libchan's fast path on it, a
 * textbook per-slot-sequence ring for reference, Concurrency Kit's ck_ring, liburcu's wfcqueue and the
 * mutex+condvar floor.
 */
#define _GNU_SOURCE
#define _LGPL_SOURCE		/* liburcu: inline the queue operations */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <ck_ring.h>
#include <urcu/wfcqueue.h>

#include "chan_ring.h"
#include "chan_spsc.h"
#include "chan_spsc_ring.h"
#include "libchan.h"
#include "libchan_bench.h"
#include "ring_bench.h"

static void *zalloc_aligned(size_t size)
{
	void *p = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);

	if (!p)
		abort();
	memset(p, 0, size);
	return p;
}

/* ------------------------------------------------------------------------ */
/*
 * chan: the ring exactly as libchan drives a mapped ring: claim, copy,
 * publish; claim, copy, retire; each thread with its own owner token.
 * The ring has a single MPMC protocol, so every mode runs the same code.
 */
struct chanq {
	struct chan_ring_view v;
	void *mem;
};

#define CHAN_TOKEN_PRODUCER	(CHAN_OWNER_KERNEL + 1)
#define CHAN_TOKEN_CONSUMER	(CHAN_OWNER_KERNEL + 2)

static void *chanq_create(int mode, unsigned int size, unsigned int cap)
{
	struct chanq *q = zalloc_aligned(sizeof(*q));
	__u32 slot = chan_ring_slot_size(size);
	struct chan_ring_hdr *h;

	(void)mode;
	q->mem = zalloc_aligned(CHAN_RING_HDR_SIZE + (size_t)cap * slot);
	h = q->mem;
	h->magic = CHAN_RING_MAGIC;
	h->version = CHAN_RING_VERSION;
	h->msg_size = size;
	h->slot_size = slot;
	h->capacity = cap;
	h->capacity_shift = __builtin_ctz(cap);
	h->slots_offset = CHAN_RING_HDR_SIZE;
	q->v.hdr = h;
	q->v.slots = (unsigned char *)q->mem + CHAN_RING_HDR_SIZE;
	q->v.mask = cap - 1;
	q->v.shift = __builtin_ctz(cap);
	q->v.slot_size = slot;
	q->v.msg_size = size;
	return q;
}

static void chanq_destroy(void *p)
{
	struct chanq *q = p;

	free(q->mem);
	free(q);
}

static inline __attribute__((always_inline)) int
chanq_push(struct chanq *q, const void *m, unsigned int size)
{
	struct chan_slot *s;
	__s64 pos;

	s = chan_ring_claim_send(&q->v, CHAN_TOKEN_PRODUCER, &pos);
	if (!s) {
		if (pos != -EAGAIN)
			abort();
		return 0;
	}
	memcpy(s->data, m, size);
	chan_ring_publish(&q->v, s, (__u64)pos, size, CHAN_TOKEN_PRODUCER);
	return 1;
}

static inline __attribute__((always_inline)) int
chanq_pop(struct chanq *q, void *m, unsigned int size)
{
	struct chan_slot *s;
	__u32 len;
	__s64 pos;

	s = chan_ring_claim_recv(&q->v, CHAN_TOKEN_CONSUMER, size, &pos, &len);
	if (!s) {
		if (pos != -EAGAIN)
			abort();
		return 0;
	}
	memcpy(m, s->data, size);
	chan_ring_retire(&q->v, s, (__u64)pos);
	return len == size;
}

#define chanq_push8(q, mode, m)		chanq_push(q, m, 8)
#define chanq_push64(q, mode, m)	chanq_push(q, m, 64)
#define chanq_pop8(q, mode, m)		chanq_pop(q, m, 8)
#define chanq_pop64(q, mode, m)		chanq_pop(q, m, 64)
RB_LOOPS(chanq)

const struct rb_impl rb_chan = {
	"chan", "kmod/chan_ring.h: claim/publish, claim_recv/retire, owner tokens (one MPMC protocol for every mode)",
	RB_ALL_MODES, 0, chanq_create, chanq_destroy, chanq_produce,
	chanq_consume,
};

/* ------------------------------------------------------------------------ */
/*
 * libchan's fast path itself: chan_ep_try_send() and chan_ep_try_recv()
 * of libchan.a (userlib/src/ep.c), on ordinary memory laid out as a
 * mappable ring (the header page, then the slots: chanq_create() above),
 * through handles made by chan_ep_attach_ring(). Each call runs what a
 * mapped handle runs: the handle's checks, the kernel state word, claim,
 * copy, publish (retire), the statistics, a full barrier and the other
 * side's waiter count. No one sleeps in a kernel here, so the counts stay
 * zero and no wake-up is asked; a full or empty ring is -EAGAIN without a
 * system call, and the harness's spin-wait takes over, as for every queue.
 */
struct fpq {
	struct chanq *ring;
	struct chan_ep *send_ep;
	struct chan_ep *recv_ep;
};

static void *fpq_create(int mode, unsigned int size, unsigned int cap)
{
	struct fpq *q = zalloc_aligned(sizeof(*q));

	q->ring = chanq_create(mode, size, cap);
	if (chan_ep_attach_ring(&q->send_ep, q->ring->mem, size, cap,
				CHAN_ROLE_SEND, CHAN_TOKEN_PRODUCER) ||
	    chan_ep_attach_ring(&q->recv_ep, q->ring->mem, size, cap,
				CHAN_ROLE_RECV, CHAN_TOKEN_CONSUMER))
		abort();
	return q;
}

static void fpq_destroy(void *p)
{
	struct fpq *q = p;

	chan_ep_close(q->send_ep);
	chan_ep_close(q->recv_ep);
	chanq_destroy(q->ring);
	free(q);
}

/* A try's result as the loops want it: 1 done, 0 full (empty), or abort. */
static inline __attribute__((always_inline)) int fp_sent(int ret)
{
	return !ret ? 1 : ret == -EAGAIN ? 0 : (abort(), 0);
}

static inline __attribute__((always_inline)) int
fp_received(ssize_t n, unsigned int size)
{
	return n == (ssize_t)size ? 1 : n == -EAGAIN ? 0 : (abort(), 0);
}

static inline __attribute__((always_inline)) int
fpq_push(struct fpq *q, const void *m, unsigned int size)
{
	return fp_sent(chan_ep_try_send(q->send_ep, m, size));
}

static inline __attribute__((always_inline)) int
fpq_pop(struct fpq *q, void *m, unsigned int size)
{
	return fp_received(chan_ep_try_recv(q->recv_ep, m, size), size);
}

#define fpq_push8(q, mode, m)	fpq_push(q, m, 8)
#define fpq_push64(q, mode, m)	fpq_push(q, m, 64)
#define fpq_pop8(q, mode, m)	fpq_pop(q, m, 8)
#define fpq_pop64(q, mode, m)	fpq_pop(q, m, 64)
RB_LOOPS(fpq)

const struct rb_impl rb_chan_fp = {
	"libchan-fp", "libchan's fast path itself (libchan.a's chan_ep_try_send/chan_ep_try_recv on a ring laid out as a mapped one: handle checks, state word, claim/publish, claim/retire, statistics, full barrier, waiter count; one MPMC protocol for every mode)",
	RB_ALL_MODES, 0, fpq_create, fpq_destroy, fpq_produce, fpq_consume,
};

/* ------------------------------------------------------------------------ */
/*
 * libchan's SPSC fast path (a CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE
 * channel's handles): the same calls as libchan-fp, through handles that
 * run the compact ring of kmod/chan_spsc_ring.h (packed slots, no state
 * words, no compare-and-swap, each party stores its own cursor); the
 * kernel state word, the sampled depth and the waiter count, read with no
 * barrier before it (the kernel's sleeper forces one instead). The ring
 * memory is chanq_create()'s, checked to be at least as large as a
 * compact ring of the same geometry (it is at ring_bench's capacity; at
 * capacity 1 or 2 it would not be). SPSC only.
 */
static void *fpsq_create_f(int mode, unsigned int size, unsigned int cap,
			   bool fenced)
{
	struct fpq *q = zalloc_aligned(sizeof(*q));

	q->ring = chanq_create(mode, size, cap);
	if (chan_spsc_ring_size(cap, size) >
	    (__u64)cap * chan_ring_slot_size(size))
		abort();
	if (chan_ep_attach_ring_compact(&q->send_ep, q->ring->mem, size, cap,
					CHAN_ROLE_SEND, fenced) ||
	    chan_ep_attach_ring_compact(&q->recv_ep, q->ring->mem, size, cap,
					CHAN_ROLE_RECV, fenced))
		abort();
	return q;
}

/*
 * libchan's SPSC handles on the common layout (kmod/chan_spsc.h, slot
 * state words), what they run on a kernel without CHAN_FEAT_SPSC_COMPACT
 * and what libchan-spsc measured before the compact ring: a comparison
 * row.
 */
static void *fpsv1q_create(int mode, unsigned int size, unsigned int cap)
{
	struct fpq *q = zalloc_aligned(sizeof(*q));

	q->ring = chanq_create(mode, size, cap);
	if (chan_ep_attach_ring_spsc(&q->send_ep, q->ring->mem, size, cap,
				     CHAN_ROLE_SEND, CHAN_TOKEN_PRODUCER,
				     true) ||
	    chan_ep_attach_ring_spsc(&q->recv_ep, q->ring->mem, size, cap,
				     CHAN_ROLE_RECV, CHAN_TOKEN_CONSUMER,
				     true))
		abort();
	return q;
}

const struct rb_impl rb_chan_spsc_v1 = {
	"libchan-spsc-v1", "libchan's SPSC handles on the common ring layout (kmod/chan_spsc.h: slot states, no CAS; state word, full barrier and waiter count as libchan-fp): libchan-spsc before the compact ring, and on older kernels",
	RB_MODE_BIT(RB_SPSC), 0, fpsv1q_create, fpq_destroy, fpq_produce,
	fpq_consume,
};

static void *fpsq_create(int mode, unsigned int size, unsigned int cap)
{
	return fpsq_create_f(mode, size, cap, false);
}

static void *fpsfq_create(int mode, unsigned int size, unsigned int cap)
{
	return fpsq_create_f(mode, size, cap, true);
}

const struct rb_impl rb_chan_spsc = {
	"libchan-spsc", "libchan's SPSC fast path (a CHAN_CREATE_SPSC|MAPPABLE channel's handles: the compact ring of kmod/chan_spsc_ring.h, no CAS, no slot states, own cursor stored with release, plain counters; state word, sampled depth, and the waiter count read without a barrier: the kernel's sleeper forces one on our CPU)",
	RB_MODE_BIT(RB_SPSC), 0, fpsq_create, fpq_destroy, fpq_produce,
	fpq_consume,
};

const struct rb_impl rb_chan_spsc_fence = {
	"libchan-spsc-fence", "libchan-spsc with a full barrier before the waiter count, as before the kernel forced it from the sleeping side: what that barrier costs per message",
	RB_MODE_BIT(RB_SPSC), 0, fpsfq_create, fpq_destroy, fpq_produce,
	fpq_consume,
};

/* ------------------------------------------------------------------------ */
/*
 * libchan's inline SPSC fast path: chan_spsc_try_send() and
 * chan_spsc_try_recv() of <libchan.h>, inlined here, on views
 * (chan_ep_spsc()) of the same handles as libchan-spsc. What a program
 * built against libchan.h runs on a mapped SPSC channel when it asks for
 * the views: the state word, the ring protocol, the length stored only if
 * it changed, the handle's counts, the sampled depth and the waiter count.
 */
struct fpiq {
	struct fpq q;
	_Alignas(64) struct chan_spsc tx;
	_Alignas(64) struct chan_spsc rx;
};

static void *fpiq_create(int mode, unsigned int size, unsigned int cap)
{
	struct fpiq *q = zalloc_aligned(sizeof(*q));
	struct fpq *in = fpsq_create(mode, size, cap);

	q->q = *in;
	free(in);
	if (chan_ep_spsc(q->q.send_ep, CHAN_ROLE_SEND, &q->tx) != 1 ||
	    chan_ep_spsc(q->q.recv_ep, CHAN_ROLE_RECV, &q->rx) != 1)
		abort();
	return q;
}

static void fpiq_destroy(void *p)
{
	struct fpiq *q = p;
	struct fpq *in = zalloc_aligned(sizeof(*in));

	*in = q->q;
	fpq_destroy(in);
	free(q);
}

static inline __attribute__((always_inline)) int
fpiq_push(struct fpiq *q, const void *m, unsigned int size)
{
	return fp_sent(chan_spsc_try_send(&q->tx, m, size));
}

static inline __attribute__((always_inline)) int
fpiq_pop(struct fpiq *q, void *m, unsigned int size)
{
	return fp_received(chan_spsc_try_recv(&q->rx, m, size), size);
}

#define fpiq_push8(q, mode, m)	fpiq_push(q, m, 8)
#define fpiq_push64(q, mode, m)	fpiq_push(q, m, 64)
#define fpiq_pop8(q, mode, m)	fpiq_pop(q, m, 8)
#define fpiq_pop64(q, mode, m)	fpiq_pop(q, m, 64)
RB_LOOPS(fpiq)

const struct rb_impl rb_chan_spsc_inline = {
	"libchan-spsc-inline", "libchan's inline SPSC fast path (chan_spsc_try_send/chan_spsc_try_recv of libchan.h, inlined, on chan_ep_spsc() views of libchan-spsc's handles: state word, compact ring protocol, handle counts, sampled depth, waiter count read without a barrier)",
	RB_MODE_BIT(RB_SPSC), 0, fpiq_create, fpiq_destroy, fpiq_produce,
	fpiq_consume,
};

/* ------------------------------------------------------------------------ */
/*
 * kmod/chan_spsc.h itself, without libchan around it: the slot protocol
 * today's SPSC handles run (state word per 64-byte slot, FULL/EMPTY
 * stores, release of the own cursor), no state word, statistics, barrier
 * or waiter count. Not shipped anywhere: it splits libchan-spsc's cost
 * into the protocol's and the handle's (docs/spsc-compact.md).
 */
static inline __attribute__((always_inline)) int
spq_push(struct chanq *q, const void *m, unsigned int size)
{
	struct chan_slot *s;
	__s64 pos;

	s = chan_spsc_claim_send(&q->v, &pos);
	if (!s) {
		if (pos != -EAGAIN)
			abort();
		return 0;
	}
	memcpy(s->data, m, size);
	chan_spsc_publish(&q->v, s, (__u64)pos, size, CHAN_TOKEN_PRODUCER);
	return 1;
}

static inline __attribute__((always_inline)) int
spq_pop(struct chanq *q, void *m, unsigned int size)
{
	struct chan_slot *s;
	__u32 len;
	__s64 pos;

	s = chan_spsc_claim_recv(&q->v, size, &pos, &len);
	if (!s) {
		if (pos != -EAGAIN)
			abort();
		return 0;
	}
	memcpy(m, s->data, size);
	chan_spsc_retire(&q->v, s, (__u64)pos);
	return len == size;
}

#define spq_push8(q, mode, m)	spq_push(q, m, 8)
#define spq_push64(q, mode, m)	spq_push(q, m, 64)
#define spq_pop8(q, mode, m)	spq_pop(q, m, 8)
#define spq_pop64(q, mode, m)	spq_pop(q, m, 64)
RB_LOOPS(spq)

const struct rb_impl rb_chan_spsc_hdr = {
	"chan-spsc-slots", "kmod/chan_spsc.h alone (today's SPSC slot protocol: 64-byte slots with a state word, no libchan handle, no barrier, no waiter count): a measurement row",
	RB_MODE_BIT(RB_SPSC), 0, chanq_create, chanq_destroy, spq_produce,
	spq_consume,
};

/* ------------------------------------------------------------------------ */
/*
 * kmod/chan_spsc_ring.h, the compact SPSC ring: cursors and a private
 * copy of the other side's, packed slots (an 8-byte length header and
 * the payload, 8-byte stride), laid out after a header page as a mapping
 * would be. After each send
 * (receive) the handshake with a sleeping peer: read the other side's
 * waiter count in the header's kstate (never non-zero here: no one
 * sleeps). chan-spsc-compact reads it with no barrier (the asymmetric
 * handshake: the would-be sleeper pays for the barrier, see
 * docs/spsc-compact.md); chan-spsc-compact-fence issues a full barrier
 * first, as libchan's handles do today.
 */
struct cpq {
	struct chan_spsc_ring r;
	struct chan_ring_hdr *hdr;
	void *mem;
	/* Each side's private copy of the other's cursor, lines apart. */
	_Alignas(64) __u64 head_cache;
	_Alignas(64) __u64 tail_cache;
};

static void *cpq_create(int mode, unsigned int size, unsigned int cap)
{
	struct cpq *q = zalloc_aligned(sizeof(*q));

	(void)mode;
	q->mem = zalloc_aligned(CHAN_RING_HDR_SIZE +
				chan_spsc_ring_size(cap, size));
	q->hdr = q->mem;
	chan_spsc_ring_init(&q->r, q->hdr,
			    (unsigned char *)q->mem + CHAN_RING_HDR_SIZE, cap,
			    size);
	return q;
}

static void cpq_destroy(void *p)
{
	struct cpq *q = p;

	free(q->mem);
	free(q);
}

static inline __attribute__((always_inline)) void
cpq_handshake(const __u32 *waiters, bool fenced)
{
	if (fenced)
		atomic_thread_fence(memory_order_seq_cst);
	else
		atomic_signal_fence(memory_order_seq_cst);
	/* A real handle would ring CHAN_IOC_WAKE here. */
	if (__atomic_load_n(waiters, __ATOMIC_RELAXED))
		abort();
}

static inline __attribute__((always_inline)) int
cpq_push(struct cpq *q, const void *m, unsigned int size, bool fenced)
{
	unsigned char *p;
	__s64 pos;

	p = chan_spsc_ring_send_begin(&q->r, &q->head_cache, &pos);
	if (!p) {
		if (pos != -EAGAIN)
			abort();
		return 0;
	}
	memcpy(p, m, size);
	chan_spsc_ring_send_end(&q->r, (__u64)pos, size);
	cpq_handshake(&q->hdr->kstate.recv_waiters, fenced);
	return 1;
}

static inline __attribute__((always_inline)) int
cpq_pop(struct cpq *q, void *m, unsigned int size, bool fenced)
{
	const unsigned char *p;
	__u32 len;
	__s64 pos;

	p = chan_spsc_ring_recv_begin(&q->r, &q->tail_cache, size, &pos, &len);
	if (!p) {
		if (pos != -EAGAIN)
			abort();
		return 0;
	}
	memcpy(m, p, size);
	chan_spsc_ring_recv_end(&q->r, (__u64)pos);
	cpq_handshake(&q->hdr->kstate.send_waiters, fenced);
	return len == size;
}

#define cpq_push8(q, mode, m)	cpq_push(q, m, 8, false)
#define cpq_push64(q, mode, m)	cpq_push(q, m, 64, false)
#define cpq_pop8(q, mode, m)	cpq_pop(q, m, 8, false)
#define cpq_pop64(q, mode, m)	cpq_pop(q, m, 64, false)
RB_LOOPS(cpq)

#define cpfq_push8(q, mode, m)	cpq_push(q, m, 8, true)
#define cpfq_push64(q, mode, m)	cpq_push(q, m, 64, true)
#define cpfq_pop8(q, mode, m)	cpq_pop(q, m, 8, true)
#define cpfq_pop64(q, mode, m)	cpq_pop(q, m, 64, true)
RB_LOOPS(cpfq)

const struct rb_impl rb_chan_spsc_compact = {
	"chan-spsc-compact", "kmod/chan_spsc_ring.h: cursors with private copies, packed slots (8-byte length header + payload); waiter count read with no barrier (asymmetric handshake: the sleeper pays)",
	RB_MODE_BIT(RB_SPSC), 0, cpq_create, cpq_destroy, cpq_produce,
	cpq_consume,
};

const struct rb_impl rb_chan_spsc_compact_fence = {
	"chan-spsc-compact-fence", "chan-spsc-compact with a full barrier before each waiter-count read (the handshake libchan's handles use today)",
	RB_MODE_BIT(RB_SPSC), 0, cpq_create, cpq_destroy, cpfq_produce,
	cpfq_consume,
};

/* ------------------------------------------------------------------------ */
/*
 * Reference: Dmitry Vyukov's bounded MPMC ring (a sequence number per
 * slot, one CAS per operation), the textbook design chan's ring extends
 * with owner tokens, phases and cursor helping. Not a peer: it shows what
 * those additions cost.
 */
struct vyq {
	_Alignas(64) atomic_ulong tail;
	_Alignas(64) atomic_ulong head;
	_Alignas(64) unsigned long mask;
	size_t stride;
	unsigned char *slots;
};

static void *vyq_create(int mode, unsigned int size, unsigned int cap)
{
	struct vyq *q = zalloc_aligned(sizeof(*q));
	unsigned long i;

	(void)mode;
	q->mask = cap - 1;
	q->stride = (sizeof(atomic_ulong) + size + 63) & ~(size_t)63;
	q->slots = zalloc_aligned(q->stride * cap);
	for (i = 0; i < cap; i++)
		atomic_init((atomic_ulong *)(q->slots + i * q->stride), i);
	return q;
}

static void vyq_destroy(void *p)
{
	struct vyq *q = p;

	free(q->slots);
	free(q);
}

static inline __attribute__((always_inline)) int
vyq_push(struct vyq *q, const void *m, unsigned int size)
{
	unsigned long pos = atomic_load_explicit(&q->tail, memory_order_relaxed);

	for (;;) {
		atomic_ulong *seq = (atomic_ulong *)(q->slots +
						     (pos & q->mask) * q->stride);
		unsigned long s = atomic_load_explicit(seq, memory_order_acquire);
		long d = (long)(s - pos);

		if (d == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &q->tail, &pos, pos + 1,
				    memory_order_relaxed, memory_order_relaxed)) {
				memcpy(seq + 1, m, size);
				atomic_store_explicit(seq, pos + 1,
						      memory_order_release);
				return 1;
			}
		} else if (d < 0) {
			return 0;
		} else {
			pos = atomic_load_explicit(&q->tail,
						   memory_order_relaxed);
		}
	}
}

static inline __attribute__((always_inline)) int
vyq_pop(struct vyq *q, void *m, unsigned int size)
{
	unsigned long pos = atomic_load_explicit(&q->head, memory_order_relaxed);

	for (;;) {
		atomic_ulong *seq = (atomic_ulong *)(q->slots +
						     (pos & q->mask) * q->stride);
		unsigned long s = atomic_load_explicit(seq, memory_order_acquire);
		long d = (long)(s - (pos + 1));

		if (d == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &q->head, &pos, pos + 1,
				    memory_order_relaxed, memory_order_relaxed)) {
				memcpy(m, seq + 1, size);
				atomic_store_explicit(seq, pos + q->mask + 1,
						      memory_order_release);
				return 1;
			}
		} else if (d < 0) {
			return 0;
		} else {
			pos = atomic_load_explicit(&q->head,
						   memory_order_relaxed);
		}
	}
}

#define vyq_push8(q, mode, m)	vyq_push(q, m, 8)
#define vyq_push64(q, mode, m)	vyq_push(q, m, 64)
#define vyq_pop8(q, mode, m)	vyq_pop(q, m, 8)
#define vyq_pop64(q, mode, m)	vyq_pop(q, m, 64)
RB_LOOPS(vyq)

const struct rb_impl rb_vyukov = {
	"vyukov-ref", "textbook per-slot-sequence MPMC ring (reference, not a peer; every mode runs the same code)",
	RB_ALL_MODES, 0, vyq_create, vyq_destroy, vyq_produce, vyq_consume,
};

/* ------------------------------------------------------------------------ */
/* Concurrency Kit: typed rings, the spsc, mpsc and mpmc variants. */
CK_RING_PROTOTYPE(m8, rb_m8)
CK_RING_PROTOTYPE(m64, rb_m64)

struct ckq {
	struct ck_ring ring;
	void *buf;
};

static void *ckq_create(int mode, unsigned int size, unsigned int cap)
{
	struct ckq *q = zalloc_aligned(sizeof(*q));

	(void)mode;
	ck_ring_init(&q->ring, cap);
	q->buf = zalloc_aligned((size_t)cap * size);
	return q;
}

static void ckq_destroy(void *p)
{
	struct ckq *q = p;

	free(q->buf);
	free(q);
}

#define CKQ_OPS(T)							\
static inline __attribute__((always_inline)) int			\
ckq_push_##T(struct ckq *q, int mode, struct rb_##T *m)		\
{									\
	switch (mode) {							\
	case RB_SPSC:							\
		return ck_ring_enqueue_spsc_##T(&q->ring, q->buf, m);	\
	case RB_MPSC:							\
		return ck_ring_enqueue_mpsc_##T(&q->ring, q->buf, m);	\
	default:							\
		return ck_ring_enqueue_mpmc_##T(&q->ring, q->buf, m);	\
	}								\
}									\
static inline __attribute__((always_inline)) int			\
ckq_pop_##T(struct ckq *q, int mode, struct rb_##T *m)			\
{									\
	switch (mode) {							\
	case RB_SPSC:							\
		return ck_ring_dequeue_spsc_##T(&q->ring, q->buf, m);	\
	case RB_MPSC:							\
		return ck_ring_dequeue_mpsc_##T(&q->ring, q->buf, m);	\
	default:							\
		return ck_ring_dequeue_mpmc_##T(&q->ring, q->buf, m);	\
	}								\
}
CKQ_OPS(m8)
CKQ_OPS(m64)

#define ckq_push8(q, mode, m)	ckq_push_m8(q, mode, m)
#define ckq_push64(q, mode, m)	ckq_push_m64(q, mode, m)
#define ckq_pop8(q, mode, m)	ckq_pop_m8(q, mode, m)
#define ckq_pop64(q, mode, m)	ckq_pop_m64(q, mode, m)
RB_LOOPS(ckq)

const struct rb_impl rb_ck = {
	"ck_ring", "Concurrency Kit typed ring (CK_RING_PROTOTYPE), spsc/mpsc/mpmc variants; holds capacity-1",
	RB_ALL_MODES, 1, ckq_create, ckq_destroy, ckq_produce, ckq_consume,
};

/* ------------------------------------------------------------------------ */
/*
 * liburcu wfcqueue: an unbounded linked queue. Bounded here by a pool of
 * `cap` nodes that circulates through a second wfcqueue, so every message
 * costs two enqueues and two dequeues. Single-dequeuer queues use the
 * lock-free dequeue; a queue with several dequeuers (the message queue in
 * MPMC, the pool in MPSC and MPMC) takes the queue's own mutex, as the
 * library requires.
 */
struct wnode {
	struct cds_wfcq_node node;
	unsigned char data[64];
};

struct wq {
	struct cds_wfcq_head head;
	_Alignas(64) struct cds_wfcq_tail tail;
	_Alignas(64) struct cds_wfcq_head free_head;
	_Alignas(64) struct cds_wfcq_tail free_tail;
	struct wnode *nodes;
};

static void *wq_create(int mode, unsigned int size, unsigned int cap)
{
	struct wq *q = zalloc_aligned(sizeof(*q));
	unsigned int i;

	(void)mode;
	(void)size;
	cds_wfcq_init(&q->head, &q->tail);
	cds_wfcq_init(&q->free_head, &q->free_tail);
	q->nodes = zalloc_aligned(sizeof(*q->nodes) * cap);
	for (i = 0; i < cap; i++) {
		cds_wfcq_node_init(&q->nodes[i].node);
		cds_wfcq_enqueue(&q->free_head, &q->free_tail,
				 &q->nodes[i].node);
	}
	return q;
}

static void wq_destroy(void *p)
{
	struct wq *q = p;

	cds_wfcq_destroy(&q->head, &q->tail);
	cds_wfcq_destroy(&q->free_head, &q->free_tail);
	free(q->nodes);
	free(q);
}

static inline __attribute__((always_inline)) struct wnode *
wq_take(struct cds_wfcq_head *h, struct cds_wfcq_tail *t, bool shared)
{
	struct cds_wfcq_node *n;

	if (shared)
		n = cds_wfcq_dequeue_blocking(h, t);
	else
		n = __cds_wfcq_dequeue_nonblocking(h, t);
	if (!n || n == CDS_WFCQ_WOULDBLOCK)
		return NULL;
	return caa_container_of(n, struct wnode, node);
}

static inline __attribute__((always_inline)) int
wq_push(struct wq *q, int mode, const void *m, unsigned int size)
{
	struct wnode *n = wq_take(&q->free_head, &q->free_tail,
				  mode != RB_SPSC);

	if (!n)
		return 0;
	memcpy(n->data, m, size);
	cds_wfcq_node_init(&n->node);
	cds_wfcq_enqueue(&q->head, &q->tail, &n->node);
	return 1;
}

static inline __attribute__((always_inline)) int
wq_pop(struct wq *q, int mode, void *m, unsigned int size)
{
	struct wnode *n = wq_take(&q->head, &q->tail, mode == RB_MPMC);

	if (!n)
		return 0;
	memcpy(m, n->data, size);
	cds_wfcq_node_init(&n->node);
	cds_wfcq_enqueue(&q->free_head, &q->free_tail, &n->node);
	return 1;
}

#define wq_push8(q, mode, m)	wq_push(q, mode, m, 8)
#define wq_push64(q, mode, m)	wq_push(q, mode, m, 64)
#define wq_pop8(q, mode, m)	wq_pop(q, mode, m, 8)
#define wq_pop64(q, mode, m)	wq_pop(q, mode, m, 64)
RB_LOOPS(wq)

const struct rb_impl rb_urcu = {
	"urcu-wfcq", "liburcu wfcqueue (unbounded, linked), bounded by a node pool circulating through a second wfcqueue",
	RB_ALL_MODES, 1, wq_create, wq_destroy, wq_produce, wq_consume,
};

/* ------------------------------------------------------------------------ */
/* The floor: a ring under one mutex, two condition variables. */
struct mq {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	unsigned long head, tail, mask;
	unsigned int size, waiting_send, waiting_recv;
	unsigned char *buf;
};

static void *mq_create(int mode, unsigned int size, unsigned int cap)
{
	struct mq *q = zalloc_aligned(sizeof(*q));

	(void)mode;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	q->mask = cap - 1;
	q->size = size;
	q->buf = zalloc_aligned((size_t)cap * size);
	return q;
}

static void mq_destroy(void *p)
{
	struct mq *q = p;

	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	free(q->buf);
	free(q);
}

/* Blocking: waits on the condition variable, so it never fails. */
static inline __attribute__((always_inline)) int
mq_push(struct mq *q, const void *m, unsigned int size)
{
	pthread_mutex_lock(&q->lock);
	while (q->tail - q->head > q->mask) {
		q->waiting_send++;
		pthread_cond_wait(&q->not_full, &q->lock);
		q->waiting_send--;
	}
	memcpy(q->buf + (q->tail & q->mask) * size, m, size);
	q->tail++;
	if (q->waiting_recv)
		pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return 1;
}

static inline __attribute__((always_inline)) int
mq_pop(struct mq *q, void *m, unsigned int size)
{
	pthread_mutex_lock(&q->lock);
	while (q->tail == q->head) {
		q->waiting_recv++;
		pthread_cond_wait(&q->not_empty, &q->lock);
		q->waiting_recv--;
	}
	memcpy(m, q->buf + (q->head & q->mask) * size, size);
	q->head++;
	if (q->waiting_send)
		pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return 1;
}

#define mq_push8(q, mode, m)	mq_push(q, m, 8)
#define mq_push64(q, mode, m)	mq_push(q, m, 64)
#define mq_pop8(q, mode, m)	mq_pop(q, m, 8)
#define mq_pop64(q, mode, m)	mq_pop(q, m, 64)
RB_LOOPS(mq)

const struct rb_impl rb_mutex = {
	"mutex+condvar", "ring under a pthread mutex, two condition variables, blocking (every mode runs the same code)",
	RB_ALL_MODES, 1, mq_create, mq_destroy, mq_produce, mq_consume,
};
