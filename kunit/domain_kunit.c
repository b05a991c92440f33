// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: owned IOMMU domains.  The edu device behind intel-iommu (the iommu
 * configuration) in a private domain: where IOVAs fall, how scattered pages
 * coalesce, strict unmapping, isolation between commands and domains, data
 * through the fake device and through the edu DMA engine, and the device's
 * return to its default domain.  Without the edu device or an IOMMU the cases
 * are skipped, except the -ENODEV one that needs neither.
 */
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "iodma_kunit.h"

static const struct iodma_spec spec64 = { .output = IODMA_OUT_HOST64 };

static struct device *iommu_edu_dev(struct kunit *test)
{
	struct device *dev = iodma_test_edu_dev(test);

	if (!device_iommu_mapped(dev))
		kunit_skip(test, "the edu device is not behind an IOMMU in this configuration");
	return dev;
}

KUNIT_DEFINE_ACTION_WRAPPER(domain_destroy_action, iodma_domain_destroy, struct iodma_domain *);

static struct iodma_domain *test_domain(struct kunit *test, struct device *dev)
{
	struct iodma_domain *d = iodma_domain_create(dev);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, d);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, domain_destroy_action, d), 0);
	return d;
}

/* A command in @d, destroyed when the test ends. */
static struct iodma_cmd *test_cmd(struct kunit *test, struct iodma_domain *d,
				  const struct iodma_spec *spec)
{
	return iodma_test_own_cmd(test, iodma_cmd_create_in_domain(d, spec));
}

/* Prepare @len bytes at @off of a vmalloc buffer (scattered pages) and return its segments. */
static int prepare_vmalloc(struct kunit *test, struct iodma_cmd *cmd, size_t off, size_t len,
			   enum dma_data_direction dir, struct iodma_seg64 **segs)
{
	u8 *buf = iodma_test_vzalloc(test, off + len);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(buf + off, len, dir));

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	return iodma_test_segments(test, cmd, 16, segs);
}

static void create_without_iommu_returns_enodev(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);

	KUNIT_EXPECT_PTR_EQ(test, iodma_domain_create(dev), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, iodma_domain_create(NULL), ERR_PTR(-EINVAL));
}

static void create_twice_returns_ebusy(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);

	KUNIT_EXPECT_PTR_EQ(test, iodma_domain_create(dev), ERR_PTR(-EBUSY));
	/* the first domain is still the device's */
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), d->domain);
}

static void domain_is_the_device_domain(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);

	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), d->domain);
	KUNIT_EXPECT_EQ(test, d->domain->type, (unsigned int)IOMMU_DOMAIN_UNMANAGED);
	/* the MSI window is never handed out */
	KUNIT_EXPECT_NOT_NULL(test, find_iova(&d->iovad, PFN_DOWN(0xfee00000)));
}

static const u8 addr_bits_params[] = { 28, 32, 39, 48 };

static void addr_bits_desc(const u8 *bits, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "addr_bits %u", *bits);
}

KUNIT_ARRAY_PARAM(addr_bits, addr_bits_params, addr_bits_desc);

static void iovas_below_addr_bits(struct kunit *test)
{
	const u8 *bits = test->param_value;
	struct iodma_spec spec = { .addr_bits = *bits, .output = IODMA_OUT_HOST64 };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec);
	u64 limit = *bits == 64 ? U64_MAX : BIT_ULL(*bits) - 1;
	struct iodma_seg64 *segs;
	int n, i;

	n = prepare_vmalloc(test, cmd, 100, SZ_64K, DMA_BIDIRECTIONAL, &segs);
	KUNIT_ASSERT_EQ(test, n, 1);
	iodma_test_check_invariants(test, cmd, segs, n);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_LE(test, segs[i].addr + segs[i].len - 1, limit);
		KUNIT_EXPECT_LE(test, segs[i].addr + segs[i].len - 1,
				(u64)d->domain->geometry.aperture_end);
		KUNIT_EXPECT_NE(test, segs[i].addr, 0);
	}
	/* the page offset is kept: the IOVA is page-granular */
	KUNIT_EXPECT_EQ(test, offset_in_page(segs[0].addr), 100);
}

static void free_pages_action(void *arg)
{
	struct page **pages = arg;
	unsigned int i;

	for (i = 0; pages[i]; i++)
		__free_page(pages[i]);
}

/* @n order-0 pages, every other one of 2 * @n allocated, so that no two are adjacent. */
static struct page **scattered_pages(struct kunit *test, unsigned int n)
{
	struct page **all = kunit_kcalloc(test, 2 * n + 1, sizeof(*all), GFP_KERNEL);
	struct page **pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, all);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < 2 * n; i++) {
		all[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, all[i]);
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, free_pages_action, all), 0);
	for (i = 0; i < n; i++)
		pages[i] = all[2 * i];
	return pages;
}

