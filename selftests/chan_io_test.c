// SPDX-License-Identifier: GPL-2.0
/*
 * Sending and receiving: message boundaries and order, EMSGSIZE, full and
 * empty channels, non-blocking calls and fds, relative and absolute
 * timeouts (also in a time namespace), a receive that takes nothing
 * leaving the buffer untouched, blocking and wake-up (one message wakes
 * one waiter), signals (stop/continue and SA_RESTART restart a blocked
 * call and keep a relative timeout's end, a handler without SA_RESTART
 * gives EINTR), wrong roles, read(2)/write(2)/readv(2)/writev(2) (one
 * message per call), disconnect / drain / EPIPE / reconnect in both
 * directions (for endpoints: ID-style callers ignore it), and chanctl
 * recv -c 0.
 */
#include "chan_test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <linux/userfaultfd.h>
#include <sys/uio.h>

#define IO_MSG_SIZE	64U
#define IO_CAPACITY	4U
#define WAIT_MS		20000	/* generous bound for "eventually" */
#define SHORT_NS	(30 * CT_MS)

/* ---- the same semantics through a channel fd and by ID ---- */

FIXTURE(io) {
	int dev;
	uint32_t id;
	int sfd;		/* SEND endpoint */
	int rfd;		/* RECV endpoint */
	int fd;			/* what the variant sends and receives on */
	uint32_t use_id;	/* and the ID it passes (0 on an fd) */
	uint64_t *shared;	/* results of helper children */
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_VARIANT(io) {
	bool by_id;
};

FIXTURE_VARIANT_ADD(io, fd) {
	.by_id = false,
};

FIXTURE_VARIANT_ADD(io, id) {
	.by_id = true,
};

/*
 * The setup of the fixtures below: /dev/chan, a channel of IO_MSG_SIZE x
 * IO_CAPACITY, a sender and a receiver endpoint (unless sfd is NULL), a
 * shared page for children's results (unless shared is NULL). Returns
 * false if any of it failed.
 */
static bool io_chan_setup(int *dev, uint32_t *id, int *sfd, int *rfd,
			  void **shared)
{
	bool ok = true;

	*dev = ct_dev_open();
	if (*dev < 0 || ct_create_simple(*dev, IO_MSG_SIZE, IO_CAPACITY, id))
		return false;
	if (sfd)
		ok = !ct_open_pair(*dev, *id, sfd, rfd);
	if (shared) {
		*shared = ct_shared_alloc(4096);
		ok = ok && *shared;
	}
	signal(SIGPIPE, SIG_IGN);
	return ok;
}

/* Their teardown; an endpoint already closed is -1. */
static void io_chan_teardown(pid_t *pid, int dev, uint32_t id, int sfd,
			     int rfd)
{
	ct_reap_all(pid, CT_MAX_CHILDREN);
	if (sfd >= 0)
		close(sfd);
	if (rfd >= 0)
		close(rfd);
	ct_destroy(dev, id);
	close(dev);
}

FIXTURE_SETUP(io)
{
	ASSERT_TRUE(io_chan_setup(&self->dev, &self->id, &self->sfd,
				  &self->rfd, (void **)&self->shared));
}

FIXTURE_TEARDOWN(io)
{
	io_chan_teardown(self->pid, self->dev, self->id, self->sfd, self->rfd);
}

/* Send on the variant's path: the SEND endpoint or /dev/chan by ID. */
static int io_send(FIXTURE_DATA(io) *self, const FIXTURE_VARIANT(io) *v,
		   const void *buf, uint32_t len, uint32_t flags, uint64_t tmo)
{
	return v->by_id ? ct_send(self->dev, self->id, buf, len, flags, tmo)
			: ct_send(self->sfd, 0, buf, len, flags, tmo);
}

static int io_recv(FIXTURE_DATA(io) *self, const FIXTURE_VARIANT(io) *v,
		   void *buf, uint32_t *len, uint32_t flags, uint64_t tmo)
{
	return v->by_id ? ct_recv(self->dev, self->id, buf, len, flags, tmo)
			: ct_recv(self->rfd, 0, buf, len, flags, tmo);
}

/* A helper child doing one op on the variant's path. */
static struct ct_op io_op(FIXTURE_DATA(io) *self,
			  const FIXTURE_VARIANT(io) *v, int kind)
{
	struct ct_op op = {
		.kind = kind,
		.fd = v->by_id ? self->dev :
		      kind == CT_OP_SEND ? self->sfd : self->rfd,
		.id = v->by_id ? self->id : 0,
	};

	return op;
}

static void io_fill(struct __test_metadata *_metadata,
		    FIXTURE_DATA(io) *self, const FIXTURE_VARIANT(io) *v)
{
	uint64_t i;

	for (i = 0; i < IO_CAPACITY; i++)
		ASSERT_OK(io_send(self, v, &i, sizeof(i), CHAN_MSG_NONBLOCK,
				  0));
}

TEST_F(io, boundaries_and_order)
{
	static const uint32_t lens[] = { 0, 1, 33, IO_MSG_SIZE };
	unsigned char out[IO_MSG_SIZE], in[IO_MSG_SIZE + 8];
	struct chan_info info;
	uint32_t len;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		memset(out, 'a' + i, sizeof(out));
		ASSERT_OK(io_send(self, variant, out, lens[i], 0, 0));
	}
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(ARRAY_SIZE(lens), info.depth);
	EXPECT_EQ(ARRAY_SIZE(lens), info.sent);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		memset(in, 0, sizeof(in));
		len = sizeof(in);
		ASSERT_OK(io_recv(self, variant, in, &len, 0, 0));
		ASSERT_EQ(lens[i], len);
		memset(out, 'a' + i, sizeof(out));
		ASSERT_EQ(0, memcmp(in, out, len));
		/* nothing written past the message */
		ASSERT_EQ(0, in[len]);
	}
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(ARRAY_SIZE(lens), info.received);
}

