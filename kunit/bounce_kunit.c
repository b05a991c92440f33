// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the copy-buffer path.  Memory beyond the device's reach, misaligned
 * memory and forced double buffering go through the copy buffer, with the
 * reason recorded, segments inside the limits and data verified both ways
 * with the fake device; memory that needs no copy is not copied; copy
 * buffers made for a command are used in place; only the prepared piece is
 * copied.  A command's cached reach and largest mapping follow the device
 * (its mask, its bus limit), the specification and the memory present.
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include "iodma_kunit.h"

/*
 * @n pages whose physical address is above @limit, or the test is skipped.
 * Free memory is taken in 2 MiB blocks until one lies above the limit, so
 * that the answer does not depend on where the allocator starts.
 */
static struct page **pages_above(struct kunit *test, u64 limit, unsigned int n)
{
	const unsigned int order = 9;
	struct page **pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	struct page *p, *tmp, *keep = NULL;
	LIST_HEAD(rejects);
	unsigned int tries, i;

	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_LE(test, n, 1U << order);
	for (tries = 0; tries < 4096 && !keep; tries++) {
		p = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY, order);
		if (!p)
			break;
		if (page_to_phys(p) > limit)
			keep = p;
		else
			list_add(&p->lru, &rejects);
	}
	list_for_each_entry_safe(p, tmp, &rejects, lru) {
		list_del(&p->lru);
		__free_pages(p, order);
	}
	if (!keep)
		kunit_skip(test, "no free RAM above %#llx in this guest", limit);
	iodma_test_own_pages(test, keep, order);
	/* every other page: none adjacent */
	for (i = 0; i < n; i++)
		pages[i] = nth_page(keep, 2 * i);
	return pages;
}

/* The chunk of the command's copy buffer holding bus address @a, or NULL. */
static const struct iodma_cbuf_chunk *chunk_at(const struct iodma_cmd *cmd, u64 a)
{
	const struct iodma_cbuf_chunk *c;
	unsigned int i;

	for (i = 0; (c = iodma_test_cbuf_chunk(cmd, i)); i++)
		if (a >= c->dma && a - c->dma < PAGE_SIZE << c->order)
			return c;
	return NULL;
}

/* Every byte of every segment lies in the command's copy buffer (chunks may be adjacent). */
static void expect_in_copy_buffer(struct kunit *test, struct iodma_cmd *cmd,
				  const struct iodma_seg64 *segs, int n)
{
	int i;

	KUNIT_ASSERT_NOT_NULL(test, iodma_test_cbuf_md(cmd));
	for (i = 0; i < n; i++) {
		u64 a = segs[i].addr, end = segs[i].addr + segs[i].len;

		while (a < end) {
			const struct iodma_cbuf_chunk *c = chunk_at(cmd, a);

			KUNIT_ASSERT_NOT_NULL_MSG(test, c, "segment %d: %llx not in copy buffer",
						  i, a);
			a = min(end, c->dma + (PAGE_SIZE << c->order));
		}
	}
}

struct reach_case {
	const char *name;
	unsigned int bits;
	enum iodma_map_type map;
};

static const struct reach_case reach_cases[] = {
	{ "mapped_28", 28, IODMA_MAPPED },
	{ "mapped_30", 30, IODMA_MAPPED },
	{ "mapped_32", 32, IODMA_MAPPED },
	{ "bypassed_28", 28, IODMA_BYPASSED },
	{ "bypassed_30", 30, IODMA_BYPASSED },
	{ "bypassed_32", 32, IODMA_BYPASSED },
};

KUNIT_ARRAY_PARAM_DESC(reach, reach_cases, name);

/* One I/O of the reach cases: a command of the case's reach, memory beyond it. */
struct reach_io {
	struct device *dev;
	struct iodma_cmd *cmd;
	struct page **pages;	/* 4, none adjacent */
	u64 len;
	u8 *pattern;
	u8 *seen;
	struct iodma_seg64 *segs;
	struct iodma_cmd_stats st;
};

