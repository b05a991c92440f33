// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: a pool's copy buffers and their budget.  Reservation only where an
 * I/O could bounce, the budget never exceeded (prepare waits, the
 * non-blocking prepare gets -EAGAIN, a buffer larger than the budget
 * -ENOBUFS), idle buffers moving from command to command without
 * allocation, the bytes the device sees, and every allocation failing in
 * turn.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "iodma_kunit.h"

/* Misaligned memory bounces: every pool I/O below may need a copy buffer. */
static const struct iodma_spec budget_spec = {
	.alignment = 512, .max_transfer_size = SZ_64K, .output = IODMA_OUT_HOST64,
};

static struct iodma_pool_stats pool_st(struct iodma_pool *pool)
{
	struct iodma_pool_stats st;

	iodma_pool_stats(pool, &st);
	return st;
}

/* The pool's count of failures with @err. */
static u64 pool_errors(struct iodma_pool *pool, const char *err)
{
	struct iodma_pool_stats st = pool_st(pool);
	unsigned int i;

	for (i = 0; i < IODMA_NR_ERRNOS; i++)
		if (!strcmp(iodma_errno_name(i), err))
			return st.errors[i];
	return U64_MAX;
}

/* A descriptor of @len bytes of kmalloc memory 8 bytes past a 512 boundary. */
static struct iodma_md *misaligned_md(struct kunit *test, u64 len, enum dma_data_direction dir,
				      u8 **mem)
{
	u8 *buf = kunit_kzalloc(test, len + 512, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	*mem = PTR_ALIGN(buf, 512) + 8;
	return iodma_test_md(test, iodma_md_from_kva(*mem, len, dir));
}

/* A pool of @count commands with @budget bytes (0: none). */
static struct iodma_pool *budget_pool(struct kunit *test, const struct iodma_spec *spec,
				      unsigned int count, u64 budget)
{
	struct iodma_pool *pool = iodma_test_pool(test, iodma_test_dev(test, 64), spec, count);

	if (budget)
		KUNIT_ASSERT_EQ(test, iodma_pool_set_bounce_budget(pool, budget), 0);
	return pool;
}

/*
 * Copy buffers are reserved where an I/O could bounce (a rule, or RAM
 * beyond the reach: dma_get_required_mask() tells), one per command.
 */
static void budget_reserves_only_where_bouncing_can_happen(struct kunit *test)
{
	static const struct {
		const char *what;
		unsigned int dev_bits;
		struct iodma_spec spec;
		int reserves;		/* 1 yes, 0 no, -1 iff RAM beyond 32 bits */
	} rows[] = {
#define H64	.output = IODMA_OUT_HOST64, .max_transfer_size = SZ_16K
		{ "no rule, 64-bit reach", 64, { H64 }, 0 },
		{ "alignment", 64, { H64, .alignment = 8 }, 1 },
		{ "length alignment", 64, { H64, .length_alignment = 4 }, 1 },
		{ "max_segments", 64, { H64, .max_segments = 4 }, 1 },
		{ "gap rule", 64, { H64, .virt_boundary_mask = 4095 }, 1 },
		{ "24-bit reach", 64, { H64, .addr_bits = 24 }, 1 },
		{ "32-bit spec", 64, { H64, .addr_bits = 32 }, -1 },
		{ "32-bit output", 64, { .max_transfer_size = SZ_16K }, -1 },
		{ "32-bit mask", 32, { H64 }, -1 },
		{ "iterate only", 64, { H64, .alignment = 8, .map = IODMA_ITERATE_ONLY }, 0 },
#undef H64
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct device *dev = iodma_test_dev(test, rows[i].dev_bits);
		struct iodma_pool *pool = iodma_test_pool(test, dev, &rows[i].spec, 3);
		bool beyond = dma_get_required_mask(dev) > DMA_BIT_MASK(32);
		bool want = rows[i].reserves < 0 ? beyond : rows[i].reserves;

		KUNIT_EXPECT_EQ_MSG(test, pool_st(pool).bounce_bytes, want ? 3ULL * SZ_16K : 0,
				    "%s", rows[i].what);
	}
}

/* A pool that reserved nothing reserves on a re-check once its reach shrinks. */
static void budget_recheck_reserves_when_reach_shrinks(struct kunit *test)
{
	static const struct iodma_spec spec = {
		.output = IODMA_OUT_HOST64, .max_transfer_size = SZ_16K,
	};
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &spec, 2);
	struct iodma_cmd *cmd;

	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, 0ULL);
	iodma_pool_recheck(pool);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, 0ULL);
	/* as if memory beyond the device's reach had been hot-added */
	KUNIT_ASSERT_EQ(test, dma_set_mask(dev, DMA_BIT_MASK(24)), 0);
	iodma_pool_recheck(pool);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, 2ULL * SZ_16K);
	/* a command in use reserves at its next prepare instead */
	cmd = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	iodma_pool_recheck(pool);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, 2ULL * SZ_16K);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
}

