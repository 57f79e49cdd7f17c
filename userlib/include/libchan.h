/* SPDX-License-Identifier: MIT */
/*
 * libchan: the C API of chan, typed bounded MPMC message channels served
 * by the chan.ko kernel module through /dev/chan.
 *
 * Every function returns 0 (or a non-negative count or fd) on success and
 * -errno on failure; errno itself is left alone. The errno values and what
 * they mean are listed in <linux/chan.h>.
 *
 * Channels are named by a numeric ID in the caller's IPC namespace (and
 * optionally by a name). A process opens an endpoint, a channel fd, with
 * the roles it needs; closing the last endpoint of a role disconnects the
 * peers (they get -EPIPE). The library keeps one /dev/chan fd per process,
 * opened on first use with O_CLOEXEC and checked on each use (see
 * chan_dev_fd()).
 *
 * Blocking calls and signals: a call asleep in the kernel is restarted
 * after a stop and continue (Ctrl-Z, fg) or a signal whose handler has
 * SA_RESTART, and a relative timeout keeps its end across the restart;
 * only a handler without SA_RESTART makes it fail with -EINTR. The
 * *_timeout() functions cannot then tell the time left: a caller who wants
 * to retry with the same end uses the *_until() forms with a deadline
 * taken once from chan_now_ns().
 */
#ifndef LIBCHAN_H
#define LIBCHAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <sys/types.h>
#include <linux/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct chan_attr - parameters of a new channel
 * @msg_size: largest message in bytes (1..CHAN_MSG_SIZE_MAX)
 * @capacity: messages the channel holds, rounded up to a power of two
 * @mode: permission bits, 0 means 0600
 * @flags: CHAN_CREATE_* flags
 * @type_tag: 0, or a tag from chan_type_tag() checked by chan_open_typed()
 * @name: NULL or "" for an anonymous channel, else a unique name
 */
struct chan_attr {
	uint32_t msg_size;
	uint32_t capacity;
	uint32_t mode;
	uint32_t flags;
	uint64_t type_tag;
	const char *name;
};

/* The library's /dev/chan fd, opened on first use and checked on each
 * use: if the fd was closed behind the library's back, or the caller moved
 * to another IPC namespace, a new one is opened. Returns it or -errno.
 */
int chan_dev_fd(void);
/* A /dev/chan fd of the caller's own (O_CLOEXEC), for the fd forms. */
int chan_dev_open(void);

/* Create a channel; *id receives its ID. */
int chan_create(const struct chan_attr *attr, uint32_t *id);
/* Create a channel and return the kernel's full answer (ID, features,
 * ring geometry) in *out.
 */
int chan_create_ex(const struct chan_attr *attr, struct chan_create *out);
/* Find a channel by name. */
int chan_lookup(const char *name, uint32_t *id);
/* Destroy a channel: waiters get -EIDRM, queued messages are discarded. */
int chan_destroy(uint32_t id);
/* Close a channel for sending (struct chan_close): later sends get
 * -EPIPE, receivers drain what is queued and then get -EPIPE. On a sender
 * channel fd (id 0), or by ID (fd -1: the library's /dev/chan fd) for the
 * owner; -EALREADY if closed already. flags: 0, or CHAN_CLOSE_REOPEN for
 * the owner to reopen a closed channel (-EALREADY if it is open).
 */
int chan_close_channel(int fd, uint32_t id, unsigned int flags);

/* Describe a channel by ID, or by one of its fds. */
int chan_info(uint32_t id, struct chan_info *info);
int chan_fd_info(int fd, struct chan_info *info);
/* Describe the channel with the lowest ID >= id (to list them all, start
 * at 1 and continue from info->id + 1); -ENOENT past the last one.
 */
int chan_info_next(uint32_t id, struct chan_info *info);
/*
 * The general form, which also reports the fields added to struct
 * chan_info since its first version (mappers). fd < 0 describes channel
 * id through the library's /dev/chan fd; fd >= 0 is a channel fd (id must
 * be 0: it describes its own channel) or a /dev/chan fd. flags are
 * CHAN_INFO_* (CHAN_INFO_NEXT enumerates, as chan_info_next() does). size
 * is sizeof(*info) as the caller was compiled: at least the first
 * version's 176 bytes (else -EINVAL); at most min(size, the library's
 * sizeof(struct chan_info)) bytes of *info are written (a caller built
 * with a newer, longer struct finds its tail as it left it). A field the
 * running kernel does not know reads 0. chan_info(), chan_fd_info() and
 * chan_info_next() fill only the first version (up to name).
 */
