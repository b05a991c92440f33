// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: specifications.  Each rule of design.rst's validation is a row of
 * the table, run through iodma_spec_validate() and iodma_cmd_create(), and
 * the normalised limits are checked for the defaults.
 */
#include <kunit/test.h>
#include <linux/pci.h>
#include "iodma_kunit.h"

struct spec_case {
	const char *name;
	struct iodma_spec spec;
	int err;
};

#define OUT32	.output = IODMA_OUT_HOST32
#define OUT64	.output = IODMA_OUT_HOST64

static const struct spec_case spec_cases[] = {
	{ "all_defaults_64", { OUT64 }, 0 },
	{ "all_defaults_32", { OUT32 }, 0 },
	{ "addr_bits_1", { .addr_bits = 1, OUT64 }, -EINVAL },
	{ "addr_bits_11", { .addr_bits = 11, OUT64 }, -EINVAL },
	{ "addr_bits_12", { .addr_bits = 12, OUT64 }, 0 },
	{ "addr_bits_28_out32", { .addr_bits = 28, OUT32 }, 0 },
	{ "addr_bits_32_out32", { .addr_bits = 32, OUT32 }, 0 },
	{ "addr_bits_33_out32", { .addr_bits = 33, OUT32 }, -EINVAL },
	{ "addr_bits_33_big32", { .addr_bits = 33, .output = IODMA_OUT_BIG32 }, -EINVAL },
	{ "addr_bits_40_little32", { .addr_bits = 40, .output = IODMA_OUT_LITTLE32 }, -EINVAL },
	{ "addr_bits_64_out64", { .addr_bits = 64, OUT64 }, 0 },
	{ "addr_bits_65", { .addr_bits = 65, OUT64 }, -EINVAL },
	{ "addr_bits_255", { .addr_bits = 255, .output = IODMA_OUT_BIG64 }, -EINVAL },
	{ "alignment_3", { .alignment = 3, OUT64 }, -EINVAL },
	{ "alignment_4096", { .alignment = 4096, OUT64 }, 0 },
	{ "length_alignment_6", { .length_alignment = 6, OUT64 }, -EINVAL },
	{ "length_alignment_512", { .length_alignment = 512, OUT64 }, 0 },
	{ "internal_alignment_12", { .internal_alignment = 12, OUT64 }, -EINVAL },
	{ "internal_alignment_8", { .internal_alignment = 8, OUT64 }, 0 },
	{ "boundary_mask_0xffff", { .seg_boundary_mask = 0xffff, OUT64 }, 0 },
	{ "boundary_mask_0x1000", { .seg_boundary_mask = 0x1000, OUT64 }, -EINVAL },
	{ "boundary_below_length_unit",
	  { .seg_boundary_mask = 0xff, .length_alignment = 512, OUT64 }, -EINVAL },
	{ "max_segment_below_length_unit",
	  { .max_segment_size = 100, .length_alignment = 512, OUT64 }, -EINVAL },
	{ "max_transfer_below_length_unit",
	  { .max_transfer_size = 256, .length_alignment = 512, OUT64 }, -EINVAL },
	{ "max_segment_below_internal_alignment",
	  { .alignment = 4096, .max_segment_size = 512, OUT64 }, -EINVAL },
	{ "max_segment_below_internal_alignment_one_segment",
	  { .alignment = 4096, .max_segment_size = 512, .max_transfer_size = 512, OUT64 }, 0 },
	{ "max_transfer_rounds_down_to_one_segment",
	  { .internal_alignment = 4096, .max_segment_size = 1024, .length_alignment = 1024,
	    .max_transfer_size = 2047, OUT64 }, 0 },
	{ "boundary_below_internal_alignment",
	  { .internal_alignment = 8192, .seg_boundary_mask = 0xfff, OUT64 }, -EINVAL },
	{ "max_segment_above_internal_alignment",
	  { .internal_alignment = 4096, .max_segment_size = 6000, OUT64 }, 0 },
	{ "alignment_at_addr_limit", { .addr_bits = 12, .alignment = 4096, OUT64 }, -EINVAL },
	{ "alignment_below_addr_limit", { .addr_bits = 13, .alignment = 4096, OUT64 }, 0 },
	{ "max_segments_1", { .max_segments = 1, OUT64 }, 0 },
	{ "max_segments_u32_max", { .max_segments = U32_MAX, OUT64 }, 0 },
	{ "max_segments_1_with_tiny_segments",
	  { .max_segments = 1, .max_segment_size = 512, OUT64 }, 0 },
	{ "virt_boundary_0xfff", { .virt_boundary_mask = 0xfff, OUT64 }, 0 },
	{ "virt_boundary_0x1000", { .virt_boundary_mask = 0x1000, OUT64 }, -EINVAL },
	{ "virt_boundary_u64_max", { .virt_boundary_mask = U64_MAX, OUT64 }, -EINVAL },
	{ "virt_boundary_2_63", { .virt_boundary_mask = BIT_ULL(63), OUT64 }, -EINVAL },
	{ "virt_boundary_at_addr_limit", { .addr_bits = 12, .virt_boundary_mask = 0xfff, OUT64 },
	  -EINVAL },
	{ "virt_boundary_above_max_segment",
	  { .virt_boundary_mask = 0xfff, .max_segment_size = 2048, OUT64 }, -EINVAL },
	{ "virt_boundary_above_max_segment_one_segment",
	  { .virt_boundary_mask = 0xfff, .max_segment_size = 2048, .max_transfer_size = 2048,
	    OUT64 }, 0 },
	{ "virt_boundary_above_seg_boundary",
	  { .virt_boundary_mask = 0xffff, .seg_boundary_mask = 0xfff, OUT64 }, -EINVAL },
	{ "virt_boundary_below_seg_boundary",
	  { .virt_boundary_mask = 0xfff, .seg_boundary_mask = 0xffff, OUT64 }, 0 },
	{ "virt_boundary_nvme_prp",
	  { .virt_boundary_mask = 0xfff, .alignment = 4, .max_segments = 512,
	    .max_segment_size = 4096, OUT64 }, 0 },
	{ "unknown_output", { .output = IODMA_OUT_LITTLE64 + 1 }, -EINVAL },
	{ "unknown_map", { OUT64, .map = IODMA_ITERATE_ONLY + 1 }, -EINVAL },
	{ "unknown_flag", { OUT64, .flags = BIT(7) }, -EINVAL },
	{ "noncoherent_flag", { OUT64, .flags = IODMA_NONCOHERENT }, 0 },
	{ "bypassed", { OUT64, .map = IODMA_BYPASSED }, 0 },
	{ "iterate_only", { OUT64, .map = IODMA_ITERATE_ONLY }, 0 },
};

