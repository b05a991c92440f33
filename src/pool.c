// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pools: ready commands for an I/O path that allocates nothing.
 *
 * A pool is a list of free commands of one device and specification, a
 * lock and a wait queue, like mm/dmapool.c is a list of blocks.  Each
 * command is preallocated at creation for an I/O of max_transfer_size bytes
 * (its scatterlist, its range array and, where the specification may need
 * one, its copy buffer), so that get, set, prepare, gen, complete, clear and
 * put allocate nothing.  Copy buffers are reserved only where an I/O could
 * need one: a rule memory may break, or memory beyond the device's reach
 * (re-checked when memory is hot-added).  A byte budget caps them: the
 * commands then share their copy buffers (bounce.c's struct iodma_budget).
 * Statistics are the sum of the commands' counters, shown in debugfs as
 * iodma/<pool>/stats.
 */
#include <linux/debugfs.h>
#include <linux/blk_types.h>
#include <linux/memory.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include "iodma_internal.h"

/* The pools, for memory hot-add; also serialises their budget and re-check. */
static LIST_HEAD(pools);
static DEFINE_MUTEX(pools_lock);

static void pool_recheck(struct iodma_pool *pool);

/*
 * Preallocate what an I/O of up to @max_len bytes in page-sized pieces
 * needs, so that its prepare does not allocate.
 */
static int cmd_reserve(struct iodma_cmd *cmd, u64 max_len)
{
	/* one entry per page, one more for an offset in the first; never wraps */
	unsigned int n = min_t(u64, max_len / PAGE_SIZE + 2, SZ_64K);
	/*
	 * Scatterlist entries for sub-page pieces too (a block driver's 512-byte
	 * bio_vecs), as many as max_segments lets through in one I/O; ranges
	 * only ever hold bus memory and copy-buffer chunks.
	 */
	unsigned int sg = max_t(u64, n, min_t(u64, cmd->lim.max_segs,
					      min_t(u64, max_len / SECTOR_SIZE + 2, SZ_64K)));
	int ret;

	ret = iodma_view_reserve(&cmd->view, sg, n, GFP_KERNEL);
	if (!ret && cmd->ops->reserve)
		ret = cmd->ops->reserve(cmd, max_len);
	return ret;
}

static void pool_free_cmds(struct iodma_pool *pool)
{
	unsigned int i;
	LIST_HEAD(idle);

	for (i = 0; i < pool->count; i++) {
		pool->cmds[i]->pool = NULL;
		/* a command leaked by destroy must not point into the pool */
		iodma_bounce_drop(pool->cmds[i]);
		pool->cmds[i]->budget = NULL;
		iodma_cmd_destroy(pool->cmds[i]);
	}
	kvfree(pool->cmds);
	iodma_cmd_destroy(pool->tmpl);
	iodma_budget_trim(&pool->budget, 0, &idle);
	iodma_budget_free(&idle);
}

/*
 * Reserve copy buffers for the I/Os of a pool that may bounce: with a
 * budget, idle buffers up to it, one a command at most; without, one for
 * each free command that has none (a command in use reserves at its next
 * prepare that may sleep).  Allocated for the pool's template, the
 * commands' rules, and given to a command under the pool's lock, so that
 * no command leaves the free list meanwhile.
 */
static int pool_fill(struct iodma_pool *pool)
{
	struct iodma_budget *b = &pool->budget;
	struct iodma_md *md;
	unsigned int i;
	bool taken;

	lockdep_assert_held(&pools_lock);
	if (!pool->reserving)
		return 0;
	if (READ_ONCE(b->limit)) {
		while (iodma_budget_buffers(b) < pool->count) {
			md = iodma_budget_alloc(b, pool->tmpl, pool->max_len);
			if (IS_ERR(md))
				return PTR_ERR(md) == -ENOSPC ? 0 : PTR_ERR(md);
			/* without a limit now (a racing set): no command took it */
			if (md)
				iodma_budget_give_back(b, md);
		}
		return 0;
	}
	for (i = 0; i < pool->count; i++) {
		spin_lock_irq(&pool->lock);
		taken = pool->cmds[i]->pool_free && !pool->cmds[i]->cbuf_md;
		spin_unlock_irq(&pool->lock);
		if (!taken)
			continue;
		md = iodma_budget_alloc(b, pool->tmpl, pool->max_len);
		if (IS_ERR_OR_NULL(md))
			return PTR_ERR_OR_ZERO(md);
		spin_lock_irq(&pool->lock);
		taken = pool->cmds[i]->pool_free &&
			iodma_bounce_adopt(pool->cmds[i], md);
		spin_unlock_irq(&pool->lock);
		if (!taken)
			iodma_budget_give_back(b, md);
	}
	return 0;
}

/* debugfs iodma/<name>/stats; m->private is the pool. */
int iodma_pool_stats_show(struct seq_file *m, void *unused)
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
	seq_printf(m, "bounce_budget: %llu\n", st.bounce_budget);
	seq_printf(m, "bounce_bytes: %llu\n", st.bounce_bytes);
	seq_printf(m, "bounce_bytes_idle: %llu\n", st.bounce_bytes_idle);
	seq_printf(m, "bounce_bytes_high_water: %llu\n", st.bounce_high_water);
	seq_printf(m, "bounce_waits: %llu\n", st.bounce_waits);
	for (e = 0; e < IODMA_NR_ERRNOS; e++)
		seq_printf(m, "failures_%s: %llu\n", iodma_errno_name(e), st.errors[e]);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iodma_pool_stats_show);
