/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the chan selftests: thin wrappers around the raw
 * ioctls (so every test sees exactly what the ABI returns), process and
 * timing helpers, and errno assertions in the manner of the iommufd
 * selftest.
 *
 * The wrappers return what ioctl(2) returns: -1 with errno set on failure.
 * Helpers that fork never let a child return into the harness: children
 * report through their exit status (0 = success, else an errno or one of
 * the CT_EXIT_* codes) and leave with _exit().
 */
#ifndef CHAN_TEST_UTIL_H
#define CHAN_TEST_UTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/chan.h>

/* The harness itself is not -Wextra clean (an unused handler argument). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define CHAN_DEV_PATH		"/dev/chan"
#define CHAN_PARAM_DIR		"/sys/module/chan/parameters/"

/* uid/gid an unprivileged child drops to */
#define CT_NOBODY		65534

/* Exit codes of helper children beyond plain errno values (all < 256). */
#define CT_EXIT_BADDATA		200	/* received the wrong payload */
#define CT_EXIT_UNEXPECTED_OK	201	/* a call succeeded that should fail */
#define CT_EXIT_SETUP		202	/* the child could not set itself up */

/* What ct_wait_exit() returns when the child did not exit in time. */
#define CT_WAIT_TIMEOUT		(-1)

#define CT_MS			1000000ULL	/* ns per ms */
#define CT_SEC			1000000000ULL	/* ns per s */

/*
 * ASSERT that cmd fails (returns -1) and EXPECT errno to be expected_errno.
 * errno is sampled right after cmd, before the harness can touch it.
 */
#define EXPECT_ERRNO(expected_errno, cmd)				\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		ASSERT_EQ(-1, __ret);					\
		EXPECT_EQ(expected_errno, __err);			\
	})

#define ASSERT_ERRNO(expected_errno, cmd)				\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		ASSERT_EQ(-1, __ret);					\
		ASSERT_EQ(expected_errno, __err);			\
	})

/* EXPECT_ERRNO that logs a line of context (printf-style) when it fails. */
#define EXPECT_ERRNO_CTX(expected_errno, cmd, fmt, ...)			\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		if (__ret != -1 || __err != (expected_errno))		\
			TH_LOG(fmt, ##__VA_ARGS__);			\
		ASSERT_EQ(-1, __ret);					\
		EXPECT_EQ(expected_errno, __err);			\
	})

/* ASSERT that cmd returned 0; log errno when it did not. */
#define ASSERT_OK(cmd)							\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		if (__ret != 0)						\
			TH_LOG("%s failed: ret %ld errno %d (%s)", #cmd,	\
			       __ret, __err, strerror(__err));		\
		ASSERT_EQ(0, __ret);					\
	})

#define EXPECT_OK(cmd)							\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		if (__ret != 0)						\
			TH_LOG("%s failed: ret %ld errno %d (%s)", #cmd,	\
			       __ret, __err, strerror(__err));		\
		EXPECT_EQ(0, __ret);					\
	})

/* ---- /dev/chan and the raw ioctls ---- */

static inline int ct_dev_open(void)
{
	return open(CHAN_DEV_PATH, O_RDWR | O_CLOEXEC);
}

static inline int ct_create_raw(int dev, struct chan_create *c)
{
	c->size = sizeof(*c);
	return ioctl(dev, CHAN_IOC_CREATE, c);
}

/* Create a channel; name may be NULL. *id gets the new ID. */
static inline int ct_create(int dev, uint32_t msg_size, uint32_t capacity,
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
		*id = c.id;
	return ret;
}

/* Anonymous channel, mode 0600, no flags: the common case. */
static inline int ct_create_simple(int dev, uint32_t msg_size,
				   uint32_t capacity, uint32_t *id)
{
	return ct_create(dev, msg_size, capacity, 0600, 0, 0, NULL, id);
}

/* Returns a channel fd or -1. */
static inline int ct_open(int dev, uint32_t id, uint32_t roles,
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
static inline int ct_send(int fd, uint32_t id, const void *buf, uint32_t len,
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
static inline int ct_recv(int fd, uint32_t id, void *buf, uint32_t *len,
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
static inline int ct_send_u64(int fd, uint32_t id, uint64_t v, uint32_t flags)
{
	return ct_send(fd, id, &v, sizeof(v), flags, 0);
}

static inline int ct_recv_u64(int fd, uint32_t id, uint64_t *v,
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

static inline int ct_destroy(int dev, uint32_t id)
{
	struct chan_destroy d = { .size = sizeof(d), .id = id };

	return ioctl(dev, CHAN_IOC_DESTROY, &d);
}

static inline int ct_info(int fd, uint32_t id, uint32_t flags,
			  struct chan_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->flags = flags;
	info->id = id;
	return ioctl(fd, CHAN_IOC_INFO, info);
}

static inline int ct_lookup(int dev, const char *name, uint32_t *id)
{
	struct chan_lookup l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	memcpy(l.name, name, strnlen(name, sizeof(l.name) - 1));
	ret = ioctl(dev, CHAN_IOC_LOOKUP, &l);
	if (ret == 0 && id)
		*id = l.id;
	return ret;
}

/* A name unique to this process, so parallel and repeated runs never clash. */
static inline void ct_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "ct-%d-%s", (int)getpid(), what);
}

/* ---- time ---- */

static inline uint64_t ct_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * CT_SEC + (uint64_t)ts.tv_nsec;
}

static inline void ct_sleep_ms(unsigned int ms)
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
static inline int ct_exit_code(int status)
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
static inline int ct_wait_exit(pid_t pid, unsigned int timeout_ms)
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
static inline bool ct_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT))
		return true;
	return si.si_pid == pid;
}

