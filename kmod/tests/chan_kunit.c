// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of chan: the ring protocol (chan_ring.h, on a ring of the
 * test's own) and the in-kernel API (chan_kernel.h, on channels of the
 * initial IPC namespace). A module of its own, built against chan.ko
 * where the kernel has KUnit (the debug kernel); docs/testing.md.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include "chan_kernel.h"
#include "chan_ring.h"

/* ---- the ring ---- */

/**
 * struct chan_test_ring - a ring in kernel memory, as ring.c lays one out
 * @v: its view
 * @hdr: the header
 * @slots: the slots
 */
struct chan_test_ring {
	struct chan_ring_view v;
	struct chan_ring_hdr *hdr;
	void *slots;
};

static void chan_test_ring_init(struct kunit *test, struct chan_test_ring *r,
				u32 msg_size, u32 capacity)
{
	r->hdr = kunit_kzalloc(test, sizeof(*r->hdr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r->hdr);
	r->slots = kunit_kcalloc(test, capacity,
				 chan_ring_slot_size(msg_size), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r->slots);
	r->v.hdr = r->hdr;
	r->v.slots = r->slots;
	r->v.mask = capacity - 1;
	r->v.shift = ilog2(capacity);
	r->v.slot_size = chan_ring_slot_size(msg_size);
	r->v.msg_size = msg_size;
}

/* Send one message of @len bytes of @fill; returns 0 or the error. */
static int chan_test_push(const struct chan_ring_view *v, u8 fill, u32 len,
			  u32 owner)
{
	struct chan_slot *s;
	s64 pos;

	s = chan_ring_claim_send(v, owner, &pos);
	if (!s)
		return pos;
	memset(s->data, fill, len);
	chan_ring_publish(v, s, pos, len, owner);
	return 0;
}

/* Receive one message into @buf; returns its length or the error. */
static int chan_test_pop(const struct chan_ring_view *v, u8 *buf, u32 max)
{
	struct chan_slot *s;
	u32 len = 0;
	s64 pos;

	s = chan_ring_claim_recv(v, CHAN_OWNER_KERNEL, max, &pos, &len);
	if (!s)
		return pos;
	memcpy(buf, s->data, len);
	chan_ring_retire(v, s, pos);
	return len;
}

static void chan_ring_test_empty_full(struct kunit *test)
{
	struct chan_test_ring r;
	u8 buf[8];
	int i;

	chan_test_ring_init(test, &r, 8, 4);
	KUNIT_EXPECT_FALSE(test, chan_ring_can_recv(&r.v));
	KUNIT_EXPECT_TRUE(test, chan_ring_can_send(&r.v));
	KUNIT_EXPECT_EQ(test, chan_test_pop(&r.v, buf, 8), -EAGAIN);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, chan_test_push(&r.v, i, 8,
						     CHAN_OWNER_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, chan_ring_depth(&r.v), 4U);
	KUNIT_EXPECT_FALSE(test, chan_ring_can_send(&r.v));
	KUNIT_EXPECT_TRUE(test, chan_ring_can_recv(&r.v));
	KUNIT_EXPECT_EQ(test, chan_test_push(&r.v, 9, 8, CHAN_OWNER_KERNEL),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, chan_test_pop(&r.v, buf, 8), 8);
	KUNIT_EXPECT_EQ(test, buf[0], 0);
	KUNIT_EXPECT_TRUE(test, chan_ring_can_send(&r.v));
}

/* Many laps, lengths varying: FIFO order and contents survive the wrap. */
static void chan_ring_test_wrap(struct kunit *test)
{
	struct chan_test_ring r;
	u8 buf[32];
	int i, sent = 0, got = 0;

	chan_test_ring_init(test, &r, 32, 4);
	for (i = 0; i < 100; i++) {
		while (chan_test_push(&r.v, sent, sent % 33,
				      CHAN_OWNER_KERNEL) == 0)
			sent++;
		/* Take three of the four: the cursors stay out of step. */
		while (got < sent - 1) {
			KUNIT_ASSERT_EQ(test, chan_test_pop(&r.v, buf, 32),
					got % 33);
			if (got % 33)
				KUNIT_ASSERT_EQ(test, buf[0], (u8)got);
			got++;
		}
	}
	KUNIT_EXPECT_GT(test, sent, 300);
	KUNIT_EXPECT_EQ(test, r.hdr->tail, (u64)sent);
	KUNIT_EXPECT_EQ(test, r.hdr->head, (u64)got);
}

/* A message longer than the reader's buffer stays queued. */
static void chan_ring_test_msgsize(struct kunit *test)
{
	struct chan_test_ring r;
	struct chan_slot *s;
	u32 len = 0;
	u8 buf[16];
	s64 pos;

	chan_test_ring_init(test, &r, 16, 2);
	KUNIT_ASSERT_EQ(test, chan_test_push(&r.v, 7, 12, CHAN_OWNER_KERNEL),
			0);
	s = chan_ring_claim_recv(&r.v, CHAN_OWNER_KERNEL, 4, &pos, &len);
	KUNIT_EXPECT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, pos, (s64)-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, len, 12U);
	KUNIT_EXPECT_EQ(test, chan_test_pop(&r.v, buf, 16), 12);
}

