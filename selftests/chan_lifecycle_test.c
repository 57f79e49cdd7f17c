// SPDX-License-Identifier: GPL-2.0
/*
 * Channel lifetime: DESTROY (waking every waiter with EIDRM, what open fds
 * see afterwards, who may destroy), auto-destroy, the permission matrix
 * (INFO and the type tag included), INFO counters (also while traffic
 * runs) and enumeration, IPC namespaces, the max_channels and
 * max_ring_bytes module parameters and the documented maxima under the
 * defaults, a thousand channels, and endpoint open/close churn.
 */
#include "chan_test_util.h"

#define WAIT_MS		20000
#define LC_MSG_SIZE	32U
#define LC_CAPACITY	4U

/* ---- DESTROY ---- */

FIXTURE(destroy) {
	int dev;
	mode_t dev_mode;
	uint32_t id;
	int sfd, rfd;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(destroy)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create(self->dev, LC_MSG_SIZE, LC_CAPACITY, 0600, 0, 0,
			    NULL, &self->id));
	ASSERT_OK(ct_open_pair(self->dev, self->id, &self->sfd, &self->rfd));
	signal(SIGPIPE, SIG_IGN);
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(destroy)
{
	ct_dev_restore(self->dev_mode);
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	close(self->sfd);
	close(self->rfd);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

/*
 * Waiters asleep in every way one can sleep there: three on the endpoint,
 * two by ID, one in read(2) or write(2); receivers on the empty channel
 * (kind CT_OP_RECV), senders on the full one (CT_OP_SEND). DESTROY wakes
 * them all with EIDRM and discards what was queued.
 */
static void destroy_wakes(struct __test_metadata *_metadata,
			  FIXTURE_DATA(destroy) *self, int kind)
{
	bool send = kind == CT_OP_SEND;
	struct ct_waiters w = {
		.op = { .kind = kind, .fd = send ? self->sfd : self->rfd },
		.dev = self->dev, .id = self->id, .n_fd = 3, .n_id = 2,
	};
	uint32_t queued = send ? LC_CAPACITY : 0;
	struct chan_info info;
	uint64_t v;
	int i, n;

	for (v = 0; v < queued; v++)
		ASSERT_OK(ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	n = ct_spawn_waiters(&w, self->pid, WAIT_MS);
	ASSERT_EQ(6, n);
	ASSERT_OK(ct_destroy(self->dev, self->id));
	for (i = 0; i < n; i++) {
		int rc = ct_reap(&self->pid[i], WAIT_MS);

		if (rc != EIDRM)
			TH_LOG("%s %d", send ? "sender" : "receiver", i);
		EXPECT_EQ(EIDRM, rc);
	}
	ASSERT_OK(ct_info(w.op.fd, 0, 0, &info));
	EXPECT_NE(0U, info.state & CHAN_STATE_DESTROYED);
	EXPECT_EQ(queued, info.discarded);
	EXPECT_EQ(queued, info.sent);
	EXPECT_EQ(0U, info.depth);
}

TEST_F(destroy, wakes_blocked_receivers)
{
	destroy_wakes(_metadata, self, CT_OP_RECV);
}

TEST_F(destroy, wakes_blocked_senders)
{
	destroy_wakes(_metadata, self, CT_OP_SEND);
}

/* Waiters with timeouts and in both roles on two channels at once. */
TEST_F(destroy, wakes_timed_waiters)
{
	struct ct_op op = {
		.kind = CT_OP_RECV, .fd = self->rfd,
		.flags = CHAN_MSG_TIMEOUT, .timeout_ns = 600 * CT_SEC,
	};
	uint32_t id2;
	uint64_t v = 0;
	int i, s2;

	ASSERT_OK(ct_create_simple(self->dev, 8, 1, &id2));
	s2 = ct_open(self->dev, id2, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s2);
	ASSERT_OK(ct_send(s2, 0, &v, sizeof(v), 0, 0));
	for (i = 0; i < 3; i++)
		self->pid[i] = ct_op_spawn(&op);
	op.kind = CT_OP_SEND;
	op.fd = s2;
	op.flags = CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME;
	op.timeout_ns = ct_now_ns() + 600 * CT_SEC;
	for (i = 3; i < 6; i++)
		self->pid[i] = ct_op_spawn(&op);
	for (i = 0; i < 6; i++)
		ASSERT_TRUE(ct_wait_blocked(self->pid[i], SYS_ioctl, WAIT_MS));
	ASSERT_OK(ct_destroy(self->dev, self->id));
	ASSERT_OK(ct_destroy(self->dev, id2));
	for (i = 0; i < 6; i++)
		EXPECT_EQ(EIDRM, ct_reap(&self->pid[i], WAIT_MS));
	close(s2);
}

/* Open fds outlive DESTROY: every operation on them fails with EIDRM. */
TEST_F(destroy, open_fds_after_destroy)
{
	struct chan_info info;
	char buf[LC_MSG_SIZE];
	uint32_t len = sizeof(buf);
	uint64_t v;

	for (v = 0; v < 3; v++)
		ASSERT_OK(ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	len = sizeof(buf);
	ASSERT_OK(ct_recv(self->rfd, 0, buf, &len, 0, 0));
	ASSERT_OK(ct_destroy(self->dev, self->id));

	EXPECT_ERRNO(EIDRM, ct_send(self->sfd, 0, &v, sizeof(v), 0, 0));
	EXPECT_ERRNO(EIDRM, ct_send(self->sfd, 0, &v, sizeof(v),
				    CHAN_MSG_NONBLOCK, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(EIDRM, ct_recv(self->rfd, 0, buf, &len, 0, 0));
	len = sizeof(buf);
	EXPECT_ERRNO(EIDRM, ct_recv(self->rfd, 0, buf, &len,
				    CHAN_MSG_TIMEOUT, CT_SEC));
	EXPECT_ERRNO(EIDRM, write(self->sfd, &v, sizeof(v)));
	EXPECT_ERRNO(EIDRM, read(self->rfd, buf, sizeof(buf)));

	ASSERT_OK(ct_info(self->rfd, 0, 0, &info));
	EXPECT_EQ(self->id, info.id);
	EXPECT_NE(0U, info.state & CHAN_STATE_DESTROYED);
	EXPECT_EQ(3U, info.sent);
	EXPECT_EQ(1U, info.received);
	EXPECT_EQ(2U, info.discarded);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(info.sent, info.received + info.dropped + info.discarded +
		  info.depth);
	ASSERT_OK(ct_info(self->sfd, 0, 0, &info));
	EXPECT_NE(0U, info.state & CHAN_STATE_DESTROYED);

	/* and the ID is gone */
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, self->id, 0, &info));
	EXPECT_ERRNO(ENOENT, ct_destroy(self->dev, self->id));
	EXPECT_ERRNO(ENOENT, ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
}

/* Only the owner or CAP_IPC_OWNER may destroy. */
TEST_F(destroy, permission)
{
	struct chan_info info;
	uint32_t id;
	pid_t pid;

	ASSERT_OK(ct_create(self->dev, 8, 2, 0666, 0, 0, NULL, &id));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t own;
		int dev;

		if (ct_drop_privs(NULL, 0))
			_exit(CT_EXIT_SETUP);
		dev = ct_dev_open();
		if (dev < 0)
			_exit(CT_EXIT_SETUP);
		/* someone else's channel, even with mode 0666 */
		if (ct_destroy(dev, id) == 0)
			_exit(CT_EXIT_UNEXPECTED_OK);
		if (errno != EPERM)
			_exit(errno);
		if (ct_destroy(dev, self->id) == 0)
			_exit(CT_EXIT_UNEXPECTED_OK);
		if (errno != EPERM)
			_exit(errno);
		/* its own */
		if (ct_create(dev, 8, 2, 0600, 0, 0, NULL, &own))
			_exit(100 + errno);
		if (ct_destroy(dev, own))
			_exit(150 + errno);
		_exit(0);
	}
	self->pid[0] = pid;
	ASSERT_EQ(0, ct_reap(&self->pid[0], WAIT_MS));
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_OK(ct_destroy(self->dev, id));
}

/* root (CAP_IPC_OWNER) destroys a channel that someone else owns. */
TEST_F(destroy, cap_ipc_owner)
{
	struct chan_info info;
	uint32_t id = 0;
	int dev;

	/* create as nobody with the effective IDs, then become root again */
	ASSERT_OK(setegid(CT_NOBODY));
	ASSERT_OK(seteuid(CT_NOBODY));
	dev = ct_dev_open();
	if (dev >= 0) {
		if (ct_create(dev, 8, 2, 0600, 0, 0, NULL, &id))
			id = 0;
		close(dev);
	}
	ASSERT_OK(seteuid(0));
	ASSERT_OK(setegid(0));
	ASSERT_NE(0U, id);
	ASSERT_OK(ct_info(self->dev, id, 0, &info));
	EXPECT_EQ((uint32_t)CT_NOBODY, info.uid);
	EXPECT_EQ((uint32_t)CT_NOBODY, info.gid);
	EXPECT_OK(ct_destroy(self->dev, id));
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, id, 0, &info));
}

/* ---- CHAN_CREATE_AUTODESTROY ---- */

FIXTURE(autodestroy) {
	int dev;
	uint32_t id;
	char name[CHAN_NAME_MAX];
};

FIXTURE_SETUP(autodestroy)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ct_name(self->name, sizeof(self->name), "auto");
	ASSERT_OK(ct_create(self->dev, 8, 4, 0600, CHAN_CREATE_AUTODESTROY, 0,
			    self->name, &self->id));
}

