// SPDX-License-Identifier: GPL-2.0
/*
 * Batches: SEND_BATCH and RECV_BATCH (order, the lengths written back,
 * the count's limits, reserved fields, only the first message waits
 * unless CHAN_MSG_WAITALL, timeouts, EMSGSIZE and bad buffers or vectors
 * on the first or a later entry, wrong roles, disconnect, destroy,
 * signals and the relative timeout rewritten as a deadline), on channel
 * fds and by ID. Every fixture checks in its teardown that the channel's
 * counters balance: sent = received + dropped + discarded + depth.
 */
#include "chan_test_util.h"

#define B_MSG_SIZE	64U
#define B_CAP		8U
#define WAIT_MS		20000	/* generous bound for "eventually" */
#define NV		8	/* entries of the usual vectors */

/* ---- raw ioctls ---- */

static int bt_batch(int fd, unsigned long cmd, uint32_t id,
		    struct chan_iov *vec, uint32_t count, uint32_t flags,
		    uint64_t tmo)
{
	struct chan_batch b = {
		.size = sizeof(b),
		.flags = flags,
		.id = id,
		.count = count,
		.vec = (uintptr_t)vec,
		.timeout_ns = tmo,
	};

	return ioctl(fd, cmd, &b);
}

/* Point vec[0..n) at vals[0..n), each entry sizeof(uint64_t) bytes. */
static void bt_vec_u64(struct chan_iov *vec, uint64_t *vals, unsigned int n)
{
	unsigned int i;

	memset(vec, 0, n * sizeof(*vec));
	for (i = 0; i < n; i++) {
		vec[i].buf = (uintptr_t)&vals[i];
		vec[i].len = sizeof(vals[i]);
	}
}

/* INFO of a channel (by ID on dev, or on a channel fd with id 0). */
static struct chan_info bt_info(int fd, uint32_t id)
{
	struct chan_info info;

	if (ct_info(fd, id, 0, &info))
		memset(&info, 0xff, sizeof(info));
	return info;
}

/* The counters of INFO balance; logs the figures when they do not. */
static bool bt_balanced(const struct chan_info *i)
{
	if (i->sent == i->received + i->dropped + i->discarded + i->depth)
		return true;
	fprintf(stderr, "# unbalanced: sent %llu received %llu dropped %llu discarded %llu depth %u\n",
		(unsigned long long)i->sent, (unsigned long long)i->received,
		(unsigned long long)i->dropped,
		(unsigned long long)i->discarded, i->depth);
	return false;
}

/*
 * Memory with a page of each protection given (PROT_* per page, in
 * order); the pages are filled with 0 while writable. munmap() n pages.
 */
static unsigned char *bt_pages(const int *prot, int n)
{
	size_t pg = getpagesize();
	unsigned char *p;
	int i;

	p = mmap(NULL, n * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, n * pg);
	for (i = 0; i < n; i++)
		if (mprotect(p + i * pg, pg, prot[i]))
			return NULL;
	return p;
}

/* What a helper child reports (in shared memory). */
struct bt_res {
	long ret;
	int err;
	uint32_t flags;
	uint64_t tmo;
	uint64_t t0, t1, t2;
	long ret2;
	int err2;
	uint32_t out_sent;
	uint64_t hits;
	uint32_t lens[NV];
	uint64_t vals[NV];
};

static pid_t bt_fork(void)
{
	fflush(stdout);
	fflush(stderr);
	return fork();
}

/* ==== SEND_BATCH and RECV_BATCH, on channel fds and by ID ==== */

FIXTURE(batch) {
	int dev;
	uint32_t id;
	int sfd;		/* SEND endpoint */
	int rfd;		/* RECV endpoint */
	bool destroyed;
	struct bt_res *res;	/* results of helper children */
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_VARIANT(batch) {
	bool by_id;
};

FIXTURE_VARIANT_ADD(batch, fd) {
	.by_id = false,
};

FIXTURE_VARIANT_ADD(batch, id) {
	.by_id = true,
};

FIXTURE_SETUP(batch)
{
	self->sfd = self->rfd = -1;
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, B_MSG_SIZE, B_CAP, &self->id));
	self->sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	self->rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->sfd);
	ASSERT_LE(0, self->rfd);
	self->res = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->res);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(batch)
{
	struct chan_info info;
	int fd = self->sfd >= 0 ? self->sfd : self->rfd;

	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	/* Described through an fd, which works after a destroy too. */
	info = fd >= 0 ? bt_info(fd, 0) : bt_info(self->dev, self->id);
	EXPECT_TRUE(bt_balanced(&info));
	close(self->sfd);
	close(self->rfd);
	if (!self->destroyed)
		ct_destroy(self->dev, self->id);
	close(self->dev);
	munmap(self->res, 4096);
}

/* The variant's path: the endpoint (id 0) or /dev/chan by ID. */
static int b_send(FIXTURE_DATA(batch) *self, const FIXTURE_VARIANT(batch) *v,
		  struct chan_iov *vec, uint32_t count, uint32_t flags,
		  uint64_t tmo)
{
	return v->by_id ? bt_batch(self->dev, CHAN_IOC_SEND_BATCH, self->id,
				   vec, count, flags, tmo)
			: bt_batch(self->sfd, CHAN_IOC_SEND_BATCH, 0, vec,
				   count, flags, tmo);
}

static int b_recv(FIXTURE_DATA(batch) *self, const FIXTURE_VARIANT(batch) *v,
		  struct chan_iov *vec, uint32_t count, uint32_t flags,
		  uint64_t tmo)
{
	return v->by_id ? bt_batch(self->dev, CHAN_IOC_RECV_BATCH, self->id,
				   vec, count, flags, tmo)
			: bt_batch(self->rfd, CHAN_IOC_RECV_BATCH, 0, vec,
				   count, flags, tmo);
}

/* One message of one uint64_t on the variant's path. */
static int b_send1(FIXTURE_DATA(batch) *self, const FIXTURE_VARIANT(batch) *v,
		   uint64_t val, uint32_t flags)
{
	return v->by_id ? ct_send_u64(self->dev, self->id, val, flags)
			: ct_send_u64(self->sfd, 0, val, flags);
}

