// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bouncing: the decision whether a prepared range can go to the device as it
 * is, and double buffering through the command's copy buffer when it cannot.
 *
 * The decision is taken once per prepare.  The preflight runs before
 * mapping, where the bus addresses follow from the physical ones (dma-direct,
 * BYPASSED): a dry run of the segment rules over the view (segments.c), or
 * a shortcut when every entry is aligned for every rule.  The postflight runs
 * after mapping, where an IOMMU or a forced swiotlb chose the addresses.
 * When a rule is broken and the command can copy the memory (CPU memory of
 * a BYPASSED or MAPPED command), its own copy buffer (cbuf.c memory, kept
 * between I/Os and grown when needed) stands in for it: the data is copied
 * in for the device and out for the CPU around the I/O, and the segments are
 * the copy buffer's.  Either way the CPU reads after complete what the
 * device wrote (Documentation/design.rst, invariant 3).  A copy buffer is
 * also a memory descriptor: iodma_cmd_create_copy_buffer() hands one to a
 * driver, and a command of the same device uses it in place, with neither
 * mapping nor copy.
 */
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/swiotlb.h>
#include "iodma_internal.h"
#include "trace.h"

static const char * const reason_names[] = {
	[IODMA_BOUNCE_NONE] = "none",
	[IODMA_BOUNCE_ADDRESS] = "address",
	[IODMA_BOUNCE_ALIGNMENT] = "alignment",
	[IODMA_BOUNCE_LENGTH] = "length",
	[IODMA_BOUNCE_INTERNAL] = "internal-alignment",
	[IODMA_BOUNCE_FORCED] = "forced",
	[IODMA_BOUNCE_SEGMENTS] = "segments",
	[IODMA_BOUNCE_GAPS] = "gaps",
};

/**
 * iodma_bounce_reason_name() - a bounce reason as a word
 * @reason: the reason
 *
 * Context: Any context.
 * Return: "none", "address", "alignment", "length", "internal-alignment",
 * "forced", "segments", "gaps", or "unknown".
 */
const char *iodma_bounce_reason_name(enum iodma_bounce_reason reason)
{
	if ((unsigned int)reason >= ARRAY_SIZE(reason_names))
		return "unknown";
	return reason_names[reason];
}
EXPORT_SYMBOL_GPL(iodma_bounce_reason_name);

struct xfer_ctx {
	const struct iodma_cbuf *cb;
	unsigned int ci;	/* chunk of the copy buffer */
	u64 coff;		/* offset in that chunk */
	bool to_cbuf;
	u64 done;
};

/* Copy @n bytes between @va and the copy buffer at the context's position. */
static void xfer_linear(struct xfer_ctx *x, u8 *va, u64 n)
{
	while (n) {
		const struct iodma_cbuf_chunk *c = &x->cb->chunks[x->ci];
		u64 take = min((PAGE_SIZE << c->order) - x->coff, n);
		u8 *cva = page_address(c->page) + x->coff;

		if (x->to_cbuf)
			memcpy(cva, va, take);
		else
			memcpy(va, cva, take);
		va += take;
		n -= take;
		x->done += take;
		x->coff += take;
		if (x->coff == PAGE_SIZE << c->order) {
			x->ci++;
			x->coff = 0;
		}
	}
}

/*
 * One chunk of the descriptor (physically contiguous): without highmem it is
 * in the linear map and is copied in one go; else page by page through
 * kmap_local_page().
 */
static int xfer_chunk(void *arg, const struct iodma_chunk *c)
{
	struct xfer_ctx *x = arg;
	struct page *page = c->page;
	size_t pgoff = c->pgoff;
	u64 left = c->len;

	if (!IS_ENABLED(CONFIG_HIGHMEM)) {
		xfer_linear(x, page_address(page) + pgoff, left);
		return 0;
	}
	while (left) {
		size_t n = min_t(u64, PAGE_SIZE - pgoff, left);
		u8 *va = kmap_local_page(page);

		xfer_linear(x, va + pgoff, n);
		kunmap_local(va);
		left -= n;
		page = nth_page(page, 1);
		pgoff = 0;
	}
	return 0;
}

/*
 * Copy [md_off, md_off + len) of @md into (@to_cbuf) or out of the copy
 * buffer, starting at its first byte.  Returns the bytes copied.
 */
