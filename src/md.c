// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory descriptors: which memory takes part in an I/O.
 *
 * A descriptor is immutable once made, refcounted with a kref, and knows how
 * to walk its bytes as chunks (struct iodma_chunk): physically contiguous CPU
 * runs of pages, or bus ranges that need no struct page.  Everything else is
 * built on that one walk: the command's scatterlist (cmd.c), read/write
 * bytes, and sub-ranges and concatenations, which just walk their parents.
 *
 * The only state a descriptor has is its wiring counter (IOKit's
 * prepare/complete on a memory descriptor): user memory is pinned with
 * pin_user_pages*() while the counter is above zero.
 */
#include <linux/bvec.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include "iodma_internal.h"

static void user_unwire_work(struct work_struct *work);

/* Deferred unpins of non-blocking rollbacks (iodma_md_unwire()); drained at unload. */
struct workqueue_struct *iodma_wq;
EXPORT_SYMBOL_IF_KUNIT(iodma_wq);

int iodma_md_init(void)
{
	iodma_wq = alloc_workqueue("iodma", 0, 0);
	return iodma_wq ? 0 : -ENOMEM;
}

void iodma_md_exit(void)
{
	destroy_workqueue(iodma_wq);
}

bool iodma_dir_valid(enum dma_data_direction dir)
{
	return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE || dir == DMA_FROM_DEVICE;
}

/*
 * iodma_md_setup() - make @md (zeroed, or released) a descriptor of @kind
 * with one reference; it neither sleeps nor allocates.
 */
void iodma_md_setup(struct iodma_md *md, enum iodma_md_kind kind, enum dma_data_direction dir,
		    u64 len)
{
	kref_init(&md->ref);
	mutex_init(&md->wire_lock);
	atomic_set(&md->wire_count, 0);
	md->kind = kind;
	md->dir = dir;
	md->length = len;
}

struct iodma_md *iodma_md_alloc(enum iodma_md_kind kind, enum dma_data_direction dir, u64 len)
{
	struct iodma_md *md;

	if (iodma_should_fail(sizeof(*md)))
		return NULL;
	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md)
		return NULL;
	iodma_md_setup(md, kind, dir, len);
	return md;
}

/*
 * A descriptor of @kind that owns a copy of @n elements of @size bytes at
 * @src (*@array).  Returns NULL, having freed everything, on failure.
 */
static struct iodma_md *md_alloc_owning(enum iodma_md_kind kind, enum dma_data_direction dir,
					u64 len, const void *src, size_t n, size_t size,
					void **array)
{
	struct iodma_md *md = iodma_md_alloc(kind, dir, len);

	if (!md)
		return NULL;
	if (!iodma_should_fail(n * size))
		*array = kmemdup_array(src, n, size, GFP_KERNEL);
	if (!*array) {
		kfree(md);
		return NULL;
	}
	return md;
}

/* A range [addr, addr + len) that is not empty and does not wrap. */
static bool range_ok(u64 addr, u64 len)
{
	u64 end;

	return len && !check_add_overflow(addr, len - 1, &end);
}

/*
 * Every page of a vmalloc-area range is RAM that vmalloc mapped: not a guard
 * page or a hole between areas (no page), not an ioremap (no struct page).
 */
static bool vmalloc_range_ok(const void *addr, size_t len)
{
	const void *va = (const void *)((unsigned long)addr & PAGE_MASK);
	const void *end = addr + len;

	for (; va < end; va += PAGE_SIZE) {
		struct page *page = vmalloc_to_page(va);

		if (!page || !pfn_valid(page_to_pfn(page)))
			return false;
		cond_resched();
	}
	return true;
}

/*
 * Every page of a linear-map range is RAM: a range whose two ends are RAM
 * may still span a hole of the physical address space.
 */
static bool linear_range_ok(const void *addr, size_t len)
{
	const void *va = (const void *)((unsigned long)addr & PAGE_MASK);
	const void *end = addr + len;

	for (; va < end; va += PAGE_SIZE) {
		if (!virt_addr_valid(va))
			return false;
		cond_resched();
	}
	return true;
}

