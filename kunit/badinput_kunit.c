// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the bad-input table.  Each row makes one wrong call on a command
 * in a known state (idle, descriptor set, prepared, prepared twice) and
 * expects its errno; the command, its descriptor's references and wiring
 * and the prepared range are snapshotted before and compared after
 * (design.rst invariant 1).
 */
#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include "iodma_kunit.h"

enum bad_state { IDLE, SET, PREPARED, PREPARED2 };

struct bad_fixture {
	struct kunit *test;
	struct device *dev;
	struct iodma_cmd *cmd;		/* 64-bit, max_transfer 64 KiB */
	struct iodma_cmd *cmd32;	/* iterate-only, 32-bit, length_alignment 512 */
	struct iodma_md *md;		/* 128 KiB of kmalloc memory, longer than max_transfer */
	struct iodma_md *other;
	struct iodma_pool *pool;
	unsigned long uaddr;		/* a read-only user page */
	u8 *mem;
};

struct snapshot {
	struct iodma_md *md;
	unsigned int prepared;
	u64 off, len;
	unsigned int md_ref, other_ref;
	int md_wire;
	enum iodma_bounce_reason bounce;
	struct iodma_spec spec;
};

static void snap(struct bad_fixture *f, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->md = iodma_cmd_get_memory_descriptor(f->cmd);
	s->prepared = iodma_test_nesting(f->cmd);
	/* unprepared: -ENODATA, and the range stays 0, 0 */
	iodma_cmd_get_prepared_offset_and_length(f->cmd, &s->off, &s->len);
	s->md_ref = iodma_test_md_refs(f->md);
	s->other_ref = iodma_test_md_refs(f->other);
	s->md_wire = iodma_test_md_wired(f->md);
	s->bounce = iodma_test_bounce(f->cmd);
	iodma_cmd_get_spec(f->cmd, &s->spec);
}

static const struct iodma_spec cmd_spec = {
	.max_transfer_size = SZ_64K, .output = IODMA_OUT_HOST64,
};

/* Each row: one call; its return value (an errno) is checked. */
struct bad_case {
	const char *name;
	enum bad_state state;
	int (*call)(struct bad_fixture *f);
	int err;
	int (*pre)(struct bad_fixture *f);	/* optional, before the snapshot */
};

static int c_set_null_cmd(struct bad_fixture *f)
{
	return iodma_cmd_set_memory_descriptor(NULL, f->md, false);
}

static int c_set_other_prepared(struct bad_fixture *f)
{
	return iodma_cmd_set_memory_descriptor(f->cmd, f->other, false);
}

static int c_set_other_auto_prepared(struct bad_fixture *f)
{
	return iodma_cmd_set_memory_descriptor(f->cmd, f->other, true);
}

static int c_set_null_prepared(struct bad_fixture *f)
{
	return iodma_cmd_set_memory_descriptor(f->cmd, NULL, false);
}

static int c_clear_prepared(struct bad_fixture *f)
{
	return iodma_cmd_clear_memory_descriptor(f->cmd, false);
}

static int c_clear_null(struct bad_fixture *f)
{
	return iodma_cmd_clear_memory_descriptor(NULL, true);
}

static int c_set_spec_while_set(struct bad_fixture *f)
{
	return iodma_cmd_set_spec(f->cmd, &cmd_spec);
}

static int c_set_spec_null(struct bad_fixture *f)
{
	return iodma_cmd_set_spec(f->cmd, NULL);
}

static int c_set_spec_null_cmd(struct bad_fixture *f)
{
	return iodma_cmd_set_spec(NULL, &cmd_spec);
}

static int c_set_spec_bad_align(struct bad_fixture *f)
{
	struct iodma_spec s = cmd_spec;

	s.alignment = 48;
	return iodma_cmd_set_spec(f->cmd, &s);
}

static int c_set_spec_bits_11(struct bad_fixture *f)
{
	struct iodma_spec s = cmd_spec;

	s.addr_bits = 11;
	return iodma_cmd_set_spec(f->cmd, &s);
}

static int c_auto_prepare_too_long(struct bad_fixture *f)
{
	return iodma_cmd_set_memory_descriptor(f->cmd, f->md, true);
}

static int c_prepare_null(struct bad_fixture *f)
{
	return iodma_cmd_prepare(NULL, 0, 0, true, true);
}

static int c_prepare_no_md(struct bad_fixture *f)
{
	return iodma_cmd_prepare(f->cmd, 0, 4096, true, true);
}

static int c_prepare_past_end(struct bad_fixture *f)
{
	return iodma_cmd_prepare(f->cmd, SZ_128K + 1, 1, true, true);
}

