// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reference model of segment generation (see segments_model.h).
 *
 * Written from the contract, plainly and slowly, so that it can judge
 * src/segments.c: the KUnit suite iodma_model compares iodma with it on real
 * memory, the userspace fuzzer (kunit/segfuzz/) on random layouts.  Each
 * segment is found from scratch: the range under the offset, the maximal run
 * of contiguous ranges from there, then the cuts of design.rst in their order.
 * Nothing here is shared with segments.c; only u8/u32/u64, bool and the
 * public struct iodma_spec are used, so the file builds in userspace too.
 */
#include <linux/iodma.h>
#include <linux/stddef.h>
#include "segments_model.h"

#define MODEL_NONE	(~0ULL)

static u64 model_min(u64 a, u64 b)
{
	return a < b ? a : b;
}

static u64 model_max(u64 a, u64 b)
{
	return a > b ? a : b;
}

/**
 * iodma_model_spec_of() - the model's rules for a specification
 * @spec: the specification as the caller wrote it
 * @reach: last address the device reaches, 0 for none but addr_bits
 * @ms: the rules the model reads, defaults not yet applied
 */
void iodma_model_spec_of(const struct iodma_spec *spec, u64 reach, struct iodma_model_spec *ms)
{
	*ms = (struct iodma_model_spec){
		.addr_bits = spec->addr_bits,
		.out32 = spec->output <= IODMA_OUT_LITTLE32,
		.max_segment_size = spec->max_segment_size,
		.max_transfer_size = spec->max_transfer_size,
		.alignment = spec->alignment,
		.length_alignment = spec->length_alignment,
		.internal_alignment = spec->internal_alignment,
		.seg_boundary_mask = spec->seg_boundary_mask,
		.max_segments = spec->max_segments,
		.virt_boundary_mask = spec->virt_boundary_mask,
		.reach = reach,
	};
}

/**
 * iodma_model_limits() - the rules of @spec with their defaults applied
 * @spec: the rules as written
 * @m: the rules the model applies
 *
 * addr_bits 0 is 32 bits for a 32-bit output, else 64; the device's reach
 * lowers the limit further.  A missing max_segment_size (or max_segments,
 * or virt_boundary_mask) is no limit, a
 * 32-bit output cannot carry a length above U32_MAX, and a segment that is
 * not the last is a multiple of length_alignment, so the longest segment is
 * rounded down to it.  internal_alignment 0 is alignment.
 */
void iodma_model_limits(const struct iodma_model_spec *spec, struct iodma_model_limits *m)
{
	unsigned int bits = spec->addr_bits ? spec->addr_bits : (spec->out32 ? 32 : 64);

	m->last = bits >= 64 ? MODEL_NONE : (1ULL << bits) - 1;
	if (spec->reach)
		m->last = model_min(m->last, spec->reach);
	m->len_align = spec->length_alignment ? spec->length_alignment : 1;
	m->max_seg = spec->max_segment_size ? spec->max_segment_size : MODEL_NONE;
	if (spec->out32)
		m->max_seg = model_min(m->max_seg, 0xffffffffULL);
	m->max_seg -= m->max_seg % m->len_align;
	m->max_transfer = spec->max_transfer_size ? spec->max_transfer_size : MODEL_NONE;
	m->align = spec->alignment ? spec->alignment : 1;
	m->int_align = spec->internal_alignment ? spec->internal_alignment : m->align;
	/* a mask of 0 or of all ones has no boundary; the sum wraps to 0 for the latter */
	m->block = spec->seg_boundary_mask ? spec->seg_boundary_mask + 1 : 0;
	m->max_segs = spec->max_segments ? spec->max_segments : MODEL_NONE;
	m->gap = spec->virt_boundary_mask ? spec->virt_boundary_mask + 1 : 0;
}

static u64 model_total(const struct iodma_model_range *r, unsigned int n)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		total += r[i].len;
	return total;
}