FIXTURE_TEARDOWN(autodestroy)
{
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

TEST_F(autodestroy, last_endpoint_close)
{
	struct chan_info info;
	uint64_t v = 1;
	uint32_t id;
	int a, b;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &a, &b));
	ASSERT_OK(ct_send(a, 0, &v, sizeof(v), 0, 0));
	ASSERT_OK(close(a));
	/* one endpoint left: still there */
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(CHAN_CREATE_AUTODESTROY, info.chan_flags);
	EXPECT_EQ(1U, info.depth);
	ASSERT_OK(close(b));
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, self->id, 0, &info));
	EXPECT_ERRNO(ENOENT, ct_lookup(self->dev, self->name, &id));
	EXPECT_ERRNO(ENOENT, ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0,
				     0));
	/* the name is free again */
	ASSERT_OK(ct_create(self->dev, 8, 4, 0600, 0, 0, self->name, &id));
	ASSERT_OK(ct_destroy(self->dev, id));
}

/* The last endpoint going away with its process counts the same. */
TEST_F(autodestroy, last_endpoint_process_exit)
{
	struct chan_info info;
	pid_t pid;
	int st;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);

		_exit(fd < 0 ? errno : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, self->id, 0, &info));
}

/* An fd kept across the close of the others keeps the channel. */
TEST_F(autodestroy, shared_fd_keeps_it)
{
	struct chan_info info;
	int a, b;

	a = ct_open(self->dev, self->id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0,
		    0);
	ASSERT_LE(0, a);
	b = dup(a);
	ASSERT_LE(0, b);
	ASSERT_OK(close(a));
	/* a dup is the same endpoint: still open */
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.senders);
	ASSERT_OK(close(b));
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, self->id, 0, &info));
}

/* ---- permissions: owner / group / other classes ---- */

enum { OWNER, GROUP, OTHER };

FIXTURE(perm) {
	int dev;
	uint32_t id;
	char name[CHAN_NAME_MAX];
	mode_t dev_mode;	/* /dev/chan's mode, restored in teardown */
	int keep;		/* keeps both roles connected throughout */
	uint64_t *res;		/* the child's results */
};

FIXTURE_VARIANT(perm) {
	mode_t mode;
	int class;		/* what the child is to the channel */
	bool can_send;
	bool can_recv;
};

FIXTURE_VARIANT_ADD(perm, owner_rw) { 0600, OWNER, true, true };
FIXTURE_VARIANT_ADD(perm, owner_r) { 0400, OWNER, false, true };
FIXTURE_VARIANT_ADD(perm, owner_w) { 0200, OWNER, true, false };
FIXTURE_VARIANT_ADD(perm, owner_none) { 0077, OWNER, false, false };
FIXTURE_VARIANT_ADD(perm, group_rw) { 0060, GROUP, true, true };
FIXTURE_VARIANT_ADD(perm, group_r) { 0640, GROUP, false, true };
FIXTURE_VARIANT_ADD(perm, group_w) { 0620, GROUP, true, false };
FIXTURE_VARIANT_ADD(perm, group_none) { 0606, GROUP, false, false };
FIXTURE_VARIANT_ADD(perm, other_rw) { 0606, OTHER, true, true };
FIXTURE_VARIANT_ADD(perm, other_r) { 0604, OTHER, false, true };
FIXTURE_VARIANT_ADD(perm, other_w) { 0602, OTHER, true, false };
FIXTURE_VARIANT_ADD(perm, other_none) { 0660, OTHER, false, false };