static void scattered_mib_is_one_segment(struct kunit *test)
{
	const unsigned int n = SZ_1M / PAGE_SIZE;
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec64);
	struct page **pages = scattered_pages(test, n);
	struct iodma_md *md;
	struct iodma_seg64 *segs;
	unsigned int i;
	int nsegs;

	md = iodma_test_md(test, iodma_md_from_pages(pages, n, 0, SZ_1M, DMA_BIDIRECTIONAL));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	/* the CPU view really is scattered */
	KUNIT_EXPECT_GT(test, iodma_test_view(cmd)->orig_nents, n / 2);
	/* one DMA entry, as dma_map_sg() merges behind an IOMMU */
	KUNIT_EXPECT_EQ(test, iodma_test_view(cmd)->nents, 1);
	nsegs = iodma_test_segments(test, cmd, 4, &segs);
	KUNIT_ASSERT_EQ(test, nsegs, 1);
	KUNIT_EXPECT_EQ(test, segs[0].len, (u64)SZ_1M);
	iodma_test_check_invariants(test, cmd, segs, nsegs);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test,
				    iommu_iova_to_phys(d->domain, segs[0].addr + i * PAGE_SIZE),
				    page_to_phys(pages[i]), "page %u", i);
}

/*
 * Entries that do not end on a page end are not contiguous in IOVA space
 * (each entry starts a page of its own there): their DMA entries stay
 * apart, each keeping its offset in its page, and the CPU entries are as
 * they were.
 */
static void sub_page_entries_stay_apart(struct kunit *test)
{
	/* 0 ends mid-page: apart; 1 ends on its page end and 2 starts a page: merged */
	static const unsigned int off[3] = { 64, 512, 0 };
	static const unsigned int len[3] = { 512, PAGE_SIZE - 512, 512 };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec64);
	struct page **pages = scattered_pages(test, 3);
	struct sg_table *sgt = iodma_test_sgtable(test, 3), *view;
	struct iodma_seg64 *segs;
	struct scatterlist *sg;
	struct iodma_md *md;
	unsigned int i;

	for_each_sgtable_sg(sgt, sg, i)
		sg_set_page(sg, pages[i], len[i], off[i]);
	md = iodma_test_md(test, iodma_md_from_sgtable(sgt, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	view = iodma_test_view(cmd);
	KUNIT_EXPECT_EQ(test, view->orig_nents, 3);
	KUNIT_EXPECT_EQ(test, view->nents, 2);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, cmd, 4, &segs), 2);
	KUNIT_EXPECT_EQ(test, offset_in_page(segs[0].addr), 64);
	KUNIT_EXPECT_EQ(test, segs[0].len, 512);
	KUNIT_EXPECT_EQ(test, segs[1].addr, (segs[0].addr & PAGE_MASK) + PAGE_SIZE + 512);
	KUNIT_EXPECT_EQ(test, segs[1].len, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(d->domain, segs[1].addr + PAGE_SIZE - 512),
			page_to_phys(pages[2]));
	/* the CPU side of the view keeps its offsets and lengths */
	for_each_sgtable_sg(view, sg, i) {
		KUNIT_EXPECT_EQ(test, sg->offset, off[i]);
		KUNIT_EXPECT_EQ(test, sg->length, len[i]);
	}
}

static void complete_unmaps_iova(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec64);
	struct iodma_seg64 *segs;
	u64 off;
	int n;

	n = prepare_vmalloc(test, cmd, 0, 3 * PAGE_SIZE, DMA_TO_DEVICE, &segs);
	KUNIT_ASSERT_EQ(test, n, 1);
	for (off = 0; off < segs[0].len; off += PAGE_SIZE)
		KUNIT_EXPECT_NE(test, iommu_iova_to_phys(d->domain, segs[0].addr + off), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	for (off = 0; off < segs[0].len; off += PAGE_SIZE)
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(d->domain, segs[0].addr + off), 0);
}

static bool overlap(const struct iodma_seg64 *a, const struct iodma_seg64 *b)
{
	return a->addr < b->addr + b->len && b->addr < a->addr + a->len;
}

static void two_commands_do_not_overlap(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *a = test_cmd(test, d, &spec64);
	struct iodma_cmd *b = test_cmd(test, d, &spec64);
	struct iodma_seg64 *sa, *sb;
	int na, nb, i, j;

	na = prepare_vmalloc(test, a, 0, SZ_16K, DMA_BIDIRECTIONAL, &sa);
	nb = prepare_vmalloc(test, b, 0, SZ_16K, DMA_BIDIRECTIONAL, &sb);
	KUNIT_ASSERT_GT(test, na, 0);
	KUNIT_ASSERT_GT(test, nb, 0);
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			KUNIT_EXPECT_FALSE(test, overlap(&sa[i], &sb[j]));
}

/*
 * One device cannot be in two domains at once: one after the other, an IOVA
 * the first domain had mapped is not mapped in the second.
 */
static void other_domain_iovas_not_visible(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *first = iodma_domain_create(dev), *second;
	struct iodma_seg64 *segs;
	struct iodma_cmd *cmd;
	phys_addr_t phys;
	int n;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, first);
	cmd = iodma_cmd_create_in_domain(first, &spec64);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cmd);
	n = prepare_vmalloc(test, cmd, 0, PAGE_SIZE, DMA_BIDIRECTIONAL, &segs);
	KUNIT_ASSERT_EQ(test, n, 1);
	phys = iommu_iova_to_phys(first->domain, segs[0].addr);
	KUNIT_EXPECT_NE(test, phys, 0);
	iodma_cmd_clear_memory_descriptor(cmd, true);
	iodma_cmd_destroy(cmd);
	iodma_domain_destroy(first);

	second = test_domain(test, dev);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(second->domain, segs[0].addr), 0);
}