static int c_prepare_len_past_end(struct bad_fixture *f)
{
	return iodma_cmd_prepare(f->cmd, 4096, SZ_128K, true, true);
}

static int c_prepare_wrap(struct bad_fixture *f)
{
	return iodma_cmd_prepare(f->cmd, 8, ~0ULL - 4, true, true);
}

static int c_prepare_at_end(struct bad_fixture *f)
{
	return iodma_cmd_prepare(f->cmd, SZ_128K, 0, true, true);
}

static int c_prepare_too_long(struct bad_fixture *f)
{
	return iodma_cmd_prepare(f->cmd, 0, 0, true, true);
}

static int c_prepare_other_range(struct bad_fixture *f)
{
	return iodma_cmd_prepare(f->cmd, 4096, 4096, true, true);
}

static int c_prepare_nowait_null(struct bad_fixture *f)
{
	return iodma_cmd_prepare_nowait(NULL, 0, 0, true, true);
}

static int c_prepare_nowait_no_md(struct bad_fixture *f)
{
	return iodma_cmd_prepare_nowait(f->cmd, 0, 1, true, true);
}

static int c_prepare_len_unit(struct bad_fixture *f)
{
	return iodma_cmd_prepare(f->cmd32, 0, 1000, true, true);
}

static int c_complete_null(struct bad_fixture *f)
{
	return iodma_cmd_complete(NULL, true, true);
}

static int c_complete(struct bad_fixture *f)
{
	return iodma_cmd_complete(f->cmd, true, true);
}

static int c_sync_both(struct bad_fixture *f)
{
	return iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_DEVICE | IODMA_SYNC_FOR_CPU);
}

static int c_sync_none(struct bad_fixture *f)
{
	return iodma_cmd_synchronize(f->cmd, 0);
}

static int c_sync_unknown(struct bad_fixture *f)
{
	return iodma_cmd_synchronize(f->cmd, BIT(17) | IODMA_SYNC_FOR_CPU);
}

static int c_sync(struct bad_fixture *f)
{
	return iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_DEVICE);
}

static int c_sync_null(struct bad_fixture *f)
{
	return iodma_cmd_synchronize(NULL, IODMA_SYNC_FOR_DEVICE);
}

static int c_force(struct bad_fixture *f)
{
	return iodma_cmd_synchronize(f->cmd, IODMA_SYNC_FOR_DEVICE | IODMA_FORCE_DOUBLE_BUFFER);
}

static int c_prepared_range(struct bad_fixture *f)
{
	return iodma_cmd_get_prepared_offset_and_length(f->cmd, NULL, NULL);
}

static int c_prepared_range_null(struct bad_fixture *f)
{
	return iodma_cmd_get_prepared_offset_and_length(NULL, NULL, NULL);
}

static int gen_with(struct iodma_cmd *cmd, u64 off, bool segs, u32 cap, bool nsegs_ptr,
		    bool off_ptr)
{
	struct iodma_seg64 s[2];
	u32 n = cap;

	return iodma_cmd_gen_segments(cmd, off_ptr ? &off : NULL, segs ? s : NULL,
				      nsegs_ptr ? &n : NULL);
}

static int c_gen(struct bad_fixture *f)
{
	return gen_with(f->cmd, 0, true, 2, true, true);
}

static int c_gen_null_cmd(struct bad_fixture *f)
{
	return gen_with(NULL, 0, true, 2, true, true);
}

static int c_gen_null_off(struct bad_fixture *f)
{
	return gen_with(f->cmd, 0, true, 2, true, false);
}

static int c_gen_null_segs(struct bad_fixture *f)
{
	return gen_with(f->cmd, 0, false, 2, true, true);
}

static int c_gen_null_nsegs(struct bad_fixture *f)
{
	return gen_with(f->cmd, 0, true, 2, false, true);
}

static int c_gen_cap_zero(struct bad_fixture *f)
{
	return gen_with(f->cmd, 0, true, 0, true, true);
}

static int c_gen_at_end(struct bad_fixture *f)
{
	return gen_with(f->cmd, 4096, true, 2, true, true);
}

static int c_gen_wrap(struct bad_fixture *f)
{
	return gen_with(f->cmd, ~0ULL, true, 2, true, true);
}

static int c_gen32_on_64(struct bad_fixture *f)
{
	struct iodma_seg32 s;
	u32 n = 1;
	u64 off = 0;

	return iodma_cmd_gen32_segments(f->cmd, &off, &s, &n);
}

