// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: iodma's segments against the reference model (segments_model.c)
 * on real memory.  Random specifications, descriptors of every kind of CPU
 * memory (kmalloc, scattered pages, vmalloc, sub-ranges and concatenations)
 * and prepared ranges; the physical layout of each is computed here, page
 * by page, independently of iodma's walk, and given to the model.
 *
 * Iterate-only commands must emit exactly the model's segments, and fail gen
 * where the model finds a broken rule.  Bypassed and mapped commands (on the
 * kunit device: dma-direct) must emit the model's segments where it finds
 * none, and bounce for the rule it names where it finds one; the bounced
 * segments must then meet every rule.  The seed is fixed and printed with
 * the case on a failure.
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include "iodma_kunit.h"
#include "segments_model.h"

#define MODEL_SEED	0x5e9d0de1u
#define MODEL_CASES	700
#define BLOCK_ORDER	3
#define MAX_PARTS	3
#define MAX_RANGES	(MAX_PARTS * ((1 << BLOCK_ORDER) + 2))
#define MAX_SEGS	1024

/* One descriptor of CPU memory and its physical layout. */
struct model_part {
	void *kbuf;			/* kmalloc */
	void *vbuf;			/* vmalloc */
	struct page *block;		/* 2^BLOCK_ORDER pages, handed out scattered */
	struct iodma_md *md;
	struct iodma_model_range phys[MAX_RANGES];
	unsigned int nphys;
};

struct model_case {
	struct kunit *test;
	struct rnd_state rnd;
	u32 seed;
	u32 index;
	u32 matched, refused, bounced;	/* what the cases came to */
	struct iodma_spec spec;
	struct iodma_model_limits m;
	struct model_part parts[MAX_PARTS];
	unsigned int nparts;
	struct iodma_md *md;
	struct iodma_model_range phys[MAX_RANGES];	/* the descriptor's layout */
	unsigned int nphys;
	struct iodma_model_range view[MAX_RANGES];	/* the prepared range's */
	unsigned int nview;
	u64 off, len;
	struct iodma_model_range want[MAX_SEGS];
	struct iodma_model_range got[MAX_SEGS];
	struct iodma_seg64 raw[MAX_SEGS];
};

static u32 rnd(struct model_case *c, u32 n)
{
	return n ? prandom_u32_state(&c->rnd) % n : 0;
}

static bool chance(struct model_case *c, u32 percent)
{
	return rnd(c, 100) < percent;
}

static void append_range(struct iodma_model_range *r, unsigned int *n, u64 addr, u64 len)
{
	if (*n && r[*n - 1].addr + r[*n - 1].len == addr) {
		r[*n - 1].len += len;
		return;
	}
	r[*n].addr = addr;
	r[*n].len = len;
	(*n)++;
}

/* The physical layout of kernel virtual memory, page by page. */
static void layout_of_kva(struct model_part *p, void *va, size_t len)
{
	while (len) {
		size_t chunk = min_t(size_t, len, PAGE_SIZE - offset_in_page(va));
		phys_addr_t phys = is_vmalloc_addr(va) ?
				   page_to_phys(vmalloc_to_page(va)) + offset_in_page(va) :
				   virt_to_phys(va);

		append_range(p->phys, &p->nphys, phys, chunk);
		va += chunk;
		len -= chunk;
	}
}