static void destroy_restores_dma_api(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = iodma_domain_create(dev);
	struct iommu_domain *def;
	struct sg_table sgt;
	void *buf;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, d);
	iodma_domain_destroy(d);
	def = iommu_get_domain_for_dev(dev);
	KUNIT_ASSERT_NOT_NULL(test, def);
	KUNIT_EXPECT_TRUE(test, def->type & __IOMMU_DOMAIN_DMA_API);

	buf = kunit_kzalloc(test, SZ_8K, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&sgt, 1, GFP_KERNEL), 0);
	sg_set_buf(sgt.sgl, buf, SZ_8K);
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(dev, &sgt, DMA_BIDIRECTIONAL, 0), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(def, sg_dma_address(sgt.sgl)), virt_to_phys(buf));
	dma_unmap_sgtable(dev, &sgt, DMA_BIDIRECTIONAL, 0);
	sg_free_table(&sgt);
}

/*
 * F8, D3: addresses the DMA API made belong to the default domain the device
 * has left: an owned-domain command refuses a table mapped for the device,
 * and a DMA API command of the device refuses to prepare while the device
 * is in the owned domain (and works again once the domain is gone).
 */
static void dma_api_addresses_refused_in_owned_domain(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_cmd *api = iodma_test_cmd(test, dev, &spec64);
	u8 *buf = kunit_kzalloc(test, SZ_8K, GFP_KERNEL);
	struct iodma_md *md, *mapped;
	struct iodma_domain *d;
	struct iodma_cmd *cmd;
	struct sg_table sgt;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	md = iodma_test_md(test, iodma_md_from_kva(buf, SZ_8K, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&sgt, 1, GFP_KERNEL), 0);
	sg_set_buf(sgt.sgl, buf, SZ_8K);
	KUNIT_ASSERT_EQ(test, dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0), 0);
	mapped = iodma_md_from_mapped_sgtable(dev, &sgt, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mapped);

	d = iodma_domain_create(dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, d);
	cmd = iodma_cmd_create_in_domain(d, &spec64);
	KUNIT_EXPECT_FALSE(test, IS_ERR(cmd));
	if (!IS_ERR(cmd)) {
		KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, mapped, true),
				-EOPNOTSUPP);
		KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(cmd), NULL);
		iodma_cmd_destroy(cmd);
	}
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(api, md, true), -EOPNOTSUPP);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(api), NULL);
	iodma_domain_destroy(d);

	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(api, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(api, true), 0);
	iodma_md_put(mapped);
	dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	sg_free_table(&sgt);
}

static const enum dma_data_direction dir_params[] = { DMA_TO_DEVICE, DMA_FROM_DEVICE };

static void dir_desc(const enum dma_data_direction *dir, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s",
		 *dir == DMA_TO_DEVICE ? "to device" : "from device");
}

KUNIT_ARRAY_PARAM(dir, dir_params, dir_desc);

static void data_through_fake_device(struct kunit *test)
{
	const enum dma_data_direction *dir = test->param_value;
	const size_t off = 300, len = 5 * PAGE_SIZE + 123;
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec64);
	u8 *buf = iodma_test_vzalloc(test, off + len);
	u8 *ref = kunit_kzalloc(test, len, GFP_KERNEL);
	u8 *dev_buf = kunit_kzalloc(test, len, GFP_KERNEL);
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, ref);
	KUNIT_ASSERT_NOT_NULL(test, dev_buf);
	iodma_test_fill(ref, len, 7);
	if (*dir == DMA_TO_DEVICE)
		memcpy(buf + off, ref, len);
	md = iodma_test_md(test, iodma_md_from_kva(buf + off, len, *dir));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_EQ(test, n, 1);
	iodma_test_check_invariants(test, cmd, segs, n);
	if (*dir == DMA_TO_DEVICE) {
		iodma_test_device_dma(test, dev, segs, n, dev_buf, false);
		KUNIT_EXPECT_EQ(test, memcmp(dev_buf, ref, len), 0);
	} else {
		iodma_test_device_dma(test, dev, segs, n, ref, true);
	}
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	if (*dir == DMA_FROM_DEVICE)
		KUNIT_EXPECT_EQ(test, memcmp(buf + off, ref, len), 0);
}

/* A command that keeps its IOVA range: the same IOVA every time, still reserved between I/Os. */
static void reserved_command_keeps_its_iova(struct kunit *test)
{
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64, .max_transfer_size = SZ_256K };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec);
	u8 *buf = iodma_test_vzalloc(test, SZ_256K);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(buf, SZ_256K,
								    DMA_BIDIRECTIONAL));
	struct iodma_seg64 *segs;
	u64 first = 0;
	int round;

	KUNIT_ASSERT_NOT_NULL(test, iodma_test_backend(cmd)->reserve);
	KUNIT_ASSERT_EQ(test, iodma_test_backend(cmd)->reserve(cmd, SZ_256K), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	for (round = 0; round < 3; round++) {
		KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, round * PAGE_SIZE, SZ_64K, true,
							true), 0);
		KUNIT_ASSERT_EQ(test, iodma_test_segments(test, cmd, 4, &segs), 1);
		if (!round)
			first = segs[0].addr;
		KUNIT_EXPECT_EQ(test, segs[0].addr, first);
		KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(d->domain, first), 0);
		KUNIT_EXPECT_NOT_NULL(test, find_iova(&d->iovad, PFN_DOWN(first)));
	}
}

KUNIT_DEFINE_ACTION_WRAPPER(pool_destroy_action, iodma_pool_destroy, struct iodma_pool *);

