// SPDX-License-Identifier: GPL-2.0
/*
 * libchan's inline SPSC fast path: struct chan_spsc views (chan_ep_spsc())
 * and the inline chan_spsc_try_send/try_recv/send/recv of <libchan.h>, on
 * real channels in the VM. Checked here:
 *  - which handles get an inline view (a mapped compact ring) and which
 *    a view that passes every call to the handle (not mapped, CRC32C, not
 *    SPSC), and the arguments refused (-EINVAL);
 *  (a byte-exact stream with views, handle calls and write(2)/read(2)
 *  mixed on each side: chan_spsc_test's compact_varlen_mixed);
 *  - the results the inline code hands to the handle: a full ring (the
 *    high-water mark reaches the capacity), an empty one, a message too
 *    long, a buffer too short (the message stays), a closed channel (the
 *    receiver drains, then EPIPE), the last sender gone, a destroyed one;
 *  - a kernel sleeper on the other side is woken by a view's send and by
 *    a view's receive (the handle counts the doorbells);
 *  - a child of fork() that uses its parent's views takes the kernel path
 *    (the mapping is not inherited) instead of faulting;
 *  - a handle with both roles whose views are called in the other
 *    direction: the handle's results, the cursors left consistent;
 *  - lengths another mapper wrote: clamped, copied no further, EMSGSIZE,
 *    and the send's length stored over a scribbled one;
 *  - the layout at every slot for many capacities and sizes, kernel and
 *    views agreeing with the uapi;
 *  - the high-water mark of a peak the ring never filled to, sampled by
 *    the receiver (a view's, the handle's, also when it ends in EMSGSIZE,
 *    and the kernel's);
 *  (an unprivileged uid's views: chan_spsc_test's unprivileged).
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <pthread.h>
#include <sys/wait.h>
#include <libchan.h>

#define WAIT_MS		30000
#define MSG		8U
#define SEC_NS		1000000000ULL
#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)

FIXTURE(si) {
	int dev;
	mode_t dev_mode;
	pid_t pid[1];
};

FIXTURE_SETUP(si)
{
	ASSERT_OK(ct_reports_init());
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(si)
{
	ct_reap_all(self->pid, 1);
	ct_dev_restore(self->dev_mode);
	close(self->dev);
}

/* A channel, a sender and a receiver handle, and a view on each. */
struct si_pair {
	uint32_t id;
	struct chan_ep *tx, *rx;
	struct chan_spsc vt, vr;
};

static int si_open(int dev, struct si_pair *p, uint32_t msg, uint32_t cap,
		   uint32_t flags, unsigned int open_flags)
{
	if (ct_create(dev, msg, cap, 0600, flags, 0, NULL, &p->id))
		return -1;
	if (chan_ep_open(&p->tx, p->id, CHAN_ROLE_SEND, open_flags) ||
	    chan_ep_open(&p->rx, p->id, CHAN_ROLE_RECV, open_flags))
		return -1;
	return 0;
}

static void si_close(int dev, struct si_pair *p)
{
	if (p->tx)
		chan_ep_close(p->tx);
	if (p->rx)
		chan_ep_close(p->rx);
	ct_destroy(dev, p->id);
}

/* A mapped compact SPSC channel of @cap slots with an inline view each way. */
static int si_open_inline(int dev, struct si_pair *p, uint32_t cap)
{
	memset(p, 0, sizeof(*p));
	if (si_open(dev, p, MSG, cap, CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE,
		    0))
		return -1;
	if (chan_ep_spsc(p->tx, CHAN_ROLE_SEND, &p->vt) != 1 ||
	    chan_ep_spsc(p->rx, CHAN_ROLE_RECV, &p->vr) != 1)
		return -1;
	return 0;
}

/* Who drains a high-water round: si_high_water_rounds(). */
enum si_drain {
	SI_DRAIN_VIEWS,		/* the view, then the handle */
	SI_DRAIN_KERNEL,	/* read through the receiver's fd */
	SI_DRAIN_SHORT,		/* the handle, after an EMSGSIZE */
};

