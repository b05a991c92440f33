// SPDX-License-Identifier: GPL-2.0-only
/*
 * Views: the prepared range as a list of entries a backend can map and the
 * segment cursor can walk.
 *
 * CPU memory becomes a scatterlist whose entries merge physically contiguous
 * chunks of the descriptor's walk, each no longer than the backend maps in
 * one piece (swiotlb caps a mapping) and never across the device's segment
 * boundary.  Bus memory, and copy buffers used in place, become an array of
 * bus ranges; so do a bounce's copy-buffer chunks.  The storage is kept
 * between prepares and only grows, so a command reused for I/Os of a similar
 * shape does not allocate: with room from an earlier I/O (pools always have
 * it) one walk fills the view; otherwise a first walk counts the entries.
 *
 * A view knows descriptors, copy buffers and the DMA parameters of a device;
 * it knows nothing of commands.  The backends (map_*.c) turn it into bus
 * addresses by setting its source.
 */
#include <linux/bvec.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include "iodma_internal.h"

/**
 * iodma_view_init() - an empty view for a command of @dev and map type @map
 * @v: the view
 * @dev: the device
 * @map: the command's map type
 */
void iodma_view_init(struct iodma_view *v, struct device *dev, enum iodma_map_type map)
{
	v->map_dev = map == IODMA_MAPPED ? dev : NULL;
	v->bus_dev = map == IODMA_BYPASSED ? dev : NULL;
	v->src = IODMA_SRC_NONE;
	iodma_view_refresh(v);
}

/**
 * iodma_view_refresh() - read the device's largest mapping again
 * @v: the view
 *
 * dma_max_mapping_size() follows from the DMA mask, the bus limit and the
 * memory present (swiotlb caps a mapping where the mask limits the device):
 * the view's owner calls this when one of them changed.
 */
void iodma_view_refresh(struct iodma_view *v)
{
	v->map_max = v->map_dev ? dma_max_mapping_size(v->map_dev) : SIZE_MAX;
}

/* Free the view's storage. */
void iodma_view_free(struct iodma_view *v)
{
	if (v->sgt_cap) {
		/* sg_free_table() needs the allocated count to find the chain */
		v->sgt.orig_nents = v->sgt_cap;
		sg_free_table(&v->sgt);
		v->sgt_cap = 0;
	}
	kfree(v->ranges);
	v->ranges = NULL;
	v->ranges_cap = 0;
	v->src = IODMA_SRC_NONE;
}

/* Make room for @n scatterlist entries; on failure the old table stays. */
static int reserve_sg(struct iodma_view *v, unsigned int n, gfp_t gfp)
{
	struct sg_table t;
	int ret;

	if (n <= v->sgt_cap)
		return 0;
	if (!gfpflags_allow_blocking(gfp))
		return -EAGAIN;
	n = round_up(n, 32);
	if (iodma_should_fail(n * sizeof(struct scatterlist)))
		return -ENOMEM;
	ret = sg_alloc_table(&t, n, gfp);
	if (ret)
		return ret;
	if (v->sgt_cap) {
		v->sgt.orig_nents = v->sgt_cap;
		sg_free_table(&v->sgt);
	}
	v->sgt = t;
	v->sgt_cap = n;
	v->sgt_end = sg_last(t.sgl, n);
	return 0;
}

/* Make room for @n ranges; on failure the old array stays. */
static int reserve_ranges(struct iodma_view *v, unsigned int n, gfp_t gfp)
{
	struct iodma_range *r;

	if (n <= v->ranges_cap)
		return 0;
	if (!gfpflags_allow_blocking(gfp))
		return -EAGAIN;
	n = round_up(n, 8);
	if (iodma_should_fail(n * sizeof(*r)))
		return -ENOMEM;
	r = kmalloc_array(n, sizeof(*r), gfp);
	if (!r)
		return -ENOMEM;
	kfree(v->ranges);
	v->ranges = r;
	v->ranges_cap = n;
	return 0;
}

