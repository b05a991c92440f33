/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iodma: the IOKit IODMACommand model for Linux drivers.
 *
 * A memory descriptor (struct iodma_md) says which memory takes part in an
 * I/O.  A specification (struct iodma_spec) says what the device accepts.
 * A command (struct iodma_cmd) binds a device and a specification and is
 * reused for a succession of descriptors:
 *
 *	iodma_cmd_set_memory_descriptor()  bind a descriptor
 *	iodma_cmd_prepare()                pin, map, bounce if needed
 *	iodma_cmd_gen_segments()           the addresses the device is given
 *	iodma_cmd_complete()               sync back, unmap, unpin
 *
 * This is the only header other modules include.  See
 * Documentation/api.rst for the whole contract.
 */
#ifndef _LINUX_IODMA_H
#define _LINUX_IODMA_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/dma-direction.h>
#include <linux/gfp_types.h>

struct bio_vec;
struct device;
struct iov_iter;
struct page;
struct sg_table;

struct iodma_md;
struct iodma_cmd;
struct iodma_domain;
struct iodma_pool;

/**
 * enum iodma_output - how iodma_cmd_gen_segments() writes a segment
 * @IODMA_OUT_HOST32: struct iodma_seg32, CPU byte order
 * @IODMA_OUT_BIG32: struct iodma_seg32_be, big-endian
 * @IODMA_OUT_LITTLE32: struct iodma_seg32_le, little-endian
 * @IODMA_OUT_HOST64: struct iodma_seg64, CPU byte order
 * @IODMA_OUT_BIG64: struct iodma_seg64_be, big-endian
 * @IODMA_OUT_LITTLE64: struct iodma_seg64_le, little-endian
 */
enum iodma_output {
	IODMA_OUT_HOST32,
	IODMA_OUT_BIG32,
	IODMA_OUT_LITTLE32,
	IODMA_OUT_HOST64,
	IODMA_OUT_BIG64,
	IODMA_OUT_LITTLE64,
};

/**
 * enum iodma_map_type - where emitted addresses come from
 * @IODMA_MAPPED: the device's DMA mapping (DMA API or an owned IOMMU domain)
 * @IODMA_BYPASSED: CPU physical (bus) addresses, no IOMMU translation
 * @IODMA_ITERATE_ONLY: CPU physical addresses, no mapping, no bouncing
 */
enum iodma_map_type {
	IODMA_MAPPED,
	IODMA_BYPASSED,
	IODMA_ITERATE_ONLY,
};

/* struct iodma_spec.flags */
/* the device does not snoop CPU caches: IODMA_BYPASSED is refused */
#define IODMA_NONCOHERENT	BIT(0)
#define IODMA_SPEC_FLAGS_ALL	(IODMA_NONCOHERENT)

/**
 * struct iodma_spec - what a device can accept
 * @addr_bits: emitted address + length fit below 2^addr_bits; 0 means 32
 *	for a 32-bit output and 64 otherwise
 * @max_segment_size: longest segment, 0 = no limit
 * @max_transfer_size: longest prepared range, 0 = no limit
 * @alignment: address alignment of the first segment (power of two, 0 = 1)
 * @length_alignment: segment and transfer lengths are a multiple of it
 *	(power of two, 0 = 1)
 * @internal_alignment: address alignment of later segments (power of two,
 *	0 = @alignment)
 * @seg_boundary_mask: segments never cross a (mask + 1) boundary, 0 = none
 * @max_segments: the most segments one prepared range may have (an SG
 *	table's or PRP list's capacity), 0 = no limit
 * @virt_boundary_mask: the gap rule, 0 = none: every segment but the first
 *	starts on a (mask + 1) boundary and every segment but the last ends on
 *	one (the block layer's virt_boundary_mask; NVMe PRPs)
 * @output: segment format written by iodma_cmd_gen_segments()
 * @map: address source
 * @flags: IODMA_NONCOHERENT
 */
