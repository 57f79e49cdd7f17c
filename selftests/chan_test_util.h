/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every chan selftest includes: the helpers of chan_test_lib.h
 * (compiled once, in libct.a), the kselftest harness, and errno assertions
 * in the manner of the iommufd selftest.
 */
#ifndef CHAN_TEST_UTIL_H
#define CHAN_TEST_UTIL_H

#include "chan_test_lib.h"

/* The harness itself is not -Wextra clean (an unused handler argument). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

/*
 * cmd must fail (return -1, ASSERTed) with errno expected_errno (checked
 * by CHECK_EQ: ASSERT_EQ or EXPECT_EQ); the printf-style rest is logged
 * when it does not. errno is sampled right after cmd, before the harness
 * can touch it.
 */
#define CT_ERRNO(expected_errno, cmd, CHECK_EQ, fmt, ...)		\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		if (__ret != -1 || __err != (expected_errno))		\
			TH_LOG(fmt, ##__VA_ARGS__);			\
		ASSERT_EQ(-1, __ret);					\
		CHECK_EQ(expected_errno, __err);			\
	})

#define EXPECT_ERRNO(expected_errno, cmd)				\
	CT_ERRNO(expected_errno, cmd, EXPECT_EQ, "%s", #cmd)
#define ASSERT_ERRNO(expected_errno, cmd)				\
	CT_ERRNO(expected_errno, cmd, ASSERT_EQ, "%s", #cmd)
/* EXPECT_ERRNO that logs a line of context (printf-style) when it fails. */
#define EXPECT_ERRNO_CTX(expected_errno, cmd, fmt, ...)			\
	CT_ERRNO(expected_errno, cmd, EXPECT_EQ, fmt, ##__VA_ARGS__)

/* cmd must return 0 (checked by CHECK_EQ); log errno when it did not. */
#define CT_OK(cmd, CHECK_EQ)						\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		if (__ret != 0)						\
			TH_LOG("%s failed: ret %ld errno %d (%s)", #cmd,	\
			       __ret, __err, strerror(__err));		\
		CHECK_EQ(0, __ret);					\
	})

#define ASSERT_OK(cmd)		CT_OK(cmd, ASSERT_EQ)
#define EXPECT_OK(cmd)		CT_OK(cmd, EXPECT_EQ)

/*
 * main() for a test binary: the harness's own test_harness_run(), behind
 * ct_harness_main()'s filters (-f, -v, -t, -r, -l: see chan_test_lib.h),
 * which 6.1's harness lacks.
 */
#define CT_HARNESS_MAIN							\
	int main(int argc, char **argv)					\
	{								\
		return ct_harness_main(argc, argv, test_harness_run);	\
	}

#endif /* CHAN_TEST_UTIL_H */

/*
 * ======================================================================
 * The fast path (issue 9): mapped rings driven with the real protocol
 * code. Only for tests that define CT_WANT_RING before including this
 * file and are built with -I kmod (chan_ring.h compiled in user space).
 * Kept apart from the rest of this file on purpose.
 * ======================================================================
 */
#if defined(CT_WANT_RING) && !defined(CHAN_TEST_UTIL_RING_H)
#define CHAN_TEST_UTIL_RING_H

#include <stdarg.h>
#include <sys/prctl.h>

#include "chan_ring.h"

#define CT_PAGE		4096UL

/* A channel fd's mapping and a private view of it (never the header's). */
struct ct_ring {
	void *base;
	size_t size;
	struct chan_ring_view v;
	struct chan_ring_kstate *ks;
	uint32_t token;
};

static inline int ct_create_mappable(int dev, uint32_t msg_size,
				     uint32_t capacity, uint32_t mode,
				     uint32_t flags, uint32_t *id,
				     struct chan_create *out)
{
	struct chan_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.flags = flags | CHAN_CREATE_MAPPABLE;
	c.msg_size = msg_size;
	c.capacity = capacity;
	c.mode = mode;
	ret = ct_create_raw(dev, &c);
	if (!ret && id)
		*id = c.out_id;
	if (!ret && out)
		*out = c;
	return ret;
}

/* OPEN that also returns the endpoint's owner token. */
static inline int ct_open_token(int dev, uint32_t id, uint32_t roles,
				uint32_t flags, uint32_t *token)
{
	struct chan_open o;
	int fd;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags;
	o.id = id;
	o.roles = roles;
	fd = ioctl(dev, CHAN_IOC_OPEN, &o);
	if (fd >= 0 && token)
		*token = o.out_token;
	return fd;
}

static inline int ct_wake(int fd, uint32_t id, uint32_t roles, uint32_t flags)
{
	struct chan_wake w = {
		.size = sizeof(w),
		.flags = flags,
		.id = id,
		.roles = roles,
	};

	return ioctl(fd, CHAN_IOC_WAKE, &w);
}

/* The view of a ring at base, from CREATE's geometry only. */
static inline void ct_ring_view_init(struct chan_ring_view *v, void *base,
				     const struct chan_ring_geom *g)
{
	v->hdr = base;
	v->slots = (unsigned char *)base + g->slots_offset;
	v->mask = g->capacity - 1;
	v->shift = __builtin_ctz(g->capacity);
	v->slot_size = g->slot_size;
	v->msg_size = g->msg_size;
}

/* mmap the ring through fd: 0, or -1 with errno. */
static inline int ct_ring_map(int fd, const struct chan_ring_geom *g,
			      uint32_t token, struct ct_ring *r)
{
	void *p = mmap(NULL, g->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);

	memset(r, 0, sizeof(*r));
	if (p == MAP_FAILED)
		return -1;
	r->base = p;
	r->size = g->map_size;
	r->token = token;
	ct_ring_view_init(&r->v, p, g);
	r->ks = (struct chan_ring_kstate *)((char *)p + g->kstate_offset);
	return 0;
}

static inline void ct_ring_unmap(struct ct_ring *r)
{
	if (r->base)
		munmap(r->base, r->size);
	r->base = NULL;
}

/*
 * The fast path's send, as libchan does it: claim, copy, publish, full
 * fence, and a WAKE only if a receiver sleeps in the kernel.
 * Returns 0, -EAGAIN (full) or -EIO; *woke counts the WAKEs issued.
 */
static inline int ct_fp_send(int fd, const struct ct_ring *r, const void *msg,
			     uint32_t len, uint64_t *woke)
{
	struct chan_slot *s;
	__s64 pos;

	s = chan_ring_claim_send(&r->v, r->token, &pos);
	if (!s)
		return (int)pos;
	memcpy(s->data, msg, len);
	chan_ring_publish(&r->v, s, (__u64)pos, len, r->token);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->ks->recv_waiters, __ATOMIC_RELAXED)) {
		if (woke)
			(*woke)++;
		if (ct_wake(fd, 0, CHAN_ROLE_RECV, 0))
			return -errno;
	}
	return 0;
}

