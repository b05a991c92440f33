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
#include "iodma_internal.h"

static void unmap_ranges(struct iodma_cmd *cmd, unsigned int n, unsigned long attrs)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		dma_unmap_resource(cmd->dev, cmd->ranges[i].addr, cmd->ranges[i].len,
				   cmd->md->dir, attrs);
}

static int map_ranges(struct iodma_cmd *cmd, unsigned long attrs)
{
	unsigned int i;

	cmd->ranges_mapped = !cmd->md->mapped_dev;
	if (!cmd->ranges_mapped)
		return 0;
	for (i = 0; i < cmd->nranges; i++) {
		dma_addr_t a = dma_map_resource(cmd->dev, cmd->ranges[i].addr,
						cmd->ranges[i].len, cmd->md->dir, attrs);

		if (dma_mapping_error(cmd->dev, a)) {
			unmap_ranges(cmd, i, attrs);
			return -ENOMEM;
		}
		cmd->ranges[i].addr = a;
	}
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
	/* the owner of an already-mapped table does its own maintenance */
	if (!cmd->ranges_mapped)
		return;
	for (i = 0; i < cmd->nranges; i++) {
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
