// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: pools and the non-blocking prepare.  Get and put, waiting for a
 * free command, statistics, prepare_nowait under a spinlock and the
 * completion of such an I/O with interrupts off (lockdep and
 * DEBUG_ATOMIC_SLEEP watch), and the zero-allocation proof: 10,000 pooled
 * I/Os while failslab and fail_page_alloc fail every allocation of the task.
 */
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include "iodma_kunit.h"

static const struct iodma_spec pool_spec = {
	.max_transfer_size = SZ_64K, .output = IODMA_OUT_HOST64,
};

/* Misaligned memory bounces through the commands' preallocated copy buffers. */
static const struct iodma_spec bounce_spec = {
	.alignment = 512, .max_transfer_size = SZ_64K, .output = IODMA_OUT_HOST64,
};

static void pool_create_bad_input(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_spec bad = { .alignment = 3 };

	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_pool_create(NULL, &pool_spec, 1, "x")), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_pool_create(dev, &pool_spec, 0, "x")), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_pool_create(dev, &pool_spec, 1, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_pool_create(dev, &bad, 1, "x")), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_pool_create(dev, NULL, 1, "x")), -EINVAL);
}

/* The name is the pool's statistics directory, debugfs iodma/<name>: one pool a name. */
static void pool_name_is_a_unique_stats_directory(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	const char *name = iodma_test_name(test, "kunit-named");
	struct iodma_pool *pool = iodma_pool_create(dev, &pool_spec, 1, name);
	struct dentry *root, *dir = NULL;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	root = debugfs_lookup("iodma", NULL);
	if (root)
		dir = debugfs_lookup(name, root);
	KUNIT_EXPECT_NOT_NULL(test, dir);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_pool_create(dev, &pool_spec, 1, name)), -EEXIST);
	dput(dir);
	dput(root);
	iodma_pool_destroy(pool);
}

/* Gets hand out distinct commands; an empty pool answers a non-blocking get at once. */
static void pool_get_nonblocking_on_empty_pool_returns_null(struct kunit *test)
{
	struct iodma_pool *pool = iodma_test_pool(test, iodma_test_dev(test, 64), &pool_spec, 2);
	struct iodma_cmd *a = iodma_pool_get(pool, GFP_KERNEL);
	struct iodma_cmd *b = iodma_pool_get(pool, GFP_ATOMIC);

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_NE(test, a, b);
	KUNIT_EXPECT_NULL(test, iodma_pool_get(pool, GFP_NOWAIT));
	KUNIT_EXPECT_NULL(test, iodma_pool_get(pool, GFP_ATOMIC));
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, a), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, b), 0);
}

/*
 * The free commands are a stack: every command is handed out once until it
 * comes back, the last one given back is the next one taken, and a refused
 * put (twice, while in the pool) changes nothing, over many rounds.
 */
static void pool_free_commands_are_a_stack(struct kunit *test)
{
	struct iodma_pool *pool = iodma_test_pool(test, iodma_test_dev(test, 64), &pool_spec, 4);
	struct iodma_cmd *c[4], *x;
	unsigned int i, j, round;

	for (i = 0; i < 4; i++) {
		c[i] = iodma_pool_get(pool, GFP_NOWAIT);
		KUNIT_ASSERT_NOT_NULL(test, c[i]);
		for (j = 0; j < i; j++)
			KUNIT_ASSERT_PTR_NE(test, c[i], c[j]);
	}
	KUNIT_EXPECT_NULL(test, iodma_pool_get(pool, GFP_NOWAIT));
	for (round = 0; round < 50; round++) {
		/* give back two in an order that changes, the second twice */
		struct iodma_cmd *first = c[round % 4], *second = c[(round + 1 + round / 4) % 4];

		if (first == second)
			second = c[(round + 2) % 4];
		KUNIT_ASSERT_EQ(test, iodma_pool_put(pool, first), 0);
		KUNIT_ASSERT_EQ(test, iodma_pool_put(pool, second), 0);
		KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, second), -EINVAL);
		x = iodma_pool_get(pool, GFP_NOWAIT);
		KUNIT_EXPECT_PTR_EQ(test, x, second);
		x = iodma_pool_get(pool, GFP_NOWAIT);
		KUNIT_EXPECT_PTR_EQ(test, x, first);
		KUNIT_EXPECT_NULL(test, iodma_pool_get(pool, GFP_NOWAIT));
	}
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, c[i]), 0);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, c[i]), -EINVAL);
	/* all back: the last one given back comes out first */
	KUNIT_EXPECT_PTR_EQ(test, iodma_pool_get(pool, GFP_NOWAIT), c[3]);
	KUNIT_EXPECT_PTR_EQ(test, iodma_pool_get(pool, GFP_NOWAIT), c[2]);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, c[2]), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, c[3]), 0);
}

