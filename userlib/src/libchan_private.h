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
