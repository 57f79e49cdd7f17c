// SPDX-License-Identifier: GPL-2.0
/*
 * Channel objects: creation, permissions, endpoint counts, disconnect,
 * destroy and description.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ipc_namespace.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/user_namespace.h>
#include "chan_private.h"
#include "chan_trace.h"

#define CHAN_MAY_READ	04
#define CHAN_MAY_WRITE	02

/**
 * chan_validate_name() - check a user-supplied name
 * @name: CHAN_NAME_MAX bytes
 *
 * Return: 0 if it is NUL-terminated printable ASCII without '/', else
 * -EINVAL.
 */
int chan_validate_name(const char *name)
{
	size_t i;

	for (i = 0; i < CHAN_NAME_MAX; i++) {
		if (!name[i])
			return 0;
		if (name[i] < 0x21 || name[i] > 0x7e || name[i] == '/')
			return -EINVAL;
	}
	return -EINVAL;
}

/**
 * chan_alloc() - allocate a channel from validated parameters
 * @ns: its namespace
 * @c: the create request (msg_size, mode and name checked)
 * @capacity: the number of slots, a power of two
 *
 * The channel is charged to its namespace and to the caller (account.c)
 * until it is freed.
 *
 * Return: the channel with one reference, or an ERR_PTR (-ENOSPC when a
 * limit is reached, -ENOMEM).
 */
struct chan *chan_alloc(struct chan_ns *ns, const struct chan_create *c,
			u32 capacity)
{
	struct chan *ch;
	int ret;

	ch = kzalloc(sizeof(*ch), GFP_KERNEL_ACCOUNT);
	if (!ch)
		return ERR_PTR(-ENOMEM);
	ch->ns = ns;
	ch->ring_bytes = chan_ring_bytes(chan_ring_msg_size(c->msg_size,
							    c->flags),
					 capacity, c->flags);
	ret = chan_charge(ch);
	if (ret)
		goto err_free;
	ch->stats = alloc_percpu_gfp(struct chan_stats, GFP_KERNEL_ACCOUNT);
	if (!ch->stats) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	ret = chan_ring_init(&ch->ring,
			     chan_ring_msg_size(c->msg_size, c->flags),
			     capacity, c->flags);
	if (ret)
		goto err_stats;
	ch->flags = c->flags;
	ret = chan_bcast_init(ch);
	if (ret)
		goto err_ring;
	kref_init(&ch->ref);
	kref_get(&ns->ref);
	ch->msg_size = c->msg_size;
	ch->mode = c->mode ? c->mode : 0600;
	ch->uid = current_euid();
	ch->gid = current_egid();
	ch->type_tag = c->type_tag;
	strscpy(ch->name, c->name, sizeof(ch->name));
	init_waitqueue_head(&ch->wq[CHAN_DIR_SEND]);
	init_waitqueue_head(&ch->wq[CHAN_DIR_RECV]);
	spin_lock_init(&ch->lock);
	mutex_init(&ch->spsc[CHAN_DIR_SEND].lock);
	mutex_init(&ch->spsc[CHAN_DIR_RECV].lock);
	spin_lock_init(&ch->peers.lock);
	INIT_LIST_HEAD(&ch->peers.list);
	ida_init(&ch->tokens);
	init_waitqueue_head(&ch->stream.turn_wq);
	atomic64_set(&ch->stream.tx_bytes, 0);
	atomic64_set(&ch->stream.rx_bytes, 0);
	chan_obj_created(CHAN_OBJ_CHANNEL);
	return ch;

err_ring:
	chan_ring_free(&ch->ring);
err_stats:
	free_percpu(ch->stats);
err_uncharge:
	chan_uncharge(ch);
err_free:
	kfree(ch);
	return ERR_PTR(ret);
}

/**
 * chan_new() - check a create request, make the channel and register it
 * @ns: its namespace
 * @c: the request, as CHAN_IOC_CREATE takes it (the out_ fields are
 *	ignored)
 *
 * The path of CHAN_IOC_CREATE and of chan_kernel_create() alike: the same
 * checks, limits and charges (to the calling task's credentials).
 *
 * Return: the channel, registered, with one reference for the caller
 * (the registry holds its own), or an ERR_PTR: -EOPNOTSUPP (unknown flag),
 * -EINVAL (also CHAN_CREATE_STREAM with a flag outside CHAN_STREAM_FLAGS),
 * -ENOSPC, -EEXIST (name in use), -ENOMEM.
 */
struct chan *chan_new(struct chan_ns *ns, const struct chan_create *c)
{
	struct chan *ch;
	u32 capacity;
	int ret;

