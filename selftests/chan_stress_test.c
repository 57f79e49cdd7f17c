// SPDX-License-Identifier: GPL-2.0
/*
 * MPMC stress with processes: P producers and C consumers on one channel,
 * every message carrying its producer's ID, a sequence number and a
 * payload derived from both. Consumers record each message in a bitmap in
 * shared memory. Checked: none lost, none duplicated, none damaged, and
 * each producer's messages arrive in order at every consumer. The same
 * through channel-fd ioctls, ID-style ioctls on /dev/chan, read(2)/write(2)
 * and libchan; plus DESTROY and disconnect in the middle of the traffic.
 */
#include "chan_test_util.h"

#include <libchan.h>

#define WAIT_MS		300000
#define SENTINEL	0xffffffffU

enum { VIA_FD, VIA_ID, VIA_RW, VIA_LIBCHAN };

struct stress_msg {
	uint32_t producer;
	uint32_t len;		/* the length it was sent with */
	uint64_t seq;
	unsigned char payload[];
};

#define HDR_LEN		sizeof(struct stress_msg)

/* What every process of one run shares. */
struct stress_shared {
	uint64_t received;	/* by all consumers */
	uint64_t duplicates;
	uint64_t out_of_order;
	uint64_t damaged;
	uint64_t errors;	/* unexpected errno from a call */
	uint64_t last_errno;
	int64_t bad_ret;	/* a read(2) that claimed more than asked */
	uint64_t per_consumer[16];
	uint32_t ready;		/* start barrier */
	uint32_t go;
	uint64_t bitmap[];	/* producer * per_producer + seq */
};

/* One run's parameters. */
struct stress_cfg {
	int via;
	int producers;
	int consumers;
	uint32_t per_producer;
	uint32_t capacity;
	uint32_t msg_size;
};

#define MAX_PROCS	16
#define MAX_MSG		256

/* One run: the channel, its endpoints, the processes, the shared state. */
struct stress_run {
	const struct stress_cfg *cfg;
	int dev;
	uint32_t id;
	struct stress_shared *sh;
	size_t sh_len;
	int sfd[MAX_PROCS], rfd[MAX_PROCS];
	pid_t pid[2 * MAX_PROCS];
	int npid;
};

static int run_setup(struct stress_run *r, const struct stress_cfg *cfg)
{
	uint64_t bits = (uint64_t)cfg->producers * cfg->per_producer;
	int i;

	r->cfg = cfg;
	for (i = 0; i < MAX_PROCS; i++)
		r->sfd[i] = r->rfd[i] = -1;
	signal(SIGPIPE, SIG_IGN);
	if (cfg->producers > MAX_PROCS || cfg->consumers > MAX_PROCS ||
	    cfg->msg_size > MAX_MSG || cfg->msg_size < HDR_LEN)
		return -1;
	r->dev = ct_dev_open();
	if (r->dev < 0)
		return -1;
	if (ct_create_simple(r->dev, cfg->msg_size, cfg->capacity, &r->id))
		return -1;
	r->sh_len = sizeof(*r->sh) + (bits + 63) / 64 * 8;
	r->sh = ct_shared_alloc(r->sh_len);
	return r->sh ? 0 : -1;
}

static void run_teardown(struct stress_run *r)
{
	int i;

	ct_reap_all(r->pid, r->npid);
	for (i = 0; i < MAX_PROCS; i++) {
		if (r->sfd[i] >= 0)
			close(r->sfd[i]);
		if (r->rfd[i] >= 0)
			close(r->rfd[i]);
	}
	if (r->id)
		ct_destroy(r->dev, r->id);
	if (r->dev > 0)
		close(r->dev);
	if (r->sh)
		munmap(r->sh, r->sh_len);
}

static unsigned char payload_byte(uint32_t producer, uint64_t seq, size_t i)
{
	return (unsigned char)(producer * 31 + seq * 7 + i * 13);
}

/* Lengths vary from the header alone to the whole slot. */
static uint32_t msg_len(uint32_t msg_size, uint64_t seq)
{
	return HDR_LEN + (uint32_t)(seq % (msg_size - HDR_LEN + 1));
}

