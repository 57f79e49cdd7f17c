// SPDX-License-Identifier: GPL-2.0
/*
 * The helpers of chan_test_lib.h, compiled once into libct.a and linked
 * into every test binary.
 */
#include "chan_test_lib.h"

#include <pthread.h>

int ct_dev_open(void)
{
	return open(CHAN_DEV_PATH, O_RDWR | O_CLOEXEC);
}

int ct_create_raw(int dev, struct chan_create *c)
{
	c->size = sizeof(*c);
	return ioctl(dev, CHAN_IOC_CREATE, c);
}

/* Create a channel; name may be NULL. *id gets the new ID. */
int ct_create(int dev, uint32_t msg_size, uint32_t capacity,
	      uint32_t mode, uint32_t flags, uint64_t type_tag,
	      const char *name, uint32_t *id)
{
	struct chan_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.flags = flags;
	c.msg_size = msg_size;
	c.capacity = capacity;
	c.mode = mode;
	c.type_tag = type_tag;
	if (name)
		memcpy(c.name, name, strnlen(name, sizeof(c.name) - 1));
	ret = ct_create_raw(dev, &c);
	if (ret == 0 && id)
		*id = c.out_id;
	return ret;
}

/* Anonymous channel, mode 0600, no flags: the common case. */
int ct_create_simple(int dev, uint32_t msg_size,
		     uint32_t capacity, uint32_t *id)
{
	return ct_create(dev, msg_size, capacity, 0600, 0, 0, NULL, id);
}

/* Returns a channel fd or -1. */
int ct_open(int dev, uint32_t id, uint32_t roles,
	    uint32_t flags, uint64_t type_tag)
{
	struct chan_open o = {
		.size = sizeof(o),
		.flags = flags,
		.id = id,
		.roles = roles,
		.type_tag = type_tag,
	};

	return ioctl(dev, CHAN_IOC_OPEN, &o);
}

/* fd is /dev/chan (id set) or a channel fd (id 0). */
int ct_open_pair(int dev, uint32_t id, int *sfd, int *rfd)
{
	*sfd = ct_open(dev, id, CHAN_ROLE_SEND, 0, 0);
	*rfd = ct_open(dev, id, CHAN_ROLE_RECV, 0, 0);
	return *sfd < 0 || *rfd < 0 ? -1 : 0;
}

int ct_send(int fd, uint32_t id, const void *buf, uint32_t len,
	    uint32_t flags, uint64_t timeout_ns)
{
	struct chan_msg m = {
		.size = sizeof(m),
		.flags = flags,
		.id = id,
		.len = len,
		.buf = (uintptr_t)buf,
		.timeout_ns = timeout_ns,
	};

	return ioctl(fd, CHAN_IOC_SEND, &m);
}

/* *len: in the buffer size, out the message length (also on EMSGSIZE). */
int ct_recv(int fd, uint32_t id, void *buf, uint32_t *len,
	    uint32_t flags, uint64_t timeout_ns)
{
	struct chan_msg m = {
		.size = sizeof(m),
		.flags = flags,
		.id = id,
		.len = *len,
		.buf = (uintptr_t)buf,
		.timeout_ns = timeout_ns,
	};
	int ret;

	ret = ioctl(fd, CHAN_IOC_RECV, &m);
	*len = m.len;
	return ret;
}

/* One 64-bit value per message: the shape most tests use. */
int ct_send_u64(int fd, uint32_t id, uint64_t v, uint32_t flags)
{
	return ct_send(fd, id, &v, sizeof(v), flags, 0);
}

int ct_recv_u64(int fd, uint32_t id, uint64_t *v,
		uint32_t flags)
{
	uint32_t len = sizeof(*v);
	int ret;

	ret = ct_recv(fd, id, v, &len, flags, 0);
	if (ret == 0 && len != sizeof(*v)) {
		errno = EBADMSG;
		return -1;
	}
	return ret;
}