int chan_info_ex(int fd, uint32_t id, uint32_t flags, struct chan_info *info,
		 size_t size);
/* Reset a channel's statistics (its max_depth restarts from its depth),
 * by ID (fd -1: the library's /dev/chan fd, or a /dev/chan fd) or on a
 * channel fd (id 0); the owner's (-EPERM otherwise). LIBCHAN_4.
 */
int chan_reset_stats(int fd, uint32_t id);

/* Open an endpoint with CHAN_ROLE_* roles and CHAN_OPEN_* flags.
 * Returns the channel fd or -errno.
 */
int chan_open(uint32_t id, unsigned int roles, unsigned int flags);
/* As chan_open(), failing with -EPROTOTYPE unless the channel was created
 * with this type tag.
 */
int chan_open_typed(uint32_t id, unsigned int roles, unsigned int flags,
		    uint64_t type_tag);
int chan_close(int fd);

/* Send one message on a channel fd: block, never block (-EAGAIN), wait at
 * most timeout_ns (-ETIMEDOUT), or wait until a CLOCK_MONOTONIC deadline.
 */
int chan_send(int fd, const void *msg, size_t len);
int chan_try_send(int fd, const void *msg, size_t len);
int chan_send_timeout(int fd, const void *msg, size_t len,
		      uint64_t timeout_ns);
int chan_send_until(int fd, const void *msg, size_t len,
		    uint64_t deadline_ns);

/* Receive one message into buf (cap bytes). Returns its length or -errno;
 * -EMSGSIZE leaves a message larger than cap queued.
 */
ssize_t chan_recv(int fd, void *buf, size_t cap);
ssize_t chan_try_recv(int fd, void *buf, size_t cap);
ssize_t chan_recv_timeout(int fd, void *buf, size_t cap,
			  uint64_t timeout_ns);
ssize_t chan_recv_until(int fd, void *buf, size_t cap, uint64_t deadline_ns);

/* By ID through /dev/chan, without an endpoint (not counted as a sender or
 * receiver). flags are CHAN_MSG_*; timeout_ns as in struct chan_msg.
 * Not being endpoints, they ignore disconnect: an empty channel is just
 * empty, a full one just full, whoever has come and gone; only a closed
 * channel (-EPIPE, once drained for a receive) or a destroyed one
 * (-EIDRM) stops them.
 */
int chan_send_id(uint32_t id, const void *msg, size_t len,
		 unsigned int flags, uint64_t timeout_ns);
ssize_t chan_recv_id(uint32_t id, void *buf, size_t cap, unsigned int flags,
		     uint64_t timeout_ns);

/* The general forms: fd is a channel fd (id 0) or chan_dev_fd() (id set).
 * chan_recvmsg() stores the message length in *msg_len (if not NULL), also
 * when it fails with -EMSGSIZE.
 */
int chan_sendmsg(int fd, uint32_t id, const void *msg, size_t len,
		 unsigned int flags, uint64_t timeout_ns);
ssize_t chan_recvmsg(int fd, uint32_t id, void *buf, size_t cap,
		     unsigned int flags, uint64_t timeout_ns,
		     uint32_t *msg_len);

/*
 * Batches (as sendmmsg/recvmmsg): up to count (1..CHAN_BATCH_MAX) messages
 * described by vec, on a channel fd (id 0) or by ID on chan_dev_fd().
 * Only the first waits, unless flags has CHAN_MSG_WAITALL. Returns how
 * many moved, or -errno if none did; a receive sets each vec[i].len to
 * the length received.
 */
int chan_send_batch(int fd, uint32_t id, const struct chan_iov *vec,
		    unsigned int count, unsigned int flags,
		    uint64_t timeout_ns);
int chan_recv_batch(int fd, uint32_t id, struct chan_iov *vec,
		    unsigned int count, unsigned int flags,
		    uint64_t timeout_ns);

/*
 * A request and its reply in one system call: send msg on fd's channel,
 * then receive the reply from reply_fd (a channel fd with the receive
 * role, possibly fd itself). Returns the reply's length or -errno.
 * chan_callmsg() is the general form: by ID on chan_dev_fd() (fd's id and
 * reply_id set, reply_fd -1), with CHAN_MSG_* flags and a timeout; *sent
 * (if not NULL) says whether the request went, *reply_len gets the reply's
 * length (also on -EMSGSIZE). A signal while waiting for the reply fails
 * with -EINTR (the request is not sent twice).
 */
