// SPDX-License-Identifier: GPL-2.0
/*
 * The fast path (issue 9), from outside libchan: channels created
 * MAPPABLE, their rings mmap-ed through endpoints and driven with the
 * protocol code itself (kmod/chan_ring.h compiled in user space), the
 * view built from CREATE's geometry and the token from OPEN.
 *
 *  - mapping rules: which channels, callers, sizes, offsets, flags and
 *    protections mmap accepts, one live mapping per endpoint, fork does
 *    not inherit it, mremap cannot grow it (rules);
 *  - the header's geometry agrees with CREATE (rules.geometry);
 *  - messages cross between the fast path and ioctl SEND/RECV and
 *    read(2)/write(2) both ways, byte for byte, and INFO's counters
 *    balance (interop);
 *  - fast-path senders and receivers in several processes mixed with
 *    ioctl ones: every message exactly once, per-producer order (interop);
 *  - wake-ups: a fast-path sender against receivers asleep in the kernel
 *    in the one-slot hand-off pattern, and the reverse; the WAKE ioctl's
 *    argument checks (wake);
 *  - libchan's endpoint handles: fast-path and ioctl senders and
 *    receivers across processes, handles used in a forked child (the
 *    kernel path, nothing lost), many threads on one handle, NULL
 *    buffers left to the kernel's EFAULT (ep_*).
 *
 * Every wait is bounded: a lost wake-up shows as ETIMEDOUT or a child
 * killed at its deadline, never as a hang. Every fixture fails its test
 * if the kernel logged a warning meanwhile.
 */
#define CT_WANT_RING
#include "chan_test_util.h"

#include <pthread.h>
#include <stddef.h>
#include <libchan.h>

#pragma GCC diagnostic ignored "-Wclobbered"

#define WAIT_MS		60000
#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)
#define MAX_IDS		16
#define OP_TIMEOUT_NS	(30 * CT_SEC)

FIXTURE(mm) {
	int dev;
	int kmsg;
	mode_t dev_mode;
	uint32_t ids[MAX_IDS];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(mm)
{
	self->nids = 0;
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(mm)
{
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg, self->ids,
			 self->nids);
	ct_dev_restore(self->dev_mode);
	close(self->dev);
}

/* A mappable channel destroyed at teardown; c gets CREATE's answer. */
static int mm_create(FIXTURE_DATA(mm) *self, uint32_t msg_size,
		     uint32_t capacity, uint32_t mode, struct chan_create *c)
{
	return ct_create_kept(self->dev, msg_size, capacity, mode, c,
			      self->ids, &self->nids, MAX_IDS);
}

static void *map_fd(int fd, size_t len, int prot, int flags, off_t off)
{
	return mmap(NULL, len, prot, flags, fd, off);
}

/* In a child: fd's ring maps read-write and shows the header's magic. */
static void child_map_check(int fd, size_t size)
{
	void *m = map_fd(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED, 0);

	CF_TRUE(m != MAP_FAILED, "%s", ct_ename(errno));
	CF_TRUE(((struct chan_ring_hdr *)m)->magic == CHAN_RING_MAGIC,
		"magic");
}

/* Is [addr, addr + 1) in /proc/self/maps? */
static bool mapped_here(const void *addr)
{
	uintptr_t a = (uintptr_t)addr, lo, hi;
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return true;	/* cannot tell: count it as mapped */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 &&
		    a >= lo && a < hi)
			found = true;
	fclose(f);
	return found;
}

/* ---- mapping rules ---- */

TEST_F(mm, geometry)
{
	struct chan_create c, plain;
	uint32_t t1 = 0, t2 = 0;
	struct chan_open o;
	struct ct_ring r;
	int fd1, fd2, fd3;

	ASSERT_OK(mm_create(self, 100, 5, 0600, &c));
	EXPECT_TRUE(!!(c.out_features & CHAN_FEAT_MMAP));
	EXPECT_EQ(8U, c.out_ring.capacity);
	EXPECT_EQ(100U, c.out_ring.msg_size);
	EXPECT_EQ(chan_ring_slot_size(100), c.out_ring.slot_size);
	EXPECT_EQ((uint32_t)CHAN_RING_HDR_SIZE, c.out_ring.slots_offset);
	EXPECT_EQ(0U, c.out_ring.map_size % CT_PAGE);
	EXPECT_LE((uint64_t)c.out_ring.slots_offset +
		  (uint64_t)c.out_ring.capacity * c.out_ring.slot_size,
		  c.out_ring.map_size);
	EXPECT_GT((uint64_t)c.out_ring.slots_offset +
		  (uint64_t)c.out_ring.capacity * c.out_ring.slot_size + CT_PAGE,
		  c.out_ring.map_size);
	EXPECT_EQ(offsetof(struct chan_ring_hdr, tail), c.out_ring.tail_offset);
	EXPECT_EQ(offsetof(struct chan_ring_hdr, head), c.out_ring.head_offset);
	EXPECT_EQ(offsetof(struct chan_ring_hdr, kstate), c.out_ring.kstate_offset);
	EXPECT_EQ(136U, offsetof(struct chan_ring_hdr, user_skipped));

	/* A channel that is not mappable keeps the compact header. */
	memset(&plain, 0, sizeof(plain));
	plain.msg_size = 100;
	plain.capacity = 8;
	ASSERT_OK(ct_create_raw(self->dev, &plain));
	self->ids[self->nids++] = plain.out_id;
	EXPECT_EQ((uint32_t)CHAN_RING_HDR_MIN, plain.out_ring.slots_offset);

	fd1 = ct_open_token(self->dev, c.out_id, RW, 0, &t1);
	ASSERT_LE(0, fd1);
	fd2 = ct_open_token(self->dev, c.out_id, CHAN_ROLE_SEND, 0, &t2);
	ASSERT_LE(0, fd2);
	EXPECT_LE(2U, t1);
	EXPECT_GE(65535U, t1);
	EXPECT_LE(2U, t2);
	EXPECT_GE(65535U, t2);
	EXPECT_NE(t1, t2);
	/* An old binary's 24-byte OPEN still works. */
	memset(&o, 0, sizeof(o));
	o.size = 24;
	o.id = c.out_id;
	o.roles = CHAN_ROLE_RECV;
	o.out_token = 0xdeadbeef;
	fd3 = ioctl(self->dev, CHAN_IOC_OPEN, &o);
	ASSERT_LE(0, fd3);
	/* Nothing written beyond the size given. */
	EXPECT_EQ(0xdeadbeefU, o.out_token);
	close(fd3);

	ASSERT_OK(ct_ring_map(fd1, &c.out_ring, t1, &r));
	EXPECT_EQ(CHAN_RING_MAGIC, r.v.hdr->magic);
	EXPECT_EQ((uint32_t)CHAN_RING_VERSION, r.v.hdr->version);
	EXPECT_EQ(c.out_ring.msg_size, r.v.hdr->msg_size);
	EXPECT_EQ(c.out_ring.slot_size, r.v.hdr->slot_size);
	EXPECT_EQ(c.out_ring.capacity, r.v.hdr->capacity);
	EXPECT_EQ(3U, r.v.hdr->capacity_shift);
	EXPECT_EQ(c.out_ring.slots_offset, r.v.hdr->slots_offset);
	EXPECT_EQ(0U, r.v.hdr->tail);
	EXPECT_EQ(0U, r.v.hdr->head);
	EXPECT_EQ(0U, r.ks->state);
	/* The whole mapping is there, up to its last byte. */
	EXPECT_EQ(0, ((volatile unsigned char *)r.base)[r.size - 1]);
	/* A send through the kernel shows in the mapping. */
	ASSERT_OK(ct_send_u64(fd2, 0, 42, 0));
	EXPECT_EQ(1U, r.v.hdr->tail);
	EXPECT_EQ(CHAN_SLOT_FULL, chan_slot_phase(chan_ring_slot(&r.v, 0)->state));
	EXPECT_EQ(CHAN_OWNER_KERNEL,
		  chan_slot_owner(chan_ring_slot(&r.v, 0)->state));
	ct_ring_unmap(&r);
	close(fd1);
	close(fd2);
}