DEFINE_SHOW_ATTRIBUTE(iodma_pool_stats);

/* iodma/<name>/stats; -EEXIST if a pool of that name has it already. */
static int pool_debugfs_add(struct iodma_pool *pool)
{
	struct dentry *root = iodma_debugfs_root(), *dir;

	if (IS_ERR_OR_NULL(root))
		return 0;
	dir = debugfs_lookup(pool->name, root);
	if (dir) {
		dput(dir);
		return -EEXIST;
	}
	dir = debugfs_create_dir(pool->name, root);
	if (IS_ERR(dir))
		return 0;
	debugfs_create_file("stats", 0444, dir, pool, &iodma_pool_stats_fops);
	pool->dir = dir;
	return 0;
}

/* A command of the pool: in the owned domain @domain if there is one. */
static struct iodma_cmd *pool_cmd_create(struct device *dev, struct iodma_domain *domain,
					 const struct iodma_spec *spec)
{
	return domain ? iodma_cmd_create_in_domain(domain, spec) : iodma_cmd_create(dev, spec);
}

static struct iodma_pool *pool_create(struct device *dev, struct iodma_domain *domain,
				      const struct iodma_spec *spec, unsigned int count,
				      const char *name)
{
	struct iodma_pool *pool;
	u64 max_len;
	int ret;

	if (!name || !count)
		return ERR_PTR(-EINVAL);
	ret = iodma_spec_validate(spec);
	if (ret)
		return ERR_PTR(ret);
	pool = iodma_should_fail(sizeof(*pool)) ? NULL : kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&pool->lock);
	init_waitqueue_head(&pool->wait);
	iodma_budget_init(&pool->budget);
	strscpy(pool->name, name, sizeof(pool->name));
	/* the commands, then the stack of the free ones */
	if (!iodma_should_fail(sizeof(*pool->cmds) * 2 * count))
		pool->cmds = kvcalloc(count, 2 * sizeof(*pool->cmds), GFP_KERNEL | __GFP_NOWARN);
	if (!pool->cmds) {
		ret = -ENOMEM;
		goto err_free_pool;
	}
	max_len = spec->max_transfer_size ? spec->max_transfer_size : SZ_64K;
	pool->max_len = max_len;
	/* the commands' rules, never handed out: what reservations are made for */
	pool->tmpl = pool_cmd_create(dev, domain, spec);
	if (IS_ERR(pool->tmpl)) {
		ret = PTR_ERR(pool->tmpl);
		goto err_free_array;
	}
	pool->reserving = iodma_bounce_may_need(pool->tmpl);
	for (pool->count = 0; pool->count < count; pool->count++) {
		struct iodma_cmd *cmd = pool_cmd_create(dev, domain, spec);

		if (IS_ERR(cmd)) {
			ret = PTR_ERR(cmd);
			goto err_free_cmds;
		}
		pool->cmds[pool->count] = cmd;
		cmd->pool = pool;
		cmd->budget = &pool->budget;
		ret = cmd_reserve(cmd, max_len);
		if (!ret && pool->reserving)
			ret = iodma_bounce_reserve(cmd, max_len, GFP_KERNEL);
		if (ret) {
			pool->count++;
			goto err_free_cmds;
		}
		cmd->pool_free = true;
	}
	/* handed out in creation order, the first command first */
	pool->free = pool->cmds + count;
	for (pool->nfree = 0; pool->nfree < count; pool->nfree++)
		pool->free[pool->nfree] = pool->cmds[count - 1 - pool->nfree];
	mutex_lock(&pools_lock);
	ret = pool_debugfs_add(pool);
	if (!ret) {
		list_add(&pool->node, &pools);
		/* memory hot-added since the decision above */
		pool_recheck(pool);
	}
	mutex_unlock(&pools_lock);
	if (ret)
		goto err_free_cmds;
	return pool;