static inline void ct_kill_wait(pid_t pid)
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
static inline bool ct_wait_dir_blocked(const char *dir, pid_t child, long nr,
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
static inline bool ct_wait_blocked(pid_t pid, long nr, unsigned int timeout_ms)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
	return ct_wait_dir_blocked(dir, pid, nr, timeout_ms);
}

/* Wait until thread tid of this process sleeps in system call nr. */
static inline bool ct_wait_thread_blocked(pid_t tid, long nr,
					  unsigned int timeout_ms)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/proc/self/task/%d", (int)tid);
	return ct_wait_dir_blocked(dir, 0, nr, timeout_ms);
}

/* Drop to uid/gid CT_NOBODY: root capabilities go with the uid. */
static inline int ct_drop_privs(const gid_t *groups, size_t ngroups)
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
static inline mode_t ct_dev_allow_all(void)
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

static inline void ct_dev_restore(mode_t saved)
{
	if (saved)
		chmod(CHAN_DEV_PATH, saved & 07777);
}

/* A signal handler that only interrupts (no SA_RESTART). */
static inline void ct_noop_handler(int sig)
{
	(void)sig;
}

static inline int ct_install_interrupting(int sig)
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

static inline void ct_counting_handler(int sig)
{
	(void)sig;
	if (ct_restart_hits)
		__atomic_add_fetch(ct_restart_hits, 1, __ATOMIC_RELAXED);
}

static inline int ct_install_restarting(int sig, uint64_t *hits)
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
static inline long long ct_meminfo_kb(const char *key)
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
static inline char ct_proc_state(pid_t pid)
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
static inline bool ct_wait_stopped(pid_t pid, unsigned int timeout_ms)
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
static inline void *ct_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ---- module parameters ---- */

static inline int ct_param_read(const char *name, unsigned long long *val)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), CHAN_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	*val = strtoull(buf, NULL, 0);
	return 0;
}

static inline int ct_param_write(const char *name, unsigned long long val)
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
static inline bool ct_param_read_opt(const char *name, unsigned long long *val)
{
	return ct_param_read(name, val) == 0;
}

/* An unmapped user address the compiler cannot see through. */
static inline void *ct_bad_ptr(void)
{
	uintptr_t p = 8;

	__asm__("" : "+r" (p));
	return (void *)p;
}

/* fcntl helpers */
static inline bool ct_has_cloexec(int fd)
{
	return fcntl(fd, F_GETFD) & FD_CLOEXEC;
}

static inline bool ct_has_nonblock(int fd)
{
	return fcntl(fd, F_GETFL) & O_NONBLOCK;
}

/* poll one fd with a zero timeout; returns revents (or -1). */
static inline int ct_poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret = poll(&p, 1, 0);

	if (ret < 0)
		return -1;
	return ret ? p.revents : 0;
}

/* ---- one blocking operation in a child process ---- */

enum ct_op_kind {
	CT_OP_SEND,	/* SEND ioctl of value */
	CT_OP_RECV,	/* RECV ioctl, value stored in *result */
	CT_OP_WRITE,	/* write(2) of value */
	CT_OP_READ,	/* read(2), value stored in *result */
};

/*
 * What a helper child does: close the fds it inherited but must not hold
 * (an inherited endpoint would keep its role connected), then one send or
 * receive. It exits with 0, the errno of the failed call, or
 * CT_EXIT_BADDATA when a message of the wrong length arrived.
 */
struct ct_op {
	int kind;
	int fd;
	uint32_t id;
	uint32_t flags;
	uint64_t timeout_ns;
	uint64_t value;
	uint64_t *result;	/* shared memory, or NULL */
	int nclose;
	int close_fd[6];
};

static inline int ct_op_run(const struct ct_op *op)
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

static inline pid_t ct_op_spawn(const struct ct_op *op)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		_exit(ct_op_run(op));
	return pid;
}

/*
 * Children a test must not leave behind: reap one with ct_reap() (which
 * clears its slot), kill the rest with ct_reap_all() in the teardown.
 */
#define CT_MAX_CHILDREN	16

