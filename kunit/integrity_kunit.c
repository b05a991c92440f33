// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: memory safety and data integrity.  One case per defect that the
 * code and security reviews found (review-code.md F1-F19, D1-D3), each
 * named after the behaviour it checks, and the extreme arguments of the
 * public API (U64_MAX, U32_MAX, 2^63): every one gets its documented errno,
 * never a warning, a wrapped size or an oops.
 */
#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>
#include "iodma_kunit.h"

static const struct iodma_spec spec64 = { .output = IODMA_OUT_HOST64 };

/* A page whose physical address is above @limit, or the test is skipped. */
static struct page *page_above(struct kunit *test, u64 limit)
{
	struct page *p, *tmp, *found = NULL;
	LIST_HEAD(rejects);
	unsigned int tries;

	for (tries = 0; tries < 65536 && !found; tries++) {
		p = alloc_page(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
		if (!p)
			break;
		if (page_to_phys(p) > limit)
			found = p;
		else
			list_add(&p->lru, &rejects);
	}
	list_for_each_entry_safe(p, tmp, &rejects, lru) {
		list_del(&p->lru);
		__free_page(p);
	}
	if (!found)
		kunit_skip(test, "no free page above %#llx in this guest", limit);
	return iodma_test_own_pages(test, found, 0);
}

/* A private anonymous user page holding @fill (so not the shared zero page). */
static unsigned long user_page(struct kunit *test, u8 fill)
{
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	u8 *buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_TRUE_MSG(test, uaddr && !IS_ERR_VALUE(uaddr), "no user mm");
	memset(buf, fill, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, buf, PAGE_SIZE), 0UL);
	return uaddr;
}

/* F1/S2: the CPU never writes user memory pinned read-only (DMA_TO_DEVICE). */
static void write_bytes_refused_on_readonly_user_pages(struct kunit *test)
{
	unsigned long uaddr = user_page(test, 0x5a);
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec64);
	struct iodma_md *md, *parts[2], *multi, *sub;
	u8 x = 'X', back;

	md = iodma_test_md(test, iodma_md_from_user(uaddr, PAGE_SIZE, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, iodma_md_write_bytes(md, 0, &x, 1), 0ULL);
	/* but it may be read */
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, 0, &back, 1), 1ULL);
	KUNIT_EXPECT_EQ(test, back, 0x5a);
	/* through a sub-range and a concatenation too */
	sub = iodma_test_md(test, iodma_md_subrange(md, 16, 64));
	KUNIT_EXPECT_EQ(test, iodma_md_write_bytes(sub, 0, &x, 1), 0ULL);
	parts[0] = iodma_test_md(test, iodma_md_from_kva(kunit_kzalloc(test, 64, GFP_KERNEL),
							 64, DMA_TO_DEVICE));
	parts[1] = md;
	multi = iodma_test_md(test, iodma_md_multi(parts, 2, DMA_TO_DEVICE));
	KUNIT_EXPECT_EQ(test, iodma_md_write_bytes(multi, 0, &x, 1), 0ULL);
	/* and through a prepared command that does not bounce */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	KUNIT_EXPECT_EQ(test, iodma_cmd_write_bytes(cmd, 0, &x, 1), 0ULL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	KUNIT_ASSERT_EQ(test, copy_from_user(&back, (void __user *)uaddr, 1), 0UL);
	KUNIT_EXPECT_EQ(test, back, 0x5a);

	/* memory pinned for the device to write is writable by the CPU as well */
	md = iodma_test_md(test, iodma_md_from_user(uaddr, PAGE_SIZE, DMA_BIDIRECTIONAL));
	KUNIT_EXPECT_EQ(test, iodma_md_write_bytes(md, 0, &x, 1), 1ULL);
	KUNIT_ASSERT_EQ(test, copy_from_user(&back, (void __user *)uaddr, 1), 0UL);
	KUNIT_EXPECT_EQ(test, back, 'X');
}

