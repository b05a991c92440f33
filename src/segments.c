// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segments: what the device is programmed with.
 *
 * After prepare, a command's bus addresses are a list of entries, its view
 * (view.c): the mapped entries of its scatterlist (DMA API, owned domain),
 * its CPU entries as physical addresses (bypassed, iterate-only) or an array
 * of ranges (bus descriptors, copy buffers).  A cursor walks that list;
 * each segment starts where the cursor is, takes in every following entry
 * that is contiguous on the bus (maximal coalescing), and is then cut at
 * the address limit, max_segment_size, the boundary, the length alignment,
 * the internal alignment and the gap rule, in that order, so that every
 * segment keeps every rule (Documentation/design.rst, invariant 2).
 *
 * The cursor is kept between calls, so a driver that asks for its segments
 * in order pays O(1) per segment; only a jump to another offset rewalks.
 * The dry run (iodma_segments_count()) applies the same rules with a cursor
 * of its own, to any view and limits: the bounce decision and explain use
 * it.  Nothing here allocates.
 */
#include <linux/dma-direct.h>
#include <linux/log2.h>
#include <linux/module.h>
#include "iodma_internal.h"
#include "trace.h"

/*
 * Entry @idx of a view whose source is @src (@sg for scatterlist sources):
 * its bus address and length.  @src is a constant where gen specialises.
 */
static __always_inline void entry_src(const struct iodma_view *v, enum iodma_src_kind src,
				      unsigned int idx, struct scatterlist *sg, u64 *addr,
				      u64 *len)
{
	switch (src) {
	case IODMA_SRC_SG_DMA:
		*addr = sg_dma_address(sg);
		*len = sg_dma_len(sg);
		break;
	case IODMA_SRC_SG_PHYS:
		*addr = sg_phys(sg);
		if (v->bus_dev)
			*addr = phys_to_dma(v->bus_dev, *addr);
		*len = sg->length;
		break;
	default:
		*addr = v->ranges[idx].addr;
		*len = v->ranges[idx].len;
		break;
	}
}

/* Entry @idx of the view (@sg for scatterlist sources): its bus address and length. */
static __always_inline void entry_at(const struct iodma_view *v, unsigned int idx,
				     struct scatterlist *sg, u64 *addr, u64 *len)
{
	entry_src(v, v->src, idx, sg, addr, len);
}

/* The bus address and length of the entry under the cursor. */
static __always_inline void entry_of(const struct iodma_view *v,
				     const struct iodma_cursor *cur, u64 *addr, u64 *len)
{
	entry_at(v, cur->idx, cur->sg, addr, len);
}

/* Move to the next entry; false at the end of the list. */
static __always_inline bool entry_next(const struct iodma_view *v, struct iodma_cursor *cur)
{
	if (cur->idx + 1 >= v->src_n)
		return false;
	cur->idx++;
	if (v->src != IODMA_SRC_RANGES)
		cur->sg = sg_next(cur->sg);
	cur->in = 0;
	cur->steps++;
	return true;
}

/* Advance the cursor by @bytes (which must not pass the end). */
static void cursor_advance(const struct iodma_view *v, struct iodma_cursor *cur, u64 bytes)
{
	u64 addr, len;

	cur->pos += bytes;
	while (bytes) {
		entry_of(v, cur, &addr, &len);
		if (bytes < len - cur->in) {
			cur->in += bytes;
			return;
		}
		bytes -= len - cur->in;
		cur->in = len;
		/* an exhausted entry is left behind: the next segment starts clean */
		if (!entry_next(v, cur))
			return;
	}
}

/* Cap @cap (at least 1) at the bytes from @addr to @last, both included. */
static u64 cap_to_last(u64 cap, u64 addr, u64 last)
{
	return last - addr >= cap - 1 ? cap : last - addr + 1;
}

/* A walk of the segments of a range of @len bytes of a view, under @lim. */
struct seg_walk {
	const struct iodma_view *view;
	const struct iodma_limits *lim;
	u64 len;
	struct iodma_cursor *cur;
};

/*
 * Compute the segment starting at the walk's cursor without moving it.
 * Returns IODMA_BOUNCE_NONE and fills @seg_addr/@seg_len, or the rule the
 * segment breaks (only possible for commands that cannot bounce, or in the
 * preflight dry run).  When the segment takes a whole run of entries
 * and the entry after it is already looked at, @next is the cursor past the
 * segment (next->valid); otherwise next->valid is false.
 */
