// SPDX-License-Identifier: GPL-2.0
/*
 * The fast path's repair and its hostile mappers (issue 9), with the ring
 * protocol code itself (kmod/chan_ring.h compiled in user space):
 *
 *  - a fast-path sender that dies at each step of a send (after the claim,
 *    mid-copy, before the publish, after it), hundreds of times: the
 *    kernel turns its slot into a tombstone that kernel receivers skip and
 *    count as dropped, wakes them, and a one-slot channel never wedges
 *    (writer_dies_holding); one that dies after its publish, before its
 *    WAKE, does not strand a sleeping receiver (writer_dies_before_wake);
 *    a tombstone passed by a fast-path receiver is counted too
 *    (user_skipped_counts); the same for a receiver dying while READING: the
 *    slot returns EMPTY for the next lap, counted as dropped, and a sender
 *    asleep on the full ring is woken (reader_steps);
 *  - senders and receivers killed from outside at random points of a
 *    claim/copy/publish loop: nothing duplicated, order kept, drops never
 *    more than kills, counters balance (random_kills_*);
 *  - the ways a mapping goes besides death: munmap while holding a slot,
 *    partial munmaps and mprotect splits (the repair waits for the last
 *    piece), mremap moves (no repair: the slot is still ours), execve, and
 *    a parent that dies holding a slot while its child keeps the fd
 *    (munmap_while_holding, partial_munmap, mprotect_split, mremap_move,
 *    exec_after_claim, fork_then_parent_dies);
 *  - hostile mappers scribbling random bytes and then adversarial values
 *    over the header and slots while others use ioctls, read/write and
 *    poll on the same channel (every call bounded in time, only the
 *    documented errnos) and a second channel that is not mappable must see
 *    exactly its own traffic (hostile).
 *
 * Every wait is bounded; every fixture fails its test if the kernel
 * logged a warning meanwhile.
 */
#define CT_WANT_RING
#include "chan_test_util.h"

#pragma GCC diagnostic ignored "-Wclobbered"

#define WAIT_MS		60000
#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)
#define MAX_IDS		16
#define OP_TIMEOUT	(20 * CT_SEC)	/* a kernel call that must not wedge */
#define SLOW_NS		(10 * CT_SEC)	/* a woken sleeper is never this late */

FIXTURE(rp) {
	int dev;
	int kmsg;
	uint32_t ids[MAX_IDS];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(rp)
{
	self->nids = 0;
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
}

FIXTURE_TEARDOWN(rp)
{
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg, self->ids,
			 self->nids);
	close(self->dev);
}

static int rp_create(FIXTURE_DATA(rp) *self, uint32_t msg_size,
		     uint32_t capacity, struct chan_create *c)
{
	return ct_create_kept(self->dev, msg_size, capacity, 0600, c,
			      self->ids, &self->nids, MAX_IDS);
}

static uint64_t slot_state(const struct ct_ring *r, uint64_t pos)
{
	return __atomic_load_n(&chan_ring_slot(&r->v, pos)->state,
			       __ATOMIC_ACQUIRE);
}

static uint32_t slot_flags(const struct ct_ring *r, uint64_t pos)
{
	return __atomic_load_n(&chan_ring_slot(&r->v, pos)->flags,
			       __ATOMIC_ACQUIRE);
}

/* ---- death at every step ---- */

enum { STEP_CLAIMED, STEP_HALF_COPIED, STEP_LEN_WRITTEN, STEP_PUBLISHED,
       NR_STEPS };

#define DEATH_ROUNDS	800	/* per test: 200 at each step */
#define DEATH_MSG	64

/*
 * A receiver in the kernel for the whole test: values until UINT64_MAX,
 * each stored in got[] (shared); exits with the count in *n.
 */
static int recv_until_end(int fd, uint64_t *got, uint64_t *n, uint64_t max)
{
	unsigned char buf[DEATH_MSG];
	uint32_t len;
	uint64_t v;

	for (;;) {
		len = sizeof(buf);
		if (ct_recv(fd, 0, buf, &len, CHAN_MSG_TIMEOUT, OP_TIMEOUT))
			ct_child_die(__LINE__, "recv after %llu: %s",
				     (unsigned long long)*n, ct_ename(errno));
		CF_TRUE(len == sizeof(v), "length %u", len);
		memcpy(&v, buf, sizeof(v));
		if (v == UINT64_MAX)
			return 0;
		CF_TRUE(*n < max, "too many messages");
		got[(*n)++] = v;
	}
}

/*
 * The writer dies at each step in turn (of those in the mask), on a
 * one-slot channel with a receiver asleep in the kernel. After each death
 * the test's own blocking send must get through at once: the dead
 * writer's slot was repaired into a tombstone, the receiver woken to skip
 * it, and the slot freed. A writer that published and died before its
 * WAKE leaves the receiver asleep beside a message unless its death wakes
 * it (the spec: the repair "then wakes both directions").
 */