/* F3: a copy buffer larger than memory is -ENOMEM, never a wrapped size. */
static void huge_copy_buffer_is_enomem(struct kunit *test)
{
	struct iodma_spec spec = { .alignment = 512, .max_transfer_size = U64_MAX,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec64);
	static const u64 sizes[] = { U64_MAX, 1ULL << 63, (1ULL << 44) + 2 * PAGE_SIZE,
				     1ULL << 40 };
	struct iodma_pool *pool;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test, iodma_cmd_create_copy_buffer(cmd, DMA_TO_DEVICE,
									   sizes[i]),
					ERR_PTR(-ENOMEM), "length %#llx", sizes[i]);
	KUNIT_EXPECT_PTR_EQ(test, iodma_pool_create(dev, &spec, 1, "kunit-huge"),
			    ERR_PTR(-ENOMEM));
	/* the failed pool left nothing behind: its name is free again */
	spec.max_transfer_size = SZ_64K;
	pool = iodma_pool_create(dev, &spec, 1, "kunit-huge");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	iodma_pool_destroy(pool);
}

/* F4/S3: a user descriptor's page count is never truncated: too long is -EINVAL. */
static void user_descriptor_beyond_page_limit_is_einval(struct kunit *test)
{
	/* low in the address space, so that uaddr + 2^44 passes access_ok() */
	unsigned long uaddr = kunit_vm_mmap(test, NULL, SZ_256M, PAGE_SIZE,
					    PROT_READ | PROT_WRITE,
					    MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, 0);
	static const u64 lens[] = { 1ULL << 44, (1ULL << 44) + PAGE_SIZE, 1ULL << 40,
				    ((u64)IODMA_USER_MAX_PAGES << PAGE_SHIFT) + 1 };
	struct iodma_md *md;
	unsigned int i;

	KUNIT_ASSERT_EQ_MSG(test, uaddr, (unsigned long)SZ_256M, "no fixed user mapping");
	for (i = 0; i < ARRAY_SIZE(lens); i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test, iodma_md_from_user(uaddr, lens[i], DMA_TO_DEVICE),
					ERR_PTR(-EINVAL), "length %#llx", lens[i]);
	/* the largest one is described (and only fails when pinned) */
	md = iodma_md_from_user(uaddr, (u64)IODMA_USER_MAX_PAGES << PAGE_SHIFT, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, md);
	KUNIT_EXPECT_EQ(test, iodma_test_md_user_npages(md), IODMA_USER_MAX_PAGES);
	iodma_md_put(md);
}

/*
 * F5/D2: the device's DMA mask is honoured everywhere, not only by the
 * preflight: a bypassed command with addr_bits wider than a 28-bit mask
 * bounces memory above it into a copy buffer below it, and a physical range
 * above it is reported by gen, never emitted.
 */
static void bypassed_segments_within_device_mask(struct kunit *test)
{
	struct iodma_spec spec = { .map = IODMA_BYPASSED, .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 28);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec);
	struct page *page = page_above(test, DMA_BIT_MASK(28));
	struct iodma_phys_range far = { .addr = SZ_1G, .len = PAGE_SIZE };
	struct iodma_seg64 *segs, seg;
	struct iodma_md *md;
	u64 off = 0;
	u32 n = 1;
	const struct iodma_cbuf_chunk *chunk;
	unsigned int i;
	int cnt;

	md = iodma_test_md(test, iodma_md_from_pages(&page, 1, 100, 2000, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ADDRESS);
	cnt = iodma_test_segments(test, cmd, 4, &segs);
	KUNIT_ASSERT_GT(test, cnt, 0);
	for (i = 0; i < cnt; i++)
		KUNIT_EXPECT_LE(test, segs[i].addr + segs[i].len - 1, (u64)DMA_BIT_MASK(28));
	for (i = 0; (chunk = iodma_test_cbuf_chunk(cmd, i)); i++)
		KUNIT_EXPECT_LE(test, (u64)chunk->dma, (u64)DMA_BIT_MASK(28));
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	md = iodma_test_md(test, iodma_md_from_phys(&far, 1, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &seg, &n), -ERANGE);
	KUNIT_EXPECT_EQ(test, off, 0ULL);
	KUNIT_EXPECT_EQ(test, n, 1U);
}

