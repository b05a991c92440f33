// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copy buffers: memory the device reaches, and double buffering through it.
 *
 * A copy buffer is a list of naturally aligned, physically contiguous chunks
 * that satisfy a command's specification by construction: for MAPPED
 * commands they come from dma_alloc_pages() on the command's device, so
 * their bus addresses stay valid for the life of the buffer and no streaming
 * mapping (and no swiotlb copy) is ever made of them; for BYPASSED and
 * iterate-only commands they come from the zone below the address limit.
 *
 * cmd.c decides at prepare whether the range can go to the device directly
 * (iodma_bounce_preflight(): one dry run of the segment rules over the
 * addresses the device would see).  When it cannot, the command's own copy
 * buffer (kept between I/Os, grown when needed) stands in for the memory:
 * the data is copied in for the device and out for the CPU around the I/O,
 * and the segments are the copy buffer's.  A copy buffer is also a memory
 * descriptor (IODMA_MD_COPYBUF): iodma_cmd_create_copy_buffer() hands one to
 * the driver, and a command of the same device uses its bus addresses as
 * they are.
 */
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/slab.h>
#include "iodma_internal.h"
#include "trace.h"

/* The largest chunk tried first: large enough for few segments, small enough to find. */
#define IODMA_CBUF_MAX_ORDER	8

static const char * const reason_names[] = {
	[IODMA_BOUNCE_NONE] = "none",
	[IODMA_BOUNCE_ADDRESS] = "address",
	[IODMA_BOUNCE_ALIGNMENT] = "alignment",
	[IODMA_BOUNCE_LENGTH] = "length",
	[IODMA_BOUNCE_INTERNAL] = "internal-alignment",
	[IODMA_BOUNCE_FORCED] = "forced",
};

/**
 * iodma_bounce_reason_name() - a bounce reason as a word
 * @reason: the reason
 *
 * Context: Any context.
 * Return: "none", "address", "alignment", "length", "internal-alignment",
 * "forced", or "unknown".
 */
const char *iodma_bounce_reason_name(enum iodma_bounce_reason reason)
{
	if ((unsigned int)reason >= ARRAY_SIZE(reason_names))
		return "unknown";
	return reason_names[reason];
}
EXPORT_SYMBOL_GPL(iodma_bounce_reason_name);

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
 * The zones to try for pages below @limit, widest first; chunk_fits()
 * checks each page, since a zone's top need not be a power of two.
 */
static const gfp_t zone_passes[] = { 0, GFP_DMA32, GFP_DMA };

static bool zone_worth_trying(u64 limit, unsigned int pass)
{
	/* ZONE_DMA32 ends at 4 GiB: a 32-bit reach takes all of it */
	return pass || limit > DMA_BIT_MASK(32);
}

/*
 * Is [addr, addr + size) inside the command's reach (addr_bits, DMA mask,
 * bus limit: cmd->lim.addr_limit) and aligned for it?  In an owned domain
 * the IOVA gives the reach: any page will do.
 */
static bool chunk_fits(const struct iodma_cmd *cmd, u64 addr, u64 size)
{
	u64 limit = cmd->lim.addr_limit;

	if (!cmd->domain && (addr > limit || size - 1 > limit - addr))
		return false;
	return !(addr & (max(cmd->lim.align, cmd->lim.int_align) - 1));
}

static int chunk_alloc(const struct iodma_cmd *cmd, struct iodma_cbuf *cb,
		       struct iodma_cbuf_chunk *c, unsigned int order, gfp_t gfp)
{
	u64 size = PAGE_SIZE << order;
	int pass;

