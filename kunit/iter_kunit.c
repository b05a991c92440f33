// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: descriptors over the kernel's own I/O descriptors.  Each iterator
 * type against the same bytes described through iodma_md_from_kva() or
 * iodma_md_from_user() (same bytes read, same segments on one command),
 * the iterator's position after a call and after a refusal, every
 * allocation failed in turn, bio_vecs whose offset passes a page and whose
 * length spans pages, and iodma_cmd_set_bvecs(): its state rules, the
 * references that keep a command's own descriptor, and 1000 requests in a
 * row.  The zero-allocation proof of set_bvecs is in pool_kunit.c.
 */
#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include "iodma_kunit.h"
#if IODMA_HAVE_ITER_FOLIOQ
#include <linux/folio_queue.h>
#endif

/* Segments cut at 3000 bytes and at 8 KiB lines: several per chunk. */
static const struct iodma_spec bypass_spec = {
	.max_segment_size = 3000, .seg_boundary_mask = SZ_8K - 1,
	.output = IODMA_OUT_HOST64, .map = IODMA_BYPASSED,
};

static const struct iodma_spec mapped_spec = {
	.max_segment_size = 3000, .output = IODMA_OUT_HOST64,
};

/* Order-3 (32 KiB) zeroed pages filled with a pattern; returns the first. */
static struct page *patterned_pages(struct kunit *test, u32 seed)
{
	struct page *page = iodma_test_pages(test, 3);

	iodma_test_fill(page_address(page), SZ_32K, seed);
	return page;
}

/* Prepare the whole of @md on @cmd and return its segments. */
static int segments_of(struct kunit *test, struct iodma_cmd *cmd, struct iodma_md *md,
		       struct iodma_seg64 **segs)
{
	int n;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	n = iodma_test_segments(test, cmd, 5, segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_check_invariants(test, cmd, *segs, n);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	return n;
}

static void expect_same_segments(struct kunit *test, struct iodma_cmd *cmd,
				 struct iodma_md *got, struct iodma_md *want)
{
	struct iodma_seg64 *a, *b;
	int na = segments_of(test, cmd, got, &a), nb = segments_of(test, cmd, want, &b), i;

	KUNIT_ASSERT_EQ(test, na, nb);
	for (i = 0; i < na; i++) {
		KUNIT_EXPECT_EQ_MSG(test, a[i].addr, b[i].addr, "segment %d", i);
		KUNIT_EXPECT_EQ_MSG(test, a[i].len, b[i].len, "segment %d", i);
	}
}

/*
 * @got describes the bytes @expect (of its length) and the same memory as
 * @want: the same bytes are read through both, and a BYPASSED and a MAPPED
 * command of one device give the same segments for both (MAPPED only where
 * no swiotlb slot stands in for the memory: a slot is new at each prepare).
 */
static void expect_same_io(struct kunit *test, struct iodma_md *got, struct iodma_md *want,
			   const u8 *expect)
{
	struct device *dev = iodma_test_dev(test, 64);
	u64 len = iodma_md_length(want);
	u8 *a = kunit_kzalloc(test, len, GFP_KERNEL);
	u8 *b = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, iodma_md_length(got), len);
	KUNIT_EXPECT_EQ(test, iodma_md_direction(got), iodma_md_direction(want));
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(got, 0, a, len), len);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(want, 0, b, len), len);
	KUNIT_EXPECT_EQ(test, memcmp(a, expect, len), 0);
	KUNIT_EXPECT_EQ(test, memcmp(b, expect, len), 0);
	expect_same_segments(test, iodma_test_cmd(test, dev, &bypass_spec), got, want);
	if (!is_swiotlb_force_bounce(dev))
		expect_same_segments(test, iodma_test_cmd(test, dev, &mapped_spec), got, want);
}

/* A multi descriptor of @n kva pieces (@addrs[i], @lens[i]), parts released. */
static struct iodma_md *kva_multi(struct kunit *test, u8 **addrs, const size_t *lens,
				  unsigned int n, enum dma_data_direction dir)
{
	struct iodma_md *parts[4], *md;
	unsigned int i;

	for (i = 0; i < n; i++)
		parts[i] = iodma_test_md(test, iodma_md_from_kva(addrs[i], lens[i], dir));
	md = iodma_test_md(test, iodma_md_multi(parts, n, dir));
	return md;
}

/* @n pieces of @src, one after the other, into @dst; returns the bytes. */
static size_t gather(u8 *dst, u8 **addrs, const size_t *lens, unsigned int n)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memcpy(dst + done, addrs[i], lens[i]);
		done += lens[i];
	}
	return done;
}

/*
 * The bvecs of the tests over 32 KiB of pages: an offset past two pages and
 * a run over three, an empty entry without a page, two pages from an
 * offset, a piece of the last page.
 */
static void make_bvecs(struct page *page, struct bio_vec *bv, u8 **addrs, size_t *lens)
{
	static const unsigned int off[] = { 9000, 0, 100, 7 * PAGE_SIZE + 50 };
	static const unsigned int len[] = { 9000, 0, 2 * PAGE_SIZE, 300 };
	unsigned int i, k = 0;

	for (i = 0; i < ARRAY_SIZE(off); i++) {
		bv[i].bv_page = len[i] ? page : NULL;
		bv[i].bv_offset = off[i];
		bv[i].bv_len = len[i];
		if (!len[i])
			continue;
		addrs[k] = page_address(page) + off[i];
		lens[k++] = len[i];
	}
}

