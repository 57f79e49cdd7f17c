/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chan: internals shared by the module's files. One concern per file:
 * main.c (init/exit, parameters), objects.c (object counts, debugfs),
 * dev.c (/dev/chan and ioctl dispatch), msg.c (the message ioctls: SEND,
 * RECV, batches, CALL), ns.c (IPC namespaces and their death),
 * registry.c (IDs and names), account.c (limits), channel.c (channel
 * objects, permissions, state), ring.c (ring memory), io.c (send,
 * receive, waiting), deadline.c (timeouts), bounce.c (kernel copies of
 * large messages), endpoint.c (channel fds), map.c (mapping a ring into
 * user space, and its repair), stream.c (byte-stream channels), trace.c
 * (the tracepoints of chan_trace.h).
 * compat.h holds what differs between kernel series.
 */
#ifndef _CHAN_PRIVATE_H
#define _CHAN_PRIVATE_H

#include <linux/types.h>
#include <linux/fs.h>
#include <linux/rhashtable-types.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/idr.h>
#include <linux/seq_file.h>
#include <linux/uio.h>
#include <uapi/linux/chan.h>
#include "chan_ring.h"
#include "chan_spsc_ring.h"

/* Messages up to this size are bounced through the stack. */
#define CHAN_STACK_BOUNCE	256

/*
 * Stack buffers that are always written before they are read (the bounce
 * buffer, the ioctl struct) are exempt from CONFIG_INIT_STACK_ALL_ZERO:
 * zeroing them cost more than a hundred instructions per send+receive.
 */
#ifndef __uninitialized
#define __uninitialized
#endif

#define CHAN_FEATURES	(CHAN_FEAT_ID_IO | CHAN_FEAT_FD_IO | CHAN_FEAT_POLL | \
			 CHAN_FEAT_RW | CHAN_FEAT_NAMES | CHAN_FEAT_TIMEOUT | \
			 CHAN_FEAT_TYPE_TAG | CHAN_FEAT_INFO_NEXT | \
			 CHAN_FEAT_AUTODESTROY | CHAN_FEAT_MMAP | \
			 CHAN_FEAT_BATCH | CHAN_FEAT_CALL | CHAN_FEAT_CLOSE | \
			 CHAN_FEAT_CRC32C | CHAN_FEAT_STATS | CHAN_FEAT_SPSC | \
			 CHAN_FEAT_BROADCAST | CHAN_FEAT_STREAM | \
			 CHAN_FEAT_SPSC_COMPACT)

#define CHAN_CREATE_FLAGS	(CHAN_CREATE_AUTODESTROY | CHAN_CREATE_MAPPABLE | \
				 CHAN_CREATE_CRC32C | CHAN_CREATE_SPSC | \
				 CHAN_CREATE_BROADCAST | CHAN_CREATE_LOSSLESS | \
				 CHAN_CREATE_STREAM)

/* What CHAN_CREATE_STREAM combines with (else EINVAL). */
#define CHAN_STREAM_FLAGS	(CHAN_CREATE_STREAM | CHAN_CREATE_AUTODESTROY | \
				 CHAN_CREATE_MAPPABLE)

/* What a broadcast channel may be combined with (EINVAL otherwise). */
#define CHAN_CREATE_BCAST_OK	(CHAN_CREATE_AUTODESTROY | \
				 CHAN_CREATE_BROADCAST | CHAN_CREATE_LOSSLESS | \
				 CHAN_CREATE_MAPPABLE)

/* Objects the module counts, so that unload can prove none leaked. */
enum chan_obj {
	CHAN_OBJ_CHANNEL,
	CHAN_OBJ_RING,
	CHAN_OBJ_ENDPOINT,
	CHAN_OBJ_FILE,
	CHAN_OBJ_NR,
};

/**
 * struct chan_obj_count - creations and destructions of one kind of object
 * @created: objects made
 * @destroyed: objects freed
 */
struct chan_obj_count {
	atomic64_t created;
	atomic64_t destroyed;
};

extern struct chan_obj_count chan_objects[CHAN_OBJ_NR];

static inline void chan_obj_created(enum chan_obj kind)
{
	atomic64_inc(&chan_objects[kind].created);
}

static inline void chan_obj_destroyed(enum chan_obj kind)
{
	atomic64_inc(&chan_objects[kind].destroyed);
}

