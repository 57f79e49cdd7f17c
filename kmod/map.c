// SPDX-License-Identifier: GPL-2.0
/*
 * Mapping a ring into user space (the fast path), and repairing it when a
 * mapping goes.
 *
 * An endpoint of a channel created CHAN_CREATE_MAPPABLE may map the ring
 * once at a time. Its fast path claims slots with the endpoint's owner
 * token; the kernel's own paths never use that token (io.c). When the last
 * VMA of the mapping closes, however that happens (munmap, exit, exec, a
 * kill at any instruction), nothing of that process can touch the ring any
 * more, so every slot still marked with the token belongs to no one: the
 * repair turns a slot it was WRITING into a FULL tombstone, and a slot it
 * was READING back into EMPTY (on a byte stream: back into FULL, with the
 * offset it stored, chan_ring_repair_stream()). Nothing is guessed and no
 * one waits for a dead process.
 *
 * VMAs are counted, not assumed one: mprotect() and a partial munmap()
 * split a mapping (->open() for the new piece), mremap() moves it (->open()
 * for the new, ->close() for the old). The mapping is VM_DONTCOPY, so fork()
 * does not copy it; a process that clears that with MADV_DOFORK gets a
 * child whose VMA is counted too, and the repair then waits for both. Each
 * VMA holds the endpoint's file, so the endpoint outlives its mapping.
 *
 * A compact SPSC ring (chan_spsc_ring.h) has no tokens in its slots and
 * no state words: each party stores only its own cursor, last, so a dead
 * one leaves nothing behind. Its repair is only the wake-ups.
 *
 * A broadcast channel's ring is written by the kernel alone: it is mapped
 * read-only (VM_MAYWRITE cleared, so mprotect() cannot make it writable)
 * by any endpoint allowed to receive, and nothing needs repair when the
 * mapping goes. A receiver endpoint also maps its cursor page, writable,
 * at the offset that follows the ring (bcast.c).
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/smp.h>
#include <linux/vmalloc.h>
#include "chan_private.h"
#include "compat.h"
#include "chan_trace.h"

/* Slots the repair looks at between two chances to reschedule. */
#define CHAN_REPAIR_BATCH	1024U

/*
 * Move a cursor left behind by a dead party on, as its next claim would:
 * the tail past slots claimed (or retired) for their lap, the head past
 * slots being read (or retired). An SPSC fast path stores its cursor
 * after its slot's state, so a party killed in between leaves it behind
 * a slot that is no longer its to repair. Each move is a CAS from the
 * position read, by at most capacity + 1 positions (a live party can only
 * store the same position after us); a quiet ring then counts right in
 * INFO at once.
 */
static void chan_map_settle(const struct chan_ring_view *v, bool stream)
{
	u32 n;

	for (n = 0; n <= v->mask + 1; n++) {
		u64 pos = chan_load_acquire(&v->hdr->tail);
		u64 st = chan_load_acquire(&chan_ring_slot(v, pos)->state);
		s64 d = chan_lap_diff(chan_slot_lap(st), chan_ring_lap(v, pos));

		if (d < 0 || (d == 0 && chan_slot_phase(st) == CHAN_SLOT_EMPTY))
			break;
		chan_ring_help(&v->hdr->tail, pos);
	}
	/*
	 * A stream's head stays at a READING slot: another reader is in it
	 * (chan_ring_repair_stream() helped it past a retired one).
	 */
	if (stream)
		return;
	for (n = 0; n <= v->mask + 1; n++) {
		u64 pos = chan_load_acquire(&v->hdr->head);
		u64 st = chan_load_acquire(&chan_ring_slot(v, pos)->state);
		s64 d = chan_lap_diff(chan_slot_lap(st), chan_ring_lap(v, pos));

		if (d < 0 || (d == 0 && chan_slot_phase(st) != CHAN_SLOT_READING))
			break;
		chan_ring_help(&v->hdr->head, pos);
	}
}

