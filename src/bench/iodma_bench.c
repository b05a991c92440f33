// SPDX-License-Identifier: GPL-2.0-only
/*
 * iodma_bench: pooled iodma I/O against the raw DMA API, measured in the guest.
 *
 * Not a test: a module that measures when debugfs iodma_bench/run is written
 * (with the module parameters of that moment) and leaves its results in
 * iodma_bench/results, one machine-readable line per measurement, for
 * scripts/bench.sh to collect and scripts/bench-report.py to tabulate.
 *
 * Five measurements, on one device (the QEMU edu PCI device when present,
 * behind the IOMMU in the iommu configuration; otherwise a platform device
 * registered here with a 64-bit mask):
 *
 *  io      for each size and number of physically scattered chunks, one
 *          sg_table; per iteration, interleaved and alternating in order,
 *          a pooled iodma I/O (get + set + prepare, gen_segments of the whole
 *          range, complete + clear + put) and the raw DMA API I/O a driver
 *          would write (dma_map_sgtable, for_each_sgtable_dma_sg into the
 *          same segment array, dma_unmap_sgtable).
 *  walk    one iodma_md_walk() of the same descriptor: the cost of each of
 *          the two passes build_view() makes at prepare; the same I/O on
 *          BYPASSED and ITERATE_ONLY pools (iodma's work without a mapping);
 *          and the raw I/O called BENCH_DEPTH frames deeper (raw-deep), a
 *          control for what call depth alone costs on the debug kernel.
 *  domain  (the edu device behind an IOMMU only) the same I/O once the device
 *          is in an IOMMU domain iodma owns, on a pool of that domain,
 *          interleaved with the hand-written owned-domain I/O
 *          (iommu_map_sg at a fixed IOVA, iommu_unmap): the point's memory,
 *          against the DMA API numbers of its default domain above.
 *  bounce  prepare with synchronize of a DMA_TO_DEVICE range that breaks the
 *          specification's alignment (so it goes through the copy buffer),
 *          against memcpy of the same bytes and, under swiotlb=force, against
 *          dma_map_sgtable of the same bytes (swiotlb's copy).
 *  gen     gen_segments over 1 Ki and 16 Ki physical ranges (iterate-only),
 *          with no rule and with each rule alone, against the raw walk of
 *          a mapped sg_table of as many entries.
 *
 * Times are ktime_get_ns() deltas: with QEMU's -icount the guest clock counts
 * instructions, which is what makes runs repeatable; clock= says which mode
 * the script booted with.  Each point runs at least min_iters and at most
 * iters iterations, and stops early once point_ms of guest time has passed.
 * A run reads the parameters once, at its start: writing them during a run
 * changes the next one.
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/iodma.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/swiotlb.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
/* iodma_md_walk(), exported for KUnit only: the walk-cost probe */
#include "iodma_internal.h"

static unsigned int iters = 200;
module_param(iters, uint, 0644);
MODULE_PARM_DESC(iters, "most iterations per point (default 200, at most 1000000)");

static unsigned int min_iters = 20;
module_param(min_iters, uint, 0644);
MODULE_PARM_DESC(min_iters, "fewest iterations per point (default 20)");

static unsigned int point_ms = 1000;
module_param(point_ms, uint, 0644);
MODULE_PARM_DESC(point_ms, "guest-clock budget per point in ms (default 1000)");

static char *clock = "unknown";
module_param(clock, charp, 0644);
MODULE_PARM_DESC(clock, "clock mode the guest was booted with, for the output");

#define BENCH_NAME		"iodma_bench"
#define BENCH_MAX_SIZE		SZ_4M
#define BENCH_OUT_SIZE		SZ_256K
#define BENCH_GEN_MAX		(16 * 1024)
#define BENCH_BOUNCE_OFF	64	/* breaks the bounce spec's alignment */
#define BENCH_BOUNCE_CHUNK	SZ_64K
#define BENCH_DEPTH		4	/* frames iodma adds above dma_map_sgtable() */
#define BENCH_MAX_ITERS		1000000U	/* 8 MB per sample array, 64 MB in all */
#define BENCH_DOMAIN_IOVA	SZ_1G	/* raw-domain's IOVA, far below iodma's (top-down) */

static const size_t io_sizes[] = { SZ_4K, SZ_64K, SZ_256K, SZ_1M, SZ_4M };
static const unsigned int io_chunks[] = { 1, 16, 64, 256 };
static const unsigned int gen_counts[] = { 1024, BENCH_GEN_MAX };

enum { PH_PREPARE, PH_GEN, PH_COMPLETE, PH_TOTAL, NR_PH };
static const char * const ph_names[NR_PH] = { "prepare", "gen", "complete", "total" };

/*
 * The pools of the io test: MAPPED is the measurement; BYPASSED and
 * ITERATE_ONLY map nothing, so their prepare is iodma's own work alone
 * (BYPASSED: with the preflight dry run; ITERATE_ONLY: without it).
 */
enum { POOL_MAPPED, POOL_BYPASSED, POOL_ITERATE, NR_POOLS };
static const char * const pool_impl[NR_POOLS] = { "iodma", "iodma-bypassed", "iodma-iterate" };
static const enum iodma_map_type pool_map[NR_POOLS] = {
	IODMA_MAPPED, IODMA_BYPASSED, IODMA_ITERATE_ONLY,
};