static void pool_put_with_descriptor_set_returns_ebusy(struct kunit *test)
{
	struct iodma_pool *pool = iodma_test_pool(test, iodma_test_dev(test, 64), &pool_spec, 1);
	u8 *buf = kunit_kzalloc(test, 64, GFP_KERNEL);
	struct iodma_cmd *cmd;
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	md = iodma_test_md(test, iodma_md_from_kva(buf, 64, DMA_TO_DEVICE));
	cmd = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), -EBUSY);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
}

static void pool_put_to_other_pool_or_null_returns_einval(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &pool_spec, 1);
	struct iodma_pool *other = iodma_test_pool(test, dev, &pool_spec, 1);
	struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, cmd);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(other, cmd), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(NULL, cmd), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
}

static void pool_put_twice_returns_einval(struct kunit *test)
{
	struct iodma_pool *pool = iodma_test_pool(test, iodma_test_dev(test, 64), &pool_spec, 1);
	struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, cmd);
	KUNIT_ASSERT_EQ(test, iodma_pool_put(pool, cmd), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), -EINVAL);
}

/* Gets, puts, commands in use and their high water, and the commands' own counters. */
static void pool_stats_count_gets_puts_and_prepares(struct kunit *test)
{
	struct iodma_pool *pool = iodma_test_pool(test, iodma_test_dev(test, 64), &pool_spec, 2);
	u8 *buf = kunit_kzalloc(test, 64, GFP_KERNEL);
	struct iodma_pool_stats st;
	struct iodma_cmd *a, *b;
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	md = iodma_test_md(test, iodma_md_from_kva(buf, 64, DMA_TO_DEVICE));
	a = iodma_pool_get(pool, GFP_KERNEL);
	b = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(a, md, true), 0);
	iodma_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 2U);
	KUNIT_EXPECT_EQ(test, st.high_water, 2U);
	KUNIT_EXPECT_EQ(test, st.cmd.prepares, 1ULL);

	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(a, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_pool_put(pool, a), 0);
	KUNIT_ASSERT_EQ(test, iodma_pool_put(pool, b), 0);
	iodma_pool_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 0U);
	KUNIT_EXPECT_EQ(test, st.high_water, 2U);
	KUNIT_EXPECT_EQ(test, st.gets, 2ULL);
	KUNIT_EXPECT_EQ(test, st.puts, 2ULL);
}

struct putter {
	struct iodma_pool *pool;
	struct iodma_cmd *cmd;
	int ret;
	struct completion done;	/* @ret is set; the thread no longer touches this */
};

static int put_later(void *arg)
{
	struct putter *p = arg;

	msleep(50);
	p->ret = iodma_pool_put(p->pool, p->cmd);
	complete(&p->done);
	return 0;
}

/* A blocking get waits until another thread puts a command back. */
static void pool_get_waits_for_put(struct kunit *test)
{
	struct iodma_pool *pool = iodma_test_pool(test, iodma_test_dev(test, 64), &pool_spec, 1);
	struct putter p = { .pool = pool, .ret = -1 };
	struct task_struct *t;
	struct iodma_cmd *again;

	init_completion(&p.done);
	p.cmd = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p.cmd);
	t = kthread_run(put_later, &p, "iodma-put");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	again = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, again, p.cmd);
	/* the put wakes this get before it returns to the thread: wait for it */
	wait_for_completion(&p.done);
	KUNIT_EXPECT_EQ(test, p.ret, 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, again), 0);
}

