// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the command state machine.  One case per rule of design.rst for
 * set/clear memory descriptor, prepare/complete, synchronize, prepared
 * range and read/write bytes, and invariant 3 (data through the fake device)
 * for each kind of descriptor through the DMA API in every configuration.
 */
#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "iodma_kunit.h"

static const struct iodma_spec spec64 = { .output = IODMA_OUT_HOST64 };

struct cmd_fixture {
	struct device *dev;
	struct iodma_cmd *cmd;
	u8 *buf;
	struct iodma_md *a;	/* buf[0, 8K) */
	struct iodma_md *b;	/* buf[8K, 16K) */
};

static int cmd_test_init(struct kunit *test)
{
	struct cmd_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	f->dev = iodma_test_dev(test, 64);
	f->cmd = iodma_test_cmd(test, f->dev, &spec64);
	f->buf = kunit_kzalloc(test, SZ_16K, GFP_KERNEL);
	if (!f->buf)
		return -ENOMEM;
	f->a = iodma_test_md(test, iodma_md_from_kva(f->buf, SZ_8K, DMA_BIDIRECTIONAL));
	f->b = iodma_test_md(test, iodma_md_from_kva(f->buf + SZ_8K, SZ_8K, DMA_BIDIRECTIONAL));
	test->priv = f;
	return 0;
}

static bool prepared(struct iodma_cmd *cmd)
{
	return iodma_cmd_get_prepared_offset_and_length(cmd, NULL, NULL) == 0;
}

static void set_md_while_prepared_returns_ebusy(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->b, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->b, true), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, NULL, false), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(f->cmd), f->a);
	KUNIT_EXPECT_TRUE(test, prepared(f->cmd));
	/* the refused descriptor got no reference */
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->b), 1U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->a), 2U);
}

static void set_same_md_without_auto_prepare_completes_all(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(f->cmd, 0, 0, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(f->cmd), 2U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, false), 0);
	KUNIT_EXPECT_FALSE(test, prepared(f->cmd));
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(f->cmd), f->a);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(f->a), 0);
}

static void set_same_md_with_auto_prepare_prepares_once(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, false), 0);
	KUNIT_EXPECT_FALSE(test, prepared(f->cmd));
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(f->cmd), 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(f->cmd), 1U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->a), 2U);
}

static void set_other_md_releases_old(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->a), 2U);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->b, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->a), 1U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->b), 2U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, NULL, false), 0);
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(f->cmd));
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->b), 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(NULL, f->a, false), -EINVAL);
}

static void auto_prepare_beyond_max_transfer_is_enospc(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	struct iodma_spec spec = { .max_transfer_size = SZ_4K, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, f->dev, &spec);
	u64 off, len;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, f->b, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, f->a, true), -ENOSPC);
	/* a failed auto-prepare leaves no descriptor set and no reference */
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(cmd));
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->a), 1U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->b), 1U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(f->a), 0);

	/* a plain set accepts it, to be prepared in pieces */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, f->a, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), -ENOSPC);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, SZ_4K, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, SZ_4K, SZ_4K, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_get_prepared_offset_and_length(cmd, &off, &len), 0);
	KUNIT_EXPECT_EQ(test, off, (u64)SZ_4K);
	KUNIT_EXPECT_EQ(test, len, (u64)SZ_4K);
}

static void auto_prepare_equal_to_max_transfer_is_accepted(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	struct iodma_spec spec = { .max_transfer_size = SZ_8K, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, f->dev, &spec);

	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, f->a, true), 0);
	KUNIT_EXPECT_TRUE(test, prepared(cmd));
}

struct mapped_sgt {
	struct device *dev;
	struct sg_table sgt;
};

static void mapped_sgt_release(void *arg)
{
	struct mapped_sgt *m = arg;

	dma_unmap_sgtable(m->dev, &m->sgt, DMA_TO_DEVICE, 0);
	sg_free_table(&m->sgt);
}

