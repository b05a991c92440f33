// SPDX-License-Identifier: GPL-2.0-only
/*
 * Commands: the IODMACommand state machine.
 *
 * A command binds one device and one specification.  It is given a memory
 * descriptor, prepared on a range of it, asked for segments, completed and
 * given the next descriptor.  This file holds the state and its rules.  A
 * prepare reads as: check the range, wire the memory (md.c), build its view
 * (view.c), then either map it with the command's backend (struct
 * iodma_map_ops: map_dma.c, map_phys.c, map_domain.c) or bounce it through
 * the copy buffer (bounce.c decides which).  segments.c walks the result;
 * explain.c forecasts a prepare without making one.
 *
 * Every call validates first and changes nothing when it fails
 * (Documentation/design.rst, invariant 1).  A command is used by one thread
 * at a time (invariant 4).
 */
#include <linux/dma-map-ops.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include "iodma_internal.h"
#include "trace.h"

/*
 * The backend for @spec within @ops's family: a backend with several tables
 * selects among them; the default is the DMA API's (the physical backend
 * for BYPASSED and iterate-only commands).
 */
static const struct iodma_map_ops *ops_for(const struct iodma_map_ops *ops,
					   const struct iodma_spec *spec)
{
	if (ops && ops->select)
		return ops->select(spec);
	return spec->map == IODMA_MAPPED ? &iodma_map_dma_ops : &iodma_map_phys_ops;
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

/* Bumped when memory is hot-added: what a device's mask limits may change. */
static atomic_t dev_limits_gen = ATOMIC_INIT(0);

/*
 * iodma_dev_limits_changed() - memory came or went: every command reads its
 * device's limits again at its next first prepare (pool.c's notifier).
 *
 * Context: Any context.
 */
void iodma_dev_limits_changed(void)
{
	atomic_inc(&dev_limits_gen);
}
EXPORT_SYMBOL_IF_KUNIT(iodma_dev_limits_changed);

/*
 * The limits the command caches from its device -- its reach and the
 * view's largest mapping -- follow from the DMA mask, the bus limit and
 * the memory present: a driver may change its mask after creating the
 * command.  Comparing those three is all a prepare costs while nothing
 * changed.
 */
static noinline void read_dev_limits(struct iodma_cmd *cmd)
{
	cmd->seen = (struct iodma_dev_seen){
		.mask = dma_get_mask(cmd->dev),
		.bus_limit = cmd->dev->bus_dma_limit,
		.gen = atomic_read(&dev_limits_gen),
		.valid = true,
	};
	cmd->lim.addr_limit = cmd->ops->reach(cmd);
	iodma_view_refresh(&cmd->view);
}

static __always_inline void refresh_dev_limits(struct iodma_cmd *cmd)
{
	struct device *dev = cmd->dev;

	if (unlikely(!cmd->seen.valid || cmd->seen.mask != dma_get_mask(dev) ||
		     cmd->seen.bus_limit != dev->bus_dma_limit ||
		     cmd->seen.gen != atomic_read(&dev_limits_gen)))
		read_dev_limits(cmd);
}

/*
 * The device's cached limits, read again if the device changed, for a
 * command that is not prepared (a prepared range keeps the limits it was
 * prepared under).
 */
void iodma_cmd_refresh_limits(struct iodma_cmd *cmd)
{
	if (!cmd->prepared)
		refresh_dev_limits(cmd);
}

/*
 * The specification and what follows from it: the normalised limits, the
 * device's reach (read again at a first prepare when the device changed:
 * refresh_dev_limits()), the backend and the view's rules.
 */
static void apply_spec(struct iodma_cmd *cmd, const struct iodma_spec *spec,
		       const struct iodma_limits *lim)
{
	cmd->spec = *spec;
	cmd->lim = *lim;
	cmd->spec_limit = lim->addr_limit;
	cmd->ops = ops_for(cmd->ops, spec);
	iodma_view_init(&cmd->view, cmd->dev, spec->map);
	cmd->seen.valid = false;
	refresh_dev_limits(cmd);
}

/*
 * iodma_cmd_alloc() - a command with the given backend: the DMA API's
 * (@domain and @ops NULL: chosen from the map type), or an owned IOMMU
 * domain's (map_domain.c).
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
	cmd->domain = domain;
	cmd->translated = iodma_dev_translated(dev);
	/*
	 * The command's own descriptor, ready for iodma_cmd_set_bvecs(): its
	 * one reference is the command's for the command's life, and it is
	 * unwired whenever it is not set, so that a request only fills in
	 * the entries, the direction and the length.
	 */
	iodma_md_setup_bvecs(&cmd->bvec_md, NULL, 0, DMA_NONE, 0);
	cmd->ops = ops;
	apply_spec(cmd, spec, &lim);
	if (cmd->ops->init) {
		ret = cmd->ops->init(cmd);
		if (ret) {
			iodma_md_put(&cmd->bvec_md);
			put_device(cmd->dev);
			kfree(cmd);
			return ERR_PTR(ret);
		}
	}
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
	/*
	 * Complete first: even when the descriptor must be leaked below, the
	 * device must not keep its mapping (nor the memory its pins).
	 */
	if (WARN_ON(cmd->prepared)) {
		while (cmd->prepared)
			iodma_cmd_complete(cmd, true, true);
	}
	/* its own descriptor still referenced elsewhere: leak rather than free it */
	if (WARN_ON_ONCE(iodma_cmd_clear_memory_descriptor(cmd, true) ||
			 kref_read(&cmd->bvec_md.ref) != 1))
		return;
	if (cmd->ops->release)
		cmd->ops->release(cmd);
	iodma_view_free(&cmd->view);
	iodma_bounce_drop(cmd);
	iodma_md_put(&cmd->bvec_md);
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
	       a->seg_boundary_mask == b->seg_boundary_mask &&
	       a->max_segments == b->max_segments &&
	       a->virt_boundary_mask == b->virt_boundary_mask && a->output == b->output &&
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
	if (!spec_equal(spec, &cmd->spec))
		iodma_bounce_drop(cmd);
	apply_spec(cmd, spec, &lim);
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
	if (!spec)
		spec = &cmd->spec;
	if (cmd->ops->clone)
		return cmd->ops->clone(cmd, spec);
	return iodma_cmd_create(cmd->dev, spec);
}
EXPORT_SYMBOL_GPL(iodma_cmd_clone);

