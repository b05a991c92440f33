// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: segment generation.  Exact segment lists for known physical
 * layouts (iterate-only commands emit physical addresses, so the expected
 * list follows from the pages), every cut rule, the six output formats,
 * the error contract of gen_segments and the O(1) cursor; the fast paths
 * (plain specifications, runs of whole blocks) against the general path.
 */
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include "iodma_kunit.h"

static struct iodma_cmd *iter_cmd(struct kunit *test, struct iodma_spec spec)
{
	spec.map = IODMA_ITERATE_ONLY;
	return iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
}

/* Prepare @md on @cmd (whole), generate with capacity @cap, check invariants. */
static int prepare_and_gen(struct kunit *test, struct iodma_cmd *cmd, struct iodma_md *md,
			   u32 cap, struct iodma_seg64 **segs)
{
	int n;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	n = iodma_test_segments(test, cmd, cap, segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, *segs, n);
	return n;
}

static void expect_seg(struct kunit *test, const struct iodma_seg64 *s, u64 addr, u64 len)
{
	KUNIT_EXPECT_EQ(test, s->addr, addr);
	KUNIT_EXPECT_EQ(test, s->len, len);
}

KUNIT_DEFINE_ACTION_WRAPPER(vunmap_action, vunmap, const void *);

/* A 3-page vmalloc (vmap) buffer at offset 100, pages scattered, max 4096. */
static void vmalloc_three_pages_at_offset_100_are_three_segments(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, 3), *pages[3];
	struct iodma_spec spec;
	struct iodma_seg64 *segs;
	struct iodma_cmd *cmd;
	struct iodma_md *md;
	void *va;
	int n;

	/* pages 0, 4 and 2 of the block: never contiguous, out of order */
	pages[0] = blk;
	pages[1] = nth_page(blk, 4);
	pages[2] = nth_page(blk, 2);
	va = vmap(pages, 3, VM_MAP, PAGE_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vunmap_action, va), 0);

	spec = (struct iodma_spec){ .max_segment_size = 4096, .output = IODMA_OUT_HOST64 };
	cmd = iter_cmd(test, spec);
	md = iodma_test_md(test, iodma_md_from_kva(va + 100, 3 * PAGE_SIZE - 100,
						   DMA_TO_DEVICE));
	n = prepare_and_gen(test, cmd, md, 8, &segs);
	KUNIT_ASSERT_EQ(test, n, 3);
	expect_seg(test, &segs[0], page_to_phys(pages[0]) + 100, PAGE_SIZE - 100);
	expect_seg(test, &segs[1], page_to_phys(pages[1]), PAGE_SIZE);
	expect_seg(test, &segs[2], page_to_phys(pages[2]), PAGE_SIZE);
}

/* @len bytes of contiguous memory on an iterate-only @spec: segments of @piece each. */
static void expect_cut_into_pieces(struct kunit *test, struct iodma_spec spec, u64 len,
				   u64 piece)
{
	struct page *blk = iodma_test_pages(test, get_order(len));
	struct iodma_cmd *cmd = iter_cmd(test, spec);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(blk), len,
								      DMA_FROM_DEVICE));
	struct iodma_seg64 *segs;
	int n, i;

	n = prepare_and_gen(test, cmd, md, 64, &segs);
	KUNIT_ASSERT_EQ(test, n, (int)(len / piece));
	for (i = 0; i < n; i++)
		expect_seg(test, &segs[i], page_to_phys(blk) + i * piece, piece);
}

/* 1 MiB physically contiguous, max_segment_size 64 KiB: 16 segments. */
static void contiguous_1mib_with_max_64k_is_16_segments(struct kunit *test)
{
	struct iodma_spec spec = { .max_segment_size = SZ_64K, .output = IODMA_OUT_HOST64 };

	expect_cut_into_pieces(test, spec, SZ_1M, SZ_64K);
}

/* The same through the DMA API: 16 segments unless swiotlb scatters the bounce slots. */
static void contiguous_1mib_mapped_is_16_segments(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, get_order(SZ_1M));
	struct iodma_spec spec = { .max_segment_size = SZ_64K, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_data_dev(test);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(blk), SZ_1M,
								      DMA_FROM_DEVICE));
	struct iodma_seg64 *segs;
	int n;

	n = prepare_and_gen(test, cmd, md, 64, &segs);
	if (is_swiotlb_force_bounce(dev)) {
		/* each 256 KiB bounce slot run is contiguous: at least 16 */
		KUNIT_EXPECT_GE(test, n, 16);
	} else {
		KUNIT_EXPECT_EQ(test, n, 16);
	}
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
}

/* A boundary mask splits a contiguous 8 KiB run that crosses a 64 KiB line. */
static void boundary_splits_a_crossing_run_in_two(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, get_order(SZ_128K));
	struct iodma_spec spec = { .seg_boundary_mask = SZ_64K - 1, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iter_cmd(test, spec);
	phys_addr_t base = page_to_phys(blk);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(blk) + SZ_64K -
								      SZ_4K, SZ_8K,
								      DMA_TO_DEVICE));
	struct iodma_seg64 *segs;
	int n;

	n = prepare_and_gen(test, cmd, md, 8, &segs);
	KUNIT_ASSERT_EQ(test, n, 2);
	expect_seg(test, &segs[0], base + SZ_64K - SZ_4K, SZ_4K);
	expect_seg(test, &segs[1], base + SZ_64K, SZ_4K);
}

/* Capacity 1 and capacity 64 walk to identical lists. */
static void capacity_does_not_change_the_segments(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, 4), *pages[8];
	static const int pick[8] = { 0, 1, 2, 5, 9, 10, 14, 3 };
	struct iodma_spec spec = { .max_segment_size = 6000, .internal_alignment = 512,
				   .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *a = iter_cmd(test, spec), *b = iter_cmd(test, spec);
	struct iodma_seg64 *sa, *sb;
	struct iodma_md *md;
	int i, na, nb;

	for (i = 0; i < 8; i++)
		pages[i] = nth_page(blk, pick[i]);
	md = iodma_test_md(test, iodma_md_from_pages(pages, 8, 512, 8 * PAGE_SIZE - 1024,
						     DMA_TO_DEVICE));
	na = prepare_and_gen(test, a, md, 1, &sa);
	nb = prepare_and_gen(test, b, md, 64, &sb);
	KUNIT_ASSERT_EQ(test, na, nb);
	/* pages 0-2 are one run: 6000 cut back so the next starts on 512 */
	expect_seg(test, &sa[0], page_to_phys(blk) + 512, 5632);
	expect_seg(test, &sa[1], page_to_phys(blk) + 6144, 5632);
	expect_seg(test, &sa[2], page_to_phys(blk) + 11776, 512);
	expect_seg(test, &sa[3], page_to_phys(blk) + 5 * PAGE_SIZE, PAGE_SIZE);
	for (i = 0; i < na; i++) {
		KUNIT_EXPECT_EQ(test, sa[i].addr, sb[i].addr);
		KUNIT_EXPECT_EQ(test, sa[i].len, sb[i].len);
	}
}

/* Pieces of a multi that are contiguous coalesce; a sub-range of it too. */
static void multi_and_subrange_pieces_coalesce(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, 2);
	void *va = page_address(blk);
	phys_addr_t base = page_to_phys(blk);
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iter_cmd(test, spec);
	struct iodma_md *a = iodma_test_md(test, iodma_md_from_kva(va, SZ_8K, DMA_TO_DEVICE));
	struct iodma_md *b = iodma_test_md(test, iodma_md_from_kva(va + SZ_8K, SZ_8K,
								     DMA_TO_DEVICE));
	struct iodma_md *ab_parts[2] = { a, b }, *ba_parts[2] = { b, a };
	struct iodma_md *ab = iodma_test_md(test, iodma_md_multi(ab_parts, 2, DMA_TO_DEVICE));
	struct iodma_md *ba = iodma_test_md(test, iodma_md_multi(ba_parts, 2, DMA_TO_DEVICE));
	struct iodma_md *sub = iodma_test_md(test, iodma_md_subrange(ab, 100, SZ_8K));
	struct iodma_seg64 *segs;
	int n;

	n = prepare_and_gen(test, cmd, ab, 8, &segs);
	KUNIT_ASSERT_EQ(test, n, 1);
	expect_seg(test, &segs[0], base, SZ_16K);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	n = prepare_and_gen(test, cmd, ba, 8, &segs);
	KUNIT_ASSERT_EQ(test, n, 2);
	expect_seg(test, &segs[0], base + SZ_8K, SZ_8K);
	expect_seg(test, &segs[1], base, SZ_8K);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	n = prepare_and_gen(test, cmd, sub, 8, &segs);
	KUNIT_ASSERT_EQ(test, n, 1);
	expect_seg(test, &segs[0], base + 100, SZ_8K);
}

