// SPDX-License-Identifier: GPL-2.0-only
/*
 * Owned-domain backend: MAPPED commands created in an iodma domain (domain.c).
 *
 * The prepared range gets one IOVA range from the domain's allocator, below
 * the command's addr_bits and aligned for its first segment, and is mapped
 * there page by page with a single iommu_map_sg() call: each scatterlist
 * entry keeps its offset in its first page and entries follow each other in
 * IOVA space, so pages that are scattered in memory become one contiguous
 * bus range and the segment cursor coalesces them (IODMA_SRC_SG_DMA).
 * Physical-range descriptors are mapped range by range into one IOVA range;
 * descriptors already mapped for the device are used as they are.
 *
 * Complete unmaps with iommu_unmap(), which flushes the IOTLB before it
 * returns: once a command is completed the device cannot reach the memory.
 * A command that keeps its IOVA range (a pooled command, or one whose
 * backend was reserved) allocates it once; others take it from the iova
 * library's per-CPU caches at prepare and give it back at complete.
 *
 * There is no cache maintenance: iodma_domain_create() accepts only devices
 * that snoop CPU caches, since the architecture's sync calls are the DMA
 * API's own.  A range the device cannot take as it is (an address that
 * breaks the alignment rules within its page: IOVAs keep the offset in the
 * page) goes through the command's copy buffer, page allocator memory
 * mapped in the domain for the I/O like physical ranges
 * (iodma_domain_map_bounce()).  Copy-buffer descriptors of the device
 * (iodma_cmd_create_copy_buffer()) are DMA API memory of its default
 * domain: those are refused.
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include "iodma_internal.h"

struct domain_map {
	unsigned long pfn;	/* first page of the command's IOVA range, 0 = none */
	unsigned long pages;	/* its size, as allocated */
	u64 limit;		/* the address limit it was allocated under */
	unsigned long reserve;	/* pages to keep, from the reserve op */
	bool keep;		/* keep the range between prepares */
	size_t mapped;		/* bytes mapped at pfn */
};

/* The IOVA pages a prepare of @len bytes may need: one more for an offset in the first page. */
static unsigned long pages_for(u64 len)
{
	/* at least DIV_ROUND_UP(len, PAGE_SIZE) + 1, and never wrapping */
	return len / PAGE_SIZE + 2;
}

static bool keeps_iova(const struct iodma_cmd *cmd, const struct domain_map *m)
{
	return m->keep || cmd->pool;
}

static void put_iova(struct iodma_cmd *cmd, struct domain_map *m, bool force)
{
	if (!m->pfn || (keeps_iova(cmd, m) && !force))
		return;
	iodma_domain_free_iova(cmd->domain, m->pfn, m->pages);
	m->pfn = 0;
}

/*
 * Make the command's IOVA range at least @pages long, below its address
 * limit and aligned for its first segment: the iova library aligns a range
 * to its size rounded up to a power of two, so a large alignment is a
 * minimum size.  A kept range is sized for the largest transfer once.
 */
static int get_iova(struct iodma_cmd *cmd, struct domain_map *m, unsigned long pages)
{
	unsigned long want = max_t(unsigned long, pages, cmd->lim.align >> PAGE_SHIFT);

	if (m->pfn) {
		if (m->pages >= want && m->limit == cmd->lim.addr_limit)
			return 0;
		put_iova(cmd, m, true);
	}
	if (keeps_iova(cmd, m)) {
		want = max(want, m->reserve);
		if (cmd->lim.max_transfer != U64_MAX)
			want = max(want, pages_for(cmd->lim.max_transfer));
	}
	m->pfn = iodma_domain_alloc_iova(cmd->domain, want, cmd->lim.addr_limit);
	if (!m->pfn)
		return -ENOMEM;
	m->pages = want;
	m->limit = cmd->lim.addr_limit;
	return 0;
}

static int prot_for(const struct iodma_cmd *cmd)
{
	switch (cmd->md->dir) {
	case DMA_TO_DEVICE:
		return IOMMU_CACHE | IOMMU_READ;
	case DMA_FROM_DEVICE:
		return IOMMU_CACHE | IOMMU_WRITE;
	default:
		return IOMMU_CACHE | IOMMU_READ | IOMMU_WRITE;
	}
}

static gfp_t map_gfp(const struct iodma_cmd *cmd)
{
	return cmd->nowait ? GFP_ATOMIC : GFP_KERNEL;
}

/*
 * CPU memory: lay the entries out one after the other in IOVA space, each
 * from the start of its first page, and map them with one iommu_map_sg()
 * call.  That maps whole pages only, so the entries are padded to pages
 * meanwhile (as dma-iommu does), their own offset and length kept in their
 * DMA fields, which then receive the IOVA.
 */
static int map_sg(struct iodma_cmd *cmd, struct domain_map *m)
{
	struct sg_table *sgt = &cmd->sgt;
	struct scatterlist *s;
	size_t span = 0;
	ssize_t mapped;
	unsigned int i;
	u64 iova;
	int ret;

	for_each_sgtable_sg(sgt, s, i) {
		sg_dma_address(s) = span + s->offset;
		sg_dma_len(s) = s->length;
		span += PAGE_ALIGN(s->offset + s->length);
	}
	ret = get_iova(cmd, m, span >> PAGE_SHIFT);
	if (ret)
		return ret;
	iova = (u64)m->pfn << PAGE_SHIFT;

	for_each_sgtable_sg(sgt, s, i) {
		s->length = PAGE_ALIGN(s->offset + s->length);
		s->offset = 0;
	}
	mapped = iommu_map_sg(cmd->domain->domain, iova, sgt->sgl, sgt->orig_nents,
			      prot_for(cmd), map_gfp(cmd));
	for_each_sgtable_sg(sgt, s, i) {
		s->offset = offset_in_page(sg_dma_address(s));
		s->length = sg_dma_len(s);
		sg_dma_address(s) += iova;
	}
	if (mapped < 0) {
		put_iova(cmd, m, false);
		return -ENOMEM;
	}
	m->mapped = mapped;
	cmd->src = IODMA_SRC_SG_DMA;
	cmd->src_n = sgt->orig_nents;
	return 0;
}

