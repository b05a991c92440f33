// SPDX-License-Identifier: GPL-2.0-only
/*
 * Commands: the IODMACommand state machine.
 *
 * A command binds one device and one specification.  It is given a memory
 * descriptor, prepared on a range of it, asked for segments, completed and
 * given the next descriptor.  This file holds the state and its rules; it
 * turns the prepared range into a view the backends can map (a scatterlist
 * of CPU pages, or an array of bus ranges) and leaves the mapping itself to
 * a backend (struct iodma_map_ops): map_dma.c for the DMA API, map_phys.c
 * for bypassed and iterate-only commands.  segments.c walks the result.
 *
 * Every call validates first and changes nothing when it fails (DESIGN.md,
 * invariant 1).  A command is used by one thread at a time.
 */
#include <linux/dma-map-ops.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include "iodma_internal.h"
#include "trace.h"

static const struct iodma_map_ops *ops_for(const struct iodma_spec *spec)
{
	return spec->map == IODMA_MAPPED ? &iodma_map_dma_ops : &iodma_map_phys_ops;
}

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

/*
 * The highest bus address the command's device reaches, the one answer to
 * "can the device take this address" that the preflight, the copy-buffer
 * allocator, the owned domain's IOVA allocator and gen_segments all read
 * (cmd->lim.addr_limit): addr_bits, and except for iterate-only commands
 * (addresses the CPU uses) the DMA mask and the bus limit.  Refreshed at
 * each first prepare, as a driver may change its mask after creating the
 * command.
 */
static void update_reach(struct iodma_cmd *cmd)
{
	u64 reach = cmd->spec_limit;

	if (cmd->spec.map != IODMA_ITERATE_ONLY) {
		reach = min(reach, dma_get_mask(cmd->dev));
		if (cmd->dev->bus_dma_limit)
			reach = min(reach, cmd->dev->bus_dma_limit);
	}
	cmd->lim.addr_limit = reach;
}

/* Validate @spec for @dev into @lim, without touching any command. */
static int spec_for_device(const struct iodma_spec *spec, struct device *dev,
			   struct iodma_limits *lim)
{
	int ret;

	ret = iodma_spec_normalize(spec, lim);
	if (ret)
		return ret;
	return iodma_spec_check_device(spec, dev);
}

static atomic_t cmd_ids = ATOMIC_INIT(0);

u32 iodma_cmd_trace_id(const struct iodma_cmd *cmd)
{
	return cmd->id;
}

/*
 * iodma_cmd_alloc() - a command with the given backend: the DMA API and
 * physical backends (@domain NULL, @ops NULL: chosen from the map type), or
 * an owned IOMMU domain's (domain.c).
 */
struct iodma_cmd *iodma_cmd_alloc(struct device *dev, const struct iodma_spec *spec,
				  struct iodma_domain *domain, const struct iodma_map_ops *ops)
{
	struct iodma_limits lim;
	struct iodma_cmd *cmd;
	int ret;

	might_sleep();
	if (!dev)
		return ERR_PTR(-EINVAL);
	ret = spec_for_device(spec, dev, &lim);
	if (ret)
		return ERR_PTR(ret);
	if (iodma_should_fail(sizeof(*cmd)))
		return ERR_PTR(-ENOMEM);
	cmd = kzalloc(sizeof(*cmd), GFP_KERNEL);
	if (!cmd)
		return ERR_PTR(-ENOMEM);
	cmd->dev = get_device(dev);
	cmd->id = atomic_inc_return(&cmd_ids);
	INIT_LIST_HEAD(&cmd->pool_node);
	cmd->domain = domain;
	/* IOVAs of an owned domain are chosen by iodma: checked after mapping */
	cmd->translated = domain || iodma_dev_translated(dev);
	cmd->spec = *spec;
	cmd->lim = lim;
	cmd->spec_limit = lim.addr_limit;
	update_reach(cmd);
	cmd->ops = ops ? ops : ops_for(spec);
	return cmd;
}

/**
 * iodma_cmd_create() - create a command for a device
 * @dev: the device that performs the DMA
 * @spec: what the device accepts (copied)
 *
 * Context: Process context; may sleep.
 * Return: the command, ERR_PTR(-EINVAL) for a NULL @dev or an invalid @spec
 * (see iodma_spec_validate()), ERR_PTR(-EOPNOTSUPP) for IODMA_BYPASSED on a
 * device behind a translating IOMMU or on one that does not snoop CPU
 * caches (not dev_is_dma_coherent(), or IODMA_NONCOHERENT in @spec),
 * ERR_PTR(-ENOMEM).
 */
struct iodma_cmd *iodma_cmd_create(struct device *dev, const struct iodma_spec *spec)
{
	return iodma_cmd_alloc(dev, spec, NULL, NULL);
}
EXPORT_SYMBOL_GPL(iodma_cmd_create);

static void cmd_free_view(struct iodma_cmd *cmd)
{
	if (cmd->sgt_cap) {
		/* sg_free_table() needs the allocated count to find the chain */
		cmd->sgt.orig_nents = cmd->sgt_cap;
		sg_free_table(&cmd->sgt);
		cmd->sgt_cap = 0;
	}
	kfree(cmd->ranges);
	cmd->ranges = NULL;
	cmd->ranges_cap = 0;
}

/**
 * iodma_cmd_destroy() - free a command
 * @cmd: the command, or NULL
 *
 * A command destroyed while prepared or with a descriptor set is completed
 * and cleared first, with a warning: that is a driver bug.  Commands of a
 * pool are destroyed with the pool, never alone.
 *
 * Context: Process context; may sleep.
 */
void iodma_cmd_destroy(struct iodma_cmd *cmd)
{
	might_sleep();
	if (!cmd || WARN_ON_ONCE(cmd->pool))
		return;
	WARN_ON(cmd->prepared);
	iodma_cmd_clear_memory_descriptor(cmd, true);
	if (cmd->ops->release)
		cmd->ops->release(cmd);
	cmd_free_view(cmd);
	iodma_md_put(cmd->cbuf_md);
	put_device(cmd->dev);
	kfree(cmd);
}
EXPORT_SYMBOL_GPL(iodma_cmd_destroy);

static bool spec_equal(const struct iodma_spec *a, const struct iodma_spec *b)
{
	return a->addr_bits == b->addr_bits && a->max_segment_size == b->max_segment_size &&
	       a->max_transfer_size == b->max_transfer_size && a->alignment == b->alignment &&
	       a->length_alignment == b->length_alignment &&
	       a->internal_alignment == b->internal_alignment &&
	       a->seg_boundary_mask == b->seg_boundary_mask && a->output == b->output &&
	       a->map == b->map && a->flags == b->flags;
}