static struct reach_io *beyond_reach(struct kunit *test)
{
	const struct reach_case *c = test->param_value;
	struct iodma_spec spec = { .addr_bits = c->bits, .map = c->map,
				   .max_segment_size = SZ_8K, .output = IODMA_OUT_HOST64 };
	struct reach_io *io = kunit_kzalloc(test, sizeof(*io), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, io);
	io->len = 4 * PAGE_SIZE - 200;
	io->pattern = kunit_kmalloc(test, io->len, GFP_KERNEL);
	io->seen = kunit_kzalloc(test, io->len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io->pattern);
	KUNIT_ASSERT_NOT_NULL(test, io->seen);
	io->dev = iodma_test_dev(test, c->bits);
	io->pages = pages_above(test, DMA_BIT_MASK(c->bits), 4);
	io->cmd = iodma_test_cmd(test, io->dev, &spec);
	return io;
}

/*
 * Memory beyond addr_bits that the device writes: bounced for "address",
 * segments below the limit, and the CPU reads the device's bytes.
 */
static void device_write_beyond_reach_bounces(struct kunit *test)
{
	const struct reach_case *c = test->param_value;
	struct reach_io *io = beyond_reach(test);
	struct iodma_md *md;
	int n, i;

	md = iodma_test_md(test, iodma_md_from_pages(io->pages, 4, 100, io->len,
						     DMA_FROM_DEVICE));
	iodma_test_fill(io->pattern, io->len, c->bits);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(io->cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(io->cmd), IODMA_BOUNCE_ADDRESS);
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(iodma_cmd_bounce_reason(io->cmd)),
			   "address");
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_io_memory_descriptor(io->cmd),
			    iodma_test_cbuf_md(io->cmd));
	n = iodma_test_segments(test, io->cmd, 4, &io->segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, io->cmd, io->segs, n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_LE(test, io->segs[i].addr + io->segs[i].len - 1,
				DMA_BIT_MASK(c->bits));
	iodma_test_device_dma(test, io->dev, io->segs, n, io->pattern, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(io->cmd, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, io->seen, io->len), io->len);
	KUNIT_EXPECT_EQ(test, memcmp(io->seen, io->pattern, io->len), 0);
	iodma_cmd_get_stats(io->cmd, &io->st);
	KUNIT_EXPECT_EQ(test, io->st.bounces, 1ULL);
	/* copied in (so that unwritten bytes survive), then out */
	KUNIT_EXPECT_EQ(test, io->st.bytes_bounced, 2 * io->len);
}

/*
 * Memory beyond addr_bits that the CPU wrote: bounced for "address", the
 * segments lie in the copy buffer, and the device reads the CPU's bytes.
 */
static void cpu_write_beyond_reach_bounces(struct kunit *test)
{
	const struct reach_case *c = test->param_value;
	struct reach_io *io = beyond_reach(test);
	struct iodma_md *md;
	int n;

	md = iodma_test_md(test, iodma_md_from_pages(io->pages, 4, 100, io->len,
						     DMA_TO_DEVICE));
	iodma_test_fill(io->pattern, io->len, c->bits + 1);
	KUNIT_ASSERT_EQ(test, iodma_md_write_bytes(md, 0, io->pattern, io->len), io->len);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(io->cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(io->cmd), IODMA_BOUNCE_ADDRESS);
	n = iodma_test_segments(test, io->cmd, 64, &io->segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, io->cmd, io->segs, n);
	expect_in_copy_buffer(test, io->cmd, io->segs, n);
	iodma_test_device_dma(test, io->dev, io->segs, n, io->seen, false);
	KUNIT_EXPECT_EQ(test, memcmp(io->seen, io->pattern, io->len), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(io->cmd, true, true), 0);
	iodma_cmd_get_stats(io->cmd, &io->st);
	KUNIT_EXPECT_EQ(test, io->st.bounces, 1ULL);
	/* DMA_TO_DEVICE: copied in only */
	KUNIT_EXPECT_EQ(test, io->st.bytes_bounced, io->len);
}

