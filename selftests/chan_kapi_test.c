// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel API (docs/kernel-api.md) through its example module,
 * chan_example.ko (kmod/examples/): a kthread produces numbered messages
 * on "chan_example.out" that we receive in order; we send numbered
 * messages on "chan_example.in" that its other kthread counts. Each test
 * loads the module ($CHAN_KAPI_DIR, default /opt/chan/kapi, which
 * scripts/check.sh fills with the modules built for the kernel under test)
 * and unloads it, which must work however the kthreads are blocked. And
 * the attacker's side: user space that may reach a kernel user's channel
 * (a full ring, a destroy, a short or out-of-order message, a hostile
 * mapper scribbling over the ring) must not wedge or crash it.
 */
#include <limits.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "chan_test_util.h"
#include "chan_ring.h"

#define EX_MOD		"chan_example"
#define EX_PARAMS	"/sys/module/" EX_MOD "/parameters/"
#define EX_OUT		"chan_example.out"
#define EX_IN		"chan_example.in"
#define EX_MAGIC	0x6368616eU
#define EX_WAIT_MS	20000

/* The example's message, struct chan_example_msg. */
struct ex_msg {
	uint64_t seq;
	uint32_t magic;
	uint32_t pad;
};

static const char *ex_path(char *buf, size_t len)
{
	const char *dir = getenv("CHAN_KAPI_DIR");

	snprintf(buf, len, "%s/" EX_MOD ".ko",
		 dir && *dir ? dir : "/opt/chan/kapi");
	return buf;
}

