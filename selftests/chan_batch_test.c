// SPDX-License-Identifier: GPL-2.0
/*
 * Batches and calls: SEND_BATCH and RECV_BATCH (order, the lengths written
 * back, the count's limits, reserved fields, only the first message
 * waits unless CHAN_MSG_WAITALL, timeouts, EMSGSIZE and bad buffers or
 * vectors on the first or a later entry, wrong roles, disconnect,
 * destroy, signals and the relative timeout rewritten as a deadline),
 * messages larger than the kernel's stack buffer from threads sharing
 * fds, CALL (request and reply, reply_fd and reply_id checks, timeouts
 * and signals after the request went, never sent twice, EMSGSIZE on the
 * reply, a read-only struct, a ping-pong between two processes),
 * permissions by ID as an unprivileged uid, and libchan's batch and call
 * forms on endpoint handles of mappable (fast path) and plain channels.
 * Every fixture checks in its teardown that the channels' counters
 * balance: sent = received + dropped + discarded + depth.
 */
#include "chan_test_util.h"

#include <pthread.h>

#include <libchan.h>

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
	ASSERT_OK(ct_open_pair(self->dev, self->id, &self->sfd, &self->rfd));
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

/*
 * cmd (SEND_BATCH or RECV_BATCH) on the variant's path: the endpoint
 * (id 0) or /dev/chan by ID.
 */
static int b_batch(FIXTURE_DATA(batch) *self, const FIXTURE_VARIANT(batch) *v,
		   unsigned long cmd, struct chan_iov *vec, uint32_t count,
		   uint32_t flags, uint64_t tmo)
{
	int fd = cmd == CHAN_IOC_SEND_BATCH ? self->sfd : self->rfd;

	return v->by_id ? bt_batch(self->dev, cmd, self->id, vec, count,
				   flags, tmo)
			: bt_batch(fd, cmd, 0, vec, count, flags, tmo);
}

#define b_send(self, v, ...) b_batch(self, v, CHAN_IOC_SEND_BATCH, __VA_ARGS__)
#define b_recv(self, v, ...) b_batch(self, v, CHAN_IOC_RECV_BATCH, __VA_ARGS__)

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
 * A child asleep in a receive of up to NV messages on an empty channel;
 * what it got goes to self->res (ret, err, vals).
 */
static void b_blocked_receiver(struct __test_metadata *_metadata,
			       FIXTURE_DATA(batch) *self,
			       const FIXTURE_VARIANT(batch) *v)
{
	struct bt_res *r = self->res;
	struct chan_iov vec[NV];

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		bt_vec_u64(vec, r->vals, NV);
		r->ret = b_recv(self, v, vec, NV, 0, 0);
		r->err = errno;
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
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
	b_blocked_receiver(_metadata, self, variant);
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

/*
 * A child that sends (or receives) n messages, one every ms, from first
 * on: its pid (or -1).
 */
static pid_t b_slow_peer(FIXTURE_DATA(batch) *self,
			 const FIXTURE_VARIANT(batch) *v, bool send,
			 unsigned int n, unsigned int ms, uint64_t first)
{
	uint64_t val;
	unsigned int i;
	pid_t pid = bt_fork();

	if (pid)
		return pid;
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

/*
 * The send side of the WAITALL tests: a full channel, a child receiving
 * n of it slowly, and the four messages 100..103 ready in vec.
 */
static void b_full_slow_receiver(struct __test_metadata *_metadata,
				 FIXTURE_DATA(batch) *self,
				 const FIXTURE_VARIANT(batch) *v,
				 unsigned int n, uint64_t *vals,
				 struct chan_iov *vec)
{
	unsigned int i;

	for (i = 0; i < B_CAP; i++)
		ASSERT_OK(b_send1(self, v, i, CHAN_MSG_NONBLOCK));
	self->pid[0] = b_slow_peer(self, v, false, n, 100, 0);
	ASSERT_LT(0, self->pid[0]);
	for (i = 0; i < 4; i++)
		vals[i] = 100 + i;
	bt_vec_u64(vec, vals, 4);
}

/* CHAN_MSG_WAITALL waits for every message (slot), fed slowly. */
TEST_F(batch, waitall_waits_for_all)
{
	struct chan_iov vec[NV];
	uint64_t vals[NV], t0;
	unsigned int i;

	self->pid[0] = b_slow_peer(self, variant, true, 4, 100, 50);
	ASSERT_LT(0, self->pid[0]);
	bt_vec_u64(vec, vals, NV);
	t0 = ct_now_ns();
	ASSERT_EQ(4, b_recv(self, variant, vec, 4, CHAN_MSG_WAITALL, 0));
	EXPECT_LE(3 * 100 * CT_MS, ct_now_ns() - t0);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(50U + i, vals[i]);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));

	b_full_slow_receiver(_metadata, self, variant, 4, vals, vec);
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

	self->pid[0] = b_slow_peer(self, variant, true, 2, 100, 7);
	ASSERT_LT(0, self->pid[0]);
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
	b_full_slow_receiver(_metadata, self, variant, 1, vals, vec);
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

	b_blocked_receiver(_metadata, self, variant);
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

/* b_sig_child() in a child, seen asleep in its call. */
static void b_sig_asleep(struct __test_metadata *_metadata,
			 FIXTURE_DATA(batch) *self,
			 const FIXTURE_VARIANT(batch) *v, bool send,
			 bool restart, uint32_t flags, uint64_t tmo,
			 bool again)
{
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		b_sig_child(self, v, send, restart, flags, tmo, again);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
}

/* A blocked batch receive interrupted by a handler: EINTR, nothing lost. */
TEST_F(batch, eintr_recv_nothing_lost)
{
	struct bt_res *r = self->res;
	struct chan_info info;
	uint64_t v = 0;

	b_sig_asleep(_metadata, self, variant, false, false, 0, 0, false);
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
	b_sig_asleep(_metadata, self, variant, true, false, CHAN_MSG_WAITALL, 0,
		     false);
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
	b_sig_asleep(_metadata, self, variant, false, false,
		     CHAN_MSG_TIMEOUT | extra, tmo, true);
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

	b_sig_asleep(_metadata, self, variant, false, true, 0, 0, false);
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

	b_sig_asleep(_metadata, self, variant, false, false, CHAN_MSG_WAITALL,
		     0, false);
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
	ASSERT_OK(ct_open_pair(self->dev, self->id, &self->sfd, &self->rfd));
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

/* ==== big messages: the bounce buffers, fds shared by threads ==== */

/*
 * Messages larger than the kernel's stack buffer go through the file's
 * bounce buffer (or a private one while another call holds it): batches
 * and calls with such messages, from threads sharing the fds at once.
 * Each message carries its sequence number and a pattern derived from it.
 */
#define BIG_MSG		8192U
#define BIG_PER_THREAD	200U
#define BIG_THREADS	2

struct big_thread {
	int fd;
	unsigned int first;	/* sender: the first sequence number */
	unsigned int got;	/* receiver: messages received */
	unsigned int bad;	/* receiver: corrupt messages */
	unsigned char seen[BIG_THREADS * BIG_PER_THREAD];
	int err;
};

static uint32_t big_len(unsigned int seq)
{
	return 257 + (seq * 977) % (BIG_MSG - 257 + 1);
}

static void big_fill(unsigned char *p, unsigned int seq)
{
	uint32_t len = big_len(seq), i;

	memcpy(p, &seq, sizeof(seq));
	for (i = sizeof(seq); i < len; i++)
		p[i] = (unsigned char)(seq * 31 + i);
}

/* The sequence number of a good message, or -1. */
static int big_check(const unsigned char *p, uint32_t len)
{
	unsigned int seq, i;

	if (len < sizeof(seq))
		return -1;
	memcpy(&seq, p, sizeof(seq));
	if (seq >= BIG_THREADS * BIG_PER_THREAD || len != big_len(seq))
		return -1;
	for (i = sizeof(seq); i < len; i++)
		if (p[i] != (unsigned char)(seq * 31 + i))
			return -1;
	return (int)seq;
}

static void *big_sender(void *arg)
{
	struct big_thread *t = arg;
	unsigned char *bufs = malloc(4 * BIG_MSG);
	struct chan_iov vec[4];
	unsigned int done = 0, i, n;
	int ret;

	if (!bufs) {
		t->err = ENOMEM;
		return NULL;
	}
	while (done < BIG_PER_THREAD) {
		n = BIG_PER_THREAD - done < 4 ? BIG_PER_THREAD - done : 4;
		memset(vec, 0, sizeof(vec));
		for (i = 0; i < n; i++) {
			big_fill(bufs + i * BIG_MSG, t->first + done + i);
			vec[i].buf = (uintptr_t)(bufs + i * BIG_MSG);
			vec[i].len = big_len(t->first + done + i);
		}
		ret = bt_batch(t->fd, CHAN_IOC_SEND_BATCH, 0, vec, n,
			       CHAN_MSG_TIMEOUT, 20 * CT_SEC);
		if (ret <= 0) {
			t->err = ret < 0 ? errno : EIO;
			break;
		}
		done += ret;
	}
	free(bufs);
	return NULL;
}

static void *big_receiver(void *arg)
{
	struct big_thread *t = arg;
	unsigned char *bufs = malloc(4 * BIG_MSG);
	struct chan_iov vec[4];
	int ret, i, seq;

	if (!bufs) {
		t->err = ENOMEM;
		return NULL;
	}
	for (;;) {
		for (i = 0; i < 4; i++)
			vec[i] = (struct chan_iov){
				.buf = (uintptr_t)(bufs + i * BIG_MSG),
				.len = BIG_MSG };
		ret = bt_batch(t->fd, CHAN_IOC_RECV_BATCH, 0, vec, 4,
			       CHAN_MSG_TIMEOUT, 20 * CT_SEC);
		if (ret < 0) {
			if (errno != EPIPE)
				t->err = errno;
			break;
		}
		for (i = 0; i < ret; i++) {
			seq = big_check(bufs + i * BIG_MSG, vec[i].len);
			if (seq < 0)
				t->bad++;
			else
				t->seen[seq]++;
			t->got++;
		}
	}
	free(bufs);
	return NULL;
}

FIXTURE(big) {
	int unused;
};

FIXTURE_SETUP(big)
{
}

FIXTURE_TEARDOWN(big)
{
}

TEST_F_TIMEOUT(big, messages_through_shared_fds, 300)
{
	struct big_thread snd[BIG_THREADS], rcv[BIG_THREADS];
	pthread_t st[BIG_THREADS], rt[BIG_THREADS];
	unsigned char *req, *rep;
	unsigned int i, seq, total = 0;
	struct chan_info info;
	struct chan_call c;
	int dev, sfd, rfd, both;
	uint32_t id;

	dev = ct_dev_open();
	ASSERT_LE(0, dev);
	ASSERT_OK(ct_create_simple(dev, BIG_MSG, 4, &id));
	ASSERT_OK(ct_open_pair(dev, id, &sfd, &rfd));
	memset(snd, 0, sizeof(snd));
	memset(rcv, 0, sizeof(rcv));
	for (i = 0; i < BIG_THREADS; i++) {
		rcv[i].fd = rfd;
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, big_receiver,
					    &rcv[i]));
	}
	for (i = 0; i < BIG_THREADS; i++) {
		snd[i].fd = sfd;
		snd[i].first = i * BIG_PER_THREAD;
		ASSERT_EQ(0, pthread_create(&st[i], NULL, big_sender,
					    &snd[i]));
	}
	for (i = 0; i < BIG_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(st[i], NULL));
		EXPECT_EQ(0, snd[i].err);
	}
	/* the last sender gone: the receivers drain, then EPIPE */
	close(sfd);
	for (i = 0; i < BIG_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(rt[i], NULL));
		EXPECT_EQ(0, rcv[i].err);
		EXPECT_EQ(0U, rcv[i].bad);
		total += rcv[i].got;
	}
	EXPECT_EQ(BIG_THREADS * BIG_PER_THREAD, total);
	for (seq = 0; seq < BIG_THREADS * BIG_PER_THREAD; seq++)
		EXPECT_EQ(1, rcv[0].seen[seq] + rcv[1].seen[seq]);
	info = bt_info(dev, id);
	EXPECT_EQ(total, info.sent);
	EXPECT_EQ(total, info.received);
	EXPECT_TRUE(bt_balanced(&info));

	/* a call of big messages on one fd of both roles: the echo */
	both = ct_open(dev, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, both);
	req = malloc(BIG_MSG);
	rep = calloc(1, BIG_MSG);
	ASSERT_NE(NULL, req);
	ASSERT_NE(NULL, rep);
	big_fill(req, 1);
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.reply_fd = both;
	c.send_len = big_len(1);
	c.send_buf = (uintptr_t)req;
	c.recv_buf = (uintptr_t)rep;
	c.recv_len = BIG_MSG;
	ASSERT_EQ(0, ioctl(both, CHAN_IOC_CALL, &c));
	EXPECT_EQ(big_len(1), c.recv_len);
	EXPECT_EQ(1, big_check(rep, c.recv_len));
	/* and by ID */
	c.reply_fd = -1;
	c.id = c.reply_id = id;
	c.recv_len = BIG_MSG;
	memset(rep, 0, BIG_MSG);
	ASSERT_EQ(0, ioctl(dev, CHAN_IOC_CALL, &c));
	EXPECT_EQ(1, big_check(rep, c.recv_len));
	free(req);
	free(rep);
	info = bt_info(dev, id);
	EXPECT_TRUE(bt_balanced(&info));
	EXPECT_EQ(0U, info.depth);
	close(both);
	close(rfd);
	ct_destroy(dev, id);
	close(dev);
}

