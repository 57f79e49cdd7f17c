// SPDX-License-Identifier: MIT
/*
 * reg_bench: the registry at scale (issue 12), measured inside the test VM.
 *
 * In one IPC namespace, with N named channels already in existence, the
 * cost of each control operation of chan, and beside it POSIX mq's with N
 * queues in existence; then the cost of opening /dev/chan with M IPC
 * namespaces in existence. Under QEMU's -icount shift=0 the guest's TSC
 * counts instructions (user and kernel): with -T tsc every figure is an
 * instruction count, the same on every boot.
 *
 * Every operation is timed alone (two TSC reads around the call, the same
 * few instructions in every figure) and averaged over -k operations, after
 * a warm-up, starting at the same phase of the kernel's tick:
 *
 *   chan-create   chan_create(): a named channel of 8-byte messages, 1 slot
 *   chan-destroy  chan_destroy() of that channel (create and destroy are
 *                 paired, so the population stays N, N + 1 in between)
 *   chan-lookup   chan_lookup() of an existing name (CHAN_IOC_LOOKUP)
 *   chan-open     chan_open(id, SEND | RECV) then close() of the endpoint
 *   chan-info     chan_info() by ID on /dev/chan
 *   mq-create     mq_open(O_CREAT | O_EXCL), mq_maxmsg 1, mq_msgsize 8 (the
 *                 close() that follows is not timed)
 *   mq-unlink     mq_unlink() of that queue
 *   mq-open       mq_open() of an existing name (close() not timed)
 *   dev-open-initial  open("/dev/chan") + close() in the initial IPC
 *                 namespace, with M namespaces in existence
 *   dev-open-newest   the same in the namespace created last
 *
 * Lookups, opens and INFO visit the population with a prime stride, so a
 * run touches names and IDs all over the registry, not one hot entry.
 *
 * Populations (-N): a list of counts, and "limit": the most channels one
 * root user can have with the module's parameters, min(max_channels,
 * max_user_channels), measured at limit - 1 existing channels so that the
 * channel CREATE adds is the limit-th. If the ring-memory limits stop the
 * filling before that (ENOSPC), the point is reported and, unless -R,
 * max_user_ring_bytes and max_total_ring_bytes are raised in
 * /sys/module/chan/parameters for the run (reported too), then restored.
 * POSIX mq is measured at the same counts; fs.mqueue.queues_max and
 * RLIMIT_MSGQUEUE are raised as needed (reported).
 *
 * Output on stdout: "# " comment lines, and
 *   R,<operation>,<population>,<ops>,<total ns>
 *   P,<key>,<value>          facts of the run (limits, what was raised)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libchan.h>

#define PARAMS		"/sys/module/chan/parameters/"
#define MQ_QUEUES_MAX	"/proc/sys/fs/mqueue/queues_max"
#define STRIDE		7919U	/* prime: visits every member of a population */
#define MAX_POPS	16

static unsigned int n_ops = 1000;	/* timed operations per figure */
static unsigned int n_warm = 64;
static int raise_ok = 1;

#define BENCH_NAME "reg_bench"
#include "vm_bench.h"

static void emit(const char *op, unsigned long pop, uint64_t ops,
		 uint64_t total)
{
	printf("R,%s,%lu,%llu,%llu\n", op, pop, (unsigned long long)ops,
	       (unsigned long long)total);
	fflush(stdout);
}