/*
 * Release whatever @ep's token still holds in the ring, count what was
 * lost, and wake whoever that unblocks. May sleep.
 */
static void chan_map_repair(struct chan_endpoint *ep)
{
	struct chan *ch = ep->ch;
	const struct chan_ring_view *v = &ch->ring.view;
	struct chan_ring_repair_counts c = {};
	u32 first, lost, n = v->mask + 1;

	/*
	 * A compact ring: nothing to repair or settle, whose slot functions
	 * would read payload as state words. Only the wake-ups below.
	 */
	if (ch->ring.compact)
		goto wake;
	if (chan_is_stream(ch)) {
		/* One pass: the head's help must follow the whole ring's. */
		chan_ring_repair_stream(v, ep->token, &c);
	} else {
		for (first = 0; first < n; first += CHAN_REPAIR_BATCH) {
			chan_ring_repair_range(v, ep->token, first,
					       min(n - first,
						   CHAN_REPAIR_BATCH), &c);
			cond_resched();
		}
	}
	chan_map_settle(v, chan_is_stream(ch));
	/*
	 * A message whose reader died is lost; so is a tombstone whose reader
	 * died passing it (it was counted as lost by no one yet). A new
	 * tombstone is counted by the receiver that passes it. A stream's
	 * slots a reader held go back FULL (c.handed_back): nothing is lost.
	 */
	lost = c.reader_drops + c.skipped;
	trace_chan_repair(ep, c.tombstoned, lost);
	if (lost) {
		this_cpu_add(ch->stats->dropped, lost);
		trace_chan_drop(ch, CHAN_DROP_DEAD_READER, lost);
	}
wake:
	/*
	 * Wake both sides, whatever the repair found: the process may also
	 * have died between publishing (retiring) a slot and its wake-up
	 * call, leaving a kernel sleeper beside a message (a free slot) that
	 * no one else will announce. A needless wake-up costs a look at the
	 * ring.
	 */
	chan_wake_dir(ch, CHAN_DIR_RECV);
	chan_wake_dir(ch, CHAN_DIR_SEND);
}

/*
 * Count a mapping made (@delta 1) or gone (-1) in ch->nr_mappers, which
 * INFO reports; under ch->lock, so that INFO reads it with the endpoint
 * counts in one snapshot.
 */
static void chan_count_mapper(struct chan *ch, int delta)
{
	spin_lock(&ch->lock);
	ch->nr_mappers += delta;
	spin_unlock(&ch->lock);
}

/*
 * The barrier of a compact SPSC ring's waiters on its mappers.
 *
 * A fast-path party stores its cursor, then reads the other side's count
 * of waiters with no barrier between (libchan, chan_ep_wake_if_waiting()):
 * the store may still sit in its CPU's store buffer when the read is
 * served. A kernel waiter of that ring, once counted and before its last
 * look at the ring, has every CPU that may run a mapper execute a full
 * barrier (chan_map_fence_peers()). Then either the mapper's store was
 * made visible by that barrier, and the look sees it, or the mapper's
 * read comes after the barrier and sees the count. A mapper not running
 * on any of those CPUs was switched out, and a context switch is a full
 * barrier too. This is the asymmetric form of the store-buffering
 * handshake (models/spsc2.pml checks it): the rare side, the one going
 * to sleep, pays for the frequent one, each message.
 *
 * Which CPUs: those of mm_cpumask() of each address space with a VMA of
 * the ring: the mmap() of an endpoint, and every copy fork() makes of it
 * once MADV_DOFORK cleared VM_DONTCOPY (chan_vma_open() records the
 * child's before the child first runs). On x86 a CPU is in the mask while
 * it runs that address space (it is how the TLB shootdowns find them),
 * and a superset does no harm. Elsewhere the mask is not kept the same
 * way, and a grace period stands in: when synchronize_rcu() returns every
 * CPU has executed a full barrier (as membarrier(MEMBARRIER_CMD_GLOBAL)
 * relies on). So it does, for the rest of the channel's life, if a copy
 * could not be recorded (no memory for its record).
 *
 * The cost is one inter-processor interrupt per CPU of the peer for each
 * time a kernel waiter counts itself and finds the ring empty (full), not
 * per message; a waiter pays a system call and a sleep for each.
 */
