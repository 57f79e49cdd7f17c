// SPDX-License-Identifier: GPL-2.0
/*
 * Sending and receiving: message boundaries and order, EMSGSIZE, full and
 * empty channels, non-blocking calls and fds, relative and absolute
 * timeouts, EINTR, blocking and wake-up (one message wakes one waiter),
 * wrong roles, read(2)/write(2), and disconnect / drain / EPIPE /
 * reconnect in both directions.
 */
#include "chan_test_util.h"

#include <pthread.h>

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

FIXTURE_SETUP(io)
{
	self->sfd = self->rfd = -1;
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, IO_MSG_SIZE, IO_CAPACITY,
				   &self->id));
	self->sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, self->sfd);
	self->rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->rfd);
	self->shared = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->shared);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(io)
{
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	close(self->sfd);
	close(self->rfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
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
	self->pid[0] = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
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
	self->pid[0] = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
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
	self->pid[0] = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
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

/* Three receivers asleep: each message wakes exactly one of them. */
TEST_F(io, one_message_wakes_one_receiver)
{
	struct ct_op op = io_op(self, variant, CT_OP_RECV);
	int i, j, done, got_mask = 0;
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
		uint64_t t0 = ct_now_ns();

		v = j;
		ASSERT_OK(io_send(self, variant, &v, sizeof(v), 0, 0));
		/* wait for one more to finish */
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
		/* and no more than one per message */
		ct_sleep_ms(200);
		done = 0;
		for (i = 0; i < 3; i++) {
			if (self->pid[i] && ct_exited(self->pid[i])) {
				ASSERT_EQ(0, ct_reap(&self->pid[i], WAIT_MS));
				got_mask |= 1 << self->shared[i];
			}
			if (!self->pid[i])
				done++;
		}
		ASSERT_EQ(j, done);
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
		uint64_t t0 = ct_now_ns();

		len = sizeof(v);
		ASSERT_OK(io_recv(self, variant, &v, &len, 0, 0));
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
		ct_sleep_ms(200);
		done = 0;
		for (i = 0; i < 3; i++) {
			if (self->pid[i] && ct_exited(self->pid[i]))
				ASSERT_EQ(0, ct_reap(&self->pid[i], WAIT_MS));
			if (!self->pid[i])
				done++;
		}
		ASSERT_EQ(j, done);
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

	self->pid[0] = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
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
	self->pid[0] = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
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
	self->pid[0] = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGUSR1));
	ASSERT_EQ(EINTR, ct_reap(&self->pid[0], WAIT_MS));
}

/* A fatal signal ends a blocked waiter; the channel keeps working. */
TEST_F(io, killed_waiter)
{
	struct ct_op op = io_op(self, variant, CT_OP_RECV);
	uint64_t v = 9;
	uint32_t len = sizeof(v);

	self->pid[0] = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_OK(kill(self->pid[0], SIGKILL));
	ASSERT_EQ(128 + SIGKILL, ct_reap(&self->pid[0], WAIT_MS));
	ASSERT_OK(io_send(self, variant, &v, sizeof(v), 0, 0));
	ASSERT_OK(io_recv(self, variant, &v, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(9U, v);
}

/* ---- endpoints: roles, O_NONBLOCK, read(2)/write(2) ---- */

FIXTURE(ep) {
	int dev;
	uint32_t id;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(ep)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, IO_MSG_SIZE, IO_CAPACITY,
				   &self->id));
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(ep)
{
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

TEST_F(ep, wrong_role_ebadf)
{
	int sfd, rfd;
	uint64_t v = 1;
	uint32_t len = sizeof(v);
	struct chan_info info;

	sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, rfd);
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

	sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, rfd);
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
	sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, rfd);
	op.fd = rfd;
	op.result = shared;
	op.nclose = 1;
	op.close_fd[0] = sfd;
	self->pid[0] = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid[0]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_read, WAIT_MS));
	ASSERT_EQ(8, write(sfd, &v, sizeof(v)));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(77U, shared[0]);
	close(sfd);
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

	sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, rfd);
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
 * message arrives: EFAULT, and the message is lost and counted dropped.
 */
