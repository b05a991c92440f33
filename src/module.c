// SPDX-License-Identifier: GPL-2.0-only
/*
 * iodma module glue: the version, the tracepoints, the set-up of md.c's
 * workqueue, of pool.c's memory notifier and of debugfs, and the load
 * message.  The API lives in the files named for its objects
 * (iodma_internal.h lists them in their order).
 */
#include <linux/module.h>
#include "iodma_internal.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

EXPORT_TRACEPOINT_SYMBOL_GPL(iodma_set_md);
EXPORT_TRACEPOINT_SYMBOL_GPL(iodma_prepare);
EXPORT_TRACEPOINT_SYMBOL_GPL(iodma_bounce);
EXPORT_TRACEPOINT_SYMBOL_GPL(iodma_gen);
EXPORT_TRACEPOINT_SYMBOL_GPL(iodma_complete);

/**
 * iodma_version() - the version of the loaded iodma module
 *
 * Context: Any context.
 * Return: a constant string "major.minor.patch".
 */
const char *iodma_version(void)
{
	return IODMA_VERSION;
}
EXPORT_SYMBOL_GPL(iodma_version);

static int __init iodma_init(void)
{
	int ret = iodma_md_init();

	if (ret)
		return ret;
	ret = iodma_pool_init();
	if (ret) {
		iodma_md_exit();
		return ret;
	}
	iodma_debugfs_init();
	pr_info("iodma %s loaded\n", IODMA_VERSION);
	return 0;
}

static void __exit iodma_exit(void)
{
	iodma_debugfs_exit();
	iodma_pool_exit();
	iodma_md_exit();
	pr_info("iodma %s unloaded\n", IODMA_VERSION);
}

module_init(iodma_init);
module_exit(iodma_exit);

MODULE_DESCRIPTION("IODMACommand-style DMA commands for Linux drivers");
MODULE_AUTHOR("The iodma authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(IODMA_VERSION);
