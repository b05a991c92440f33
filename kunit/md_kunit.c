// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: memory descriptors.  Every constructor's bad inputs (a table),
 * refcounting, length and direction, read/write bytes through each kind,
 * nestable wiring, and user memory pinned only while prepared.
 */
#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "iodma_kunit.h"

/* Three pages of the linear map (module data is neither linear nor vmalloc). */
static u8 *md_test_buf;
#define MD_TEST_BUF_SIZE (3 * PAGE_SIZE)

static int md_test_init(struct kunit *test)
{
	/* a kmalloc of several pages comes from the page allocator: page aligned */
	md_test_buf = kunit_kzalloc(test, MD_TEST_BUF_SIZE, GFP_KERNEL);
	if (!md_test_buf || offset_in_page(md_test_buf))
		return -ENOMEM;
	return 0;
}

/* Bad inputs: each row builds a descriptor the wrong way. */
struct bad_md_case {
	const char *name;
	struct iodma_md *(*make)(struct kunit *test);
	int err;
};

static struct iodma_md *kva_null(struct kunit *t)
{
	return iodma_md_from_kva(NULL, 16, DMA_TO_DEVICE);
}

static struct iodma_md *kva_zero_len(struct kunit *t)
{
	return iodma_md_from_kva(md_test_buf, 0, DMA_TO_DEVICE);
}

static struct iodma_md *kva_wrap(struct kunit *t)
{
	return iodma_md_from_kva((void *)-4096L, 8192, DMA_TO_DEVICE);
}

static struct iodma_md *kva_dir_none(struct kunit *t)
{
	return iodma_md_from_kva(md_test_buf, 16, DMA_NONE);
}

static struct iodma_md *kva_dir_bogus(struct kunit *t)
{
	return iodma_md_from_kva(md_test_buf, 16, (enum dma_data_direction)7);
}

static struct iodma_md *kva_not_kernel_memory(struct kunit *t)
{
	return iodma_md_from_kva((void *)0x1000, 16, DMA_TO_DEVICE);
}

static struct page *test_pages[2];

static struct iodma_md *pages_null(struct kunit *t)
{
	return iodma_md_from_pages(NULL, 1, 0, 16, DMA_TO_DEVICE);
}

static struct iodma_md *pages_zero_count(struct kunit *t)
{
	return iodma_md_from_pages(test_pages, 0, 0, 16, DMA_TO_DEVICE);
}

static struct iodma_md *pages_zero_len(struct kunit *t)
{
	test_pages[0] = virt_to_page(md_test_buf);
	return iodma_md_from_pages(test_pages, 1, 0, 0, DMA_TO_DEVICE);
}

static struct iodma_md *pages_beyond(struct kunit *t)
{
	test_pages[0] = virt_to_page(md_test_buf);
	return iodma_md_from_pages(test_pages, 1, 100, PAGE_SIZE, DMA_TO_DEVICE);
}

static struct iodma_md *pages_null_entry(struct kunit *t)
{
	test_pages[0] = virt_to_page(md_test_buf);
	test_pages[1] = NULL;
	return iodma_md_from_pages(test_pages, 2, 0, 2 * PAGE_SIZE, DMA_TO_DEVICE);
}

static struct iodma_md *pages_bad_dir(struct kunit *t)
{
	test_pages[0] = virt_to_page(md_test_buf);
	return iodma_md_from_pages(test_pages, 1, 0, 16, DMA_NONE);
}

static struct iodma_md *user_no_mm(struct kunit *t)
{
	/* a KUnit thread has no mm until it maps user memory */
	if (current->mm)
		return ERR_PTR(-EINVAL);
	return iodma_md_from_user(0x10000, 16, DMA_TO_DEVICE);
}

static struct iodma_md *sgt_null(struct kunit *t)
{
	return iodma_md_from_sgtable(NULL, DMA_TO_DEVICE);
}

static struct iodma_md *sgt_empty(struct kunit *t)
{
	static struct sg_table empty;

	return iodma_md_from_sgtable(&empty, DMA_TO_DEVICE);
}

static struct iodma_md *mapped_null_dev(struct kunit *t)
{
	static struct scatterlist sg;
	static struct sg_table sgt = { .sgl = &sg, .nents = 1, .orig_nents = 1 };

