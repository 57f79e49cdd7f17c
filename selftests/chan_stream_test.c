// SPDX-License-Identifier: GPL-2.0
/*
 * CHAN_CREATE_STREAM: byte-stream channels, like pipes with an ID. Checked
 * here:
 *  - what CREATE accepts (STREAM alone or with AUTODESTROY or MAPPABLE)
 *    and refuses (with CRC32C: EINVAL), and the feature bit;
 *  - byte-exact transfer of position-keyed random data through write(2)
 *    and read(2) of many sizes, for several atomic sizes and capacities,
 *    one writer and one reader;
 *  - N writers and M readers: writes of whole records (at most the atomic
 *    size) are never interleaved: every record arrives intact, once, in
 *    each writer's order as each reader sees it; and with writes and reads
 *    of any size, every byte arrives once (counts and sums);
 *  - partial reads: the rest of a write stays, in order, for the next
 *    read, and a read spans writes; FIONREAD, INFO (counts writes) and
 *    fdinfo (bytes); readv/writev;
 *  - a read into memory that faults takes nothing;
 *  - the end of the stream: read(2) 0, RECV EPIPE, by ID only once closed;
 *    writers get EPIPE once no reader is left;
 *  - poll, non-blocking calls, timeouts, a blocked reader woken by a byte;
 *  - SEND/RECV by fd and by ID, EMSGSIZE beyond the atomic size, empty
 *    writes, and EOPNOTSUPP from batches and CALL;
 *  - an unprivileged user, by the permission bits;
 *  - destroy while readers and writers are blocked: EIDRM for all;
 *  - a reader stalled inside its copy (a userfaultfd page) holds up no
 *    one but the stream's other blocking readers: non-blocking reads get
 *    EAGAIN, FIONREAD, writes, INFO and other channels go on; timed
 *    reads (by fd and by ID) waiting for its turn end at their deadline,
 *    a blocking one at a signal, and none takes a byte;
 *  - while a reader holds the turn, poll reports neither POLLIN nor
 *    POLLHUP (a read would wait, or get EAGAIN); a poller sleeps until the
 *    turn ends, then hears POLLIN for the bytes left, or POLLHUP for an
 *    ended stream the holder drained.
 */
#include "chan_test_util.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/userfaultfd.h>
#include <libchan.h>

#define WAIT_MS		20000
#define MSG		64U	/* the fixture's atomic size */
#define CAP		4U

FIXTURE(st) {
	int dev;
	mode_t dev_mode;
	uint32_t id;
	int sfd, rfd;
	pid_t pid[CT_MAX_CHILDREN];
};

static int st_create(int dev, uint32_t msg_size, uint32_t capacity,
		     uint32_t mode, uint32_t flags, uint32_t *id)
{
	static unsigned int n;
	char name[CHAN_NAME_MAX], what[32];

	/* Several streams at once in one process: a name each. */
	snprintf(what, sizeof(what), "stream%u", n++);
	ct_name(name, sizeof(name), what);
	return ct_create(dev, msg_size, capacity, mode,
			 CHAN_CREATE_STREAM | flags, 0, name, id);
}