#define NR_BVECS	4
#define NR_PIECES	3
#define BVECS_LEN	(9000 + 2 * PAGE_SIZE + 300)

static void from_bvecs_bad_input_returns_einval(struct kunit *test)
{
	struct page *page = iodma_test_pages(test, 0);
	struct bio_vec bv[2] = {
		{ .bv_page = page, .bv_len = 10 },
		{ .bv_page = NULL, .bv_len = 10 },
	};
	struct bio_vec empty[2] = { { .bv_page = page }, { .bv_page = NULL } };

	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_bvecs(NULL, 1, DMA_TO_DEVICE)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_bvecs(bv, 0, DMA_TO_DEVICE)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_bvecs(bv, 1, DMA_NONE)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_bvecs(bv, 1, 7)), -EINVAL);
	/* bytes without a page */
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_bvecs(bv, 2, DMA_TO_DEVICE)), -EINVAL);
	/* only empty entries: nothing to describe */
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_bvecs(empty, 2, DMA_TO_DEVICE)), -EINVAL);
}

/* Offsets past a page, runs over pages, an empty entry: the bytes of the kva pieces. */
static void from_bvecs_matches_kva(struct kunit *test)
{
	struct page *page = patterned_pages(test, 11);
	struct bio_vec bv[NR_BVECS];
	u8 *addrs[NR_PIECES], *expect = kunit_kzalloc(test, BVECS_LEN, GFP_KERNEL);
	size_t lens[NR_PIECES];
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, expect);
	make_bvecs(page, bv, addrs, lens);
	KUNIT_ASSERT_EQ(test, gather(expect, addrs, lens, NR_PIECES), BVECS_LEN);
	md = iodma_test_md(test, iodma_md_from_bvecs(bv, NR_BVECS, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, iodma_md_length(md), (u64)BVECS_LEN);
	expect_same_io(test, md, kva_multi(test, addrs, lens, NR_PIECES, DMA_TO_DEVICE), expect);
}

/* The entries are copied: the caller's array may change or go at once. */
static void from_bvecs_copies_the_array(struct kunit *test)
{
	struct page *page = patterned_pages(test, 12);
	struct bio_vec *bv = kcalloc(NR_BVECS, sizeof(*bv), GFP_KERNEL);
	u8 *addrs[NR_PIECES], *expect = kunit_kzalloc(test, BVECS_LEN, GFP_KERNEL);
	u8 *got = kunit_kzalloc(test, BVECS_LEN, GFP_KERNEL);
	size_t lens[NR_PIECES];
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, bv);
	KUNIT_ASSERT_NOT_NULL(test, expect);
	KUNIT_ASSERT_NOT_NULL(test, got);
	make_bvecs(page, bv, addrs, lens);
	gather(expect, addrs, lens, NR_PIECES);
	md = iodma_md_from_bvecs(bv, NR_BVECS, DMA_TO_DEVICE);
	memset(bv, 0, NR_BVECS * sizeof(*bv));
	kfree(bv);
	md = iodma_test_md(test, md);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, got, BVECS_LEN), (u64)BVECS_LEN);
	KUNIT_EXPECT_EQ(test, memcmp(got, expect, BVECS_LEN), 0);
}

/*
 * Describe @len bytes of @it, which must advance by exactly that: the next
 * byte it yields is @next.
 */
static struct iodma_md *describe(struct kunit *test, struct iov_iter *it, size_t len,
				 enum dma_data_direction dir, u8 next)
{
	size_t count = iov_iter_count(it);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_iter(it, len, dir));
	struct iov_iter peek = *it;
	u8 byte = ~next;

	KUNIT_EXPECT_EQ(test, iov_iter_count(it), count - len);
	if (count > len && dir == DMA_TO_DEVICE) {
		KUNIT_EXPECT_EQ(test, copy_from_iter(&byte, 1, &peek), 1UL);
		KUNIT_EXPECT_EQ(test, byte, next);
	}
	return md;
}

/* Three kvecs side by side and an empty one, 10 bytes in: as one kva range. */
static void from_iter_kvec_matches_kva(struct kunit *test)
{
	u8 *buf = kunit_kmalloc(test, SZ_16K, GFP_KERNEL);
	struct kvec kv[4];
	struct iov_iter it;
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	iodma_test_fill(buf, SZ_16K, 21);
	kv[0] = (struct kvec){ buf, 5000 };
	kv[1] = (struct kvec){ buf + 5000, 0 };
	kv[2] = (struct kvec){ buf + 5000, 6000 };
	kv[3] = (struct kvec){ buf + 11000, SZ_16K - 11000 };
	iov_iter_kvec(&it, ITER_SOURCE, kv, 4, SZ_16K);
	iov_iter_advance(&it, 10);
	md = describe(test, &it, SZ_16K - 30, DMA_TO_DEVICE, buf[SZ_16K - 20]);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&it), 20UL);
	expect_same_io(test, md,
		       iodma_test_md(test, iodma_md_from_kva(buf + 10, SZ_16K - 30, DMA_TO_DEVICE)),
		       buf + 10);
}

