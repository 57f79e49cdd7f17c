// SPDX-License-Identifier: GPL-2.0
/*
 * chan_ring_repair(): endpoints that die while holding slots, alone and
 * under traffic, with the accounting identity of models/ring.pml:
 * claimed = published + tombstoned = delivered + skipped + reader_drops.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_fixture.h"
#include "ring_tests.h"

#define OWNER_TX	2
#define OWNER_RX	3
#define OWNER_DEAD_TX	7
#define OWNER_DEAD_RX	9

static bool counts_are(const struct chan_ring_repair_counts *c, __u32 tomb,
		       __u32 drops, __u32 skipped)
{
	if (c->tombstoned == tomb && c->reader_drops == drops &&
	    c->skipped == skipped)
		return true;
	host_diag("repair counts: tombstoned %u reader_drops %u skipped %u; expected %u %u %u",
		  c->tombstoned, c->reader_drops, c->skipped, tomb, drops, skipped);
	return false;
}

/* Send tags [from, to) and receive them back, one lap at a time. */
static bool round_trip(struct ring_fixture *f, uint64_t from, uint64_t to)
{
	unsigned char msg[64], buf[64];
	uint64_t tag;
	uint32_t len;
	bool ok = false;
	int ret;

	for (tag = from; tag < to; tag++) {
		msg_fill(msg, 16, tag);
		ret = ring_send(&f->v, OWNER_TX, msg, 16, NULL);
		CHECK(ret == 0, "send %llu: %d", (unsigned long long)tag, ret);
		ret = ring_recv(&f->v, OWNER_RX, buf, sizeof(buf), &len, NULL);
		CHECK(ret == RING_RECV_MSG && len == 16 && msg_verify(buf, 16, tag) == 16,
		      "recv %llu: ret %d len %u", (unsigned long long)tag, ret, len);
	}
	CHECK(chan_ring_depth(&f->v) == 0, "depth %u", chan_ring_depth(&f->v));
	ok = true;
out:
	return ok;
}

static int recv_tag(struct ring_fixture *f, uint32_t max_len, uint64_t tag)
{
	unsigned char buf[64];
	uint32_t len;
	int ret = ring_recv(&f->v, OWNER_RX, buf, max_len, &len, NULL);

	if (ret == RING_RECV_MSG && (len != 16 || msg_verify(buf, 16, tag) != 16)) {
		host_diag("message %llu: wrong length %u or content",
			  (unsigned long long)tag, len);
		return -EBADMSG;
	}
	return ret;
}

static int send_tag(struct ring_fixture *f, uint64_t tag)
{
	unsigned char msg[16];

	msg_fill(msg, sizeof(msg), tag);
	return ring_send(&f->v, OWNER_TX, msg, sizeof(msg), NULL);
}

bool test_dead_writer(const void *arg)
{
	struct chan_ring_repair_counts c = { 0 };
	struct ring_fixture f;
	struct chan_slot *s;
	void *snap = NULL;
	__s64 pos;
	bool ok = false;
	int ret;

	(void)arg;
	CHECK(!ring_fixture_init(&f, 4, 32), "cannot map a ring");
	CHECK(send_tag(&f, 0) == 0, "send 0");
	s = chan_ring_claim_send(&f.v, OWNER_DEAD_TX, &pos);
	CHECK(s && pos == 1, "dead writer's claim: pos %lld", (long long)pos);
	memset(s->data, 0xee, 10);		/* died half way through the copy */
	CHECK(send_tag(&f, 2) == 0 && send_tag(&f, 3) == 0, "sends behind it");
	CHECK(send_tag(&f, 4) == -EAGAIN, "ring not full");
	CHECK(recv_tag(&f, 64, 0) == RING_RECV_MSG, "recv 0");
	ret = recv_tag(&f, 64, 99);
	CHECK(ret == -EAGAIN, "recv past a WRITING slot: %d", ret);
	CHECK(!chan_ring_can_recv(&f.v), "can_recv past a WRITING slot");

	/* Someone else's repair leaves the ring alone. */
	snap = ring_snapshot(&f);
	CHECK(snap, "out of memory");
	chan_ring_repair(&f.v, 1234, &c);
	chan_ring_repair(&f.v, OWNER_DEAD_RX, &c);
	CHECK(counts_are(&c, 0, 0, 0), "repair of other tokens");
	CHECK(!memcmp(snap, f.hdr, f.ring_bytes), "repair of another token changed the ring");

	chan_ring_repair(&f.v, OWNER_DEAD_TX, &c);
	CHECK(counts_are(&c, 1, 0, 0), "repair of the dead writer");
	CHECK(chan_slot_phase(ring_state_at(&f, 1)) == CHAN_SLOT_FULL,
	      "state %#llx after repair", (unsigned long long)ring_state_at(&f, 1));
	chan_ring_repair(&f.v, OWNER_DEAD_TX, &c);
	CHECK(counts_are(&c, 1, 0, 0), "a second repair changed something");
	CHECK(chan_ring_can_recv(&f.v), "can_recv false at a tombstone");
	/* A tombstone carries nothing: even a zero-byte buffer takes it. */
	ret = recv_tag(&f, 0, 1);
	CHECK(ret == RING_RECV_TOMBSTONE, "recv of the tombstone: %d", ret);
	CHECK(recv_tag(&f, 64, 2) == RING_RECV_MSG, "recv 2");
	CHECK(recv_tag(&f, 64, 3) == RING_RECV_MSG, "recv 3");
	CHECK(recv_tag(&f, 64, 4) == -EAGAIN, "ring not empty");
	CHECK(round_trip(&f, 100, 200), "traffic after the repair");
	CHECK(ring_fixture_intact(&f), "memory around the ring");
	ok = true;
out:
	free(snap);
	ring_fixture_destroy(&f);
	return ok;
}

