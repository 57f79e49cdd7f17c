// SPDX-License-Identifier: GPL-2.0
/*
 * The attacker's suite (issue 7): forked from root, children drop to
 * unprivileged uids (UID_A, the attacker, and UID_B, another user), often
 * inside user namespaces of their own, and try what a local user can try
 * through the mode-0666 /dev/chan:
 *
 *  - open /dev/chan in an IPC namespace whose /proc is a tmpfs holding a
 *    file, directory, symlink loop, FIFO or symlink to /dev/chan at
 *    /proc/thread-self/ns/ipc, with /proc unmounted, or chrooted without
 *    one; root's own opens of /dev/chan and of another misc device meanwhile
 *    must finish in bounded time (nsopen, last in the file: against a module
 *    that resolves that path, the symlink to /dev/chan wedges every misc
 *    device for good);
 *  - namespaces: IDs start at 1 in each namespace and do not move with the
 *    others'; a dead namespace's channels are destroyed (endpoints get
 *    EIDRM) and freed, unless a /dev/chan file, an nsfs file, a bind mount
 *    or a process keeps it alive; 200 namespaces in a row never see each
 *    other's names or IDs (nslife);
 *  - CREATE racing DESTROY by guessed ID, LOOKUP+DESTROY and open+close of
 *    AUTODESTROY channels (race);
 *  - every limit (channels per user and per namespace, ring bytes per user
 *    and in total, endpoints per channel) exhausted by one user while
 *    another still works, charges held until a channel is really freed, and
 *    given back when a namespace dies (limits);
 *  - AUTODESTROY: another user's open+close cannot destroy a channel and
 *    take its name, a failed OPEN changes nothing, OPEN is atomic with the
 *    last close (autodestroy);
 *  - the permission rule of every ioctl, group bits, and a user namespace's
 *    root who has no rights outside it (perm);
 *  - IDs guessed across namespaces (crossns).
 *
 * The semantics checked are issue 7's, restated above each test (spec N
 * refers to the numbered rules the kernel was changed to). Every wait is bounded (a child that does not exit is
 * reported with its state and kernel stack, never waited for forever), and
 * every test fails if the kernel logged a warning while it ran or if a
 * channel it made is still allocated (debugfs chan/objects) at its end.
 *
 * ATTACK_RACE_SECONDS=N makes the race tests run N seconds (default 4).
 */
#include "chan_test_util.h"

#include <pthread.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

/*
 * Children are forked inside test bodies and leave with _exit(); after the
 * harness's longjmp only the teardown runs, on the fixture. No local is
 * used after a longjmp, so what -Wclobbered warns of cannot happen.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#define UID_A		CT_NOBODY	/* 65534: the attacker */
#define UID_B		65533		/* another unprivileged user */
#define WAIT_MS		20000
#define OPEN_BOUND_MS	10000	/* an open of /dev/chan must be done by then */
#define REAP_BOUND_MS	15000	/* a dead namespace's channels must be freed by then */
#define OBJECTS_PATH	"/sys/kernel/debug/chan/objects"
#define USERS_PATH	"/sys/kernel/debug/chan/users"
#define TAG		0x7a67c4a57a67c4aULL
#define BADTAG		(TAG ^ 1)
#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)

/* ---- what a child reports: the line and message of the check that failed ---- */

struct at_report {
	int line;
	char msg[400];
};

#define AT_SLOTS	CT_MAX_CHILDREN
static struct at_report *at_rep;	/* AT_SLOTS of them, shared memory */
static int at_slot;			/* the calling child's */

static const char *at_ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

static void __attribute__((noreturn, format(printf, 2, 3)))
at_die(int line, const char *fmt, ...)
{
	struct at_report *r = &at_rep[at_slot];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->line = line;
	_exit(1);
}

/* Checks in a child: on failure, report and _exit(1). */
#define C_FAIL(fmt, ...) at_die(__LINE__, fmt, ##__VA_ARGS__)
#define C_TRUE(cond, fmt, ...)						\
	do {								\
		if (!(cond))						\
			at_die(__LINE__, "%s: " fmt, #cond, ##__VA_ARGS__); \
	} while (0)
/* call must not fail; its value */
#define C_OK(call)							\
	({								\
		long __r = (long)(call);				\
		if (__r < 0)						\
			at_die(__LINE__, "%s: %s", #call,		\
			       at_ename(errno));			\
		__r;							\
	})
/* call must fail with exactly exp */
#define C_ERRNO(exp, call)						\
	do {								\
		long __r = (long)(call);				\
		int __e = errno;					\
		if (__r != -1)						\
			at_die(__LINE__, "%s returned %ld, expected %s", \
			       #call, __r, at_ename(exp));		\
		if (__e != (exp))					\
			at_die(__LINE__, "%s: %s, expected %s", #call,	\
			       at_ename(__e), at_ename(exp));		\
	} while (0)
/* call must succeed or fail with one of the errnos given (at most 3) */
#define C_OK_OR(call, e1, e2, e3)					\
	({								\
		long __r = (long)(call);				\
		int __e = errno;					\
		if (__r < 0 && __e != (e1) && __e != (e2) && __e != (e3)) \
			at_die(__LINE__, "%s: %s", #call, at_ename(__e)); \
		__r < 0 ? -__e : __r;					\
	})

/* ---- processes ---- */

static pid_t at_fork(int slot)
{
	pid_t pid;

	memset(&at_rep[slot], 0, sizeof(at_rep[slot]));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		at_slot = slot;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	}
	return pid;
}

/*
 * Fork the child of slot n into pids[n] (ASSERTing that it started):
 * true in the child.
 */
#define AT_FORKED(pids, n)						\
	({								\
		(pids)[n] = at_fork(n);					\
		ASSERT_LE(0, (pids)[n]);				\
		(pids)[n] == 0;						\
	})

static void at_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;

	buf[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
}

/* "state D, wchan misc_open, stack: a b c" of a process, for the log. */
static void at_proc_diag(pid_t pid, char *out, size_t len)
{
	char path[64], stat[512], wchan[128], stack[1024], frames[256] = "";
	char state = '?', *p, *line, *save = NULL;
	size_t used = 0;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	at_read_file(path, stat, sizeof(stat));
	p = strrchr(stat, ')');
	if (p && p[1] == ' ')
		state = p[2];
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	at_read_file(path, wchan, sizeof(wchan));
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)pid);
	at_read_file(path, stack, sizeof(stack));
	for (line = strtok_r(stack, "\n", &save); line && n < 6;
	     line = strtok_r(NULL, "\n", &save), n++) {
		p = strchr(line, ' ');
		used += snprintf(frames + used, sizeof(frames) - used, " %s",
				 p ? p + 1 : line);
		if (used >= sizeof(frames))
			break;
	}
	snprintf(out, len, "state %c, wchan %s, stack:%s", state,
		 wchan[0] ? wchan : "?", frames[0] ? frames : " ?");
}

#define AT_STUCK	(-2)	/* did not exit, and SIGKILL did not help */

/*
 * Wait up to ms for our child pid; never blocks beyond that (a task in D
 * state cannot be killed, so a plain waitpid() after SIGKILL could wait
 * forever). Returns the exit code, 128 + signal, CT_WAIT_TIMEOUT (killed
 * and reaped) or AT_STUCK; diag describes a child that did not exit.
 */
static int at_wait_pid(pid_t pid, unsigned int ms, char *diag, size_t dlen)
{
	uint64_t deadline = ct_now_ns() + (uint64_t)ms * CT_MS;
	unsigned int nap = 1;
	int status;
	pid_t r;

	diag[0] = 0;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			snprintf(diag, dlen, "waitpid: %s", at_ename(errno));
			return CT_WAIT_TIMEOUT;
		}
		if (ct_now_ns() > deadline) {
			at_proc_diag(pid, diag, dlen);
			kill(pid, SIGKILL);
			deadline = ct_now_ns() + 3000 * CT_MS;
			while (ct_now_ns() < deadline) {
				if (waitpid(pid, &status, WNOHANG) == pid)
					return CT_WAIT_TIMEOUT;
				ct_sleep_ms(10);
			}
			return AT_STUCK;
		}
		ct_sleep_ms(nap);
		if (nap < 20)
			nap *= 2;
	}
	return ct_exit_code(status);
}

/* Wait for the child in *pid (report slot slot); log why it failed. */
static int at_child(struct __test_metadata *_metadata, pid_t *pid, int slot,
		    unsigned int ms, const char *what)
{
	char diag[600];
	int rc;

	if (*pid <= 0) {
		TH_LOG("%s: not started", what);
		return CT_EXIT_SETUP;
	}
	rc = at_wait_pid(*pid, ms, diag, sizeof(diag));
	if (rc != AT_STUCK)
		*pid = 0;
	if (rc == CT_WAIT_TIMEOUT || rc == AT_STUCK)
		TH_LOG("%s: still running after %u ms (%s)%s", what, ms, diag,
		       rc == AT_STUCK ? "; SIGKILL did not end it" : "");
	else if (rc)
		TH_LOG("%s: exit %d", what, rc);
	if (rc && at_rep[slot].line)
		TH_LOG("%s: line %d: %s", what, at_rep[slot].line,
		       at_rep[slot].msg);
	return rc;
}

/* Pipes as one-character semaphores between a child and the test. */
static void at_signal(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(CT_EXIT_SETUP);
}

/* The next character, or -1 on timeout or EOF. */
static int at_await(int fd, unsigned int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) != 1)
		return -1;
	if (read(fd, &c, 1) != 1)
		return -1;
	return (unsigned char)c;
}

/* ---- users and namespaces (in children) ---- */

/*
 * Become uid (and gid uid) with the supplementary groups given: UID_A
 * through ct_drop_privs(), others the same way. Stay dumpable so that
 * /proc/self/uid_map and friends remain ours to write, and keep dying
 * with the test.
 */
static int at_become(uid_t uid, const gid_t *groups, size_t ngroups)
{
	if (uid == CT_NOBODY) {
		if (ct_drop_privs(groups, ngroups))
			return -1;
	} else {
		if (setgroups(ngroups, groups) ||
		    setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static int at_write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * Unshare a user namespace (and the namespaces in more, which it then
 * owns) in which we are root, mapped to our own uid and gid: what any user
 * can do on Debian.
 */
static int at_userns(int more)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];

	if (unshare(CLONE_NEWUSER | more))
		return -1;
	if (at_write_file("/proc/self/setgroups", "deny"))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (at_write_file("/proc/self/uid_map", map))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", gid);
	return at_write_file("/proc/self/gid_map", map);
}

/* Child: become uid in a fresh user + IPC namespace, and open /dev/chan. */
static int at_fresh_ns(uid_t uid)
{
	C_OK(at_become(uid, NULL, 0));
	C_OK(at_userns(CLONE_NEWIPC));
	return C_OK(ct_dev_open());
}

/* ---- passing fds ---- */

static int at_send_fds(int sock, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

/* Receive exactly n fds within ms; 0 or -1. */
static int at_recv_fds(int sock, int *fds, int n, unsigned int ms)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct cmsghdr *cm;

	if (poll(&p, 1, ms) != 1)
		return -1;
	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int) * n))
		return -1;
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * n);
	return 0;
}

/* ---- what the kernel says about itself ---- */

/* Channels allocated now (debugfs chan/objects: created - destroyed), or -1. */
static long long at_live_channels(void)
{
	char buf[512], *p;
	long long made, freed;

	at_read_file(OBJECTS_PATH, buf, sizeof(buf));
	p = strstr(buf, "channels ");
	if (!p || sscanf(p, "channels %lld %lld", &made, &freed) != 2)
		return -1;
	return made - freed;
}

/* Wait up to ms until at most want channels are allocated; the last count. */
static long long at_wait_live(long long want, unsigned int ms)
{
	uint64_t deadline = ct_now_ns() + (uint64_t)ms * CT_MS;
	long long live;

	for (;;) {
		live = at_live_channels();
		if (live <= want || ct_now_ns() > deadline)
			return live;
		ct_sleep_ms(50);
	}
}

/* Ring bytes charged to all channels (debugfs chan/users), or 0. */
static unsigned long long at_total_ring_bytes(void)
{
	char buf[4096], *p;
	unsigned long long total;

	at_read_file(USERS_PATH, buf, sizeof(buf));
	p = strstr(buf, "total - ");
	if (!p || sscanf(p, "total - %llu", &total) != 1)
		return 0;
	return total;
}

/* Kernel log records since the fd was opened that mean something broke. */
static const char *const at_bad_words[] = {
	"WARNING:", "BUG:", "BUG ", "Oops", "refcount_t", "KASAN", "UBSAN",
	"general protection", "use-after-free", "list_add corruption",
	"list_del corruption", "possible recursive locking",
	"possible circular locking", "lockdep", "blocked for more than",
	"soft lockup", "hard LOCKUP", "self-detected stall", "Call Trace",
	"kmemleak", "stack-protector", "double free",
};