static void budget_set_bad_input(struct kunit *test)
{
	struct iodma_pool *pool = budget_pool(test, &budget_spec, 2, 0);
	struct iodma_cmd *cmd;

	KUNIT_EXPECT_EQ(test, iodma_pool_set_bounce_budget(NULL, SZ_64K), -EINVAL);
	KUNIT_ASSERT_EQ(test, iodma_pool_set_bounce_budget(pool, 3 * SZ_64K), 0);
	cmd = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	/* refused while a command is out: budget and buffers as they were */
	KUNIT_EXPECT_EQ(test, iodma_pool_set_bounce_budget(pool, SZ_64K), -EBUSY);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_budget, 3ULL * SZ_64K);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, 2ULL * SZ_64K);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
	/* U64_MAX is a budget like any other: no more than one buffer a command */
	KUNIT_EXPECT_EQ(test, iodma_pool_set_bounce_budget(pool, U64_MAX), 0);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, 2ULL * SZ_64K);
}

/* The reservation fills the budget with whole buffers, one a command at most. */
static void budget_reserves_up_to_the_budget(struct kunit *test)
{
	static const struct {
		unsigned int count;
		u64 budget;
		u64 bytes;
	} rows[] = {
		{ 8, 200 * SZ_1K, 3 * SZ_64K },
		{ 8, 3 * SZ_64K, 3 * SZ_64K },
		{ 8, SZ_64K - 1, 0 },
		{ 2, SZ_1M, 2 * SZ_64K },
		{ 8, 1, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct iodma_pool *pool = budget_pool(test, &budget_spec, rows[i].count,
						      rows[i].budget);
		struct iodma_pool_stats st = pool_st(pool);

		KUNIT_EXPECT_EQ_MSG(test, st.bounce_budget, rows[i].budget, "row %u", i);
		KUNIT_EXPECT_EQ_MSG(test, st.bounce_bytes, rows[i].bytes, "row %u", i);
		KUNIT_EXPECT_EQ_MSG(test, st.bounce_bytes_idle, rows[i].bytes, "row %u", i);
		/* no limit again: one buffer a command */
		KUNIT_EXPECT_EQ(test, iodma_pool_set_bounce_budget(pool, 0), 0);
		st = pool_st(pool);
		KUNIT_EXPECT_EQ_MSG(test, st.bounce_bytes, rows[i].count * (u64)SZ_64K, "row %u",
				    i);
		KUNIT_EXPECT_EQ_MSG(test, st.bounce_budget, 0ULL, "row %u", i);
	}
}

/*
 * One bounced I/O on @cmd of @md: prepare (@nowait or not), the device
 * writes @seed's pattern where FROM_DEVICE, reads where TO_DEVICE, complete.
 * Returns prepare's errno; the data is checked.
 */
static int bounced_io(struct kunit *test, struct iodma_cmd *cmd, struct iodma_md *md, u8 *mem,
		      bool nowait, u32 seed)
{
	enum dma_data_direction dir = iodma_md_direction(md);
	u64 len = iodma_md_length(md);
	struct iodma_seg64 *segs;
	u8 *want, *got;
	int n, ret;

	want = kunit_kmalloc(test, len, GFP_KERNEL);
	got = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);
	iodma_test_fill(want, len, seed);
	if (dir == DMA_TO_DEVICE)
		memcpy(mem, want, len);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	ret = nowait ? iodma_cmd_prepare_nowait(cmd, 0, 0, true, true) :
		       iodma_cmd_prepare(cmd, 0, 0, true, true);
	if (ret) {
		KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);
		KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(cmd), md);
		KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
		return ret;
	}
	KUNIT_EXPECT_EQ(test, iodma_test_bounce(cmd), IODMA_BOUNCE_ALIGNMENT);
	n = iodma_test_segments(test, cmd, 64, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, segs, n);
	if (dir == DMA_TO_DEVICE) {
		iodma_test_device_dma(test, iodma_cmd_device(cmd), segs, n, got, false);
		KUNIT_EXPECT_EQ(test, memcmp(got, want, len), 0);
	} else {
		iodma_test_device_dma(test, iodma_cmd_device(cmd), segs, n, want, true);
	}
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	if (dir != DMA_TO_DEVICE)
		KUNIT_EXPECT_EQ(test, memcmp(mem, want, len), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
	return 0;
}