static __always_inline enum iodma_bounce_reason
next_segment(const struct seg_walk *w, u64 *seg_addr, u64 *seg_len, bool *cut,
	     struct iodma_cursor *next)
{
	const struct iodma_limits *lim = w->lim;
	const struct iodma_view *v = w->view;
	struct iodma_cursor probe = *w->cur;
	u64 addr, elen, len, run, cap;
	u64 align = probe.pos ? lim->int_align : lim->align;
	bool past_run = false;

	next->valid = false;

	entry_of(v, &probe, &addr, &elen);
	addr += probe.in;
	if (addr > lim->addr_limit)
		return IODMA_BOUNCE_ADDRESS;
	if (addr & (align - 1))
		return probe.pos ? IODMA_BOUNCE_INTERNAL : IODMA_BOUNCE_ALIGNMENT;
	/* the gap rule: every segment but the first starts on its block */
	if (probe.pos && (addr & lim->virt_mask))
		return IODMA_BOUNCE_GAPS;

	cap = min(lim->max_seg, w->len - probe.pos);
	/* the limit need not be 2^n - 1 (a bus_dma_limit): cut at it, not at its block */
	cap = cap_to_last(cap, addr, lim->addr_limit);
	if (lim->boundary_mask)
		cap = cap_to_last(cap, addr, addr | lim->boundary_mask);

	/*
	 * Coalesce contiguous entries, looking no further than the cap, but
	 * one entry past a run that ends right on it: whether the run goes on
	 * decides the internal_alignment cut below.
	 */
	run = elen - probe.in;
	while (run <= cap) {
		u64 naddr, nlen;

		if (!entry_next(v, &probe))
			break;
		entry_of(v, &probe, &naddr, &nlen);
		if (naddr != addr + run) {
			past_run = true;
			break;
		}
		run += nlen;
	}
	len = min(run, cap);

	/* the last segment's length is a multiple already (checked at prepare) */
	if (probe.pos + len < w->len)
		len = round_down(len, lim->len_align);
	/* where the segment stops mid-run, the next one starts there: align it */
	if (len < run && lim->int_align > 1) {
		u64 end = round_down(addr + len, lim->int_align);

		if (end > addr)
			len = end - addr;
	}
	/*
	 * The gap rule: every segment but the last ends on its block.  Where
	 * the segment stops mid-run, it is cut back to the last block end in
	 * it; where the run ends (the next entry is elsewhere) it cannot be.
	 */
	if (lim->virt_mask && len && probe.pos + len < w->len && ((addr + len) & lim->virt_mask)) {
		u64 end = (addr + len) & ~lim->virt_mask;

		if (len == run || end <= addr)
			return IODMA_BOUNCE_GAPS;
		len = end - addr;
	}
	/*
	 * Those cuts can undo the round-down: a segment that starts off the
	 * length unit cannot both be a multiple of it and end on
	 * internal_alignment (or the gap rule's block), and the next one must
	 * start on it.
	 */
	if (!len || (probe.pos + len < w->len && (len & (lim->len_align - 1))))
		return IODMA_BOUNCE_LENGTH;
	*seg_addr = addr;
	*seg_len = len;
	*cut = len < run;
	if (past_run && len == run) {
		*next = probe;
		next->pos = w->cur->pos + len;
	} else {
		/* the look ahead counts as steps of the cursor */
		w->cur->steps = probe.steps;
	}
	return IODMA_BOUNCE_NONE;
}

/* Move the walk's cursor past the segment next_segment() returned. */
static void segment_done(const struct seg_walk *w, const struct iodma_cursor *next, u64 len)
{
	if (next->valid)
		*w->cur = *next;
	else
		cursor_advance(w->view, w->cur, len);
}

/*
 * The block-split fast path.  Under a rule such as NVMe's PRP (a page of
 * max_segment_size, page boundary and gap rule) a long contiguous entry is
 * cut into whole blocks, and next_segment() would check every rule on each.
 * Let B = lim->block (iodma_segments_block()): the power of two at which
 * both max_segment_size and the boundary cut, and of which int_align,
 * len_align and the gap rule's block are divisors.  A segment that starts
 * after the range's first byte, on a multiple of B, with more than B bytes
 * left both in its entry and in the range and B bytes before the end of
 * the reach, is [addr, addr + B), cut, and leaves the cursor B bytes on in
 * the same entry.  next_segment() finds for it:
 *  - the address within the reach, on int_align and on the gap rule's
 *    block: B is a multiple of both;
 *  - the cap, min(max_seg, bytes left in the range, reach, boundary), = B:
 *    B is max_seg or the boundary's block, and a multiple of B lies at least
 *    B bytes before the next boundary;
 *  - a run longer than that cap: no entry is looked ahead at, the length is
 *    B and the segment is cut;
 *  - neither a length_alignment, an int_align nor a gap-rule cut: it is not
 *    the last segment, and B is a multiple of each unit.
 * The next segment starts on a multiple of B again, so the segments of
 * such a run are counted at once, without a walk; they are only written
 * one by one.
 */