	if (c->flags & ~CHAN_CREATE_FLAGS)
		return ERR_PTR(-EOPNOTSUPP);
	if (c->__reserved || c->__reserved2)
		return ERR_PTR(-EINVAL);
	/* A stream may be mappable, but is not checked (CRC32C) yet. */
	if ((c->flags & CHAN_CREATE_STREAM) && (c->flags & ~CHAN_STREAM_FLAGS))
		return ERR_PTR(-EINVAL);
	/*
	 * LOSSLESS is a policy of broadcast; a broadcast channel is not
	 * CRC32C-checked yet (its ring is the kernel's to write).
	 */
	if ((c->flags & CHAN_CREATE_LOSSLESS) &&
	    !(c->flags & CHAN_CREATE_BROADCAST))
		return ERR_PTR(-EINVAL);
	if ((c->flags & CHAN_CREATE_BROADCAST) &&
	    (c->flags & ~CHAN_CREATE_BCAST_OK))
		return ERR_PTR(-EINVAL);
	if (!c->msg_size || c->msg_size > CHAN_MSG_SIZE_MAX)
		return ERR_PTR(-EINVAL);
	if (!c->capacity || c->capacity > CHAN_CAPACITY_MAX)
		return ERR_PTR(-EINVAL);
	if (c->mode & ~0777)
		return ERR_PTR(-EINVAL);
	ret = chan_validate_name(c->name);
	if (ret)
		return ERR_PTR(ret);
	capacity = roundup_pow_of_two(c->capacity);
	if (chan_ring_bytes(chan_ring_msg_size(c->msg_size, c->flags), capacity,
			    c->flags) >
	    READ_ONCE(chan_max_ring_bytes))
		return ERR_PTR(-ENOSPC);

	ch = chan_alloc(ns, c, capacity);
	if (IS_ERR(ch))
		return ch;
	/*
	 * The registry takes its own reference before the channel is visible;
	 * ours keeps it alive for the caller even if a DESTROY by a guessed
	 * ID (or a LOOKUP of its name) gets it first.
	 */
	ret = chan_registry_add(ns, ch);
	if (ret) {
		chan_put(ch);
		return ERR_PTR(ret);
	}
	trace_chan_create(ch);
	return ch;
}

static void chan_release(struct kref *ref)
{
	struct chan *ch = container_of(ref, struct chan, ref);
	struct chan_ns *ns = ch->ns;

	chan_bcast_free(ch);
	chan_ring_free(&ch->ring);
	free_percpu(ch->stats);
	ida_destroy(&ch->tokens);
	chan_uncharge(ch);
	chan_obj_destroyed(CHAN_OBJ_CHANNEL);
	/* Lookups under RCU may still be looking at the count. */
	kfree_rcu(ch, rcu);
	chan_ns_put(ns);
}

void chan_put(struct chan *ch)
{
	kref_put(&ch->ref, chan_release);
}

static struct user_namespace *chan_user_ns(struct chan *ch)
{
	return ch->ns->user_ns;
}

/* CAP_IPC_OWNER over the channel's namespace; audited only if @audit. */
static bool chan_capable(struct chan *ch, bool audit)
{
	if (audit)
		return ns_capable(chan_user_ns(ch), CAP_IPC_OWNER);
	return ns_capable_noaudit(chan_user_ns(ch), CAP_IPC_OWNER);
}

/**
 * chan_permitted() - may the caller use @ch this way?
 * @ch: the channel
 * @want: CHAN_ROLE_* bits (send needs write, receive needs read); 0 asks
 *	for read or write
 * @audit: a refusal of the mode bits that CAP_IPC_OWNER overrides is a
 *	use of the capability to be audited; false where nothing is being
 *	authorized (enumeration skipping what the caller may not read)
 *
 * Return: true if the mode bits or CAP_IPC_OWNER allow it.
 */
bool chan_permitted(struct chan *ch, u32 want, bool audit)
{
	u32 need = 0, granted = ch->mode;

	if (want & CHAN_ROLE_SEND)
		need |= CHAN_MAY_WRITE;
	if (want & CHAN_ROLE_RECV)
		need |= CHAN_MAY_READ;
	if (uid_eq(current_euid(), ch->uid))
		granted >>= 6;
	else if (in_group_p(ch->gid))
		granted >>= 3;
	granted &= 07;
	if (need ? (need & granted) == need : granted & 06)
		return true;
	return chan_capable(ch, audit);
}

/**
 * chan_is_owner() - may the caller destroy @ch?
 * @ch: the channel
 * @audit: as for chan_permitted(); false where it only decides whether
 *	an OPEN arms auto-destroy
 *
 * Return: true for the owner's effective uid or CAP_IPC_OWNER.
 */
bool chan_is_owner(struct chan *ch, bool audit)
{
	return uid_eq(current_euid(), ch->uid) || chan_capable(ch, audit);
}

/* Publish a new state; ch->lock held. */
static void chan_set_state(struct chan *ch, u32 state)
{
	lockdep_assert_held(&ch->lock);
	/* Release: pairs with the acquire in chan_state(). */
	smp_store_release(&ch->state, state);
	chan_ring_set_kstate(ch);
}

