// SPDX-License-Identifier: GPL-2.0-only
/*
 * Failure points: iodma_should_fail() stands before every allocation iodma
 * makes or asks a kernel helper for.  The fault attribute is off until it is
 * configured through debugfs iodma/fail/ (probability, interval, times...),
 * so that a driver author can make iodma fail on purpose; the KUnit fault
 * sweep fails the 1st, 2nd, ... of them in turn.  Without
 * CONFIG_FAULT_INJECTION the points compile to nothing.
 */
#include <linux/module.h>
#include "iodma_internal.h"

#ifdef CONFIG_FAULT_INJECTION
struct fault_attr iodma_fail_attr = FAULT_ATTR_INITIALIZER;
EXPORT_SYMBOL_IF_KUNIT(iodma_fail_attr);

bool iodma_should_fail(size_t size)
{
	return should_fail(&iodma_fail_attr, size);
}
#endif