/* The buffer is too small: EMSGSIZE, the length, and the message stays. */
TEST_F(io, recv_buffer_too_small)
{
	char out[40], in[IO_MSG_SIZE];
	struct chan_info info;
	uint32_t len;

	memset(out, 'q', sizeof(out));
	ASSERT_OK(io_send(self, variant, out, sizeof(out), 0, 0));
	len = 10;
	EXPECT_ERRNO(EMSGSIZE, io_recv(self, variant, in, &len,
				       CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(sizeof(out), len);
	len = 0;
	EXPECT_ERRNO(EMSGSIZE, io_recv(self, variant, in, &len, 0, 0));
	EXPECT_EQ(sizeof(out), len);
	len = sizeof(out) - 1;
	EXPECT_ERRNO(EMSGSIZE, io_recv(self, variant, in, &len,
				       CHAN_MSG_TIMEOUT, CT_SEC));
	EXPECT_EQ(sizeof(out), len);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.received);
	EXPECT_EQ(0U, info.dropped);
	len = sizeof(out);
	ASSERT_OK(io_recv(self, variant, in, &len, 0, 0));
	EXPECT_EQ(sizeof(out), len);
	EXPECT_EQ(0, memcmp(in, out, sizeof(out)));
}

TEST_F(io, full_and_empty_nonblock)
{
	struct chan_info info;
	uint64_t v = 99;
	uint32_t len = sizeof(v);

	EXPECT_ERRNO(EAGAIN, io_recv(self, variant, &v, &len,
				     CHAN_MSG_NONBLOCK, 0));
	io_fill(_metadata, self, variant);
	EXPECT_ERRNO(EAGAIN, io_send(self, variant, &v, sizeof(v),
				     CHAN_MSG_NONBLOCK, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(IO_CAPACITY, info.depth);
	EXPECT_EQ(IO_CAPACITY, info.sent);
	/* one out, one in */
	ASSERT_OK(io_recv(self, variant, &v, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(0U, v);
	v = 100;
	ASSERT_OK(io_send(self, variant, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(EAGAIN, io_send(self, variant, &v, sizeof(v),
				     CHAN_MSG_NONBLOCK, 0));
}

TEST_F(io, timeout_relative)
{
	uint64_t v = 1, t0, dt;
	uint32_t len = sizeof(v);

	t0 = ct_now_ns();
	EXPECT_ERRNO(ETIMEDOUT, io_recv(self, variant, &v, &len,
					CHAN_MSG_TIMEOUT, SHORT_NS));
	dt = ct_now_ns() - t0;
	EXPECT_LE(SHORT_NS, dt);
	EXPECT_GT(WAIT_MS * CT_MS, dt);

	io_fill(_metadata, self, variant);
	t0 = ct_now_ns();
	EXPECT_ERRNO(ETIMEDOUT, io_send(self, variant, &v, sizeof(v),
					CHAN_MSG_TIMEOUT, SHORT_NS));
	dt = ct_now_ns() - t0;
	EXPECT_LE(SHORT_NS, dt);
	EXPECT_GT(WAIT_MS * CT_MS, dt);

	/* a zero timeout is already expired */
	EXPECT_ERRNO(ETIMEDOUT, io_send(self, variant, &v, sizeof(v),
					CHAN_MSG_TIMEOUT, 0));
}

TEST_F(io, timeout_absolute)
{
	uint64_t v = 1, deadline;
	uint32_t len = sizeof(v);

	deadline = ct_now_ns() + SHORT_NS;
	EXPECT_ERRNO(ETIMEDOUT, io_recv(self, variant, &v, &len,
					CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
					deadline));
	EXPECT_LE(deadline, ct_now_ns());
	/* deadlines in the past, including 0 */
	EXPECT_ERRNO(ETIMEDOUT, io_recv(self, variant, &v, &len,
					CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
					ct_now_ns() - CT_SEC));
	EXPECT_ERRNO(ETIMEDOUT, io_recv(self, variant, &v, &len,
					CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
					0));

	io_fill(_metadata, self, variant);
	deadline = ct_now_ns() + SHORT_NS;
	EXPECT_ERRNO(ETIMEDOUT, io_send(self, variant, &v, sizeof(v),
					CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
					deadline));
	EXPECT_LE(deadline, ct_now_ns());
}

/* A timed wait that a message ends early, well before the deadline. */
TEST_F(io, timeout_not_reached)
{
	struct ct_op op = io_op(self, variant, CT_OP_RECV);
	uint64_t v = 42;

	op.flags = CHAN_MSG_TIMEOUT;
	op.timeout_ns = 600 * CT_SEC;
	op.result = self->shared;
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(io_send(self, variant, &v, sizeof(v), 0, 0));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(42U, self->shared[0]);
}

/* A receiver blocked before the send is woken by it. */
TEST_F(io, blocked_recv_woken_by_send)
{
	struct ct_op op = io_op(self, variant, CT_OP_RECV);
	struct chan_info info;
	uint64_t v = 7;

	op.result = self->shared;
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_LE(1U, info.recv_waits);
	/* the wake-up comes from the other path than the sleeper's */
	ASSERT_OK(variant->by_id ? ct_send(self->sfd, 0, &v, 8, 0, 0)
				 : ct_send(self->dev, self->id, &v, 8, 0, 0));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(7U, self->shared[0]);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(1U, info.received);
}

/* A sender blocked on a full channel is woken by a receive. */
TEST_F(io, blocked_send_woken_by_recv)
{
	struct ct_op op = io_op(self, variant, CT_OP_SEND);
	struct chan_info info;
	uint64_t v, i;
	uint32_t len;

	io_fill(_metadata, self, variant);
	op.value = 1000;
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_LE(1U, info.send_waits);
	EXPECT_EQ(IO_CAPACITY, info.depth);
	len = sizeof(v);
	ASSERT_OK(variant->by_id ? ct_recv(self->rfd, 0, &v, &len, 0, 0)
				 : ct_recv(self->dev, self->id, &v, &len, 0, 0));
	EXPECT_EQ(0U, v);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	/* the blocked message went in behind the others */
	for (i = 1; i <= IO_CAPACITY; i++) {
		len = sizeof(v);
		ASSERT_OK(io_recv(self, variant, &v, &len, CHAN_MSG_NONBLOCK,
				  0));
		EXPECT_EQ(i == IO_CAPACITY ? 1000 : i, v);
	}
}

/*
 * After the j-th wake of three waiters in pid[]: wait until j have
 * finished, then a while longer to see that no more did, reaping them.
 * A receiver's value (in shared[i]) is added to *got_mask as a bit.
 */
static void io_wait_woken(struct __test_metadata *_metadata,
			  FIXTURE_DATA(io) *self, int j, int *got_mask)
{
	uint64_t t0 = ct_now_ns();
	int i, done;

	for (;;) {
		done = 0;
		for (i = 0; i < 3; i++)
			if (!self->pid[i] || ct_exited(self->pid[i]))
				done++;
		if (done >= j)
			break;
		ASSERT_GT(WAIT_MS * CT_MS, ct_now_ns() - t0);
		ct_sleep_ms(2);
	}
	/* and no more than one per wake */
	ct_sleep_ms(200);
	done = 0;
	for (i = 0; i < 3; i++) {
		if (self->pid[i] && ct_exited(self->pid[i])) {
			ASSERT_EQ(0, ct_reap(&self->pid[i], WAIT_MS));
			if (got_mask)
				*got_mask |= 1 << self->shared[i];
		}
		if (!self->pid[i])
			done++;
	}
	ASSERT_EQ(j, done);
}

/* Three receivers asleep: each message wakes exactly one of them. */
TEST_F(io, one_message_wakes_one_receiver)
{
	struct ct_op op = io_op(self, variant, CT_OP_RECV);
	int i, j, got_mask = 0;
	uint64_t v;

	for (i = 0; i < 3; i++) {
		op.result = &self->shared[i];
		self->shared[i] = 0;
		self->pid[i] = ct_op_spawn(&op);
		ASSERT_LT(0, self->pid[i]);
	}
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(ct_wait_blocked(self->pid[i], SYS_ioctl, WAIT_MS));

	for (j = 1; j <= 3; j++) {
		v = j;
		ASSERT_OK(io_send(self, variant, &v, sizeof(v), 0, 0));
		io_wait_woken(_metadata, self, j, &got_mask);
	}
	EXPECT_EQ(0xe, got_mask);	/* 1, 2 and 3, once each */
}

/* Three senders asleep on a full channel: each receive lets one in. */
TEST_F(io, one_slot_wakes_one_sender)
{
	struct ct_op op = io_op(self, variant, CT_OP_SEND);
	struct chan_info info;
	int i, j, done;
	uint64_t v;
	uint32_t len;

	io_fill(_metadata, self, variant);
	for (i = 0; i < 3; i++) {
		op.value = 100 + i;
		self->pid[i] = ct_op_spawn(&op);
		ASSERT_LT(0, self->pid[i]);
	}
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(ct_wait_blocked(self->pid[i], SYS_ioctl, WAIT_MS));

	for (j = 1; j <= 3; j++) {
		len = sizeof(v);
		ASSERT_OK(io_recv(self, variant, &v, &len, 0, 0));
		io_wait_woken(_metadata, self, j, NULL);
		ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
		EXPECT_EQ(IO_CAPACITY, info.depth);
	}
	/* the first messages, then the three blocked ones in some order */
	for (i = 0; i < (int)IO_CAPACITY - 3; i++) {
		len = sizeof(v);
		ASSERT_OK(io_recv(self, variant, &v, &len, CHAN_MSG_NONBLOCK,
				  0));
		EXPECT_EQ((uint64_t)3 + i, v);
	}
	done = 0;
	for (i = 0; i < 3; i++) {
		len = sizeof(v);
		ASSERT_OK(io_recv(self, variant, &v, &len, CHAN_MSG_NONBLOCK,
				  0));
		ASSERT_LE(100U, v);
		ASSERT_GE(102U, v);
		done |= 1 << (v - 100);
	}
	EXPECT_EQ(7, done);
}

/* A signal (handler without SA_RESTART) interrupts a blocked receive. */
TEST_F(io, eintr_recv)
{
	struct ct_op op = io_op(self, variant, CT_OP_RECV);
	struct chan_info info;
	uint64_t v = 5;
	uint32_t len = sizeof(v);

	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(EINTR, ct_reap(&self->pid[0], WAIT_MS));
	/* the interrupted receiver took nothing */
	ASSERT_OK(io_send(self, variant, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	ASSERT_OK(io_recv(self, variant, &v, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(5U, v);
}

TEST_F(io, eintr_send)
{
	struct ct_op op = io_op(self, variant, CT_OP_SEND);
	struct chan_info info;

	io_fill(_metadata, self, variant);
	op.value = 555;
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(EINTR, ct_reap(&self->pid[0], WAIT_MS));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(IO_CAPACITY, info.depth);
	EXPECT_EQ(IO_CAPACITY, info.sent);
}

/* Also while waiting with a (long) timeout. */
TEST_F(io, eintr_timed_recv)
{
	struct ct_op op = io_op(self, variant, CT_OP_RECV);

	op.flags = CHAN_MSG_TIMEOUT;
	op.timeout_ns = 600 * CT_SEC;
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(EINTR, ct_reap(&self->pid[0], WAIT_MS));
}

/* ---- a receive that takes nothing leaves the buffer alone ---- */

static bool all_bytes(const unsigned char *p, size_t n, unsigned char c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* How many of the npages pages at p are resident (mincore()), or -1. */
static int resident_pages(void *p, size_t npages)
{
	unsigned char vec[16];
	size_t i;
	int n = 0;

	if (npages > sizeof(vec) ||
	    mincore(p, npages * (size_t)getpagesize(), vec))
		return -1;
	for (i = 0; i < npages; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * A non-blocking receive on an empty channel writes nothing into the
 * buffer and does not even fault its pages in: a buffer of 0xAA stays
 * 0xAA, fresh anonymous pages stay non-resident, and a MAP_SHARED file
 * mapping keeps its bytes. The buffers straddle a page boundary. The same
 * through read(2) and readv(2) on a non-blocking receiver endpoint. Then
 * a message does land in the shared mapping, and only its bytes change.
 */
TEST_F(io, nonblock_recv_leaves_buffer)
{
	const size_t pg = getpagesize();
	unsigned char buf[2 * IO_MSG_SIZE], *anon, *shm, *file;
	struct iovec iov[2];
	uint32_t len;
	int mfd, nbfd;

	memset(buf, 0xAA, sizeof(buf));
	len = sizeof(buf);
	EXPECT_ERRNO(EAGAIN, io_recv(self, variant, buf, &len,
				     CHAN_MSG_NONBLOCK, 0));
	EXPECT_TRUE(all_bytes(buf, sizeof(buf), 0xAA));

	anon = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_EQ(0, resident_pages(anon, 4));
	len = IO_MSG_SIZE;
	EXPECT_ERRNO(EAGAIN, io_recv(self, variant, anon + pg - IO_MSG_SIZE / 2,
				     &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(0, resident_pages(anon, 4));

	mfd = memfd_create("ct-recv-buffer", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	file = malloc(2 * pg);
	ASSERT_NE(NULL, file);
	memset(file, 0xAA, 2 * pg);
	ASSERT_EQ((ssize_t)(2 * pg), pwrite(mfd, file, 2 * pg, 0));
	shm = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, shm);
	len = IO_MSG_SIZE;
	EXPECT_ERRNO(EAGAIN, io_recv(self, variant, shm + pg - IO_MSG_SIZE / 2,
				     &len, CHAN_MSG_NONBLOCK, 0));
	ASSERT_EQ((ssize_t)(2 * pg), pread(mfd, file, 2 * pg, 0));
	EXPECT_TRUE(all_bytes(file, 2 * pg, 0xAA));

	/* read(2) and readv(2) */
	nbfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, CHAN_OPEN_NONBLOCK,
		       0);
	ASSERT_LE(0, nbfd);
	EXPECT_ERRNO(EAGAIN, read(nbfd, buf, sizeof(buf)));
	EXPECT_TRUE(all_bytes(buf, sizeof(buf), 0xAA));
	EXPECT_ERRNO(EAGAIN, read(nbfd, anon + 2 * pg - IO_MSG_SIZE / 2,
				  IO_MSG_SIZE));
	iov[0].iov_base = anon + 3 * pg - 8;
	iov[0].iov_len = 16;
	iov[1].iov_base = anon + pg / 2;
	iov[1].iov_len = IO_MSG_SIZE;
	EXPECT_ERRNO(EAGAIN, readv(nbfd, iov, 2));
	EXPECT_EQ(0, resident_pages(anon, 4));
	iov[0].iov_base = shm + pg - 8;
	iov[0].iov_len = 16;
	iov[1].iov_base = shm;
	iov[1].iov_len = IO_MSG_SIZE;
	EXPECT_ERRNO(EAGAIN, readv(nbfd, iov, 2));
	EXPECT_ERRNO(EAGAIN, read(nbfd, shm + pg - 8, IO_MSG_SIZE));
	ASSERT_EQ((ssize_t)(2 * pg), pread(mfd, file, 2 * pg, 0));
	EXPECT_TRUE(all_bytes(file, 2 * pg, 0xAA));
	close(nbfd);

	/* a message taken writes exactly its own bytes */
	ASSERT_OK(io_send(self, variant, "xyz", 3, 0, 0));
	len = IO_MSG_SIZE;
	ASSERT_OK(io_recv(self, variant, shm + pg - 1, &len,
			  CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(3U, len);
	ASSERT_EQ((ssize_t)(2 * pg), pread(mfd, file, 2 * pg, 0));
	EXPECT_EQ(0, memcmp(file + pg - 1, "xyz", 3));
	EXPECT_TRUE(all_bytes(file, pg - 1, 0xAA));
	EXPECT_TRUE(all_bytes(file + pg + 2, pg - 2, 0xAA));

	munmap(shm, 2 * pg);
	munmap(anon, 4 * pg);
	close(mfd);
	free(file);
}

/*
 * Nor does a receive that times out, or one whose buffer is too small
 * for the next message (EMSGSIZE: the message stays queued).
 */
TEST_F(io, failed_recv_leaves_buffer)
{
	unsigned char buf[IO_MSG_SIZE];
	char out[40];
	uint32_t len;

	memset(buf, 0xAA, sizeof(buf));
	len = sizeof(buf);
	EXPECT_ERRNO(ETIMEDOUT, io_recv(self, variant, buf, &len,
					CHAN_MSG_TIMEOUT, SHORT_NS));
	EXPECT_TRUE(all_bytes(buf, sizeof(buf), 0xAA));
	memset(out, 'q', sizeof(out));
	ASSERT_OK(io_send(self, variant, out, sizeof(out), 0, 0));
	len = 10;
	EXPECT_ERRNO(EMSGSIZE, io_recv(self, variant, buf, &len,
				       CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(sizeof(out), len);
	EXPECT_TRUE(all_bytes(buf, sizeof(buf), 0xAA));
	len = 10;
	EXPECT_ERRNO(EMSGSIZE, io_recv(self, variant, buf, &len, 0, 0));
	EXPECT_TRUE(all_bytes(buf, sizeof(buf), 0xAA));
}

/* ---- absolute timeouts in a time namespace ---- */

#define TIMENS_OFFSET_S	10000	/* how far the namespace's clock is ahead */
#define TIMENS_SKIP	203	/* exit code: no time namespaces here */
#define TIMENS_HUNG	204	/* exit code: the grandchild did not time out */

/*
 * In a new time namespace whose CLOCK_MONOTONIC is 10000 s ahead of the
 * host's, a receive with an absolute deadline 200 ms ahead (on that
 * namespace's clock) ends with ETIMEDOUT after about 200 ms. A kernel
 * that read the deadline on the host's clock would wait 10000 s: the wait
 * is bounded at 5 s and the grandchild killed.
 */
static int timens_child(int fd, uint32_t id, uint64_t *res)
{
	static const char offs[] = "monotonic 10000 0";
	pid_t pid;
	int tfd, rc;

	if (unshare(CLONE_NEWTIME))
		return errno == EINVAL ? TIMENS_SKIP : CT_EXIT_SETUP;
	tfd = open("/proc/self/timens_offsets", O_WRONLY);
	if (tfd < 0)
		return CT_EXIT_SETUP;
	if (write(tfd, offs, strlen(offs)) != (ssize_t)strlen(offs))
		return CT_EXIT_SETUP;
	close(tfd);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return CT_EXIT_SETUP;
	if (pid == 0) {
		/* the grandchild lives in the new time namespace */
		uint64_t v, t0, deadline;
		uint32_t len = sizeof(v);
		int ret;

		t0 = ct_now_ns();
		res[0] = t0;
		deadline = t0 + 200 * CT_MS;
		ret = ct_recv(fd, id, &v, &len,
			      CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME, deadline);
		res[1] = ct_now_ns();
		res[2] = deadline;
		_exit(ret ? errno : CT_EXIT_UNEXPECTED_OK);
	}
	rc = ct_wait_exit(pid, 5000);
	if (rc == CT_WAIT_TIMEOUT)
		return TIMENS_HUNG;
	return rc == ETIMEDOUT ? 0 : rc;
}

TEST_F_TIMEOUT(io, timeout_absolute_time_namespace, 60)
{
	uint64_t *res = self->shared, host_t0;
	int rc;

	memset(res, 0, 4 * sizeof(*res));
	host_t0 = ct_now_ns();
	fflush(stdout);
	self->pid[0] = fork();
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0)
		_exit(timens_child(variant->by_id ? self->dev : self->rfd,
				   variant->by_id ? self->id : 0, res));
	rc = ct_reap(&self->pid[0], WAIT_MS);
	if (rc == TIMENS_SKIP)
		SKIP(return, "no time namespaces (CONFIG_TIME_NS)");
	if (rc == TIMENS_HUNG)
		TH_LOG("the receive with a deadline 200 ms ahead on the namespace's clock was still waiting after 5 s");
	ASSERT_EQ(0, rc);
	/* the grandchild's clock really was 10000 s ahead */
	EXPECT_LE(host_t0 + (TIMENS_OFFSET_S - 1) * CT_SEC, res[0]);
	/* not early, and not much late */
	EXPECT_LE(res[2], res[1]);
	EXPECT_GT(res[0] + 5 * CT_SEC, res[1]);
}

/* ---- relative timeouts across signals ---- */

/* What a timed receiver child saw. */
struct timed_res {
	uint64_t t0;		/* before the call */
	uint64_t t1;		/* after it */
	uint64_t t2;		/* after the retry (if any) */
	uint64_t left;		/* chan_msg.timeout_ns after the call */
	uint64_t left2;		/* and after the retry */
	uint64_t flags;		/* chan_msg.flags after the call */
	int64_t err;		/* errno of the call, 0 if it succeeded */
	int64_t err2;		/* of the retry */
	uint64_t hits;		/* SA_RESTART handler runs */
};

/*
 * One receive with flags/timeout_ns, the struct kept so that the caller
 * sees what the kernel wrote back into it. restarting: SIGUSR2 gets an
 * SA_RESTART handler (SIGUSR1 always interrupts). retry: after EINTR, call
 * again with the same struct (as a caller who wants to keep the end).
 */
static int timed_recv_child(int fd, uint32_t id, uint32_t flags,
			    uint64_t timeout_ns, bool restarting, bool retry,
			    struct timed_res *r)
{
	uint64_t v;
	struct chan_msg m = {
		.size = sizeof(m), .flags = flags, .id = id,
		.len = sizeof(v), .buf = (uintptr_t)&v,
		.timeout_ns = timeout_ns,
	};
	int ret;

	if (ct_install_interrupting(SIGUSR1))
		return CT_EXIT_SETUP;
	if (restarting && ct_install_restarting(SIGUSR2, &r->hits))
		return CT_EXIT_SETUP;
	r->t0 = ct_now_ns();
	ret = ioctl(fd, CHAN_IOC_RECV, &m);
	r->t1 = ct_now_ns();
	r->err = ret ? errno : 0;
	r->left = m.timeout_ns;
	r->flags = m.flags;
	if (retry && ret && r->err == EINTR) {
		m.len = sizeof(v);
		ret = ioctl(fd, CHAN_IOC_RECV, &m);
		r->t2 = ct_now_ns();
		r->err2 = ret ? errno : 0;
		r->left2 = m.timeout_ns;
	}
	return 0;
}

static pid_t timed_recv_spawn(FIXTURE_DATA(io) *self,
			      const FIXTURE_VARIANT(io) *variant,
			      uint32_t flags, uint64_t timeout_ns,
			      bool restarting, bool retry)
{
	struct timed_res *r = (void *)self->shared;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		_exit(timed_recv_child(variant->by_id ? self->dev : self->rfd,
				       variant->by_id ? self->id : 0, flags,
				       timeout_ns, restarting, retry, r));
	return pid;
}

/* Sleep until ns after the child's t0. */
static void sleep_until_after(uint64_t t0, uint64_t ns)
{
	uint64_t now = ct_now_ns();

	if (now < t0 + ns)
		ct_sleep_ms((t0 + ns - now) / CT_MS);
}

/*
 * A 1.5 s relative receive, interrupted at about 0.7 s by a stop (then a
 * continue @stop_ms later) or by a signal whose handler has SA_RESTART:
 * the call is restarted and keeps its end, t0 + 1.5 s, however long it
 * was stopped. It ends with ETIMEDOUT, never before 1.4 s, and not a whole
 * timeout after the interruption (a restart that began the 1.5 s afresh
 * would end at about 2.2 s, plus the stop; the check allows half the 0.7 s
 * of slack, TCG being slow). A stop that outlasts the deadline ends the
 * call as soon as it continues: a restart that waited the time that was
 * left when it stopped (select(2)'s way) would wait 0.8 s more.
 */
static void timed_recv_interrupted(struct __test_metadata *_metadata,
				   FIXTURE_DATA(io) *self,
				   const FIXTURE_VARIANT(io) *variant,
				   bool stop, unsigned int stop_ms)
{
	const uint64_t tmo = 1500 * CT_MS;
	struct timed_res *r = (void *)self->shared;
	uint64_t t_stop, t_cont, s, c, elapsed;

	self->pid[0] = timed_recv_spawn(self, variant, CHAN_MSG_TIMEOUT, tmo,
					!stop, false);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	sleep_until_after(r->t0, 700 * CT_MS);
	t_stop = ct_now_ns();
	if (stop) {
		ASSERT_OK(kill(self->pid[0], SIGSTOP));
		ASSERT_TRUE(ct_wait_stopped(self->pid[0], WAIT_MS));
		ct_sleep_ms(stop_ms);
		t_cont = ct_now_ns();
		ASSERT_OK(kill(self->pid[0], SIGCONT));
	} else {
		ASSERT_OK(kill(self->pid[0], SIGUSR2));
		t_cont = t_stop;
	}
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	s = t_stop - r->t0;
	c = t_cont - r->t0;
	elapsed = r->t1 - r->t0;
	TH_LOG("interrupted at %.3f s, continued at %.3f s, ended at %.3f s with errno %d",
	       s / 1e9, c / 1e9, elapsed / 1e9, (int)r->err);
	EXPECT_EQ(ETIMEDOUT, r->err);
	if (!stop) {
		EXPECT_EQ(1U, r->hits);
	}
	EXPECT_LE(tmo - 100 * CT_MS, elapsed);
	if (c < tmo) {
		EXPECT_GT(3 * CT_SEC, elapsed);
		/* the time before the interruption was not waited again */
		EXPECT_GT(c + tmo - s / 2, elapsed);
	} else {
		/* past the end when it continued: it ends at once */
		EXPECT_GT(c + (tmo - s) / 2, elapsed);
	}
}

TEST_F_TIMEOUT(io, timed_recv_stop_cont_keeps_end, 60)
{
	timed_recv_interrupted(_metadata, self, variant, true, 200);
}

TEST_F_TIMEOUT(io, timed_recv_long_stop_keeps_end, 60)
{
	timed_recv_interrupted(_metadata, self, variant, true, 1800);
}

TEST_F_TIMEOUT(io, timed_recv_sa_restart_keeps_end, 60)
{
	timed_recv_interrupted(_metadata, self, variant, false, 0);
}

/*
 * A handler without SA_RESTART: EINTR, and the struct now holds the same
 * deadline given absolutely (CHAN_MSG_ABSTIME added to flags, timeout_ns
 * the deadline on CLOCK_MONOTONIC), so a caller who calls again with the
 * same struct keeps the end.
 */
TEST_F_TIMEOUT(io, timed_recv_eintr_gives_deadline, 60)
{
	const uint64_t tmo = 2 * CT_SEC;
	struct timed_res *r = (void *)self->shared;
	uint64_t t_blocked, t_kill;

	self->pid[0] = timed_recv_spawn(self, variant, CHAN_MSG_TIMEOUT, tmo,
					false, true);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	t_blocked = ct_now_ns();
	ct_sleep_ms(400);
	t_kill = ct_now_ns();
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	TH_LOG("EINTR after %.3f s with the deadline at %.3f s; the retry ended at %.3f s",
	       (r->t1 - r->t0) / 1e9, ((int64_t)r->left - (int64_t)r->t0) / 1e9,
	       (r->t2 - r->t0) / 1e9);
	ASSERT_EQ(EINTR, r->err);
	EXPECT_EQ(CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME, r->flags);
	/* The call began after t0 and before we saw it asleep. */
	EXPECT_LE(r->t0 + tmo, r->left);
	EXPECT_GE(t_blocked + tmo, r->left);
	EXPECT_LT(t_kill, r->left);
	/* called again with the same struct: ETIMEDOUT at the original end */
	EXPECT_EQ(ETIMEDOUT, r->err2);
	EXPECT_LE(r->left, r->t2);
	EXPECT_EQ(r->left, r->left2);
	EXPECT_GT(tmo + CT_SEC, r->t2 - r->t0);
}

/*
 * An absolute deadline is an input the kernel leaves alone: after EINTR
 * it is unchanged, and an SA_RESTART handler's restart still ends at it.
 */
static void abstime_recv_interrupt(struct __test_metadata *_metadata,
				   FIXTURE_DATA(io) *self,
				   const FIXTURE_VARIANT(io) *variant,
				   uint64_t deadline, bool restarting)
{
	self->pid[0] = timed_recv_spawn(self, variant,
					CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
					deadline, restarting, false);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], restarting ? SIGUSR2 : SIGUSR1));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
}

TEST_F_TIMEOUT(io, abstime_recv_interrupted_keeps_deadline, 60)
{
	struct timed_res *r = (void *)self->shared;
	uint64_t deadline;

	deadline = ct_now_ns() + 20 * CT_SEC;
	abstime_recv_interrupt(_metadata, self, variant, deadline, false);
	EXPECT_EQ(EINTR, r->err);
	EXPECT_EQ(deadline, r->left);

	deadline = ct_now_ns() + 1500 * CT_MS;
	abstime_recv_interrupt(_metadata, self, variant, deadline, true);
	EXPECT_EQ(1U, r->hits);
	EXPECT_EQ(ETIMEDOUT, r->err);
	EXPECT_EQ(deadline, r->left);
	EXPECT_LE(deadline, r->t1);
	EXPECT_GT(deadline + CT_SEC, r->t1);
}

/* A fatal signal ends a blocked waiter; the channel keeps working. */
TEST_F(io, killed_waiter)
{
	struct ct_op op = io_op(self, variant, CT_OP_RECV);
	uint64_t v = 9;
	uint32_t len = sizeof(v);

	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGKILL));
	ASSERT_EQ(128 + SIGKILL, ct_reap(&self->pid[0], WAIT_MS));
	ASSERT_OK(io_send(self, variant, &v, sizeof(v), 0, 0));
	ASSERT_OK(io_recv(self, variant, &v, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(9U, v);
}

/* ---- signals: stop/continue and handlers, on every blocking path ---- */

/*
 * A call blocked without a timeout (receive on an empty channel, send on a
 * full one; by ioctl on a channel fd or by ID, or read(2)/write(2)) is
 * restarted after SIGSTOP+SIGCONT and after a handler with SA_RESTART, as
 * a pipe read is; only a handler without SA_RESTART makes it fail with
 * EINTR. Either way nothing is taken or queued by the interrupted call.
 */
FIXTURE(sig) {
	int dev;
	uint32_t id;
	int sfd, rfd;
	uint64_t *shared;	/* [0]: received value, [1]: handler runs */
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_VARIANT(sig) {
	int kind;		/* CT_OP_* */
	bool by_id;
	long nr;		/* the system call it sleeps in */
};

FIXTURE_VARIANT_ADD(sig, recv_fd) {
	.kind = CT_OP_RECV, .by_id = false, .nr = SYS_ioctl,
};

FIXTURE_VARIANT_ADD(sig, recv_id) {
	.kind = CT_OP_RECV, .by_id = true, .nr = SYS_ioctl,
};

FIXTURE_VARIANT_ADD(sig, read) {
	.kind = CT_OP_READ, .by_id = false, .nr = SYS_read,
};

FIXTURE_VARIANT_ADD(sig, send_fd) {
	.kind = CT_OP_SEND, .by_id = false, .nr = SYS_ioctl,
};

FIXTURE_VARIANT_ADD(sig, send_id) {
	.kind = CT_OP_SEND, .by_id = true, .nr = SYS_ioctl,
};

FIXTURE_VARIANT_ADD(sig, write) {
	.kind = CT_OP_WRITE, .by_id = false, .nr = SYS_write,
};

static bool sig_sends(const FIXTURE_VARIANT(sig) *v)
{
	return v->kind == CT_OP_SEND || v->kind == CT_OP_WRITE;
}

FIXTURE_SETUP(sig)
{
	uint64_t i;

	ASSERT_TRUE(io_chan_setup(&self->dev, &self->id, &self->sfd,
				  &self->rfd, (void **)&self->shared));
	/* a sender needs a full channel to block on */
	if (sig_sends(variant))
		for (i = 0; i < IO_CAPACITY; i++)
			ASSERT_OK(ct_send(self->sfd, 0, &i, sizeof(i), 0, 0));
}

FIXTURE_TEARDOWN(sig)
{
	io_chan_teardown(self->pid, self->dev, self->id, self->sfd, self->rfd);
}

/* The blocked call in a child; restarting: SA_RESTART handler for SIGUSR2. */
static pid_t sig_spawn(FIXTURE_DATA(sig) *self,
		       const FIXTURE_VARIANT(sig) *v, bool restarting)
{
	struct ct_op op = {
		.kind = v->kind,
		.fd = v->by_id ? self->dev :
		      sig_sends(v) ? self->sfd : self->rfd,
		.id = v->by_id ? self->id : 0,
		.value = 4242,
		.result = &self->shared[0],
	};
	pid_t pid;

	self->shared[0] = 0;
	self->shared[1] = 0;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		if (restarting &&
		    ct_install_restarting(SIGUSR2, &self->shared[1]))
			_exit(CT_EXIT_SETUP);
		_exit(ct_op_run(&op));
	}
	return pid;
}

/* Nothing was taken or queued by the interrupted call. */
static void sig_check_untouched(struct __test_metadata *_metadata,
				FIXTURE_DATA(sig) *self,
				const FIXTURE_VARIANT(sig) *v)
{
	struct chan_info info;

	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(sig_sends(v) ? IO_CAPACITY : 0U, info.depth);
	EXPECT_EQ(sig_sends(v) ? IO_CAPACITY : 0U, info.sent);
	EXPECT_EQ(0U, info.received);
}

/* Let the blocked call complete (a message, or room) and check it did. */
static void sig_complete(struct __test_metadata *_metadata,
			 FIXTURE_DATA(sig) *self,
			 const FIXTURE_VARIANT(sig) *v)
{
	uint64_t x = 4242, i;
	uint32_t len;

	if (!sig_sends(v)) {
		ASSERT_OK(ct_send(self->sfd, 0, &x, sizeof(x), 0, 0));
		ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
		EXPECT_EQ(4242U, self->shared[0]);
		return;
	}
	len = sizeof(x);
	ASSERT_OK(ct_recv(self->rfd, 0, &x, &len, 0, 0));
	EXPECT_EQ(0U, x);
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	for (i = 1; i <= IO_CAPACITY; i++) {
		len = sizeof(x);
		ASSERT_OK(ct_recv(self->rfd, 0, &x, &len, CHAN_MSG_NONBLOCK,
				  0));
		EXPECT_EQ(i == IO_CAPACITY ? 4242 : i, x);
	}
}

/* Ctrl-Z and fg: the call sleeps on, and completes as if never stopped. */
TEST_F(sig, stop_cont)
{
	self->pid[0] = sig_spawn(self, variant, false);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], variant->nr, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGSTOP));
	ASSERT_TRUE(ct_wait_stopped(self->pid[0], WAIT_MS));
	ct_sleep_ms(100);
	ASSERT_OK(kill(self->pid[0], SIGCONT));
	/* restarted, not failed: asleep in the same call again */
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], variant->nr, WAIT_MS));
	sig_check_untouched(_metadata, self, variant);
	sig_complete(_metadata, self, variant);
}

/* A handler with SA_RESTART runs, and the call goes back to sleep. */
TEST_F(sig, sa_restart_handler)
{
	uint64_t t0;

	self->pid[0] = sig_spawn(self, variant, true);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], variant->nr, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR2));
	t0 = ct_now_ns();
	while (!__atomic_load_n(&self->shared[1], __ATOMIC_ACQUIRE)) {
		ASSERT_FALSE(ct_exited(self->pid[0]));
		ASSERT_GT(WAIT_MS * CT_MS, ct_now_ns() - t0);
		ct_sleep_ms(2);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], variant->nr, WAIT_MS));
	sig_check_untouched(_metadata, self, variant);
	sig_complete(_metadata, self, variant);
	EXPECT_EQ(1U, self->shared[1]);
}

/* A handler without SA_RESTART: EINTR. */
TEST_F(sig, handler_without_sa_restart)
{
	self->pid[0] = sig_spawn(self, variant, false);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], variant->nr, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(EINTR, ct_reap(&self->pid[0], WAIT_MS));
	sig_check_untouched(_metadata, self, variant);
}

/* ---- endpoints: roles, O_NONBLOCK, read(2)/write(2) ---- */

FIXTURE(ep) {
	int dev;
	uint32_t id;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(ep)
{
	ASSERT_TRUE(io_chan_setup(&self->dev, &self->id, NULL, NULL, NULL));
}

FIXTURE_TEARDOWN(ep)
{
	io_chan_teardown(self->pid, self->dev, self->id, -1, -1);
}

/* A channel fd is a stream of messages: it cannot seek (as a pipe). */
TEST_F(ep, lseek_espipe)
{
	int fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND | CHAN_ROLE_RECV,
			 0, 0);

	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ESPIPE, lseek(fd, 0, SEEK_SET));
	EXPECT_ERRNO(ESPIPE, lseek(fd, 0, SEEK_CUR));
	EXPECT_ERRNO(ESPIPE, lseek(fd, 8, SEEK_END));
	close(fd);
}

TEST_F(ep, wrong_role_ebadf)
{
	int sfd, rfd;
	uint64_t v = 1;
	uint32_t len = sizeof(v);
	struct chan_info info;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	EXPECT_ERRNO(EBADF, ct_send(rfd, 0, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(EBADF, write(rfd, &v, sizeof(v)));
	ASSERT_OK(ct_send(sfd, 0, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(EBADF, ct_recv(sfd, 0, &v, &len, 0, 0));
	EXPECT_ERRNO(EBADF, read(sfd, &v, sizeof(v)));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.received);
	close(sfd);
	close(rfd);
}

/* ID-style use is not an endpoint: it moves no endpoint count. */
TEST_F(ep, id_style_not_counted)
{
	struct chan_info info;
	uint64_t v = 3;
	uint32_t len = sizeof(v);

	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.senders);
	EXPECT_EQ(0U, info.receivers);
	EXPECT_EQ(0U, info.state);
	ASSERT_OK(ct_recv(self->dev, self->id, &v, &len, 0, 0));
	EXPECT_EQ(3U, v);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.senders);
	EXPECT_EQ(0U, info.receivers);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.received);
}

/* A channel fd opened O_NONBLOCK never sleeps, whatever the flags. */
TEST_F(ep, nonblocking_fd)
{
	uint64_t v = 1;
	uint32_t len = sizeof(v);
	int sfd, rfd, i;

	sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, CHAN_OPEN_NONBLOCK,
		      0);
	rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, CHAN_OPEN_NONBLOCK,
		      0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, rfd);
	EXPECT_ERRNO(EAGAIN, ct_recv(rfd, 0, &v, &len, 0, 0));
	EXPECT_ERRNO(EAGAIN, read(rfd, &v, sizeof(v)));
	for (i = 0; i < (int)IO_CAPACITY; i++)
		ASSERT_OK(ct_send(sfd, 0, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(EAGAIN, ct_send(sfd, 0, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(EAGAIN, write(sfd, &v, sizeof(v)));
	close(sfd);
	close(rfd);
}

/* O_NONBLOCK set later with fcntl() counts too. */
TEST_F(ep, nonblocking_by_fcntl)
{
	uint64_t v = 1;
	uint32_t len = sizeof(v);
	int rfd;

	rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, rfd);
	ASSERT_OK(fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK));
	EXPECT_ERRNO(EAGAIN, ct_recv(rfd, 0, &v, &len, 0, 0));
	EXPECT_ERRNO(EAGAIN, read(rfd, &v, sizeof(v)));
	close(rfd);
}

TEST_F(ep, read_write)
{
	char out[IO_MSG_SIZE + 1], in[IO_MSG_SIZE + 1];
	struct chan_info info;
	uint32_t len;
	int sfd, rfd;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	memset(out, 'w', sizeof(out));

	/* one whole message per call */
	ASSERT_EQ(5, write(sfd, out, 5));
	ASSERT_EQ(IO_MSG_SIZE, write(sfd, out, IO_MSG_SIZE));
	EXPECT_ERRNO(EMSGSIZE, write(sfd, out, IO_MSG_SIZE + 1));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(2U, info.depth);
	ASSERT_EQ(5, read(rfd, in, sizeof(in)));
	/* too small a buffer: EMSGSIZE, the message stays */
	EXPECT_ERRNO(EMSGSIZE, read(rfd, in, IO_MSG_SIZE - 1));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	ASSERT_EQ(IO_MSG_SIZE, read(rfd, in, IO_MSG_SIZE));
	EXPECT_EQ(0, memcmp(in, out, IO_MSG_SIZE));

	/* read(2)/write(2) and the ioctls share one queue */
	ASSERT_OK(ct_send(sfd, 0, "ioctl", 5, 0, 0));
	ASSERT_EQ(5, read(rfd, in, sizeof(in)));
	EXPECT_EQ(0, memcmp(in, "ioctl", 5));
	ASSERT_EQ(5, write(sfd, "write", 5));
	len = sizeof(in);
	ASSERT_OK(ct_recv(rfd, 0, in, &len, 0, 0));
	EXPECT_EQ(5U, len);
	EXPECT_EQ(0, memcmp(in, "write", 5));
	close(sfd);
	close(rfd);
}

/* read(2) blocks until a write(2) from another process. */
TEST_F(ep, blocking_read_woken_by_write)
{
	struct ct_op op = { .kind = CT_OP_READ };
	uint64_t *shared = ct_shared_alloc(4096);
	uint64_t v = 77;
	int sfd, rfd;

	ASSERT_NE(NULL, shared);
	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	op.fd = rfd;
	op.result = shared;
	op.nclose = 1;
	op.close_fd[0] = sfd;
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_read, WAIT_MS));
	ASSERT_EQ(8, write(sfd, &v, sizeof(v)));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(77U, shared[0]);
	close(sfd);
	close(rfd);
}

