// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics of every channel (CHAN_FEAT_STATS): chan_info.max_depth, the
 * high-water depth since create or the last CHAN_INFO_RESET, and the
 * reset itself. Checked here:
 *  - INFO's three versions (176, 192, 208 bytes): each written only as
 *    far as its size, the third with max_depth; a non-zero __reserved3 is
 *    EINVAL, RESET with NEXT EINVAL, an unknown INFO flag EOPNOTSUPP;
 *  - max_depth through every kernel path (ioctl by ID and by fd,
 *    write(2), batches, CALL), never below depth, kept across receives;
 *  - through libchan's fast path (single sends, batches, a ring found
 *    full) on a mapped ring, folded in by the kernel;
 *  - the reset: by the owner, by ID and on a channel fd, restarts
 *    max_depth from the depth now and leaves the counters (so sent =
 *    received + dropped + discarded + depth still holds); another uid
 *    gets EPERM, by ID and on its own endpoint;
 *  - a mapper scribbling the fast path's word: INFO clamps it to the
 *    capacity, and a reset puts it right.
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <libchan.h>

#define WAIT_MS		20000
#define MSG		16U
#define CAP		128U
#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)

FIXTURE(st) {
	int dev;
	uint32_t id;		/* CAP slots, not mappable, mode 0666 */
	mode_t dev_mode;
	pid_t pid[1];
};

FIXTURE_SETUP(st)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create(self->dev, MSG, CAP, 0666, 0, 0, NULL, &self->id));
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(st)
{
	ct_reap_all(self->pid, 1);
	ct_dev_restore(self->dev_mode);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

static int st_info(int fd, uint32_t id, struct chan_info *info)
{
	return ct_info(fd, id, 0, info);
}

static int st_reset(int fd, uint32_t id)
{
	struct chan_info info;

	return ct_info(fd, id, CHAN_INFO_RESET, &info);
}

/* Depth and max_depth, and the counters' balance. */
#define EXPECT_DEPTHS(fd, id, want_depth, want_max)			\
	do {								\
		struct chan_info _i;					\
									\
		ASSERT_OK(st_info(fd, id, &_i));			\
		EXPECT_EQ((want_depth), _i.depth);			\
		EXPECT_EQ((want_max), _i.max_depth);			\
		EXPECT_TRUE(ct_info_balanced(&_i))			\
			CT_LOG_INFO("unbalanced", &_i);			\
	} while (0)

static int st_send_n(int fd, uint32_t id, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ct_send_u64(fd, id, i, CHAN_MSG_NONBLOCK))
			return -1;
	return 0;
}

static int st_recv_n(int fd, uint32_t id, unsigned int n)
{
	unsigned int i;
	uint64_t v;

	for (i = 0; i < n; i++)
		if (ct_recv_u64(fd, id, &v, CHAN_MSG_NONBLOCK))
			return -1;
	return 0;
}

/* CREATE reports the feature. */
TEST_F(st, feature_bit)
{
	struct chan_create c;

	memset(&c, 0, sizeof(c));
	c.msg_size = MSG;
	c.capacity = 1;
	ASSERT_OK(ct_create_raw(self->dev, &c));
	EXPECT_NE(0ULL, c.out_features & CHAN_FEAT_STATS);
	EXPECT_OK(ct_destroy(self->dev, c.out_id));
}

/* Each version of the struct is written exactly as far as its size. */
TEST_F(st, info_versions)
{
	static const uint32_t sizes[] = { 176, 192, 208 };
	unsigned char buf[sizeof(struct chan_info) + 16];
	struct chan_info *info = (struct chan_info *)buf;
	unsigned int i;
	size_t j;

	ASSERT_EQ(208U, sizeof(struct chan_info));
	ASSERT_OK(st_send_n(self->dev, self->id, 3));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(buf, 0xa5, sizeof(buf));
		memset(buf, 0, sizes[i]);
		info->size = sizes[i];
		info->id = self->id;
		ASSERT_OK(ioctl(self->dev, CHAN_IOC_INFO, info));
		EXPECT_EQ(3U, info->depth);
		for (j = sizes[i]; j < sizeof(buf); j++)
			if (buf[j] != 0xa5)
				break;
		EXPECT_EQ(sizeof(buf), j) TH_LOG("size %u: byte %zu written",
						 sizes[i], j);
		if (sizes[i] >= 208) {
			EXPECT_EQ(3U, info->max_depth);
			EXPECT_EQ(0U, info->__reserved3);
			EXPECT_EQ(0ULL, info->lost);
		}
	}
	/* Shorter than the first version. */
	memset(buf, 0, sizeof(buf));
	info->size = 172;
	info->id = self->id;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, CHAN_IOC_INFO, info));
	/* __reserved3 is an input that must be zero. */
	memset(buf, 0, sizeof(buf));
	info->size = sizeof(*info);
	info->id = self->id;
	info->__reserved3 = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, CHAN_IOC_INFO, info));
	/* A longer struct with a non-zero tail. */
	memset(buf, 0, sizeof(buf));
	info->size = sizeof(buf);
	info->id = self->id;
	buf[sizeof(buf) - 1] = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->dev, CHAN_IOC_INFO, info));
}