/*
 * With a budget, a command put back leaves its buffer idle for the next:
 * non-blocking prepares of other commands take it, the bytes stay those of
 * the reservation, and the data is right in both directions.
 */
static void budget_idle_buffer_serves_the_next_command(struct kunit *test)
{
	struct iodma_pool *pool = budget_pool(test, &budget_spec, 4, SZ_64K);
	const enum dma_data_direction dirs[2] = { DMA_TO_DEVICE, DMA_FROM_DEVICE };
	unsigned int i;
	u8 *mem;

	KUNIT_ASSERT_EQ(test, pool_st(pool).bounce_bytes_idle, (u64)SZ_64K);
	for (i = 0; i < 8; i++) {
		struct iodma_md *md = misaligned_md(test, SZ_16K + i * 4096, dirs[i & 1], &mem);
		struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);
		struct iodma_cmd *other = iodma_pool_get(pool, GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, cmd);
		KUNIT_ASSERT_NOT_NULL(test, other);
		/* commands taken one after the other: not always the last one's */
		KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, other), 0);
		KUNIT_EXPECT_EQ(test, bounced_io(test, cmd, md, mem, true, i), 0);
		KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes_idle, 0ULL);
		KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
		KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes_idle, (u64)SZ_64K);
	}
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, (u64)SZ_64K);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_high_water, (u64)SZ_64K);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_waits, 0ULL);
}

/* Over the budget, prepare_nowait gets -EAGAIN and changes nothing. */
static void budget_nowait_over_the_budget_returns_eagain(struct kunit *test)
{
	struct iodma_pool *pool = budget_pool(test, &budget_spec, 2, SZ_64K);
	struct iodma_cmd *a = iodma_pool_get(pool, GFP_KERNEL);
	struct iodma_cmd *b = iodma_pool_get(pool, GFP_KERNEL);
	struct iodma_md *ma, *mb;
	u8 *mem_a, *mem_b;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	ma = misaligned_md(test, SZ_32K, DMA_TO_DEVICE, &mem_a);
	mb = misaligned_md(test, SZ_32K, DMA_FROM_DEVICE, &mem_b);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(a, ma, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare_nowait(a, 0, 0, true, true), 0);
	KUNIT_EXPECT_EQ(test, bounced_io(test, b, mb, mem_b, true, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, pool_errors(pool, "EAGAIN"), 1ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(a, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(a, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, a), 0);
	/* a's buffer is idle now: b takes it */
	KUNIT_EXPECT_EQ(test, bounced_io(test, b, mb, mem_b, true, 2), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, b), 0);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_high_water, (u64)SZ_64K);
}

