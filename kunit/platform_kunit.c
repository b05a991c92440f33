// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the platform the other suites stand on.  The DMA API maps on a
 * KUnit device in every guest configuration, and in the intel-iommu
 * configuration QEMU's edu device sits behind the IOMMU.
 */
#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include "iodma_kunit.h"

static void dma_map_sgtable_works_on_kunit_device(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 32);
	void *buf = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	struct sg_table sgt;
	u64 total = 0;
	struct scatterlist *sg;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&sgt, 2, GFP_KERNEL), 0);
	sg_set_buf(sgt.sgl, buf, PAGE_SIZE);
	sg_set_buf(sg_next(sgt.sgl), buf + PAGE_SIZE + 8, 100);
	KUNIT_ASSERT_EQ(test, dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0), 0);
	KUNIT_EXPECT_GE(test, sgt.nents, 1U);
	for_each_sgtable_dma_sg(&sgt, sg, i) {
		KUNIT_EXPECT_LE(test, sg_dma_address(sg) + sg_dma_len(sg), DMA_BIT_MASK(32) + 1);
		total += sg_dma_len(sg);
	}
	KUNIT_EXPECT_EQ(test, total, (u64)PAGE_SIZE + 100);
	dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	sg_free_table(&sgt);
}

static void edu_device_is_behind_iommu(struct kunit *test)
{
	struct device *dev = iodma_test_edu_dev(test);
	struct iommu_domain *domain;

	KUNIT_EXPECT_TRUE(test, device_iommu_mapped(dev));
	domain = iommu_get_domain_for_dev(dev);
	KUNIT_ASSERT_NOT_NULL(test, domain);
	/* iommu.strict=1 with intel-iommu: a DMA (translating) domain */
	KUNIT_EXPECT_TRUE(test, domain->type & __IOMMU_DOMAIN_PAGING);
}

static void version_is_iodma_version(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, iodma_version(), IODMA_VERSION);
}

static struct kunit_case platform_test_cases[] = {
	KUNIT_CASE(dma_map_sgtable_works_on_kunit_device),
	KUNIT_CASE(edu_device_is_behind_iommu),
	KUNIT_CASE(version_is_iodma_version),
	{}
};

static struct kunit_suite platform_test_suite = {
	.name = "iodma_platform",
	.test_cases = platform_test_cases,
};

kunit_test_suite(platform_test_suite);

MODULE_DESCRIPTION("KUnit suites of iodma");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