/* A pool of @count commands in @d, destroyed (before @d) when the test ends. */
static struct iodma_pool *test_domain_pool(struct kunit *test, struct iodma_domain *d,
					   const struct iodma_spec *spec, unsigned int count)
{
	struct iodma_pool *pool = iodma_pool_create_in_domain(d, spec, count,
							      iodma_test_name(test, "kunit-dpool"));

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pool_destroy_action, pool), 0);
	return pool;
}

static void pool_in_null_domain_returns_einval(struct kunit *test)
{
	KUNIT_EXPECT_PTR_EQ(test, iodma_pool_create_in_domain(NULL, &spec64, 1, "kunit-null"),
			    ERR_PTR(-EINVAL));
}

/* Each page of [iova, iova + len) is unmapped in @d. */
static void expect_unmapped(struct kunit *test, struct iodma_domain *d, u64 iova, u64 len)
{
	u64 a;

	for (a = iova & PAGE_MASK; a < iova + len; a += PAGE_SIZE)
		KUNIT_EXPECT_EQ_MSG(test, iommu_iova_to_phys(d->domain, a), 0,
				    "IOVA %#llx still mapped after complete", a);
}

/*
 * A pooled command of a domain holds one IOVA range from the pool's
 * creation: every I/O it serves lands there, the range stays allocated
 * between I/Os, and each complete leaves no page of it mapped.  Two
 * commands of the pool never share a range.
 */
static void pooled_command_reuses_its_reserved_iova(struct kunit *test)
{
	const struct iodma_spec spec = { .output = IODMA_OUT_HOST64,
					 .max_transfer_size = SZ_256K };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_pool *pool = test_domain_pool(test, d, &spec, 2);
	u8 *buf = iodma_test_vzalloc(test, SZ_256K);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(buf, SZ_256K,
								    DMA_BIDIRECTIONAL));
	struct iodma_cmd *cmd, *other;
	struct iodma_seg64 *segs;
	u64 first = 0, len;
	int round;

	for (round = 0; round < 3; round++) {
		len = round == 1 ? SZ_256K : SZ_64K;
		cmd = iodma_pool_get(pool, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, cmd);
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
		KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, len, true, true), 0);
		KUNIT_ASSERT_EQ(test, iodma_test_segments(test, cmd, 4, &segs), 1);
		KUNIT_EXPECT_EQ(test, segs[0].len, len);
		if (!round)
			first = segs[0].addr;
		KUNIT_EXPECT_EQ(test, segs[0].addr, first);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(d->domain, first + len - 1),
				page_to_phys(vmalloc_to_page(buf + len - 1)) +
				offset_in_page(len - 1));
		KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
		expect_unmapped(test, d, first, len);
		KUNIT_EXPECT_NOT_NULL(test, find_iova(&d->iovad, PFN_DOWN(first)));
		KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
		/* the other command takes the next I/O while this one is out */
		other = iodma_pool_get(pool, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, other);
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(other, md, true), 0);
		KUNIT_ASSERT_EQ(test, iodma_test_segments(test, other, 4, &segs), 1);
		KUNIT_EXPECT_TRUE(test, segs[0].addr + SZ_256K <= first ||
				  first + SZ_256K <= segs[0].addr);
		KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(other, true), 0);
		expect_unmapped(test, d, segs[0].addr, SZ_256K);
		KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, other), 0);
		KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
	}
}

/*
 * A driver's interrupt handler in an owned domain: a pooled command's bvec
 * I/O prepared with prepare_nowait, then completed, cleared and put back
 * with interrupts off (DEBUG_ATOMIC_SLEEP watches), mapped as it is or
 * through the copy buffer (offset 8 against an alignment of 512).  After
 * complete no page of it is mapped, and the device's writes are in memory.
 */
static void nowait_io_in_domain_completes_with_interrupts_off(struct kunit *test)
{
	static const struct iodma_spec specs[2] = {
		{ .output = IODMA_OUT_HOST64, .max_transfer_size = SZ_64K },
		{ .output = IODMA_OUT_HOST64, .max_transfer_size = SZ_64K, .alignment = 512 },
	};
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct page *page = iodma_test_pages(test, 2);
	u8 *pattern = kunit_kmalloc(test, SZ_8K, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	iodma_test_fill(pattern, SZ_8K, 5);
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		struct iodma_pool *pool = test_domain_pool(test, d, &specs[i], 1);
		unsigned int off = i ? 8 : 0;
		struct bio_vec bv = { .bv_page = page, .bv_offset = off, .bv_len = SZ_8K };
		struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);
		struct iodma_seg64 *segs;
		unsigned long flags;
		int n, j, ret[3];

		KUNIT_ASSERT_NOT_NULL(test, cmd);
		memset(page_address(page), 0, SZ_16K);
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(cmd, &bv, 1, DMA_FROM_DEVICE, false), 0);
		local_irq_save(flags);
		ret[0] = iodma_cmd_prepare_nowait(cmd, 0, 0, true, true);
		local_irq_restore(flags);
		KUNIT_ASSERT_EQ(test, ret[0], 0);
		KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd),
				i ? IODMA_BOUNCE_ALIGNMENT : IODMA_BOUNCE_NONE);
		n = iodma_test_segments(test, cmd, 16, &segs);
		KUNIT_ASSERT_GT(test, n, 0);
		iodma_test_device_dma(test, dev, segs, n, pattern, true);

		local_irq_save(flags);
		ret[0] = iodma_cmd_complete(cmd, true, true);
		ret[1] = iodma_cmd_clear_memory_descriptor(cmd, false);
		ret[2] = iodma_pool_put(pool, cmd);
		local_irq_restore(flags);
		KUNIT_EXPECT_EQ(test, ret[0], 0);
		KUNIT_EXPECT_EQ(test, ret[1], 0);
		KUNIT_EXPECT_EQ(test, ret[2], 0);
		for (j = 0; j < n; j++)
			expect_unmapped(test, d, segs[j].addr, segs[j].len);
		KUNIT_EXPECT_EQ(test, memcmp(page_address(page) + off, pattern, SZ_8K), 0);
		KUNIT_EXPECT_NULL(test, memchr_inv(page_address(page), 0, off));
	}
}