/*
 * The high-water mark on a compact ring is sampled by the receiver when
 * it loads the tail (a fast sender samples only a full ring): rounds of 5
 * (sent through the view) then 9 (the handle), none received before the
 * round is sent, raise max_depth to 5 then 9, whoever drains them.
 */
static void si_high_water_rounds(struct __test_metadata *_metadata,
				 int dev, struct si_pair *p,
				 enum si_drain drain)
{
	struct chan_info info;
	unsigned char small;
	uint64_t i, v;
	ssize_t ret;
	int round;

	for (round = 0; round < 2; round++) {
		uint64_t n = round ? 9 : 5;

		for (i = 0; i < n; i++)
			ASSERT_EQ(0, round ?
				  chan_ep_try_send(p->tx, &i, sizeof(i)) :
				  chan_spsc_try_send(&p->vt, &i, sizeof(i)));
		/* The tail loaded by a receive that takes nothing. */
		if (drain == SI_DRAIN_SHORT)
			ASSERT_EQ(-EMSGSIZE,
				  chan_ep_try_recv(p->rx, &small, 1));
		for (i = 0; i < n; i++) {
			if (drain == SI_DRAIN_KERNEL)
				ret = chan_try_recv(chan_ep_fd(p->rx), &v,
						    sizeof(v));
			else if (round || drain == SI_DRAIN_SHORT)
				ret = chan_ep_try_recv(p->rx, &v, sizeof(v));
			else
				ret = chan_spsc_try_recv(&p->vr, &v, sizeof(v));
			ASSERT_EQ((ssize_t)sizeof(v), ret);
			ASSERT_EQ(i, v);
		}
		ASSERT_OK(ct_info(dev, p->id, 0, &info));
		EXPECT_EQ(0U, info.depth);
		EXPECT_EQ(n, info.max_depth);
	}
}

/* Through a view and through the handle; a lower peak leaves the mark. */
TEST_F(si, high_water_from_receiver)
{
	struct chan_info info;
	struct si_pair p;
	uint64_t i, v;

	ASSERT_OK(si_open_inline(self->dev, &p, 16));
	si_high_water_rounds(_metadata, self->dev, &p, SI_DRAIN_VIEWS);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &i, sizeof(i)));
	for (i = 0; i < 3; i++)
		ASSERT_EQ((ssize_t)sizeof(v),
			  chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
	ASSERT_OK(ct_info(self->dev, p.id, 0, &info));
	EXPECT_EQ(9U, info.max_depth);
	si_close(self->dev, &p);
}

/* The kernel's compact receive samples too, as libchan's do. */
TEST_F(si, high_water_kernel_receiver)
{
	struct si_pair p;

	ASSERT_OK(si_open_inline(self->dev, &p, 16));
	si_high_water_rounds(_metadata, self->dev, &p, SI_DRAIN_KERNEL);
	si_close(self->dev, &p);
}

/*
 * A handle's receive whose tail load ends in EMSGSIZE samples it: the
 * receives after it find the tail cached and load it no more.
 */
TEST_F(si, high_water_short_buffer)
{
	struct si_pair p;

	ASSERT_OK(si_open_inline(self->dev, &p, 16));
	si_high_water_rounds(_metadata, self->dev, &p, SI_DRAIN_SHORT);
	si_close(self->dev, &p);
}