static int at_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static int at_kmsg_bad(struct __test_metadata *_metadata, int fd)
{
	char buf[4096], *msg;
	size_t i;
	ssize_t n;
	int bad = 0;

	for (;;) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		buf[n] = 0;
		msg = strchr(buf, ';');
		msg = msg ? msg + 1 : buf;
		for (i = 0; i < sizeof(at_bad_words) / sizeof(at_bad_words[0]);
		     i++) {
			if (strstr(msg, at_bad_words[i])) {
				if (bad++ < 8)
					TH_LOG("kernel: %.*s",
					       (int)strcspn(msg, "\n"), msg);
				break;
			}
		}
	}
	return bad;
}

/* ---- what every fixture shares ---- */

static const char *const at_param_names[] = {
	"max_channels", "max_user_channels", "max_ring_bytes",
	"max_user_ring_bytes", "max_total_ring_bytes",
};
#define AT_NPARAMS	5

struct at_common {
	int dev;			/* root's /dev/chan, initial namespace */
	mode_t dev_mode;
	int kmsg;
	long long live0;		/* channels allocated at the start */
	pid_t pid[AT_SLOTS];
	unsigned long long param[AT_NPARAMS];
	bool have_param[AT_NPARAMS];
	uint32_t root_ids[32];		/* root's channels, destroyed at the end */
	int nroot;
};

static void at_setup(struct __test_metadata *_metadata, struct at_common *c)
{
	int i;

	at_rep = ct_shared_alloc(sizeof(*at_rep) * AT_SLOTS);
	ASSERT_NE(NULL, at_rep);
	for (i = 0; i < AT_NPARAMS; i++)
		c->have_param[i] = !ct_param_read(at_param_names[i],
						   &c->param[i]);
	signal(SIGPIPE, SIG_IGN);
	c->dev = ct_dev_open();
	ASSERT_LE(0, c->dev);
	c->dev_mode = ct_dev_allow_all();
	c->kmsg = at_kmsg_open();
	if (c->kmsg < 0)
		TH_LOG("/dev/kmsg: %s", at_ename(errno));
	ASSERT_LE(0, c->kmsg);
	c->live0 = at_live_channels();
	if (c->live0 < 0)
		TH_LOG("cannot read %s", OBJECTS_PATH);
	ASSERT_LE(0, c->live0);
}

/* Destroy every channel of UID_A and UID_B in root's namespace. */
static void at_destroy_users_channels(int dev)
{
	struct chan_info info;
	uint32_t next = 1;
	int n = 0;

	while (n++ < 200000 && !ct_info(dev, next, CHAN_INFO_NEXT, &info)) {
		if (info.uid == UID_A || info.uid == UID_B)
			ct_destroy(dev, info.id);
		if (info.id == UINT32_MAX)
			break;
		next = info.id + 1;
	}
}

static void at_teardown(struct __test_metadata *_metadata,
			struct at_common *c)
{
	char diag[600];
	long long live;
	int i;

	for (i = 0; i < AT_SLOTS; i++) {
		if (c->pid[i] > 0 &&
		    at_wait_pid(c->pid[i], 1, diag, sizeof(diag)) == AT_STUCK)
			TH_LOG("child %d cannot be killed: %s", i, diag);
		c->pid[i] = 0;
	}
	for (i = 0; i < c->nroot; i++)
		ct_destroy(c->dev, c->root_ids[i]);
	at_destroy_users_channels(c->dev);
	for (i = 0; i < AT_NPARAMS; i++)
		if (c->have_param[i])
			ct_param_write(at_param_names[i], c->param[i]);
	/* Everything the test made must be freed (dead namespaces' included). */
	live = at_wait_live(c->live0, REAP_BOUND_MS);
	if (live > c->live0)
		TH_LOG("%lld channels still allocated %d s after the test (%lld before it)",
		       live - c->live0, REAP_BOUND_MS / 1000, c->live0);
	EXPECT_GE(c->live0, live);
	EXPECT_EQ(0, at_kmsg_bad(_metadata, c->kmsg));
	close(c->kmsg);
	ct_dev_restore(c->dev_mode);
	close(c->dev);
}

/* Root's channel in the initial namespace, destroyed at teardown. */
static int at_root_create(struct at_common *c, uint32_t msg_size,
			  uint32_t capacity, uint32_t mode, uint32_t flags,
			  const char *name, uint32_t *id)
{
	int ret = ct_create(c->dev, msg_size, capacity, mode, flags, TAG, name,
			    id);

	if (!ret && c->nroot < 32)
		c->root_ids[c->nroot++] = *id;
	return ret;
}

/* Walk INFO_NEXT from 1: is id listed? (*count: how many are.) */
static bool at_listed(int dev, uint32_t id, uint32_t *count)
{
	struct chan_info info;
	uint32_t next = 1, n = 0;
	bool seen = false;

	while (n < 200000 && !ct_info(dev, next, CHAN_INFO_NEXT, &info)) {
		n++;
		if (info.id == id)
			seen = true;
		if (info.id == UINT32_MAX)
			break;
		next = info.id + 1;
	}
	if (count)
		*count = n;
	return seen;
}

static void at_name(char *buf, size_t len, pid_t test, const char *what)
{
	snprintf(buf, len, "at-%d-%s", (int)test, what);
}

static unsigned int at_race_seconds(void)
{
	const char *s = getenv("ATTACK_RACE_SECONDS");
	int n = s ? atoi(s) : 0;

	return n > 0 && n <= 3600 ? n : 4;
}

/* =================================================================== */
/* Namespaces: IDs, death, what keeps one alive (spec 2 and 3)         */
/* =================================================================== */

FIXTURE(nslife) {
	struct at_common c;
	uint32_t *shm;		/* shared with children */
	char bindpath[64];	/* a bind mount of an nsfs file, if any */
};

FIXTURE_SETUP(nslife)
{
	at_setup(_metadata, &self->c);
	self->shm = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->shm);
}

FIXTURE_TEARDOWN(nslife)
{
	if (self->bindpath[0]) {
		umount2(self->bindpath, MNT_DETACH);
		unlink(self->bindpath);
	}
	at_teardown(_metadata, &self->c);
}

/*
 * Spec 3: IDs are per namespace, from 1 up, cyclically. X (UID_A, own
 * user+IPC namespace) gets 1, 2, 3; then Y (UID_B) creates 50 and a root
 * namespace 21 elsewhere, and the initial namespace's next ID moves by one
 * only for root's own create; X goes on with 4, and destroyed IDs are not
 * handed out again at once.
 */
static int ids_x_child(int ready, int go)
{
	struct chan_info info;
	uint32_t id, next = 1, seen[8] = { 0 }, n = 0;
	int dev = at_fresh_ns(UID_A), i;

	for (i = 1; i <= 3; i++) {
		C_OK(ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
		C_TRUE(id == (uint32_t)i, "create %d in a fresh namespace got ID %u",
		       i, id);
	}
	at_signal(ready, 'R');
	C_TRUE(at_await(go, 60000) == 'G', "no go");
	C_OK(ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
	C_TRUE(id == 4, "after other namespaces created 71 channels, ID %u", id);
	C_OK(ct_destroy(dev, 4));
	C_OK(ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
	C_TRUE(id == 5, "ID %u after destroying 4", id);
	C_OK(ct_destroy(dev, 2));
	C_OK(ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
	C_TRUE(id == 6, "ID %u after destroying 2", id);
	while (!ct_info(dev, next, CHAN_INFO_NEXT, &info) && n < 8) {
		seen[n++] = info.id;
		next = info.id + 1;
	}
	C_TRUE(n == 4 && seen[0] == 1 && seen[1] == 3 && seen[2] == 5 &&
	       seen[3] == 6, "listed %u channels: %u %u %u %u", n, seen[0],
	       seen[1], seen[2], seen[3]);
	return 0;
}

TEST_F_TIMEOUT(nslife, ids_per_namespace, 180)
{
	int ready[2], go[2], i;
	uint32_t r1, r2;

	ASSERT_OK(pipe2(ready, O_CLOEXEC));
	ASSERT_OK(pipe2(go, O_CLOEXEC));
	ASSERT_OK(at_root_create(&self->c, 8, 1, 0600, 0, NULL, &r1));
	if (AT_FORKED(self->c.pid, 0))
		_exit(ids_x_child(ready[1], go[0]));
	if (at_await(ready[0], WAIT_MS) != 'R') {
		at_child(_metadata, &self->c.pid[0], 0, 1000, "namespace X");
		ASSERT_TRUE(false);
	}

	/* Y: another user's namespace, 50 channels: 1..50 */
	if (AT_FORKED(self->c.pid, 1)) {
		int dev = at_fresh_ns(UID_B);
		uint32_t id = 0;

		for (i = 1; i <= 50; i++) {
			C_OK(ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
			C_TRUE(id == (uint32_t)i, "create %d got ID %u", i, id);
		}
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "namespace Y"));

	/* Z: root in a fresh IPC namespace of the initial user namespace */
	if (AT_FORKED(self->c.pid, 2)) {
		uint32_t id = 0;
		int dev;

		C_OK(unshare(CLONE_NEWIPC));
		dev = C_OK(ct_dev_open());
		for (i = 1; i <= 21; i++) {
			C_OK(ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
			C_TRUE(id == (uint32_t)i, "create %d got ID %u", i, id);
		}
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[2], 2, WAIT_MS,
			      "namespace Z"));

	/* The initial namespace did not move either. */
	ASSERT_OK(at_root_create(&self->c, 8, 1, 0600, 0, NULL, &r2));
	EXPECT_EQ(r1 + 1, r2);

	at_signal(go[1], 'G');
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "namespace X"));
}

/*
 * Spec 2: 200 namespaces in a row, by two users, each leaving (every other
 * round) channels behind: one with an endpoint open at exit and messages
 * queued, an armed AUTODESTROY one, a never-opened one. Each new namespace
 * must see nothing of the old ones (no channel listed, no ID, no name,
 * the same names free), even when the kernel reuses their memory; every 25
 * rounds, and at the end, all the dead namespaces' channels must have been
 * destroyed and freed.
 */
#define DEAD_ROUNDS	200

static int dead_ns_child(int round)
{
	static const char *const names[] = { "dead-0", "dead-1", "dead-2" };
	struct chan_info info;
	uint32_t id = 0, a = 0, b = 0, c = 0;
	uint64_t v = round;
	int dev, i;

	dev = at_fresh_ns(round % 3 == 2 ? UID_B : UID_A);
	C_ERRNO(ENOENT, ct_info(dev, 1, CHAN_INFO_NEXT, &info));
	C_ERRNO(ENOENT, ct_info(dev, 0, CHAN_INFO_NEXT, &info));
	for (id = 1; id <= 4; id++) {
		C_ERRNO(ENOENT, ct_info(dev, id, 0, &info));
		C_ERRNO(ENOENT, ct_open(dev, id, RW, 0, 0));
		C_ERRNO(ENOENT, ct_send_u64(dev, id, v, CHAN_MSG_NONBLOCK));
		C_ERRNO(ENOENT, ct_destroy(dev, id));
	}
	for (i = 0; i < 3; i++)
		C_ERRNO(ENOENT, ct_lookup(dev, names[i], &id));
	C_OK(ct_create(dev, 8, 4, 0600, 0, 0, names[0], &a));
	C_OK(ct_create(dev, 8, 4, 0600, CHAN_CREATE_AUTODESTROY, 0, names[1],
		       &b));
	C_OK(ct_create(dev, 16, 8, 0600, 0, 0, names[2], &c));
	{
		int ea = C_OK(ct_open(dev, a, RW, 0, 0));
		int eb = C_OK(ct_open(dev, b, RW, 0, 0));

		C_OK(ct_send_u64(ea, 0, v, 0));
		C_OK(ct_send_u64(ea, 0, v, 0));
		C_OK(ct_send_u64(dev, c, v, 0));
		if (round % 2)
			return 0;	/* all left to the namespace's death */
		close(ea);
		close(eb);	/* armed: destroys b */
		C_ERRNO(ENOENT, ct_info(dev, b, 0, &info));
		C_OK(ct_destroy(dev, a));
		C_OK(ct_destroy(dev, c));
		C_ERRNO(ENOENT, ct_info(dev, 1, CHAN_INFO_NEXT, &info));
	}
	return 0;
}

TEST_F_TIMEOUT(nslife, dead_namespaces_forgotten, 600)
{
	long long live;
	char what[32];
	int r;

	for (r = 0; r < DEAD_ROUNDS; r++) {
		if (AT_FORKED(self->c.pid, 0))
			_exit(dead_ns_child(r));
		snprintf(what, sizeof(what), "round %d", r);
		ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
				      what));
		if ((r + 1) % 25)
			continue;
		live = at_wait_live(self->c.live0, REAP_BOUND_MS);
		if (live > self->c.live0)
			TH_LOG("after round %d: %lld channels of dead namespaces still allocated after %d s",
			       r, live - self->c.live0, REAP_BOUND_MS / 1000);
		ASSERT_GE(self->c.live0, live);
	}
}

/*
 * Spec 2: when the last process of a namespace exits and nothing else
 * keeps it, its channels are destroyed: an endpoint fd that was passed out
 * (which does not keep the namespace) sees EIDRM, also while blocked.
 */
