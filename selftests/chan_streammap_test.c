// SPDX-License-Identifier: GPL-2.0
/*
 * Mapped byte streams (CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE): the
 * stream claim on the fast path (libchan chan_ep_stream_*, or raw
 * chan_ring.h calls) beside the kernel path (read(2), write(2)). Checked
 * here:
 *  - many writers and several readers, half of each on the fast path and
 *    half on the kernel's, with reads of any multiple of 8 bytes: every
 *    8-byte word of every write arrives once, and inside each read the
 *    words of a write are contiguous and in order (a write is atomic:
 *    no other write's word comes between two of its words), and a read
 *    that spans writes is one range of the stream: after a write's last
 *    word it goes on at the first word of a write, never in the middle
 *    of one another reader started;
 *  - partial reads across the mapping: fast and kernel reads of odd
 *    sizes take turns in the middle of writes, byte-exact; FIONREAD and
 *    POLLIN follow each read;
 *  - a mapper killed inside a partly read slot: the slot goes back to
 *    the readers at the offset it recorded, a reader blocked behind it
 *    (EBUSY) is woken and goes on from there, nothing hangs;
 *  - a hostile mapper scribbling states, lengths, offsets and cursors
 *    while kernel readers and writers run: every call ends (with bytes
 *    or an error), and the kernel log stays clean;
 *  - an unprivileged mapper (mode 0666) on the fast path; one that may
 *    only read (0644) is not mapped and reads through the kernel;
 *  - DESTROY with readers blocked, one waiting for bytes and one behind a
 *    held head: EIDRM for both.
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <libchan.h>

#define WAIT_MS		60000
#define MSG		256U	/* the atomic size */
#define WORDS		(MSG / 8)