/* Which handles run inline, and what is refused. */
TEST_F(si, views)
{
	static const struct {
		uint32_t flags;
		unsigned int open;
		int inline_;
	} cases[] = {
		{ CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE, 0, 1 },
		{ CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE, CHAN_EP_NO_MAP, 0 },
		{ CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE | CHAN_CREATE_CRC32C,
		  0, 0 },
		{ CHAN_CREATE_SPSC, 0, 0 },
		{ CHAN_CREATE_MAPPABLE, 0, 0 },
	};
	struct chan_spsc v;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct si_pair p = { 0 };
		uint64_t x = 0x5eed0000 + i, y = 0;

		ASSERT_OK(si_open(self->dev, &p, MSG, 8, cases[i].flags,
				  cases[i].open));
		EXPECT_EQ(cases[i].inline_,
			  chan_ep_spsc(p.tx, CHAN_ROLE_SEND, &p.vt));
		EXPECT_EQ(cases[i].inline_,
			  chan_ep_spsc(p.rx, CHAN_ROLE_RECV, &p.vr));
		/* Either way the view sends and receives. */
		EXPECT_EQ(0, chan_spsc_try_send(&p.vt, &x, sizeof(x)));
		EXPECT_EQ((ssize_t)sizeof(y),
			  chan_spsc_try_recv(&p.vr, &y, sizeof(y)));
		EXPECT_EQ(x, y);
		/* A role the handle lacks, or not exactly one role. */
		EXPECT_EQ(-EINVAL, chan_ep_spsc(p.tx, CHAN_ROLE_RECV, &v));
		EXPECT_EQ(-EINVAL, chan_ep_spsc(p.rx, CHAN_ROLE_SEND, &v));
		EXPECT_EQ(-EINVAL, chan_ep_spsc(p.tx, RW, &v));
		EXPECT_EQ(-EINVAL, chan_ep_spsc(p.tx, 0, &v));
		EXPECT_EQ(-EINVAL, chan_ep_spsc(p.tx, CHAN_ROLE_SEND, NULL));
		EXPECT_EQ(-EINVAL, chan_ep_spsc(NULL, CHAN_ROLE_SEND, &v));
		si_close(self->dev, &p);
	}
}