/* A prepared piece of a descriptor: segments cover the piece, offsets relative to it. */
static void partial_prepare_segments_cover_the_piece(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, 2);
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iter_cmd(test, spec);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(blk), SZ_16K,
								      DMA_TO_DEVICE));
	struct iodma_seg64 *segs;
	int n;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 4096 + 8, 1000, true, true), 0);
	n = iodma_test_segments(test, cmd, 4, &segs);
	KUNIT_ASSERT_EQ(test, n, 1);
	expect_seg(test, &segs[0], page_to_phys(blk) + 4096 + 8, 1000);
}

/* max_segment_size 6000 with internal_alignment 4096: cut back to the 4 KiB line. */
static void internal_alignment_cuts_a_long_run(struct kunit *test)
{
	struct iodma_spec spec = { .max_segment_size = 6000, .internal_alignment = 4096,
				   .output = IODMA_OUT_HOST64 };

	expect_cut_into_pieces(test, spec, SZ_16K, SZ_4K);
}

/*
 * Review F6: 16 KiB at +0x100 under alignment 4, length_alignment 512,
 * internal_alignment 4096 and max_segment_size 8192.  No first segment is
 * both a multiple of 512 and ends on 4096: a length violation, so gen
 * fails where the command cannot bounce, and the range bounces where it can.
 */
static void internal_cut_off_the_length_unit_is_a_length_violation(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, 3);
	struct iodma_spec spec = { .alignment = 4, .length_alignment = 512,
				   .internal_alignment = 4096, .max_segment_size = 8192,
				   .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *iter = iter_cmd(test, spec), *byp;
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(blk) + 0x100,
								      SZ_16K, DMA_TO_DEVICE));
	struct iodma_seg64 seg, *segs;
	u64 off = 0;
	u32 n = 1;
	int count;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(iter, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(iter, &off, &seg, &n), -EINVAL);
	KUNIT_EXPECT_EQ(test, off, 0ULL);
	KUNIT_EXPECT_EQ(test, n, 1U);

	spec.map = IODMA_BYPASSED;
	byp = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(byp, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(byp), IODMA_BOUNCE_LENGTH);
	count = iodma_test_segments(test, byp, 4, &segs);
	KUNIT_ASSERT_GT(test, count, 0);
	iodma_test_check_invariants(test, byp, segs, count);
}

/*
 * A run of scatterlist entries that reaches max_segment_size exactly at an
 * entry's end still goes on: the segment is cut to internal_alignment, so
 * the next one starts on it.  MAPPED entries on a dma-direct device are at
 * most 64 KiB (its max_seg_size), so 128 KiB at +0x100 ends its first entry
 * on the 64 KiB cap.
 */
static void run_ending_on_the_cap_is_cut_to_internal_alignment(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, get_order(SZ_256K));
	struct iodma_spec spec = { .internal_alignment = 4096, .max_segment_size = SZ_64K,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(blk) + 0x100,
								      SZ_128K, DMA_TO_DEVICE));
	struct iodma_seg64 *segs;
	int n;

	if (is_swiotlb_force_bounce(dev))
		kunit_skip(test, "swiotlb chooses the addresses");
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_EQ(test, n, 3);
	expect_seg(test, &segs[0], page_to_phys(blk) + 0x100, SZ_64K - 0x100);
	expect_seg(test, &segs[1], page_to_phys(blk) + SZ_64K, SZ_64K);
	expect_seg(test, &segs[2], page_to_phys(blk) + SZ_128K, 0x100);
}

/*
 * Review F18: a bus_dma_limit that is not 2^n - 1.  A BYPASSED run from
 * P + 0x1000 to P + 0x4000 under the limit P + 0x2fff must be cut at the
 * limit, and the rest bounces for its address.
 */
static void run_is_cut_at_a_limit_that_is_not_pow2(struct kunit *test)
{
	struct page *blk = iodma_test_pages(test, 2);
	struct iodma_spec spec = { .map = IODMA_BYPASSED, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd;
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(blk) + SZ_4K,
								      3 * SZ_4K, DMA_TO_DEVICE));

	dev->bus_dma_limit = page_to_phys(blk) + 0x2fff;
	cmd = iodma_test_cmd(test, dev, &spec);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ADDRESS);
}

struct format_case {
	const char *name;
	enum iodma_output out;
	u8 bytes[16];
	unsigned int size;
};

/* addr 0x12345000, len 0x1800, as the device reads them */
static const struct format_case format_cases[] = {
	{ "big32", IODMA_OUT_BIG32,
	  { 0x12, 0x34, 0x50, 0x00, 0x00, 0x00, 0x18, 0x00 }, 8 },
	{ "little32", IODMA_OUT_LITTLE32,
	  { 0x00, 0x50, 0x34, 0x12, 0x00, 0x18, 0x00, 0x00 }, 8 },
	{ "big64", IODMA_OUT_BIG64,
	  { 0, 0, 0, 0, 0x12, 0x34, 0x50, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x18, 0x00 }, 16 },
	{ "little64", IODMA_OUT_LITTLE64,
	  { 0x00, 0x50, 0x34, 0x12, 0, 0, 0, 0, 0x00, 0x18, 0x00, 0x00, 0, 0, 0, 0 }, 16 },
#ifdef __LITTLE_ENDIAN
	{ "host32", IODMA_OUT_HOST32,
	  { 0x00, 0x50, 0x34, 0x12, 0x00, 0x18, 0x00, 0x00 }, 8 },
	{ "host64", IODMA_OUT_HOST64,
	  { 0x00, 0x50, 0x34, 0x12, 0, 0, 0, 0, 0x00, 0x18, 0x00, 0x00, 0, 0, 0, 0 }, 16 },
#else
	{ "host32", IODMA_OUT_HOST32,
	  { 0x12, 0x34, 0x50, 0x00, 0x00, 0x00, 0x18, 0x00 }, 8 },
	{ "host64", IODMA_OUT_HOST64,
	  { 0, 0, 0, 0, 0x12, 0x34, 0x50, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x18, 0x00 }, 16 },
#endif
};

KUNIT_ARRAY_PARAM_DESC(format, format_cases, name);

static void output_format_byte_order(struct kunit *test)
{
	const struct format_case *c = test->param_value;
	static const struct iodma_phys_range r = { .addr = 0x12345000, .len = 0x1800 };
	struct iodma_cmd *cmd = iter_cmd(test, (struct iodma_spec){ .output = c->out });
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE));
	u8 raw[32];
	u32 n = 2;
	u64 off = 0;

	memset(raw, 0xa5, sizeof(raw));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_gen_segments(cmd, &off, raw, &n), 0);
	KUNIT_EXPECT_EQ(test, n, 1U);
	KUNIT_EXPECT_EQ(test, off, 0x1800ULL);
	KUNIT_EXPECT_EQ(test, memcmp(raw, c->bytes, c->size), 0);
	/* nothing written past the one segment */
	KUNIT_EXPECT_EQ(test, raw[c->size], 0xa5);
}

static void gen32_and_gen64_check_the_output_width(struct kunit *test)
{
	static const struct iodma_phys_range r = { .addr = 0x100000, .len = 0x1000 };
	struct iodma_cmd *c32 = iter_cmd(test, (struct iodma_spec){ .output = IODMA_OUT_BIG32 });
	struct iodma_cmd *c64 = iter_cmd(test, (struct iodma_spec){ .output = IODMA_OUT_HOST64 });
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE));
	struct iodma_seg32 s32;
	struct iodma_seg64 s64;
	u32 n = 1;
	u64 off = 0;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(c32, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(c64, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen64_segments(c32, &off, &s64, &n), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen32_segments(c64, &off, &s32, &n), -EINVAL);
	KUNIT_EXPECT_EQ(test, n, 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen64_segments(c64, &off, &s64, &n), 0);
	KUNIT_EXPECT_EQ(test, s64.addr, 0x100000ULL);
	off = 0;
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen32_segments(c32, &off, &s32, &n), 0);
	KUNIT_EXPECT_EQ(test, be32_to_cpu((__force __be32)s32.addr), 0x100000U);
}

/* A 32-bit output given memory above 4 GiB: -ERANGE, nothing moves. */
static void out32_above_4g_is_erange(struct kunit *test)
{
	static const struct iodma_phys_range r = { .addr = SZ_4G + SZ_64K, .len = SZ_4K };
	struct iodma_cmd *cmd = iter_cmd(test, (struct iodma_spec){ .output = IODMA_OUT_HOST32 });
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE));
	struct iodma_seg32 s = { 0x11, 0x22 };
	u32 n = 1;
	u64 off = 0;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen32_segments(cmd, &off, &s, &n), -ERANGE);
	KUNIT_EXPECT_EQ(test, off, 0ULL);
	KUNIT_EXPECT_EQ(test, n, 1U);
}

