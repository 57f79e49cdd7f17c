// SPDX-License-Identifier: GPL-2.0
/*
 * Resource exhaustion: many large channels (rings of up to 32 MiB, sized
 * to the VM's memory), created by a child process until CREATE fails.
 *
 * limits_and_recovery (always runs): with max_ring_bytes raised and
 * max_channels set to what ~60% of MemAvailable holds (in an IPC
 * namespace of its own, so only our channels count), creation must stop
 * cleanly with ENOSPC (or ENOMEM if memory really ran out first; never
 * anything else). Then, with memory mostly used by rings, an MPMC burst
 * on a small channel must deliver every message exactly once; then
 * destroying every channel must let a large channel be created (and
 * used) again. The parameters are restored afterwards.
 *
 * The per-user limits (max_user_ring_bytes, max_user_channels) are lifted
 * in each test, so that the limit it is about is the one reached.
 *
 * max_total_ring_bytes: the cap on all channels' rings together refuses
 * the ring that would cross it with ENOSPC, and takes it once another is
 * destroyed.
 *
 * cgroup_enomem: the hog runs in a memory cgroup limited to 64 MiB (or
 * half the free memory of a smaller VM); ring memory is charged to it, so
 * creation stops with ENOMEM (cleanly: no OOM killer, no allocation
 * warning in the kernel log, which vm-run.sh checks), and destroying the
 * rings gives the memory back to the cgroup.
 */
#include "chan_test_util.h"
#include <sys/mount.h>

#define MAX_BIG		200
#define BURST_PROD	3
#define BURST_CONS	3
#define BURST_PER_PROD	3000
#define WAIT_MS		120000
#define BIG_MSG		4080		/* 4096-byte slots */

struct hog_result {
	int32_t created;
	int32_t err;		/* errno of the failed CREATE, 0 if none failed */
	uint64_t ring_bytes;
};

struct burst_shared {
	uint64_t received, dups, damaged, errors;
	int32_t last_errno;
	uint64_t bitmap[(BURST_PROD * BURST_PER_PROD + 63) / 64];
};

static void set_oom_adj(int v)
{
	char buf[16];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);
	int n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%d", v);
	if (write(fd, buf, n) != n) {
		/* best effort */
	}
	close(fd);
}

/* The hog: create until CREATE fails or max channels exist. */
static int hog(struct hog_result *res, uint32_t capacity, int max)
{
	struct chan_create c;
	int dev, i;

	set_oom_adj(1000);
	dev = ct_dev_open();
	if (dev < 0)
		return CT_EXIT_SETUP;
	for (i = 0; i < max; i++) {
		memset(&c, 0, sizeof(c));
		c.msg_size = BIG_MSG;
		c.capacity = capacity;
		c.mode = 0600;
		if (ct_create_raw(dev, &c)) {
			__atomic_store_n(&res->err, errno, __ATOMIC_RELEASE);
			break;
		}
		res->ring_bytes = c.out_ring.map_size;
		__atomic_store_n(&res->created, i + 1, __ATOMIC_RELEASE);
	}
	close(dev);
	return 0;
}

/* Channels in this namespace, and optionally destroy them all. */
static int each_channel(int dev, bool destroy, uint32_t *big_seen)
{
	struct chan_info info;
	uint32_t next = 1;
	int n = 0;

	if (big_seen)
		*big_seen = 0;
	while (ct_info(dev, next, CHAN_INFO_NEXT, &info) == 0) {
		n++;
		if (big_seen && info.msg_size == BIG_MSG)
			(*big_seen)++;
		if (destroy && ct_destroy(dev, info.id))
			return -1;
		if (info.id == UINT32_MAX)
			break;
		next = info.id + 1;
	}
	return n;
}

static int burst_producer(int dev, uint32_t id, uint32_t me,
			  struct burst_shared *sh)
{
	uint64_t v[2];
	uint32_t s;
	int fd = ct_open(dev, id, CHAN_ROLE_SEND, 0, 0);

