// SPDX-License-Identifier: MIT
/*
 * ipc_bench: chan beside the kernel's own IPC, measured inside the test VM.
 *
 * Every mechanism is one row of the table mechs[] below: setup (in the
 * parent, before any fork), attach (in each process that uses the queue,
 * with the roles it needs), send, recv, detach and teardown. Each queue is
 * bounded, blocking and carries whole messages of one size. A new path of
 * chan (the mmap fast path, batches) is one more row; nothing else changes.
 *
 * Workloads, each timed after a warm-up (CLOCK_MONOTONIC, or the TSC):
 *   self      send then receive, in one process            (ns per pair)
 *   pingpong  two processes, one queue each way             (ns per round trip)
 *   stream    P producers to C consumers through one queue  (ns per message)
 *   split     B sends then B receives in one process        (ns per send, per recv)
 *   bcast1x4  one sender, four receiver processes, each of which gets
 *             every message (ns per message delivered: the time over
 *             messages x 4); only the rows that broadcast run it
 *   probe     sub-paths of chan's ioctl, to attribute its cost
 *
 * Under QEMU's -icount shift=0 the guest's TSC advances by one per
 * instruction, user and kernel: with -T tsc every figure is an instruction
 * count. Each measurement starts at the same phase of the kernel's tick
 * (sync_tick()), so the figures repeat from boot to boot.
 *
 * Output: one CSV line per figure on stdout,
 *   R,<workload>,<mechanism>,<msg bytes>,<procs>,<ops>,<total ns>
 * and "# " comment lines describing the configuration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libchan.h>

#define ROLE_SEND	1U
#define ROLE_RECV	2U
#define MSG_MAX		1024U
#define FAN_MAX		4U	/* receivers of the broadcast workload */

static unsigned int capacity = 64;	/* messages a queue holds */

#define BENCH_NAME "ipc_bench"
#include "vm_bench.h"

static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(p, 0, size);
	return p;
}

/* ------------------------------------------------------------------------ */
/* The eventfd queue's shared ring: a per-slot-sequence MPMC ring (Vyukov). */

struct shring {
	_Alignas(64) atomic_long free;	/* free slots; < 0: senders wait */
	_Alignas(64) atomic_ulong tail;
	_Alignas(64) atomic_ulong head;
	_Alignas(64) unsigned long mask;
	size_t stride;
	unsigned char slots[];		/* each: atomic_ulong seq, payload */
};

static atomic_ulong *shring_seq(struct shring *r, unsigned long pos)
{
	return (atomic_ulong *)(r->slots + (pos & r->mask) * r->stride);
}

static struct shring *shring_new(unsigned int cap, unsigned int size)
{
	size_t stride = (sizeof(atomic_ulong) + size + 63) & ~(size_t)63;
	struct shring *r = shared_alloc(sizeof(*r) + cap * stride);
	unsigned long i;

	r->mask = cap - 1;
	r->stride = stride;
	atomic_init(&r->free, cap);
	for (i = 0; i < cap; i++)
		atomic_init(shring_seq(r, i), i);
	return r;
}

/*
 * The eventfd counts guarantee a slot (or a message) exists; a slot can
 * still be held by a slower peer that claimed an earlier position, so wait
 * for it, giving the CPU away.
 */
static void shring_push(struct shring *r, const void *buf, unsigned int size)
{
	unsigned long pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_ulong *seq;

	for (;;) {
		unsigned long s;
		long d;

		seq = shring_seq(r, pos);
		s = atomic_load_explicit(seq, memory_order_acquire);
		d = (long)(s - pos);
		if (d == 0) {
			if (atomic_compare_exchange_weak(&r->tail, &pos,
							 pos + 1))
				break;
		} else if (d < 0) {
			sched_yield();
			pos = atomic_load_explicit(&r->tail,
						   memory_order_relaxed);
		} else {
			pos = atomic_load_explicit(&r->tail,
						   memory_order_relaxed);
		}
	}
	memcpy(seq + 1, buf, size);
	atomic_store_explicit(seq, pos + 1, memory_order_release);
}

static void shring_pop(struct shring *r, void *buf, unsigned int size)
{
	unsigned long pos = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_ulong *seq;

	for (;;) {
		unsigned long s;
		long d;

		seq = shring_seq(r, pos);
		s = atomic_load_explicit(seq, memory_order_acquire);
		d = (long)(s - (pos + 1));
		if (d == 0) {
			if (atomic_compare_exchange_weak(&r->head, &pos,
							 pos + 1))
				break;
		} else if (d < 0) {
			sched_yield();
			pos = atomic_load_explicit(&r->head,
						   memory_order_relaxed);
		} else {
			pos = atomic_load_explicit(&r->head,
						   memory_order_relaxed);
		}
	}
	memcpy(buf, seq + 1, size);
	atomic_store_explicit(seq, pos + r->mask + 1, memory_order_release);
}

/* ------------------------------------------------------------------------ */
/* Mechanisms. */

/*
 * What the endpoint handles of one chan-mmap queue did, summed over every
 * process that used it (libchan's chan_ep_get_stats(), warm-up included):
 * printed as a "# epstats" line when the queue is torn down.
 */
struct ep_tally {
	atomic_ullong fast_sent, fast_received, kernel_sent, kernel_received;
	atomic_ullong wakes;
	atomic_ullong batch_eagain;	/* see chan_map_send_n() */
};

/* The workload running, for the "# epstats" lines. */
static const char *cur_wl = "";

struct bq {
	const struct mech *m;
	unsigned int size;
	unsigned int roles;
	int fd[2];		/* pipe / socketpair ends; eventfds items, space */
	uint32_t id;		/* chan: channel ID */
	int cfd;		/* chan: this process's endpoint or /dev/chan fd */
	mqd_t mq;
	char mqname[48];
	int msqid;
	struct { long mtype; char data[MSG_MAX]; } msgbuf;
	struct shring *ring;
	struct chan_ep *ep;	/* chan-mmap*: this process's endpoint handle */
	struct ep_tally *tally;	/* chan-mmap*: shared by every process */
	char cap_note[48];	/* the bound as configured */
	int fan[FAN_MAX][2];	/* pipe-x4: a pipe per receiver */
	unsigned int idx;	/* bcast1x4: this receiver's index */
};

/*
 * Optional parts of a row (zero for the plain ones):
 *   only     the workloads it runs, e.g. "pingpong" (NULL: all)
 *   batch    messages per call of send_n/recv_n: self, split and the
 *            streams move messages in batches of that many (figures are
 *            still per message); ping-pong is left out
 *   send_n   send n messages (at buf, size bytes apart), all of them
 *   recv_n   receive 1..n messages into buf; returns how many
 *   call     ping-pong: a request on q and its reply from reply, as one
 *            operation (the server replies and waits with it too)
 *   bcast    every receiver gets every message: the row runs bcast1x4
 *            (and only rows with it do)
 */

struct mech {
	const char *name;
	const char *what;
	void (*setup)(struct bq *q);
	void (*attach)(struct bq *q);
	void (*send)(struct bq *q, const void *buf);
	void (*recv)(struct bq *q, void *buf);
	void (*detach)(struct bq *q);
	void (*teardown)(struct bq *q);
	const char *only;
	unsigned int batch;
	void (*send_n)(struct bq *q, const unsigned char *buf, unsigned int n);
	unsigned int (*recv_n)(struct bq *q, unsigned char *buf,
			       unsigned int n);
	void (*call)(struct bq *q, const void *buf, struct bq *reply,
		     void *rbuf);
	int bcast;
};