/*
 * writev(2) is one message per call, its iovecs gathered, as on a
 * SOCK_SEQPACKET socket; more than msg_size in all is EMSGSIZE and queues
 * nothing.
 */
TEST_F(ep, writev_gathers_one_message)
{
	char big[IO_MSG_SIZE], in[IO_MSG_SIZE + 1];
	struct chan_info info;
	struct iovec iov[3];
	int sfd, rfd;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	iov[0].iov_base = "hello";
	iov[0].iov_len = 5;
	iov[1].iov_base = " ";
	iov[1].iov_len = 1;
	iov[2].iov_base = "world";
	iov[2].iov_len = 5;
	ASSERT_EQ(11, writev(sfd, iov, 3));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(1U, info.sent);
	memset(in, 0, sizeof(in));
	ASSERT_EQ(11, read(rfd, in, sizeof(in)));
	EXPECT_STREQ("hello world", in);

	/* an empty iovec among them adds nothing */
	iov[1].iov_len = 0;
	ASSERT_EQ(10, writev(sfd, iov, 3));
	memset(in, 0, sizeof(in));
	ASSERT_EQ(10, read(rfd, in, sizeof(in)));
	EXPECT_STREQ("helloworld", in);

	/* exactly msg_size across iovecs fits; one byte more does not */
	memset(big, 'b', sizeof(big));
	iov[0].iov_base = big;
	iov[0].iov_len = IO_MSG_SIZE / 2;
	iov[1].iov_base = big;
	iov[1].iov_len = IO_MSG_SIZE / 2;
	iov[2].iov_base = big;
	iov[2].iov_len = 1;
	EXPECT_ERRNO(EMSGSIZE, writev(sfd, iov, 3));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(2U, info.sent);
	ASSERT_EQ(IO_MSG_SIZE, writev(sfd, iov, 2));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	ASSERT_EQ(IO_MSG_SIZE, read(rfd, in, sizeof(in)));
	EXPECT_EQ(0, memcmp(in, big, IO_MSG_SIZE));
	close(sfd);
	close(rfd);
}