/* An sg_table of two pieces of @buf mapped for @dev, undone when the test ends. */
static struct sg_table *map_two_pieces(struct kunit *test, struct device *dev, u8 *buf)
{
	struct mapped_sgt *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->dev = dev;
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&m->sgt, 2, GFP_KERNEL), 0);
	sg_set_buf(m->sgt.sgl, buf, SZ_4K);
	sg_set_buf(sg_next(m->sgt.sgl), buf + SZ_8K, SZ_4K);
	if (dma_map_sgtable(dev, &m->sgt, DMA_TO_DEVICE, 0)) {
		sg_free_table(&m->sgt);
		KUNIT_FAIL_AND_ABORT(test, "dma_map_sgtable failed");
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mapped_sgt_release, m), 0);
	return &m->sgt;
}

static void set_md_mapped_for_other_device_is_einval(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	struct device *other = iodma_test_dev(test, 64);
	struct sg_table *sgt = map_two_pieces(test, other, f->buf);
	struct iodma_md *mapped;

	mapped = iodma_test_md(test, iodma_md_from_mapped_sgtable(other, sgt, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, mapped, true), -EINVAL);
	/* examined before anything changed: the old descriptor stays */
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(f->cmd), f->a);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(mapped), 1U);
}

/* Already mapped for this device: the existing bus addresses, no second mapping. */
static void mapped_md_emits_existing_addresses(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	struct sg_table *sgt = map_two_pieces(test, f->dev, f->buf);
	struct scatterlist *sg;
	struct iodma_seg64 *segs;
	struct iodma_md *mapped;
	int n, runs = 0, i;
	u64 end = 0;

	/* what the device was given: the runs of contiguous bus addresses */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!runs || sg_dma_address(sg) != end)
			runs++;
		end = sg_dma_address(sg) + sg_dma_len(sg);
	}
	mapped = iodma_test_md(test, iodma_md_from_mapped_sgtable(f->dev, sgt, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, mapped, true), 0);
	n = iodma_test_segments(test, f->cmd, 8, &segs);
	KUNIT_ASSERT_EQ(test, n, runs);
	KUNIT_EXPECT_EQ(test, segs[0].addr, (u64)sg_dma_address(sgt->sgl));
	KUNIT_EXPECT_EQ(test, segs[n - 1].addr + segs[n - 1].len, end);
	/* nothing of the command's own was mapped */
	KUNIT_EXPECT_EQ(test, iodma_test_src(f->cmd), IODMA_SRC_RANGES);
	KUNIT_EXPECT_FALSE(test, iodma_test_ranges_mapped(f->cmd));
}

/*
 * Already-mapped addresses that break the specification cannot be bounced:
 * prepare succeeds, gen_segments reports -ERANGE (beyond addr_bits) or
 * -EINVAL (misaligned).  The table is a hand-made "mapping" for @dev.
 */
static void mapped_md_beyond_spec_is_erange(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	struct iodma_spec s32 = { .addr_bits = 32, .output = IODMA_OUT_HOST64 };
	struct iodma_spec sal = { .alignment = 4096, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *c32 = iodma_test_cmd(test, f->dev, &s32);
	struct iodma_cmd *cal = iodma_test_cmd(test, f->dev, &sal);
	struct sg_table *sgt = iodma_test_sgtable(test, 1);
	struct iodma_seg64 seg;
	struct iodma_md *md;
	u32 n = 1;
	u64 off = 0;

	sg_dma_address(sgt->sgl) = SZ_4G + 0x100;
	sg_dma_len(sgt->sgl) = SZ_4K;
	sgt->nents = 1;
	md = iodma_test_md(test, iodma_md_from_mapped_sgtable(f->dev, sgt, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(c32, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(c32), IODMA_BOUNCE_NONE);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(c32, &off, &seg, &n), -ERANGE);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(c32, IODMA_SYNC_FOR_DEVICE |
						    IODMA_FORCE_DOUBLE_BUFFER), -EOPNOTSUPP);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cal, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cal, &off, &seg, &n), -EINVAL);
	KUNIT_EXPECT_EQ(test, off, 0ULL);
}

