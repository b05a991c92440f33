// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: partial synchronisation.  iodma_cmd_synchronize_range() syncs or
 * copies only the range asked for, and iodma_cmd_complete_partial() gives
 * the CPU only the bytes the device transferred: past them the memory is
 * what it was before the I/O, whatever the device left in a copy buffer or
 * in the DMA API's own bounce slot.  Each case runs in every configuration;
 * where the DMA API itself bounces (swiotlb forced) the unbounced case
 * checks the slot's bytes too.
 */
#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/swiotlb.h>
#include "iodma_kunit.h"

#define PARTIAL_LEN	(3 * PAGE_SIZE + 700)

/* One I/O: memory holding @before, a device that writes @device. */
struct partial_io {
	struct device *dev;
	struct iodma_cmd *cmd;
	struct iodma_md *md;
	u8 *mem;		/* the descriptor's memory */
	u8 *before;		/* what it held before the I/O */
	u8 *device;		/* what the device writes */
	u8 *seen;
	struct iodma_seg64 *segs;
	int nsegs;
};

/*
 * A prepared DMA_FROM_DEVICE I/O of PARTIAL_LEN bytes.  @misaligned puts the
 * memory one byte off a 512-byte alignment rule, so that it bounces through
 * the copy buffer in every configuration.
 */
static struct partial_io *partial_io(struct kunit *test, bool misaligned)
{
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64 };
	struct partial_io *io = kunit_kzalloc(test, sizeof(*io), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, io);
	if (misaligned)
		spec.alignment = 512;
	io->dev = iodma_test_dev(test, 64);
	io->cmd = iodma_test_cmd(test, io->dev, &spec);
	io->mem = kunit_kzalloc(test, PARTIAL_LEN + 1, GFP_KERNEL);
	io->before = kunit_kmalloc(test, PARTIAL_LEN, GFP_KERNEL);
	io->device = kunit_kmalloc(test, PARTIAL_LEN, GFP_KERNEL);
	io->seen = kunit_kmalloc(test, PARTIAL_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io->mem);
	KUNIT_ASSERT_NOT_NULL(test, io->before);
	KUNIT_ASSERT_NOT_NULL(test, io->device);
	KUNIT_ASSERT_NOT_NULL(test, io->seen);
	iodma_test_fill(io->before, PARTIAL_LEN, 1);
	iodma_test_fill(io->device, PARTIAL_LEN, 2);
	if (misaligned)
		io->mem++;
	memcpy(io->mem, io->before, PARTIAL_LEN);
	io->md = iodma_test_md(test, iodma_md_from_kva(io->mem, PARTIAL_LEN, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(io->cmd, io->md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_bounce_reason(io->cmd) != IODMA_BOUNCE_NONE, misaligned);
	io->nsegs = iodma_test_segments(test, io->cmd, 16, &io->segs);
	KUNIT_ASSERT_GT(test, io->nsegs, 0);
	return io;
}

/*
 * The memory holds the device's bytes in [from, to), and elsewhere what it
 * held before the I/O, or the device's bytes there too (@device_elsewhere:
 * the device wrote the memory itself, not a copy of it).
 */
static void expect_bytes(struct kunit *test, struct partial_io *io, u64 from, u64 to,
			 bool device_elsewhere)
{
	u64 i;

	for (i = 0; i < PARTIAL_LEN; i++) {
		u8 want = io->before[i];

		if ((i >= from && i < to) || device_elsewhere)
			want = io->device[i];
		if (io->mem[i] != want) {
			KUNIT_FAIL(test, "byte %llu is %#x, expected %#x (range [%llu, %llu))",
				   i, io->mem[i], want, from, to);
			return;
		}
	}
}

static const u64 done_cases[] = { 0, 1, PARTIAL_LEN - 1, PARTIAL_LEN };

static void done_desc(const u64 *done, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "done=%llu", *done);
}

KUNIT_ARRAY_PARAM(done, done_cases, done_desc);

/*
 * A bounced I/O whose device filled the whole copy buffer: only the first
 * @done bytes come back, the rest of the memory is untouched.
 */
