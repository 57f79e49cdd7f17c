// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: channels by ID and by name, one table per IPC namespace.
 *
 * A module cannot hang data off struct ipc_namespace, nor take and drop a
 * reference on one (put_ipc_ns() is not exported), so a chan_ns is keyed
 * by the namespace pointer and pins the namespace through an open nsfs
 * file: the pointer then cannot be freed and reused for another namespace
 * while a chan_ns names it. The namespace is the one of the process that
 * opens /dev/chan, as a socket's network namespace is its creator's.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ipc_namespace.h>
#include <linux/nsproxy.h>
#include <linux/proc_ns.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include "chan_private.h"

/*
 * The cyclic ID cursor is global rather than per namespace: a chan_ns goes
 * away when its namespace has no channel and no /dev/chan file, and a
 * per-namespace cursor would then restart and hand a stale ID to the next
 * channel at once. Taken only by create, nested inside chan_ns.lock.
 */
static DEFINE_MUTEX(chan_id_lock);
static u32 chan_id_cursor;

/* Protects chan_ns_list and the final put of every chan_ns. */
static DEFINE_MUTEX(chan_ns_list_lock);
static LIST_HEAD(chan_ns_list);

static struct chan_ns *chan_ns_create(struct ipc_namespace *ipc_ns)
{
	struct chan_ns *ns;
	struct file *pin = NULL;

	if (ipc_ns->ns.inum != PROC_IPC_INIT_INO) {
		pin = filp_open("/proc/thread-self/ns/ipc", O_RDONLY, 0);
		if (IS_ERR(pin))
			return ERR_CAST(pin);
		if (file_inode(pin)->i_ino != ipc_ns->ns.inum) {
			fput(pin);
			return ERR_PTR(-ENXIO);
		}
	}
	ns = kzalloc(sizeof(*ns), GFP_KERNEL_ACCOUNT);
	if (!ns) {
		if (pin)
			fput(pin);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&ns->ref);
	ns->ipc_ns = ipc_ns;
	ns->pin = pin;
	xa_init_flags(&ns->ids, XA_FLAGS_ALLOC1);
	mutex_init(&ns->lock);
	hash_init(ns->names);
	return ns;
}

/**
 * chan_ns_get_current() - the chan_ns of the caller's IPC namespace
 *
 * Return: a referenced chan_ns, or an ERR_PTR.
 */
struct chan_ns *chan_ns_get_current(void)
{
	struct ipc_namespace *ipc_ns = current->nsproxy->ipc_ns;
	struct chan_ns *ns;

	mutex_lock(&chan_ns_list_lock);
	list_for_each_entry(ns, &chan_ns_list, node) {
		if (ns->ipc_ns == ipc_ns) {
			kref_get(&ns->ref);
			goto out;
		}
	}
	ns = chan_ns_create(ipc_ns);
	if (!IS_ERR(ns))
		list_add(&ns->node, &chan_ns_list);
out:
	mutex_unlock(&chan_ns_list_lock);
	return ns;
}

/* Called with chan_ns_list_lock held; drops it. */
static void chan_ns_release(struct kref *ref)
{
	struct chan_ns *ns = container_of(ref, struct chan_ns, ref);

	list_del(&ns->node);
	mutex_unlock(&chan_ns_list_lock);
	WARN_ON(!xa_empty(&ns->ids));
	xa_destroy(&ns->ids);
	if (ns->pin)
		fput(ns->pin);
	kfree(ns);
}

void chan_ns_put(struct chan_ns *ns)
{
	kref_put_mutex(&ns->ref, chan_ns_release, &chan_ns_list_lock);
}

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
 * @ch: the channel; the registry takes over the caller's reference
 *
 * Return: 0, or -ENOSPC (too many channels), -EEXIST (name in use),
 * -ENOMEM. On failure the caller still owns its reference.
 */
int chan_registry_add(struct chan_ns *ns, struct chan *ch)
{
	int ret;

	mutex_lock(&ns->lock);
	if (ns->nr_channels >= READ_ONCE(chan_max_channels)) {
		ret = -ENOSPC;
		goto out;
	}
	if (ch->name[0] && chan_find_name_locked(ns, ch->name)) {
		ret = -EEXIST;
		goto out;
	}
	/* Cyclic, so that a stale ID does not soon name a new channel. */
	mutex_lock(&chan_id_lock);
	ret = xa_alloc_cyclic(&ns->ids, &ch->id, ch, XA_LIMIT(1, INT_MAX),
			      &chan_id_cursor, GFP_KERNEL_ACCOUNT);
	mutex_unlock(&chan_id_lock);
	if (ret < 0) {
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto out;
	}
	ret = 0;
	if (ch->name[0])
		hash_add(ns->names, &ch->name_node, chan_name_hash(ch->name));
	ns->nr_channels++;
out:
	mutex_unlock(&ns->lock);
	return ret;
}

/**
 * chan_registry_remove() - remove a channel's ID and name
 * @ch: the channel
 *
 * Return: true if this call removed it (and so now owns the registry's
 * reference), false if it was already gone.
 */
bool chan_registry_remove(struct chan *ch)
{
	struct chan_ns *ns = ch->ns;
	bool removed = false;

	mutex_lock(&ns->lock);
	if (xa_load(&ns->ids, ch->id) == ch) {
		xa_erase(&ns->ids, ch->id);
		if (ch->name[0])
			hash_del(&ch->name_node);
		ns->nr_channels--;
		removed = true;
	}
	mutex_unlock(&ns->lock);
	return removed;
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

/*
 * Unload: no file of ours is open (each holds a module reference), so the
 * only channels left are persistent ones with no users. Destroy them; the
 * last channel of a namespace drops the namespace.
 */
void chan_registry_exit(void)
{
	struct chan_ns *ns, *last = NULL;
	struct chan *ch;

	for (;;) {
		mutex_lock(&chan_ns_list_lock);
		ns = list_first_entry_or_null(&chan_ns_list, struct chan_ns,
					      node);
		if (ns)
			kref_get(&ns->ref);
		mutex_unlock(&chan_ns_list_lock);
		if (!ns)
			break;
		/* Still listed after all its channels went: a leak. */
		if (WARN_ON(ns == last)) {
			chan_ns_put(ns);
			break;
		}
		last = ns;
		while ((ch = chan_lookup_next(ns, 1))) {
			chan_destroy(ch);
			chan_put(ch);
		}
		chan_ns_put(ns);
	}
}
