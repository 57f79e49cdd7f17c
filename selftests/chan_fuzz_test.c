// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz /dev/chan and channel fds, then check the ABI exhaustively.
 *
 * fuzz.random: FZ_THREADS threads, CHAN_FUZZ_ITERS iterations each (default
 * 20000), seeded from CHAN_FUZZ_SEED (default: the clock; printed as
 * "# seed N" so that a failing run can be repeated). Each iteration is one
 * of: an ioctl with a random command (mostly type 0xC4, nr 0..15, random
 * dir/size bits; sometimes any number but the VFS's own generic ones) and
 * a random or half-valid struct (size 0..several pages, random flags and
 * reserved words, pointers NULL / PROT_NONE / read-only / kernel /
 * non-canonical / valid / straddling a guard page, huge lengths, huge and
 * tiny timeouts); read/write/poll with random lengths and pointers; and
 * CREATE/DESTROY/OPEN/close churn by ID (a fifth of the channels created
 * are byte streams). Most calls that could sleep are
 * non-blocking or have a tiny timeout; the rest run under a watchdog
 * thread that interrupts (SIGUSR1, no SA_RESTART) any call older than
 * FZ_WATCHDOG_MS, so nothing waits forever.
 *
 * Asserted: every failure's errno is in the table of uapi/linux/chan.h or
 * one of EBADF/ENOTTY/EFAULT/EINTR/ENOMEM/EMFILE (the first offenders are
 * printed with the call); successes return what they should; the process
 * survives; afterwards every channel we created is destroyed, INFO_NEXT
 * finds none of ours (nor any channel nobody recorded: a failed CREATE
 * that left one behind), and no /dev/chan or channel fd is left open. The
 * kernel log is checked by scripts/vm-run.sh.
 *
 * Two variants: fuzz.root.random as root in the initial namespaces, and
 * fuzz.userns.random as an unprivileged uid that made a user and an IPC
 * namespace of its own (root there, nobody outside), while a fifth thread
 * churns namespaces: it forks children that each enter a new IPC
 * namespace (some a new user namespace too), open /dev/chan, create
 * channels, open endpoints, send, and exit without cleaning up, so that
 * the kernel's namespace reaper runs beside the fuzzing.
 *
 * fuzz_abi.*: deterministic: for every command (on /dev/chan and, where
 * valid, on a channel fd) every single flag bit, every size field value
 * 0..64, and structs that end at or straddle an inaccessible page, each
 * with the exact errno the header documents.
 */
#include "chan_test_util.h"

#include <stddef.h>

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <ucontext.h>

#define FZ_THREADS		4
#define FZ_DEF_ITERS		20000
#define FZ_BUF_PAGES		3	/* RW pages, then a PROT_NONE guard */
#define FZ_MAX_LIVE		48	/* tracked live channels */
#define FZ_MAX_FDS		12	/* fds a thread owns at once */
#define FZ_MAX_BAD		12	/* unexpected results printed */
#define FZ_WATCHDOG_MS		10
#define FZ_KADDR		0xffffffff81000000ULL
#define FZ_BIG_RING		(8ULL << 20)	/* destroy bigger rings at once */

static size_t fz_page;

/* ---- random numbers (splitmix64) ---- */

static inline uint64_t fz_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint32_t fz_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(fz_next(s) % n) : 0;
}

static inline bool fz_chance(uint64_t *s, unsigned int pct)
{
	return fz_below(s, 100) < pct;
}

static uint64_t fz_env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* ---- shared state ---- */

struct fz_thread;

struct fz_shared {
	int dev;			/* never closed by the workers */
	int shfd[6];			/* shared channel fds, never closed */
	int nshfd;
	uint32_t shid[2];		/* their channels */
	uint8_t *ro;			/* one read-only page of random bytes */
	uint8_t *none;			/* one PROT_NONE page */
	uint64_t seed;
	unsigned long iters;

	pthread_mutex_t lock;		/* the ID lists and the bad list */
	uint32_t live[FZ_MAX_LIVE];	/* created, maybe not yet destroyed */
	int nlive;
	uint32_t *all;			/* every ID ever created */
	size_t nall, capall;

	int nbad;
	char bad[FZ_MAX_BAD][320];

	atomic_bool stop;
	atomic_int done;
	atomic_ulong calls, failures, interrupts, creates, opens, eio;
	atomic_ulong ns_rounds, ns_failed;	/* namespace churn */
	atomic_ulong errs[256];		/* errno histogram */
	struct fz_thread *th;
	int nth;
};

struct fz_thread {
	struct fz_shared *sh;
	pthread_t tid;
	int idx;
	uint64_t rng;
	uint8_t *buf;			/* FZ_BUF_PAGES pages + guard */
	int fds[FZ_MAX_FDS];		/* owned: channel fds, /dev/chan fds */
	int nfds;
	_Atomic uint64_t call_start;	/* ns, 0 outside a call */
	char what[192];			/* the current call, for reports */
};

/* The calling worker, for the crash report. */
static __thread struct fz_thread *fz_self;

/* A crash of the fuzzer itself: say where and in which call, then die. */
static void fz_crash(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;
	char line[400];
	int n;

	n = snprintf(line, sizeof(line),
		     "# signal %d at %p (ip %#llx) in thread %d during: %s\n",
		     sig, si->si_addr,
		     (unsigned long long)u->uc_mcontext.gregs[REG_RIP],
		     fz_self ? fz_self->idx : -1,
		     fz_self ? fz_self->what : "(main thread)");
	if (n > 0)
		write(1, line, n < (int)sizeof(line) ? n : (int)sizeof(line));
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fz_record_id(struct fz_shared *sh, uint32_t id, bool live)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->nall == sh->capall) {
		size_t cap = sh->capall ? sh->capall * 2 : 1024;
		uint32_t *n = realloc(sh->all, cap * sizeof(*n));

		if (n) {
			sh->all = n;
			sh->capall = cap;
		}
	}
	if (sh->nall < sh->capall)
		sh->all[sh->nall++] = id;
	if (live && sh->nlive < FZ_MAX_LIVE)
		sh->live[sh->nlive++] = id;
	pthread_mutex_unlock(&sh->lock);
}

/* A tracked ID (maybe stale), or 0 if none. */
static uint32_t fz_pick_live(struct fz_thread *t, bool remove)
{
	struct fz_shared *sh = t->sh;
	uint32_t id = 0;
	int i;

	pthread_mutex_lock(&sh->lock);
	if (sh->nlive) {
		i = fz_below(&t->rng, sh->nlive);
		id = sh->live[i];
		if (remove)
			sh->live[i] = sh->live[--sh->nlive];
	}
	pthread_mutex_unlock(&sh->lock);
	return id;
}

static int fz_nlive(struct fz_shared *sh)
{
	int n;

	pthread_mutex_lock(&sh->lock);
	n = sh->nlive;
	pthread_mutex_unlock(&sh->lock);
	return n;
}

static void fz_bad_line(struct fz_shared *sh, const char *line)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->nbad < FZ_MAX_BAD)
		snprintf(sh->bad[sh->nbad], sizeof(sh->bad[0]), "%s", line);
	sh->nbad++;
	pthread_mutex_unlock(&sh->lock);
}

static void fz_bad(struct fz_thread *t, const char *fmt, ...)
{
	char line[320];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "thread %d: %s: ", t->idx, t->what);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	fz_bad_line(t->sh, line);
}

static bool fz_errno_ok(int e)
{
	switch (e) {
	/* the table in uapi/linux/chan.h */
	case EINVAL: case E2BIG: case EOPNOTSUPP: case ENOTTY: case EAGAIN:
	case ETIMEDOUT: case EINTR: case EPIPE: case EIDRM: case EMSGSIZE:
	case ENOENT: case EEXIST: case EACCES: case EPERM: case EBADF:
	case EPROTOTYPE: case ENOSPC: case ENOMEM: case EFAULT: case EIO:
	/* and what any fd call may say */
	case EMFILE:
		return true;
	}
	return false;
}

