// SPDX-License-Identifier: GPL-2.0-only
/*
 * Owned-domain backend: commands created in an iodma domain (domain.c), and
 * their constructor, iodma_cmd_create_in_domain().
 *
 * The prepared range gets one IOVA range from the domain's allocator, below
 * the command's addr_bits and aligned for its first segment, and is mapped
 * there page by page with a single iommu_map_sg() call: each scatterlist
 * entry keeps its offset in its first page and entries follow each other in
 * IOVA space, so pages that are scattered in memory become one contiguous
 * bus range, which the DMA fields then hold as one entry (IODMA_SRC_SG_DMA),
 * as dma_map_sg() leaves them behind an IOMMU.
 * Physical-range descriptors are mapped range by range into one IOVA range;
 * descriptors already mapped for the device are used as they are.
 *
 * Complete unmaps with iommu_unmap_fast() into an iommu_iotlb_gather and
 * flushes the IOTLB once, with iommu_iotlb_sync(), before it returns: once a
 * command is completed the device cannot reach the memory.  A command that
 * keeps its IOVA range (a pooled command, iodma_pool_create_in_domain(), or
 * one whose backend was reserved) allocates it once, so its I/Os call no
 * allocator and find the page tables under the range where the last one
 * left them (an IOMMU driver may still free a table that an unmap clears
 * whole: intel-iommu does, for a 2 MiB-aligned run of 4 KiB pages); others
 * take it from the iova library's per-CPU caches at prepare and give it
 * back at complete.
 *
 * There is no cache maintenance: iodma_domain_create() accepts only devices
 * that snoop CPU caches, since the architecture's sync calls are the DMA
 * API's own.  A range the device cannot take as it is (an address that
 * breaks the alignment rules within its page: IOVAs keep the offset in the
 * page) goes through the command's copy buffer, page allocator memory
 * mapped in the domain for the I/O like physical ranges (the map_bounce
 * op).  Iterate-only commands of a domain map nothing: they take the
 * physical backend's map (map_phys.c).  Copy-buffer descriptors of the device
 * (iodma_cmd_create_copy_buffer()) are DMA API memory of its default
 * domain: those are refused.
 */
#include <linux/iommu.h>
#include <linux/module.h>
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

