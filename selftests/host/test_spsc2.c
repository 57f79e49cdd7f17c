// SPDX-License-Identifier: GPL-2.0
/*
 * The compact SPSC ring of kmod/chan_spsc_ring.h (models/spsc2.pml): FIFO
 * order, full and empty, -EMSGSIZE that keeps the message, a party killed
 * before its cursor store (nothing sent, nothing taken), hostile cursors
 * and lengths (bounded, clamped, in the ring), and two threads streaming
 * millions of messages of varying lengths, each checked byte for byte and
 * all by a running checksum.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_spsc_ring.h"
#include "ring_fixture.h"
#include "ring_tests.h"

#define SPSC2_CANARY	4096
#define SPSC2_BYTE	0x5a

/* A header page and the slots, between two canary areas. */
struct spsc2_ring {
	struct chan_spsc_ring r;
	struct chan_ring_hdr *hdr;
	unsigned char *mem;
	unsigned char *slots;
	size_t slots_bytes;
	size_t mem_bytes;
	uint32_t capacity;
	uint32_t msg_size;
	/* Each side's private copy of the other's cursor. */
	__u64 head_cache __attribute__((aligned(64)));
	__u64 tail_cache __attribute__((aligned(64)));
};

static int spsc2_init(struct spsc2_ring *s, uint32_t capacity,
		      uint32_t msg_size)
{
	memset(s, 0, sizeof(*s));
	s->capacity = capacity;
	s->msg_size = msg_size;
	s->slots_bytes = chan_spsc_ring_size(capacity, msg_size);
	s->mem_bytes = 2 * SPSC2_CANARY + CHAN_RING_HDR_SIZE + s->slots_bytes;
	s->mem = aligned_alloc(4096, (s->mem_bytes + 4095) & ~(size_t)4095);
	if (!s->mem)
		return -ENOMEM;
	memset(s->mem, SPSC2_BYTE, s->mem_bytes);
	s->hdr = (struct chan_ring_hdr *)(s->mem + SPSC2_CANARY);
	memset(s->hdr, 0, CHAN_RING_HDR_SIZE + s->slots_bytes);
	s->slots = (unsigned char *)s->hdr + CHAN_RING_HDR_SIZE;
	chan_spsc_ring_init(&s->r, s->hdr, s->slots, capacity, msg_size);
	return 0;
}

/* The canaries are intact; frees the ring. */
static bool spsc2_finish(struct spsc2_ring *s, bool ok)
{
	const unsigned char *after = s->slots + s->slots_bytes;
	size_t i;

	for (i = 0; i < SPSC2_CANARY; i++) {
		if (s->mem[i] != SPSC2_BYTE || after[i] != SPSC2_BYTE) {
			host_diag("canary %zu overwritten", i);
			ok = false;
			break;
		}
	}
	free(s->mem);
	return ok;
}

static int spsc2_send(struct spsc2_ring *s, const void *msg, uint32_t len)
{
	unsigned char *p;
	__s64 pos;

	p = chan_spsc_ring_send_begin(&s->r, &s->head_cache, &pos);
	if (!p)
		return (int)pos;
	memcpy(p, msg, len);
	chan_spsc_ring_send_end(&s->r, (__u64)pos, len);
	return 0;
}

/* The length, or a negative errno (-EMSGSIZE: *lenp set). */
static int spsc2_recv(struct spsc2_ring *s, void *buf, uint32_t max,
		      uint32_t *lenp)
{
	const unsigned char *p;
	__u32 len = 0;
	__s64 pos;

	p = chan_spsc_ring_recv_begin(&s->r, &s->tail_cache, max, &pos, &len);
	*lenp = len;
	if (!p)
		return (int)pos;
	memcpy(buf, p, len);
	chan_spsc_ring_recv_end(&s->r, (__u64)pos);
	return (int)len;
}

