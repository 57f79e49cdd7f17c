// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI of /dev/chan, through raw ioctls only: for every command
 * the short / long-zero-tail / long-non-zero-tail struct sizes, unknown
 * flags, non-zero reserved fields and bad pointers; unknown commands; and
 * the argument checks of each command (the EINVAL/EEXIST/ENOENT/EPROTOTYPE
 * rows of the errno table in <linux/chan.h>).
 */
#include "chan_test_util.h"

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

#include <stddef.h>

#define ABI_MSG_SIZE	16U
#define ABI_CAPACITY	4U
#define ABI_TAG		0x1234abcdULL
#define ABI_TAIL	8
#define PAGE		4096

/*
 * INFO is at its third version (v2 added mappers and corrupt, v3
 * max_depth and lost); the first ended at name. chan_msg is at its second
 * (lost); the first ended at timeout_ns.
 */
_Static_assert(offsetofend(struct chan_info, name) == 176, "INFO v1");
_Static_assert(offsetofend(struct chan_info, corrupt) == 192, "INFO v2");
_Static_assert(sizeof(struct chan_info) == 208, "INFO v3");
_Static_assert(offsetofend(struct chan_msg, timeout_ns) == 32, "MSG v1");
_Static_assert(sizeof(struct chan_msg) == 40, "MSG v2");
_Static_assert(sizeof(struct chan_bcast_cursor) == 24 &&
	       offsetof(struct chan_bcast_cursor, lost) == 16,
	       "broadcast cursor page layout");

/*
 * One variant per command and per fd it is issued on. The tests below
 * build a valid argument for the variant's command (abi_fill), damage it
 * in one way, and check the errno and that nothing changed.
 */
FIXTURE(abi) {
	int dev;
	int chfd;		/* SEND|RECV endpoint of the channel */
	uint32_t id;
	char name[CHAN_NAME_MAX];
	uint32_t created[4];	/* channels a CREATE call made */
	int ncreated;
	unsigned char *area;	/* two pages for the argument */
	unsigned char rbuf[64];
	struct chan_iov iov;	/* a batch of one */
};

FIXTURE_VARIANT(abi) {
	unsigned long cmd;
	size_t size;
	size_t min_size;	/* the first version's; 0: size */
	bool on_chan_fd;
	uint32_t known_flags;
	int nreserved;
	size_t reserved[3];	/* 32-bit input fields that must be zero */
	bool only_high_bits;	/* their low bits are meaningful (roles) */
};

FIXTURE_VARIANT_ADD(abi, create) {
	.cmd = CHAN_IOC_CREATE,
	.size = sizeof(struct chan_create),
	.known_flags = CHAN_CREATE_AUTODESTROY | CHAN_CREATE_MAPPABLE |
		       CHAN_CREATE_CRC32C | CHAN_CREATE_SPSC |
		       CHAN_CREATE_BROADCAST | CHAN_CREATE_LOSSLESS |
		       CHAN_CREATE_STREAM,
	.nreserved = 2,
	.reserved = { offsetof(struct chan_create, __reserved),
		      offsetof(struct chan_create, __reserved2) },
};

/*
 * OPEN, SEND and RECV have no reserved word; what stands for one is a field
 * with bits that must be zero: roles' unknown bits, and timeout_ns (low
 * half) without CHAN_MSG_TIMEOUT.
 */
FIXTURE_VARIANT_ADD(abi, open) {
	.cmd = CHAN_IOC_OPEN,
	.size = sizeof(struct chan_open),
	.min_size = offsetofend(struct chan_open, type_tag),
	.known_flags = CHAN_OPEN_NONBLOCK | CHAN_OPEN_CLOEXEC,
	.nreserved = 2,
	.reserved = { offsetof(struct chan_open, roles),
		      offsetof(struct chan_open, __reserved) },
	.only_high_bits = true,
};

#define ABI_MSG_FLAGS	(CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME)

/* A batch's count has bits that must be zero (it is at most 1024). */
FIXTURE_VARIANT_ADD(abi, send_batch_id) {
	.cmd = CHAN_IOC_SEND_BATCH,
	.size = sizeof(struct chan_batch),
	.known_flags = ABI_MSG_FLAGS | CHAN_MSG_WAITALL,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_batch, count) },
	.only_high_bits = true,
};

FIXTURE_VARIANT_ADD(abi, recv_batch_fd) {
	.cmd = CHAN_IOC_RECV_BATCH,
	.size = sizeof(struct chan_batch),
	.on_chan_fd = true,
	.known_flags = ABI_MSG_FLAGS | CHAN_MSG_WAITALL,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_batch, count) },
	.only_high_bits = true,
};

/* CALL: reply_fd must be -1 on /dev/chan, reply_id 0 on a channel fd. */
FIXTURE_VARIANT_ADD(abi, call_id) {
	.cmd = CHAN_IOC_CALL,
	.size = sizeof(struct chan_call),
	.known_flags = ABI_MSG_FLAGS,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_call, reply_fd) },
};

FIXTURE_VARIANT_ADD(abi, call_fd) {
	.cmd = CHAN_IOC_CALL,
	.size = sizeof(struct chan_call),
	.on_chan_fd = true,
	.known_flags = ABI_MSG_FLAGS,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_call, reply_id) },
};

FIXTURE_VARIANT_ADD(abi, wake_id) {
	.cmd = CHAN_IOC_WAKE,
	.size = sizeof(struct chan_wake),
	.known_flags = 0,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_wake, roles) },
	.only_high_bits = true,
};

FIXTURE_VARIANT_ADD(abi, wake_fd) {
	.cmd = CHAN_IOC_WAKE,
	.size = sizeof(struct chan_wake),
	.on_chan_fd = true,
	.known_flags = 0,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_wake, roles) },
	.only_high_bits = true,
};

FIXTURE_VARIANT_ADD(abi, send_id) {
	.cmd = CHAN_IOC_SEND,
	.size = sizeof(struct chan_msg),
	.min_size = offsetofend(struct chan_msg, timeout_ns),
	.known_flags = CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_msg, timeout_ns) },
};

FIXTURE_VARIANT_ADD(abi, send_fd) {
	.cmd = CHAN_IOC_SEND,
	.size = sizeof(struct chan_msg),
	.min_size = offsetofend(struct chan_msg, timeout_ns),
	.on_chan_fd = true,
	.known_flags = CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_msg, timeout_ns) },
};

