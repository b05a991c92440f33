// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared KUnit helpers for iodma: devices, managed objects, a fake device
 * that does DMA through the addresses a command emits, the checker of
 * design.rst invariant 2, iodma's failure points, and the accessors of its
 * internal state.  Declared in iodma_kunit.h.
 */
#include <kunit/device.h>
#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/vmalloc.h>
#include "iodma_kunit.h"

const char *iodma_test_name(struct kunit *test, const char *prefix)
{
	static atomic_t serial = ATOMIC_INIT(0);
	char *name = kunit_kzalloc(test, 32, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, name);
	snprintf(name, 32, "%s%d", prefix, atomic_inc_return(&serial));
	return name;
}

struct device *iodma_test_dev(struct kunit *test, unsigned int bits)
{
	/* each device brings a driver of its name: names must differ */
	struct device *dev = kunit_device_register(test, iodma_test_name(test, "iodma"));

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(bits)), 0);
	return dev;
}

KUNIT_DEFINE_ACTION_WRAPPER(pci_dev_put_action, pci_dev_put, struct pci_dev *);

struct device *iodma_test_edu_dev(struct kunit *test)
{
	struct pci_dev *pdev = pci_get_device(0x1234, 0x11e8, NULL);

	if (!pdev)
		kunit_skip(test, "no QEMU edu device (1234:11e8) in this configuration");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pci_dev_put_action, pdev), 0);
	return &pdev->dev;
}

struct device *iodma_test_data_dev(struct kunit *test)
{
	struct pci_dev *pdev = pci_get_device(0x1234, 0x11e8, NULL);

	if (pdev && device_iommu_mapped(&pdev->dev)) {
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pci_dev_put_action, pdev),
				0);
		return &pdev->dev;
	}
	pci_dev_put(pdev);
	return iodma_test_dev(test, 64);
}

/* A test may end with its command prepared: finish the I/O, then destroy. */
static void cmd_destroy_action(void *arg)
{
	struct iodma_cmd *cmd = arg;

	iodma_cmd_clear_memory_descriptor(cmd, true);
	iodma_cmd_destroy(cmd);
}

KUNIT_DEFINE_ACTION_WRAPPER(md_put_action, iodma_md_put, struct iodma_md *);

struct iodma_cmd *iodma_test_own_cmd(struct kunit *test, struct iodma_cmd *cmd)
{
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cmd);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, cmd_destroy_action, cmd), 0);
	return cmd;
}

struct iodma_cmd *iodma_test_cmd(struct kunit *test, struct device *dev,
				 const struct iodma_spec *spec)
{
	return iodma_test_own_cmd(test, iodma_cmd_create(dev, spec));
}

struct iodma_md *iodma_test_md(struct kunit *test, struct iodma_md *md)
{
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, md);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, md_put_action, md), 0);
	return md;
}

KUNIT_DEFINE_ACTION_WRAPPER(pool_destroy_action, iodma_pool_destroy, struct iodma_pool *);

struct iodma_pool *iodma_test_pool(struct kunit *test, struct device *dev,
				   const struct iodma_spec *spec, unsigned int count)
{
	/* the name is the pool's statistics directory: names must differ */
	struct iodma_pool *pool = iodma_pool_create(dev, spec, count,
						    iodma_test_name(test, "kunit-pool"));

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pool_destroy_action, pool), 0);
	return pool;
}

struct test_pages {
	struct page *page;
	unsigned int order;
};

static void free_pages_action(void *arg)
{
	struct test_pages *p = arg;

	__free_pages(p->page, p->order);
}

struct page *iodma_test_own_pages(struct kunit *test, struct page *page, unsigned int order)
{
	struct test_pages *p;

	KUNIT_ASSERT_NOT_NULL(test, page);
	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	if (!p)
		__free_pages(page, order);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p->page = page;
	p->order = order;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, free_pages_action, p), 0);
	return page;
}

struct page *iodma_test_pages(struct kunit *test, unsigned int order)
{
	return iodma_test_own_pages(test, alloc_pages(GFP_KERNEL | __GFP_ZERO, order), order);
}

