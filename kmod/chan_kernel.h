/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chan's in-kernel API: channels between kernel code and user space, or
 * between kernel tasks, for other modules (built against chan.ko's
 * Module.symvers). See docs/kernel-api.md; each function's kernel-doc is
 * in kmod/kapi.c.
 *
 * A kernel handle is an endpoint, like a channel fd: it counts as a sender
 * and/or receiver, so that releasing the last sender (receiver) handle or
 * fd disconnects the channel (EPIPE). Every call has the semantics and
 * errnos of the ioctl of the same name, in kernel memory.
 */
#ifndef _CHAN_KERNEL_H
#define _CHAN_KERNEL_H

#include <linux/err.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <uapi/linux/chan.h>

struct ipc_namespace;
struct chan_handle;

/**
 * struct chan_kernel_attr - what chan_kernel_create() makes
 * @flags: CHAN_CREATE_* flags
 * @msg_size: largest message, 1..CHAN_MSG_SIZE_MAX bytes
 * @capacity: messages held, 1..CHAN_CAPACITY_MAX, rounded up to a power
 *	of two
 * @mode: permission bits for user space (0..0777; 0 means 0600)
 * @type_tag: the message type's tag, 0 for none
 * @name: a name unique in the namespace, or NULL (or "") for none
 */
struct chan_kernel_attr {
	u32 flags;
	u32 msg_size;
	u32 capacity;
	u32 mode;
	u64 type_tag;
	const char *name;
};

struct chan_handle *chan_kernel_create(struct ipc_namespace *ipc_ns,
				       const struct chan_kernel_attr *attr,
				       u32 roles);
struct chan_handle *chan_kernel_open(struct ipc_namespace *ipc_ns, u32 id,
				     u32 roles, u64 type_tag);
struct chan_handle *chan_kernel_open_name(struct ipc_namespace *ipc_ns,
					  const char *name, u32 roles,
					  u64 type_tag);
int chan_kernel_lookup(struct ipc_namespace *ipc_ns, const char *name,
		       u32 *idp);
void chan_kernel_release(struct chan_handle *h);
u32 chan_kernel_id(const struct chan_handle *h);
u32 chan_kernel_msg_size(const struct chan_handle *h);
int chan_kernel_send(struct chan_handle *h, const void *buf, u32 len,
		     u32 flags, u64 timeout_ns);
int chan_kernel_recv(struct chan_handle *h, void *buf, u32 size, u32 *lenp,
		     u32 flags, u64 timeout_ns);
int chan_kernel_send_batch(struct chan_handle *h, const struct kvec *vec,
			   u32 count, u32 flags, u64 timeout_ns);
int chan_kernel_recv_batch(struct chan_handle *h, struct kvec *vec,
			   u32 count, u32 flags, u64 timeout_ns);
int chan_kernel_close(struct chan_handle *h);
int chan_kernel_destroy(struct chan_handle *h);
int chan_kernel_info(struct chan_handle *h, struct chan_info *info);
void chan_kernel_shutdown(struct chan_handle *h);

/**
 * chan_kernel_type_tag() - the type tag of a message type
 * @name: the type's name as written, e.g. "struct foo_msg"
 * @size: sizeof() the type
 *
 * 64-bit FNV-1a over the name, then over the size's eight bytes (little
 * end first); never 0. Folded at build time for a constant name. User
 * space that wants to check a kernel channel's type reads the tag with
 * CHAN_IOC_INFO, or computes it the same way.
 *
 * Return: the tag.
 */
static __always_inline u64 chan_kernel_type_tag(const char *name, u64 size)
{
	u64 h = 0xcbf29ce484222325ULL;
	unsigned int i;

	for (; *name; name++)
		h = (h ^ (u8)*name) * 0x100000001b3ULL;
	for (i = 0; i < 8; i++, size >>= 8)
		h = (h ^ (u8)size) * 0x100000001b3ULL;
	return h ? h : 1;
}