FIXTURE_VARIANT_ADD(abi, recv_id) {
	.cmd = CHAN_IOC_RECV,
	.size = sizeof(struct chan_msg),
	.min_size = offsetofend(struct chan_msg, timeout_ns),
	.known_flags = CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME |
		       CHAN_MSG_BADMSG,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_msg, timeout_ns) },
};

FIXTURE_VARIANT_ADD(abi, recv_fd) {
	.cmd = CHAN_IOC_RECV,
	.size = sizeof(struct chan_msg),
	.min_size = offsetofend(struct chan_msg, timeout_ns),
	.on_chan_fd = true,
	.known_flags = CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME |
		       CHAN_MSG_BADMSG,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_msg, timeout_ns) },
};

FIXTURE_VARIANT_ADD(abi, destroy) {
	.cmd = CHAN_IOC_DESTROY,
	.size = sizeof(struct chan_destroy),
	.known_flags = 0,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_destroy, __reserved) },
};

FIXTURE_VARIANT_ADD(abi, close_id) {
	.cmd = CHAN_IOC_CLOSE,
	.size = sizeof(struct chan_close),
	.known_flags = CHAN_CLOSE_REOPEN,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_close, __reserved) },
};

FIXTURE_VARIANT_ADD(abi, close_fd) {
	.cmd = CHAN_IOC_CLOSE,
	.size = sizeof(struct chan_close),
	.on_chan_fd = true,
	.known_flags = CHAN_CLOSE_REOPEN,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_close, __reserved) },
};

FIXTURE_VARIANT_ADD(abi, info_id) {
	.cmd = CHAN_IOC_INFO,
	.size = sizeof(struct chan_info),
	.min_size = offsetofend(struct chan_info, name),
	.known_flags = CHAN_INFO_NEXT | CHAN_INFO_RESET,
	.nreserved = 3,
	.reserved = { offsetof(struct chan_info, __reserved),
		      offsetof(struct chan_info, __reserved2),
		      offsetof(struct chan_info, __reserved3) },
};

FIXTURE_VARIANT_ADD(abi, info_fd) {
	.cmd = CHAN_IOC_INFO,
	.size = sizeof(struct chan_info),
	.min_size = offsetofend(struct chan_info, name),
	.on_chan_fd = true,
	.known_flags = CHAN_INFO_NEXT | CHAN_INFO_RESET,
	.nreserved = 3,
	.reserved = { offsetof(struct chan_info, __reserved),
		      offsetof(struct chan_info, __reserved2),
		      offsetof(struct chan_info, __reserved3) },
};

FIXTURE_VARIANT_ADD(abi, lookup) {
	.cmd = CHAN_IOC_LOOKUP,
	.size = sizeof(struct chan_lookup),
	.known_flags = 0,
	.nreserved = 1,
	.reserved = { offsetof(struct chan_lookup, __reserved) },
};

FIXTURE_SETUP(abi)
{
	self->chfd = -1;
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ct_name(self->name, sizeof(self->name), "abi");
	ASSERT_OK(ct_create(self->dev, ABI_MSG_SIZE, ABI_CAPACITY, 0600, 0,
			    ABI_TAG, self->name, &self->id));
	self->chfd = ct_open(self->dev, self->id,
			     CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->chfd);
	/* Two messages queued, so RECV has something to take. */
	ASSERT_OK(ct_send(self->chfd, 0, "hello", 5, 0, 0));
	ASSERT_OK(ct_send(self->chfd, 0, "world", 5, 0, 0));
	self->area = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->area);
}

FIXTURE_TEARDOWN(abi)
{
	ct_abi_cleanup(self->dev, self->chfd, self->id, self->created,
		       self->ncreated);
	if (self->area && self->area != MAP_FAILED)
		munmap(self->area, 2 * PAGE);
}

/* A valid argument of the variant's command at arg (size = sizeof). */
static void abi_fill(FIXTURE_DATA(abi) *self,
		     const FIXTURE_VARIANT(abi) *variant, void *arg)
{
	const struct ct_abi_target t = {
		.id = self->id,
		.on_fd = variant->on_chan_fd,
		.chfd = self->chfd,
		.name = self->name,
		.sbuf = "abc",
		.slen = 3,
		.rbuf = self->rbuf,
		.rlen = sizeof(self->rbuf),
		.destroy_id = self->id,
		.iov = &self->iov,
	};

	ct_abi_fill(variant->cmd, variant->size, &t, arg);
}

static int abi_call(FIXTURE_DATA(abi) *self,
		    const FIXTURE_VARIANT(abi) *variant, void *arg)
{
	return ioctl(variant->on_chan_fd ? self->chfd : self->dev,
		     variant->cmd, arg);
}

/* Observable state a failed call must leave alone. */
struct abi_state {
	int exists;
	uint32_t state, depth, senders, receivers;
	uint64_t sent, received;
	int nchannels;
};

static void abi_snapshot(FIXTURE_DATA(abi) *self, struct abi_state *st)
{
	struct chan_info info;
	uint32_t next = 1;

	memset(st, 0, sizeof(*st));
	if (ct_info(self->dev, self->id, 0, &info) == 0) {
		st->exists = 1;
		st->state = info.state;
		st->depth = info.depth;
		st->senders = info.senders;
		st->receivers = info.receivers;
		st->sent = info.sent;
		st->received = info.received;
	}
	while (ct_info(self->dev, next, CHAN_INFO_NEXT, &info) == 0) {
		st->nchannels++;
		if (info.id == UINT32_MAX)
			break;
		next = info.id + 1;
	}
}

#define ASSERT_UNCHANGED(before)					\
	({								\
		struct abi_state __after;				\
		abi_snapshot(self, &__after);				\
		ASSERT_EQ((before)->exists, __after.exists);		\
		ASSERT_EQ((before)->state, __after.state);		\
		ASSERT_EQ((before)->depth, __after.depth);		\
		ASSERT_EQ((before)->senders, __after.senders);		\
		ASSERT_EQ((before)->receivers, __after.receivers);	\
		ASSERT_EQ((before)->sent, __after.sent);		\
		ASSERT_EQ((before)->received, __after.received);	\
		ASSERT_EQ((before)->nchannels, __after.nchannels);	\
	})

