// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the limits a controller's descriptor format sets, and the windows
 * that fit them.  max_segments (an SG table's capacity) on scattered memory:
 * exact segment counts, a bounce into a copy buffer that needs no more, and
 * -E2BIG where nothing can be copied; the gap rule (virt_boundary_mask,
 * NVMe PRPs) on aligned, gapped and sub-page memory; transfer windows
 * (iodma_cmd_prepare_window()) over descriptors of 1 byte to 64 MiB under
 * combinations of every limit: they tile the descriptor exactly, none breaks
 * a limit, each is as long as the limits allow.
 *
 * Scattered memory is every other page of a block, so that no two pages are
 * adjacent.  BYPASSED commands emit physical addresses in every
 * configuration, so their counts are exact; MAPPED ones go through the DMA
 * API (swiotlb=force remaps them), and are held to the rules and the data.
 */
#include <kunit/test.h>
#include <linux/dma-direct.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include "iodma_kunit.h"

/* @n pages, none adjacent to another: every other page of a block. */
static struct page **scattered_pages(struct kunit *test, unsigned int n)
{
	struct page *block = iodma_test_pages(test, order_base_2(2 * n));
	struct page **pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < n; i++)
		pages[i] = nth_page(block, 2 * i);
	return pages;
}

/* Runs of bus-contiguous chunks of the command's copy buffer over its first @len bytes. */
static int copy_buffer_runs(struct kunit *test, struct iodma_cmd *cmd, u64 len)
{
	const struct iodma_cbuf_chunk *c;
	u64 next = 0, done = 0;
	unsigned int i;
	int runs = 0;

	for (i = 0; done < len && (c = iodma_test_cbuf_chunk(cmd, i)); i++) {
		if (!i || c->dma != next)
			runs++;
		next = c->dma + (PAGE_SIZE << c->order);
		done += PAGE_SIZE << c->order;
	}
	KUNIT_EXPECT_GE(test, done, len);
	return runs;
}

/*
 * The device writes a pattern through the segments of the prepared command;
 * after complete the descriptor holds it (design.rst invariant 3).
 */
static void device_writes_pattern(struct kunit *test, struct device *dev, struct iodma_cmd *cmd,
				  struct iodma_md *md, const struct iodma_seg64 *segs, int n)
{
	u64 len = iodma_md_length(md);
	u8 *want = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *got = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);
	iodma_test_fill(want, len, (u32)len);
	iodma_test_device_dma(test, dev, segs, n, want, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, got, len), len);
	KUNIT_EXPECT_EQ(test, memcmp(want, got, len), 0);
}

struct segs_case {
	const char *name;
	unsigned int pages;
	u32 max_segments;
	enum iodma_map_type map;
};

static const struct segs_case segs_cases[] = {
	{ "bypassed_16_pages_limit_1", 16, 1, IODMA_BYPASSED },
	{ "bypassed_16_pages_limit_2", 16, 2, IODMA_BYPASSED },
	{ "bypassed_16_pages_limit_15", 16, 15, IODMA_BYPASSED },
	{ "bypassed_16_pages_limit_16", 16, 16, IODMA_BYPASSED },
	{ "bypassed_16_pages_limit_128", 16, 128, IODMA_BYPASSED },
	{ "bypassed_256_pages_limit_128", 256, 128, IODMA_BYPASSED },
	{ "bypassed_256_pages_no_limit", 256, 0, IODMA_BYPASSED },
	{ "mapped_16_pages_limit_1", 16, 1, IODMA_MAPPED },
	{ "mapped_16_pages_limit_2", 16, 2, IODMA_MAPPED },
	{ "mapped_256_pages_limit_128", 256, 128, IODMA_MAPPED },
};

KUNIT_ARRAY_PARAM_DESC(segs, segs_cases, name);

/*
 * A range of scattered pages needs one segment per page.  Within the limit
 * it goes as it is; over it, it bounces (IODMA_BOUNCE_SEGMENTS) into a copy
 * buffer whose segments (its contiguous runs of chunks) fit the limit; the
 * data arrives either way.
 */
