// SPDX-License-Identifier: GPL-2.0
/*
 * Namespaces: one chan_ns per IPC namespace that uses chan, and the death
 * of its channels with the namespace.
 *
 * The IPC namespace is the one of the process that opens /dev/chan, as a
 * socket's network namespace is its creator's. It is read from
 * current->nsproxy, which only the current task can change: no path is
 * resolved, nothing the user controls is opened, and nothing here blocks
 * beyond a GFP_KERNEL allocation (open of a misc device runs under the
 * kernel-wide misc_mtx).
 *
 * Pinning: a chan_ns holds one real reference on its IPC namespace for its
 * whole life, so the namespace cannot be freed, and its memory reused for
 * another namespace, while a chan_ns names it. get_ipc_ns() is an inline
 * in <linux/ipc_namespace.h> (refcount_inc() on ns->ns.count) and needs no
 * export; the reference is dropped through the namespace's own operations,
 * ns->ns.ops->put(), which for an IPC namespace is ipcns_put() ->
 * put_ipc_ns() (ipc/namespace.c, the same in 6.1 and 6.12). Without
 * CONFIG_IPC_NS there is only the initial namespace, which is never freed,
 * and both are no-ops.
 *
 * Death: each /dev/chan file holds a namespace reference of its own. So
 * when the namespace's count is 1, the reference is ours alone: no task
 * has the namespace in its nsproxy, no nsfs file or bind mount names it
 * and no /dev/chan file of it is open. Then nothing can make its channels
 * reachable again: a task enters a namespace only through setns() or
 * /proc/PID/ns, which need a task or an nsfs file holding a reference, and
 * /dev/chan only uses the opener's nsproxy. (A few kernel paths can still
 * raise the count from 1 for a moment without producing an nsproxy:
 * mqueue's get_ns_from_inode() through a surviving mqueue mount, and
 * exit_shm()'s get_ipc_ns_not_zero(). And holders that are not tasks,
 * such as a System V shm segment still attached or an open /proc/sysvipc
 * file, keep the count above 1 and so postpone the reaping while they
 * last.) A reaper, run every second while any namespace other than the
 * initial one uses chan, destroys the channels of dead namespaces, as
 * free_ipcs() destroys their System V objects, and drops our reference,
 * so that the namespace itself is freed at once. Each channel's memory is
 * freed when its last fd closes, and the chan_ns when its last channel
 * is; until then it keeps only the namespace's user namespace, which
 * permission checks read.
 */
#include <linux/err.h>
#include <linux/ipc_namespace.h>
#include <linux/nsproxy.h>
#include <linux/proc_ns.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>
#include "chan_private.h"

#define CHAN_NS_REAP_INTERVAL	HZ

/*
 * chan_ns_table: the chan_ns of each namespace that uses chan, by the
 * namespace's inode number, which is unique among live namespaces (and
 * ours stays live while its chan_ns is in the table). Lookups run under
 * RCU; chan_ns_lock serializes insertions and removals and protects
 * chan_ns_others. A chan_ns is in the table while its namespace lives,
 * and the table holds one reference on it; one of a namespace other than
 * the initial one is also on chan_ns_others, which the reaper walks.
 */
static DEFINE_MUTEX(chan_ns_lock);
static DEFINE_XARRAY(chan_ns_table);
static LIST_HEAD(chan_ns_others);

static void chan_ns_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(chan_ns_reaper, chan_ns_reap);

static void chan_ipc_ns_put(struct ipc_namespace *ipc_ns)
{
#ifdef CONFIG_IPC_NS
	ipc_ns->ns.ops->put(&ipc_ns->ns);
#endif
}

static bool chan_ipc_ns_is_initial(struct ipc_namespace *ipc_ns)
{
	return ipc_ns->ns.inum == PROC_IPC_INIT_INO;
}

/* Is our reference the only one left? See "Death" above. */
static bool chan_ipc_ns_is_dead(struct ipc_namespace *ipc_ns)
{
#ifdef CONFIG_IPC_NS
	return refcount_read(&ipc_ns->ns.count) == 1;
#else
	return false;
#endif
}