/* A kvec of vmalloc memory, which is not physically contiguous. */
static void from_iter_kvec_vmalloc_matches_kva(struct kunit *test)
{
	u8 *buf = iodma_test_vzalloc(test, 3 * PAGE_SIZE);
	struct kvec kv = { buf + 100, 3 * PAGE_SIZE - 200 };
	struct iov_iter it;
	struct iodma_md *md;

	iodma_test_fill(buf, 3 * PAGE_SIZE, 22);
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, kv.iov_len);
	md = describe(test, &it, kv.iov_len, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&it), 0UL);
	expect_same_io(test, md,
		       iodma_test_md(test, iodma_md_from_kva(kv.iov_base, kv.iov_len,
							     DMA_TO_DEVICE)),
		       buf + 100);
}

/* A bvec iterator entered in the middle of its first entry and left in its last. */
static void from_iter_bvec_matches_kva(struct kunit *test)
{
	struct page *page = patterned_pages(test, 23);
	struct bio_vec bv[NR_BVECS];
	u8 *addrs[NR_PIECES], *expect = kunit_kzalloc(test, BVECS_LEN, GFP_KERNEL);
	size_t lens[NR_PIECES];
	struct iov_iter it;
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, expect);
	make_bvecs(page, bv, addrs, lens);
	gather(expect, addrs, lens, NR_PIECES);
	iov_iter_bvec(&it, ITER_SOURCE, bv, NR_BVECS, BVECS_LEN);
	iov_iter_advance(&it, 5000);
	md = describe(test, &it, BVECS_LEN - 5100, DMA_TO_DEVICE, expect[BVECS_LEN - 100]);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&it), 100UL);
	/* the same bytes as kva pieces: 4000 of the first, the second, 200 of the last */
	addrs[0] += 5000;
	lens[0] -= 5000;
	lens[2] -= 100;
	expect_same_io(test, md, kva_multi(test, addrs, lens, NR_PIECES, DMA_TO_DEVICE),
		       expect + 5000);
}

/* A user mapping of @len bytes filled with a pattern (also copied to *@kbuf). */
static unsigned long user_buf(struct kunit *test, size_t len, u32 seed, u8 **kbuf)
{
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, len, PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "could not create a user mm");
	*kbuf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, *kbuf);
	iodma_test_fill(*kbuf, len, seed);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, *kbuf, len), 0UL);
	return uaddr;
}

static void from_iter_ubuf_matches_user(struct kunit *test)
{
	u8 *kbuf;
	unsigned long uaddr = user_buf(test, 3 * PAGE_SIZE, 31, &kbuf);
	struct iov_iter it;
	struct iodma_md *md;

	iov_iter_ubuf(&it, ITER_SOURCE, (void __user *)uaddr, 3 * PAGE_SIZE);
	iov_iter_advance(&it, 8);
	md = describe(test, &it, 2 * PAGE_SIZE, DMA_TO_DEVICE, kbuf[2 * PAGE_SIZE + 8]);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&it), (size_t)PAGE_SIZE - 8);
	expect_same_io(test, md,
		       iodma_test_md(test, iodma_md_from_user(uaddr + 8, 2 * PAGE_SIZE,
							      DMA_TO_DEVICE)),
		       kbuf + 8);
}

/* Three iovecs side by side and an empty one: as one user range. */
static void from_iter_iovec_matches_user(struct kunit *test)
{
	u8 *kbuf;
	unsigned long uaddr = user_buf(test, 4 * PAGE_SIZE, 32, &kbuf);
	void __user *u = (void __user *)uaddr;
	struct iovec iov[4] = {
		{ u, 100 }, { u + 100, 0 }, { u + 100, 2 * PAGE_SIZE }, { u + 100 + 2 * PAGE_SIZE,
									  PAGE_SIZE },
	};
	size_t total = 100 + 3 * PAGE_SIZE;
	struct iov_iter it;
	struct iodma_md *md;

	iov_iter_init(&it, ITER_SOURCE, iov, 4, total);
	iov_iter_advance(&it, 50);
	md = describe(test, &it, total - 60, DMA_TO_DEVICE, kbuf[total - 10]);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&it), 10UL);
	expect_same_io(test, md,
		       iodma_test_md(test, iodma_md_from_user(uaddr + 50, total - 60,
							      DMA_TO_DEVICE)),
		       kbuf + 50);
}

/* An ITER_DEST iterator is memory the device writes: the bytes land in the user's pages. */
static void from_iter_dest_is_written_through(struct kunit *test)
{
	u8 *kbuf, *pattern = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned long uaddr = user_buf(test, 2 * PAGE_SIZE, 33, &kbuf);
	u8 *back = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	struct iov_iter it;
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, back);
	iodma_test_fill(pattern, PAGE_SIZE, 34);
	iov_iter_ubuf(&it, ITER_DEST, (void __user *)uaddr, 2 * PAGE_SIZE);
	iov_iter_advance(&it, 100);
	md = describe(test, &it, PAGE_SIZE, DMA_FROM_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, iodma_md_direction(md), DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, iodma_md_write_bytes(md, 0, pattern, PAGE_SIZE), (u64)PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, copy_from_user(back, (void __user *)uaddr, 2 * PAGE_SIZE), 0UL);
	KUNIT_EXPECT_EQ(test, memcmp(back, kbuf, 100), 0);
	KUNIT_EXPECT_EQ(test, memcmp(back + 100, pattern, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, memcmp(back + 100 + PAGE_SIZE, kbuf + 100 + PAGE_SIZE,
				     PAGE_SIZE - 100), 0);
}

static unsigned int sweep_from_iter(struct kunit *test, struct iov_iter *it, size_t len,
				    enum dma_data_direction dir);