static enum iodma_model_rule segment_at(const struct iodma_model_limits *m,
					const struct iodma_model_range *r, unsigned int n,
					u64 total, u64 pos, struct iodma_model_range *seg)
{
	u64 skip = pos, addr, run, rest = total - pos, len, room, over;
	unsigned int i = 0;

	/* the range that holds @pos */
	while (skip >= r[i].len) {
		skip -= r[i].len;
		i++;
	}
	addr = r[i].addr + skip;
	run = r[i].len - skip;
	/* maximal coalescing: every following range that starts where the run ends */
	while (i + 1 < n && r[i + 1].addr == addr + run) {
		i++;
		run += r[i].len;
	}

	if (addr > m->last)
		return IODMA_MODEL_ADDRESS;
	if (pos == 0 && addr % m->align)
		return IODMA_MODEL_ALIGNMENT;
	if (pos != 0 && addr % m->int_align)
		return IODMA_MODEL_INTERNAL;
	if (pos != 0 && m->gap && addr % m->gap)
		return IODMA_MODEL_GAPS;

	len = run;
	/* 1. the address limit: the last byte is at most m->last */
	if (len - 1 > m->last - addr)
		len = m->last - addr + 1;
	/* 2. max_segment_size */
	len = model_min(len, m->max_seg);
	/* 3. the segment boundary */
	if (m->block) {
		room = m->block - addr % m->block;
		len = model_min(len, room);
	}
	/* 4. down to a multiple of length_alignment, unless it is the last segment */
	if (len < rest)
		len -= len % m->len_align;
	/*
	 * 5. where the run goes on, the next segment starts right after this
	 * one: end this one on internal_alignment.  When no such end exists,
	 * the next segment breaks internal_alignment (found at its turn).
	 */
	if (len && len < run) {
		over = (addr + len) % m->int_align;
		if (over < len)
			len -= over;
	}
	/*
	 * 6. the gap rule: a segment that is not the last ends on the gap
	 * block; in the middle of a run it is cut back to one, at the end of a
	 * run it cannot be.
	 */
	if (m->gap && len && len < rest) {
		over = (addr + len) % m->gap;
		if (over && (len == run || over >= len))
			return IODMA_MODEL_GAPS;
		len -= over;
	}
	/* the cuts of rules 5 and 6 may leave a length that no longer is a multiple */
	if (!len || (len < rest && len % m->len_align))
		return IODMA_MODEL_LENGTH;
	seg->addr = addr;
	seg->len = len;
	return IODMA_MODEL_OK;
}

/**
 * iodma_model_segment() - the segment that starts at an offset
 * @m: the rules
 * @r: the bus ranges of the prepared range, in order (no empty range)
 * @n: how many
 * @pos: offset of the segment in the prepared range (below its length)
 * @seg: the segment
 *
 * A segment at offset 0 is the first of the range (alignment), any other a
 * later one (internal_alignment), wherever a walk started.
 *
 * Return: IODMA_MODEL_OK and @seg, or the rule the segment cannot meet.
 */
enum iodma_model_rule iodma_model_segment(const struct iodma_model_limits *m,
					  const struct iodma_model_range *r, unsigned int n,
					  u64 pos, struct iodma_model_range *seg)
{
	return segment_at(m, r, n, model_total(r, n), pos, seg);
}

/**
 * iodma_model_walk() - the segments from an offset on
 * @m: the rules
 * @r: the bus ranges of the prepared range
 * @n: how many
 * @start: offset of the first segment
 * @max_segs: stop after this many segments
 * @segs: room for @max_segs segments, or NULL
 * @nsegs: out: segments found
 * @bad_off: out: offset of the segment that breaks a rule (0 when none does)
 *
 * Return: IODMA_MODEL_OK when the walk reached the end or @max_segs, else the
 * rule the segment at @bad_off cannot meet.
 */
enum iodma_model_rule iodma_model_walk(const struct iodma_model_limits *m,
				       const struct iodma_model_range *r, unsigned int n,
				       u64 start, u64 max_segs, struct iodma_model_range *segs,
				       u64 *nsegs, u64 *bad_off)
{
	u64 total = model_total(r, n), pos = start, k = 0;
	struct iodma_model_range seg;
	enum iodma_model_rule rule = IODMA_MODEL_OK;

	*bad_off = 0;
	while (pos < total && k < max_segs) {
		rule = segment_at(m, r, n, total, pos, &seg);
		if (rule != IODMA_MODEL_OK) {
			*bad_off = pos;
			break;
		}
		if (segs)
			segs[k] = seg;
		k++;
		pos += seg.len;
	}
	*nsegs = k;
	return rule;
}

/**
 * iodma_model_count() - the dry run of a whole prepared range
 * @m: the rules
 * @r: the bus ranges of the prepared range
 * @n: how many
 * @nsegs: out: segments found
 * @bad_off: out: where the segment that breaks a rule starts (0 when none
 *	does); for max_segments, the bytes its segments hold
 *
 * Return: IODMA_MODEL_OK, the rule broken first, or IODMA_MODEL_SEGMENTS when
 * bytes are left after max_segments segments.
 */
