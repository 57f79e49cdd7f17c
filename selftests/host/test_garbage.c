// SPDX-License-Identifier: GPL-2.0
/*
 * A mapped ring is writable by every participant, so the kernel must
 * survive any contents: with cursors and slot words full of garbage
 * (fixed seeds), every call returns within its retry bound, touches only
 * the ring (guard page behind it, canary bytes in front, the header but
 * for the cursors compared), and hands out lengths clamped to msg_size.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_fixture.h"
#include "ring_tests.h"

#ifdef __SANITIZE_THREAD__
#define GARBAGE_ROUNDS		60
#else
#define GARBAGE_ROUNDS		600
#endif
#define GARBAGE_OPS		12
#define GARBAGE_MSG_SIZE	40
/* One call walks at most CHAN_RING_RETRY_MAX steps: far below this. */
#define CALL_LIMIT_NS		(2 * NSEC_PER_SEC)

struct garbage_stats {
	uint64_t claimed, eagain, eio, emsgsize;
	uint64_t negative_pos;	/* claims at a cursor >= 2^63 */
};

/* A state word that is either anything at all or close to plausible. */
static uint64_t garbage_state(uint64_t *rnd, uint64_t lap)
{
	uint64_t r = host_rand(rnd);

	switch (r % 4) {
	case 0:
		return host_rand(rnd);
	default:
		return chan_slot_state(lap + (r >> 8) % 3 - 1, (uint32_t)(r >> 16),
				       (uint32_t)(r >> 20));
	}
}

static uint32_t garbage_len(uint64_t *rnd, uint32_t msg_size)
{
	uint64_t r = host_rand(rnd);

	switch (r % 4) {
	case 0:
		return (uint32_t)(r >> 32);
	case 1:
		return msg_size + 1 + (uint32_t)(r >> 40) % 64;
	default:
		return (uint32_t)(r >> 32) % (msg_size + 1);
	}
}

static void garbage_fill(struct ring_fixture *f, uint64_t *rnd)
{
	uint64_t base = host_rand(rnd), i;

	/* Half the time, cursors near one another so laps mostly match. */
	if (host_rand(rnd) & 1) {
		f->hdr->tail = host_rand(rnd);
		f->hdr->head = host_rand(rnd);
	} else {
		f->hdr->tail = base + host_rand(rnd) % (2 * f->capacity + 1);
		f->hdr->head = base + host_rand(rnd) % (2 * f->capacity + 1);
	}
	for (i = 0; i < f->capacity; i++) {
		struct chan_slot *s = ring_slot_at(f, base + i);

		s->state = garbage_state(rnd, chan_ring_lap(&f->v, base + i));
		s->len = garbage_len(rnd, f->msg_size);
		s->flags = (uint32_t)host_rand(rnd);
	}
}

static bool slot_in_ring(const struct ring_fixture *f, const struct chan_slot *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off;

	if (p < f->v.slots)
		return false;
	off = (size_t)(p - f->v.slots);
	return off < (size_t)f->capacity * f->v.slot_size && !(off % f->v.slot_size);
}

static bool garbage_op(struct ring_fixture *f, uint64_t *rnd,
		       struct garbage_stats *st)
{
	unsigned char buf[GARBAGE_MSG_SIZE];
	uint64_t t0 = ct_now_ns(), r = host_rand(rnd);
	const char *what = "";
	struct chan_slot *s;
	__u32 len = 0xdeadbeef, max_len = 0;
	__s64 pos = 0;
	bool ok = false;

