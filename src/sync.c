// SPDX-License-Identifier: GPL-2.0-only
/*
 * Synchronisation: the CPU's and the device's views of a prepared range.
 *
 * While a command is prepared, the memory the device sees is either the
 * descriptor's, mapped by the backend (whose sync() is the DMA API's cache
 * and swiotlb maintenance), or the command's copy buffer (bounce.c copies in
 * and out).  iodma_cmd_synchronize() brings the two views together around a
 * transfer, and may move the range into the copy buffer on request;
 * iodma_cmd_read_bytes() and iodma_cmd_write_bytes() read and write the
 * bytes as the device sees them.
 */
#include <linux/module.h>
#include "iodma_internal.h"

#define IODMA_SYNC_ALL	(IODMA_SYNC_FOR_DEVICE | IODMA_SYNC_FOR_CPU | IODMA_FORCE_DOUBLE_BUFFER)

/* Re-prepare the prepared range through the copy buffer (IODMA_FORCE_DOUBLE_BUFFER). */
static int force_double_buffer(struct iodma_cmd *cmd)
{
	int ret;

	if (cmd->bounce)
		return 0;
	if (cmd->prepared > 1)
		return -EBUSY;
	/*
	 * A backend that maps copy buffers itself would need the addresses the
	 * memory still holds (an owned domain's IOVA range).
	 */
	if (!iodma_bounce_possible(cmd, cmd->md, cmd->in_place) || cmd->ops->map_bounce)
		return -EOPNOTSUPP;
	ret = iodma_bounce_reserve(cmd, cmd->prep_len, GFP_KERNEL);
	if (!ret)
		ret = iodma_bounce_fits(cmd);
	if (ret)
		return ret;
	/* the memory becomes what the CPU had and the device wrote so far ... */
	cmd->ops->unmap(cmd, 0);
	cmd->force_bounce = true;
	/* ... and the copy buffer its mirror, so either direction is in sync */
	ret = iodma_bounce_start(cmd, IODMA_BOUNCE_FORCED, true, GFP_KERNEL, NULL);
	if (WARN_ON_ONCE(ret))
		return ret;
	iodma_cursor_reset(&cmd->cur, &cmd->view);
	return 1;
}

/**
 * iodma_cmd_synchronize() - cache and copy-buffer maintenance while prepared
 * @cmd: the command
 * @options: IODMA_SYNC_FOR_DEVICE (before the device reads or writes) or
 *	IODMA_SYNC_FOR_CPU (before the CPU looks), optionally with
 *	IODMA_FORCE_DOUBLE_BUFFER to move the prepared range into the copy
 *	buffer (the segments change: generate them again)
 *
 * While bouncing, FOR_DEVICE copies the descriptor's data into the copy
 * buffer and FOR_CPU copies the device's data out of it.
 *
 * Context: Process context; may sleep.
 * Return: 0; -EINVAL for a NULL @cmd, unknown options, or both or neither
 * direction; -ENODATA if not prepared; for IODMA_FORCE_DOUBLE_BUFFER, -EBUSY
 * if prepared more than once, -EOPNOTSUPP for memory iodma cannot copy
 * (iterate-only commands, bus descriptors) and in an owned domain, -ENOMEM,
 * -E2BIG where the copy buffer cannot hold the range in max_segments, and
 * for a pool's command with a budget -ENOBUFS and -EINTR as for
 * iodma_cmd_prepare().  On error nothing changed.
 */
int iodma_cmd_synchronize(struct iodma_cmd *cmd, u32 options)
{
	return iodma_cmd_synchronize_range(cmd, options, 0, 0);
}
EXPORT_SYMBOL_GPL(iodma_cmd_synchronize);

/**
 * iodma_cmd_synchronize_range() - iodma_cmd_synchronize() of part of the prepared range
 * @cmd: the command
 * @options: as for iodma_cmd_synchronize()
 * @offset: first byte, relative to the prepared range
 * @length: bytes; 0 means from @offset to the end of the prepared range
 *
 * Only [@offset, @offset + @length) is synced, or copied into or out of the
 * copy buffer: a descriptor ring's one slot, a status word the driver polls.
 * The rest of the prepared range, on either side, is left as it is, as
 * dma_sync_single_range_for_cpu() and _for_device() do.  With
 * IODMA_FORCE_DOUBLE_BUFFER the whole range moves into the copy buffer
 * first.
 *
 * Context: Process context; may sleep.
 * Return: as for iodma_cmd_synchronize(); also -EINVAL for a range that is
 * not inside the prepared range.  On error nothing changed.
 */
