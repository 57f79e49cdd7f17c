// SPDX-License-Identifier: GPL-2.0
/*
 * poll/select/epoll on channel fds: EPOLLIN for a receiver when a message
 * is ready, EPOLLOUT for a sender when there is room, each only for its
 * own role; the transitions between them; wake-ups of pollers in another
 * process; EPOLLHUP on destroy and on disconnect (a receiver once no
 * sender is left and the queue is drained, a sender once no receiver is
 * left), and its end on reconnect.
 */
#include "chan_test_util.h"

#include <sys/epoll.h>
#include <sys/select.h>

#define WAIT_MS		20000
#define PL_CAPACITY	2U

#define ALL_EVENTS	(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

/* What poll says about fd now, reduced to the bits the tests judge. */
#define EV(fd)	(ct_poll_now(fd, ALL_EVENTS) & (POLLIN | POLLOUT | POLLHUP))

FIXTURE(poll) {
	int dev;
	uint32_t id;
	int sfd, rfd, bfd;	/* send, receive, both */
	uint64_t *shared;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(poll)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, 8, PL_CAPACITY, &self->id));
	self->sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	self->rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	self->bfd = -1;
	ASSERT_LE(0, self->sfd);
	ASSERT_LE(0, self->rfd);
	self->shared = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->shared);
	signal(SIGPIPE, SIG_IGN);
}

FIXTURE_TEARDOWN(poll)
{
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->rfd >= 0)
		close(self->rfd);
	if (self->bfd >= 0)
		close(self->bfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

static int pl_send(FIXTURE_DATA(poll) *self, uint64_t v)
{
	return ct_send(self->sfd, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0);
}

static int pl_recv(FIXTURE_DATA(poll) *self)
{
	uint64_t v;

	return ct_recv_u64(self->rfd, 0, &v, CHAN_MSG_NONBLOCK);
}

/*
 * A child that waits (epoll or poll, no timeout) on fd for events and
 * stores what it got in *out. It closes the fds in close_fd first, so it
 * holds no endpoint that would keep a role connected.
 */
static pid_t pl_spawn_waiter(int fd, short events, bool use_epoll,
			     uint64_t *out, int nclose, const int *close_fd)
{
	pid_t pid;
	int i;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid)
		return pid;
	for (i = 0; i < nclose; i++)
		if (close_fd[i] != fd)
			close(close_fd[i]);
	if (use_epoll) {
		struct epoll_event ev = { .events = events }, got;
		int ep = epoll_create1(0);

		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			_exit(CT_EXIT_SETUP);
		if (syscall(SYS_epoll_wait, ep, &got, 1, -1) != 1)
			_exit(errno ? errno : CT_EXIT_SETUP);
		*out = got.events;
	} else {
		struct pollfd p = { .fd = fd, .events = events };

		if (syscall(SYS_poll, &p, 1, -1) != 1)
			_exit(errno ? errno : CT_EXIT_SETUP);
		*out = (uint16_t)p.revents;
	}
	_exit(0);
}

TEST_F(poll, receiver_transitions)
{
	struct timeval tv = { 0, 0 };
	fd_set rd;

	/* empty: nothing, and a receiver never reports room */
	EXPECT_EQ(0, EV(self->rfd));
	ASSERT_OK(pl_send(self, 1));
	EXPECT_EQ(POLLIN, EV(self->rfd));
	ASSERT_OK(pl_send(self, 2));
	EXPECT_EQ(POLLIN, EV(self->rfd));
	FD_ZERO(&rd);
	FD_SET(self->rfd, &rd);
	EXPECT_EQ(1, select(self->rfd + 1, &rd, NULL, NULL, &tv));
	ASSERT_OK(pl_recv(self));
	EXPECT_EQ(POLLIN, EV(self->rfd));
	ASSERT_OK(pl_recv(self));
	EXPECT_EQ(0, EV(self->rfd));
	FD_ZERO(&rd);
	FD_SET(self->rfd, &rd);
	tv.tv_usec = 0;
	EXPECT_EQ(0, select(self->rfd + 1, &rd, NULL, NULL, &tv));
}

TEST_F(poll, sender_transitions)
{
	EXPECT_EQ(POLLOUT, EV(self->sfd));
	ASSERT_OK(pl_send(self, 1));
	/* queued messages: still no EPOLLIN for a sender */
	EXPECT_EQ(POLLOUT, EV(self->sfd));
	ASSERT_OK(pl_send(self, 2));
	/* full */
	EXPECT_EQ(0, EV(self->sfd));
	ASSERT_OK(pl_recv(self));
	EXPECT_EQ(POLLOUT, EV(self->sfd));
	ASSERT_OK(pl_recv(self));
	EXPECT_EQ(POLLOUT, EV(self->sfd));
}