FIXTURE(sm) {
	int dev, kmsg;
	mode_t dev_mode;
	uint32_t ids[8];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(sm)
{
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(sm)
{
	ct_dev_restore(self->dev_mode);
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg,
			 self->ids, self->nids);
	close(self->dev);
}

/* A mapped stream kept for the teardown; *c gets its geometry. */
static int sm_create(FIXTURE_DATA(sm) *self, uint32_t capacity,
		     uint32_t mode, struct chan_create *c)
{
	int ret = ct_create_mappable(self->dev, MSG, capacity, mode,
				     CHAN_CREATE_STREAM, NULL, c);

	if (!ret && self->nids < (int)ARRAY_SIZE(self->ids))
		self->ids[self->nids++] = c->out_id;
	return ret;
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* ---- many writers, several readers, two paths each ---- */

#define MX_WRITERS	4
#define MX_READERS	4
#define MX_WRITES	1500U

/* The parent's sender fd, which holds the stream open: not the children's. */
static int mx_hold = -1;

/*
 * Word i of write seq of writer w, which has n words: the fields, and a
 * check of them in the top byte, so a word from nowhere does not pass.
 */
static uint64_t mx_word(uint32_t w, uint32_t seq, uint32_t i, uint32_t n)
{
	uint64_t v = (uint64_t)w | (uint64_t)seq << 8 | (uint64_t)i << 32 |
		     (uint64_t)n << 40;

	return v | (mix64(v) & 0xff00000000000000ULL);
}

static bool mx_parse(uint64_t v, uint32_t *w, uint32_t *seq, uint32_t *i,
		     uint32_t *n)
{
	*w = v & 0xff;
	*seq = (v >> 8) & 0xffffff;
	*i = (v >> 32) & 0xff;
	*n = (v >> 40) & 0xff;
	return v == mx_word(*w, *seq, *i, *n) && *w < MX_WRITERS &&
	       *seq < MX_WRITES && *n >= 1 && *n <= WORDS && *i < *n;
}

/* Writes of 1..mx_most words (WORDS, or fewer for many short writes). */
static uint32_t mx_most = WORDS;

/* The number of words of write seq of writer w (1..mx_most). */
static uint32_t mx_words(uint32_t w, uint32_t seq)
{
	return 1 + (uint32_t)(mix64((uint64_t)w << 32 | seq) % mx_most);
}

/*
 * A writer's or reader's handle, in a child: a mapped libchan handle
 * (*@epp, fd -1) if @fast, else a plain channel fd (returned, *@epp NULL).
 */
static int mx_open(uint32_t id, uint32_t role, bool fast, struct chan_ep **epp)
{
	int dev, fd;

	close(mx_hold);
	*epp = NULL;
	if (fast) {
		CF_OK(chan_ep_open(epp, id, role, 0));
		CF_TRUE(chan_ep_mapped(*epp), "role %u: not mapped", role);
		return -1;
	}
	dev = CF_OK(ct_dev_open());
	fd = CF_OK(ct_open(dev, id, role, 0, 0));
	close(dev);
	return fd;
}

static void mx_close(struct chan_ep *ep, int fd)
{
	if (ep)
		chan_ep_close(ep);
	else
		close(fd);
}

static void mx_writer(uint32_t id, uint32_t w)
{
	uint64_t buf[WORDS];
	struct chan_ep *ep;
	uint32_t seq, i, n;
	ssize_t r;
	int fd;

	fd = mx_open(id, CHAN_ROLE_SEND, w & 1, &ep);
	for (seq = 0; seq < MX_WRITES; seq++) {
		n = mx_words(w, seq);
		for (i = 0; i < n; i++)
			buf[i] = mx_word(w, seq, i, n);
		r = ep ? chan_ep_stream_write(ep, buf, n * 8) :
			 write(fd, buf, n * 8);
		CF_TRUE(r == (ssize_t)(n * 8), "writer %u seq %u: %zd (%s)",
			w, seq, r, ct_ename(r < 0 ? (ep ? (int)-r : errno) : 0));
	}
	mx_close(ep, fd);
	_exit(0);
}

/*
 * A reader: reads of 8..4*MSG bytes (multiples of 8) until the end of the
 * stream; each word is counted in seen[] and, in the same read, must
 * follow a word that is not the last of its write as the next word of
 * that write, and a write's last word as the first word of a write.
 */
static void mx_reader(uint32_t id, uint32_t r, uint8_t *seen)
{
	uint64_t buf[4 * WORDS], rng = r + 77;
	uint32_t w, seq, i, n, pw = 0, pseq = 0, pi = 0, pn = 0, k;
	struct chan_ep *ep;
	ssize_t got;
	size_t cap;
	int fd;

	fd = mx_open(id, CHAN_ROLE_RECV, r & 1, &ep);
	for (;;) {
		rng = mix64(rng);
		cap = 8 * (1 + rng % (4 * WORDS));
		got = ep ? chan_ep_stream_read(ep, buf, cap) :
			   read(fd, buf, cap);
		CF_TRUE(got >= 0, "reader %u: %s", r,
			ct_ename(ep ? (int)-got : errno));
		if (!got)
			break;
		CF_TRUE(got % 8 == 0 && (size_t)got <= cap,
			"reader %u: %zd bytes of %zu", r, got, cap);
		for (k = 0; k < got / 8; k++) {
			CF_TRUE(mx_parse(buf[k], &w, &seq, &i, &n),
				"reader %u: bad word %#llx", r,
				(unsigned long long)buf[k]);
			CF_TRUE(n == mx_words(w, seq), "reader %u: length", r);
			if (k && pi + 1 < pn)
				CF_TRUE(w == pw && seq == pseq && i == pi + 1,
					"reader %u: %u/%u/%u/%u after %u/%u/%u/%u",
					r, w, seq, i, n, pw, pseq, pi, pn);
			/* One range: after a write's end, a write's start. */
			else if (k)
				CF_TRUE(i == 0,
					"reader %u: read went on at %u/%u/%u/%u after %u/%u/%u/%u",
					r, w, seq, i, n, pw, pseq, pi, pn);
			__atomic_add_fetch(&seen[((size_t)w * MX_WRITES + seq) *
						 WORDS + i], 1,
					   __ATOMIC_RELAXED);
			pw = w;
			pseq = seq;
			pi = i;
			pn = n;
		}
	}
	mx_close(ep, fd);
	_exit(0);
}

/*
 * The words of writers 0..@writers-1 not seen exactly once (each write's
 * words, and none beyond them), the first few logged.
 */
static uint32_t mx_unseen(struct __test_metadata *_metadata,
			  const uint8_t *seen, uint32_t writers)
{
	uint32_t w, seq, i, bad = 0;

	for (w = 0; w < writers; w++)
		for (seq = 0; seq < MX_WRITES; seq++)
			for (i = 0; i < WORDS; i++) {
				uint8_t want = i < mx_words(w, seq);
				uint8_t got = seen[((size_t)w * MX_WRITES +
						    seq) * WORDS + i];

				if (got != want && bad++ < 5)
					TH_LOG("writer %u seq %u word %u: seen %u times",
					       w, seq, i, got);
			}
	return bad;
}

TEST_F_TIMEOUT(sm, mixed_paths_every_word_once, 600)
{
	size_t size = (size_t)MX_WRITERS * MX_WRITES * WORDS;
	struct chan_create c;
	struct chan_info info;
	uint8_t *seen;
	pid_t pid;
	int k;

	seen = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, seen);
	ASSERT_OK(sm_create(self, 8, 0600, &c));
	/* Until every writer has opened: no early end of the stream. */
	mx_hold = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, mx_hold);
	for (k = 0; k < MX_READERS; k++) {
		pid = ct_fork_slot(k);
		ASSERT_LE(0, pid);
		if (!pid)
			mx_reader(c.out_id, k, seen);
		self->pid[k] = pid;
	}
	for (k = 0; k < MX_WRITERS; k++) {
		pid = ct_fork_slot(MX_READERS + k);
		ASSERT_LE(0, pid);
		if (!pid)
			mx_writer(c.out_id, k);
		self->pid[MX_READERS + k] = pid;
	}
	/* Let the writers open first (the readers end at the end). */
	ct_sleep_ms(500);
	close(mx_hold);
	for (k = 0; k < MX_READERS + MX_WRITERS; k++)
		EXPECT_EQ(0, CT_CHILD(&self->pid[k], k, 500000,
				      k < MX_READERS ? "reader" : "writer"));
	EXPECT_EQ(0U, mx_unseen(_metadata, seen, MX_WRITERS));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ((uint64_t)MX_WRITERS * MX_WRITES, info.sent);
	EXPECT_TRUE(ct_info_balanced(&info));
	EXPECT_EQ(0U, info.depth);
	munmap(seen, size);
}