TEST_F(mm, refused)
{
	struct chan_create c, plain;
	uint32_t tok;
	void *p;
	int fd, pfd;
	size_t sz;

	ASSERT_OK(mm_create(self, 64, 16, 0600, &c));
	sz = c.out_ring.map_size;
	fd = ct_open_token(self->dev, c.out_id, RW, 0, &tok);
	ASSERT_LE(0, fd);

	/* Not mappable. */
	ASSERT_OK(ct_create_simple(self->dev, 64, 16, &plain.out_id));
	self->ids[self->nids++] = plain.out_id;
	pfd = ct_open(self->dev, plain.out_id, RW, 0, 0);
	ASSERT_LE(0, pfd);
	EXPECT_EQ(MAP_FAILED, map_fd(pfd, CT_PAGE * 4, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	EXPECT_EQ(ENODEV, errno);
	close(pfd);
	/* /dev/chan itself maps nothing. */
	EXPECT_EQ(MAP_FAILED, map_fd(self->dev, sz, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));

	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz - CT_PAGE, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz + CT_PAGE, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz - CT_PAGE, PROT_READ | PROT_WRITE,
				     MAP_SHARED, CT_PAGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz, PROT_READ | PROT_WRITE,
				     MAP_SHARED, CT_PAGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz, PROT_READ | PROT_WRITE | PROT_EXEC,
				     MAP_SHARED, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz, PROT_READ | PROT_EXEC,
				     MAP_SHARED, 0));
	EXPECT_EQ(EPERM, errno);

	/* None of those left a mapping behind: a good one works now. */
	p = map_fd(fd, sz, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(CHAN_RING_MAGIC, ((struct chan_ring_hdr *)p)->magic);
	/* Never executable, not even later. */
	EXPECT_ERRNO(EACCES, mprotect(p, sz, PROT_READ | PROT_EXEC));
	EXPECT_ERRNO(EACCES, mprotect(p, CT_PAGE, PROT_READ | PROT_WRITE |
				      PROT_EXEC));
	/* Never larger. */
	EXPECT_EQ(MAP_FAILED, mremap(p, sz, sz + CT_PAGE, 0));
	EXPECT_EQ(MAP_FAILED, mremap(p, sz, sz + CT_PAGE, MREMAP_MAYMOVE));
	EXPECT_EQ(CHAN_RING_MAGIC, ((struct chan_ring_hdr *)p)->magic);
	EXPECT_OK(munmap(p, sz));
	close(fd);

	/* Destroyed: EIDRM. */
	fd = ct_open(self->dev, c.out_id, RW, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_destroy(self->dev, c.out_id));
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	EXPECT_EQ(EIDRM, errno);
	close(fd);
}

TEST_F(mm, destroy_shows_in_header)
{
	struct chan_create c;
	struct chan_info info;
	struct ct_ring r;
	uint32_t tok;
	int fd, i;

	ASSERT_OK(mm_create(self, 16, 4, 0600, &c));
	fd = ct_open_token(self->dev, c.out_id, RW, 0, &tok);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_ring_map(fd, &c.out_ring, tok, &r));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ct_fp_send(fd, &r, &i, sizeof(i), NULL));
	ASSERT_OK(ct_destroy(self->dev, c.out_id));
	EXPECT_TRUE(!!(__atomic_load_n(&r.ks->state, __ATOMIC_ACQUIRE) &
		       CHAN_STATE_DESTROYED));
	ASSERT_OK(ct_info(fd, 0, 0, &info));
	EXPECT_EQ(3U, info.sent);
	EXPECT_EQ(3U, info.discarded);
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	ct_ring_unmap(&r);
	close(fd);
}

TEST_F(mm, one_mapping_per_endpoint)
{
	struct chan_create c;
	void *p, *q;
	int fd, fd2, d;
	size_t sz;
	pid_t pid;

	ASSERT_OK(mm_create(self, 64, 16, 0600, &c));
	sz = c.out_ring.map_size;
	fd = ct_open(self->dev, c.out_id, RW, 0, 0);
	ASSERT_LE(0, fd);
	fd2 = ct_open(self->dev, c.out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd2);
	p = map_fd(fd, sz, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	EXPECT_EQ(EBUSY, errno);
	/* A dup of the fd is the same endpoint. */
	d = dup(fd);
	ASSERT_LE(0, d);
	EXPECT_EQ(MAP_FAILED, map_fd(d, sz, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	EXPECT_EQ(EBUSY, errno);
	close(d);
	/* Another endpoint maps the same ring. */
	q = map_fd(fd2, sz, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, memcmp(p, q, 64));

	/* A forked child shares the fd and the endpoint: EBUSY there too. */
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CF_TRUE(!mapped_here(p), "the child inherited the mapping");
		CF_TRUE(map_fd(fd, sz, PROT_READ | PROT_WRITE, MAP_SHARED, 0) ==
			MAP_FAILED && errno == EBUSY, "%s", ct_ename(errno));
		_exit(0);
	}
	self->pid[0] = pid;
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "child mmap"));

	/* After munmap, mapping again works (and again refuses a second). */
	ASSERT_OK(munmap(p, sz));
	p = map_fd(fd, sz, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(MAP_FAILED, map_fd(fd, sz, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_OK(munmap(p, sz));

	/* The child can map it once the parent's mapping is gone. */
	pid = ct_fork_slot(1);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		child_map_check(fd, sz);
		_exit(0);
	}
	self->pid[1] = pid;
	EXPECT_EQ(0, CT_CHILD(&self->pid[1], 1, WAIT_MS, "child's own map"));
	/* The child's exit unmapped it: ours again. */
	p = map_fd(fd, sz, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, sz);
	munmap(q, sz);
	close(fd);
	close(fd2);
}

TEST_F(mm, fork_does_not_inherit)
{
	struct chan_create c;
	volatile uint32_t *magic;
	int fd, st;
	size_t sz;
	pid_t pid, gc;
	void *p;

	ASSERT_OK(mm_create(self, 64, 4, 0600, &c));
	sz = c.out_ring.map_size;
	fd = ct_open(self->dev, c.out_id, RW, 0, 0);
	ASSERT_LE(0, fd);
	p = map_fd(fd, sz, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	magic = p;
	ASSERT_EQ(CHAN_RING_MAGIC, *magic);
	ASSERT_TRUE(mapped_here(p));

	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CF_TRUE(!mapped_here(p), "mapping in the child's maps");
		CF_TRUE(!mapped_here((char *)p + sz - 1), "tail in the maps");
		/* A grandchild touches it: it must fault. */
		gc = fork();
		CF_TRUE(gc >= 0, "fork");
		if (gc == 0) {
			signal(SIGSEGV, SIG_DFL);
			(void)*magic;
			_exit(0);
		}
		CF_TRUE(waitpid(gc, &st, 0) == gc, "waitpid");
		CF_TRUE(WIFSIGNALED(st) && (WTERMSIG(st) == SIGSEGV ||
					    WTERMSIG(st) == SIGBUS),
			"the grandchild read the ring (status %#x)", st);
		_exit(0);
	}
	self->pid[0] = pid;
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "forked child"));
	/* Ours is untouched. */
	EXPECT_EQ(CHAN_RING_MAGIC, *magic);
	munmap(p, sz);
	close(fd);
}