static int ex_load(const char *params)
{
	char path[256];
	int fd, ret;

	fd = open(ex_path(path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

static bool ex_loaded(void)
{
	return access("/sys/module/" EX_MOD, F_OK) == 0;
}

static int ex_unload(void)
{
	return syscall(SYS_delete_module, EX_MOD, O_NONBLOCK);
}

/* A parameter of the example as a signed number; LLONG_MIN if unreadable. */
static long long ex_param(const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), EX_PARAMS "%s", name);
	if (ct_read_text(path, buf, sizeof(buf)))
		return LLONG_MIN;
	return strtoll(buf, NULL, 0);
}

/* Wait until parameter @name is at least @min (or exactly, if @exact). */
static long long ex_wait_param(const char *name, long long min, bool exact)
{
	uint64_t end = ct_now_ns() + EX_WAIT_MS * CT_MS;
	long long v;

	for (;;) {
		v = ex_param(name);
		if (exact ? v == min : v >= min)
			return v;
		if (ct_now_ns() > end)
			return v;
		ct_sleep_ms(10);
	}
}

/* Wait until a parameter is non-zero (an error code was kept). */
static long long ex_wait_nonzero(const char *name)
{
	uint64_t end = ct_now_ns() + EX_WAIT_MS * CT_MS;
	long long v;

	while (!(v = ex_param(name)) && ct_now_ns() < end)
		ct_sleep_ms(10);
	return v;
}

struct ex_state {
	int dev;
	uint32_t out_id, in_id;
};

/* Load the example with @params and find its channels. */
static void ex_setup(struct __test_metadata *_metadata, struct ex_state *st,
		     const char *params)
{
	char path[256];

	st->dev = -1;
	/* Not a skip: check.sh always provides the module. */
	ASSERT_EQ(0, access(ex_path(path, sizeof(path)), R_OK))
		TH_LOG("%s missing: scripts/check.sh adds it (--add)", path);
	if (ex_loaded())
		ASSERT_EQ(0, ex_unload());
	ASSERT_EQ(0, ex_load(params))
		TH_LOG("loading %s: %s", path, strerror(errno));
	st->dev = ct_dev_open();
	ASSERT_LE(0, st->dev);
	ASSERT_OK(ct_lookup(st->dev, EX_OUT, &st->out_id));
	ASSERT_OK(ct_lookup(st->dev, EX_IN, &st->in_id));
}

/* Unload it: however its kthreads are blocked, that stops them. */
static void ex_teardown(struct __test_metadata *_metadata,
			struct ex_state *st)
{
	uint64_t t0 = ct_now_ns();
	uint32_t id;

	if (st->dev >= 0)
		close(st->dev);
	if (ex_loaded()) {
		EXPECT_EQ(0, ex_unload()) TH_LOG("rmmod: %s", strerror(errno));
		EXPECT_LT(ct_now_ns() - t0, 5 * CT_SEC);
	}
	EXPECT_FALSE(ex_loaded());
	/* And its channels went with it. */
	st->dev = ct_dev_open();
	if (st->dev >= 0) {
		EXPECT_ERRNO(ENOENT, ct_lookup(st->dev, EX_OUT, &id));
		EXPECT_ERRNO(ENOENT, ct_lookup(st->dev, EX_IN, &id));
		close(st->dev);
	}
}

FIXTURE(kapi) {
	struct ex_state st;
	int dev;
	uint32_t out_id, in_id;
};

FIXTURE_SETUP(kapi)
{
	ex_setup(_metadata, &self->st, "capacity=16");
	self->dev = self->st.dev;
	self->out_id = self->st.out_id;
	self->in_id = self->st.in_id;
}

FIXTURE_TEARDOWN(kapi)
{
	ex_teardown(_metadata, &self->st);
}

/* The same example with its channels mappable (the fast path's). */
FIXTURE(kapi_mapped) {
	struct ex_state st;
	int dev;
	uint32_t out_id, in_id;
};

FIXTURE_SETUP(kapi_mapped)
{
	ex_setup(_metadata, &self->st, "capacity=16 mappable=1");
	self->dev = self->st.dev;
	self->out_id = self->st.out_id;
	self->in_id = self->st.in_id;
}

FIXTURE_TEARDOWN(kapi_mapped)
{
	ex_teardown(_metadata, &self->st);
}

/* The kthread's messages arrive in order, typed as it declared. */
TEST_F(kapi, kthread_to_user)
{
	struct chan_info info;
	struct ex_msg m;
	uint32_t i, len;
	int fd;

	ASSERT_OK(ct_info(self->dev, self->out_id, 0, &info));
	EXPECT_EQ(sizeof(m), (size_t)info.msg_size);
	EXPECT_NE(0ULL, info.type_tag);
	EXPECT_EQ(0U, info.uid);		/* created by module init: root's */
	EXPECT_ERRNO(EPROTOTYPE, ct_open(self->dev, self->out_id,
					 CHAN_ROLE_RECV, 0,
					 info.type_tag ^ 1));
	fd = ct_open(self->dev, self->out_id, CHAN_ROLE_RECV, 0,
		     info.type_tag);
	ASSERT_LE(0, fd);
	for (i = 0; i < 500; i++) {
		len = sizeof(m);
		ASSERT_OK(ct_recv(fd, 0, &m, &len, CHAN_MSG_TIMEOUT,
				  EX_WAIT_MS * CT_MS));
		ASSERT_EQ(sizeof(m), len);
		ASSERT_EQ(i, m.seq);
		ASSERT_EQ(EX_MAGIC, m.magic);
	}
	EXPECT_LE(500, ex_param("sent"));
	EXPECT_EQ(0, ex_param("producer_err"));
	close(fd);
	/* Its receiver gone, the producer meets EPIPE and waits for another. */
	EXPECT_LE(1, ex_wait_param("disconnects", 1, false));
	EXPECT_EQ(0, ex_param("producer_err"));
}

/* The same on a mappable channel, through the kernel's path. */
TEST_F(kapi_mapped, kthread_to_user)
{
	struct ex_msg m;
	uint32_t i, len;
	int fd;

	fd = ct_open(self->dev, self->out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	for (i = 0; i < 100; i++) {
		len = sizeof(m);
		ASSERT_OK(ct_recv(fd, 0, &m, &len, CHAN_MSG_TIMEOUT,
				  EX_WAIT_MS * CT_MS));
		ASSERT_EQ(i, m.seq);
	}
	close(fd);
}

/* Our messages reach the kthread; our leaving is EPIPE to it. */
TEST_F(kapi, user_to_kthread)
{
	struct ex_msg m = { .magic = EX_MAGIC };
	int fd;

	fd = ct_open(self->dev, self->in_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, fd);
	for (m.seq = 0; m.seq < 300; m.seq++)
		ASSERT_OK(ct_send(fd, 0, &m, sizeof(m), CHAN_MSG_TIMEOUT,
				  EX_WAIT_MS * CT_MS));
	EXPECT_EQ(300, ex_wait_param("received", 300, true));
	EXPECT_EQ(0, ex_param("errors"));
	close(fd);
	EXPECT_LE(1, ex_wait_param("disconnects", 1, false));
	EXPECT_EQ(0, ex_param("consumer_err"));
	/* A new sender reconnects. */
	fd = ct_open(self->dev, self->in_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_send(fd, 0, &m, sizeof(m), 0, 0));
	EXPECT_EQ(301, ex_wait_param("received", 301, true));
	close(fd);
}

/* Hostile input: a short message and a wrong sequence are counted. */
TEST_F(kapi, bad_messages)
{
	struct ex_msg m = { .seq = 0, .magic = EX_MAGIC };
	int fd;

	fd = ct_open(self->dev, self->in_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_send(fd, 0, &m, 3, 0, 0));		/* short */
	m.seq = 7;
	ASSERT_OK(ct_send(fd, 0, &m, sizeof(m), 0, 0));	/* out of order */
	m.seq = 8;
	m.magic = 0;
	ASSERT_OK(ct_send(fd, 0, &m, sizeof(m), 0, 0));	/* bad magic */
	m.seq = 9;
	m.magic = EX_MAGIC;
	ASSERT_OK(ct_send(fd, 0, &m, sizeof(m), 0, 0));	/* in order again */
	EXPECT_EQ(1, ex_wait_param("received", 1, true));
	EXPECT_EQ(3, ex_param("errors"));
	EXPECT_EQ(0, ex_param("consumer_err"));
	close(fd);
}

/*
 * Nobody receives: the producer fills the ring and blocks; nobody sends:
 * the consumer blocks. The teardown's unload must still stop both.
 */
TEST_F(kapi, unload_while_blocked)
{
	struct chan_info info;
	uint64_t v = 0;
	uint32_t len = sizeof(v);
	int fd;

	EXPECT_EQ(16, ex_wait_param("sent", 16, true));
	ASSERT_OK(ct_info(self->dev, self->out_id, 0, &info));
	EXPECT_EQ(16U, info.depth);
	/* Stays blocked: the ring is full and stays so. */
	ct_sleep_ms(200);
	EXPECT_EQ(16, ex_param("sent"));
	EXPECT_EQ(0, ex_param("producer_err"));
	EXPECT_EQ(0, ex_param("consumer_err"));
	/* An fd we keep across the unload sees the channel destroyed. */
	fd = ct_open(self->dev, self->in_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ex_unload());
	EXPECT_ERRNO(EIDRM, ct_recv(fd, 0, &v, &len, 0, 0));
	close(fd);
}

/* The owner (root) destroys the kernel's channels: EIDRM to the kthreads. */
TEST_F(kapi, destroy_under_kthreads)
{
	EXPECT_EQ(16, ex_wait_param("sent", 16, true));
	ASSERT_OK(ct_destroy(self->dev, self->out_id));
	ASSERT_OK(ct_destroy(self->dev, self->in_id));
	EXPECT_EQ(-EIDRM, ex_wait_nonzero("producer_err"));
	EXPECT_EQ(-EIDRM, ex_wait_nonzero("consumer_err"));
}

/*
 * A mapper scribbles over the ring the consumer kthread waits on: every
 * slot claimed by a stranger, far in the future. The kthread's receive
 * ends with EIO (bounded retries), never hangs or crashes, and the
 * module still unloads.
 */
TEST_F(kapi_mapped, hostile_mapper)
{
	struct chan_ring_hdr *hdr;
	struct chan_info info;
	size_t size;
	unsigned char *ring;
	uint32_t i, slot;
	int fd;

	ASSERT_OK(ct_info(self->dev, self->in_id, 0, &info));
	slot = chan_ring_slot_size(info.msg_size);
	size = (CHAN_RING_HDR_SIZE + (size_t)info.capacity * slot + 4095) &
	       ~(size_t)4095;
	fd = ct_open(self->dev, self->in_id,
		     CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	ring = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ring) TH_LOG("mmap: %s", strerror(errno));
	hdr = (struct chan_ring_hdr *)ring;
	ASSERT_EQ(CHAN_RING_HDR_SIZE, (int)hdr->slots_offset);
	for (i = 0; i < info.capacity; i++) {
		struct chan_slot *s = (struct chan_slot *)
			(ring + hdr->slots_offset + (size_t)i * slot);

		__atomic_store_n(&s->state,
				 chan_slot_state(1ULL << 40, CHAN_SLOT_FULL,
						 9), __ATOMIC_RELEASE);
		s->len = UINT32_MAX;
	}
	__atomic_store_n(&hdr->tail, UINT64_MAX / 2, __ATOMIC_RELEASE);
	/* Wake the consumer (it sleeps on an empty ring) to look. */
	{
		struct chan_wake w = {
			.size = sizeof(w), .id = self->in_id,
			.roles = CHAN_ROLE_RECV,
		};

		ASSERT_EQ(0, ioctl(self->dev, CHAN_IOC_WAKE, &w));
	}
	EXPECT_EQ(-EIO, ex_wait_nonzero("consumer_err"));
	EXPECT_EQ(0, ex_param("received"));
	munmap(ring, size);
	close(fd);
}

TEST_HARNESS_MAIN