	return iodma_md_from_mapped_sgtable(NULL, &sgt, DMA_TO_DEVICE);
}

static struct iodma_md *mapped_no_entries(struct kunit *t)
{
	static struct scatterlist sg;
	static struct sg_table sgt = { .sgl = &sg, .nents = 0, .orig_nents = 1 };

	return iodma_md_from_mapped_sgtable(iodma_test_dev(t, 32), &sgt, DMA_TO_DEVICE);
}

static const struct iodma_phys_range wrap_range = { .addr = ~0ULL - 10, .len = 100 };
static const struct iodma_phys_range empty_range = { .addr = 0x100000, .len = 0 };

static struct iodma_md *phys_null(struct kunit *t)
{
	return iodma_md_from_phys(NULL, 1, DMA_TO_DEVICE);
}

static struct iodma_md *phys_zero_count(struct kunit *t)
{
	return iodma_md_from_phys(&wrap_range, 0, DMA_TO_DEVICE);
}

static struct iodma_md *phys_wrap(struct kunit *t)
{
	return iodma_md_from_phys(&wrap_range, 1, DMA_TO_DEVICE);
}

static struct iodma_md *phys_empty_range(struct kunit *t)
{
	return iodma_md_from_phys(&empty_range, 1, DMA_TO_DEVICE);
}

static struct iodma_md *kva_md(struct kunit *t, enum dma_data_direction dir)
{
	return iodma_test_md(t, iodma_md_from_kva(md_test_buf, MD_TEST_BUF_SIZE, dir));
}

static struct iodma_md *sub_null(struct kunit *t)
{
	return iodma_md_subrange(NULL, 0, 16);
}

static struct iodma_md *sub_zero_len(struct kunit *t)
{
	return iodma_md_subrange(kva_md(t, DMA_TO_DEVICE), 0, 0);
}

static struct iodma_md *sub_beyond(struct kunit *t)
{
	return iodma_md_subrange(kva_md(t, DMA_TO_DEVICE), 1, MD_TEST_BUF_SIZE);
}

static struct iodma_md *sub_wrap(struct kunit *t)
{
	return iodma_md_subrange(kva_md(t, DMA_TO_DEVICE), ~0ULL, 2);
}

static struct iodma_md *multi_null(struct kunit *t)
{
	return iodma_md_multi(NULL, 1, DMA_TO_DEVICE);
}

static struct iodma_md *multi_zero(struct kunit *t)
{
	struct iodma_md *parts[1] = { kva_md(t, DMA_TO_DEVICE) };

	return iodma_md_multi(parts, 0, DMA_TO_DEVICE);
}

static struct iodma_md *multi_null_entry(struct kunit *t)
{
	struct iodma_md *parts[2] = { kva_md(t, DMA_TO_DEVICE), NULL };

	return iodma_md_multi(parts, 2, DMA_TO_DEVICE);
}

static struct iodma_md *multi_read_only_part(struct kunit *t)
{
	/* a part described for reading cannot receive device writes */
	struct iodma_md *parts[1] = { kva_md(t, DMA_TO_DEVICE) };

	return iodma_md_multi(parts, 1, DMA_FROM_DEVICE);
}

static struct iodma_md *multi_mixed_memory(struct kunit *t)
{
	static const struct iodma_phys_range r = { .addr = 0x100000, .len = 4096 };
	struct iodma_md *parts[2] = {
		kva_md(t, DMA_TO_DEVICE),
		iodma_test_md(t, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE)),
	};

	return iodma_md_multi(parts, 2, DMA_TO_DEVICE);
}

static struct iodma_md *multi_bad_dir(struct kunit *t)
{
	struct iodma_md *parts[1] = { kva_md(t, DMA_BIDIRECTIONAL) };

	return iodma_md_multi(parts, 1, DMA_NONE);
}