struct bench {
	struct device *dev;
	struct pci_dev *pdev;
	struct platform_device *plat;
	const char *config;
	u64 old_mask;
	u64 old_coherent_mask;
	unsigned int old_max_seg;
	unsigned int seg_cap;		/* longest sg entry the DMA layer maps */
	struct iodma_seg64 *segs;	/* BENCH_GEN_MAX entries */
	u64 *t[2][NR_PH];		/* samples: [iodma, raw][phase][iteration] */
	char *outbuf;			/* the results file, BENCH_OUT_SIZE bytes */
	size_t outlen;
	bool overflow;
	struct dentry *dir;
	struct mutex lock;		/* one run at a time; results stable while read */
	unsigned int errors;
	/* the module parameters, as they were when the run began */
	unsigned int iters;		/* b->t[][] holds this many samples */
	unsigned int min_iters;
	unsigned int point_ms;
	char clock[32];
};

/* A buffer of @n physically separate chunks of 2^@order pages. */
struct bench_buf {
	unsigned int n;
	unsigned int order;
	struct page **pages;
	unsigned int adjacent;		/* neighbours the allocator made contiguous */
};

static u64 now(void)
{
	return ktime_get_ns();
}

static __printf(2, 3) void line(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (BENCH_OUT_SIZE - b->outlen < 256) {
		b->overflow = true;
		return;
	}
	b->outlen += scnprintf(b->outbuf + b->outlen, BENCH_OUT_SIZE - b->outlen,
			       "IODMA-BENCH config=%s clock=%s ", b->config, b->clock);
	va_start(ap, fmt);
	b->outlen += vscnprintf(b->outbuf + b->outlen, BENCH_OUT_SIZE - b->outlen - 1, fmt, ap);
	va_end(ap);
	b->outbuf[b->outlen++] = '\n';
}

static void fail(struct bench *b, const char *what, int err)
{
	b->errors++;
	line(b, "test=error what=%s err=%d", what, err);
	pr_err(BENCH_NAME ": %s: %d\n", what, err);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Sort @v and return its p50 and p99 (nearest rank). */
static void percentiles(u64 *v, unsigned int n, u64 *p50, u64 *p99)
{
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	*p50 = v[DIV_ROUND_UP(n * 50, 100) - 1];
	*p99 = v[DIV_ROUND_UP(n * 99, 100) - 1];
}

static void buf_free(struct bench_buf *buf)
{
	unsigned int i;

	if (!buf->pages)
		return;
	for (i = 0; i < buf->n; i++)
		if (buf->pages[i])
			__free_pages(buf->pages[i], buf->order);
	kfree(buf->pages);
	buf->pages = NULL;
}

static void spacers_free(struct page **spacers, unsigned int n, unsigned int order)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (spacers[i])
			__free_pages(spacers[i], order);
	kfree(spacers);
}

/*
 * The page allocator tends to hand out neighbours, ascending or descending;
 * a spacer chunk taken after each chunk (and given back at the end) and
 * the chunks in the reverse order keep the DMA layers (and iodma) from
 * merging them, so that the scatterlist really has @n pieces from run to
 * run.  What still touches is counted in buf->adjacent.
 */
static int buf_alloc(struct bench_buf *buf, unsigned int n, size_t chunk)
{
	struct page **spacers;
	unsigned int i;
	int ret = 0;

	buf->n = n;
	buf->order = get_order(chunk);
	buf->adjacent = 0;
	buf->pages = kcalloc(n, sizeof(*buf->pages), GFP_KERNEL);
	spacers = kcalloc(n, sizeof(*spacers), GFP_KERNEL);
	if (!buf->pages || !spacers) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		buf->pages[n - 1 - i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, buf->order);
		if (!buf->pages[n - 1 - i]) {
			ret = -ENOMEM;
			goto out;
		}
		memset(page_address(buf->pages[n - 1 - i]), i, PAGE_SIZE << buf->order);
		/* none is fine: the spacer only makes neighbours less likely */
		spacers[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, buf->order);
	}
	for (i = 1; i < n; i++)
		if (page_to_phys(buf->pages[i]) ==
		    page_to_phys(buf->pages[i - 1]) + (PAGE_SIZE << buf->order))
			buf->adjacent++;
out:
	if (spacers)
		spacers_free(spacers, n, buf->order);
	if (ret)
		buf_free(buf);
	return ret;
}

/*
 * An sg_table over [off, off + len) of @buf, each chunk cut into entries of at
 * most @cap bytes (what a driver must do: swiotlb maps 256 KiB at most).
 */
static int buf_sgt(struct bench_buf *buf, size_t off, size_t len, size_t cap,
		   struct sg_table *sgt)
{
	size_t csize = PAGE_SIZE << buf->order;
	struct scatterlist *sg;
	unsigned int pass, n = 0;
	int ret;

	for (pass = 0; pass < 2; pass++) {
		size_t pos = off, left = len;

		if (pass) {
			ret = sg_alloc_table(sgt, n, GFP_KERNEL);
			if (ret)
				return ret;
			sg = sgt->sgl;
		}
		while (left) {
			size_t in = pos % csize;
			size_t take = min3(left, csize - in, cap - (in % cap));

			if (pass) {
				sg_set_page(sg, nth_page(buf->pages[pos / csize], in >> PAGE_SHIFT),
					    take, offset_in_page(in));
				sg = sg_next(sg);
			} else {
				n++;
			}
			pos += take;
			left -= take;
		}
	}
	return 0;
}

/*
 * The memory of a measured point: a buffer of @n chunks, an sg_table over
 * [0, @len) of it and a descriptor of that table, and optionally (@part_len)
 * a second table over [@part_off, @part_off + @part_len).
 */
