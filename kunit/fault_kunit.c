// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: allocation-failure sweep.  Each public call sequence runs with its
 * 1st, 2nd, 3rd, ... allocation failing (iodma's own failure points, the
 * fault_attr behind debugfs iodma/fail: every allocation iodma makes or asks
 * a kernel helper for has one) until the sequence runs without reaching the
 * armed point.  At each failure the errno must be a documented one and the
 * objects exactly as before (design.rst invariant 1); kmemleak, run by the
 * harness after the suite, checks that nothing leaked.  (The task's fail-nth
 * would also hit the allocations of DMA-API debug itself, which then turns
 * itself off.)
 */
#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "iodma_kunit.h"

struct sweep {
	struct kunit *test;
	struct device *dev;
	struct iodma_cmd *cmd;
	struct iodma_md *md;		/* the descriptor under test, or a part */
	struct iodma_md *parts[2];
	struct iodma_pool *pool;
	void *mem;
	unsigned long uaddr;
	struct sg_table sgt;
	bool sgt_live;
	int kind;
};

struct sweep_case {
	const char *name;
	/* without injection: make what the sequence needs */
	void (*setup)(struct sweep *s);
	/* with injection armed: the sequence; returns 0 or an errno */
	int (*run)(struct sweep *s);
	/* after a failed run: the state must be as before */
	void (*check)(struct sweep *s);
	/* without injection: undo setup and a successful run */
	void (*teardown)(struct sweep *s);
	bool user_fault_ok;	/* -EFAULT is documented too (pinning) */
};

static const struct iodma_spec sweep_spec = { .output = IODMA_OUT_HOST64 };

/* Descriptor kinds the sequences run over. */
enum { K_KVA, K_VMALLOC, K_PAGES, K_USER, K_SGTABLE, K_SUB, K_MULTI, K_MISALIGNED };

