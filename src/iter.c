// SPDX-License-Identifier: GPL-2.0-only
/*
 * Descriptors over the kernel's own I/O descriptors: bio_vec arrays (the
 * block layer's) and iov_iters (the read/write paths').
 *
 * A bio_vec array becomes an IODMA_MD_BVEC descriptor, walked entry by
 * entry (md.c): an entry is one physically contiguous run, whose offset may
 * pass the end of its first page and whose length may span pages, as in
 * the block layer's multi-page bvecs.  iodma_md_from_bvecs() and the
 * ITER_BVEC and ITER_FOLIOQ iterators copy the entries they cover, so the
 * descriptor owes nothing to the caller's array; iodma_cmd_set_bvecs()
 * (cmd.c) sets one up inside the command over the caller's array instead,
 * for an I/O path that allocates nothing.
 *
 * Iterators over user memory (ITER_UBUF, ITER_IOVEC) become user
 * descriptors (md.c), pinned with FOLL_PIN while prepared, as
 * iov_iter_extract_pages() pins them; kernel-virtual ones (ITER_KVEC) become
 * kva descriptors.  Several segments are joined with iodma_md_multi().
 */
#include <linux/bvec.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include "iodma_internal.h"
#if IODMA_HAVE_ITER_FOLIOQ
#include <linux/folio_queue.h>
#endif

/*
 * iodma_bvecs_length() - the total length of @n entries at @bv; -EINVAL for
 * no array, no entry, a bad @dir, an entry with bytes but no page, or no
 * byte at all.
 */
int iodma_bvecs_length(const struct bio_vec *bv, unsigned int n, enum dma_data_direction dir,
		       u64 *total)
{
	unsigned int i;

	if (!bv || !n || !iodma_dir_valid(dir))
		return -EINVAL;
	*total = 0;
	for (i = 0; i < n; i++) {
		if (!bv[i].bv_len)
			continue;
		/* n entries of at most 4 GiB: the sum cannot wrap a u64 */
		if (!bv[i].bv_page || check_add_overflow(*total, (u64)bv[i].bv_len, total))
			return -EINVAL;
	}
	return *total ? 0 : -EINVAL;
}

/*
 * iodma_md_setup_bvecs() - make @md, a command's own descriptor, describe
 * the caller's @n entries at @bv (of @len bytes, checked by
 * iodma_bvecs_length()) in place, with one reference.  Neither sleeps nor
 * allocates.
 */
void iodma_md_setup_bvecs(struct iodma_md *md, const struct bio_vec *bv, unsigned int n,
			  enum dma_data_direction dir, u64 len)
{
	iodma_md_setup(md, IODMA_MD_BVEC, dir, len);
	md->embedded = true;
	md->bus = false;
	md->mapped_dev = NULL;
	md->bvec.bv = bv;
	md->bvec.n = n;
}

/*
 * Where the entries of a copied descriptor come from: a bio_vec array, or
 * the slots of a folio_queue (each folio one entry).
 */
struct bvec_src {
	const struct bio_vec *bv;
	unsigned int n;
#if IODMA_HAVE_ITER_FOLIOQ
	const struct folio_queue *fq;
	unsigned int slot;
#endif
};

/* The next entry of @s in *@out; false at the end. */
static bool src_next(struct bvec_src *s, struct bio_vec *out)
{
#if IODMA_HAVE_ITER_FOLIOQ
	if (s->fq) {
		struct folio *folio;

		if (s->slot == folioq_nr_slots(s->fq)) {
			s->fq = s->fq->next;
			s->slot = 0;
			if (!s->fq)
				return false;
		}
		folio = folioq_folio(s->fq, s->slot);
		if (!folio)
			return false;
		out->bv_page = folio_page(folio, 0);
		out->bv_offset = 0;
		out->bv_len = folioq_folio_size(s->fq, s->slot);
		s->slot++;
		return true;
	}
#endif
	if (!s->n)
		return false;
	*out = *s->bv++;
	s->n--;
	return true;
}

/*
 * Count (@out NULL) or copy the non-empty entries that cover the @len bytes
 * of @s from @skip on, each normalised to an offset within its first page.
 * Returns the entries, or 0 if @s ends first.
 */
static unsigned int src_slice(struct bvec_src s, u64 skip, u64 len, struct bio_vec *out)
{
	unsigned int n = 0;
	struct bio_vec b;
	u64 take, off;

	while (len) {
		if (!src_next(&s, &b))
			return 0;
		if (skip >= b.bv_len) {
			skip -= b.bv_len;
			continue;
		}
		if (!b.bv_page)
			return 0;
		take = min(b.bv_len - skip, len);
		if (out) {
			off = b.bv_offset + skip;
			out[n].bv_page = nth_page(b.bv_page, off >> PAGE_SHIFT);
			out[n].bv_offset = offset_in_page(off);
			out[n].bv_len = take;
		}
		n++;
		skip = 0;
		len -= take;
	}
	return n;
}