static void note_error(struct stress_shared *sh, int err)
{
	__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->last_errno, (uint64_t)err, __ATOMIC_RELAXED);
}

static void barrier_wait(struct stress_shared *sh)
{
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
		usleep(1000);
}

/* Send one message by the run's path; returns 0 or an errno. */
static int do_send(struct stress_run *r, int fd, const void *buf,
		   uint32_t len)
{
	ssize_t n;
	int ret;

	switch (r->cfg->via) {
	case VIA_FD:
		return ct_send(fd, 0, buf, len, 0, 0) ? errno : 0;
	case VIA_ID:
		return ct_send(r->dev, r->id, buf, len, 0, 0) ? errno : 0;
	case VIA_RW:
		n = write(fd, buf, len);
		if (n < 0)
			return errno;
		return n == (ssize_t)len ? 0 : CT_EXIT_BADDATA;
	case VIA_LIBCHAN:
		ret = chan_send(fd, buf, len);
		return ret < 0 ? -ret : 0;
	}
	return EINVAL;
}

/* Receive one; returns 0 (with *len set) or an errno. */
static int do_recv(struct stress_run *r, int fd, void *buf, uint32_t *len)
{
	ssize_t n;

	switch (r->cfg->via) {
	case VIA_FD:
		return ct_recv(fd, 0, buf, len, 0, 0) ? errno : 0;
	case VIA_ID:
		return ct_recv(r->dev, r->id, buf, len, 0, 0) ? errno : 0;
	case VIA_RW:
		n = read(fd, buf, *len);
		if (n < 0)
			return errno;
		if (n > (ssize_t)*len) {
			/* read(2) claims more than the buffer holds */
			r->sh->bad_ret = n;
			return CT_EXIT_BADDATA;
		}
		*len = n;
		return 0;
	case VIA_LIBCHAN:
		n = chan_recv(fd, buf, *len);
		if (n < 0)
			return -n;
		if (n > (ssize_t)*len)
			return CT_EXIT_BADDATA;
		*len = n;
		return 0;
	}
	return EINVAL;
}

static int producer(struct stress_run *r, uint32_t me, int fd)
{
	const struct stress_cfg *cfg = r->cfg;
	uint64_t buf[MAX_MSG / 8];
	struct stress_msg *m = (void *)buf;
	uint64_t seq;
	size_t i;
	int err;

	barrier_wait(r->sh);
	for (seq = 0; seq < cfg->per_producer; seq++) {
		m->producer = me;
		m->seq = seq;
		m->len = msg_len(cfg->msg_size, seq);
		for (i = 0; i < m->len - HDR_LEN; i++)
			m->payload[i] = payload_byte(me, seq, i);
		err = do_send(r, fd, m, m->len);
		if (err) {
			note_error(r->sh, err);
			return err;
		}
	}
	return 0;
}