	gfp |= __GFP_NOWARN | (order ? __GFP_NORETRY : 0);
	c->order = order;
	c->dma_alloc = false;
	if (iodma_should_fail(size))
		return -ENOMEM;
	if (cb->dev) {
		c->page = dma_alloc_pages(cb->dev, size, &c->dma, DMA_BIDIRECTIONAL, gfp);
		if (!c->page)
			return -ENOMEM;
		if (chunk_fits(cmd, c->dma, size)) {
			c->dma_alloc = true;
			return 0;
		}
		dma_free_pages(cb->dev, size, c->page, c->dma, DMA_BIDIRECTIONAL);
		/*
		 * A DMA mask wider than addr_bits: the DMA API allocates for the
		 * mask.  A coherent dma-direct device reaches zone pages below
		 * addr_bits by their physical address, as the DMA API would map
		 * them; anything else cannot be helped.
		 */
		if (cmd->translated || !iodma_cmd_coherent(cmd))
			return -ENOMEM;
	}
	/*
	 * Physical addresses: the zones wide enough, widest first.  Zeroed, so
	 * that no earlier owner's bytes can reach the device or the CPU.  In an
	 * owned domain the chunk is a physical address for iommu_map(), and any
	 * zone will do.
	 */
	for (pass = 0; pass < ARRAY_SIZE(zone_passes); pass++) {
		if (!cmd->domain && !zone_worth_trying(cmd->lim.addr_limit, pass))
			continue;
		c->page = alloc_pages(gfp | __GFP_ZERO | zone_passes[pass], order);
		if (!c->page)
			continue;
		c->dma = cmd->domain ? page_to_phys(c->page) :
			 phys_to_dma(cmd->dev, page_to_phys(c->page));
		if (chunk_fits(cmd, c->dma, size))
			return 0;
		__free_pages(c->page, order);
		if (cmd->domain)
			break;
	}
	return -ENOMEM;
}

/*
 * iodma_cbuf_alloc() - allocate at least @size bytes of copy buffer for @cmd.
 * Chunks are at least as large as the alignment rules need, so that every
 * chunk boundary is a legal segment boundary.
 */