/*
 * Permission: mapping needs read and write on the channel, whatever the
 * endpoint's roles. An unprivileged user with only one of them opens the
 * endpoint its permission allows and is refused the mapping; with both it
 * maps.
 */
TEST_F(mm, permission)
{
	struct chan_create w, r, rw;
	pid_t pid;

	ASSERT_OK(mm_create(self, 64, 4, 0622, &w));
	ASSERT_OK(mm_create(self, 64, 4, 0644, &r));
	ASSERT_OK(mm_create(self, 64, 4, 0666, &rw));
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* 0622 may send only, 0644 receive only: neither may map. */
		const struct chan_create *one_way[] = { &w, &r };
		const unsigned int denied[] = { CHAN_ROLE_RECV, CHAN_ROLE_SEND };
		int dev, fd, i;

		CF_OK(ct_drop_privs(NULL, 0));
		dev = CF_OK(ct_dev_open());
		for (i = 0; i < 2; i++) {
			const struct chan_create *c = one_way[i];

			CF_ERRNO(EACCES, ct_open(dev, c->out_id, denied[i], 0,
						 0));
			fd = CF_OK(ct_open(dev, c->out_id,
					   denied[i] ^ (CHAN_ROLE_SEND |
							CHAN_ROLE_RECV), 0, 0));
			CF_ERRNO(EACCES, (long)map_fd(fd, c->out_ring.map_size,
						      PROT_READ | PROT_WRITE,
						      MAP_SHARED, 0));
			close(fd);
		}
		/*
		 * Only an opener who may read and write takes an owner
		 * token: one permission cannot use up the others' tokens.
		 */
		for (i = 0; i < 2; i++) {
			struct chan_open o = {
				.size = sizeof(o), .id = i ? rw.out_id : w.out_id,
				.roles = CHAN_ROLE_SEND,
			};

			fd = CF_OK(ioctl(dev, CHAN_IOC_OPEN, &o));
			CF_TRUE(i ? o.out_token > CHAN_OWNER_KERNEL :
				    o.out_token == CHAN_OWNER_NONE,
				"mode %s: token %u", i ? "0666" : "0622",
				o.out_token);
			close(fd);
		}
		/* 0666: a send-only endpoint still maps. */
		fd = CF_OK(ct_open(dev, rw.out_id, CHAN_ROLE_SEND, 0, 0));
		child_map_check(fd, rw.out_ring.map_size);
		_exit(0);
	}
	self->pid[0] = pid;
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "unprivileged"));
}

/* ---- messages across the two paths ---- */

#define IO_MSG	64

static uint32_t io_len(uint32_t seq)
{
	return seq % (IO_MSG + 1);
}

static void io_fill(unsigned char *buf, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < IO_MSG; i++)
		buf[i] = (unsigned char)(seq * 31 + i * 7 + 1);
}

static bool io_check(const unsigned char *buf, long len, uint32_t seq)
{
	unsigned char want[IO_MSG];

	if (len != (long)io_len(seq))
		return false;
	io_fill(want, seq);
	return !memcmp(buf, want, len);
}

TEST_F_TIMEOUT(mm, fast_and_kernel_paths, 120)
{
	unsigned char buf[IO_MSG + 8];
	struct chan_create c;
	struct chan_info info;
	uint32_t tok, seq = 0, got = 0, len, i;
	struct ct_ring r;
	uint64_t total = 0;
	int fd, kfd, round;
	long n;

	ASSERT_OK(mm_create(self, IO_MSG, 16, 0600, &c));
	fd = ct_open_token(self->dev, c.out_id, RW, 0, &tok);
	ASSERT_LE(0, fd);
	kfd = ct_open(self->dev, c.out_id, RW, 0, 0);
	ASSERT_LE(0, kfd);
	ASSERT_OK(ct_ring_map(fd, &c.out_ring, tok, &r));

	for (round = 0; round < 10; round++) {
		/* The fast path fills the ring... */
		for (i = 0; i < 16; i++, seq++) {
			io_fill(buf, seq);
			ASSERT_EQ(0, ct_fp_send(fd, &r, buf, io_len(seq),
						NULL));
		}
		ASSERT_EQ(-EAGAIN, ct_fp_send(fd, &r, buf, 1, NULL));
		EXPECT_ERRNO(EAGAIN, ct_send(kfd, 0, buf, 1,
					     CHAN_MSG_NONBLOCK, 0));
		ASSERT_OK(ct_info(kfd, 0, 0, &info));
		EXPECT_EQ(16U, info.depth);
		EXPECT_TRUE(ct_info_balanced(&info));
		/* ...the kernel drains it, ioctl and read(2) in turn. */
		for (i = 0; i < 16; i++, got++) {
			memset(buf, 0xee, sizeof(buf));
			if (i & 1) {
				n = read(kfd, buf, sizeof(buf));
			} else {
				len = sizeof(buf);
				n = ct_recv(kfd, 0, buf, &len,
					    CHAN_MSG_NONBLOCK, 0) ? -1 : (long)len;
			}
			ASSERT_TRUE(io_check(buf, n, got)) {
				TH_LOG("message %u: %ld bytes", got, n);
			}
		}
		EXPECT_ERRNO(EAGAIN, ct_recv_u64(kfd, 0, (uint64_t *)buf,
						 CHAN_MSG_NONBLOCK));
		/* A zero-length message from the kernel to the fast path. */
		ASSERT_OK(ct_send(kfd, 0, buf, 0, 0, 0));
		ASSERT_EQ(0, ct_fp_recv(fd, &r, buf, IO_MSG, NULL, NULL));
		ASSERT_EQ(-EAGAIN, ct_fp_recv(fd, &r, buf, IO_MSG, NULL, NULL));
		total += 17;
		/* The kernel fills it, write(2) and ioctl in turn... */
		for (i = 0; i < 16; i++, seq++) {
			io_fill(buf, seq);
			if (i & 1) {
				ASSERT_EQ((ssize_t)io_len(seq),
					  write(kfd, buf, io_len(seq)));
			} else {
				ASSERT_OK(ct_send(kfd, 0, buf, io_len(seq),
						  0, 0));
			}
		}
		/* ...the fast path drains it. */
		for (i = 0; i < 16; i++, got++) {
			memset(buf, 0xee, sizeof(buf));
			n = ct_fp_recv(fd, &r, buf, IO_MSG, NULL, NULL);
			ASSERT_TRUE(io_check(buf, n, got)) {
				TH_LOG("message %u: %ld", got, n);
			}
		}
		ASSERT_EQ(-EAGAIN, ct_fp_recv(fd, &r, buf, IO_MSG, NULL, NULL));
		total += 16;
	}
	ASSERT_OK(ct_info(kfd, 0, 0, &info));
	EXPECT_EQ(total, info.sent);
	EXPECT_EQ(total, info.received);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, info.depth);
	if (!ct_info_balanced(&info))
		CT_LOG_INFO("after the rounds", &info);

	/* A message too long for a fast-path receiver stays queued. */
	io_fill(buf, 64);
	ASSERT_EQ(0, ct_fp_send(fd, &r, buf, 64, NULL));
	EXPECT_EQ(-EMSGSIZE, ct_fp_recv(fd, &r, buf, 8, NULL, NULL));
	len = 8;
	EXPECT_ERRNO(EMSGSIZE, ct_recv(kfd, 0, buf, &len, 0, 0));
	EXPECT_EQ(64U, len);
	len = sizeof(buf);
	ASSERT_OK(ct_recv(kfd, 0, buf, &len, CHAN_MSG_NONBLOCK, 0));
	EXPECT_TRUE(io_check(buf, len, 64));

	/* Left queued at destroy: discarded. */
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, ct_fp_send(fd, &r, buf, 3, NULL));
	ASSERT_OK(ct_info(kfd, 0, 0, &info));
	EXPECT_EQ(5U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	ASSERT_OK(ct_destroy(self->dev, c.out_id));
	ASSERT_OK(ct_info(kfd, 0, 0, &info));
	EXPECT_EQ(total + 6, info.sent);
	EXPECT_EQ(total + 1, info.received);
	EXPECT_EQ(5U, info.discarded);
	EXPECT_EQ(0U, info.depth);
	EXPECT_TRUE(ct_info_balanced(&info));
	EXPECT_ERRNO(EIDRM, ct_recv_u64(kfd, 0, (uint64_t *)buf, 0));
	ct_ring_unmap(&r);
	close(fd);
	close(kfd);
}

