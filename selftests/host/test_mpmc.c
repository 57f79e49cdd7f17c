// SPDX-License-Identifier: GPL-2.0
/*
 * Many producers and consumers on one ring: every message delivered
 * exactly once, intact, and in its producer's order at every consumer.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_fixture.h"
#include "ring_tests.h"

#define MPMC_MAX_THREADS	8
#define MPMC_MSG_SIZE		32
#define MPMC_HDR		8	/* producer id and sequence number */

struct mpmc_run {
	const struct mpmc_config *cfg;
	struct ring_fixture f;
	unsigned char *seen;		/* deliveries per message */
	uint64_t received;		/* messages delivered so far */
	struct host_stop stop;	/* the first failure */
};

struct mpmc_thread {
	struct mpmc_run *run;
	unsigned int id;
	pthread_t tid;
	uint64_t eagain;
};

/* The first failure stops every thread. */
#define mpmc_fail(run, ...)	host_stop_fail(&(run)->stop, __VA_ARGS__)

/* Payload: producer id, sequence number, then bytes derived from both. */
static uint32_t mpmc_len(uint32_t seq)
{
	return MPMC_HDR + seq % (MPMC_MSG_SIZE - MPMC_HDR + 1);
}

static uint64_t mpmc_tag(uint32_t producer, uint32_t seq)
{
	return (uint64_t)producer << 32 | seq;
}

static bool mpmc_corrupt(const unsigned char *buf, uint32_t len, uint32_t p,
			 uint32_t seq)
{
	unsigned char want[MPMC_MSG_SIZE];

	msg_fill(want, len, mpmc_tag(p, seq));
	return memcmp(want + MPMC_HDR, buf + MPMC_HDR, len - MPMC_HDR) != 0;
}

static void *mpmc_producer(void *arg)
{
	struct mpmc_thread *t = arg;
	struct mpmc_run *run = t->run;
	const struct chan_ring_view *v = &run->f.v;
	unsigned char msg[MPMC_MSG_SIZE];
	unsigned int spins = 0;
	uint32_t seq = 0;

	while (seq < run->cfg->per_producer) {
		uint32_t len = mpmc_len(seq);
		int ret;

		msg_fill(msg, len, mpmc_tag(t->id, seq));
		memcpy(msg, &t->id, 4);
		memcpy(msg + 4, &seq, 4);
		ret = ring_send(v, 2 + t->id, msg, len, NULL);
		if (!ret) {
			seq++;
			continue;
		}
		if (ret != -EAGAIN) {
			mpmc_fail(run, "producer %u: send %u failed with %d", t->id,
				  seq, ret);
			break;
		}
		t->eagain++;
		if (!(++spins & 63) && (host_stopped(&run->stop) || host_test_expired())) {
			mpmc_fail(run, "producer %u: hung at message %u (tail %llu head %llu)",
				  t->id, seq,
				  (unsigned long long)__atomic_load_n(&run->f.hdr->tail, __ATOMIC_RELAXED),
				  (unsigned long long)__atomic_load_n(&run->f.hdr->head, __ATOMIC_RELAXED));
			break;
		}
		sched_yield();
	}
	return NULL;
}

