// SPDX-License-Identifier: MIT
/*
 * Endpoint handles and the fast path.
 *
 * A handle owns a channel fd and, when the channel was created
 * CHAN_CREATE_MAPPABLE and the caller may map it, a shared mapping of the
 * ring. Sends and receives then run the ring protocol (kmod/chan_ring.h,
 * the same code the kernel runs) directly on the mapping, with the
 * endpoint's owner token, and enter the kernel only to sleep, to wake a
 * sleeper, or to learn the exact error. Without a mapping every call is
 * the kernel path of io.c.
 *
 * Wake-ups: after publishing (retiring) a slot, a full barrier, then the
 * count of receivers (senders) asleep in the kernel, read from the header;
 * only if it is not zero, CHAN_IOC_WAKE. The kernel counts a sleeper on
 * that same word before its last look at the ring, with a full barrier in
 * between, so either the sleeper sees our slot or we see it counted.
 *
 * fork(): the mapping is not inherited (VM_DONTCOPY). A pthread_atfork()
 * handler moves a generation counter in the child, and a handle mapped in
 * another generation uses the kernel path: the child never touches an
 * address it does not have, and never unmaps one it does not own.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libchan_private.h"
#include "libchan_bench.h"
#include "chan_ring.h"
#include "chan_spsc.h"
#include "chan_spsc_ring.h"

/* Tombstones one receive passes before it lets the kernel decide. */
#define CHAN_EP_SKIP_MAX	64

/* What a fast-path attempt returns when the kernel path must decide. */
#define CHAN_EP_SLOW		1

#define CHAN_MSG_FLAGS	(CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME)

struct chan_ep {
	int fd;
	bool owns_map;		/* munmap() at close */
	uint32_t roles;
	uint32_t token;
	uint32_t msg_size;
	/* CHAN_CRC_SIZE on a CHAN_CREATE_CRC32C channel (its slots' check), else 0. */
	uint32_t crc;
	/* A CHAN_CREATE_SPSC channel: the protocol of chan_spsc.h. */
	bool spsc;
	/*
	 * A compact SPSC ring (CHAN_RING_VERSION_SPSC): the protocol of
	 * chan_spsc_ring.h on sr, with the other side's cursor cached (a
	 * lower bound: cursors only grow). Never chan_ring.h's slot calls.
	 */
	bool compact;
	struct chan_spsc_ring sr;
	__u64 head_cache;
	__u64 tail_cache;
	/*
	 * A CHAN_CREATE_STREAM channel: its ring takes the stream claim
	 * (chan_ep_stream_read()), never the message calls' fast paths.
	 */
	bool stream;
	/* Full barrier before reading the waiter count (see below). */
	bool fence;
	/* The mapping, or NULL; valid only in generation map_gen. */
	void *map;
	size_t map_size;
	unsigned int map_gen;
	struct chan_ring_view v;
	struct chan_ring_kstate *ks;
	/* Statistics, relaxed atomics: many threads may share a handle. */
	atomic_uint_least64_t fast_sent;
	atomic_uint_least64_t fast_received;
	atomic_uint_least64_t kernel_sent;
	atomic_uint_least64_t kernel_received;
	atomic_uint_least64_t wakes;
	/* Messages a broadcast receiver was told it missed (ENOBUFS). */
	atomic_uint_least64_t lost;
	/*
	 * A mapped broadcast channel (map stays NULL: the generic fast
	 * paths, which write the ring, are off): its read-only ring, seen
	 * through v, and a receiver's cursor page; valid in map_gen.
	 */
	void *bmap;
	struct chan_bcast_cursor *bcur;
	/* Lossless: a cursor move may let a waiting sender go. */
	bool blossless;
};

/* Moves in every child of fork(): mappings of older generations are gone. */
static atomic_uint chan_fork_gen;
static pthread_once_t chan_atfork_once = PTHREAD_ONCE_INIT;

static void chan_atfork_child(void)
{
	atomic_fetch_add_explicit(&chan_fork_gen, 1, memory_order_relaxed);
}

static void chan_atfork_register(void)
{
	pthread_atfork(NULL, NULL, chan_atfork_child);
}

static bool chan_ep_fast(const struct chan_ep *ep)
{
	return ep->map &&
	       ep->map_gen == atomic_load_explicit(&chan_fork_gen,
						   memory_order_relaxed);
}

/* A mapped broadcast receiver, in this fork generation? */
static bool chan_ep_bfast(const struct chan_ep *ep)
{
	return ep->bcur &&
	       ep->map_gen == atomic_load_explicit(&chan_fork_gen,
						   memory_order_relaxed);
}

static void chan_stat_inc(atomic_uint_least64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/*
 * The fast path's counts on an SPSC handle, which one thread uses at a
 * time: a plain increment (relaxed load and store, still atomic for a
 * reader), not a locked one.
 */
static void chan_ep_count(const struct chan_ep *ep, atomic_uint_least64_t *c)
{
	if (ep->spsc)
		atomic_store_explicit(c, atomic_load_explicit(
					      c, memory_order_relaxed) + 1,
				      memory_order_relaxed);
	else
		chan_stat_inc(c);
}

/* The same checks as the kernel's: anything it would refuse goes to it. */
/*
 * Copy a message between the ring and the caller. Up to 64 bytes with
 * two or four fixed-size moves (overlapping when the length is not a
 * multiple of their size), which the compiler inlines: at 8 bytes a call
 * to memcpy() costs as much as the rest of an SPSC send. Larger ones, and
 * under 8 bytes, with memcpy().
 */
static inline void chan_ep_copy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	unsigned char a[32], b[32];

	if (n >= 8 && n <= 16) {
		memcpy(a, s, 8);
		memcpy(b, s + n - 8, 8);
		memcpy(d, a, 8);
		memcpy(d + n - 8, b, 8);
	} else if (n > 16 && n <= 32) {
		memcpy(a, s, 16);
		memcpy(b, s + n - 16, 16);
		memcpy(d, a, 16);
		memcpy(d + n - 16, b, 16);
	} else if (n > 32 && n <= 64) {
		memcpy(a, s, 32);
		memcpy(b, s + n - 32, 32);
		memcpy(d, a, 32);
		memcpy(d + n - 32, b, 32);
	} else {
		memcpy(d, s, n);
	}
}

static bool chan_msg_flags_ok(unsigned int flags, uint64_t timeout_ns)
{
	if (flags & ~CHAN_MSG_FLAGS)
		return false;
	if ((flags & CHAN_MSG_NONBLOCK) && (flags & CHAN_MSG_TIMEOUT))
		return false;
	if ((flags & CHAN_MSG_ABSTIME) && !(flags & CHAN_MSG_TIMEOUT))
		return false;
	return (flags & CHAN_MSG_TIMEOUT) || !timeout_ns;
}

/*
 * A NULL buffer of non-zero size is not taken on the fast path, whose
 * copy would fault: the kernel's path fails it with EFAULT and leaves the
 * message queued.
 */
static bool chan_buf_ok(const void *buf, size_t size)
{
	return buf || !size;
}

