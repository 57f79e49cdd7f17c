// SPDX-License-Identifier: GPL-2.0
/*
 * Bounce buffers: the kernel's copy of a message too large for the stack,
 * kept per file and reused, so that a large message costs no allocation
 * in the common case.
 */
#include <linux/bitops.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include "chan_private.h"

/*
 * A buffer of at least @size bytes: the file's own if no other call is
 * using it (grown if needed), else a private one. *own says which.
 */
void *chan_bounce_get(struct chan_bounce *b, u32 size, bool *own)
{
	void *buf;

	*own = !test_and_set_bit_lock(0, &b->busy);
	if (!*own)
		return kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (b->size >= size)
		return b->buf;
	buf = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		clear_bit_unlock(0, &b->busy);
		return NULL;
	}
	kvfree(b->buf);
	b->buf = buf;
	b->size = size;
	return buf;
}

void chan_bounce_put(struct chan_bounce *b, void *buf, bool own)
{
	if (own)
		clear_bit_unlock(0, &b->busy);
	else
		kvfree(buf);
}

void chan_bounce_free(struct chan_bounce *b)
{
	kvfree(b->buf);
	b->buf = NULL;
	b->size = 0;
}
