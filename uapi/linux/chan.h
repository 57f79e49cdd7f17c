/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * chan: typed, bounded, multi-producer multi-consumer blocking message
 * channels, driven through the misc device /dev/chan.
 *
 * ABI conventions
 * ---------------
 * Every ioctl takes a pointer to a struct that begins with "__u32 size;
 * __u32 flags;". User space sets size to sizeof() the struct it was built
 * with. Each command has a minimum size, that of its struct's first
 * version (up to the last field it had): shorter is EINVAL; between the
 * minimum and the kernel's own size the struct is zero-extended (an older
 * binary on a newer kernel); longer is accepted if the tail the kernel
 * does not know is all zeros (a newer binary on an older kernel), else
 * E2BIG. struct chan_open is at its second version (out_token was added;
 * its first ended at type_tag), and so is struct chan_msg (lost was
 * added; its first, 32 bytes, ended at timeout_ns); struct chan_info is
 * at its third (v2, 192 bytes, added mappers, __reserved2 and corrupt;
 * v3, 208 bytes, added max_depth, __reserved3 and lost; its first, 176
 * bytes, ended at name); the others are at their first. Output fields
 * are written only up to the size user space gave.
 *
 * The command numbers are _IO(): the size travels in the struct, so one
 * number serves every version of it (as iommufd's do). A flag bit the
 * kernel does not know is EOPNOTSUPP rather than EINVAL, so that user
 * space can probe for a feature: EOPNOTSUPP says "this kernel lacks it",
 * EINVAL "a parameter is wrong" (CREATE also reports the features it
 * knows).
 *
 * Errors (returned as -1 with errno set by the ioctl(2) wrapper):
 *
 *  EINVAL      size shorter than the first version of the struct, a
 *              reserved field is non-zero, or a parameter is out of range
 *  E2BIG       size is larger than the kernel knows and the unknown tail is
 *              not all zeros
 *  EOPNOTSUPP  a flag bit the kernel does not know; RECV, RECV_BATCH or
 *              CALL by ID on a CHAN_CREATE_BROADCAST channel (receiving
 *              needs an endpoint's cursor)
 *  ENOTTY      unknown ioctl command
 *  EAGAIN      the operation would block (non-blocking call or fd)
 *  ETIMEDOUT   the timeout expired before the operation could complete
 *  EINTR       a signal arrived while waiting and its handler was installed
 *              without SA_RESTART. Otherwise (no handler, as for a stop
 *              and continue, or SA_RESTART) the call is restarted, as a
 *              pipe read is; a relative timeout keeps its end (see
 *              struct chan_msg)
 *  EPIPE       the channel was closed (CHAN_IOC_CLOSE): every send;
 *              a receive once the channel is drained. Also, only on a
 *              channel fd (an endpoint): send: no receiver endpoint is
 *              left; receive: no sender endpoint is left and the channel
 *              has been drained. SEND and RECV by ID on /dev/chan are not
 *              endpoints and see EPIPE only for a closed channel
 *  EIDRM       the channel was destroyed (also while waiting)
 *  EMSGSIZE    send: the message is larger than the channel's msg_size;
 *              receive: the next message is larger than the caller's
 *              buffer (the message stays queued and its length is
 *              returned in chan_msg.len)
 *  ENOENT      no channel with that ID or name in this IPC namespace
 *  EEXIST      create: the name is already in use
 *  EACCES      the caller lacks the permission the call needs: read to
 *              receive or to describe (INFO), write to send, either to
 *              LOOKUP a name or to WAKE by ID, both to mmap a ring;
 *              CAP_IPC_OWNER in the user namespace that owns the
 *              channel's IPC namespace overrides
 *  EPERM       destroy, close by ID, or INFO with CHAN_INFO_RESET: the
 *              caller neither owns the
 *              channel nor has CAP_IPC_OWNER (close on a channel fd: the
 *              endpoint has no send role, nor is the caller the owner);
 *              mmap: the mapping is executable
 *  EALREADY    close: the channel was closed already (reopen: it is not
 *              closed)
 *  EBADF       a channel fd was used for a role it was not opened with
 *  EPROTOTYPE  open: the channel's type tag differs from the one expected
 *  EMFILE      open: the process has no file descriptor left
 *  ENFILE      open: the system has no file left
 *  ENODEV      mmap: the channel was not created CHAN_CREATE_MAPPABLE
 *  EBUSY       mmap: the endpoint is mapped already (also by another
 *              process sharing the fd), or its last mapping is still
 *              being repaired. On a CHAN_CREATE_SPSC channel: OPEN of
 *              a second sender (receiver) endpoint while one is open;
 *              SEND, RECV, their batches and CALL by ID on /dev/chan
 *  ENOSPC      a limit was reached (channels per namespace or per user,
 *              ring bytes per channel, per user or in all, the 65534
 *              owner tokens of a mappable channel); a channel counts
 *              until it is freed: destroyed and its last fd closed
 *  ENOMEM      the kernel could not allocate memory
 *  EFAULT      a user pointer is bad. A receive checks its buffer
 *              (faulting it in without writing to it if needed) once a
 *              message is there and before it takes it, so the message
 *              stays queued. Only a buffer that is mapped but not
 *              writable, or is unmapped by another thread in that
 *              instant, loses the message, which is then counted in
 *              chan_info.dropped. A receive that takes no message never
 *              writes to the buffer or faults it in
 *  EBADMSG     receive with CHAN_MSG_BADMSG on a CHAN_CREATE_CRC32C
 *              channel: the message's check failed; it was taken and is
 *              returned as it was found (length in chan_msg.len)
 *  EIO         the shared ring is inconsistent (only possible when user
 *              space corrupts a mapped ring)
 *  ENOBUFS     receive on a lossy CHAN_CREATE_BROADCAST channel: this
 *              receiver fell more than capacity messages behind and
 *              missed the oldest (chan_msg.lost says how many); the next
 *              receive goes on from the oldest message still held
 *
 * Timeouts are nanoseconds on CLOCK_MONOTONIC: relative to the call unless
 * CHAN_MSG_ABSTIME is given.
 */
#ifndef _UAPI_LINUX_CHAN_H
#define _UAPI_LINUX_CHAN_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/const.h>

#define CHAN_DEVICE_NAME	"chan"
#define CHAN_IOC_TYPE		0xC4

/* Length of a channel name including the terminating NUL. */
#define CHAN_NAME_MAX		64

/* Largest message and capacity a channel may be created with. */
#define CHAN_MSG_SIZE_MAX	_BITUL(20)
#define CHAN_CAPACITY_MAX	_BITUL(20)

/* Command numbers: the ioctl size field is unused, sizes travel in the structs. */
#define CHAN_CMD_CREATE		0x01
#define CHAN_CMD_OPEN		0x02
#define CHAN_CMD_SEND		0x03
#define CHAN_CMD_RECV		0x04
#define CHAN_CMD_DESTROY	0x05
#define CHAN_CMD_INFO		0x06
#define CHAN_CMD_LOOKUP		0x07
#define CHAN_CMD_WAKE		0x08
#define CHAN_CMD_SEND_BATCH	0x09
#define CHAN_CMD_RECV_BATCH	0x0a
#define CHAN_CMD_CALL		0x0b
#define CHAN_CMD_CLOSE		0x0c

/* Features reported by CHAN_IOC_CREATE in chan_create.out_features. */
#define CHAN_FEAT_ID_IO		_BITULL(0)	/* SEND/RECV by ID on /dev/chan */
#define CHAN_FEAT_FD_IO		_BITULL(1)	/* SEND/RECV on a channel fd */
#define CHAN_FEAT_POLL		_BITULL(2)	/* poll/epoll on a channel fd */
#define CHAN_FEAT_RW		_BITULL(3)	/* read(2)/write(2) of messages */
#define CHAN_FEAT_NAMES		_BITULL(4)	/* named channels, LOOKUP */
#define CHAN_FEAT_TIMEOUT	_BITULL(5)	/* relative and absolute timeouts */
#define CHAN_FEAT_TYPE_TAG	_BITULL(6)	/* type tag checked at open */
#define CHAN_FEAT_INFO_NEXT	_BITULL(7)	/* INFO can enumerate */
#define CHAN_FEAT_AUTODESTROY	_BITULL(8)	/* CHAN_CREATE_AUTODESTROY */
#define CHAN_FEAT_MMAP		_BITULL(9)	/* CHAN_CREATE_MAPPABLE, tokens, WAKE */
#define CHAN_FEAT_BATCH		_BITULL(10)	/* SEND_BATCH, RECV_BATCH */
#define CHAN_FEAT_CALL		_BITULL(11)	/* CALL */
#define CHAN_FEAT_CLOSE		_BITULL(12)	/* CLOSE, CHAN_STATE_CLOSED */
#define CHAN_FEAT_CRC32C	_BITULL(13)	/* CHAN_CREATE_CRC32C, BADMSG */
#define CHAN_FEAT_STATS		_BITULL(14)	/* chan_info.max_depth, CHAN_INFO_RESET */
#define CHAN_FEAT_SPSC		_BITULL(15)	/* CHAN_CREATE_SPSC */
#define CHAN_FEAT_BROADCAST	_BITULL(16)	/* CHAN_CREATE_BROADCAST, LOSSLESS */
#define CHAN_FEAT_STREAM	_BITULL(17)	/* CHAN_CREATE_STREAM, FIONREAD */
#define CHAN_FEAT_SPSC_COMPACT	_BITULL(18)	/* SPSC|MAPPABLE: compact ring */

/**
 * struct chan_ring_geom - layout of a channel's ring (returned by CREATE)
 * @msg_size: largest payload a slot holds, in bytes
 * @slot_size: bytes from one slot to the next
 * @capacity: number of slots, a power of two
 * @slots_offset: offset of slot 0 from the start of the ring
 * @tail_offset: offset of the producer cursor (__u64)
 * @head_offset: offset of the consumer cursor (__u64)
 * @kstate_offset: offset of the kernel-written &struct chan_ring_kstate
 * @__reserved: always zero
 * @map_size: total size of the ring memory, in bytes
 */
struct chan_ring_geom {
	__u32 msg_size;
	__u32 slot_size;
	__u32 capacity;
	__u32 slots_offset;
	__u32 tail_offset;
	__u32 head_offset;
	__u32 kstate_offset;
	__u32 __reserved;
	__aligned_u64 map_size;
};

/* chan_create.flags */
#define CHAN_CREATE_AUTODESTROY	_BITUL(0)	/* see struct chan_create */
#define CHAN_CREATE_MAPPABLE	_BITUL(1)	/* the ring can be mmap-ed */
#define CHAN_CREATE_CRC32C	_BITUL(2)	/* every message carries a CRC32C */
#define CHAN_CREATE_SPSC	_BITUL(3)	/* one sender, one receiver endpoint */
#define CHAN_CREATE_BROADCAST	_BITUL(4)	/* every receiver gets every message */
#define CHAN_CREATE_LOSSLESS	_BITUL(5)	/* broadcast: senders wait for all */
#define CHAN_CREATE_STREAM	_BITUL(6)	/* a byte stream, like a pipe */

/**
 * struct chan_create - argument of CHAN_IOC_CREATE
 * @size: sizeof(struct chan_create)
 * @flags: CHAN_CREATE_* flags
 * @msg_size: largest message, 1..CHAN_MSG_SIZE_MAX bytes
 * @capacity: number of messages the channel holds, 1..CHAN_CAPACITY_MAX;
 *	rounded up to a power of two (the result is in @out_ring.capacity)
 * @mode: permission bits (0..0777) for owner, group and others: read
 *	allows receiving, write allows sending; 0 means 0600
 * @__reserved: must be zero
 * @type_tag: opaque tag naming the message type, 0 for none; OPEN may
 *	require it to match
 * @name: optional NUL-terminated name, unique in the IPC namespace; an
 *	empty string means no name. Printable ASCII other than space and
 *	'/'.
 * @out_id: output: the new channel's ID (never 0)
 * @__reserved2: must be zero
 * @out_features: output: CHAN_FEAT_* bits this kernel supports
 * @out_ring: output: geometry of the channel's ring
 *
 * The creator becomes the owner (effective uid and gid) and is charged
 * for the channel (one channel, and its ring's bytes) until it is freed.
 *
 * CHAN_CREATE_AUTODESTROY destroys the channel when its last endpoint
 * closes, once an endpoint was opened by someone who may destroy it (its
 * owner, or a holder of CAP_IPC_OWNER): until then, others who may only
 * read or write cannot destroy it (and take its name) by opening and
 * closing an endpoint. The last close and an OPEN are atomic: an OPEN
 * either gets a live channel or fails with EIDRM.
 *
 * CHAN_CREATE_MAPPABLE lets endpoints mmap(2) the ring (the fast path; see
 * "Mapping" below). Every process that maps it can then write anything
 * into it: the channel's users must trust one another, since any of them
 * can spoil the channel's messages for the rest (never the kernel or
 * anything outside the channel). A channel that is not mappable is used
 * only through the kernel and is safe among mutually untrusting users.
 *
 * CHAN_CREATE_CRC32C: every message carries a check, computed by its
 * sender (the kernel on its paths, libchan on the fast path): the CRC32C
 * (Castagnoli) of its length as a little-endian __u32 followed by its
 * payload. A receiver never gets a message whose check fails: it is
 * skipped and counted (chan_info.corrupt, and dropped), or, with
 * CHAN_MSG_BADMSG, returned as found with EBADMSG. On a mapped ring this
 * turns a scribbled slot into a counted loss instead of silent garbage.
 * Each slot then holds the check before the payload ("Ring layout").
 *
 * CHAN_CREATE_SPSC: a single-producer single-consumer channel, used
 * through its two endpoints: OPEN of a second endpoint with the send
 * (receive) role while one is open fails with EBUSY (an endpoint with
 * both roles is both parties), and so do SEND, RECV, SEND_BATCH,
 * RECV_BATCH and CALL by ID on /dev/chan (the kernel API's handles count
 * as endpoints). INFO, LOOKUP, WAKE, CLOSE and DESTROY by ID work as on
 * any channel. With CHAN_CREATE_MAPPABLE as well, on a kernel that
 * reports CHAN_FEAT_SPSC_COMPACT, the ring is a compact SPSC ring
 * (CHAN_RING_VERSION_SPSC, "Compact SPSC ring" below): no slot state
 * words, slots of out_ring.slot_size = 8 + msg_size rounded up to 8
 * bytes, and no repair when a mapping goes. Older kernels gave such a
 * channel a ring of the common layout (CHAN_RING_VERSION), on which
 * libchan ran an SPSC variant of the slot protocol; a program that reads
 * the ring itself must check chan_ring_hdr.version. Threads sharing one
 * endpoint are one party: on the fast path they must take turns (a
 * handle is used by one thread at a time); if they do not, they can only
 * spoil their own channel's messages. It combines with AUTODESTROY,
 * MAPPABLE and CRC32C; with BROADCAST, LOSSLESS or STREAM it is EINVAL.
 *
 * CHAN_CREATE_STREAM makes a byte stream: bytes without message
 * boundaries, as through a pipe, with many writers and readers. msg_size
 * is the atomic write size: a write of at most msg_size bytes is never
 * interleaved with another writer's bytes (a longer write(2) is split into
 * pieces of msg_size bytes, which may interleave with other writers', as a
 * pipe's writes beyond PIPE_BUF); capacity x msg_size bounds the bytes
 * buffered. A read of N bytes returns 1..N bytes, whatever is there
 * (possibly from several writes), waiting only while nothing is there; the
 * rest of a partly read write stays, in order, for the next read. SEND
 * sends one atomic write (0..msg_size bytes, EMSGSIZE beyond; 0 sends
 * nothing); RECV returns 1..len bytes in chan_msg.len. The end of the
 * stream (drained, and closed or, on an endpoint, no sender endpoint
 * left) is a read(2) of 0 and EPIPE from RECV. SEND_BATCH, RECV_BATCH and
 * CALL fail with EOPNOTSUPP. INFO counts writes (atomic pieces), not
 * bytes: sent, received, depth; FIONREAD on a receiving channel fd gives
 * the bytes queued, and its fdinfo the bytes sent and received. Only
 * CHAN_CREATE_AUTODESTROY combines with it (else EINVAL): a stream is not
 * mappable (yet) nor checked.
 *
 * CHAN_CREATE_BROADCAST: every receiver endpoint gets every message sent
 * after it was opened (it starts at the current tail), through a cursor
 * of its own that the kernel keeps. Senders never wait for receivers: a
 * receiver that falls more than capacity messages behind loses the
 * oldest, and its next receive fails once with ENOBUFS (struct chan_msg
 * says how many it missed), then goes on from the oldest message still
 * held. With CHAN_CREATE_LOSSLESS as well, senders instead wait (or get
 * EAGAIN or ETIMEDOUT) while the slowest receiver endpoint is capacity
 * messages behind; a receiver endpoint that closes (or whose process
 * dies) stops holding them back. So on a lossless channel any receiver
 * endpoint, a process with only read permission, can stall the senders:
 * that is what lossless means. Receiving needs a cursor, which only an
 * endpoint has: RECV, RECV_BATCH and CALL by ID (on /dev/chan) on a
 * broadcast channel fail with EOPNOTSUPP. LOSSLESS without BROADCAST,
 * and BROADCAST with MAPPABLE or CRC32C (not supported yet), are EINVAL.
 */
struct chan_create {
	__u32 size;
	__u32 flags;
	__u32 msg_size;
	__u32 capacity;
	__u32 mode;
	__u32 __reserved;
	__aligned_u64 type_tag;
	char name[CHAN_NAME_MAX];
	__u32 out_id;
	__u32 __reserved2;
	__aligned_u64 out_features;
	struct chan_ring_geom out_ring;
};

/* chan_open.roles */
#define CHAN_ROLE_SEND		_BITUL(0)
#define CHAN_ROLE_RECV		_BITUL(1)

/* chan_open.flags */
#define CHAN_OPEN_NONBLOCK	_BITUL(0)	/* O_NONBLOCK on the new fd */
#define CHAN_OPEN_CLOEXEC	_BITUL(1)	/* O_CLOEXEC on the new fd */

/**
 * struct chan_open - argument of CHAN_IOC_OPEN; the ioctl returns a new
 *	channel fd (an endpoint)
 * @size: sizeof(struct chan_open)
 * @flags: CHAN_OPEN_* flags
 * @id: channel ID
 * @roles: CHAN_ROLE_SEND and/or CHAN_ROLE_RECV, at least one
 * @type_tag: if non-zero, must equal the channel's type tag (else
 *	EPROTOTYPE; checked after the permission, so that the tag tells
 *	nothing to a caller without it)
 * @out_token: output: the endpoint's owner token (2..65535), which its
 *	fast path writes into the slots it claims in a mapped ring (the
 *	kernel's own paths claim with CHAN_OWNER_KERNEL); 0 if the channel
 *	is not mappable or the caller may not both read and write it (such
 *	an endpoint can never be mapped, and takes no token, so that a
 *	caller with one permission cannot use up the tokens of others);
 *	written only if @size covers it
 * @__reserved: must be zero
 *
 * Sending needs write permission, receiving read permission (EACCES). The
 * channel counts its sender and receiver endpoints: when the last sender
 * endpoint closes, receivers drain what is queued and then get EPIPE; when
 * the last receiver endpoint closes, senders get EPIPE. A new endpoint of
 * the role reconnects the channel. An OPEN that fails (EMFILE, ENOMEM...)
 * changes nothing on the channel.
 *
 * On the fd, read(2) and write(2) move one whole message per call, and so
 * do readv(2) and writev(2) (the segments scattered or gathered, as on a
 * SOCK_SEQPACKET socket). read(2) returns 0 only for a zero-length
 * message: the end of the stream is EPIPE. A blocked read or write is
 * restarted after a signal, as on a pipe.
 */
struct chan_open {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 roles;
	__aligned_u64 type_tag;
	__u32 out_token;
	__u32 __reserved;
};

/* chan_msg.flags */
#define CHAN_MSG_NONBLOCK	_BITUL(0)	/* fail with EAGAIN, never sleep */
#define CHAN_MSG_TIMEOUT	_BITUL(1)	/* timeout_ns is valid */
#define CHAN_MSG_ABSTIME	_BITUL(2)	/* timeout_ns is absolute */
#define CHAN_MSG_WAITALL	_BITUL(3)	/* batches: wait for every message */
#define CHAN_MSG_BADMSG		_BITUL(4)	/* RECV: a failed check is EBADMSG */

/**
 * struct chan_msg - argument of CHAN_IOC_SEND and CHAN_IOC_RECV
 * @size: sizeof(struct chan_msg)
 * @flags: CHAN_MSG_* flags other than WAITALL (batches only, else
 *	EOPNOTSUPP); NONBLOCK excludes TIMEOUT, ABSTIME needs TIMEOUT;
 *	BADMSG only on RECV (else EOPNOTSUPP), where a message of a
 *	CHAN_CREATE_CRC32C channel whose check fails is returned with
 *	EBADMSG instead of being skipped (no effect on other channels)
 * @id: channel ID on /dev/chan; must be 0 on a channel fd
 * @len: send: payload length (0..msg_size); receive: in, the buffer size;
 *	out, the length of the message received, or on EMSGSIZE the length
 *	of the message that did not fit
 * @buf: user address of the payload or receive buffer
 * @timeout_ns: with CHAN_MSG_TIMEOUT, the longest wait (or the deadline on
 *	the caller's time namespace's CLOCK_MONOTONIC with CHAN_MSG_ABSTIME);
 *	otherwise must be zero. A relative timeout interrupted by a signal
 *	is turned into the same deadline given absolutely: the kernel
 *	writes the deadline here and adds CHAN_MSG_ABSTIME to @flags, so
 *	that the restarted call, or a caller that gets EINTR and calls again
 *	with the same struct, keeps the original end however long the task
 *	was stopped (build the struct afresh for a new wait)
 * @lost: output, RECV on a CHAN_CREATE_BROADCAST channel: with ENOBUFS,
 *	how many messages this receiver missed (it fell more than capacity
 *	behind); 0 otherwise. Added in the second version of the struct
 *	(40 bytes); written only if @size covers it
 *
 * Without NONBLOCK or TIMEOUT the call waits as long as needed. A channel
 * fd opened with O_NONBLOCK behaves as if NONBLOCK were given. Sending by
 * ID needs write permission, receiving by ID read permission; both are
 * checked on every call.
 */
struct chan_msg {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 len;
	__aligned_u64 buf;
	__aligned_u64 timeout_ns;
	__aligned_u64 lost;
};

/**
 * struct chan_destroy - argument of CHAN_IOC_DESTROY
 * @size: sizeof(struct chan_destroy)
 * @flags: none defined, must be zero
 * @id: channel ID
 * @__reserved: must be zero
 *
 * Removes the ID, wakes every waiter with EIDRM and discards queued
 * messages (counted in chan_info.discarded). Open channel fds stay valid
 * but every operation on them fails with EIDRM. Needs the owner's
 * effective uid or CAP_IPC_OWNER (EPERM).
 */
struct chan_destroy {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

/**
 * struct chan_close - argument of CHAN_IOC_CLOSE
 * @size: sizeof(struct chan_close)
 * @flags: CHAN_CLOSE_REOPEN to reopen a closed channel, else zero
 * @id: channel ID on /dev/chan; 0 on a channel fd, which closes its own
 *	channel
 * @__reserved: must be zero
 *
 * Closes the channel for sending: every later send, by any path (ioctl,
 * write(2), batch, call, the mapped fast path), fails with EPIPE;
 * receivers take what is queued and then get EPIPE too, by ID as well as
 * on channel fds; every waiter is woken to see it. Poll reports EPOLLHUP
 * to a sender endpoint, and to a receiver endpoint once the channel is
 * drained. Unlike DESTROY, the ID, the name and the queued messages stay
 * (INFO shows CHAN_STATE_CLOSED); unlike the last sender endpoint leaving,
 * no new endpoint undoes it: only the owner (or a holder of
 * CAP_IPC_OWNER) can, with CHAN_CLOSE_REOPEN, so that a writer the owner
 * does not trust cannot end the channel's stream for good.
 *
 * A sender endpoint may close its channel (on its fd), and so may the
 * owner or a holder of CAP_IPC_OWNER (by ID, or on any endpoint of the
 * channel); anyone else gets EPERM. A channel closed already gives
 * EALREADY, a destroyed one EIDRM. CHAN_CLOSE_REOPEN needs the owner or
 * CAP_IPC_OWNER (EPERM) and a closed channel (EALREADY if it is open).
 *
 * A send on the fast path that read the state before the close may still
 * land after it, even after a receiver saw EPIPE: it stays queued
 * (counted in depth) for the next receive, or is counted as discarded
 * when the channel is destroyed; it is never lost uncounted.
 */
struct chan_close {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

/* chan_close.flags */
#define CHAN_CLOSE_REOPEN	_BITUL(0)	/* the owner reopens a closed channel */

/* chan_info.flags */
#define CHAN_INFO_NEXT		_BITUL(0)	/* the lowest ID >= id the caller may read */
#define CHAN_INFO_RESET		_BITUL(1)	/* the owner resets max_depth */

/* chan_info.state */
#define CHAN_STATE_DESTROYED	_BITUL(0)
#define CHAN_STATE_NO_SENDERS	_BITUL(1)	/* last sender endpoint closed */
#define CHAN_STATE_NO_RECEIVERS	_BITUL(2)	/* last receiver endpoint closed */
#define CHAN_STATE_CLOSED	_BITUL(3)	/* closed for sending (CLOSE) */

/**
 * struct chan_info - argument of CHAN_IOC_INFO
 * @size: sizeof(struct chan_info)
 * @flags: CHAN_INFO_* flags
 * @id: in: channel ID on /dev/chan (0 on a channel fd, which describes its
 *	own channel); out: the ID described
 * @state: CHAN_STATE_* bits
 * @chan_flags: the CHAN_CREATE_* flags the channel was created with
 * @mode: permission bits
 * @uid: owner's user ID (in the caller's user namespace)
 * @gid: owner's group ID (in the caller's user namespace)
 * @msg_size: largest message
 * @capacity: number of slots
 * @depth: messages queued (or being written or read) now
 * @senders: open sender endpoints
 * @receivers: open receiver endpoints
 * @__reserved: must be zero
 * @type_tag: the type tag given at create
 * @sent: messages sent
 * @received: messages received
 * @dropped: messages lost after they were sent: a receive whose copy to
 *	user memory faulted, a message whose sender died writing it (a
 *	tombstone, counted when a receiver passes it), a message whose
 *	receiver died reading it from a mapped ring
 * @discarded: messages still queued when the channel was destroyed
 * @send_waits: times a sender had to sleep
 * @recv_waits: times a receiver had to sleep
 * @name: the channel's name, empty if none
 * @mappers: live mappings of the ring: endpoints whose mapping has not
 *	yet gone (0 if the channel is not mappable). Added in the second
 *	version of the struct; written only if @size covers it
 * @__reserved2: must be zero
 * @corrupt: messages of a CHAN_CREATE_CRC32C channel whose check failed
 *	on receive: those skipped are in @dropped too, those returned with
 *	EBADMSG in @received
 * @max_depth: the highest @depth the channel reached since it was created
 *	or since its last CHAN_INFO_RESET (a high-water mark, never below
 *	@depth): exact for sends through the kernel, which look after each
 *	message; libchan's fast path looks after every 64th position and
 *	whenever it finds the ring full, so a peak reached by fast-path
 *	sends alone, short of full, may be reported up to 63 low. Added in
 *	the third version of the struct, as were @__reserved3 and @lost;
 *	written only if @size covers it
 * @__reserved3: must be zero
 * @lost: messages that receivers of a lossy CHAN_CREATE_BROADCAST channel
 *	missed (overruns, each reported with ENOBUFS), summed over every
 *	receiver endpoint it ever had; 0 on other channels
 *
 * On a CHAN_CREATE_BROADCAST channel each message is received once by
 * each receiver endpoint: @received counts deliveries (a message read by
 * three receivers counts three), @depth is how far the slowest receiver
 * endpoint is behind the tail (0 with no receiver; at most capacity),
 * @discarded is that depth when the channel was destroyed, and @dropped
 * counts receives whose copy to user memory faulted. The sum below does
 * not hold for them.
 *
 * By ID, INFO needs read permission (EACCES); on a channel fd it needs
 * none. With CHAN_INFO_NEXT it describes the channel with the lowest ID
 * >= @id among those the caller may read, so enumeration shows only
 * those.
 *
 * CHAN_INFO_RESET (not with CHAN_INFO_NEXT: EINVAL) first resets the
 * channel's statistics, then describes it: @max_depth restarts from the
 * current depth. Nothing else is reset: sent, received, dropped,
 * discarded and corrupt keep counting from the channel's creation, so
 * that they still satisfy the equation below (a reader wanting rates
 * takes differences). It needs the owner (effective uid) or
 * CAP_IPC_OWNER in the user namespace that owns the channel's IPC
 * namespace, by ID as on a channel fd (EPERM).
 *
 * The counts come from the ring's cursors: sent is every position a
 * sender claimed, received what receivers claimed less what was dropped,
 * depth (or, once destroyed, discarded) what lies between. So they
 * satisfy sent = received + dropped + discarded + depth, and a message is
 * counted as sent before it can be received. On a mapped ring the cursors
 * and the count of tombstones that user space passed are in shared memory
 * and as true as the mappers keep them (clamped, never trusted for
 * anything else).
 */
struct chan_info {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 state;
	__u32 chan_flags;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 msg_size;
	__u32 capacity;
	__u32 depth;
	__u32 senders;
	__u32 receivers;
	__u32 __reserved;
	__aligned_u64 type_tag;
	__aligned_u64 sent;
	__aligned_u64 received;
	__aligned_u64 dropped;
	__aligned_u64 discarded;
	__aligned_u64 send_waits;
	__aligned_u64 recv_waits;
	char name[CHAN_NAME_MAX];
	__u32 mappers;
	__u32 __reserved2;
	__aligned_u64 corrupt;
	__u32 max_depth;
	__u32 __reserved3;
	__aligned_u64 lost;
};

/**
 * struct chan_lookup - argument of CHAN_IOC_LOOKUP
 * @size: sizeof(struct chan_lookup)
 * @flags: none defined, must be zero
 * @name: NUL-terminated name to look up
 * @out_id: output: the channel's ID
 * @__reserved: must be zero
 *
 * Needs read or write permission on the channel.
 */
struct chan_lookup {
	__u32 size;
	__u32 flags;
	char name[CHAN_NAME_MAX];
	__u32 out_id;
	__u32 __reserved;
};

/**
 * struct chan_wake - argument of CHAN_IOC_WAKE
 * @size: sizeof(struct chan_wake)
 * @flags: none defined, must be zero
 * @id: channel ID on /dev/chan; must be 0 on a channel fd
 * @roles: whom to wake: CHAN_ROLE_RECV a receiver sleeping in the kernel,
 *	CHAN_ROLE_SEND a sender (and, either way, every poller of that
 *	direction); at least one
 *
 * The fast path's doorbell: a process that sent (received) through a
 * mapped ring and finds chan_ring_kstate.recv_waiters (send_waiters)
 * non-zero asks the kernel to wake one. A waiter woken for nothing looks
 * at the ring and sleeps again, so a needless WAKE costs only time. By ID
 * it needs read or write permission.
 */
struct chan_wake {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 roles;
};

/* Most messages one SEND_BATCH or RECV_BATCH moves. */
#define CHAN_BATCH_MAX		1024

/**
 * struct chan_iov - one message of a batch
 * @buf: user address of the payload or receive buffer
 * @len: send: payload length; receive: in, the buffer size; out, the
 *	length of the message received (or, on EMSGSIZE, of the message
 *	that did not fit)
 * @__reserved: must be zero
 */
struct chan_iov {
	__aligned_u64 buf;
	__u32 len;
	__u32 __reserved;
};

/**
 * struct chan_batch - argument of CHAN_IOC_SEND_BATCH and
 *	CHAN_IOC_RECV_BATCH
 * @size: sizeof(struct chan_batch)
 * @flags: CHAN_MSG_* flags, as for struct chan_msg, and CHAN_MSG_WAITALL
 * @id: channel ID on /dev/chan; must be 0 on a channel fd
 * @count: messages at @vec, 1..CHAN_BATCH_MAX
 * @vec: user address of an array of @count struct chan_iov
 * @timeout_ns: as in struct chan_msg
 *
 * Sends (receives) up to @count messages in one call, in order, as
 * sendmmsg(2) and recvmmsg(2) do. Only the first message waits (as the
 * flags and timeout allow), unless CHAN_MSG_WAITALL asks to wait for each
 * until the deadline. The ioctl returns how many messages were moved; an
 * error is returned only if none was, and otherwise stops the batch (the
 * next call reports it). Permissions and errors are those of SEND and
 * RECV, plus EINVAL for a bad @count or a non-zero reserved field in an
 * entry.
 */
struct chan_batch {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 count;
	__aligned_u64 vec;
	__aligned_u64 timeout_ns;
};

/**
 * struct chan_call - argument of CHAN_IOC_CALL
 * @size: sizeof(struct chan_call)
 * @flags: CHAN_MSG_* flags (not WAITALL): one deadline for the send and
 *	the receive
 * @id: on /dev/chan, the channel to send on; must be 0 on a channel fd,
 *	which sends on its own channel
 * @reply_id: on /dev/chan, the channel to receive from; must be 0 on a
 *	channel fd
 * @reply_fd: on a channel fd, a channel fd with the receive role to
 *	receive from (it may be the same fd); must be -1 on /dev/chan
 * @send_len: request length
 * @send_buf: user address of the request
 * @recv_buf: user address of the reply buffer
 * @recv_len: in, the reply buffer's size; out, the reply's length (or, on
 *	EMSGSIZE, the length of the reply that did not fit)
 * @out_sent: output: 1 once the request was sent, else 0
 * @timeout_ns: as in struct chan_msg
 *
 * A request and its reply in one system call (as a Zircon channel call or
 * a binder transaction): send one message, then receive one, each as SEND
 * and RECV would. An error before the request went leaves @out_sent 0. A
 * signal while waiting for the reply fails the call with EINTR (never a
 * restart, which would send the request again); @out_sent says the
 * request went.
 */
struct chan_call {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 reply_id;
	__s32 reply_fd;
	__u32 send_len;
	__aligned_u64 send_buf;
	__aligned_u64 recv_buf;
	__u32 recv_len;
	__u32 out_sent;
	__aligned_u64 timeout_ns;
};

#define CHAN_IOC_CREATE		_IO(CHAN_IOC_TYPE, CHAN_CMD_CREATE)
#define CHAN_IOC_OPEN		_IO(CHAN_IOC_TYPE, CHAN_CMD_OPEN)
#define CHAN_IOC_SEND		_IO(CHAN_IOC_TYPE, CHAN_CMD_SEND)
#define CHAN_IOC_RECV		_IO(CHAN_IOC_TYPE, CHAN_CMD_RECV)
#define CHAN_IOC_DESTROY	_IO(CHAN_IOC_TYPE, CHAN_CMD_DESTROY)
#define CHAN_IOC_INFO		_IO(CHAN_IOC_TYPE, CHAN_CMD_INFO)
#define CHAN_IOC_LOOKUP		_IO(CHAN_IOC_TYPE, CHAN_CMD_LOOKUP)
#define CHAN_IOC_WAKE		_IO(CHAN_IOC_TYPE, CHAN_CMD_WAKE)
#define CHAN_IOC_SEND_BATCH	_IO(CHAN_IOC_TYPE, CHAN_CMD_SEND_BATCH)
#define CHAN_IOC_RECV_BATCH	_IO(CHAN_IOC_TYPE, CHAN_CMD_RECV_BATCH)
#define CHAN_IOC_CALL		_IO(CHAN_IOC_TYPE, CHAN_CMD_CALL)
#define CHAN_IOC_CLOSE		_IO(CHAN_IOC_TYPE, CHAN_CMD_CLOSE)

/*
 * Ring layout. The ring is one block of memory: a header, then capacity
 * slots of slot_size bytes from slots_offset (CREATE reports both in
 * struct chan_ring_geom). A mappable ring has a header page
 * (CHAN_RING_HDR_SIZE) and is map_size bytes, whole pages; one that is not
 * has a header of CHAN_RING_HDR_MIN bytes that shares its first page with
 * the slots. All-zero memory is an empty ring.
 *
 * In a CHAN_CREATE_CRC32C channel a slot's payload is the message's check
 * (CHAN_CRC_SIZE bytes, little-endian) followed by the message, and the
 * slot's len counts both: the ring's msg_size (chan_ring_geom.msg_size,
 * chan_ring_hdr.msg_size) is the channel's plus CHAN_CRC_SIZE. A slot
 * shorter than CHAN_CRC_SIZE, or whose check does not match, is corrupt.
 *
 * Mapping: mmap(2) of a channel fd maps the ring of a channel created
 * CHAN_CREATE_MAPPABLE (else ENODEV). The caller needs read and write
 * permission on the channel (EACCES) whatever the endpoint's roles; the
 * mapping must be MAP_SHARED (EINVAL), at offset 0, exactly map_size bytes
 * (EINVAL), and never executable (EPERM; mprotect() cannot add it later).
 * It is not inherited by fork() and cannot grow. An endpoint has one
 * mapping at a time (EBUSY, also for a process that shares the fd); a
 * destroyed channel cannot be mapped (EIDRM).
 *
 * The endpoint's fast path claims slots with its owner token (struct
 * chan_open.out_token). When the last piece of the mapping goes (munmap,
 * exit, exec, a kill at any instruction), the kernel repairs the ring for
 * that token: a slot it was WRITING becomes a FULL tombstone that
 * receivers skip (and count as dropped), a slot it was READING becomes
 * EMPTY (its message counted as dropped). Then the endpoint may map again.
 * (Not on a compact SPSC ring: see below.)
 *
 * Compact SPSC ring (CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE, reported by
 * CHAN_FEAT_SPSC_COMPACT; chan_ring_hdr.version is CHAN_RING_VERSION_SPSC).
 * The header page is as above (tail, head, kstate, the high-water word);
 * slots_offset is CHAN_RING_HDR_SIZE, and there capacity __u32 lengths
 * begin, CHAN_SPSC_LENS_BYTES(capacity) bytes with their padding; then the
 * payload slots, slot_size apart: msg_size rounded up to 8. map_size is
 * CHAN_RING_HDR_SIZE + CHAN_SPSC_LENS_BYTES(capacity) + capacity x
 * slot_size, rounded up to whole pages. Position p's length is lengths[p &
 * (capacity - 1)], its payload at slots_offset +
 * CHAN_SPSC_LENS_BYTES(capacity) + (p & (capacity - 1)) x slot_size (on a
 * CHAN_CREATE_CRC32C channel: the check, then the message, the length
 * counting both). There is no state word: the cursors alone say who owns
 * a slot. The one sender writes the payload at the tail, and the length
 * if the one at that index differs (it need not store an unchanged one,
 * so a channel of same-sized messages keeps its lengths' lines shared),
 * then stores tail + 1 (release); the one receiver, having read tail
 * (acquire), reads the length (at most msg_size) and the payload at the
 * head, then stores head + 1 (release). Each party stores only its own cursor, last, so a party
 * killed at any point leaves the ring consistent and the kernel repairs
 * nothing: it only wakes the other side. A pair of cursors with tail -
 * head outside [0, capacity] is EIO. Wake-ups: after its cursor store a
 * fast-path party reads the other side's count in kstate and calls
 * CHAN_IOC_WAKE if it is not 0. It needs no barrier between the two, only
 * program order (a compiler barrier): a kernel waiter of a compact ring,
 * once counted and finding the ring full (empty), makes every CPU that
 * runs a process mapping the ring execute a full barrier before it looks
 * again and sleeps, and so does a poller when it first counts itself.
 */
#define CHAN_RING_MAGIC		0x4e414843U	/* "CHAN" */
#define CHAN_RING_VERSION	1
#define CHAN_RING_VERSION_SPSC	2		/* a compact SPSC ring */
#define CHAN_RING_HDR_SIZE	4096
#define CHAN_RING_HDR_MIN	256
#define CHAN_RING_ALIGN		64		/* cache line */
/* Bytes of a compact SPSC ring's lengths: capacity __u32, whole lines. */
#define CHAN_SPSC_LENS_BYTES(capacity) \
	(((capacity) * 4U + CHAN_RING_ALIGN - 1) & ~(CHAN_RING_ALIGN - 1))
#define CHAN_CRC_SIZE		4		/* CHAN_CREATE_CRC32C's check */
#define CHAN_RING_MAX_DEPTH_OFFSET 256		/* mappable rings: __u64 high-water */

/* Slot state word: lap << 18 | owner << 2 | phase. */
#define CHAN_SLOT_EMPTY		0U
#define CHAN_SLOT_WRITING	1U
#define CHAN_SLOT_FULL		2U
#define CHAN_SLOT_READING	3U
#define CHAN_SLOT_PHASE_MASK	0x3U
#define CHAN_SLOT_OWNER_SHIFT	2
#define CHAN_SLOT_OWNER_BITS	16
#define CHAN_SLOT_LAP_SHIFT	18
#define CHAN_SLOT_LAP_BITS	46

/* chan_slot.flags */
#define CHAN_SLOT_TOMBSTONE	_BITUL(0)	/* writer died: skip, no payload */

/* Owner tokens: 0 none, 1 the kernel itself, endpoints from 2. */
#define CHAN_OWNER_NONE		0U
#define CHAN_OWNER_KERNEL	1U

/**
 * struct chan_slot - one message slot
 * @state: lap, owner token and phase, see CHAN_SLOT_*
 * @len: payload length, at most msg_size
 * @flags: CHAN_SLOT_* flags
 * @data: payload
 */
struct chan_slot {
	__aligned_u64 state;
	__u32 len;
	__u32 flags;
	unsigned char data[];
};

/**
 * struct chan_ring_kstate - written only by the kernel
 * @send_waiters: senders asleep in the kernel and not yet woken, plus
 *	sender endpoints that were ever polled (until they close)
 * @recv_waiters: receivers asleep in the kernel and not yet woken, plus
 *	receiver endpoints that were ever polled (until they close)
 * @state: CHAN_STATE_* bits
 * @__reserved: zero
 *
 * A fast-path sender publishes, issues a full barrier, reads
 * @recv_waiters and calls CHAN_IOC_WAKE only if it is not zero (a receiver
 * mirrors it with @send_waiters). The kernel updates the counts on this
 * shared word atomically, before the sleeper's last look at the ring, so
 * they are never lower than the number of sleepers not yet woken when
 * read; a woken waiter that must wait again counts itself again before
 * it looks at the ring once more.
 */
struct chan_ring_kstate {
	__u32 send_waiters;
	__u32 recv_waiters;
	__u32 state;
	__u32 __reserved;
};

/**
 * struct chan_ring_hdr - the ring's header
 * @magic: CHAN_RING_MAGIC
 * @version: CHAN_RING_VERSION, or CHAN_RING_VERSION_SPSC on a compact
 *	SPSC ring
 * @msg_size: largest payload
 * @slot_size: bytes per slot
 * @capacity: number of slots, a power of two
 * @capacity_shift: log2(capacity)
 * @slots_offset: offset of slot 0 from the start of the ring
 * @__pad0: zero
 * @__pad1: keeps @tail on its own cache line
 * @tail: producer cursor: every position below it has been claimed
 * @__pad2: keeps @head on its own cache line
 * @head: consumer cursor: every position below it has been claimed
 * @user_skipped: tombstones retired by fast-path receivers (they add to
 *	it atomically; INFO counts them as dropped)
 * @user_corrupt: messages of a CHAN_CREATE_CRC32C channel whose check
 *	failed on a fast-path receive (added atomically; INFO counts them as
 *	corrupt, and as dropped unless they were returned with EBADMSG)
 * @__pad3: keeps @kstate on its own cache line
 * @kstate: state written only by the kernel
 *
 * The header page of a mappable ring also holds, at
 * CHAN_RING_MAX_DEPTH_OFFSET, on a cache line of its own (neither the
 * head's nor the tail's), a __u64 that fast-path senders raise to the
 * depth they saw when it is larger (a compare-and-swap maximum; libchan
 * samples the depth, see chan_info.max_depth). The kernel reads it only
 * for INFO, clamped to the capacity, and folds it into its own
 * high-water mark; CHAN_INFO_RESET sets it to the current depth.
 */
struct chan_ring_hdr {
	__u32 magic;
	__u32 version;
	__u32 msg_size;
	__u32 slot_size;
	__u32 capacity;
	__u32 capacity_shift;
	__u32 slots_offset;
	__u32 __pad0;
	__u8 __pad1[32];
	__aligned_u64 tail;
	__u8 __pad2[56];
	__aligned_u64 head;
	__aligned_u64 user_skipped;
	__aligned_u64 user_corrupt;
	__u8 __pad3[40];
	struct chan_ring_kstate kstate;
};

/**
 * struct chan_bcast_cursor - the start of a mapped broadcast receiver's
 *	cursor page
 * @pos: the next position the receiver reads; the kernel paths read and
 *	move it too (clamped to the tail, by compare-and-swap)
 * @received: messages taken on the fast path (added by the receiver;
 *	INFO and fdinfo add it, clamped)
 * @lost: messages the fast path reported missed (likewise)
 *
 * A receiver endpoint of a CHAN_CREATE_BROADCAST channel that maps its
 * ring maps the slots read-only; its own cursor is this page, which
 * follows the ring in the endpoint's mappings (mmap offset = the ring's
 * map size, one page, writable) and which no other endpoint maps. On a
 * CHAN_CREATE_LOSSLESS channel @pos is the receiver's gating line: the
 * kernel reads it once per decision, clamped, and senders wait for the
 * slowest receiver's. The rest of the page is reserved.
 */
struct chan_bcast_cursor {
	__aligned_u64 pos;
	__aligned_u64 received;
	__aligned_u64 lost;
};

#endif /* _UAPI_LINUX_CHAN_H */