KUNIT_DEFINE_ACTION_WRAPPER(vfree_action, vfree, const void *);

void *iodma_test_vzalloc(struct kunit *test, size_t len)
{
	void *buf = vzalloc(len);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vfree_action, buf), 0);
	return buf;
}

KUNIT_DEFINE_ACTION_WRAPPER(sg_free_table_action, sg_free_table, struct sg_table *);

struct sg_table *iodma_test_sgtable(struct kunit *test, unsigned int nents)
{
	struct sg_table *sgt = kunit_kzalloc(test, sizeof(*sgt), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(sgt, nents, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, sg_free_table_action, sgt), 0);
	return sgt;
}

void iodma_test_fill(void *buf, size_t len, u32 seed)
{
	u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)((i * 2654435761u + seed) >> 13);
}

void iodma_test_seg_decode(const struct iodma_cmd *cmd, const void *raw, u32 i,
			   struct iodma_seg64 *out)
{
	switch (cmd->spec.output) {
	case IODMA_OUT_HOST32:
		out->addr = ((const struct iodma_seg32 *)raw)[i].addr;
		out->len = ((const struct iodma_seg32 *)raw)[i].len;
		break;
	case IODMA_OUT_BIG32:
		out->addr = be32_to_cpu(((const struct iodma_seg32_be *)raw)[i].addr);
		out->len = be32_to_cpu(((const struct iodma_seg32_be *)raw)[i].len);
		break;
	case IODMA_OUT_LITTLE32:
		out->addr = le32_to_cpu(((const struct iodma_seg32_le *)raw)[i].addr);
		out->len = le32_to_cpu(((const struct iodma_seg32_le *)raw)[i].len);
		break;
	case IODMA_OUT_HOST64:
		*out = ((const struct iodma_seg64 *)raw)[i];
		break;
	case IODMA_OUT_BIG64:
		out->addr = be64_to_cpu(((const struct iodma_seg64_be *)raw)[i].addr);
		out->len = be64_to_cpu(((const struct iodma_seg64_be *)raw)[i].len);
		break;
	case IODMA_OUT_LITTLE64:
		out->addr = le64_to_cpu(((const struct iodma_seg64_le *)raw)[i].addr);
		out->len = le64_to_cpu(((const struct iodma_seg64_le *)raw)[i].len);
		break;
	}
}

int iodma_test_segments(struct kunit *test, struct iodma_cmd *cmd, u32 cap,
			struct iodma_seg64 **segs)
{
	u64 off = 0, len;
	int total = 0, max;
	void *raw;

	KUNIT_ASSERT_EQ(test, iodma_cmd_get_prepared_offset_and_length(cmd, NULL, &len), 0);
	/* a range never needs more segments than bytes; 4096 is plenty for tests */
	max = min_t(u64, len, 4096);
	*segs = kunit_kcalloc(test, max, sizeof(**segs), GFP_KERNEL);
	raw = kunit_kcalloc(test, cap, sizeof(struct iodma_seg64), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, *segs);
	KUNIT_ASSERT_NOT_NULL(test, raw);
	while (off < len) {
		u32 n = cap, i;
		int ret = iodma_cmd_gen_segments(cmd, &off, raw, &n);

		if (ret)
			return ret;
		KUNIT_ASSERT_GT(test, n, 0);
		KUNIT_ASSERT_LE(test, total + (int)n, max);
		for (i = 0; i < n; i++)
			iodma_test_seg_decode(cmd, raw, i, &(*segs)[total + i]);
		total += n;
	}
	return total;
}