	switch (r % 6) {
	case 0:
	case 1:
		what = "claim_send";
		s = chan_ring_claim_send(&f->v, 2 + (uint32_t)(r >> 8) % 4, &pos);
		if (s) {
			CHECK(slot_in_ring(f, s), "claim_send gave slot %p outside the ring",
			      (void *)s);
			CHECK(chan_ring_slot(&f->v, (__u64)pos) == s,
			      "claim_send: slot %p is not that of position %#llx",
			      (void *)s, (unsigned long long)pos);
			st->negative_pos += pos < 0;
			memset(s->data, 0x5a, f->msg_size);
			chan_ring_publish(&f->v, s, (__u64)pos, f->msg_size, 2);
		}
		break;
	case 2:
	case 3:
		what = "claim_recv";
		max_len = (r >> 8) & 1 ? f->msg_size : (uint32_t)(r >> 16) % f->msg_size;
		s = chan_ring_claim_recv(&f->v, 3, max_len, &pos, &len);
		if (s) {
			CHECK(slot_in_ring(f, s), "claim_recv gave slot %p outside the ring",
			      (void *)s);
			CHECK(chan_ring_slot(&f->v, (__u64)pos) == s,
			      "claim_recv: slot %p is not that of position %#llx",
			      (void *)s, (unsigned long long)pos);
			st->negative_pos += pos < 0;
			CHECK(len <= f->msg_size, "claim_recv: length %u > msg_size %u",
			      len, f->msg_size);
			if (!chan_slot_is_tombstone(s)) {
				CHECK(len <= max_len, "claim_recv: length %u > max_len %u",
				      len, max_len);
				memcpy(buf, s->data, len);
			}
			chan_ring_retire(&f->v, s, (__u64)pos);
		} else if (pos == -EMSGSIZE) {
			CHECK(len <= f->msg_size && len > max_len,
			      "EMSGSIZE with length %u (max_len %u, msg_size %u)", len,
			      max_len, f->msg_size);
		}
		break;
	case 4:
		what = "can_send/can_recv/depth";
		chan_ring_can_send(&f->v);
		chan_ring_can_recv(&f->v);
		CHECK(chan_ring_depth(&f->v) <= f->capacity, "depth %u > capacity",
		      chan_ring_depth(&f->v));
		pos = 0;
		s = NULL;
		break;
	default: {
		struct chan_ring_repair_counts c = { 0 };

		what = "repair";
		chan_ring_repair(&f->v, 2 + (uint32_t)(r >> 8) % 8, &c);
		CHECK(c.tombstoned + c.reader_drops + c.skipped <= f->capacity,
		      "repair counted %u slots", c.tombstoned + c.reader_drops + c.skipped);
		pos = 0;
		s = NULL;
		break;
	}
	}
	if (s)
		st->claimed++;
	else if (pos == -EAGAIN)
		st->eagain++;
	else if (pos == -EIO)
		st->eio++;
	else if (pos == -EMSGSIZE)
		st->emsgsize++;
	else
		CHECK(pos == 0, "%s returned NULL with %lld", what, (long long)pos);
	CHECK(ct_now_ns() - t0 < CALL_LIMIT_NS, "%s took %.3f s", what,
	      (double)(ct_now_ns() - t0) / NSEC_PER_SEC);
	ok = true;
out:
	return ok;
}

bool test_garbage_single(const void *arg)
{
	static const uint32_t caps[] = { 1, 4, 64 };
	struct garbage_stats st = { 0 };
	struct ring_fixture f = { 0 };
	unsigned int c, round, op;
	uint64_t rnd = 0x9e3779b97f4a7c15ULL;
	bool ok = false;

	(void)arg;
	for (c = 0; c < ARRAY_SIZE(caps); c++) {
		CHECK(!ring_fixture_init(&f, caps[c], GARBAGE_MSG_SIZE), "cannot map a ring");
		for (round = 0; round < GARBAGE_ROUNDS; round++) {
			garbage_fill(&f, &rnd);
			for (op = 0; op < GARBAGE_OPS; op++)
				CHECK(garbage_op(&f, &rnd, &st), "capacity %u round %u op %u",
				      caps[c], round, op);
			CHECK(ring_fixture_intact(&f), "capacity %u round %u", caps[c], round);
			CHECK(!host_test_expired(), "out of time at capacity %u round %u",
			      caps[c], round);
		}
		ring_fixture_destroy(&f);
	}
	host_diag("claimed %llu (%llu at a cursor >= 2^63, *posp < 0), -EAGAIN %llu, -EIO (retry bound) %llu, -EMSGSIZE %llu",
		  (unsigned long long)st.claimed,
		  (unsigned long long)st.negative_pos,
		  (unsigned long long)st.eagain,
		  (unsigned long long)st.eio, (unsigned long long)st.emsgsize);
	CHECK(st.claimed && st.eagain && st.eio && st.emsgsize,
	      "garbage did not reach every outcome");
	ok = true;
out:
	ring_fixture_destroy(&f);
	return ok;
}