/* One pooled I/O through the fake device. */
static void pool_io_data(struct kunit *test)
{
	struct device *dev = iodma_test_data_dev(test);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &pool_spec, 2);
	u8 *mem = kunit_kzalloc(test, SZ_16K, GFP_KERNEL);
	u8 *pattern = kunit_kmalloc(test, SZ_16K, GFP_KERNEL);
	struct iodma_seg64 *segs;
	struct iodma_cmd *cmd;
	struct iodma_md *md;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_16K, DMA_FROM_DEVICE));
	cmd = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	iodma_test_fill(pattern, SZ_16K, 77);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	n = iodma_test_segments(test, cmd, 4, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_device_dma(test, dev, segs, n, pattern, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_EXPECT_EQ(test, memcmp(mem, pattern, SZ_16K), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
}

static DEFINE_SPINLOCK(nowait_lock);

/* prepare_nowait under a spinlock: no sleep (DEBUG_ATOMIC_SLEEP would report one). */
static void nowait_prepare_under_spinlock(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &pool_spec, 1);
	struct iodma_pool *bpool = iodma_test_pool(test, dev, &bounce_spec, 1);
	u8 *mem = kunit_kzalloc(test, SZ_64K, GFP_KERNEL);
	struct iodma_cmd *cmd, *bcmd;
	struct iodma_md *md, *odd;
	struct iodma_seg64 seg;
	int ret1, ret2, ret3, ret4;
	u32 n1 = 1, n2 = 1;
	u64 off1 = 0, off2 = 0;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_64K, DMA_TO_DEVICE));
	odd = iodma_test_md(test, iodma_md_from_kva(mem + 8, SZ_16K, DMA_BIDIRECTIONAL));
	cmd = iodma_pool_get(pool, GFP_KERNEL);
	bcmd = iodma_pool_get(bpool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	KUNIT_ASSERT_NOT_NULL(test, bcmd);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(bcmd, odd, false), 0);

	spin_lock(&nowait_lock);
	ret1 = iodma_cmd_prepare_nowait(cmd, 0, 0, true, true);
	ret2 = iodma_cmd_gen_segments(cmd, &off1, &seg, &n1);
	/* misaligned: bounced through the preallocated copy buffer, still atomic */
	ret3 = iodma_cmd_prepare_nowait(bcmd, 0, 0, true, true);
	ret4 = iodma_cmd_gen_segments(bcmd, &off2, &seg, &n2);
	spin_unlock(&nowait_lock);

	KUNIT_EXPECT_EQ(test, ret1, 0);
	KUNIT_EXPECT_EQ(test, ret2, 0);
	KUNIT_EXPECT_EQ(test, ret3, 0);
	KUNIT_EXPECT_EQ(test, ret4, 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(bcmd), IODMA_BOUNCE_ALIGNMENT);
	KUNIT_EXPECT_EQ(test, seg.addr & 511, 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(bcmd, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(bpool, bcmd), 0);
}