/*
 * Several processes on one mappable channel: fast-path senders and
 * receivers (each its own endpoint and mapping, falling back to a timed
 * ioctl when the ring is full or empty, as libchan does) mixed with plain
 * ioctl ones. Every message arrives exactly once, each receiver sees each
 * producer's messages in order, and the counters balance.
 */
#define MIX_PROD	4	/* 0, 1: fast path; 2, 3: ioctl */
#define MIX_CONS	4	/* 0, 1: fast path; 2: ioctl; 3: read(2) */
#define MIX_MSGS	3000
#define MIX_TIMEOUT	(20 * CT_SEC)

struct mix_shared {
	uint64_t received;			/* messages taken by all */
	uint8_t seen[MIX_PROD][MIX_MSGS];	/* times each was received */
	uint64_t fast[MIX_PROD + MIX_CONS];	/* ops done on the fast path */
};

static int mix_producer(int dev, uint32_t id, const struct chan_ring_geom *g,
			int p, struct mix_shared *sh)
{
	uint32_t tok = 0, seq;
	struct ct_ring r;
	uint64_t msg[2];
	int fd, ret;

	fd = CF_OK(ct_open_token(dev, id, CHAN_ROLE_SEND, 0, &tok));
	if (p < 2)
		CF_OK(ct_ring_map(fd, g, tok, &r));
	for (seq = 0; seq < MIX_MSGS; seq++) {
		msg[0] = p;
		msg[1] = seq;
		if (p < 2) {
			ret = ct_fp_send(fd, &r, msg, sizeof(msg), NULL);
			if (ret == 0) {
				sh->fast[p]++;
				continue;
			}
			CF_TRUE(ret == -EAGAIN, "fast send: %d", ret);
		}
		CF_OK(ct_send(fd, 0, msg, sizeof(msg), CHAN_MSG_TIMEOUT,
			      MIX_TIMEOUT));
	}
	return 0;
}

/*
 * In a consumer: check that a message of n bytes is whole, in its
 * producer's order (last[], the previous of each) and record it.
 */
static void mix_record(struct mix_shared *sh, uint32_t *last,
		       const uint64_t *msg, long n)
{
	CF_TRUE(n == 2 * sizeof(*msg), "length %ld", n);
	CF_TRUE(msg[0] < MIX_PROD && msg[1] < MIX_MSGS,
		"garbage %llx %llx", (unsigned long long)msg[0],
		(unsigned long long)msg[1]);
	CF_TRUE(last[msg[0]] == UINT32_MAX || msg[1] > last[msg[0]],
		"producer %llu: %llu after %u",
		(unsigned long long)msg[0],
		(unsigned long long)msg[1], last[msg[0]]);
	last[msg[0]] = msg[1];
	__atomic_add_fetch(&sh->seen[msg[0]][msg[1]], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->received, 1, __ATOMIC_RELEASE);
}

/*
 * A consumer's receive through the kernel (RECV, or read(2) if rd),
 * bounded so that it sees the end: the length, -EAGAIN to try again, or
 * -EPIPE once every sender is gone and the channel drained.
 */
static long mix_recv_kernel(int fd, bool rd, uint64_t *msg, uint32_t size)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	uint32_t len = size;
	long n;

	if (rd) {
		/* read(2) blocks without a bound: poll first. */
		if (poll(&pf, 1, 100) != 1)
			return -EAGAIN;
		n = read(fd, msg, size);
		if (n < 0 && (errno == EAGAIN || errno == EPIPE))
			return -errno;
		CF_TRUE(n >= 0, "read: %s", ct_ename(errno));
		return n;
	}
	if (!ct_recv(fd, 0, msg, &len, CHAN_MSG_TIMEOUT, 100 * CT_MS))
		return len;
	if (errno == EPIPE)
		return -EPIPE;
	CF_TRUE(errno == ETIMEDOUT, "recv: %s", ct_ename(errno));
	return -EAGAIN;
}

static int mix_consumer(int dev, uint32_t id, const struct chan_ring_geom *g,
			int c, struct mix_shared *sh)
{
	uint32_t tok = 0, last[MIX_PROD];
	const uint64_t total = (uint64_t)MIX_PROD * MIX_MSGS;
	struct ct_ring r;
	uint64_t msg[2];
	long n;
	int fd, i;

	for (i = 0; i < MIX_PROD; i++)
		last[i] = UINT32_MAX;
	fd = CF_OK(ct_open_token(dev, id, CHAN_ROLE_RECV, 0, &tok));
	if (c < 2)
		CF_OK(ct_ring_map(fd, g, tok, &r));
	while (__atomic_load_n(&sh->received, __ATOMIC_ACQUIRE) < total) {
		n = -EAGAIN;
		if (c < 2) {
			n = ct_fp_recv(fd, &r, msg, sizeof(msg), NULL, NULL);
			CF_TRUE(n >= 0 || n == -EAGAIN, "fast recv: %ld", n);
			if (n >= 0)
				sh->fast[MIX_PROD + c]++;
		}
		if (n == -EAGAIN)
			n = mix_recv_kernel(fd, c == 3, msg, sizeof(msg));
		if (n == -EPIPE)
			break;	/* every sender gone, drained */
		if (n != -EAGAIN)
			mix_record(sh, last, msg, n);
	}
	return 0;
}

/* Defined below, after the libchan producers and consumers. */
static void mix_run(struct __test_metadata *_metadata,
		    FIXTURE_DATA(mm) *self, bool lib);

TEST_F_TIMEOUT(mm, mixed_processes, 600)
{
	mix_run(_metadata, self, false);
}

/* ---- wake-ups ---- */

