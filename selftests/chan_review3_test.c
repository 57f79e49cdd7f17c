// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests from a security review of mappable byte streams
 * (CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE), the attacker being any
 * local user who may read a stream.
 *
 * A kernel read of a mappable stream takes bytes out of the ring into
 * its bounce buffer (under the stream claim) and copies them out only
 * after letting the slot go, so a copy-out that fails loses what was
 * taken. The receive buffer is made ready before the take; these tests
 * make the copy-out fail after that check:
 *
 *  - readonly_buffer_takes_nothing: read(2) into a buffer that is mapped
 *    and present but not writable (a string literal, a PROT_READ page).
 *    The readiness probe passed it (it only loads), the take emptied the
 *    write, the copy-out failed: EFAULT, and the bytes were gone for
 *    every reader, counted nowhere (no drop in INFO). On a stream that
 *    cannot be mapped the same read takes nothing. A read that fails
 *    with EFAULT must leave the stream as it was.
 *  - buffer_revoked_while_waiting: a blocking read waits for bytes with
 *    a buffer that was ready when it started; meanwhile another thread
 *    takes the buffer away (mprotect PROT_NONE). The buffer was checked
 *    once, before the wait, so the bytes that woke the reader were taken
 *    and lost. The check must be made after the wait, before each take.
 *
 * FIONREAD on a mappable stream:
 *
 *  - fionread_past_retired_head: a mapper retires the head slot, read to
 *    its end, and is preempted (or stopped) before it helps the head on.
 *    The head is then stale: its slot is EMPTY for the next lap. POLLIN
 *    walks past it and a read takes the next write (its claim helps the
 *    head), but FIONREAD stopped at the stale head and said 0 bytes for
 *    as long as the mapper stayed stopped. It must count what a read
 *    would get.
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define WAIT_MS		20000
#define MSG		64U
#define CAP		8U

FIXTURE(r3) {
	int dev, kmsg;
	uint32_t ids[4];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
	int sfd, rfd;
	struct chan_create c;
};

FIXTURE_SETUP(r3)
{
	struct chan_create *c = &self->c;

	self->sfd = self->rfd = -1;
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
	ASSERT_OK(ct_create_mappable(self->dev, MSG, CAP, 0600,
				     CHAN_CREATE_STREAM, NULL, c));
	self->ids[self->nids++] = c->out_id;
	self->sfd = ct_open(self->dev, c->out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, self->sfd);
	self->rfd = ct_open(self->dev, c->out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->rfd);
}

FIXTURE_TEARDOWN(r3)
{
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->rfd >= 0)
		close(self->rfd);
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg,
			 self->ids, self->nids);
	close(self->dev);
}

static int r3_fionread(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n))
		return -errno;
	return n;
}

/* A non-blocking read of what is queued, into a good buffer. */
static ssize_t r3_drain(int fd, void *buf, size_t cap)
{
	int fl = fcntl(fd, F_GETFL);
	ssize_t k;

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	k = read(fd, buf, cap);
	if (k < 0)
		k = -errno;
	fcntl(fd, F_SETFL, fl);
	return k;
}

TEST_F(r3, readonly_buffer_takes_nothing)
{
	static const char msg[] = "0123456789abcdef";
	const size_t len = sizeof(msg) - 1;
	struct chan_info info;
	char got[64];
	char *ro;

	ro = mmap(NULL, CT_PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 'r', CT_PAGE);		/* present */
	ASSERT_OK(mprotect(ro, CT_PAGE, PROT_READ));

	ASSERT_EQ((ssize_t)len, write(self->sfd, msg, len));
	EXPECT_EQ((int)len, r3_fionread(self->rfd));
	EXPECT_EQ(-1, read(self->rfd, ro, len));
	EXPECT_EQ(EFAULT, errno);
	/* Nothing was written into the read-only page... */
	EXPECT_EQ('r', ro[0]);
	/* ...and nothing was taken from the stream. */
	EXPECT_EQ((int)len, r3_fionread(self->rfd));
	ASSERT_EQ((ssize_t)len, r3_drain(self->rfd, got, sizeof(got)))
		TH_LOG("the bytes of the failed read are gone");
	EXPECT_EQ(0, memcmp(got, msg, len));
	ASSERT_OK(ct_info(self->dev, self->ids[0], 0, &info));
	EXPECT_EQ(0ULL, info.dropped);
	EXPECT_EQ(0U, info.depth);
	munmap(ro, CT_PAGE);
}