/* ---- each read is one range of the stream ---- */


/*
 * A nibbler: the stream claim driven by hand, as a mapper may, spinning
 * on the head and taking one word at a time (handed back, or retired at
 * a write's end; a WAKE for the sleepers after each, as libchan does),
 * so that it is at the head whenever a reader lets a slot go. Its words
 * are counted in seen[] and in sh[1]; it stops at an empty stream once
 * sh[0] says the writers are gone.
 */
static void rg_nibbler(uint32_t id, const struct chan_create *c,
		       uint8_t *seen, uint64_t *sh)
{
	uint32_t token, len, off, w, seq, i, n, roles;
	struct chan_slot *s;
	struct ct_ring ring;
	int dev, fd;
	uint64_t v;
	__s64 pos;

	close(mx_hold);
	dev = CF_OK(ct_dev_open());
	fd = CF_OK(ct_open_token(dev, id, CHAN_ROLE_RECV, 0, &token));
	CF_OK(ct_ring_map(fd, &c->out_ring, token, &ring));
	for (;;) {
		s = chan_ring_claim_stream(&ring.v, token, &pos, &len, &off);
		if (!s) {
			CF_TRUE(pos == -EAGAIN || pos == -EBUSY,
				"nibbler: claim %lld", (long long)pos);
			if (pos == -EAGAIN &&
			    __atomic_load_n(&sh[0], __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		CF_TRUE(len % 8 == 0 && off % 8 == 0 && off < len,
			"nibbler: len %u off %u", len, off);
		memcpy(&v, s->data + off, 8);
		CF_TRUE(mx_parse(v, &w, &seq, &i, &n), "nibbler: bad word");
		__atomic_add_fetch(&seen[((size_t)w * MX_WRITES + seq) *
					 WORDS + i], 1, __ATOMIC_RELAXED);
		sh[1]++;
		roles = CHAN_ROLE_RECV;
		if (off + 8 < len) {
			chan_ring_stream_hand_back(&ring.v, s, (__u64)pos,
						   off + 8, token);
		} else {
			chan_ring_stream_retire(&ring.v, s, (__u64)pos);
			roles |= CHAN_ROLE_SEND;
		}
		/* As libchan: the readers behind us, and the writers. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&ring.ks->recv_waiters, __ATOMIC_RELAXED))
			roles &= ~CHAN_ROLE_RECV;
		if (!__atomic_load_n(&ring.ks->send_waiters, __ATOMIC_RELAXED))
			roles &= ~CHAN_ROLE_SEND;
		if (roles)
			CF_OK(ct_wake(fd, 0, roles, 0));
	}
	_exit(0);
}

/*
 * Two writers (fast and kernel path) of short writes, so that reads span
 * many; a fast reader and a kernel reader with reads of up to four slots;
 * a nibbler at the head. Inside every read, a write's last word is
 * followed by the first word of a write: between two claims of one read
 * nobody took anything. Every word arrives once.
 */
TEST_F_TIMEOUT(sm, reads_are_ranges, 600)
{
	size_t size = (size_t)MX_WRITERS * MX_WRITES * WORDS;
	uint64_t total = 0, *sh;
	struct chan_create c;
	uint32_t w, seq;
	uint8_t *seen;
	pid_t pid;
	int k;

	seen = mmap(NULL, size + 16, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, seen);
	sh = (uint64_t *)(seen + size);
	mx_most = 2;
	for (w = 0; w < 2; w++)
		for (seq = 0; seq < MX_WRITES; seq++)
			total += mx_words(w, seq);
	ASSERT_OK(sm_create(self, 64, 0600, &c));
	mx_hold = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, mx_hold);
	for (k = 0; k < 2; k++) {
		pid = ct_fork_slot(k);
		ASSERT_LE(0, pid);
		if (!pid)
			mx_reader(c.out_id, k, seen);
		self->pid[k] = pid;
	}
	self->pid[2] = ct_fork_slot(2);
	ASSERT_LE(0, self->pid[2]);
	if (!self->pid[2])
		rg_nibbler(c.out_id, &c, seen, sh);
	for (k = 0; k < 2; k++) {
		pid = ct_fork_slot(3 + k);
		ASSERT_LE(0, pid);
		if (!pid)
			mx_writer(c.out_id, k);
		self->pid[3 + k] = pid;
	}
	ct_sleep_ms(500);
	close(mx_hold);
	/* The writers first: then the nibbler may stop at an empty stream. */
	for (k = 4; k >= 0; k--) {
		EXPECT_EQ(0, CT_CHILD(&self->pid[k], k, 500000,
				      k < 2 ? "reader" : k == 2 ? "nibbler" :
				      "writer"));
		if (k == 3)
			__atomic_store_n(&sh[0], 1, __ATOMIC_RELEASE);
	}
	EXPECT_EQ(0U, mx_unseen(_metadata, seen, 2));
	TH_LOG("%llu words, %llu of them taken by the nibbler",
	       (unsigned long long)total, (unsigned long long)sh[1]);
	mx_most = WORDS;
	munmap(seen, size + 16);
}

/* ---- partial reads across the mapping; FIONREAD and POLLIN ---- */

static int sm_fionread(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n))
		return -errno;
	return n;
}

static bool sm_pollin(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

TEST_F(sm, partial_reads_fast_and_kernel)
{
	static const uint32_t caps[] = { 1, 3, 7, 100, 255, 256, 257, 513,
					 5, 1000 };
	unsigned char data[MSG * 6], got[MSG * 6 + 64];
	struct chan_ep *w, *r;
	struct chan_create c;
	uint32_t total = sizeof(data), done = 0, n = 0, i;
	ssize_t k;
	int rfd;

	for (i = 0; i < total; i++)
		data[i] = (unsigned char)mix64(i);
	ASSERT_OK(sm_create(self, 8, 0600, &c));
	ASSERT_OK(chan_ep_open(&w, c.out_id, CHAN_ROLE_SEND, 0));
	ASSERT_OK(chan_ep_open(&r, c.out_id, CHAN_ROLE_RECV, 0));
	ASSERT_TRUE(chan_ep_mapped(w));
	ASSERT_TRUE(chan_ep_mapped(r));
	rfd = chan_ep_fd(r);
	EXPECT_FALSE(sm_pollin(rfd));
	EXPECT_EQ(0, sm_fionread(rfd));
	/* One write of 6 slots, on the fast path: 6 atomic pieces. */
	ASSERT_EQ((ssize_t)total, chan_ep_stream_write(w, data, total));
	EXPECT_EQ((int)total, sm_fionread(rfd));
	while (done < total) {
		uint32_t cap = caps[n % ARRAY_SIZE(caps)];

		/* Fast and kernel readers take turns, mid-slot. */
		k = n % 2 ? read(rfd, got + done, cap) :
			    chan_ep_stream_read(r, got + done, cap);
		ASSERT_LT(0, k) TH_LOG("read %u: %zd %s", n, k,
				       strerror(n % 2 ? errno : (int)-k));
		ASSERT_GE((ssize_t)cap, k);
		ASSERT_EQ(0, memcmp(got + done, data + done, (size_t)k))
			TH_LOG("read %u (%s, cap %u) at %u: %zd bytes, %02x %02x, want %02x %02x",
			       n, n % 2 ? "kernel" : "fast", cap, done, k,
			       got[done], got[done + 1], data[done],
			       data[done + 1]);
		done += (uint32_t)k;
		ASSERT_LE(done, total);
		EXPECT_EQ((int)(total - done), sm_fionread(rfd));
		EXPECT_EQ(done < total, sm_pollin(rfd));
		n++;
	}
	/* Reads span slots: fewer reads than a slot at a time would take. */
	EXPECT_LT(n, 20U);
	EXPECT_EQ(-ETIMEDOUT, chan_ep_stream_read_timeout(r, got, 1, CT_MS));
	chan_ep_close(w);
	/* No sender left: the end of the stream, on both paths. */
	EXPECT_EQ(0, chan_ep_stream_read(r, got, 10));
	EXPECT_EQ(0, read(rfd, got, 10));
	chan_ep_close(r);
}

/* ---- a mapper killed inside a partly read slot ---- */

/*
 * Map the stream through a fresh endpoint, read @first bytes of the head
 * write and hand it back, claim it again, copy a few more bytes (not
 * recorded), then say so on @note and wait to be killed.
 */
static void km_child(uint32_t id, const struct chan_create *c, uint32_t first,
		     int note)
{
	struct chan_slot *s;
	struct ct_ring ring;
	uint32_t token, len, off;
	unsigned char tmp[MSG];
	int dev, fd;
	__s64 pos;

	dev = CF_OK(ct_dev_open());
	fd = CF_OK(ct_open_token(dev, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0,
				 &token));
	CF_OK(ct_ring_map(fd, &c->out_ring, token, &ring));
	s = chan_ring_claim_stream(&ring.v, token, &pos, &len, &off);
	CF_TRUE(s && off == 0 && len == MSG, "claim: %lld", (long long)pos);
	memcpy(tmp, s->data, first);
	chan_ring_stream_hand_back(&ring.v, s, (__u64)pos, first, token);
	s = chan_ring_claim_stream(&ring.v, token, &pos, &len, &off);
	CF_TRUE(s && off == first && len == MSG, "claim again: %lld off %u",
		(long long)pos, off);
	memcpy(tmp, s->data + off, 10);
	ct_post(note, 'h');
	for (;;)
		pause();
}

/* A kernel reader that blocks behind the held head, then reads it all. */
static void km_reader(uint32_t id, uint32_t want, const unsigned char *data,
		      int note)
{
	unsigned char buf[MSG * 4];
	uint32_t done = 0;
	ssize_t k;
	int dev, fd;

	dev = CF_OK(ct_dev_open());
	fd = CF_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, 0));
	ct_post(note, 'r');
	while (done < want) {
		k = read(fd, buf + done, sizeof(buf) - done);
		CF_TRUE(k > 0, "read: %zd %s", k, ct_ename(errno));
		done += (uint32_t)k;
	}
	CF_TRUE(done == want, "%u bytes, not %u", done, want);
	CF_TRUE(!memcmp(buf, data, want), "bytes differ");
	_exit(0);
}

TEST_F_TIMEOUT(sm, mapper_killed_mid_slot, 120)
{
	const uint32_t first = 37, total = MSG * 3;
	unsigned char data[MSG * 3], buf[16];
	struct chan_create c;
	struct chan_info info;
	int note[2], sfd, fd;
	uint32_t i;

	for (i = 0; i < total; i++)
		data[i] = (unsigned char)mix64(i + 1000);
	ASSERT_OK(pipe(note));
	ASSERT_OK(sm_create(self, 4, 0600, &c));
	sfd = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	fd = ct_open(self->dev, c.out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)total, write(sfd, data, total));

	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (!self->pid[0])
		km_child(c.out_id, &c, first, note[1]);
	ASSERT_EQ('h', ct_await(note[0], WAIT_MS));

	/*
	 * The head is held: a non-blocking read waits for no one, and poll
	 * does not promise what the read would not give (a level-triggered
	 * poller would spin).
	 */
	ASSERT_OK(fcntl(fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_FALSE(sm_pollin(fd));
	EXPECT_EQ((int)(total - first), sm_fionread(fd));

	self->pid[1] = ct_fork_slot(1);
	ASSERT_LE(0, self->pid[1]);
	if (!self->pid[1])
		km_reader(c.out_id, total - first, data + first, note[1]);
	ASSERT_EQ('r', ct_await(note[0], WAIT_MS));
	ASSERT_TRUE(ct_wait_blocked(self->pid[1], SYS_read, WAIT_MS));
	/* Still blocked after a while: the held head is waited for. */
	ct_sleep_ms(100);
	EXPECT_FALSE(ct_exited(self->pid[1]));

	ct_kill_wait(self->pid[0]);
	self->pid[0] = 0;
	EXPECT_EQ(0, CT_CHILD(&self->pid[1], 1, WAIT_MS, "reader"));
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(0U, info.mappers);
	EXPECT_EQ(3ULL, info.received);
	EXPECT_EQ(0ULL, info.dropped);
	EXPECT_EQ(0, sm_fionread(fd));
	close(fd);
	close(sfd);
	close(note[0]);
	close(note[1]);
}

/*
 * A poller sleeps while another reader holds the head, and the end of the
 * hold (here the repair of the holder, killed) wakes it with POLLIN; once
 * the rest is read and no sender is left, it hears POLLHUP.
 */
static void ph_poller(int fd, int note)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	ct_post(note, 'p');
	n = poll(&p, 1, WAIT_MS);
	CF_TRUE(n == 1 && (p.revents & POLLIN) && !(p.revents & POLLHUP),
		"poll: %d revents %#x", n, p.revents);
	_exit(0);
}

TEST_F_TIMEOUT(sm, poll_sleeps_while_head_held, 120)
{
	const uint32_t first = 20, total = MSG;
	unsigned char data[MSG], buf[MSG];
	struct pollfd p = { .events = POLLIN };
	struct chan_create c;
	int note[2], sfd, fd;
	uint32_t i;

	for (i = 0; i < total; i++)
		data[i] = (unsigned char)(i * 7 + 1);
	ASSERT_OK(pipe(note));
	ASSERT_OK(sm_create(self, 4, 0600, &c));
	sfd = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	fd = ct_open(self->dev, c.out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	p.fd = fd;
	ASSERT_EQ((ssize_t)total, write(sfd, data, total));
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (!self->pid[0])
		km_child(c.out_id, &c, first, note[1]);
	ASSERT_EQ('h', ct_await(note[0], WAIT_MS));
	/*
	 * Our sender leaves (the holder's endpoint still counts as one):
	 * nothing to report while the head is held.
	 */
	close(sfd);
	EXPECT_FALSE(sm_pollin(fd));
	EXPECT_EQ(0, poll(&p, 1, 0));

	self->pid[1] = ct_fork_slot(1);
	ASSERT_LE(0, self->pid[1]);
	if (!self->pid[1])
		ph_poller(fd, note[1]);
	ASSERT_EQ('p', ct_await(note[0], WAIT_MS));
	ASSERT_TRUE(ct_wait_blocked(self->pid[1], SYS_poll, WAIT_MS));
	ct_sleep_ms(50);
	EXPECT_FALSE(ct_exited(self->pid[1]));

	ct_kill_wait(self->pid[0]);
	self->pid[0] = 0;
	EXPECT_EQ(0, CT_CHILD(&self->pid[1], 1, WAIT_MS, "poller"));
	/* The rest of the write, from where the holder recorded it. */
	EXPECT_EQ((ssize_t)(total - first), read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, data + first, total - first));
	/* Drained, no sender: the end of the stream. */
	p.revents = 0;
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_TRUE(p.revents & POLLHUP);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
	close(note[0]);
	close(note[1]);
}

/* ---- a hostile mapper ---- */

static void hm_scribbler(uint32_t id, const struct chan_create *c,
			 uint64_t seed, int note)
{
	struct ct_ring ring;
	uint32_t token, slots = c->out_ring.capacity, round;
	uint64_t rng = seed;
	int dev, fd;

	dev = CF_OK(ct_dev_open());
	fd = CF_OK(ct_open_token(dev, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0,
				 &token));
	CF_OK(ct_ring_map(fd, &c->out_ring, token, &ring));
	ct_post(note, 'm');
	for (round = 0;; round++) {
		struct chan_slot *s;
		uint64_t x;

		rng = mix64(rng);
		x = mix64(rng);
		s = chan_ring_slot(&ring.v, rng >> 8);
		switch (rng % 8) {
		case 0:	/* a state of any lap, phase and owner */
			__atomic_store_n(&s->state, x, __ATOMIC_RELEASE);
			break;
		case 1:	/* a state near the right lap */
			__atomic_store_n(&s->state,
					 chan_slot_state((x >> 8) % 4, x % 4,
							 (x >> 4) % 3),
					 __ATOMIC_RELEASE);
			break;
		case 2:	/* a length past the slot */
			s->len = (uint32_t)x;
			break;
		case 3:	/* an offset past the length, or a tombstone */
			s->flags = (uint32_t)x;
			break;
		case 4:
			__atomic_store_n(&ring.v.hdr->head, x % (4 * slots),
					 __ATOMIC_RELEASE);
			break;
		case 5:
			__atomic_store_n(&ring.v.hdr->tail, x % (4 * slots),
					 __ATOMIC_RELEASE);
			break;
		case 6:	/* cursors far away */
			__atomic_store_n(rng & 1 ? &ring.v.hdr->head :
					 &ring.v.hdr->tail, x,
					 __ATOMIC_RELEASE);
			break;
		default: /* a FULL slot of the head's lap with garbage */
			s = chan_ring_slot(&ring.v, ring.v.hdr->head);
			s->len = (uint32_t)x;
			s->flags = (uint32_t)(x >> 32);
			__atomic_store_n(&s->state,
					 chan_slot_state(chan_ring_lap(&ring.v,
							 ring.v.hdr->head),
							 CHAN_SLOT_FULL, token),
					 __ATOMIC_RELEASE);
			break;
		}
		if (!(round % 64))
			sched_yield();
	}
}

TEST_F_TIMEOUT(sm, hostile_mapper, 300)
{
	unsigned char buf[MSG * 3];
	struct chan_create c;
	struct chan_info info;
	uint64_t end, reads = 0, errs = 0, tooks = 0;
	int note[2], sfd, rfd, pass;
	ssize_t k;

	ASSERT_OK(pipe(note));
	for (pass = 0; pass < 3; pass++) {
		ASSERT_OK(sm_create(self, pass ? 4 : 1, 0600, &c));
		sfd = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND,
			      CHAN_OPEN_NONBLOCK, 0);
		rfd = ct_open(self->dev, c.out_id, CHAN_ROLE_RECV,
			      CHAN_OPEN_NONBLOCK, 0);
		ASSERT_LE(0, sfd);
		ASSERT_LE(0, rfd);
		self->pid[0] = ct_fork_slot(0);
		ASSERT_LE(0, self->pid[0]);
		if (!self->pid[0])
			hm_scribbler(c.out_id, &c, pass + 1, note[1]);
		ASSERT_EQ('m', ct_await(note[0], WAIT_MS));
		end = ct_now_ns() + 3 * CT_SEC;
		while (ct_now_ns() < end) {
			uint32_t len = 0;
			int ret;

			memset(buf, 'w', sizeof(buf));
			k = write(sfd, buf, 1 + reads % sizeof(buf));
			if (k < 0)
				EXPECT_TRUE(errno == EAGAIN || errno == EIO)
					TH_LOG("write: %s", strerror(errno));
			k = read(rfd, buf, 1 + reads % sizeof(buf));
			if (k < 0) {
				errs++;
				EXPECT_TRUE(errno == EAGAIN || errno == EIO)
					TH_LOG("read: %s", strerror(errno));
			} else {
				ASSERT_GE((ssize_t)(1 + reads % sizeof(buf)),
					  k);
				tooks += (uint64_t)k;
			}
			/* A timed read by ID ends at its deadline at worst. */
			len = sizeof(buf);
			ret = ct_recv(self->dev, c.out_id, buf, &len,
				      CHAN_MSG_TIMEOUT, CT_MS);
			EXPECT_TRUE(!ret || errno == ETIMEDOUT ||
				    errno == EIO)
				TH_LOG("recv: %s", strerror(errno));
			EXPECT_LE(0, sm_fionread(rfd));
			sm_pollin(rfd);
			reads++;
		}
		ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
		/* Killed while it scribbles: the repair copes too. */
		ct_kill_wait(self->pid[0]);
		self->pid[0] = 0;
		ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
		k = read(rfd, buf, sizeof(buf));
		EXPECT_TRUE(k >= 0 || errno == EAGAIN || errno == EIO);
		close(sfd);
		close(rfd);
		ASSERT_OK(ct_destroy(self->dev, c.out_id));
		self->nids--;
	}
	TH_LOG("%llu rounds, %llu bytes read, %llu read errors",
	       (unsigned long long)reads, (unsigned long long)tooks,
	       (unsigned long long)errs);
	EXPECT_LT(100ULL, reads);
	close(note[0]);
	close(note[1]);
}

