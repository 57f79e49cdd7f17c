// SPDX-License-Identifier: MIT
/*
 * Byte-stream channels (CHAN_CREATE_STREAM): reads and writes of bytes on
 * a channel fd, as on a pipe. The kernel does the work; these add what a
 * pipe's users write by hand: a write of everything, a read with a
 * timeout, and the bytes queued.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "libchan_private.h"

ssize_t chan_stream_write(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int saved = errno;
	size_t done = 0;
	ssize_t n;

	if (len > SSIZE_MAX)
		return -EINVAL;
	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n < 0) {
			n = -errno;
			if (n == -EINTR)
				continue;
			errno = saved;
			return done ? (ssize_t)done : n;
		}
		done += (size_t)n;
	}
	errno = saved;
	return (ssize_t)done;
}

ssize_t chan_stream_read(int fd, void *buf, size_t cap)
{
	int saved = errno;
	ssize_t n;

	n = read(fd, buf, cap);
	if (n < 0)
		n = -errno;
	errno = saved;
	return n;
}

ssize_t chan_stream_read_timeout(int fd, void *buf, size_t cap,
				 uint64_t timeout_ns)
{
	ssize_t n;

	if (!cap)
		return 0;
	n = chan_recvmsg(fd, 0, buf, cap, CHAN_MSG_TIMEOUT, timeout_ns, NULL);
	/* The end of the stream, as read(2) tells it. */
	return n == -EPIPE ? 0 : n;
}

ssize_t chan_stream_queued(int fd)
{
	int saved = errno, n = 0;

	if (ioctl(fd, FIONREAD, &n) < 0) {
		n = -errno;
		errno = saved;
		return n;
	}
	return n;
}