static u64 cbuf_copy(const struct iodma_cbuf *cb, u64 cb_off, struct iodma_md *md, u64 md_off,
		     u64 len, bool to_cbuf)
{
	struct xfer_ctx x = { .cb = cb, .coff = cb_off, .to_cbuf = to_cbuf };

	/* the chunk holding byte @cb_off */
	while (x.ci < cb->n && x.coff >= PAGE_SIZE << cb->chunks[x.ci].order)
		x.coff -= PAGE_SIZE << cb->chunks[x.ci++].order;
	iodma_md_walk(md, md_off, len, xfer_chunk, &x);
	return x.done;
}

/*
 * iodma_bounce_in() - make [@off, @off + @len) of the copy buffer (offsets in
 * the prepared range) hold what the memory holds.  Also for
 * DMA_FROM_DEVICE, as swiotlb does since 6.0: the bytes a device does not
 * write (a partial transfer, an interrupted I/O) then come back unchanged at
 * the copy-out, and never carry an earlier I/O's data.
 */
void iodma_bounce_in(struct iodma_cmd *cmd, u64 off, u64 len)
{
	struct iodma_cbuf *cb = &cmd->cbuf_md->cbuf;
	u64 bytes = cbuf_copy(cb, off, cmd->md, cmd->prep_off + off, len, true);

	cmd->stats.bytes_bounced += bytes;
	trace_iodma_bounce(cmd, cmd->bounce, bytes, true);
	iodma_cbuf_sync(cb, off, len, cmd->md->dir, true);
}

/* iodma_bounce_out() - give the CPU what the device wrote in [@off, @off + @len). */
void iodma_bounce_out(struct iodma_cmd *cmd, u64 off, u64 len)
{
	struct iodma_cbuf *cb = &cmd->cbuf_md->cbuf;
	enum dma_data_direction dir = cmd->md->dir;
	u64 bytes = 0;

	iodma_cbuf_sync(cb, off, len, dir, false);
	if (dir != DMA_TO_DEVICE)
		bytes = cbuf_copy(cb, off, cmd->md, cmd->prep_off + off, len, false);
	cmd->stats.bytes_bounced += bytes;
	trace_iodma_bounce(cmd, cmd->bounce, bytes, false);
}

/* Sync [@off, @off + @len) of the copy buffer while it stands in for the prepared range. */
void iodma_bounce_sync(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len)
{
	iodma_cbuf_sync(&cmd->cbuf_md->cbuf, off, len, cmd->md->dir, for_device);
}

/*
 * The smallest chunk of a copy buffer that holds @len bytes in max_segments
 * segments (1 without that limit): with chunks at least that large, the
 * range touches at most max_segments of them.
 */
static u64 segs_unit(const struct iodma_limits *lim, u64 len)
{
	u64 per;

	if (lim->max_segs == U64_MAX || len <= lim->max_segs)
		return 1;
	per = div64_u64(len - 1, lim->max_segs) + 1;
	return per > BIT_ULL(62) ? BIT_ULL(63) : roundup_pow_of_two(per);
}

/*
 * The rules a copy buffer of @cmd meets for ranges of up to @len bytes: its
 * backend says where the pages come from.
 */
static void cbuf_rules(const struct iodma_cmd *cmd, u64 len, struct iodma_cbuf_rules *r)
{
	const struct iodma_limits *lim = &cmd->lim;
	u64 align = max3(lim->align, lim->int_align, lim->virt_mask + 1);

	*r = (struct iodma_cbuf_rules){
		.limit = lim->addr_limit,
		.align = align,
		.unit = max3(align, lim->len_align, segs_unit(lim, len)),
		.bus_dev = cmd->dev,
	};
	switch (cmd->ops->cbuf) {
	case IODMA_CBUF_DMA_API:
		r->dev = cmd->dev;
		r->zone_fallback = !cmd->translated && iodma_cmd_coherent(cmd);
		break;
	case IODMA_CBUF_PHYS:
		/* the backend maps the chunks: the IOVA gives the reach */
		r->limit = U64_MAX;
		r->bus_dev = NULL;
		break;
	case IODMA_CBUF_ZONE:
		break;
	}
}