static void clear_while_prepared(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(NULL, true), -EINVAL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(f->cmd, false), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(f->cmd), f->a);
	KUNIT_EXPECT_TRUE(test, prepared(f->cmd));
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(f->cmd, true), 0);
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(f->cmd));
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(f->a), 1U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(f->a), 0);
}

struct prepare_case {
	const char *name;
	u64 offset, length;
	int err;
	u64 want_off, want_len;
};

static const struct prepare_case prepare_cases[] = {
	{ "whole", 0, 0, 0, 0, SZ_8K },
	{ "offset_to_end", 100, 0, 0, 100, SZ_8K - 100 },
	{ "piece", 512, 1024, 0, 512, 1024 },
	{ "last_byte", SZ_8K - 1, 1, 0, SZ_8K - 1, 1 },
	{ "offset_at_end", SZ_8K, 0, -EINVAL },
	{ "offset_past_end", SZ_8K + 1, 1, -EINVAL },
	{ "length_past_end", 1, SZ_8K, -EINVAL },
	{ "wrapping", 16, ~0ULL - 8, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(prepare, prepare_cases, name);

/* A range inside the descriptor is prepared as asked (0 = to the end), any other refused. */
static void prepare_range_matches_table(struct kunit *test)
{
	const struct prepare_case *c = test->param_value;
	struct cmd_fixture *f = test->priv;
	u64 off = 0xdead, len = 0xbeef;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(f->cmd, c->offset, c->length, true, true), c->err);
	if (c->err) {
		KUNIT_EXPECT_FALSE(test, prepared(f->cmd));
		KUNIT_EXPECT_EQ(test, iodma_test_md_wired(f->a), 0);
		return;
	}
	KUNIT_ASSERT_EQ(test, iodma_cmd_get_prepared_offset_and_length(f->cmd, &off, &len), 0);
	KUNIT_EXPECT_EQ(test, off, c->want_off);
	KUNIT_EXPECT_EQ(test, len, c->want_len);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(f->a), 1);
}

static void prepare_nests_and_other_range_is_ebusy(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(f->cmd, 0, SZ_4K, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(f->cmd, 0, SZ_4K, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(f->cmd), 2U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(f->cmd, 0, SZ_8K, true, true), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(f->cmd, 1, SZ_4K, true, true), -EBUSY);
	/* IOKit bumps the counter here; iodma does not */
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(f->cmd), 2U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(f->cmd, true, true), 0);
	KUNIT_EXPECT_TRUE(test, prepared(f->cmd));
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(f->cmd, true, true), 0);
	KUNIT_EXPECT_FALSE(test, prepared(f->cmd));
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(f->cmd, true, true), -ENODATA);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(NULL, true, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(f->a), 0);
}

static void prepare_length_alignment_is_einval(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	struct iodma_spec spec = { .length_alignment = 512, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, f->dev, &spec);

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, f->a, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, 1000, true, true), -EINVAL);
	KUNIT_EXPECT_FALSE(test, prepared(cmd));
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, 1024, true, true), 0);
}

static void synchronize_unprepared_returns_enodata(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_DEVICE), -ENODATA);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_CPU), -ENODATA);
}

/* Exactly one direction, no unknown option, a command: else -EINVAL. */
static void synchronize_invalid_arguments_return_einval(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_DEVICE |
						    IODMA_SYNC_FOR_CPU), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(f->cmd, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(f->cmd, BIT(9) | IODMA_SYNC_FOR_CPU),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(NULL, IODMA_SYNC_FOR_CPU), -EINVAL);
}

static void synchronize_prepared_either_direction_succeeds(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->a, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_CPU), 0);
}

static void prepared_offset_and_length_pointers_optional(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	u64 off = 1, len = 1;

	KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(f->cmd, &off, &len),
			-ENODATA);
	KUNIT_EXPECT_EQ(test, off, 1ULL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->b, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(f->cmd, 10, 20, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(f->cmd, &off, NULL), 0);
	KUNIT_EXPECT_EQ(test, off, 10ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(f->cmd, NULL, &len), 0);
	KUNIT_EXPECT_EQ(test, len, 20ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(NULL, &off, &len),
			-EINVAL);
}

