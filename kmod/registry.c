// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: channels by ID and by name, one table per IPC namespace
 * (the namespaces themselves are ns.c's).
 *
 * IDs are allocated cyclically per namespace, so that a stale ID does not
 * soon name a new channel; one namespace cannot learn from its IDs how many
 * channels another creates. A chan_ns lives as long as its namespace (see
 * ns.c), so its cursor never restarts while an old ID could still be held.
 */
#include <linux/sched.h>
#include <linux/stringhash.h>
#include "chan_private.h"

static u32 chan_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

static struct chan *chan_find_name_locked(struct chan_ns *ns,
					  const char *name)
{
	struct chan *ch;

	lockdep_assert_held(&ns->lock);
	hash_for_each_possible(ns->names, ch, name_node, chan_name_hash(name))
		if (!strcmp(ch->name, name))
			return ch;
	return NULL;
}

/**
 * chan_registry_add() - give a new channel an ID (and its name)
 * @ns: the namespace
 * @ch: the channel, already charged to @ns (chan_charge())
 *
 * The registry takes a reference of its own before the channel becomes
 * visible: from then on a DESTROY by a guessed ID may drop it at any time,
 * and the caller's reference keeps the channel alive for the caller.
 *
 * Return: 0, or -ENOSPC (no ID left), -EEXIST (name in use), -ENOMEM.
 */
int chan_registry_add(struct chan_ns *ns, struct chan *ch)
{
	int ret;

	mutex_lock(&ns->lock);
	if (ch->name[0] && chan_find_name_locked(ns, ch->name)) {
		ret = -EEXIST;
		goto out;
	}
	kref_get(&ch->ref);
	/* Cyclic, so that a stale ID does not soon name a new channel. */
	ret = xa_alloc_cyclic(&ns->ids, &ch->id, ch, XA_LIMIT(1, INT_MAX),
			      &ns->id_next, GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		/* The caller's reference remains: never the last. */
		refcount_dec(&ch->ref.refcount);
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto out;
	}
	ret = 0;
	if (ch->name[0])
		hash_add(ns->names, &ch->name_node, chan_name_hash(ch->name));
out:
	mutex_unlock(&ns->lock);
	return ret;
}

/**
 * chan_registry_remove() - remove a channel's ID and name
 * @ch: the channel, just marked destroyed by this caller
 *
 * Only the caller that marked the channel destroyed calls this, once. The
 * caller then owns the registry's reference.
 */
void chan_registry_remove(struct chan *ch)
{
	struct chan_ns *ns = ch->ns;

	mutex_lock(&ns->lock);
	WARN_ON(xa_erase(&ns->ids, ch->id) != ch);
	if (ch->name[0])
		hash_del(&ch->name_node);
	mutex_unlock(&ns->lock);
}

/**
 * chan_lookup() - find a channel by ID
 * @ns: the namespace
 * @id: the ID
 *
 * Return: a referenced channel, or NULL.
 */
struct chan *chan_lookup(struct chan_ns *ns, u32 id)
{
	struct chan *ch;

	rcu_read_lock();
	ch = xa_load(&ns->ids, id);
	/* The struct is freed after a grace period; its count may be zero. */
	if (ch && !kref_get_unless_zero(&ch->ref))
		ch = NULL;
	rcu_read_unlock();
	return ch;
}

/**
 * chan_lookup_next() - find the channel with the lowest ID >= @id
 * @ns: the namespace
 * @id: where to start
 *
 * Return: a referenced channel, or NULL.
 */
struct chan *chan_lookup_next(struct chan_ns *ns, u32 id)
{
	unsigned long index = id;
	struct chan *ch;

	rcu_read_lock();
	for (;;) {
		ch = xa_find(&ns->ids, &index, INT_MAX, XA_PRESENT);
		if (!ch || kref_get_unless_zero(&ch->ref))
			break;
		index++;
	}
	rcu_read_unlock();
	return ch;
}

/**
 * chan_lookup_name() - find a channel by name
 * @ns: the namespace
 * @name: a valid name
 *
 * Return: a referenced channel, or NULL.
 */
struct chan *chan_lookup_name(struct chan_ns *ns, const char *name)
{
	struct chan *ch;

	mutex_lock(&ns->lock);
	ch = chan_find_name_locked(ns, name);
	if (ch && !kref_get_unless_zero(&ch->ref))
		ch = NULL;
	mutex_unlock(&ns->lock);
	return ch;
}
