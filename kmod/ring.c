// SPDX-License-Identifier: GPL-2.0
/*
 * Ring memory: allocation, the header page, the kernel-written state.
 * The protocol itself lives in chan_ring.h, shared with user space.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include "chan_private.h"

/* Bytes of ring memory a channel needs: header page and slots, in pages. */
u64 chan_ring_bytes(u32 msg_size, u32 capacity)
{
	u64 bytes = CHAN_RING_HDR_SIZE +
		    (u64)capacity * chan_ring_slot_size(msg_size);

	return round_up(bytes, PAGE_SIZE);
}

/* Ring memory of all channels, against chan_max_total_ring_bytes. */
static atomic64_t chan_total_ring_bytes = ATOMIC64_INIT(0);

/**
 * chan_ring_init() - allocate and lay out an empty ring
 * @ring: filled in
 * @msg_size: largest payload (validated by the caller)
 * @capacity: slots, a power of two (validated by the caller)
 *
 * Return: 0, -ENOSPC (all channels' rings would exceed
 * max_total_ring_bytes) or -ENOMEM.
 */
int chan_ring_init(struct chan_ring *ring, u32 msg_size, u32 capacity)
{
	struct chan_ring_hdr *hdr;
	size_t size = chan_ring_bytes(msg_size, capacity);

	if (atomic64_add_return(size, &chan_total_ring_bytes) >
	    READ_ONCE(chan_max_total_ring_bytes)) {
		atomic64_sub(size, &chan_total_ring_bytes);
		return -ENOSPC;
	}
	/*
	 * Zeroed, which is an empty ring. Charged to the creator's memory
	 * cgroup; a failure is the caller's ENOMEM, never a reason to wake
	 * the OOM killer or to print a warning: users can ask for large
	 * rings. (vmalloc_user() would do neither; the mapping will insert
	 * the pages itself.)
	 */
	ring->mem = __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
			      __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
	if (!ring->mem) {
		atomic64_sub(size, &chan_total_ring_bytes);
		return -ENOMEM;
	}
	ring->size = size;
	chan_obj_created(CHAN_OBJ_RING);

	hdr = ring->mem;
	hdr->magic = CHAN_RING_MAGIC;
	hdr->version = CHAN_RING_VERSION;
	hdr->msg_size = msg_size;
	hdr->slot_size = chan_ring_slot_size(msg_size);
	hdr->capacity = capacity;
	hdr->capacity_shift = ilog2(capacity);
	hdr->slots_offset = CHAN_RING_HDR_SIZE;

	/* The kernel's own copy: never read back from shared memory. */
	ring->view.hdr = hdr;
	ring->view.slots = (unsigned char *)ring->mem + CHAN_RING_HDR_SIZE;
	ring->view.mask = capacity - 1;
	ring->view.shift = ilog2(capacity);
	ring->view.slot_size = chan_ring_slot_size(msg_size);
	ring->view.msg_size = msg_size;
	return 0;
}

void chan_ring_free(struct chan_ring *ring)
{
	vfree(ring->mem);
	ring->mem = NULL;
	atomic64_sub(ring->size, &chan_total_ring_bytes);
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