FIXTURE_SETUP(st)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(st_create(self->dev, MSG, CAP, 0666, 0, &self->id));
	ASSERT_OK(ct_open_pair(self->dev, self->id, &self->sfd, &self->rfd));
	signal(SIGPIPE, SIG_IGN);
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(st)
{
	ct_dev_restore(self->dev_mode);
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->rfd >= 0)
		close(self->rfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

/* ---- data ---- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The byte at position pos of stream seed. */
static unsigned char byte_at(uint64_t seed, uint64_t pos)
{
	return (unsigned char)(mix64(seed * 0x100000001b3ULL ^ pos) >> 56);
}

/* A small PRNG for sizes. */
static uint32_t rnd(uint64_t *s, uint32_t lo, uint32_t hi)
{
	*s = mix64(*s);
	return lo + (uint32_t)(*s % (hi - lo + 1));
}

/* sent = received + dropped + discarded + depth */
static bool st_balanced(const struct chan_info *i)
{
	return i->sent == i->received + i->dropped + i->discarded + i->depth;
}

static int st_info(int dev, uint32_t id, struct chan_info *info)
{
	memset(info, 0, sizeof(*info));
	return ct_info(dev, id, 0, info);
}

/* An fdinfo field of fd, or -1. */
static long long fdinfo_field(int fd, const char *key)
{
	char path[64], line[256];
	long long v = -1;
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* ---- CREATE ---- */

TEST_F(st, create_flags)
{
	struct chan_create c = { .size = sizeof(c), .msg_size = 8,
				 .capacity = 2 };
	struct chan_info info;
	uint32_t id;

	c.flags = CHAN_CREATE_STREAM;
	ASSERT_OK(ct_create_raw(self->dev, &c));
	EXPECT_NE(0ULL, c.out_features & CHAN_FEAT_STREAM);
	ASSERT_OK(st_info(self->dev, c.out_id, &info));
	EXPECT_EQ(CHAN_CREATE_STREAM, info.chan_flags);
	EXPECT_OK(ct_destroy(self->dev, c.out_id));

	EXPECT_OK(st_create(self->dev, 8, 2, 0600, CHAN_CREATE_AUTODESTROY,
			    &id));
	EXPECT_OK(ct_destroy(self->dev, id));
	/* Mappable (chan_streammap_test), not checked (yet). */
	ASSERT_OK(st_create(self->dev, 8, 2, 0600, CHAN_CREATE_MAPPABLE, &id));
	ASSERT_OK(st_info(self->dev, id, &info));
	EXPECT_EQ(CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE, info.chan_flags);
	EXPECT_OK(ct_destroy(self->dev, id));
	EXPECT_ERRNO(EINVAL, st_create(self->dev, 8, 2, 0600,
				       CHAN_CREATE_CRC32C, &id));
	EXPECT_ERRNO(EINVAL, st_create(self->dev, 8, 2, 0600,
				       CHAN_CREATE_MAPPABLE |
				       CHAN_CREATE_CRC32C, &id));
	/* An unknown bit next to it is still unknown. */
	EXPECT_ERRNO(EOPNOTSUPP, st_create(self->dev, 8, 2, 0600,
					   1U << 30, &id));
}

/* ---- one writer, one reader, byte-exact ---- */

struct xfer_arg {
	int dev;
	uint32_t id;
	uint64_t seed;		/* data */
	uint64_t sizes;		/* sizes of writes */
	uint64_t total;
	uint32_t wmax;		/* largest write */
	int err;		/* first failure: errno, or -1 for bad data */
	uint64_t bad_pos;
};

static void *writer_main(void *p)
{
	struct xfer_arg *a = p;
	uint64_t pos = 0, s = a->sizes;
	unsigned char *buf = malloc(a->wmax);
	int fd = ct_open(a->dev, a->id, CHAN_ROLE_SEND, 0, 0);
	uint32_t n, i;
	ssize_t w;

	if (fd < 0 || !buf) {
		a->err = fd < 0 ? errno : ENOMEM;
		free(buf);
		return NULL;
	}
	while (pos < a->total) {
		n = rnd(&s, 1, a->wmax);
		if (n > a->total - pos)
			n = (uint32_t)(a->total - pos);
		for (i = 0; i < n; i++)
			buf[i] = byte_at(a->seed, pos + i);
		w = write(fd, buf, n);
		if (w != (ssize_t)n) {
			/* A blocking write writes everything or fails. */
			a->err = w < 0 ? errno : -2;
			break;
		}
		pos += n;
	}
	close(fd);	/* the end of the stream */
	free(buf);
	return NULL;
}

/* Read until the end of the stream, checking every byte's position. */
static void reader_check(struct xfer_arg *a, int fd, uint32_t rmax,
			 uint64_t *got)
{
	uint64_t pos = 0, s = a->sizes ^ 0x5555;
	unsigned char *buf = malloc(rmax);
	ssize_t n, i;

	if (!buf) {
		a->err = ENOMEM;
		return;
	}
	for (;;) {
		n = read(fd, buf, rnd(&s, 1, rmax));
		if (n < 0) {
			a->err = errno;
			break;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (buf[i] != byte_at(a->seed, pos + i)) {
				a->err = -1;
				a->bad_pos = pos + i;
				goto out;
			}
		}
		pos += n;
	}
out:
	*got = pos;
	free(buf);
}

/*
 * The one-slot and one-byte rings make a round trip per write: slow under
 * TCG on a loaded host, hence the time limit well above the default 30 s.
 */
TEST_F_TIMEOUT(st, byte_exact_one_to_one, 180)
{
	static const struct { uint32_t msg, cap; } cfg[] = {
		{ 1, 1 }, { 7, 4 }, { 64, 4 }, { 64, 64 }, { 4096, 8 },
		{ 1000, 1 },
	};
	unsigned int k;

	for (k = 0; k < sizeof(cfg) / sizeof(cfg[0]); k++) {
		struct xfer_arg a = { .dev = self->dev, .seed = 11 + k,
				      .sizes = 99 + k };
		struct chan_info info;
		uint64_t got = 0;
		pthread_t t;
		int rfd;

		a.total = cfg[k].msg == 1 ? 10000 :
			  cfg[k].cap == 1 ? 100000 : 300000;
		a.wmax = 3 * cfg[k].msg + 5;
		ASSERT_OK(st_create(self->dev, cfg[k].msg, cfg[k].cap, 0600,
				    0, &a.id));
		rfd = ct_open(self->dev, a.id, CHAN_ROLE_RECV, 0, 0);
		ASSERT_LE(0, rfd);
		ASSERT_EQ(0, pthread_create(&t, NULL, writer_main, &a));
		reader_check(&a, rfd, 2 * cfg[k].msg + 9, &got);
		pthread_join(t, NULL);
		if (a.err == -1)
			TH_LOG("msg %u cap %u: bad byte at %llu", cfg[k].msg,
			       cfg[k].cap, (unsigned long long)a.bad_pos);
		EXPECT_EQ(0, a.err);
		EXPECT_EQ(a.total, got);
		ASSERT_OK(st_info(self->dev, a.id, &info));
		EXPECT_TRUE(st_balanced(&info));
		EXPECT_EQ(0U, info.depth);
		EXPECT_EQ(info.sent, info.received);
		EXPECT_EQ((long long)a.total, fdinfo_field(rfd, "bytes_sent"));
		EXPECT_EQ((long long)a.total,
			  fdinfo_field(rfd, "bytes_received"));
		close(rfd);
		EXPECT_OK(ct_destroy(self->dev, a.id));
	}
}

/* ---- N writers, M readers ---- */

#define NW		4
#define NR		3
#define REC		16U	/* a record: writer, seq, then keyed bytes */
#define RECS		3000U	/* per writer */
#define NMSG		64U	/* atomic size: up to 4 records per write */

struct multi {
	int dev;
	uint32_t id;
	int fail;			/* first failure line, or 0 */
	char why[160];
	unsigned char seen[NW][RECS];	/* atomics: times each record came */
	uint64_t bytes_in, sum_in;	/* atomics: what readers got */
};

/*
 * Each worker's endpoint is opened before any worker starts: a writer that
 * finished before another opened would otherwise end the stream early.
 */
struct worker {
	struct multi *m;
	int idx;
	int fd;
	bool records;		/* whole records, or any sizes */
};

static void multi_fail(struct multi *m, int line, const char *why)
{
	int zero = 0;

	if (__atomic_compare_exchange_n(&m->fail, &zero, line, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		snprintf(m->why, sizeof(m->why), "%s", why);
}

static void rec_fill(unsigned char *r, int w, uint32_t seq)
{
	uint32_t j;

	r[0] = (unsigned char)w;
	memcpy(r + 1, &seq, sizeof(seq));
	for (j = 5; j < REC; j++)
		r[j] = byte_at((uint64_t)w << 32 | seq, j);
}

static void *multi_writer(void *p)
{
	struct worker *wk = p;
	struct multi *m = wk->m;
	unsigned char buf[NMSG * 3];
	uint64_t s = 777 + wk->idx, pos = 0;
	uint32_t seq = 0, k, i, n;
	int fd = wk->fd;

	while (wk->records ? seq < RECS : pos < RECS * REC) {
		if (wk->records) {
			/* 1..4 records: at most the atomic size. */
			k = rnd(&s, 1, NMSG / REC);
			if (k > RECS - seq)
				k = RECS - seq;
			for (i = 0; i < k; i++)
				rec_fill(buf + i * REC, wk->idx, seq + i);
			n = k * REC;
		} else {
			n = rnd(&s, 1, sizeof(buf));
			if (n > RECS * REC - pos)
				n = (uint32_t)(RECS * REC - pos);
			for (i = 0; i < n; i++)
				buf[i] = byte_at(1000 + wk->idx, pos + i);
		}
		if (write(fd, buf, n) != (ssize_t)n) {
			multi_fail(m, __LINE__, "short or failed write");
			break;
		}
		if (wk->records)
			seq += n / REC;
		pos += n;
	}
	close(fd);
	return NULL;
}

static void *multi_reader(void *p)
{
	struct worker *wk = p;
	struct multi *m = wk->m;
	unsigned char buf[REC * 8], want[REC];
	uint64_t s = 31 + wk->idx, bytes = 0, sum = 0;
	int64_t last[NW];
	uint32_t seq, i, cap;
	int fd = wk->fd;
	ssize_t n;
	int w;

	for (w = 0; w < NW; w++)
		last[w] = -1;
	for (;;) {
		/* Whole records: reads of whole records end on them. */
		cap = wk->records ? REC * rnd(&s, 1, 8) : rnd(&s, 1, sizeof(buf));
		n = read(fd, buf, cap);
		if (n < 0) {
			multi_fail(m, __LINE__, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		bytes += n;
		for (i = 0; i < n; i++)
			sum += buf[i];
		if (!wk->records)
			continue;
		if (n % REC) {
			multi_fail(m, __LINE__, "a read split a record");
			break;
		}
		for (i = 0; i < n; i += REC) {
			w = buf[i];
			memcpy(&seq, buf + i + 1, sizeof(seq));
			if (w >= NW || seq >= RECS) {
				multi_fail(m, __LINE__, "bad record header");
				goto out;
			}
			rec_fill(want, w, seq);
			if (memcmp(want, buf + i, REC)) {
				multi_fail(m, __LINE__,
					   "record interleaved or damaged");
				goto out;
			}
			if ((int64_t)seq <= last[w]) {
				multi_fail(m, __LINE__,
					   "a writer's records out of order");
				goto out;
			}
			last[w] = seq;
			__atomic_add_fetch(&m->seen[w][seq], 1,
					   __ATOMIC_RELAXED);
		}
	}
out:
	__atomic_add_fetch(&m->bytes_in, bytes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->sum_in, sum, __ATOMIC_RELAXED);
	close(fd);
	return NULL;
}

static void run_multi(struct __test_metadata *_metadata, int dev,
		      bool records)
{
	struct multi *m = calloc(1, sizeof(*m));
	struct worker wk[NW + NR];
	pthread_t t[NW + NR];
	uint64_t sum = 0, pos;
	struct chan_info info;
	int i, w, missing = 0;
	uint32_t seq;

	ASSERT_NE(NULL, m);
	m->dev = dev;
	ASSERT_OK(st_create(dev, NMSG, 8, 0600, 0, &m->id));
	for (i = 0; i < NW + NR; i++) {
		wk[i] = (struct worker){ .m = m, .idx = i < NW ? i : i - NW,
					 .records = records };
		wk[i].fd = ct_open(dev, m->id, i < NW ? CHAN_ROLE_SEND :
				   CHAN_ROLE_RECV, 0, 0);
		ASSERT_LE(0, wk[i].fd);
	}
	for (i = 0; i < NW + NR; i++) {
		ASSERT_EQ(0, pthread_create(&t[i], NULL,
					    i < NW ? multi_writer :
						     multi_reader, &wk[i]));
	}
	for (i = 0; i < NW + NR; i++)
		pthread_join(t[i], NULL);
	if (m->fail)
		TH_LOG("line %d: %s", m->fail, m->why);
	EXPECT_EQ(0, m->fail);
	EXPECT_EQ((uint64_t)NW * RECS * REC, m->bytes_in);
	for (w = 0; w < NW; w++) {
		for (pos = 0; pos < RECS * REC; pos++) {
			if (records)
				break;
			sum += byte_at(1000 + w, pos);
		}
		for (seq = 0; records && seq < RECS; seq++) {
			unsigned char r[REC];

			rec_fill(r, w, seq);
			for (i = 0; i < (int)REC; i++)
				sum += r[i];
			if (m->seen[w][seq] != 1)
				missing++;
		}
	}
	EXPECT_EQ(0, missing);
	EXPECT_EQ(sum, m->sum_in);
	ASSERT_OK(st_info(dev, m->id, &info));
	EXPECT_TRUE(st_balanced(&info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_OK(ct_destroy(dev, m->id));
	free(m);
}

TEST_F_TIMEOUT(st, writers_never_interleave_atomic_writes, 120)
{
	run_multi(_metadata, self->dev, true);
}

TEST_F_TIMEOUT(st, many_writers_readers_any_sizes, 120)
{
	run_multi(_metadata, self->dev, false);
}

/* ---- partial reads, FIONREAD, INFO, fdinfo, vectors ---- */

TEST_F(st, partial_reads_keep_order)
{
	char buf[128];
	struct chan_info info;
	struct iovec iov[3];
	char a[2], b[3], c[40];
	uint32_t len;

	ASSERT_EQ(10, write(self->sfd, "abcdefghij", 10));
	ASSERT_OK(st_info(self->dev, self->id, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(10, chan_stream_queued(self->rfd));
	ASSERT_EQ(3, read(self->rfd, buf, 3));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	/* A partly read write is still queued: INFO counts writes. */
	ASSERT_OK(st_info(self->dev, self->id, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(0ULL, info.received);
	EXPECT_EQ(7, chan_stream_queued(self->rfd));
	len = 4;
	ASSERT_OK(ct_recv(self->rfd, 0, buf, &len, 0, 0));
	ASSERT_EQ(4U, len);
	EXPECT_EQ(0, memcmp(buf, "defg", 4));
	ASSERT_OK(ct_send(self->sfd, 0, "XYZ", 3, 0, 0));
	ASSERT_OK(ct_send(self->dev, self->id, "12", 2, 0, 0));
	EXPECT_EQ(8, chan_stream_queued(self->rfd));
	/* One read spans the rest of one write and the next two. */
	ASSERT_EQ(8, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hijXYZ12", 8));
	EXPECT_EQ(0, chan_stream_queued(self->rfd));
	ASSERT_OK(st_info(self->dev, self->id, &info));
	EXPECT_EQ(3ULL, info.sent);
	EXPECT_EQ(3ULL, info.received);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(15, fdinfo_field(self->rfd, "bytes_sent"));
	EXPECT_EQ(15, fdinfo_field(self->sfd, "bytes_received"));

	/* writev gathers, readv scatters, across writes. */
	iov[0] = (struct iovec){ "hello ", 6 };
	iov[1] = (struct iovec){ "stream ", 7 };
	iov[2] = (struct iovec){ "world", 5 };
	ASSERT_EQ(18, writev(self->sfd, iov, 3));
	ASSERT_EQ(3, write(self->sfd, "!!!", 3));
	iov[0] = (struct iovec){ a, sizeof(a) };
	iov[1] = (struct iovec){ b, sizeof(b) };
	iov[2] = (struct iovec){ c, sizeof(c) };
	memset(c, 0, sizeof(c));
	ASSERT_EQ(21, readv(self->rfd, iov, 3));
	EXPECT_EQ(0, memcmp(a, "he", 2));
	EXPECT_EQ(0, memcmp(b, "llo", 3));
	EXPECT_STREQ(" stream world!!!", c);
}

/* A write longer than the atomic size is cut into pieces. */
TEST_F(st, long_writes_and_libchan)
{
	unsigned char big[MSG * CAP], got[MSG * CAP];
	struct chan_info info;
	struct iovec iov[3];
	uint32_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 13 + 5);
	/* Exactly what fits: CAP pieces. */
	ASSERT_EQ((ssize_t)sizeof(big), chan_stream_write(self->sfd, big,
							  sizeof(big)));
	ASSERT_OK(st_info(self->dev, self->id, &info));
	EXPECT_EQ(CAP, info.depth);
	EXPECT_EQ(0, ct_poll_now(self->sfd, POLLOUT));
	ASSERT_EQ((ssize_t)sizeof(got), chan_stream_read(self->rfd, got,
							 sizeof(got)));
	EXPECT_EQ(0, memcmp(big, got, sizeof(big)));
	/* Non-blocking: a long write writes what fits, then EAGAIN. */
	ASSERT_EQ(0, fcntl(self->sfd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ((ssize_t)sizeof(big), write(self->sfd, big, sizeof(big)));
	ASSERT_OK(ct_recv(self->rfd, 0, got, &(uint32_t){ 10 }, 0, 0));
	/* A piece is free only once its last byte was read. */
	EXPECT_ERRNO(EAGAIN, write(self->sfd, big, 1));
	ASSERT_EQ((ssize_t)(MSG - 10), read(self->rfd, got + 10, MSG - 10));
	EXPECT_EQ(0, memcmp(big, got, MSG));
	ASSERT_EQ((ssize_t)MSG, write(self->sfd, big, MSG + 7));
	EXPECT_ERRNO(EAGAIN, write(self->sfd, big, 1));
	EXPECT_EQ(-EAGAIN, chan_stream_write(self->sfd, big, 1));
	ASSERT_EQ((ssize_t)(sizeof(big) - MSG),
		  chan_stream_read(self->rfd, got, sizeof(big) - MSG));
	EXPECT_EQ(0, memcmp(big + MSG, got, sizeof(big) - MSG));
	ASSERT_EQ((ssize_t)MSG, chan_stream_read(self->rfd, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(big, got, MSG));
	/* SEND is one atomic write: at most msg_size, 0 sends nothing. */
	EXPECT_ERRNO(EMSGSIZE, ct_send(self->sfd, 0, big, MSG + 1, 0, 0));
	EXPECT_ERRNO(EMSGSIZE, ct_send(self->dev, self->id, big, MSG + 1,
				       0, 0));
	EXPECT_OK(ct_send(self->sfd, 0, big, 0, 0, 0));
	EXPECT_EQ(0, write(self->sfd, big, 0));
	ASSERT_OK(st_info(self->dev, self->id, &info));
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(0, read(self->rfd, got, 0));

	/* writev beyond the atomic size: its segments cut into pieces. */
	iov[0] = (struct iovec){ big, 50 };
	iov[1] = (struct iovec){ big + 50, 50 };
	iov[2] = (struct iovec){ big + 100, 50 };
	ASSERT_EQ(150, writev(self->sfd, iov, 3));
	ASSERT_OK(st_info(self->dev, self->id, &info));
	EXPECT_EQ(3U, info.depth);
	ASSERT_EQ(150, read(self->rfd, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(big, got, 150));
}

/* A read whose buffer faults takes nothing. */
TEST_F(st, faulting_read_loses_nothing)
{
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	char buf[16];
	uint32_t len = sizeof(buf);

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(5, write(self->sfd, "12345", 5));
	EXPECT_ERRNO(EFAULT, read(self->rfd, ct_bad_ptr(), 5));
	EXPECT_ERRNO(EFAULT, read(self->rfd, ro, 5));
	EXPECT_ERRNO(EFAULT, ct_recv(self->rfd, 0, ro, &len, 0, 0));
	EXPECT_EQ(5, chan_stream_queued(self->rfd));
	ASSERT_EQ(5, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "12345", 5));
	munmap(ro, 4096);
}

/* ---- the end of the stream ---- */

TEST_F(st, end_of_stream)
{
	char buf[16];
	uint32_t len;
	int fd;

	ASSERT_EQ(4, write(self->sfd, "tail", 4));
	close(self->sfd);
	self->sfd = -1;
	/* Drained first, then the end: read 0, RECV EPIPE, poll HUP. */
	EXPECT_EQ(POLLIN, ct_poll_now(self->rfd, POLLIN) & POLLIN);
	ASSERT_EQ(2, read(self->rfd, buf, 2));
	ASSERT_EQ(2, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->rfd, buf, sizeof(buf)));
	len = sizeof(buf);
	EXPECT_ERRNO(EPIPE, ct_recv(self->rfd, 0, buf, &len, 0, 0));
	EXPECT_EQ(0, chan_stream_read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, chan_stream_read_timeout(self->rfd, buf, sizeof(buf),
					      CT_SEC));
	EXPECT_NE(0, ct_poll_now(self->rfd, POLLIN) & POLLHUP);
	/* By ID, no endpoint: empty is just empty, until closed. */
	len = sizeof(buf);
	EXPECT_ERRNO(EAGAIN, ct_recv(self->dev, self->id, buf, &len,
				     CHAN_MSG_NONBLOCK, 0));
	/* A new sender undoes it; a close ends it for everyone. */
	fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, write(fd, "abc", 3));
	struct chan_close cl = { .size = sizeof(cl) };
	ASSERT_EQ(0, ioctl(fd, CHAN_IOC_CLOSE, &cl));
	EXPECT_ERRNO(EPIPE, write(fd, "x", 1));
	ASSERT_EQ(3, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, read(self->rfd, buf, sizeof(buf)));
	len = sizeof(buf);
	EXPECT_ERRNO(EPIPE, ct_recv(self->dev, self->id, buf, &len, 0, 0));
	close(fd);

	/* Writers get EPIPE once no reader is left. */
	{
		uint32_t id2;
		int s2, r2;

		ASSERT_OK(st_create(self->dev, 8, 2, 0600, 0, &id2));
		ASSERT_OK(ct_open_pair(self->dev, id2, &s2, &r2));
		close(r2);
		EXPECT_ERRNO(EPIPE, write(s2, "x", 1));
		EXPECT_EQ(-EPIPE, chan_stream_write(s2, "x", 1));
		EXPECT_NE(0, ct_poll_now(s2, POLLOUT) & POLLHUP);
		close(s2);
		ct_destroy(self->dev, id2);
	}
}

/* ---- poll, non-blocking, timeouts, wake-ups ---- */

TEST_F(st, poll_nonblock_timeouts)
{
	char buf[MSG];
	uint32_t len = sizeof(buf), i;
	uint64_t t0;
	int nfd;

	EXPECT_EQ(0, ct_poll_now(self->rfd, POLLIN));
	EXPECT_EQ(POLLOUT, ct_poll_now(self->sfd, POLLOUT));
	EXPECT_ERRNO(EAGAIN, ct_recv(self->rfd, 0, buf, &len,
				     CHAN_MSG_NONBLOCK, 0));
	t0 = ct_now_ns();
	len = sizeof(buf);
	EXPECT_ERRNO(ETIMEDOUT, ct_recv(self->rfd, 0, buf, &len,
					CHAN_MSG_TIMEOUT, 50 * CT_MS));
	EXPECT_LE(50 * CT_MS, ct_now_ns() - t0);
	EXPECT_EQ(-ETIMEDOUT, chan_stream_read_timeout(self->rfd, buf,
						       sizeof(buf),
						       20 * CT_MS));
	ASSERT_EQ(1, write(self->sfd, "z", 1));
	EXPECT_EQ(POLLIN, ct_poll_now(self->rfd, POLLIN));
	for (i = 1; i < CAP; i++) {
		ASSERT_EQ(1, write(self->sfd, "z", 1));
	}
	/* Full: no room for an atomic write. */
	EXPECT_EQ(0, ct_poll_now(self->sfd, POLLOUT));
	EXPECT_ERRNO(EAGAIN, ct_send(self->sfd, 0, "z", 1,
				     CHAN_MSG_NONBLOCK, 0));
	t0 = ct_now_ns();
	EXPECT_ERRNO(ETIMEDOUT, ct_send(self->sfd, 0, "z", 1,
					CHAN_MSG_TIMEOUT, 30 * CT_MS));
	EXPECT_LE(30 * CT_MS, ct_now_ns() - t0);
	ASSERT_EQ((ssize_t)CAP, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(POLLOUT, ct_poll_now(self->sfd, POLLOUT));
	EXPECT_EQ(0, ct_poll_now(self->rfd, POLLIN));

	/* A fd opened non-blocking. */
	nfd = ct_open(self->dev, self->id, CHAN_ROLE_RECV, CHAN_OPEN_NONBLOCK,
		      0);
	ASSERT_LE(0, nfd);
	EXPECT_ERRNO(EAGAIN, read(nfd, buf, sizeof(buf)));
	EXPECT_EQ(-EAGAIN, chan_stream_read(nfd, buf, sizeof(buf)));
	close(nfd);
}

/* A reader asleep in read(2) wakes for one byte, and returns it. */
TEST_F(st, blocked_reader_wakes)
{
	struct ct_op op = { .kind = CT_OP_READ, .fd = self->rfd,
			    .nclose = 1, .close_fd = { self->sfd } };
	uint64_t *res = ct_shared_alloc(sizeof(*res));
	char buf[MSG];
	ssize_t n;
	int i;

	ASSERT_NE(NULL, res);
	/* The child reads 8 bytes: it gets what is there, 8 here. */
	op.result = res;
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_read,
				      WAIT_MS));
	ASSERT_EQ(8, write(self->sfd, "ABCDEFGH", 8));
	EXPECT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	EXPECT_EQ(0, memcmp(res, "ABCDEFGH", 8));

	/* A writer blocked on a full stream wakes when a reader drains it. */
	for (i = 0; i < (int)CAP; i++) {
		ASSERT_EQ(1, write(self->sfd, "q", 1));
	}
	op = (struct ct_op){ .kind = CT_OP_WRITE, .fd = self->sfd,
			     .value = 42, .nclose = 1,
			     .close_fd = { self->rfd } };
	ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[1], SYS_write,
				      WAIT_MS));
	/*
	 * The read frees the first slot, which wakes the writer, and writers
	 * do not wait for the readers' mutex: the writer's 8 bytes may land
	 * while the read is still taking the other slots, and then the read
	 * takes them too.
	 */
	n = read(self->rfd, buf, sizeof(buf));
	ASSERT_TRUE(n == (ssize_t)CAP || n == (ssize_t)CAP + 8) {
		TH_LOG("read %zd bytes", n);
	}
	EXPECT_EQ(0, memcmp(buf, "qqqq", CAP));
	EXPECT_EQ(0, ct_reap(&self->pid[1], WAIT_MS));
	if (n == (ssize_t)CAP)
		ASSERT_EQ(8, read(self->rfd, buf + CAP, sizeof(buf) - CAP));
	EXPECT_EQ(42, buf[CAP]);
}

/* ---- what streams refuse ---- */

TEST_F(st, batches_and_call_refused)
{
	struct chan_iov iov = { .buf = (uintptr_t)"ab", .len = 2 };
	struct chan_batch b = { .size = sizeof(b), .count = 1,
				.vec = (uintptr_t)&iov };
	char rbuf[8];
	struct chan_call c = { .size = sizeof(c), .send_buf = (uintptr_t)"x",
			       .send_len = 1, .reply_fd = -1,
			       .recv_buf = (uintptr_t)rbuf,
			       .recv_len = sizeof(rbuf) };
	uint32_t plain;

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->sfd, CHAN_IOC_SEND_BATCH, &b));
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->rfd, CHAN_IOC_RECV_BATCH, &b));
	b.id = self->id;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->dev, CHAN_IOC_SEND_BATCH, &b));
	EXPECT_EQ(-EOPNOTSUPP, chan_send_batch(self->sfd, 0, &iov, 1, 0, 0));
	/* A call to or from a stream. */
	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &plain));
	c.id = self->id;
	c.reply_id = plain;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->dev, CHAN_IOC_CALL, &c));
	c.id = plain;
	c.reply_id = self->id;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->dev, CHAN_IOC_CALL, &c));
	ct_destroy(self->dev, plain);
	EXPECT_EQ(0, chan_stream_queued(self->rfd));
}