static void cmd_bytes_relative_to_prepared_range(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	u8 out[8] = {}, in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(f->cmd, 0, out, 8), 0ULL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->b, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(f->cmd, 0, out, 8), 0ULL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(f->cmd, 100, 50, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_write_bytes(f->cmd, 0, in, 8), 8ULL);
	KUNIT_EXPECT_EQ(test, memcmp(f->buf + SZ_8K + 100, in, 8), 0);
	/* clamped to the prepared range, 0 past it */
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(f->cmd, 46, out, 8), 4ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(f->cmd, 50, out, 8), 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(f->cmd, 2, out, 8), 8ULL);
	KUNIT_EXPECT_EQ(test, out[0], 3);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_io_memory_descriptor(f->cmd), f->b);
}

/* Invariant 3 through the DMA API: what the device writes, the CPU reads; and back. */
struct data_case {
	const char *name;
	int kind;		/* 0 kmalloc, 1 vmalloc, 2 pages, 3 sg_table, 4 multi */
	size_t len;
	size_t offset;
	struct iodma_spec spec;
};

static const struct data_case data_cases[] = {
	{ "kmalloc_3_pages", 0, 3 * SZ_4K, 0, { .output = IODMA_OUT_HOST64 } },
	{ "kmalloc_odd", 0, 5000, 7, { .max_segment_size = 1024, .output = IODMA_OUT_LITTLE64 } },
	{ "vmalloc_64k", 1, SZ_64K, 100, { .max_segment_size = 4096, .output = IODMA_OUT_BIG64 } },
	{ "pages_16", 2, 16 * SZ_4K, 0, { .output = IODMA_OUT_HOST32 } },
	{ "sgtable", 3, 3 * SZ_4K, 0, { .seg_boundary_mask = 0xfff, .output = IODMA_OUT_HOST64 } },
	{ "multi", 4, 2 * SZ_4K, 0, { .output = IODMA_OUT_LITTLE32 } },
	{ "large_1m", 0, SZ_1M, 0, { .max_segment_size = SZ_64K, .output = IODMA_OUT_HOST64 } },
};

KUNIT_ARRAY_PARAM_DESC(data, data_cases, name);

/* Memory of the case's kind; @cpu is its CPU address for checking. */
static struct iodma_md *data_md(struct kunit *test, const struct data_case *c, u8 **cpu,
				enum dma_data_direction dir)
{
	size_t total = c->offset + c->len;
	struct iodma_md *md, *parts[2];
	struct sg_table *sgt;
	struct page **pages;
	unsigned int i, n;
	u8 *mem;

	mem = c->kind == 1 ? iodma_test_vzalloc(test, total) :
			     kunit_kzalloc(test, total, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	*cpu = mem + c->offset;
	switch (c->kind) {
	case 2:
		n = DIV_ROUND_UP(total, PAGE_SIZE);
		pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pages);
		for (i = 0; i < n; i++)
			pages[i] = virt_to_page(mem + i * PAGE_SIZE);
		md = iodma_md_from_pages(pages, n, c->offset, c->len, dir);
		break;
	case 3:
		sgt = iodma_test_sgtable(test, 3);
		sg_set_buf(sgt->sgl, *cpu, SZ_4K);
		sg_set_buf(sg_next(sgt->sgl), *cpu + SZ_4K, SZ_4K);
		sg_set_buf(sg_next(sg_next(sgt->sgl)), *cpu + SZ_8K, c->len - SZ_8K);
		md = iodma_md_from_sgtable(sgt, dir);
		break;
	case 4:
		parts[0] = iodma_test_md(test, iodma_md_from_kva(*cpu, 1000, dir));
		parts[1] = iodma_test_md(test, iodma_md_from_kva(*cpu + 1000, c->len - 1000, dir));
		md = iodma_md_multi(parts, 2, dir);
		break;
	default:
		md = iodma_md_from_kva(*cpu, c->len, dir);
		break;
	}
	return iodma_test_md(test, md);
}

