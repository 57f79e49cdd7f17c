// SPDX-License-Identifier: GPL-2.0
/*
 * CHAN_CREATE_CRC32C: every message carries a CRC32C of its length and
 * payload, computed by its sender (the kernel, or libchan on the fast
 * path), and a receiver never gets a message whose check fails: it is
 * skipped and counted (corrupt and dropped), or returned with EBADMSG
 * when asked for (CHAN_MSG_BADMSG). Checked here:
 *  - the slot layout and the check's value, against an independent
 *    bitwise CRC32C, for the kernel's and libchan's senders;
 *  - every path round trip (ioctl by fd and by ID, read/write, batches,
 *    libchan handles on and off the mapping), kernel to fast path and
 *    back;
 *  - corrupt slots written by a mapper (a flipped bit, a bad check, a slot
 *    too short for one) on the kernel's and libchan's receive, skipped or
 *    returned, and counted;
 *  - a hostile mapper flipping bits in payloads while a stream goes
 *    through: nothing delivered is garbage, and every message is either
 *    delivered once, in order, or counted as corrupt.
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <pthread.h>
#include <libchan.h>

#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)
#define MSG		64U
#define CAP		16U
#define STREAM_N	20000U

FIXTURE(crc) {
	int dev;
	int kmsg;
	uint32_t id;
	int fd;			/* SEND|RECV endpoint */
	struct chan_create c;
	struct ct_ring r;	/* the ring, mapped through fd */
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(crc)
{
	uint32_t token = 0;

	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
	ASSERT_OK(ct_create_mappable(self->dev, MSG, CAP, 0600,
				     CHAN_CREATE_CRC32C, &self->id, &self->c));
	ASSERT_NE(0ULL, self->c.out_features & CHAN_FEAT_CRC32C);
	ASSERT_EQ(MSG + CHAN_CRC_SIZE, self->c.out_ring.msg_size);
	self->fd = ct_open_token(self->dev, self->id, RW, 0, &token);
	ASSERT_LE(0, self->fd);
	ASSERT_OK(ct_ring_map(self->fd, &self->c.out_ring, token, &self->r));
}

FIXTURE_TEARDOWN(crc)
{
	ct_ring_unmap(&self->r);
	close(self->fd);
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg,
			 &self->id, 1);
	close(self->dev);
}

/* The slot at position pos, as the ring lays it out. */
static struct chan_slot *slot_at(const struct ct_ring *r, uint64_t pos)
{
	return (struct chan_slot *)(r->v.slots +
				    (size_t)(pos & r->v.mask) * r->v.slot_size);
}

static uint32_t slot_check(const struct chan_slot *s)
{
	const unsigned char *d = s->data;

	return d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
}

static void get_info(struct __test_metadata *_metadata,
		     FIXTURE_DATA(crc) *self, struct chan_info *info)
{
	ASSERT_OK(ct_info(self->dev, self->id, 0, info));
	if (!ct_info_balanced(info))
		CT_LOG_INFO("unbalanced", info);
	ASSERT_TRUE(ct_info_balanced(info));
}

/* The kernel writes [check][payload], len counting both, the check right. */
TEST_F(crc, kernel_slot_layout)
{
	const char *m[] = { "", "x", "hello, world" };
	struct chan_info info;
	uint64_t pos;

	for (pos = 0; pos < 3; pos++) {
		uint32_t len = strlen(m[pos]);
		struct chan_slot *s = slot_at(&self->r, pos);

		ASSERT_OK(ct_send(self->fd, 0, m[pos], len, 0, 0));
		EXPECT_EQ(len + CHAN_CRC_SIZE, s->len);
		EXPECT_EQ(ct_msg_check(m[pos], len), slot_check(s));
		EXPECT_EQ(0, memcmp(s->data + CHAN_CRC_SIZE, m[pos], len));
	}
	get_info(_metadata, self, &info);
	EXPECT_EQ(MSG, info.msg_size);
	EXPECT_EQ(CHAN_CREATE_CRC32C | CHAN_CREATE_MAPPABLE, info.chan_flags);
	EXPECT_EQ(3U, info.depth);
	EXPECT_EQ(0ULL, info.corrupt);
}

