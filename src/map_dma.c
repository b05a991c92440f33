// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA API backend: MAPPED commands of devices that use the kernel's DMA
 * mapping (dma-direct, swiotlb or the device's IOMMU DMA domain).
 *
 * CPU memory is mapped as one scatterlist with dma_map_sgtable(), or, as a
 * single entry, with dma_map_page_attrs(); physical ranges with
 * dma_map_resource(); descriptors already mapped for the device, and copy
 * buffers allocated for it, are used as they are.  Syncs are the DMA API's.
 */
#include <linux/dma-mapping.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/swiotlb.h>
#include "iodma_internal.h"

static void map_dma_unmap_ranges(struct iodma_cmd *cmd, unsigned int n, unsigned long attrs)
{
	struct iodma_range *r;

	for (r = cmd->view.ranges; r < cmd->view.ranges + n; r++) {
		if (r->ram)
			dma_unmap_page_attrs(cmd->dev, r->addr, r->len, cmd->md->dir, attrs);
		else
			dma_unmap_resource(cmd->dev, r->addr, r->len, cmd->md->dir, attrs);
	}
}

/* Does [addr, addr + len) lie in RAM the kernel has struct pages for? */
static bool range_is_ram(u64 addr, u64 len)
{
	return pfn_valid(PHYS_PFN(addr)) && pfn_valid(PHYS_PFN(addr + len - 1));
}

/*
 * Physical ranges: RAM is mapped as pages (dma_map_resource() is for MMIO
 * only: an IOMMU would map RAM as device memory, and its syncs would be
 * wrong), the rest with dma_map_resource().  A range beyond the device's
 * reach on a device without translation is not mapped at all (dma-direct
 * would warn and fail): the ranges stay the physical addresses dma-direct
 * would give, and gen_segments reports the first one beyond reach with
 * -ERANGE, as for every descriptor a command cannot bounce.
 */
static int map_dma_map_ranges(struct iodma_cmd *cmd, unsigned long attrs)
{
	struct iodma_view *v = &cmd->view;
	struct iodma_range *r;
	dma_addr_t a;

	if (cmd->md->mapped_dev)
		return 0;
	if (!cmd->translated) {
		for (r = v->ranges; r < v->ranges + v->nranges; r++)
			if (r->addr > cmd->lim.addr_limit ||
			    r->len - 1 > cmd->lim.addr_limit - r->addr)
				return 0;
	}
	for (r = v->ranges; r < v->ranges + v->nranges; r++) {
		r->ram = range_is_ram(r->addr, r->len);
		if (r->ram)
			a = dma_map_page_attrs(cmd->dev, pfn_to_page(PHYS_PFN(r->addr)),
					       offset_in_page(r->addr), r->len, cmd->md->dir,
					       attrs);
		else
			a = dma_map_resource(cmd->dev, r->addr, r->len, cmd->md->dir, attrs);
		if (dma_mapping_error(cmd->dev, a)) {
			map_dma_unmap_ranges(cmd, r - v->ranges, attrs);
			return -ENOMEM;
		}
		r->addr = a;
	}
	v->ranges_mapped = true;
	return 0;
}

/*
 * A range of one entry, the most common I/O, is one page mapping: the DMA
 * API's scatterlist path would map the same entry the same way (dma-direct,
 * swiotlb and dma-iommu all map a lone entry as a page), after a walk and
 * checks that cost more than the mapping itself.  A PCI peer-to-peer page
 * goes to dma_map_sgtable(), the only call that knows its bus address.
 */
static int map_dma_map_single(struct iodma_cmd *cmd, unsigned long attrs)
{
	struct scatterlist *sg = cmd->view.sgt.sgl;
	dma_addr_t a;

	a = dma_map_page_attrs(cmd->dev, sg_page(sg), sg->offset, sg->length, cmd->md->dir,
			       attrs);
	if (dma_mapping_error(cmd->dev, a))
		return -ENOMEM;
	sg_dma_address(sg) = a;
	sg_dma_len(sg) = sg->length;
	cmd->view.sgt.nents = 1;
	return 0;
}

static int map_dma_map(struct iodma_cmd *cmd, unsigned long attrs, gfp_t gfp)
{
	struct iodma_view *v = &cmd->view;
	int ret;

	/* bus memory, and a copy buffer of this device, mapped for its whole life */
	if (cmd->md_bus || cmd->in_place) {
		iodma_view_unmapped(v, true);
		if (cmd->in_place) {
			if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
				iodma_cbuf_sync(&cmd->md->cbuf, cmd->prep_off, cmd->prep_len,
						cmd->md->dir, true);
			return 0;
		}
		ret = map_dma_map_ranges(cmd, attrs);
		if (ret)
			v->src = IODMA_SRC_NONE;
		return ret;
	}
	v->sg_single = v->sgt.orig_nents == 1 && !is_pci_p2pdma_page(sg_page(v->sgt.sgl));
	if (v->sg_single) {
		ret = map_dma_map_single(cmd, attrs);
		if (ret)
			return ret;
	} else {
		ret = dma_map_sgtable(cmd->dev, &v->sgt, cmd->md->dir, attrs);
		if (ret)
			return ret == -EINVAL ? -EINVAL : -ENOMEM;
	}
	v->src = IODMA_SRC_SG_DMA;
	v->src_n = v->sgt.nents;
	return 0;
}

/* Sync [@in, @in + @len) of the single mapping at @addr. */
static void map_dma_sync_one(struct iodma_cmd *cmd, dma_addr_t addr, u64 in, u64 len,
			     bool for_device)
{
	if (for_device)
		dma_sync_single_range_for_device(cmd->dev, addr, in, len, cmd->md->dir);
	else
		dma_sync_single_range_for_cpu(cmd->dev, addr, in, len, cmd->md->dir);
}

/*
 * Part of a mapped scatterlist: the mapped segments' share of it, each
 * synced as a single range (an IOMMU may have merged the CPU entries; the
 * mapped segments are what the DMA API tracks).  The whole range is synced
 * as the table it was mapped as.
 */
static void map_dma_sync_sg(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len)
{
	struct sg_table *sgt = &cmd->view.sgt;
	struct scatterlist *sg;
	unsigned int i;
	u64 take, in;

	if (!off && len == cmd->prep_len && cmd->view.sg_single) {
		if (for_device)
			dma_sync_single_for_device(cmd->dev, sg_dma_address(sgt->sgl),
						   sg_dma_len(sgt->sgl), cmd->md->dir);
		else
			dma_sync_single_for_cpu(cmd->dev, sg_dma_address(sgt->sgl),
						sg_dma_len(sgt->sgl), cmd->md->dir);
		return;
	}
	if (!off && len == cmd->prep_len) {
		if (for_device)
			dma_sync_sgtable_for_device(cmd->dev, sgt, cmd->md->dir);
		else
			dma_sync_sgtable_for_cpu(cmd->dev, sgt, cmd->md->dir);
		return;
	}
	for_each_sgtable_dma_sg(sgt, sg, i) {
		take = iodma_clip(&off, &len, sg_dma_len(sg), &in);
		if (take)
			map_dma_sync_one(cmd, sg_dma_address(sg), in, take, for_device);
		if (!len)
			break;
	}
}

static void map_dma_unmap(struct iodma_cmd *cmd, unsigned long attrs)
{
	if (cmd->in_place) {
		if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			iodma_cbuf_sync(&cmd->md->cbuf, cmd->prep_off, cmd->prep_len,
					cmd->md->dir, false);
	} else if (!cmd->md_bus && cmd->view.sg_single) {
		dma_unmap_page_attrs(cmd->dev, sg_dma_address(cmd->view.sgt.sgl),
				     sg_dma_len(cmd->view.sgt.sgl), cmd->md->dir, attrs);
	} else if (!cmd->md_bus) {
		dma_unmap_sgtable(cmd->dev, &cmd->view.sgt, cmd->md->dir, attrs);
	} else if (cmd->view.ranges_mapped) {
		map_dma_unmap_ranges(cmd, cmd->view.nranges, attrs);
	}
}

static void map_dma_sync(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len)
{
	struct iodma_view *v = &cmd->view;
	struct iodma_range *r;
	u64 take, in;

	if (cmd->in_place) {
		iodma_cbuf_sync(&cmd->md->cbuf, cmd->prep_off + off, len, cmd->md->dir,
				for_device);
		return;
	}
	if (!cmd->md_bus) {
		map_dma_sync_sg(cmd, for_device, off, len);
		return;
	}
	/*
	 * The owner of an already-mapped table does its own maintenance; MMIO
	 * needs none, and the DMA API has no sync for dma_map_resource()
	 * mappings (it would clean caches of a BAR's "linear map" address).
	 */
	if (!v->ranges_mapped)
		return;
	for (r = v->ranges; r < v->ranges + v->nranges && len; r++) {
		take = iodma_clip(&off, &len, r->len, &in);
		if (take && r->ram)
			map_dma_sync_one(cmd, r->addr, in, take, for_device);
	}
}

static u64 map_dma_reach(const struct iodma_cmd *cmd)
{
	return iodma_dev_reach(cmd->dev, cmd->spec_limit);
}

/*
 * Might the DMA API itself have bounced the mapping (swiotlb forced, or an
 * untrusted device behind dma-iommu)?  Then the device sees a slot the CPU
 * can only reach through syncs, and a sync toward the device exists only
 * for data going to it.
 */
static bool map_dma_may_bounce(const struct iodma_cmd *cmd)
{
	return cmd->view.src == IODMA_SRC_SG_DMA &&
	       (is_swiotlb_force_bounce(cmd->dev) ||
		(dev_is_pci(cmd->dev) && to_pci_dev(cmd->dev)->untrusted));
}

const struct iodma_map_ops iodma_map_dma_ops = {
	.usable = iodma_dev_dma_usable,
	.reach = map_dma_reach,
	.map = map_dma_map,
	.unmap = map_dma_unmap,
	.sync = map_dma_sync,
	.may_bounce = map_dma_may_bounce,
	.cbuf = IODMA_CBUF_DMA_API,
};