TEST_F(st, bad_flags)
{
	struct chan_info info;

	EXPECT_ERRNO(EOPNOTSUPP, ct_info(self->dev, self->id, 1U << 2, &info));
	EXPECT_ERRNO(EINVAL, ct_info(self->dev, 1,
				     CHAN_INFO_NEXT | CHAN_INFO_RESET, &info));
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, 0xfffffff0U, CHAN_INFO_RESET,
				     &info));
}

/* Every kernel path raises the mark after it sends; receives keep it. */
TEST_F(st, kernel_paths)
{
	uint64_t vals[7] = { 0 }, rbuf = 0;
	struct chan_iov iov[7];
	struct chan_batch b;
	struct chan_call call;
	int sfd, rfd, i;

	EXPECT_DEPTHS(self->dev, self->id, 0U, 0U);
	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	/* By ID. */
	ASSERT_OK(st_send_n(self->dev, self->id, 5));
	EXPECT_DEPTHS(self->dev, self->id, 5U, 5U);
	ASSERT_OK(st_recv_n(self->dev, self->id, 3));
	EXPECT_DEPTHS(self->dev, self->id, 2U, 5U);
	/* On a channel fd, and through write(2). */
	ASSERT_OK(st_send_n(sfd, 0, 2));
	EXPECT_DEPTHS(sfd, 0, 4U, 5U);
	for (i = 0; i < 2; i++)
		ASSERT_EQ((ssize_t)sizeof(vals[0]),
			  write(sfd, &vals[0], sizeof(vals[0])));
	EXPECT_DEPTHS(rfd, 0, 6U, 6U);
	/* A batch. */
	for (i = 0; i < 7; i++) {
		iov[i].buf = (uintptr_t)&vals[i];
		iov[i].len = sizeof(vals[i]);
		iov[i].__reserved = 0;
	}
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 7;
	b.vec = (uintptr_t)iov;
	ASSERT_EQ(7, ioctl(sfd, CHAN_IOC_SEND_BATCH, &b));
	EXPECT_DEPTHS(self->dev, self->id, 13U, 13U);
	/* CALL: the request is sent (and the reply is that same message). */
	memset(&call, 0, sizeof(call));
	call.size = sizeof(call);
	call.id = self->id;
	call.reply_id = self->id;
	call.reply_fd = -1;
	call.send_len = sizeof(vals[0]);
	call.send_buf = (uintptr_t)&vals[0];
	call.recv_buf = (uintptr_t)&rbuf;
	call.recv_len = sizeof(rbuf);
	ASSERT_OK(ioctl(self->dev, CHAN_IOC_CALL, &call));
	EXPECT_DEPTHS(self->dev, self->id, 13U, 14U);
	/* Drained: the mark stays. */
	ASSERT_OK(st_recv_n(rfd, 0, 13));
	EXPECT_DEPTHS(self->dev, self->id, 0U, 14U);
	close(sfd);
	close(rfd);
}

