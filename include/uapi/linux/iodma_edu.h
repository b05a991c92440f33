/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * iodma_edu: user interface of the iodma demonstration driver for QEMU's
 * edu device.  Each bound device is a misc device /dev/iodma-edu<N>.
 *
 * IODMA_EDU_IOC_COPY copies @len bytes from the caller's @src buffer to its
 * @dst buffer through the device: the device reads the source into its
 * internal buffer and writes it out to the destination by DMA; the CPU never
 * touches the data.  Requests longer than one transfer (the driver's
 * iodma max_transfer_size, 64 KiB) are split into several transfers, done
 * in order; the buffers are pinned 128 KiB at a time, so a buffer with a
 * hole fails (EFAULT) at the piece that holds it, before any of that
 * piece's transfers.
 *
 * COPY errors:
 *   EINVAL	a length of 0 or above IODMA_EDU_MAX_LEN, unknown flags, a range
 *		that wraps, or overlapping buffers (checked before anything
 *		else; the output fields are not written);
 *   EFAULT	the request itself cannot be read or written back, or a source
 *		that cannot be read or a destination that cannot be written
 *		(NULL, unmapped, kernel or read-only memory);
 *   ENOMEM	no memory to pin the buffers or to bounce them;
 *   EHWPOISON	(or another error of pin_user_pages()) a page of the buffers
 *		is poisoned or cannot be faulted in;
 *   EINTR	a signal stopped the copy, with @done bytes copied.  When the
 *		copy had done nothing yet it is restarted instead for a handler
 *		with SA_RESTART (ERESTARTSYS in the kernel); without
 *		SA_RESTART the caller sees EINTR with the outputs zeroed.
 *		Stopping the process (SIGSTOP, a debugger attaching) also
 *		interrupts the copy: callers loop on EINTR, continuing @done
 *		bytes further;
 *   ENODEV	the device is gone (unbound or removed) or is going;
 *   EIO	the device failed: its DMA engine did not finish a transfer in
 *		time.  It stays failed, and so does every later request, until
 *		it is unbound.
 * Except for EINVAL and a request that cannot be read, the output fields
 * are always written back: after an error, @done says how many bytes have
 * already reached the destination.
 *
 * Access: the node is created 0600, root's.  Whoever may open it can use
 * the device's engine and its request slots (a long copy, or a buffer whose
 * pages are slow to fault in, makes the others wait) and pin up to 256 KiB
 * of their memory per slot (128 KiB of each buffer at a time).  What would
 * tell the physical layout of the caller's memory (EXPLAIN, and COPY's
 * @bytes_bounced and @dma_ops) is kept for files opened with
 * CAP_SYS_ADMIN, as /proc/<pid>/pagemap keeps
 * physical addresses: without it EXPLAIN fails with EPERM and those two
 * COPY outputs read 0.
 */
#ifndef _UAPI_LINUX_IODMA_EDU_H
#define _UAPI_LINUX_IODMA_EDU_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Longest copy one request may ask for. */
#define IODMA_EDU_MAX_LEN	(16ULL << 20)

/**
 * struct iodma_edu_copy - a copy through the device
 * @src: user address of the source
 * @dst: user address of the destination
 * @len: bytes to copy, 1..IODMA_EDU_MAX_LEN
 * @flags: must be 0
 * @transfers: out: iodma transfers (prepared ranges) used
 * @done: out: bytes copied; @len on success
 * @bytes_bounced: out: bytes iodma copied through its copy buffers (the
 *	source in, the destination out) because the device cannot reach them;
 *	0 unless the file was opened with CAP_SYS_ADMIN
 * @dma_ops: out: DMA operations programmed into the device; 0 unless the
 *	file was opened with CAP_SYS_ADMIN
 */
struct iodma_edu_copy {
	__u64 src;
	__u64 dst;
	__u64 len;
	__u32 flags;
	__u32 transfers;
	__u64 done;
	__u64 bytes_bounced;
	__u64 dma_ops;
};

/**
 * struct iodma_edu_explain - what iodma would do with a user buffer
 * @addr: user address of the buffer
 * @len: bytes, 1..64 KiB (one transfer)
 * @write: 0: the device would read the buffer; 1: it would write it
 * @reason: out: 0 no bounce, 1 address beyond the device's reach,
 *	2 misaligned, 3 length not a multiple, 4 internal alignment, 5 forced
 * @nsegs: out: segments the device would be given
 * @bad_offset: out: offset of the first segment breaking @reason
 * @flags: out: bit 0 @nsegs is an estimate, bit 1 addresses come from an IOMMU
 *
 * IODMA_EDU_IOC_EXPLAIN asks iodma_cmd_explain() without preparing
 * anything, for files opened with CAP_SYS_ADMIN only.  Errors: EPERM for a
 * file opened without CAP_SYS_ADMIN; EINVAL for a length of 0 or above 64 KiB, @write
 * above 1 or @reserved not 0; EFAULT for a request that cannot be read or
 * written back, or for memory that cannot be pinned (NULL, unmapped, or
 * read-only with @write 1); ENOMEM when iodma has no memory to work out the
 * answer; ERESTARTSYS / EINTR for a signal while waiting for one of the
 * device's request slots; ENODEV and EIO as for COPY.  The output fields are
 * written only on success.
 */
struct iodma_edu_explain {
	__u64 addr;
	__u64 len;
	__u32 write;
	__u32 reason;
	__u64 nsegs;
	__u64 bad_offset;
	__u32 flags;
	__u32 reserved;
};

#define IODMA_EDU_IOC_MAGIC	0xED
#define IODMA_EDU_IOC_COPY	_IOWR(IODMA_EDU_IOC_MAGIC, 0x00, struct iodma_edu_copy)
#define IODMA_EDU_IOC_EXPLAIN	_IOWR(IODMA_EDU_IOC_MAGIC, 0x01, struct iodma_edu_explain)

#endif /* _UAPI_LINUX_IODMA_EDU_H */