/*
 * The second half of a destroy, by the caller that marked the channel
 * destroyed (under ch->lock, so exactly one caller gets here): remove its
 * ID and name, wake everyone, drop the registry's reference.
 */
static void chan_destroyed(struct chan *ch)
{
	trace_chan_destroy(ch);
	if (chan_is_bcast(ch))
		chan_bcast_destroyed(ch);
	chan_registry_remove(ch);
	chan_wake_all(ch);
	chan_put(ch);	/* the registry's reference */
}

/**
 * chan_destroy() - remove a channel's ID and fail everyone still using it
 * @ch: the channel (the caller holds a reference)
 *
 * Return: 0, or -ENOENT if it was already destroyed.
 */
int chan_destroy(struct chan *ch)
{
	spin_lock(&ch->lock);
	if (ch->state & CHAN_STATE_DESTROYED) {
		spin_unlock(&ch->lock);
		return -ENOENT;
	}
	chan_set_state(ch, ch->state | CHAN_STATE_DESTROYED);
	spin_unlock(&ch->lock);
	chan_destroyed(ch);
	return 0;
}

/**
 * chan_close() - close a channel for sending, or reopen it
 * @ch: the channel (the caller holds a reference)
 * @reopen: clear CHAN_STATE_CLOSED instead of setting it (the caller
 *	checked that it may)
 *
 * Once closed, senders, and receivers once the ring is drained, fail with
 * EPIPE; every waiter (and poller) is woken to see the change either way.
 * The state's release (chan_set_state()) pairs with the acquire of each
 * try before it looks at the ring.
 *
 * Return: 0, -EALREADY if it was closed (open) already, or -EIDRM if
 * destroyed.
 */
int chan_close(struct chan *ch, bool reopen)
{
	u32 state;

	spin_lock(&ch->lock);
	state = ch->state;
	if (state & CHAN_STATE_DESTROYED) {
		spin_unlock(&ch->lock);
		return -EIDRM;
	}
	if (!(state & CHAN_STATE_CLOSED) == reopen) {
		spin_unlock(&ch->lock);
		return -EALREADY;
	}
	chan_set_state(ch, state ^ CHAN_STATE_CLOSED);
	spin_unlock(&ch->lock);
	chan_wake_all(ch);
	return 0;
}

/**
 * chan_attach() - count a new endpoint
 * @ch: the channel
 * @roles: its CHAN_ROLE_* bits
 * @owner: the opener may destroy the channel (chan_is_owner()), which arms
 *	CHAN_CREATE_AUTODESTROY
 *
 * A first sender or receiver reconnects a disconnected channel. Under
 * ch->lock, so it is atomic with the auto-destroy of chan_detach(): an
 * endpoint either counts before the last close (which then is not the
 * last) or sees the channel destroyed.
 *
 * A CHAN_CREATE_SPSC channel has at most one sender and one receiver
 * endpoint at a time (kernel handles included).
 *
 * Return: 0, -EIDRM if the channel was destroyed, or -EBUSY if it is
 * SPSC and already has an endpoint of a role asked for.
 */
int chan_attach(struct chan *ch, u32 roles, bool owner)
{
	u32 state;

	spin_lock(&ch->lock);
	state = ch->state;
	if (state & CHAN_STATE_DESTROYED) {
		spin_unlock(&ch->lock);
		return -EIDRM;
	}
	if ((ch->flags & CHAN_CREATE_SPSC) &&
	    (((roles & CHAN_ROLE_SEND) && ch->nr_senders) ||
	     ((roles & CHAN_ROLE_RECV) && ch->nr_receivers))) {
		spin_unlock(&ch->lock);
		return -EBUSY;
	}
	if (roles & CHAN_ROLE_SEND) {
		ch->nr_senders++;
		state &= ~CHAN_STATE_NO_SENDERS;
	}
	if (roles & CHAN_ROLE_RECV) {
		ch->nr_receivers++;
		state &= ~CHAN_STATE_NO_RECEIVERS;
	}
	ch->nr_endpoints++;
	if (owner)
		ch->armed = true;
	chan_set_state(ch, state);
	spin_unlock(&ch->lock);
	return 0;
}

/**
 * chan_detach() - count an endpoint going away
 * @ch: the channel
 * @roles: its CHAN_ROLE_* bits
 *
 * The last sender (receiver) disconnects the channel: waiters are woken to
 * see EPIPE. The last endpoint of an auto-destroy channel destroys it, if
 * the channel is armed: an endpoint of someone who may destroy it was
 * opened once. So a user who may only read or write cannot destroy
 * another's channel (and take its name) by opening and closing an
 * endpoint.
 */