/* Where it would have to sleep, prepare_nowait says -EAGAIN and changes nothing. */
static void nowait_prepare_would_sleep_is_eagain(struct kunit *test)
{
	struct iodma_cmd *fresh = iodma_test_cmd(test, iodma_test_dev(test, 64), &pool_spec);
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	u8 *mem = kunit_kzalloc(test, SZ_8K, GFP_KERNEL);
	struct iodma_md *md, *user;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_8K, DMA_TO_DEVICE));
	user = iodma_test_md(test, iodma_md_from_user(uaddr, PAGE_SIZE, DMA_TO_DEVICE));
	/* a new command has no scatterlist yet: growing it would allocate */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(fresh, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_nowait(fresh, 0, 0, true, true), -EAGAIN);
	KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(fresh, NULL, NULL),
			-ENODATA);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(md), 0);
	/* after a blocking prepare it has one, and nowait works */
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(fresh, 0, 0, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(fresh, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_nowait(fresh, 0, 0, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(fresh, true), 0);
	/* user memory not pinned yet: pinning sleeps */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(fresh, user, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_nowait(fresh, 0, 0, true, true), -EAGAIN);
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(user));
	/* pinned by someone else: nowait only counts */
	KUNIT_ASSERT_EQ(test, iodma_md_prepare(user), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_nowait(fresh, 0, 0, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(fresh, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_md_complete(user), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_nowait(NULL, 0, 0, true, true), -EINVAL);
}

/*
 * A block driver completes in its interrupt handler: a range prepared with
 * prepare_nowait is completed (and the command's own bvec descriptor
 * cleared and put back) with interrupts off, where DEBUG_ATOMIC_SLEEP
 * reports any might_sleep(); bounced data is copied back there, and the
 * last unpin of user memory (the other holder completed first) goes to
 * iodma's workqueue.
 */
struct irq_io_row {
	const char *name;
	bool bounce;	/* offset 8 against bounce_spec's alignment of 512 */
	bool user;	/* pinned user memory rather than the command's bvecs */
};

static const struct irq_io_row irq_io_rows[] = {
	{ "kernel pages, mapped", false, false },
	{ "kernel pages, bounced", true, false },
	{ "user memory, mapped", false, true },
	{ "user memory, bounced", true, true },
};

KUNIT_ARRAY_PARAM_DESC(irq_io, irq_io_rows, name);

static void nowait_io_completes_with_interrupts_off(struct kunit *test)
{
	const struct irq_io_row *row = test->param_value;
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, row->bounce ? &bounce_spec :
						  &pool_spec, 1);
	unsigned int off = row->bounce ? 8 : 0, len = SZ_8K;
	struct page *page = iodma_test_pages(test, 2);
	u8 *pattern = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *back = kunit_kzalloc(test, len, GFP_KERNEL);
	struct bio_vec bv = { .bv_page = page, .bv_offset = off, .bv_len = len };
	struct iodma_md *user = NULL;
	struct iodma_seg64 *segs;
	unsigned long uaddr = 0, flags;
	struct iodma_cmd *cmd;
	int n, ret[4];

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, back);
	iodma_test_fill(pattern, len, 17);
	memset(page_address(page), 0, SZ_16K);
	if (row->user) {
		uaddr = kunit_vm_mmap(test, NULL, 0, SZ_16K, PROT_READ | PROT_WRITE,
				      MAP_ANONYMOUS | MAP_PRIVATE, 0);
		KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
		KUNIT_ASSERT_EQ(test, clear_user((void __user *)uaddr, SZ_16K), 0UL);
		user = iodma_test_md(test, iodma_md_from_user(uaddr + off, len, DMA_FROM_DEVICE));
		/* pinned by another holder: prepare_nowait only counts */
		KUNIT_ASSERT_EQ(test, iodma_md_prepare(user), 0);
	}
	cmd = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	ret[0] = row->user ? iodma_cmd_set_memory_descriptor(cmd, user, false) :
			     iodma_cmd_set_bvecs(cmd, &bv, 1, DMA_FROM_DEVICE, false);
	KUNIT_ASSERT_EQ(test, ret[0], 0);
	local_irq_save(flags);
	ret[0] = iodma_cmd_prepare_nowait(cmd, 0, 0, true, true);
	local_irq_restore(flags);
	KUNIT_ASSERT_EQ(test, ret[0], 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd),
			row->bounce ? IODMA_BOUNCE_ALIGNMENT : IODMA_BOUNCE_NONE);
	if (row->user)
		/* the other holder is done: the command's complete is the last */
		KUNIT_ASSERT_EQ(test, iodma_md_complete(user), 0);
	n = iodma_test_segments(test, cmd, 16, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_device_dma(test, dev, segs, n, pattern, true);

	local_irq_save(flags);
	ret[0] = iodma_cmd_complete(cmd, true, true);
	ret[1] = row->user ? 0 : iodma_cmd_clear_memory_descriptor(cmd, false);
	ret[2] = row->user ? 0 : iodma_pool_put(pool, cmd);
	ret[3] = iodma_cmd_get_prepared_offset_and_length(cmd, NULL, NULL);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, ret[0], 0);
	KUNIT_EXPECT_EQ(test, ret[1], 0);
	KUNIT_EXPECT_EQ(test, ret[2], 0);
	KUNIT_EXPECT_EQ(test, ret[3], -ENODATA);

	if (row->user) {
		KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
		KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
		flush_workqueue(iodma_wq);
		KUNIT_EXPECT_EQ(test, iodma_test_md_wired(user), 0);
		KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(user));
		KUNIT_ASSERT_EQ(test, copy_from_user(back, (void __user *)uaddr + off, len), 0UL);
	} else {
		memcpy(back, page_address(page) + off, len);
		KUNIT_EXPECT_NULL(test, memchr_inv(page_address(page), 0, off));
	}
	KUNIT_EXPECT_EQ(test, memcmp(back, pattern, len), 0);
}