/* Set a one-range physical descriptor at @addr on cmd32 and generate with gen32 or gen64. */
static int gen_phys_on_cmd32(struct bad_fixture *f, phys_addr_t addr, bool wide)
{
	const struct iodma_phys_range r = { .addr = addr, .len = 512 };
	struct iodma_md *md = iodma_md_from_phys(&r, 1, DMA_TO_DEVICE);
	struct iodma_seg64 s64;
	struct iodma_seg32 s32;
	u32 n = 1;
	u64 off = 0;
	int ret;

	if (IS_ERR(md))
		return 1;
	ret = iodma_cmd_set_memory_descriptor(f->cmd32, md, true);
	if (!ret && wide)
		ret = iodma_cmd_gen64_segments(f->cmd32, &off, &s64, &n);
	else if (!ret)
		ret = iodma_cmd_gen32_segments(f->cmd32, &off, &s32, &n);
	iodma_cmd_clear_memory_descriptor(f->cmd32, true);
	iodma_md_put(md);
	return ret;
}

/* A 32-bit command given memory above 4 GiB: the value does not fit. */
static int c_gen32_above_4g(struct bad_fixture *f)
{
	return gen_phys_on_cmd32(f, SZ_4G, false);
}

static int c_gen64_on_32(struct bad_fixture *f)
{
	return gen_phys_on_cmd32(f, SZ_1M, true);
}

static int ptr_err(struct iodma_md *md)
{
	if (IS_ERR(md))
		return PTR_ERR(md);
	iodma_md_put(md);
	return 0;
}

static int c_copybuf_zero(struct bad_fixture *f)
{
	return ptr_err(iodma_cmd_create_copy_buffer(f->cmd, DMA_TO_DEVICE, 0));
}

static int c_copybuf_dir(struct bad_fixture *f)
{
	return ptr_err(iodma_cmd_create_copy_buffer(f->cmd, DMA_NONE, 8));
}

static int c_copybuf_null(struct bad_fixture *f)
{
	return ptr_err(iodma_cmd_create_copy_buffer(NULL, DMA_TO_DEVICE, 8));
}

static int cmd_err(struct iodma_cmd *cmd)
{
	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	iodma_cmd_destroy(cmd);
	return 0;
}

static int c_clone_null(struct bad_fixture *f)
{
	return cmd_err(iodma_cmd_clone(NULL, NULL));
}

static int c_create_null_dev(struct bad_fixture *f)
{
	return cmd_err(iodma_cmd_create(NULL, &cmd_spec));
}

static int c_clone_bad_spec(struct bad_fixture *f)
{
	struct iodma_spec s = cmd_spec;

	s.output = 42;
	return cmd_err(iodma_cmd_clone(f->cmd, &s));
}

static int c_pool_put_busy(struct bad_fixture *f)
{
	struct iodma_cmd *cmd = iodma_pool_get(f->pool, GFP_KERNEL);
	int ret;

	if (!cmd)
		return 1;
	iodma_cmd_set_memory_descriptor(cmd, f->other, false);
	ret = iodma_pool_put(f->pool, cmd);
	iodma_cmd_clear_memory_descriptor(cmd, true);
	iodma_pool_put(f->pool, cmd);
	return ret;
}

static int c_pool_put_foreign(struct bad_fixture *f)
{
	return iodma_pool_put(f->pool, f->cmd);
}

static int c_pool_put_twice(struct bad_fixture *f)
{
	struct iodma_cmd *cmd = iodma_pool_get(f->pool, GFP_KERNEL);

	if (!cmd || iodma_pool_put(f->pool, cmd))
		return 1;
	return iodma_pool_put(f->pool, cmd);
}

static int set_user(struct bad_fixture *f, unsigned long uaddr, enum dma_data_direction dir)
{
	struct iodma_md *md = iodma_md_from_user(uaddr, PAGE_SIZE, dir);
	int ret;

	if (IS_ERR(md))
		return PTR_ERR(md);
	ret = iodma_cmd_set_memory_descriptor(f->cmd, md, true);
	iodma_cmd_clear_memory_descriptor(f->cmd, true);
	iodma_md_put(md);
	return ret;
}

static int c_user_unmapped(struct bad_fixture *f)
{
	return set_user(f, PAGE_SIZE, DMA_TO_DEVICE);
}

static int c_user_read_only(struct bad_fixture *f)
{
	return set_user(f, f->uaddr, DMA_FROM_DEVICE);
}

static int c_user_kernel_addr(struct bad_fixture *f)
{
	return set_user(f, (unsigned long)f->mem, DMA_TO_DEVICE);
}

