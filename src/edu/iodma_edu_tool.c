// SPDX-License-Identifier: GPL-2.0-only
/*
 * iodma_edu_tool: copy user buffers through QEMU's edu device with the
 * iodma_edu driver (/dev/iodma-edu<N>) and verify every byte.
 *
 * Default: a seeded, reproducible series of copies with random sizes and
 * offsets (the first ones at the sizes where the device's limits cut: 2048,
 * 4095, 4096, 64 KiB, ...), each destination byte checked, and the bytes
 * around the destination checked untouched; prints transfers, bytes, bytes
 * bounced, throughput and "N passed, N failed".
 *
 * -k: the end-to-end test.  The same random series, then the bad-input and
 * lifetime cases (NULL, unmapped and read-only buffers, bad lengths, a
 * signal, a process killed mid-copy, concurrent copies, module unload and
 * driver unbind while open), printed as the KTAP suite iodma_edu_e2e on
 * stdout; the summaries go to stderr.
 *
 * Built static (gcc -static) so that it runs in the test guest's busybox
 * initramfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <linux/iodma_edu.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define PAGE		4096UL
#define KIB		1024ULL
#define MIB		(1024ULL * 1024)
#define SYSFS_DRIVER	"/sys/bus/pci/drivers/iodma_edu"
#define DEBUGFS_DIR	"/sys/kernel/debug/iodma_edu"

enum result { PASS, FAIL, SKIP };

static const char *dev_path = "/dev/iodma-edu0";
static unsigned int ncopies = 32;
static __u64 seed = 1;
static __u64 max_len = 256 * KIB;
static const char *expect_bounce = "any";
static bool ktap;

/* Totals of a random series. */
struct totals {
	unsigned int passed;
	unsigned int failed;
	__u64 transfers;
	__u64 dma_ops;
	__u64 bytes;
	__u64 bounced;
	double secs;
};

static struct totals series;

/* ---- output ---------------------------------------------------------- */

/* A diagnostic: a KTAP comment inside the suite, or a line on stderr. */
static void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (ktap) {
		fputs("    # ", stdout);
		vfprintf(stdout, fmt, ap);
		fputc('\n', stdout);
		fflush(stdout);
	} else {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static void die(const char *what)
{
	fprintf(stderr, "iodma_edu_tool: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* fork(), without the child inheriting buffered output to print it twice. */
static pid_t fork_flushed(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die("fork");
	return pid;
}

/* ---- random numbers (splitmix64: reproducible from the seed) ------------ */

static __u64 rnd(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_random(__u8 *p, __u64 len, __u64 *state)
{
	__u64 v;

	while (len >= 8) {
		v = rnd(state);
		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	v = rnd(state);
	memcpy(p, &v, len);
}

/* ---- the device ------------------------------------------------------ */

static int edu_open(void)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die(dev_path);
	return fd;
}

/* 0 or -errno; @c holds the request and, after it, the driver's counters. */
static int edu_copy(int fd, void *dst, const void *src, __u64 len, struct iodma_edu_copy *c)
{
	memset(c, 0, sizeof(*c));
	c->src = (uintptr_t)src;
	c->dst = (uintptr_t)dst;
	c->len = len;
	return ioctl(fd, IODMA_EDU_IOC_COPY, c) ? -errno : 0;
}

/* 0 or -errno; @ex holds the request and, after it, iodma's answer. */
static int edu_explain(int fd, const void *addr, __u64 len, __u32 write,
		       struct iodma_edu_explain *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->addr = (uintptr_t)addr;
	ex->len = len;
	ex->write = write;
	return ioctl(fd, IODMA_EDU_IOC_EXPLAIN, ex) ? -errno : 0;
}

static void *map_buf(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *human(__u64 bytes, char *buf, size_t len)
{
	if (bytes >= MIB)
		snprintf(buf, len, "%.2f MiB", (double)bytes / MIB);
	else if (bytes >= KIB)
		snprintf(buf, len, "%.2f KiB", (double)bytes / KIB);
	else
		snprintf(buf, len, "%llu B", bytes);
	return buf;
}

/* The misc device's name ("iodma-edu0") and its PCI device ("0000:00:04.0"). */
static int pci_name_of(const char *path, char *pci, size_t len)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	char *base;

	snprintf(link, sizeof(link), "/sys/class/misc/%s/device", name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(pci, base, strlen(base) + 1);
	return 0;
}

/* A debugfs counter of the device, or -1. */
static long long debugfs_stat(const char *pci, const char *key)
{
	char path[PATH_MAX], line[128];
	long long val = -1;
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), DEBUGFS_DIR "/%s/stats", pci);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':')
			val = strtoll(line + klen + 1, NULL, 10);
	}
	fclose(f);
	return val;
}

/* Pages pinned and not yet unpinned system-wide (FOLL_PIN), from /proc/vmstat. */
static long long pins_outstanding(void)
{
	long long acquired = -1, released = -1, v;
	char name[64];
	FILE *f = fopen("/proc/sys/vm/stat_refresh", "w");

	/* the counters are per-CPU until folded: fold them first */
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			released = v;
	}
	fclose(f);
	return acquired < 0 || released < 0 ? -1 : acquired - released;
}

/* ---- the random series ----------------------------------------------- */

/* Lengths where the device's limits cut: segment, window, page, transfer. */
static const __u64 edge_lengths[] = {
	1, 2, 2047, 2048, 2049, 4095, 4096, 4097, 8190, 64 * KIB - 1, 64 * KIB,
	64 * KIB + 1, 128 * KIB + 1, 256 * KIB,
};

static __u64 pick_len(__u64 *state, unsigned int i, __u64 max)
{
	unsigned int bits = 0;
	__u64 span;

	if (i < ARRAY_SIZE(edge_lengths) && edge_lengths[i] <= max)
		return edge_lengths[i];
	while ((2ULL << bits) <= max)
		bits++;
	/* log-uniform: as many short copies as long ones */
	span = 2ULL << (rnd(state) % (bits + 1));
	if (span > max)
		span = max;
	return 1 + rnd(state) % span;
}

