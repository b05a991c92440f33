// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copy-buffer memory: pages a device reaches, in chunks that meet a
 * specification by construction.
 *
 * A copy buffer is a list of naturally aligned, physically contiguous
 * chunks.  Where the rules name a device (MAPPED commands of the DMA API)
 * they come from dma_alloc_pages() on it, so their bus addresses stay valid
 * for the life of the buffer and no streaming mapping (and no swiotlb copy)
 * is ever made of them; otherwise from the zones below the device's reach,
 * or, for a backend that maps them itself (an owned IOMMU domain), from any
 * zone.  Every chunk is at least as large as the alignment rules need, so
 * that every chunk boundary is a legal segment boundary.
 *
 * This file knows memory only: bounce.c says what the rules are for a
 * command and copies data through the buffer; md.c makes a buffer a
 * descriptor (IODMA_MD_COPYBUF).
 */
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include "iodma_internal.h"

static void chunk_free(struct iodma_cbuf *cb, struct iodma_cbuf_chunk *c)
{
	if (c->dma_alloc)
		dma_free_pages(cb->dev, PAGE_SIZE << c->order, c->page, c->dma,
			       DMA_BIDIRECTIONAL);
	else
		__free_pages(c->page, c->order);
}

void iodma_cbuf_free(struct iodma_cbuf *cb)
{
	unsigned int i;

	for (i = 0; i < cb->n; i++)
		chunk_free(cb, &cb->chunks[i]);
	kvfree(cb->chunks);
	put_device(cb->dev);
	memset(cb, 0, sizeof(*cb));
}

/*
 * The zones to try for pages below the limit, widest first; chunk_fits()
 * checks each page, since a zone's top need not be a power of two.
 */
static const gfp_t zone_passes[] = { 0, GFP_DMA32, GFP_DMA };

static bool zone_worth_trying(u64 limit, unsigned int pass)
{
	/* ZONE_DMA32 ends at 4 GiB: a 32-bit reach takes all of it */
	return pass || limit > DMA_BIT_MASK(32);
}

/* Is [addr, addr + size) below the limit and aligned as the rules say? */
static bool chunk_fits(const struct iodma_cbuf_rules *r, u64 addr, u64 size)
{
	if (addr > r->limit || size - 1 > r->limit - addr)
		return false;
	return !(addr & (r->align - 1));
}

/* The DMA API's memory for the device; -EAGAIN: try the zones instead. */
static int chunk_alloc_dma(struct iodma_cbuf *cb, const struct iodma_cbuf_rules *r,
			   struct iodma_cbuf_chunk *c, u64 size, gfp_t gfp)
{
	c->page = dma_alloc_pages(cb->dev, size, &c->dma, DMA_BIDIRECTIONAL, gfp);
	if (!c->page)
		return -ENOMEM;
	if (chunk_fits(r, c->dma, size)) {
		c->dma_alloc = true;
		return 0;
	}
	dma_free_pages(cb->dev, size, c->page, c->dma, DMA_BIDIRECTIONAL);
	/*
	 * A DMA mask wider than addr_bits: the DMA API allocates for the mask.
	 * A coherent dma-direct device reaches zone pages below addr_bits by
	 * their physical address, as the DMA API would map them; anything else
	 * cannot be helped.
	 */
	return r->zone_fallback ? -EAGAIN : -ENOMEM;
}

/*
 * Zone pages, zeroed so that no earlier owner's bytes can reach the device
 * or the CPU: the zones wide enough for the limit, widest first.  For
 * physical chunks (no @bus_dev: a backend maps them) the first page found
 * decides: if it is misaligned, so would the next zone's be.
 */
static int chunk_alloc_zone(const struct iodma_cbuf_rules *r, struct iodma_cbuf_chunk *c,
			    u64 size, gfp_t gfp)
{
	unsigned int pass;

	for (pass = 0; pass < ARRAY_SIZE(zone_passes); pass++) {
		if (!zone_worth_trying(r->limit, pass))
			continue;
		c->page = alloc_pages(gfp | __GFP_ZERO | zone_passes[pass], c->order);
		if (!c->page)
			continue;
		c->dma = page_to_phys(c->page);
		if (r->bus_dev)
			c->dma = phys_to_dma(r->bus_dev, c->dma);
		if (chunk_fits(r, c->dma, size))
			return 0;
		__free_pages(c->page, c->order);
		if (!r->bus_dev)
			break;
	}
	return -ENOMEM;
}

static int chunk_alloc(struct iodma_cbuf *cb, const struct iodma_cbuf_rules *r,
		       struct iodma_cbuf_chunk *c, unsigned int order, gfp_t gfp)
{
	u64 size = PAGE_SIZE << order;
	int ret;

	gfp |= __GFP_NOWARN | (order ? __GFP_NORETRY : 0);
	c->order = order;
	c->dma_alloc = false;
	if (iodma_should_fail(size))
		return -ENOMEM;
	if (cb->dev) {
		ret = chunk_alloc_dma(cb, r, c, size, gfp);
		if (ret != -EAGAIN)
			return ret;
	}
	return chunk_alloc_zone(r, c, size, gfp);
}

/*
 * iodma_cbuf_alloc() - allocate at least @size bytes of copy buffer that
 * meets @r.  Returns 0, -EINVAL for a @size of 0, or -ENOMEM (also for more
 * than the machine's RAM, and for a unit the page allocator cannot align).
 */