/* A page-aligned buffer is not copied: no needless bounce. */
static void aligned_memory_is_not_bounced(struct kunit *test)
{
	struct iodma_spec spec = { .alignment = 512, .length_alignment = 512,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_data_dev(test);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page *page = alloc_pages(GFP_KERNEL, 1);
	struct iodma_cmd_stats st;
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, page);
	split_page(page, 1);
	iodma_test_own_pages(test, page, 0);
	iodma_test_own_pages(test, page + 1, 0);
	md = iodma_test_md(test, iodma_md_from_kva(page_address(page) + 1024, 2048,
						   DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_io_memory_descriptor(cmd), md);
	iodma_cmd_get_stats(cmd, &st);
	KUNIT_EXPECT_EQ(test, st.bounces, 0ULL);
	KUNIT_EXPECT_EQ(test, st.bytes_bounced, 0ULL);
	KUNIT_EXPECT_EQ(test, st.prepares, 1ULL);
}

enum layout {
	CONTIG,		/* pages 0, 1, 2 of a block: one run */
	SPLIT,		/* pages 0, 2, 3: a run ends at the end of page 0 */
	PIECES,		/* 100 bytes of page 0, then page 2 from byte 8 */
};

struct align_case {
	const char *name;
	struct iodma_spec spec;
	enum layout layout;
	size_t offset;
	size_t len;
	enum iodma_bounce_reason reason;
};

static const struct align_case align_cases[] = {
	{ "misaligned_start", { .alignment = 512, .output = IODMA_OUT_HOST64 },
	  CONTIG, 8, 4096, IODMA_BOUNCE_ALIGNMENT },
	{ "length_unit_split_by_page", { .length_alignment = 512, .output = IODMA_OUT_HOST64 },
	  SPLIT, PAGE_SIZE - 100, 1024, IODMA_BOUNCE_LENGTH },
	{ "internal_alignment_broken", { .internal_alignment = 512, .alignment = 1,
					 .output = IODMA_OUT_HOST64 },
	  PIECES, 0, 1024, IODMA_BOUNCE_INTERNAL },
	{ "both_512", { .alignment = 512, .length_alignment = 512, .output = IODMA_OUT_LITTLE64 },
	  CONTIG, 24, 8192, IODMA_BOUNCE_ALIGNMENT },
	{ "aligned_both_512", { .alignment = 512, .length_alignment = 512,
				.output = IODMA_OUT_LITTLE64 },
	  SPLIT, 512, 8192, IODMA_BOUNCE_NONE },
};

KUNIT_ARRAY_PARAM_DESC(align, align_cases, name);

static struct iodma_md *layout_md(struct kunit *test, const struct align_case *c,
				  struct page *blk)
{
	struct iodma_md *parts[2];
	struct page *pages[3];

	if (c->layout == PIECES) {
		u8 *va = page_address(blk);

		parts[0] = iodma_test_md(test, iodma_md_from_kva(va + PAGE_SIZE - 100, 100,
								 DMA_FROM_DEVICE));
		parts[1] = iodma_test_md(test, iodma_md_from_kva(page_address(blk + 2) + 8,
								 c->len - 100, DMA_FROM_DEVICE));
		return iodma_test_md(test, iodma_md_multi(parts, 2, DMA_FROM_DEVICE));
	}
	pages[0] = blk;
	pages[1] = c->layout == SPLIT ? blk + 2 : blk + 1;
	pages[2] = c->layout == SPLIT ? blk + 3 : blk + 2;
	return iodma_test_md(test, iodma_md_from_pages(pages, 3, c->offset, c->len,
						       DMA_FROM_DEVICE));
}

/* Misaligned memory: bounced for the rule it breaks, segments aligned, data verified. */
static void misaligned_memory_bounces_for_its_rule(struct kunit *test)
{
	const struct align_case *c = test->param_value;
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &c->spec);
	struct page *blk = alloc_pages(GFP_KERNEL, 2);
	u8 *pattern = kunit_kmalloc(test, c->len, GFP_KERNEL);
	u8 *back = kunit_kzalloc(test, c->len, GFP_KERNEL);
	struct iodma_cmd_stats st;
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, blk);
	split_page(blk, 2);
	for (n = 0; n < 4; n++)
		iodma_test_own_pages(test, blk + n, 0);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, back);
	md = layout_md(test, c, blk);
	iodma_test_fill(pattern, c->len, 3);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), c->reason);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, segs, n);
	iodma_test_device_dma(test, dev, segs, n, pattern, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, back, c->len), (u64)c->len);
	KUNIT_EXPECT_EQ(test, memcmp(back, pattern, c->len), 0);
	iodma_cmd_get_stats(cmd, &st);
	KUNIT_EXPECT_EQ(test, st.bytes_bounced, c->reason ? 2ULL * c->len : 0ULL);
}

static const size_t forced_sizes[] = {
	1, 4095, 4096, 65537, SZ_256K + 1, SZ_1M, SZ_4M,
};

static void forced_size_desc(const size_t *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zu_bytes", *size);
}