/**
 * iodma_view_reserve() - room for @sg scatterlist entries and @ranges ranges
 * @v: the view
 * @sg: scatterlist entries
 * @ranges: bus ranges
 * @gfp: GFP_KERNEL, or a context that may not block (then -EAGAIN where
 *	room is missing)
 *
 * Return: 0, -EAGAIN or -ENOMEM; what was there stays on failure.
 */
int iodma_view_reserve(struct iodma_view *v, unsigned int sg, unsigned int ranges, gfp_t gfp)
{
	int ret = reserve_sg(v, sg, gfp);

	return ret ? ret : reserve_ranges(v, ranges, gfp);
}

/* A walk that counts (@fill false) or fills the view's storage. */
struct view_ctx {
	struct iodma_view *view;
	struct scatterlist *sg;	/* last entry written */
	unsigned int n;		/* entries used */
	unsigned int cap;	/* fill: entries there is room for */
	u64 max_entry;
	u64 boundary;		/* entries never cross (boundary + 1) lines */
	u64 open_len;		/* length of the last entry */
	u64 end;		/* address just past the last entry */
	u64 bits;		/* OR of every entry's address and length */
	u64 max_end;		/* highest end of an entry */
	bool fill;
};

/*
 * The entry is reused from an earlier mapping: nothing of it may survive,
 * least of all a flag by which dma-iommu would unmap and sync it as one of
 * its swiotlb bounces (SG_DMA_SWIOTLB is set on map and never cleared).
 */
static void sg_clear_dma(struct scatterlist *sg)
{
	sg_dma_address(sg) = 0;
#ifdef CONFIG_NEED_SG_DMA_LENGTH
	sg->dma_length = 0;
#endif
#ifdef CONFIG_NEED_SG_DMA_FLAGS
	sg->dma_flags = 0;
#endif
}

/*
 * Add [@phys, @phys + @left), physically contiguous CPU memory, to the walk:
 * merged into the last entry where it continues it, else in new entries,
 * cut at the entry limits.
 */
static int view_add_phys(struct view_ctx *v, phys_addr_t phys, u64 left)
{
	while (left) {
		u64 room = (phys | v->boundary) - phys + 1;
		bool merge = v->n && phys == v->end && v->open_len < v->max_entry &&
			     (phys & v->boundary);
		u64 take;

		if (!room)	/* boundary of all ones: no line to cross */
			room = U64_MAX;
		if (merge) {
			take = min3(left, v->max_entry - v->open_len, room);
			v->open_len += take;
			if (v->fill)
				v->sg->length = v->open_len;
		} else {
			take = min3(left, v->max_entry, room);
			v->open_len = take;
			if (v->fill) {
				if (v->n == v->cap)
					return -ENOSPC;
				v->sg = v->n ? iodma_sg_next(v->sg) : v->view->sgt.sgl;
				sg_set_page(v->sg, pfn_to_page(PHYS_PFN(phys)), take,
					    offset_in_page(phys));
				sg_clear_dma(v->sg);
			}
			v->n++;
			v->bits |= phys;
		}
		phys += take;
		left -= take;
		v->end = phys;
		v->bits |= v->open_len;
	}
	v->max_end = max(v->max_end, v->end);
	return 0;
}

static int view_sg_chunk(void *arg, const struct iodma_chunk *c)
{
	return view_add_phys(arg, page_to_phys(c->page) + c->pgoff, c->len);
}

static int view_range_chunk(void *arg, const struct iodma_chunk *c)
{
	struct view_ctx *v = arg;
	struct iodma_range *r = v->view->ranges;

	/* a range ending at 2^64 leaves end 0: never merge across the wrap */
	if (v->n && c->addr == v->end && v->end) {
		if (v->fill)
			r[v->n - 1].len += c->len;
	} else {
		if (v->fill) {
			if (v->n == v->cap)
				return -ENOSPC;
			r[v->n] = (struct iodma_range){ .addr = c->addr, .len = c->len };
		}
		v->n++;
	}
	v->end = c->addr + c->len;
	return 0;
}

