// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA API backend: MAPPED commands of devices that use the kernel's DMA
 * mapping (dma-direct, swiotlb or the device's IOMMU DMA domain).
 *
 * CPU memory is mapped as one scatterlist with dma_map_sgtable(); physical
 * ranges with dma_map_resource(); descriptors already mapped for the device,
 * and copy buffers allocated for it, are used as they are.  Syncs are the
 * DMA API's.
 */
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include "iodma_internal.h"

static void unmap_ranges(struct iodma_cmd *cmd, unsigned int n, unsigned long attrs)
{
	struct iodma_range *r;

	for (r = cmd->ranges; r < cmd->ranges + n; r++) {
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
static int map_ranges(struct iodma_cmd *cmd, unsigned long attrs)
{
	struct iodma_range *r;
	dma_addr_t a;

	cmd->ranges_mapped = false;
	if (cmd->md->mapped_dev)
		return 0;
	if (!cmd->translated) {
		for (r = cmd->ranges; r < cmd->ranges + cmd->nranges; r++)
			if (r->addr > cmd->lim.addr_limit ||
			    r->len - 1 > cmd->lim.addr_limit - r->addr)
				return 0;
	}
	for (r = cmd->ranges; r < cmd->ranges + cmd->nranges; r++) {
		r->ram = range_is_ram(r->addr, r->len);
		if (r->ram)
			a = dma_map_page_attrs(cmd->dev, pfn_to_page(PHYS_PFN(r->addr)),
					       offset_in_page(r->addr), r->len, cmd->md->dir,
					       attrs);
		else
			a = dma_map_resource(cmd->dev, r->addr, r->len, cmd->md->dir, attrs);
		if (dma_mapping_error(cmd->dev, a)) {
			unmap_ranges(cmd, r - cmd->ranges, attrs);
			return -ENOMEM;
		}
		r->addr = a;
	}
	cmd->ranges_mapped = true;
	return 0;
}

static int dma_map(struct iodma_cmd *cmd, unsigned long attrs)
{
	int ret;

	/* a copy buffer of this device is mapped for its whole life */
	if (cmd->in_place) {
		cmd->ranges_mapped = false;
		cmd->src = IODMA_SRC_RANGES;
		cmd->src_n = cmd->nranges;
		if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			iodma_cbuf_sync_range(cmd, true);
		return 0;
	}
	if (cmd->md_bus) {
		ret = map_ranges(cmd, attrs);
		if (ret)
			return ret;
		cmd->src = IODMA_SRC_RANGES;
		cmd->src_n = cmd->nranges;
		return 0;
	}
	ret = dma_map_sgtable(cmd->dev, &cmd->sgt, cmd->md->dir, attrs);
	if (ret)
		return ret == -EINVAL ? -EINVAL : -ENOMEM;
	cmd->src = IODMA_SRC_SG_DMA;
	cmd->src_n = cmd->sgt.nents;
	return 0;
}

static void dma_unmap(struct iodma_cmd *cmd, unsigned long attrs)
{
	if (cmd->in_place) {
		if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			iodma_cbuf_sync_range(cmd, false);
	} else if (!cmd->md_bus) {
		dma_unmap_sgtable(cmd->dev, &cmd->sgt, cmd->md->dir, attrs);
	} else if (cmd->ranges_mapped) {
		unmap_ranges(cmd, cmd->nranges, attrs);
	}
}

static void dma_sync(struct iodma_cmd *cmd, bool for_device)
{
	unsigned int i;

	if (cmd->in_place) {
		iodma_cbuf_sync_range(cmd, for_device);
		return;
	}
	if (!cmd->md_bus) {
		if (for_device)
			dma_sync_sgtable_for_device(cmd->dev, &cmd->sgt, cmd->md->dir);
		else
			dma_sync_sgtable_for_cpu(cmd->dev, &cmd->sgt, cmd->md->dir);
		return;
	}
	/*
	 * The owner of an already-mapped table does its own maintenance; MMIO
	 * needs none, and the DMA API has no sync for dma_map_resource()
	 * mappings (it would clean caches of a BAR's "linear map" address).
	 */
	if (!cmd->ranges_mapped)
		return;
	for (i = 0; i < cmd->nranges; i++) {
		if (!cmd->ranges[i].ram)
			continue;
		if (for_device)
			dma_sync_single_for_device(cmd->dev, cmd->ranges[i].addr,
						   cmd->ranges[i].len, cmd->md->dir);
		else
			dma_sync_single_for_cpu(cmd->dev, cmd->ranges[i].addr,
						cmd->ranges[i].len, cmd->md->dir);
	}
}

const struct iodma_map_ops iodma_map_dma_ops = {
	.map = dma_map,
	.unmap = dma_unmap,
	.sync = dma_sync,
};
