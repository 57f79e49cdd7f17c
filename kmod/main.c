// SPDX-License-Identifier: GPL-2.0
/*
 * chan: typed, bounded, multi-producer multi-consumer blocking message
 * channels. Module init and exit only.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include "chan_private.h"

unsigned int chan_max_channels = 65536;
module_param_named(max_channels, chan_max_channels, uint, 0644);
MODULE_PARM_DESC(max_channels, "Most channels per IPC namespace");

unsigned long chan_max_ring_bytes = 64UL << 20;
module_param_named(max_ring_bytes, chan_max_ring_bytes, ulong, 0644);
MODULE_PARM_DESC(max_ring_bytes, "Largest ring of one channel, in bytes");

static int __init chan_init(void)
{
	int ret;

	ret = chan_dev_init();
	if (ret)
		goto err_dev;
	pr_info("loaded, /dev/%s ready\n", CHAN_DEVICE_NAME);
	return 0;

err_dev:
	return ret;
}

static void __exit chan_exit(void)
{
	chan_dev_exit();
	chan_registry_exit();
	/* Channels are freed with kfree_rcu(): let them go first. */
	rcu_barrier();
	pr_info("unloaded\n");
}

module_init(chan_init);
module_exit(chan_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The chan team");
MODULE_DESCRIPTION("Typed bounded MPMC blocking message channels");