static int b_recv1(FIXTURE_DATA(batch) *self, const FIXTURE_VARIANT(batch) *v,
		   uint64_t *val, uint32_t flags)
{
	return v->by_id ? ct_recv_u64(self->dev, self->id, val, flags)
			: ct_recv_u64(self->rfd, 0, val, flags);
}

static struct chan_info b_info(FIXTURE_DATA(batch) *self)
{
	return bt_info(self->dev, self->id);
}

/* Wait until the channel is empty (a child took what was sent). */
static bool b_wait_drained(FIXTURE_DATA(batch) *self)
{
	uint64_t deadline = ct_now_ns() + WAIT_MS * CT_MS;

	while (b_info(self).depth) {
		if (ct_now_ns() > deadline)
			return false;
		ct_sleep_ms(2);
	}
	return true;
}

/*
 * Messages of different lengths, in order, each length written back into
 * its entry; nothing written past a message. Batches and single messages
 * keep one order between them.
 */
TEST_F(batch, order_and_lengths)
{
	static const uint32_t lens[] = { 0, 1, 17, 63, B_MSG_SIZE };
	unsigned char out[5][B_MSG_SIZE], in[5][B_MSG_SIZE + 8];
	struct chan_iov sv[5], rv[NV];
	uint64_t vals[NV];
	struct chan_info info;
	unsigned int i;

	for (i = 0; i < 5; i++) {
		memset(out[i], 'a' + i, sizeof(out[i]));
		sv[i] = (struct chan_iov){ .buf = (uintptr_t)out[i],
					   .len = lens[i] };
	}
	ASSERT_EQ(5, b_send(self, variant, sv, 5, 0, 0));
	info = b_info(self);
	EXPECT_EQ(5U, info.sent);
	EXPECT_EQ(5U, info.depth);
	memset(in, 0xee, sizeof(in));
	for (i = 0; i < 5; i++)
		rv[i] = (struct chan_iov){ .buf = (uintptr_t)in[i],
					   .len = sizeof(in[i]) };
	ASSERT_EQ(5, b_recv(self, variant, rv, 5, 0, 0));
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(lens[i], rv[i].len);
		EXPECT_EQ(0, memcmp(in[i], out[i], lens[i]));
		EXPECT_EQ(0xee, in[i][lens[i]]);
		EXPECT_EQ(0U, rv[i].__reserved);
	}
	info = b_info(self);
	EXPECT_EQ(5U, info.received);
	EXPECT_EQ(0U, info.depth);

	/* batch 0..2, single 3, batch 4..5: one order */
	for (i = 0; i < NV; i++)
		vals[i] = 1000 + i;
	bt_vec_u64(rv, vals, NV);
	ASSERT_EQ(3, b_send(self, variant, rv, 3, 0, 0));
	ASSERT_OK(b_send1(self, variant, 1003, 0));
	ASSERT_EQ(2, b_send(self, variant, rv + 4, 2, 0, 0));
	memset(vals, 0, sizeof(vals));
	bt_vec_u64(rv, vals, NV);
	ASSERT_EQ(6, b_recv(self, variant, rv, NV, CHAN_MSG_NONBLOCK, 0));
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(1000U + i, vals[i]);
		EXPECT_EQ(sizeof(uint64_t), rv[i].len);
	}
	/* the entries past the count are left alone */
	EXPECT_EQ(0U, vals[6]);
	EXPECT_EQ(sizeof(uint64_t), rv[6].len);
}

/* count 0 and count > CHAN_BATCH_MAX: EINVAL; CHAN_BATCH_MAX itself goes. */
TEST_F(batch, count_limits)
{
	static const uint32_t bad[] = { 0, CHAN_BATCH_MAX + 1, UINT32_MAX };
	struct chan_iov *vec;
	struct chan_info info;
	uint64_t *vals;
	unsigned int i;

	vals = calloc(CHAN_BATCH_MAX + 1, sizeof(*vals));
	vec = calloc(CHAN_BATCH_MAX + 1, sizeof(*vec));
	ASSERT_NE(NULL, vals);
	ASSERT_NE(NULL, vec);
	bt_vec_u64(vec, vals, CHAN_BATCH_MAX + 1);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_ERRNO(EINVAL, b_send(self, variant, vec, bad[i], 0, 0));
		EXPECT_ERRNO(EINVAL, b_send(self, variant, vec, bad[i],
					    CHAN_MSG_NONBLOCK, 0));
		EXPECT_ERRNO(EINVAL, b_recv(self, variant, vec, bad[i], 0, 0));
		EXPECT_ERRNO(EINVAL, b_recv(self, variant, vec, bad[i],
					    CHAN_MSG_NONBLOCK, 0));
	}
	info = b_info(self);
	EXPECT_EQ(0U, info.sent);
	for (i = 0; i < CHAN_BATCH_MAX; i++)
		vals[i] = i;
	/* the largest count is accepted; the batch stops at full */
	EXPECT_EQ((int)B_CAP, b_send(self, variant, vec, CHAN_BATCH_MAX,
				     CHAN_MSG_NONBLOCK, 0));
	memset(vals, 0xff, (CHAN_BATCH_MAX + 1) * sizeof(*vals));
	EXPECT_EQ((int)B_CAP, b_recv(self, variant, vec, CHAN_BATCH_MAX,
				     CHAN_MSG_NONBLOCK, 0));
	for (i = 0; i < B_CAP; i++)
		EXPECT_EQ(i, vals[i]);
	EXPECT_EQ(UINT64_MAX, vals[B_CAP]);
	free(vals);
	free(vec);
}

/*
 * A non-zero __reserved: on the first entry EINVAL and nothing moves; on a
 * later one the entries before it are done and their count returned.
 */