KUNIT_ARRAY_PARAM(forced, forced_sizes, forced_size_desc);

/* IODMA_FORCE_DOUBLE_BUFFER on a prepared command, 1 byte to 4 MiB, both ways. */
static void force_double_buffer_bounces_prepared_command(struct kunit *test)
{
	size_t len = *(const size_t *)test->param_value;
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_data_dev(test);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	u8 *mem = iodma_test_vzalloc(test, len), *pattern = iodma_test_vzalloc(test, len);
	struct iodma_cmd_stats st;
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	int n;

	/* device write */
	md = iodma_test_md(test, iodma_md_from_kva(mem, len, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_synchronize(cmd, IODMA_SYNC_FOR_DEVICE |
						    IODMA_FORCE_DOUBLE_BUFFER), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_FORCED);
	/* forcing again while bouncing changes nothing */
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd, IODMA_SYNC_FOR_DEVICE |
						    IODMA_FORCE_DOUBLE_BUFFER), 0);
	n = iodma_test_segments(test, cmd, 64, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, segs, n);
	/* the device reaches iodma's copy buffer itself: nothing bounced twice */
	expect_in_copy_buffer(test, cmd, segs, n);
	iodma_test_fill(pattern, len, (u32)len);
	iodma_test_device_dma(test, dev, segs, n, pattern, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, memcmp(mem, pattern, len), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);

	/* CPU write, read by the device after forcing */
	md = iodma_test_md(test, iodma_md_from_kva(mem, len, DMA_TO_DEVICE));
	memset(pattern, 0, len);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_synchronize(cmd, IODMA_SYNC_FOR_DEVICE |
						    IODMA_FORCE_DOUBLE_BUFFER), 0);
	n = iodma_test_segments(test, cmd, 64, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	expect_in_copy_buffer(test, cmd, segs, n);
	iodma_test_device_dma(test, dev, segs, n, pattern, false);
	KUNIT_EXPECT_EQ(test, memcmp(mem, pattern, len), 0);
	iodma_cmd_get_stats(cmd, &st);
	KUNIT_EXPECT_EQ(test, st.bounces, 2ULL);
	/*
	 * in at the force, in again at the second FOR_DEVICE, out at complete;
	 * then in once for the device read
	 */
	KUNIT_EXPECT_EQ(test, st.bytes_bounced, 4ULL * len);
}

static void force_double_buffer_refused_where_it_cannot_bounce(struct kunit *test)
{
	static const struct iodma_phys_range r = { .addr = 0x100000, .len = SZ_4K };
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	u8 *buf = kunit_kzalloc(test, SZ_4K, GFP_KERNEL);
	struct iodma_md *md, *phys;
	u32 force = IODMA_SYNC_FOR_DEVICE | IODMA_FORCE_DOUBLE_BUFFER;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	md = iodma_test_md(test, iodma_md_from_kva(buf, SZ_4K, DMA_TO_DEVICE));
	phys = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd, force), -ENODATA);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd, force), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	/* bus memory is never touched by the CPU */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, phys, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd, force), -EOPNOTSUPP);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	/* iterate-only never bounces */
	spec.map = IODMA_ITERATE_ONLY;
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &spec), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd, force), -EOPNOTSUPP);
}

/* A copy buffer made for the command is used in place, however narrow the reach. */
static void copy_buffer_of_the_command_never_bounces(struct kunit *test)
{
	struct iodma_spec spec = { .addr_bits = 28, .alignment = 512, .max_segment_size = 2048,
				   .output = IODMA_OUT_LITTLE32 };
	struct device *dev = iodma_test_dev(test, 28);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	u8 *pattern = kunit_kmalloc(test, SZ_64K, GFP_KERNEL);
	u8 *back = kunit_kzalloc(test, SZ_64K, GFP_KERNEL);
	struct iodma_cmd_stats st;
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	int n, i;

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, back);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_cmd_create_copy_buffer(NULL, DMA_TO_DEVICE, 1)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_cmd_create_copy_buffer(cmd, DMA_TO_DEVICE, 0)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_cmd_create_copy_buffer(cmd, DMA_NONE, 1)), -EINVAL);
	md = iodma_test_md(test, iodma_cmd_create_copy_buffer(cmd, DMA_FROM_DEVICE, SZ_64K));
	KUNIT_EXPECT_EQ(test, iodma_md_length(md), (u64)SZ_64K);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, segs, n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_LT(test, segs[i].addr + segs[i].len, 1ULL << 28);
	iodma_test_fill(pattern, SZ_64K, 28);
	iodma_test_device_dma(test, dev, segs, n, pattern, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, back, SZ_64K), (u64)SZ_64K);
	KUNIT_EXPECT_EQ(test, memcmp(back, pattern, SZ_64K), 0);
	iodma_cmd_get_stats(cmd, &st);
	KUNIT_EXPECT_EQ(test, st.bounces, 0ULL);
	KUNIT_EXPECT_EQ(test, st.bytes_bounced, 0ULL);
}