/*
 * F9: a new specification does not inherit the old one's copy buffer: after
 * a bounce with 4 KiB chunks, a 64 KiB alignment still gets aligned
 * segments.
 */
static void set_spec_drops_stale_copy_buffer(struct kunit *test)
{
	struct iodma_spec spec = { .map = IODMA_BYPASSED, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
	u8 *buf = kunit_kzalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	struct iodma_md *md, *kept;
	struct iodma_seg64 *segs;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	md = iodma_test_md(test, iodma_md_from_kva(buf, PAGE_SIZE, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_synchronize(cmd, IODMA_SYNC_FOR_DEVICE |
						    IODMA_FORCE_DOUBLE_BUFFER), 0);
	KUNIT_ASSERT_NOT_NULL(test, iodma_test_cbuf_md(cmd));
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	spec.alignment = SZ_64K;
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &spec), 0);
	KUNIT_EXPECT_NULL(test, iodma_test_cbuf_md(cmd));
	md = iodma_test_md(test, iodma_md_from_kva(buf + 8, PAGE_SIZE, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ALIGNMENT);
	n = iodma_test_segments(test, cmd, 4, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	KUNIT_EXPECT_EQ(test, segs[0].addr & (SZ_64K - 1), 0ULL);
	iodma_test_check_invariants(test, cmd, segs, n);
	/* the same specification again keeps the copy buffer */
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
	kept = iodma_test_cbuf_md(cmd);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_spec(cmd, &spec), 0);
	KUNIT_EXPECT_PTR_EQ(test, iodma_test_cbuf_md(cmd), kept);
}

/*
 * F11/S4: a bidirectional bounce prepared without synchronize still starts
 * from the memory's bytes: a device that writes nothing gives the memory
 * back unchanged, never an earlier I/O's bytes.
 */
static void bidirectional_bounce_never_returns_stale_bytes(struct kunit *test)
{
	struct iodma_spec spec = { .alignment = 512, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
	u8 *a = kunit_kmalloc(test, PAGE_SIZE + 8, GFP_KERNEL);
	u8 *b = kunit_kmalloc(test, PAGE_SIZE + 8, GFP_KERNEL);
	u8 *want = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, want);
	memset(a, 0xaa, PAGE_SIZE + 8);
	memset(b, 0xbb, PAGE_SIZE + 8);
	memset(want, 0xbb, PAGE_SIZE);

	md = iodma_test_md(test, iodma_md_from_kva(a + 1, PAGE_SIZE, DMA_BIDIRECTIONAL));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ALIGNMENT);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);

	md = iodma_test_md(test, iodma_md_from_kva(b + 1, PAGE_SIZE, DMA_BIDIRECTIONAL));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, false, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_ALIGNMENT);
	/* the device writes nothing */
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, memcmp(b + 1, want, PAGE_SIZE), 0);
}

