// SPDX-License-Identifier: GPL-2.0
/*
 * Channel fds (endpoints): anon-inode files returned by CHAN_IOC_OPEN.
 * Each counts as a sender and/or receiver of its channel, so closing it is
 * how peers learn that it left.
 */
#include <linux/anon_inodes.h>
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "chan_private.h"

static const struct file_operations chan_endpoint_fops;

struct chan_endpoint *chan_endpoint_from_file(struct file *file)
{
	return file->f_op == &chan_endpoint_fops ? file->private_data : NULL;
}

static int chan_endpoint_release(struct inode *inode, struct file *file)
{
	struct chan_endpoint *ep = file->private_data;
	struct chan *ch = ep->ch;

	chan_detach(ch, ep->roles);
	ida_free(&ch->tokens, ep->token);
	chan_bounce_free(&ep->bounce);
	kfree(ep);
	chan_obj_destroyed(CHAN_OBJ_ENDPOINT);
	chan_put(ch);
	return 0;
}

static long chan_endpoint_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	return chan_ioctl(file, NULL, file->private_data, cmd, arg);
}

/* write(2): one whole message per call. */
static ssize_t chan_endpoint_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct chan_endpoint *ep = file->private_data;
	struct chan_deadline dl = { .nonblock = file->f_flags & O_NONBLOCK };
	int ret;

	if (!(ep->roles & CHAN_ROLE_SEND))
		return -EBADF;
	if (count > ep->ch->msg_size)
		return -EMSGSIZE;
	ret = chan_send_user(ep->ch, ep->token, &ep->bounce, buf, count, &dl);
	if (ret)
		return ret;
	return count;
}

/* read(2): one whole message per call; -EMSGSIZE if it does not fit. */
static ssize_t chan_endpoint_read(struct file *file, char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct chan_endpoint *ep = file->private_data;
	struct chan_deadline dl = { .nonblock = file->f_flags & O_NONBLOCK };
	u32 len = 0;
	int ret;

	if (!(ep->roles & CHAN_ROLE_RECV))
		return -EBADF;
	ret = chan_recv_user(ep->ch, ep->token, &ep->bounce, buf,
			     min_t(size_t, count, U32_MAX), &len, &dl);
	if (ret)
		return ret;
	return len;
}

static __poll_t chan_endpoint_poll(struct file *file, poll_table *pt)
{
	struct chan_endpoint *ep = file->private_data;
	struct chan *ch = ep->ch;
	__poll_t mask = 0;
	u32 state;

	if (ep->roles & CHAN_ROLE_RECV)
		poll_wait(file, &ch->recv_wq, pt);
	if (ep->roles & CHAN_ROLE_SEND)
		poll_wait(file, &ch->send_wq, pt);
	/* Pairs with the barrier in wq_has_sleeper() of the waker. */
	smp_mb();

	state = chan_state(ch);
	if (state & CHAN_STATE_DESTROYED)
		return EPOLLHUP | EPOLLERR;
	if (ep->roles & CHAN_ROLE_RECV) {
		if (chan_ring_can_recv(&ch->ring.view))
			mask |= EPOLLIN | EPOLLRDNORM;
		else if (state & CHAN_STATE_NO_SENDERS)
			mask |= EPOLLHUP;
	}
	if (ep->roles & CHAN_ROLE_SEND) {
		if (state & CHAN_STATE_NO_RECEIVERS)
			mask |= EPOLLHUP;
		else if (chan_ring_can_send(&ch->ring.view))
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}

static const struct file_operations chan_endpoint_fops = {
	.owner = THIS_MODULE,
	.release = chan_endpoint_release,
	.unlocked_ioctl = chan_endpoint_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.read = chan_endpoint_read,
	.write = chan_endpoint_write,
	.poll = chan_endpoint_poll,
	.llseek = no_llseek,
};

/**
 * chan_endpoint_open() - make a channel fd
 * @ch: the channel (the caller's reference is not consumed)
 * @roles: CHAN_ROLE_* bits, validated
 * @open_flags: CHAN_OPEN_* bits, validated
 *
 * Return: the new fd, or -ENOSPC (no owner token left), -EIDRM, -ENOMEM,
 * -EMFILE...
 */
int chan_endpoint_open(struct chan *ch, u32 roles, u32 open_flags)
{
	struct chan_endpoint *ep;
	int flags = O_RDWR, ret;

	ep = kzalloc(sizeof(*ep), GFP_KERNEL_ACCOUNT);
	if (!ep)
		return -ENOMEM;
	ret = ida_alloc_range(&ch->tokens, CHAN_OWNER_KERNEL + 1,
			      CHAN_SLOT_OWNER_MASK, GFP_KERNEL);
	if (ret < 0)
		goto err_free;
	ep->token = ret;
	ep->roles = roles;
	ep->ch = ch;
	ret = chan_attach(ch, roles);
	if (ret)
		goto err_token;
	kref_get(&ch->ref);

	if (open_flags & CHAN_OPEN_CLOEXEC)
		flags |= O_CLOEXEC;
	if (open_flags & CHAN_OPEN_NONBLOCK)
		flags |= O_NONBLOCK;
	/* Counted first: the fd is live, and may be closed, once installed. */
	chan_obj_created(CHAN_OBJ_ENDPOINT);
	ret = anon_inode_getfd("[chan]", &chan_endpoint_fops, ep, flags);
	if (ret < 0)
		goto err_detach;
	return ret;

err_detach:
	chan_obj_destroyed(CHAN_OBJ_ENDPOINT);
	chan_detach(ch, roles);
	chan_put(ch);
err_token:
	ida_free(&ch->tokens, ep->token);
err_free:
	kfree(ep);
	return ret;
}