/* Check dst[doff, doff + len) against src and every other byte against @canary. */
static bool verify(const __u8 *dst, size_t dst_size, size_t doff, const __u8 *src,
		   __u64 len, __u8 canary, char *why, size_t wlen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (dst[doff + i] != src[i]) {
			snprintf(why, wlen, "byte %zu is %#04x, expected %#04x", i, dst[doff + i],
				 src[i]);
			return false;
		}
	}
	for (i = 0; i < dst_size; i++) {
		if ((i < doff || i >= doff + len) && dst[i] != canary) {
			snprintf(why, wlen, "byte %zd outside the destination changed",
				 (ssize_t)i - (ssize_t)doff);
			return false;
		}
	}
	return true;
}

static void run_series(int fd, __u64 seed_, unsigned int n, __u64 max, struct totals *t)
{
	size_t size = max + 2 * PAGE;
	__u8 *src = map_buf(size, PROT_READ | PROT_WRITE);
	__u8 *dst = map_buf(size, PROT_READ | PROT_WRITE);
	__u64 state = seed_;
	struct iodma_edu_copy c;
	unsigned int i;
	char why[128];
	double t0;
	int ret;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		__u64 len = pick_len(&state, i, max);
		size_t soff = i < 2 ? 0 : rnd(&state) % PAGE;
		size_t doff = i < 2 ? 0 : rnd(&state) % PAGE;
		__u8 canary = 0xa5 ^ i;

		fill_random(src + soff, len, &state);
		memset(dst, canary, size);
		t0 = now();
		ret = edu_copy(fd, dst + doff, src + soff, len, &c);
		t->secs += now() - t0;
		if (ret) {
			diag("copy %u: %llu bytes, src +%zu, dst +%zu: %s", i, len, soff, doff,
			     strerror(-ret));
			t->failed++;
			continue;
		}
		t->transfers += c.transfers;
		t->dma_ops += c.dma_ops;
		t->bytes += c.done;
		t->bounced += c.bytes_bounced;
		if (c.done != len) {
			diag("copy %u: %llu bytes: done %llu", i, len,
			     (unsigned long long)c.done);
			t->failed++;
		} else if (!verify(dst, size, doff, src + soff, len, canary, why, sizeof(why))) {
			diag("copy %u: %llu bytes, src +%zu, dst +%zu: %s", i, len, soff, doff,
			     why);
			t->failed++;
		} else {
			t->passed++;
		}
	}
	munmap(src, size);
	munmap(dst, size);
}

static void print_totals(FILE *f, const struct totals *t, __u64 seed_, unsigned int n,
			 __u64 max)
{
	char a[32], b[32], c[32];

	fprintf(f, "iodma_edu_tool: %s, seed %llu, %u copies of 1 B .. %s\n", dev_path,
		seed_, n, human(max, a, sizeof(a)));
	fprintf(f, "  transfers %llu, device DMAs %llu, copied %s, bounced %s\n",
		t->transfers, t->dma_ops, human(t->bytes, b, sizeof(b)),
		human(t->bounced, c, sizeof(c)));
	fprintf(f, "  bytes %llu, bytes bounced %llu, throughput %.1f KiB/s (guest clock)\n",
		t->bytes, t->bounced, t->secs > 0 ? t->bytes / KIB / t->secs : 0.0);
	fprintf(f, "%u passed, %u failed\n", t->passed, t->failed);
}

/* ---- end-to-end cases ------------------------------------------------ */

static int fd_main = -1;
static char pci[NAME_MAX + 1];
static long long stat_bytes_before = -1;

static enum result t_random_copies(void)
{
	stat_bytes_before = debugfs_stat(pci, "bytes");
	run_series(fd_main, seed, ncopies, max_len, &series);
	diag("%u copies, seed %llu: %u passed, %u failed", ncopies, seed, series.passed,
	     series.failed);
	diag("%llu bytes, %llu bounced, %llu transfers, %llu device DMAs", series.bytes,
	     series.bounced, series.transfers, series.dma_ops);
	return series.failed || series.passed != ncopies ? FAIL : PASS;
}

/* The explain ioctl foresees what the copies did: bounce for "address" or not at all. */
static enum result t_explain(void)
{
	struct iodma_edu_explain ex = { .len = 64 * KIB };
	char *buf = malloc(64 * KIB);

	if (!buf)
		return FAIL;
	memset(buf, 0x5a, 64 * KIB);
	ex.addr = (uintptr_t)buf;
	if (ioctl(fd_main, IODMA_EDU_IOC_EXPLAIN, &ex)) {
		diag("IODMA_EDU_IOC_EXPLAIN: %s", strerror(errno));
		free(buf);
		return FAIL;
	}
	free(buf);
	diag("explain: reason %u, %llu segments, first bad offset %llu, flags %#x", ex.reason,
	     (unsigned long long)ex.nsegs, (unsigned long long)ex.bad_offset, ex.flags);
	if (!ex.nsegs)
		return FAIL;
	if (!strcmp(expect_bounce, "yes"))
		return ex.reason == 1 ? PASS : FAIL;
	if (!strcmp(expect_bounce, "no"))
		return ex.reason == 0 && (ex.flags & 2) ? PASS : FAIL;
	return SKIP;
}

static enum result t_bounce(void)
{
	diag("bytes bounced %llu, expected %s", series.bounced,
	     !strcmp(expect_bounce, "yes") ? "> 0" : !strcmp(expect_bounce, "no") ? "0" : "any");
	if (!strcmp(expect_bounce, "yes"))
		return series.bounced > 0 ? PASS : FAIL;
	if (!strcmp(expect_bounce, "no"))
		return series.bounced == 0 ? PASS : FAIL;
	return SKIP;
}

static enum result t_debugfs_stats(void)
{
	long long after = debugfs_stat(pci, "bytes");