/* Every kernel path, full size and empty messages included. */
TEST_F(crc, kernel_paths_round_trip)
{
	unsigned char big[MSG], got[MSG + 8];
	struct chan_iov iov[2];
	struct chan_batch b = { .size = sizeof(b), .count = 2 };
	struct chan_info info;
	uint32_t len, i;

	for (i = 0; i < MSG; i++)
		big[i] = (unsigned char)(i * 7 + 1);
	ASSERT_OK(ct_send(self->fd, 0, big, MSG, 0, 0));
	ASSERT_OK(ct_send(self->dev, self->id, "", 0, 0, 0));
	ASSERT_EQ((ssize_t)5, write(self->fd, "write", 5));
	iov[0] = (struct chan_iov){ .buf = (uintptr_t)"b1", .len = 2 };
	iov[1] = (struct chan_iov){ .buf = (uintptr_t)big, .len = MSG };
	b.vec = (uintptr_t)iov;
	ASSERT_EQ(2, ioctl(self->fd, CHAN_IOC_SEND_BATCH, &b));
	EXPECT_ERRNO(EMSGSIZE, ct_send(self->fd, 0, big, MSG + 1, 0, 0));

	len = sizeof(got);
	ASSERT_OK(ct_recv(self->fd, 0, got, &len, 0, 0));
	ASSERT_EQ(MSG, len);
	EXPECT_EQ(0, memcmp(got, big, MSG));
	len = sizeof(got);
	ASSERT_OK(ct_recv(self->dev, self->id, got, &len, 0, 0));
	EXPECT_EQ(0U, len);
	/* A buffer one byte short: EMSGSIZE with the message's own length. */
	len = 4;
	EXPECT_ERRNO(EMSGSIZE, ct_recv(self->fd, 0, got, &len, 0, 0));
	EXPECT_EQ(5U, len);
	ASSERT_EQ((ssize_t)5, read(self->fd, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(got, "write", 5));
	iov[0] = (struct chan_iov){ .buf = (uintptr_t)got, .len = 8 };
	iov[1] = (struct chan_iov){ .buf = (uintptr_t)(got + 8), .len = MSG };
	ASSERT_EQ(2, ioctl(self->fd, CHAN_IOC_RECV_BATCH, &b));
	EXPECT_EQ(2U, iov[0].len);
	EXPECT_EQ(0, memcmp(got, "b1", 2));
	EXPECT_EQ(MSG, iov[1].len);
	EXPECT_EQ(0, memcmp(got + 8, big, MSG));

	get_info(_metadata, self, &info);
	EXPECT_EQ(5ULL, info.sent);
	EXPECT_EQ(5ULL, info.received);
	EXPECT_EQ(0ULL, info.dropped);
	EXPECT_EQ(0ULL, info.corrupt);
}

/* BADMSG is for RECV alone: anywhere else it is an unknown flag. */
TEST_F(crc, badmsg_flag_only_on_recv)
{
	struct chan_iov iov = { .buf = (uintptr_t)"x", .len = 1 };
	struct chan_batch b = {
		.size = sizeof(b), .count = 1, .flags = CHAN_MSG_BADMSG,
		.vec = (uintptr_t)&iov,
	};
	unsigned char got[MSG];
	uint32_t len = sizeof(got);

	EXPECT_ERRNO(EOPNOTSUPP, ct_send(self->fd, 0, "x", 1,
					 CHAN_MSG_BADMSG, 0));
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, CHAN_IOC_SEND_BATCH, &b));
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, CHAN_IOC_RECV_BATCH, &b));
	/* On RECV it is accepted, and a sound message is just received. */
	ASSERT_OK(ct_send(self->fd, 0, "ok", 2, 0, 0));
	ASSERT_OK(ct_recv(self->fd, 0, got, &len, CHAN_MSG_BADMSG, 0));
	EXPECT_EQ(2U, len);
}