/* FIONREAD is a stream's: a message channel's fd does not know it. */
TEST_F(st, fionread_only_on_streams)
{
	uint32_t plain;
	int fd, n = -1;

	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &plain));
	fd = ct_open(self->dev, plain, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTTY, ioctl(fd, FIONREAD, &n));
	EXPECT_ERRNO(EFAULT, ioctl(self->rfd, FIONREAD, ct_bad_ptr()));
	close(fd);
	ct_destroy(self->dev, plain);
}

/* ---- who may ---- */

TEST_F(st, unprivileged_user)
{
	uint32_t priv;
	char buf[16];
	pid_t pid;
	int status;

	ASSERT_OK(st_create(self->dev, MSG, CAP, 0600, 0, &priv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, fd;

		close(self->rfd);
		if (ct_drop_privs(NULL, 0))
			_exit(CT_EXIT_SETUP);
		dev = ct_dev_open();
		if (dev < 0)
			_exit(CT_EXIT_SETUP);
		/* 0600 root's: neither end. */
		if (ct_open(dev, priv, CHAN_ROLE_RECV, 0, 0) >= 0 ||
		    errno != EACCES)
			_exit(1);
		if (ct_send(dev, priv, "x", 1, 0, 0) == 0 || errno != EACCES)
			_exit(2);
		/* 0666: both, by fd and by ID. */
		fd = ct_open(dev, self->id, CHAN_ROLE_SEND | CHAN_ROLE_RECV,
			     0, 0);
		if (fd < 0)
			_exit(3);
		if (write(fd, "nobody", 6) != 6)
			_exit(4);
		if (ct_send(dev, self->id, "!", 1, 0, 0))
			_exit(5);
		if (read(fd, buf, 3) != 3 || memcmp(buf, "nob", 3))
			_exit(6);
		_exit(0);
	}
	status = ct_wait_exit(pid, WAIT_MS);
	EXPECT_EQ(0, status);
	ASSERT_EQ(4, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ody!", 4));
	ct_destroy(self->dev, priv);
}

/* ---- destroy ---- */

TEST_F(st, destroy_wakes_blocked_readers_and_writers)
{
	struct ct_waiters w = {
		.op = { .kind = CT_OP_RECV, .fd = self->rfd, .nclose = 1,
			.close_fd = { self->sfd } },
		.dev = self->dev, .id = self->id, .n_fd = 2, .n_id = 2,
	};
	char buf[8];
	int n, i, wfd;

	/* Readers: by fd, by ID, and in read(2). */
	n = ct_spawn_waiters(&w, self->pid, WAIT_MS);
	ASSERT_EQ(5, n);
	wfd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, wfd);
	ASSERT_OK(ct_destroy(self->dev, self->id));
	for (i = 0; i < n; i++)
		EXPECT_EQ(EIDRM, ct_reap(&self->pid[i], WAIT_MS));
	EXPECT_ERRNO(EIDRM, read(self->rfd, buf, sizeof(buf)));
	EXPECT_ERRNO(EIDRM, write(wfd, "x", 1));
	EXPECT_NE(0, ct_poll_now(self->rfd, POLLIN) & POLLHUP);
	close(wfd);

	/* A writer asleep on a full stream: a second stream, no readers. */
	{
		uint32_t id2;
		int s2, r2;
		struct ct_op op = { .kind = CT_OP_WRITE, .value = 7 };

		ASSERT_OK(st_create(self->dev, 8, 1, 0600, 0, &id2));
		ASSERT_OK(ct_open_pair(self->dev, id2, &s2, &r2));
		ASSERT_EQ(8, write(s2, "12345678", 8));
		op.fd = s2;
		op.nclose = 1;
		op.close_fd[0] = r2;
		ASSERT_OK(ct_op_spawn_blocked(&op, &self->pid[0], SYS_write,
					      WAIT_MS));
		/* Half read: the write is still not all read, no room. */
		ASSERT_EQ(4, read(r2, buf, 4));
		ct_sleep_ms(50);
		EXPECT_FALSE(ct_exited(self->pid[0]));
		ASSERT_OK(ct_destroy(self->dev, id2));
		EXPECT_EQ(EIDRM, ct_reap(&self->pid[0], WAIT_MS));
		close(s2);
		close(r2);
	}
}

/* ---- a reader stalled in its copy ---- */

struct stall {
	int rfd;
	void *buf;
	ssize_t got;
	int err;
};

static void *stall_reader(void *p)
{
	struct stall *st = p;

	st->got = read(st->rfd, st->buf, 8);
	st->err = st->got < 0 ? errno : 0;
	return NULL;
}

TEST_F(st, stalled_reader_blocks_only_its_readers)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_copy copy = { 0 };
	struct uffd_msg msg;
	struct pollfd pfd;
	struct stall stl = { .rfd = self->rfd };
	struct chan_info info;
	char page[4096], buf[16];
	uint32_t len, plain;
	uint64_t v;
	pthread_t t;
	int uffd;

	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	stl.buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stl.buf);
	reg.range.start = (uintptr_t)stl.buf;
	reg.range.len = 4096;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(8, write(self->sfd, "stall-me", 8));
	ASSERT_EQ(0, pthread_create(&t, NULL, stall_reader, &stl));
	/* The fault: the reader is inside its copy, holding the mutex. */
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* Its stream's non-blocking readers do not wait for it. */
	len = sizeof(buf);
	EXPECT_ERRNO(EAGAIN, ct_recv(self->rfd, 0, buf, &len,
				     CHAN_MSG_NONBLOCK, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(EAGAIN, ct_recv(self->dev, self->id, buf, &len,
				     CHAN_MSG_NONBLOCK, 0));
	/* Nothing else waits for it either. */
	EXPECT_EQ(8, chan_stream_queued(self->rfd));
	ASSERT_EQ(3, write(self->sfd, "abc", 3));
	EXPECT_EQ(11, chan_stream_queued(self->rfd));
	/* Bytes are queued, but a read would wait: no POLLIN (see below). */
	EXPECT_EQ(0, ct_poll_now(self->rfd, POLLIN));
	ASSERT_OK(st_info(self->dev, self->id, &info));
	EXPECT_EQ(2U, info.depth);
	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &plain));
	ASSERT_OK(ct_send_u64(self->dev, plain, 5, 0));
	ASSERT_OK(ct_recv_u64(self->dev, plain, &v, 0));
	EXPECT_EQ(5U, v);
	EXPECT_OK(ct_destroy(self->dev, plain));

	/* The page arrives: the stalled read completes with its bytes. */
	memset(page, 0, sizeof(page));
	copy.dst = (uintptr_t)stl.buf;
	copy.src = (uintptr_t)page;
	copy.len = 4096;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	pthread_join(t, NULL);
	EXPECT_EQ(0, stl.err);
	ASSERT_EQ(8, stl.got);
	EXPECT_EQ(0, memcmp(stl.buf, "stall-me", 8));
	ASSERT_EQ(3, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	munmap(stl.buf, 4096);
	close(uffd);
}