static void fact(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("P,%s,", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Files of /sys and /proc. */

static int read_u64(const char *path, unsigned long long *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static unsigned long long param(const char *name)
{
	char path[128];
	unsigned long long v;
	int ret;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	ret = read_u64(path, &v);
	if (ret)
		die("%s: %s", path, strerror(-ret));
	return v;
}

static void write_u64(const char *path, unsigned long long v)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "%llu\n", v);
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

static void set_param(const char *name, unsigned long long v)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	write_u64(path, v);
}

static unsigned long long mem_total_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[128];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * Ring bytes charged to root now, from debugfs chan/users
 * ("<uid> <channels> <ring bytes>"); 0 if debugfs is not there.
 */
static unsigned long long root_ring_bytes(unsigned long long *channels)
{
	FILE *f = fopen("/sys/kernel/debug/chan/users", "r");
	unsigned long long c, b, bytes = 0;
	char uid[32];

	*channels = 0;
	if (!f)
		return 0;
	while (fscanf(f, "%31s %llu %llu", uid, &c, &b) == 3)
		if (!strcmp(uid, "0")) {
			*channels = c;
			bytes = b;
		}
	fclose(f);
	return bytes;
}

static void raise_nofile(rlim_t n)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r))
		die("getrlimit: %s", strerror(errno));
	if (r.rlim_cur >= n)
		return;
	r.rlim_cur = n;
	if (r.rlim_max < n)
		r.rlim_max = n;
	if (setrlimit(RLIMIT_NOFILE, &r))
		die("setrlimit(RLIMIT_NOFILE, %lu): %s", (unsigned long)n,
		    strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* chan */

struct chan_pop {
	uint32_t *ids;		/* ids[i] is the channel named client-i */
	unsigned long n, cap;
	unsigned long extra;	/* names of the created-and-destroyed ones */
};

static void chan_name(char *buf, size_t len, unsigned long i)
{
	snprintf(buf, len, "client-%06lu", i);
}

static int chan_add(const char *name, uint32_t *id)
{
	struct chan_attr a = {
		.msg_size = 8, .capacity = 1, .mode = 0600, .name = name,
	};

	return chan_create(&a, id);
}

/* Grow the population to @n; returns 0 or the -errno that stopped it. */
static int chan_fill(struct chan_pop *p, unsigned long n)
{
	char name[CHAN_NAME_MAX];
	int ret;

	if (n > p->cap) {
		p->ids = realloc(p->ids, n * sizeof(*p->ids));
		if (!p->ids)
			die("out of memory");
		p->cap = n;
	}
	while (p->n < n) {
		chan_name(name, sizeof(name), p->n);
		ret = chan_add(name, &p->ids[p->n]);
		if (ret)
			return ret;
		p->n++;
	}
	return 0;
}

static void chan_shrink(struct chan_pop *p, unsigned long n)
{
	int ret;

	while (p->n > n) {
		p->n--;
		ret = chan_destroy(p->ids[p->n]);
		if (ret)
			die("chan_destroy: %s", strerror(-ret));
	}
}

static void chan_measure(struct chan_pop *p)
{
	uint64_t t_create = 0, t_destroy = 0, t_lookup = 0, t_open = 0;
	uint64_t t_info = 0, t;
	unsigned long i, k, n = p->n;
	char name[CHAN_NAME_MAX];
	struct chan_info info;
	uint32_t id;
	int ret, fd;

	/* CREATE one more, DESTROY it: the population stays n. */
	for (i = 0; i < n_warm + n_ops; i++) {
		uint64_t c, d;

		if (i == n_warm)
			sync_tick();
		snprintf(name, sizeof(name), "extra-%06lu", p->extra++);
		t = now_ns();
		ret = chan_add(name, &id);
		c = now_ns() - t;
		if (ret)
			die("create at %lu channels: %s", n, strerror(-ret));
		t = now_ns();
		ret = chan_destroy(id);
		d = now_ns() - t;
		if (ret)
			die("destroy at %lu channels: %s", n, strerror(-ret));
		if (i >= n_warm) {
			t_create += c;
			t_destroy += d;
		}
	}
	emit("chan-create", n, n_ops, t_create);
	emit("chan-destroy", n, n_ops, t_destroy);

	for (i = 0; i < n_warm + n_ops; i++) {
		uint64_t d;

		if (i == n_warm)
			sync_tick();
		k = (i * STRIDE) % n;
		chan_name(name, sizeof(name), k);
		t = now_ns();
		ret = chan_lookup(name, &id);
		d = now_ns() - t;
		if (ret || id != p->ids[k])
			die("lookup of %s: %s", name, strerror(-ret));
		if (i >= n_warm)
			t_lookup += d;
	}
	emit("chan-lookup", n, n_ops, t_lookup);

	for (i = 0; i < n_warm + n_ops; i++) {
		uint64_t d;

		if (i == n_warm)
			sync_tick();
		k = (i * STRIDE) % n;
		t = now_ns();
		fd = chan_open(p->ids[k], CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0);
		if (fd >= 0)
			close(fd);
		d = now_ns() - t;
		if (fd < 0)
			die("open of %u: %s", p->ids[k], strerror(-fd));
		if (i >= n_warm)
			t_open += d;
	}
	emit("chan-open", n, n_ops, t_open);

	for (i = 0; i < n_warm + n_ops; i++) {
		uint64_t d;

		if (i == n_warm)
			sync_tick();
		k = (i * STRIDE) % n;
		t = now_ns();
		ret = chan_info(p->ids[k], &info);
		d = now_ns() - t;
		if (ret)
			die("info of %u: %s", p->ids[k], strerror(-ret));
		if (i >= n_warm)
			t_info += d;
	}
	emit("chan-info", n, n_ops, t_info);
}

/*
 * Fill to the limit one root user can reach: min(max_channels,
 * max_user_channels) unless ring memory runs out first. Returns the limit
 * (the population is then limit - 1) or 0 if it could not be reached.
 */
static unsigned long chan_to_limit(struct chan_pop *p)
{
	unsigned long long mc = param("max_channels");
	unsigned long long muc = param("max_user_channels");
	unsigned long long murb = param("max_user_ring_bytes");
	unsigned long long mtrb = param("max_total_ring_bytes");
	unsigned long long mem = mem_total_bytes(), nch, bytes, per, need;
	unsigned long limit = (unsigned long)(mc < muc ? mc : muc);
	int ret;
	uint32_t id;

	fact("mem_total_bytes", "%llu", mem);
	fact("max_channels", "%llu", mc);
	fact("max_user_channels", "%llu", muc);
	fact("max_user_ring_bytes", "%llu", murb);
	fact("max_total_ring_bytes", "%llu", mtrb);
	fact("count_limit", "%lu", limit);

	ret = chan_fill(p, limit);
	bytes = root_ring_bytes(&nch);
	per = nch ? bytes / nch : 0;
	if (per)
		fact("ring_bytes_per_channel", "%llu", per);
	fact("default_reach", "%lu", p->n);
	if (ret) {
		fact("default_stop", "%s after %lu channels (%llu ring bytes charged to root)",
		     strerrorname_np(-ret) ?: "?", p->n, bytes);
		if (ret != -ENOSPC || !raise_ok || !per)
			goto out;
		/* Enough ring memory for the count limit, and a margin. */
		need = per * (limit + 64);
		if (need > mem / 2) {
			fact("not_raised", "%llu ring bytes needed, more than half of RAM",
			     need);
			goto out;
		}
		if (murb < need) {
			set_param("max_user_ring_bytes", need);
			fact("raised", "max_user_ring_bytes %llu -> %llu", murb, need);
		}
		if (mtrb < need) {
			set_param("max_total_ring_bytes", need);
			fact("raised", "max_total_ring_bytes %llu -> %llu", mtrb, need);
		}
		ret = chan_fill(p, limit);
		if (ret)
			fact("raised_stop", "%s after %lu channels",
			     strerrorname_np(-ret) ?: "?", p->n);
	}
out:
	if (p->n == limit) {
		/* Is it the limit? One more must fail with ENOSPC. */
		ret = chan_add("beyond-the-limit", &id);
		if (!ret) {
			chan_destroy(id);
			fact("limit_check", "channel %lu created: not a limit", limit + 1);
		} else {
			fact("limit_check", "channel %lu refused: %s", limit + 1,
			     strerrorname_np(-ret) ?: "?");
		}
	}
	if (p->n < 2) {
		fact("limit_population", "0");
		return 0;
	}
	limit = p->n;
	/* Measure at limit - 1, so that the CREATE measured is the last. */
	chan_shrink(p, limit - 1);
	fact("limit", "%lu", limit);
	fact("limit_population", "%lu", p->n);
	return limit;
}

/* ------------------------------------------------------------------------ */
/* POSIX mq */

static unsigned long mq_n, mq_extra;

static void mq_name(char *buf, size_t len, unsigned long i)
{
	snprintf(buf, len, "/client-%06lu", i);
}

static mqd_t mq_make(const char *name)
{
	struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 8 };

	return mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
}