struct bench_mem {
	struct bench_buf buf;
	struct sg_table sgt;
	struct sg_table part;
	struct iodma_md *md;
};

static void bench_mem_free(struct bench_mem *m)
{
	if (!IS_ERR_OR_NULL(m->md))
		iodma_md_put(m->md);
	if (m->part.sgl)
		sg_free_table(&m->part);
	if (m->sgt.sgl)
		sg_free_table(&m->sgt);
	buf_free(&m->buf);
}

static int bench_mem_alloc(struct bench *b, struct bench_mem *m, unsigned int n, size_t chunk,
			   size_t len, size_t part_off, size_t part_len,
			   enum dma_data_direction dir)
{
	int ret;

	memset(m, 0, sizeof(*m));
	ret = buf_alloc(&m->buf, n, chunk);
	if (ret)
		return ret;
	ret = buf_sgt(&m->buf, 0, len, b->seg_cap, &m->sgt);
	if (!ret && part_len)
		ret = buf_sgt(&m->buf, part_off, part_len, b->seg_cap, &m->part);
	if (!ret) {
		m->md = iodma_md_from_sgtable(&m->sgt, dir);
		if (IS_ERR(m->md))
			ret = PTR_ERR(m->md);
	}
	if (ret)
		bench_mem_free(m);
	return ret;
}

/* One result line: @head names the test and the point. */
static void report(struct bench *b, const char *head, const char *impl, const char *phase,
		   u64 *v, unsigned int n)
{
	u64 p50, p99;

	percentiles(v, n, &p50, &p99);
	line(b, "%s phase=%s impl=%s iters=%u p50=%llu p99=%llu", head, phase, impl, n, p50,
	     p99);
}

/* Keep the phases of sample @i in b->t[0] (and let others run). */
static void keep_phases(struct bench *b, const u64 *sample, unsigned int i)
{
	unsigned int p;

	for (p = 0; p < NR_PH; p++)
		b->t[0][p][i] = sample[p];
	cond_resched();
}

/* One result line per phase of the @n samples in b->t[0]. */
static void report_phases(struct bench *b, const char *head, const char *impl, unsigned int n)
{
	unsigned int p;

	for (p = 0; p < NR_PH; p++)
		report(b, head, impl, ph_names[p], b->t[0][p], n);
}

/* The end of a point's guest-time budget, or of 1/@div of it. */
static u64 point_deadline(struct bench *b, unsigned int div)
{
	return now() + (u64)b->point_ms * NSEC_PER_MSEC / div;
}

/* Stop a point after min_iters once its guest-time budget is spent. */
static bool point_done(struct bench *b, unsigned int i, u64 deadline)
{
	return i >= b->iters || (i >= b->min_iters && now() > deadline);
}

/* One pooled iodma I/O; fills t[PH_*] when @t is not NULL. */
static int io_iodma(struct bench *b, struct iodma_pool *pool, struct iodma_md *md, u64 len,
		    u64 *t, u32 *nsegs)
{
	struct iodma_cmd *cmd;
	u64 t0, t1, t2, off = 0;
	u32 done = 0, n;
	int ret;

	t0 = now();
	cmd = iodma_pool_get(pool, GFP_KERNEL);
	if (!cmd)
		return -ENOMEM;
	ret = iodma_cmd_set_memory_descriptor(cmd, md, false);
	if (ret)
		goto out_put;
	ret = iodma_cmd_prepare(cmd, 0, 0, true, true);
	if (ret)
		goto out_clear;
	t1 = now();
	while (off < len && done < BENCH_GEN_MAX) {
		n = BENCH_GEN_MAX - done;
		ret = iodma_cmd_gen64_segments(cmd, &off, b->segs + done, &n);
		if (ret)
			break;
		done += n;
	}
	t2 = now();
	iodma_cmd_complete(cmd, true, true);
	iodma_cmd_clear_memory_descriptor(cmd, false);
	iodma_pool_put(pool, cmd);
	if (t) {
		t[PH_PREPARE] = t1 - t0;
		t[PH_GEN] = t2 - t1;
		t[PH_COMPLETE] = now() - t2;
		t[PH_TOTAL] = t[PH_PREPARE] + t[PH_GEN] + t[PH_COMPLETE];
	}
	*nsegs = done;
	return ret;

out_clear:
	iodma_cmd_clear_memory_descriptor(cmd, false);
out_put:
	iodma_pool_put(pool, cmd);
	return ret;
}

/* The same I/O as a driver writes it with the DMA API. */
static noinline int io_raw(struct bench *b, struct sg_table *sgt, u64 *t, u32 *nsegs)
{
	struct scatterlist *sg;
	u64 t0, t1, t2;
	unsigned int i;
	int ret;

	t0 = now();
	ret = dma_map_sgtable(b->dev, sgt, DMA_BIDIRECTIONAL, 0);
	if (ret)
		return ret;
	t1 = now();
	for_each_sgtable_dma_sg(sgt, sg, i) {
		b->segs[i].addr = sg_dma_address(sg);
		b->segs[i].len = sg_dma_len(sg);
	}
	t2 = now();
	dma_unmap_sgtable(b->dev, sgt, DMA_BIDIRECTIONAL, 0);
	if (t) {
		t[PH_PREPARE] = t1 - t0;
		t[PH_GEN] = t2 - t1;
		t[PH_COMPLETE] = now() - t2;
		t[PH_TOTAL] = t[PH_PREPARE] + t[PH_GEN] + t[PH_COMPLETE];
	}
	*nsegs = sgt->nents;
	return 0;
}