/*
 * Can this command use @md at all?  Checked before anything changes.  For a
 * backend with an address space of its own (an owned domain), addresses the
 * DMA API made (a table mapped for the device, a copy buffer of the device)
 * belong to the default domain the device left: they mean nothing to it, or
 * another command's memory.
 */
static int examine_md(struct iodma_cmd *cmd, struct iodma_md *md)
{
	/* a command's own descriptor while not set: no request fills it in */
	if (md->embedded && md->dir == DMA_NONE)
		return -EINVAL;
	if (md->mapped_dev && md->mapped_dev != cmd->dev)
		return -EINVAL;
	if (cmd->ops->own_addresses &&
	    (md->mapped_dev || iodma_bounce_in_place(cmd, md) || iodma_md_has_dma_api_cbuf(md)))
		return -EOPNOTSUPP;
	return 0;
}

static void complete_all_prepares(struct iodma_cmd *cmd)
{
	while (cmd->prepared)
		iodma_cmd_complete(cmd, true, true);
}

/*
 * May the command let go of its descriptor?  Not of its own bvec
 * descriptor while someone else holds a reference to it (or wires it
 * beyond the command's own prepare): its memory is the command's, and its
 * entries the caller's array, which the caller may free once the
 * descriptor is cleared.
 */
static bool md_releasable(const struct iodma_cmd *cmd)
{
	return cmd->md != &cmd->bvec_md ||
	       (kref_read(&cmd->bvec_md.ref) == 1 &&
		atomic_read(&cmd->bvec_md.wire_count) <= !!cmd->prepared);
}