static void writer_steps(struct __test_metadata *_metadata,
			 FIXTURE_DATA(rp) *self, unsigned int mask)
{
	uint64_t *got, *ngot, want = 0, tombs = 0, msgs = 0, v, t0;
	unsigned char buf[DEATH_MSG];
	struct chan_create c;
	struct chan_info info;
	int fd, rfd, i, rc, bad = 0;
	uint32_t tok = 0;
	pid_t pid;

	got = ct_shared_alloc(sizeof(uint64_t) * (2 * DEATH_ROUNDS + 2));
	ngot = ct_shared_alloc(sizeof(*ngot));
	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, ngot);
	ASSERT_OK(rp_create(self, DEATH_MSG, 1, &c));
	fd = ct_open_token(self->dev, c.out_id, CHAN_ROLE_SEND, 0, &tok);
	ASSERT_LE(0, fd);
	rfd = ct_open(self->dev, c.out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, rfd);
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fd);
		_exit(recv_until_end(rfd, got, ngot, 2 * DEATH_ROUNDS));
	}
	self->pid[0] = pid;
	close(rfd);

	for (i = 0; i < DEATH_ROUNDS; i++) {
		int step = i % NR_STEPS;

		if (!(mask & (1U << step)))
			continue;

		pid = ct_fork_slot(1);
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct chan_slot *s;
			struct ct_ring r;
			__s64 pos;

			/* The test's fd, never mapped by the test itself. */
			CF_OK(ct_ring_map(fd, &c.out_ring, tok, &r));
			for (;;) {
				s = chan_ring_claim_send(&r.v, tok, &pos);
				if (s)
					break;
				CF_TRUE(pos == -EAGAIN, "claim: %lld",
					(long long)pos);
				sched_yield();
			}
			v = (1ULL << 32) | (uint64_t)i;
			memset(buf, 0, sizeof(buf));
			memcpy(buf, &v, sizeof(v));
			if (step >= STEP_HALF_COPIED)
				memcpy(s->data, buf, 4);
			if (step >= STEP_LEN_WRITTEN) {
				memcpy(s->data, buf, sizeof(v));
				s->len = sizeof(v);
			}
			if (step == STEP_PUBLISHED)
				chan_ring_publish(&r.v, s, pos, sizeof(v),
						  tok);
			raise(SIGKILL);
			_exit(CT_EXIT_SETUP);
		}
		self->pid[1] = pid;
		rc = CT_CHILD_EXPECT(&self->pid[1], 1, WAIT_MS, "writer",
				     128 + SIGKILL);
		ASSERT_EQ(128 + SIGKILL, rc);
		if (step == STEP_PUBLISHED)
			msgs++;
		else
			tombs++;
		/* Blocks until the receiver has freed the only slot. */
		v = i;
		t0 = ct_now_ns();
		rc = ct_send(fd, 0, &v, sizeof(v), CHAN_MSG_TIMEOUT,
			     OP_TIMEOUT);
		if (rc) {
			TH_LOG("round %d (step %d): the slot was not freed: %s",
			       i, step, ct_ename(errno));
			CT_CHILD(&self->pid[0], 0, 1000, "receiver");
		}
		ASSERT_EQ(0, rc);
		/* Freed at once, not when some timeout ran out. */
		ASSERT_GT(SLOW_NS, ct_now_ns() - t0) {
			TH_LOG("round %d (step %d): send took %llu ms", i, step,
			       (unsigned long long)((ct_now_ns() - t0) / CT_MS));
		}
	}
	v = UINT64_MAX;
	ASSERT_OK(ct_send(fd, 0, &v, sizeof(v), CHAN_MSG_TIMEOUT, OP_TIMEOUT));
	ASSERT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "receiver"));

	/* Exactly: each round's published message (if any), then ours. */
	for (i = 0; i < DEATH_ROUNDS; i++) {
		if (!(mask & (1U << (i % NR_STEPS))))
			continue;
		if (i % NR_STEPS == STEP_PUBLISHED) {
			if (want < *ngot &&
			    got[want] != ((1ULL << 32) | (uint64_t)i) &&
			    bad++ < 5)
				TH_LOG("message %llu: %#llx, not the dead "
				       "writer's %#llx",
				       (unsigned long long)want,
				       (unsigned long long)got[want],
				       (unsigned long long)((1ULL << 32) | i));
			want++;
		}
		if (want < *ngot && got[want] != (uint64_t)i && bad++ < 5)
			TH_LOG("message %llu: %#llx, not %d",
			       (unsigned long long)want,
			       (unsigned long long)got[want], i);
		want++;
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(want, *ngot);
	ASSERT_OK(ct_info(fd, 0, 0, &info));
	EXPECT_EQ((tombs + msgs) * 2 + 1, info.sent);
	EXPECT_EQ(tombs, info.dropped);
	EXPECT_EQ(tombs + 2 * msgs + 1, info.received);
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	if (!ct_info_balanced(&info) || tombs != info.dropped)
		CT_LOG_INFO("end", &info);
	close(fd);
}

/* Dies holding the slot: after the claim, mid-copy, length written. */
TEST_F_TIMEOUT(rp, writer_dies_holding, 900)
{
	writer_steps(_metadata, self, 1U << STEP_CLAIMED |
		     1U << STEP_HALF_COPIED | 1U << STEP_LEN_WRITTEN);
}

/* Dies after its publish, before the barrier and the WAKE. */
TEST_F_TIMEOUT(rp, writer_dies_before_wake, 900)
{
	writer_steps(_metadata, self, 1U << STEP_PUBLISHED);
}

/*
 * A tombstone retired by a fast-path receiver is counted through the
 * header's user_skipped: INFO reports it dropped.
 */
TEST_F(rp, user_skipped_counts)
{
	struct chan_create c;
	struct chan_info info;
	struct ct_ring w, r;
	uint32_t wt = 0, rt = 0;
	uint64_t skipped = 0, v = 5;
	int wfd, rfd;
	__s64 pos;

	ASSERT_OK(rp_create(self, 16, 4, &c));
	wfd = ct_open_token(self->dev, c.out_id, CHAN_ROLE_SEND, 0, &wt);
	ASSERT_LE(0, wfd);
	rfd = ct_open_token(self->dev, c.out_id, CHAN_ROLE_RECV, 0, &rt);
	ASSERT_LE(0, rfd);
	ASSERT_OK(ct_ring_map(wfd, &c.out_ring, wt, &w));
	ASSERT_OK(ct_ring_map(rfd, &c.out_ring, rt, &r));
	ASSERT_NE(NULL, chan_ring_claim_send(&w.v, wt, &pos));
	ct_ring_unmap(&w);			/* a tombstone at 0 */
	ASSERT_OK(ct_ring_map(wfd, &c.out_ring, wt, &w));
	ASSERT_EQ(0, ct_fp_send(wfd, &w, &v, sizeof(v), NULL));
	v = 0;
	ASSERT_EQ((long)sizeof(v), ct_fp_recv(rfd, &r, &v, sizeof(v), &skipped,
					      NULL));
	EXPECT_EQ(5U, v);
	EXPECT_EQ(1U, skipped);
	EXPECT_EQ(1U, r.v.hdr->user_skipped);
	ASSERT_OK(ct_info(rfd, 0, 0, &info));
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(1U, info.received);
	EXPECT_EQ(1U, info.dropped);
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	ct_ring_unmap(&w);
	ct_ring_unmap(&r);
	close(wfd);
	close(rfd);
}

/*
 * The reader dies holding the only slot READING (after the claim, or
 * mid-copy), killed from outside while a sender sleeps in the kernel on
 * the full ring: the repair must return the slot EMPTY for the next lap,
 * count the message dropped and wake the sender. Then a reader that dies
 * by its own hand, many times over.
 */
#define READER_WOKEN_ROUNDS	60