static void max_segments_bounces_only_over_the_limit(struct kunit *test)
{
	const struct segs_case *c = test->param_value;
	struct iodma_spec spec = { .max_segments = c->max_segments, .map = c->map,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages = scattered_pages(test, c->pages);
	u64 len = (u64)c->pages * PAGE_SIZE;
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_pages(pages, c->pages, 0, len,
								      DMA_FROM_DEVICE));
	bool over = c->max_segments && c->pages > c->max_segments;
	struct iodma_seg64 *segs;
	int n;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	n = iodma_test_segments(test, cmd, 64, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, segs, n);
	if (c->map == IODMA_BYPASSED || !is_swiotlb_force_bounce(dev)) {
		KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd),
				over ? IODMA_BOUNCE_SEGMENTS : IODMA_BOUNCE_NONE);
		KUNIT_EXPECT_EQ(test, n, over ? copy_buffer_runs(test, cmd, len) : (int)c->pages);
	} else if (iodma_cmd_bounce_reason(cmd)) {
		/* swiotlb's slots may join pages: a bounce is for the count only */
		KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_SEGMENTS);
	}
	if (c->max_segments)
		KUNIT_EXPECT_LE(test, n, (int)c->max_segments);
	device_writes_pattern(test, dev, cmd, md, segs, n);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
}

/* Memory iodma cannot copy: over max_segments, prepare says -E2BIG and changes nothing. */
static void max_segments_without_copy_path_returns_e2big(struct kunit *test)
{
	struct iodma_spec spec = { .max_segments = 8, .map = IODMA_ITERATE_ONLY,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages = scattered_pages(test, 16);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_pages(pages, 16, 0, 16 * PAGE_SIZE,
								      DMA_TO_DEVICE));
	struct iodma_seg64 *segs;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), -E2BIG);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(md), 0);
	KUNIT_EXPECT_PTR_EQ(test, iodma_test_cbuf_md(cmd), NULL);
	/* the first 8 pages are 8 segments: that range fits */
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, 8 * PAGE_SIZE, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_segments(test, cmd, 4, &segs), 8);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
}

/* Bus memory (physical ranges) cannot be copied either. */
static void max_segments_on_bus_memory_returns_e2big(struct kunit *test)
{
	struct iodma_spec spec = { .max_segments = 3, .map = IODMA_BYPASSED,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages = scattered_pages(test, 4);
	struct iodma_phys_range r[4];
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	unsigned int i;

	for (i = 0; i < 4; i++)
		r[i] = (struct iodma_phys_range){ page_to_phys(pages[i]), PAGE_SIZE };
	md = iodma_test_md(test, iodma_md_from_phys(r, 4, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), -E2BIG);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);

	spec.max_segments = 4;
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &spec), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, cmd, 8, &segs), 4);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, segs[i].addr, (u64)phys_to_dma(dev, r[i].addr));
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * 64 KiB in at most 2 segments of at most 4 KiB: no memory can do it, so
 * prepare refuses before it allocates a copy buffer.
 */
static void max_segments_beyond_any_copy_buffer_returns_e2big(struct kunit *test)
{
	struct iodma_spec spec = { .max_segments = 2, .max_segment_size = SZ_4K,
				   .map = IODMA_BYPASSED, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages = scattered_pages(test, 16);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_pages(pages, 16, 0, SZ_64K,
								      DMA_TO_DEVICE));

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), -E2BIG);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(md), 0);
	KUNIT_EXPECT_PTR_EQ(test, iodma_test_cbuf_md(cmd), NULL);
	/* 8 KiB of it is two segments: within the limit, as it is */
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, SZ_8K, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
}