	if (stat_bytes_before < 0 || after < 0) {
		diag("no %s/%s/stats", DEBUGFS_DIR, pci);
		return SKIP;
	}
	diag("debugfs bytes %lld -> %lld, the series copied %llu", stat_bytes_before, after,
	     series.bytes);
	return (__u64)(after - stat_bytes_before) == series.bytes ? PASS : FAIL;
}

/* One copy that must fail with @want; the destination must stay untouched. */
static enum result expect_errno(const void *src, void *dst, __u64 len, uint32_t flags,
				int want)
{
	struct iodma_edu_copy c = {
		.src = (uintptr_t)src, .dst = (uintptr_t)dst, .len = len, .flags = flags,
	};
	int ret = ioctl(fd_main, IODMA_EDU_IOC_COPY, &c) ? errno : 0;

	diag("src %p dst %p len %llu flags %#x: %s, expected %s", src, dst, len, flags,
	     ret ? strerror(ret) : "success", strerror(want));
	return ret == want ? PASS : FAIL;
}

static __u8 *good_src, *good_dst;	/* 1 MiB each */
#define GOOD_SIZE	MIB

/* An address range that is certainly unmapped. */
static void *unmapped(size_t len)
{
	void *p = map_buf(len, PROT_NONE);

	munmap(p, len);
	return p;
}

static enum result t_null_src(void)
{
	return expect_errno(NULL, good_dst, 4096, 0, EFAULT);
}

static enum result t_null_dst(void)
{
	return expect_errno(good_src, NULL, 4096, 0, EFAULT);
}

static enum result t_unmapped_src(void)
{
	return expect_errno(unmapped(64 * KIB), good_dst, 10000, 0, EFAULT);
}

static enum result t_unmapped_dst(void)
{
	return expect_errno(good_src, unmapped(64 * KIB), 10000, 0, EFAULT);
}

/*
 * A 256 KiB copy whose source has a hole from @hole on.  The driver pins
 * each buffer 128 KiB at a time: the piece with the hole fails (EFAULT)
 * before any of its transfers, and the outputs say that the pieces before
 * it reached the destination, which they did, and that nothing after did.
 */
static enum result partly_unmapped_src(size_t hole, __u64 want_done, __u32 want_transfers)
{
	__u8 *p = map_buf(256 * KIB, PROT_READ | PROT_WRITE);
	__u64 state = seed ^ 0x77;
	struct iodma_edu_copy c;
	enum result r = PASS;
	size_t i;
	int ret;

	fill_random(p, hole, &state);
	munmap(p + hole, 256 * KIB - hole);
	memset(good_dst, 0, 256 * KIB);
	ret = edu_copy(fd_main, good_dst, p, 256 * KIB, &c);
	diag("256 KiB copy, source unmapped after %zu KiB: %s, done %llu, transfers %u",
	     hole / KIB, ret ? strerror(-ret) : "success", (unsigned long long)c.done,
	     c.transfers);
	diag("expected %s, done %llu, transfers %u", strerror(EFAULT),
	     (unsigned long long)want_done, want_transfers);
	if (ret != -EFAULT || c.done != want_done || c.transfers != want_transfers)
		r = FAIL;
	else if (memcmp(good_dst, p, want_done))
		r = FAIL;
	for (i = want_done; i < 256 * KIB && r == PASS; i++)
		if (good_dst[i])
			r = FAIL;
	munmap(p, hole);
	return r;
}

/* The hole starts the second pinned piece: two transfers were done. */
static enum result t_partly_unmapped_src(void)
{
	return partly_unmapped_src(128 * KIB, 128 * KIB, 2);
}

/* The hole is inside the second piece: none of its transfers ran. */
static enum result t_hole_inside_a_piece(void)
{
	return partly_unmapped_src(192 * KIB, 128 * KIB, 2);
}

static enum result t_kernel_address(void)
{
	return expect_errno((void *)0xffff888000000000ULL, good_dst, 4096, 0, EFAULT);
}

static enum result t_zero_length(void)
{
	return expect_errno(good_src, good_dst, 0, 0, EINVAL);
}

static enum result t_too_long(void)
{
	return expect_errno(good_src, good_dst, IODMA_EDU_MAX_LEN + 1, 0, EINVAL);
}

static enum result t_wrapping(void)
{
	return expect_errno((void *)(UINTPTR_MAX - 100), good_dst, 4096, 0, EINVAL);
}

static enum result t_unknown_flags(void)
{
	return expect_errno(good_src, good_dst, 4096, 1, EINVAL);
}

static enum result t_overlapping(void)
{
	return expect_errno(good_src, good_src + 100, 4096, 0, EINVAL);
}

static enum result t_readonly_dst(void)
{
	__u8 *ro = map_buf(64 * KIB, PROT_READ);
	enum result r = expect_errno(good_src, ro, 10000, 0, EFAULT);
	size_t i;

	for (i = 0; i < 64 * KIB; i++) {
		if (ro[i]) {
			diag("the read-only destination changed at %zu", i);
			r = FAIL;
			break;
		}
	}
	munmap(ro, 64 * KIB);
	return r;
}

/* A short copy that must succeed and verify: the driver still works. */
static bool still_works(int fd)
{
	struct iodma_edu_copy c;
	__u64 state = seed ^ 0x5a5a;
	char why[128];
	int ret;

	fill_random(good_src, 12345, &state);
	memset(good_dst, 0x3c, 16384);
	ret = edu_copy(fd, good_dst + 7, good_src, 12345, &c);
	if (ret) {
		diag("check copy: %s", strerror(-ret));
		return false;
	}
	if (!verify(good_dst, 16384, 7, good_src, 12345, 0x3c, why, sizeof(why))) {
		diag("check copy: %s", why);
		return false;
	}
	return true;
}

/* One EXPLAIN that must fail with @want. */
static enum result explain_errno(const char *what, struct iodma_edu_explain ex, int want)
{
	int ret = ioctl(fd_main, IODMA_EDU_IOC_EXPLAIN, &ex) ? errno : 0;

