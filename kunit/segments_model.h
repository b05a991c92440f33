/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A reference model of segment generation, written from the contract
 * (Documentation/design.rst, "Where splitting happens") and not
 * from src/segments.c: a slow loop that applies the rules of a specification
 * one at a time to the bus ranges of a prepared range.  The same file builds
 * in the KUnit module and in the userspace fuzzer (kunit/segfuzz/), whose
 * linux/types.h is a few typedefs: it uses nothing but u8/u32/u64, bool and
 * the public struct iodma_spec.
 */
#ifndef _IODMA_SEGMENTS_MODEL_H
#define _IODMA_SEGMENTS_MODEL_H

#include <linux/types.h>

/* A bus range: a piece of the prepared range, or an emitted segment. */
struct iodma_model_range {
	u64 addr;
	u64 len;
};

/*
 * The rules of struct iodma_spec as the caller wrote them (0 = the default),
 * plus the device's reach.
 */
struct iodma_model_spec {
	u8 addr_bits;
	bool out32;
	u64 max_segment_size;
	u64 max_transfer_size;
	u64 alignment;
	u64 length_alignment;
	u64 internal_alignment;
	u64 seg_boundary_mask;
	u64 max_segments;
	u64 virt_boundary_mask;
	u64 reach;		/* last address the device reaches; 0 = no limit but addr_bits */
};

/* The rules with their defaults applied. */
struct iodma_model_limits {
	u64 last;		/* last address a segment may touch */
	u64 max_seg;		/* longest segment */
	u64 max_transfer;	/* longest prepared range */
	u64 align;		/* first segment's address */
	u64 len_align;		/* segment length unit, but the last segment's */
	u64 int_align;		/* later segments' address */
	u64 block;		/* boundary + 1, 0 = none */
	u64 max_segs;		/* most segments of a prepared range */
	u64 gap;		/* the gap rule's block (virt_boundary_mask + 1), 0 = none */
};

/* Why a segment cannot be emitted; the values of enum iodma_bounce_reason. */
enum iodma_model_rule {
	IODMA_MODEL_OK,
	IODMA_MODEL_ADDRESS,
	IODMA_MODEL_ALIGNMENT,
	IODMA_MODEL_LENGTH,
	IODMA_MODEL_INTERNAL,
	IODMA_MODEL_FORCED,	/* not a rule of segments: keeps the values equal */
	IODMA_MODEL_SEGMENTS,
	IODMA_MODEL_GAPS,
};

struct iodma_spec;

void iodma_model_spec_of(const struct iodma_spec *spec, u64 reach, struct iodma_model_spec *ms);
void iodma_model_limits(const struct iodma_model_spec *spec, struct iodma_model_limits *m);

enum iodma_model_rule iodma_model_segment(const struct iodma_model_limits *m,
					  const struct iodma_model_range *r, unsigned int n,
					  u64 pos, struct iodma_model_range *seg);

enum iodma_model_rule iodma_model_walk(const struct iodma_model_limits *m,
				       const struct iodma_model_range *r, unsigned int n,
				       u64 start, u64 max_segs, struct iodma_model_range *segs,
				       u64 *nsegs, u64 *bad_off);

enum iodma_model_rule iodma_model_count(const struct iodma_model_limits *m,
					const struct iodma_model_range *r, unsigned int n,
					u64 *nsegs, u64 *bad_off);

const char *iodma_model_check(const struct iodma_model_limits *m,
			      const struct iodma_model_range *segs, u64 nsegs, u64 total,
			      u64 *bad);

const char *iodma_model_spec_infeasible(const struct iodma_model_spec *spec);

#endif /* _IODMA_SEGMENTS_MODEL_H */