static int consumer(struct stress_run *r, int me, int fd)
{
	const struct stress_cfg *cfg = r->cfg;
	struct stress_shared *sh = r->sh;
	uint64_t buf[MAX_MSG / 8];
	struct stress_msg *m = (void *)buf;
	uint64_t bit, mask, old, count = 0;
	int64_t last[MAX_PROCS];
	uint32_t len;
	size_t i;
	int err;

	for (i = 0; i < MAX_PROCS; i++)
		last[i] = -1;
	barrier_wait(sh);
	for (;;) {
		len = cfg->msg_size;
		err = do_recv(r, fd, buf, &len);
		if (err == EPIPE && cfg->via != VIA_ID)
			break;		/* every producer left, drained */
		if (err) {
			note_error(sh, err);
			sh->per_consumer[me] = count;
			__atomic_add_fetch(&sh->received, count,
					   __ATOMIC_RELAXED);
			return err;
		}
		if (len >= HDR_LEN && m->producer == SENTINEL)
			break;		/* ID-style: the parent's stop sign */
		if (len < HDR_LEN || m->producer >= (uint32_t)cfg->producers ||
		    m->seq >= cfg->per_producer || m->len != len ||
		    len != msg_len(cfg->msg_size, m->seq)) {
			__atomic_add_fetch(&sh->damaged, 1, __ATOMIC_RELAXED);
			continue;
		}
		for (i = 0; i < len - HDR_LEN; i++)
			if (m->payload[i] != payload_byte(m->producer, m->seq, i))
				break;
		if (i != len - HDR_LEN)
			__atomic_add_fetch(&sh->damaged, 1, __ATOMIC_RELAXED);
		if ((int64_t)m->seq <= last[m->producer])
			__atomic_add_fetch(&sh->out_of_order, 1,
					   __ATOMIC_RELAXED);
		last[m->producer] = m->seq;
		bit = (uint64_t)m->producer * cfg->per_producer + m->seq;
		mask = 1ULL << (bit % 64);
		old = __atomic_fetch_or(&sh->bitmap[bit / 64], mask,
					__ATOMIC_RELAXED);
		if (old & mask)
			__atomic_add_fetch(&sh->duplicates, 1,
					   __ATOMIC_RELAXED);
		count++;
	}
	sh->per_consumer[me] = count;
	__atomic_add_fetch(&sh->received, count, __ATOMIC_RELAXED);
	return 0;
}

/* Open the endpoints the run needs, all before any child runs, so no
 * role is ever momentarily without endpoints.
 */
static int open_endpoints(struct stress_run *r)
{
	const struct stress_cfg *cfg = r->cfg;
	bool lib = cfg->via == VIA_LIBCHAN;
	int i;

	if (cfg->via == VIA_ID)
		return 0;
	for (i = 0; i < cfg->producers; i++) {
		r->sfd[i] = lib ? chan_open(r->id, CHAN_ROLE_SEND, 0) :
			ct_open(r->dev, r->id, CHAN_ROLE_SEND, 0, 0);
		if (r->sfd[i] < 0)
			return -1;
	}
	for (i = 0; i < cfg->consumers; i++) {
		r->rfd[i] = lib ? chan_open(r->id, CHAN_ROLE_RECV, 0) :
			ct_open(r->dev, r->id, CHAN_ROLE_RECV, 0, 0);
		if (r->rfd[i] < 0)
			return -1;
	}
	return 0;
}

/* Close every endpoint but fd (-1: all). */
static void keep_only(struct stress_run *r, int fd)
{
	int i;

	for (i = 0; i < MAX_PROCS; i++) {
		if (r->sfd[i] >= 0 && r->sfd[i] != fd)
			close(r->sfd[i]);
		if (r->rfd[i] >= 0 && r->rfd[i] != fd)
			close(r->rfd[i]);
	}
}

/* Fork producers then consumers; the parent keeps no endpoint. */
static int spawn_all(struct stress_run *r)
{
	const struct stress_cfg *cfg = r->cfg;
	pid_t pid;
	int i;

	if (open_endpoints(r))
		return -1;
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < cfg->producers + cfg->consumers; i++) {
		bool prod = i < cfg->producers;
		int k = prod ? i : i - cfg->producers;
		int fd = prod ? r->sfd[k] : r->rfd[k];

		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			keep_only(r, fd);
			_exit(prod ? producer(r, k, fd) : consumer(r, k, fd));
		}
		r->pid[r->npid++] = pid;
	}
	keep_only(r, -1);
	for (i = 0; i < MAX_PROCS; i++)
		r->sfd[i] = r->rfd[i] = -1;
	return 0;
}

/* Release everyone at once; false if they did not all show up. */
static bool start_all(struct stress_run *r)
{
	uint32_t n = r->cfg->producers + r->cfg->consumers;
	uint64_t t0 = ct_now_ns();

	while (__atomic_load_n(&r->sh->ready, __ATOMIC_ACQUIRE) < n) {
		if (ct_now_ns() - t0 > 120 * CT_SEC)
			return false;
		usleep(1000);
	}
	__atomic_store_n(&r->sh->go, 1, __ATOMIC_RELEASE);
	return true;
}