/* A blocking prepare's last complete unpins at once, in the caller. */
static void blocking_prepare_unpins_in_its_complete(struct kunit *test)
{
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &pool_spec);
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct iodma_md *user;

	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
	user = iodma_test_md(test, iodma_md_from_user(uaddr, PAGE_SIZE, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, user, true), 0);
	KUNIT_EXPECT_NOT_NULL(test, iodma_test_md_pinned(user));
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	/* no flush of the workqueue: the unpin was not deferred */
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(user));
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(user), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
}

/*
 * The guest's /init arms failslab and fail_page_alloc for tasks with
 * make_it_fail (task-filter, probability 100, every time, ignore-gfp-wait
 * N, min-order 0): setting the flag on this task makes its allocations fail.
 */
static void make_it_fail_off(void *unused)
{
	current->make_it_fail = false;
}

/* One pooled I/O: get, set, prepare, gen all, complete, clear, put. */
static int pooled_io(struct iodma_pool *pool, struct iodma_md *md)
{
	struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);
	struct iodma_seg64 segs[16];
	u64 off = 0, len = iodma_md_length(md);
	int ret;

	if (!cmd)
		return -ENOENT;
	ret = iodma_cmd_set_memory_descriptor(cmd, md, false);
	ret = ret ?: iodma_cmd_prepare(cmd, 0, 0, true, true);
	while (!ret && off < len) {
		u32 n = ARRAY_SIZE(segs);

		ret = iodma_cmd_gen_segments(cmd, &off, segs, &n);
	}
	ret = ret ?: iodma_cmd_complete(cmd, true, true);
	ret = ret ?: iodma_cmd_clear_memory_descriptor(cmd, false);
	ret = ret ?: iodma_pool_put(pool, cmd);
	return ret;
}

/*
 * Make every allocation of this task fail until the test ends, after
 * checking that the injection is real; skip the test if it is not armed.
 */
static void make_task_allocations_fail(struct kunit *test)
{
	unsigned int failed_probe;
	struct page *pg;
	void *p;

	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, make_it_fail_off, NULL), 0);
	current->make_it_fail = true;
	p = kmalloc(32, GFP_KERNEL);
	pg = alloc_page(GFP_KERNEL);
	failed_probe = !p + !pg;
	kfree(p);
	if (pg)
		__free_page(pg);
	if (failed_probe != 2) {
		current->make_it_fail = false;
		kunit_skip(test, "%s (%u of 2 probes failed): see scripts/mkinitramfs.sh",
			   "failslab/fail_page_alloc not armed for make-it-fail tasks",
			   failed_probe);
	}
}

/*
 * One pooled I/O as a blk-mq queue_rq does it: a command got without
 * waiting, the request's own bio_vecs set on it, a prepare that never
 * sleeps, all segments, complete, clear, put.
 */