/**
 * iodma_cmd_set_spec() - give a command a new specification
 * @cmd: the command
 * @spec: the specification (copied)
 *
 * Context: Process context.
 * Return: 0, -EINVAL for a NULL argument or an invalid @spec, -EOPNOTSUPP as
 * for iodma_cmd_create(), -EBUSY while a descriptor is set.  On failure the
 * old specification stays.
 */
int iodma_cmd_set_spec(struct iodma_cmd *cmd, const struct iodma_spec *spec)
{
	struct iodma_limits lim;
	int ret;

	if (!cmd)
		return -EINVAL;
	ret = spec_for_device(spec, cmd->dev, &lim);
	if (ret)
		return ret;
	if (cmd->md)
		return -EBUSY;
	/*
	 * The copy buffer was laid out for the old rules (chunk alignment,
	 * reach, DMA API or zone memory): the next bounce makes a new one.
	 */
	if (!spec_equal(spec, &cmd->spec)) {
		iodma_md_put(cmd->cbuf_md);
		cmd->cbuf_md = NULL;
	}
	cmd->spec = *spec;
	cmd->lim = lim;
	cmd->spec_limit = lim.addr_limit;
	update_reach(cmd);
	/* an owned domain's backend stays: it hands iterate-only on itself */
	if (!cmd->domain)
		cmd->ops = ops_for(spec);
	return 0;
}
EXPORT_SYMBOL_GPL(iodma_cmd_set_spec);

/**
 * iodma_cmd_get_spec() - read a command's specification
 * @cmd: the command
 * @spec: filled with the specification exactly as it was given
 *
 * Context: Any context.
 */
void iodma_cmd_get_spec(const struct iodma_cmd *cmd, struct iodma_spec *spec)
{
	*spec = cmd->spec;
}
EXPORT_SYMBOL_GPL(iodma_cmd_get_spec);

/**
 * iodma_cmd_device() - the device of a command
 * @cmd: the command
 *
 * Context: Any context.
 * Return: the device given to iodma_cmd_create().
 */
struct device *iodma_cmd_device(const struct iodma_cmd *cmd)
{
	return cmd->dev;
}
EXPORT_SYMBOL_GPL(iodma_cmd_device);

/**
 * iodma_cmd_clone() - create a command like another one
 * @cmd: the command to copy
 * @spec: the new command's specification, or NULL for @cmd's, copied exactly
 *
 * The clone has the same device and no descriptor.
 *
 * Context: Process context; may sleep.
 * Return: as for iodma_cmd_create(); ERR_PTR(-EINVAL) for a NULL @cmd.
 */
struct iodma_cmd *iodma_cmd_clone(struct iodma_cmd *cmd, const struct iodma_spec *spec)
{
	if (!cmd)
		return ERR_PTR(-EINVAL);
	if (cmd->domain)
		return iodma_cmd_create_in_domain(cmd->domain, spec ? spec : &cmd->spec);
	return iodma_cmd_create(cmd->dev, spec ? spec : &cmd->spec);
}
EXPORT_SYMBOL_GPL(iodma_cmd_clone);

/* A copy-buffer descriptor of this command's device needs neither mapping nor bounce. */
static bool md_in_place(const struct iodma_cmd *cmd, const struct iodma_md *md)
{
	if (md->kind != IODMA_MD_COPYBUF || cmd->spec.map == IODMA_ITERATE_ONLY)
		return false;
	return md->cbuf.dev == (cmd->spec.map == IODMA_MAPPED ? cmd->dev : NULL);
}

/*
 * Can this command use @md at all?  Checked before anything changes.  In an
 * owned domain, addresses the DMA API made (a table mapped for the device, a
 * copy buffer of the device) belong to the default domain the device left:
 * they mean nothing to it, or another command's memory.
 */
static int examine_md(struct iodma_cmd *cmd, struct iodma_md *md)
{
	if (md->mapped_dev && md->mapped_dev != cmd->dev)
		return -EINVAL;
	if (cmd->domain && cmd->spec.map == IODMA_MAPPED &&
	    (md->mapped_dev || md_in_place(cmd, md) || iodma_md_has_dma_api_cbuf(md)))
		return -EOPNOTSUPP;
	return 0;
}

/*
 * A command outside an owned domain uses the DMA API (or physical
 * addresses); once the device is given to an owned domain (or its group is
 * blocked), neither reaches it: refuse rather than program addresses the
 * device would read as IOVAs of another table.
 */
static int check_dma_owner(struct iodma_cmd *cmd)
{
	if (cmd->domain || !device_iommu_mapped(cmd->dev))
		return 0;
	return iodma_dev_dma_api(cmd->dev) ? 0 : -EOPNOTSUPP;
}

static void complete_all_prepares(struct iodma_cmd *cmd)
{
	while (cmd->prepared)
		iodma_cmd_complete(cmd, true, true);
}

static void set_md(struct iodma_cmd *cmd, struct iodma_md *md)
{
	struct iodma_md *old = cmd->md;

	cmd->md = md ? iodma_md_get(md) : NULL;
	cmd->md_bus = md && md->bus;
	iodma_md_put(old);
}

static int set_memory_descriptor(struct iodma_cmd *cmd, struct iodma_md *md, bool auto_prepare)
{
	int ret;

	if (md && md == cmd->md) {
		if (!auto_prepare) {
			complete_all_prepares(cmd);
			return 0;
		}
		return cmd->prepared ? 0 : iodma_cmd_prepare(cmd, 0, 0, true, true);
	}
	if (cmd->prepared)
		return -EBUSY;
	if (md) {
		ret = examine_md(cmd, md);
		if (ret)
			return ret;
	}
	set_md(cmd, md);
	if (md && auto_prepare) {
		ret = iodma_cmd_prepare(cmd, 0, 0, true, true);
		if (ret) {
			set_md(cmd, NULL);
			return ret;
		}
	}
	return 0;
}