/* A copy buffer of @length bytes for @cmd's device, as a descriptor of direction @dir. */
static struct iodma_md *cbuf_md_alloc(const struct iodma_cmd *cmd, enum dma_data_direction dir,
				      u64 length, gfp_t gfp, int *err)
{
	struct iodma_cbuf_rules r;
	struct iodma_cbuf cb;
	struct iodma_md *md;

	cbuf_rules(cmd, length, &r);
	*err = iodma_cbuf_alloc(&cb, &r, length, gfp);
	if (*err)
		return NULL;
	md = iodma_md_from_cbuf(&cb, dir);
	if (!md) {
		iodma_cbuf_free(&cb);
		*err = -ENOMEM;
	}
	return md;
}

/*
 * The most bytes a copy buffer of chunks up to 2^@order pages can carry in
 * max_segments segments: each segment holds at most a cut (max_segment_size,
 * the boundary) and at most one chunk.  U64_MAX without that limit.
 */
u64 iodma_bounce_max_len(const struct iodma_cmd *cmd, unsigned int order)
{
	const struct iodma_limits *lim = &cmd->lim;
	u64 seg = min_t(u64, lim->max_seg, PAGE_SIZE << order), max;

	if (lim->max_segs == U64_MAX)
		return U64_MAX;
	if (lim->boundary_mask)
		seg = min(seg, lim->boundary_mask + 1);
	if (check_mul_overflow(seg, lim->max_segs, &max))
		return U64_MAX;
	return round_down(max, lim->len_align);
}

/*
 * iodma_bounce_reserve() - make the command's own copy buffer hold @len
 * bytes: the only step of bouncing that allocates, and -EAGAIN where @gfp
 * may not block.  The buffer only grows, so a command reused for I/Os of
 * similar sizes allocates once.  With max_segments, its chunks must also be
 * large enough to hold @len in that many segments (-E2BIG where no chunk
 * can be).
 */
int iodma_bounce_reserve(struct iodma_cmd *cmd, u64 len, gfp_t gfp)
{
	u64 unit = segs_unit(&cmd->lim, len);
	struct iodma_md *md;
	int ret;

	if (get_order(unit) > MAX_PAGE_ORDER)
		return -E2BIG;
	if (!cmd->cbuf_md || cmd->cbuf_md->length < len || cmd->cbuf_md->cbuf.unit < unit) {
		if (!gfpflags_allow_blocking(gfp))
			return -EAGAIN;
		md = cbuf_md_alloc(cmd, DMA_BIDIRECTIONAL, len, gfp, &ret);
		if (!md)
			return ret;
		iodma_md_put(cmd->cbuf_md);
		cmd->cbuf_md = md;
	}
	/* the view's ranges for the chunks: one each at most */
	return iodma_view_reserve(&cmd->view, 0, cmd->cbuf_md->cbuf.n, gfp);
}

/*
 * iodma_bounce_fits() - would the command's copy buffer, as reserved, carry
 * the prepared range within max_segments?  Checked on a scratch view, for
 * a switch to the copy buffer that cannot be undone once begun (a forced
 * double buffer in synchronize).  0, -E2BIG or -ENOMEM.
 */
int iodma_bounce_fits(const struct iodma_cmd *cmd)
{
	struct iodma_view v = {};
	int ret;

	if (cmd->lim.max_segs == U64_MAX)
		return 0;
	iodma_view_init(&v, cmd->dev, cmd->spec.map);
	ret = iodma_view_from_cbuf(&v, &cmd->cbuf_md->cbuf, cmd->prep_len, GFP_KERNEL);
	if (!ret && iodma_segments_check(&v, &cmd->lim, cmd->prep_len) == IODMA_BOUNCE_SEGMENTS)
		ret = -E2BIG;
	iodma_view_free(&v);
	return ret;
}

/*
 * A copy-buffer descriptor the command uses as it is: the DMA API's memory
 * of this device for a MAPPED command; for a BYPASSED command, any copy
 * buffer not from the DMA API (its chunk addresses are the bus addresses of
 * zone pages; gen reports any beyond reach).
 */
bool iodma_bounce_in_place(const struct iodma_cmd *cmd, const struct iodma_md *md)
{
	if (md->kind != IODMA_MD_COPYBUF || cmd->spec.map == IODMA_ITERATE_ONLY)
		return false;
	return md->cbuf.dev == (cmd->spec.map == IODMA_MAPPED ? cmd->dev : NULL);
}

