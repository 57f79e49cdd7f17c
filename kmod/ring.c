// SPDX-License-Identifier: GPL-2.0
/*
 * Ring memory: allocation, the header, the kernel-written state. The
 * protocol itself lives in chan_ring.h, shared with user space.
 *
 * A ring that is not mappable is touched only by the kernel, so its header
 * takes only CHAN_RING_HDR_MIN bytes (four cache lines) and shares the
 * first page with the slots: a small channel costs a slab object, not two
 * pages (a one-slot channel of 8-byte messages: 512 bytes of ring instead
 * of 8 KiB). A ring of more than a page is vmalloc()ed, in whole pages.
 *
 * A mappable ring is always vmalloc()ed, in whole pages, with a header
 * page of its own (CHAN_RING_HDR_SIZE), so that user space maps exactly
 * the ring and nothing else; map.c inserts its pages into a mapping one by
 * one (vmalloc_user() would do it through remap_vmalloc_range(), but
 * offers neither memory-cgroup accounting nor a failure without the OOM
 * killer).
 *
 * A CHAN_CREATE_SPSC channel that is mappable has a compact ring instead
 * (chan_spsc_ring.h): the same header page, then capacity lengths, then
 * capacity payload slots of chan_spsc_ring_stride() bytes, packed, without
 * state words; the header says CHAN_RING_VERSION_SPSC and the stride in
 * slot_size.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "chan_private.h"

static u32 chan_ring_hdr_bytes(bool mappable)
{
	return mappable ? CHAN_RING_HDR_SIZE : CHAN_RING_HDR_MIN;
}

/* Bytes from one slot to the next, by the ring's kind. */
static u32 chan_ring_stride(u32 msg_size, u32 flags)
{
	if (chan_flags_compact(flags))
		return chan_spsc_ring_stride(msg_size);
	return chan_ring_slot_size(msg_size);
}

/*
 * Bytes of ring memory a channel takes, header and slots, as allocated:
 * a kmalloc() size class up to a page (a power of two from 512 on, so
 * naturally aligned, and every slot on a cache line), whole pages above
 * and for every mappable ring.
 */
u64 chan_ring_bytes(u32 msg_size, u32 capacity, u32 flags)
{
	bool mappable = flags & CHAN_CREATE_MAPPABLE;
	u64 bytes = chan_ring_hdr_bytes(mappable);

	if (chan_flags_compact(flags))
		bytes += chan_spsc_ring_size(capacity, msg_size);
	else
		bytes += (u64)capacity * chan_ring_stride(msg_size, flags);

	if (bytes <= PAGE_SIZE && !mappable)
		return kmalloc_size_roundup(bytes);
	return round_up(bytes, PAGE_SIZE);
}

/* Offset of slot 0 from the start of the ring. */
u32 chan_ring_slots_offset(const struct chan_ring *ring)
{
	return chan_ring_hdr_bytes(ring->mappable);
}

/**
 * chan_ring_init() - allocate and lay out an empty ring
 * @ring: filled in
 * @msg_size: largest payload (validated by the caller)
 * @capacity: slots, a power of two (validated by the caller)
 * @flags: the channel's CHAN_CREATE_* flags: MAPPABLE (the ring will be
 *	mapped into user space), SPSC with MAPPABLE (a compact ring)
 *
 * The caller has charged the ring's size (chan_charge()).
 *
 * Return: 0 or -ENOMEM.
 */
int chan_ring_init(struct chan_ring *ring, u32 msg_size, u32 capacity,
		   u32 flags)
{
	bool mappable = flags & CHAN_CREATE_MAPPABLE;
	bool compact = chan_flags_compact(flags);
	u32 stride = chan_ring_stride(msg_size, flags);
	struct chan_ring_hdr *hdr;
	size_t size = chan_ring_bytes(msg_size, capacity, flags);
	u32 slots = chan_ring_hdr_bytes(mappable);

	/*
	 * Zeroed, which is an empty ring. Charged to the creator's memory
	 * cgroup; a failure is the caller's ENOMEM, never a reason to wake
	 * the OOM killer or to print a warning: users can ask for large
	 * rings.
	 */
	if (!mappable && size <= PAGE_SIZE)
		ring->mem = kzalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	else
		ring->mem = __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
				      __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
	if (!ring->mem)
		return -ENOMEM;
	ring->size = size;
	ring->mappable = mappable;
	ring->compact = compact;
	chan_obj_created(CHAN_OBJ_RING);

	hdr = ring->mem;
	hdr->magic = CHAN_RING_MAGIC;
	hdr->version = compact ? CHAN_RING_VERSION_SPSC : CHAN_RING_VERSION;
	hdr->msg_size = msg_size;
	hdr->slot_size = stride;
	hdr->capacity = capacity;
	hdr->capacity_shift = ilog2(capacity);
	hdr->slots_offset = slots;

	/* The kernel's own copy: never read back from shared memory. */
	ring->view.hdr = hdr;
	ring->view.slots = (unsigned char *)ring->mem + slots;
	ring->view.mask = capacity - 1;
	ring->view.shift = ilog2(capacity);
	ring->view.slot_size = stride;
	ring->view.msg_size = msg_size;
	/*
	 * A compact ring is run only through ring->spsc (io.c); the view's
	 * header, mask and cursors still serve INFO and the statistics, never
	 * its slot functions, which would read payload as state words.
	 */
	if (compact)
		chan_spsc_ring_init(&ring->spsc, hdr, ring->view.slots,
				    capacity, msg_size);
	return 0;
}

void chan_ring_free(struct chan_ring *ring)
{
	kvfree(ring->mem);
	ring->mem = NULL;
	chan_obj_destroyed(CHAN_OBJ_RING);
}

/*
 * Mirror the channel state into the header page for user space that maps
 * the ring. Nothing in the kernel reads it back.
 */
void chan_ring_set_kstate(struct chan *ch)
{
	WRITE_ONCE(ch->ring.view.hdr->kstate.state, ch->state);
}

/**
 * chan_ring_waiters() - the count of kernel sleepers in the shared header
 * @ch: the channel
 * @dir: senders or receivers
 *
 * User space that maps the ring reads it to decide whether to ask the
 * kernel for a wake-up, so it must never be lower than the number of
 * sleepers not yet woken (io.c) and polled endpoints: the kernel updates
 * the shared word itself with atomic operations, never a mirror of a
 * private count written after the fact (the wake model, models/, finds a
 * lost wake-up with a mirror). The kernel
 * never reads it for its own decisions (it checks its wait queues), so a
 * user who scribbles on it can only cost its own channel wake-ups.
 *
 * Return: the word, as an atomic_t (naturally aligned, in kernel memory
 * that lives as long as the channel).
 */
atomic_t *chan_ring_waiters(struct chan *ch, enum chan_dir dir)
{
	struct chan_ring_kstate *ks = &ch->ring.view.hdr->kstate;

	BUILD_BUG_ON(sizeof(atomic_t) != sizeof(ks->send_waiters));
	return (atomic_t *)(dir == CHAN_DIR_SEND ? &ks->send_waiters :
			    &ks->recv_waiters);
}