static void *mpmc_consumer(void *arg)
{
	struct mpmc_thread *t = arg;
	struct mpmc_run *run = t->run;
	const struct mpmc_config *cfg = run->cfg;
	const struct chan_ring_view *v = &run->f.v;
	uint64_t total = (uint64_t)cfg->producers * cfg->per_producer;
	unsigned char buf[MPMC_MSG_SIZE];
	int64_t last[MPMC_MAX_THREADS];
	unsigned int spins = 0, i;

	for (i = 0; i < MPMC_MAX_THREADS; i++)
		last[i] = -1;
	while (__atomic_load_n(&run->received, __ATOMIC_RELAXED) < total) {
		uint32_t len, p, seq;
		int ret;

		ret = ring_recv(v, 2 + cfg->producers + t->id, buf, sizeof(buf),
				&len, NULL);
		if (ret == -EAGAIN) {
			t->eagain++;
			if (!(++spins & 63) && (host_stopped(&run->stop) || host_test_expired())) {
				mpmc_fail(run, "consumer %u: hung with %llu of %llu delivered",
					  t->id,
					  (unsigned long long)__atomic_load_n(&run->received,
									      __ATOMIC_RELAXED),
					  (unsigned long long)total);
				break;
			}
			sched_yield();
			continue;
		}
		if (ret != RING_RECV_MSG) {
			mpmc_fail(run, "consumer %u: recv returned %d", t->id, ret);
			break;
		}
		if (len < MPMC_HDR) {
			mpmc_fail(run, "consumer %u: short message, %u bytes", t->id, len);
			break;
		}
		memcpy(&p, buf, 4);
		memcpy(&seq, buf + 4, 4);
		if (p >= cfg->producers || seq >= cfg->per_producer ||
		    len != mpmc_len(seq)) {
			mpmc_fail(run, "consumer %u: bad message: producer %u seq %u len %u",
				  t->id, p, seq, len);
			break;
		}
		if (mpmc_corrupt(buf, len, p, seq)) {
			mpmc_fail(run, "consumer %u: message %u/%u corrupted", t->id,
				  p, seq);
			break;
		}
		if ((int64_t)seq <= last[p]) {
			mpmc_fail(run, "consumer %u: producer %u's message %u after %lld",
				  t->id, p, seq, (long long)last[p]);
			break;
		}
		last[p] = seq;
		if (__atomic_fetch_add(&run->seen[(size_t)p * cfg->per_producer + seq],
				       1, __ATOMIC_RELAXED)) {
			mpmc_fail(run, "consumer %u: message %u/%u delivered twice",
				  t->id, p, seq);
			break;
		}
		__atomic_fetch_add(&run->received, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

bool test_mpmc(const void *arg)
{
	const struct mpmc_config *cfg = arg;
	struct mpmc_thread prod[MPMC_MAX_THREADS], cons[MPMC_MAX_THREADS];
	uint64_t total = (uint64_t)cfg->producers * cfg->per_producer, i;
	uint64_t p_eagain = 0, c_eagain = 0, t0 = ct_now_ns();
	unsigned int np = 0, nc = 0, n;
	struct mpmc_run *run;
	bool ok = false;

	run = calloc(1, sizeof(*run));
	if (!run)
		return false;
	run->cfg = cfg;
	CHECK(!ring_run_init(&run->f, &run->seen, total, cfg->capacity,
			     MPMC_MSG_SIZE), "cannot set up the run");
	if (cfg->start)
		ring_fixture_set_position(&run->f, cfg->start);

	for (n = 0; n < cfg->consumers; n++, nc++) {
		cons[n] = (struct mpmc_thread){ .run = run, .id = n };
		if (pthread_create(&cons[n].tid, NULL, mpmc_consumer, &cons[n])) {
			mpmc_fail(run, "cannot start consumer %u", n);
			break;
		}
	}
	for (n = 0; n < cfg->producers && !host_stopped(&run->stop); n++, np++) {
		prod[n] = (struct mpmc_thread){ .run = run, .id = n };
		if (pthread_create(&prod[n].tid, NULL, mpmc_producer, &prod[n])) {
			mpmc_fail(run, "cannot start producer %u", n);
			break;
		}
	}
	if (np < cfg->producers)
		mpmc_fail(run, "not every producer started");
	for (n = 0; n < np; n++) {
		pthread_join(prod[n].tid, NULL);
		p_eagain += prod[n].eagain;
	}
	for (n = 0; n < nc; n++) {
		pthread_join(cons[n].tid, NULL);
		c_eagain += cons[n].eagain;
	}
	CHECK(!host_stopped(&run->stop), "%s", run->stop.why);
	for (i = 0; i < total; i++)
		CHECK(run->seen[i] == 1, "message %llu/%llu delivered %u times",
		      (unsigned long long)(i / cfg->per_producer),
		      (unsigned long long)(i % cfg->per_producer), run->seen[i]);
	CHECK(chan_ring_depth(&run->f.v) == 0, "depth %u at the end",
	      chan_ring_depth(&run->f.v));
	CHECK(run->f.hdr->tail == cfg->start + total &&
	      run->f.hdr->head == cfg->start + total,
	      "cursors at the end: tail %#llx head %#llx, expected %#llx",
	      (unsigned long long)run->f.hdr->tail,
	      (unsigned long long)run->f.hdr->head,
	      (unsigned long long)(cfg->start + total));
	CHECK(!chan_ring_can_recv(&run->f.v) && chan_ring_can_send(&run->f.v),
	      "can_recv/can_send wrong on the drained ring");
	CHECK(ring_fixture_intact(&run->f), "memory around the ring");
	host_diag("%llu messages, %.2f M/s; full %llu, empty %llu times",
		  (unsigned long long)total,
		  total * 1e3 / (double)(ct_now_ns() - t0),
		  (unsigned long long)p_eagain, (unsigned long long)c_eagain);
	ok = true;
out:
	ring_fixture_destroy(&run->f);
	free(run->seen);
	free(run);
	return ok;
}