/* A length a mapper scribbled is clamped to msg_size. */
static void chan_ring_test_len_clamp(struct kunit *test)
{
	struct chan_test_ring r;
	struct chan_slot *s;
	u8 buf[16];

	chan_test_ring_init(test, &r, 16, 2);
	KUNIT_ASSERT_EQ(test, chan_test_push(&r.v, 1, 4, CHAN_OWNER_KERNEL),
			0);
	s = chan_ring_slot(&r.v, 0);
	WRITE_ONCE(s->len, 0xffffffffU);
	KUNIT_EXPECT_EQ(test, chan_test_pop(&r.v, buf, 16), 16);
}

/* A dead writer's slot becomes a tombstone; a dead reader's is freed. */
static void chan_ring_test_repair(struct kunit *test)
{
	struct chan_ring_repair_counts c = {};
	struct chan_test_ring r;
	struct chan_slot *s;
	u32 len = 0;
	u8 buf[8];
	s64 pos;

	chan_test_ring_init(test, &r, 8, 4);
	/* Token 5 claims a slot and dies writing it. */
	s = chan_ring_claim_send(&r.v, 5, &pos);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, chan_test_push(&r.v, 2, 8, CHAN_OWNER_KERNEL),
			0);
	/* Nothing to receive: the oldest slot is still being written. */
	KUNIT_EXPECT_EQ(test, chan_test_pop(&r.v, buf, 8), -EAGAIN);
	chan_ring_repair(&r.v, 5, &c);
	KUNIT_EXPECT_EQ(test, c.tombstoned, 1U);
	s = chan_ring_claim_recv(&r.v, CHAN_OWNER_KERNEL, 8, &pos, &len);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_TRUE(test, chan_slot_is_tombstone(s));
	KUNIT_EXPECT_EQ(test, len, 0U);
	chan_ring_retire(&r.v, s, pos);
	/* Token 6 claims the real message and dies reading it. */
	s = chan_ring_claim_recv(&r.v, 6, 8, &pos, &len);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_EQ(test, len, 8U);
	chan_ring_repair(&r.v, 6, &c);
	KUNIT_EXPECT_EQ(test, c.reader_drops, 1U);
	KUNIT_EXPECT_EQ(test, chan_test_pop(&r.v, buf, 8), -EAGAIN);
	KUNIT_EXPECT_EQ(test, r.hdr->head, r.hdr->tail);
	/* Every slot is usable again. */
	for (pos = 0; pos < 4; pos++)
		KUNIT_EXPECT_EQ(test, chan_test_push(&r.v, 3, 8,
						     CHAN_OWNER_KERNEL), 0);
	/* Repair leaves others' slots alone. */
	memset(&c, 0, sizeof(c));
	chan_ring_repair(&r.v, 7, &c);
	KUNIT_EXPECT_EQ(test, c.tombstoned + c.reader_drops + c.skipped, 0U);
}