static int c_md_complete_unprepared(struct bad_fixture *f)
{
	return iodma_md_complete(f->other);
}

static int pre_complete(struct bad_fixture *f)
{
	return iodma_cmd_complete(f->cmd, true, true);
}

static const struct bad_case bad_cases[] = {
	{ "set_md_null_command", IDLE, c_set_null_cmd, -EINVAL },
	{ "set_other_md_while_prepared", PREPARED, c_set_other_prepared, -EBUSY },
	{ "set_other_md_auto_while_prepared", PREPARED, c_set_other_auto_prepared, -EBUSY },
	{ "set_null_while_prepared", PREPARED, c_set_null_prepared, -EBUSY },
	{ "clear_while_prepared", PREPARED, c_clear_prepared, -EBUSY },
	{ "clear_null_command", IDLE, c_clear_null, -EINVAL },
	{ "set_spec_while_set", SET, c_set_spec_while_set, -EBUSY },
	{ "set_spec_null", IDLE, c_set_spec_null, -EINVAL },
	{ "set_spec_null_command", IDLE, c_set_spec_null_cmd, -EINVAL },
	{ "set_spec_alignment_48", IDLE, c_set_spec_bad_align, -EINVAL },
	{ "set_spec_addr_bits_11", IDLE, c_set_spec_bits_11, -EINVAL },
	{ "auto_prepare_beyond_max_transfer", IDLE, c_auto_prepare_too_long, -ENOSPC },
	{ "prepare_null_command", IDLE, c_prepare_null, -EINVAL },
	{ "prepare_without_descriptor", IDLE, c_prepare_no_md, -ENODATA },
	{ "prepare_offset_past_end", SET, c_prepare_past_end, -EINVAL },
	{ "prepare_length_past_end", SET, c_prepare_len_past_end, -EINVAL },
	{ "prepare_wrapping_length", SET, c_prepare_wrap, -EINVAL },
	{ "prepare_offset_at_end", SET, c_prepare_at_end, -EINVAL },
	{ "prepare_beyond_max_transfer", SET, c_prepare_too_long, -ENOSPC },
	{ "prepare_other_range_while_prepared", PREPARED, c_prepare_other_range, -EBUSY },
	{ "prepare_nowait_null_command", IDLE, c_prepare_nowait_null, -EINVAL },
	{ "prepare_nowait_without_descriptor", IDLE, c_prepare_nowait_no_md, -ENODATA },
	{ "prepare_length_not_multiple_of_unit", SET, c_prepare_len_unit, -EINVAL },
	{ "complete_null_command", PREPARED, c_complete_null, -EINVAL },
	{ "complete_unprepared", SET, c_complete, -ENODATA },
	{ "double_complete", PREPARED, c_complete, -ENODATA, pre_complete },
	{ "synchronize_both_directions", PREPARED, c_sync_both, -EINVAL },
	{ "synchronize_no_direction", PREPARED, c_sync_none, -EINVAL },
	{ "synchronize_unknown_option", PREPARED, c_sync_unknown, -EINVAL },
	{ "synchronize_unprepared", SET, c_sync, -ENODATA },
	{ "synchronize_null_command", PREPARED, c_sync_null, -EINVAL },
	{ "force_double_buffer_nested", PREPARED2, c_force, -EBUSY },
	{ "force_double_buffer_unprepared", SET, c_force, -ENODATA },
	{ "prepared_range_unprepared", SET, c_prepared_range, -ENODATA },
	{ "prepared_range_null_command", PREPARED, c_prepared_range_null, -EINVAL },
	{ "gen_unprepared", SET, c_gen, -ENODATA },
	{ "gen_idle", IDLE, c_gen, -ENODATA },
	{ "gen_null_command", PREPARED, c_gen_null_cmd, -EINVAL },
	{ "gen_null_offset", PREPARED, c_gen_null_off, -EINVAL },
	{ "gen_null_segments", PREPARED, c_gen_null_segs, -EINVAL },
	{ "gen_null_count", PREPARED, c_gen_null_nsegs, -EINVAL },
	{ "gen_capacity_zero", PREPARED, c_gen_cap_zero, -EINVAL },
	{ "gen_offset_at_end", PREPARED, c_gen_at_end, -EOVERFLOW },
	{ "gen_offset_wrapping", PREPARED, c_gen_wrap, -EOVERFLOW },
	{ "gen32_on_64bit_output", PREPARED, c_gen32_on_64, -EINVAL },
	{ "gen64_on_32bit_output", IDLE, c_gen64_on_32, -EINVAL },
	{ "gen32_value_above_4g", IDLE, c_gen32_above_4g, -ERANGE },
	{ "copy_buffer_zero_length", IDLE, c_copybuf_zero, -EINVAL },
	{ "copy_buffer_bad_direction", IDLE, c_copybuf_dir, -EINVAL },
	{ "copy_buffer_null_command", IDLE, c_copybuf_null, -EINVAL },
	{ "clone_null_command", IDLE, c_clone_null, -EINVAL },
	{ "clone_invalid_spec", SET, c_clone_bad_spec, -EINVAL },
	{ "create_null_device", IDLE, c_create_null_dev, -EINVAL },
	{ "pool_put_busy_command", IDLE, c_pool_put_busy, -EBUSY },
	{ "pool_put_foreign_command", PREPARED, c_pool_put_foreign, -EINVAL },
	{ "pool_put_twice", IDLE, c_pool_put_twice, -EINVAL },
	{ "user_memory_unmapped", IDLE, c_user_unmapped, -EFAULT },
	{ "user_memory_read_only_for_device_write", IDLE, c_user_read_only, -EFAULT },
	{ "user_memory_kernel_address", IDLE, c_user_kernel_addr, -EFAULT },
	{ "md_complete_unprepared", SET, c_md_complete_unprepared, -ENODATA },
};