/**
 * iodma_md_from_kva() - describe kernel virtual memory
 * @addr: kmalloc, page-allocator (linear map) or vmalloc address
 * @len: length in bytes
 * @dir: DMA direction of the I/O
 *
 * The memory must stay allocated for the life of the descriptor.  A range
 * must lie wholly in the linear map or wholly in the vmalloc area.
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for a NULL @addr, a zero or
 * wrapping @len, a bad @dir, memory outside both areas, a vmalloc-area range
 * that is not wholly vmalloc'd RAM (a guard page, an ioremap) or a stack,
 * ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_from_kva(void *addr, size_t len, enum dma_data_direction dir)
{
	enum iodma_md_kind kind;
	struct iodma_md *md;
	void *last;

	might_sleep();
	if (!addr || !iodma_dir_valid(dir) || !range_ok((unsigned long)addr, len))
		return ERR_PTR(-EINVAL);
	last = addr + len - 1;
	/* a (vmap'd) stack is not DMA memory: DMA-API debug refuses it too */
	if (object_is_on_stack(addr))
		return ERR_PTR(-EINVAL);
	if (is_vmalloc_addr(addr) && is_vmalloc_addr(last) && vmalloc_range_ok(addr, len))
		kind = IODMA_MD_VMALLOC;
	else if (virt_addr_valid(addr) && virt_addr_valid(last) && linear_range_ok(addr, len))
		kind = IODMA_MD_KVA;
	else
		return ERR_PTR(-EINVAL);

	md = iodma_md_alloc(kind, dir, len);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->kva.addr = addr;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_from_kva);

/**
 * iodma_md_from_pages() - describe an array of pages
 * @pages: the pages; the array is copied, the pages must outlive the descriptor
 * @npages: entries in @pages
 * @offset: first byte, relative to the start of the first page
 * @len: length in bytes
 * @dir: DMA direction of the I/O
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for NULL @pages or a NULL entry,
 * @npages 0, @len 0, a range beyond @npages pages or a bad @dir,
 * ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_from_pages(struct page **pages, unsigned int npages, size_t offset,
				     size_t len, enum dma_data_direction dir)
{
	void *array = NULL;
	struct iodma_md *md;
	unsigned int i;
	u64 end;

	might_sleep();
	if (!pages || !npages || !iodma_dir_valid(dir) || !len ||
	    check_add_overflow((u64)offset, (u64)len, &end) || end > (u64)npages << PAGE_SHIFT)
		return ERR_PTR(-EINVAL);
	for (i = 0; i < npages; i++)
		if (!pages[i])
			return ERR_PTR(-EINVAL);

	md = md_alloc_owning(IODMA_MD_PAGES, dir, len, pages, npages, sizeof(*pages), &array);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->pages.pages = array;
	md->pages.npages = npages;
	md->pages.offset = offset;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_from_pages);

/**
 * iodma_md_from_user() - describe user memory of the calling process
 * @uaddr: user address
 * @len: length in bytes
 * @dir: DMA direction of the I/O (DMA_FROM_DEVICE and DMA_BIDIRECTIONAL need
 *	writable memory)
 *
 * The pages are pinned with pin_user_pages*() only while the descriptor is
 * prepared (iodma_md_prepare() or a command's prepare), and unpinned when
 * the last prepare completes.  The descriptor holds the process's mm, so it
 * may be prepared from another context (a worker) as well.
 *
 * Context: Process context of the owning process; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for a zero or wrapping @len, a bad
 * @dir, a caller without an mm or more than %IODMA_USER_MAX_PAGES pages (a
 * descriptor is pinned whole: 1 GiB with 4 KiB pages), ERR_PTR(-EFAULT) for
 * a range outside the user address space, ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_from_user(unsigned long uaddr, size_t len,
				    enum dma_data_direction dir)
{
	struct iodma_md *md;
	u64 npages;

	might_sleep();
	if (!iodma_dir_valid(dir) || !range_ok(uaddr, len) || !current->mm)
		return ERR_PTR(-EINVAL);
	if (!access_ok((void __user *)uaddr, len))
		return ERR_PTR(-EFAULT);
	/* pin_user_pages*() take an int count; the page array is one kvmalloc */
	npages = DIV_ROUND_UP_ULL((u64)offset_in_page(uaddr) + len, PAGE_SIZE);
	if (npages > IODMA_USER_MAX_PAGES)
		return ERR_PTR(-EINVAL);

	md = iodma_md_alloc(IODMA_MD_USER, dir, len);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->user.uaddr = uaddr;
	INIT_WORK(&md->user.unwire_work, user_unwire_work);
	md->user.mm = current->mm;
	mmgrab(md->user.mm);
	md->user.npages = npages;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_from_user);

/* Sum of an sg_table's CPU (@dma false) or DMA lengths; 0 if it overflows. */
static u64 sgt_length(struct sg_table *sgt, bool dma)
{
	struct scatterlist *sg;
	unsigned int i, n = dma ? sgt->nents : sgt->orig_nents;
	u64 total = 0;

	for_each_sg(sgt->sgl, sg, n, i) {
		u64 l = dma ? sg_dma_len(sg) : sg->length;

		if (!l || check_add_overflow(total, l, &total))
			return 0;
	}
	return total;
}