int iodma_cbuf_alloc(struct iodma_cbuf *cb, const struct iodma_cbuf_rules *r, u64 size,
		     gfp_t gfp)
{
	unsigned int min_order = get_order(r->unit), max_order, order;
	u64 done = 0, chunks;
	int ret;

	memset(cb, 0, sizeof(*cb));
	if (!size)
		return -EINVAL;
	/* the page allocator has no block that large to align a chunk on */
	if (min_order > MAX_PAGE_ORDER)
		return -ENOMEM;
	/* more than the machine has can never be allocated: never wrap sizes */
	if (size > (u64)totalram_pages() << PAGE_SHIFT)
		return -ENOMEM;
	max_order = clamp_t(unsigned int, get_order(size), min_order,
			    max_t(unsigned int, IODMA_CBUF_MAX_ORDER, min_order));
	chunks = div64_u64(size - 1, PAGE_SIZE << min_order) + 1;
	if (chunks > UINT_MAX)
		return -ENOMEM;
	if (!iodma_should_fail(chunks * sizeof(*cb->chunks)))
		cb->chunks = kvcalloc(chunks, sizeof(*cb->chunks), gfp | __GFP_NOWARN);
	if (!cb->chunks)
		return -ENOMEM;
	cb->dev = get_device(r->dev);

	while (done < size) {
		order = min_t(unsigned int, max_order,
			      max_t(unsigned int, min_order, get_order(size - done)));
		if (WARN_ON_ONCE(cb->n >= chunks)) {
			ret = -ENOMEM;
			goto err_free;
		}
		for (;;) {
			ret = chunk_alloc(cb, r, &cb->chunks[cb->n], order, gfp);
			if (!ret || order == min_order)
				break;
			order--;
		}
		if (ret)
			goto err_free;
		done += PAGE_SIZE << order;
		cb->n++;
	}
	cb->size = done;
	cb->unit = PAGE_SIZE << min_order;
	cb->limit = r->limit;
	cb->align = r->align;
	return 0;

err_free:
	iodma_cbuf_free(cb);
	return ret;
}

/*
 * iodma_cbuf_alloc_size() - the bytes iodma_cbuf_alloc() takes for @size
 * bytes when every chunk comes at the first order it tries (a fallback to
 * smaller chunks takes fewer): chunks of the largest order while more than
 * one is left, then one chunk of the order the rest needs.
 */
u64 iodma_cbuf_alloc_size(const struct iodma_cbuf_rules *r, u64 size)
{
	unsigned int min_order = get_order(r->unit), max_order;
	u64 big, full;

	if (!size || min_order > MAX_PAGE_ORDER)
		return size;
	max_order = clamp_t(unsigned int, get_order(size), min_order,
			    max_t(unsigned int, IODMA_CBUF_MAX_ORDER, min_order));
	big = PAGE_SIZE << max_order;
	full = div64_u64(size - 1, big) * big;
	return full + (PAGE_SIZE << max_t(unsigned int, min_order, get_order(size - full)));
}

/* Can @cb stand in for a buffer of @size bytes allocated for @r? */
bool iodma_cbuf_meets(const struct iodma_cbuf *cb, const struct iodma_cbuf_rules *r, u64 size)
{
	return cb->size >= size && cb->unit >= r->unit && cb->align >= r->align &&
	       cb->limit <= r->limit && cb->dev == r->dev;
}

/* Call @fn for the chunks of [off, off + len) of a copy buffer, as pages or as bus ranges. */
int iodma_cbuf_walk(const struct iodma_cbuf *cb, u64 off, u64 len, bool bus, iodma_chunk_fn fn,
		    void *ctx)
{
	unsigned int i;
	u64 take, in;
	int ret;

	for (i = 0; i < cb->n && len; i++) {
		const struct iodma_cbuf_chunk *c = &cb->chunks[i];
		struct iodma_chunk piece = {};

		take = iodma_clip(&off, &len, PAGE_SIZE << c->order, &in);
		if (!take)
			continue;
		if (bus) {
			piece.addr = c->dma + in;
			piece.mapped = true;
		} else {
			piece.page = nth_page(c->page, in >> PAGE_SHIFT);
			piece.pgoff = offset_in_page(in);
		}
		piece.len = take;
		ret = fn(ctx, &piece);
		if (ret)
			return ret;
	}
	return 0;
}

/* Sync [off, off + len) of a copy buffer for the device or the CPU. */
void iodma_cbuf_sync(const struct iodma_cbuf *cb, u64 off, u64 len, enum dma_data_direction dir,
		     bool for_device)
{
	const struct iodma_cbuf_chunk *c;
	u64 take, in;
	unsigned int i;

	for (i = 0; i < cb->n && len; i++) {
		c = &cb->chunks[i];
		take = iodma_clip(&off, &len, PAGE_SIZE << c->order, &in);
		/* zone pages of a coherent device have nothing to sync */
		if (!take || !c->dma_alloc)
			continue;
		if (for_device)
			dma_sync_single_range_for_device(cb->dev, c->dma, in, take, dir);
		else
			dma_sync_single_range_for_cpu(cb->dev, c->dma, in, take, dir);
	}
}