static void nop(struct bq *q)
{
	(void)q;
}

static void full_write(int fd, const void *buf, size_t len, const char *what)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("%s write: %s", what, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static void full_read(int fd, void *buf, size_t len, const char *what)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("%s read: %s", what, strerror(errno));
		}
		if (n == 0)
			die("%s read: end of file", what);
		p += n;
		len -= (size_t)n;
	}
}

/* chan: one channel; the ID path needs a /dev/chan fd per process. */
static void chan_setup(struct bq *q)
{
	struct chan_attr a = {
		.msg_size = q->size, .capacity = capacity, .mode = 0600,
	};
	int ret = chan_create(&a, &q->id);

	if (ret < 0)
		die("chan_create: %s", strerror(-ret));
	snprintf(q->cap_note, sizeof(q->cap_note), "%u msgs", capacity);
}

/* chan-bcast: a lossless broadcast channel (every receiver, every message). */
static void chan_bcast_setup(struct bq *q)
{
	struct chan_attr a = {
		.msg_size = q->size, .capacity = capacity, .mode = 0600,
		.flags = CHAN_CREATE_BROADCAST | CHAN_CREATE_LOSSLESS,
	};
	int ret = chan_create(&a, &q->id);

	if (ret < 0)
		die("chan_create (broadcast): %s", strerror(-ret));
	snprintf(q->cap_note, sizeof(q->cap_note), "%u msgs, lossless",
		 capacity);
}

static void chan_teardown(struct bq *q)
{
	int ret = chan_destroy(q->id);

	if (ret < 0)
		die("chan_destroy: %s", strerror(-ret));
}

static void chan_id_attach(struct bq *q)
{
	q->cfd = open("/dev/chan", O_RDWR | O_CLOEXEC);
	if (q->cfd < 0)
		die("open /dev/chan: %s", strerror(errno));
}

static void chan_ep_attach(struct bq *q)
{
	unsigned int roles = 0;

	if (q->roles & ROLE_SEND)
		roles |= CHAN_ROLE_SEND;
	if (q->roles & ROLE_RECV)
		roles |= CHAN_ROLE_RECV;
	q->cfd = chan_open(q->id, roles, CHAN_OPEN_CLOEXEC);
	if (q->cfd < 0)
		die("chan_open: %s", strerror(-q->cfd));
}

static void chan_fd_close(struct bq *q)
{
	close(q->cfd);
}

static void chan_id_send(struct bq *q, const void *buf)
{
	int ret = chan_sendmsg(q->cfd, q->id, buf, q->size, 0, 0);

	if (ret < 0)
		die("chan send by ID: %s", strerror(-ret));
}

static void chan_id_recv(struct bq *q, void *buf)
{
	ssize_t n = chan_recvmsg(q->cfd, q->id, buf, q->size, 0, 0, NULL);

	if (n != (ssize_t)q->size)
		die("chan recv by ID: %zd", n);
}

static void chan_fd_send(struct bq *q, const void *buf)
{
	int ret = chan_send(q->cfd, buf, q->size);

	if (ret < 0)
		die("chan_send: %s", strerror(-ret));
}

static void chan_fd_recv(struct bq *q, void *buf)
{
	ssize_t n = chan_recv(q->cfd, buf, q->size);

	if (n != (ssize_t)q->size)
		die("chan_recv: %zd", n);
}

static void chan_rw_send(struct bq *q, const void *buf)
{
	ssize_t n = write(q->cfd, buf, q->size);

	if (n != (ssize_t)q->size)
		die("write to a channel fd: %zd (%s)", n, strerror(errno));
}

static void chan_rw_recv(struct bq *q, void *buf)
{
	ssize_t n = read(q->cfd, buf, q->size);

	if (n != (ssize_t)q->size)
		die("read from a channel fd: %zd (%s)", n, strerror(errno));
}

/*
 * A byte stream (CHAN_CREATE_STREAM) whose atomic size is the message
 * size: each message is one atomic write(2) and is read back with read(2)
 * until it is whole (reads of exactly a message's size end on message
 * boundaries, whatever the number of readers).
 */
static void chan_stream_setup(struct bq *q)
{
	struct chan_attr a = {
		.msg_size = q->size, .capacity = capacity, .mode = 0600,
		.flags = CHAN_CREATE_STREAM,
	};
	int ret = chan_create(&a, &q->id);

	if (ret < 0)
		die("chan_create(STREAM): %s", strerror(-ret));
	snprintf(q->cap_note, sizeof(q->cap_note), "%u writes", capacity);
}

static void chan_stream_send(struct bq *q, const void *buf)
{
	full_write(q->cfd, buf, q->size, "chan stream");
}

static void chan_stream_recv(struct bq *q, void *buf)
{
	full_read(q->cfd, buf, q->size, "chan stream");
}

/*
 * chan's fast path: endpoint handles (libchan chan_ep_*) on a channel
 * created CHAN_CREATE_MAPPABLE, each process mapping the ring itself. A
 * handle that did not map (the fast path off) is an error, never a
 * silent kernel-path figure.
 */
static void chan_map_setup(struct bq *q)
{
	struct chan_attr a = {
		.msg_size = q->size, .capacity = capacity, .mode = 0600,
		.flags = CHAN_CREATE_MAPPABLE,
	};
	int ret = chan_create(&a, &q->id);

	if (ret < 0)
		die("chan_create(MAPPABLE): %s", strerror(-ret));
	q->tally = shared_alloc(sizeof(*q->tally));
	snprintf(q->cap_note, sizeof(q->cap_note), "%u msgs", capacity);
}

static void chan_map_teardown(struct bq *q)
{
	struct ep_tally *t = q->tally;

	/* Not after main()'s description of the rows. */
	if (*cur_wl)
		printf("# epstats %s %s %u: fast_sent=%llu fast_received=%llu kernel_sent=%llu kernel_received=%llu wakes=%llu batch_eagain=%llu\n",
	       q->m->name, cur_wl, q->size,
	       (unsigned long long)atomic_load(&t->fast_sent),
	       (unsigned long long)atomic_load(&t->fast_received),
	       (unsigned long long)atomic_load(&t->kernel_sent),
	       (unsigned long long)atomic_load(&t->kernel_received),
	       (unsigned long long)atomic_load(&t->wakes),
	       (unsigned long long)atomic_load(&t->batch_eagain));
	fflush(stdout);
	munmap(t, sizeof(*t));
	chan_teardown(q);
}

static void chan_map_attach(struct bq *q)
{
	unsigned int roles = 0;
	int ret;

	if (q->roles & ROLE_SEND)
		roles |= CHAN_ROLE_SEND;
	if (q->roles & ROLE_RECV)
		roles |= CHAN_ROLE_RECV;
	ret = chan_ep_open(&q->ep, q->id, roles, CHAN_OPEN_CLOEXEC);
	if (ret < 0)
		die("chan_ep_open: %s", strerror(-ret));
	if (!chan_ep_mapped(q->ep))
		die("chan_ep_open: the ring is not mapped (no fast path)");
}

static void chan_map_detach(struct bq *q)
{
	struct chan_ep_stats st;

	if (chan_ep_get_stats(q->ep, &st, sizeof(st)))
		die("chan_ep_get_stats failed");
	atomic_fetch_add(&q->tally->fast_sent, st.fast_sent);
	atomic_fetch_add(&q->tally->fast_received, st.fast_received);
	atomic_fetch_add(&q->tally->kernel_sent, st.kernel_sent);
	atomic_fetch_add(&q->tally->kernel_received, st.kernel_received);
	atomic_fetch_add(&q->tally->wakes, st.wakes);
	chan_ep_close(q->ep);
	q->ep = NULL;
}

