/* SPDX-License-Identifier: GPL-2.0-only */
#include <iodma_shim.h>

#define ilog2(n)	(63 - __builtin_clzll(n))