/* The same with a real page of RAM above 4 GiB (guests with more than 4 GiB). */
static void out32_ram_above_4g_is_erange(struct kunit *test)
{
	struct iodma_cmd *cmd = iter_cmd(test, (struct iodma_spec){ .output = IODMA_OUT_HOST32 });
	struct page *page = alloc_page(GFP_KERNEL);
	struct iodma_seg32 s;
	struct iodma_md *md;
	u32 n = 1;
	u64 off = 0;

	KUNIT_ASSERT_NOT_NULL(test, page);
	if (page_to_phys(page) < SZ_4G) {
		__free_page(page);
		kunit_skip(test, "no RAM above 4 GiB in this guest (GFP_KERNEL page below 4 GiB)");
	}
	md = iodma_md_from_pages(&page, 1, 0, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, md);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen32_segments(cmd, &off, &s, &n), -ERANGE);
	KUNIT_EXPECT_EQ(test, off, 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	iodma_md_put(md);
	__free_page(page);
}

/* A run crossing 2^addr_bits: cut at the limit, then -ERANGE for the rest. */
static void addr_limit_cuts_then_erange(struct kunit *test)
{
	static const struct iodma_phys_range r = { .addr = SZ_4G - SZ_4K, .len = SZ_8K };
	struct iodma_cmd *cmd = iter_cmd(test, (struct iodma_spec){ .addr_bits = 32,
								   .output = IODMA_OUT_HOST64 });
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE));
	struct iodma_seg64 s[2];
	u32 n = 2;
	u64 off = 0;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	/* the whole call fails: the first segment is not reported either */
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, s, &n), -ERANGE);
	KUNIT_EXPECT_EQ(test, n, 2U);
	KUNIT_EXPECT_EQ(test, off, 0ULL);
	n = 1;
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, s, &n), 0);
	KUNIT_EXPECT_EQ(test, n, 1U);
	expect_seg(test, &s[0], SZ_4G - SZ_4K, SZ_4K);
	KUNIT_EXPECT_EQ(test, off, (u64)SZ_4K);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, s, &n), -ERANGE);
	KUNIT_EXPECT_EQ(test, off, (u64)SZ_4K);
}

/* Iterate-only cannot bounce: misalignment is reported, not fixed. */
static void misaligned_without_bounce_is_einval(struct kunit *test)
{
	static const struct iodma_phys_range first = { .addr = 0x100010, .len = 1024 };
	static const struct iodma_phys_range two[2] = {
		{ .addr = 0x200000, .len = 1000 }, { .addr = 0x300000, .len = 24 },
	};
	struct iodma_cmd *a = iter_cmd(test, (struct iodma_spec){ .alignment = 512,
								 .output = IODMA_OUT_HOST64 });
	struct iodma_cmd *l = iter_cmd(test, (struct iodma_spec){ .length_alignment = 512,
								 .output = IODMA_OUT_HOST64 });
	struct iodma_md *m1 = iodma_test_md(test, iodma_md_from_phys(&first, 1, DMA_TO_DEVICE));
	struct iodma_md *m2 = iodma_test_md(test, iodma_md_from_phys(two, 2, DMA_TO_DEVICE));
	struct iodma_seg64 s[4];
	u32 n = 4;
	u64 off = 0;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(a, m1, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(a, &off, s, &n), -EINVAL);
	/* 1000 + 24 bytes: 512, then 488 that no multiple of 512 can carry */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(l, m2, true), 0);
	n = 1;
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(l, &off, s, &n), 0);
	expect_seg(test, &s[0], 0x200000, 512);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(l, &off, s, &n), -EINVAL);
	KUNIT_EXPECT_EQ(test, off, 512ULL);
}

static void gen_bad_arguments_and_offsets_return_errnos(struct kunit *test)
{
	static const struct iodma_phys_range r = { .addr = 0x100000, .len = 0x1000 };
	struct iodma_cmd *cmd = iter_cmd(test, (struct iodma_spec){ .output = IODMA_OUT_HOST64 });
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE));
	struct iodma_seg64 s;
	u32 n = 1, zero = 0;
	u64 off = 0;

	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &n), -ENODATA);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &n), -ENODATA);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(NULL, &off, &s, &n), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, NULL, &s, &n), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, NULL, &n), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &zero), -EINVAL);
	off = 0x1000;
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &n), -EOVERFLOW);
	off = ~0ULL;
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &n), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, off, ~0ULL);
	/* a jump into the middle works and is relative to the prepared range */
	off = 0x800;
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &n), 0);
	expect_seg(test, &s, 0x100800, 0x800);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	off = 0;
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &n), -ENODATA);
}

/* 4096 segments one at a time: the cursor moves at most twice per segment. */
static void sequential_generation_is_o1(struct kunit *test)
{
	const unsigned int count = 4096;
	struct iodma_phys_range *r = kunit_kcalloc(test, count, sizeof(*r), GFP_KERNEL);
	struct iodma_cmd *cmd = iter_cmd(test, (struct iodma_spec){ .output = IODMA_OUT_HOST64 });
	struct iodma_md *md;
	struct iodma_seg64 s;
	unsigned int i;
	u64 off = 0, steps;

	KUNIT_ASSERT_NOT_NULL(test, r);
	for (i = 0; i < count; i++) {
		r[i].addr = 0x100000 + i * 1024ULL;
		r[i].len = 512;
	}
	md = iodma_test_md(test, iodma_md_from_phys(r, count, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	steps = iodma_test_cursor_steps(cmd);
	for (i = 0; i < count; i++) {
		u32 n = 1;

		KUNIT_ASSERT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &n), 0);
		KUNIT_ASSERT_EQ(test, s.addr, r[i].addr);
	}
	KUNIT_EXPECT_EQ(test, off, count * 512ULL);
	KUNIT_EXPECT_LE(test, iodma_test_cursor_steps(cmd) - steps, 2ULL * count);
}

/* The same over a scatterlist of 512 scattered pages, with reads in between. */
static void sequential_sg_generation_is_o1_and_reads_keep_the_cursor(struct kunit *test)
{
	const unsigned int count = 512;
	struct page **pages = kunit_kcalloc(test, count, sizeof(*pages), GFP_KERNEL);
	struct page *blk = iodma_test_pages(test, 10);
	struct iodma_cmd *cmd = iter_cmd(test, (struct iodma_spec){ .output = IODMA_OUT_HOST64 });
	struct iodma_md *md;
	struct iodma_seg64 s;
	unsigned int i;
	u64 off = 0, steps;
	u8 byte;

	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < count; i++)
		pages[i] = nth_page(blk, 2 * i);	/* every other page: no two adjacent */
	md = iodma_test_md(test, iodma_md_from_pages(pages, count, 0, count * PAGE_SIZE,
						     DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	steps = iodma_test_cursor_steps(cmd);
	for (i = 0; i < count; i++) {
		u32 n = 1;

		KUNIT_ASSERT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &s, &n), 0);
		KUNIT_ASSERT_EQ(test, s.addr, (u64)page_to_phys(pages[i]));
		KUNIT_ASSERT_EQ(test, iodma_cmd_read_bytes(cmd, 0, &byte, 1), 1ULL);
	}
	KUNIT_EXPECT_LE(test, iodma_test_cursor_steps(cmd) - steps, 2ULL * count);
}

/* A random layout of CPU memory: pieces of a block, some continuing the last. */
struct shape {
	unsigned int n;
	phys_addr_t phys[20];
	u32 len[20];
	u64 total;
};

static u32 rnd_below(struct rnd_state *rnd, u32 n)
{
	return prandom_u32_state(rnd) % n;
}

static void random_shape(struct rnd_state *rnd, struct page *blk, size_t blk_len,
			 struct shape *sh)
{
	phys_addr_t base = page_to_phys(blk), end = 0;
	unsigned int i;

	sh->n = 1 + rnd_below(rnd, ARRAY_SIZE(sh->phys));
	sh->total = 0;
	for (i = 0; i < sh->n; i++) {
		u32 len = rnd_below(rnd, 4) ? 1 + rnd_below(rnd, 3 * PAGE_SIZE) :
					      1 + rnd_below(rnd, 80 * 1024);

		/* continue the last piece, or anywhere in the block */
		if (i && rnd_below(rnd, 3) == 0 && end + len <= base + blk_len)
			sh->phys[i] = end;
		else
			sh->phys[i] = base + rnd_below(rnd, blk_len - len + 1);
		sh->len[i] = len;
		end = sh->phys[i] + len;
		sh->total += len;
	}
}

static struct sg_table *shape_sgtable(struct kunit *test, const struct shape *sh)
{
	struct sg_table *sgt = iodma_test_sgtable(test, sh->n);
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(sgt, sg, i)
		sg_set_page(sg, pfn_to_page(PHYS_PFN(sh->phys[i])), sh->len[i],
			    offset_in_page(sh->phys[i]));
	return sgt;
}

