// SPDX-License-Identifier: GPL-2.0-only
/*
 * Failures by errno: each command counts the errors its prepares and gens
 * return, in one slot per errno a driver may see and one for any other.
 * pool.c sums them into a pool's statistics (debugfs iodma/<pool>/stats).
 */
#include <linux/errno.h>
#include "iodma_internal.h"

static const int counted_errnos[IODMA_NR_ERRNOS - 1] = {
	EINVAL, ENODATA, EBUSY, ENOSPC, ENOMEM, EFAULT, ERANGE, EOVERFLOW, EOPNOTSUPP, EAGAIN,
};

/* Count @err (negative) against @cmd. */
void iodma_cmd_count_error(struct iodma_cmd *cmd, int err)
{
	unsigned int i;

	for (i = 0; i < IODMA_NR_ERRNOS - 1; i++)
		if (counted_errnos[i] == -err)
			break;
	cmd->errors[i]++;
}

/* The name of slot @i of the counters ("other" for the last). */
const char *iodma_errno_name(unsigned int i)
{
	static const char * const names[IODMA_NR_ERRNOS] = {
		"EINVAL", "ENODATA", "EBUSY", "ENOSPC", "ENOMEM", "EFAULT", "ERANGE",
		"EOVERFLOW", "EOPNOTSUPP", "EAGAIN", "other",
	};

	return names[min_t(unsigned int, i, IODMA_NR_ERRNOS - 1)];
}
