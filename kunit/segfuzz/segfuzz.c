// SPDX-License-Identifier: GPL-2.0-only
/*
 * segfuzz: a differential fuzzer of iodma's segment generation.
 *
 * It compiles the real src/segments.c and src/spec.c (with the stand-in
 * kernel headers of shim/) and compares them with the reference model,
 * kunit/segments_model.c, for random specifications, bus layouts, prepared
 * ranges and batches of gen calls:
 *
 * - where the model meets every rule, gen's segments (decoded from each
 *   output format) equal the model's exactly, batch after batch, after jumps
 *   and re-reads too;
 * - where the model finds a broken rule, the dry run (iodma_segments_check()
 *   and iodma_segments_count()) names the same rule at the same offset, and
 *   a gen whose batch reaches that segment fails with -ERANGE (address) or
 *   -EINVAL, changing neither *offset nor *nsegs;
 * - where the specification is plain, or cuts long runs into whole blocks,
 *   gen's fast paths give exactly what its general path alone gives on a
 *   copy of the command, call by call: errno, bytes, offset, cursor
 *   position and splits counted; the dry run with and without the block
 *   path agrees too (a third of the specifications are PRP-shaped: one
 *   block for max_segment_size, the boundary and the gap rule);
 * - iodma_spec_validate() accepts exactly the specifications that the
 *   model's ideal copy buffer can serve for every length they allow;
 * - for a plain specification without max_segments,
 *   iodma_segments_reachable() is true exactly when the model's dry run
 *   breaks no rule.
 *
 * Each case draws from its own generator, seeded from the run's seed and
 * the case number, so a failure is replayed with -s SEED -c CASE.  The
 * output is KTAP, which scripts/ktap-summary.py reads.
 */
#include <iodma_shim.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* No compatibility layer and no tracepoints in userspace. */
#define _IODMA_COMPAT_H
#define _IODMA_TRACE_H
struct iodma_cmd;
static inline void trace_iodma_gen(const struct iodma_cmd *cmd, u64 start, u32 n, int ret)
{
}

#include "../../src/segments.c"
#include "../../src/spec.c"
#include "segments_model.h"

static u64 gen_errors;

void iodma_cmd_count_error(struct iodma_cmd *cmd, int err)
{
	gen_errors++;
}

/* splitmix64: one generator per case */
static u64 rng_state;

static u64 rnd(void)
{
	u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, n) (n > 0), slightly biased: fine for a fuzzer */
static u64 below(u64 n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

static u64 pow2(unsigned int lo, unsigned int hi)
{
	return 1ULL << (lo + below(hi - lo + 1));
}

#define MAX_RANGES	256
#define MAX_ENTRIES	1024
#define MAX_CAP		64
#define MAX_WALK	4000

struct fuzz_case {
	u64 seed;
	u64 index;
	struct iodma_spec spec;
	u64 reach;			/* 0: none */
	struct iodma_model_range md[MAX_RANGES];	/* the descriptor's layout */
	unsigned int md_n;
	u64 prep_off, prep_len;
	struct iodma_model_range view[MAX_RANGES];	/* the prepared range */
	unsigned int view_n;
	struct iodma_range ent[MAX_ENTRIES];		/* iodma's entries of it */
	unsigned int ent_n;
	enum iodma_src_kind src;
};

static struct fuzz_case fc;
/* a friendly layout: pieces aligned to the largest alignment rule, multiples of it */
static u64 friendly_unit;
static char failure[4096];
static int fail_len;

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (fail_len)
		return;
	va_start(ap, fmt);
	fail_len = vsnprintf(failure, sizeof(failure), fmt, ap);
	va_end(ap);
}

static const char *const rule_names[] = {
	"none", "address", "alignment", "length", "internal", "forced", "segments", "gaps",
};

static void print_case(void)
{
	const struct iodma_spec *s = &fc.spec;
	unsigned int i;

	printf("# FAIL seed=0x%llx case=%llu: %s\n", fc.seed, fc.index, failure);
	printf("#   replay: segfuzz -s 0x%llx -c %llu\n", fc.seed, fc.index);
	printf("#   spec: addr_bits=%u max_segment_size=0x%llx max_transfer_size=0x%llx",
	       s->addr_bits, s->max_segment_size, s->max_transfer_size);
	printf(" alignment=0x%x length_alignment=0x%x internal_alignment=0x%x", s->alignment,
	       s->length_alignment, s->internal_alignment);
	printf(" seg_boundary_mask=0x%llx max_segments=%u virt_boundary_mask=0x%llx",
	       s->seg_boundary_mask, s->max_segments, s->virt_boundary_mask);
	printf(" output=%d map=%d reach=0x%llx\n", s->output, s->map, fc.reach);
	printf("#   prepared [0x%llx, +0x%llx) source %d, %u ranges:\n", fc.prep_off, fc.prep_len,
	       fc.src, fc.view_n);
	for (i = 0; i < fc.view_n && i < 32; i++)
		printf("#     0x%llx +0x%llx\n", fc.view[i].addr, fc.view[i].len);
	if (fc.view_n > 32)
		printf("#     ...\n");
}

/* A power of two or 0 for an alignment field; mostly small. */
static u32 rand_align(void)
{
	if (chance(35))
		return 0;
	return chance(90) ? (u32)pow2(0, 13) : (u32)pow2(0, 31);
}

static u64 rand_size(void)
{
	switch (below(6)) {
	case 0:
		return 0;
	case 1:
		return pow2(9, 20);
	case 2:
		return pow2(9, 20) + below(64) - 32;
	case 3:
		return 1 + below(1 << 20);
	case 4:
		return chance(50) ? pow2(21, 63) : U64_MAX - below(1 << 20);
	default:
		return (1 + below(32)) * 512;
	}
}