/*
 * The fast path's receive: tombstones are retired and counted in the
 * header's user_skipped (and in *skipped); a real message is copied out,
 * retired, and a sleeping sender woken. Returns the length, -EAGAIN,
 * -EMSGSIZE or -EIO.
 */
static inline long ct_fp_recv(int fd, const struct ct_ring *r, void *buf,
			      uint32_t cap, uint64_t *skipped, uint64_t *woke)
{
	int n;

	for (n = 0; n < 1024; n++) {
		struct chan_slot *s;
		__u32 len = 0;
		__s64 pos;
		bool tomb;

		s = chan_ring_claim_recv(&r->v, r->token, cap, &pos, &len);
		if (!s)
			return (long)pos;
		tomb = chan_slot_is_tombstone(s);
		if (!tomb)
			memcpy(buf, s->data, len);
		chan_ring_retire(&r->v, s, (__u64)pos);
		if (tomb) {
			__atomic_add_fetch(&r->v.hdr->user_skipped, 1,
					   __ATOMIC_RELAXED);
			if (skipped)
				(*skipped)++;
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&r->ks->send_waiters, __ATOMIC_RELAXED)) {
			if (woke)
				(*woke)++;
			if (ct_wake(fd, 0, CHAN_ROLE_SEND, 0))
				return -errno;
		}
		if (!tomb)
			return len;
	}
	return -EIO;
}