static void mq_fill(unsigned long n)
{
	char name[64];
	mqd_t q;

	while (mq_n < n) {
		mq_name(name, sizeof(name), mq_n);
		q = mq_make(name);
		if (q == (mqd_t)-1)
			die("mq_open(%s, O_CREAT) at %lu queues: %s", name, mq_n,
			    strerror(errno));
		mq_close(q);
		mq_n++;
	}
}

static void mq_shrink(unsigned long n)
{
	char name[64];

	while (mq_n > n) {
		mq_n--;
		mq_name(name, sizeof(name), mq_n);
		if (mq_unlink(name))
			die("mq_unlink(%s): %s", name, strerror(errno));
	}
}

static void mq_measure(void)
{
	uint64_t t_create = 0, t_unlink = 0, t_open = 0, t;
	unsigned long i, k, n = mq_n;
	char name[64];
	mqd_t q;
	int ret;

	for (i = 0; i < n_warm + n_ops; i++) {
		uint64_t c, d;

		if (i == n_warm)
			sync_tick();
		snprintf(name, sizeof(name), "/extra-%06lu", mq_extra++);
		t = now_ns();
		q = mq_make(name);
		c = now_ns() - t;
		if (q == (mqd_t)-1)
			die("mq_open(O_CREAT) at %lu queues: %s", n, strerror(errno));
		mq_close(q);
		t = now_ns();
		ret = mq_unlink(name);
		d = now_ns() - t;
		if (ret)
			die("mq_unlink at %lu queues: %s", n, strerror(errno));
		if (i >= n_warm) {
			t_create += c;
			t_unlink += d;
		}
	}
	emit("mq-create", n, n_ops, t_create);
	emit("mq-unlink", n, n_ops, t_unlink);

	for (i = 0; i < n_warm + n_ops; i++) {
		uint64_t d;

		if (i == n_warm)
			sync_tick();
		k = (i * STRIDE) % n;
		mq_name(name, sizeof(name), k);
		t = now_ns();
		q = mq_open(name, O_RDWR | O_CLOEXEC);
		d = now_ns() - t;
		if (q == (mqd_t)-1)
			die("mq_open(%s): %s", name, strerror(errno));
		mq_close(q);
		if (i >= n_warm)
			t_open += d;
	}
	emit("mq-open", n, n_ops, t_open);
}

