// SPDX-License-Identifier: GPL-2.0
/*
 * An example of chan's in-kernel API (docs/kernel-api.md): two kthreads
 * and two named channels of the initial IPC namespace, typed with
 * CHAN_KERNEL_DECLARE_TYPED().
 *
 *  - "chan_example.out": the producer kthread sends struct chan_example_msg
 *    with seq 0, 1, 2, ... for ever; a user process receives them.
 *  - "chan_example.in": a user process sends messages with seq 0, 1, 2,
 *    ...; the consumer kthread receives them and counts them in the
 *    read-only parameter "received" (and the ones out of order or
 *    malformed in "errors").
 *
 * Both channels are mode 0666, so any user can reach them: a full ring,
 * an empty one, a sender or receiver that leaves, a destroy, a hostile
 * mapper (with mappable=1) must not wedge or crash the kthreads. Each
 * treats EPIPE (its peers left) as "wait and try again", stops on any
 * other error (kept in producer_err / consumer_err), and is stopped at
 * unload by kthread_stop() even while blocked in a send or receive.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include "chan_kernel.h"

#define CHAN_EXAMPLE_MAGIC	0x6368616eU	/* "chan" */

/**
 * struct chan_example_msg - the message type of both channels
 * @seq: 0, 1, 2, ... per channel
 * @magic: CHAN_EXAMPLE_MAGIC
 * @__pad: zero
 */
struct chan_example_msg {
	u64 seq;
	u32 magic;
	u32 __pad;
};

CHAN_KERNEL_DECLARE_TYPED(chan_example, struct chan_example_msg)

static unsigned int capacity = 16;
module_param(capacity, uint, 0444);
MODULE_PARM_DESC(capacity, "Slots of each channel");

static bool mappable;
module_param(mappable, bool, 0444);
MODULE_PARM_DESC(mappable, "Create the channels mappable (the fast path)");

static unsigned long sent;
module_param(sent, ulong, 0444);
MODULE_PARM_DESC(sent, "Messages the producer sent");

static unsigned long received;
module_param(received, ulong, 0444);
MODULE_PARM_DESC(received, "Messages the consumer received in order");

static unsigned long errors;
module_param(errors, ulong, 0444);
MODULE_PARM_DESC(errors, "Messages the consumer received out of order or malformed");

static unsigned long disconnects;
module_param(disconnects, ulong, 0444);
MODULE_PARM_DESC(disconnects, "EPIPEs either kthread met (its peers left)");

static int producer_err;
module_param(producer_err, int, 0444);
MODULE_PARM_DESC(producer_err, "The error that ended the producer, 0 while it runs");

static int consumer_err;
module_param(consumer_err, int, 0444);
MODULE_PARM_DESC(consumer_err, "The error that ended the consumer, 0 while it runs");

static struct chan_example_chan out_ch, in_ch;
static struct task_struct *producer, *consumer;

/* After an error, wait for kthread_stop(): a kthread must not return. */
static void chan_example_park(void)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
}

/* Peers left (EPIPE): poll for new ones, until stopped. */
static bool chan_example_disconnected(void)
{
	WRITE_ONCE(disconnects, disconnects + 1);
	msleep_interruptible(20);
	return !kthread_should_stop();
}

static int chan_example_produce(void *unused)
{
	struct chan_example_msg m = { .magic = CHAN_EXAMPLE_MAGIC };
	int ret = 0;

	while (!kthread_should_stop()) {
		/* Blocks while the ring is full: kthread_stop() ends it. */
		ret = chan_example_send(&out_ch, &m, 0, 0);
		if (ret == -EPIPE && chan_example_disconnected())
			continue;
		if (ret)
			break;
		m.seq++;
		WRITE_ONCE(sent, m.seq);
	}
	WRITE_ONCE(producer_err, ret ? ret : -EINTR);
	chan_example_park();
	return 0;
}

static int chan_example_consume(void *unused)
{
	struct chan_example_msg m;
	u64 next = 0;
	int ret = 0;

	while (!kthread_should_stop()) {
		ret = chan_example_recv(&in_ch, &m, 0, 0);
		if (ret == -EPIPE && chan_example_disconnected())
			continue;
		/* A short message (user space may send one) is EBADMSG. */
		if (ret == -EBADMSG) {
			WRITE_ONCE(errors, errors + 1);
			continue;
		}
		if (ret)
			break;
		/* The payload is user input: check it, never trust it. */
		if (m.magic != CHAN_EXAMPLE_MAGIC || m.seq != next) {
			WRITE_ONCE(errors, errors + 1);
			next = m.seq + 1;
			continue;
		}
		next++;
		WRITE_ONCE(received, received + 1);
	}
	WRITE_ONCE(consumer_err, ret ? ret : -EINTR);
	chan_example_park();
	return 0;
}

static int __init chan_example_init(void)
{
	u32 flags = mappable ? CHAN_CREATE_MAPPABLE : 0;
	int ret;

	ret = chan_example_create(&out_ch, NULL, "chan_example.out", capacity,
				  0666, flags, CHAN_ROLE_SEND);
	if (ret)
		return ret;
	ret = chan_example_create(&in_ch, NULL, "chan_example.in", capacity,
				  0666, flags, CHAN_ROLE_RECV);
	if (ret)
		goto err_out;
	producer = kthread_run(chan_example_produce, NULL, "chan_ex_prod");
	if (IS_ERR(producer)) {
		ret = PTR_ERR(producer);
		goto err_in;
	}
	consumer = kthread_run(chan_example_consume, NULL, "chan_ex_cons");
	if (IS_ERR(consumer)) {
		ret = PTR_ERR(consumer);
		goto err_producer;
	}
	pr_info("channels %u (out) and %u (in)\n",
		chan_kernel_id(out_ch.h), chan_kernel_id(in_ch.h));
	return 0;

err_producer:
	kthread_stop(producer);
err_in:
	chan_kernel_destroy(in_ch.h);
	chan_example_release(&in_ch);
err_out:
	chan_kernel_destroy(out_ch.h);
	chan_example_release(&out_ch);
	return ret;
}

static void __exit chan_example_exit(void)
{
	/* Each returns from a blocked send or receive with -EINTR. */
	kthread_stop(consumer);
	kthread_stop(producer);
	/* User space may have destroyed them already: -ENOENT then. */
	chan_kernel_destroy(in_ch.h);
	chan_kernel_destroy(out_ch.h);
	chan_example_release(&in_ch);
	chan_example_release(&out_ch);
}

module_init(chan_example_init);
module_exit(chan_example_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The chan team");
MODULE_DESCRIPTION("Example of chan's in-kernel API: kthreads and user space on named channels");