#ifdef CONFIG_ZONE_DMA32
/* F10: a 32-bit copy buffer comes from ZONE_DMA32, not the 16 MiB of ZONE_DMA. */
static void copy_buffer_for_32_bits_from_dma32(struct kunit *test)
{
	struct iodma_spec spec = { .alignment = 512, .map = IODMA_BYPASSED,
				   .output = IODMA_OUT_LITTLE32 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
	u8 *buf = kunit_kzalloc(test, SZ_64K + 8, GFP_KERNEL);
	const struct iodma_cbuf_chunk *chunk;
	struct iodma_md *md;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	md = iodma_test_md(test, iodma_md_from_kva(buf + 8, SZ_64K, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	/* misaligned, and maybe above 4 GiB as well */
	KUNIT_ASSERT_NE(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	KUNIT_ASSERT_NOT_NULL(test, iodma_test_cbuf_chunk(cmd, 0));
	for (i = 0; (chunk = iodma_test_cbuf_chunk(cmd, i)); i++)
		KUNIT_EXPECT_EQ_MSG(test, page_zonenum(chunk->page), ZONE_DMA32,
				    "chunk %u at %#llx", i, (u64)chunk->dma);
}
#else
static void copy_buffer_for_32_bits_from_dma32(struct kunit *test)
{
	kunit_skip(test, "no ZONE_DMA32 in this kernel");
}
#endif

/*
 * The bytes as the device sees them, also where the DMA API itself bounced
 * the mapping (swiotlb=force): read_bytes shows what the device wrote,
 * write_bytes reaches what the device reads, and survives complete.
 */
static void cmd_bytes_are_the_device_view(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec64);
	u8 *mem = kunit_kmalloc(test, SZ_8K, GFP_KERNEL);
	u8 *dev_bytes = kunit_kmalloc(test, SZ_8K, GFP_KERNEL);
	u8 *seen = kunit_kzalloc(test, SZ_8K, GFP_KERNEL);
	u8 w[16];
	bool forced = is_swiotlb_force_bounce(dev);
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	KUNIT_ASSERT_NOT_NULL(test, dev_bytes);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	memset(w, 0x77, sizeof(w));
	memset(mem, 0x11, SZ_8K);
	iodma_test_fill(dev_bytes, SZ_8K, 21);

	/* bidirectional: the device writes, the CPU reads it, then writes 16 bytes */
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_8K, DMA_BIDIRECTIONAL));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_bounce_reason(cmd), IODMA_BOUNCE_NONE);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	iodma_test_device_dma(test, dev, segs, n, dev_bytes, true);
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(cmd, 0, seen, SZ_8K), (u64)SZ_8K);
	KUNIT_EXPECT_EQ(test, memcmp(seen, dev_bytes, SZ_8K), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_write_bytes(cmd, 100, w, sizeof(w)), (u64)sizeof(w));
	iodma_test_device_dma(test, dev, segs, n, seen, false);
	KUNIT_EXPECT_EQ(test, memcmp(seen + 100, w, sizeof(w)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(seen + 116, dev_bytes + 116, 100), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	KUNIT_EXPECT_EQ(test, memcmp(mem + 100, w, sizeof(w)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(mem, dev_bytes, 100), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	/* to the device: what the CPU writes is what the device reads */
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_8K, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	n = iodma_test_segments(test, cmd, 8, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	memset(w, 0x99, sizeof(w));
	KUNIT_EXPECT_EQ(test, iodma_cmd_write_bytes(cmd, 0, w, sizeof(w)), (u64)sizeof(w));
	iodma_test_device_dma(test, dev, segs, n, seen, false);
	KUNIT_EXPECT_EQ(test, memcmp(seen, w, sizeof(w)), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	/* from the device: a CPU write no sync could carry is refused where swiotlb bounces */
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_8K, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_write_bytes(cmd, 0, w, sizeof(w)),
			forced ? 0ULL : (u64)sizeof(w));
	/* complete before the memory is freed: swiotlb copies back into it */
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * F12, F7: physical ranges on a MAPPED command.  Beyond the device's mask:
 * prepare succeeds (no dma_map_resource() warning) and gen reports -ERANGE.
 * RAM is mapped as pages, so that its syncs are real ones; MMIO is never
 * synced.
 */
static void mapped_phys_ranges_reach_and_ram(struct kunit *test)
{
	struct device *dev = iodma_test_dev(test, 32), *dev64 = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec64);
	struct iodma_cmd *cmd64 = iodma_test_cmd(test, dev64, &spec64);
	struct iodma_phys_range r = { .addr = 5ULL << 30, .len = PAGE_SIZE };
	u8 *mem = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct iodma_seg64 seg;
	struct iodma_md *md;
	u64 off = 0;
	u32 n = 1;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	md = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_EXPECT_FALSE(test, iodma_test_ranges_mapped(cmd));
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &seg, &n), -ERANGE);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd, IODMA_SYNC_FOR_CPU), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);

	r.addr = virt_to_phys(mem);
	md = iodma_test_md(test, iodma_md_from_phys(&r, 1, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd64, md, true), 0);
	KUNIT_EXPECT_TRUE(test, iodma_test_ranges_mapped(cmd64));
	KUNIT_EXPECT_TRUE(test, iodma_test_range_ram(cmd64, 0));
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd64, &off, &seg, &n), 0);
	KUNIT_EXPECT_EQ(test, seg.len, (u64)PAGE_SIZE);
	if (!is_swiotlb_force_bounce(dev64))
		KUNIT_EXPECT_EQ(test, seg.addr, (u64)virt_to_phys(mem));
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd64, IODMA_SYNC_FOR_CPU), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd64, true), 0);
}