/**
 * iodma_md_from_sgtable() - describe a caller's scatterlist (CPU view)
 * @sgt: the table; its orig_nents entries are used and must outlive the
 *	descriptor, unchanged
 * @dir: DMA direction of the I/O
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for a NULL or empty @sgt, an
 * entry of length 0 or a bad @dir, ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_from_sgtable(struct sg_table *sgt, enum dma_data_direction dir)
{
	struct iodma_md *md;
	u64 len;

	might_sleep();
	if (!sgt || !sgt->sgl || !sgt->orig_nents || !iodma_dir_valid(dir))
		return ERR_PTR(-EINVAL);
	len = sgt_length(sgt, false);
	if (!len)
		return ERR_PTR(-EINVAL);
	md = iodma_md_alloc(IODMA_MD_SGTABLE, dir, len);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->sgt.sgt = sgt;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_from_sgtable);

/**
 * iodma_md_from_mapped_sgtable() - describe a scatterlist already mapped for a device
 * @dev: the device the table is mapped for
 * @sgt: the table; its nents DMA entries are used as they are
 * @dir: DMA direction of the I/O
 *
 * A command for @dev emits the existing bus addresses without mapping again;
 * a command for another device refuses the descriptor (-EINVAL at
 * iodma_cmd_set_memory_descriptor()).  The owner of the mapping keeps it and
 * its cache maintenance; the CPU never touches the memory through iodma.
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for a NULL @dev or @sgt, no mapped
 * entry, a DMA length of 0 or a bad @dir, ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_from_mapped_sgtable(struct device *dev, struct sg_table *sgt,
					      enum dma_data_direction dir)
{
	struct iodma_md *md;
	u64 len;

	might_sleep();
	if (!dev || !sgt || !sgt->sgl || !sgt->nents || !iodma_dir_valid(dir))
		return ERR_PTR(-EINVAL);
	len = sgt_length(sgt, true);
	if (!len)
		return ERR_PTR(-EINVAL);
	md = iodma_md_alloc(IODMA_MD_MAPPED, dir, len);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->bus = true;
	md->mapped_dev = dev;
	md->sgt.sgt = sgt;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_from_mapped_sgtable);

/* The total length of @n ranges, each non-empty and not wrapping; false on overflow. */
static bool phys_total(const struct iodma_phys_range *ranges, unsigned int n, u64 *total)
{
	unsigned int i;

	*total = 0;
	for (i = 0; i < n; i++)
		if (!range_ok(ranges[i].addr, ranges[i].len) ||
		    check_add_overflow(*total, ranges[i].len, total))
			return false;
	return true;
}

/**
 * iodma_md_from_phys() - describe bus/physical ranges that need not be RAM
 * @ranges: the ranges (copied)
 * @n: entries in @ranges
 * @dir: DMA direction of the I/O
 *
 * For a peer device's BAR, reserved or remote memory.  The CPU never touches
 * it: read/write bytes copy 0 bytes.  No command bounces it: where a range
 * breaks the command's specification (beyond the device's reach, misaligned),
 * prepare succeeds and iodma_cmd_gen_segments() reports the first segment
 * that breaks a rule (-ERANGE, -EINVAL).  A MAPPED command maps RAM ranges
 * as pages and other ranges with dma_map_resource().
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for NULL @ranges, @n 0, an empty
 * or wrapping range, a total that overflows or a bad @dir, ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_from_phys(const struct iodma_phys_range *ranges, unsigned int n,
				    enum dma_data_direction dir)
{
	void *array = NULL;
	struct iodma_md *md;
	u64 total;

	might_sleep();
	if (!ranges || !n || !iodma_dir_valid(dir) || !phys_total(ranges, n, &total))
		return ERR_PTR(-EINVAL);
	md = md_alloc_owning(IODMA_MD_PHYS, dir, total, ranges, n, sizeof(*ranges), &array);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->phys.ranges = array;
	md->phys.n = n;
	md->bus = true;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_from_phys);

/**
 * iodma_md_subrange() - describe part of another descriptor
 * @parent: the descriptor (a reference is taken)
 * @offset: first byte in @parent
 * @len: length in bytes
 *
 * The sub-range has @parent's direction.
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for a NULL @parent, @len 0 or a
 * range outside @parent, ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_subrange(struct iodma_md *parent, u64 offset, u64 len)
{
	struct iodma_md *md;
	u64 end;

	might_sleep();
	if (!parent || !len || check_add_overflow(offset, len, &end) || end > parent->length)
		return ERR_PTR(-EINVAL);
	md = iodma_md_alloc(IODMA_MD_SUBRANGE, parent->dir, len);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->bus = parent->bus;
	md->mapped_dev = parent->mapped_dev;
	md->sub.parent = iodma_md_get(parent);
	md->sub.offset = offset;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_subrange);

/* May memory described for @child take part in an I/O of direction @dir? */
static bool dir_compatible(enum dma_data_direction child, enum dma_data_direction dir)
{
	return child == dir || child == DMA_BIDIRECTIONAL;
}