ssize_t chan_call(int fd, const void *msg, size_t len, int reply_fd,
		  void *buf, size_t cap);
ssize_t chan_callmsg(int fd, uint32_t id, const void *msg, size_t len,
		     int reply_fd, uint32_t reply_id, void *buf, size_t cap,
		     unsigned int flags, uint64_t timeout_ns,
		     uint32_t *reply_len, int *sent);

/*
 * Byte streams (channels created CHAN_CREATE_STREAM), on a channel fd.
 * chan_stream_write() writes all len bytes (in atomic pieces of the
 * channel's msg_size; restarted after EINTR) and returns len, or the bytes
 * written before an error (-errno if none was: -EAGAIN on a full
 * non-blocking fd, -EPIPE once no receiver endpoint is left or the stream
 * was closed). chan_stream_read() reads 1..cap bytes, whatever is there,
 * waiting only while nothing is: 0 at the end of the stream (drained, and
 * closed or without a sender endpoint), else -errno; _timeout() waits at
 * most timeout_ns (-ETIMEDOUT). chan_stream_queued() returns the bytes
 * queued (FIONREAD).
 */
ssize_t chan_stream_write(int fd, const void *buf, size_t len);
ssize_t chan_stream_read(int fd, void *buf, size_t cap);
ssize_t chan_stream_read_timeout(int fd, void *buf, size_t cap,
				 uint64_t timeout_ns);
ssize_t chan_stream_queued(int fd);

/*
 * Endpoint handles: the fast path.
 *
 * A handle owns a channel fd (chan_ep_fd() gives it for poll/epoll; do
 * not close it yourself) and, if the channel was created
 * CHAN_CREATE_MAPPABLE and the caller has read and write permission, a
 * mapping of the channel's ring. Sends and receives on a mapped handle
 * then cost no system call unless they must sleep, wake a sleeper, or
 * report an error; the semantics and errors are those of the fd calls
 * above, and kernel-path users (ioctl, read/write, poll) share the channel
 * freely. Many threads may use one handle at once.
 *
 * Trust: every process that maps a channel can write anything into its
 * ring; it can spoil that channel's messages, never the kernel or any
 * other channel. Map only channels whose users trust one another.
 *
 * Death: if a process dies (or unmaps, or execs) while it holds a slot,
 * the kernel repairs the ring: a message it was writing is skipped and a
 * message it was reading is lost, both counted in chan_info.dropped;
 * nobody waits for it.
 *
 * fork(): the child does not inherit the mapping; its handles keep working
 * through the kernel path. A receive into a bad buffer on the fast path
 * faults (SIGSEGV) instead of returning -EFAULT.
 */
struct chan_ep;

/* chan_ep_open() flag, beside CHAN_OPEN_*: never map, use the kernel path. */
#define CHAN_EP_NO_MAP		(1U << 31)

/**
 * struct chan_ep_stats - what a handle did
 * @fast_sent: messages sent without a system call
 * @fast_received: messages received without a system call
 * @kernel_sent: messages sent through the kernel path
 * @kernel_received: messages received through the kernel path
 * @wakes: wake-ups asked of the kernel for sleepers
 */
struct chan_ep_stats {
	uint64_t fast_sent;
	uint64_t fast_received;
	uint64_t kernel_sent;
	uint64_t kernel_received;
	uint64_t wakes;
};

/* Open an endpoint handle with CHAN_ROLE_* roles and CHAN_OPEN_* flags (or
 * CHAN_EP_NO_MAP); *epp receives it.
 */
int chan_ep_open(struct chan_ep **epp, uint32_t id, unsigned int roles,
		 unsigned int flags);
/* As chan_ep_open(), failing with -EPROTOTYPE unless the channel was
 * created with this type tag.
 */
int chan_ep_open_typed(struct chan_ep **epp, uint32_t id, unsigned int roles,
		       unsigned int flags, uint64_t type_tag);