TEST_F(mm, wake_arguments)
{
	struct chan_create c, priv;
	struct chan_wake w;
	int fd;
	pid_t pid;

	ASSERT_OK(mm_create(self, 16, 4, 0622, &c));
	ASSERT_OK(mm_create(self, 16, 4, 0600, &priv));
	fd = ct_open(self->dev, c.out_id, RW, 0, 0);
	ASSERT_LE(0, fd);
	EXPECT_OK(ct_wake(fd, 0, CHAN_ROLE_RECV, 0));
	EXPECT_OK(ct_wake(fd, 0, CHAN_ROLE_SEND, 0));
	EXPECT_OK(ct_wake(fd, 0, RW, 0));
	EXPECT_OK(ct_wake(self->dev, c.out_id, RW, 0));
	EXPECT_ERRNO(EOPNOTSUPP, ct_wake(fd, 0, CHAN_ROLE_RECV, 1));
	EXPECT_ERRNO(EOPNOTSUPP, ct_wake(fd, 0, CHAN_ROLE_RECV, 1U << 31));
	EXPECT_ERRNO(EINVAL, ct_wake(fd, 0, 0, 0));
	EXPECT_ERRNO(EINVAL, ct_wake(fd, 0, 4, 0));
	EXPECT_ERRNO(EINVAL, ct_wake(fd, 0, CHAN_ROLE_RECV | 8, 0));
	EXPECT_ERRNO(EINVAL, ct_wake(self->dev, c.out_id, 0, 0));
	/* The size rules of every ioctl. */
	memset(&w, 0, sizeof(w));
	w.size = 8;
	w.roles = CHAN_ROLE_RECV;
	EXPECT_ERRNO(EINVAL, ioctl(fd, CHAN_IOC_WAKE, &w));
	{
		struct { struct chan_wake w; __u32 extra[2]; } big;

		memset(&big, 0, sizeof(big));
		big.w.size = sizeof(big);
		big.w.roles = CHAN_ROLE_RECV;
		EXPECT_OK(ioctl(fd, CHAN_IOC_WAKE, &big));
		big.extra[1] = 1;
		EXPECT_ERRNO(E2BIG, ioctl(fd, CHAN_IOC_WAKE, &big));
	}
	EXPECT_ERRNO(ENOENT, ct_wake(self->dev, 0x7ffffff0, RW, 0));

	/* By ID: read or write permission needed. */
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev;

		CF_OK(ct_drop_privs(NULL, 0));
		dev = CF_OK(ct_dev_open());
		CF_ERRNO(EACCES, ct_wake(dev, priv.out_id, CHAN_ROLE_RECV, 0));
		CF_ERRNO(EACCES, ct_wake(dev, priv.out_id, RW, 0));
		CF_OK(ct_wake(dev, c.out_id, CHAN_ROLE_RECV, 0));
		_exit(0);
	}
	self->pid[0] = pid;
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "unprivileged"));

	ASSERT_OK(ct_destroy(self->dev, c.out_id));
	EXPECT_ERRNO(EIDRM, ct_wake(fd, 0, CHAN_ROLE_RECV, 0));
	close(fd);
}

/*
 * The one-slot hand-off: capacity 1, one fast-path party on one side and
 * several processes on the other, all asleep in the kernel most of the
 * time. The fast-path party never enters the kernel except for WAKE (it
 * spins with sched_yield() when it cannot go on, bounded by a deadline),
 * so a wake-up lost between its publish (or retire) and the sleepers'
 * waiter count leaves a sleeper to its timeout: ETIMEDOUT, a failure.
 */
#define HO_PEERS	3
#define HO_MSGS		400
#define HO_ROUNDS	4
#define HO_TIMEOUT	(30 * CT_SEC)
#define HO_SLOW		(10 * CT_SEC)	/* a woken sleeper is never this late */

static int ho_kernel_side(int fd, bool send, int n)
{
	uint64_t v = 0;
	uint32_t len;
	int i;

	for (i = 0; i < n; i++) {
		uint64_t t0 = ct_now_ns();

		len = sizeof(v);
		if (send ? ct_send(fd, 0, &v, sizeof(v), CHAN_MSG_TIMEOUT,
				   HO_TIMEOUT) :
			   ct_recv(fd, 0, &v, &len, CHAN_MSG_TIMEOUT,
				   HO_TIMEOUT))
			ct_child_die(__LINE__, "%s %d: %s",
				     send ? "send" : "recv", i,
				     ct_ename(errno));
		/* Even a kernel that retried after its timeout is caught. */
		CF_TRUE(ct_now_ns() - t0 < HO_SLOW, "%s %d took %llu ms",
			send ? "send" : "recv", i,
			(unsigned long long)((ct_now_ns() - t0) / CT_MS));
	}
	return 0;
}

static int ho_fast_side(int fd, const struct ct_ring *r, bool send, int n,
			uint64_t *woke)
{
	uint64_t deadline = ct_now_ns() + 2 * HO_TIMEOUT, v = 0;
	long ret;
	int i;

	for (i = 0; i < n; i++) {
		for (;;) {
			ret = send ? ct_fp_send(fd, r, &v, sizeof(v), woke) :
				     ct_fp_recv(fd, r, &v, sizeof(v), NULL,
						woke);
			if (ret >= 0)
				break;
			CF_TRUE(ret == -EAGAIN, "%s: %ld",
				send ? "send" : "recv", ret);
			CF_TRUE(ct_now_ns() < deadline,
				"message %d: the other side stalled", i);
			sched_yield();
		}
	}
	return 0;
}

static void handoff(struct __test_metadata *_metadata,
		    FIXTURE_DATA(mm) *self, bool fast_sends)
{
	uint64_t *woke, expect = 0;
	struct chan_create c;
	struct chan_info info;
	int round, i, fd[HO_PEERS + 1];
	uint32_t tok = 0;
	pid_t pid;

	woke = ct_shared_alloc(sizeof(*woke));
	ASSERT_NE(NULL, woke);
	ASSERT_OK(mm_create(self, sizeof(uint64_t), 1, 0600, &c));
	ASSERT_EQ(1U, c.out_ring.capacity);
	for (round = 0; round < HO_ROUNDS; round++) {
		fd[0] = ct_open_token(self->dev, c.out_id,
				      fast_sends ? CHAN_ROLE_SEND :
						   CHAN_ROLE_RECV, 0, &tok);
		ASSERT_LE(0, fd[0]);
		for (i = 1; i <= HO_PEERS; i++) {
			fd[i] = ct_open(self->dev, c.out_id,
					fast_sends ? CHAN_ROLE_RECV :
						     CHAN_ROLE_SEND, 0, 0);
			ASSERT_LE(0, fd[i]);
		}
		for (i = 0; i <= HO_PEERS; i++) {
			pid = ct_fork_slot(i);
			ASSERT_LE(0, pid);
			if (pid == 0) {
				struct ct_ring r;
				int j;

				for (j = 0; j <= HO_PEERS; j++)
					if (j != i)
						close(fd[j]);
				if (i)
					_exit(ho_kernel_side(fd[i], !fast_sends,
							     HO_MSGS));
				CF_OK(ct_ring_map(fd[0], &c.out_ring, tok, &r));
				_exit(ho_fast_side(fd[0], &r, fast_sends,
						   HO_PEERS * HO_MSGS, woke));
			}
			self->pid[i] = pid;
		}
		for (i = 0; i <= HO_PEERS; i++)
			close(fd[i]);
		for (i = 0; i <= HO_PEERS; i++)
			ASSERT_EQ(0, CT_CHILD(&self->pid[i], i, 200000,
					      i ? "kernel side" :
						  "fast side")) {
				TH_LOG("round %d", round);
			}
		expect += HO_PEERS * HO_MSGS;
		ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
		ASSERT_EQ(expect, info.sent);
		ASSERT_EQ(expect, info.received);
		ASSERT_EQ(0U, info.depth);
	}
	/* Worth something only if the kernel side slept and was woken. */
	EXPECT_LT(0U, fast_sends ? info.recv_waits : info.send_waits);
	EXPECT_LT(0U, *woke);
	TH_LOG("%llu wakes from the fast path, %llu kernel sleeps",
	       (unsigned long long)*woke,
	       (unsigned long long)(fast_sends ? info.recv_waits :
						 info.send_waits));
	munmap(woke, sizeof(*woke));
}