/* sent = received + dropped + discarded + depth, and log it if not. */
static inline bool ct_info_balanced(const struct chan_info *i)
{
	return i->sent == i->received + i->dropped + i->discarded + i->depth;
}

#define CT_LOG_INFO(what, i)						\
	TH_LOG("%s: sent %llu received %llu dropped %llu discarded %llu " \
	       "depth %u", what, (unsigned long long)(i)->sent,	\
	       (unsigned long long)(i)->received,			\
	       (unsigned long long)(i)->dropped,			\
	       (unsigned long long)(i)->discarded, (i)->depth)

/*
 * Children report the first check that failed (line and message) in
 * shared memory and leave with _exit(1); the test logs it. One report
 * slot per child index.
 */
struct ct_report {
	int line;
	char msg[300];
};

#define CT_REPORTS	64
static struct ct_report *ct_rep;	/* CT_REPORTS of them, shared */
static int ct_rep_slot;

static inline int ct_reports_init(void)
{
	if (!ct_rep)
		ct_rep = ct_shared_alloc(sizeof(*ct_rep) * CT_REPORTS);
	if (!ct_rep)
		return -1;
	memset(ct_rep, 0, sizeof(*ct_rep) * CT_REPORTS);
	return 0;
}

static inline void __attribute__((noreturn, format(printf, 2, 3)))
ct_child_die(int line, const char *fmt, ...)
{
	va_list ap;

	if (ct_rep) {
		struct ct_report *r = &ct_rep[ct_rep_slot % CT_REPORTS];

		va_start(ap, fmt);
		vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
		va_end(ap);
		r->line = line;
	}
	_exit(1);
}

static inline const char *ct_ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

#define CF_TRUE(cond, fmt, ...)						\
	do {								\
		if (!(cond))						\
			ct_child_die(__LINE__, "%s: " fmt, #cond,	\
				     ##__VA_ARGS__);			\
	} while (0)
#define CF_OK(call)							\
	({								\
		long __r = (long)(call);				\
		if (__r < 0)						\
			ct_child_die(__LINE__, "%s: %s", #call,		\
				     ct_ename(errno));			\
		__r;							\
	})
#define CF_ERRNO(exp, call)						\
	do {								\
		long __r = (long)(call);				\
		int __e = errno;					\
		if (__r != -1)						\
			ct_child_die(__LINE__, "%s returned %ld, not %s", \
				     #call, __r, ct_ename(exp));	\
		if (__e != (exp))					\
			ct_child_die(__LINE__, "%s: %s, not %s", #call,	\
				     ct_ename(__e), ct_ename(exp));	\
	} while (0)

/* Fork a child that reports in slot; it dies with its parent. */
static inline pid_t ct_fork_slot(int slot)
{
	pid_t pid;

	if (ct_rep)
		memset(&ct_rep[slot % CT_REPORTS], 0, sizeof(*ct_rep));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		ct_rep_slot = slot;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	}
	return pid;
}

/* Wait for a child (bounded); log its report. Returns its exit code. */
#define CT_CHILD(pidp, slot, ms, what)					\
	({								\
		int __rc = ct_reap(pidp, ms);				\
		if (__rc)						\
			TH_LOG("%s: exit %d%s", what, __rc,		\
			       __rc == CT_WAIT_TIMEOUT ? " (timed out)" : ""); \
		if (__rc && ct_rep && ct_rep[(slot) % CT_REPORTS].line)	\
			TH_LOG("%s: line %d: %s", what,			\
			       ct_rep[(slot) % CT_REPORTS].line,	\
			       ct_rep[(slot) % CT_REPORTS].msg);	\
		__rc;							\
	})

/* CT_CHILD for a child that should end with exit code want (quiet then). */
#define CT_CHILD_EXPECT(pidp, slot, ms, what, want)			\
	({								\
		int __rc = ct_reap(pidp, ms);				\
		if (__rc != (want)) {					\
			TH_LOG("%s: exit %d, not %d%s", what, __rc,	\
			       (int)(want), __rc == CT_WAIT_TIMEOUT ?	\
			       " (timed out)" : "");			\
			if (ct_rep && ct_rep[(slot) % CT_REPORTS].line)	\
				TH_LOG("%s: line %d: %s", what,		\
				       ct_rep[(slot) % CT_REPORTS].line,	\
				       ct_rep[(slot) % CT_REPORTS].msg);	\
		}							\
		__rc;							\
	})

/* Pipes as one-byte semaphores. */
static inline void ct_post(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(CT_EXIT_SETUP);
}

/* The next byte, or -1 on timeout or EOF. */
static inline int ct_await(int fd, unsigned int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, (int)ms) != 1)
		return -1;
	if (read(fd, &c, 1) != 1)
		return -1;
	return (unsigned char)c;
}