	if (fd < 0)
		return CT_EXIT_SETUP;
	for (s = 0; s < BURST_PER_PROD; s++) {
		v[0] = me;
		v[1] = s;
		if (ct_send(fd, 0, v, sizeof(v), 0, 0)) {
			sh->last_errno = errno;
			__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
			return 1;
		}
	}
	close(fd);
	return 0;
}

static int burst_consumer(int dev, uint32_t id, struct burst_shared *sh)
{
	uint64_t v[2], bit, old;
	uint32_t len;
	int fd = ct_open(dev, id, CHAN_ROLE_RECV, 0, 0);

	if (fd < 0)
		return CT_EXIT_SETUP;
	for (;;) {
		len = sizeof(v);
		if (ct_recv(fd, 0, v, &len, 0, 0)) {
			if (errno == EPIPE)	/* every producer is done */
				return 0;
			sh->last_errno = errno;
			__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
			return 1;
		}
		if (len != sizeof(v) || v[0] >= BURST_PROD ||
		    v[1] >= BURST_PER_PROD) {
			__atomic_add_fetch(&sh->damaged, 1, __ATOMIC_RELAXED);
			continue;
		}
		bit = v[0] * BURST_PER_PROD + v[1];
		old = __atomic_fetch_or(&sh->bitmap[bit / 64],
					1ULL << (bit % 64), __ATOMIC_RELAXED);
		if (old & (1ULL << (bit % 64)))
			__atomic_add_fetch(&sh->dups, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sh->received, 1, __ATOMIC_RELAXED);
	}
}

FIXTURE(mem) {
	unsigned long long saved_ring, saved_chans, saved_total;
	unsigned long long saved_user_ring, saved_user_chans;
	bool has_user_ring, has_user_chans;	/* (older modules lack them) */
	bool saved;
	pid_t pid[BURST_PROD + BURST_CONS + 1];
	struct hog_result *res;
	struct burst_shared *sh;
	int dev;
};