int iodma_cmd_synchronize_range(struct iodma_cmd *cmd, u32 options, u64 offset, u64 length)
{
	u32 dirs = options & (IODMA_SYNC_FOR_DEVICE | IODMA_SYNC_FOR_CPU);
	bool for_device = dirs == IODMA_SYNC_FOR_DEVICE;
	int ret;

	might_sleep();
	if (!cmd || (options & ~IODMA_SYNC_ALL) || !dirs ||
	    dirs == (IODMA_SYNC_FOR_DEVICE | IODMA_SYNC_FOR_CPU))
		return -EINVAL;
	if (!cmd->prepared)
		return -ENODATA;
	if (offset >= cmd->prep_len || length > cmd->prep_len - offset)
		return -EINVAL;
	if (!length)
		length = cmd->prep_len - offset;
	if (options & IODMA_FORCE_DOUBLE_BUFFER) {
		ret = force_double_buffer(cmd);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	if (!cmd->bounce)
		cmd->ops->sync(cmd, for_device, offset, length);
	else if (for_device)
		iodma_bounce_in(cmd, offset, length);
	else
		iodma_bounce_out(cmd, offset, length);
	return 0;
}
EXPORT_SYMBOL_GPL(iodma_cmd_synchronize_range);

/* Make the CPU's view of part of the prepared range the device's, or the reverse. */
static void sync_device_view(struct iodma_cmd *cmd, bool for_device, u64 off, u64 len)
{
	if (cmd->bounce)
		iodma_bounce_sync(cmd, for_device, off, len);
	else
		cmd->ops->sync(cmd, for_device, off, len);
}

static u64 cmd_copy(struct iodma_cmd *cmd, u64 offset, void *buf, const void *src, u64 len)
{
	struct iodma_md *md;
	u64 off, done;

	if (!cmd || !cmd->prepared || offset >= cmd->prep_len)
		return 0;
	len = min(len, cmd->prep_len - offset);
	/* while bouncing the device sees the copy buffer, which starts at the range */
	md = cmd->bounce ? cmd->cbuf_md : cmd->md;
	off = cmd->bounce ? offset : cmd->prep_off + offset;
	/* a write the device would never see, and the unmap would undo */
	if (src && !cmd->bounce && cmd->md->dir == DMA_FROM_DEVICE && cmd->ops->may_bounce &&
	    cmd->ops->may_bounce(cmd))
		return 0;
	/*
	 * The bytes as the device sees them: its writes made visible first,
	 * ours handed back to it after (swiotlb slots, non-coherent caches).
	 */
	sync_device_view(cmd, false, offset, len);
	if (src)
		done = iodma_md_write_bytes(md, off, src, len);
	else
		done = iodma_md_read_bytes(md, off, buf, len);
	sync_device_view(cmd, true, offset, len);
	return done;
}

/**
 * iodma_cmd_read_bytes() - read the prepared memory as the device sees it
 * @cmd: the command
 * @offset: first byte, relative to the prepared range
 * @buf: destination
 * @len: bytes wanted; clamped to the prepared range
 *
 * The bytes are those the device sees: the copy buffer while bouncing,
 * and what the DMA API shows the device (its own bounce slot, through a
 * sync for the CPU) otherwise.  Does not move the segment cursor.
 *
 * Context: Process context; may sleep.
 * Return: bytes copied; 0 when not prepared, @offset is past the end, or the
 * memory is bus memory the CPU does not touch.
 */
u64 iodma_cmd_read_bytes(struct iodma_cmd *cmd, u64 offset, void *buf, u64 len)
{
	return cmd_copy(cmd, offset, buf, NULL, len);
}
EXPORT_SYMBOL_GPL(iodma_cmd_read_bytes);

/**
 * iodma_cmd_write_bytes() - write the prepared memory as the device sees it
 * @cmd: the command
 * @offset: first byte, relative to the prepared range
 * @buf: source
 * @len: bytes; clamped to the prepared range
 *
 * The device sees the bytes at once: they go into the copy buffer while
 * bouncing, else into the memory and through the DMA API's sync to the
 * device.  Memory the CPU may not write is left alone: user memory pinned
 * for DMA_TO_DEVICE (see iodma_md_write_bytes()), and a DMA_FROM_DEVICE
 * range that the DMA API itself may have bounced (swiotlb forced, an
 * untrusted device), where no sync carries CPU data to the device.
 *
 * Context: Process context; may sleep.
 * Return: bytes copied, as for iodma_cmd_read_bytes(); 0 in the cases above.
 */
u64 iodma_cmd_write_bytes(struct iodma_cmd *cmd, u64 offset, const void *buf, u64 len)
{
	return cmd_copy(cmd, offset, NULL, buf, len);
}
EXPORT_SYMBOL_GPL(iodma_cmd_write_bytes);

