// SPDX-License-Identifier: GPL-2.0
/*
 * Single-threaded behaviour of the ring: empty, full, FIFO order,
 * wrap-around, message sizes, EMSGSIZE, and chan_ring_can_send() /
 * chan_ring_can_recv() against what a claim really does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_fixture.h"
#include "ring_tests.h"

#define OWNER_TX	2
#define OWNER_RX	3

bool test_empty_recv(const void *arg)
{
	struct ring_fixture f;
	unsigned char buf[64];
	struct chan_slot *s;
	__u32 len = 12345;
	__s64 pos = 0;
	bool ok = false;

	(void)arg;
	CHECK(!ring_fixture_init(&f, 4, 32), "cannot map a ring");
	s = chan_ring_claim_recv(&f.v, OWNER_RX, sizeof(buf), &pos, &len);
	CHECK(!s && pos == -EAGAIN, "claim_recv on an empty ring: slot %p pos %lld",
	      (void *)s, (long long)pos);
	CHECK(!chan_ring_can_recv(&f.v), "can_recv on an empty ring");
	CHECK(chan_ring_can_send(&f.v), "can_send false on an empty ring");
	CHECK(chan_ring_depth(&f.v) == 0, "depth %u", chan_ring_depth(&f.v));
	CHECK(f.hdr->head == 0 && f.hdr->tail == 0, "cursors moved: head %llu tail %llu",
	      (unsigned long long)f.hdr->head, (unsigned long long)f.hdr->tail);
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

static bool fill_and_drain(uint32_t cap, uint32_t msg_size)
{
	unsigned char msg[256], buf[256];
	struct ring_fixture f;
	uint64_t pos;
	uint32_t i, len;
	bool ok = false;
	int ret;

	CHECK(!ring_fixture_init(&f, cap, msg_size), "cannot map a ring");
	for (i = 0; i < cap; i++) {
		msg_fill(msg, msg_size, i);
		ret = ring_send(&f.v, OWNER_TX, msg, msg_size, &pos);
		CHECK(ret == 0 && pos == i, "cap %u send %u: ret %d pos %llu", cap, i,
		      ret, (unsigned long long)pos);
		CHECK(chan_ring_depth(&f.v) == i + 1, "cap %u depth %u after %u sends",
		      cap, chan_ring_depth(&f.v), i + 1);
	}
	CHECK(!chan_ring_can_send(&f.v), "cap %u: can_send on a full ring", cap);
	ret = ring_send(&f.v, OWNER_TX, msg, msg_size, NULL);
	CHECK(ret == -EAGAIN, "cap %u: send to a full ring returned %d", cap, ret);
	ret = ring_send(&f.v, OWNER_TX, msg, msg_size, NULL);
	CHECK(ret == -EAGAIN, "cap %u: second send to a full ring returned %d", cap, ret);
	CHECK(f.hdr->tail == cap, "cap %u: tail %llu", cap, (unsigned long long)f.hdr->tail);
	for (i = 0; i < cap; i++) {
		ret = ring_recv(&f.v, OWNER_RX, buf, sizeof(buf), &len, &pos);
		CHECK(ret == RING_RECV_MSG && pos == i && len == msg_size,
		      "cap %u recv %u: ret %d pos %llu len %u", cap, i, ret,
		      (unsigned long long)pos, len);
		CHECK(msg_verify(buf, len, i) == len, "cap %u message %u corrupted", cap, i);
	}
	ret = ring_recv(&f.v, OWNER_RX, buf, sizeof(buf), &len, NULL);
	CHECK(ret == -EAGAIN, "cap %u: recv from a drained ring returned %d", cap, ret);
	CHECK(chan_ring_depth(&f.v) == 0, "cap %u: depth %u", cap, chan_ring_depth(&f.v));
	/* And the freed slots take a second lap. */
	for (i = 0; i < cap; i++)
		CHECK(ring_send(&f.v, OWNER_TX, msg, msg_size, NULL) == 0,
		      "cap %u: second-lap send %u", cap, i);
	CHECK(ring_send(&f.v, OWNER_TX, msg, msg_size, NULL) == -EAGAIN,
	      "cap %u: second lap not full after %u sends", cap, cap);
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

bool test_fill_to_capacity(const void *arg)
{
	static const uint32_t caps[] = { 1, 2, 4, 8, 1024 };
	unsigned int i;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(caps); i++)
		if (!fill_and_drain(caps[i], 24))
			return false;
	return true;
}

/*
 * Send and receive in bursts of varying depth, checking positions, order
 * and content, starting with both cursors at start.
 */