bool test_spsc2_basic(const void *arg)
{
	static const uint32_t caps[] = { 1, 2, 4, 1024 };
	unsigned char msg[64], buf[64];
	struct spsc2_ring s;
	unsigned int c;
	bool ok = true;

	(void)arg;
	if (chan_spsc_ring_stride(8) != 8 || chan_spsc_ring_stride(64) != 64 ||
	    chan_spsc_ring_stride(0) != 8 || chan_spsc_ring_stride(1) != 8 ||
	    chan_spsc_ring_stride(68) != 72 ||
	    chan_spsc_ring_size(1024, 64) != 4096 + 1024 * 64 ||
	    chan_spsc_ring_size(2, 8) != 64 + 2 * 8) {
		host_diag("strides %u %u %u %u", chan_spsc_ring_stride(8),
			  chan_spsc_ring_stride(64), chan_spsc_ring_stride(0),
			  chan_spsc_ring_stride(1));
		return false;
	}
	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		uint32_t cap = caps[c], i, len = 0;
		int ret;

		if (spsc2_init(&s, cap, 64))
			return false;
		ok = false;
		/* The uapi's layout, computed here: lengths, whole lines, payloads. */
		CHECK((unsigned char *)s.r.lens == s.slots &&
		      s.r.slots == s.slots + (cap * 4 + 63) / 64 * 64 &&
		      chan_spsc_ring_slot(&s.r, cap - 1) + 64 ==
		      s.slots + s.slots_bytes &&
		      chan_spsc_ring_len(&s.r, cap - 1) ==
		      (__u32 *)s.slots + cap - 1, "layout at capacity %u", cap);
		CHECK(spsc2_recv(&s, buf, 64, &len) == -EAGAIN, "empty");
		CHECK(chan_spsc_ring_depth(&s.r) == 0, "depth 0");
		/* Fill: lengths 0, 1, ... then full. */
		for (i = 0; i < cap; i++) {
			msg_fill(msg, 64, i);
			CHECK(spsc2_send(&s, msg, i % 65) == 0, "send %u", i);
		}
		CHECK(spsc2_send(&s, msg, 8) == -EAGAIN, "full at %u", cap);
		CHECK(chan_spsc_ring_depth(&s.r) == cap, "depth cap");
		/* A short buffer: -EMSGSIZE, the message stays. */
		if (cap > 1) {
			CHECK(spsc2_recv(&s, buf, 0, &len) == 0 && len == 0,
			      "zero-length message");
			CHECK(spsc2_recv(&s, buf, 0, &len) == -EMSGSIZE &&
			      len == 1, "EMSGSIZE: len %u", len);
			CHECK(spsc2_recv(&s, buf, 0, &len) == -EMSGSIZE,
			      "EMSGSIZE again");
			i = 1;
		} else {
			i = 0;
		}
		/* FIFO, each message whole. */
		for (; i < cap; i++) {
			ret = spsc2_recv(&s, buf, 64, &len);
			CHECK(ret == (int)(i % 65), "recv %u: %d", i, ret);
			CHECK(msg_verify(buf, len, i) == len, "bytes of %u", i);
		}
		CHECK(spsc2_recv(&s, buf, 64, &len) == -EAGAIN, "drained");
		/* Round and round: 10000 messages, depth up to 3. */
		for (i = 0; i < 10000; i++) {
			uint32_t want = (i * 7) % 65;

			msg_fill(msg, 64, i);
			CHECK(spsc2_send(&s, msg, want) == 0, "lap send %u", i);
			if (cap > 2 && i % 4 != 3)
				continue;
			while ((ret = spsc2_recv(&s, buf, 64, &len)) >= 0)
				;
			CHECK(ret == -EAGAIN, "lap recv %d", ret);
		}
		CHECK(s.hdr->tail == s.hdr->head && s.hdr->tail == 10000 +
		      cap, "cursors %llu %llu",
		      (unsigned long long)s.hdr->tail,
		      (unsigned long long)s.hdr->head);
		ok = true;
out:
		if (!spsc2_finish(&s, ok) || !ok)
			return false;
	}
	return true;
}

/*
 * A party killed at any step before its cursor store changed nothing the
 * other acts on; its cursor store is the whole operation.
 */
