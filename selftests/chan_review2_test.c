// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests from a security review of byte-stream channels
 * (CHAN_CREATE_STREAM), the attacker being any local user who may read
 * or write a stream.
 *
 * A reader is stalled inside its copy-out with a userfaultfd page (a
 * local user can do the same with a FUSE mapping in its own user
 * namespace): it then holds the stream's readers' mutex for as long as
 * it likes.
 *
 *  - destroy_ends_reader_waiting_for_turn: a blocking reader waiting for
 *    the stalled one's turn to end is not on the channel's wait queue, so
 *    a DESTROY does not reach it: it stays blocked until the stall ends
 *    (for ever, if the attacker wishes), and then may even take bytes of
 *    the destroyed channel. DESTROY must end every wait with EIDRM.
 *  - stalled_read_stops_at_destroy: the stalled reader, once its page
 *    comes, went on taking whole writes that were queued when the channel
 *    was destroyed, so INFO's count of discarded writes went down after
 *    the destroy (they turned into received ones). A read may finish the
 *    write it was copying, and take no other.
 *  - fionread_after_destroy: FIONREAD went on counting the bytes of a
 *    destroyed stream, which no read can take (EIDRM) and INFO counts as
 *    discarded (depth 0).
 *
 * Attacks that fail, pinned down:
 *  - fault_at_page_edge_loses_nothing: reads (read(2), readv(2) with a bad
 *    iovec in the middle, RECV with a huge length, RECV into a kernel
 *    address) whose copy faults part way return what they copied, and
 *    every other byte stays queued, in order.
 *  - signal_while_waiting_for_turn: a reader waiting for the turn is
 *    interrupted by a signal (EINTR without SA_RESTART) and loses nothing.
 *  - stalled_writer_holds_up_no_one: a writer stalled in its copy-in
 *    (writes larger than the kernel's stack buffer, so the endpoint's
 *    bounce buffer is held) holds no slot and no lock: another write on
 *    the same fd and reads go on, a DESTROY meanwhile fails the stalled
 *    write with EIDRM once its page comes, and it publishes nothing.
 */
#include "chan_test_util.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <linux/userfaultfd.h>

#define WAIT_MS		20000
#define MSG		64U	/* the fixture's atomic size */
#define CAP		8U

FIXTURE(rv) {
	int dev;
	mode_t dev_mode;
	uint32_t id;
	int sfd, rfd;
	bool destroyed;
};

FIXTURE_SETUP(rv)
{
	char name[CHAN_NAME_MAX];

	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ct_name(name, sizeof(name), "review2");
	ASSERT_OK(ct_create(self->dev, MSG, CAP, 0666, CHAN_CREATE_STREAM, 0,
			    name, &self->id));
	ASSERT_OK(ct_open_pair(self->dev, self->id, &self->sfd, &self->rfd));
	signal(SIGPIPE, SIG_IGN);
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(rv)
{
	ct_dev_restore(self->dev_mode);
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->rfd >= 0)
		close(self->rfd);
	if (!self->destroyed)
		ct_destroy(self->dev, self->id);
	close(self->dev);
}

static int fionread(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n))
		return -errno;
	return n;
}

/* ---- a reader stalled in its copy-out ---- */

struct reader {
	int fd;
	void *buf;
	size_t len;
	ssize_t got;
	int err;
	atomic_int done;
};

static void *reader_fn(void *p)
{
	struct reader *r = p;

	r->got = read(r->fd, r->buf, r->len);
	r->err = r->got < 0 ? errno : 0;
	atomic_store(&r->done, 1);
	return NULL;
}

/* Wait up to ms for r to finish its read. */
static bool reader_done_within(struct reader *r, unsigned int ms)
{
	unsigned int t;

	for (t = 0; t < ms; t += 10) {
		if (atomic_load(&r->done))
			return true;
		ct_sleep_ms(10);
	}
	return atomic_load(&r->done);
}

struct stall {
	int uffd;
	void *page;
};