KUNIT_ARRAY_PARAM_DESC(spec_cases, spec_cases, name);

static void spec_validate_matches_table(struct kunit *test)
{
	const struct spec_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, iodma_spec_validate(&c->spec), c->err);
}

static void cmd_create_matches_table(struct kunit *test)
{
	const struct spec_case *c = test->param_value;
	struct iodma_cmd *cmd = iodma_cmd_create(iodma_test_dev(test, 64), &c->spec);

	if (c->err) {
		KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(cmd), c->err);
		return;
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cmd);
	iodma_cmd_destroy(cmd);
}

static void null_spec_is_einval(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, iodma_spec_validate(NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_cmd_create(iodma_test_dev(test, 32), NULL)), -EINVAL);
}

static void cmd_create_without_device_is_einval(struct kunit *test)
{
	struct iodma_spec spec = { OUT64 };

	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_cmd_create(NULL, &spec)), -EINVAL);
}

static void spec_defaults_are_normalised(struct kunit *test)
{
	struct iodma_spec s32 = { OUT32 }, s64 = { .alignment = 16, OUT64 };
	struct iodma_limits lim;

	KUNIT_ASSERT_EQ(test, iodma_spec_normalize(&s32, &lim), 0);
	KUNIT_EXPECT_EQ(test, lim.addr_limit, (u64)U32_MAX);
	KUNIT_EXPECT_EQ(test, lim.max_seg, (u64)U32_MAX);
	KUNIT_EXPECT_EQ(test, lim.max_transfer, U64_MAX);
	KUNIT_EXPECT_EQ(test, lim.align, 1ULL);
	KUNIT_EXPECT_EQ(test, lim.len_align, 1ULL);
	KUNIT_EXPECT_TRUE(test, lim.out32);

	KUNIT_ASSERT_EQ(test, iodma_spec_normalize(&s64, &lim), 0);
	KUNIT_EXPECT_EQ(test, lim.addr_limit, U64_MAX);
	KUNIT_EXPECT_EQ(test, lim.max_seg, U64_MAX);
	/* internal_alignment 0 means the first segment's alignment */
	KUNIT_EXPECT_EQ(test, lim.int_align, 16ULL);
	KUNIT_EXPECT_FALSE(test, lim.out32);
}