/*
 * The total length of @n parts that may be joined for an I/O of direction
 * @dir: all CPU or all bus memory, mapped for one device if at all; false
 * otherwise or on overflow.
 */
static bool parts_total(struct iodma_md **mds, unsigned int n, enum dma_data_direction dir,
			u64 *total)
{
	unsigned int i;

	*total = 0;
	for (i = 0; i < n; i++)
		if (!mds[i] || !dir_compatible(mds[i]->dir, dir) ||
		    mds[i]->bus != mds[0]->bus || mds[i]->mapped_dev != mds[0]->mapped_dev ||
		    check_add_overflow(*total, mds[i]->length, total))
			return false;
	return true;
}

/**
 * iodma_md_multi() - concatenate descriptors
 * @mds: the descriptors, in order (a reference is taken on each)
 * @n: entries in @mds
 * @dir: DMA direction of the I/O
 *
 * The parts must all be CPU memory or all bus memory, and already-mapped
 * parts must be mapped for one device.  Each part's direction must be @dir
 * or DMA_BIDIRECTIONAL (a part pinned read-only cannot receive data).
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for NULL @mds or a NULL entry,
 * @n 0, a bad or incompatible direction, mixed kinds of memory, or a total
 * length that overflows, ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_multi(struct iodma_md **mds, unsigned int n,
				enum dma_data_direction dir)
{
	void *array = NULL;
	struct iodma_md *md;
	unsigned int i;
	u64 total;

	might_sleep();
	if (!mds || !n || !iodma_dir_valid(dir) || !parts_total(mds, n, dir, &total))
		return ERR_PTR(-EINVAL);
	md = md_alloc_owning(IODMA_MD_MULTI, dir, total, mds, n, sizeof(*mds), &array);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->multi.mds = array;
	for (i = 0; i < n; i++)
		iodma_md_get(md->multi.mds[i]);
	md->multi.n = n;
	md->bus = mds[0]->bus;
	md->mapped_dev = mds[0]->mapped_dev;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_multi);

/*
 * iodma_md_from_cbuf() - a copy-buffer descriptor that takes over @cb's
 * chunks (iodma_cmd_create_copy_buffer(), a command's own copy buffer).
 * Returns NULL, @cb untouched, on failure.
 */
struct iodma_md *iodma_md_from_cbuf(struct iodma_cbuf *cb, enum dma_data_direction dir)
{
	struct iodma_md *md = iodma_md_alloc(IODMA_MD_COPYBUF, dir, cb->size);

	if (!md)
		return NULL;
	md->cbuf = *cb;
	INIT_LIST_HEAD(&md->cbuf.node);
	return md;
}

/**
 * iodma_md_get() - take a reference on a descriptor
 * @md: the descriptor
 *
 * Context: Any context.
 * Return: @md.
 */
struct iodma_md *iodma_md_get(struct iodma_md *md)
{
	kref_get(&md->ref);
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_get);

static void md_release(struct kref *ref)
{
	struct iodma_md *md = container_of(ref, struct iodma_md, ref);
	unsigned int i;

	WARN_ON_ONCE(atomic_read(&md->wire_count));
	switch (md->kind) {
	case IODMA_MD_PAGES:
		kfree(md->pages.pages);
		break;
	case IODMA_MD_USER:
		mmdrop(md->user.mm);
		break;
	case IODMA_MD_PHYS:
		kfree(md->phys.ranges);
		break;
	case IODMA_MD_SUBRANGE:
		iodma_md_put(md->sub.parent);
		break;
	case IODMA_MD_MULTI:
		for (i = 0; i < md->multi.n; i++)
			iodma_md_put(md->multi.mds[i]);
		kfree(md->multi.mds);
		break;
	case IODMA_MD_COPYBUF:
		iodma_cbuf_free(&md->cbuf);
		break;
	case IODMA_MD_BVEC:
		if (!md->embedded)
			kfree(md->bvec.bv);
		break;
	default:
		break;
	}
	mutex_destroy(&md->wire_lock);
	/* a command's own descriptor is part of the command */
	if (!md->embedded)
		kfree(md);
}

/**
 * iodma_md_put() - drop a reference on a descriptor
 * @md: the descriptor, or NULL
 *
 * The last reference frees it.  A descriptor must not be freed while
 * prepared: commands hold a reference while it is set on them.
 *
 * Context: Process context (the last put may sleep: mmdrop, sub-descriptors).
 */
void iodma_md_put(struct iodma_md *md)
{
	if (md)
		kref_put(&md->ref, md_release);
}
EXPORT_SYMBOL_GPL(iodma_md_put);

/**
 * iodma_md_length() - length of a descriptor
 * @md: the descriptor
 *
 * Context: Any context.
 * Return: its length in bytes.
 */