/*
 * iodma_segments_block() - the block of the fast path under @lim, or 0
 * where max_segment_size and the boundary do not cut at one block that the
 * other rules divide.
 */
u64 iodma_segments_block(const struct iodma_limits *lim)
{
	u64 b = lim->max_seg;

	if (lim->boundary_mask && lim->boundary_mask < b)
		b = lim->boundary_mask + 1;
	if (b < 2 || !is_power_of_2(b) || b < lim->int_align || b < lim->len_align ||
	    b <= lim->virt_mask)
		return 0;
	return b;
}

/*
 * Move the walk's cursor over the whole blocks from it on, at most @max:
 * returns how many, each the segment next_segment() would make there, and
 * the first one's address in @first.
 */
static u64 block_run(const struct seg_walk *w, u64 max, u64 *first)
{
	const struct iodma_limits *lim = w->lim;
	struct iodma_cursor *cur = w->cur;
	const u64 blk = lim->block;
	const unsigned int shift = ilog2(blk);
	u64 addr, elen, left, room, k;

	entry_of(w->view, cur, &addr, &elen);
	addr += cur->in;
	left = min(elen - cur->in, w->len - cur->pos);
	room = lim->addr_limit - addr;
	if (!cur->pos || (addr & (blk - 1)) || !left || addr > lim->addr_limit ||
	    room < blk - 1)
		return 0;
	/* blocks that leave more than a block in the entry and the range... */
	k = (left - 1) >> shift;
	/* ...and end within the reach: addr + k * blk - 1 <= addr_limit */
	k = min3(k, ((room - (blk - 1)) >> shift) + 1, max);
	*first = addr;
	cur->in += k << shift;
	cur->pos += k << shift;
	return k;
}

/*
 * The short-view shortcut (lim->shortcut).  A range of @len bytes that is
 * its view's only entry, at @addr with @elen = @len bytes, is one segment,
 * [addr, addr + len), that breaks no rule, when it is not empty, within
 * max_segment_size, the reach and one boundary block, on alignment, and
 * max_segments is not 0.  next_segment() finds for it at the range's start:
 *  - the address within the reach and on alignment; no gap rule (the
 *    first segment);
 *  - the cap, min(max_seg, len, reach, boundary), = len, and a run of len
 *    (no entry to look ahead at): the segment is len bytes, uncut;
 *  - no length_alignment or gap-rule cut (it is the last segment) and no
 *    internal_alignment cut (nothing is cut).
 * The view's entries hold exactly the range, so one entry is the short I/O
 * of one page or buffer, PRP's included.  Anything else goes to the walk.
 */
static __always_inline bool one_segment(const struct iodma_view *v,
					const struct iodma_limits *lim, u64 addr, u64 elen,
					u64 len)
{
	return len && elen == len && v->src_n == 1 && len <= lim->max_seg && lim->max_segs &&
	       addr <= lim->addr_limit && len - 1 <= lim->addr_limit - addr &&
	       !(addr & (lim->align - 1)) &&
	       (!lim->boundary_mask || len - 1 <= lim->boundary_mask - (addr & lim->boundary_mask));
}

/**
 * iodma_segments_check() - dry run of the segment rules over a view
 * @v: the view, its source set
 * @lim: the rules (@lim->addr_limit: the device's reach)
 * @len: bytes of the range the view holds
 *
 * The preflight of the bounce decision.
 *
 * Return: the first rule a segment of the range would break, or
 * IODMA_BOUNCE_NONE.
 */
enum iodma_bounce_reason iodma_segments_check(const struct iodma_view *v,
					      const struct iodma_limits *lim, u64 len)
{
	return iodma_segments_count(v, lim, len, NULL, NULL);
}