static void fz_enter(struct fz_thread *t)
{
	atomic_store(&t->call_start, ct_now_ns());
}

/* After a call: count it and check its errno. */
static void fz_leave(struct fz_thread *t, long ret, int err)
{
	struct fz_shared *sh = t->sh;

	atomic_store(&t->call_start, 0);
	atomic_fetch_add(&sh->calls, 1);
	if (ret != -1)
		return;
	atomic_fetch_add(&sh->failures, 1);
	atomic_fetch_add(&sh->errs[err & 255], 1);
	if (err == EIO)
		atomic_fetch_add(&sh->eio, 1);
	if (!fz_errno_ok(err))
		fz_bad(t, "unexpected errno %d (%s)", err, strerror(err));
}

/* ---- fds ---- */

static void fz_own_fd(struct fz_thread *t, int fd)
{
	if (t->nfds < FZ_MAX_FDS) {
		t->fds[t->nfds++] = fd;
		return;
	}
	close(fd);
}

static void fz_close_one(struct fz_thread *t)
{
	int i, fd;

	if (!t->nfds)
		return;
	i = fz_below(&t->rng, t->nfds);
	fd = t->fds[i];
	t->fds[i] = t->fds[--t->nfds];
	snprintf(t->what, sizeof(t->what), "close(%d)", fd);
	fz_enter(t);
	if (close(fd))
		fz_bad(t, "close failed: %s", strerror(errno));
	fz_leave(t, 0, 0);
}

/* Any fd to throw a call at: shared, owned, /dev/chan, or a bad number. */
static int fz_pick_fd(struct fz_thread *t)
{
	struct fz_shared *sh = t->sh;
	uint32_t r = fz_below(&t->rng, 100);

	if (r < 20)
		return sh->dev;
	if (r < 60)
		return sh->shfd[fz_below(&t->rng, sh->nshfd)];
	if (r < 92 && t->nfds)
		return t->fds[fz_below(&t->rng, t->nfds)];
	if (r < 96)
		return -1;
	return 900 + fz_below(&t->rng, 100);	/* not open */
}

/* ---- pointers and values ---- */

/* An address for a payload or struct of len bytes. */
static uint64_t fz_ptr(struct fz_thread *t, size_t len)
{
	size_t area = FZ_BUF_PAGES * fz_page;
	uint8_t *guard = t->buf + area;

	switch (fz_below(&t->rng, 12)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)t->sh->none + fz_below(&t->rng, fz_page);
	case 2:
		return (uintptr_t)t->sh->ro + fz_below(&t->rng, fz_page);
	case 3:
		return FZ_KADDR + fz_below(&t->rng, 4096);
	case 4:
		return 0x8000000000000000ULL >> fz_below(&t->rng, 2);
	case 5:
		return ~0ULL - fz_below(&t->rng, 64);
	case 6:	/* ends at, or just past, the guard page */
		len = len < area ? len : area;
		return (uintptr_t)guard - len + fz_below(&t->rng, 9);
	case 7:
		return fz_next(&t->rng);
	default:	/* inside the buffer */
		return (uintptr_t)t->buf + fz_below(&t->rng, area);
	}
}

static uint32_t fz_len(struct fz_thread *t)
{
	static const uint32_t edge[] = { 0, 1, 7, 8, 63, 64, 255, 256, 257,
		4095, 4096, 4097, 65536, CHAN_MSG_SIZE_MAX,
		CHAN_MSG_SIZE_MAX + 1, 0x7fffffff, 0x80000000, 0xffffffff };

	if (fz_chance(&t->rng, 60))
		return edge[fz_below(&t->rng, sizeof(edge) / sizeof(edge[0]))];
	if (fz_chance(&t->rng, 70))
		return fz_below(&t->rng, 3 * 4096);
	return (uint32_t)fz_next(&t->rng);
}

static uint64_t fz_timeout(struct fz_thread *t)
{
	switch (fz_below(&t->rng, 8)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return fz_below(&t->rng, 2 * CT_MS);
	case 3:
		return ~0ULL;
	case 4:
		return (uint64_t)INT64_MAX + fz_below(&t->rng, 3) - 1;
	case 5:	/* an absolute time around now */
		return ct_now_ns() + fz_below(&t->rng, 2 * CT_MS);
	case 6:
		return fz_next(&t->rng);
	default:
		return fz_below(&t->rng, 100000);
	}
}

/* Flags for SEND/RECV: mostly safe; sometimes anything (the watchdog). */
static uint32_t fz_msg_flags(struct fz_thread *t, uint64_t *timeout)
{
	uint32_t r = fz_below(&t->rng, 100);

	if (r < 45) {
		*timeout = 0;
		return CHAN_MSG_NONBLOCK;
	}
	if (r < 70) {
		*timeout = fz_below(&t->rng, CT_MS);
		return CHAN_MSG_TIMEOUT;
	}
	if (r < 80) {
		*timeout = ct_now_ns() + fz_below(&t->rng, CT_MS);
		return CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME;
	}
	*timeout = fz_timeout(t);
	if (r < 92)
		return fz_below(&t->rng, 8);
	return (uint32_t)fz_next(&t->rng) >> fz_below(&t->rng, 32);
}

static uint32_t fz_id(struct fz_thread *t)
{
	uint32_t r = fz_below(&t->rng, 100);

	if (r < 55) {
		uint32_t id = fz_pick_live(t, false);

		if (id)
			return id;
	}
	if (r < 80)
		return t->sh->shid[fz_below(&t->rng, 2)];
	if (r < 85)
		return 0;
	if (r < 90)
		return ~0U;
	return (uint32_t)fz_next(&t->rng);
}

static void fz_random_bytes(struct fz_thread *t, void *p, size_t n)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t v = fz_next(&t->rng);

		memcpy(b + i, &v, 8);
	}
	for (; i < n; i++)
		b[i] = (uint8_t)fz_next(&t->rng);
}

static void fz_name(struct fz_thread *t, char *name)
{
	switch (fz_below(&t->rng, 6)) {
	case 0:
		name[0] = 0;
		break;
	case 1:
		fz_random_bytes(t, name, CHAN_NAME_MAX);
		break;
	case 2:	/* no NUL */
		memset(name, 'a' + fz_below(&t->rng, 26), CHAN_NAME_MAX);
		break;
	case 3:
		snprintf(name, CHAN_NAME_MAX, "fz/%u", fz_below(&t->rng, 9));
		break;
	default:
		snprintf(name, CHAN_NAME_MAX, "fz-%d-%u", (int)getpid(),
			 fz_below(&t->rng, 16));
		break;
	}
}

/* ---- the calls ---- */

/*
 * Fill a struct of command nr at p (n bytes writable from p), half valid:
 * fields are either sensible or garbage, the size field anything.
 */