/* ==== CALL, on channel fds and by ID ==== */

FIXTURE(call) {
	int dev;
	uint32_t a, b;		/* requests go on a, replies on b */
	int cs, cr;		/* client: send on a, receive on b */
	int sr, ss;		/* server: receive on a, send on b */
	struct bt_res *res;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_VARIANT(call) {
	bool by_id;
};

FIXTURE_VARIANT_ADD(call, fd) {
	.by_id = false,
};

FIXTURE_VARIANT_ADD(call, id) {
	.by_id = true,
};

FIXTURE_SETUP(call)
{
	self->cs = self->cr = self->sr = self->ss = -1;
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, B_MSG_SIZE, B_CAP, &self->a));
	ASSERT_OK(ct_create_simple(self->dev, B_MSG_SIZE, B_CAP, &self->b));
	self->cs = ct_open(self->dev, self->a, CHAN_ROLE_SEND, 0, 0);
	self->sr = ct_open(self->dev, self->a, CHAN_ROLE_RECV, 0, 0);
	self->cr = ct_open(self->dev, self->b, CHAN_ROLE_RECV, 0, 0);
	self->ss = ct_open(self->dev, self->b, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, self->cs);
	ASSERT_LE(0, self->sr);
	ASSERT_LE(0, self->cr);
	ASSERT_LE(0, self->ss);
	self->res = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->res);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(call)
{
	struct chan_info info;

	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	info = bt_info(self->dev, self->a);
	EXPECT_TRUE(bt_balanced(&info));
	info = bt_info(self->dev, self->b);
	EXPECT_TRUE(bt_balanced(&info));
	close(self->cs);
	close(self->cr);
	close(self->sr);
	close(self->ss);
	ct_destroy(self->dev, self->a);
	ct_destroy(self->dev, self->b);
	close(self->dev);
	munmap(self->res, 4096);
}

/* A struct for the variant: on the client fd with reply_fd, or by ID. */
static struct chan_call c_make(FIXTURE_DATA(call) *self,
			       const FIXTURE_VARIANT(call) *v,
			       const void *req, uint32_t req_len, void *buf,
			       uint32_t cap, uint32_t flags, uint64_t tmo)
{
	struct chan_call c = {
		.size = sizeof(c),
		.flags = flags,
		.id = v->by_id ? self->a : 0,
		.reply_id = v->by_id ? self->b : 0,
		.reply_fd = v->by_id ? -1 : self->cr,
		.send_len = req_len,
		.send_buf = (uintptr_t)req,
		.recv_buf = (uintptr_t)buf,
		.recv_len = cap,
		/* never left as is: the kernel writes 0 or 1 */
		.out_sent = 7,
		.timeout_ns = tmo,
	};

	return c;
}

static int c_fd(FIXTURE_DATA(call) *self, const FIXTURE_VARIANT(call) *v)
{
	return v->by_id ? self->dev : self->cs;
}

static int c_call(FIXTURE_DATA(call) *self, const FIXTURE_VARIANT(call) *v,
		  struct chan_call *c)
{
	return ioctl(c_fd(self, v), CHAN_IOC_CALL, c);
}