/* Unmap and close; returns close(2)'s result. */
int chan_ep_close(struct chan_ep *ep);
/* The channel fd, for poll/epoll and the fd calls above. */
int chan_ep_fd(const struct chan_ep *ep);
/* Close the handle's channel for sending, as chan_close_channel(). */
int chan_ep_close_channel(struct chan_ep *ep);
/* 1 if sends and receives take the fast path, else 0. */
int chan_ep_mapped(const struct chan_ep *ep);
/* Copy at most size bytes of the handle's statistics into *st. */
int chan_ep_get_stats(const struct chan_ep *ep, struct chan_ep_stats *st,
		      size_t size);
/* On a lossy broadcast channel (CHAN_CREATE_BROADCAST): the messages this
 * handle's receives were told they missed, in total. A receive that
 * returns -ENOBUFS adds the count of that overrun (a batch's -ENOBUFS
 * carries no count: receive one message to learn it, or read fdinfo).
 */
uint64_t chan_ep_lost(const struct chan_ep *ep);

int chan_ep_send(struct chan_ep *ep, const void *msg, size_t len);
int chan_ep_try_send(struct chan_ep *ep, const void *msg, size_t len);
int chan_ep_send_timeout(struct chan_ep *ep, const void *msg, size_t len,
			 uint64_t timeout_ns);
int chan_ep_sendmsg(struct chan_ep *ep, const void *msg, size_t len,
		    unsigned int flags, uint64_t timeout_ns);
ssize_t chan_ep_recv(struct chan_ep *ep, void *buf, size_t cap);
ssize_t chan_ep_try_recv(struct chan_ep *ep, void *buf, size_t cap);
ssize_t chan_ep_recv_timeout(struct chan_ep *ep, void *buf, size_t cap,
			     uint64_t timeout_ns);
ssize_t chan_ep_recvmsg(struct chan_ep *ep, void *buf, size_t cap,
			unsigned int flags, uint64_t timeout_ns,
			uint32_t *msg_len);
/* Batches and calls on handles: as chan_send_batch(), chan_recv_batch()
 * and chan_callmsg(), through the mappings where they can (a batch then
 * costs no system call, a call at most one).
 */
int chan_ep_send_batch(struct chan_ep *ep, const struct chan_iov *vec,
		       unsigned int count, unsigned int flags,
		       uint64_t timeout_ns);
int chan_ep_recv_batch(struct chan_ep *ep, struct chan_iov *vec,
		       unsigned int count, unsigned int flags,
		       uint64_t timeout_ns);
ssize_t chan_ep_call(struct chan_ep *req, const void *msg, size_t len,
		     struct chan_ep *reply, void *buf, size_t cap,
		     unsigned int flags, uint64_t timeout_ns);

/* Byte streams (CHAN_CREATE_STREAM) on handles: as chan_stream_read(),
 * chan_stream_read_timeout() and chan_stream_write(), through the mapping
 * where they can (a mappable stream), else through the handle's fd.
 * LIBCHAN_4.
 */
ssize_t chan_ep_stream_read(struct chan_ep *ep, void *buf, size_t cap);
ssize_t chan_ep_stream_read_timeout(struct chan_ep *ep, void *buf, size_t cap,
				    uint64_t timeout_ns);
ssize_t chan_ep_stream_write(struct chan_ep *ep, const void *buf, size_t len);

/*
 * The inline SPSC fast path (LIBCHAN_5). On a handle of a CHAN_CREATE_SPSC
 * | CHAN_CREATE_MAPPABLE channel mapped as a compact ring, a struct
 * chan_spsc made by chan_ep_spsc() for one direction sends or receives
 * with code the caller's compiler inlines: the ring protocol of the
 * handle's fast path (chan(7), "Compact SPSC ring" in <linux/chan.h>),
 * without the calls around it. Anything the inline code does not decide
 * goes to the handle's functions, with the same results: a closed,
 * destroyed or disconnected channel, a full ring (the send), an empty one
 * with no sender left (the receive), a message too long, a ring another
 * mapper scribbled on, a child of fork() (the mapping is not inherited),
 * a call in the direction the view was not made for, and every handle on
 * which chan_ep_spsc() returned 0 (not mapped, not compact, or
 * CHAN_CREATE_CRC32C). The handle's statistics, the channel's high-water
 * mark and the wake-ups of kernel sleepers stay exact.
 *
 * A view belongs to one thread at a time (it caches the other side's
 * cursor), lives no longer than its handle, and may be mixed with the
 * handle's own calls in the same direction. Its fields are private.
 */