/*
 * Corrupt slots, as a mapper leaves them: a flipped payload bit, a flipped
 * check bit, a slot shorter than a check (published raw, without one). A
 * kernel receive skips each and counts it; with BADMSG the first comes
 * back as found, with EBADMSG and its length.
 */
TEST_F(crc, kernel_receive_skips_or_returns_corrupt)
{
	unsigned char got[MSG];
	struct chan_info info;
	uint32_t len;

	ASSERT_OK(ct_send(self->fd, 0, "one", 3, 0, 0));	/* pos 0 */
	ASSERT_OK(ct_send(self->fd, 0, "two", 3, 0, 0));	/* pos 1 */
	ASSERT_OK(ct_send(self->fd, 0, "three", 5, 0, 0));	/* pos 2 */
	ASSERT_OK(ct_fp_send(self->fd, &self->r, "ab", 2, NULL)); /* pos 3 */
	ASSERT_OK(ct_send(self->fd, 0, "five", 4, 0, 0));	/* pos 4 */
	slot_at(&self->r, 0)->data[CHAN_CRC_SIZE + 1] ^= 0x10;
	slot_at(&self->r, 2)->data[0] ^= 0x01;

	len = sizeof(got);
	ASSERT_EQ(-1, ct_recv(self->fd, 0, got, &len, CHAN_MSG_BADMSG, 0));
	ASSERT_EQ(EBADMSG, errno);
	EXPECT_EQ(3U, len);
	EXPECT_EQ(0, memcmp(got, "o\x7e" "e", 3));	/* 'n' ^ 0x10 */
	len = sizeof(got);
	ASSERT_OK(ct_recv(self->fd, 0, got, &len, 0, 0));
	EXPECT_EQ(3U, len);
	EXPECT_EQ(0, memcmp(got, "two", 3));
	/* pos 2 (bad check) and 3 (too short) are skipped. */
	len = sizeof(got);
	ASSERT_OK(ct_recv(self->dev, self->id, got, &len, 0, 0));
	EXPECT_EQ(4U, len);
	EXPECT_EQ(0, memcmp(got, "five", 4));

	get_info(_metadata, self, &info);
	EXPECT_EQ(5ULL, info.sent);
	EXPECT_EQ(3ULL, info.corrupt);
	EXPECT_EQ(2ULL, info.dropped);
	EXPECT_EQ(3ULL, info.received);	/* two sound, one returned bad */
}

/*
 * libchan on the mapping: its sends carry the same check (the kernel
 * receives them), it receives the kernel's, and it skips or returns
 * corrupt slots as the kernel does, counting them in the header.
 */