/*
 * The longest scatterlist entry the backend maps in one piece, and the line
 * no entry crosses: the device's DMA parameters (DMA-API debug checks them)
 * and swiotlb's largest mapping.
 */
static __always_inline void limits_of(const struct iodma_view *view, u64 *max_entry,
				      u64 *boundary)
{
	u64 max = SZ_1G;

	*boundary = U64_MAX;
	if (view->map_dev) {
		max = min_t(u64, max, view->map_max);
		max = min_t(u64, max, dma_get_max_seg_size(view->map_dev));
		*boundary = dma_get_seg_boundary(view->map_dev);
	}
	*max_entry = max(round_down(max, PAGE_SIZE), PAGE_SIZE);
}

static void entry_limits(const struct iodma_view *view, struct view_ctx *v)
{
	limits_of(view, &v->max_entry, &v->boundary);
}

/* Walk [off, off + len) of @md as the view needs it: bus ranges or CPU pages. */
static int view_walk(struct iodma_md *md, u64 off, u64 len, bool ranges, struct view_ctx *v)
{
	if (md->kind == IODMA_MD_COPYBUF && ranges)
		return iodma_cbuf_walk(&md->cbuf, off, len, true, view_range_chunk, v);
	return iodma_md_walk(md, off, len, ranges ? view_range_chunk : view_sg_chunk, v);
}

/* A fresh walk context of the same entry limits. */
static void view_ctx_reset(struct view_ctx *v, bool fill, unsigned int cap)
{
	*v = (struct view_ctx){ .view = v->view, .max_entry = v->max_entry,
				.boundary = v->boundary, .fill = fill, .cap = cap };
}

/*
 * Fill the view with [off, off + len) of @md, as far as its room goes:
 * -ENOSPC when it runs out (the end mark is then put back where it was).
 */
static int view_fill(struct iodma_md *md, u64 off, u64 len, bool ranges, struct view_ctx *v)
{
	struct iodma_view *view = v->view;
	int ret;

	view_ctx_reset(v, true, ranges ? view->ranges_cap : view->sgt_cap);
	if (ranges) {
		ret = view_walk(md, off, len, true, v);
		if (!ret)
			view->nranges = v->n;
		return ret;
	}
	sg_unmark_end(view->sgt_end);
	ret = view_walk(md, off, len, false, v);
	if (ret) {
		sg_mark_end(view->sgt_end);
		return ret;
	}
	sg_mark_end(v->sg);
	view->sgt_end = v->sg;
	view->sgt.orig_nents = v->n;
	view->sgt.nents = v->n;
	view->bits = v->bits;
	view->end = v->max_end;
	return 0;
}

/*
 * The fill of a prepare on the descriptors of a driver's I/O path, an
 * sg_table (@from_sg) or a bio_vec array, with room in the scatterlist:
 * their entries are read here rather than through iodma_md_walk()'s
 * callback (the same pieces in the same order as walk_sgt() and
 * walk_bvecs() in md.c), and a piece that neither continues the last entry
 * nor needs cutting -- the common case -- becomes an entry with the walk's
 * state in registers.  Any other piece goes through view_add_phys().
 * -ENOSPC (nothing changed) when the room runs out.  Inline once per
 * source, so that the loop tests the source's kind at compile time.
 */