/* Slot states a mapper scribbled: every claim ends, with -EIO at worst. */
static void chan_ring_test_garbage(struct kunit *test)
{
	struct chan_test_ring r;
	u8 buf[8];
	u32 i;

	chan_test_ring_init(test, &r, 8, 4);
	for (i = 0; i < 4; i++)
		WRITE_ONCE(chan_ring_slot(&r.v, i)->state,
			   chan_slot_state(1ULL << 40, CHAN_SLOT_READING, 9));
	KUNIT_EXPECT_EQ(test, chan_test_pop(&r.v, buf, 8), -EIO);
	KUNIT_EXPECT_EQ(test, chan_test_push(&r.v, 1, 8, CHAN_OWNER_KERNEL),
			-EIO);
	KUNIT_EXPECT_LE(test, chan_ring_depth(&r.v), 4U);
}

static struct kunit_case chan_ring_cases[] = {
	KUNIT_CASE(chan_ring_test_empty_full),
	KUNIT_CASE(chan_ring_test_wrap),
	KUNIT_CASE(chan_ring_test_msgsize),
	KUNIT_CASE(chan_ring_test_len_clamp),
	KUNIT_CASE(chan_ring_test_repair),
	KUNIT_CASE(chan_ring_test_garbage),
	{}
};

static struct kunit_suite chan_ring_suite = {
	.name = "chan_ring",
	.test_cases = chan_ring_cases,
};

/* ---- the in-kernel API ---- */

#define CHAN_RW	(CHAN_ROLE_SEND | CHAN_ROLE_RECV)

static struct chan_handle *chan_test_create(struct kunit *test, u32 msg_size,
					    u32 capacity, u32 flags, u32 roles)
{
	const struct chan_kernel_attr attr = {
		.flags = flags,
		.msg_size = msg_size,
		.capacity = capacity,
	};
	struct chan_handle *h = chan_kernel_create(NULL, &attr, roles);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, h);
	return h;
}

static void chan_test_drop(struct chan_handle *h)
{
	chan_kernel_destroy(h);
	chan_kernel_release(h);
}

static void chan_kapi_test_roundtrip(struct kunit *test)
{
	struct chan_handle *h = chan_test_create(test, 16, 4, 0, CHAN_RW);
	u64 v, out;
	u32 len;

	for (v = 1; v <= 3; v++)
		KUNIT_EXPECT_EQ(test, chan_kernel_send(h, &v, sizeof(v), 0, 0),
				0);
	for (v = 1; v <= 3; v++) {
		KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, &out, sizeof(out),
						       &len, 0, 0), 0);
		KUNIT_EXPECT_EQ(test, out, v);
		KUNIT_EXPECT_EQ(test, len, (u32)sizeof(out));
	}
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, &out, sizeof(out), &len,
					       CHAN_MSG_NONBLOCK, 0), -EAGAIN);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, &out, sizeof(out), &len,
					       CHAN_MSG_TIMEOUT, 1000000),
			-ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, &out, sizeof(out), &len,
					       CHAN_MSG_TIMEOUT |
					       CHAN_MSG_ABSTIME,
					       ktime_get_ns() - 1), -ETIMEDOUT);
	chan_test_drop(h);
}

