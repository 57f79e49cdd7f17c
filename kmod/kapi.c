// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel API (chan_kernel.h, docs/kernel-api.md): other kernel code
 * creates, opens, sends to, receives from, closes and destroys channels,
 * which user space reaches by ID or name as usual.
 *
 * Everything goes through the paths of the ioctls: chan_new() creates,
 * chan_attach()/chan_detach() count a handle as an endpoint, chan_xfer()
 * moves a message from or to kernel memory (no bounce buffer: the
 * caller's buffer is the kernel copy), chan_close() and chan_destroy()
 * change the state. What differs:
 *
 *  - No permission check: the caller is the kernel. The mode bits given
 *    at create are for user space.
 *  - Ownership and charge: a channel is owned by, and charged to, the
 *    credentials of the task that creates it, exactly as CHAN_IOC_CREATE
 *    (chan_alloc(), account.c): a kthread, or module init run by insmod,
 *    creates as root (uid 0, counted against max_user_channels and
 *    max_user_ring_bytes of uid 0); a driver creating on behalf of a user
 *    in that user's system call charges that user. The namespace's
 *    max_channels and the global limits apply the same way.
 *  - Handles are endpoints (counted senders and receivers, peer
 *    semantics: EPIPE on disconnect), and arm auto-destroy as an owner's
 *    endpoint does. A handle with no role only holds the channel, for
 *    INFO, CLOSE and DESTROY. On a broadcast channel a receiving handle
 *    has its own cursor, as a receiver endpoint has, from the tail at its
 *    open (an overrun is -ENOBUFS; the count is in INFO's lost).
 *  - Absolute timeouts are on the kernel's CLOCK_MONOTONIC (ktime_get()),
 *    whatever time namespace the calling task is in.
 *  - A wait also ends when its handle is shut down (chan_kernel_shutdown(),
 *    -ESHUTDOWN) or, in a kthread, when kthread_stop() is called on it
 *    (-EINTR; kthread_stop() wakes the sleeper itself). Signals end it
 *    with -ERESTARTSYS for a caller in user context, as for the ioctls.
 */
#include <linux/export.h>
#include <linux/ipc_namespace.h>
#include <linux/kthread.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "chan_private.h"
#include "chan_kernel.h"

#define CHAN_KERNEL_ROLES	(CHAN_ROLE_SEND | CHAN_ROLE_RECV)

/* Bits of chan_handle.flags. */
enum {
	CHAN_HANDLE_SHUTDOWN,	/* chan_kernel_shutdown() was called */
};

/**
 * struct chan_handle - a kernel endpoint
 * @ch: the channel (holds a reference)
 * @roles: CHAN_ROLE_* bits; 0 for a handle that only holds the channel
 * @flags: CHAN_HANDLE_* bits, atomic
 * @rx: a receiving handle's cursor on a broadcast channel
 */
struct chan_handle {
	struct chan *ch;
	u32 roles;
	unsigned long flags;
	struct chan_bcast_rx rx;
};

/* The chan_ns of @ipc_ns, NULL meaning the initial IPC namespace. */
static struct chan_ns *chan_kernel_ns(struct ipc_namespace *ipc_ns)
{
	/* init_ipc_ns is not exported on 6.1; init_task's nsproxy has it. */
	return chan_ns_get(ipc_ns ? ipc_ns : init_task.nsproxy->ipc_ns);
}

/*
 * Make a handle on @ch, consuming the caller's reference on it (also on
 * failure). A handle with roles is counted as an endpoint.
 */
static struct chan_handle *chan_kernel_attach(struct chan *ch, u32 roles)
{
	struct chan_handle *h;
	int ret;

	/* Byte streams are for user space (for now): no handle sends or
	 * receives on one.
	 */
	if (roles && chan_is_stream(ch)) {
		chan_put(ch);
		return ERR_PTR(-EOPNOTSUPP);
	}
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h) {
		chan_put(ch);
		return ERR_PTR(-ENOMEM);
	}
	h->ch = ch;
	h->roles = roles;
	if (roles) {
		/* The kernel may destroy any channel: arms auto-destroy. */
		ret = chan_attach(ch, roles, true);
		if (ret) {
			kfree(h);
			chan_put(ch);
			return ERR_PTR(ret);
		}
		/* A broadcast receiver reads what is sent from now on. */
		if (chan_is_bcast(ch) && (roles & CHAN_ROLE_RECV))
			chan_bcast_attach(ch, &h->rx);
	}
	chan_obj_created(CHAN_OBJ_ENDPOINT);
	return h;
}

/**
 * chan_kernel_create() - create a channel and open a handle on it
 * @ipc_ns: the IPC namespace to create it in, NULL for the initial one;
 *	the caller keeps it alive during the call
 * @attr: what to create (checked as CHAN_IOC_CREATE checks its struct)
 * @roles: CHAN_ROLE_SEND and/or CHAN_ROLE_RECV for the handle, or 0 for a
 *	handle that only holds the channel
 *
 * The channel is registered (user space can LOOKUP its name and OPEN its
 * ID) and stays until destroyed, as one made by CHAN_IOC_CREATE; with
 * CHAN_CREATE_AUTODESTROY, until its last endpoint (fd or handle with a
 * role) goes. It is owned by and charged to the calling task's
 * credentials (root for a kthread); a channel of a namespace that dies is
 * destroyed with it.
 *
 * Return: the handle, or an ERR_PTR: -EINVAL, -EOPNOTSUPP (unknown flag,
 * or CHAN_CREATE_STREAM: byte streams have no kernel API yet), -EEXIST
 * (name in use), -ENOSPC (a limit), -ENOMEM.
 */
struct chan_handle *chan_kernel_create(struct ipc_namespace *ipc_ns,
				       const struct chan_kernel_attr *attr,
				       u32 roles)
{
	struct chan_create *c;
	struct chan_handle *h;
	struct chan_ns *ns;
	struct chan *ch;

	if (roles & ~CHAN_KERNEL_ROLES)
		return ERR_PTR(-EINVAL);
	if (attr->flags & CHAN_CREATE_STREAM)
		return ERR_PTR(-EOPNOTSUPP);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->size = sizeof(*c);
	c->flags = attr->flags;
	c->msg_size = attr->msg_size;
	c->capacity = attr->capacity;
	c->mode = attr->mode;
	c->type_tag = attr->type_tag;
	if (attr->name &&
	    strscpy(c->name, attr->name, sizeof(c->name)) < 0) {
		kfree(c);
		return ERR_PTR(-EINVAL);
	}
	ns = chan_kernel_ns(ipc_ns);
	if (IS_ERR(ns)) {
		kfree(c);
		return ERR_CAST(ns);
	}
	ch = chan_new(ns, c);
	chan_ns_put(ns);
	kfree(c);
	if (IS_ERR(ch))
		return ERR_CAST(ch);
	/* A channel nobody holds would stay until unload: undo it. */
	kref_get(&ch->ref);
	h = chan_kernel_attach(ch, roles);
	if (IS_ERR(h))
		chan_destroy(ch);
	chan_put(ch);
	return h;
}
EXPORT_SYMBOL_GPL(chan_kernel_create);

/* Check a handle's roles and tag, and make it; consumes @ch's reference. */
static struct chan_handle *chan_kernel_open_ch(struct chan *ch, u32 roles,
					       u64 type_tag)
{
	if (type_tag && type_tag != ch->type_tag) {
		chan_put(ch);
		return ERR_PTR(-EPROTOTYPE);
	}
	return chan_kernel_attach(ch, roles);
}

/**
 * chan_kernel_open() - open a handle on a channel by ID
 * @ipc_ns: the channel's IPC namespace, NULL for the initial one
 * @id: the channel's ID
 * @roles: CHAN_ROLE_SEND and/or CHAN_ROLE_RECV, or 0 for a handle that
 *	only holds the channel (INFO, CLOSE, DESTROY)
 * @type_tag: if non-zero, must equal the channel's type tag
 *
 * No permission check: the caller is the kernel. A handle with a role
 * counts as a sender and/or receiver exactly like a channel fd: it
 * reconnects a disconnected channel, and its release may disconnect it.
 *
 * Return: the handle, or an ERR_PTR: -EINVAL (bad roles), -ENOENT (no
 * such channel), -EPROTOTYPE (tag differs), -EOPNOTSUPP (a role on a
 * CHAN_CREATE_STREAM channel), -EIDRM (destroyed meanwhile), -EBUSY (a
 * CHAN_CREATE_SPSC channel has an endpoint of that role already), -ENOMEM.
 */
struct chan_handle *chan_kernel_open(struct ipc_namespace *ipc_ns, u32 id,
				     u32 roles, u64 type_tag)
{
	struct chan_ns *ns;
	struct chan *ch;

	if (roles & ~CHAN_KERNEL_ROLES)
		return ERR_PTR(-EINVAL);
	ns = chan_kernel_ns(ipc_ns);
	if (IS_ERR(ns))
		return ERR_CAST(ns);
	ch = chan_lookup(ns, id);
	chan_ns_put(ns);
	if (!ch)
		return ERR_PTR(-ENOENT);
	return chan_kernel_open_ch(ch, roles, type_tag);
}
EXPORT_SYMBOL_GPL(chan_kernel_open);

/* A name as the registry keys it: NUL-padded, checked. */
static int chan_kernel_name(char *key, const char *name)
{
	memset(key, 0, CHAN_NAME_MAX);
	if (!name || strscpy(key, name, CHAN_NAME_MAX) <= 0)
		return -EINVAL;
	return chan_validate_name(key);
}

static struct chan *chan_kernel_lookup_name(struct ipc_namespace *ipc_ns,
					    const char *name)
{
	char key[CHAN_NAME_MAX];
	struct chan_ns *ns;
	struct chan *ch;
	int ret;

	ret = chan_kernel_name(key, name);
	if (ret)
		return ERR_PTR(ret);
	ns = chan_kernel_ns(ipc_ns);
	if (IS_ERR(ns))
		return ERR_CAST(ns);
	ch = chan_lookup_name(ns, key);
	chan_ns_put(ns);
	return ch ? ch : ERR_PTR(-ENOENT);
}

/**
 * chan_kernel_open_name() - open a handle on a channel by name
 * @ipc_ns: the channel's IPC namespace, NULL for the initial one
 * @name: its name
 * @roles: as for chan_kernel_open()
 * @type_tag: as for chan_kernel_open()
 *
 * The lookup and the open are one step: the handle is on the channel that
 * had the name. Anyone who may create channels in the namespace may have
 * taken a name first: check the type tag (or the owner, with
 * chan_kernel_info()) before trusting the channel.
 *
 * Return: the handle, or an ERR_PTR: -EINVAL (bad name or roles),
 * -ENOENT, -EPROTOTYPE, -EIDRM, -ENOMEM.
 */
struct chan_handle *chan_kernel_open_name(struct ipc_namespace *ipc_ns,
					  const char *name, u32 roles,
					  u64 type_tag)
{
	struct chan *ch;

	if (roles & ~CHAN_KERNEL_ROLES)
		return ERR_PTR(-EINVAL);
	ch = chan_kernel_lookup_name(ipc_ns, name);
	if (IS_ERR(ch))
		return ERR_CAST(ch);
	return chan_kernel_open_ch(ch, roles, type_tag);
}
EXPORT_SYMBOL_GPL(chan_kernel_open_name);

/**
 * chan_kernel_lookup() - the ID of a named channel
 * @ipc_ns: the channel's IPC namespace, NULL for the initial one
 * @name: its name
 * @idp: set to its ID
 *
 * Return: 0, -EINVAL (bad name) or -ENOENT.
 */
int chan_kernel_lookup(struct ipc_namespace *ipc_ns, const char *name,
		       u32 *idp)
{
	struct chan *ch = chan_kernel_lookup_name(ipc_ns, name);

	if (IS_ERR(ch))
		return PTR_ERR(ch);
	*idp = ch->id;
	chan_put(ch);
	return 0;
}
EXPORT_SYMBOL_GPL(chan_kernel_lookup);

/**
 * chan_kernel_release() - release a handle
 * @h: the handle, or NULL or an ERR_PTR (nothing to do)
 *
 * As the close of a channel fd: the last sender (receiver) leaving
 * disconnects the channel, so that its peers get EPIPE; the last endpoint
 * of an auto-destroy channel destroys it. No call on @h may be running
 * or follow (to end a blocked call first, see chan_kernel_shutdown()).
 */
void chan_kernel_release(struct chan_handle *h)
{
	if (IS_ERR_OR_NULL(h))
		return;
	if (chan_is_bcast(h->ch))
		chan_bcast_detach(h->ch, &h->rx);
	if (h->roles)
		chan_detach(h->ch, h->roles);
	chan_put(h->ch);
	kfree(h);
	chan_obj_destroyed(CHAN_OBJ_ENDPOINT);
}
EXPORT_SYMBOL_GPL(chan_kernel_release);

/**
 * chan_kernel_id() - a handle's channel ID
 * @h: the handle
 *
 * Return: the ID, by which user space opens the channel.
 */
u32 chan_kernel_id(const struct chan_handle *h)
{
	return h->ch->id;
}
EXPORT_SYMBOL_GPL(chan_kernel_id);

/**
 * chan_kernel_msg_size() - the largest message of a handle's channel
 * @h: the handle
 *
 * Return: msg_size, as created.
 */
u32 chan_kernel_msg_size(const struct chan_handle *h)
{
	return h->ch->msg_size;
}
EXPORT_SYMBOL_GPL(chan_kernel_msg_size);

/**
 * chan_kernel_stopping() - must a kernel caller's wait end?
 * @h: the handle it waits on
 *
 * Return: -ESHUTDOWN if @h was shut down, -EINTR if the caller is a
 * kthread that kthread_stop() was called on, else 0.
 */
int chan_kernel_stopping(const struct chan_handle *h)
{
	if (test_bit(CHAN_HANDLE_SHUTDOWN, &h->flags))
		return -ESHUTDOWN;
	if ((current->flags & PF_KTHREAD) && kthread_should_stop())
		return -EINTR;
	return 0;
}

/*
 * The deadline of a kernel call. An absolute timeout is on the kernel's
 * CLOCK_MONOTONIC (not the caller's time namespace's).
 */
static int chan_kernel_deadline(struct chan_handle *h, u32 role, u32 flags,
				u64 timeout_ns, struct chan_deadline *dl)
{
	int ret;

	if (!(h->roles & role))
		return -EBADF;
	if (test_bit(CHAN_HANDLE_SHUTDOWN, &h->flags))
		return -ESHUTDOWN;
	if ((flags & CHAN_MSG_ABSTIME) && !(flags & CHAN_MSG_TIMEOUT))
		return -EINVAL;
	ret = chan_deadline_init(dl, flags & ~CHAN_MSG_ABSTIME, timeout_ns,
				 false);
	if (ret)
		return ret;
	if (flags & CHAN_MSG_ABSTIME) {
		dl->relative = false;
		dl->expires = timeout_ns > KTIME_MAX ? KTIME_MAX :
						       (ktime_t)timeout_ns;
	}
	dl->kernel = h;
	return 0;
}

static int chan_kernel_send_one(struct chan_handle *h, const void *buf,
				u32 len, const struct chan_deadline *dl)
{
	struct chan_xfer x = {
		.ch = h->ch,
		.peer = true,
		.kbuf = (void *)buf,
		.len = len,
	};

	if (len > h->ch->msg_size)
		return -EMSGSIZE;
	return chan_xfer(&x, CHAN_DIR_SEND, dl);
}

static int chan_kernel_recv_one(struct chan_handle *h, void *buf, u32 size,
				u32 *lenp, const struct chan_deadline *dl,
				bool take_overrun)
{
	struct chan_xfer x = {
		.ch = h->ch,
		.peer = true,
		.kbuf = buf,
		.len = min(size, h->ch->msg_size),
		.rx = &h->rx,
		.take_overrun = take_overrun,
	};
	int ret;

	/* Kernel memory: all of it is there, nothing to fault in. */
	x.faulted = x.len;
	ret = chan_xfer(&x, CHAN_DIR_RECV, dl);
	*lenp = x.out_len;
	return ret;
}

/**
 * chan_kernel_send() - send a message from kernel memory
 * @h: a handle with the send role
 * @buf: the message
 * @len: its length, at most the channel's msg_size
 * @flags: CHAN_MSG_NONBLOCK, or CHAN_MSG_TIMEOUT (with CHAN_MSG_ABSTIME:
 *	@timeout_ns is a deadline on the kernel's CLOCK_MONOTONIC), or 0
 *	to wait as long as it takes
 * @timeout_ns: with CHAN_MSG_TIMEOUT, the longest wait or the deadline
 *
 * Waits while the ring is full. Whoever may write the channel can keep it
 * full: a kernel sender on a channel that user space can reach must use a
 * timeout or CHAN_MSG_NONBLOCK, or be able to stop (see
 * chan_kernel_shutdown()).
 *
 * Return: 0, or -EAGAIN (full, non-blocking), -ETIMEDOUT, -EPIPE (closed,
 * or no receiver left), -EIDRM (destroyed), -EMSGSIZE, -EBADF (no send
 * role), -EINVAL or -EOPNOTSUPP (flags), -EIO (a mapped ring corrupted by
 * user space), -ESHUTDOWN (handle shut down), -EINTR (the kthread is
 * being stopped) or -ERESTARTSYS (a signal, in user context).
 */
int chan_kernel_send(struct chan_handle *h, const void *buf, u32 len,
		     u32 flags, u64 timeout_ns)
{
	struct chan_deadline dl;
	int ret;

	ret = chan_kernel_deadline(h, CHAN_ROLE_SEND, flags, timeout_ns, &dl);
	if (ret)
		return ret;
	return chan_kernel_send_one(h, buf, len, &dl);
}
EXPORT_SYMBOL_GPL(chan_kernel_send);

/**
 * chan_kernel_recv() - receive a message into kernel memory
 * @h: a handle with the receive role
 * @buf: where the message goes
 * @size: @buf's size
 * @lenp: set to the message's length (also on -EMSGSIZE)
 * @flags: as for chan_kernel_send()
 * @timeout_ns: as for chan_kernel_send()
 *
 * Waits while the ring is empty. The payload is whatever a sender wrote:
 * if user space may send, it is untrusted input (any length up to
 * msg_size, any bytes).
 *
 * Return: 0, or -EAGAIN (empty, non-blocking), -ETIMEDOUT, -EPIPE
 * (closed, or no sender left, and drained), -EIDRM, -EMSGSIZE (the next
 * message is longer than @size; it stays queued), -EBADF, -EINVAL,
 * -EOPNOTSUPP, -EIO, -ESHUTDOWN, -EINTR or -ERESTARTSYS as for
 * chan_kernel_send().
 */
int chan_kernel_recv(struct chan_handle *h, void *buf, u32 size, u32 *lenp,
		     u32 flags, u64 timeout_ns)
{
	struct chan_deadline dl;
	int ret;

	*lenp = 0;
	ret = chan_kernel_deadline(h, CHAN_ROLE_RECV, flags, timeout_ns, &dl);
	if (ret)
		return ret;
	return chan_kernel_recv_one(h, buf, size, lenp, &dl, true);
}
EXPORT_SYMBOL_GPL(chan_kernel_recv);

/*
 * Up to @count messages, in order: only the first waits, unless
 * CHAN_MSG_WAITALL; once one was moved, an error ends the batch and the
 * count is returned (the next call meets the error again), as
 * CHAN_IOC_SEND_BATCH and CHAN_IOC_RECV_BATCH.
 */
static int chan_kernel_batch(struct chan_handle *h, enum chan_dir dir,
			     struct kvec *rvec, const struct kvec *svec,
			     u32 count, u32 flags, u64 timeout_ns)
{
	const struct chan_deadline nowait = { .nonblock = true, .kernel = h };
	const struct chan_deadline *dlp;
	struct chan_deadline dl;
	u32 i, len;
	int ret;

	if (!count || count > CHAN_BATCH_MAX)
		return -EINVAL;
	ret = chan_kernel_deadline(h, dir == CHAN_DIR_SEND ? CHAN_ROLE_SEND :
				   CHAN_ROLE_RECV, flags & ~CHAN_MSG_WAITALL,
				   timeout_ns, &dl);
	if (ret)
		return ret;
	dlp = &dl;
	for (i = 0; i < count; i++) {
		if (dir == CHAN_DIR_SEND) {
			if (svec[i].iov_len > U32_MAX)
				ret = -EMSGSIZE;
			else
				ret = chan_kernel_send_one(h,
							   svec[i].iov_base,
							   svec[i].iov_len,
							   dlp);
		} else {
			len = 0;
			ret = chan_kernel_recv_one(h, rvec[i].iov_base,
						   min_t(size_t,
							 rvec[i].iov_len,
							 U32_MAX),
						   &len, dlp, !i);
			if (!ret || ret == -EMSGSIZE)
				rvec[i].iov_len = len;
		}
		if (ret)
			break;
		if (!(flags & CHAN_MSG_WAITALL))
			dlp = &nowait;
		cond_resched();
	}
	return i ? i : ret;
}

/**
 * chan_kernel_send_batch() - send up to @count messages in order
 * @h: a handle with the send role
 * @vec: the messages
 * @count: how many, 1..CHAN_BATCH_MAX
 * @flags: as for chan_kernel_send(), and CHAN_MSG_WAITALL: every message
 *	may wait (else only the first)
 * @timeout_ns: as for chan_kernel_send()
 *
 * Return: the number of messages sent (at least 1), or the error of the
 * first, as chan_kernel_send(); -EINVAL for a bad @count.
 */
int chan_kernel_send_batch(struct chan_handle *h, const struct kvec *vec,
			   u32 count, u32 flags, u64 timeout_ns)
{
	return chan_kernel_batch(h, CHAN_DIR_SEND, NULL, vec, count, flags,
				 timeout_ns);
}
EXPORT_SYMBOL_GPL(chan_kernel_send_batch);

/**
 * chan_kernel_recv_batch() - receive up to @count messages in order
 * @h: a handle with the receive role
 * @vec: the buffers; each iov_len is set to its message's length (also
 *	for the one that failed with -EMSGSIZE)
 * @count: how many, 1..CHAN_BATCH_MAX
 * @flags: as for chan_kernel_send_batch()
 * @timeout_ns: as for chan_kernel_send()
 *
 * Return: the number of messages received (at least 1), or the error of
 * the first, as chan_kernel_recv(); -EINVAL for a bad @count.
 */
int chan_kernel_recv_batch(struct chan_handle *h, struct kvec *vec,
			   u32 count, u32 flags, u64 timeout_ns)
{
	return chan_kernel_batch(h, CHAN_DIR_RECV, vec, NULL, count, flags,
				 timeout_ns);
}
EXPORT_SYMBOL_GPL(chan_kernel_recv_batch);

/**
 * chan_kernel_close() - close a handle's channel for sending, for good
 * @h: any handle on the channel (the kernel may close any channel)
 *
 * As CHAN_IOC_CLOSE: every later send fails with -EPIPE, receivers take
 * what is queued and then get -EPIPE, every waiter is woken; the ID, the
 * name and INFO stay.
 *
 * Return: 0, -EALREADY (closed already) or -EIDRM (destroyed).
 */
int chan_kernel_close(struct chan_handle *h)
{
	return chan_close(h->ch, false);
}
EXPORT_SYMBOL_GPL(chan_kernel_close);

/**
 * chan_kernel_destroy() - destroy a handle's channel
 * @h: any handle on the channel
 *
 * As CHAN_IOC_DESTROY: the ID and name go, every call on the channel,
 * blocked or later, by any endpoint or handle, fails with -EIDRM. Handles
 * must still be released.
 *
 * Return: 0, or -ENOENT if it was destroyed already.
 */
int chan_kernel_destroy(struct chan_handle *h)
{
	return chan_destroy(h->ch);
}
EXPORT_SYMBOL_GPL(chan_kernel_destroy);

/**
 * chan_kernel_info() - describe a handle's channel
 * @h: any handle on the channel
 * @info: filled in as by CHAN_IOC_INFO (uids as the caller's user
 *	namespace sees them)
 *
 * Return: 0.
 */
int chan_kernel_info(struct chan_handle *h, struct chan_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	chan_fill_info(h->ch, info);
	return 0;
}
EXPORT_SYMBOL_GPL(chan_kernel_info);

/**
 * chan_kernel_shutdown() - end every call on a handle, now and later
 * @h: the handle
 *
 * A call blocked on @h returns -ESHUTDOWN, and so does every later send
 * or receive on it; other endpoints and handles are not affected (they
 * are woken, and wait again). May be called from any context that may
 * sleep, concurrently with the calls it ends; then, once they returned,
 * release the handle. A kthread blocked in a call may instead be stopped
 * with kthread_stop() alone (the call returns -EINTR).
 */
void chan_kernel_shutdown(struct chan_handle *h)
{
	set_bit(CHAN_HANDLE_SHUTDOWN, &h->flags);
	/*
	 * A waiter queues itself under the queue's lock before it looks at
	 * the bit, so it either sees the bit or is on the queue here.
	 */
	chan_wake_all(h->ch);
}
EXPORT_SYMBOL_GPL(chan_kernel_shutdown);