int ct_destroy(int dev, uint32_t id)
{
	struct chan_destroy d = { .size = sizeof(d), .id = id };

	return ioctl(dev, CHAN_IOC_DESTROY, &d);
}

int ct_info(int fd, uint32_t id, uint32_t flags,
	    struct chan_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->flags = flags;
	info->id = id;
	return ioctl(fd, CHAN_IOC_INFO, info);
}

int ct_lookup(int dev, const char *name, uint32_t *id)
{
	struct chan_lookup l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	memcpy(l.name, name, strnlen(name, sizeof(l.name) - 1));
	ret = ioctl(dev, CHAN_IOC_LOOKUP, &l);
	if (ret == 0 && id)
		*id = l.out_id;
	return ret;
}

/* A name unique to this process, so parallel and repeated runs never clash. */
void ct_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "ct-%d-%s", (int)getpid(), what);
}

/* ---- time ---- */

uint64_t ct_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * CT_SEC + (uint64_t)ts.tv_nsec;
}

void ct_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- processes ---- */

/* A waitpid() status as an exit code: the status, or 128 + the signal. */
int ct_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return CT_WAIT_TIMEOUT;
}

/*
 * Wait up to timeout_ms for pid to exit. Returns its exit code, 128 + the
 * signal that killed it, or CT_WAIT_TIMEOUT (the child is then killed and
 * reaped so it never outlives the test).
 */
int ct_wait_exit(pid_t pid, unsigned int timeout_ms)
{
	uint64_t deadline = ct_now_ns() + (uint64_t)timeout_ms * CT_MS;
	unsigned int nap = 1;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return CT_WAIT_TIMEOUT;
		if (ct_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return CT_WAIT_TIMEOUT;
		}
		ct_sleep_ms(nap);
		if (nap < 20)
			nap *= 2;
	}
	return ct_exit_code(status);
}

/* Has pid exited (without reaping it)? */
bool ct_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT))
		return true;
	return si.si_pid == pid;
}

void ct_kill_wait(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Wait until the task whose /proc directory is dir sleeps inside system
 * call nr (e.g. SYS_ioctl), as shown by dir/syscall and the 'S' state in
 * dir/stat. child, if not 0, is our child process: stop if it exits.
 * Without those files, wait a fixed 500 ms instead. Returns true once the
 * task is seen blocked, false if it exited or timeout_ms passed.
 */
bool ct_wait_dir_blocked(const char *dir, pid_t child, long nr,
			 unsigned int timeout_ms)
{
	uint64_t deadline = ct_now_ns() + (uint64_t)timeout_ms * CT_MS;
	char path[128], buf[512];
	int consecutive = 0;

	for (;;) {
		long cur = -2;
		char state = '?';
		ssize_t n;
		char *p;
		int fd;

		if (child && ct_exited(child))
			return false;
		snprintf(path, sizeof(path), "%s/syscall", dir);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			ct_sleep_ms(500);
			return !child || !ct_exited(child);
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (buf[0] >= '0' && buf[0] <= '9')
				cur = strtol(buf, NULL, 10);
		}
		snprintf(path, sizeof(path), "%s/stat", dir);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = 0;
				p = strrchr(buf, ')');
				if (p && p[1] == ' ')
					state = p[2];
			}
		}
		/* Two sightings in a row: it is really asleep in there. */
		if (cur == nr && state == 'S') {
			if (++consecutive >= 2)
				return true;
		} else {
			consecutive = 0;
		}
		if (ct_now_ns() > deadline)
			return false;
		ct_sleep_ms(5);
	}
}

/* Wait until our child pid sleeps in system call nr. */
bool ct_wait_blocked(pid_t pid, long nr, unsigned int timeout_ms)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
	return ct_wait_dir_blocked(dir, pid, nr, timeout_ms);
}