TEST_F(batch, reserved_in_entry)
{
	struct chan_iov vec[NV];
	uint64_t vals[NV] = { 0, 1, 2, 3 };
	struct chan_info info;
	unsigned int i;

	bt_vec_u64(vec, vals, 4);
	vec[0].__reserved = 1;
	EXPECT_ERRNO(EINVAL, b_send(self, variant, vec, 4, 0, 0));
	EXPECT_ERRNO(EINVAL, b_send(self, variant, vec, 4,
				    CHAN_MSG_NONBLOCK, 0));
	info = b_info(self);
	EXPECT_EQ(0U, info.sent);
	vec[0].__reserved = 0;
	vec[2].__reserved = 0x80000000U;
	EXPECT_EQ(2, b_send(self, variant, vec, 4, 0, 0));
	info = b_info(self);
	EXPECT_EQ(2U, info.sent);
	vec[2].__reserved = 0;
	EXPECT_EQ(2, b_send(self, variant, vec + 2, 2, 0, 0));

	memset(vals, 0xff, sizeof(vals));
	bt_vec_u64(vec, vals, 4);
	vec[0].__reserved = 1;
	EXPECT_ERRNO(EINVAL, b_recv(self, variant, vec, 4, CHAN_MSG_NONBLOCK,
				    0));
	EXPECT_ERRNO(EINVAL, b_recv(self, variant, vec, 4, 0, 0));
	info = b_info(self);
	EXPECT_EQ(4U, info.depth);
	EXPECT_EQ(0U, info.received);
	EXPECT_EQ(UINT64_MAX, vals[0]);
	vec[0].__reserved = 0;
	vec[2].__reserved = 1;
	EXPECT_EQ(2, b_recv(self, variant, vec, 4, 0, 0));
	EXPECT_EQ(0U, vals[0]);
	EXPECT_EQ(1U, vals[1]);
	EXPECT_EQ(UINT64_MAX, vals[2]);
	info = b_info(self);
	EXPECT_EQ(2U, info.depth);
	vec[2].__reserved = 0;
	EXPECT_EQ(2, b_recv(self, variant, vec + 2, 4 - 2, 0, 0));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(i, vals[i]);
}

/*
 * Only the first message waits: a blocking batch returns what was there
 * (a partial batch), and a batch blocked on an empty (full) channel
 * returns 1 when one message (slot) comes.
 */
TEST_F(batch, only_first_waits)
{
	struct bt_res *r = self->res;
	struct chan_iov vec[NV];
	uint64_t vals[NV], t0;
	struct chan_info info;
	unsigned int i;

	for (i = 0; i < 3; i++)
		ASSERT_OK(b_send1(self, variant, 10 + i, 0));
	bt_vec_u64(vec, vals, NV);
	t0 = ct_now_ns();
	ASSERT_EQ(3, b_recv(self, variant, vec, NV, 0, 0));
	EXPECT_GT(5 * CT_SEC, ct_now_ns() - t0);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(10U + i, vals[i]);

	/* a receiver blocked on an empty channel takes the one that comes */
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		bt_vec_u64(vec, r->vals, NV);
		r->ret = b_recv(self, variant, vec, NV, 0, 0);
		r->err = errno;
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(b_send1(self, variant, 42, 0));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(1, r->ret);
	EXPECT_EQ(42U, r->vals[0]);

	/* a sender blocked on a full channel sends into the one free slot */
	for (i = 0; i < B_CAP; i++)
		ASSERT_OK(b_send1(self, variant, i, CHAN_MSG_NONBLOCK));
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		for (i = 0; i < 4; i++)
			r->vals[i] = 100 + i;
		bt_vec_u64(vec, r->vals, 4);
		r->ret = b_send(self, variant, vec, 4, 0, 0);
		r->err = errno;
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(b_recv1(self, variant, &vals[0], 0));
	EXPECT_EQ(0U, vals[0]);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(1, r->ret);
	info = b_info(self);
	EXPECT_EQ(B_CAP, info.depth);
	EXPECT_EQ(B_CAP + 4 + 1, info.sent);
	bt_vec_u64(vec, vals, NV);
	ASSERT_EQ((int)B_CAP, b_recv(self, variant, vec, NV, 0, 0));
	for (i = 0; i < B_CAP - 1; i++)
		EXPECT_EQ(i + 1, vals[i]);
	EXPECT_EQ(100U, vals[B_CAP - 1]);
}

/* A child that sends (or receives) n messages, one every ms. */
static void b_slow_peer(FIXTURE_DATA(batch) *self,
			const FIXTURE_VARIANT(batch) *v, bool send,
			unsigned int n, unsigned int ms, uint64_t first)
{
	uint64_t val;
	unsigned int i;

	for (i = 0; i < n; i++) {
		ct_sleep_ms(ms);
		if (send) {
			if (b_send1(self, v, first + i, 0))
				_exit(errno);
		} else {
			if (b_recv1(self, v, &val, 0))
				_exit(errno);
			if (val != first + i)
				_exit(CT_EXIT_BADDATA);
		}
	}
	_exit(0);
}

/* CHAN_MSG_WAITALL waits for every message (slot), fed slowly. */
TEST_F(batch, waitall_waits_for_all)
{
	struct chan_iov vec[NV];
	uint64_t vals[NV], t0;
	unsigned int i;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_slow_peer(self, variant, true, 4, 100, 50);
	bt_vec_u64(vec, vals, NV);
	t0 = ct_now_ns();
	ASSERT_EQ(4, b_recv(self, variant, vec, 4, CHAN_MSG_WAITALL, 0));
	EXPECT_LE(3 * 100 * CT_MS, ct_now_ns() - t0);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(50U + i, vals[i]);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));

	for (i = 0; i < B_CAP; i++)
		ASSERT_OK(b_send1(self, variant, i, CHAN_MSG_NONBLOCK));
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_slow_peer(self, variant, false, 4, 100, 0);
	for (i = 0; i < 4; i++)
		vals[i] = 100 + i;
	bt_vec_u64(vec, vals, 4);
	t0 = ct_now_ns();
	ASSERT_EQ(4, b_send(self, variant, vec, 4, CHAN_MSG_WAITALL, 0));
	EXPECT_LE(3 * 100 * CT_MS, ct_now_ns() - t0);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	bt_vec_u64(vec, vals, NV);
	ASSERT_EQ((int)B_CAP, b_recv(self, variant, vec, NV,
				     CHAN_MSG_NONBLOCK, 0));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(4U + i, vals[i]);
		EXPECT_EQ(100U + i, vals[4 + i]);
	}
}