err_free_cmds:
	pool_free_cmds(pool);
	goto err_free_pool;
err_free_array:
	kvfree(pool->cmds);
err_free_pool:
	kfree(pool);
	return ERR_PTR(ret);
}

/**
 * iodma_pool_create() - create a pool of ready commands
 * @dev: the device of the commands
 * @spec: their specification (copied); its max_transfer_size sizes what each
 *	command preallocates (without it, one page-sized I/O of 64 KiB)
 * @count: number of commands, at least 1
 * @name: name of the pool's debugfs directory, iodma/<name>/
 *
 * Context: Process context; may sleep.
 * Return: the pool; ERR_PTR(-EINVAL) for a NULL @dev or @name, @count 0 or
 * an invalid @spec; ERR_PTR(-EOPNOTSUPP) as for iodma_cmd_create();
 * ERR_PTR(-EEXIST) if a pool of that name exists; ERR_PTR(-ENOMEM), also
 * when a command would need a copy buffer of max_transfer_size bytes and
 * that is more than the machine's RAM (a max_transfer_size of U64_MAX with
 * an alignment rule, say).
 *
 * Each command gets a copy buffer of max_transfer_size bytes only if its
 * I/Os could bounce: where @spec has an alignment, length, segment-count or
 * gap rule, or where memory beyond the device's reach exists (RAM above
 * addr_bits or the DMA mask; IOVAs above addr_bits).  The pool re-checks
 * that when memory is hot-added.  iodma_pool_set_bounce_budget() caps it.
 */
struct iodma_pool *iodma_pool_create(struct device *dev, const struct iodma_spec *spec,
				     unsigned int count, const char *name)
{
	might_sleep();
	if (!dev)
		return ERR_PTR(-EINVAL);
	return pool_create(dev, NULL, spec, count, name);
}
EXPORT_SYMBOL_GPL(iodma_pool_create);

/**
 * iodma_pool_create_in_domain() - create a pool of ready commands in an owned IOMMU domain
 * @domain: the domain, from iodma_domain_create()
 * @spec: the commands' specification (copied), as for iodma_pool_create()
 * @count: number of commands, at least 1
 * @name: name of the pool's debugfs directory, iodma/<name>/
 *
 * As iodma_pool_create(), with commands made by iodma_cmd_create_in_domain().
 * Each MAPPED command reserves, once, an IOVA range for an I/O of
 * max_transfer_size bytes in as many pieces as its scatterlist holds (each
 * piece is mapped at page-aligned IOVA of its own, sub-page bio_vecs
 * included) and keeps it until the pool is destroyed: its
 * prepares allocate no IOVA, and the page tables under the range stay
 * between I/Os.  Its complete still unmaps the range and flushes the IOTLB
 * before it returns.
 *
 * Context: Process context; may sleep.
 * Return: the pool; ERR_PTR(-EINVAL) for a NULL @domain or @name, @count 0
 * or an invalid @spec; ERR_PTR(-EOPNOTSUPP) for IODMA_BYPASSED;
 * ERR_PTR(-EEXIST) if a pool of that name exists; ERR_PTR(-ENOMEM), also
 * when the domain has no IOVA range of max_transfer_size bytes left.
 */