	diag("explain, %s: %s, expected %s", what, ret ? strerror(ret) : "success",
	     strerror(want));
	return ret == want ? PASS : FAIL;
}

/* EXPLAIN's bad inputs: each gives its documented errno. */
static enum result t_explain_bad_inputs(void)
{
	const struct iodma_edu_explain ok = { .addr = (uintptr_t)good_src, .len = 4096 };
	__u8 *ro = map_buf(4096, PROT_READ);
	struct iodma_edu_explain ex;
	unsigned int bad = 0;

	ex = ok;
	ex.len = 0;
	bad += explain_errno("length 0", ex, EINVAL) == FAIL;
	ex = ok;
	ex.len = 64 * KIB + 1;
	bad += explain_errno("length 64 KiB + 1", ex, EINVAL) == FAIL;
	ex = ok;
	ex.write = 2;
	bad += explain_errno("write 2", ex, EINVAL) == FAIL;
	ex = ok;
	ex.reserved = 1;
	bad += explain_errno("reserved 1", ex, EINVAL) == FAIL;
	ex = ok;
	ex.addr = 0;
	bad += explain_errno("NULL address", ex, EFAULT) == FAIL;
	ex = ok;
	ex.addr = (uintptr_t)unmapped(64 * KIB);
	bad += explain_errno("unmapped address", ex, EFAULT) == FAIL;
	ex = ok;
	ex.addr = (uintptr_t)ro;
	ex.write = 1;
	bad += explain_errno("read-only memory, write 1", ex, EFAULT) == FAIL;
	munmap(ro, 4096);
	return bad ? FAIL : PASS;
}

/* The ioctl argument itself NULL or unmapped: EFAULT, for both commands. */
static enum result t_bad_struct_pointer(void)
{
	void *hole = unmapped(PAGE);
	enum result r = PASS;
	unsigned int i;
	int ret[4];

	ret[0] = ioctl(fd_main, IODMA_EDU_IOC_COPY, NULL) ? errno : 0;
	ret[1] = ioctl(fd_main, IODMA_EDU_IOC_COPY, hole) ? errno : 0;
	ret[2] = ioctl(fd_main, IODMA_EDU_IOC_EXPLAIN, NULL) ? errno : 0;
	ret[3] = ioctl(fd_main, IODMA_EDU_IOC_EXPLAIN, hole) ? errno : 0;
	diag("COPY NULL: %s, COPY unmapped: %s; expected %s", strerror(ret[0]),
	     strerror(ret[1]), strerror(EFAULT));
	diag("EXPLAIN NULL: %s, EXPLAIN unmapped: %s; expected %s", strerror(ret[2]),
	     strerror(ret[3]), strerror(EFAULT));
	for (i = 0; i < ARRAY_SIZE(ret); i++)
		if (ret[i] != EFAULT)
			r = FAIL;
	return r;
}

/* Commands the driver does not know: ENOTTY, also for a known number of another size. */
static enum result t_unknown_ioctl(void)
{
	struct iodma_edu_copy c = {};
	int a = ioctl(fd_main, _IOWR(IODMA_EDU_IOC_MAGIC, 0x02, struct iodma_edu_copy), &c) ?
		errno : 0;
	int b = ioctl(fd_main, _IOW(IODMA_EDU_IOC_MAGIC, 0x00, __u64), &c) ? errno : 0;
	int d = ioctl(fd_main, _IO('T', 0x7f)) ? errno : 0;

	diag("command 0x02: %s, command 0x00 of 8 bytes: %s, 'T' 0x7f: %s; expected %s",
	     strerror(a), strerror(b), strerror(d), strerror(ENOTTY));
	return a == ENOTTY && b == ENOTTY && d == ENOTTY ? PASS : FAIL;
}

/* Check that @len bytes at @p are all @val. */
static bool all_bytes(const __u8 *p, size_t len, __u8 val)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != val) {
			diag("byte %zu is %#04x, expected %#04x", i, p[i], val);
			return false;
		}
	}
	return true;
}

/*
 * A source never touched: pinned read-only it is the shared zero page (not
 * a pinned page at all), whose bytes the copy must deliver: zeroes.  Both a
 * writable and a read-only mapping.
 */
static enum result t_untouched_src(void)
{
	const __u64 len = 64 * KIB + 4096;
	int prots[] = { PROT_READ | PROT_WRITE, PROT_READ };
	struct iodma_edu_copy c;
	enum result r = PASS;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(prots); i++) {
		__u8 *src = map_buf(len, prots[i]);

		memset(good_dst, 0xff, len);
		ret = edu_copy(fd_main, good_dst, src, len, &c);
		diag("copy from an untouched %s mapping: %s, done %llu",
		     prots[i] & PROT_WRITE ? "writable" : "read-only",
		     ret ? strerror(-ret) : "success", (unsigned long long)c.done);
		if (ret || c.done != len || !all_bytes(good_dst, len, 0))
			r = FAIL;
		munmap(src, len);
	}
	return r;
}

#define TEST_FILE	"/tmp/iodma-edu-e2e.dat"

/*
 * A file mapped MAP_PRIVATE and PROT_READ: as destination the copy fails
 * with EFAULT and neither the file nor the mapping changes; as source it
 * copies the file's bytes.
 */
static enum result t_private_file_mapping(void)
{
	const size_t len = 64 * KIB;
	__u64 state = seed ^ 0xf11e;
	struct iodma_edu_copy c;
	enum result r = PASS;
	__u8 *pattern, *map, *back;
	int fd, ret;

	pattern = malloc(len);
	back = malloc(len);
	fd = open(TEST_FILE, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!pattern || !back || fd < 0)
		die(TEST_FILE);
	fill_random(pattern, len, &state);
	if (pwrite(fd, pattern, len, 0) != (ssize_t)len)
		die("pwrite");
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		die("mmap " TEST_FILE);