/* Wait until thread tid of this process sleeps in system call nr. */
bool ct_wait_thread_blocked(pid_t tid, long nr,
			    unsigned int timeout_ms)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/proc/self/task/%d", (int)tid);
	return ct_wait_dir_blocked(dir, 0, nr, timeout_ms);
}

/* Drop to uid/gid CT_NOBODY: root capabilities go with the uid. */
int ct_drop_privs(const gid_t *groups, size_t ngroups)
{
	if (setgroups(ngroups, groups))
		return -1;
	if (setresgid(CT_NOBODY, CT_NOBODY, CT_NOBODY))
		return -1;
	if (setresuid(CT_NOBODY, CT_NOBODY, CT_NOBODY))
		return -1;
	return 0;
}

/*
 * Unprivileged children open /dev/chan themselves: make sure its mode lets
 * them. Returns the mode to give back to ct_dev_restore() (0: unchanged).
 */
mode_t ct_dev_allow_all(void)
{
	struct stat st;

	if (stat(CHAN_DEV_PATH, &st))
		return 0;
	if ((st.st_mode & 0006) == 0006)
		return 0;
	if (chmod(CHAN_DEV_PATH, (st.st_mode & 07777) | 0006))
		return 0;
	return (st.st_mode & 07777) | S_IFCHR;
}

void ct_dev_restore(mode_t saved)
{
	if (saved)
		chmod(CHAN_DEV_PATH, saved & 07777);
}

/* A signal handler that only interrupts (no SA_RESTART). */
static void ct_noop_handler(int sig)
{
	(void)sig;
}

int ct_install_interrupting(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ct_noop_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	return sigaction(sig, &sa, NULL);
}

/*
 * A handler installed with SA_RESTART: a call it interrupts is restarted
 * (unless the call's own rules say otherwise). If hits is not NULL, every
 * delivery adds one to *hits (put it in ct_shared_alloc() memory to see it
 * from another process).
 */
static uint64_t *ct_restart_hits;

static void ct_counting_handler(int sig)
{
	(void)sig;
	if (ct_restart_hits)
		__atomic_add_fetch(ct_restart_hits, 1, __ATOMIC_RELAXED);
}

int ct_install_restarting(int sig, uint64_t *hits)
{
	struct sigaction sa;

	ct_restart_hits = hits;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ct_counting_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(sig, &sa, NULL);
}

/* A /proc/meminfo figure in KiB ("MemAvailable"...), -1 if not found. */
long long ct_meminfo_kb(const char *key)
{
	char line[256];
	long long v = -1;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoll(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The state letter of /proc/PID/stat ('S', 'R', 'T', ...), 0 if unknown. */
char ct_proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Wait until child pid is stopped ('T'); false if it exited or timed out. */
bool ct_wait_stopped(pid_t pid, unsigned int timeout_ms)
{
	uint64_t deadline = ct_now_ns() + (uint64_t)timeout_ms * CT_MS;

	for (;;) {
		if (ct_exited(pid))
			return false;
		if (ct_proc_state(pid) == 'T')
			return true;
		if (ct_now_ns() > deadline)
			return false;
		ct_sleep_ms(2);
	}
}

/* Shared anonymous memory that survives fork(). */
void *ct_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ---- module parameters ---- */

int ct_read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

int ct_param_read(const char *name, unsigned long long *val)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), CHAN_PARAM_DIR "%s", name);
	if (ct_read_text(path, buf, sizeof(buf)))
		return -1;
	*val = strtoull(buf, NULL, 0);
	return 0;
}