/*
 * The chan_ns of @ipc_ns, referenced, or NULL. A chan_ns found under RCU
 * may be one the reaper just took out (its namespace dead, so not the
 * caller's, whose task keeps it alive): its ipc_ns no longer matches, or
 * its count is zero.
 */
static struct chan_ns *chan_ns_find(struct ipc_namespace *ipc_ns)
{
	struct chan_ns *ns;

	rcu_read_lock();
	ns = xa_load(&chan_ns_table, ipc_ns->ns.inum);
	if (ns && (READ_ONCE(ns->ipc_ns) != ipc_ns ||
		   !kref_get_unless_zero(&ns->ref)))
		ns = NULL;
	rcu_read_unlock();
	return ns;
}

static struct chan_ns *chan_ns_alloc(struct ipc_namespace *ipc_ns)
{
	struct chan_ns *ns;

	ns = kzalloc(sizeof(*ns), GFP_KERNEL_ACCOUNT);
	if (!ns)
		return NULL;
	/* One for the table, one for the caller. */
	kref_init(&ns->ref);
	kref_get(&ns->ref);
	ns->ipc_ns = get_ipc_ns(ipc_ns);
	ns->user_ns = get_user_ns(ipc_ns->user_ns);
	mutex_init(&ns->lock);
	atomic_set(&ns->nr_channels, 0);
	if (chan_registry_init(ns)) {
		put_user_ns(ns->user_ns);
		chan_ipc_ns_put(ns->ipc_ns);
		kfree(ns);
		return NULL;
	}
	return ns;
}

static void chan_ns_free(struct chan_ns *ns)
{
	chan_registry_destroy(ns);
	if (ns->ipc_ns)
		chan_ipc_ns_put(ns->ipc_ns);
	put_user_ns(ns->user_ns);
	/* chan_ns_find() may still be looking at it under RCU. */
	kfree_rcu(ns, rcu);
}

/**
 * chan_ns_get() - the chan_ns of an IPC namespace
 * @ipc_ns: the namespace, which the caller keeps alive during the call
 *
 * Return: a referenced chan_ns, or ERR_PTR(-ENOMEM).
 */
struct chan_ns *chan_ns_get(struct ipc_namespace *ipc_ns)
{
	struct chan_ns *ns, *new;
	int ret;

	ns = chan_ns_find(ipc_ns);
	if (ns)
		return ns;

	new = chan_ns_alloc(ipc_ns);
	if (!new)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&chan_ns_lock);
	ns = chan_ns_find(ipc_ns);
	if (!ns) {
		/*
		 * A dead namespace's chan_ns leaves the table before its
		 * namespace can be freed and its number reused, so the slot
		 * is free.
		 */
		ret = xa_insert(&chan_ns_table, ipc_ns->ns.inum, new,
				GFP_KERNEL_ACCOUNT);
		if (ret) {
			mutex_unlock(&chan_ns_lock);
			chan_ns_free(new);
			return ERR_PTR(ret == -EBUSY ? -EEXIST : ret);
		}
		if (!chan_ipc_ns_is_initial(ipc_ns))
			list_add(&new->other, &chan_ns_others);
		ns = new;
		new = NULL;
	}
	mutex_unlock(&chan_ns_lock);
	if (new)
		chan_ns_free(new);
	else if (!chan_ipc_ns_is_initial(ipc_ns))
		queue_delayed_work(system_unbound_wq, &chan_ns_reaper,
				   CHAN_NS_REAP_INTERVAL);
	return ns;
}

/**
 * chan_ns_get_current() - the chan_ns of the caller's IPC namespace
 *
 * Return: a referenced chan_ns, or ERR_PTR(-ENOMEM).
 */
struct chan_ns *chan_ns_get_current(void)
{
	return chan_ns_get(current->nsproxy->ipc_ns);
}