static void max_segment_rounds_down_to_length_unit(struct kunit *test)
{
	struct iodma_spec s = { .max_segment_size = 1000, .length_alignment = 256, OUT64 };
	struct iodma_limits lim;

	KUNIT_ASSERT_EQ(test, iodma_spec_normalize(&s, &lim), 0);
	KUNIT_EXPECT_EQ(test, lim.max_seg, 768ULL);
}

static void set_spec_while_md_set_is_ebusy(struct kunit *test)
{
	struct iodma_spec a = { OUT64 }, b = { .addr_bits = 40, OUT64 }, got;
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &a);
	u8 *buf = kunit_kzalloc(test, 64, GFP_KERNEL);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(buf, 64, DMA_TO_DEVICE));

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_spec(cmd, &b), -EBUSY);
	iodma_cmd_get_spec(cmd, &got);
	KUNIT_EXPECT_EQ(test, got.addr_bits, 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_spec(cmd, &b), 0);
	iodma_cmd_get_spec(cmd, &got);
	KUNIT_EXPECT_EQ(test, got.addr_bits, 40);
}

static void set_spec_invalid_keeps_old(struct kunit *test)
{
	struct iodma_spec a = { .addr_bits = 36, OUT64 }, bad = { .alignment = 5, OUT64 }, got;
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &a);

	KUNIT_EXPECT_EQ(test, iodma_cmd_set_spec(cmd, &bad), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_spec(NULL, &a), -EINVAL);
	iodma_cmd_get_spec(cmd, &got);
	KUNIT_EXPECT_EQ(test, got.addr_bits, 36);
	KUNIT_EXPECT_EQ(test, got.alignment, 0U);
}

static void clone_copies_spec_exactly(struct kunit *test)
{
	struct iodma_spec a = { .addr_bits = 40, .length_alignment = 8, .internal_alignment = 64,
				.alignment = 16, .max_segment_size = 8192, OUT64 }, got;
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &a);
	struct iodma_cmd *clone = iodma_cmd_clone(cmd, NULL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, clone);
	iodma_cmd_get_spec(clone, &got);
	/* IOKit's cloneCommand swaps these two; iodma does not */
	KUNIT_EXPECT_EQ(test, got.length_alignment, 8U);
	KUNIT_EXPECT_EQ(test, got.internal_alignment, 64U);
	KUNIT_EXPECT_EQ(test, memcmp(&got, &a, sizeof(a)), 0);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_device(clone), iodma_cmd_device(cmd));
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(clone));
	iodma_cmd_destroy(clone);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_cmd_clone(NULL, NULL)), -EINVAL);
}

/* BYPASSED on a device behind a translating IOMMU: only the edu device has one. */
static void bypassed_behind_iommu_is_eopnotsupp(struct kunit *test)
{
	struct iodma_spec s = { OUT64, .map = IODMA_BYPASSED };
	struct device *dev = iodma_test_edu_dev(test);

	if (!device_iommu_mapped(dev))
		kunit_skip(test, "edu device is not behind an IOMMU in this configuration");
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_cmd_create(dev, &s)), -EOPNOTSUPP);
	/* iterate-only emits physical addresses without claiming they reach */
	s.map = IODMA_ITERATE_ONLY;
	iodma_test_cmd(test, dev, &s);
}

static struct kunit_case spec_test_cases[] = {
	KUNIT_CASE_PARAM(spec_validate_matches_table, spec_cases_gen_params),
	KUNIT_CASE_PARAM(cmd_create_matches_table, spec_cases_gen_params),
	KUNIT_CASE(null_spec_is_einval),
	KUNIT_CASE(cmd_create_without_device_is_einval),
	KUNIT_CASE(spec_defaults_are_normalised),
	KUNIT_CASE(max_segment_rounds_down_to_length_unit),
	KUNIT_CASE(set_spec_while_md_set_is_ebusy),
	KUNIT_CASE(set_spec_invalid_keeps_old),
	KUNIT_CASE(clone_copies_spec_exactly),
	KUNIT_CASE(bypassed_behind_iommu_is_eopnotsupp),
	{}
};

static struct kunit_suite spec_test_suite = {
	.name = "iodma_spec",
	.test_cases = spec_test_cases,
};

kunit_test_suite(spec_test_suite);