/* F13: an entry reused from an earlier mapping carries none of its DMA state. */
static void reused_view_has_no_stale_dma_flags(struct kunit *test)
{
#ifdef CONFIG_NEED_SG_DMA_FLAGS
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec64);
	u8 *mem = kunit_kzalloc(test, SZ_8K, GFP_KERNEL);
	struct iodma_md *md;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_8K, DMA_FROM_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);
	/* as dma-iommu leaves it after a swiotlb mapping */
	sg_dma_mark_swiotlb(iodma_test_view(cmd)->sgl);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), 0);
	KUNIT_EXPECT_FALSE(test, sg_dma_is_swiotlb(iodma_test_view(cmd)->sgl));
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
#else
	kunit_skip(test, "no scatterlist DMA flags in this kernel");
#endif
}

/* F17: kernel addresses that are not DMA memory are refused when described. */
static void kva_outside_dma_memory_is_einval(struct kunit *test)
{
	u8 stack_buf[64];
	u8 *va = iodma_test_vzalloc(test, PAGE_SIZE);
	struct iodma_md *md;

	memset(stack_buf, 0, sizeof(stack_buf));
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_from_kva(stack_buf, sizeof(stack_buf),
						    DMA_TO_DEVICE), ERR_PTR(-EINVAL));
	/* into the guard page after the area */
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_from_kva(va, 2 * PAGE_SIZE, DMA_TO_DEVICE),
			    ERR_PTR(-EINVAL));
	md = iodma_md_from_kva(va, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE(test, IS_ERR(md));
	if (!IS_ERR(md))
		iodma_md_put(md);
}

/*
 * F16: the rollback of a non-blocking prepare never sleeps, even when it
 * drops the last wiring of user memory: the unpin goes to a worker.
 */
static void nowait_unwire_of_last_pin_defers(struct kunit *test)
{
	unsigned long uaddr = user_page(test, 1);
	struct iodma_md *md = iodma_test_md(test, iodma_md_from_user(uaddr, PAGE_SIZE,
								     DMA_FROM_DEVICE));

	KUNIT_ASSERT_EQ(test, iodma_md_prepare(md), 0);
	KUNIT_ASSERT_EQ(test, iodma_md_prepare(md), 0);
	preempt_disable();
	KUNIT_EXPECT_EQ(test, iodma_md_unwire(md, GFP_ATOMIC), 0);
	KUNIT_EXPECT_EQ(test, iodma_md_unwire(md, GFP_ATOMIC), 0);
	preempt_enable();
	flush_workqueue(iodma_wq);
	KUNIT_EXPECT_EQ(test, iodma_test_md_wired(md), 0);
	KUNIT_EXPECT_NULL(test, iodma_test_md_pinned(md));
	KUNIT_EXPECT_EQ(test, iodma_md_complete(md), -ENODATA);
}

/* D1: bypassed addresses need a device that snoops: IODMA_NONCOHERENT refuses them. */
static void noncoherent_bypassed_is_eopnotsupp(struct kunit *test)
{
	struct iodma_spec spec = { .map = IODMA_BYPASSED, .flags = IODMA_NONCOHERENT,
				   .output = IODMA_OUT_HOST64 };
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd;

	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_create(dev, &spec), ERR_PTR(-EOPNOTSUPP));
	spec.map = IODMA_MAPPED;
	cmd = iodma_test_cmd(test, dev, &spec);
	spec.map = IODMA_BYPASSED;
	KUNIT_EXPECT_EQ(test, iodma_cmd_set_spec(cmd, &spec), -EOPNOTSUPP);
	iodma_cmd_get_spec(cmd, &spec);
	KUNIT_EXPECT_EQ(test, spec.map, IODMA_MAPPED);
	/* a non-snooping MAPPED command never falls back to zone pages */
	KUNIT_EXPECT_FALSE(test, iodma_cmd_coherent(cmd));
}

