// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: concurrent use.  Kthreads hammer separate commands taken from
 * shared pools with shared descriptors (references and wiring of the same
 * descriptor change on several CPUs at once, user memory is pinned and
 * unpinned from threads that are not its owner), for a bounded number of
 * operations; then every counter must add up and every reference, pin and
 * pooled command be back.  Lockdep, KASAN and DMA-API debug watch.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include "iodma_kunit.h"

#define HAMMER_THREADS	4
#define HAMMER_OPS	300

struct hammer;

struct hammer_arg {
	struct hammer *h;
	unsigned int id;
};

struct hammer {
	struct hammer_arg args[HAMMER_THREADS];
	struct iodma_pool *pools[2];
	struct iodma_md *mds[3];
	atomic_t ok;
	atomic_t failed;
	atomic_t first_err;
	atomic_t started;
	struct completion go;
	struct completion done[HAMMER_THREADS];
};

static int hammer_fn(void *arg)
{
	struct hammer_arg *a = arg;
	struct hammer *h = a->h;
	unsigned int i, id = a->id;

	atomic_inc(&h->started);
	wait_for_completion(&h->go);
	for (i = 0; i < HAMMER_OPS; i++) {
		struct iodma_pool *pool = h->pools[(i + id) & 1];
		struct iodma_md *md = iodma_md_get(h->mds[(i * 7 + id) % 3]);
		struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);
		struct iodma_seg64 segs[8];
		u64 off = 0, len;
		int ret = cmd ? 0 : -ENOENT;

		ret = ret ?: iodma_cmd_set_memory_descriptor(cmd, md, true);
		ret = ret ?: iodma_cmd_get_prepared_offset_and_length(cmd, NULL, &len);
		while (!ret && off < len) {
			u32 n = ARRAY_SIZE(segs);

			ret = iodma_cmd_gen_segments(cmd, &off, segs, &n);
		}
		if (cmd) {
			ret = ret ?: iodma_cmd_clear_memory_descriptor(cmd, true);
			ret = ret ?: iodma_pool_put(pool, cmd);
		}
		iodma_md_put(md);
		if (ret) {
			atomic_inc(&h->failed);
			atomic_cmpxchg(&h->first_err, 0, ret);
		} else {
			atomic_inc(&h->ok);
		}
		if (!(i & 31))
			cond_resched();
	}
	complete(&h->done[id]);
	return 0;
}

static void concurrent_pools_and_shared_descriptors(struct kunit *test)
{
	struct iodma_spec plain = { .max_transfer_size = SZ_64K, .output = IODMA_OUT_HOST64 };
	struct iodma_spec bounced = { .max_transfer_size = SZ_64K, .alignment = 512,
				      .output = IODMA_OUT_LITTLE64 };
	struct hammer *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct device *dev = iodma_test_dev(test, 64);
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, SZ_16K, PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	u8 *mem = kunit_kzalloc(test, SZ_64K, GFP_KERNEL);
	struct iodma_pool_stats st[2];
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
	h->pools[0] = iodma_test_pool(test, dev, &plain, 2);
	h->pools[1] = iodma_test_pool(test, dev, &bounced, 2);
	h->mds[0] = iodma_test_md(test, iodma_md_from_kva(mem, SZ_32K, DMA_TO_DEVICE));
	h->mds[1] = iodma_test_md(test, iodma_md_from_kva(mem + 8, SZ_16K, DMA_TO_DEVICE));
	/* user memory of this task, pinned from the hammer threads (remote) */
	h->mds[2] = iodma_test_md(test, iodma_md_from_user(uaddr, SZ_16K, DMA_TO_DEVICE));
	init_completion(&h->go);
	for (i = 0; i < HAMMER_THREADS; i++) {
		struct task_struct *t;

		init_completion(&h->done[i]);
		h->args[i].h = h;
		h->args[i].id = i;
		t = kthread_run(hammer_fn, &h->args[i], "iodma-hammer%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	while (atomic_read(&h->started) < HAMMER_THREADS)
		cond_resched();
	complete_all(&h->go);
	for (i = 0; i < HAMMER_THREADS; i++)
		wait_for_completion(&h->done[i]);

	KUNIT_EXPECT_EQ(test, atomic_read(&h->first_err), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&h->failed), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&h->ok), HAMMER_THREADS * HAMMER_OPS);
	/* every reference, pin and command is back */
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, iodma_test_md_refs(h->mds[i]), 1U);
		KUNIT_EXPECT_EQ(test, iodma_test_md_wired(h->mds[i]), 0);
	}
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(h->mds[2]));
	iodma_pool_stats(h->pools[0], &st[0]);
	iodma_pool_stats(h->pools[1], &st[1]);
	KUNIT_EXPECT_EQ(test, st[0].in_use + st[1].in_use, 0U);
	KUNIT_EXPECT_EQ(test, st[0].cmd.prepares + st[1].cmd.prepares,
			(u64)HAMMER_THREADS * HAMMER_OPS);
	KUNIT_EXPECT_EQ(test, st[0].gets + st[1].gets, (u64)HAMMER_THREADS * HAMMER_OPS);
	KUNIT_EXPECT_EQ(test, st[0].puts + st[1].puts, (u64)HAMMER_THREADS * HAMMER_OPS);
	/* the misaligned descriptor bounced each time it met the aligned pool */
	KUNIT_EXPECT_GT(test, st[1].cmd.bounces, 0ULL);
	KUNIT_EXPECT_EQ(test, st[0].cmd.bounces, 0ULL);
	kunit_info(test, "%d I/Os on %d threads, %llu bounced, high water %u + %u\n",
		   atomic_read(&h->ok), HAMMER_THREADS, st[1].cmd.bounces, st[0].high_water,
		   st[1].high_water);
}

/* References taken and dropped on many CPUs at once add up. */
struct getput {
	struct iodma_md *md;
	struct completion done;
};

static int getput_fn(void *arg)
{
	struct getput *g = arg;
	unsigned int i;

	for (i = 0; i < 20000; i++) {
		iodma_md_get(g->md);
		iodma_md_put(g->md);
		if (!(i & 1023))
			cond_resched();
	}
	complete(&g->done);
	return 0;
}

static void concurrent_get_put_of_one_descriptor(struct kunit *test)
{
	struct getput *g = kunit_kcalloc(test, HAMMER_THREADS, sizeof(*g), GFP_KERNEL);
	u8 *mem = kunit_kzalloc(test, 64, GFP_KERNEL);
	struct iodma_md *md;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	md = iodma_test_md(test, iodma_md_from_kva(mem, 64, DMA_TO_DEVICE));
	for (i = 0; i < HAMMER_THREADS; i++) {
		struct task_struct *t;

		g[i].md = md;
		init_completion(&g[i].done);
		t = kthread_run(getput_fn, &g[i], "iodma-getput%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	for (i = 0; i < HAMMER_THREADS; i++)
		wait_for_completion(&g[i].done);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 1U);
}

static struct kunit_case concurrency_test_cases[] = {
	KUNIT_CASE(concurrent_pools_and_shared_descriptors),
	KUNIT_CASE(concurrent_get_put_of_one_descriptor),
	{}
};

static struct kunit_suite concurrency_test_suite = {
	.name = "iodma_concurrency",
	.test_cases = concurrency_test_cases,
};

kunit_test_suite(concurrency_test_suite);