enum iodma_model_rule iodma_model_count(const struct iodma_model_limits *m,
					const struct iodma_model_range *r, unsigned int n,
					u64 *nsegs, u64 *bad_off)
{
	u64 total = model_total(r, n), pos = 0, k = 0;
	struct iodma_model_range seg;
	enum iodma_model_rule rule;

	*bad_off = 0;
	for (; pos < total; k++, pos += seg.len) {
		if (k == m->max_segs) {
			*bad_off = pos;
			*nsegs = k;
			return IODMA_MODEL_SEGMENTS;
		}
		rule = segment_at(m, r, n, total, pos, &seg);
		if (rule != IODMA_MODEL_OK) {
			*bad_off = pos;
			*nsegs = k;
			return rule;
		}
	}
	*nsegs = k;
	return IODMA_MODEL_OK;
}

/**
 * iodma_model_check() - does a list of segments meet every rule?
 * @m: the rules
 * @segs: the segments of a whole prepared range, in order
 * @nsegs: how many
 * @total: the length of the range
 * @bad: out: index of the first segment that breaks a rule (@nsegs for coverage)
 *
 * design.rst invariant 2, rule by rule.  The segments need not be maximal:
 * this is the check for segments made some other way (a copy buffer's).
 *
 * Return: NULL, or the rule broken.
 */
const char *iodma_model_check(const struct iodma_model_limits *m,
			      const struct iodma_model_range *segs, u64 nsegs, u64 total,
			      u64 *bad)
{
	u64 i, covered = 0;

	for (i = 0; i < nsegs; i++) {
		u64 a = segs[i].addr, l = segs[i].len;

		*bad = i;
		if (!l)
			return "empty segment";
		if (a > m->last || l - 1 > m->last - a)
			return "beyond the address limit";
		if (i == 0 && a % m->align)
			return "first address not aligned";
		if (i > 0 && a % m->int_align)
			return "later address not on internal_alignment";
		if (l % m->len_align)
			return "length not a multiple of length_alignment";
		if (l > m->max_seg)
			return "longer than max_segment_size";
		if (m->block && l > m->block - a % m->block)
			return "crosses the segment boundary";
		if (m->gap && i > 0 && a % m->gap)
			return "later segment starts off the gap block";
		if (m->gap && i + 1 < nsegs && (a + l) % m->gap)
			return "segment before the last ends off the gap block";
		covered += l;
	}
	*bad = nsegs;
	if (nsegs > m->max_segs)
		return "more segments than max_segments";
	return covered == total ? NULL : "segments do not cover the range";
}

/**
 * iodma_model_spec_infeasible() - can no memory at all meet @spec?
 * @spec: rules that pass the basic checks (powers of two, the lower bounds)
 *
 * The ideal copy buffer is contiguous and starts at the lowest non-zero
 * address aligned to the largest alignment rule, unit = max(alignment,
 * internal_alignment, length_alignment); the spec allows every transfer
 * length that is a multiple of length_alignment, no longer than
 * max_transfer_size and that fits in that buffer below 2^addr_bits.  Its
 * segments are cut only by max_segment_size (as rounded) and the boundary,
 * which both fall on unit lines when they are at least unit long.  So it fails
 * exactly when:
 *
 * - no non-zero address below 2^addr_bits is aligned to unit; or
 * - cap = min(max_segment_size rounded, boundary) is below
 *   internal_alignment or the gap block, and a transfer longer than cap is
 *   allowed: its first segment is cap long, and the next one starts off
 *   internal_alignment (or the first ends off the gap block).
 *
 * unit includes the gap block; max_segments makes no spec infeasible (a
 * transfer that needs more is refused at prepare).
 *
 * Return: NULL if some memory meets the spec for every length it allows,
 * else why none can.
 */
const char *iodma_model_spec_infeasible(const struct iodma_model_spec *spec)
{
	struct iodma_model_spec s = *spec;
	struct iodma_model_limits m;
	u64 unit, cap, longest;

	s.reach = 0;	/* a property of the spec, not of a device */
	iodma_model_limits(&s, &m);
	unit = model_max(m.align, model_max(m.int_align, m.len_align));
	if (m.gap)
		unit = model_max(unit, m.gap);
	if (unit - 1 >= m.last)
		return "no address below 2^addr_bits but 0 meets the alignment";
	cap = m.block ? model_min(m.max_seg, m.block) : m.max_seg;
	if (cap >= model_max(m.int_align, m.gap))
		return NULL;
	longest = model_min(m.max_transfer - m.max_transfer % m.len_align, m.last - (unit - 1));
	if (longest > cap)
		return "the longest segment cannot end on internal_alignment or the gap block";
	return NULL;
}