static struct bio_vec *shape_bvecs(struct kunit *test, const struct shape *sh)
{
	struct bio_vec *bv = kunit_kcalloc(test, sh->n, sizeof(*bv), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, bv);
	for (i = 0; i < sh->n; i++)
		bvec_set_page(&bv[i], pfn_to_page(PHYS_PFN(sh->phys[i])), sh->len[i],
			      offset_in_page(sh->phys[i]));
	return bv;
}

/* The view's entries of the prepared command: physical address and length. */
static unsigned int view_entries(struct kunit *test, struct iodma_cmd *cmd, u64 *phys,
				 u32 *len, unsigned int max)
{
	struct sg_table *sgt = iodma_test_view(cmd);
	struct scatterlist *sg;
	unsigned int i;

	KUNIT_ASSERT_LE(test, sgt->orig_nents, max);
	for_each_sgtable_sg(sgt, sg, i) {
		phys[i] = sg_phys(sg);
		len[i] = sg->length;
	}
	return sgt->orig_nents;
}

/*
 * Prepare [@off, @off + @len) of @fast (an sg_table or bio_vec descriptor,
 * which the view fills itself; NULL: the bio_vecs @bv set on the command)
 * and of @slow (a sub-range, which goes through the descriptor's walk):
 * the same view entries.
 */
static void expect_same_view(struct kunit *test, struct iodma_cmd *cmd, struct iodma_md *fast,
			     const struct bio_vec *bv, unsigned int nbv, struct iodma_md *slow,
			     u64 off, u64 len)
{
	u64 pa[64], pb[64];
	u32 la[64], lb[64];
	unsigned int na, nb, i;

	if (fast)
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, fast, false), 0);
	else
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, nbv, DMA_TO_DEVICE, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, off, len, false, false), 0);
	na = view_entries(test, cmd, pa, la, ARRAY_SIZE(pa));
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, slow, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, off, len, false, false), 0);
	nb = view_entries(test, cmd, pb, lb, ARRAY_SIZE(pb));
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_ASSERT_EQ(test, na, nb);
	for (i = 0; i < na; i++) {
		KUNIT_EXPECT_EQ_MSG(test, pa[i], pb[i], "entry %u of %u", i, na);
		KUNIT_EXPECT_EQ_MSG(test, la[i], lb[i], "entry %u of %u", i, na);
	}
}

/*
 * The view fills itself from sg_table and bio_vec descriptors; a sub-range
 * of the same memory goes through iodma_md_walk(), the general path.  Over
 * random layouts (pieces that continue the last one, pieces longer than an
 * entry may be) and random prepared ranges, for a MAPPED command (entries
 * cut at 64 KiB) and an iterate-only one, the entries are the same.
 */
static void cpu_descriptor_views_match_the_general_walk(struct kunit *test)
{
	const struct iodma_spec mapped = { .map = IODMA_MAPPED, .output = IODMA_OUT_HOST64 };
	const struct iodma_spec iter = { .map = IODMA_ITERATE_ONLY, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmds[2] = { iodma_test_cmd(test, dev, &mapped),
				      iodma_test_cmd(test, dev, &iter) };
	struct page *blk = iodma_test_pages(test, 6);
	struct shape *sh = kunit_kzalloc(test, sizeof(*sh), GFP_KERNEL);
	struct rnd_state rnd;
	unsigned int round;

	KUNIT_ASSERT_NOT_NULL(test, sh);
	prandom_seed_state(&rnd, 18);
	for (round = 0; round < 120; round++) {
		struct iodma_cmd *cmd = cmds[round & 1];
		struct iodma_md *sgt_md, *bv_md, *sgt_sub, *bv_sub;
		struct bio_vec *bv;
		u64 off, len;

		random_shape(&rnd, blk, PAGE_SIZE << 6, sh);
		bv = shape_bvecs(test, sh);
		sgt_md = iodma_test_md(test, iodma_md_from_sgtable(shape_sgtable(test, sh),
								   DMA_TO_DEVICE));
		bv_md = iodma_test_md(test, iodma_md_from_bvecs(bv, sh->n, DMA_TO_DEVICE));
		sgt_sub = iodma_test_md(test, iodma_md_subrange(sgt_md, 0, sh->total));
		bv_sub = iodma_test_md(test, iodma_md_subrange(bv_md, 0, sh->total));
		off = rnd_below(&rnd, 2) ? 0 : rnd_below(&rnd, sh->total);
		len = 1 + rnd_below(&rnd, sh->total - off);
		expect_same_view(test, cmd, sgt_md, NULL, 0, sgt_sub, off, len);
		expect_same_view(test, cmd, bv_md, NULL, 0, bv_sub, off, len);
		expect_same_view(test, cmd, NULL, bv, sh->n, bv_sub, off, len);
	}
}

/* A piece of CPU memory, @at bytes into a block. */
struct piece {
	u32 at;
	u32 len;
};

/* An entry of a view: physical address and length. */
struct ventry {
	u64 phys;
	u64 len;
};

/*
 * A view's entry limits as view.c states them for a MAPPED command: at
 * most what the backend maps in one piece (dma_max_mapping_size(), the
 * device's max_seg_size, 1 GiB) in whole pages, never across the boundary.
 */
static u64 max_entry_of(struct device *dev, u64 map_max)
{
	u64 max = min3((u64)SZ_1G, map_max, (u64)dma_get_max_seg_size(dev));

	return max(round_down(max, PAGE_SIZE), PAGE_SIZE);
}

/* Cut the run [@phys, @phys + @len) into entries: greedy, at @max and at @mask's lines. */
static unsigned int cut_run(u64 phys, u64 len, u64 max, u64 mask, struct ventry *out,
			    unsigned int n, unsigned int room)
{
	while (len && n < room) {
		u64 line = mask && mask != ULONG_MAX ? (phys | mask) - phys + 1 : U64_MAX;
		u64 take = min3(len, max, line);

		out[n++] = (struct ventry){ phys, take };
		phys += take;
		len -= take;
	}
	return n;
}

/*
 * The plain model of a CPU view: [@off, @off + @len) of the pieces (at
 * @base), physically contiguous neighbours joined into runs, each run cut
 * at @max and at the boundary lines of @mask.
 */
static unsigned int model_view(const struct piece *pc, unsigned int npc, phys_addr_t base,
			       u64 off, u64 len, u64 max, u64 mask, struct ventry *out,
			       unsigned int room)
{
	u64 run = 0, run_len = 0;
	unsigned int i, n = 0;

	for (i = 0; i < npc && len; i++) {
		u64 p = base + pc[i].at, l = pc[i].len;

		if (off >= l) {
			off -= l;
			continue;
		}
		p += off;
		l = min(l - off, len);
		off = 0;
		len -= l;
		if (run_len && p == run + run_len) {
			run_len += l;
			continue;
		}
		n = cut_run(run, run_len, max, mask, out, n, room);
		run = p;
		run_len = l;
	}
	return cut_run(run, run_len, max, mask, out, n, room);
}

/* The prepared command's view is exactly @want, its end mark on the last entry. */
static void expect_view_is(struct kunit *test, struct iodma_cmd *cmd, const struct ventry *want,
			   unsigned int n, const char *what)
{
	struct sg_table *sgt = iodma_test_view(cmd);
	struct scatterlist *sg = sgt->sgl;
	unsigned int i;

	KUNIT_ASSERT_EQ_MSG(test, sgt->orig_nents, n, "%s: entries", what);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ_MSG(test, (u64)sg_phys(sg), want[i].phys, "%s: entry %u of %u",
				    what, i, n);
		KUNIT_EXPECT_EQ_MSG(test, (u64)sg->length, want[i].len, "%s: entry %u of %u",
				    what, i, n);
		KUNIT_ASSERT_EQ_MSG(test, sg_is_last(sg), i + 1 == n, "%s: end mark at %u of %u",
				    what, i, n);
		if (i + 1 < n)
			sg = iodma_sg_next(sg);
	}
}

/*
 * One layout for the view fill: pieces of a 2 MiB block, described @far
 * pages before their data (sg_set_page() and bvec offsets of @far pages and
 * more, bio_vecs of several pages), [@off, @off + @len) of them prepared
 * (@len 0: to the end) on a MAPPED command of a device with
 * @max_seg/@boundary as DMA parameters (0: none) and @map_max as its largest
 * mapping (0: the device's).  @chain: the generated layout of more pieces
 * than one scatterlist chunk holds.  @enospc: the view's room, from a
 * smaller I/O, runs out in the middle.
 */
struct view_case {
	const char *name;
	const struct piece *pc;
	unsigned int npc;
	u64 off, len;
	unsigned int far;
	unsigned int max_seg;
	unsigned long boundary;
	u64 map_max;
	bool chain, enospc;
};