static void chan_map_fence_ipi(void *info)
{
	/* Pairs with the smp_mb() of chan_map_fence_peers(). */
	smp_mb();
}

/**
 * chan_map_fence_peers() - a full barrier on every CPU running a mapper
 * @ch: a channel with a compact SPSC ring
 *
 * Called by a waiter after it counted itself in the shared header and
 * before its last look at the ring, in TASK_RUNNING: it may sleep.
 */
void chan_map_fence_peers(struct chan *ch)
{
	struct chan_spsc_peers *p = &ch->peers;
	struct chan_peer *pe;

	/* The count is visible before any barrier below: pairs with them. */
	smp_mb();
	if (!IS_ENABLED(CONFIG_X86) || READ_ONCE(p->untracked)) {
		synchronize_rcu();
		return;
	}
	spin_lock(&p->lock);
	list_for_each_entry(pe, &p->list, node)
		on_each_cpu_mask(mm_cpumask(pe->mm), chan_map_fence_ipi, NULL,
				 true);
	spin_unlock(&p->lock);
}

/* @mm's record, or NULL; under the lock. */
static struct chan_peer *chan_map_peer_find(struct chan_spsc_peers *p,
					    struct mm_struct *mm)
{
	struct chan_peer *pe;

	list_for_each_entry(pe, &p->list, node)
		if (pe->mm == mm)
			return pe;
	return NULL;
}

/* Count one more VMA in @mm's record, if @mm has one; under the lock. */
static bool chan_map_peer_count(struct chan_spsc_peers *p,
				struct mm_struct *mm)
{
	struct chan_peer *pe = chan_map_peer_find(p, mm);

	if (pe)
		pe->vmas++;
	return pe;
}

/*
 * Count a VMA of a compact ring in @mm, recording @mm; 0 or -ENOMEM. Only
 * a new address space (an endpoint's first mmap() there, a fork's copy)
 * allocates: a split or a move in a recorded one cannot fail.
 */
static int chan_map_peer_get(struct chan *ch, struct mm_struct *mm)
{
	struct chan_spsc_peers *p = &ch->peers;
	struct chan_peer *new;
	bool found;

	spin_lock(&p->lock);
	found = chan_map_peer_count(p, mm);
	spin_unlock(&p->lock);
	if (found)
		return 0;
	new = kmalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	spin_lock(&p->lock);
	/* Recorded meanwhile (another endpoint's mmap() in @mm)? */
	found = chan_map_peer_count(p, mm);
	if (!found) {
		mmgrab(mm);
		new->mm = mm;
		new->vmas = 1;
		list_add(&new->node, &p->list);
	}
	spin_unlock(&p->lock);
	if (found)
		kfree(new);
	return 0;
}

/*
 * Uncount a VMA of a compact ring in @mm; forget @mm with its last. A VMA
 * whose record could not be made (chan_spsc_peers.untracked) has none.
 */
static void chan_map_peer_put(struct chan *ch, struct mm_struct *mm)
{
	struct chan_spsc_peers *p = &ch->peers;
	struct chan_peer *pe, *gone = NULL;

	spin_lock(&p->lock);
	pe = chan_map_peer_find(p, mm);
	if (pe && !--pe->vmas) {
		list_del(&pe->node);
		gone = pe;
	}
	spin_unlock(&p->lock);
	if (gone) {
		/* Not the last reference: the VMA's address space holds one. */
		mmdrop(gone->mm);
		kfree(gone);
	}
}