TEST_F_TIMEOUT(nslife, dead_namespace_endpoints_eidrm, 120)
{
	int sv[2], fds[2];
	struct chan_info info;
	uint64_t t0, v;
	uint32_t len = sizeof(v);
	int ret, err;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	if (AT_FORKED(self->c.pid, 0)) {
		int dev = at_fresh_ns(UID_A), e[2];
		uint32_t id = 0;

		C_OK(ct_create(dev, 8, 4, 0600, 0, 0, "doomed", &id));
		e[0] = C_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, 0));
		e[1] = C_OK(ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		C_OK(at_send_fds(sv[1], e, 2));
		_exit(0);
	}
	ASSERT_OK(at_recv_fds(sv[0], fds, 2, WAIT_MS));
	ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "creator"));
	/* we hold a sender: the receive blocks until the reaper comes */
	t0 = ct_now_ns();
	ret = ct_recv(fds[0], 0, &v, &len, CHAN_MSG_TIMEOUT, REAP_BOUND_MS * CT_MS);
	err = errno;
	if (ret != -1 || err != EIDRM)
		TH_LOG("receive on a dead namespace's channel: ret %d %s after %.1f s",
		       ret, at_ename(err), (ct_now_ns() - t0) / 1e9);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EIDRM, err);
	EXPECT_ERRNO(EIDRM, ct_send_u64(fds[1], 0, 1, CHAN_MSG_NONBLOCK));
	ASSERT_OK(ct_info(fds[0], 0, 0, &info));
	EXPECT_NE(0U, info.state & CHAN_STATE_DESTROYED);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Spec 2: a namespace is alive while a process, a /dev/chan file, an nsfs
 * file or a bind mount of one keeps it: its channels then survive several
 * reaper periods. When the keeper goes, they are destroyed.
 */
enum { KEEP_DEVCHAN, KEEP_NSFS, KEEP_BIND, KEEP_PROCESS };

static void kept_alive(struct __test_metadata *_metadata,
		       FIXTURE_DATA(nslife) *self, int keep)
{
	int sv[2], go[2], fds[3], keeper = -1, ret, err;
	struct chan_info info;
	uint64_t v;
	uint32_t len = sizeof(v), id = 0;
	char path[64];

	if (keep == KEEP_BIND) {
		/* a mount namespace of our own for the bind mount */
		ASSERT_OK(unshare(CLONE_NEWNS));
		ASSERT_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	}
	ASSERT_OK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_OK(pipe2(go, O_CLOEXEC));
	if (AT_FORKED(self->c.pid, 0)) {
		int dev = at_fresh_ns(UID_A), e[3];

		C_OK(ct_create(dev, 8, 4, 0600, 0, 0, "kept", &id));
		self->shm[0] = id;
		e[0] = C_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, 0));
		e[1] = C_OK(ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		e[2] = dev;
		C_OK(at_send_fds(sv[1], e, 3));
		close(e[0]);
		close(e[1]);
		close(e[2]);
		C_TRUE(at_await(go[0], 120000) == 'X', "no word to exit");
		_exit(0);
	}
	ASSERT_OK(at_recv_fds(sv[0], fds, 3, WAIT_MS));
	id = self->shm[0];
	if (keep == KEEP_DEVCHAN) {
		keeper = fds[2];
	} else {
		close(fds[2]);
		snprintf(path, sizeof(path), "/proc/%d/ns/ipc",
			 (int)self->c.pid[0]);
		if (keep == KEEP_NSFS) {
			keeper = open(path, O_RDONLY | O_CLOEXEC);
			ASSERT_LE(0, keeper);
		} else if (keep == KEEP_BIND) {
			snprintf(self->bindpath, sizeof(self->bindpath),
				 "/tmp/at-nsbind-%d", (int)getpid());
			keeper = open(self->bindpath, O_CREAT | O_RDONLY |
				      O_CLOEXEC, 0600);
			ASSERT_LE(0, keeper);
			close(keeper);
			ASSERT_OK(mount(path, self->bindpath, NULL, MS_BIND,
					NULL));
		}
	}
	if (keep != KEEP_PROCESS) {
		at_signal(go[1], 'X');
		ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
				      "creator"));
	}

	/* a few reaper periods: still alive */
	ct_sleep_ms(3000);
	ASSERT_OK(ct_info(fds[0], 0, 0, &info));
	EXPECT_EQ(0U, info.state & CHAN_STATE_DESTROYED);
	EXPECT_OK(ct_send_u64(fds[1], 0, 7, CHAN_MSG_NONBLOCK));
	if (keep == KEEP_DEVCHAN) {
		/* the kept file still names it */
		ASSERT_OK(ct_info(keeper, id, 0, &info));
		EXPECT_EQ(1U, info.depth);
	}
	ASSERT_OK(ct_recv_u64(fds[0], 0, &v, CHAN_MSG_NONBLOCK));

	/* the keeper goes: so do the channels */
	switch (keep) {
	case KEEP_DEVCHAN:
	case KEEP_NSFS:
		close(keeper);
		break;
	case KEEP_BIND:
		ASSERT_OK(umount2(self->bindpath, MNT_DETACH));
		break;
	case KEEP_PROCESS:
		at_signal(go[1], 'X');
		ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
				      "creator"));
		break;
	}
	ret = ct_recv(fds[0], 0, &v, &len, CHAN_MSG_TIMEOUT,
		      REAP_BOUND_MS * CT_MS);
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EIDRM, err);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
	close(go[0]);
	close(go[1]);
}

TEST_F_TIMEOUT(nslife, kept_alive_by_dev_chan_file, 120)
{
	kept_alive(_metadata, self, KEEP_DEVCHAN);
}

TEST_F_TIMEOUT(nslife, kept_alive_by_nsfs_file, 120)
{
	kept_alive(_metadata, self, KEEP_NSFS);
}

TEST_F_TIMEOUT(nslife, kept_alive_by_bind_mount, 120)
{
	kept_alive(_metadata, self, KEEP_BIND);
}

TEST_F_TIMEOUT(nslife, kept_alive_by_process, 120)
{
	kept_alive(_metadata, self, KEEP_PROCESS);
}

/* =================================================================== */
/* Cross-namespace ID guessing                                          */
/* =================================================================== */

FIXTURE(crossns) {
	struct at_common c;
	uint32_t *shm;
};

FIXTURE_SETUP(crossns)
{
	at_setup(_metadata, &self->c);
	self->shm = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->shm);
}

FIXTURE_TEARDOWN(crossns)
{
	at_teardown(_metadata, &self->c);
}

/* Every ioctl on IDs 1..16 and the names x-0..2 finds nothing. */
static void crossns_guess(int dev)
{
	static const char *const names[] = { "x-0", "x-1", "x-2" };
	struct chan_info info;
	uint64_t v = 0;
	uint32_t id, len = sizeof(v);
	int i;

	C_ERRNO(ENOENT, ct_info(dev, 1, CHAN_INFO_NEXT, &info));
	for (id = 1; id <= 16; id++) {
		C_ERRNO(ENOENT, ct_info(dev, id, 0, &info));
		C_ERRNO(ENOENT, ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		C_ERRNO(ENOENT, ct_open(dev, id, CHAN_ROLE_RECV, 0, TAG));
		C_ERRNO(ENOENT, ct_open(dev, id, RW, 0, BADTAG));
		C_ERRNO(ENOENT, ct_send_u64(dev, id, v, CHAN_MSG_NONBLOCK));
		C_ERRNO(ENOENT, ct_send(dev, id, &v, sizeof(v), 0, 0));
		C_ERRNO(ENOENT, ct_recv(dev, id, &v, &len, CHAN_MSG_NONBLOCK, 0));
		C_ERRNO(ENOENT, ct_recv(dev, id, &v, &len, 0, 0));
		C_ERRNO(ENOENT, ct_destroy(dev, id));
	}
	for (i = 0; i < 3; i++)
		C_ERRNO(ENOENT, ct_lookup(dev, names[i], &id));
}

/*
 * X (UID_A's namespace) makes three 0666 channels, IDs 1..3, named x-0..2.
 * From another user's namespace and from root in a fresh IPC namespace
 * (with every capability) every ioctl on guessed IDs gets ENOENT; root's
 * initial namespace does not know the names either. X's channels are
 * untouched, and the same names are free elsewhere.
 */
TEST_F_TIMEOUT(crossns, id_guessing, 120)
{
	int ready[2], go[2];
	uint32_t id = 0;

	ASSERT_OK(pipe2(ready, O_CLOEXEC));
	ASSERT_OK(pipe2(go, O_CLOEXEC));
	if (AT_FORKED(self->c.pid, 0)) {
		int dev = at_fresh_ns(UID_A), i;
		struct chan_info info;
		char name[CHAN_NAME_MAX];
		uint64_t v;

		for (i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "x-%d", i);
			C_OK(ct_create(dev, 8, 4, 0666, 0, TAG, name, &id));
			C_OK(ct_send_u64(dev, id, i, 0));
		}
		at_signal(ready[1], 'R');
		C_TRUE(at_await(go[0], 120000) == 'G', "no go");
		for (i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "x-%d", i);
			C_OK(ct_lookup(dev, name, &id));
			C_OK(ct_info(dev, id, 0, &info));
			C_TRUE(info.depth == 1 && !info.state,
			       "x-%d: depth %u state %#x", i, info.depth,
			       info.state);
			C_OK(ct_recv_u64(dev, id, &v, CHAN_MSG_NONBLOCK));
			C_TRUE(v == (uint64_t)i, "x-%d held %" PRIu64, i, v);
		}
		_exit(0);
	}
	ASSERT_EQ('R', at_await(ready[0], WAIT_MS));

	if (AT_FORKED(self->c.pid, 1)) {
		int dev = at_fresh_ns(UID_B);

		crossns_guess(dev);
		C_OK(ct_create(dev, 8, 1, 0600, 0, 0, "x-0", &id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "another user's namespace"));

	if (AT_FORKED(self->c.pid, 2)) {
		int dev;

		C_OK(unshare(CLONE_NEWIPC));
		dev = C_OK(ct_dev_open());
		crossns_guess(dev);
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[2], 2, WAIT_MS,
			      "root in a fresh namespace"));

	EXPECT_ERRNO(ENOENT, ct_lookup(self->c.dev, "x-0", &id));
	EXPECT_ERRNO(ENOENT, ct_lookup(self->c.dev, "x-2", &id));

	at_signal(go[1], 'G');
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "namespace X"));
}

/* =================================================================== */
/* Races (spec 4 and 7)                                                 */
/* =================================================================== */

FIXTURE(race) {
	struct at_common c;
};