static void fz_fill(struct fz_thread *t, unsigned int nr, uint8_t *p,
		    size_t n)
{
	uint8_t tmp[256];
	size_t ksize = 0;
	uint64_t timeout;

	memset(tmp, 0, sizeof(tmp));
	switch (nr) {
	case CHAN_CMD_CREATE: {
		static const uint32_t ms[] = { 0, 1, 8, 64, 256, 257, 4096,
			CHAN_MSG_SIZE_MAX, CHAN_MSG_SIZE_MAX + 1 };
		static const uint32_t cap[] = { 0, 1, 3, 4, 64,
			CHAN_CAPACITY_MAX, CHAN_CAPACITY_MAX + 1 };
		struct chan_create *c = (void *)tmp;

		ksize = sizeof(*c);
		c->flags = fz_chance(&t->rng, 80) ? fz_below(&t->rng, 2) :
			   (uint32_t)fz_next(&t->rng);
		c->msg_size = fz_chance(&t->rng, 90) ?
			ms[fz_below(&t->rng, 9)] : (uint32_t)fz_next(&t->rng);
		c->capacity = fz_chance(&t->rng, 90) ?
			cap[fz_below(&t->rng, 7)] : (uint32_t)fz_next(&t->rng);
		/* Never more than a few MiB when both are sane. */
		if (c->msg_size >= 65536 && c->capacity > 4 &&
		    c->capacity <= CHAN_CAPACITY_MAX)
			c->capacity = 4;
		c->mode = fz_chance(&t->rng, 80) ? fz_below(&t->rng, 01000) :
			  (uint32_t)fz_next(&t->rng);
		if (fz_chance(&t->rng, 10))
			c->__reserved = (uint32_t)fz_next(&t->rng);
		if (fz_chance(&t->rng, 10))
			c->__reserved2 = (uint32_t)fz_next(&t->rng);
		c->type_tag = fz_chance(&t->rng, 50) ? 0 : fz_next(&t->rng);
		fz_name(t, c->name);
		if (fz_chance(&t->rng, 10))
			c->out_id = (uint32_t)fz_next(&t->rng);
		break;
	}
	case CHAN_CMD_OPEN: {
		struct chan_open *o = (void *)tmp;

		ksize = sizeof(*o);
		o->flags = fz_chance(&t->rng, 80) ? fz_below(&t->rng, 4) :
			   (uint32_t)fz_next(&t->rng);
		o->id = fz_id(t);
		o->roles = fz_chance(&t->rng, 80) ? fz_below(&t->rng, 4) :
			   (uint32_t)fz_next(&t->rng);
		o->type_tag = fz_chance(&t->rng, 70) ? 0 : fz_next(&t->rng);
		break;
	}
	case CHAN_CMD_SEND:
	case CHAN_CMD_RECV: {
		struct chan_msg *m = (void *)tmp;

		ksize = sizeof(*m);
		m->flags = fz_msg_flags(t, &timeout);
		m->timeout_ns = timeout;
		m->id = fz_chance(&t->rng, 30) ? 0 : fz_id(t);
		m->len = fz_len(t);
		m->buf = fz_ptr(t, m->len);
		break;
	}
	case CHAN_CMD_DESTROY: {
		struct chan_destroy *d = (void *)tmp;

		ksize = sizeof(*d);
		d->flags = fz_chance(&t->rng, 80) ? 0 :
			   (uint32_t)fz_next(&t->rng);
		d->id = fz_id(t);
		if (fz_chance(&t->rng, 10))
			d->__reserved = (uint32_t)fz_next(&t->rng);
		break;
	}
	case CHAN_CMD_INFO: {
		struct chan_info *i = (void *)tmp;

		ksize = sizeof(*i);
		i->flags = fz_chance(&t->rng, 80) ? fz_below(&t->rng, 2) :
			   (uint32_t)fz_next(&t->rng);
		i->id = fz_id(t);
		if (fz_chance(&t->rng, 10))
			i->__reserved = (uint32_t)fz_next(&t->rng);
		break;
	}
	case CHAN_CMD_LOOKUP: {
		struct chan_lookup *l = (void *)tmp;

		ksize = sizeof(*l);
		l->flags = fz_chance(&t->rng, 80) ? 0 :
			   (uint32_t)fz_next(&t->rng);
		fz_name(t, l->name);
		if (fz_chance(&t->rng, 10))
			l->__reserved = (uint32_t)fz_next(&t->rng);
		break;
	}
	case CHAN_CMD_WAKE: {
		struct chan_wake *w = (void *)tmp;

		ksize = sizeof(*w);
		w->flags = fz_chance(&t->rng, 80) ? 0 :
			   (uint32_t)fz_next(&t->rng);
		w->id = fz_chance(&t->rng, 30) ? 0 : fz_id(t);
		w->roles = fz_chance(&t->rng, 80) ? fz_below(&t->rng, 4) :
			   (uint32_t)fz_next(&t->rng);
		break;
	}
	default:
		ksize = 0;
		break;
	}
	/* The size field: exact, a bit off, a tail, or anything. */
	switch (fz_below(&t->rng, 8)) {
	case 0:
		*(uint32_t *)tmp = fz_below(&t->rng, 65);
		break;
	case 1:
		*(uint32_t *)tmp = (uint32_t)ksize + fz_below(&t->rng, 3 * 4096);
		break;
	case 2:
		*(uint32_t *)tmp = (uint32_t)fz_next(&t->rng);
		break;
	case 3:
		*(uint32_t *)tmp = (uint32_t)ksize - 1 + fz_below(&t->rng, 3);
		break;
	default:
		*(uint32_t *)tmp = ksize ? (uint32_t)ksize :
				   fz_below(&t->rng, 256);
		break;
	}
	/* The tail past ksize: zeros (accepted) or garbage (E2BIG). */
	if (fz_chance(&t->rng, 60))
		memset(p, 0, n);
	else
		fz_random_bytes(t, p, n);
	memcpy(p, tmp, (ksize ? ksize : 8) < n ? (ksize ? ksize : 8) : n);
	if (!ksize && n >= 8) {
		/* unknown command: random struct, random size */
		fz_random_bytes(t, p + 4, n - 4 < 256 ? n - 4 : 256);
	}
}

/* A random ioctl command. */
static unsigned long fz_cmd(struct fz_thread *t)
{
	uint32_t r = fz_below(&t->rng, 100);
	unsigned int nr, dir, size, type;

	if (r < 55)	/* the real commands */
		return _IO(CHAN_IOC_TYPE, fz_below(&t->rng, 9));
	if (r < 90) {	/* our type, any nr 0..15, random dir and size */
		nr = fz_below(&t->rng, 16);
		dir = fz_below(&t->rng, 4);
		size = fz_chance(&t->rng, 50) ? fz_below(&t->rng, 256) :
		       fz_below(&t->rng, 1 << _IOC_SIZEBITS);
		return _IOC(dir, CHAN_IOC_TYPE, nr, size);
	}
	/*
	 * Anything else, but not the VFS's generic ioctls (FIFREEZE on
	 * devtmpfs, FIONBIO, FICLONE, ...): they are not ours to test.
	 */
	for (;;) {
		uint32_t c = (uint32_t)fz_next(&t->rng);

		type = _IOC_TYPE(c);
		if (type == 'X' || type == 'f' || type == 0x94 ||
		    type == 'T' || type == 0 || type == 0x12)
			continue;
		return c;
	}
}

static void fz_after_ok(struct fz_thread *t, int fd, unsigned long cmd,
			long ret, uint8_t *arg)
{
	struct fz_shared *sh = t->sh;

	if (cmd == CHAN_IOC_OPEN) {
		if (ret < 0) {
			fz_bad(t, "OPEN returned %ld", ret);
			return;
		}
		atomic_fetch_add(&sh->opens, 1);
		fz_own_fd(t, (int)ret);
		return;
	}
	if (ret != 0)
		fz_bad(t, "returned %ld instead of 0 (fd %d)", ret, fd);
	if (cmd == CHAN_IOC_CREATE) {
		struct chan_create *c = (void *)arg;

		atomic_fetch_add(&sh->creates, 1);
		if (!c->out_id) {
			fz_bad(t, "CREATE gave ID 0");
			return;
		}
		if (c->out_ring.map_size > FZ_BIG_RING ||
		    fz_nlive(sh) >= FZ_MAX_LIVE) {
			fz_record_id(sh, c->out_id, false);
			if (ct_destroy(sh->dev, c->out_id) && errno != ENOENT)
				fz_bad(t, "DESTROY of new %u: %s", c->out_id,
				       strerror(errno));
			return;
		}
		fz_record_id(sh, c->out_id, true);
	}
}