/* ---- an unprivileged mapper ---- */

TEST_F_TIMEOUT(sm, unprivileged, 120)
{
	static const char msg[] = "from root, to nobody, through the ring";
	struct chan_create rw, ro;
	int sfd, sfd2;

	ASSERT_OK(sm_create(self, 4, 0666, &rw));
	ASSERT_OK(sm_create(self, 4, 0644, &ro));
	sfd = ct_open(self->dev, rw.out_id, CHAN_ROLE_SEND, 0, 0);
	sfd2 = ct_open(self->dev, ro.out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, sfd2);
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (!self->pid[0]) {
		struct chan_ep *ep, *ep2;
		struct chan_ep_stats st;
		char buf[sizeof(msg) * 2];
		size_t done = 0;
		ssize_t k;

		CF_OK(ct_drop_privs(NULL, 0));
		CF_TRUE(!chan_ep_open(&ep, rw.out_id,
				      CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0),
			"open 0666");
		CF_TRUE(chan_ep_mapped(ep), "0666 not mapped");
		/* Bytes from the root writer, then its own, fast both ways. */
		while (done < sizeof(msg)) {
			k = chan_ep_stream_read_timeout(ep, buf + done,
							sizeof(buf) - done,
							10 * CT_SEC);
			CF_TRUE(k > 0, "read: %zd", k);
			done += (size_t)k;
		}
		CF_TRUE(!memcmp(buf, msg, sizeof(msg)), "bytes differ");
		CF_TRUE(chan_ep_stream_write(ep, msg, sizeof(msg)) ==
			(ssize_t)sizeof(msg), "write");
		k = chan_ep_stream_read(ep, buf, sizeof(buf));
		CF_TRUE(k == (ssize_t)sizeof(msg) && !memcmp(buf, msg, k),
			"own bytes: %zd", k);
		CF_OK(chan_ep_get_stats(ep, &st, sizeof(st)));
		CF_TRUE(st.fast_sent == 1 && st.fast_received >= 1,
			"fast path: sent %llu received %llu",
			(unsigned long long)st.fast_sent,
			(unsigned long long)st.fast_received);
		chan_ep_close(ep);
		/* Read permission only: not mapped, the kernel reads. */
		CF_TRUE(!chan_ep_open(&ep2, ro.out_id, CHAN_ROLE_RECV, 0),
			"open 0644");
		CF_TRUE(!chan_ep_mapped(ep2), "0644 mapped");
		k = chan_ep_stream_read_timeout(ep2, buf, sizeof(buf),
						10 * CT_SEC);
		CF_TRUE(k == (ssize_t)sizeof(msg) && !memcmp(buf, msg, k),
			"0644 read: %zd", k);
		chan_ep_close(ep2);
		_exit(0);
	}
	ASSERT_EQ((ssize_t)sizeof(msg), write(sfd, msg, sizeof(msg)));
	ASSERT_EQ((ssize_t)sizeof(msg), write(sfd2, msg, sizeof(msg)));
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "nobody"));
	close(sfd);
	close(sfd2);
}