FIXTURE_SETUP(race)
{
	at_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(race)
{
	at_teardown(_metadata, &self->c);
}

struct race_ctl {
	volatile int stop;
	volatile uint32_t last_id;
	uint64_t creates, eexist, own_destroys, racer_destroys,
		 guess_destroys, lookups, racer_opens, walker_opens;
};

static const char *const race_names[] = { "r-0", "r-1", "r-2", "r-3" };

static void *race_creator(void *arg)
{
	struct race_ctl *rc = arg;
	int dev = C_OK(ct_dev_open());
	struct chan_info info;
	unsigned int i;
	uint32_t id = 0;
	long r;

	for (i = 0; !rc->stop; i++) {
		r = C_OK_OR(ct_create(dev, 8, 2, 0600,
				      i & 1 ? CHAN_CREATE_AUTODESTROY : 0, 0,
				      race_names[i % 4], &id), EEXIST, 0, 0);
		if (r < 0) {
			__atomic_add_fetch(&rc->eexist, 1, __ATOMIC_RELAXED);
			if (!ct_lookup(dev, race_names[i % 4], &id))
				C_OK_OR(ct_destroy(dev, id), ENOENT, 0, 0);
			else
				C_TRUE(errno == ENOENT, "lookup: %s",
				       at_ename(errno));
			continue;
		}
		rc->last_id = id;
		__atomic_add_fetch(&rc->creates, 1, __ATOMIC_RELAXED);
		switch (i % 8) {
		case 1: case 3: {
			/* the owner's endpoint arms AUTODESTROY */
			r = C_OK_OR(ct_open(dev, id, RW, 0, 0), ENOENT, EIDRM, 0);
			if (r >= 0)
				close(r);
			break;
		}
		case 2: case 4:
			if (!C_OK_OR(ct_destroy(dev, id), ENOENT, 0, 0))
				__atomic_add_fetch(&rc->own_destroys, 1,
						   __ATOMIC_RELAXED);
			break;
		case 6:
			C_OK_OR(ct_info(dev, id, 0, &info), ENOENT, 0, 0);
			break;
		}
	}
	close(dev);
	return NULL;
}

static void *race_racer(void *arg)
{
	struct race_ctl *rc = arg;
	int dev = C_OK(ct_dev_open());
	unsigned int i, k;
	uint32_t id = 0, g;
	long r;

	for (i = 0; !rc->stop; i++) {
		/* the next IDs, before their creator has returned */
		g = rc->last_id;
		for (k = 1; k <= 3; k++)
			if (!C_OK_OR(ct_destroy(dev, g + k), ENOENT, 0, 0))
				__atomic_add_fetch(&rc->guess_destroys, 1,
						   __ATOMIC_RELAXED);
		r = C_OK_OR(ct_open(dev, g + 1, RW, 0, 0), ENOENT, EIDRM, 0);
		if (r >= 0) {
			__atomic_add_fetch(&rc->racer_opens, 1, __ATOMIC_RELAXED);
			close(r);
		}
		if (C_OK_OR(ct_lookup(dev, race_names[i % 4], &id), ENOENT,
			    0, 0))
			continue;
		__atomic_add_fetch(&rc->lookups, 1, __ATOMIC_RELAXED);
		if (!C_OK_OR(ct_destroy(dev, id), ENOENT, 0, 0))
			__atomic_add_fetch(&rc->racer_destroys, 1,
					   __ATOMIC_RELAXED);
	}
	close(dev);
	return NULL;
}

/*
 * In a racing child: run the three threads fn[] on arg for secs seconds,
 * then tell them to stop and wait for them.
 */
static void at_run_threads(void *(*const fn[3])(void *), void *arg,
			   volatile int *stop, unsigned int secs)
{
	pthread_t t[3];
	int i;

	for (i = 0; i < 3; i++)
		C_TRUE(!pthread_create(&t[i], NULL, fn[i], arg), "thread");
	ct_sleep_ms(secs * 1000);
	*stop = 1;
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

/* Opens and closes whatever it finds: the close of an armed one destroys. */
static void *race_walker(void *arg)
{
	struct race_ctl *rc = arg;
	int dev = C_OK(ct_dev_open());
	struct chan_info info;
	uint32_t next = 1;
	long r;

	while (!rc->stop) {
		if (ct_info(dev, next, CHAN_INFO_NEXT, &info)) {
			C_TRUE(errno == ENOENT, "INFO_NEXT: %s", at_ename(errno));
			next = 1;
			continue;
		}
		next = info.id + 1;
		r = C_OK_OR(ct_open(dev, info.id, CHAN_ROLE_RECV, 0, 0),
			    ENOENT, EIDRM, 0);
		if (r >= 0) {
			__atomic_add_fetch(&rc->walker_opens, 1,
					   __ATOMIC_RELAXED);
			close(r);
		}
	}
	close(dev);
	return NULL;
}

/*
 * Spec 4 (issue item 3): CREATE takes its reference before the channel is
 * visible. One thread creates named channels (half AUTODESTROY, some
 * opened and closed by their owner, some destroyed by it) while another
 * destroys the IDs that are about to be handed out and the names it finds,
 * and a third opens and closes whatever is listed. Every call must give a
 * documented result; nothing may be logged by the kernel (refcount, KASAN).
 */
TEST_F_TIMEOUT(race, create_vs_destroy, 600)
{
	unsigned int secs = at_race_seconds();
	struct race_ctl *rc = ct_shared_alloc(sizeof(*rc));

	ASSERT_NE(NULL, rc);
	if (AT_FORKED(self->c.pid, 0)) {
		void *(*const fn[3])(void *) = {
			race_creator, race_racer, race_walker,
		};
		struct chan_info info;
		int dev = at_fresh_ns(UID_A);

		at_run_threads(fn, rc, &rc->stop, secs);
		while (!ct_info(dev, 1, CHAN_INFO_NEXT, &info))
			C_OK(ct_destroy(dev, info.id));
		_exit(0);
	}
	ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0,
			      secs * 1000 + 60000, "racers"));
	TH_LOG("%u s: %" PRIu64 " creates (%" PRIu64 " EEXIST), destroys: %"
	       PRIu64 " own, %" PRIu64 " by name, %" PRIu64 " by guessed ID; opens: %"
	       PRIu64 " guessed, %" PRIu64 " listed", secs, rc->creates,
	       rc->eexist, rc->own_destroys, rc->racer_destroys,
	       rc->guess_destroys, rc->racer_opens, rc->walker_opens);
	/* the race was run, not just started */
	EXPECT_LE(20U, rc->creates);
	EXPECT_LE(1U, rc->racer_destroys + rc->guess_destroys);
}

/* =================================================================== */
/* AUTODESTROY (spec 7)                                                 */
/* =================================================================== */

FIXTURE(autodestroy) {
	struct at_common c;
	uint32_t *shm;
	char name[CHAN_NAME_MAX];
};

FIXTURE_SETUP(autodestroy)
{
	at_setup(_metadata, &self->c);
	self->shm = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->shm);
	at_name(self->name, sizeof(self->name), getpid(), "ad");
}

FIXTURE_TEARDOWN(autodestroy)
{
	at_teardown(_metadata, &self->c);
}

/* UID_A creates a named AUTODESTROY channel, mode 0666, never opened. */
static uint32_t ad_create_as_a(struct __test_metadata *_metadata,
			       FIXTURE_DATA(autodestroy) *self)
{
	self->shm[0] = 0;
	self->c.pid[0] = at_fork(0);
	if (self->c.pid[0] == 0) {
		uint32_t id = 0;

		C_OK(at_become(UID_A, NULL, 0));
		C_OK(ct_create(C_OK(ct_dev_open()), 8, 4, 0666,
			       CHAN_CREATE_AUTODESTROY, 0, self->name, &id));
		self->shm[0] = id;
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A's create"));
	return self->shm[0];
}

/*
 * Spec 7: UID_B, who may send and receive (mode 0666), opens and closes
 * endpoints of every kind on UID_A's never-opened AUTODESTROY channel,
 * also by exiting: the channel stays, and its name stays UID_A's. UID_A's
 * own open+close then destroys it.
 */
TEST_F_TIMEOUT(autodestroy, other_user_cannot_destroy, 120)
{
	struct chan_info info;
	uint32_t id = 0, got = 0;

	id = ad_create_as_a(_metadata, self);
	ASSERT_NE(0U, id);
	if (AT_FORKED(self->c.pid, 1)) {
		static const uint32_t roles[] = {
			CHAN_ROLE_SEND, CHAN_ROLE_RECV, RW,
		};
		int dev, i, fd;
		pid_t p;

		C_OK(at_become(UID_B, NULL, 0));
		dev = C_OK(ct_dev_open());
		for (i = 0; i < 3; i++) {
			fd = C_OK(ct_open(dev, id, roles[i], 0, 0));
			close(fd);
			C_OK(ct_info(dev, id, 0, &info));
			C_TRUE(!(info.state & CHAN_STATE_DESTROYED), "destroyed");
		}
		/* the endpoint's process dies with it open */
		p = fork();
		if (p == 0) {
			ct_open(dev, id, RW, 0, 0);
			_exit(0);
		}
		C_TRUE(p > 0 && waitpid(p, NULL, 0) == p, "fork");
		C_OK(ct_info(dev, id, 0, &info));
		C_TRUE(!(info.state & CHAN_STATE_DESTROYED), "destroyed by exit");
		C_OK(ct_lookup(dev, self->name, &got));
		C_TRUE(got == id, "the name now names %u, not %u", got, id);
		/* and the name cannot be taken */
		C_ERRNO(EEXIST, ct_create(dev, 8, 4, 0666, 0, 0, self->name,
					  &got));
		C_ERRNO(EPERM, ct_destroy(dev, id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_B's opens"));
	ASSERT_OK(ct_info(self->c.dev, id, 0, &info));
	EXPECT_EQ((uint32_t)UID_A, info.uid);
	EXPECT_EQ(0U, info.senders + info.receivers);
	ASSERT_OK(ct_lookup(self->c.dev, self->name, &got));
	EXPECT_EQ(id, got);

	/* the owner's open arms it; its close destroys it */
	if (AT_FORKED(self->c.pid, 2)) {
		int dev;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		close(C_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, 0)));
		C_ERRNO(ENOENT, ct_info(dev, id, 0, &info));
		C_ERRNO(ENOENT, ct_lookup(dev, self->name, &got));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[2], 2, WAIT_MS,
			      "UID_A's open+close"));
	EXPECT_ERRNO(ENOENT, ct_info(self->c.dev, id, 0, &info));
}

/*
 * Spec 7: once armed, the close of the last endpoint destroys, whoever's it
 * is: UID_B holds an endpoint while UID_A opens and closes one (armed, not
 * destroyed: B's is open); B's close then destroys it. Root
 * (CAP_IPC_OWNER) arms as the owner does.
 */
TEST_F_TIMEOUT(autodestroy, armed_by_owner_or_cap, 120)
{
	int ready[2], go[2], fd;
	struct chan_info info;
	uint32_t id = 0;

	ASSERT_OK(pipe2(ready, O_CLOEXEC));
	ASSERT_OK(pipe2(go, O_CLOEXEC));
	id = ad_create_as_a(_metadata, self);
	ASSERT_NE(0U, id);
	if (AT_FORKED(self->c.pid, 1)) {
		int dev, e;

		C_OK(at_become(UID_B, NULL, 0));
		dev = C_OK(ct_dev_open());
		e = C_OK(ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		at_signal(ready[1], 'R');
		C_TRUE(at_await(go[0], 60000) == 'G', "no go");
		C_OK(ct_info(e, 0, 0, &info));
		C_TRUE(!(info.state & CHAN_STATE_DESTROYED),
		       "destroyed while B's endpoint is open");
		close(e);
		C_ERRNO(ENOENT, ct_info(dev, id, 0, &info));
		_exit(0);
	}
	ASSERT_EQ('R', at_await(ready[0], WAIT_MS));
	if (AT_FORKED(self->c.pid, 2)) {
		int dev;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		close(C_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, 0)));
		C_OK(ct_info(dev, id, 0, &info));
		C_TRUE(!(info.state & CHAN_STATE_DESTROYED), "destroyed");
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[2], 2, WAIT_MS,
			      "UID_A's open+close"));
	at_signal(go[1], 'G');
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_B's endpoint"));
	EXPECT_ERRNO(ENOENT, ct_info(self->c.dev, id, 0, &info));

	/* root arms UID_A's channel too */
	id = ad_create_as_a(_metadata, self);
	ASSERT_NE(0U, id);
	fd = ct_open(self->c.dev, id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(close(fd));
	EXPECT_ERRNO(ENOENT, ct_info(self->c.dev, id, 0, &info));
}

/*
 * Spec 7: an OPEN that fails with EMFILE changes nothing: no disconnect
 * state, no endpoint counted, no destroy; on a never-opened AUTODESTROY
 * channel, on one that is armed and connected, and on a plain one. Done by
 * the owner, who would arm it.
 */
