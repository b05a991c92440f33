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

/* A copy buffer of @length bytes that meets @r, as a descriptor of direction @dir. */
static struct iodma_md *cbuf_md_alloc(const struct iodma_cbuf_rules *r,
				      enum dma_data_direction dir, u64 length, gfp_t gfp, int *err)
{
	struct iodma_cbuf cb;
	struct iodma_md *md;

	*err = iodma_cbuf_alloc(&cb, r, length, gfp);
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

void iodma_budget_init(struct iodma_budget *b)
{
	spin_lock_init(&b->lock);
	init_waitqueue_head(&b->wait);
	INIT_LIST_HEAD(&b->idle);
}

static void budget_charge(struct iodma_budget *b, u64 bytes)
{
	b->bytes += bytes;
	b->high_water = max(b->high_water, b->bytes);
}

/* Under b->lock: @md goes on the idle list. */
static void budget_park(struct iodma_budget *b, struct iodma_md *md)
{
	list_add(&md->cbuf.node, &b->idle);
	b->idle_bytes += md->cbuf.size;
}

/* Under b->lock: @md, charged to @b, is about to be freed. */
static void budget_uncharge(struct iodma_budget *b, struct iodma_md *md)
{
	b->bytes -= md->cbuf.size;
	b->buffers--;
}

/* Free @md, a copy buffer charged to @b and referenced once. */
static void budget_free(struct iodma_budget *b, struct iodma_md *md)
{
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	budget_uncharge(b, md);
	spin_unlock_irqrestore(&b->lock, flags);
	iodma_md_put(md);
	wake_up(&b->wait);
}

/*
 * iodma_bounce_drop() - free the command's copy buffer (set_spec, destroy).
 *
 * Context: Process context.
 */
void iodma_bounce_drop(struct iodma_cmd *cmd)
{
	struct iodma_md *md = cmd->cbuf_md;

	if (!md)
		return;
	cmd->cbuf_md = NULL;
	if (cmd->budget)
		budget_free(cmd->budget, md);
	else
		iodma_md_put(md);
}

/*
 * iodma_bounce_park() - a pool command put back with a budget hands its
 * copy buffer to the budget's idle list, for the next command that needs
 * one: the I/O path moves buffers, it does not free or allocate them.
 *
 * Context: Any context (pool.c calls it under the pool's lock).
 */
void iodma_bounce_park(struct iodma_cmd *cmd)
{
	struct iodma_budget *b = cmd->budget;
	struct iodma_md *md = cmd->cbuf_md;
	unsigned long flags;

	if (!md || !b || !READ_ONCE(b->limit))
		return;
	cmd->cbuf_md = NULL;
	spin_lock_irqsave(&b->lock, flags);
	budget_park(b, md);
	spin_unlock_irqrestore(&b->lock, flags);
	if (wq_has_sleeper(&b->wait))
		wake_up(&b->wait);
}

/*
 * Under b->lock: take the smallest idle copy buffer that meets @r for @len
 * in at most @max_n chunks (any buffer without @r).
 */
static struct iodma_md *budget_take_idle(struct iodma_budget *b,
					 const struct iodma_cbuf_rules *r, u64 len,
					 unsigned int max_n)
{
	struct iodma_md *md, *best = NULL;

	list_for_each_entry(md, &b->idle, cbuf.node) {
		if (r && (md->cbuf.n > max_n || !iodma_cbuf_meets(&md->cbuf, r, len)))
			continue;
		if (!best || md->cbuf.size < best->cbuf.size)
			best = md;
		if (!r)
			break;
	}
	if (best) {
		list_del_init(&best->cbuf.node);
		b->idle_bytes -= best->cbuf.size;
	}
	return best;
}

/*
 * Under b->lock: could a prepare that may sleep, holding @own bytes of
 * buffer and needing @need for @len bytes of @r, go on now?  With room, with
 * an idle buffer that meets @r, or by freeing idle buffers and its own.
 */
static bool budget_can(struct iodma_budget *b, const struct iodma_cbuf_rules *r, u64 len,
		       u64 need, u64 own)
{
	struct iodma_md *md;

	if (b->bytes + need <= b->limit + b->idle_bytes + own)
		return true;
	list_for_each_entry(md, &b->idle, cbuf.node) {
		if (iodma_cbuf_meets(&md->cbuf, r, len))
			return true;
	}
	return false;
}

struct budget_wait {
	struct iodma_budget *b;
	const struct iodma_cbuf_rules *r;
	u64 len, need, own;
};

static bool budget_may_go_on(const struct budget_wait *w)
{
	bool go;

	spin_lock_irq(&w->b->lock);
	go = budget_can(w->b, w->r, w->len, w->need, w->own);
	spin_unlock_irq(&w->b->lock);
	return go;
}

/*
 * Give @cmd a copy buffer that meets @r for @len, within its budget: the
 * smallest idle one that meets them (its own too small one goes idle in
 * its place), else a new one if the budget has room; over the limit, idle
 * buffers and its own are freed where that makes room, else the caller
 * waits until a put or a free does.  Where @gfp does not allow blocking,
 * only an idle buffer the view has room for will do (-EAGAIN, nothing
 * changed).  -ENOBUFS if the budget could never hold the buffer; -EINTR on
 * a fatal signal.
 */
static int budget_get(struct iodma_cmd *cmd, const struct iodma_cbuf_rules *r, u64 len,
		      gfp_t gfp)
{
	bool block = gfpflags_allow_blocking(gfp);
	unsigned int max_n = block ? UINT_MAX : cmd->view.ranges_cap;
	struct iodma_budget *b = cmd->budget;
	struct budget_wait w = { .b = b, .r = r, .len = len,
				 .need = iodma_cbuf_alloc_size(r, len) };
	struct iodma_md *md, *old = cmd->cbuf_md;
	unsigned long flags;
	int ret;

	if (READ_ONCE(b->limit) && w.need > READ_ONCE(b->limit))
		return -ENOBUFS;
	for (;;) {
		spin_lock_irqsave(&b->lock, flags);
		md = budget_take_idle(b, r, len, max_n);
		if (md) {
			if (old)
				budget_park(b, old);
			spin_unlock_irqrestore(&b->lock, flags);
			cmd->cbuf_md = md;
			if (old)
				wake_up(&b->wait);
			return 0;
		}
		if (!block) {
			spin_unlock_irqrestore(&b->lock, flags);
			return -EAGAIN;
		}
		if (!b->limit || b->bytes + w.need <= b->limit)
			break;
		w.own = old ? old->cbuf.size : 0;
		if (budget_can(b, r, len, w.need, w.own)) {
			/* freeing makes room: an idle buffer first, then our own */
			md = budget_take_idle(b, NULL, 0, 0) ?: old;
			budget_uncharge(b, md);
			spin_unlock_irqrestore(&b->lock, flags);
			if (md == old) {
				cmd->cbuf_md = NULL;
				old = NULL;
			}
			iodma_md_put(md);
			wake_up(&b->wait);
			continue;
		}
		b->waits++;
		spin_unlock_irqrestore(&b->lock, flags);
		if (wait_event_killable(b->wait, budget_may_go_on(&w)))
			return -EINTR;
	}
	budget_charge(b, w.need);
	spin_unlock_irqrestore(&b->lock, flags);

	md = cbuf_md_alloc(r, DMA_BIDIRECTIONAL, len, gfp, &ret);
	spin_lock_irqsave(&b->lock, flags);
	/* charged for the most the buffer can take: keep what it took */
	b->bytes -= w.need;
	if (md) {
		b->bytes += md->cbuf.size;
		b->buffers++;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	wake_up(&b->wait);
	if (!md)
		return ret;
	if (WARN_ON_ONCE(md->cbuf.size > w.need)) {
		budget_free(b, md);
		return -ENOMEM;
	}
	iodma_bounce_drop(cmd);
	cmd->cbuf_md = md;
	return 0;
}

/*
 * iodma_bounce_reserve() - make the command's own copy buffer hold @len
 * bytes: the only step of bouncing that allocates, and -EAGAIN where @gfp
 * may not block.  The buffer only grows, so a command reused for I/Os of
 * similar sizes allocates once; a pool's commands share their budget's
 * (see budget_get()).  With max_segments, its chunks must also be large
 * enough to hold @len in that many segments (-E2BIG where no chunk can be).
 */
int iodma_bounce_reserve(struct iodma_cmd *cmd, u64 len, gfp_t gfp)
{
	struct iodma_cbuf_rules r;
	struct iodma_md *md;
	int ret;

	if (get_order(segs_unit(&cmd->lim, len)) > MAX_PAGE_ORDER)
		return -E2BIG;
	cbuf_rules(cmd, len, &r);
	if (!cmd->cbuf_md || !iodma_cbuf_meets(&cmd->cbuf_md->cbuf, &r, len)) {
		if (cmd->budget) {
			ret = budget_get(cmd, &r, len, gfp);
			if (ret)
				return ret;
		} else {
			if (!gfpflags_allow_blocking(gfp))
				return -EAGAIN;
			md = cbuf_md_alloc(&r, DMA_BIDIRECTIONAL, len, gfp, &ret);
			if (!md)
				return ret;
			iodma_md_put(cmd->cbuf_md);
			cmd->cbuf_md = md;
		}
	}
	/* the view's ranges for the chunks: one each at most */
	return iodma_view_reserve(&cmd->view, 0, cmd->cbuf_md->cbuf.n, gfp);
}

/*
 * iodma_budget_trim() - make @limit the budget's limit (0: none) and move
 * idle copy buffers beyond it (all of them for 0) to @excess, uncharged,
 * for iodma_budget_free(); the high water starts again from what is left.
 *
 * Context: Any context; pool.c calls it under the pool's lock, with no
 * command out, so that no I/O takes a buffer in between.
 */
void iodma_budget_trim(struct iodma_budget *b, u64 limit, struct list_head *excess)
{
	struct iodma_md *md;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	b->limit = limit;
	while ((!limit || b->bytes > limit) && (md = budget_take_idle(b, NULL, 0, 0))) {
		budget_uncharge(b, md);
		list_add(&md->cbuf.node, excess);
	}
	b->high_water = b->bytes;
	spin_unlock_irqrestore(&b->lock, flags);
}

/*
 * iodma_budget_free() - free the copy buffers iodma_budget_trim() moved to
 * @list.
 *
 * Context: Process context.
 */
void iodma_budget_free(struct list_head *list)
{
	struct iodma_md *md, *next;

	list_for_each_entry_safe(md, next, list, cbuf.node) {
		list_del_init(&md->cbuf.node);
		iodma_md_put(md);
	}
}

/*
 * iodma_budget_alloc() - a copy buffer for I/Os of up to @len bytes of
 * @tmpl's kind, charged to @b: room permitting with a limit, as an idle
 * buffer (return NULL), else handed to the caller (pool.c gives it to a
 * free command).  @tmpl is the pool's template, never in use: its reach is
 * read again here.  ERR_PTR(-ENOSPC) when a limit leaves no room, or
 * ERR_PTR(-ENOMEM).
 *
 * Context: Process context.
 */
struct iodma_md *iodma_budget_alloc(struct iodma_budget *b, struct iodma_cmd *tmpl, u64 len)
{
	struct iodma_cbuf_rules r;
	struct iodma_md *md;
	bool idle;
	u64 need;
	int ret;

	tmpl->lim.addr_limit = tmpl->ops->reach(tmpl);
	cbuf_rules(tmpl, len, &r);
	need = iodma_cbuf_alloc_size(&r, len);
	spin_lock_irq(&b->lock);
	idle = b->limit;
	if (idle && b->bytes + need > b->limit) {
		spin_unlock_irq(&b->lock);
		return ERR_PTR(-ENOSPC);
	}
	budget_charge(b, need);
	spin_unlock_irq(&b->lock);
	md = cbuf_md_alloc(&r, DMA_BIDIRECTIONAL, len, GFP_KERNEL, &ret);
	spin_lock_irq(&b->lock);
	b->bytes -= need;
	if (md) {
		b->bytes += md->cbuf.size;
		b->buffers++;
		if (idle)
			budget_park(b, md);
	}
	spin_unlock_irq(&b->lock);
	wake_up(&b->wait);
	if (!md)
		return ERR_PTR(ret);
	return idle ? NULL : md;
}

/*
 * iodma_bounce_adopt() - give a free pool command @md (from
 * iodma_budget_alloc()) if it has no copy buffer; false if it has one.
 *
 * Context: Any context; pool.c calls it under the pool's lock.
 */
bool iodma_bounce_adopt(struct iodma_cmd *cmd, struct iodma_md *md)
{
	if (cmd->cbuf_md)
		return false;
	cmd->cbuf_md = md;
	return true;
}

/*
 * iodma_budget_give_back() - free @md (from iodma_budget_alloc()), which
 * no command took.
 *
 * Context: Process context.
 */
void iodma_budget_give_back(struct iodma_budget *b, struct iodma_md *md)
{
	budget_free(b, md);
}

/* How many copy buffers are charged to @b (statistics, and the reservation). */
unsigned int iodma_budget_buffers(struct iodma_budget *b)
{
	return READ_ONCE(b->buffers);
}

/*
 * iodma_bounce_may_need() - could an I/O of this command need its copy
 * buffer?  Only if a rule other than the reach could be broken, or memory
 * beyond its reach can exist: with translation, IOVAs the DMA API picks up
 * to the DMA mask; without, RAM above the reach (dma_get_required_mask()
 * covers all of it, read again when memory is hot-added).
 */
bool iodma_bounce_may_need(const struct iodma_cmd *cmd)
{
	const struct iodma_limits *lim = &cmd->lim;
	u64 reach;

	if (cmd->spec.map == IODMA_ITERATE_ONLY)
		return false;
	if (lim->align > 1 || lim->len_align > 1 || lim->int_align > 1 ||
	    lim->max_segs != U64_MAX || lim->virt_mask)
		return true;
	/* an owned domain's IOVAs are allocated within the spec */
	if (cmd->ops->cbuf == IODMA_CBUF_PHYS)
		return false;
	reach = cmd->ops->reach(cmd);
	if (cmd->translated)
		return reach < dma_get_mask(cmd->dev);
	return reach < dma_get_required_mask(cmd->dev);
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
 * The dry run of the prepared range; where the rules are plain and
 * max_segments is not set, only the reach can be broken, and a scan of
 * the entries decides it (iodma_segments_reachable()).
 */
static enum iodma_bounce_reason dry_run(const struct iodma_cmd *cmd, u64 *fit)
{
	if (cmd->lim.plain && cmd->lim.max_segs == U64_MAX &&
	    iodma_segments_reachable(&cmd->view, &cmd->lim))
		return IODMA_BOUNCE_NONE;
	return iodma_segments_count(&cmd->view, &cmd->lim, cmd->prep_len, NULL, fit);
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
	return dry_run(cmd, fit);
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
		return dry_run(cmd, fit);
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
	struct iodma_cbuf_rules r;
	struct iodma_md *md;
	int ret;

	might_sleep();
	if (!cmd || !length || !iodma_dir_valid(dir))
		return ERR_PTR(-EINVAL);
	/* laid out for the device's reach as it is now (a mask may have narrowed) */
	iodma_cmd_refresh_limits(cmd);
	cbuf_rules(cmd, length, &r);
	md = cbuf_md_alloc(&r, dir, length, GFP_KERNEL, &ret);
	if (!md)
		return ERR_PTR(ret);
	md->length = length;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_cmd_create_copy_buffer);