static void chan_kapi_test_errnos(struct kunit *test)
{
	struct chan_kernel_attr attr = {
		.msg_size = 8, .capacity = 2, .name = "chan_kunit.errnos",
	};
	struct chan_handle *h, *s, *e;
	u8 big[16] = {};
	u32 len, id;

	h = chan_kernel_create(NULL, &attr, CHAN_ROLE_RECV);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, h);
	e = chan_kernel_create(NULL, &attr, CHAN_RW);
	KUNIT_EXPECT_EQ(test, PTR_ERR(e), -EEXIST);
	KUNIT_EXPECT_EQ(test, chan_kernel_lookup(NULL, attr.name, &id), 0);
	KUNIT_EXPECT_EQ(test, id, chan_kernel_id(h));
	KUNIT_EXPECT_EQ(test, chan_kernel_lookup(NULL, "chan_kunit.none",
						 &id), -ENOENT);
	KUNIT_EXPECT_EQ(test, chan_kernel_lookup(NULL, "a/b", &id), -EINVAL);

	attr.name = NULL;
	attr.msg_size = 0;
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_create(NULL, &attr, 0)),
			-EINVAL);
	attr.msg_size = 8;
	attr.flags = 1U << 31;
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_create(NULL, &attr, 0)),
			-EOPNOTSUPP);
	/* Byte streams have no kernel API (yet), with or without a role. */
	attr.flags = CHAN_CREATE_STREAM;
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_create(NULL, &attr, 0)),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_create(NULL, &attr,
							 CHAN_RW)),
			-EOPNOTSUPP);
	attr.flags = 0;
	attr.capacity = CHAN_CAPACITY_MAX + 1;
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_create(NULL, &attr, 0)),
			-EINVAL);

	KUNIT_EXPECT_EQ(test, chan_kernel_send(h, big, 1, 0, 0), -EBADF);
	s = chan_kernel_open(NULL, chan_kernel_id(h), CHAN_ROLE_SEND, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(s, big, 9, 0, 0), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(s, big, 8, 1U << 30, 0),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(s, big, 8, CHAN_MSG_NONBLOCK |
					       CHAN_MSG_TIMEOUT, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(s, big, 8, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, big, 4, &len, 0, 0),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, len, 8U);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, big, 8, &len, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_open(NULL, chan_kernel_id(h),
						       CHAN_ROLE_SEND, 42)),
			-EPROTOTYPE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_open(NULL, chan_kernel_id(h),
						       4, 0)), -EINVAL);
	chan_kernel_release(s);
	chan_test_drop(h);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_open_name(NULL,
							    "chan_kunit.errnos",
							    CHAN_ROLE_RECV, 0)),
			-ENOENT);
}

/* Releasing the last sender (receiver) handle disconnects: EPIPE. */
static void chan_kapi_test_disconnect(struct kunit *test)
{
	struct chan_handle *s = chan_test_create(test, 8, 4, 0,
						 CHAN_ROLE_SEND);
	struct chan_handle *r, *s2;
	u64 v = 7;
	u32 len;

	r = chan_kernel_open(NULL, chan_kernel_id(s), CHAN_ROLE_RECV, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(s, &v, 8, 0, 0), 0);
	chan_kernel_release(s);
	/* Drained first, then EPIPE, without waiting. */
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(r, &v, 8, &len, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(r, &v, 8, &len, 0, 0), -EPIPE);
	/* A new sender reconnects. */
	s2 = chan_kernel_open(NULL, chan_kernel_id(r), CHAN_ROLE_SEND, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s2);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(r, &v, 8, &len,
					       CHAN_MSG_NONBLOCK, 0), -EAGAIN);
	chan_kernel_release(r);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(s2, &v, 8, 0, 0), -EPIPE);
	chan_test_drop(s2);
}

static void chan_kapi_test_close(struct kunit *test)
{
	struct chan_handle *h = chan_test_create(test, 8, 4, 0, CHAN_RW);
	struct chan_info info;
	u64 v = 1;
	u32 len;

	KUNIT_EXPECT_EQ(test, chan_kernel_send(h, &v, 8, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_close(h), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_close(h), -EALREADY);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(h, &v, 8, 0, 0), -EPIPE);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, &v, 8, &len, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, &v, 8, &len, 0, 0), -EPIPE);
	KUNIT_EXPECT_EQ(test, chan_kernel_info(h, &info), 0);
	KUNIT_EXPECT_TRUE(test, info.state & CHAN_STATE_CLOSED);
	KUNIT_EXPECT_EQ(test, info.sent, 1ULL);
	KUNIT_EXPECT_EQ(test, info.id, chan_kernel_id(h));
	KUNIT_EXPECT_EQ(test, chan_kernel_destroy(h), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_close(h), -EIDRM);
	chan_kernel_release(h);
}