/* One ioctl with a random command and a random or half-valid struct. */
static void fz_op_ioctl(struct fz_thread *t)
{
	size_t area = FZ_BUF_PAGES * fz_page;
	unsigned long cmd = fz_cmd(t);
	int fd = fz_pick_fd(t);
	unsigned int nr = _IOC_NR(cmd);
	uint8_t *p = t->buf;
	uint64_t arg;
	long ret;
	int err;

	if (_IOC_TYPE(cmd) != CHAN_IOC_TYPE || _IOC_DIR(cmd) || _IOC_SIZE(cmd))
		nr = fz_below(&t->rng, 9);	/* still shape it like one */
	switch (fz_below(&t->rng, 10)) {
	case 0:	/* struct right before the guard page */
		p = t->buf + area - 8 - fz_below(&t->rng, 200);
		break;
	case 1:
		p = t->buf + fz_below(&t->rng, area - 256);
		break;
	default:
		p = t->buf + fz_below(&t->rng, 8) * 8;
		break;
	}
	fz_fill(t, nr, p, t->buf + area - p);
	switch (fz_below(&t->rng, 12)) {
	case 0:
		arg = 0;
		break;
	case 1:
		arg = (uintptr_t)t->sh->none;
		break;
	case 2:	/* read-only: input works, output faults */
		arg = (uintptr_t)t->sh->ro +
		      (fz_chance(&t->rng, 50) ? 0 : fz_below(&t->rng, fz_page));
		break;
	case 3:
		arg = FZ_KADDR;
		break;
	case 4:
		arg = fz_ptr(t, 64);
		break;
	default:
		arg = (uintptr_t)p;
		break;
	}
	snprintf(t->what, sizeof(t->what),
		 "ioctl(fd %d, cmd %#lx, arg %#llx size %u flags %#x)",
		 fd, cmd, (unsigned long long)arg,
		 arg == (uintptr_t)p ? *(uint32_t *)p : 0,
		 arg == (uintptr_t)p ? *(uint32_t *)(p + 4) : 0);
	fz_enter(t);
	ret = ioctl(fd, cmd, (unsigned long)arg);
	err = errno;
	fz_leave(t, ret, err);
	if (ret != -1)
		fz_after_ok(t, fd, cmd, ret, (uint8_t *)(uintptr_t)arg);
}

/* Is fd a channel fd of a byte stream? */
static bool fz_is_stream(int fd)
{
	struct chan_info info;

	return !ct_info(fd, 0, 0, &info) &&
	       (info.chan_flags & CHAN_CREATE_STREAM);
}

/*
 * read/write on any fd with random lengths and pointers. A write is
 * whole, except on a byte stream, whose write stops, as a pipe's, where a
 * piece faults, does not fit a non-blocking fd, or is interrupted.
 */
static void fz_op_rw(struct fz_thread *t)
{
	int fd = fz_pick_fd(t);
	size_t len;
	uint64_t ptr;
	bool wr = fz_chance(&t->rng, 50);
	ssize_t ret;
	int err;

	len = fz_chance(&t->rng, 90) ? fz_len(t) : fz_next(&t->rng);
	ptr = fz_ptr(t, len);
	if (wr && fz_chance(&t->rng, 50) &&
	    ptr >= (uintptr_t)t->buf &&
	    ptr <= (uintptr_t)t->buf + FZ_BUF_PAGES * fz_page - 16)
		fz_random_bytes(t, (void *)(uintptr_t)ptr, 16);
	snprintf(t->what, sizeof(t->what), "%s(fd %d, %#llx, %zu)",
		 wr ? "write" : "read", fd, (unsigned long long)ptr, len);
	fz_enter(t);
	if (wr)
		ret = write(fd, (void *)(uintptr_t)ptr, len);
	else
		ret = read(fd, (void *)(uintptr_t)ptr, len);
	err = errno;
	fz_leave(t, ret < 0 ? -1 : 0, err);
	if (ret >= 0 && (size_t)ret > len)
		fz_bad(t, "returned %zd > %zu", ret, len);
	if (wr && ret >= 0 && (size_t)ret != len && !fz_is_stream(fd))
		fz_bad(t, "short write %zd of %zu", ret, len);
}

static void fz_op_poll(struct fz_thread *t)
{
	struct pollfd pfd[4];
	unsigned int n = 1 + fz_below(&t->rng, 4), i;
	int timeout = fz_below(&t->rng, 3), ret, err;
	void *p = pfd;

	for (i = 0; i < n; i++) {
		pfd[i].fd = fz_pick_fd(t);
		pfd[i].events = fz_chance(&t->rng, 70) ?
			(POLLIN | POLLOUT) : (short)fz_next(&t->rng);
		pfd[i].revents = 0;
	}
	if (fz_chance(&t->rng, 5))
		p = fz_chance(&t->rng, 50) ? NULL : (void *)t->sh->none;
	snprintf(t->what, sizeof(t->what), "poll(%p, %u, %d) fd0 %d",
		 p, n, timeout, pfd[0].fd);
	fz_enter(t);
	ret = poll(p, n, timeout);
	err = errno;
	fz_leave(t, ret < 0 ? -1 : 0, err);
}

/* A well-formed CREATE of a small channel, kept for churn. */
static void fz_op_create(struct fz_thread *t)
{
	struct chan_create c;
	int ret, err;

	if (fz_nlive(t->sh) >= FZ_MAX_LIVE) {
		uint32_t id = fz_pick_live(t, true);

		if (id && ct_destroy(t->sh->dev, id) && errno != ENOENT &&
		    errno != EIDRM)
			fz_bad(t, "DESTROY %u: %s", id, strerror(errno));
		return;
	}
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.flags = fz_chance(&t->rng, 30) ? CHAN_CREATE_AUTODESTROY : 0;
	if (fz_chance(&t->rng, 20))
		c.flags |= CHAN_CREATE_STREAM;
	/* A mappable stream: the kernel path's stream claim. */
	if ((c.flags & CHAN_CREATE_STREAM) && fz_chance(&t->rng, 50))
		c.flags |= CHAN_CREATE_MAPPABLE;
	c.msg_size = fz_chance(&t->rng, 70) ? 1 + fz_below(&t->rng, 256) :
		     1 + fz_below(&t->rng, 8192);
	c.capacity = 1 + fz_below(&t->rng, 16);
	c.mode = fz_chance(&t->rng, 80) ? 0600 : fz_below(&t->rng, 01000);
	c.type_tag = fz_chance(&t->rng, 70) ? 0 : fz_below(&t->rng, 3);
	if (fz_chance(&t->rng, 20))
		snprintf(c.name, sizeof(c.name), "fz-%d-%u", (int)getpid(),
			 fz_below(&t->rng, 16));
	snprintf(t->what, sizeof(t->what),
		 "CREATE(msg %u cap %u flags %#x name '%s')", c.msg_size,
		 c.capacity, c.flags, c.name);
	fz_enter(t);
	ret = ioctl(t->sh->dev, CHAN_IOC_CREATE, &c);
	err = errno;
	fz_leave(t, ret, err);
	if (ret == 0)
		fz_after_ok(t, t->sh->dev, CHAN_IOC_CREATE, 0, (void *)&c);
	else if (err != EEXIST && err != ENOMEM && err != ENOSPC)
		fz_bad(t, "valid CREATE failed: %s", strerror(err));
}

static void fz_op_destroy(struct fz_thread *t)
{
	uint32_t id = fz_chance(&t->rng, 85) ? fz_pick_live(t, true) :
		      (uint32_t)fz_next(&t->rng);
	struct chan_destroy d = { .size = sizeof(d), .id = id };
	int ret, err;

	snprintf(t->what, sizeof(t->what), "DESTROY(%u)", id);
	fz_enter(t);
	ret = ioctl(t->sh->dev, CHAN_IOC_DESTROY, &d);
	err = errno;
	fz_leave(t, ret, err);
	if (ret && err != ENOENT)
		fz_bad(t, "DESTROY failed: %s", strerror(err));
}