static void complete_partial_bounced_copies_back_only_done(struct kunit *test)
{
	u64 done = *(const u64 *)test->param_value;
	struct partial_io *io = partial_io(test, true);

	iodma_test_device_dma(test, io->dev, io->segs, io->nsegs, io->device, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete_partial(io->cmd, done, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(io->cmd), 0U);
	expect_bytes(test, io, 0, done, false);
}

/*
 * An unbounced I/O: the first @done bytes are the device's.  Past them the
 * device wrote too (a device that stops short may still have scribbled);
 * where that went straight to the memory it is there, but from a swiotlb
 * slot nothing past @done is copied back.
 */
static void complete_partial_unbounced_syncs_only_done(struct kunit *test)
{
	u64 done = *(const u64 *)test->param_value;
	struct partial_io *io = partial_io(test, false);
	bool slot = is_swiotlb_force_bounce(io->dev);

	iodma_test_device_dma(test, io->dev, io->segs, io->nsegs, io->device, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete_partial(io->cmd, done, true, true), 0);
	expect_bytes(test, io, 0, done, !slot);
}

struct user_case {
	u64 done;
	bool misaligned;
};

static const struct user_case user_cases[] = {
	{ 0, true }, { 1, true }, { PARTIAL_LEN - 1, true }, { PARTIAL_LEN, true },
	{ 0, false }, { 1, false }, { PARTIAL_LEN - 1, false }, { PARTIAL_LEN, false },
};

static void user_desc(const struct user_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "done=%llu %s", c->done,
		 c->misaligned ? "bounced" : "unbounced");
}

KUNIT_ARRAY_PARAM(user, user_cases, user_desc);

/*
 * Pinned user memory, bounced (one byte off a 512-byte rule) or not: after
 * complete_partial() the task reads the device's bytes in [0, done), and
 * past @done what it wrote before the I/O where the device's bytes went to
 * a copy (iodma's copy buffer, a swiotlb slot).
 */
static void complete_partial_user_memory_copies_back_only_done(struct kunit *test)
{
	const struct user_case *c = test->param_value;
	struct iodma_spec spec = { .output = IODMA_OUT_HOST64 };
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, PARTIAL_LEN + PAGE_SIZE,
					    PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct partial_io *io = kunit_kzalloc(test, sizeof(*io), GFP_KERNEL);
	bool slot;

	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
	KUNIT_ASSERT_LT(test, uaddr, (unsigned long)TASK_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, io);
	if (c->misaligned) {
		spec.alignment = 512;
		uaddr++;
	}
	io->dev = iodma_test_dev(test, 64);
	io->cmd = iodma_test_cmd(test, io->dev, &spec);
	io->mem = kunit_kzalloc(test, PARTIAL_LEN, GFP_KERNEL);
	io->before = kunit_kmalloc(test, PARTIAL_LEN, GFP_KERNEL);
	io->device = kunit_kmalloc(test, PARTIAL_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io->mem);
	KUNIT_ASSERT_NOT_NULL(test, io->before);
	KUNIT_ASSERT_NOT_NULL(test, io->device);
	iodma_test_fill(io->before, PARTIAL_LEN, 3);
	iodma_test_fill(io->device, PARTIAL_LEN, 4);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, io->before, PARTIAL_LEN), 0UL);
	io->md = iodma_test_md(test, iodma_md_from_user(uaddr, PARTIAL_LEN, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(io->cmd, io->md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_bounce_reason(io->cmd) == IODMA_BOUNCE_ALIGNMENT,
			c->misaligned);
	slot = c->misaligned || is_swiotlb_force_bounce(io->dev);
	io->nsegs = iodma_test_segments(test, io->cmd, 16, &io->segs);
	KUNIT_ASSERT_GT(test, io->nsegs, 0);
	iodma_test_device_dma(test, io->dev, io->segs, io->nsegs, io->device, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete_partial(io->cmd, c->done, true, true), 0);
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(io->md));
	KUNIT_ASSERT_EQ(test, copy_from_user(io->mem, (void __user *)uaddr, PARTIAL_LEN), 0UL);
	expect_bytes(test, io, 0, c->done, !slot);
}

/* A nested prepare: only the last complete looks at @done. */
static void complete_partial_nested_counts_down(struct kunit *test)
{
	struct partial_io *io = partial_io(test, true);

	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(io->cmd, 0, 0, true, true), 0);
	iodma_test_device_dma(test, io->dev, io->segs, io->nsegs, io->device, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete_partial(io->cmd, 0, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(io->cmd), 1U);
	KUNIT_EXPECT_EQ(test, memcmp(io->mem, io->before, PARTIAL_LEN), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete_partial(io->cmd, 100, true, true), 0);
	expect_bytes(test, io, 0, 100, false);
}