/*
 * Readers that wait for a stalled reader's turn: each runs in a thread of
 * its own, so that one waiting past its promise is seen (the test waits
 * for it only so long) instead of hanging the test.
 */
struct waiter {
	int rfd;
	uint32_t id;		/* nonzero: by ID on @rfd (the device) */
	uint64_t timeout_ns;	/* 0: block until a signal */
	ssize_t ret;		/* bytes, or -errno */
	uint64_t took_ns;
	volatile int done;
};

static void *waiter_main(void *p)
{
	struct waiter *w = p;
	uint64_t t0 = ct_now_ns();
	char buf[16];
	uint32_t len = sizeof(buf);

	if (w->id)
		w->ret = ct_recv(w->rfd, w->id, buf, &len, CHAN_MSG_TIMEOUT,
				 w->timeout_ns) ? -errno : (ssize_t)len;
	else if (w->timeout_ns)
		w->ret = chan_stream_read_timeout(w->rfd, buf, sizeof(buf),
						  w->timeout_ns);
	else
		w->ret = chan_stream_read(w->rfd, buf, sizeof(buf));
	w->took_ns = ct_now_ns() - t0;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Wait up to @ms for @w to finish; true if it did. */
static bool waiter_wait(struct waiter *w, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
			return true;
		usleep(10000);
	}
	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST_F_TIMEOUT(st, stalled_reader_timed_readers_time_out, 120)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_copy copy = { 0 };
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct stall stl = { .rfd = self->rfd };
	struct waiter w[3] = {
		{ .rfd = self->rfd, .timeout_ns = 200000000ULL },
		{ .rfd = self->dev, .id = self->id,
		  .timeout_ns = 200000000ULL },
		{ .rfd = self->rfd },
	};
	pthread_t t, wt[3];
	struct uffd_msg msg;
	struct pollfd pfd;
	char page[4096];
	int uffd, i;

	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	stl.buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stl.buf);
	reg.range.start = (uintptr_t)stl.buf;
	reg.range.len = 4096;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	ASSERT_EQ(8, write(self->sfd, "stall-me", 8));
	ASSERT_EQ(0, pthread_create(&t, NULL, stall_reader, &stl));
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS));
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ(3, write(self->sfd, "abc", 3));

	/*
	 * The reader is stalled inside its copy with bytes queued behind it.
	 * A timed read, by fd and by ID, waits for its turn only until its
	 * deadline (200 ms; 5 s allowed for a slow VM).
	 */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, waiter_main, &w[i]));
	for (i = 0; i < 2; i++) {
		EXPECT_TRUE(waiter_wait(&w[i], 5000)) {
			TH_LOG("timed reader %d still waiting after 5 s", i);
		}
	}
	/* A blocking one waits, until a signal ends its wait. */
	usleep(100000);
	EXPECT_FALSE(__atomic_load_n(&w[2].done, __ATOMIC_ACQUIRE));
	pthread_kill(wt[2], SIGUSR1);
	EXPECT_TRUE(waiter_wait(&w[2], 5000)) {
		TH_LOG("signalled reader still waiting after 5 s");
	}

	/* The page arrives: the stalled read completes with its bytes. */
	memset(page, 0, sizeof(page));
	copy.dst = (uintptr_t)stl.buf;
	copy.src = (uintptr_t)page;
	copy.len = 4096;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	pthread_join(t, NULL);
	for (i = 0; i < 3; i++)
		pthread_join(wt[i], NULL);
	EXPECT_EQ(0, stl.err);
	ASSERT_EQ(8, stl.got);
	EXPECT_EQ(0, memcmp(stl.buf, "stall-me", 8));
	EXPECT_EQ(-ETIMEDOUT, w[0].ret);
	EXPECT_EQ(-ETIMEDOUT, w[1].ret);
	EXPECT_EQ(-EINTR, w[2].ret);
	for (i = 0; i < 2; i++)
		EXPECT_LT(w[i].took_ns, 5000000000ULL);
	/* None of them took a byte: the rest is still queued, in order. */
	EXPECT_EQ(3, chan_stream_queued(self->rfd));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR1, &sa, NULL);
	munmap(stl.buf, 4096);
	close(uffd);
}