/*
 * A VMA of the mapping is copied: split or moved in its address space,
 * or copied by fork() into the child's (after MADV_DOFORK), which does
 * not run yet. Called where it may sleep (the mmap_lock is held).
 */
static void chan_vma_open(struct vm_area_struct *vma)
{
	struct chan_endpoint *ep = vma->vm_private_data;

	if (ep->ch->ring.compact && chan_map_peer_get(ep->ch, vma->vm_mm))
		WRITE_ONCE(ep->ch->peers.untracked, true);
	atomic_inc(&ep->map_vmas);
}

static void chan_vma_close(struct vm_area_struct *vma)
{
	struct chan_endpoint *ep = vma->vm_private_data;

	if (ep->ch->ring.compact)
		chan_map_peer_put(ep->ch, vma->vm_mm);
	if (!atomic_dec_and_test(&ep->map_vmas))
		return;
	/* Broadcast mappers never claim a slot: nothing to repair. */
	if (!chan_is_bcast(ep->ch))
		chan_map_repair(ep);
	chan_count_mapper(ep->ch, -1);
	/*
	 * Release: the repair is done before another mapping of the endpoint
	 * can claim slots with the same token (pairs with the acquire of
	 * test_and_set_bit_lock() in chan_endpoint_mmap()).
	 */
	clear_bit_unlock(CHAN_EP_MAPPED, &ep->flags);
}

/*
 * Every page is inserted at mmap time; this puts one back after
 * madvise(MADV_DONTNEED) zapped it. The VMA holds the file, the file the
 * channel, the channel its ring.
 */
static vm_fault_t chan_vma_fault(struct vm_fault *vmf)
{
	struct chan_endpoint *ep = vmf->vma->vm_private_data;
	struct chan_ring *ring = &ep->ch->ring;

	if (vmf->pgoff >= ring->size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	vmf->page = vmalloc_to_page(ring->mem + (vmf->pgoff << PAGE_SHIFT));
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct chan_vm_ops = {
	.open = chan_vma_open,
	.close = chan_vma_close,
	.fault = chan_vma_fault,
};

/* A broadcast receiver's cursor page, back after MADV_DONTNEED. */
static vm_fault_t chan_cursor_fault(struct vm_fault *vmf)
{
	struct chan_endpoint *ep = vmf->vma->vm_private_data;

	if (vmf->pgoff != vmf->vma->vm_pgoff || !ep->rx.cpage)
		return VM_FAULT_SIGBUS;
	vmf->page = ep->rx.cpage;
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct chan_cursor_vm_ops = {
	.fault = chan_cursor_fault,
};

/*
 * Map @ep's cursor page: a receiver endpoint of a mappable broadcast
 * channel, once or more (each mapping shows the same cursor).
 */
static int chan_map_cursor(struct chan_endpoint *ep, struct vm_area_struct *vma)
{
	struct page *page;

	if (!(ep->roles & CHAN_ROLE_RECV))
		return -EACCES;
	page = chan_bcast_cursor_page(ep->ch, &ep->rx);
	if (!page)
		return -ENOMEM;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTCOPY | VM_DONTDUMP);
	vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_private_data = ep;
	vma->vm_ops = &chan_cursor_vm_ops;
	return vm_insert_page(vma, vma->vm_start, page);
}

/* Check a request to map a broadcast channel; 0 or -errno. */
static int chan_map_check_bcast(struct chan_endpoint *ep,
				struct vm_area_struct *vma)
{
	struct chan *ch = ep->ch;

	if (!ch->ring.mappable)
		return -ENODEV;
	if (chan_state(ch) & CHAN_STATE_DESTROYED)
		return -EIDRM;
	if (!chan_permitted(ch, CHAN_ROLE_RECV, true))
		return -EACCES;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (vma->vm_pgoff == ch->ring.size >> PAGE_SHIFT &&
	    vma->vm_end - vma->vm_start == PAGE_SIZE)
		return 1;	/* the cursor page */
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != ch->ring.size)
		return -EINVAL;
	/* The ring: read-only, now and after any mprotect(). */
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	vm_flags_clear(vma, VM_MAYWRITE);
	return 0;
}

/* Check a request to map @ep's channel; 0 or -errno. */
static int chan_map_check(struct chan_endpoint *ep, struct vm_area_struct *vma)
{
	struct chan *ch = ep->ch;

	if (!ch->ring.mappable)
		return -ENODEV;
	if (chan_state(ch) & CHAN_STATE_DESTROYED)
		return -EIDRM;
	/*
	 * A mapper is a full participant: it can send and receive, and so
	 * could the endpoint's opener (only then has it a token).
	 */
	if (!ep->token ||
	    !chan_permitted(ch, CHAN_ROLE_SEND | CHAN_ROLE_RECV, true))
		return -EACCES;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != ch->ring.size)
		return -EINVAL;
	return 0;
}

