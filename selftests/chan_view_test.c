// SPDX-License-Identifier: GPL-2.0
/*
 * The view inside a channel (issue 11, part 4): fdinfo and tracepoints.
 *
 *  - /proc/PID/fdinfo/FD of a channel fd: after the kernel's own lines,
 *    every key of docs/observability.md in its order and nothing after;
 *    the values equal INFO's after a known sequence (timed waits, sends,
 *    receives, a drop, a destroy, a disconnect), the endpoint's roles,
 *    token and mapping (a mapped endpoint of a mappable channel shows
 *    mapped 1 and its token, its channel mappers 1); readable by its own
 *    unprivileged user from another process, refused (EACCES) to another
 *    user without ptrace rights, as procfs rules (fdinfo_*).
 *  - the chan tracepoints through tracefs (mounted if it is not): each
 *    event's format names its fields; a known sequence (create, two opens,
 *    three sends and receives, one receive asleep until a sender in
 *    another process wakes it, destroy, two closes) gives exactly its
 *    events with the right ID and fields, in order; a copy-out that
 *    faults gives a drop; a mapper killed holding a slot gives a repair
 *    and a drop, for a writer and for a reader; nothing is traced once
 *    the events are disabled (trace_*). A kernel without tracefs or
 *    event tracing makes these tests SKIP, with the reason.
 *
 * Every fixture fails its test if the kernel logged a warning meanwhile.
 */
#define CT_WANT_RING
#include "chan_test_util.h"

#include <sys/mount.h>

#define WAIT_MS		20000
#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)
#define MAX_IDS		8
#define TRACEFS		"/sys/kernel/tracing"
#define OTHER_UID	65533	/* a second unprivileged user */

/* ---- fdinfo ---- */

static const char *const fd_keys[] = {
	"chan_id", "chan_name", "roles", "state", "mappable", "mapped",
	"token", "msg_size", "capacity", "depth", "senders", "receivers",
	"mappers", "sent", "received", "dropped", "discarded", "send_waits",
	"recv_waits", "corrupt",
};

#define NR_KEYS		(sizeof(fd_keys) / sizeof(fd_keys[0]))

struct fdinfo {
	char val[NR_KEYS][CHAN_NAME_MAX + 8];
	char err[256];
};

/* The text of /proc/PID/fdinfo/FD: 0, or -1 with errno. */
static int fdinfo_text(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n = 0;
	size_t off = 0;
	int pfd, err;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	pfd = open(path, O_RDONLY | O_CLOEXEC);
	if (pfd < 0)
		return -1;
	while (off < len - 1 &&
	       (n = read(pfd, buf + off, len - 1 - off)) > 0)
		off += n;
	err = errno;
	close(pfd);
	buf[off] = 0;
	if (n < 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * Split fdinfo text: the kernel's lines first (from "pos:"), then exactly
 * our keys in order, one "key:\tvalue" line each, and nothing after.
 * 0, or -1 with the reason in f->err.
 */
static int fdinfo_parse(const char *buf, struct fdinfo *f)
{
	const char *line = buf, *nl, *colon;
	size_t k = 0, klen, vlen;
	bool ours = false;

	memset(f, 0, sizeof(*f));
	if (strncmp(buf, "pos:\t", 5)) {
		snprintf(f->err, sizeof(f->err), "first line is not pos:");
		return -1;
	}
	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl) {
			snprintf(f->err, sizeof(f->err), "unterminated line");
			return -1;
		}
		colon = memchr(line, ':', nl - line);
		if (!colon) {
			snprintf(f->err, sizeof(f->err), "no colon: %.*s",
				 (int)(nl - line), line);
			return -1;
		}
		klen = colon - line;
		if (!ours && klen == 7 && !strncmp(line, "chan_id", 7))
			ours = true;
		if (!ours)
			continue;
		if (k == NR_KEYS) {
			snprintf(f->err, sizeof(f->err), "extra line: %.*s",
				 (int)(nl - line), line);
			return -1;
		}
		if (klen != strlen(fd_keys[k]) ||
		    strncmp(line, fd_keys[k], klen) || colon[1] != '\t') {
			snprintf(f->err, sizeof(f->err),
				 "line '%.*s' where '%s:\\t' was due",
				 (int)(nl - line), line, fd_keys[k]);
			return -1;
		}
		vlen = nl - colon - 2;
		if (vlen >= sizeof(f->val[k])) {
			snprintf(f->err, sizeof(f->err), "%s: value too long",
				 fd_keys[k]);
			return -1;
		}
		memcpy(f->val[k], colon + 2, vlen);
		f->val[k][vlen] = 0;
		k++;
	}
	if (k != NR_KEYS) {
		snprintf(f->err, sizeof(f->err), "%zu of %zu keys", k,
			 (size_t)NR_KEYS);
		return -1;
	}
	return 0;
}

static const char *fv(const struct fdinfo *f, const char *key)
{
	size_t k;

	for (k = 0; k < NR_KEYS; k++)
		if (!strcmp(fd_keys[k], key))
			return f->val[k];
	return "(no such key)";
}

/* A decimal value; -1 if it is not one. */
static long long fn(const struct fdinfo *f, const char *key)
{
	const char *s = fv(f, key);
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end || errno ? -1 : v;
}

