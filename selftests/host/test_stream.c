// SPDX-License-Identifier: GPL-2.0
/*
 * The stream claim of kmod/chan_ring.h (models/stream.pml): a reader
 * claims the head slot without moving the head, hands it back FULL with
 * its offset or retires it; a READING head is -EBUSY to the other
 * readers; the repair hands a dead reader's slot back with its offset and
 * helps a head its dead reader left behind; a read that goes on holds the
 * next write before it lets the last go; garbage in the slots costs
 * bytes, never a bound; and under threads, every byte is taken once, in
 * stream order.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_fixture.h"
#include "ring_tests.h"

#define OWNER_W		2
#define OWNER_R		3
#define OWNER_R2	4
#define OWNER_DEAD	9

static int send_bytes(struct ring_fixture *f, const void *p, uint32_t len)
{
	return ring_send(&f->v, OWNER_W, p, len, NULL);
}

/* Claim the head; expect len/off; NULL (with a diagnosis) otherwise. */
static struct chan_slot *claim(struct ring_fixture *f, uint32_t owner,
			       uint32_t len, uint32_t off, uint64_t *posp)
{
	struct chan_slot *s;
	uint32_t l = 0, o = 0;
	__s64 pos;

	s = chan_ring_claim_stream(&f->v, owner, &pos, &l, &o);
	if (!s || l != len || o != off) {
		host_diag("claim: %s pos %lld len %u off %u, expected %u %u",
			  s ? "slot" : "none", (long long)pos, l, o, len, off);
		return NULL;
	}
	*posp = (uint64_t)pos;
	return s;
}

/* Every claimed position retired: the head has caught up with the tail. */
static bool drained(struct ring_fixture *f)
{
	if (f->hdr->head == f->hdr->tail)
		return true;
	host_diag("head %llu tail %llu", (unsigned long long)f->hdr->head,
		  (unsigned long long)f->hdr->tail);
	return false;
}