static void make_md(struct sweep *s)
{
	struct page *pages[2];

	switch (s->kind) {
	case K_VMALLOC:
		s->mem = vzalloc(3 * PAGE_SIZE);
		s->md = iodma_md_from_kva(s->mem, 3 * PAGE_SIZE - 10, DMA_TO_DEVICE);
		break;
	case K_PAGES:
		s->mem = kzalloc(2 * PAGE_SIZE, GFP_KERNEL);
		pages[0] = virt_to_page(s->mem + PAGE_SIZE);
		pages[1] = virt_to_page(s->mem);
		s->md = iodma_md_from_pages(pages, 2, 10, 2 * PAGE_SIZE - 20, DMA_FROM_DEVICE);
		break;
	case K_USER:
		s->md = iodma_md_from_user(s->uaddr + 8, 2 * PAGE_SIZE, DMA_FROM_DEVICE);
		break;
	case K_SGTABLE:
		s->mem = kzalloc(2 * PAGE_SIZE, GFP_KERNEL);
		KUNIT_ASSERT_EQ(s->test, sg_alloc_table(&s->sgt, 2, GFP_KERNEL), 0);
		s->sgt_live = true;
		sg_set_buf(s->sgt.sgl, s->mem + PAGE_SIZE, 100);
		sg_set_buf(sg_next(s->sgt.sgl), s->mem, PAGE_SIZE);
		s->md = iodma_md_from_sgtable(&s->sgt, DMA_TO_DEVICE);
		break;
	case K_SUB:
	case K_MULTI:
		s->mem = kzalloc(2 * PAGE_SIZE, GFP_KERNEL);
		s->parts[0] = iodma_md_from_kva(s->mem, PAGE_SIZE, DMA_BIDIRECTIONAL);
		s->parts[1] = iodma_md_from_kva(s->mem + PAGE_SIZE, PAGE_SIZE, DMA_BIDIRECTIONAL);
		KUNIT_ASSERT_FALSE(s->test, IS_ERR(s->parts[0]) || IS_ERR(s->parts[1]));
		s->md = s->kind == K_SUB ? iodma_md_subrange(s->parts[0], 8, 1000) :
			iodma_md_multi(s->parts, 2, DMA_TO_DEVICE);
		break;
	case K_MISALIGNED:
		s->mem = kzalloc(SZ_64K, GFP_KERNEL);
		s->md = iodma_md_from_kva(s->mem + 8, SZ_32K, DMA_BIDIRECTIONAL);
		break;
	default:
		s->mem = kzalloc(SZ_16K, GFP_KERNEL);
		s->md = iodma_md_from_kva(s->mem, SZ_16K, DMA_TO_DEVICE);
		break;
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(s->test, s->md);
}

static void free_md(struct sweep *s)
{
	iodma_md_put(s->md);
	iodma_md_put(s->parts[0]);
	iodma_md_put(s->parts[1]);
	if (s->sgt_live)
		sg_free_table(&s->sgt);
	if (s->kind == K_VMALLOC)
		vfree(s->mem);
	else
		kfree(s->mem);
	s->md = NULL;
	s->parts[0] = NULL;
	s->parts[1] = NULL;
	s->sgt_live = false;
	s->mem = NULL;
}

/* --- create a command --- */
static void nothing(struct sweep *s)
{
}

static int run_cmd_create(struct sweep *s)
{
	s->cmd = iodma_cmd_create(s->dev, &sweep_spec);
	return PTR_ERR_OR_ZERO(s->cmd);
}

static void teardown_cmd(struct sweep *s)
{
	if (!IS_ERR_OR_NULL(s->cmd))
		iodma_cmd_destroy(s->cmd);
	s->cmd = NULL;
}

/* --- make a descriptor of each kind --- */
static void setup_parts(struct sweep *s)
{
	s->mem = kzalloc(2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(s->test, s->mem);
	s->parts[0] = iodma_md_from_kva(s->mem, PAGE_SIZE, DMA_BIDIRECTIONAL);
	s->parts[1] = iodma_md_from_kva(s->mem + PAGE_SIZE, PAGE_SIZE, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(s->test, IS_ERR(s->parts[0]) || IS_ERR(s->parts[1]));
}

static int run_md_constructors(struct sweep *s)
{
	static const struct iodma_phys_range r = { .addr = 0xfed00000, .len = 4096 };
	struct page *page = virt_to_page(s->mem);
	struct iodma_md *made[6] = {};
	int ret = 0, i;

	made[0] = iodma_md_from_kva(s->mem, 100, DMA_TO_DEVICE);
	made[1] = iodma_md_from_pages(&page, 1, 0, 100, DMA_TO_DEVICE);
	made[2] = iodma_md_from_phys(&r, 1, DMA_TO_DEVICE);
	made[3] = iodma_md_subrange(s->parts[0], 1, 10);
	made[4] = iodma_md_multi(s->parts, 2, DMA_TO_DEVICE);
	made[5] = iodma_md_from_user(s->uaddr, PAGE_SIZE, DMA_TO_DEVICE);
	for (i = 0; i < ARRAY_SIZE(made); i++) {
		if (IS_ERR(made[i]))
			ret = ret ?: PTR_ERR(made[i]);
		else
			iodma_md_put(made[i]);
	}
	return ret;
}

static void check_parts_untouched(struct sweep *s)
{
	/* a failed sub-range or multi holds no reference on its parts */
	KUNIT_EXPECT_EQ(s->test, iodma_test_md_refs(s->parts[0]), 1U);
	KUNIT_EXPECT_EQ(s->test, iodma_test_md_refs(s->parts[1]), 1U);
}

static void teardown_parts(struct sweep *s)
{
	free_md(s);
}

/* --- set + auto-prepare of each kind, bouncing or not --- */
static void setup_prepare(struct sweep *s)
{
	struct iodma_spec spec = sweep_spec;

	if (s->kind == K_MISALIGNED)
		spec.alignment = 512;
	s->cmd = iodma_cmd_create(s->dev, &spec);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(s->test, s->cmd);
	make_md(s);
}

static int run_prepare(struct sweep *s)
{
	return iodma_cmd_set_memory_descriptor(s->cmd, s->md, true);
}

static void check_prepare(struct sweep *s)
{
	struct kunit *test = s->test;

	/* a failed auto-prepare leaves no descriptor, no reference, no pin */
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(s->cmd));
	KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(s->cmd, NULL, NULL),
			-ENODATA);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(s->md), 1U);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(s->md), 0);
	if (s->kind == K_USER)
		KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(s->md));
	if (s->parts[0])
		KUNIT_EXPECT_EQ(test, iodma_test_md_wired(s->parts[0]), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_src(s->cmd), IODMA_SRC_NONE);
	KUNIT_EXPECT_EQ(test, iodma_test_bounce(s->cmd), IODMA_BOUNCE_NONE);
}

static void teardown_prepare(struct sweep *s)
{
	iodma_cmd_clear_memory_descriptor(s->cmd, true);
	teardown_cmd(s);
	free_md(s);
}

/* --- force double buffering on a prepared command --- */
static void setup_force(struct sweep *s)
{
	setup_prepare(s);
	KUNIT_ASSERT_EQ(s->test, iodma_cmd_set_memory_descriptor(s->cmd, s->md, true), 0);
}

static int run_force(struct sweep *s)
{
	return iodma_cmd_synchronize(s->cmd, IODMA_SYNC_FOR_DEVICE | IODMA_FORCE_DOUBLE_BUFFER);
}