/*
 * The command lets go of its own descriptor (no one else references it:
 * md_releasable()): it describes nothing until the next request, so that a
 * stray pointer to it (a driver bug) is refused rather than read through
 * to a caller's array that may be gone -- see examine_md(), and a length
 * of 0 for a sub-range or a multi.
 */
static void own_md_forget(struct iodma_cmd *cmd)
{
	cmd->bvec_md.bvec.bv = NULL;
	cmd->bvec_md.bvec.n = 0;
	cmd->bvec_md.dir = DMA_NONE;
	cmd->bvec_md.length = 0;
}

static void set_md(struct iodma_cmd *cmd, struct iodma_md *md)
{
	struct iodma_md *old = cmd->md;

	cmd->md = md ? iodma_md_get(md) : NULL;
	cmd->md_bus = md && md->bus;
	/* the command's reference on its own descriptor is for its life */
	if (old && old != &cmd->bvec_md)
		iodma_md_put(old);
	else if (old)
		own_md_forget(cmd);
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
	if (cmd->prepared || !md_releasable(cmd))
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
 * Return: 0, -EINVAL for a NULL @cmd, a descriptor already mapped for
 * another device, or a command's own descriptor of iodma_cmd_set_bvecs()
 * while it is not set on that command, -EOPNOTSUPP for DMA API addresses (a mapped sg_table, a
 * copy buffer of the device) on a command of an owned IOMMU domain, -EBUSY
 * (see above, and while the descriptor set by iodma_cmd_set_bvecs() is
 * referenced elsewhere), or iodma_cmd_prepare()'s error.
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
 * iodma_cmd_set_bvecs() - bind a descriptor over a bio_vec array, without allocating
 * @cmd: the command
 * @bv: the entries, as for iodma_md_from_bvecs(), but used in place: the
 *	array must stay valid and unchanged until the descriptor is cleared
 *	(iodma_cmd_clear_memory_descriptor(), or the next descriptor set)
 * @n: entries in @bv
 * @dir: DMA direction of the I/O
 * @auto_prepare: prepare the whole descriptor as well
 *
 * The I/O path of a block driver: the descriptor is the command's own,
 * set up inside it for each request, so that with a pooled command
 * (whose view is reserved) iodma_pool_get(), this call,
 * iodma_cmd_prepare_nowait(), iodma_cmd_gen_segments(), complete, clear
 * and iodma_pool_put() allocate nothing, and complete, clear and put may
 * run in the device's interrupt handler.  It behaves as
 * iodma_cmd_set_memory_descriptor() with a new descriptor: -EBUSY while
 * prepared, the previous descriptor released, and with @auto_prepare a
 * failed prepare leaves no descriptor set.
 *
 * iodma_cmd_get_memory_descriptor() returns the command's descriptor; a
 * reference taken on it (iodma_md_get(), a sub-range, a multi, another
 * command) keeps the command from letting it go: until it is dropped,
 * clearing or replacing the descriptor returns -EBUSY, and destroying the
 * command warns and leaks it.
 *
 * Context: Any context without @auto_prepare, on a command that has no
 * descriptor or one set by this call: it neither sleeps nor allocates (a
 * blk-mq queue_rq); releasing another descriptor or preparing may sleep.
 * Return: 0; -EINVAL for a NULL @cmd or as for iodma_md_from_bvecs()
 * (nothing changes); -EBUSY (see above; nothing changes); or
 * iodma_cmd_prepare()'s error.
 */
int iodma_cmd_set_bvecs(struct iodma_cmd *cmd, const struct bio_vec *bv, unsigned int n,
			enum dma_data_direction dir, bool auto_prepare)
{
	u64 len;
	int ret;

	might_sleep_if(auto_prepare);
	if (!cmd)
		return -EINVAL;
	/* every check before the old descriptor goes: a refusal changes nothing */
	ret = iodma_bvecs_length(bv, n, dir, &len);
	/* nor while a stray reference holds the unset own descriptor (a driver bug) */
	if (!ret && (cmd->prepared || !md_releasable(cmd) ||
		     kref_read(&cmd->bvec_md.ref) != 1))
		ret = -EBUSY;
	if (!ret) {
		if (cmd->md)
			set_md(cmd, NULL);
		/* the rest is set once, at creation (iodma_cmd_alloc()) */
		cmd->bvec_md.bvec.bv = bv;
		cmd->bvec_md.bvec.n = n;
		cmd->bvec_md.dir = dir;
		cmd->bvec_md.length = len;
		cmd->md = &cmd->bvec_md;
		cmd->md_bus = false;
		if (auto_prepare) {
			ret = iodma_cmd_prepare(cmd, 0, 0, true, true);
			if (ret)
				set_md(cmd, NULL);
		}
	}
	trace_iodma_set_md(cmd, ret ? 0 : cmd->md->length, dir, auto_prepare, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(iodma_cmd_set_bvecs);

/**
 * iodma_cmd_clear_memory_descriptor() - unbind a command's descriptor
 * @cmd: the command
 * @auto_complete: complete every outstanding prepare first
 *
 * Context: Process context; may sleep.  Any context (does not sleep) for
 * the descriptor iodma_cmd_set_bvecs() set, unless @auto_complete has to
 * complete a range not prepared with iodma_cmd_prepare_nowait().
 * Return: 0, -EINVAL for a NULL @cmd, -EBUSY if prepared and not
 * @auto_complete, or while the descriptor set by iodma_cmd_set_bvecs() is
 * referenced elsewhere (nothing changes).
 */
int iodma_cmd_clear_memory_descriptor(struct iodma_cmd *cmd, bool auto_complete)
{
	if (!cmd)
		return -EINVAL;
	might_sleep_if(cmd->md != &cmd->bvec_md || (cmd->prepared && !cmd->prep_nowait));
	if (!md_releasable(cmd))
		return -EBUSY;
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

static unsigned long sync_attrs(bool sync)
{
	return sync ? 0 : DMA_ATTR_SKIP_CPU_SYNC;
}

/* Resolve a length of 0 and check that [offset, offset + length) lies in @md. */
static int md_range(const struct iodma_md *md, u64 *offset, u64 *length)
{
	u64 end;

	if (!*length) {
		if (*offset >= md->length)
			return -EINVAL;
		*length = md->length - *offset;
	}
	if (check_add_overflow(*offset, *length, &end) || end > md->length)
		return -EINVAL;
	return 0;
}

/* The specification's rules for a transfer of @length bytes. */
static int transfer_ok(const struct iodma_cmd *cmd, u64 length)
{
	if (length > cmd->lim.max_transfer)
		return -ENOSPC;
	if (length & (cmd->lim.len_align - 1))
		return -EINVAL;
	return 0;
}

/**
 * iodma_cmd_check_range() - may @cmd prepare this range of @md?
 * @cmd: the command
 * @md: the descriptor
 * @offset: first byte in @md
 * @length: bytes; 0 for the rest of @md (then set to that)
 *
 * Return: 0; -EINVAL for a range outside @md or wrapping, or a length that
 * is not a multiple of length_alignment; -ENOSPC above max_transfer_size.
 */
int iodma_cmd_check_range(const struct iodma_cmd *cmd, const struct iodma_md *md, u64 *offset,
			  u64 *length)
{
	int ret = md_range(md, offset, length);

	return ret ? ret : transfer_ok(cmd, *length);
}

/*
 * Map the view with the backend, or bounce it: the preflight decides before
 * mapping, the postflight after (then the mapping is dropped unused).  A
 * range that needs more than max_segments segments bounces, unless its
 * memory cannot be copied or a window is being fitted (@fit non-NULL): then
 * -E2BIG, and *@fit is the bytes from the start that do fit.
 */
static int map_or_bounce(struct iodma_cmd *cmd, bool flush_cache, bool synchronize, gfp_t gfp,
			 u64 *fit)
{
	u64 fits = 0;
	enum iodma_bounce_reason reason = iodma_bounce_preflight(cmd, &fits);
	int ret;

	if (!reason) {
		ret = cmd->ops->map(cmd, sync_attrs(flush_cache || synchronize), gfp);
		if (ret)
			return ret;
		reason = iodma_bounce_postflight(cmd, &fits);
		if (!reason)
			return 0;
		/* unmap without copying back: nothing was written yet */
		cmd->ops->unmap(cmd, DMA_ATTR_SKIP_CPU_SYNC);
	}
	if (reason == IODMA_BOUNCE_SEGMENTS &&
	    (fit || !iodma_bounce_possible(cmd, cmd->md, cmd->in_place))) {
		ret = -E2BIG;
	} else if (cmd->prep_len > iodma_bounce_max_len(cmd, fit ? IODMA_CBUF_MAX_ORDER :
								     MAX_PAGE_ORDER)) {
		/*
		 * No copy buffer carries the range in max_segments segments (a
		 * window: none of the chunks iodma finds easily).
		 */
		fits = iodma_bounce_max_len(cmd, IODMA_CBUF_MAX_ORDER);
		ret = -E2BIG;
	} else {
		ret = iodma_bounce_reserve(cmd, cmd->prep_len, gfp);
		if (!ret)
			ret = iodma_bounce_start(cmd, reason, synchronize, gfp, &fits);
	}
	if (ret == -E2BIG && fit)
		*fit = fits;
	return ret;
}

static int __prepare(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
		     bool synchronize, gfp_t gfp, u64 *fit)
{
	int ret;

	if (!cmd->md)
		return -ENODATA;
	ret = md_range(cmd->md, &offset, &length);
	if (ret)
		return ret;
	if (cmd->prepared) {
		if (offset != cmd->prep_off || length != cmd->prep_len)
			return -EBUSY;
		cmd->prepared++;
		return 0;
	}
	ret = transfer_ok(cmd, length);
	if (ret)
		return ret;
	if (cmd->ops->usable) {
		ret = cmd->ops->usable(cmd->dev);
		if (ret)
			return ret;
	}
	refresh_dev_limits(cmd);
	ret = iodma_md_wire_io(cmd->md, gfp);
	if (ret)
		return ret;
	cmd->in_place = iodma_bounce_in_place(cmd, cmd->md);
	ret = iodma_view_build(&cmd->view, cmd->md, offset, length, cmd->in_place, gfp);
	if (ret)
		goto err_unwire;
	cmd->prep_off = offset;
	cmd->prep_len = length;
	ret = map_or_bounce(cmd, flush_cache, synchronize, gfp, fit);
	if (ret)
		goto err_unwire;
	cmd->prepared = 1;
	cmd->stats.prepares++;
	iodma_cursor_reset(&cmd->cur, &cmd->view);
	return 0;

err_unwire:
	cmd->view.src = IODMA_SRC_NONE;
	cmd->in_place = false;
	iodma_md_unwire_io(cmd->md, gfp);
	return ret;
}

/* Inline in both prepares: one call less on every I/O. */
static __always_inline int prepare_counted(struct iodma_cmd *cmd, u64 offset, u64 length,
					   bool flush_cache, bool synchronize, gfp_t gfp)
{
	int ret = __prepare(cmd, offset, length, flush_cache, synchronize, gfp, NULL);

	if (ret)
		iodma_cmd_count_error(cmd, ret);
	else if (!gfpflags_allow_blocking(gfp))
		cmd->prep_nowait = true;
	trace_iodma_prepare(cmd, ret ? offset : cmd->prep_off, ret ? length : cmd->prep_len,
			    cmd->md ? cmd->md->dir : DMA_NONE, ret ? 0 : cmd->view.src_n,
			    cmd->bounce, ret);
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
 * the device's DMA mask, an alignment, length or gap rule, more segments
 * than max_segments) and the command can
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
 * a needed copy buffer cannot be allocated); -E2BIG when the range needs
 * more than max_segments segments and neither the memory nor a copy buffer
 * can carry it in that many (see iodma_cmd_prepare_window()); for a command
 * of a pool with a copy-buffer budget, -ENOBUFS when the copy buffer alone
 * would exceed the budget and -EINTR on a fatal signal while waiting for it
 * (see iodma_pool_set_bounce_budget()).  Any failure leaves the command
 * unprepared (or, when nested, as it was).
 */
int iodma_cmd_prepare(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
		      bool synchronize)
{
	might_sleep();
	if (!cmd)
		return -EINVAL;
	return prepare_counted(cmd, offset, length, flush_cache, synchronize, GFP_KERNEL);
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
 * array or copy buffer, wait for a pool's copy-buffer budget), this returns
 * -EAGAIN and changes nothing.  Commands of a pool (iodma_pool_create()) are
 * preallocated for max_transfer_size, so their I/Os up to that size in
 * page-sized pieces do not need to (with a budget, while an idle copy
 * buffer is left).
 *
 * The range so prepared may be completed in any context too
 * (iodma_cmd_complete()).
 *
 * Context: Any context; does not sleep.
 * Return: as for iodma_cmd_prepare(), and -EAGAIN (see above).
 */
int iodma_cmd_prepare_nowait(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
			     bool synchronize)
{
	if (!cmd)
		return -EINVAL;
	return prepare_counted(cmd, offset, length, flush_cache, synchronize, GFP_ATOMIC);
}
EXPORT_SYMBOL_GPL(iodma_cmd_prepare_nowait);

/* A window's tries: each is shorter than the last; two suffice but where an IOMMU remaps. */
#define IODMA_WINDOW_TRIES	8

static int prepare_window(struct iodma_cmd *cmd, u64 offset, u64 *length)
{
	const struct iodma_limits *lim = &cmd->lim;
	u64 rest, len, fit = 0;
	unsigned int tries;
	int ret = -E2BIG;

	if (!cmd->md)
		return -ENODATA;
	if (cmd->prepared)
		return -EBUSY;
	if (offset >= cmd->md->length)
		return -EINVAL;
	rest = cmd->md->length - offset;
	len = *length ? min(*length, rest) : rest;
	len = round_down(min(len, lim->max_transfer), lim->len_align);
	if (!len)
		return -EINVAL;
	for (tries = 0; tries < IODMA_WINDOW_TRIES; tries++) {
		ret = __prepare(cmd, offset, len, true, true, GFP_KERNEL, &fit);
		if (ret != -E2BIG)
			break;
		fit = round_down(fit, lim->len_align);
		if (!fit || fit >= len)
			break;
		len = fit;
	}
	if (!ret)
		*length = len;
	return ret;
}

/**
 * iodma_cmd_prepare_window() - prepare the longest range from @offset that fits every limit
 * @cmd: the command, with a descriptor set and not prepared
 * @offset: first byte in the descriptor
 * @length: in: the most bytes wanted, 0 for the rest of the descriptor;
 *	out: the bytes prepared
 *
 * A transfer window (KMDF's automatic transfer splitting): the range from
 * @offset is shortened to max_transfer_size, to a multiple of
 * length_alignment, to the bytes that max_segments segments of the memory
 * hold and, when the range bounces, to what a copy buffer carries in
 * max_segments segments; then it is prepared as by iodma_cmd_prepare()
 * with @flush_cache and @synchronize set.  A driver moves through a
 * descriptor of any size with::
 *
 *	for (off = 0; off < iodma_md_length(md); off += len) {
 *		len = 0;
 *		ret = iodma_cmd_prepare_window(cmd, off, &len);
 *		... iodma_cmd_gen_segments(), run the device ...
 *		iodma_cmd_complete(cmd, true, true);
 *	}
 *
 * The windows tile the descriptor exactly; only the last may be shorter
 * than the limits allow.
 *
 * Context: Process context; may sleep.
 * Return: 0; -EINVAL for a NULL argument, @offset at or past the end of the
 * descriptor, or fewer than length_alignment bytes left; -ENODATA without
 * a descriptor; -EBUSY if prepared; -E2BIG when not even one length unit
 * fits max_segments segments; else as for iodma_cmd_prepare().  On error
 * *@length and the command are unchanged.
 */
int iodma_cmd_prepare_window(struct iodma_cmd *cmd, u64 offset, u64 *length)
{
	u64 len;
	int ret;

	might_sleep();
	if (!cmd || !length)
		return -EINVAL;
	len = *length;
	ret = prepare_window(cmd, offset, &len);
	if (ret)
		iodma_cmd_count_error(cmd, ret);
	else
		*length = len;
	trace_iodma_prepare(cmd, offset, ret ? *length : len, cmd->md ? cmd->md->dir : DMA_NONE,
			    ret ? 0 : cmd->view.src_n, cmd->bounce, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(iodma_cmd_prepare_window);

/* The body of both completes, inline in each: one call less on every I/O. */
static __always_inline int complete_partial(struct iodma_cmd *cmd, u64 done,
					    bool invalidate_cache, bool synchronize)
{
	bool sync = invalidate_cache || synchronize;

	if (!cmd)
		return -EINVAL;
	might_sleep_if(!cmd->prep_nowait);
	if (!cmd->prepared)
		return -ENODATA;
	if (done > cmd->prep_len)
		return -EINVAL;
	trace_iodma_complete(cmd, cmd->prep_len, cmd->bounce, 0);
	if (--cmd->prepared)
		return 0;
	if (cmd->bounce) {
		iodma_bounce_end(cmd, synchronize, done);
	} else if (done == cmd->prep_len || !sync) {
		cmd->ops->unmap(cmd, sync_attrs(sync));
	} else {
		/* the DMA API's unmap would sync (copy back) the whole range */
		if (done)
			cmd->ops->sync(cmd, false, 0, done);
		cmd->ops->unmap(cmd, DMA_ATTR_SKIP_CPU_SYNC);
	}
	iodma_md_unwire_io(cmd->md, cmd->prep_nowait ? GFP_ATOMIC : GFP_KERNEL);
	cmd->prep_nowait = false;
	cmd->force_bounce = false;
	cmd->in_place = false;
	cmd->view.src = IODMA_SRC_NONE;
	cmd->cur.valid = false;
	return 0;
}

/**
 * iodma_cmd_complete_partial() - undo one prepare after a short transfer
 * @cmd: the command
 * @done: bytes the device transferred, from the start of the prepared range
 * @invalidate_cache: make device writes visible to the CPU (dma_sync for cpu)
 * @synchronize: copy out of the copy buffer when bouncing (implies
 *	@invalidate_cache)
 *
 * As iodma_cmd_complete(), but only the first @done bytes are synced for the
 * CPU or copied out of the copy buffer (or of the DMA API's own bounce
 * slot): the rest of the descriptor's memory is left exactly as it was
 * before the I/O, whatever the device left in the copy buffer there (a
 * short read, an aborted command).  Only the last complete of a nest looks
 * at @done.
 *
 * Context: Process context; may sleep.  Any context (does not sleep) when
 * the range was prepared with iodma_cmd_prepare_nowait(): a last unpin of
 * user memory then goes to a worker.
 * Return: 0, -EINVAL for a NULL @cmd or @done beyond the prepared range,
 * -ENODATA if not prepared.
 */
int iodma_cmd_complete_partial(struct iodma_cmd *cmd, u64 done, bool invalidate_cache,
			       bool synchronize)
{
	return complete_partial(cmd, done, invalidate_cache, synchronize);
}
EXPORT_SYMBOL_GPL(iodma_cmd_complete_partial);

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
 * Context: Process context; may sleep.  Any context (does not sleep) when
 * the range was prepared with iodma_cmd_prepare_nowait(): the interrupt
 * handler of a driver that prepared in atomic context completes there too.
 * Return: 0, -EINVAL for a NULL @cmd, -ENODATA if not prepared.
 */
int iodma_cmd_complete(struct iodma_cmd *cmd, bool invalidate_cache, bool synchronize)
{
	return complete_partial(cmd, cmd ? cmd->prep_len : 0, invalidate_cache, synchronize);
}
EXPORT_SYMBOL_GPL(iodma_cmd_complete);

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