	fill_random(good_src, len, &state);
	ret = edu_copy(fd_main, map, good_src, len, &c);
	diag("copy to a read-only MAP_PRIVATE file mapping: %s, expected %s",
	     ret ? strerror(-ret) : "success", strerror(EFAULT));
	if (ret != -EFAULT)
		r = FAIL;
	if (pread(fd, back, len, 0) != (ssize_t)len || memcmp(back, pattern, len)) {
		diag("the file changed");
		r = FAIL;
	}
	if (memcmp(map, pattern, len)) {
		diag("the mapping changed");
		r = FAIL;
	}

	memset(good_dst, 0, len);
	ret = edu_copy(fd_main, good_dst, map, len, &c);
	diag("copy from it: %s", ret ? strerror(-ret) : "success");
	if (ret || memcmp(good_dst, pattern, len))
		r = FAIL;
	munmap(map, len);
	close(fd);
	unlink(TEST_FILE);
	free(pattern);
	free(back);
	return r;
}

/*
 * One memfd mapped twice, the two mappings source and destination of a
 * copy: distinct addresses, the same pages.  The device reads each window
 * before it writes it back, so the copy succeeds and the bytes stay.
 */
static enum result t_memfd_aliased(void)
{
	const size_t size = 192 * KIB, len = 128 * KIB + 100;
	__u64 state = seed ^ 0xa11a5;
	struct iodma_edu_copy c;
	enum result r = PASS;
	__u8 *a, *b, *pattern;
	int fd, ret;

	fd = memfd_create("iodma-edu-e2e", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, size))
		die("memfd");
	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pattern = malloc(size);
	if (a == MAP_FAILED || b == MAP_FAILED || !pattern)
		die("mmap memfd");
	fill_random(pattern, size, &state);
	memcpy(a, pattern, size);
	ret = edu_copy(fd_main, b, a, len, &c);
	diag("copy between two mappings of one memfd: %s, done %llu",
	     ret ? strerror(-ret) : "success", (unsigned long long)c.done);
	if (ret || c.done != len || memcmp(a, pattern, size))
		r = FAIL;
	munmap(a, size);
	munmap(b, size);
	close(fd);
	free(pattern);
	if (!still_works(fd_main))
		r = FAIL;
	return r;
}

/*
 * A copy while a child makes the device raise its DMA interrupt every 10 ms
 * (debugfs raise_irq): the driver must wait for the engine, not for the
 * interrupt, and the copy must verify.  The driver must also have handled
 * more interrupts than it programmed DMAs, or nothing was injected.
 */
static enum result t_spurious_irq(void)
{
	const __u64 len = 64 * KIB + 333;
	long long irqs_before = debugfs_stat(pci, "irqs"), irqs_after;
	struct iodma_edu_copy c;
	__u64 state = seed ^ 0x1234;
	enum result r = PASS;
	char path[PATH_MAX], why[128];
	int fd, ret, status;
	pid_t pid;

	snprintf(path, sizeof(path), DEBUGFS_DIR "/%s/raise_irq", pci);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || irqs_before < 0) {
		diag("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SKIP;
	}
	pid = fork_flushed();
	if (!pid) {
		for (;;) {
			if (write(fd, "1", 1) != 1)
				_exit(1);
			usleep(10000);
		}
	}
	close(fd);
	fill_random(good_src, len, &state);
	memset(good_dst, 0x6b, len + 100);
	ret = edu_copy(fd_main, good_dst + 50, good_src, len, &c);
	irqs_after = debugfs_stat(pci, "irqs");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	diag("%llu-byte copy under spurious DMA interrupts: %s, %llu device DMAs, %lld interrupts",
	     len, ret ? strerror(-ret) : "success", (unsigned long long)c.dma_ops,
	     irqs_after - irqs_before);
	if (!WIFSIGNALED(status)) {
		diag("the interrupt injector died early (status %#x)", status);
		r = FAIL;
	}
	if (ret || c.done != len) {
		r = FAIL;
	} else if (!verify(good_dst, len + 100, 50, good_src, len, 0x6b, why, sizeof(why))) {
		diag("%s", why);
		r = FAIL;
	}
	if (irqs_after - irqs_before <= (long long)c.dma_ops) {
		diag("no interrupt beyond one per DMA: nothing was injected");
		r = FAIL;
	}
	return r;
}

/* The node is root's and 0600 (the driver says so; see the uapi header). */
static enum result t_node_mode(void)
{
	struct stat st;

	if (stat(dev_path, &st)) {
		diag("stat %s: %s", dev_path, strerror(errno));
		return FAIL;
	}
	diag("%s: mode %04o, uid %u, gid %u; expected 0600, 0, 0", dev_path,
	     (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
	     (unsigned int)st.st_gid);
	return (st.st_mode & 07777) == 0600 && !st.st_uid && !st.st_gid ? PASS : FAIL;
}

/* Drop CAP_SYS_ADMIN from the effective and permitted sets; 0 or -errno. */
static int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/*
 * A file opened without CAP_SYS_ADMIN: EXPLAIN is EPERM and COPY works but
 * reports no bytes_bounced or dma_ops (they would tell the physical layout
 * of the caller's memory).  The same copy on a file opened with it reports
 * its DMAs.  Child exit codes: 1 explain, 2 copy, 3 counters, 4 data.
 */
static enum result t_detail_needs_cap(void)
{
	const __u64 len = 12345;
	struct iodma_edu_copy c;
	__u64 state = seed ^ 0xcafe;
	int ret, status;
	pid_t pid;