#if IODMA_HAVE_ITER_FOLIOQ
static void folio_put_action(void *folio)
{
	folio_put(folio);
}

/* A folio queue of an order-1 and an order-0 folio, entered 300 bytes in. */
static void from_iter_folioq_matches_kva(struct kunit *test)
{
	struct folio_queue *fq = kunit_kzalloc(test, sizeof(*fq), GFP_KERNEL);
	u8 *addrs[2], *expect = kunit_kzalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	size_t lens[2];
	struct iov_iter it;
	struct iodma_md *md;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, fq);
	KUNIT_ASSERT_NOT_NULL(test, expect);
	folioq_init(fq, 0);
	for (i = 0; i < 2; i++) {
		struct folio *folio = folio_alloc(GFP_KERNEL | __GFP_ZERO, 1 - i);

		KUNIT_ASSERT_NOT_NULL(test, folio);
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, folio_put_action, folio), 0);
		iodma_test_fill(folio_address(folio), folio_size(folio), 40 + i);
		folioq_append(fq, folio);
		addrs[i] = folio_address(folio);
		lens[i] = folio_size(folio);
	}
	addrs[0] += 300;
	lens[0] -= 300;
	lens[1] -= 400;
	gather(expect, addrs, lens, 2);
	iov_iter_folio_queue(&it, ITER_SOURCE, fq, 0, 300, 3 * PAGE_SIZE - 300);
	md = describe(test, &it, 3 * PAGE_SIZE - 700, DMA_TO_DEVICE, addrs[1][lens[1]]);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&it), 400UL);
	expect_same_io(test, md, kva_multi(test, addrs, lens, 2, DMA_TO_DEVICE), expect);
	/* its allocations, failed in turn: the descriptor, then its entries */
	iov_iter_folio_queue(&it, ITER_SOURCE, fq, 0, 300, 3 * PAGE_SIZE - 300);
	KUNIT_EXPECT_EQ(test, sweep_from_iter(test, &it, 3 * PAGE_SIZE - 700, DMA_TO_DEVICE), 2U);
}
#endif

/* Refusals leave the iterator exactly as it was. */
static void from_iter_bad_input_leaves_iterator_unchanged(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 256, GFP_KERNEL);
	struct kvec kv = { buf, 256 };
	struct iov_iter it, before;
	u8 on_stack[64];
	struct kvec skv = { on_stack, sizeof(on_stack) };
	static const struct {
		size_t len;
		enum dma_data_direction dir;
	} bad[] = {
		{ 0, DMA_TO_DEVICE }, { 257, DMA_TO_DEVICE }, { SIZE_MAX, DMA_TO_DEVICE },
		{ 16, DMA_FROM_DEVICE }, { 16, DMA_BIDIRECTIONAL }, { 16, DMA_NONE },
	};
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_iter(NULL, 16, DMA_TO_DEVICE)), -EINVAL);
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, 256);
	iov_iter_advance(&it, 1);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		before = it;
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(iodma_md_from_iter(&it, bad[i].len, bad[i].dir)),
				    -EINVAL, "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(&it, &before, sizeof(it)), 0, "case %u", i);
	}
	/* ITER_DEST wants DMA_FROM_DEVICE */
	iov_iter_kvec(&it, ITER_DEST, &kv, 1, 256);
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_iter(&it, 16, DMA_TO_DEVICE)), -EINVAL);
	/* a stack is no DMA memory */
	iov_iter_kvec(&it, ITER_SOURCE, &skv, 1, sizeof(on_stack));
	before = it;
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_iter(&it, 16, DMA_TO_DEVICE)), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(&it, &before, sizeof(it)), 0);
	/* no memory behind a discarding iterator */
	iov_iter_discard(&it, ITER_DEST, 256);
	before = it;
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_iter(&it, 16, DMA_FROM_DEVICE)), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, memcmp(&it, &before, sizeof(it)), 0);
}

/* Pages of an xarray are refused, with the iterator untouched. */
static void from_iter_xarray_returns_eopnotsupp(struct kunit *test)
{
	struct xarray *xa = kunit_kzalloc(test, sizeof(*xa), GFP_KERNEL);
	struct iov_iter it, before;

	KUNIT_ASSERT_NOT_NULL(test, xa);
	xa_init(xa);
	iov_iter_xarray(&it, ITER_SOURCE, xa, 0, PAGE_SIZE);
	before = it;
	KUNIT_EXPECT_EQ(test, PTR_ERR(iodma_md_from_iter(&it, 16, DMA_TO_DEVICE)), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, memcmp(&it, &before, sizeof(it)), 0);
}

/*
 * Fail the 1st, 2nd, ... allocation of iodma_md_from_iter() over @it until
 * it succeeds: each failure is -ENOMEM with the iterator as it was.
 * Returns the failure points met.
 */
static unsigned int sweep_from_iter(struct kunit *test, struct iov_iter *it, size_t len,
				    enum dma_data_direction dir)
{
	struct iov_iter before = *it;
	struct iodma_md *md;
	unsigned int nth;