struct chan_spsc {
	struct chan_ep *ep;
	__u64 *own;
	const __u64 *other;
	__u64 cache;
	__u32 *lens;
	unsigned char *slots;
	const __u32 *state;
	const __u32 *waiters;
	uint64_t *count;
	const unsigned int *genp;
	unsigned int gen;
	uint32_t mask;
	uint32_t stride;
	uint32_t msg_size;
	unsigned int role;
	int slow;
};

/* Make *s the @role (CHAN_ROLE_SEND or CHAN_ROLE_RECV) view of @ep: 1 if
 * it runs inline, 0 if it passes every call to the handle, -EINVAL.
 */
int chan_ep_spsc(struct chan_ep *ep, unsigned int role, struct chan_spsc *s);
/* Out of line, for the inline functions below: the high-water mark
 * raised to the depth a view saw (a send finding the ring full, with
 * @end its tail; a receive loading the tail, @end), and the doorbell for
 * the other side's kernel sleepers.
 */
void chan_spsc_depth(struct chan_spsc *s, uint64_t end);
void chan_spsc_wake(struct chan_spsc *s);

/* Inlined even where the compiler would not: a constant length then
 * makes the copy a few moves, which is the point of these functions.
 */
#if defined(__GNUC__) || defined(__clang__)
#define CHAN_SPSC_INLINE_	static inline __attribute__((__always_inline__))
#else
#define CHAN_SPSC_INLINE_	static inline
#endif

/* After our cursor store: a sleeper on the other side counted? Only a
 * compiler barrier before the load: the kernel's sleeper, once counted,
 * makes this CPU execute a full barrier before its last look (the
 * asymmetric handshake of chan(7)).
 */
CHAN_SPSC_INLINE_ int chan_spsc_sleepers_(const struct chan_spsc *s)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(s->waiters, __ATOMIC_RELAXED) != 0;
}

/* Not this view's direction, not inline, or another process's mapping. */
CHAN_SPSC_INLINE_ int chan_spsc_off_(const struct chan_spsc *s,
				     unsigned int role)
{
	return s->slow || s->role != role ||
	       __atomic_load_n(s->genp, __ATOMIC_RELAXED) != s->gen;
}

/* A receive view's channel's high-water mark (the ring header's word). */
CHAN_SPSC_INLINE_ const __u64 *chan_spsc_mark_(const struct chan_spsc *s)
{
	return (const __u64 *)((const char *)s->own -
			       offsetof(struct chan_ring_hdr, head) +
			       CHAN_RING_MAX_DEPTH_OFFSET);
}

CHAN_SPSC_INLINE_ void chan_spsc_count_(const struct chan_spsc *s)
{
	__atomic_store_n(s->count, __atomic_load_n(s->count, __ATOMIC_RELAXED) +
			 1, __ATOMIC_RELAXED);
}

/* As chan_ep_try_send(s->ep, msg, len). */
CHAN_SPSC_INLINE_ int chan_spsc_try_send(struct chan_spsc *s, const void *msg,
				     size_t len)
{
	__u64 pos, head, room = (__u64)s->mask + 1;
	__u32 *lenp;

	/*
	 * No message (a zero-length one may have none), or a receive view
	 * (its cursor is the head): the handle's.
	 */
	if (__builtin_expect(!msg || len > s->msg_size ||
			     chan_spsc_off_(s, CHAN_ROLE_SEND) ||
			     (__atomic_load_n(s->state, __ATOMIC_ACQUIRE) &
			      (CHAN_STATE_DESTROYED | CHAN_STATE_CLOSED |
			       CHAN_STATE_NO_RECEIVERS)), 0))
		return chan_ep_try_send(s->ep, msg, len);
	pos = __atomic_load_n(s->own, __ATOMIC_RELAXED);
	if (pos - s->cache >= room) {
		/* Acquire: the receiver is done with the slot we reuse. */
		head = __atomic_load_n(s->other, __ATOMIC_ACQUIRE);
		if (pos - head > room)
			/* Scribbled cursors: the handle decides (EIO). */
			return chan_ep_try_send(s->ep, msg, len);
		s->cache = head;
		if (pos - head == room) {
			/* Full: the high-water mark, as the handle notes it. */
			chan_spsc_depth(s, pos);
			return -EAGAIN;
		}
	}
	memcpy(s->slots + (size_t)(pos & s->mask) * s->stride, msg, len);
	/* Stored only if it changed: its line stays shared otherwise. */
	lenp = &s->lens[pos & s->mask];
	if (__atomic_load_n(lenp, __ATOMIC_RELAXED) != (uint32_t)len)
		__atomic_store_n(lenp, (uint32_t)len, __ATOMIC_RELAXED);
	/* Release: the payload and length before the tail that shows them. */
	__atomic_store_n(s->own, pos + 1, __ATOMIC_RELEASE);
	chan_spsc_count_(s);
	if (__builtin_expect(chan_spsc_sleepers_(s), 0))
		chan_spsc_wake(s);
	return 0;
}

