/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the libchan source files. Nothing here is exported:
 * the helpers are static inline, or hidden and named chan__*, so the
 * shared library has only the symbols of libchan.map.
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

/*
 * The check of a CHAN_CREATE_CRC32C message (crc32c.c): CRC32C of its
 * length as a little-endian 32-bit word, then its payload. Hidden: not
 * part of the API.
 */
__attribute__((visibility("hidden")))
uint32_t chan__msg_crc(const void *msg, uint32_t len);

/*
 * chan_recvmsg() that also returns chan_msg.lost (the messages a
 * broadcast receiver missed, with -ENOBUFS) in *lost if not NULL.
 */
__attribute__((visibility("hidden")))
ssize_t chan__recvmsg(int fd, uint32_t id, void *buf, size_t cap,
		      unsigned int flags, uint64_t timeout_ns,
		      uint32_t *msg_len, uint64_t *lost);

struct chan_ring_view;
struct chan_bcast_cursor;

/* chan_bcast_fast_recv() found nothing at the cursor (the tail). */
#define CHAN_BCAST_EMPTY	1
/* ...or something the kernel path must judge (a scribbled cursor). */
#define CHAN_BCAST_SLOW		2

/*
 * One receive of a mapped broadcast receiver (bcast.c): from the
 * read-only ring @v at the cursor @bc->pos (the endpoint's cursor page). 0 with the length in *msg_len, -EMSGSIZE (*msg_len set),
 * -ENOBUFS (*lost set: the cursor jumped to the oldest held),
 * CHAN_BCAST_EMPTY or CHAN_BCAST_SLOW.
 */
__attribute__((visibility("hidden")))
int chan__bcast_recv(const struct chan_ring_view *v,
		     struct chan_bcast_cursor *bc, void *buf, size_t cap,
		     uint32_t *msg_len, uint64_t *lost);

#endif /* LIBCHAN_PRIVATE_H */
