/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iodma internals shared by the files of the module and its KUnit suites.
 *
 * md.c      memory descriptors and their chunk walk
 * spec.c    the one place that knows the specification rules
 * cmd.c     the command state machine (set, prepare, complete, sync)
 * segments.c the segment cursor and the output formats
 * map_*.c   backends: the DMA API, an owned IOMMU domain, physical
 *           (bypassed / iterate-only)
 * domain.c  owned IOMMU domains and their IOVA space
 */
#ifndef _IODMA_INTERNAL_H
#define _IODMA_INTERNAL_H

#include <linux/iodma.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/scatterlist.h>
#include <linux/dma-mapping.h>
#include <linux/iova.h>
#include <kunit/visibility.h>
#include "iodma_compat.h"

#define IODMA_VERSION "0.1.0"

enum iodma_md_kind {
	IODMA_MD_KVA,
	IODMA_MD_VMALLOC,
	IODMA_MD_PAGES,
	IODMA_MD_USER,
	IODMA_MD_SGTABLE,
	IODMA_MD_MAPPED,
	IODMA_MD_PHYS,
	IODMA_MD_SUBRANGE,
	IODMA_MD_MULTI,
	IODMA_MD_COPYBUF,
};

/*
 * One chunk of a copy buffer: 2^order pages and their bus address, from
 * dma_alloc_pages() (@dma_alloc) or from a zone below the limit.
 */
struct iodma_cbuf_chunk {
	struct page *page;
	unsigned int order;
	bool dma_alloc;
	dma_addr_t dma;
};

/*
 * Copy-buffer memory (bounce.c).  With @dev (MAPPED commands), @dma is the
 * chunks' bus address for it; without, their phys_to_dma() address.
 */
struct iodma_cbuf {
	struct device *dev;
	u64 size;
	unsigned int n;
	struct iodma_cbuf_chunk *chunks;
};

/*
 * A descriptor's memory is either CPU memory (pages the CPU can reach, mapped
 * by the command) or bus memory (addresses the device uses as they are, or
 * physical ranges without struct page).  A multi never mixes the two.
 */
struct iodma_md {
	struct kref ref;
	enum iodma_md_kind kind;
	enum dma_data_direction dir;
	bool bus;		/* bus memory: no struct page, no CPU access */
	struct device *mapped_dev;	/* mapped sg_tables: the device, else NULL */
	u64 length;
	struct mutex wire_lock;	/* serialises pinning and unpinning user memory */
	atomic_t wire_count;
	union {
		struct {
			void *addr;
		} kva;
		struct {
			struct page **pages;
			unsigned int npages;
			size_t offset;
		} pages;
		struct {
			unsigned long uaddr;
			struct mm_struct *mm;
			struct page **pages;	/* pinned while wired */
			unsigned long npages;
			/* a non-blocking rollback's last unpin (iodma_md_unwire()) */
			struct work_struct unwire_work;
			atomic_t deferred;	/* unwires the work still owes */
		} user;
		struct {
			struct sg_table *sgt;
		} sgt;
		struct {
			struct iodma_phys_range *ranges;
			unsigned int n;
		} phys;
		struct {
			struct iodma_md *parent;
			u64 offset;
		} sub;
		struct {
			struct iodma_md **mds;
			unsigned int n;
		} multi;
		struct iodma_cbuf cbuf;
	};
};

/*
 * One contiguous piece of a descriptor, as the walk yields it.  CPU memory
 * comes as (page, offset in page, len) with len possibly spanning several
 * physically contiguous pages; bus memory as (addr, len) with @mapped telling
 * whether @addr is already a device address.
 */
struct iodma_chunk {
	struct page *page;
	unsigned int pgoff;
	u64 len;
	u64 addr;
	bool mapped;
};

typedef int (*iodma_chunk_fn)(void *ctx, const struct iodma_chunk *chunk);

int iodma_md_walk(struct iodma_md *md, u64 offset, u64 len, iodma_chunk_fn fn, void *ctx);
int iodma_md_wire(struct iodma_md *md, bool nowait);
int iodma_md_unwire(struct iodma_md *md, bool nowait);
extern struct workqueue_struct *iodma_wq;
struct iodma_md *iodma_md_alloc(enum iodma_md_kind kind, enum dma_data_direction dir, u64 len);
bool iodma_dir_valid(enum dma_data_direction dir);
bool iodma_md_has_dma_api_cbuf(const struct iodma_md *md);
bool iodma_md_cpu_writable(const struct iodma_md *md);