FIXTURE_SETUP(perm)
{
	uint64_t v = 0x5eed;
	int ret;

	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	/* the unprivileged child must be able to open /dev/chan itself */
	self->dev_mode = ct_dev_allow_all();
	ct_name(self->name, sizeof(self->name), "perm");
	if (variant->class == OWNER) {
		/* created by nobody: temporarily take its effective IDs */
		ASSERT_OK(setegid(CT_NOBODY));
		ASSERT_OK(seteuid(CT_NOBODY));
		ret = ct_create(self->dev, 8, 4, variant->mode, 0, 0,
				self->name, &self->id);
		ASSERT_OK(seteuid(0));
		ASSERT_OK(setegid(0));
		ASSERT_OK(ret);
	} else {
		ASSERT_OK(ct_create(self->dev, 8, 4, variant->mode, 0, 0,
				    self->name, &self->id));
	}
	/*
	 * An endpoint of both roles for the whole test, so the child's own
	 * endpoints closing never disconnects the channel.
	 */
	self->keep = ct_open(self->dev, self->id,
			     CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, self->keep);
	/* one message queued for the child's ID-style receive */
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	self->res = ct_shared_alloc(4096);
	ASSERT_NE(NULL, self->res);
}

FIXTURE_TEARDOWN(perm)
{
	if (self->keep > 0)
		close(self->keep);
	ct_destroy(self->dev, self->id);
	close(self->dev);
	ct_dev_restore(self->dev_mode);
}

enum {
	R_OPEN_SEND, R_OPEN_RECV, R_OPEN_BOTH, R_SEND_ID, R_RECV_ID,
	R_LOOKUP, R_LOOKUP_ID, R_DESTROY, R_INFO_ID, R_INFO_FD,
	R_INFO_NEXT, R_INFO_NEXT_ID, R_TAG_SEND, R_TAG_BOTH, R_NUM,
};

#define PERM_NOT_TRIED	0xdeadULL	/* a result slot the child left alone */
#define PERM_WRONG_TAG	0x7a9ULL	/* the channel has none */

/*
 * The child: nobody, in group 0 (the root-created channel's group) when
 * it is to use the group bits. It records 0 or the errno of each call.
 */
static int perm_child(FIXTURE_DATA(perm) *self,
		      const FIXTURE_VARIANT(perm) *variant, bool try_destroy)
{
	static const gid_t root_group[] = { 0 };
	uint64_t v = 1;
	uint32_t len = sizeof(v), id = 0;
	struct chan_info info;
	int dev, fd, i;

	for (i = 0; i < R_NUM; i++)
		self->res[i] = PERM_NOT_TRIED;
	if (ct_drop_privs(variant->class == GROUP ? root_group : NULL,
			  variant->class == GROUP ? 1 : 0))
		return CT_EXIT_SETUP;
	dev = ct_dev_open();
	if (dev < 0)
		return CT_EXIT_SETUP;

#define RECORD(slot, call) (self->res[slot] = (call) < 0 ? errno : 0)
	fd = ct_open(dev, self->id, CHAN_ROLE_SEND, 0, 0);
	RECORD(R_OPEN_SEND, fd);
	if (fd >= 0)
		close(fd);
	fd = ct_open(dev, self->id, CHAN_ROLE_RECV, 0, 0);
	RECORD(R_OPEN_RECV, fd);
	if (fd >= 0)
		close(fd);
	fd = ct_open(dev, self->id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	RECORD(R_OPEN_BOTH, fd);
	if (fd >= 0)
		close(fd);
	RECORD(R_SEND_ID, ct_send(dev, self->id, &v, sizeof(v),
				  CHAN_MSG_NONBLOCK, 0));
	RECORD(R_RECV_ID, ct_recv(dev, self->id, &v, &len,
				  CHAN_MSG_NONBLOCK, 0));
	RECORD(R_LOOKUP, ct_lookup(dev, self->name, &id));
	self->res[R_LOOKUP_ID] = id;
	/* INFO by ID needs read permission; on an fd, the fd is the proof */
	RECORD(R_INFO_ID, ct_info(dev, self->id, 0, &info));
	fd = ct_open(dev, self->id, CHAN_ROLE_SEND, 0, 0);
	if (fd < 0)
		fd = ct_open(dev, self->id, CHAN_ROLE_RECV, 0, 0);
	if (fd >= 0) {
		RECORD(R_INFO_FD, ct_info(fd, 0, 0, &info));
		close(fd);
	}
	/* INFO_NEXT skips what the caller may not read */
	RECORD(R_INFO_NEXT, ct_info(dev, self->id, CHAN_INFO_NEXT, &info));
	if (self->res[R_INFO_NEXT] == 0)
		self->res[R_INFO_NEXT_ID] = info.id;
	/* OPEN checks permission before the type tag: no oracle */
	RECORD(R_TAG_SEND, ct_open(dev, self->id, CHAN_ROLE_SEND, 0,
				   PERM_WRONG_TAG));
	RECORD(R_TAG_BOTH, ct_open(dev, self->id,
				   CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0,
				   PERM_WRONG_TAG));
	if (try_destroy)
		RECORD(R_DESTROY, ct_destroy(dev, self->id));
#undef RECORD
	return 0;
}

static void perm_run_child(struct __test_metadata *_metadata,
			   FIXTURE_DATA(perm) *self,
			   const FIXTURE_VARIANT(perm) *variant, bool try_destroy)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(perm_child(self, variant, try_destroy));
	ASSERT_EQ(0, ct_wait_exit(pid, WAIT_MS));
}

TEST_F(perm, open_endpoints)
{
	perm_run_child(_metadata, self, variant, false);
	EXPECT_EQ(variant->can_send ? 0U : EACCES, self->res[R_OPEN_SEND]);
	EXPECT_EQ(variant->can_recv ? 0U : EACCES, self->res[R_OPEN_RECV]);
	EXPECT_EQ(variant->can_send && variant->can_recv ? 0U : EACCES,
		  self->res[R_OPEN_BOTH]);
}

TEST_F(perm, id_send_recv)
{
	struct chan_info info;

	perm_run_child(_metadata, self, variant, false);
	EXPECT_EQ(variant->can_send ? 0U : EACCES, self->res[R_SEND_ID]);
	EXPECT_EQ(variant->can_recv ? 0U : EACCES, self->res[R_RECV_ID]);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U + variant->can_send - variant->can_recv, info.depth);
}

TEST_F(perm, lookup_and_destroy)
{
	perm_run_child(_metadata, self, variant, true);
	if (variant->can_send || variant->can_recv) {
		EXPECT_EQ(0U, self->res[R_LOOKUP]);
		EXPECT_EQ(self->id, self->res[R_LOOKUP_ID]);
	} else {
		EXPECT_EQ((uint64_t)EACCES, self->res[R_LOOKUP]);
	}
	/* the owner may destroy whatever the mode says; no one else */
	EXPECT_EQ(variant->class == OWNER ? 0U : EPERM, self->res[R_DESTROY]);
}