/* The owner resets, by ID and on a channel fd; the counters go on. */
TEST_F(st, reset_by_owner)
{
	struct chan_info before, after;
	int fd;

	ASSERT_OK(st_send_n(self->dev, self->id, 9));
	ASSERT_OK(st_recv_n(self->dev, self->id, 6));
	ASSERT_OK(st_info(self->dev, self->id, &before));
	EXPECT_EQ(9U, before.max_depth);
	/* The reset describes the channel as it is after it. */
	ASSERT_OK(ct_info(self->dev, self->id, CHAN_INFO_RESET, &after));
	EXPECT_EQ(3U, after.depth);
	EXPECT_EQ(3U, after.max_depth);
	EXPECT_EQ(before.sent, after.sent);
	EXPECT_EQ(before.received, after.received);
	EXPECT_EQ(before.dropped, after.dropped);
	EXPECT_TRUE(ct_info_balanced(&after));
	ASSERT_OK(st_send_n(self->dev, self->id, 2));
	EXPECT_DEPTHS(self->dev, self->id, 5U, 5U);
	ASSERT_OK(st_recv_n(self->dev, self->id, 5));
	/* On a receive-only endpoint of the owner's. */
	fd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(st_reset(fd, 0));
	EXPECT_DEPTHS(fd, 0, 0U, 0U);
	EXPECT_ERRNO(EINVAL, st_reset(fd, self->id));
	close(fd);
	/* libchan's call, by ID and on a fd. */
	ASSERT_OK(st_send_n(self->dev, self->id, 4));
	ASSERT_OK(st_recv_n(self->dev, self->id, 1));
	EXPECT_OK(chan_reset_stats(-1, self->id));
	EXPECT_DEPTHS(self->dev, self->id, 3U, 3U);
	EXPECT_OK(chan_reset_stats(self->dev, self->id));
	EXPECT_EQ(-ENOENT, chan_reset_stats(-1, 0xfffffff0U));
}

/*
 * Another uid may read (and write) the channel but not reset it: EPERM by
 * ID and on its own endpoint; its INFO without the flag works. A channel
 * it owns, it may reset.
 */
TEST_F(st, reset_eperm_for_others)
{
	struct chan_info info;
	pid_t pid;

	ASSERT_OK(st_send_n(self->dev, self->id, 4));
	ASSERT_OK(st_recv_n(self->dev, self->id, 4));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct chan_info ci;
		uint32_t own;
		int dev, fd;

		close(self->dev);
		if (ct_drop_privs(NULL, 0))
			_exit(CT_EXIT_SETUP);
		dev = ct_dev_open();
		if (dev < 0)
			_exit(CT_EXIT_SETUP);
		fd = ct_open(dev, self->id, RW, 0, 0);
		if (fd < 0)
			_exit(CT_EXIT_SETUP);
		if (st_info(dev, self->id, &ci) || ci.max_depth != 4)
			_exit(10);
		if (st_reset(dev, self->id) == 0 || errno != EPERM)
			_exit(11);
		if (st_reset(fd, 0) == 0 || errno != EPERM)
			_exit(12);
		if (chan_reset_stats(fd, 0) != -EPERM)
			_exit(13);
		if (ct_create(dev, MSG, 4, 0600, 0, 0, NULL, &own))
			_exit(CT_EXIT_SETUP);
		if (st_send_n(dev, own, 2) || st_recv_n(dev, own, 2) ||
		    st_reset(dev, own) || st_info(dev, own, &ci) ||
		    ci.max_depth != 0)
			_exit(14);
		ct_destroy(dev, own);
		_exit(0);
	}
	self->pid[0] = pid;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	ASSERT_OK(st_info(self->dev, self->id, &info));
	EXPECT_EQ(4U, info.max_depth);
}

/*
 * libchan's fast path on a mapped ring: a sender samples the depth every
 * 64th position and whenever it finds the ring full; the kernel folds
 * the header's word into the mark. Single sends, a batch, a full ring,
 * then kernel receives on top: nothing unbalanced.
 */