TEST_F_TIMEOUT(rp, reader_steps, 900)
{
	struct chan_create c;
	struct chan_info info;
	int fd, kfd, i, rc, pp[2];
	uint64_t v, drops = 0, sent = 0, recvd = 0;
	uint32_t tok = 0;
	pid_t pid;

	ASSERT_OK(rp_create(self, sizeof(uint64_t), 1, &c));
	fd = ct_open_token(self->dev, c.out_id, CHAN_ROLE_RECV, 0, &tok);
	ASSERT_LE(0, fd);
	kfd = ct_open(self->dev, c.out_id, RW, 0, 0);
	ASSERT_LE(0, kfd);

	for (i = 0; i < READER_WOKEN_ROUNDS + DEATH_ROUNDS; i++) {
		bool outside = i < READER_WOKEN_ROUNDS;

		ASSERT_OK(ct_send_u64(kfd, 0, i, CHAN_MSG_NONBLOCK));
		sent++;
		ASSERT_OK(pipe(pp));
		pid = ct_fork_slot(1);
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct chan_slot *s;
			struct ct_ring r;
			__u32 len;
			__s64 pos;

			close(pp[0]);
			CF_OK(ct_ring_map(fd, &c.out_ring, tok, &r));
			s = chan_ring_claim_recv(&r.v, tok, sizeof(v), &pos,
						 &len);
			CF_TRUE(s != NULL, "claim: %lld", (long long)pos);
			if (i & 1)
				memcpy(&v, s->data, 4);
			if (!outside)
				raise(SIGKILL);
			ct_post(pp[1], 'c');
			for (;;)
				pause();
		}
		self->pid[1] = pid;
		close(pp[1]);
		if (outside) {
			pid_t sp;

			ASSERT_EQ('c', ct_await(pp[0], WAIT_MS));
			/* A sender asleep on the full ring... */
			sp = ct_fork_slot(2);
			ASSERT_LE(0, sp);
			if (sp == 0) {
				v = 1000000 + i;
				CF_OK(ct_send(kfd, 0, &v, sizeof(v),
					      CHAN_MSG_TIMEOUT, OP_TIMEOUT));
				_exit(0);
			}
			self->pid[2] = sp;
			ASSERT_TRUE(ct_wait_blocked(sp, SYS_ioctl, WAIT_MS));
			/* ...woken by the reader's death, at once. */
			kill(self->pid[1], SIGKILL);
			ASSERT_EQ(0, CT_CHILD(&self->pid[2], 2,
					      SLOW_NS / CT_MS,
					      "sleeping sender"));
			sent++;
		}
		rc = CT_CHILD_EXPECT(&self->pid[1], 1, WAIT_MS, "reader",
				     128 + SIGKILL);
		close(pp[0]);
		ASSERT_EQ(128 + SIGKILL, rc);
		drops++;
		if (outside) {
			ASSERT_OK(ct_recv_u64(kfd, 0, &v, CHAN_MSG_NONBLOCK));
			ASSERT_EQ(1000000U + i, v);
			recvd++;
		}
		/* The slot is free again, nothing is left. */
		EXPECT_ERRNO(EAGAIN, ct_recv_u64(kfd, 0, &v,
						 CHAN_MSG_NONBLOCK));
		ASSERT_OK(ct_info(kfd, 0, 0, &info));
		ASSERT_EQ(drops, info.dropped) {
			TH_LOG("round %d", i);
		}
		ASSERT_EQ(sent, info.sent);
		ASSERT_EQ(recvd, info.received);
		ASSERT_EQ(0U, info.depth);
	}
	close(fd);
	close(kfd);
}

/*
 * Killed from outside at random points: a fast-path sender loops on
 * claim / copy (a word at a time, with yields and a random pause while it
 * holds the slot) / publish / wake, and is SIGKILLed after a random delay,
 * again and again; a receiver in the kernel takes everything. Its
 * sequence numbers only grow (nothing duplicated, order kept), no message
 * is torn, every hole is a kill, and the counters balance.
 */
#define RANDOM_ROUNDS	500
#define RANDOM_MSG	128
#define RANDOM_DELAY_US	600	/* the kill lands in [0, this) */
#define HOLD_NS		20000	/* a holder pauses up to this long */

struct rnd_shared {
	uint64_t next;		/* the sender's next sequence number */
	uint64_t n;		/* messages the receiver got */
	uint64_t last;		/* the last of them */
};

static void slow_copy(unsigned char *dst, const unsigned char *src,
		      size_t len, uint64_t *rng)
{
	uint64_t until = ct_now_ns() + ct_rand(rng) % HOLD_NS;
	size_t i;

	for (i = 0; i < len; i += 8) {
		__atomic_store_n((uint64_t *)(dst + i),
				 *(const uint64_t *)(src + i),
				 __ATOMIC_RELAXED);
		if ((ct_rand(rng) & 7) == 0)
			sched_yield();
	}
	while (ct_now_ns() < until)
		;
}

static int random_sender(int fd, const struct chan_ring_geom *g, uint32_t tok,
			 struct rnd_shared *sh, int go, uint64_t seed)
{
	uint64_t buf[RANDOM_MSG / 8], seq;
	struct chan_slot *s;
	struct ct_ring r;
	__s64 pos;
	int k;

	CF_OK(ct_ring_map(fd, g, tok, &r));
	ct_post(go, 'g');
	for (;;) {
		seq = __atomic_load_n(&sh->next, __ATOMIC_RELAXED);
		s = chan_ring_claim_send(&r.v, tok, &pos);
		if (!s) {
			CF_TRUE(pos == -EAGAIN, "claim: %lld", (long long)pos);
			sched_yield();
			continue;
		}
		/* Never reused once claimed: a death makes a hole. */
		__atomic_store_n(&sh->next, seq + 1, __ATOMIC_RELAXED);
		for (k = 0; k < RANDOM_MSG / 8; k++)
			buf[k] = seq ^ ((uint64_t)k << 56);
		slow_copy(s->data, (unsigned char *)buf, sizeof(buf), &seed);
		chan_ring_publish(&r.v, s, pos, sizeof(buf), tok);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&r.ks->recv_waiters, __ATOMIC_RELAXED))
			ct_wake(fd, 0, CHAN_ROLE_RECV, 0);
	}
}

/* A message of the random tests: every word derived from the first. */
static bool random_msg_ok(const uint64_t *buf)
{
	int k;

	for (k = 0; k < RANDOM_MSG / 8; k++)
		if (buf[k] != (buf[0] ^ ((uint64_t)k << 56)))
			return false;
	return true;
}

/* In a receiving child: check a message whole and in order, record it. */
static void random_record(struct rnd_shared *sh, const uint64_t *buf)
{
	CF_TRUE(random_msg_ok(buf), "torn message %llu",
		(unsigned long long)buf[0]);
	CF_TRUE(!sh->n || buf[0] > sh->last, "%llu after %llu",
		(unsigned long long)buf[0],
		(unsigned long long)sh->last);
	sh->last = buf[0];
	__atomic_add_fetch(&sh->n, 1, __ATOMIC_RELEASE);
}

static int random_receiver(int fd, struct rnd_shared *sh)
{
	uint64_t buf[RANDOM_MSG / 8];
	uint32_t len;

	for (;;) {
		len = sizeof(buf);
		if (ct_recv(fd, 0, buf, &len, CHAN_MSG_TIMEOUT, OP_TIMEOUT))
			ct_child_die(__LINE__, "recv after %llu: %s",
				     (unsigned long long)sh->n,
				     ct_ename(errno));
		if (len == 8 && buf[0] == UINT64_MAX)
			return 0;
		CF_TRUE(len == sizeof(buf), "length %u", len);
		random_record(sh, buf);
	}
}

/*
 * The channel of the random tests, the endpoint *fd (role, with its
 * token) for the fast-path children, the other role's *peer for the
 * kernel side, and the record they share.
 */
static struct rnd_shared *random_setup(struct __test_metadata *_metadata,
				       FIXTURE_DATA(rp) *self, uint32_t role,
				       struct chan_create *c, int *fd,
				       uint32_t *tok, int *peer)
{
	uint32_t other = role == CHAN_ROLE_SEND ? CHAN_ROLE_RECV :
						  CHAN_ROLE_SEND;
	struct rnd_shared *sh = ct_shared_alloc(sizeof(*sh));

	ASSERT_NE(NULL, sh);
	ASSERT_OK(rp_create(self, RANDOM_MSG, 4, c));
	*fd = ct_open_token(self->dev, c->out_id, role, 0, tok);
	ASSERT_LE(0, *fd);
	*peer = ct_open(self->dev, c->out_id, other, 0, 0);
	ASSERT_LE(0, *peer);
	return sh;
}

