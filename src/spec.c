// SPDX-License-Identifier: GPL-2.0-only
/*
 * Specifications: the one place that knows the rules of struct iodma_spec.
 *
 * A specification is checked once, when a command is created or given a new
 * one, and turned into struct iodma_limits, the normalised form the segment
 * generator and the backends read.  Nothing is checked again at I/O time.
 */
#include <linux/dma-map-ops.h>
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/module.h>
#include "iodma_internal.h"

static bool output_is_32(enum iodma_output out)
{
	return out == IODMA_OUT_HOST32 || out == IODMA_OUT_BIG32 || out == IODMA_OUT_LITTLE32;
}

static bool pow2_or_zero(u64 v)
{
	return !v || is_power_of_2(v);
}

/*
 * Can any memory meet @lim?  The best a copy buffer can be is one contiguous
 * piece at the lowest non-zero address aligned to every alignment rule
 * (unit); the spec allows every transfer that is a multiple of the length
 * unit, no longer than max_transfer_size, and that fits there below the
 * address limit.  In such a buffer max_segment_size (rounded) and the
 * boundary are the only cuts; a segment that is not the last is at least cap
 * = min(max_seg, boundary) long, and when cap is at least internal_alignment
 * and the gap rule's block, the cut ends it on both.  When cap is shorter,
 * the second segment of any transfer longer than cap starts off
 * internal_alignment (or the first ends off the gap rule's block): such a
 * spec fails at I/O time whatever the memory, so it is refused now.
 * max_segments refuses no spec: a transfer needing more segments than any
 * memory can give is refused by prepare (-E2BIG), and
 * iodma_cmd_prepare_window() never asks for one.
 */
static bool spec_feasible(const struct iodma_limits *lim)
{
	u64 gap = lim->virt_mask + 1;
	u64 unit = max3(lim->align, lim->int_align, lim->len_align);
	u64 cap = lim->max_seg, longest;

	unit = max(unit, gap);
	/* the only address below the limit aligned to unit would be 0 */
	if (unit - 1 >= lim->addr_limit)
		return false;
	if (lim->boundary_mask)
		cap = min(cap, lim->boundary_mask + 1);
	if (cap >= max(lim->int_align, gap))
		return true;
	longest = min(round_down(lim->max_transfer, lim->len_align),
		      lim->addr_limit - (unit - 1));
	return longest <= cap;
}

/*
 * iodma_spec_normalize() - validate @spec and fill @lim from it.
 * The rules are IOKit's (Documentation/porting.rst) plus the checks it
 * lacks: a boundary or gap rule that is not 2^n - 1, limits that leave no legal segment
 * length, and rules that no memory can meet (spec_feasible()).
 */
int iodma_spec_normalize(const struct iodma_spec *spec, struct iodma_limits *lim)
{
	struct iodma_limits l;
	bool out32;
	unsigned int bits;
	u64 len_align;

	if (!spec)
		return -EINVAL;
	if ((unsigned int)spec->output > IODMA_OUT_LITTLE64)
		return -EINVAL;
	if ((unsigned int)spec->map > IODMA_ITERATE_ONLY)
		return -EINVAL;
	if (spec->flags & ~IODMA_SPEC_FLAGS_ALL)
		return -EINVAL;

	out32 = output_is_32(spec->output);
	bits = spec->addr_bits ? spec->addr_bits : (out32 ? 32 : 64);
	if (bits < PAGE_SHIFT || bits > 64 || (out32 && bits > 32))
		return -EINVAL;

	if (!pow2_or_zero(spec->alignment) || !pow2_or_zero(spec->length_alignment) ||
	    !pow2_or_zero(spec->internal_alignment))
		return -EINVAL;
	/* a boundary is a power of two: the mask is 2^n - 1 */
	if (spec->seg_boundary_mask && !is_power_of_2(spec->seg_boundary_mask + 1) &&
	    spec->seg_boundary_mask != U64_MAX)
		return -EINVAL;
	/* so is the gap rule's block, which no address above 2^63 could start */
	if (spec->virt_boundary_mask && (spec->virt_boundary_mask >= BIT_ULL(63) ||
					 !is_power_of_2(spec->virt_boundary_mask + 1)))
		return -EINVAL;

	len_align = spec->length_alignment ? spec->length_alignment : 1;
	/* a segment must be able to hold at least one length unit */
	if (spec->max_segment_size && spec->max_segment_size < len_align)
		return -EINVAL;
	if (spec->seg_boundary_mask && spec->seg_boundary_mask != U64_MAX &&
	    spec->seg_boundary_mask + 1 < len_align)
		return -EINVAL;
	if (spec->max_transfer_size && spec->max_transfer_size < len_align)
		return -EINVAL;

	l.out32 = out32;
	l.addr_limit = bits == 64 ? U64_MAX : (1ULL << bits) - 1;
	l.max_seg = spec->max_segment_size ? spec->max_segment_size : U64_MAX;
	/* a 32-bit output cannot carry a longer length */
	if (out32)
		l.max_seg = min_t(u64, l.max_seg, U32_MAX);
	l.max_seg = round_down(l.max_seg, len_align);
	l.max_transfer = spec->max_transfer_size ? spec->max_transfer_size : U64_MAX;
	l.align = spec->alignment ? spec->alignment : 1;
	l.len_align = len_align;
	l.int_align = spec->internal_alignment ? spec->internal_alignment : l.align;
	l.boundary_mask = spec->seg_boundary_mask == U64_MAX ? 0 : spec->seg_boundary_mask;
	l.max_segs = spec->max_segments ? spec->max_segments : U64_MAX;
	l.virt_mask = spec->virt_boundary_mask;
	/* segments are then runs cut at max_segment_size: gen's fast path */
	l.plain = l.align == 1 && l.len_align == 1 && l.int_align == 1 && !l.boundary_mask &&
		  !l.virt_mask;
	l.block = iodma_segments_block(&l);
	l.shortcut = true;
	if (!spec_feasible(&l))
		return -EINVAL;
	if (lim)
		*lim = l;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iodma_spec_normalize);