/* Does every entry of @v lie at or below @limit?  One loop per source. */
static __always_inline bool entries_below(const struct iodma_view *v, u64 limit,
					  const enum iodma_src_kind src)
{
	struct scatterlist *sg = src == IODMA_SRC_RANGES ? NULL : v->sgt.sgl;
	unsigned int i;
	u64 addr, len;

	for (i = 0; i < v->src_n; i++) {
		if (i && sg)
			sg = iodma_sg_next(sg);
		entry_src(v, src, i, sg, &addr, &len);
		if (addr > limit || (len && len - 1 > limit - addr))
			return false;
	}
	return true;
}

/**
 * iodma_segments_reachable() - the dry run of a plain specification
 * @v: the view, its source set
 * @lim: the rules, plain (no alignment, length, boundary or gap rule) and
 *	without max_segments
 *
 * Under such rules a segment breaks none but the reach, and the segments
 * cover the entries exactly: the range keeps every rule when every entry
 * lies within the reach, which a scan of the entries decides without
 * making the segments.
 *
 * Return: true when iodma_segments_check() would return IODMA_BOUNCE_NONE.
 */
bool iodma_segments_reachable(const struct iodma_view *v, const struct iodma_limits *lim)
{
	switch (v->src) {
	case IODMA_SRC_SG_DMA:
		return entries_below(v, lim->addr_limit, IODMA_SRC_SG_DMA);
	case IODMA_SRC_SG_PHYS:
		return entries_below(v, lim->addr_limit, IODMA_SRC_SG_PHYS);
	default:
		return entries_below(v, lim->addr_limit, IODMA_SRC_RANGES);
	}
}

/*
 * iodma_segments_count() - iodma_segments_check() that also counts the
 * segments (@nsegs) and says where the first broken one starts (@bad_off,
 * relative to the range); either may be NULL.  The walk stops after
 * @lim->max_segs segments: IODMA_BOUNCE_SEGMENTS if bytes are left, with
 * @bad_off the bytes those segments hold (the longest prefix that fits).
 */
enum iodma_bounce_reason iodma_segments_count(const struct iodma_view *v,
					      const struct iodma_limits *lim, u64 len,
					      u64 *nsegs, u64 *bad_off)
{
	struct iodma_cursor cur = {}, next;
	struct seg_walk w = { .view = v, .lim = lim, .len = len, .cur = &cur };
	enum iodma_bounce_reason r = IODMA_BOUNCE_NONE;
	u64 addr, seg, n = 0;
	bool cut;

	iodma_cursor_reset(&cur, v);
	if (lim->shortcut && len) {
		entry_of(v, &cur, &addr, &seg);
		if (one_segment(v, lim, addr, seg, len)) {
			if (nsegs)
				*nsegs = 1;
			if (bad_off)
				*bad_off = 0;
			return IODMA_BOUNCE_NONE;
		}
	}
	while (cur.pos < len) {
		/* max_segments: what is left needs one more */
		if (n == lim->max_segs) {
			r = IODMA_BOUNCE_SEGMENTS;
			break;
		}
		r = next_segment(&w, &addr, &seg, &cut, &next);
		if (r)
			break;
		segment_done(&w, &next, seg);
		n++;
		if (cut && lim->block)
			n += block_run(&w, lim->max_segs - n, &addr);
	}
	if (nsegs)
		*nsegs = n;
	if (bad_off)
		*bad_off = r ? cur.pos : 0;
	return r;
}

static __always_inline void put_seg(enum iodma_output out, void *segs, u32 i, u64 addr, u64 len)
{
	switch (out) {
	case IODMA_OUT_HOST32:
		((struct iodma_seg32 *)segs)[i] = (struct iodma_seg32){ (u32)addr, (u32)len };
		break;
	case IODMA_OUT_BIG32:
		((struct iodma_seg32_be *)segs)[i] =
			(struct iodma_seg32_be){ cpu_to_be32(addr), cpu_to_be32(len) };
		break;
	case IODMA_OUT_LITTLE32:
		((struct iodma_seg32_le *)segs)[i] =
			(struct iodma_seg32_le){ cpu_to_le32(addr), cpu_to_le32(len) };
		break;
	case IODMA_OUT_HOST64:
		((struct iodma_seg64 *)segs)[i] = (struct iodma_seg64){ addr, len };
		break;
	case IODMA_OUT_BIG64:
		((struct iodma_seg64_be *)segs)[i] =
			(struct iodma_seg64_be){ cpu_to_be64(addr), cpu_to_be64(len) };
		break;
	case IODMA_OUT_LITTLE64:
		((struct iodma_seg64_le *)segs)[i] =
			(struct iodma_seg64_le){ cpu_to_le64(addr), cpu_to_le64(len) };
		break;
	}
}