/* What the inline code hands to the handle, and what it says. */
TEST_F(si, results)
{
	struct si_pair p = { 0 };
	struct chan_info info;
	uint64_t v, big[2] = { 0 };
	unsigned char small[4];
	uint64_t i;

	ASSERT_OK(si_open_inline(self->dev, &p, 8));
	EXPECT_EQ(-EAGAIN, chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
	EXPECT_EQ(-EMSGSIZE, chan_spsc_try_send(&p.vt, big, MSG + 1));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &i, sizeof(i)));
	EXPECT_EQ(-EAGAIN, chan_spsc_try_send(&p.vt, &i, sizeof(i)));
	ASSERT_OK(ct_info(self->dev, p.id, 0, &info));
	EXPECT_EQ(8U, info.depth);
	EXPECT_EQ(8U, info.max_depth);
	/* Too short a buffer: EMSGSIZE, and the message stays. */
	EXPECT_EQ(-EMSGSIZE, chan_spsc_try_recv(&p.vr, small, sizeof(small)));
	EXPECT_EQ((ssize_t)sizeof(v), chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
	EXPECT_EQ(0ULL, v);
	/* Zero-length messages, with no buffer at all. */
	EXPECT_EQ(0, chan_spsc_try_send(&p.vt, NULL, 0));
	/* Closed: no more sends; the receiver drains, then EPIPE. */
	ASSERT_OK(chan_ep_close_channel(p.tx));
	EXPECT_EQ(-EPIPE, chan_spsc_try_send(&p.vt, &i, sizeof(i)));
	EXPECT_EQ(-EPIPE, chan_spsc_send(&p.vt, &i, sizeof(i)));
	for (i = 1; i < 8; i++) {
		EXPECT_EQ((ssize_t)sizeof(v),
			  chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
		EXPECT_EQ(i, v);
	}
	EXPECT_EQ(0, chan_spsc_try_recv(&p.vr, NULL, 0));
	EXPECT_EQ(-EPIPE, chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
	EXPECT_EQ(-EPIPE, chan_spsc_recv(&p.vr, &v, sizeof(v)));
	si_close(self->dev, &p);

	/* The last sender gone: drained, then EPIPE, also blocking. */
	ASSERT_OK(si_open_inline(self->dev, &p, 8));
	v = 41;
	ASSERT_EQ(0, chan_spsc_send(&p.vt, &v, sizeof(v)));
	ASSERT_OK(chan_ep_close(p.tx));
	p.tx = NULL;
	EXPECT_EQ((ssize_t)sizeof(v), chan_spsc_recv(&p.vr, &v, sizeof(v)));
	EXPECT_EQ(41ULL, v);
	EXPECT_EQ(-EPIPE, chan_spsc_recv(&p.vr, &v, sizeof(v)));
	/* Destroyed: EIDRM. */
	ASSERT_OK(ct_destroy(self->dev, p.id));
	EXPECT_EQ(-EIDRM, chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
	chan_ep_close(p.rx);
}

struct si_blocked {
	struct si_pair *p;
	bool send;
	uint64_t v;
	long ret;
};

/* A send (receive) on the handle that sleeps in the kernel. */
static void *si_blocked(void *arg)
{
	struct si_blocked *b = arg;

	if (b->send)
		b->ret = chan_ep_send_timeout(b->p->tx, &b->v, sizeof(b->v),
					      20 * SEC_NS);
	else
		b->ret = chan_ep_recv_timeout(b->p->rx, &b->v, sizeof(b->v),
					      20 * SEC_NS);
	return NULL;
}

/*
 * Wait until the kernel counts a sleeper in the mapped header's word that
 * a view reads after its cursor store (tests may look at the fields).
 */
static int si_wait_sleepers(const __u32 *waiters)
{
	int i;

	for (i = 0; i < 20000; i++) {
		if (__atomic_load_n(waiters, __ATOMIC_ACQUIRE))
			return 0;
		usleep(1000);
	}
	return -1;
}

/* A kernel sleeper on the other side wakes for a view's send (receive). */
TEST_F(si, wakes_kernel_sleepers)
{
	struct chan_ep_stats st;
	struct si_pair p = { 0 };
	struct si_blocked b = { 0 };
	pthread_t t;
	uint64_t v, i;

	ASSERT_OK(si_open_inline(self->dev, &p, 4));
	/* A receiver asleep on the empty ring; a view sends. */
	b.p = &p;
	ASSERT_OK(pthread_create(&t, NULL, si_blocked, &b));
	ASSERT_OK(si_wait_sleepers(p.vt.waiters));
	v = 77;
	ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &v, sizeof(v)));
	pthread_join(t, NULL);
	EXPECT_EQ((long)sizeof(v), b.ret);
	EXPECT_EQ(77ULL, b.v);
	ASSERT_OK(chan_ep_get_stats(p.tx, &st, sizeof(st)));
	EXPECT_LE(1ULL, st.wakes);
	/* A sender asleep on the full ring; a view receives. */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &i, sizeof(i)));
	memset(&b, 0, sizeof(b));
	b.p = &p;
	b.send = true;
	b.v = 99;
	ASSERT_OK(pthread_create(&t, NULL, si_blocked, &b));
	ASSERT_OK(si_wait_sleepers(p.vr.waiters));
	ASSERT_EQ((ssize_t)sizeof(v), chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
	EXPECT_EQ(0ULL, v);
	pthread_join(t, NULL);
	EXPECT_EQ(0, b.ret);
	ASSERT_OK(chan_ep_get_stats(p.rx, &st, sizeof(st)));
	EXPECT_LE(1ULL, st.wakes);
	for (i = 1; i < 4; i++) {
		ASSERT_EQ((ssize_t)sizeof(v),
			  chan_spsc_recv(&p.vr, &v, sizeof(v)));
		EXPECT_EQ(i, v);
	}
	ASSERT_EQ((ssize_t)sizeof(v), chan_spsc_recv(&p.vr, &v, sizeof(v)));
	EXPECT_EQ(99ULL, v);
	si_close(self->dev, &p);
}

/*
 * A handle with both roles, each view called in the other direction: the
 * calls behave as the handle's (chan_ep_spsc(3): "behave as
 * chan_ep_try_send() ... on the view's handle"), never moving the wrong
 * cursor. A send through the receive view on an empty ring once wrote at
 * the head and moved the head past the tail: the message was lost and
 * every later call on the channel, either side, said EIO.
 */