static void chan_map_send(struct bq *q, const void *buf)
{
	int ret = chan_ep_send(q->ep, buf, q->size);

	if (ret < 0)
		die("chan_ep_send: %s", strerror(-ret));
}

static void chan_map_recv(struct bq *q, void *buf)
{
	ssize_t n = chan_ep_recv(q->ep, buf, q->size);

	if (n != (ssize_t)q->size)
		die("chan_ep_recv: %zd", n);
}

static void chan_map_call(struct bq *q, const void *buf, struct bq *reply,
			  void *rbuf)
{
	ssize_t n = chan_ep_call(q->ep, buf, q->size, reply->ep, rbuf,
				 reply->size, 0, 0);

	if (n != (ssize_t)q->size)
		die("chan_ep_call: %zd", n);
}

/*
 * A mapped byte stream (CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE),
 * atomic size = message size, through mapped endpoint handles: each
 * message is one chan_ep_stream_write(), read back with
 * chan_ep_stream_read() until it is whole.
 */
static void chan_smap_setup(struct bq *q)
{
	struct chan_attr a = {
		.msg_size = q->size, .capacity = capacity, .mode = 0600,
		.flags = CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE,
	};
	int ret = chan_create(&a, &q->id);

	if (ret < 0)
		die("chan_create(STREAM|MAPPABLE): %s", strerror(-ret));
	q->tally = shared_alloc(sizeof(*q->tally));
	snprintf(q->cap_note, sizeof(q->cap_note), "%u writes", capacity);
}

static void chan_smap_send(struct bq *q, const void *buf)
{
	ssize_t n = chan_ep_stream_write(q->ep, buf, q->size);

	if (n != (ssize_t)q->size)
		die("chan_ep_stream_write: %zd", n);
}

static void chan_smap_recv(struct bq *q, void *buf)
{
	size_t done = 0;
	ssize_t n;

	while (done < q->size) {
		n = chan_ep_stream_read(q->ep, (char *)buf + done,
					q->size - done);
		if (n <= 0)
			die("chan_ep_stream_read: %zd", n);
		done += (size_t)n;
	}
}

/* CHAN_IOC_CALL on channel fds (libchan chan_call), no mapping. */
static void chan_fd_call(struct bq *q, const void *buf, struct bq *reply,
			 void *rbuf)
{
	ssize_t n = chan_call(q->cfd, buf, q->size, reply->cfd, rbuf,
			      reply->size);

	if (n != (ssize_t)q->size)
		die("chan_call: %zd", n);
}

/* Batches: at most this many messages per call. */
#define BATCH_MAX	32U

static void iov_fill(struct chan_iov *vec, const unsigned char *buf,
		     unsigned int size, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		vec[i].buf = (uintptr_t)(buf + (size_t)i * size);
		vec[i].len = size;
		vec[i].__reserved = 0;
	}
}

/* The kernel's batch on a channel fd (chan_send_batch/chan_recv_batch). */
static void chan_batch_send_n(struct bq *q, const unsigned char *buf,
			      unsigned int n)
{
	struct chan_iov vec[BATCH_MAX];
	unsigned int done = 0;

	iov_fill(vec, buf, q->size, n);
	while (done < n) {
		int ret = chan_send_batch(q->cfd, 0, vec + done, n - done,
					  0, 0);

		if (ret <= 0)
			die("chan_send_batch: %s", strerror(-ret));
		done += (unsigned int)ret;
	}
}

static unsigned int recv_n_check(const struct bq *q,
				 const struct chan_iov *vec, int ret,
				 const char *what)
{
	int i;

	if (ret <= 0)
		die("%s: %s", what, strerror(-ret));
	for (i = 0; i < ret; i++)
		if (vec[i].len != q->size)
			die("%s: message of %u bytes", what, vec[i].len);
	return (unsigned int)ret;
}

static unsigned int chan_batch_recv_n(struct bq *q, unsigned char *buf,
				      unsigned int n)
{
	struct chan_iov vec[BATCH_MAX];

	iov_fill(vec, buf, q->size, n);
	return recv_n_check(q, vec,
			    chan_recv_batch(q->cfd, 0, vec, n, 0, 0),
			    "chan_recv_batch");
}

/* Batches on endpoint handles (chan_ep_send_batch/chan_ep_recv_batch). */
static void chan_map_send_n(struct bq *q, const unsigned char *buf,
			    unsigned int n)
{
	struct chan_iov vec[BATCH_MAX];
	unsigned int done = 0;

	iov_fill(vec, buf, q->size, n);
	while (done < n) {
		int ret = chan_ep_send_batch(q->ep, vec + done, n - done, 0, 0);

		/*
		 * libchan of 95d9c77 answers a blocking batch on a full ring
		 * with -EAGAIN (its mapped attempt is non-blocking, and it
		 * returns that attempt's -EAGAIN): wait for room as a user
		 * would, with one blocking send. Counted in the epstats.
		 */
		if (ret == -EAGAIN) {
			chan_map_send(q, buf + (size_t)done * q->size);
			atomic_fetch_add(&q->tally->batch_eagain, 1);
			ret = 1;
		}
		if (ret <= 0)
			die("chan_ep_send_batch: %s", strerror(-ret));
		done += (unsigned int)ret;
	}
}

static unsigned int chan_map_recv_n(struct bq *q, unsigned char *buf,
				    unsigned int n)
{
	struct chan_iov vec[BATCH_MAX];

	int ret;

	iov_fill(vec, buf, q->size, n);
	ret = chan_ep_recv_batch(q->ep, vec, n, 0, 0);
	/* The same -EAGAIN on an empty ring: one blocking receive. */
	if (ret == -EAGAIN) {
		chan_map_recv(q, buf);
		atomic_fetch_add(&q->tally->batch_eagain, 1);
		return 1;
	}
	return recv_n_check(q, vec, ret, "chan_ep_recv_batch");
}

/* pipe: sized to the smallest pipe that holds `capacity` messages. */
static void pipe_setup(struct bq *q)
{
	int sz = 4096;

	if (pipe2(q->fd, O_CLOEXEC))
		die("pipe2: %s", strerror(errno));
	while ((unsigned int)sz < capacity * q->size)
		sz *= 2;
	sz = fcntl(q->fd[1], F_SETPIPE_SZ, sz);
	if (sz < 0)
		die("F_SETPIPE_SZ: %s", strerror(errno));
	snprintf(q->cap_note, sizeof(q->cap_note), "%d bytes", sz);
}

static void pipe_teardown(struct bq *q)
{
	close(q->fd[0]);
	close(q->fd[1]);
}

static void pipe_send(struct bq *q, const void *buf)
{
	full_write(q->fd[1], buf, q->size, "pipe");
}

static void pipe_recv(struct bq *q, void *buf)
{
	full_read(q->fd[0], buf, q->size, "pipe");
}

/*
 * pipe-x4: broadcast the way the kernel's IPC offers it, one pipe per
 * receiver (sized as pipe's), the sender writing each message to all.
 */
static void fan_setup(struct bq *q)
{
	unsigned int i;
	int sz = 4096;

	while ((unsigned int)sz < capacity * q->size)
		sz *= 2;
	for (i = 0; i < FAN_MAX; i++) {
		if (pipe2(q->fan[i], O_CLOEXEC))
			die("pipe2: %s", strerror(errno));
		if (fcntl(q->fan[i][1], F_SETPIPE_SZ, sz) < 0)
			die("F_SETPIPE_SZ: %s", strerror(errno));
	}
	snprintf(q->cap_note, sizeof(q->cap_note), "%u pipes of %d bytes",
		 FAN_MAX, sz);
}