/*
 * gen's fast path, for a plain specification (lim->plain: no alignment,
 * length, boundary or gap rule): a segment is a run of contiguous entries
 * cut at max_segment_size and the end of the range, which is what
 * next_segment() makes of it, without its checks and cursor copies.  It
 * looks one entry past a run that reaches the cap as next_segment() does,
 * so that the splits counted are the same.  Writes at most @max segments
 * from the command's cursor and returns how many; stops before a segment
 * that would pass the reach (*@stop), which the general path then reports.
 *
 * The source and the output format are constants here: gen_plain()
 * instantiates one loop per pair, so that the loop reads an entry and
 * writes a segment without a switch on either.  An entry is read once: the
 * one that ends a run is carried over as the next segment's first.
 */
static __always_inline bool plain_fits(u64 start, u64 len, u64 limit)
{
	return start <= limit && len - 1 <= limit - start;
}

/* Bytes of one segment in the output format @out. */
static __always_inline size_t seg_size(enum iodma_output out)
{
	return out == IODMA_OUT_HOST64 || out == IODMA_OUT_BIG64 || out == IODMA_OUT_LITTLE64 ?
	       sizeof(struct iodma_seg64) : sizeof(struct iodma_seg32);
}

/*
 * The entry after @sg (scatterlist sources) or @r (ranges), which must
 * exist; the other is left alone.
 */
static __always_inline void entry_step(const enum iodma_src_kind src, struct scatterlist **sg,
				       const struct iodma_range **r)
{
	if (src == IODMA_SRC_RANGES)
		(*r)++;
	else
		*sg = iodma_sg_next(*sg);
}

/* The entry at @sg or @r, as entry_src(). */
static __always_inline void entry_get(const struct iodma_view *v, const enum iodma_src_kind src,
				      struct scatterlist *sg, const struct iodma_range *r,
				      u64 *addr, u64 *len)
{
	if (src == IODMA_SRC_RANGES) {
		*addr = r->addr;
		*len = r->len;
	} else {
		entry_src(v, src, 0, sg, addr, len);
	}
}

static __always_inline u32 gen_plain_loop(struct iodma_cmd *cmd, void *segs, u32 max, u64 *cuts,
					  bool *stop, const enum iodma_src_kind src,
					  const enum iodma_output out)
{
	const struct iodma_view *v = &cmd->view;
	struct iodma_cursor *cur = &cmd->cur;
	const u64 limit = cmd->lim.addr_limit, max_seg = cmd->lim.max_seg;
	/*
	 * The cursor in registers (the segments written cannot alias it): the
	 * entry under it as a scatterlist entry or a range, and how many
	 * follow it (its index is the view's count less that).
	 */
	const unsigned int last = v->src_n - 1;
	unsigned int rest = last - cur->idx, rest0;
	struct scatterlist *sg = cur->sg, *sg0, *nsg = NULL;
	const struct iodma_range *r = src == IODMA_SRC_RANGES ? &v->ranges[cur->idx] : NULL;
	const struct iodma_range *r0, *nr = NULL;
	u64 left = cmd->prep_len - cur->pos, in = cur->in;
	/* the entry under the cursor (@in bytes of it consumed), and the next */
	u64 addr, elen, naddr, nlen;
	u64 start, run, cap, len;
	u8 *out_seg = segs, *out_end = out_seg + (size_t)max * seg_size(out);

	if (!max || !left)
		return 0;
	entry_get(v, src, sg, r, &addr, &elen);
	for (;;) {
		start = addr + in;
		run = elen - in;
		cap = min(max_seg, left);
		if (run > cap || !rest) {
			/* cut at the cap, or the last entry */
			len = min(run, cap);
			if (!plain_fits(start, len, limit))
				goto stop;
			put_seg(out, out_seg, 0, start, len);
			*cuts += len < run;
			in += len;
			goto next;
		}
		/* one entry past the run, even where it reaches the cap exactly */
		nsg = sg;
		nr = r;
		entry_step(src, &nsg, &nr);
		entry_get(v, src, nsg, nr, &naddr, &nlen);
		if (likely(naddr != start + run)) {
			/* the entry is a segment of its own: the common case */
			if (!plain_fits(start, run, limit))
				goto stop;
			put_seg(out, out_seg, 0, start, run);
			len = run;
			goto ahead;
		}
		/* entries that continue the run, as far as the cap and one past it */
		rest0 = rest;
		sg0 = sg;
		r0 = r;
		do {
			rest--;
			sg = nsg;
			r = nr;
			addr = naddr;
			elen = nlen;
			run += nlen;
			if (run > cap || !rest)
				break;
			entry_step(src, &nsg, &nr);
			entry_get(v, src, nsg, nr, &naddr, &nlen);
		} while (naddr == start + run);
		len = min(run, cap);
		if (!plain_fits(start, len, limit)) {
			rest = rest0;
			sg = sg0;
			r = r0;
			goto stop;
		}
		put_seg(out, out_seg, 0, start, len);
		/* the run ended before the cap: the next entry is read */
		if (len == run && rest)
			goto ahead;
		/* cut, or the last entry: inside the run's last entry */
		*cuts += len < run;
		in = elen - (run - len);
		goto next;
ahead:
		rest--;
		sg = nsg;
		r = nr;
		addr = naddr;
		elen = nlen;
		in = 0;
next:
		left -= len;
		out_seg += seg_size(out);
		if (out_seg == out_end || !left)
			break;
	}
	goto out;
stop:
	/* the cursor at the segment's start, for the general path */
	*stop = true;
out:
	/* every entry moved over is one step, as for cursor_advance() */
	*cur = (struct iodma_cursor){ .pos = cmd->prep_len - left, .sg = sg, .idx = last - rest,
				      .in = in, .steps = cur->steps + (last - rest - cur->idx),
				      .valid = true };
	return (out_seg - (u8 *)segs) / seg_size(out);
}