/* Check the outcome of a successful call of the variant's command. */
static void abi_check_ok(struct __test_metadata *_metadata,
			 FIXTURE_DATA(abi) *self,
			 const FIXTURE_VARIANT(abi) *variant, void *arg,
			 int ret)
{
	struct chan_info info;

	switch (variant->cmd) {
	case CHAN_IOC_CREATE: {
		struct chan_create *c = arg;

		ASSERT_EQ(0, ret);
		ASSERT_NE(0U, c->out_id);
		self->created[self->ncreated++] = c->out_id;
		ASSERT_EQ(8U, c->out_ring.msg_size);
		ASSERT_EQ(2U, c->out_ring.capacity);
		ASSERT_OK(ct_info(self->dev, c->out_id, 0, &info));
		ASSERT_EQ(8U, info.msg_size);
		break;
	}
	case CHAN_IOC_OPEN: {
		struct chan_open *o = arg;

		ASSERT_LE(0, ret);
		ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
		ASSERT_EQ(2U, info.senders);
		ASSERT_EQ(2U, info.receivers);
		/*
		 * A first-version struct has no room for the token; the
		 * channel is not mappable, so the token is 0 (written).
		 */
		if (o->size >= offsetofend(struct chan_open, out_token))
			ASSERT_EQ(0U, o->out_token);
		close(ret);
		break;
	}
	case CHAN_IOC_WAKE:
		ASSERT_EQ(0, ret);
		break;
	case CHAN_IOC_SEND_BATCH:
		ASSERT_EQ(1, ret);
		ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
		ASSERT_EQ(3U, info.depth);
		break;
	case CHAN_IOC_RECV_BATCH:
		ASSERT_EQ(1, ret);
		ASSERT_EQ(5U, self->iov.len);
		ASSERT_EQ(0, memcmp(self->rbuf, "hello", 5));
		break;
	case CHAN_IOC_CALL: {
		struct chan_call *c = arg;

		ASSERT_EQ(0, ret);
		ASSERT_EQ(1U, c->out_sent);
		ASSERT_EQ(5U, c->recv_len);
		ASSERT_EQ(0, memcmp(self->rbuf, "hello", 5));
		break;
	}
	case CHAN_IOC_SEND:
		ASSERT_EQ(0, ret);
		ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
		ASSERT_EQ(3U, info.depth);
		break;
	case CHAN_IOC_RECV: {
		struct chan_msg *m = arg;

		ASSERT_EQ(0, ret);
		ASSERT_EQ(5U, m->len);
		ASSERT_EQ(0, memcmp(self->rbuf, "hello", 5));
		break;
	}
	case CHAN_IOC_CLOSE:
		ASSERT_EQ(0, ret);
		ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
		ASSERT_EQ(CHAN_STATE_CLOSED, info.state & CHAN_STATE_CLOSED);
		ASSERT_EQ(2U, info.depth);
		break;
	case CHAN_IOC_DESTROY:
		ASSERT_EQ(0, ret);
		EXPECT_ERRNO(ENOENT, ct_info(self->dev, self->id, 0, &info));
		self->id = 0;
		break;
	case CHAN_IOC_INFO: {
		struct chan_info *i = arg;

		ASSERT_EQ(0, ret);
		ASSERT_EQ(self->id, i->id);
		ASSERT_EQ(ABI_MSG_SIZE, i->msg_size);
		ASSERT_EQ(ABI_CAPACITY, i->capacity);
		ASSERT_EQ(2U, i->depth);
		ASSERT_EQ(ABI_TAG, i->type_tag);
		ASSERT_STREQ(self->name, i->name);
		break;
	}
	case CHAN_IOC_LOOKUP: {
		struct chan_lookup *l = arg;

		ASSERT_EQ(0, ret);
		ASSERT_EQ(self->id, l->out_id);
		break;
	}
	}
}

/* The valid argument, as is, works (the success path of every command). */
TEST_F(abi, exact_size)
{
	void *arg = self->area;

	abi_fill(self, variant, arg);
	abi_check_ok(_metadata, self, variant, arg,
		     abi_call(self, variant, arg));
}

static size_t abi_min_size(const FIXTURE_VARIANT(abi) *variant)
{
	return variant->min_size ? variant->min_size : variant->size;
}

/*
 * size shorter than the first version of the struct (the command's
 * minimum): EINVAL, down from one byte short.
 */
TEST_F(abi, size_short)
{
	const uint32_t min = abi_min_size(variant);
	const uint32_t sizes[] = { 0, 4, 8, min - 8, min - 1 };
	struct abi_state before;
	void *arg = self->area;
	size_t i;

	abi_snapshot(self, &before);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		abi_fill(self, variant, arg);
		((uint32_t *)arg)[0] = sizes[i];
		EXPECT_ERRNO_CTX(EINVAL, abi_call(self, variant, arg),
				 "size %u", sizes[i]);
	}
	ASSERT_UNCHANGED(&before);
}

/*
 * An older binary's struct (the first version, or any size between it
 * and the kernel's) works, zero-extended, and nothing is written past the
 * size it gave.
 */
/*
 * Put the queue back as the setup left it ("hello", "world"), for a
 * command that moved a message and is called again.
 */
static void abi_requeue(struct __test_metadata *_metadata,
			FIXTURE_DATA(abi) *self)
{
	unsigned char buf[64];
	uint32_t len;

	do
		len = sizeof(buf);
	while (!ct_recv(self->chfd, 0, buf, &len, CHAN_MSG_NONBLOCK, 0));
	ASSERT_OK(ct_send(self->chfd, 0, "hello", 5, 0, 0));
	ASSERT_OK(ct_send(self->chfd, 0, "world", 5, 0, 0));
}

TEST_F(abi, size_first_version)
{
	const size_t min = abi_min_size(variant);
	unsigned char *arg = self->area;
	size_t sz, i;

	for (sz = min; sz < variant->size; sz += 4) {
		abi_fill(self, variant, arg);
		memset(arg + sz, 0xa5, variant->size - sz);
		((uint32_t *)arg)[0] = sz;
		abi_check_ok(_metadata, self, variant, arg,
			     abi_call(self, variant, arg));
		for (i = sz; i < variant->size; i++)
			ASSERT_EQ(0xa5, arg[i]);
		/* SEND and RECV are at their second version: two sizes. */
		if (variant->cmd == CHAN_IOC_SEND ||
		    variant->cmd == CHAN_IOC_RECV)
			abi_requeue(_metadata, self);
	}
}