/* explain foresees the count: the reason, the bytes that fit, the segments needed. */
static void explain_names_segments_and_gaps(struct kunit *test)
{
	struct iodma_spec spec = { .max_segments = 5, .map = IODMA_BYPASSED,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages = scattered_pages(test, 8);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_pages(pages, 8, 0, 8 * PAGE_SIZE,
								      DMA_TO_DEVICE));
	struct iodma_md *sub = iodma_test_md(test, iodma_md_from_pages(pages, 2, 0, 2048,
								       DMA_TO_DEVICE));
	struct iodma_md *parts[2] = { sub, md };
	struct iodma_md *gapped = iodma_test_md(test, iodma_md_multi(parts, 2, DMA_TO_DEVICE));
	struct iodma_explain ex;

	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(cmd, md, 0, 0, &ex), 0);
	KUNIT_EXPECT_EQ(test, ex.reason, IODMA_BOUNCE_SEGMENTS);
	KUNIT_EXPECT_EQ(test, ex.bad_offset, 5 * PAGE_SIZE);
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(ex.reason), "segments");

	spec = (struct iodma_spec){ .virt_boundary_mask = PAGE_SIZE - 1, .map = IODMA_BYPASSED,
				    .output = IODMA_OUT_HOST64 };
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &spec), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(cmd, gapped, 0, 0, &ex), 0);
	/* the first segment ends at 2048, off the block, where the run ends */
	KUNIT_EXPECT_EQ(test, ex.reason, IODMA_BOUNCE_GAPS);
	KUNIT_EXPECT_EQ(test, ex.bad_offset, 0ULL);
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(ex.reason), "gaps");
	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(cmd, md, 0, 0, &ex), 0);
	KUNIT_EXPECT_EQ(test, ex.reason, IODMA_BOUNCE_NONE);
	KUNIT_EXPECT_EQ(test, ex.nsegs, 8ULL);
}

struct gap_case {
	const char *name;
	unsigned int pages;	/* scattered pages of the descriptor */
	u64 offset;		/* into the first page */
	u64 len;
	u64 max_segment_size;
	bool contiguous;	/* pages of one block instead */
	enum iodma_bounce_reason reason;
	unsigned int nsegs;
	u64 first, last;	/* the first and last segment's length */
};

static const struct gap_case gap_cases[] = {
	{ "whole_pages", 8, 0, 8 * SZ_4K, 0, false, IODMA_BOUNCE_NONE, 8, SZ_4K, SZ_4K },
	{ "sub_page_ends", 8, 512, 8 * SZ_4K - 512 - 256, 0, false, IODMA_BOUNCE_NONE, 8,
	  SZ_4K - 512, SZ_4K - 256 },
	{ "inside_one_page", 1, 3000, 100, 0, false, IODMA_BOUNCE_NONE, 1, 100, 100 },
	{ "contiguous_cut_back_to_block", 4, 0, 4 * SZ_4K, 6144, true, IODMA_BOUNCE_NONE, 4,
	  SZ_4K, SZ_4K },
	{ "contiguous_from_mid_page", 4, 1024, 3 * SZ_4K, 6144, true, IODMA_BOUNCE_NONE, 3,
	  SZ_4K - 1024, SZ_4K + 1024 },
};

KUNIT_ARRAY_PARAM_DESC(gap, gap_cases, name);

/*
 * The gap rule (virt_boundary_mask = 4 KiB - 1) on memory that meets it:
 * exact segments, no bounce; where a segment is cut (max_segment_size) it
 * is cut back to a block end.
 */
