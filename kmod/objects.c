// SPDX-License-Identifier: GPL-2.0
/*
 * Counts of the objects the module makes and frees, shown in debugfs
 * (chan/objects) and checked at unload, where every object made must have
 * been freed: the tests read them to prove that nothing leaked.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "chan_private.h"

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
void chan_objects_check(void)
{
	int i;

	for (i = 0; i < CHAN_OBJ_NR; i++) {
		s64 made = atomic64_read(&chan_objects[i].created);
		s64 freed = atomic64_read(&chan_objects[i].destroyed);

		WARN(made != freed, "chan: %s leaked: %lld created, %lld destroyed\n",
		     chan_obj_names[i], made, freed);
	}
}

/* debugfs chan/: objects and users (account.c). */
void chan_debugfs_init(void)
{
	chan_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("objects", 0444, chan_debugfs, NULL,
			    &chan_objects_fops);
	debugfs_create_file("users", 0444, chan_debugfs, NULL,
			    &chan_users_fops);
}

void chan_debugfs_exit(void)
{
	debugfs_remove_recursive(chan_debugfs);
}
