/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the iodma KUnit suites: test devices, a fake device that
 * performs DMA through emitted addresses, and the invariant checkers of
 * DESIGN.md.  Every suite uses these instead of its own copies.
 */
#ifndef _IODMA_KUNIT_H
#define _IODMA_KUNIT_H

#include <kunit/test.h>
#include "../src/iodma_internal.h"

/* A dma-direct device (kunit bus) with a @bits-bit DMA mask. */
struct device *iodma_test_dev(struct kunit *test, unsigned int bits);
/* QEMU's edu PCI device, or the test is skipped with a reason. */
struct device *iodma_test_edu_dev(struct kunit *test);
/* The device the data tests run on: edu behind an IOMMU if present, else a kunit device. */
struct device *iodma_test_data_dev(struct kunit *test);

/* A command destroyed when the test ends; asserts that creation worked. */
struct iodma_cmd *iodma_test_cmd(struct kunit *test, struct device *dev,
				 const struct iodma_spec *spec);
/* A descriptor put when the test ends; asserts that creation worked. */
struct iodma_md *iodma_test_md(struct kunit *test, struct iodma_md *md);

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

#endif /* _IODMA_KUNIT_H */
