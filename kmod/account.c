// SPDX-License-Identifier: GPL-2.0
/*
 * Limits: what a channel is charged for, and to whom.
 *
 * A channel is charged from CREATE until it is freed (destroyed and its
 * last fd closed), because that is how long its ring really exists:
 *
 *  - one channel against its namespace's max_channels;
 *  - one channel and its ring bytes against its creator's uid
 *    (max_user_channels, max_user_ring_bytes), like RLIMIT_MSGQUEUE for
 *    POSIX message queues, and against the owner of every user namespace
 *    the creator is in, up to the initial one, as the kernel's ucounts
 *    charge RLIMIT_MSGQUEUE. Uids are the kernel's (kuid). So a user who
 *    is root in a user namespace of their own is charged as themselves,
 *    and one who maps a range of subordinate uids into a user namespace
 *    pays, as that namespace's owner, for the channels of every uid in it:
 *    the range does not multiply their limits;
 *  - its ring bytes against max_total_ring_bytes, the last line for all
 *    users together.
 *
 * Every counter is raised before its limit is checked and lowered again
 * on failure, so concurrent creates can never both slip under a limit.
 * The users' counters come first, so that a user at their own limit never
 * pushes the shared ones up, even for an instant.
 */
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/user_namespace.h>
#include "chan_private.h"

/**
 * struct chan_user - what one uid's channels cost
 * @node: in chan_users (under chan_users_lock)
 * @uid: the user
 * @ref: one per channel charged to the user
 * @channels: channels charged
 * @ring_bytes: ring bytes charged
 */
struct chan_user {
	struct hlist_node node;
	kuid_t uid;
	refcount_t ref;
	atomic_t channels;
	atomic64_t ring_bytes;
};

/* Protects chan_users and the final put of every chan_user. */
static DEFINE_SPINLOCK(chan_users_lock);
static DEFINE_HASHTABLE(chan_users, 6);

/* Ring memory of all channels, against chan_max_total_ring_bytes. */
static atomic64_t chan_total_ring_bytes = ATOMIC64_INIT(0);

static struct chan_user *chan_user_find(kuid_t uid)
{
	struct chan_user *u;