TEST_F(si, views_other_direction)
{
	struct chan_spsc vt, vr;
	struct chan_ep_stats st;
	struct chan_info info;
	struct chan_ep *ep;
	uint64_t v, i;
	uint32_t id;

	ASSERT_OK(ct_create(self->dev, MSG, 4, 0600,
			    CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE, 0, NULL,
			    &id));
	ASSERT_OK(chan_ep_open(&ep, id, RW, 0));
	ASSERT_EQ(1, chan_ep_spsc(ep, CHAN_ROLE_SEND, &vt));
	ASSERT_EQ(1, chan_ep_spsc(ep, CHAN_ROLE_RECV, &vr));
	for (i = 0; i < 6; i++) {
		/* Empty: the send view's receive says what the handle says. */
		EXPECT_EQ(-EAGAIN, chan_spsc_try_recv(&vt, &v, sizeof(v)));
		/* The receive view sends; the handle receives it. */
		v = 0xd1d0 + i;
		ASSERT_EQ(0, chan_spsc_try_send(&vr, &v, sizeof(v)));
		ASSERT_OK(ct_info(self->dev, id, 0, &info));
		EXPECT_EQ(1U, info.depth);
		v = 0;
		ASSERT_EQ((ssize_t)sizeof(v), chan_ep_try_recv(ep, &v, sizeof(v)));
		EXPECT_EQ(0xd1d0 + i, v);
		/* The handle sends; the send view receives it. */
		v = 0xd2d0 + i;
		ASSERT_EQ(0, chan_ep_try_send(ep, &v, sizeof(v)));
		v = 0;
		ASSERT_EQ((ssize_t)sizeof(v),
			  chan_spsc_try_recv(&vt, &v, sizeof(v)));
		EXPECT_EQ(0xd2d0 + i, v);
		/* And each view in its own direction. */
		v = 0xd3d0 + i;
		ASSERT_EQ(0, chan_spsc_try_send(&vt, &v, sizeof(v)));
		v = 0;
		ASSERT_EQ((ssize_t)sizeof(v),
			  chan_spsc_try_recv(&vr, &v, sizeof(v)));
		EXPECT_EQ(0xd3d0 + i, v);
	}
	EXPECT_EQ(-EAGAIN, chan_spsc_try_recv(&vr, &v, sizeof(v)));
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ(18ULL, info.sent);
	EXPECT_EQ(18ULL, info.received);
	EXPECT_EQ(0U, info.depth);
	ASSERT_OK(chan_ep_get_stats(ep, &st, sizeof(st)));
	EXPECT_EQ(18ULL, st.fast_sent + st.kernel_sent);
	EXPECT_EQ(18ULL, st.fast_received + st.kernel_received);
	chan_ep_close(ep);
	ct_destroy(self->dev, id);
}

/*
 * Lengths another mapper wrote, as the inline code meets them: a receive
 * clamps a length to msg_size and copies no more (the bytes after it in
 * the caller's buffer stay), one longer than the buffer after the clamp
 * is the handle's EMSGSIZE with the message kept, and a send whose index
 * holds a scribbled length stores its own (the store "only if it
 * changed" compares with the ring). The scribbles go through the view's
 * own pointer to the mapping, as another mapper's would land there.
 */
TEST_F(si, hostile_lengths)
{
	struct si_pair p = { 0 };
	unsigned char buf[64];
	uint64_t v = 0x1122334455667788ULL, w;
	unsigned int j;

	ASSERT_OK(si_open_inline(self->dev, &p, 4));
	/* Huge: read as msg_size. */
	ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &v, sizeof(v)));
	__atomic_store_n(&p.vt.lens[0], 0xffffffffU, __ATOMIC_RELAXED);
	memset(buf, 0xa5, sizeof(buf));
	EXPECT_EQ(-EMSGSIZE, chan_spsc_try_recv(&p.vr, buf, MSG - 1));
	EXPECT_EQ((ssize_t)MSG, chan_spsc_try_recv(&p.vr, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, &v, MSG));
	for (j = MSG; j < sizeof(buf); j++)
		if (buf[j] != 0xa5)
			break;
	EXPECT_EQ(sizeof(buf), j);
	/* Shorter than sent: read as written, the rest of the buffer kept. */
	ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &v, sizeof(v)));
	__atomic_store_n(&p.vt.lens[1], 3U, __ATOMIC_RELAXED);
	memset(buf, 0xa5, sizeof(buf));
	EXPECT_EQ(3, chan_spsc_try_recv(&p.vr, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, &v, 3));
	EXPECT_EQ(0xa5, buf[3]);
	/* A scribbled length at the next send's index: the send stores its. */
	__atomic_store_n(&p.vt.lens[2], 5U, __ATOMIC_RELAXED);
	ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &v, sizeof(v)));
	w = 0;
	EXPECT_EQ((ssize_t)sizeof(w), chan_spsc_try_recv(&p.vr, &w, sizeof(w)));
	EXPECT_EQ(v, w);
	/* And one that equals the send's: nothing to store, still right. */
	__atomic_store_n(&p.vt.lens[3], (uint32_t)sizeof(v), __ATOMIC_RELAXED);
	ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &v, sizeof(v)));
	w = 0;
	EXPECT_EQ((ssize_t)sizeof(w), chan_spsc_try_recv(&p.vr, &w, sizeof(w)));
	EXPECT_EQ(v, w);
	EXPECT_EQ(-EAGAIN, chan_spsc_try_recv(&p.vr, &w, sizeof(w)));
	si_close(self->dev, &p);
}