static void rand_spec(struct iodma_spec *s)
{
	*s = (struct iodma_spec){ 0 };
	s->output = below(6);
	s->map = below(3);
	if (chance(60)) {
		unsigned int hi = s->output <= IODMA_OUT_LITTLE32 ? 32 : 64;

		s->addr_bits = 12 + below(hi - 12 + 1);
	}
	s->alignment = rand_align();
	s->length_alignment = chance(50) ? 0 : (u32)pow2(0, chance(90) ? 12 : 20);
	s->internal_alignment = rand_align();
	s->max_segment_size = rand_size();
	s->max_transfer_size = chance(70) ? 0 : rand_size();
	switch (below(4)) {
	case 0:
		s->seg_boundary_mask = pow2(9, 40) - 1;
		break;
	case 1:
		s->seg_boundary_mask = U64_MAX;
		break;
	default:
		break;
	}
	if (chance(25))
		s->max_segments = chance(50) ? 1 + below(8) : (u32)pow2(0, 12);
	if (chance(25))
		s->virt_boundary_mask = pow2(9, 16) - 1;
}

/*
 * A PRP-shaped specification: max_segment_size, the boundary and often the
 * gap rule at one block of 512 bytes to 64 KiB (sometimes max_segment_size
 * or the boundary a few blocks larger), small alignments, and often a
 * max_segments that a long run reaches in its middle.
 */
static bool prp_shaped;

static void rand_prp_spec(struct iodma_spec *s)
{
	unsigned int order = 9 + below(8);
	u64 blk = 1ULL << order;

	*s = (struct iodma_spec){ 0 };
	s->output = below(6);
	s->map = below(3);
	if (chance(40))
		s->addr_bits = 12 + below((s->output <= IODMA_OUT_LITTLE32 ? 32 : 64) - 12 + 1);
	s->alignment = chance(50) ? 4 : rand_align();
	s->max_segment_size = blk;
	s->seg_boundary_mask = blk - 1;
	if (chance(15))
		s->max_segment_size = blk << (1 + below(3));
	else if (chance(15))
		s->seg_boundary_mask = (blk << (1 + below(3))) - 1;
	if (chance(70))
		s->virt_boundary_mask = blk - 1;
	else if (chance(50))
		s->virt_boundary_mask = pow2(9, order) - 1;
	if (chance(40))
		s->length_alignment = (u32)pow2(0, order);
	if (chance(30))
		s->internal_alignment = (u32)pow2(0, chance(90) ? order : 20);
	if (chance(40))
		s->max_segments = 1 + below(chance(70) ? 64 : 600);
	if (chance(10))
		s->max_transfer_size = blk * (1 + below(600));
}

/* Address of a layout piece: near an interesting line, often aligned. */
static u64 layout_line;

/*
 * A PRP-shaped case whose reach ends one or two bytes around a block's
 * end: where its contiguous layout may start, in the block before that one
 * (then the block path starts right below the reach), or 0.
 */
static u64 grid_start;

static u64 rand_line(const struct iodma_limits *lim)
{
	u64 line;

	/* a PRP-shaped run often crosses the reach */
	if (prp_shaped && lim->addr_limit != U64_MAX && chance(40))
		return lim->addr_limit + 1;
	switch (below(14)) {
	case 0:
		line = 1ULL << 32;
		break;
	case 1:
		line = lim->addr_limit == U64_MAX ? U64_MAX - (1ULL << 40) : lim->addr_limit + 1;
		break;
	case 2:
		line = fc.reach ? fc.reach + 1 : 1ULL << 31;
		break;
	case 3:
		line = U64_MAX - (1ULL << 30);
		break;
	default:
		line = below(min(lim->addr_limit, 1ULL << 36));
		break;
	}
	return line;
}

static u64 rand_addr(const struct iodma_limits *lim, u64 len)
{
	u64 a, line = chance(85) ? layout_line : rand_line(lim);

	a = line - below(1 << 22) + below(1 << 22);
	if (chance(70))
		a &= ~(pow2(0, 16) - 1);
	else if (chance(30))
		a &= ~(u64)0xfff;
	/* no piece may wrap: iodma_md_from_phys() refuses addr + len overflowing */
	if (a > U64_MAX - len)
		a = U64_MAX - len - below(4096);
	if (friendly_unit)
		a &= ~(friendly_unit - 1);
	return a;
}

static u64 rand_piece_len(unsigned int kind)
{
	switch (kind) {
	case 0:
		return 4096;
	case 1:
		return 1 + below(3 * 4096);
	case 2:
		return pow2(9, 16);
	default:
		return chance(80) ? 1 + below(1 << 22) : 1 + below(1ULL << 40);
	}
}

/* The descriptor's bus layout: contiguous, pages, odd pieces or huge. */
static void rand_layout(const struct iodma_limits *lim)
{
	unsigned int kind = prp_shaped && chance(50) ? 4 : below(5), n, i;
	u64 len;

	fc.md_n = 0;
	layout_line = rand_line(lim);
	if (kind == 4) {	/* one contiguous range */
		len = chance(70) ? 1 + below(1 << 21) : 1 + below(1ULL << 42);
		fc.md[0].len = len;
		fc.md[0].addr = rand_addr(lim, len);
		if (grid_start && chance(60) && grid_start <= U64_MAX - len)
			fc.md[0].addr = grid_start & ~(friendly_unit ? friendly_unit - 1 : 0);
		fc.md_n = 1;
		return;
	}
	n = 1 + below(chance(80) ? 16 : 200);
	for (i = 0; i < n; i++) {
		len = rand_piece_len(kind);
		if (friendly_unit && chance(80))
			len = (len + friendly_unit - 1) & ~(friendly_unit - 1);
		if (i && chance(40) && fc.md[i - 1].addr + fc.md[i - 1].len <= U64_MAX - len) {
			fc.md[i].addr = fc.md[i - 1].addr + fc.md[i - 1].len;	/* contiguous */
		} else {
			fc.md[i].addr = rand_addr(lim, len);
			if (kind == 0 && chance(80))
				fc.md[i].addr &= ~0xfffULL;
		}
		fc.md[i].len = len;
	}
	/* scattered pages start at a sub-page offset of the first */
	if (kind == 0 && !friendly_unit && chance(50)) {
		u64 off = below(4096);

		fc.md[0].addr += off;
		fc.md[0].len -= off;
	}
	fc.md_n = n;
}