/* The server's side on the variant's path. */
static int c_srv_recv(FIXTURE_DATA(call) *self, const FIXTURE_VARIANT(call) *v,
		      uint64_t *val, uint32_t flags)
{
	return v->by_id ? ct_recv_u64(self->dev, self->a, val, flags)
			: ct_recv_u64(self->sr, 0, val, flags);
}

static int c_srv_send(FIXTURE_DATA(call) *self, const FIXTURE_VARIANT(call) *v,
		      uint64_t val)
{
	return v->by_id ? ct_send_u64(self->dev, self->b, val, 0)
			: ct_send_u64(self->ss, 0, val, 0);
}

/* A server child: n requests in order from first, each answered with 2x+1. */
static void c_server(FIXTURE_DATA(call) *self, const FIXTURE_VARIANT(call) *v,
		     unsigned int n, uint64_t first)
{
	uint64_t val;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (c_srv_recv(self, v, &val, 0))
			_exit(errno);
		if (val != first + i)
			_exit(CT_EXIT_BADDATA);
		if (c_srv_send(self, v, 2 * val + 1))
			_exit(errno);
	}
	_exit(0);
}

TEST_F(call, request_and_reply)
{
	uint64_t req = 20, rep = 0;
	struct chan_info info;
	struct chan_call c;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		c_server(self, variant, 1, 20);
	c = c_make(self, variant, &req, sizeof(req), &rep, B_MSG_SIZE, 0, 0);
	ASSERT_EQ(0, c_call(self, variant, &c));
	EXPECT_EQ(1U, c.out_sent);
	EXPECT_EQ(sizeof(rep), c.recv_len);
	EXPECT_EQ(41U, rep);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.received);
	info = bt_info(self->dev, self->b);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.received);

	/* a reply already queued: the call returns it, the request stays */
	ASSERT_OK(c_srv_send(self, variant, 99));
	c = c_make(self, variant, &req, sizeof(req), &rep, B_MSG_SIZE,
		   CHAN_MSG_NONBLOCK, 0);
	ASSERT_EQ(0, c_call(self, variant, &c));
	EXPECT_EQ(99U, rep);
	EXPECT_EQ(1U, c.out_sent);
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(1U, info.depth);
	ASSERT_OK(c_srv_recv(self, variant, &rep, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(20U, rep);
}

/*
 * The request and the reply on one channel (reply_fd the calling fd
 * itself, or reply_id == id): the receive takes the oldest message, here
 * the request itself.
 */
TEST_F(call, reply_on_the_same_channel)
{
	unsigned char req[24], rep[B_MSG_SIZE];
	struct chan_info info;
	struct chan_call c;
	int both = -1;

	memset(req, 'r', sizeof(req));
	memset(rep, 0, sizeof(rep));
	c = c_make(self, variant, req, sizeof(req), rep, sizeof(rep), 0, 0);
	if (variant->by_id) {
		c.reply_id = self->a;
		ASSERT_EQ(0, ioctl(self->dev, CHAN_IOC_CALL, &c));
	} else {
		both = ct_open(self->dev, self->a,
			       CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
		ASSERT_LE(0, both);
		c.reply_fd = both;
		ASSERT_EQ(0, ioctl(both, CHAN_IOC_CALL, &c));
	}
	EXPECT_EQ(1U, c.out_sent);
	EXPECT_EQ(sizeof(req), c.recv_len);
	EXPECT_EQ(0, memcmp(req, rep, sizeof(req)));
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.received);
	EXPECT_EQ(0U, info.depth);
	if (both >= 0)
		close(both);
}

/*
 * A bad reply channel: EBADF (fd not a channel fd, or without the receive
 * role) or EINVAL (the fields of the other form), ENOENT (no such reply
 * ID); in every case out_sent 0 and nothing sent.
 */
TEST_F(call, bad_reply_nothing_sent)
{
	uint64_t req = 1, rep = 0;
	struct chan_info info;
	struct chan_call c;
	int pfd[2], i;

	ASSERT_OK(pipe(pfd));
	{
		/* each case: one field of a valid call set to value */
		enum { REPLY_FD, REPLY_ID, ID };
		const struct {
			int field;
			int64_t value;
			int err;
		} on_fd[] = {
			{ REPLY_FD, self->dev, EBADF },
			{ REPLY_FD, pfd[0], EBADF },
			{ REPLY_FD, -1, EBADF },
			{ REPLY_FD, 1000, EBADF },
			{ REPLY_FD, self->ss, EBADF },
			{ REPLY_FD, self->cs, EBADF },
			/* the fields of the ID form on a channel fd */
			{ REPLY_ID, self->b, EINVAL },
			{ ID, self->a, EINVAL },
		}, by_id[] = {
			/* a reply fd with the ID form */
			{ REPLY_FD, 0, EINVAL },
			{ REPLY_FD, self->cr, EINVAL },
			{ REPLY_FD, pfd[0], EINVAL },
			{ REPLY_FD, -2, EINVAL },
			/* no such channel */
			{ REPLY_ID, 0, ENOENT },
			{ REPLY_ID, 0x7ffffff0, ENOENT },
			{ ID, 0x7ffffff0, ENOENT },
		}, *cases = variant->by_id ? by_id : on_fd;
		int n = variant->by_id ? ARRAY_SIZE(by_id) : ARRAY_SIZE(on_fd);

		for (i = 0; i < n; i++) {
			c = c_make(self, variant, &req, sizeof(req), &rep,
				   sizeof(rep), 0, 0);
			if (cases[i].field == REPLY_FD)
				c.reply_fd = cases[i].value;
			else if (cases[i].field == REPLY_ID)
				c.reply_id = cases[i].value;
			else
				c.id = cases[i].value;
			EXPECT_ERRNO_CTX(cases[i].err,
					 c_call(self, variant, &c),
					 "case %d", i);
			EXPECT_EQ(0U, c.out_sent);
		}
	}
	if (!variant->by_id) {
		/* the calling fd without the send role */
		c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
			   0, 0);
		EXPECT_ERRNO(EBADF, ioctl(self->sr, CHAN_IOC_CALL, &c));
		EXPECT_EQ(0U, c.out_sent);
	}
	/* WAITALL is for batches */
	c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
		   CHAN_MSG_WAITALL, 0);
	EXPECT_ERRNO(EOPNOTSUPP, c_call(self, variant, &c));
	EXPECT_EQ(0U, c.out_sent);
	/* a request over msg_size */
	c = c_make(self, variant, &req, B_MSG_SIZE + 1, &rep, sizeof(rep), 0,
		   0);
	EXPECT_ERRNO(EMSGSIZE, c_call(self, variant, &c));
	EXPECT_EQ(0U, c.out_sent);
	/* an unreadable request */
	c = c_make(self, variant, ct_bad_ptr(), 8, &rep, sizeof(rep), 0, 0);
	EXPECT_ERRNO(EFAULT, c_call(self, variant, &c));
	EXPECT_EQ(0U, c.out_sent);
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(0U, info.sent);
	info = bt_info(self->dev, self->b);
	EXPECT_EQ(0U, info.received);
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * No reply by the deadline: ETIMEDOUT, out_sent 1, and the request is
 * queued once. NONBLOCK: EAGAIN, likewise. A full request channel with
 * NONBLOCK: EAGAIN and out_sent 0.
 */
TEST_F(call, timeout_request_sent_once)
{
	uint64_t req = 5, rep = 0, t0, dt;
	struct chan_info info;
	struct chan_call c;
	unsigned int i;

	c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
		   CHAN_MSG_TIMEOUT, 300 * CT_MS);
	t0 = ct_now_ns();
	EXPECT_ERRNO(ETIMEDOUT, c_call(self, variant, &c));
	dt = ct_now_ns() - t0;
	EXPECT_LE(300 * CT_MS, dt);
	EXPECT_GT(5 * CT_SEC, dt);
	EXPECT_EQ(1U, c.out_sent);
	/* a relative timeout that simply expired is not rewritten */
	EXPECT_EQ(CHAN_MSG_TIMEOUT, c.flags);
	EXPECT_EQ(300 * CT_MS, c.timeout_ns);
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.depth);
	ASSERT_OK(c_srv_recv(self, variant, &rep, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(5U, rep);
	EXPECT_ERRNO(EAGAIN, c_srv_recv(self, variant, &rep,
					CHAN_MSG_NONBLOCK));

	req = 6;
	c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
		   CHAN_MSG_NONBLOCK, 0);
	EXPECT_ERRNO(EAGAIN, c_call(self, variant, &c));
	EXPECT_EQ(1U, c.out_sent);
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(1U, info.depth);

	for (i = 1; i < B_CAP; i++)
		ASSERT_OK(ct_send_u64(self->cs, 0, 100 + i, 0));
	c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
		   CHAN_MSG_NONBLOCK, 0);
	EXPECT_ERRNO(EAGAIN, c_call(self, variant, &c));
	EXPECT_EQ(0U, c.out_sent);
	c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
		   CHAN_MSG_TIMEOUT, 100 * CT_MS);
	EXPECT_ERRNO(ETIMEDOUT, c_call(self, variant, &c));
	EXPECT_EQ(0U, c.out_sent);
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(B_CAP + 1, info.sent);
	EXPECT_EQ(B_CAP, info.depth);
}