TEST_F(poll, both_roles)
{
	self->bfd = ct_open(self->dev, self->id,
			    CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->bfd);
	EXPECT_EQ(POLLOUT, EV(self->bfd));
	ASSERT_OK(pl_send(self, 1));
	EXPECT_EQ(POLLIN | POLLOUT, EV(self->bfd));
	ASSERT_OK(pl_send(self, 2));
	EXPECT_EQ(POLLIN, EV(self->bfd));
	/* asking only for POLLOUT on a full channel: nothing */
	EXPECT_EQ(0, ct_poll_now(self->bfd, POLLOUT));
}

/* ID-style traffic moves the fds' readiness just the same. */
TEST_F(poll, id_style_traffic)
{
	uint64_t v = 5;
	uint32_t len = sizeof(v);

	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	EXPECT_EQ(POLLIN, EV(self->rfd));
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	EXPECT_EQ(0, EV(self->sfd));
	ASSERT_OK(ct_recv(self->dev, self->id, &v, &len, 0, 0));
	EXPECT_EQ(POLLOUT, EV(self->sfd));
}

TEST_F(poll, epoll_transitions)
{
	struct epoll_event ev, got[4];
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u32 = 1;
	ASSERT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, self->rfd, &ev));
	ev.data.u32 = 2;
	ASSERT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, self->sfd, &ev));

	ASSERT_EQ(1, epoll_wait(ep, got, 4, 0));
	EXPECT_EQ(2U, got[0].data.u32);
	EXPECT_EQ((uint32_t)EPOLLOUT, got[0].events);
	ASSERT_OK(pl_send(self, 1));
	ASSERT_OK(pl_send(self, 2));
	ASSERT_EQ(1, epoll_wait(ep, got, 4, 0));
	EXPECT_EQ(1U, got[0].data.u32);
	EXPECT_EQ((uint32_t)EPOLLIN, got[0].events);
	ASSERT_OK(pl_recv(self));
	ASSERT_EQ(2, epoll_wait(ep, got, 4, 0));
	ASSERT_OK(pl_recv(self));
	ASSERT_EQ(1, epoll_wait(ep, got, 4, 0));
	EXPECT_EQ(2U, got[0].data.u32);
	close(ep);
}

/* Several channels in one epoll set: only the one with a message fires. */
TEST_F(poll, epoll_many_channels)
{
	struct epoll_event ev, got[8];
	uint32_t ids[4];
	int ep, r[4], s, i;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	for (i = 0; i < 4; i++) {
		ASSERT_OK(ct_create_simple(self->dev, 8, 2, &ids[i]));
		r[i] = ct_open(self->dev, ids[i], CHAN_ROLE_RECV, 0, 0);
		ASSERT_LE(0, r[i]);
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		ASSERT_OK(epoll_ctl(ep, EPOLL_CTL_ADD, r[i], &ev));
	}
	EXPECT_EQ(0, epoll_wait(ep, got, 8, 0));
	s = ct_open(self->dev, ids[2], CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_OK(ct_send(s, 0, "x", 1, 0, 0));
	ASSERT_EQ(1, epoll_wait(ep, got, 8, 0));
	EXPECT_EQ(2U, got[0].data.u32);
	close(s);
	for (i = 0; i < 4; i++) {
		close(r[i]);
		ct_destroy(self->dev, ids[i]);
	}
	close(ep);
}

/*
 * Child i asleep in epoll_wait (epoll) or poll(2) for events on fd, with
 * the fd in cl[0] closed; its revents go to shared[i].
 */
static void pl_waiter_asleep(struct __test_metadata *_metadata,
			     FIXTURE_DATA(poll) *self, int i, int fd,
			     short events, bool epoll, int *cl)
{
	self->pid[i] = pl_spawn_waiter(fd, events, epoll, &self->shared[i],
				       1, cl);
	ASSERT_LT(0, self->pid[i]);
	ASSERT_TRUE(ct_wait_blocked(self->pid[i],
				    epoll ? SYS_epoll_wait : SYS_poll,
				    WAIT_MS));
}

/* A process asleep in epoll_wait is woken by a send from another one. */
TEST_F(poll, epoll_wakeup_readable)
{
	int cl[] = { self->sfd };

	pl_waiter_asleep(_metadata, self, 0, self->rfd, EPOLLIN,
			 true, cl);
	ASSERT_OK(pl_send(self, 1));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ((uint64_t)EPOLLIN, self->shared[0]);
}

TEST_F(poll, epoll_wakeup_writable)
{
	int cl[] = { self->rfd };

	ASSERT_OK(pl_send(self, 1));
	ASSERT_OK(pl_send(self, 2));
	pl_waiter_asleep(_metadata, self, 0, self->sfd, EPOLLOUT,
			 true, cl);
	ASSERT_OK(pl_recv(self));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ((uint64_t)EPOLLOUT, self->shared[0]);
}

/* The same with poll(2), and from an ID-style send. */
TEST_F(poll, poll_wakeup_readable)
{
	int cl[] = { self->sfd };
	uint64_t v = 3;

	pl_waiter_asleep(_metadata, self, 0, self->rfd, POLLIN,
			 false, cl);
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ((uint64_t)POLLIN, self->shared[0]);
}

/* Several pollers: a message wakes them all (poll is not exclusive). */
TEST_F(poll, many_pollers)
{
	int cl[] = { self->sfd };
	int i;

	for (i = 0; i < 3; i++) {
		self->pid[i] = pl_spawn_waiter(self->rfd, POLLIN, i & 1,
					       &self->shared[i], 1, cl);
		ASSERT_LT(0, self->pid[i]);
	}
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(ct_wait_blocked(self->pid[i], i & 1 ?
					    SYS_epoll_wait : SYS_poll,
					    WAIT_MS));
	ASSERT_OK(pl_send(self, 1));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, ct_reap(&self->pid[i], WAIT_MS));
		EXPECT_EQ((uint64_t)POLLIN, self->shared[i]);
	}
}