	lockdep_assert_held(&chan_users_lock);
	hash_for_each_possible(chan_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/* The caller's chan_user, referenced; NULL if out of memory. */
static struct chan_user *chan_user_get(kuid_t uid)
{
	struct chan_user *u, *new;

	spin_lock(&chan_users_lock);
	u = chan_user_find(uid);
	if (u)
		refcount_inc(&u->ref);
	spin_unlock(&chan_users_lock);
	if (u)
		return u;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);
	spin_lock(&chan_users_lock);
	u = chan_user_find(uid);
	if (u) {
		refcount_inc(&u->ref);
	} else {
		hash_add(chan_users, &new->node, __kuid_val(uid));
		u = new;
		new = NULL;
	}
	spin_unlock(&chan_users_lock);
	kfree(new);
	return u;
}

/* Channels are freed far less often than sent to: a plain lock will do. */
static void chan_user_put(struct chan_user *u)
{
	spin_lock(&chan_users_lock);
	if (refcount_dec_and_test(&u->ref))
		hash_del(&u->node);
	else
		u = NULL;
	spin_unlock(&chan_users_lock);
	kfree(u);
}

/* One more in @counter unless that takes it over @limit. */
static bool chan_charge_atomic(atomic_t *counter, unsigned int limit)
{
	if ((unsigned int)atomic_inc_return(counter) > limit) {
		atomic_dec(counter);
		return false;
	}
	return true;
}

/* @n more in @counter unless that takes it over @limit. */
static bool chan_charge_atomic64(atomic64_t *counter, u64 n, u64 limit)
{
	if ((u64)atomic64_add_return(n, counter) > limit) {
		atomic64_sub(n, counter);
		return false;
	}
	return true;
}

/*
 * The uids a new channel is charged to: the caller's effective uid, then
 * the owner of each user namespace from the caller's up to (not
 * including) the initial one, each once. At most one per level of user
 * namespace nesting (32) plus one.
 */
#define CHAN_CHARGE_MAX		33

static unsigned int chan_charge_uids(kuid_t *uids)
{
	struct user_namespace *ns;
	unsigned int n = 0, i;

	uids[n++] = current_euid();
	for (ns = current_user_ns(); ns->parent && n < CHAN_CHARGE_MAX;
	     ns = ns->parent) {
		for (i = 0; i < n && !uid_eq(uids[i], ns->owner); i++)
			;
		if (i == n)
			uids[n++] = ns->owner;
	}
	return n;
}

/* Take back a user's part of a charge, and the reference on the user. */
static void chan_uncharge_user(struct chan_user *u, u64 bytes)
{
	atomic64_sub(bytes, &u->ring_bytes);
	atomic_dec(&u->channels);
	chan_user_put(u);
}

/**
 * chan_charge() - charge a new channel to its namespace, users and the total
 * @ch: the channel, with @ch->ns set and @ch->ring_bytes its ring's size
 *
 * The creator pays until chan_uncharge() (see the top of this file).
 *
 * Return: 0, -ENOSPC if a limit would be exceeded, or -ENOMEM.
 */
int chan_charge(struct chan *ch)
{
	kuid_t uids[CHAN_CHARGE_MAX];
	unsigned int n, i = 0;
	u64 bytes = ch->ring_bytes;
	struct chan_user *u;
	int ret = -ENOSPC;

	n = chan_charge_uids(uids);
	ch->users = kcalloc(n, sizeof(*ch->users), GFP_KERNEL_ACCOUNT);
	if (!ch->users)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		u = chan_user_get(uids[i]);
		if (!u) {
			ret = -ENOMEM;
			goto err_users;
		}
		if (!chan_charge_atomic(&u->channels,
					READ_ONCE(chan_max_user_channels))) {
			chan_user_put(u);
			goto err_users;
		}
		if (!chan_charge_atomic64(&u->ring_bytes, bytes,
					  READ_ONCE(chan_max_user_ring_bytes))) {
			atomic_dec(&u->channels);
			chan_user_put(u);
			goto err_users;
		}
		ch->users[i] = u;
	}
	if (!chan_charge_atomic(&ch->ns->nr_channels,
				READ_ONCE(chan_max_channels)))
		goto err_users;
	if (!chan_charge_atomic64(&chan_total_ring_bytes, bytes,
				  READ_ONCE(chan_max_total_ring_bytes)))
		goto err_ns;
	ch->nr_users = n;
	return 0;

err_ns:
	atomic_dec(&ch->ns->nr_channels);
err_users:
	while (i--)
		chan_uncharge_user(ch->users[i], bytes);
	kfree(ch->users);
	ch->users = NULL;
	return ret;
}

/**
 * chan_uncharge() - give back what chan_charge() took
 * @ch: a channel whose charge succeeded, being freed
 */
void chan_uncharge(struct chan *ch)
{
	unsigned int i;

	atomic64_sub(ch->ring_bytes, &chan_total_ring_bytes);
	atomic_dec(&ch->ns->nr_channels);
	for (i = 0; i < ch->nr_users; i++)
		chan_uncharge_user(ch->users[i], ch->ring_bytes);
	kfree(ch->users);
}

/**
 * chan_users_show() - debugfs chan/users: "<uid> <channels> <ring bytes>"
 * @m: the seq_file
 * @unused: unused
 *
 * One line per user with channels, uids as the initial user namespace
 * sees them, and a last line "total - <ring bytes>".
 *
 * Return: 0.
 */
int chan_users_show(struct seq_file *m, void *unused)
{
	struct chan_user *u;
	int bkt;

	spin_lock(&chan_users_lock);
	hash_for_each(chan_users, bkt, u, node)
		seq_printf(m, "%u %d %lld\n", __kuid_val(u->uid),
			   atomic_read(&u->channels),
			   atomic64_read(&u->ring_bytes));
	spin_unlock(&chan_users_lock);
	seq_printf(m, "total - %lld\n", atomic64_read(&chan_total_ring_bytes));
	return 0;
}