/* A BVEC descriptor owning a copy of the @len bytes of @s from @skip on. */
static struct iodma_md *bvec_md(struct bvec_src s, u64 skip, u64 len,
				enum dma_data_direction dir)
{
	unsigned int n = src_slice(s, skip, len, NULL);
	struct bio_vec *bv = NULL;
	struct iodma_md *md;

	if (!n)
		return ERR_PTR(-EINVAL);
	md = iodma_md_alloc(IODMA_MD_BVEC, dir, len);
	if (!md)
		return ERR_PTR(-ENOMEM);
	if (!iodma_should_fail(n * sizeof(*bv)))
		bv = kmalloc_array(n, sizeof(*bv), GFP_KERNEL);
	if (!bv) {
		iodma_md_put(md);
		return ERR_PTR(-ENOMEM);
	}
	src_slice(s, skip, len, bv);
	md->bvec.bv = bv;
	md->bvec.n = n;
	return md;
}

/**
 * iodma_md_from_bvecs() - describe an array of bio_vecs
 * @bv: the entries, copied: the array may go when this returns, the pages
 *	must outlive the descriptor
 * @n: entries in @bv
 * @dir: DMA direction of the I/O
 *
 * Each entry is a physically contiguous run of @bv_len bytes that starts
 * @bv_offset bytes into @bv_page; as in the block layer's multi-page bvecs,
 * @bv_offset may exceed PAGE_SIZE and the run may span pages.  Entries of
 * length 0 are ignored (their page may be NULL), as the kernel's bvec
 * iterators skip them.  The descriptor is refcounted and may outlive the
 * caller's array, so the entries are copied; iodma_cmd_set_bvecs() uses
 * the caller's array in place, without allocating.
 *
 * Context: Process context; may sleep.
 * Return: the descriptor, ERR_PTR(-EINVAL) for a NULL @bv, @n 0, a bad @dir,
 * an entry with bytes but a NULL page, or no byte at all (the sum of @n
 * lengths below 4 GiB cannot overflow), ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_from_bvecs(const struct bio_vec *bv, unsigned int n,
				     enum dma_data_direction dir)
{
	struct bvec_src s = { .bv = bv, .n = n };
	u64 total;
	int ret;

	might_sleep();
	ret = iodma_bvecs_length(bv, n, dir, &total);
	if (ret)
		return ERR_PTR(ret);
	return bvec_md(s, 0, total, dir);
}
EXPORT_SYMBOL_GPL(iodma_md_from_bvecs);

/* One segment of user or kernel virtual memory. */
static struct iodma_md *segment_md(unsigned long base, size_t len, bool user,
				   enum dma_data_direction dir)
{
	if (user)
		return iodma_md_from_user(base, len, dir);
	return iodma_md_from_kva((void *)base, len, dir);
}

/* Bytes of segment @i in [@skip, @skip + *@left), taken off *@left. */
static size_t segment_take(const struct iovec *iov, unsigned long i, size_t skip, size_t *left)
{
	size_t take = min(iov[i].iov_len - (i ? 0 : skip), *left);

	*left -= take;
	return take;
}

/*
 * ITER_UBUF, ITER_IOVEC and ITER_KVEC: one user (@user) or kva descriptor
 * for each segment with bytes in [@skip, @skip + @len) of @iov (@nr
 * entries; a kvec array has the layout of an iovec array, which lib/iov_iter.c
 * relies on too), joined by a multi when there are several.
 */
static struct iodma_md *segments_md(const struct iovec *iov, unsigned long nr, size_t skip,
				    size_t len, bool user, enum dma_data_direction dir)
{
	struct iodma_md *one, **parts = &one, *md;
	unsigned long i, n = 0, made = 0;
	size_t left = len, take;

	/* the iterator keeps its offset inside its first segment */
	skip = min(skip, iov[0].iov_len);
	for (i = 0; left && i < nr; i++)
		n += !!segment_take(iov, i, skip, &left);
	if (left || !n || n > UINT_MAX)
		return ERR_PTR(-EINVAL);
	if (n > 1) {
		if (iodma_should_fail(n * sizeof(*parts)))
			return ERR_PTR(-ENOMEM);
		parts = kmalloc_array(n, sizeof(*parts), GFP_KERNEL);
		if (!parts)
			return ERR_PTR(-ENOMEM);
	}
	for (i = 0, left = len; left; i++) {
		take = segment_take(iov, i, skip, &left);
		if (!take)
			continue;
		md = segment_md((unsigned long)iov[i].iov_base + (i ? 0 : skip), take, user, dir);
		if (IS_ERR(md))
			goto err_put;
		parts[made++] = md;
	}
	if (n == 1)
		return one;
	md = iodma_md_multi(parts, n, dir);
err_put:
	/* the multi holds its own references */
	while (made--)
		iodma_md_put(parts[made]);
	if (n > 1)
		kfree(parts);
	return md;
}