bool test_spsc2_deaths(const void *arg)
{
	unsigned char msg[16], buf[16];
	struct spsc2_ring s;
	const unsigned char *rp;
	unsigned char *p;
	uint32_t len = 0;
	__u32 l;
	__s64 pos, pos2;
	bool ok = false;

	(void)arg;
	if (spsc2_init(&s, 2, 16))
		return false;
	/* Producer killed after writing payload and length, before tail. */
	p = chan_spsc_ring_send_begin(&s.r, &s.head_cache, &pos);
	CHECK(p && pos == 0, "send_begin");
	memset(p, 0xee, 16);
	chan_store(chan_spsc_ring_len(&s.r, 0), 16U);
	CHECK(spsc2_recv(&s, buf, 16, &len) == -EAGAIN,
	      "a dead producer's unpublished message was received");
	CHECK(chan_spsc_ring_depth(&s.r) == 0, "depth");
	/* The next producer writes the same position: nothing to repair. */
	msg_fill(msg, 16, 1);
	CHECK(spsc2_send(&s, msg, 16) == 0 && s.hdr->tail == 1, "resend");
	msg_fill(msg, 16, 2);
	CHECK(spsc2_send(&s, msg, 9) == 0, "send 2");
	/* Consumer killed after reading, before its head store. */
	rp = chan_spsc_ring_recv_begin(&s.r, &s.tail_cache, 16, &pos, &l);
	CHECK(rp && pos == 0 && l == 16, "recv_begin");
	memcpy(buf, rp, l);
	/* A new consumer (its own, empty, cache) gets the same message. */
	s.tail_cache = 0;
	rp = chan_spsc_ring_recv_begin(&s.r, &s.tail_cache, 16, &pos2, &l);
	CHECK(rp && pos2 == 0 && l == 16 && msg_verify(rp, 16, 1) == 16,
	      "the dead consumer's message was lost");
	chan_spsc_ring_recv_end(&s.r, (__u64)pos2);
	CHECK(spsc2_recv(&s, buf, 16, &len) == 9 &&
	      msg_verify(buf, 9, 2) == 9, "the next message");
	CHECK(spsc2_recv(&s, buf, 16, &len) == -EAGAIN, "nothing twice");
	/*
	 * Producer killed after storing a new length (5) at index 0, where
	 * 16 was published a lap ago; the next producer sends 16 again. The
	 * length there is the dead one's, not the one last published: the
	 * send compares with the ring, so it stores 16 again.
	 */
	p = chan_spsc_ring_send_begin(&s.r, &s.head_cache, &pos);
	CHECK(p && pos == 2, "send_begin at 2");
	memset(p, 0xdd, 5);
	chan_store(chan_spsc_ring_len(&s.r, 2), 5U);
	msg_fill(msg, 16, 3);
	CHECK(spsc2_send(&s, msg, 16) == 0 && s.hdr->tail == 3, "resend 16");
	CHECK(spsc2_recv(&s, buf, 16, &len) == 16 &&
	      msg_verify(buf, 16, 3) == 16,
	      "after a death: len %u, not the message sent", len);
	ok = true;
out:
	return spsc2_finish(&s, ok);
}

/*
 * Whatever the cursors, cached cursors and lengths hold, a call returns at
 * once, a payload inside the slots with a length of at most msg_size (and
 * of the caller's max), or -EAGAIN / -EMSGSIZE / -EIO; the depth is within
 * [0, capacity]; nothing outside the ring is written. Then the cases
 * spelled out: a head past the tail, a tail more than a ring ahead.
 */