/* A newer, longer struct whose unknown tail is zero is accepted. */
TEST_F(abi, size_long_zero_tail)
{
	unsigned char *arg = self->area;
	size_t i;

	abi_fill(self, variant, arg);
	((uint32_t *)arg)[0] = variant->size + ABI_TAIL;
	abi_check_ok(_metadata, self, variant, arg,
		     abi_call(self, variant, arg));
	/* Output goes only into the fields this kernel knows. */
	for (i = 0; i < ABI_TAIL; i++)
		ASSERT_EQ(0, arg[variant->size + i]);
}

/* Same with a tail that runs to the end of the page (odd length). */
TEST_F(abi, size_long_page_tail)
{
	unsigned char *arg = self->area;

	abi_fill(self, variant, arg);
	((uint32_t *)arg)[0] = PAGE - 1;
	abi_check_ok(_metadata, self, variant, arg,
		     abi_call(self, variant, arg));
}

/* A longer struct with a non-zero byte the kernel does not know: E2BIG. */
TEST_F(abi, size_long_nonzero_tail)
{
	unsigned char *arg = self->area;
	struct abi_state before;
	size_t where[] = { variant->size, variant->size + ABI_TAIL - 1,
			   PAGE - 2 };
	size_t i;

	abi_snapshot(self, &before);
	for (i = 0; i < ARRAY_SIZE(where); i++) {
		abi_fill(self, variant, arg);
		memset(arg + variant->size, 0, PAGE - variant->size);
		((uint32_t *)arg)[0] = where[i] + 1;
		arg[where[i]] = 0x01;
		EXPECT_ERRNO_CTX(E2BIG, abi_call(self, variant, arg),
				 "non-zero byte at %zu of %zu", where[i],
				 where[i] + 1);
		arg[where[i]] = 0;
	}
	ASSERT_UNCHANGED(&before);
}

/* Every flag bit the command does not define: EOPNOTSUPP. */
TEST_F(abi, unknown_flags)
{
	struct abi_state before;
	void *arg = self->area;
	int bit;

	abi_snapshot(self, &before);
	for (bit = 0; bit < 32; bit++) {
		uint32_t f = 1U << bit;

		if (variant->known_flags & f)
			continue;
		abi_fill(self, variant, arg);
		((uint32_t *)arg)[1] |= f;
		EXPECT_ERRNO_CTX(EOPNOTSUPP, abi_call(self, variant, arg),
				 "flag bit %d", bit);
	}
	abi_fill(self, variant, arg);
	((uint32_t *)arg)[1] |= ~variant->known_flags;
	EXPECT_ERRNO(EOPNOTSUPP, abi_call(self, variant, arg));
	ASSERT_UNCHANGED(&before);
}

/* A non-zero reserved field (or must-be-zero bits): EINVAL. */
TEST_F(abi, reserved_nonzero)
{
	unsigned char *arg = self->area;
	struct abi_state before;
	int i;

	ASSERT_LT(0, variant->nreserved);
	abi_snapshot(self, &before);
	for (i = 0; i < variant->nreserved; i++) {
		if (!variant->only_high_bits) {
			abi_fill(self, variant, arg);
			*(uint32_t *)(arg + variant->reserved[i]) = 1;
			EXPECT_ERRNO_CTX(EINVAL, abi_call(self, variant, arg),
					 "reserved field at offset %zu",
					 variant->reserved[i]);
		}
		abi_fill(self, variant, arg);
		*(uint32_t *)(arg + variant->reserved[i]) = 0x80000000U;
		EXPECT_ERRNO_CTX(EINVAL, abi_call(self, variant, arg),
				 "reserved field at offset %zu",
				 variant->reserved[i]);
	}
	ASSERT_UNCHANGED(&before);
}

/* Bad argument pointers, and a long struct whose tail is unmapped: EFAULT. */
TEST_F(abi, bad_pointer)
{
	int fd = variant->on_chan_fd ? self->chfd : self->dev;
	struct abi_state before;
	unsigned char *arg;

	abi_snapshot(self, &before);
	EXPECT_ERRNO(EFAULT, ioctl(fd, variant->cmd, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(fd, variant->cmd, (void *)8));
	EXPECT_ERRNO(EFAULT, ioctl(fd, variant->cmd,
				   (void *)0xffff888000000000UL));

	/* The struct ends at the page end; the tail it claims is unmapped. */
	ASSERT_OK(munmap(self->area + PAGE, PAGE));
	arg = self->area + PAGE - variant->size;
	abi_fill(self, variant, arg);
	((uint32_t *)arg)[0] = variant->size + ABI_TAIL;
	EXPECT_ERRNO(EFAULT, ioctl(fd, variant->cmd, arg));
	ASSERT_UNCHANGED(&before);
}

/* ---- commands on the wrong fd, unknown commands ---- */

FIXTURE(dev) {
	int dev;
	int chfd;
	uint32_t id;
};

FIXTURE_SETUP(dev)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, 8, 4, &self->id));
	self->chfd = ct_open(self->dev, self->id,
			     CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->chfd);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->chfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

static const unsigned long unknown_cmds[] = {
	_IO(CHAN_IOC_TYPE, 0),
	_IO(CHAN_IOC_TYPE, 0x0d),
	_IO(CHAN_IOC_TYPE, 0x42),
	_IO(CHAN_IOC_TYPE, 0xff),
	_IO('x', CHAN_CMD_CREATE),
	_IO(CHAN_IOC_TYPE + 1, CHAN_CMD_INFO),
};

TEST_F(dev, unknown_cmd_on_dev)
{
	struct chan_info info = { .size = sizeof(info) };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unknown_cmds); i++) {
		EXPECT_ERRNO_CTX(ENOTTY, ioctl(self->dev, unknown_cmds[i], &info),
				 "cmd %#lx", unknown_cmds[i]);
	}
}

TEST_F(dev, unknown_cmd_on_chan_fd)
{
	struct chan_info info = { .size = sizeof(info) };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unknown_cmds); i++) {
		EXPECT_ERRNO_CTX(ENOTTY,
				 ioctl(self->chfd, unknown_cmds[i], &info),
				 "cmd %#lx", unknown_cmds[i]);
	}
}