/*
 * readv(2) takes one message per call and scatters it over the iovecs in
 * order; iovecs too small in all are EMSGSIZE, and the message stays.
 */
TEST_F(ep, readv_scatters_one_message)
{
	static const char msg[] = "0123456789abcdefghij";	/* 20 bytes */
	char a[4], b[6], c[32], in[IO_MSG_SIZE];
	struct chan_info info;
	struct iovec iov[3];
	int sfd, rfd;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	ASSERT_OK(ct_send(sfd, 0, msg, 20, 0, 0));
	ASSERT_OK(ct_send(sfd, 0, "XYZ", 3, 0, 0));
	memset(c, '.', sizeof(c));
	iov[0].iov_base = a;
	iov[0].iov_len = sizeof(a);
	iov[1].iov_base = b;
	iov[1].iov_len = sizeof(b);
	iov[2].iov_base = c;
	iov[2].iov_len = sizeof(c);
	ASSERT_EQ(20, readv(rfd, iov, 3));
	EXPECT_EQ(0, memcmp(a, "0123", 4));
	EXPECT_EQ(0, memcmp(b, "456789", 6));
	EXPECT_EQ(0, memcmp(c, "abcdefghij", 10));
	EXPECT_EQ('.', c[10]);
	/* one message per call: the second is still queued */
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(1U, info.received);
	iov[0].iov_len = 2;
	ASSERT_EQ(3, readv(rfd, iov, 3));
	EXPECT_EQ(0, memcmp(a, "XY", 2));
	EXPECT_EQ('Z', b[0]);

	/* 10 bytes of iovecs for a 20-byte message */
	ASSERT_OK(ct_send(sfd, 0, msg, 20, 0, 0));
	iov[0].iov_len = sizeof(a);
	EXPECT_ERRNO(EMSGSIZE, readv(rfd, iov, 2));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(2U, info.received);
	ASSERT_EQ(20, read(rfd, in, sizeof(in)));
	EXPECT_EQ(0, memcmp(in, msg, 20));
	close(sfd);
	close(rfd);
}

