// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/chan and the ioctl dispatch shared with channel fds.
 *
 * Every ioctl struct begins with "__u32 size; __u32 flags;" and is read
 * with copy_struct_from_user(): shorter than the command's first version
 * -> EINVAL, a shorter one of a later version zero-extended, a non-zero
 * tail we do not know -> E2BIG. Output is copied back up to the size user
 * space gave.
 */
#include <linux/build_bug.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "chan_private.h"
#include "chan_trace.h"

static_assert(sizeof(struct chan_ring_geom) == 40);
static_assert(sizeof(struct chan_create) == 152);
static_assert(sizeof(struct chan_open) == 32);
static_assert(sizeof(struct chan_wake) == 16);
static_assert(sizeof(struct chan_iov) == 16);
static_assert(sizeof(struct chan_batch) == 32);
static_assert(sizeof(struct chan_call) == 56);
static_assert(sizeof(struct chan_msg) == 40);
static_assert(offsetofend(struct chan_msg, timeout_ns) == 32);
static_assert(sizeof(struct chan_destroy) == 16);
static_assert(sizeof(struct chan_close) == 16);
static_assert(sizeof(struct chan_info) == 208);
static_assert(offsetofend(struct chan_info, name) == 176);
static_assert(offsetofend(struct chan_info, corrupt) == 192);
static_assert(sizeof(struct chan_lookup) == 80);
static_assert(sizeof(struct chan_slot) == CHAN_SLOT_HDR_SIZE);
static_assert(sizeof(struct chan_ring_kstate) == 16);
static_assert(offsetof(struct chan_ring_hdr, tail) == 64);
static_assert(offsetof(struct chan_ring_hdr, head) == 128);
static_assert(offsetof(struct chan_ring_hdr, user_skipped) == 136);
static_assert(offsetof(struct chan_ring_hdr, user_corrupt) == 144);
static_assert(offsetof(struct chan_ring_hdr, kstate) == 192);
static_assert(sizeof(struct chan_ring_hdr) <= CHAN_RING_HDR_MIN);
static_assert(CHAN_RING_HDR_MIN % CHAN_RING_ALIGN == 0);
static_assert(CHAN_RING_HDR_SIZE % CHAN_RING_ALIGN == 0);
/* The fast path's high-water word: its own line, past the header struct. */
static_assert(sizeof(struct chan_ring_hdr) <= CHAN_RING_MAX_DEPTH_OFFSET);
static_assert(CHAN_RING_MAX_DEPTH_OFFSET % CHAN_RING_ALIGN == 0);
static_assert(CHAN_RING_MAX_DEPTH_OFFSET + 8 <= CHAN_RING_HDR_SIZE);

/* Copy the kernel's struct back, as far as the user's size reaches. */
int chan_ucmd_respond(struct chan_ucmd *ucmd, size_t ksize)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, ksize)))
		return -EFAULT;
	return 0;
}

/*
 * The channel a call names: its own on a channel fd (id must be 0), else
 * by ID in the file's namespace. Give it back with chan_ucmd_put().
 *
 * A channel fd's channel needs no reference of its own: the endpoint holds
 * one, and the file cannot be released while its ioctl runs. This keeps
 * the shared reference count out of the fd path's cache traffic.
 */
struct chan *chan_ucmd_chan(struct chan_ucmd *ucmd, u32 id)
{
	struct chan *ch;

	if (ucmd->ep)
		return id ? ERR_PTR(-EINVAL) : ucmd->ep->ch;
	ch = chan_lookup(ucmd->cf->ns, id);
	return ch ? ch : ERR_PTR(-ENOENT);
}

void chan_ucmd_put(struct chan_ucmd *ucmd, struct chan *ch)
{
	if (!ucmd->ep)
		chan_put(ch);
}