	pid = fork_flushed();
	if (!pid) {
		struct iodma_edu_explain ex;
		char why[128];
		int fd;

		if (drop_cap_sys_admin())
			_exit(10);
		fd = edu_open();
		ret = edu_explain(fd, good_src, 4096, 0, &ex);
		if (ret != -EPERM)
			_exit(1);
		fill_random(good_src, len, &state);
		memset(good_dst, 0x3c, 16384);
		if (edu_copy(fd, good_dst + 7, good_src, len, &c) || c.done != len)
			_exit(2);
		if (c.dma_ops || c.bytes_bounced)
			_exit(3);
		_exit(verify(good_dst, 16384, 7, good_src, len, 0x3c, why, sizeof(why)) ? 0 : 4);
	}
	waitpid(pid, &status, 0);
	ret = edu_copy(fd_main, good_dst, good_src, len, &c);
	diag("without CAP_SYS_ADMIN: child status %#x, expected 0; with it: %s, %llu DMAs",
	     status, ret ? strerror(-ret) : "success", (unsigned long long)c.dma_ops);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return FAIL;
	return !ret && c.dma_ops > 0 ? PASS : FAIL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A long copy interrupted by a signal: EINTR, what was reported done is
 * there, and the rest of the destination holds nothing but its old content
 * or the source's bytes (never someone else's memory).
 */
static enum result t_signal(void)
{
	const __u64 len = 4 * MIB;
	__u8 *src = map_buf(len, PROT_READ | PROT_WRITE);
	__u8 *dst = map_buf(len, PROT_READ | PROT_WRITE);
	struct itimerval it = { .it_value = { .tv_sec = 1 } }, off = {};
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct iodma_edu_copy c;
	enum result r = PASS;
	__u64 state = seed, i;
	int ret;

	fill_random(src, len, &state);
	memset(dst, 0xc3, len);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	ret = edu_copy(fd_main, dst, src, len, &c);
	diag("4 MiB copy, SIGALRM after 1 s: %s, done %llu", ret ? strerror(-ret) : "success",
	     (unsigned long long)c.done);
	if (ret != -EINTR || c.done >= len)
		r = FAIL;
	for (i = 0; i < len && r == PASS; i++) {
		if (i < c.done ? dst[i] != src[i] : dst[i] != 0xc3 && dst[i] != src[i]) {
			diag("destination byte %llu is %#04x (source %#04x)", i, dst[i],
			     src[i]);
			r = FAIL;
		}
	}
	/* a copy that ended early leaves the timer armed: disarm it first */
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);
	munmap(src, len);
	munmap(dst, len);
	if (!still_works(fd_main))
		r = FAIL;
	return r;
}

/*
 * A child runs a long copy that must end with -@expect_err; returns its pid
 * once the child is about to enter the ioctl, plus 300 ms.
 */
static pid_t start_long_copy(int expect_err)
{
	int ready[2];
	pid_t pid;
	char x;

	if (pipe(ready))
		die("pipe");
	pid = fork_flushed();
	if (!pid) {
		const __u64 len = 4 * MIB;
		__u8 *src = map_buf(len, PROT_READ | PROT_WRITE);
		__u8 *dst = map_buf(len, PROT_READ | PROT_WRITE);
		struct iodma_edu_copy c;
		int fd = edu_open();

		memset(src, 0x11, len);
		memset(dst, 0x22, len);
		close(ready[0]);
		if (write(ready[1], "", 1) != 1)
			_exit(3);
		_exit(edu_copy(fd, dst, src, len, &c) == -expect_err ? 0 : 1);
	}
	close(ready[1]);
	if (read(ready[0], &x, 1) != 1)
		diag("the child died before its copy");
	close(ready[0]);
	usleep(300000);
	return pid;
}

/*
 * A signal while the copy waits for a request slot (four children's long
 * copies hold all four), before anything was done, to a handler without
 * SA_RESTART: EINTR, and the output fields written back zeroed (not left
 * as the caller set them), the inputs unchanged.
 */
static enum result t_eintr_nothing_done(void)
{
	struct itimerval it = { .it_value = { .tv_usec = 300000 } }, off = {};
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct iodma_edu_copy c = {
		.src = (uintptr_t)good_src, .dst = (uintptr_t)good_dst, .len = 4096,
		.transfers = 77, .done = 12345, .bytes_bounced = 6789, .dma_ops = 42,
	};
	enum result r = PASS;
	pid_t pids[4];
	unsigned int i;
	int ret, status;

	for (i = 0; i < ARRAY_SIZE(pids); i++)
		pids[i] = start_long_copy(0);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	ret = ioctl(fd_main, IODMA_EDU_IOC_COPY, &c) ? errno : 0;
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);
	for (i = 0; i < ARRAY_SIZE(pids); i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &status, 0);
	}
	diag("copy waiting for a slot, SIGALRM: %s, expected %s", ret ? strerror(ret) : "success",
	     strerror(EINTR));
	diag("outputs: transfers %u done %llu bytes_bounced %llu dma_ops %llu, expected all 0",
	     c.transfers, (unsigned long long)c.done, (unsigned long long)c.bytes_bounced,
	     (unsigned long long)c.dma_ops);
	if (ret != EINTR || c.transfers || c.done || c.bytes_bounced || c.dma_ops)
		r = FAIL;
	if (c.src != (uintptr_t)good_src || c.dst != (uintptr_t)good_dst || c.len != 4096 ||
	    c.flags)
		r = FAIL;
	if (!still_works(fd_main))
		r = FAIL;
	return r;
}

static enum result t_exit_mid_transfer(void)
{
	pid_t pid = start_long_copy(0);
	enum result r = PASS;
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		diag("child killed by SIGKILL during a 4 MiB copy");
	} else {
		diag("child was not killed mid-copy (status %#x)", status);
		r = FAIL;
	}
	if (!still_works(fd_main))
		r = FAIL;
	return r;
}

static enum result t_concurrent(void)
{
	const unsigned int nchild = 3;
	enum result r = PASS;
	pid_t pids[3];
	unsigned int i;
	int status;

	for (i = 0; i < nchild; i++) {
		pids[i] = fork_flushed();
		if (!pids[i]) {
			struct totals t;
			int fd = edu_open();

			run_series(fd, seed + 1000 + i, 6, 64 * KIB, &t);
			_exit(t.failed || t.passed != 6);
		}
	}
	for (i = 0; i < nchild; i++) {
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			diag("child %u: status %#x", i, status);
			r = FAIL;
		}
	}
	diag("%u processes x 6 copies, each verified", nchild);
	return r;
}