/*
 * A zero-length message reads as 0 bytes (as on SOCK_SEQPACKET); the end
 * of the stream (no sender endpoint left, drained) is always -1 EPIPE,
 * never 0, and an empty channel with a sender is EAGAIN when non-blocking.
 */
TEST_F(ep, read_zero_length_message)
{
	struct chan_info info;
	struct iovec iov[2];
	char buf[IO_MSG_SIZE];
	int sfd, rfd;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	ASSERT_OK(ct_send(sfd, 0, buf, 0, 0, 0));
	ASSERT_OK(ct_send(sfd, 0, buf, 0, 0, 0));
	ASSERT_OK(ct_send(sfd, 0, "end", 3, 0, 0));
	ASSERT_EQ(0, read(rfd, buf, sizeof(buf)));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(2U, info.depth);
	EXPECT_EQ(1U, info.received);
	iov[0].iov_base = buf;
	iov[0].iov_len = 4;
	iov[1].iov_base = buf + 4;
	iov[1].iov_len = 4;
	ASSERT_EQ(0, readv(rfd, iov, 2));
	ASSERT_EQ(3, read(rfd, buf, sizeof(buf)));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(3U, info.received);

	ASSERT_OK(fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK));
	EXPECT_ERRNO(EAGAIN, read(rfd, buf, sizeof(buf)));
	EXPECT_ERRNO(EAGAIN, readv(rfd, iov, 2));
	ASSERT_OK(fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) & ~O_NONBLOCK));

	/* an empty message still queued when the senders go is read first */
	ASSERT_OK(ct_send(sfd, 0, buf, 0, 0, 0));
	ASSERT_OK(close(sfd));
	ASSERT_EQ(0, read(rfd, buf, sizeof(buf)));
	EXPECT_ERRNO(EPIPE, read(rfd, buf, sizeof(buf)));
	EXPECT_ERRNO(EPIPE, readv(rfd, iov, 2));
	close(rfd);
}

/*
 * A bad buffer: EFAULT. A receive checks its buffer before it takes a
 * message, so the message stays queued.
 */
TEST_F(ep, read_write_bad_buffer)
{
	struct chan_info info;
	char buf[IO_MSG_SIZE];
	int sfd, rfd;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	EXPECT_ERRNO(EFAULT, write(sfd, ct_bad_ptr(), 8));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(0U, info.sent);
	ASSERT_EQ(4, write(sfd, "kept", 4));
	EXPECT_ERRNO(EFAULT, read(rfd, ct_bad_ptr(), IO_MSG_SIZE));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(0U, info.dropped);
	ASSERT_EQ(4, read(rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "kept", 4));
	close(sfd);
	close(rfd);
}

/* A receiver thread for ep.fault_in_stall_passes_wakeup. */
struct stall_rx {
	int fd;
	void *buf;
	pid_t tid;
	long ret;
	int err;
	atomic_bool done;
};