struct r3_waiter {
	int fd;
	char *buf;
	pid_t tid;
	ssize_t ret;
	int err;
};

static void *r3_wait_read(void *arg)
{
	struct r3_waiter *w = arg;

	w->tid = (pid_t)syscall(SYS_gettid);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	w->ret = read(w->fd, w->buf, 64);
	w->err = errno;
	return NULL;
}

TEST_F_TIMEOUT(r3, buffer_revoked_while_waiting, 60)
{
	static const char msg[] = "the bytes that woke it";
	const size_t len = sizeof(msg) - 1;
	struct r3_waiter w = { .fd = self->rfd };
	pthread_t t;
	char got[64];
	int i;

	w.buf = mmap(NULL, CT_PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, w.buf);
	memset(w.buf, 'w', CT_PAGE);
	ASSERT_OK(pthread_create(&t, NULL, r3_wait_read, &w));
	for (i = 0; i < 1000 && !__atomic_load_n(&w.tid, __ATOMIC_SEQ_CST);
	     i++)
		ct_sleep_ms(1);
	ASSERT_NE(0, w.tid);
	ASSERT_TRUE(ct_wait_thread_blocked(w.tid, SYS_read, WAIT_MS));
	/* The buffer goes away while the reader waits. */
	ASSERT_OK(mprotect(w.buf, CT_PAGE, PROT_NONE));
	ASSERT_EQ((ssize_t)len, write(self->sfd, msg, len));
	ASSERT_OK(pthread_join(t, NULL));
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EFAULT, w.err);
	/* The bytes are still there for the next read. */
	EXPECT_EQ((int)len, r3_fionread(self->rfd));
	ASSERT_EQ((ssize_t)len, r3_drain(self->rfd, got, sizeof(got)))
		TH_LOG("the bytes that woke the reader are gone");
	EXPECT_EQ(0, memcmp(got, msg, len));
	munmap(w.buf, CT_PAGE);
}

/*
 * Claim the head slot of a mapped stream and retire it for its lap, as
 * chan_ring_stream_retire() does, but without helping the head on: a
 * reader stopped between the two. Return the write's length, or -1.
 */
static long r3_retire_unhelped(struct ct_ring *r)
{
	uint32_t len, off;
	struct chan_slot *s;
	__s64 pos;

	s = chan_ring_claim_stream(&r->v, r->token, &pos, &len, &off);
	if (!s || off)
		return -1;
	chan_ring_retire(&r->v, s, (__u64)pos);
	return len;
}

TEST_F(r3, fionread_past_retired_head)
{
	static const char a[] = "aaaa", b[] = "bbbbbbbbbbbb";
	const size_t alen = sizeof(a) - 1, blen = sizeof(b) - 1;
	struct pollfd p = { .fd = self->rfd, .events = POLLIN };
	struct ct_ring ring;
	uint32_t token;
	char got[64];
	int mfd;

	ASSERT_EQ((ssize_t)alen, write(self->sfd, a, alen));
	ASSERT_EQ((ssize_t)blen, write(self->sfd, b, blen));
	EXPECT_EQ((int)(alen + blen), r3_fionread(self->rfd));

	mfd = ct_open_token(self->dev, self->ids[0],
			    CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, &token);
	ASSERT_LE(0, mfd);
	ASSERT_OK(ct_ring_map(mfd, &self->c.out_ring, token, &ring));
	/* A mapper reads the first write to its end and retires its slot,
	 * then stops before chan_ring_stream_retire() helps the head on.
	 */
	ASSERT_EQ((long)alen, r3_retire_unhelped(&ring));

	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_TRUE(p.revents & POLLIN);
	EXPECT_EQ((int)blen, r3_fionread(self->rfd))
		TH_LOG("FIONREAD stops at the stale head");
	EXPECT_EQ((ssize_t)blen, r3_drain(self->rfd, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(got, b, blen));
	EXPECT_EQ(0, r3_fionread(self->rfd));
	ct_ring_unmap(&ring);
	close(mfd);
}

TEST_HARNESS_MAIN