static void fan_teardown(struct bq *q)
{
	unsigned int i;

	for (i = 0; i < FAN_MAX; i++) {
		close(q->fan[i][0]);
		close(q->fan[i][1]);
	}
}

static void fan_send(struct bq *q, const void *buf)
{
	unsigned int i;

	for (i = 0; i < FAN_MAX; i++)
		full_write(q->fan[i][1], buf, q->size, "pipe-x4");
}

static void fan_recv(struct bq *q, void *buf)
{
	full_read(q->fan[q->idx][0], buf, q->size, "pipe-x4");
}

/*
 * eventfd: the payload goes through a shared-memory ring; one semaphore
 * eventfd counts the messages (one write per send, one read per receive).
 * A second one puts senders to sleep when the ring is full, used only
 * when someone must wait (a counter in shared memory decides).
 */
static void efd_setup(struct bq *q)
{
	q->fd[0] = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
	q->fd[1] = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
	if (q->fd[0] < 0 || q->fd[1] < 0)
		die("eventfd: %s", strerror(errno));
	q->ring = shring_new(capacity, q->size);
	snprintf(q->cap_note, sizeof(q->cap_note), "%u msgs", capacity);
}

static void efd_teardown(struct bq *q)
{
	close(q->fd[0]);
	close(q->fd[1]);
	munmap(q->ring, sizeof(*q->ring) + capacity * q->ring->stride);
}

static void efd_post(int fd)
{
	uint64_t one = 1;

	full_write(fd, &one, sizeof(one), "eventfd");
}

static void efd_wait(int fd)
{
	uint64_t v;

	full_read(fd, &v, sizeof(v), "eventfd");
}

static void efd_send(struct bq *q, const void *buf)
{
	if (atomic_fetch_sub(&q->ring->free, 1) <= 0)
		efd_wait(q->fd[1]);
	shring_push(q->ring, buf, q->size);
	efd_post(q->fd[0]);
}

static void efd_recv(struct bq *q, void *buf)
{
	efd_wait(q->fd[0]);
	shring_pop(q->ring, buf, q->size);
	if (atomic_fetch_add(&q->ring->free, 1) < 0)
		efd_post(q->fd[1]);
}

/* POSIX message queue. */
static void pmq_setup(struct bq *q)
{
	static unsigned int seq;
	struct mq_attr a = { .mq_maxmsg = capacity, .mq_msgsize = q->size };

	snprintf(q->mqname, sizeof(q->mqname), "/ipc_bench.%d.%u",
		 (int)getpid(), seq++);
	q->mq = mq_open(q->mqname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			0600, &a);
	if (q->mq == (mqd_t)-1)
		die("mq_open: %s", strerror(errno));
	snprintf(q->cap_note, sizeof(q->cap_note), "%u msgs", capacity);
}

static void pmq_teardown(struct bq *q)
{
	mq_close(q->mq);
	mq_unlink(q->mqname);
}

static void pmq_send(struct bq *q, const void *buf)
{
	while (mq_send(q->mq, buf, q->size, 0))
		if (errno != EINTR)
			die("mq_send: %s", strerror(errno));
}

static void pmq_recv(struct bq *q, void *buf)
{
	ssize_t n;

	while ((n = mq_receive(q->mq, buf, q->size, NULL)) < 0)
		if (errno != EINTR)
			die("mq_receive: %s", strerror(errno));
	if (n != (ssize_t)q->size)
		die("mq_receive: %zd bytes", n);
}

/* System V message queue, its byte limit set to `capacity` messages. */
static void smq_setup(struct bq *q)
{
	struct msqid_ds ds;

	q->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q->msqid < 0)
		die("msgget: %s", strerror(errno));
	if (msgctl(q->msqid, IPC_STAT, &ds))
		die("msgctl IPC_STAT: %s", strerror(errno));
	ds.msg_qbytes = capacity * q->size;
	if (msgctl(q->msqid, IPC_SET, &ds))
		die("msgctl IPC_SET: %s", strerror(errno));
	snprintf(q->cap_note, sizeof(q->cap_note), "%u bytes",
		 capacity * q->size);
}

static void smq_teardown(struct bq *q)
{
	msgctl(q->msqid, IPC_RMID, NULL);
}

static void smq_send(struct bq *q, const void *buf)
{
	q->msgbuf.mtype = 1;
	memcpy(q->msgbuf.data, buf, q->size);
	while (msgsnd(q->msqid, &q->msgbuf, q->size, 0))
		if (errno != EINTR)
			die("msgsnd: %s", strerror(errno));
}

static void smq_recv(struct bq *q, void *buf)
{
	ssize_t n;

	while ((n = msgrcv(q->msqid, &q->msgbuf, q->size, 0, 0)) < 0)
		if (errno != EINTR)
			die("msgrcv: %s", strerror(errno));
	if (n != (ssize_t)q->size)
		die("msgrcv: %zd bytes", n);
	memcpy(buf, q->msgbuf.data, q->size);
}

/* unix SOCK_STREAM socketpair, default buffer sizes: the byte streams' peer. */
static void ustream_setup(struct bq *q)
{
	int sz;
	socklen_t len = sizeof(sz);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, q->fd))
		die("socketpair: %s", strerror(errno));
	if (getsockopt(q->fd[1], SOL_SOCKET, SO_SNDBUF, &sz, &len))
		sz = -1;
	snprintf(q->cap_note, sizeof(q->cap_note), "sndbuf %d bytes", sz);
}

static void ustream_send(struct bq *q, const void *buf)
{
	full_write(q->fd[1], buf, q->size, "unix stream");
}

static void ustream_recv(struct bq *q, void *buf)
{
	full_read(q->fd[0], buf, q->size, "unix stream");
}

/* unix SOCK_SEQPACKET socketpair, default buffer sizes. */
static void seq_setup(struct bq *q)
{
	int sz;
	socklen_t len = sizeof(sz);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, q->fd))
		die("socketpair: %s", strerror(errno));
	if (getsockopt(q->fd[1], SOL_SOCKET, SO_SNDBUF, &sz, &len))
		sz = -1;
	snprintf(q->cap_note, sizeof(q->cap_note), "sndbuf %d bytes", sz);
}

static void seq_send(struct bq *q, const void *buf)
{
	while (send(q->fd[1], buf, q->size, 0) != (ssize_t)q->size)
		if (errno != EINTR)
			die("send: %s", strerror(errno));
}

static void seq_recv(struct bq *q, void *buf)
{
	ssize_t n;

	while ((n = recv(q->fd[0], buf, q->size, 0)) < 0)
		if (errno != EINTR)
			die("recv: %s", strerror(errno));
	if (n != (ssize_t)q->size)
		die("recv: %zd bytes", n);
}

/*
 * The rows. Each path of chan (ioctl, read/write, the mmap fast path,
 * calls, batches) is a row of its own.
 */
/* The positional part of a row; the optional parts are designated. */
#define ROW(n, w, su, at, se, re, de, td)				\
	.name = n, .what = w, .setup = su, .attach = at, .send = se,	\
	.recv = re, .detach = de, .teardown = td