/*
 * One I/O of the case's memory through the fake device: the device writes a
 * pattern that the CPU must read after complete (@device_writes), or reads
 * what the CPU wrote before prepare.
 */
static void data_through_fake_device(struct kunit *test, bool device_writes)
{
	const struct data_case *c = test->param_value;
	struct device *dev = iodma_test_data_dev(test);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &c->spec);
	u8 *buf = kunit_kzalloc(test, c->len, GFP_KERNEL);
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	u8 *cpu;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	md = data_md(test, c, &cpu, device_writes ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
	iodma_test_fill(device_writes ? buf : cpu, c->len, device_writes ? 0x5a : 0xc3);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	/* two capacities: segments come the same in batches of any size */
	n = iodma_test_segments(test, cmd, device_writes ? 16 : 3, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, segs, n);
	iodma_test_device_dma(test, dev, segs, n, buf, device_writes);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, device_writes, device_writes), 0);
	KUNIT_EXPECT_EQ(test, memcmp(cpu, buf, c->len), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
}

static void data_device_write_reaches_cpu(struct kunit *test)
{
	data_through_fake_device(test, true);
}

static void data_cpu_write_reaches_device(struct kunit *test)
{
	data_through_fake_device(test, false);
}

/* A command reused for a succession of descriptors, each verified. */
static void data_command_reused_for_many_descriptors(struct kunit *test)
{
	struct device *dev = iodma_test_data_dev(test);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec64);
	u8 *pattern = kunit_kmalloc(test, SZ_16K, GFP_KERNEL);
	u8 *mem = kunit_kzalloc(test, SZ_16K, GFP_KERNEL);
	struct iodma_seg64 *segs;
	int i, n;

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	for (i = 0; i < 32; i++) {
		size_t len = 1 + (i * 997) % (SZ_16K - 1);
		struct iodma_md *md = iodma_md_from_kva(mem, len, DMA_FROM_DEVICE);

		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, md);
		iodma_test_fill(pattern, len, i);
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
		iodma_md_put(md);
		n = iodma_test_segments(test, cmd, 4, &segs);
		KUNIT_ASSERT_GT(test, n, 0);
		iodma_test_device_dma(test, dev, segs, n, pattern, true);
		KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
		KUNIT_ASSERT_EQ(test, memcmp(mem, pattern, len), 0);
	}
}

/* User memory through a command: pinned while prepared, data verified. */
static void data_user_memory_pinned_while_prepared(struct kunit *test)
{
	size_t len = 3 * PAGE_SIZE;
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, len, PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct device *dev = iodma_test_data_dev(test);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec64);
	u8 *pattern = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *back = kunit_kzalloc(test, len, GFP_KERNEL);
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	int n;

	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
	KUNIT_ASSERT_LT(test, uaddr, (unsigned long)TASK_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, back);
	md = iodma_test_md(test, iodma_md_from_user(uaddr + 8, len - 16, DMA_FROM_DEVICE));
	iodma_test_fill(pattern, len, 99);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_NOT_NULL(test, iodma_test_md_pinned(md));
	KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(iodma_test_md_pinned(md)[0])));
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_device_dma(test, dev, segs, n, pattern, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(md));
	KUNIT_ASSERT_EQ(test, copy_from_user(back, (void __user *)uaddr + 8, len - 16), 0UL);
	KUNIT_EXPECT_EQ(test, memcmp(back, pattern, len - 16), 0);
}