/*
 * A child blocked in CALL waiting for the reply; how is the signal
 * delivered: 0 a handler without SA_RESTART, 1 with SA_RESTART, 2 a stop
 * and continue. Every way: EINTR (never a restart, which would send the
 * request again), out_sent 1, one request on the channel.
 */
static void c_signal_case(struct __test_metadata *_metadata,
			  FIXTURE_DATA(call) *self,
			  const FIXTURE_VARIANT(call) *variant, int how,
			  uint32_t flags, uint64_t tmo)
{
	struct bt_res *r = self->res;
	struct chan_info info;
	uint64_t v;

	memset(r, 0, sizeof(*r));
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		uint64_t req = 300 + how, rep = 0;
		struct chan_call c = c_make(self, variant, &req, sizeof(req),
					    &rep, sizeof(rep), flags, tmo);

		if (how == 1 ? ct_install_restarting(SIGUSR1, &r->hits) :
			       ct_install_interrupting(SIGUSR1))
			_exit(CT_EXIT_SETUP);
		r->ret = c_call(self, variant, &c);
		r->err = errno;
		r->out_sent = c.out_sent;
		r->flags = c.flags;
		r->tmo = c.timeout_ns;
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	if (how == 2) {
		ASSERT_OK(kill(self->pid[0], SIGSTOP));
		ASSERT_TRUE(ct_wait_stopped(self->pid[0], WAIT_MS));
		ASSERT_OK(kill(self->pid[0], SIGCONT));
	} else {
		ASSERT_OK(kill(self->pid[0], SIGUSR1));
	}
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(-1, r->ret);
	EXPECT_EQ(EINTR, r->err);
	EXPECT_EQ(1U, r->out_sent);
	if (how == 1)
		EXPECT_EQ(1U, r->hits);
	/* the request went once */
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.depth);
	ASSERT_OK(c_srv_recv(self, variant, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(300U + how, v);
	info = bt_info(self->dev, self->b);
	EXPECT_EQ(0U, info.received);
}

TEST_F(call, eintr_waiting_for_reply)
{
	c_signal_case(_metadata, self, variant, 0, 0, 0);
}

TEST_F(call, sa_restart_handler_still_eintr)
{
	c_signal_case(_metadata, self, variant, 1, 0, 0);
}

TEST_F(call, stop_cont_not_resent)
{
	c_signal_case(_metadata, self, variant, 2, 0, 0);
}

TEST_F(call, eintr_with_timeout_not_resent)
{
	c_signal_case(_metadata, self, variant, 0, CHAN_MSG_TIMEOUT,
		      60 * CT_SEC);
}

/*
 * A blocked call whose request channel is full: a signal there is before
 * the request went, so the call restarts (SA_RESTART) and then sends once.
 */
TEST_F(call, signal_while_sending_restarts)
{
	struct bt_res *r = self->res;
	struct chan_info info;
	uint64_t v;
	unsigned int i;

	for (i = 0; i < B_CAP; i++)
		ASSERT_OK(ct_send_u64(self->cs, 0, i, 0));
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		uint64_t req = 500, rep = 0;
		struct chan_call c = c_make(self, variant, &req, sizeof(req),
					    &rep, sizeof(rep), 0, 0);

		if (ct_install_restarting(SIGUSR1, &r->hits))
			_exit(CT_EXIT_SETUP);
		r->ret = c_call(self, variant, &c);
		r->err = errno;
		r->out_sent = c.out_sent;
		r->vals[0] = rep;
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ct_sleep_ms(100);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(B_CAP, info.sent);
	/* make room: the request goes; then the reply */
	ASSERT_OK(c_srv_recv(self, variant, &v, 0));
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(c_srv_send(self, variant, 501));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(1U, r->hits);
	EXPECT_EQ(0, r->ret);
	EXPECT_EQ(1U, r->out_sent);
	EXPECT_EQ(501U, r->vals[0]);
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(B_CAP + 1, info.sent);
	for (i = 1; i < B_CAP; i++) {
		ASSERT_OK(c_srv_recv(self, variant, &v, CHAN_MSG_NONBLOCK));
		EXPECT_EQ(i, v);
	}
	ASSERT_OK(c_srv_recv(self, variant, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(500U, v);
	EXPECT_ERRNO(EAGAIN, c_srv_recv(self, variant, &v, CHAN_MSG_NONBLOCK));
}

/*
 * EMSGSIZE on the reply: its length in recv_len, it stays queued. A bad
 * reply buffer: EFAULT, the reply stays queued too.
 */
TEST_F(call, reply_emsgsize_and_efault)
{
	unsigned char big[40], rep[B_MSG_SIZE];
	uint64_t req = 3;
	struct chan_info info;
	struct chan_call c;

	memset(big, 'R', sizeof(big));
	if (variant->by_id)
		ASSERT_OK(ct_send(self->dev, self->b, big, sizeof(big), 0, 0));
	else
		ASSERT_OK(ct_send(self->ss, 0, big, sizeof(big), 0, 0));
	memset(rep, 0, sizeof(rep));
	c = c_make(self, variant, &req, sizeof(req), rep, 10, 0, 0);
	EXPECT_ERRNO(EMSGSIZE, c_call(self, variant, &c));
	EXPECT_EQ(1U, c.out_sent);
	EXPECT_EQ(40U, c.recv_len);
	EXPECT_EQ(0, rep[0]);
	info = bt_info(self->dev, self->b);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.dropped);

	c = c_make(self, variant, &req, sizeof(req), ct_bad_ptr(), sizeof(rep),
		   0, 0);
	EXPECT_ERRNO(EFAULT, c_call(self, variant, &c));
	EXPECT_EQ(1U, c.out_sent);
	info = bt_info(self->dev, self->b);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.dropped);

	c = c_make(self, variant, &req, sizeof(req), rep, sizeof(rep), 0, 0);
	EXPECT_EQ(0, c_call(self, variant, &c));
	EXPECT_EQ(40U, c.recv_len);
	EXPECT_EQ(0, memcmp(rep, big, sizeof(big)));
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(3U, info.sent);
	EXPECT_EQ(3U, info.depth);
}

/* A read-only or unreadable struct: EFAULT, nothing sent or taken. */
TEST_F(call, readonly_struct_nothing_sent)
{
	static const int prot[] = { PROT_READ };
	uint64_t req = 8, rep = 0;
	struct chan_info info;
	struct chan_call c, *ro;
	unsigned char *p;

	ASSERT_OK(c_srv_send(self, variant, 77));
	p = bt_pages(prot, 1);
	ASSERT_NE(NULL, p);
	c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep), 0, 0);
	c.out_sent = 0;
	ASSERT_OK(mprotect(p, getpagesize(), PROT_READ | PROT_WRITE));
	ro = (struct chan_call *)p;
	*ro = c;
	ASSERT_OK(mprotect(p, getpagesize(), PROT_READ));
	EXPECT_ERRNO(EFAULT, ioctl(c_fd(self, variant), CHAN_IOC_CALL, ro));
	EXPECT_ERRNO(EFAULT, ioctl(c_fd(self, variant), CHAN_IOC_CALL,
				   ct_bad_ptr()));
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(0U, info.sent);
	info = bt_info(self->dev, self->b);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.received);
	EXPECT_EQ(0U, rep);
	munmap(p, getpagesize());
}

/*
 * Disconnect and destroy (fd): no receiver of requests: EPIPE before
 * sending; no sender of replies left and nothing queued: EPIPE after.
 * Destroying the reply channel wakes a waiting call with EIDRM.
 */