TEST_F(st, fast_path)
{
	struct chan_iov iov[64];
	uint64_t vals[64], v = 0;
	struct chan_ep_stats es;
	struct chan_ep *tx, *rx;
	uint32_t id;
	unsigned int i;

	ASSERT_OK(ct_create(self->dev, MSG, CAP, 0600, CHAN_CREATE_MAPPABLE,
			    0, NULL, &id));
	ASSERT_OK(chan_ep_open(&tx, id, CHAN_ROLE_SEND, 0));
	ASSERT_OK(chan_ep_open(&rx, id, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(tx));
	ASSERT_EQ(1, chan_ep_mapped(rx));
	for (i = 0; i < 64; i++)
		ASSERT_OK(chan_ep_try_send(tx, &v, sizeof(v)));
	EXPECT_DEPTHS(self->dev, id, 64U, 64U);
	for (i = 0; i < 64; i++)
		ASSERT_EQ((ssize_t)sizeof(v), chan_ep_try_recv(rx, &v,
							       sizeof(v)));
	EXPECT_DEPTHS(self->dev, id, 0U, 64U);
	EXPECT_OK(chan_reset_stats(-1, id));
	EXPECT_DEPTHS(self->dev, id, 0U, 0U);
	/* A batch of 64 (positions 64..127: the last is sampled). */
	for (i = 0; i < 64; i++) {
		vals[i] = i;
		iov[i].buf = (uintptr_t)&vals[i];
		iov[i].len = sizeof(vals[i]);
		iov[i].__reserved = 0;
	}
	ASSERT_EQ(64, chan_ep_send_batch(tx, iov, 64, CHAN_MSG_NONBLOCK, 0));
	EXPECT_DEPTHS(self->dev, id, 64U, 64U);
	/* Filled up: the failing send records the full ring. */
	for (i = 0; i < 64; i++)
		ASSERT_OK(chan_ep_try_send(tx, &v, sizeof(v)));
	ASSERT_EQ(-EAGAIN, chan_ep_try_send(tx, &v, sizeof(v)));
	EXPECT_DEPTHS(self->dev, id, CAP, CAP);
	/* The kernel's receives on the same ring, then a reset mid-way. */
	ASSERT_OK(st_recv_n(self->dev, id, 100));
	EXPECT_DEPTHS(self->dev, id, 28U, CAP);
	EXPECT_OK(chan_reset_stats(-1, id));
	EXPECT_DEPTHS(self->dev, id, 28U, 28U);
	/* Fast sends that reach no sample: the mark is at least the depth. */
	for (i = 0; i < 10; i++)
		ASSERT_OK(chan_ep_try_send(tx, &v, sizeof(v)));
	EXPECT_DEPTHS(self->dev, id, 38U, 38U);
	ASSERT_OK(chan_ep_get_stats(tx, &es, sizeof(es)));
	EXPECT_EQ(64U + 64U + 64U + 10U, es.fast_sent);
	EXPECT_OK(chan_ep_close(tx));
	EXPECT_OK(chan_ep_close(rx));
	EXPECT_OK(ct_destroy(self->dev, id));
}

/*
 * A mapper writes anything into the fast path's word: INFO reports at
 * most the capacity, and a reset puts the word right.
 */
TEST_F(st, scribbled_word)
{
	struct chan_create c;
	struct chan_info info;
	struct ct_ring r;
	uint32_t token = 0, id;
	volatile __u64 *word;
	int fd;

	ASSERT_OK(ct_create_mappable(self->dev, MSG, 8, 0600, 0, &id, &c));
	fd = ct_open_token(self->dev, id, RW, 0, &token);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_ring_map(fd, &c.out_ring, token, &r));
	word = (volatile __u64 *)((char *)r.base + CHAN_RING_MAX_DEPTH_OFFSET);
	EXPECT_EQ(0ULL, *word);
	*word = ~0ULL;
	ASSERT_OK(st_info(fd, 0, &info));
	EXPECT_EQ(8U, info.capacity);
	EXPECT_EQ(8U, info.max_depth);
	ASSERT_OK(st_send_n(fd, 0, 2));
	ASSERT_OK(st_reset(fd, 0));
	EXPECT_EQ(2ULL, *word);
	EXPECT_DEPTHS(fd, 0, 2U, 2U);
	*word = 5;
	EXPECT_DEPTHS(fd, 0, 2U, 5U);
	ct_ring_unmap(&r);
	close(fd);
	EXPECT_OK(ct_destroy(self->dev, id));
}

/* A destroyed channel: the mark stays, depth goes to discarded. */
TEST_F(st, destroyed)
{
	struct chan_info info;
	int fd;

	fd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(st_send_n(self->dev, self->id, 7));
	ASSERT_OK(ct_destroy(self->dev, self->id));
	ASSERT_OK(st_info(fd, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(7ULL, info.discarded);
	EXPECT_EQ(7U, info.max_depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	close(fd);
}

TEST_HARNESS_MAIN
