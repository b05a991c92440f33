/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace stand-in for <linux/types.h>: the fixed-width types iodma uses. */
#ifndef _SEGFUZZ_LINUX_TYPES_H
#define _SEGFUZZ_LINUX_TYPES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;
typedef u32 __be32;
typedef u32 __le32;
typedef u64 __be64;
typedef u64 __le64;
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;
typedef unsigned int gfp_t;
#endif