struct iodma_spec {
	u8 addr_bits;
	u64 max_segment_size;
	u64 max_transfer_size;
	u32 alignment;
	u32 length_alignment;
	u32 internal_alignment;
	u64 seg_boundary_mask;
	u32 max_segments;
	u64 virt_boundary_mask;
	enum iodma_output output;
	enum iodma_map_type map;
	u32 flags;
};

/**
 * struct iodma_seg32 - a 32-bit segment, in CPU byte order
 * @addr: bus address of the first byte
 * @len: length in bytes
 */
struct iodma_seg32 {
	u32 addr;
	u32 len;
};

/**
 * struct iodma_seg64 - a 64-bit segment, in CPU byte order
 * @addr: bus address of the first byte
 * @len: length in bytes
 */
struct iodma_seg64 {
	u64 addr;
	u64 len;
};

/**
 * struct iodma_seg32_be - a 32-bit segment, big-endian
 * @addr: bus address of the first byte
 * @len: length in bytes
 */
struct iodma_seg32_be {
	__be32 addr;
	__be32 len;
};

/**
 * struct iodma_seg32_le - a 32-bit segment, little-endian
 * @addr: bus address of the first byte
 * @len: length in bytes
 */
struct iodma_seg32_le {
	__le32 addr;
	__le32 len;
};

/**
 * struct iodma_seg64_be - a 64-bit segment, big-endian
 * @addr: bus address of the first byte
 * @len: length in bytes
 */
struct iodma_seg64_be {
	__be64 addr;
	__be64 len;
};

/**
 * struct iodma_seg64_le - a 64-bit segment, little-endian
 * @addr: bus address of the first byte
 * @len: length in bytes
 */
struct iodma_seg64_le {
	__le64 addr;
	__le64 len;
};

/**
 * struct iodma_phys_range - a bus/physical range for iodma_md_from_phys()
 * @addr: first byte
 * @len: length in bytes
 */
struct iodma_phys_range {
	phys_addr_t addr;
	u64 len;
};

/**
 * enum iodma_bounce_reason - why a prepared range goes through a copy buffer
 * @IODMA_BOUNCE_NONE: it does not
 * @IODMA_BOUNCE_ADDRESS: an address is beyond addr_bits or the device's reach
 * @IODMA_BOUNCE_ALIGNMENT: the first segment's address breaks alignment
 * @IODMA_BOUNCE_LENGTH: a segment cannot be cut to a multiple of length_alignment
 * @IODMA_BOUNCE_INTERNAL: a later segment's address breaks internal_alignment
 * @IODMA_BOUNCE_FORCED: IODMA_FORCE_DOUBLE_BUFFER
 * @IODMA_BOUNCE_SEGMENTS: the range needs more segments than max_segments
 * @IODMA_BOUNCE_GAPS: a segment breaks virt_boundary_mask
 */
enum iodma_bounce_reason {
	IODMA_BOUNCE_NONE,
	IODMA_BOUNCE_ADDRESS,
	IODMA_BOUNCE_ALIGNMENT,
	IODMA_BOUNCE_LENGTH,
	IODMA_BOUNCE_INTERNAL,
	IODMA_BOUNCE_FORCED,
	IODMA_BOUNCE_SEGMENTS,
	IODMA_BOUNCE_GAPS,
};

/**
 * struct iodma_cmd_stats - what a command has done since it was created
 * @prepares: first (not nested) prepares
 * @bounces: prepares that went through the copy buffer
 * @bytes_bounced: bytes copied into and out of the copy buffer
 */
struct iodma_cmd_stats {
	u64 prepares;
	u64 bounces;
	u64 bytes_bounced;
};