/* A piece of a bounced descriptor: only that piece is copied. */
static void partial_prepare_copies_only_its_range(struct kunit *test)
{
	struct iodma_spec spec = { .addr_bits = 28, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 28);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages = pages_above(test, DMA_BIT_MASK(28), 4);
	u8 *want = kunit_kmalloc(test, 4 * PAGE_SIZE, GFP_KERNEL);
	u8 *seen = kunit_kzalloc(test, 1024, GFP_KERNEL);
	struct iodma_cmd_stats st;
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	u8 probe[4];
	int n;

	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	md = iodma_test_md(test, iodma_md_from_pages(pages, 4, 0, 4 * PAGE_SIZE,
						     DMA_TO_DEVICE));
	iodma_test_fill(want, 4 * PAGE_SIZE, 11);
	KUNIT_ASSERT_EQ(test, iodma_md_write_bytes(md, 0, want, 4 * PAGE_SIZE), 4ULL * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, PAGE_SIZE + 100, 1024, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ADDRESS);
	iodma_cmd_get_stats(cmd, &st);
	KUNIT_EXPECT_EQ(test, st.bytes_bounced, 1024ULL);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_device_dma(test, dev, segs, n, seen, false);
	KUNIT_EXPECT_EQ(test, memcmp(seen, want + PAGE_SIZE + 100, 1024), 0);
	/* read_bytes sees the copy, relative to the prepared range */
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(cmd, 1020, probe, 8), 4ULL);
	KUNIT_EXPECT_EQ(test, memcmp(probe, want + PAGE_SIZE + 100 + 1020, 4), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	iodma_cmd_get_stats(cmd, &st);
	/* DMA_TO_DEVICE: nothing copied back */
	KUNIT_EXPECT_EQ(test, st.bytes_bounced, 1024ULL);
}