/* Byte j of the message sent at position k of a geometry test. */
static unsigned char si_byte(uint64_t k, uint32_t j)
{
	return (unsigned char)(k * 131 + j * 7 + 1);
}

/* Its length: msg or msg - 1 by index and lap, changing at each index. */
static uint32_t si_len(uint32_t msg, uint64_t k, uint32_t cap)
{
	return msg > 1 && ((k % cap + k / cap) & 1) ? msg - 1 : msg;
}

/*
 * The compact ring's layout, kernel and libchan, at every slot, for
 * capacities and message sizes around the lines, pages and strides:
 * CREATE's map_size is the uapi's (a header page, capacity __u32 lengths
 * in whole lines, the payloads msg_size rounded up to 8 apart, whole
 * pages), libchan maps it, and messages go both ways between the kernel
 * (read(2), write(2)) and the views (the handle's fast path on CRC32C),
 * four laps of the ring, the way alternating and the length changing at
 * each index from lap to lap. The
 * inline views' lengths and payloads are where the uapi puts them, from
 * the mapping's base (found from their state word).
 */
TEST_F_TIMEOUT(si, geometries, 300)
{
	static const uint32_t caps[] = { 1, 2, 4, 8, 16, 64, 1024 };
	static const uint32_t msgs[] = { 1, 3, 4, 8, 9, 60, 64, 65, 100,
					 4092, 4096, 4097 };
	static const uint32_t flags[] = { 0, CHAN_CREATE_CRC32C };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *in = malloc(8192), *out = malloc(8192);
	unsigned int c, m, f;

	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	for (f = 0; f < 2; f++)
	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
	for (m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
		uint32_t cap = caps[c], msg = msgs[m], id, len, j;
		uint32_t crc = flags[f] ? CHAN_CRC_SIZE : 0;
		size_t lens = ((size_t)cap * 4 + 63) / 64 * 64;
		size_t stride = ((size_t)msg + crc + 7) / 8 * 8;
		size_t want = (CHAN_RING_HDR_SIZE + lens + cap * stride +
			       page - 1) / page * page;
		struct chan_create cr;
		struct si_pair p = { 0 };
		const unsigned char *base = NULL;
		unsigned int bad = 0;
		uint64_t k;
		ssize_t got;

		ASSERT_OK(ct_create_mappable(self->dev, msg, cap, 0600,
					     CHAN_CREATE_SPSC | flags[f], &id,
					     &cr));
		p.id = id;
		EXPECT_EQ(want, cr.out_ring.map_size)
			TH_LOG("cap %u msg %u crc %u", cap, msg, crc);
		EXPECT_EQ(stride, cr.out_ring.slot_size);
		ASSERT_OK(chan_ep_open(&p.tx, id, CHAN_ROLE_SEND, 0));
		ASSERT_OK(chan_ep_open(&p.rx, id, CHAN_ROLE_RECV, 0));
		EXPECT_EQ(1, chan_ep_mapped(p.tx))
			TH_LOG("cap %u msg %u crc %u", cap, msg, crc);
		EXPECT_EQ(1, chan_ep_mapped(p.rx));
		/* A message the kernel drops (a CRC32C check) fails, not hangs. */
		ASSERT_OK(fcntl(chan_ep_fd(p.rx), F_SETFL, O_NONBLOCK));
		EXPECT_EQ(crc ? 0 : 1, chan_ep_spsc(p.tx, CHAN_ROLE_SEND, &p.vt));
		EXPECT_EQ(crc ? 0 : 1, chan_ep_spsc(p.rx, CHAN_ROLE_RECV, &p.vr));
		if (!crc) {
			/* The uapi's offsets, from the mapping's base. */
			base = (const unsigned char *)p.vt.state -
			       offsetof(struct chan_ring_kstate, state) -
			       cr.out_ring.kstate_offset;
			EXPECT_EQ(0UL, (unsigned long)base % page);
			EXPECT_EQ((const void *)(base + CHAN_RING_HDR_SIZE),
				  (const void *)p.vt.lens);
			EXPECT_EQ((const void *)(base + CHAN_RING_HDR_SIZE +
						 lens),
				  (const void *)p.vt.slots);
			EXPECT_EQ(stride, p.vt.stride);
		}
		/* Views to the kernel, then the kernel to views, twice. */
		for (k = 0; k < 4 * (uint64_t)cap; k++) {
			bool to_kernel = (k / cap) % 2 == 0;
			uint32_t idx = (uint32_t)(k % cap);

			len = si_len(msg, k, cap);
			for (j = 0; j < len; j++)
				in[j] = si_byte(k, j);
			if (to_kernel)
				got = chan_spsc_try_send(&p.vt, in, len);
			else if (write(chan_ep_fd(p.tx), in, len) ==
				 (ssize_t)len)
				got = 0;
			else
				got = -errno;
			ASSERT_EQ(0, got)
				TH_LOG("send: cap %u msg %u crc %u at %llu",
				       cap, msg, crc, (unsigned long long)k);
			if (base) {
				const __u32 *l = (const __u32 *)
					(base + CHAN_RING_HDR_SIZE) + idx;
				const unsigned char *d = base +
					CHAN_RING_HDR_SIZE + lens +
					idx * stride;

				if (*l != len || memcmp(d, in, len))
					bad++;
			}
			memset(out, 0, msg + 1);
			if (to_kernel) {
				got = read(chan_ep_fd(p.rx), out, msg + 1);
				if (got < 0)
					got = -errno;
			} else {
				got = chan_spsc_try_recv(&p.vr, out, msg + 1);
			}
			ASSERT_EQ((ssize_t)len, got)
				TH_LOG("cap %u msg %u crc %u at %llu", cap,
				       msg, crc, (unsigned long long)k);
			if (memcmp(out, in, len))
				bad++;
		}
		EXPECT_EQ(0U, bad)
			TH_LOG("cap %u msg %u crc %u", cap, msg, crc);
		EXPECT_EQ(-EAGAIN, chan_spsc_try_recv(&p.vr, out, msg));
		si_close(self->dev, &p);
	}
	free(in);
	free(out);
}