static int pooled_bvec_io(struct iodma_pool *pool, const struct bio_vec *bv, unsigned int n,
			  enum dma_data_direction dir)
{
	struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_NOWAIT);
	struct iodma_seg64 segs[16];
	u64 off = 0, len = 0;
	unsigned int i;
	int ret;

	if (!cmd)
		return -ENOENT;
	for (i = 0; i < n; i++)
		len += bv[i].bv_len;
	ret = iodma_cmd_set_bvecs(cmd, bv, n, dir, false);
	ret = ret ?: iodma_cmd_prepare_nowait(cmd, 0, 0, true, true);
	while (!ret && off < len) {
		u32 nsegs = ARRAY_SIZE(segs);

		ret = iodma_cmd_gen_segments(cmd, &off, segs, &nsegs);
	}
	ret = ret ?: iodma_cmd_complete(cmd, true, true);
	ret = ret ?: iodma_cmd_clear_memory_descriptor(cmd, false);
	if (ret)
		iodma_cmd_clear_memory_descriptor(cmd, true);
	return iodma_pool_put(pool, cmd) ?: ret;
}

/*
 * 10,000 pooled bio_vec I/Os (multi-page entries, offsets past a page, an
 * empty entry; bounced or not, and bounced through a pool with a copy-buffer
 * budget, whose buffers move from command to command) while every
 * allocation of the task fails: set_bvecs and prepare_nowait allocate
 * nothing.
 */
static void pool_bvec_io_allocates_nothing(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &pool_spec, 2);
	struct iodma_pool *bpool = iodma_test_pool(test, dev, &bounce_spec, 2);
	struct iodma_pool *budget = iodma_test_pool(test, dev, &bounce_spec, 3);
	struct page *page = iodma_test_pages(test, 4);
	const struct bio_vec bvs[2][3] = {
		{
			{ .bv_page = page, .bv_offset = 5000, .bv_len = 20000 },
			{ .bv_page = NULL, .bv_len = 0 },
			{ .bv_page = page, .bv_offset = SZ_32K, .bv_len = SZ_8K },
		}, {
			/* misaligned for bounce_spec: through the copy buffer */
			{ .bv_page = page, .bv_offset = 8, .bv_len = PAGE_SIZE },
			{ .bv_page = nth_page(page, 3), .bv_offset = 100, .bv_len = 3000 },
			{ .bv_page = page, .bv_offset = 9 * PAGE_SIZE, .bv_len = 2 * PAGE_SIZE },
		},
	};
	const enum dma_data_direction dirs[2] = { DMA_TO_DEVICE, DMA_BIDIRECTIONAL };
	unsigned int i, ok = 0;
	int first_err = 0;

	/* a budget of two copy buffers: a bounced I/O takes an idle one, put parks it */
	KUNIT_ASSERT_EQ(test, iodma_pool_set_bounce_budget(budget, 2 * SZ_64K), 0);
	/* warm up: the DMA-API debug tracking of this memory exists before arming */
	for (i = 0; i < 6; i++)
		KUNIT_ASSERT_EQ(test, pooled_bvec_io(i & 1 ? (i & 2 ? budget : bpool) : pool,
						     bvs[i & 1], 3, dirs[i & 1]), 0);
	make_task_allocations_fail(test);
	for (i = 0; i < 10000; i++) {
		int ret = pooled_bvec_io(i & 1 ? (i & 2 ? budget : bpool) : pool, bvs[i & 1], 3,
					 dirs[i & 1]);

		if (ret)
			first_err = first_err ?: ret;
		else
			ok++;
	}
	current->make_it_fail = false;

	KUNIT_EXPECT_EQ(test, first_err, 0);
	KUNIT_EXPECT_EQ(test, ok, 10000U);
}

/*
 * A request of sub-page pieces (a block driver's misaligned O_DIRECT I/O,
 * 512-byte bio_vecs scattered over pages): a pool whose spec allows
 * max_segments of them reserves a view that large, so that such I/Os within
 * the limit allocate nothing either.
 */