/*
 * The raw I/O called through @depth more frames, as deep as iodma calls
 * dma_map_sgtable() (iodma_cmd_prepare, prepare_counted, __prepare,
 * dma_map).  A control: on the debug kernel each mapping's cost grows with
 * the call depth (DMA-API debug saves a stack trace per mapping, and
 * unwinding module frames is slow), which is not iodma's own work.
 */
static noinline int io_raw_deep(struct bench *b, struct sg_table *sgt, u64 *t, u32 *nsegs,
				unsigned int depth)
{
	int ret;

	if (!depth)
		return io_raw(b, sgt, t, nsegs);
	ret = io_raw_deep(b, sgt, t, nsegs, depth - 1);
	barrier();	/* no tail call: keep the frame */
	return ret;
}

#if IS_ENABLED(CONFIG_KUNIT)
static int count_chunk(void *ctx, const struct iodma_chunk *c)
{
	(*(unsigned int *)ctx)++;
	return 0;
}

/* One pass of build_view() is one iodma_md_walk() of the prepared range. */
static void bench_walk(struct bench *b, struct iodma_md *md, size_t size, const char *head)
{
	u64 *v = b->t[0][0], deadline = point_deadline(b, 4);
	unsigned int i, chunks = 0;
	u64 t0;

	for (i = 0; !point_done(b, i, deadline); i++) {
		t0 = now();
		iodma_md_walk(md, 0, size, count_chunk, &chunks);
		v[i] = now() - t0;
	}
	report(b, head, "iodma", "md_walk", v, i);
}
#else
/* iodma_md_walk() is exported only to KUnit: no walk probe on other kernels. */
static void bench_walk(struct bench *b, struct iodma_md *md, size_t size, const char *head)
{
}
#endif

/*
 * The I/O a driver writes for an IOMMU domain it owns: map the entries back
 * to back at a fixed IOVA, one segment, unmap (which flushes the IOTLB).  The
 * floor of iodma's owned-domain path: the page-table work alone.
 */
static int io_raw_domain(struct bench *b, struct iommu_domain *domain, struct sg_table *sgt,
			 u64 len, u64 *t)
{
	u64 t0, t1, t2;
	ssize_t mapped;

	t0 = now();
	mapped = iommu_map_sg(domain, BENCH_DOMAIN_IOVA, sgt->sgl, sgt->orig_nents,
			      IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE, GFP_KERNEL);
	if (mapped < 0)
		return mapped;
	t1 = now();
	b->segs[0].addr = BENCH_DOMAIN_IOVA;
	b->segs[0].len = len;
	t2 = now();
	if (iommu_unmap(domain, BENCH_DOMAIN_IOVA, mapped) != mapped)
		return -EIO;
	t[PH_PREPARE] = t1 - t0;
	t[PH_GEN] = t2 - t1;
	t[PH_COMPLETE] = now() - t2;
	t[PH_TOTAL] = t[PH_PREPARE] + t[PH_GEN] + t[PH_COMPLETE];
	return 0;
}

/*
 * The same I/O in an IOMMU domain iodma owns (iodma_domain_create(), the
 * device leaves its default domain meanwhile) on a pool of that domain,
 * interleaved with the hand-written owned-domain I/O (raw-domain).  Only
 * the edu device behind an IOMMU can be owned: elsewhere nothing is done.
 */
static int bench_io_domain(struct bench *b, struct bench_mem *mem, size_t size,
			   const char *head)
{
	const struct iodma_spec spec = {
		.max_transfer_size = BENCH_MAX_SIZE,
		.output = IODMA_OUT_HOST64,
		.map = IODMA_MAPPED,
	};
	u64 sample[2][NR_PH], deadline;
	struct iodma_domain *d;
	struct iodma_pool *pool;
	unsigned int i, k, p;
	u32 segs = 0;
	int ret;

	if (!b->pdev || !device_iommu_mapped(b->dev))
		return 0;
	d = iodma_domain_create(b->dev);
	if (IS_ERR(d))
		return PTR_ERR(d);
	pool = iodma_pool_create_in_domain(d, &spec, 1, BENCH_NAME "_domain");
	if (IS_ERR(pool)) {
		ret = PTR_ERR(pool);
		goto out_domain;
	}
	ret = io_iodma(b, pool, mem->md, size, NULL, &segs);
	if (!ret)
		ret = io_raw_domain(b, d->domain, &mem->sgt, size, sample[1]);
	if (ret)
		goto out_pool;
	deadline = point_deadline(b, 2);
	for (i = 0; !point_done(b, i, deadline); i++) {
		for (k = 0; k < 2; k++) {
			if ((i + k) & 1)
				ret = io_raw_domain(b, d->domain, &mem->sgt, size, sample[1]);
			else
				ret = io_iodma(b, pool, mem->md, size, sample[0], &segs);
			if (ret)
				goto out_pool;
		}
		for (k = 0; k < 2; k++)
			for (p = 0; p < NR_PH; p++)
				b->t[k][p][i] = sample[k][p];
		cond_resched();
	}
	line(b, "test=domain-info size=%zu segs_iodma=%u", size, segs);
	for (p = 0; p < NR_PH; p++) {
		report(b, head, "iodma-domain", ph_names[p], b->t[0][p], i);
		report(b, head, "raw-domain", ph_names[p], b->t[1][p], i);
	}
out_pool:
	iodma_pool_destroy(pool);
out_domain:
	iodma_domain_destroy(d);
	return ret;
}

