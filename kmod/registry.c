// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: channels by ID and by name, one table per IPC namespace
 * (the namespaces themselves are ns.c's).
 *
 * IDs are allocated cyclically per namespace, so that a stale ID does not
 * soon name a new channel; one namespace cannot learn from its IDs how many
 * channels another creates. A chan_ns lives as long as its namespace (see
 * ns.c), so its cursor never restarts while an old ID could still be held.
 *
 * Names are in a resizable hash table (rhashtable) per namespace, looked
 * up under RCU, so that a lookup costs the same with a hundred channels or
 * with the limit. The key is the whole CHAN_NAME_MAX bytes of the name,
 * NUL-padded (a channel's name is copied into zeroed memory, a looked-up
 * one into a zeroed buffer).
 */
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include "chan_private.h"

static const struct rhashtable_params chan_name_params = {
	.key_len = CHAN_NAME_MAX,
	.key_offset = offsetof(struct chan, name),
	.head_offset = offsetof(struct chan, name_node),
	.automatic_shrinking = true,
};

/**
 * chan_registry_init() - set up a namespace's tables
 * @ns: the namespace
 *
 * Return: 0 or -ENOMEM.
 */
int chan_registry_init(struct chan_ns *ns)
{
	xa_init_flags(&ns->ids, XA_FLAGS_ALLOC1);
	return rhashtable_init(&ns->names, &chan_name_params);
}

/**
 * chan_registry_destroy() - free a namespace's tables, empty by now
 * @ns: the namespace
 */
void chan_registry_destroy(struct chan_ns *ns)
{
	WARN_ON(!xa_empty(&ns->ids));
	xa_destroy(&ns->ids);
	rhashtable_destroy(&ns->names);
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
	/* Names are added under ns->lock only: nobody takes it meanwhile. */
	if (ch->name[0] &&
	    rhashtable_lookup_fast(&ns->names, ch->name, chan_name_params)) {
		ret = -EEXIST;
		goto out;
	}
	kref_get(&ch->ref);
	/* Cyclic, so that a stale ID does not soon name a new channel. */
	ret = xa_alloc_cyclic(&ns->ids, &ch->id, ch, XA_LIMIT(1, INT_MAX),
			      &ns->id_next, GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto err_ref;
	}
	/* The name last: a LOOKUP that finds it finds the ID too. */
	if (ch->name[0]) {
		ret = rhashtable_insert_fast(&ns->names, &ch->name_node,
					     chan_name_params);
		if (ret) {
			/* ENOMEM, or a table at its maximum (E2BIG) */
			ret = ret == -ENOMEM ? ret : -ENOSPC;
			xa_erase(&ns->ids, ch->id);
			goto err_ref;
		}
	}
	mutex_unlock(&ns->lock);
	return 0;

err_ref:
	/* The caller's reference remains: never the last. */
	refcount_dec(&ch->ref.refcount);
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
		WARN_ON(rhashtable_remove_fast(&ns->names, &ch->name_node,
					       chan_name_params));
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
	char key[CHAN_NAME_MAX] = {};
	struct chan *ch;

	strscpy(key, name, sizeof(key));
	rcu_read_lock();
	ch = rhashtable_lookup(&ns->names, key, chan_name_params);
	/* The struct is freed after a grace period; its count may be zero. */
	if (ch && !kref_get_unless_zero(&ch->ref))
		ch = NULL;
	rcu_read_unlock();
	return ch;
}