bool test_dead_reader(const void *arg)
{
	struct chan_ring_repair_counts c = { 0 };
	struct ring_fixture f;
	struct chan_slot *s;
	__u32 len;
	__s64 pos;
	int i, ret;
	bool ok = false;

	(void)arg;
	CHECK(!ring_fixture_init(&f, 4, 32), "cannot map a ring");
	for (i = 0; i < 4; i++)
		CHECK(send_tag(&f, i) == 0, "send %d", i);
	s = chan_ring_claim_recv(&f.v, OWNER_DEAD_RX, 64, &pos, &len);
	CHECK(s && pos == 0 && len == 16, "dead reader's claim: pos %lld", (long long)pos);
	for (i = 1; i < 4; i++)
		CHECK(recv_tag(&f, 64, i) == RING_RECV_MSG, "recv %d past the READING slot", i);
	/* Slot 0 is still READING from lap 0: the ring is full for lap 1. */
	ret = send_tag(&f, 4);
	CHECK(ret == -EAGAIN, "send onto a READING slot: %d", ret);
	CHECK(!chan_ring_can_send(&f.v), "can_send onto a READING slot");
	chan_ring_repair(&f.v, OWNER_TX, &c);
	CHECK(counts_are(&c, 0, 0, 0), "repair of another token");
	chan_ring_repair(&f.v, OWNER_DEAD_RX, &c);
	CHECK(counts_are(&c, 0, 1, 0), "repair of the dead reader");
	CHECK(ring_state_at(&f, 4) == chan_slot_state(1, CHAN_SLOT_EMPTY, CHAN_OWNER_NONE),
	      "state %#llx after repair", (unsigned long long)ring_state_at(&f, 4));
	CHECK(chan_ring_can_send(&f.v), "can_send false after repair");
	for (i = 4; i < 8; i++)
		CHECK(send_tag(&f, i) == 0, "send %d after the repair", i);
	CHECK(send_tag(&f, 8) == -EAGAIN, "ring not full");
	for (i = 4; i < 8; i++)
		CHECK(recv_tag(&f, 64, i) == RING_RECV_MSG, "recv %d", i);
	CHECK(round_trip(&f, 100, 200), "traffic after the repair");
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

bool test_dead_reader_of_tombstone(const void *arg)
{
	struct chan_ring_repair_counts c = { 0 };
	struct ring_fixture f;
	struct chan_slot *s;
	__u32 len;
	__s64 pos;
	bool ok = false;

	(void)arg;
	CHECK(!ring_fixture_init(&f, 2, 32), "cannot map a ring");
	s = chan_ring_claim_send(&f.v, OWNER_DEAD_TX, &pos);
	CHECK(s && pos == 0, "dead writer's claim");
	CHECK(send_tag(&f, 1) == 0, "send 1");
	chan_ring_repair(&f.v, OWNER_DEAD_TX, &c);
	s = chan_ring_claim_recv(&f.v, OWNER_DEAD_RX, 0, &pos, &len);
	CHECK(s && pos == 0 && chan_slot_is_tombstone(s), "dead reader's claim");
	chan_ring_repair(&f.v, OWNER_DEAD_RX, &c);
	CHECK(counts_are(&c, 1, 0, 1), "repairs");
	CHECK(recv_tag(&f, 64, 1) == RING_RECV_MSG, "recv 1");
	CHECK(round_trip(&f, 100, 110), "traffic after the repair");
	ok = true;
out:
	ring_fixture_destroy(&f);
	return ok;
}

/*
 * An endpoint killed between the claim CAS and the cursor help (a SIGKILL
 * between two instructions of claim_send/claim_recv in a process using
 * the mapped ring): the slot is claimed for the cursor's lap but the
 * cursor still points at it. Once the slot has been repaired and consumed
 * it is a lap ahead of the cursor, and the ring must still move on.
 */

/* After an unhelped death: traffic flows and leaves the ring empty. */
static bool unhelped_settles(struct ring_fixture *f, uint32_t capacity)
{
	CHECK(round_trip(f, 100, 100 + 3 * capacity), "round trip");
	CHECK(f->hdr->tail == f->hdr->head, "tail %llu head %llu",
	      (unsigned long long)f->hdr->tail, (unsigned long long)f->hdr->head);
	return true;
out:
	return false;
}

bool test_writer_dies_before_tail_help(const void *arg)
{
	const struct unhelped_case *uc = arg;
	struct chan_ring_repair_counts c = { 0 };
	struct ring_fixture f;
	uint64_t tag = 1;
	bool ok = false;
	int ret;

	CHECK(!ring_fixture_init(&f, uc->capacity, 32), "cannot map a ring");
	/* Some traffic first so the cursors are not at 0. */
	CHECK(round_trip(&f, 1000, 1000 + 3 * uc->capacity + 1), "warm-up");
	/* Killed between the claim CAS and the tail help. */
	CHECK(ring_claim_unhelped(&f, f.hdr->tail, CHAN_SLOT_EMPTY, CHAN_SLOT_WRITING,
				  OWNER_DEAD_TX), "claim");
	if (uc->send_before_consume) {
		ret = send_tag(&f, tag);
		CHECK(ret == 0 || (ret == -EAGAIN && uc->capacity == 1),
		      "send next to the unhelped WRITING slot: %d", ret);
		if (ret == 0)
			tag++;
	}
	chan_ring_repair(&f.v, OWNER_DEAD_TX, &c);
	CHECK(counts_are(&c, 1, 0, 0), "repair");
	ret = recv_tag(&f, 64, 0);
	CHECK(ret == RING_RECV_TOMBSTONE, "recv of the tombstone: %d", ret);
	if (tag > 1)
		CHECK(recv_tag(&f, 64, 1) == RING_RECV_MSG, "recv 1");
	/* Every slot of the ring is now free again. */
	ret = send_tag(&f, tag);
	CHECK(ret == 0,
	      "send after the dead writer's tombstone was consumed: %d%s (tail %llu, head %llu, slot state at tail %#llx, can_send %d)",
	      ret, ret == -EIO ? " = -EIO, the retry bound: the channel is wedged" : "",
	      (unsigned long long)f.hdr->tail, (unsigned long long)f.hdr->head,
	      (unsigned long long)ring_state_at(&f, f.hdr->tail),
	      chan_ring_can_send(&f.v));
	CHECK(recv_tag(&f, 64, tag) == RING_RECV_MSG, "recv %llu", (unsigned long long)tag);
	CHECK(unhelped_settles(&f, uc->capacity), "traffic after the repair");
	ok = true;
out:
	ring_fixture_destroy(&f);
	return ok;
}

bool test_reader_dies_before_head_help(const void *arg)
{
	const struct unhelped_case *uc = arg;
	struct chan_ring_repair_counts c = { 0 };
	struct ring_fixture f;
	bool ok = false;
	uint32_t i;
	int ret;

	CHECK(!ring_fixture_init(&f, uc->capacity, 32), "cannot map a ring");
	CHECK(round_trip(&f, 1000, 1000 + 3 * uc->capacity + 1), "warm-up");
	for (i = 0; i < uc->capacity; i++)
		CHECK(send_tag(&f, i) == 0, "send %u", i);
	/* Killed between the claim CAS and the head help. */
	CHECK(ring_claim_unhelped(&f, f.hdr->head, CHAN_SLOT_FULL, CHAN_SLOT_READING,
				  OWNER_DEAD_RX), "claim");
	chan_ring_repair(&f.v, OWNER_DEAD_RX, &c);
	CHECK(counts_are(&c, 0, 1, 0), "repair");
	for (i = 1; i < uc->capacity; i++) {
		ret = recv_tag(&f, 64, i);
		CHECK(ret == RING_RECV_MSG, "recv %u after the dead reader: %d", i, ret);
	}
	ret = recv_tag(&f, 64, 0);
	CHECK(ret == -EAGAIN, "ring not empty: %d", ret);
	CHECK(unhelped_settles(&f, uc->capacity), "traffic after the repair");
	ok = true;
out:
	ring_fixture_destroy(&f);
	return ok;
}

/*
 * Cursors left stale by a death between claim and help, with can_send and
 * can_recv (what poll reports) against the claims.
 */
static bool stale_states(uint32_t cap)
{
	struct chan_ring_repair_counts c = { 0 };
	struct ring_fixture f;
	char state[128];
	uint32_t i;
	bool ok = false;

	CHECK(!ring_fixture_init(&f, cap, 32), "cannot map a ring");
	CHECK(round_trip(&f, 1000, 1000 + 2 * cap + 1), "warm-up");

	/* Receive side: a reader killed before its head help. */
	for (i = 0; i < cap; i++)
		CHECK(send_tag(&f, i) == 0, "send %u", i);
	CHECK(ring_claim_unhelped(&f, f.hdr->head, CHAN_SLOT_FULL, CHAN_SLOT_READING,
				  OWNER_DEAD_RX), "claim");
	snprintf(state, sizeof(state), "capacity %u, READING at a stale head", cap);
	CHECK(ring_can_agrees(&f, state), "%s", "");
	chan_ring_repair(&f.v, OWNER_DEAD_RX, &c);
	snprintf(state, sizeof(state), "capacity %u, retired slot at a stale head", cap);
	CHECK(ring_can_agrees(&f, state), "%s", "");
	if (cap == 1) {
		CHECK(send_tag(&f, 0) == 0, "send into the repaired slot");
		snprintf(state, sizeof(state),
			 "capacity 1, a message one lap past a stale head");
		CHECK(ring_can_agrees(&f, state), "%s", "");
	}
	while (ring_recv(&f.v, OWNER_RX, state, sizeof(state), &i, NULL) >= 0)
		;
	CHECK(round_trip(&f, 2000, 2000 + 2 * cap + 1), "traffic");

	/* Send side: a writer killed before its tail help. */
	CHECK(ring_claim_unhelped(&f, f.hdr->tail, CHAN_SLOT_EMPTY, CHAN_SLOT_WRITING,
				  OWNER_DEAD_TX), "claim");
	snprintf(state, sizeof(state), "capacity %u, WRITING at a stale tail", cap);
	CHECK(ring_can_agrees(&f, state), "%s", "");
	chan_ring_repair(&f.v, OWNER_DEAD_TX, &c);
	snprintf(state, sizeof(state), "capacity %u, tombstone at a stale tail", cap);
	CHECK(ring_can_agrees(&f, state), "%s", "");
	CHECK(recv_tag(&f, 64, 0) == RING_RECV_TOMBSTONE, "recv of the tombstone");
	snprintf(state, sizeof(state), "capacity %u, retired slot at a stale tail", cap);
	CHECK(ring_can_agrees(&f, state), "%s", "");
	ok = true;
out:
	ring_fixture_destroy(&f);
	return ok;
}

bool test_stale_cursor_states(const void *arg)
{
	(void)arg;
	return stale_states(1) && stale_states(2) && stale_states(4);
}

struct dead_claim {
	uint32_t owner;
	struct chan_slot *s;
	uint64_t pos;
};

/*
 * A random walk of sends, receives, held claims, deaths (before or after
 * the cursor help) and repairs, checking at every step that no claim hits
 * the retry bound and can_send/can_recv predict the claims.
 */
static bool stale_walk(uint32_t cap, uint64_t seed, unsigned int steps)
{
	struct dead_claim held_w[4], held_r[4];
	uint32_t dead[16], next_owner = 100, len;
	unsigned int nw = 0, nr = 0, nd = 0, step, i;
	unsigned char msg[16] = { 0 }, buf[32];
	struct ring_fixture f;
	struct chan_slot *s;
	uint64_t rnd = seed;
	char state[160];
	__s64 pos;
	bool ok = false;
	int ret;

	CHECK(!ring_fixture_init(&f, cap, 16), "cannot map a ring");
	for (step = 0; step < steps; step++) {
		struct chan_ring_repair_counts c = { 0 };
		uint64_t r = host_rand(&rnd);
		const char *op = "?";

		switch (r % 11) {
		case 0:
		case 1:
			op = "send";
			ret = ring_send(&f.v, OWNER_TX, msg, 8, NULL);
			CHECK(ret == 0 || ret == -EAGAIN, "step %u: send %d", step, ret);
			break;
		case 2:
		case 3:
			op = "recv";
			ret = ring_recv(&f.v, OWNER_RX, buf, sizeof(buf), &len, NULL);
			CHECK(ret >= 0 || ret == -EAGAIN, "step %u: recv %d", step, ret);
			break;
		case 4:
			op = "claim_send (held)";
			if (nw == ARRAY_SIZE(held_w))
				break;
			s = chan_ring_claim_send(&f.v, next_owner, &pos);
			CHECK(s || pos == -EAGAIN, "step %u: claim_send %lld", step,
			      (long long)pos);
			if (s)
				held_w[nw++] = (struct dead_claim){ next_owner++, s,
								    (uint64_t)pos };
			break;
		case 5:
			op = "claim_recv (held)";
			if (nr == ARRAY_SIZE(held_r))
				break;
			s = chan_ring_claim_recv(&f.v, next_owner, sizeof(buf), &pos, &len);
			CHECK(s || pos == -EAGAIN, "step %u: claim_recv %lld", step,
			      (long long)pos);
			if (s)
				held_r[nr++] = (struct dead_claim){ next_owner++, s,
								    (uint64_t)pos };
			break;
		case 6:
			op = "publish or retire a held claim";
			if (nw && (r & 256)) {
				i = (r >> 9) % nw;
				chan_ring_publish(&f.v, held_w[i].s, held_w[i].pos, 8,
						  held_w[i].owner);
				held_w[i] = held_w[--nw];
			} else if (nr) {
				i = (r >> 9) % nr;
				chan_ring_retire(&f.v, held_r[i].s, held_r[i].pos);
				held_r[i] = held_r[--nr];
			}
			break;
		case 7:
			op = "a holder dies after its cursor help";
			if (nd == ARRAY_SIZE(dead))
				break;
			if (nw && (r & 256)) {
				i = (r >> 9) % nw;
				dead[nd++] = held_w[i].owner;
				held_w[i] = held_w[--nw];
			} else if (nr) {
				i = (r >> 9) % nr;
				dead[nd++] = held_r[i].owner;
				held_r[i] = held_r[--nr];
			}
			break;
		case 8:
			op = "a claimant dies before its cursor help";
			if (nd == ARRAY_SIZE(dead))
				break;
			if (r & 256 ?
			    ring_claim_unhelped(&f, f.hdr->tail, CHAN_SLOT_EMPTY,
						CHAN_SLOT_WRITING, next_owner) :
			    ring_claim_unhelped(&f, f.hdr->head, CHAN_SLOT_FULL,
						CHAN_SLOT_READING, next_owner))
				dead[nd++] = next_owner++;
			break;
		default:
			op = "repair";
			if (!nd)
				break;
			i = (r >> 9) % nd;
			chan_ring_repair(&f.v, dead[i], &c);
			CHECK(c.tombstoned + c.reader_drops + c.skipped == 1,
			      "step %u: repair of %u: %u %u %u", step, dead[i],
			      c.tombstoned, c.reader_drops, c.skipped);
			dead[i] = dead[--nd];
			break;
		}
		snprintf(state, sizeof(state),
			 "capacity %u step %u after %s (head %llu tail %llu, %u+%u held, %u dead)",
			 cap, step, op, (unsigned long long)f.hdr->head,
			 (unsigned long long)f.hdr->tail, nw, nr, nd);
		CHECK(ring_can_agrees(&f, state), "%s", "");
	}
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

bool test_stale_walk(const void *arg)
{
	(void)arg;
	return stale_walk(1, 11, 20000) && stale_walk(2, 12, 20000) &&
	       stale_walk(4, 13, 20000) && stale_walk(8, 14, 20000);
}

/* Deaths under traffic. */

#define CHAOS_MSG_SIZE		24
#define CHAOS_MAX_THREADS	4

struct chaos_run {
	const struct chaos_config *cfg;
	struct ring_fixture f;
	unsigned char *seen;		/* deliveries + reader drops per message */
	unsigned int running;		/* producers and killers still going */
	uint64_t claimed, published, delivered, skipped;
	uint64_t tombstoned, reader_drops, repair_skipped;
	uint64_t dead_writers, dead_readers;
	struct host_stop stop;	/* the first failure */
};

struct chaos_thread {
	struct chaos_run *run;
	unsigned int id;
	pthread_t tid;
};

/* The first failure stops every thread. */
#define chaos_fail(run, ...)	host_stop_fail(&(run)->stop, __VA_ARGS__)

static bool chaos_wait(struct chaos_run *run, unsigned int *spins,
		       const char *who, unsigned int id)
{
	if (!(++*spins & 63)) {
		if (host_stopped(&run->stop))
			return false;
		if (host_test_expired()) {
			chaos_fail(run, "%s %u hung: tail %llu head %llu claimed %llu delivered %llu",
				   who, id,
				   (unsigned long long)__atomic_load_n(&run->f.hdr->tail, __ATOMIC_RELAXED),
				   (unsigned long long)__atomic_load_n(&run->f.hdr->head, __ATOMIC_RELAXED),
				   (unsigned long long)__atomic_load_n(&run->claimed, __ATOMIC_RELAXED),
				   (unsigned long long)__atomic_load_n(&run->delivered, __ATOMIC_RELAXED));
			return false;
		}
	}
	sched_yield();
	return true;
}

static void *chaos_producer(void *arg)
{
	struct chaos_thread *t = arg;
	struct chaos_run *run = t->run;
	unsigned char msg[CHAOS_MSG_SIZE];
	unsigned int spins = 0;
	uint32_t seq = 0;

	while (seq < run->cfg->per_producer) {
		struct chan_slot *s;
		__s64 pos;

		s = chan_ring_claim_send(&run->f.v, 2 + t->id, &pos);
		if (!s) {
			if (pos != -EAGAIN) {
				chaos_fail(run, "producer %u: claim_send %lld", t->id,
					   (long long)pos);
				break;
			}
			if (!chaos_wait(run, &spins, "producer", t->id))
				break;
			continue;
		}
		__atomic_fetch_add(&run->claimed, 1, __ATOMIC_RELAXED);
		msg_fill(msg, sizeof(msg), (uint64_t)t->id << 32 | seq);
		memcpy(msg, &t->id, 4);
		memcpy(msg + 4, &seq, 4);
		memcpy(s->data, msg, sizeof(msg));
		chan_ring_publish(&run->f.v, s, (__u64)pos, sizeof(msg), 2 + t->id);
		__atomic_fetch_add(&run->published, 1, __ATOMIC_RELAXED);
		seq++;
	}
	__atomic_fetch_sub(&run->running, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Record a message as delivered (or lost with a dead reader): once only. */
static bool chaos_account(struct chaos_run *run, const unsigned char *buf,
			  uint32_t len, const char *who, unsigned int id,
			  int64_t *last)
{
	const struct chaos_config *cfg = run->cfg;
	unsigned char want[CHAOS_MSG_SIZE];
	uint32_t p, seq;

	if (len != CHAOS_MSG_SIZE) {
		chaos_fail(run, "%s %u: message of %u bytes", who, id, len);
		return false;
	}
	memcpy(&p, buf, 4);
	memcpy(&seq, buf + 4, 4);
	if (p >= cfg->producers || seq >= cfg->per_producer) {
		chaos_fail(run, "%s %u: bad message %u/%u", who, id, p, seq);
		return false;
	}
	msg_fill(want, len, (uint64_t)p << 32 | seq);
	if (memcmp(want + 8, buf + 8, len - 8)) {
		chaos_fail(run, "%s %u: message %u/%u corrupted", who, id, p, seq);
		return false;
	}
	if (last) {
		if ((int64_t)seq <= last[p]) {
			chaos_fail(run, "%s %u: producer %u's message %u after %lld",
				   who, id, p, seq, (long long)last[p]);
			return false;
		}
		last[p] = seq;
	}
	if (__atomic_fetch_add(&run->seen[(size_t)p * cfg->per_producer + seq], 1,
			       __ATOMIC_RELAXED)) {
		chaos_fail(run, "%s %u: message %u/%u seen twice", who, id, p, seq);
		return false;
	}
	return true;
}

static bool chaos_all_accounted(struct chaos_run *run)
{
	uint64_t claimed, done;

	if (__atomic_load_n(&run->running, __ATOMIC_ACQUIRE))
		return false;
	claimed = __atomic_load_n(&run->claimed, __ATOMIC_RELAXED);
	done = __atomic_load_n(&run->delivered, __ATOMIC_RELAXED) +
	       __atomic_load_n(&run->skipped, __ATOMIC_RELAXED) +
	       __atomic_load_n(&run->reader_drops, __ATOMIC_RELAXED) +
	       __atomic_load_n(&run->repair_skipped, __ATOMIC_RELAXED);
	return done >= claimed;
}

static void *chaos_consumer(void *arg)
{
	struct chaos_thread *t = arg;
	struct chaos_run *run = t->run;
	unsigned char buf[CHAOS_MSG_SIZE];
	int64_t last[CHAOS_MAX_THREADS];
	unsigned int spins = 0, i;
	uint32_t len;

	for (i = 0; i < CHAOS_MAX_THREADS; i++)
		last[i] = -1;
	while (!chaos_all_accounted(run)) {
		int ret = ring_recv(&run->f.v, 20 + t->id, buf, sizeof(buf), &len,
				    NULL);

		if (ret == RING_RECV_MSG) {
			if (!chaos_account(run, buf, len, "consumer", t->id, last))
				break;
			__atomic_fetch_add(&run->delivered, 1, __ATOMIC_RELAXED);
		} else if (ret == RING_RECV_TOMBSTONE) {
			__atomic_fetch_add(&run->skipped, 1, __ATOMIC_RELAXED);
		} else if (ret == -EAGAIN) {
			if (!chaos_wait(run, &spins, "consumer", t->id))
				break;
		} else {
			chaos_fail(run, "consumer %u: recv %d", t->id, ret);
			break;
		}
	}
	return NULL;
}

/*
 * Alternately die as a writer (claim, scribble half a payload, stop) and
 * as a reader (claim, look at the message, stop); after a few yields, do
 * what the kernel's release would: repair the dead token.
 */
static void *chaos_killer(void *arg)
{
	struct chaos_thread *t = arg;
	struct chaos_run *run = t->run;
	uint64_t rnd = 0x1234567 + t->id;
	unsigned int spins = 0;
	uint32_t k;

	for (k = 0; k < run->cfg->deaths; k++) {
		__u32 token = 100 + t->id * 30000 + k;
		struct chan_ring_repair_counts c = { 0 };
		struct chan_slot *s;
		unsigned int nap;
		__u32 len;
		__s64 pos;

		if (k & 1) {
			s = chan_ring_claim_send(&run->f.v, token, &pos);
			if (s) {
				__atomic_fetch_add(&run->claimed, 1, __ATOMIC_RELAXED);
				__atomic_fetch_add(&run->dead_writers, 1, __ATOMIC_RELAXED);
				memset(s->data, 0xee, CHAOS_MSG_SIZE / 2);
			}
		} else {
			s = chan_ring_claim_recv(&run->f.v, token, CHAOS_MSG_SIZE, &pos, &len);
			if (s) {
				__atomic_fetch_add(&run->dead_readers, 1, __ATOMIC_RELAXED);
				if (!chan_slot_is_tombstone(s)) {
					unsigned char buf[CHAOS_MSG_SIZE];

					memcpy(buf, s->data, len);
					if (!chaos_account(run, buf, len, "dead reader",
							   t->id, NULL))
						break;
				}
			}
		}
		if (!s) {
			if (pos != -EAGAIN) {
				chaos_fail(run, "killer %u: claim %lld", t->id, (long long)pos);
				break;
			}
			if (!chaos_wait(run, &spins, "killer", t->id))
				break;
			continue;
		}
		/* Dead: let the others run into the held slot for a while. */
		for (nap = host_rand(&rnd) % 8; nap; nap--)
			sched_yield();
		chan_ring_repair(&run->f.v, token, &c);
		if (c.tombstoned + c.reader_drops + c.skipped != 1) {
			chaos_fail(run, "killer %u: repair of token %u: tombstoned %u reader_drops %u skipped %u",
				   t->id, token, c.tombstoned, c.reader_drops, c.skipped);
			break;
		}
		__atomic_fetch_add(&run->tombstoned, c.tombstoned, __ATOMIC_RELAXED);
		__atomic_fetch_add(&run->reader_drops, c.reader_drops, __ATOMIC_RELAXED);
		__atomic_fetch_add(&run->repair_skipped, c.skipped, __ATOMIC_RELAXED);
	}
	__atomic_fetch_sub(&run->running, 1, __ATOMIC_RELEASE);
	return NULL;
}

static bool chaos_check(struct chaos_run *run)
{
	const struct chaos_config *cfg = run->cfg;
	uint64_t total = (uint64_t)cfg->producers * cfg->per_producer, i;
	uint64_t skipped = run->skipped + run->repair_skipped;
	bool ok = false;

	CHECK(!host_stopped(&run->stop), "%s", run->stop.why);
	host_diag("claimed %llu = published %llu + tombstoned %llu = delivered %llu + skipped %llu + reader_drops %llu (dead writers %llu, dead readers %llu)",
		  (unsigned long long)run->claimed,
		  (unsigned long long)run->published,
		  (unsigned long long)run->tombstoned,
		  (unsigned long long)run->delivered,
		  (unsigned long long)skipped,
		  (unsigned long long)run->reader_drops,
		  (unsigned long long)run->dead_writers,
		  (unsigned long long)run->dead_readers);
	CHECK(run->claimed == run->published + run->tombstoned,
	      "claimed != published + tombstoned");
	CHECK(run->published + run->tombstoned ==
	      run->delivered + skipped + run->reader_drops,
	      "published + tombstoned != delivered + skipped + reader_drops");
	CHECK(run->published == total, "published %llu of %llu",
	      (unsigned long long)run->published, (unsigned long long)total);
	CHECK(run->tombstoned == run->dead_writers &&
	      run->reader_drops + run->repair_skipped == run->dead_readers,
	      "repairs do not match the deaths");
	for (i = 0; i < total; i++)
		CHECK(run->seen[i] == 1, "message %llu/%llu delivered or dropped %u times",
		      (unsigned long long)(i / cfg->per_producer),
		      (unsigned long long)(i % cfg->per_producer), run->seen[i]);
	CHECK(chan_ring_depth(&run->f.v) == 0 && run->f.hdr->tail == run->claimed &&
	      run->f.hdr->head == run->claimed,
	      "cursors at the end: tail %llu head %llu, claimed %llu",
	      (unsigned long long)run->f.hdr->tail,
	      (unsigned long long)run->f.hdr->head,
	      (unsigned long long)run->claimed);
	CHECK(ring_fixture_intact(&run->f), "memory around the ring");
	ok = true;
out:
	return ok;
}

bool test_repair_under_traffic(const void *arg)
{
	const struct chaos_config *cfg = arg;
	struct chaos_thread th[3 * CHAOS_MAX_THREADS];
	void *(*fn[3 * CHAOS_MAX_THREADS])(void *);
	uint64_t total = (uint64_t)cfg->producers * cfg->per_producer;
	unsigned int n, nth = 0, started;
	struct chaos_run *run;
	bool ok = false;

	run = calloc(1, sizeof(*run));
	if (!run)
		return false;
	run->cfg = cfg;
	CHECK(!ring_run_init(&run->f, &run->seen, total, cfg->capacity,
			     CHAOS_MSG_SIZE), "cannot set up the run");
	run->running = cfg->producers + cfg->killers;

	for (n = 0; n < cfg->consumers; n++, nth++) {
		th[nth] = (struct chaos_thread){ .run = run, .id = n };
		fn[nth] = chaos_consumer;
	}
	for (n = 0; n < cfg->producers; n++, nth++) {
		th[nth] = (struct chaos_thread){ .run = run, .id = n };
		fn[nth] = chaos_producer;
	}
	for (n = 0; n < cfg->killers; n++, nth++) {
		th[nth] = (struct chaos_thread){ .run = run, .id = n };
		fn[nth] = chaos_killer;
	}
	for (started = 0; started < nth; started++)
		if (pthread_create(&th[started].tid, NULL, fn[started], &th[started]))
			break;
	if (started < nth) {
		chaos_fail(run, "cannot start thread %u", started);
		/* Those never started never leave: let the rest finish. */
		for (n = started; n < nth; n++)
			if (fn[n] != chaos_consumer)
				__atomic_fetch_sub(&run->running, 1, __ATOMIC_RELEASE);
	}
	for (n = 0; n < started; n++)
		pthread_join(th[n].tid, NULL);
	ok = chaos_check(run);
out:
	ring_fixture_destroy(&run->f);
	free(run->seen);
	free(run);
	return ok;
}