/* CREATE, OPEN, DESTROY and LOOKUP belong to /dev/chan only. */
TEST_F(dev, control_cmds_on_chan_fd)
{
	struct chan_create c = {
		.size = sizeof(c), .msg_size = 8, .capacity = 2,
	};
	struct chan_open o = {
		.size = sizeof(o), .id = self->id, .roles = CHAN_ROLE_SEND,
	};
	struct chan_destroy d = { .size = sizeof(d), .id = self->id };
	struct chan_lookup l = { .size = sizeof(l) };
	struct chan_info info;

	EXPECT_ERRNO(ENOTTY, ioctl(self->chfd, CHAN_IOC_CREATE, &c));
	EXPECT_ERRNO(ENOTTY, ioctl(self->chfd, CHAN_IOC_OPEN, &o));
	EXPECT_ERRNO(ENOTTY, ioctl(self->chfd, CHAN_IOC_DESTROY, &d));
	EXPECT_ERRNO(ENOTTY, ioctl(self->chfd, CHAN_IOC_LOOKUP, &l));
	/* and the channel is still there, with one endpoint */
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.senders);
	EXPECT_EQ(1U, info.receivers);
}

/* ---- CREATE arguments ---- */

FIXTURE(create) {
	int dev;
	uint32_t ids[16];
	int nids;
};

FIXTURE_SETUP(create)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(create)
{
	int i;

	for (i = 0; i < self->nids; i++)
		ct_destroy(self->dev, self->ids[i]);
	close(self->dev);
}

/* Create and remember for teardown; returns the ioctl's result. */
static int create_keep(FIXTURE_DATA(create) *self, struct chan_create *c)
{
	int ret = ct_create_raw(self->dev, c);

	if (ret == 0 && self->nids < (int)ARRAY_SIZE(self->ids))
		self->ids[self->nids++] = c->out_id;
	return ret;
}

static void create_args(struct chan_create *c, uint32_t msg_size,
			uint32_t capacity, uint32_t mode, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->msg_size = msg_size;
	c->capacity = capacity;
	c->mode = mode;
	if (name)
		snprintf(c->name, sizeof(c->name), "%s", name);
}

TEST_F(create, returns_id_features_geometry)
{
	const uint64_t all_feats = CHAN_FEAT_ID_IO | CHAN_FEAT_FD_IO |
		CHAN_FEAT_POLL | CHAN_FEAT_RW | CHAN_FEAT_NAMES |
		CHAN_FEAT_TIMEOUT | CHAN_FEAT_TYPE_TAG | CHAN_FEAT_INFO_NEXT |
		CHAN_FEAT_AUTODESTROY | CHAN_FEAT_STATS | CHAN_FEAT_SPSC |
		CHAN_FEAT_BROADCAST | CHAN_FEAT_STREAM;
	struct chan_create c, c2;

	create_args(&c, 100, 10, 0640, NULL);
	ASSERT_OK(create_keep(self, &c));
	EXPECT_NE(0U, c.out_id);
	EXPECT_EQ(all_feats, c.out_features & all_feats);
	EXPECT_EQ(100U, c.out_ring.msg_size);
	EXPECT_EQ(16U, c.out_ring.capacity);
	/* not mappable: the header shares its page with the slots */
	EXPECT_EQ((uint32_t)CHAN_RING_HDR_MIN, c.out_ring.slots_offset);
	/* a slot holds the header (state, len, flags) and the payload */
	EXPECT_LE(sizeof(struct chan_slot) + 100, c.out_ring.slot_size);
	EXPECT_EQ(0U, c.out_ring.slot_size % 8);
	EXPECT_LE((uint64_t)c.out_ring.slots_offset +
		  (uint64_t)c.out_ring.capacity * c.out_ring.slot_size,
		  c.out_ring.map_size);
	EXPECT_LT(c.out_ring.tail_offset, c.out_ring.slots_offset);
	EXPECT_LT(c.out_ring.head_offset, c.out_ring.slots_offset);
	EXPECT_LT(c.out_ring.kstate_offset, c.out_ring.slots_offset);
	EXPECT_EQ(0U, c.out_ring.tail_offset % 8);
	EXPECT_EQ(0U, c.out_ring.head_offset % 8);
	EXPECT_NE(c.out_ring.tail_offset, c.out_ring.head_offset);
	EXPECT_EQ(0U, c.__reserved2);

	/* IDs are never 0 and never repeat while in use */
	create_args(&c2, 100, 10, 0640, NULL);
	ASSERT_OK(create_keep(self, &c2));
	EXPECT_NE(0U, c2.out_id);
	EXPECT_NE(c.out_id, c2.out_id);
}

TEST_F(create, msg_size_bounds)
{
	struct chan_create c;

	create_args(&c, 0, 4, 0600, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));
	create_args(&c, CHAN_MSG_SIZE_MAX + 1, 1, 0600, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));
	create_args(&c, UINT32_MAX, 1, 0600, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));
	create_args(&c, 1, 4, 0600, NULL);
	ASSERT_OK(create_keep(self, &c));
	EXPECT_EQ(1U, c.out_ring.msg_size);
}

/*
 * A byte stream combines with AUTODESTROY and MAPPABLE (its ring is then
 * mapped as a message ring's is), with nothing else.
 */
TEST_F(create, stream_combinations)
{
	static const uint32_t bad[] = {
		CHAN_CREATE_CRC32C, CHAN_CREATE_SPSC, CHAN_CREATE_BROADCAST,
		CHAN_CREATE_MAPPABLE | CHAN_CREATE_CRC32C,
	};
	struct chan_info info;
	struct chan_create c;
	size_t i;

	create_args(&c, 8, 2, 0600, NULL);
	c.flags = CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE |
		  CHAN_CREATE_AUTODESTROY;
	ASSERT_OK(create_keep(self, &c));
	EXPECT_NE(0U, c.out_ring.map_size);
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(c.flags, info.chan_flags);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		create_args(&c, 8, 2, 0600, NULL);
		c.flags = CHAN_CREATE_STREAM | bad[i];
		EXPECT_ERRNO_CTX(EINVAL, create_keep(self, &c),
				 "stream | %#x", bad[i]);
	}
}