TEST_F(poll, hup_on_destroy)
{
	int cl[] = { self->sfd };

	pl_waiter_asleep(_metadata, self, 0, self->rfd, EPOLLIN,
			 true, cl);
	ASSERT_OK(pl_send(self, 1));
	ASSERT_OK(pl_send(self, 2));
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	/* a sender asleep waiting for room */
	cl[0] = self->rfd;
	pl_waiter_asleep(_metadata, self, 1, self->sfd, POLLOUT,
			 false, cl);
	ASSERT_OK(ct_destroy(self->dev, self->id));
	ASSERT_EQ(0, ct_reap(&self->pid[1], WAIT_MS));
	EXPECT_NE(0U, self->shared[1] & POLLHUP);
	EXPECT_EQ(0U, self->shared[1] & POLLOUT);
	EXPECT_NE(0, ct_poll_now(self->rfd, POLLIN) & POLLHUP);
	EXPECT_NE(0, ct_poll_now(self->sfd, POLLOUT) & POLLHUP);
	EXPECT_EQ(0, ct_poll_now(self->sfd, POLLOUT) & POLLOUT);
}

/* Receiver: EPOLLHUP only once the senders are gone AND it is drained. */
TEST_F(poll, hup_receiver_after_drain)
{
	ASSERT_OK(pl_send(self, 1));
	ASSERT_OK(close(self->sfd));
	self->sfd = -1;
	EXPECT_EQ(POLLIN, EV(self->rfd));
	ASSERT_OK(pl_recv(self));
	EXPECT_NE(0, EV(self->rfd) & POLLHUP);
	EXPECT_EQ(0, EV(self->rfd) & POLLIN);
	/* a new sender ends it */
	self->sfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, self->sfd);
	EXPECT_EQ(0, EV(self->rfd));
}

/* A receiver asleep in poll on an empty channel wakes when the last
 * sender leaves.
 */
TEST_F(poll, hup_wakes_receiver)
{
	int cl[] = { self->sfd };

	pl_waiter_asleep(_metadata, self, 0, self->rfd, EPOLLIN,
			 true, cl);
	ASSERT_OK(close(self->sfd));
	self->sfd = -1;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_NE(0U, self->shared[0] & EPOLLHUP);
}

/* Sender: EPOLLHUP once no receiver is left, and a sleeper wakes. */
TEST_F(poll, hup_sender)
{
	int cl[] = { self->rfd };

	ASSERT_OK(pl_send(self, 1));
	ASSERT_OK(pl_send(self, 2));
	pl_waiter_asleep(_metadata, self, 0, self->sfd, POLLOUT,
			 false, cl);
	ASSERT_OK(close(self->rfd));
	self->rfd = -1;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_NE(0U, self->shared[0] & POLLHUP);
	EXPECT_NE(0, EV(self->sfd) & POLLHUP);
	/* a new receiver ends it; the channel is still full */
	self->rfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->rfd);
	EXPECT_EQ(0, EV(self->sfd));
	ASSERT_OK(pl_recv(self));
	EXPECT_EQ(POLLOUT, EV(self->sfd));
}

/* Nobody ever connected the other role: no hang-up to report. */
TEST_F(poll, no_hup_before_first_peer)
{
	uint32_t id;
	int r, s;

	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &id));
	r = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, r);
	EXPECT_EQ(0, EV(r));
	close(r);
	ASSERT_OK(ct_destroy(self->dev, id));

	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &id));
	s = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	EXPECT_EQ(POLLOUT, EV(s));
	close(s);
	ASSERT_OK(ct_destroy(self->dev, id));
}

CT_HARNESS_MAIN