bool test_spsc2_garbage(const void *arg)
{
	static const uint32_t caps[] = { 1, 4, 64 };
	uint64_t rnd = 0x5350534332ULL;
	unsigned char msg[24], buf[24];
	struct spsc2_ring s;
	unsigned int c, i;
	bool ok = true;

	(void)arg;
	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		uint32_t cap = caps[c], len = 0;
		uint64_t counts[4] = { 0 };

		if (spsc2_init(&s, cap, 20))
			return false;
		ok = false;
		for (i = 0; i < 200000; i++) {
			uint64_t base = host_rand(&rnd), k;
			const unsigned char *rp;
			unsigned char *p;
			__s64 pos;
			__u32 l = 0, max = host_rand(&rnd) % 24;
			int ret;

			/* Near each other, or anything at all. */
			if (host_rand(&rnd) & 1) {
				s.hdr->tail = base + host_rand(&rnd) % (2 * cap + 3);
				s.hdr->head = base + host_rand(&rnd) % (2 * cap + 3);
				s.head_cache = base + host_rand(&rnd) % (2 * cap + 3);
				s.tail_cache = base + host_rand(&rnd) % (2 * cap + 3);
			} else {
				s.hdr->tail = host_rand(&rnd);
				s.hdr->head = host_rand(&rnd);
				s.head_cache = host_rand(&rnd);
				s.tail_cache = host_rand(&rnd);
			}
			for (k = 0; k < cap; k++)
				*chan_spsc_ring_len(&s.r, k) =
					(uint32_t)host_rand(&rnd) >>
					(host_rand(&rnd) % 32);

			p = chan_spsc_ring_send_begin(&s.r, &s.head_cache, &pos);
			if (p) {
				CHECK(p >= s.slots + (cap * 4 + 63) / 64 * 64 &&
				      p + 20 <= s.slots + s.slots_bytes,
				      "send payload outside the ring");
				CHECK((__u64)pos == s.hdr->tail, "send pos");
				memset(p, 0x11, 20);
				counts[0]++;
			} else {
				CHECK(pos == -EAGAIN || pos == -EIO,
				      "send: %lld", (long long)pos);
			}
			rp = chan_spsc_ring_recv_begin(&s.r, &s.tail_cache, max,
						       &pos, &l);
			if (rp) {
				CHECK(rp >= s.slots + (cap * 4 + 63) / 64 * 64 &&
				      rp + 20 <= s.slots + s.slots_bytes,
				      "recv payload outside the ring");
				CHECK(l <= max && l <= 20, "recv len %u", l);
				counts[1]++;
			} else if (pos == -EMSGSIZE) {
				CHECK(l > max && l <= 20, "EMSGSIZE len %u", l);
				counts[2]++;
			} else {
				CHECK(pos == -EAGAIN || pos == -EIO,
				      "recv: %lld", (long long)pos);
				counts[3] += pos == -EIO;
			}
			CHECK(chan_spsc_ring_depth(&s.r) <= cap, "depth");
			ret = spsc2_recv(&s, buf, 24, &len);
			CHECK(ret <= 20, "recv %d", ret);
		}
		/* Every outcome was reached. */
		CHECK(counts[0] && counts[1] && counts[2] && counts[3],
		      "outcomes %llu %llu %llu %llu",
		      (unsigned long long)counts[0],
		      (unsigned long long)counts[1],
		      (unsigned long long)counts[2],
		      (unsigned long long)counts[3]);

		/* A head past the tail: -EIO both ways, the depth 0. */
		s.hdr->tail = 100;
		s.hdr->head = 101;
		s.head_cache = 0;
		s.tail_cache = 0;
		msg_fill(msg, 24, 0);
		CHECK(spsc2_send(&s, msg, 8) == -EIO, "send, head > tail");
		CHECK(spsc2_recv(&s, buf, 24, &len) == -EIO, "recv, head > tail");
		CHECK(chan_spsc_ring_depth(&s.r) == 0, "depth, head > tail");
		/* A tail more than a ring ahead: -EIO, the depth capacity. */
		s.hdr->tail = 100 + cap + 1;
		s.hdr->head = 100;
		CHECK(spsc2_send(&s, msg, 8) == -EIO, "send, tail too far");
		CHECK(spsc2_recv(&s, buf, 24, &len) == -EIO, "recv, tail too far");
		CHECK(chan_spsc_ring_depth(&s.r) == cap, "depth, tail too far");
		/* A stale (too old) cache is only a reload, never an error. */
		s.hdr->tail = 1000;
		s.hdr->head = 1000;
		s.head_cache = 3;
		s.tail_cache = 3;
		CHECK(spsc2_send(&s, msg, 8) == 0 && s.head_cache == 1000,
		      "stale head cache");
		CHECK(spsc2_recv(&s, buf, 24, &len) == 8 &&
		      s.tail_cache == 1001, "stale tail cache");
		/* A huge length reads as msg_size. */
		CHECK(spsc2_send(&s, msg, 8) == 0, "send");
		*chan_spsc_ring_len(&s.r, 1001) = 0xffffffffU;
		CHECK(spsc2_recv(&s, buf, 24, &len) == 20, "clamped: %u", len);
		ok = true;
out:
		if (!spsc2_finish(&s, ok) || !ok)
			return false;
	}
	return true;
}

struct spsc2_run {
	struct spsc2_ring s;
	uint64_t n;
	uint64_t sum_sent;
	uint64_t sum_received;
	uint64_t received;
	struct host_stop stop;
};

static uint32_t spsc2_len(uint64_t seq, uint32_t msg_size)
{
	/* Mostly short, now and then long: 0..msg_size. */
	uint64_t x = seq * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)((x >> 40) % (((x >> 32) & 7) ? 17 : msg_size + 1));
}

static uint64_t spsc2_sum(uint64_t sum, const unsigned char *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		sum = (sum ^ p[i]) * 0x100000001b3ULL;
	return sum ^ len;
}