/* The direction of the DMA an iterator is for: the device reads an ITER_SOURCE. */
static enum dma_data_direction iter_dma_dir(const struct iov_iter *iter)
{
	return iov_iter_rw(iter) == WRITE ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
}

/**
 * iodma_md_from_iter() - describe the next bytes of an iov_iter
 * @iter: the iterator; advanced by @len on success, untouched on failure
 * @len: bytes to describe, from the iterator's position
 * @dir: DMA direction of the I/O: DMA_TO_DEVICE for an ITER_SOURCE iterator
 *	(a write(): the device reads the memory), DMA_FROM_DEVICE for an
 *	ITER_DEST one (a read(): the device writes it)
 *
 * The iterator's memory is described as it is, without copying a byte:
 *
 * - ITER_UBUF and ITER_IOVEC: user memory of the calling process, one user
 *   descriptor (iodma_md_from_user()) per segment, joined by
 *   iodma_md_multi() when there are several.  It is pinned with FOLL_PIN
 *   (and FOLL_WRITE for ITER_DEST), as iov_iter_extract_pages() pins it,
 *   while the descriptor is prepared.
 * - ITER_KVEC: kernel virtual memory, linear map or vmalloc, one
 *   iodma_md_from_kva() descriptor per segment, joined likewise.
 * - ITER_BVEC and ITER_FOLIOQ (a folio per entry): as iodma_md_from_bvecs(),
 *   the entries covered are copied.  The pages must outlive the descriptor.
 *
 * Segments of length 0 are skipped.  The descriptor does not refer to the
 * iterator, which may be reused or freed at once; the memory behind it must
 * stay as it is until the descriptor is released.  Another direction is
 * refused: an iterator has one, and DMA_BIDIRECTIONAL would pin an
 * ITER_SOURCE's memory (which may be read-only: a file's page cache, the
 * zero page) for writing.
 *
 * Context: Process context; may sleep.  For ITER_UBUF and ITER_IOVEC, the
 * context of the process that owns the memory.
 * Return: the descriptor; ERR_PTR(-EINVAL) for a NULL @iter, @len 0 or
 * beyond iov_iter_count(), a @dir other than the iterator's, a user segment
 * beyond %IODMA_USER_MAX_PAGES pages or without an mm, a kernel segment
 * outside the linear map and vmalloc memory (or on the stack), or a bvec
 * with bytes but no page; ERR_PTR(-EFAULT) for a user segment outside the
 * user address space; ERR_PTR(-EOPNOTSUPP) for ITER_XARRAY (pages the
 * xarray holds without references a descriptor could rely on: use
 * ITER_FOLIOQ or ITER_BVEC), ITER_DISCARD (no memory) and any other type;
 * ERR_PTR(-ENOMEM).
 */
struct iodma_md *iodma_md_from_iter(struct iov_iter *iter, size_t len,
				    enum dma_data_direction dir)
{
	struct bvec_src s = {};
	struct iodma_md *md;

	might_sleep();
	if (!iter || !len || len > iov_iter_count(iter) || dir != iter_dma_dir(iter))
		return ERR_PTR(-EINVAL);

	switch (iov_iter_type(iter)) {
	case ITER_UBUF:
		md = iodma_md_from_user((unsigned long)iter->ubuf + iter->iov_offset, len, dir);
		break;
	case ITER_IOVEC:
		md = segments_md(iter_iov(iter), iter->nr_segs, iter->iov_offset, len, true, dir);
		break;
	case ITER_KVEC:
		md = segments_md((const struct iovec *)iter->kvec, iter->nr_segs, iter->iov_offset,
				 len, false, dir);
		break;
	case ITER_BVEC:
		s.bv = iter->bvec;
		s.n = iter->nr_segs;
		md = bvec_md(s, iter->iov_offset, len, dir);
		break;
#if IODMA_HAVE_ITER_FOLIOQ
	case ITER_FOLIOQ:
		s.fq = iter->folioq;
		s.slot = iter->folioq_slot;
		md = bvec_md(s, iter->iov_offset, len, dir);
		break;
#endif
	default:
		return ERR_PTR(-EOPNOTSUPP);
	}
	if (!IS_ERR(md))
		iov_iter_advance(iter, len);
	return md;
}
EXPORT_SYMBOL_GPL(iodma_md_from_iter);