static void *stall_rx_fn(void *arg)
{
	struct stall_rx *r = arg;
	uint32_t len = sizeof(uint64_t);

	r->tid = gettid();
	r->ret = ct_recv(r->fd, 0, r->buf, &len, 0, 0);
	r->err = r->ret ? errno : 0;
	atomic_store(&r->done, true);
	return NULL;
}

/*
 * A receiver whose buffer faults in slowly (a userfaultfd page nobody
 * serves, as a hung FUSE or NFS file would) must not hold on to the
 * wake-up meant for the waiters behind it. A sleeps first, B behind it;
 * one message wakes A, which finds it but must fault its buffer in first.
 * A leaves the queue and passes the wake-up on before it faults, so B
 * takes the message; before that fix B slept beside it.
 */
TEST_F_TIMEOUT(ep, fault_in_stall_passes_wakeup, 60)
{
	struct stall_rx a = { 0 }, b = { 0 };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffdio_zeropage zp = { 0 };
	pthread_t ta, tb;
	uint64_t vb = 0, deadline;
	long page = sysconf(_SC_PAGESIZE);
	int sfd, rfd, uffd;
	void *slow;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_OK(ioctl(uffd, UFFDIO_API, &api));
	slow = mmap(NULL, page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, slow);
	reg.range.start = (uintptr_t)slow;
	reg.range.len = page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_OK(ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	a.fd = b.fd = rfd;
	a.buf = slow;
	b.buf = &vb;
	ASSERT_EQ(0, pthread_create(&ta, NULL, stall_rx_fn, &a));
	while (!a.tid)
		ct_sleep_ms(1);
	ASSERT_TRUE(ct_wait_thread_blocked(a.tid, SYS_ioctl, WAIT_MS));
	ASSERT_EQ(0, pthread_create(&tb, NULL, stall_rx_fn, &b));
	while (!b.tid)
		ct_sleep_ms(1);
	ASSERT_TRUE(ct_wait_thread_blocked(b.tid, SYS_ioctl, WAIT_MS));

	ASSERT_OK(ct_send_u64(sfd, 0, 42, 0));
	deadline = ct_now_ns() + 5 * CT_SEC;
	while (!atomic_load(&b.done) && ct_now_ns() < deadline)
		ct_sleep_ms(10);
	EXPECT_TRUE(atomic_load(&b.done));
	EXPECT_FALSE(atomic_load(&a.done));

	/* Let A's fault-in finish, then give it a message of its own. */
	zp.range.start = (uintptr_t)slow;
	zp.range.len = page;
	EXPECT_OK(ioctl(uffd, UFFDIO_ZEROPAGE, &zp));
	ASSERT_OK(ct_send_u64(sfd, 0, 43, 0));
	if (!atomic_load(&b.done))
		ASSERT_OK(ct_send_u64(sfd, 0, 44, 0));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(0, b.ret);
	EXPECT_EQ(42U, vb);
	EXPECT_EQ(43U, *(uint64_t *)slow);
	munmap(slow, page);
	close(uffd);
	close(sfd);
	close(rfd);
}

/*
 * A buffer that is mapped but read-only: EFAULT. The buffer is checked
 * for writing once a message is there and before it is taken, so the
 * message stays queued for a receive with a good buffer.
 */
TEST_F(ep, recv_into_readonly_buffer)
{
	struct chan_info info;
	unsigned char *ro;
	uint64_t v = 0;
	uint32_t len;
	int sfd, rfd;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_OK(ct_send_u64(sfd, 0, 99, 0));
	len = sizeof(v);
	EXPECT_ERRNO(EFAULT, ct_recv(rfd, 0, ro, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(EFAULT, read(rfd, ro, sizeof(v)));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, info.received);
	ASSERT_OK(ct_recv_u64(rfd, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(99U, v);
	munmap(ro, 4096);
	close(sfd);
	close(rfd);
}

/* A receiver asleep in a thread whose buffer another thread unmaps. */
struct unmap_waiter {
	int fd;
	bool use_read;
	void *buf;
	pid_t tid;
	long ret;
	int err;
};

static void *unmap_waiter_fn(void *arg)
{
	struct unmap_waiter *w = arg;
	uint32_t len = IO_MSG_SIZE;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	if (w->use_read)
		w->ret = read(w->fd, w->buf, IO_MSG_SIZE);
	else
		w->ret = ct_recv(w->fd, 0, w->buf, &len, 0, 0);
	w->err = errno;
	return NULL;
}

/*
 * The buffer was good when the receive began and is gone when the
 * message arrives: EFAULT. A receive faults its buffer in only once a
 * message is there, and before it takes it, so the message stays queued
 * (not dropped) for the next receive. (Only a buffer unmapped in the
 * instant between that check and the copy-out loses the message, counted
 * in dropped.)
 */
static void unmapped_while_waiting(struct __test_metadata *_metadata,
				   FIXTURE_DATA(ep) *self, bool use_read)
{
	struct unmap_waiter w = { .use_read = use_read };
	struct chan_info info;
	uint64_t t0, v = 1;
	pthread_t th;
	int sfd;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &w.fd));
	w.buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, w.buf);
	ASSERT_EQ(0, pthread_create(&th, NULL, unmap_waiter_fn, &w));
	t0 = ct_now_ns();
	while (!__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE)) {
		ASSERT_GT(WAIT_MS * CT_MS, ct_now_ns() - t0);
		ct_sleep_ms(1);
	}
	ASSERT_TRUE(ct_wait_thread_blocked(w.tid, use_read ? SYS_read :
					   SYS_ioctl, WAIT_MS));
	ASSERT_OK(munmap(w.buf, 4096));
	ASSERT_OK(ct_send(sfd, 0, &v, sizeof(v), 0, 0));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EFAULT, w.err);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(0U, info.received);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(1U, info.depth);
	v = 0;
	if (use_read) {
		ASSERT_OK(fcntl(w.fd, F_SETFL,
				fcntl(w.fd, F_GETFL) | O_NONBLOCK));
		ASSERT_EQ((ssize_t)sizeof(v), read(w.fd, &v, sizeof(v)));
	} else {
		ASSERT_OK(ct_recv_u64(w.fd, 0, &v, CHAN_MSG_NONBLOCK));
	}
	EXPECT_EQ(1U, v);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.received);
	EXPECT_EQ(0U, info.depth);
	close(sfd);
	close(w.fd);
}

TEST_F(ep, recv_buffer_unmapped_while_waiting)
{
	unmapped_while_waiting(_metadata, self, false);
}

TEST_F(ep, read_buffer_unmapped_while_waiting)
{
	unmapped_while_waiting(_metadata, self, true);
}

/*
 * A thread that takes a page away and gives it back, over and over
 * (mprotect() to PROT_NONE and back, so that the address is never
 * reused by another mapping).
 */
struct flapper {
	void *addr;
	int stop;
	uint64_t flaps;
};

static void *flapper_fn(void *arg)
{
	struct flapper *f = arg;

	while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
		if (mprotect(f->addr, 4096, PROT_READ | PROT_WRITE) ||
		    madvise(f->addr, 4096, MADV_DONTNEED) ||
		    mprotect(f->addr, 4096, PROT_NONE))
			break;
		f->flaps++;
	}
	return NULL;
}

/*
 * Receives into a page that another thread takes away and gives back all
 * the time:
 * each receive either takes a message into the page, or fails with
 * EFAULT; a message is lost only if the page went in the instant between
 * the check and the copy-out, and then it is counted in dropped. The
 * counters must balance and account for every message exactly once,
 * however the race went.
 */
TEST_F_TIMEOUT(ep, recv_buffer_unmap_race_balances, 120)
{
	struct flapper f = { .stop = 0 };
	uint64_t ok = 0, efault = 0, sent = 0, v, t0;
	struct chan_info info;
	pthread_t th;
	uint32_t len;
	int sfd, rfd, ret;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	f.addr = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	ASSERT_NE(MAP_FAILED, f.addr);
	ASSERT_EQ(0, pthread_create(&th, NULL, flapper_fn, &f));
	t0 = ct_now_ns();
	while (ct_now_ns() - t0 < 3 * CT_SEC) {
		/* keep the channel from running dry */
		while (ct_send(sfd, 0, &sent, sizeof(sent), CHAN_MSG_NONBLOCK,
			       0) == 0)
			sent++;
		len = sizeof(v);
		ret = ct_recv(rfd, 0, f.addr, &len, CHAN_MSG_NONBLOCK, 0);
		if (ret == 0)
			ok++;
		else if (errno == EFAULT)
			efault++;
		else
			ASSERT_EQ(EFAULT, errno);
	}
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	TH_LOG("%" PRIu64 " sent, %" PRIu64 " received, %" PRIu64
	       " EFAULT, %" PRIu64 " dropped, %u queued (%" PRIu64 " flaps)",
	       sent, ok, efault, (uint64_t)info.dropped, info.depth,
	       f.flaps);
	EXPECT_EQ(sent, info.sent);
	EXPECT_EQ(ok, info.received);
	EXPECT_GE(efault, info.dropped);
	EXPECT_EQ(info.sent, info.received + info.dropped + info.depth);
	EXPECT_LT(0U, ok + efault);
	munmap(f.addr, 4096);
	close(sfd);
	close(rfd);
}

/* ---- disconnect, drain, EPIPE, reconnect ---- */