/*
 * Physical ranges (a peer's BAR, reserved memory, a copy buffer's chunks):
 * one iommu_map() each, back to back, with @prot added (IOMMU_MMIO).
 */
static int map_ranges(struct iodma_cmd *cmd, struct domain_map *m, int prot)
{
	struct iommu_domain *domain = cmd->domain->domain;
	size_t span = 0, done = 0, size;
	unsigned int i;
	u64 iova;
	int ret;

	for (i = 0; i < cmd->nranges; i++)
		span += PAGE_ALIGN(offset_in_page(cmd->ranges[i].addr) + cmd->ranges[i].len);
	ret = get_iova(cmd, m, span >> PAGE_SHIFT);
	if (ret)
		return ret;
	iova = (u64)m->pfn << PAGE_SHIFT;

	for (i = 0; i < cmd->nranges; i++) {
		struct iodma_range *r = &cmd->ranges[i];

		size = PAGE_ALIGN(offset_in_page(r->addr) + r->len);
		ret = iommu_map(domain, iova + done, r->addr & PAGE_MASK, size,
				prot_for(cmd) | prot, map_gfp(cmd));
		if (ret)
			goto err_unmap;
		r->addr = iova + done + offset_in_page(r->addr);
		done += size;
	}
	m->mapped = done;
	cmd->ranges_mapped = true;
	cmd->src = IODMA_SRC_RANGES;
	cmd->src_n = cmd->nranges;
	return 0;

err_unmap:
	if (done)
		iommu_unmap(domain, iova, done);
	put_iova(cmd, m, false);
	return -ENOMEM;
}

static void domain_unmap(struct iodma_cmd *cmd, unsigned long attrs)
{
	struct domain_map *m = cmd->backend;
	size_t unmapped;

	if (cmd->spec.map != IODMA_MAPPED) {
		iodma_map_phys_ops.unmap(cmd, attrs);
		return;
	}
	if (m->mapped) {
		/* strict: the IOTLB is flushed before iommu_unmap() returns */
		unmapped = iommu_unmap(cmd->domain->domain, (u64)m->pfn << PAGE_SHIFT, m->mapped);
		WARN_ON_ONCE(unmapped != m->mapped);
		m->mapped = 0;
	}
	cmd->ranges_mapped = false;
	put_iova(cmd, m, false);
}

static int domain_map(struct iodma_cmd *cmd, unsigned long attrs)
{
	struct domain_map *m = cmd->backend;

	if (cmd->spec.map != IODMA_MAPPED)
		return iodma_map_phys_ops.map(cmd, attrs);
	/* the domain was destroyed: the device no longer sees these page tables */
	if (!cmd->domain->attached)
		return -ENODEV;
	/* a copy buffer is DMA API memory, mapped in the default domain */
	if (cmd->in_place)
		return -EOPNOTSUPP;
	if (cmd->md->mapped_dev) {
		cmd->ranges_mapped = false;
		cmd->src = IODMA_SRC_RANGES;
		cmd->src_n = cmd->nranges;
		return 0;
	}
	if (cmd->md_bus)
		return map_ranges(cmd, m, IOMMU_MMIO);
	/* cmd.c checks the IOVAs and bounces what breaks the rules */
	return map_sg(cmd, m);
}

/**
 * iodma_domain_map_bounce() - map a command's copy buffer in its domain
 * @cmd: a MAPPED command of an owned domain, its memory unmapped, its copy
 *	buffer's chunks in cmd->ranges (physical addresses)
 *
 * The chunks get the command's IOVA range, back to back: the ranges then
 * hold IOVAs.  Undone by the backend's unmap.
 *
 * Return: 0 or -ENOMEM.
 */
int iodma_domain_map_bounce(struct iodma_cmd *cmd)
{
	if (!cmd->domain->attached)
		return -ENODEV;
	return map_ranges(cmd, cmd->backend, 0);
}

/* The device snoops CPU caches (iodma_domain_create() checks): nothing to do. */
static void domain_sync(struct iodma_cmd *cmd, bool for_device)
{
}

static int domain_reserve(struct iodma_cmd *cmd, u64 max_len)
{
	struct domain_map *m = cmd->backend;

	m->keep = true;
	m->reserve = pages_for(max_len);
	if (cmd->spec.map != IODMA_MAPPED)
		return 0;
	return get_iova(cmd, m, m->reserve);
}

static void domain_release(struct iodma_cmd *cmd)
{
	struct domain_map *m = cmd->backend;

	if (m)
		put_iova(cmd, m, true);
	kfree(m);
	cmd->backend = NULL;
	iodma_domain_put(cmd->domain);
}

/* The backend's per-command state; iodma_cmd_destroy() frees it through release(). */
int iodma_map_domain_init(struct iodma_cmd *cmd)
{
	struct domain_map *m = iodma_should_fail(sizeof(*m)) ? NULL :
			       kzalloc(sizeof(*m), GFP_KERNEL);

	cmd->backend = m;
	return m ? 0 : -ENOMEM;
}

const struct iodma_map_ops iodma_map_domain_ops = {
	.map = domain_map,
	.unmap = domain_unmap,
	.sync = domain_sync,
	.release = domain_release,
	.reserve = domain_reserve,
};