static const struct mech mechs[] = {
	{ ROW("chan-id", "ioctl SEND/RECV by ID on /dev/chan (libchan chan_sendmsg/chan_recvmsg)",
	      chan_setup, chan_id_attach, chan_id_send, chan_id_recv,
	      chan_fd_close, chan_teardown) },
	{ ROW("chan-fd", "ioctl SEND/RECV on a channel fd (libchan chan_send/chan_recv)",
	      chan_setup, chan_ep_attach, chan_fd_send, chan_fd_recv,
	      chan_fd_close, chan_teardown) },
	{ ROW("chan-rw", "write(2)/read(2) on a channel fd",
	      chan_setup, chan_ep_attach, chan_rw_send, chan_rw_recv,
	      chan_fd_close, chan_teardown) },
	{ ROW("chan-mmap", "the fast path: libchan chan_ep_send/chan_ep_recv on a mapped ring (CHAN_CREATE_MAPPABLE)",
	      chan_map_setup, chan_map_attach, chan_map_send, chan_map_recv,
	      chan_map_detach, chan_map_teardown) },
	{ ROW("chan-mmap-call", "ping-pong only: chan_ep_call on mapped rings (the client's request and reply; the server's reply and its wait for the next request)",
	      chan_map_setup, chan_map_attach, chan_map_send, chan_map_recv,
	      chan_map_detach, chan_map_teardown),
	  .only = "pingpong", .call = chan_map_call },
	{ ROW("chan-fd-call", "ping-pong only: CHAN_IOC_CALL on channel fds (libchan chan_call), both sides",
	      chan_setup, chan_ep_attach, chan_fd_send, chan_fd_recv,
	      chan_fd_close, chan_teardown),
	  .only = "pingpong", .call = chan_fd_call },
	{ ROW("chan-batch32", "ioctl SEND_BATCH/RECV_BATCH of 32 on a channel fd (libchan chan_send_batch/chan_recv_batch), figures per message",
	      chan_setup, chan_ep_attach, chan_fd_send, chan_fd_recv,
	      chan_fd_close, chan_teardown),
	  .only = "self,split,stream1x1,stream4x4", .batch = BATCH_MAX,
	  .send_n = chan_batch_send_n, .recv_n = chan_batch_recv_n },
	{ ROW("chan-mmap-batch32", "chan_ep_send_batch/chan_ep_recv_batch of 32 on a mapped ring, figures per message",
	      chan_map_setup, chan_map_attach, chan_map_send, chan_map_recv,
	      chan_map_detach, chan_map_teardown),
	  .only = "self,split,stream1x1,stream4x4", .batch = BATCH_MAX,
	  .send_n = chan_map_send_n, .recv_n = chan_map_recv_n },
	{ ROW("chan-stream", "a byte stream (CHAN_CREATE_STREAM, atomic size = message size): write(2) of a message, read(2) until it is whole",
	      chan_stream_setup, chan_ep_attach, chan_stream_send,
	      chan_stream_recv, chan_fd_close, chan_teardown) },
	{ ROW("chan-stream-mmap", "a mapped byte stream (CHAN_CREATE_STREAM|MAPPABLE, atomic size = message size): chan_ep_stream_write of a message, chan_ep_stream_read until it is whole",
	      chan_smap_setup, chan_map_attach, chan_smap_send,
	      chan_smap_recv, chan_map_detach, chan_map_teardown) },
	{ ROW("chan-bcast", "bcast1x4 only: a lossless broadcast channel (CHAN_CREATE_BROADCAST|LOSSLESS), ioctl SEND/RECV on channel fds",
	      chan_bcast_setup, chan_ep_attach, chan_fd_send, chan_fd_recv,
	      chan_fd_close, chan_teardown),
	  .only = "bcast1x4", .bcast = 1 },
	{ ROW("pipe", "pipe write(2)/read(2)",
	      pipe_setup, nop, pipe_send, pipe_recv, nop, pipe_teardown) },
	{ ROW("pipe-x4", "bcast1x4 only: a pipe per receiver, the sender writes each message to all four",
	      fan_setup, nop, fan_send, fan_recv, nop, fan_teardown),
	  .only = "bcast1x4", .bcast = 1 },
	{ ROW("eventfd", "semaphore eventfd write/read, payload in a shared-memory ring",
	      efd_setup, nop, efd_send, efd_recv, nop, efd_teardown) },
	{ ROW("posix-mq", "mq_send/mq_receive",
	      pmq_setup, nop, pmq_send, pmq_recv, nop, pmq_teardown) },
	{ ROW("sysv-msg", "msgsnd/msgrcv",
	      smq_setup, nop, smq_send, smq_recv, nop, smq_teardown) },
	{ ROW("seqpacket", "unix SOCK_SEQPACKET socketpair send/recv",
	      seq_setup, nop, seq_send, seq_recv, nop, pipe_teardown) },
	{ ROW("unix-stream", "unix SOCK_STREAM socketpair write(2)/read(2) until whole",
	      ustream_setup, nop, ustream_send, ustream_recv, nop,
	      pipe_teardown) },
};

#define NR_MECHS (sizeof(mechs) / sizeof(mechs[0]))

static void bq_init(struct bq *q, const struct mech *m, unsigned int size)
{
	memset(q, 0, sizeof(*q));
	q->m = m;
	q->size = size;
	q->cfd = -1;
	m->setup(q);
}

static void bq_attach(struct bq *q, unsigned int roles)
{
	q->roles = roles;
	q->m->attach(q);
}

/* ------------------------------------------------------------------------ */
/* Workloads. */

static unsigned int n_self = 2000, n_pingpong = 500, n_stream = 4096;
static unsigned int n_warm = 64;

/*
 * -j, for profiling only: a pseudo-random pause of 0..255 loop turns
 * between operations. A sampling profiler with a fixed period (perf's
 * cpu-clock under icount fires every N instructions exactly) would
 * otherwise alias with a loop that repeats the same instructions and
 * sample the same few places. The figures measured with -j are not
 * meaningful; the profile excludes bench_jitter().
 */
static int jitter_on;

static void __attribute__((noinline)) bench_jitter(void)
{
	static uint32_t seed = 1;
	volatile uint32_t i;
	uint32_t n;

	seed = seed * 1664525U + 1013904223U;
	n = seed >> 24;
	for (i = 0; i < n; i++)
		;
}

static void emit(const char *wl, const char *mech, unsigned int size,
		 unsigned int procs, uint64_t ops, uint64_t ns)
{
	printf("R,%s,%s,%u,%u,%llu,%llu\n", wl, mech, size, procs,
	       (unsigned long long)ops, (unsigned long long)ns);
	fflush(stdout);
}

static void fill(unsigned char *buf, unsigned int size, uint64_t seq)
{
	memset(buf, (int)(seq & 0xff), size);
	memcpy(buf, &seq, sizeof(seq));
}

static void check(const unsigned char *buf, uint64_t seq, const char *what)
{
	uint64_t got;

	memcpy(&got, buf, sizeof(got));
	if (got != seq)
		die("%s: message %llu arrived as %llu", what,
		    (unsigned long long)seq, (unsigned long long)got);
}

/*
 * A batch row moves n messages (sequence numbers seq, seq + 1, ...) in
 * calls of at most m->batch: all of them sent, all of them received.
 */
static void batch_send(const struct mech *m, struct bq *q, unsigned char *buf,
		       uint64_t seq, uint64_t n)
{
	while (n) {
		unsigned int k = n < m->batch ? (unsigned int)n : m->batch, j;

		for (j = 0; j < k; j++) {
			uint64_t v = seq + j;

			memcpy(buf + (size_t)j * q->size, &v, sizeof(v));
		}
		m->send_n(q, buf, k);
		seq += k;
		n -= k;
	}
}