/* A page whose first touch waits for us; -1 if there is no userfaultfd. */
static int stall_setup(struct stall *s)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	s->uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC);
	if (s->uffd < 0)
		return -1;
	if (ioctl(s->uffd, UFFDIO_API, &api))
		return -1;
	s->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->page == MAP_FAILED)
		return -1;
	reg.range.start = (uintptr_t)s->page;
	reg.range.len = 4096;
	return ioctl(s->uffd, UFFDIO_REGISTER, &reg);
}

/* Wait for the fault: the reader is inside its copy. */
static int stall_wait(struct stall *s)
{
	struct pollfd pfd = { .fd = s->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, WAIT_MS) != 1)
		return -1;
	if (read(s->uffd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		return -1;
	return msg.event == UFFD_EVENT_PAGEFAULT ? 0 : -1;
}

/* Let the page come: the stalled copy goes on. */
static int stall_release(struct stall *s)
{
	static char zero[4096];
	struct uffdio_copy copy = {
		.dst = (uintptr_t)s->page,
		.src = (uintptr_t)zero,
		.len = 4096,
	};

	return ioctl(s->uffd, UFFDIO_COPY, &copy);
}

static void stall_free(struct stall *s)
{
	munmap(s->page, 4096);
	close(s->uffd);
}

TEST_F(rv, destroy_ends_reader_waiting_for_turn)
{
	struct reader r1 = { .fd = self->rfd, .len = 8 };
	struct reader r2 = { .fd = self->rfd, .len = 16 };
	char buf2[16];
	pthread_t t1, t2;
	struct stall s;
	bool ended;

	if (stall_setup(&s))
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	r1.buf = s.page;
	r2.buf = buf2;
	ASSERT_EQ(8, write(self->sfd, "stall-me", 8));
	ASSERT_EQ(4, write(self->sfd, "tail", 4));
	ASSERT_EQ(0, pthread_create(&t1, NULL, reader_fn, &r1));
	ASSERT_OK(stall_wait(&s));
	/* A second reader: bytes are queued, but it is not its turn. */
	ASSERT_EQ(0, pthread_create(&t2, NULL, reader_fn, &r2));
	ct_sleep_ms(200);
	EXPECT_FALSE(atomic_load(&r2.done));

	ASSERT_OK(ct_destroy(self->dev, self->id));
	self->destroyed = true;
	ended = reader_done_within(&r2, 3000);
	EXPECT_TRUE(ended) {
		TH_LOG("a reader waiting for its turn outlives DESTROY");
	}

	/* Let the stall end in any case, so both threads can be joined. */
	ASSERT_OK(stall_release(&s));
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	EXPECT_EQ(8, r1.got);
	/* Never a byte of the destroyed channel for the second reader. */
	EXPECT_EQ(-1, r2.got) {
		TH_LOG("second reader got %zd bytes after DESTROY", r2.got);
	}
	EXPECT_EQ(EIDRM, r2.err);
	stall_free(&s);
}

TEST_F(rv, stalled_read_stops_at_destroy)
{
	struct reader r1 = { .fd = self->rfd, .len = 64 };
	struct chan_info info;
	pthread_t t1;
	struct stall s;

	if (stall_setup(&s))
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	r1.buf = s.page;
	ASSERT_EQ(8, write(self->sfd, "stall-me", 8));
	ASSERT_EQ(3, write(self->sfd, "abc", 3));
	ASSERT_EQ(0, pthread_create(&t1, NULL, reader_fn, &r1));
	ASSERT_OK(stall_wait(&s));

	ASSERT_OK(ct_destroy(self->dev, self->id));
	self->destroyed = true;
	memset(&info, 0, sizeof(info));
	ASSERT_OK(ct_info(self->rfd, 0, 0, &info));
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(2U, info.discarded);
	EXPECT_EQ(0U, info.depth);

	ASSERT_OK(stall_release(&s));
	pthread_join(t1, NULL);
	EXPECT_EQ(0, r1.err);
	/* The write it was copying, and not the one after it. */
	EXPECT_EQ(8, r1.got) {
		TH_LOG("a read took %zd bytes across a DESTROY", r1.got);
	}
	EXPECT_EQ(0, memcmp(s.page, "stall-me", 8));
	memset(&info, 0, sizeof(info));
	ASSERT_OK(ct_info(self->rfd, 0, 0, &info));
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(1U, info.received);
	EXPECT_EQ(1U, info.discarded);
	EXPECT_EQ(info.sent, info.received + info.dropped + info.discarded +
			     info.depth);
	stall_free(&s);
}

TEST_F(rv, fionread_after_destroy)
{
	struct chan_info info;
	char buf[8];

	ASSERT_EQ(5, write(self->sfd, "hello", 5));
	EXPECT_EQ(5, fionread(self->rfd));
	ASSERT_OK(ct_destroy(self->dev, self->id));
	self->destroyed = true;
	memset(&info, 0, sizeof(info));
	ASSERT_OK(ct_info(self->rfd, 0, 0, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(1U, info.discarded);
	EXPECT_ERRNO(EIDRM, read(self->rfd, buf, sizeof(buf)));
	/* Nothing can be read: FIONREAD says so, as INFO does. */
	EXPECT_EQ(0, fionread(self->rfd));
}

/* ---- faulting copies ---- */

/* Bytes i of the test pattern. */
static unsigned char pat(unsigned int i)
{
	return (unsigned char)(i * 7 + 3);
}

TEST_F(rv, fault_at_page_edge_loses_nothing)
{
	unsigned char src[3 * MSG], got[4 * MSG], *map, *edge;
	unsigned int i, have = 0;
	struct iovec iov[3];
	uint32_t len;
	ssize_t n;

	for (i = 0; i < sizeof(src); i++)
		src[i] = pat(i);
	/* Three writes of the atomic size. */
	ASSERT_EQ((ssize_t)sizeof(src), write(self->sfd, src, sizeof(src)));
	EXPECT_EQ((int)sizeof(src), fionread(self->rfd));
	map = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + 4096, 4096, PROT_NONE));

	/* read(2): 40 bytes fit before the unmapped page; a write is 64. */
	edge = map + 4096 - 40;
	n = read(self->rfd, edge, sizeof(src));
	ASSERT_EQ(40, n);
	memcpy(got + have, edge, 40);
	have += 40;
	EXPECT_EQ((int)(sizeof(src) - have), fionread(self->rfd));

	/* RECV by fd with a length of 4 GiB - 1: 100 bytes fit. */
	edge = map + 4096 - 100;
	len = UINT32_MAX;
	EXPECT_OK(ct_recv(self->rfd, 0, edge, &len, 0, 0));
	EXPECT_EQ(100U, len);
	memcpy(got + have, edge, 100);
	have += 100;

	/* RECV by ID into a kernel address: EFAULT, nothing taken. */
	len = 8;
	EXPECT_ERRNO(EFAULT, ct_recv(self->dev, self->id,
				     (void *)0xffff888000000000ULL, &len, 0,
				     0));
	EXPECT_EQ((int)(sizeof(src) - have), fionread(self->rfd));

	/* readv(2): 10 bytes, then a bad iovec, then a good one. */
	iov[0] = (struct iovec){ .iov_base = got + have, .iov_len = 10 };
	iov[1] = (struct iovec){ .iov_base = map + 4096, .iov_len = 10 };
	iov[2] = (struct iovec){ .iov_base = map, .iov_len = 10 };
	n = readv(self->rfd, iov, 3);
	ASSERT_EQ(10, n);
	have += 10;

	/* The rest, in order. */
	n = read(self->rfd, got + have, sizeof(got) - have);
	ASSERT_EQ((ssize_t)(sizeof(src) - have), n);
	have += n;
	ASSERT_EQ(sizeof(src), have);
	EXPECT_EQ(0, memcmp(src, got, sizeof(src)));
	EXPECT_EQ(0, fionread(self->rfd));
	munmap(map, 2 * 4096);
}

/* ---- signals ---- */

static void on_usr1(int sig)
{
	(void)sig;
}

TEST_F(rv, signal_while_waiting_for_turn)
{
	struct reader r1 = { .fd = self->rfd, .len = 8 };
	struct reader r2 = { .fd = self->rfd, .len = 16 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	char buf2[16];
	pthread_t t1, t2;
	struct stall s;
	bool ended;

	if (stall_setup(&s))
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	/* No SA_RESTART: the interrupted read fails with EINTR. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	r1.buf = s.page;
	r2.buf = buf2;
	ASSERT_EQ(8, write(self->sfd, "stall-me", 8));
	ASSERT_EQ(4, write(self->sfd, "tail", 4));
	ASSERT_EQ(0, pthread_create(&t1, NULL, reader_fn, &r1));
	ASSERT_OK(stall_wait(&s));
	ASSERT_EQ(0, pthread_create(&t2, NULL, reader_fn, &r2));
	ct_sleep_ms(200);
	EXPECT_FALSE(atomic_load(&r2.done));
	ASSERT_EQ(0, pthread_kill(t2, SIGUSR1));
	ended = reader_done_within(&r2, 3000);
	EXPECT_TRUE(ended);
	if (!ended) {
		ASSERT_OK(stall_release(&s));
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		stall_free(&s);
		return;
	}
	pthread_join(t2, NULL);
	EXPECT_EQ(-1, r2.got);
	EXPECT_EQ(EINTR, r2.err);
	EXPECT_EQ(12, fionread(self->rfd));

	ASSERT_OK(stall_release(&s));
	pthread_join(t1, NULL);
	EXPECT_EQ(8, r1.got);
	EXPECT_EQ(0, memcmp(s.page, "stall-me", 8));
	ASSERT_EQ(4, read(self->rfd, buf2, sizeof(buf2)));
	EXPECT_EQ(0, memcmp(buf2, "tail", 4));
	signal(SIGUSR1, SIG_DFL);
	stall_free(&s);
}

/* ---- a writer stalled in its copy-in ---- */

struct writer {
	int fd;
	const void *buf;
	size_t len;
	ssize_t got;
	int err;
	atomic_int done;
};

static void *writer_fn(void *p)
{
	struct writer *w = p;

	w->got = write(w->fd, w->buf, w->len);
	w->err = w->got < 0 ? errno : 0;
	atomic_store(&w->done, 1);
	return NULL;
}

TEST_F(rv, stalled_writer_holds_up_no_one)
{
	enum { BIG = 1024, PIECE = 512 };
	struct writer w = { .len = PIECE };
	unsigned char out[PIECE], in[BIG];
	struct chan_info info;
	int s2, r2, i;
	uint32_t id2;
	struct stall s;
	pthread_t t;

	if (stall_setup(&s))
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	ASSERT_OK(ct_create(self->dev, BIG, 4, 0600, CHAN_CREATE_STREAM, 0,
			    NULL, &id2));
	ASSERT_OK(ct_open_pair(self->dev, id2, &s2, &r2));
	w.fd = s2;
	w.buf = s.page;
	ASSERT_EQ(0, pthread_create(&t, NULL, writer_fn, &w));
	ASSERT_OK(stall_wait(&s));

	/* Same fd, same size: the bounce buffer is busy, not a lock. */
	for (i = 0; i < PIECE; i++)
		out[i] = pat(i);
	ASSERT_EQ(PIECE, write(s2, out, PIECE));
	ASSERT_EQ(PIECE, read(r2, in, sizeof(in)));
	EXPECT_EQ(0, memcmp(out, in, PIECE));
	EXPECT_FALSE(atomic_load(&w.done));

	ASSERT_OK(ct_destroy(self->dev, id2));
	ASSERT_OK(stall_release(&s));
	pthread_join(t, NULL);
	EXPECT_EQ(-1, w.got);
	EXPECT_EQ(EIDRM, w.err);
	memset(&info, 0, sizeof(info));
	ASSERT_OK(ct_info(r2, 0, 0, &info));
	EXPECT_EQ(1U, info.sent);
	EXPECT_EQ(1U, info.received);
	EXPECT_EQ(0U, info.discarded);
	close(s2);
	close(r2);
	stall_free(&s);
}

CT_HARNESS_MAIN
