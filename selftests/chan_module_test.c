// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading the module: refused while any /dev/chan fd or channel fd is
 * open (or a process sleeps in the module), allowed once everything is
 * closed even with persistent channels left (they are destroyed), and
 * the module loads again from $CHAN_KO and works. Run it last: it
 * unloads the module the other tests use.
 */
#include "chan_test_util.h"

#define WAIT_MS		20000

/* A quick round trip through a fresh channel. */
static int mod_works(void)
{
	uint64_t v = 0x600d, r = 0;
	uint32_t id;
	int dev, fd, ret = -1;

	dev = ct_dev_open();
	if (dev < 0)
		return -1;
	if (ct_create_simple(dev, 8, 2, &id) == 0) {
		fd = ct_open(dev, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
		if (fd >= 0 && ct_send_u64(fd, 0, v, 0) == 0 &&
		    ct_recv_u64(fd, 0, &r, 0) == 0 && r == v)
			ret = 0;
		if (fd >= 0)
			close(fd);
		ct_destroy(dev, id);
	}
	close(dev);
	return ret;
}

/* How many channels this namespace lists. */
static int mod_count_channels(int dev)
{
	struct chan_info info;
	uint32_t next = 1;
	int n = 0;

	while (ct_info(dev, next, CHAN_INFO_NEXT, &info) == 0) {
		n++;
		if (info.id == UINT32_MAX)
			break;
		next = info.id + 1;
	}
	return n;
}

FIXTURE(module) {
	pid_t pid;
};

FIXTURE_SETUP(module)
{
	if (access(ct_mod_path(), R_OK))
		SKIP(return, "no module file to reload from (set CHAN_KO)");
	if (!ct_mod_loaded())
		ASSERT_OK(ct_mod_load());
	ASSERT_TRUE(ct_mod_loaded());
}

FIXTURE_TEARDOWN(module)
{
	if (self->pid > 0)
		ct_kill_wait(self->pid);
	/* leave the module loaded for whatever runs next */
	if (!ct_mod_loaded())
		ct_mod_load();
}

TEST_F(module, refused_while_dev_open)
{
	int dev, err;

	dev = ct_dev_open();
	ASSERT_LE(0, dev);
	ASSERT_EQ(-1, ct_mod_unload());
	err = errno;
	if (!ct_mod_unload_refused(err))
		TH_LOG("delete_module: %s", strerror(err));
	ASSERT_TRUE(ct_mod_unload_refused(err));
	ASSERT_TRUE(ct_mod_loaded());
	/* still fully working */
	ASSERT_OK(mod_works());
	close(dev);
	/* nothing open now: it goes, and comes back */
	ASSERT_OK(ct_mod_unload());
	ASSERT_FALSE(ct_mod_loaded());
	ASSERT_OK(ct_mod_load());
	ASSERT_TRUE(ct_mod_loaded());
	ASSERT_OK(mod_works());
}

/* A channel fd alone (its /dev/chan fd closed) pins the module too. */
TEST_F(module, refused_while_chan_fd_open)
{
	uint64_t v = 77, r = 0;
	uint32_t id;
	int dev, fd, err;

	dev = ct_dev_open();
	ASSERT_LE(0, dev);
	ASSERT_OK(ct_create(dev, 8, 2, 0600, CHAN_CREATE_AUTODESTROY, 0, NULL,
			    &id));
	fd = ct_open(dev, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(close(dev));
	ASSERT_EQ(-1, ct_mod_unload());
	err = errno;
	ASSERT_TRUE(ct_mod_unload_refused(err));
	ASSERT_TRUE(ct_mod_loaded());
	ASSERT_OK(ct_send_u64(fd, 0, v, 0));
	ASSERT_OK(ct_recv_u64(fd, 0, &r, 0));
	EXPECT_EQ(v, r);
	ASSERT_OK(close(fd));
	ASSERT_OK(ct_mod_unload());
	ASSERT_OK(ct_mod_load());
	ASSERT_OK(mod_works());
}

/* A process asleep in a receive holds its fd: refused until it is gone. */
TEST_F(module, refused_while_waiter_sleeps)
{
	struct ct_op op = { .kind = CT_OP_RECV };
	uint32_t id;
	int dev, err;

	dev = ct_dev_open();
	ASSERT_LE(0, dev);
	ASSERT_OK(ct_create_simple(dev, 8, 2, &id));
	op.fd = dev;
	op.id = id;
	self->pid = ct_op_spawn(&op);
	ASSERT_LT(0, self->pid);
	ASSERT_OK(close(dev));
	ASSERT_TRUE(ct_wait_blocked(self->pid, SYS_ioctl, WAIT_MS));
	ASSERT_EQ(-1, ct_mod_unload());
	err = errno;
	ASSERT_TRUE(ct_mod_unload_refused(err));
	ASSERT_OK(kill(self->pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, ct_reap(&self->pid, WAIT_MS));
	/* the channel it waited on is persistent and unused: no obstacle */
	ASSERT_OK(ct_mod_unload());
	ASSERT_OK(ct_mod_load());
	ASSERT_OK(mod_works());
}

/*
 * Persistent channels without users (named, with queued messages, in this
 * namespace and in another that is still alive) do not stop the unload,
 * and do not survive it.
 */
TEST_F(module, persistent_channels_destroyed)
{
	int sync_pipe[2], dev, i;
	uint32_t id;
	uint64_t v;
	char c;

	dev = ct_dev_open();
	ASSERT_LE(0, dev);
	for (i = 0; i < 5; i++) {
		char name[CHAN_NAME_MAX];

		snprintf(name, sizeof(name), "persist-%d", i);
		ASSERT_OK(ct_create(dev, 16, 4, 0600, 0, 0, i & 1 ? name : NULL,
				    &id));
		for (v = 0; v < (uint64_t)i % 5; v++)
			ASSERT_OK(ct_send_u64(dev, id, v, 0));
	}
	ASSERT_EQ(5, mod_count_channels(dev));
	ASSERT_OK(close(dev));

	/* a live namespace with channels of its own, and no fd open */
	ASSERT_OK(pipe(sync_pipe));
	fflush(stdout);
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0) {
		int d;

		close(sync_pipe[0]);
		if (unshare(CLONE_NEWIPC))
			_exit(CT_EXIT_SETUP);
		d = ct_dev_open();
		if (d < 0 || ct_create_simple(d, 8, 2, &id) ||
		    ct_send_u64(d, id, 1, 0) ||
		    ct_create(d, 8, 2, 0600, 0, 0, "in-other-ns", &id))
			_exit(CT_EXIT_SETUP);
		close(d);
		if (write(sync_pipe[1], "x", 1) != 1)
			_exit(CT_EXIT_SETUP);
		close(sync_pipe[1]);
		pause();
		_exit(0);
	}
	close(sync_pipe[1]);
	ASSERT_EQ(1, read(sync_pipe[0], &c, 1));
	close(sync_pipe[0]);

	ASSERT_OK(ct_mod_unload());
	ASSERT_FALSE(ct_mod_loaded());
	ASSERT_OK(ct_mod_load());
	dev = ct_dev_open();
	ASSERT_LE(0, dev);
	EXPECT_EQ(0, mod_count_channels(dev));
	EXPECT_ERRNO(ENOENT, ct_lookup(dev, "persist-1", &id));
	close(dev);
	ASSERT_OK(mod_works());
	ct_kill_wait(self->pid);
	self->pid = 0;
}

/* Load and unload a few times in a row, with traffic in between. */
TEST_F_TIMEOUT(module, reload_cycles, 120)
{
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_OK(mod_works());
		ASSERT_OK(ct_mod_unload());
		ASSERT_FALSE(ct_mod_loaded());
		/* with the module gone, so is the device */
		ASSERT_GT(0, ct_dev_open());
		ASSERT_OK(ct_mod_load());
		ASSERT_TRUE(ct_mod_loaded());
	}
	ASSERT_OK(mod_works());
}

CT_HARNESS_MAIN