/* iodma alone: the same I/O on the pools that map nothing. */
static int bench_io_unmapped(struct bench *b, struct iodma_pool **pools, struct iodma_md *md,
			     size_t size, const char *head)
{
	unsigned int k, i;
	u64 sample[NR_PH], deadline;
	u32 segs;
	int ret;

	for (k = POOL_BYPASSED; k < NR_POOLS; k++) {
		if (!pools[k])
			continue;
		ret = io_iodma(b, pools[k], md, size, NULL, &segs);
		if (ret)
			return ret;
		deadline = point_deadline(b, 4);
		for (i = 0; !point_done(b, i, deadline); i++) {
			ret = io_iodma(b, pools[k], md, size, sample, &segs);
			if (ret)
				return ret;
			keep_phases(b, sample, i);
		}
		report_phases(b, head, pool_impl[k], i);
	}
	return 0;
}

/* The control: the raw I/O at iodma's call depth (io_raw_deep()). */
static int bench_io_deep(struct bench *b, struct sg_table *sgt, const char *head)
{
	u64 sample[NR_PH], deadline = point_deadline(b, 4);
	unsigned int i;
	u32 segs;
	int ret;

	for (i = 0; !point_done(b, i, deadline); i++) {
		ret = io_raw_deep(b, sgt, sample, &segs, BENCH_DEPTH);
		if (ret)
			return ret;
		keep_phases(b, sample, i);
	}
	report_phases(b, head, "raw-deep", i);
	return 0;
}

static int bench_io_point(struct bench *b, struct iodma_pool **pools, size_t size,
			  unsigned int nchunks)
{
	struct iodma_pool *pool = pools[POOL_MAPPED];
	u64 sample[2][NR_PH], deadline;
	struct bench_mem mem;
	struct sg_table *sgt = &mem.sgt;
	struct iodma_md *md;
	u32 segs_iodma = 0, segs_raw = 0;
	unsigned int i, k, p;
	char head[96];
	int ret;

	ret = bench_mem_alloc(b, &mem, nchunks, size / nchunks, size, 0, 0, DMA_BIDIRECTIONAL);
	if (ret)
		return ret;
	md = mem.md;
	snprintf(head, sizeof(head), "test=io size=%zu nents=%u sg=%u", size, nchunks,
		 sgt->orig_nents);

	/* warm up both paths (the pool's command, caches, IOVA rcaches) */
	ret = io_iodma(b, pool, md, size, NULL, &segs_iodma);
	if (!ret)
		ret = io_raw(b, sgt, NULL, &segs_raw);
	if (ret)
		goto out;

	deadline = point_deadline(b, 1);
	for (i = 0; !point_done(b, i, deadline); i++) {
		/* alternate which goes first, so neither always runs on a cold cache */
		for (k = 0; k < 2; k++) {
			if ((i + k) & 1)
				ret = io_raw(b, sgt, sample[1], &segs_raw);
			else
				ret = io_iodma(b, pool, md, size, sample[0], &segs_iodma);
			if (ret)
				goto out;
		}
		for (k = 0; k < 2; k++)
			for (p = 0; p < NR_PH; p++)
				b->t[k][p][i] = sample[k][p];
		cond_resched();
	}
	line(b, "test=io-info size=%zu nents=%u sg=%u segs_iodma=%u segs_raw=%u adjacent=%u",
	     size, nchunks, sgt->orig_nents, segs_iodma, segs_raw, mem.buf.adjacent);
	for (p = 0; p < NR_PH; p++) {
		report(b, head, "iodma", ph_names[p], b->t[0][p], i);
		report(b, head, "raw", ph_names[p], b->t[1][p], i);
	}
	bench_walk(b, md, size, head);
	ret = bench_io_unmapped(b, pools, md, size, head);
	if (!ret)
		ret = bench_io_deep(b, sgt, head);
	if (!ret)
		ret = bench_io_domain(b, &mem, size, head);
out:
	bench_mem_free(&mem);
	return ret;
}

static void bench_io(struct bench *b)
{
	struct iodma_spec spec = {
		.max_transfer_size = BENCH_MAX_SIZE,
		.output = IODMA_OUT_HOST64,
	};
	struct iodma_pool *pools[NR_POOLS] = {};
	unsigned int s, c, k;
	char name[32];
	int ret;

	for (k = 0; k < NR_POOLS; k++) {
		spec.map = pool_map[k];
		snprintf(name, sizeof(name), BENCH_NAME "_io%u", k);
		pools[k] = iodma_pool_create(b->dev, &spec, 1, name);
		if (IS_ERR(pools[k])) {
			/* BYPASSED behind an IOMMU is refused: measure without it */
			if (PTR_ERR(pools[k]) != -EOPNOTSUPP || k == POOL_MAPPED)
				fail(b, "pool_create io", PTR_ERR(pools[k]));
			pools[k] = NULL;
		}
	}
	if (!pools[POOL_MAPPED])
		goto out_destroy;
	for (s = 0; s < ARRAY_SIZE(io_sizes); s++) {
		for (c = 0; c < ARRAY_SIZE(io_chunks); c++) {
			/* chunks of at least a page: sub-page entries are not a driver's case */
			if (io_sizes[s] / io_chunks[c] < PAGE_SIZE)
				continue;
			ret = bench_io_point(b, pools, io_sizes[s], io_chunks[c]);
			if (ret)
				fail(b, "io point", ret);
		}
	}
out_destroy:
	for (k = 0; k < NR_POOLS; k++)
		iodma_pool_destroy(pools[k]);
}