static void chan_kapi_test_destroy(struct kunit *test)
{
	struct chan_handle *h = chan_test_create(test, 8, 4, 0, CHAN_RW);
	u32 id = chan_kernel_id(h);
	u64 v = 1;
	u32 len;

	KUNIT_EXPECT_EQ(test, chan_kernel_send(h, &v, 8, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_destroy(h), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_destroy(h), -ENOENT);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(h, &v, 8, 0, 0), -EIDRM);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(h, &v, 8, &len, 0, 0), -EIDRM);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_open(NULL, id, CHAN_RW, 0)),
			-ENOENT);
	chan_kernel_release(h);
}

static void chan_kapi_test_autodestroy(struct kunit *test)
{
	struct chan_handle *h = chan_test_create(test, 8, 4,
						 CHAN_CREATE_AUTODESTROY,
						 CHAN_RW);
	u32 id = chan_kernel_id(h);

	chan_kernel_release(h);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_open(NULL, id, CHAN_RW, 0)),
			-ENOENT);
}

static void chan_kapi_test_batch(struct kunit *test)
{
	struct chan_handle *h = chan_test_create(test, 8, 8, 0, CHAN_RW);
	u64 in[3] = { 1, 2, 3 }, out[5] = {};
	struct kvec sv[3], rv[5];
	int i;

	for (i = 0; i < 3; i++)
		sv[i] = (struct kvec){ .iov_base = &in[i], .iov_len = 8 };
	for (i = 0; i < 5; i++)
		rv[i] = (struct kvec){ .iov_base = &out[i], .iov_len = 8 };
	KUNIT_EXPECT_EQ(test, chan_kernel_send_batch(h, sv, 3, 0, 0), 3);
	/* Only the first waits: three there, three taken. */
	KUNIT_EXPECT_EQ(test, chan_kernel_recv_batch(h, rv, 5, 0, 0), 3);
	KUNIT_EXPECT_EQ(test, out[0], 1ULL);
	KUNIT_EXPECT_EQ(test, out[2], 3ULL);
	KUNIT_EXPECT_EQ(test, (u32)rv[2].iov_len, 8U);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv_batch(h, rv, 5,
						     CHAN_MSG_NONBLOCK, 0),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv_batch(h, rv, 0, 0, 0), -EINVAL);
	chan_test_drop(h);
}

/*
 * Broadcast: each receiving handle has its own cursor from the tail at its
 * open; a lossy overrun is -ENOBUFS once (also for a batch's first entry),
 * then the oldest held; a lossless sender waits for the slowest handle
 * until it is released.
 */
/*
 * A CHAN_CREATE_SPSC channel has one endpoint per role, kernel handles
 * included: a second one gets -EBUSY, and the role is free again once the
 * first is released.
 */
static void chan_kapi_test_spsc(struct kunit *test)
{
	struct chan_handle *h, *s, *r, *e;
	u64 v = 7, out = 0;
	u32 len, id;

	h = chan_test_create(test, 8, 4, CHAN_CREATE_SPSC, 0);
	id = chan_kernel_id(h);
	s = chan_kernel_open(NULL, id, CHAN_ROLE_SEND, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	r = chan_kernel_open(NULL, id, CHAN_ROLE_RECV, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_open(NULL, id,
						       CHAN_ROLE_SEND, 0)),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_open(NULL, id,
						       CHAN_ROLE_RECV, 0)),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, PTR_ERR(chan_kernel_open(NULL, id, CHAN_RW, 0)),
			-EBUSY);
	/* A handle with no role holds no endpoint. */
	e = chan_kernel_open(NULL, id, 0, 0);
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(e));
	if (!IS_ERR_OR_NULL(e))
		chan_kernel_release(e);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(s, &v, 8, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(r, &out, 8, &len, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, out, 7ULL);
	chan_kernel_release(s);
	s = chan_kernel_open(NULL, id, CHAN_ROLE_SEND, 0);
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(s));
	if (!IS_ERR_OR_NULL(s))
		chan_kernel_release(s);
	chan_kernel_release(r);
	chan_test_drop(h);
}

