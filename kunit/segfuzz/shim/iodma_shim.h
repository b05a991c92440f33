/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace stand-ins for the kernel headers that src/segments.c and
 * src/spec.c include (through src/iodma_internal.h), just enough for the
 * fuzzer to compile those files unchanged.  Every <linux/...> header of this
 * directory but types.h and stddef.h includes this one.
 */
#ifndef _SEGFUZZ_SHIM_H
#define _SEGFUZZ_SHIM_H
#include <errno.h>
#include <string.h>
#include <endian.h>
#include <linux/types.h>

#undef __always_inline
#define __always_inline	inline __attribute__((always_inline))
#define noinline	__attribute__((__noinline__))
#define BIT(n)		(1UL << (n))
#define BIT_ULL(n)	(1ULL << (n))
#define U32_MAX		0xffffffffU
#define U64_MAX		(~0ULL)
#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define EXPORT_SYMBOL_GPL(s)
#define EXPORT_SYMBOL_IF_KUNIT(s)
#define WARN_ON_ONCE(c)	(c)

#define min(a, b)	((a) < (b) ? (a) : (b))
#define max(a, b)	((a) > (b) ? (a) : (b))
#define min_t(t, a, b)	min((t)(a), (t)(b))
#define max_t(t, a, b)	max((t)(a), (t)(b))
#define max3(a, b, c)	max(max(a, b), c)
#define min3(a, b, c)	min(min(a, b), c)
#define round_down(x, y)	((x) & ~((__typeof__(x))(y) - 1))

#define cpu_to_be32(x)	htobe32(x)
#define cpu_to_le32(x)	htole32(x)
#define cpu_to_be64(x)	htobe64(x)
#define cpu_to_le64(x)	htole64(x)
#define be32_to_cpu(x)	be32toh(x)
#define le32_to_cpu(x)	le32toh(x)
#define be64_to_cpu(x)	be64toh(x)
#define le64_to_cpu(x)	le64toh(x)

static inline bool is_power_of_2(unsigned long n)
{
	return n && !(n & (n - 1));
}

enum dma_data_direction {
	DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_NONE,
};

struct kref { int refcount; };
struct mutex { int locked; };
typedef struct { int counter; } atomic_t;
/* iodma_internal.h's inline wire counting: never called here */
static inline void atomic_inc(atomic_t *v)
{
	v->counter++;
}

static inline int atomic_dec_if_positive(atomic_t *v)
{
	return v->counter > 0 ? --v->counter : v->counter - 1;
}
typedef struct { int lock; } spinlock_t;
struct list_head { struct list_head *next, *prev; };
typedef struct { int head; } wait_queue_head_t;
struct work_struct { int unused; };
struct workqueue_struct;
struct iova_domain { int unused; };
struct dentry;
struct iommu_group;
struct page;

struct device {
	u64 bus_dma_limit;
};

/* phys: the entry's physical address (sg_phys()), dma_*: its mapping */
struct scatterlist {
	u64 phys;
	unsigned int length;
	dma_addr_t dma_address;
	unsigned int dma_length;
};

struct sg_table {
	struct scatterlist *sgl;
	unsigned int nents;
	unsigned int orig_nents;
};

#define sg_dma_address(sg)	((sg)->dma_address)
#define sg_dma_len(sg)		((sg)->dma_length)
#define sg_phys(sg)		((sg)->phys)
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define sg_next(sg)		((sg) + 1)
/* one flat array: no entry is a chain link */
#define sg_is_chain(sg)		((void)(sg), false)
#define sg_chain_ptr(sg)	((struct scatterlist *)NULL)
#define phys_to_dma(dev, a)	((dma_addr_t)(a))

#define __IOMMU_DOMAIN_PAGING	2
#define __IOMMU_DOMAIN_DMA_API	4
#define IOMMU_DOMAIN_IDENTITY	8
struct iommu_domain {
	unsigned int type;
};

static inline bool device_iommu_mapped(struct device *dev)
{
	return false;
}

static inline struct iommu_domain *iommu_get_domain_for_dev(struct device *dev)
{
	return NULL;
}

static inline bool dev_is_dma_coherent(struct device *dev)
{
	return true;
}

static inline u64 dma_get_mask(struct device *dev)
{
	return U64_MAX;
}
#endif