	for (nth = 1; nth < 32; nth++) {
		iodma_test_fail_nth(test, nth);
		md = iodma_md_from_iter(it, len, dir);
		if (iodma_test_fail_disarm()) {
			KUNIT_EXPECT_FALSE(test, IS_ERR(md));
			if (!IS_ERR(md))
				iodma_md_put(md);
			KUNIT_EXPECT_EQ(test, iov_iter_count(it), iov_iter_count(&before) - len);
			return nth - 1;
		}
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(md), -ENOMEM, "allocation %u", nth);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(it, &before, sizeof(*it)), 0, "allocation %u",
				    nth);
		if (!IS_ERR(md))
			iodma_md_put(md);
	}
	KUNIT_FAIL(test, "from_iter still failing after 31 allocations");
	return 0;
}

/*
 * Every allocation, failed in turn: a kvec or iovec of three segments makes
 * an array, three parts and a multi (two), one user buffer a descriptor,
 * bvecs and a folio queue a descriptor and its entries.
 */
static void from_iter_allocation_failures_return_enomem(struct kunit *test)
{
	struct page *page = patterned_pages(test, 50);
	u8 *buf = page_address(page), *kbuf;
	unsigned long uaddr = user_buf(test, 2 * PAGE_SIZE, 51, &kbuf);
	void __user *u = (void __user *)uaddr;
	struct kvec kv[3] = { { buf, 10 }, { buf + 100, 10 }, { buf + 200, 10 } };
	struct iovec iov[3] = { { u, 10 }, { u + 100, 10 }, { u + 200, 10 } };
	struct bio_vec bv[NR_BVECS];
	u8 *addrs[NR_PIECES];
	size_t lens[NR_PIECES];
	struct iov_iter it;
	struct iodma_md *md;
	unsigned int nth;

	iov_iter_kvec(&it, ITER_SOURCE, kv, 3, 30);
	KUNIT_EXPECT_EQ(test, sweep_from_iter(test, &it, 30, DMA_TO_DEVICE), 6U);
	iov_iter_init(&it, ITER_SOURCE, iov, 3, 30);
	KUNIT_EXPECT_EQ(test, sweep_from_iter(test, &it, 30, DMA_TO_DEVICE), 6U);
	iov_iter_ubuf(&it, ITER_SOURCE, u, 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, sweep_from_iter(test, &it, PAGE_SIZE, DMA_TO_DEVICE), 1U);
	make_bvecs(page, bv, addrs, lens);
	iov_iter_bvec(&it, ITER_SOURCE, bv, NR_BVECS, BVECS_LEN);
	KUNIT_EXPECT_EQ(test, sweep_from_iter(test, &it, BVECS_LEN, DMA_TO_DEVICE), 2U);

	/* iodma_md_from_bvecs(): the descriptor, then its entries */
	for (nth = 1; nth <= 2; nth++) {
		iodma_test_fail_nth(test, nth);
		md = iodma_md_from_bvecs(bv, NR_BVECS, DMA_TO_DEVICE);
		KUNIT_EXPECT_EQ(test, iodma_test_fail_disarm(), 0U);
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(md), -ENOMEM, "allocation %u", nth);
	}
	iodma_test_fail_nth(test, 3);
	md = iodma_md_from_bvecs(bv, NR_BVECS, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, iodma_test_fail_disarm(), 1U);
	iodma_test_md(test, md);
}

static const struct iodma_spec set_spec = { .output = IODMA_OUT_HOST64 };

/* set_bvecs prepares the caller's entries in place: the segments of from_bvecs. */
static void set_bvecs_matches_from_bvecs(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &bypass_spec);
	struct page *page = patterned_pages(test, 60);
	struct iodma_md *copy, *own;
	struct iodma_seg64 *a, *b;
	struct bio_vec bv[NR_BVECS];
	u8 *addrs[NR_PIECES], *got = kunit_kzalloc(test, BVECS_LEN, GFP_KERNEL);
	u8 *expect = kunit_kzalloc(test, BVECS_LEN, GFP_KERNEL);
	size_t lens[NR_PIECES];
	int na, nb, i;

	KUNIT_ASSERT_NOT_NULL(test, got);
	KUNIT_ASSERT_NOT_NULL(test, expect);
	make_bvecs(page, bv, addrs, lens);
	gather(expect, addrs, lens, NR_PIECES);
	copy = iodma_test_md(test, iodma_md_from_bvecs(bv, NR_BVECS, DMA_TO_DEVICE));
	nb = segments_of(test, cmd, copy, &b);

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, NR_BVECS, DMA_TO_DEVICE, true), 0);
	own = iodma_cmd_get_memory_descriptor(cmd);
	KUNIT_ASSERT_NOT_NULL(test, own);
	KUNIT_EXPECT_EQ(test, iodma_md_length(own), (u64)BVECS_LEN);
	KUNIT_EXPECT_EQ(test, iodma_md_direction(own), DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(own), 1U);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(own, 0, got, BVECS_LEN), (u64)BVECS_LEN);
	KUNIT_EXPECT_EQ(test, memcmp(got, expect, BVECS_LEN), 0);
	na = iodma_test_segments(test, cmd, 5, &a);
	KUNIT_ASSERT_EQ(test, na, nb);
	for (i = 0; i < na; i++) {
		KUNIT_EXPECT_EQ_MSG(test, a[i].addr, b[i].addr, "segment %d", i);
		KUNIT_EXPECT_EQ_MSG(test, a[i].len, b[i].len, "segment %d", i);
	}
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(cmd));
}