/*
 * One permission rule for every ioctl: INFO by ID needs read permission
 * (the owner's too), INFO on a channel fd is always allowed, INFO_NEXT
 * skips the channels the caller may not read, and OPEN refuses the roles
 * the caller may not have (EACCES) before it compares the type tag
 * (EPROTOTYPE), so the tag is no oracle.
 */
TEST_F(perm, info_and_type_tag)
{
	perm_run_child(_metadata, self, variant, false);
	EXPECT_EQ(variant->can_recv ? 0U : EACCES, self->res[R_INFO_ID]);
	if (variant->can_send || variant->can_recv) {
		EXPECT_EQ(0U, self->res[R_INFO_FD]);
	} else {
		EXPECT_EQ(PERM_NOT_TRIED, self->res[R_INFO_FD]);
	}
	if (variant->can_recv) {
		EXPECT_EQ(0U, self->res[R_INFO_NEXT]);
		EXPECT_EQ(self->id, self->res[R_INFO_NEXT_ID]);
	} else if (self->res[R_INFO_NEXT] == 0) {
		EXPECT_NE(self->id, self->res[R_INFO_NEXT_ID]);
	} else {
		EXPECT_EQ((uint64_t)ENOENT, self->res[R_INFO_NEXT]);
	}
	EXPECT_EQ((uint64_t)(variant->can_send ? EPROTOTYPE : EACCES),
		  self->res[R_TAG_SEND]);
	EXPECT_EQ((uint64_t)(variant->can_send && variant->can_recv ?
			     EPROTOTYPE : EACCES),
		  self->res[R_TAG_BOTH]);
}

/* root with CAP_IPC_OWNER passes every mode check. */
TEST_F(perm, root_bypasses)
{
	uint64_t v = 2;
	uint32_t len = sizeof(v), id;
	int fd;

	fd = ct_open(self->dev, self->id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0,
		     0);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_OK(ct_send(self->dev, self->id, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_recv(self->dev, self->id, &v, &len, 0, 0));
	ASSERT_OK(ct_lookup(self->dev, self->name, &id));
	EXPECT_EQ(self->id, id);
}

/* ---- INFO ---- */

FIXTURE(info) {
	int dev;
	uint32_t ids[8];
	int nids;
};

FIXTURE_SETUP(info)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(info)
{
	int i;

	for (i = 0; i < self->nids; i++)
		ct_destroy(self->dev, self->ids[i]);
	close(self->dev);
}

TEST_F(info, counters)
{
	struct chan_info info;
	uint64_t v = 0;
	uint32_t len;
	int s1, s2, r1, b;

	ASSERT_OK(ct_create(self->dev, 16, 2, 0640, 0, 0xfeedULL, NULL,
			    &self->ids[self->nids++]));
	s1 = ct_open(self->dev, self->ids[0], CHAN_ROLE_SEND, 0, 0);
	s2 = ct_open(self->dev, self->ids[0], CHAN_ROLE_SEND, 0, 0);
	r1 = ct_open(self->dev, self->ids[0], CHAN_ROLE_RECV, 0, 0);
	b = ct_open(self->dev, self->ids[0], CHAN_ROLE_SEND | CHAN_ROLE_RECV,
		    0, 0);
	ASSERT_LE(0, s1);
	ASSERT_LE(0, s2);
	ASSERT_LE(0, r1);
	ASSERT_LE(0, b);
	ASSERT_OK(ct_info(self->dev, self->ids[0], 0, &info));
	EXPECT_EQ(3U, info.senders);
	EXPECT_EQ(2U, info.receivers);
	EXPECT_EQ(0xfeedULL, info.type_tag);
	EXPECT_EQ(0640U, info.mode);

	ASSERT_OK(ct_send(s1, 0, &v, sizeof(v), 0, 0));
	ASSERT_OK(ct_send(s2, 0, &v, sizeof(v), 0, 0));
	/* a timed-out wait is a wait */
	EXPECT_ERRNO(ETIMEDOUT, ct_send(b, 0, &v, sizeof(v), CHAN_MSG_TIMEOUT,
					10 * CT_MS));
	EXPECT_ERRNO(EAGAIN, ct_send(b, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK,
				     0));
	ASSERT_OK(ct_info(self->dev, self->ids[0], 0, &info));
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(2U, info.depth);
	EXPECT_EQ(1U, info.send_waits);
	EXPECT_EQ(0U, info.recv_waits);
	len = sizeof(v);
	ASSERT_OK(ct_recv(r1, 0, &v, &len, 0, 0));
	len = sizeof(v);
	ASSERT_OK(ct_recv(b, 0, &v, &len, 0, 0));
	len = sizeof(v);
	EXPECT_ERRNO(ETIMEDOUT, ct_recv(r1, 0, &v, &len, CHAN_MSG_TIMEOUT,
					10 * CT_MS));
	ASSERT_OK(ct_info(self->dev, self->ids[0], 0, &info));
	EXPECT_EQ(2U, info.sent);
	EXPECT_EQ(2U, info.received);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(0U, info.dropped);
	EXPECT_EQ(0U, info.discarded);
	EXPECT_EQ(1U, info.send_waits);
	EXPECT_EQ(1U, info.recv_waits);
	close(s1);
	close(s2);
	ASSERT_OK(ct_info(self->dev, self->ids[0], 0, &info));
	EXPECT_EQ(1U, info.senders);
	EXPECT_EQ(0U, info.state);
	close(b);
	ASSERT_OK(ct_info(self->dev, self->ids[0], 0, &info));
	EXPECT_EQ(0U, info.senders);
	EXPECT_EQ(1U, info.receivers);
	EXPECT_EQ(CHAN_STATE_NO_SENDERS, info.state);
	close(r1);
	ASSERT_OK(ct_info(self->dev, self->ids[0], 0, &info));
	EXPECT_EQ(0U, info.receivers);
	EXPECT_EQ(CHAN_STATE_NO_SENDERS | CHAN_STATE_NO_RECEIVERS, info.state);
}

/*
 * The counters as INFO shows them while a producer and a consumer stream
 * messages as fast as they can: at every instant sent >= received +
 * dropped, no counter goes backwards, none is wrapped, depth is never
 * above the capacity, and nothing shows discarded. A kernel that counts a
 * message sent only after publishing it, or sums its per-CPU counters
 * sent before received, shows a received count ahead of sent now and
 * then: most often when the producer runs on a CPU the sum visits before
 * the consumer's, so they are pinned that way (producer on CPU 0, consumer
 * on CPU 1, the INFO poller on CPU 2 if there is one). The race is narrow:
 * with two CPUs and a non-preemptible kernel the summing loop can hardly
 * be overtaken; on PREEMPT_RT with three CPUs it was seen (received one
 * ahead of sent once in ~24000 polls).
 */
#define STREAM_MSGS	40000

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu >= sysconf(_SC_NPROCESSORS_ONLN))
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort */
}

