/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of iodma: the life of an I/O (set, prepare, bounce, gen,
 * complete) with the command, the descriptor's length and direction, the
 * segment or entry count and the bounce reason.  Enable them with
 * /sys/kernel/tracing/events/iodma/enable.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM iodma

#if !defined(_IODMA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _IODMA_TRACE_H

#include <linux/tracepoint.h>

/* Commands appear by number (iodma_cmd_trace_id()), never by address. */
#include "iodma_internal.h"

TRACE_EVENT(iodma_set_md,
	    TP_PROTO(const struct iodma_cmd *cmd, u64 md_len, int dir, bool auto_prepare, int ret),
	    TP_ARGS(cmd, md_len, dir, auto_prepare, ret),
	    TP_STRUCT__entry(__field(u32, cmd)
			     __field(u64, md_len)
			     __field(int, dir)
			     __field(bool, auto_prepare)
			     __field(int, ret)),
	    TP_fast_assign(__entry->cmd = iodma_cmd_trace_id(cmd);
			   __entry->md_len = md_len;
			   __entry->dir = dir;
			   __entry->auto_prepare = auto_prepare;
			   __entry->ret = ret;),
	    TP_printk("cmd=%u md_len=%llu dir=%d auto_prepare=%d ret=%d", __entry->cmd,
		      __entry->md_len, __entry->dir, __entry->auto_prepare, __entry->ret)
);

TRACE_EVENT(iodma_prepare,
	    TP_PROTO(const struct iodma_cmd *cmd, u64 offset, u64 length, int dir,
		     unsigned int entries, int reason, int ret),
	    TP_ARGS(cmd, offset, length, dir, entries, reason, ret),
	    TP_STRUCT__entry(__field(u32, cmd)
			     __field(u64, offset)
			     __field(u64, length)
			     __field(int, dir)
			     __field(unsigned int, entries)
			     __field(int, reason)
			     __field(int, ret)),
	    TP_fast_assign(__entry->cmd = iodma_cmd_trace_id(cmd);
			   __entry->offset = offset;
			   __entry->length = length;
			   __entry->dir = dir;
			   __entry->entries = entries;
			   __entry->reason = reason;
			   __entry->ret = ret;),
	    TP_printk("cmd=%u offset=%llu length=%llu dir=%d entries=%u bounce=%d ret=%d",
		      __entry->cmd, __entry->offset, __entry->length, __entry->dir,
		      __entry->entries, __entry->reason, __entry->ret)
);

TRACE_EVENT(iodma_bounce,
	    TP_PROTO(const struct iodma_cmd *cmd, int reason, u64 bytes, bool to_device),
	    TP_ARGS(cmd, reason, bytes, to_device),
	    TP_STRUCT__entry(__field(u32, cmd)
			     __field(int, reason)
			     __field(u64, bytes)
			     __field(bool, to_device)),
	    TP_fast_assign(__entry->cmd = iodma_cmd_trace_id(cmd);
			   __entry->reason = reason;
			   __entry->bytes = bytes;
			   __entry->to_device = to_device;),
	    TP_printk("cmd=%u reason=%d bytes=%llu %s", __entry->cmd, __entry->reason,
		      __entry->bytes, __entry->to_device ? "in" : "out")
);

TRACE_EVENT(iodma_gen,
	    TP_PROTO(const struct iodma_cmd *cmd, u64 offset, u32 nsegs, int ret),
	    TP_ARGS(cmd, offset, nsegs, ret),
	    TP_STRUCT__entry(__field(u32, cmd)
			     __field(u64, offset)
			     __field(u32, nsegs)
			     __field(int, ret)),
	    TP_fast_assign(__entry->cmd = iodma_cmd_trace_id(cmd);
			   __entry->offset = offset;
			   __entry->nsegs = nsegs;
			   __entry->ret = ret;),
	    TP_printk("cmd=%u offset=%llu nsegs=%u ret=%d", __entry->cmd, __entry->offset,
		      __entry->nsegs, __entry->ret)
);

/* The last complete of a nest (nest=1) unmaps, copies out and unwires. */
TRACE_EVENT(iodma_complete,
	    TP_PROTO(const struct iodma_cmd *cmd, u64 length, int reason, int ret),
	    TP_ARGS(cmd, length, reason, ret),
	    TP_STRUCT__entry(__field(u32, cmd)
			     __field(u32, nest)
			     __field(u64, length)
			     __field(int, reason)
			     __field(int, ret)),
	    TP_fast_assign(__entry->cmd = iodma_cmd_trace_id(cmd);
			   __entry->nest = cmd->prepared;
			   __entry->length = length;
			   __entry->reason = reason;
			   __entry->ret = ret;),
	    TP_printk("cmd=%u nest=%u length=%llu bounce=%d ret=%d", __entry->cmd,
		      __entry->nest, __entry->length, __entry->reason, __entry->ret)
);

#endif /* _IODMA_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