/* Bad input, and any set while prepared, change nothing. */
static void set_bvecs_refused_changes_nothing(struct kunit *test)
{
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &set_spec);
	struct page *page = iodma_test_pages(test, 1);
	struct bio_vec bv[2] = {
		{ .bv_page = page, .bv_offset = 0, .bv_len = 512 },
		{ .bv_page = NULL, .bv_offset = 0, .bv_len = 512 },
	};
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(page), 64,
								   DMA_TO_DEVICE));
	u64 off, len;

	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(NULL, bv, 1, DMA_TO_DEVICE, false), -EINVAL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, NULL, 1, DMA_TO_DEVICE, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 0, DMA_TO_DEVICE, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 2, DMA_TO_DEVICE, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 1, DMA_NONE, true), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(cmd), md);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 2U);

	/* prepared: -EBUSY, the same range still prepared */
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 8, 16, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 1, DMA_TO_DEVICE, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 1, DMA_TO_DEVICE, true), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(cmd), md);
	KUNIT_ASSERT_EQ(test, iodma_cmd_get_prepared_offset_and_length(cmd, &off, &len), 0);
	KUNIT_EXPECT_EQ(test, off, 8ULL);
	KUNIT_EXPECT_EQ(test, len, 16ULL);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 1U);

	/* unprepared: the old descriptor is released, the bvecs set */
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 1, DMA_TO_DEVICE, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 1U);
	KUNIT_EXPECT_EQ(test, iodma_md_length(iodma_cmd_get_memory_descriptor(cmd)), 512ULL);
	/* and now its own descriptor is prepared: -EBUSY again */
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 1, DMA_TO_DEVICE, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 1U);
	/* the entries are on this stack: done with them before returning */
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/* A failed auto-prepare leaves no descriptor, and the old one released. */
static void set_bvecs_failed_auto_prepare_leaves_no_descriptor(struct kunit *test)
{
	static const struct iodma_spec small = {
		.max_transfer_size = 1024, .output = IODMA_OUT_HOST64,
	};
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &small);
	struct page *page = iodma_test_pages(test, 1);
	struct bio_vec bv = { .bv_page = page, .bv_offset = 5000, .bv_len = 2000 };
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_kva(page_address(page), 64,
								   DMA_TO_DEVICE));

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, &bv, 1, DMA_TO_DEVICE, true), -ENOSPC);
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(cmd));
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(md), 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_get_prepared_offset_and_length(cmd, NULL, NULL),
			-ENODATA);
	/* without auto-prepare the length is not checked, as for set_memory_descriptor */
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, &bv, 1, DMA_TO_DEVICE, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, 1024, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * A reference on the command's own descriptor (a get, a sub-range, another
 * command) keeps it: clearing or replacing it is -EBUSY until it goes.
 */
static void set_bvecs_referenced_descriptor_stays_until_put(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &set_spec);
	struct iodma_cmd *other = iodma_test_cmd(test, dev, &set_spec);
	struct page *page = iodma_test_pages(test, 1);
	struct bio_vec bv = { .bv_page = page, .bv_offset = 100, .bv_len = 6000 };
	struct iodma_md *kva = iodma_test_md(test, iodma_md_from_kva(page_address(page), 64,
								    DMA_TO_DEVICE));
	struct iodma_md *own, *sub;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(cmd, &bv, 1, DMA_TO_DEVICE, false), 0);
	own = iodma_cmd_get_memory_descriptor(cmd);
	KUNIT_ASSERT_NOT_NULL(test, own);

	iodma_md_get(own);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(own), 2U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, &bv, 1, DMA_TO_DEVICE, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, kva, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, NULL, false), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_get_memory_descriptor(cmd), own);
	/* the descriptor is still whole and usable meanwhile */
	KUNIT_EXPECT_EQ(test, iodma_md_length(own), 6000ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	iodma_md_put(own);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(own), 1U);

	/* a sub-range of it */
	sub = iodma_md_subrange(own, 10, 20);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sub));
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), -EBUSY);
	iodma_md_put(sub);

	/* another command it is set on */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(other, own, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(other, true), 0);

	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(cmd));
	/* a new request after the last reference went */
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(cmd, &bv, 1, DMA_TO_DEVICE, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(iodma_cmd_get_memory_descriptor(cmd)), 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * 1000 requests on one command, each a new bvec array over other bytes: the
 * device's writes land exactly in the entries, nowhere else.  Every other
 * request is not cleared: the next set replaces it.
 */
static void set_bvecs_reused_over_1000_requests(struct kunit *test)
{
	struct device *dev = iodma_test_data_dev(test);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &set_spec);
	struct page *page = iodma_test_pages(test, 3);
	u8 *mem = page_address(page);
	u8 *pattern = kunit_kmalloc(test, SZ_32K, GFP_KERNEL);
	u8 *shadow = kunit_kzalloc(test, SZ_32K, GFP_KERNEL);
	struct iodma_seg64 *segs;
	struct bio_vec bv[3];
	unsigned int i, bad = 0;

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, shadow);
	for (i = 0; i < 1000; i++) {
		u32 off0 = PAGE_SIZE + (i * 67) % PAGE_SIZE, len0 = 512 + (i * 131) % SZ_8K;
		u32 off2 = 5 * PAGE_SIZE + (i * 13) % 1000, len2 = 1 + (i * 29) % SZ_8K;
		int n;

		bv[0] = (struct bio_vec){ .bv_page = page, .bv_offset = off0, .bv_len = len0 };
		bv[1] = (struct bio_vec){ .bv_page = NULL, .bv_len = 0 };
		bv[2] = (struct bio_vec){ .bv_page = page, .bv_offset = off2, .bv_len = len2 };
		iodma_test_fill(pattern, len0 + len2, i);
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(cmd, bv, 3, DMA_FROM_DEVICE, true), 0);
		n = iodma_test_segments(test, cmd, 8, &segs);
		KUNIT_ASSERT_GT(test, n, 0);
		iodma_test_device_dma(test, dev, segs, n, pattern, true);
		KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
		if (i & 1)
			KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
		memcpy(shadow + off0, pattern, len0);
		memcpy(shadow + off2, pattern + len0, len2);
		bad += !!memcmp(mem, shadow, SZ_32K);
		kunit_kfree(test, segs);
	}
	KUNIT_EXPECT_EQ(test, bad, 0U);
}