/* gen_plain_loop() for the view's source, in the output format @out. */
static __always_inline u32 gen_plain_src(struct iodma_cmd *cmd, void *segs, u32 max, u64 *cuts,
					 bool *stop, const enum iodma_output out)
{
	switch (cmd->view.src) {
	case IODMA_SRC_SG_DMA:
		return gen_plain_loop(cmd, segs, max, cuts, stop, IODMA_SRC_SG_DMA, out);
	case IODMA_SRC_SG_PHYS:
		return gen_plain_loop(cmd, segs, max, cuts, stop, IODMA_SRC_SG_PHYS, out);
	default:
		return gen_plain_loop(cmd, segs, max, cuts, stop, IODMA_SRC_RANGES, out);
	}
}

static noinline u32 gen_plain(struct iodma_cmd *cmd, void *segs, u32 max, u64 *cuts, bool *stop)
{
	switch (cmd->spec.output) {
	case IODMA_OUT_HOST32:
		return gen_plain_src(cmd, segs, max, cuts, stop, IODMA_OUT_HOST32);
	case IODMA_OUT_BIG32:
		return gen_plain_src(cmd, segs, max, cuts, stop, IODMA_OUT_BIG32);
	case IODMA_OUT_LITTLE32:
		return gen_plain_src(cmd, segs, max, cuts, stop, IODMA_OUT_LITTLE32);
	case IODMA_OUT_BIG64:
		return gen_plain_src(cmd, segs, max, cuts, stop, IODMA_OUT_BIG64);
	case IODMA_OUT_LITTLE64:
		return gen_plain_src(cmd, segs, max, cuts, stop, IODMA_OUT_LITTLE64);
	default:
		return gen_plain_src(cmd, segs, max, cuts, stop, IODMA_OUT_HOST64);
	}
}

/* @k segments of @blk bytes from @addr on, at @i of @segs. */
static __always_inline void put_blocks_out(const enum iodma_output out, void *segs, u32 i,
					   u64 addr, u64 blk, u32 k)
{
	for (; k; k--, i++, addr += blk)
		put_seg(out, segs, i, addr, blk);
}