TEST_F(create, capacity_bounds_and_rounding)
{
	static const uint32_t in[] = { 1, 2, 3, 5, 8, 9, 1000, 1024 };
	static const uint32_t out[] = { 1, 2, 4, 8, 8, 16, 1024, 1024 };
	struct chan_info info;
	struct chan_create c;
	size_t i;

	create_args(&c, 8, 0, 0600, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));
	create_args(&c, 8, CHAN_CAPACITY_MAX + 1, 0600, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));
	create_args(&c, 8, UINT32_MAX, 0600, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));

	for (i = 0; i < ARRAY_SIZE(in); i++) {
		create_args(&c, 8, in[i], 0600, NULL);
		ASSERT_OK(create_keep(self, &c));
		EXPECT_EQ(out[i], c.out_ring.capacity);
		ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
		EXPECT_EQ(out[i], info.capacity);
	}
}

TEST_F(create, mode)
{
	struct chan_info info;
	struct chan_create c;

	create_args(&c, 8, 2, 01000, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));
	create_args(&c, 8, 2, 04777, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));
	create_args(&c, 8, 2, UINT32_MAX, NULL);
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));

	create_args(&c, 8, 2, 0, NULL);
	ASSERT_OK(create_keep(self, &c));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(0600U, info.mode);

	create_args(&c, 8, 2, 0777, NULL);
	ASSERT_OK(create_keep(self, &c));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(0777U, info.mode);

	create_args(&c, 8, 2, 0421, NULL);
	ASSERT_OK(create_keep(self, &c));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(0421U, info.mode);
	EXPECT_EQ(geteuid(), info.uid);
	EXPECT_EQ(getegid(), info.gid);
}

TEST_F(create, name_rules)
{
	static const char *const bad[] = {
		"has/slash", "/", "ctl\x01", "tab\there", "nl\n", "del\x7f",
		"hi\x80", "\xff", "with space", " ", "trailing ",
	};
	struct chan_info info;
	struct chan_create c;
	char name[CHAN_NAME_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		create_args(&c, 8, 2, 0600, bad[i]);
		EXPECT_ERRNO_CTX(EINVAL, create_keep(self, &c),
				 "bad name #%zu", i);
	}
	/* not NUL-terminated within CHAN_NAME_MAX */
	create_args(&c, 8, 2, 0600, NULL);
	memset(c.name, 'a', sizeof(c.name));
	EXPECT_ERRNO(EINVAL, create_keep(self, &c));

	/* the longest name that fits, with every printable class in it */
	create_args(&c, 8, 2, 0600, NULL);
	ct_name(name, sizeof(name), "A~z!0.9_-:@");
	memset(c.name, 'x', sizeof(c.name) - 1);
	memcpy(c.name, name, strlen(name));
	ASSERT_OK(create_keep(self, &c));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ((size_t)CHAN_NAME_MAX - 1, strlen(info.name));
	EXPECT_EQ(0, memcmp(info.name, c.name, CHAN_NAME_MAX));

	/* empty name: anonymous, any number of them */
	create_args(&c, 8, 2, 0600, "");
	ASSERT_OK(create_keep(self, &c));
	create_args(&c, 8, 2, 0600, "");
	ASSERT_OK(create_keep(self, &c));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(0, info.name[0]);
}

TEST_F(create, duplicate_name)
{
	struct chan_create c, c2;
	char name[CHAN_NAME_MAX];
	uint32_t id;

	ct_name(name, sizeof(name), "dup");
	create_args(&c, 8, 2, 0600, name);
	ASSERT_OK(create_keep(self, &c));
	create_args(&c2, 16, 4, 0644, name);
	EXPECT_ERRNO(EEXIST, create_keep(self, &c2));
	/* still the first one */
	ASSERT_OK(ct_lookup(self->dev, name, &id));
	EXPECT_EQ(c.out_id, id);
	/* once destroyed, the name is free again */
	ASSERT_OK(ct_destroy(self->dev, c.out_id));
	ASSERT_OK(create_keep(self, &c2));
	ASSERT_OK(ct_lookup(self->dev, name, &id));
	EXPECT_EQ(c2.out_id, id);
}

TEST_F(create, autodestroy_flag_reported)
{
	struct chan_info info;
	struct chan_create c;

	create_args(&c, 8, 2, 0600, NULL);
	c.flags = CHAN_CREATE_AUTODESTROY;
	ASSERT_OK(create_keep(self, &c));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(CHAN_CREATE_AUTODESTROY, info.chan_flags);
	create_args(&c, 8, 2, 0600, NULL);
	ASSERT_OK(create_keep(self, &c));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(0U, info.chan_flags);
}

/* ---- OPEN arguments ---- */

FIXTURE(open) {
	int dev;
	uint32_t id;
};

FIXTURE_SETUP(open)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create(self->dev, 8, 2, 0600, 0, ABI_TAG, NULL,
			    &self->id));
}

FIXTURE_TEARDOWN(open)
{
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

TEST_F(open, roles)
{
	static const uint32_t ok[] = {
		CHAN_ROLE_SEND, CHAN_ROLE_RECV, CHAN_ROLE_SEND | CHAN_ROLE_RECV,
	};
	static const uint32_t bad[] = { 0, 4, CHAN_ROLE_SEND | 4, 0x80000000U,
					UINT32_MAX };
	struct chan_info info;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_ERRNO_CTX(EINVAL, ct_open(self->dev, self->id, bad[i],
						 0, 0),
				 "roles %#x", bad[i]);
	}
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		fd = ct_open(self->dev, self->id, ok[i], 0, 0);
		ASSERT_LE(0, fd);
		ASSERT_OK(ct_info(fd, 0, 0, &info));
		EXPECT_EQ((uint32_t)!!(ok[i] & CHAN_ROLE_SEND), info.senders);
		EXPECT_EQ((uint32_t)!!(ok[i] & CHAN_ROLE_RECV), info.receivers);
		close(fd);
	}
}

TEST_F(open, unknown_id)
{
	struct chan_info info;
	uint32_t id;

	EXPECT_ERRNO(ENOENT, ct_open(self->dev, 0, CHAN_ROLE_SEND, 0, 0));
	EXPECT_ERRNO(ENOENT, ct_open(self->dev, UINT32_MAX, CHAN_ROLE_SEND,
				     0, 0));
	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &id));
	ASSERT_OK(ct_destroy(self->dev, id));
	EXPECT_ERRNO(ENOENT, ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0));
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, id, 0, &info));
}

