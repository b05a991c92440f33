/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the iodma KUnit suites: test devices and managed
 * objects, a fake device that performs DMA through emitted addresses, the
 * invariant checkers of design.rst, and the accessors through which the
 * suites read iodma's internal state.  Every suite uses these instead of
 * its own copies, and reads no member of struct iodma_cmd, iodma_md or
 * iodma_pool itself: a change to those structures touches helpers.c only.
 *
 * Case names: no suite prefix.  KUnit prints the suite (iodma_<concept>)
 * with every result, so a case is named for the one behaviour it checks, as
 * a sentence: the call or object it is about, the condition, the outcome
 * (set_md_while_prepared_returns_ebusy, pool_put_twice_returns_einval,
 * md_prepare_nests).  A table is one KUNIT_ARRAY_PARAM case named for what
 * every row checks; the rows are named for their input.
 */
#ifndef _IODMA_KUNIT_H
#define _IODMA_KUNIT_H

#include <kunit/test.h>
#include "../src/iodma_internal.h"

/* A name no other object of the module has: @prefix and a serial number (kunit-managed). */
const char *iodma_test_name(struct kunit *test, const char *prefix);

/* A dma-direct device (kunit bus) with a @bits-bit DMA mask. */
struct device *iodma_test_dev(struct kunit *test, unsigned int bits);
/* QEMU's edu PCI device, or the test is skipped with a reason. */
struct device *iodma_test_edu_dev(struct kunit *test);
/* The device the data tests run on: edu behind an IOMMU if present, else a kunit device. */
struct device *iodma_test_data_dev(struct kunit *test);

/*
 * Objects released when the test ends.  Each asserts that creation worked;
 * the _own_ ones adopt an object made some other way (a clone, a command
 * in a domain, pages allocated on a condition).
 */
struct iodma_cmd *iodma_test_cmd(struct kunit *test, struct device *dev,
				 const struct iodma_spec *spec);
struct iodma_cmd *iodma_test_own_cmd(struct kunit *test, struct iodma_cmd *cmd);
struct iodma_md *iodma_test_md(struct kunit *test, struct iodma_md *md);
/* A pool of @count commands under a name of its own. */
struct iodma_pool *iodma_test_pool(struct kunit *test, struct device *dev,
				   const struct iodma_spec *spec, unsigned int count);
/* 2^@order physically contiguous zeroed pages, naturally aligned. */
struct page *iodma_test_pages(struct kunit *test, unsigned int order);
struct page *iodma_test_own_pages(struct kunit *test, struct page *page, unsigned int order);
/* @len zeroed bytes of vmalloc memory. */
void *iodma_test_vzalloc(struct kunit *test, size_t len);
/* An sg_table of @nents entries, to be filled by the caller. */
struct sg_table *iodma_test_sgtable(struct kunit *test, unsigned int nents);

/* A buffer of @len bytes filled with a pattern derived from @seed. */
void iodma_test_fill(void *buf, size_t len, u32 seed);

/* Segment @i of @raw, in @cmd's output format, as 64-bit host values. */
void iodma_test_seg_decode(const struct iodma_cmd *cmd, const void *raw, u32 i,
			   struct iodma_seg64 *out);

/*
 * Generate every segment of the prepared range, @cap per call, as 64-bit host
 * values.  Returns the count (the array is kunit-managed) or a negative errno.
 */
int iodma_test_segments(struct kunit *test, struct iodma_cmd *cmd, u32 cap,
			struct iodma_seg64 **segs);
/* Invariant 2: every segment obeys the spec and they cover the range once. */
void iodma_test_check_invariants(struct kunit *test, struct iodma_cmd *cmd,
				 const struct iodma_seg64 *segs, int n);

/*
 * The fake device: copy @len bytes between @buf and the memory behind the
 * segments, translating bus addresses back to physical (IOMMU or direct).
 * @to_memory true is a device write (DMA_FROM_DEVICE).
 */
void iodma_test_device_dma(struct kunit *test, struct device *dev,
			   const struct iodma_seg64 *segs, int n, void *buf, bool to_memory);

/*
 * iodma's failure points (debugfs iodma/fail): fail the @nth from now on,
 * once, until the test ends or iodma_test_fail_disarm(), which returns 1 if
 * the armed point was never reached.
 */
void iodma_test_fail_nth(struct kunit *test, unsigned int nth);
unsigned int iodma_test_fail_disarm(void);

/* Internal state, read through these only. */
unsigned int iodma_test_md_refs(struct iodma_md *md);
int iodma_test_md_wired(struct iodma_md *md);
struct page **iodma_test_md_pinned(struct iodma_md *md);
unsigned long iodma_test_md_user_npages(struct iodma_md *md);

unsigned int iodma_test_nesting(const struct iodma_cmd *cmd);
enum iodma_bounce_reason iodma_test_bounce(const struct iodma_cmd *cmd);
enum iodma_src_kind iodma_test_src(const struct iodma_cmd *cmd);
bool iodma_test_ranges_mapped(const struct iodma_cmd *cmd);
bool iodma_test_range_ram(const struct iodma_cmd *cmd, unsigned int i);
struct iodma_md *iodma_test_cbuf_md(const struct iodma_cmd *cmd);
const struct iodma_cbuf_chunk *iodma_test_cbuf_chunk(const struct iodma_cmd *cmd,
						     unsigned int i);
struct sg_table *iodma_test_view(struct iodma_cmd *cmd);
unsigned int iodma_test_view_cap(const struct iodma_cmd *cmd);
u64 iodma_test_cursor_steps(const struct iodma_cmd *cmd);
const struct iodma_map_ops *iodma_test_backend(const struct iodma_cmd *cmd);
struct iodma_domain *iodma_test_cmd_domain(const struct iodma_cmd *cmd);
/* Make the command's cached largest mapping @max bytes (a stale cache). */
void iodma_test_set_map_max(struct iodma_cmd *cmd, u64 max);
/* gen's plain path on (the default for a plain spec) or off (the general path). */
void iodma_test_set_plain(struct iodma_cmd *cmd, bool plain);
/* The prepared command's reach: the last bus address gen lets a segment touch. */
void iodma_test_set_reach(struct iodma_cmd *cmd, u64 last);
void iodma_test_set_spec_limit(struct iodma_cmd *cmd, u64 last);
u64 iodma_test_splits(const struct iodma_cmd *cmd);
u64 iodma_test_set_block(struct iodma_cmd *cmd, u64 block);
bool iodma_test_set_shortcut(struct iodma_cmd *cmd, bool on);

#endif /* _IODMA_KUNIT_H */