/* A fast-path child of the random tests: go is posted once it runs. */
typedef int (*random_child_fn)(int fd, const struct chan_ring_geom *g,
			       uint32_t tok, struct rnd_shared *sh, int go,
			       uint64_t seed);

/*
 * RANDOM_ROUNDS times: fn in a child (slot 1, closing close_fd), killed
 * at a random point once it runs; the peer in slot 0 must live on.
 */
static void random_kills(struct __test_metadata *_metadata,
			 FIXTURE_DATA(rp) *self, random_child_fn fn, int fd,
			 int close_fd, const struct chan_create *c,
			 uint32_t tok, struct rnd_shared *sh, uint64_t *rng)
{
	bool killing_sender = fn == random_sender;
	const char *what = killing_sender ? "sender" : "receiver";
	const char *peer = killing_sender ? "receiver" : "kernel sender";
	int i, rc, gp[2];
	pid_t pid;

	for (i = 0; i < RANDOM_ROUNDS; i++) {
		unsigned int us = ct_rand(rng) % RANDOM_DELAY_US;

		ASSERT_OK(pipe(gp));
		pid = ct_fork_slot(1);
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(gp[0]);
			if (close_fd >= 0)
				close(close_fd);
			_exit(fn(fd, &c->out_ring, tok, sh, gp[1], ct_rand(rng)));
		}
		self->pid[1] = pid;
		close(gp[1]);
		ASSERT_EQ('g', ct_await(gp[0], WAIT_MS));
		close(gp[0]);
		/* A random point: not a synchronization, the test's dice. */
		if (us)
			usleep(us);
		kill(pid, SIGKILL);
		rc = CT_CHILD_EXPECT(&self->pid[1], 1, WAIT_MS, what,
				     128 + SIGKILL);
		ASSERT_EQ(128 + SIGKILL, rc);
		ASSERT_FALSE(ct_exited(self->pid[0])) {
			CT_CHILD(&self->pid[0], 0, 1000, peer);
			TH_LOG("after %d kills", i + 1);
		}
	}
}

TEST_F_TIMEOUT(rp, random_kills_sender, 900)
{
	uint64_t rng = 0x5eed1234, end = UINT64_MAX;
	struct rnd_shared *sh;
	struct chan_create c;
	struct chan_info info;
	int fd, rfd, rc;
	uint32_t tok = 0;
	pid_t pid;

	sh = random_setup(_metadata, self, CHAN_ROLE_SEND, &c, &fd, &tok, &rfd);
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fd);
		_exit(random_receiver(rfd, sh));
	}
	self->pid[0] = pid;
	close(rfd);

	random_kills(_metadata, self, random_sender, fd, -1, &c, tok, sh,
		     &rng);
	rc = ct_send(fd, 0, &end, sizeof(end), CHAN_MSG_TIMEOUT, OP_TIMEOUT);
	if (rc)
		TH_LOG("the end marker: %s", ct_ename(errno));
	ASSERT_EQ(0, CT_CHILD(&self->pid[0], 0, 120000, "receiver"));
	ASSERT_EQ(0, rc);
	ASSERT_OK(ct_info(fd, 0, 0, &info));
	/* Every claim counted: the published, the holes and the end. */
	EXPECT_EQ(sh->n + info.dropped + 1, info.sent);
	EXPECT_EQ(sh->n + 1, info.received);
	EXPECT_GE((uint64_t)RANDOM_ROUNDS, info.dropped);
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	/* Holes in the sequence are claims that died (not all: a claim
	 * killed before it took its number is a tombstone and no hole).
	 */
	EXPECT_GE(sh->next, sh->n);
	EXPECT_GE(info.dropped, sh->next - sh->n);
	TH_LOG("%llu delivered, %llu tombstones in %d kills",
	       (unsigned long long)sh->n, (unsigned long long)info.dropped,
	       RANDOM_ROUNDS);
	/* Worth something only if kills landed on held slots. */
	EXPECT_LT(0U, info.dropped);
	munmap(sh, sizeof(*sh));
	close(fd);
}

/*
 * The mirror image: a sender in the kernel and a fast-path receiver
 * killed at random points of claim / copy / retire / wake. The sender
 * never times out (a dead reader's slot comes back, and its sleepers are
 * woken), the receivers' record only grows, and what is neither recorded
 * nor left over is at most one message per kill.
 */
static int rrec_receiver(int fd, const struct chan_ring_geom *g, uint32_t tok,
			 struct rnd_shared *sh, int go, uint64_t seed)
{
	uint64_t buf[RANDOM_MSG / 8];
	struct chan_slot *s;
	struct ct_ring r;
	__u32 len;
	__s64 pos;

	CF_OK(ct_ring_map(fd, g, tok, &r));
	ct_post(go, 'g');
	for (;;) {
		s = chan_ring_claim_recv(&r.v, tok, sizeof(buf), &pos, &len);
		if (!s) {
			CF_TRUE(pos == -EAGAIN, "claim: %lld", (long long)pos);
			sched_yield();
			continue;
		}
		CF_TRUE(!chan_slot_is_tombstone(s), "a tombstone");
		CF_TRUE(len == sizeof(buf), "length %u", len);
		slow_copy((unsigned char *)buf, s->data, sizeof(buf), &seed);
		chan_ring_retire(&r.v, s, pos);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&r.ks->send_waiters, __ATOMIC_RELAXED))
			ct_wake(fd, 0, CHAN_ROLE_SEND, 0);
		random_record(sh, buf);
	}
}