/**
 * chan_endpoint_mmap() - map a channel's ring through one of its fds
 * @file: the channel fd
 * @vma: the new mapping (mmap_lock held for writing)
 *
 * Return: 0, -ENODEV (not mappable), -EIDRM, -EACCES (the caller, or the
 * endpoint's opener, lacks read or write permission; on a broadcast
 * channel: lacks read permission, asks for a writable ring, or asks for
 * a cursor page without the receive role), -EINVAL (private,
 * wrong size or offset), -EPERM (executable), -EBUSY (the endpoint is
 * mapped already, or its last mapping is being repaired), -ENOMEM (no
 * memory to record a compact ring's mapper), or an error inserting the
 * pages.
 */
int chan_endpoint_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct chan_endpoint *ep = file->private_data;
	struct chan *ch = ep->ch;
	unsigned long off;
	int ret;

	if (chan_is_bcast(ch)) {
		ret = chan_map_check_bcast(ep, vma);
		if (ret > 0)
			return chan_map_cursor(ep, vma);
	} else {
		ret = chan_map_check(ep, vma);
	}
	if (ret)
		return ret;
	/* Acquire: pairs with clear_bit_unlock() after a repair. */
	if (test_and_set_bit_lock(CHAN_EP_MAPPED, &ep->flags))
		return -EBUSY;

	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTCOPY | VM_DONTDUMP);
	vm_flags_clear(vma, VM_MAYEXEC);
	for (off = 0; off < ch->ring.size; off += PAGE_SIZE) {
		ret = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page(ch->ring.mem + off));
		if (ret)
			goto err;
	}
	/*
	 * Before the mapping is usable (mmap() has not returned): waiters
	 * from now on force their barrier on this address space too.
	 */
	if (ch->ring.compact) {
		ret = chan_map_peer_get(ch, vma->vm_mm);
		if (ret)
			goto err;
	}
	atomic_set(&ep->map_vmas, 1);
	vma->vm_private_data = ep;
	vma->vm_ops = &chan_vm_ops;
	chan_count_mapper(ch, 1);
	return 0;

err:
	/*
	 * No ops yet, so no close for this VMA: mmap() zaps what was
	 * inserted and the endpoint stays unmapped.
	 */
	clear_bit_unlock(CHAN_EP_MAPPED, &ep->flags);
	return ret;
}

/**
 * chan_map_count() - how many endpoints of a channel are mapped
 * @ch: the channel
 *
 * An endpoint counts from its mmap() until the last VMA of that mapping
 * closed and the ring was repaired (ch->nr_mappers, which INFO reports
 * too). A snapshot, for fdinfo.
 *
 * Return: the number of live mappings of the ring (0 if not mappable).
 */
u32 chan_map_count(struct chan *ch)
{
	u32 n;

	spin_lock(&ch->lock);
	n = ch->nr_mappers;
	spin_unlock(&ch->lock);
	return n;
}