TEST_F(call, disconnect_and_destroy)
{
	struct bt_res *r = self->res;
	uint64_t req = 1, rep = 0;
	struct chan_info info;
	struct chan_call c;

	if (!variant->by_id) {
		close(self->ss);
		self->ss = -1;
		c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
			   0, 0);
		EXPECT_ERRNO(EPIPE, c_call(self, variant, &c));
		EXPECT_EQ(1U, c.out_sent);
		close(self->sr);
		self->sr = -1;
		c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
			   0, 0);
		EXPECT_ERRNO(EPIPE, c_call(self, variant, &c));
		EXPECT_EQ(0U, c.out_sent);
		info = bt_info(self->dev, self->a);
		EXPECT_EQ(1U, info.sent);
		self->ss = ct_open(self->dev, self->b, CHAN_ROLE_SEND, 0, 0);
		self->sr = ct_open(self->dev, self->a, CHAN_ROLE_RECV, 0, 0);
		ASSERT_LE(0, self->ss);
		ASSERT_LE(0, self->sr);
	}
	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
			   0, 0);
		r->ret = c_call(self, variant, &c);
		r->err = errno;
		r->out_sent = c.out_sent;
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(ct_destroy(self->dev, self->b));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(-1, r->ret);
	EXPECT_EQ(EIDRM, r->err);
	EXPECT_EQ(1U, r->out_sent);
	ASSERT_OK(ct_create_simple(self->dev, B_MSG_SIZE, B_CAP, &self->b));
}

/* Many calls between two processes: each request once, in order. */
TEST_F_TIMEOUT(call, ping_pong, 300)
{
	const unsigned int n = 1000;
	struct chan_info info;
	uint64_t req, rep;
	struct chan_call c;
	unsigned int i;

	self->pid[0] = bt_fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		c_server(self, variant, n, 1000);
	for (i = 0; i < n; i++) {
		req = 1000 + i;
		rep = 0;
		c = c_make(self, variant, &req, sizeof(req), &rep, sizeof(rep),
			   CHAN_MSG_TIMEOUT, 30 * CT_SEC);
		ASSERT_EQ(0, c_call(self, variant, &c));
		ASSERT_EQ(sizeof(rep), c.recv_len);
		ASSERT_EQ(2 * req + 1, rep);
	}
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	info = bt_info(self->dev, self->a);
	EXPECT_EQ(n, info.sent);
	EXPECT_EQ(n, info.received);
	EXPECT_EQ(0U, info.depth);
	info = bt_info(self->dev, self->b);
	EXPECT_EQ(n, info.sent);
	EXPECT_EQ(n, info.received);
	EXPECT_EQ(0U, info.depth);
}

/* ==== permissions by ID, as an unprivileged uid ==== */

FIXTURE(perm) {
	int dev;
	uint32_t none, wo, ro;	/* modes 0600, 0622, 0644 */
	mode_t dev_mode;
	struct bt_res *res;	/* res[0..] one per check */
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(perm)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create(self->dev, B_MSG_SIZE, B_CAP, 0600, 0, 0, NULL,
			    &self->none));
	ASSERT_OK(ct_create(self->dev, B_MSG_SIZE, B_CAP, 0622, 0, 0, NULL,
			    &self->wo));
	ASSERT_OK(ct_create(self->dev, B_MSG_SIZE, B_CAP, 0644, 0, 0, NULL,
			    &self->ro));
	self->dev_mode = ct_dev_allow_all();
	self->res = ct_shared_alloc(4096 * 4);
	ASSERT_NE(NULL, self->res);
}

FIXTURE_TEARDOWN(perm)
{
	const uint32_t ids[] = { self->none, self->wo, self->ro };
	struct chan_info info;
	unsigned int i;

	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		info = bt_info(self->dev, ids[i]);
		EXPECT_TRUE(bt_balanced(&info));
		ct_destroy(self->dev, ids[i]);
	}
	ct_dev_restore(self->dev_mode);
	close(self->dev);
	munmap(self->res, 4096 * 4);
}

/* Run fn as uid CT_NOBODY in a child; its exit status. */
static int perm_as_nobody(FIXTURE_DATA(perm) *self,
			  void (*fn)(FIXTURE_DATA(perm) *, int))
{
	pid_t pid = bt_fork();
	int dev;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(self->dev);
		if (ct_drop_privs(NULL, 0))
			_exit(CT_EXIT_SETUP);
		dev = ct_dev_open();
		if (dev < 0)
			_exit(CT_EXIT_SETUP);
		fn(self, dev);
		_exit(0);
	}
	self->pid[0] = pid;
	return ct_reap(&self->pid[0], WAIT_MS);
}

static void perm_batches(FIXTURE_DATA(perm) *self, int dev)
{
	struct bt_res *r = self->res;
	const uint32_t ids[] = { self->none, self->wo, self->ro };
	uint64_t vals[2] = { 1, 2 };
	struct chan_iov vec[2];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		bt_vec_u64(vec, vals, 2);
		r[2 * i].ret = bt_batch(dev, CHAN_IOC_SEND_BATCH, ids[i], vec,
					2, CHAN_MSG_NONBLOCK, 0);
		r[2 * i].err = errno;
		r[2 * i + 1].ret = bt_batch(dev, CHAN_IOC_RECV_BATCH, ids[i],
					    vec, 2, CHAN_MSG_NONBLOCK, 0);
		r[2 * i + 1].err = errno;
	}
}

/* SEND_BATCH needs write, RECV_BATCH read permission; by ID: EACCES. */
TEST_F(perm, batches_by_id)
{
	struct bt_res *r = self->res;
	struct chan_info info;

	/* something to receive on each */
	ASSERT_OK(ct_send_u64(self->dev, self->none, 1, 0));
	ASSERT_OK(ct_send_u64(self->dev, self->wo, 1, 0));
	ASSERT_OK(ct_send_u64(self->dev, self->ro, 1, 0));
	ASSERT_EQ(0, perm_as_nobody(self, perm_batches));
	/* 0600: neither */
	EXPECT_EQ(-1, r[0].ret);
	EXPECT_EQ(EACCES, r[0].err);
	EXPECT_EQ(-1, r[1].ret);
	EXPECT_EQ(EACCES, r[1].err);
	/* 0622: send only */
	EXPECT_EQ(2, r[2].ret);
	EXPECT_EQ(-1, r[3].ret);
	EXPECT_EQ(EACCES, r[3].err);
	/* 0644: receive only */
	EXPECT_EQ(-1, r[4].ret);
	EXPECT_EQ(EACCES, r[4].err);
	EXPECT_EQ(1, r[5].ret);
	info = bt_info(self->dev, self->none);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(1U, info.sent);
	info = bt_info(self->dev, self->wo);
	EXPECT_EQ(3U, info.depth);
	info = bt_info(self->dev, self->ro);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(1U, info.received);
}

/* CALL by ID: write on the request channel, read on the reply channel. */
static void perm_calls(FIXTURE_DATA(perm) *self, int dev)
{
	struct bt_res *r = self->res;
	const uint32_t pairs[][2] = {
		{ self->wo, self->ro },		/* both rights */
		{ self->none, self->ro },	/* no write on the request */
		{ self->ro, self->ro },		/* read is not write */
		{ self->wo, self->none },	/* no read on the reply */
		{ self->wo, self->wo },		/* write is not read */
	};
	uint64_t req = 9, rep = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct chan_call c = {
			.size = sizeof(c),
			.flags = CHAN_MSG_NONBLOCK,
			.id = pairs[i][0],
			.reply_id = pairs[i][1],
			.reply_fd = -1,
			.send_len = sizeof(req),
			.send_buf = (uintptr_t)&req,
			.recv_buf = (uintptr_t)&rep,
			.recv_len = sizeof(rep),
			.out_sent = 7,
		};

		rep = 0;
		r[i].ret = ioctl(dev, CHAN_IOC_CALL, &c);
		r[i].err = errno;
		r[i].out_sent = c.out_sent;
		r[i].vals[0] = rep;
	}
}

