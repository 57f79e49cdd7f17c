// SPDX-License-Identifier: GPL-2.0
/*
 * Broadcast channels (CHAN_CREATE_BROADCAST [| CHAN_CREATE_LOSSLESS]):
 * every receiver endpoint gets every message sent after it opened.
 * Checked here:
 *  - CREATE: the flags, the feature bit, the combinations refused;
 *    receiving by ID refused (EOPNOTSUPP) before anything is taken or sent;
 *  - each receiver reads every message once, in order, through every path
 *    (ioctl, read(2), batches, CALL's reply, libchan); a late joiner starts
 *    at the tail; a receiver leaving changes nothing for the others;
 *  - lossy: a receiver more than capacity behind gets ENOBUFS once, with
 *    the count (chan_msg v2 lost, libchan chan_ep_lost()), then the oldest
 *    held; fdinfo and INFO count it; senders never wait;
 *  - lossless: senders wait (EAGAIN, ETIMEDOUT, blocking, POLLOUT) for the
 *    slowest receiver, and resume when it reads, closes, or is killed;
 *  - N senders x M receivers, threads and processes: lossless, each
 *    receiver gets every message exactly once in per-sender order; lossy,
 *    per-sender sequences increase and gaps equal the losses reported;
 *  - destroy and close wake and fail waiters; an unprivileged user;
 *  - mapped (lossy): the ring maps read-only only (no write, no
 *    mprotect to writable), a receiver's cursor page is its cursor for
 *    every path and may be scribbled on; libchan receives without a
 *    system call, reports overruns as the kernel does, and waits in the
 *    kernel at the same cursor; processes on the fast path, the kernel
 *    path, joining and leaving, get prefixes with gaps equal to their
 *    reported losses and never a torn message; an unprivileged receiver.
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <libchan.h>
#include <setjmp.h>

#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)
#define BC		CHAN_CREATE_BROADCAST
#define BCL		(CHAN_CREATE_BROADCAST | CHAN_CREATE_LOSSLESS)

FIXTURE(bc) {
	int dev;
	int kmsg;
	uint32_t ids[4];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(bc)
{
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
	self->nids = 0;
}

FIXTURE_TEARDOWN(bc)
{
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg,
			 self->ids, self->nids);
	close(self->dev);
}

/* A broadcast channel of 8-byte messages, destroyed at teardown. */
static uint32_t bc_create_in(struct __test_metadata *_metadata, int dev,
			     uint32_t *ids, int *nids, uint32_t cap,
			     uint32_t flags, uint32_t mode)
{
	uint32_t id = 0;

	ASSERT_OK(ct_create(dev, 8, cap, mode, flags, 0, NULL, &id));
	if (*nids < 4)
		ids[(*nids)++] = id;
	return id;
}

#define bc_create(_m, _self, cap, flags, mode)				\
	bc_create_in(_m, (_self)->dev, (_self)->ids, &(_self)->nids,	\
		     cap, flags, mode)

/* RECV with the whole v2 struct; *lost gets chan_msg.lost. */
static int recv_lost(int fd, uint64_t *v, uint32_t flags, uint64_t timeout,
		     uint64_t *lost)
{
	struct chan_msg m = {
		.size = sizeof(m),
		.flags = flags,
		.len = sizeof(*v),
		.buf = (uintptr_t)v,
		.timeout_ns = timeout,
		.lost = 0xdeadbeef,
	};
	int ret = ioctl(fd, CHAN_IOC_RECV, &m);

	*lost = m.lost;
	return ret;
}

/* A number from this process's fdinfo of fd ("key:\tN"), or -1. */
static long long fdinfo_num(int fd, const char *key)
{
	char path[64], buf[4096], pat[64], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (ct_read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	snprintf(pat, sizeof(pat), "\n%s:\t", key);
	p = strstr(buf, pat);
	if (!p)
		return -1;
	return strtoll(p + strlen(pat), NULL, 10);
}

TEST_F(bc, create_flags)
{
	struct chan_create c = { .size = sizeof(c), .msg_size = 8,
				 .capacity = 5 };
	struct chan_info info;
	uint32_t id;

	c.flags = BC;
	ASSERT_OK(ct_create_raw(self->dev, &c));
	self->ids[self->nids++] = c.out_id;
	EXPECT_NE(0ULL, c.out_features & CHAN_FEAT_BROADCAST);
	EXPECT_EQ(8U, c.out_ring.capacity);
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ((uint32_t)BC, info.chan_flags);
	EXPECT_EQ(0ULL, info.lost);

	id = bc_create(_metadata, self, 4, BCL | CHAN_CREATE_AUTODESTROY, 0);
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ((uint32_t)(BCL | CHAN_CREATE_AUTODESTROY), info.chan_flags);

	EXPECT_ERRNO(EINVAL, ct_create(self->dev, 8, 4, 0,
				       CHAN_CREATE_LOSSLESS, 0, NULL, &id));
	/* Mappable, lossy and lossless. */
	id = bc_create(_metadata, self, 4, BC | CHAN_CREATE_MAPPABLE, 0);
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ((uint32_t)(BC | CHAN_CREATE_MAPPABLE), info.chan_flags);
	id = bc_create(_metadata, self, 4, BCL | CHAN_CREATE_MAPPABLE, 0);
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ((uint32_t)(BCL | CHAN_CREATE_MAPPABLE), info.chan_flags);
	EXPECT_ERRNO(EINVAL, ct_create(self->dev, 8, 4, 0,
				       BC | CHAN_CREATE_CRC32C, 0, NULL, &id));
	EXPECT_ERRNO(EOPNOTSUPP, ct_create(self->dev, 8, 4, 0,
					   BC | (1U << 31), 0, NULL, &id));
}

/* Sending by ID works; receiving by ID has no cursor: refused untaken. */
TEST_F(bc, by_id)
{
	uint32_t id = bc_create(_metadata, self, 4, BC, 0);
	uint32_t req = bc_create(_metadata, self, 4, 0, 0);
	struct chan_iov iov;
	struct chan_batch b = { .size = sizeof(b), .id = id, .count = 1,
				.vec = (uintptr_t)&iov };
	struct chan_call call = { .size = sizeof(call), .id = req,
				  .reply_id = id, .reply_fd = -1 };
	struct chan_info info;
	uint64_t v = 7, got = 0, r = 1;
	uint32_t len = 8;
	int rfd;

	rfd = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, rfd);
	ASSERT_OK(ct_send_u64(self->dev, id, v, 0));
	EXPECT_ERRNO(EOPNOTSUPP, ct_recv(self->dev, id, &got, &len,
					 CHAN_MSG_NONBLOCK, 0));
	iov = (struct chan_iov){ .buf = (uintptr_t)&got, .len = 8 };
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->dev, CHAN_IOC_RECV_BATCH, &b));
	call.send_buf = (uintptr_t)&r;
	call.send_len = 8;
	call.recv_buf = (uintptr_t)&got;
	call.recv_len = 8;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->dev, CHAN_IOC_CALL, &call));
	EXPECT_EQ(0U, call.out_sent);
	ASSERT_OK(ct_info(self->dev, req, 0, &info));
	EXPECT_EQ(0ULL, info.sent);
	/* The message is still there for the endpoint. */
	ASSERT_OK(ct_recv_u64(rfd, 0, &got, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(7ULL, got);
	close(rfd);
}

/* Three receivers, each every message in order; a late joiner, a leaver. */
TEST_F(bc, every_receiver_every_message)
{
	uint32_t id = bc_create(_metadata, self, 8, BC, 0);
	int sfd, r[4], i, k;
	struct chan_info info;
	uint64_t v;

	sfd = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	for (i = 0; i < 3; i++) {
		r[i] = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
		ASSERT_LE(0, r[i]);
		EXPECT_EQ(0LL, fdinfo_num(r[i], "cursor"));
	}
	for (k = 0; k < 5; k++)
		ASSERT_OK(ct_send_u64(sfd, 0, 100 + k, 0));
	/* Joins at the tail: sees only what comes next. */
	r[3] = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, r[3]);
	EXPECT_EQ(5LL, fdinfo_num(r[3], "cursor"));
	EXPECT_EQ(0, ct_poll_now(r[3], POLLIN));
	EXPECT_EQ(POLLIN, ct_poll_now(r[0], POLLIN));
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ(5ULL, info.sent);
	EXPECT_EQ(5U, info.depth);	/* the slowest is 5 behind */
	EXPECT_EQ(4U, info.receivers);
	for (i = 0; i < 3; i++) {
		for (k = 0; k < 5; k++) {
			ASSERT_OK(ct_recv_u64(r[i], 0, &v, CHAN_MSG_NONBLOCK));
			EXPECT_EQ((uint64_t)(100 + k), v);
		}
		EXPECT_ERRNO(EAGAIN, ct_recv_u64(r[i], 0, &v,
						 CHAN_MSG_NONBLOCK));
		EXPECT_EQ(0, ct_poll_now(r[i], POLLIN));
	}
	EXPECT_ERRNO(EAGAIN, ct_recv_u64(r[3], 0, &v, CHAN_MSG_NONBLOCK));
	/* r[1] leaves mid-stream: the others go on. */
	close(r[1]);
	ASSERT_OK(ct_send_u64(sfd, 0, 200, 0));
	for (i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		ASSERT_OK(ct_recv_u64(r[i], 0, &v, CHAN_MSG_NONBLOCK));
		EXPECT_EQ(200ULL, v);
	}
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ(6ULL, info.sent);
	EXPECT_EQ(18ULL, info.received);	/* 3 x 5 + 3 x 1 */
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(0ULL, info.lost);
	EXPECT_EQ(0ULL, info.dropped);
	/* The last sender goes: drained receivers get EPIPE, pollers HUP. */
	close(sfd);
	EXPECT_ERRNO(EPIPE, ct_recv_u64(r[0], 0, &v, 0));
	EXPECT_EQ(POLLHUP, ct_poll_now(r[0], POLLIN));
	for (i = 0; i < 4; i++)
		if (i != 1)
			close(r[i]);
}