/* put_blocks_out() in the format @out: one loop each. */
static noinline void put_blocks(enum iodma_output out, void *segs, u32 i, u64 addr, u64 blk,
				u32 k)
{
	switch (out) {
	case IODMA_OUT_HOST32:
		put_blocks_out(IODMA_OUT_HOST32, segs, i, addr, blk, k);
		break;
	case IODMA_OUT_BIG32:
		put_blocks_out(IODMA_OUT_BIG32, segs, i, addr, blk, k);
		break;
	case IODMA_OUT_LITTLE32:
		put_blocks_out(IODMA_OUT_LITTLE32, segs, i, addr, blk, k);
		break;
	case IODMA_OUT_BIG64:
		put_blocks_out(IODMA_OUT_BIG64, segs, i, addr, blk, k);
		break;
	case IODMA_OUT_LITTLE64:
		put_blocks_out(IODMA_OUT_LITTLE64, segs, i, addr, blk, k);
		break;
	default:
		put_blocks_out(IODMA_OUT_HOST64, segs, i, addr, blk, k);
		break;
	}
}

/*
 * gen's general path: every rule, from the cursor on, after the @n segments
 * already written.  On a broken rule the cursor goes back to where this
 * began (a valid position all the same) and the errno is returned.  With
 * @blocks, whole blocks that follow a cut segment are written at once
 * (block_run()); one loop each, so that specifications without a block
 * pay nothing for it.
 */
static __always_inline int gen_general_loop(struct iodma_cmd *cmd, void *segs, u32 max, u32 *n,
					    u64 *cuts, const bool blocks)
{
	struct iodma_cursor saved = cmd->cur, next;
	struct seg_walk w = { .view = &cmd->view, .lim = &cmd->lim, .len = cmd->prep_len,
			      .cur = &cmd->cur };
	enum iodma_bounce_reason r;
	u64 addr, len, c = 0;
	u32 i = *n, k;
	bool cut;
	int err;

	/* the count and the cuts in registers: the segments written cannot alias them */
	for (; i < max && cmd->cur.pos < cmd->prep_len; i++) {
		r = next_segment(&w, &addr, &len, &cut, &next);
		if (r) {
			cmd->cur = saved;
			err = r == IODMA_BOUNCE_ADDRESS ? -ERANGE : -EINVAL;
			iodma_cmd_count_error(cmd, err);
			return err;
		}
		put_seg(cmd->spec.output, segs, i, addr, len);
		segment_done(&w, &next, len);
		c += cut;
		if (blocks && unlikely(cut)) {
			k = block_run(&w, max - i - 1, &addr);
			if (k) {
				put_blocks(cmd->spec.output, segs, i + 1, addr, cmd->lim.block, k);
				i += k;
				c += k;
			}
		}
	}
	*n = i;
	*cuts += c;
	return 0;
}

static __always_inline int gen_general(struct iodma_cmd *cmd, void *segs, u32 max, u32 *n,
				       u64 *cuts)
{
	if (cmd->lim.block)
		return gen_general_loop(cmd, segs, max, n, cuts, true);
	return gen_general_loop(cmd, segs, max, n, cuts, false);
}

/*
 * gen at *@offset, the cursor moved there first: the plain fast path, then
 * the general one.  Out of line, so that the short I/O that __gen() answers
 * itself pays neither its frame nor its registers.
 */
static noinline int gen_walk(struct iodma_cmd *cmd, u64 *offset, void *segs, u32 *nsegs)
{
	bool stop = false;
	u64 cuts = 0;
	u32 n = 0;
	int ret;

	if (!cmd->cur.valid || cmd->cur.pos != *offset) {
		iodma_cursor_reset(&cmd->cur, &cmd->view);
		cursor_advance(&cmd->view, &cmd->cur, *offset);
	}
	if (cmd->lim.plain)
		n = gen_plain(cmd, segs, *nsegs, &cuts, &stop);
	if (!cmd->lim.plain || stop) {
		/* on an error nothing the caller sees changes: the cuts are not counted */
		ret = gen_general(cmd, segs, *nsegs, &n, &cuts);
		if (ret)
			return ret;
	}
	cmd->splits += cuts;
	*offset = cmd->cur.pos;
	*nsegs = n;
	return 0;
}