static void check_force(struct sweep *s)
{
	u64 off = 0, len = 0;

	/* still prepared on the same range, directly */
	KUNIT_EXPECT_EQ(s->test, iodma_cmd_get_prepared_offset_and_length(s->cmd, &off, &len), 0);
	KUNIT_EXPECT_EQ(s->test, len, iodma_md_length(s->md));
	KUNIT_EXPECT_EQ(s->test, iodma_cmd_bounce_reason(s->cmd), IODMA_BOUNCE_NONE);
	KUNIT_EXPECT_NE(s->test, iodma_test_src(s->cmd), IODMA_SRC_NONE);
}

/* --- create a copy buffer, a pool --- */
static void setup_cmd(struct sweep *s)
{
	struct iodma_spec spec = sweep_spec;

	spec.alignment = SZ_8K;
	s->cmd = iodma_cmd_create(s->dev, &spec);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(s->test, s->cmd);
}

static int run_copy_buffer(struct sweep *s)
{
	s->md = iodma_cmd_create_copy_buffer(s->cmd, DMA_FROM_DEVICE, SZ_64K + 1);
	if (IS_ERR(s->md)) {
		int ret = PTR_ERR(s->md);

		s->md = NULL;
		return ret;
	}
	return 0;
}

static void teardown_copy_buffer(struct sweep *s)
{
	iodma_md_put(s->md);
	s->md = NULL;
	teardown_cmd(s);
}

static int run_pool_create(struct sweep *s)
{
	struct iodma_spec spec = sweep_spec;

	spec.max_transfer_size = SZ_64K;
	spec.alignment = 512;
	s->pool = iodma_pool_create(s->dev, &spec, 3, "kunit-sweep");
	if (IS_ERR(s->pool)) {
		int ret = PTR_ERR(s->pool);

		s->pool = NULL;
		return ret;
	}
	return 0;
}

static void teardown_pool(struct sweep *s)
{
	iodma_pool_destroy(s->pool);
	s->pool = NULL;
}

static const struct {
	struct sweep_case c;
	int kind;
} sweep_cases[] = {
	{ { "cmd_create", nothing, run_cmd_create, NULL, teardown_cmd } },
	{ { "md_constructors", setup_parts, run_md_constructors, check_parts_untouched,
	    teardown_parts } },
	{ { "set_and_prepare_kmalloc", setup_prepare, run_prepare, check_prepare,
	    teardown_prepare }, K_KVA },
	{ { "set_and_prepare_vmalloc", setup_prepare, run_prepare, check_prepare,
	    teardown_prepare }, K_VMALLOC },
	{ { "set_and_prepare_pages", setup_prepare, run_prepare, check_prepare,
	    teardown_prepare }, K_PAGES },
	{ { "set_and_prepare_user", setup_prepare, run_prepare, check_prepare,
	    teardown_prepare, true }, K_USER },
	{ { "set_and_prepare_sgtable", setup_prepare, run_prepare, check_prepare,
	    teardown_prepare }, K_SGTABLE },
	{ { "set_and_prepare_subrange", setup_prepare, run_prepare, check_prepare,
	    teardown_prepare }, K_SUB },
	{ { "set_and_prepare_multi", setup_prepare, run_prepare, check_prepare,
	    teardown_prepare }, K_MULTI },
	{ { "set_and_prepare_bounced", setup_prepare, run_prepare, check_prepare,
	    teardown_prepare }, K_MISALIGNED },
	{ { "force_double_buffer", setup_force, run_force, check_force, teardown_prepare },
	  K_KVA },
	{ { "create_copy_buffer", setup_cmd, run_copy_buffer, NULL, teardown_copy_buffer } },
	{ { "pool_create", nothing, run_pool_create, NULL, teardown_pool } },
};