/* A well-formed OPEN of a tracked or shared channel. */
static void fz_op_open(struct fz_thread *t)
{
	struct chan_open o = { .size = sizeof(o) };
	int ret, err;

	if (t->nfds >= FZ_MAX_FDS)
		fz_close_one(t);
	o.id = fz_chance(&t->rng, 75) ? fz_pick_live(t, false) :
	       t->sh->shid[fz_below(&t->rng, 2)];
	o.roles = 1 + fz_below(&t->rng, 3);
	o.flags = fz_below(&t->rng, 4);
	if (fz_chance(&t->rng, 10))
		o.type_tag = 1 + fz_below(&t->rng, 2);
	snprintf(t->what, sizeof(t->what), "OPEN(id %u roles %u flags %#x)",
		 o.id, o.roles, o.flags);
	fz_enter(t);
	ret = ioctl(t->sh->dev, CHAN_IOC_OPEN, &o);
	err = errno;
	fz_leave(t, ret, err);
	if (ret >= 0)
		fz_after_ok(t, t->sh->dev, CHAN_IOC_OPEN, ret, NULL);
}

/* A well-formed SEND or RECV with a random (mostly safe) wait. */
static void fz_op_msg(struct fz_thread *t)
{
	bool send = fz_chance(&t->rng, 50);
	struct chan_msg m = { .size = sizeof(m) };
	int fd, ret, err;
	uint64_t timeout;

	if (fz_chance(&t->rng, 40)) {
		fd = t->sh->dev;
		m.id = fz_id(t);
	} else {
		fd = fz_pick_fd(t);
	}
	m.flags = fz_msg_flags(t, &timeout);
	m.timeout_ns = timeout;
	m.len = fz_chance(&t->rng, 70) ? fz_below(&t->rng, 300) : fz_len(t);
	m.buf = fz_chance(&t->rng, 80) ? (uintptr_t)t->buf +
		fz_below(&t->rng, fz_page) : fz_ptr(t, m.len);
	snprintf(t->what, sizeof(t->what),
		 "%s(fd %d id %u flags %#x len %u buf %#llx timeout %llu)",
		 send ? "SEND" : "RECV", fd, m.id, m.flags, m.len,
		 (unsigned long long)m.buf, (unsigned long long)m.timeout_ns);
	fz_enter(t);
	ret = ioctl(fd, send ? CHAN_IOC_SEND : CHAN_IOC_RECV, &m);
	err = errno;
	fz_leave(t, ret, err);
	if (ret > 0)
		fz_bad(t, "returned %d", ret);
}

static void fz_op_info(struct fz_thread *t)
{
	struct chan_info info;
	int fd = fz_chance(&t->rng, 60) ? t->sh->dev : fz_pick_fd(t);
	uint32_t flags = fz_chance(&t->rng, 50) ? CHAN_INFO_NEXT : 0;
	uint32_t id = fd == t->sh->dev ? fz_id(t) : 0;
	int ret, err;

	snprintf(t->what, sizeof(t->what), "INFO(fd %d id %u flags %u)", fd,
		 id, flags);
	fz_enter(t);
	ret = ct_info(fd, id, flags, &info);
	err = errno;
	fz_leave(t, ret, err);
	if (ret > 0)
		fz_bad(t, "returned %d", ret);
}

static void fz_op_dev_churn(struct fz_thread *t)
{
	int fd;

	if (t->nfds >= FZ_MAX_FDS)
		fz_close_one(t);
	snprintf(t->what, sizeof(t->what), "open(/dev/chan)");
	fz_enter(t);
	fd = ct_dev_open();
	fz_leave(t, fd < 0 ? -1 : 0, errno);
	if (fd >= 0)
		fz_own_fd(t, fd);
}

static void *fz_worker(void *arg)
{
	struct fz_thread *t = arg;
	unsigned long i;

	fz_self = t;
	for (i = 0; i < t->sh->iters && !atomic_load(&t->sh->stop); i++) {
		uint32_t r = fz_below(&t->rng, 100);

		if (r < 38)
			fz_op_ioctl(t);
		else if (r < 52)
			fz_op_msg(t);
		else if (r < 60)
			fz_op_rw(t);
		else if (r < 65)
			fz_op_poll(t);
		else if (r < 72)
			fz_op_create(t);
		else if (r < 77)
			fz_op_destroy(t);
		else if (r < 86)
			fz_op_open(t);
		else if (r < 92)
			fz_close_one(t);
		else if (r < 97)
			fz_op_info(t);
		else
			fz_op_dev_churn(t);
	}
	while (t->nfds)
		fz_close_one(t);
	/* Stay alive until the watchdog is gone: it may still signal us. */
	atomic_fetch_add(&t->sh->done, 1);
	while (!atomic_load(&t->sh->stop))
		ct_sleep_ms(5);
	return NULL;
}

/* Write "0 <outer> 1" to /proc/self/<file> (uid_map, gid_map). */
static int fz_write_map(const char *file, unsigned int outer)
{
	char path[64], line[64];
	int fd, n, ok;

	snprintf(path, sizeof(path), "/proc/self/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = snprintf(line, sizeof(line), "0 %u 1\n", outer);
	ok = write(fd, line, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

/* Become root of a new user namespace (mapped to our uid/gid outside). */
static int fz_enter_userns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int fd;

	if (unshare(CLONE_NEWUSER))
		return -1;
	fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "deny", 4) != 4) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	if (fz_write_map("uid_map", uid) || fz_write_map("gid_map", gid))
		return -1;
	return 0;
}

/*
 * One churn round, in a forked child (only system calls: the parent has
 * threads): a new IPC namespace (every third round a new user namespace
 * too), channels and endpoints left behind at exit.
 */
static int fz_ns_child(unsigned long round)
{
	uint32_t id;
	int dev, fd, i;
	char name[CHAN_NAME_MAX];

	if ((round % 3 == 0 && fz_enter_userns()) || unshare(CLONE_NEWIPC))
		return CT_EXIT_SETUP;
	dev = ct_dev_open();
	if (dev < 0)
		return errno;
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "churn-%d", i);
		if (ct_create(dev, 64, 4, 0600, 0, 0, name, &id))
			return errno;
		/* IDs start afresh in a new namespace. */
		if (id != (uint32_t)i + 1)
			return CT_EXIT_BADDATA;
		fd = ct_open(dev, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
		if (fd < 0)
			return errno;
		if (ct_send(fd, 0, name, 8, CHAN_MSG_NONBLOCK, 0))
			return errno;
	}
	return 0;
}

/* Churn namespaces until told to stop. */
static void *fz_ns_churn(void *arg)
{
	struct fz_shared *sh = arg;
	unsigned long round = 0;
	pid_t pid;
	int st;

	while (!atomic_load(&sh->stop)) {
		pid = fork();
		if (pid == 0)
			_exit(fz_ns_child(round));
		st = -1;
		if (pid < 0 || waitpid(pid, &st, 0) != pid ||
		    !WIFEXITED(st) || WEXITSTATUS(st)) {
			char line[96];

			atomic_fetch_add(&sh->ns_failed, 1);
			snprintf(line, sizeof(line),
				 "namespace churn round %lu: fork %d, status %#x",
				 round, (int)pid, st);
			fz_bad_line(sh, line);
		}
		atomic_fetch_add(&sh->ns_rounds, 1);
		round++;
	}
	return NULL;
}

/* Interrupt any call that has been running for more than FZ_WATCHDOG_MS. */
static void *fz_watchdog(void *arg)
{
	struct fz_shared *sh = arg;
	int i;

	while (!atomic_load(&sh->stop)) {
		uint64_t now = ct_now_ns();

		for (i = 0; i < sh->nth; i++) {
			uint64_t s = atomic_load(&sh->th[i].call_start);

			if (s && now > s + FZ_WATCHDOG_MS * CT_MS) {
				pthread_kill(sh->th[i].tid, SIGUSR1);
				atomic_fetch_add(&sh->interrupts, 1);
			}
		}
		ct_sleep_ms(FZ_WATCHDOG_MS / 2);
	}
	return NULL;
}