static int __gen(struct iodma_cmd *cmd, u64 *offset, void *segs, u32 *nsegs, unsigned int width)
{
	u64 addr, elen;

	if (!cmd || !offset || !segs || !nsegs || !*nsegs)
		return -EINVAL;
	if (width && width != (cmd->lim.out32 ? 32 : 64))
		return -EINVAL;
	if (!cmd->prepared)
		return -ENODATA;
	if (*offset >= cmd->prep_len)
		return -EOVERFLOW;

	/*
	 * The whole range of a one-entry view in one segment, the common short
	 * I/O, from the start, where prepare leaves the cursor (a valid cursor
	 * at 0 is on the entry, nothing of it used).
	 */
	if (cmd->view.src_n == 1 && !*offset && cmd->cur.valid && !cmd->cur.pos &&
	    cmd->lim.shortcut) {
		entry_of(&cmd->view, &cmd->cur, &addr, &elen);
		if (one_segment(&cmd->view, &cmd->lim, addr, elen, cmd->prep_len)) {
			put_seg(cmd->spec.output, segs, 0, addr, cmd->prep_len);
			/* where cursor_advance() leaves it: the entry used up, no step */
			cmd->cur.pos = cmd->prep_len;
			cmd->cur.in = cmd->prep_len;
			*offset = cmd->prep_len;
			*nsegs = 1;
			return 0;
		}
	}
	return gen_walk(cmd, offset, segs, nsegs);
}

static __always_inline int gen(struct iodma_cmd *cmd, u64 *offset, void *segs, u32 *nsegs,
			       unsigned int width)
{
	u64 start = offset ? *offset : 0;
	int ret = __gen(cmd, offset, segs, nsegs, width);

	if (cmd)
		trace_iodma_gen(cmd, start, ret ? 0 : *nsegs, ret);
	return ret;
}

/**
 * iodma_cmd_gen_segments() - generate the segments of the prepared range
 * @cmd: a prepared command
 * @offset: in: where to start, relative to the prepared range; out: advanced
 *	past the bytes emitted
 * @segs: array of the command's output format (struct iodma_seg32 and so on)
 * @nsegs: in: capacity of @segs; out: segments written
 *
 * Segments are maximal: contiguous bus ranges coalesce, then are cut at the
 * 2^addr_bits limit, max_segment_size, the segment boundary, down to a
 * multiple of length_alignment and so that the next one starts on
 * internal_alignment and, with virt_boundary_mask, on the gap rule's block.
 * A prepared range has at most max_segments of them (prepare saw to it).
 * Calls in order cost O(1) per segment.  The idiom is
 * ``while (offset < length)``.
 *
 * Context: Any context; does not sleep or allocate.
 * Return: 0; -EINVAL for a NULL argument, a capacity of 0, or a segment
 * whose address is not aligned (alignment for the first segment of the
 * range, internal_alignment after it), that cannot be cut to a multiple
 * of length_alignment, or that breaks virt_boundary_mask; -ENODATA if not
 * prepared; -EOVERFLOW if @offset is at or past the end of the prepared range;
 * -ERANGE for a segment beyond 2^addr_bits.  On error neither @offset nor @nsegs changes.
 */
int iodma_cmd_gen_segments(struct iodma_cmd *cmd, u64 *offset, void *segs, u32 *nsegs)
{
	return gen(cmd, offset, segs, nsegs, 0);
}
EXPORT_SYMBOL_GPL(iodma_cmd_gen_segments);

/**
 * iodma_cmd_gen32_segments() - iodma_cmd_gen_segments(), type-checked for 32-bit output
 * @cmd: a prepared command whose output is 32 bits wide
 * @offset: as for iodma_cmd_gen_segments()
 * @segs: the segments
 * @nsegs: as for iodma_cmd_gen_segments()
 *
 * Context: Any context; does not sleep or allocate.
 * Return: as for iodma_cmd_gen_segments(); -EINVAL if the command's output is
 * 64 bits wide.
 */
int iodma_cmd_gen32_segments(struct iodma_cmd *cmd, u64 *offset, struct iodma_seg32 *segs,
			     u32 *nsegs)
{
	return gen(cmd, offset, segs, nsegs, 32);
}
EXPORT_SYMBOL_GPL(iodma_cmd_gen32_segments);

/**
 * iodma_cmd_gen64_segments() - iodma_cmd_gen_segments(), type-checked for 64-bit output
 * @cmd: a prepared command whose output is 64 bits wide
 * @offset: as for iodma_cmd_gen_segments()
 * @segs: the segments
 * @nsegs: as for iodma_cmd_gen_segments()
 *
 * Context: Any context; does not sleep or allocate.
 * Return: as for iodma_cmd_gen_segments(); -EINVAL if the command's output is
 * 32 bits wide.
 */
int iodma_cmd_gen64_segments(struct iodma_cmd *cmd, u64 *offset, struct iodma_seg64 *segs,
			     u32 *nsegs)
{
	return gen(cmd, offset, segs, nsegs, 64);
}
EXPORT_SYMBOL_GPL(iodma_cmd_gen64_segments);