/*
 * Poll while a reader holds the turn, stalled in its copy. A read would
 * wait for the turn (or get EAGAIN), so poll reports neither POLLIN nor
 * POLLHUP then, bytes queued or not; a poller sleeps, and the end of the
 * turn wakes it with what is true after it: POLLIN for the bytes the
 * holder left, or POLLHUP once the holder took the last of an ended
 * stream.
 */

/* A userfaultfd page nobody serves yet, for stl->buf; the fd, or -1. */
static int stall_page(struct stall *stl)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int uffd;

	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		return -1;
	stl->buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (uintptr_t)stl->buf;
	reg.range.len = 4096;
	if (stl->buf == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		close(uffd);
		return -1;
	}
	return uffd;
}

/* Wait for the stalled reader's fault: then it holds the turn. */
static int stall_fault(int uffd)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, WAIT_MS) != 1 ||
	    read(uffd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		return -1;
	return msg.event == UFFD_EVENT_PAGEFAULT ? 0 : -1;
}

/* Serve the page: the stalled read goes on. */
static int stall_serve(int uffd, void *buf)
{
	static char page[4096];
	struct uffdio_copy copy = {
		.dst = (uintptr_t)buf,
		.src = (uintptr_t)page,
		.len = sizeof(page),
	};

	return ioctl(uffd, UFFDIO_COPY, &copy);
}