static void *spsc2_producer(void *arg)
{
	struct spsc2_run *run = arg;
	unsigned char msg[256];
	uint64_t seq, sum = 0xcbf29ce484222325ULL;
	unsigned int spins = 0;

	for (seq = 0; seq < run->n;) {
		uint32_t len = spsc2_len(seq, run->s.msg_size);
		int ret;

		msg_fill(msg, len, seq);
		if (len >= 8)
			memcpy(msg, &seq, 8);
		ret = spsc2_send(&run->s, msg, len);
		if (!ret) {
			sum = spsc2_sum(sum, msg, len);
			seq++;
			spins = 0;
			continue;
		}
		if (ret != -EAGAIN) {
			host_stop_fail(&run->stop, "send %llu: %d",
				       (unsigned long long)seq, ret);
			break;
		}
		if (host_stopped(&run->stop))
			break;
		if (host_test_expired()) {
			host_stop_fail(&run->stop, "send: deadline at %llu",
				       (unsigned long long)seq);
			break;
		}
		if (++spins % 64 == 0)
			sched_yield();
	}
	run->sum_sent = sum;
	return NULL;
}

static void *spsc2_consumer(void *arg)
{
	struct spsc2_run *run = arg;
	unsigned char buf[256], want[256];
	uint64_t seq, sum = 0xcbf29ce484222325ULL;
	unsigned int spins = 0;
	uint32_t len = 0;

	for (seq = 0; seq < run->n;) {
		uint32_t expect = spsc2_len(seq, run->s.msg_size);
		int ret = spsc2_recv(&run->s, buf, sizeof(buf), &len);

		if (ret >= 0) {
			msg_fill(want, expect, seq);
			if (expect >= 8)
				memcpy(want, &seq, 8);
			if ((uint32_t)ret != expect ||
			    memcmp(buf, want, expect)) {
				host_stop_fail(&run->stop,
					       "message %llu: len %d, expected %u, or its bytes",
					       (unsigned long long)seq, ret,
					       expect);
				break;
			}
			sum = spsc2_sum(sum, buf, (uint32_t)ret);
			seq++;
			spins = 0;
			continue;
		}
		if (ret != -EAGAIN) {
			host_stop_fail(&run->stop, "recv %llu: %d",
				       (unsigned long long)seq, ret);
			break;
		}
		if (host_stopped(&run->stop))
			break;
		if (host_test_expired()) {
			host_stop_fail(&run->stop, "recv: deadline at %llu",
				       (unsigned long long)seq);
			break;
		}
		if (++spins % 64 == 0)
			sched_yield();
	}
	run->received = seq;
	run->sum_received = sum;
	return NULL;
}

/*
 * arg: the capacity. 2,000,000 messages of 0..msg_size bytes (250,000 at
 * capacity 1, where every message is a hand-over; under ThreadSanitizer,
 * which checks the ordering, not the volume, 500,000 and 50,000).
 */
bool test_spsc2_threads(const void *arg)
{
	uint32_t cap = *(const uint32_t *)arg;
	struct spsc2_run *run;
	pthread_t prod, cons;
	bool ok = false;
	uint32_t len = 0;
	unsigned char buf[256];

	run = calloc(1, sizeof(*run));
	if (!run || spsc2_init(&run->s, cap, 200)) {
		free(run);
		return false;
	}
#ifdef __SANITIZE_THREAD__
	run->n = cap == 1 ? 50000 : 500000;
#else
	run->n = cap == 1 ? 250000 : 2000000;
#endif
	if (pthread_create(&cons, NULL, spsc2_consumer, run))
		goto out;
	if (pthread_create(&prod, NULL, spsc2_producer, run)) {
		host_stop_fail(&run->stop, "pthread_create");
		pthread_join(cons, NULL);
		goto out;
	}
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	CHECK(!host_stopped(&run->stop), "%s", run->stop.why);
	CHECK(run->received == run->n, "received %llu",
	      (unsigned long long)run->received);
	CHECK(run->sum_sent == run->sum_received, "checksums differ");
	CHECK(run->s.hdr->tail == run->n && run->s.hdr->head == run->n,
	      "cursors %llu %llu", (unsigned long long)run->s.hdr->tail,
	      (unsigned long long)run->s.hdr->head);
	CHECK(spsc2_recv(&run->s, buf, sizeof(buf), &len) == -EAGAIN,
	      "a message too many");
	ok = true;
out:
	ok = spsc2_finish(&run->s, ok);
	free(run);
	return ok;
}