/*
 * A short I/O, the shortcut's kind (PRP's one-page I/O): one piece of
 * about a block (the boundary's or max_segment_size's), on a block or an
 * alignment unit or a byte off it, ending at or a unit or a byte around the
 * block's end; sometimes in the block the reach ends in.  Prepared whole.
 */
static bool short_io;

static void short_layout(const struct iodma_limits *lim)
{
	u64 blk = lim->boundary_mask ? lim->boundary_mask + 1 : lim->max_seg;
	u64 base, off, len;

	blk = min(blk, 1ULL << 24);
	if (lim->addr_limit != U64_MAX && lim->addr_limit >= blk && chance(30))
		base = lim->addr_limit & ~(blk - 1);
	else
		base = layout_line & ~(blk - 1);
	if (base > U64_MAX - 4 * blk)
		base -= 4 * blk;
	switch (below(6)) {
	case 0:
		off = 1;
		break;
	case 1:
		off = lim->align;
		break;
	case 2:
		off = below(blk);
		break;
	default:
		off = 0;
		break;
	}
	len = blk > off ? blk - off : 1;
	switch (below(8)) {
	case 0:
		len += 1;
		break;
	case 1:
		len = len > 1 ? len - 1 : len;
		break;
	case 2:
		len += lim->len_align;
		break;
	case 3:
		len = 1 + below(blk);
		break;
	case 4:
		len = chance(50) ? lim->max_seg : lim->max_seg + 1;
		len = min(len, 1ULL << 25);
		break;
	default:
		break;
	}
	fc.md[0].addr = base + off;
	fc.md[0].len = len;
	fc.md_n = 1;
}