struct iodma_pool *iodma_pool_create_in_domain(struct iodma_domain *domain,
					       const struct iodma_spec *spec,
					       unsigned int count, const char *name)
{
	might_sleep();
	if (!domain)
		return ERR_PTR(-EINVAL);
	return pool_create(domain->dev, domain, spec, count, name);
}
EXPORT_SYMBOL_GPL(iodma_pool_create_in_domain);

static struct iodma_cmd *take_free(struct iodma_pool *pool)
{
	struct iodma_cmd *cmd;
	unsigned long flags;

	spin_lock_irqsave(&pool->lock, flags);
	cmd = pool->dying || !pool->nfree ? NULL : pool->free[--pool->nfree];
	if (cmd) {
		cmd->pool_free = false;
		pool->in_use++;
		pool->high_water = max(pool->high_water, pool->in_use);
		pool->gets++;
	}
	spin_unlock_irqrestore(&pool->lock, flags);
	return cmd;
}

/*
 * Sleepers in iodma_pool_get() are counted, so that a pool destroyed under
 * them (a driver bug, warned about) wakes them with NULL and waits for them
 * to be gone before its wait queue is freed.
 */
static bool waiter_enter(struct iodma_pool *pool)
{
	bool ok;

	spin_lock_irq(&pool->lock);
	ok = !pool->dying;
	pool->waiters += ok;
	spin_unlock_irq(&pool->lock);
	return ok;
}

static void waiter_leave(struct iodma_pool *pool)
{
	spin_lock_irq(&pool->lock);
	/* under the lock: the destroyer cannot see 0 and free before this wake */
	if (!--pool->waiters && pool->dying)
		wake_up_all(&pool->wait);
	spin_unlock_irq(&pool->lock);
}

static bool no_waiters(struct iodma_pool *pool)
{
	bool none;

	spin_lock_irq(&pool->lock);
	none = !pool->waiters;
	spin_unlock_irq(&pool->lock);
	return none;
}

/**
 * iodma_pool_get() - take a free command from a pool
 * @pool: the pool
 * @gfp: GFP_KERNEL (or any gfp that allows blocking) waits for a free
 *	command; GFP_ATOMIC / GFP_NOWAIT returns NULL at once if none is free
 *
 * The command has no descriptor and is ready for
 * iodma_cmd_set_memory_descriptor().
 *
 * Context: Any context with a non-blocking @gfp (does not sleep); process
 * context otherwise.
 * Return: a command, or NULL (none free and @gfp does not allow waiting, or
 * a fatal signal while waiting).
 */
struct iodma_cmd *iodma_pool_get(struct iodma_pool *pool, gfp_t gfp)
{
	struct iodma_cmd *cmd;
	int ret;

	might_sleep_if(gfpflags_allow_blocking(gfp));
	/* a free command: no waiter to count, one lock round trip */
	cmd = take_free(pool);
	if (cmd || !gfpflags_allow_blocking(gfp))
		return cmd;
	if (!waiter_enter(pool))
		return NULL;
	ret = wait_event_killable(pool->wait, (cmd = take_free(pool)) != NULL ||
				  READ_ONCE(pool->dying));
	waiter_leave(pool);
	return ret ? NULL : cmd;
}
EXPORT_SYMBOL_GPL(iodma_pool_get);

/**
 * iodma_pool_put() - give a command back to its pool
 * @pool: the pool the command came from
 * @cmd: the command, with no descriptor set
 *
 * IOKit's returnCommand returns nothing; this returns an errno so that a
 * driver bug does not corrupt the pool: a command still holding a
 * descriptor stays with the caller.
 *
 * Context: Any context; does not sleep.
 * Return: 0; -EINVAL if @cmd does not belong to @pool or is already free;
 * -EBUSY if a descriptor is still set (clear it first).
 */
