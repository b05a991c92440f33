/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iodma_edu's compatibility with older kernels: the two PCI calls of the
 * current kernel (6.12) that Debian 12's 6.1 lacks, under their current
 * names, so that iodma_edu.c has no version tests.  The driver's own, not
 * iodma's: a client of iodma includes only <linux/iodma.h> of iodma (the
 * library's src/iodma_compat.h is private to it).  Entries name the release
 * that made them unnecessary.
 */
#ifndef _IODMA_EDU_COMPAT_H
#define _IODMA_EDU_COMPAT_H

#include <linux/pci.h>
#include <linux/version.h>

/* 6.8 renamed PCI_IRQ_LEGACY. */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX	PCI_IRQ_LEGACY
#endif

/* 6.11 maps one managed BAR; before, a mask of BARs and a table of them. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
static inline void __iomem *pcim_iomap_region(struct pci_dev *pdev, int bar, const char *name)
{
	int ret = pcim_iomap_regions(pdev, BIT(bar), name);

	if (ret)
		return IOMEM_ERR_PTR(ret);
	return pcim_iomap_table(pdev)[bar];
}
#endif

#endif /* _IODMA_EDU_COMPAT_H */