/* Copy [BENCH_BOUNCE_OFF, + size) of @buf into @dst with plain memcpy. */
static void copy_plain(struct bench_buf *buf, u8 *dst, size_t size)
{
	size_t csize = PAGE_SIZE << buf->order, pos = BENCH_BOUNCE_OFF, left = size;

	while (left) {
		size_t in = pos % csize, take = min(left, csize - in);

		memcpy(dst, page_address(buf->pages[pos / csize]) + in, take);
		dst += take;
		pos += take;
		left -= take;
	}
}

static int bounce_iodma(struct iodma_pool *pool, struct iodma_md *md, size_t size, u64 *t)
{
	struct iodma_cmd *cmd;
	u64 t0;
	int ret;

	cmd = iodma_pool_get(pool, GFP_KERNEL);
	if (!cmd)
		return -ENOMEM;
	t0 = now();
	ret = iodma_cmd_set_memory_descriptor(cmd, md, false);
	if (!ret)
		ret = iodma_cmd_prepare(cmd, BENCH_BOUNCE_OFF, size, true, true);
	*t = now() - t0;
	if (!ret && iodma_cmd_bounce_reason(cmd) != IODMA_BOUNCE_ALIGNMENT)
		ret = -EPROTO;
	iodma_cmd_clear_memory_descriptor(cmd, true);
	iodma_pool_put(pool, cmd);
	return ret;
}

static int bench_bounce_point(struct bench *b, struct iodma_pool *pool, size_t size, u8 *dst)
{
	bool swiotlb = is_swiotlb_force_bounce(b->dev);
	unsigned int nchunks = DIV_ROUND_UP(size + BENCH_BOUNCE_OFF, BENCH_BOUNCE_CHUNK);
	u64 *tb = b->t[0][0], *tm = b->t[0][1], *ts = b->t[0][2], t0, deadline;
	struct bench_mem mem;
	struct iodma_md *md;
	unsigned int i;
	char head[64];
	int ret;

	/* part: the same bytes as the bounced range, for swiotlb */
	ret = bench_mem_alloc(b, &mem, nchunks, BENCH_BOUNCE_CHUNK,
			      (size_t)nchunks * BENCH_BOUNCE_CHUNK, BENCH_BOUNCE_OFF, size,
			      DMA_TO_DEVICE);
	if (ret)
		return ret;
	md = mem.md;
	snprintf(head, sizeof(head), "test=bounce size=%zu", size);

	ret = bounce_iodma(pool, md, size, &t0);
	if (ret)
		goto out;
	deadline = point_deadline(b, 1);
	for (i = 0; !point_done(b, i, deadline); i++) {
		ret = bounce_iodma(pool, md, size, &tb[i]);
		if (ret)
			goto out;
		t0 = now();
		copy_plain(&mem.buf, dst, size);
		tm[i] = now() - t0;
		if (swiotlb) {
			t0 = now();
			ret = dma_map_sgtable(b->dev, &mem.part, DMA_TO_DEVICE, 0);
			ts[i] = now() - t0;
			if (ret)
				goto out;
			dma_unmap_sgtable(b->dev, &mem.part, DMA_TO_DEVICE, 0);
		}
		cond_resched();
	}
	report(b, head, "iodma", "bounce", tb, i);
	report(b, head, "memcpy", "bounce", tm, i);
	if (swiotlb)
		report(b, head, "swiotlb", "bounce", ts, i);
out:
	bench_mem_free(&mem);
	return ret;
}

/* Bounced I/Os: the memory starts BENCH_BOUNCE_OFF into a chunk, off the alignment. */
static void bench_bounce(struct bench *b)
{
	const struct iodma_spec spec = {
		.alignment = 2 * BENCH_BOUNCE_OFF,
		.max_transfer_size = BENCH_MAX_SIZE,
		.output = IODMA_OUT_HOST64,
		.map = IODMA_MAPPED,
	};
	struct iodma_pool *pool;
	unsigned int s;
	u8 *dst;
	int ret;

	dst = vmalloc(BENCH_MAX_SIZE);
	if (!dst) {
		fail(b, "vmalloc bounce", -ENOMEM);
		return;
	}
	pool = iodma_pool_create(b->dev, &spec, 1, BENCH_NAME "_bounce");
	if (IS_ERR(pool)) {
		fail(b, "pool_create bounce", PTR_ERR(pool));
		goto out_free;
	}
	for (s = 0; s < ARRAY_SIZE(io_sizes); s++) {
		ret = bench_bounce_point(b, pool, io_sizes[s], dst);
		if (ret)
			fail(b, "bounce point", ret);
	}
	iodma_pool_destroy(pool);
out_free:
	vfree(dst);
}

/*
 * The specifications gen_segments is measured with: none of the rules, then
 * each rule alone, with a value the ranges of bench_gen_point() already meet
 * (so the segments are the same): what checking the rule costs.
 */
static const struct {
	const char *impl;
	struct iodma_spec spec;
} gen_rules[] = {
	{ "iodma", { .output = IODMA_OUT_HOST64, .map = IODMA_ITERATE_ONLY } },
	{ "iodma-alignment", { .alignment = 8, .output = IODMA_OUT_HOST64,
			       .map = IODMA_ITERATE_ONLY } },
	{ "iodma-boundary", { .seg_boundary_mask = SZ_64K - 1, .output = IODMA_OUT_HOST64,
			      .map = IODMA_ITERATE_ONLY } },
	{ "iodma-max_segment_size", { .max_segment_size = SZ_64K, .output = IODMA_OUT_HOST64,
				      .map = IODMA_ITERATE_ONLY } },
	{ "iodma-virt_boundary", { .virt_boundary_mask = PAGE_SIZE - 1,
				   .output = IODMA_OUT_HOST64, .map = IODMA_ITERATE_ONLY } },
};