TEST_F_TIMEOUT(autodestroy, failed_open_changes_nothing, 120)
{
	if (AT_FORKED(self->c.pid, 0)) {
		struct rlimit rl = { 32, 32 };
		struct chan_info info;
		uint32_t ad, plain;
		int dev, fill[40], n = 0, e;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		C_OK(ct_create(dev, 8, 4, 0600, CHAN_CREATE_AUTODESTROY, 0, NULL,
			       &ad));
		C_OK(ct_create(dev, 8, 4, 0600, 0, 0, NULL, &plain));
		C_OK(setrlimit(RLIMIT_NOFILE, &rl));
		while (n < 40 && (fill[n] = dup(dev)) >= 0)
			n++;
		C_TRUE(n < 40 && errno == EMFILE, "fd table not full");

		C_ERRNO(EMFILE, ct_open(dev, ad, CHAN_ROLE_SEND, 0, 0));
		C_ERRNO(EMFILE, ct_open(dev, ad, CHAN_ROLE_RECV, 0, 0));
		C_ERRNO(EMFILE, ct_open(dev, ad, RW, CHAN_OPEN_CLOEXEC, 0));
		C_ERRNO(EMFILE, ct_open(dev, plain, RW, 0, 0));
		C_OK(ct_info(dev, ad, 0, &info));
		C_TRUE(info.state == 0 && info.senders == 0 &&
		       info.receivers == 0,
		       "never-opened AUTODESTROY after EMFILE: state %#x, %u senders, %u receivers",
		       info.state, info.senders, info.receivers);
		C_OK(ct_info(dev, plain, 0, &info));
		C_TRUE(info.state == 0, "plain channel after EMFILE: state %#x",
		       info.state);

		/* armed and connected: EMFILE leaves it so */
		close(fill[--n]);
		e = C_OK(ct_open(dev, ad, RW, 0, 0));
		C_ERRNO(EMFILE, ct_open(dev, ad, CHAN_ROLE_SEND, 0, 0));
		C_ERRNO(EMFILE, ct_open(dev, ad, CHAN_ROLE_RECV, 0, 0));
		C_OK(ct_info(dev, ad, 0, &info));
		C_TRUE(info.state == 0 && info.senders == 1 &&
		       info.receivers == 1,
		       "armed AUTODESTROY after EMFILE: state %#x, %u senders, %u receivers",
		       info.state, info.senders, info.receivers);
		C_OK(ct_send_u64(e, 0, 5, CHAN_MSG_NONBLOCK));
		close(e);
		C_ERRNO(ENOENT, ct_info(dev, ad, 0, &info));

		/* and the plain one disconnects only when a real endpoint goes */
		e = C_OK(ct_open(dev, plain, CHAN_ROLE_SEND, 0, 0));
		C_ERRNO(EMFILE, ct_open(dev, plain, CHAN_ROLE_RECV, 0, 0));
		C_OK(ct_info(dev, plain, 0, &info));
		C_TRUE(info.state == 0 && info.senders == 1 &&
		       info.receivers == 0, "plain: state %#x, %u/%u",
		       info.state, info.senders, info.receivers);
		close(e);
		C_OK(ct_info(dev, plain, 0, &info));
		C_TRUE(info.state == CHAN_STATE_NO_SENDERS, "state %#x",
		       info.state);
		C_OK(ct_destroy(dev, plain));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A"));
}

struct adrace_ctl {
	volatile int stop;
	volatile uint32_t id;
	uint64_t opens, violations, recreates, fails;
	uint32_t bad_state;
};

/* Opens the current channel and closes it again; re-creates it when gone. */
static void *adrace_closer(void *arg)
{
	struct adrace_ctl *rc = arg;
	int dev = C_OK(ct_dev_open());
	uint32_t id = 0;
	long r;

	while (!rc->stop) {
		r = C_OK_OR(ct_open(dev, rc->id, RW, 0, 0), ENOENT, EIDRM, 0);
		if (r >= 0) {
			close(r);	/* perhaps the last: destroys */
			continue;
		}
		C_OK(ct_create(dev, 8, 1, 0600, CHAN_CREATE_AUTODESTROY, 0,
			       NULL, &id));
		rc->id = id;
		rc->recreates++;
	}
	close(dev);
	return NULL;
}

/* Every fd OPEN returns must be on a live channel until it is closed. */
static void *adrace_opener(void *arg)
{
	struct adrace_ctl *rc = arg;
	int dev = C_OK(ct_dev_open());
	struct chan_info info;
	long r;
	int k;

	while (!rc->stop) {
		r = C_OK_OR(ct_open(dev, rc->id, CHAN_ROLE_RECV, 0, 0), ENOENT,
			    EIDRM, 0);
		if (r < 0) {
			__atomic_add_fetch(&rc->fails, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_add_fetch(&rc->opens, 1, __ATOMIC_RELAXED);
		for (k = 0; k < 3; k++) {
			C_OK(ct_info(r, 0, 0, &info));
			if (info.state & CHAN_STATE_DESTROYED) {
				__atomic_add_fetch(&rc->violations, 1,
						   __ATOMIC_RELAXED);
				rc->bad_state = info.state;
				break;
			}
			sched_yield();
		}
		close(r);
	}
	close(dev);
	return NULL;
}

/*
 * Spec 7: the decision to destroy is atomic with OPEN. The owner's threads
 * open and close endpoints of an AUTODESTROY channel (armed) while the
 * last close destroys it and it is re-created: an OPEN fails with ENOENT
 * or EIDRM, or returns an fd whose channel is not destroyed while it is
 * open.
 */
TEST_F_TIMEOUT(autodestroy, open_vs_last_close, 600)
{
	unsigned int secs = at_race_seconds();
	struct adrace_ctl *rc = ct_shared_alloc(sizeof(*rc));

	ASSERT_NE(NULL, rc);
	if (AT_FORKED(self->c.pid, 0)) {
		void *(*const fn[3])(void *) = {
			adrace_closer, adrace_opener, adrace_opener,
		};
		int dev = at_fresh_ns(UID_A);
		uint32_t id = 0;

		C_OK(ct_create(dev, 8, 1, 0600, CHAN_CREATE_AUTODESTROY, 0,
			       NULL, &id));
		rc->id = id;
		at_run_threads(fn, rc, &rc->stop, secs);
		_exit(0);
	}
	ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0,
			      secs * 1000 + 60000, "openers"));
	TH_LOG("%u s: %" PRIu64 " opens checked (%" PRIu64 " failed), %" PRIu64
	       " channels destroyed by a last close", secs, rc->opens,
	       rc->fails, rc->recreates);
	if (rc->violations)
		TH_LOG("%" PRIu64 " fds were on a channel destroyed while open (state %#x)",
		       rc->violations, rc->bad_state);
	EXPECT_EQ(0U, rc->violations);
	/* the race was run */
	EXPECT_LE(50U, rc->opens);
	EXPECT_LE(5U, rc->recreates);
}

/* =================================================================== */
/* Permissions (spec 8)                                                 */
/* =================================================================== */

enum { P600, P604, P602, P640, PNUM };
static const uint32_t perm_modes[PNUM] = { 0600, 0604, 0602, 0640 };

FIXTURE(perm) {
	struct at_common c;
	uint32_t id[PNUM];
	char name[PNUM][CHAN_NAME_MAX];
	int keep[PNUM];
	uint32_t *shm;
};

/* Root's channels, each with an endpoint of both roles kept open and two
 * messages queued, type tag TAG.
 */
FIXTURE_SETUP(perm)
{
	char what[16];
	int i;

	at_setup(_metadata, &self->c);
	self->shm = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->shm);
	for (i = 0; i < PNUM; i++) {
		snprintf(what, sizeof(what), "p%o", perm_modes[i]);
		at_name(self->name[i], sizeof(self->name[i]), getpid(), what);
		ASSERT_OK(at_root_create(&self->c, 8, 4, perm_modes[i], 0,
					 self->name[i], &self->id[i]));
		self->keep[i] = ct_open(self->c.dev, self->id[i], RW, 0, 0);
		ASSERT_LE(0, self->keep[i]);
		ASSERT_OK(ct_send_u64(self->c.dev, self->id[i], 100 + i, 0));
		ASSERT_OK(ct_send_u64(self->c.dev, self->id[i], 200 + i, 0));
	}
}

FIXTURE_TEARDOWN(perm)
{
	int i;

	for (i = 0; i < PNUM; i++)
		if (self->keep[i] > 0)
			close(self->keep[i]);
	at_teardown(_metadata, &self->c);
}

/* Nothing at all may be done with the channel id (named name). */
static void perm_nothing(int dev, uint32_t id, const char *name)
{
	static const uint32_t roles[] = { CHAN_ROLE_SEND, CHAN_ROLE_RECV, RW };
	static const uint64_t tags[] = { 0, TAG, BADTAG };
	struct chan_info info;
	uint64_t v = 1;
	uint32_t len = sizeof(v), got;
	int r, t;

	C_ERRNO(EACCES, ct_info(dev, id, 0, &info));
	if (!ct_info(dev, id, CHAN_INFO_NEXT, &info))
		C_TRUE(info.id != id, "INFO_NEXT from %u listed it", id);
	else
		C_TRUE(errno == ENOENT, "INFO_NEXT: %s", at_ename(errno));
	C_TRUE(!at_listed(dev, id, NULL), "INFO_NEXT walk listed %u", id);
	C_ERRNO(EACCES, ct_lookup(dev, name, &got));
	for (r = 0; r < 3; r++)
		for (t = 0; t < 3; t++)
			C_ERRNO(EACCES, ct_open(dev, id, roles[r], 0, tags[t]));
	C_ERRNO(EACCES, ct_send(dev, id, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0));
	C_ERRNO(EACCES, ct_send(dev, id, &v, sizeof(v), CHAN_MSG_TIMEOUT,
				CT_SEC));
	C_ERRNO(EACCES, ct_recv(dev, id, &v, &len, CHAN_MSG_NONBLOCK, 0));
	C_ERRNO(EACCES, ct_recv(dev, id, &v, &len, CHAN_MSG_TIMEOUT, CT_SEC));
	C_ERRNO(EPERM, ct_destroy(dev, id));
}

/*
 * Spec 8: UID_A and root's 0600 channel: INFO by ID EACCES, INFO_NEXT
 * skips it, LOOKUP EACCES, OPEN EACCES whatever the tag (no EPROTOTYPE
 * oracle), SEND and RECV by ID EACCES, DESTROY EPERM.
 */
TEST_F_TIMEOUT(perm, root_0600_hidden, 120)
{
	struct chan_info info;

	if (AT_FORKED(self->c.pid, 0)) {
		C_OK(at_become(UID_A, NULL, 0));
		perm_nothing(C_OK(ct_dev_open()), self->id[P600],
			     self->name[P600]);
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS, "UID_A"));
	ASSERT_OK(ct_info(self->c.dev, self->id[P600], 0, &info));
	EXPECT_EQ(2U, info.depth);
}

/*
 * Spec 8: root of a user namespace of one's own has CAP_IPC_OWNER there,
 * not over the initial namespace's channels: the same as above, from
 * inside such a namespace (both with a /dev/chan opened there, and with
 * one opened before).
 */
TEST_F_TIMEOUT(perm, userns_root_gets_nothing, 120)
{
	if (AT_FORKED(self->c.pid, 0)) {
		int before;

		C_OK(at_become(UID_A, NULL, 0));
		before = C_OK(ct_dev_open());
		C_OK(at_userns(0));
		C_TRUE(geteuid() == 0, "not root in the user namespace");
		perm_nothing(C_OK(ct_dev_open()), self->id[P600],
			     self->name[P600]);
		perm_nothing(before, self->id[P600], self->name[P600]);
		perm_nothing(before, self->id[P640], self->name[P640]);
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A as root of its user namespace"));
}

/*
 * Spec 8, mode 0604: others may read (INFO, INFO_NEXT, LOOKUP, receive,
 * OPEN to receive, where a wrong tag is then EPROTOTYPE) but not write
 * (OPEN to send, or both, is EACCES whatever the tag; SEND by ID EACCES).
 */
TEST_F_TIMEOUT(perm, mode_0604_receive_only, 120)
{
	struct chan_info info;

	if (AT_FORKED(self->c.pid, 0)) {
		uint32_t id = self->id[P604], got;
		uint64_t v;
		int dev, fd;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		C_OK(ct_info(dev, id, 0, &info));
		C_TRUE(info.id == id && info.mode == 0604 && info.depth == 2,
		       "id %u mode %o depth %u", info.id, info.mode, info.depth);
		C_OK(ct_info(dev, id, CHAN_INFO_NEXT, &info));
		C_TRUE(info.id == id, "INFO_NEXT from %u gave %u", id, info.id);
		C_TRUE(at_listed(dev, id, NULL), "not listed");
		C_OK(ct_lookup(dev, self->name[P604], &got));
		C_TRUE(got == id, "LOOKUP gave %u", got);
		fd = C_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, TAG));
		C_OK(ct_info(fd, 0, 0, &info));
		close(fd);
		close(C_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, 0)));
		C_ERRNO(EPROTOTYPE, ct_open(dev, id, CHAN_ROLE_RECV, 0, BADTAG));
		C_ERRNO(EACCES, ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		C_ERRNO(EACCES, ct_open(dev, id, CHAN_ROLE_SEND, 0, TAG));
		C_ERRNO(EACCES, ct_open(dev, id, CHAN_ROLE_SEND, 0, BADTAG));
		C_ERRNO(EACCES, ct_open(dev, id, RW, 0, TAG));
		C_ERRNO(EACCES, ct_open(dev, id, RW, 0, BADTAG));
		C_ERRNO(EACCES, ct_send_u64(dev, id, 9, CHAN_MSG_NONBLOCK));
		C_OK(ct_recv_u64(dev, id, &v, CHAN_MSG_NONBLOCK));
		C_TRUE(v == 100 + P604, "received %" PRIu64, v);
		C_ERRNO(EPERM, ct_destroy(dev, id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS, "UID_A"));
	ASSERT_OK(ct_info(self->c.dev, self->id[P604], 0, &info));
	EXPECT_EQ(1U, info.depth);
}

/*
 * Spec 8, mode 0602: others may write: LOOKUP (read or write), OPEN to
 * send (a wrong tag is then EPROTOTYPE), SEND by ID, and INFO on the fd
 * they opened; but INFO by ID is EACCES and INFO_NEXT skips the channel
 * (reading its description needs read), and receiving is EACCES.
 */
