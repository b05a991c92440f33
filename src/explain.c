// SPDX-License-Identifier: GPL-2.0-only
/*
 * Explain: the forecast of a prepare, without making one.
 *
 * iodma_cmd_explain() builds the view a prepare would build, in scratch
 * storage of its own, and runs the dry run of the segment rules over it
 * (segments.c) under the command's limits: whether the range would bounce,
 * why, where the first broken segment starts and how many segments the
 * range would split into.  The command itself is only read.
 */
#include <linux/module.h>
#include "iodma_internal.h"

/*
 * The copy buffer's segments for a range of @length bytes that bounces:
 * counted over the command's own copy buffer when it is large enough and
 * its addresses are known before mapping, else estimated from the cuts
 * (its chunks may join into one contiguous run).
 */
static int explain_bounce(const struct iodma_cmd *cmd, struct iodma_view *v,
			  const struct iodma_limits *lim, u64 length, struct iodma_explain *ex)
{
	u64 unit = min(lim->max_seg, lim->boundary_mask ? lim->boundary_mask + 1 : U64_MAX);
	int ret;

	ex->nsegs = DIV_ROUND_UP(length, unit);
	ex->nsegs_estimated = true;
	/* a backend that maps copy buffers gives their addresses only when mapped */
	if (!cmd->cbuf_md || cmd->cbuf_md->length < length || cmd->ops->map_bounce)
		return 0;
	ret = iodma_view_from_cbuf(v, &cmd->cbuf_md->cbuf, length, GFP_KERNEL);
	if (ret)
		return ret;
	iodma_segments_count(v, lim, length, &ex->nsegs, NULL);
	ex->nsegs_estimated = false;
	return 0;
}

/**
 * iodma_cmd_explain() - foresee, without preparing, how a range would go
 * @cmd: a command that is not prepared
 * @md: the descriptor (it need not be set on @cmd)
 * @offset: first byte in @md
 * @length: bytes, 0 for the rest of @md
 * @ex: filled with the answer
 *
 * Whether iodma_cmd_prepare() of that range would bounce, why (the first
 * rule broken and where), and into how many segments the range would
 * split.  Nothing is mapped or copied, and @cmd does not change: the view
 * is built in scratch memory freed before the return; user memory that is
 * not pinned is pinned for the answer and unpinned.
 *
 * Context: Process context; may sleep.
 * Return: 0; -EINVAL for a NULL argument, a range outside @md or a length
 * that is not a multiple of length_alignment; -ENOSPC for a length above
 * max_transfer_size; -EBUSY if @cmd is prepared; -EFAULT or -ENOMEM when
 * the memory cannot be pinned or viewed.
 */
int iodma_cmd_explain(struct iodma_cmd *cmd, struct iodma_md *md, u64 offset, u64 length,
		      struct iodma_explain *ex)
{
	struct iodma_limits lim;
	struct iodma_view v = {};
	bool in_place;
	int ret;

	might_sleep();
	if (!cmd || !md || !ex)
		return -EINVAL;
	if (cmd->prepared)
		return -EBUSY;
	ret = iodma_cmd_check_range(cmd, md, &offset, &length);
	if (ret)
		return ret;
	ret = iodma_md_wire(md, GFP_KERNEL);
	if (ret)
		return ret;
	in_place = iodma_bounce_in_place(cmd, md);
	iodma_view_init(&v, cmd->dev, cmd->spec.map);
	ret = iodma_view_build(&v, md, offset, length, in_place, GFP_KERNEL);
	if (ret)
		goto out;
	iodma_view_unmapped(&v, md->bus || in_place);

	memset(ex, 0, sizeof(*ex));
	ex->translated = cmd->translated && !md->bus && !in_place;
	lim = cmd->lim;
	lim.addr_limit = cmd->ops->reach(cmd);
	/* behind an IOMMU the physical addresses say nothing of the IOVAs' reach */
	if (ex->translated)
		lim.addr_limit = U64_MAX;
	ex->reason = iodma_segments_count(&v, &lim, length, &ex->nsegs, &ex->bad_offset);
	if (ex->reason == IODMA_BOUNCE_SEGMENTS) {
		/* the count stopped at max_segments: how many it would take */
		lim.max_segs = U64_MAX;
		iodma_segments_count(&v, &lim, length, &ex->nsegs, NULL);
		lim.max_segs = cmd->lim.max_segs;
	}
	if (ex->reason && iodma_bounce_possible(cmd, md, in_place)) {
		lim.addr_limit = cmd->ops->reach(cmd);
		ret = explain_bounce(cmd, &v, &lim, length, ex);
	}
out:
	iodma_view_free(&v);
	iodma_md_complete(md);
	return ret;
}
EXPORT_SYMBOL_GPL(iodma_cmd_explain);