static __always_inline int fill_cpu(struct iodma_view *v, struct iodma_md *md, bool from_sg,
				    u64 off, u64 len)
{
	struct view_ctx ctx = { .view = v, .fill = true, .cap = v->sgt_cap };
	struct scatterlist *sg = NULL, *dst = NULL;
	const struct bio_vec *bv = NULL;
	unsigned int i, count, n = 0;
	u64 take, in, plen, end = 0, bits = 0, max_end = 0, open_len = 0;
	phys_addr_t phys;
	int ret = 0;

	if (from_sg) {
		sg = md->sgt.sgt->sgl;
		count = md->sgt.sgt->orig_nents;
	} else {
		bv = md->bvec.bv;
		count = md->bvec.n;
	}
	entry_limits(v, &ctx);
	sg_unmark_end(v->sgt_end);
	for (i = 0; i < count && len; i++) {
		if (from_sg) {
			if (i)
				sg = iodma_sg_next(sg);
			plen = sg->length;
		} else {
			plen = bv[i].bv_len;
		}
		take = iodma_clip(&off, &len, plen, &in);
		if (!take)
			continue;
		phys = (from_sg ? sg_phys(sg) : page_to_phys(bv[i].bv_page) + bv[i].bv_offset) + in;
		if (unlikely((n && phys == end) || n == ctx.cap || take > ctx.max_entry ||
			     (phys | ctx.boundary) - phys < take - 1)) {
			ctx.sg = dst;
			ctx.n = n;
			ctx.open_len = open_len;
			ctx.end = end;
			ctx.bits = bits;
			ctx.max_end = max_end;
			ret = view_add_phys(&ctx, phys, take);
			if (ret)
				break;
			dst = ctx.sg;
			n = ctx.n;
			open_len = ctx.open_len;
			end = ctx.end;
			bits = ctx.bits;
			max_end = ctx.max_end;
			continue;
		}
		dst = n ? iodma_sg_next(dst) : v->sgt.sgl;
		/*
		 * sg_set_page() without keeping the entry's marks: iodma_sg_next()
		 * never yields a chain entry, and the end mark was taken off above.
		 */
		dst->page_link = (unsigned long)pfn_to_page(PHYS_PFN(phys));
		dst->offset = offset_in_page(phys);
		dst->length = take;
		sg_clear_dma(dst);
		n++;
		bits |= phys | take;
		open_len = take;
		end = phys + take;
		max_end = max(max_end, end);
	}
	if (ret) {
		sg_mark_end(v->sgt_end);
		return ret;
	}
	sg_mark_end(dst);
	v->sgt_end = dst;
	v->sgt.orig_nents = n;
	v->sgt.nents = n;
	v->bits = bits;
	v->end = max_end;
	return 0;
}

/*
 * The fill of the most common I/O, an sg_table or bio_vec descriptor of one
 * entry that no entry limit cuts: what view_fill_cpu() makes of it, without
 * its walk state and loop.  false (nothing changed): the other fills decide.
 */
static __always_inline bool view_fill_one(struct iodma_view *v, struct iodma_md *md, u64 off,
					  u64 len)
{
	struct scatterlist *dst = v->sgt.sgl;
	u64 max_entry, boundary;
	phys_addr_t phys;

	/* one entry: md_range() put [off, off + len) inside it */
	if (md->kind == IODMA_MD_SGTABLE && md->sgt.sgt->orig_nents == 1)
		phys = sg_phys(md->sgt.sgt->sgl);
	else if (md->kind == IODMA_MD_BVEC && md->bvec.n == 1)
		phys = page_to_phys(md->bvec.bv->bv_page) + md->bvec.bv->bv_offset;
	else
		return false;
	phys += off;
	limits_of(v, &max_entry, &boundary);
	if (len > max_entry || (phys | boundary) - phys < len - 1)
		return false;
	sg_unmark_end(v->sgt_end);
	sg_set_page(dst, pfn_to_page(PHYS_PFN(phys)), len, offset_in_page(phys));
	sg_clear_dma(dst);
	sg_mark_end(dst);
	v->sgt_end = dst;
	v->sgt.orig_nents = 1;
	v->sgt.nents = 1;
	v->bits = phys | len;
	v->end = phys + len;
	return true;
}