static const struct bad_md_case bad_md_cases[] = {
	{ "kva_null", kva_null, -EINVAL },
	{ "kva_zero_len", kva_zero_len, -EINVAL },
	{ "kva_wrap", kva_wrap, -EINVAL },
	{ "kva_dir_none", kva_dir_none, -EINVAL },
	{ "kva_dir_bogus", kva_dir_bogus, -EINVAL },
	{ "kva_not_kernel_memory", kva_not_kernel_memory, -EINVAL },
	{ "pages_null", pages_null, -EINVAL },
	{ "pages_zero_count", pages_zero_count, -EINVAL },
	{ "pages_zero_len", pages_zero_len, -EINVAL },
	{ "pages_beyond_last_page", pages_beyond, -EINVAL },
	{ "pages_null_entry", pages_null_entry, -EINVAL },
	{ "pages_bad_dir", pages_bad_dir, -EINVAL },
	{ "user_without_mm", user_no_mm, -EINVAL },
	{ "sgtable_null", sgt_null, -EINVAL },
	{ "sgtable_empty", sgt_empty, -EINVAL },
	{ "mapped_null_dev", mapped_null_dev, -EINVAL },
	{ "mapped_no_entries", mapped_no_entries, -EINVAL },
	{ "phys_null", phys_null, -EINVAL },
	{ "phys_zero_count", phys_zero_count, -EINVAL },
	{ "phys_wrap", phys_wrap, -EINVAL },
	{ "phys_empty_range", phys_empty_range, -EINVAL },
	{ "subrange_null_parent", sub_null, -EINVAL },
	{ "subrange_zero_len", sub_zero_len, -EINVAL },
	{ "subrange_beyond_parent", sub_beyond, -EINVAL },
	{ "subrange_wrap", sub_wrap, -EINVAL },
	{ "multi_null", multi_null, -EINVAL },
	{ "multi_zero_parts", multi_zero, -EINVAL },
	{ "multi_null_part", multi_null_entry, -EINVAL },
	{ "multi_read_only_part_for_device_write", multi_read_only_part, -EINVAL },
	{ "multi_mixed_cpu_and_bus", multi_mixed_memory, -EINVAL },
	{ "multi_bad_dir", multi_bad_dir, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(bad_md, bad_md_cases, name);

static void md_bad_input_is_refused(struct kunit *test)
{
	const struct bad_md_case *c = test->param_value;
	struct iodma_md *md = c->make(test);

	KUNIT_EXPECT_TRUE(test, IS_ERR(md));
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(md), c->err);
	if (!IS_ERR_OR_NULL(md))
		iodma_md_put(md);
}

static void md_user_kernel_address_is_efault(struct kunit *test)
{
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_user((unsigned long)md_test_buf, 16,
							 DMA_TO_DEVICE)), -EFAULT);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_user(uaddr, 0, DMA_TO_DEVICE)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_user(uaddr, 16, DMA_NONE)), -EINVAL);
}

static void md_refcount_get_put(struct kunit *test)
{
	struct iodma_md *md = iodma_md_from_kva(md_test_buf, 64, DMA_TO_DEVICE);
	struct iodma_md *sub;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, md);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 1U);
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_get(md), md);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 2U);
	iodma_md_put(md);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 1U);

	/* a sub-range holds its parent */
	sub = iodma_md_subrange(md, 8, 8);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sub);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 2U);
	iodma_md_put(sub);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 1U);
	iodma_md_put(md);
	iodma_md_put(NULL);
}

static void md_length_and_direction(struct kunit *test)
{
	static const struct iodma_phys_range r[2] = {
		{ .addr = 0x100000, .len = 4096 }, { .addr = 0x300000, .len = 100 },
	};
	struct iodma_md *a = iodma_test_md(test, iodma_md_from_kva(md_test_buf, 1000,
								     DMA_FROM_DEVICE));
	struct iodma_md *b = iodma_test_md(test, iodma_md_from_phys(r, 2, DMA_BIDIRECTIONAL));
	struct iodma_md *sub = iodma_test_md(test, iodma_md_subrange(a, 10, 990));
	struct iodma_md *parts[2] = { a, sub };
	struct iodma_md *m = iodma_test_md(test, iodma_md_multi(parts, 2, DMA_FROM_DEVICE));

	KUNIT_EXPECT_EQ(test, iodma_md_length(a), 1000ULL);
	KUNIT_EXPECT_EQ(test, iodma_md_direction(a), DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, iodma_md_length(b), 4196ULL);
	KUNIT_EXPECT_EQ(test, iodma_md_direction(b), DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, iodma_md_length(sub), 990ULL);
	KUNIT_EXPECT_EQ(test, iodma_md_direction(sub), DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, iodma_md_length(m), 1990ULL);
}