/* A normalised, validated specification. */
struct iodma_limits {
	u64 addr_limit;		/* last reachable address (inclusive) */
	u64 max_seg;
	u64 max_transfer;
	u64 align;
	u64 len_align;
	u64 int_align;
	u64 boundary_mask;	/* 0 = none */
	bool out32;
};

int iodma_spec_normalize(const struct iodma_spec *spec, struct iodma_limits *lim);
int iodma_spec_check_device(const struct iodma_spec *spec, struct device *dev);
bool iodma_dev_translated(struct device *dev);
bool iodma_dev_dma_api(struct device *dev);

/* The addresses the device sees for the prepared range, in order. */
struct iodma_range {
	u64 addr;
	u64 len;
	bool ram;	/* mapped by the DMA API as pages, not as a resource */
};

/* Where the segment cursor reads bus ranges from. */
enum iodma_src_kind {
	IODMA_SRC_NONE,
	IODMA_SRC_SG_DMA,	/* sg_dma_address/sg_dma_len of mapped entries */
	IODMA_SRC_SG_PHYS,	/* phys_to_dma(sg_phys()) / length of CPU entries */
	IODMA_SRC_RANGES,	/* cmd->ranges */
};

struct iodma_cursor {
	u64 pos;		/* byte offset in the prepared range */
	struct scatterlist *sg;	/* current entry (SG sources) */
	unsigned int idx;	/* current entry index */
	u64 in;			/* bytes of the current entry already consumed */
	bool valid;
};

struct iodma_cmd;

#define IODMA_NR_ERRNOS	11	/* ten counted errnos, the last slot for any other */

/*
 * A mapping backend.  map() makes cmd->src describe the bus addresses of the
 * prepared range (built in cmd->sgt or cmd->ranges by cmd.c), unmap() undoes
 * it, sync() does the cache/bounce maintenance of the DMA API.
 */
struct iodma_map_ops {
	int (*map)(struct iodma_cmd *cmd, unsigned long attrs);
	void (*unmap)(struct iodma_cmd *cmd, unsigned long attrs);
	void (*sync)(struct iodma_cmd *cmd, bool for_device);
	/* optional: free what the backend keeps per command (cmd->backend) */
	void (*release)(struct iodma_cmd *cmd);
	/* optional: set aside what prepares up to @max_len need, for the command's life */
	int (*reserve)(struct iodma_cmd *cmd, u64 max_len);
};

extern const struct iodma_map_ops iodma_map_dma_ops;
extern const struct iodma_map_ops iodma_map_phys_ops;
extern const struct iodma_map_ops iodma_map_domain_ops;
int iodma_domain_map_bounce(struct iodma_cmd *cmd);

/*
 * An owned IOMMU domain (domain.c): the device's group attached to a private
 * paging domain, and the IOVA space iodma hands out in it.  Commands hold a
 * reference, so the page tables outlive iodma_domain_destroy() until the
 * last command is gone.
 */
struct iodma_domain {
	struct kref ref;
	struct device *dev;
	struct iommu_group *group;
	struct iommu_domain *domain;
	struct iova_domain iovad;
	unsigned long last_pfn;		/* last page of the aperture */
	bool attached;			/* the device uses the domain */
};

unsigned long iodma_domain_alloc_iova(struct iodma_domain *d, unsigned long pages, u64 limit);
void iodma_domain_free_iova(struct iodma_domain *d, unsigned long pfn, unsigned long pages);
void iodma_domain_put(struct iodma_domain *d);
int iodma_map_domain_init(struct iodma_cmd *cmd);

struct iodma_cmd {
	struct device *dev;
	u32 id;			/* its number in traces */
	bool translated;	/* behind a translating IOMMU domain */
	struct iodma_spec spec;
	struct iodma_limits lim;	/* addr_limit: the device's reach (update_reach()) */
	u64 spec_limit;		/* 2^addr_bits - 1 */
	const struct iodma_map_ops *ops;
	struct iodma_domain *domain;	/* owned IOMMU domain, or NULL (DMA API) */
	void *backend;			/* the backend's per-command state */

	struct iodma_md *md;
	bool md_bus;		/* bus memory: ranges, not pages */

	unsigned int prepared;	/* nesting count */
	u64 prep_off;
	u64 prep_len;

	/* CPU view of the prepared range, reused between prepares */
	struct sg_table sgt;
	unsigned int sgt_cap;	/* entries allocated in sgt */
	struct scatterlist *sgt_end;	/* entry carrying the end mark */
	u64 view_bits;		/* OR of the sg view's addresses and lengths */
	u64 view_end;		/* highest physical end in the sg view */