static inline int ct_reap(pid_t *slot, unsigned int timeout_ms)
{
	int ret = ct_wait_exit(*slot, timeout_ms);

	*slot = 0;
	return ret;
}

static inline void ct_reap_all(pid_t *slots, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (slots[i] > 0)
			ct_kill_wait(slots[i]);
		slots[i] = 0;
	}
}

/* ---- choosing tests from the command line ---- */

/*
 * The 6.1 harness runs every test and ignores its arguments. CT_HARNESS_MAIN
 * adds the newer harness's filters: -f FIXTURE, -v VARIANT, -t TEST,
 * -r FIXTURE[.VARIANT].TEST (each may repeat; a test runs if it matches
 * any), and -l to list the tests.
 */
#define CT_MAX_FILTERS	32

struct ct_filters {
	const char *f[CT_MAX_FILTERS], *v[CT_MAX_FILTERS];
	const char *t[CT_MAX_FILTERS], *r[CT_MAX_FILTERS];
	int nf, nv, nt, nr;
};

static inline bool ct_in(const char *const *list, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static inline bool ct_selected(const struct ct_filters *flt,
			       const char *f, const char *v, const char *t)
{
	char full[512], short_name[512];

	snprintf(full, sizeof(full), "%s%s%s.%s", f, *v ? "." : "", v, t);
	snprintf(short_name, sizeof(short_name), "%s.%s", f, t);
	return ct_in(flt->f, flt->nf, f) || (*v && ct_in(flt->v, flt->nv, v)) ||
	       ct_in(flt->t, flt->nt, t) || ct_in(flt->r, flt->nr, full) ||
	       ct_in(flt->r, flt->nr, short_name);
}

/* Relink a harness list (next NULL-terminated, head->prev = last). */
#define CT_RELINK(head, keep, n)					\
	do {								\
		int __i;						\
		(head) = (n) ? (keep)[0] : NULL;			\
		for (__i = 0; __i < (n); __i++) {			\
			(keep)[__i]->next = __i + 1 < (n) ?		\
				(keep)[__i + 1] : NULL;			\
			(keep)[__i]->prev = (keep)[__i ? __i - 1 : (n) - 1]; \
		}							\
	} while (0)

static inline void ct_filter_tests(int argc, char **argv)
{
	static struct __fixture_variant_metadata no_variant = { .name = "" };
	struct __fixture_variant_metadata *v, *vkeep[256];
	struct __test_metadata *t, *tkeep[512];
	struct __fixture_metadata *f;
	struct ct_filters flt = { .nf = 0 };
	bool list = false;
	int opt, nv, nt;

	while ((opt = getopt(argc, argv, "f:v:t:r:lh")) != -1) {
		switch (opt) {
		case 'f':
			if (flt.nf < CT_MAX_FILTERS)
				flt.f[flt.nf++] = optarg;
			break;
		case 'v':
			if (flt.nv < CT_MAX_FILTERS)
				flt.v[flt.nv++] = optarg;
			break;
		case 't':
			if (flt.nt < CT_MAX_FILTERS)
				flt.t[flt.nt++] = optarg;
			break;
		case 'r':
			if (flt.nr < CT_MAX_FILTERS)
				flt.r[flt.nr++] = optarg;
			break;
		case 'l':
			list = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-l] [-f FIXTURE] [-v VARIANT] "
				"[-t TEST] [-r FIXTURE[.VARIANT].TEST]\n",
				argv[0]);
			exit(opt == 'h' ? 0 : 2);
		}
	}
	if (list) {
		for (f = __fixture_list; f; f = f->next)
			for (v = f->variant ?: &no_variant; v; v = v->next)
				for (t = f->tests; t; t = t->next)
					printf("%s%s%s.%s\n", f->name,
					       v->name[0] ? "." : "", v->name,
					       t->name);
		exit(0);
	}
	if (!flt.nf && !flt.nv && !flt.nt && !flt.nr)
		return;
	for (f = __fixture_list; f; f = f->next) {
		nv = 0;
		for (v = f->variant ?: &no_variant; v; v = v->next) {
			for (t = f->tests; t; t = t->next)
				if (ct_selected(&flt, f->name, v->name, t->name))
					break;
			if (t && nv < 256)
				vkeep[nv++] = v;
		}
		nt = 0;
		for (t = f->tests; t; t = t->next) {
			for (v = f->variant ?: &no_variant; v; v = v->next)
				if (ct_selected(&flt, f->name, v->name, t->name))
					break;
			if (v && nt < 512)
				tkeep[nt++] = t;
		}
		if (!nv || !nt) {
			f->tests = NULL;	/* keeps its variants: none run */
			continue;
		}
		if (f->variant)
			CT_RELINK(f->variant, vkeep, nv);
		CT_RELINK(f->tests, tkeep, nt);
	}
}

#define CT_HARNESS_MAIN							\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		ct_filter_tests(argc, argv);				\
		return test_harness_run(argc, argv);			\
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
		*id = c.id;
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