int ct_param_write(const char *name, unsigned long long val)
{
	char path[128], buf[64];
	ssize_t n;
	int fd, len;

	snprintf(path, sizeof(path), CHAN_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%llu\n", val);
	n = write(fd, buf, len);
	close(fd);
	return n == len ? 0 : -1;
}

/*
 * Read a module parameter that an older module may not have: returns
 * false (and leaves *val alone) if it does not exist.
 */
bool ct_param_read_opt(const char *name, unsigned long long *val)
{
	return ct_param_read(name, val) == 0;
}

/* An unmapped user address the compiler cannot see through. */
void *ct_bad_ptr(void)
{
	uintptr_t p = 8;

	__asm__("" : "+r" (p));
	return (void *)p;
}

/* fcntl helpers */
bool ct_has_cloexec(int fd)
{
	return fcntl(fd, F_GETFD) & FD_CLOEXEC;
}

bool ct_has_nonblock(int fd)
{
	return fcntl(fd, F_GETFL) & O_NONBLOCK;
}

/* poll one fd with a zero timeout; returns revents (or -1). */
int ct_poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret = poll(&p, 1, 0);

	if (ret < 0)
		return -1;
	return ret ? p.revents : 0;
}

/* ---- a valid argument for each ioctl ---- */

void ct_abi_fill(unsigned long cmd, size_t size,
		 const struct ct_abi_target *t, void *arg)
{
	uint32_t id = t->on_fd ? 0 : t->id;

	memset(arg, 0, size);
	switch (cmd) {
	case CHAN_IOC_CREATE: {
		struct chan_create *c = arg;

		c->msg_size = 8;
		c->capacity = 2;
		c->mode = 0600;
		break;
	}
	case CHAN_IOC_OPEN: {
		struct chan_open *o = arg;

		o->id = t->id;
		o->roles = CHAN_ROLE_SEND | CHAN_ROLE_RECV;
		break;
	}
	case CHAN_IOC_SEND:
	case CHAN_IOC_RECV: {
		struct chan_msg *m = arg;

		m->id = id;
		if (cmd == CHAN_IOC_SEND) {
			m->len = t->slen;
			m->buf = (uintptr_t)t->sbuf;
		} else {
			m->len = t->rlen;
			m->buf = (uintptr_t)t->rbuf;
		}
		m->flags = CHAN_MSG_NONBLOCK;
		break;
	}
	case CHAN_IOC_DESTROY: {
		struct chan_destroy *d = arg;

		d->id = t->destroy_id;
		break;
	}
	case CHAN_IOC_INFO: {
		struct chan_info *i = arg;

		i->id = id;
		break;
	}
	case CHAN_IOC_CLOSE: {
		struct chan_close *c = arg;

		c->id = id;
		break;
	}
	case CHAN_IOC_LOOKUP: {
		struct chan_lookup *l = arg;

		memcpy(l->name, t->name, strnlen(t->name, sizeof(l->name)));
		break;
	}
	case CHAN_IOC_WAKE: {
		struct chan_wake *w = arg;

		w->id = id;
		w->roles = CHAN_ROLE_SEND | CHAN_ROLE_RECV;
		break;
	}
	case CHAN_IOC_SEND_BATCH:
	case CHAN_IOC_RECV_BATCH: {
		struct chan_batch *b = arg;

		b->id = id;
		b->count = 1;
		b->vec = (uintptr_t)t->iov;
		b->flags = CHAN_MSG_NONBLOCK;
		memset(t->iov, 0, sizeof(*t->iov));
		if (cmd == CHAN_IOC_SEND_BATCH) {
			t->iov->buf = (uintptr_t)t->sbuf;
			t->iov->len = t->slen;
		} else {
			t->iov->buf = (uintptr_t)t->rbuf;
			t->iov->len = t->rlen;
		}
		break;
	}
	case CHAN_IOC_CALL: {
		struct chan_call *c = arg;

		/* A request to the channel itself, whose reply is queued. */
		c->id = id;
		c->reply_id = id;
		c->reply_fd = t->on_fd ? t->chfd : -1;
		c->send_buf = (uintptr_t)t->sbuf;
		c->send_len = t->slen;
		c->recv_buf = (uintptr_t)t->rbuf;
		c->recv_len = t->rlen;
		c->flags = CHAN_MSG_NONBLOCK;
		break;
	}
	}
	((uint32_t *)arg)[0] = size;
}