#define PG(n)	((n) * PAGE_SIZE)

/* Offsets beyond the first page, multi-page pieces, a contiguous pair. */
static const struct piece far_pieces[] = {
	{ PG(5) + 100, PG(3) }, { PG(9), PG(1) + 5 }, { PG(10) + 5, PG(2) - 5 },
	{ PG(20) + 4000, 200 }, { PG(30), PG(4) },
};

/* Sub-ranges from inside the first piece to inside the last. */
static const struct piece sub_pieces[] = {
	{ PG(2) + 300, PG(3) }, { PG(8), 1000 }, { PG(12) + 17, PG(2) + 3 },
};

/* One piece longer than the largest mapping, starting and ending off a page. */
static const struct piece long_pieces[] = {
	{ 300, SZ_1M + 100 },
};

/*
 * 16 KiB lines: pieces that cross one, a contiguous pair meeting on one, a
 * contiguous pair that crosses one, a piece of several lines.
 */
static const struct piece line_pieces[] = {
	{ SZ_16K - 1000, 3000 }, { SZ_64K - PG(1), PG(1) }, { SZ_64K, PG(2) },
	{ SZ_128K - 700, 500 }, { SZ_128K - 200, 900 }, { SZ_256K + 8, 3 * SZ_16K },
};

/* Contiguous neighbours: a run of single pages, beyond one entry's 64 KiB, then apart. */
static const struct piece merge_pieces[] = {
	{ PG(0), PG(1) }, { PG(1), PG(1) }, { PG(2), 100 }, { PG(2) + 100, PG(1) - 100 },
	{ PG(3), PG(10) }, { PG(13), PG(7) }, { PG(20), 1 }, { PG(40), PG(2) },
	{ PG(42), PG(1) },
};

/* Pieces for more entries (34) than the room a one-piece I/O leaves (32). */
#define ENOSPC_PIECES	45

static const struct view_case view_cases[] = {
	{ .name = "chained_tables", .chain = true },
	{ .name = "offsets_beyond_the_first_page", .pc = far_pieces,
	  .npc = ARRAY_SIZE(far_pieces), .far = 3 },
	{ .name = "subrange_inside_entries", .pc = sub_pieces, .npc = ARRAY_SIZE(sub_pieces),
	  .off = 1000, .len = PG(5) - 500 },
	{ .name = "cut_at_the_largest_mapping", .pc = long_pieces,
	  .npc = ARRAY_SIZE(long_pieces), .max_seg = UINT_MAX, .map_max = 40 * SZ_1K + 100 },
	{ .name = "cut_at_the_segment_boundary", .pc = line_pieces,
	  .npc = ARRAY_SIZE(line_pieces), .max_seg = SZ_1M, .boundary = SZ_16K - 1 },
	{ .name = "contiguous_neighbours_merge", .pc = merge_pieces,
	  .npc = ARRAY_SIZE(merge_pieces) },
	{ .name = "room_runs_out", .enospc = true },
};

KUNIT_ARRAY_PARAM_DESC(view, view_cases, name);

static void dma_parms_reset(void *arg)
{
	struct device *dev = arg;

	dev->dma_parms = NULL;
}

/* A 64-bit device with @max_seg and @boundary as DMA parameters (0: none). */
static struct device *view_dev(struct kunit *test, unsigned int max_seg, unsigned long boundary)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct device_dma_parameters *parms;

	if (!max_seg && !boundary)
		return dev;
	/* kunit devices have no dma_parms: lend some, gone before the device */
	parms = kunit_kzalloc(test, sizeof(*parms), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, parms);
	parms->max_segment_size = max_seg;
	parms->segment_boundary_mask = boundary;
	dev->dma_parms = parms;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, dma_parms_reset, dev), 0);
	return dev;
}

/* The generated layouts: 2 KiB pieces 1 KiB apart, every 4th continuing the last. */
static struct piece *generated_pieces(struct kunit *test, unsigned int n)
{
	struct piece *pc = kunit_kcalloc(test, n, sizeof(*pc), GFP_KERNEL);
	unsigned int i;
	u32 at = 0;

	KUNIT_ASSERT_NOT_NULL(test, pc);
	for (i = 0; i < n; i++) {
		if (i % 4 != 3)
			at += i ? SZ_1K : 0;
		pc[i] = (struct piece){ at, SZ_2K };
		at += SZ_2K;
	}
	return pc;
}

/*
 * @n pieces of 2 KiB, one per page of @blk: a view of @n entries, which
 * leaves room for as many.
 */
static struct iodma_md *spread_md(struct kunit *test, struct page *blk, unsigned int n)
{
	struct sg_table *sgt = iodma_test_sgtable(test, n);
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(sgt, sg, i)
		sg_set_page(sg, nth_page(blk, i), SZ_2K, 0);
	return iodma_test_md(test, iodma_md_from_sgtable(sgt, DMA_TO_DEVICE));
}

/* Prepare [@off, @off + @len) of @md on @cmd: its view is @want. */
static void expect_prepared_view(struct kunit *test, struct iodma_cmd *cmd, struct iodma_md *md,
				 u64 off, u64 len, const struct ventry *want, unsigned int n,
				 const char *what)
{
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, off, len, false, false), 0);
	expect_view_is(test, cmd, want, n, what);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * Room runs out: after a one-piece I/O the view has room for 32 entries,
 * and the layout needs more.  Without blocking the prepare fails (-EAGAIN)
 * and leaves the command unprepared with its room; a sub-range that fits
 * is then filled in place, correct, although the failed fill wrote the room
 * full.  Blocking, each allocation failure (-ENOMEM) leaves it so too, and
 * then the room grows and the view is the model's.
 */
static void expect_room_runs_out(struct kunit *test, struct iodma_cmd *cmd, struct iodma_md *md,
				 struct iodma_md *small, const struct ventry *want, unsigned int n,
				 const struct ventry *want_sub, unsigned int nsub, u64 sub_len)
{
	u64 total = iodma_md_length(md);
	unsigned int nth, left = 0, failures = 0;
	int ret = -ENOMEM;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, small, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_view_cap(cmd), 32U);
	KUNIT_ASSERT_GT(test, n, 32U);

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_nowait(cmd, 0, total, false, false), -EAGAIN);
	KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(cmd, NULL, NULL),
			-ENODATA);
	KUNIT_EXPECT_EQ(test, iodma_test_view_cap(cmd), 32U);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare_nowait(cmd, 0, sub_len, false, false), 0);
	expect_view_is(test, cmd, want_sub, nsub, "in place after -EAGAIN");
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);

	for (nth = 1; nth <= 20 && ret; nth++) {
		iodma_test_fail_nth(test, nth);
		ret = iodma_cmd_prepare(cmd, 0, total, false, false);
		left = iodma_test_fail_disarm();
		if (!ret)
			break;
		failures++;
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		KUNIT_EXPECT_EQ(test, left, 0U);
		KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(cmd, NULL, NULL),
				-ENODATA);
		KUNIT_EXPECT_EQ(test, iodma_test_view_cap(cmd), 32U);
	}
	KUNIT_ASSERT_EQ(test, ret, 0);
	kunit_info(test, "%u allocation failure points, each refused cleanly\n", failures);
	/* every failure point of the prepare was tried: the last run reached none */
	KUNIT_EXPECT_EQ(test, left, 1U);
	KUNIT_EXPECT_GT(test, failures, 0U);
	KUNIT_EXPECT_GE(test, iodma_test_view_cap(cmd), n);
	expect_view_is(test, cmd, want, n, "grown");
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * The view fills itself from an sg_table or bio_vecs where it has room
 * (view_fill_cpu()): exactly the plain model's entries, as the general walk
 * of the same memory gives them (a sub-range descriptor), for chained
 * tables, offsets beyond the first page, sub-ranges inside entries, cuts at
 * the largest mapping and at the boundary, contiguous neighbours, and room
 * that runs out.
 */