/*
 * CHAN_MSG_WAITALL with a timeout returns the count moved by the deadline;
 * with none moved, ETIMEDOUT.
 */
TEST_F_TIMEOUT(batch, waitall_timeout_returns_count, 60)
{
	const uint64_t tmo = 1500 * CT_MS;
	struct chan_iov vec[NV];
	uint64_t vals[NV], t0, dt;
	struct chan_info info;
	unsigned int i;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_slow_peer(self, variant, true, 2, 100, 7);
	bt_vec_u64(vec, vals, NV);
	t0 = ct_now_ns();
	ASSERT_EQ(2, b_recv(self, variant, vec, 4,
			    CHAN_MSG_WAITALL | CHAN_MSG_TIMEOUT, tmo));
	dt = ct_now_ns() - t0;
	EXPECT_LE(tmo, dt);
	EXPECT_GT(tmo + 5 * CT_SEC, dt);
	EXPECT_EQ(7U, vals[0]);
	EXPECT_EQ(8U, vals[1]);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));

	t0 = ct_now_ns();
	EXPECT_ERRNO(ETIMEDOUT, b_recv(self, variant, vec, 4,
				       CHAN_MSG_WAITALL | CHAN_MSG_TIMEOUT,
				       200 * CT_MS));
	EXPECT_LE(200 * CT_MS, ct_now_ns() - t0);

	/* the send side: one slot frees, one goes, then the deadline */
	for (i = 0; i < B_CAP; i++)
		ASSERT_OK(b_send1(self, variant, i, CHAN_MSG_NONBLOCK));
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_slow_peer(self, variant, false, 1, 100, 0);
	for (i = 0; i < 4; i++)
		vals[i] = 100 + i;
	bt_vec_u64(vec, vals, 4);
	t0 = ct_now_ns();
	ASSERT_EQ(1, b_send(self, variant, vec, 4,
			    CHAN_MSG_WAITALL | CHAN_MSG_TIMEOUT, tmo));
	EXPECT_LE(tmo, ct_now_ns() - t0);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	info = b_info(self);
	EXPECT_EQ(B_CAP, info.depth);
	t0 = ct_now_ns();
	EXPECT_ERRNO(ETIMEDOUT, b_send(self, variant, vec, 4,
				       CHAN_MSG_WAITALL | CHAN_MSG_TIMEOUT,
				       200 * CT_MS));
	EXPECT_LE(200 * CT_MS, ct_now_ns() - t0);
	/* without WAITALL, a timeout bounds the first message's wait only */
	EXPECT_ERRNO(ETIMEDOUT, b_send(self, variant, vec, 4,
				       CHAN_MSG_TIMEOUT, 0));
}