TEST_F_TIMEOUT(perm, mode_0602_send_only, 120)
{
	struct chan_info info;

	if (AT_FORKED(self->c.pid, 0)) {
		uint32_t id = self->id[P602], got, len = 8;
		uint64_t v;
		int dev, fd;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		C_ERRNO(EACCES, ct_info(dev, id, 0, &info));
		if (!ct_info(dev, id, CHAN_INFO_NEXT, &info))
			C_TRUE(info.id != id, "INFO_NEXT listed it");
		C_TRUE(!at_listed(dev, id, NULL), "listed");
		C_OK(ct_lookup(dev, self->name[P602], &got));
		C_TRUE(got == id, "LOOKUP gave %u", got);
		fd = C_OK(ct_open(dev, id, CHAN_ROLE_SEND, 0, TAG));
		C_OK(ct_info(fd, 0, 0, &info));	/* the fd is the proof */
		C_TRUE(info.id == id && info.depth == 2, "INFO on fd: id %u depth %u",
		       info.id, info.depth);
		C_OK(ct_send_u64(fd, 0, 7, CHAN_MSG_NONBLOCK));
		close(fd);
		C_ERRNO(EPROTOTYPE, ct_open(dev, id, CHAN_ROLE_SEND, 0, BADTAG));
		C_ERRNO(EACCES, ct_open(dev, id, CHAN_ROLE_RECV, 0, 0));
		C_ERRNO(EACCES, ct_open(dev, id, CHAN_ROLE_RECV, 0, BADTAG));
		C_ERRNO(EACCES, ct_open(dev, id, RW, 0, TAG));
		C_ERRNO(EACCES, ct_open(dev, id, RW, 0, BADTAG));
		C_OK(ct_send_u64(dev, id, 8, CHAN_MSG_NONBLOCK));
		C_ERRNO(EACCES, ct_recv(dev, id, &v, &len, CHAN_MSG_NONBLOCK, 0));
		C_ERRNO(EPERM, ct_destroy(dev, id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS, "UID_A"));
	ASSERT_OK(ct_info(self->c.dev, self->id[P602], 0, &info));
	EXPECT_EQ(4U, info.depth);
}

/*
 * Spec 8, group bits through supplementary groups: root's 0640 channel
 * (group 0) for UID_A with and without group 0; UID_A's own 0060 channel
 * (group UID_A) for UID_B with and without that group, and for UID_A
 * itself, whom the owner bits (none) govern: it may only destroy.
 */
TEST_F_TIMEOUT(perm, group_bits, 120)
{
	static const gid_t root_group[] = { 0 };
	static const gid_t a_group[] = { UID_A };
	uint32_t own;

	/* root's 0640, UID_A in group 0: read only */
	if (AT_FORKED(self->c.pid, 0)) {
		uint32_t id = self->id[P640], got;
		struct chan_info info;
		uint64_t v;
		int dev;

		C_OK(at_become(UID_A, root_group, 1));
		dev = C_OK(ct_dev_open());
		C_OK(ct_info(dev, id, 0, &info));
		C_TRUE(at_listed(dev, id, NULL), "not listed");
		C_OK(ct_lookup(dev, self->name[P640], &got));
		close(C_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, TAG)));
		C_ERRNO(EACCES, ct_open(dev, id, CHAN_ROLE_SEND, 0, TAG));
		C_ERRNO(EACCES, ct_send_u64(dev, id, 1, CHAN_MSG_NONBLOCK));
		C_OK(ct_recv_u64(dev, id, &v, CHAN_MSG_NONBLOCK));
		C_ERRNO(EPERM, ct_destroy(dev, id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A in group 0"));

	/* the same user without the group: nothing */
	if (AT_FORKED(self->c.pid, 0)) {
		C_OK(at_become(UID_A, NULL, 0));
		perm_nothing(C_OK(ct_dev_open()), self->id[P640],
			     self->name[P640]);
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A without group 0"));

	/* UID_A's own channel, mode 0060 */
	self->shm[0] = 0;
	if (AT_FORKED(self->c.pid, 1)) {
		uint32_t id = 0;

		C_OK(at_become(UID_A, NULL, 0));
		C_OK(ct_create(C_OK(ct_dev_open()), 8, 4, 0060, 0, TAG,
			       "at-group-0060", &id));
		self->shm[0] = id;
		_exit(0);
	}
	ASSERT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_A's create"));
	own = self->shm[0];

	if (AT_FORKED(self->c.pid, 2)) {
		struct chan_info info;
		uint64_t v;
		uint32_t got;
		int dev;

		C_OK(at_become(UID_B, a_group, 1));
		dev = C_OK(ct_dev_open());
		C_OK(ct_info(dev, own, 0, &info));
		C_TRUE(info.uid == UID_A && info.gid == UID_A && info.mode == 060,
		       "uid %u gid %u mode %o", info.uid, info.gid, info.mode);
		C_OK(ct_lookup(dev, "at-group-0060", &got));
		close(C_OK(ct_open(dev, own, RW, 0, TAG)));
		C_OK(ct_send_u64(dev, own, 3, CHAN_MSG_NONBLOCK));
		C_OK(ct_recv_u64(dev, own, &v, CHAN_MSG_NONBLOCK));
		C_ERRNO(EPERM, ct_destroy(dev, own));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[2], 2, WAIT_MS,
			      "UID_B in UID_A's group"));

	if (AT_FORKED(self->c.pid, 2)) {
		C_OK(at_become(UID_B, NULL, 0));
		perm_nothing(C_OK(ct_dev_open()), own, "at-group-0060");
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[2], 2, WAIT_MS,
			      "UID_B outside UID_A's group"));

	/* the owner: owner bits 0, so only DESTROY */
	if (AT_FORKED(self->c.pid, 1)) {
		struct chan_info info;
		uint64_t v = 0;
		uint32_t got, len = 8;
		int dev;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		C_ERRNO(EACCES, ct_info(dev, own, 0, &info));
		C_ERRNO(EACCES, ct_lookup(dev, "at-group-0060", &got));
		C_ERRNO(EACCES, ct_open(dev, own, CHAN_ROLE_RECV, 0, 0));
		C_ERRNO(EACCES, ct_send(dev, own, &v, 8, CHAN_MSG_NONBLOCK, 0));
		C_ERRNO(EACCES, ct_recv(dev, own, &v, &len, CHAN_MSG_NONBLOCK, 0));
		C_OK(ct_destroy(dev, own));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_A, owner without rights"));
}

/* =================================================================== */
/* Limits (spec 5)                                                      */
/* =================================================================== */

FIXTURE(limits) {
	struct at_common c;
	uint64_t *shm;
};

FIXTURE_SETUP(limits)
{
	at_setup(_metadata, &self->c);
	self->shm = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->shm);
}

FIXTURE_TEARDOWN(limits)
{
	at_teardown(_metadata, &self->c);
}

static bool have_user_limits(struct __test_metadata *_metadata,
			     FIXTURE_DATA(limits) *self)
{
	if (!self->c.have_param[1] || !self->c.have_param[3])
		TH_LOG("the module has no max_user_channels/max_user_ring_bytes (spec 5)");
	return self->c.have_param[1] && self->c.have_param[3];
}

/* The ring bytes of a channel of msg_size x capacity, as CREATE reports. */
static uint64_t ring_bytes(FIXTURE_DATA(limits) *self, uint32_t msg_size,
			   uint32_t capacity)
{
	struct chan_create c;

	memset(&c, 0, sizeof(c));
	c.msg_size = msg_size;
	c.capacity = capacity;
	if (ct_create_raw(self->c.dev, &c))
		return 0;
	ct_destroy(self->c.dev, c.out_id);
	return c.out_ring.map_size;
}

/* Create until ENOSPC (at most max); every other failure is fatal. */
static int create_until_full(int dev, uint32_t msg_size, uint32_t capacity,
			     int max, uint32_t *ids)
{
	int n = 0;
	uint32_t id = 0;

	while (n < max) {
		if (ct_create(dev, msg_size, capacity, 0600, 0, 0, NULL, &id)) {
			C_TRUE(errno == ENOSPC, "create %d: %s", n,
			       at_ename(errno));
			return n;
		}
		if (ids)
			ids[n] = id;
		n++;
	}
	return n;
}

/*
 * In a child in @slot, as @uid: create rings of 1000 bytes x 16 until
 * ENOSPC (at most @max, their IDs to @ids if not NULL) and check that
 * exactly @want were had. Returns the child's status (0: as wanted).
 */
static int limits_rings_as(struct __test_metadata *_metadata,
			   FIXTURE_DATA(limits) *self, int slot, uid_t uid,
			   int max, int want, uint32_t *ids, const char *what)
{
	self->c.pid[slot] = at_fork(slot);
	if (self->c.pid[slot] == 0) {
		C_OK(at_become(uid, NULL, 0));
		C_TRUE(create_until_full(C_OK(ct_dev_open()), 1000, 16, max,
					 ids) == want, "not %d rings", want);
		_exit(0);
	}
	return at_child(_metadata, &self->c.pid[slot], slot, WAIT_MS, what);
}

/*
 * Spec 5, max_user_channels = 4: UID_A's fifth channel is ENOSPC (a new
 * name does not help), also as root of its own user namespace (charged to
 * the real uid) in another IPC namespace; UID_B still gets its four, and
 * cannot take UID_A's names (EEXIST). A channel destroyed while UID_A
 * holds an endpoint stays charged until the fd is closed.
 */
TEST_F_TIMEOUT(limits, user_channels, 120)
{
	int i;

	ASSERT_TRUE(have_user_limits(_metadata, self));
	ASSERT_OK(ct_param_write("max_user_channels", 4));

	if (AT_FORKED(self->c.pid, 0)) {
		char name[CHAN_NAME_MAX];
		uint32_t id = 0;
		int dev;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		for (i = 0; i < 4; i++) {
			snprintf(name, sizeof(name), "at-ua-%d", i);
			C_OK(ct_create(dev, 8, 1, 0666, 0, 0, name, &id));
		}
		C_ERRNO(ENOSPC, ct_create(dev, 8, 1, 0666, 0, 0, "at-ua-4", &id));
		C_ERRNO(ENOSPC, ct_create(dev, 8, 1, 0666, 0, 0, NULL, &id));
		_exit(0);
	}
	ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A fills its quota"));

	if (AT_FORKED(self->c.pid, 1)) {
		uint32_t id = 0;
		int dev;

		C_OK(at_become(UID_B, NULL, 0));
		dev = C_OK(ct_dev_open());
		C_ERRNO(EEXIST, ct_create(dev, 8, 1, 0600, 0, 0, "at-ua-0", &id));
		for (i = 0; i < 4; i++)
			C_OK(ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
		C_ERRNO(ENOSPC, ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_B still works"));

	if (AT_FORKED(self->c.pid, 0)) {
		uint32_t id = 0, id0 = 0, id1 = 0;
		int dev, dev2, ep;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		C_OK(at_userns(CLONE_NEWIPC));
		dev2 = C_OK(ct_dev_open());
		/* root in there, but charged as UID_A */
		C_ERRNO(ENOSPC, ct_create(dev2, 8, 1, 0600, 0, 0, NULL, &id));
		C_OK(ct_lookup(dev, "at-ua-0", &id0));
		C_OK(ct_lookup(dev, "at-ua-1", &id1));
		C_OK(ct_destroy(dev, id0));
		C_OK(ct_create(dev2, 8, 1, 0600, 0, 0, NULL, &id));
		C_ERRNO(ENOSPC, ct_create(dev2, 8, 1, 0600, 0, 0, NULL, &id));
		/* destroyed with an endpoint open: still charged */
		ep = C_OK(ct_open(dev, id1, RW, 0, 0));
		C_OK(ct_destroy(dev, id1));
		C_ERRNO(ENOSPC, ct_create(dev2, 8, 1, 0600, 0, 0, NULL, &id));
		C_ERRNO(ENOSPC, ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
		close(ep);
		C_OK(ct_create(dev2, 8, 1, 0600, 0, 0, NULL, &id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A's charges"));
}

/*
 * Spec 5, charged up the user namespaces: a user namespace owned by UID_A
 * whose uid_map holds a range of other uids (what newuidmap does with
 * /etc/subuid) does not multiply UID_A's limit. With max_user_channels =
 * 4, inner uid 5 creates four channels; inner uid 6, a different kuid,
 * is refused too, because the namespace's owner, UID_A, pays for both; so
 * is UID_A itself outside. Before the charge went up the namespaces, each
 * mapped uid had a quota of its own.
 */
#define AT_SUBUID_BASE	200000

static int subuid_child(int ready, int go)
{
	uint32_t id = 0, ids[4];
	int dev, i;

	C_OK(at_become(UID_A, NULL, 0));
	C_OK(unshare(CLONE_NEWUSER));
	at_signal(ready, 'u');
	C_TRUE(at_await(go, WAIT_MS) == 'm', "no uid_map from the test");
	/* root of the namespace (its creator): become inner uid 5, then 6 */
	C_OK(setresgid(5, 5, 5));
	C_OK(setresuid(5, 5, 0));
	dev = C_OK(ct_dev_open());
	for (i = 0; i < 4; i++)
		C_OK(ct_create(dev, 8, 1, 0600, 0, 0, NULL, &ids[i]));
	C_ERRNO(ENOSPC, ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
	C_OK(setresuid(6, 6, 0));
	C_ERRNO(ENOSPC, ct_create(dev, 8, 1, 0600, 0, 0, NULL, &id));
	at_signal(ready, 'd');
	C_TRUE(at_await(go, WAIT_MS) == 'x', "no end from the test");
	C_OK(setresuid(5, 5, 0));
	for (i = 0; i < 4; i++)
		C_OK(ct_destroy(dev, ids[i]));
	return 0;
}

TEST_F_TIMEOUT(limits, subuid_range_charged_to_owner, 120)
{
	int ready[2], go[2];
	char path[64], map[64];
	uint32_t id = 0;

	ASSERT_TRUE(have_user_limits(_metadata, self));
	ASSERT_OK(ct_param_write("max_user_channels", 4));
	ASSERT_OK(pipe2(ready, O_CLOEXEC));
	ASSERT_OK(pipe2(go, O_CLOEXEC));
	if (AT_FORKED(self->c.pid, 0))
		_exit(subuid_child(ready[1], go[0]));
	ASSERT_EQ('u', at_await(ready[0], WAIT_MS));
	/* As newuidmap would from /etc/subuid: 1000 uids of UID_A's. */
	snprintf(map, sizeof(map), "0 %u 1000", AT_SUBUID_BASE);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)self->c.pid[0]);
	ASSERT_OK(at_write_file(path, map));
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)self->c.pid[0]);
	ASSERT_OK(at_write_file(path, map));
	at_signal(go[1], 'm');
	EXPECT_EQ('d', at_await(ready[0], WAIT_MS));

	/* UID_A outside pays for what its namespace's uids hold */
	if (AT_FORKED(self->c.pid, 1)) {
		C_OK(at_become(UID_A, NULL, 0));
		C_ERRNO(ENOSPC, ct_create(C_OK(ct_dev_open()), 8, 1, 0600, 0,
					  0, NULL, &id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_A outside"));
	at_signal(go[1], 'x');
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "inner uids 5 and 6"));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/*
 * Spec 5, max_user_ring_bytes = 3.5 rings: UID_A gets three, then ENOSPC
 * (and a single ring bigger than the quota is ENOSPC); UID_B gets its
 * three; a destroyed ring with an endpoint open stays charged until the fd
 * is closed.
 */
TEST_F_TIMEOUT(limits, user_ring_bytes, 120)
{
	uint64_t r;

	ASSERT_TRUE(have_user_limits(_metadata, self));
	r = ring_bytes(self, 1000, 16);
	ASSERT_LT(0U, r);
	ASSERT_OK(ct_param_write("max_user_ring_bytes", 3 * r + r / 2));

	if (AT_FORKED(self->c.pid, 0)) {
		uint32_t ids[4], id;
		int dev, ep;

		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		C_ERRNO(ENOSPC, ct_create(dev, 1000, 128, 0600, 0, 0, NULL, &id));
		C_TRUE(create_until_full(dev, 1000, 16, 4, ids) == 3,
		       "not 3 rings");
		ep = C_OK(ct_open(dev, ids[0], RW, 0, 0));
		C_OK(ct_destroy(dev, ids[0]));
		C_ERRNO(ENOSPC, ct_create(dev, 1000, 16, 0600, 0, 0, NULL, &id));
		close(ep);
		C_OK(ct_create(dev, 1000, 16, 0600, 0, 0, NULL, &id));
		C_ERRNO(ENOSPC, ct_create(dev, 1000, 16, 0600, 0, 0, NULL, &id));
		C_OK(ct_destroy(dev, ids[1]));
		C_OK(ct_create(dev, 1000, 16, 0600, 0, 0, NULL, &id));
		_exit(0);
	}
	ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A fills its bytes"));

	EXPECT_EQ(0, limits_rings_as(_metadata, self, 1, UID_B, 4, 3, NULL,
				     "UID_B still works"));
}

/*
 * Spec 5, max_channels = 4 in a namespace of the test's own: UID_A fills
 * it; UID_B gets ENOSPC there too (the limit is the namespace's) but works
 * in a namespace of its own; a channel destroyed with an endpoint open
 * still counts until the fd is closed.
 */
TEST_F_TIMEOUT(limits, namespace_channels, 120)
{
	struct chan_info info;
	int dev;

	ASSERT_OK(unshare(CLONE_NEWIPC));
	dev = ct_dev_open();
	ASSERT_LE(0, dev);
	ASSERT_OK(ct_param_write("max_channels", 4));

	if (AT_FORKED(self->c.pid, 0)) {
		int d;

		C_OK(at_become(UID_A, NULL, 0));
		d = C_OK(ct_dev_open());
		C_TRUE(create_until_full(d, 8, 1, 10, NULL) == 4,
		       "not 4 channels");
		_exit(0);
	}
	ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A fills the namespace"));

	if (AT_FORKED(self->c.pid, 1)) {
		uint32_t id = 0;
		int d;

		C_OK(at_become(UID_B, NULL, 0));
		d = C_OK(ct_dev_open());
		C_ERRNO(ENOSPC, ct_create(d, 8, 1, 0600, 0, 0, NULL, &id));
		close(d);
		C_OK(at_userns(CLONE_NEWIPC));
		d = C_OK(ct_dev_open());
		C_TRUE(create_until_full(d, 8, 1, 10, NULL) == 4,
		       "not 4 channels in its own namespace");
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_B"));

	if (AT_FORKED(self->c.pid, 0)) {
		uint32_t id = 0;
		int d, ep;

		C_OK(at_become(UID_A, NULL, 0));
		d = C_OK(ct_dev_open());
		C_OK(ct_info(d, 1, CHAN_INFO_NEXT, &info));
		ep = C_OK(ct_open(d, info.id, RW, 0, 0));
		C_OK(ct_destroy(d, info.id));
		C_ERRNO(ENOSPC, ct_create(d, 8, 1, 0600, 0, 0, NULL, &id));
		close(ep);
		C_OK(ct_create(d, 8, 1, 0600, 0, 0, NULL, &id));
		C_ERRNO(ENOSPC, ct_create(d, 8, 1, 0600, 0, 0, NULL, &id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "UID_A's destroyed channel with an fd"));
	while (!ct_info(dev, 1, CHAN_INFO_NEXT, &info))
		ASSERT_OK(ct_destroy(dev, info.id));
	close(dev);
}

/* One round of the unshare loop: up to 4 rings of r, left to die. */
static int unshare_round(uint64_t *shm)
{
	uint32_t ids[4];
	int dev = at_fresh_ns(UID_A), n, e;

	n = create_until_full(dev, 1000, 16, 4, ids);
	__atomic_add_fetch(&shm[0], n, __ATOMIC_RELAXED);
	if (n < 4)
		__atomic_add_fetch(&shm[1], 1, __ATOMIC_RELAXED);
	if (n > 0) {
		e = C_OK(ct_open(dev, ids[0], RW, 0, 0));
		C_OK(ct_send_u64(e, 0, 1, 0));
	}
	return 0;	/* exit with the endpoint and the channels */
}

/*
 * Spec 5 (issue item 5): UID_A loops unshare(user+IPC) + create + exit
 * with max_user_ring_bytes = 8 rings under max_total_ring_bytes = 24 rings
 * (plus what was in use): UID_B can still create 8 rings; and once the
 * namespaces are dead (within a bounded poll) UID_A's charges are back:
 * it can create its 8 rings again, and not a ninth.
 */
TEST_F_TIMEOUT(limits, unshare_loop_does_not_starve_others, 300)
{
	uint64_t r, used;
	char diag[600];
	int round, tries;
	uint64_t t0;
	int rc = -1;

	r = ring_bytes(self, 1000, 16);
	ASSERT_LT(0U, r);
	used = at_total_ring_bytes();
	ASSERT_OK(ct_param_write("max_total_ring_bytes", used + 24 * r));
	if (have_user_limits(_metadata, self)) {
		ASSERT_OK(ct_param_write("max_user_ring_bytes", 8 * r));
		ASSERT_OK(ct_param_write("max_user_channels", 1000));
	}

	for (round = 0; round < 30; round++) {
		if (AT_FORKED(self->c.pid, 0))
			_exit(unshare_round(self->shm));
		ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
				      "a round"));
	}
	TH_LOG("UID_A's 30 namespaces: %" PRIu64 " rings created, %" PRIu64
	       " rounds hit ENOSPC", self->shm[0], self->shm[1]);

	EXPECT_EQ(0, limits_rings_as(_metadata, self, 1, UID_B, 8, 8, NULL,
				     "UID_B after UID_A's loop"));
	at_destroy_users_channels(self->c.dev);

	/* UID_A's charges come back when its namespaces are gone */
	t0 = ct_now_ns();
	for (tries = 0; ct_now_ns() - t0 < (uint64_t)REAP_BOUND_MS * CT_MS;
	     tries++) {
		if (AT_FORKED(self->c.pid, 0)) {
			int dev = at_fresh_ns(UID_A), n, i;
			uint32_t id = 0, ids[8];

			n = create_until_full(dev, 1000, 16, 8, ids);
			if (n < 8) {
				/* give them back now, not at the reaper's */
				for (i = 0; i < n; i++)
					C_OK(ct_destroy(dev, ids[i]));
				_exit(100 + n);
			}
			if (have_user_limits(_metadata, self))
				C_ERRNO(ENOSPC, ct_create(dev, 1000, 16, 0600,
							  0, 0, NULL, &id));
			_exit(0);
		}
		/* a retry is expected until the reaper has run: no log */
		rc = at_wait_pid(self->c.pid[0], WAIT_MS, diag, sizeof(diag));
		if (rc != AT_STUCK)
			self->c.pid[0] = 0;
		if (rc < 100) {
			if (rc)
				TH_LOG("UID_A again: exit %d (%s) line %d: %s",
				       rc, diag, at_rep[0].line, at_rep[0].msg);
			break;
		}
		ct_sleep_ms(500);
	}
	if (rc >= 100)
		TH_LOG("UID_A still gets only %d rings after %.1f s", rc - 100,
		       (ct_now_ns() - t0) / 1e9);
	EXPECT_EQ(0, rc);
	EXPECT_TRUE(have_user_limits(_metadata, self));
}

/*
 * Spec 5: max_total_ring_bytes stays the last line for all users together
 * (3.5 rings here, the per-user limits out of the way): UID_A gets three
 * rings, UID_B then none (ENOSPC), and one when UID_A gives one back.
 */
TEST_F_TIMEOUT(limits, total_ring_bytes_last_line, 120)
{
	uint64_t r;

	ASSERT_TRUE(have_user_limits(_metadata, self));
	r = ring_bytes(self, 1000, 16);
	ASSERT_LT(0U, r);
	ASSERT_OK(ct_param_write("max_user_ring_bytes", 1ULL << 40));
	ASSERT_OK(ct_param_write("max_total_ring_bytes",
				 at_total_ring_bytes() + 3 * r + r / 2));

	ASSERT_EQ(0, limits_rings_as(_metadata, self, 0, UID_A, 4, 3,
				     (uint32_t *)&self->shm[0], "UID_A"));

	EXPECT_EQ(0, limits_rings_as(_metadata, self, 1, UID_B, 1, 0, NULL,
				     "UID_B against the full total"));

	ASSERT_OK(ct_destroy(self->c.dev, ((uint32_t *)self->shm)[0]));
	EXPECT_EQ(0, limits_rings_as(_metadata, self, 1, UID_B, 4, 1, NULL,
				     "UID_B after UID_A gave one back"));
}

/*
 * Spec 2 and 5: a dead namespace's channel is destroyed by the reaper but
 * stays charged to its creator while an fd of it is open somewhere (here,
 * an endpoint passed out to root): with max_user_channels = 1, UID_A gets
 * ENOSPC until that fd is closed.
 */
TEST_F_TIMEOUT(limits, dead_namespace_charge_held_by_fd, 120)
{
	int sv[2], fd, ret, err;
	uint64_t v;
	uint32_t len = sizeof(v);

	ASSERT_TRUE(have_user_limits(_metadata, self));
	ASSERT_OK(ct_param_write("max_user_channels", 1));
	ASSERT_OK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	if (AT_FORKED(self->c.pid, 0)) {
		int dev = at_fresh_ns(UID_A), e;
		uint32_t id = 0;

		C_OK(ct_create(dev, 8, 4, 0600, 0, 0, NULL, &id));
		e = C_OK(ct_open(dev, id, RW, 0, 0));
		C_OK(at_send_fds(sv[1], &e, 1));
		_exit(0);
	}
	ASSERT_OK(at_recv_fds(sv[0], &fd, 1, WAIT_MS));
	ASSERT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, WAIT_MS,
			      "creator"));
	ret = ct_recv(fd, 0, &v, &len, CHAN_MSG_TIMEOUT,
		      REAP_BOUND_MS * CT_MS);
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EIDRM, err);

	if (AT_FORKED(self->c.pid, 1)) {
		int dev = at_fresh_ns(UID_A);
		uint32_t id = 0;

		C_ERRNO(ENOSPC, ct_create(dev, 8, 4, 0600, 0, 0, NULL, &id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_A while the dead channel's fd is open"));
	close(fd);
	if (AT_FORKED(self->c.pid, 1)) {
		int dev = at_fresh_ns(UID_A);
		uint32_t id = 0;

		C_OK(ct_create(dev, 8, 4, 0600, 0, 0, NULL, &id));
		C_ERRNO(ENOSPC, ct_create(dev, 8, 4, 0600, 0, 0, NULL, &id));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_A once the fd is closed"));
	close(sv[0]);
	close(sv[1]);
}

/*
 * Endpoints per channel (owner tokens, 16 bits less the two reserved):
 * UID_A opens 65534 endpoints on its 0666 channel, the next is ENOSPC;
 * UID_B gets ENOSPC there too but works on a channel of its own; one
 * close frees one token.
 */
TEST_F_TIMEOUT(limits, endpoints_per_channel, 900)
{
	int ready[2], go[2];

	ASSERT_OK(pipe2(ready, O_CLOEXEC));
	ASSERT_OK(pipe2(go, O_CLOEXEC));
	if (AT_FORKED(self->c.pid, 0)) {
		struct rlimit rl = { 70000, 70000 };
		struct chan_info info;
		int dev, n = 0, fd, last = -1;
		uint32_t id = 0;

		C_OK(setrlimit(RLIMIT_NOFILE, &rl));	/* as root still */
		C_OK(at_become(UID_A, NULL, 0));
		dev = C_OK(ct_dev_open());
		/*
		 * A mappable channel: its owner may read and write it, so
		 * each of its endpoints takes one of the 65534 owner tokens.
		 */
		C_OK(ct_create(dev, 8, 1, 0666, CHAN_CREATE_MAPPABLE, 0, NULL,
			       &id));
		self->shm[0] = id;
		for (;;) {
			fd = ct_open(dev, id, n % 3 + 1, CHAN_OPEN_CLOEXEC, 0);
			if (fd < 0)
				break;
			last = fd;
			n++;
		}
		C_TRUE(errno == ENOSPC && n == 65534,
		       "%d endpoints, then %s", n, at_ename(errno));
		C_OK(ct_info(dev, id, 0, &info));
		C_TRUE(info.senders + info.receivers == 65534 + 65534 / 3,
		       "%u senders, %u receivers", info.senders,
		       info.receivers);
		at_signal(ready[1], 'R');
		C_TRUE(at_await(go[0], 600000) == 'G', "no go");
		close(last);
		fd = C_OK(ct_open(dev, id, CHAN_ROLE_RECV, 0, 0));
		C_ERRNO(ENOSPC, ct_open(dev, id, CHAN_ROLE_RECV, 0, 0));
		C_OK(ct_destroy(dev, id));
		_exit(0);
	}
	if (at_await(ready[0], 600000) != 'R') {
		at_child(_metadata, &self->c.pid[0], 0, 1000, "UID_A");
		ASSERT_TRUE(false);
	}

	if (AT_FORKED(self->c.pid, 1)) {
		uint32_t id = self->shm[0], mine;
		uint64_t v;
		int dev, ep;

		C_OK(at_become(UID_B, NULL, 0));
		dev = C_OK(ct_dev_open());
		C_ERRNO(ENOSPC, ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		C_OK(ct_send_u64(dev, id, 1, CHAN_MSG_NONBLOCK));
		C_OK(ct_create(dev, 8, 4, 0600, 0, 0, NULL, &mine));
		ep = C_OK(ct_open(dev, mine, RW, 0, 0));
		C_OK(ct_send_u64(ep, 0, 42, 0));
		C_OK(ct_recv_u64(ep, 0, &v, CHAN_MSG_NONBLOCK));
		C_TRUE(v == 42, "got %" PRIu64, v);
		C_OK(ct_destroy(dev, mine));
		_exit(0);
	}
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[1], 1, WAIT_MS,
			      "UID_B"));
	at_signal(go[1], 'G');
	EXPECT_EQ(0, at_child(_metadata, &self->c.pid[0], 0, 600000, "UID_A"));
}

/* =================================================================== */
/* open("/dev/chan") in hostile namespaces (spec 1)                     */
/* =================================================================== */

enum {
	PLANT_REAL_PROC,	/* control: the real /proc */
	PLANT_TMPFS,		/* a tmpfs over /proc, nothing in it */
	PLANT_FILE,		/* a regular file at .../ns/ipc */
	PLANT_DIR,		/* a directory there */
	PLANT_LOOP,		/* a symlink to itself */
	PLANT_FIFO,		/* a FIFO no one will open for writing */
	PLANT_SYMLINK_FIFO,	/* a symlink to such a FIFO */
	PLANT_NO_PROC,		/* /proc unmounted (by root, then dropped) */
	PLANT_CHROOT,		/* chrooted into an empty tmpfs */
	PLANT_SYMLINK_DEVCHAN,	/* a symlink to /dev/chan itself */
};

struct nsopen_shared {
	uint64_t max_open_ns;
	uint32_t opens;
};

FIXTURE(nsopen) {
	struct at_common c;
	struct nsopen_shared *sh;
	char root_name[CHAN_NAME_MAX];
	uint32_t root_id;
};

FIXTURE_VARIANT(nsopen) {
	int plant;
};

FIXTURE_VARIANT_ADD(nsopen, real_proc) { PLANT_REAL_PROC };
FIXTURE_VARIANT_ADD(nsopen, tmpfs_over_proc) { PLANT_TMPFS };
FIXTURE_VARIANT_ADD(nsopen, planted_file) { PLANT_FILE };
FIXTURE_VARIANT_ADD(nsopen, planted_dir) { PLANT_DIR };
FIXTURE_VARIANT_ADD(nsopen, symlink_loop) { PLANT_LOOP };
FIXTURE_VARIANT_ADD(nsopen, fifo) { PLANT_FIFO };
FIXTURE_VARIANT_ADD(nsopen, symlink_to_fifo) { PLANT_SYMLINK_FIFO };
FIXTURE_VARIANT_ADD(nsopen, proc_unmounted) { PLANT_NO_PROC };
FIXTURE_VARIANT_ADD(nsopen, chroot_without_proc) { PLANT_CHROOT };
/* Last: against a module that resolves the path, this wedges every misc device. */
FIXTURE_VARIANT_ADD(nsopen, symlink_to_dev_chan) { PLANT_SYMLINK_DEVCHAN };

FIXTURE_SETUP(nsopen)
{
	at_setup(_metadata, &self->c);
	self->sh = ct_shared_alloc(sizeof(*self->sh));
	ASSERT_NE(NULL, self->sh);
	at_name(self->root_name, sizeof(self->root_name), getpid(), "nsopen");
	ASSERT_OK(at_root_create(&self->c, 8, 2, 0666, 0, self->root_name,
				 &self->root_id));
}

FIXTURE_TEARDOWN(nsopen)
{
	at_teardown(_metadata, &self->c);
}

static void nsopen_plant(int plant, const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/ipc", dir);
	switch (plant) {
	case PLANT_FILE:
		close(C_OK(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
		break;
	case PLANT_DIR:
		C_OK(mkdir(path, 0755));
		break;
	case PLANT_LOOP:
		C_OK(symlink(path, path));
		break;
	case PLANT_FIFO:
		C_OK(mkfifo(path, 0666));
		break;
	case PLANT_SYMLINK_FIFO:
		C_OK(symlink("/proc/fifo", path));
		break;
	case PLANT_SYMLINK_DEVCHAN:
		C_OK(symlink(CHAN_DEV_PATH, path));
		break;
	}
}

/*
 * The attacker, UID_A in an IPC namespace of its own (through a user
 * namespace, except with /proc unmounted, which root prepares), with the
 * variant's /proc: opens /dev/chan ten times (each timed), then uses it.
 */
static int nsopen_child(int plant, int ready, const char *root_name,
			struct nsopen_shared *sh)
{
	struct chan_info info;
	uint32_t id = 0, got = 0;
	uint64_t t0, dt, v;
	int devdir = -1, dev = -1, ep, i;

	if (plant == PLANT_NO_PROC) {
		/* a container runtime's or nsenter's leftovers, then the user */
		C_OK(unshare(CLONE_NEWNS | CLONE_NEWIPC));
		C_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		C_OK(umount2("/proc", MNT_DETACH));
		C_OK(at_become(UID_A, NULL, 0));
		C_TRUE(access("/proc/self", F_OK), "/proc still there");
	} else {
		C_OK(at_become(UID_A, NULL, 0));
		C_OK(at_userns(CLONE_NEWNS | CLONE_NEWIPC));
		C_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		if (plant == PLANT_CHROOT) {
			devdir = C_OK(open("/dev", O_PATH | O_DIRECTORY |
					   O_CLOEXEC));
			C_OK(mount("none", "/tmp", "tmpfs", 0, "mode=0755"));
			C_OK(chroot("/tmp"));
			C_OK(chdir("/"));
			C_TRUE(access("/proc", F_OK), "/proc in the chroot");
		} else if (plant != PLANT_REAL_PROC) {
			C_OK(mount("none", "/proc", "tmpfs", 0, "mode=0755"));
			C_OK(mkdir("/proc/thread-self", 0755));
			C_OK(mkdir("/proc/thread-self/ns", 0755));
			C_OK(mkdir("/proc/self", 0755));
			C_OK(mkdir("/proc/self/ns", 0755));
			if (plant == PLANT_SYMLINK_FIFO)
				C_OK(mkfifo("/proc/fifo", 0666));
			nsopen_plant(plant, "/proc/thread-self/ns");
			nsopen_plant(plant, "/proc/self/ns");
		}
	}
	at_signal(ready, 'R');
	for (i = 0; i < 10; i++) {
		t0 = ct_now_ns();
		if (devdir >= 0)
			dev = openat(devdir, "chan", O_RDWR | O_CLOEXEC);
		else
			dev = ct_dev_open();
		dt = ct_now_ns() - t0;
		if (dt > sh->max_open_ns)
			sh->max_open_ns = dt;
		C_TRUE(dev >= 0, "open %d of /dev/chan: %s", i, at_ename(errno));
		sh->opens++;
		if (i < 9)
			close(dev);
	}
	/* a namespace of its own: root's channel is not here; IDs from 1 */
	C_ERRNO(ENOENT, ct_lookup(dev, root_name, &got));
	C_OK(ct_create(dev, 8, 4, 0600, 0, 0, "nsopen", &id));
	ep = C_OK(ct_open(dev, id, RW, 0, 0));
	C_OK(ct_send_u64(ep, 0, 0x1234, 0));
	C_OK(ct_recv_u64(dev, id, &v, CHAN_MSG_NONBLOCK));
	C_TRUE(v == 0x1234, "received %" PRIx64, v);
	C_OK(ct_lookup(dev, "nsopen", &got));
	C_TRUE(got == id, "LOOKUP gave %u, not %u", got, id);
	C_OK(ct_info(dev, id, 0, &info));
	C_TRUE(info.uid == (plant == PLANT_NO_PROC ? UID_A : 0),
	       "owner %u as the creator sees it", info.uid);
	close(ep);
	C_OK(ct_destroy(dev, id));
	C_ERRNO(ENOENT, ct_info(dev, id, 0, &info));
	return 0;
}

/* A misc device other than ours whose open has no side effect. */
static const char *nsopen_other_misc(void)
{
	static const char *const cand[] = {
		"/dev/cpu_dma_latency", "/dev/loop-control", "/dev/vga_arbiter",
		"/dev/rfkill", "/dev/hpet", "/dev/uinput",
	};
	size_t i;

	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (!access(cand[i], F_OK))
			return cand[i];
	return CHAN_DEV_PATH;
}

/*
 * Spec 1: open("/dev/chan") resolves no path and never blocks on anything
 * the user controls. Whatever sits at /proc/thread-self/ns/ipc (and
 * /proc/self/ns/ipc), or with no /proc at all, the attacker's opens succeed
 * at once and /dev/chan works in its namespace; root's opens of /dev/chan
 * and of another misc device, started while the attacker is opening (or
 * blocked), finish in bounded time.
 */
TEST_F_TIMEOUT(nsopen, open_and_use, 120)
{
	const char *misc = nsopen_other_misc();
	int ready[2], rc0, rc1, rc2;

	ASSERT_OK(pipe2(ready, O_CLOEXEC));
	if (AT_FORKED(self->c.pid, 0))
		_exit(nsopen_child(variant->plant, ready[1], self->root_name,
				   self->sh));
	close(ready[1]);
	if (at_await(ready[0], WAIT_MS) != 'R') {
		at_child(_metadata, &self->c.pid[0], 0, 1000, "attacker");
		ASSERT_TRUE(false);
	}
	/* Let it get into its open (it exits, or is seen asleep there). */
	ct_wait_blocked(self->c.pid[0], SYS_openat, 2000);

	if (AT_FORKED(self->c.pid, 1)) {
		uint32_t id = 0;
		int i, dev;

		for (i = 0; i < 5; i++) {
			dev = C_OK(ct_dev_open());
			C_OK(ct_create_simple(dev, 8, 1, &id));
			C_OK(ct_destroy(dev, id));
			close(dev);
		}
		_exit(0);
	}
	if (AT_FORKED(self->c.pid, 2)) {
		int i, fd;

		for (i = 0; i < 5; i++) {
			fd = open(misc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0)
				close(fd);
		}
		_exit(0);
	}
	rc1 = at_child(_metadata, &self->c.pid[1], 1, OPEN_BOUND_MS,
		       "root's open of /dev/chan");
	rc2 = at_child(_metadata, &self->c.pid[2], 2, OPEN_BOUND_MS,
		       "root's open of another misc device");
	rc0 = at_child(_metadata, &self->c.pid[0], 0, OPEN_BOUND_MS,
		       "attacker");
	/* Killing the attacker may have released root's opens: say so. */
	if (self->c.pid[1] > 0 &&
	    at_child(_metadata, &self->c.pid[1], 1, 5000,
		     "root's open of /dev/chan, after the attacker was killed") == 0)
		TH_LOG("root's open of /dev/chan finished once the attacker was killed");
	if (self->c.pid[2] > 0 &&
	    at_child(_metadata, &self->c.pid[2], 2, 5000,
		     "root's open of the misc device, after the attacker was killed") == 0)
		TH_LOG("root's open of %s finished once the attacker was killed",
		       misc);
	if (rc2)
		TH_LOG("the other misc device: %s", misc);
	EXPECT_EQ(0, rc1);
	EXPECT_EQ(0, rc2);
	EXPECT_EQ(0, rc0);
	EXPECT_EQ(10U, self->sh->opens);
	if (self->sh->max_open_ns > 2 * CT_SEC)
		TH_LOG("an open of /dev/chan took %.1f s",
		       self->sh->max_open_ns / 1e9);
	EXPECT_GT(2 * CT_SEC, self->sh->max_open_ns);
}

CT_HARNESS_MAIN