static void chan_kapi_test_broadcast(struct kunit *test)
{
	struct chan_handle *r1, *r2, *s, *lr1, *lr2, *ls;
	struct chan_info info;
	struct kvec rv[2];
	u64 v, out[2];
	u32 len, id;

	r1 = chan_test_create(test, 8, 4, CHAN_CREATE_BROADCAST,
			      CHAN_ROLE_RECV);
	id = chan_kernel_id(r1);
	s = chan_kernel_open(NULL, id, CHAN_ROLE_SEND, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	for (v = 1; v <= 2; v++)
		KUNIT_EXPECT_EQ(test, chan_kernel_send(s, &v, 8, 0, 0), 0);
	r2 = chan_kernel_open(NULL, id, CHAN_ROLE_RECV, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r2);
	v = 3;
	KUNIT_EXPECT_EQ(test, chan_kernel_send(s, &v, 8, 0, 0), 0);
	for (v = 1; v <= 3; v++) {
		KUNIT_EXPECT_EQ(test, chan_kernel_recv(r1, out, 8, &len,
						       CHAN_MSG_NONBLOCK, 0), 0);
		KUNIT_EXPECT_EQ(test, out[0], v);
	}
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(r2, out, 8, &len,
					       CHAN_MSG_NONBLOCK, 0), 0);
	KUNIT_EXPECT_EQ(test, out[0], 3ULL);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(r2, out, 8, &len,
					       CHAN_MSG_NONBLOCK, 0), -EAGAIN);
	/* Six more through four slots: both are two behind the oldest. */
	for (v = 4; v <= 9; v++)
		KUNIT_EXPECT_EQ(test, chan_kernel_send(s, &v, 8,
						       CHAN_MSG_NONBLOCK, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(r1, out, 8, &len, 0, 0),
			-ENOBUFS);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(r1, out, 8, &len, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, out[0], 6ULL);
	rv[0] = (struct kvec){ .iov_base = &out[0], .iov_len = 8 };
	rv[1] = (struct kvec){ .iov_base = &out[1], .iov_len = 8 };
	KUNIT_EXPECT_EQ(test, chan_kernel_recv_batch(r2, rv, 2, 0, 0),
			-ENOBUFS);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv_batch(r2, rv, 2, 0, 0), 2);
	KUNIT_EXPECT_EQ(test, out[0], 6ULL);
	KUNIT_EXPECT_EQ(test, out[1], 7ULL);
	KUNIT_EXPECT_EQ(test, chan_kernel_info(s, &info), 0);
	KUNIT_EXPECT_EQ(test, info.lost, 4ULL);
	KUNIT_EXPECT_EQ(test, info.sent, 9ULL);
	chan_kernel_release(r2);
	chan_kernel_release(s);
	chan_test_drop(r1);

	lr1 = chan_test_create(test, 8, 2, CHAN_CREATE_BROADCAST |
			       CHAN_CREATE_LOSSLESS, CHAN_ROLE_RECV);
	id = chan_kernel_id(lr1);
	ls = chan_kernel_open(NULL, id, CHAN_ROLE_SEND, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ls);
	for (v = 1; v <= 2; v++)
		KUNIT_EXPECT_EQ(test, chan_kernel_send(ls, &v, 8, 0, 0), 0);
	/* lr2 opens at the tail: only lr1 holds the sender back. */
	lr2 = chan_kernel_open(NULL, id, CHAN_ROLE_RECV, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, lr2);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(ls, &v, 8, CHAN_MSG_NONBLOCK,
					       0), -EAGAIN);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(ls, &v, 8, CHAN_MSG_TIMEOUT,
					       1000000), -ETIMEDOUT);
	chan_kernel_release(lr1);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(ls, &v, 8, CHAN_MSG_NONBLOCK,
					       0), 0);
	KUNIT_EXPECT_EQ(test, chan_kernel_recv(lr2, out, 8, &len,
					       CHAN_MSG_NONBLOCK, 0), 0);
	KUNIT_EXPECT_EQ(test, out[0], 3ULL);
	chan_kernel_release(ls);
	chan_test_drop(lr2);
}