/* A device that writes part of a bounced range leaves the rest of the memory as it was. */
static void partial_device_write_keeps_the_rest(struct kunit *test)
{
	struct iodma_spec spec = { .alignment = 512, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	u8 *mem = kunit_kmalloc(test, SZ_8K + 8, GFP_KERNEL);
	u8 dev_bytes[16];
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	struct iodma_seg64 first;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	memset(mem, 0xc3, SZ_8K + 8);
	memset(dev_bytes, 0x3c, sizeof(dev_bytes));
	md = iodma_test_md(test, iodma_md_from_kva(mem + 8, SZ_8K, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ALIGNMENT);
	n = iodma_test_segments(test, cmd, 4, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	/* the device writes only the first 16 bytes */
	first = (struct iodma_seg64){ .addr = segs[0].addr, .len = sizeof(dev_bytes) };
	iodma_test_device_dma(test, dev, &first, 1, dev_bytes, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, memcmp(mem + 8, dev_bytes, sizeof(dev_bytes)), 0);
	KUNIT_EXPECT_EQ(test, mem[8 + sizeof(dev_bytes)], 0xc3);
	KUNIT_EXPECT_EQ(test, mem[8 + SZ_8K - 1], 0xc3);
}

/* While bouncing, read/write bytes see the copy, not the memory. */
static void cmd_bytes_see_the_copy_while_bouncing(struct kunit *test)
{
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	u8 *mem = kunit_kzalloc(test, SZ_8K, GFP_KERNEL);
	u8 in[4] = { 9, 8, 7, 6 }, out[4] = {};
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_8K, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_synchronize(cmd, IODMA_SYNC_FOR_DEVICE |
						    IODMA_FORCE_DOUBLE_BUFFER), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_write_bytes(cmd, 100, in, 4), 4ULL);
	/* not in memory yet */
	KUNIT_EXPECT_EQ(test, mem[100], 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(cmd, 100, out, 4), 4ULL);
	KUNIT_EXPECT_EQ(test, memcmp(in, out, 4), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd, IODMA_SYNC_FOR_CPU), 0);
	KUNIT_EXPECT_EQ(test, memcmp(mem + 100, in, 4), 0);
}

/* explain() foresees what prepare then does: reason, where, and the segment count. */
static void explain_foresees_prepare(struct kunit *test)
{
	struct iodma_spec spec = { .alignment = 512, .max_segment_size = 4096,
				   .max_transfer_size = SZ_64K, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	u8 *mem = kunit_kzalloc(test, SZ_32K, GFP_KERNEL);
	struct iodma_md *aligned, *odd;
	struct iodma_explain ex;
	struct iodma_seg64 *segs;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	aligned = iodma_test_md(test, iodma_md_from_kva(mem, SZ_16K, DMA_TO_DEVICE));
	odd = iodma_test_md(test, iodma_md_from_kva(mem + 8, SZ_16K, DMA_TO_DEVICE));

	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(cmd, aligned, 0, 0, &ex), 0);
	KUNIT_EXPECT_EQ(test, ex.reason, IODMA_BOUNCE_NONE);
	KUNIT_EXPECT_FALSE(test, ex.nsegs_estimated);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, aligned, true), 0);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_EXPECT_EQ(test, ex.nsegs, (u64)n);
	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(cmd, aligned, 0, 0, &ex), -EBUSY);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	/* no copy buffer yet: the count is an estimate */
	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(cmd, odd, 0, 0, &ex), 0);
	KUNIT_EXPECT_EQ(test, ex.reason, IODMA_BOUNCE_ALIGNMENT);
	KUNIT_EXPECT_EQ(test, ex.bad_offset, 0ULL);
	KUNIT_EXPECT_TRUE(test, ex.nsegs_estimated);
	KUNIT_EXPECT_EQ(test, ex.nsegs, 4ULL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, odd, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ALIGNMENT);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	/* with the copy buffer there, the count is exact */
	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(cmd, odd, 0, 0, &ex), 0);
	KUNIT_EXPECT_FALSE(test, ex.nsegs_estimated);
	KUNIT_EXPECT_EQ(test, ex.nsegs, (u64)n);
	/* nothing was set, prepared or copied by explaining */
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(cmd));
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(odd), 0);

	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(NULL, odd, 0, 0, &ex), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(cmd, NULL, 0, 0, &ex), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(cmd, odd, 0, 0, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(cmd, odd, SZ_16K, 1, &ex), -EINVAL);
}