/* As chan_ep_try_recv(s->ep, buf, cap). */
CHAN_SPSC_INLINE_ ssize_t chan_spsc_try_recv(struct chan_spsc *s, void *buf,
					 size_t cap)
{
	__u64 pos, tail, room = (__u64)s->mask + 1;
	const unsigned char *src;
	__u32 len, state;

	if (__builtin_expect(!buf || chan_spsc_off_(s, CHAN_ROLE_RECV), 0))
		return chan_ep_try_recv(s->ep, buf, cap);
	/* Acquire, before the ring: an empty ring after it is drained. */
	state = __atomic_load_n(s->state, __ATOMIC_ACQUIRE);
	if (__builtin_expect(state & CHAN_STATE_DESTROYED, 0))
		return chan_ep_try_recv(s->ep, buf, cap);
	pos = __atomic_load_n(s->own, __ATOMIC_RELAXED);
	if (s->cache - pos - 1 >= room) {
		/* Acquire: pairs with the sender's release of the tail. */
		tail = __atomic_load_n(s->other, __ATOMIC_ACQUIRE);
		if (tail == pos && !(state & (CHAN_STATE_NO_SENDERS |
					      CHAN_STATE_CLOSED)))
			return -EAGAIN;
		if (tail - pos - 1 >= room)
			/* Drained, or scribbled: the handle decides. */
			return chan_ep_try_recv(s->ep, buf, cap);
		s->cache = tail;
		/* The depth seen, against the high-water mark. */
		if (__builtin_expect(tail - pos >
				     __atomic_load_n(chan_spsc_mark_(s),
						     __ATOMIC_RELAXED), 0))
			chan_spsc_depth(s, tail);
	}
	len = __atomic_load_n(&s->lens[pos & s->mask], __ATOMIC_RELAXED);
	if (len > s->msg_size)
		len = s->msg_size;
	if (__builtin_expect(len > cap, 0))
		return chan_ep_try_recv(s->ep, buf, cap);
	src = s->slots + (size_t)(pos & s->mask) * s->stride;
	/*
	 * A message as long as the buffer (every message of a typed
	 * channel): a copy of cap bytes, a few moves when cap is a constant
	 * here, where a copy of len bytes is a call.
	 */
	if (len == cap)
		memcpy(buf, src, cap);
	else
		memcpy(buf, src, len);
	/* Release: our reads of the payload before the head that frees it. */
	__atomic_store_n(s->own, pos + 1, __ATOMIC_RELEASE);
	chan_spsc_count_(s);
	if (__builtin_expect(chan_spsc_sleepers_(s), 0))
		chan_spsc_wake(s);
	return (ssize_t)len;
}

/* As chan_ep_send(s->ep, msg, len): inline, unless it must wait. */
CHAN_SPSC_INLINE_ int chan_spsc_send(struct chan_spsc *s, const void *msg,
				 size_t len)
{
	int ret = chan_spsc_try_send(s, msg, len);

	return ret == -EAGAIN ? chan_ep_send(s->ep, msg, len) : ret;
}

/* As chan_ep_recv(s->ep, buf, cap): inline, unless it must wait. */
CHAN_SPSC_INLINE_ ssize_t chan_spsc_recv(struct chan_spsc *s, void *buf,
				     size_t cap)
{
	ssize_t ret = chan_spsc_try_recv(s, buf, cap);

	return ret == -EAGAIN ? chan_ep_recv(s->ep, buf, cap) : ret;
}

/* CLOCK_MONOTONIC now, in nanoseconds, for deadlines. */
uint64_t chan_now_ns(void);

/* A non-zero tag for a message type, from its name and size. */
uint64_t chan_type_tag(const char *type_name, size_t size);