FIXTURE_SETUP(mem)
{
	self->dev = -1;
	ASSERT_OK(ct_param_read("max_ring_bytes", &self->saved_ring));
	ASSERT_OK(ct_param_read("max_channels", &self->saved_chans));
	ASSERT_OK(ct_param_read("max_total_ring_bytes", &self->saved_total));
	self->has_user_ring = ct_param_read_opt("max_user_ring_bytes",
						&self->saved_user_ring);
	self->has_user_chans = ct_param_read_opt("max_user_channels",
						 &self->saved_user_chans);
	self->saved = true;
	/* a namespace of our own: max_channels counts only our channels */
	ASSERT_OK(unshare(CLONE_NEWIPC));
	self->res = ct_shared_alloc(sizeof(*self->res));
	self->sh = ct_shared_alloc(sizeof(*self->sh));
	ASSERT_NE(NULL, self->res);
	ASSERT_NE(NULL, self->sh);
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(mem)
{
	ct_reap_all(self->pid, BURST_PROD + BURST_CONS + 1);
	if (self->dev >= 0) {
		each_channel(self->dev, true, NULL);
		close(self->dev);
	}
	if (self->saved) {
		ct_param_write("max_ring_bytes", self->saved_ring);
		ct_param_write("max_channels", self->saved_chans);
		ct_param_write("max_total_ring_bytes", self->saved_total);
		if (self->has_user_ring)
			ct_param_write("max_user_ring_bytes",
				       self->saved_user_ring);
		if (self->has_user_chans)
			ct_param_write("max_user_channels",
				       self->saved_user_chans);
	}
}

/*
 * The per-user limits (all of this runs as root, one user) out of the way,
 * so that the limit a test is about is the one that is reached.
 */
static int lift_user_limits(FIXTURE_DATA(mem) *self)
{
	if (self->has_user_ring &&
	    ct_param_write("max_user_ring_bytes", 1ULL << 50))
		return -1;
	if (self->has_user_chans &&
	    ct_param_write("max_user_channels", 1U << 30))
		return -1;
	return 0;
}

/* Ring capacity (4 KiB slots) for rings of at most 32 MiB and avail/8. */
static uint32_t big_capacity(long long avail_kb)
{
	uint32_t cap = 8192;

	while (cap > 256 && (long long)cap * 4 > avail_kb / 8)
		cap /= 2;
	return cap;
}

/* Run the hog to completion; returns its wait status code. */
static int run_hog(pid_t *slot,
		   struct hog_result *res, uint32_t cap, int max)
{
	memset(res, 0, sizeof(*res));
	fflush(stdout);
	fflush(stderr);
	*slot = fork();
	if (*slot == 0)
		_exit(hog(res, cap, max));
	if (*slot < 0)
		return -1;
	return ct_reap(slot, WAIT_MS);
}

/* A large channel works: one full-size message through it. */
static int big_roundtrip(int dev, uint32_t cap)
{
	static unsigned char out[BIG_MSG], in[BIG_MSG];
	uint32_t id, len = sizeof(in);
	int fd, ret = -1;
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7);
	if (ct_create_simple(dev, BIG_MSG, cap, &id))
		return -1;
	fd = ct_open(dev, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	if (fd >= 0 && !ct_send(fd, 0, out, sizeof(out), 0, 0) &&
	    !ct_recv(fd, 0, in, &len, 0, 0) && len == sizeof(in) &&
	    !memcmp(in, out, sizeof(in)))
		ret = 0;
	if (fd >= 0)
		close(fd);
	if (ct_destroy(dev, id))
		ret = -1;
	return ret;
}

TEST_F_TIMEOUT(mem, limits_and_recovery, 280)
{
	long long avail0 = ct_meminfo_kb("MemAvailable"), avail1, avail2;
	uint32_t cap = big_capacity(avail0), id, big_seen;
	struct chan_info info;
	unsigned long long ring;
	int n_max, st, i, n, tx;

	ASSERT_LT(0, avail0);
	ring = 4096ULL + (unsigned long long)cap * 4096;
	n_max = (int)(avail0 * 1024 * 6 / 10 / (long long)ring);
	if (n_max > MAX_BIG)
		n_max = MAX_BIG;
	ASSERT_LE(2, n_max);
	printf("# MemAvailable %lld KiB: rings of %llu KiB, max_channels %d\n",
	       avail0, ring / 1024, n_max);
	fflush(stdout);

	/* a ring over max_ring_bytes is refused with ENOSPC */
	ASSERT_OK(ct_param_write("max_ring_bytes", ring - 1));
	EXPECT_ERRNO(ENOSPC, ct_create_simple(self->dev, BIG_MSG, cap, &id));
	ASSERT_OK(ct_param_write("max_ring_bytes", ring > self->saved_ring ?
				 ring : self->saved_ring));
	ASSERT_OK(ct_param_write("max_channels", n_max));
	/* max_channels is the limit here, not the total or per-user caps */
	ASSERT_OK(ct_param_write("max_total_ring_bytes", 1ULL << 50));
	ASSERT_OK(lift_user_limits(self));

	st = run_hog(&self->pid[0], self->res, cap, MAX_BIG);
	ASSERT_EQ(0, st);
	TH_LOG("hog created %d rings of %llu bytes, then errno %d (%s)",
	       self->res->created, (unsigned long long)self->res->ring_bytes,
	       self->res->err, strerror(self->res->err));
	EXPECT_EQ(ring, self->res->ring_bytes);
	ASSERT_TRUE(self->res->err == ENOSPC || self->res->err == ENOMEM);
	if (self->res->err == ENOSPC)
		EXPECT_EQ(n_max, self->res->created);
	ASSERT_LE(1, self->res->created);
	/* the hog is gone, its persistent channels stay */
	n = each_channel(self->dev, false, &big_seen);
	EXPECT_EQ(self->res->created, n);
	EXPECT_EQ((uint32_t)n, big_seen);
	avail1 = ct_meminfo_kb("MemAvailable");
	printf("# MemAvailable with %d rings: %lld KiB\n", n, avail1);
	fflush(stdout);

	/* MPMC burst with memory mostly in rings: make room for one small channel */
	ASSERT_OK(ct_info(self->dev, 1, CHAN_INFO_NEXT, &info));
	ASSERT_OK(ct_destroy(self->dev, info.id));
	ASSERT_OK(ct_create_simple(self->dev, 16, 16, &id));
	/* a sender endpoint until every producer is done: no early EPIPE */
	tx = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, tx);
	for (i = 0; i < BURST_PROD + BURST_CONS; i++) {
		fflush(stdout);
		fflush(stderr);
		self->pid[i] = fork();
		ASSERT_LE(0, self->pid[i]);
		if (self->pid[i] == 0)
			_exit(close(tx) ? CT_EXIT_SETUP : i < BURST_PROD ?
			      burst_producer(self->dev, id, i, self->sh) :
			      burst_consumer(self->dev, id, self->sh));
	}
	for (i = 0; i < BURST_PROD + BURST_CONS; i++) {
		if (i == BURST_PROD)
			ASSERT_OK(close(tx));
		EXPECT_EQ(0, ct_reap(&self->pid[i], WAIT_MS));
	}
	if (self->sh->errors)
		TH_LOG("burst: %llu errors, last errno %d",
		       (unsigned long long)self->sh->errors,
		       self->sh->last_errno);
	EXPECT_EQ(0ULL, (unsigned long long)self->sh->errors);
	EXPECT_EQ(0ULL, (unsigned long long)self->sh->dups);
	EXPECT_EQ(0ULL, (unsigned long long)self->sh->damaged);
	EXPECT_EQ((unsigned long long)BURST_PROD * BURST_PER_PROD,
		  (unsigned long long)self->sh->received);
	for (i = 0; i < (BURST_PROD * BURST_PER_PROD) / 64; i++)
		EXPECT_EQ(~0ULL, (unsigned long long)self->sh->bitmap[i]);
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ((unsigned long long)BURST_PROD * BURST_PER_PROD,
		  (unsigned long long)info.sent);
	EXPECT_EQ(info.sent, info.received + info.dropped + info.discarded +
		  info.depth);
	EXPECT_EQ(0U, info.depth);
	/* the namespace is full again: one more is refused with ENOSPC */
	EXPECT_ERRNO(ENOSPC, ct_create_simple(self->dev, 16, 16, &id));

	/* recovery: everything destroyed, large channels come back */
	ASSERT_EQ(n, each_channel(self->dev, true, NULL));
	ASSERT_EQ(0, each_channel(self->dev, false, NULL));
	avail2 = ct_meminfo_kb("MemAvailable");
	printf("# MemAvailable after destroying them: %lld KiB\n", avail2);
	fflush(stdout);
	ASSERT_OK(big_roundtrip(self->dev, cap));
	st = run_hog(&self->pid[0], self->res, cap, MAX_BIG);
	ASSERT_EQ(0, st);
	EXPECT_EQ(ENOSPC, self->res->err);
	EXPECT_EQ(n_max, self->res->created);
	ASSERT_EQ(self->res->created, each_channel(self->dev, true, NULL));
}