/* Write through the descriptor at an offset, read back, and compare. */
static void roundtrip(struct kunit *test, struct iodma_md *md, u64 off, u64 len)
{
	u8 *in = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *out = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, in);
	KUNIT_ASSERT_NOT_NULL(test, out);
	iodma_test_fill(in, len, (u32)off);
	KUNIT_EXPECT_EQ(test, iodma_md_write_bytes(md, off, in, len), len);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, off, out, len), len);
	KUNIT_EXPECT_EQ(test, memcmp(in, out, len), 0);
}

static void md_bytes_kva_and_vmalloc(struct kunit *test)
{
	size_t len = 3 * PAGE_SIZE + 123;
	u8 *k = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *v = iodma_test_vzalloc(test, len);
	struct iodma_md *mk, *mv;
	u8 probe;

	KUNIT_ASSERT_NOT_NULL(test, k);
	mk = iodma_test_md(test, iodma_md_from_kva(k, len, DMA_BIDIRECTIONAL));
	mv = iodma_test_md(test, iodma_md_from_kva(v, len, DMA_BIDIRECTIONAL));
	roundtrip(test, mk, 100, len - 100);
	roundtrip(test, mv, PAGE_SIZE - 7, 2 * PAGE_SIZE);
	/* the bytes land in the buffer itself */
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(mk, 100, &probe, 1), 1ULL);
	KUNIT_EXPECT_EQ(test, probe, k[100]);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(mv, PAGE_SIZE - 7, &probe, 1), 1ULL);
	KUNIT_EXPECT_EQ(test, probe, v[PAGE_SIZE - 7]);
	/* clamped at the end, 0 past it */
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(mk, len - 3, k, 100), 3ULL);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(mk, len, k, 100), 0ULL);
}

static void md_bytes_pages_sgtable_sub_multi(struct kunit *test)
{
	size_t len = 3 * PAGE_SIZE - 50;
	u8 *expect = kunit_kmalloc(test, len, GFP_KERNEL);
	struct sg_table *sgt = iodma_test_sgtable(test, 2);
	struct iodma_md *mp, *ms, *sub, *multi, *parts[2];
	struct page *pages[3];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, expect);
	for (i = 0; i < 3; i++)
		pages[i] = virt_to_page(md_test_buf + i * PAGE_SIZE);
	/* pages in reverse order: the walk must follow the array, not memory */
	swap(pages[0], pages[2]);
	mp = iodma_test_md(test, iodma_md_from_pages(pages, 3, 50, len, DMA_BIDIRECTIONAL));
	roundtrip(test, mp, 0, len);
	iodma_test_fill(expect, len, 0);
	KUNIT_EXPECT_EQ(test, memcmp(md_test_buf + 2 * PAGE_SIZE + 50, expect, PAGE_SIZE - 50), 0);
	KUNIT_EXPECT_EQ(test, memcmp(md_test_buf + PAGE_SIZE, expect + PAGE_SIZE - 50, PAGE_SIZE),
			0);
	KUNIT_EXPECT_EQ(test, memcmp(md_test_buf, expect + 2 * PAGE_SIZE - 50, PAGE_SIZE), 0);

	sg_set_buf(sgt->sgl, md_test_buf + 10, 100);
	sg_set_buf(sg_next(sgt->sgl), md_test_buf + PAGE_SIZE, PAGE_SIZE);
	ms = iodma_test_md(test, iodma_md_from_sgtable(sgt, DMA_BIDIRECTIONAL));
	KUNIT_EXPECT_EQ(test, iodma_md_length(ms), 100ULL + PAGE_SIZE);
	roundtrip(test, ms, 90, 20);

	sub = iodma_test_md(test, iodma_md_subrange(ms, 50, 100));
	roundtrip(test, sub, 0, 100);
	parts[0] = sub;
	parts[1] = mp;
	multi = iodma_test_md(test, iodma_md_multi(parts, 2, DMA_BIDIRECTIONAL));
	KUNIT_EXPECT_EQ(test, iodma_md_length(multi), 100ULL + len);
	roundtrip(test, multi, 60, 200);
}

