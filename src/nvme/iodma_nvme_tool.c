// SPDX-License-Identifier: GPL-2.0-only
/*
 * iodma_nvme_tool: the iodma_nvme end-to-end test, run in the test guest.
 *
 * Writes known patterns to an iodma_nvme disk with O_DIRECT from user
 * buffers of many sizes and in-page offsets (down to the queue's
 * dma_alignment), with pwrite and multi-iovec pwritev, reads each back and
 * compares, flushes, then reads the whole disk and checks every byte.  The
 * results are the KTAP suite iodma_nvme_e2e on stdout.
 *
 * The pattern is a function of the byte's offset on the disk and the seed
 * only: each 8-byte word at offset o is mix(seed, o / 8), little-endian.  So
 * the host can check the controller's backing image after the guest is off:
 * the tool prints the extents it wrote as "# extent OFFSET LENGTH" comment
 * lines and "# seed SEED"; every other byte of the disk stays zero
 * (scripts/nvme-check.py).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/types.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/aio_abi.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096UL
#define CACHELINE	64
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MiB		(1024UL * 1024)
#define MAX_IO		(2 * MiB)
#define MAX_EXTENTS	512
#define MAX_IOV		16
#define WRITERS		4
#define WRITER_IOS	32
#define WRITER_LEN	(64 * 1024UL)

static __u64 seed = 1;
static int fd = -1;
static __u64 dev_size;
static unsigned int dma_align;	/* the queue's dma_alignment mask */
static __u64 max_io;		/* the queue's max_hw_sectors_kb, in bytes */
static __u64 next_off = MiB;	/* where the next case writes */

static struct { __u64 off, len; } extents[MAX_EXTENTS];
static unsigned int nr_extents;

static unsigned int ntests;
static unsigned int nfailed;

static __u64 mix(__u64 word)
{
	__u64 z = seed + word * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The pattern's byte at disk offset @off. */
static __u8 pattern_byte(__u64 off)
{
	return mix(off / 8) >> (8 * (off % 8));
}

static void fill(__u8 *buf, __u64 off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i);
}