int iodma_pool_put(struct iodma_pool *pool, struct iodma_cmd *cmd)
{
	unsigned long flags;
	bool wake;

	if (!pool || !cmd || cmd->pool != pool)
		return -EINVAL;
	if (cmd->md)
		return -EBUSY;
	spin_lock_irqsave(&pool->lock, flags);
	if (cmd->pool_free) {
		spin_unlock_irqrestore(&pool->lock, flags);
		return -EINVAL;
	}
	/* each command is on the stack at most once: it has room */
	pool->free[pool->nfree++] = cmd;
	cmd->pool_free = true;
	pool->in_use--;
	pool->puts++;
	/*
	 * A sleeper counts itself under the lock before its first look at the
	 * free list, and looks again under the lock after queueing: one not
	 * counted yet will find this command, so no barrier is needed here.
	 */
	wake = pool->waiters;
	/* with a budget, its copy buffer serves whichever command needs one next */
	if (cmd->cbuf_md)
		iodma_bounce_park(cmd);
	spin_unlock_irqrestore(&pool->lock, flags);
	if (wake)
		wake_up(&pool->wait);
	return 0;
}
EXPORT_SYMBOL_GPL(iodma_pool_put);

/**
 * iodma_pool_destroy() - free a pool and its commands
 * @pool: the pool, or NULL
 *
 * Every command must have been put back; commands still out are a driver
 * bug: they are completed, cleared and freed with a warning.  Callers still
 * sleeping in iodma_pool_get() (another driver bug) get NULL, and the pool
 * is freed once they have left.
 *
 * Context: Process context; may sleep.
 */
void iodma_pool_destroy(struct iodma_pool *pool)
{
	might_sleep();
	if (!pool)
		return;
	WARN(pool->in_use, "iodma: pool %s destroyed with %u commands out\n", pool->name,
	     pool->in_use);
	spin_lock_irq(&pool->lock);
	pool->dying = true;
	spin_unlock_irq(&pool->lock);
	wake_up_all(&pool->wait);
	wait_event(pool->wait, no_waiters(pool));
	mutex_lock(&pools_lock);
	list_del(&pool->node);
	debugfs_remove_recursive(pool->dir);
	mutex_unlock(&pools_lock);
	pool_free_cmds(pool);
	kfree(pool);
}
EXPORT_SYMBOL_GPL(iodma_pool_destroy);

/* Sum of the pool's commands' counters (racy by design: statistics). */
void iodma_pool_stats(struct iodma_pool *pool, struct iodma_pool_stats *st)
{
	unsigned int i, e;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < pool->count; i++) {
		const struct iodma_cmd *cmd = pool->cmds[i];

		st->cmd.prepares += READ_ONCE(cmd->stats.prepares);
		st->cmd.bounces += READ_ONCE(cmd->stats.bounces);
		st->cmd.bytes_bounced += READ_ONCE(cmd->stats.bytes_bounced);
		st->splits += READ_ONCE(cmd->splits);
		for (e = 0; e < IODMA_NR_ERRNOS; e++)
			st->errors[e] += READ_ONCE(cmd->errors[e]);
	}
	st->count = pool->count;
	st->in_use = READ_ONCE(pool->in_use);
	st->high_water = READ_ONCE(pool->high_water);
	st->gets = READ_ONCE(pool->gets);
	st->puts = READ_ONCE(pool->puts);
	spin_lock_irq(&pool->budget.lock);
	st->bounce_budget = pool->budget.limit;
	st->bounce_bytes = pool->budget.bytes;
	st->bounce_bytes_idle = pool->budget.idle_bytes;
	st->bounce_high_water = pool->budget.high_water;
	st->bounce_waits = pool->budget.waits;
	spin_unlock_irq(&pool->budget.lock);
}
EXPORT_SYMBOL_IF_KUNIT(iodma_pool_stats);