/*
 * Can @cmd copy @md's memory?  CPU memory of BYPASSED and MAPPED commands,
 * unless it is a copy buffer used in place.  Iterate-only commands emit the
 * CPU's own addresses and never bounce.
 */
bool iodma_bounce_possible(const struct iodma_cmd *cmd, const struct iodma_md *md,
			   bool in_place)
{
	return cmd->spec.map != IODMA_ITERATE_ONLY && !md->bus && !in_place;
}

/*
 * The preflight's shortcut, for the scatterlist of a MAPPED command, whose
 * bus addresses the dry run reads as the physical ones.  It holds when every
 * entry lies below @reach and every entry's address and length are
 * multiples of the largest alignment rule (the gap rule's block too).  Then
 * no segment can break a rule, provided the cuts that max_segment_size and
 * the boundary make fall on such multiples too; with max_segments, provided
 * nothing is cut and there are no more entries than segments allowed.
 * Otherwise the range goes to the dry run.
 */
static bool view_fits(const struct iodma_cmd *cmd, u64 reach)
{
	const struct iodma_limits *lim = &cmd->lim;
	const struct iodma_view *v = &cmd->view;
	u64 unit = max3(lim->align, lim->int_align, lim->len_align);

	unit = max(unit, lim->virt_mask + 1) - 1;
	if (cmd->spec.map != IODMA_MAPPED || v->src != IODMA_SRC_SG_PHYS ||
	    !v->end || v->end - 1 > reach)
		return false;
	/* uncut, every segment takes at least one entry */
	if (lim->max_segs != U64_MAX &&
	    (v->src_n > lim->max_segs || lim->max_seg < cmd->prep_len || lim->boundary_mask))
		return false;
	return !(v->bits & unit) &&
	       (lim->max_seg >= cmd->prep_len || !(lim->max_seg & unit)) &&
	       (!lim->boundary_mask || !((lim->boundary_mask + 1) & unit));
}

/*
 * iodma_bounce_preflight() - can the prepared range go to the device as it
 * is?  For dma-direct and BYPASSED the bus addresses follow from the
 * physical ones, so this is decided before any mapping is made (a mapping
 * beyond the mask would fail with a warning).  For IODMA_BOUNCE_SEGMENTS,
 * @fit is the bytes that max_segments segments hold.
 */
enum iodma_bounce_reason iodma_bounce_preflight(struct iodma_cmd *cmd, u64 *fit)
{
	if (cmd->force_bounce)
		return IODMA_BOUNCE_FORCED;
	if (!iodma_bounce_possible(cmd, cmd->md, cmd->in_place) || cmd->translated)
		return IODMA_BOUNCE_NONE;
	iodma_view_unmapped(&cmd->view, false);
	if (view_fits(cmd, cmd->lim.addr_limit))
		return IODMA_BOUNCE_NONE;
	return iodma_segments_count(&cmd->view, &cmd->lim, cmd->prep_len, NULL, fit);
}

/*
 * iodma_bounce_postflight() - after mapping: an IOMMU or a forced swiotlb
 * chose the addresses.  Memory the preflight did not judge (memory that
 * cannot be copied, IOVAs of a BYPASSED command) is still counted against
 * max_segments here: IODMA_BOUNCE_SEGMENTS and @fit as for the preflight.
 */
enum iodma_bounce_reason iodma_bounce_postflight(struct iodma_cmd *cmd, u64 *fit)
{
	bool possible = iodma_bounce_possible(cmd, cmd->md, cmd->in_place);
	enum iodma_bounce_reason r;

	if (possible && cmd->spec.map == IODMA_MAPPED &&
	    (cmd->translated || is_swiotlb_force_bounce(cmd->dev)))
		return iodma_segments_count(&cmd->view, &cmd->lim, cmd->prep_len, NULL, fit);
	if ((possible && !cmd->translated) || cmd->lim.max_segs == U64_MAX)
		return IODMA_BOUNCE_NONE;
	/* other rules are gen's to report for memory that cannot be copied */
	r = iodma_segments_count(&cmd->view, &cmd->lim, cmd->prep_len, NULL, fit);
	return r == IODMA_BOUNCE_SEGMENTS ? r : IODMA_BOUNCE_NONE;
}