static void chan_ns_release(struct kref *ref)
{
	chan_ns_free(container_of(ref, struct chan_ns, ref));
}

/**
 * chan_ns_put() - drop a reference on a chan_ns
 * @ns: the namespace
 *
 * The last one goes only after the table's, which is dropped when the
 * namespace died (or at unload): no lock is needed to free it.
 */
void chan_ns_put(struct chan_ns *ns)
{
	kref_put(&ns->ref, chan_ns_release);
}

/**
 * chan_ns_pin_ipc() - take a reference on the namespace for a /dev/chan file
 * @ns: the file's chan_ns
 *
 * While a /dev/chan file is open its namespace is alive: the file can still
 * create and name channels there.
 */
void chan_ns_pin_ipc(struct chan_ns *ns)
{
	get_ipc_ns(ns->ipc_ns);
}

/**
 * chan_ns_unpin_ipc() - drop the reference of chan_ns_pin_ipc()
 * @ns: the file's chan_ns
 */
void chan_ns_unpin_ipc(struct chan_ns *ns)
{
	chan_ipc_ns_put(ns->ipc_ns);
}

/*
 * Destroy every channel of @ns, let its namespace go, then drop the
 * table's reference. @ns is out of the table: no /dev/chan file of it is
 * open (or this is unload), so nothing else looks it up or creates in it.
 */
static void chan_ns_kill(struct chan_ns *ns)
{
	struct ipc_namespace *ipc_ns = ns->ipc_ns;
	struct chan *ch;
	u32 id = 1;

	/* A channel another caller is destroying may still be listed. */
	while ((ch = chan_lookup_next(ns, id))) {
		id = ch->id + 1;
		chan_destroy(ch);
		chan_put(ch);
		cond_resched();
	}
	WRITE_ONCE(ns->ipc_ns, NULL);
	chan_ipc_ns_put(ipc_ns);
	chan_ns_put(ns);
}

/* Take @ns out of the table (and the reaper's list) onto @dead. */
static void chan_ns_unlist(struct chan_ns *ns, struct list_head *dead)
{
	lockdep_assert_held(&chan_ns_lock);
	xa_erase(&chan_ns_table, ns->ipc_ns->ns.inum);
	if (!chan_ipc_ns_is_initial(ns->ipc_ns))
		list_del(&ns->other);
	list_add(&ns->dead, dead);
}

/*
 * Take the dead namespaces out of the table (all of them if @all), then
 * kill them outside the lock. Returns true if a namespace other than the
 * initial one is left. The walk under the lock reads one count per
 * namespace.
 */
static bool chan_ns_reap_some(bool all)
{
	struct chan_ns *ns, *tmp;
	unsigned long inum;
	LIST_HEAD(dead);
	bool others;

	mutex_lock(&chan_ns_lock);
	if (all) {
		xa_for_each(&chan_ns_table, inum, ns)
			chan_ns_unlist(ns, &dead);
	} else {
		list_for_each_entry_safe(ns, tmp, &chan_ns_others, other)
			if (chan_ipc_ns_is_dead(ns->ipc_ns))
				chan_ns_unlist(ns, &dead);
	}
	others = !list_empty(&chan_ns_others);
	mutex_unlock(&chan_ns_lock);

	while ((ns = list_first_entry_or_null(&dead, struct chan_ns, dead))) {
		list_del(&ns->dead);
		chan_ns_kill(ns);
	}
	return others;
}

static void chan_ns_reap(struct work_struct *work)
{
	if (chan_ns_reap_some(false))
		queue_delayed_work(system_unbound_wq, &chan_ns_reaper,
				   CHAN_NS_REAP_INTERVAL);
}

/*
 * Unload: no file of ours is open (each holds a module reference), so the
 * only channels left are persistent ones with no users. Destroy them and
 * let every namespace go.
 */
void chan_ns_exit(void)
{
	cancel_delayed_work_sync(&chan_ns_reaper);
	chan_ns_reap_some(true);
}
