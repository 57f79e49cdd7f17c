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
 *
 * Second review (CHAN_IOC_CLOSE, CHAN_CREATE_CRC32C):
 *  - crc_hostile_kernel / crc_hostile_libchan: a mapper of a CRC32C
 *    channel publishes slots with every kind of length (shorter than a
 *    check, one off either side of the buffer, past msg_size, ~0), bad
 *    and good checks and tombstone flags, while a second thread flips
 *    bits, lengths and flags of slots being read. A receive (the kernel's
 *    by ioctl, into present and into not-yet-faulted buffers, with and
 *    without BADMSG; libchan's fast path) must never report more than its
 *    buffer, never write past it, never hand over a message that is not
 *    one its sender wrote, and (the kernel) never write the buffer when
 *    it takes no message. msg_size is larger than the kernel's stack
 *    buffer, so the kernel's bounce buffer is in play (KASAN).
 *  - crc_flood_bounded: a flood of corrupt slots keeps a timed receive
 *    within its timeout, a non-blocking one prompt, and a blocking one
 *    killable.
 *  - close_wakes_call / close_wakes_batch: a CALL waiting for its reply
 *    and a WAITALL batch receive are woken by a close of the channel they
 *    wait on.
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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

/* ---- CHAN_CREATE_CRC32C against a hostile mapper ---- */

#define BIG		1024U	/* > CHAN_STACK_BOUNCE: the bounce buffer */
#define RCAP		300U	/* the receiver's buffer */
#define GUARD		64U
#define CRC_RUN_NS	(10 * CT_SEC)

/* What every message the mapper means to send holds: its length, spread. */
static unsigned char rv_fill_byte(uint32_t len)
{
	return (unsigned char)(len * 7 + 1);
}

static bool rv_genuine(const unsigned char *b, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (b[i] != rv_fill_byte(len))
			return false;
	return true;
}

struct crc_ctx {
	struct ct_ring *r;
	volatile int stop;
	int only_bad;		/* never a good check */
	uint64_t seed;
};

/* Keep the ring full of slots of every shape, good and bad. */
static void *crc_fill_thread(void *arg)
{
	struct crc_ctx *f = arg;
	const struct chan_ring_view *v = &f->r->v;
	const uint32_t plens[] = { 0, 1, 3, RCAP - 1, RCAP, RCAP + 1, BIG - 1,
				   BIG };
	unsigned char want[BIG];
	uint64_t rs = f->seed;

	while (!f->stop) {
		uint64_t rnd = ct_rand(&rs);
		uint32_t plen = f->only_bad ? (uint32_t)(rnd >> 40) % RCAP :
				(rnd & 8) ? (uint32_t)(rnd >> 40) % (BIG + 1) :
					    plens[rnd & 7];
		const uint32_t lens[] = { 0, 1, 3, 4, plen + 3, plen + 5,
					  BIG + CHAN_CRC_SIZE,
					  BIG + CHAN_CRC_SIZE + 1, ~0U };
		uint32_t crc, len = plen + CHAN_CRC_SIZE, flags = 0;
		struct chan_slot *s;
		__s64 pos;

		s = chan_ring_claim_send(v, f->r->token, &pos);
		if (!s)
			continue;
		/*
		 * The check is of the message meant, in this thread's own
		 * memory: the flipper may still flip this slot, having seen
		 * it full just before it was taken and claimed again, and a
		 * check of those flipped bytes would make a message that is
		 * not genuine but rightly passes.
		 */
		memset(want, rv_fill_byte(plen), plen);
		memcpy(s->data + CHAN_CRC_SIZE, want, plen);
		crc = ct_msg_check(want, plen);
		if (f->only_bad || (rnd & 0x30) == 0)
			crc ^= 1U << ((rnd >> 16) & 31);
		if (!f->only_bad && (rnd & 0x1c0) == 0)
			len = lens[(rnd >> 24) % 9];
		if (!f->only_bad && (rnd & 0xe00) == 0)
			flags = CHAN_SLOT_TOMBSTONE;
		s->data[0] = crc;
		s->data[1] = crc >> 8;
		s->data[2] = crc >> 16;
		s->data[3] = crc >> 24;
		__atomic_store_n(&s->len, len, __ATOMIC_RELAXED);
		__atomic_store_n(&s->flags, flags, __ATOMIC_RELAXED);
		__atomic_store_n(&s->state,
				 chan_slot_state(chan_ring_lap(v, (uint64_t)pos),
						 CHAN_SLOT_FULL, f->r->token),
				 __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Flip bits, lengths and flags of the slots receivers hold or look at. */
static void *crc_flip_thread(void *arg)
{
	struct crc_ctx *f = arg;
	const struct chan_ring_view *v = &f->r->v;
	uint64_t rs = f->seed ^ 0x9e3779b97f4a7c15ULL;

	while (!f->stop) {
		uint64_t rnd = ct_rand(&rs);
		struct chan_slot *s = chan_ring_slot(v, rnd & v->mask);
		uint64_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		uint32_t phase = chan_slot_phase(st);

		if (phase != CHAN_SLOT_READING && phase != CHAN_SLOT_FULL)
			continue;
		switch ((rnd >> 8) & 3) {
		case 0:
		case 1:
			__atomic_fetch_xor(&s->data[(rnd >> 16) %
						    (BIG + CHAN_CRC_SIZE)],
					   (unsigned char)(1U << ((rnd >> 12) & 7)),
					   __ATOMIC_RELAXED);
			break;
		case 2:
			__atomic_store_n(&s->len, (uint32_t)(rnd >> 32),
					 __ATOMIC_RELAXED);
			break;
		default:
			__atomic_fetch_xor(&s->flags, CHAN_SLOT_TOMBSTONE,
					   __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

/* A mappable CRC32C channel of BIG-byte messages, its fd and its mapping. */
static int rv_crc_channel(struct __test_metadata *_metadata,
			  FIXTURE_DATA(rv) *self, struct chan_create *c,
			  struct ct_ring *r)
{
	uint32_t token, id;
	int fd;

	ASSERT_OK(ct_create_mappable(self->dev, BIG, 8, 0600,
				     CHAN_CREATE_CRC32C, &id, c));
	ASSERT_LT(self->nids, MAX_IDS);
	self->ids[self->nids++] = id;
	ASSERT_EQ(BIG + CHAN_CRC_SIZE, c->out_ring.msg_size);
	fd = ct_open_token(self->dev, id, RW, 0, &token);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_ring_map(fd, &c->out_ring, token, r));
	return fd;
}

struct crc_tally {
	unsigned long long n, ok, bad, big, none, other;
	unsigned long long bad_len, overrun, fake, touched;
};

static void crc_tally_log(struct __test_metadata *_metadata,
			  const char *what, const struct crc_tally *t)
{
	TH_LOG("%s: %llu receives: %llu ok, %llu EBADMSG, %llu EMSGSIZE, "
	       "%llu none, %llu other errors; %llu lengths too long, "
	       "%llu overruns, %llu not genuine, %llu touched with no message",
	       what, t->n, t->ok, t->bad, t->big, t->none, t->other,
	       t->bad_len, t->overrun, t->fake, t->touched);
}

/*
 * Judge one receive into buf (RCAP bytes, then GUARD more), which held
 * fill in every byte before it. kernel: a receive that takes nothing must
 * leave the buffer alone, and a message must not touch what lies past it.
 */
static void crc_judge(struct crc_tally *t, const unsigned char *buf,
		      uint32_t cap, unsigned char fill, long ret, int err,
		      uint32_t len, bool kernel)
{
	uint32_t i, from = cap;

	t->n++;
	if (ret >= 0 || err == EBADMSG) {
		if (ret >= 0)
			t->ok++;
		else
			t->bad++;
		if (len > cap) {
			t->bad_len++;
			len = cap;
		}
		if (ret >= 0 && !rv_genuine(buf, len))
			t->fake++;
		from = kernel ? len : cap;
	} else if (err == EMSGSIZE) {
		t->big++;
		if (len <= cap || len > BIG)
			t->bad_len++;
		from = kernel ? 0 : cap;
	} else if (err == EAGAIN || err == EIO) {
		t->none++;
		from = kernel ? 0 : cap;
	} else {
		t->other++;
	}
	for (i = from; i < cap; i++)
		if (buf[i] != fill) {
			t->touched++;
			break;
		}
	for (i = cap; i < cap + GUARD; i++)
		if (buf[i] != fill) {
			t->overrun++;
			break;
		}
}

static void crc_start(struct crc_ctx *f, pthread_t *t, struct ct_ring *r,
		      int only_bad, uint64_t seed)
{
	f->r = r;
	f->stop = 0;
	f->only_bad = only_bad;
	f->seed = seed;
	pthread_create(&t[0], NULL, crc_fill_thread, f);
	t[1] = 0;
	/* A flood of merely corrupt messages: no length games. */
	if (!only_bad)
		pthread_create(&t[1], NULL, crc_flip_thread, f);
}

static void crc_stop(struct crc_ctx *f, pthread_t *t)
{
	f->stop = 1;
	pthread_join(t[0], NULL);
	if (t[1])
		pthread_join(t[1], NULL);
}

static void crc_expect_clean(struct __test_metadata *_metadata,
			     const struct crc_tally *t, bool kernel)
{
	EXPECT_EQ(0ULL, t->bad_len);
	EXPECT_EQ(0ULL, t->overrun);
	EXPECT_EQ(0ULL, t->fake);
	EXPECT_EQ(0ULL, t->other);
	if (kernel)
		EXPECT_EQ(0ULL, t->touched);
	EXPECT_LT(0ULL, t->ok);
}

/*
 * The kernel's receive, into a buffer of RCAP bytes whose pages are
 * present or not (dropped before each receive, and straddling a page
 * boundary: the fault-in path); when the head holds a longer message,
 * into one of BIG bytes, so the ring moves.
 */
TEST_F_TIMEOUT(rv, crc_hostile_kernel, 180)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t fresh_size = 2 * (size_t)page;
	struct crc_tally t[2] = { 0 };	/* present, not faulted in */
	static unsigned char stack_buf[BIG + GUARD];
	unsigned char *fresh;
	struct crc_ctx f;
	struct chan_create c;
	struct ct_ring r;
	pthread_t th[2];
	unsigned long long end;
	unsigned int i = 0;
	uint32_t cap = RCAP;
	int fd;

	fd = rv_crc_channel(_metadata, self, &c, &r);
	fresh = mmap(NULL, fresh_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fresh);
	crc_start(&f, th, &r, 0, 0x5eed1ULL);
	end = ct_now_ns() + CRC_RUN_NS;
	while (ct_now_ns() < end) {
		bool cold = i & 1;
		/* The cold buffer starts 100 bytes before a page boundary. */
		unsigned char *buf = cold ? fresh + page - 100 : stack_buf;
		unsigned char fill = cold ? 0 : 0x5a;
		struct chan_msg m = {
			.size = sizeof(m),
			.flags = CHAN_MSG_NONBLOCK |
				 ((i & 2) ? CHAN_MSG_BADMSG : 0),
			.len = cap,
			.buf = (uintptr_t)buf,
		};
		long ret;
		int err;

		if (cold)
			ASSERT_OK(madvise(fresh, fresh_size, MADV_DONTNEED));
		else
			memset(stack_buf, fill, cap + GUARD);
		ret = ioctl(fd, CHAN_IOC_RECV, &m);
		err = ret < 0 ? errno : 0;
		crc_judge(&t[cold], buf, cap, fill, ret, err, m.len, true);
		cap = err == EMSGSIZE ? BIG : RCAP;
		i++;
	}
	crc_stop(&f, th);
	crc_tally_log(_metadata, "present buffer", &t[0]);
	crc_tally_log(_metadata, "cold buffer", &t[1]);
	crc_expect_clean(_metadata, &t[0], true);
	crc_expect_clean(_metadata, &t[1], true);
	munmap(fresh, fresh_size);
	ct_ring_unmap(&r);
	close(fd);
}

TEST_F_TIMEOUT(rv, crc_hostile_libchan, 180)
{
	static unsigned char buf[BIG + GUARD];
	uint32_t cap = RCAP;
	struct crc_tally t = { 0 };
	struct crc_ctx f;
	struct chan_create c;
	struct chan_ep *ep;
	struct ct_ring r;
	pthread_t th[2];
	unsigned long long end;
	unsigned int i = 0;
	int fd;

	fd = rv_crc_channel(_metadata, self, &c, &r);
	ASSERT_OK(chan_ep_open(&ep, c.out_id, CHAN_ROLE_RECV, 0));
	ASSERT_TRUE(chan_ep_mapped(ep));
	crc_start(&f, th, &r, 0, 0x5eed2ULL);
	end = ct_now_ns() + CRC_RUN_NS;
	while (ct_now_ns() < end) {
		uint32_t len = 0;
		ssize_t ret;

		memset(buf, 0x5a, cap + GUARD);
		ret = chan_ep_recvmsg(ep, buf, cap, CHAN_MSG_NONBLOCK |
				      ((i & 1) ? CHAN_MSG_BADMSG : 0), 0, &len);
		if (ret >= 0 && len != (uint32_t)ret)
			t.bad_len++;
		crc_judge(&t, buf, cap, 0x5a, ret, ret < 0 ? (int)-ret : 0,
			  len, false);
		cap = ret == -EMSGSIZE ? BIG : RCAP;
		i++;
	}
	crc_stop(&f, th);
	crc_tally_log(_metadata, "libchan", &t);
	crc_expect_clean(_metadata, &t, false);
	chan_ep_close(ep);
	ct_ring_unmap(&r);
	close(fd);
}

/*
 * Nothing but corrupt slots: a timed receive ends near its timeout, a
 * non-blocking one at once, and a blocking one dies when killed.
 */
TEST_F_TIMEOUT(rv, crc_flood_bounded, 120)
{
	static unsigned char buf[BIG];
	struct crc_ctx f;
	struct chan_create c;
	struct ct_ring r;
	pthread_t th[2];
	uint64_t t0, worst_timed = 0, worst_nb = 0;
	int fd, k, timedout = 0;
	pid_t pid;

	fd = rv_crc_channel(_metadata, self, &c, &r);
	crc_start(&f, th, &r, 1, 0x5eed3ULL);
	for (k = 0; k < 10; k++) {
		struct chan_msg m = {
			.size = sizeof(m),
			.flags = CHAN_MSG_TIMEOUT,
			.len = RCAP,
			.buf = (uintptr_t)buf,
			.timeout_ns = 20 * 1000 * 1000,
		};

		t0 = ct_now_ns();
		if (ioctl(fd, CHAN_IOC_RECV, &m) && errno == ETIMEDOUT)
			timedout++;
		if (ct_now_ns() - t0 > worst_timed)
			worst_timed = ct_now_ns() - t0;
		m.flags = CHAN_MSG_NONBLOCK;
		m.len = RCAP;
		t0 = ct_now_ns();
		ioctl(fd, CHAN_IOC_RECV, &m);
		if (ct_now_ns() - t0 > worst_nb)
			worst_nb = ct_now_ns() - t0;
	}
	/* A blocking receive by ID, in a child of its own: killable. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct chan_msg m = {
			.size = sizeof(m),
			.id = c.out_id,
			.len = RCAP,
			.buf = (uintptr_t)buf,
		};

		ioctl(self->dev, CHAN_IOC_RECV, &m);
		_exit(0);
	}
	self->pid[0] = pid;
	ct_sleep_ms(500);
	ASSERT_OK(kill(pid, SIGKILL));
	t0 = ct_now_ns();
	EXPECT_EQ(128 + SIGKILL, ct_reap(&self->pid[0], 5000));
	TH_LOG("worst timed %llu us, non-blocking %llu us, kill %llu us",
	       (unsigned long long)worst_timed / 1000,
	       (unsigned long long)worst_nb / 1000,
	       (unsigned long long)(ct_now_ns() - t0) / 1000);
	crc_stop(&f, th);
	EXPECT_EQ(10, timedout);
	EXPECT_GT(2 * CT_SEC, worst_timed);
	EXPECT_GT(2 * CT_SEC, worst_nb);
	ct_ring_unmap(&r);
	close(fd);
}

/* ---- CHAN_IOC_CLOSE wakes every kind of waiter ---- */

struct close_waiter {
	int dev;
	uint32_t id, reply_id;
	volatile pid_t tid;
	long ret;
	int err;
	uint32_t sent;
	bool batch;
	int done;
};

static void *close_waiter_thread(void *arg)
{
	struct close_waiter *w = arg;
	uint64_t req = 1, rep[4];
	struct chan_iov iov[4];
	int i;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	if (w->batch) {
		struct chan_batch b = {
			.size = sizeof(b),
			.flags = CHAN_MSG_WAITALL,
			.id = w->id,
			.count = 4,
			.vec = (uintptr_t)iov,
		};

		for (i = 0; i < 4; i++)
			iov[i] = (struct chan_iov){ .buf = (uintptr_t)&rep[i],
						    .len = sizeof(rep[i]) };
		w->ret = ioctl(w->dev, CHAN_IOC_RECV_BATCH, &b);
	} else {
		struct chan_call cl = {
			.size = sizeof(cl),
			.id = w->id,
			.reply_id = w->reply_id,
			.reply_fd = -1,
			.send_len = sizeof(req),
			.send_buf = (uintptr_t)&req,
			.recv_buf = (uintptr_t)rep,
			.recv_len = sizeof(rep[0]),
		};

		w->ret = ioctl(w->dev, CHAN_IOC_CALL, &cl);
		w->sent = cl.out_sent;
	}
	w->err = w->ret < 0 ? errno : 0;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int rv_close_id(int dev, uint32_t id)
{
	struct chan_close c = { .size = sizeof(c), .id = id };

	return ioctl(dev, CHAN_IOC_CLOSE, &c);
}

static void close_wakes_one(struct __test_metadata *_metadata,
			    FIXTURE_DATA(rv) *self, bool batch)
{
	struct close_waiter w = { .dev = self->dev, .batch = batch };
	uint32_t req, rep;
	pthread_t t;
	uint64_t v;

	ASSERT_OK(ct_create_simple(self->dev, 8, 4, &req));
	self->ids[self->nids++] = req;
	ASSERT_OK(ct_create_simple(self->dev, 8, 4, &rep));
	self->ids[self->nids++] = rep;
	w.id = batch ? rep : req;
	w.reply_id = rep;
	/* The batch gets one of its four, then waits for the rest. */
	if (batch)
		ASSERT_OK(ct_send_u64(self->dev, rep, 7, 0));
	ASSERT_OK(pthread_create(&t, NULL, close_waiter_thread, &w));
	while (!__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE))
		ct_sleep_ms(1);
	ASSERT_TRUE(ct_wait_thread_blocked(w.tid, SYS_ioctl, 10000));
	ASSERT_OK(rv_close_id(self->dev, rep));
	/* Woken: it returns within the time a wake-up takes. */
	for (v = 0; v < 1000 && !__atomic_load_n(&w.done, __ATOMIC_ACQUIRE);
	     v++)
		ct_sleep_ms(10);
	ASSERT_TRUE(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
		TH_LOG("still asleep 10 s after the close");
	}
	pthread_join(t, NULL);
	TH_LOG("%s: ret %ld errno %d sent %u", batch ? "batch" : "call",
	       w.ret, w.err, w.sent);
	if (batch) {
		EXPECT_EQ(1, w.ret);	/* what it got before the close */
	} else {
		EXPECT_EQ(-1, w.ret);
		EXPECT_EQ(EPIPE, w.err);
		EXPECT_EQ(1U, w.sent);
	}
}

TEST_F_TIMEOUT(rv, close_wakes_call, 60)
{
	close_wakes_one(_metadata, self, false);
}

TEST_F_TIMEOUT(rv, close_wakes_batch, 60)
{
	close_wakes_one(_metadata, self, true);
}

TEST_HARNESS_MAIN