/* fdinfo's value of key is want. */
#define EXPECT_FD(want, f, key)	EXPECT_EQ((long long)(want), fn(f, key))

/* INFO's state as fdinfo spells it. */
static const char *state_text(uint32_t state, char *buf, size_t len)
{
	static const char *const names[] = {
		"destroyed", "no_senders", "no_receivers", "closed",
	};
	size_t i;

	if (!state)
		return "live";
	buf[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (state & (1U << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 buf[0] ? "," : "", names[i]);
	return buf;
}

/* What the endpoint's own lines must say (the rest is INFO's). */
struct ep_want {
	const char *roles;
	int mappable;
	int mapped;
	uint32_t token;
	uint32_t mappers;
};

/*
 * fd's fdinfo, read by this process: every key in order, the endpoint's
 * lines as in *w, the channel's equal to INFO on the same fd (read
 * after it: the channel is quiet). *f gets the parsed values.
 */
static void fdinfo_check(struct __test_metadata *_metadata, int fd,
			 const struct ep_want *w, struct fdinfo *f)
{
	struct chan_info info;
	char buf[4096], st[64];

	ASSERT_OK(fdinfo_text(getpid(), fd, buf, sizeof(buf)));
	if (fdinfo_parse(buf, f))
		TH_LOG("fd %d: %s in:\n%s", fd, f->err, buf);
	ASSERT_EQ(0, f->err[0]);
	ASSERT_OK(ct_info(fd, 0, 0, &info));

	EXPECT_FD(info.id, f, "chan_id");
	EXPECT_STREQ(info.name, fv(f, "chan_name"));
	EXPECT_STREQ(w->roles, fv(f, "roles"));
	EXPECT_STREQ(state_text(info.state, st, sizeof(st)), fv(f, "state"));
	EXPECT_FD(!!(info.chan_flags & CHAN_CREATE_MAPPABLE), f, "mappable");
	EXPECT_FD(w->mappable, f, "mappable");
	EXPECT_FD(w->mapped, f, "mapped");
	EXPECT_FD(w->token, f, "token");
	EXPECT_FD(info.msg_size, f, "msg_size");
	EXPECT_FD(info.capacity, f, "capacity");
	EXPECT_FD(info.depth, f, "depth");
	EXPECT_FD(info.senders, f, "senders");
	EXPECT_FD(info.receivers, f, "receivers");
	EXPECT_FD(w->mappers, f, "mappers");
	EXPECT_FD(info.sent, f, "sent");
	EXPECT_FD(info.received, f, "received");
	EXPECT_FD(info.dropped, f, "dropped");
	EXPECT_FD(info.discarded, f, "discarded");
	EXPECT_FD(info.send_waits, f, "send_waits");
	EXPECT_FD(info.recv_waits, f, "recv_waits");
	EXPECT_FD(info.corrupt, f, "corrupt");
}

/* The counters a test knows it caused. */
struct counts {
	const char *state;
	unsigned long long depth, senders, receivers, sent, received;
	unsigned long long dropped, discarded, send_waits, recv_waits;
	unsigned long long corrupt;
};

static void counts_check(struct __test_metadata *_metadata,
			 const struct fdinfo *f, const struct counts *c)
{
	EXPECT_STREQ(c->state, fv(f, "state"));
	EXPECT_FD(c->depth, f, "depth");
	EXPECT_FD(c->senders, f, "senders");
	EXPECT_FD(c->receivers, f, "receivers");
	EXPECT_FD(c->sent, f, "sent");
	EXPECT_FD(c->received, f, "received");
	EXPECT_FD(c->dropped, f, "dropped");
	EXPECT_FD(c->discarded, f, "discarded");
	EXPECT_FD(c->send_waits, f, "send_waits");
	EXPECT_FD(c->recv_waits, f, "recv_waits");
	EXPECT_FD(c->corrupt, f, "corrupt");
}

FIXTURE(view) {
	int dev;
	int kmsg;
	uint32_t ids[MAX_IDS];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
	bool traced;
	mode_t dev_mode;
};

FIXTURE_SETUP(view)
{
	self->nids = 0;
	self->traced = false;
	self->dev_mode = 0;
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
}

static int tr_write(const char *file, const char *val);

FIXTURE_TEARDOWN(view)
{
	if (self->traced) {
		tr_write("events/chan/enable", "0");
		tr_write("trace_clock", "local");
		tr_write("trace", "");
	}
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg,
			 self->ids, self->nids);
	if (self->dev_mode)
		ct_dev_restore(self->dev_mode);
	close(self->dev);
}

static uint32_t view_create(FIXTURE_DATA(view) *self, uint32_t msg_size,
			    uint32_t capacity, uint32_t flags,
			    const char *name)
{
	uint32_t id = 0;

	if (ct_create(self->dev, msg_size, capacity, 0600, flags, 0, name,
		      &id))
		return 0;
	if (self->nids < MAX_IDS)
		self->ids[self->nids++] = id;
	return id;
}

/*
 * A page that is present and readable, not writable: the kernel takes a
 * message for it (it probes only that the buffer is there) and then its
 * copy-out faults, a drop.
 */
static void *ro_page(void)
{
	void *p = mmap(NULL, CT_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)*(volatile char *)p;	/* present: the zero page */
	return p;
}

/* CHAN_IOC_CLOSE on a channel fd: closed for sending. */
static int chan_close_fd(int fd)
{
	struct chan_close c = { .size = sizeof(c) };

	return ioctl(fd, CHAN_IOC_CLOSE, &c);
}

/*
 * Every key in order and the values INFO gives, on three endpoints of one
 * channel, after: a timed receive that waits on the empty channel, four
 * sends that fill it, a timed send that waits on the full one, a receive,
 * a receive whose copy-out faults (a drop); then after a CLOSE, after a
 * destroy (what is queued is discarded) and after every sender left.
 */
TEST_F(view, fdinfo_counts)
{
	const struct ep_want ws = { "send", 0, 0, 0, 0 };
	const struct ep_want wr = { "recv", 0, 0, 0, 0 };
	const struct ep_want wb = { "send,recv", 0, 0, 0, 0 };
	struct counts c = { .state = "live", .senders = 2, .receivers = 2 };
	char name[CHAN_NAME_MAX], buf[16];
	int sfd, rfd, bfd, i;
	struct fdinfo f;
	uint32_t id, len;
	uint64_t v;
	void *ro;

	ct_name(name, sizeof(name), "view");
	id = view_create(self, 16, 4, 0, name);
	ASSERT_NE(0U, id);
	sfd = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	rfd = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	bfd = ct_open(self->dev, id, RW, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, rfd);
	ASSERT_LE(0, bfd);

	fdinfo_check(_metadata, sfd, &ws, &f);
	EXPECT_FD(id, &f, "chan_id");
	EXPECT_STREQ(name, fv(&f, "chan_name"));
	EXPECT_FD(16, &f, "msg_size");
	EXPECT_FD(4, &f, "capacity");
	counts_check(_metadata, &f, &c);

	len = sizeof(buf);
	EXPECT_ERRNO(ETIMEDOUT, ct_recv(rfd, 0, buf, &len, CHAN_MSG_TIMEOUT,
					10 * CT_MS));
	for (i = 0; i < 4; i++)
		ASSERT_OK(ct_send_u64(sfd, 0, i, CHAN_MSG_NONBLOCK));
	EXPECT_ERRNO(ETIMEDOUT, ct_send(sfd, 0, &v, sizeof(v),
					CHAN_MSG_TIMEOUT, 10 * CT_MS));
	ASSERT_OK(ct_recv_u64(rfd, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(0U, v);
	ro = ro_page();
	ASSERT_NE(NULL, ro);
	len = sizeof(v);
	EXPECT_ERRNO(EFAULT, ct_recv(rfd, 0, ro, &len, CHAN_MSG_NONBLOCK, 0));
	munmap(ro, CT_PAGE);

	c.depth = 2;
	c.sent = 4;
	c.received = 1;
	c.dropped = 1;
	c.send_waits = 1;
	c.recv_waits = 1;
	fdinfo_check(_metadata, sfd, &ws, &f);
	counts_check(_metadata, &f, &c);
	fdinfo_check(_metadata, rfd, &wr, &f);
	counts_check(_metadata, &f, &c);
	fdinfo_check(_metadata, bfd, &wb, &f);
	counts_check(_metadata, &f, &c);

	ASSERT_OK(chan_close_fd(sfd));
	c.state = "closed";
	fdinfo_check(_metadata, rfd, &wr, &f);
	counts_check(_metadata, &f, &c);

	ASSERT_OK(ct_destroy(self->dev, id));
	c.state = "destroyed,closed";
	c.depth = 0;
	c.discarded = 2;
	fdinfo_check(_metadata, rfd, &wr, &f);
	counts_check(_metadata, &f, &c);
	EXPECT_FD(id, &f, "chan_id");

	close(sfd);
	close(bfd);
	c.state = "destroyed,no_senders,closed";
	c.senders = 0;
	c.receivers = 1;
	fdinfo_check(_metadata, rfd, &wr, &f);
	counts_check(_metadata, &f, &c);
	close(rfd);
}

/*
 * A mappable channel: each endpoint shows its own token, and mapped 1
 * only while its own mapping lives; the channel's mappers count every
 * live mapping. A message sent through the mapping is counted as INFO
 * counts it.
 */
TEST_F(view, fdinfo_mapped)
{
	struct ep_want wa = { "send,recv", 1, 0, 0, 0 };
	struct ep_want wb = { "recv", 1, 0, 0, 0 };
	uint32_t ta = 0, tb = 0;
	struct chan_create c;
	struct ct_ring ra, rb;
	struct fdinfo f;
	uint64_t v = 42;
	int a, b;

	ASSERT_OK(ct_create_kept(self->dev, 16, 4, 0600, &c, self->ids,
				 &self->nids, MAX_IDS));
	a = ct_open_token(self->dev, c.out_id, RW, 0, &ta);
	b = ct_open_token(self->dev, c.out_id, CHAN_ROLE_RECV, 0, &tb);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_NE(0U, ta);
	ASSERT_NE(0U, tb);
	ASSERT_NE(ta, tb);
	wa.token = ta;
	wb.token = tb;

	fdinfo_check(_metadata, a, &wa, &f);
	fdinfo_check(_metadata, b, &wb, &f);

	ASSERT_OK(ct_ring_map(a, &c.out_ring, ta, &ra));
	wa.mapped = 1;
	wa.mappers = wb.mappers = 1;
	fdinfo_check(_metadata, a, &wa, &f);
	fdinfo_check(_metadata, b, &wb, &f);

	ASSERT_OK(ct_fp_send(a, &ra, &v, sizeof(v), NULL));
	fdinfo_check(_metadata, a, &wa, &f);
	EXPECT_FD(1, &f, "sent");
	EXPECT_FD(1, &f, "depth");

	ASSERT_OK(ct_ring_map(b, &c.out_ring, tb, &rb));
	wb.mapped = 1;
	wa.mappers = wb.mappers = 2;
	fdinfo_check(_metadata, a, &wa, &f);
	fdinfo_check(_metadata, b, &wb, &f);

	ct_ring_unmap(&ra);
	wa.mapped = 0;
	wa.mappers = wb.mappers = 1;
	fdinfo_check(_metadata, a, &wa, &f);
	fdinfo_check(_metadata, b, &wb, &f);

	ct_ring_unmap(&rb);
	wb.mapped = 0;
	wa.mappers = wb.mappers = 0;
	fdinfo_check(_metadata, a, &wa, &f);
	fdinfo_check(_metadata, b, &wb, &f);
	EXPECT_FD(1, &f, "depth");
	close(a);
	close(b);
}

/* Become uid/gid @id with no groups and no capabilities: 0 or -1. */
static int become(uid_t id)
{
	if (setgroups(0, NULL) || setresgid(id, id, id) ||
	    setresuid(id, id, id))
		return -1;
	return 0;
}

/*
 * Read the fdinfo of @fd in process @pid and check it names channel @id:
 * 0, or an errno (CT_EXIT_BADDATA if it reads but says something else).
 */
static int read_names(pid_t pid, int fd, uint32_t id)
{
	struct fdinfo f;
	char buf[4096];

	if (fdinfo_text(pid, fd, buf, sizeof(buf)))
		return errno;
	if (fdinfo_parse(buf, &f) || fn(&f, "chan_id") != id)
		return CT_EXIT_BADDATA;
	return 0;
}

/*
 * As procfs rules: an unprivileged user reads the fdinfo of its own
 * channel fds, from the process that holds them and from another process
 * of the same user; another user, without ptrace rights over the holder,
 * is refused (EACCES).
 */
TEST_F(view, fdinfo_permissions)
{
	uint32_t *shared;
	int ready[2], done[2], rc;
	pid_t holder;

	self->dev_mode = ct_dev_allow_all();
	shared = ct_shared_alloc(2 * sizeof(*shared));
	ASSERT_NE(NULL, shared);
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(done));

	holder = ct_fork_slot(0);
	ASSERT_LE(0, holder);
	if (holder == 0) {
		uint32_t id;
		int dev, fd;

		close(ready[0]);
		close(done[1]);
		CF_OK(ct_drop_privs(NULL, 0));
		/*
		 * Changing its uid made this process undumpable, which keeps
		 * even its own user out; a process its user started is
		 * dumpable.
		 */
		CF_OK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
		dev = CF_OK(ct_dev_open());
		CF_OK(ct_create(dev, 8, 2, 0600, 0, 0, NULL, &id));
		fd = CF_OK(ct_open(dev, id, CHAN_ROLE_SEND, 0, 0));
		CF_TRUE(read_names(getpid(), fd, id) == 0,
			"own fdinfo: %d", read_names(getpid(), fd, id));
		shared[0] = id;
		shared[1] = fd;
		ct_post(ready[1], 'r');
		ct_await(done[0], WAIT_MS);
		_exit(0);
	}
	self->pid[0] = holder;
	close(ready[1]);
	close(done[0]);
	ASSERT_EQ('r', ct_await(ready[0], WAIT_MS));

	/* The same user, in another process. */
	self->pid[1] = ct_fork_slot(1);
	ASSERT_LE(0, self->pid[1]);
	if (self->pid[1] == 0) {
		CF_OK(ct_drop_privs(NULL, 0));
		_exit(read_names(holder, shared[1], shared[0]));
	}
	rc = CT_CHILD(&self->pid[1], 1, WAIT_MS, "same user");
	EXPECT_EQ(0, rc);

	/* Another user, without ptrace rights over the holder. */
	self->pid[2] = ct_fork_slot(2);
	ASSERT_LE(0, self->pid[2]);
	if (self->pid[2] == 0) {
		CF_OK(become(OTHER_UID));
		rc = read_names(holder, shared[1], shared[0]);
		_exit(rc ? rc : CT_EXIT_UNEXPECTED_OK);
	}
	rc = CT_CHILD_EXPECT(&self->pid[2], 2, WAIT_MS, "other user",
			     EACCES);
	EXPECT_EQ(EACCES, rc);

	ct_post(done[1], 'd');
	rc = CT_CHILD(&self->pid[0], 0, WAIT_MS, "holder");
	EXPECT_EQ(0, rc);
	close(ready[0]);
	close(done[1]);
}

/* ---- tracepoints ---- */

static int tr_write(const char *file, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* A whole tracefs file, NUL-terminated, malloc()ed; NULL on error. */
static char *tr_read(const char *file)
{
	size_t cap = 1 << 16, off = 0;
	char path[256], *buf = malloc(cap), *nbuf;
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (cap - off < 4096) {
			nbuf = realloc(buf, cap * 2);
			if (!nbuf)
				break;
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + off, cap - off - 1);
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = 0;
	return buf;
}

/*
 * Make tracefs ready: mounted (at /sys/kernel/tracing, if it is not),
 * with event tracing. Returns 0; 1 with the reason in why if this kernel
 * cannot trace (the test skips); -1 with the reason if it should and
 * does not (the chan events are missing: the test fails).
 */
static int tr_ready(char *why, size_t len)
{
	if (access(TRACEFS "/events", F_OK) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL) &&
	    errno != EBUSY) {
		snprintf(why, len, "cannot mount tracefs at " TRACEFS ": %s",
			 strerror(errno));
		return 1;
	}
	if (access(TRACEFS "/events", F_OK)) {
		snprintf(why, len, "no event tracing in " TRACEFS);
		return 1;
	}
	if (access(TRACEFS "/events/chan/enable", W_OK)) {
		snprintf(why, len, TRACEFS "/events/chan/enable: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Ready, the buffer empty, one clock for every CPU (so the merged
 * buffer's order is the order of the events), the chan events on.
 */
#define TR_START(self)							\
	do {								\
		char __why[160];					\
		int __r = tr_ready(__why, sizeof(__why));		\
		if (__r > 0)						\
			SKIP(return, "%s", __why);			\
		if (__r < 0)						\
			TH_LOG("%s", __why);				\
		ASSERT_EQ(0, __r);					\
		(self)->traced = true;					\
		ASSERT_OK(tr_write("tracing_on", "0"));			\
		ASSERT_OK(tr_write("trace", ""));			\
		ASSERT_OK(tr_write("trace_clock", "global"));		\
		ASSERT_OK(tr_write("events/chan/enable", "1"));		\
		ASSERT_OK(tr_write("tracing_on", "1"));			\
	} while (0)

#define MAX_FIELDS	6
#define MAX_EVENTS	256

struct tr_event {
	char name[24];
	int nf;
	char key[MAX_FIELDS][16];
	unsigned long long val[MAX_FIELDS];
};

/*
 * The chan events of channel @id in the trace buffer, in its order
 * ("... chan_send: id=3 len=7 pos=2"). Returns how many, or -1 if the
 * buffer cannot be read or a line does not parse.
 */
static int tr_events(uint32_t id, struct tr_event *ev, int max)
{
	char *buf = tr_read("trace"), *line, *save = NULL, *p, *tok, *s2;
	int n = 0, bad = 0;
	struct tr_event e;

	if (!buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		p = strstr(line, ": chan_");
		if (!p)
			continue;
		memset(&e, 0, sizeof(e));
		p += 2;
		tok = strchr(p, ':');
		if (!tok || tok - p >= (long)sizeof(e.name)) {
			bad = 1;
			break;
		}
		memcpy(e.name, p, tok - p);
		s2 = NULL;
		for (tok = strtok_r(tok + 1, " ", &s2); tok;
		     tok = strtok_r(NULL, " ", &s2)) {
			char *eq = strchr(tok, '=');

			if (!eq || e.nf == MAX_FIELDS ||
			    eq - tok >= (long)sizeof(e.key[0])) {
				bad = 1;
				break;
			}
			memcpy(e.key[e.nf], tok, eq - tok);
			e.val[e.nf++] = strtoull(eq + 1, NULL, 0);
		}
		if (bad)
			break;
		if (e.nf < 1 || strcmp(e.key[0], "id") || e.val[0] != id)
			continue;
		if (n < max)
			ev[n] = e;
		n++;
	}
	free(buf);
	return bad ? -1 : n;
}

static bool tr_field(const struct tr_event *e, const char *key,
		     unsigned long long *v)
{
	int i;

	for (i = 0; i < e->nf; i++)
		if (!strcmp(e->key[i], key)) {
			*v = e->val[i];
			return true;
		}
	return false;
}

/*
 * The index of the first event @name at or after @from whose fields
 * include every "key=value" of @want (space-separated); -1 if none.
 */
static int tr_find(const struct tr_event *ev, int n, int from,
		   const char *name, const char *want)
{
	char w[128], *tok, *save;
	unsigned long long v;
	bool ok;
	int i;

	if (from < 0)
		return -1;
	for (i = from; i < n; i++) {
		if (strcmp(ev[i].name, name))
			continue;
		snprintf(w, sizeof(w), "%s", want);
		ok = true;
		save = NULL;
		for (tok = strtok_r(w, " ", &save); tok && ok;
		     tok = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(tok, '=');

			*eq = 0;
			ok = tr_field(&ev[i], tok, &v) &&
			     v == strtoull(eq + 1, NULL, 0);
		}
		if (ok)
			return i;
	}
	return -1;
}

static int tr_count(const struct tr_event *ev, int n, const char *name)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += !strcmp(ev[i].name, name);
	return c;
}

static void tr_dump(struct __test_metadata *_metadata,
		    const struct tr_event *ev, int n)
{
	char line[200];
	int i, j;

	for (i = 0; i < n && i < MAX_EVENTS; i++) {
		snprintf(line, sizeof(line), "%s", ev[i].name);
		for (j = 0; j < ev[i].nf; j++)
			snprintf(line + strlen(line),
				 sizeof(line) - strlen(line), " %s=%llu",
				 ev[i].key[j], ev[i].val[j]);
		TH_LOG("event %d: %s", i, line);
	}
}

/* Each event exists and its format names its fields, all numbers. */
TEST_F(view, trace_formats)
{
	static const char *const events[][6] = {
		{ "chan_create", "id", "msg_size", "capacity", "flags",
		  "uid" },
		{ "chan_destroy", "id", "discarded" },
		{ "chan_open", "id", "roles", "token" },
		{ "chan_release", "id", "roles", "token" },
		{ "chan_send", "id", "len", "pos" },
		{ "chan_recv", "id", "len", "pos" },
		{ "chan_wait", "id", "dir" },
		{ "chan_wake", "id", "dir", "nr" },
		{ "chan_repair", "id", "token", "tombstoned", "freed" },
		{ "chan_drop", "id", "reason", "count" },
	};
	char path[128], want[64], *fmt;
	size_t i, j;

	TR_START(self);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(path, sizeof(path), "events/chan/%s/format",
			 events[i][0]);
		fmt = tr_read(path);
		if (!fmt)
			TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_NE(NULL, fmt);
		for (j = 1; j < 6 && events[i][j]; j++) {
			/* "field:u32 id;" or "field:u64 pos;" */
			snprintf(want, sizeof(want), "field:u%d %s;",
				 strcmp(events[i][j], "pos") &&
				 strcmp(events[i][j], "discarded") ? 32 : 64,
				 events[i][j]);
			if (!strstr(fmt, want))
				TH_LOG("%s: no %s in:\n%s", path, want, fmt);
			EXPECT_NE(NULL, strstr(fmt, want));
		}
		/* No string or array: every field a number. */
		EXPECT_EQ(NULL, strstr(fmt, "__data_loc"));
		EXPECT_EQ(NULL, strstr(fmt, "["));
		free(fmt);
	}
}

/*
 * The known sequence: create, open a sender and a receiver, send and
 * receive two messages, then receive a third asleep until a sender in
 * another process sends it, destroy, close both. Exactly these events
 * with the channel's ID, in this order: create; the opens; each send
 * before its receive (same length and position); the wait, then the
 * third send, its wake-up, its receive; destroy and the wake-up of
 * everyone; the releases. Nothing is traced after the events are
 * disabled.
 */
TEST_F(view, trace_sequence)
{
	static const char msg[] = "abcdefg";
	struct tr_event *ev;
	int sfd, rfd, n, i, rc, c, o1, o2, s, r, w, k, d;
	char buf[8], want[64];
	uint32_t id, id2, len;
	pid_t parent = getpid();

	TR_START(self);
	ev = calloc(MAX_EVENTS, sizeof(*ev));
	ASSERT_NE(NULL, ev);

	id = view_create(self, 8, 4, 0, NULL);
	ASSERT_NE(0U, id);
	sfd = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	rfd = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_LE(0, rfd);
	ASSERT_OK(ct_send(sfd, 0, msg, 3, CHAN_MSG_NONBLOCK, 0));
	ASSERT_OK(ct_send(sfd, 0, msg, 5, CHAN_MSG_NONBLOCK, 0));
	for (i = 0; i < 2; i++) {
		len = sizeof(buf);
		ASSERT_OK(ct_recv(rfd, 0, buf, &len, CHAN_MSG_NONBLOCK, 0));
		EXPECT_EQ(i ? 5U : 3U, len);
	}

	/* A sender in another process, once we sleep in RECV. */
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		char dir[32];

		close(rfd);
		snprintf(dir, sizeof(dir), "/proc/%d", (int)parent);
		CF_TRUE(ct_wait_dir_blocked(dir, 0, SYS_ioctl, WAIT_MS),
			"the receiver never slept");
		CF_OK(ct_send(sfd, 0, msg, 7, 0, 0));
		_exit(0);
	}
	len = sizeof(buf);
	ASSERT_OK(ct_recv(rfd, 0, buf, &len, CHAN_MSG_TIMEOUT, 20 * CT_SEC));
	EXPECT_EQ(7U, len);
	rc = CT_CHILD(&self->pid[0], 0, WAIT_MS, "sender");
	ASSERT_EQ(0, rc);

	ASSERT_OK(ct_destroy(self->dev, id));
	close(sfd);
	close(rfd);
	ASSERT_OK(tr_write("events/chan/enable", "0"));

	/* Off: a channel's whole life leaves nothing. */
	id2 = view_create(self, 8, 4, 0, NULL);
	ASSERT_NE(0U, id2);
	sfd = ct_open(self->dev, id2, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_OK(ct_send(sfd, 0, msg, 1, CHAN_MSG_NONBLOCK, 0));
	close(sfd);
	EXPECT_EQ(0, tr_events(id2, ev, MAX_EVENTS));

	n = tr_events(id, ev, MAX_EVENTS);
	ASSERT_LT(0, n);
	ASSERT_GE(MAX_EVENTS, n);

	snprintf(want, sizeof(want), "msg_size=8 capacity=4 flags=0 uid=%u",
		 (unsigned int)getuid());
	c = tr_find(ev, n, 0, "chan_create", want);
	o1 = tr_find(ev, n, c, "chan_open", "roles=1 token=0");
	o2 = tr_find(ev, n, c, "chan_open", "roles=2 token=0");
	EXPECT_LE(0, c);
	EXPECT_LT(c, o1);
	EXPECT_LT(c, o2);
	EXPECT_EQ(0, c);

	s = tr_find(ev, n, o1 > o2 ? o1 : o2, "chan_send", "len=3 pos=0");
	r = tr_find(ev, n, s, "chan_recv", "len=3 pos=0");
	EXPECT_LT(0, s);
	EXPECT_LT(s, r);
	s = tr_find(ev, n, s, "chan_send", "len=5 pos=1");
	r = tr_find(ev, n, s > r ? s : r, "chan_recv", "len=5 pos=1");
	EXPECT_LT(0, s);
	EXPECT_LT(s, r);
	w = tr_find(ev, n, r, "chan_wait", "dir=1");
	s = tr_find(ev, n, w, "chan_send", "len=7 pos=2");
	k = tr_find(ev, n, s, "chan_wake", "dir=1 nr=1");
	r = tr_find(ev, n, k, "chan_recv", "len=7 pos=2");
	EXPECT_LT(0, w);
	EXPECT_LT(w, s);
	EXPECT_LT(s, k);
	EXPECT_LT(k, r);
	d = tr_find(ev, n, r, "chan_destroy", "discarded=0");
	EXPECT_LT(r, d);
	EXPECT_LT(d, tr_find(ev, n, d, "chan_wake", "dir=0 nr=0"));
	EXPECT_LT(d, tr_find(ev, n, d, "chan_wake", "dir=1 nr=0"));
	EXPECT_LT(d, tr_find(ev, n, d, "chan_release", "roles=1 token=0"));
	EXPECT_LT(d, tr_find(ev, n, d, "chan_release", "roles=2 token=0"));

	EXPECT_EQ(1, tr_count(ev, n, "chan_create"));
	EXPECT_EQ(2, tr_count(ev, n, "chan_open"));
	EXPECT_EQ(3, tr_count(ev, n, "chan_send"));
	EXPECT_EQ(3, tr_count(ev, n, "chan_recv"));
	EXPECT_LE(1, tr_count(ev, n, "chan_wait"));
	EXPECT_EQ(1, tr_count(ev, n, "chan_destroy"));
	EXPECT_EQ(2, tr_count(ev, n, "chan_release"));
	EXPECT_EQ(0, tr_count(ev, n, "chan_drop"));
	EXPECT_EQ(0, tr_count(ev, n, "chan_repair"));
	if (_metadata->passed == 0)
		tr_dump(_metadata, ev, n);
	free(ev);
}

/* A receive whose copy-out faults: the receive, then a drop (reason 0). */
TEST_F(view, trace_drop_fault)
{
	struct tr_event ev[16];
	uint32_t id, len;
	uint64_t v = 7;
	int fd, n, r;
	void *ro;

	TR_START(self);
	id = view_create(self, 8, 2, 0, NULL);
	ASSERT_NE(0U, id);
	fd = ct_open(self->dev, id, RW, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_send(fd, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0));
	ro = ro_page();
	ASSERT_NE(NULL, ro);
	len = sizeof(v);
	EXPECT_ERRNO(EFAULT, ct_recv(fd, 0, ro, &len, CHAN_MSG_NONBLOCK, 0));
	munmap(ro, CT_PAGE);
	close(fd);

	n = tr_events(id, ev, 16);
	ASSERT_LT(0, n);
	r = tr_find(ev, n, 0, "chan_recv", "len=8 pos=0");
	EXPECT_LE(0, r);
	EXPECT_LT(r, tr_find(ev, n, r, "chan_drop", "reason=0 count=1"));
	EXPECT_EQ(1, tr_count(ev, n, "chan_drop"));
	if (_metadata->passed == 0)
		tr_dump(_metadata, ev, n < 16 ? n : 16);
}

/*
 * A mapper killed holding a slot it claimed to write, then one killed
 * holding a slot it claimed to read (as chan_repair_test does): each
 * death repairs the ring (chan_repair with the endpoint's token, a
 * tombstone for the writer, a freed slot for the reader); the tombstone
 * is dropped by the kernel receive that passes it (reason 1), the
 * reader's message by the repair (reason 2). fdinfo and INFO agree on
 * the two drops and show no mapping left.
 */
TEST_F(view, trace_repair)
{
	struct ep_want w = { "send,recv", 1, 0, 0, 0 };
	struct tr_event ev[32];
	struct chan_create c;
	uint32_t tok = 0, len;
	char want[64];
	struct fdinfo f;
	int fd, rfd, n, p, q, rc;
	uint64_t v = 9;

	TR_START(self);
	ASSERT_OK(ct_create_kept(self->dev, 8, 2, 0600, &c, self->ids,
				 &self->nids, MAX_IDS));
	fd = ct_open_token(self->dev, c.out_id, RW, 0, &tok);
	ASSERT_LE(0, fd);
	ASSERT_NE(0U, tok);
	rfd = ct_open(self->dev, c.out_id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, rfd);
	w.token = tok;

	/* A writer dies after its claim. */
	self->pid[0] = ct_fork_slot(0);
	ASSERT_LE(0, self->pid[0]);
	if (self->pid[0] == 0) {
		struct ct_ring r;
		__s64 pos;

		CF_OK(ct_ring_map(fd, &c.out_ring, tok, &r));
		CF_TRUE(chan_ring_claim_send(&r.v, tok, &pos), "claim: %lld",
			(long long)pos);
		raise(SIGKILL);
		_exit(CT_EXIT_SETUP);
	}
	rc = CT_CHILD_EXPECT(&self->pid[0], 0, WAIT_MS, "writer",
			     128 + SIGKILL);
	ASSERT_EQ(128 + SIGKILL, rc);
	len = sizeof(v);
	EXPECT_ERRNO(EAGAIN, ct_recv(rfd, 0, &v, &len, CHAN_MSG_NONBLOCK, 0));

	/* A reader dies after its claim of a message the kernel sent. */
	ASSERT_OK(ct_send(fd, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0));
	self->pid[1] = ct_fork_slot(1);
	ASSERT_LE(0, self->pid[1]);
	if (self->pid[1] == 0) {
		struct ct_ring r;
		__u32 mlen;
		__s64 pos;

		CF_OK(ct_ring_map(fd, &c.out_ring, tok, &r));
		CF_TRUE(chan_ring_claim_recv(&r.v, tok, 8, &pos, &mlen),
			"claim: %lld", (long long)pos);
		raise(SIGKILL);
		_exit(CT_EXIT_SETUP);
	}
	rc = CT_CHILD_EXPECT(&self->pid[1], 1, WAIT_MS, "reader",
			     128 + SIGKILL);
	ASSERT_EQ(128 + SIGKILL, rc);

	fdinfo_check(_metadata, fd, &w, &f);
	EXPECT_FD(2, &f, "sent");
	EXPECT_FD(2, &f, "dropped");
	EXPECT_FD(0, &f, "received");
	EXPECT_FD(0, &f, "depth");
	close(fd);
	close(rfd);

	n = tr_events(c.out_id, ev, 32);
	ASSERT_LT(0, n);
	snprintf(want, sizeof(want), "token=%u tombstoned=1 freed=0", tok);
	p = tr_find(ev, n, 0, "chan_repair", want);
	EXPECT_LE(0, p);
	EXPECT_LT(p, tr_find(ev, n, p, "chan_drop", "reason=1 count=1"));
	snprintf(want, sizeof(want), "token=%u tombstoned=0 freed=1", tok);
	q = tr_find(ev, n, p, "chan_repair", want);
	EXPECT_LT(p, q);
	EXPECT_LT(q, tr_find(ev, n, q, "chan_drop", "reason=2 count=1"));
	EXPECT_EQ(2, tr_count(ev, n, "chan_repair"));
	EXPECT_EQ(2, tr_count(ev, n, "chan_drop"));
	/* Only the kernel's own send is traced; the claims were not. */
	EXPECT_EQ(1, tr_count(ev, n, "chan_send"));
	EXPECT_EQ(0, tr_count(ev, n, "chan_recv"));
	if (_metadata->passed == 0)
		tr_dump(_metadata, ev, n < 32 ? n : 32);
}

/*
 * A CHAN_CREATE_CRC32C channel whose slot a mapper corrupted: the kernel
 * receive that passes it traces a drop (reason 4) and no receive, and
 * fdinfo counts it as corrupt and dropped, as INFO does.
 */
TEST_F(view, trace_drop_corrupt)
{
	struct ep_want w = { "send,recv", 1, 1, 0, 1 };
	struct tr_event ev[16];
	struct chan_create c;
	uint32_t id, tok = 0, len;
	struct ct_ring r;
	struct fdinfo f;
	char buf[8];
	int fd, n, s;

	TR_START(self);
	ASSERT_OK(ct_create_mappable(self->dev, 8, 2, 0600, CHAN_CREATE_CRC32C,
				     &id, &c));
	self->ids[self->nids++] = id;
	fd = ct_open_token(self->dev, id, RW, 0, &tok);
	ASSERT_LE(0, fd);
	w.token = tok;
	ASSERT_OK(ct_ring_map(fd, &c.out_ring, tok, &r));
	ASSERT_OK(ct_send(fd, 0, "abc", 3, CHAN_MSG_NONBLOCK, 0));
	chan_ring_slot(&r.v, 0)->data[CHAN_CRC_SIZE] ^= 0x01;
	len = sizeof(buf);
	EXPECT_ERRNO(EAGAIN, ct_recv(fd, 0, buf, &len, CHAN_MSG_NONBLOCK, 0));

	fdinfo_check(_metadata, fd, &w, &f);
	EXPECT_FD(1, &f, "corrupt");
	EXPECT_FD(1, &f, "dropped");
	EXPECT_FD(0, &f, "received");
	ct_ring_unmap(&r);
	close(fd);

	n = tr_events(id, ev, 16);
	ASSERT_LT(0, n);
	s = tr_find(ev, n, 0, "chan_send", "len=3 pos=0");
	EXPECT_LE(0, s);
	EXPECT_LT(s, tr_find(ev, n, s, "chan_drop", "reason=4 count=1"));
	EXPECT_EQ(1, tr_count(ev, n, "chan_drop"));
	EXPECT_EQ(0, tr_count(ev, n, "chan_recv"));
	if (_metadata->passed == 0)
		tr_dump(_metadata, ev, n < 16 ? n : 16);
}

CT_HARNESS_MAIN