/* Offset of the first byte that differs from the pattern, or -1. */
static long long check(const __u8 *buf, __u64 off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern_byte(off + i))
			return i;
	return -1;
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("    # ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	nfailed += !ok;
	printf("    %s %u ", ok ? "ok" : "not ok", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void add_extent(__u64 off, __u64 len)
{
	if (nr_extents == MAX_EXTENTS) {
		fprintf(stderr, "too many extents\n");
		exit(2);
	}
	extents[nr_extents].off = off;
	extents[nr_extents].len = len;
	nr_extents++;
	diag("extent %llu %llu", off, len);
}

/* Disk space for a case: @len bytes at a 512-byte offset @sub in a fresh page. */
static __u64 reserve(__u64 len, __u64 sub)
{
	__u64 off = next_off + sub;

	next_off = (off + len + 2 * PAGE - 1) / PAGE * PAGE;
	if (next_off > dev_size) {
		fprintf(stderr, "the disk is too small\n");
		exit(2);
	}
	return off;
}

static void *map_buffer(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/*
 * One pwrite/pread pair: @len bytes at buffer offset @boff (in a page),
 * disk offset @doff; the read goes to another buffer at the same offset,
 * unless the block layer splits it and the offset is inside a cache line:
 * two requests mapped at once for the device to write the same cache line
 * are what DMA-API debug refuses ("overlapping mappings"), for any driver.
 */
static void test_rw(__u8 *wbuf, __u8 *rbuf, size_t len, size_t boff, __u64 sub)
{
	__u64 off = reserve(len, sub);
	size_t roff = len > max_io && boff % CACHELINE ? 0 : boff;
	long long bad;
	ssize_t n;

	fill(wbuf + boff, off, len);
	n = pwrite(fd, wbuf + boff, len, off);
	if (n > 0)
		add_extent(off, n);
	result(n == (ssize_t)len, "write_%zu_buf%zu_dev%llu # returned %zd errno %d",
	       len, boff, sub, n, n < 0 ? errno : 0);
	memset(rbuf, 0xa5, len + roff);
	n = pread(fd, rbuf + roff, len, off);
	bad = n == (ssize_t)len ? check(rbuf + roff, off, len) : 0;
	if (bad >= 0)
		diag("read returned %zd (errno %d), first bad byte %lld", n, n < 0 ? errno : 0,
		     bad);
	result(bad < 0, "read_%zu_buf%zu_dev%llu # read at buffer offset %zu", len, boff,
	       sub, roff);
}

/* A pwritev/preadv pair over @n (buffer offset, length) pieces, each in its own pages. */
static void test_vec(const char *name, __u8 *wbuf, __u8 *rbuf, unsigned int n,
		     const size_t (*pieces)[2])
{
	struct iovec wv[MAX_IOV], rv[MAX_IOV];
	size_t total = 0, pos = 0, at = 0;
	__u64 off;
	unsigned int i;
	long long bad = -1;
	ssize_t ret;

	for (i = 0; i < n; i++)
		total += pieces[i][1];
	off = reserve(total, 0);
	for (i = 0; i < n; i++) {
		wv[i].iov_base = wbuf + at + pieces[i][0];
		rv[i].iov_base = rbuf + at + pieces[i][0];
		/* a page apart: no piece is contiguous with the next */
		at += (pieces[i][0] + pieces[i][1] + 2 * PAGE - 1) / PAGE * PAGE;
		wv[i].iov_len = pieces[i][1];
		rv[i].iov_len = pieces[i][1];
		fill(wv[i].iov_base, off + pos, pieces[i][1]);
		memset(rv[i].iov_base, 0xa5, pieces[i][1]);
		pos += pieces[i][1];
	}
	ret = pwritev(fd, wv, n, off);
	if (ret > 0)
		add_extent(off, ret);
	result(ret == (ssize_t)total, "writev_%s # %u pieces, %zu bytes, returned %zd errno %d",
	       name, n, total, ret, ret < 0 ? errno : 0);
	ret = preadv(fd, rv, n, off);
	pos = 0;
	for (i = 0; ret == (ssize_t)total && i < n && bad < 0; i++) {
		bad = check(rv[i].iov_base, off + pos, pieces[i][1]);
		pos += pieces[i][1];
	}
	if (ret != (ssize_t)total || bad >= 0)
		diag("preadv returned %zd (errno %d), piece %u byte %lld", ret,
		     ret < 0 ? errno : 0, i, bad);
	result(ret == (ssize_t)total && bad < 0, "readv_%s", name);
}

/* An O_DIRECT request the queue's limits refuse: -EINVAL, nothing written. */
static void test_refused(__u8 *buf, size_t len, size_t boff, const char *name)
{
	__u64 off = reserve(PAGE, 0);
	ssize_t n;

	fill(buf + boff, off, len);
	n = pwrite(fd, buf + boff, len, off);
	if (n > 0)
		add_extent(off, n);	/* the whole-disk check stays right */
	result(n < 0 && errno == EINVAL,
	       "%s # pwrite of %zu bytes at buffer offset %zu: %zd errno %d", name, len, boff, n,
	       n < 0 ? errno : 0);
}

/* WRITERS processes at once, each WRITER_IOS writes and reads: several queues busy. */
static void test_parallel(void)
{
	__u64 base = reserve(WRITERS * WRITER_IOS * WRITER_LEN, 0);
	int status, failed = 0;
	unsigned int w;

	for (w = 0; w < WRITERS; w++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			exit(2);
		}
		if (!pid) {
			__u8 *buf = map_buffer(WRITER_LEN + PAGE), *rbuf = buf;
			unsigned int i;
			ssize_t n;

			for (i = 0; i < WRITER_IOS; i++) {
				__u64 off = base + (i * WRITERS + w) * WRITER_LEN;
				size_t boff = (i % 2) && dma_align < 4 ? 4 : 0;

				fill(buf + boff, off, WRITER_LEN);
				if (pwrite(fd, buf + boff, WRITER_LEN, off) != (ssize_t)WRITER_LEN)
					_exit(1);
				memset(rbuf, 0, WRITER_LEN + PAGE);
				n = pread(fd, rbuf + boff, WRITER_LEN, off);
				if (n != (ssize_t)WRITER_LEN ||
				    check(rbuf + boff, off, WRITER_LEN) >= 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (w = 0; w < WRITERS; w++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	add_extent(base, WRITERS * WRITER_IOS * WRITER_LEN);
	result(!failed, "parallel_writers # %u processes, %u failed", WRITERS, failed);
}

/* Read the whole disk: the pattern in every extent, zero elsewhere. */
static void test_whole_disk(__u8 *buf)
{
	__u64 off, bad_off = 0;
	bool ok = true;

	for (off = 0; ok && off < dev_size; off += MiB) {
		if (pread(fd, buf, MiB, off) != (ssize_t)MiB) {
			bad_off = off;
			ok = false;
			break;
		}
		for (size_t i = 0; ok && i < MiB; i++) {
			__u64 o = off + i;
			__u8 want = 0;

			for (unsigned int e = 0; e < nr_extents; e++)
				if (o >= extents[e].off && o < extents[e].off + extents[e].len) {
					want = pattern_byte(o);
					break;
				}
			if (buf[i] != want) {
				bad_off = o;
				ok = false;
			}
		}
	}
	if (!ok)
		diag("first bad byte at %llu", bad_off);
	result(ok, "whole_disk_matches # %llu bytes, %u extents", dev_size, nr_extents);
}

/* /sys/block/<disk>/queue/@attr, or @def */
static unsigned int queue_attr(const char *dev, const char *attr, unsigned int def)
{
	const char *name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	char path[256];
	unsigned int v = def;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/%s", name, attr);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%u", &v) != 1)
		fprintf(stderr, "cannot read %s\n", path);
	if (f)
		fclose(f);
	return v;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * make nvme-bench counts the guest instructions an I/O costs.  Under QEMU's
 * -icount shift=0 the guest clock advances one nanosecond per instruction
 * executed by any vCPU, but also, while every vCPU halts, with the host's
 * time (the device's work, -icount sleep=on).  So no CPU may halt: a
 * spinner per CPU, at SCHED_IDLE (anything else preempts it at once), runs
 * a loop of exactly SPIN_INSNS instructions that counts its turns.  An
 * I/O's cost is then the elapsed guest time less the spinners' turns: what
 * the kernel, the driver, the interrupts and the tool executed, the wait
 * for the device left out.  The background (the timer tick, the spinners'
 * own overheads) is measured while nothing else runs and taken out in
 * proportion to the elapsed time.
 */
#define SPIN_INSNS	2
#define MAX_SPINNERS	64

static unsigned long *spin_counts;	/* one cache line per spinner, shared */
static pid_t spinners[MAX_SPINNERS];
static unsigned int nr_spinners;
static double background;	/* instructions per guest ns not the spinners' */

static void spin(unsigned long *count)
{
	/* incq + jmp: SPIN_INSNS instructions a turn */
	asm volatile("1: incq (%0)\n\tjmp 1b" : : "r"(count) : "memory");
}

static void stop_spinners(void)
{
	while (nr_spinners) {
		kill(spinners[--nr_spinners], SIGKILL);
		waitpid(spinners[nr_spinners], NULL, 0);
	}
}

static int start_spinners(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct sched_param sp = { 0 };

	spin_counts = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (spin_counts == MAP_FAILED || cpus < 1)
		return -1;
	for (nr_spinners = 0; nr_spinners < cpus && nr_spinners < MAX_SPINNERS; nr_spinners++) {
		pid_t pid = fork();
		cpu_set_t set;

		if (pid < 0) {
			stop_spinners();
			return -1;
		}
		if (!pid) {
			CPU_ZERO(&set);
			CPU_SET(nr_spinners, &set);
			if (sched_setaffinity(0, sizeof(set), &set) ||
			    sched_setscheduler(0, SCHED_IDLE, &sp))
				_exit(1);
			spin(&spin_counts[nr_spinners * (CACHELINE / sizeof(long))]);
		}
		spinners[nr_spinners] = pid;
	}
	return 0;
}

static unsigned long spun(void)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; i < nr_spinners; i++)
		sum += __atomic_load_n(&spin_counts[i * (CACHELINE / sizeof(long))],
				       __ATOMIC_RELAXED);
	return sum;
}

/* A span of guest time and the spinners' turns in it. */
struct span {
	__u64 ns;
	unsigned long turns;
};

static void span_start(struct span *s)
{
	s->turns = spun();
	s->ns = now_ns();
}

/* The instructions of the span that were not the spinners' or the background. */
static double span_work(struct span *s)
{
	double ns = now_ns() - s->ns, turns = spun() - s->turns;

	return ns - SPIN_INSNS * turns - background * ns;
}

/* The background: a second of nothing but the spinners. */
static void measure_background(void)
{
	struct span s;
	struct timespec ts = { 1, 0 };

	background = 0;
	span_start(&s);
	nanosleep(&ts, NULL);
	background = span_work(&s) / 1e9;
}

/*
 * The physical layout of a 128 KiB job's buffer is a variable of its own:
 * Linux's block layer makes physically contiguous pages one bio_vec, so the
 * same I/O is one SGL segment or 32 bio_vecs depending on where anonymous
 * memory happens to land.  So each such job runs on two buffers whose layout
 * is known: LAYOUT_CONTIG, in a hugetlb page (the guest reserves them,
 * vm.nr_hugepages), and LAYOUT_SCATTER, 4 KiB pages of which no two
 * neighbours are physically adjacent (chosen from a pool through
 * /proc/self/pagemap and moved into place with mremap).  A 4 KiB job is one
 * page whatever the layout: LAYOUT_ANY, plain anonymous memory.
 */
enum layout { LAYOUT_ANY, LAYOUT_CONTIG, LAYOUT_SCATTER, NR_LAYOUTS };

static const char *const layout_names[NR_LAYOUTS] = { "", "contig", "scatter" };

/* The workloads of make nvme-bench, named as fio names them. */
struct job {
	const char *op;
	bool write;
	bool random;
	size_t size;
	unsigned int qd;
	enum layout layout;
};

static const struct job jobs[] = {
	{ "randread", false, true, 4096, 1, LAYOUT_ANY },
	{ "randwrite", true, true, 4096, 1, LAYOUT_ANY },
	{ "randread", false, true, 4096, 32, LAYOUT_ANY },
	{ "randwrite", true, true, 4096, 32, LAYOUT_ANY },
	{ "read", false, false, 131072, 1, LAYOUT_CONTIG },
	{ "write", true, false, 131072, 1, LAYOUT_CONTIG },
	{ "read", false, false, 131072, 1, LAYOUT_SCATTER },
	{ "write", true, false, 131072, 1, LAYOUT_SCATTER },
};

/* Every job's buffer: qd * size bytes at most. */
#define BENCH_BUF	131072UL
#define BENCH_PAGES	(BENCH_BUF / PAGE)
#define HUGE_PAGE	(2 * MiB)
#define POOL_PAGES	(4 * BENCH_PAGES)

/* The page frame of each page of @buf, read from /proc/self/pagemap. */
static int page_frames(const void *buf, unsigned int n, __u64 *pfn)
{
	int pfd = open("/proc/self/pagemap", O_RDONLY);
	unsigned int i;
	__u64 e;

	if (pfd < 0)
		return -1;
	for (i = 0; i < n; i++) {
		off_t at = ((unsigned long)buf / PAGE + i) * sizeof(e);

		/* bit 63: present; bits 0-54: the frame (0 without CAP_SYS_ADMIN) */
		if (pread(pfd, &e, sizeof(e), at) != sizeof(e) || !(e >> 63) ||
		    !(e & ((1ULL << 55) - 1))) {
			close(pfd);
			return -1;
		}
		pfn[i] = e & ((1ULL << 55) - 1);
	}
	close(pfd);
	return 0;
}

/* NULL if @buf has @layout, else why not. */
static const char *layout_wrong(const void *buf, enum layout layout)
{
	__u64 pfn[BENCH_PAGES];
	unsigned int i;

	if (layout == LAYOUT_ANY)
		return NULL;
	if (page_frames(buf, BENCH_PAGES, pfn))
		return "no-page-frames-in-pagemap";
	for (i = 1; i < BENCH_PAGES; i++) {
		bool next = pfn[i] == pfn[i - 1] + 1;

		if (layout == LAYOUT_CONTIG && !next)
			return "hugetlb-page-not-contiguous";
		if (layout == LAYOUT_SCATTER && (next || pfn[i] + 1 == pfn[i - 1]))
			return "scattered-pages-became-adjacent";
	}
	return NULL;
}

/* A hugetlb page's first BENCH_BUF bytes, or NULL and @why. */
static __u8 *contig_buffer(const char **why)
{
	__u8 *p = mmap(NULL, HUGE_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (p == MAP_FAILED) {
		*why = "no-hugetlb-page(vm.nr_hugepages)";
		return NULL;
	}
	if (madvise(p, HUGE_PAGE, MADV_DONTFORK)) {
		*why = "madvise-dontfork-failed";
		munmap(p, HUGE_PAGE);
		return NULL;
	}
	fill(p, 0, BENCH_BUF);
	*why = layout_wrong(p, LAYOUT_CONTIG);
	if (*why) {
		munmap(p, HUGE_PAGE);
		return NULL;
	}
	return p;
}

/*
 * BENCH_PAGES anonymous 4 KiB pages, each physically adjacent to neither
 * virtual neighbour: from a pool of POOL_PAGES faulted-in pages, the next
 * page that is not adjacent to the previous one is moved into place.
 */
static __u8 *scatter_buffer(const char **why)
{
	__u8 *pool = mmap(NULL, POOL_PAGES * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u8 *buf = mmap(NULL, BENCH_BUF, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static __u64 pfn[POOL_PAGES];
	bool used[POOL_PAGES] = { false };
	__u64 last = 0;
	unsigned int i, j;

	*why = "mmap-failed";
	if (pool == MAP_FAILED || buf == MAP_FAILED) {
		if (pool != MAP_FAILED)
			munmap(pool, POOL_PAGES * PAGE);
		if (buf != MAP_FAILED)
			munmap(buf, BENCH_BUF);
		return NULL;
	}
	/* no transparent huge page: the pool must be 4 KiB pages */
	madvise(pool, POOL_PAGES * PAGE, MADV_NOHUGEPAGE);
	for (i = POOL_PAGES; i--; )	/* faulted in backwards */
		pool[i * PAGE] = 1;
	*why = "no-page-frames-in-pagemap";
	if (page_frames(pool, POOL_PAGES, pfn))
		goto fail;
	for (i = 0; i < BENCH_PAGES; i++) {
		for (j = 0; j < POOL_PAGES; j++)
			if (!used[j] && (!i || (pfn[j] != last + 1 && pfn[j] + 1 != last)))
				break;
		*why = "no-non-adjacent-page-in-pool";
		if (j == POOL_PAGES)
			goto fail;
		*why = "mremap-failed";
		if (mremap(pool + j * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			   buf + i * PAGE) == MAP_FAILED)
			goto fail;
		used[j] = true;
		last = pfn[j];
	}
	munmap(pool, POOL_PAGES * PAGE);
	pool = NULL;
	*why = "madvise-dontfork-failed";
	if (madvise(buf, BENCH_BUF, MADV_DONTFORK))
		goto fail;
	fill(buf, 0, BENCH_BUF);
	*why = layout_wrong(buf, LAYOUT_SCATTER);
	if (!*why)
		return buf;
fail:
	if (pool)
		munmap(pool, POOL_PAGES * PAGE);
	munmap(buf, BENCH_BUF);
	return NULL;
}

#define MAX_QD	32

static __u64 rng = 88172645463325252ULL;

/* The next offset of @job on a disk whose first @span bytes it uses. */
static __u64 job_offset(const struct job *job, __u64 span, unsigned int i)
{
	if (!job->random)
		return (__u64)i * job->size % span;
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % (span / job->size) * job->size;
}

/* Queue depth 1: one pread or pwrite after the other. */
static int run_sync(int bfd, const struct job *job, __u8 *buf, __u64 span, unsigned int ios)
{
	unsigned int i;

	for (i = 0; i < ios; i++) {
		off_t off = job_offset(job, span, i);
		ssize_t n = job->write ? pwrite(bfd, buf, job->size, off) :
					 pread(bfd, buf, job->size, off);

		if (n != (ssize_t)job->size) {
			fprintf(stderr, "I/O %u: %zd, %s\n", i, n, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Queue depth @job->qd: Linux AIO, each completion followed by a new I/O. */
static int run_aio(int bfd, const struct job *job, __u8 *buf, __u64 span, unsigned int ios)
{
	struct iocb cbs[MAX_QD], *cb;
	struct io_event ev[MAX_QD];
	aio_context_t ctx = 0;
	unsigned int i, issued = 0, done = 0, qd = job->qd;
	int n, ret = 0;

	if (qd > MAX_QD || syscall(SYS_io_setup, qd, &ctx)) {
		perror("io_setup");
		return -1;
	}
	for (i = 0; i < qd && issued < ios; i++, issued++) {
		memset(&cbs[i], 0, sizeof(cbs[i]));
		cbs[i].aio_fildes = bfd;
		cbs[i].aio_lio_opcode = job->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
		cbs[i].aio_buf = (__u64)(unsigned long)(buf + i * job->size);
		cbs[i].aio_nbytes = job->size;
		cbs[i].aio_offset = job_offset(job, span, issued);
		cb = &cbs[i];
		if (syscall(SYS_io_submit, ctx, 1, &cb) != 1) {
			perror("io_submit");
			ret = -1;
			break;
		}
	}
	while (!ret && done < issued) {
		n = syscall(SYS_io_getevents, ctx, 1, qd, ev, NULL);
		if (n < 0) {
			perror("io_getevents");
			ret = -1;
			break;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			cb = (struct iocb *)(unsigned long)ev[i].obj;
			done++;
			if (ev[i].res != (__s64)job->size) {
				fprintf(stderr, "I/O %u: %lld\n", done, (long long)ev[i].res);
				ret = -1;
				continue;
			}
			if (ret || issued == ios)
				continue;
			cb->aio_offset = job_offset(job, span, issued++);
			if (syscall(SYS_io_submit, ctx, 1, &cb) != 1) {
				perror("io_submit");
				ret = -1;
			}
		}
	}
	/* with an error, wait for what is still in flight before the buffers go */
	while (done < issued && (n = syscall(SYS_io_getevents, ctx, 1, qd, ev, NULL)) > 0)
		done += n;
	syscall(SYS_io_destroy, ctx);
	return ret;
}

/*
 * make nvme-bench: each job of @ios O_DIRECT I/Os from page-aligned
 * buffers of the job's layout on the first half of @dev, and per I/O the
 * elapsed guest ns and the guest instructions it cost (see the spinners
 * above).  One "IODMA-NVMEBENCH" line per job, with "skipped=WHY" for a job
 * whose buffer layout could not be had; status 1 if an I/O fails or the
 * layout changed under a job.
 */
static int bench(const char *dev, const char *label, unsigned int ios, const char *only,
		 bool spinners)
{
	int bfd = open(dev, O_RDWR | O_DIRECT);
	__u8 *bufs[NR_LAYOUTS];
	const char *why[NR_LAYOUTS] = { NULL };
	unsigned int j;
	__u64 dsize = 0;
	int ret = 0;

	if (bfd < 0 || ioctl(bfd, BLKGETSIZE64, &dsize) || dsize < 2 * MAX_QD * 131072) {
		fprintf(stderr, "%s: %s\n", dev, strerror(errno));
		return 1;
	}
	/*
	 * Not in the spinners' copy of the memory (MADV_DONTFORK): a page
	 * shared with a child is copied when an O_DIRECT read pins it for
	 * writing, and the copy lies wherever the allocator puts it.
	 */
	bufs[LAYOUT_ANY] = map_buffer(BENCH_BUF);
	if (madvise(bufs[LAYOUT_ANY], BENCH_BUF, MADV_DONTFORK)) {
		perror("madvise");
		return 1;
	}
	fill(bufs[LAYOUT_ANY], 0, BENCH_BUF);
	bufs[LAYOUT_CONTIG] = contig_buffer(&why[LAYOUT_CONTIG]);
	bufs[LAYOUT_SCATTER] = scatter_buffer(&why[LAYOUT_SCATTER]);
	if (spinners && start_spinners()) {
		perror("spinners");
		return 1;
	}
	if (spinners)
		measure_background();
	printf("IODMA-NVMEBENCH driver=%s background=%.6f spinners=%u\n", label, background,
	       nr_spinners);
	for (j = 0; j < ARRAY_SIZE(jobs) && !ret; j++) {
		const struct job *job = &jobs[j];
		__u8 *buf = bufs[job->layout];
		const char *layout = layout_names[job->layout];
		char name[64];
		struct span s;
		__u64 ns;
		double work;

		snprintf(name, sizeof(name), "%s-%zuk-qd%u%s%s", job->op, job->size / 1024,
			 job->qd, *layout ? "-" : "", layout);
		if (only && strcmp(only, name))
			continue;
		printf("IODMA-NVMEBENCH driver=%s job=%s op=%s size=%zu qd=%u layout=%s",
		       label, name, job->op, job->size, job->qd, *layout ? layout : "any");
		if (!buf) {
			printf(" skipped=%s\n", why[job->layout]);
			fflush(stdout);
			continue;
		}
		span_start(&s);
		ret = job->qd > 1 ? run_aio(bfd, job, buf, dsize / 2, ios) :
				    run_sync(bfd, job, buf, dsize / 2, ios);
		ns = now_ns() - s.ns;
		work = span_work(&s);
		why[job->layout] = layout_wrong(buf, job->layout);
		if (why[job->layout]) {
			printf(" error=%s\n", why[job->layout]);
			ret = -1;
			break;
		}
		printf(" ios=%u ns=%llu work=%.0f\n", ios, ns / ios, work / ios);
		fflush(stdout);
	}
	stop_spinners();
	close(bfd);
	return ret ? 1 : 0;
}

static void print_usage(FILE *f)
{
	fprintf(f, "usage: iodma_nvme_tool -d DEVICE [-s SEED]\n"
		"       iodma_nvme_tool -B LABEL -d DEVICE [-n IOS] [-j JOB] [-S]\n"
		"  the KTAP suite iodma_nvme_e2e on stdout; the extents written and the seed\n"
		"  as '# extent OFFSET LENGTH' and '# seed SEED' lines\n"
		"  -B: the benchmark, IODMA-NVMEBENCH driver=LABEL lines (make nvme-bench);\n"
		"      -j: only the job JOB (randread-4k-qd1, ..., read-128k-qd1-contig,\n"
		"          write-128k-qd1-scatter);\n"
		"      -S: no spinners (the work figures are then meaningless)\n");
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 512, 1024, 4096, 8192, 12288, 65536, 131072,
					524288, MiB, MAX_IO };
	static const size_t aligned[][2] = { { 0, 4096 }, { 0, 4096 }, { 0, 4096 } };
	static const size_t small[][2] = { { 512, 512 }, { 1024, 512 }, { 2048, 1024 },
					   { 3584, 512 } };
	static const size_t mixed[][2] = { { 4, 1024 }, { 0, 3072 }, { 2048, 512 },
					   { 8, 8192 } };
	static const size_t crossing[][2] = { { 4, 4096 }, { 4, 4096 }, { 4, 4096 },
					      { 4, 4096 }, { 4, 4096 }, { 4, 4096 } };
	size_t offs[5];
	const char *dev = NULL, *label = NULL, *only = NULL;
	bool spinners = true;
	unsigned int ios = 1000;
	unsigned int noffs = 0, planned, i, j;
	__u8 *wbuf, *rbuf;
	struct stat st;
	int opt;

	while ((opt = getopt(argc, argv, "B:d:j:n:s:Sh")) != -1) {
		switch (opt) {
		case 'j':
			only = optarg;
			break;
		case 'S':
			spinners = false;
			break;
		case 'B':
			label = optarg;
			break;
		case 'n':
			ios = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			dev = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (!dev || !ios) {
		print_usage(stderr);
		return 2;
	}
	if (label)
		return bench(dev, label, ios, only, spinners);
	printf("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: iodma_nvme_e2e\n");
	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		dev_size = st.st_size;	/* a file: for trying the tool on the host */
	else if (fd >= 0 && ioctl(fd, BLKGETSIZE64, &dev_size))
		dev_size = 0;
	if (fd < 0 || !dev_size) {
		diag("%s: %s", dev, strerror(errno));
		printf("    1..1\n    not ok 1 open_device\nnot ok 1 iodma_nvme_e2e\n");
		return 1;
	}
	dma_align = queue_attr(dev, "dma_alignment", 511);
	max_io = queue_attr(dev, "max_hw_sectors_kb", MAX_IO / 1024) * 1024ULL;
	diag("seed %llu", seed);
	diag("device %s, %llu bytes, dma_alignment %u, max_hw_sectors_kb %llu",
	     dev, dev_size, dma_align, max_io / 1024);

	/* buffer offsets: aligned, a sector in, and as low as the queue allows */
	offs[noffs++] = 0;
	offs[noffs++] = 512;
	if (dma_align < 4) {
		offs[noffs++] = 4;
		offs[noffs++] = PAGE - 4;
	}
	if (dma_align < 2)
		offs[noffs++] = 2;
	wbuf = map_buffer(MAX_IO + 64 * PAGE);
	rbuf = map_buffer(MAX_IO + 64 * PAGE);
	/* rw pairs, writev/readv pairs, refusals, parallel, flushes, whole disk */
	planned = 2 * noffs * ARRAY_SIZE(sizes) + 2 * (dma_align < 4 ? 4 : 2) +
		  2 + 1 + 2 + 1;
	printf("    1..%u\n", planned);

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		for (j = 0; j < noffs; j++)
			test_rw(wbuf, rbuf, sizes[i], offs[j], (i + j) % 2 ? 512 : 0);
	test_vec("aligned_pages", wbuf, rbuf, 3, aligned);
	test_vec("sectors_in_separate_pages", wbuf, rbuf, 4, small);
	if (dma_align < 4) {
		test_vec("mixed_dword_offsets", wbuf, rbuf, 4, mixed);
		test_vec("page_crossing", wbuf, rbuf, 6, crossing);
	}
	test_refused(wbuf, 512, 1, "misaligned_buffer_refused");
	test_refused(wbuf, 100, 0, "partial_block_refused");
	test_parallel();
	errno = 0;
	result(fdatasync(fd) == 0, "fdatasync # errno %d", errno);
	errno = 0;
	result(ioctl(fd, BLKFLSBUF, 0) == 0, "blkflsbuf # errno %d", errno);
	test_whole_disk(rbuf);

	if (ntests != planned) {
		diag("%u tests ran, %u planned", ntests, planned);
		nfailed++;
	}
	printf("%s 1 iodma_nvme_e2e\n", nfailed ? "not ok" : "ok");
	fprintf(stderr, "iodma_nvme_tool: %u tests, %u failed, %u extents\n", ntests, nfailed,
		nr_extents);
	close(fd);
	return nfailed ? 1 : 0;
}
