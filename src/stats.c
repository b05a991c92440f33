// SPDX-License-Identifier: GPL-2.0-only
/*
 * Statistics of a command: its counters (prepares, bounces, bytes bounced),
 * and its failures by errno, the errors its prepares and gens return, in
 * one slot per errno a driver may see and one for any other.  pool.c sums
 * them into a pool's statistics (debugfs iodma/<pool>/stats).
 */
#include <linux/errno.h>
#include <linux/module.h>
#include "iodma_internal.h"

static const int counted_errnos[IODMA_NR_ERRNOS - 1] = {
	EINVAL, ENODATA, EBUSY, ENOSPC, ENOMEM, EFAULT, ERANGE, EOVERFLOW, EOPNOTSUPP, EAGAIN,
	E2BIG, ENOBUFS, EINTR,
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
		"EOVERFLOW", "EOPNOTSUPP", "EAGAIN", "E2BIG", "ENOBUFS", "EINTR", "other",
	};

	return names[min_t(unsigned int, i, IODMA_NR_ERRNOS - 1)];
}
EXPORT_SYMBOL_IF_KUNIT(iodma_errno_name);

/**
 * iodma_cmd_get_stats() - counters of a command
 * @cmd: the command
 * @stats: filled with its counters since creation
 *
 * Context: Any context.
 */
void iodma_cmd_get_stats(const struct iodma_cmd *cmd, struct iodma_cmd_stats *stats)
{
	*stats = cmd->stats;
}
EXPORT_SYMBOL_GPL(iodma_cmd_get_stats);
