// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: tracepoints.  Probes attached to iodma's tracepoints record one
 * bounced I/O; each record must carry the command, the descriptor's length
 * and direction, the entry or segment count and the bounce reason.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include "iodma_kunit.h"
#include "../src/trace.h"

struct trace_log {
	const struct iodma_cmd *cmd;
	unsigned int set, prepare, bounce_in, bounce_out, gen, complete;
	u64 md_len, prep_len, bytes_in, bytes_out, gen_nsegs;
	int dir, reason, complete_reason;
	unsigned int entries;
};

static void probe_set(void *data, const struct iodma_cmd *cmd, u64 md_len, int dir,
		      bool auto_prepare, int ret)
{
	struct trace_log *l = data;

	if (cmd != l->cmd || ret || !auto_prepare)
		return;
	l->set++;
	l->md_len = md_len;
	l->dir = dir;
}

static void probe_prepare(void *data, const struct iodma_cmd *cmd, u64 offset, u64 length,
			  int dir, unsigned int entries, int reason, int ret)
{
	struct trace_log *l = data;

	if (cmd != l->cmd || ret)
		return;
	l->prepare++;
	l->prep_len = length;
	l->entries = entries;
	l->reason = reason;
}

static void probe_bounce(void *data, const struct iodma_cmd *cmd, int reason, u64 bytes,
			 bool to_device)
{
	struct trace_log *l = data;

	if (cmd != l->cmd)
		return;
	if (to_device) {
		l->bounce_in++;
		l->bytes_in += bytes;
	} else {
		l->bounce_out++;
		l->bytes_out += bytes;
	}
}

static void probe_gen(void *data, const struct iodma_cmd *cmd, u64 offset, u32 nsegs, int ret)
{
	struct trace_log *l = data;

	if (cmd != l->cmd || ret)
		return;
	l->gen++;
	l->gen_nsegs += nsegs;
}

static void probe_complete(void *data, const struct iodma_cmd *cmd, u64 length, int reason,
			   int ret)
{
	struct trace_log *l = data;

	if (cmd != l->cmd)
		return;
	l->complete++;
	l->complete_reason = reason;
}

static void unregister_all(void *data)
{
	unregister_trace_iodma_set_md(probe_set, data);
	unregister_trace_iodma_prepare(probe_prepare, data);
	unregister_trace_iodma_bounce(probe_bounce, data);
	unregister_trace_iodma_gen(probe_gen, data);
	unregister_trace_iodma_complete(probe_complete, data);
	tracepoint_synchronize_unregister();
}

static void tracepoints_record_a_bounced_io(struct kunit *test)
{
	struct iodma_spec spec = { .alignment = 512, .max_segment_size = 4096,
				   .output = IODMA_OUT_HOST64 };
	struct trace_log *l = kunit_kzalloc(test, sizeof(*l), GFP_KERNEL);
	struct iodma_cmd *cmd = iodma_test_cmd(test, iodma_test_dev(test, 64), &spec);
	u8 *mem = kunit_kzalloc(test, SZ_16K, GFP_KERNEL);
	struct iodma_seg64 *segs;
	struct iodma_md *md;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, l);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	l->cmd = cmd;
	md = iodma_test_md(test, iodma_md_from_kva(mem + 8, 10000, DMA_BIDIRECTIONAL));
	KUNIT_ASSERT_EQ(test, register_trace_iodma_set_md(probe_set, l), 0);
	KUNIT_ASSERT_EQ(test, register_trace_iodma_prepare(probe_prepare, l), 0);
	KUNIT_ASSERT_EQ(test, register_trace_iodma_bounce(probe_bounce, l), 0);
	KUNIT_ASSERT_EQ(test, register_trace_iodma_gen(probe_gen, l), 0);
	KUNIT_ASSERT_EQ(test, register_trace_iodma_complete(probe_complete, l), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unregister_all, l), 0);

	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, md, true), 0);
	n = iodma_test_segments(test, cmd, 2, &segs);
	KUNIT_ASSERT_GT(test, n, 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_complete(cmd, true, true), 0);

	KUNIT_EXPECT_EQ(test, l->set, 1U);
	KUNIT_EXPECT_EQ(test, l->md_len, 10000ULL);
	KUNIT_EXPECT_EQ(test, l->dir, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, l->prepare, 1U);
	KUNIT_EXPECT_EQ(test, l->prep_len, 10000ULL);
	KUNIT_EXPECT_GT(test, l->entries, 0U);
	KUNIT_EXPECT_EQ(test, l->reason, IODMA_BOUNCE_ALIGNMENT);
	KUNIT_EXPECT_EQ(test, l->bounce_in, 1U);
	KUNIT_EXPECT_EQ(test, l->bytes_in, 10000ULL);
	KUNIT_EXPECT_EQ(test, l->bounce_out, 1U);
	KUNIT_EXPECT_EQ(test, l->bytes_out, 10000ULL);
	/* capacity 2 per call: the calls and the segments add up */
	KUNIT_EXPECT_EQ(test, l->gen, (unsigned int)DIV_ROUND_UP(n, 2));
	KUNIT_EXPECT_EQ(test, l->gen_nsegs, (u64)n);
	KUNIT_EXPECT_EQ(test, l->complete, 1U);
	KUNIT_EXPECT_EQ(test, l->complete_reason, IODMA_BOUNCE_ALIGNMENT);
}

static struct kunit_case trace_test_cases[] = {
	KUNIT_CASE(tracepoints_record_a_bounced_io),
	{}
};

static struct kunit_suite trace_test_suite = {
	.name = "iodma_trace",
	.test_cases = trace_test_cases,
};

kunit_test_suite(trace_test_suite);