	/* bus view for bus descriptors */
	struct iodma_range *ranges;
	unsigned int nranges;
	unsigned int ranges_cap;
	bool ranges_mapped;	/* cmd->ranges came from dma_map_resource() */

	/* double buffering (bounce.c) */
	struct iodma_md *cbuf_md;	/* the command's own copy buffer, grow-only */
	enum iodma_bounce_reason bounce;	/* why the prepared range bounces */
	bool force_bounce;	/* IODMA_FORCE_DOUBLE_BUFFER until the last complete */
	bool in_place;		/* the descriptor is a copy buffer of this device */
	struct iodma_cmd_stats stats;
	u64 errors[IODMA_NR_ERRNOS];	/* failed prepares and gens, by errno */
	u64 splits;		/* segments cut short by a limit of the spec */
	bool nowait;		/* inside iodma_cmd_prepare_nowait() */
	struct iodma_pool *pool;	/* the pool the command belongs to, or NULL */
	struct list_head pool_node;	/* on the pool's free list */

	enum iodma_src_kind src;
	unsigned int src_n;	/* entries in the source */
	struct iodma_cursor cur;
	u64 cursor_steps;	/* KUnit: entries the cursor has moved over */
};

bool iodma_cmd_coherent(const struct iodma_cmd *cmd);
struct iodma_cmd *iodma_cmd_alloc(struct device *dev, const struct iodma_spec *spec,
				  struct iodma_domain *domain, const struct iodma_map_ops *ops);
struct iodma_pool {
	spinlock_t lock;	/* protects free, in_use, high_water, waiters, dying, gets, puts */
	struct list_head free;
	wait_queue_head_t wait;
	unsigned int count;
	struct iodma_cmd **cmds;	/* all of them, for statistics and destroy */
	unsigned int in_use;
	unsigned int high_water;
	unsigned int waiters;	/* sleepers in iodma_pool_get() */
	bool dying;		/* iodma_pool_destroy() has begun */
	u64 gets;
	u64 puts;
	char name[32];
	struct dentry *dir;
};

struct iodma_pool_stats {
	struct iodma_cmd_stats cmd;
	u64 splits;
	u64 errors[IODMA_NR_ERRNOS];
	unsigned int count;
	unsigned int in_use;
	unsigned int high_water;
	u64 gets;
	u64 puts;
};

void iodma_pool_stats(struct iodma_pool *pool, struct iodma_pool_stats *st);

/*
 * iodma's own failure points (debugfs iodma/fail, a fault_attr): every
 * allocation iodma makes or asks a kernel helper for is preceded by one,
 * so that a driver author can make iodma fail on purpose, and the KUnit
 * sweep can fail the 1st, 2nd, ... of them in turn.
 */
#ifdef CONFIG_FAULT_INJECTION
#include <linux/fault-inject.h>
extern struct fault_attr iodma_fail_attr;
bool iodma_should_fail(size_t size);
#else
static inline bool iodma_should_fail(size_t size)
{
	return false;
}
#endif
int iodma_debugfs_add_pool(struct iodma_pool *pool);
void iodma_debugfs_remove_pool(struct iodma_pool *pool);
void iodma_debugfs_init(void);
void iodma_debugfs_exit(void);

void iodma_cursor_reset(struct iodma_cmd *cmd);
void iodma_src_unmapped(struct iodma_cmd *cmd);
void iodma_cmd_count_error(struct iodma_cmd *cmd, int err);
const char *iodma_errno_name(unsigned int i);
int iodma_cmd_reserve(struct iodma_cmd *cmd, u64 max_len);
enum iodma_bounce_reason iodma_segments_check(struct iodma_cmd *cmd, u64 addr_limit);
enum iodma_bounce_reason iodma_segments_count(struct iodma_cmd *cmd, u64 reach, u64 *nsegs,
					      u64 *bad_off);

int iodma_cbuf_alloc(struct iodma_cmd *cmd, struct iodma_cbuf *cb, u64 size, gfp_t gfp);
void iodma_cbuf_free(struct iodma_cbuf *cb);
int iodma_cbuf_walk(const struct iodma_cbuf *cb, u64 off, u64 len, bool bus, iodma_chunk_fn fn,
		    void *ctx);
int iodma_bounce_reserve(struct iodma_cmd *cmd, u64 len, gfp_t gfp);
void iodma_bounce_in(struct iodma_cmd *cmd);
void iodma_bounce_out(struct iodma_cmd *cmd);
void iodma_cbuf_sync_range(struct iodma_cmd *cmd, bool for_device);
void iodma_bounce_sync(struct iodma_cmd *cmd, bool for_device);

#endif /* _IODMA_INTERNAL_H */