/*
 * The command's own descriptor is set up once, at creation, and each
 * request fills in only its entries, direction and length: every request
 * must see exactly its own, with the command's one reference and no wiring
 * left between requests, whatever came between them (another descriptor,
 * a spec change, a reference taken and dropped, hundreds of pooled I/Os).
 * Not set, it is no descriptor a caller may set.
 */
static void set_bvecs_own_descriptor_follows_each_request(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &set_spec, 1);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &set_spec);
	struct page *page = iodma_test_pages(test, 1);
	u8 *mem = page_address(page);
	struct iodma_md *kva = iodma_test_md(test, iodma_md_from_kva(mem, 64, DMA_TO_DEVICE));
	struct iodma_spec spec2 = { .output = IODMA_OUT_HOST64, .max_segment_size = 512 };
	struct iodma_md *own, *first[2] = {};
	struct bio_vec bv[2];
	unsigned int i, bad = 0;
	u8 buf[48];

	iodma_test_fill(mem, 2 * PAGE_SIZE, 11);

	for (i = 0; i < 300; i++) {
		enum dma_data_direction dir = i & 1 ? DMA_FROM_DEVICE :
					      i % 3 ? DMA_TO_DEVICE : DMA_BIDIRECTIONAL;
		u32 off = (i * 97) % PAGE_SIZE, len0 = 48 + (i * 37) % 3000;
		u32 len1 = i & 2 ? 1 + (i * 53) % PAGE_SIZE : 0;
		unsigned int n = len1 ? 2 : 1;
		struct iodma_cmd *c = i < 10 ? cmd : iodma_pool_get(pool, GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, c);
		if (i % 5 == 0) {
			/* another kind of descriptor between two requests */
			KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(c, kva, true), 0);
			KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(c, true), 0);
		}
		if (c == cmd && i % 4 == 1)
			KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(c, i & 4 ? &set_spec : &spec2), 0);
		bv[0] = (struct bio_vec){ .bv_page = page, .bv_offset = off, .bv_len = len0 };
		bv[1] = (struct bio_vec){ .bv_page = page + 1, .bv_offset = i % 64,
					  .bv_len = len1 };
		KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(c, bv, n, dir, false), 0);
		own = iodma_cmd_get_memory_descriptor(c);
		if (!first[c != cmd])
			first[c != cmd] = own;
		/* the same descriptor, the command's own, request after request */
		KUNIT_ASSERT_PTR_EQ(test, own, first[c != cmd]);
		bad += iodma_md_length(own) != len0 + len1;
		bad += iodma_md_direction(own) != dir;
		bad += iodma_test_md_refs(own) != 1 || iodma_test_md_wired(own) != 0;
		/* its entries are this request's: the bytes at the end of the first */
		bad += iodma_md_read_bytes(own, len0 - sizeof(buf), buf,
					   sizeof(buf)) != sizeof(buf);
		bad += !!memcmp(buf, mem + off + len0 - sizeof(buf), sizeof(buf));
		if (len1) {
			bad += iodma_md_read_bytes(own, len0, buf, 1) != 1;
			bad += buf[0] != mem[PAGE_SIZE + i % 64];
		}
		if (c == cmd)
			KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(c, 0, 0, true, true), 0);
		else
			KUNIT_ASSERT_EQ(test, iodma_cmd_prepare_nowait(c, 0, 0, true, true), 0);
		bad += iodma_test_md_wired(own) != 1;
		if (i % 3 == 2) {
			/* a reference taken between requests holds the descriptor */
			iodma_md_get(own);
			KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(c, true), -EBUSY);
			KUNIT_EXPECT_EQ(test, iodma_test_nesting(c), 1U);
			iodma_md_put(own);
		}
		KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(c, true), 0);
		bad += iodma_test_md_refs(own) != 1 || iodma_test_md_wired(own) != 0;
		if (c != cmd)
			KUNIT_ASSERT_EQ(test, iodma_pool_put(pool, c), 0);
	}
	KUNIT_EXPECT_EQ(test, bad, 0U);
	/* not set, it is nothing a caller may set: no request filled it in */
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, first[0], false), -EINVAL);
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(cmd));
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(first[0]), 1U);
}

/*
 * A command's own descriptor, cleared, describes nothing: a stray pointer
 * to it (a driver that kept iodma_cmd_get_memory_descriptor()'s answer past
 * the clear) is refused by another command, a sub-range and a multi, and a
 * stray reference keeps the command from reusing or freeing it.
 */