void ct_abi_cleanup(int dev, int chfd, uint32_t id,
		    const uint32_t *created, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ct_destroy(dev, created[i]);
	if (chfd >= 0)
		close(chfd);
	if (id)
		ct_destroy(dev, id);
	if (dev >= 0)
		close(dev);
}

/* ---- one blocking operation in a child process ---- */

int ct_op_run(const struct ct_op *op)
{
	uint64_t v = op->value;
	uint32_t len = sizeof(v);
	ssize_t n;
	int ret = 0, i;

	for (i = 0; i < op->nclose; i++)
		close(op->close_fd[i]);
	if (ct_install_interrupting(SIGUSR1))
		return CT_EXIT_SETUP;
	signal(SIGPIPE, SIG_IGN);
	switch (op->kind) {
	case CT_OP_SEND:
		ret = ct_send(op->fd, op->id, &v, sizeof(v), op->flags,
			      op->timeout_ns);
		break;
	case CT_OP_RECV:
		ret = ct_recv(op->fd, op->id, &v, &len, op->flags,
			      op->timeout_ns);
		break;
	case CT_OP_WRITE:
		n = write(op->fd, &v, sizeof(v));
		ret = n < 0 ? -1 : 0;
		break;
	case CT_OP_READ:
		n = read(op->fd, &v, sizeof(v));
		ret = n < 0 ? -1 : 0;
		if (n >= 0)
			len = n;
		break;
	}
	if (ret)
		return errno ? errno : CT_EXIT_SETUP;
	if (len != sizeof(v))
		return CT_EXIT_BADDATA;
	if (op->result)
		*op->result = v;
	return 0;
}

pid_t ct_op_spawn(const struct ct_op *op)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		_exit(ct_op_run(op));
	return pid;
}

int ct_op_spawn_blocked(const struct ct_op *op, pid_t *slot, long nr,
			unsigned int timeout_ms)
{
	*slot = ct_op_spawn(op);
	if (*slot <= 0)
		return -1;
	return ct_wait_blocked(*slot, nr, timeout_ms) ? 0 : -1;
}

int ct_spawn_waiters(const struct ct_waiters *w, pid_t *pid,
		     unsigned int timeout_ms)
{
	bool send = w->op.kind == CT_OP_SEND;
	struct ct_op op = w->op;
	int i, n = 0;

	for (i = 0; i < w->n_fd; i++)
		pid[n++] = ct_op_spawn(&op);
	op.fd = w->dev;
	op.id = w->id;
	op.value = w->id_value;
	op.result = w->id_result;
	for (i = 0; i < w->n_id; i++)
		pid[n++] = ct_op_spawn(&op);
	op = w->op;
	op.kind = send ? CT_OP_WRITE : CT_OP_READ;
	pid[n++] = ct_op_spawn(&op);
	for (i = 0; i < n; i++) {
		long nr = i < n - 1 ? SYS_ioctl : send ? SYS_write : SYS_read;

		if (pid[i] <= 0 || !ct_wait_blocked(pid[i], nr, timeout_ms)) {
			fprintf(stderr, "# waiter %d of %d did not block\n",
				i, n);
			return -1;
		}
	}
	return n;
}

int ct_reap(pid_t *slot, unsigned int timeout_ms)
{
	int ret = ct_wait_exit(*slot, timeout_ms);

	*slot = 0;
	return ret;
}

void ct_reap_all(pid_t *slots, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (slots[i] > 0)
			ct_kill_wait(slots[i]);
		slots[i] = 0;
	}
}

/* ---- the module itself ---- */

const char *ct_mod_path(void)
{
	const char *ko = getenv("CHAN_KO");

	return ko && *ko ? ko : "/lib/modules/chan.ko";
}

bool ct_mod_loaded(void)
{
	struct stat st;

	return stat("/sys/module/" CT_MOD_NAME, &st) == 0;
}