/*
 * iodma_bounce_start() - point the prepared command at its copy buffer,
 * which iodma_bounce_reserve() has made large enough.  A backend that maps
 * copy buffers itself (an owned domain) maps it here, the one step that can
 * still fail (-ENOMEM, -ENODEV; nothing changed), as can a copy buffer
 * whose segments exceed max_segments (-E2BIG, @fit: the bytes that fit).
 * With @fill, or for memory the device may write, the data is copied in.
 */
int iodma_bounce_start(struct iodma_cmd *cmd, enum iodma_bounce_reason reason, bool fill,
		       gfp_t gfp, u64 *fit)
{
	int ret = iodma_view_from_cbuf(&cmd->view, &cmd->cbuf_md->cbuf, cmd->prep_len, gfp);

	if (WARN_ON_ONCE(ret))
		return ret;
	if (cmd->ops->map_bounce) {
		ret = cmd->ops->map_bounce(cmd, gfp);
		if (ret) {
			cmd->view.src = IODMA_SRC_NONE;
			return ret;
		}
	}
	/* the copy buffer's own segments must fit max_segments too */
	if (cmd->lim.max_segs != U64_MAX &&
	    iodma_segments_count(&cmd->view, &cmd->lim, cmd->prep_len, NULL, fit) ==
	    IODMA_BOUNCE_SEGMENTS) {
		if (cmd->ops->map_bounce)
			cmd->ops->unmap(cmd, DMA_ATTR_SKIP_CPU_SYNC);
		cmd->view.src = IODMA_SRC_NONE;
		return -E2BIG;
	}
	cmd->bounce = reason;
	cmd->stats.bounces++;
	/*
	 * Memory the device may write is copied in too, whatever @fill says:
	 * the copy-out of complete then gives back the bytes the device did not
	 * write unchanged, never an earlier I/O's (see iodma_bounce_in()).
	 */
	if (fill || cmd->md->dir != DMA_TO_DEVICE)
		iodma_bounce_in(cmd, 0, cmd->prep_len);
	return 0;
}

/*
 * iodma_bounce_end() - the last complete of a bounced range: the device
 * loses the copy buffer before the CPU reads it (@synchronize: copy out the
 * first @done bytes, all the device transferred).
 */
void iodma_bounce_end(struct iodma_cmd *cmd, bool synchronize, u64 done)
{
	if (cmd->ops->map_bounce)
		cmd->ops->unmap(cmd, DMA_ATTR_SKIP_CPU_SYNC);
	if (synchronize && done)
		iodma_bounce_out(cmd, 0, done);
	cmd->bounce = IODMA_BOUNCE_NONE;
}

/**
 * iodma_cmd_bounce_reason() - why the prepared range goes through the copy buffer
 * @cmd: the command
 *
 * Context: Any context.
 * Return: IODMA_BOUNCE_NONE when not prepared or not bouncing, else the first
 * rule the memory broke (or IODMA_BOUNCE_FORCED).
 */
enum iodma_bounce_reason iodma_cmd_bounce_reason(const struct iodma_cmd *cmd)
{
	return cmd && cmd->prepared ? cmd->bounce : IODMA_BOUNCE_NONE;
}
EXPORT_SYMBOL_GPL(iodma_cmd_bounce_reason);

/**
 * iodma_cmd_create_copy_buffer() - memory the command never needs to bounce
 * @cmd: the command whose specification the memory must satisfy
 * @dir: DMA direction of the descriptor
 * @length: bytes
 *
 * The memory is reachable by the command's device within addr_bits and laid
 * out in chunks aligned for the specification.  Set on @cmd (or a command of
 * the same device and specification), it is used in place: no mapping, no
 * copy.  IOKit's createCopyBuffer ignores the specification; this does not.
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for a NULL @cmd, @length 0 or a
 * bad @dir, ERR_PTR(-ENOMEM) when no memory within reach is free (always
 * for a @length above the machine's RAM).
 */
struct iodma_md *iodma_cmd_create_copy_buffer(struct iodma_cmd *cmd,
					      enum dma_data_direction dir, u64 length)
{
	struct iodma_md *md;
	int ret;

	might_sleep();
	if (!cmd || !length || !iodma_dir_valid(dir))
		return ERR_PTR(-EINVAL);
	md = cbuf_md_alloc(cmd, dir, length, GFP_KERNEL, &ret);
	if (!md)
		return ERR_PTR(ret);
	md->length = length;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_cmd_create_copy_buffer);
