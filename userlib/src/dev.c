// SPDX-License-Identifier: MIT
/*
 * The process's /dev/chan fd and the control ioctls that go through it:
 * create, look up, destroy, describe and open channels.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libchan_private.h"

#define CHAN_DEV_PATH	"/dev/" CHAN_DEVICE_NAME

/*
 * The process's /dev/chan fds, one per IPC namespace it used (threads may
 * be in different ones), each with what it was opened as: the device and
 * inode of the file. Each use checks the caller's namespace (a stat() of
 * /proc/thread-self/ns/ipc) and the fd (an fstat()), so that it never goes
 * stale: a daemon that closed every fd (and may have reused the number
 * for something else) or a task that moved to another IPC namespace
 * (unshare, setns) gets a /dev/chan fd of its namespace instead of another
 * file or the old namespace's channels. A number that is no longer ours
 * is forgotten, never closed; an fd is never closed while another thread
 * may use it. Programs that want no such checks open their own fd with
 * chan_dev_open() and use the fd forms (chan_sendmsg() and friends).
 */
#define CHAN_DEV_SLOTS	8

struct chan_dev_slot {
	int fd;		/* -1: free */
	ino_t ns;	/* 0 if /proc could not tell */
	dev_t rdev;
	ino_t ino;
};

static pthread_mutex_t chan_dev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chan_dev_slot chan_dev_slots[CHAN_DEV_SLOTS] = {
	[0 ... CHAN_DEV_SLOTS - 1] = { .fd = -1 },
};

/* The inode of the caller's IPC namespace, or 0 without /proc. */
static ino_t chan_ipc_ns(void)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/ipc", &st))
		return 0;
	return st.st_ino;
}

int chan_dev_open(void)
{
	int saved = errno;
	int fd = open(CHAN_DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fd = -errno;
	errno = saved;
	return fd;
}

/* The slot of namespace @ns, or a free one (or, all taken, the last). */
static struct chan_dev_slot *chan_dev_slot(ino_t ns)
{
	struct chan_dev_slot *free = &chan_dev_slots[CHAN_DEV_SLOTS - 1];
	struct stat st;
	int i;

	for (i = 0; i < CHAN_DEV_SLOTS; i++) {
		struct chan_dev_slot *sl = &chan_dev_slots[i];

		if (sl->fd >= 0 && (fstat(sl->fd, &st) || !S_ISCHR(st.st_mode) ||
				    st.st_rdev != sl->rdev ||
				    st.st_ino != sl->ino))
			sl->fd = -1;	/* closed behind our back */
		if (sl->fd >= 0 && sl->ns == ns)
			return sl;
		if (sl->fd < 0 && free->fd >= 0)
			free = sl;
	}
	/* All taken by other namespaces: the last one's fd is forgotten. */
	return free;
}

int chan_dev_fd(void)
{
	int saved = errno;
	ino_t ns = chan_ipc_ns();
	struct chan_dev_slot *sl;
	struct stat st;
	int fd;

	pthread_mutex_lock(&chan_dev_lock);
	sl = chan_dev_slot(ns);
	if (sl->fd < 0 || sl->ns != ns) {
		fd = chan_dev_open();
		if (fd >= 0 && fstat(fd, &st)) {
			close(fd);
			fd = -EIO;
		}
		if (fd >= 0) {
			sl->fd = fd;
			sl->ns = ns;
			sl->rdev = st.st_rdev;
			sl->ino = st.st_ino;
		}
	} else {
		fd = sl->fd;
	}
	pthread_mutex_unlock(&chan_dev_lock);
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
	/* The caller's struct is of this symbol's version (libchan.map). */
	memcpy(out, &c, CHAN_CREATE_SIZE_V1);
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
	*id = c.out_id;
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
	*id = l.out_id;
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

int chan_close_channel(int fd, uint32_t id, unsigned int flags)
{
	struct chan_close c = { .size = sizeof(c), .flags = flags, .id = id };
	int ret;

	if (fd < 0) {
		fd = chan_dev_fd();
		if (fd < 0)
			return fd;
	}
	ret = chan_ioctl(fd, CHAN_IOC_CLOSE, &c);
	return ret < 0 ? ret : 0;
}

/*
 * INFO with the library's struct, of which the first @copy bytes go to the
 * caller's (whose struct may be of an older version: see libchan.map).
 */
static int chan_do_info(int fd, uint32_t id, uint32_t flags,
			struct chan_info *info, size_t copy)
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
	memcpy(info, &i, copy < sizeof(i) ? copy : sizeof(i));
	return 0;
}

/*
 * Reset a channel's statistics (INFO with CHAN_INFO_RESET, the owner's):
 * its high-water depth restarts from the depth now.
 */
int chan_reset_stats(int fd, uint32_t id)
{
	struct chan_info i;

	if (fd < 0) {
		fd = chan_dev_fd();
		if (fd < 0)
			return fd;
	}
	return chan_do_info(fd, id, CHAN_INFO_RESET, &i, sizeof(i));
}

/* These three are of LIBCHAN_1, whose struct chan_info ended at name. */
int chan_info(uint32_t id, struct chan_info *info)
{
	int dev = chan_dev_fd();

	return dev < 0 ? dev : chan_do_info(dev, id, 0, info,
					    CHAN_INFO_SIZE_V1);
}

int chan_fd_info(int fd, struct chan_info *info)
{
	return chan_do_info(fd, 0, 0, info, CHAN_INFO_SIZE_V1);
}

int chan_info_next(uint32_t id, struct chan_info *info)
{
	int dev = chan_dev_fd();

	return dev < 0 ? dev : chan_do_info(dev, id, CHAN_INFO_NEXT, info,
					    CHAN_INFO_SIZE_V1);
}

int chan_info_ex(int fd, uint32_t id, uint32_t flags, struct chan_info *info,
		 size_t size)
{
	if (!info || size < CHAN_INFO_SIZE_V1)
		return -EINVAL;
	if (fd < 0) {
		fd = chan_dev_fd();
		if (fd < 0)
			return fd;
	}
	return chan_do_info(fd, id, flags, info, size);
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