static void mq_prepare(unsigned long most)
{
	unsigned long long qmax;
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY }, old;

	/* Each queue charges root's RLIMIT_MSGQUEUE (about 56 bytes here). */
	if (getrlimit(RLIMIT_MSGQUEUE, &old))
		die("getrlimit(RLIMIT_MSGQUEUE): %s", strerror(errno));
	if (setrlimit(RLIMIT_MSGQUEUE, &r))
		die("setrlimit(RLIMIT_MSGQUEUE): %s", strerror(errno));
	fact("raised", "RLIMIT_MSGQUEUE %llu -> unlimited",
	     (unsigned long long)old.rlim_cur);
	if (read_u64(MQ_QUEUES_MAX, &qmax))
		die("cannot read " MQ_QUEUES_MAX);
	if (qmax < most + 1) {
		write_u64(MQ_QUEUES_MAX, most + 1);
		fact("raised", "fs.mqueue.queues_max %llu -> %lu", qmax,
		     most + 1);
	}
}

/* ------------------------------------------------------------------------ */
/* /dev/chan open with M IPC namespaces in existence */

static void dev_open_measure(const char *op, unsigned long m)
{
	uint64_t total = 0, t, d;
	unsigned long i;
	int fd;

	for (i = 0; i < n_warm + n_ops; i++) {
		if (i == n_warm)
			sync_tick();
		t = now_ns();
		fd = open("/dev/chan", O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		d = now_ns() - t;
		if (fd < 0)
			die("open /dev/chan: %s", strerror(errno));
		if (i >= n_warm)
			total += d;
	}
	emit(op, m, n_ops, total);
}

static void ns_pass(const unsigned long *counts, unsigned int nc)
{
	unsigned long most = counts[nc - 1], m = 1;
	int initial, newest = -1, fd, *fds;
	unsigned int c;

	raise_nofile(most + 64);
	fds = calloc(most, sizeof(*fds));
	initial = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
	if (!fds || initial < 0)
		die("/proc/self/ns/ipc: %s", strerror(errno));
	/* The initial namespace has opened /dev/chan (libchan's fd) too. */
	fd = open("/dev/chan", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/chan: %s", strerror(errno));
	close(fd);
	for (c = 0; c < nc; c++) {
		/* New namespaces, each kept alive by an nsfs fd. */
		while (m < counts[c]) {
			if (unshare(CLONE_NEWIPC))
				die("unshare(CLONE_NEWIPC) with %lu namespaces: %s",
				    m, strerror(errno));
			fd = open("/dev/chan", O_RDWR | O_CLOEXEC);
			if (fd < 0)
				die("open /dev/chan in namespace %lu: %s", m,
				    strerror(errno));
			close(fd);
			newest = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
			if (newest < 0)
				die("/proc/self/ns/ipc: %s", strerror(errno));
			fds[m++] = newest;
		}
		if (setns(initial, CLONE_NEWIPC))
			die("setns(initial): %s", strerror(errno));
		dev_open_measure("dev-open-initial", m);
		if (newest >= 0) {
			if (setns(newest, CLONE_NEWIPC))
				die("setns(newest): %s", strerror(errno));
			dev_open_measure("dev-open-newest", m);
			if (setns(initial, CLONE_NEWIPC))
				die("setns(initial): %s", strerror(errno));
		}
	}
	for (m = 1; m < most; m++)
		if (fds[m] > 0)
			close(fds[m]);
	free(fds);
	close(initial);
}

/* ------------------------------------------------------------------------ */

static unsigned int parse_list(const char *s, unsigned long *out,
			       int *with_limit)
{
	char *copy = strdup(s), *tok, *save;
	unsigned int n = 0;

	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (with_limit && !strcmp(tok, "limit")) {
			*with_limit = 1;
			continue;
		}
		if (n == MAX_POPS)
			die("too many counts");
		out[n] = strtoul(tok, NULL, 10);
		if (!out[n] || (n && out[n] <= out[n - 1]))
			die("counts must be positive and ascending: %s", s);
		n++;
	}
	free(copy);
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: reg_bench [-N COUNT,...[,limit]] [-M COUNT,...] [-k OPS]\n"
		"                 [-w WARM] [-T tsc|monotonic] [-R]\n"
		"  -N  channel (and mq) populations; 'limit': one root user's\n"
		"      limit (default 100,1000,10000,limit)\n"
		"  -M  IPC namespaces for the /dev/chan open (default 1,100,1000;\n"
		"      empty: skip)\n"
		"  -k  timed operations per figure (default 1000)\n"
		"  -R  never raise the module's ring-memory limits\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *nlist = "100,1000,10000,limit", *mlist = "1,100,1000";
	unsigned long pops[MAX_POPS + 1], nss[MAX_POPS];
	unsigned int np, nm, i;
	unsigned long long murb = 0, mtrb = 0;
	unsigned long limit = 0;
	struct chan_pop p = { 0 };
	int with_limit = 0, opt;

	while ((opt = getopt(argc, argv, "N:M:k:w:T:Rh")) != -1) {
		switch (opt) {
		case 'N': nlist = optarg; break;
		case 'M': mlist = optarg; break;
		case 'k': n_ops = (unsigned int)atoi(optarg); break;
		case 'w': n_warm = (unsigned int)atoi(optarg); break;
		case 'R': raise_ok = 0; break;
		case 'T':
			if (clock_opt(optarg))
				usage();
			break;
		default: usage();
		}
	}
	if (!n_ops)
		usage();
	np = parse_list(nlist, pops, &with_limit);
	nm = parse_list(mlist, nss, NULL);
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	printf("# reg_bench populations=%s namespaces=%s ops=%u warm=%u clock=%s\n",
	       nlist, mlist, n_ops, n_warm, use_tsc ? "tsc" : "monotonic");
	printf("# chan: named channels of 8-byte messages x 1 slot, mode 0600, "
	       "created by root in the initial IPC namespace\n");
	printf("# mq: mq_maxmsg 1, mq_msgsize 8\n");
	fflush(stdout);

	/* chan, at each population in turn. */
	for (i = 0; i < np; i++) {
		int ret = chan_fill(&p, pops[i]);

		if (ret)
			die("creating channel %lu of %lu: %s", p.n + 1, pops[i],
			    strerror(-ret));
		chan_measure(&p);
	}
	if (with_limit) {
		murb = param("max_user_ring_bytes");
		mtrb = param("max_total_ring_bytes");
		limit = chan_to_limit(&p);
		if (limit && (!np || limit - 1 > pops[np - 1]))
			chan_measure(&p);
		else
			fact("limit_note", "the limit is not above the largest count: not measured again");
	}
	chan_shrink(&p, 0);
	if (with_limit) {
		if (param("max_user_ring_bytes") != murb)
			set_param("max_user_ring_bytes", murb);
		if (param("max_total_ring_bytes") != mtrb)
			set_param("max_total_ring_bytes", mtrb);
	}
	free(p.ids);

	/* POSIX mq at the same populations. */
	if (limit > 1 && (!np || limit - 1 > pops[np - 1]))
		pops[np++] = limit - 1;
	if (np) {
		mq_prepare(pops[np - 1]);
		for (i = 0; i < np; i++) {
			mq_fill(pops[i]);
			mq_measure();
		}
		mq_shrink(0);
	}

	if (nm)
		ns_pass(nss, nm);
	printf("# done\n");
	return 0;
}
