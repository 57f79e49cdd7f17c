/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chan's tracepoints (docs/observability.md). Every field is a number: no
 * kernel address is recorded, and no string (whose assignment macro
 * changed between the kernel series). The call sites pass the objects;
 * the fields are read from them in TP_fast_assign(), which runs only
 * while the event is enabled, so a disabled event costs its static branch
 * and nothing more.
 *
 * The macros are laid out the way checkpatch --strict accepts (arguments
 * aligned with the open parenthesis, no line ending in one), not in the
 * usual style of the kernel's trace headers.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM chan

#if !defined(_CHAN_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _CHAN_TRACE_H

#include <linux/tracepoint.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include "chan_private.h"

TRACE_EVENT(chan_create,
	    TP_PROTO(const struct chan *ch),
	    TP_ARGS(ch),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, msg_size)
			     __field(u32, capacity)
			     __field(u32, flags)
			     __field(u32, uid)),
	    TP_fast_assign(__entry->id = ch->id;
			   __entry->msg_size = ch->msg_size;
			   __entry->capacity = ch->ring.view.mask + 1;
			   __entry->flags = ch->flags;
			   __entry->uid = from_kuid_munged(&init_user_ns,
							   ch->uid);),
	    TP_printk("id=%u msg_size=%u capacity=%u flags=0x%x uid=%u",
		      __entry->id, __entry->msg_size, __entry->capacity,
		      __entry->flags, __entry->uid)
);

TRACE_EVENT(chan_destroy,
	    TP_PROTO(const struct chan *ch),
	    TP_ARGS(ch),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u64, discarded)),
	    TP_fast_assign(__entry->id = ch->id;
			   __entry->discarded =
				chan_ring_queued(&ch->ring.view);),
	    TP_printk("id=%u discarded=%llu", __entry->id, __entry->discarded)
);

DECLARE_EVENT_CLASS(chan_endpoint_class,
		    TP_PROTO(const struct chan_endpoint *ep),
		    TP_ARGS(ep),
		    TP_STRUCT__entry(__field(u32, id)
				     __field(u32, roles)
				     __field(u32, token)),
		    TP_fast_assign(__entry->id = ep->ch->id;
				   __entry->roles = ep->roles;
				   __entry->token = ep->token;),
		    TP_printk("id=%u roles=%u token=%u", __entry->id,
			      __entry->roles, __entry->token)
);

DEFINE_EVENT(chan_endpoint_class, chan_open,
	     TP_PROTO(const struct chan_endpoint *ep),
	     TP_ARGS(ep)
);

DEFINE_EVENT(chan_endpoint_class, chan_release,
	     TP_PROTO(const struct chan_endpoint *ep),
	     TP_ARGS(ep)
);

DECLARE_EVENT_CLASS(chan_msg_class,
		    TP_PROTO(const struct chan *ch, u32 len, u64 pos),
		    TP_ARGS(ch, len, pos),
		    TP_STRUCT__entry(__field(u32, id)
				     __field(u32, len)
				     __field(u64, pos)),
		    TP_fast_assign(__entry->id = ch->id;
				   __entry->len = len;
				   __entry->pos = pos;),
		    TP_printk("id=%u len=%u pos=%llu", __entry->id,
			      __entry->len, __entry->pos)
);

DEFINE_EVENT(chan_msg_class, chan_send,
	     TP_PROTO(const struct chan *ch, u32 len, u64 pos),
	     TP_ARGS(ch, len, pos)
);

DEFINE_EVENT(chan_msg_class, chan_recv,
	     TP_PROTO(const struct chan *ch, u32 len, u64 pos),
	     TP_ARGS(ch, len, pos)
);

TRACE_EVENT(chan_wait,
	    TP_PROTO(const struct chan *ch, u32 dir),
	    TP_ARGS(ch, dir),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, dir)),
	    TP_fast_assign(__entry->id = ch->id;
			   __entry->dir = dir;),
	    TP_printk("id=%u dir=%u", __entry->id, __entry->dir)
);

TRACE_EVENT(chan_wake,
	    TP_PROTO(const struct chan *ch, u32 dir, u32 nr),
	    TP_ARGS(ch, dir, nr),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, dir)
			     __field(u32, nr)),
	    TP_fast_assign(__entry->id = ch->id;
			   __entry->dir = dir;
			   __entry->nr = nr;),
	    TP_printk("id=%u dir=%u nr=%u", __entry->id, __entry->dir,
		      __entry->nr)
);

TRACE_EVENT(chan_repair,
	    TP_PROTO(const struct chan_endpoint *ep, u32 tombstoned, u32 freed),
	    TP_ARGS(ep, tombstoned, freed),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, token)
			     __field(u32, tombstoned)
			     __field(u32, freed)),
	    TP_fast_assign(__entry->id = ep->ch->id;
			   __entry->token = ep->token;
			   __entry->tombstoned = tombstoned;
			   __entry->freed = freed;),
	    TP_printk("id=%u token=%u tombstoned=%u freed=%u", __entry->id,
		      __entry->token, __entry->tombstoned, __entry->freed)
);

TRACE_EVENT(chan_drop,
	    TP_PROTO(const struct chan *ch, u32 reason, u32 count),
	    TP_ARGS(ch, reason, count),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, reason)
			     __field(u32, count)),
	    TP_fast_assign(__entry->id = ch->id;
			   __entry->reason = reason;
			   __entry->count = count;),
	    TP_printk("id=%u reason=%u count=%u", __entry->id,
		      __entry->reason, __entry->count)
);

#endif /* _CHAN_TRACE_H */

/* Outside the guard: define_trace.h reads the header again. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE chan_trace
#include <trace/define_trace.h>