struct chan_test_a {
	u64 a;
};

struct chan_test_b {
	u64 b;
};

CHAN_KERNEL_DECLARE_TYPED(chan_test_ta, struct chan_test_a)
CHAN_KERNEL_DECLARE_TYPED(chan_test_tb, struct chan_test_b)

static void chan_kapi_test_typed(struct kunit *test)
{
	struct chan_test_ta_chan a;
	struct chan_test_tb_chan b;
	struct chan_test_a m = { .a = 5 }, r = {};
	struct chan_handle *raw;
	u32 id;

	KUNIT_EXPECT_NE(test, chan_test_ta_type_tag(),
			chan_test_tb_type_tag());
	KUNIT_ASSERT_EQ(test, chan_test_ta_create(&a, NULL, NULL, 4, 0, 0,
						  CHAN_RW), 0);
	id = chan_kernel_id(a.h);
	/* Same size, other type: refused at open. */
	KUNIT_EXPECT_EQ(test, chan_test_tb_open(&b, NULL, id, CHAN_RW),
			-EPROTOTYPE);
	KUNIT_EXPECT_EQ(test, chan_test_ta_send(&a, &m, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_test_ta_recv(&a, &r, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, r.a, 5ULL);
	/* A short message, as user space may send: EBADMSG. */
	raw = chan_kernel_open(NULL, id, CHAN_ROLE_SEND, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, raw);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(raw, &m, 3, 0, 0), 0);
	KUNIT_EXPECT_EQ(test, chan_test_ta_recv(&a, &r, 0, 0), -EBADMSG);
	chan_kernel_release(raw);
	chan_kernel_destroy(a.h);
	chan_test_ta_release(&a);
}

/**
 * struct chan_test_blocked - a kthread blocked in one call
 * @h: the handle
 * @send: a send (else a receive)
 * @ret: the call's result; 1 until it returns
 * @started: completed just before the call
 */
struct chan_test_blocked {
	struct chan_handle *h;
	bool send;
	int ret;
	struct completion started;
};

static int chan_test_blocked_fn(void *arg)
{
	struct chan_test_blocked *b = arg;
	u64 v = 0;
	u32 len;
	int ret;

	complete(&b->started);
	if (b->send)
		ret = chan_kernel_send(b->h, &v, 8, 0, 0);
	else
		ret = chan_kernel_recv(b->h, &v, 8, &len, 0, 0);
	WRITE_ONCE(b->ret, ret);
	/* Wait for kthread_stop(), which must find us. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static struct task_struct *chan_test_block(struct kunit *test,
					   struct chan_test_blocked *b)
{
	struct task_struct *t;

	b->ret = 1;
	init_completion(&b->started);
	t = kthread_run(chan_test_blocked_fn, b, "chan_kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	wait_for_completion(&b->started);
	/* Let it get to sleep; the outcome must not depend on it. */
	msleep(50);
	KUNIT_EXPECT_EQ(test, READ_ONCE(b->ret), 1);
	return t;
}

/* Wait for a blocked call to return (up to 5 s), then stop its kthread. */
static int chan_test_unblocked(struct task_struct *t,
			       struct chan_test_blocked *b)
{
	int i;

	for (i = 0; i < 250 && READ_ONCE(b->ret) == 1; i++)
		msleep(20);
	kthread_stop(t);
	return b->ret;
}

/* kthread_stop() alone ends a kthread's blocked receive: -EINTR. */
static void chan_kapi_test_kthread_stop(struct kunit *test)
{
	struct chan_handle *h = chan_test_create(test, 8, 4, 0, CHAN_RW);
	struct chan_test_blocked b = { .h = h };
	struct task_struct *t = chan_test_block(test, &b);

	kthread_stop(t);
	KUNIT_EXPECT_EQ(test, b.ret, -EINTR);
	chan_test_drop(h);
}

/* chan_kernel_shutdown() ends a blocked send (full ring): -ESHUTDOWN. */
static void chan_kapi_test_shutdown(struct kunit *test)
{
	struct chan_handle *h = chan_test_create(test, 8, 1, 0, CHAN_RW);
	struct chan_test_blocked b = { .h = h, .send = true };
	struct task_struct *t;
	u64 v = 0;

	KUNIT_ASSERT_EQ(test, chan_kernel_send(h, &v, 8, 0, 0), 0);
	t = chan_test_block(test, &b);
	chan_kernel_shutdown(h);
	KUNIT_EXPECT_EQ(test, chan_test_unblocked(t, &b), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, chan_kernel_send(h, &v, 8, CHAN_MSG_NONBLOCK,
					       0), -ESHUTDOWN);
	chan_test_drop(h);
}

/* A destroy ends a blocked receive: -EIDRM. */
static void chan_kapi_test_destroy_wakes(struct kunit *test)
{
	struct chan_handle *h = chan_test_create(test, 8, 4, 0, CHAN_RW);
	struct chan_test_blocked b = { .h = h };
	struct task_struct *t = chan_test_block(test, &b);

	KUNIT_EXPECT_EQ(test, chan_kernel_destroy(h), 0);
	KUNIT_EXPECT_EQ(test, chan_test_unblocked(t, &b), -EIDRM);
	chan_kernel_release(h);
}

/* The last receiver leaving ends a blocked send: -EPIPE. */
static void chan_kapi_test_disconnect_wakes(struct kunit *test)
{
	struct chan_handle *s = chan_test_create(test, 8, 1, 0,
						 CHAN_ROLE_SEND);
	struct chan_test_blocked b = { .h = s, .send = true };
	struct chan_handle *r;
	struct task_struct *t;
	u64 v = 0;

	r = chan_kernel_open(NULL, chan_kernel_id(s), CHAN_ROLE_RECV, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	KUNIT_ASSERT_EQ(test, chan_kernel_send(s, &v, 8, 0, 0), 0);
	t = chan_test_block(test, &b);
	chan_kernel_release(r);
	KUNIT_EXPECT_EQ(test, chan_test_unblocked(t, &b), -EPIPE);
	chan_test_drop(s);
}

static struct kunit_case chan_kapi_cases[] = {
	KUNIT_CASE(chan_kapi_test_roundtrip),
	KUNIT_CASE(chan_kapi_test_errnos),
	KUNIT_CASE(chan_kapi_test_disconnect),
	KUNIT_CASE(chan_kapi_test_close),
	KUNIT_CASE(chan_kapi_test_destroy),
	KUNIT_CASE(chan_kapi_test_autodestroy),
	KUNIT_CASE(chan_kapi_test_batch),
	KUNIT_CASE(chan_kapi_test_typed),
	KUNIT_CASE(chan_kapi_test_kthread_stop),
	KUNIT_CASE(chan_kapi_test_shutdown),
	KUNIT_CASE(chan_kapi_test_destroy_wakes),
	KUNIT_CASE(chan_kapi_test_disconnect_wakes),
	KUNIT_CASE(chan_kapi_test_broadcast),
	KUNIT_CASE(chan_kapi_test_spsc),
	{}
};

static struct kunit_suite chan_kapi_suite = {
	.name = "chan_kapi",
	.test_cases = chan_kapi_cases,
};

kunit_test_suites(&chan_ring_suite, &chan_kapi_suite);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The chan team");
MODULE_DESCRIPTION("KUnit tests of chan's ring and in-kernel API");
