// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: the directory iodma/, made at module load, with iodma/fail/, the
 * fault-injection knobs of iodma's own failure points (fault.c).  Each pool
 * adds its statistics under it (pool.c).  Without debugfs everything works
 * and nothing is shown.
 */
#include <linux/debugfs.h>
#include "iodma_internal.h"

static struct dentry *iodma_root;

/* iodma/, or an error pointer or NULL when debugfs is not there. */
struct dentry *iodma_debugfs_root(void)
{
	return iodma_root;
}

void iodma_debugfs_init(void)
{
	iodma_root = debugfs_create_dir("iodma", NULL);
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	if (!IS_ERR_OR_NULL(iodma_root))
		fault_create_debugfs_attr("fail", iodma_root, &iodma_fail_attr);
#endif
}

void iodma_debugfs_exit(void)
{
	debugfs_remove_recursive(iodma_root);
	iodma_root = NULL;
}