TEST_F_TIMEOUT(info, counters_never_ahead_of_sent, 300)
{
	struct chan_info info, prev;
	uint64_t polls = 0, bad = 0, t0;
	pid_t prod, cons;
	int sfd, rfd;

	ASSERT_OK(ct_create(self->dev, 16, 64, 0600, 0, 0, NULL,
			    &self->ids[self->nids++]));
	ASSERT_OK(ct_open_pair(self->dev, self->ids[0], &sfd, &rfd));
	fflush(stdout);
	prod = fork();
	ASSERT_LE(0, prod);
	if (prod == 0) {
		uint64_t i;

		close(rfd);
		pin_to_cpu(0);
		for (i = 0; i < STREAM_MSGS; i++)
			if (ct_send(sfd, 0, &i, sizeof(i), 0, 0))
				_exit(errno);
		_exit(0);
	}
	cons = fork();
	ASSERT_LE(0, cons);
	if (cons == 0) {
		uint64_t i, v;

		close(sfd);
		pin_to_cpu(1);
		for (i = 0; i < STREAM_MSGS; i++) {
			if (ct_recv_u64(rfd, 0, &v, 0))
				_exit(errno);
			if (v != i)
				_exit(CT_EXIT_BADDATA);
		}
		_exit(0);
	}
	close(sfd);
	close(rfd);
	pin_to_cpu(2);
	memset(&prev, 0, sizeof(prev));
	t0 = ct_now_ns();
	while (!ct_exited(prod) || !ct_exited(cons)) {
		if (ct_info(self->dev, self->ids[0], 0, &info)) {
			TH_LOG("INFO failed: %s", strerror(errno));
			bad++;
			break;
		}
		polls++;
		if (info.received + info.dropped > info.sent ||
		    info.sent < prev.sent || info.received < prev.received ||
		    info.dropped < prev.dropped || info.discarded ||
		    info.depth > info.capacity ||
		    info.sent > STREAM_MSGS || info.received > STREAM_MSGS) {
			if (bad++ < 5)
				TH_LOG("poll %" PRIu64 ": sent %" PRIu64
				       " received %" PRIu64 " dropped %" PRIu64
				       " discarded %" PRIu64 " depth %u (before: sent %"
				       PRIu64 " received %" PRIu64 ")", polls,
				       (uint64_t)info.sent,
				       (uint64_t)info.received,
				       (uint64_t)info.dropped,
				       (uint64_t)info.discarded, info.depth,
				       (uint64_t)prev.sent,
				       (uint64_t)prev.received);
		}
		prev = info;
		if (ct_now_ns() - t0 > 240 * CT_SEC)
			break;
	}
	EXPECT_EQ(0, ct_wait_exit(prod, 30000));
	EXPECT_EQ(0, ct_wait_exit(cons, 30000));
	TH_LOG("%" PRIu64 " INFO polls during the stream, %" PRIu64 " bad",
	       polls, bad);
	EXPECT_EQ(0U, bad);
	EXPECT_LT(0U, polls);
	ASSERT_OK(ct_info(self->dev, self->ids[0], 0, &info));
	EXPECT_EQ((uint64_t)STREAM_MSGS, info.sent);
	EXPECT_EQ((uint64_t)STREAM_MSGS, info.received);
	EXPECT_EQ(0U, info.depth);
}

/* INFO_NEXT walks every channel in ascending ID order. */
TEST_F(info, enumerate)
{
	char names[5][CHAN_NAME_MAX];
	struct chan_info info;
	uint32_t next = 1, last = 0;
	int i, found = 0, seen = 0;

	for (i = 0; i < 5; i++) {
		char what[16];

		snprintf(what, sizeof(what), "enum%d", i);
		ct_name(names[i], sizeof(names[i]), what);
		ASSERT_OK(ct_create(self->dev, 8 + i, 2, 0600, 0, 0, names[i],
				    &self->ids[self->nids++]));
	}
	for (;;) {
		if (ct_info(self->dev, next, CHAN_INFO_NEXT, &info)) {
			ASSERT_EQ(ENOENT, errno);
			break;
		}
		ASSERT_LE(next, info.id);
		if (seen)
			ASSERT_LT(last, info.id);
		last = info.id;
		seen++;
		for (i = 0; i < 5; i++) {
			if (info.id != self->ids[i])
				continue;
			found |= 1 << i;
			EXPECT_STREQ(names[i], info.name);
			EXPECT_EQ(8U + i, info.msg_size);
		}
		ASSERT_GT(100000, seen);
		if (info.id == UINT32_MAX)
			break;
		next = info.id + 1;
	}
	EXPECT_EQ(0x1f, found);
	/* starting just past one of ours skips it */
	ASSERT_OK(ct_info(self->dev, self->ids[2] + 1, CHAN_INFO_NEXT, &info));
	EXPECT_LT(self->ids[2], info.id);
	ASSERT_OK(ct_destroy(self->dev, self->ids[2]));
	ASSERT_OK(ct_info(self->dev, self->ids[2], CHAN_INFO_NEXT, &info));
	EXPECT_NE(self->ids[2], info.id);
}

/* ---- IPC namespaces ---- */

FIXTURE(ns) {
	int dev;
	uint32_t id;
	char name[CHAN_NAME_MAX];
	pid_t pid;
};

FIXTURE_SETUP(ns)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ct_name(self->name, sizeof(self->name), "ns");
	ASSERT_OK(ct_create(self->dev, 8, 2, 0666, 0, 0, self->name,
			    &self->id));
}