TEST_F_TIMEOUT(mm, handoff_fast_sender, 900)
{
	handoff(_metadata, self, true);
}

TEST_F_TIMEOUT(mm, handoff_fast_receiver, 900)
{
	handoff(_metadata, self, false);
}

/* ---- libchan's endpoint handles ---- */

#ifdef CHAN_EP_NO_MAP

static struct chan_ep *ep_open_or_die(uint32_t id, unsigned int roles,
				      unsigned int flags)
{
	struct chan_ep *ep = NULL;
	int ret = chan_ep_open(&ep, id, roles, flags);

	if (ret)
		ct_child_die(__LINE__, "chan_ep_open: %s", ct_ename(-ret));
	return ep;
}

/*
 * The mixed test again with handles: producers 0 and 1 and consumers 0
 * and 1 use mapped handles (their own processes), the others the raw
 * ioctls and read(2).
 */
/*
 * In a libchan child: a mapped handle of role on id (if mapped), or else
 * NULL and an endpoint fd in *fd.
 */
static struct chan_ep *ep_or_fd(uint32_t id, uint32_t role, bool mapped,
				int *fd)
{
	struct chan_ep *ep;
	int dev;

	if (mapped) {
		ep = ep_open_or_die(id, role, 0);
		CF_TRUE(chan_ep_mapped(ep) == 1, "not mapped");
		return ep;
	}
	dev = CF_OK(ct_dev_open());
	*fd = CF_OK(ct_open(dev, id, role, 0, 0));
	return NULL;
}

static int ep_producer(uint32_t id, int p, struct mix_shared *sh)
{
	struct chan_ep_stats st;
	struct chan_ep *ep;
	uint64_t msg[2];
	uint32_t seq;
	int fd = -1, ret;

	ep = ep_or_fd(id, CHAN_ROLE_SEND, p < 2, &fd);
	for (seq = 0; seq < MIX_MSGS; seq++) {
		msg[0] = p;
		msg[1] = seq;
		if (ep) {
			ret = chan_ep_send_timeout(ep, msg, sizeof(msg),
						   MIX_TIMEOUT);
			CF_TRUE(ret == 0, "send %u: %s", seq, ct_ename(-ret));
		} else {
			CF_OK(ct_send(fd, 0, msg, sizeof(msg),
				      CHAN_MSG_TIMEOUT, MIX_TIMEOUT));
		}
	}
	if (ep) {
		memset(&st, 0, sizeof(st));
		CF_OK(chan_ep_get_stats(ep, &st, sizeof(st)));
		CF_TRUE(st.fast_sent + st.kernel_sent == MIX_MSGS,
			"stats %llu + %llu", (unsigned long long)st.fast_sent,
			(unsigned long long)st.kernel_sent);
		sh->fast[p] = st.fast_sent;
		CF_OK(chan_ep_close(ep));
	}
	return 0;
}

static int ep_consumer(uint32_t id, int c, struct mix_shared *sh)
{
	const uint64_t total = (uint64_t)MIX_PROD * MIX_MSGS;
	uint32_t last[MIX_PROD];
	struct chan_ep_stats st;
	struct chan_ep *ep;
	uint64_t msg[2];
	int fd = -1, i;
	long n;

	for (i = 0; i < MIX_PROD; i++)
		last[i] = UINT32_MAX;
	ep = ep_or_fd(id, CHAN_ROLE_RECV, c < 2, &fd);
	while (__atomic_load_n(&sh->received, __ATOMIC_ACQUIRE) < total) {
		if (ep) {
			n = chan_ep_recv_timeout(ep, msg, sizeof(msg),
						 100 * CT_MS);
			if (n == -ETIMEDOUT)
				continue;
			CF_TRUE(n >= 0 || n == -EPIPE, "recv: %s",
				ct_ename((int)-n));
		} else {
			n = mix_recv_kernel(fd, c == 3, msg, sizeof(msg));
		}
		if (n == -EPIPE)
			break;	/* every sender gone, drained */
		if (n != -EAGAIN)
			mix_record(sh, last, msg, n);
	}
	if (ep) {
		memset(&st, 0, sizeof(st));
		CF_OK(chan_ep_get_stats(ep, &st, sizeof(st)));
		sh->fast[MIX_PROD + c] = st.fast_received;
		CF_OK(chan_ep_close(ep));
	}
	return 0;
}

/*
 * MIX_PROD producers and MIX_CONS consumers on one channel, by the raw
 * ring protocol or (lib) through libchan's handles: every message taken
 * exactly once, and both paths carried traffic.
 */
static void mix_run(struct __test_metadata *_metadata,
		    FIXTURE_DATA(mm) *self, bool lib)
{
	const uint64_t total = (uint64_t)MIX_PROD * MIX_MSGS;
	struct mix_shared *sh;
	struct chan_create c;
	struct chan_info info;
	int i, j, bad = 0;
	pid_t pid;

	sh = ct_shared_alloc(sizeof(*sh));
	ASSERT_NE(NULL, sh);
	ASSERT_OK(mm_create(self, 16, 8, 0600, &c));
	for (i = 0; i < MIX_PROD + MIX_CONS; i++) {
		pid = ct_fork_slot(i);
		ASSERT_LE(0, pid);
		if (pid == 0 && lib)
			_exit(i < MIX_PROD ? ep_producer(c.out_id, i, sh) :
			      ep_consumer(c.out_id, i - MIX_PROD, sh));
		if (pid == 0)
			_exit(i < MIX_PROD ?
			      mix_producer(self->dev, c.out_id, &c.out_ring, i, sh) :
			      mix_consumer(self->dev, c.out_id, &c.out_ring,
					   i - MIX_PROD, sh));
		self->pid[i] = pid;
	}
	for (i = 0; i < MIX_PROD + MIX_CONS; i++)
		EXPECT_EQ(0, CT_CHILD(&self->pid[i], i, 300000,
				      i < MIX_PROD ? "producer" : "consumer"));
	for (i = 0; i < MIX_PROD; i++)
		for (j = 0; j < MIX_MSGS; j++)
			if (sh->seen[i][j] != 1 && bad++ < 5)
				TH_LOG("producer %d message %d received %u times",
				       i, j, sh->seen[i][j]);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(total, sh->received);
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(total, info.sent);
	EXPECT_EQ(total, info.received);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, info.depth);
	/* Both paths really carried traffic. */
	for (i = 0; i < 2; i++) {
		EXPECT_LT(0U, sh->fast[i]);
		EXPECT_LT(0U, sh->fast[MIX_PROD + i]);
	}
	TH_LOG("%s: sent %llu+%llu of %d, received %llu+%llu",
	       lib ? "without a system call" : "fast path",
	       (unsigned long long)sh->fast[0], (unsigned long long)sh->fast[1],
	       2 * MIX_MSGS, (unsigned long long)sh->fast[MIX_PROD],
	       (unsigned long long)sh->fast[MIX_PROD + 1]);
	munmap(sh, sizeof(*sh));
}