/*
 * Returns the sum of the sequence numbers received; with expect, checks
 * that they are *expect, *expect + 1, ... (one sender) and moves it on.
 */
static uint64_t batch_recv(const struct mech *m, struct bq *q,
			   unsigned char *buf, uint64_t n, uint64_t *expect)
{
	uint64_t sum = 0;

	while (n) {
		unsigned int k = n < m->batch ? (unsigned int)n : m->batch, j;

		k = m->recv_n(q, buf, k);
		for (j = 0; j < k; j++) {
			uint64_t v;

			memcpy(&v, buf + (size_t)j * q->size, sizeof(v));
			sum += v;
			if (expect && v != (*expect)++)
				die("%s: message %llu arrived as %llu", m->name,
				    (unsigned long long)*expect - 1,
				    (unsigned long long)v);
		}
		n -= k;
	}
	return sum;
}

/* self for a batch row: a batch sent, then received, per round. */
static void wl_self_batch(const struct mech *m, unsigned int size)
{
	static unsigned char out[BATCH_MAX * MSG_MAX], in[BATCH_MAX * MSG_MAX];
	const unsigned int b = m->batch;
	const uint64_t rounds = (n_self + b - 1) / b;
	uint64_t t0, t1, i, expect;
	struct bq q;

	bq_init(&q, m, size);
	bq_attach(&q, ROLE_SEND | ROLE_RECV);
	for (i = 0; i < (n_warm + b - 1) / b; i++) {
		batch_send(m, &q, out, i * b, b);
		batch_recv(m, &q, in, b, NULL);
	}
	fill(out, size, 1);
	expect = 0;
	sync_tick();
	t0 = now_ns();
	for (i = 0; i < rounds; i++) {
		batch_send(m, &q, out, i * b, b);
		batch_recv(m, &q, in, b, &expect);
		if (jitter_on)
			bench_jitter();
	}
	t1 = now_ns();
	if (expect != rounds * b)
		die("self (batch): %llu messages", (unsigned long long)expect);
	emit("self", m->name, size, 1, rounds * b, t1 - t0);
	m->detach(&q);
	m->teardown(&q);
}

static void wl_self(const struct mech *m, unsigned int size)
{
	static unsigned char out[MSG_MAX], in[MSG_MAX];
	struct bq q;
	uint64_t t0, t1, i;

	if (m->batch) {
		wl_self_batch(m, size);
		return;
	}
	bq_init(&q, m, size);
	bq_attach(&q, ROLE_SEND | ROLE_RECV);
	for (i = 0; i < n_warm; i++) {
		m->send(&q, out);
		m->recv(&q, in);
	}
	fill(out, size, 1);
	sync_tick();
	t0 = now_ns();
	for (i = 0; i < n_self; i++) {
		memcpy(out, &i, sizeof(i));
		m->send(&q, out);
		m->recv(&q, in);
		if (jitter_on)
			bench_jitter();
	}
	t1 = now_ns();
	check(in, n_self - 1, "self");
	emit("self", m->name, size, 1, n_self, t1 - t0);
	m->detach(&q);
	m->teardown(&q);
}

/* B sends, then B receives: the two halves of `self`, apart. */
static void wl_split(const struct mech *m, unsigned int size)
{
	static unsigned char out[BATCH_MAX * MSG_MAX], in[BATCH_MAX * MSG_MAX];
	const unsigned int batch = capacity / 2;
	uint64_t ts = 0, tr = 0, t, i, j, rounds = n_self / batch;
	struct bq q;

	bq_init(&q, m, size);
	bq_attach(&q, ROLE_SEND | ROLE_RECV);
	for (i = 0; i < n_warm; i++) {
		m->send(&q, out);
		m->recv(&q, in);
	}
	sync_tick();
	for (i = 0; i < rounds; i++) {
		t = now_ns();
		if (m->batch)
			batch_send(m, &q, out, i * batch, batch);
		else
			for (j = 0; j < batch; j++)
				m->send(&q, out);
		ts += now_ns() - t;
		t = now_ns();
		if (m->batch)
			batch_recv(m, &q, in, batch, NULL);
		else
			for (j = 0; j < batch; j++)
				m->recv(&q, in);
		tr += now_ns() - t;
	}
	emit("send", m->name, size, 1, rounds * batch, ts);
	emit("recv", m->name, size, 1, rounds * batch, tr);
	m->detach(&q);
	m->teardown(&q);
}

static pid_t fork_or_die(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("a child failed (status 0x%x)", st);
}

static void wl_pingpong(const struct mech *m, unsigned int size)
{
	static unsigned char out[MSG_MAX], in[MSG_MAX];
	struct bq ab, ba;
	uint64_t t0, t1, i;
	pid_t pid;

	bq_init(&ab, m, size);
	bq_init(&ba, m, size);
	pid = fork_or_die();
	if (!pid) {
		bq_attach(&ab, ROLE_RECV);
		bq_attach(&ba, ROLE_SEND);
		if (m->call) {
			/* The server: each reply and the wait for the next
			 * request in one call.
			 */
			static unsigned char rep[MSG_MAX];

			m->recv(&ab, in);
			for (i = 1; i < n_warm + n_pingpong; i++) {
				memcpy(rep, in, size);
				m->call(&ba, rep, &ab, in);
			}
			m->send(&ba, in);
		}
		for (i = 0; !m->call && i < n_warm + n_pingpong; i++) {
			m->recv(&ab, in);
			m->send(&ba, in);
		}
		m->detach(&ab);
		m->detach(&ba);
		_exit(0);
	}
	bq_attach(&ab, ROLE_SEND);
	bq_attach(&ba, ROLE_RECV);
	for (i = 0; i < n_warm; i++) {
		if (m->call) {
			m->call(&ab, out, &ba, in);
			continue;
		}
		m->send(&ab, out);
		m->recv(&ba, in);
	}
	sync_tick();
	t0 = now_ns();
	for (i = 0; i < n_pingpong; i++) {
		memcpy(out, &i, sizeof(i));
		if (m->call) {
			m->call(&ab, out, &ba, in);
		} else {
			m->send(&ab, out);
			m->recv(&ba, in);
		}
		check(in, i, "pingpong");
		if (jitter_on)
			bench_jitter();
	}
	t1 = now_ns();
	emit("pingpong", m->name, size, 2, n_pingpong, t1 - t0);
	m->detach(&ab);
	m->detach(&ba);
	reap(pid);
	m->teardown(&ab);
	m->teardown(&ba);
}

struct stream_ctl {
	pthread_barrier_t barrier;
	atomic_ullong start;	/* earliest start */
	atomic_ullong end;	/* latest end */
	atomic_ullong sum;	/* of the sequence numbers received */
};