FIXTURE_TEARDOWN(ns)
{
	if (self->pid > 0)
		ct_kill_wait(self->pid);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

/*
 * The child in a new IPC namespace: returns the number of the first check
 * that failed (0: all passed).
 */
static int ns_child(FIXTURE_DATA(ns) *self, bool leave_channels)
{
	struct chan_info info;
	uint32_t id, mine;
	uint64_t v = 1;
	int dev, fd;

	if (unshare(CLONE_NEWIPC))
		return CT_EXIT_SETUP;
	/* the fd opened before unshare still sees the old namespace */
	if (ct_info(self->dev, self->id, 0, &info))
		return 1;
	dev = ct_dev_open();
	if (dev < 0)
		return CT_EXIT_SETUP;
	if (!ct_info(dev, self->id, 0, &info) || errno != ENOENT)
		return 2;
	if (ct_open(dev, self->id, CHAN_ROLE_SEND, 0, 0) >= 0 ||
	    errno != ENOENT)
		return 3;
	if (!ct_lookup(dev, self->name, &id) || errno != ENOENT)
		return 4;
	if (!ct_info(dev, 1, CHAN_INFO_NEXT, &info) || errno != ENOENT)
		return 5;
	if (!ct_send(dev, self->id, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0) ||
	    errno != ENOENT)
		return 6;
	if (!ct_destroy(dev, self->id) || errno != ENOENT)
		return 7;
	/* the same name is free here */
	if (ct_create(dev, 8, 2, 0600, 0, 0, self->name, &mine))
		return 8;
	if (ct_lookup(dev, self->name, &id) || id != mine)
		return 9;
	if (ct_info(dev, 1, CHAN_INFO_NEXT, &info) || info.id != mine)
		return 10;
	fd = ct_open(dev, mine, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	if (fd < 0 || ct_send(fd, 0, &v, sizeof(v), 0, 0))
		return 11;
	if (leave_channels) {
		/* more channels, one with an endpoint, left to the exit */
		if (ct_create(dev, 8, 2, 0600, 0, 0, NULL, &id) ||
		    ct_send(dev, id, &v, sizeof(v), 0, 0) ||
		    ct_create(dev, 8, 2, 0600, CHAN_CREATE_AUTODESTROY, 0,
			      NULL, &id))
			return 12;
		return 0;
	}
	close(fd);
	if (ct_destroy(dev, mine))
		return 13;
	return 0;
}

TEST_F(ns, isolated)
{
	uint32_t id;

	fflush(stdout);
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0)
		_exit(ns_child(self, false));
	ASSERT_EQ(0, ct_wait_exit(self->pid, WAIT_MS));
	self->pid = 0;
	/* nothing leaked back into ours */
	ASSERT_OK(ct_lookup(self->dev, self->name, &id));
	EXPECT_EQ(self->id, id);
}

/* A namespace that dies with channels in it (some queued, one with an
 * endpoint): they go with it, and ours are untouched.
 */
TEST_F(ns, dies_with_channels)
{
	struct chan_info info;
	uint32_t id;

	fflush(stdout);
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0)
		_exit(ns_child(self, true));
	ASSERT_EQ(0, ct_wait_exit(self->pid, WAIT_MS));
	self->pid = 0;
	ASSERT_OK(ct_lookup(self->dev, self->name, &id));
	EXPECT_EQ(self->id, id);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.depth);
}

/* ---- module parameters: max_channels, max_ring_bytes ---- */

FIXTURE(limits) {
	int dev;
	unsigned long long max_channels, max_ring_bytes;
	unsigned long long max_user_ring_bytes, max_total_ring_bytes;
	bool has_user_ring, has_total_ring;	/* (older modules lack them) */
	bool saved;
	uint32_t *ids;
	int nids;
};

FIXTURE_SETUP(limits)
{
	ASSERT_OK(ct_param_read("max_channels", &self->max_channels));
	ASSERT_OK(ct_param_read("max_ring_bytes", &self->max_ring_bytes));
	self->has_user_ring = ct_param_read_opt("max_user_ring_bytes",
						&self->max_user_ring_bytes);
	self->has_total_ring = ct_param_read_opt("max_total_ring_bytes",
						 &self->max_total_ring_bytes);
	self->saved = true;
	/* a namespace of our own: its channel count starts at zero */
	ASSERT_OK(unshare(CLONE_NEWIPC));
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	self->ids = calloc(2048, sizeof(*self->ids));
	ASSERT_NE(NULL, self->ids);
}

FIXTURE_TEARDOWN(limits)
{
	int i;

	for (i = 0; i < self->nids; i++)
		ct_destroy(self->dev, self->ids[i]);
	close(self->dev);
	if (self->saved) {
		ct_param_write("max_channels", self->max_channels);
		ct_param_write("max_ring_bytes", self->max_ring_bytes);
		if (self->has_user_ring)
			ct_param_write("max_user_ring_bytes",
				       self->max_user_ring_bytes);
		if (self->has_total_ring)
			ct_param_write("max_total_ring_bytes",
				       self->max_total_ring_bytes);
	}
}

static int limits_create(FIXTURE_DATA(limits) *self, uint32_t msg_size,
			 uint32_t capacity, struct chan_create *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->msg_size = msg_size;
	c->capacity = capacity;
	ret = ct_create_raw(self->dev, c);
	if (ret == 0)
		self->ids[self->nids++] = c->out_id;
	return ret;
}

TEST_F(limits, max_channels)
{
	struct chan_create c;
	int i;

	ASSERT_OK(ct_param_write("max_channels", 3));
	for (i = 0; i < 3; i++)
		ASSERT_OK(limits_create(self, 8, 1, &c));
	EXPECT_ERRNO(ENOSPC, limits_create(self, 8, 1, &c));
	EXPECT_ERRNO(ENOSPC, limits_create(self, 8, 1, &c));
	/* a freed slot can be used again */
	ASSERT_OK(ct_destroy(self->dev, self->ids[--self->nids]));
	ASSERT_OK(limits_create(self, 8, 1, &c));
	EXPECT_ERRNO(ENOSPC, limits_create(self, 8, 1, &c));
	/* raising the limit takes effect at once */
	ASSERT_OK(ct_param_write("max_channels", 4));
	ASSERT_OK(limits_create(self, 8, 1, &c));
	EXPECT_ERRNO(ENOSPC, limits_create(self, 8, 1, &c));
}

/* The limit counts per namespace: a full one does not stop another. */
TEST_F(limits, max_channels_per_namespace)
{
	struct chan_create c;
	pid_t pid;

	ASSERT_OK(ct_param_write("max_channels", 2));
	ASSERT_OK(limits_create(self, 8, 1, &c));
	ASSERT_OK(limits_create(self, 8, 1, &c));
	EXPECT_ERRNO(ENOSPC, limits_create(self, 8, 1, &c));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t a, b, d;
		int dev;

		if (unshare(CLONE_NEWIPC))
			_exit(CT_EXIT_SETUP);
		dev = ct_dev_open();
		if (dev < 0)
			_exit(CT_EXIT_SETUP);
		if (ct_create_simple(dev, 8, 1, &a) ||
		    ct_create_simple(dev, 8, 1, &b))
			_exit(errno);
		if (ct_create_simple(dev, 8, 1, &d) == 0)
			_exit(CT_EXIT_UNEXPECTED_OK);
		_exit(errno == ENOSPC ? 0 : errno);
	}
	ASSERT_EQ(0, ct_wait_exit(pid, WAIT_MS));
}

/*
 * What a ring costs, as documented in README.md: a 256-byte header and
 * the slots (16 bytes + the message, rounded to 64), in a slab object up
 * to a page (a power of two from 512 on) and in whole pages above. So a
 * one-slot channel of 8-byte messages takes 512 bytes of ring, not the
 * two pages a header page made it take before.
 */
