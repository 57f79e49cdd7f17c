// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests from a security review of the fast path.
 *
 *  - tombstone_flag_flip: a kernel receive claims a slot as a tombstone
 *    (skipping the length check against the caller's buffer) and then
 *    reads the slot's flags again to decide whether to copy its payload.
 *    A mapper that clears the flag in between makes the kernel copy up to
 *    msg_size bytes into a buffer of the caller's size (a stack or bounce
 *    buffer in the kernel, then the user buffer). Here msg_size is
 *    CHAN_STACK_BOUNCE (256), so the kernel's own buffer holds it and only
 *    the overrun of the user buffer shows: RECV must never report, or
 *    write, more than the buffer it was given. (With a larger msg_size the
 *    same race overflows the kernel stack: KASAN stack-out-of-bounds in
 *    chan_xfer on the debug kernel.)
 *  - libchan_tombstone_flag_flip: libchan's fast-path receive
 *    (chan_ep_fast_recv()) has the same re-read: a hostile mapper of the
 *    channel makes it memcpy() msg_size bytes into the caller's smaller
 *    buffer, in the victim's own process.
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <pthread.h>
#include <libchan.h>

#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)
#define MAX_IDS		4
#define MSG		256U
#define CAP		200U
#define RUN_NS		(15 * CT_SEC)

FIXTURE(rv) {
	int dev;
	int kmsg;
	uint32_t ids[MAX_IDS];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(rv)
{
	self->nids = 0;
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
}

FIXTURE_TEARDOWN(rv)
{
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg, self->ids,
			 self->nids);
	close(self->dev);
}

struct flip_ctx {
	struct ct_ring *r;
	volatile int stop;
};

/* Clear the tombstone flag of any slot the kernel is reading. */
static void *flip_thread(void *arg)
{
	struct flip_ctx *f = arg;
	const struct chan_ring_view *v = &f->r->v;
	uint32_t i;

	while (!f->stop) {
		for (i = 0; i <= v->mask; i++) {
			struct chan_slot *s = chan_ring_slot(v, i);
			uint64_t st = __atomic_load_n(&s->state,
						      __ATOMIC_ACQUIRE);

			if (chan_slot_phase(st) == CHAN_SLOT_READING &&
			    chan_slot_owner(st) == CHAN_OWNER_KERNEL)
				__atomic_store_n(&s->flags, 0U,
						 __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* Keep the ring full of msg_size-long "tombstones" with a payload. */
static void *fill_thread(void *arg)
{
	struct flip_ctx *f = arg;
	const struct chan_ring_view *v = &f->r->v;

	while (!f->stop) {
		struct chan_slot *s;
		__s64 pos;

		s = chan_ring_claim_send(v, f->r->token, &pos);
		if (!s)
			continue;
		memset(s->data, 0xa5, v->msg_size);
		__atomic_store_n(&s->len, v->msg_size, __ATOMIC_RELAXED);
		__atomic_store_n(&s->flags, CHAN_SLOT_TOMBSTONE,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&s->state,
				 chan_slot_state(chan_ring_lap(v, (uint64_t)pos),
						 CHAN_SLOT_FULL, f->r->token),
				 __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * A mappable channel of the test's own, an endpoint with both roles and
 * the endpoint's mapping: the attacker's hold on the ring. Returns the fd.
 */
static int rv_mapped_channel(struct __test_metadata *_metadata,
			     FIXTURE_DATA(rv) *self, struct chan_create *c,
			     struct ct_ring *r)
{
	uint32_t token;
	int fd;

	ASSERT_OK(ct_create_kept(self->dev, MSG, 4, 0600, c, self->ids,
				 &self->nids, MAX_IDS));
	fd = ct_open_token(self->dev, c->out_id, RW, 0, &token);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_ring_map(fd, &c->out_ring, token, r));
	return fd;
}

TEST_F_TIMEOUT(rv, tombstone_flag_flip, 120)
{
	unsigned char buf[CAP + 64];
	struct flip_ctx f = { 0 };
	struct chan_create c;
	struct ct_ring r;
	pthread_t t1, t2;
	unsigned long long end, n = 0, bad_len = 0, overrun = 0;
	int fd;

	fd = rv_mapped_channel(_metadata, self, &c, &r);
	f.r = &r;
	ASSERT_OK(pthread_create(&t1, NULL, flip_thread, &f));
	ASSERT_OK(pthread_create(&t2, NULL, fill_thread, &f));

	end = ct_now_ns() + RUN_NS;
	while (ct_now_ns() < end && !bad_len && !overrun) {
		struct chan_msg m = {
			.size = sizeof(m),
			.flags = CHAN_MSG_NONBLOCK,
			.len = CAP,
			.buf = (uintptr_t)buf,
		};
		size_t i;

		memset(buf, 0, sizeof(buf));
		n++;
		if (ioctl(fd, CHAN_IOC_RECV, &m))
			continue;
		if (m.len > CAP)
			bad_len++;
		for (i = CAP; i < sizeof(buf); i++)
			if (buf[i])
				overrun++;
	}
	f.stop = 1;
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	TH_LOG("%llu receives", (unsigned long long)n);
	EXPECT_EQ(0ULL, bad_len);
	EXPECT_EQ(0ULL, overrun);
	ct_ring_unmap(&r);
	close(fd);
}

TEST_F_TIMEOUT(rv, libchan_tombstone_flag_flip, 120)
{
	unsigned char buf[CAP + 64];
	struct flip_ctx f = { 0 };
	struct chan_create c;
	struct chan_ep *ep;
	struct ct_ring r;
	pthread_t t1, t2;
	unsigned long long end, n = 0, bad_len = 0, overrun = 0;
	int fd;

	fd = rv_mapped_channel(_metadata, self, &c, &r);
	/* The victim: a libchan receiver on the fast path. */
	ASSERT_OK(chan_ep_open(&ep, c.out_id, CHAN_ROLE_RECV, 0));
	f.r = &r;
	ASSERT_OK(pthread_create(&t1, NULL, flip_thread, &f));
	ASSERT_OK(pthread_create(&t2, NULL, fill_thread, &f));

	end = ct_now_ns() + RUN_NS;
	while (ct_now_ns() < end && !bad_len && !overrun) {
		uint32_t len = 0;
		ssize_t ret;
		size_t i;

		memset(buf, 0, sizeof(buf));
		n++;
		ret = chan_ep_recvmsg(ep, buf, CAP, CHAN_MSG_NONBLOCK, 0, &len);
		if (ret < 0)
			continue;
		if (ret > (ssize_t)CAP || len > CAP)
			bad_len++;
		for (i = CAP; i < sizeof(buf); i++)
			if (buf[i])
				overrun++;
	}
	f.stop = 1;
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	TH_LOG("%llu receives", n);
	EXPECT_EQ(0ULL, bad_len);
	EXPECT_EQ(0ULL, overrun);
	chan_ep_close(ep);
	ct_ring_unmap(&r);
	close(fd);
}

TEST_HARNESS_MAIN