/*
 * The raw sg walk a driver writes over a mapped table of @n entries (the
 * table's DMA fields set by hand: nothing is mapped), into the same array.
 */
static int bench_gen_raw(struct bench *b, unsigned int n, const char *head)
{
	u64 *v = b->t[0][2], t0, deadline;
	struct scatterlist *sg;
	struct sg_table sgt;
	unsigned int i, j;
	int ret;

	ret = sg_alloc_table(&sgt, n, GFP_KERNEL);
	if (ret)
		return ret;
	for_each_sgtable_sg(&sgt, sg, j) {
		sg_dma_address(sg) = SZ_4G + (u64)j * 2 * PAGE_SIZE;
		sg_dma_len(sg) = PAGE_SIZE;
	}
	sgt.nents = n;
	deadline = point_deadline(b, 2);
	for (i = 0; !point_done(b, i, deadline); i++) {
		t0 = now();
		for_each_sgtable_dma_sg(&sgt, sg, j) {
			b->segs[j].addr = sg_dma_address(sg);
			b->segs[j].len = sg_dma_len(sg);
		}
		v[i] = now() - t0;
		cond_resched();
	}
	report(b, head, "raw", "gen_all", v, i);
	sg_free_table(&sgt);
	return 0;
}

/*
 * gen_segments over the @n ranges of @md with specification @r of
 * gen_rules[]: all at once, and (without rules) in batches of 64.
 */
static int bench_gen_rule(struct bench *b, struct iodma_md *md, unsigned int n, unsigned int r,
			  const char *head)
{
	u64 *v = b->t[0][0], *vb = b->t[0][1], t0, off, len = (u64)n * PAGE_SIZE, deadline;
	struct iodma_cmd *cmd;
	unsigned int i;
	u32 cnt;
	int ret;

	cmd = iodma_cmd_create(b->dev, &gen_rules[r].spec);
	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	ret = iodma_cmd_set_memory_descriptor(cmd, md, true);
	if (ret)
		goto out_cmd;
	deadline = point_deadline(b, r ? 4 : 1);
	for (i = 0; !point_done(b, i, deadline) && !ret; i++) {
		/* all at once */
		off = 0;
		cnt = n;
		t0 = now();
		ret = iodma_cmd_gen64_segments(cmd, &off, b->segs, &cnt);
		v[i] = now() - t0;
		if (!ret && (off != len || cnt != n))
			ret = -EPROTO;
		if (r)
			continue;
		/* in batches of 64, the driver's loop over a small ring */
		off = 0;
		t0 = now();
		while (!ret && off < len) {
			cnt = 64;
			ret = iodma_cmd_gen64_segments(cmd, &off, b->segs, &cnt);
		}
		vb[i] = now() - t0;
		cond_resched();
	}
	if (!ret) {
		report(b, head, gen_rules[r].impl, "gen_all", v, i);
		if (!r)
			report(b, head, gen_rules[r].impl, "gen_batch64", vb, i);
	}
	iodma_cmd_clear_memory_descriptor(cmd, true);
out_cmd:
	iodma_cmd_destroy(cmd);
	return ret;
}

/*
 * gen_segments over @n page-long, non-adjacent physical ranges: every range
 * is a segment.  Iterate-only, so that nothing is mapped or touched.
 */
static int bench_gen_point(struct bench *b, unsigned int n)
{
	struct iodma_phys_range *ranges;
	struct iodma_md *md;
	unsigned int j, r;
	char head[48];
	int ret;

	ranges = kvcalloc(n, sizeof(*ranges), GFP_KERNEL);
	if (!ranges)
		return -ENOMEM;
	for (j = 0; j < n; j++) {
		ranges[j].addr = SZ_4G + (u64)j * 2 * PAGE_SIZE;
		ranges[j].len = PAGE_SIZE;
	}
	md = iodma_md_from_phys(ranges, n, DMA_TO_DEVICE);
	kvfree(ranges);
	if (IS_ERR(md))
		return PTR_ERR(md);
	snprintf(head, sizeof(head), "test=gen segs=%u", n);
	ret = bench_gen_raw(b, n, head);
	for (r = 0; r < ARRAY_SIZE(gen_rules) && !ret; r++)
		ret = bench_gen_rule(b, md, n, r, head);
	iodma_md_put(md);
	return ret;
}

static void bench_gen(struct bench *b)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(gen_counts); i++) {
		ret = bench_gen_point(b, gen_counts[i]);
		if (ret)
			fail(b, "gen point", ret);
	}
}