static enum result t_unload_while_open(void)
{
	int ret = syscall(SYS_delete_module, "iodma_edu", O_NONBLOCK) ? errno : 0;

	diag("delete_module(iodma_edu) with the device open: %s",
	     ret ? strerror(ret) : "unloaded!");
	if (!ret)
		return FAIL;
	return (ret == EBUSY || ret == EWOULDBLOCK) && still_works(fd_main) ? PASS : FAIL;
}

/* Write @val to the file @path; 0 or -errno. */
static int write_str(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int sysfs_write(const char *file, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYSFS_DRIVER "/%s", file);
	return write_str(path, val);
}

/* Bind the device again and reopen it (its misc name may change). */
static bool rebind(void)
{
	static char path[PATH_MAX];
	char dir[PATH_MAX];
	struct dirent *de;
	int ret = sysfs_write("bind", pci);
	DIR *d;

	if (ret) {
		diag("bind %s: %s", pci, strerror(-ret));
		return false;
	}
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/misc", pci);
	d = opendir(dir);
	while (d && (de = readdir(d)) && de->d_name[0] == '.')
		;
	if (!d || !de) {
		diag("no misc device in %s after bind", dir);
		if (d)
			closedir(d);
		return false;
	}
	snprintf(path, sizeof(path), "/dev/%s", de->d_name);
	closedir(d);
	dev_path = path;
	if (fd_main >= 0)
		close(fd_main);
	fd_main = edu_open();
	return true;
}

static enum result t_unbind_while_open(void)
{
	struct iodma_edu_explain ex;
	struct iodma_edu_copy c;
	enum result r = PASS;
	int ret;

	ret = sysfs_write("unbind", pci);
	if (ret) {
		diag("unbind %s: %s", pci, strerror(-ret));
		return FAIL;
	}
	ret = edu_copy(fd_main, good_dst, good_src, 4096, &c);
	diag("copy on a file opened before the unbind: %s, expected %s",
	     ret ? strerror(-ret) : "success", strerror(ENODEV));
	if (ret != -ENODEV)
		r = FAIL;
	/* the slots' commands are gone with the device: EXPLAIN must not use them */
	ret = edu_explain(fd_main, good_src, 64 * KIB, 0, &ex);
	diag("explain on a file opened before the unbind: %s, expected %s",
	     ret ? strerror(-ret) : "success", strerror(ENODEV));
	if (ret != -ENODEV)
		r = FAIL;
	if (!rebind() || !still_works(fd_main))
		r = FAIL;
	return r;
}

/* Write @val to the device's debugfs file @name; 0 or -errno. */
static int debugfs_write(const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), DEBUGFS_DIR "/%s/%s", pci, name);
	return write_str(path, val);
}

/*
 * An engine that never finishes a DMA (debugfs engine_stuck): that copy
 * fails with EIO after the driver's timeout and keeps its memory pinned
 * (the engine could still write it); every later COPY and EXPLAIN fails
 * with EIO at once, without waiting for a slot; an unbind gives the
 * memory back (checked by pinned_pages_all_released) and a rebind a
 * working device.
 */
static enum result t_stuck_engine(void)
{
	struct iodma_edu_explain ex;
	struct iodma_edu_copy c;
	enum result r = PASS;
	long long pins;
	int ret;

	ret = debugfs_write("engine_stuck", "Y");
	if (ret) {
		diag("%s/%s/engine_stuck: %s", DEBUGFS_DIR, pci, strerror(-ret));
		return SKIP;
	}
	pins = pins_outstanding();
	ret = edu_copy(fd_main, good_dst, good_src, 4096, &c);
	pins = pins_outstanding() - pins;
	debugfs_write("engine_stuck", "N");
	diag("copy on a stuck engine: %s, expected %s; %lld more pages pinned, expected 2",
	     ret ? strerror(-ret) : "success", strerror(EIO), pins);
	if (ret != -EIO || pins != 2)
		r = FAIL;
	ret = edu_copy(fd_main, good_dst, good_src, 4096, &c);
	diag("copy once the engine is broken: %s, expected %s", ret ? strerror(-ret) : "success",
	     strerror(EIO));
	if (ret != -EIO)
		r = FAIL;
	ret = edu_explain(fd_main, good_src, 4096, 0, &ex);
	diag("explain once the engine is broken: %s, expected %s",
	     ret ? strerror(-ret) : "success", strerror(EIO));
	if (ret != -EIO)
		r = FAIL;
	ret = sysfs_write("unbind", pci);
	if (ret) {
		diag("unbind %s: %s", pci, strerror(-ret));
		r = FAIL;
	}
	if (!rebind() || !still_works(fd_main))
		r = FAIL;
	return r;
}

static enum result t_unbind_during_copy(void)
{
	pid_t pid = start_long_copy(ENODEV);
	enum result r = PASS;
	int status, ret;

	ret = sysfs_write("unbind", pci);
	if (ret) {
		diag("unbind %s: %s", pci, strerror(-ret));
		r = FAIL;
	}
	waitpid(pid, &status, 0);
	diag("4 MiB copy during the unbind: child status %#x (0: ENODEV as expected)", status);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		r = FAIL;
	if (!rebind() || !still_works(fd_main))
		r = FAIL;
	return r;
}

static enum result t_still_works(void)
{
	struct totals t;

	run_series(fd_main, seed + 1, 8, 64 * KIB, &t);
	diag("8 more copies after the cases above: %u passed, %u failed", t.passed, t.failed);
	return t.failed || t.passed != 8 ? FAIL : PASS;
}

static long long pins_at_start = -1;

/* Every path (errors, signals, a killed process, unbind) gave its pins back. */
static enum result t_pins_released(void)
{
	long long now = pins_outstanding();

	diag("pinned pages outstanding: %lld at start, %lld now", pins_at_start, now);
	if (pins_at_start < 0 || now < 0)
		return SKIP;
	return now == pins_at_start ? PASS : FAIL;
}

struct e2e_case {
	const char *name;
	enum result (*fn)(void);
};

