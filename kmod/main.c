// SPDX-License-Identifier: GPL-2.0
/*
 * chan: typed, bounded, multi-producer multi-consumer blocking message
 * channels. Module init and exit only.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include "chan_private.h"

unsigned int chan_max_channels = 65536;
module_param_named(max_channels, chan_max_channels, uint, 0644);
MODULE_PARM_DESC(max_channels, "Most channels per IPC namespace");

unsigned int chan_max_user_channels = 16384;
module_param_named(max_user_channels, chan_max_user_channels, uint, 0644);
MODULE_PARM_DESC(max_user_channels,
		 "Most channels per user, all namespaces together");

/* The documented maxima: 2^20 slots of the smallest slot, and the header. */
unsigned long chan_max_ring_bytes = CHAN_RING_HDR_SIZE +
				    (CHAN_CAPACITY_MAX << 6);
module_param_named(max_ring_bytes, chan_max_ring_bytes, ulong, 0644);
MODULE_PARM_DESC(max_ring_bytes,
		 "Largest ring of one channel, in bytes (default 64 MiB + 4 KiB)");

/* 0 at load means an eighth of RAM. */
unsigned long chan_max_user_ring_bytes;
module_param_named(max_user_ring_bytes, chan_max_user_ring_bytes, ulong,
		   0644);
MODULE_PARM_DESC(max_user_ring_bytes,
		 "Ring memory of one user's channels together, in bytes (default: an eighth of RAM)");

/* 0 at load means a quarter of RAM. */
unsigned long chan_max_total_ring_bytes;
module_param_named(max_total_ring_bytes, chan_max_total_ring_bytes, ulong,
		   0644);
MODULE_PARM_DESC(max_total_ring_bytes,
		 "Ring memory of all channels together, in bytes (default: a quarter of RAM)");

static int __init chan_init(void)
{
	int ret;

	if (!chan_max_total_ring_bytes)
		chan_max_total_ring_bytes = (totalram_pages() / 4) << PAGE_SHIFT;
	if (!chan_max_user_ring_bytes)
		chan_max_user_ring_bytes = (totalram_pages() / 8) << PAGE_SHIFT;
	chan_debugfs_init();
	ret = chan_dev_init();
	if (ret)
		goto err_dev;
	pr_info("loaded, /dev/%s ready\n", CHAN_DEVICE_NAME);
	return 0;

err_dev:
	chan_debugfs_exit();
	return ret;
}

static void __exit chan_exit(void)
{
	chan_dev_exit();
	chan_ns_exit();
	/*
	 * Channels and namespaces are freed with kfree_rcu(), which runs no
	 * code of ours (on 6.1 it batches outside call_rcu(), so
	 * rcu_barrier() would not even wait for it); every object was
	 * counted destroyed before that, so the check below is exact now.
	 */
	chan_debugfs_exit();
	chan_objects_check();
	pr_info("unloaded\n");
}

module_init(chan_init);
module_exit(chan_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The chan team");
MODULE_DESCRIPTION("Typed bounded MPMC blocking message channels");
#ifdef CHAN_VERSION
MODULE_VERSION(CHAN_VERSION);
#endif
