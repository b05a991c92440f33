// SPDX-License-Identifier: GPL-2.0-only
/*
 * Physical backend: BYPASSED and ITERATE_ONLY commands.
 *
 * Nothing is mapped: the segment cursor reads the CPU entries of the
 * command's scatterlist as physical addresses (translated to bus addresses
 * with phys_to_dma() for BYPASSED), or the ranges of a bus descriptor as they
 * are.  spec.c refuses BYPASSED on a device behind a translating IOMMU.
 */
#include "iodma_internal.h"

/*
 * iodma_src_unmapped() - read the command's view as it is: bus ranges (bus
 * descriptors, copy buffers used in place) or the physical addresses of
 * its CPU scatterlist.  Also the view of the preflight and of explain.
 */
void iodma_src_unmapped(struct iodma_cmd *cmd)
{
	if (cmd->md_bus || cmd->in_place) {
		cmd->src = IODMA_SRC_RANGES;
		cmd->src_n = cmd->nranges;
	} else {
		cmd->src = IODMA_SRC_SG_PHYS;
		cmd->src_n = cmd->sgt.orig_nents;
	}
}

static int phys_map(struct iodma_cmd *cmd, unsigned long attrs)
{
	iodma_src_unmapped(cmd);
	cmd->ranges_mapped = false;
	return 0;
}

static void phys_unmap(struct iodma_cmd *cmd, unsigned long attrs)
{
}

/* Without a mapping there is no DMA API maintenance to do. */
static void phys_sync(struct iodma_cmd *cmd, bool for_device)
{
}

const struct iodma_map_ops iodma_map_phys_ops = {
	.map = phys_map,
	.unmap = phys_unmap,
	.sync = phys_sync,
};