static void stream_child(const struct mech *m, struct bq *q,
			 struct stream_ctl *ctl, unsigned int roles,
			 unsigned int index, uint64_t warm, uint64_t count)
{
	static unsigned char buf[BATCH_MAX * MSG_MAX];
	uint64_t t, i, sum = 0, cur;
	int ret;

	bq_attach(q, roles);
	for (i = 0; !m->batch && i < warm; i++) {
		if (roles == ROLE_SEND)
			m->send(q, buf);
		else
			m->recv(q, buf);
	}
	if (m->batch && roles == ROLE_SEND)
		batch_send(m, q, buf, 0, warm);
	else if (m->batch)
		batch_recv(m, q, buf, warm, NULL);
	ret = pthread_barrier_wait(&ctl->barrier);
	if (ret && ret != PTHREAD_BARRIER_SERIAL_THREAD)
		die("pthread_barrier_wait: %s", strerror(ret));
	t = now_ns();
	cur = atomic_load(&ctl->start);
	while (t < cur && !atomic_compare_exchange_weak(&ctl->start, &cur, t))
		;
	if (m->batch && roles == ROLE_SEND)
		batch_send(m, q, buf, (uint64_t)index * count, count);
	else if (m->batch)
		sum = batch_recv(m, q, buf, count, NULL);
	for (i = 0; !m->batch && i < count; i++) {
		if (roles == ROLE_SEND) {
			uint64_t seq = (uint64_t)index * count + i;

			memcpy(buf, &seq, sizeof(seq));
			m->send(q, buf);
		} else {
			uint64_t seq;

			m->recv(q, buf);
			memcpy(&seq, buf, sizeof(seq));
			sum += seq;
		}
	}
	t = now_ns();
	cur = atomic_load(&ctl->end);
	while (t > cur && !atomic_compare_exchange_weak(&ctl->end, &cur, t))
		;
	atomic_fetch_add(&ctl->sum, sum);
	m->detach(q);
	_exit(0);
}

static void wl_stream(const struct mech *m, unsigned int size,
		      unsigned int np, unsigned int nc)
{
	const uint64_t per_prod = n_stream / np, total = per_prod * np;
	const uint64_t warm = n_warm;
	struct stream_ctl *ctl = shared_alloc(sizeof(*ctl));
	pthread_barrierattr_t ba;
	pid_t pids[64];
	unsigned int i, n = 0;
	char wl[32];
	struct bq q;

	if (total % nc || (warm * np) % nc || np + nc > 64)
		die("stream %ux%u: counts do not divide", np, nc);
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	/* The parent is the last party: it arrives after sync_tick(). */
	pthread_barrier_init(&ctl->barrier, &ba, np + nc + 1);
	atomic_init(&ctl->start, UINT64_MAX);
	atomic_init(&ctl->end, 0);
	atomic_init(&ctl->sum, 0);
	bq_init(&q, m, size);
	for (i = 0; i < nc; i++) {
		pids[n] = fork_or_die();
		if (!pids[n])
			stream_child(m, &q, ctl, ROLE_RECV, i,
				     warm * np / nc, total / nc);
		n++;
	}
	for (i = 0; i < np; i++) {
		pids[n] = fork_or_die();
		if (!pids[n])
			stream_child(m, &q, ctl, ROLE_SEND, i, warm, per_prod);
		n++;
	}
	sync_tick();
	i = (unsigned int)pthread_barrier_wait(&ctl->barrier);
	if (i && i != (unsigned int)PTHREAD_BARRIER_SERIAL_THREAD)
		die("pthread_barrier_wait: %s", strerror((int)i));
	for (i = 0; i < n; i++)
		reap(pids[i]);
	if (atomic_load(&ctl->sum) != total * (total - 1) / 2)
		die("stream %ux%u: messages lost or duplicated", np, nc);
	snprintf(wl, sizeof(wl), "stream%ux%u", np, nc);
	emit(wl, m->name, size, np + nc, total,
	     atomic_load(&ctl->end) - atomic_load(&ctl->start));
	m->teardown(&q);
	pthread_barrier_destroy(&ctl->barrier);
	munmap(ctl, sizeof(*ctl));
}

/*
 * bcast1x4: one sender, FAN_MAX receivers, every receiver gets every
 * message. Everyone attaches before the first (warm-up) send, so that a
 * lossless channel's receivers see them all; the timed part runs from
 * the earliest start to the latest end, over messages x receivers.
 */
struct bcast_ctl {
	pthread_barrier_t attached;
	struct stream_ctl s;
};

static void bcast_child(const struct mech *m, struct bq *q,
			struct bcast_ctl *ctl, unsigned int roles,
			uint64_t warm, uint64_t count)
{
	unsigned char buf[MSG_MAX];
	uint64_t t, i, seq, sum = 0, cur;
	int ret;

	bq_attach(q, roles);
	ret = pthread_barrier_wait(&ctl->attached);
	if (ret && ret != PTHREAD_BARRIER_SERIAL_THREAD)
		die("pthread_barrier_wait: %s", strerror(ret));
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < warm; i++) {
		if (roles == ROLE_SEND)
			m->send(q, buf);
		else
			m->recv(q, buf);
	}
	ret = pthread_barrier_wait(&ctl->s.barrier);
	if (ret && ret != PTHREAD_BARRIER_SERIAL_THREAD)
		die("pthread_barrier_wait: %s", strerror(ret));
	t = now_ns();
	cur = atomic_load(&ctl->s.start);
	while (t < cur && !atomic_compare_exchange_weak(&ctl->s.start, &cur, t))
		;
	for (i = 0; i < count; i++) {
		if (roles == ROLE_SEND) {
			memcpy(buf, &i, sizeof(i));
			m->send(q, buf);
		} else {
			m->recv(q, buf);
			memcpy(&seq, buf, sizeof(seq));
			/* In order, each once: the sum would not catch a swap. */
			if (seq != i)
				die("bcast1x4: receiver %u got %llu, not %llu",
				    q->idx, (unsigned long long)seq,
				    (unsigned long long)i);
			sum += seq;
		}
	}
	t = now_ns();
	cur = atomic_load(&ctl->s.end);
	while (t > cur && !atomic_compare_exchange_weak(&ctl->s.end, &cur, t))
		;
	atomic_fetch_add(&ctl->s.sum, sum);
	m->detach(q);
	_exit(0);
}

static void wl_bcast(const struct mech *m, unsigned int size)
{
	const uint64_t total = n_stream, warm = n_warm;
	struct bcast_ctl *ctl = shared_alloc(sizeof(*ctl));
	pthread_barrierattr_t ba;
	pid_t pids[FAN_MAX + 1];
	unsigned int i, n = 0;
	struct bq q;

	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&ctl->attached, &ba, FAN_MAX + 1);
	/* The parent is the last party: it arrives after sync_tick(). */
	pthread_barrier_init(&ctl->s.barrier, &ba, FAN_MAX + 2);
	atomic_init(&ctl->s.start, UINT64_MAX);
	atomic_init(&ctl->s.end, 0);
	atomic_init(&ctl->s.sum, 0);
	bq_init(&q, m, size);
	for (i = 0; i < FAN_MAX; i++) {
		q.idx = i;
		pids[n] = fork_or_die();
		if (!pids[n])
			bcast_child(m, &q, ctl, ROLE_RECV, warm, total);
		n++;
	}
	pids[n] = fork_or_die();
	if (!pids[n])
		bcast_child(m, &q, ctl, ROLE_SEND, warm, total);
	n++;
	sync_tick();
	i = (unsigned int)pthread_barrier_wait(&ctl->s.barrier);
	if (i && i != (unsigned int)PTHREAD_BARRIER_SERIAL_THREAD)
		die("pthread_barrier_wait: %s", strerror((int)i));
	for (i = 0; i < n; i++)
		reap(pids[i]);
	if (atomic_load(&ctl->s.sum) != FAN_MAX * (total * (total - 1) / 2))
		die("bcast1x4: messages lost or duplicated");
	emit("bcast1x4", m->name, size, FAN_MAX + 1, total * FAN_MAX,
	     atomic_load(&ctl->s.end) - atomic_load(&ctl->s.start));
	m->teardown(&q);
	pthread_barrier_destroy(&ctl->attached);
	pthread_barrier_destroy(&ctl->s.barrier);
	munmap(ctl, sizeof(*ctl));
}

/* ------------------------------------------------------------------------ */
/* Probes: sub-paths of chan's ioctl, and the bare system call. */