/* Ring the kernel's doorbell for the waiters of @roles. */
static void chan_ep_wake(struct chan_ep *ep, uint32_t roles)
{
	struct chan_wake w = { .size = sizeof(w), .roles = roles };

	chan_ioctl(ep->fd, CHAN_IOC_WAKE, &w);
	chan_stat_inc(&ep->wakes);
}

/*
 * After a publish (retire): full barrier, then the count of kernel
 * sleepers on the other side. Pairs with the barrier between a sleeper's
 * count and its last look at the ring (prepare_to_wait_exclusive() in the
 * kernel's chan_xfer(), or poll's smp_mb()).
 */
static void chan_ep_wake_if_waiting(struct chan_ep *ep, uint32_t *waiters,
				    uint32_t roles)
{
	/*
	 * Without the fence the count could be read while the publish still
	 * sits in this CPU's store buffer, and a sleeper that missed the
	 * publish would be missed too. A handle on a compact SPSC ring
	 * leaves it out: there the kernel's sleeper, once counted, makes
	 * every CPU running this process execute a barrier before its last
	 * look (the asymmetric handshake of docs/spsc-compact.md), so
	 * program order, which the compiler barrier keeps, is enough. Every
	 * other handle keeps it, and so does ring_bench's fenced row.
	 */
	if (ep->fence)
		atomic_thread_fence(memory_order_seq_cst);
	else
		atomic_signal_fence(memory_order_seq_cst);
	if (__atomic_load_n(waiters, __ATOMIC_RELAXED))
		chan_ep_wake(ep, roles);
}

static uint32_t chan_ep_state(const struct chan_ep *ep)
{
	/* Acquire: pairs with the kernel's release of a new state. */
	return __atomic_load_n(&ep->ks->state, __ATOMIC_ACQUIRE);
}

/*
 * The high-water depth (chan_info.max_depth) on the fast path: the header
 * page's word at CHAN_RING_MAX_DEPTH_OFFSET, on a cache line of its own,
 * raised with a compare-and-swap only when the depth seen is larger. The
 * kernel folds it into its own mark (clamped) at INFO.
 *
 * Sampled: reading the head after every send cost about 60 % of the
 * MPMC fast path in bench/native (the consumer writes that line on every
 * receive), so a sender looks only after every CHAN_EP_DEPTH_SAMPLE-th
 * position and whenever it finds the ring full. The mark is then exact
 * for a ring that filled up and for kernel sends, and otherwise may miss
 * a peak between two samples by less than CHAN_EP_DEPTH_SAMPLE.
 *
 * On a compact SPSC ring the receiver samples instead: each time it loads
 * the tail (its cache of it ran out), @end is that tail and the head its
 * own cursor, at the cost of two loads: the head (its own line) and the
 * mark (a line written only when raised). The sender then never reads
 * the head, the line the receiver writes, to sample: in ring_bench that
 * read after every 64th send held the 8-byte rows at 37-49 ns a message
 * against 5-8 ns without it (it was enough to keep the consumer polling
 * an empty ring). A full ring is still noted by the sender that finds it
 * full.
 */
#define CHAN_EP_DEPTH_SAMPLE	64U