/**
 * CHAN_KERNEL_DECLARE_TYPED() - typed channel functions for one type
 * @prefix: the prefix of the generated names
 * @type: the message type: every message is one whole @type
 *
 * In the spirit of `channel::<T>(capacity)`: declares struct prefix_chan
 * (a handle that only these functions take) and static inline
 * prefix_create(), prefix_open(), prefix_open_name(), prefix_release(),
 * prefix_send(c, const type *, flags, timeout_ns) and
 * prefix_recv(c, type *, flags, timeout_ns). Passing a pointer to another
 * type, or another prefix's handle, does not compile
 * (-Werror=incompatible-pointer-types, which every kernel build has).
 * The channel's msg_size is sizeof(@type) and its type tag
 * prefix_type_tag(), from the type's name and size; opening a channel
 * whose tag or msg_size differs fails with -EPROTOTYPE. A message shorter
 * than @type (user space can send one) is taken and reported as
 * -EBADMSG, the buffer's contents then unspecified.
 */
#define CHAN_KERNEL_DECLARE_TYPED(prefix, type)				\
struct prefix##_chan {							\
	struct chan_handle *h;						\
};									\
static inline u64 prefix##_type_tag(void)				\
{									\
	return chan_kernel_type_tag(#type, sizeof(type));		\
}									\
static inline int prefix##_adopt(struct prefix##_chan *c,		\
				 struct chan_handle *h)			\
{									\
	if (IS_ERR(h))							\
		return PTR_ERR(h);					\
	if (chan_kernel_msg_size(h) != sizeof(type)) {			\
		chan_kernel_release(h);					\
		return -EPROTOTYPE;					\
	}								\
	c->h = h;							\
	return 0;							\
}									\
static inline int prefix##_create(struct prefix##_chan *c,		\
				  struct ipc_namespace *ipc_ns,		\
				  const char *name, u32 capacity,	\
				  u32 mode, u32 flags, u32 roles)	\
{									\
	const struct chan_kernel_attr attr = {				\
		.flags = flags,						\
		.msg_size = sizeof(type),				\
		.capacity = capacity,					\
		.mode = mode,						\
		.type_tag = prefix##_type_tag(),			\
		.name = name,						\
	};								\
									\
	return prefix##_adopt(c, chan_kernel_create(ipc_ns, &attr,	\
						    roles));		\
}									\
static inline int prefix##_open(struct prefix##_chan *c,		\
				struct ipc_namespace *ipc_ns, u32 id,	\
				u32 roles)				\
{									\
	return prefix##_adopt(c, chan_kernel_open(ipc_ns, id, roles,	\
						  prefix##_type_tag()));\
}									\
static inline int prefix##_open_name(struct prefix##_chan *c,		\
				     struct ipc_namespace *ipc_ns,	\
				     const char *name, u32 roles)	\
{									\
	return prefix##_adopt(c,					\
			      chan_kernel_open_name(ipc_ns, name, roles,\
						    prefix##_type_tag()));\
}									\
static inline void prefix##_release(struct prefix##_chan *c)		\
{									\
	chan_kernel_release(c->h);					\
	c->h = NULL;							\
}									\
static inline int prefix##_send(struct prefix##_chan *c, const type *msg,\
				u32 flags, u64 timeout_ns)		\
{									\
	return chan_kernel_send(c->h, msg, sizeof(type), flags,		\
				timeout_ns);				\
}									\
static inline int prefix##_recv(struct prefix##_chan *c, type *msg,	\
				u32 flags, u64 timeout_ns)		\
{									\
	u32 len = 0;							\
	int ret = chan_kernel_recv(c->h, msg, sizeof(type), &len, flags,\
				   timeout_ns);				\
									\
	if (!ret && len != sizeof(type))				\
		ret = -EBADMSG;						\
	return ret;							\
}

#endif /* _CHAN_KERNEL_H */