int ct_mod_load(void)
{
	struct stat st;
	int fd, ret, i;

	fd = open(ct_mod_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	if (ret)
		return ret;
	/* the device node comes with the misc device; allow it a moment */
	for (i = 0; i < 500 && stat(CHAN_DEV_PATH, &st); i++)
		ct_sleep_ms(10);
	return 0;
}

int ct_mod_unload(void)
{
	return syscall(SYS_delete_module, CT_MOD_NAME, O_NONBLOCK);
}

bool ct_mod_unload_refused(int err)
{
	return err == EWOULDBLOCK || err == EAGAIN || err == EBUSY;
}

int ct_mod_unload_retry(unsigned int timeout_ms)
{
	uint64_t deadline = ct_now_ns() + (uint64_t)timeout_ms * CT_MS;

	for (;;) {
		if (ct_mod_unload() == 0)
			return 0;
		if (!ct_mod_unload_refused(errno))
			return -1;
		if (ct_now_ns() > deadline)
			return -1;
		ct_sleep_ms(20);
	}
}

/* ---- choosing tests from the command line ---- */

#define CT_MAX_FILTERS	32

static struct {
	const char *f[CT_MAX_FILTERS], *v[CT_MAX_FILTERS];
	const char *t[CT_MAX_FILTERS], *r[CT_MAX_FILTERS];
	int nf, nv, nt, nr;
	bool list;
	/* the test whose RUN line came last, and whether it is chosen */
	bool in_test, chosen;
	/* its child not forked yet: the next fork is the harness's */
	bool fork_pending;
	unsigned int number;		/* results printed */
	char line[4096];		/* a partial output line */
	size_t len;
} ct_flt;

static bool ct_in(const char *const *list, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/* full: "FIXTURE.VARIANT.TEST" or "FIXTURE.TEST" (names hold no dot). */
static bool ct_chosen(const char *full)
{
	char f[256], v[256] = "", t[256], short_name[512];
	const char *d1 = strchr(full, '.'), *d2;

	if (!d1 || d1 - full >= (long)sizeof(f))
		return false;
	snprintf(f, sizeof(f), "%.*s", (int)(d1 - full), full);
	d2 = strchr(d1 + 1, '.');
	if (d2) {
		snprintf(v, sizeof(v), "%.*s", (int)(d2 - d1 - 1), d1 + 1);
		snprintf(t, sizeof(t), "%s", d2 + 1);
	} else {
		snprintf(t, sizeof(t), "%s", d1 + 1);
	}
	snprintf(short_name, sizeof(short_name), "%s.%s", f, t);
	return ct_in(ct_flt.f, ct_flt.nf, f) ||
	       (*v && ct_in(ct_flt.v, ct_flt.nv, v)) ||
	       ct_in(ct_flt.t, ct_flt.nt, t) ||
	       ct_in(ct_flt.r, ct_flt.nr, full) ||
	       ct_in(ct_flt.r, ct_flt.nr, short_name);
}

static void ct_out(const char *s, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(STDOUT_FILENO, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= w;
	}
}

/* One complete line of the harness's output (without its newline). */
static void ct_filter_line(char *l)
{
	static const char run[] = "#  RUN ";
	char buf[sizeof(ct_flt.line) + 32], *p, *e;
	bool ok = !strncmp(l, "ok ", 3), not_ok = !strncmp(l, "not ok ", 7);
	int n;

	if (!strncmp(l, run, sizeof(run) - 1)) {
		p = l + sizeof(run) - 1;
		p += strspn(p, " ");
		e = p + strcspn(p, " ");
		*e = 0;
		ct_flt.in_test = true;
		ct_flt.chosen = !ct_flt.list && ct_chosen(p);
		ct_flt.fork_pending = true;
		if (ct_flt.list) {
			n = snprintf(buf, sizeof(buf), "%s\n", p);
			ct_out(buf, n);
		}
		*e = ' ';
	}
	if (ct_flt.list)
		return;
	if (ok || not_ok) {
		/* "ok N rest": print it with our own number. */
		if (ct_flt.chosen) {
			p = l + (ok ? 3 : 7);
			p += strspn(p, "0123456789");
			n = snprintf(buf, sizeof(buf), "%s %u%s\n",
				     ok ? "ok" : "not ok", ++ct_flt.number, p);
			ct_out(buf, n);
		}
		ct_flt.in_test = false;
		return;
	}
	/* The harness's plan, counts and totals speak of every test. */
	if (!strncmp(l, "1..", 3) || !strncmp(l, "# Starting ", 11) ||
	    !strncmp(l, "# Totals:", 9) || !strncmp(l, "# PASSED:", 9) ||
	    !strncmp(l, "# FAILED:", 9))
		return;
	if (!ct_flt.in_test || ct_flt.chosen) {
		ct_out(l, strlen(l));
		ct_out("\n", 1);
	}
}

static ssize_t ct_filter_write(void *cookie, const char *buf, size_t size)
{
	size_t i;

	(void)cookie;
	for (i = 0; i < size; i++) {
		if (buf[i] == '\n' || ct_flt.len == sizeof(ct_flt.line) - 1) {
			ct_flt.line[ct_flt.len] = 0;
			ct_filter_line(ct_flt.line);
			ct_flt.len = 0;
			if (buf[i] == '\n')
				continue;
		}
		ct_flt.line[ct_flt.len++] = buf[i];
	}
	return size;
}

static void ct_filter_fork_parent(void)
{
	ct_flt.fork_pending = false;
}

/* In the harness's child of a test not chosen: end before it starts. */
static void ct_filter_fork_child(void)
{
	if (!ct_flt.fork_pending)
		return;
	ct_flt.fork_pending = false;
	if (!ct_flt.chosen)
		_exit(0);
}

static void ct_filter_plan(void)
{
	char buf[64];
	int n;

	fflush(stdout);
	if (ct_flt.list)
		return;
	n = snprintf(buf, sizeof(buf), "1..%u\n", ct_flt.number);
	ct_out(buf, n);
}

int ct_harness_main(int argc, char **argv, int (*run)(int, char **))
{
	cookie_io_functions_t io = { .write = ct_filter_write };
	FILE *out;
	int opt;

	while ((opt = getopt(argc, argv, "f:v:t:r:lh")) != -1) {
		switch (opt) {
		case 'f':
			if (ct_flt.nf < CT_MAX_FILTERS)
				ct_flt.f[ct_flt.nf++] = optarg;
			break;
		case 'v':
			if (ct_flt.nv < CT_MAX_FILTERS)
				ct_flt.v[ct_flt.nv++] = optarg;
			break;
		case 't':
			if (ct_flt.nt < CT_MAX_FILTERS)
				ct_flt.t[ct_flt.nt++] = optarg;
			break;
		case 'r':
			if (ct_flt.nr < CT_MAX_FILTERS)
				ct_flt.r[ct_flt.nr++] = optarg;
			break;
		case 'l':
			ct_flt.list = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-l] [-f FIXTURE] [-v VARIANT] "
				"[-t TEST] [-r FIXTURE[.VARIANT].TEST]\n",
				argv[0]);
			exit(opt == 'h' ? 0 : 2);
		}
	}
	if (!ct_flt.list && !ct_flt.nf && !ct_flt.nv && !ct_flt.nt &&
	    !ct_flt.nr)
		return run(argc, argv);

	fflush(stdout);
	out = fopencookie(NULL, "w", io);
	if (!out || pthread_atfork(NULL, ct_filter_fork_parent,
				   ct_filter_fork_child) ||
	    atexit(ct_filter_plan)) {
		perror("cannot set up the test filter");
		return 2;
	}
	setvbuf(out, NULL, _IONBF, 0);
	stdout = out;
	return run(1, argv);
}