static void md_phys_bytes_copy_nothing(struct kunit *test)
{
	static const struct iodma_phys_range r = { .addr = 0x100000, .len = 4096 };
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE));
	u8 buf[16] = {};

	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, buf, sizeof(buf)), 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_md_write_bytes(md, 0, buf, sizeof(buf)), 0ULL);
}

static void md_prepare_nests(struct kunit *test)
{
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(md_test_buf, 64,
								      DMA_TO_DEVICE));
	struct iodma_md *sub = iodma_test_md(test, iodma_md_subrange(md, 0, 32));

	KUNIT_EXPECT_EQ(test, iodma_md_prepare(sub), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_prepare(sub), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(sub), 2);
	/* wiring a sub-range wires its parent */
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(md), 2);
	KUNIT_EXPECT_EQ(test, iodma_md_complete(sub), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_complete(sub), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_complete(sub), -ENODATA);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(md), 0);
}

/* User memory: pinned only while prepared; the pin count returns to its start. */
static void md_user_pinned_only_while_prepared(struct kunit *test)
{
	size_t len = 2 * PAGE_SIZE;
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, len, PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	u8 *pattern = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *back = kunit_kzalloc(test, len, GFP_KERNEL);
	struct iodma_md *md;
	struct page *page;
	int before;

	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
	KUNIT_ASSERT_LT(test, uaddr, (unsigned long)TASK_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, back);
	iodma_test_fill(pattern, len, 7);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, pattern, len), 0UL);

	md = iodma_test_md(test, iodma_md_from_user(uaddr + 100, len - 100, DMA_FROM_DEVICE));
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(md));
	KUNIT_ASSERT_EQ(test, iodma_md_prepare(md), 0);
	KUNIT_ASSERT_NOT_NULL(test, iodma_test_md_pinned(md));
	page = iodma_test_md_pinned(md)[0];
	get_page(page);
	KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(page)));
	before = page_ref_count(page);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, back, len - 100), (u64)len - 100);
	KUNIT_EXPECT_EQ(test, memcmp(back, pattern + 100, len - 100), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_complete(md), 0);
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(md));
	KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(page)));
	KUNIT_EXPECT_EQ(test, before - page_ref_count(page), GUP_PIN_COUNTING_BIAS);
	put_page(page);
}

static void md_user_unmapped_or_read_only_is_efault(struct kunit *test)
{
	unsigned long ro = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
					 MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct iodma_md *md;

	KUNIT_ASSERT_NE_MSG(test, ro, 0, "could not create a user mm");
	KUNIT_ASSERT_LT(test, ro, (unsigned long)TASK_SIZE);
	/* the device would write into memory the process may only read */
	md = iodma_test_md(test, iodma_md_from_user(ro, PAGE_SIZE, DMA_FROM_DEVICE));
	KUNIT_EXPECT_EQ(test, iodma_md_prepare(md), -EFAULT);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(md), 0);
	/* reading it is fine */
	md = iodma_test_md(test, iodma_md_from_user(ro, PAGE_SIZE, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, iodma_md_prepare(md), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_complete(md), 0);
	/* nothing is ever mapped below mmap_min_addr */
	md = iodma_test_md(test, iodma_md_from_user(PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, iodma_md_prepare(md), -EFAULT);
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(md));
}

static struct kunit_case md_test_cases[] = {
	KUNIT_CASE_PARAM(md_bad_input_is_refused, bad_md_gen_params),
	KUNIT_CASE(md_user_kernel_address_is_efault),
	KUNIT_CASE(md_refcount_get_put),
	KUNIT_CASE(md_length_and_direction),
	KUNIT_CASE(md_bytes_kva_and_vmalloc),
	KUNIT_CASE(md_bytes_pages_sgtable_sub_multi),
	KUNIT_CASE(md_phys_bytes_copy_nothing),
	KUNIT_CASE(md_prepare_nests),
	KUNIT_CASE(md_user_pinned_only_while_prepared),
	KUNIT_CASE(md_user_unmapped_or_read_only_is_efault),
	{}
};

static struct kunit_suite md_test_suite = {
	.name = "iodma_md",
	.init = md_test_init,
	.test_cases = md_test_cases,
};

kunit_test_suite(md_test_suite);