extern unsigned int chan_max_channels;
extern unsigned int chan_max_user_channels;
extern unsigned long chan_max_ring_bytes;
extern unsigned long chan_max_user_ring_bytes;
extern unsigned long chan_max_total_ring_bytes;

/* Directions of I/O; arrays indexed by them. */
enum chan_dir {
	CHAN_DIR_SEND,
	CHAN_DIR_RECV,
	CHAN_DIR_NR,
};

/*
 * Why messages were counted as dropped: the reason field of the chan_drop
 * tracepoint (chan_trace.h). User space counts the tombstones and corrupt
 * messages its fast path passes in the ring header (user_skipped,
 * user_corrupt), which the kernel reads only for INFO:
 * CHAN_DROP_USER_SKIPPED is never traced.
 */
enum chan_drop_reason {
	CHAN_DROP_FAULT,	/* a receive's copy to user memory faulted */
	CHAN_DROP_TOMBSTONE,	/* a kernel receive passed a tombstone */
	CHAN_DROP_DEAD_READER,	/* a mapper died holding a slot it read */
	CHAN_DROP_USER_SKIPPED,	/* a fast-path receive passed a tombstone */
	CHAN_DROP_CORRUPT,	/* a kernel receive skipped a failed CRC32C */
};

/**
 * struct chan_ns - the channels of one IPC namespace
 * @ref: held by the namespace table while the namespace lives, and by each
 *	/dev/chan file and each channel of the namespace
 * @rcu: frees the struct after lookups under RCU are done with it
 * @other: on the reaper's list of namespaces other than the initial one
 *	(under chan_ns_lock)
 * @dead: on the reaper's private list once the namespace died
 * @ipc_ns: the IPC namespace, on which we hold one reference while it
 *	lives (ns.c); NULL once it died
 * @user_ns: the user namespace that owns @ipc_ns (holds a reference), for
 *	permission checks
 * @ids: ID -> channel; readers under RCU, writers under @lock
 * @lock: serializes adding and removing IDs and names, and protects
 *	@id_next
 * @id_next: the cyclic ID cursor
 * @nr_channels: channels charged to the namespace, until freed (account.c)
 * @names: channels with a name, by name; readers under RCU, writers under
 *	@lock (registry.c)
 */
struct chan_ns {
	struct kref ref;
	struct rcu_head rcu;
	struct list_head other;
	struct list_head dead;
	struct ipc_namespace *ipc_ns;
	struct user_namespace *user_ns;
	struct xarray ids;
	struct mutex lock;		/* see above */
	u32 id_next;
	atomic_t nr_channels;
	struct rhashtable names;
};

/**
 * struct chan_ring - a channel's ring memory
 * @mem: the ring: kmalloc()ed if it is not mappable and fits a page,
 *	else vmalloc()ed in whole pages
 * @size: bytes at @mem
 * @mappable: created CHAN_CREATE_MAPPABLE: a header page, vmalloc()ed
 * @compact: a compact SPSC ring (CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE):
 *	run only through @spsc; @view's slot functions must never see it
 * @view: trusted geometry: every access of a common ring; the header and
 *	cursors of a compact one (INFO, statistics)
 * @spsc: a compact ring's trusted description (chan_spsc_ring.h)
 */
struct chan_ring {
	void *mem;
	size_t size;
	bool mappable;
	bool compact;
	struct chan_ring_view view;
	struct chan_spsc_ring spsc;
};

/*
 * Per-CPU statistics; summed by INFO. What was sent and received comes
 * from the ring's cursors (chan_fill_info()); the kernel counts only what
 * the cursors cannot tell.
 */
struct chan_stats {
	u64 dropped;
	u64 corrupt;
	u64 waits[CHAN_DIR_NR];
};

struct chan_user;