static void gap_rule_segments_are_exact(struct kunit *test)
{
	const struct gap_case *c = test->param_value;
	struct iodma_spec spec = { .virt_boundary_mask = SZ_4K - 1, .map = IODMA_BYPASSED,
				   .max_segment_size = c->max_segment_size,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages;
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	unsigned int i;
	int n;

	if (c->contiguous) {
		struct page *block = iodma_test_pages(test, order_base_2(c->pages));

		pages = kunit_kcalloc(test, c->pages, sizeof(*pages), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pages);
		for (i = 0; i < c->pages; i++)
			pages[i] = nth_page(block, i);
	} else {
		pages = scattered_pages(test, c->pages);
	}
	md = iodma_test_md(test, iodma_md_from_pages(pages, c->pages, c->offset, c->len,
						     DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), c->reason);
	n = iodma_test_segments(test, cmd, 3, &segs);
	KUNIT_ASSERT_EQ(test, n, (int)c->nsegs);
	KUNIT_EXPECT_EQ(test, segs[0].addr, (u64)phys_to_dma(dev, page_to_phys(pages[0])) +
			c->offset);
	KUNIT_EXPECT_EQ(test, segs[0].len, c->first);
	KUNIT_EXPECT_EQ(test, segs[n - 1].len, c->last);
	iodma_test_check_invariants(test, cmd, segs, n);
	device_writes_pattern(test, dev, cmd, md, segs, n);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
}

/*
 * Memory that breaks the gap rule: a piece that ends mid-page before
 * another piece.  A command that can copy bounces (IODMA_BOUNCE_GAPS) into
 * a copy buffer that meets it; one that cannot is told by gen (-EINVAL).
 */
static void gapped_memory_bounces_or_gen_refuses(struct kunit *test)
{
	struct iodma_spec spec = { .virt_boundary_mask = SZ_4K - 1, .map = IODMA_BYPASSED,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages = scattered_pages(test, 3);
	struct iodma_md *parts[2], *md;
	struct iodma_seg64 *segs, seg;
	u64 off = 0;
	u32 one = 1;
	int n;

	parts[0] = iodma_test_md(test, iodma_md_from_pages(pages, 1, 0, 2048, DMA_FROM_DEVICE));
	parts[1] = iodma_test_md(test, iodma_md_from_pages(pages + 1, 2, 0, 2 * SZ_4K,
							   DMA_FROM_DEVICE));
	md = iodma_test_md(test, iodma_md_multi(parts, 2, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_GAPS);
	n = iodma_test_segments(test, cmd, 4, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	KUNIT_EXPECT_EQ(test, n, copy_buffer_runs(test, cmd, 2048 + 2 * SZ_4K));
	iodma_test_check_invariants(test, cmd, segs, n);
	device_writes_pattern(test, dev, cmd, md, segs, n);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);

	spec.map = IODMA_ITERATE_ONLY;
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &spec), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen64_segments(cmd, &off, &seg, &one), -EINVAL);
	KUNIT_EXPECT_EQ(test, off, 0ULL);
	KUNIT_EXPECT_EQ(test, one, 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/* The windows of one descriptor under one spec. */
struct window_case {
	const char *name;
	struct iodma_spec spec;
	unsigned int misalign;	/* bytes into the buffer the descriptor starts */
	bool huge;		/* also over 64 MiB */
};

#define OUT64 .output = IODMA_OUT_HOST64

static const struct window_case window_cases[] = {
	{ "no_limits", { .map = IODMA_BYPASSED, OUT64 } },
	{ "max_transfer_64k", { .max_transfer_size = SZ_64K, .map = IODMA_BYPASSED, OUT64 } },
	{ "max_segments_1", { .max_segments = 1, .map = IODMA_BYPASSED, OUT64 } },
	{ "max_segments_2_length_512",
	  { .max_segments = 2, .length_alignment = 512, .map = IODMA_BYPASSED, OUT64 } },
	{ "max_segments_128", { .max_segments = 128, .map = IODMA_BYPASSED, OUT64 }, 0, true },
	{ "gaps_and_max_segments_4",
	  { .virt_boundary_mask = SZ_4K - 1, .max_segments = 4, .map = IODMA_BYPASSED, OUT64 },
	  100 },
	{ "every_limit",
	  { .max_transfer_size = SZ_1M, .max_segments = 16, .max_segment_size = SZ_64K,
	    .length_alignment = 512, .virt_boundary_mask = SZ_4K - 1,
	    .seg_boundary_mask = SZ_64K - 1, .map = IODMA_BYPASSED, OUT64 }, 0, true },
	{ "bounced_alignment_max_segments_2",
	  { .alignment = SZ_4K, .max_segments = 2, .map = IODMA_BYPASSED, OUT64 }, 1 },
	{ "mapped_max_segments_8", { .max_segments = 8, .map = IODMA_MAPPED, OUT64 } },
	{ "iterate_only_max_segments_4", { .max_segments = 4, .map = IODMA_ITERATE_ONLY, OUT64 } },
};

KUNIT_ARRAY_PARAM_DESC(window, window_cases, name);

static const u64 window_sizes[] = { 1, 511, SZ_4K, SZ_4K + 1, SZ_64K + 3, SZ_1M + 7, SZ_64M };

/*
 * Walk @len bytes of a vmalloc buffer window by window.  Each window keeps
 * every rule (invariant 2, which includes max_segments), starts where the
 * last ended and is no shorter than the limits make it: short of the end and
 * of max_transfer_size, only the segment count (or, bounced, the copy
 * buffer) stopped it.  The bytes left that are fewer than a length unit are
 * refused with -EINVAL.
 */
static void walk_windows(struct kunit *test, struct device *dev, struct iodma_cmd *cmd,
			 const struct iodma_spec *s, u8 *buf, u64 len)
{
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(buf, len, DMA_TO_DEVICE));
	u64 la = s->length_alignment ? s->length_alignment : 1;
	u64 mt = s->max_transfer_size ? s->max_transfer_size : U64_MAX;
	bool joined = s->map == IODMA_MAPPED && is_swiotlb_force_bounce(dev);
	u64 off = 0, win, windows = 0;
	struct iodma_seg64 *segs;
	int n;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	while (len - off >= la) {
		win = 0;
		KUNIT_ASSERT_EQ_MSG(test, iodma_cmd_prepare_window(cmd, off, &win), 0,
				    "window at %llu of %llu", off, len);
		KUNIT_ASSERT_GT(test, win, 0ULL);
		KUNIT_EXPECT_LE(test, win, min(mt, len - off));
		KUNIT_EXPECT_EQ(test, win % la, 0ULL);
		n = iodma_test_segments(test, cmd, 64, &segs);
		if (s->map == IODMA_ITERATE_ONLY && n < 0) {
			/* gen's to report: iterate-only never bounces */
			KUNIT_EXPECT_EQ(test, n, -EINVAL);
		} else {
			KUNIT_ASSERT_GT(test, n, 0);
			iodma_test_check_invariants(test, cmd, segs, n);
			/*
			 * Short of the limits, only the count stopped it; swiotlb's
			 * slots may join a window's pages after mapping, though.
			 */
			if (!iodma_cmd_bounce_reason(cmd) && !joined &&
			    win < round_down(min(mt, len - off), la))
				KUNIT_EXPECT_EQ_MSG(test, (u64)n, (u64)s->max_segments,
						    "window at %llu: %llu bytes, %d segments",
						    off, win, n);
		}
		KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);
		off += win;
		windows++;
	}
	KUNIT_EXPECT_EQ(test, off, round_down(len, la));
	if (off < len) {
		win = 0;
		KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(cmd, off, &win), -EINVAL);
		KUNIT_EXPECT_EQ(test, win, 0ULL);
	}
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
	/* a window is at most max_transfer_size: at least this many of them */
	KUNIT_EXPECT_GE(test, windows, div64_u64(round_down(len, la), mt));
}