static void cpu_view_fill_matches_the_model(struct kunit *test)
{
	const struct view_case *c = test->param_value;
	const struct iodma_spec spec = { .map = IODMA_MAPPED, .output = IODMA_OUT_HOST64 };
	struct device *dev = view_dev(test, c->max_seg, c->boundary);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page *blk = iodma_test_pages(test, 9);
	const phys_addr_t base = page_to_phys(blk);
	unsigned int i, n, nsub = 0, npc = c->npc, room = 2 * SG_MAX_SINGLE_ALLOC + 64;
	const struct piece *pc = c->pc;
	struct iodma_md *sgt_md, *bv_md, *sub, *small;
	struct ventry *want, *want_sub = NULL;
	struct scatterlist *sg;
	struct sg_table *sgt;
	struct bio_vec *bv;
	u64 total = 0, len, map_max, max;

	if (c->chain) {
		npc = 2 * SG_MAX_SINGLE_ALLOC + 7;
		pc = generated_pieces(test, npc);
	} else if (c->enospc) {
		npc = ENOSPC_PIECES;
		pc = generated_pieces(test, npc);
	}
	for (i = 0; i < npc; i++)
		total += pc[i].len;
	len = c->len ? c->len : total - c->off;
	want = kunit_kcalloc(test, room, sizeof(*want), GFP_KERNEL);
	bv = kunit_kcalloc(test, npc, sizeof(*bv), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, bv);

	/* each piece described from @far pages before it (its own page at most) */
	sgt = iodma_test_sgtable(test, npc);
	for_each_sgtable_sg(sgt, sg, i) {
		unsigned int back = min_t(unsigned int, c->far, pc[i].at / PAGE_SIZE);
		struct page *page = nth_page(blk, pc[i].at / PAGE_SIZE - back);
		u32 in = offset_in_page(pc[i].at) + back * PAGE_SIZE;

		sg_set_page(sg, page, pc[i].len, in);
		bvec_set_page(&bv[i], page, pc[i].len, in);
	}
	if (c->chain)
		KUNIT_ASSERT_TRUE(test, sg_is_chain(&sgt->sgl[SG_MAX_SINGLE_ALLOC - 1]));
	sgt_md = iodma_test_md(test, iodma_md_from_sgtable(sgt, DMA_TO_DEVICE));
	bv_md = iodma_test_md(test, iodma_md_from_bvecs(bv, npc, DMA_TO_DEVICE));
	sub = iodma_test_md(test, iodma_md_subrange(sgt_md, 0, total));

	if (c->enospc) {
		small = iodma_test_md(test, iodma_md_subrange(sgt_md, 0, pc[0].len));
		max = max_entry_of(dev, dma_max_mapping_size(dev));
		n = model_view(pc, npc, base, 0, total, max, 0, want, room);
		want_sub = kunit_kcalloc(test, room, sizeof(*want_sub), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, want_sub);
		nsub = model_view(pc, npc, base, 0, 20 * SZ_2K + 7, max, 0, want_sub, room);
		KUNIT_ASSERT_LE(test, nsub, 32U);
		expect_room_runs_out(test, cmd, sgt_md, small, want, n, want_sub, nsub,
				     20 * SZ_2K + 7);
		expect_room_runs_out(test, iodma_test_cmd(test, dev, &spec), bv_md, small, want,
				     n, want_sub, nsub, 20 * SZ_2K + 7);
		return;
	}

	/*
	 * Room first, for an entry per piece at least: the fills below are in
	 * place, and a fill that forgot to merge would not fall back.
	 */
	KUNIT_ASSERT_LE(test, npc, 512U);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, spread_md(test, blk, npc),
							      true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	map_max = dma_max_mapping_size(dev);
	if (c->map_max) {
		if (is_swiotlb_force_bounce(dev)) {
			/* swiotlb's own cap, the case this row is for */
			KUNIT_ASSERT_LT(test, map_max, (u64)SZ_1M);
		} else {
			/* the same cut from a smaller cap */
			map_max = c->map_max;
			iodma_test_set_map_max(cmd, map_max);
		}
	}
	max = max_entry_of(dev, map_max);
	n = model_view(pc, npc, base, c->off, len, max, dma_get_seg_boundary(dev), want, room);
	KUNIT_ASSERT_LT(test, n, room);
	KUNIT_ASSERT_GE(test, iodma_test_view_cap(cmd), max(n, npc));

	expect_prepared_view(test, cmd, sgt_md, c->off, len, want, n, "sg_table");
	expect_prepared_view(test, cmd, bv_md, c->off, len, want, n, "bio_vec");
	expect_prepared_view(test, cmd, sub, c->off, len, want, n, "general walk");
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, npc, DMA_TO_DEVICE, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, c->off, len, false, false), 0);
	expect_view_is(test, cmd, want, n, "set_bvecs");
}

/* One gen call of a recorded sequence, and what it gave. */
struct gen_call {
	u64 off;	/* in */
	u32 cap;	/* in */
	int ret;
	u64 out_off;
	u32 n;
	u64 splits;	/* segments the call cut short */
	u8 raw[4 * sizeof(struct iodma_seg64)];
};

/* A bus_dma_limit that is not 2^n - 1, above 4 GiB. */
#define ODD_REACH	0x123456fffULL

/*
 * gen's plain path (one loop per source and output format) against the
 * general path (next_segment()) on the same prepared command: random
 * layouts as scatterlists (mapped or physical) and as physical ranges, the
 * six output formats, max_segment_size cuts, batches of 1 to 4 segments and
 * jumps to random offsets.  A quarter of the rounds have a reach that is
 * not 2^n - 1: physical ranges around a device's bus_dma_limit of
 * ODD_REACH (BYPASSED: the ranges cannot bounce, gen cuts at the reach and
 * fails past it), or a scatterlist whose command's reach is moved into the
 * block.  Every call returns the same: errno, offset, count, bytes and
 * splits counted.
 */
static void plain_gen_matches_the_general_path(struct kunit *test)
{
	static const u64 max_segs[] = { 0, 512, 3000, PAGE_SIZE, SZ_64K };
	static const enum iodma_map_type maps[] = {
		IODMA_MAPPED, IODMA_BYPASSED, IODMA_ITERATE_ONLY,
	};
	struct device *dev = iodma_test_dev(test, 64), *odd = iodma_test_dev(test, 64);
	struct page *blk = iodma_test_pages(test, 6);
	struct shape *sh = kunit_kzalloc(test, sizeof(*sh), GFP_KERNEL);
	struct gen_call *calls = kunit_kcalloc(test, 40, sizeof(*calls), GFP_KERNEL);
	struct iodma_phys_range *r = kunit_kcalloc(test, ARRAY_SIZE(sh->phys), sizeof(*r),
						   GFP_KERNEL);
	const phys_addr_t base = page_to_phys(blk);
	u64 cut_at_reach = 0, erange = 0, splits = 0;
	struct rnd_state rnd;
	unsigned int round, i, k, ncalls, plain;

	KUNIT_ASSERT_NOT_NULL(test, sh);
	KUNIT_ASSERT_NOT_NULL(test, calls);
	KUNIT_ASSERT_NOT_NULL(test, r);
	odd->bus_dma_limit = ODD_REACH;
	prandom_seed_state(&rnd, 1811);
	for (round = 0; round < 200; round++) {
		unsigned int reach = rnd_below(&rnd, 8);	/* 0: ranges, 1: moved */
		struct iodma_spec spec = {
			.map = maps[rnd_below(&rnd, ARRAY_SIZE(maps))],
			.output = rnd_below(&rnd, IODMA_OUT_LITTLE64 + 1),
			.max_segment_size = max_segs[rnd_below(&rnd, ARRAY_SIZE(max_segs))],
		};
		struct iodma_cmd *cmd;
		struct iodma_md *md;
		u64 off = 0, last = U64_MAX;

		if (!reach) {
			spec.map = IODMA_BYPASSED;
			if (spec.output <= IODMA_OUT_LITTLE32)
				spec.output += IODMA_OUT_HOST64;
		}
		cmd = iodma_test_cmd(test, reach ? dev : odd, &spec);
		random_shape(&rnd, blk, PAGE_SIZE << 6, sh);
		if (!reach) {
			/*
			 * The layout moved to straddle the reach: some pieces
			 * below, some above, and often the first across it.
			 */
			u64 to = ODD_REACH + 1 - rnd_below(&rnd, PAGE_SIZE << 6);

			if (rnd_below(&rnd, 2))
				to = ODD_REACH + 1 - (sh->phys[0] - base) - (sh->len[0] + 1) / 2;

			last = ODD_REACH;
			for (i = 0; i < sh->n; i++)
				r[i] = (struct iodma_phys_range){ sh->phys[i] - base + to,
								  sh->len[i] };
			md = iodma_md_from_phys(r, sh->n, DMA_TO_DEVICE);
		} else if (rnd_below(&rnd, 4) == 0 && spec.map != IODMA_MAPPED) {
			for (i = 0; i < sh->n; i++)
				r[i] = (struct iodma_phys_range){ sh->phys[i], sh->len[i] };
			md = iodma_md_from_phys(r, sh->n, DMA_TO_DEVICE);
		} else {
			md = iodma_md_from_sgtable(shape_sgtable(test, sh), DMA_TO_DEVICE);
		}
		md = iodma_test_md(test, md);
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
		if (!reach)
			KUNIT_ASSERT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
		if (reach == 1 && spec.map != IODMA_MAPPED) {
			/* the physical entries are the bus addresses: a reach inside them */
			last = base + rnd_below(&rnd, PAGE_SIZE << 6);
			last += 0x1001 * rnd_below(&rnd, 16);
			iodma_test_set_reach(cmd, last);
		}
		for (ncalls = 0; ncalls < 40 && off < sh->total; ncalls++) {
			u64 before = iodma_test_splits(cmd);

			if (rnd_below(&rnd, 7) == 0)
				off = rnd_below(&rnd, sh->total);
			calls[ncalls].off = off;
			calls[ncalls].cap = 1 + rnd_below(&rnd, 4);
			calls[ncalls].out_off = off;
			calls[ncalls].n = calls[ncalls].cap;
			memset(calls[ncalls].raw, 0, sizeof(calls[ncalls].raw));
			calls[ncalls].ret = iodma_cmd_gen_segments(cmd, &calls[ncalls].out_off,
								   calls[ncalls].raw,
								   &calls[ncalls].n);
			calls[ncalls].splits = iodma_test_splits(cmd) - before;
			splits += calls[ncalls].splits;
			erange += calls[ncalls].ret == -ERANGE;
			/* past an error, somewhere else */
			off = calls[ncalls].ret ? rnd_below(&rnd, sh->total) :
						  calls[ncalls].out_off;
		}
		for (plain = 0; plain < 2; plain++) {
			iodma_test_set_plain(cmd, plain);
			for (k = 0; k < ncalls; k++) {
				u8 raw[sizeof(calls[k].raw)] = {};
				u64 o = calls[k].off, before = iodma_test_splits(cmd);
				u32 n = calls[k].cap;
				int ret = iodma_cmd_gen_segments(cmd, &o, raw, &n);

				KUNIT_ASSERT_EQ_MSG(test, ret, calls[k].ret, "round %u call %u",
						    round, k);
				KUNIT_ASSERT_EQ_MSG(test, o, calls[k].out_off, "round %u call %u",
						    round, k);
				KUNIT_ASSERT_EQ_MSG(test, n, calls[k].n, "round %u call %u",
						    round, k);
				KUNIT_ASSERT_EQ_MSG(test, iodma_test_splits(cmd) - before,
						    calls[k].splits, "round %u call %u: splits",
						    round, k);
				/* both zeroed beyond what was written */
				KUNIT_ASSERT_EQ_MSG(test, memcmp(raw, calls[k].raw, sizeof(raw)), 0,
						    "round %u call %u", round, k);
			}
		}
		/* a segment ending on the reach: its last byte is the reach itself */
		for (k = 0; k < ncalls && last != U64_MAX; k++) {
			struct iodma_seg64 seg;

			for (i = 0; !calls[k].ret && i < calls[k].n; i++) {
				iodma_test_seg_decode(cmd, calls[k].raw, i, &seg);
				KUNIT_ASSERT_LE(test, seg.len - 1, last - seg.addr);
				cut_at_reach += seg.addr + seg.len - 1 == last;
			}
		}
		KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	}
	/* the rounds reached what they are for */
	kunit_info(test, "%llu gen errors past the reach, %llu segments ending on it, %llu splits\n",
		   erange, cut_at_reach, splits);
	KUNIT_EXPECT_GT(test, erange, 0ULL);
	KUNIT_EXPECT_GT(test, cut_at_reach, 0ULL);
	KUNIT_EXPECT_GT(test, splits, 0ULL);
}