/* Bus ranges at the top of the address space: the one ending at 2^64 stays alone. */
static void phys_ranges_never_merge_across_the_wrap(struct kunit *test)
{
	struct iodma_spec spec = { .map = IODMA_ITERATE_ONLY, .output = IODMA_OUT_HOST64 };
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
	const struct iodma_phys_range r[] = {
		{ .addr = U64_MAX - PAGE_SIZE + 1, .len = PAGE_SIZE },
		{ .addr = 0, .len = PAGE_SIZE },
	};
	struct iodma_seg64 *segs;
	struct iodma_md *md;

	md = iodma_test_md(test, iodma_md_from_phys(r, 2, DMA_TO_DEVICE));
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	KUNIT_ASSERT_EQ(test, iodma_test_segments(test, cmd, 4, &segs), 2);
	KUNIT_EXPECT_EQ(test, segs[0].addr, U64_MAX - PAGE_SIZE + 1);
	KUNIT_EXPECT_EQ(test, segs[0].len, (u64)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, segs[1].addr, 0ULL);
	KUNIT_EXPECT_EQ(test, segs[1].len, (u64)PAGE_SIZE);
}

static const u64 extremes[] = {
	U64_MAX, U64_MAX - 1, 1ULL << 63, U32_MAX, (u64)U32_MAX + 1, U64_MAX - PAGE_SIZE + 1,
};

static void extreme_desc(const u64 *v, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%#llx", *v);
}

KUNIT_ARRAY_PARAM(extreme, extremes, extreme_desc);

/*
 * Every length and offset argument of the public API at an extreme value:
 * the documented errno (or a clamped copy), state unchanged, no warning.
 */
static void extreme_arguments_get_documented_errnos(struct kunit *test)
{
	const u64 v = *(const u64 *)test->param_value;
	struct device *dev = iodma_test_dev(test, 64);
	struct iodma_cmd *cmd = iodma_test_cmd(test, dev, &spec64);
	u8 *mem = kunit_kzalloc(test, SZ_64K, GFP_KERNEL);
	struct page *page = virt_to_page(mem);
	struct iodma_phys_range r = { .addr = v, .len = U64_MAX };
	struct iodma_explain ex;
	struct iodma_seg64 seg;
	struct iodma_md *md;
	u64 off = v, len;
	u32 n = 1;
	u8 b;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_64K, DMA_BIDIRECTIONAL));

	/* descriptors */
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_from_kva(mem, v, DMA_TO_DEVICE), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_from_pages(&page, 1, v, 1, DMA_TO_DEVICE),
			    ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_from_pages(&page, 1, 0, v, DMA_TO_DEVICE),
			    ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_from_phys(&r, 1, DMA_TO_DEVICE), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_subrange(md, v, 1), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_subrange(md, 1, v), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, iodma_md_subrange(md, v, v), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, v, &b, 1), 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_md_write_bytes(md, v, &b, 1), 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_md_read_bytes(md, SZ_64K - 1, &b, v), 1ULL);

	/* commands */
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, v, 0, true, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 0, v, true, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, v, v, true, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, 1, v, true, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare_nowait(cmd, v, 1, true, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(cmd, md, v, 0, &ex), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(cmd, md, 0, v, &ex), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_explain(cmd, md, v, v, &ex), -EINVAL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_synchronize(cmd, (u32)v), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, iodma_cmd_create_copy_buffer(cmd, DMA_TO_DEVICE, v),
			    ERR_PTR(-ENOMEM));
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 0U);

	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, 0, 0, true, true), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_gen_segments(cmd, &off, &seg, &n), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, off, v);
	KUNIT_EXPECT_EQ(test, n, 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(cmd, v, &b, 1), 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_write_bytes(cmd, v, &b, 1), 0ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_read_bytes(cmd, SZ_64K - 1, &b, v), 1ULL);
	KUNIT_EXPECT_EQ(test, iodma_cmd_prepare(cmd, v, v, true, true), -EINVAL);
	KUNIT_ASSERT_EQ(test, iodma_cmd_get_prepared_offset_and_length(cmd, &off, &len), 0);
	KUNIT_EXPECT_EQ(test, off, 0ULL);
	KUNIT_EXPECT_EQ(test, len, (u64)SZ_64K);
	KUNIT_EXPECT_EQ(test, iodma_test_nesting(cmd), 1U);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, true), 0);
}

