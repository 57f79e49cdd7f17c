// SPDX-License-Identifier: MIT
/*
 * Sending and receiving: every variant funnels into chan_sendmsg() or
 * chan_recvmsg(), which fill a struct chan_msg and issue one ioctl, on a
 * channel fd (id 0) or on the /dev/chan fd (id set).
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "libchan_private.h"

int chan_sendmsg(int fd, uint32_t id, const void *msg, size_t len,
		 unsigned int flags, uint64_t timeout_ns)
{
	struct chan_msg m;
	int ret;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.flags = flags;
	m.id = id;
	m.len = (uint32_t)len;
	m.buf = (uintptr_t)msg;
	m.timeout_ns = timeout_ns;
	ret = chan_ioctl(fd, CHAN_IOC_SEND, &m);
	return ret < 0 ? ret : 0;
}

ssize_t chan_recvmsg(int fd, uint32_t id, void *buf, size_t cap,
		     unsigned int flags, uint64_t timeout_ns,
		     uint32_t *msg_len)
{
	return chan__recvmsg(fd, id, buf, cap, flags, timeout_ns, msg_len,
			     NULL);
}

ssize_t chan__recvmsg(int fd, uint32_t id, void *buf, size_t cap,
		      unsigned int flags, uint64_t timeout_ns,
		      uint32_t *msg_len, uint64_t *lost)
{
	struct chan_msg m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.flags = flags;
	m.id = id;
	/* No message is that large: a bigger buffer is as good as 4 GiB. */
	m.len = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	m.buf = (uintptr_t)buf;
	m.timeout_ns = timeout_ns;
	ret = chan_ioctl(fd, CHAN_IOC_RECV, &m);
	if (msg_len && (ret >= 0 || ret == -EMSGSIZE || ret == -EBADMSG))
		*msg_len = m.len;
	/* An older kernel leaves it 0: the struct was zeroed. */
	if (lost)
		*lost = ret == -ENOBUFS ? m.lost : 0;
	if (ret < 0)
		return ret;
	return (ssize_t)m.len;
}

int chan_send(int fd, const void *msg, size_t len)
{
	return chan_sendmsg(fd, 0, msg, len, 0, 0);
}

int chan_try_send(int fd, const void *msg, size_t len)
{
	return chan_sendmsg(fd, 0, msg, len, CHAN_MSG_NONBLOCK, 0);
}

int chan_send_timeout(int fd, const void *msg, size_t len,
		      uint64_t timeout_ns)
{
	return chan_sendmsg(fd, 0, msg, len, CHAN_MSG_TIMEOUT, timeout_ns);
}

int chan_send_until(int fd, const void *msg, size_t len,
		    uint64_t deadline_ns)
{
	return chan_sendmsg(fd, 0, msg, len,
			    CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME, deadline_ns);
}

ssize_t chan_recv(int fd, void *buf, size_t cap)
{
	return chan_recvmsg(fd, 0, buf, cap, 0, 0, NULL);
}

ssize_t chan_try_recv(int fd, void *buf, size_t cap)
{
	return chan_recvmsg(fd, 0, buf, cap, CHAN_MSG_NONBLOCK, 0, NULL);
}

ssize_t chan_recv_timeout(int fd, void *buf, size_t cap,
			  uint64_t timeout_ns)
{
	return chan_recvmsg(fd, 0, buf, cap, CHAN_MSG_TIMEOUT, timeout_ns,
			    NULL);
}

ssize_t chan_recv_until(int fd, void *buf, size_t cap, uint64_t deadline_ns)
{
	return chan_recvmsg(fd, 0, buf, cap,
			    CHAN_MSG_TIMEOUT | CHAN_MSG_ABSTIME, deadline_ns,
			    NULL);
}

int chan_send_id(uint32_t id, const void *msg, size_t len,
		 unsigned int flags, uint64_t timeout_ns)
{
	int dev = chan_dev_fd();

	if (dev < 0)
		return dev;
	return chan_sendmsg(dev, id, msg, len, flags, timeout_ns);
}

ssize_t chan_recv_id(uint32_t id, void *buf, size_t cap, unsigned int flags,
		     uint64_t timeout_ns)
{
	int dev = chan_dev_fd();

	if (dev < 0)
		return dev;
	return chan_recvmsg(dev, id, buf, cap, flags, timeout_ns, NULL);
}

/* A batch on a channel fd (id 0) or by ID on the /dev/chan fd. */
static int chan_batch(int fd, unsigned long cmd, uint32_t id,
		      const struct chan_iov *vec, unsigned int count,
		      unsigned int flags, uint64_t timeout_ns)
{
	struct chan_batch b;

	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.flags = flags;
	b.id = id;
	b.count = count;
	b.vec = (uintptr_t)vec;
	b.timeout_ns = timeout_ns;
	return chan_ioctl(fd, cmd, &b);
}

int chan_send_batch(int fd, uint32_t id, const struct chan_iov *vec,
		    unsigned int count, unsigned int flags,
		    uint64_t timeout_ns)
{
	return chan_batch(fd, CHAN_IOC_SEND_BATCH, id, vec, count, flags,
			  timeout_ns);
}

int chan_recv_batch(int fd, uint32_t id, struct chan_iov *vec,
		    unsigned int count, unsigned int flags,
		    uint64_t timeout_ns)
{
	return chan_batch(fd, CHAN_IOC_RECV_BATCH, id, vec, count, flags,
			  timeout_ns);
}

ssize_t chan_callmsg(int fd, uint32_t id, const void *msg, size_t len,
		     int reply_fd, uint32_t reply_id, void *buf, size_t cap,
		     unsigned int flags, uint64_t timeout_ns,
		     uint32_t *reply_len, int *sent)
{
	struct chan_call c;
	int ret;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.flags = flags;
	c.id = id;
	c.reply_id = reply_id;
	c.reply_fd = reply_fd;
	c.send_len = (uint32_t)len;
	c.send_buf = (uintptr_t)msg;
	c.recv_buf = (uintptr_t)buf;
	c.recv_len = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	c.timeout_ns = timeout_ns;
	ret = chan_ioctl(fd, CHAN_IOC_CALL, &c);
	if (sent)
		*sent = (int)c.out_sent;
	if (reply_len && (ret >= 0 || ret == -EMSGSIZE))
		*reply_len = c.recv_len;
	if (ret < 0)
		return ret;
	return (ssize_t)c.recv_len;
}

ssize_t chan_call(int fd, const void *msg, size_t len, int reply_fd,
		  void *buf, size_t cap)
{
	return chan_callmsg(fd, 0, msg, len, reply_fd, 0, buf, cap, 0, 0,
			    NULL, NULL);
}