static void unmapped_while_waiting(struct __test_metadata *_metadata,
				   FIXTURE_DATA(ep) *self, bool use_read)
{
	struct unmap_waiter w = { .use_read = use_read };
	struct chan_info info;
	uint64_t t0, v = 1;
	pthread_t th;
	int sfd;

	sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	w.fd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, w.fd);
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
	EXPECT_EQ(1U, info.dropped);
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

/* ---- disconnect, drain, EPIPE, reconnect ---- */

FIXTURE(disc) {
	int dev;
	uint32_t id;
	int sfd, rfd;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(disc)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, IO_MSG_SIZE, IO_CAPACITY,
				   &self->id));
	self->sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	self->rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->sfd);
	ASSERT_LE(0, self->rfd);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(disc)
{
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->rfd >= 0)
		close(self->rfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
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
	len = sizeof(buf);
	EXPECT_ERRNO(EPIPE, ct_recv(self->dev, self->id, buf, &len, 0, 0));
	EXPECT_ERRNO(EPIPE, read(self->rfd, buf, sizeof(buf)));
}

TEST_F(disc, blocked_receiver_woken_with_epipe)
{
	struct ct_op op = {
		.kind = CT_OP_RECV, .fd = self->rfd,
		.nclose = 1, .close_fd = { self->sfd },
	};

	self->pid[0] = ct_op_spawn(&op);
	op.fd = self->dev;
	op.id = self->id;
	self->pid[1] = ct_op_spawn(&op);
	op.kind = CT_OP_READ;
	op.fd = self->rfd;
	op.id = 0;
	self->pid[2] = ct_op_spawn(&op);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_TRUE(ct_wait_blocked(self->pid[1], SYS_ioctl, WAIT_MS));
	ASSERT_TRUE(ct_wait_blocked(self->pid[2], SYS_read, WAIT_MS));
	ASSERT_OK(close(self->sfd));
	self->sfd = -1;
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[1], WAIT_MS));
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[2], WAIT_MS));
}

/* Last receiver gone: senders (by fd and by ID) get EPIPE. */
TEST_F(disc, senders_epipe_without_receivers)
{
	uint64_t v = 1;

	ASSERT_OK(close(self->rfd));
	self->rfd = -1;
	EXPECT_EQ(CHAN_STATE_NO_RECEIVERS, disc_state(self));
	EXPECT_ERRNO(EPIPE, ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(EPIPE, ct_send(self->sfd, 0, &v, sizeof(v),
				    CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(EPIPE, ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(EPIPE, write(self->sfd, &v, sizeof(v)));
}

TEST_F(disc, blocked_sender_woken_with_epipe)
{
	struct ct_op op = {
		.kind = CT_OP_SEND, .fd = self->sfd,
		.nclose = 1, .close_fd = { self->rfd },
	};
	uint64_t v;

	for (v = 0; v < IO_CAPACITY; v++)
		ASSERT_OK(ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	self->pid[0] = ct_op_spawn(&op);
	op.fd = self->dev;
	op.id = self->id;
	self->pid[1] = ct_op_spawn(&op);
	op.kind = CT_OP_WRITE;
	op.fd = self->sfd;
	op.id = 0;
	self->pid[2] = ct_op_spawn(&op);
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, WAIT_MS));
	ASSERT_TRUE(ct_wait_blocked(self->pid[1], SYS_ioctl, WAIT_MS));
	ASSERT_TRUE(ct_wait_blocked(self->pid[2], SYS_write, WAIT_MS));
	ASSERT_OK(close(self->rfd));
	self->rfd = -1;
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[1], WAIT_MS));
	EXPECT_EQ(EPIPE, ct_reap(&self->pid[2], WAIT_MS));
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

	s2 = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	r2 = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, s2);
	ASSERT_LE(0, r2);
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

CT_HARNESS_MAIN