/* A poll for POLLIN in a thread of its own, with a timeout. */
struct poller {
	int fd;
	int timeout_ms;
	pid_t tid;
	int ret;
	short revents;
	uint64_t end_ns;	/* when poll(2) returned */
	int done;		/* __atomic */
};

static void *poller_main(void *p)
{
	struct poller *pl = p;
	struct pollfd pfd = { .fd = pl->fd, .events = POLLIN };

	__atomic_store_n(&pl->tid, (pid_t)syscall(SYS_gettid),
			 __ATOMIC_SEQ_CST);
	pl->ret = poll(&pfd, 1, pl->timeout_ms);
	pl->end_ns = ct_now_ns();
	pl->revents = pfd.revents;
	__atomic_store_n(&pl->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Start @pl and wait until it sleeps in poll(2); false if it does not. */
static bool poller_start(struct poller *pl, pthread_t *t)
{
	int i;

	if (pthread_create(t, NULL, poller_main, pl))
		return false;
	for (i = 0; i < 1000 && !__atomic_load_n(&pl->tid, __ATOMIC_SEQ_CST);
	     i++)
		ct_sleep_ms(1);
	return pl->tid && ct_wait_thread_blocked(pl->tid, SYS_poll, WAIT_MS);
}

TEST_F_TIMEOUT(st, stalled_reader_poll_sleeps_until_turn_ends, 120)
{
	struct stall stl = { .rfd = self->rfd };
	struct poller pl = { .timeout_ms = WAIT_MS };
	pthread_t t, pt;
	char buf[16];
	int uffd, r2;
	uint64_t t0;

	r2 = ct_open(self->dev, self->id, CHAN_ROLE_RECV, CHAN_OPEN_NONBLOCK,
		     0);
	ASSERT_LE(0, r2);
	uffd = stall_page(&stl);
	if (uffd < 0)
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	ASSERT_EQ(8, write(self->sfd, "stall-me", 8));
	ASSERT_EQ(0, pthread_create(&t, NULL, stall_reader, &stl));
	ASSERT_OK(stall_fault(uffd));
	ASSERT_EQ(3, write(self->sfd, "abc", 3));

	/*
	 * Bytes are queued (FIONREAD says so) but another endpoint's read
	 * would not get them: no POLLIN, and no POLLHUP.
	 */
	EXPECT_EQ(11, chan_stream_queued(r2));
	EXPECT_ERRNO(EAGAIN, read(r2, buf, sizeof(buf)));
	EXPECT_EQ(0, ct_poll_now(r2, POLLIN))
		TH_LOG("POLLIN while another reader holds the turn");
	EXPECT_EQ(0, ct_poll_now(self->rfd, POLLIN));

	/* A poll with a timeout sleeps through the stall... */
	pl.fd = r2;
	ASSERT_TRUE(poller_start(&pl, &pt));
	ct_sleep_ms(200);
	EXPECT_FALSE(__atomic_load_n(&pl.done, __ATOMIC_ACQUIRE))
		TH_LOG("poll returned %d (revents %#x) during the stall",
		       pl.ret, pl.revents);

	/* ...and the end of the turn wakes it: the holder left "abc". */
	t0 = ct_now_ns();
	ASSERT_OK(stall_serve(uffd, stl.buf));
	pthread_join(t, NULL);
	EXPECT_EQ(0, stl.err);
	ASSERT_EQ(8, stl.got);
	EXPECT_EQ(0, memcmp(stl.buf, "stall-me", 8));
	pthread_join(pt, NULL);
	/*
	 * A poll that times out looks once more: a wake-up lost at the end
	 * of the turn shows as the time taken (5 s allowed for a slow VM,
	 * of its 20). One that returned during the stall failed above.
	 */
	if (pl.end_ns >= t0) {
		EXPECT_LT(pl.end_ns - t0, 5000000000ULL)
			TH_LOG("the poller woke only at its timeout");
	}
	EXPECT_EQ(1, pl.ret);
	EXPECT_EQ(POLLIN, pl.revents);
	EXPECT_EQ(POLLIN, ct_poll_now(r2, POLLIN));
	ASSERT_EQ(3, read(r2, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(0, ct_poll_now(r2, POLLIN));
	munmap(stl.buf, 4096);
	close(uffd);
	close(r2);
}

TEST_F_TIMEOUT(st, stalled_reader_poll_hup_after_turn_ends, 120)
{
	struct stall stl = { .rfd = self->rfd };
	struct poller pl = { .timeout_ms = WAIT_MS };
	pthread_t t, pt;
	char buf[16];
	int uffd, r2;
	uint64_t t0;

	r2 = ct_open(self->dev, self->id, CHAN_ROLE_RECV, CHAN_OPEN_NONBLOCK,
		     0);
	ASSERT_LE(0, r2);
	uffd = stall_page(&stl);
	if (uffd < 0)
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	ASSERT_EQ(8, write(self->sfd, "stall-me", 8));
	ASSERT_EQ(0, pthread_create(&t, NULL, stall_reader, &stl));
	ASSERT_OK(stall_fault(uffd));

	/*
	 * The last sender leaves while the holder is in its copy: the holder
	 * may still leave bytes behind, so no POLLHUP yet (nor POLLIN).
	 */
	close(self->sfd);
	self->sfd = -1;
	EXPECT_EQ(8, chan_stream_queued(r2));
	EXPECT_ERRNO(EAGAIN, read(r2, buf, sizeof(buf)));
	EXPECT_EQ(0, ct_poll_now(r2, POLLIN))
		TH_LOG("poll reports while another reader holds the turn");
	pl.fd = r2;
	ASSERT_TRUE(poller_start(&pl, &pt));
	ct_sleep_ms(200);
	EXPECT_FALSE(__atomic_load_n(&pl.done, __ATOMIC_ACQUIRE))
		TH_LOG("poll returned %d (revents %#x) during the stall",
		       pl.ret, pl.revents);

	/*
	 * The holder takes the last byte and ends its turn: the stream is
	 * over, and the poller hears it then, not at its timeout.
	 */
	t0 = ct_now_ns();
	ASSERT_OK(stall_serve(uffd, stl.buf));
	pthread_join(t, NULL);
	EXPECT_EQ(0, stl.err);
	ASSERT_EQ(8, stl.got);
	pthread_join(pt, NULL);
	/*
	 * A poll that times out looks once more: a wake-up lost at the end
	 * of the turn shows as the time taken (5 s allowed for a slow VM,
	 * of its 20). One that returned during the stall failed above.
	 */
	if (pl.end_ns >= t0) {
		EXPECT_LT(pl.end_ns - t0, 5000000000ULL)
			TH_LOG("the poller woke only at its timeout");
	}
	EXPECT_EQ(1, pl.ret);
	EXPECT_EQ(POLLHUP, pl.revents & (POLLIN | POLLHUP));
	EXPECT_EQ(0, read(r2, buf, sizeof(buf)));
	munmap(stl.buf, 4096);
	close(uffd);
	close(r2);
}

CT_HARNESS_MAIN