/* The edu PCI device if there is one, else a platform device of our own. */
static int bench_device(struct bench *b)
{
	int ret;

	b->pdev = pci_get_device(0x1234, 0x11e8, NULL);
	if (b->pdev) {
		b->dev = &b->pdev->dev;
	} else {
		b->plat = platform_device_register_simple(BENCH_NAME, -1, NULL, 0);
		if (IS_ERR(b->plat))
			return PTR_ERR(b->plat);
		b->dev = &b->plat->dev;
	}
	b->old_mask = dma_get_mask(b->dev);
	b->old_coherent_mask = b->dev->coherent_dma_mask;
	b->old_max_seg = dma_get_max_seg_size(b->dev);
	ret = dma_coerce_mask_and_coherent(b->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	/* long entries, as a driver of a capable device would declare */
	if (b->dev->dma_parms)
		dma_set_max_seg_size(b->dev, SZ_4M);
	b->seg_cap = min_t(size_t, SZ_4M, dma_max_mapping_size(b->dev));
	b->seg_cap = min(b->seg_cap, dma_get_max_seg_size(b->dev));
	b->seg_cap = max_t(size_t, round_down(b->seg_cap, PAGE_SIZE), PAGE_SIZE);

	if (device_iommu_mapped(b->dev))
		b->config = "iommu";
	else if (is_swiotlb_force_bounce(b->dev))
		b->config = "swiotlb";
	else
		b->config = "direct";
	return 0;
}

static void bench_device_put(struct bench *b)
{
	if (!b->dev)
		return;
	dma_set_mask(b->dev, b->old_mask);
	dma_set_coherent_mask(b->dev, b->old_coherent_mask);
	if (b->dev->dma_parms)
		dma_set_max_seg_size(b->dev, b->old_max_seg);
	if (b->pdev)
		pci_dev_put(b->pdev);
	/* the platform device stays until unload: dma_map_benchmark may bind it */
}

static struct bench bench;

static void bench_free(struct bench *b)
{
	unsigned int k, p;

	for (k = 0; k < 2; k++) {
		for (p = 0; p < NR_PH; p++) {
			kvfree(b->t[k][p]);
			b->t[k][p] = NULL;
		}
	}
	kvfree(b->segs);
	b->segs = NULL;
}

/*
 * Snapshot the parameters: a write to one of them during the run must not
 * grow iters past the sample arrays, nor free the clock string under us.
 */
static void bench_params(struct bench *b)
{
	kernel_param_lock(THIS_MODULE);
	b->iters = clamp(iters, 1U, BENCH_MAX_ITERS);
	b->min_iters = clamp(min_iters, 1U, b->iters);
	b->point_ms = point_ms;
	strscpy(b->clock, clock ?: "unknown", sizeof(b->clock));
	kernel_param_unlock(THIS_MODULE);
}

static int bench_alloc(struct bench *b)
{
	unsigned int k, p;

	b->segs = kvcalloc(BENCH_GEN_MAX, sizeof(*b->segs), GFP_KERNEL);
	if (!b->segs)
		return -ENOMEM;
	for (k = 0; k < 2; k++) {
		for (p = 0; p < NR_PH; p++) {
			b->t[k][p] = kvcalloc(b->iters, sizeof(u64), GFP_KERNEL);
			if (!b->t[k][p])
				return -ENOMEM;
		}
	}
	return 0;
}

/* One whole run, with the module parameters as they are now. */
static int bench_run(struct bench *b)
{
	u64 start;
	int ret;

	b->outlen = 0;
	b->overflow = false;
	b->errors = 0;
	bench_params(b);
	ret = bench_alloc(b);
	if (ret) {
		bench_free(b);
		return ret;
	}
	pr_info(BENCH_NAME ": %s on %s, clock %s\n", b->config, dev_name(b->dev), b->clock);
	start = now();
	line(b, "test=info device=%s seg_cap=%u max_mapping=%zu iters=%u min_iters=%u point_ms=%u",
	     dev_name(b->dev), b->seg_cap, dma_max_mapping_size(b->dev), b->iters, b->min_iters,
	     b->point_ms);
	bench_io(b);
	bench_bounce(b);
	bench_gen(b);
	line(b, "test=done errors=%u guest_ms=%llu overflow=%d", b->errors,
	     div_u64(now() - start, NSEC_PER_MSEC), b->overflow);
	pr_info(BENCH_NAME ": done, %u errors\n", b->errors);
	bench_free(b);
	return 0;
}

static ssize_t run_write(struct file *file, const char __user *ubuf, size_t count,
			 loff_t *ppos)
{
	int ret;

	mutex_lock(&bench.lock);
	ret = bench_run(&bench);
	mutex_unlock(&bench.lock);
	return ret ? ret : count;
}

static ssize_t results_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench.lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, bench.outbuf, bench.outlen);
	mutex_unlock(&bench.lock);
	return ret;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
	.llseek = noop_llseek,
};

static const struct file_operations results_fops = {
	.owner = THIS_MODULE,
	.read = results_read,
	.llseek = default_llseek,
};

static int __init iodma_bench_init(void)
{
	struct bench *b = &bench;
	int ret;

	mutex_init(&b->lock);
	b->outbuf = vzalloc(BENCH_OUT_SIZE);
	if (!b->outbuf)
		return -ENOMEM;
	ret = bench_device(b);
	if (ret)
		goto err_device;
	b->dir = debugfs_create_dir(BENCH_NAME, NULL);
	debugfs_create_file("run", 0200, b->dir, NULL, &run_fops);
	debugfs_create_file("results", 0444, b->dir, NULL, &results_fops);
	pr_info(BENCH_NAME ": %s on %s; write to debugfs %s/run to measure\n", b->config,
		dev_name(b->dev), BENCH_NAME);
	return 0;

err_device:
	bench_device_put(b);
	if (!IS_ERR_OR_NULL(b->plat))
		platform_device_unregister(b->plat);
	vfree(b->outbuf);
	return ret;
}

static void __exit iodma_bench_exit(void)
{
	debugfs_remove(bench.dir);
	bench_device_put(&bench);
	if (bench.plat)
		platform_device_unregister(bench.plat);
	vfree(bench.outbuf);
}

module_init(iodma_bench_init);
module_exit(iodma_bench_exit);

MODULE_DESCRIPTION("iodma: pooled I/O against the raw DMA API, a benchmark");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