/* @n segments of @len bytes from @addr on, each right after the one before */
struct seg_run {
	u64 addr, len, n;
};

struct block_case {
	const char *name;
	u64 block;			/* max_segment_size, boundary and gap rule */
	u64 max_seg;			/* else max_segment_size (and gap rule), boundary 4 KiB */
	u32 max_segs;
	unsigned int addr_bits;
	struct iodma_phys_range r[2];
	unsigned int nr;
	u32 cap;			/* segments per gen call */
	struct seg_run want[3];		/* the segments gen writes, in order */
	int err;			/* gen's errno after them, or 0 */
	enum iodma_bounce_reason reason;	/* the dry run's (explain's) answer */
	u64 bad_offset;
	u64 nsegs;
	u64 reach;			/* else the reach of addr_bits */
	u32 len_align;
};

#define P	0x10000000ULL

static const struct block_case block_cases[] = {
	{ "128k_page_aligned", SZ_4K, 0, 0, 0, { { P, SZ_128K } }, 1, 64,
	  { { P, SZ_4K, 32 } }, 0, IODMA_BOUNCE_NONE, 0, 32 },
	{ "128k_at_0x200", SZ_4K, 0, 0, 0, { { P + 0x200, SZ_128K } }, 1, 64,
	  { { P + 0x200, 0xe00, 1 }, { P + SZ_4K, SZ_4K, 31 }, { P + SZ_128K, 0x200, 1 } },
	  0, IODMA_BOUNCE_NONE, 0, 33 },
	{ "odd_last_length_in_batches_of_3", SZ_4K, 0, 0, 0, { { P, 5 * SZ_4K + 100 } }, 1, 3,
	  { { P, SZ_4K, 5 }, { P + 5 * SZ_4K, 100, 1 } }, 0, IODMA_BOUNCE_NONE, 0, 6 },
	{ "two_entries_split_mid_block", SZ_4K, 0, 0, 0,
	  { { P, 0x1800 }, { P + 0x1800, 0x2800 } }, 2, 64,
	  { { P, SZ_4K, 4 } }, 0, IODMA_BOUNCE_NONE, 0, 4 },
	{ "max_seg_512_below_a_4k_boundary", 0, 512, 0, 0, { { P + 0x100, SZ_4K } }, 1, 64,
	  { { P + 0x100, 0x100, 1 }, { P + 0x200, 512, 7 }, { P + SZ_4K, 0x100, 1 } },
	  0, IODMA_BOUNCE_NONE, 0, 9 },
	{ "max_segments_in_the_middle", SZ_4K, 0, 5, 0, { { P + 0x200, SZ_64K } }, 1, 64,
	  { { P + 0x200, 0xe00, 1 }, { P + SZ_4K, SZ_4K, 15 }, { P + SZ_64K, 0x200, 1 } },
	  0, IODMA_BOUNCE_SEGMENTS, 0xe00 + 4 * SZ_4K, 17 },
	{ "reach_in_the_middle", SZ_4K, 0, 0, 32, { { SZ_4G - 3 * SZ_4K - 0x200, SZ_32K } }, 1, 3,
	  { { SZ_4G - 3 * SZ_4K - 0x200, 0x200, 1 }, { SZ_4G - 3 * SZ_4K, SZ_4K, 2 } },
	  -ERANGE, IODMA_BOUNCE_ADDRESS, 0x200 + 3 * SZ_4K, 4 },
	/* a batch that reaches past the reach fails whole */
	{ "reach_in_the_middle_of_a_batch", SZ_4K, 0, 0, 32,
	  { { SZ_4G - 3 * SZ_4K - 0x200, SZ_32K } }, 1, 5, {},
	  -ERANGE, IODMA_BOUNCE_ADDRESS, 0x200 + 3 * SZ_4K, 4 },
	/*
	 * A reach (a bus_dma_limit) 2 bytes short of the end of the block
	 * where the run of blocks would start: the block ends past it, so the
	 * segment there is cut at the reach and breaks the gap rule.
	 */
	{ "reach_two_bytes_short_of_a_block", SZ_4K, 0, 0, 0, { { P + 0x2200, SZ_64K } }, 1, 2,
	  {}, -EINVAL, IODMA_BOUNCE_GAPS, 0xe00, 1, P + 0x3ffe },
	{ "reach_on_a_block_end", SZ_4K, 0, 0, 0, { { P + 0x2200, SZ_64K } }, 1, 2,
	  { { P + 0x2200, 0xe00, 1 }, { P + 0x3000, SZ_4K, 1 } }, -ERANGE, IODMA_BOUNCE_ADDRESS,
	  0xe00 + SZ_4K, 2, P + 0x3fff },
	/*
	 * Short I/O, one entry: the shortcut takes the first rows; each of the
	 * others lies just outside its conditions and goes to the general walk.
	 */
	{ "one_page", SZ_4K, 0, 0, 0, { { P, SZ_4K } }, 1, 1,
	  { { P, SZ_4K, 1 } }, 0, IODMA_BOUNCE_NONE, 0, 1 },
	{ "one_entry_inside_a_block", SZ_4K, 0, 1, 0, { { P + 0x204, 0x100 } }, 1, 1,
	  { { P + 0x204, 0x100, 1 } }, 0, IODMA_BOUNCE_NONE, 0, 1 },
	{ "one_page_reach_on_its_last_byte", SZ_4K, 0, 0, 0, { { P, SZ_4K } }, 1, 1,
	  { { P, SZ_4K, 1 } }, 0, IODMA_BOUNCE_NONE, 0, 1, P + 0xfff },
	{ "one_entry_across_the_boundary_by_a_byte", SZ_4K, 0, 0, 0, { { P + 0x200, 0xe01 } },
	  1, 2, { { P + 0x200, 0xe00, 1 }, { P + SZ_4K, 1, 1 } }, 0, IODMA_BOUNCE_NONE, 0, 2 },
	{ "one_entry_across_the_boundary_max_segments_1", SZ_4K, 0, 1, 0,
	  { { P + 0x200, 0xe01 } }, 1, 2, {}, 0, IODMA_BOUNCE_SEGMENTS, 0xe00, 2 },
	{ "one_entry_misaligned_by_a_byte", SZ_4K, 0, 0, 0, { { P + 1, 0x100 } }, 1, 1,
	  {}, -EINVAL, IODMA_BOUNCE_ALIGNMENT, 0, 0 },
	{ "one_page_reach_a_byte_short", SZ_4K, 0, 0, 0, { { P, SZ_4K } }, 1, 1,
	  {}, -EINVAL, IODMA_BOUNCE_GAPS, 0, 0, P + 0xffe },
	{ "one_page_reach_in_its_middle", SZ_4K, 0, 0, 0, { { P, SZ_4K } }, 1, 1,
	  {}, -EINVAL, IODMA_BOUNCE_GAPS, 0, 0, P + 0x7ff },
	{ "one_page_beyond_the_reach", SZ_4K, 0, 0, 0, { { P, SZ_4K } }, 1, 1,
	  {}, -ERANGE, IODMA_BOUNCE_ADDRESS, 0, 0, P - 1 },
	{ "one_entry_4_bytes_over_max_segment_size", 0, SZ_2K, 0, 0, { { P, SZ_2K + 4 } }, 1, 2,
	  { { P, SZ_2K, 1 }, { P + SZ_2K, 4, 1 } }, 0, IODMA_BOUNCE_NONE, 0, 2 },
	{ "one_entry_length_unit_of_1k_across_a_boundary", SZ_4K, 0, 0, 0,
	  { { P + 0xe00, 0x400 } }, 1, 2, {}, -EINVAL, IODMA_BOUNCE_LENGTH, 0, 0, 0, 0x400 },
	{ "one_entry_length_unit_of_512_across_a_boundary", SZ_4K, 0, 0, 0,
	  { { P + 0xe00, 0x400 } }, 1, 2, { { P + 0xe00, 0x200, 1 }, { P + SZ_4K, 0x200, 1 } },
	  0, IODMA_BOUNCE_NONE, 0, 2, 0, 0x200 },
};