/**
 * struct chan_stream - the reading side of a CHAN_CREATE_STREAM channel
 * @busy: bit CHAN_STREAM_BUSY: a reader has the readers' turn (they take
 *	turns, as a pipe's do on its mutex); held while bytes are copied out
 *	of the head slot, never while waiting for them
 * @turn_wq: readers waiting for the turn, as long as their deadline allows
 * @off: bytes already read of the head slot's write (written by the
 *	turn's holder, read locklessly for FIONREAD)
 * @rx_bytes: bytes read (on a mappable stream, by the kernel path only)
 * @tx_bytes: bytes written, counted before each write is published (on
 *	a mappable stream, by the kernel path only)
 *
 * A stream that cannot be mapped: only the kernel touches its ring, and
 * its readers, holding the turn, are the only ones to claim from it. So a
 * reader may copy from the head slot while it is FULL (no writer may touch
 * a FULL slot), fault on the user's buffer meanwhile, and claim and retire
 * the slot only once its last byte is read. A mappable stream uses none of
 * @busy, @turn_wq and @off: its readers claim the head slot
 * (chan_ring_claim_stream()) and keep the offset in it (stream.c).
 */
struct chan_stream {
	unsigned long busy;
	wait_queue_head_t turn_wq;
	u32 off;
	atomic64_t rx_bytes;
	atomic64_t tx_bytes;
};

/**
 * struct chan_bcast_rx - a receiver's cursor on a broadcast channel
 * @node: on chan_bcast.rxs (under chan_bcast.lock, written)
 * @pos: the next position this receiver reads; moves by cmpxchg under
 *	chan_bcast.lock (read), so threads sharing the receiver take each
 *	message once between them
 * @lost: messages this receiver missed (lossy overruns), in total
 * @attached: on the list
 * @cpage: the receiver's cursor page on a mapped channel (bcast.c), or
 *	NULL; once set, the cursor is its first word, not @pos
 * @cur: the cursor word itself: &@pos, or the start of @cpage; changed
 *	only under chan_bcast.lock (written)
 */
struct chan_bcast_rx {
	struct list_head node;
	u64 pos;
	atomic64_t lost;
	bool attached;
	struct page *cpage;
	u64 *cur;
};

/**
 * struct chan_bcast - the broadcast state of a CHAN_CREATE_BROADCAST
 *	channel (bcast.c)
 * @lock: written by senders (slots and @tail) and by receivers joining
 *	or leaving; read by receivers while they copy a slot
 * @tail: positions below it were sent; written under @lock with release,
 *	read locklessly (acquire) to decide whether to sleep
 * @rxs: the receivers' cursors
 * @lossless: senders wait for the slowest receiver
 * @delivered: messages taken by receivers, each receiver counting
 * @lost: messages receivers missed, in total
 * @discarded: what the slowest receiver had not read at destroy
 * @gen: bumped when a lossless sender may have room (bcast.c)
 */
struct chan_bcast {
	struct rw_semaphore lock;
	u64 tail;
	struct list_head rxs;
	bool lossless;
	atomic64_t delivered;
	atomic64_t lost;
	u64 discarded;
	atomic_t gen;
};

/**
 * struct chan_spsc_side - the kernel's side of one direction of a compact
 *	SPSC ring
 * @lock: held around begin..end of chan_spsc_ring.h by every kernel path
 *	of that direction (threads sharing the endpoint's fd, a kernel
 *	handle): they are one party, and the ring's protocol has one sender
 *	and one receiver. A mutex, since the copy inside may be of up to
 *	msg_size bytes (from or to a bounce buffer, never user memory, so
 *	it never faults); a try in a sleeping state only tries it, and
 *	chan_xfer() waits for it running (CHAN_TRY_TURN, io.c).
 * @cache: the other side's cursor as last read, a lower bound of it
 *	(head_cache for a send, tail_cache for a receive); under @lock
 */
struct chan_spsc_side {
	struct mutex lock;	/* see above */
	u64 cache;
};

/**
 * struct chan_peer - one address space that maps a compact SPSC ring
 * @node: in chan_spsc_peers.list
 * @mm: the address space, held with mmgrab()
 * @vmas: VMAs of the ring in @mm (a split, a move or a fork makes more)
 */
struct chan_peer {
	struct list_head node;
	struct mm_struct *mm;
	unsigned long vmas;
};

/**
 * struct chan_spsc_peers - the address spaces that map a compact SPSC ring
 * @lock: protects @list; held across the barrier on them (map.c)
 * @list: a struct chan_peer per address space with a VMA of the ring:
 *	the mmap() of an endpoint, and the copies fork() makes of it once
 *	MADV_DOFORK cleared VM_DONTCOPY
 * @untracked: a copy could not be recorded (no memory): from then on the
 *	barrier is a grace period instead (map.c)
 *
 * A fast-path party of a compact ring issues no barrier between its
 * cursor store and its read of the other side's count of waiters; a
 * kernel waiter forces one on every CPU that runs a mapper instead
 * (chan_map_fence_peers()).
 */
