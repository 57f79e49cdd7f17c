/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helpers shared by the chan selftests, compiled once (chan_test_lib.c,
 * into libct.a): thin wrappers around the raw ioctls (so every test sees
 * exactly what the ABI returns), process and timing helpers.  Tests include
 * chan_test_util.h, which adds the kselftest harness and the errno
 * assertions; this header stays free of the harness, which defines global
 * symbols and so may be included by one file of a binary only.
 *
 * The wrappers return what ioctl(2) returns: -1 with errno set on failure.
 * Helpers that fork never let a child return into the harness: children
 * report through their exit status (0 = success, else an errno or one of
 * the CT_EXIT_* codes) and leave with _exit().
 */
#ifndef CHAN_TEST_LIB_H
#define CHAN_TEST_LIB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

/* ---- /dev/chan and the raw ioctls ---- */

int ct_dev_open(void);

int ct_create_raw(int dev, struct chan_create *c);

/* Create a channel; name may be NULL. *id gets the new ID. */
int ct_create(int dev, uint32_t msg_size, uint32_t capacity,
	      uint32_t mode, uint32_t flags, uint64_t type_tag,
	      const char *name, uint32_t *id);

/* Anonymous channel, mode 0600, no flags: the common case. */
int ct_create_simple(int dev, uint32_t msg_size,
		     uint32_t capacity, uint32_t *id);

/* Returns a channel fd or -1. */
int ct_open(int dev, uint32_t id, uint32_t roles,
	    uint32_t flags, uint64_t type_tag);

/*
 * Open a SEND endpoint into *sfd and a RECV endpoint into *rfd (no flags,
 * no tag): 0, or -1 if either failed (its fd is then -1).
 */
int ct_open_pair(int dev, uint32_t id, int *sfd, int *rfd);

/* fd is /dev/chan (id set) or a channel fd (id 0). */
int ct_send(int fd, uint32_t id, const void *buf, uint32_t len,
	    uint32_t flags, uint64_t timeout_ns);

/* *len: in the buffer size, out the message length (also on EMSGSIZE). */
int ct_recv(int fd, uint32_t id, void *buf, uint32_t *len,
	    uint32_t flags, uint64_t timeout_ns);

/* One 64-bit value per message: the shape most tests use. */
int ct_send_u64(int fd, uint32_t id, uint64_t v, uint32_t flags);

int ct_recv_u64(int fd, uint32_t id, uint64_t *v,
		uint32_t flags);

int ct_destroy(int dev, uint32_t id);

int ct_info(int fd, uint32_t id, uint32_t flags,
	    struct chan_info *info);

int ct_lookup(int dev, const char *name, uint32_t *id);

/* A name unique to this process, so parallel and repeated runs never clash. */
void ct_name(char *buf, size_t len, const char *what);

/* ---- time ---- */

uint64_t ct_now_ns(void);

void ct_sleep_ms(unsigned int ms);

/* ---- processes ---- */

/* A waitpid() status as an exit code: the status, or 128 + the signal. */
int ct_exit_code(int status);

/*
 * Wait up to timeout_ms for pid to exit. Returns its exit code, 128 + the
 * signal that killed it, or CT_WAIT_TIMEOUT (the child is then killed and
 * reaped so it never outlives the test).
 */
int ct_wait_exit(pid_t pid, unsigned int timeout_ms);

/* Has pid exited (without reaping it)? */
bool ct_exited(pid_t pid);

void ct_kill_wait(pid_t pid);

/*
 * Wait until the task whose /proc directory is dir sleeps inside system
 * call nr (e.g. SYS_ioctl), as shown by dir/syscall and the 'S' state in
 * dir/stat. child, if not 0, is our child process: stop if it exits.
 * Without those files, wait a fixed 500 ms instead. Returns true once the
 * task is seen blocked, false if it exited or timeout_ms passed.
 */
bool ct_wait_dir_blocked(const char *dir, pid_t child, long nr,
			 unsigned int timeout_ms);

/* Wait until our child pid sleeps in system call nr. */
bool ct_wait_blocked(pid_t pid, long nr, unsigned int timeout_ms);

/* Wait until thread tid of this process sleeps in system call nr. */
bool ct_wait_thread_blocked(pid_t tid, long nr,
			    unsigned int timeout_ms);

/* Drop to uid/gid CT_NOBODY: root capabilities go with the uid. */
int ct_drop_privs(const gid_t *groups, size_t ngroups);

/*
 * Unprivileged children open /dev/chan themselves: make sure its mode lets
 * them. Returns the mode to give back to ct_dev_restore() (0: unchanged).
 */
mode_t ct_dev_allow_all(void);

void ct_dev_restore(mode_t saved);

/* A signal handler that only interrupts (no SA_RESTART). */
int ct_install_interrupting(int sig);

/*
 * A handler installed with SA_RESTART: a call it interrupts is restarted
 * (unless the call's own rules say otherwise). If hits is not NULL, every
 * delivery adds one to *hits (put it in ct_shared_alloc() memory to see it
 * from another process).
 */
int ct_install_restarting(int sig, uint64_t *hits);

/* A /proc/meminfo figure in KiB ("MemAvailable"...), -1 if not found. */
long long ct_meminfo_kb(const char *key);

/* The state letter of /proc/PID/stat ('S', 'R', 'T', ...), 0 if unknown. */
char ct_proc_state(pid_t pid);

/* Wait until child pid is stopped ('T'); false if it exited or timed out. */
bool ct_wait_stopped(pid_t pid, unsigned int timeout_ms);