FIXTURE(disc) {
	int dev;
	uint32_t id;
	int sfd, rfd;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(disc)
{
	ASSERT_TRUE(io_chan_setup(&self->dev, &self->id, &self->sfd,
				  &self->rfd, NULL));
}

FIXTURE_TEARDOWN(disc)
{
	io_chan_teardown(self->pid, self->dev, self->id, self->sfd, self->rfd);
}

/* INFO.state, or UINT32_MAX if INFO failed. */
static uint32_t disc_state(FIXTURE_DATA(disc) *self)
{
	struct chan_info info;

	if (ct_info(self->dev, self->id, 0, &info))
		return UINT32_MAX;
	return info.state;
}

/* Last sender gone: receivers drain what is queued, then EPIPE. */
TEST_F(disc, drain_then_epipe)
{
	char buf[IO_MSG_SIZE];
	struct chan_info info;
	uint64_t v;
	uint32_t len;

	for (v = 1; v <= 3; v++)
		ASSERT_OK(ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	EXPECT_EQ(0U, disc_state(self));
	ASSERT_OK(close(self->sfd));
	self->sfd = -1;
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(CHAN_STATE_NO_SENDERS, info.state);
	EXPECT_EQ(0U, info.senders);
	EXPECT_EQ(1U, info.receivers);
	EXPECT_EQ(3U, info.depth);

	/* the queue drains through every path ... */
	len = sizeof(v);
	ASSERT_OK(ct_recv(self->rfd, 0, &v, &len, 0, 0));
	EXPECT_EQ(1U, v);
	len = sizeof(v);
	ASSERT_OK(ct_recv(self->dev, self->id, &v, &len, 0, 0));
	EXPECT_EQ(2U, v);
	ASSERT_EQ(8, read(self->rfd, &v, sizeof(v)));
	EXPECT_EQ(3U, v);
	/* ... then every path says EPIPE, blocking or not */
	len = sizeof(buf);
	EXPECT_ERRNO(EPIPE, ct_recv(self->rfd, 0, buf, &len, 0, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(EPIPE, ct_recv(self->rfd, 0, buf, &len,
				    CHAN_MSG_NONBLOCK, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(EPIPE, ct_recv(self->rfd, 0, buf, &len,
				    CHAN_MSG_TIMEOUT, 10 * CT_SEC));
	EXPECT_ERRNO(EPIPE, read(self->rfd, buf, sizeof(buf)));
	/*
	 * ... except ID-style, which is no endpoint and ignores disconnect:
	 * an empty channel is just empty (a blocking one would wait).
	 */
	len = sizeof(buf);
	EXPECT_ERRNO(EAGAIN, ct_recv(self->dev, self->id, buf, &len,
				     CHAN_MSG_NONBLOCK, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(ETIMEDOUT, ct_recv(self->dev, self->id, buf, &len,
					CHAN_MSG_TIMEOUT, SHORT_NS));
}

/*
 * The last sender endpoint closing wakes the receiver endpoints asleep on
 * the empty channel with EPIPE; an ID-style receiver asleep beside them
 * is no endpoint, so it sleeps on until a message comes (here one sent by
 * ID after the senders left).
 */
TEST_F(disc, blocked_receiver_woken_with_epipe)
{
	uint64_t *got = ct_shared_alloc(4096);
	struct ct_waiters w = {
		.op = {
			.kind = CT_OP_RECV, .fd = self->rfd,
			.nclose = 1, .close_fd = { self->sfd },
		},
		.dev = self->dev, .id = self->id, .n_fd = 1, .n_id = 1,
		.id_result = got,
	};
	uint64_t v = 31;

	ASSERT_NE(NULL, got);
	ASSERT_EQ(3, ct_spawn_waiters(&w, self->pid, WAIT_MS));
	ASSERT_OK(close(self->sfd));
	self->sfd = -1;
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[2], WAIT_MS));
	/* the ID-style receiver is still asleep */
	ASSERT_TRUE(ct_wait_blocked(self->pid[1], SYS_ioctl, WAIT_MS));
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	EXPECT_EQ(0, ct_reap(&self->pid[1], WAIT_MS));
	EXPECT_EQ(31U, got[0]);
	munmap(got, 4096);
}

/*
 * Last receiver gone: sender endpoints get EPIPE; an ID-style send is no
 * endpoint and ignores disconnect: it queues.
 */
TEST_F(disc, senders_epipe_without_receivers)
{
	struct chan_info info;
	uint64_t v = 1;

	ASSERT_OK(close(self->rfd));
	self->rfd = -1;
	EXPECT_EQ(CHAN_STATE_NO_RECEIVERS, disc_state(self));
	EXPECT_ERRNO(EPIPE, ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(EPIPE, ct_send(self->sfd, 0, &v, sizeof(v),
				    CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(EPIPE, write(self->sfd, &v, sizeof(v)));
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(CHAN_STATE_NO_RECEIVERS, info.state);
}

/*
 * The mirror: sender endpoints asleep on the full channel get EPIPE when
 * the last receiver endpoint closes; an ID-style sender sleeps on until
 * there is room (made here by an ID-style receive).
 */
TEST_F(disc, blocked_sender_woken_with_epipe)
{
	struct ct_waiters w = {
		.op = {
			.kind = CT_OP_SEND, .fd = self->sfd,
			.nclose = 1, .close_fd = { self->rfd },
		},
		.dev = self->dev, .id = self->id, .n_fd = 1, .n_id = 1,
		.id_value = 77,
	};
	uint64_t v;
	uint32_t len;

	for (v = 0; v < IO_CAPACITY; v++)
		ASSERT_OK(ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	ASSERT_EQ(3, ct_spawn_waiters(&w, self->pid, WAIT_MS));
	ASSERT_OK(close(self->rfd));
	self->rfd = -1;
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[2], WAIT_MS));
	/* the ID-style sender is still asleep: make room by ID */
	ASSERT_TRUE(ct_wait_blocked(self->pid[1], SYS_ioctl, WAIT_MS));
	len = sizeof(v);
	ASSERT_OK(ct_recv(self->dev, self->id, &v, &len, 0, 0));
	EXPECT_EQ(0U, v);
	EXPECT_EQ(0, ct_reap(&self->pid[1], WAIT_MS));
	for (v = 1; v <= IO_CAPACITY; v++) {
		uint64_t got;

		len = sizeof(got);
		ASSERT_OK(ct_recv(self->dev, self->id, &got, &len,
				  CHAN_MSG_NONBLOCK, 0));
		EXPECT_EQ(v == IO_CAPACITY ? 77 : v, got);
	}
}

/* A new sender endpoint reconnects the receivers. */
TEST_F(disc, reconnect_sender)
{
	uint64_t v = 1;
	uint32_t len = sizeof(v);

	ASSERT_OK(close(self->sfd));
	self->sfd = -1;
	EXPECT_ERRNO(EPIPE, ct_recv(self->rfd, 0, &v, &len, 0, 0));
	self->sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, self->sfd);
	EXPECT_EQ(0U, disc_state(self));
	len = sizeof(v);
	EXPECT_ERRNO(EAGAIN, ct_recv(self->rfd, 0, &v, &len,
				     CHAN_MSG_NONBLOCK, 0));
	len = sizeof(v);
	EXPECT_ERRNO(ETIMEDOUT, ct_recv(self->rfd, 0, &v, &len,
					CHAN_MSG_TIMEOUT, SHORT_NS));
	v = 2;
	ASSERT_OK(ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	len = sizeof(v);
	ASSERT_OK(ct_recv(self->rfd, 0, &v, &len, 0, 0));
	EXPECT_EQ(2U, v);
}

/* A new receiver endpoint reconnects the senders. */
TEST_F(disc, reconnect_receiver)
{
	uint64_t v = 1;
	uint32_t len = sizeof(v);

	ASSERT_OK(close(self->rfd));
	self->rfd = -1;
	EXPECT_ERRNO(EPIPE, ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	self->rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->rfd);
	EXPECT_EQ(0U, disc_state(self));
	v = 3;
	ASSERT_OK(ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_recv(self->rfd, 0, &v, &len, 0, 0));
	EXPECT_EQ(3U, v);
}

/* One of two senders leaving disconnects nobody. */
TEST_F(disc, last_endpoint_counts)
{
	uint64_t v = 4;
	uint32_t len = sizeof(v);
	struct chan_info info;
	int s2, r2;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &s2, &r2));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(2U, info.senders);
	EXPECT_EQ(2U, info.receivers);
	close(self->sfd);
	self->sfd = -1;
	close(self->rfd);
	self->rfd = -1;
	EXPECT_EQ(0U, disc_state(self));
	EXPECT_ERRNO(EAGAIN, ct_recv(r2, 0, &v, &len, CHAN_MSG_NONBLOCK, 0));
	ASSERT_OK(ct_send(s2, 0, &v, sizeof(v), 0, 0));
	close(s2);
	EXPECT_EQ(CHAN_STATE_NO_SENDERS, disc_state(self));
	len = sizeof(v);
	ASSERT_OK(ct_recv(r2, 0, &v, &len, 0, 0));
	EXPECT_ERRNO(EPIPE, ct_recv(r2, 0, &v, &len, 0, 0));
	close(r2);
	EXPECT_EQ(CHAN_STATE_NO_SENDERS | CHAN_STATE_NO_RECEIVERS,
		  disc_state(self));
}

/* An endpoint with both roles counts as a sender and a receiver. */
TEST_F(disc, both_roles_endpoint)
{
	struct chan_info info;
	int fd;

	close(self->sfd);
	self->sfd = -1;
	close(self->rfd);
	self->rfd = -1;
	fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0,
		     0);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_info(fd, 0, 0, &info));
	EXPECT_EQ(1U, info.senders);
	EXPECT_EQ(1U, info.receivers);
	EXPECT_EQ(0U, info.state);
	close(fd);
	EXPECT_EQ(CHAN_STATE_NO_SENDERS | CHAN_STATE_NO_RECEIVERS,
		  disc_state(self));
}

/* A process that exits without closing its endpoint leaves all the same. */
TEST_F(disc, sender_process_exit)
{
	uint64_t v;
	uint32_t len;
	pid_t pid;

	close(self->sfd);
	self->sfd = -1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);

		v = 11;
		close(self->rfd);
		if (fd < 0 || ct_send(fd, 0, &v, sizeof(v), 0, 0))
			_exit(errno);
		_exit(0);
	}
	self->pid[0] = pid;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	len = sizeof(v);
	ASSERT_OK(ct_recv(self->rfd, 0, &v, &len, 0, 0));
	EXPECT_EQ(11U, v);
	EXPECT_ERRNO(EPIPE, ct_recv(self->rfd, 0, &v, &len, 0, 0));
}

/*
 * ID-style callers are not endpoints and ignore disconnect (both ways):
 * they never get EPIPE. Only DESTROY (EIDRM) stops them.
 */

/* A send by ID after the last receiver endpoint closed queues. */
TEST_F(disc, id_send_after_receivers_left)
{
	struct chan_info info;
	uint64_t v;
	uint32_t len;

	ASSERT_OK(close(self->rfd));
	self->rfd = -1;
	EXPECT_EQ(CHAN_STATE_NO_RECEIVERS, disc_state(self));
	for (v = 0; v < IO_CAPACITY; v++)
		ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	/* full: the usual full-channel answers, never EPIPE */
	EXPECT_ERRNO(EAGAIN, ct_send(self->dev, self->id, &v, sizeof(v),
				     CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(ETIMEDOUT, ct_send(self->dev, self->id, &v, sizeof(v),
					CHAN_MSG_TIMEOUT, SHORT_NS));
	/* the sender endpoint still sees the disconnect */
	EXPECT_ERRNO(EPIPE, ct_send(self->sfd, 0, &v, sizeof(v),
				    CHAN_MSG_NONBLOCK, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(IO_CAPACITY, info.depth);
	EXPECT_EQ(IO_CAPACITY, info.sent);
	/* what was queued by ID is there for an ID-style receiver */
	for (v = 0; v < IO_CAPACITY; v++) {
		uint64_t got;

		len = sizeof(got);
		ASSERT_OK(ct_recv(self->dev, self->id, &got, &len,
				  CHAN_MSG_NONBLOCK, 0));
		EXPECT_EQ(v, got);
	}
}

/*
 * A receive by ID with no sender endpoint left, on a drained channel:
 * EAGAIN (non-blocking) and ETIMEDOUT (timed), not EPIPE.
 */
TEST_F(disc, id_recv_after_senders_left)
{
	uint64_t v = 5;
	uint32_t len;

	ASSERT_OK(ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	ASSERT_OK(close(self->sfd));
	self->sfd = -1;
	EXPECT_EQ(CHAN_STATE_NO_SENDERS, disc_state(self));
	len = sizeof(v);
	ASSERT_OK(ct_recv(self->dev, self->id, &v, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(5U, v);
	len = sizeof(v);
	EXPECT_ERRNO(EAGAIN, ct_recv(self->dev, self->id, &v, &len,
				     CHAN_MSG_NONBLOCK, 0));
	len = sizeof(v);
	EXPECT_ERRNO(ETIMEDOUT, ct_recv(self->dev, self->id, &v, &len,
					CHAN_MSG_TIMEOUT, SHORT_NS));
	/* the receiver endpoint: drained and no senders, EPIPE */
	len = sizeof(v);
	EXPECT_ERRNO(EPIPE, ct_recv(self->rfd, 0, &v, &len, CHAN_MSG_NONBLOCK,
				    0));
	/* an ID-style send does not reconnect the endpoints ... */
	v = 6;
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	EXPECT_EQ(CHAN_STATE_NO_SENDERS, disc_state(self));
	/* ... but what it queued is drained by the endpoint, then EPIPE */
	len = sizeof(v);
	ASSERT_OK(ct_recv(self->rfd, 0, &v, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(6U, v);
	len = sizeof(v);
	EXPECT_ERRNO(EPIPE, ct_recv(self->rfd, 0, &v, &len, 0, 0));
}

/*
 * A receiver endpoint came and went (and the sender endpoint too): an
 * ID-style receiver blocks, and gets the message an ID-style sender sends
 * afterwards. A sender endpoint opened meanwhile still gets EPIPE: it has
 * no receiver endpoint, whoever waits by ID.
 */
TEST_F(disc, id_receiver_after_endpoints_came_and_went)
{
	struct ct_op op = {
		.kind = CT_OP_RECV, .fd = self->dev, .id = self->id,
	};
	uint64_t *got = ct_shared_alloc(4096);
	uint64_t v = 8;
	int s2;

	ASSERT_NE(NULL, got);
	ASSERT_OK(close(self->rfd));
	self->rfd = -1;
	ASSERT_OK(close(self->sfd));
	self->sfd = -1;
	EXPECT_EQ(CHAN_STATE_NO_SENDERS | CHAN_STATE_NO_RECEIVERS,
		  disc_state(self));
	op.result = got;
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_ioctl, WAIT_MS));
	s2 = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s2);
	EXPECT_ERRNO(EPIPE, ct_send(s2, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK,
				    0));
	close(s2);
	/* still asleep: neither the open nor the failed send woke it out */
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	v = 9;
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	EXPECT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(9U, got[0]);
	munmap(got, 4096);
}

/* ---- a channel without endpoints, or not yet with both roles ---- */

FIXTURE(fresh) {
	int dev;
	uint32_t id;
};

FIXTURE_SETUP(fresh)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &self->id));
}

FIXTURE_TEARDOWN(fresh)
{
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

/* Never had endpoints: ID-style users block normally, no EPIPE. */
TEST_F(fresh, no_endpoints_no_epipe)
{
	struct chan_info info;
	uint64_t v = 1;
	uint32_t len = sizeof(v);

	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.state);
	EXPECT_ERRNO(EAGAIN, ct_recv(self->dev, self->id, &v, &len,
				     CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(ETIMEDOUT, ct_recv(self->dev, self->id, &v, &len,
					CHAN_MSG_TIMEOUT, SHORT_NS));
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(ETIMEDOUT, ct_send(self->dev, self->id, &v, sizeof(v),
					CHAN_MSG_TIMEOUT, SHORT_NS));
	ASSERT_OK(ct_recv(self->dev, self->id, &v, &len, 0, 0));
}

/* A receiver that comes first waits for its first sender. */
TEST_F(fresh, receiver_before_any_sender)
{
	uint64_t v = 1;
	uint32_t len = sizeof(v);
	int rfd, sfd;

	rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, rfd);
	EXPECT_ERRNO(EAGAIN, ct_recv(rfd, 0, &v, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(ETIMEDOUT, ct_recv(rfd, 0, &v, &len, CHAN_MSG_TIMEOUT,
					SHORT_NS));
	sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	v = 12;
	ASSERT_OK(ct_send(sfd, 0, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_recv(rfd, 0, &v, &len, 0, 0));
	EXPECT_EQ(12U, v);
	close(sfd);
	close(rfd);
}

/* A sender that comes first fills the channel for later receivers. */
TEST_F(fresh, sender_before_any_receiver)
{
	uint64_t v = 13;
	uint32_t len = sizeof(v);
	int rfd, sfd;

	sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_OK(ct_send(sfd, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0));
	ASSERT_OK(ct_send(sfd, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(EAGAIN, ct_send(sfd, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK,
				     0));
	rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, rfd);
	ASSERT_OK(ct_recv(rfd, 0, &v, &len, 0, 0));
	EXPECT_EQ(13U, v);
	close(sfd);
	close(rfd);
}

/* ---- chanctl recv -c 0: drain what is there, never wait for more ---- */

#define CHANCTL_NOT_FOUND	127	/* the exit code of a failed exec */
#define CHANCTL_NO_CHANNEL	3	/* chanctl's "no such channel" */

FIXTURE(chanctl) {
	int dev;
	uint32_t id;
	char idstr[16];
	char out[4096];
	size_t outlen;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(chanctl)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, IO_MSG_SIZE, 8, &self->id));
	snprintf(self->idstr, sizeof(self->idstr), "%u", self->id);
}

FIXTURE_TEARDOWN(chanctl)
{
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

/* Start chanctl (from $PATH) with its standard output into a pipe. */
static pid_t chanctl_start(char *const argv[], int *outfd)
{
	int p[2], devnull;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		execvp("chanctl", argv);
		_exit(CHANCTL_NOT_FOUND);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	*outfd = p[0];
	return pid;
}

/*
 * Collect the output until EOF or timeout_ms, then the exit code (or
 * CT_WAIT_TIMEOUT: chanctl was still running and has been killed).
 */
static int chanctl_finish(FIXTURE_DATA(chanctl) *self, int fd,
			  unsigned int timeout_ms)
{
	uint64_t deadline = ct_now_ns() + (uint64_t)timeout_ms * CT_MS;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	self->outlen = 0;
	for (;;) {
		uint64_t now = ct_now_ns();

		if (now >= deadline)
			break;
		if (poll(&pfd, 1, (int)((deadline - now) / CT_MS) + 1) <= 0)
			continue;
		n = read(fd, self->out + self->outlen,
			 sizeof(self->out) - 1 - self->outlen);
		if (n <= 0)
			break;
		self->outlen += n;
	}
	self->out[self->outlen] = 0;
	close(fd);
	return ct_reap(&self->pid[0], 1000 + (ct_now_ns() < deadline ?
				(deadline - ct_now_ns()) / CT_MS : 0));
}

static int chanctl_run(FIXTURE_DATA(chanctl) *self, char *const argv[],
		       unsigned int timeout_ms)
{
	int fd;

	self->pid[0] = chanctl_start(argv, &fd);
	if (self->pid[0] <= 0)
		return CT_EXIT_SETUP;
	return chanctl_finish(self, fd, timeout_ms);
}

/* -c 0 prints what is queued and stops at once on an empty channel. */
TEST_F(chanctl, recv_count_0_drains)
{
	char *argv[] = { "chanctl", "recv", self->idstr, "-c", "0", NULL };
	struct chan_info info;
	uint64_t t0;
	int rc;

	ASSERT_OK(ct_send(self->dev, self->id, "one", 3, 0, 0));
	ASSERT_OK(ct_send(self->dev, self->id, "two", 3, 0, 0));
	ASSERT_OK(ct_send(self->dev, self->id, "three", 5, 0, 0));
	rc = chanctl_run(self, argv, WAIT_MS);
	if (rc == CHANCTL_NOT_FOUND)
		SKIP(return, "chanctl is not on the PATH");
	if (rc == CT_WAIT_TIMEOUT)
		TH_LOG("chanctl recv -c 0 printed \"%s\" and was still waiting after %d ms",
		       self->out, WAIT_MS);
	ASSERT_EQ(0, rc);
	EXPECT_STREQ("one\ntwo\nthree\n", self->out);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(3U, info.received);

	/* nothing queued: nothing printed, and no wait */
	t0 = ct_now_ns();
	rc = chanctl_run(self, argv, WAIT_MS);
	if (rc == CT_WAIT_TIMEOUT)
		TH_LOG("chanctl recv -c 0 on an empty channel was still waiting after %d ms",
		       WAIT_MS);
	ASSERT_EQ(0, rc);
	EXPECT_EQ(0U, self->outlen);
	EXPECT_GT(WAIT_MS * CT_MS / 2, ct_now_ns() - t0);

	/* endpoints that came and went change nothing for chanctl (ID-style) */
	close(ct_open(self->dev, self->id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0,
		      0));
	ASSERT_OK(ct_send(self->dev, self->id, "four", 4, 0, 0));
	ASSERT_EQ(0, chanctl_run(self, argv, WAIT_MS));
	EXPECT_STREQ("four\n", self->out);
}

/* -c 0 -t MS waits up to MS for each next message, then ends quietly. */
TEST_F(chanctl, recv_count_0_with_timeout)
{
	char *argv[] = { "chanctl", "recv", self->idstr, "-c", "0", "-t", "300",
			 NULL };
	uint64_t t0, dt;
	int rc;

	ASSERT_OK(ct_send(self->dev, self->id, "a", 1, 0, 0));
	t0 = ct_now_ns();
	rc = chanctl_run(self, argv, WAIT_MS);
	dt = ct_now_ns() - t0;
	if (rc == CHANCTL_NOT_FOUND)
		SKIP(return, "chanctl is not on the PATH");
	ASSERT_EQ(0, rc);
	EXPECT_STREQ("a\n", self->out);
	EXPECT_LE(300 * CT_MS, dt);
	EXPECT_GT(WAIT_MS * CT_MS / 2, dt);
}

/*
 * A destroyed channel is an error, not the end of the messages: exit 3
 * (no such channel), whether it is gone before (ENOENT) or while chanctl
 * waits (EIDRM).
 */
TEST_F(chanctl, recv_count_0_destroyed)
{
	char *argv[] = { "chanctl", "recv", self->idstr, "-c", "0", "-t",
			 "600000", NULL };
	int rc, fd;

	self->pid[0] = chanctl_start(argv, &fd);
	ASSERT_LT(0, self->pid[0]);
	if (!ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS)) {
		rc = chanctl_finish(self, fd, WAIT_MS);
		if (rc == CHANCTL_NOT_FOUND)
			SKIP(return, "chanctl is not on the PATH");
		TH_LOG("chanctl exited with %d before it waited", rc);
		ASSERT_TRUE(false);
	}
	ASSERT_OK(ct_destroy(self->dev, self->id));
	rc = chanctl_finish(self, fd, WAIT_MS);
	EXPECT_EQ(CHANCTL_NO_CHANNEL, rc);
	EXPECT_EQ(0U, self->outlen);
	/* and by an ID that no longer exists */
	ASSERT_EQ(CHANCTL_NO_CHANNEL, chanctl_run(self, argv, WAIT_MS));
	self->id = 0;
}

CT_HARNESS_MAIN