u64 iodma_md_length(const struct iodma_md *md)
{
	return md->length;
}
EXPORT_SYMBOL_GPL(iodma_md_length);

/**
 * iodma_md_direction() - DMA direction of a descriptor
 * @md: the descriptor
 *
 * Context: Any context.
 * Return: DMA_TO_DEVICE, DMA_FROM_DEVICE or DMA_BIDIRECTIONAL.
 */
enum dma_data_direction iodma_md_direction(const struct iodma_md *md)
{
	return md->dir;
}
EXPORT_SYMBOL_GPL(iodma_md_direction);

/* Pin the pages of a user descriptor; called with wire_lock held. */
static int user_pin(struct iodma_md *md)
{
	unsigned long start = md->user.uaddr & PAGE_MASK;
	unsigned long n = md->user.npages;
	unsigned int flags = md->dir == DMA_TO_DEVICE ? 0 : FOLL_WRITE;
	struct mm_struct *mm = md->user.mm;
	struct page **pages;
	long got;
	int ret;

	lockdep_assert_held(&md->wire_lock);
	/* two points: the array, and pinning (which allocates page tables) */
	if (iodma_should_fail(n * sizeof(*pages)))
		return -ENOMEM;
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL | __GFP_NOWARN);
	if (!pages)
		return -ENOMEM;
	ret = -ENOMEM;
	if (iodma_should_fail(n * PAGE_SIZE))
		goto err_free_pages;
	ret = -EFAULT;
	if (current->mm == mm) {
		got = pin_user_pages_fast(start, n, flags, pages);
	} else {
		if (!mmget_not_zero(mm))
			goto err_free_pages;
		mmap_read_lock(mm);
		got = pin_user_pages_remote(mm, start, n, flags, pages, NULL);
		mmap_read_unlock(mm);
		mmput(mm);
	}
	if (got != n) {
		if (got > 0)
			unpin_user_pages(pages, got);
		else if (got < 0 && got != -EFAULT)
			ret = got;
		goto err_free_pages;
	}
	/* pairs with the acquire in iodma_md_walk(): the array before the count */
	smp_store_release(&md->user.pages, pages);
	return 0;

err_free_pages:
	kvfree(pages);
	return ret;
}

static void user_unpin(struct iodma_md *md)
{
	lockdep_assert_held(&md->wire_lock);
	unpin_user_pages_dirty_lock(md->user.pages, md->user.npages, md->dir != DMA_TO_DEVICE);
	kvfree(md->user.pages);
	md->user.pages = NULL;
}

/*
 * iodma_md_wire() - iodma_md_prepare(), and its non-blocking form: with a
 * @gfp that may not block, user memory that is not pinned yet gives -EAGAIN
 * instead of being pinned (pinning sleeps).  Only the 0 -> 1 step of user memory takes
 * the mutex; every other step is an atomic increment.
 */
