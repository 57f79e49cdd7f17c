// SPDX-License-Identifier: MIT
/*
 * The process's /dev/chan fd and the control ioctls that go through it:
 * create, look up, destroy, describe and open channels.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "libchan_private.h"

#define CHAN_DEV_PATH	"/dev/" CHAN_DEVICE_NAME

/* -1 until the first successful open; never changes after that. */
static atomic_int chan_devfd = -1;

int chan_dev_fd(void)
{
	int fd = atomic_load_explicit(&chan_devfd, memory_order_acquire);
	int expected = -1;
	int saved;

	if (fd >= 0)
		return fd;

	saved = errno;
	fd = open(CHAN_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		errno = saved;
		return fd;
	}
	/* Two threads may race to the first open: one fd wins, the other goes. */
	if (!atomic_compare_exchange_strong_explicit(&chan_devfd, &expected, fd,
						     memory_order_acq_rel,
						     memory_order_acquire)) {
		close(fd);
		fd = expected;
	}
	errno = saved;
	return fd;
}

/* Copy a name into a fixed-size ABI field; NULL means "no name". */
static int chan_copy_name(char dst[CHAN_NAME_MAX], const char *name)
{
	size_t len;

	if (!name)
		return 0;
	len = strnlen(name, CHAN_NAME_MAX);
	if (len == CHAN_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, name, len + 1);
	return 0;
}

int chan_create_ex(const struct chan_attr *attr, struct chan_create *out)
{
	struct chan_create c;
	int dev, ret;

	if (!attr || !out)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.flags = attr->flags;
	c.msg_size = attr->msg_size;
	c.capacity = attr->capacity;
	c.mode = attr->mode;
	c.type_tag = attr->type_tag;
	ret = chan_copy_name(c.name, attr->name);
	if (ret)
		return ret;

	dev = chan_dev_fd();
	if (dev < 0)
		return dev;
	ret = chan_ioctl(dev, CHAN_IOC_CREATE, &c);
	if (ret < 0)
		return ret;
	*out = c;
	return 0;
}

int chan_create(const struct chan_attr *attr, uint32_t *id)
{
	struct chan_create c;
	int ret;

	if (!id)
		return -EINVAL;
	ret = chan_create_ex(attr, &c);
	if (ret)
		return ret;
	*id = c.id;
	return 0;
}

int chan_lookup(const char *name, uint32_t *id)
{
	struct chan_lookup l;
	int dev, ret;

	if (!name || !id)
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	ret = chan_copy_name(l.name, name);
	if (ret)
		return ret;

	dev = chan_dev_fd();
	if (dev < 0)
		return dev;
	ret = chan_ioctl(dev, CHAN_IOC_LOOKUP, &l);
	if (ret < 0)
		return ret;
	*id = l.id;
	return 0;
}

int chan_destroy(uint32_t id)
{
	struct chan_destroy d = { .size = sizeof(d), .id = id };
	int dev = chan_dev_fd();
	int ret;

	if (dev < 0)
		return dev;
	ret = chan_ioctl(dev, CHAN_IOC_DESTROY, &d);
	return ret < 0 ? ret : 0;
}

static int chan_do_info(int fd, uint32_t id, uint32_t flags,
			struct chan_info *info)
{
	struct chan_info i;
	int ret;

	if (!info)
		return -EINVAL;
	memset(&i, 0, sizeof(i));
	i.size = sizeof(i);
	i.flags = flags;
	i.id = id;
	ret = chan_ioctl(fd, CHAN_IOC_INFO, &i);
	if (ret < 0)
		return ret;
	*info = i;
	return 0;
}

int chan_info(uint32_t id, struct chan_info *info)
{
	int dev = chan_dev_fd();

	return dev < 0 ? dev : chan_do_info(dev, id, 0, info);
}

int chan_fd_info(int fd, struct chan_info *info)
{
	return chan_do_info(fd, 0, 0, info);
}

int chan_info_next(uint32_t id, struct chan_info *info)
{
	int dev = chan_dev_fd();

	return dev < 0 ? dev : chan_do_info(dev, id, CHAN_INFO_NEXT, info);
}

int chan_open_typed(uint32_t id, unsigned int roles, unsigned int flags,
		    uint64_t type_tag)
{
	struct chan_open o = {
		.size = sizeof(o),
		.flags = flags,
		.id = id,
		.roles = roles,
		.type_tag = type_tag,
	};
	int dev = chan_dev_fd();

	if (dev < 0)
		return dev;
	return chan_ioctl(dev, CHAN_IOC_OPEN, &o);
}

int chan_open(uint32_t id, unsigned int roles, unsigned int flags)
{
	return chan_open_typed(id, roles, flags, 0);
}

int chan_close(int fd)
{
	int saved = errno;
	int ret = close(fd);

	if (ret < 0)
		ret = -errno;
	errno = saved;
	return ret;
}
