// SPDX-License-Identifier: GPL-2.0
/*
 * chan: typed, bounded, multi-producer multi-consumer blocking message
 * channels. Module init and exit only.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
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

struct chan_obj_count chan_objects[CHAN_OBJ_NR];

static const char *const chan_obj_names[CHAN_OBJ_NR] = {
	[CHAN_OBJ_CHANNEL] = "channels",
	[CHAN_OBJ_RING] = "rings",
	[CHAN_OBJ_ENDPOINT] = "endpoints",
	[CHAN_OBJ_FILE] = "files",
};

/* debugfs chan/objects: "<kind> <created> <destroyed>" per line. */
static int chan_objects_show(struct seq_file *m, void *unused)
{
	int i;

	for (i = 0; i < CHAN_OBJ_NR; i++)
		seq_printf(m, "%s %lld %lld\n", chan_obj_names[i],
			   atomic64_read(&chan_objects[i].created),
			   atomic64_read(&chan_objects[i].destroyed));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(chan_objects);
DEFINE_SHOW_ATTRIBUTE(chan_users);

static struct dentry *chan_debugfs;

/* At unload every object made must have been freed. */
static void chan_objects_check(void)
{
	int i;

	for (i = 0; i < CHAN_OBJ_NR; i++) {
		s64 made = atomic64_read(&chan_objects[i].created);
		s64 freed = atomic64_read(&chan_objects[i].destroyed);

		WARN(made != freed, "chan: %s leaked: %lld created, %lld destroyed\n",
		     chan_obj_names[i], made, freed);
	}
}

static int __init chan_init(void)
{
	int ret;

	if (!chan_max_total_ring_bytes)
		chan_max_total_ring_bytes = (totalram_pages() / 4) << PAGE_SHIFT;
	if (!chan_max_user_ring_bytes)
		chan_max_user_ring_bytes = (totalram_pages() / 8) << PAGE_SHIFT;
	chan_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("objects", 0444, chan_debugfs, NULL,
			    &chan_objects_fops);
	debugfs_create_file("users", 0444, chan_debugfs, NULL,
			    &chan_users_fops);
	ret = chan_dev_init();
	if (ret)
		goto err_dev;
	pr_info("loaded, /dev/%s ready\n", CHAN_DEVICE_NAME);
	return 0;

err_dev:
	debugfs_remove_recursive(chan_debugfs);
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
	debugfs_remove_recursive(chan_debugfs);
	chan_objects_check();
	pr_info("unloaded\n");
}

module_init(chan_init);
module_exit(chan_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The chan team");
MODULE_DESCRIPTION("Typed bounded MPMC blocking message channels");