static int chan_cmd_create(struct chan_ucmd *ucmd)
{
	struct chan_create *c = ucmd->cmd;
	struct chan *ch;
	int ret;

	ch = chan_new(ucmd->cf->ns, c);
	if (IS_ERR(ch))
		return PTR_ERR(ch);

	c->out_id = ch->id;
	c->out_features = CHAN_FEATURES;
	memset(&c->out_ring, 0, sizeof(c->out_ring));
	c->out_ring.msg_size = ch->ring.view.msg_size;
	c->out_ring.slot_size = ch->ring.view.slot_size;
	c->out_ring.capacity = ch->ring.view.mask + 1;
	c->out_ring.slots_offset = chan_ring_slots_offset(&ch->ring);
	c->out_ring.tail_offset = offsetof(struct chan_ring_hdr, tail);
	c->out_ring.head_offset = offsetof(struct chan_ring_hdr, head);
	c->out_ring.kstate_offset = offsetof(struct chan_ring_hdr, kstate);
	c->out_ring.map_size = ch->ring.size;

	/* A channel nobody can name would leak: undo it. */
	ret = chan_ucmd_respond(ucmd, sizeof(*c));
	if (ret)
		chan_destroy(ch);
	chan_put(ch);
	return ret;
}

#define CHAN_ROLES	(CHAN_ROLE_SEND | CHAN_ROLE_RECV)

static int chan_cmd_open(struct chan_ucmd *ucmd)
{
	struct chan_open __user *uo = ucmd->ubuffer;
	struct chan_open *o = ucmd->cmd;
	u32 __user *token_out = NULL;
	struct chan *ch;
	int ret;

	if (o->flags & ~(CHAN_OPEN_NONBLOCK | CHAN_OPEN_CLOEXEC))
		return -EOPNOTSUPP;
	if (!o->roles || (o->roles & ~CHAN_ROLES) || o->__reserved)
		return -EINVAL;
	/* A caller built before out_token existed does not get it. */
	if (ucmd->user_size >= offsetofend(struct chan_open, out_token))
		token_out = &uo->out_token;
	ch = chan_lookup(ucmd->cf->ns, o->id);
	if (!ch)
		return -ENOENT;
	/* Permission first: the type tag is no one else's business. */
	if (!chan_permitted(ch, o->roles, true))
		ret = -EACCES;
	else if (o->type_tag && o->type_tag != ch->type_tag)
		ret = -EPROTOTYPE;
	else
		ret = chan_endpoint_open(ch, o->roles, o->flags,
					 chan_is_owner(ch, false),
					 ch->ring.mappable &&
					 chan_permitted(ch, CHAN_ROLES, false),
					 token_out);
	chan_put(ch);
	return ret;
}

static int chan_cmd_destroy(struct chan_ucmd *ucmd)
{
	struct chan_destroy *d = ucmd->cmd;
	struct chan *ch;
	int ret;

	if (d->flags)
		return -EOPNOTSUPP;
	if (d->__reserved)
		return -EINVAL;
	ch = chan_lookup(ucmd->cf->ns, d->id);
	if (!ch)
		return -ENOENT;
	ret = chan_is_owner(ch, true) ? chan_destroy(ch) : -EPERM;
	chan_put(ch);
	return ret;
}

/*
 * Close a channel for sending (struct chan_close): a sender endpoint may,
 * on its fd; the owner may, by ID or on any endpoint. Only the owner may
 * reopen it (CHAN_CLOSE_REOPEN), so that a writer it does not trust
 * cannot end its stream for good.
 */
static int chan_cmd_close(struct chan_ucmd *ucmd)
{
	struct chan_close *c = ucmd->cmd;
	bool reopen = c->flags & CHAN_CLOSE_REOPEN;
	struct chan *ch;
	int ret;

	if (c->flags & ~CHAN_CLOSE_REOPEN)
		return -EOPNOTSUPP;
	if (c->__reserved)
		return -EINVAL;
	ch = chan_ucmd_chan(ucmd, c->id);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	if ((!reopen && ucmd->ep && (ucmd->ep->roles & CHAN_ROLE_SEND)) ||
	    chan_is_owner(ch, true))
		ret = chan_close(ch, reopen);
	else
		ret = -EPERM;
	chan_ucmd_put(ucmd, ch);
	return ret;
}

/*
 * The channel with the lowest ID >= @id that the caller may read, for
 * enumeration: the others are skipped, as if they were not there.
 */
static struct chan *chan_lookup_next_readable(struct chan_ns *ns, u32 id)
{
	struct chan *ch;

