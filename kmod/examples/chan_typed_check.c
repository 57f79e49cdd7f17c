// SPDX-License-Identifier: GPL-2.0
/*
 * The compile-time check of CHAN_KERNEL_DECLARE_TYPED(): never part of a
 * module. scripts/kapi-build.sh compiles it twice: as is, which must
 * build, and with -DCHAN_TYPED_WRONG, which sends a message of another
 * type and must fail with an incompatible pointer type.
 */
#include "chan_kernel.h"

struct chan_typed_a {
	u64 x;
};

struct chan_typed_b {
	u32 y;
};

CHAN_KERNEL_DECLARE_TYPED(chan_typed, struct chan_typed_a)

int chan_typed_check(struct chan_typed_chan *c);

int chan_typed_check(struct chan_typed_chan *c)
{
#ifdef CHAN_TYPED_WRONG
	struct chan_typed_b m = {};
#else
	struct chan_typed_a m = {};
#endif

	return chan_typed_send(c, &m, 0, 0);
}