/* ---- DESTROY with readers blocked ---- */

TEST_F_TIMEOUT(sm, destroy_wakes_blocked_readers, 120)
{
	struct chan_create c, c2;
	struct chan_slot *s;
	struct ct_ring ring;
	unsigned char b = 'x';
	uint32_t token, len, off;
	int sfd, mfd, k;
	__s64 pos;

	/* c: empty; c2: one byte, its head held by our own raw claim. */
	ASSERT_OK(sm_create(self, 4, 0600, &c));
	ASSERT_OK(sm_create(self, 4, 0600, &c2));
	sfd = ct_open(self->dev, c2.out_id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(1, write(sfd, &b, 1));
	mfd = ct_open_token(self->dev, c2.out_id,
			    CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, &token);
	ASSERT_LE(0, mfd);
	ASSERT_OK(ct_ring_map(mfd, &c2.out_ring, token, &ring));
	s = chan_ring_claim_stream(&ring.v, token, &pos, &len, &off);
	ASSERT_NE(NULL, s);

	for (k = 0; k < 2; k++) {
		uint32_t id = k ? c2.out_id : c.out_id;

		self->pid[k] = ct_fork_slot(k);
		ASSERT_LE(0, self->pid[k]);
		if (!self->pid[k]) {
			struct chan_ep *ep;
			char buf[8];
			ssize_t r;

			CF_OK(chan_ep_open(&ep, id, CHAN_ROLE_RECV, 0));
			CF_TRUE(chan_ep_mapped(ep), "not mapped");
			r = chan_ep_stream_read(ep, buf, sizeof(buf));
			CF_TRUE(r == -EIDRM, "read: %zd", r);
			_exit(0);
		}
		ASSERT_TRUE(ct_wait_blocked(self->pid[k], SYS_ioctl, WAIT_MS));
	}
	ASSERT_OK(ct_destroy(self->dev, c.out_id));
	ASSERT_OK(ct_destroy(self->dev, c2.out_id));
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "empty"));
	EXPECT_EQ(0, CT_CHILD(&self->pid[1], 1, WAIT_MS, "held head"));
	ct_ring_unmap(&ring);
	close(mfd);
	close(sfd);
}

TEST_HARNESS_MAIN