/**
 * struct iodma_explain - what iodma_cmd_explain() foresees for a range
 * @reason: why the range would go through the copy buffer (IODMA_BOUNCE_NONE:
 *	it would not); for a command that cannot bounce, the rule
 *	iodma_cmd_gen_segments() would report (IODMA_BOUNCE_SEGMENTS: prepare
 *	would return -E2BIG)
 * @bad_offset: offset in the range of the first segment breaking @reason
 *	(IODMA_BOUNCE_SEGMENTS: the bytes that max_segments segments hold)
 * @nsegs: segments iodma_cmd_gen_segments() would emit for the range (for a
 *	bounce, those of the copy buffer)
 * @nsegs_estimated: @nsegs assumes a contiguous copy buffer not allocated yet
 * @translated: the device's addresses come from an IOMMU, which the answer
 *	cannot see: only offsets and lengths were checked
 */
struct iodma_explain {
	enum iodma_bounce_reason reason;
	u64 bad_offset;
	u64 nsegs;
	bool nsegs_estimated;
	bool translated;
};

/*
 * The most pages one user descriptor may span: it is pinned whole, into one
 * array of page pointers (pin_user_pages*() count in an int).
 */
#define IODMA_USER_MAX_PAGES	BIT(18)

/* iodma_cmd_synchronize() options */
#define IODMA_SYNC_FOR_DEVICE		BIT(0)
#define IODMA_SYNC_FOR_CPU		BIT(1)
#define IODMA_FORCE_DOUBLE_BUFFER	BIT(2)

/* Specifications */
int iodma_spec_validate(const struct iodma_spec *spec);

/* Memory descriptors */
struct iodma_md *iodma_md_from_kva(void *addr, size_t len, enum dma_data_direction dir);
struct iodma_md *iodma_md_from_pages(struct page **pages, unsigned int npages, size_t offset,
				     size_t len, enum dma_data_direction dir);
struct iodma_md *iodma_md_from_user(unsigned long uaddr, size_t len,
				    enum dma_data_direction dir);
struct iodma_md *iodma_md_from_sgtable(struct sg_table *sgt, enum dma_data_direction dir);
struct iodma_md *iodma_md_from_mapped_sgtable(struct device *dev, struct sg_table *sgt,
					      enum dma_data_direction dir);
struct iodma_md *iodma_md_from_phys(const struct iodma_phys_range *ranges, unsigned int n,
				    enum dma_data_direction dir);
struct iodma_md *iodma_md_subrange(struct iodma_md *parent, u64 offset, u64 len);
struct iodma_md *iodma_md_multi(struct iodma_md **mds, unsigned int n,
				enum dma_data_direction dir);
struct iodma_md *iodma_md_get(struct iodma_md *md);
void iodma_md_put(struct iodma_md *md);
int iodma_md_prepare(struct iodma_md *md);
int iodma_md_complete(struct iodma_md *md);
u64 iodma_md_length(const struct iodma_md *md);
enum dma_data_direction iodma_md_direction(const struct iodma_md *md);
u64 iodma_md_read_bytes(struct iodma_md *md, u64 offset, void *buf, u64 len);
u64 iodma_md_write_bytes(struct iodma_md *md, u64 offset, const void *buf, u64 len);

/* The kernel's own I/O descriptors */
struct iodma_md *iodma_md_from_bvecs(const struct bio_vec *bv, unsigned int n,
				     enum dma_data_direction dir);
struct iodma_md *iodma_md_from_iter(struct iov_iter *iter, size_t len,
				    enum dma_data_direction dir);
int iodma_cmd_set_bvecs(struct iodma_cmd *cmd, const struct bio_vec *bv, unsigned int n,
			enum dma_data_direction dir, bool auto_prepare);

/* Commands */
struct iodma_cmd *iodma_cmd_create(struct device *dev, const struct iodma_spec *spec);
void iodma_cmd_destroy(struct iodma_cmd *cmd);
int iodma_cmd_set_spec(struct iodma_cmd *cmd, const struct iodma_spec *spec);
void iodma_cmd_get_spec(const struct iodma_cmd *cmd, struct iodma_spec *spec);
struct device *iodma_cmd_device(const struct iodma_cmd *cmd);
struct iodma_cmd *iodma_cmd_clone(struct iodma_cmd *cmd, const struct iodma_spec *spec);
int iodma_cmd_set_memory_descriptor(struct iodma_cmd *cmd, struct iodma_md *md,
				    bool auto_prepare);
