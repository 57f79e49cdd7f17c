// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests from a security review of the compact SPSC ring
 * (CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE), the attacker being any local
 * user who may map such a channel.
 *
 * A compact ring's fast path has no barrier between its cursor store and
 * its read of the count of waiters; a kernel waiter makes the CPUs of the
 * mappers' address spaces execute one instead (kmod/map.c), and for that
 * the module records, at mmap(), the address space of each mapping, and
 * forgets it when the mapping's last VMA closes.
 *
 *  - forked_copy_closed_last: the mapping is VM_DONTCOPY, but a process
 *    may clear that with MADV_DOFORK (map.c says so), and a fork() then
 *    gives the child a VMA of the same mapping, in an address space that
 *    was never recorded. When the child's VMA is the last to close (the
 *    parent unmapped first, or exited: a daemon's fork), the module
 *    looked that address space up by the closing VMA's, did not find it,
 *    warned (WARN_ON_ONCE: a user-triggered WARNING, a panic under
 *    panic_on_warn) and kept the parent's address space recorded: its
 *    mmgrab() was never dropped (the mm_struct and its page table leak
 *    when the channel goes), its slot of the two stayed taken, and a
 *    later mapping of the other endpoint was refused with EBUSY. Meanwhile
 *    the child ran the fast path without its CPUs ever being fenced, so
 *    its peer could sleep next to a message (a lost wake-up).
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include <sys/mman.h>

#define WAIT_MS		20000
#define MSG		8U
#define CAP		8U

FIXTURE(r4) {
	int dev, kmsg;
	uint32_t ids[4];
	int nids;
	pid_t pid[CT_MAX_CHILDREN];
	int sfd, rfd;
	uint32_t stok, rtok;
	struct chan_create c;
};

FIXTURE_SETUP(r4)
{
	struct chan_create *c = &self->c;

	self->sfd = self->rfd = -1;
	ct_ring_setup(_metadata, &self->dev, &self->kmsg);
	ASSERT_OK(ct_create_mappable(self->dev, MSG, CAP, 0600,
				     CHAN_CREATE_SPSC, NULL, c));
	self->ids[self->nids++] = c->out_id;
	ASSERT_NE(0ULL, c->out_features & CHAN_FEAT_SPSC_COMPACT);
	self->sfd = ct_open_token(self->dev, c->out_id, CHAN_ROLE_SEND, 0,
				  &self->stok);
	ASSERT_LE(0, self->sfd);
	self->rfd = ct_open_token(self->dev, c->out_id, CHAN_ROLE_RECV, 0,
				  &self->rtok);
	ASSERT_LE(0, self->rfd);
}

FIXTURE_TEARDOWN(r4)
{
	if (self->sfd >= 0)
		close(self->sfd);
	if (self->rfd >= 0)
		close(self->rfd);
	ct_ring_teardown(_metadata, self->pid, self->dev, self->kmsg,
			 self->ids, self->nids);
	close(self->dev);
}

/*
 * The sender's mapping, copied into a child by fork() after MADV_DOFORK,
 * closes last in the child. Afterwards both endpoints can be mapped again
 * (the record of the parent's address space was dropped, not left to take
 * a slot), and the kernel log is clean (no WARNING).
 */
TEST_F(r4, forked_copy_closed_last)
{
	struct ct_ring s, s2, r;
	int go[2];
	pid_t pid;

	ASSERT_OK(pipe(go));
	ASSERT_OK(ct_ring_map(self->sfd, &self->c.out_ring, self->stok, &s));
	ASSERT_OK(madvise(s.base, s.size, MADV_DOFORK));
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Hold the copied VMA until the parent has unmapped its own. */
		close(go[1]);
		CF_TRUE(ct_await(go[0], WAIT_MS) == 'x', "go");
		_exit(0);
	}
	self->pid[0] = pid;
	close(go[0]);
	ct_ring_unmap(&s);
	ct_post(go[1], 'x');
	close(go[1]);
	/* The child exits: the last VMA of the sender's mapping closes. */
	ASSERT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "holder"));

	/* The sender maps again, and then the receiver: two mappings. */
	ASSERT_OK(ct_ring_map(self->sfd, &self->c.out_ring, self->stok, &s2));
	EXPECT_OK(ct_ring_map(self->rfd, &self->c.out_ring, self->rtok, &r));
	ct_ring_unmap(&r);
	ct_ring_unmap(&s2);
}

TEST_HARNESS_MAIN
