/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel series chan builds against (Debian
 * 12's 6.1 and 6.12) lives here, so that no other file needs to know.
 * Kbuild probes the kernel's headers for each API and defines
 * CHAN_HAVE_<API> when the kernel has it (a probe, not a version number:
 * stable and distribution kernels backport).
 */
#ifndef _CHAN_COMPAT_H
#define _CHAN_COMPAT_H

#include <linux/mm.h>

#ifndef CHAN_HAVE_VM_FLAGS_SET
/* 6.3 made vm_flags writable only through these (with the VMA locked). */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#endif /* _CHAN_COMPAT_H */