TEST_F(limits, ring_sizes)
{
	static const struct {
		uint32_t msg_size, capacity;
		uint64_t bytes;
	} t[] = {
		{ 8, 1, 512 },			/* 256 + 64 -> 512 */
		{ 48, 2, 512 },			/* 256 + 128 */
		{ 64, 16, 4096 },		/* 256 + 2048 -> 4096 */
		{ 64, 64, 12288 },		/* 256 + 8192 -> 3 pages */
		{ 1024, 1024, 1118208 },	/* 256 + 1088 KiB -> 273 pages */
	};
	struct chan_create c;
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ASSERT_OK(limits_create(self, t[i].msg_size, t[i].capacity,
					&c));
		EXPECT_EQ((uint32_t)CHAN_RING_HDR_MIN, c.out_ring.slots_offset);
		EXPECT_EQ(t[i].bytes, c.out_ring.map_size);
	}
}

TEST_F(limits, max_ring_bytes)
{
	struct chan_create c;
	uint64_t map_size;

	ASSERT_OK(limits_create(self, 100, 8, &c));
	map_size = c.out_ring.map_size;
	ASSERT_LT(0U, map_size);
	ASSERT_OK(ct_param_write("max_ring_bytes", map_size));
	/* exactly the limit fits */
	ASSERT_OK(limits_create(self, 100, 8, &c));
	EXPECT_EQ(map_size, c.out_ring.map_size);
	/* anything bigger does not */
	EXPECT_ERRNO(ENOSPC, limits_create(self, 100, 128, &c));
	EXPECT_ERRNO(ENOSPC, limits_create(self, 1000, 8, &c));
	EXPECT_ERRNO(ENOSPC, limits_create(self, CHAN_MSG_SIZE_MAX, 1, &c));
	EXPECT_ERRNO(ENOSPC, limits_create(self, 1, CHAN_CAPACITY_MAX, &c));
	/* smaller is fine */
	ASSERT_OK(limits_create(self, 8, 1, &c));
	/* and a limit well below the ring refuses it */
	ASSERT_OK(ct_param_write("max_ring_bytes", map_size / 2));
	EXPECT_ERRNO(ENOSPC, limits_create(self, 100, 8, &c));
}

/*
 * The limit is on the ring's memory, map_size as CREATE reports it: one
 * byte less than that refuses the channel.
 */
TEST_F(limits, max_ring_bytes_boundary)
{
	struct chan_create c;
	uint64_t map_size;
	int ret, err;

	ASSERT_OK(limits_create(self, 100, 8, &c));
	map_size = c.out_ring.map_size;
	ASSERT_OK(ct_param_write("max_ring_bytes", map_size - 1));
	ret = limits_create(self, 100, 8, &c);
	err = errno;
	if (ret == 0)
		TH_LOG("limit %" PRIu64 " accepted a ring of map_size %"
		       PRIu64, map_size - 1, (uint64_t)c.out_ring.map_size);
	ASSERT_EQ(-1, ret);
	EXPECT_EQ(ENOSPC, err);
}

/*
 * The documented maxima fit under the default limits: 2^20 slots of
 * messages of 1 to 48 bytes (64-byte slots: a ring of 64 MiB + 4 KiB) is
 * exactly max_ring_bytes' default. A 49-byte message needs 128-byte slots,
 * twice that: ENOSPC. The per-user and total byte limits (an eighth and a
 * quarter of RAM) are only raised if this VM is too small for them to
 * hold one such ring; the channel and ring limits are the defaults.
 */
TEST_F_TIMEOUT(limits, documented_maxima_fit, 120)
{
	static const uint32_t sizes[] = { 1, 48 };
	const unsigned long long need = 4096ULL + 64ULL * CHAN_CAPACITY_MAX;
	long long avail = ct_meminfo_kb("MemAvailable");
	unsigned char out[48], in[48];
	struct chan_create c;
	uint32_t len;
	size_t i;
	int fd;

	if (avail >= 0 && avail < (long long)(3 * need / 1024))
		SKIP(return, "MemAvailable %lld KiB: too little for a 64 MiB ring",
		     avail);
	printf("# max_ring_bytes %llu, max_user_ring_bytes %llu%s, max_total_ring_bytes %llu%s\n",
	       self->max_ring_bytes, self->max_user_ring_bytes,
	       self->has_user_ring ? "" : " (none)",
	       self->max_total_ring_bytes,
	       self->has_total_ring ? "" : " (none)");
	fflush(stdout);
	if (self->has_user_ring && self->max_user_ring_bytes < need)
		ASSERT_OK(ct_param_write("max_user_ring_bytes", need));
	if (self->has_total_ring && self->max_total_ring_bytes < need)
		ASSERT_OK(ct_param_write("max_total_ring_bytes", need));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		memset(&c, 0, sizeof(c));
		c.msg_size = sizes[i];
		c.capacity = CHAN_CAPACITY_MAX;
		if (ct_create_raw(self->dev, &c)) {
			TH_LOG("msg_size %u capacity %lu: %s", sizes[i],
			       (unsigned long)CHAN_CAPACITY_MAX,
			       strerror(errno));
			ASSERT_TRUE(false);
		}
		self->ids[self->nids++] = c.out_id;
		EXPECT_EQ((uint32_t)CHAN_CAPACITY_MAX, c.out_ring.capacity);
		EXPECT_EQ(need, c.out_ring.map_size);
		EXPECT_GE(self->max_ring_bytes, c.out_ring.map_size);
		/* and it works */
		fd = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND | CHAN_ROLE_RECV,
			     0, 0);
		ASSERT_LE(0, fd);
		memset(out, 'm', sizeof(out));
		ASSERT_OK(ct_send(fd, 0, out, sizes[i], 0, 0));
		EXPECT_ERRNO(EMSGSIZE, ct_send(fd, 0, out, sizes[i] + 1, 0, 0));
		len = sizeof(in);
		ASSERT_OK(ct_recv(fd, 0, in, &len, 0, 0));
		EXPECT_EQ(sizes[i], len);
		EXPECT_EQ(0, memcmp(in, out, len));
		close(fd);
		ASSERT_OK(ct_destroy(self->dev, c.out_id));
		self->nids--;
	}
	memset(&c, 0, sizeof(c));
	c.msg_size = 49;
	c.capacity = CHAN_CAPACITY_MAX;
	EXPECT_ERRNO(ENOSPC, ct_create_raw(self->dev, &c));
}