bool test_stream_claim(const void *arg)
{
	struct ring_fixture f;
	struct chan_slot *s, *t;
	uint64_t pos, head;
	uint32_t l, o;
	__s64 p;
	bool ok = false;

	(void)arg;
	if (ring_fixture_init(&f, 4, 16))
		return false;
	CHECK(!chan_ring_claim_stream(&f.v, OWNER_R, &p, &l, &o) &&
	      p == -EAGAIN, "empty: %lld", (long long)p);
	CHECK(!chan_ring_stream_can_recv(&f.v), "empty can_recv");
	CHECK(send_bytes(&f, "0123456789", 10) == 0, "send 1");
	CHECK(send_bytes(&f, "abcdef", 6) == 0, "send 2");
	CHECK(chan_ring_stream_can_recv(&f.v), "can_recv");

	/* Take 4 of the first write, hand the rest back: the head stays. */
	head = f.hdr->head;
	s = claim(&f, OWNER_R, 10, 0, &pos);
	CHECK(s && pos == head, "claim 1");
	CHECK(f.hdr->head == head, "the claim moved the head");
	/* Another reader finds the head busy, and waits: no help. */
	CHECK(!chan_ring_claim_stream(&f.v, OWNER_R2, &p, &l, &o) &&
	      p == -EBUSY, "busy: %lld", (long long)p);
	CHECK(f.hdr->head == head, "a busy head was helped");
	CHECK(chan_ring_stream_can_recv(&f.v), "busy head is data");
	CHECK(!memcmp(s->data, "0123", 4), "bytes");
	chan_ring_stream_hand_back(&f.v, s, pos, 4, OWNER_R);

	/* The next reader goes on at 4, takes the rest and retires. */
	s = claim(&f, OWNER_R2, 10, 4, &pos);
	CHECK(s && pos == head, "claim 2");
	CHECK(!memcmp(s->data + 4, "456789", 6), "rest");
	chan_ring_stream_retire(&f.v, s, pos);
	CHECK(f.hdr->head == head + 1, "retire did not move the head");

	t = claim(&f, OWNER_R, 6, 0, &pos);
	CHECK(t && pos == head + 1, "claim 3");
	chan_ring_stream_retire(&f.v, t, pos);
	CHECK(!chan_ring_claim_stream(&f.v, OWNER_R, &p, &l, &o) &&
	      p == -EAGAIN, "drained: %lld", (long long)p);
	/* The slot is written again: its new write starts at offset 0. */
	CHECK(send_bytes(&f, "xyz", 3) == 0, "send 3");
	CHECK(send_bytes(&f, "XYZ", 3) == 0, "send 4");
	CHECK(send_bytes(&f, "qq", 2) == 0, "send 5");
	s = claim(&f, OWNER_R, 3, 0, &pos);
	CHECK(s && !memcmp(s->data, "xyz", 3), "claim 4");
	chan_ring_stream_retire(&f.v, s, pos);
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

bool test_stream_repair(const void *arg)
{
	struct chan_ring_repair_counts c = { 0 };
	struct ring_fixture f;
	struct chan_slot *s;
	uint64_t pos, head;
	bool ok = false;

	(void)arg;
	if (ring_fixture_init(&f, 4, 16))
		return false;
	CHECK(send_bytes(&f, "0123456789", 10) == 0, "send");
	head = f.hdr->head;
	s = claim(&f, OWNER_R, 10, 0, &pos);
	CHECK(s, "claim");
	chan_ring_stream_hand_back(&f.v, s, pos, 3, OWNER_R);

	/* A reader dies inside the slot (it took 3..6, recorded none). */
	s = claim(&f, OWNER_DEAD, 10, 3, &pos);
	CHECK(s, "claim by the dead");
	chan_ring_repair_stream(&f.v, OWNER_DEAD, &c);
	CHECK(c.handed_back == 1 && !c.reader_drops && !c.tombstoned,
	      "counts %u %u %u", c.handed_back, c.reader_drops, c.tombstoned);
	CHECK(f.hdr->head == head, "the repair moved the head");
	s = claim(&f, OWNER_R, 10, 3, &pos);
	CHECK(s && !memcmp(s->data + 3, "3456789", 7), "after repair");

	/* A reader dies after its retire, before its help of the head. */
	chan_ring_retire(&f.v, s, pos);
	CHECK(f.hdr->head == head, "head");
	chan_ring_repair_stream(&f.v, OWNER_DEAD, &c);
	CHECK(f.hdr->head == head + 1, "the repair left the head behind");

	/* A writer dies holding its slot: a tombstone, length 0. */
	memset(&c, 0, sizeof(c));
	CHECK(ring_claim_unhelped(&f, f.hdr->tail, CHAN_SLOT_EMPTY,
				  CHAN_SLOT_WRITING, OWNER_DEAD), "unhelped");
	chan_ring_repair_stream(&f.v, OWNER_DEAD, &c);
	CHECK(c.tombstoned == 1, "tombstoned %u", c.tombstoned);
	CHECK(send_bytes(&f, "ab", 2) == 0, "send after");
	s = claim(&f, OWNER_R, 0, 0, &pos);
	CHECK(s && chan_slot_is_tombstone(s), "tombstone");
	chan_ring_stream_retire(&f.v, s, pos);
	s = claim(&f, OWNER_R, 2, 0, &pos);
	CHECK(s && !memcmp(s->data, "ab", 2), "after the tombstone");
	chan_ring_stream_retire(&f.v, s, pos);
	CHECK(drained(&f), "not drained");
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

/*
 * A read that goes on: the next write is claimed before the finished one
 * is retired, so the head stops at a slot the reader holds (-EBUSY for
 * the others); nothing to claim when the next slot is not FULL of its
 * lap; a reader that dies holding two slots gives both back.
 */
bool test_stream_next(const void *arg)
{
	struct chan_ring_repair_counts c = { 0 };
	struct ring_fixture f;
	struct chan_slot *s, *t;
	uint64_t pos, head;
	uint32_t l = 9, o = 9;
	__s64 p;
	bool ok = false;

	(void)arg;
	if (ring_fixture_init(&f, 4, 16))
		return false;
	CHECK(send_bytes(&f, "0123", 4) == 0, "send 1");
	CHECK(send_bytes(&f, "abcdef", 6) == 0, "send 2");
	head = f.hdr->head;
	s = claim(&f, OWNER_R, 4, 0, &pos);
	CHECK(s && pos == head, "claim");
	t = chan_ring_claim_stream_next(&f.v, OWNER_R, pos + 1, &l, &o);
	CHECK(t && l == 6 && o == 0, "next: len %u off %u", l, o);
	CHECK(f.hdr->head == head, "claiming next moved the head");
	chan_ring_stream_retire(&f.v, s, pos);
	CHECK(f.hdr->head == head + 1, "retire did not move the head");
	/* The head is ours: the others wait, nobody helps it past. */
	CHECK(!chan_ring_claim_stream(&f.v, OWNER_R2, &p, &l, &o) &&
	      p == -EBUSY, "busy: %lld", (long long)p);
	CHECK(f.hdr->head == head + 1, "a held head was helped");
	/* Nothing after it yet. */
	CHECK(!chan_ring_claim_stream_next(&f.v, OWNER_R, pos + 2, &l, &o),
	      "claimed an empty slot");
	/* A slot held by someone (a scribble) is not taken either. */
	CHECK(!chan_ring_claim_stream_next(&f.v, OWNER_R2, pos + 1, &l, &o),
	      "claimed a READING slot");
	chan_ring_stream_hand_back(&f.v, t, pos + 1, 2, OWNER_R);
	t = claim(&f, OWNER_R2, 6, 2, &pos);
	CHECK(t && !memcmp(t->data + 2, "cdef", 4), "rest");
	chan_ring_stream_retire(&f.v, t, pos);

	/* A reader dies holding the head slot and the next one. */
	CHECK(send_bytes(&f, "ghij", 4) == 0, "send 3");
	CHECK(send_bytes(&f, "klm", 3) == 0, "send 4");
	head = f.hdr->head;
	s = claim(&f, OWNER_DEAD, 4, 0, &pos);
	CHECK(s, "claim by the dead");
	chan_ring_stream_hand_back(&f.v, s, pos, 1, OWNER_DEAD);
	s = claim(&f, OWNER_DEAD, 4, 1, &pos);
	t = chan_ring_claim_stream_next(&f.v, OWNER_DEAD, pos + 1, &l, &o);
	CHECK(s && t, "the dead holds two");
	chan_ring_repair_stream(&f.v, OWNER_DEAD, &c);
	CHECK(c.handed_back == 2, "handed back %u", c.handed_back);
	CHECK(f.hdr->head == head, "the repair moved the head");
	s = claim(&f, OWNER_R, 4, 1, &pos);
	CHECK(s && !memcmp(s->data + 1, "hij", 3), "after repair");
	t = chan_ring_claim_stream_next(&f.v, OWNER_R, pos + 1, &l, &o);
	CHECK(t && l == 3 && o == 0, "next after repair");
	chan_ring_stream_retire(&f.v, s, pos);

	/* It dies again, after retiring, before helping: both settled. */
	memset(&c, 0, sizeof(c));
	chan_ring_stream_hand_back(&f.v, t, pos + 1, 0, OWNER_R);
	s = claim(&f, OWNER_DEAD, 3, 0, &pos);
	CHECK(s, "claim 3");
	CHECK(send_bytes(&f, "no", 2) == 0, "send 5");
	t = chan_ring_claim_stream_next(&f.v, OWNER_DEAD, pos + 1, &l, &o);
	CHECK(t && l == 2, "next 3");
	chan_ring_retire(&f.v, s, pos);
	chan_ring_repair_stream(&f.v, OWNER_DEAD, &c);
	CHECK(c.handed_back == 1, "handed back %u", c.handed_back);
	CHECK(f.hdr->head == pos + 1, "head %llu, expected %llu",
	      (unsigned long long)f.hdr->head, (unsigned long long)pos + 1);
	s = claim(&f, OWNER_R, 2, 0, &pos);
	CHECK(s && !memcmp(s->data, "no", 2), "the last write");
	chan_ring_stream_retire(&f.v, s, pos);
	CHECK(drained(&f), "not drained");
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

/*
 * A hostile mapper: slot words, lengths and offsets of garbage. Every
 * claim returns within its bound, with off <= len <= msg_size; the bytes
 * it hands out are read (inside the fixture's guard pages); hand-back,
 * retire, can_recv and the repair never loop.
 */
bool test_stream_garbage(const void *arg)
{
	struct chan_ring_repair_counts c = { 0 };
	uint64_t rnd = 0x5eed5712ea11ULL, sum = 0, claimed = 0;
	struct ring_fixture f;
	struct chan_slot *s;
	uint32_t i, j, l, o, round;
	__s64 p;
	bool ok = false;

	(void)arg;
	if (ring_fixture_init(&f, 4, 40))
		return false;
	for (round = 0; round < 20000; round++) {
		uint64_t r = host_rand(&rnd);

		if (r % 3 == 0) {
			f.hdr->head = host_rand(&rnd) % 64;
			f.hdr->tail = f.hdr->head + host_rand(&rnd) % 6;
		}
		for (i = 0; i < f.capacity; i++) {
			s = ring_slot_at(&f, i);
			r = host_rand(&rnd);
			for (j = 0; j < f.msg_size; j++)
				s->data[j] = (unsigned char)(r >> (j % 8 * 8));
			if (r % 2)
				continue;
			s->state = r % 5 ? chan_slot_state(
				(f.hdr->head >> 2) + (r >> 8) % 3 - 1,
				(uint32_t)(r >> 16), (uint32_t)(r >> 20)) :
				host_rand(&rnd);
			s->len = (uint32_t)(r >> 24) % 3 ?
				 (uint32_t)(r >> 28) % 48 :
				 (uint32_t)host_rand(&rnd);
			s->flags = (uint32_t)(r >> 40) % 3 ?
				   (uint32_t)(r >> 44) % 100 :
				   (uint32_t)host_rand(&rnd);
		}
		(void)chan_ring_stream_can_recv(&f.v);
		s = chan_ring_claim_stream(&f.v, OWNER_R, &p, &l, &o);
		if (!s) {
			CHECK(p == -EAGAIN || p == -EBUSY || p == -EIO,
			      "claim: %lld", (long long)p);
			continue;
		}
		claimed++;
		CHECK(l <= f.msg_size && o <= l, "len %u off %u", l, o);
		for (j = o; j < l; j++)
			sum += s->data[j];
		if (r % 2) {
			chan_ring_stream_hand_back(&f.v, s, (uint64_t)p,
						   o + (l - o) / 2, OWNER_R);
		} else {
			struct chan_slot *t;

			t = chan_ring_claim_stream_next(&f.v, OWNER_R,
							(uint64_t)p + 1, &l, &o);
			chan_ring_stream_retire(&f.v, s, (uint64_t)p);
			if (t) {
				CHECK(l <= f.msg_size && o <= l,
				      "next: len %u off %u", l, o);
				for (j = o; j < l; j++)
					sum += t->data[j];
				chan_ring_stream_retire(&f.v, t,
							(uint64_t)p + 1);
			}
		}
		if (r % 7 == 0)
			chan_ring_repair_stream(&f.v, (uint32_t)(r >> 50) % 8 + 1,
						&c);
	}
	host_diag("%llu claims of 20000 (byte sum %llu)",
		  (unsigned long long)claimed, (unsigned long long)sum);
	CHECK(claimed > 0, "no claim ever succeeded");
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}

/*
 * Threads: writers send writes of random sizes, each byte keyed by its
 * writer and index; readers take random amounts under the claim. What
 * the claim serializes (the head slot) is checked under it: each take
 * starts where the last one ended (position and offset), and each
 * writer's bytes come out contiguous and in order, once; a read that goes
 * on into the next write (chan_ring_claim_stream_next()) has no other
 * reader's take between its own.
 */
#define ST_WRITERS	3
#define ST_READERS	3
#define ST_BYTES	60000	/* per writer */
#define ST_MSG		24

struct st_run {
	struct ring_fixture f;
	struct host_stop stop;
	/* written only by the holder of the head slot's claim */
	uint64_t next_pos;
	uint32_t next_off;
	uint64_t next_byte[ST_WRITERS];
	uint64_t taken;
	uint64_t busy, handed_back, went_on;
	uint64_t takes[ST_READERS];	/* per reader */
	unsigned int last_reader;	/* whose take was the last */
};

struct st_thread {
	struct st_run *run;
	unsigned int id;
};

static unsigned char st_byte(unsigned int w, uint64_t i)
{
	return (unsigned char)((w << 6) | ((i * 37 + (i >> 7)) & 63));
}

static void *st_writer(void *p)
{
	struct st_thread *t = p;
	struct st_run *run = t->run;
	uint64_t rnd = 0x1234 + t->id, i = 0;
	unsigned char buf[ST_MSG];
	uint32_t n, j;
	int ret;

	while (i < ST_BYTES && !host_stopped(&run->stop)) {
		n = 1 + host_rand(&rnd) % ST_MSG;
		if (n > ST_BYTES - i)
			n = ST_BYTES - i;
		/* byte 0: the writer; the rest keyed by index */
		for (j = 0; j < n; j++)
			buf[j] = st_byte(t->id, i + j);
		ret = ring_send_wait(&run->f.v, 10 + t->id, buf, n);
		if (ret) {
			host_stop_fail(&run->stop, "writer %u: send %d",
				       t->id, ret);
			break;
		}
		i += n;
	}
	return NULL;
}

static void *st_reader(void *p)
{
	struct st_thread *t = p;
	struct st_run *run = t->run;
	uint64_t rnd = 0x9876 + t->id;
	uint32_t owner = 20 + t->id, l, o, n, j, w;
	struct chan_slot *s, *next;
	bool more;
	__s64 pos;

	while (!host_stopped(&run->stop)) {
		if (__atomic_load_n(&run->taken, __ATOMIC_ACQUIRE) ==
		    (uint64_t)ST_WRITERS * ST_BYTES)
			break;
		s = chan_ring_claim_stream(&run->f.v, owner, &pos, &l, &o);
		if (!s) {
			if (pos == -EBUSY)
				__atomic_fetch_add(&run->busy, 1,
						   __ATOMIC_RELAXED);
			else if (pos != -EAGAIN) {
				host_stop_fail(&run->stop, "claim %lld",
					       (long long)pos);
				break;
			}
			if (host_test_expired()) {
				host_stop_fail(&run->stop, "reader %u: timeout",
					       t->id);
				break;
			}
			sched_yield();
			continue;
		}
		more = false;
take:
		if ((uint64_t)pos != run->next_pos || o != run->next_off) {
			host_stop_fail(&run->stop,
				       "take at %lld+%u, expected %llu+%u",
				       (long long)pos, o,
				       (unsigned long long)run->next_pos,
				       run->next_off);
			break;
		}
		/* A read that went on: nobody else took in between. */
		if (more && run->last_reader != t->id) {
			host_stop_fail(&run->stop,
				       "reader %u's read went on after %u's take",
				       t->id, run->last_reader);
			break;
		}
		run->last_reader = t->id;
		/* Hold the claim a while, now and then: busy heads. */
		if (host_rand(&rnd) % 4 == 0)
			sched_yield();
		n = l - o;
		if (n > 1 && host_rand(&rnd) % 2)
			n = 1 + host_rand(&rnd) % (n - 1);
		for (j = o; j < o + n; j++) {
			w = s->data[j] >> 6;
			if (w >= ST_WRITERS ||
			    s->data[j] != st_byte(w, run->next_byte[w])) {
				host_stop_fail(&run->stop,
					       "byte %u of %lld: 0x%02x", j,
					       (long long)pos, s->data[j]);
				goto out;
			}
			run->next_byte[w]++;
		}
		run->takes[t->id]++;
		__atomic_fetch_add(&run->taken, n, __ATOMIC_RELEASE);
		if (o + n < l) {
			run->next_off = o + n;
			run->handed_back++;
			chan_ring_stream_hand_back(&run->f.v, s, (uint64_t)pos,
						   o + n, owner);
		} else {
			run->next_pos = (uint64_t)pos + 1;
			run->next_off = 0;
			/* Half the reads go on into the next write. */
			next = NULL;
			if (host_rand(&rnd) % 2)
				next = chan_ring_claim_stream_next(
					&run->f.v, owner, (uint64_t)pos + 1,
					&l, &o);
			chan_ring_stream_retire(&run->f.v, s, (uint64_t)pos);
			if (next) {
				run->went_on++;
				s = next;
				pos++;
				more = true;
				goto take;
			}
		}
	}
out:
	return NULL;
}

bool test_stream_threads(const void *arg)
{
	uint32_t cap = *(const uint32_t *)arg;
	struct st_thread wt[ST_WRITERS], rt[ST_READERS];
	pthread_t wth[ST_WRITERS], rth[ST_READERS];
	struct st_run *run;
	unsigned int i;
	bool ok = false;

	run = calloc(1, sizeof(*run));
	if (!run || ring_fixture_init(&run->f, cap, ST_MSG)) {
		free(run);
		return false;
	}
	for (i = 0; i < ST_READERS; i++) {
		rt[i] = (struct st_thread){ run, i };
		if (pthread_create(&rth[i], NULL, st_reader, &rt[i]))
			abort();
	}
	for (i = 0; i < ST_WRITERS; i++) {
		wt[i] = (struct st_thread){ run, i };
		if (pthread_create(&wth[i], NULL, st_writer, &wt[i]))
			abort();
	}
	for (i = 0; i < ST_WRITERS; i++)
		pthread_join(wth[i], NULL);
	for (i = 0; i < ST_READERS; i++)
		pthread_join(rth[i], NULL);
	CHECK(!host_stopped(&run->stop), "stopped: %s", run->stop.why);
	for (i = 0; i < ST_WRITERS; i++)
		CHECK(run->next_byte[i] == ST_BYTES, "writer %u: %llu bytes",
		      i, (unsigned long long)run->next_byte[i]);
	CHECK(run->f.hdr->head == run->f.hdr->tail, "head %llu tail %llu",
	      (unsigned long long)run->f.hdr->head,
	      (unsigned long long)run->f.hdr->tail);
	CHECK(cap == 1 || run->went_on > 0,
	      "no read went on into a next write");
	host_diag("cap %u: %llu bytes, %llu hand-backs, %llu reads went on, %llu busy heads, takes %llu/%llu/%llu",
		  cap, (unsigned long long)run->taken,
		  (unsigned long long)run->handed_back,
		  (unsigned long long)run->went_on,
		  (unsigned long long)run->busy,
		  (unsigned long long)run->takes[0],
		  (unsigned long long)run->takes[1],
		  (unsigned long long)run->takes[2]);
	ok = true;
out:
	ok = ring_fixture_finish(&run->f, ok);
	free(run);
	return ok;
}