/* Kernel log records since ct_kmsg_open() that mean something broke. */
static inline int ct_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static inline int ct_kmsg_bad(struct __test_metadata *_metadata, int fd)
{
	static const char *const bad_words[] = {
		"WARNING:", "BUG:", "BUG ", "Oops", "refcount_t", "KASAN",
		"UBSAN", "general protection", "use-after-free",
		"list_add corruption", "list_del corruption", "lockdep",
		"possible recursive locking", "possible circular locking",
		"blocked for more than", "soft lockup", "hard LOCKUP",
		"self-detected stall", "Call Trace", "kmemleak", "Bad page",
		"bad pte", "double free",
	};
	char buf[4096], *msg;
	size_t i;
	ssize_t n;
	int bad = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		buf[n] = 0;
		msg = strchr(buf, ';');
		msg = msg ? msg + 1 : buf;
		for (i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++)
			if (strstr(msg, bad_words[i])) {
				if (bad++ < 8)
					TH_LOG("kernel: %.*s",
					       (int)strcspn(msg, "\n"), msg);
				break;
			}
	}
	return bad;
}

/*
 * What the fixtures of the ring tests (chan_mmap_test, chan_repair_test)
 * share: /dev/chan and the kernel log from the setup on; at teardown the
 * children reaped, the channels in ids[] destroyed and the log checked.
 * The caller closes dev.
 */
static inline void ct_ring_setup(struct __test_metadata *_metadata,
				 int *dev, int *kmsg)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT_OK(ct_reports_init());
	*dev = ct_dev_open();
	ASSERT_LE(0, *dev);
	*kmsg = ct_kmsg_open();
	ASSERT_LE(0, *kmsg);
}

static inline void ct_ring_teardown(struct __test_metadata *_metadata,
				    pid_t *pid, int dev, int kmsg,
				    const uint32_t *ids, int nids)
{
	int i;

	ct_reap_all(pid, CT_MAX_CHILDREN);
	for (i = 0; i < nids; i++)
		ct_destroy(dev, ids[i]);
	EXPECT_EQ(0, ct_kmsg_bad(_metadata, kmsg));
	close(kmsg);
}

/* A mappable channel whose ID is kept in ids[] (*nids of max) if room. */
static inline int ct_create_kept(int dev, uint32_t msg_size,
				 uint32_t capacity, uint32_t mode,
				 struct chan_create *c, uint32_t *ids,
				 int *nids, int max)
{
	uint32_t id;
	int ret = ct_create_mappable(dev, msg_size, capacity, mode, 0, &id,
				     c);

	if (!ret && *nids < max)
		ids[(*nids)++] = id;
	return ret;
}

/* CRC32C bit by bit: an oracle independent of the kernel's and libchan's. */
static inline uint32_t ct_crc32c(uint32_t crc, const void *p, size_t len)
{
	const unsigned char *b = p;
	int k;

	while (len--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78U & (0U - (crc & 1)));
	}
	return crc;
}

/*
 * The check a CHAN_CREATE_CRC32C message carries: CRC32C of its length
 * (little-endian) and its payload.
 */
static inline uint32_t ct_msg_check(const void *msg, uint32_t len)
{
	unsigned char le[4] = { len, len >> 8, len >> 16, len >> 24 };

	return ~ct_crc32c(ct_crc32c(~0U, le, 4), msg, len);
}

/* xorshift64*: a cheap, seeded, reproducible random stream. */
static inline uint64_t ct_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

#endif /* CT_WANT_RING */