static void sweep_desc(const typeof(sweep_cases[0]) *c, char *desc)
{
	strscpy(desc, c->c.name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(sweep, sweep_cases, sweep_desc);

/* Run the sequence with its 1st, 2nd, ... allocation failing, until none is reached. */
static void sweep_allocation_failures(struct kunit *test)
{
	const typeof(sweep_cases[0]) *p = test->param_value;
	const struct sweep_case *c = &p->c;
	struct sweep s = { .test = test, .kind = p->kind };
	unsigned int nth, points = 0;
	bool done = false;

	s.dev = iodma_test_dev(test, 64);
	s.uaddr = kunit_vm_mmap(test, NULL, 0, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE,
				MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, s.uaddr, 0, "could not create a user mm");

	for (nth = 1; nth <= 500 && !done; nth++) {
		unsigned int left;
		int ret;

		c->setup(&s);
		iodma_test_fail_nth(test, nth);
		ret = c->run(&s);
		left = iodma_test_fail_disarm();

		if (ret) {
			points++;
			KUNIT_EXPECT_TRUE_MSG(test, ret == -ENOMEM ||
					      (c->user_fault_ok && ret == -EFAULT),
					      "%s: failure point %u gave %d", c->name, nth, ret);
			/* a failure without the injected one would be a bug */
			KUNIT_EXPECT_EQ_MSG(test, left, 0U, "%s: failed at %u uninjected",
					    c->name, nth);
			if (c->check)
				c->check(&s);
		} else if (left) {
			/* the sequence ran through without reaching point nth */
			done = true;
		}
		c->teardown(&s);
	}
	KUNIT_EXPECT_TRUE_MSG(test, done, "%s: more than 500 allocation points", c->name);
	kunit_info(test, "%s: %u allocation failure points, each refused cleanly\n", c->name,
		   points);
	/* every sequence allocates at least once: the sweep is not vacuous */
	KUNIT_EXPECT_GT(test, points, 0U);
}

#define POOL_PAGES	160

/* Frees the pages of a NULL-terminated (or POOL_PAGES long) array. */
static void free_page_pool(void *arg)
{
	struct page **pool = arg;
	int i;

	for (i = 0; i < POOL_PAGES && pool[i]; i++)
		__free_page(pool[i]);
}

/* Prepare @md on @cmd, check its segments against its pages, clear it. */
static void view_check(struct kunit *test, struct iodma_cmd *cmd, struct iodma_md *md,
		       struct page **pages, int npages)
{
	struct iodma_seg64 *segs;
	int i, n;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	n = iodma_test_segments(test, cmd, 7, &segs);
	/* physical addresses, no page adjacent to the next: a segment a page */
	KUNIT_EXPECT_EQ(test, n, npages);
	for (i = 0; i < n && i < npages; i++) {
		KUNIT_EXPECT_EQ(test, segs[i].addr, (u64)page_to_phys(pages[i]));
		KUNIT_EXPECT_EQ(test, segs[i].len, (u64)PAGE_SIZE);
	}
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * The view is filled in one walk while it has room; a descriptor with more
 * entries than the room makes it count, grow and fill again.  When growing
 * fails after the first walk overwrote part of the old view, the command
 * must still serve the small descriptor, then the large one once memory is
 * back.
 */
static void view_growth_failure_leaves_command_usable(struct kunit *test)
{
	static const struct iodma_spec spec = { .output = IODMA_OUT_HOST64,
						.map = IODMA_BYPASSED };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page **pool, **big;
	struct iodma_md *small_md, *big_md;
	const int nbig = POOL_PAGES / 2;	/* more than the 32 entries of a small I/O */
	int i, n = 0;

	pool = kunit_kcalloc(test, 2 * nbig, sizeof(*pool), GFP_KERNEL);
	big = kunit_kcalloc(test, nbig, sizeof(*big), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, free_page_pool, pool), 0);
	for (i = 0; i < 2 * nbig; i++) {
		pool[i] = alloc_page(GFP_KERNEL);
		if (!pool[i])
			break;
	}
	/*
	 * Each page unless it follows the one taken before: a page passed over
	 * is followed by one that cannot follow it too, so at least every
	 * other page of the pool is taken.
	 */
	for (i = 0, n = 0; i < 2 * nbig && pool[2 * nbig - 1] && n < nbig; i++)
		if (!n || page_to_phys(pool[i]) != page_to_phys(big[n - 1]) + PAGE_SIZE)
			big[n++] = pool[i];

	if (n == nbig) {
		small_md = iodma_test_md(test, iodma_md_from_pages(big, 1, 0, PAGE_SIZE,
								   DMA_TO_DEVICE));
		big_md = iodma_test_md(test, iodma_md_from_pages(big, nbig, 0,
								 (u64)nbig * PAGE_SIZE,
								 DMA_TO_DEVICE));
		view_check(test, cmd, small_md, big, 1);
		KUNIT_EXPECT_EQ(test, iodma_test_view_cap(cmd), 32U);

		iodma_test_fail_nth(test, 1);
		KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, big_md, true),
				-ENOMEM);
		KUNIT_EXPECT_EQ(test, iodma_test_fail_disarm(), 0U);
		KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(cmd), NULL);
		KUNIT_EXPECT_EQ(test, iodma_test_view_cap(cmd), 32U);

		view_check(test, cmd, small_md, big, 1);
		view_check(test, cmd, big_md, big, nbig);
		KUNIT_EXPECT_EQ(test, iodma_test_view_cap(cmd), 96U);
		view_check(test, cmd, small_md, big, 1);
	}
	if (!pool[2 * nbig - 1])
		kunit_skip(test, "no %d free pages", 2 * nbig);
	KUNIT_EXPECT_EQ(test, n, nbig);
}

static struct kunit_case fault_test_cases[] = {
	KUNIT_CASE(view_growth_failure_leaves_command_usable),
	KUNIT_CASE_PARAM(sweep_allocation_failures, sweep_gen_params),
	{}
};

static struct kunit_suite fault_test_suite = {
	.name = "iodma_fault",
	.test_cases = fault_test_cases,
};

kunit_test_suite(fault_test_suite);