KUNIT_ARRAY_PARAM_DESC(block, block_cases, name);

/* The dry run of @bc's range on the unprepared @cmd, as explain gives it. */
static void expect_block_dry_run(struct kunit *test, const struct block_case *bc,
				 struct iodma_cmd *cmd, struct iodma_md *md)
{
	struct iodma_explain ex;

	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(cmd, md, 0, 0, &ex), 0);
	KUNIT_EXPECT_EQ(test, ex.reason, bc->reason);
	KUNIT_EXPECT_EQ(test, ex.bad_offset, bc->bad_offset);
	KUNIT_EXPECT_EQ(test, ex.nsegs, bc->nsegs);
}

/* gen over the whole prepared range of @bc, @bc->cap segments a call. */
static void expect_block_segments(struct kunit *test, const struct block_case *bc,
				  struct iodma_cmd *cmd)
{
	struct iodma_seg64 *segs = kunit_kcalloc(test, bc->cap, sizeof(*segs), GFP_KERNEL);
	unsigned int run = 0, seg = 0;
	u64 off = 0, i = 0, total = 0;
	u32 k, n;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, segs);
	for (k = 0; k < bc->nr; k++)
		total += bc->r[k].len;
	do {
		n = bc->cap;
		ret = iodma_cmd_gen_segments(cmd, &off, segs, &n);
		for (k = 0; !ret && k < n; k++, seg++) {
			const struct seg_run *w;

			/* segment @i of run @run */
			KUNIT_ASSERT_LT_MSG(test, run, ARRAY_SIZE(bc->want), "segment %u", seg);
			w = &bc->want[run];
			KUNIT_ASSERT_GT_MSG(test, w->n, 0ULL, "segment %u", seg);
			KUNIT_EXPECT_EQ_MSG(test, segs[k].addr, w->addr + i * w->len,
					    "segment %u", seg);
			KUNIT_EXPECT_EQ_MSG(test, segs[k].len, w->len, "segment %u", seg);
			if (++i == w->n) {
				run++;
				i = 0;
			}
		}
	} while (!ret && off < total);
	KUNIT_EXPECT_EQ(test, ret, bc->err);
	/* every segment expected was written */
	KUNIT_EXPECT_EQ(test, i, 0ULL);
	KUNIT_EXPECT_TRUE(test, run == ARRAY_SIZE(bc->want) || !bc->want[run].n);
}

/*
 * Runs of whole blocks under PRP-shaped rules (a block of max_segment_size,
 * boundary and gap rule; alignment 4): the exact segments and dry run of
 * each case, through the block path and with it off (the general path
 * alone, segment by segment).
 */
static void block_runs_match_the_general_path(struct kunit *test)
{
	const struct block_case *bc = test->param_value;
	struct iodma_spec spec = {
		.map = IODMA_ITERATE_ONLY, .output = IODMA_OUT_HOST64, .alignment = 4,
		.max_segment_size = bc->block ? bc->block : bc->max_seg,
		.seg_boundary_mask = bc->block ? bc->block - 1 : SZ_4K - 1,
		.virt_boundary_mask = (bc->block ? bc->block : bc->max_seg) - 1,
		.max_segments = bc->max_segs, .addr_bits = bc->addr_bits,
		.length_alignment = bc->len_align,
	};
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_phys(bc->r, bc->nr,
								   DMA_TO_DEVICE));
	u64 block = iodma_test_set_block(cmd, 0);

	if (bc->reach)
		iodma_test_set_spec_limit(cmd, bc->reach);
	/* the block path and the shortcut are on for these rules */
	KUNIT_ASSERT_EQ(test, block, bc->block ? bc->block : bc->max_seg);
	KUNIT_ASSERT_TRUE(test, iodma_test_set_shortcut(cmd, false));
	expect_block_dry_run(test, bc, cmd, md);
	iodma_test_set_block(cmd, block);
	iodma_test_set_shortcut(cmd, true);
	expect_block_dry_run(test, bc, cmd, md);
	if (bc->reason == IODMA_BOUNCE_SEGMENTS)
		return;		/* an iterate-only command cannot prepare it */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	expect_block_segments(test, bc, cmd);
	iodma_test_set_block(cmd, 0);
	iodma_test_set_shortcut(cmd, false);
	expect_block_segments(test, bc, cmd);
}

static struct kunit_case segments_test_cases[] = {
	KUNIT_CASE(vmalloc_three_pages_at_offset_100_are_three_segments),
	KUNIT_CASE(contiguous_1mib_with_max_64k_is_16_segments),
	KUNIT_CASE(contiguous_1mib_mapped_is_16_segments),
	KUNIT_CASE(boundary_splits_a_crossing_run_in_two),
	KUNIT_CASE(capacity_does_not_change_the_segments),
	KUNIT_CASE(multi_and_subrange_pieces_coalesce),
	KUNIT_CASE(partial_prepare_segments_cover_the_piece),
	KUNIT_CASE(internal_alignment_cuts_a_long_run),
	KUNIT_CASE(internal_cut_off_the_length_unit_is_a_length_violation),
	KUNIT_CASE(run_ending_on_the_cap_is_cut_to_internal_alignment),
	KUNIT_CASE(run_is_cut_at_a_limit_that_is_not_pow2),
	KUNIT_CASE_PARAM(output_format_byte_order, format_gen_params),
	KUNIT_CASE(gen32_and_gen64_check_the_output_width),
	KUNIT_CASE(out32_above_4g_is_erange),
	KUNIT_CASE(out32_ram_above_4g_is_erange),
	KUNIT_CASE(addr_limit_cuts_then_erange),
	KUNIT_CASE(misaligned_without_bounce_is_einval),
	KUNIT_CASE(gen_bad_arguments_and_offsets_return_errnos),
	KUNIT_CASE(sequential_generation_is_o1),
	KUNIT_CASE(sequential_sg_generation_is_o1_and_reads_keep_the_cursor),
	KUNIT_CASE(cpu_descriptor_views_match_the_general_walk),
	KUNIT_CASE_PARAM(cpu_view_fill_matches_the_model, view_gen_params),
	KUNIT_CASE(plain_gen_matches_the_general_path),
	KUNIT_CASE_PARAM(block_runs_match_the_general_path, block_gen_params),
	{}
};

static struct kunit_suite segments_test_suite = {
	.name = "iodma_segments",
	.test_cases = segments_test_cases,
};

kunit_test_suite(segments_test_suite);