/* Windows over descriptors of 1 byte to 64 MiB tile them exactly and keep every limit. */
static void windows_tile_the_descriptor(struct kunit *test)
{
	const struct window_case *c = test->param_value;
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &c->spec);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(window_sizes); i++) {
		u64 len = window_sizes[i];
		u8 *buf;

		if (len > SZ_2M && !c->huge)
			continue;
		buf = iodma_test_vzalloc(test, len + c->misalign);
		walk_windows(test, dev, cmd, &c->spec, buf + c->misalign, len);
	}
}

/* Bad arguments and states: a clear errno, *length and the command unchanged. */
static void prepare_window_bad_input(struct kunit *test)
{
	struct iodma_spec spec = { .length_alignment = 512, .map = IODMA_BYPASSED, OUT64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	u8 *buf = kunit_kzalloc(test, SZ_8K, GFP_KERNEL);
	struct iodma_md *md;
	u64 len = 77;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	md = iodma_test_md(test, iodma_md_from_kva(buf, SZ_8K, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(NULL, 0, &len), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(cmd, 0, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(cmd, 0, &len), -ENODATA);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(cmd, SZ_8K, &len), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(cmd, U64_MAX, &len), -EINVAL);
	/* fewer than a length unit left, or wanted */
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(cmd, SZ_8K - 511, &len), -EINVAL);
	len = 511;
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(cmd, 0, &len), -EINVAL);
	KUNIT_EXPECT_EQ(test, len, 511ULL);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);
	/* a wish beyond the end is cut to it, and down to the length unit */
	len = U64_MAX;
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare_window(cmd, 100, &len), 0);
	KUNIT_EXPECT_EQ(test, len, (u64)round_down(SZ_8K - 100, 512));
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_window(cmd, 100, &len), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);
	len = 1000;
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare_window(cmd, 0, &len), 0);
	KUNIT_EXPECT_EQ(test, len, 512ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
}