/*
 * Each scatterlist entry takes page-aligned IOVA of its own: an I/O of 64
 * bio_vecs of 512 bytes in 64 pages spans 64 pages of IOVA for 32 KiB.  A
 * pooled command's reservation covers that too, so the I/O lands in the
 * range the command was given at the pool's creation (no allocation).
 */
static void pooled_sub_page_bvecs_stay_in_the_reserved_iova(struct kunit *test)
{
	const struct iodma_spec spec = { .output = IODMA_OUT_HOST64,
					 .max_transfer_size = SZ_64K };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_pool *pool = test_domain_pool(test, d, &spec, 1);
	struct page *page = iodma_test_pages(test, 7);
	struct bio_vec *bv = kunit_kcalloc(test, 64, sizeof(*bv), GFP_KERNEL);
	struct bio_vec whole = { .bv_page = page, .bv_len = SZ_64K };
	struct iodma_cmd *cmd;
	struct iodma_seg64 *segs;
	u64 first;
	int i, n;

	KUNIT_ASSERT_NOT_NULL(test, bv);
	for (i = 0; i < 64; i++)
		bv[i] = (struct bio_vec){ .bv_page = nth_page(page, 2 * i), .bv_len = 512 };
	cmd = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(cmd, &whole, 1, DMA_TO_DEVICE, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, cmd, 4, &segs), 1);
	first = segs[0].addr;
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 64, DMA_TO_DEVICE, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare_nowait(cmd, 0, 0, true, true), 0);
	n = iodma_test_segments(test, cmd, 64, &segs);
	KUNIT_ASSERT_EQ(test, n, 64);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, segs[i].len, 512ULL);
		KUNIT_EXPECT_EQ_MSG(test, segs[i].addr, first + (u64)i * PAGE_SIZE,
				    "segment %d not in the command's reserved IOVA range", i);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(d->domain, segs[i].addr),
				page_to_phys(nth_page(page, 2 * i)));
	}
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	for (i = 0; i < n; i++)
		expect_unmapped(test, d, segs[i].addr, segs[i].len);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
}

/* Without a reservation a range too large for the IOVA caches is freed at complete. */
static void unreserved_command_frees_its_iova(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec64);
	struct iodma_seg64 *segs;

	KUNIT_ASSERT_EQ(test, prepare_vmalloc(test, cmd, 0, SZ_256K, DMA_TO_DEVICE, &segs), 1);
	KUNIT_EXPECT_NOT_NULL(test, find_iova(&d->iovad, PFN_DOWN(segs[0].addr)));
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_NULL(test, find_iova(&d->iovad, PFN_DOWN(segs[0].addr)));
}

static void large_alignment_comes_from_the_iova(struct kunit *test)
{
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64, .alignment = SZ_64K };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec);
	struct iodma_seg64 *segs;

	KUNIT_ASSERT_EQ(test, prepare_vmalloc(test, cmd, 0, 2 * PAGE_SIZE, DMA_TO_DEVICE, &segs),
			1);
	KUNIT_EXPECT_EQ(test, segs[0].addr & (SZ_64K - 1), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
}

static void clone_stays_in_domain(struct kunit *test)
{
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *cmd = test_cmd(test, d, &spec64);
	struct iodma_cmd *clone = iodma_test_own_cmd(test, iodma_cmd_clone(cmd, NULL));
	struct iodma_seg64 *segs;

	KUNIT_EXPECT_PTR_EQ(test, iodma_test_cmd_domain(clone), d);
	KUNIT_EXPECT_PTR_EQ(test, iodma_test_backend(clone), iodma_test_backend(cmd));
	KUNIT_ASSERT_EQ(test, prepare_vmalloc(test, clone, 0, PAGE_SIZE, DMA_TO_DEVICE, &segs), 1);
	KUNIT_EXPECT_NE(test, iommu_iova_to_phys(d->domain, segs[0].addr), 0);
}

static void bypassed_in_domain_is_eopnotsupp(struct kunit *test)
{
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64, .map = IODMA_BYPASSED };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);

	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_create_in_domain(d, &spec), ERR_PTR(-EOPNOTSUPP));
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_create_in_domain(NULL, &spec64), ERR_PTR(-EINVAL));
}

/* The edu DMA engine: registers and limits per PLATFORM.md. */
#define EDU_ID		0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000

KUNIT_DEFINE_ACTION_WRAPPER(pci_disable_action, pci_disable_device, struct pci_dev *);

struct edu_bar {
	struct pci_dev *pdev;
	void __iomem *regs;
};

static void edu_iounmap_action(void *arg)
{
	struct edu_bar *bar = arg;

	pci_iounmap(bar->pdev, bar->regs);
}