static void domain_iova_release(struct iodma_cmd *cmd, struct domain_map *m, bool force)
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
static int domain_iova_alloc(struct iodma_cmd *cmd, struct domain_map *m, unsigned long pages)
{
	unsigned long want = max_t(unsigned long, pages, cmd->lim.align >> PAGE_SHIFT);
	unsigned long pfn;

	if (m->pfn && m->pages >= want && m->limit == cmd->lim.addr_limit)
		return 0;
	if (keeps_iova(cmd, m)) {
		want = max(want, m->reserve);
		if (cmd->lim.max_transfer != U64_MAX)
			want = max(want, pages_for(cmd->lim.max_transfer));
	}
	/* the new range first: a failure leaves the command the range it has */
	pfn = iodma_domain_alloc_iova(cmd->domain, want, cmd->lim.addr_limit);
	if (!pfn)
		return -ENOMEM;
	domain_iova_release(cmd, m, true);
	m->pfn = pfn;
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

/*
 * Entries that do not cover whole pages: iommu_map_sg() maps whole pages
 * only, so they are padded to pages meanwhile (as dma-iommu does), their
 * own offset and length kept in their DMA fields.  Then the DMA fields
 * receive the IOVAs, entries that follow each other in IOVA space merged
 * into one (*@n of them).
 */
static ssize_t domain_map_padded(struct iodma_cmd *cmd, struct sg_table *sgt, u64 iova,
				 gfp_t gfp, unsigned int *n)
{
	struct scatterlist *s, *cur = NULL;
	u64 addr, end = 0, span = 0;
	unsigned int i, len;
	ssize_t mapped;

	for_each_sgtable_sg(sgt, s, i) {
		sg_dma_address(s) = span + s->offset;
		sg_dma_len(s) = s->length;
		s->length = PAGE_ALIGN(s->offset + s->length);
		s->offset = 0;
		span += s->length;
	}
	mapped = iommu_map_sg(cmd->domain->domain, iova, sgt->sgl, sgt->orig_nents,
			      prot_for(cmd), gfp);
	/* entry i's DMA fields are read before slot *n <= i is written */
	*n = 0;
	for_each_sgtable_sg(sgt, s, i) {
		addr = sg_dma_address(s);
		len = sg_dma_len(s);
		s->offset = offset_in_page(addr);
		s->length = len;
		addr += iova;
		if (cur && addr == end && sg_dma_len(cur) <= UINT_MAX - len) {
			sg_dma_len(cur) += len;
		} else {
			cur = cur ? sg_next(cur) : sgt->sgl;
			sg_dma_address(cur) = addr;
			sg_dma_len(cur) = len;
			(*n)++;
		}
		end = addr + len;
	}
	return mapped;
}

/*
 * CPU memory: lay the entries out one after the other in IOVA space, each
 * from the start of its first page, and map them with one iommu_map_sg()
 * call.  The DMA fields then hold the runs that are contiguous in IOVA
 * space, one entry each, as dma_map_sg() leaves them behind an IOMMU: the
 * postflight and gen_segments walk one entry per run, not one per page.
 * Entries of whole pages (the common case) are one run, mapped as they are.
 */
static int domain_map_sg(struct iodma_cmd *cmd, struct domain_map *m, gfp_t gfp)
{
	struct sg_table *sgt = &cmd->view.sgt;
	struct scatterlist *s;
	unsigned int i, n, parts = 0;
	u64 span = 0, iova;
	ssize_t mapped;
	int ret;

	for_each_sgtable_sg(sgt, s, i) {
		parts |= s->offset | s->length;
		span += PAGE_ALIGN(s->offset + s->length);
	}
	ret = domain_iova_alloc(cmd, m, span >> PAGE_SHIFT);
	if (ret)
		return ret;
	iova = (u64)m->pfn << PAGE_SHIFT;
	if (offset_in_page(parts) || span > UINT_MAX) {
		mapped = domain_map_padded(cmd, sgt, iova, gfp, &n);
	} else {
		mapped = iommu_map_sg(cmd->domain->domain, iova, sgt->sgl, sgt->orig_nents,
				      prot_for(cmd), gfp);
		sg_dma_address(sgt->sgl) = iova;
		sg_dma_len(sgt->sgl) = span;
		n = 1;
	}
	if (mapped < 0) {
		domain_iova_release(cmd, m, false);
		return -ENOMEM;
	}
	m->mapped = mapped;
	sgt->nents = n;
	cmd->view.src = IODMA_SRC_SG_DMA;
	cmd->view.src_n = n;
	return 0;
}

/*
 * Clear the page-table entries of the command's mapped bytes and flush the
 * IOTLB for them once: after this the device cannot reach the memory.  The
 * IOMMU driver gathers the range (and any page-table page it freed) in
 * @gather, and iommu_iotlb_sync() issues the one invalidation and frees.
 */
static void domain_unmap_range(struct iodma_cmd *cmd, u64 iova, size_t size)
{
	struct iommu_domain *domain = cmd->domain->domain;
	struct iommu_iotlb_gather gather;
	size_t unmapped;

	iommu_iotlb_gather_init(&gather);
	unmapped = iommu_unmap_fast(domain, iova, size, &gather);
	iommu_iotlb_sync(domain, &gather);
	WARN_ON_ONCE(unmapped != size);
}

/*
 * Physical ranges (a peer's BAR, reserved memory, a copy buffer's chunks):
 * one iommu_map() each, back to back, with @prot added (IOMMU_MMIO).
 */
static int domain_map_ranges(struct iodma_cmd *cmd, struct domain_map *m, int prot, gfp_t gfp)
{
	struct iommu_domain *domain = cmd->domain->domain;
	struct iodma_view *v = &cmd->view;
	size_t span = 0, done = 0, size;
	unsigned int i;
	u64 iova;
	int ret;

	for (i = 0; i < v->nranges; i++)
		span += PAGE_ALIGN(offset_in_page(v->ranges[i].addr) + v->ranges[i].len);
	ret = domain_iova_alloc(cmd, m, span >> PAGE_SHIFT);
	if (ret)
		return ret;
	iova = (u64)m->pfn << PAGE_SHIFT;

	for (i = 0; i < v->nranges; i++) {
		struct iodma_range *r = &v->ranges[i];

		size = PAGE_ALIGN(offset_in_page(r->addr) + r->len);
		ret = iommu_map(domain, iova + done, r->addr & PAGE_MASK, size,
				prot_for(cmd) | prot, gfp);
		if (ret)
			goto err_unmap;
		r->addr = iova + done + offset_in_page(r->addr);
		done += size;
	}
	m->mapped = done;
	v->ranges_mapped = true;
	v->src = IODMA_SRC_RANGES;
	v->src_n = v->nranges;
	return 0;

err_unmap:
	if (done)
		domain_unmap_range(cmd, iova, done);
	domain_iova_release(cmd, m, false);
	return -ENOMEM;
}

static void domain_unmap(struct iodma_cmd *cmd, unsigned long attrs)
{
	struct domain_map *m = cmd->backend;

	if (m->mapped) {
		domain_unmap_range(cmd, (u64)m->pfn << PAGE_SHIFT, m->mapped);
		m->mapped = 0;
	}
	cmd->view.ranges_mapped = false;
	domain_iova_release(cmd, m, false);
}

static int domain_map(struct iodma_cmd *cmd, unsigned long attrs, gfp_t gfp)
{
	/* the domain was destroyed: the device no longer sees these page tables */
	if (!cmd->domain->attached)
		return -ENODEV;
	/* a copy buffer is DMA API memory, mapped in the default domain */
	if (cmd->in_place)
		return -EOPNOTSUPP;
	if (cmd->md->mapped_dev) {
		iodma_view_unmapped(&cmd->view, true);
		return 0;
	}
	if (cmd->md_bus)
		return domain_map_ranges(cmd, cmd->backend, IOMMU_MMIO, gfp);
	/* bounce.c checks the IOVAs and bounces what breaks the rules */
	return domain_map_sg(cmd, cmd->backend, gfp);
}

/*
 * The copy buffer's chunks (physical addresses, in cmd->view.ranges) get the
 * command's IOVA range, back to back: the ranges then hold IOVAs.  Undone by
 * domain_unmap().
 */
static int domain_map_bounce(struct iodma_cmd *cmd, gfp_t gfp)
{
	if (!cmd->domain->attached)
		return -ENODEV;
	return domain_map_ranges(cmd, cmd->backend, 0, gfp);
}

/* The device snoops CPU caches (iodma_domain_create() checks): nothing to do. */
static void domain_sync(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len)
{
}

/* IOVAs are allocated below the device's DMA mask as well as addr_bits. */
static u64 domain_reach(const struct iodma_cmd *cmd)
{
	return iodma_dev_reach(cmd->dev, cmd->spec_limit);
}

static int domain_reserve(struct iodma_cmd *cmd, u64 max_len)
{
	struct domain_map *m = cmd->backend;

	m->keep = true;
	/*
	 * Each scatterlist entry gets page-aligned IOVA of its own
	 * (domain_map_sg()): besides its bytes, up to two pages for its
	 * offset and its partial last page.  Sized for as many entries as
	 * the pool reserved (sub-page bio_vecs), so that no I/O of up to
	 * @max_len allocates IOVA.
	 */
	m->reserve = pages_for(max_len) + 2UL * cmd->view.sgt_cap;
	if (cmd->spec.map != IODMA_MAPPED)
		return 0;
	return domain_iova_alloc(cmd, m, m->reserve);
}

/* The backend's per-command state, and a reference on the domain. */
static int domain_cmd_init(struct iodma_cmd *cmd)
{
	struct domain_map *m = iodma_should_fail(sizeof(*m)) ? NULL :
			       kzalloc(sizeof(*m), GFP_KERNEL);

	if (!m)
		return -ENOMEM;
	cmd->backend = m;
	iodma_domain_get(cmd->domain);
	/* IOVAs are chosen by iodma: bounce.c checks them after mapping */
	cmd->translated = true;
	return 0;
}

static void domain_cmd_release(struct iodma_cmd *cmd)
{
	struct domain_map *m = cmd->backend;

	if (!m)
		return;
	domain_iova_release(cmd, m, true);
	kfree(m);
	cmd->backend = NULL;
	iodma_domain_put(cmd->domain);
}

static struct iodma_cmd *domain_clone(struct iodma_cmd *cmd, const struct iodma_spec *spec)
{
	return iodma_cmd_create_in_domain(cmd->domain, spec);
}

static const struct iodma_map_ops *domain_select(const struct iodma_spec *spec);

static const struct iodma_map_ops domain_ops = {
	.select = domain_select,
	.init = domain_cmd_init,
	.release = domain_cmd_release,
	.clone = domain_clone,
	.reach = domain_reach,
	.map = domain_map,
	.unmap = domain_unmap,
	.sync = domain_sync,
	.map_bounce = domain_map_bounce,
	.reserve = domain_reserve,
	.cbuf = IODMA_CBUF_PHYS,
	.own_addresses = true,
};

/* Iterate-only commands of a domain: physical addresses, the domain kept. */
static const struct iodma_map_ops domain_phys_ops = {
	.select = domain_select,
	.init = domain_cmd_init,
	.release = domain_cmd_release,
	.clone = domain_clone,
	.reach = iodma_phys_reach,
	.map = iodma_phys_map,
	.unmap = iodma_phys_unmap,
	.sync = iodma_phys_sync,
	.reserve = domain_reserve,
	.cbuf = IODMA_CBUF_PHYS,
};

static const struct iodma_map_ops *domain_select(const struct iodma_spec *spec)
{
	return spec->map == IODMA_MAPPED ? &domain_ops : &domain_phys_ops;
}

/**
 * iodma_cmd_create_in_domain() - create a command whose addresses are IOVAs of a domain
 * @domain: the domain, from iodma_domain_create()
 * @spec: what the device accepts (copied); IODMA_MAPPED for IOVAs
 *
 * A MAPPED command's prepare maps the range into @domain at IOVAs below
 * 2^addr_bits with the first segment aligned as the specification says, and
 * its last complete unmaps it and flushes the IOTLB before returning.
 * ITERATE_ONLY commands emit CPU physical addresses as elsewhere.
 *
 * Context: Process context; may sleep.
 * Return: the command, ERR_PTR(-EINVAL) for a NULL @domain or an invalid
 * @spec, ERR_PTR(-EOPNOTSUPP) for IODMA_BYPASSED (the device is behind a
 * translating IOMMU), ERR_PTR(-ENOMEM).
 */
struct iodma_cmd *iodma_cmd_create_in_domain(struct iodma_domain *domain,
					     const struct iodma_spec *spec)
{
	might_sleep();
	if (!domain || !spec)
		return ERR_PTR(-EINVAL);
	return iodma_cmd_alloc(domain->dev, spec, domain, &domain_ops);
}
EXPORT_SYMBOL_GPL(iodma_cmd_create_in_domain);