TEST_F_TIMEOUT(rp, random_kills_receiver, 900)
{
	uint64_t buf[RANDOM_MSG / 8], rng = 0xabcdef77, left = 0, k;
	struct rnd_shared *sh;
	struct chan_create c;
	struct chan_info info;
	int fd, sfd;
	uint32_t tok = 0, len;
	pid_t pid;

	sh = random_setup(_metadata, self, CHAN_ROLE_RECV, &c, &fd, &tok, &sfd);
	/* The kernel sender: a stream until it is killed at the end. */
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t m[RANDOM_MSG / 8], seq;

		close(fd);
		for (seq = 0;; seq++) {
			for (k = 0; k < RANDOM_MSG / 8; k++)
				m[k] = seq ^ (k << 56);
			if (ct_send(sfd, 0, m, sizeof(m), CHAN_MSG_TIMEOUT,
				    OP_TIMEOUT))
				ct_child_die(__LINE__, "send %llu: %s",
					     (unsigned long long)seq,
					     ct_ename(errno));
		}
	}
	self->pid[0] = pid;

	random_kills(_metadata, self, rrec_receiver, fd, sfd, &c, tok, sh,
		     &rng);
	kill(self->pid[0], SIGKILL);
	EXPECT_EQ(128 + SIGKILL, CT_CHILD_EXPECT(&self->pid[0], 0, WAIT_MS,
						 "kernel sender",
						 128 + SIGKILL));
	/* What is left, in order after what the receivers recorded. */
	for (;;) {
		len = sizeof(buf);
		if (ct_recv(fd, 0, buf, &len, CHAN_MSG_NONBLOCK, 0))
			break;
		ASSERT_EQ(sizeof(buf), len);
		ASSERT_TRUE(random_msg_ok(buf));
		if (sh->n) {
			ASSERT_LT(sh->last, buf[0]);
		}
		sh->last = buf[0];
		sh->n++;
		left++;
	}
	EXPECT_TRUE(errno == EAGAIN || errno == EPIPE);
	ASSERT_OK(ct_info(fd, 0, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	EXPECT_GE((uint64_t)RANDOM_ROUNDS, info.dropped);
	/* Lost: dropped by a repair, or retired and not yet recorded. */
	EXPECT_LE(sh->n + info.dropped, info.sent);
	EXPECT_GE(sh->n + info.dropped + RANDOM_ROUNDS, info.sent);
	/* The last message sent is the last one taken. */
	EXPECT_LE(info.sent - 1, sh->last + RANDOM_ROUNDS);
	TH_LOG("%d kills: %llu sent, %llu recorded, %llu left, %llu dropped",
	       RANDOM_ROUNDS, (unsigned long long)info.sent,
	       (unsigned long long)(sh->n - left), (unsigned long long)left,
	       (unsigned long long)info.dropped);
	EXPECT_LT(0U, info.dropped);
	munmap(sh, sizeof(*sh));
	close(fd);
	close(sfd);
}

/* ---- the other ways a mapping goes ---- */

/*
 * The channel for these: 64 slots of 128 bytes, so the mapping is a
 * header page and two slot pages. The test's endpoint A claims; an
 * observer endpoint maps the same ring to look at the slot.
 */
struct vm_ctx {
	struct chan_create c;
	int fd, kfd;
	uint32_t tok;
	struct ct_ring obs;
};

static void vm_setup(struct __test_metadata *_metadata,
		     FIXTURE_DATA(rp) *self, struct vm_ctx *x)
{
	uint32_t otok = 0;
	int ofd;

	ASSERT_OK(rp_create(self, 100, 64, &x->c));
	ASSERT_EQ(3 * CT_PAGE, x->c.out_ring.map_size);
	x->fd = ct_open_token(self->dev, x->c.out_id, RW, 0, &x->tok);
	ASSERT_LE(0, x->fd);
	x->kfd = ct_open(self->dev, x->c.out_id, RW, 0, 0);
	ASSERT_LE(0, x->kfd);
	ofd = ct_open_token(self->dev, x->c.out_id, CHAN_ROLE_RECV, 0, &otok);
	ASSERT_LE(0, ofd);
	ASSERT_OK(ct_ring_map(ofd, &x->c.out_ring, otok, &x->obs));
	close(ofd);	/* the mapping keeps the endpoint */
}

/* Slot pos: phase, owner and tombstone flag as expected? */
#define EXPECT_SLOT(x, pos, phase, owner, tomb)				\
	do {								\
		uint64_t __st = slot_state(&(x)->obs, pos);		\
		EXPECT_EQ((uint32_t)(phase), chan_slot_phase(__st));	\
		EXPECT_EQ((uint32_t)(owner), chan_slot_owner(__st));	\
		EXPECT_EQ((uint32_t)(tomb),				\
			  slot_flags(&(x)->obs, pos) & CHAN_SLOT_TOMBSTONE); \
	} while (0)

/* After a repair of one WRITING slot: skipped by RECV, counted dropped. */
static void vm_expect_tombstone_skipped(struct __test_metadata *_metadata,
					struct vm_ctx *x, uint64_t sent)
{
	struct chan_info info;
	uint64_t v;

	EXPECT_ERRNO(EAGAIN, ct_recv_u64(x->kfd, 0, &v, CHAN_MSG_NONBLOCK));
	ASSERT_OK(ct_info(x->kfd, 0, 0, &info));
	EXPECT_EQ(sent, info.sent);
	EXPECT_EQ(1U, info.dropped);
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
}

static struct chan_slot *vm_claim(struct __test_metadata *_metadata,
				  struct vm_ctx *x, struct ct_ring *r,
				  __s64 *pos)
{
	struct chan_slot *s = chan_ring_claim_send(&r->v, x->tok, pos);

	EXPECT_NE(NULL, s);
	return s;
}

TEST_F(rp, munmap_while_holding)
{
	struct ct_ring r;
	struct vm_ctx x;
	struct chan_info info;
	struct chan_slot *s;
	uint64_t v = 7;
	__u32 len;
	__s64 pos;

	vm_setup(_metadata, self, &x);
	ASSERT_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
	ASSERT_NE(NULL, vm_claim(_metadata, &x, &r, &pos));
	ASSERT_EQ(0, pos);
	EXPECT_SLOT(&x, 0, CHAN_SLOT_WRITING, x.tok, 0);
	ct_ring_unmap(&r);
	EXPECT_SLOT(&x, 0, CHAN_SLOT_FULL, x.tok, CHAN_SLOT_TOMBSTONE);
	vm_expect_tombstone_skipped(_metadata, &x, 1);
	/* Retired for the next lap (the flag stays until a new publish). */
	EXPECT_EQ(CHAN_SLOT_EMPTY, chan_slot_phase(slot_state(&x.obs, 0)));
	EXPECT_EQ(1U, chan_slot_lap(slot_state(&x.obs, 0)));

	/* Mapped again, the endpoint sends normally. */
	ASSERT_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
	ASSERT_EQ(0, ct_fp_send(x.fd, &r, &v, sizeof(v), NULL));
	/* A reader holding a slot when it unmaps loses that message. */
	ASSERT_EQ(8, ct_fp_recv(x.fd, &r, &v, sizeof(v), NULL, NULL));
	ASSERT_OK(ct_send_u64(x.kfd, 0, 8, 0));
	s = chan_ring_claim_recv(&r.v, x.tok, 8, &pos, &len);
	ASSERT_NE(NULL, s);
	EXPECT_SLOT(&x, 2, CHAN_SLOT_READING, x.tok, 0);
	ct_ring_unmap(&r);
	EXPECT_SLOT(&x, 2, CHAN_SLOT_EMPTY, CHAN_OWNER_NONE, 0);
	EXPECT_EQ(1U, chan_slot_lap(slot_state(&x.obs, 2)));
	ASSERT_OK(ct_info(x.kfd, 0, 0, &info));
	EXPECT_EQ(3U, info.sent);
	EXPECT_EQ(2U, info.dropped);
	EXPECT_EQ(1U, info.received);
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	ct_ring_unmap(&x.obs);
}

TEST_F(rp, partial_munmap)
{
	struct chan_info info;
	struct ct_ring r;
	struct vm_ctx x;
	struct chan_slot *s;
	__s64 pos;
	uint64_t v;

	vm_setup(_metadata, self, &x);
	/* Slots gone, header page kept: no repair yet. */
	ASSERT_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
	ASSERT_NE(NULL, vm_claim(_metadata, &x, &r, &pos));
	ASSERT_OK(munmap((char *)r.base + CT_PAGE, r.size - CT_PAGE));
	EXPECT_SLOT(&x, 0, CHAN_SLOT_WRITING, x.tok, 0);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, r.size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, x.fd, 0));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_ERRNO(EAGAIN, ct_recv_u64(x.kfd, 0, &v, CHAN_MSG_NONBLOCK));
	ASSERT_OK(munmap(r.base, CT_PAGE));
	EXPECT_SLOT(&x, 0, CHAN_SLOT_FULL, x.tok, CHAN_SLOT_TOMBSTONE);
	vm_expect_tombstone_skipped(_metadata, &x, 1);

	/* Header gone, slots kept: the claim is still ours to publish. */
	ASSERT_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
	s = vm_claim(_metadata, &x, &r, &pos);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(1, pos);
	ASSERT_OK(munmap(r.base, CT_PAGE));
	EXPECT_SLOT(&x, 1, CHAN_SLOT_WRITING, x.tok, 0);
	v = 0x1234;
	memcpy(s->data, &v, sizeof(v));
	chan_ring_publish(&r.v, s, pos, sizeof(v), x.tok);
	ASSERT_OK(munmap((char *)r.base + CT_PAGE, r.size - CT_PAGE));
	v = 0;
	ASSERT_OK(ct_recv_u64(x.kfd, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(0x1234U, v);
	ASSERT_OK(ct_info(x.kfd, 0, 0, &info));
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(1U, info.dropped);
	EXPECT_EQ(1U, info.received);
	ct_ring_unmap(&x.obs);
}

TEST_F(rp, mprotect_split)
{
	struct ct_ring r;
	struct vm_ctx x;
	__s64 pos;
	char *b;

	vm_setup(_metadata, self, &x);
	ASSERT_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
	b = r.base;
	ASSERT_NE(NULL, vm_claim(_metadata, &x, &r, &pos));
	/* Three VMAs: header rw, first slot page ro, second slot page rw. */
	ASSERT_OK(mprotect(b + CT_PAGE, CT_PAGE, PROT_READ));
	EXPECT_SLOT(&x, 0, CHAN_SLOT_WRITING, x.tok, 0);
	ASSERT_OK(munmap(b + CT_PAGE, CT_PAGE));
	EXPECT_SLOT(&x, 0, CHAN_SLOT_WRITING, x.tok, 0);
	ASSERT_OK(munmap(b, CT_PAGE));
	EXPECT_SLOT(&x, 0, CHAN_SLOT_WRITING, x.tok, 0);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, r.size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, x.fd, 0));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_OK(munmap(b + 2 * CT_PAGE, CT_PAGE));
	EXPECT_SLOT(&x, 0, CHAN_SLOT_FULL, x.tok, CHAN_SLOT_TOMBSTONE);
	vm_expect_tombstone_skipped(_metadata, &x, 1);
	/* Mapped again: fine. */
	ASSERT_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
	ct_ring_unmap(&r);
	ct_ring_unmap(&x.obs);
}