static void edu_xfer(struct kunit *test, void __iomem *bar, u64 src, u64 dst, u64 len, u64 cmd)
{
	unsigned int ms;

	writeq(src, bar + EDU_DMA_SRC);
	writeq(dst, bar + EDU_DMA_DST);
	writeq(len, bar + EDU_DMA_CNT);
	writeq(cmd | EDU_CMD_START, bar + EDU_DMA_CMD);
	/* no interrupt handler here: poll; a transfer takes 100 ms of virtual time */
	for (ms = 0; ms < 10000 && (readq(bar + EDU_DMA_CMD) & EDU_CMD_START); ms += 20)
		msleep(20);
	KUNIT_ASSERT_FALSE_MSG(test, readq(bar + EDU_DMA_CMD) & EDU_CMD_START,
			       "edu DMA did not finish");
}

/* Enable the edu device for DMA and map its registers, undone when the test ends. */
static void __iomem *edu_engine(struct kunit *test, struct pci_dev *pdev)
{
	struct edu_bar *map;

	KUNIT_ASSERT_EQ(test, pci_enable_device(pdev), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pci_disable_action, pdev), 0);
	pci_set_master(pdev);
	map = kunit_kzalloc(test, sizeof(*map), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, map);
	map->pdev = pdev;
	map->regs = pci_iomap(pdev, 0, 0);
	KUNIT_ASSERT_TRUE_MSG(test, map->regs, "cannot map BAR0");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, edu_iounmap_action, map), 0);
	KUNIT_ASSERT_EQ(test, readl(map->regs + EDU_ID), 0x010000ed);
	return map->regs;
}

/*
 * Isolation: once complete() has returned, an address the command emitted
 * no longer reaches memory.  The real device writes to it: the write is
 * dropped and intel-iommu reports a DMAR fault, which the harness requires
 * between the two marker lines (and accepts only there).
 */