TEST_F(open, type_tag)
{
	int fd;

	EXPECT_ERRNO(EPROTOTYPE, ct_open(self->dev, self->id, CHAN_ROLE_SEND,
					 0, ABI_TAG + 1));
	EXPECT_ERRNO(EPROTOTYPE, ct_open(self->dev, self->id, CHAN_ROLE_RECV,
					 0, ~ABI_TAG));
	fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, ABI_TAG);
	ASSERT_LE(0, fd);
	close(fd);
	/* tag 0: no check */
	fd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_F(open, untagged_channel_vs_tag)
{
	uint32_t id;
	int fd;

	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &id));
	/* a channel without a tag does not match a non-zero expected tag */
	EXPECT_ERRNO(EPROTOTYPE, ct_open(self->dev, id, CHAN_ROLE_SEND, 0,
					 ABI_TAG));
	fd = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	EXPECT_LE(0, fd);
	close(fd);
	ct_destroy(self->dev, id);
}

TEST_F(open, fd_flags)
{
	int fd;

	fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, fd);
	EXPECT_FALSE(ct_has_cloexec(fd));
	EXPECT_FALSE(ct_has_nonblock(fd));
	close(fd);

	fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, CHAN_OPEN_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(ct_has_cloexec(fd));
	EXPECT_FALSE(ct_has_nonblock(fd));
	close(fd);

	fd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, CHAN_OPEN_NONBLOCK, 0);
	ASSERT_LE(0, fd);
	EXPECT_FALSE(ct_has_cloexec(fd));
	EXPECT_TRUE(ct_has_nonblock(fd));
	close(fd);

	fd = ct_open(self->dev, self->id, CHAN_ROLE_RECV,
		     CHAN_OPEN_NONBLOCK | CHAN_OPEN_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(ct_has_cloexec(fd));
	EXPECT_TRUE(ct_has_nonblock(fd));
	close(fd);
}

/* ---- SEND / RECV arguments ---- */

FIXTURE(msg) {
	int dev;
	int chfd;
	uint32_t id;
};

FIXTURE_SETUP(msg)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, 16, 4, &self->id));
	self->chfd = ct_open(self->dev, self->id,
			     CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->chfd);
}