TEST_F(perm, call_by_id)
{
	struct bt_res *r = self->res;
	struct chan_info info;
	unsigned int i;

	/* a reply waiting on every channel */
	ASSERT_OK(ct_send_u64(self->dev, self->none, 50, 0));
	ASSERT_OK(ct_send_u64(self->dev, self->wo, 51, 0));
	ASSERT_OK(ct_send_u64(self->dev, self->ro, 52, 0));
	ASSERT_EQ(0, perm_as_nobody(self, perm_calls));
	EXPECT_EQ(0, r[0].ret);
	EXPECT_EQ(1U, r[0].out_sent);
	EXPECT_EQ(52U, r[0].vals[0]);
	for (i = 1; i < 5; i++) {
		EXPECT_EQ(-1, r[i].ret);
		EXPECT_EQ(EACCES, r[i].err);
		EXPECT_EQ(0U, r[i].out_sent);
		EXPECT_EQ(0U, r[i].vals[0]);
	}
	/* only the permitted call sent its request */
	info = bt_info(self->dev, self->wo);
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(2U, info.depth);
	info = bt_info(self->dev, self->none);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.depth);
	info = bt_info(self->dev, self->ro);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.received);
}

/* ==== libchan: batches and calls on endpoint handles ==== */

FIXTURE(lib) {
	uint32_t id, a, b;
	struct chan_ep *s, *r;		/* on id */
	struct chan_ep *cs, *cr;	/* client: send on a, receive on b */
	struct chan_ep *sr, *ss;	/* server: receive on a, send on b */
	struct bt_res *res;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_VARIANT(lib) {
	bool mappable;
};

FIXTURE_VARIANT_ADD(lib, mapped) {
	.mappable = true,
};

FIXTURE_VARIANT_ADD(lib, plain) {
	.mappable = false,
};

static int lib_chan(const FIXTURE_VARIANT(lib) *v, uint32_t *id)
{
	struct chan_attr attr = {
		.msg_size = B_MSG_SIZE,
		.capacity = B_CAP,
		.mode = 0600,
		.flags = v->mappable ? CHAN_CREATE_MAPPABLE : 0,
	};

	return chan_create(&attr, id);
}

FIXTURE_SETUP(lib)
{
	ASSERT_EQ(0, lib_chan(variant, &self->id));
	ASSERT_EQ(0, lib_chan(variant, &self->a));
	ASSERT_EQ(0, lib_chan(variant, &self->b));
	ASSERT_EQ(0, chan_ep_open(&self->s, self->id, CHAN_ROLE_SEND, 0));
	ASSERT_EQ(0, chan_ep_open(&self->r, self->id, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(0, chan_ep_open(&self->cs, self->a, CHAN_ROLE_SEND, 0));
	ASSERT_EQ(0, chan_ep_open(&self->sr, self->a, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(0, chan_ep_open(&self->cr, self->b, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(0, chan_ep_open(&self->ss, self->b, CHAN_ROLE_SEND, 0));
	ASSERT_EQ(variant->mappable, chan_ep_mapped(self->s));
	ASSERT_EQ(variant->mappable, chan_ep_mapped(self->r));
	ASSERT_EQ(variant->mappable, chan_ep_mapped(self->cs));
	ASSERT_EQ(variant->mappable, chan_ep_mapped(self->cr));
	self->res = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->res);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(lib)
{
	const uint32_t ids[] = { self->id, self->a, self->b };
	struct chan_ep **eps[] = { &self->s, &self->r, &self->cs, &self->sr,
				   &self->cr, &self->ss };
	struct chan_info info;
	unsigned int i;

	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		if (!ids[i])
			continue;
		memset(&info, 0, sizeof(info));
		EXPECT_EQ(0, chan_info(ids[i], &info));
		EXPECT_TRUE(bt_balanced(&info));
	}
	for (i = 0; i < ARRAY_SIZE(eps); i++)
		if (*eps[i])
			chan_ep_close(*eps[i]);
	for (i = 0; i < ARRAY_SIZE(ids); i++)
		if (ids[i])
			chan_destroy(ids[i]);
	if (self->res)
		munmap(self->res, 4096);
}

static struct chan_info lib_info(uint32_t id)
{
	struct chan_info info;

	if (chan_info(id, &info))
		memset(&info, 0xff, sizeof(info));
	return info;
}

static struct chan_ep_stats lib_stats(const struct chan_ep *ep)
{
	struct chan_ep_stats st;

	memset(&st, 0xff, sizeof(st));
	chan_ep_get_stats(ep, &st, sizeof(st));
	return st;
}

/*
 * n messages went from s to r: by the fast path if the channel is
 * mappable, else through the kernel.
 */
static void lib_expect_path(struct __test_metadata *_metadata,
			    const struct chan_ep *s, const struct chan_ep *r,
			    bool mappable, uint64_t n)
{
	struct chan_ep_stats st = lib_stats(s);

	EXPECT_EQ(mappable ? n : 0U, st.fast_sent);
	EXPECT_EQ(mappable ? 0U : n, st.kernel_sent);
	st = lib_stats(r);
	EXPECT_EQ(mappable ? n : 0U, st.fast_received);
	EXPECT_EQ(mappable ? 0U : n, st.kernel_received);
}

/* Order, lengths, and the fast path used on a mapped handle. */
TEST_F(lib, batch_order_and_stats)
{
	static const uint32_t lens[] = { 0, 1, 17, 63, B_MSG_SIZE };
	unsigned char out[5][B_MSG_SIZE], in[5][B_MSG_SIZE + 8];
	struct chan_iov sv[5], rv[5];
	struct chan_info info;
	unsigned int i;

	for (i = 0; i < 5; i++) {
		memset(out[i], 'k' + i, sizeof(out[i]));
		sv[i] = (struct chan_iov){ .buf = (uintptr_t)out[i],
					   .len = lens[i] };
	}
	ASSERT_EQ(5, chan_ep_send_batch(self->s, sv, 5, 0, 0));
	memset(in, 0xee, sizeof(in));
	for (i = 0; i < 5; i++)
		rv[i] = (struct chan_iov){ .buf = (uintptr_t)in[i],
					   .len = sizeof(in[i]) };
	ASSERT_EQ(5, chan_ep_recv_batch(self->r, rv, 5, 0, 0));
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(lens[i], rv[i].len);
		EXPECT_EQ(0, memcmp(in[i], out[i], lens[i]));
		EXPECT_EQ(0xee, in[i][lens[i]]);
	}
	info = lib_info(self->id);
	EXPECT_EQ(5U, info.sent);
	EXPECT_EQ(5U, info.received);
	EXPECT_EQ(0U, info.depth);
	lib_expect_path(_metadata, self->s, self->r, variant->mappable, 5);

	/* the fd forms interleave with the handle forms in one order */
	for (i = 0; i < 3; i++) {
		sv[i].buf = (uintptr_t)out[i];
		sv[i].len = 8;
	}
	ASSERT_EQ(1, chan_send_batch(chan_ep_fd(self->s), 0, sv, 1, 0, 0));
	ASSERT_EQ(2, chan_ep_send_batch(self->s, sv + 1, 2, 0, 0));
	for (i = 0; i < 3; i++)
		rv[i].len = sizeof(in[i]);
	ASSERT_EQ(1, chan_ep_recv_batch(self->r, rv, 1, 0, 0));
	ASSERT_EQ(2, chan_recv_batch(chan_ep_fd(self->r), 0, rv + 1, 2, 0, 0));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(8U, rv[i].len);
		EXPECT_EQ('k' + i, in[i][0]);
	}
}

/* The errors of the ioctl forms, from the handle forms. */
TEST_F(lib, batch_errors_as_ioctl)
{
	unsigned char big[B_MSG_SIZE + 1], in[2][B_MSG_SIZE];
	uint64_t vals[NV] = { 1, 2, 3, 4 };
	struct chan_iov vec[NV];
	struct chan_info info;
	unsigned int i;

	bt_vec_u64(vec, vals, NV);
	EXPECT_EQ(-EINVAL, chan_ep_send_batch(self->s, vec, 0, 0, 0));
	EXPECT_EQ(-EINVAL, chan_ep_send_batch(self->s, vec,
					      CHAN_BATCH_MAX + 1, 0, 0));
	EXPECT_EQ(-EINVAL, chan_ep_recv_batch(self->r, vec, 0, 0, 0));
	EXPECT_EQ(-EINVAL, chan_ep_recv_batch(self->r, vec,
					      CHAN_BATCH_MAX + 1, 0, 0));
	/* wrong roles */
	EXPECT_EQ(-EBADF, chan_ep_send_batch(self->r, vec, 1, 0, 0));
	EXPECT_EQ(-EBADF, chan_ep_recv_batch(self->s, vec, 1, 0, 0));
	/* flag rules */
	EXPECT_EQ(-EINVAL, chan_ep_send_batch(self->s, vec, 1,
					      CHAN_MSG_ABSTIME, 0));
	EXPECT_EQ(-EOPNOTSUPP, chan_ep_recv_batch(self->r, vec, 1, 1U << 20,
						  0));
	/* empty */
	EXPECT_EQ(-EAGAIN, chan_ep_recv_batch(self->r, vec, NV,
					      CHAN_MSG_NONBLOCK, 0));
	/* reserved: first, later */
	vec[0].__reserved = 1;
	EXPECT_EQ(-EINVAL, chan_ep_send_batch(self->s, vec, 4, 0, 0));
	vec[0].__reserved = 0;
	vec[2].__reserved = 1;
	EXPECT_EQ(2, chan_ep_send_batch(self->s, vec, 4, 0, 0));
	vec[2].__reserved = 0;
	EXPECT_EQ(2, chan_ep_send_batch(self->s, vec + 2, 2, 0, 0));
	memset(vals, 0, sizeof(vals));
	vec[0].__reserved = 1;
	EXPECT_EQ(-EINVAL, chan_ep_recv_batch(self->r, vec, 4, 0, 0));
	vec[0].__reserved = 0;
	vec[1].__reserved = 1;
	EXPECT_EQ(1, chan_ep_recv_batch(self->r, vec, 4, 0, 0));
	vec[1].__reserved = 0;
	EXPECT_EQ(1U, vals[0]);
	EXPECT_EQ(0U, vals[1]);
	EXPECT_EQ(3, chan_ep_recv_batch(self->r, vec + 1, 3, 0, 0));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(i + 1, vals[i]);
	/* full */
	bt_vec_u64(vec, vals, NV);
	EXPECT_EQ((int)B_CAP, chan_ep_send_batch(self->s, vec, NV,
						 CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(-EAGAIN, chan_ep_send_batch(self->s, vec, NV,
					      CHAN_MSG_NONBLOCK, 0));
	bt_vec_u64(vec, vals, NV);
	EXPECT_EQ((int)B_CAP, chan_ep_recv_batch(self->r, vec, NV, 0, 0));

	/* EMSGSIZE sending: first, later */
	memset(big, 'z', sizeof(big));
	vec[0] = (struct chan_iov){ .buf = (uintptr_t)big, .len = sizeof(big) };
	vec[1] = (struct chan_iov){ .buf = (uintptr_t)big, .len = 40 };
	EXPECT_EQ(-EMSGSIZE, chan_ep_send_batch(self->s, vec, 2, 0, 0));
	vec[0].len = 40;
	vec[1].len = sizeof(big);
	EXPECT_EQ(1, chan_ep_send_batch(self->s, vec, 2, 0, 0));
	vec[1].len = 40;
	EXPECT_EQ(1, chan_ep_send_batch(self->s, vec + 1, 1, 0, 0));
	/* EMSGSIZE receiving: first (length back, stays), later */
	vec[0] = (struct chan_iov){ .buf = (uintptr_t)in[0], .len = 10 };
	vec[1] = (struct chan_iov){ .buf = (uintptr_t)in[1], .len = 10 };
	EXPECT_EQ(-EMSGSIZE, chan_ep_recv_batch(self->r, vec, 2, 0, 0));
	EXPECT_EQ(40U, vec[0].len);
	vec[0].len = B_MSG_SIZE;
	EXPECT_EQ(1, chan_ep_recv_batch(self->r, vec, 2, 0, 0));
	EXPECT_EQ(40U, vec[0].len);
	EXPECT_EQ(40U, vec[1].len);
	info = lib_info(self->id);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.dropped);
	vec[0].len = B_MSG_SIZE;
	EXPECT_EQ(1, chan_ep_recv_batch(self->r, vec, 1, 0, 0));
}

/*
 * A child that sleeps ms, then sends (or receives) one message through
 * the kernel path of fd.
 */
static pid_t lib_peer(int fd, bool send, unsigned int ms, uint64_t val)
{
	pid_t pid = bt_fork();
	uint64_t v = val;

	if (pid)
		return pid;
	ct_sleep_ms(ms);
	if (send ? ct_send_u64(fd, 0, v, 0) : ct_recv_u64(fd, 0, &v, 0))
		_exit(errno);
	_exit(0);
}

/*
 * Only the first message waits, as for the ioctl: a blocking batch
 * receive on an empty channel waits for a message, not -EAGAIN.
 */
TEST_F(lib, recv_batch_blocks)
{
	uint64_t vals[NV] = { 0 }, t0;
	struct chan_iov vec[NV];

	self->pid[0] = lib_peer(chan_ep_fd(self->s), true, 300, 61);
	ASSERT_LE(0, self->pid[0]);
	bt_vec_u64(vec, vals, NV);
	t0 = ct_now_ns();
	EXPECT_EQ(1, chan_ep_recv_batch(self->r, vec, NV, 0, 0));
	EXPECT_LE(200 * CT_MS, ct_now_ns() - t0);
	EXPECT_EQ(61U, vals[0]);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
}

/* A blocking batch send on a full channel waits for a slot. */
TEST_F(lib, send_batch_blocks)
{
	uint64_t vals[NV] = { 0 }, t0;
	struct chan_iov vec[NV];
	unsigned int i;

	for (i = 0; i < B_CAP; i++)
		ASSERT_EQ(0, chan_ep_send(self->s, &vals[0], 8));
	self->pid[0] = lib_peer(chan_ep_fd(self->r), false, 300, 0);
	ASSERT_LE(0, self->pid[0]);
	bt_vec_u64(vec, vals, NV);
	t0 = ct_now_ns();
	EXPECT_EQ(1, chan_ep_send_batch(self->s, vec, NV, 0, 0));
	EXPECT_LE(200 * CT_MS, ct_now_ns() - t0);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
}

/* A timed batch on an empty (full) channel: -ETIMEDOUT at the end. */
TEST_F(lib, batch_timeout)
{
	uint64_t vals[NV] = { 0 }, t0;
	struct chan_iov vec[NV];

	bt_vec_u64(vec, vals, NV);
	t0 = ct_now_ns();
	EXPECT_EQ(-ETIMEDOUT, chan_ep_recv_batch(self->r, vec, NV,
						 CHAN_MSG_TIMEOUT,
						 200 * CT_MS));
	EXPECT_LE(200 * CT_MS, ct_now_ns() - t0);
	EXPECT_EQ((int)B_CAP, chan_ep_send_batch(self->s, vec, NV, 0, 0));
	t0 = ct_now_ns();
	EXPECT_EQ(-ETIMEDOUT, chan_ep_send_batch(self->s, vec, NV,
						 CHAN_MSG_TIMEOUT,
						 200 * CT_MS));
	EXPECT_LE(200 * CT_MS, ct_now_ns() - t0);
	EXPECT_EQ((int)B_CAP, chan_ep_recv_batch(self->r, vec, NV, 0, 0));
}

/* CHAN_MSG_WAITALL: all of them, also when none is there at first. */
TEST_F(lib, recv_batch_waitall)
{
	uint64_t vals[NV] = { 0 };
	struct chan_iov vec[NV];
	unsigned int i;

	/* one there, three to come */
	ASSERT_EQ(0, chan_ep_send(self->s, &(uint64_t){ 70 }, 8));
	for (i = 0; i < 3; i++) {
		self->pid[i] = lib_peer(chan_ep_fd(self->s), true,
					100 * (i + 1), 71);
		ASSERT_LE(0, self->pid[i]);
	}
	bt_vec_u64(vec, vals, NV);
	EXPECT_EQ(4, chan_ep_recv_batch(self->r, vec, 4, CHAN_MSG_WAITALL,
					0));
	EXPECT_EQ(70U, vals[0]);
	EXPECT_EQ(71U, vals[3]);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, ct_reap(&self->pid[i], WAIT_MS));
	/* none there */
	self->pid[0] = lib_peer(chan_ep_fd(self->s), true, 100, 72);
	self->pid[1] = lib_peer(chan_ep_fd(self->s), true, 200, 72);
	EXPECT_EQ(2, chan_ep_recv_batch(self->r, vec, 2, CHAN_MSG_WAITALL,
					0));
	EXPECT_EQ(72U, vals[1]);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, ct_reap(&self->pid[i], WAIT_MS));
}

/*
 * Messages of every small length, alone and in batches, through the
 * handle forms: a 1-byte message is a message like any other.
 */
TEST_F(lib, small_lengths)
{
	unsigned char out[4][4] = { "a", "bb", "ccc", "" }, in[4][8];
	uint32_t lens[4] = { 1, 2, 3, 0 };
	struct chan_iov vec[4];
	struct chan_info info;
	uint64_t rep = 0;
	unsigned int i;
	ssize_t n;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, chan_ep_send(self->s, out[i], lens[i]));
	for (i = 0; i < 4; i++) {
		memset(in[i], 0, sizeof(in[i]));
		n = chan_ep_try_recv(self->r, in[i], sizeof(in[i]));
		EXPECT_EQ((ssize_t)lens[i], n);
		EXPECT_EQ(0, memcmp(in[i], out[i], lens[i]));
	}
	EXPECT_EQ(-EAGAIN, chan_ep_try_recv(self->r, in[0], sizeof(in[0])));

	for (i = 0; i < 4; i++)
		vec[i] = (struct chan_iov){ .buf = (uintptr_t)out[i],
					    .len = lens[i] };
	ASSERT_EQ(4, chan_ep_send_batch(self->s, vec, 4, 0, 0));
	memset(in, 0, sizeof(in));
	for (i = 0; i < 4; i++)
		vec[i] = (struct chan_iov){ .buf = (uintptr_t)in[i],
					    .len = sizeof(in[i]) };
	EXPECT_EQ(4, chan_ep_recv_batch(self->r, vec, 4, CHAN_MSG_NONBLOCK,
					0));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(lens[i], vec[i].len);
		EXPECT_EQ(0, memcmp(in[i], out[i], lens[i]));
	}
	info = lib_info(self->id);
	EXPECT_EQ(8U, info.sent);
	EXPECT_EQ(8U, info.received);

	/* a 1-byte reply to a call */
	ASSERT_EQ(0, chan_ep_send(self->ss, "R", 1));
	ASSERT_EQ(0, chan_ep_send(self->ss, "SS", 2));
	EXPECT_EQ(1, chan_ep_call(self->cs, &rep, sizeof(rep), self->cr, in[0],
				  sizeof(in[0]), CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ('R', in[0][0]);
	info = lib_info(self->b);
	EXPECT_EQ(1U, info.depth);
}

/* A server child (kernel path): n requests in order, each answered 2x+1. */
static pid_t lib_server(FIXTURE_DATA(lib) *self, unsigned int n,
			uint64_t first)
{
	pid_t pid = bt_fork();
	uint64_t v;
	unsigned int i;

	if (pid)
		return pid;
	for (i = 0; i < n; i++) {
		if (ct_recv_u64(chan_ep_fd(self->sr), 0, &v, 0))
			_exit(errno);
		if (v != first + i)
			_exit(CT_EXIT_BADDATA);
		if (ct_send_u64(chan_ep_fd(self->ss), 0, 2 * v + 1, 0))
			_exit(errno);
	}
	_exit(0);
}

TEST_F_TIMEOUT(lib, call_ping_pong, 120)
{
	const unsigned int n = 300;
	struct chan_info info;
	uint64_t req, rep;
	unsigned int i;

	self->pid[0] = lib_server(self, n, 10);
	ASSERT_LE(0, self->pid[0]);
	for (i = 0; i < n; i++) {
		req = 10 + i;
		rep = 0;
		ASSERT_EQ(8, chan_ep_call(self->cs, &req, sizeof(req),
					  self->cr, &rep, sizeof(rep), 0, 0));
		ASSERT_EQ(2 * req + 1, rep);
	}
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	info = lib_info(self->a);
	EXPECT_EQ(n, info.sent);
	EXPECT_EQ(n, info.received);
	info = lib_info(self->b);
	EXPECT_EQ(n, info.sent);
	EXPECT_EQ(n, info.received);
	/* the libchan fd form too */
	self->pid[0] = lib_server(self, 1, 5);
	ASSERT_LE(0, self->pid[0]);
	req = 5;
	EXPECT_EQ(8, chan_call(chan_ep_fd(self->cs), &req, sizeof(req),
			       chan_ep_fd(self->cr), &rep, sizeof(rep)));
	EXPECT_EQ(11U, rep);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
}

/*
 * With a reply already queued and nobody asleep, a mapped call costs no
 * system call: the fast path both ways; a plain one goes through the
 * kernel.
 */
TEST_F(lib, call_stats)
{
	uint64_t req = 1, rep = 0;

	ASSERT_EQ(0, chan_ep_send(self->ss, &(uint64_t){ 33 }, 8));
	EXPECT_EQ(8, chan_ep_call(self->cs, &req, sizeof(req), self->cr, &rep,
				  sizeof(rep), 0, 0));
	EXPECT_EQ(33U, rep);
	lib_expect_path(_metadata, self->cs, self->cr, variant->mappable, 1);
	EXPECT_EQ(8, chan_ep_recv(self->sr, &rep, sizeof(rep)));
	EXPECT_EQ(1U, rep);
}

/*
 * The reply handle without the receive role: -EBADF and, as for the
 * ioctl, nothing sent.
 */
TEST_F(lib, call_reply_without_recv_role)
{
	uint64_t req = 1, rep = 0;
	struct chan_info info;
	int sent = 7;

	EXPECT_EQ(-EBADF, chan_ep_call(self->cs, &req, sizeof(req), self->ss,
				       &rep, sizeof(rep), 0, 0));
	info = lib_info(self->a);
	EXPECT_EQ(0U, info.sent);
	/* the ioctl form, for comparison */
	EXPECT_EQ(-EBADF, chan_callmsg(chan_ep_fd(self->cs), 0, &req,
				       sizeof(req), chan_ep_fd(self->ss), 0,
				       &rep, sizeof(rep), 0, 0, NULL, &sent));
	EXPECT_EQ(0, sent);
	info = lib_info(self->a);
	EXPECT_EQ(0U, info.sent);
	/* the request handle without the send role */
	EXPECT_EQ(-EBADF, chan_ep_call(self->sr, &req, sizeof(req), self->cr,
				       &rep, sizeof(rep), 0, 0));
	info = lib_info(self->a);
	EXPECT_EQ(0U, info.sent);
}

/* Timeout and EMSGSIZE, as for the ioctl; the request goes once. */
TEST_F(lib, call_timeout_and_emsgsize)
{
	unsigned char big[40], in[B_MSG_SIZE];
	uint64_t req = 4, rep = 0, t0;
	struct chan_info info;
	uint32_t rlen = 0;
	int sent = 0;

	t0 = ct_now_ns();
	EXPECT_EQ(-ETIMEDOUT, chan_ep_call(self->cs, &req, sizeof(req),
					   self->cr, &rep, sizeof(rep),
					   CHAN_MSG_TIMEOUT, 200 * CT_MS));
	EXPECT_LE(200 * CT_MS, ct_now_ns() - t0);
	info = lib_info(self->a);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(-EAGAIN, chan_ep_call(self->cs, &req, sizeof(req), self->cr,
					&rep, sizeof(rep), CHAN_MSG_NONBLOCK,
					0));
	info = lib_info(self->a);
	EXPECT_EQ(2U, info.sent);

	memset(big, 'B', sizeof(big));
	ASSERT_EQ(0, chan_ep_send(self->ss, big, sizeof(big)));
	EXPECT_EQ(-EMSGSIZE, chan_ep_call(self->cs, &req, sizeof(req),
					  self->cr, in, 10, 0, 0));
	info = lib_info(self->b);
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(-EMSGSIZE, chan_callmsg(chan_ep_fd(self->cs), 0, &req,
					  sizeof(req), chan_ep_fd(self->cr), 0,
					  in, 10, 0, 0, &rlen, &sent));
	EXPECT_EQ(40U, rlen);
	EXPECT_EQ(1, sent);
	EXPECT_EQ(40, chan_ep_call(self->cs, &req, sizeof(req), self->cr, in,
				   sizeof(in), 0, 0));
	EXPECT_EQ(0, memcmp(in, big, sizeof(big)));
	/* a request over msg_size: nothing sent */
	EXPECT_EQ(-EMSGSIZE, chan_ep_call(self->cs, big, B_MSG_SIZE + 1,
					  self->cr, in, sizeof(in), 0, 0));
	info = lib_info(self->a);
	EXPECT_EQ(5U, info.sent);
	EXPECT_EQ(5U, info.depth);
}

CT_HARNESS_MAIN