	while ((ch = chan_lookup_next(ns, id))) {
		if (chan_permitted(ch, CHAN_ROLE_RECV, false))
			return ch;
		id = ch->id + 1;
		chan_put(ch);
		cond_resched();
	}
	return NULL;
}

/*
 * INFO needs read permission, as System V's IPC_STAT does; on a channel
 * fd the fd itself is the permission. INFO_NEXT lists only the channels
 * the caller may read. INFO_RESET (the owner's, by ID or on a channel fd)
 * restarts the statistics first.
 */
static int chan_cmd_info(struct chan_ucmd *ucmd)
{
	struct chan_info *info = ucmd->cmd;
	struct chan *ch;
	u32 flags = info->flags;
	int ret;

	if (flags & ~(CHAN_INFO_NEXT | CHAN_INFO_RESET))
		return -EOPNOTSUPP;
	if (info->__reserved || info->__reserved2 || info->__reserved3)
		return -EINVAL;
	if ((flags & CHAN_INFO_NEXT) && (flags & CHAN_INFO_RESET))
		return -EINVAL;
	if (flags & CHAN_INFO_NEXT) {
		if (ucmd->ep)
			return -EINVAL;
		ch = chan_lookup_next_readable(ucmd->cf->ns, info->id);
		if (!ch)
			return -ENOENT;
	} else {
		ch = chan_ucmd_chan(ucmd, info->id);
		if (IS_ERR(ch))
			return PTR_ERR(ch);
		if (!ucmd->ep && !chan_permitted(ch, CHAN_ROLE_RECV, true)) {
			chan_put(ch);
			return -EACCES;
		}
		if (flags & CHAN_INFO_RESET) {
			if (!chan_is_owner(ch, true)) {
				chan_ucmd_put(ucmd, ch);
				return -EPERM;
			}
			chan_reset_stats(ch);
		}
	}
	memset(info, 0, sizeof(*info));
	info->size = ucmd->user_size;
	info->flags = flags;
	chan_fill_info(ch, info);
	chan_ucmd_put(ucmd, ch);	/* CHAN_INFO_NEXT is only on /dev/chan */
	ret = chan_ucmd_respond(ucmd, sizeof(*info));
	return ret;
}

static int chan_cmd_lookup(struct chan_ucmd *ucmd)
{
	struct chan_lookup *l = ucmd->cmd;
	struct chan *ch;
	int ret;

	if (l->flags)
		return -EOPNOTSUPP;
	if (l->__reserved)
		return -EINVAL;
	ret = chan_validate_name(l->name);
	if (ret)
		return ret;
	if (!l->name[0])
		return -EINVAL;
	ch = chan_lookup_name(ucmd->cf->ns, l->name);
	if (!ch)
		return -ENOENT;
	if (chan_permitted(ch, 0, true)) {
		l->out_id = ch->id;
		ret = chan_ucmd_respond(ucmd, sizeof(*l));
	} else {
		ret = -EACCES;
	}
	chan_put(ch);
	return ret;
}

/*
 * The doorbell of the fast path: wake a waiter of each direction asked
 * for. A needless wake-up costs only time, so any endpoint, and anyone who
 * may read or write the channel by ID, may ring it.
 */
static int chan_cmd_wake(struct chan_ucmd *ucmd)
{
	struct chan_wake *w = ucmd->cmd;
	struct chan *ch;
	int ret = 0;

	if (w->flags)
		return -EOPNOTSUPP;
	if (!w->roles || (w->roles & ~CHAN_ROLES))
		return -EINVAL;
	ch = chan_ucmd_chan(ucmd, w->id);
	if (IS_ERR(ch))
		return PTR_ERR(ch);
	if (!ucmd->ep && !chan_permitted(ch, 0, true)) {
		ret = -EACCES;
	} else if (chan_state(ch) & CHAN_STATE_DESTROYED) {
		ret = -EIDRM;
	} else {
		if (w->roles & CHAN_ROLE_RECV)
			chan_wake_dir(ch, CHAN_DIR_RECV);
		if (w->roles & CHAN_ROLE_SEND)
			chan_wake_dir(ch, CHAN_DIR_SEND);
	}
	chan_ucmd_put(ucmd, ch);
	return ret;
}