/* Wait until the channel has delivered at least n messages. */
static bool wait_received(struct stress_run *r, uint64_t n)
{
	struct chan_info info;
	uint64_t t0 = ct_now_ns();

	for (;;) {
		if (ct_info(r->dev, r->id, 0, &info))
			return false;
		if (info.received >= n)
			return true;
		if (ct_now_ns() - t0 > 300 * CT_SEC)
			return false;
		usleep(10000);
	}
}

FIXTURE(stress) {
	struct stress_run r;
};

FIXTURE_VARIANT(stress) {
	struct stress_cfg cfg;
};

/* 4 x 25000 = 100000 messages each way. */
FIXTURE_VARIANT_ADD(stress, fd_ioctl) {
	.cfg = { .via = VIA_FD, .producers = 4, .consumers = 4,
		 .per_producer = 25000, .capacity = 64, .msg_size = 64 },
};

FIXTURE_VARIANT_ADD(stress, id_ioctl) {
	.cfg = { .via = VIA_ID, .producers = 4, .consumers = 4,
		 .per_producer = 25000, .capacity = 64, .msg_size = 64 },
};

FIXTURE_VARIANT_ADD(stress, read_write) {
	.cfg = { .via = VIA_RW, .producers = 4, .consumers = 4,
		 .per_producer = 25000, .capacity = 64, .msg_size = 64 },
};

FIXTURE_VARIANT_ADD(stress, libchan) {
	.cfg = { .via = VIA_LIBCHAN, .producers = 4, .consumers = 4,
		 .per_producer = 10000, .capacity = 16, .msg_size = 48 },
};

/* A one-slot channel: nearly every call sleeps and is woken. */
FIXTURE_VARIANT_ADD(stress, fd_one_slot) {
	.cfg = { .via = VIA_FD, .producers = 5, .consumers = 3,
		 .per_producer = 4000, .capacity = 1, .msg_size = 32 },
};

FIXTURE_SETUP(stress)
{
	ASSERT_OK(run_setup(&self->r, &variant->cfg));
}

FIXTURE_TEARDOWN(stress)
{
	run_teardown(&self->r);
}