/* True when DMA from @dev goes through a translating IOMMU domain. */
bool iodma_dev_translated(struct device *dev)
{
	struct iommu_domain *domain;

	if (!device_iommu_mapped(dev))
		return false;
	domain = iommu_get_domain_for_dev(dev);
	return domain && (domain->type & __IOMMU_DOMAIN_PAGING);
}

/*
 * iodma_dev_dma_usable() - 0 while the device's DMA goes through the DMA
 * API's own domain (or no IOMMU, or an identity domain); -EOPNOTSUPP while an
 * owned domain or the blocking domain of a claimed group holds it.  Then
 * neither DMA API nor physical addresses reach the device: a command would
 * program addresses the device reads as IOVAs of another table.
 */
int iodma_dev_dma_usable(struct device *dev)
{
	struct iommu_domain *domain;

	if (!device_iommu_mapped(dev))
		return 0;
	domain = iommu_get_domain_for_dev(dev);
	if (domain && ((domain->type & __IOMMU_DOMAIN_DMA_API) ||
		       domain->type == IOMMU_DOMAIN_IDENTITY))
		return 0;
	return -EOPNOTSUPP;
}

/*
 * iodma_dev_reach() - the highest bus address @dev takes, at most @limit:
 * its DMA mask and its bus's limit.  Read at each first prepare, as a driver
 * may change its mask after creating a command.
 */
u64 iodma_dev_reach(struct device *dev, u64 limit)
{
	limit = min(limit, dma_get_mask(dev));
	if (dev->bus_dma_limit)
		limit = min(limit, dev->bus_dma_limit);
	return limit;
}

/*
 * iodma_spec_check_device() - the rules that depend on the device: BYPASSED
 * addresses are CPU physical addresses, which a translating IOMMU would
 * reinterpret as IOVAs.
 */
int iodma_spec_check_device(const struct iodma_spec *spec, struct device *dev)
{
	if (spec->map == IODMA_BYPASSED && iodma_dev_translated(dev))
		return -EOPNOTSUPP;
	/*
	 * BYPASSED addresses come with no cache maintenance (the architecture's
	 * is the DMA API's own): only for devices that snoop.
	 */
	if (spec->map == IODMA_BYPASSED &&
	    (!dev_is_dma_coherent(dev) || (spec->flags & IODMA_NONCOHERENT)))
		return -EOPNOTSUPP;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iodma_spec_check_device);

/**
 * iodma_spec_validate() - check a specification without creating a command
 * @spec: the specification
 *
 * Applies every rule iodma_cmd_create() applies that does not depend on the
 * device: @addr_bits below PAGE_SHIFT (other than 0), above 64, or above 32
 * with a 32-bit output; an alignment that is not a power of two; a
 * @seg_boundary_mask that is not 2^n - 1; a @max_segment_size,
 * @max_transfer_size or boundary smaller than @length_alignment; an unknown
 * output, map type or flag.
 *
 * It also refuses the rules that no memory can meet, which would otherwise
 * fail every I/O they allow at gen time (or bounce into a copy buffer that
 * fails too).  With unit = max(alignment, internal_alignment,
 * length_alignment) and cap the longest segment (@max_segment_size, at most
 * U32_MAX for a 32-bit output, rounded down to @length_alignment, and at
 * most @seg_boundary_mask + 1), a spec is invalid when:
 *
 * - unit >= 2^addr_bits: no address below the limit but 0 is aligned; or
 * - cap < internal_alignment while a transfer longer than cap is allowed
 *   (a multiple of @length_alignment no longer than @max_transfer_size that
 *   fits below 2^addr_bits after unit): the second segment of such a
 *   transfer would start off internal_alignment, wherever the memory is.
 *
 * For example, alignment 4096 with a max_segment_size of 512 and no
 * max_transfer_size is invalid; with max_transfer_size 512 it is valid.
 *
 * A unit above the page allocator's largest block (4 MiB with 4 KiB pages)
 * is valid, since memory so aligned meets it, but no copy buffer can: a
 * range that would have to bounce fails to prepare with -ENOMEM.
 *
 * Context: Any context.
 * Return: 0 if valid, -EINVAL if @spec is NULL or breaks a rule.
 */
int iodma_spec_validate(const struct iodma_spec *spec)
{
	return iodma_spec_normalize(spec, NULL);
}
EXPORT_SYMBOL_GPL(iodma_spec_validate);

/*
 * Does the device snoop CPU caches?  IODMA_NONCOHERENT says it does not,
 * whatever the platform believes: then iodma uses no memory that only the
 * DMA API's own maintenance could keep in sync with the CPU's view.
 */
bool iodma_cmd_coherent(const struct iodma_cmd *cmd)
{
	return dev_is_dma_coherent(cmd->dev) && !(cmd->spec.flags & IODMA_NONCOHERENT);
}
EXPORT_SYMBOL_IF_KUNIT(iodma_cmd_coherent);