static void completed_iova_no_longer_reaches_memory(struct kunit *test)
{
	const struct iodma_spec spec = { .addr_bits = 28, .max_segment_size = SZ_2K,
					 .output = IODMA_OUT_HOST64 };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *out = test_cmd(test, d, &spec), *in = test_cmd(test, d, &spec);
	u8 *src = iodma_test_vzalloc(test, SZ_2K), *dst = iodma_test_vzalloc(test, SZ_2K);
	void __iomem *bar = edu_engine(test, to_pci_dev(dev));
	struct iodma_seg64 *so, *si;
	struct iodma_md *md;
	unsigned int i;

	iodma_test_fill(src, SZ_2K, 7);
	memset(dst, 0xc3, SZ_2K);
	/* the edu buffer holds a known pattern */
	md = iodma_test_md(test, iodma_md_from_kva(src, SZ_2K - 1, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(out, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, out, 4, &so), 1);
	edu_xfer(test, bar, so[0].addr, EDU_BUF, so[0].len, 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(out, true), 0);

	md = iodma_test_md(test, iodma_md_from_kva(dst, SZ_2K - 1, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(in, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, in, 4, &si), 1);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(in, true, true), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(iommu_get_domain_for_dev(dev), si[0].addr), 0);

	pr_info("IODMA-EXPECT-DMAR-FAULT-BEGIN %s\n", dev_name(dev));
	edu_xfer(test, bar, EDU_BUF, si[0].addr, si[0].len, EDU_CMD_TO_RAM);
	msleep(200);	/* the fault is reported from the DMAR interrupt */
	pr_info("IODMA-EXPECT-DMAR-FAULT-END %s\n", dev_name(dev));
	for (i = 0; i < SZ_2K; i++)
		if (dst[i] != 0xc3)
			break;
	KUNIT_EXPECT_EQ_MSG(test, i, (unsigned int)SZ_2K, "the device wrote memory after complete");
}

/* Every byte of @buf is @val. */
static bool all_bytes(const u8 *buf, size_t len, u8 val)
{
	return !memchr_inv(buf, val, len);
}

/*
 * Isolation from the IOTLB, not only the page tables: QEMU's intel-iommu
 * caches each translation the device uses, so a read and a write by the
 * device right before complete leave IOTLB entries that page tables no
 * longer back once they are cleared; only complete's one invalidation
 * (iommu_iotlb_sync() on its gather) removes them, which
 * iommu_iova_to_phys() cannot see.  After complete the same two transfers
 * must fault: the read brings zeros into the edu buffer (a third command
 * fetches them), the write leaves memory alone.
 */
static void completed_iova_leaves_no_stale_iotlb_entry(struct kunit *test)
{
	const struct iodma_spec spec = { .addr_bits = 28, .max_segment_size = SZ_2K,
					 .output = IODMA_OUT_HOST64 };
	const size_t len = SZ_2K - 1;
	struct device *dev = iommu_edu_dev(test);
	struct iommu_domain *dom;
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *out = test_cmd(test, d, &spec), *in = test_cmd(test, d, &spec);
	struct iodma_cmd *chk = test_cmd(test, d, &spec);
	u8 *src = iodma_test_vzalloc(test, len), *dst = iodma_test_vzalloc(test, len);
	u8 *got = iodma_test_vzalloc(test, len);
	void __iomem *bar = edu_engine(test, to_pci_dev(dev));
	struct iodma_seg64 *so, *si, *sc;
	struct iodma_md *md;

	dom = iommu_get_domain_for_dev(dev);
	iodma_test_fill(src, len, 23);
	memset(dst, 0xc3, len);
	memset(got, 0xc3, len);
	md = iodma_test_md(test, iodma_md_from_kva(src, len, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(out, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, out, 4, &so), 1);
	md = iodma_test_md(test, iodma_md_from_kva(dst, len, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(in, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, in, 4, &si), 1);

	/* the device uses both translations: the IOTLB holds them */
	edu_xfer(test, bar, so[0].addr, EDU_BUF, len, 0);
	edu_xfer(test, bar, EDU_BUF, si[0].addr, len, EDU_CMD_TO_RAM);
	KUNIT_ASSERT_EQ(test, memcmp(dst, src, len), 0);
	memset(dst, 0xc3, len);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(out, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(in, true, true), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, so[0].addr), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, si[0].addr), 0);

	pr_info("IODMA-EXPECT-DMAR-FAULT-BEGIN %s\n", dev_name(dev));
	edu_xfer(test, bar, so[0].addr, EDU_BUF, len, 0);
	edu_xfer(test, bar, EDU_BUF, si[0].addr, len, EDU_CMD_TO_RAM);
	msleep(200);	/* the faults are reported from the DMAR interrupt */
	pr_info("IODMA-EXPECT-DMAR-FAULT-END %s\n", dev_name(dev));
	KUNIT_EXPECT_TRUE_MSG(test, all_bytes(dst, len, 0xc3),
			      "the device wrote through a stale IOTLB entry after complete");

	/* what the faulting read left in the edu buffer: zeros, not @src */
	md = iodma_test_md(test, iodma_md_from_kva(got, len, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(chk, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, chk, 4, &sc), 1);
	edu_xfer(test, bar, EDU_BUF, sc[0].addr, len, EDU_CMD_TO_RAM);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(chk, true, true), 0);
	KUNIT_EXPECT_TRUE_MSG(test, all_bytes(got, len, 0),
			      "the device read through a stale IOTLB entry after complete");
}

/*
 * 4 KiB from memory to the edu buffer and back into other memory, 2 KiB at a
 * time: QEMU 7.2 aborts on a transfer that reaches the buffer's last byte.
 */
static void edu_dma_round_trip(struct kunit *test)
{
	/* edu masks host addresses to 28 bits */
	const struct iodma_spec spec = { .addr_bits = 28, .max_segment_size = SZ_2K,
					 .output = IODMA_OUT_HOST64 };
	struct device *dev = iommu_edu_dev(test);
	struct pci_dev *pdev = to_pci_dev(dev);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *out = test_cmd(test, d, &spec), *in = test_cmd(test, d, &spec);
	u8 *src = iodma_test_vzalloc(test, SZ_4K), *dst = iodma_test_vzalloc(test, SZ_4K);
	struct iodma_seg64 *so, *si;
	void __iomem *bar = edu_engine(test, pdev);
	struct iodma_md *md;
	int n, i;

	iodma_test_fill(src, SZ_4K, 42);
	md = iodma_test_md(test, iodma_md_from_kva(src, SZ_4K, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(out, md, true), 0);
	md = iodma_test_md(test, iodma_md_from_kva(dst, SZ_4K, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(in, md, true), 0);
	n = iodma_test_segments(test, out, 4, &so);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, in, 4, &si), n);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test, so[i].len, si[i].len);
		KUNIT_ASSERT_LT(test, so[i].len, (u64)SZ_4K);
		edu_xfer(test, bar, so[i].addr, EDU_BUF, so[i].len, 0);
		edu_xfer(test, bar, EDU_BUF, si[i].addr, si[i].len, EDU_CMD_TO_RAM);
	}
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(out, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(in, true, true), 0);
	KUNIT_EXPECT_EQ(test, memcmp(src, dst, SZ_4K), 0);
}

/*
 * An address misaligned within its page (IOVAs keep the offset) goes through
 * the command's copy buffer, mapped in the domain for the I/O: the edu
 * engine copies through both copy buffers, the data arrives, and after
 * complete their IOVAs are unmapped.  Forcing a prepared command into its
 * copy buffer stays unsupported in a domain.
 */
