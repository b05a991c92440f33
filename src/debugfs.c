// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: iodma/<pool>/stats, the counters of each pool, and iodma/fail/,
 * the fault-injection knobs of iodma's own failure points.
 *
 * The directory iodma/ is made at module load; each pool adds its own
 * directory and removes it when destroyed.  Without debugfs the pools work
 * and have no statistics file.
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include "iodma_internal.h"

static struct dentry *iodma_root;

#ifdef CONFIG_FAULT_INJECTION
/* Off until configured through debugfs iodma/fail/ (probability, interval, times...). */
struct fault_attr iodma_fail_attr = FAULT_ATTR_INITIALIZER;
EXPORT_SYMBOL_IF_KUNIT(iodma_fail_attr);

bool iodma_should_fail(size_t size)
{
	return should_fail(&iodma_fail_attr, size);
}
#endif

static int stats_show(struct seq_file *m, void *unused)
{
	struct iodma_pool *pool = m->private;
	struct iodma_pool_stats st;
	unsigned int e;

	iodma_pool_stats(pool, &st);
	seq_printf(m, "commands: %u\n", st.count);
	seq_printf(m, "in_use: %u\n", st.in_use);
	seq_printf(m, "in_use_high_water: %u\n", st.high_water);
	seq_printf(m, "gets: %llu\n", st.gets);
	seq_printf(m, "puts: %llu\n", st.puts);
	seq_printf(m, "prepares: %llu\n", st.cmd.prepares);
	seq_printf(m, "bounces: %llu\n", st.cmd.bounces);
	seq_printf(m, "bytes_bounced: %llu\n", st.cmd.bytes_bounced);
	seq_printf(m, "splits: %llu\n", st.splits);
	for (e = 0; e < IODMA_NR_ERRNOS; e++)
		seq_printf(m, "failures_%s: %llu\n", iodma_errno_name(e), st.errors[e]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

int iodma_debugfs_add_pool(struct iodma_pool *pool)
{
	struct dentry *dir;

	if (IS_ERR_OR_NULL(iodma_root))
		return 0;
	dir = debugfs_lookup(pool->name, iodma_root);
	if (dir) {
		dput(dir);
		return -EEXIST;
	}
	dir = debugfs_create_dir(pool->name, iodma_root);
	if (IS_ERR(dir))
		return 0;
	debugfs_create_file("stats", 0444, dir, pool, &stats_fops);
	pool->dir = dir;
	return 0;
}

void iodma_debugfs_remove_pool(struct iodma_pool *pool)
{
	debugfs_remove_recursive(pool->dir);
	pool->dir = NULL;
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