TEST_F(rp, mremap_move)
{
	struct chan_info info;
	struct chan_slot *s;
	struct ct_ring r;
	struct vm_ctx x;
	void *target, *moved;
	uint64_t v;
	__s64 pos;

	vm_setup(_metadata, self, &x);
	ASSERT_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
	s = vm_claim(_metadata, &x, &r, &pos);
	ASSERT_NE(NULL, s);
	target = mmap(NULL, r.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	ASSERT_NE(MAP_FAILED, target);
	moved = mremap(r.base, r.size, r.size, MREMAP_MAYMOVE | MREMAP_FIXED,
		       target);
	ASSERT_EQ(target, moved);
	/* Moved, not gone: no repair, and the slot is still ours. */
	EXPECT_SLOT(&x, 0, CHAN_SLOT_WRITING, x.tok, 0);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, r.size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, x.fd, 0));
	EXPECT_EQ(EBUSY, errno);
	r.base = moved;
	ct_ring_view_init(&r.v, moved, &x.c.out_ring);
	s = chan_ring_slot(&r.v, pos);
	v = 0x5151;
	memcpy(s->data, &v, sizeof(v));
	chan_ring_publish(&r.v, s, pos, sizeof(v), x.tok);
	EXPECT_SLOT(&x, 0, CHAN_SLOT_FULL, x.tok, 0);
	ct_ring_unmap(&r);
	v = 0;
	ASSERT_OK(ct_recv_u64(x.kfd, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(0x5151U, v);
	ASSERT_OK(ct_info(x.kfd, 0, 0, &info));
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.received);
	EXPECT_EQ(0U, info.dropped);
	ct_ring_unmap(&x.obs);
}

/*
 * execve after a claim: the old mm goes with the exec, and with it the
 * mapping: repaired while the new program (cat, holding the endpoint fd)
 * still runs.
 */
TEST_F(rp, exec_after_claim)
{
	int in[2], out[2];
	struct vm_ctx x;
	pid_t pid;
	char ch;

	vm_setup(_metadata, self, &x);
	ASSERT_OK(pipe(in));
	ASSERT_OK(pipe(out));
	pid = ct_fork_slot(1);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { "cat", NULL };
		struct ct_ring r;
		__s64 pos;

		CF_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
		CF_TRUE(chan_ring_claim_send(&r.v, x.tok, &pos), "claim");
		CF_OK(dup2(in[0], 0));
		CF_OK(dup2(out[1], 1));
		close(in[1]);
		close(out[0]);
		execv("/bin/cat", argv);
		ct_child_die(__LINE__, "execv: %s", ct_ename(errno));
	}
	self->pid[1] = pid;
	close(in[0]);
	close(out[1]);
	/* Once cat echoes, the exec is done (and our mapping gone). */
	ASSERT_EQ(1, write(in[1], "x", 1));
	ASSERT_EQ('x', ct_await(out[0], WAIT_MS));
	(void)ch;
	EXPECT_SLOT(&x, 0, CHAN_SLOT_FULL, x.tok, CHAN_SLOT_TOMBSTONE);
	vm_expect_tombstone_skipped(_metadata, &x, 1);
	close(in[1]);
	EXPECT_EQ(0, CT_CHILD(&self->pid[1], 1, WAIT_MS, "cat"));
	close(out[0]);
	ct_ring_unmap(&x.obs);
}

/*
 * A process claims a slot, forks (the child shares the endpoint fd but not
 * the mapping) and dies: the repair happens at its death although the
 * child keeps the endpoint open; the child can then map it itself.
 */