static void part_kmalloc(struct model_case *c, struct model_part *p)
{
	size_t size = 1024 + rnd(c, 6 * PAGE_SIZE), off = chance(c, 50) ? 0 : rnd(c, 300);

	p->kbuf = kmalloc(size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(c->test, p->kbuf);
	p->md = iodma_md_from_kva(p->kbuf + off, size - off, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(c->test, p->md);
	layout_of_kva(p, p->kbuf + off, size - off);
}

static void part_vmalloc(struct model_case *c, struct model_part *p)
{
	unsigned int n = 1 + rnd(c, 6);
	size_t off = chance(c, 50) ? 0 : rnd(c, PAGE_SIZE / 2);
	size_t len = n * PAGE_SIZE - off - rnd(c, PAGE_SIZE / 2);

	p->vbuf = vmalloc(n * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(c->test, p->vbuf);
	p->md = iodma_md_from_kva(p->vbuf + off, len, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(c->test, p->md);
	layout_of_kva(p, p->vbuf + off, len);
}

/* Pages of one block, in an order that keeps some neighbours and breaks others. */
static void part_pages(struct model_case *c, struct model_part *p)
{
	struct page *pages[1 << BLOCK_ORDER];
	bool used[1 << BLOCK_ORDER] = { };
	unsigned int n = 1 + rnd(c, 1 << BLOCK_ORDER), i, k = rnd(c, 1 << BLOCK_ORDER);
	size_t off = chance(c, 50) ? 0 : rnd(c, PAGE_SIZE);
	size_t len = n * PAGE_SIZE - off - (n > 1 ? rnd(c, PAGE_SIZE) : 0);

	p->block = alloc_pages(GFP_KERNEL, BLOCK_ORDER);
	KUNIT_ASSERT_NOT_NULL(c->test, p->block);
	for (i = 0; i < n; i++) {
		if (used[k] || chance(c, 40))
			k = rnd(c, 1 << BLOCK_ORDER);
		while (used[k])
			k = (k + 1) % (1 << BLOCK_ORDER);
		used[k] = true;
		pages[i] = nth_page(p->block, k);
		k = (k + 1) % (1 << BLOCK_ORDER);
	}
	p->md = iodma_md_from_pages(pages, n, off, len, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(c->test, p->md);
	for (i = 0; i < n && len; i++) {
		size_t chunk = min_t(size_t, len, PAGE_SIZE - off);

		append_range(p->phys, &p->nphys, page_to_phys(pages[i]) + off, chunk);
		len -= chunk;
		off = 0;
	}
}

static void part_new(struct model_case *c, struct model_part *p)
{
	memset(p, 0, sizeof(*p));
	switch (rnd(c, 3)) {
	case 0:
		part_kmalloc(c, p);
		break;
	case 1:
		part_pages(c, p);
		break;
	default:
		part_vmalloc(c, p);
		break;
	}
}

static void part_free(struct model_part *p)
{
	if (!IS_ERR_OR_NULL(p->md))
		iodma_md_put(p->md);
	kfree(p->kbuf);
	vfree(p->vbuf);
	if (p->block)
		__free_pages(p->block, BLOCK_ORDER);
	memset(p, 0, sizeof(*p));
}

/* [off, off + len) of @src (@n ranges) into @dst. */
static unsigned int slice(const struct iodma_model_range *src, unsigned int n, u64 off, u64 len,
			  struct iodma_model_range *dst)
{
	unsigned int i, k = 0;

	for (i = 0; i < n && len; i++) {
		u64 take;

		if (off >= src[i].len) {
			off -= src[i].len;
			continue;
		}
		take = min(src[i].len - off, len);
		append_range(dst, &k, src[i].addr + off, take);
		len -= take;
		off = 0;
	}
	return k;
}

/* The case's descriptor: one part, a sub-range of one, or a concatenation. */
static void build_md(struct model_case *c)
{
	struct iodma_md *mds[MAX_PARTS];
	unsigned int kind = rnd(c, 4), i, j;
	u64 plen, so, sl;

	c->nparts = kind == 3 ? 2 + rnd(c, MAX_PARTS - 1) : 1;
	for (i = 0; i < c->nparts; i++)
		part_new(c, &c->parts[i]);
	c->nphys = 0;
	if (kind == 3) {
		for (i = 0; i < c->nparts; i++) {
			mds[i] = c->parts[i].md;
			for (j = 0; j < c->parts[i].nphys; j++)
				append_range(c->phys, &c->nphys, c->parts[i].phys[j].addr,
					     c->parts[i].phys[j].len);
		}
		c->md = iodma_md_multi(mds, c->nparts, DMA_TO_DEVICE);
	} else if (kind == 2) {
		plen = iodma_md_length(c->parts[0].md);
		so = rnd(c, plen / 2);
		sl = plen - so - rnd(c, (plen - so) / 2);
		c->md = iodma_md_subrange(c->parts[0].md, so, sl);
		c->nphys = slice(c->parts[0].phys, c->parts[0].nphys, so, sl, c->phys);
	} else {
		c->md = iodma_md_get(c->parts[0].md);
		c->nphys = slice(c->parts[0].phys, c->parts[0].nphys, 0, U64_MAX, c->phys);
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(c->test, c->md);
}

static void free_case(struct model_case *c)
{
	unsigned int i;

	if (!IS_ERR_OR_NULL(c->md))
		iodma_md_put(c->md);
	c->md = NULL;
	for (i = 0; i < c->nparts; i++)
		part_free(&c->parts[i]);
	c->nparts = 0;
}

static u32 rand_align(struct model_case *c, unsigned int max_shift)
{
	if (chance(c, 40))
		return 0;
	/* mostly small, so that many ranges meet the rules as they are */
	return 1u << rnd(c, (chance(c, 60) ? 3 : max_shift) + 1);
}

/* A specification iodma accepts, for @map, whose length unit fits in @mdlen. */
static void rand_spec(struct model_case *c, enum iodma_map_type map, u64 mdlen)
{
	struct iodma_spec *s = &c->spec;
	struct iodma_model_spec ms;

	do {
		*s = (struct iodma_spec){ .map = map, .output = rnd(c, 6) };
		/* bounced commands need copy-buffer memory below the limit: 32 bits at least */
		if (chance(c, 50))
			s->addr_bits = (map == IODMA_ITERATE_ONLY ? 28 : 32) + rnd(c, 5);
		s->alignment = rand_align(c, 12);
		s->length_alignment = rand_align(c, 9);
		s->internal_alignment = rand_align(c, 12);
		if (chance(c, 60))
			s->max_segment_size = chance(c, 50) ? 1u << (9 + rnd(c, 8)) :
					      512 + rnd(c, SZ_64K);
		if (chance(c, 25))
			s->seg_boundary_mask = (1ull << (12 + rnd(c, 5))) - 1;
	} while (iodma_spec_validate(s) || s->length_alignment > mdlen);
	iodma_model_spec_of(s, 0, &ms);
	iodma_model_limits(&ms, &c->m);
}

static void describe(struct model_case *c)
{
	const struct iodma_spec *s = &c->spec;
	unsigned int i;

	kunit_info(c->test, "seed %#x case %u: map %d output %d addr_bits %u max_seg %llu align %u len_align %u int_align %u boundary %#llx; prepared [%llu, +%llu) of %u ranges:",
		   c->seed, c->index, s->map, s->output, s->addr_bits, s->max_segment_size,
		   s->alignment, s->length_alignment, s->internal_alignment,
		   s->seg_boundary_mask, c->off, c->len, c->nview);
	for (i = 0; i < c->nview && i < 24; i++)
		kunit_info(c->test, "  %#llx +%#llx", c->view[i].addr, c->view[i].len);
}

static int model_errno(enum iodma_model_rule r)
{
	return r == IODMA_MODEL_ADDRESS ? -ERANGE : -EINVAL;
}

/* gen in random batches from random offsets, each batch against the model. */
static void gen_session(struct model_case *c, struct iodma_cmd *cmd)
{
	struct kunit *test = c->test;
	u64 off = 0, nwant, bad, o, pos;
	unsigned int calls;

	for (calls = 0; calls < 64 && off < c->len; calls++) {
		u32 cap = 1 + rnd(c, chance(c, 70) ? 4 : 32), n = cap, i;
		enum iodma_model_rule r;
		int ret;

		if (chance(c, 10))
			off = rnd(c, c->len);
		r = iodma_model_walk(&c->m, c->view, c->nview, off, cap, c->want, &nwant, &bad);
		o = off;
		ret = iodma_cmd_gen_segments(cmd, &o, c->raw, &n);
		if (r != IODMA_MODEL_OK) {
			c->refused++;
			KUNIT_EXPECT_EQ_MSG(test, ret, model_errno(r),
					    "gen at %llu: model rule %d at %llu", off, r, bad);
			KUNIT_EXPECT_EQ(test, o, off);
			KUNIT_EXPECT_EQ(test, n, cap);
			/* a range that breaks a rule once tends to break it everywhere */
			break;
		}
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "gen at %llu cap %u", off, cap);
		KUNIT_ASSERT_EQ_MSG(test, (u64)n, nwant, "gen at %llu cap %u", off, cap);
		pos = off;
		for (i = 0; i < n; i++) {
			struct iodma_seg64 s;

			iodma_test_seg_decode(cmd, c->raw, i, &s);
			KUNIT_EXPECT_EQ_MSG(test, s.addr, c->want[i].addr, "segment at %llu", pos);
			KUNIT_EXPECT_EQ_MSG(test, s.len, c->want[i].len, "segment at %llu", pos);
			pos += c->want[i].len;
		}
		c->matched += n;
		KUNIT_EXPECT_EQ(test, o, pos);
		off = o;
	}
}

/* A bounced range: every segment, in random batches, meets every rule. */
static void check_bounced(struct model_case *c, struct iodma_cmd *cmd)
{
	struct kunit *test = c->test;
	const char *broken;
	u64 off = 0, k = 0, bad;

	while (off < c->len) {
		u32 n = min_t(u32, 1 + rnd(c, 8), MAX_SEGS - k), i;

		KUNIT_ASSERT_GT(test, n, 0);
		KUNIT_ASSERT_EQ(test, iodma_cmd_gen_segments(cmd, &off, c->raw, &n), 0);
		for (i = 0; i < n; i++) {
			struct iodma_seg64 s;

			iodma_test_seg_decode(cmd, c->raw, i, &s);
			c->got[k].addr = s.addr;
			c->got[k].len = s.len;
			k++;
		}
	}
	c->bounced++;
	broken = iodma_model_check(&c->m, c->got, k, c->len, &bad);
	KUNIT_EXPECT_NULL_MSG(test, broken, "bounced segment %llu of %llu: %s", bad, k,
			      broken ? broken : "");
}

static void run_case(struct model_case *c, struct device *dev, enum iodma_map_type map)
{
	struct kunit *test = c->test;
	enum iodma_bounce_reason reason;
	enum iodma_model_rule r;
	struct iodma_cmd *cmd;
	u64 mdlen, la, nwant, bad;

	build_md(c);
	mdlen = iodma_md_length(c->md);
	rand_spec(c, map, mdlen);
	la = c->m.len_align;
	c->off = chance(c, 40) ? 0 : rnd(c, mdlen - la + 1);
	if (chance(c, 50))
		c->off = round_down(c->off, la);
	c->len = round_down(chance(c, 50) ? mdlen - c->off : 1 + rnd(c, mdlen - c->off), la);
	if (!c->len) {
		c->off = 0;
		c->len = la;
	}
	c->nview = slice(c->phys, c->nphys, c->off, c->len, c->view);

	cmd = iodma_cmd_create(dev, &c->spec);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cmd);
	KUNIT_ASSERT_EQ(test, iodma_cmd_set_memory_descriptor(cmd, c->md, false), 0);
	KUNIT_ASSERT_EQ(test, iodma_cmd_prepare(cmd, c->off, c->len, false, false), 0);

	r = iodma_model_walk(&c->m, c->view, c->nview, 0, U64_MAX, NULL, &nwant, &bad);
	reason = iodma_cmd_bounce_reason(cmd);
	if (map == IODMA_ITERATE_ONLY) {
		KUNIT_EXPECT_EQ(test, reason, IODMA_BOUNCE_NONE);
		gen_session(c, cmd);
	} else if (r != IODMA_MODEL_OK) {
		/* the preflight's dry run reads the same physical layout */
		KUNIT_EXPECT_EQ_MSG(test, (int)reason, (int)r, "model: rule %d at %llu", r, bad);
		check_bounced(c, cmd);
	} else if (map == IODMA_MAPPED && is_swiotlb_force_bounce(dev)) {
		/* swiotlb chose the addresses: only the rules can be checked */
		check_bounced(c, cmd);
	} else {
		KUNIT_EXPECT_EQ(test, reason, IODMA_BOUNCE_NONE);
		gen_session(c, cmd);
	}
	if (test->status == KUNIT_FAILURE)
		describe(c);
	KUNIT_EXPECT_EQ(test, iodma_cmd_complete(cmd, false, false), 0);
	KUNIT_EXPECT_EQ(test, iodma_cmd_clear_memory_descriptor(cmd, false), 0);
	iodma_cmd_destroy(cmd);
	free_case(c);
}

static void run_cases(struct kunit *test, enum iodma_map_type map)
{
	struct model_case *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct device *dev = iodma_test_dev(test, 64);

	KUNIT_ASSERT_NOT_NULL(test, c);
	c->test = test;
	c->seed = MODEL_SEED + map;
	prandom_seed_state(&c->rnd, c->seed);
	for (c->index = 0; c->index < MODEL_CASES; c->index++) {
		run_case(c, dev, map);
		if (test->status == KUNIT_FAILURE)
			break;
	}
	KUNIT_EXPECT_EQ(test, c->index, MODEL_CASES);
	kunit_info(test, "seed %#x: %u cases, %u segments equal to the model's, %u gen calls refused as it says, %u ranges bounced",
		   c->seed, c->index, c->matched, c->refused, c->bounced);
}

static void iterate_only_matches_model(struct kunit *test)
{
	run_cases(test, IODMA_ITERATE_ONLY);
}

static void bypassed_matches_model_or_bounces(struct kunit *test)
{
	run_cases(test, IODMA_BYPASSED);
}

static void mapped_matches_model_or_bounces(struct kunit *test)
{
	run_cases(test, IODMA_MAPPED);
}

static struct kunit_case model_cases[] = {
	KUNIT_CASE_SLOW(iterate_only_matches_model),
	KUNIT_CASE_SLOW(bypassed_matches_model_or_bounces),
	KUNIT_CASE_SLOW(mapped_matches_model_or_bounces),
	{}
};

static struct kunit_suite model_suite = {
	.name = "iodma_model",
	.test_cases = model_cases,
};

kunit_test_suite(model_suite);