struct chan_spsc_peers {
	spinlock_t lock;	/* see above */
	struct list_head list;
	bool untracked;
};

/**
 * struct chan - a channel
 * @ref: one for the registry while the ID exists, one per channel fd and
 *	per in-flight ID-style call
 * @rcu: frees the struct after lookups under RCU are done with it
 * @ns: the namespace (holds a reference)
 * @users: whom the channel is charged to (account.c)
 * @nr_users: entries in @users
 * @ring_bytes: what its ring is charged for, constant
 * @id: the ID, constant once published
 * @flags: CHAN_CREATE_* flags, constant
 * @msg_size: largest message, constant
 * @mode: permission bits, constant
 * @uid: owner, constant
 * @gid: owner group, constant
 * @type_tag: constant
 * @name: constant; empty if anonymous
 * @name_node: in @ns->names (under @ns->lock)
 * @ring: the ring
 * @wq: by direction: senders waiting for room, receivers waiting for a
 *	message; and pollers
 * @lock: protects @nr_senders, @nr_receivers, @nr_endpoints,
 *	@nr_mappers, @armed and the transitions of @state
 * @nr_senders: endpoints with the send role
 * @nr_receivers: endpoints with the receive role
 * @nr_endpoints: endpoints
 * @nr_mappers: endpoints with a live mapping of the ring (map.c): counted
 *	once the mapping is made, uncounted once its last VMA closed and the
 *	ring was repaired
 * @armed: an endpoint was opened by someone who may destroy the channel,
 *	so that CHAN_CREATE_AUTODESTROY may act on the last close
 * @state: CHAN_STATE_* bits; written under @lock with release, read
 *	locklessly with acquire (pairs with chan_set_state())
 * @tokens: owner tokens of the endpoints
 * @stats: per-CPU counters
 * @stream: a CHAN_CREATE_STREAM channel's reading side (stream.c)
 * @bcast: broadcast state, or NULL if not CHAN_CREATE_BROADCAST
 * @max_depth: the kernel's high-water depth since create or the last
 *	CHAN_INFO_RESET (io.c); raised with a compare-and-swap maximum
 * @spsc: on a compact SPSC ring (@ring.compact), the kernel's side of
 *	each direction: its paths take turns there (io.c)
 * @peers: on a compact SPSC ring, its mappers' address spaces (map.c)
 */
struct chan {
	struct kref ref;
	struct rcu_head rcu;
	struct chan_ns *ns;
	struct chan_user **users;
	u32 nr_users;
	u64 ring_bytes;
	u32 id;
	u32 flags;
	u32 msg_size;
	u32 mode;
	kuid_t uid;
	kgid_t gid;
	u64 type_tag;
	char name[CHAN_NAME_MAX];
	struct rhash_head name_node;
	struct chan_ring ring;
	wait_queue_head_t wq[CHAN_DIR_NR];
	spinlock_t lock;		/* see above */
	u32 nr_senders;
	u32 nr_receivers;
	u32 nr_endpoints;
	u32 nr_mappers;
	bool armed;
	u32 state;
	struct ida tokens;
	struct chan_stats __percpu *stats;
	struct chan_stream stream;
	struct chan_bcast *bcast;
	u32 max_depth;
	struct chan_spsc_side spsc[CHAN_DIR_NR];
	struct chan_spsc_peers peers;
};

/**
 * struct chan_bounce - a reusable kernel copy of a message
 * @busy: bit 0 set while a call uses @buf
 * @size: bytes at @buf
 * @buf: the buffer, or NULL
 *
 * Messages larger than CHAN_STACK_BOUNCE are copied through the buffer of
 * the file they arrive on; a second thread on the same file at the same
 * time gets a buffer of its own.
 */
struct chan_bounce {
	unsigned long busy;
	u32 size;
	void *buf;
};

/**
 * struct chan_file - an open /dev/chan
 * @ns: the opener's namespace
 * @bounce: bounce buffer for ID-style calls
 */
struct chan_file {
	struct chan_ns *ns;
	struct chan_bounce bounce;
};