TEST_F(rp, fork_then_parent_dies)
{
	int ready[2], go[2];
	struct vm_ctx x;
	pid_t pid;

	vm_setup(_metadata, self, &x);
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	pid = ct_fork_slot(1);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ct_ring r;
		pid_t c;
		__s64 pos;

		CF_OK(ct_ring_map(x.fd, &x.c.out_ring, x.tok, &r));
		CF_TRUE(chan_ring_claim_send(&r.v, x.tok, &pos), "claim");
		c = fork();
		CF_TRUE(c >= 0, "fork");
		if (c == 0) {
			void *m;

			/* Not the parent's death signal: outlive it. */
			prctl(PR_SET_PDEATHSIG, 0);
			ct_rep_slot = 2;
			if (ct_await(go[0], WAIT_MS) != 'm')
				_exit(CT_EXIT_SETUP);
			m = mmap(NULL, x.c.out_ring.map_size,
				 PROT_READ | PROT_WRITE, MAP_SHARED, x.fd, 0);
			CF_TRUE(m != MAP_FAILED, "%s", ct_ename(errno));
			ct_post(ready[1], 'd');
			_exit(0);
		}
		ct_post(ready[1], 'p');
		raise(SIGKILL);
	}
	self->pid[1] = pid;
	ASSERT_NE(-1, ct_await(ready[0], WAIT_MS));
	EXPECT_EQ(128 + SIGKILL, CT_CHILD_EXPECT(&self->pid[1], 1, WAIT_MS,
						 "parent", 128 + SIGKILL));
	/* The grandchild lives on with the fd; the slot is repaired. */
	EXPECT_SLOT(&x, 0, CHAN_SLOT_FULL, x.tok, CHAN_SLOT_TOMBSTONE);
	vm_expect_tombstone_skipped(_metadata, &x, 1);
	ct_post(go[1], 'm');
	EXPECT_EQ('d', ct_await(ready[0], WAIT_MS));
	ct_ring_unmap(&x.obs);
}

/* ---- hostile mappers ---- */

#define HOST_SCRIBBLERS	2
#define HOST_USERS	2
#define HOST_RANDOM	200000	/* random writes per scribbler */
#define HOST_ROUNDS	4000	/* adversarial rounds per scribbler */
#define HOST_OPS	1500	/* kernel calls per user */
#define HOST_B_MSGS	3000
#define HOST_BOUND	(15 * CT_SEC)	/* far beyond any call's timeout */

static uint64_t host_lap_value(uint64_t *rng, uint64_t cur)
{
	switch (ct_rand(rng) % 7) {
	case 0: return cur;
	case 1: return cur + 1;
	case 2: return cur - 1;
	case 3: return cur + 2;
	case 4: return CHAN_SLOT_LAP_MASK;
	case 5: return cur + (1ULL << 45);
	default: return ct_rand(rng);
	}
}

static uint64_t host_cursor_value(uint64_t *rng, uint64_t cur, uint32_t cap)
{
	switch (ct_rand(rng) % 8) {
	case 0: return 0;
	case 1: return UINT64_MAX;
	case 2: return cur + cap * (ct_rand(rng) % 5);
	case 3: return cur - cap * (ct_rand(rng) % 5);
	case 4: return cur + ((uint64_t)1 << 63);
	case 5: return (uint64_t)CHAN_SLOT_LAP_MASK << 10;
	case 6: return cur + 1;
	default: return ct_rand(rng);
	}
}

static uint32_t host_u32(uint64_t *rng, uint32_t near)
{
	switch (ct_rand(rng) % 6) {
	case 0: return 0;
	case 1: return UINT32_MAX;
	case 2: return near;
	case 3: return near + 1;
	case 4: return 0x80000000U;
	default: return (uint32_t)ct_rand(rng);
	}
}

static int host_scribbler(int dev, const struct chan_create *c, uint64_t seed)
{
	const struct chan_ring_geom *g = &c->out_ring;
	uint64_t rng = seed, cur, *w, junk[16];
	struct chan_slot *s;
	struct ct_ring r;
	uint32_t tok = 0, owners[6];
	long i;
	int fd, k;

	fd = CF_OK(ct_open_token(dev, c->out_id, RW, 0, &tok));
	CF_OK(ct_ring_map(fd, g, tok, &r));
	owners[0] = CHAN_OWNER_NONE;
	owners[1] = CHAN_OWNER_KERNEL;
	owners[2] = tok;
	owners[3] = tok + 1;
	owners[4] = CHAN_SLOT_OWNER_MASK;
	/* Random bytes anywhere, the kernel's own words included. */
	for (i = 0; i < HOST_RANDOM; i++) {
		size_t off = (ct_rand(&rng) % (r.size / 8)) * 8;

		w = (uint64_t *)((char *)r.base + off);
		__atomic_store_n(w, ct_rand(&rng), __ATOMIC_RELAXED);
		if ((i & 1023) == 0)
			sched_yield();
	}
	/* Adversarial values, and the protocol run on top of them. */
	for (i = 0; i < HOST_ROUNDS; i++) {
		uint64_t pos = ct_rand(&rng) % (4ULL * g->capacity);

		cur = __atomic_load_n(&r.v.hdr->tail, __ATOMIC_RELAXED);
		s = chan_ring_slot(&r.v, pos);
		owners[5] = (uint32_t)ct_rand(&rng);
		switch (ct_rand(&rng) % 10) {
		case 0:
			__atomic_store_n(&r.v.hdr->tail,
					 host_cursor_value(&rng, cur,
							   g->capacity),
					 __ATOMIC_RELAXED);
			break;
		case 1:
			cur = __atomic_load_n(&r.v.hdr->head, __ATOMIC_RELAXED);
			__atomic_store_n(&r.v.hdr->head,
					 host_cursor_value(&rng, cur,
							   g->capacity),
					 __ATOMIC_RELAXED);
			break;
		case 2:
		case 3:
		case 4:
			__atomic_store_n(&s->state,
				chan_slot_state(host_lap_value(&rng,
						chan_ring_lap(&r.v, cur)),
						ct_rand(&rng) & 3,
						owners[ct_rand(&rng) % 6]),
				__ATOMIC_RELAXED);
			break;
		case 5:
			s->len = host_u32(&rng, g->msg_size);
			s->flags = (uint32_t)ct_rand(&rng) & 3;
			break;
		case 6:
			r.ks->send_waiters = host_u32(&rng, 1);
			r.ks->recv_waiters = host_u32(&rng, 1);
			r.ks->state = host_u32(&rng, 0);
			r.v.hdr->user_skipped = host_cursor_value(&rng, 0, 1);
			break;
		case 7:
			r.v.hdr->capacity = host_u32(&rng, g->capacity);
			r.v.hdr->slot_size = host_u32(&rng, g->slot_size);
			r.v.hdr->msg_size = host_u32(&rng, g->msg_size);
			r.v.hdr->slots_offset = host_u32(&rng, 4096);
			r.v.hdr->capacity_shift = host_u32(&rng, 3);
			break;
		case 8:
			k = (int)ct_fp_send(fd, &r, junk, 8, NULL);
			CF_TRUE(k == 0 || k == -EAGAIN || k == -EIO ||
				k == -EIDRM, "fast send: %d", k);
			break;
		default:
			k = (int)ct_fp_recv(fd, &r, junk, sizeof(junk), NULL,
					    NULL);
			CF_TRUE(k >= 0 || k == -EAGAIN || k == -EIO ||
				k == -EMSGSIZE || k == -EIDRM,
				"fast recv: %d", k);
			break;
		}
		if ((i & 63) == 0) {
			ct_wake(fd, 0, (ct_rand(&rng) % 3) + 1, 0);
			sched_yield();
		}
	}
	return 0;
}