TEST_F_TIMEOUT(stress, mpmc, 600)
{
	const struct stress_cfg *cfg = &variant->cfg;
	uint64_t total = (uint64_t)cfg->producers * cfg->per_producer;
	struct stress_run *r = &self->r;
	struct stress_shared *sh = r->sh;
	struct chan_info info;
	uint64_t i, missing = 0, t0;
	int k;

	ASSERT_OK(spawn_all(r));
	ASSERT_TRUE(start_all(r));
	t0 = ct_now_ns();
	for (k = 0; k < cfg->producers; k++)
		EXPECT_EQ(0, ct_reap(&r->pid[k], WAIT_MS));
	if (cfg->via == VIA_ID) {
		struct stress_msg stop = { .producer = SENTINEL,
					   .len = HDR_LEN };

		for (k = 0; k < cfg->consumers; k++)
			ASSERT_OK(ct_send(r->dev, r->id, &stop, HDR_LEN, 0, 0));
	}
	for (k = cfg->producers; k < r->npid; k++)
		EXPECT_EQ(0, ct_reap(&r->pid[k], WAIT_MS));
	TH_LOG("%" PRIu64 " messages in %.1f s; per consumer: %" PRIu64
	       " %" PRIu64 " %" PRIu64 " %" PRIu64, total,
	       (ct_now_ns() - t0) / 1e9, sh->per_consumer[0],
	       sh->per_consumer[1], sh->per_consumer[2], sh->per_consumer[3]);
	if (sh->errors)
		TH_LOG("%" PRIu64 " unexpected errors, last errno %" PRIu64
		       " (%s), bad return value %" PRId64, sh->errors,
		       sh->last_errno, sh->last_errno == CT_EXIT_BADDATA ?
		       "bad data" : strerror(sh->last_errno), sh->bad_ret);
	EXPECT_EQ(0U, sh->errors);
	EXPECT_EQ(0U, sh->damaged);
	EXPECT_EQ(0U, sh->duplicates);
	EXPECT_EQ(0U, sh->out_of_order);
	EXPECT_EQ(total, sh->received);
	for (i = 0; i < total; i++)
		if (!(sh->bitmap[i / 64] & (1ULL << (i % 64))))
			missing++;
	EXPECT_EQ(0U, missing);

	ASSERT_OK(ct_info(r->dev, r->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(info.sent, info.received);
	EXPECT_EQ(total + (cfg->via == VIA_ID ? cfg->consumers : 0),
		  info.sent);
	EXPECT_EQ(0U, info.senders);
	EXPECT_EQ(0U, info.receivers);
	if (cfg->capacity == 1)
		EXPECT_LT(0U, info.send_waits + info.recv_waits);
}

/* ---- the traffic interrupted ---- */

static const struct stress_cfg load_cfg = {
	.via = VIA_FD, .producers = 4, .consumers = 4,
	.per_producer = 25000, .capacity = 64, .msg_size = 64,
};

FIXTURE(load) {
	struct stress_run r;
};

FIXTURE_SETUP(load)
{
	ASSERT_OK(run_setup(&self->r, &load_cfg));
}

FIXTURE_TEARDOWN(load)
{
	run_teardown(&self->r);
}

/*
 * DESTROY while every producer and consumer is busy: they all stop with
 * EIDRM (none hangs), and the counts still add up.
 */
TEST_F_TIMEOUT(load, destroy, 600)
{
	struct stress_run *r = &self->r;
	struct chan_info info;
	int k, rc, probe;

	probe = ct_open(r->dev, r->id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, probe);
	ASSERT_OK(spawn_all(r));
	ASSERT_TRUE(start_all(r));
	ASSERT_TRUE(wait_received(r, 2000));
	ASSERT_OK(ct_destroy(r->dev, r->id));
	for (k = 0; k < r->npid; k++) {
		rc = ct_reap(&r->pid[k], WAIT_MS);
		/* a producer may just have finished; nobody else ends well */
		if (rc != 0)
			EXPECT_EQ(EIDRM, rc);
	}
	EXPECT_EQ(0U, r->sh->damaged);
	EXPECT_EQ(0U, r->sh->duplicates);
	EXPECT_EQ(0U, r->sh->out_of_order);
	ASSERT_OK(ct_info(probe, 0, 0, &info));
	EXPECT_NE(0U, info.state & CHAN_STATE_DESTROYED);
	EXPECT_EQ(info.sent, info.received + info.dropped + info.discarded +
		  info.depth);
	close(probe);
	r->id = 0;
}

/*
 * The consumers all die in the middle: every producer, asleep or not,
 * gets EPIPE.
 */
TEST_F_TIMEOUT(load, receivers_die, 600)
{
	struct stress_run *r = &self->r;
	const struct stress_cfg *cfg = r->cfg;
	struct chan_info info;
	int k;

	ASSERT_OK(spawn_all(r));
	ASSERT_TRUE(start_all(r));
	ASSERT_TRUE(wait_received(r, 2000));
	for (k = cfg->producers; k < r->npid; k++) {
		kill(r->pid[k], SIGKILL);
		EXPECT_EQ(128 + SIGKILL, ct_reap(&r->pid[k], WAIT_MS));
	}
	for (k = 0; k < cfg->producers; k++)
		EXPECT_EQ(EPIPE, ct_reap(&r->pid[k], WAIT_MS));
	EXPECT_EQ((uint64_t)cfg->producers, r->sh->errors);
	ASSERT_OK(ct_info(r->dev, r->id, 0, &info));
	EXPECT_EQ(CHAN_STATE_NO_SENDERS | CHAN_STATE_NO_RECEIVERS, info.state);
	EXPECT_EQ(info.sent, info.received + info.dropped + info.depth);
}

/* ---- wake-ups handed on ---- */

/*
 * One process on one side of a one-slot channel, many short-lived ones on
 * the other. A waiter whose attempt succeeds while it is still queued can
 * take the wake-up meant for the next waiter; if it then leaves for good,
 * the next waiter must still be woken. Every call has a generous timeout,
 * so a lost wake-up shows as ETIMEDOUT in that round instead of a hang.
 */
#define HANDOFF_ROUNDS	100
#define HANDOFF_PROCS	6
#define HANDOFF_MSGS	16
#define HANDOFF_TIMEOUT	(60 * CT_SEC)

FIXTURE(handoff) {
	int dev;
	uint32_t id;
	int fd[HANDOFF_PROCS + 1];
	pid_t pid[HANDOFF_PROCS + 1];
};

FIXTURE_VARIANT(handoff) {
	bool many_senders;	/* else many receivers */
};

FIXTURE_VARIANT_ADD(handoff, senders) {
	.many_senders = true,
};

FIXTURE_VARIANT_ADD(handoff, receivers) {
	.many_senders = false,
};

FIXTURE_SETUP(handoff)
{
	int i;

	for (i = 0; i <= HANDOFF_PROCS; i++)
		self->fd[i] = -1;
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, sizeof(uint64_t), 1, &self->id));
}