FIXTURE_TEARDOWN(msg)
{
	close(self->chfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

TEST_F(msg, nonzero_id_on_chan_fd)
{
	char buf[16] = "x";
	uint32_t len = sizeof(buf);
	struct chan_info info;

	EXPECT_ERRNO(EINVAL, ct_send(self->chfd, self->id, buf, 1, 0, 0));
	ASSERT_OK(ct_send(self->chfd, 0, buf, 1, 0, 0));
	EXPECT_ERRNO(EINVAL, ct_recv(self->chfd, self->id, buf, &len,
				     CHAN_MSG_NONBLOCK, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(EINVAL, ct_info(self->chfd, self->id, 0, &info));
	ASSERT_OK(ct_recv(self->chfd, 0, buf, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(1U, len);
}

TEST_F(msg, too_big)
{
	char buf[64] = { 0 };
	struct chan_info info;

	EXPECT_ERRNO(EMSGSIZE, ct_send(self->chfd, 0, buf, 17, 0, 0));
	EXPECT_ERRNO(EMSGSIZE, ct_send(self->dev, self->id, buf, 17, 0, 0));
	EXPECT_ERRNO(EMSGSIZE, ct_send(self->dev, self->id, buf, UINT32_MAX,
				       0, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(0U, info.sent);
	/* exactly msg_size and empty messages are fine */
	ASSERT_OK(ct_send(self->chfd, 0, buf, 16, 0, 0));
	ASSERT_OK(ct_send(self->dev, self->id, buf, 0, 0, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(2U, info.depth);
}

TEST_F(msg, flag_combinations)
{
	uint64_t v = 1, r;
	uint32_t len;
	int fd, i;

	for (i = 0; i < 2; i++) {
		fd = i ? self->dev : self->chfd;
		uint32_t id = i ? self->id : 0;

		EXPECT_ERRNO(EINVAL, ct_send(fd, id, &v, 8, CHAN_MSG_NONBLOCK |
					     CHAN_MSG_TIMEOUT, CT_MS));
		EXPECT_ERRNO(EINVAL, ct_send(fd, id, &v, 8, CHAN_MSG_ABSTIME,
					     0));
		EXPECT_ERRNO(EINVAL, ct_send(fd, id, &v, 8, CHAN_MSG_ABSTIME,
					     ct_now_ns() + CT_SEC));
		EXPECT_ERRNO(EINVAL, ct_send(fd, id, &v, 8, 0, CT_MS));
		EXPECT_ERRNO(EINVAL, ct_send(fd, id, &v, 8, CHAN_MSG_NONBLOCK,
					     1));
		len = 8;
		EXPECT_ERRNO(EINVAL, ct_recv(fd, id, &r, &len,
					     CHAN_MSG_NONBLOCK |
					     CHAN_MSG_TIMEOUT, CT_MS));
		len = 8;
		EXPECT_ERRNO(EINVAL, ct_recv(fd, id, &r, &len,
					     CHAN_MSG_ABSTIME, 0));
		len = 8;
		EXPECT_ERRNO(EINVAL, ct_recv(fd, id, &r, &len, 0, CT_MS));
		len = 8;
		EXPECT_ERRNO(EINVAL, ct_recv(fd, id, &r, &len,
					     CHAN_MSG_NONBLOCK, 1));
	}
	/* the valid combinations */
	ASSERT_OK(ct_send(self->chfd, 0, &v, 8, CHAN_MSG_TIMEOUT, CT_SEC));
	ASSERT_OK(ct_send(self->chfd, 0, &v, 8,
			  CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
			  ct_now_ns() + CT_SEC));
	len = 8;
	ASSERT_OK(ct_recv(self->chfd, 0, &r, &len, CHAN_MSG_TIMEOUT, CT_SEC));
	len = 8;
	ASSERT_OK(ct_recv(self->chfd, 0, &r, &len,
			  CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME,
			  ct_now_ns() + CT_SEC));
}

TEST_F(msg, unknown_id)
{
	uint64_t v = 0;
	uint32_t len = 8;

	EXPECT_ERRNO(ENOENT, ct_send(self->dev, self->id + 1000000, &v, 8,
				     CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(ENOENT, ct_recv(self->dev, UINT32_MAX, &v, &len,
				     CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(ENOENT, ct_send(self->dev, 0, &v, 8, CHAN_MSG_NONBLOCK,
				     0));
}

TEST_F(msg, bad_buffer)
{
	struct chan_info info;
	char buf[16];
	uint32_t len;

	/* send: nothing is queued when the payload cannot be read */
	EXPECT_ERRNO(EFAULT, ct_send(self->chfd, 0, ct_bad_ptr(), 8, 0, 0));
	EXPECT_ERRNO(EFAULT, ct_send(self->dev, self->id, NULL, 8, 0, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(0U, info.sent);

	/* receive: the buffer is checked first, the message stays queued */
	ASSERT_OK(ct_send(self->chfd, 0, "kept", 4, 0, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(EFAULT, ct_recv(self->chfd, 0, ct_bad_ptr(), &len,
				     CHAN_MSG_NONBLOCK, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(EFAULT, ct_recv(self->dev, self->id, NULL, &len, 0, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, info.received);
	len = sizeof(buf);
	ASSERT_OK(ct_recv(self->dev, self->id, buf, &len, CHAN_MSG_NONBLOCK,
			  0));
	EXPECT_EQ(4U, len);
	EXPECT_EQ(0, memcmp(buf, "kept", 4));
}

/* ---- DESTROY, INFO, LOOKUP arguments ---- */

FIXTURE(ctl) {
	int dev;
	uint32_t id;
	char name[CHAN_NAME_MAX];
};

FIXTURE_SETUP(ctl)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ct_name(self->name, sizeof(self->name), "ctl");
	ASSERT_OK(ct_create(self->dev, 32, 8, 0640, 0, ABI_TAG, self->name,
			    &self->id));
}

FIXTURE_TEARDOWN(ctl)
{
	if (self->id)
		ct_destroy(self->dev, self->id);
	close(self->dev);
}

TEST_F(ctl, destroy_unknown_and_twice)
{
	struct chan_info info;
	uint64_t v = 0;
	uint32_t id, len = 8;

	EXPECT_ERRNO(ENOENT, ct_destroy(self->dev, 0));
	EXPECT_ERRNO(ENOENT, ct_destroy(self->dev, UINT32_MAX));
	ASSERT_OK(ct_destroy(self->dev, self->id));
	EXPECT_ERRNO(ENOENT, ct_destroy(self->dev, self->id));
	/* every operation by ID or name now fails with ENOENT */
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, self->id, 0, &info));
	EXPECT_ERRNO(ENOENT, ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0,
				     0));
	EXPECT_ERRNO(ENOENT, ct_send(self->dev, self->id, &v, 8,
				     CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(ENOENT, ct_recv(self->dev, self->id, &v, &len,
				     CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(ENOENT, ct_lookup(self->dev, self->name, &id));
	self->id = 0;
}

TEST_F(ctl, info_by_id_and_fd)
{
	struct chan_info a, b;
	int fd;

	ASSERT_OK(ct_info(self->dev, self->id, 0, &a));
	EXPECT_EQ(self->id, a.id);
	EXPECT_EQ(0U, a.state);
	EXPECT_EQ(0U, a.chan_flags);
	EXPECT_EQ(0640U, a.mode);
	EXPECT_EQ(geteuid(), a.uid);
	EXPECT_EQ(getegid(), a.gid);
	EXPECT_EQ(32U, a.msg_size);
	EXPECT_EQ(8U, a.capacity);
	EXPECT_EQ(0U, a.depth);
	EXPECT_EQ(0U, a.senders);
	EXPECT_EQ(0U, a.receivers);
	EXPECT_EQ(ABI_TAG, a.type_tag);
	EXPECT_EQ(0U, a.sent);
	EXPECT_EQ(0U, a.received);
	EXPECT_EQ(0U, a.dropped);
	EXPECT_EQ(0U, a.discarded);
	EXPECT_EQ(0U, a.send_waits);
	EXPECT_EQ(0U, a.recv_waits);
	EXPECT_STREQ(self->name, a.name);

	fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_send(fd, 0, "abc", 3, 0, 0));
	ASSERT_OK(ct_info(fd, 0, 0, &b));
	EXPECT_EQ(self->id, b.id);
	EXPECT_EQ(1U, b.senders);
	EXPECT_EQ(1U, b.depth);
	EXPECT_EQ(1U, b.sent);
	EXPECT_STREQ(self->name, b.name);
	close(fd);
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, 0, 0, &a));
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, UINT32_MAX, 0, &a));
}

TEST_F(ctl, info_next)
{
	struct chan_info info;
	uint32_t id2;

	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &id2));
	/* from our own ID: ourselves */
	ASSERT_OK(ct_info(self->dev, self->id, CHAN_INFO_NEXT, &info));
	EXPECT_EQ(self->id, info.id);
	EXPECT_STREQ(self->name, info.name);
	/* the lowest ID at or above: never below what was asked */
	ASSERT_OK(ct_info(self->dev, 1, CHAN_INFO_NEXT, &info));
	EXPECT_LE(1U, info.id);
	EXPECT_LE(info.id, self->id < id2 ? self->id : id2);
	/* past the end */
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, UINT32_MAX, CHAN_INFO_NEXT,
				     &info));
	ASSERT_OK(ct_destroy(self->dev, id2));
}

TEST_F(ctl, lookup)
{
	char name[CHAN_NAME_MAX];
	uint32_t id = 0;

	ASSERT_OK(ct_lookup(self->dev, self->name, &id));
	EXPECT_EQ(self->id, id);
	ct_name(name, sizeof(name), "no-such-channel");
	EXPECT_ERRNO(ENOENT, ct_lookup(self->dev, name, &id));
	/* a prefix of a name is a different name */
	memcpy(name, self->name, sizeof(name));
	name[strlen(name) - 1] = 0;
	EXPECT_ERRNO(ENOENT, ct_lookup(self->dev, name, &id));
}

CT_HARNESS_MAIN