/* explain() names memory beyond reach, and rules an iterate-only command reports. */
static void explain_names_the_rule(struct kunit *test)
{
	static const struct iodma_phys_range high = { .addr = SZ_4G + SZ_1M, .len = SZ_8K };
	struct iodma_spec s28 = { .addr_bits = 28, .output = IODMA_OUT_LITTLE32 };
	struct iodma_spec s32 = { .output = IODMA_OUT_HOST32, .map = IODMA_ITERATE_ONLY };
	struct iodma_spec slen = { .length_alignment = 512, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 28);
	struct iodma_cmd *c28 = iodma_test_cmd(test, dev, &s28);
	struct iodma_cmd *c32 = iodma_test_cmd(test, dev, &s32);
	struct iodma_cmd *clen = iodma_test_cmd(test, iodma_test_dev(test, 64), &slen);
	struct page **pages = pages_above(test, DMA_BIT_MASK(28), 2);
	struct iodma_md *md, *phys, *split;
	struct iodma_explain ex;

	md = iodma_test_md(test, iodma_md_from_pages(pages, 2, 0, SZ_8K, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(c28, md, 0, 0, &ex), 0);
	KUNIT_EXPECT_EQ(test, ex.reason, IODMA_BOUNCE_ADDRESS);
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(ex.reason), "address");

	phys = iodma_test_md(test, iodma_md_from_phys(&high, 1, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(c32, phys, 0, 0, &ex), 0);
	KUNIT_EXPECT_EQ(test, ex.reason, IODMA_BOUNCE_ADDRESS);

	/* pages 0 and 2 of the block: a run of 100 bytes, then the rest */
	split = iodma_test_md(test, iodma_md_from_pages(pages, 2, PAGE_SIZE - 100, 1024,
							DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_explain(clen, split, 0, 0, &ex), 0);
	KUNIT_EXPECT_EQ(test, ex.reason, IODMA_BOUNCE_LENGTH);
	KUNIT_EXPECT_EQ(test, ex.bad_offset, 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(clen, split, 0, 1000, &ex), -EINVAL);
}

struct narrow_case {
	const char *name;
	enum iodma_map_type map;
	bool bus_limit;		/* narrow dev->bus_dma_limit, else the DMA mask */
};

static const struct narrow_case narrow_cases[] = {
	{ "mapped_mask", IODMA_MAPPED, false },
	{ "mapped_bus_limit", IODMA_MAPPED, true },
	{ "bypassed_mask", IODMA_BYPASSED, false },
	{ "bypassed_bus_limit", IODMA_BYPASSED, true },
};

KUNIT_ARRAY_PARAM_DESC(narrow, narrow_cases, name);

/* Narrow (@narrow) or restore the reach of @dev to 28 bits, the case's way. */
static void set_reach(struct kunit *test, struct device *dev, const struct narrow_case *c,
		      bool narrow)
{
	if (c->bus_limit)
		dev->bus_dma_limit = narrow ? DMA_BIT_MASK(28) : 0;
	else
		KUNIT_ASSERT_EQ(test, dma_set_mask(dev, narrow ? DMA_BIT_MASK(28) :
						   DMA_BIT_MASK(64)), 0);
}

/*
 * A command caches its device's reach: a mask or bus limit narrowed after
 * the command's first I/O still bounces the next one (segments within the
 * new reach, the device's bytes read back), and widened again, the memory
 * goes as it is.
 */
static void reach_narrowed_after_create_bounces(struct kunit *test)
{
	const struct narrow_case *c = test->param_value;
	const struct iodma_spec spec = { .map = c->map, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pages = pages_above(test, DMA_BIT_MASK(28), 2);
	const u64 len = 2 * PAGE_SIZE - 300;
	u8 *pattern = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *seen = kunit_kzalloc(test, len, GFP_KERNEL);
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	int n, i;

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	md = iodma_test_md(test, iodma_md_from_pages(pages, 2, 300, len, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	set_reach(test, dev, c, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ADDRESS);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, segs, n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_LE(test, segs[i].addr + segs[i].len - 1, DMA_BIT_MASK(28));
	iodma_test_fill(pattern, len, 28);
	iodma_test_device_dma(test, dev, segs, n, pattern, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, seen, len), len);
	KUNIT_EXPECT_EQ(test, memcmp(seen, pattern, len), 0);

	set_reach(test, dev, c, false);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * set_spec on a command that never prepared takes the new spec's reach at
 * the first prepare, and a later set_spec the next one's.
 */
static void set_spec_reach_applies_at_next_prepare(struct kunit *test)
{
	const struct iodma_spec wide = { .map = IODMA_MAPPED, .output = IODMA_OUT_HOST64 };
	const struct iodma_spec narrow = { .map = IODMA_MAPPED, .output = IODMA_OUT_HOST64,
					   .addr_bits = 28 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &wide);
	struct page **pages = pages_above(test, DMA_BIT_MASK(28), 1);
	struct iodma_md *md;

	md = iodma_test_md(test, iodma_md_from_pages(pages, 1, 0, PAGE_SIZE, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &narrow), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ADDRESS);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &wide), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &narrow), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ADDRESS);
}

/*
 * The device's largest mapping is cached (here made stale on purpose, 4 KiB)
 * and used by the view until memory changes (a hot-add, a pool's re-check):
 * then the next prepare reads it again.
 */
static void memory_change_rereads_the_largest_mapping(struct kunit *test)
{
	const struct iodma_spec spec = { .map = IODMA_MAPPED, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &spec, 1);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page *blk = iodma_test_pages(test, 4);
	struct iodma_md *md;

	md = iodma_test_md(test, iodma_md_from_kva(page_address(blk), SZ_64K, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_view(cmd)->orig_nents, 1U);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	iodma_test_set_map_max(cmd, SZ_4K);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_view(cmd)->orig_nents, 16U);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	iodma_pool_recheck(pool);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_view(cmd)->orig_nents, 1U);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * The preflight decides a plain specification by a scan of the entries
 * (iodma_segments_reachable()), explain by the full dry run: over random
 * layouts of pages below 16 MiB and above 256 MiB, a BYPASSED command of
 * 28 address bits bounces exactly when a byte lies beyond them, and explain
 * names the same reason.
 */
static void plain_preflight_matches_the_dry_run(struct kunit *test)
{
	const struct iodma_spec spec = { .map = IODMA_BYPASSED, .output = IODMA_OUT_HOST64,
					 .addr_bits = 28 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
	struct page **high = pages_above(test, DMA_BIT_MASK(28), 4);
	struct page *low = alloc_pages(GFP_KERNEL | GFP_DMA | __GFP_NOWARN, 2);
	struct rnd_state rnd;
	unsigned int round, i;

	if (!low)
		kunit_skip(test, "no free pages below 16 MiB");
	iodma_test_own_pages(test, low, 2);
	prandom_seed_state(&rnd, 28);
	for (round = 0; round < 60; round++) {
		unsigned int n = 1 + prandom_u32_state(&rnd) % 8;
		struct sg_table *sgt = iodma_test_sgtable(test, n);
		enum iodma_bounce_reason want = IODMA_BOUNCE_NONE;
		struct iodma_explain ex;
		struct scatterlist *sg;
		struct iodma_md *md;

		for_each_sgtable_sg(sgt, sg, i) {
			u32 r = prandom_u32_state(&rnd);
			struct page *page = r & 1 ? high[(r >> 1) % 4] :
					    nth_page(low, (r >> 1) % 4);
			u32 off = (r >> 4) % (PAGE_SIZE / 2);
			u32 len = 1 + (r >> 16) % (PAGE_SIZE / 2);

			sg_set_page(sg, page, len, off);
			if (page_to_phys(page) + off + len - 1 > DMA_BIT_MASK(28))
				want = IODMA_BOUNCE_ADDRESS;
		}
		md = iodma_test_md(test, iodma_md_from_sgtable(sgt, DMA_TO_DEVICE));
		KUNIT_ASSERT_EQ(test, iodma_cmd_explain(cmd, md, 0, 0, &ex), 0);
		KUNIT_EXPECT_EQ_MSG(test, ex.reason, want, "round %u", round);
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
		KUNIT_EXPECT_EQ_MSG(test, iodma_cmd_bounce_reason(cmd), want, "round %u", round);
		KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	}
}

static void bounce_reason_name_of_each_reason(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(IODMA_BOUNCE_NONE), "none");
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(IODMA_BOUNCE_ADDRESS), "address");
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(IODMA_BOUNCE_ALIGNMENT), "alignment");
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(IODMA_BOUNCE_LENGTH), "length");
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(IODMA_BOUNCE_INTERNAL),
			   "internal-alignment");
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(IODMA_BOUNCE_FORCED), "forced");
	KUNIT_EXPECT_STREQ(test, iodma_bounce_reason_name(99), "unknown");
}