KUNIT_ARRAY_PARAM_DESC(bad, bad_cases, name);

static int bad_init(struct kunit *test)
{
	struct iodma_spec s32 = { .output = IODMA_OUT_HOST32, .map = IODMA_ITERATE_ONLY,
				  .length_alignment = 512 };
	struct bad_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	f->test = test;
	f->dev = iodma_test_dev(test, 64);
	f->cmd = iodma_test_cmd(test, f->dev, &cmd_spec);
	f->cmd32 = iodma_test_cmd(test, f->dev, &s32);
	f->mem = kunit_kzalloc(test, SZ_128K, GFP_KERNEL);
	if (!f->mem)
		return -ENOMEM;
	f->md = iodma_test_md(test, iodma_md_from_kva(f->mem, SZ_128K, DMA_BIDIRECTIONAL));
	f->other = iodma_test_md(test, iodma_md_from_kva(f->mem, SZ_4K, DMA_TO_DEVICE));
	f->pool = iodma_test_pool(test, f->dev, &cmd_spec, 1);
	f->uaddr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
				 MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (!f->uaddr || f->uaddr >= TASK_SIZE)
		return -ENOMEM;
	test->priv = f;
	return 0;
}

static void bad_input_refused_state_unchanged(struct kunit *test)
{
	const struct bad_case *c = test->param_value;
	struct bad_fixture *f = test->priv;
	struct snapshot before, after;

	if (c->state >= SET || c->call == c_prepare_len_unit)
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd, f->md, false), 0);
	if (c->call == c_prepare_len_unit)
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(f->cmd32, f->md, false), 0);
	if (c->state >= PREPARED)
		KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(f->cmd, 0, SZ_4K, true, true), 0);
	if (c->state == PREPARED2)
		KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(f->cmd, 0, SZ_4K, true, true), 0);
	if (c->pre)
		KUNIT_ASSERT_EQ(test, c->pre(f), 0);

	snap(f, &before);
	KUNIT_EXPECT_EQ(test, c->call(f), c->err);
	snap(f, &after);
	KUNIT_EXPECT_PTR_EQ(test, after.md, before.md);
	KUNIT_EXPECT_EQ(test, after.prepared, before.prepared);
	KUNIT_EXPECT_EQ(test, after.off, before.off);
	KUNIT_EXPECT_EQ(test, after.len, before.len);
	KUNIT_EXPECT_EQ(test, after.md_ref, before.md_ref);
	KUNIT_EXPECT_EQ(test, after.other_ref, before.other_ref);
	KUNIT_EXPECT_EQ(test, after.md_wire, before.md_wire);
	KUNIT_EXPECT_EQ(test, after.bounce, before.bounce);
	KUNIT_EXPECT_EQ(test, memcmp(&after.spec, &before.spec, sizeof(before.spec)), 0);
	iodma_cmd_clear_memory_descriptor(f->cmd32, true);
}

static struct kunit_case badinput_test_cases[] = {
	KUNIT_CASE_PARAM(bad_input_refused_state_unchanged, bad_gen_params),
	{}
};

static struct kunit_suite badinput_test_suite = {
	.name = "iodma_badinput",
	.init = bad_init,
	.test_cases = badinput_test_cases,
};

kunit_test_suite(badinput_test_suite);