/* A copy buffer larger than the whole budget can never be had: -ENOBUFS, counted. */
static void budget_larger_than_the_budget_returns_enobufs(struct kunit *test)
{
	struct iodma_pool *pool = budget_pool(test, &budget_spec, 2, SZ_16K);
	struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);
	struct iodma_md *md;
	u8 *mem;

	KUNIT_ASSERT_NOT_NULL(test, cmd);
	md = misaligned_md(test, SZ_32K, DMA_TO_DEVICE, &mem);
	KUNIT_EXPECT_EQ(test, bounced_io(test, cmd, md, mem, false, 3), -ENOBUFS);
	KUNIT_EXPECT_EQ(test, bounced_io(test, cmd, md, mem, true, 3), -ENOBUFS);
	KUNIT_EXPECT_EQ(test, pool_errors(pool, "ENOBUFS"), 2ULL);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, 0ULL);
	/* a smaller I/O allocates within the budget */
	md = misaligned_md(test, SZ_8K, DMA_TO_DEVICE, &mem);
	KUNIT_EXPECT_EQ(test, bounced_io(test, cmd, md, mem, false, 4), 0);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, (u64)SZ_8K);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
}

struct waiter {
	struct kunit *test;
	struct iodma_cmd *cmd;
	struct iodma_md *md;
	u8 *mem;
	int ret;
	struct completion done;
};

static int prepare_in_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = bounced_io(w->test, w->cmd, w->md, w->mem, false, 5);
	complete(&w->done);
	return 0;
}

/* A prepare that would go past the budget waits for a command to be put back. */
static void budget_prepare_waits_for_a_put(struct kunit *test)
{
	struct iodma_pool *pool = budget_pool(test, &budget_spec, 2, SZ_64K);
	struct iodma_cmd *a = iodma_pool_get(pool, GFP_KERNEL);
	struct waiter w = { .test = test };
	struct task_struct *t;
	struct iodma_md *ma;
	unsigned int ms;
	u8 *mem_a;

	KUNIT_ASSERT_NOT_NULL(test, a);
	w.cmd = iodma_pool_get(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w.cmd);
	init_completion(&w.done);
	ma = misaligned_md(test, SZ_64K - 512, DMA_TO_DEVICE, &mem_a);
	w.md = misaligned_md(test, SZ_32K, DMA_FROM_DEVICE, &w.mem);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(a, ma, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(a, 0, 0, true, true), 0);
	t = kthread_run(prepare_in_thread, &w, "iodma-budget");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	for (ms = 0; ms < 10000 && !pool_st(pool).bounce_waits; ms += 20)
		msleep(20);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_waits, 1ULL);
	KUNIT_EXPECT_FALSE(test, completion_done(&w.done));
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(a, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(a, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, a), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&w.done, 30 * HZ), 0UL);
	KUNIT_EXPECT_EQ(test, w.ret, 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, w.cmd), 0);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_high_water, (u64)SZ_64K);
}

/*
 * The bytes a copy buffer for @len bytes of budget_spec takes: chunks are
 * naturally aligned powers of two up to 1 MiB, the first try the smallest
 * that holds the rest.
 */
static u64 cbuf_bytes(u64 len)
{
	return roundup_pow_of_two(round_up(len, PAGE_SIZE));
}

/*
 * I/Os of random sizes, each on the command got next: a prepare that may
 * sleep takes an idle buffer that fits, or frees idle ones to make room for
 * a new one; one larger than the budget gets -ENOBUFS; the bytes never
 * pass the budget and the data is right.
 */