bool ring_fifo_run(uint32_t cap, uint32_t msg_size, uint64_t start,
		   uint64_t total, uint64_t seed)
{
	unsigned char msg[512], buf[512];
	uint64_t sent = 0, got = 0, pos, rnd = seed;
	struct ring_fixture f;
	uint32_t len;
	bool ok = false;
	int ret;

	CHECK(!ring_fixture_init(&f, cap, msg_size), "cannot map a ring");
	if (start)
		ring_fixture_set_position(&f, start);
	while (got < total) {
		uint64_t burst = host_rand(&rnd) % (cap + 2);

		while (burst-- && sent < total) {
			len = (uint32_t)(sent % (msg_size + 1));
			msg_fill(msg, len, sent);
			ret = ring_send(&f.v, OWNER_TX, msg, len, &pos);
			if (sent - got == cap) {
				CHECK(ret == -EAGAIN, "send to a full ring at %llu returned %d",
				      (unsigned long long)sent, ret);
				break;
			}
			CHECK(ret == 0 && pos == start + sent, "send %llu: ret %d pos %#llx",
			      (unsigned long long)sent, ret, (unsigned long long)pos);
			sent++;
		}
		burst = host_rand(&rnd) % (cap + 2);
		while (burst--) {
			ret = ring_recv(&f.v, OWNER_RX, buf, sizeof(buf), &len, &pos);
			if (got == sent) {
				CHECK(ret == -EAGAIN, "recv from an empty ring at %llu returned %d",
				      (unsigned long long)got, ret);
				break;
			}
			CHECK(ret == RING_RECV_MSG && pos == start + got,
			      "recv %llu: ret %d pos %#llx", (unsigned long long)got, ret,
			      (unsigned long long)pos);
			CHECK(len == got % (msg_size + 1), "message %llu: length %u",
			      (unsigned long long)got, len);
			CHECK(msg_verify(buf, len, got) == len, "message %llu corrupted",
			      (unsigned long long)got);
			got++;
		}
		CHECK(chan_ring_depth(&f.v) == sent - got, "depth %u, expected %llu",
		      chan_ring_depth(&f.v), (unsigned long long)(sent - got));
	}
	CHECK(f.hdr->tail == start + total && f.hdr->head == start + total,
	      "cursors at the end: tail %#llx head %#llx, expected %#llx",
	      (unsigned long long)f.hdr->tail, (unsigned long long)f.hdr->head,
	      (unsigned long long)(start + total));
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

bool test_fifo(const void *arg)
{
	(void)arg;
	return ring_fifo_run(8, 100, 0, 5000, 1) &&
	       ring_fifo_run(1024, 16, 0, 20000, 2);
}

bool test_wrap_laps(const void *arg)
{
	(void)arg;
	/* Capacity 4: 10000 messages are 2500 laps of every slot. */
	return ring_fifo_run(4, 40, 0, 10000, 3) &&
	       ring_fifo_run(1, 8, 0, 10000, 4) &&
	       ring_fifo_run(2, 0, 0, 10000, 5);
}

bool test_zero_length(const void *arg)
{
	struct ring_fixture f;
	unsigned char msg[32], buf[32];
	uint32_t i, len;
	bool ok = false;
	int ret;

	(void)arg;
	CHECK(!ring_fixture_init(&f, 4, 32), "cannot map a ring");
	for (i = 0; i < 1000; i++) {
		uint32_t want = (i % 3 == 1) ? 5 : 0;

		msg_fill(msg, want, i);
		CHECK(ring_send(&f.v, OWNER_TX, msg, want, NULL) == 0, "send %u", i);
		len = 999;
		/* A zero-length message fits a zero-length buffer. */
		ret = ring_recv(&f.v, OWNER_RX, buf, want ? sizeof(buf) : 0, &len, NULL);
		CHECK(ret == RING_RECV_MSG && len == want, "recv %u: ret %d len %u", i,
		      ret, len);
		CHECK(msg_verify(buf, len, i) == len, "message %u corrupted", i);
	}
	/* msg_size 0: slots hold only empty messages. */
	ring_fixture_destroy(&f);
	CHECK(!ring_fixture_init(&f, 2, 0), "cannot map a ring");
	for (i = 0; i < 100; i++) {
		CHECK(ring_send(&f.v, OWNER_TX, msg, 0, NULL) == 0, "send %u", i);
		CHECK(ring_send(&f.v, OWNER_TX, msg, 0, NULL) == 0, "send %u", i);
		CHECK(ring_send(&f.v, OWNER_TX, msg, 0, NULL) == -EAGAIN, "full %u", i);
		CHECK(ring_recv(&f.v, OWNER_RX, buf, 0, &len, NULL) == 0 && !len, "recv %u", i);
		CHECK(ring_recv(&f.v, OWNER_RX, buf, 0, &len, NULL) == 0 && !len, "recv %u", i);
	}
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

static bool max_size_case(uint32_t cap, uint32_t msg_size)
{
	unsigned char *msg = malloc(msg_size + 1), *buf = malloc(msg_size + 1);
	struct ring_fixture f = { 0 };
	uint32_t i, len;
	bool ok = false;
	int ret;

	CHECK(msg && buf, "out of memory");
	CHECK(!ring_fixture_init(&f, cap, msg_size), "cannot map a ring");
	for (i = 0; i < 3 * cap; i++) {
		/* Keep the ring full so the last slot, next to the guard page,
		 * is written with a full-size payload too.
		 */
		msg_fill(msg, msg_size, i);
		ret = ring_send(&f.v, OWNER_TX, msg, msg_size, NULL);
		CHECK(ret == 0, "msg_size %u send %u: %d", msg_size, i, ret);
		if (i + 1 < cap)
			continue;
		memset(buf, 0, msg_size + 1);
		ret = ring_recv(&f.v, OWNER_RX, buf, msg_size, &len, NULL);
		CHECK(ret == RING_RECV_MSG && len == msg_size,
		      "msg_size %u recv: ret %d len %u", msg_size, ret, len);
		CHECK(msg_verify(buf, len, i + 1 - cap) == len,
		      "msg_size %u message %u corrupted at byte %u", msg_size,
		      i + 1 - cap, msg_verify(buf, len, i + 1 - cap));
	}
	/* One byte short of the message: EMSGSIZE with the full length. */
	if (!chan_ring_depth(&f.v))
		CHECK(ring_send(&f.v, OWNER_TX, msg, msg_size, NULL) == 0, "send");
	ret = ring_recv(&f.v, OWNER_RX, buf, msg_size - 1, &len, NULL);
	CHECK(ret == -EMSGSIZE && len == msg_size, "msg_size %u short buffer: ret %d len %u",
	      msg_size, ret, len);
	CHECK(ring_fixture_intact(&f), "memory around the ring");
	ok = true;
out:
	ring_fixture_destroy(&f);
	free(msg);
	free(buf);
	return ok;
}

bool test_max_size(const void *arg)
{
	(void)arg;
	/* 48 fills a 64-byte slot exactly; 49 needs the next cache line. */
	return max_size_case(4, 1) && max_size_case(4, 48) &&
	       max_size_case(4, 49) && max_size_case(2, 4096) &&
	       max_size_case(4, 65536) && max_size_case(1, CHAN_MSG_SIZE_MAX);
}

bool test_emsgsize(const void *arg)
{
	static const uint32_t lens[] = { 100, 10, 100, 0, 64, 65 };
	unsigned char msg[128], buf[128];
	struct ring_fixture f;
	uint32_t i, len;
	bool ok = false;
	int ret;

	(void)arg;
	CHECK(!ring_fixture_init(&f, 8, 128), "cannot map a ring");
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		msg_fill(msg, lens[i], i);
		CHECK(ring_send(&f.v, OWNER_TX, msg, lens[i], NULL) == 0, "send %u", i);
	}
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		int tries;

		/* Too small, twice: the message must stay at the head. */
		for (tries = 0; lens[i] && tries < 2; tries++) {
			len = 0;
			ret = ring_recv(&f.v, OWNER_RX, buf, lens[i] - 1, &len, NULL);
			CHECK(ret == -EMSGSIZE && len == lens[i],
			      "message %u (len %u), buffer %u: ret %d len %u", i,
			      lens[i], lens[i] - 1, ret, len);
			CHECK(chan_ring_depth(&f.v) == ARRAY_SIZE(lens) - i,
			      "EMSGSIZE consumed a message: depth %u", chan_ring_depth(&f.v));
			CHECK(chan_ring_can_recv(&f.v), "can_recv false after EMSGSIZE");
		}
		memset(buf, 0, sizeof(buf));
		ret = ring_recv(&f.v, OWNER_RX, buf, lens[i], &len, NULL);
		CHECK(ret == RING_RECV_MSG && len == lens[i],
		      "message %u with an exact buffer: ret %d len %u", i, ret, len);
		CHECK(msg_verify(buf, len, i) == len, "message %u corrupted", i);
	}
	CHECK(ring_recv(&f.v, OWNER_RX, buf, sizeof(buf), &len, NULL) == -EAGAIN,
	      "ring not empty at the end");
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

/*
 * chan_ring_can_send() / chan_ring_can_recv() against a real claim, tried
 * on the current state and undone from a snapshot.
 */
bool ring_can_agrees(struct ring_fixture *f, const char *state)
{
	bool can_send = chan_ring_can_send(&f->v);
	bool can_recv = chan_ring_can_recv(&f->v);
	void *snap = ring_snapshot(f);
	struct chan_slot *s;
	__u32 len;
	__s64 pos;
	bool ok = false;

	CHECK(snap, "out of memory");
	s = chan_ring_claim_send(&f->v, 99, &pos);
	CHECK(!!s == can_send, "%s: can_send %d but claim_send gave %lld", state,
	      can_send, (long long)pos);
	CHECK(s || pos == -EAGAIN, "%s: claim_send error %lld", state, (long long)pos);
	ring_restore(f, snap);
	s = chan_ring_claim_recv(&f->v, 98, f->msg_size, &pos, &len);
	CHECK(!!s == can_recv, "%s: can_recv %d but claim_recv gave %lld", state,
	      can_recv, (long long)pos);
	CHECK(s || pos == -EAGAIN, "%s: claim_recv error %lld", state, (long long)pos);
	ring_restore(f, snap);
	ok = true;
out:
	free(snap);
	return ok;
}

struct held {
	struct chan_slot *s;
	uint64_t pos;
};

bool test_can_send_recv(const void *arg)
{
	struct held writing[8], reading[8];
	unsigned int nw = 0, nr = 0, step;
	unsigned char msg[16] = { 0 }, buf[16];
	struct ring_fixture f;
	struct chan_slot *s;
	uint64_t rnd = 42;
	char state[96];
	uint32_t i, len;
	__s64 pos;
	bool ok = false;

	(void)arg;
	CHECK(!ring_fixture_init(&f, 4, 16), "cannot map a ring");
	CHECK(ring_can_agrees(&f, "empty"), "%s", "");
	CHECK(ring_send(&f.v, OWNER_TX, msg, 8, NULL) == 0, "send");
	CHECK(ring_can_agrees(&f, "one message"), "%s", "");
	for (i = 0; i < 3; i++)
		CHECK(ring_send(&f.v, OWNER_TX, msg, 8, NULL) == 0, "send");
	CHECK(ring_can_agrees(&f, "full"), "%s", "");
	CHECK(ring_recv(&f.v, OWNER_RX, buf, 16, &len, NULL) == 0, "recv");
	CHECK(ring_can_agrees(&f, "full less one"), "%s", "");
	ring_fixture_destroy(&f);

	/* A WRITING slot at the head: nothing to receive behind it. */
	CHECK(!ring_fixture_init(&f, 4, 16), "cannot map a ring");
	s = chan_ring_claim_send(&f.v, 7, &pos);
	CHECK(s && pos == 0, "claim_send");
	CHECK(ring_send(&f.v, OWNER_TX, msg, 8, NULL) == 0, "send behind WRITING");
	CHECK(ring_can_agrees(&f, "WRITING at the head"), "%s", "");
	CHECK(!chan_ring_can_recv(&f.v), "can_recv true behind a WRITING slot");
	chan_ring_publish(&f.v, s, (__u64)pos, 0, 7);
	CHECK(ring_can_agrees(&f, "published"), "%s", "");
	CHECK(chan_ring_can_recv(&f.v), "can_recv false after publish");
	ring_fixture_destroy(&f);

	/* Random walks through held claims of both kinds. */
	CHECK(!ring_fixture_init(&f, 4, 16), "cannot map a ring");
	for (step = 0; step < 20000; step++) {
		switch (host_rand(&rnd) % 6) {
		case 0:
			ring_send(&f.v, OWNER_TX, msg, 8, NULL);
			break;
		case 1:
			ring_recv(&f.v, OWNER_RX, buf, sizeof(buf), &len, NULL);
			break;
		case 2:
			if (nw == ARRAY_SIZE(writing))
				break;
			s = chan_ring_claim_send(&f.v, 7, &pos);
			if (s)
				writing[nw++] = (struct held){ s, (uint64_t)pos };
			break;
		case 3:
			if (!nw)
				break;
			i = host_rand(&rnd) % nw;
			chan_ring_publish(&f.v, writing[i].s, writing[i].pos, 8, 7);
			writing[i] = writing[--nw];
			break;
		case 4:
			if (nr == ARRAY_SIZE(reading))
				break;
			s = chan_ring_claim_recv(&f.v, 8, sizeof(buf), &pos, &len);
			if (s)
				reading[nr++] = (struct held){ s, (uint64_t)pos };
			break;
		case 5:
			if (!nr)
				break;
			i = host_rand(&rnd) % nr;
			chan_ring_retire(&f.v, reading[i].s, reading[i].pos);
			reading[i] = reading[--nr];
			break;
		}
		snprintf(state, sizeof(state),
			 "step %u (head %llu tail %llu, %u writing, %u reading)", step,
			 (unsigned long long)f.hdr->head, (unsigned long long)f.hdr->tail,
			 nw, nr);
		CHECK(ring_can_agrees(&f, state), "%s", "");
	}
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}