/* Shared anonymous memory that survives fork(). */
void *ct_shared_alloc(size_t len);

/* ---- module parameters ---- */

/* Read a small text file (sysfs) into buf, NUL-terminated: 0, or -1. */
int ct_read_text(const char *path, char *buf, size_t len);

int ct_param_read(const char *name, unsigned long long *val);

int ct_param_write(const char *name, unsigned long long val);

/*
 * Read a module parameter that an older module may not have: returns
 * false (and leaves *val alone) if it does not exist.
 */
bool ct_param_read_opt(const char *name, unsigned long long *val);

/* An unmapped user address the compiler cannot see through. */
void *ct_bad_ptr(void);

/* fcntl helpers */
bool ct_has_cloexec(int fd);

bool ct_has_nonblock(int fd);

/* poll one fd with a zero timeout; returns revents (or -1). */
int ct_poll_now(int fd, short events);

/* ---- a valid argument for each ioctl (chan_abi_test, chan_fuzz_test) ---- */

/*
 * What differs between the callers of ct_abi_fill(): the channel the
 * call names, whether it goes to the channel's fd (its id field is then
 * 0), the buffers a SEND sends from and a RECV receives into, and the
 * channel a DESTROY destroys.  A batch of one uses *iov.
 */
struct ct_abi_target {
	uint32_t id;
	bool on_fd;
	int chfd;		/* the channel's SEND|RECV fd, for CALL's reply */
	const char *name;	/* the channel's name, for LOOKUP */
	const void *sbuf;
	uint32_t slen;
	void *rbuf;
	uint32_t rlen;
	uint32_t destroy_id;
	struct chan_iov *iov;
};

/*
 * Write a valid argument of cmd at arg: size bytes, zeroed, then the
 * fields the command needs and the size in the first word.
 */
void ct_abi_fill(unsigned long cmd, size_t size,
		 const struct ct_abi_target *t, void *arg);

/*
 * Undo an ABI fixture: destroy the n channels in created[] and the
 * channel id (unless 0), close chfd and dev (unless negative).
 */
void ct_abi_cleanup(int dev, int chfd, uint32_t id,
		    const uint32_t *created, int n);

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

int ct_op_run(const struct ct_op *op);

pid_t ct_op_spawn(const struct ct_op *op);

/*
 * ct_op_spawn() into *slot, then wait until the child sleeps in system
 * call nr: 0, or -1 if it could not be spawned or did not block within
 * timeout_ms (a child is left in *slot for the caller to reap).
 */
int ct_op_spawn_blocked(const struct ct_op *op, pid_t *slot, long nr,
			unsigned int timeout_ms);

/*
 * Waiters of one direction asleep in every way one can sleep there:
 * n_fd children doing op (CT_OP_RECV or CT_OP_SEND on an endpoint), n_id
 * doing it by ID on dev (sending id_value, receiving into id_result),
 * then one in read(2) or write(2) on op's endpoint.
 */
struct ct_waiters {
	struct ct_op op;
	int dev;
	uint32_t id;
	int n_fd, n_id;
	uint64_t id_value;
	uint64_t *id_result;
};

/*
 * Spawn w's waiters into pid[] (in the order above) and wait until each
 * is asleep in its call. Returns how many, or -1 when one could not be
 * spawned or did not block within timeout_ms (what was spawned is in
 * pid[], for the caller to reap).
 */
int ct_spawn_waiters(const struct ct_waiters *w, pid_t *pid,
		     unsigned int timeout_ms);

/*
 * Children a test must not leave behind: reap one with ct_reap() (which
 * clears its slot), kill the rest with ct_reap_all() in the teardown.
 */
#define CT_MAX_CHILDREN	16

int ct_reap(pid_t *slot, unsigned int timeout_ms);

void ct_reap_all(pid_t *slots, int n);

/* ---- the module itself (chan_module_test, chan_chaos_test) ---- */

#define CT_MOD_NAME		"chan"

/* The module file to load: $CHAN_KO, else the VM's /lib/modules/chan.ko. */
const char *ct_mod_path(void);

bool ct_mod_loaded(void);

/* Load ct_mod_path() and wait for /dev/chan: 0, or -1 with errno. */
int ct_mod_load(void);

/* Unload without waiting: 0, or -1 with errno. */
int ct_mod_unload(void);

/* Is err what an unload refused while the module is in use returns? */
bool ct_mod_unload_refused(int err);

/* Unload, retrying while the last fds of killed processes are released. */
int ct_mod_unload_retry(unsigned int timeout_ms);

/* ---- choosing tests from the command line ---- */

/*
 * Run the harness (run: its test_harness_run()) with the filters of newer
 * harnesses, which 6.1's lacks: -f FIXTURE, -v VARIANT, -t TEST,
 * -r FIXTURE[.VARIANT].TEST (each may repeat; a test runs if it matches
 * any), -l to list the tests.  Without them, run(argc, argv) alone.
 *
 * This works from the outside, through what the harness prints and how it
 * runs a test, not through its lists: stdout becomes a stream that reads
 * the harness's "#  RUN  FIXTURE[.VARIANT].TEST ..." line, which is
 * flushed just before the fork of that test's child; a test not chosen
 * ends in that child at once (a pthread_atfork() handler), and its lines
 * are dropped from the output, whose results are numbered anew and whose
 * plan ("1..N") comes last.  The exit status is the harness's.
 */
int ct_harness_main(int argc, char **argv, int (*run)(int, char **));

#endif /* CHAN_TEST_LIB_H */