static void set_bvecs_stale_own_descriptor_is_refused(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *a = iodma_test_cmd(test, dev, &set_spec);
	struct iodma_cmd *b = iodma_test_cmd(test, dev, &set_spec);
	struct page *page = iodma_test_pages(test, 1);
	struct bio_vec bv = { .bv_page = page, .bv_offset = 0, .bv_len = 512 };
	struct iodma_md *own, *part;

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(b, &bv, 1, DMA_TO_DEVICE, false), 0);
	own = iodma_cmd_get_memory_descriptor(b);
	/* while set, another command may share it (and holds it) */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(a, own, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(b, false), -EBUSY);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(a, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(b, false), 0);

	/* cleared: nothing may use it */
	KUNIT_EXPECT_EQ(test, iodma_md_length(own), 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_memory_descriptor(a, own, false), -EINVAL);
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(a));
	part = iodma_md_subrange(own, 0, 512);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(part), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_test_md_refs(own), 1U);

	/* a stray reference: the command neither reuses nor lets go of it */
	iodma_md_get(own);
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_bvecs(b, &bv, 1, DMA_FROM_DEVICE, false), -EBUSY);
	KUNIT_EXPECT_NULL(test, iodma_cmd_get_memory_descriptor(b));
	KUNIT_EXPECT_EQ(test, iodma_md_direction(own), DMA_NONE);
	iodma_md_put(own);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_bvecs(b, &bv, 1, DMA_FROM_DEVICE, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_length(own), 512ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(b, false), 0);
}

/*
 * A range of a one-entry descriptor -- an sg_table's or a bio_vec array's,
 * whole or any part of it -- is one segment at exactly its bytes, request
 * after request on the same command (the view's one-entry fill).
 */
static void one_entry_range_is_its_bytes(struct kunit *test)
{
	static const struct iodma_spec spec = { .output = IODMA_OUT_HOST64,
						.map = IODMA_BYPASSED };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct iodma_pool *pool = iodma_test_pool(test, dev, &spec, 1);
	struct page *page = iodma_test_pages(test, 2);
	struct sg_table *sgt = iodma_test_sgtable(test, 1);
	struct bio_vec bv = { .bv_page = page, .bv_offset = 300, .bv_len = 3 * PAGE_SIZE };
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	struct iodma_cmd *c;
	unsigned int i;
	int n, ret;

	sg_set_page(sgt->sgl, page, 3 * PAGE_SIZE, 300);
	md = iodma_test_md(test, iodma_md_from_sgtable(sgt, DMA_TO_DEVICE));
	for (i = 0; i < 12; i++) {
		u64 off = (i * 1237) % (2 * PAGE_SIZE), len = 1 + (i * 2851) % PAGE_SIZE;

		c = i & 1 ? iodma_pool_get(pool, GFP_KERNEL) : cmd;
		KUNIT_ASSERT_NOT_NULL(test, c);
		ret = i & 2 ? iodma_cmd_set_bvecs(c, &bv, 1, DMA_TO_DEVICE, false) :
			      iodma_cmd_set_memory_descriptor(c, md, false);
		KUNIT_ASSERT_EQ(test, ret, 0);
		KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(c, off, len, true, true), 0);
		n = iodma_test_segments(test, c, 4, &segs);
		KUNIT_EXPECT_EQ(test, n, 1);
		if (n == 1) {
			KUNIT_EXPECT_EQ(test, segs[0].addr, page_to_phys(page) + 300 + off);
			KUNIT_EXPECT_EQ(test, segs[0].len, len);
		}
		KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(c, true), 0);
		if (c != cmd)
			KUNIT_ASSERT_EQ(test, iodma_pool_put(pool, c), 0);
	}
}

static struct kunit_case iter_test_cases[] = {
	KUNIT_CASE(from_bvecs_bad_input_returns_einval),
	KUNIT_CASE(from_bvecs_matches_kva),
	KUNIT_CASE(from_bvecs_copies_the_array),
	KUNIT_CASE(from_iter_kvec_matches_kva),
	KUNIT_CASE(from_iter_kvec_vmalloc_matches_kva),
	KUNIT_CASE(from_iter_bvec_matches_kva),
	KUNIT_CASE(from_iter_ubuf_matches_user),
	KUNIT_CASE(from_iter_iovec_matches_user),
	KUNIT_CASE(from_iter_dest_is_written_through),
#if IODMA_HAVE_ITER_FOLIOQ
	KUNIT_CASE(from_iter_folioq_matches_kva),
#endif
	KUNIT_CASE(from_iter_bad_input_leaves_iterator_unchanged),
	KUNIT_CASE(from_iter_xarray_returns_eopnotsupp),
	KUNIT_CASE(from_iter_allocation_failures_return_enomem),
	KUNIT_CASE(set_bvecs_matches_from_bvecs),
	KUNIT_CASE(set_bvecs_refused_changes_nothing),
	KUNIT_CASE(set_bvecs_failed_auto_prepare_leaves_no_descriptor),
	KUNIT_CASE(set_bvecs_own_descriptor_follows_each_request),
	KUNIT_CASE(set_bvecs_stale_own_descriptor_is_refused),
	KUNIT_CASE(one_entry_range_is_its_bytes),
	KUNIT_CASE(set_bvecs_referenced_descriptor_stays_until_put),
	KUNIT_CASE(set_bvecs_reused_over_1000_requests),
	{}
};

static struct kunit_suite iter_test_suite = {
	.name = "iodma_iter",
	.test_cases = iter_test_cases,
};

kunit_test_suite(iter_test_suite);
