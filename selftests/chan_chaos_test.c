// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos: rounds of MPMC traffic on a few channels (various message sizes
 * and capacities, some AUTODESTROY) by producer and consumer processes
 * using all three paths (channel-fd ioctl, ID-style ioctl on /dev/chan,
 * read(2)/write(2)), while the parent SIGKILLs random children at random
 * moments, forks replacements and destroys channels that are busy.
 *
 * Checked every round: every child exits within a bound (never stuck in
 * D state); no message is received twice, none is damaged, none is
 * received that was never sent, each producer's messages reach every
 * consumer in order; for every channel (destroyed or alive, through an fd
 * kept open) sent == received + dropped + discarded + depth, a destroyed
 * channel has depth 0, draining a live one yields exactly depth messages
 * and raises received by as many; the kernel's counts are bracketed by
 * what the children recorded (a child killed between the call and its
 * bookkeeping accounts for at most one message). Between rounds
 * everything is closed and the module is unloaded and loaded again.
 *
 * The PRNG seed is printed; CHAN_CHAOS_SEED=N repeats a run.
 */
#include "chan_test_util.h"

#include <sys/random.h>

#define ROUNDS		5
#define ROUND_MS	6500		/* 5 x 6.5 s of chaos: > 30 s */
#define NCHAN		3
#define PROD_PER_CHAN	2
#define CONS_PER_CHAN	2
#define MAX_PROD	96		/* producers per round, replacements included */
#define MAX_CHILD	160
#define MAX_SEQ		(1u << 17)	/* a producer stops sending here */
#define MAX_MSG		1024
#define REAP_MS		20000		/* every child must be gone by then */
#define D_STATE_MS	5000		/* longest tolerated stay in D */
#define MSG_MAGIC	0xc4a05c4aU

enum { VIA_FD, VIA_ID, VIA_RW, NVIA };
enum { K_PROD, K_CONS };

struct chaos_msg {
	uint32_t magic;
	uint32_t producer;	/* index into the round's producers */
	uint64_t seq;
	uint32_t len;
	uint32_t chan;		/* channel slot */
	unsigned char payload[];
};
#define HDR_LEN		sizeof(struct chaos_msg)

struct chaos_shared {
	uint32_t stop;
	uint64_t errors;
	int32_t last_errno;
	int32_t last_where;	/* which call failed, see note_error() */
	uint64_t dups, out_of_order, damaged, phantom;
	uint64_t psent[NCHAN];		/* sends the producers recorded */
	uint64_t crecv[NCHAN];		/* receives the consumers recorded */
	uint64_t pnext[MAX_PROD];	/* highest seq a producer attempted + 1 */
	uint64_t bitmap[MAX_PROD * (MAX_SEQ / 64)];
};

struct chaos_chan {
	uint32_t id;
	uint32_t msg_size;
	uint32_t flags;
	int keeper;		/* a receiver endpoint the parent keeps */
	bool destroyed;
	uint64_t killed_prod, killed_cons;
};

struct chaos_child {
	pid_t pid;
	int kind, via, chan;
	uint32_t prod_idx;
};

struct chaos_round {
	int dev;
	struct chaos_chan ch[NCHAN];
	struct chaos_child child[MAX_CHILD];
	int nchild;
	uint32_t nprod;
	struct chaos_shared *sh;
	uint64_t rng;
	int bad_exits;
	int last_bad_exit;
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint32_t rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

static unsigned char pbyte(uint32_t producer, uint64_t seq, size_t i)
{
	return (unsigned char)(producer * 37 + seq * 11 + i * 3);
}

static uint32_t msg_len(uint32_t msg_size, uint64_t seq)
{
	return HDR_LEN + (uint32_t)(seq % (msg_size - HDR_LEN + 1));
}

static void note_error(struct chaos_shared *sh, int err, int where)
{
	__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->last_errno, err, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->last_where, where, __ATOMIC_RELAXED);
}

static bool stopping(struct chaos_shared *sh)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE);
}