union chan_ucmd_buffer {
	struct chan_create create;
	struct chan_open open;
	struct chan_msg msg;
	struct chan_destroy destroy;
	struct chan_info info;
	struct chan_lookup lookup;
	struct chan_wake wake;
	struct chan_batch batch;
	struct chan_call call;
	struct chan_close close;
};

/*
 * Read a command's struct into dst (ksize bytes) and set *usizep to the
 * size user space gave. The common case, a struct of exactly the size this
 * module knows, is one copy of a constant size (which hardened usercopy
 * checks at build time); anything else, including a copy that faulted,
 * takes the exact rules: unreadable size -> EFAULT, shorter than the
 * command's first version (min_size) -> EINVAL, then
 * copy_struct_from_user(): a shorter struct of a later version is
 * zero-extended, a longer one must have a zero tail (E2BIG), EFAULT.
 */
static __always_inline int chan_copy_in(void *dst, size_t ksize,
					size_t min_size,
					const void __user *src, u32 *usizep)
{
	u32 usize;

	if (likely(!copy_from_user(dst, src, ksize))) {
		usize = *(u32 *)dst;
		if (likely(usize == ksize)) {
			*usizep = usize;
			return 0;
		}
	}
	if (get_user(usize, (const u32 __user *)src))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	*usizep = usize;
	return copy_struct_from_user(dst, ksize, src, usize);
}

/**
 * struct chan_ioctl_op - how to run one command
 * @copy_in: reads the struct (chan_copy_in() at the struct's size and
 *	the minimum size of its first version)
 * @on_endpoint: also valid on a channel fd
 * @execute: the handler
 */
struct chan_ioctl_op {
	int (*copy_in)(void *dst, const void __user *src, u32 *usizep);
	bool on_endpoint;
	int (*execute)(struct chan_ucmd *ucmd);
};

/*
 * The reader of one command's struct. @_min is the size of the struct's
 * first version, up to and including its last field, which fixes the
 * shortest struct accepted forever (as iommufd's IOCTL_OP does): when a
 * struct grows, binaries built with an older, shorter one keep working,
 * zero-extended. struct chan_open is at its second version (out_token),
 * struct chan_msg at its second (lost), struct chan_info at its third
 * (mappers, corrupt; max_depth, lost).
 */
#define CHAN_COPY_IN(_struct, _min)					\
static int chan_copy_in_##_struct(void *dst, const void __user *src,	\
				  u32 *usizep)				\
{									\
	return chan_copy_in(dst, sizeof(struct _struct), _min, src,	\
			    usizep);					\
}

CHAN_COPY_IN(chan_create, offsetofend(struct chan_create, out_ring))
CHAN_COPY_IN(chan_open, offsetofend(struct chan_open, type_tag))
CHAN_COPY_IN(chan_msg, offsetofend(struct chan_msg, timeout_ns))
CHAN_COPY_IN(chan_destroy, offsetofend(struct chan_destroy, __reserved))
CHAN_COPY_IN(chan_info, offsetofend(struct chan_info, name))
CHAN_COPY_IN(chan_lookup, offsetofend(struct chan_lookup, __reserved))
CHAN_COPY_IN(chan_wake, offsetofend(struct chan_wake, roles))
CHAN_COPY_IN(chan_batch, offsetofend(struct chan_batch, timeout_ns))
CHAN_COPY_IN(chan_call, offsetofend(struct chan_call, timeout_ns))
CHAN_COPY_IN(chan_close, offsetofend(struct chan_close, __reserved))

#define CHAN_IOCTL_OP(_nr, _struct, _endpoint, _fn)			\
	[_nr] = {							\
		.copy_in = chan_copy_in_##_struct,			\
		.on_endpoint = _endpoint,				\
		.execute = _fn,						\
	}