/* Garbage written while others use the ring. */

#define SCRIBBLE_WORKERS	4
#ifdef __SANITIZE_THREAD__
#define SCRIBBLE_NS		(1 * NSEC_PER_SEC)
#else
#define SCRIBBLE_NS		(2 * NSEC_PER_SEC)
#endif

struct scribble_run {
	struct ring_fixture f;
	uint64_t end_ns;
	uint64_t ops, claims;
	struct host_stop stop;	/* the first failure */
};

/* The first failure stops every thread. */
#define scribble_fail(run, ...)	host_stop_fail(&(run)->stop, __VA_ARGS__)

static bool scribble_done(struct scribble_run *run)
{
	return host_stopped(&run->stop) ||
	       ct_now_ns() > run->end_ns;
}

/*
 * Payload copies word by word with relaxed atomics: with garbage in the
 * state words two threads may well own one slot, which is the spoiled
 * message the trust model allows, not a bug for ThreadSanitizer to flag.
 */
static void copy_in(struct chan_slot *s, uint32_t len, uint64_t word)
{
	uint64_t *d = (uint64_t *)(void *)s->data;
	uint32_t i;

	for (i = 0; i < len / 8; i++)
		__atomic_store_n(&d[i], word, __ATOMIC_RELAXED);
}

static void copy_out(const struct chan_slot *s, uint32_t len, uint64_t *buf)
{
	const uint64_t *d = (const uint64_t *)(const void *)s->data;
	uint32_t i;

	for (i = 0; i < (len + 7) / 8; i++)
		buf[i] = __atomic_load_n(&d[i], __ATOMIC_RELAXED);
}

static void *scribble_worker(void *arg)
{
	struct scribble_run *run = arg;
	struct ring_fixture *f = &run->f;
	uint64_t buf[GARBAGE_MSG_SIZE / 8], rnd = (uintptr_t)&buf;
	uint64_t ops = 0, claims = 0;

	while (!scribble_done(run)) {
		uint64_t t0 = ct_now_ns(), r = host_rand(&rnd);
		struct chan_slot *s;
		__u32 len = 0, max_len = f->msg_size;
		__s64 pos;

		if (r & 1) {
			s = chan_ring_claim_send(&f->v, 2 + (r >> 1) % 4, &pos);
			if (s && slot_in_ring(f, s)) {
				copy_in(s, f->msg_size, r);
				chan_ring_publish(&f->v, s, (__u64)pos, f->msg_size, 2);
			}
		} else {
			if (r & 2)
				max_len = (uint32_t)(r >> 8) % f->msg_size;
			s = chan_ring_claim_recv(&f->v, 8, max_len, &pos, &len);
			if (s && slot_in_ring(f, s)) {
				if (len > f->msg_size) {
					scribble_fail(run, "claim_recv: length %u > msg_size", len);
					break;
				}
				if (!chan_slot_is_tombstone(s))
					copy_out(s, len, buf);
				chan_ring_retire(&f->v, s, (__u64)pos);
			} else if (!s && pos == -EMSGSIZE && len > f->msg_size) {
				scribble_fail(run, "EMSGSIZE with length %u > msg_size", len);
				break;
			}
		}
		if (s && !slot_in_ring(f, s)) {
			scribble_fail(run, "a claim gave slot %p outside the ring", (void *)s);
			break;
		}
		if (!s && pos != -EAGAIN && pos != -EIO && pos != -EMSGSIZE) {
			scribble_fail(run, "a claim returned NULL with %lld", (long long)pos);
			break;
		}
		if (ct_now_ns() - t0 > CALL_LIMIT_NS) {
			scribble_fail(run, "a claim took %.3f s",
				      (double)(ct_now_ns() - t0) / NSEC_PER_SEC);
			break;
		}
		ops++;
		claims += !!s;
		if (!(ops & 15))
			sched_yield();
	}
	__atomic_fetch_add(&run->ops, ops, __ATOMIC_RELAXED);
	__atomic_fetch_add(&run->claims, claims, __ATOMIC_RELAXED);
	return NULL;
}