/* Cut the prepared range out of the layout. */
static void slice_view(void)
{
	u64 skip = fc.prep_off, left = fc.prep_len;
	unsigned int i;

	fc.view_n = 0;
	for (i = 0; i < fc.md_n && left; i++) {
		u64 l = fc.md[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		fc.view[fc.view_n].addr = fc.md[i].addr + skip;
		fc.view[fc.view_n].len = min(l - skip, left);
		left -= fc.view[fc.view_n].len;
		fc.view_n++;
		skip = 0;
	}
}

/* iodma's entries: the view's ranges split at random points (never coalesced). */
static void split_entries(bool sg)
{
	unsigned int i;

	fc.ent_n = 0;
	for (i = 0; i < fc.view_n; i++) {
		u64 a = fc.view[i].addr, l = fc.view[i].len;

		while (l) {
			u64 take = l;

			if (fc.ent_n + 1 < MAX_ENTRIES && chance(30))
				take = 1 + below(l);
			if (sg && take > 0x80000000ULL)
				take = 0x80000000ULL;
			if (fc.ent_n == MAX_ENTRIES - 1)
				take = l;
			fc.ent[fc.ent_n].addr = a;
			fc.ent[fc.ent_n].len = take;
			fc.ent_n++;
			a += take;
			l -= take;
		}
	}
}

static struct iodma_cmd cmd;
static struct scatterlist sgl[MAX_ENTRIES];

static void setup_cmd(const struct iodma_limits *lim)
{
	unsigned int i;

	memset(&cmd, 0, sizeof(cmd));
	cmd.spec = fc.spec;
	cmd.lim = *lim;
	cmd.view.src = fc.src;
	cmd.view.src_n = fc.ent_n;
	cmd.view.ranges = fc.ent;
	cmd.view.nranges = fc.ent_n;
	for (i = 0; i < fc.ent_n; i++) {
		sgl[i] = (struct scatterlist){ .phys = fc.ent[i].addr, .length = fc.ent[i].len,
					       .dma_address = fc.ent[i].addr,
					       .dma_length = fc.ent[i].len };
	}
	cmd.view.sgt.sgl = sgl;
	cmd.view.sgt.nents = fc.ent_n;
	cmd.prepared = 1;
	cmd.prep_off = fc.prep_off;
	cmd.prep_len = fc.prep_len;
	iodma_cursor_reset(&cmd.cur, &cmd.view);
}

static void decode(const void *raw, u32 i, u64 *addr, u64 *len)
{
	switch (fc.spec.output) {
	case IODMA_OUT_HOST32:
		*addr = ((const struct iodma_seg32 *)raw)[i].addr;
		*len = ((const struct iodma_seg32 *)raw)[i].len;
		break;
	case IODMA_OUT_BIG32:
		*addr = be32_to_cpu(((const struct iodma_seg32_be *)raw)[i].addr);
		*len = be32_to_cpu(((const struct iodma_seg32_be *)raw)[i].len);
		break;
	case IODMA_OUT_LITTLE32:
		*addr = le32_to_cpu(((const struct iodma_seg32_le *)raw)[i].addr);
		*len = le32_to_cpu(((const struct iodma_seg32_le *)raw)[i].len);
		break;
	case IODMA_OUT_HOST64:
		*addr = ((const struct iodma_seg64 *)raw)[i].addr;
		*len = ((const struct iodma_seg64 *)raw)[i].len;
		break;
	case IODMA_OUT_BIG64:
		*addr = be64_to_cpu(((const struct iodma_seg64_be *)raw)[i].addr);
		*len = be64_to_cpu(((const struct iodma_seg64_be *)raw)[i].len);
		break;
	default:
		*addr = le64_to_cpu(((const struct iodma_seg64_le *)raw)[i].addr);
		*len = le64_to_cpu(((const struct iodma_seg64_le *)raw)[i].len);
		break;
	}
}

static int errno_of(enum iodma_model_rule r)
{
	return r == IODMA_MODEL_ADDRESS ? -ERANGE : -EINVAL;
}

struct counts {
	u64 cases, skipped_specs, calls, shadow_calls, segs, expected_errors;
	u64 block_cases, block_calls, block_segs, block_dry_runs, grid_reaches;
	u64 short_cases, short_hits;
	u64 dry_runs, dry_failures;
	u64 specs, specs_rejected, by_rule[8];
};

static struct counts cnt;

static int gen_width(struct iodma_cmd *c, int width, u64 *off, void *raw, u32 *n)
{
	if (width == 1)
		return fc.spec.output <= IODMA_OUT_LITTLE32 ?
		       iodma_cmd_gen32_segments(c, off, raw, n) :
		       iodma_cmd_gen64_segments(c, off, raw, n);
	return iodma_cmd_gen_segments(c, off, raw, n);
}

/*
 * gen's fast paths (lim.plain, lim.block) against its general path, call
 * by call: the same call on a copy of the command with both off must give
 * the same result, bytes, offset, cursor position and splits counted.
 */
static struct iodma_cmd shadow;

static void shadow_call(int width, u64 before, u32 cap, int ret, u64 off, u32 n,
			const u64 *raw, u64 splits_before)
{
	u64 sraw[2 * MAX_CAP], soff = before;
	u32 sn = cap;
	int sret;

	memset(sraw, 0xa5, sizeof(sraw));
	sret = gen_width(&shadow, width, &soff, sraw, &sn);
	cnt.shadow_calls++;
	if (sret != ret || soff != off || sn != n || memcmp(sraw, raw, sizeof(sraw)))
		fail("gen 0x%llx/%u: fast path %d 0x%llx %u, general path %d 0x%llx %u%s",
		     before, cap, ret, off, n, sret, soff, sn,
		     memcmp(sraw, raw, sizeof(sraw)) ? " (segments differ)" : "");
	else if (shadow.splits - splits_before != cmd.splits - splits_before)
		fail("gen 0x%llx/%u: fast path counts %llu splits, general path %llu", before, cap,
		     cmd.splits - splits_before, shadow.splits - splits_before);
	else if (!ret && (shadow.cur.pos != cmd.cur.pos || shadow.cur.in != cmd.cur.in ||
			  shadow.cur.idx != cmd.cur.idx))
		fail("gen 0x%llx/%u: cursor 0x%llx (%u+0x%llx), general path's 0x%llx (%u+0x%llx)",
		     before, cap, cmd.cur.pos, cmd.cur.idx, cmd.cur.in, shadow.cur.pos,
		     shadow.cur.idx, shadow.cur.in);
}

/* One gen call at @off with capacity @cap, checked against the model. */
static bool gen_call(const struct iodma_model_limits *m, u64 *off, u32 cap)
{
	struct iodma_model_range want[MAX_CAP];
	u64 raw[2 * MAX_CAP], nwant, bad, before = *off, got_a, got_l, pos;
	u64 splits_before = cmd.splits;
	bool fast = cmd.lim.plain || cmd.lim.block || cmd.lim.shortcut;
	enum iodma_model_rule r;
	u32 n = cap, i;
	int ret, width = below(3);

	if (fast) {
		shadow = cmd;
		shadow.lim.plain = false;
		shadow.lim.block = 0;
		shadow.lim.shortcut = false;
	}
	memset(raw, 0xa5, sizeof(raw));
	ret = gen_width(&cmd, width, off, raw, &n);
	cnt.calls++;
	cnt.block_calls += cmd.lim.block != 0;
	if (fast)
		shadow_call(width, before, cap, ret, *off, n, raw, splits_before);
	if (before >= fc.prep_len) {
		if (ret != -EOVERFLOW || *off != before || n != cap)
			fail("gen at 0x%llx (past the end 0x%llx): ret %d, want -EOVERFLOW",
			     before, fc.prep_len, ret);
		return false;
	}
	r = iodma_model_walk(m, fc.view, fc.view_n, before, cap, want, &nwant, &bad);
	if (r != IODMA_MODEL_OK) {
		cnt.expected_errors++;
		if (ret != errno_of(r) || *off != before || n != cap)
			fail("gen 0x%llx cap %u: model breaks %s at 0x%llx (%d); got %d 0x%llx %u",
			     before, cap, rule_names[r], bad, errno_of(r), ret, *off, n);
		return false;
	}
	if (ret) {
		fail("gen at 0x%llx cap %u: ret %d, the model has %llu segments", before, cap, ret,
		     nwant);
		return false;
	}
	if (n != nwant) {
		fail("gen at 0x%llx cap %u: %u segments, model %llu", before, cap, n, nwant);
		return false;
	}
	pos = before;
	for (i = 0; i < n; i++) {
		decode(raw, i, &got_a, &got_l);
		if (got_a != want[i].addr || got_l != want[i].len) {
			fail("gen 0x%llx/%u: seg %u at 0x%llx: 0x%llx+0x%llx, model 0x%llx+0x%llx",
			     before, cap, i, pos, got_a, got_l, want[i].addr, want[i].len);
			return false;
		}
		/* a whole block right after the segment before it: the block path's kind */
		if (i && cmd.lim.block && got_l == cmd.lim.block && !(got_a & (got_l - 1)) &&
		    want[i - 1].addr + want[i - 1].len == got_a)
			cnt.block_segs++;
		pos += want[i].len;
	}
	cnt.segs += n;
	if (*off != pos) {
		fail("gen at 0x%llx cap %u: offset out 0x%llx, want 0x%llx", before, cap, *off,
		     pos);
		return false;
	}
	return true;
}

static void check_dry_run(const struct iodma_model_limits *m, u64 reach)
{
	struct iodma_cursor before = cmd.cur;
	struct iodma_limits lim = cmd.lim;
	u64 n = 0, bad = 0, mn, mbad;
	enum iodma_bounce_reason r;
	enum iodma_model_rule mr;

	mr = iodma_model_walk(m, fc.view, fc.view_n, 0, MAX_WALK, NULL, &mn, &mbad);
	if (mr == IODMA_MODEL_OK && mn == MAX_WALK && m->max_segs > MAX_WALK)
		return;		/* too many segments to walk twice per case */
	mr = iodma_model_count(m, fc.view, fc.view_n, &mn, &mbad);
	cnt.dry_runs++;
	cnt.dry_failures += mr != IODMA_MODEL_OK;
	cnt.by_rule[mr]++;
	lim.addr_limit = min(lim.addr_limit, reach);
	r = iodma_segments_count(&cmd.view, &lim, cmd.prep_len, &n, &bad);
	if ((int)r != (int)mr || n != mn || bad != mbad)
		fail("dry run: %s at 0x%llx after %llu segments, model %s at 0x%llx after %llu",
		     r < 8 ? rule_names[r] : "?", bad, n, rule_names[mr], mbad, mn);
	else if (memcmp(&before, &cmd.cur, sizeof(before)))
		fail("dry run moved the cursor");
	else if ((int)iodma_segments_check(&cmd.view, &lim, cmd.prep_len) != (int)mr)
		fail("iodma_segments_check() disagrees with iodma_segments_count()");
	if (cmd.prep_len) {
		u64 a, l;

		entry_at(&cmd.view, 0, cmd.view.sgt.sgl, &a, &l);
		cnt.short_hits += one_segment(&cmd.view, &lim, a, l, cmd.prep_len);
	}
	if (fail_len || (!lim.block && !lim.shortcut))
		return;
	/* the block path and the shortcut off: the same answer, segment by segment */
	lim.block = 0;
	lim.shortcut = false;
	r = iodma_segments_count(&cmd.view, &lim, cmd.prep_len, &mn, &mbad);
	cnt.block_dry_runs++;
	if ((int)r != (int)mr || n != mn || bad != mbad)
		fail("dry run: %s at 0x%llx, %llu segments; without blocks %s at 0x%llx, %llu",
		     rule_names[mr], bad, n, r < 8 ? rule_names[r] : "?", mbad, mn);
}

static void gen_session(const struct iodma_model_limits *m)
{
	u64 off = chance(80) ? 0 : below(fc.prep_len), calls = 0;
	u64 limit = 8 + below(64);

	while (calls++ < limit && !fail_len) {
		u32 cap = chance(70) ? 1 + below(4) : 1 + below(MAX_CAP);
		unsigned int act = below(100);

		if (act < 8) {			/* a jump anywhere */
			off = below(fc.prep_len);
		} else if (act < 12) {		/* to a length unit */
			off = round_down(below(fc.prep_len), cmd.lim.len_align);
		} else if (act < 15) {		/* past the end */
			u64 o = fc.prep_len + (chance(50) ? 0 : below(1 << 20));

			gen_call(m, &o, cap);
			continue;
		} else if (act < 17) {		/* capacity 0 */
			u32 zero = 0;
			u64 o = off, raw[2];
			int ret = iodma_cmd_gen_segments(&cmd, &o, raw, &zero);

			if (ret != -EINVAL || o != off || zero)
				fail("gen with capacity 0: ret %d", ret);
			continue;
		} else if (act < 19) {		/* the other width */
			u32 n = 1;
			u64 o = off, raw[2];
			void *segs = raw;
			int ret = fc.spec.output <= IODMA_OUT_LITTLE32 ?
				  iodma_cmd_gen64_segments(&cmd, &o, segs, &n) :
				  iodma_cmd_gen32_segments(&cmd, &o, segs, &n);

			if (ret != -EINVAL || o != off || n != 1)
				fail("gen of the other width: ret %d", ret);
			continue;
		}
		if (off >= fc.prep_len)
			off = 0;
		if (!gen_call(m, &off, cap) && !fail_len)
			off = below(fc.prep_len);	/* an expected error: go elsewhere */
	}
}

static u64 min_cut(const struct iodma_model_limits *m)
{
	u64 c = m->max_seg;

	if (m->block && m->block < c)
		c = m->block;
	return c;
}

static bool segments_case(void)
{
	struct iodma_model_spec ms;
	struct iodma_model_limits m;
	struct iodma_limits lim;
	u64 md_len = 0, la, bound;
	unsigned int i, tries;

	prp_shaped = chance(33);
	for (tries = 0;; tries++) {
		if (prp_shaped)
			rand_prp_spec(&fc.spec);
		else
			rand_spec(&fc.spec);
		if (!iodma_spec_normalize(&fc.spec, &lim))
			break;
		cnt.skipped_specs++;
	}
	fc.reach = 0;
	grid_start = 0;
	if (prp_shaped && lim.block && chance(25)) {
		/* a reach 2 bytes short of a block's end to 1 past it: block_run()'s room */
		u64 blk = lim.block;
		u64 base = (((1ULL << 20) + below(1ULL << 40)) & ~(blk - 1)) + 2 * blk;

		fc.reach = base - 3 + below(4);
		grid_start = base - blk - 1 - below(blk - 1);
		cnt.grid_reaches++;
	} else if (chance(30)) {
		/* a device reach: DMA mask, or a bus_dma_limit that need not be 2^n - 1 */
		fc.reach = chance(50) ? pow2(20, 63) - 1 : (1ULL << 20) + below(1ULL << 40);
		if (chance(30))
			fc.reach = ((1ULL << 32) - 1) - below(1ULL << 30);
	}
	if (fc.reach)
		lim.addr_limit = min(lim.addr_limit, fc.reach);
	iodma_model_spec_of(&fc.spec, fc.reach, &ms);
	iodma_model_limits(&ms, &m);
	if (m.last != lim.addr_limit || m.max_seg != lim.max_seg || m.align != lim.align ||
	    m.len_align != lim.len_align || m.int_align != lim.int_align ||
	    m.block != (lim.boundary_mask ? lim.boundary_mask + 1 : 0) ||
	    m.max_transfer != lim.max_transfer ||
	    m.max_segs != lim.max_segs || m.gap != lim.virt_mask + (lim.virt_mask ? 1 : 0)) {
		fail("iodma_spec_normalize() and the model disagree on the limits");
		return false;
	}

	friendly_unit = chance(50) ? max3(lim.align, lim.int_align, lim.len_align) : 0;
	if (friendly_unit)
		friendly_unit = max(friendly_unit, lim.virt_mask + 1);
	rand_layout(&lim);
	short_io = chance(20);
	if (short_io)
		short_layout(&lim);
	cnt.short_cases += short_io;
	for (i = 0; i < fc.md_n; i++)
		md_len += fc.md[i].len;
	la = lim.len_align;
	if (md_len < la) {
		fc.md[0].len += la;	/* room for one length unit */
		if (fc.md[0].addr > U64_MAX - fc.md[0].len)
			fc.md[0].addr = U64_MAX - fc.md[0].len - 1;
		md_len += la;
	}
	/* a prepared range: a multiple of length_alignment, not too many segments */
	fc.prep_off = chance(50) || short_io ? 0 : below(md_len - la + 1);
	if (friendly_unit)
		fc.prep_off = round_down(fc.prep_off, friendly_unit);
	bound = md_len - fc.prep_off;
	if (min_cut(&m) < bound / 512)
		bound = min_cut(&m) * 512;
	fc.prep_len = round_down(chance(60) || short_io ? bound : 1 + below(bound), la);
	if (!fc.prep_len) {
		fc.prep_off = 0;
		fc.prep_len = la;
	}
	slice_view();
	/* MAPPED reads sg_dma_*, the others the physical view; bus memory: ranges */
	if (chance(40) || fc.prep_len > (1ULL << 38))
		fc.src = IODMA_SRC_RANGES;
	else
		fc.src = fc.spec.map == IODMA_MAPPED ? IODMA_SRC_SG_DMA : IODMA_SRC_SG_PHYS;
	split_entries(fc.src != IODMA_SRC_RANGES);
	setup_cmd(&lim);
	cnt.block_cases += lim.block != 0;

	check_dry_run(&m, chance(50) ? U64_MAX : m.last);
	if (!fail_len)
		gen_session(&m);
	cnt.cases++;
	return !fail_len;
}

/* A spec that passes the basic checks of spec.c by construction. */
static void rand_basic_spec(struct iodma_spec *s)
{
	u64 la;

	rand_spec(s);
	la = s->length_alignment ? s->length_alignment : 1;
	if (s->max_segment_size && s->max_segment_size < la)
		s->max_segment_size = la * (1 + below(4));
	if (s->seg_boundary_mask && s->seg_boundary_mask != U64_MAX &&
	    s->seg_boundary_mask + 1 < la)
		s->seg_boundary_mask = la - 1;
	if (s->max_transfer_size && s->max_transfer_size < la)
		s->max_transfer_size = la + below(la);
	/* small specs, so that infeasible ones are common */
	if (chance(40) && s->max_segment_size && s->max_segment_size < 4096)
		s->internal_alignment = (u32)pow2(9, 14);
	if (chance(10))
		s->addr_bits = 12 + below(8);
	if (s->output <= IODMA_OUT_LITTLE32 && s->addr_bits > 32)
		s->addr_bits = 32;
}

/* The ideal copy buffer of a spec: [unit, unit + len) in one piece. */
static enum iodma_model_rule ideal_walk(const struct iodma_model_limits *m, u64 unit, u64 len,
					u64 *nsegs, u64 *bad)
{
	struct iodma_model_range buf = { .addr = unit, .len = len };

	return iodma_model_walk(m, &buf, 1, 0, ~0ULL, NULL, nsegs, bad);
}

static bool spec_case(void)
{
	struct iodma_spec *s = &fc.spec;
	struct iodma_model_spec ms;
	struct iodma_model_limits m;
	const char *why;
	u64 unit, cap, longest, len, nsegs, bad;
	enum iodma_model_rule r;
	int ret, i;

	rand_basic_spec(s);
	fc.reach = 0;
	fc.view_n = 0;
	iodma_model_spec_of(s, 0, &ms);
	iodma_model_limits(&ms, &m);
	why = iodma_model_spec_infeasible(&ms);
	ret = iodma_spec_validate(s);
	cnt.specs++;
	if (ret != (why ? -EINVAL : 0)) {
		fail("iodma_spec_validate() is %d, the model says %s", ret, why ? why : "feasible");
		return false;
	}
	unit = max(max3(m.align, m.int_align, m.len_align), m.gap);
	cap = min_cut(&m);
	if (why) {
		cnt.specs_rejected++;
		/* show a length the spec allows that the ideal buffer cannot serve */
		len = unit - 1 >= m.last ? m.len_align : cap + m.len_align;
		if (len > m.max_transfer || (unit - 1 < m.last && len - 1 > m.last - unit)) {
			fail("rejected spec: the witness length 0x%llx is not allowed", len);
			return false;
		}
		r = ideal_walk(&m, unit, len, &nsegs, &bad);
		if (r == IODMA_MODEL_OK) {
			fail("rejected spec (%s): the ideal buffer serves 0x%llx bytes", why, len);
			return false;
		}
		return true;
	}
	/* accepted: the ideal buffer serves every allowed length; try a few */
	longest = min(round_down(m.max_transfer, m.len_align), m.last - (unit - 1));
	if (longest / cap > 2000)
		longest = round_down(cap * 2000, m.len_align);
	for (i = 0; i < 4; i++) {
		len = i == 0 ? m.len_align : i == 1 ? longest :
		      round_down(1 + below(longest), m.len_align);
		if (!len)
			len = m.len_align;
		r = ideal_walk(&m, unit, len, &nsegs, &bad);
		if (r != IODMA_MODEL_OK) {
			fail("accepted spec: ideal buffer breaks %s at 0x%llx, length 0x%llx",
			     rule_names[r], bad, len);
			return false;
		}
	}
	return true;
}

/*
 * iodma_segments_reachable(), the preflight's scan of a view for a plain
 * specification without max_segments, against the model: true exactly when
 * the model's dry run of the range breaks no rule (and then
 * iodma_segments_check() agrees).  Reaches that are not 2^n - 1, pieces
 * around the reach and near U64_MAX (some ending at 2^64), each source.
 * Views hold no empty entry (the descriptor walks skip them), so none is
 * drawn.
 */
static u64 reach_true, reach_false, reach_edge;

static u64 rand_reach(void)
{
	switch (below(6)) {
	case 0:
		return 0;
	case 1:
		return pow2(12, 63) - 1;
	case 2:
		return (1ULL << 20) + below(1ULL << 40);
	case 3:
		return U64_MAX - below(1 << 20);
	case 4:
		return 0xffffffffULL - below(1ULL << 30);
	default:
		return 0x123456fffULL;
	}
}

/* Move the layout's pieces around @line, or to the top of the address space. */
static void place_pieces(u64 line, bool top)
{
	unsigned int i;

	for (i = 0; i < fc.md_n; i++) {
		u64 len = fc.md[i].len, a, prev_end = 0;

		/* 0: the previous piece ends at 2^64, or wraps */
		if (i && fc.md[i - 1].addr + fc.md[i - 1].len > fc.md[i - 1].addr)
			prev_end = fc.md[i - 1].addr + fc.md[i - 1].len;
		if (top) {
			/* last byte at U64_MAX - 0 .. 2^20, often at 2^64 - 1 exactly */
			a = 0 - len - (chance(30) ? 0 : below(1 << 20));
		} else if (i && chance(40) && prev_end && prev_end <= U64_MAX - len) {
			a = prev_end;	/* contiguous; never across 2^64 */
		} else {
			a = line - below(1 << 20) + below(1 << 20);
			if (chance(30))
				a = line - below(len + 1);	/* across the line */
			else if (chance(15))
				a = line - len;			/* its last byte before it */
		}
		if (!top && a > 0 - len)
			a = 0 - len;
		fc.md[i].addr = a;
	}
}

static bool reach_case(void)
{
	struct iodma_model_spec ms;
	struct iodma_model_limits m;
	struct iodma_limits lim;
	enum iodma_model_rule r;
	enum iodma_bounce_reason check;
	u64 md_len = 0, nsegs, bad, bound;
	unsigned int i;
	bool got, want;

	fc.spec = (struct iodma_spec){ .output = below(6), .map = below(3) };
	if (chance(60)) {
		unsigned int hi = fc.spec.output <= IODMA_OUT_LITTLE32 ? 32 : 64;

		fc.spec.addr_bits = 12 + below(hi - 12 + 1);
	}
	fc.spec.max_segment_size = rand_size();
	fc.spec.max_transfer_size = chance(80) ? 0 : rand_size();
	if (chance(20))
		fc.spec.seg_boundary_mask = U64_MAX;	/* no boundary: still plain */
	if (chance(20)) {
		/* the rules written out as 1: still plain */
		fc.spec.alignment = 1;
		fc.spec.length_alignment = 1;
		fc.spec.internal_alignment = 1;
	}
	if (iodma_spec_normalize(&fc.spec, &lim)) {
		fail("a plain specification refused");
		return false;
	}
	if (!lim.plain || lim.max_segs != U64_MAX) {
		fail("the specification is not plain without max_segments");
		return false;
	}
	fc.reach = rand_reach();
	if (fc.reach)
		lim.addr_limit = min(lim.addr_limit, fc.reach);
	iodma_model_spec_of(&fc.spec, fc.reach, &ms);
	iodma_model_limits(&ms, &m);

	friendly_unit = 0;
	rand_layout(&lim);
	switch (below(4)) {
	case 0:
		break;		/* rand_layout()'s own lines */
	case 1:
		place_pieces(U64_MAX - below(1ULL << 32), true);
		break;
	default:
		place_pieces(lim.addr_limit == U64_MAX ? U64_MAX - below(1ULL << 32) :
			     lim.addr_limit + 1, false);
		break;
	}
	for (i = 0; i < fc.md_n; i++)
		md_len += fc.md[i].len;
	fc.prep_off = chance(50) ? 0 : below(md_len);
	bound = md_len - fc.prep_off;
	/* the model walks segment by segment: not too many */
	if (lim.max_seg < bound / 512)
		bound = lim.max_seg * 512;
	fc.prep_len = chance(50) ? bound : 1 + below(bound);
	slice_view();
	if (chance(40) || fc.prep_len > (1ULL << 38))
		fc.src = IODMA_SRC_RANGES;
	else
		fc.src = chance(50) ? IODMA_SRC_SG_DMA : IODMA_SRC_SG_PHYS;
	split_entries(fc.src != IODMA_SRC_RANGES);
	setup_cmd(&lim);

	got = iodma_segments_reachable(&cmd.view, &lim);
	r = iodma_model_count(&m, fc.view, fc.view_n, &nsegs, &bad);
	if (r != IODMA_MODEL_OK && r != IODMA_MODEL_ADDRESS) {
		fail("the model breaks %s under a plain specification", rule_names[r]);
		return false;
	}
	want = r == IODMA_MODEL_OK;
	check = iodma_segments_check(&cmd.view, &lim, fc.prep_len);
	if (got != want)
		fail("iodma_segments_reachable() is %d, the model %s at 0x%llx (reach 0x%llx)",
		     got, rule_names[r], bad, lim.addr_limit);
	else if ((check == IODMA_BOUNCE_NONE) != got)
		fail("iodma_segments_reachable() is %d, iodma_segments_check() %s", got,
		     check < 8 ? rule_names[check] : "?");
	reach_true += got;
	reach_false += !got;
	for (i = 0; i < fc.view_n; i++)
		if (fc.view[i].addr + (fc.view[i].len - 1) == lim.addr_limit) {
			reach_edge++;
			break;
		}
	return !fail_len;
}

static void usage(FILE *f)
{
	fprintf(f, "%s: segfuzz [-s SEED] [-n CASES] [-c CASE] [-h]\n"
		"  Compare src/segments.c (gen, the dry runs, iodma_segments_reachable()) and\n"
		"  iodma_spec_validate() with the reference model;\n"
		"  KTAP on stdout, exit status 1 on a mismatch.\n"
		"  -s SEED   the run's seed (default 1)\n"
		"  -n CASES  cases of each test (default 100000)\n"
		"  -c CASE   run only case CASE (a replay)\n", __func__);
}

typedef bool (*case_fn)(void);

static bool run_test(int num, const char *name, case_fn fn, u64 seed, u64 ncases, s64 only)
{
	u64 i = only >= 0 ? (u64)only : 0, end = only >= 0 ? (u64)only + 1 : ncases;

	for (; i < end; i++) {
		fc.seed = seed;
		fc.index = i;
		rng_state = seed * 0x100000001b3ULL + i * 0x9e3779b97f4a7c15ULL + num;
		if (!fn()) {
			print_case();
			printf("not ok %d %s\n", num, name);
			return false;
		}
	}
	printf("ok %d %s\n", num, name);
	return true;
}

int main(int argc, char **argv)
{
	u64 seed = 1, ncases = 100000;
	s64 only = -1;
	struct timespec t0, t1;
	bool ok;
	int opt;

	while ((opt = getopt(argc, argv, "s:n:c:h")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			ncases = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			only = strtoll(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("KTAP version 1\n# Subtest: iodma_segfuzz\n1..3\n");
	printf("# seed 0x%llx, %llu cases per test\n", seed, ncases);
	ok = run_test(1, "gen_matches_model", segments_case, seed, ncases, only);
	printf("# %llu cases (%llu specs redrawn), %llu gen calls, %llu segments,", cnt.cases,
	       cnt.skipped_specs, cnt.calls, cnt.segs);
	printf(" %llu expected gen errors, %llu dry runs (%llu breaking a rule)\n",
	       cnt.expected_errors, cnt.dry_runs, cnt.dry_failures);
	printf("# %llu gen calls of the fast paths checked against the general path\n",
	       cnt.shadow_calls);
	printf("# block path: %llu cases, %llu gen calls, %llu segments of whole blocks,",
	       cnt.block_cases, cnt.block_calls, cnt.block_segs);
	printf(" %llu dry runs checked without it and the shortcut,", cnt.block_dry_runs);
	printf(" %llu reaches around a block's end\n", cnt.grid_reaches);
	printf("# shortcut: %llu short I/O cases, %llu dry runs it decides\n", cnt.short_cases,
	       cnt.short_hits);
	printf("# dry runs by rule: %llu none, %llu address, %llu alignment,", cnt.by_rule[0],
	       cnt.by_rule[1], cnt.by_rule[2]);
	printf(" %llu length, %llu internal, %llu segments, %llu gaps\n", cnt.by_rule[3],
	       cnt.by_rule[4], cnt.by_rule[6], cnt.by_rule[7]);
	fail_len = 0;
	ok &= run_test(2, "spec_validate_matches_model", spec_case, seed, ncases, only);
	printf("# %llu specs, %llu rejected as infeasible\n", cnt.specs, cnt.specs_rejected);
	fail_len = 0;
	ok &= run_test(3, "reachable_matches_model", reach_case, seed, ncases, only);
	printf("# %llu views within the reach, %llu beyond it, %llu with a last byte on it\n",
	       reach_true, reach_false, reach_edge);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# seed 0x%llx: %s in %.1f s\n", seed, ok ? "no mismatch" : "MISMATCH",
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return ok ? 0 : 1;
}