static const struct chan_ioctl_op chan_ioctl_ops[] = {
	CHAN_IOCTL_OP(CHAN_CMD_CREATE, chan_create, false, chan_cmd_create),
	CHAN_IOCTL_OP(CHAN_CMD_OPEN, chan_open, false, chan_cmd_open),
	CHAN_IOCTL_OP(CHAN_CMD_SEND, chan_msg, true, chan_cmd_send),
	CHAN_IOCTL_OP(CHAN_CMD_RECV, chan_msg, true, chan_cmd_recv),
	CHAN_IOCTL_OP(CHAN_CMD_DESTROY, chan_destroy, false, chan_cmd_destroy),
	CHAN_IOCTL_OP(CHAN_CMD_INFO, chan_info, true, chan_cmd_info),
	CHAN_IOCTL_OP(CHAN_CMD_LOOKUP, chan_lookup, false, chan_cmd_lookup),
	CHAN_IOCTL_OP(CHAN_CMD_WAKE, chan_wake, true, chan_cmd_wake),
	CHAN_IOCTL_OP(CHAN_CMD_SEND_BATCH, chan_batch, true,
		      chan_cmd_send_batch),
	CHAN_IOCTL_OP(CHAN_CMD_RECV_BATCH, chan_batch, true,
		      chan_cmd_recv_batch),
	CHAN_IOCTL_OP(CHAN_CMD_CALL, chan_call, true, chan_cmd_call),
	CHAN_IOCTL_OP(CHAN_CMD_CLOSE, chan_close, true, chan_cmd_close),
};

/**
 * chan_ioctl() - run an ioctl from /dev/chan or a channel fd
 * @file: the file
 * @cf: the /dev/chan state, or NULL
 * @ep: the endpoint, or NULL
 * @cmd: the ioctl command
 * @arg: the user's struct
 *
 * Return: >= 0 on success (OPEN returns an fd), or -errno.
 */
long chan_ioctl(struct file *file, struct chan_file *cf,
		struct chan_endpoint *ep, unsigned int cmd, unsigned long arg)
{
	union chan_ucmd_buffer buf __uninitialized;
	const struct chan_ioctl_op *op;
	struct chan_ucmd ucmd = {
		.cf = cf,
		.ep = ep,
		.file = file,
		.ubuffer = (void __user *)arg,
		.cmd = &buf,
	};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (_IOC_TYPE(cmd) != CHAN_IOC_TYPE || _IOC_DIR(cmd) != _IOC_NONE ||
	    _IOC_SIZE(cmd) || nr >= ARRAY_SIZE(chan_ioctl_ops))
		return -ENOTTY;
	/* Spectre v1: no speculative read past the table with a user index. */
	op = &chan_ioctl_ops[array_index_nospec(nr, ARRAY_SIZE(chan_ioctl_ops))];
	if (!op->execute || (ep && !op->on_endpoint))
		return -ENOTTY;

	ret = op->copy_in(ucmd.cmd, ucmd.ubuffer, &ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}

/*
 * Runs under the kernel-wide misc_mtx: nothing here resolves a path or
 * waits for anything a user controls (see ns.c).
 */
static int chan_dev_open(struct inode *inode, struct file *file)
{
	struct chan_file *cf;
	struct chan_ns *ns;

	cf = kzalloc(sizeof(*cf), GFP_KERNEL_ACCOUNT);
	if (!cf)
		return -ENOMEM;
	ns = chan_ns_get_current();
	if (IS_ERR(ns)) {
		kfree(cf);
		return PTR_ERR(ns);
	}
	/* The namespace lives while a file of it can name its channels. */
	chan_ns_pin_ipc(ns);
	cf->ns = ns;
	file->private_data = cf;
	chan_obj_created(CHAN_OBJ_FILE);
	return 0;
}

static int chan_dev_release(struct inode *inode, struct file *file)
{
	struct chan_file *cf = file->private_data;

	chan_bounce_free(&cf->bounce);
	chan_ns_unpin_ipc(cf->ns);
	chan_ns_put(cf->ns);
	kfree(cf);
	chan_obj_destroyed(CHAN_OBJ_FILE);
	return 0;
}

static long chan_dev_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	return chan_ioctl(file, file->private_data, NULL, cmd, arg);
}

static const struct file_operations chan_dev_fops = {
	.owner = THIS_MODULE,
	.open = chan_dev_open,
	.release = chan_dev_release,
	.unlocked_ioctl = chan_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice chan_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = CHAN_DEVICE_NAME,
	.fops = &chan_dev_fops,
	.mode = 0666,
};

int chan_dev_init(void)
{
	return misc_register(&chan_miscdev);
}

void chan_dev_exit(void)
{
	misc_deregister(&chan_miscdev);
}