/* ---- end-of-run checks ---- */

static bool fz_in(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Every channel ID INFO_NEXT finds; returns how many (at most max). */
static size_t fz_enumerate(int dev, uint32_t *ids, size_t max)
{
	struct chan_info info;
	uint32_t next = 0;
	size_t n = 0;

	while (n < max && ct_info(dev, next, CHAN_INFO_NEXT, &info) == 0) {
		ids[n++] = info.id;
		if (info.id == UINT32_MAX)
			break;
		next = info.id + 1;
	}
	return n;
}

/* Our fds still open: /dev/chan or "anon_inode:[chan]". */
static int fz_count_chan_fds(void)
{
	char path[300], target[128];
	struct dirent *de;
	int n = 0;
	ssize_t len;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		if (!strcmp(target, CHAN_DEV_PATH) ||
		    strstr(target, "[chan]")) {
			printf("# still open: fd %s -> %s\n", de->d_name,
			       target);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* ---- fuzz.random ---- */

FIXTURE(fuzz) {
	struct fz_shared sh;
	struct fz_thread th[FZ_THREADS];
	uint32_t before[4096];
	size_t nbefore;
};

FIXTURE_VARIANT(fuzz) {
	bool userns;	/* unprivileged, own namespaces, namespace churn */
};

FIXTURE_VARIANT_ADD(fuzz, root) {
	.userns = false,
};

FIXTURE_VARIANT_ADD(fuzz, userns) {
	.userns = true,
};

FIXTURE_SETUP(fuzz)
{
	struct fz_shared *sh = &self->sh;
	static const uint32_t roles[6] = {
		CHAN_ROLE_SEND | CHAN_ROLE_RECV, CHAN_ROLE_SEND,
		CHAN_ROLE_RECV, CHAN_ROLE_SEND | CHAN_ROLE_RECV,
		CHAN_ROLE_SEND | CHAN_ROLE_RECV, CHAN_ROLE_RECV,
	};
	int i;

	fz_page = sysconf(_SC_PAGESIZE);
	memset(sh, 0, sizeof(*sh));
	pthread_mutex_init(&sh->lock, NULL);
	sh->seed = fz_env_u64("CHAN_FUZZ_SEED", ct_now_ns() ^
			      ((uint64_t)getpid() << 32));
	sh->iters = fz_env_u64("CHAN_FUZZ_ITERS", FZ_DEF_ITERS);
	printf("# seed %llu (CHAN_FUZZ_SEED), %lu iterations x %d threads "
	       "(CHAN_FUZZ_ITERS)\n", (unsigned long long)sh->seed, sh->iters,
	       FZ_THREADS);
	fflush(stdout);
	if (variant->userns) {
		/* nobody outside, root of its own user and IPC namespaces */
		ASSERT_OK(ct_drop_privs(NULL, 0));
		/* A uid change clears it; /proc/self/uid_map needs it. */
		ASSERT_OK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
		ASSERT_OK(fz_enter_userns());
		ASSERT_OK(unshare(CLONE_NEWIPC));
		ASSERT_EQ(0U, geteuid());
	}
	ASSERT_EQ(0, ct_install_interrupting(SIGUSR1));
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa = { .sa_sigaction = fz_crash,
					.sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
	}

	sh->dev = ct_dev_open();
	ASSERT_LE(0, sh->dev);
	self->nbefore = fz_enumerate(sh->dev, self->before, 4096);

	/* Two shared channels: small messages, and ones past the stack bounce. */
	ASSERT_OK(ct_create_simple(sh->dev, 64, 8, &sh->shid[0]));
	ASSERT_OK(ct_create_simple(sh->dev, 4096, 4, &sh->shid[1]));
	fz_record_id(sh, sh->shid[0], false);
	fz_record_id(sh, sh->shid[1], false);
	for (i = 0; i < 6; i++) {
		sh->shfd[i] = ct_open(sh->dev, sh->shid[i / 4], roles[i],
				      (i == 3 || i >= 4) ? CHAN_OPEN_NONBLOCK : 0,
				      0);
		ASSERT_LE(0, sh->shfd[i]);
	}
	sh->nshfd = 6;

	sh->ro = mmap(NULL, fz_page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh->ro);
	memset(sh->ro, 0x5a, fz_page);
	((struct chan_msg *)sh->ro)->size = sizeof(struct chan_msg);
	ASSERT_EQ(0, mprotect(sh->ro, fz_page, PROT_READ));
	sh->none = mmap(NULL, fz_page, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh->none);

	for (i = 0; i < FZ_THREADS; i++) {
		struct fz_thread *t = &self->th[i];

		memset(t, 0, sizeof(*t));
		t->sh = sh;
		t->idx = i;
		t->rng = sh->seed + 0x1000193ULL * (i + 1);
		t->buf = mmap(NULL, (FZ_BUF_PAGES + 1) * fz_page,
			      PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, t->buf);
		ASSERT_EQ(0, mprotect(t->buf + FZ_BUF_PAGES * fz_page,
				      fz_page, PROT_NONE));
		fz_random_bytes(t, t->buf, FZ_BUF_PAGES * fz_page);
	}
	sh->th = self->th;
	sh->nth = FZ_THREADS;
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fz_shared *sh = &self->sh;
	int i;

	/* Normally all done by the test already: this is for an ASSERT exit. */
	for (i = 0; i < sh->nshfd; i++)
		if (sh->shfd[i] >= 0)
			close(sh->shfd[i]);
	for (i = 0; i < (int)sh->nall; i++)
		ct_destroy(sh->dev, sh->all[i]);
	if (sh->dev >= 0)
		close(sh->dev);
	free(sh->all);
}

TEST_F_TIMEOUT(fuzz, random, 900)
{
	struct fz_shared *sh = &self->sh;
	uint32_t after[4096];
	size_t nafter, i;
	pthread_t wd, churn;
	uint64_t t0 = ct_now_ns();
	int e, leaks = 0;

	for (i = 0; i < FZ_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&self->th[i].tid, NULL, fz_worker,
					    &self->th[i]));
	ASSERT_EQ(0, pthread_create(&wd, NULL, fz_watchdog, sh));
	if (variant->userns)
		ASSERT_EQ(0, pthread_create(&churn, NULL, fz_ns_churn, sh));
	while (atomic_load(&sh->done) < FZ_THREADS)
		ct_sleep_ms(20);
	atomic_store(&sh->stop, true);
	pthread_join(wd, NULL);
	if (variant->userns) {
		pthread_join(churn, NULL);
		printf("# namespace churn: %lu rounds, %lu failed\n",
		       atomic_load(&sh->ns_rounds), atomic_load(&sh->ns_failed));
		EXPECT_LT(0U, atomic_load(&sh->ns_rounds));
	}
	for (i = 0; i < FZ_THREADS; i++)
		pthread_join(self->th[i].tid, NULL);

	printf("# %lu calls in %.1f s: %lu failed, %lu interrupted by the "
	       "watchdog, %lu channels created, %lu endpoints opened, "
	       "%lu EIO\n", atomic_load(&sh->calls),
	       (ct_now_ns() - t0) / 1e9, atomic_load(&sh->failures),
	       atomic_load(&sh->interrupts), atomic_load(&sh->creates),
	       atomic_load(&sh->opens), atomic_load(&sh->eio));
	printf("# errno histogram:");
	for (e = 0; e < 256; e++)
		if (atomic_load(&sh->errs[e]))
			printf(" %s=%lu", strerrorname_np(e) ?: "?",
			       atomic_load(&sh->errs[e]));
	printf("\n");
	fflush(stdout);

	/* Clean up: shared fds, then every channel we ever created. */
	for (i = 0; i < (size_t)sh->nshfd; i++) {
		EXPECT_EQ(0, close(sh->shfd[i]));
		sh->shfd[i] = -1;
	}
	for (i = 0; i < sh->nall; i++)
		if (ct_destroy(sh->dev, sh->all[i]) && errno != ENOENT)
			TH_LOG("DESTROY %u: %s", sh->all[i], strerror(errno));

	/* INFO_NEXT must find none of ours, nor any nobody recorded. */
	nafter = fz_enumerate(sh->dev, after, 4096);
	for (i = 0; i < nafter; i++) {
		if (fz_in(self->before, self->nbefore, after[i]))
			continue;
		TH_LOG("channel %u still exists after cleanup (%s)", after[i],
		       fz_in(sh->all, sh->nall, after[i]) ?
		       "ours, destroyed" : "never reported as created");
		ct_destroy(sh->dev, after[i]);
		leaks++;
	}
	EXPECT_EQ(0, leaks);

	EXPECT_EQ(0, close(sh->dev));
	sh->dev = -1;
	EXPECT_EQ(0, fz_count_chan_fds());

	for (i = 0; i < (size_t)sh->nbad && i < FZ_MAX_BAD; i++)
		TH_LOG("%s", sh->bad[i]);
	if (sh->nbad > FZ_MAX_BAD)
		TH_LOG("... and %d more", sh->nbad - FZ_MAX_BAD);
	EXPECT_EQ(0, sh->nbad);
}

/* ---- fuzz_abi: deterministic ---- */

enum {
	K_CREATE, K_OPEN, K_SEND_ID, K_RECV_ID, K_DESTROY, K_INFO_ID,
	K_LOOKUP, K_SEND_FD, K_RECV_FD, K_INFO_FD, K_NUM
};

static const struct {
	const char *name;
	unsigned long cmd;
	size_t size;
	bool on_fd;
	bool writes;	/* copies the struct back */
	size_t min_size;	/* of the first version, if not size */
} kcmd[K_NUM] = {
	[K_CREATE] = { "CREATE", CHAN_IOC_CREATE, sizeof(struct chan_create),
		       false, true },
	[K_OPEN] = { "OPEN", CHAN_IOC_OPEN, sizeof(struct chan_open), false,
		     true, offsetofend(struct chan_open, type_tag) },
	[K_SEND_ID] = { "SEND(id)", CHAN_IOC_SEND, sizeof(struct chan_msg),
			false, false,
			offsetofend(struct chan_msg, timeout_ns) },
	[K_RECV_ID] = { "RECV(id)", CHAN_IOC_RECV, sizeof(struct chan_msg),
			false, true,
			offsetofend(struct chan_msg, timeout_ns) },
	[K_DESTROY] = { "DESTROY", CHAN_IOC_DESTROY,
			sizeof(struct chan_destroy), false, false },
	[K_INFO_ID] = { "INFO(id)", CHAN_IOC_INFO, sizeof(struct chan_info),
			false, true },
	[K_LOOKUP] = { "LOOKUP", CHAN_IOC_LOOKUP, sizeof(struct chan_lookup),
		       false, true },
	[K_SEND_FD] = { "SEND(fd)", CHAN_IOC_SEND, sizeof(struct chan_msg),
			true, false,
			offsetofend(struct chan_msg, timeout_ns) },
	[K_RECV_FD] = { "RECV(fd)", CHAN_IOC_RECV, sizeof(struct chan_msg),
			true, true,
			offsetofend(struct chan_msg, timeout_ns) },
	[K_INFO_FD] = { "INFO(fd)", CHAN_IOC_INFO, sizeof(struct chan_info),
			true, true },
};

FIXTURE(fuzz_abi) {
	int dev, chfd;
	uint32_t id, victim;
	char name[CHAN_NAME_MAX];
	uint8_t *area;		/* FZ_BUF_PAGES RW pages, then PROT_NONE */
	uint8_t *ro;
	uint64_t payload;
	uint32_t created[64];
	int ncreated;
};

FIXTURE_SETUP(fuzz_abi)
{
	fz_page = sysconf(_SC_PAGESIZE);
	self->chfd = -1;
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ct_name(self->name, sizeof(self->name), "fzabi");
	ASSERT_OK(ct_create(self->dev, 64, 4, 0600, 0, 0, self->name,
			    &self->id));
	self->chfd = ct_open(self->dev, self->id,
			     CHAN_ROLE_SEND | CHAN_ROLE_RECV,
			     CHAN_OPEN_NONBLOCK, 0);
	ASSERT_LE(0, self->chfd);
	self->area = mmap(NULL, (FZ_BUF_PAGES + 1) * fz_page,
			  PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->area);
	ASSERT_EQ(0, mprotect(self->area + FZ_BUF_PAGES * fz_page, fz_page,
			      PROT_NONE));
	self->ro = mmap(NULL, fz_page, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ro);
	self->payload = 0x0123456789abcdefULL;
}

FIXTURE_TEARDOWN(fuzz_abi)
{
	ct_abi_cleanup(self->dev, self->chfd, self->id, self->created,
		       self->ncreated);
}

/*
 * Write a valid struct for command k (size = its sizeof) into out (at
 * least kcmd[k].size bytes). Sets up what the call needs: a message to
 * receive, a channel to destroy.
 */
static void abi_fill(FIXTURE_DATA(fuzz_abi) *self, int k, void *out)
{
	struct ct_abi_target t = {
		.id = self->id,
		.on_fd = kcmd[k].on_fd,
		.chfd = self->chfd,
		.name = self->name,
		.sbuf = &self->payload,
		.slen = 8,
		.rbuf = &self->payload,
		.rlen = 8,
	};

	self->victim = 0;
	switch (k) {
	case K_RECV_ID:
	case K_RECV_FD:
		/* Something to receive. */
		ct_send(self->chfd, 0, &self->payload, 8, CHAN_MSG_NONBLOCK, 0);
		break;
	case K_DESTROY:
		if (ct_create_simple(self->dev, 8, 1, &self->victim))
			self->victim = 0;
		t.destroy_id = self->victim;
		break;
	}
	ct_abi_fill(kcmd[k].cmd, kcmd[k].size, &t, out);
}

/*
 * Run command k with arg. Returns 0 on success or the errno, and undoes
 * what a success (or a failure) left: new channels, fds, messages.
 */
static int abi_call(FIXTURE_DATA(fuzz_abi) *self, int k, void *arg)
{
	int fd = kcmd[k].on_fd ? self->chfd : self->dev;
	uint64_t v;
	uint32_t len;
	long ret;
	int err;

	ret = ioctl(fd, kcmd[k].cmd, arg);
	err = ret < 0 ? errno : 0;
	if (ret >= 0 && k == K_CREATE) {
		uint32_t id = ((struct chan_create *)arg)->out_id;

		if (ct_destroy(self->dev, id) && self->ncreated < 64)
			self->created[self->ncreated++] = id;
	}
	if (ret >= 0 && k == K_OPEN)
		close((int)ret);
	if (ret > 0 && k != K_OPEN)
		err = -1;	/* nonsense: a positive return */
	if (self->victim)
		ct_destroy(self->dev, self->victim);
	/* Drain: the channel starts every call empty. */
	do {
		len = sizeof(v);
	} while (!ct_recv(self->chfd, 0, &v, &len, CHAN_MSG_NONBLOCK, 0));
	return err;
}

/* What a valid call of k returns with flags = bit. */
static int abi_flag_expect(int k, unsigned int bit)
{
	switch (k) {
	/*
	 * AUTODESTROY, MAPPABLE, CRC32C, SPSC, BROADCAST, STREAM alone (their
	 * combinations: chan_abi_test create.stream_combinations)
	 */
	case K_CREATE:
		if (bit <= 4 || bit == 6)
			return 0;
		/* LOSSLESS needs BROADCAST */
		return bit == 5 ? EINVAL : EOPNOTSUPP;
	case K_OPEN:
		return bit <= 1 ? 0 : EOPNOTSUPP;
	case K_RECV_ID:
	case K_RECV_FD:
		/* BADMSG: RECV's alone (the channel has no check to fail) */
		if (bit == 4)
			return 0;
		__attribute__((fallthrough));
	case K_SEND_ID:
	case K_SEND_FD:
		/* NONBLOCK; TIMEOUT of 0 with room or a message; ABSTIME alone */
		return bit <= 1 ? 0 : bit == 2 ? EINVAL : EOPNOTSUPP;
	case K_INFO_ID:	/* NEXT; RESET (the owner's) */
		return bit <= 1 ? 0 : EOPNOTSUPP;
	case K_INFO_FD:	/* NEXT enumerates /dev/chan only; RESET */
		return bit == 0 ? EINVAL : bit == 1 ? 0 : EOPNOTSUPP;
	default:
		return EOPNOTSUPP;
	}
}

TEST_F(fuzz_abi, every_flag_bit)
{
	uint8_t arg[256];
	unsigned int bit;
	int k, got, want, bad = 0;

	for (k = 0; k < K_NUM; k++) {
		for (bit = 0; bit < 32; bit++) {
			abi_fill(self, k, arg);
			((uint32_t *)arg)[1] = 1U << bit;
			want = abi_flag_expect(k, bit);
			got = abi_call(self, k, arg);
			if (got != want) {
				TH_LOG("%s flags 1<<%u: want %d (%s), got %d (%s)",
				       kcmd[k].name, bit, want, strerror(want),
				       got, strerror(got));
				bad++;
			}
		}
	}
	EXPECT_EQ(0, bad);
}

TEST_F(fuzz_abi, every_size_0_to_64)
{
	uint8_t arg[256];
	uint32_t size;
	int k, got, want, bad = 0;

	for (k = 0; k < K_NUM; k++) {
		for (size = 0; size <= 64; size++) {
			abi_fill(self, k, arg);
			/* the tail past sizeof is zero: accepted */
			memset(arg + kcmd[k].size, 0,
			       sizeof(arg) - kcmd[k].size);
			*(uint32_t *)arg = size;
			want = size < (kcmd[k].min_size ?: kcmd[k].size) ?
			       EINVAL : 0;
			got = abi_call(self, k, arg);
			if (got != want) {
				TH_LOG("%s size %u: want %d (%s), got %d (%s)",
				       kcmd[k].name, size, want, strerror(want),
				       got, strerror(got));
				bad++;
			}
		}
	}
	EXPECT_EQ(0, bad);
}

/* Place a valid struct of k so it starts at p; bytes at or past end are lost. */
static void abi_place(FIXTURE_DATA(fuzz_abi) *self, int k, uint8_t *p,
		      uint8_t *end, uint32_t size)
{
	uint8_t tmp[256];
	size_t n = kcmd[k].size;

	abi_fill(self, k, tmp);
	*(uint32_t *)tmp = size;
	if (p + n > end)
		n = end > p ? (size_t)(end - p) : 0;
	memcpy(p, tmp, n);
}

#define ABI_CHECK(want, what, ...)					\
	do {								\
		int __w = (want), __g = abi_call(self, k, p);		\
		if (__g != __w) {					\
			TH_LOG("%s " what ": want %d (%s), got %d (%s)",	\
			       kcmd[k].name, ##__VA_ARGS__, __w,	\
			       strerror(__w), __g, strerror(__g));	\
			bad++;						\
		}							\
	} while (0)

TEST_F(fuzz_abi, page_boundaries)
{
	size_t area = FZ_BUF_PAGES * fz_page;
	uint8_t *guard = self->area + area;
	static const uint32_t extra[] = { 1, 8, 4096 };
	int k, bad = 0;
	unsigned int i;
	uint8_t *p;

	for (k = 0; k < K_NUM; k++) {
		uint32_t sz = kcmd[k].size;

		memset(self->area, 0, area);
		/* Ends exactly at the guard page: fine. */
		p = guard - sz;
		abi_place(self, k, p, guard, sz);
		ABI_CHECK(0, "ending at a guard page");

		/* Straddles it: the struct (or its size word) faults. */
		for (i = 1; i < 6; i++) {
			uint32_t off = i == 1 ? 1 : i == 2 ? 4 : i == 3 ?
				       sz - 4 : i == 4 ? sz - 2 : sz;

			memset(self->area, 0, area);
			p = guard - sz + off;
			abi_place(self, k, p, guard, sz);
			ABI_CHECK(EFAULT, "straddling a guard page by %u", off);
		}

		/* A zero tail that reaches into the guard page. */
		for (i = 0; i < 3; i++) {
			memset(self->area, 0, area);
			p = guard - sz;
			abi_place(self, k, p, guard, sz + extra[i]);
			ABI_CHECK(EFAULT, "with a tail of %u into a guard page",
				  extra[i]);
		}

		/* A zero tail of pages that ends at the guard page: fine. */
		memset(self->area, 0, area);
		p = self->area;
		abi_place(self, k, p, guard, area);
		ABI_CHECK(0, "size %zu ending at a guard page", area);
		/* One byte more: faults. */
		abi_place(self, k, p, guard, area + 1);
		ABI_CHECK(EFAULT, "size %zu reaching a guard page", area + 1);
		/* The last byte of the tail not zero: E2BIG. */
		abi_place(self, k, p, guard, area);
		guard[-1] = 1;
		ABI_CHECK(E2BIG, "size %zu, last tail byte set", area);
		guard[-1] = 0;

		/* A read-only struct: input works, output faults. */
		ASSERT_EQ(0, mprotect(self->ro, fz_page,
				      PROT_READ | PROT_WRITE));
		p = self->ro;
		abi_place(self, k, p, p + fz_page, sz);
		ASSERT_EQ(0, mprotect(self->ro, fz_page, PROT_READ));
		ABI_CHECK(kcmd[k].writes ? EFAULT : 0, "read-only struct");

		/* NULL, kernel, non-canonical. */
		p = NULL;
		ABI_CHECK(EFAULT, "NULL struct");
		p = (uint8_t *)(uintptr_t)FZ_KADDR;
		ABI_CHECK(EFAULT, "kernel-address struct");
		p = (uint8_t *)(uintptr_t)0x8000000000000000ULL;
		ABI_CHECK(EFAULT, "non-canonical struct");
	}
	EXPECT_EQ(0, bad);
}

/* After all that, nothing of ours may be left (the CREATE with EFAULT!). */
TEST_F(fuzz_abi, no_channel_left)
{
	uint32_t before[4096], after[4096];
	size_t nb, na, i;
	uint8_t *p;
	int k = K_CREATE, bad = 0;

	nb = fz_enumerate(self->dev, before, 4096);
	ASSERT_EQ(0, mprotect(self->ro, fz_page, PROT_READ | PROT_WRITE));
	p = self->ro;
	for (i = 0; i < 50; i++) {
		abi_place(self, k, p, p + fz_page, kcmd[k].size);
		ASSERT_EQ(0, mprotect(self->ro, fz_page, PROT_READ));
		ABI_CHECK(EFAULT, "read-only struct, round %zu", i);
		ASSERT_EQ(0, mprotect(self->ro, fz_page,
				      PROT_READ | PROT_WRITE));
	}
	na = fz_enumerate(self->dev, after, 4096);
	for (i = 0; i < na; i++)
		if (!fz_in(before, nb, after[i])) {
			TH_LOG("channel %u appeared after failed CREATEs",
			       after[i]);
			ct_destroy(self->dev, after[i]);
			bad++;
		}
	EXPECT_EQ(0, bad);
}

CT_HARNESS_MAIN