FIXTURE_TEARDOWN(handoff)
{
	int i;

	ct_reap_all(self->pid, HANDOFF_PROCS + 1);
	for (i = 0; i <= HANDOFF_PROCS; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

/* n timed sends or receives on fd; exits with 0 or the errno. */
static int handoff_run(int fd, bool send, uint32_t n)
{
	uint64_t v = 0;
	uint32_t i, len;

	for (i = 0; i < n; i++) {
		len = sizeof(v);
		if (send ? ct_send(fd, 0, &v, len, CHAN_MSG_TIMEOUT,
				   HANDOFF_TIMEOUT) :
			   ct_recv(fd, 0, &v, &len, CHAN_MSG_TIMEOUT,
				   HANDOFF_TIMEOUT))
			return errno;
	}
	return 0;
}

TEST_F_TIMEOUT(handoff, one_slot, 900)
{
	const uint32_t roles[2] = { CHAN_ROLE_RECV, CHAN_ROLE_SEND };
	bool many_send = variant->many_senders;
	uint64_t expect = 0;
	struct chan_info info;
	int round, i, j, rc;
	pid_t pid;

	for (round = 0; round < HANDOFF_ROUNDS; round++) {
		/* fd[0] is the lone process's; all open before any fork. */
		for (i = 0; i <= HANDOFF_PROCS; i++) {
			self->fd[i] = ct_open(self->dev, self->id,
					      roles[(i > 0) == many_send], 0, 0);
			ASSERT_LE(0, self->fd[i]);
		}
		for (i = 0; i <= HANDOFF_PROCS; i++) {
			pid = fork();
			ASSERT_LE(0, pid);
			if (pid == 0) {
				for (j = 0; j <= HANDOFF_PROCS; j++)
					if (j != i)
						close(self->fd[j]);
				_exit(handoff_run(self->fd[i],
						  (i > 0) == many_send,
						  i ? HANDOFF_MSGS :
						  HANDOFF_PROCS *
						  HANDOFF_MSGS));
			}
			self->pid[i] = pid;
		}
		for (i = 0; i <= HANDOFF_PROCS; i++) {
			close(self->fd[i]);
			self->fd[i] = -1;
		}
		for (i = 0; i <= HANDOFF_PROCS; i++) {
			rc = ct_reap(&self->pid[i], WAIT_MS);
			if (rc)
				TH_LOG("round %d: process %d ended with %d (%s)",
				       round, i, rc, strerror(rc));
			ASSERT_EQ(0, rc);
		}
		expect += HANDOFF_PROCS * HANDOFF_MSGS;
		ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
		ASSERT_EQ(expect, info.sent);
		ASSERT_EQ(expect, info.received);
		ASSERT_EQ(0U, info.depth);
	}
	/* The test is worth something only if calls really slept. */
	EXPECT_LT(0U, info.send_waits);
	EXPECT_LT(0U, info.recv_waits);
}

CT_HARNESS_MAIN