static void pool_sub_page_bvecs_within_max_segments_allocate_nothing(struct kunit *test)
{
	static const struct iodma_spec spec = {
		.max_transfer_size = SZ_32K, .max_segments = 64, .output = IODMA_OUT_HOST64,
	};
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &spec, 2);
	struct page *page = iodma_test_pages(test, 5);
	struct bio_vec *bv = kunit_kcalloc(test, 64, sizeof(*bv), GFP_KERNEL);
	unsigned int i, ok = 0;
	int first_err = 0;

	KUNIT_ASSERT_NOT_NULL(test, bv);
	/* 64 pieces of 512 bytes, each in a page of its own: 64 segments */
	for (i = 0; i < 64; i++)
		bv[i] = (struct bio_vec){ .bv_page = nth_page(page, i % 32),
					  .bv_offset = 1024 * (i / 32), .bv_len = 512 };
	KUNIT_ASSERT_EQ(test, pooled_bvec_io(pool, bv, 64, DMA_TO_DEVICE), 0);
	make_task_allocations_fail(test);
	/* DMA_TO_DEVICE: DMA-API debug tracks no cachelines of it, so allocates nothing */
	for (i = 0; i < 1000; i++) {
		int ret = pooled_bvec_io(pool, bv, 64, DMA_TO_DEVICE);

		if (ret)
			first_err = first_err ?: ret;
		else
			ok++;
	}
	current->make_it_fail = false;

	KUNIT_EXPECT_EQ(test, first_err, 0);
	KUNIT_EXPECT_EQ(test, ok, 1000U);
}

/* 10,000 pooled I/Os while every allocation of the task fails: none allocates. */
static void pool_io_allocates_nothing(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &pool_spec, 2);
	struct iodma_pool *bpool = iodma_test_pool(test, dev, &bounce_spec, 2);
	u8 *mem = kunit_kzalloc(test, SZ_64K, GFP_KERNEL);
	struct iodma_md *mds[2];
	unsigned int i, ok = 0;
	int first_err = 0;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	mds[0] = iodma_test_md(test, iodma_md_from_kva(mem, SZ_64K - SZ_4K, DMA_TO_DEVICE));
	mds[1] = iodma_test_md(test, iodma_md_from_kva(mem + 8, SZ_32K, DMA_BIDIRECTIONAL));
	/* warm up: the DMA-API debug tracking of this memory exists before arming */
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, pooled_io(i & 1 ? bpool : pool, mds[i & 1]), 0);
	make_task_allocations_fail(test);
	for (i = 0; i < 10000; i++) {
		int ret = pooled_io(i & 1 ? bpool : pool, mds[i & 1]);

		if (ret)
			first_err = first_err ?: ret;
		else
			ok++;
	}
	current->make_it_fail = false;

	KUNIT_EXPECT_EQ(test, first_err, 0);
	KUNIT_EXPECT_EQ(test, ok, 10000U);
}

static struct kunit_case pool_test_cases[] = {
	KUNIT_CASE(pool_create_bad_input),
	KUNIT_CASE(pool_name_is_a_unique_stats_directory),
	KUNIT_CASE(pool_get_nonblocking_on_empty_pool_returns_null),
	KUNIT_CASE(pool_free_commands_are_a_stack),
	KUNIT_CASE(pool_put_with_descriptor_set_returns_ebusy),
	KUNIT_CASE(pool_put_to_other_pool_or_null_returns_einval),
	KUNIT_CASE(pool_put_twice_returns_einval),
	KUNIT_CASE(pool_stats_count_gets_puts_and_prepares),
	KUNIT_CASE(pool_get_waits_for_put),
	KUNIT_CASE(pool_io_data),
	KUNIT_CASE(nowait_prepare_under_spinlock),
	KUNIT_CASE(nowait_prepare_would_sleep_is_eagain),
	KUNIT_CASE_PARAM(nowait_io_completes_with_interrupts_off, irq_io_gen_params),
	KUNIT_CASE(blocking_prepare_unpins_in_its_complete),
	KUNIT_CASE(pool_io_allocates_nothing),
	KUNIT_CASE(pool_bvec_io_allocates_nothing),
	KUNIT_CASE(pool_sub_page_bvecs_within_max_segments_allocate_nothing),
	{}
};

static struct kunit_suite pool_test_suite = {
	.name = "iodma_pool",
	.test_cases = pool_test_cases,
};

kunit_test_suite(pool_test_suite);
