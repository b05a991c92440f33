/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iodma internals shared by the files of the module and its KUnit suites.
 *
 * The files, lowest first: each calls only files above it in this list
 * (Documentation/design.rst, "Layers").
 *
 * fault.c      iodma's failure points (debugfs iodma/fail)
 * stats.c      the failures-by-errno counters of commands
 * cbuf.c       copy-buffer memory: chunks a device reaches, their walk and sync
 * md.c         memory descriptors, their wiring and their chunk walk
 * iter.c       descriptors over the kernel's own: bio_vec arrays and iov_iters
 * spec.c       the one place that knows the specification rules
 * segments.c   the segment cursor over a view, the dry run and the output formats
 * view.c       the view of a prepared range: a scatterlist or bus ranges
 * map_phys.c   backend: bypassed and iterate-only commands (nothing mapped)
 * map_dma.c    backend: the DMA API
 * domain.c     owned IOMMU domains and their IOVA space
 * bounce.c     the bounce decision and double buffering through a copy buffer
 * cmd.c        the command state machine (set, prepare, complete)
 * sync.c       synchronize, and read/write bytes as the device sees them
 * map_domain.c backend: an owned IOMMU domain, and the constructor of its commands
 * explain.c    the forecast of a prepare, on a scratch view
 * debugfs.c    the iodma/ directory
 * pool.c       pools of ready commands and their statistics
 * module.c     load and unload, tracepoints
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
	IODMA_MD_BVEC,
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
 * Copy-buffer memory (cbuf.c).  With @dev (the DMA API's memory for it),
 * @dma is the chunks' bus address for that device; without, the address
 * iodma_cbuf_rules asked for (phys_to_dma(), or physical).
 */
struct iodma_cbuf {
	struct device *dev;
	u64 size;
	u64 unit;		/* the smallest chunk */
	u64 limit;		/* the rules it was made for: the last address ... */
	u64 align;		/* ... and the chunks' alignment */
	unsigned int n;
	struct iodma_cbuf_chunk *chunks;
	struct list_head node;	/* on a budget's idle list (bounce.c) */
};

/* The largest chunk tried first: large enough for few segments, small enough to find. */
#define IODMA_CBUF_MAX_ORDER	8

/* Where a backend's copy buffers come from (struct iodma_map_ops.cbuf). */
enum iodma_cbuf_source {
	IODMA_CBUF_ZONE,	/* zone pages below the reach, bus address phys_to_dma() */
	IODMA_CBUF_DMA_API,	/* dma_alloc_pages() for the device, else zone pages */
	IODMA_CBUF_PHYS,	/* any pages, physical addresses: the backend maps them */
};

/* What every chunk of a copy buffer must satisfy (bounce.c fills it in for a command). */
struct iodma_cbuf_rules {
	struct device *dev;		/* dma_alloc_pages() for this device, or NULL */
	struct device *bus_dev;		/* zone pages: phys_to_dma() for it; NULL: physical */
	u64 limit;			/* last address a chunk may reach */
	u64 align;			/* alignment of every chunk's address */
	u64 unit;			/* the smallest chunk */
	bool zone_fallback;		/* with @dev: zone pages below @limit do as well */
};

int iodma_cbuf_alloc(struct iodma_cbuf *cb, const struct iodma_cbuf_rules *r, u64 size,
		     gfp_t gfp);
u64 iodma_cbuf_alloc_size(const struct iodma_cbuf_rules *r, u64 size);
bool iodma_cbuf_meets(const struct iodma_cbuf *cb, const struct iodma_cbuf_rules *r, u64 size);
void iodma_cbuf_free(struct iodma_cbuf *cb);
struct iodma_chunk;
typedef int (*iodma_chunk_fn)(void *ctx, const struct iodma_chunk *chunk);
int iodma_cbuf_walk(const struct iodma_cbuf *cb, u64 off, u64 len, bool bus, iodma_chunk_fn fn,
		    void *ctx);
void iodma_cbuf_sync(const struct iodma_cbuf *cb, u64 off, u64 len, enum dma_data_direction dir,
		     bool for_device);

/*
 * The walks' one step over a list of entries: of an entry of @size bytes,
 * skip it whole while *@off lies beyond it (return 0), else take up to *@len
 * bytes from *@off on (returned; *@in is where they start in the entry).
 * *@off and *@len then describe what is left after the entry.
 */
static inline u64 iodma_clip(u64 *off, u64 *len, u64 size, u64 *in)
{
	u64 take;

	if (*off >= size) {
		*off -= size;
		return 0;
	}
	*in = *off;
	take = min(size - *off, *len);
	*off = 0;
	*len -= take;
	return take;
}

/*
 * sg_next() for an entry known not to be the last (the caller counts the
 * entries), inline: the walks of views and segments take it once an entry.
 */
static __always_inline struct scatterlist *iodma_sg_next(struct scatterlist *sg)
{
	sg++;
	return sg_is_chain(sg) ? sg_chain_ptr(sg) : sg;
}

/*
 * A descriptor's memory is either CPU memory (pages the CPU can reach, mapped
 * by the command) or bus memory (addresses the device uses as they are, or
 * physical ranges without struct page).  A multi never mixes the two.
 *
 * A descriptor does not change after its constructor returns, except for
 * @wire_count (atomic) and, for user memory, the pinned page array, which
 * changes only under @wire_lock (md.c).
 *
 * An @embedded descriptor is a command's own (iodma_cmd_set_bvecs()): its
 * memory is the command's, so its last put frees nothing, and the command
 * refuses to drop it while anyone else holds a reference (cmd.c).
 */
struct iodma_md {
	struct kref ref;
	enum iodma_md_kind kind;
	enum dma_data_direction dir;
	bool bus;		/* bus memory: no struct page, no CPU access */
	bool embedded;		/* a command's own: never freed by its last put */
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
		struct {
			const struct bio_vec *bv;	/* owned unless @embedded */
			unsigned int n;
		} bvec;
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

int iodma_md_walk(struct iodma_md *md, u64 offset, u64 len, iodma_chunk_fn fn, void *ctx);
int iodma_md_wire(struct iodma_md *md, gfp_t gfp);
int iodma_md_unwire(struct iodma_md *md, gfp_t gfp);

/*
 * Is wiring @md only its count?  Not for user memory (pinned at the first
 * wiring) nor for a sub-range or a multi (whose parts are wired with it).
 */
static inline bool iodma_md_wire_counts(const struct iodma_md *md)
{
	return md->kind != IODMA_MD_USER && md->kind != IODMA_MD_SUBRANGE &&
	       md->kind != IODMA_MD_MULTI;
}

/*
 * iodma_md_wire() and iodma_md_unwire() for a command's I/O path: inline
 * where they only count.
 */
static __always_inline int iodma_md_wire_io(struct iodma_md *md, gfp_t gfp)
{
	if (likely(iodma_md_wire_counts(md))) {
		atomic_inc(&md->wire_count);
		return 0;
	}
	return iodma_md_wire(md, gfp);
}

static __always_inline int iodma_md_unwire_io(struct iodma_md *md, gfp_t gfp)
{
	if (likely(iodma_md_wire_counts(md)))
		return atomic_dec_if_positive(&md->wire_count) < 0 ? -ENODATA : 0;
	return iodma_md_unwire(md, gfp);
}

struct iodma_md *iodma_md_from_cbuf(struct iodma_cbuf *cb, enum dma_data_direction dir);
extern struct workqueue_struct *iodma_wq;
int iodma_md_init(void);
void iodma_md_exit(void);
struct iodma_md *iodma_md_alloc(enum iodma_md_kind kind, enum dma_data_direction dir, u64 len);
void iodma_md_setup(struct iodma_md *md, enum iodma_md_kind kind, enum dma_data_direction dir,
		    u64 len);

/* Descriptors over bio_vec arrays (iter.c). */
int iodma_bvecs_length(const struct bio_vec *bv, unsigned int n, enum dma_data_direction dir,
		       u64 *total);
void iodma_md_setup_bvecs(struct iodma_md *md, const struct bio_vec *bv, unsigned int n,
			  enum dma_data_direction dir, u64 len);
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
	u64 max_segs;		/* U64_MAX = no limit */
	u64 virt_mask;		/* the gap rule's mask, 0 = none */
	u64 block;		/* runs split into blocks of it (segments.c), 0 = no */
	bool out32;
	bool plain;		/* no alignment, length, boundary or gap rule */
	bool shortcut;		/* one_segment() may decide (segments.c) */
};

int iodma_spec_normalize(const struct iodma_spec *spec, struct iodma_limits *lim);
int iodma_spec_check_device(const struct iodma_spec *spec, struct device *dev);
bool iodma_dev_translated(struct device *dev);
int iodma_dev_dma_usable(struct device *dev);
u64 iodma_dev_reach(struct device *dev, u64 limit);

/*
 * iodma's own failure points (fault.c, debugfs iodma/fail, a fault_attr):
 * every allocation iodma makes or asks a kernel helper for is preceded by
 * one, so that a driver author can make iodma fail on purpose, and the
 * KUnit sweep can fail the 1st, 2nd, ... of them in turn.
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

/* The addresses the device sees for the prepared range, in order. */
struct iodma_range {
	u64 addr;
	u64 len;
	bool ram;	/* mapped by the DMA API as pages, not as a resource */
};

/* Where the segment cursor reads bus addresses from. */
enum iodma_src_kind {
	IODMA_SRC_NONE,
	IODMA_SRC_SG_DMA,	/* sg_dma_address/sg_dma_len of mapped entries */
	IODMA_SRC_SG_PHYS,	/* sg_phys()/length of CPU entries (phys_to_dma() for @bus_dev) */
	IODMA_SRC_RANGES,	/* the view's ranges */
};

/**
 * struct iodma_view - the bus view of a range, what the segment cursor walks (view.c)
 * @map_dev: MAPPED commands: entries are cut to what the DMA API maps of
 *	this device in one piece; NULL otherwise
 * @bus_dev: BYPASSED commands: the CPU entries' bus addresses are
 *	phys_to_dma() for this device; NULL: their physical addresses
 * @sgt: CPU memory, one entry per physically contiguous piece
 * @sgt_cap: entries allocated in @sgt (the storage only grows)
 * @sgt_end: the entry carrying the end mark
 * @bits: OR of every entry's address and length (the preflight's shortcut)
 * @end: highest physical end of an entry
 * @ranges: bus memory, copy buffers used in place, a bounce's chunks
 * @nranges: ranges in use
 * @ranges_cap: ranges allocated (the storage only grows)
 * @ranges_mapped: the backend mapped @ranges (and must unmap them)
 * @sg_single: the DMA API backend mapped the one entry of @sgt as a page
 *	(dma_map_page_attrs()), not as a table: unmap and sync it so
 * @map_max: MAPPED: dma_max_mapping_size() of @map_dev, read at init and by
 *	iodma_view_refresh() (the command calls it when the device changed)
 * @src: which of the above the cursor reads, set by the backend's map (or
 *	iodma_view_unmapped()); IODMA_SRC_NONE while nothing is prepared
 * @src_n: entries of the source
 *
 * The storage is kept between prepares so that a command reused for I/Os of
 * a similar shape allocates nothing; explain builds a scratch view.
 */
struct iodma_view {
	struct device *map_dev;
	struct device *bus_dev;
	struct sg_table sgt;
	unsigned int sgt_cap;
	struct scatterlist *sgt_end;
	u64 bits;
	u64 end;
	struct iodma_range *ranges;
	unsigned int nranges;
	unsigned int ranges_cap;
	bool ranges_mapped;
	bool sg_single;
	u64 map_max;
	enum iodma_src_kind src;
	unsigned int src_n;
};

void iodma_view_init(struct iodma_view *v, struct device *dev, enum iodma_map_type map);
int iodma_view_build(struct iodma_view *v, struct iodma_md *md, u64 off, u64 len,
		     bool in_place, gfp_t gfp);
int iodma_view_from_cbuf(struct iodma_view *v, const struct iodma_cbuf *cb, u64 len,
			 gfp_t gfp);
/*
 * iodma_view_unmapped() - read the view as it is, nothing mapped
 * @v: a built view
 * @ranges: the bus ranges (bus memory, a copy buffer used in place) rather
 *	than the scatterlist's physical addresses
 *
 * The source of the physical backend, of the preflight and of explain.
 */
static inline void iodma_view_unmapped(struct iodma_view *v, bool ranges)
{
	v->ranges_mapped = false;
	if (ranges) {
		v->src = IODMA_SRC_RANGES;
		v->src_n = v->nranges;
	} else {
		v->src = IODMA_SRC_SG_PHYS;
		v->src_n = v->sgt.orig_nents;
	}
}

void iodma_view_refresh(struct iodma_view *v);
int iodma_view_reserve(struct iodma_view *v, unsigned int sg, unsigned int ranges, gfp_t gfp);
void iodma_view_free(struct iodma_view *v);

/* A position in a view: the segment cursor. */
struct iodma_cursor {
	u64 pos;		/* byte offset in the range */
	struct scatterlist *sg;	/* current entry (SG sources) */
	unsigned int idx;	/* current entry index */
	u64 in;			/* bytes of the current entry already consumed */
	u64 steps;		/* entries moved over since creation (KUnit) */
	bool valid;
};

/*
 * iodma_cursor_reset() - put a cursor at the start of a view
 * @cur: the cursor (its step count is kept)
 * @v: a view whose source is set
 */
static inline void iodma_cursor_reset(struct iodma_cursor *cur, const struct iodma_view *v)
{
	*cur = (struct iodma_cursor){
		.sg = v->src == IODMA_SRC_RANGES ? NULL : v->sgt.sgl,
		.steps = cur->steps,
		.valid = true,
	};
}

enum iodma_bounce_reason iodma_segments_check(const struct iodma_view *v,
					      const struct iodma_limits *lim, u64 len);
bool iodma_segments_reachable(const struct iodma_view *v, const struct iodma_limits *lim);
u64 iodma_segments_block(const struct iodma_limits *lim);
enum iodma_bounce_reason iodma_segments_count(const struct iodma_view *v,
					      const struct iodma_limits *lim, u64 len,
					      u64 *nsegs, u64 *bad_off);

struct iodma_cmd;

/**
 * struct iodma_map_ops - a mapping backend: how a command's addresses are made
 * @select: the ops of this backend for a command with @spec (iodma_cmd_set_spec()
 *	may switch between them); NULL: the DMA API's (map_dma.c, map_phys.c)
 * @init: optional: set up the backend's per-command state (cmd->backend)
 * @release: optional: free it
 * @clone: optional: a new command of the same backend (iodma_cmd_clone());
 *	NULL: iodma_cmd_create() on the same device
 * @usable: optional: 0 if the command can reach its device now; -EOPNOTSUPP
 *	once the device belongs to an owned IOMMU domain of iodma
 * @reach: the highest bus address the device takes from this command
 * @map: make cmd->view's source the bus addresses of the prepared range
 * @unmap: undo @map (or @map_bounce)
 * @sync: the DMA API's cache and bounce maintenance of [@off, @off + @len)
 *	of the mapped range (offsets in the prepared range)
 * @map_bounce: optional: map the copy buffer's chunks (in cmd->view.ranges)
 *	for the device; NULL: copy-buffer addresses are already the device's
 * @may_bounce: optional: might the DMA API itself have bounced the mapping
 *	(then a CPU write to a DMA_FROM_DEVICE range never reaches the device)
 * @reserve: optional: set aside what prepares up to @max_len need, for the
 *	command's life
 * @cbuf: where this backend's copy buffers come from
 * @own_addresses: the backend chooses bus addresses in a space of its own:
 *	addresses the DMA API made mean nothing to the device
 */
struct iodma_map_ops {
	const struct iodma_map_ops *(*select)(const struct iodma_spec *spec);
	int (*init)(struct iodma_cmd *cmd);
	void (*release)(struct iodma_cmd *cmd);
	struct iodma_cmd *(*clone)(struct iodma_cmd *cmd, const struct iodma_spec *spec);
	int (*usable)(struct device *dev);
	u64 (*reach)(const struct iodma_cmd *cmd);
	int (*map)(struct iodma_cmd *cmd, unsigned long attrs, gfp_t gfp);
	void (*unmap)(struct iodma_cmd *cmd, unsigned long attrs);
	void (*sync)(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len);
	int (*map_bounce)(struct iodma_cmd *cmd, gfp_t gfp);
	bool (*may_bounce)(const struct iodma_cmd *cmd);
	int (*reserve)(struct iodma_cmd *cmd, u64 max_len);
	enum iodma_cbuf_source cbuf;
	bool own_addresses;
};

extern const struct iodma_map_ops iodma_map_dma_ops;
extern const struct iodma_map_ops iodma_map_phys_ops;
int iodma_phys_map(struct iodma_cmd *cmd, unsigned long attrs, gfp_t gfp);
void iodma_phys_unmap(struct iodma_cmd *cmd, unsigned long attrs);
void iodma_phys_sync(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len);
u64 iodma_phys_reach(const struct iodma_cmd *cmd);

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
struct iodma_domain *iodma_domain_get(struct iodma_domain *d);
void iodma_domain_put(struct iodma_domain *d);

/*
 * What a command last read of its device (cmd.c): its DMA mask, its bus
 * limit and the generation of iodma_dev_limits_changed().  The limits that
 * follow from them (the reach, the largest mapping) are cached with it and
 * read again only when one of them changed.
 */
struct iodma_dev_seen {
	u64 mask;
	u64 bus_limit;
	unsigned int gen;
	bool valid;
};

void iodma_dev_limits_changed(void);

#define IODMA_NR_ERRNOS	14	/* thirteen counted errnos, the last slot for any other */

/**
 * struct iodma_cmd - a command (cmd.c)
 *
 * One thread at a time uses a command: iodma takes no lock on it
 * (Documentation/design.rst, invariant 4).  The members are grouped by
 * the state in which they are valid.
 *
 * Always valid, written at creation and by iodma_cmd_set_spec():
 * @dev: the device, referenced
 * @id: the command's number in traces
 * @translated: the device's addresses are IOVAs (an IOMMU domain)
 * @spec: the specification as given
 * @lim: the normalised specification; @lim.addr_limit is the device's reach,
 *	from @ops->reach, read again at a first prepare when @seen is stale
 * @seen: the device's state @lim.addr_limit and @view.map_max were read in
 * @spec_limit: 2^addr_bits - 1
 * @ops: the backend; @domain and @backend are its own
 * @domain: owned-IOMMU-domain backend: its domain (referenced); else NULL
 * @backend: the backend's per-command state
 *
 * Valid while a descriptor is set (iodma_cmd_set_memory_descriptor()):
 * @md: the descriptor, referenced
 * @md_bus: it is bus memory (ranges, not pages)
 * @bvec_md: the descriptor iodma_cmd_set_bvecs() points in place at the
 *	caller's bio_vec array (@md then points at it): set up at creation,
 *	with the command's one reference for the command's life; while not
 *	set, no other reference and no wiring (clearing it requires that)
 *
 * Valid while prepared (@prepared > 0):
 * @prepared: nesting count of prepares
 * @prep_nowait: one of them was iodma_cmd_prepare_nowait(): the last
 *	complete must not sleep either (a last unpin goes to iodma_wq)
 * @prep_off: the prepared range, in the descriptor
 * @prep_len: its length
 * @in_place: the descriptor is a copy buffer this command uses as it is
 * @view: the range's bus view (its storage is kept while idle)
 * @cur: the segment cursor over @view
 *
 * Bouncing (valid while prepared, @bounce set), and kept while idle:
 * @cbuf_md: the command's own copy buffer, grow-only, dropped by set_spec
 *	(a pool command with a budget parks it on the budget at put)
 * @budget: the pool's copy-buffer budget its copy buffers count against
 * @bounce: why the prepared range goes through @cbuf_md, or NONE
 * @force_bounce: IODMA_FORCE_DOUBLE_BUFFER until the last complete
 *
 * Counters, for the command's life (read racily by pool statistics):
 * @stats: prepares, bounces, bytes bounced
 * @errors: failed prepares and gens by errno (stats.c)
 * @splits: segments cut short by a limit of the specification
 *
 * Pool membership (pool.c, under the pool's lock):
 * @pool: the pool the command belongs to, or NULL
 * @pool_free: on the pool's free stack
 */
struct iodma_cmd {
	struct device *dev;
	u32 id;
	bool translated;
	struct iodma_spec spec;
	struct iodma_limits lim;
	struct iodma_dev_seen seen;
	u64 spec_limit;
	const struct iodma_map_ops *ops;
	struct iodma_domain *domain;
	void *backend;

	struct iodma_md *md;
	bool md_bus;
	struct iodma_md bvec_md;

	unsigned int prepared;
	bool prep_nowait;
	u64 prep_off;
	u64 prep_len;
	bool in_place;
	struct iodma_view view;
	struct iodma_cursor cur;

	struct iodma_md *cbuf_md;
	struct iodma_budget *budget;
	enum iodma_bounce_reason bounce;
	bool force_bounce;

	struct iodma_cmd_stats stats;
	u64 errors[IODMA_NR_ERRNOS];
	u64 splits;

	struct iodma_pool *pool;
	bool pool_free;
};

/* A command's number in traces: never its address (a kernel pointer). */
static inline u32 iodma_cmd_trace_id(const struct iodma_cmd *cmd)
{
	return cmd->id;
}

bool iodma_cmd_coherent(const struct iodma_cmd *cmd);
struct iodma_cmd *iodma_cmd_alloc(struct device *dev, const struct iodma_spec *spec,
				  struct iodma_domain *domain, const struct iodma_map_ops *ops);
int iodma_cmd_check_range(const struct iodma_cmd *cmd, const struct iodma_md *md, u64 *offset,
			  u64 *length);
void iodma_cmd_refresh_limits(struct iodma_cmd *cmd);

void iodma_cmd_count_error(struct iodma_cmd *cmd, int err);
const char *iodma_errno_name(unsigned int i);

/*
 * The copy buffers of a pool's commands and their byte budget (bounce.c;
 * the pool owns it).  @bytes counts every copy buffer of those commands,
 * in use or idle; with a @limit, commands put back park theirs on @idle for
 * the next command that needs one, and a command that would go past the
 * limit takes an idle one, frees idle ones or waits on @wait.
 */
struct iodma_budget {
	spinlock_t lock;	/* protects all below */
	wait_queue_head_t wait;
	u64 limit;		/* 0: none */
	u64 bytes;
	u64 high_water;
	u64 idle_bytes;
	u64 waits;
	unsigned int buffers;	/* how many make up @bytes */
	struct list_head idle;	/* struct iodma_md copy buffers, by cbuf.node */
};

void iodma_budget_init(struct iodma_budget *b);
void iodma_budget_trim(struct iodma_budget *b, u64 limit, struct list_head *excess);
void iodma_budget_free(struct list_head *list);
struct iodma_md *iodma_budget_alloc(struct iodma_budget *b, struct iodma_cmd *tmpl, u64 len);
void iodma_budget_give_back(struct iodma_budget *b, struct iodma_md *md);
unsigned int iodma_budget_buffers(struct iodma_budget *b);
bool iodma_bounce_adopt(struct iodma_cmd *cmd, struct iodma_md *md);
void iodma_bounce_park(struct iodma_cmd *cmd);
void iodma_bounce_drop(struct iodma_cmd *cmd);
bool iodma_bounce_may_need(const struct iodma_cmd *cmd);

/* The bounce decision and double buffering (bounce.c). */
/*
 * bounce.c's rules, inline for every prepare.  A copy-buffer descriptor
 * the command uses as it is: the DMA API's memory
 * of this device for a MAPPED command; for a BYPASSED command, any copy
 * buffer not from the DMA API (its chunk addresses are the bus addresses of
 * zone pages; gen reports any beyond reach).
 */
static inline bool iodma_bounce_in_place(const struct iodma_cmd *cmd,
					 const struct iodma_md *md)
{
	if (md->kind != IODMA_MD_COPYBUF || cmd->spec.map == IODMA_ITERATE_ONLY)
		return false;
	return md->cbuf.dev == (cmd->spec.map == IODMA_MAPPED ? cmd->dev : NULL);
}

/*
 * Can @cmd copy @md's memory?  CPU memory of BYPASSED and MAPPED commands,
 * unless it is a copy buffer used in place.  Iterate-only commands emit the
 * CPU's own addresses and never bounce.
 */
static inline bool iodma_bounce_possible(const struct iodma_cmd *cmd,
					 const struct iodma_md *md, bool in_place)
{
	return cmd->spec.map != IODMA_ITERATE_ONLY && !md->bus && !in_place;
}

enum iodma_bounce_reason iodma_bounce_preflight(struct iodma_cmd *cmd, u64 *fit);
enum iodma_bounce_reason iodma_bounce_postflight(struct iodma_cmd *cmd, u64 *fit);
u64 iodma_bounce_max_len(const struct iodma_cmd *cmd, unsigned int order);
int iodma_bounce_reserve(struct iodma_cmd *cmd, u64 len, gfp_t gfp);
int iodma_bounce_fits(const struct iodma_cmd *cmd);
int iodma_bounce_start(struct iodma_cmd *cmd, enum iodma_bounce_reason reason, bool fill,
		       gfp_t gfp, u64 *fit);
void iodma_bounce_end(struct iodma_cmd *cmd, bool synchronize, u64 done);
void iodma_bounce_in(struct iodma_cmd *cmd, u64 off, u64 len);
void iodma_bounce_out(struct iodma_cmd *cmd, u64 off, u64 len);
void iodma_bounce_sync(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len);

struct iodma_pool {
	/* protects free, nfree, in_use, high_water, waiters, dying, gets, puts */
	spinlock_t lock;
	/*
	 * The free commands, a stack (a command taken and given back at once
	 * is the one taken next): an array, not a list, so that get and put
	 * only move a pointer under the lock.  In the allocation of @cmds.
	 */
	struct iodma_cmd **free;
	unsigned int nfree;
	struct list_head node;	/* on the list of pools (memory hot-add re-checks them) */
	struct iodma_budget budget;
	struct iodma_cmd *tmpl;	/* the commands' rules, never handed out */
	u64 max_len;		/* what each I/O's reservation is sized for */
	bool reserving;		/* copy buffers are reserved (some I/O could bounce) */
	wait_queue_head_t wait;
	unsigned int count;
	struct iodma_cmd **cmds;	/* all of them, for statistics and destroy; then @free */
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
	u64 bounce_budget;
	u64 bounce_bytes;
	u64 bounce_bytes_idle;
	u64 bounce_high_water;
	u64 bounce_waits;
};

void iodma_pool_stats(struct iodma_pool *pool, struct iodma_pool_stats *st);
void iodma_pool_recheck(struct iodma_pool *pool);
struct seq_file;
int iodma_pool_stats_show(struct seq_file *m, void *unused);
int iodma_pool_init(void);
void iodma_pool_exit(void);

struct dentry *iodma_debugfs_root(void);
void iodma_debugfs_init(void);
void iodma_debugfs_exit(void);

#endif /* _IODMA_INTERNAL_H */