TEST_F_TIMEOUT(mm, ep_mixed_processes, 600)
{
	mix_run(_metadata, self, true);
}

/*
 * fork() with mapped handles: the child has no mapping, its handles go
 * through the kernel (nothing fast, nothing lost, no crash), closing them
 * there leaves the parent's mapping alone, and the parent's fast path
 * goes on.
 */
#define EPF_MSGS	500

TEST_F_TIMEOUT(mm, ep_fork, 300)
{
	struct chan_ep *tx = NULL, *rx = NULL;
	struct chan_ep_stats st0, st;
	struct chan_create c;
	struct chan_info info;
	uint64_t v, i;
	int pp[2];
	long n;
	pid_t pid;

	ASSERT_OK(mm_create(self, sizeof(uint64_t), 16, 0600, &c));
	ASSERT_EQ(0, chan_ep_open(&tx, c.out_id, CHAN_ROLE_SEND, 0));
	ASSERT_EQ(0, chan_ep_open(&rx, c.out_id, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(tx));
	ASSERT_EQ(1, chan_ep_mapped(rx));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, chan_ep_send(tx, &i, sizeof(i)));
	memset(&st0, 0, sizeof(st0));
	ASSERT_EQ(0, chan_ep_get_stats(tx, &st0, sizeof(st0)));
	EXPECT_EQ(8U, st0.fast_sent);

	ASSERT_OK(pipe(pp));
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct chan_ep_stats cs0, cs;

		CF_TRUE(chan_ep_mapped(tx) == 0, "child still mapped");
		memset(&cs0, 0, sizeof(cs0));
		CF_OK(chan_ep_get_stats(tx, &cs0, sizeof(cs0)));
		/* The child takes what the parent queued... */
		for (i = 0; i < 8; i++) {
			n = chan_ep_recv_timeout(rx, &v, sizeof(v),
						 OP_TIMEOUT_NS);
			CF_TRUE(n == sizeof(v) && v == i, "got %ld: %llu", n,
				(unsigned long long)v);
		}
		ct_post(pp[1], 'r');
		/* ...and sends the parent a stream. */
		for (i = 0; i < EPF_MSGS; i++) {
			v = 1000 + i;
			n = chan_ep_send_timeout(tx, &v, sizeof(v),
						 OP_TIMEOUT_NS);
			CF_TRUE(n == 0, "send %llu: %s", (unsigned long long)i,
				ct_ename((int)-n));
		}
		memset(&cs, 0, sizeof(cs));
		CF_OK(chan_ep_get_stats(tx, &cs, sizeof(cs)));
		CF_TRUE(cs.fast_sent == cs0.fast_sent, "fast sends in the child");
		CF_TRUE(cs.kernel_sent >= cs0.kernel_sent + EPF_MSGS,
			"kernel sends %llu", (unsigned long long)cs.kernel_sent);
		/* Closing the inherited handles must not touch anything. */
		CF_OK(chan_ep_close(tx));
		CF_OK(chan_ep_close(rx));
		_exit(0);
	}
	self->pid[0] = pid;
	/* The child has taken the first eight: the rest is its stream. */
	ASSERT_EQ('r', ct_await(pp[0], WAIT_MS));
	for (i = 0; i < EPF_MSGS; i++) {
		n = chan_ep_recv_timeout(rx, &v, sizeof(v), OP_TIMEOUT_NS);
		ASSERT_EQ((long)sizeof(v), n);
		ASSERT_EQ(1000 + i, v);
	}
	ASSERT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "child"));
	/* Ours still maps and goes fast. */
	ASSERT_EQ(1, chan_ep_mapped(tx));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, chan_ep_send(tx, &i, sizeof(i)));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ((long)sizeof(v), chan_ep_recv(rx, &v, sizeof(v)));
		ASSERT_EQ(i, v);
	}
	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, chan_ep_get_stats(tx, &st, sizeof(st)));
	EXPECT_EQ(16U, st.fast_sent);
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ(16U + EPF_MSGS, info.sent);
	EXPECT_EQ(16U + EPF_MSGS, info.received);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(0, chan_ep_close(tx));
	EXPECT_EQ(0, chan_ep_close(rx));
}

/* Many threads on one handle each way: exactly once, per-thread order. */
#define EPT_THREADS	4
#define EPT_MSGS	5000

struct ept_arg {
	struct chan_ep *ep;
	int idx;
	int err;
	uint64_t got;
	uint32_t last[EPT_THREADS];
	uint8_t *seen;		/* [EPT_THREADS][EPT_MSGS] */
	uint64_t *total;
};

static void *ept_send(void *p)
{
	struct ept_arg *a = p;
	uint64_t msg[2];
	uint32_t i;
	int ret;

	for (i = 0; i < EPT_MSGS; i++) {
		msg[0] = a->idx;
		msg[1] = i;
		ret = chan_ep_send_timeout(a->ep, msg, sizeof(msg),
					   OP_TIMEOUT_NS);
		if (ret) {
			a->err = -ret;
			break;
		}
	}
	return NULL;
}

static void *ept_recv(void *p)
{
	const uint64_t total = (uint64_t)EPT_THREADS * EPT_MSGS;
	struct ept_arg *a = p;
	uint64_t msg[2];
	long n;
	int i;

	for (i = 0; i < EPT_THREADS; i++)
		a->last[i] = UINT32_MAX;
	while (__atomic_load_n(a->total, __ATOMIC_ACQUIRE) < total) {
		n = chan_ep_recv_timeout(a->ep, msg, sizeof(msg), 100 * CT_MS);
		if (n == -ETIMEDOUT)
			continue;
		if (n != sizeof(msg) || msg[0] >= EPT_THREADS ||
		    msg[1] >= EPT_MSGS ||
		    (a->last[msg[0]] != UINT32_MAX &&
		     msg[1] <= a->last[msg[0]])) {
			a->err = n < 0 ? (int)-n : EBADMSG;
			break;
		}
		a->last[msg[0]] = msg[1];
		__atomic_add_fetch(&a->seen[msg[0] * EPT_MSGS + msg[1]], 1,
				   __ATOMIC_RELAXED);
		__atomic_add_fetch(a->total, 1, __ATOMIC_RELEASE);
		a->got++;
	}
	return NULL;
}