/**
 * iodma_pool_set_bounce_budget() - cap the pool's copy buffers
 * @pool: the pool
 * @bytes: the most bytes of copy buffer its commands may hold at once, in
 *	use or idle; 0 for no cap (the default)
 *
 * With a budget, the commands share their copy buffers: a command put
 * back leaves its buffer for the next I/O that needs one.  A prepare that
 * would take the pool past @bytes waits until a command is put back (a
 * fatal signal: -EINTR); iodma_cmd_prepare_nowait() gets -EAGAIN unless an
 * idle buffer fits.  An I/O whose copy buffer alone would exceed @bytes
 * gets -ENOBUFS.  Buffers are reserved up to @bytes (one per command at
 * most) where I/Os could bounce, and idle ones beyond it are freed; the
 * high water in the statistics starts again from there.
 *
 * A thread that holds a bounced command of the pool while it prepares
 * another of the same pool (a source and a destination, say) waits for
 * itself if the budget holds less than both buffers: size the budget for
 * the most buffers one thread holds at once, or use prepare_nowait.
 *
 * Context: Process context; may sleep.
 * Return: 0, -EINVAL for a NULL @pool, -EBUSY while a command is out of
 * the pool, -ENOMEM if the reservation could not be allocated (the budget
 * is set all the same; I/Os allocate within it as they need).
 */
int iodma_pool_set_bounce_budget(struct iodma_pool *pool, u64 bytes)
{
	unsigned int i;
	int ret = -EBUSY;
	LIST_HEAD(excess);

	might_sleep();
	if (!pool)
		return -EINVAL;
	mutex_lock(&pools_lock);
	spin_lock_irq(&pool->lock);
	if (!pool->in_use) {
		/* every command is free: each leaves its buffer idle */
		WRITE_ONCE(pool->budget.limit, bytes);
		for (i = 0; i < pool->count; i++)
			iodma_bounce_park(pool->cmds[i]);
		iodma_budget_trim(&pool->budget, bytes, &excess);
		ret = 0;
	}
	spin_unlock_irq(&pool->lock);
	iodma_budget_free(&excess);
	if (!ret)
		ret = pool_fill(pool);
	mutex_unlock(&pools_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(iodma_pool_set_bounce_budget);

static void pool_recheck(struct iodma_pool *pool)
{
	lockdep_assert_held(&pools_lock);
	if (pool->reserving || !iodma_bounce_may_need(pool->tmpl))
		return;
	pool->reserving = true;
	/* -ENOMEM: prepares that may sleep allocate what they need */
	pool_fill(pool);
}

/*
 * iodma_pool_recheck() - memory was hot-added: I/Os of a pool that needed
 * no copy buffer may need one now.
 */
void iodma_pool_recheck(struct iodma_pool *pool)
{
	iodma_dev_limits_changed();
	mutex_lock(&pools_lock);
	pool_recheck(pool);
	mutex_unlock(&pools_lock);
}
EXPORT_SYMBOL_IF_KUNIT(iodma_pool_recheck);

static int memory_event(struct notifier_block *nb, unsigned long action, void *arg)
{
	struct iodma_pool *pool;

	/*
	 * The memory present decides whether a device's mask limits it.  Also
	 * before the memory goes on line: onlining frees its pages to the
	 * allocator before MEM_ONLINE is sent, and a prepare in between must
	 * not use the limits cached before.
	 */
	if (action == MEM_GOING_ONLINE || action == MEM_ONLINE || action == MEM_OFFLINE ||
	    action == MEM_CANCEL_ONLINE)
		iodma_dev_limits_changed();
	if (action != MEM_ONLINE)
		return NOTIFY_OK;
	mutex_lock(&pools_lock);
	list_for_each_entry(pool, &pools, node)
		pool_recheck(pool);
	mutex_unlock(&pools_lock);
	return NOTIFY_OK;
}

static struct notifier_block memory_nb = {
	.notifier_call = memory_event,
};

int iodma_pool_init(void)
{
	return register_memory_notifier(&memory_nb);
}

void iodma_pool_exit(void)
{
	unregister_memory_notifier(&memory_nb);
}