TEST_F(crc, libchan_fast_path)
{
	struct chan_ep *ep = NULL;
	struct chan_ep_stats st;
	unsigned char got[MSG];
	struct chan_info info;
	uint32_t len = 0;
	ssize_t n;

	ASSERT_OK(chan_ep_open(&ep, self->id, RW, 0));
	ASSERT_EQ(1, chan_ep_mapped(ep));

	/* libchan -> ring: layout and check (pos 0). */
	ASSERT_OK(chan_ep_send(ep, "fast", 4));
	EXPECT_EQ(4U + CHAN_CRC_SIZE, slot_at(&self->r, 0)->len);
	EXPECT_EQ(ct_msg_check("fast", 4), slot_check(slot_at(&self->r, 0)));
	/* -> kernel receive */
	len = sizeof(got);
	ASSERT_OK(ct_recv(self->fd, 0, got, &len, 0, 0));
	EXPECT_EQ(4U, len);
	EXPECT_EQ(0, memcmp(got, "fast", 4));

	/* kernel -> libchan receive (pos 1), and a corrupt one (pos 2). */
	ASSERT_OK(ct_send(self->fd, 0, "kern", 4, 0, 0));
	ASSERT_OK(ct_send(self->fd, 0, "bad!", 4, 0, 0));
	ASSERT_OK(ct_send(self->fd, 0, "last", 4, 0, 0));
	ASSERT_OK(ct_fp_send(self->fd, &self->r, "xyz", 3, NULL));
	ASSERT_OK(ct_send(self->fd, 0, "end", 3, 0, 0));
	slot_at(&self->r, 2)->data[CHAN_CRC_SIZE] ^= 0x80;
	n = chan_ep_recv(ep, got, sizeof(got));
	ASSERT_EQ(4, n);
	EXPECT_EQ(0, memcmp(got, "kern", 4));
	n = chan_ep_recvmsg(ep, got, sizeof(got), CHAN_MSG_BADMSG, 0, &len);
	EXPECT_EQ(-EBADMSG, n);
	EXPECT_EQ(4U, len);
	EXPECT_EQ(0, memcmp(got, "\xe2" "ad!", 4));	/* 'b' ^ 0x80 */
	n = chan_ep_recv(ep, got, sizeof(got));
	ASSERT_EQ(4, n);
	EXPECT_EQ(0, memcmp(got, "last", 4));
	/* The raw slot without a check (pos 4) is skipped. */
	n = chan_ep_try_recv(ep, got, sizeof(got));
	ASSERT_EQ(3, n);
	EXPECT_EQ(0, memcmp(got, "end", 3));
	EXPECT_EQ(-EAGAIN, chan_ep_try_recv(ep, got, sizeof(got)));

	ASSERT_OK(chan_ep_get_stats(ep, &st, sizeof(st)));
	EXPECT_EQ(1ULL, st.fast_sent);
	/* kern, the one returned with EBADMSG, last, end: all taken fast */
	EXPECT_EQ(4ULL, st.fast_received);
	get_info(_metadata, self, &info);
	EXPECT_EQ(6ULL, info.sent);
	EXPECT_EQ(2ULL, info.corrupt);
	EXPECT_EQ(1ULL, info.dropped);
	EXPECT_EQ(5ULL, info.received);
	EXPECT_OK(chan_ep_close(ep));
}

/* A message that says which it is, and can be checked on its own. */
struct stream_msg {
	uint64_t seq;
	uint64_t fill[(MSG - 8) / 8];
};

static void stream_fill(struct stream_msg *m, uint64_t seq)
{
	size_t i;

	m->seq = seq;
	for (i = 0; i < ARRAY_SIZE(m->fill); i++)
		m->fill[i] = seq * 0x9e3779b97f4a7c15ULL + i;
}

static bool stream_ok(const struct stream_msg *m)
{
	struct stream_msg want;

	stream_fill(&want, m->seq);
	return !memcmp(m, &want, sizeof(want));
}

struct flipper {
	struct ct_ring *r;
	volatile int stop;
	uint64_t flips;
};

/* Flip one bit of a random slot's check or payload, now and then. */
static void *flip_thread(void *arg)
{
	struct flipper *f = arg;
	uint64_t rnd = 0x1234567;

	while (!f->stop) {
		uint64_t x = ct_rand(&rnd);
		struct chan_slot *s = slot_at(f->r, x);
		size_t off = (x >> 8) % (CHAN_CRC_SIZE + sizeof(struct stream_msg));

		__atomic_fetch_xor(&s->data[off], 1U << ((x >> 20) & 7),
				   __ATOMIC_RELAXED);
		f->flips++;
		usleep(50);
	}
	return NULL;
}

/*
 * A stream from one kernel-path sender (a child) through a ring whose
 * payloads a mapper keeps flipping bits in: the receiver (kernel path, or
 * libchan's fast path) gets only sound messages, each once, in order, and
 * every other one is counted as corrupt. A single flipped bit, or a few,
 * is always caught by CRC32C at this length.
 */