int iodma_md_wire(struct iodma_md *md, gfp_t gfp)
{
	unsigned int i;
	int ret = 0;

	if (md->kind == IODMA_MD_SUBRANGE) {
		ret = iodma_md_wire(md->sub.parent, gfp);
	} else if (md->kind == IODMA_MD_MULTI) {
		for (i = 0; i < md->multi.n; i++) {
			ret = iodma_md_wire(md->multi.mds[i], gfp);
			if (ret)
				break;
		}
		if (ret) {
			while (i--)
				iodma_md_unwire(md->multi.mds[i], gfp);
		}
	}
	if (ret)
		return ret;

	if (md->kind != IODMA_MD_USER) {
		atomic_inc(&md->wire_count);
		return 0;
	}
	if (atomic_inc_not_zero(&md->wire_count))
		return 0;
	if (!gfpflags_allow_blocking(gfp))
		return -EAGAIN;
	mutex_lock(&md->wire_lock);
	if (!atomic_read(&md->wire_count))
		ret = user_pin(md);
	if (!ret)
		atomic_inc_return_release(&md->wire_count);
	mutex_unlock(&md->wire_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(iodma_md_wire);

/**
 * iodma_md_prepare() - wire a descriptor's memory for I/O (nestable)
 * @md: the descriptor
 *
 * The first prepare pins user memory; later ones only count.  Each
 * successful prepare needs one iodma_md_complete().
 *
 * Context: Process context; may sleep.
 * Return: 0, -EFAULT if user memory is not mapped (or read-only for a
 * device write), -ENOMEM.  On failure nothing is pinned.
 */
int iodma_md_prepare(struct iodma_md *md)
{
	might_sleep();
	return iodma_md_wire(md, GFP_KERNEL);
}
EXPORT_SYMBOL_GPL(iodma_md_prepare);

/* Decrement @v unless that would take it to 0 (or it is 0 already). */
static bool dec_unless_last(atomic_t *v)
{
	int c = atomic_read(v);

	do {
		if (c <= 1)
			return false;
	} while (!atomic_try_cmpxchg(v, &c, c - 1));
	return true;
}

/**
 * iodma_md_complete() - undo one iodma_md_prepare()
 * @md: the descriptor
 *
 * The last complete unpins user memory and marks it dirty when the device
 * may have written it.
 *
 * Context: Process context; the last complete of user memory sleeps
 * (unpinning), earlier ones and other kinds of memory do not.
 * Return: 0, -ENODATA if the descriptor is not prepared.
 */
int iodma_md_complete(struct iodma_md *md)
{
	return iodma_md_unwire(md, GFP_KERNEL);
}
EXPORT_SYMBOL_GPL(iodma_md_complete);

/* The last unwire of user memory: unpin, under the mutex. */
static int user_unwire_last(struct iodma_md *md)
{
	int ret = 0;

	might_sleep();
	mutex_lock(&md->wire_lock);
	if (!atomic_read(&md->wire_count))
		ret = -ENODATA;
	else if (atomic_dec_and_test(&md->wire_count))
		user_unpin(md);
	mutex_unlock(&md->wire_lock);
	return ret;
}

static void user_unwire_work(struct work_struct *work)
{
	struct iodma_md *md = container_of(work, struct iodma_md, user.unwire_work);
	int n = atomic_xchg(&md->user.deferred, 0);

	while (n--)
		user_unwire_last(md);
	iodma_md_put(md);
}

/*
 * iodma_md_unwire() - iodma_md_complete(), and the form that never sleeps
 * (a @gfp that may not block: the rollback of a failed non-blocking
 * prepare).  Should that drop the last wiring of user memory (another
 * command completed the same descriptor meanwhile), the unpin, which
 * sleeps, goes to a worker.
 */
int iodma_md_unwire(struct iodma_md *md, gfp_t gfp)
{
	unsigned int i;

	if (md->kind != IODMA_MD_USER) {
		if (atomic_dec_if_positive(&md->wire_count) < 0)
			return -ENODATA;
	} else if (!dec_unless_last(&md->wire_count)) {
		if (gfpflags_allow_blocking(gfp)) {
			if (user_unwire_last(md))
				return -ENODATA;
		} else if (atomic_read(&md->wire_count)) {
			/* the caller's reference keeps @md: this put is never the last */
			atomic_inc(&md->user.deferred);
			iodma_md_get(md);
			if (!queue_work(iodma_wq, &md->user.unwire_work))
				iodma_md_put(md);
		} else {
			return -ENODATA;
		}
	}

	if (md->kind == IODMA_MD_SUBRANGE) {
		iodma_md_unwire(md->sub.parent, gfp);
	} else if (md->kind == IODMA_MD_MULTI) {
		for (i = 0; i < md->multi.n; i++)
			iodma_md_unwire(md->multi.mds[i], gfp);
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iodma_md_unwire);

/*
 * iodma_md_cpu_writable() - may the CPU write the memory?  Not user memory
 * pinned for DMA_TO_DEVICE (without FOLL_WRITE), nor bus memory.
 */
bool iodma_md_cpu_writable(const struct iodma_md *md)
{
	unsigned int i;

	switch (md->kind) {
	case IODMA_MD_USER:
		return md->dir != DMA_TO_DEVICE;
	case IODMA_MD_SUBRANGE:
		return iodma_md_cpu_writable(md->sub.parent);
	case IODMA_MD_MULTI:
		for (i = 0; i < md->multi.n; i++)
			if (!iodma_md_cpu_writable(md->multi.mds[i]))
				return false;
		return true;
	default:
		return !md->bus;
	}
}

/* Does @md hold a copy buffer made with the DMA API (for a MAPPED command)? */
bool iodma_md_has_dma_api_cbuf(const struct iodma_md *md)
{
	unsigned int i;

	switch (md->kind) {
	case IODMA_MD_COPYBUF:
		return md->cbuf.dev;
	case IODMA_MD_SUBRANGE:
		return iodma_md_has_dma_api_cbuf(md->sub.parent);
	case IODMA_MD_MULTI:
		for (i = 0; i < md->multi.n; i++)
			if (iodma_md_has_dma_api_cbuf(md->multi.mds[i]))
				return true;
		return false;
	default:
		return false;
	}
}

/* Emit [off, off + len) of a physically contiguous page run starting at @page. */
static int emit_pages(struct page *page, u64 pgoff, u64 len, iodma_chunk_fn fn, void *ctx)
{
	struct iodma_chunk c = {
		.page = nth_page(page, pgoff >> PAGE_SHIFT),
		.pgoff = offset_in_page(pgoff),
		.len = len,
	};

	return fn(ctx, &c);
}

static int emit_bus(u64 addr, u64 len, bool mapped, iodma_chunk_fn fn, void *ctx)
{
	struct iodma_chunk c = { .addr = addr, .len = len, .mapped = mapped };

	return fn(ctx, &c);
}

/* Walk the entries of an sg_table, restricted to [off, off + len). */
static int walk_sgt(struct iodma_md *md, u64 off, u64 len, iodma_chunk_fn fn, void *ctx)
{
	bool dma = md->kind == IODMA_MD_MAPPED;
	struct sg_table *sgt = md->sgt.sgt;
	unsigned int i, n = dma ? sgt->nents : sgt->orig_nents;
	struct scatterlist *sg;
	u64 take, in;
	int ret;

	for_each_sg(sgt->sgl, sg, n, i) {
		take = iodma_clip(&off, &len, dma ? sg_dma_len(sg) : sg->length, &in);
		if (!take)
			continue;
		if (dma)
			ret = emit_bus(sg_dma_address(sg) + in, take, true, fn, ctx);
		else
			ret = emit_pages(sg_page(sg), sg->offset + in, take, fn, ctx);
		if (ret || !len)
			return ret;
	}
	return 0;
}

/* Walk a page array (@first_off bytes into @pages[0]) restricted to [off, off + len). */
static int walk_page_array(struct page **pages, u64 first_off, u64 off, u64 len,
			   iodma_chunk_fn fn, void *ctx)
{
	u64 pos = first_off + off;
	int ret;

	while (len) {
		u64 take = min_t(u64, PAGE_SIZE - offset_in_page(pos), len);

		ret = emit_pages(pages[pos >> PAGE_SHIFT], offset_in_page(pos), take, fn, ctx);
		if (ret)
			return ret;
		pos += take;
		len -= take;
	}
	return 0;
}

static int walk_vmalloc(void *addr, u64 off, u64 len, iodma_chunk_fn fn, void *ctx)
{
	int ret;

	while (len) {
		void *va = addr + off;
		u64 take = min_t(u64, PAGE_SIZE - offset_in_page(va), len);
		struct page *page = vmalloc_to_page(va);

		/* freed under the descriptor: never hand a made-up address on */
		if (!page)
			return -EFAULT;
		ret = emit_pages(page, offset_in_page(va), take, fn, ctx);
		if (ret)
			return ret;
		off += take;
		len -= take;
	}
	return 0;
}

static int walk_phys(struct iodma_md *md, u64 off, u64 len, iodma_chunk_fn fn, void *ctx)
{
	const struct iodma_phys_range *r;
	unsigned int i;
	u64 take, in;
	int ret;

	for (i = 0; i < md->phys.n && len; i++) {
		r = &md->phys.ranges[i];
		take = iodma_clip(&off, &len, r->len, &in);
		if (!take)
			continue;
		ret = emit_bus(r->addr + in, take, false, fn, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/* Walk a bio_vec array: each entry is physically contiguous, its offset may pass a page. */
static int walk_bvecs(struct iodma_md *md, u64 off, u64 len, iodma_chunk_fn fn, void *ctx)
{
	const struct bio_vec *bv;
	unsigned int i;
	u64 take, in;
	int ret;

	for (i = 0; i < md->bvec.n && len; i++) {
		bv = &md->bvec.bv[i];
		take = iodma_clip(&off, &len, bv->bv_len, &in);
		if (!take)
			continue;
		ret = emit_pages(bv->bv_page, (u64)bv->bv_offset + in, take, fn, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

static int walk_multi(struct iodma_md *md, u64 off, u64 len, iodma_chunk_fn fn, void *ctx)
{
	struct iodma_md *part;
	unsigned int i;
	u64 take, in;
	int ret;

	for (i = 0; i < md->multi.n && len; i++) {
		part = md->multi.mds[i];
		take = iodma_clip(&off, &len, part->length, &in);
		if (!take)
			continue;
		ret = iodma_md_walk(part, in, take, fn, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * iodma_md_walk() - call @fn for each chunk of [@offset, @offset + @len)
 * @md: the descriptor
 * @offset: first byte
 * @len: bytes; the range must lie inside @md
 * @fn: callback; a nonzero return stops the walk and is returned
 * @ctx: passed to @fn
 *
 * User descriptors can only be walked while prepared.
 *
 * Return: 0, @fn's nonzero return, -EFAULT for user memory not pinned, or
 * -EINVAL for a range outside @md.
 */
int iodma_md_walk(struct iodma_md *md, u64 offset, u64 len, iodma_chunk_fn fn, void *ctx)
{
	if (WARN_ON_ONCE(offset > md->length || len > md->length - offset))
		return -EINVAL;

	switch (md->kind) {
	case IODMA_MD_KVA:
		return emit_pages(virt_to_page(md->kva.addr), offset_in_page(md->kva.addr) + offset,
				  len, fn, ctx);
	case IODMA_MD_VMALLOC:
		return walk_vmalloc(md->kva.addr, offset, len, fn, ctx);
	case IODMA_MD_PAGES:
		return walk_page_array(md->pages.pages, md->pages.offset, offset, len, fn, ctx);
	case IODMA_MD_USER: {
		/* pairs with the release in user_pin(): a wired count, then the array */
		struct page **pages = smp_load_acquire(&md->user.pages);

		if (!pages)
			return -EFAULT;
		return walk_page_array(pages, offset_in_page(md->user.uaddr), offset, len, fn,
				       ctx);
	}
	case IODMA_MD_SGTABLE:
	case IODMA_MD_MAPPED:
		return walk_sgt(md, offset, len, fn, ctx);
	case IODMA_MD_PHYS:
		return walk_phys(md, offset, len, fn, ctx);
	case IODMA_MD_SUBRANGE:
		return iodma_md_walk(md->sub.parent, md->sub.offset + offset, len, fn, ctx);
	case IODMA_MD_MULTI:
		return walk_multi(md, offset, len, fn, ctx);
	case IODMA_MD_COPYBUF:
		return iodma_cbuf_walk(&md->cbuf, offset, len, false, fn, ctx);
	case IODMA_MD_BVEC:
		return walk_bvecs(md, offset, len, fn, ctx);
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(iodma_md_walk);

struct copy_ctx {
	u8 *buf;
	bool to_md;
	u64 done;
};

/* Copy one chunk page by page through kmap_local_page(); bus memory is skipped. */
static int copy_chunk(void *arg, const struct iodma_chunk *c)
{
	struct copy_ctx *cc = arg;
	struct page *page = c->page;
	size_t pgoff = c->pgoff;
	u64 left = c->len;

	if (!page)
		return 0;
	while (left) {
		size_t n = min_t(u64, PAGE_SIZE - pgoff, left);

		if (cc->to_md)
			memcpy_to_page(page, pgoff, cc->buf + cc->done, n);
		else
			memcpy_from_page(cc->buf + cc->done, page, pgoff, n);
		cc->done += n;
		left -= n;
		page = nth_page(page, 1);
		pgoff = 0;
	}
	return 0;
}

static u64 md_copy(struct iodma_md *md, u64 offset, void *buf, u64 len, bool to_md)
{
	struct copy_ctx cc = { .buf = buf, .to_md = to_md };
	bool wired = false;

	if (!md || !buf || offset >= md->length || md->bus)
		return 0;
	/* pinned read-only: the zero page, a read-only file's page cache */
	if (to_md && !iodma_md_cpu_writable(md))
		return 0;
	len = min(len, md->length - offset);
	if (!len)
		return 0;
	/* user memory that is not pinned is pinned for the copy only */
	if (md->kind == IODMA_MD_USER || md->kind == IODMA_MD_SUBRANGE ||
	    md->kind == IODMA_MD_MULTI) {
		if (iodma_md_prepare(md))
			return 0;
		wired = true;
	}
	iodma_md_walk(md, offset, len, copy_chunk, &cc);
	if (wired)
		iodma_md_complete(md);
	return cc.done;
}

/**
 * iodma_md_read_bytes() - copy from a descriptor's memory
 * @md: the descriptor
 * @offset: first byte in @md
 * @buf: destination
 * @len: bytes wanted; clamped to the end of @md
 *
 * Context: Process context; may sleep (user memory is pinned for the copy
 * if it is not prepared).
 * Return: bytes copied: 0 for bus memory, an @offset past the end, or user
 * memory that cannot be pinned.
 */
u64 iodma_md_read_bytes(struct iodma_md *md, u64 offset, void *buf, u64 len)
{
	return md_copy(md, offset, buf, len, false);
}
EXPORT_SYMBOL_GPL(iodma_md_read_bytes);

/**
 * iodma_md_write_bytes() - copy into a descriptor's memory
 * @md: the descriptor
 * @offset: first byte in @md
 * @buf: source
 * @len: bytes; clamped to the end of @md
 *
 * User memory described for DMA_TO_DEVICE is pinned without write access
 * (it may be the shared zero page or the page cache of a file the process
 * may only read): the CPU never writes it, and 0 bytes are copied.
 *
 * Context: Process context; may sleep (see iodma_md_read_bytes()).
 * Return: bytes copied, as for iodma_md_read_bytes(); 0 also for user
 * memory described for DMA_TO_DEVICE.
 */
u64 iodma_md_write_bytes(struct iodma_md *md, u64 offset, const void *buf, u64 len)
{
	return md_copy(md, offset, (void *)buf, len, true);
}
EXPORT_SYMBOL_GPL(iodma_md_write_bytes);
