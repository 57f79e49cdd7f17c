// SPDX-License-Identifier: GPL-2.0
/*
 * Deadlines of sends and receives: the flags and timeout of a call,
 * checked and turned into an absolute time on the host's CLOCK_MONOTONIC,
 * and back into the caller's time namespace when a restarted call must be
 * told its deadline.
 */
#include <linux/hrtimer.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/time_namespace.h>
#include "chan_private.h"

/*
 * An absolute CLOCK_MONOTONIC time of the caller's time namespace, in the
 * host's. do_timens_ktime_to_host() is not exported; the offsets are in
 * struct time_namespace, which the header defines.
 */
static ktime_t chan_timens_to_host(ktime_t t)
{
#ifdef CONFIG_TIME_NS
	struct time_namespace *tns = current->nsproxy->time_ns;
	ktime_t offset = timespec64_to_ktime(tns->offsets.monotonic);

	/* Before the namespace's zero: already expired. */
	if (t < offset)
		return 0;
	/* A negative offset must not wrap a far deadline. */
	if (offset < 0 && t > KTIME_MAX + offset)
		return KTIME_MAX;
	return ktime_sub(t, offset);
#else
	return t;
#endif
}

/* The inverse: a host CLOCK_MONOTONIC time in the caller's time namespace. */
static ktime_t chan_host_to_timens(ktime_t t)
{
#ifdef CONFIG_TIME_NS
	struct time_namespace *tns = current->nsproxy->time_ns;

	return ktime_add_safe(t, timespec64_to_ktime(tns->offsets.monotonic));
#else
	return t;
#endif
}

/**
 * chan_deadline_init() - check a call's flags and timeout
 * @dl: filled in
 * @flags: CHAN_MSG_* flags
 * @timeout_ns: relative or absolute timeout
 * @file_nonblock: the fd was opened O_NONBLOCK
 *
 * An absolute timeout is read on the CLOCK_MONOTONIC of the caller's time
 * namespace.
 *
 * Return: 0, -EOPNOTSUPP (unknown flag) or -EINVAL (inconsistent).
 */
int chan_deadline_init(struct chan_deadline *dl, u32 flags, u64 timeout_ns,
		       bool file_nonblock)
{
	const u32 known = CHAN_MSG_NONBLOCK | CHAN_MSG_TIMEOUT |
			  CHAN_MSG_ABSTIME;
	ktime_t t;

	dl->relative = false;
	dl->kernel = NULL;
	if (likely(!flags && !timeout_ns)) {
		/* The common case: block (or not, per the fd) forever. */
		dl->nonblock = file_nonblock;
		dl->timed = false;
		dl->expires = 0;
		return 0;
	}
	if (flags & ~known)
		return -EOPNOTSUPP;
	if ((flags & CHAN_MSG_NONBLOCK) && (flags & CHAN_MSG_TIMEOUT))
		return -EINVAL;
	if ((flags & CHAN_MSG_ABSTIME) && !(flags & CHAN_MSG_TIMEOUT))
		return -EINVAL;
	if (!(flags & CHAN_MSG_TIMEOUT) && timeout_ns)
		return -EINVAL;

	dl->nonblock = file_nonblock || (flags & CHAN_MSG_NONBLOCK);
	dl->timed = flags & CHAN_MSG_TIMEOUT;
	dl->expires = 0;
	if (dl->timed) {
		t = timeout_ns > KTIME_MAX ? KTIME_MAX : (ktime_t)timeout_ns;
		if (flags & CHAN_MSG_ABSTIME) {
			dl->expires = chan_timens_to_host(t);
		} else {
			dl->relative = true;
			dl->expires = ktime_add_safe(ktime_get(), t);
		}
	}
	return 0;
}

/**
 * chan_deadline_user() - a deadline as the caller would give it absolutely
 * @dl: a timed deadline
 *
 * Return: the deadline on the CLOCK_MONOTONIC of the caller's time
 * namespace, in nanoseconds.
 */
u64 chan_deadline_user(const struct chan_deadline *dl)
{
	ktime_t t = chan_host_to_timens(dl->expires);

	return t > 0 ? t : 0;
}