static void budget_is_never_exceeded(struct kunit *test)
{
	static const u64 budgets[] = { 40 * SZ_1K, 100 * SZ_1K, SZ_128K + SZ_4K };
	unsigned int b, i, fits = 0, refused = 0;
	u32 rnd = 12345;

	for (b = 0; b < ARRAY_SIZE(budgets); b++) {
		struct iodma_pool *pool = budget_pool(test, &budget_spec, 4, budgets[b]);

		for (i = 0; i < 48; i++) {
			struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);
			struct iodma_md *md;
			u64 len;
			u8 *mem;

			KUNIT_ASSERT_NOT_NULL(test, cmd);
			rnd = rnd * 1103515245 + 12345;
			len = 512 * (1 + (rnd >> 16) % 127);
			md = misaligned_md(test, len, i & 1 ? DMA_FROM_DEVICE : DMA_TO_DEVICE,
					   &mem);
			KUNIT_EXPECT_EQ_MSG(test, bounced_io(test, cmd, md, mem, false, i),
					    cbuf_bytes(len) > budgets[b] ? -ENOBUFS : 0,
					    "budget %llu, length %llu", budgets[b], len);
			if (cbuf_bytes(len) > budgets[b])
				refused++;
			else
				fits++;
			KUNIT_EXPECT_LE(test, pool_st(pool).bounce_bytes, budgets[b]);
			KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
		}
		KUNIT_EXPECT_LE(test, pool_st(pool).bounce_high_water, budgets[b]);
	}
	/* the draw covered both outcomes */
	KUNIT_EXPECT_GT(test, fits, 0U);
	KUNIT_EXPECT_GT(test, refused, 0U);
}

/*
 * Every allocation of a prepare that grows a buffer within the budget
 * failing in turn: -ENOMEM, the command unprepared, the bytes as before.
 */
static void budget_allocation_failures_change_nothing(struct kunit *test)
{
	struct iodma_pool *pool = budget_pool(test, &budget_spec, 2, SZ_16K);
	struct iodma_cmd *cmd = iodma_pool_get(pool, GFP_KERNEL);
	struct iodma_md *md;
	unsigned int nth;
	u8 *mem;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, cmd);
	/* no reservation (64 KiB I/Os do not fit): this prepare allocates */
	KUNIT_ASSERT_EQ(test, pool_st(pool).bounce_bytes, 0ULL);
	md = misaligned_md(test, SZ_8K, DMA_TO_DEVICE, &mem);
	for (nth = 1; nth < 64; nth++) {
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
		iodma_test_fail_nth(test, nth);
		ret = iodma_cmd_prepare(cmd, 0, 0, true, true);
		iodma_test_fail_disarm();
		if (!ret)
			break;
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);
		KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, 0ULL);
		KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
	}
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_GT(test, nth, 1U);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_bytes, (u64)SZ_8K);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_pool_put(pool, cmd), 0);
	KUNIT_EXPECT_EQ(test, pool_st(pool).bounce_high_water, (u64)SZ_8K);
}

/* The statistics file shows the budget, its use and the waits. */
static void budget_stats_file_shows_the_budget(struct kunit *test)
{
	struct iodma_pool *pool = budget_pool(test, &budget_spec, 3, 2 * SZ_64K);
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct seq_file m = { .buf = buf, .size = PAGE_SIZE - 1, .private = pool };

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, iodma_pool_stats_show(&m, NULL), 0);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nbounce_budget: 131072\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nbounce_bytes: 131072\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nbounce_bytes_idle: 131072\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nbounce_waits: 0\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nfailures_ENOBUFS: 0\n"));
}

static struct kunit_case budget_test_cases[] = {
	KUNIT_CASE(budget_reserves_only_where_bouncing_can_happen),
	KUNIT_CASE(budget_recheck_reserves_when_reach_shrinks),
	KUNIT_CASE(budget_set_bad_input),
	KUNIT_CASE(budget_reserves_up_to_the_budget),
	KUNIT_CASE(budget_idle_buffer_serves_the_next_command),
	KUNIT_CASE(budget_nowait_over_the_budget_returns_eagain),
	KUNIT_CASE(budget_larger_than_the_budget_returns_enobufs),
	KUNIT_CASE(budget_prepare_waits_for_a_put),
	KUNIT_CASE(budget_is_never_exceeded),
	KUNIT_CASE(budget_allocation_failures_change_nothing),
	KUNIT_CASE(budget_stats_file_shows_the_budget),
	{}
};

static struct kunit_suite budget_test_suite = {
	.name = "iodma_budget",
	.test_cases = budget_test_cases,
};

kunit_test_suite(budget_test_suite);