TEST_F_TIMEOUT(mm, ep_threads, 600)
{
	struct ept_arg s[EPT_THREADS], r[EPT_THREADS];
	pthread_t st[EPT_THREADS], rt[EPT_THREADS];
	struct chan_ep *tx = NULL, *rx = NULL;
	struct chan_ep_stats ts, rs;
	struct chan_create c;
	struct chan_info info;
	uint64_t total = 0;
	uint8_t *seen;
	int i, bad = 0;

	seen = calloc(EPT_THREADS, EPT_MSGS);
	ASSERT_NE(NULL, seen);
	ASSERT_OK(mm_create(self, 16, 8, 0600, &c));
	ASSERT_EQ(0, chan_ep_open(&tx, c.out_id, CHAN_ROLE_SEND, 0));
	ASSERT_EQ(0, chan_ep_open(&rx, c.out_id, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(tx));
	ASSERT_EQ(1, chan_ep_mapped(rx));
	for (i = 0; i < EPT_THREADS; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		memset(&r[i], 0, sizeof(r[i]));
		s[i].ep = tx;
		s[i].idx = i;
		r[i].ep = rx;
		r[i].seen = seen;
		r[i].total = &total;
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, ept_recv, &r[i]));
		ASSERT_EQ(0, pthread_create(&st[i], NULL, ept_send, &s[i]));
	}
	for (i = 0; i < EPT_THREADS; i++) {
		pthread_join(st[i], NULL);
		pthread_join(rt[i], NULL);
		EXPECT_EQ(0, s[i].err);
		EXPECT_EQ(0, r[i].err);
	}
	for (i = 0; i < EPT_THREADS * EPT_MSGS; i++)
		if (seen[i] != 1 && bad++ < 5)
			TH_LOG("message %d/%d received %u times",
			       i / EPT_MSGS, i % EPT_MSGS, seen[i]);
	EXPECT_EQ(0, bad);
	ASSERT_OK(ct_info(self->dev, c.out_id, 0, &info));
	EXPECT_EQ((uint64_t)EPT_THREADS * EPT_MSGS, info.sent);
	EXPECT_EQ((uint64_t)EPT_THREADS * EPT_MSGS, info.received);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, info.depth);
	memset(&ts, 0, sizeof(ts));
	memset(&rs, 0, sizeof(rs));
	ASSERT_EQ(0, chan_ep_get_stats(tx, &ts, sizeof(ts)));
	ASSERT_EQ(0, chan_ep_get_stats(rx, &rs, sizeof(rs)));
	EXPECT_EQ((uint64_t)EPT_THREADS * EPT_MSGS,
		  ts.fast_sent + ts.kernel_sent);
	EXPECT_EQ((uint64_t)EPT_THREADS * EPT_MSGS,
		  rs.fast_received + rs.kernel_received);
	EXPECT_LT(0U, ts.fast_sent);
	EXPECT_LT(0U, rs.fast_received);
	TH_LOG("fast: %llu sent, %llu received of %d",
	       (unsigned long long)ts.fast_sent,
	       (unsigned long long)rs.fast_received, EPT_THREADS * EPT_MSGS);
	EXPECT_EQ(0, chan_ep_close(tx));
	EXPECT_EQ(0, chan_ep_close(rx));
	free(seen);
}

/*
 * NULL buffers of non-zero size through mapped handles: the fast path
 * leaves them to the kernel, which says EFAULT and keeps the message
 * queued, where the fast path's copy would fault (SIGSEGV). Every kind of
 * mapped handle: a message ring (with and without CRC32C), a compact SPSC
 * ring and its inline views, a broadcast receiver; single calls, batches
 * and a call.
 */
static void null_buffers_on(struct __test_metadata *_metadata,
			    FIXTURE_DATA(mm) *self, uint32_t flags)
{
	uint64_t v = 42, got = 0;
	struct chan_iov iov[2] = {
		{ .buf = (uintptr_t)&v, .len = sizeof(v) },
		{ .buf = 0, .len = sizeof(v) },
	};
	struct chan_ep *tx = NULL, *rx = NULL;
	struct chan_spsc sv, rv;
	uint32_t id;

	ASSERT_OK(ct_create_mappable(self->dev, sizeof(v), 8, 0600, flags,
				     &id, NULL));
	ASSERT_LT(self->nids, MAX_IDS);
	self->ids[self->nids++] = id;
	ASSERT_OK(chan_ep_open(&rx, id, CHAN_ROLE_RECV, 0));
	ASSERT_OK(chan_ep_open(&tx, id, CHAN_ROLE_SEND, 0));
	ASSERT_EQ(1, chan_ep_mapped(rx));
	if (!(flags & CHAN_CREATE_BROADCAST))
		ASSERT_EQ(1, chan_ep_mapped(tx));

	EXPECT_EQ(-EFAULT, chan_ep_try_send(tx, NULL, sizeof(v)));
	EXPECT_EQ(-EFAULT, chan_ep_send(tx, NULL, 1));
	EXPECT_EQ(-EAGAIN, chan_ep_try_recv(rx, &got, sizeof(got)));

	ASSERT_EQ(0, chan_ep_try_send(tx, &v, sizeof(v)));
	EXPECT_EQ(-EFAULT, chan_ep_try_recv(rx, NULL, sizeof(got)));
	EXPECT_EQ(-EFAULT, chan_ep_recv_timeout(rx, NULL, sizeof(got), CT_SEC));
	/* Still queued: a receive into a real buffer takes it. */
	EXPECT_EQ((ssize_t)sizeof(got),
		  chan_ep_try_recv(rx, &got, sizeof(got)));
	EXPECT_EQ(v, got);

	/* A batch stops at its NULL entry, which the kernel refuses. */
	EXPECT_EQ(1, chan_ep_send_batch(tx, iov, 2, CHAN_MSG_NONBLOCK, 0));
	iov[0].buf = (uintptr_t)&got;
	got = 0;
	EXPECT_EQ(1, chan_ep_recv_batch(rx, iov, 2, CHAN_MSG_NONBLOCK, 0));
	EXPECT_EQ(v, got);
	EXPECT_EQ(-EAGAIN, chan_ep_try_recv(rx, &got, sizeof(got)));

	if (flags & CHAN_CREATE_SPSC) {
		ASSERT_EQ(1, chan_ep_spsc(tx, CHAN_ROLE_SEND, &sv));
		ASSERT_EQ(1, chan_ep_spsc(rx, CHAN_ROLE_RECV, &rv));
		EXPECT_EQ(-EFAULT, chan_spsc_try_send(&sv, NULL, sizeof(v)));
		ASSERT_EQ(0, chan_spsc_try_send(&sv, &v, sizeof(v)));
		EXPECT_EQ(-EFAULT, chan_spsc_try_recv(&rv, NULL, sizeof(got)));
		got = 0;
		EXPECT_EQ((ssize_t)sizeof(got),
			  chan_spsc_try_recv(&rv, &got, sizeof(got)));
		EXPECT_EQ(v, got);
	}
	if (!(flags & (CHAN_CREATE_SPSC | CHAN_CREATE_BROADCAST))) {
		/* A call on one channel whose request has no buffer. */
		EXPECT_EQ(-EFAULT, chan_ep_call(tx, NULL, sizeof(v), rx, &got,
						sizeof(got), CHAN_MSG_NONBLOCK,
						0));
		EXPECT_EQ(-EAGAIN, chan_ep_try_recv(rx, &got, sizeof(got)));
	}
	EXPECT_EQ(0, chan_ep_close(tx));
	EXPECT_EQ(0, chan_ep_close(rx));
}

TEST_F(mm, ep_null_buffers)
{
	null_buffers_on(_metadata, self, 0);
	null_buffers_on(_metadata, self, CHAN_CREATE_CRC32C);
	null_buffers_on(_metadata, self, CHAN_CREATE_SPSC);
	null_buffers_on(_metadata, self, CHAN_CREATE_BROADCAST);
}

#endif /* CHAN_EP_NO_MAP */

CT_HARNESS_MAIN
