// SPDX-License-Identifier: GPL-2.0-only
/*
 * Owned IOMMU domains: a device's DMA translated by page tables iodma owns.
 *
 * iodma_domain_create() takes DMA ownership of the device's IOMMU group the
 * way VFIO does (the group goes to the blocking domain, the DMA API stops
 * being usable for it), attaches a private paging domain and sets up an IOVA
 * space for it with the kernel's iova library, minus the IOMMU's reserved
 * regions (the MSI window) and clamped to the domain's aperture.  Commands
 * created in the domain map with map_domain.c instead of the DMA API.
 * iodma_domain_destroy() gives the group back to its default domain.
 *
 * The domain is refcounted: each command holds a reference, so the page
 * tables and the IOVA space live until the last command is destroyed even if
 * the driver destroys the domain first (a driver bug that is warned about).
 */
#include <linux/dma-map-ops.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "iodma_internal.h"

static int count_dev(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

/* Keep the IOMMU's reserved regions (MSI window, firmware ranges) out of the IOVA space. */
static int reserve_regions(struct iodma_domain *d)
{
	struct iommu_resv_region *region;
	LIST_HEAD(regions);
	int ret = 0;

	iommu_get_resv_regions(d->dev, &regions);
	list_for_each_entry(region, &regions, list) {
		unsigned long lo = PFN_DOWN(region->start);
		unsigned long hi = PFN_DOWN(region->start + region->length - 1);

		if (!region->length || lo > d->last_pfn)
			continue;
		if (!reserve_iova(&d->iovad, lo, min(hi, d->last_pfn))) {
			ret = -ENOMEM;
			break;
		}
	}
	iommu_put_resv_regions(d->dev, &regions);
	return ret;
}

static int iova_space_init(struct iodma_domain *d)
{
	const struct iommu_domain_geometry *geo = &d->domain->geometry;
	int ret;

	/* the IOVA granule is the CPU page: the IOMMU must map pages that small */
	if (!d->domain->pgsize_bitmap || __ffs(d->domain->pgsize_bitmap) > PAGE_SHIFT)
		return -EOPNOTSUPP;
	d->last_pfn = PFN_DOWN(geo->aperture_end);
	ret = iova_cache_get();
	if (ret)
		return ret;
	/* IOVA 0 is never handed out: drivers take a 0 address for "none" */
	init_iova_domain(&d->iovad, PAGE_SIZE, max_t(unsigned long, 1,
						     PFN_DOWN(geo->aperture_start)));
	ret = iova_domain_init_rcaches(&d->iovad);
	if (ret)
		goto err_put_domain;
	ret = reserve_regions(d);
	if (ret)
		goto err_put_domain;
	return 0;

err_put_domain:
	put_iova_domain(&d->iovad);
	iova_cache_put();
	return ret;
}

/**
 * iodma_domain_create() - give a device a private IOMMU domain
 * @dev: the device; alone in its IOMMU group, and either without a driver or
 *	bound to one that sets driver_managed_dma (as VFIO drivers do)
 *
 * The device's DMA is translated by a paging domain of its own whose IOVAs
 * iodma allocates for commands made with iodma_cmd_create_in_domain().  From
 * now until iodma_domain_destroy() the device must not be used through the
 * DMA API (dma_map_*, dma_alloc_*): those mappings go to its default domain,
 * which it no longer uses.
 *
 * Context: Process context; may sleep.
 * Return: the domain; ERR_PTR(-EINVAL) for a NULL @dev; ERR_PTR(-ENODEV) if
 * the device is not behind an IOMMU; ERR_PTR(-EBUSY) if its group holds
 * other devices, already has an owner (another domain) or its bound driver
 * uses the DMA API; ERR_PTR(-EOPNOTSUPP) for a device that does not snoop
 * CPU caches, an IOMMU that cannot map CPU pages, or a kernel without
 * CONFIG_NEED_SG_DMA_LENGTH; ERR_PTR(-ENOMEM).
 */
struct iodma_domain *iodma_domain_create(struct device *dev)
{
	struct iodma_domain *d;
	unsigned int ndev = 0;
	int ret;

	might_sleep();
	if (!dev)
		return ERR_PTR(-EINVAL);
	if (!device_iommu_mapped(dev))
		return ERR_PTR(-ENODEV);
	/*
	 * No cache maintenance without the DMA API, and map_domain.c keeps an
	 * entry's length in its DMA length field: see there.
	 */
	if (!dev_is_dma_coherent(dev) || !IS_ENABLED(CONFIG_NEED_SG_DMA_LENGTH))
		return ERR_PTR(-EOPNOTSUPP);
	d = iodma_should_fail(sizeof(*d)) ? NULL : kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	kref_init(&d->ref);
	d->dev = get_device(dev);
	d->group = iommu_group_get(dev);
	if (!d->group) {
		ret = -ENODEV;
		goto err_free;
	}
	iommu_group_for_each_dev(d->group, &ndev, count_dev);
	if (ndev != 1) {
		ret = -EBUSY;
		goto err_put_group;
	}
	/* -EPERM: another owner, or a bound driver without driver_managed_dma */
	ret = iommu_device_claim_dma_owner(dev, d);
	if (ret) {
		ret = ret == -EPERM ? -EBUSY : ret;
		goto err_put_group;
	}
	d->domain = iommu_paging_domain_alloc(dev);
	if (IS_ERR(d->domain)) {
		ret = PTR_ERR(d->domain);
		goto err_release_owner;
	}
	ret = iommu_attach_device(d->domain, dev);
	if (ret)
		goto err_free_domain;
	/* the aperture is final once attached (it follows the IOMMU's address width) */
	ret = iova_space_init(d);
	if (ret)
		goto err_detach;
	d->attached = true;
	return d;

err_detach:
	iommu_detach_device(d->domain, dev);
err_free_domain:
	iommu_domain_free(d->domain);
err_release_owner:
	iommu_device_release_dma_owner(dev);
err_put_group:
	iommu_group_put(d->group);
err_free:
	put_device(d->dev);
	kfree(d);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(iodma_domain_create);

static void domain_release(struct kref *ref)
{
	struct iodma_domain *d = container_of(ref, struct iodma_domain, ref);

	put_iova_domain(&d->iovad);
	iova_cache_put();
	iommu_domain_free(d->domain);
	iommu_group_put(d->group);
	put_device(d->dev);
	kfree(d);
}

void iodma_domain_put(struct iodma_domain *d)
{
	kref_put(&d->ref, domain_release);
}

/**
 * iodma_domain_destroy() - give a device back its default DMA domain
 * @domain: the domain, or NULL
 *
 * The device is detached and its DMA ownership released: the DMA API works
 * for it again.  Commands of the domain should be destroyed first; one still
 * alive is warned about, and its mappings stay in page tables the device no
 * longer uses until it is destroyed.
 *
 * Context: Process context; may sleep.
 */
void iodma_domain_destroy(struct iodma_domain *domain)
{
	might_sleep();
	if (!domain)
		return;
	WARN(kref_read(&domain->ref) > 1, "iodma: domain of %s destroyed with commands alive\n",
	     dev_name(domain->dev));
	iommu_detach_device(domain->domain, domain->dev);
	iommu_device_release_dma_owner(domain->dev);
	domain->attached = false;
	iodma_domain_put(domain);
}
EXPORT_SYMBOL_GPL(iodma_domain_destroy);

/* A reference for a command of the domain (map_domain.c). */
struct iodma_domain *iodma_domain_get(struct iodma_domain *d)
{
	kref_get(&d->ref);
	return d;
}

/*
 * iodma_domain_alloc_iova() - @pages of IOVA space whose last byte is at most
 * @limit.  The iova library aligns an allocation to its size rounded up to a
 * power of two: a caller that needs an alignment asks for at least that many
 * pages.  Returns the first pfn, or 0.  Does not sleep.
 */
unsigned long iodma_domain_alloc_iova(struct iodma_domain *d, unsigned long pages, u64 limit)
{
	unsigned long limit_pfn = min_t(u64, PFN_DOWN(limit), d->last_pfn);

	return alloc_iova_fast(&d->iovad, pages, limit_pfn, true);
}

/* Give back what iodma_domain_alloc_iova() returned, with the same @pages. */
void iodma_domain_free_iova(struct iodma_domain *d, unsigned long pfn, unsigned long pages)
{
	free_iova_fast(&d->iovad, pfn, pages);
}