/* The fast fill of an sg_table or bio_vec descriptor; -EOPNOTSUPP for other kinds. */
static noinline int view_fill_cpu(struct iodma_view *v, struct iodma_md *md, u64 off, u64 len)
{
	if (md->kind == IODMA_MD_SGTABLE)
		return fill_cpu(v, md, true, off, len);
	if (md->kind == IODMA_MD_BVEC)
		return fill_cpu(v, md, false, off, len);
	return -EOPNOTSUPP;
}

/*
 * The general build, through iodma_md_walk(): every other descriptor, bus
 * ranges, and a scatterlist that has to grow (a first walk counts).  Out of
 * line: the fast fill needs none of its walk context.
 */
static noinline int view_build_walk(struct iodma_view *v, struct iodma_md *md, u64 off,
				    u64 len, bool ranges, gfp_t gfp)
{
	struct view_ctx ctx = { .view = v };
	int ret;

	entry_limits(v, &ctx);
	if (ranges ? v->ranges_cap : v->sgt_cap) {
		ret = view_fill(md, off, len, ranges, &ctx);
		if (ret != -ENOSPC)
			return ret;
		view_ctx_reset(&ctx, false, 0);
	}
	ret = view_walk(md, off, len, ranges, &ctx);
	if (ret)
		return ret;
	ret = ranges ? reserve_ranges(v, ctx.n, gfp) : reserve_sg(v, ctx.n, gfp);
	if (ret)
		return ret;
	ret = view_fill(md, off, len, ranges, &ctx);
	WARN_ON_ONCE(ret);
	return ret;
}

/**
 * iodma_view_build() - the view of [@off, @off + @len) of @md
 * @v: the view (its storage grows if needed)
 * @md: the descriptor, wired
 * @off: first byte in @md
 * @len: bytes
 * @in_place: @md is a copy buffer whose bus addresses the device uses
 * @gfp: as for iodma_view_reserve()
 *
 * CPU memory fills the scatterlist, bus memory and copy buffers used in
 * place the ranges.  The source is left unset (the backend's map sets it).
 *
 * Return: 0, -EAGAIN, -ENOMEM, or the walk's error (-EFAULT); on failure the
 * view holds no range.
 */
int iodma_view_build(struct iodma_view *v, struct iodma_md *md, u64 off, u64 len,
		     bool in_place, gfp_t gfp)
{
	bool ranges = md->bus || (md->kind == IODMA_MD_COPYBUF && in_place);
	int ret;

	v->src = IODMA_SRC_NONE;
	v->end = 0;
	if (!ranges && v->sgt_cap) {
		if (view_fill_one(v, md, off, len))
			return 0;
		ret = view_fill_cpu(v, md, off, len);
		if (ret != -EOPNOTSUPP && ret != -ENOSPC)
			return ret;
	}
	return view_build_walk(v, md, off, len, ranges, gfp);
}

/**
 * iodma_view_from_cbuf() - make the view's source the first @len bytes of a
 * copy buffer, as bus ranges
 * @v: the view
 * @cb: the copy buffer
 * @len: bytes
 * @gfp: as for iodma_view_reserve()
 *
 * A chunk gives at most one range, so the room is reserved by chunks rather
 * than counted in a first walk.
 *
 * Return: 0, -EAGAIN or -ENOMEM.
 */
int iodma_view_from_cbuf(struct iodma_view *v, const struct iodma_cbuf *cb, u64 len, gfp_t gfp)
{
	struct view_ctx ctx = { .view = v, .fill = true };
	int ret = reserve_ranges(v, cb->n, gfp);

	if (ret)
		return ret;
	ctx.cap = v->ranges_cap;
	iodma_cbuf_walk(cb, 0, len, true, view_range_chunk, &ctx);
	v->nranges = ctx.n;
	v->ranges_mapped = false;
	v->src = IODMA_SRC_RANGES;
	v->src_n = ctx.n;
	return 0;
}