static void probe(const char *name, unsigned int size, uint64_t n,
		  void (*fn)(void *), void *arg)
{
	uint64_t t0, i;

	for (i = 0; i < n_warm; i++)
		fn(arg);
	sync_tick();
	t0 = now_ns();
	for (i = 0; i < n; i++)
		fn(arg);
	emit("probe", name, size, 1, n, now_ns() - t0);
}

struct probe_arg {
	int fd;
	uint32_t id;
	unsigned int size;
	unsigned char buf[MSG_MAX];
};

static void p_getppid(void *a)
{
	(void)a;
	syscall(SYS_getppid);
}

static void p_enotty(void *a)
{
	struct probe_arg *p = a;

	if (ioctl(p->fd, _IO(CHAN_IOC_TYPE, 0x3f), NULL) != -1 ||
	    errno != ENOTTY)
		die("unknown ioctl did not fail with ENOTTY");
}

static void p_einval(void *a)
{
	struct probe_arg *p = a;
	struct chan_msg m = { .size = 8 };	/* too short: EINVAL */

	if (ioctl(p->fd, CHAN_IOC_RECV, &m) != -1 || errno != EINVAL)
		die("short struct did not fail with EINVAL");
}

static void p_info(void *a)
{
	struct probe_arg *p = a;
	struct chan_info info;
	int ret = p->id ? chan_info(p->id, &info) : chan_fd_info(p->fd, &info);

	if (ret < 0)
		die("chan_info: %s", strerror(-ret));
}

static void p_recv_empty(void *a)
{
	struct probe_arg *p = a;
	ssize_t n = chan_recvmsg(p->fd, p->id, p->buf, p->size,
				 CHAN_MSG_NONBLOCK, 0, NULL);

	if (n != -EAGAIN)
		die("receive from an empty channel: %zd", n);
}

static void wl_probes(void)
{
	struct chan_attr a = { .msg_size = 64, .capacity = capacity };
	struct probe_arg p = { .size = 64 };
	int dev = open("/dev/chan", O_RDWR | O_CLOEXEC), ep, ret;
	uint32_t id;

	if (dev < 0)
		die("open /dev/chan: %s", strerror(errno));
	ret = chan_create(&a, &id);
	if (ret < 0)
		die("chan_create: %s", strerror(-ret));
	ep = chan_open(id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0);
	if (ep < 0)
		die("chan_open: %s", strerror(-ep));

	probe("getppid", 0, n_self, p_getppid, NULL);
	p.fd = dev;
	probe("dev-enotty", 0, n_self, p_enotty, &p);
	probe("dev-einval", 0, n_self, p_einval, &p);
	p.id = id;
	probe("id-info", 0, n_self, p_info, &p);
	probe("id-recv-empty", 64, n_self, p_recv_empty, &p);
	p.fd = ep;
	p.id = 0;
	probe("fd-enotty", 0, n_self, p_enotty, &p);
	probe("fd-info", 0, n_self, p_info, &p);
	probe("fd-recv-empty", 64, n_self, p_recv_empty, &p);
	close(ep);
	chan_destroy(id);
	close(dev);
}

/* ------------------------------------------------------------------------ */

static int wanted(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (!list)
		return 1;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

/* Is workload wl asked for, and one that row m runs? Sets cur_wl. */
static int run_wl(const char *wlist, const struct mech *m, const char *wl)
{
	if (!wanted(wlist, wl) || (m->only && !wanted(m->only, wl)))
		return 0;
	/* Broadcast is a mode of its own: only the rows that have it. */
	if (!strcmp(wl, "bcast1x4") != !!m->bcast)
		return 0;
	cur_wl = wl;
	return 1;
}

static void usage(void)
{
	unsigned int i;

	fprintf(stderr,
		"usage: ipc_bench [-m MECH,...] [-w WORKLOAD,...] [-s SIZE,...]\n"
		"                 [-n SELF] [-p PINGPONG] [-t STREAM] [-c CAPACITY]\n"
		"                 [-T tsc|monotonic] [-j] [-l]\n"
		"workloads: self,split,pingpong,stream1x1,stream4x4,bcast1x4,probe\n"
		"mechanisms:\n");
	for (i = 0; i < NR_MECHS; i++)
		fprintf(stderr, "  %-10s %s\n", mechs[i].name, mechs[i].what);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mlist = NULL, *wlist = NULL, *slist = "8,64,1024";
	unsigned int sizes[8], nsizes = 0, i, j;
	char *s, *tok, *save;
	int opt;

	while ((opt = getopt(argc, argv, "m:w:s:n:p:t:c:T:jlh")) != -1) {
		switch (opt) {
		case 'j': jitter_on = 1; break;
		case 'T':
			if (clock_opt(optarg))
				usage();
			break;
		case 'm': mlist = optarg; break;
		case 'w': wlist = optarg; break;
		case 's': slist = optarg; break;
		case 'n': n_self = (unsigned int)atoi(optarg); break;
		case 'p': n_pingpong = (unsigned int)atoi(optarg); break;
		case 't': n_stream = (unsigned int)atoi(optarg); break;
		case 'c': capacity = (unsigned int)atoi(optarg); break;
		case 'l':
			for (i = 0; i < NR_MECHS; i++)
				printf("%s\t%s\n", mechs[i].name, mechs[i].what);
			return 0;
		default: usage();
		}
	}
	if (capacity < 2 || (capacity & (capacity - 1)) || !n_self ||
	    !n_pingpong || n_stream < 16)
		usage();
	s = strdup(slist);
	for (tok = strtok_r(s, ",", &save); tok && nsizes < 8;
	     tok = strtok_r(NULL, ",", &save)) {
		sizes[nsizes] = (unsigned int)atoi(tok);
		if (sizes[nsizes] < 8 || sizes[nsizes] > MSG_MAX)
			die("message sizes are 8..%u bytes", MSG_MAX);
		nsizes++;
	}
	free(s);
	signal(SIGPIPE, SIG_IGN);
	/* Wake from sync_tick() on time, not up to 50 us late. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	printf("# ipc_bench capacity=%u self=%u pingpong=%u stream=%u warm=%u clock=%s\n",
	       capacity, n_self, n_pingpong, n_stream, n_warm,
	       use_tsc ? "tsc" : "monotonic");
	for (i = 0; i < NR_MECHS; i++) {
		struct bq q;

		if (!wanted(mlist, mechs[i].name))
			continue;
		bq_init(&q, &mechs[i], 64);
		printf("# mech %s: %s; bound %s at 64 bytes\n", mechs[i].name,
		       mechs[i].what, q.cap_note);
		mechs[i].teardown(&q);
	}
	fflush(stdout);

	if (wanted(wlist, "probe"))
		wl_probes();
	for (j = 0; j < nsizes; j++) {
		for (i = 0; i < NR_MECHS; i++) {
			const struct mech *m = &mechs[i];

			if (!wanted(mlist, m->name))
				continue;
			if (run_wl(wlist, m, "self"))
				wl_self(m, sizes[j]);
			if (run_wl(wlist, m, "split"))
				wl_split(m, sizes[j]);
			if (run_wl(wlist, m, "pingpong"))
				wl_pingpong(m, sizes[j]);
			if (run_wl(wlist, m, "stream1x1"))
				wl_stream(m, sizes[j], 1, 1);
			if (run_wl(wlist, m, "stream4x4"))
				wl_stream(m, sizes[j], 4, 4);
			if (run_wl(wlist, m, "bcast1x4"))
				wl_bcast(m, sizes[j]);
		}
	}
	return 0;
}