static void chan_ep_note_depth(struct chan_ep *ep, uint64_t end)
{
	__u64 *word = (__u64 *)((unsigned char *)ep->v.hdr +
				CHAN_RING_MAX_DEPTH_OFFSET);
	__s64 d = (__s64)(end - chan_load(&ep->v.hdr->head));
	__u64 old;
	int n;

	if (d <= 0)
		return;
	if (d > (__s64)ep->v.mask + 1)
		d = (__s64)ep->v.mask + 1;
	old = chan_load(word);
	/* Bounded: each failure is another sender's raise (or a scribble). */
	for (n = 0; n < 8 && (__u64)d > old; n++)
		if (__atomic_compare_exchange_n(word, &old, (__u64)d, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
}

/* A send refused on the fast path: the kernel path says why (or waits). */
static bool chan_ep_send_refused(const struct chan_ep *ep)
{
	return chan_ep_state(ep) & (CHAN_STATE_DESTROYED | CHAN_STATE_CLOSED |
				    CHAN_STATE_NO_RECEIVERS);
}

/*
 * Write a message into a slot's payload: on a CRC32C channel its check
 * @crc (little-endian) first, then the bytes.
 */
static void chan_ep_put_msg(const struct chan_ep *ep, unsigned char *data,
			    const void *msg, size_t len, uint32_t crc)
{
	if (ep->crc) {
		unsigned char le[CHAN_CRC_SIZE] = {
			(unsigned char)crc, (unsigned char)(crc >> 8),
			(unsigned char)(crc >> 16), (unsigned char)(crc >> 24),
		};

		memcpy(data, le, sizeof(le));
	}
	chan_ep_copy(data + ep->crc, msg, len);
}

/*
 * One send on the mapping, without the wake-up check (the caller's, once
 * for however many it sends). 0, -EAGAIN (full, for a caller that would
 * not wait), or CHAN_EP_SLOW: the kernel path decides (to wait, or for
 * the channel's state).
 */
static int chan_ep_compact_send(struct chan_ep *ep, const void *msg,
				size_t len, unsigned int flags)
{
	unsigned char *data;
	uint32_t crc = 0;
	__s64 pos;

	if (chan_ep_send_refused(ep))
		return CHAN_EP_SLOW;
	if (ep->crc)
		crc = chan__msg_crc(msg, (uint32_t)len);
	data = chan_spsc_ring_send_begin(&ep->sr, &ep->head_cache, &pos);
	if (!data) {
		if (pos == -EAGAIN) {
			chan_ep_note_depth(ep, chan_load(&ep->v.hdr->tail));
			if (flags & CHAN_MSG_NONBLOCK)
				return -EAGAIN;
		}
		/* Full, or inconsistent cursors: the kernel says EIO. */
		return CHAN_EP_SLOW;
	}
	chan_ep_put_msg(ep, data, msg, len, crc);
	chan_spsc_ring_send_end(&ep->sr, (__u64)pos, (uint32_t)len + ep->crc);
	chan_ep_count(ep, &ep->fast_sent);
	return 0;
}

static int chan_ep_fast_send(struct chan_ep *ep, const void *msg, size_t len,
			     unsigned int flags)
{
	struct chan_slot *s = NULL;
	bool spsc = false;
	__s64 pos = -EINPROGRESS;

	if (ep->compact)
		return chan_ep_compact_send(ep, msg, len, flags);
	if (chan_ep_send_refused(ep))
		return CHAN_EP_SLOW;
	uint32_t crc = 0;

	/* The check is computed before the claim, so the slot is held briefly. */
	if (ep->crc)
		crc = chan__msg_crc(msg, (uint32_t)len);
	if (ep->spsc) {
		s = chan_spsc_claim_send(&ep->v, &pos);
		spsc = s;
	}
	/* Anything the SPSC path does not take is the common protocol's. */
	if (!s && pos == -EINPROGRESS)
		s = chan_ring_claim_send(&ep->v, ep->token, &pos);
	if (!s) {
		if (pos == -EAGAIN) {
			/* Full (or nearly): a high-water mark worth a look. */
			chan_ep_note_depth(ep, chan_load(&ep->v.hdr->tail));
			if (flags & CHAN_MSG_NONBLOCK)
				return -EAGAIN;
		}
		return CHAN_EP_SLOW;
	}
	chan_ep_put_msg(ep, s->data, msg, len, crc);
	if (spsc)
		chan_spsc_publish(&ep->v, s, (uint64_t)pos,
				  (uint32_t)len + ep->crc, ep->token);
	else
		chan_ring_publish(&ep->v, s, (uint64_t)pos,
				  (uint32_t)len + ep->crc, ep->token);
	if (!(((uint64_t)pos + 1) % CHAN_EP_DEPTH_SAMPLE))
		chan_ep_note_depth(ep, (uint64_t)pos + 1);
	chan_ep_count(ep, &ep->fast_sent);
	return 0;
}

/* After publishing: wake a receiver asleep in the kernel, if any. */
static void chan_ep_sent(struct chan_ep *ep)
{
	chan_ep_wake_if_waiting(ep, &ep->ks->recv_waiters, CHAN_ROLE_RECV);
}

/* After retiring: wake a sender asleep in the kernel, if any. */
static void chan_ep_received(struct chan_ep *ep)
{
	chan_ep_wake_if_waiting(ep, &ep->ks->send_waiters, CHAN_ROLE_SEND);
}

/* Hand a taken slot back, by the protocol that took it. */
static void chan_ep_retire(struct chan_ep *ep, struct chan_slot *s,
			   uint64_t pos, bool spsc)
{
	if (spsc)
		chan_spsc_retire(&ep->v, s, pos);
	else
		chan_ring_retire(&ep->v, s, pos);
}

/*
 * Take a CHAN_CREATE_CRC32C message of len slot bytes (the check, then the
 * payload) from a held slot into buf, retire the slot, and verify the
 * check on the copy, never on the shared slot. 0 if it holds; -EBADMSG
 * (counted as corrupt) if it fails and the caller asked for that with
 * CHAN_MSG_BADMSG; else -EAGAIN, counted as corrupt and dropped: the
 * caller skips it. A slot too short for a check is corrupt too.
 */
static ssize_t chan_ep_check_copy(struct chan_ep *ep, const void *buf,
				  const unsigned char *le, uint32_t len,
				  unsigned int flags);

static ssize_t chan_ep_take_checked(struct chan_ep *ep, struct chan_slot *s,
				    uint64_t pos, void *buf, uint32_t len,
				    unsigned int flags, bool spsc)
{
	unsigned char le[CHAN_CRC_SIZE];

	if (len >= CHAN_CRC_SIZE) {
		memcpy(le, s->data, sizeof(le));
		memcpy(buf, s->data + CHAN_CRC_SIZE, len - CHAN_CRC_SIZE);
	}
	chan_ep_retire(ep, s, pos, spsc);
	return chan_ep_check_copy(ep, buf, le, len, flags);
}

/*
 * The second half of chan_ep_take_checked(), once the message (len slot
 * bytes: its check in le, the payload in buf) is copied and handed back.
 */
static ssize_t chan_ep_check_copy(struct chan_ep *ep, const void *buf,
				  const unsigned char *le, uint32_t len,
				  unsigned int flags)
{
	uint32_t crc = 0;
	bool ok = len >= CHAN_CRC_SIZE;

	if (ok)
		crc = (uint32_t)le[0] | (uint32_t)le[1] << 8 |
		      (uint32_t)le[2] << 16 | (uint32_t)le[3] << 24;
	if (ok && crc == chan__msg_crc(buf, len - CHAN_CRC_SIZE)) {
		chan_ep_count(ep, &ep->fast_received);
		return 0;
	}
	__atomic_fetch_add(&ep->v.hdr->user_corrupt, 1, __ATOMIC_RELAXED);
	if (flags & CHAN_MSG_BADMSG) {
		/* Taken and handed over, as INFO counts it: received. */
		chan_ep_count(ep, &ep->fast_received);
		return -EBADMSG;
	}
	__atomic_fetch_add(&ep->v.hdr->user_skipped, 1, __ATOMIC_RELAXED);
	chan_ep_received(ep);
	return -EAGAIN;
}

/*
 * A receive on the mapping that took nothing (@pos is the ring's error):
 * -EMSGSIZE with *msg_len set, -EAGAIN (empty, for a caller that would
 * not wait, with a sender left), or CHAN_EP_SLOW: the kernel waits, or
 * says EPIPE (drained, closed, no sender left) or EIO.
 */
static ssize_t chan_ep_recv_none(const struct chan_ep *ep, __s64 pos,
				 uint32_t len, uint32_t state,
				 unsigned int flags, uint32_t *msg_len)
{
	if (pos == -EMSGSIZE) {
		*msg_len = len >= ep->crc ? len - ep->crc : 0;
		return -EMSGSIZE;
	}
	if (pos == -EAGAIN && (flags & CHAN_MSG_NONBLOCK) &&
	    !(state & (CHAN_STATE_NO_SENDERS | CHAN_STATE_CLOSED)))
		return -EAGAIN;
	return CHAN_EP_SLOW;
}

/*
 * One receive on the mapping, without the wake-up check: 0 with the
 * length in *msg_len (never the length itself, which could be 1, that is
 * CHAN_EP_SLOW), -EMSGSIZE (*msg_len set), -EAGAIN (empty, for a caller
 * that would not wait, with a sender left), or CHAN_EP_SLOW.
 */
static ssize_t chan_ep_compact_recv(struct chan_ep *ep, void *buf,
				    uint32_t max, uint32_t state,
				    unsigned int flags, uint32_t *msg_len)
{
	unsigned char le[CHAN_CRC_SIZE];
	const unsigned char *data;
	uint32_t len = 0, n;
	__s64 pos;

	for (n = 0; n < CHAN_EP_SKIP_MAX; n++) {
		__u64 seen = ep->tail_cache;

		data = chan_spsc_ring_recv_begin(&ep->sr, &ep->tail_cache,
						 max + ep->crc, &pos, &len);
		/* A tail loaded: sampled, also when the message is too long. */
		if (ep->tail_cache != seen)
			chan_ep_note_depth(ep, ep->tail_cache);
		if (!data)
			return chan_ep_recv_none(ep, pos, len, state, flags,
						 msg_len);
		if (ep->crc) {
			ssize_t r;

			if (len >= CHAN_CRC_SIZE) {
				memcpy(le, data, sizeof(le));
				memcpy(buf, data + CHAN_CRC_SIZE,
				       len - CHAN_CRC_SIZE);
			}
			chan_spsc_ring_recv_end(&ep->sr, (__u64)pos);
			r = chan_ep_check_copy(ep, buf, le, len, flags);
			if (r == -EAGAIN)
				continue;	/* skipped: counted as dropped */
			*msg_len = len >= ep->crc ? len - ep->crc : 0;
			return r;
		}
		chan_ep_copy(buf, data, len);
		chan_spsc_ring_recv_end(&ep->sr, (__u64)pos);
		chan_ep_count(ep, &ep->fast_received);
		*msg_len = len;
		return 0;
	}
	return CHAN_EP_SLOW;
}

static ssize_t chan_ep_fast_recv(struct chan_ep *ep, void *buf, size_t cap,
				 unsigned int flags, uint32_t *msg_len)
{
	uint32_t max = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	uint32_t state, len = 0, n;
	struct chan_slot *s;
	__s64 pos;

	state = chan_ep_state(ep);
	if (state & CHAN_STATE_DESTROYED)
		return CHAN_EP_SLOW;
	/* A CRC32C slot's length counts the check before the payload. */
	if (max > UINT32_MAX - ep->crc)
		max = UINT32_MAX - ep->crc;
	if (ep->compact)
		return chan_ep_compact_recv(ep, buf, max, state, flags,
					    msg_len);
	for (n = 0; n < CHAN_EP_SKIP_MAX; n++) {
		bool spsc = false;

		s = NULL;
		pos = -EINPROGRESS;
		if (ep->spsc) {
			s = chan_spsc_claim_recv(&ep->v, max + ep->crc, &pos,
						 &len);
			spsc = s;
		}
		if (!s && pos == -EINPROGRESS)
			s = chan_ring_claim_recv(&ep->v, ep->token,
						 max + ep->crc, &pos, &len);
		if (!s)
			return chan_ep_recv_none(ep, pos, len, state, flags,
						 msg_len);
		if (chan_slot_is_tombstone(s)) {
			/* Its sender died writing it: counted as dropped. */
			chan_ep_retire(ep, s, (uint64_t)pos, spsc);
			__atomic_fetch_add(&ep->v.hdr->user_skipped, 1,
					   __ATOMIC_RELAXED);
			chan_ep_received(ep);
			continue;
		}
		if (ep->crc) {
			ssize_t r = chan_ep_take_checked(ep, s, (uint64_t)pos,
							 buf, len, flags, spsc);

			if (r == -EAGAIN)
				continue;	/* skipped: counted as dropped */
			*msg_len = len >= ep->crc ? len - ep->crc : 0;
			return r;
		}
		chan_ep_copy(buf, s->data, len);
		chan_ep_retire(ep, s, (uint64_t)pos, spsc);
		chan_ep_count(ep, &ep->fast_received);
		*msg_len = len;
		return 0;
	}
	return CHAN_EP_SLOW;
}

int chan_ep_sendmsg(struct chan_ep *ep, const void *msg, size_t len,
		    unsigned int flags, uint64_t timeout_ns)
{
	int ret;

	if (!ep)
		return -EINVAL;
	if (chan_ep_fast(ep) && !ep->stream && (ep->roles & CHAN_ROLE_SEND) &&
	    len <= ep->msg_size && chan_buf_ok(msg, len) &&
	    chan_msg_flags_ok(flags, timeout_ns)) {
		ret = chan_ep_fast_send(ep, msg, len, flags);
		if (!ret)
			chan_ep_sent(ep);
		if (ret != CHAN_EP_SLOW)
			return ret;
	}
	ret = chan_sendmsg(ep->fd, 0, msg, len, flags, timeout_ns);
	if (!ret)
		chan_stat_inc(&ep->kernel_sent);
	return ret;
}

ssize_t chan_ep_recvmsg(struct chan_ep *ep, void *buf, size_t cap,
			unsigned int flags, uint64_t timeout_ns,
			uint32_t *msg_len)
{
	uint64_t lost = 0;
	uint32_t len = 0;
	ssize_t ret;

	if (!ep)
		return -EINVAL;
	if (chan_ep_bfast(ep) && chan_buf_ok(buf, cap) &&
	    chan_msg_flags_ok(flags, timeout_ns)) {
		ret = chan__bcast_recv(&ep->v, ep->bcur, buf, cap, &len,
				       &lost);
		/*
		 * Moved the cursor: after a full barrier, a sender counted
		 * as waiting (kstate.send_waiters) gets the doorbell (pairs
		 * with its count, barrier, look at the cursors).
		 */
		if (ep->blossless && (!ret || ret == -ENOBUFS))
			chan_ep_wake_if_waiting(ep, &ep->ks->send_waiters,
						CHAN_ROLE_SEND);
		if (ret == -ENOBUFS) {
			atomic_fetch_add_explicit(&ep->lost, lost,
						  memory_order_relaxed);
			return ret;
		}
		if (!ret || ret == -EMSGSIZE) {
			if (!ret) {
				chan_stat_inc(&ep->fast_received);
				ret = len;
			}
			if (msg_len)
				*msg_len = len;
			return ret;
		}
		/*
		 * Nothing at the cursor: a caller that would not wait hears
		 * EAGAIN unless the kernel would say EPIPE or EIDRM; any
		 * other waits in the kernel, at the same cursor.
		 */
		if (ret == CHAN_BCAST_EMPTY && (flags & CHAN_MSG_NONBLOCK) &&
		    !(chan_ep_state(ep) & (CHAN_STATE_NO_SENDERS |
					   CHAN_STATE_CLOSED |
					   CHAN_STATE_DESTROYED)))
			return -EAGAIN;
	} else if (chan_ep_fast(ep) && !ep->stream &&
		   (ep->roles & CHAN_ROLE_RECV) && chan_buf_ok(buf, cap) &&
		   chan_msg_flags_ok(flags & ~CHAN_MSG_BADMSG, timeout_ns)) {
		ret = chan_ep_fast_recv(ep, buf, cap, flags, &len);
		if (ret != CHAN_EP_SLOW) {
			if (!ret || ret == -EBADMSG)
				chan_ep_received(ep);
			if (!ret)
				ret = len;
			if (msg_len && (ret >= 0 || ret == -EMSGSIZE ||
					ret == -EBADMSG))
				*msg_len = len;
			return ret;
		}
	}
	ret = chan__recvmsg(ep->fd, 0, buf, cap, flags, timeout_ns, msg_len,
			    &lost);
	if (ret >= 0)
		chan_stat_inc(&ep->kernel_received);
	if (lost)
		atomic_fetch_add_explicit(&ep->lost, lost,
					  memory_order_relaxed);
	return ret;
}

/* The fast loop of a batch stopped at an entry the kernel must judge. */
#define CHAN_EP_INVALID		2

/*
 * Move vec[from..count) through the mapping as far as it goes without
 * waiting, with no wake-up check. Returns the index it stopped at; *r
 * says why: 0 (all done), CHAN_EP_SLOW or -EAGAIN (full or empty, or the
 * channel's state), -EMSGSIZE, or CHAN_EP_INVALID (a reserved field set,
 * a message too long: the kernel's batch gives the error).
 */
static unsigned int chan_ep_fast_run(struct chan_ep *ep, struct chan_iov *vec,
				     unsigned int from, unsigned int count,
				     bool send, ssize_t *r)
{
	unsigned int i;
	uint32_t len;

	*r = 0;
	for (i = from; i < count; i++) {
		void *buf = (void *)(uintptr_t)vec[i].buf;

		if (vec[i].__reserved || !chan_buf_ok(buf, vec[i].len) ||
		    (send && vec[i].len > ep->msg_size)) {
			*r = CHAN_EP_INVALID;
			break;
		}
		if (send) {
			*r = chan_ep_fast_send(ep, buf, vec[i].len,
					       CHAN_MSG_NONBLOCK);
		} else {
			*r = chan_ep_fast_recv(ep, buf, vec[i].len,
					       CHAN_MSG_NONBLOCK, &len);
			if (!*r || *r == -EMSGSIZE)
				vec[i].len = len;
		}
		if (*r)
			break;
	}
	if (i > from)
		send ? chan_ep_sent(ep) : chan_ep_received(ep);
	return i;
}

/* One message of a batch through the kernel, as the caller would wait. */
static int chan_ep_kernel_one(struct chan_ep *ep, struct chan_iov *iov,
			      unsigned int flags, uint64_t timeout_ns,
			      bool send)
{
	void *buf = (void *)(uintptr_t)iov->buf;
	uint32_t len = 0;
	ssize_t ret;

	if (send) {
		ret = chan_sendmsg(ep->fd, 0, buf, iov->len, flags, timeout_ns);
		if (!ret)
			chan_stat_inc(&ep->kernel_sent);
		return (int)ret;
	}
	ret = chan_recvmsg(ep->fd, 0, buf, iov->len, flags, timeout_ns, &len);
	if (ret >= 0 || ret == -EMSGSIZE)
		iov->len = len;
	if (ret < 0)
		return (int)ret;
	chan_stat_inc(&ep->kernel_received);
	return 0;
}

/*
 * Batches on a mapped handle: as many messages as go without waiting,
 * with one wake-up check for the lot. When the first cannot go and the
 * caller would wait, the kernel waits for that one alone (a single send
 * or receive) and the rest carry on through the mapping; with
 * CHAN_MSG_WAITALL, what is left after that goes to the kernel's batch.
 */
static int chan_ep_batch(struct chan_ep *ep, struct chan_iov *vec,
			 unsigned int count, unsigned int flags,
			 uint64_t timeout_ns, bool send)
{
	uint32_t role = send ? CHAN_ROLE_SEND : CHAN_ROLE_RECV;
	unsigned int i = 0;
	ssize_t r = 0;
	int ret;

	if (!ep || !vec)
		return -EINVAL;
	if (chan_ep_fast(ep) && !ep->stream && (ep->roles & role) && count &&
	    count <= CHAN_BATCH_MAX &&
	    chan_msg_flags_ok(flags & ~CHAN_MSG_WAITALL, timeout_ns)) {
		i = chan_ep_fast_run(ep, vec, 0, count, send, &r);
		if (!i && (r == -EMSGSIZE ||
			   (r == -EAGAIN && (flags & CHAN_MSG_NONBLOCK))))
			return (int)r;	/* what the kernel would say too */
		if (!i && r != CHAN_EP_INVALID) {
			ret = chan_ep_kernel_one(ep, vec,
						 flags & ~CHAN_MSG_WAITALL,
						 timeout_ns, send);
			if (ret)
				return ret;
			i = chan_ep_fast_run(ep, vec, 1, count, send, &r);
		}
		if (i == count || (i && !(flags & CHAN_MSG_WAITALL)))
			return (int)i;
	}
	ret = send ? chan_send_batch(ep->fd, 0, vec + i, count - i, flags,
				     timeout_ns) :
		     chan_recv_batch(ep->fd, 0, vec + i, count - i, flags,
				     timeout_ns);
	if (ret > 0) {
		atomic_fetch_add_explicit(send ? &ep->kernel_sent :
					  &ep->kernel_received,
					  (uint64_t)ret, memory_order_relaxed);
		return (int)i + ret;
	}
	return i ? (int)i : ret;
}

int chan_ep_send_batch(struct chan_ep *ep, const struct chan_iov *vec,
		       unsigned int count, unsigned int flags,
		       uint64_t timeout_ns)
{
	/* Sending never writes the vector. */
	return chan_ep_batch(ep, (struct chan_iov *)vec, count, flags,
			     timeout_ns, true);
}

int chan_ep_recv_batch(struct chan_ep *ep, struct chan_iov *vec,
		       unsigned int count, unsigned int flags,
		       uint64_t timeout_ns)
{
	return chan_ep_batch(ep, vec, count, flags, timeout_ns, false);
}

/*
 * A request and its reply. When a receiver of the request sleeps in the
 * kernel, CHAN_IOC_CALL sends, wakes it and waits for the reply in one
 * system call; otherwise the request goes through the mapping and the
 * reply is taken from the reply's mapping, or waited for in the kernel.
 */
ssize_t chan_ep_call(struct chan_ep *req, const void *msg, size_t len,
		     struct chan_ep *reply, void *buf, size_t cap,
		     unsigned int flags, uint64_t timeout_ns)
{
	uint32_t rlen = 0;
	ssize_t ret;
	int sent = 0;

	if (!req || !reply)
		return -EINVAL;
	if (chan_ep_fast(req) && !req->stream && !reply->stream &&
	    (req->roles & CHAN_ROLE_SEND) &&
	    (reply->roles & CHAN_ROLE_RECV) &&
	    len <= req->msg_size && chan_buf_ok(msg, len) &&
	    chan_msg_flags_ok(flags, timeout_ns) &&
	    !__atomic_load_n(&req->ks->recv_waiters, __ATOMIC_RELAXED)) {
		ret = chan_ep_fast_send(req, msg, len, flags);
		if (!ret) {
			chan_ep_sent(req);
			return chan_ep_recvmsg(reply, buf, cap, flags,
					       timeout_ns, NULL);
		}
		if (ret != CHAN_EP_SLOW)
			return ret;
	}
	ret = chan_callmsg(req->fd, 0, msg, len, reply->fd, 0, buf, cap,
			   flags, timeout_ns, &rlen, &sent);
	if (sent)
		chan_stat_inc(&req->kernel_sent);
	if (ret >= 0)
		chan_stat_inc(&reply->kernel_received);
	return ret;
}

/*
 * Byte streams on a mapped handle: the stream claim of chan_ring.h. A
 * reader claims the head slot (FULL to READING, the head stays), copies
 * from its offset, and hands the slot back FULL with the new offset or
 * retires it, read to its end; a read takes bytes across slots. Writers
 * publish one slot per atomic piece of at most msg_size bytes, as the
 * kernel does. Whatever cannot go on without waiting (empty, full, the
 * head held by another reader) or needs the channel's state goes to the
 * kernel, which waits and then does the same claims.
 *
 * Wake-ups: after a publish, the kernel's sleeping readers (as for
 * messages); after a hand-back or a retire, the sleeping readers too (one
 * may be waiting for the head to be let go), and after a retire the
 * sleeping writers; one full barrier before reading the counts, one
 * CHAN_IOC_WAKE for whichever are non-zero.
 */

/* Claims one fast read makes (tombstones skipped count) before it stops. */
#define CHAN_EP_STREAM_PASSES	64

/*
 * One fast read: 0 with the bytes taken (at least 1) in *got (never the
 * count itself, which could be 1, that is CHAN_EP_SLOW), or -EAGAIN
 * (nothing there for a caller that would not wait, with a sender left;
 * or the head held by another reader), or CHAN_EP_SLOW.
 */
static int chan_ep_stream_fast_read(struct chan_ep *ep, unsigned char *buf,
				    size_t cap, bool nonblock, size_t *got)
{
	uint32_t state = chan_ep_state(ep), len, off, n, pass, roles = 0;
	struct chan_slot *s, *next;
	size_t done = 0;
	__s64 pos = -EAGAIN;

	if (state & CHAN_STATE_DESTROYED)
		return CHAN_EP_SLOW;
	/* The head's slot; then each next one is claimed before the last
	 * is retired (chan_ring_claim_stream_next()): one range.
	 */
	s = chan_ring_claim_stream(&ep->v, ep->token, &pos, &len, &off);
	for (pass = 1; s; pass++) {
		roles |= CHAN_ROLE_RECV;
		if (!len && chan_slot_is_tombstone(s)) {
			/* Its writer died writing it: counted as dropped. */
			__atomic_fetch_add(&ep->v.hdr->user_skipped, 1,
					   __ATOMIC_RELAXED);
		} else {
			/* off <= len <= msg_size: the claim clamped both. */
			n = len - off;
			if (n > cap - done)
				n = (uint32_t)(cap - done);
			memcpy(buf + done, s->data + off, n);
			done += n;
			off += n;
			if (off < len) {
				chan_ring_stream_hand_back(&ep->v, s,
							   (__u64)pos, off,
							   ep->token);
				break;
			}
		}
		next = NULL;
		if (done < cap && pass < CHAN_EP_STREAM_PASSES)
			next = chan_ring_claim_stream_next(&ep->v, ep->token,
							   (__u64)pos + 1,
							   &len, &off);
		chan_ring_stream_retire(&ep->v, s, (__u64)pos);
		roles |= CHAN_ROLE_SEND;
		if (next)
			pos++;
		else if (pass < CHAN_EP_STREAM_PASSES)
			pos = -EAGAIN;	/* no next write published yet */
		s = next;
	}
	if (roles) {
		if (ep->fence)
			atomic_thread_fence(memory_order_seq_cst);
		if (!__atomic_load_n(&ep->ks->recv_waiters, __ATOMIC_RELAXED))
			roles &= ~CHAN_ROLE_RECV;
		if (!__atomic_load_n(&ep->ks->send_waiters, __ATOMIC_RELAXED))
			roles &= ~CHAN_ROLE_SEND;
		if (roles)
			chan_ep_wake(ep, roles);
	}
	if (done) {
		chan_ep_count(ep, &ep->fast_received);
		*got = done;
		return 0;
	}
	/* Drained and closed, or with no sender left: the kernel says 0. */
	if (nonblock && (pos == -EBUSY ||
			 (pos == -EAGAIN &&
			  !(state & (CHAN_STATE_NO_SENDERS | CHAN_STATE_CLOSED)))))
		return -EAGAIN;
	return CHAN_EP_SLOW;
}

static ssize_t chan_ep_stream_readmsg(struct chan_ep *ep, void *buf, size_t cap,
				      unsigned int flags, uint64_t timeout_ns)
{
	size_t got = 0;
	ssize_t ret;

	if (!ep || (cap && !buf))
		return -EINVAL;
	if (!cap)
		return 0;
	if (chan_ep_fast(ep) && ep->stream && (ep->roles & CHAN_ROLE_RECV)) {
		ret = chan_ep_stream_fast_read(ep, buf, cap,
					       flags & CHAN_MSG_NONBLOCK, &got);
		if (!ret)
			return (ssize_t)got;
		if (ret != CHAN_EP_SLOW)
			return ret;
	}
	ret = chan_recvmsg(ep->fd, 0, buf, cap, flags, timeout_ns, NULL);
	if (ret > 0)
		chan_stat_inc(&ep->kernel_received);
	/* The end of the stream, as read(2) tells it. */
	return ret == -EPIPE ? 0 : ret;
}

ssize_t chan_ep_stream_read(struct chan_ep *ep, void *buf, size_t cap)
{
	return chan_ep_stream_readmsg(ep, buf, cap, 0, 0);
}

ssize_t chan_ep_stream_read_timeout(struct chan_ep *ep, void *buf, size_t cap,
				    uint64_t timeout_ns)
{
	return chan_ep_stream_readmsg(ep, buf, cap, CHAN_MSG_TIMEOUT,
				      timeout_ns);
}

ssize_t chan_ep_stream_write(struct chan_ep *ep, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t done = 0, n;
	int ret;

	if (!ep || (len && !buf) || len > SSIZE_MAX)
		return -EINVAL;
	while (done < len) {
		n = len - done;
		if (n > ep->msg_size)
			n = ep->msg_size;
		ret = CHAN_EP_SLOW;
		if (chan_ep_fast(ep) && ep->stream &&
		    (ep->roles & CHAN_ROLE_SEND)) {
			ret = chan_ep_fast_send(ep, p + done, n, 0);
			if (!ret)
				chan_ep_sent(ep);
		}
		if (ret == CHAN_EP_SLOW) {
			/* One atomic piece through the kernel, waiting. */
			ret = chan_sendmsg(ep->fd, 0, p + done, n, 0, 0);
			if (ret == -EINTR)
				continue;
			if (!ret)
				chan_stat_inc(&ep->kernel_sent);
		}
		if (ret)
			return done ? (ssize_t)done : ret;
		done += n;
	}
	return (ssize_t)done;
}

int chan_ep_send(struct chan_ep *ep, const void *msg, size_t len)
{
	return chan_ep_sendmsg(ep, msg, len, 0, 0);
}

int chan_ep_try_send(struct chan_ep *ep, const void *msg, size_t len)
{
	return chan_ep_sendmsg(ep, msg, len, CHAN_MSG_NONBLOCK, 0);
}

int chan_ep_send_timeout(struct chan_ep *ep, const void *msg, size_t len,
			 uint64_t timeout_ns)
{
	return chan_ep_sendmsg(ep, msg, len, CHAN_MSG_TIMEOUT, timeout_ns);
}

ssize_t chan_ep_recv(struct chan_ep *ep, void *buf, size_t cap)
{
	return chan_ep_recvmsg(ep, buf, cap, 0, 0, NULL);
}

ssize_t chan_ep_try_recv(struct chan_ep *ep, void *buf, size_t cap)
{
	return chan_ep_recvmsg(ep, buf, cap, CHAN_MSG_NONBLOCK, 0, NULL);
}

ssize_t chan_ep_recv_timeout(struct chan_ep *ep, void *buf, size_t cap,
			     uint64_t timeout_ns)
{
	return chan_ep_recvmsg(ep, buf, cap, CHAN_MSG_TIMEOUT, timeout_ns, NULL);
}

/*
 * A zeroed handle on cache lines of its own: the counters a fast path
 * bumps on every message must not share a line with another handle's
 * (a producer's and a consumer's handles allocated one after the other
 * would, and every message would move that line between their CPUs).
 */
static struct chan_ep *chan_ep_alloc(void)
{
	size_t size = (sizeof(struct chan_ep) + CHAN_RING_ALIGN - 1) &
		      ~(size_t)(CHAN_RING_ALIGN - 1);
	struct chan_ep *ep = aligned_alloc(CHAN_RING_ALIGN, size);

	if (ep)
		memset(ep, 0, size);
	return ep;
}

/*
 * Point @ep's fast path at the ring laid out at @mem (a header page, then
 * the slots), with a view built from the given geometry, never read back
 * from the shared header; valid in this fork generation.
 */
static void chan_ep_set_ring(struct chan_ep *ep, void *mem, uint32_t msg_size,
			     uint32_t capacity)
{
	ep->v.hdr = mem;
	ep->v.slots = (unsigned char *)mem + CHAN_RING_HDR_SIZE;
	ep->v.mask = capacity - 1;
	ep->v.shift = (uint32_t)__builtin_ctz(capacity);
	ep->v.slot_size = chan_ring_slot_size(msg_size);
	ep->v.msg_size = msg_size;
	ep->ks = &ep->v.hdr->kstate;
	ep->map_gen = atomic_load_explicit(&chan_fork_gen,
					   memory_order_relaxed);
	ep->map = mem;
}

/*
 * Map a broadcast channel: its ring read-only (the kernel refuses it
 * writable) and, for a receiver, its cursor page, which follows the ring.
 * A sender-only endpoint maps nothing: its sends go to the kernel.
 */
static void chan_ep_map_bcast(struct chan_ep *ep, void *map, size_t size,
			      uint32_t ring_msg, uint32_t capacity)
{
	long page = sysconf(_SC_PAGESIZE);
	void *cur;

	cur = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED,
		   ep->fd, (off_t)size);
	if (cur == MAP_FAILED) {
		munmap(map, size);
		return;
	}
	chan_ep_set_ring(ep, map, ring_msg, capacity);
	ep->map = NULL;
	ep->bmap = map;
	ep->bcur = cur;
	ep->map_size = size;
	ep->owns_map = true;
}

/*
 * Map a ring of one layout: the common one, or (@compact) the compact SPSC
 * ring, and check its header against the geometry we expect. Return: the
 * mapping, of *sizep bytes, or NULL (errno kept).
 */
static void *chan_ep_map_layout(struct chan_ep *ep,
				const struct chan_info *info, bool compact,
				size_t *sizep)
{
	uint32_t ring_msg = info->msg_size + ep->crc;
	uint32_t slot_size = compact ? chan_spsc_ring_stride(ring_msg) :
				       chan_ring_slot_size(ring_msg);
	uint32_t version = compact ? CHAN_RING_VERSION_SPSC : CHAN_RING_VERSION;
	long page = sysconf(_SC_PAGESIZE);
	const struct chan_ring_hdr *hdr;
	size_t size;
	void *map;
	int saved = errno;

	size = CHAN_RING_HDR_SIZE +
	       (compact ? (size_t)chan_spsc_ring_size(info->capacity, ring_msg) :
			  (size_t)info->capacity * slot_size);
	size = (size + (size_t)page - 1) & ~((size_t)page - 1);
	map = mmap(NULL, size, (info->chan_flags & CHAN_CREATE_BROADCAST) ?
		   PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, ep->fd, 0);
	errno = saved;
	if (map == MAP_FAILED)
		return NULL;
	hdr = map;
	if (hdr->magic != CHAN_RING_MAGIC || hdr->version != version ||
	    hdr->msg_size != ring_msg || hdr->slot_size != slot_size ||
	    hdr->capacity != info->capacity ||
	    hdr->slots_offset != CHAN_RING_HDR_SIZE) {
		munmap(map, size);
		errno = saved;
		return NULL;
	}
	*sizep = size;
	return map;
}

/*
 * Map the ring of a mappable channel. The geometry comes from INFO and is
 * checked against the header; the view is built from our own copy, never
 * read back from shared memory. Any failure leaves the handle on the
 * kernel path.
 *
 * An SPSC channel's ring is compact on a kernel that reports
 * CHAN_FEAT_SPSC_COMPACT, and of the common layout on an older one: INFO
 * does not say which, so the compact layout is tried first (a wrong size
 * fails the mmap() with EINVAL, a right size with the wrong layout fails
 * the header's version), then the common one.
 */
static void chan_ep_map(struct chan_ep *ep, const struct chan_info *info)
{
	uint32_t ring_msg = info->msg_size + ep->crc;
	long page = sysconf(_SC_PAGESIZE);
	size_t size = 0;
	void *map = NULL;
	int saved = errno;

	if (info->capacity & (info->capacity - 1) || page <= 0)
		return;
	if ((info->chan_flags & CHAN_CREATE_BROADCAST) &&
	    !(ep->roles & CHAN_ROLE_RECV))
		return;
	if (ep->spsc) {
		map = chan_ep_map_layout(ep, info, true, &size);
		if (map) {
			chan_ep_set_ring(ep, map, ring_msg, info->capacity);
			chan_spsc_ring_init(&ep->sr, map,
					    (unsigned char *)map +
					    CHAN_RING_HDR_SIZE,
					    info->capacity, ring_msg);
			ep->head_cache = 0;
			ep->tail_cache = 0;
			ep->compact = true;
			/* The kernel's waiters fence us (see above). */
			ep->fence = false;
			ep->map_size = size;
			ep->owns_map = true;
			return;
		}
	}
	map = chan_ep_map_layout(ep, info, false, &size);
	if (!map)
		return;
	if (info->chan_flags & CHAN_CREATE_BROADCAST) {
		ep->blossless = info->chan_flags & CHAN_CREATE_LOSSLESS;
		chan_ep_map_bcast(ep, map, size, ring_msg, info->capacity);
		errno = saved;
		return;
	}
	chan_ep_set_ring(ep, map, ring_msg, info->capacity);
	ep->map_size = size;
	ep->owns_map = true;
}

int chan_ep_attach_ring(struct chan_ep **epp, void *mem, uint32_t msg_size,
			uint32_t capacity, unsigned int roles, uint32_t token)
{
	struct chan_ep *ep;

	if (!epp || !mem || !capacity || (capacity & (capacity - 1)) ||
	    token <= CHAN_OWNER_KERNEL || token > CHAN_SLOT_OWNER_MASK)
		return -EINVAL;
	ep = chan_ep_alloc();
	if (!ep)
		return -ENOMEM;
	ep->fd = -1;
	ep->roles = roles;
	ep->token = token;
	ep->msg_size = msg_size;
	ep->fence = true;
	chan_ep_set_ring(ep, mem, msg_size, capacity);
	*epp = ep;
	return 0;
}

int chan_ep_attach_ring_spsc(struct chan_ep **epp, void *mem,
			     uint32_t msg_size, uint32_t capacity,
			     unsigned int roles, uint32_t token, bool fenced)
{
	int ret = chan_ep_attach_ring(epp, mem, msg_size, capacity, roles,
				      token);

	if (!ret) {
		(*epp)->spsc = true;
		(*epp)->fence = fenced;
	}
	return ret;
}

int chan_ep_attach_ring_compact(struct chan_ep **epp, void *mem,
				uint32_t msg_size, uint32_t capacity,
				unsigned int roles, bool fenced)
{
	/* Any valid token: a compact ring never carries one. */
	int ret = chan_ep_attach_ring_spsc(epp, mem, msg_size, capacity, roles,
					   CHAN_OWNER_KERNEL + 1, fenced);

	if (!ret) {
		chan_spsc_ring_init(&(*epp)->sr, mem,
				    (unsigned char *)mem + CHAN_RING_HDR_SIZE,
				    capacity, msg_size);
		(*epp)->compact = true;
	}
	return ret;
}

int chan_ep_open_typed(struct chan_ep **epp, uint32_t id, unsigned int roles,
		       unsigned int flags, uint64_t type_tag)
{
	struct chan_open o = {
		.size = sizeof(o),
		.flags = flags & ~CHAN_EP_NO_MAP,
		.id = id,
		.roles = roles,
		.type_tag = type_tag,
	};
	struct chan_info info;
	struct chan_ep *ep;
	int dev, fd, ret;

	if (!epp)
		return -EINVAL;
	pthread_once(&chan_atfork_once, chan_atfork_register);
	dev = chan_dev_fd();
	if (dev < 0)
		return dev;
	ep = chan_ep_alloc();
	if (!ep)
		return -ENOMEM;
	fd = chan_ioctl(dev, CHAN_IOC_OPEN, &o);
	if (fd < 0) {
		free(ep);
		return fd;
	}
	ep->fd = fd;
	ep->roles = roles;
	ep->token = o.out_token;
	ret = chan_fd_info(fd, &info);
	if (ret) {
		chan_close(fd);
		free(ep);
		return ret;
	}
	ep->msg_size = info.msg_size;
	if (info.chan_flags & CHAN_CREATE_CRC32C)
		ep->crc = CHAN_CRC_SIZE;
	ep->spsc = info.chan_flags & CHAN_CREATE_SPSC;
	ep->stream = info.chan_flags & CHAN_CREATE_STREAM;
	ep->fence = true;
	if ((info.chan_flags & CHAN_CREATE_MAPPABLE) &&
	    !(flags & CHAN_EP_NO_MAP) &&
	    (ep->token > CHAN_OWNER_KERNEL ||
	     (info.chan_flags & CHAN_CREATE_BROADCAST)))
		chan_ep_map(ep, &info);
	*epp = ep;
	return 0;
}

int chan_ep_open(struct chan_ep **epp, uint32_t id, unsigned int roles,
		 unsigned int flags)
{
	return chan_ep_open_typed(epp, id, roles, flags, 0);
}

int chan_ep_close(struct chan_ep *ep)
{
	int saved = errno, ret;

	if (!ep)
		return -EINVAL;
	/* A child of fork() does not have its parent's mapping. */
	if (chan_ep_fast(ep) && ep->owns_map)
		munmap(ep->map, ep->map_size);
	if (chan_ep_bfast(ep)) {
		munmap(ep->bmap, ep->map_size);
		munmap(ep->bcur, (size_t)sysconf(_SC_PAGESIZE));
	}
	errno = saved;
	ret = ep->fd >= 0 ? chan_close(ep->fd) : 0;
	free(ep);
	return ret;
}

int chan_ep_fd(const struct chan_ep *ep)
{
	return ep ? ep->fd : -EINVAL;
}

int chan_ep_close_channel(struct chan_ep *ep)
{
	return ep ? chan_close_channel(ep->fd, 0, 0) : -EINVAL;
}

uint64_t chan_ep_lost(const struct chan_ep *ep)
{
	if (!ep)
		return 0;
	return atomic_load_explicit(&ep->lost, memory_order_relaxed);
}

int chan_ep_spsc(struct chan_ep *ep, unsigned int role, struct chan_spsc *s)
{
	bool send = role == CHAN_ROLE_SEND;

	if (!ep || !s || (role != CHAN_ROLE_SEND && role != CHAN_ROLE_RECV) ||
	    !(ep->roles & role))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->ep = ep;
	s->role = role;
	s->slow = 1;
	/* The inline code has no CRC32C and no other protocol. */
	if (!ep->compact || ep->crc || !chan_ep_fast(ep))
		return 0;
	s->own = send ? ep->sr.tail : ep->sr.head;
	s->other = send ? ep->sr.head : ep->sr.tail;
	/* A lower bound of the other cursor, as the handle's own cache. */
	s->cache = send ? ep->head_cache : ep->tail_cache;
	s->lens = ep->sr.lens;
	s->slots = ep->sr.slots;
	s->mask = ep->sr.mask;
	s->stride = ep->sr.stride;
	s->msg_size = ep->sr.msg_size;
	s->state = &ep->ks->state;
	s->waiters = send ? &ep->ks->recv_waiters : &ep->ks->send_waiters;
	/* One thread sends (receives) on an SPSC handle: a plain count. */
	s->count = (uint64_t *)(send ? &ep->fast_sent : &ep->fast_received);
	s->genp = (const unsigned int *)&chan_fork_gen;
	s->gen = ep->map_gen;
	s->slow = 0;
	return 1;
}

void chan_spsc_depth(struct chan_spsc *s, uint64_t end)
{
	if (s && !s->slow)
		chan_ep_note_depth(s->ep, end);
}

void chan_spsc_wake(struct chan_spsc *s)
{
	if (s && !s->slow)
		chan_ep_wake(s->ep, s->role == CHAN_ROLE_SEND ? CHAN_ROLE_RECV :
							       CHAN_ROLE_SEND);
}

int chan_ep_mapped(const struct chan_ep *ep)
{
	return ep && (chan_ep_fast(ep) || chan_ep_bfast(ep));
}

int chan_ep_get_stats(const struct chan_ep *ep, struct chan_ep_stats *st,
		      size_t size)
{
	struct chan_ep_stats s;

	if (!ep || !st)
		return -EINVAL;
	s.fast_sent = atomic_load_explicit(&ep->fast_sent,
					   memory_order_relaxed);
	s.fast_received = atomic_load_explicit(&ep->fast_received,
					       memory_order_relaxed);
	s.kernel_sent = atomic_load_explicit(&ep->kernel_sent,
					     memory_order_relaxed);
	s.kernel_received = atomic_load_explicit(&ep->kernel_received,
						 memory_order_relaxed);
	s.wakes = atomic_load_explicit(&ep->wakes, memory_order_relaxed);
	/* Never more than the caller's version of the struct has. */
	memcpy(st, &s, size < sizeof(s) ? size : sizeof(s));
	return 0;
}