/* read(2), write(2), batches and CALL's reply use the endpoint's cursor. */
TEST_F(bc, paths)
{
	uint32_t id = bc_create(_metadata, self, 8, BC, 0);
	uint64_t in[4] = { 1, 2, 3, 4 }, out[4] = { 0 }, v;
	struct chan_iov iov[4];
	struct chan_batch b = { .size = sizeof(b), .count = 4,
				.vec = (uintptr_t)iov };
	struct chan_call call = { .size = sizeof(call) };
	uint32_t len;
	int a, c, i;

	a = ct_open(self->dev, id, RW, 0, 0);
	c = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, c);
	ASSERT_EQ(8, write(a, &in[0], 8));
	for (i = 0; i < 3; i++)
		iov[i] = (struct chan_iov){ .buf = (uintptr_t)&in[i + 1],
					    .len = 8 };
	b.count = 3;
	ASSERT_EQ(3, ioctl(a, CHAN_IOC_SEND_BATCH, &b));
	/* a reads with read(2), c with a batch: both get 1..4. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(8, read(a, &v, 8));
		EXPECT_EQ(in[i], v);
	}
	for (i = 0; i < 4; i++)
		iov[i] = (struct chan_iov){ .buf = (uintptr_t)&out[i],
					    .len = 8 };
	b.count = 4;
	ASSERT_EQ(4, ioctl(c, CHAN_IOC_RECV_BATCH, &b));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(in[i], out[i]);
		EXPECT_EQ(8U, iov[i].len);
	}
	/* A call on a sends and receives its own request back. */
	v = 42;
	out[0] = 0;
	call.reply_fd = a;
	call.send_buf = (uintptr_t)&v;
	call.send_len = 8;
	call.recv_buf = (uintptr_t)&out[0];
	call.recv_len = 8;
	ASSERT_OK(ioctl(a, CHAN_IOC_CALL, &call));
	EXPECT_EQ(1U, call.out_sent);
	EXPECT_EQ(42ULL, out[0]);
	ASSERT_OK(ct_recv_u64(c, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(42ULL, v);
	/* EMSGSIZE leaves the message at the cursor. */
	len = 4;
	EXPECT_ERRNO(EAGAIN, ct_recv(c, 0, &v, &len, CHAN_MSG_NONBLOCK, 0));
	ASSERT_OK(ct_send_u64(a, 0, 9, 0));
	len = 4;
	EXPECT_ERRNO(EMSGSIZE, ct_recv(c, 0, &v, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(8U, len);
	ASSERT_OK(ct_recv_u64(c, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(9ULL, v);
	close(a);
	close(c);
}

/* Lossy: ENOBUFS once with the count, then the oldest held; senders go on. */
TEST_F(bc, lossy_overrun)
{
	uint32_t id = bc_create(_metadata, self, 4, BC, 0);
	struct chan_iov iov[4];
	struct chan_batch b = { .size = sizeof(b), .count = 4,
				.vec = (uintptr_t)iov };
	struct chan_info info;
	uint64_t v, lost, out[4];
	int s, r, r2, k;

	s = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	r = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	r2 = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_LE(0, r);
	ASSERT_LE(0, r2);
	/* Never waits: 10 into 4 slots, non-blocking. */
	for (k = 0; k < 10; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(POLLOUT, ct_poll_now(s, POLLOUT));
	EXPECT_EQ(POLLIN, ct_poll_now(r, POLLIN));
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ(4U, info.depth);	/* clamped at capacity */
	EXPECT_EQ(0ULL, info.lost);	/* counted when reported */
	EXPECT_ERRNO(ENOBUFS, recv_lost(r, &v, 0, 0, &lost));
	EXPECT_EQ(6ULL, lost);
	EXPECT_EQ(6LL, fdinfo_num(r, "lost"));
	EXPECT_EQ(6LL, fdinfo_num(r, "cursor"));
	for (k = 6; k < 10; k++) {
		ASSERT_OK(recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
		EXPECT_EQ((uint64_t)k, v);
		EXPECT_EQ(0ULL, lost);
	}
	EXPECT_ERRNO(EAGAIN, recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
	/* r2 by read(2): ENOBUFS once, then the oldest held. */
	EXPECT_ERRNO(ENOBUFS, read(r2, &v, 8));
	ASSERT_EQ(8, read(r2, &v, 8));
	EXPECT_EQ(6ULL, v);
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ(12ULL, info.lost);
	EXPECT_EQ(10ULL, info.sent);
	EXPECT_EQ(5ULL, info.received);
	EXPECT_EQ(3U, info.depth);
	/* A batch: ENOBUFS for an overrun at its first message (the count
	 * goes to fdinfo and INFO), then the oldest held.
	 */
	for (k = 0; k < 4; k++)
		iov[k] = (struct chan_iov){ .buf = (uintptr_t)&out[k],
					    .len = 8 };
	b.count = 1;
	ASSERT_EQ(1, ioctl(r2, CHAN_IOC_RECV_BATCH, &b));
	EXPECT_EQ(7ULL, out[0]);
	b.count = 4;
	for (k = 10; k < 20; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, 0));
	/* r2 at 8, tail 20: 8 missed. */
	EXPECT_ERRNO(ENOBUFS, ioctl(r2, CHAN_IOC_RECV_BATCH, &b));
	EXPECT_EQ(14LL, fdinfo_num(r2, "lost"));	/* 6 + 8 */
	ASSERT_EQ(4, ioctl(r2, CHAN_IOC_RECV_BATCH, &b));
	for (k = 0; k < 4; k++)
		EXPECT_EQ((uint64_t)(16 + k), out[k]);
	/* A v1 struct (32 bytes) gets ENOBUFS; nothing past it is written. */
	for (k = 20; k < 30; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, 0));
	do {
		struct chan_msg m[2];

		memset(m, 0x5a, sizeof(m));
		m[0].size = 32;
		m[0].flags = 0;
		m[0].id = 0;
		m[0].len = 8;
		m[0].buf = (uintptr_t)&v;
		m[0].timeout_ns = 0;
		EXPECT_ERRNO(ENOBUFS, ioctl(r2, CHAN_IOC_RECV, &m[0]));
		EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, m[0].lost);
	} while (0);
	close(s);
	close(r);
	close(r2);
}

/* libchan: -ENOBUFS, and chan_ep_lost() adds the count. */
TEST_F(bc, libchan_lost)
{
	uint32_t id = bc_create(_metadata, self, 4, BC, 0);
	struct chan_ep *s = NULL, *r = NULL;
	uint64_t v;
	int k;

	ASSERT_OK(chan_ep_open(&s, id, CHAN_ROLE_SEND, 0));
	ASSERT_OK(chan_ep_open(&r, id, CHAN_ROLE_RECV, 0));
	EXPECT_EQ(0ULL, chan_ep_lost(r));
	for (k = 0; k < 7; k++)
		ASSERT_OK(chan_ep_send(s, &k, sizeof(k)));
	EXPECT_EQ(-ENOBUFS, chan_ep_try_recv(r, &v, sizeof(v)));
	EXPECT_EQ(3ULL, chan_ep_lost(r));
	v = 0;
	EXPECT_EQ(4, chan_ep_try_recv(r, &v, sizeof(v)));
	EXPECT_EQ(3ULL, v);
	EXPECT_EQ(0ULL, chan_ep_lost(s));
	chan_ep_close(s);
	chan_ep_close(r);
}

/* Lossless: full while the slowest receiver is capacity behind. */
TEST_F(bc, lossless_waits_for_slowest)
{
	uint32_t id = bc_create(_metadata, self, 4, BCL, 0);
	struct chan_info info;
	int s, fast, slow, k;
	uint64_t v;

	s = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	fast = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	slow = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_LE(0, fast);
	ASSERT_LE(0, slow);
	for (k = 0; k < 4; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(EAGAIN, ct_send_u64(s, 0, 4, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(ETIMEDOUT, ct_send(s, 0, &v, 8, CHAN_MSG_TIMEOUT,
					20 * CT_MS));
	EXPECT_EQ(0, ct_poll_now(s, POLLOUT));
	/* The fast one reading does not help. */
	for (k = 0; k < 4; k++) {
		ASSERT_OK(ct_recv_u64(fast, 0, &v, CHAN_MSG_NONBLOCK));
		EXPECT_EQ((uint64_t)k, v);
	}
	EXPECT_ERRNO(EAGAIN, ct_send_u64(s, 0, 4, CHAN_MSG_NONBLOCK));
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ(4U, info.depth);
	EXPECT_NE(0ULL, info.send_waits);
	/* The slow one reads one: room for one. */
	ASSERT_OK(ct_recv_u64(slow, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(0ULL, v);
	EXPECT_EQ(POLLOUT, ct_poll_now(s, POLLOUT));
	ASSERT_OK(ct_send_u64(s, 0, 4, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(EAGAIN, ct_send_u64(s, 0, 5, CHAN_MSG_NONBLOCK));
	/* Nothing was lost by anyone. */
	for (k = 1; k < 5; k++) {
		ASSERT_OK(ct_recv_u64(slow, 0, &v, CHAN_MSG_NONBLOCK));
		EXPECT_EQ((uint64_t)k, v);
	}
	ASSERT_OK(ct_recv_u64(fast, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(4ULL, v);
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ(0ULL, info.lost);
	EXPECT_EQ(0U, info.depth);
	close(s);
	close(fast);
	close(slow);
}

struct blocked_send {
	int fd;
	uint64_t v;
	int ret;
	int err;
	pid_t tid;
	bool done;	/* set once the send returned */
};

static void *blocked_send_thread(void *arg)
{
	struct blocked_send *b = arg;

	b->tid = (pid_t)syscall(SYS_gettid);
	b->ret = ct_send_u64(b->fd, 0, b->v, 0);
	b->err = errno;
	__atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* A receiver that never reads holds a blocked sender until it closes. */
TEST_F(bc, lossless_resumes_on_close)
{
	uint32_t id = bc_create(_metadata, self, 2, BCL, 0);
	struct blocked_send b = { .v = 99 };
	pthread_t t;
	int s, idle, reader, k;
	uint64_t v;

	s = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	idle = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	reader = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_LE(0, idle);
	ASSERT_LE(0, reader);
	for (k = 0; k < 2; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, 0));
	/* reader is up to date: only idle holds the sender back. */
	for (k = 0; k < 2; k++) {
		ASSERT_OK(ct_recv_u64(reader, 0, &v, CHAN_MSG_NONBLOCK));
		EXPECT_EQ((uint64_t)k, v);
	}
	b.fd = s;
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_send_thread, &b));
	while (!__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE))
		ct_sleep_ms(1);
	EXPECT_TRUE(ct_wait_thread_blocked(b.tid, SYS_ioctl, 5000));
	ct_sleep_ms(100);
	/*
	 * Still held back: the send has not returned (a look at the thread's
	 * state at this instant could catch it between a wake-up and its
	 * next sleep, which the debug kernel makes long).
	 */
	EXPECT_FALSE(__atomic_load_n(&b.done, __ATOMIC_ACQUIRE));
	close(idle);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, b.ret);
	ASSERT_OK(ct_recv_u64(reader, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(99ULL, v);
	close(s);
	close(reader);
}

/* kill -9 of the receiver process a lossless sender is blocked on. */
TEST_F(bc, lossless_receiver_killed)
{
	uint32_t id = bc_create(_metadata, self, 2, BCL, 0);
	int ready[2], s, r, k;
	uint64_t v;

	ASSERT_OK(pipe(ready));
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		int dev = ct_dev_open(), r;

		r = ct_open(dev, id, CHAN_ROLE_RECV, 0, 0);
		if (r < 0)
			_exit(CT_EXIT_SETUP);
		ct_post(ready[1], 'r');
		for (;;)
			pause();
	}
	ASSERT_EQ('r', ct_await(ready[0], 5000));
	s = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	/* A receiver of ours that keeps up: only the child holds back. */
	r = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, r);
	for (k = 0; k < 2; k++) {
		ASSERT_OK(ct_send_u64(s, 0, k, 0));
		ASSERT_OK(ct_recv_u64(r, 0, &v, CHAN_MSG_NONBLOCK));
		EXPECT_EQ((uint64_t)k, v);
	}
	self->pid[1] = ct_fork_slot(1);
	ASSERT_LE(0, self->pid[1]);
	if (self->pid[1] == 0) {
		CF_OK(ct_send_u64(s, 0, 2, 0));
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[1], SYS_ioctl, 5000));
	ct_sleep_ms(100);
	EXPECT_FALSE(ct_exited(self->pid[1]));
	kill(self->pid[0], SIGKILL);
	EXPECT_EQ(128 + SIGKILL, ct_reap(&self->pid[0], 5000));
	EXPECT_EQ(0, CT_CHILD(&self->pid[1], 1, 5000, "sender"));
	ASSERT_OK(ct_recv_u64(r, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(2ULL, v);
	close(r);
	close(s);
	close(ready[0]);
	close(ready[1]);
}

/* Destroy fails blocked receivers and lossless senders; close drains. */
TEST_F(bc, destroy_and_close)
{
	uint32_t id = bc_create(_metadata, self, 2, BCL, 0);
	uint32_t id2 = bc_create(_metadata, self, 4, BC, 0);
	struct chan_info info;
	int s, r, r2, s2;
	uint64_t v;

	s = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	r = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_LE(0, r);
	ASSERT_OK(ct_send_u64(s, 0, 1, 0));
	ASSERT_OK(ct_send_u64(s, 0, 2, 0));
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		CF_ERRNO(EIDRM, ct_send_u64(s, 0, 3, 0));
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[0], SYS_ioctl, 5000));
	ASSERT_OK(ct_destroy(self->dev, id));
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, 5000, "sender"));
	EXPECT_ERRNO(EIDRM, ct_recv_u64(r, 0, &v, 0));
	ASSERT_OK(ct_info(s, 0, 0, &info));
	EXPECT_EQ(2ULL, info.discarded);
	EXPECT_EQ(0U, info.depth);
	close(s);
	close(r);

	s2 = ct_open(self->dev, id2, CHAN_ROLE_SEND, 0, 0);
	r2 = ct_open(self->dev, id2, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, s2);
	ASSERT_LE(0, r2);
	self->pid[1] = ct_fork_slot(1);
	ASSERT_LE(0, self->pid[1]);
	if (self->pid[1] == 0) {
		uint64_t x;

		CF_OK(ct_recv_u64(r2, 0, &x, 0));
		CF_TRUE(x == 5, "got %llu", (unsigned long long)x);
		CF_ERRNO(EPIPE, ct_recv_u64(r2, 0, &x, 0));
		_exit(0);
	}
	ASSERT_TRUE(ct_wait_blocked(self->pid[1], SYS_ioctl, 5000));
	ASSERT_OK(ct_send_u64(s2, 0, 5, 0));
	do {
		struct chan_close c = { .size = sizeof(c) };

		ASSERT_OK(ioctl(s2, CHAN_IOC_CLOSE, &c));
	} while (0);
	EXPECT_EQ(0, CT_CHILD(&self->pid[1], 1, 5000, "receiver"));
	EXPECT_ERRNO(EPIPE, ct_send_u64(s2, 0, 6, 0));
	close(s2);
	close(r2);
}

/* A receiver with read permission only, as nobody; nobody cannot by ID. */
TEST_F(bc, unprivileged)
{
	uint32_t id = bc_create(_metadata, self, 4, BCL, 0604);
	uint32_t priv = bc_create(_metadata, self, 4, BC, 0600);
	mode_t saved = ct_dev_allow_all();
	int ready[2], go[2], s;
	uint64_t k;

	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		int dev, r;
		uint64_t v, k;
		uint32_t len = 8;

		if (ct_drop_privs(NULL, 0))
			_exit(CT_EXIT_SETUP);
		dev = ct_dev_open();
		if (dev < 0)
			_exit(CT_EXIT_SETUP);
		CF_ERRNO(EACCES, ct_open(dev, priv, CHAN_ROLE_RECV, 0, 0));
		CF_ERRNO(EACCES, ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		CF_ERRNO(EOPNOTSUPP, ct_recv(dev, id, &v, &len,
					     CHAN_MSG_NONBLOCK, 0));
		r = CF_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, 0));
		ct_post(ready[1], 'r');
		if (ct_await(go[0], 5000) != 'g')
			_exit(CT_EXIT_SETUP);
		for (k = 0; k < 10; k++) {
			CF_OK(ct_recv_u64(r, 0, &v, 0));
			CF_TRUE(v == k, "got %llu, not %llu",
				(unsigned long long)v, (unsigned long long)k);
		}
		_exit(0);
	}
	ASSERT_EQ('r', ct_await(ready[0], 5000));
	s = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	ct_post(go[1], 'g');
	/* Ten through four slots: the sender waits for nobody. */
	for (k = 0; k < 10; k++)
		ASSERT_OK(ct_send(s, 0, &k, 8, CHAN_MSG_TIMEOUT, 10 * CT_SEC));
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, 10000, "nobody"));
	close(s);
	ct_dev_restore(saved);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/* ---- N senders x M receivers ---- */

#define NS		3	/* senders */
#define NR		4	/* receivers */
#define PER_SENDER	3000U

static uint64_t msg_of(unsigned int sender, uint64_t seq)
{
	return (uint64_t)sender << 48 | seq;
}

/*
 * Receive until EPIPE (every sender gone, drained). Lossless: every
 * sender's sequence exactly 0..PER_SENDER-1. Lossy: each sender's
 * sequence increases, and what is missing equals what ENOBUFS reported.
 * Returns 0 or a line number (for a thread) after printing to stderr.
 */
static int check_receiver(int fd, bool lossless, unsigned int pause_every,
			  uint64_t *lostp)
{
	uint64_t next[NS] = { 0 }, count[NS] = { 0 }, lost = 0, got = 0;
	uint64_t v, l, missing = 0;
	unsigned int i;
	int ret;

	for (;;) {
		ret = recv_lost(fd, &v, 0, 0, &l);
		if (ret && errno == EPIPE)
			break;
		if (ret && errno == ENOBUFS && !lossless) {
			if (!l)
				return __LINE__;
			lost += l;
			continue;
		}
		if (ret) {
			fprintf(stderr, "recv: %s\n", strerror(errno));
			return __LINE__;
		}
		i = v >> 48;
		v &= (1ULL << 48) - 1;
		if (i >= NS)
			return __LINE__;
		if (lossless ? v != next[i] : v < next[i]) {
			fprintf(stderr, "sender %u: got %llu, expected %s%llu\n",
				i, (unsigned long long)v,
				lossless ? "" : ">= ",
				(unsigned long long)next[i]);
			return __LINE__;
		}
		next[i] = v + 1;
		count[i]++;
		got++;
		if (pause_every && got % pause_every == 0)
			usleep(200);
	}
	for (i = 0; i < NS; i++) {
		if (lossless && count[i] != PER_SENDER) {
			fprintf(stderr, "sender %u: %llu messages\n", i,
				(unsigned long long)count[i]);
			return __LINE__;
		}
		missing += PER_SENDER - count[i];
	}
	if (missing != lost) {
		fprintf(stderr, "missing %llu, reported lost %llu\n",
			(unsigned long long)missing, (unsigned long long)lost);
		return __LINE__;
	}
	*lostp = lost;
	return 0;
}

struct sender_arg {
	int fd;
	unsigned int idx;
	int ret;
};

static void *sender_thread(void *p)
{
	struct sender_arg *a = p;
	uint64_t k;

	for (k = 0; k < PER_SENDER; k++) {
		uint64_t v = msg_of(a->idx, k);

		if (ct_send(a->fd, 0, &v, 8, CHAN_MSG_TIMEOUT, 60 * CT_SEC)) {
			a->ret = errno;
			break;
		}
	}
	close(a->fd);
	return NULL;
}

struct receiver_arg {
	int fd;
	bool lossless;
	unsigned int pause_every;
	int line;
	uint64_t lost;
};

static void *receiver_thread(void *p)
{
	struct receiver_arg *a = p;

	a->line = check_receiver(a->fd, a->lossless, a->pause_every, &a->lost);
	close(a->fd);
	return NULL;
}

FIXTURE(nxm) {
	int dev;
	int kmsg;
	uint32_t ids[4];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(nxm)
{
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
	self->nids = 0;
}

FIXTURE_TEARDOWN(nxm)
{
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg,
			 self->ids, self->nids);
	close(self->dev);
}

FIXTURE_VARIANT(nxm) {
	uint32_t flags;
	bool proc_receivers;	/* else processes send, threads receive */
};

FIXTURE_VARIANT_ADD(nxm, lossless_thread_senders) {
	.flags = BCL,
	.proc_receivers = true,
};

FIXTURE_VARIANT_ADD(nxm, lossless_proc_senders) {
	.flags = BCL,
	.proc_receivers = false,
};

FIXTURE_VARIANT_ADD(nxm, lossy_thread_senders) {
	.flags = BC,
	.proc_receivers = true,
};

FIXTURE_VARIANT_ADD(nxm, lossy_proc_senders) {
	.flags = BC,
	.proc_receivers = false,
};

TEST_F_TIMEOUT(nxm, n_by_m, 300)
{
	bool lossless = variant->flags & CHAN_CREATE_LOSSLESS;
	uint32_t id = bc_create(_metadata, self, 8, variant->flags, 0);
	struct sender_arg sa[NS];
	struct receiver_arg ra[NR];
	pthread_t st[NS], rt[NR];
	int sfd[NS], rfd[NR], i, j;
	struct chan_info info;
	uint64_t lost_total = 0;

	/* Every receiver opens before the first send. */
	for (j = 0; j < NR; j++) {
		rfd[j] = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
		ASSERT_LE(0, rfd[j]);
	}
	for (i = 0; i < NS; i++) {
		sfd[i] = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
		ASSERT_LE(0, sfd[i]);
	}
	if (variant->proc_receivers) {
		for (j = 0; j < NR; j++) {
			self->pid[j] = ct_fork_slot(j);
			ASSERT_LE(0, self->pid[j]);
			if (self->pid[j] == 0) {
				uint64_t lost;
				int k, line;

				for (k = 0; k < NR; k++)
					if (k != j)
						close(rfd[k]);
				for (k = 0; k < NS; k++)
					close(sfd[k]);
				/* Receiver 0 of a lossy run is slow. */
				line = check_receiver(rfd[j], lossless,
						      !lossless && !j ? 64 : 0,
						      &lost);
				if (line)
					ct_child_die(line, "receiver %d", j);
				_exit(0);
			}
		}
		for (j = 0; j < NR; j++)
			close(rfd[j]);
		for (i = 0; i < NS; i++) {
			sa[i] = (struct sender_arg){ .fd = sfd[i], .idx = i };
			ASSERT_EQ(0, pthread_create(&st[i], NULL,
						    sender_thread, &sa[i]));
		}
		for (i = 0; i < NS; i++) {
			ASSERT_EQ(0, pthread_join(st[i], NULL));
			EXPECT_EQ(0, sa[i].ret);
		}
		for (j = 0; j < NR; j++)
			EXPECT_EQ(0, CT_CHILD(&self->pid[j], j, 120000,
					      "receiver"));
	} else {
		for (i = 0; i < NS; i++) {
			self->pid[i] = ct_fork_slot(i);
			ASSERT_LE(0, self->pid[i]);
			if (self->pid[i] == 0) {
				struct sender_arg a = { .fd = sfd[i],
							.idx = i };
				int k;

				for (k = 0; k < NR; k++)
					close(rfd[k]);
				for (k = 0; k < NS; k++)
					if (k != i)
						close(sfd[k]);
				sender_thread(&a);
				if (a.ret)
					ct_child_die(__LINE__, "send: %s",
						     strerror(a.ret));
				_exit(0);
			}
		}
		for (i = 0; i < NS; i++)
			close(sfd[i]);
		for (j = 0; j < NR; j++) {
			ra[j] = (struct receiver_arg){
				.fd = rfd[j], .lossless = lossless,
				.pause_every = !lossless && !j ? 64 : 0,
			};
			ASSERT_EQ(0, pthread_create(&rt[j], NULL,
						    receiver_thread, &ra[j]));
		}
		for (i = 0; i < NS; i++)
			EXPECT_EQ(0, CT_CHILD(&self->pid[i], i, 120000,
					      "sender"));
		for (j = 0; j < NR; j++) {
			ASSERT_EQ(0, pthread_join(rt[j], NULL));
			EXPECT_EQ(0, ra[j].line);
			lost_total += ra[j].lost;
		}
	}
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ((uint64_t)NS * PER_SENDER, info.sent);
	if (lossless) {
		EXPECT_EQ(0ULL, info.lost);
		EXPECT_EQ((uint64_t)NS * NR * PER_SENDER, info.received);
	} else {
		/* Every message was delivered or reported lost, each time. */
		EXPECT_EQ((uint64_t)NS * NR * PER_SENDER,
			  info.received + info.lost);
		if (!variant->proc_receivers)
			EXPECT_EQ(lost_total, info.lost);
	}
	TH_LOG("%s: received %llu lost %llu send_waits %llu",
	       lossless ? "lossless" : "lossy",
	       (unsigned long long)info.received,
	       (unsigned long long)info.lost,
	       (unsigned long long)info.send_waits);
}

/* A lossy receiver that reads only after every send: exactly the last
 * capacity messages, and one ENOBUFS for all the rest.
 */
TEST_F(bc, lossy_sleeper_exact)
{
	uint32_t id = bc_create(_metadata, self, 8, BC, 0);
	struct sender_arg sa[NS];
	pthread_t st[NS];
	int r, i;
	uint64_t v, lost, k;

	r = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, r);
	for (i = 0; i < NS; i++) {
		sa[i] = (struct sender_arg){
			.fd = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0),
			.idx = i,
		};
		ASSERT_LE(0, sa[i].fd);
		ASSERT_EQ(0, pthread_create(&st[i], NULL, sender_thread,
					    &sa[i]));
	}
	for (i = 0; i < NS; i++) {
		ASSERT_EQ(0, pthread_join(st[i], NULL));
		EXPECT_EQ(0, sa[i].ret);
	}
	EXPECT_ERRNO(ENOBUFS, recv_lost(r, &v, 0, 0, &lost));
	EXPECT_EQ((uint64_t)NS * PER_SENDER - 8, lost);
	for (k = 0; k < 8; k++)
		ASSERT_OK(recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
	EXPECT_ERRNO(EPIPE, recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
	close(r);
}

/* ---- mapped (CHAN_CREATE_MAPPABLE, lossy) ---- */

static sigjmp_buf segv_jmp;

static void segv_handler(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

/* Does a one-byte store at @p fault (SIGSEGV)? The byte is unchanged. */
static bool store_faults(volatile unsigned char *p)
{
	struct sigaction sa = { .sa_handler = segv_handler }, old;
	bool faulted = false;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(segv_jmp, 1) == 0)
		*p = (unsigned char)(*p + 1);
	else
		faulted = true;
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

/*
 * The ring maps read-only only; a receiver's cursor page is its cursor
 * for the kernel paths too, and a scribbled one is clamped.
 */
TEST_F(bc, mapped_ring_and_cursor)
{
	struct chan_create c = { .size = sizeof(c), .msg_size = 8,
				 .capacity = 4,
				 .flags = BC | CHAN_CREATE_MAPPABLE };
	const struct chan_ring_hdr *hdr;
	struct chan_bcast_cursor *cur;
	struct chan_info info;
	size_t size;
	uint64_t v, lost, k;
	void *ring, *p;
	int s, r;

	ASSERT_OK(ct_create_raw(self->dev, &c));
	self->ids[self->nids++] = c.out_id;
	size = c.out_ring.map_size;
	s = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND, 0, 0);
	r = ct_open(self->dev, c.out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_LE(0, r);

	/* Writable, private, executable: refused. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, r, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, r, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	/* Read-only: fine, and it stays so. */
	ring = mmap(NULL, size, PROT_READ, MAP_SHARED, r, 0);
	ASSERT_NE(MAP_FAILED, ring);
	hdr = ring;
	EXPECT_EQ(CHAN_RING_MAGIC, hdr->magic);
	EXPECT_ERRNO(EACCES, mprotect(ring, size, PROT_READ | PROT_WRITE));
	EXPECT_TRUE(store_faults(ring));
	EXPECT_TRUE(store_faults((unsigned char *)ring + size - 1));
	/* A sender-only endpoint has no cursor page. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, size);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	cur = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r, size);
	ASSERT_NE(MAP_FAILED, cur);
	EXPECT_FALSE(store_faults((unsigned char *)cur + 4095));

	for (k = 0; k < 3; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, 0));
	EXPECT_EQ(3ULL, __atomic_load_n(&hdr->tail, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0ULL, cur->pos);
	/* The kernel path reads and moves the page's cursor. */
	ASSERT_OK(recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
	EXPECT_EQ(0ULL, v);
	EXPECT_EQ(1ULL, cur->pos);
	cur->pos = 2;
	ASSERT_OK(recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
	EXPECT_EQ(2ULL, v);
	EXPECT_EQ(3ULL, cur->pos);
	EXPECT_EQ(0, ct_poll_now(r, POLLIN));
	/* Ahead of the tail: clamped to it, never a loop. */
	cur->pos = ~0ULL;
	EXPECT_EQ(0, ct_poll_now(r, POLLIN));
	EXPECT_ERRNO(EAGAIN, recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
	EXPECT_EQ(3LL, fdinfo_num(r, "cursor"));
	/* Far behind: an overrun, as the kernel's own cursor would be. */
	for (k = 3; k < 10; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, 0));
	cur->pos = 0;
	EXPECT_EQ(POLLIN, ct_poll_now(r, POLLIN));
	EXPECT_ERRNO(ENOBUFS, recv_lost(r, &v, 0, 0, &lost));
	EXPECT_EQ(6ULL, lost);
	EXPECT_EQ(6ULL, cur->pos);
	ASSERT_OK(recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
	EXPECT_EQ(6ULL, v);
	/* Counts it claims are clamped to what was sent. */
	cur->received = ~0ULL;
	cur->lost = ~0ULL;
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(10ULL, info.sent);
	EXPECT_EQ(3ULL + 10, info.received);
	EXPECT_EQ(6ULL + 10, info.lost);
	EXPECT_EQ(16LL, fdinfo_num(r, "lost"));
	EXPECT_EQ(1LL, fdinfo_num(r, "mapped"));
	EXPECT_EQ(0, munmap(ring, size));
	EXPECT_EQ(0, munmap(cur, 4096));
	EXPECT_EQ(0LL, fdinfo_num(r, "mapped"));
	/* The page stays the cursor after its mapping went. */
	ASSERT_OK(recv_lost(r, &v, CHAN_MSG_NONBLOCK, 0, &lost));
	EXPECT_EQ(7ULL, v);
	close(s);
	close(r);
	/* The receiver's claimed counts went with it, clamped. */
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(4ULL + 10, info.received);
}

struct late_send {
	struct chan_ep *ep;
	uint64_t v;
	int ret;
};

static void *late_send_thread(void *p)
{
	struct late_send *ls = p;

	ct_sleep_ms(100);
	ls->ret = chan_ep_send(ls->ep, &ls->v, sizeof(ls->v));
	return NULL;
}

/*
 * libchan on a mapped channel: receivers read without a system call,
 * beside a kernel-path receiver; an overrun is reported as the kernel
 * would; a receiver waits in the kernel at the same cursor.
 */
TEST_F(bc, mapped_libchan)
{
	uint32_t id = bc_create(_metadata, self, 4, BC | CHAN_CREATE_MAPPABLE,
				0);
	struct chan_ep *s = NULL, *r1 = NULL, *r2 = NULL;
	struct chan_ep_stats st;
	struct late_send ls;
	struct chan_info info;
	pthread_t t;
	uint64_t v, lost, k;
	int kr;

	ASSERT_OK(chan_ep_open(&s, id, CHAN_ROLE_SEND, 0));
	ASSERT_OK(chan_ep_open(&r1, id, CHAN_ROLE_RECV, 0));
	ASSERT_OK(chan_ep_open(&r2, id, RW, 0));
	kr = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, kr);
	EXPECT_EQ(0, chan_ep_mapped(s));	/* sends go to the kernel */
	EXPECT_EQ(1, chan_ep_mapped(r1));
	EXPECT_EQ(1, chan_ep_mapped(r2));

	for (k = 0; k < 3; k++)
		ASSERT_OK(chan_ep_send(s, &k, sizeof(k)));
	for (k = 0; k < 3; k++) {
		ASSERT_EQ(8, chan_ep_try_recv(r1, &v, sizeof(v)));
		EXPECT_EQ(k, v);
		ASSERT_OK(recv_lost(kr, &v, CHAN_MSG_NONBLOCK, 0, &lost));
		EXPECT_EQ(k, v);
	}
	EXPECT_EQ(-EAGAIN, chan_ep_try_recv(r1, &v, sizeof(v)));
	ASSERT_OK(chan_ep_get_stats(r1, &st, sizeof(st)));
	EXPECT_EQ(3ULL, st.fast_received);
	EXPECT_EQ(0ULL, st.kernel_received);
	/* Too small a buffer: EMSGSIZE, and the message stays. */
	ASSERT_OK(chan_ep_send(s, &k, sizeof(k)));
	EXPECT_EQ(-EMSGSIZE, chan_ep_try_recv(r1, &v, 4));
	ASSERT_EQ(8, chan_ep_try_recv(r1, &v, sizeof(v)));
	EXPECT_EQ(3ULL, v);

	/* r1 at 4, tail 11: 3 lost, then the oldest held (7). */
	for (k = 4; k < 11; k++)
		ASSERT_OK(chan_ep_send(s, &k, sizeof(k)));
	EXPECT_EQ(-ENOBUFS, chan_ep_try_recv(r1, &v, sizeof(v)));
	EXPECT_EQ(3ULL, chan_ep_lost(r1));
	for (k = 7; k < 11; k++) {
		ASSERT_EQ(8, chan_ep_try_recv(r1, &v, sizeof(v)));
		EXPECT_EQ(k, v);
	}
	EXPECT_EQ(3LL, fdinfo_num(chan_ep_fd(r1), "lost"));
	EXPECT_EQ(11LL, fdinfo_num(chan_ep_fd(r1), "cursor"));
	/* The kernel-path receiver is told the same way. */
	EXPECT_ERRNO(ENOBUFS, recv_lost(kr, &v, 0, 0, &lost));
	EXPECT_EQ(4ULL, lost);		/* at 3, tail 11 */
	/* r2 read nothing: its own 7 lost when it asks; depth clamped. */
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ(4U, info.depth);
	EXPECT_EQ(3ULL + 4, info.lost);
	EXPECT_EQ(3ULL + 8, info.received);	/* kr 3, r1 3 + 1 + 4 */

	/* Nothing to read: the wait is in the kernel, at the same cursor. */
	ls = (struct late_send){ .ep = s, .v = 42 };
	ASSERT_EQ(0, pthread_create(&t, NULL, late_send_thread, &ls));
	ASSERT_EQ(8, chan_ep_recv(r1, &v, sizeof(v)));
	EXPECT_EQ(42ULL, v);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, ls.ret);
	EXPECT_EQ(-EAGAIN, chan_ep_try_recv(r1, &v, sizeof(v)));
	ASSERT_OK(chan_ep_get_stats(r1, &st, sizeof(st)));
	EXPECT_EQ(8ULL, st.fast_received);
	EXPECT_EQ(1ULL, st.kernel_received);

	/* A mapped receiver's sends go through the kernel; it gets its own. */
	v = 43;
	ASSERT_OK(chan_ep_send(r2, &v, sizeof(v)));
	ASSERT_EQ(8, chan_ep_try_recv(r1, &v, sizeof(v)));
	EXPECT_EQ(43ULL, v);
	EXPECT_EQ(-ENOBUFS, chan_ep_try_recv(r2, &v, sizeof(v)));
	EXPECT_EQ(9ULL, chan_ep_lost(r2));	/* at 0, tail 13 */
	for (k = 9; k < 13; k++)
		ASSERT_EQ(8, chan_ep_try_recv(r2, &v, sizeof(v)));
	EXPECT_EQ(43ULL, v);
	/* No sender left: drained, then EPIPE (from the kernel). */
	chan_ep_close(s);
	chan_ep_close(r2);
	EXPECT_EQ(-EPIPE, chan_ep_try_recv(r1, &v, sizeof(v)));
	EXPECT_EQ(-EPIPE, chan_ep_recv(r1, &v, sizeof(v)));
	chan_ep_close(r1);
	close(kr);
}

#define MP_MSGS		20000U
#define MP_WORDS	8		/* 64-byte messages */
#define MP_RX		5

/*
 * A receiver process: mapped or not, maybe slow, maybe leaving early or
 * joining late. Every message is MP_WORDS copies of its sequence number,
 * so a torn copy shows; sequence numbers increase and their gaps add up
 * to the losses reported.
 */
static void mp_receiver(uint32_t id, int kind, int ready, int go,
			bool lossless, uint64_t nmsgs)
{
	struct chan_ep *r = NULL;
	struct chan_ep_stats st;
	uint64_t m[MP_WORDS], last = 0, gaps = 0, n = 0, base = 0, spin;
	bool first = true;
	ssize_t ret;
	int i;

	if (kind == 4 && ct_await(go, 10000) != 'h')	/* joins late */
		_exit(CT_EXIT_SETUP);
	CF_TRUE(chan_ep_open(&r, id, CHAN_ROLE_RECV,
			     kind == 1 ? CHAN_EP_NO_MAP : 0) == 0, "open");
	CF_TRUE(chan_ep_mapped(r) == (kind != 1), "mapped %d",
		chan_ep_mapped(r));
	ct_post(ready, 'r');
	for (;;) {
		ret = chan_ep_recv(r, m, sizeof(m));
		if (ret == -EPIPE)
			break;
		if (ret == -ENOBUFS)
			continue;
		CF_TRUE(ret == sizeof(m), "recv %zd", ret);
		for (i = 1; i < MP_WORDS; i++)
			CF_TRUE(m[i] == m[0], "torn: %llu/%llu",
				(unsigned long long)m[0],
				(unsigned long long)m[i]);
		if (!first) {
			CF_TRUE(m[0] > last, "%llu after %llu",
				(unsigned long long)m[0],
				(unsigned long long)last);
			gaps += m[0] - last - 1;
		} else {
			/*
			 * Losses before the first message: from 0, where all
			 * but the joiner started, to it.
			 */
			base = chan_ep_lost(r);
			if (kind != 4)
				CF_TRUE(m[0] == base, "first %llu, lost %llu",
					(unsigned long long)m[0],
					(unsigned long long)base);
		}
		first = false;
		last = m[0];
		n++;
		if (kind == 2 && n % 64 == 0)	/* slow: overruns */
			for (spin = 0; spin < 200000; spin++)
				__asm__ volatile("" ::: "memory");
		if (kind == 3 && n == 1000)	/* leaves */
			break;
	}
	CF_TRUE(gaps == chan_ep_lost(r) - base, "gaps %llu, lost %llu - %llu",
		(unsigned long long)gaps,
		(unsigned long long)chan_ep_lost(r),
		(unsigned long long)base);
	if (kind != 3)
		CF_TRUE(last == nmsgs - 1, "last %llu",
			(unsigned long long)last);
	if (lossless) {
		CF_TRUE(chan_ep_lost(r) == 0 && gaps == 0, "lost %llu",
			(unsigned long long)chan_ep_lost(r));
		if (kind != 3 && kind != 4)
			CF_TRUE(n == nmsgs, "got %llu", (unsigned long long)n);
	}
	CF_TRUE(chan_ep_get_stats(r, &st, sizeof(st)) == 0, "stats");
	if (kind == 1)
		CF_TRUE(st.fast_received == 0, "fast %llu",
			(unsigned long long)st.fast_received);
	else
		/*
		 * Mapped; whether any receive found a message there without
		 * waiting depends on the schedule (a receiver that always
		 * finds the ring empty is served by the kernel when woken):
		 * mapped_libchan checks fast receives where they are sure.
		 */
		CF_TRUE(chan_ep_mapped(r) == 1, "not mapped");
	CF_TRUE(st.fast_received + st.kernel_received == n, "counts");
	chan_ep_close(r);
	_exit(0);
}

/*
 * Processes: two mapped receivers (one slow), a kernel-path one, one that
 * leaves after 1000 and one that joins halfway, against a sender through
 * the kernel.
 */
static void mapped_processes(struct __test_metadata *_metadata,
			     FIXTURE_DATA(bc) *self, bool lossless,
			     uint64_t nmsgs)
{
	struct chan_create c = { .size = sizeof(c),
				 .msg_size = MP_WORDS * 8, .capacity = 16,
				 .flags = BC | CHAN_CREATE_MAPPABLE |
					  (lossless ? CHAN_CREATE_LOSSLESS : 0) };
	static const char *what[MP_RX] = { "mapped", "kernel", "slow",
					   "leaver", "joiner" };
	uint64_t m[MP_WORDS], k;
	struct chan_info info;
	int ready[2], half[2], s, i, j;

	ASSERT_OK(ct_create_raw(self->dev, &c));
	self->ids[self->nids++] = c.out_id;
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(half));
	for (i = 0; i < MP_RX; i++) {
		self->pid[i] = ct_fork_slot(i);
		ASSERT_LE(0, self->pid[i]);
		if (self->pid[i] == 0)
			mp_receiver(c.out_id, i, ready[1], half[0], lossless,
				    nmsgs);
	}
	for (i = 0; i < MP_RX - 1; i++)
		ASSERT_EQ('r', ct_await(ready[0], 10000));
	s = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	for (k = 0; k < nmsgs; k++) {
		if (k == nmsgs / 2) {
			ct_post(half[1], 'h');
			ASSERT_EQ('r', ct_await(ready[0], 10000));
		}
		for (j = 0; j < MP_WORDS; j++)
			m[j] = k;
		ASSERT_OK(ct_send(s, 0, m, sizeof(m), 0, 0));
		if (k % 256 == 0)
			sched_yield();
	}
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(nmsgs, info.sent);
	close(s);
	for (i = 0; i < MP_RX; i++)
		EXPECT_EQ(0, CT_CHILD(&self->pid[i], i, 60000, what[i]));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	TH_LOG("sent %llu received %llu lost %llu",
	       (unsigned long long)info.sent,
	       (unsigned long long)info.received,
	       (unsigned long long)info.lost);
	EXPECT_EQ(0U, info.receivers);
	if (lossless)
		EXPECT_EQ(0ULL, info.lost);
	close(ready[0]);
	close(ready[1]);
	close(half[0]);
	close(half[1]);
}

TEST_F_TIMEOUT(bc, mapped_processes, 300)
{
	mapped_processes(_metadata, self, false, MP_MSGS);
}

/* Lossless: every receiver gets every message from its start, in order. */
TEST_F_TIMEOUT(bc, mapped_lossless_processes, 300)
{
	mapped_processes(_metadata, self, true, MP_MSGS / 4);
}


/* An unprivileged receiver with read permission alone maps and reads. */
TEST_F(bc, mapped_unprivileged)
{
	uint32_t id = bc_create(_metadata, self, 4, BC | CHAN_CREATE_MAPPABLE,
				0604);
	mode_t saved = ct_dev_allow_all();
	int ready[2], go[2], s;
	uint64_t k;

	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		struct chan_ep *r = NULL;
		struct chan_ep_stats st;
		uint64_t v, k;
		int dev, fd;
		void *p;

		if (ct_drop_privs(NULL, 0))
			_exit(CT_EXIT_SETUP);
		dev = ct_dev_open();
		if (dev < 0)
			_exit(CT_EXIT_SETUP);
		CF_ERRNO(EACCES, ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		CF_TRUE(chan_ep_open(&r, id, CHAN_ROLE_RECV, 0) == 0, "open");
		CF_TRUE(chan_ep_mapped(r) == 1, "not mapped");
		fd = ct_open(dev, id, CHAN_ROLE_RECV, 0, 0);
		CF_OK(fd);
		p = mmap(NULL, 4096 * 2, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		CF_TRUE(p == MAP_FAILED && errno == EACCES, "mapped rw");
		ct_post(ready[1], 'r');
		if (ct_await(go[0], 5000) != 'g')
			_exit(CT_EXIT_SETUP);
		for (k = 0; k < 4; k++) {
			CF_TRUE(chan_ep_try_recv(r, &v, sizeof(v)) == 8,
				"recv %llu", (unsigned long long)k);
			CF_TRUE(v == k, "got %llu", (unsigned long long)v);
		}
		CF_TRUE(chan_ep_get_stats(r, &st, sizeof(st)) == 0, "st");
		CF_TRUE(st.fast_received == 4 && st.kernel_received == 0,
			"fast %llu", (unsigned long long)st.fast_received);
		_exit(0);
	}
	ASSERT_EQ('r', ct_await(ready[0], 5000));
	s = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	for (k = 0; k < 4; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, 0));
	ct_post(go[1], 'g');
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, 10000, "nobody"));
	close(s);
	ct_dev_restore(saved);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/*
 * Lossless and mapped: a sender waiting for a fast-path receiver is woken
 * by its doorbell; a receiver scribbling its cursor back only stalls the
 * senders (the kernel neither loops nor reads out of the ring), one
 * scribbling it forward only stops gating; a mapped receiver killed
 * with SIGKILL stops gating when its endpoint is released.
 */
TEST_F(bc, mapped_lossless_gating)
{
	struct chan_create c = { .size = sizeof(c), .msg_size = 8,
				 .capacity = 4,
				 .flags = BCL | CHAN_CREATE_MAPPABLE };
	struct chan_bcast_cursor *cur;
	struct chan_ep *r = NULL;
	struct chan_ep_stats st;
	struct blocked_send b = { .v = 99 };
	int s, raw, ready[2], k;
	pthread_t t;
	uint64_t v;

	ASSERT_OK(ct_create_raw(self->dev, &c));
	self->ids[self->nids++] = c.out_id;
	s = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	ASSERT_OK(chan_ep_open(&r, c.out_id, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(r));
	for (k = 0; k < 4; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(EAGAIN, ct_send_u64(s, 0, 4, CHAN_MSG_NONBLOCK));
	/* A blocked sender; the fast path's read rings it awake. */
	b.fd = s;
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_send_thread, &b));
	while (!__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE))
		ct_sleep_ms(1);
	EXPECT_TRUE(ct_wait_thread_blocked(b.tid, SYS_ioctl, 5000));
	ASSERT_EQ(8, chan_ep_try_recv(r, &v, sizeof(v)));
	EXPECT_EQ(0ULL, v);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, b.ret);
	ASSERT_OK(chan_ep_get_stats(r, &st, sizeof(st)));
	EXPECT_EQ(1ULL, st.fast_received);
	EXPECT_LE(1ULL, st.wakes);
	for (k = 1; k < 4; k++) {
		ASSERT_EQ(8, chan_ep_try_recv(r, &v, sizeof(v)));
		EXPECT_EQ((uint64_t)k, v);
	}
	ASSERT_EQ(8, chan_ep_try_recv(r, &v, sizeof(v)));
	EXPECT_EQ(99ULL, v);
	EXPECT_EQ(0ULL, chan_ep_lost(r));

	/* Scribbled back: senders stall, nothing worse. */
	raw = ct_open(self->dev, c.out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, raw);
	cur = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, raw,
		   c.out_ring.map_size);
	ASSERT_NE(MAP_FAILED, cur);
	for (k = 0; k < 4; k++)
		ASSERT_OK(ct_send_u64(s, 0, k, CHAN_MSG_NONBLOCK));
	ASSERT_EQ(8, chan_ep_try_recv(r, &v, sizeof(v)));
	ASSERT_OK(ct_recv_u64(raw, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(0ULL, v);
	cur->pos = 0;		/* tail 9: "9 behind", more than capacity */
	EXPECT_ERRNO(EAGAIN, ct_send_u64(s, 0, 4, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(0, ct_poll_now(s, POLLOUT));
	/* Its own receive sees an overrun; the others are untouched. */
	EXPECT_ERRNO(ENOBUFS, read(raw, &v, 8));
	EXPECT_EQ(5ULL, cur->pos);
	/* Scribbled forward: clamped to the tail, it gates no more. */
	cur->pos = ~0ULL;
	ASSERT_EQ(8, chan_ep_try_recv(r, &v, sizeof(v)));
	EXPECT_EQ(POLLOUT, ct_poll_now(s, POLLOUT));
	ASSERT_OK(ct_send_u64(s, 0, 4, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(EAGAIN, ct_recv_u64(raw, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(0, munmap(cur, 4096));
	close(raw);
	while (chan_ep_try_recv(r, &v, sizeof(v)) == 8)
		;

	/* A mapped receiver killed mid-stream stops gating. */
	ASSERT_OK(pipe(ready));
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		struct chan_ep *kr = NULL;

		CF_TRUE(chan_ep_open(&kr, c.out_id, CHAN_ROLE_RECV, 0) == 0,
			"open");
		CF_TRUE(chan_ep_mapped(kr) == 1, "not mapped");
		ct_post(ready[1], 'r');
		CF_TRUE(chan_ep_recv(kr, &v, sizeof(v)) == 8, "recv");
		ct_post(ready[1], 'g');
		pause();
		_exit(0);
	}
	ASSERT_EQ('r', ct_await(ready[0], 5000));
	ASSERT_OK(ct_send_u64(s, 0, 100, CHAN_MSG_NONBLOCK));
	ASSERT_EQ('g', ct_await(ready[0], 5000));
	while (chan_ep_try_recv(r, &v, sizeof(v)) == 8)
		;
	/* Only the child, one message in and never again, holds them. */
	for (k = 1; k < 5; k++)
		ASSERT_OK(ct_send_u64(s, 0, 100 + k, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(EAGAIN, ct_send_u64(s, 0, 200, CHAN_MSG_NONBLOCK));
	while (chan_ep_try_recv(r, &v, sizeof(v)) == 8)
		;
	b = (struct blocked_send){ .fd = s, .v = 201 };
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_send_thread, &b));
	while (!__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE))
		ct_sleep_ms(1);
	EXPECT_TRUE(ct_wait_thread_blocked(b.tid, SYS_ioctl, 5000));
	kill(self->pid[0], SIGKILL);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, b.ret);
	ct_reap(&self->pid[0], 5000);
	close(ready[0]);
	close(ready[1]);
	close(s);
	chan_ep_close(r);
}

CT_HARNESS_MAIN