void chan_detach(struct chan *ch, u32 roles)
{
	bool changed = false, destroy = false;
	u32 state;

	spin_lock(&ch->lock);
	state = ch->state;
	if ((roles & CHAN_ROLE_SEND) && !--ch->nr_senders) {
		state |= CHAN_STATE_NO_SENDERS;
		changed = true;
	}
	if ((roles & CHAN_ROLE_RECV) && !--ch->nr_receivers) {
		state |= CHAN_STATE_NO_RECEIVERS;
		changed = true;
	}
	if (!--ch->nr_endpoints && ch->armed &&
	    (ch->flags & CHAN_CREATE_AUTODESTROY) &&
	    !(state & CHAN_STATE_DESTROYED)) {
		state |= CHAN_STATE_DESTROYED;
		destroy = true;
	}
	chan_set_state(ch, state);
	spin_unlock(&ch->lock);

	if (destroy)
		chan_destroyed(ch);
	else if (changed)
		chan_wake_all(ch);
}

/**
 * chan_fill_info() - describe a channel
 * @ch: the channel
 * @info: filled in, except size and flags
 */
void chan_fill_info(struct chan *ch, struct chan_info *info)
{
	struct user_namespace *user_ns = current_user_ns();
	const struct chan_ring_view *v = &ch->ring.view;
	struct chan_stats sum = {};
	u64 head, tail, bcast_dropped;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct chan_stats *s = per_cpu_ptr(ch->stats, cpu);

		sum.dropped += READ_ONCE(s->dropped);
		sum.corrupt += READ_ONCE(s->corrupt);
		sum.waits[CHAN_DIR_SEND] += READ_ONCE(s->waits[CHAN_DIR_SEND]);
		sum.waits[CHAN_DIR_RECV] += READ_ONCE(s->waits[CHAN_DIR_RECV]);
	}
	/*
	 * Messages are counted by the cursors: every position below the tail
	 * was claimed by a sender, every one below the head by a receiver,
	 * and what a receiver claimed was either received or dropped. The
	 * drops first: each is counted after its claim moved the head, so
	 * received (head - dropped) is never short. Then the head, then the
	 * tail (acquire, both): a message is claimed by a sender, the tail
	 * moved past it, before it can be received, so received + dropped
	 * <= sent. A mapped ring's cursors and user_skipped are whatever its
	 * mappers wrote: clamped, and trusted for nothing but this report.
	 */
	/* A broadcast channel's cursors are its own (bcast.c). */
	bcast_dropped = sum.dropped;
	if (ch->ring.mappable) {
		sum.dropped += READ_ONCE(v->hdr->user_skipped);
		sum.corrupt += READ_ONCE(v->hdr->user_corrupt);
	}
	/* Acquire: pairs with the cursor CAS of the claim (chan_ring.h). */
	head = smp_load_acquire(&v->hdr->head);
	/* Acquire: orders the tail after the head, as said above. */
	tail = smp_load_acquire(&v->hdr->tail);
	if (head > tail)
		head = tail;
	if (sum.dropped > head)
		sum.dropped = head;
	if (sum.corrupt > head)
		sum.corrupt = head;

	spin_lock(&ch->lock);
	info->state = ch->state;
	info->senders = ch->nr_senders;
	info->receivers = ch->nr_receivers;
	info->mappers = ch->nr_mappers;
	spin_unlock(&ch->lock);

	info->id = ch->id;
	info->chan_flags = ch->flags;
	info->mode = ch->mode;
	info->uid = from_kuid_munged(user_ns, ch->uid);
	info->gid = from_kgid_munged(user_ns, ch->gid);
	info->msg_size = ch->msg_size;
	info->capacity = ch->ring.view.mask + 1;
	info->type_tag = ch->type_tag;
	info->sent = tail;
	info->received = head - sum.dropped;
	info->dropped = sum.dropped;
	info->corrupt = sum.corrupt;
	info->send_waits = sum.waits[CHAN_DIR_SEND];
	info->recv_waits = sum.waits[CHAN_DIR_RECV];
	/* Whatever no receiver claimed is queued, or discarded once destroyed. */
	if (info->state & CHAN_STATE_DESTROYED) {
		info->depth = 0;
		info->discarded = tail - head;
	} else {
		info->depth = min_t(u64, tail - head, v->mask + 1);
		info->discarded = 0;
	}
	info->lost = 0;
	memcpy(info->name, ch->name, sizeof(info->name));
	info->__reserved = 0;
	info->__reserved2 = 0;
	info->__reserved3 = 0;
	if (chan_is_bcast(ch)) {
		/* Its ring's cursors are unused: its own counts. */
		info->dropped = bcast_dropped;
		chan_bcast_fill_info(ch, info);
	}
	/* A high-water mark is never below the depth it describes. */
	info->max_depth = max(chan_max_depth(ch), info->depth);
}