static void *scribbler(void *arg)
{
	struct scribble_run *run = arg;
	struct ring_fixture *f = &run->f;
	uint64_t rnd = 0xfeedfacecafebeefULL, n = 0;

	while (!scribble_done(run)) {
		uint64_t r = host_rand(&rnd), pos;
		struct chan_slot *s;

		switch (r % 8) {
		case 0:
			__atomic_store_n(&f->hdr->tail, host_rand(&rnd), __ATOMIC_RELAXED);
			break;
		case 1:
			__atomic_store_n(&f->hdr->head,
					 __atomic_load_n(&f->hdr->tail, __ATOMIC_RELAXED) +
					 (r >> 8) % 3 - 1, __ATOMIC_RELAXED);
			break;
		case 2:
			__atomic_store_n(&ring_slot_at(f, r >> 8)->len,
					 garbage_len(&rnd, f->msg_size), __ATOMIC_RELAXED);
			break;
		case 3:
			__atomic_store_n(&ring_slot_at(f, r >> 8)->flags,
					 (uint32_t)host_rand(&rnd), __ATOMIC_RELAXED);
			break;
		default:
			pos = __atomic_load_n(&f->hdr->tail, __ATOMIC_RELAXED) + (r >> 8) % 4;
			s = ring_slot_at(f, pos);
			__atomic_store_n(&s->state,
					 garbage_state(&rnd, chan_ring_lap(&f->v, pos)),
					 __ATOMIC_RELAXED);
			break;
		}
		if (!(++n & 7))
			sched_yield();
	}
	return NULL;
}

bool test_garbage_concurrent(const void *arg)
{
	const uint32_t *cap = arg;
	pthread_t tid[SCRIBBLE_WORKERS + 1];
	struct scribble_run *run;
	unsigned int n, started = 0;
	bool ok = false;

	run = calloc(1, sizeof(*run));
	if (!run)
		return false;
	CHECK(!ring_fixture_init(&run->f, *cap, GARBAGE_MSG_SIZE), "cannot map a ring");
	run->end_ns = ct_now_ns() + SCRIBBLE_NS;
	for (n = 0; n <= SCRIBBLE_WORKERS; n++, started++)
		if (pthread_create(&tid[n], NULL, n ? scribble_worker : scribbler, run))
			break;
	if (started <= SCRIBBLE_WORKERS)
		scribble_fail(run, "cannot start thread %u", started);
	for (n = 0; n < started; n++)
		pthread_join(tid[n], NULL);
	CHECK(!host_stopped(&run->stop), "%s", run->stop.why);
	CHECK(ring_fixture_intact(&run->f), "memory around the ring");
	host_diag("%llu calls, %llu claims", (unsigned long long)run->ops,
		  (unsigned long long)run->claims);
	CHECK(run->claims, "no claim ever succeeded");
	ok = true;
out:
	ring_fixture_destroy(&run->f);
	free(run);
	return ok;
}