/* @done past the prepared range: -EINVAL, and the command stays prepared. */
static void complete_partial_beyond_range_returns_einval(struct kunit *test)
{
	struct partial_io *io = partial_io(test, true);

	KUNIT_EXPECT_EQ(test, iodma_cmd_complete_partial(io->cmd, PARTIAL_LEN + 1, true, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete_partial(io->cmd, U64_MAX, true, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(io->cmd), 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete_partial(NULL, 0, true, true), -EINVAL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(io->cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete_partial(io->cmd, 0, true, true), -ENODATA);
}

/* Bounced: FOR_CPU copies only the range out of the copy buffer. */
static void synchronize_range_for_cpu_copies_only_the_range(struct kunit *test)
{
	struct partial_io *io = partial_io(test, true);

	iodma_test_device_dma(test, io->dev, io->segs, io->nsegs, io->device, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_CPU, 100,
							  PAGE_SIZE), 0);
	expect_bytes(test, io, 100, 100 + PAGE_SIZE, false);
	/* length 0: to the end; the first range stays as it was copied */
	KUNIT_ASSERT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_CPU,
							  PARTIAL_LEN - 7, 0), 0);
	KUNIT_EXPECT_EQ(test, memcmp(io->mem + PARTIAL_LEN - 7, io->device + PARTIAL_LEN - 7, 7),
			0);
	KUNIT_EXPECT_EQ(test, memcmp(io->mem + 100, io->device + 100, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, memcmp(io->mem + 100 + PAGE_SIZE, io->before + 100 + PAGE_SIZE,
				     PARTIAL_LEN - 7 - 100 - PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, memcmp(io->mem, io->before, 100), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(io->cmd, false, false), 0);
}

/* Bounced: FOR_DEVICE copies only the range into the copy buffer. */
static void synchronize_range_for_device_copies_only_the_range(struct kunit *test)
{
	struct partial_io *io = partial_io(test, true);
	u64 i;

	/* the device's bytes in the copy buffer, then the CPU's own in part of it */
	iodma_test_device_dma(test, io->dev, io->segs, io->nsegs, io->device, true);
	memset(io->mem, 0x5a, PARTIAL_LEN);
	KUNIT_ASSERT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_DEVICE, 50,
							  10), 0);
	iodma_test_device_dma(test, io->dev, io->segs, io->nsegs, io->seen, false);
	for (i = 0; i < PARTIAL_LEN; i++) {
		u8 want = i >= 50 && i < 60 ? 0x5a : io->device[i];

		if (io->seen[i] != want) {
			KUNIT_FAIL(test, "device reads %#x at %llu, expected %#x", io->seen[i], i,
				   want);
			break;
		}
	}
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(io->cmd, false, false), 0);
}

/* Unbounced: a range sync shows the device's bytes of that range (a swiotlb slot's too). */
static void synchronize_range_unbounced_shows_the_range(struct kunit *test)
{
	struct partial_io *io = partial_io(test, false);
	bool slot = is_swiotlb_force_bounce(io->dev);

	iodma_test_device_dma(test, io->dev, io->segs, io->nsegs, io->device, true);
	KUNIT_ASSERT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_CPU,
							  PAGE_SIZE - 3, 9), 0);
	expect_bytes(test, io, PAGE_SIZE - 3, PAGE_SIZE + 6, !slot);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete_partial(io->cmd, 0, true, true), 0);
}

/* A range outside the prepared one, or no prepared range: nothing is synced. */
static void synchronize_range_bad_range_fails(struct kunit *test)
{
	struct partial_io *io = partial_io(test, true);

	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_CPU,
							  PARTIAL_LEN, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_CPU, 1,
							  PARTIAL_LEN), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_CPU,
							  U64_MAX, U64_MAX), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_CPU |
							  IODMA_SYNC_FOR_DEVICE, 0, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize_range(NULL, IODMA_SYNC_FOR_CPU, 0, 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(io->mem, io->before, PARTIAL_LEN), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(io->cmd, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize_range(io->cmd, IODMA_SYNC_FOR_CPU, 0, 1),
			-ENODATA);
}

static struct kunit_case sync_cases[] = {
	KUNIT_CASE_PARAM(complete_partial_bounced_copies_back_only_done, done_gen_params),
	KUNIT_CASE_PARAM(complete_partial_unbounced_syncs_only_done, done_gen_params),
	KUNIT_CASE_PARAM(complete_partial_user_memory_copies_back_only_done, user_gen_params),
	KUNIT_CASE(complete_partial_nested_counts_down),
	KUNIT_CASE(complete_partial_beyond_range_returns_einval),
	KUNIT_CASE(synchronize_range_for_cpu_copies_only_the_range),
	KUNIT_CASE(synchronize_range_for_device_copies_only_the_range),
	KUNIT_CASE(synchronize_range_unbounced_shows_the_range),
	KUNIT_CASE(synchronize_range_bad_range_fails),
	{}
};

static struct kunit_suite sync_suite = {
	.name = "iodma_sync",
	.test_cases = sync_cases,
};

kunit_test_suite(sync_suite);