/*
 * Every allocation of a bounced window failing in turn: -ENOMEM, nothing
 * prepared, *length unchanged; then the window goes through.
 */
static void prepare_window_allocation_failures_change_nothing(struct kunit *test)
{
	struct iodma_spec spec = { .alignment = SZ_4K, .max_segments = 2, .map = IODMA_BYPASSED,
				   OUT64 };
	struct device *dev = iodma_test_dev(test, 64);
	u8 *buf = iodma_test_vzalloc(test, SZ_256K + 1);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(buf + 1, SZ_256K,
								    DMA_TO_DEVICE));
	unsigned int nth, points = 0;
	bool done = false;

	for (nth = 1; nth <= 100 && !done; nth++) {
		/* a fresh command each time: its copy buffer and view are allocated anew */
		struct iodma_cmd *cmd = iodma_cmd_create(dev, &spec);
		unsigned int left;
		u64 len = 0;
		int ret;

		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cmd);
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
		iodma_test_fail_nth(test, nth);
		ret = iodma_cmd_prepare_window(cmd, 0, &len);
		left = iodma_test_fail_disarm();
		if (ret) {
			points++;
			KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "failure point %u", nth);
			KUNIT_EXPECT_EQ(test, left, 0U);
			KUNIT_EXPECT_EQ(test, len, 0ULL);
			KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);
			KUNIT_EXPECT_EQ(test, iodma_test_md_wired(md), 0);
		} else {
			done = left;
			KUNIT_EXPECT_EQ(test, len, (u64)SZ_256K);
			KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ALIGNMENT);
			KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);
		}
		KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
		iodma_cmd_destroy(cmd);
	}
	KUNIT_EXPECT_TRUE(test, done);
	KUNIT_EXPECT_GT(test, points, 0U);
}

static struct kunit_case limits_test_cases[] = {
	KUNIT_CASE_PARAM(max_segments_bounces_only_over_the_limit, segs_gen_params),
	KUNIT_CASE(max_segments_without_copy_path_returns_e2big),
	KUNIT_CASE(max_segments_on_bus_memory_returns_e2big),
	KUNIT_CASE(max_segments_beyond_any_copy_buffer_returns_e2big),
	KUNIT_CASE(explain_names_segments_and_gaps),
	KUNIT_CASE_PARAM(gap_rule_segments_are_exact, gap_gen_params),
	KUNIT_CASE(gapped_memory_bounces_or_gen_refuses),
	KUNIT_CASE_PARAM(windows_tile_the_descriptor, window_gen_params),
	KUNIT_CASE(prepare_window_bad_input),
	KUNIT_CASE(prepare_window_allocation_failures_change_nothing),
	{}
};

static struct kunit_suite limits_test_suite = {
	.name = "iodma_limits",
	.test_cases = limits_test_cases,
};

kunit_test_suite(limits_test_suite);