/* A child of fork() using its parent's views: the kernel path, no fault. */
TEST_F(si, fork_child_uses_kernel_path)
{
	struct chan_ep_stats st;
	struct si_pair p = { 0 };
	uint64_t v;
	pid_t pid;

	ASSERT_OK(si_open_inline(self->dev, &p, 8));
	v = 5;
	ASSERT_EQ(0, chan_spsc_try_send(&p.vt, &v, sizeof(v)));
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t w = 6, r = 0;

		CF_TRUE(chan_spsc_try_recv(&p.vr, &r, sizeof(r)) ==
			(ssize_t)sizeof(r) && r == 5, "child recv %llu",
			(unsigned long long)r);
		CF_TRUE(!chan_spsc_try_send(&p.vt, &w, sizeof(w)), "child send");
		CF_TRUE(!chan_ep_get_stats(p.tx, &st, sizeof(st)) &&
			st.kernel_sent == 1, "child kernel_sent %llu",
			(unsigned long long)st.kernel_sent);
		_exit(0);
	}
	self->pid[0] = pid;
	ASSERT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "child"));
	EXPECT_EQ((ssize_t)sizeof(v), chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
	EXPECT_EQ(6ULL, v);
	EXPECT_EQ(-EAGAIN, chan_spsc_try_recv(&p.vr, &v, sizeof(v)));
	si_close(self->dev, &p);
}

TEST_HARNESS_MAIN