static struct kunit_case bounce_test_cases[] = {
	KUNIT_CASE_PARAM(device_write_beyond_reach_bounces, reach_gen_params),
	KUNIT_CASE_PARAM(cpu_write_beyond_reach_bounces, reach_gen_params),
	KUNIT_CASE(aligned_memory_is_not_bounced),
	KUNIT_CASE_PARAM(misaligned_memory_bounces_for_its_rule, align_gen_params),
	KUNIT_CASE_PARAM(force_double_buffer_bounces_prepared_command, forced_gen_params),
	KUNIT_CASE(force_double_buffer_refused_where_it_cannot_bounce),
	KUNIT_CASE(copy_buffer_of_the_command_never_bounces),
	KUNIT_CASE(partial_prepare_copies_only_its_range),
	KUNIT_CASE(cmd_bytes_see_the_copy_while_bouncing),
	KUNIT_CASE(partial_device_write_keeps_the_rest),
	KUNIT_CASE(bounce_reason_name_of_each_reason),
	KUNIT_CASE(explain_foresees_prepare),
	KUNIT_CASE(explain_names_the_rule),
	KUNIT_CASE_PARAM(reach_narrowed_after_create_bounces, narrow_gen_params),
	KUNIT_CASE(set_spec_reach_applies_at_next_prepare),
	KUNIT_CASE(memory_change_rereads_the_largest_mapping),
	KUNIT_CASE(plain_preflight_matches_the_dry_run),
	{}
};

static struct kunit_suite bounce_test_suite = {
	.name = "iodma_bounce",
	.test_cases = bounce_test_cases,
};

kunit_test_suite(bounce_test_suite);
