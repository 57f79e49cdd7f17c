// SPDX-License-Identifier: GPL-2.0
/*
 * CLOSE: a channel closed for sending. Every later send fails
 * with EPIPE by every path (ioctl by fd and by ID, write(2), batches, the
 * mapped fast path); receivers, by fd and by ID, take what was queued and
 * then get EPIPE; every waiter is woken to see it; poll says EPOLLHUP; the
 * ID, the name and INFO stay; no new endpoint undoes it, only the owner
 * (CHAN_CLOSE_REOPEN); who may close; and what a second close, or a close
 * of a destroyed channel, says.
 */
#include "chan_test_util.h"
#include <libchan.h>

#define WAIT_MS		20000
#define CL_MSG_SIZE	32U
#define CL_CAPACITY	4U

FIXTURE(cl) {
	int dev;
	mode_t dev_mode;
	uint32_t id;
	int sfd, rfd;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(cl)
{
	char name[CHAN_NAME_MAX];

	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ct_name(name, sizeof(name), "close");
	ASSERT_OK(ct_create(self->dev, CL_MSG_SIZE, CL_CAPACITY, 0666, 0, 0,
			    name, &self->id));
	ASSERT_OK(ct_open_pair(self->dev, self->id, &self->sfd, &self->rfd));
	signal(SIGPIPE, SIG_IGN);
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(cl)
{
	ct_dev_restore(self->dev_mode);
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	close(self->sfd);
	close(self->rfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

static int cl_close_flags(int fd, uint32_t id, uint32_t flags)
{
	struct chan_close c = { .size = sizeof(c), .flags = flags, .id = id };

	return ioctl(fd, CHAN_IOC_CLOSE, &c);
}

static int cl_close(int fd, uint32_t id)
{
	return cl_close_flags(fd, id, 0);
}

static int cl_reopen(int fd, uint32_t id)
{
	return cl_close_flags(fd, id, CHAN_CLOSE_REOPEN);
}

/*
 * In a forked child: let go of the parent's endpoints, become nobody and
 * open /dev/chan, or exit with CT_EXIT_SETUP.
 */
static int cl_child_as_nobody(FIXTURE_DATA(cl) *self)
{
	int dev;

	close(self->sfd);
	close(self->rfd);
	if (ct_drop_privs(NULL, 0))
		_exit(CT_EXIT_SETUP);
	dev = ct_dev_open();
	if (dev < 0)
		_exit(CT_EXIT_SETUP);
	return dev;
}

static uint32_t cl_state(struct __test_metadata *_metadata,
			 FIXTURE_DATA(cl) *self, struct chan_info *info)
{
	EXPECT_OK(ct_info(self->dev, self->id, 0, info));
	return info->state;
}

/* Queued messages survive the close and come out, by every path. */
TEST_F(cl, sends_fail_receivers_drain)
{
	struct chan_iov iov = { .buf = 0, .len = sizeof(uint64_t) };
	struct chan_batch b = { .size = sizeof(b), .count = 1 };
	struct chan_info info;
	uint64_t v;

	iov.buf = (uintptr_t)&v;
	b.vec = (uintptr_t)&iov;
	for (v = 1; v <= 3; v++)
		ASSERT_OK(ct_send_u64(self->sfd, 0, v, 0));
	ASSERT_OK(cl_close(self->sfd, 0));
	EXPECT_EQ(CHAN_STATE_CLOSED, cl_state(_metadata, self, &info));
	EXPECT_EQ(3U, info.depth);

	v = 9;
	EXPECT_ERRNO(EPIPE, ct_send_u64(self->sfd, 0, v, 0));
	EXPECT_ERRNO(EPIPE, ct_send_u64(self->dev, self->id, v, 0));
	EXPECT_ERRNO(EPIPE, ct_send_u64(self->sfd, 0, v, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(EPIPE, write(self->sfd, &v, sizeof(v)));
	EXPECT_ERRNO(EPIPE, ioctl(self->sfd, CHAN_IOC_SEND_BATCH, &b));

	ASSERT_OK(ct_recv_u64(self->rfd, 0, &v, 0));
	EXPECT_EQ(1U, v);
	ASSERT_OK(ct_recv_u64(self->dev, self->id, &v, 0));
	EXPECT_EQ(2U, v);
	ASSERT_EQ((ssize_t)sizeof(v), read(self->rfd, &v, sizeof(v)));
	EXPECT_EQ(3U, v);

	/* Drained: EPIPE, never EAGAIN or a wait, by ID too. */
	EXPECT_ERRNO(EPIPE, ct_recv_u64(self->rfd, 0, &v, 0));
	EXPECT_ERRNO(EPIPE, ct_recv_u64(self->rfd, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(EPIPE, ct_recv_u64(self->dev, self->id, &v, 0));
	EXPECT_ERRNO(EPIPE, read(self->rfd, &v, sizeof(v)));
	EXPECT_ERRNO(EPIPE, ioctl(self->rfd, CHAN_IOC_RECV_BATCH, &b));

	EXPECT_EQ(CHAN_STATE_CLOSED, cl_state(_metadata, self, &info));
	EXPECT_EQ(3U, info.sent);
	EXPECT_EQ(3U, info.received);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(1U, info.senders);
	EXPECT_EQ(1U, info.receivers);
}

/*
 * Waiters asleep in every way one can sleep there (three on an endpoint,
 * two by ID, one in read(2) or write(2)) are all woken with EPIPE.
 * Receivers by ID never see EPIPE from a disconnect: only the close tells
 * them. Senders leave the full ring as it was, for receivers to drain.
 */
static void close_wakes(struct __test_metadata *_metadata,
			FIXTURE_DATA(cl) *self, int kind)
{
	bool send = kind == CT_OP_SEND;
	struct ct_waiters w = {
		.op = { .kind = kind, .fd = send ? self->sfd : self->rfd },
		.dev = self->dev, .id = self->id, .n_fd = 3, .n_id = 2,
	};
	uint32_t queued = send ? CL_CAPACITY : 0, i;
	struct chan_info info;
	uint64_t v;
	int n;

	for (v = 0; v < queued; v++)
		ASSERT_OK(ct_send_u64(self->sfd, 0, v, 0));
	n = ct_spawn_waiters(&w, self->pid, WAIT_MS);
	ASSERT_EQ(6, n);
	ASSERT_OK(cl_close(self->sfd, 0));
	for (i = 0; i < (uint32_t)n; i++) {
		int rc = ct_reap(&self->pid[i], WAIT_MS);

		if (rc != EPIPE)
			TH_LOG("%s %u", send ? "sender" : "receiver", i);
		EXPECT_EQ(EPIPE, rc);
	}
	EXPECT_EQ(CHAN_STATE_CLOSED, cl_state(_metadata, self, &info));
	EXPECT_EQ(queued, info.depth);
	EXPECT_EQ(queued, info.sent);
	for (v = 0; v < queued; v++) {
		uint64_t got;

		ASSERT_OK(ct_recv_u64(self->rfd, 0, &got, 0));
		EXPECT_EQ(v, got);
	}
	EXPECT_ERRNO(EPIPE, ct_recv_u64(self->rfd, 0, &v, 0));
}

TEST_F(cl, wakes_blocked_receivers)
{
	close_wakes(_metadata, self, CT_OP_RECV);
}

TEST_F(cl, wakes_blocked_senders)
{
	close_wakes(_metadata, self, CT_OP_SEND);
}

/*
 * No endpoint undoes a close: a new sender endpoint, or the last one
 * leaving and another coming, does not reopen it; the ID, the name and
 * INFO stay.
 */
TEST_F(cl, endpoints_do_not_reopen)
{
	struct chan_info info;
	uint32_t found;
	uint64_t v = 1;
	int s2;

	ASSERT_OK(cl_close(self->dev, self->id));
	EXPECT_ERRNO(EALREADY, cl_close(self->dev, self->id));
	EXPECT_ERRNO(EALREADY, cl_close(self->sfd, 0));

	close(self->sfd);
	self->sfd = -1;
	s2 = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s2);
	EXPECT_ERRNO(EPIPE, ct_send_u64(s2, 0, v, 0));
	EXPECT_EQ(CHAN_STATE_CLOSED, cl_state(_metadata, self, &info));
	EXPECT_EQ(1U, info.senders);
	EXPECT_EQ(0U, info.sent);
	ASSERT_OK(ct_lookup(self->dev, info.name, &found));
	EXPECT_EQ(self->id, found);

	/* A destroyed channel: EIDRM on its fds, ENOENT by its old ID. */
	ASSERT_OK(ct_destroy(self->dev, self->id));
	EXPECT_ERRNO(EIDRM, cl_close(s2, 0));
	EXPECT_ERRNO(ENOENT, cl_close(self->dev, self->id));
	close(s2);
}

/*
 * The owner reopens (CHAN_CLOSE_REOPEN), on any endpoint or by ID: sends
 * work again, pollers see it, the queued messages are still there; a
 * reopen of an open channel is EALREADY, a close can follow again.
 */
TEST_F(cl, owner_reopens)
{
	struct chan_info info;
	uint64_t v;

	ASSERT_OK(ct_send_u64(self->sfd, 0, 1, 0));
	EXPECT_ERRNO(EALREADY, cl_reopen(self->dev, self->id));
	ASSERT_OK(cl_close(self->sfd, 0));
	EXPECT_ERRNO(EPIPE, ct_send_u64(self->sfd, 0, 2, 0));
	EXPECT_EQ(POLLHUP, ct_poll_now(self->sfd, POLLOUT));
	ASSERT_OK(cl_reopen(self->rfd, 0));
	EXPECT_EQ(0U, cl_state(_metadata, self, &info));
	EXPECT_EQ(POLLOUT, ct_poll_now(self->sfd, POLLOUT));
	ASSERT_OK(ct_send_u64(self->sfd, 0, 3, 0));
	ASSERT_OK(ct_send_u64(self->dev, self->id, 4, 0));
	for (v = 1; v <= 4; v += v == 1 ? 2 : 1) {
		uint64_t got;

		ASSERT_OK(ct_recv_u64(self->rfd, 0, &got, CHAN_MSG_NONBLOCK));
		EXPECT_EQ(v, got);
	}
	EXPECT_ERRNO(EAGAIN, ct_recv_u64(self->rfd, 0, &v,
					 CHAN_MSG_NONBLOCK));
	/* and again, by ID */
	ASSERT_OK(cl_close(self->dev, self->id));
	EXPECT_ERRNO(EPIPE, ct_recv_u64(self->rfd, 0, &v, 0));
	ASSERT_OK(cl_reopen(self->dev, self->id));
	EXPECT_ERRNO(EALREADY, cl_reopen(self->dev, self->id));
	ASSERT_OK(ct_destroy(self->dev, self->id));
	EXPECT_ERRNO(EIDRM, cl_reopen(self->sfd, 0));
}

/*
 * A writer who is not the owner may close through its sender endpoint,
 * but never reopen, neither on that endpoint nor by ID: only the owner
 * undoes what an untrusted writer did.
 */
TEST_F(cl, only_owner_reopens)
{
	struct chan_info info;
	pid_t pid;

	ASSERT_OK(cl_close(self->sfd, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, fd;

		dev = cl_child_as_nobody(self);
		fd = ct_open(dev, self->id, CHAN_ROLE_SEND, 0, 0);
		if (fd < 0)
			_exit(CT_EXIT_SETUP);
		if (cl_reopen(fd, 0) == 0 || errno != EPERM)
			_exit(10);
		if (cl_reopen(dev, self->id) == 0 || errno != EPERM)
			_exit(11);
		_exit(0);
	}
	self->pid[0] = pid;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(CHAN_STATE_CLOSED, cl_state(_metadata, self, &info));
	ASSERT_OK(cl_reopen(self->dev, self->id));
}

/* A destroyed channel that was never closed is EIDRM, not EALREADY. */
TEST_F(cl, destroyed)
{
	ASSERT_OK(ct_destroy(self->dev, self->id));
	EXPECT_ERRNO(EIDRM, cl_close(self->sfd, 0));
	EXPECT_ERRNO(EIDRM, cl_close(self->rfd, 0));
}

/* On a channel fd the ID must be 0; an unknown ID is ENOENT. */
TEST_F(cl, bad_ids)
{
	struct chan_info info;

	EXPECT_ERRNO(EINVAL, cl_close(self->sfd, self->id));
	EXPECT_ERRNO(ENOENT, cl_close(self->dev, 0));
	EXPECT_EQ(0U, cl_state(_metadata, self, &info));
}

/*
 * A sender endpoint may close the channel, and the owner may (by ID or on
 * any endpoint); anyone else, a receiver endpoint or by ID, gets EPERM.
 */
TEST_F(cl, who_may_close)
{
	struct chan_info info;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, fd;
		uint32_t own;

		dev = cl_child_as_nobody(self);
		if (cl_close(dev, self->id) == 0 || errno != EPERM)
			_exit(10);
		fd = ct_open(dev, self->id, CHAN_ROLE_RECV, 0, 0);
		if (fd < 0)
			_exit(CT_EXIT_SETUP);
		if (cl_close(fd, 0) == 0 || errno != EPERM)
			_exit(11);
		close(fd);
		/* Its own channel: by ID, and on a receiver endpoint. */
		if (ct_create(dev, 8, 2, 0600, 0, 0, NULL, &own))
			_exit(CT_EXIT_SETUP);
		fd = ct_open(dev, own, CHAN_ROLE_RECV, 0, 0);
		if (fd < 0 || cl_close(fd, 0))
			_exit(12);
		if (cl_close(dev, own) == 0 || errno != EALREADY)
			_exit(13);
		close(fd);
		ct_destroy(dev, own);
		/* A sender endpoint of someone else's channel may. */
		fd = ct_open(dev, self->id, CHAN_ROLE_SEND, 0, 0);
		if (fd < 0)
			_exit(CT_EXIT_SETUP);
		if (cl_close(fd, 0))
			_exit(14);
		_exit(0);
	}
	self->pid[0] = pid;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(CHAN_STATE_CLOSED, cl_state(_metadata, self, &info));
}

/* The owner (root here) closes on its receiver endpoint. */
TEST_F(cl, owner_on_receiver)
{
	struct chan_info info;

	ASSERT_OK(cl_close(self->rfd, 0));
	EXPECT_EQ(CHAN_STATE_CLOSED, cl_state(_metadata, self, &info));
}

TEST_F(cl, poll)
{
	uint64_t v = 7;

	ASSERT_OK(ct_send_u64(self->sfd, 0, v, 0));
	EXPECT_EQ(POLLOUT, ct_poll_now(self->sfd, POLLOUT));
	EXPECT_EQ(POLLIN, ct_poll_now(self->rfd, POLLIN));
	ASSERT_OK(cl_close(self->sfd, 0));
	EXPECT_EQ(POLLHUP, ct_poll_now(self->sfd, POLLOUT));
	/* Something is still queued: readable, not hung up. */
	EXPECT_EQ(POLLIN, ct_poll_now(self->rfd, POLLIN));
	ASSERT_OK(ct_recv_u64(self->rfd, 0, &v, 0));
	EXPECT_EQ(POLLHUP, ct_poll_now(self->rfd, POLLIN));
}

/*
 * The mapped fast path: a handle's send after the close goes to the
 * kernel and fails with EPIPE; receives drain the ring without a system
 * call and then say EPIPE, blocking or not.
 */
TEST_F(cl, fast_path)
{
	struct chan_attr a = {
		.msg_size = 16, .capacity = 8, .mode = 0600,
		.flags = CHAN_CREATE_MAPPABLE,
	};
	struct chan_ep *tx = NULL, *rx = NULL;
	struct chan_info info;
	uint64_t v;
	uint32_t id;

	signal(SIGPIPE, SIG_IGN);
	ASSERT_OK(chan_create(&a, &id));
	ASSERT_OK(chan_ep_open(&tx, id, CHAN_ROLE_SEND, 0));
	ASSERT_OK(chan_ep_open(&rx, id, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(tx));
	ASSERT_EQ(1, chan_ep_mapped(rx));
	for (v = 1; v <= 2; v++)
		ASSERT_OK(chan_ep_send(tx, &v, sizeof(v)));
	ASSERT_OK(chan_ep_close_channel(tx));
	EXPECT_EQ(-EALREADY, chan_close_channel(-1, id, 0));
	EXPECT_EQ(-EPIPE, chan_ep_send(tx, &v, sizeof(v)));
	EXPECT_EQ(-EPIPE, chan_ep_try_send(tx, &v, sizeof(v)));
	EXPECT_EQ((ssize_t)sizeof(v), chan_ep_recv(rx, &v, sizeof(v)));
	EXPECT_EQ(1U, v);
	EXPECT_EQ((ssize_t)sizeof(v), chan_ep_try_recv(rx, &v, sizeof(v)));
	EXPECT_EQ(2U, v);
	EXPECT_EQ(-EPIPE, chan_ep_try_recv(rx, &v, sizeof(v)));
	EXPECT_EQ(-EPIPE, chan_ep_recv(rx, &v, sizeof(v)));
	ASSERT_OK(chan_info(id, &info));
	EXPECT_EQ(CHAN_STATE_CLOSED, info.state);
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(2U, info.received);
	/* Reopened, the mapped handles go on without a system call. */
	ASSERT_OK(chan_close_channel(-1, id, CHAN_CLOSE_REOPEN));
	v = 5;
	ASSERT_OK(chan_ep_send(tx, &v, sizeof(v)));
	EXPECT_EQ((ssize_t)sizeof(v), chan_ep_try_recv(rx, &v, sizeof(v)));
	EXPECT_EQ(5U, v);
	EXPECT_OK(chan_ep_close(tx));
	EXPECT_OK(chan_ep_close(rx));
	EXPECT_OK(chan_destroy(id));
}

TEST_HARNESS_MAIN