int iodma_cmd_clear_memory_descriptor(struct iodma_cmd *cmd, bool auto_complete);
struct iodma_md *iodma_cmd_get_memory_descriptor(const struct iodma_cmd *cmd);
struct iodma_md *iodma_cmd_get_io_memory_descriptor(const struct iodma_cmd *cmd);
int iodma_cmd_prepare(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
		      bool synchronize);
int iodma_cmd_prepare_nowait(struct iodma_cmd *cmd, u64 offset, u64 length, bool flush_cache,
			     bool synchronize);
int iodma_cmd_prepare_window(struct iodma_cmd *cmd, u64 offset, u64 *length);
int iodma_cmd_complete(struct iodma_cmd *cmd, bool invalidate_cache, bool synchronize);
int iodma_cmd_complete_partial(struct iodma_cmd *cmd, u64 done, bool invalidate_cache,
			       bool synchronize);
int iodma_cmd_synchronize(struct iodma_cmd *cmd, u32 options);
int iodma_cmd_synchronize_range(struct iodma_cmd *cmd, u32 options, u64 offset, u64 length);
int iodma_cmd_get_prepared_offset_and_length(const struct iodma_cmd *cmd, u64 *offset,
					     u64 *length);
int iodma_cmd_gen_segments(struct iodma_cmd *cmd, u64 *offset, void *segs, u32 *nsegs);
int iodma_cmd_gen32_segments(struct iodma_cmd *cmd, u64 *offset, struct iodma_seg32 *segs,
			     u32 *nsegs);
int iodma_cmd_gen64_segments(struct iodma_cmd *cmd, u64 *offset, struct iodma_seg64 *segs,
			     u32 *nsegs);
u64 iodma_cmd_read_bytes(struct iodma_cmd *cmd, u64 offset, void *buf, u64 len);
u64 iodma_cmd_write_bytes(struct iodma_cmd *cmd, u64 offset, const void *buf, u64 len);
struct iodma_md *iodma_cmd_create_copy_buffer(struct iodma_cmd *cmd,
					      enum dma_data_direction dir, u64 length);
enum iodma_bounce_reason iodma_cmd_bounce_reason(const struct iodma_cmd *cmd);
int iodma_cmd_explain(struct iodma_cmd *cmd, struct iodma_md *md, u64 offset, u64 length,
		      struct iodma_explain *ex);
const char *iodma_bounce_reason_name(enum iodma_bounce_reason reason);
void iodma_cmd_get_stats(const struct iodma_cmd *cmd, struct iodma_cmd_stats *stats);
/* Pools */
struct iodma_pool *iodma_pool_create(struct device *dev, const struct iodma_spec *spec,
				     unsigned int count, const char *name);
struct iodma_cmd *iodma_pool_get(struct iodma_pool *pool, gfp_t gfp);
int iodma_pool_put(struct iodma_pool *pool, struct iodma_cmd *cmd);
void iodma_pool_destroy(struct iodma_pool *pool);
int iodma_pool_set_bounce_budget(struct iodma_pool *pool, u64 bytes);

/* Owned IOMMU domains */
struct iodma_domain *iodma_domain_create(struct device *dev);
void iodma_domain_destroy(struct iodma_domain *domain);
struct iodma_cmd *iodma_cmd_create_in_domain(struct iodma_domain *domain,
					     const struct iodma_spec *spec);
struct iodma_pool *iodma_pool_create_in_domain(struct iodma_domain *domain,
					       const struct iodma_spec *spec,
					       unsigned int count, const char *name);

/* The module's version string, "major.minor.patch". */
const char *iodma_version(void);

#endif /* _LINUX_IODMA_H */