/* BYPASSED emits the CPU's bus addresses of the pages. */
static void bypassed_emits_physical_addresses(struct kunit *test)
{
	struct cmd_fixture *f = test->priv;
	struct iodma_spec spec = { .map = IODMA_BYPASSED, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, f->dev, &spec);
	struct iodma_seg64 *segs;
	int n;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, f->a, true), 0);
	n = iodma_test_segments(test, cmd, 4, &segs);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_EQ(test, segs[0].addr, (u64)virt_to_phys(f->buf));
	KUNIT_EXPECT_EQ(test, segs[0].len, (u64)SZ_8K);
}

/* Physical ranges that are not RAM (an MMIO window): MAPPED maps them with dma_map_resource. */
static void phys_md_mapped_with_dma_map_resource(struct kunit *test)
{
	/* the HPET's MMIO page on PC machines: no struct page behind it */
	static const struct iodma_phys_range r[2] = {
		{ .addr = 0xfed00000, .len = 0x800 }, { .addr = 0xfed00800, .len = 0x800 },
	};
	struct cmd_fixture *f = test->priv;
	struct iodma_md *md;
	struct iodma_seg64 *segs;
	u8 byte = 0x5a;
	int n;

	KUNIT_ASSERT_FALSE(test, pfn_valid(PHYS_PFN(r[0].addr)));
	md = iodma_test_md(test, iodma_md_from_phys(r, 2, DMA_BIDIRECTIONAL));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, md, true), 0);
	KUNIT_EXPECT_TRUE(test, iodma_test_ranges_mapped(f->cmd));
	n = iodma_test_segments(test, f->cmd, 4, &segs);
	/* dma-direct: the bus address is the physical one, and the two coalesce */
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_EQ(test, segs[0].addr, 0xfed00000ULL);
	KUNIT_EXPECT_EQ(test, segs[0].len, 0x1000ULL);
	/* the CPU never touches it */
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(f->cmd, 0, &byte, 1), 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(f->cmd, true), 0);
	KUNIT_EXPECT_FALSE(test, iodma_test_ranges_mapped(f->cmd) && iodma_test_nesting(f->cmd));
}

static struct kunit_case cmd_test_cases[] = {
	KUNIT_CASE(phys_md_mapped_with_dma_map_resource),
	KUNIT_CASE(set_md_while_prepared_returns_ebusy),
	KUNIT_CASE(set_same_md_without_auto_prepare_completes_all),
	KUNIT_CASE(set_same_md_with_auto_prepare_prepares_once),
	KUNIT_CASE(set_other_md_releases_old),
	KUNIT_CASE(auto_prepare_beyond_max_transfer_is_enospc),
	KUNIT_CASE(auto_prepare_equal_to_max_transfer_is_accepted),
	KUNIT_CASE(set_md_mapped_for_other_device_is_einval),
	KUNIT_CASE(mapped_md_emits_existing_addresses),
	KUNIT_CASE(mapped_md_beyond_spec_is_erange),
	KUNIT_CASE(clear_while_prepared),
	KUNIT_CASE_PARAM(prepare_range_matches_table, prepare_gen_params),
	KUNIT_CASE(prepare_nests_and_other_range_is_ebusy),
	KUNIT_CASE(prepare_length_alignment_is_einval),
	KUNIT_CASE(synchronize_unprepared_returns_enodata),
	KUNIT_CASE(synchronize_invalid_arguments_return_einval),
	KUNIT_CASE(synchronize_prepared_either_direction_succeeds),
	KUNIT_CASE(prepared_offset_and_length_pointers_optional),
	KUNIT_CASE(cmd_bytes_relative_to_prepared_range),
	KUNIT_CASE_PARAM(data_device_write_reaches_cpu, data_gen_params),
	KUNIT_CASE_PARAM(data_cpu_write_reaches_device, data_gen_params),
	KUNIT_CASE(data_command_reused_for_many_descriptors),
	KUNIT_CASE(data_user_memory_pinned_while_prepared),
	KUNIT_CASE(bypassed_emits_physical_addresses),
	{}
};

static struct kunit_suite cmd_test_suite = {
	.name = "iodma_cmd",
	.init = cmd_test_init,
	.test_cases = cmd_test_cases,
};

kunit_test_suite(cmd_test_suite);
