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

/**
 * chan_ring_init() - allocate and lay out an empty ring
 * @ring: filled in
 * @msg_size: largest payload (validated by the caller)
 * @capacity: slots, a power of two (validated by the caller)
 *
 * Return: 0 or -ENOMEM.
 */
int chan_ring_init(struct chan_ring *ring, u32 msg_size, u32 capacity)
{
	struct chan_ring_hdr *hdr;
	size_t size = chan_ring_bytes(msg_size, capacity);

	/* Zeroed, which is an empty ring; user-mappable for the fast path. */
	ring->mem = vmalloc_user(size);
	if (!ring->mem)
		return -ENOMEM;
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