TEST_F(mem, max_total_ring_bytes)
{
	uint32_t cap = 256, id[3];
	unsigned long long ring = 4096ULL + 256 * 4096;

	/* Room for two rings. The cap counts every namespace's rings: the
	 * suite runs one test at a time and each leaves no channel behind.
	 */
	ASSERT_OK(lift_user_limits(self));
	ASSERT_OK(ct_param_write("max_total_ring_bytes", 2 * ring));
	ASSERT_OK(ct_create_simple(self->dev, BIG_MSG, cap, &id[0]));
	ASSERT_OK(ct_create_simple(self->dev, BIG_MSG, cap, &id[1]));
	EXPECT_ERRNO(ENOSPC, ct_create_simple(self->dev, BIG_MSG, cap, &id[2]));
	ASSERT_OK(ct_destroy(self->dev, id[0]));
	ASSERT_OK(ct_create_simple(self->dev, BIG_MSG, cap, &id[2]));
	ASSERT_OK(ct_destroy(self->dev, id[1]));
	ASSERT_OK(ct_destroy(self->dev, id[2]));
}

#define CG_ROOT "/sys/fs/cgroup"
#define CG_HOG CG_ROOT "/chan-hog"

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

static long long read_ll(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtoll(buf, NULL, 10) : -1;
}