/* A call on the scribbled channel: bounded, and only these errnos. */
#define HOST_CALL(what, call, ...)					\
	({								\
		uint64_t __t0 = ct_now_ns();				\
		long __r = (long)(call);				\
		int __e = errno;					\
		uint64_t __dt = ct_now_ns() - __t0;			\
		int __ok[] = { __VA_ARGS__ };				\
		size_t __i;						\
		bool __good = __r >= 0;					\
		for (__i = 0; !__good && __i < sizeof(__ok) / sizeof(int); \
		     __i++)						\
			__good = __e == __ok[__i];			\
		CF_TRUE(__good, "%s: %s", what, ct_ename(__e));		\
		CF_TRUE(__dt < HOST_BOUND, "%s took %llu ms", what,	\
			(unsigned long long)(__dt / CT_MS));		\
		__r;							\
	})

static int host_user(int dev, const struct chan_create *c, uint64_t seed)
{
	unsigned char buf[256];
	uint64_t rng = seed;
	struct chan_info info;
	struct pollfd pf;
	uint32_t len;
	int fd, nfd, i;

	fd = CF_OK(ct_open(dev, c->out_id, RW, 0, 0));
	nfd = CF_OK(ct_open(dev, c->out_id, RW, CHAN_OPEN_NONBLOCK, 0));
	for (i = 0; i < HOST_OPS; i++) {
		memset(buf, (int)i, sizeof(buf));
		switch (ct_rand(&rng) % 7) {
		case 0:
			HOST_CALL("send", ct_send(fd, 0, buf,
						  ct_rand(&rng) % (c->msg_size + 1),
						  CHAN_MSG_TIMEOUT, 20 * CT_MS),
				  ETIMEDOUT, EIO, EAGAIN);
			break;
		case 1:
			len = c->msg_size;
			HOST_CALL("recv", ct_recv(fd, 0, buf, &len,
						  CHAN_MSG_TIMEOUT, 20 * CT_MS),
				  ETIMEDOUT, EIO, EAGAIN);
			CF_TRUE(len <= c->msg_size, "length %u", len);
			break;
		case 2:
			HOST_CALL("write", write(nfd, buf, 8), EAGAIN, EIO);
			break;
		case 3:
			HOST_CALL("read", read(nfd, buf, c->msg_size),
				  EAGAIN, EIO);
			break;
		case 4:
			pf.fd = fd;
			pf.events = (ct_rand(&rng) & 1) ? POLLIN : POLLOUT;
			HOST_CALL("poll", poll(&pf, 1, 10), EINTR);
			break;
		case 5:
			HOST_CALL("info", ct_info(fd, 0, 0, &info), 0);
			CF_TRUE(info.depth <= c->out_ring.capacity, "depth %u",
				info.depth);
			break;
		default:
			HOST_CALL("nonblocking send",
				  ct_send(fd, 0, buf, 8, CHAN_MSG_NONBLOCK, 0),
				  EAGAIN, EIO);
			break;
		}
	}
	return 0;
}

/* The bystander channel: exact traffic, whatever happens next door. */
static int host_b_side(int dev, uint32_t id, bool send)
{
	uint64_t v, i;
	int fd;

	fd = CF_OK(ct_open(dev, id, send ? CHAN_ROLE_SEND : CHAN_ROLE_RECV,
			   0, 0));
	for (i = 0; i < HOST_B_MSGS; i++) {
		uint32_t len = sizeof(v);

		if (send) {
			v = i * 3 + 1;
			CF_OK(ct_send(fd, 0, &v, sizeof(v), CHAN_MSG_TIMEOUT,
				      OP_TIMEOUT));
		} else {
			CF_OK(ct_recv(fd, 0, &v, &len, CHAN_MSG_TIMEOUT,
				      OP_TIMEOUT));
			CF_TRUE(len == sizeof(v) && v == i * 3 + 1,
				"message %llu: %llu (%u bytes)",
				(unsigned long long)i, (unsigned long long)v,
				len);
		}
	}
	return 0;
}

TEST_F_TIMEOUT(rp, hostile, 900)
{
	const int n = HOST_SCRIBBLERS + HOST_USERS + 2;
	struct chan_create a, b;
	struct chan_info info;
	uint32_t id;
	uint64_t v;
	int i, fd;
	pid_t pid;

	ASSERT_OK(rp_create(self, 64, 8, &a));
	memset(&b, 0, sizeof(b));
	b.msg_size = 64;
	b.capacity = 8;
	b.mode = 0600;
	ASSERT_OK(ct_create_raw(self->dev, &b));
	self->ids[self->nids++] = b.out_id;

	for (i = 0; i < n; i++) {
		pid = ct_fork_slot(i);
		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (i < HOST_SCRIBBLERS)
				_exit(host_scribbler(self->dev, &a, 77 + i));
			if (i < HOST_SCRIBBLERS + HOST_USERS)
				_exit(host_user(self->dev, &a, 1000 + i));
			_exit(host_b_side(self->dev, b.out_id,
					  i == HOST_SCRIBBLERS + HOST_USERS));
		}
		self->pid[i] = pid;
	}
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, CT_CHILD(&self->pid[i], i, 600000,
				      i < HOST_SCRIBBLERS ? "scribbler" :
				      i < HOST_SCRIBBLERS + HOST_USERS ?
				      "user of the scribbled channel" :
				      "bystander"));
	/* The bystander saw exactly its own. */
	ASSERT_OK(ct_info(self->dev, b.out_id, 0, &info));
	EXPECT_EQ((uint64_t)HOST_B_MSGS, info.sent);
	EXPECT_EQ((uint64_t)HOST_B_MSGS, info.received);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, info.discarded);
	EXPECT_EQ(0U, info.depth);
	/* The scribbled channel can still be described and destroyed. */
	ASSERT_OK(ct_info(self->dev, a.out_id, 0, &info));
	EXPECT_GE(a.out_ring.capacity, info.depth);
	fd = ct_open(self->dev, a.out_id, RW, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_destroy(self->dev, a.out_id));
	EXPECT_ERRNO(EIDRM, ct_send_u64(fd, 0, 1, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(EIDRM, ct_recv_u64(fd, 0, &v, CHAN_MSG_NONBLOCK));
	close(fd);
	/* And the module still works for everyone. */
	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &id));
	self->ids[self->nids++] = id;
	ASSERT_OK(ct_send_u64(self->dev, id, 99, CHAN_MSG_NONBLOCK));
	ASSERT_OK(ct_recv_u64(self->dev, id, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(99U, v);
}

CT_HARNESS_MAIN