static void stream_under_flips(struct __test_metadata *_metadata,
			       FIXTURE_DATA(crc) *self, bool fast)
{
	struct flipper f = { .r = &self->r };
	struct chan_ep *ep = NULL;
	struct stream_msg m;
	struct chan_info info;
	uint64_t got = 0, last = 0, bad = 0;
	pthread_t th;
	pid_t pid;

	if (fast) {
		ASSERT_OK(chan_ep_open(&ep, self->id, CHAN_ROLE_RECV, 0));
		ASSERT_EQ(1, chan_ep_mapped(ep));
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t seq;

		for (seq = 1; seq <= STREAM_N; seq++) {
			stream_fill(&m, seq);
			if (ct_send(self->fd, 0, &m, sizeof(m), 0, 0))
				_exit(errno);
		}
		_exit(0);
	}
	self->pid[0] = pid;
	ASSERT_EQ(0, pthread_create(&th, NULL, flip_thread, &f));
	for (;;) {
		ssize_t n;
		uint32_t len = sizeof(m);

		if (fast) {
			n = chan_ep_recv_timeout(ep, &m, sizeof(m), 2 * CT_SEC);
		} else {
			n = ct_recv(self->fd, 0, &m, &len, CHAN_MSG_TIMEOUT,
				    2 * CT_SEC) ? -errno : (ssize_t)len;
		}
		if (n == -ETIMEDOUT && ct_exited(self->pid[0]))
			break;
		ASSERT_EQ((ssize_t)sizeof(m), n);
		if (!stream_ok(&m) || m.seq <= last)
			bad++;
		last = m.seq;
		got++;
	}
	f.stop = 1;
	pthread_join(th, NULL);
	EXPECT_EQ(0, ct_reap(&self->pid[0], 20000));
	get_info(_metadata, self, &info);
	TH_LOG("%llu flips, %llu delivered, %llu corrupt",
	       (unsigned long long)f.flips, (unsigned long long)got,
	       (unsigned long long)info.corrupt);
	EXPECT_EQ(0ULL, bad);
	EXPECT_EQ((uint64_t)STREAM_N, info.sent);
	EXPECT_EQ(got, info.received);
	EXPECT_EQ(info.corrupt, info.dropped);
	EXPECT_EQ((uint64_t)STREAM_N, got + info.corrupt);
	EXPECT_LT(0ULL, info.corrupt);	/* the flips did land */
	if (ep)
		EXPECT_OK(chan_ep_close(ep));
}

TEST_F(crc, hostile_flips_kernel_receiver)
{
	stream_under_flips(_metadata, self, false);
}

TEST_F(crc, hostile_flips_fast_receiver)
{
	stream_under_flips(_metadata, self, true);
}

/* A channel that is not mappable checks its messages just the same. */
TEST_F(crc, unmapped_channel)
{
	unsigned char got[16];
	struct chan_create c;
	struct chan_info info;
	uint32_t id, len = sizeof(got);
	int fd;

	memset(&c, 0, sizeof(c));
	c.flags = CHAN_CREATE_CRC32C;
	c.msg_size = 16;
	c.capacity = 4;
	ASSERT_OK(ct_create_raw(self->dev, &c));
	id = c.out_id;
	EXPECT_EQ(16U + CHAN_CRC_SIZE, c.out_ring.msg_size);
	fd = ct_open(self->dev, id, RW, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_send(fd, 0, "sixteen bytes!!!", 16, 0, 0));
	ASSERT_OK(ct_recv(fd, 0, got, &len, 0, 0));
	EXPECT_EQ(16U, len);
	EXPECT_EQ(0, memcmp(got, "sixteen bytes!!!", 16));
	ASSERT_OK(ct_info(fd, 0, 0, &info));
	EXPECT_EQ(16U, info.msg_size);
	EXPECT_EQ(0ULL, info.corrupt);
	close(fd);
	EXPECT_OK(ct_destroy(self->dev, id));
}

TEST_HARNESS_MAIN
