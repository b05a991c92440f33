// SPDX-License-Identifier: GPL-2.0-only
/*
 * Physical backend: BYPASSED and ITERATE_ONLY commands.
 *
 * Nothing is mapped: the segment cursor reads the CPU entries of the
 * command's view as physical addresses (translated to bus addresses with
 * phys_to_dma() for BYPASSED), or the ranges of a bus descriptor as they
 * are.  spec.c refuses BYPASSED on a device behind a translating IOMMU.  The
 * map, unmap and sync here also serve the iterate-only commands of an owned
 * domain (map_domain.c).
 */
#include "iodma_internal.h"

int iodma_phys_map(struct iodma_cmd *cmd, unsigned long attrs, gfp_t gfp)
{
	iodma_view_unmapped(&cmd->view, cmd->md_bus || cmd->in_place);
	return 0;
}

void iodma_phys_unmap(struct iodma_cmd *cmd, unsigned long attrs)
{
}

/* Without a mapping there is no DMA API maintenance to do. */
void iodma_phys_sync(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len)
{
}

/*
 * BYPASSED addresses go to the device as they are: its DMA mask and bus
 * limit apply.  Iterate-only addresses are the CPU's, bounded by addr_bits
 * alone.
 */
u64 iodma_phys_reach(const struct iodma_cmd *cmd)
{
	if (cmd->spec.map == IODMA_ITERATE_ONLY)
		return cmd->spec_limit;
	return iodma_dev_reach(cmd->dev, cmd->spec_limit);
}

const struct iodma_map_ops iodma_map_phys_ops = {
	.usable = iodma_dev_dma_usable,
	.reach = iodma_phys_reach,
	.map = iodma_phys_map,
	.unmap = iodma_phys_unmap,
	.sync = iodma_phys_sync,
	.cbuf = IODMA_CBUF_ZONE,
};