/* The largest message there is, through a big enough ring. */
TEST_F(limits, largest_message)
{
	const uint32_t max = CHAN_MSG_SIZE_MAX;
	unsigned char *out, *in;
	struct chan_create c;
	uint32_t len, i;
	int fd;

	if (self->max_ring_bytes < 4ULL * max)
		ASSERT_OK(ct_param_write("max_ring_bytes", 4ULL * max));
	ASSERT_OK(limits_create(self, max, 2, &c));
	EXPECT_EQ(max, c.out_ring.msg_size);
	fd = ct_open(self->dev, c.out_id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	out = malloc(max + 1);
	in = malloc(max + 1);
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	for (i = 0; i <= max; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 12));
	EXPECT_ERRNO(EMSGSIZE, ct_send(fd, 0, out, max + 1, 0, 0));
	ASSERT_OK(ct_send(fd, 0, out, max, 0, 0));
	ASSERT_EQ((ssize_t)max, write(fd, out, max));
	len = max;
	ASSERT_OK(ct_recv(fd, 0, in, &len, 0, 0));
	ASSERT_EQ(max, len);
	ASSERT_EQ(0, memcmp(in, out, max));
	memset(in, 0, max);
	ASSERT_EQ((ssize_t)max, read(fd, in, max + 1));
	ASSERT_EQ(0, memcmp(in, out, max));
	close(fd);
	free(out);
	free(in);
}

/* A thousand channels created, enumerated and destroyed. */
TEST_F_TIMEOUT(limits, thousand_channels, 300)
{
	const int n = 1000;
	struct chan_info info;
	uint32_t next = 1;
	int i, j, found = 0;

	if (self->max_channels < (unsigned long long)n)
		ASSERT_OK(ct_param_write("max_channels", n));
	for (i = 0; i < n; i++) {
		char name[CHAN_NAME_MAX];
		struct chan_create c;

		memset(&c, 0, sizeof(c));
		c.msg_size = 8 + i % 64;
		c.capacity = 1 + i % 8;
		if (i % 2) {
			snprintf(name, sizeof(name), "many-%d", i);
			memcpy(c.name, name, sizeof(name));
		}
		ASSERT_OK(ct_create_raw(self->dev, &c));
		self->ids[self->nids++] = c.out_id;
	}
	/* all different */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ASSERT_NE(self->ids[i], self->ids[j]);
	/* all listed, and nothing else in this namespace */
	while (ct_info(self->dev, next, CHAN_INFO_NEXT, &info) == 0) {
		found++;
		ASSERT_GE(n, found);
		if (info.id == UINT32_MAX)
			break;
		next = info.id + 1;
	}
	EXPECT_EQ(n, found);
	/* each one answers by ID and by name */
	for (i = 0; i < n; i++) {
		ASSERT_OK(ct_info(self->dev, self->ids[i], 0, &info));
		ASSERT_EQ(8U + i % 64, info.msg_size);
		if (i % 2) {
			char name[CHAN_NAME_MAX];
			uint32_t id;

			snprintf(name, sizeof(name), "many-%d", i);
			ASSERT_OK(ct_lookup(self->dev, name, &id));
			ASSERT_EQ(self->ids[i], id);
		}
	}
	for (i = 0; i < n; i++)
		ASSERT_OK(ct_destroy(self->dev, self->ids[i]));
	self->nids = 0;
	EXPECT_ERRNO(ENOENT, ct_info(self->dev, 1, CHAN_INFO_NEXT, &info));
	for (i = 0; i < n; i++)
		ASSERT_ERRNO(ENOENT, ct_info(self->dev, self->ids[i], 0, &info));
	/* and the IDs just freed are not handed out again at once */
	for (i = 0; i < 10; i++) {
		struct chan_create c;

		memset(&c, 0, sizeof(c));
		c.msg_size = 8;
		c.capacity = 1;
		ASSERT_OK(ct_create_raw(self->dev, &c));
		ASSERT_OK(ct_destroy(self->dev, c.out_id));
		for (j = 0; j < n; j++)
			ASSERT_NE(self->ids[j], c.out_id);
	}
}

/* ---- open/close churn ---- */

FIXTURE(churn) {
	int dev;
	uint32_t id;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(churn)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create_simple(self->dev, 16, 8, &self->id));
}

FIXTURE_TEARDOWN(churn)
{
	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	ct_destroy(self->dev, self->id);
	close(self->dev);
}

TEST_F_TIMEOUT(churn, open_close, 300)
{
	static const uint32_t roles[] = {
		CHAN_ROLE_SEND, CHAN_ROLE_RECV, CHAN_ROLE_SEND | CHAN_ROLE_RECV,
	};
	struct chan_info info;
	int fds[600];
	int i, fd;

	for (i = 0; i < 3000; i++) {
		fd = ct_open(self->dev, self->id, roles[i % 3], 0, 0);
		ASSERT_LE(0, fd);
		ASSERT_OK(close(fd));
	}
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.senders);
	EXPECT_EQ(0U, info.receivers);

	/* many at once */
	for (i = 0; i < 600; i++) {
		fds[i] = ct_open(self->dev, self->id, roles[i % 3], 0, 0);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(400U, info.senders);
	EXPECT_EQ(400U, info.receivers);
	EXPECT_EQ(0U, info.state);
	for (i = 0; i < 600; i++)
		ASSERT_OK(close(fds[i]));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.senders);
	EXPECT_EQ(0U, info.receivers);

	/* and /dev/chan itself */
	for (i = 0; i < 1000; i++) {
		fd = ct_dev_open();
		ASSERT_LE(0, fd);
		ASSERT_OK(close(fd));
	}
}

/*
 * Four processes open and close endpoints (1000 each) while a fifth keeps
 * a sender and a receiver busy: the counts end at zero and the traffic is
 * intact.
 */
TEST_F_TIMEOUT(churn, concurrent, 600)
{
	struct chan_info info;
	int i, sfd, rfd;
	uint64_t v, n;
	uint32_t len;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &sfd, &rfd));
	fflush(stdout);
	for (i = 0; i < 4; i++) {
		self->pid[i] = fork();
		ASSERT_LE(0, self->pid[i]);
		if (self->pid[i] == 0) {
			int k, fd;

			close(sfd);
			close(rfd);
			for (k = 0; k < 1000; k++) {
				fd = ct_open(self->dev, self->id,
					     1 + (k + i) % 3, 0, 0);
				if (fd < 0)
					_exit(errno);
				close(fd);
			}
			_exit(0);
		}
	}
	for (n = 0; n < 2000; n++) {
		ASSERT_OK(ct_send(sfd, 0, &n, sizeof(n), 0, 0));
		len = sizeof(v);
		ASSERT_OK(ct_recv(rfd, 0, &v, &len, 0, 0));
		ASSERT_EQ(n, v);
	}
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, ct_reap(&self->pid[i], 300000));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.senders);
	EXPECT_EQ(1U, info.receivers);
	EXPECT_EQ(0U, info.state);
	close(sfd);
	close(rfd);
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(0U, info.senders);
	EXPECT_EQ(0U, info.receivers);
	EXPECT_EQ(2000U, info.sent);
	EXPECT_EQ(2000U, info.received);
}

CT_HARNESS_MAIN