/* Where a message was checked: a consumer (last[] per producer) or the drain. */
static void check_msg(struct chaos_shared *sh, const void *buf, uint32_t len,
		      int chan, uint32_t msg_size, int64_t *last)
{
	const struct chaos_msg *m = buf;
	uint64_t bit, old;
	size_t i;

	if (len < HDR_LEN || m->magic != MSG_MAGIC || m->len != len ||
	    m->chan != (uint32_t)chan || m->producer >= MAX_PROD ||
	    m->seq >= MAX_SEQ || len != msg_len(msg_size, m->seq)) {
		__atomic_add_fetch(&sh->damaged, 1, __ATOMIC_RELAXED);
		return;
	}
	for (i = 0; i < len - HDR_LEN; i++) {
		if (m->payload[i] != pbyte(m->producer, m->seq, i)) {
			__atomic_add_fetch(&sh->damaged, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	if (m->seq >= __atomic_load_n(&sh->pnext[m->producer], __ATOMIC_ACQUIRE))
		__atomic_add_fetch(&sh->phantom, 1, __ATOMIC_RELAXED);
	bit = (uint64_t)m->producer * MAX_SEQ + m->seq;
	old = __atomic_fetch_or(&sh->bitmap[bit / 64], 1ULL << (bit % 64),
				__ATOMIC_RELAXED);
	if (old & (1ULL << (bit % 64)))
		__atomic_add_fetch(&sh->dups, 1, __ATOMIC_RELAXED);
	if (last) {
		if ((int64_t)m->seq <= last[m->producer])
			__atomic_add_fetch(&sh->out_of_order, 1,
					   __ATOMIC_RELAXED);
		last[m->producer] = (int64_t)m->seq;
	}
}

/* An errno that destruction (or a timeout) explains: the child just goes on or leaves. */
static bool gone(int err)
{
	return err == EIDRM || err == ENOENT;
}

static int producer(struct chaos_round *r, int c, int via, uint32_t me,
		    uint64_t seed)
{
	struct chaos_shared *sh = r->sh;
	uint32_t msg_size = r->ch[c].msg_size, len, i;
	uint64_t buf[MAX_MSG / 8], seq;
	struct chaos_msg *m = (void *)buf;
	uint32_t flags = (seed & 1) ? CHAN_MSG_TIMEOUT : 0;
	uint64_t tmo = (seed & 1) ? 100 * CT_MS : 0;
	int fd = -1, err;
	ssize_t n;

	if (via != VIA_ID) {
		fd = ct_open(r->dev, r->ch[c].id, CHAN_ROLE_SEND, 0, 0);
		if (fd < 0) {
			if (gone(errno))
				return 0;
			note_error(sh, errno, 1);
			return 1;
		}
	}
	for (seq = 0; seq < MAX_SEQ && !stopping(sh); ) {
		len = msg_len(msg_size, seq);
		m->magic = MSG_MAGIC;
		m->producer = me;
		m->seq = seq;
		m->len = len;
		m->chan = c;
		for (i = 0; i < len - HDR_LEN; i++)
			m->payload[i] = pbyte(me, seq, i);
		__atomic_store_n(&sh->pnext[me], seq + 1, __ATOMIC_RELEASE);
		err = 0;
		switch (via) {
		case VIA_FD:
			if (ct_send(fd, 0, buf, len, flags, tmo))
				err = errno;
			break;
		case VIA_ID:
			if (ct_send(r->dev, r->ch[c].id, buf, len, flags, tmo))
				err = errno;
			break;
		case VIA_RW:
			n = write(fd, buf, len);
			if (n < 0)
				err = errno;
			else if (n != (ssize_t)len)
				err = CT_EXIT_BADDATA;
			break;
		}
		if (err == ETIMEDOUT)
			continue;	/* the same seq again */
		if (gone(err))
			return 0;
		if (err) {
			note_error(sh, err, 10 + via);
			return 1;
		}
		__atomic_add_fetch(&sh->psent[c], 1, __ATOMIC_RELAXED);
		seq++;
	}
	while (!stopping(sh))
		ct_sleep_ms(20);
	return 0;
}

static int consumer(struct chaos_round *r, int c, int via, uint64_t seed)
{
	struct chaos_shared *sh = r->sh;
	uint32_t msg_size = r->ch[c].msg_size, len;
	uint32_t flags = (seed & 1) ? CHAN_MSG_TIMEOUT : 0;
	uint64_t tmo = (seed & 1) ? 100 * CT_MS : 0;
	uint64_t buf[MAX_MSG / 8];
	int64_t last[MAX_PROD];
	int fd = -1, err, i;
	ssize_t n;

	for (i = 0; i < MAX_PROD; i++)
		last[i] = -1;
	if (via != VIA_ID) {
		fd = ct_open(r->dev, r->ch[c].id, CHAN_ROLE_RECV, 0, 0);
		if (fd < 0) {
			if (gone(errno))
				return 0;
			note_error(sh, errno, 2);
			return 1;
		}
	}
	while (!stopping(sh)) {
		err = 0;
		len = msg_size;
		switch (via) {
		case VIA_FD:
			if (ct_recv(fd, 0, buf, &len, flags, tmo))
				err = errno;
			break;
		case VIA_ID:
			if (ct_recv(r->dev, r->ch[c].id, buf, &len, flags, tmo))
				err = errno;
			break;
		case VIA_RW:
			n = read(fd, buf, msg_size);
			if (n < 0)
				err = errno;
			else if (n > (ssize_t)msg_size)
				err = CT_EXIT_BADDATA;
			else
				len = n;
			break;
		}
		if (err == ETIMEDOUT)
			continue;
		if (err == EPIPE) {
			/* every sender endpoint died: wait for a replacement */
			ct_sleep_ms(5);
			continue;
		}
		if (gone(err))
			return 0;
		if (err) {
			note_error(sh, err, 20 + via);
			return 1;
		}
		__atomic_add_fetch(&sh->crecv[c], 1, __ATOMIC_RELAXED);
		check_msg(sh, buf, len, c, msg_size, last);
	}
	return 0;
}

/* Fork a producer or consumer on channel c; returns false if out of room. */
static bool spawn(struct chaos_round *r, int kind, int c)
{
	struct chaos_child *ch;
	uint64_t seed;
	pid_t pid;

	if (r->nchild >= MAX_CHILD)
		return false;
	if (kind == K_PROD && r->nprod >= MAX_PROD)
		return false;
	ch = &r->child[r->nchild];
	ch->kind = kind;
	ch->chan = c;
	ch->via = rnd_below(&r->rng, NVIA);
	if (kind == K_PROD)
		ch->prod_idx = r->nprod++;
	seed = rnd(&r->rng);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		if (kind == K_PROD)
			_exit(producer(r, c, ch->via, ch->prod_idx, seed));
		_exit(consumer(r, c, ch->via, seed));
	}
	ch->pid = pid;
	r->nchild++;
	return true;
}

static void note_exit(struct chaos_round *r, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return;
	r->bad_exits++;
	r->last_bad_exit = status;
}

/* Collect children that have exited on their own. */
static void reap_some(struct chaos_round *r)
{
	int i, status;

	for (i = 0; i < r->nchild; i++) {
		if (r->child[i].pid <= 0)
			continue;
		if (waitpid(r->child[i].pid, &status, WNOHANG) ==
		    r->child[i].pid) {
			note_exit(r, status);
			r->child[i].pid = 0;
		}
	}
}

static void kill_child(struct chaos_round *r, int i)
{
	if (r->child[i].pid <= 0)
		return;
	kill(r->child[i].pid, SIGKILL);
	if (r->child[i].kind == K_PROD)
		r->ch[r->child[i].chan].killed_prod++;
	else
		r->ch[r->child[i].chan].killed_cons++;
}

/*
 * Wait for every child with a bound. Returns the number still there
 * (stuck), and logs those seen in D state for longer than D_STATE_MS.
 */
static int reap_all_bounded(struct __test_metadata *_metadata,
			    struct chaos_round *r)
{
	uint64_t start = ct_now_ns(), d_since[MAX_CHILD] = { 0 };
	int i, left, status;

	for (;;) {
		left = 0;
		for (i = 0; i < r->nchild; i++) {
			pid_t pid = r->child[i].pid;
			char st;

			if (pid <= 0)
				continue;
			if (waitpid(pid, &status, WNOHANG) == pid) {
				note_exit(r, status);
				r->child[i].pid = 0;
				continue;
			}
			left++;
			st = ct_proc_state(pid);
			if (st == 'D') {
				if (!d_since[i])
					d_since[i] = ct_now_ns();
				if (ct_now_ns() - d_since[i] >
				    (uint64_t)D_STATE_MS * CT_MS) {
					TH_LOG("child %d stuck in D state", pid);
					return left;
				}
			} else {
				d_since[i] = 0;
			}
		}
		if (!left)
			return 0;
		if (ct_now_ns() - start > (uint64_t)REAP_MS * CT_MS) {
			for (i = 0; i < r->nchild; i++)
				if (r->child[i].pid > 0)
					TH_LOG("child %d not gone after SIGKILL, state %c",
					       r->child[i].pid,
					       ct_proc_state(r->child[i].pid) ?: '?');
			return left;
		}
		ct_sleep_ms(10);
	}
}

/* ---- the test ---- */

static const uint32_t msg_sizes[] = { HDR_LEN, 64, 256, 300, 1024 };
static const uint32_t capacities[] = { 1, 2, 4, 16, 64, 256 };

FIXTURE(chaos) {
	struct chaos_round r;
	bool can_reload;
	uint64_t seed;
};

FIXTURE_SETUP(chaos)
{
	const char *env = getenv("CHAN_CHAOS_SEED");

	memset(&self->r, 0, sizeof(self->r));
	self->r.dev = -1;
	self->can_reload = access(ct_mod_path(), R_OK) == 0;
	if (!ct_mod_loaded() && self->can_reload)
		ASSERT_OK(ct_mod_load());
	ASSERT_TRUE(ct_mod_loaded());
	if (env && *env)
		self->seed = strtoull(env, NULL, 0);
	else if (getrandom(&self->seed, sizeof(self->seed), GRND_NONBLOCK) !=
		 sizeof(self->seed))
		self->seed = ct_now_ns() ^ ((uint64_t)getpid() << 32);
	if (!self->seed)
		self->seed = 1;
	printf("# chaos seed %llu (CHAN_CHAOS_SEED=%llu repeats it)\n",
	       (unsigned long long)self->seed,
	       (unsigned long long)self->seed);
	fflush(stdout);
	self->r.sh = ct_shared_alloc(sizeof(struct chaos_shared));
	ASSERT_NE(NULL, self->r.sh);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(chaos)
{
	int i;

	for (i = 0; i < self->r.nchild; i++)
		if (self->r.child[i].pid > 0)
			ct_kill_wait(self->r.child[i].pid);
	for (i = 0; i < NCHAN; i++)
		if (self->r.ch[i].keeper > 0)
			close(self->r.ch[i].keeper);
	if (self->r.dev >= 0)
		close(self->r.dev);
	if (self->r.sh)
		munmap(self->r.sh, sizeof(struct chaos_shared));
	if (!ct_mod_loaded() && self->can_reload)
		ct_mod_load();
}

/* Check one channel at the end of a round (every child gone). */
static void check_chan(struct __test_metadata *_metadata,
		       struct chaos_round *r, int c, int round)
{
	struct chaos_chan *ch = &r->ch[c];
	struct chaos_shared *sh = r->sh;
	struct chan_info before, after;
	uint64_t buf[MAX_MSG / 8], drained = 0;
	uint32_t len;
	int err;

	ASSERT_OK(ct_info(ch->keeper, 0, 0, &before));
	TH_LOG("round %d chan %d (size %u cap %u%s%s): sent %llu received %llu dropped %llu discarded %llu depth %u; recorded sent %llu recv %llu; killed p %llu c %llu",
	       round, c, before.msg_size, before.capacity,
	       ch->flags & CHAN_CREATE_AUTODESTROY ? " autodestroy" : "",
	       ch->destroyed ? " destroyed" : "",
	       (unsigned long long)before.sent,
	       (unsigned long long)before.received,
	       (unsigned long long)before.dropped,
	       (unsigned long long)before.discarded, before.depth,
	       (unsigned long long)sh->psent[c],
	       (unsigned long long)sh->crecv[c],
	       (unsigned long long)ch->killed_prod,
	       (unsigned long long)ch->killed_cons);
	EXPECT_EQ(before.sent, before.received + before.dropped +
		  before.discarded + before.depth);
	/* a killed producer may have sent one it did not record, no more */
	EXPECT_LE(sh->psent[c], before.sent);
	EXPECT_LE(before.sent, sh->psent[c] + ch->killed_prod);
	if (ch->destroyed) {
		EXPECT_TRUE((before.state & CHAN_STATE_DESTROYED) != 0);
		EXPECT_EQ(0U, before.depth);
		EXPECT_ERRNO(EIDRM, ct_recv_u64(ch->keeper, 0, buf,
						CHAN_MSG_NONBLOCK));
		EXPECT_LE(sh->crecv[c], before.received);
		EXPECT_LE(before.received, sh->crecv[c] + ch->killed_cons);
		return;
	}
	EXPECT_FALSE((before.state & CHAN_STATE_DESTROYED) != 0);
	EXPECT_EQ(0ULL, before.discarded);
	for (;;) {
		len = ch->msg_size;
		if (ct_recv(ch->keeper, 0, buf, &len, CHAN_MSG_NONBLOCK, 0))
			break;
		check_msg(sh, buf, len, c, ch->msg_size, NULL);
		drained++;
	}
	/* empty: EAGAIN, or EPIPE once no sender endpoint is left */
	err = errno;
	ASSERT_OK(ct_info(ch->keeper, 0, 0, &after));
	if (err != EAGAIN && !(err == EPIPE && after.senders == 0))
		TH_LOG("drain ended with errno %d (%s), %u senders", err,
		       strerror(err), after.senders);
	EXPECT_TRUE(err == EAGAIN || (err == EPIPE && after.senders == 0));
	EXPECT_EQ(before.depth, drained);
	EXPECT_EQ(0U, after.depth);
	EXPECT_EQ(before.sent, after.sent);
	EXPECT_EQ(before.received + drained, after.received);
	EXPECT_EQ(after.sent, after.received + after.dropped +
		  after.discarded + after.depth);
	EXPECT_LE(sh->crecv[c] + drained, after.received);
	EXPECT_LE(after.received, sh->crecv[c] + drained + ch->killed_cons);
}

TEST_F_TIMEOUT(chaos, kill_destroy_reload, 600)
{
	struct chaos_round *r = &self->r;
	uint64_t total_kills = 0, total_destroys = 0, total_children = 0;
	int round, c, i, k;

	r->rng = self->seed;
	for (round = 0; round < ROUNDS; round++) {
		uint64_t end;
		struct chan_info info;

		memset(r->sh, 0, sizeof(*r->sh));
		memset(r->ch, 0, sizeof(r->ch));
		memset(r->child, 0, sizeof(r->child));
		r->nchild = 0;
		r->nprod = 0;
		r->bad_exits = 0;
		r->dev = ct_dev_open();
		ASSERT_LE(0, r->dev);
		for (c = 0; c < NCHAN; c++) {
			struct chaos_chan *ch = &r->ch[c];

			ch->msg_size = msg_sizes[rnd_below(&r->rng,
				ARRAY_SIZE(msg_sizes))];
			ch->flags = rnd_below(&r->rng, 2) ?
				    CHAN_CREATE_AUTODESTROY : 0;
			ASSERT_OK(ct_create(r->dev, ch->msg_size,
				capacities[rnd_below(&r->rng,
						     ARRAY_SIZE(capacities))],
				0600, ch->flags, 0, NULL, &ch->id));
			ch->keeper = ct_open(r->dev, ch->id, CHAN_ROLE_RECV,
					     CHAN_OPEN_CLOEXEC, 0);
			ASSERT_LE(0, ch->keeper);
		}
		for (c = 0; c < NCHAN; c++) {
			for (i = 0; i < PROD_PER_CHAN; i++)
				ASSERT_TRUE(spawn(r, K_PROD, c));
			for (i = 0; i < CONS_PER_CHAN; i++)
				ASSERT_TRUE(spawn(r, K_CONS, c));
		}

		/* the chaos */
		end = ct_now_ns() + (uint64_t)ROUND_MS * CT_MS;
		while (ct_now_ns() < end) {
			uint32_t what = rnd_below(&r->rng, 100);

			ct_sleep_ms(5 + rnd_below(&r->rng, 60));
			reap_some(r);
			if (what < 35) {
				/* kill a random live child, fork a replacement */
				k = rnd_below(&r->rng, r->nchild);
				if (r->child[k].pid <= 0)
					continue;
				kill_child(r, k);
				total_kills++;
				c = r->child[k].chan;
				if (!r->ch[c].destroyed)
					spawn(r, r->child[k].kind, c);
			} else if (what < 39) {
				/* destroy a busy channel (at most one per round) */
				c = rnd_below(&r->rng, NCHAN);
				for (i = 0; i < NCHAN; i++)
					if (r->ch[i].destroyed)
						break;
				if (i < NCHAN)
					continue;
				ASSERT_OK(ct_destroy(r->dev, r->ch[c].id));
				r->ch[c].destroyed = true;
				total_destroys++;
			}
		}

		/* the end of the round: everyone leaves, within a bound */
		__atomic_store_n(&r->sh->stop, 1, __ATOMIC_RELEASE);
		ct_sleep_ms(300);
		reap_some(r);
		for (i = 0; i < r->nchild; i++)
			kill_child(r, i);
		ASSERT_EQ(0, reap_all_bounded(_metadata, r));
		total_children += r->nchild;

		if (r->sh->errors)
			TH_LOG("round %d: %llu unexpected errors, last errno %d (%s) at %d",
			       round, (unsigned long long)r->sh->errors,
			       r->sh->last_errno, strerror(r->sh->last_errno),
			       r->sh->last_where);
		EXPECT_EQ(0ULL, (unsigned long long)r->sh->errors);
		if (r->bad_exits)
			TH_LOG("round %d: %d children ended badly (last status 0x%x)",
			       round, r->bad_exits, r->last_bad_exit);
		EXPECT_EQ(0, r->bad_exits);

		for (c = 0; c < NCHAN; c++)
			check_chan(_metadata, r, c, round);
		EXPECT_EQ(0ULL, (unsigned long long)r->sh->dups);
		EXPECT_EQ(0ULL, (unsigned long long)r->sh->out_of_order);
		EXPECT_EQ(0ULL, (unsigned long long)r->sh->damaged);
		EXPECT_EQ(0ULL, (unsigned long long)r->sh->phantom);

		/* close everything; AUTODESTROY channels go with their keeper */
		for (c = 0; c < NCHAN; c++) {
			struct chaos_chan *ch = &r->ch[c];

			ASSERT_OK(close(ch->keeper));
			ch->keeper = -1;
			if (ch->destroyed) {
				EXPECT_ERRNO(ENOENT, ct_info(r->dev, ch->id, 0,
							     &info));
			} else if (ch->flags & CHAN_CREATE_AUTODESTROY) {
				EXPECT_ERRNO(ENOENT, ct_info(r->dev, ch->id, 0,
							     &info));
			} else {
				EXPECT_OK(ct_destroy(r->dev, ch->id));
			}
		}
		ASSERT_OK(close(r->dev));
		r->dev = -1;
		if (_metadata->passed == 0)
			break;

		/* unload (it must succeed once the last fds are gone) and load */
		if (self->can_reload) {
			ASSERT_OK(ct_mod_unload_retry(20000));
			ASSERT_FALSE(ct_mod_loaded());
			ASSERT_OK(ct_mod_load());
			ASSERT_TRUE(ct_mod_loaded());
		}
	}
	printf("# chaos: %d rounds, %llu children, %llu killed, %llu channels destroyed, seed %llu\n",
	       round, (unsigned long long)total_children,
	       (unsigned long long)total_kills,
	       (unsigned long long)total_destroys,
	       (unsigned long long)self->seed);
	fflush(stdout);
}

CT_HARNESS_MAIN