/* NONBLOCK on an empty (full) channel: EAGAIN, nothing moved. */
TEST_F(batch, nonblock_empty_and_full)
{
	struct chan_iov vec[NV];
	uint64_t vals[NV];
	struct chan_info info;
	unsigned int i;

	memset(vals, 0xab, sizeof(vals));
	bt_vec_u64(vec, vals, NV);
	EXPECT_ERRNO(EAGAIN, b_recv(self, variant, vec, NV, CHAN_MSG_NONBLOCK,
				    0));
	EXPECT_ERRNO(EAGAIN, b_recv(self, variant, vec, NV,
				    CHAN_MSG_NONBLOCK | CHAN_MSG_WAITALL, 0));
	EXPECT_ERRNO(ETIMEDOUT, b_recv(self, variant, vec, NV,
				       CHAN_MSG_TIMEOUT, 0));
	/* a receive that took nothing wrote nothing */
	for (i = 0; i < NV; i++) {
		EXPECT_EQ(0xababababababababULL, vals[i]);
		EXPECT_EQ(sizeof(uint64_t), vec[i].len);
	}
	for (i = 0; i < NV; i++)
		vals[i] = i;
	ASSERT_EQ((int)B_CAP, b_send(self, variant, vec, NV,
				     CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(EAGAIN, b_send(self, variant, vec, NV, CHAN_MSG_NONBLOCK,
				    0));
	EXPECT_ERRNO(EAGAIN, b_send(self, variant, vec, 1, CHAN_MSG_NONBLOCK,
				    0));
	info = b_info(self);
	EXPECT_EQ(B_CAP, info.sent);
	/* flag rules as for chan_msg */
	EXPECT_ERRNO(EINVAL, b_send(self, variant, vec, 1,
				    CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT, 1));
	EXPECT_ERRNO(EINVAL, b_recv(self, variant, vec, 1, CHAN_MSG_ABSTIME,
				    0));
	EXPECT_ERRNO(EOPNOTSUPP, b_recv(self, variant, vec, 1, 1U << 20, 0));
	info = b_info(self);
	EXPECT_EQ(B_CAP, info.depth);
	EXPECT_EQ(0U, info.received);
}

/*
 * EMSGSIZE: on the first entry the error, the message's length in
 * vec[0].len and the message stays; on a later entry the count, that
 * entry's len set to the message's length, and the message stays.
 */
TEST_F(batch, emsgsize_first_and_later)
{
	unsigned char a[40], b[40], in0[B_MSG_SIZE], in1[B_MSG_SIZE];
	unsigned char big[B_MSG_SIZE + 1];
	struct chan_iov vec[2];
	struct chan_info info;

	memset(a, 'A', sizeof(a));
	memset(b, 'B', sizeof(b));
	vec[0] = (struct chan_iov){ .buf = (uintptr_t)a, .len = sizeof(a) };
	vec[1] = (struct chan_iov){ .buf = (uintptr_t)b, .len = sizeof(b) };
	ASSERT_EQ(2, b_send(self, variant, vec, 2, 0, 0));

	memset(in0, 0, sizeof(in0));
	memset(in1, 0, sizeof(in1));
	vec[0] = (struct chan_iov){ .buf = (uintptr_t)in0, .len = 10 };
	vec[1] = (struct chan_iov){ .buf = (uintptr_t)in1, .len = B_MSG_SIZE };
	EXPECT_ERRNO(EMSGSIZE, b_recv(self, variant, vec, 2, 0, 0));
	EXPECT_EQ(40U, vec[0].len);
	EXPECT_EQ(B_MSG_SIZE, vec[1].len);
	EXPECT_EQ(0, in0[0]);
	vec[0].len = 0;
	EXPECT_ERRNO(EMSGSIZE, b_recv(self, variant, vec, 2,
				      CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(40U, vec[0].len);
	info = b_info(self);
	EXPECT_EQ(2U, info.depth);
	EXPECT_EQ(0U, info.received);
	EXPECT_EQ(0U, info.dropped);

	vec[0].len = B_MSG_SIZE;
	vec[1].len = 39;
	EXPECT_EQ(1, b_recv(self, variant, vec, 2, 0, 0));
	EXPECT_EQ(40U, vec[0].len);
	EXPECT_EQ(0, memcmp(in0, a, sizeof(a)));
	EXPECT_EQ(40U, vec[1].len);
	EXPECT_EQ(0, in1[0]);
	info = b_info(self);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.dropped);
	vec[0] = (struct chan_iov){ .buf = (uintptr_t)in1, .len = 40 };
	EXPECT_EQ(1, b_recv(self, variant, vec, 1, 0, 0));
	EXPECT_EQ(0, memcmp(in1, b, sizeof(b)));

	/* sending: a message over msg_size */
	memset(big, 'x', sizeof(big));
	vec[0] = (struct chan_iov){ .buf = (uintptr_t)big, .len = sizeof(big) };
	vec[1] = (struct chan_iov){ .buf = (uintptr_t)big, .len = 1 };
	EXPECT_ERRNO(EMSGSIZE, b_send(self, variant, vec, 2, 0, 0));
	info = b_info(self);
	EXPECT_EQ(2U, info.sent);
	vec[0].len = B_MSG_SIZE;
	vec[1].len = sizeof(big);
	EXPECT_EQ(1, b_send(self, variant, vec, 2, 0, 0));
	info = b_info(self);
	EXPECT_EQ(3U, info.sent);
	EXPECT_EQ(1U, info.depth);
}

/*
 * A bad buffer: sending, EFAULT on the first entry, the count on a later
 * one. Receiving, an unmapped buffer leaves the message queued (EFAULT on
 * the first entry, the count on a later one); a buffer mapped read-only
 * loses the message, counted in dropped.
 */
TEST_F(batch, bad_buffer_first_and_later)
{
	static const int prot[] = { PROT_READ };
	struct chan_iov vec[2];
	uint64_t vals[2] = { 1, 2 }, got = 0;
	struct chan_info info;
	unsigned char *ro;

	ro = bt_pages(prot, 1);
	ASSERT_NE(NULL, ro);
	bt_vec_u64(vec, vals, 2);
	vec[0].buf = (uintptr_t)ct_bad_ptr();
	EXPECT_ERRNO(EFAULT, b_send(self, variant, vec, 2, 0, 0));
	info = b_info(self);
	EXPECT_EQ(0U, info.sent);
	vec[0].buf = (uintptr_t)&vals[0];
	vec[1].buf = (uintptr_t)ct_bad_ptr();
	EXPECT_EQ(1, b_send(self, variant, vec, 2, 0, 0));
	info = b_info(self);
	EXPECT_EQ(1U, info.sent);
	ASSERT_OK(b_send1(self, variant, 2, 0));
	ASSERT_OK(b_send1(self, variant, 3, 0));

	/* queued: 1 2 3 */
	vals[0] = vals[1] = 0;
	bt_vec_u64(vec, vals, 2);
	vec[0].buf = (uintptr_t)ct_bad_ptr();
	EXPECT_ERRNO(EFAULT, b_recv(self, variant, vec, 2, 0, 0));
	info = b_info(self);
	EXPECT_EQ(3U, info.depth);
	EXPECT_EQ(0U, info.dropped);
	vec[0].buf = (uintptr_t)&vals[0];
	vec[1].buf = (uintptr_t)ct_bad_ptr();
	EXPECT_EQ(1, b_recv(self, variant, vec, 2, 0, 0));
	EXPECT_EQ(1U, vals[0]);
	info = b_info(self);
	EXPECT_EQ(2U, info.depth);
	EXPECT_EQ(0U, info.dropped);

	/* read-only, and present: the copy-out faults after the take */
	vec[1].buf = (uintptr_t)ro;
	EXPECT_EQ(1, b_recv(self, variant, vec, 2, 0, 0));
	EXPECT_EQ(2U, vals[0]);
	info = b_info(self);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(1U, info.dropped);
	EXPECT_EQ(2U, info.received);
	ASSERT_OK(b_send1(self, variant, 4, 0));
	vec[0].buf = (uintptr_t)ro;
	EXPECT_ERRNO(EFAULT, b_recv(self, variant, vec, 2, 0, 0));
	info = b_info(self);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(2U, info.dropped);
	EXPECT_EQ(0, ro[0]);
	/* the channel still works */
	ASSERT_OK(b_send1(self, variant, 5, 0));
	ASSERT_OK(b_recv1(self, variant, &got, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(5U, got);
	munmap(ro, getpagesize());
}

/*
 * The vector itself: unreadable, or (for a receive) read-only: EFAULT
 * before any message is taken. A vector that becomes unreadable or
 * read-only after its first entry: that entry's message, and no other.
 * Sending never writes the vector: a read-only one is fine.
 */
TEST_F(batch, bad_vector)
{
	static const int prot[] = { PROT_READ | PROT_WRITE, PROT_NONE,
				    PROT_READ | PROT_WRITE, PROT_READ };
	const size_t pg = getpagesize();
	const size_t sz = sizeof(struct chan_iov);
	uint64_t vals[4] = { 11, 12, 13, 14 }, got[2] = { 0, 0 };
	struct chan_iov *ro_vec, *hole_vec, *rw_ro_vec, tmp[4];
	struct chan_info info;
	unsigned char *p;

	p = bt_pages(prot, 4);
	ASSERT_NE(NULL, p);
	/* [RW][NONE]: the first entry at the end of the RW page */
	hole_vec = (struct chan_iov *)(p + pg - sz);
	/* [RW][RO]: likewise */
	rw_ro_vec = (struct chan_iov *)(p + 3 * pg - sz);
	/* wholly read-only (filled before the mprotect below) */
	ro_vec = (struct chan_iov *)(p + 3 * pg);
	ASSERT_OK(mprotect(p + 3 * pg, pg, PROT_READ | PROT_WRITE));
	bt_vec_u64(tmp, vals, 4);
	memcpy(ro_vec, tmp, sizeof(tmp));
	ASSERT_OK(mprotect(p + 3 * pg, pg, PROT_READ));

	EXPECT_ERRNO(EFAULT, b_send(self, variant, ct_bad_ptr(), 2, 0, 0));
	info = b_info(self);
	EXPECT_EQ(0U, info.sent);
	/* read-only vector: sending only reads it */
	ASSERT_EQ(4, b_send(self, variant, ro_vec, 4, 0, 0));

	/* queued: 11 12 13 14 */
	EXPECT_ERRNO(EFAULT, b_recv(self, variant, ct_bad_ptr(), 2, 0, 0));
	bt_vec_u64(tmp, got, 2);
	ASSERT_OK(mprotect(p + 3 * pg, pg, PROT_READ | PROT_WRITE));
	memcpy(ro_vec, tmp, 2 * sz);
	ASSERT_OK(mprotect(p + 3 * pg, pg, PROT_READ));
	EXPECT_ERRNO(EFAULT, b_recv(self, variant, ro_vec, 2, 0, 0));
	EXPECT_ERRNO(EFAULT, b_recv(self, variant, ro_vec, 2,
				    CHAN_MSG_NONBLOCK, 0));
	info = b_info(self);
	EXPECT_EQ(4U, info.depth);
	EXPECT_EQ(0U, info.received);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, got[0]);

	/* the second entry unreadable: one message */
	memcpy(hole_vec, tmp, sz);
	EXPECT_EQ(1, b_recv(self, variant, hole_vec, 2, 0, 0));
	EXPECT_EQ(11U, got[0]);
	/* the second entry read-only: one message */
	memcpy(rw_ro_vec, tmp, sz);
	EXPECT_EQ(1, b_recv(self, variant, rw_ro_vec, 2, 0, 0));
	EXPECT_EQ(12U, got[0]);
	info = b_info(self);
	EXPECT_EQ(2U, info.depth);
	EXPECT_EQ(2U, info.received);
	EXPECT_EQ(0U, info.dropped);
	/* and the rest is there */
	bt_vec_u64(tmp, got, 2);
	EXPECT_EQ(2, b_recv(self, variant, tmp, 2, 0, 0));
	EXPECT_EQ(13U, got[0]);
	EXPECT_EQ(14U, got[1]);
	munmap(p, 4 * pg);
}

/*
 * Disconnect as for SEND and RECV: on an endpoint, receivers drain and
 * then get EPIPE, senders without receivers get EPIPE; by ID never.
 */
TEST_F(batch, disconnect)
{
	struct chan_iov vec[NV];
	uint64_t vals[NV] = { 1, 2, 3 };
	struct chan_info info;

	bt_vec_u64(vec, vals, NV);
	ASSERT_EQ(3, b_send(self, variant, vec, 3, 0, 0));
	close(self->sfd);
	self->sfd = -1;
	memset(vals, 0, sizeof(vals));
	/* blocking: what is queued, then (on an fd) EPIPE at once */
	ASSERT_EQ(3, b_recv(self, variant, vec, NV, 0, 0));
	EXPECT_EQ(3U, vals[2]);
	if (variant->by_id) {
		EXPECT_ERRNO(EAGAIN, b_recv(self, variant, vec, NV,
					    CHAN_MSG_NONBLOCK, 0));
	} else {
		EXPECT_ERRNO(EPIPE, b_recv(self, variant, vec, NV, 0, 0));
		EXPECT_ERRNO(EPIPE, b_recv(self, variant, vec, NV,
					   CHAN_MSG_WAITALL, 0));
		EXPECT_ERRNO(EPIPE, ct_recv_u64(self->rfd, 0, &vals[0], 0));
	}

	self->sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, self->sfd);
	close(self->rfd);
	self->rfd = -1;
	if (variant->by_id) {
		EXPECT_EQ(2, b_send(self, variant, vec, 2, 0, 0));
	} else {
		EXPECT_ERRNO(EPIPE, b_send(self, variant, vec, 2, 0, 0));
		EXPECT_ERRNO(EPIPE, ct_send_u64(self->sfd, 0, 1, 0));
	}
	info = b_info(self);
	EXPECT_EQ(variant->by_id ? 5U : 3U, info.sent);
}

/*
 * Destroy: a batch blocked on the channel wakes with EIDRM; queued
 * messages are discarded; afterwards an fd gets EIDRM and the ID is gone.
 */
TEST_F(batch, destroyed)
{
	struct bt_res *r = self->res;
	struct chan_iov vec[NV];
	uint64_t vals[NV] = { 1, 2, 3 };
	struct chan_info info;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		bt_vec_u64(vec, r->vals, NV);
		r->ret = b_recv(self, variant, vec, NV, CHAN_MSG_WAITALL, 0);
		r->err = errno;
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	bt_vec_u64(vec, vals, NV);
	ASSERT_EQ(3, b_send(self, variant, vec, 3, 0, 0));
	/* the child took them and waits for more */
	ASSERT_TRUE(b_wait_drained(self));
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(ct_destroy(self->dev, self->id));
	self->destroyed = true;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	/* three came before the destroy: the count, not the error */
	EXPECT_EQ(3, r->ret);
	EXPECT_EQ(3U, r->vals[2]);

	if (variant->by_id) {
		EXPECT_ERRNO(ENOENT, b_send(self, variant, vec, 2, 0, 0));
		EXPECT_ERRNO(ENOENT, b_recv(self, variant, vec, 2, 0, 0));
	} else {
		EXPECT_ERRNO(EIDRM, b_send(self, variant, vec, 2, 0, 0));
		EXPECT_ERRNO(EIDRM, b_recv(self, variant, vec, 2, 0, 0));
	}
	info = bt_info(self->rfd, 0);
	EXPECT_NE(0U, info.state & CHAN_STATE_DESTROYED);
	EXPECT_EQ(3U, info.received);
}

/* A waiter with nothing yet gets EIDRM; queued messages are discarded. */
TEST_F(batch, destroyed_empty_waiter_and_discard)
{
	struct bt_res *r = self->res;
	struct chan_iov vec[NV];
	uint64_t vals[NV] = { 1, 2, 3 };
	struct chan_info info;
	uint32_t other;
	int ofd;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		bt_vec_u64(vec, r->vals, NV);
		r->ret = b_recv(self, variant, vec, NV, 0, 0);
		r->err = errno;
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(ct_destroy(self->dev, self->id));
	self->destroyed = true;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(-1, r->ret);
	EXPECT_EQ(EIDRM, r->err);

	/* another channel, messages queued, destroyed */
	ASSERT_OK(ct_create_simple(self->dev, B_MSG_SIZE, B_CAP, &other));
	ofd = ct_open(self->dev, other, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, ofd);
	bt_vec_u64(vec, vals, NV);
	ASSERT_EQ(3, bt_batch(ofd, CHAN_IOC_SEND_BATCH, 0, vec, 3, 0, 0));
	ASSERT_OK(ct_destroy(self->dev, other));
	info = bt_info(ofd, 0);
	EXPECT_EQ(3U, info.discarded);
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(bt_balanced(&info));
	EXPECT_ERRNO(EIDRM, bt_batch(ofd, CHAN_IOC_SEND_BATCH, 0, vec, 3, 0, 0));
	close(ofd);
}

/*
 * Signals. The child installs a handler for SIGUSR1 without SA_RESTART
 * (restart false) or with it, then one batch receive (or send, on a full
 * channel) of NV with flags and tmo, reporting the struct as it was left.
 * With again, it then calls once more with the same struct.
 */
static void b_sig_child(FIXTURE_DATA(batch) *self,
			const FIXTURE_VARIANT(batch) *v, bool send,
			bool restart, uint32_t flags, uint64_t tmo, bool again)
{
	struct bt_res *r = self->res;
	struct chan_iov vec[NV];
	struct chan_batch b = {
		.size = sizeof(b),
		.flags = flags,
		.id = v->by_id ? self->id : 0,
		.count = NV,
		.vec = (uintptr_t)vec,
		.timeout_ns = tmo,
	};
	int fd = v->by_id ? self->dev : send ? self->sfd : self->rfd;
	unsigned long cmd = send ? CHAN_IOC_SEND_BATCH : CHAN_IOC_RECV_BATCH;

	if (restart ? ct_install_restarting(SIGUSR1, &r->hits) :
		      ct_install_interrupting(SIGUSR1))
		_exit(CT_EXIT_SETUP);
	bt_vec_u64(vec, r->vals, NV);
	r->t0 = ct_now_ns();
	r->ret = ioctl(fd, cmd, &b);
	r->err = errno;
	r->t1 = ct_now_ns();
	r->flags = b.flags;
	r->tmo = b.timeout_ns;
	if (again) {
		r->ret2 = ioctl(fd, cmd, &b);
		r->err2 = errno;
		r->t2 = ct_now_ns();
	}
	_exit(0);
}

/* A blocked batch receive interrupted by a handler: EINTR, nothing lost. */
TEST_F(batch, eintr_recv_nothing_lost)
{
	struct bt_res *r = self->res;
	struct chan_info info;
	uint64_t v = 0;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_sig_child(self, variant, false, false, 0, 0, false);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(-1, r->ret);
	EXPECT_EQ(EINTR, r->err);
	/* without a timeout the struct is left as it was */
	EXPECT_EQ(0U, r->flags);
	EXPECT_EQ(0U, r->tmo);
	ASSERT_OK(b_send1(self, variant, 77, 0));
	info = b_info(self);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.received);
	ASSERT_OK(b_recv1(self, variant, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(77U, v);
}

/* The same for a batch send blocked on a full channel. */
TEST_F(batch, eintr_send_nothing_sent)
{
	struct bt_res *r = self->res;
	struct chan_info info;
	unsigned int i;

	for (i = 0; i < B_CAP; i++)
		ASSERT_OK(b_send1(self, variant, i, CHAN_MSG_NONBLOCK));
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_sig_child(self, variant, true, false, CHAN_MSG_WAITALL, 0,
			    false);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(-1, r->ret);
	EXPECT_EQ(EINTR, r->err);
	info = b_info(self);
	EXPECT_EQ(B_CAP, info.sent);
	EXPECT_EQ(B_CAP, info.depth);
}

/*
 * With a relative timeout, EINTR leaves the deadline in the struct
 * (CHAN_MSG_ABSTIME added, WAITALL kept), as chan_msg; the same struct
 * called again times out at the original end.
 */
static void b_eintr_deadline(struct __test_metadata *_metadata,
			     FIXTURE_DATA(batch) *self,
			     const FIXTURE_VARIANT(batch) *variant,
			     uint32_t extra)
{
	const uint64_t tmo = 2 * CT_SEC;
	struct bt_res *r = self->res;
	uint64_t t_blocked, t_kill;

	memset(r, 0, sizeof(*r));
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_sig_child(self, variant, false, false,
			    CHAN_MSG_TIMEOUT | extra, tmo, true);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	t_blocked = ct_now_ns();
	ct_sleep_ms(300);
	t_kill = ct_now_ns();
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(-1, r->ret);
	EXPECT_EQ(EINTR, r->err);
	EXPECT_EQ(CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME | extra, r->flags);
	EXPECT_LE(r->t0 + tmo, r->tmo);
	EXPECT_GE(t_blocked + tmo, r->tmo);
	EXPECT_LT(t_kill, r->tmo);
	EXPECT_EQ(-1, r->ret2);
	EXPECT_EQ(ETIMEDOUT, r->err2);
	EXPECT_LE(r->tmo, r->t2);
	EXPECT_GT(tmo + CT_SEC, r->t2 - r->t0);
}

TEST_F_TIMEOUT(batch, eintr_timed_gives_deadline, 60)
{
	b_eintr_deadline(_metadata, self, variant, 0);
}

TEST_F_TIMEOUT(batch, eintr_timed_waitall_gives_deadline, 60)
{
	b_eintr_deadline(_metadata, self, variant, CHAN_MSG_WAITALL);
}

/* An SA_RESTART handler: the batch is restarted and gets the message. */
TEST_F(batch, sa_restart_restarts)
{
	struct bt_res *r = self->res;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_sig_child(self, variant, false, true, 0, 0, false);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	/* handled, and asleep in the ioctl again */
	ct_sleep_ms(100);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(b_send1(self, variant, 5, 0));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(1U, r->hits);
	EXPECT_EQ(1, r->ret);
	EXPECT_EQ(5U, r->vals[0]);
}

/*
 * A WAITALL batch that has some messages when the signal comes returns
 * their count (the error only when none moved); nothing is lost.
 */
TEST_F(batch, signal_after_some_returns_count)
{
	struct bt_res *r = self->res;
	struct chan_info info;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_sig_child(self, variant, false, false, CHAN_MSG_WAITALL, 0,
			    false);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(b_send1(self, variant, 21, 0));
	ASSERT_OK(b_send1(self, variant, 22, 0));
	/* both taken, and waiting for the third */
	ASSERT_TRUE(b_wait_drained(self));
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(2, r->ret);
	EXPECT_EQ(21U, r->vals[0]);
	EXPECT_EQ(22U, r->vals[1]);
	info = b_info(self);
	EXPECT_EQ(2U, info.received);
	EXPECT_EQ(0U, info.dropped);
}

/* ==== what only channel fds have: roles, O_NONBLOCK ==== */

FIXTURE(roles) {
	int dev;
	uint32_t id;
	int sfd, rfd;
};

FIXTURE_SETUP(roles)
{
	self->sfd = self->rfd = -1;
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, B_MSG_SIZE, B_CAP, &self->id));
	self->sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	self->rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->sfd);
	ASSERT_LE(0, self->rfd);
}

FIXTURE_TEARDOWN(roles)
{
	struct chan_info info = bt_info(self->dev, self->id);

	EXPECT_TRUE(bt_balanced(&info));
	close(self->sfd);
	close(self->rfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

/* A channel fd used for a role it was not opened with: EBADF. */
TEST_F(roles, wrong_role_ebadf)
{
	struct chan_iov vec[2];
	uint64_t vals[2] = { 1, 2 };
	struct chan_info info;

	bt_vec_u64(vec, vals, 2);
	EXPECT_ERRNO(EBADF, bt_batch(self->rfd, CHAN_IOC_SEND_BATCH, 0, vec, 2,
				     0, 0));
	EXPECT_ERRNO(EBADF, bt_batch(self->rfd, CHAN_IOC_SEND_BATCH, 0, vec, 2,
				     CHAN_MSG_NONBLOCK, 0));
	ASSERT_EQ(2, bt_batch(self->sfd, CHAN_IOC_SEND_BATCH, 0, vec, 2, 0, 0));
	EXPECT_ERRNO(EBADF, bt_batch(self->sfd, CHAN_IOC_RECV_BATCH, 0, vec, 2,
				     0, 0));
	/* a non-zero id on a channel fd */
	EXPECT_ERRNO(EINVAL, bt_batch(self->rfd, CHAN_IOC_RECV_BATCH, self->id,
				      vec, 2, 0, 0));
	info = bt_info(self->dev, self->id);
	EXPECT_EQ(2U, info.depth);
	EXPECT_EQ(2U, info.sent);
}

/* A channel fd opened O_NONBLOCK behaves as if NONBLOCK were given. */
TEST_F(roles, nonblocking_fd)
{
	struct chan_iov vec[NV];
	uint64_t vals[NV] = { 0 };
	int s, r;

	s = ct_open(self->dev, self->id, CHAN_ROLE_SEND, CHAN_OPEN_NONBLOCK, 0);
	r = ct_open(self->dev, self->id, CHAN_ROLE_RECV, CHAN_OPEN_NONBLOCK, 0);
	ASSERT_LE(0, s);
	ASSERT_LE(0, r);
	bt_vec_u64(vec, vals, NV);
	EXPECT_ERRNO(EAGAIN, bt_batch(r, CHAN_IOC_RECV_BATCH, 0, vec, NV, 0,
				      0));
	EXPECT_ERRNO(EAGAIN, bt_batch(r, CHAN_IOC_RECV_BATCH, 0, vec, NV,
				      CHAN_MSG_WAITALL, 0));
	EXPECT_EQ((int)B_CAP, bt_batch(s, CHAN_IOC_SEND_BATCH, 0, vec, NV,
				       CHAN_MSG_WAITALL, 0));
	EXPECT_ERRNO(EAGAIN, bt_batch(s, CHAN_IOC_SEND_BATCH, 0, vec, NV, 0,
				      0));
	EXPECT_EQ((int)B_CAP, bt_batch(r, CHAN_IOC_RECV_BATCH, 0, vec, NV, 0,
				       0));
	close(s);
	close(r);
}

CT_HARNESS_MAIN