/*
 * Extreme values in every specification field: either refused with -EINVAL
 * by iodma_spec_validate() and iodma_cmd_create() alike, or accepted and
 * then correct on real memory (invariant 2 over 64 KiB).
 */
static void extreme_spec_fields_valid_or_einval(struct kunit *test)
{
	const u64 v = *(const u64 *)test->param_value;
	struct device *dev = iodma_test_dev(test, 64);
	u8 *mem = kunit_kzalloc(test, SZ_64K, GFP_KERNEL);
	struct iodma_md *md;
	unsigned int field;

	KUNIT_ASSERT_NOT_NULL(test, mem);
	md = iodma_test_md(test, iodma_md_from_kva(mem, SZ_64K, DMA_TO_DEVICE));
	for (field = 0; field < 7; field++) {
		struct iodma_spec spec = { .output = IODMA_OUT_HOST64 };
		struct iodma_seg64 *segs;
		struct iodma_cmd *cmd;
		int valid, nseg;

		switch (field) {
		case 0:
			spec.max_segment_size = v;
			break;
		case 1:
			spec.max_transfer_size = v;
			break;
		case 2:
			spec.seg_boundary_mask = v;
			break;
		case 3:
			spec.alignment = (u32)v;
			break;
		case 4:
			spec.length_alignment = (u32)v;
			break;
		case 5:
			spec.internal_alignment = (u32)v;
			break;
		default:
			spec.addr_bits = (u8)v;
			break;
		}
		valid = iodma_spec_validate(&spec);
		KUNIT_EXPECT_TRUE_MSG(test, valid == 0 || valid == -EINVAL, "field %u", field);
		cmd = iodma_cmd_create(dev, &spec);
		if (valid) {
			KUNIT_EXPECT_PTR_EQ_MSG(test, cmd, ERR_PTR(valid), "field %u", field);
			continue;
		}
		KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, cmd, "field %u", field);
		KUNIT_EXPECT_EQ_MSG(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0,
				    "field %u", field);
		nseg = iodma_test_segments(test, cmd, 16, &segs);
		KUNIT_EXPECT_GT_MSG(test, nseg, 0, "field %u", field);
		if (nseg > 0)
			iodma_test_check_invariants(test, cmd, segs, nseg);
		iodma_cmd_clear_memory_descriptor(cmd, true);
		iodma_cmd_destroy(cmd);
	}
}

static struct kunit_case integrity_cases[] = {
	KUNIT_CASE(write_bytes_refused_on_readonly_user_pages),
	KUNIT_CASE(huge_copy_buffer_is_enomem),
	KUNIT_CASE(user_descriptor_beyond_page_limit_is_einval),
	KUNIT_CASE(bypassed_segments_within_device_mask),
	KUNIT_CASE(set_spec_drops_stale_copy_buffer),
	KUNIT_CASE(bidirectional_bounce_never_returns_stale_bytes),
	KUNIT_CASE(copy_buffer_for_32_bits_from_dma32),
	KUNIT_CASE(cmd_bytes_are_the_device_view),
	KUNIT_CASE(mapped_phys_ranges_reach_and_ram),
	KUNIT_CASE(reused_view_has_no_stale_dma_flags),
	KUNIT_CASE(kva_outside_dma_memory_is_einval),
	KUNIT_CASE(nowait_unwire_of_last_pin_defers),
	KUNIT_CASE(noncoherent_bypassed_is_eopnotsupp),
	KUNIT_CASE(phys_ranges_never_merge_across_the_wrap),
	KUNIT_CASE_PARAM(extreme_arguments_get_documented_errnos, extreme_gen_params),
	KUNIT_CASE_PARAM(extreme_spec_fields_valid_or_einval, extreme_gen_params),
	{}
};

static struct kunit_suite integrity_test_suite = {
	.name = "iodma_integrity",
	.test_cases = integrity_cases,
};

kunit_test_suite(integrity_test_suite);