void iodma_test_check_invariants(struct kunit *test, struct iodma_cmd *cmd,
				 const struct iodma_seg64 *segs, int n)
{
	const struct iodma_limits *lim = &cmd->lim;
	u64 covered = 0, len;
	int i;

	KUNIT_ASSERT_EQ(test, iodma_cmd_get_prepared_offset_and_length(cmd, NULL, &len), 0);
	for (i = 0; i < n; i++) {
		u64 a = segs[i].addr, l = segs[i].len;
		u64 align = i ? lim->int_align : lim->align;

		KUNIT_EXPECT_GT_MSG(test, l, 0, "segment %d", i);
		KUNIT_EXPECT_LE_MSG(test, l - 1, lim->addr_limit - a, "segment %d beyond reach", i);
		KUNIT_EXPECT_EQ_MSG(test, a & (align - 1), 0, "segment %d misaligned", i);
		KUNIT_EXPECT_EQ_MSG(test, l & (lim->len_align - 1), 0, "segment %d length", i);
		KUNIT_EXPECT_LE_MSG(test, l, lim->max_seg, "segment %d too long", i);
		if (lim->boundary_mask)
			KUNIT_EXPECT_EQ_MSG(test, a & ~lim->boundary_mask,
					    (a + l - 1) & ~lim->boundary_mask,
					    "segment %d crosses a boundary", i);
		if (i)
			KUNIT_EXPECT_EQ_MSG(test, a & lim->virt_mask, 0,
					    "segment %d starts off the gap block", i);
		if (i + 1 < n)
			KUNIT_EXPECT_EQ_MSG(test, (a + l) & lim->virt_mask, 0,
					    "segment %d ends off the gap block", i);
		covered += l;
	}
	KUNIT_EXPECT_LE_MSG(test, (u64)n, lim->max_segs, "more segments than max_segments");
	KUNIT_EXPECT_EQ(test, covered, len);
}

/* The physical address behind a bus address of @dev, or 0 if none. */
static phys_addr_t bus_to_phys(struct device *dev, u64 addr)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (domain && (domain->type & __IOMMU_DOMAIN_PAGING))
		return iommu_iova_to_phys(domain, addr);
	return dma_to_phys(dev, addr);
}

void iodma_test_device_dma(struct kunit *test, struct device *dev,
			   const struct iodma_seg64 *segs, int n, void *buf, bool to_memory)
{
	u8 *p = buf;
	int i;

	for (i = 0; i < n; i++) {
		u64 done = 0;

		while (done < segs[i].len) {
			u64 a = segs[i].addr + done;
			phys_addr_t phys = bus_to_phys(dev, a);
			size_t chunk = min_t(u64, PAGE_SIZE - offset_in_page(a),
					     segs[i].len - done);
			struct page *page;

			KUNIT_ASSERT_NE_MSG(test, phys, 0, "bus address %llx not translated", a);
			KUNIT_ASSERT_TRUE(test, pfn_valid(PHYS_PFN(phys)));
			page = pfn_to_page(PHYS_PFN(phys));
			if (to_memory)
				memcpy_to_page(page, offset_in_page(phys), p, chunk);
			else
				memcpy_from_page(p, page, offset_in_page(phys), chunk);
			p += chunk;
			done += chunk;
		}
	}
}

unsigned int iodma_test_fail_disarm(void)
{
	iodma_fail_attr.probability = 0;
	return atomic_read(&iodma_fail_attr.times);
}

static void fail_disarm_action(void *unused)
{
	iodma_test_fail_disarm();
}

void iodma_test_fail_nth(struct kunit *test, unsigned int nth)
{
	/* one disarm when the test ends, however often it arms */
	kunit_remove_action(test, fail_disarm_action, NULL);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fail_disarm_action, NULL), 0);
	iodma_fail_attr.verbose = 0;
	iodma_fail_attr.task_filter = false;
	iodma_fail_attr.count = 0;
	iodma_fail_attr.interval = nth;
	atomic_set(&iodma_fail_attr.space, 0);
	atomic_set(&iodma_fail_attr.times, 1);
	iodma_fail_attr.probability = 100;
}

/*
 * Accessors of internal state: the only reads of struct iodma_md,
 * iodma_cmd and iodma_pool members in the suites.
 */
unsigned int iodma_test_md_refs(struct iodma_md *md)
{
	return kref_read(&md->ref);
}

int iodma_test_md_wired(struct iodma_md *md)
{
	return atomic_read(&md->wire_count);
}