/* Bits of chan_endpoint.flags. */
enum {
	CHAN_EP_MAPPED,		/* mapped, or its mapping is being repaired */
	CHAN_EP_POLLED_SEND,	/* counted in the ring's send_waiters */
	CHAN_EP_POLLED_RECV,	/* counted in the ring's recv_waiters */
};

/**
 * struct chan_endpoint - a channel fd
 * @ch: the channel (holds a reference)
 * @roles: CHAN_ROLE_* bits
 * @token: owner token of the endpoint's fast path in the ring, or
 *	CHAN_OWNER_NONE if its opener could not map the channel (the
 *	kernel's own paths claim with CHAN_OWNER_KERNEL)
 * @attached: counted as an endpoint of @ch (chan_attach() succeeded)
 * @flags: CHAN_EP_* bits, atomic
 * @map_vmas: VMAs of the live mapping (map.c); the last to close repairs
 * @bounce: bounce buffer for large messages
 * @rx: the receiver's cursor on a broadcast channel
 */
struct chan_endpoint {
	struct chan *ch;
	u32 roles;
	u32 token;
	bool attached;
	unsigned long flags;
	atomic_t map_vmas;
	struct chan_bounce bounce;
	struct chan_bcast_rx rx;
};

/**
 * struct chan_deadline - how long a send or receive may wait
 * @nonblock: never sleep
 * @timed: @expires is valid
 * @relative: the caller gave a relative timeout (a restart after a signal
 *	must be told the time left)
 * @expires: absolute CLOCK_MONOTONIC deadline, in the host's time
 * @kernel: the handle of a kernel caller (kapi.c), which a wait also
 *	leaves when it is shut down or its kthread told to stop; else NULL
 */
struct chan_deadline {
	bool nonblock;
	bool timed;
	bool relative;
	ktime_t expires;
	struct chan_handle *kernel;
};

/**
 * struct chan_xfer - one send or receive being carried out
 * @ch: the channel
 * @peer: the caller is an endpoint, subject to disconnect (EPIPE); ID-style
 *	callers are not
 * @kbuf: the message in kernel memory
 * @len: send: the message's length; receive: @kbuf's size
 * @out_len: receive: the length of the message taken (or that did not fit)
 * @ubuf: receive: the user buffer the message goes to, faulted in before
 *	a message is claimed (unless @iter)
 * @iter: receive: the user buffer as an iov_iter, or NULL
 * @faulted: receive: bytes at the start of the user buffer known to be
 *	writable (mapped, or faulted in)
 * @crc: send on a CHAN_CREATE_CRC32C channel: the message's check
 * @badmsg: receive: return a message whose check failed (-EBADMSG)
 *	rather than skip it
 * @rx: receive on a broadcast channel: the receiver's cursor
 * @take_overrun: receive on a broadcast channel: an overrun is reported
 *	(-ENOBUFS) and the cursor moved past it; false only reports it
 * @lost: receive: with -ENOBUFS, the messages missed
 */
struct chan_xfer {
	struct chan *ch;
	bool peer;
	void *kbuf;
	u32 len;
	u32 out_len;
	void __user *ubuf;
	struct iov_iter *iter;
	u32 faulted;
	u32 crc;
	bool badmsg;
	struct chan_bcast_rx *rx;
	bool take_overrun;
	u64 lost;
};

/**
 * struct chan_ucmd - one ioctl call being executed
 * @cf: the /dev/chan file, or NULL on a channel fd
 * @ep: the channel fd's endpoint, or NULL on /dev/chan
 * @file: the file the ioctl came on
 * @ubuffer: the user's struct
 * @user_size: the size user space gave
 * @cmd: the kernel's copy of the struct
 */