/*
 * CHAN_DECLARE_TYPED(prefix, T) declares a channel handle that carries only
 * messages of type T: struct prefix, and prefix_tag(), prefix_create(),
 * prefix_create_flags(), prefix_open(), prefix_send(), prefix_try_send(),
 * prefix_send_timeout(), prefix_recv(), prefix_try_recv(),
 * prefix_recv_timeout(), prefix_fd(), prefix_close(). The handle is an
 * endpoint handle (struct chan_ep): on a channel created with
 * prefix_create_flags(..., CHAN_CREATE_MAPPABLE, ...) it takes the fast
 * path. prefix_send() takes a T by value, so passing any other type is a
 * compile error; prefix_open() checks the channel's type tag, so a
 * process built with a different T gets -EPROTOTYPE. (The parameter is
 * not called "name": a macro parameter of that name would also replace
 * the .name designator of struct chan_attr.)
 *
 *	struct point { int x, y; };
 *	CHAN_DECLARE_TYPED(point_chan, struct point)
 *
 *	uint32_t id;
 *	struct point_chan c;
 *	point_chan_create(16, 0600, NULL, &id);
 *	point_chan_open(&c, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0);
 *	point_chan_send(&c, (struct point){ 1, 2 });
 */
#define CHAN_DECLARE_TYPED(prefix, T)					\
struct prefix {								\
	struct chan_ep *ep;						\
};									\
static inline uint64_t prefix##_tag(void)				\
{									\
	return chan_type_tag(#T, sizeof(T));				\
}									\
static inline int prefix##_create_flags(uint32_t capacity,		\
					uint32_t mode,			\
					const char *chan_name,		\
					uint32_t flags, uint32_t *id)	\
{									\
	struct chan_attr a = {						\
		.msg_size = sizeof(T), .capacity = capacity,		\
		.mode = mode, .flags = flags, .type_tag = prefix##_tag(), \
		.name = chan_name,					\
	};								\
	return chan_create(&a, id);					\
}									\
static inline int prefix##_create(uint32_t capacity, uint32_t mode,	\
				  const char *chan_name, uint32_t *id)	\
{									\
	return prefix##_create_flags(capacity, mode, chan_name, 0, id);	\
}									\
static inline int prefix##_open(struct prefix *c, uint32_t id,		\
				unsigned int roles, unsigned int flags)	\
{									\
	return chan_ep_open_typed(&c->ep, id, roles, flags,		\
				  prefix##_tag());			\
}									\
static inline int prefix##_send(struct prefix *c, T msg)		\
{									\
	return chan_ep_send(c->ep, &msg, sizeof(msg));			\
}									\
static inline int prefix##_try_send(struct prefix *c, T msg)		\
{									\
	return chan_ep_try_send(c->ep, &msg, sizeof(msg));		\
}									\
static inline int prefix##_send_timeout(struct prefix *c, T msg,	\
					uint64_t timeout_ns)		\
{									\
	return chan_ep_send_timeout(c->ep, &msg, sizeof(msg), timeout_ns); \
}									\
static inline int prefix##_recv_len_(ssize_t n)				\
{									\
	return n < 0 ? (int)n : n == (ssize_t)sizeof(T) ? 0 : -EBADMSG;	\
}									\
static inline int prefix##_recv(struct prefix *c, T *msg)		\
{									\
	return prefix##_recv_len_(chan_ep_recv(c->ep, msg, sizeof(*msg))); \
}									\
static inline int prefix##_try_recv(struct prefix *c, T *msg)		\
{									\
	return prefix##_recv_len_(chan_ep_try_recv(c->ep, msg,		\
						   sizeof(*msg)));	\
}									\
static inline int prefix##_recv_timeout(struct prefix *c, T *msg,	\
					uint64_t timeout_ns)		\
{									\
	return prefix##_recv_len_(chan_ep_recv_timeout(c->ep, msg,	\
						       sizeof(*msg),	\
						       timeout_ns));	\
}									\
static inline int prefix##_fd(const struct prefix *c)			\
{									\
	return chan_ep_fd(c->ep);					\
}									\
static inline int prefix##_close(struct prefix *c)			\
{									\
	int ret = chan_ep_close(c->ep);					\
	c->ep = NULL;							\
	return ret;							\
}

#ifdef __cplusplus
}
#endif

#endif /* LIBCHAN_H */