static void misaligned_in_page_bounces_in_domain(struct kunit *test)
{
	const struct iodma_spec spec = { .addr_bits = 28, .max_segment_size = SZ_2K,
					 .alignment = 64, .output = IODMA_OUT_HOST64 };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	struct iodma_cmd *out = test_cmd(test, d, &spec), *in = test_cmd(test, d, &spec);
	u8 *src = iodma_test_vzalloc(test, SZ_8K), *dst = iodma_test_vzalloc(test, SZ_8K);
	void __iomem *bar = edu_engine(test, to_pci_dev(dev));
	const struct iodma_cbuf_chunk *chunk;
	struct iodma_seg64 *so, *si;
	struct iodma_md *md;
	int n, i;

	iodma_test_fill(src, SZ_8K, 7);
	md = iodma_test_md(test, iodma_md_from_kva(src + 8, SZ_2K, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(out, md, true), 0);
	md = iodma_test_md(test, iodma_md_from_kva(dst + 8, SZ_2K, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(in, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(out), IODMA_BOUNCE_ALIGNMENT);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(in), IODMA_BOUNCE_ALIGNMENT);
	/* F14: the chunks are physical addresses for iommu_map(), not bus ones */
	for (i = 0; (chunk = iodma_test_cbuf_chunk(out, i)); i++)
		KUNIT_EXPECT_EQ(test, (u64)chunk->dma, (u64)page_to_phys(chunk->page));

	/* one page-aligned copy buffer in IOVA space: one segment each */
	n = iodma_test_segments(test, out, 4, &so);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, in, 4, &si), 1);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, so[i].addr & 63, 0ULL);
		KUNIT_EXPECT_LT(test, so[i].addr + so[i].len, 1ULL << 28);
		KUNIT_EXPECT_NE(test, iommu_iova_to_phys(d->domain, so[i].addr), 0);
		KUNIT_EXPECT_NE(test, iommu_iova_to_phys(d->domain, si[i].addr), 0);
		edu_xfer(test, bar, so[i].addr, EDU_BUF, so[i].len, 0);
		edu_xfer(test, bar, EDU_BUF, si[i].addr, si[i].len, EDU_CMD_TO_RAM);
	}
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(out, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(in, true, true), 0);
	KUNIT_EXPECT_EQ(test, memcmp(src + 8, dst + 8, SZ_2K), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(d->domain, so[0].addr), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(d->domain, si[0].addr), 0);

	/* aligned memory is mapped as it is, and cannot be forced into the copy buffer */
	md = iodma_test_md(test, iodma_md_from_kva(src, SZ_2K, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(out, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(out), IODMA_BOUNCE_NONE);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(out, IODMA_SYNC_FOR_DEVICE |
						     IODMA_FORCE_DOUBLE_BUFFER), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(out, true), 0);
}

/*
 * The copy buffer of a domain command under allocation failure: each of
 * the sequence's failure points (copy buffer, its ranges, the IOVA range)
 * fails the prepare with -ENOMEM and leaves the command without descriptor
 * or mapping; the first run that reaches no armed point bounces normally.
 */
static void domain_bounce_allocation_failures(struct kunit *test)
{
	const struct iodma_spec spec = { .alignment = 64, .output = IODMA_OUT_HOST64 };
	struct device *dev = iommu_edu_dev(test);
	struct iodma_domain *d = test_domain(test, dev);
	u8 *buf = iodma_test_vzalloc(test, SZ_8K);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(buf + 8, SZ_4K,
								    DMA_TO_DEVICE));
	unsigned int nth, points = 0;
	bool done = false;

	for (nth = 1; nth <= 50 && !done; nth++) {
		struct iodma_cmd *cmd = test_cmd(test, d, &spec);
		unsigned int left;
		int ret;

		iodma_test_fail_nth(test, nth);
		ret = iodma_cmd_set_memory_descriptor(cmd, md, true);
		left = iodma_test_fail_disarm();

		if (ret) {
			points++;
			KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "failure point %u", nth);
			KUNIT_EXPECT_EQ(test, left, 0U);
			KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(cmd), NULL);
			ret = iodma_cmd_get_prepared_offset_and_length(cmd, NULL, NULL);
			KUNIT_EXPECT_EQ(test, ret, -ENODATA);
			continue;
		}
		KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ALIGNMENT);
		KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
		done = left == 1;
	}
	KUNIT_EXPECT_TRUE(test, done);
	kunit_info(test, "%u allocation failure points, each refused cleanly\n", points);
	/* the copy buffer at least allocates: the sweep is not vacuous */
	KUNIT_EXPECT_GT(test, points, 0U);
}

static struct kunit_case domain_test_cases[] = {
	KUNIT_CASE(create_without_iommu_returns_enodev),
	KUNIT_CASE(create_twice_returns_ebusy),
	KUNIT_CASE(domain_is_the_device_domain),
	KUNIT_CASE_PARAM(iovas_below_addr_bits, addr_bits_gen_params),
	KUNIT_CASE(scattered_mib_is_one_segment),
	KUNIT_CASE(sub_page_entries_stay_apart),
	KUNIT_CASE(complete_unmaps_iova),
	KUNIT_CASE(two_commands_do_not_overlap),
	KUNIT_CASE(other_domain_iovas_not_visible),
	KUNIT_CASE(destroy_restores_dma_api),
	KUNIT_CASE(dma_api_addresses_refused_in_owned_domain),
	KUNIT_CASE_PARAM(data_through_fake_device, dir_gen_params),
	KUNIT_CASE(reserved_command_keeps_its_iova),
	KUNIT_CASE(pool_in_null_domain_returns_einval),
	KUNIT_CASE(pooled_command_reuses_its_reserved_iova),
	KUNIT_CASE(nowait_io_in_domain_completes_with_interrupts_off),
	KUNIT_CASE(pooled_sub_page_bvecs_stay_in_the_reserved_iova),
	KUNIT_CASE(unreserved_command_frees_its_iova),
	KUNIT_CASE(large_alignment_comes_from_the_iova),
	KUNIT_CASE(misaligned_in_page_bounces_in_domain),
	KUNIT_CASE(domain_bounce_allocation_failures),
	KUNIT_CASE(clone_stays_in_domain),
	KUNIT_CASE(bypassed_in_domain_is_eopnotsupp),
	KUNIT_CASE(edu_dma_round_trip),
	KUNIT_CASE(completed_iova_no_longer_reaches_memory),
	KUNIT_CASE(completed_iova_leaves_no_stale_iotlb_entry),
	{}
};

static struct kunit_suite domain_test_suite = {
	.name = "iodma_domain",
	.test_cases = domain_test_cases,
};

kunit_test_suite(domain_test_suite);