/* The hog, moved into the memory-limited cgroup first. */
static int cg_hog(struct hog_result *res, uint32_t cap, int max)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_str(CG_HOG "/cgroup.procs", pid))
		return CT_EXIT_SETUP;
	return hog(res, cap, max);
}

TEST_F_TIMEOUT(mem, cgroup_enomem, 280)
{
	uint32_t cap = 1024;	/* rings of 4 MiB + 4 KiB */
	long long charged, avail_kb, limit;
	char limit_s[32];
	int st, n;

	/* cgroup v2 with the memory controller for our child cgroup */
	if (access(CG_ROOT "/cgroup.controllers", F_OK))
		ASSERT_OK(mount("none", CG_ROOT, "cgroup2", 0, NULL));
	ASSERT_OK(write_str(CG_ROOT "/cgroup.subtree_control", "+memory"));
	rmdir(CG_HOG);
	ASSERT_OK(mkdir(CG_HOG, 0755));
	/*
	 * 64 MiB, or half of what is free in a smaller VM: the cgroup must
	 * run out while the machine still has memory, or the global OOM
	 * killer takes whoever faults next (this test, its runner) while the
	 * hog's last ring allocation is failing.
	 */
	avail_kb = ct_meminfo_kb("MemAvailable");
	ASSERT_LT(0, avail_kb);
	limit = avail_kb * 1024 / 2;
	if (limit > 64LL << 20)
		limit = 64LL << 20;
	snprintf(limit_s, sizeof(limit_s), "%lld", limit);
	ASSERT_OK(write_str(CG_HOG "/memory.max", limit_s));
	ASSERT_OK(ct_param_write("max_total_ring_bytes", 1ULL << 50));
	ASSERT_OK(ct_param_write("max_channels", 65536));
	/* the cgroup runs out first, not a small VM's per-user bytes */
	ASSERT_OK(lift_user_limits(self));

	memset(self->res, 0, sizeof(*self->res));
	fflush(stdout);
	self->pid[0] = fork();
	if (self->pid[0] == 0)
		_exit(cg_hog(self->res, cap, MAX_BIG));
	ASSERT_LT(0, self->pid[0]);
	st = ct_reap(&self->pid[0], WAIT_MS);
	TH_LOG("hog in a %lld KiB cgroup: status %d, %d rings of %llu bytes, then errno %d (%s)",
	       limit >> 10, st, self->res->created,
	       (unsigned long long)self->res->ring_bytes, self->res->err,
	       strerror(self->res->err));
	/* it ended by itself (no OOM kill), on ENOMEM, after some rings */
	ASSERT_EQ(0, st);
	EXPECT_EQ(ENOMEM, self->res->err);
	EXPECT_LE(1, self->res->created);
	EXPECT_GT(16, self->res->created);
	charged = read_ll(CG_HOG "/memory.current");
	TH_LOG("cgroup memory.current with the rings: %lld", charged);
	EXPECT_LE((long long)self->res->created * 4 << 20, charged);

	/* destroying them gives the memory back to the cgroup */
	n = each_channel(self->dev, true, NULL);
	EXPECT_EQ(self->res->created, n);
	charged = read_ll(CG_HOG "/memory.current");
	TH_LOG("cgroup memory.current after destroy: %lld", charged);
	EXPECT_GT(4LL << 20, charged);
	EXPECT_OK(big_roundtrip(self->dev, cap));
	EXPECT_OK(rmdir(CG_HOG));
}

CT_HARNESS_MAIN