/**
 * iodma_cmd_set_memory_descriptor() - bind a descriptor to a command
 * @cmd: the command
 * @md: the descriptor (a reference is taken), or NULL to clear
 * @auto_prepare: prepare the whole descriptor as well
 *
 * The same descriptor again: without @auto_prepare, every outstanding
 * prepare is completed; with it, the descriptor is prepared if it is not.
 * Another descriptor (or NULL) while the command is prepared: -EBUSY and
 * nothing changes.  Otherwise the old descriptor is released and @md set;
 * its length is not checked unless @auto_prepare, so that a long descriptor
 * can be prepared in pieces.  With @auto_prepare, a failed prepare leaves no
 * descriptor set.
 *
 * Context: Process context; may sleep.
 * Return: 0, -EINVAL for a NULL @cmd or a descriptor already mapped for
 * another device, -EOPNOTSUPP for DMA API addresses (a mapped sg_table, a
 * copy buffer of the device) on a command of an owned IOMMU domain, -EBUSY
 * (see above), or iodma_cmd_prepare()'s error.
 */
int iodma_cmd_set_memory_descriptor(struct iodma_cmd *cmd, struct iodma_md *md,
				    bool auto_prepare)
{
	int ret;

	might_sleep();
	if (!cmd)
		return -EINVAL;
	ret = set_memory_descriptor(cmd, md, auto_prepare);
	trace_iodma_set_md(cmd, md ? md->length : 0, md ? md->dir : DMA_NONE, auto_prepare, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(iodma_cmd_set_memory_descriptor);

/**
 * iodma_cmd_clear_memory_descriptor() - unbind a command's descriptor
 * @cmd: the command
 * @auto_complete: complete every outstanding prepare first
 *
 * Context: Process context; may sleep.
 * Return: 0, -EINVAL for a NULL @cmd, -EBUSY if prepared and not
 * @auto_complete (nothing changes).
 */
int iodma_cmd_clear_memory_descriptor(struct iodma_cmd *cmd, bool auto_complete)
{
	might_sleep();
	if (!cmd)
		return -EINVAL;
	if (cmd->prepared) {
		if (!auto_complete)
			return -EBUSY;
		complete_all_prepares(cmd);
	}
	set_md(cmd, NULL);
	return 0;
}
EXPORT_SYMBOL_GPL(iodma_cmd_clear_memory_descriptor);

/**
 * iodma_cmd_get_memory_descriptor() - the descriptor set on a command
 * @cmd: the command
 *
 * Context: Any context.
 * Return: the descriptor (no reference is taken), or NULL.
 */
struct iodma_md *iodma_cmd_get_memory_descriptor(const struct iodma_cmd *cmd)
{
	return cmd ? cmd->md : NULL;
}
EXPORT_SYMBOL_GPL(iodma_cmd_get_memory_descriptor);

/**
 * iodma_cmd_get_io_memory_descriptor() - the memory the device really uses
 * @cmd: the command
 *
 * The copy-buffer descriptor is the command's own: valid until the
 * command completes, and it may be longer than the prepared range, whose
 * bytes are its first ones.
 *
 * Context: Any context.
 * Return: the copy-buffer descriptor while the command bounces, else the
 * descriptor set on it (no reference is taken), or NULL.
 */
struct iodma_md *iodma_cmd_get_io_memory_descriptor(const struct iodma_cmd *cmd)
{
	if (cmd && cmd->bounce)
		return cmd->cbuf_md;
	return iodma_cmd_get_memory_descriptor(cmd);
}
EXPORT_SYMBOL_GPL(iodma_cmd_get_io_memory_descriptor);

/*
 * Building the view of the prepared range.  CPU memory becomes a scatterlist
 * in cmd->sgt whose entries merge physically contiguous chunks, each no
 * longer than the backend maps in one piece (swiotlb caps a mapping); bus
 * memory becomes cmd->ranges.  Both are kept between prepares and only grow,
 * so a command reused for I/Os of a similar shape does not allocate.  With
 * room from an earlier I/O (pools always have it) one walk fills the view;
 * otherwise a first walk counts.
 */
struct view_ctx {
	struct iodma_cmd *cmd;
	struct scatterlist *sg;	/* last entry written */
	unsigned int n;		/* entries used */
	unsigned int cap;	/* fill: entries there is room for */
	u64 max_entry;
	u64 boundary;		/* entries never cross (boundary + 1) lines */
	u64 open_len;		/* length of the last entry */
	u64 end;		/* address just past the last entry */
	u64 bits;		/* OR of every entry's address and length */
	u64 max_end;		/* highest end of an entry */
	bool fill;		/* false: count only */
};

/*
 * The entry is reused from an earlier mapping: nothing of it may survive,
 * least of all a flag by which dma-iommu would unmap and sync it as one of
 * its swiotlb bounces (SG_DMA_SWIOTLB is set on map and never cleared).
 */
static void sg_clear_dma(struct scatterlist *sg)
{
	sg_dma_address(sg) = 0;
#ifdef CONFIG_NEED_SG_DMA_LENGTH
	sg->dma_length = 0;
#endif
#ifdef CONFIG_NEED_SG_DMA_FLAGS
	sg->dma_flags = 0;
#endif
}

static int view_sg_chunk(void *arg, const struct iodma_chunk *c)
{
	struct view_ctx *v = arg;
	phys_addr_t phys = page_to_phys(c->page) + c->pgoff;
	u64 left = c->len;

	while (left) {
		u64 room = (phys | v->boundary) - phys + 1;
		bool merge = v->n && phys == v->end && v->open_len < v->max_entry &&
			     (phys & v->boundary);
		u64 take;

		if (!room)	/* boundary of all ones: no line to cross */
			room = U64_MAX;
		if (merge) {
			take = min3(left, v->max_entry - v->open_len, room);
			v->open_len += take;
			if (v->fill)
				v->sg->length = v->open_len;
		} else {
			take = min3(left, v->max_entry, room);
			v->open_len = take;
			if (v->fill) {
				if (v->n == v->cap)
					return -ENOSPC;
				v->sg = v->n ? sg_next(v->sg) : v->cmd->sgt.sgl;
				sg_set_page(v->sg, pfn_to_page(PHYS_PFN(phys)), take,
					    offset_in_page(phys));
				sg_clear_dma(v->sg);
			}
			v->n++;
			v->bits |= phys;
		}
		phys += take;
		left -= take;
		v->end = phys;
		v->bits |= v->open_len;
	}
	v->max_end = max(v->max_end, v->end);
	return 0;
}

static int view_range_chunk(void *arg, const struct iodma_chunk *c)
{
	struct view_ctx *v = arg;
	struct iodma_range *r = v->cmd->ranges;

	/* a range ending at 2^64 leaves end 0: never merge across the wrap */
	if (v->n && c->addr == v->end && v->end) {
		if (v->fill)
			r[v->n - 1].len += c->len;
	} else {
		if (v->fill) {
			if (v->n == v->cap)
				return -ENOSPC;
			r[v->n] = (struct iodma_range){ .addr = c->addr, .len = c->len };
		}
		v->n++;
	}
	v->end = c->addr + c->len;
	return 0;
}

/* Make room for @n scatterlist entries; on failure the old table stays. */
static int reserve_sg(struct iodma_cmd *cmd, unsigned int n)
{
	struct sg_table t;
	int ret;

	if (n <= cmd->sgt_cap)
		return 0;
	if (cmd->nowait)
		return -EAGAIN;
	n = round_up(n, 32);
	if (iodma_should_fail(n * sizeof(struct scatterlist)))
		return -ENOMEM;
	ret = sg_alloc_table(&t, n, GFP_KERNEL);
	if (ret)
		return ret;
	if (cmd->sgt_cap) {
		cmd->sgt.orig_nents = cmd->sgt_cap;
		sg_free_table(&cmd->sgt);
	}
	cmd->sgt = t;
	cmd->sgt_cap = n;
	cmd->sgt_end = sg_last(t.sgl, n);
	return 0;
}

static int reserve_ranges(struct iodma_cmd *cmd, unsigned int n)
{
	struct iodma_range *r;

	if (n <= cmd->ranges_cap)
		return 0;
	if (cmd->nowait)
		return -EAGAIN;
	n = round_up(n, 8);
	if (iodma_should_fail(n * sizeof(*r)))
		return -ENOMEM;
	r = kmalloc_array(n, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	kfree(cmd->ranges);
	cmd->ranges = r;
	cmd->ranges_cap = n;
	return 0;
}

/*
 * The longest scatterlist entry the backend maps in one piece, and the line
 * no entry crosses: the device's DMA parameters (DMA-API debug checks them)
 * and swiotlb's largest mapping.
 */
static void sg_entry_limits(struct iodma_cmd *cmd, struct view_ctx *v)
{
	u64 max = SZ_1G;

	v->boundary = U64_MAX;
	if (cmd->spec.map == IODMA_MAPPED) {
		max = min_t(u64, max, dma_max_mapping_size(cmd->dev));
		max = min_t(u64, max, dma_get_max_seg_size(cmd->dev));
		v->boundary = dma_get_seg_boundary(cmd->dev);
	}
	v->max_entry = max(round_down(max, PAGE_SIZE), PAGE_SIZE);
}

/* Walk [off, off + len) of @md as the command's view needs it. */
static int view_walk(struct iodma_cmd *cmd, struct iodma_md *md, u64 off, u64 len,
		     struct view_ctx *v)
{
	if (md->kind == IODMA_MD_COPYBUF && cmd->in_place)
		return iodma_cbuf_walk(&md->cbuf, off, len, true, view_range_chunk, v);
	return iodma_md_walk(md, off, len, md->bus ? view_range_chunk : view_sg_chunk, v);
}

/*
 * Fill the view with [off, off + len) of @md, as far as its room goes:
 * -ENOSPC when it runs out (the end mark is then put back where it was).
 */
static int view_fill(struct iodma_cmd *cmd, struct iodma_md *md, u64 off, u64 len,
		     bool ranges, struct view_ctx *v)
{
	int ret;

	*v = (struct view_ctx){ .cmd = cmd, .max_entry = v->max_entry, .boundary = v->boundary,
				.cap = ranges ? cmd->ranges_cap : cmd->sgt_cap, .fill = true };
	if (ranges) {
		ret = view_walk(cmd, md, off, len, v);
		if (!ret)
			cmd->nranges = v->n;
		return ret;
	}
	sg_unmark_end(cmd->sgt_end);
	ret = view_walk(cmd, md, off, len, v);
	if (ret) {
		sg_mark_end(cmd->sgt_end);
		return ret;
	}
	sg_mark_end(v->sg);
	cmd->sgt_end = v->sg;
	cmd->sgt.orig_nents = v->n;
	cmd->sgt.nents = v->n;
	cmd->view_bits = v->bits;
	cmd->view_end = v->max_end;
	return 0;
}

/*
 * Fill cmd->sgt (CPU memory) or cmd->ranges (bus memory, copy buffers used in
 * place) with [off, off + len) of @md.  On failure the command has no view.
 */
static int build_view(struct iodma_cmd *cmd, struct iodma_md *md, u64 off, u64 len)
{
	bool ranges = md->bus || (md->kind == IODMA_MD_COPYBUF && cmd->in_place);
	struct view_ctx v = { .cmd = cmd };
	int ret;

	cmd->view_end = 0;
	sg_entry_limits(cmd, &v);
	if (ranges ? cmd->ranges_cap : cmd->sgt_cap) {
		ret = view_fill(cmd, md, off, len, ranges, &v);
		if (ret != -ENOSPC)
			return ret;
		v = (struct view_ctx){ .cmd = cmd, .max_entry = v.max_entry,
				       .boundary = v.boundary };
	}
	ret = view_walk(cmd, md, off, len, &v);
	if (ret)
		return ret;
	ret = ranges ? reserve_ranges(cmd, v.n) : reserve_sg(cmd, v.n);
	if (ret)
		return ret;
	ret = view_fill(cmd, md, off, len, ranges, &v);
	WARN_ON_ONCE(ret);
	return ret;
}

/*
 * CPU memory of BYPASSED and MAPPED commands can go through a copy buffer;
 * in an owned domain only MAPPED commands exist, and their copy buffer is
 * mapped in the domain for each I/O (iodma_domain_map_bounce()).
 */
static bool can_bounce(const struct iodma_cmd *cmd)
{
	return cmd->spec.map != IODMA_ITERATE_ONLY && !cmd->md_bus && !cmd->in_place;
}

/*
 * The preflight's shortcut, for a MAPPED sg view (bus address = physical
 * address, as the dry run reads it): every entry below @reach, and every
 * entry's address and length a multiple of the largest alignment rule, with
 * the cuts of max_segment_size (if it cuts at all) and of the boundary on such
 * multiples too, so that no segment can break a rule.  False sends the range
 * to the dry run.
 */
static bool view_fits(const struct iodma_cmd *cmd, u64 reach)
{
	const struct iodma_limits *lim = &cmd->lim;
	u64 unit = max3(lim->align, lim->int_align, lim->len_align) - 1;

	if (cmd->spec.map != IODMA_MAPPED || cmd->src != IODMA_SRC_SG_PHYS ||
	    !cmd->view_end || cmd->view_end - 1 > reach)
		return false;
	return !(cmd->view_bits & unit) &&
	       (lim->max_seg >= cmd->prep_len || !(lim->max_seg & unit)) &&
	       (!lim->boundary_mask || !((lim->boundary_mask + 1) & unit));
}

/*
 * Can the range go to the device as it is?  For dma-direct and BYPASSED the
 * bus addresses follow from the physical ones, so this is decided before any
 * mapping is made (a mapping beyond the mask would fail with a warning).
 */
static enum iodma_bounce_reason preflight(struct iodma_cmd *cmd)
{
	if (cmd->force_bounce)
		return IODMA_BOUNCE_FORCED;
	if (!can_bounce(cmd) || cmd->translated)
		return IODMA_BOUNCE_NONE;
	iodma_src_unmapped(cmd);
	if (view_fits(cmd, cmd->lim.addr_limit))
		return IODMA_BOUNCE_NONE;
	return iodma_segments_check(cmd, U64_MAX);
}

/* After mapping: an IOMMU or a forced swiotlb chose the addresses, check them. */
static enum iodma_bounce_reason postflight(struct iodma_cmd *cmd)
{
	if (!can_bounce(cmd) || cmd->spec.map != IODMA_MAPPED ||
	    !(cmd->translated || is_swiotlb_force_bounce(cmd->dev)))
		return IODMA_BOUNCE_NONE;
	return iodma_segments_check(cmd, U64_MAX);
}

/* Reserve what bouncing the prepared range needs: the only step that can fail. */
static int bounce_reserve(struct iodma_cmd *cmd)
{
	struct iodma_cbuf *cb;
	int ret;

	if (cmd->nowait && !(cmd->cbuf_md && cmd->cbuf_md->length >= cmd->prep_len))
		return -EAGAIN;
	ret = iodma_bounce_reserve(cmd, cmd->prep_len, GFP_KERNEL);
	if (ret)
		return ret;
	cb = &cmd->cbuf_md->cbuf;
	return reserve_ranges(cmd, cb->n);
}

/*
 * The cursor's source becomes the copy buffer's bus ranges for [0, @len).
 * A chunk gives at most one range, so the room is reserved by chunks rather
 * than counted in a first walk (bounce_reserve() has reserved it already).
 */
static int cbuf_view(struct iodma_cmd *cmd, u64 len)
{
	struct view_ctx v = { .cmd = cmd, .fill = true };
	int ret = reserve_ranges(cmd, cmd->cbuf_md->cbuf.n);

	if (ret)
		return ret;
	v.cap = cmd->ranges_cap;
	iodma_cbuf_walk(&cmd->cbuf_md->cbuf, 0, len, true, view_range_chunk, &v);
	cmd->src = IODMA_SRC_RANGES;
	cmd->src_n = v.n;
	return 0;
}

/*
 * Point the command at its copy buffer; bounce_reserve() must have
 * succeeded.  In an owned domain the copy buffer is then mapped there, the
 * one step that can still fail (-ENOMEM, nothing changed).
 */
static int bounce_start(struct iodma_cmd *cmd, enum iodma_bounce_reason reason, bool fill)
{
	int ret = cbuf_view(cmd, cmd->prep_len);

	if (WARN_ON_ONCE(ret))
		return ret;
	cmd->nranges = cmd->src_n;
	if (cmd->domain) {
		ret = iodma_domain_map_bounce(cmd);
		if (ret) {
			cmd->src = IODMA_SRC_NONE;
			return ret;
		}
	}
	cmd->bounce = reason;
	cmd->stats.bounces++;
	/*
	 * Memory the device may write is copied in too, whatever @fill says:
	 * the copy-out of complete then gives back the bytes the device did not
	 * write unchanged, never an earlier I/O's (see iodma_bounce_in()).
	 */
	if (fill || cmd->md->dir != DMA_TO_DEVICE)
		iodma_bounce_in(cmd);
	return 0;
}

static unsigned long sync_attrs(bool sync)
{
	return sync ? 0 : DMA_ATTR_SKIP_CPU_SYNC;
}

static int __prepare(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
		     bool synchronize)
{
	enum iodma_bounce_reason reason;
	unsigned long attrs;
	u64 mdlen, end;
	int ret;

	if (!cmd->md)
		return -ENODATA;
	mdlen = cmd->md->length;
	if (!length) {
		if (offset >= mdlen)
			return -EINVAL;
		length = mdlen - offset;
	}
	if (check_add_overflow(offset, length, &end) || end > mdlen)
		return -EINVAL;
	if (cmd->prepared) {
		if (offset != cmd->prep_off || length != cmd->prep_len)
			return -EBUSY;
		cmd->prepared++;
		return 0;
	}
	if (length > cmd->lim.max_transfer)
		return -ENOSPC;
	if (length & (cmd->lim.len_align - 1))
		return -EINVAL;

	ret = check_dma_owner(cmd);
	if (ret)
		return ret;
	update_reach(cmd);
	ret = iodma_md_wire(cmd->md, cmd->nowait);
	if (ret)
		return ret;
	cmd->in_place = md_in_place(cmd, cmd->md);
	ret = build_view(cmd, cmd->md, offset, length);
	if (ret)
		goto err_complete_md;
	cmd->prep_off = offset;
	cmd->prep_len = length;
	iodma_cursor_reset(cmd);

	reason = preflight(cmd);
	if (!reason) {
		attrs = sync_attrs(flush_cache || synchronize);
		ret = cmd->ops->map(cmd, attrs);
		if (ret)
			goto err_complete_md;
		reason = postflight(cmd);
		if (reason) {
			ret = bounce_reserve(cmd);
			/* unmap without copying back: nothing was written yet */
			cmd->ops->unmap(cmd, DMA_ATTR_SKIP_CPU_SYNC);
			if (!ret)
				ret = bounce_start(cmd, reason, synchronize);
			if (ret)
				goto err_complete_md;
		}
	} else {
		ret = bounce_reserve(cmd);
		if (!ret)
			ret = bounce_start(cmd, reason, synchronize);
		if (ret)
			goto err_complete_md;
	}

	cmd->prepared = 1;
	cmd->stats.prepares++;
	iodma_cursor_reset(cmd);
	return 0;

err_complete_md:
	cmd->src = IODMA_SRC_NONE;
	cmd->in_place = false;
	iodma_md_unwire(cmd->md, cmd->nowait);
	return ret;
}

/*
 * The error counters of a command, by errno: what the pool statistics
 * report as "failures by errno".
 */
static const int counted_errnos[IODMA_NR_ERRNOS - 1] = {
	EINVAL, ENODATA, EBUSY, ENOSPC, ENOMEM, EFAULT, ERANGE, EOVERFLOW, EOPNOTSUPP, EAGAIN,
};

void iodma_cmd_count_error(struct iodma_cmd *cmd, int err)
{
	unsigned int i;

	for (i = 0; i < IODMA_NR_ERRNOS - 1; i++)
		if (counted_errnos[i] == -err)
			break;
	cmd->errors[i]++;
}

const char *iodma_errno_name(unsigned int i)
{
	static const char * const names[IODMA_NR_ERRNOS] = {
		"EINVAL", "ENODATA", "EBUSY", "ENOSPC", "ENOMEM", "EFAULT", "ERANGE",
		"EOVERFLOW", "EOPNOTSUPP", "EAGAIN", "other",
	};

	return names[min_t(unsigned int, i, IODMA_NR_ERRNOS - 1)];
}

static int prepare_counted(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
			   bool synchronize, bool nowait)
{
	int ret;

	cmd->nowait = nowait;
	ret = __prepare(cmd, offset, length, flush_cache, synchronize);
	cmd->nowait = false;
	if (ret)
		iodma_cmd_count_error(cmd, ret);
	trace_iodma_prepare(cmd, ret ? offset : cmd->prep_off, ret ? length : cmd->prep_len,
			    cmd->md ? cmd->md->dir : DMA_NONE, ret ? 0 : cmd->src_n, cmd->bounce,
			    ret);
	return ret;
}

/**
 * iodma_cmd_prepare() - prepare a range of the descriptor for DMA
 * @cmd: the command
 * @offset: first byte in the descriptor
 * @length: bytes; 0 means from @offset to the end of the descriptor
 * @flush_cache: make CPU writes visible to the device (dma_sync for device)
 * @synchronize: copy into the copy buffer when bouncing (implies @flush_cache)
 *
 * Pins the memory, maps it for the device and positions the segment cursor
 * at the start of the range.  A prepare of the range already prepared
 * nests (one more iodma_cmd_complete() is needed).
 *
 * When the memory breaks the specification (an address beyond addr_bits or
 * the device's DMA mask, an alignment or length rule) and the command can
 * copy it (BYPASSED or MAPPED, CPU memory), the range goes through the
 * command's copy buffer: see iodma_cmd_bounce_reason().
 *
 * Context: Process context; may sleep.  See iodma_cmd_prepare_nowait().
 * Return: 0; -EINVAL for a NULL @cmd, a range outside the descriptor or
 * wrapping, or a length that is not a multiple of length_alignment;
 * -ENODATA without a descriptor; -ENOSPC for a length above
 * max_transfer_size; -EBUSY if another range is prepared; -EFAULT for user
 * memory that cannot be pinned; -EOPNOTSUPP when the device has been given
 * to an owned IOMMU domain and the command is not of it; -ENOMEM (also when
 * a needed copy buffer cannot be allocated).  Any failure leaves the
 * command unprepared (or, when nested, as it was).
 */
int iodma_cmd_prepare(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
		      bool synchronize)
{
	might_sleep();
	if (!cmd)
		return -EINVAL;
	return prepare_counted(cmd, offset, length, flush_cache, synchronize, false);
}
EXPORT_SYMBOL_GPL(iodma_cmd_prepare);

/**
 * iodma_cmd_prepare_nowait() - iodma_cmd_prepare() that never sleeps
 * @cmd: the command
 * @offset: as for iodma_cmd_prepare()
 * @length: as for iodma_cmd_prepare()
 * @flush_cache: as for iodma_cmd_prepare()
 * @synchronize: as for iodma_cmd_prepare()
 *
 * For atomic context: where iodma_cmd_prepare() would sleep (pin user
 * memory that is not pinned yet, grow the command's scatterlist, range
 * array or copy buffer), this returns -EAGAIN and changes nothing.  Commands
 * of a pool (iodma_pool_create()) are preallocated for max_transfer_size,
 * so their I/Os up to that size in page-sized pieces do not need to.
 *
 * Context: Any context; does not sleep.
 * Return: as for iodma_cmd_prepare(), and -EAGAIN (see above).
 */
int iodma_cmd_prepare_nowait(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
			     bool synchronize)
{
	if (!cmd)
		return -EINVAL;
	return prepare_counted(cmd, offset, length, flush_cache, synchronize, true);
}
EXPORT_SYMBOL_GPL(iodma_cmd_prepare_nowait);

/**
 * iodma_cmd_complete() - undo one iodma_cmd_prepare()
 * @cmd: the command
 * @invalidate_cache: make device writes visible to the CPU (dma_sync for cpu)
 * @synchronize: copy out of the copy buffer when bouncing (implies
 *	@invalidate_cache)
 *
 * The last complete of a nest unmaps the range and unpins the memory; the
 * emitted addresses are no longer valid for the device.
 *
 * Context: Process context; may sleep.
 * Return: 0, -EINVAL for a NULL @cmd, -ENODATA if not prepared.
 */
int iodma_cmd_complete(struct iodma_cmd *cmd, bool invalidate_cache, bool synchronize)
{
	might_sleep();
	if (!cmd)
		return -EINVAL;
	if (!cmd->prepared)
		return -ENODATA;
	trace_iodma_complete(cmd, cmd->prep_len, cmd->bounce, 0);
	if (--cmd->prepared)
		return 0;
	if (cmd->bounce) {
		/* the device loses the copy buffer before the CPU reads it */
		if (cmd->domain)
			cmd->ops->unmap(cmd, DMA_ATTR_SKIP_CPU_SYNC);
		if (synchronize)
			iodma_bounce_out(cmd);
		cmd->bounce = IODMA_BOUNCE_NONE;
	} else {
		cmd->ops->unmap(cmd, sync_attrs(invalidate_cache || synchronize));
	}
	iodma_md_complete(cmd->md);
	cmd->force_bounce = false;
	cmd->in_place = false;
	cmd->src = IODMA_SRC_NONE;
	cmd->cur.valid = false;
	return 0;
}
EXPORT_SYMBOL_GPL(iodma_cmd_complete);

#define IODMA_SYNC_ALL	(IODMA_SYNC_FOR_DEVICE | IODMA_SYNC_FOR_CPU | IODMA_FORCE_DOUBLE_BUFFER)

/* Re-prepare the prepared range through the copy buffer (IODMA_FORCE_DOUBLE_BUFFER). */
static int force_double_buffer(struct iodma_cmd *cmd)
{
	int ret;

	if (cmd->bounce)
		return 0;
	if (cmd->prepared > 1)
		return -EBUSY;
	/* in a domain the copy buffer would need the IOVAs the memory still has */
	if (!can_bounce(cmd) || cmd->domain)
		return -EOPNOTSUPP;
	ret = bounce_reserve(cmd);
	if (ret)
		return ret;
	/* the memory becomes what the CPU had and the device wrote so far ... */
	cmd->ops->unmap(cmd, 0);
	cmd->force_bounce = true;
	/* ... and the copy buffer its mirror, so either direction is in sync */
	ret = bounce_start(cmd, IODMA_BOUNCE_FORCED, true);
	if (WARN_ON_ONCE(ret))
		return ret;
	iodma_cursor_reset(cmd);
	return 1;
}

/**
 * iodma_cmd_synchronize() - cache and copy-buffer maintenance while prepared
 * @cmd: the command
 * @options: IODMA_SYNC_FOR_DEVICE (before the device reads or writes) or
 *	IODMA_SYNC_FOR_CPU (before the CPU looks), optionally with
 *	IODMA_FORCE_DOUBLE_BUFFER to move the prepared range into the copy
 *	buffer (the segments change: generate them again)
 *
 * While bouncing, FOR_DEVICE copies the descriptor's data into the copy
 * buffer and FOR_CPU copies the device's data out of it.
 *
 * Context: Process context; may sleep.
 * Return: 0; -EINVAL for a NULL @cmd, unknown options, or both or neither
 * direction; -ENODATA if not prepared; for IODMA_FORCE_DOUBLE_BUFFER, -EBUSY
 * if prepared more than once, -EOPNOTSUPP for memory iodma cannot copy
 * (iterate-only commands, bus descriptors) and in an owned domain, -ENOMEM.
 * On error nothing changed.
 */
int iodma_cmd_synchronize(struct iodma_cmd *cmd, u32 options)
{
	u32 dirs = options & (IODMA_SYNC_FOR_DEVICE | IODMA_SYNC_FOR_CPU);
	bool for_device = dirs == IODMA_SYNC_FOR_DEVICE;
	int ret;

	might_sleep();
	if (!cmd || (options & ~IODMA_SYNC_ALL) || !dirs ||
	    dirs == (IODMA_SYNC_FOR_DEVICE | IODMA_SYNC_FOR_CPU))
		return -EINVAL;
	if (!cmd->prepared)
		return -ENODATA;
	if (options & IODMA_FORCE_DOUBLE_BUFFER) {
		ret = force_double_buffer(cmd);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	if (!cmd->bounce)
		cmd->ops->sync(cmd, for_device);
	else if (for_device)
		iodma_bounce_in(cmd);
	else
		iodma_bounce_out(cmd);
	return 0;
}
EXPORT_SYMBOL_GPL(iodma_cmd_synchronize);

/**
 * iodma_cmd_get_prepared_offset_and_length() - the prepared range
 * @cmd: the command
 * @offset: filled with the first byte of the range in the descriptor, or NULL
 * @length: filled with its length, or NULL
 *
 * Context: Any context.
 * Return: 0, -EINVAL for a NULL @cmd, -ENODATA if not prepared.
 */
int iodma_cmd_get_prepared_offset_and_length(const struct iodma_cmd *cmd, u64 *offset,
					     u64 *length)
{
	if (!cmd)
		return -EINVAL;
	if (!cmd->prepared)
		return -ENODATA;
	if (offset)
		*offset = cmd->prep_off;
	if (length)
		*length = cmd->prep_len;
	return 0;
}
EXPORT_SYMBOL_GPL(iodma_cmd_get_prepared_offset_and_length);

/*
 * Might the DMA API itself have bounced the mapping (swiotlb forced, or an
 * untrusted device behind dma-iommu)?  Then the device sees a slot the CPU
 * can only reach through syncs, and a sync toward the device exists only
 * for data going to it.
 */
static bool dma_api_may_bounce(const struct iodma_cmd *cmd)
{
	return cmd->src == IODMA_SRC_SG_DMA && !cmd->domain &&
	       (is_swiotlb_force_bounce(cmd->dev) ||
		(dev_is_pci(cmd->dev) && to_pci_dev(cmd->dev)->untrusted));
}

/* Make the CPU's view of the prepared range the device's, or the reverse. */
static void sync_device_view(struct iodma_cmd *cmd, bool for_device)
{
	if (cmd->bounce)
		iodma_bounce_sync(cmd, for_device);
	else
		cmd->ops->sync(cmd, for_device);
}

static u64 cmd_copy(struct iodma_cmd *cmd, u64 offset, void *buf, const void *src, u64 len)
{
	struct iodma_md *md;
	u64 off, done;

	if (!cmd || !cmd->prepared || offset >= cmd->prep_len)
		return 0;
	len = min(len, cmd->prep_len - offset);
	/* while bouncing the device sees the copy buffer, which starts at the range */
	md = cmd->bounce ? cmd->cbuf_md : cmd->md;
	off = cmd->bounce ? offset : cmd->prep_off + offset;
	/* a write the device would never see, and the unmap would undo */
	if (src && !cmd->bounce && cmd->md->dir == DMA_FROM_DEVICE && dma_api_may_bounce(cmd))
		return 0;
	/*
	 * The bytes as the device sees them: its writes made visible first,
	 * ours handed back to it after (swiotlb slots, non-coherent caches).
	 */
	sync_device_view(cmd, false);
	if (src)
		done = iodma_md_write_bytes(md, off, src, len);
	else
		done = iodma_md_read_bytes(md, off, buf, len);
	sync_device_view(cmd, true);
	return done;
}

/**
 * iodma_cmd_read_bytes() - read the prepared memory as the device sees it
 * @cmd: the command
 * @offset: first byte, relative to the prepared range
 * @buf: destination
 * @len: bytes wanted; clamped to the prepared range
 *
 * The bytes are those the device sees: the copy buffer while bouncing,
 * and what the DMA API shows the device (its own bounce slot, through a
 * sync for the CPU) otherwise.  Does not move the segment cursor.
 *
 * Context: Process context; may sleep.
 * Return: bytes copied; 0 when not prepared, @offset is past the end, or the
 * memory is bus memory the CPU does not touch.
 */
u64 iodma_cmd_read_bytes(struct iodma_cmd *cmd, u64 offset, void *buf, u64 len)
{
	return cmd_copy(cmd, offset, buf, NULL, len);
}
EXPORT_SYMBOL_GPL(iodma_cmd_read_bytes);

/**
 * iodma_cmd_write_bytes() - write the prepared memory as the device sees it
 * @cmd: the command
 * @offset: first byte, relative to the prepared range
 * @buf: source
 * @len: bytes; clamped to the prepared range
 *
 * The device sees the bytes at once: they go into the copy buffer while
 * bouncing, else into the memory and through the DMA API's sync to the
 * device.  Memory the CPU may not write is left alone: user memory pinned
 * for DMA_TO_DEVICE (see iodma_md_write_bytes()), and a DMA_FROM_DEVICE
 * range that the DMA API itself may have bounced (swiotlb forced, an
 * untrusted device), where no sync carries CPU data to the device.
 *
 * Context: Process context; may sleep.
 * Return: bytes copied, as for iodma_cmd_read_bytes(); 0 in the cases above.
 */
u64 iodma_cmd_write_bytes(struct iodma_cmd *cmd, u64 offset, const void *buf, u64 len)
{
	return cmd_copy(cmd, offset, NULL, buf, len);
}
EXPORT_SYMBOL_GPL(iodma_cmd_write_bytes);

/**
 * iodma_cmd_bounce_reason() - why the prepared range goes through the copy buffer
 * @cmd: the command
 *
 * Context: Any context.
 * Return: IODMA_BOUNCE_NONE when not prepared or not bouncing, else the first
 * rule the memory broke (or IODMA_BOUNCE_FORCED).
 */
enum iodma_bounce_reason iodma_cmd_bounce_reason(const struct iodma_cmd *cmd)
{
	return cmd && cmd->prepared ? cmd->bounce : IODMA_BOUNCE_NONE;
}
EXPORT_SYMBOL_GPL(iodma_cmd_bounce_reason);

/**
 * iodma_cmd_get_stats() - counters of a command
 * @cmd: the command
 * @stats: filled with its counters since creation
 *
 * Context: Any context.
 */
void iodma_cmd_get_stats(const struct iodma_cmd *cmd, struct iodma_cmd_stats *stats)
{
	*stats = cmd->stats;
}
EXPORT_SYMBOL_GPL(iodma_cmd_get_stats);

/*
 * iodma_cmd_reserve() - preallocate what an I/O of up to @max_len bytes in
 * page-sized pieces needs, so that its prepare does not allocate (pools).
 */
int iodma_cmd_reserve(struct iodma_cmd *cmd, u64 max_len)
{
	/* one entry per page, one more for an offset in the first; never wraps */
	unsigned int n = min_t(u64, max_len / PAGE_SIZE + 2, SZ_64K);
	int ret;

	ret = reserve_sg(cmd, n);
	if (!ret)
		ret = reserve_ranges(cmd, n);
	if (!ret && cmd->ops->reserve)
		ret = cmd->ops->reserve(cmd, max_len);
	return ret;
}

/**
 * iodma_cmd_explain() - foresee, without preparing, how a range would go
 * @cmd: a command that is not prepared
 * @md: the descriptor (it need not be set on @cmd)
 * @offset: first byte in @md
 * @length: bytes, 0 for the rest of @md
 * @ex: filled with the answer
 *
 * Whether iodma_cmd_prepare() of that range would bounce, why (the first
 * rule broken and where), and into how many segments the range would
 * split.  Nothing is mapped, copied or allocated beyond the command's
 * reusable view; user memory that is not pinned is pinned for the answer
 * and unpinned.
 *
 * Context: Process context; may sleep.
 * Return: 0; -EINVAL for a NULL argument, a range outside @md or a length
 * that is not a multiple of length_alignment; -ENOSPC for a length above
 * max_transfer_size; -EBUSY if @cmd is prepared; -EFAULT or -ENOMEM when
 * the memory cannot be pinned or viewed.
 */
int iodma_cmd_explain(struct iodma_cmd *cmd, struct iodma_md *md, u64 offset, u64 length,
		      struct iodma_explain *ex)
{
	bool bus, in_place;
	u64 end, unit, saved_limit;
	int ret;

	might_sleep();
	if (!cmd || !md || !ex)
		return -EINVAL;
	if (cmd->prepared)
		return -EBUSY;
	if (!length) {
		if (offset >= md->length)
			return -EINVAL;
		length = md->length - offset;
	}
	if (check_add_overflow(offset, length, &end) || end > md->length)
		return -EINVAL;
	if (length > cmd->lim.max_transfer)
		return -ENOSPC;
	if (length & (cmd->lim.len_align - 1))
		return -EINVAL;

	update_reach(cmd);
	ret = iodma_md_wire(md, false);
	if (ret)
		return ret;
	/* the command's scratch state stands in for a prepared range */
	bus = cmd->md_bus;
	in_place = cmd->in_place;
	cmd->md_bus = md->bus;
	cmd->in_place = md_in_place(cmd, md);
	ret = build_view(cmd, md, offset, length);
	if (ret)
		goto out;
	cmd->prep_off = offset;
	cmd->prep_len = length;
	memset(ex, 0, sizeof(*ex));
	ex->translated = cmd->translated && !cmd->md_bus && !cmd->in_place;
	iodma_src_unmapped(cmd);
	iodma_cursor_reset(cmd);
	/* behind an IOMMU the physical addresses say nothing of the IOVAs' reach */
	saved_limit = cmd->lim.addr_limit;
	if (ex->translated)
		cmd->lim.addr_limit = U64_MAX;
	ex->reason = iodma_segments_count(cmd, U64_MAX, &ex->nsegs, &ex->bad_offset);
	cmd->lim.addr_limit = saved_limit;
	if (ex->reason && can_bounce(cmd)) {
		/* the copy buffer's segments: its chunks, or one contiguous run */
		unit = min(cmd->lim.max_seg, cmd->lim.boundary_mask ? cmd->lim.boundary_mask + 1 :
			   U64_MAX);
		ex->nsegs = DIV_ROUND_UP(length, unit);
		ex->nsegs_estimated = true;
		/* in a domain the copy buffer's IOVAs are only known when mapped */
		if (cmd->cbuf_md && cmd->cbuf_md->length >= length && !cmd->domain) {
			ret = cbuf_view(cmd, length);
			if (!ret) {
				iodma_cursor_reset(cmd);
				iodma_segments_count(cmd, U64_MAX, &ex->nsegs, NULL);
				ex->nsegs_estimated = false;
			}
		}
	}
out:
	cmd->src = IODMA_SRC_NONE;
	cmd->cur.valid = false;
	cmd->md_bus = bus;
	cmd->in_place = in_place;
	iodma_md_complete(md);
	return ret;
}
EXPORT_SYMBOL_GPL(iodma_cmd_explain);
