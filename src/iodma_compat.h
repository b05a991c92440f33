/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iodma compatibility with older kernels.
 *
 * iodma is written against the current kernel API (6.12).  This header, and
 * only this header, makes older kernels look like it, so that the rest of
 * the module has no version tests: each entry below supplies a function or
 * constant that an older kernel lacks, under its current name, or adapts a
 * call whose arguments changed since.  The oldest kernel built is Debian 12's
 * 6.1 (scripts/dkms-test.sh); entries name the release that made them
 * unnecessary, and go when iodma stops supporting the kernels before it.
 *
 * Where a function exists in the older kernel with other arguments, its name
 * is redirected to an iodma_compat_ wrapper that calls the old one, as the
 * backports project does; a wrapper is defined before the redirection, so it
 * still reaches the kernel's own function.
 */
#ifndef _IODMA_COMPAT_H
#define _IODMA_COMPAT_H

#include <linux/version.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>

/* Is the kernel built against older than @major.@minor? */
#define IODMA_KERNEL_BEFORE(major, minor) \
	(LINUX_VERSION_CODE < KERNEL_VERSION(major, minor, 0))

/* 6.4 made MAX_ORDER inclusive, 6.8 renamed it MAX_PAGE_ORDER. */
#ifndef MAX_PAGE_ORDER
#if IODMA_KERNEL_BEFORE(6, 4)
#define MAX_PAGE_ORDER	(MAX_ORDER - 1)
#else
#define MAX_PAGE_ORDER	MAX_ORDER
#endif
#endif

/*
 * kmemdup_array() is 6.9's (its arguments swapped places in 6.12; both orders
 * give the same product).  A wrapper name, not a static function of the same
 * name, so that a distribution kernel that backported it still builds.
 */
#if IODMA_KERNEL_BEFORE(6, 9)
static inline void *iodma_compat_kmemdup_array(const void *src, size_t count, size_t size,
					       gfp_t gfp)
{
	return kmemdup(src, size_mul(count, size), gfp);
}

#define kmemdup_array iodma_compat_kmemdup_array
#endif

/* Before 6.5, pin_user_pages_remote() also returned the VMAs. */
#if IODMA_KERNEL_BEFORE(6, 5)
static inline long iodma_compat_pin_user_pages_remote(struct mm_struct *mm, unsigned long start,
						      unsigned long nr_pages,
						      unsigned int gup_flags,
						      struct page **pages, int *locked)
{
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages, NULL, locked);
}

#define pin_user_pages_remote iodma_compat_pin_user_pages_remote
#endif

/*
 * Before 6.3, iommu_map() and iommu_map_sg() took no gfp: a caller that
 * could not sleep used their _atomic variants.
 */
#if IODMA_KERNEL_BEFORE(6, 3)
static inline int iodma_compat_iommu_map(struct iommu_domain *domain, unsigned long iova,
					 phys_addr_t paddr, size_t size, int prot, gfp_t gfp)
{
	if (gfpflags_allow_blocking(gfp))
		return iommu_map(domain, iova, paddr, size, prot);
	return iommu_map_atomic(domain, iova, paddr, size, prot);
}

#define iommu_map iodma_compat_iommu_map

/*
 * iommu_map_sg_atomic() is not exported: without sleeping, the entries are
 * mapped one by one, back to back from @iova, as iommu_map_sg() lays them.
 */
static inline ssize_t iodma_compat_iommu_map_sg(struct iommu_domain *domain, unsigned long iova,
						struct scatterlist *sg, unsigned int nents,
						int prot, gfp_t gfp)
{
	struct scatterlist *s;
	size_t mapped = 0;
	unsigned int i;
	int ret;

	if (gfpflags_allow_blocking(gfp))
		return iommu_map_sg(domain, iova, sg, nents, prot);
	for_each_sg(sg, s, nents, i) {
		ret = iommu_map_atomic(domain, iova + mapped, sg_phys(s), s->length, prot);
		if (ret) {
			iommu_unmap(domain, iova, mapped);
			return ret;
		}
		mapped += s->length;
	}
	return mapped;
}

#define iommu_map_sg iodma_compat_iommu_map_sg
#endif

/*
 * iommu_get_resv_regions() was exported for vhost-vdpa in 6.4; before, the
 * group's regions (the device's, for a device alone in its group) serve.
 * iommu_put_resv_regions() frees either list.
 */
#if IODMA_KERNEL_BEFORE(6, 4)
static inline void iodma_compat_iommu_get_resv_regions(struct device *dev,
						       struct list_head *list)
{
	struct iommu_group *group = iommu_group_get(dev);

	if (group) {
		iommu_get_group_resv_regions(group, list);
		iommu_group_put(group);
	}
}

#define iommu_get_resv_regions iodma_compat_iommu_get_resv_regions
#endif

/* 6.2 added DMA ownership by device; before, a driver claimed its group. */
#if IODMA_KERNEL_BEFORE(6, 2)
static inline int iommu_device_claim_dma_owner(struct device *dev, void *owner)
{
	struct iommu_group *group = iommu_group_get(dev);
	int ret;

	if (!group)
		return -ENODEV;
	ret = iommu_group_claim_dma_owner(group, owner);
	iommu_group_put(group);
	return ret;
}

static inline void iommu_device_release_dma_owner(struct device *dev)
{
	struct iommu_group *group = iommu_group_get(dev);

	if (group) {
		iommu_group_release_dma_owner(group);
		iommu_group_put(group);
	}
}
#endif

/* 6.11 allocates a paging domain for a device, and says why it failed. */
#if IODMA_KERNEL_BEFORE(6, 11)
static inline struct iommu_domain *iommu_paging_domain_alloc(struct device *dev)
{
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ? domain : ERR_PTR(-ENOMEM);
}
#endif

/*
 * 6.4 made an ITER_IOVEC iterator's array private (__iov) behind iter_iov();
 * before, it was ->iov.  Only ITER_IOVEC iterators are passed to it here.
 */
#if IODMA_KERNEL_BEFORE(6, 4)
static inline const struct iovec *iter_iov(const struct iov_iter *iter)
{
	return iter->iov;
}
#endif

/*
 * ITER_FOLIOQ and struct folio_queue are 6.12's: before, no iterator is of
 * that type, and the code that reads one is left out.
 */
#define IODMA_HAVE_ITER_FOLIOQ	(!IODMA_KERNEL_BEFORE(6, 12))

#endif /* _IODMA_COMPAT_H */
