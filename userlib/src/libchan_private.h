/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the libchan source files. Nothing here is exported:
 * every helper is static inline, so the static library adds no symbols
 * beyond the ones in libchan.map.
 */
#ifndef LIBCHAN_PRIVATE_H
#define LIBCHAN_PRIVATE_H

#include <errno.h>
#include <sys/ioctl.h>

#include "libchan.h"

/*
 * The sizes of the kernel structs that LIBCHAN_1's functions copy into
 * the caller's memory: a program built then has structs of exactly this
 * size, so these functions never write more, whatever the header says
 * later. When a struct grows, the functions that return it get a new
 * symbol version that copies the new size (and LIBCHAN_1's keep these).
 */
#define CHAN_CREATE_SIZE_V1	152
#define CHAN_INFO_SIZE_V1	176
_Static_assert(sizeof(struct chan_create) >= CHAN_CREATE_SIZE_V1,
	       "struct chan_create shrank");
_Static_assert(sizeof(struct chan_info) >= CHAN_INFO_SIZE_V1,
	       "struct chan_info shrank");

/*
 * ioctl(2) returning the result or -errno. The caller's errno is put back:
 * the library promises to leave it alone.
 */
static inline int chan_ioctl(int fd, unsigned long cmd, void *arg)
{
	int saved = errno;
	int ret = ioctl(fd, cmd, arg);

	if (ret < 0)
		ret = -errno;
	errno = saved;
	return ret;
}

#endif /* LIBCHAN_PRIVATE_H */