int iodma_cbuf_alloc(struct iodma_cmd *cmd, struct iodma_cbuf *cb, u64 size, gfp_t gfp)
{
	u64 unit = max3(cmd->lim.align, cmd->lim.int_align, cmd->lim.len_align);
	unsigned int min_order = get_order(unit), max_order, cap, i;
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
	cap = chunks;
	if (!iodma_should_fail(cap * sizeof(*cb->chunks)))
		cb->chunks = kvcalloc(cap, sizeof(*cb->chunks), gfp | __GFP_NOWARN);
	if (!cb->chunks)
		return -ENOMEM;
	/* the DMA API's memory for the device; in a domain, pages it maps itself */
	if (cmd->spec.map == IODMA_MAPPED && !cmd->domain)
		cb->dev = get_device(cmd->dev);

	while (done < size) {
		unsigned int order = min_t(unsigned int, max_order,
					   max_t(unsigned int, min_order, get_order(size - done)));

		if (WARN_ON_ONCE(cb->n >= cap)) {
			ret = -ENOMEM;
			goto err_free;
		}
		for (;;) {
			ret = chunk_alloc(cmd, cb, &cb->chunks[cb->n], order, gfp);
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
	return 0;

err_free:
	for (i = 0; i < cb->n; i++)
		chunk_free(cb, &cb->chunks[i]);
	kvfree(cb->chunks);
	put_device(cb->dev);
	memset(cb, 0, sizeof(*cb));
	return ret;
}

/* Call @fn for the chunks of [off, off + len) of a copy buffer, as pages or as bus ranges. */
int iodma_cbuf_walk(const struct iodma_cbuf *cb, u64 off, u64 len, bool bus, iodma_chunk_fn fn,
		    void *ctx)
{
	unsigned int i;
	int ret;

	for (i = 0; i < cb->n && len; i++) {
		const struct iodma_cbuf_chunk *c = &cb->chunks[i];
		u64 csize = PAGE_SIZE << c->order, take;
		struct iodma_chunk piece = {};

		if (off >= csize) {
			off -= csize;
			continue;
		}
		take = min(csize - off, len);
		if (bus) {
			piece.addr = c->dma + off;
			piece.mapped = true;
		} else {
			piece.page = nth_page(c->page, off >> PAGE_SHIFT);
			piece.pgoff = offset_in_page(off);
		}
		piece.len = take;
		ret = fn(ctx, &piece);
		if (ret)
			return ret;
		len -= take;
		off = 0;
	}
	return 0;
}

/* Sync [0, len) of the command's copy buffer for the device or the CPU. */
static void cbuf_sync(const struct iodma_cbuf *cb, u64 off, u64 len, enum dma_data_direction dir,
		      bool for_device)
{
	unsigned int i;
	dma_addr_t dma;

	for (i = 0; i < cb->n && len; i++) {
		u64 csize = PAGE_SIZE << cb->chunks[i].order, take;

		if (off >= csize) {
			off -= csize;
			continue;
		}
		take = min(csize - off, len);
		dma = cb->chunks[i].dma;
		/* zone pages of a coherent device have nothing to sync */
		if (cb->chunks[i].dma_alloc && for_device)
			dma_sync_single_range_for_device(cb->dev, dma, off, take, dir);
		else if (cb->chunks[i].dma_alloc)
			dma_sync_single_range_for_cpu(cb->dev, dma, off, take, dir);
		len -= take;
		off = 0;
	}
}

struct xfer_ctx {
	const struct iodma_cbuf *cb;
	unsigned int ci;	/* chunk of the copy buffer */
	u64 coff;		/* offset in that chunk */
	bool to_cbuf;
	u64 done;
};

/* Copy @n bytes between @va and the copy buffer at the context's position. */
static void xfer_linear(struct xfer_ctx *x, u8 *va, u64 n)
{
	while (n) {
		const struct iodma_cbuf_chunk *c = &x->cb->chunks[x->ci];
		u64 take = min((PAGE_SIZE << c->order) - x->coff, n);
		u8 *cva = page_address(c->page) + x->coff;

		if (x->to_cbuf)
			memcpy(cva, va, take);
		else
			memcpy(va, cva, take);
		va += take;
		n -= take;
		x->done += take;
		x->coff += take;
		if (x->coff == PAGE_SIZE << c->order) {
			x->ci++;
			x->coff = 0;
		}
	}
}

/*
 * One chunk of the descriptor (physically contiguous): without highmem it is
 * in the linear map and is copied in one go; else page by page through
 * kmap_local_page().
 */
static int xfer_chunk(void *arg, const struct iodma_chunk *c)
{
	struct xfer_ctx *x = arg;
	struct page *page = c->page;
	size_t pgoff = c->pgoff;
	u64 left = c->len;

	if (!IS_ENABLED(CONFIG_HIGHMEM)) {
		xfer_linear(x, page_address(page) + pgoff, left);
		return 0;
	}
	while (left) {
		size_t n = min_t(u64, PAGE_SIZE - pgoff, left);
		u8 *va = kmap_local_page(page);

		xfer_linear(x, va + pgoff, n);
		kunmap_local(va);
		left -= n;
		page = nth_page(page, 1);
		pgoff = 0;
	}
	return 0;
}

/*
 * Copy [md_off, md_off + len) of @md into (@to_cbuf) or out of the copy
 * buffer, starting at its first byte.  Returns the bytes copied.
 */
static u64 cbuf_copy(const struct iodma_cbuf *cb, struct iodma_md *md, u64 md_off, u64 len,
		     bool to_cbuf)
{
	struct xfer_ctx x = { .cb = cb, .to_cbuf = to_cbuf };

	iodma_md_walk(md, md_off, len, xfer_chunk, &x);
	return x.done;
}

/*
 * iodma_bounce_in() - make the copy buffer hold what the memory holds.
 * Also for DMA_FROM_DEVICE, as swiotlb does since 6.0: the bytes a device
 * does not write (a partial transfer, an interrupted I/O) then come back
 * unchanged at the copy-out, and never carry an earlier I/O's data.
 */
void iodma_bounce_in(struct iodma_cmd *cmd)
{
	struct iodma_cbuf *cb = &cmd->cbuf_md->cbuf;

	u64 bytes = cbuf_copy(cb, cmd->md, cmd->prep_off, cmd->prep_len, true);

	cmd->stats.bytes_bounced += bytes;
	trace_iodma_bounce(cmd, cmd->bounce, bytes, true);
	cbuf_sync(cb, 0, cmd->prep_len, cmd->md->dir, true);
}

/* iodma_bounce_out() - give the CPU what the device wrote into the copy buffer. */
void iodma_bounce_out(struct iodma_cmd *cmd)
{
	struct iodma_cbuf *cb = &cmd->cbuf_md->cbuf;
	enum dma_data_direction dir = cmd->md->dir;

	u64 bytes = 0;

	cbuf_sync(cb, 0, cmd->prep_len, dir, false);
	if (dir != DMA_TO_DEVICE)
		bytes = cbuf_copy(cb, cmd->md, cmd->prep_off, cmd->prep_len, false);
	cmd->stats.bytes_bounced += bytes;
	trace_iodma_bounce(cmd, cmd->bounce, bytes, false);
}

/* Sync the command's copy buffer while it stands in for the prepared range. */
void iodma_bounce_sync(struct iodma_cmd *cmd, bool for_device)
{
	cbuf_sync(&cmd->cbuf_md->cbuf, 0, cmd->prep_len, cmd->md->dir, for_device);
}

/* Sync a copy-buffer descriptor used in place (no bounce). */
void iodma_cbuf_sync_range(struct iodma_cmd *cmd, bool for_device)
{
	cbuf_sync(&cmd->md->cbuf, cmd->prep_off, cmd->prep_len, cmd->md->dir, for_device);
}

/* A copy-buffer descriptor owning @cb's chunks. */
static struct iodma_md *cbuf_md(struct iodma_cbuf *cb, enum dma_data_direction dir)
{
	struct iodma_md *md = iodma_md_alloc(IODMA_MD_COPYBUF, dir, cb->size);

	if (!md)
		return NULL;
	md->cbuf = *cb;
	return md;
}

/*
 * iodma_bounce_reserve() - make the command's own copy buffer hold @len bytes.
 * It only grows, so a command reused for I/Os of similar sizes allocates once.
 */
int iodma_bounce_reserve(struct iodma_cmd *cmd, u64 len, gfp_t gfp)
{
	struct iodma_cbuf cb;
	struct iodma_md *md;
	int ret;

	if (cmd->cbuf_md && cmd->cbuf_md->length >= len)
		return 0;
	ret = iodma_cbuf_alloc(cmd, &cb, len, gfp);
	if (ret)
		return ret;
	md = cbuf_md(&cb, DMA_BIDIRECTIONAL);
	if (!md) {
		iodma_cbuf_free(&cb);
		return -ENOMEM;
	}
	iodma_md_put(cmd->cbuf_md);
	cmd->cbuf_md = md;
	return 0;
}

/**
 * iodma_cmd_create_copy_buffer() - memory the command never needs to bounce
 * @cmd: the command whose specification the memory must satisfy
 * @dir: DMA direction of the descriptor
 * @length: bytes
 *
 * The memory is reachable by the command's device within addr_bits and laid
 * out in chunks aligned for the specification.  Set on @cmd (or a command of
 * the same device and specification), it is used in place: no mapping, no
 * copy.  IOKit's createCopyBuffer ignores the specification; this does not.
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for a NULL @cmd, @length 0 or a
 * bad @dir, ERR_PTR(-ENOMEM) when no memory within reach is free (always
 * for a @length above the machine's RAM).
 */
struct iodma_md *iodma_cmd_create_copy_buffer(struct iodma_cmd *cmd,
					      enum dma_data_direction dir, u64 length)
{
	struct iodma_cbuf cb;
	struct iodma_md *md;
	int ret;

	might_sleep();
	if (!cmd || !length || !iodma_dir_valid(dir))
		return ERR_PTR(-EINVAL);
	ret = iodma_cbuf_alloc(cmd, &cb, length, GFP_KERNEL);
	if (ret)
		return ERR_PTR(ret);
	md = cbuf_md(&cb, dir);
	if (!md) {
		iodma_cbuf_free(&cb);
		return ERR_PTR(-ENOMEM);
	}
	md->length = length;
	return md;
}
EXPORT_SYMBOL_GPL(iodma_cmd_create_copy_buffer);