struct chan_ucmd {
	struct chan_file *cf;
	struct chan_endpoint *ep;
	struct file *file;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/* objects.c */
void chan_objects_check(void);
void chan_debugfs_init(void);
void chan_debugfs_exit(void);

/* ns.c */
struct ipc_namespace;
struct chan_ns *chan_ns_get(struct ipc_namespace *ipc_ns);
struct chan_ns *chan_ns_get_current(void);
void chan_ns_put(struct chan_ns *ns);
void chan_ns_pin_ipc(struct chan_ns *ns);
void chan_ns_unpin_ipc(struct chan_ns *ns);
void chan_ns_exit(void);

/* registry.c */
int chan_registry_init(struct chan_ns *ns);
void chan_registry_destroy(struct chan_ns *ns);
int chan_registry_add(struct chan_ns *ns, struct chan *ch);
void chan_registry_remove(struct chan *ch);
struct chan *chan_lookup(struct chan_ns *ns, u32 id);
struct chan *chan_lookup_next(struct chan_ns *ns, u32 id);
struct chan *chan_lookup_name(struct chan_ns *ns, const char *name);

/* account.c */
int chan_charge(struct chan *ch);
void chan_uncharge(struct chan *ch);
int chan_users_show(struct seq_file *m, void *unused);

/* channel.c */
struct chan *chan_alloc(struct chan_ns *ns, const struct chan_create *c,
			u32 capacity);
struct chan *chan_new(struct chan_ns *ns, const struct chan_create *c);
void chan_put(struct chan *ch);
bool chan_permitted(struct chan *ch, u32 want, bool audit);
bool chan_is_owner(struct chan *ch, bool audit);
int chan_destroy(struct chan *ch);
int chan_close(struct chan *ch, bool reopen);
int chan_attach(struct chan *ch, u32 roles, bool owner);
void chan_detach(struct chan *ch, u32 roles);
void chan_fill_info(struct chan *ch, struct chan_info *info);
int chan_validate_name(const char *name);

static inline u32 chan_state(struct chan *ch)
{
	/* Acquire: pairs with the release in chan_set_state(), so a reader
	 * that sees NO_SENDERS also sees every message sent before it.
	 */
	return smp_load_acquire(&ch->state);
}

/* The ring's payload per slot: a CRC32C channel's check goes first. */
static inline u32 chan_ring_msg_size(u32 msg_size, u32 flags)
{
	return msg_size + (flags & CHAN_CREATE_CRC32C ? CHAN_CRC_SIZE : 0);
}

/*
 * A CHAN_CREATE_SPSC channel that is mappable has a compact SPSC ring
 * (chan_spsc_ring.h, docs/spsc-compact.md): no slot state words, no repair.
 */
static inline bool chan_flags_compact(u32 flags)
{
	u32 both = CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE;

	return (flags & both) == both;
}

/* ring.c */
int chan_ring_init(struct chan_ring *ring, u32 msg_size, u32 capacity,
		   u32 flags);
void chan_ring_free(struct chan_ring *ring);
u64 chan_ring_bytes(u32 msg_size, u32 capacity, u32 flags);
u32 chan_ring_slots_offset(const struct chan_ring *ring);
void chan_ring_set_kstate(struct chan *ch);
atomic_t *chan_ring_waiters(struct chan *ch, enum chan_dir dir);

/*
 * Positions claimed by senders and not by receivers, unclamped: INFO's
 * depth, or its discarded once the channel is destroyed.
 */
static inline u64 chan_ring_queued(const struct chan_ring_view *v)
{
	u64 head, tail;

	/* Acquire, head then tail, as in chan_fill_info(). */
	head = smp_load_acquire(&v->hdr->head);
	/* Acquire: orders the tail after the head. */
	tail = smp_load_acquire(&v->hdr->tail);

	return tail > head ? tail - head : 0;
}

/* deadline.c */
int chan_deadline_init(struct chan_deadline *dl, u32 flags, u64 timeout_ns,
		       bool file_nonblock);
u64 chan_deadline_user(const struct chan_deadline *dl);

/* bounce.c */
void *chan_bounce_get(struct chan_bounce *b, u32 size, bool *own);
void chan_bounce_put(struct chan_bounce *b, void *buf, bool own);
void chan_bounce_free(struct chan_bounce *b);

/* io.c */
int chan_send_user(struct chan *ch, bool peer,
		   struct chan_bounce *b, const void __user *ubuf,
		   struct iov_iter *iter, u32 len,
		   const struct chan_deadline *dl);
int chan_recv_user(struct chan *ch, bool peer, struct chan_bcast_rx *rx,
		   bool take_overrun, u64 *lostp,
		   struct chan_bounce *b, void __user *ubuf,
		   struct iov_iter *iter, u32 cap, u32 *lenp,
		   const struct chan_deadline *dl, bool badmsg);
int chan_sleep(const struct chan_deadline *dl);
int chan_fault_in(struct chan_xfer *x);
bool chan_spsc_can_progress(struct chan *ch, enum chan_dir dir);
int chan_xfer(struct chan_xfer *x, enum chan_dir dir,
	      const struct chan_deadline *dl);
void chan_wake_all(struct chan *ch);
void chan_wake_dir(struct chan *ch, enum chan_dir dir);
int chan_yield(const struct chan_deadline *dl);
u32 chan_user_ready(void __user *ubuf, struct iov_iter *iter, u32 len);
int chan_wait_ready(struct chan *ch, enum chan_dir dir, bool peer, bool busy,
		    const struct chan_deadline *dl);

/* stream.c */
static inline bool chan_is_stream(const struct chan *ch)
{
	return ch->flags & CHAN_CREATE_STREAM;
}

int chan_stream_recv(struct chan *ch, bool peer, struct chan_bounce *b,
		     void __user *ubuf, struct iov_iter *iter, u32 cap,
		     u32 *lenp, const struct chan_deadline *dl);
int chan_stream_head_state(struct chan *ch);
int chan_stream_can_recv(struct chan *ch);
ssize_t chan_stream_write(struct chan *ch, struct chan_bounce *b,
			  const char __user *ubuf, struct iov_iter *iter,
			  size_t count, const struct chan_deadline *dl);
int chan_stream_queued(struct chan *ch, u64 *bytes);
void chan_stream_show_fdinfo(struct seq_file *m, struct chan *ch);

/* bcast.c */
int chan_bcast_init(struct chan *ch);
void chan_bcast_free(struct chan *ch);
void chan_bcast_attach(struct chan *ch, struct chan_bcast_rx *rx);
void chan_bcast_detach(struct chan *ch, struct chan_bcast_rx *rx);
int chan_bcast_xfer(struct chan_xfer *x, enum chan_dir dir,
		    const struct chan_deadline *dl);
bool chan_bcast_can_recv(struct chan *ch, struct chan_bcast_rx *rx);
bool chan_bcast_can_send(struct chan *ch);
void chan_bcast_fill_info(struct chan *ch, struct chan_info *info);
void chan_bcast_destroyed(struct chan *ch);
void chan_bcast_doorbell(struct chan *ch);
struct page *chan_bcast_cursor_page(struct chan *ch, struct chan_bcast_rx *rx);
void chan_bcast_rx_free(struct chan_bcast_rx *rx);
u64 chan_bcast_rx_pos(struct chan *ch, struct chan_bcast_rx *rx);
u64 chan_bcast_rx_lost(struct chan *ch, struct chan_bcast_rx *rx);

static inline bool chan_is_bcast(const struct chan *ch)
{
	return ch->flags & CHAN_CREATE_BROADCAST;
}

void chan_note_depth(struct chan *ch, u32 depth);
u32 chan_max_depth(struct chan *ch);
void chan_reset_stats(struct chan *ch);

/* endpoint.c */
int chan_endpoint_open(struct chan *ch, u32 roles, u32 open_flags,
		       bool owner, bool mapper, u32 __user *token_out);
struct chan_endpoint *chan_endpoint_from_file(struct file *file);

/* msg.c */
int chan_cmd_send(struct chan_ucmd *ucmd);
int chan_cmd_recv(struct chan_ucmd *ucmd);
int chan_cmd_send_batch(struct chan_ucmd *ucmd);
int chan_cmd_recv_batch(struct chan_ucmd *ucmd);
int chan_cmd_call(struct chan_ucmd *ucmd);

/* kapi.c */
int chan_kernel_stopping(const struct chan_handle *h);

/* map.c */
int chan_endpoint_mmap(struct file *file, struct vm_area_struct *vma);
u32 chan_map_count(struct chan *ch);
void chan_map_fence_peers(struct chan *ch);

/* dev.c */
int chan_ucmd_respond(struct chan_ucmd *ucmd, size_t ksize);
struct chan *chan_ucmd_chan(struct chan_ucmd *ucmd, u32 id);
void chan_ucmd_put(struct chan_ucmd *ucmd, struct chan *ch);
int chan_dev_init(void);
void chan_dev_exit(void);
long chan_ioctl(struct file *file, struct chan_file *cf,
		struct chan_endpoint *ep, unsigned int cmd, unsigned long arg);

#endif /* _CHAN_PRIVATE_H */