static const struct e2e_case cases[] = {
	{ "random_copies_verified", t_random_copies },
	{ "bytes_bounced_as_expected", t_bounce },
	{ "explain_foresees_the_bounce", t_explain },
	{ "debugfs_bytes_match", t_debugfs_stats },
	{ "null_src_is_efault", t_null_src },
	{ "null_dst_is_efault", t_null_dst },
	{ "unmapped_src_is_efault", t_unmapped_src },
	{ "unmapped_dst_is_efault", t_unmapped_dst },
	{ "partly_unmapped_src_is_efault_with_done", t_partly_unmapped_src },
	{ "hole_inside_a_pinned_piece_fails_before_its_transfers", t_hole_inside_a_piece },
	{ "kernel_address_is_efault", t_kernel_address },
	{ "readonly_dst_is_efault", t_readonly_dst },
	{ "zero_length_is_einval", t_zero_length },
	{ "length_above_limit_is_einval", t_too_long },
	{ "wrapping_range_is_einval", t_wrapping },
	{ "unknown_flags_is_einval", t_unknown_flags },
	{ "overlapping_buffers_is_einval", t_overlapping },
	{ "explain_bad_inputs_give_their_errnos", t_explain_bad_inputs },
	{ "null_or_unmapped_request_is_efault", t_bad_struct_pointer },
	{ "unknown_ioctl_is_enotty", t_unknown_ioctl },
	{ "untouched_src_copies_zeroes", t_untouched_src },
	{ "private_file_mapping_dst_efault_src_ok", t_private_file_mapping },
	{ "memfd_mapped_twice_src_dst_ok", t_memfd_aliased },
	{ "device_node_is_0600_root", t_node_mode },
	{ "explain_and_counters_need_cap_sys_admin", t_detail_needs_cap },
	{ "signal_interrupts_copy", t_signal },
	{ "spurious_irq_copy_verified", t_spurious_irq },
	{ "process_killed_mid_copy", t_exit_mid_transfer },
	{ "eintr_with_nothing_done_zeroes_outputs", t_eintr_nothing_done },
	{ "concurrent_copies_verified", t_concurrent },
	{ "module_unload_while_open_refused", t_unload_while_open },
	{ "unbind_while_open_gives_enodev", t_unbind_while_open },
	{ "unbind_during_copy_then_rebind", t_unbind_during_copy },
	{ "stuck_engine_gives_eio_until_rebind", t_stuck_engine },
	{ "driver_works_after_all_cases", t_still_works },
	{ "pinned_pages_all_released", t_pins_released },
};

static int run_e2e(void)
{
	unsigned int n = ARRAY_SIZE(cases), i;
	unsigned int passed = 0, failed = 0, skipped = 0;
	int ret;

	pins_at_start = pins_outstanding();

	fd_main = edu_open();
	ret = pci_name_of(dev_path, pci, sizeof(pci));
	if (ret)
		snprintf(pci, sizeof(pci), "unknown");
	good_src = map_buf(GOOD_SIZE, PROT_READ | PROT_WRITE);
	good_dst = map_buf(GOOD_SIZE, PROT_READ | PROT_WRITE);

	printf("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: iodma_edu_e2e\n"
	       "    1..%u\n", n);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		enum result r = cases[i].fn();

		diag("after %s: %lld pinned pages outstanding", cases[i].name, pins_outstanding());

		const char *directive = r == SKIP ? " # SKIP" : "";

		printf("    %s %u %s%s\n", r == FAIL ? "not ok" : "ok", i + 1, cases[i].name,
		       directive);
		fflush(stdout);
		passed += r == PASS;
		failed += r == FAIL;
		skipped += r == SKIP;
	}
	printf("%s 1 iodma_edu_e2e\n", failed ? "not ok" : "ok");
	fflush(stdout);

	print_totals(stderr, &series, seed, ncopies, max_len);
	fprintf(stderr, "iodma_edu_e2e on %s (%s): %u passed, %u failed, %u skipped\n",
		pci, dev_path, passed, failed, skipped);
	return failed ? 1 : 0;
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"Usage: iodma_edu_tool [-d DEV] [-n COUNT] [-s SEED] [-m MAXLEN] [-b yes|no|any] [-k]\n"
		"  Copy random buffers through the edu device and verify every byte.\n"
		"  -d DEV     device (default /dev/iodma-edu0)\n"
		"  -n COUNT   copies (default 32)\n"
		"  -s SEED    random seed (default 1)\n"
		"  -m MAXLEN  longest copy in bytes, suffix k or m (default 256k)\n"
		"  -b WHAT    -k: expect bytes bounced > 0 (yes), == 0 (no) or any (default)\n"
		"  -k         end-to-end test: KTAP suite iodma_edu_e2e on stdout\n"
		"  -h         this help\n");
}

static __u64 parse_size(const char *s)
{
	char *end;
	__u64 v = strtoull(s, &end, 0);

	if (*end == 'k' || *end == 'K')
		v *= KIB;
	else if (*end == 'm' || *end == 'M')
		v *= MIB;
	return v;
}

int main(int argc, char **argv)
{
	int opt, fd;

	while ((opt = getopt(argc, argv, "d:n:s:m:b:kh")) != -1) {
		switch (opt) {
		case 'd':
			dev_path = optarg;
			break;
		case 'n':
			ncopies = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			max_len = parse_size(optarg);
			break;
		case 'b':
			expect_bounce = optarg;
			break;
		case 'k':
			ktap = true;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (!max_len || max_len > IODMA_EDU_MAX_LEN || !ncopies ||
	    (strcmp(expect_bounce, "yes") && strcmp(expect_bounce, "no") &&
	     strcmp(expect_bounce, "any"))) {
		print_usage(stderr);
		return 2;
	}
	if (ktap)
		return run_e2e();

	fd = edu_open();
	run_series(fd, seed, ncopies, max_len, &series);
	print_totals(stdout, &series, seed, ncopies, max_len);
	close(fd);
	return series.failed ? 1 : 0;
}