/* User memory's pinned pages, NULL while it is not wired. */
struct page **iodma_test_md_pinned(struct iodma_md *md)
{
	return md->user.pages;
}

unsigned long iodma_test_md_user_npages(struct iodma_md *md)
{
	return md->user.npages;
}

/* How many prepares are outstanding. */
unsigned int iodma_test_nesting(const struct iodma_cmd *cmd)
{
	return cmd->prepared;
}

/* The recorded bounce reason, also when not prepared (iodma_cmd_bounce_reason() says NONE). */
enum iodma_bounce_reason iodma_test_bounce(const struct iodma_cmd *cmd)
{
	return cmd->bounce;
}

/* Where the segment cursor reads bus addresses from. */
enum iodma_src_kind iodma_test_src(const struct iodma_cmd *cmd)
{
	return cmd->view.src;
}

/* The bus ranges of a bus descriptor came from dma_map_resource(). */
bool iodma_test_ranges_mapped(const struct iodma_cmd *cmd)
{
	return cmd->view.ranges_mapped;
}

/* Bus range @i is RAM, mapped as pages. */
bool iodma_test_range_ram(const struct iodma_cmd *cmd, unsigned int i)
{
	return i < cmd->view.nranges && cmd->view.ranges[i].ram;
}

/* The command's own copy buffer, or NULL. */
struct iodma_md *iodma_test_cbuf_md(const struct iodma_cmd *cmd)
{
	return cmd->cbuf_md;
}

/* Chunk @i of the command's copy buffer, NULL past the last or without one. */
const struct iodma_cbuf_chunk *iodma_test_cbuf_chunk(const struct iodma_cmd *cmd,
						     unsigned int i)
{
	if (!cmd->cbuf_md || i >= cmd->cbuf_md->cbuf.n)
		return NULL;
	return &cmd->cbuf_md->cbuf.chunks[i];
}

/* The CPU view (scatterlist) of the prepared range. */
struct sg_table *iodma_test_view(struct iodma_cmd *cmd)
{
	return &cmd->view.sgt;
}

/* Entries allocated for the view. */
unsigned int iodma_test_view_cap(const struct iodma_cmd *cmd)
{
	return cmd->view.sgt_cap;
}

/* Entries the segment cursor has moved over since the command was made. */
u64 iodma_test_cursor_steps(const struct iodma_cmd *cmd)
{
	return cmd->cur.steps;
}

const struct iodma_map_ops *iodma_test_backend(const struct iodma_cmd *cmd)
{
	return cmd->ops;
}

/* The owned IOMMU domain of the command, or NULL (DMA API). */
struct iodma_domain *iodma_test_cmd_domain(const struct iodma_cmd *cmd)
{
	return cmd->domain;
}

void iodma_test_set_map_max(struct iodma_cmd *cmd, u64 max)
{
	cmd->view.map_max = max;
}

void iodma_test_set_plain(struct iodma_cmd *cmd, bool plain)
{
	cmd->lim.plain = plain;
}

void iodma_test_set_reach(struct iodma_cmd *cmd, u64 last)
{
	cmd->lim.addr_limit = last;
}

/* The specification's reach, as if addr_bits could be any bus_dma_limit. */
void iodma_test_set_spec_limit(struct iodma_cmd *cmd, u64 last)
{
	cmd->spec_limit = last;
	cmd->lim.addr_limit = cmd->ops->reach(cmd);
}

/* Segments gen cut short by a limit, since the command was made. */
u64 iodma_test_splits(const struct iodma_cmd *cmd)
{
	return cmd->splits;
}

/* Set the block of the block-split fast path (0: off); returns the one before. */
u64 iodma_test_set_block(struct iodma_cmd *cmd, u64 block)
{
	u64 old = cmd->lim.block;

	cmd->lim.block = block;
	return old;
}

/* Switch the short-view shortcut of the segment rules; returns the setting before. */
bool iodma_test_set_shortcut(struct iodma_cmd *cmd, bool on)
{
	bool old = cmd->lim.shortcut;

	cmd->lim.shortcut = on;
	return old;
}
