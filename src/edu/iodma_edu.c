// SPDX-License-Identifier: GPL-2.0-only
/*
 * iodma_edu: a demonstration PCI driver for QEMU's edu device (1234:11e8),
 * written against iodma the way a driver for real hardware would be.
 *
 * The edu device has a DMA engine that moves 1..4095 bytes between host
 * memory and its 4 KiB internal buffer, raises an interrupt when done and
 * reaches only the low 2^28 bytes of the bus.  The driver exposes it as
 * /dev/iodma-edu<N>, whose IODMA_EDU_IOC_COPY copies a user buffer to
 * another one through the device: both buffers become user memory
 * descriptors, two iodma commands (one per direction) prepare them for the
 * device with the device's own limits in their specification, and the
 * segments iodma generates are what the engine is programmed with.  Memory
 * the device cannot reach is bounced by iodma, not by the driver; the CPU
 * never touches the data.
 *
 * A request is described and pinned in pieces of EDU_PIN_CHUNK bytes (a
 * bound on what one request pins), and each piece is moved in transfers:
 * iodma_cmd_prepare_window() prepares the longest range that fits the
 * specification (its max_transfer_size), the engine runs it, complete, and
 * the next one.  Each transfer is moved through the device buffer in
 * windows of EDU_WINDOW bytes: source segments in, destination segments
 * out.
 *
 * Lifetime: the per-device state is refcounted; an open file keeps it (not
 * the device) alive, so an unbind while the device is open makes further
 * ioctls fail with -ENODEV, and the module cannot be unloaded while a file
 * is open (the misc device's fops owner holds it).
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/iodma.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include <linux/wait.h>
#include <uapi/linux/iodma_edu.h>
#include "edu_compat.h"

#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
/* The DMA registers are 64 bits wide: a 4-byte write replaces the value. */
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID_MAGIC		0xed
#define EDU_LIVENESS_PATTERN	0x5a5aa5a5
#define EDU_DMA_RUN		BIT(0)
#define EDU_DMA_TO_HOST		BIT(1)	/* device buffer -> host memory */
#define EDU_DMA_IRQ		BIT(2)
#define EDU_IRQ_DMA		0x100

#define EDU_BUF_ADDR		0x40000
#define EDU_BUF_SIZE		4096
/*
 * QEMU 7.2 aborts (hw_error) on a transfer that reaches the end of the
 * device buffer, including a count of exactly 4096: only 4095 bytes of the
 * buffer are usable, and no single transfer may be 4096 bytes long.
 */
#define EDU_WINDOW		(EDU_BUF_SIZE - 1)
/* 2048, not 4096: a 4096-byte segment would be a 4096-byte transfer. */
#define EDU_MAX_SEGMENT		2048
#define EDU_ADDR_BITS		28
#define EDU_MAX_TRANSFER	SZ_64K
/* User memory of one buffer pinned at once: two transfers' worth. */
#define EDU_PIN_CHUNK		(2 * EDU_MAX_TRANSFER)

#define EDU_NR_SLOTS		4
#define EDU_SEG_BATCH		8
/* One transfer takes 100 ms of virtual time; leave room for a slow host. */
#define EDU_DMA_TIMEOUT_MS	5000
#define EDU_DMA_TIMEOUT		msecs_to_jiffies(EDU_DMA_TIMEOUT_MS)

static const struct iodma_spec edu_spec = {
	.addr_bits = EDU_ADDR_BITS,
	.max_segment_size = EDU_MAX_SEGMENT,
	.max_transfer_size = EDU_MAX_TRANSFER,
	.output = IODMA_OUT_LITTLE32,
	.map = IODMA_MAPPED,
};

/* The commands of one request: the source and the destination side. */
struct edu_slot {
	struct iodma_cmd *src;
	struct iodma_cmd *dst;
	bool pinned;		/* both descriptors wired by edu_piece() */
};

struct edu_stats {
	atomic64_t requests;
	atomic64_t transfers;
	atomic64_t bytes;
	atomic64_t bytes_bounced;
	atomic64_t dma_ops;
	atomic64_t errors;
	atomic64_t irqs;
};

struct edu_dev {
	struct kref ref;		/* probe, and each open file */
	struct pci_dev *pdev;
	void __iomem *regs;
	int id;
	char name[24];
	struct miscdevice misc;
	struct dentry *debugfs;

	/* ioctls hold it for reading; remove takes it to wait for them */
	struct rw_semaphore remove_sem;
	/* Both only ever go from false to true; read without a lock. */
	bool removing;
	bool broken;			/* the engine stopped answering */
	bool fake_stuck;		/* debugfs: act as if DMAs never ended */

	struct mutex engine_lock;	/* one request on the engine at a time */
	wait_queue_head_t dma_wq;	/* woken by the DMA interrupt */

	unsigned long slot_busy;	/* bitmap, test_and_set_bit_lock() */
	wait_queue_head_t slot_wq;
	struct edu_slot slots[EDU_NR_SLOTS];

	struct edu_stats stats;
};

/*
 * An open file.  @detail: the opener had CAP_SYS_ADMIN, so it may learn what
 * tells the physical layout of its memory (which pages lie beyond the
 * device's reach, which are contiguous): EXPLAIN, and COPY's bytes_bounced
 * and dma_ops.  Decided at open, as /proc/<pid>/pagemap does.
 */
struct edu_file {
	struct edu_dev *e;
	bool detail;
};

static DEFINE_IDA(edu_ida);
static struct dentry *edu_debugfs_root;

static void edu_release(struct kref *ref)
{
	struct edu_dev *e = container_of(ref, struct edu_dev, ref);

	mutex_destroy(&e->engine_lock);
	kfree(e);
}

static void edu_put(void *data)
{
	struct edu_dev *e = data;

	kref_put(&e->ref, edu_release);
}

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu_dev *e = data;
	u32 status = readl(e->regs + EDU_REG_IRQ_STATUS);

	/* Another device's interrupt on a shared INTx line, or ours is gone. */
	if (!status || status == ~0U)
		return IRQ_NONE;
	writel(status, e->regs + EDU_REG_IRQ_ACK);
	atomic64_inc(&e->stats.irqs);
	if (status & EDU_IRQ_DMA)
		wake_up(&e->dma_wq);
	return IRQ_HANDLED;
}

/* The engine's RUN bit, not the interrupt, says whether a DMA is over. */
static bool edu_engine_idle(struct edu_dev *e)
{
	return !(readq(e->regs + EDU_REG_DMA_CMD) & EDU_DMA_RUN);
}

/* A DMA is over when the engine is idle, unless debugfs pretends it is not. */
static bool edu_dma_over(struct edu_dev *e)
{
	return !READ_ONCE(e->fake_stuck) && edu_engine_idle(e);
}

/*
 * Refuse every further request until the device is unbound, and wake those
 * waiting for a slot: slots held by requests the engine never finished are
 * not coming back.
 */
static void edu_set_broken(struct edu_dev *e)
{
	WRITE_ONCE(e->broken, true);
	wake_up_all(&e->slot_wq);
}

/*
 * Run one DMA and wait for the engine to finish it.  The interrupt only
 * wakes the waiter: a late interrupt of an earlier DMA, or a spurious one,
 * cannot end the wait for this one while the engine still runs it.  A
 * signal does not abandon the transfer: the engine still reads or writes
 * the pinned pages, so wait for it to finish before the caller completes
 * the commands.
 */
static int edu_dma(struct edu_dev *e, u64 src, u64 dst, u32 count, u32 dir)
{
	long left;

	/* The engine ignores its registers while it runs: not ours to use. */
	if (!edu_engine_idle(e))
		goto broken;
	writeq(src, e->regs + EDU_REG_DMA_SRC);
	writeq(dst, e->regs + EDU_REG_DMA_DST);
	writeq(count, e->regs + EDU_REG_DMA_COUNT);
	writeq(EDU_DMA_RUN | EDU_DMA_IRQ | dir, e->regs + EDU_REG_DMA_CMD);

	left = wait_event_interruptible_timeout(e->dma_wq, edu_dma_over(e), EDU_DMA_TIMEOUT);
	if (left > 0)
		return 0;
	if (left == -ERESTARTSYS &&
	    wait_event_timeout(e->dma_wq, edu_dma_over(e), EDU_DMA_TIMEOUT))
		return -EINTR;
broken:
	/*
	 * The engine has no abort: it may still write the memory.  -ETIMEDOUT
	 * tells the caller to keep this request's memory wired (its slot stays
	 * prepared) until the device is unbound; user space sees EIO.
	 */
	dev_err(&e->pdev->dev, "DMA engine stuck, disabling the device\n");
	edu_set_broken(e);
	return -ETIMEDOUT;
}

/*
 * The segments of one command, consumed in pieces: a window of the device
 * buffer may end inside a segment.
 */
struct edu_stream {
	struct iodma_cmd *cmd;
	u64 offset;		/* next byte for iodma_cmd_gen_segments() */
	struct iodma_seg32_le segs[EDU_SEG_BATCH];
	u32 n;			/* segments in segs[] */
	u32 i;			/* next one */
	u32 addr;		/* unused part of the current segment */
	u32 left;
};

static int edu_stream_next(struct edu_stream *st, u32 want, u32 *addr, u32 *len)
{
	int ret;

	if (!st->left) {
		if (st->i == st->n) {
			st->n = ARRAY_SIZE(st->segs);
			ret = iodma_cmd_gen_segments(st->cmd, &st->offset, st->segs, &st->n);
			if (ret)
				return ret;
			if (!st->n)
				return -EIO;
			st->i = 0;
		}
		st->addr = le32_to_cpu(st->segs[st->i].addr);
		st->left = le32_to_cpu(st->segs[st->i].len);
		st->i++;
	}
	*addr = st->addr;
	*len = min(st->left, want);
	st->addr += *len;
	st->left -= *len;
	return 0;
}

/* Move the next @win bytes of @st between host memory and the device buffer. */
static int edu_stream_dma(struct edu_dev *e, struct edu_stream *st, u32 win, bool to_host,
			  u64 *ops)
{
	u32 off, addr, n;
	int ret;

	for (off = 0; off < win; off += n) {
		ret = edu_stream_next(st, win - off, &addr, &n);
		if (ret)
			return ret;
		if (to_host)
			ret = edu_dma(e, EDU_BUF_ADDR + off, addr, n, EDU_DMA_TO_HOST);
		else
			ret = edu_dma(e, addr, EDU_BUF_ADDR + off, n, 0);
		if (ret)
			return ret;
		(*ops)++;
	}
	return 0;
}

/* Copy the prepared source to the prepared destination; *done counts bytes out. */
static int edu_run(struct edu_dev *e, struct edu_slot *slot, u64 len, u64 *done, u64 *ops)
{
	struct edu_stream in = { .cmd = slot->src };
	struct edu_stream out = { .cmd = slot->dst };
	u64 pos;
	u32 win;
	int ret;

	for (pos = 0; pos < len; pos += win) {
		if (READ_ONCE(e->removing))
			return -ENODEV;
		if (signal_pending(current))
			return -EINTR;
		win = min_t(u64, len - pos, EDU_WINDOW);
		ret = edu_stream_dma(e, &in, win, false, ops);
		if (ret)
			return ret;
		ret = edu_stream_dma(e, &out, win, true, ops);
		if (ret)
			return ret;
		*done += win;
	}
	return 0;
}

/* Bytes iodma has copied through the slot's copy buffers so far. */
static u64 edu_bytes_bounced(struct edu_slot *slot)
{
	struct iodma_cmd_stats src, dst;

	iodma_cmd_get_stats(slot->src, &src);
	iodma_cmd_get_stats(slot->dst, &dst);
	return src.bytes_bounced + dst.bytes_bounced;
}

/*
 * One transfer: the longest range from @off that both commands take
 * (iodma_cmd_prepare_window() cuts it to max_transfer_size), run through
 * the engine and completed.  *@len in: the most wanted; out: prepared.
 */
static int edu_transfer(struct edu_dev *e, struct edu_slot *slot, u64 off, u64 *len,
			struct iodma_edu_copy *req)
{
	u64 src_len = *len;
	int ret;

	ret = iodma_cmd_prepare_window(slot->src, off, &src_len);
	if (ret)
		return ret;
	*len = src_len;
	ret = iodma_cmd_prepare_window(slot->dst, off, len);
	if (ret)
		goto out_src;
	/* the destination takes less: the source's window shrinks to it */
	if (*len < src_len) {
		iodma_cmd_complete(slot->src, false, false);
		ret = iodma_cmd_prepare(slot->src, off, *len, true, true);
		if (ret) {
			iodma_cmd_complete(slot->dst, false, false);
			return ret;
		}
	}
	req->transfers++;
	/* An unbind may have begun while we pinned: leave the engine alone. */
	if (READ_ONCE(e->removing)) {
		ret = -ENODEV;
	} else {
		ret = mutex_lock_interruptible(&e->engine_lock);
		if (!ret) {
			ret = READ_ONCE(e->broken) ? -EIO :
			      edu_run(e, slot, *len, &req->done, &req->dma_ops);
			mutex_unlock(&e->engine_lock);
		}
	}
	/*
	 * Only the request whose DMA the engine never finished keeps its
	 * memory wired; one that finished, or never reached the engine,
	 * completes even if another request broke the engine meanwhile.  Even
	 * after an error, what the device wrote so far reaches the user.
	 */
	if (ret == -ETIMEDOUT)
		return ret;
	iodma_cmd_complete(slot->dst, true, true);
out_src:
	iodma_cmd_complete(slot->src, true, true);
	return ret;
}

/*
 * One piece of a request: at most EDU_PIN_CHUNK bytes of each buffer,
 * described and pinned at once, moved in transfers.
 */
static int edu_piece(struct edu_dev *e, struct edu_slot *slot, u64 src, u64 dst, u64 len,
		     struct iodma_edu_copy *req)
{
	struct iodma_md *md;
	u64 off, win;
	int ret;

	md = iodma_md_from_user(src, len, DMA_TO_DEVICE);
	if (IS_ERR(md))
		return PTR_ERR(md);
	ret = iodma_cmd_set_memory_descriptor(slot->src, md, false);
	iodma_md_put(md);
	if (ret)
		return ret;
	md = iodma_md_from_user(dst, len, DMA_FROM_DEVICE);
	if (IS_ERR(md)) {
		ret = PTR_ERR(md);
		goto out_clear_src;
	}
	ret = iodma_cmd_set_memory_descriptor(slot->dst, md, false);
	iodma_md_put(md);
	if (ret)
		goto out_clear_src;

	/*
	 * Pin both for all the transfers at once, which may take long (a buffer
	 * backed by FUSE): a buffer with a hole fails here, before any DMA.
	 */
	ret = iodma_md_prepare(iodma_cmd_get_memory_descriptor(slot->src));
	if (ret)
		goto out_clear_dst;
	ret = iodma_md_prepare(iodma_cmd_get_memory_descriptor(slot->dst));
	if (ret)
		goto out_unpin_src;
	slot->pinned = true;
	for (off = 0; off < len && !ret; off += win) {
		win = len - off;
		ret = edu_transfer(e, slot, off, &win, req);
	}
	/* the engine never finished: pinned until the device goes (edu_slots_destroy()) */
	if (ret == -ETIMEDOUT)
		return ret;
	slot->pinned = false;
	iodma_md_complete(iodma_cmd_get_memory_descriptor(slot->dst));
out_unpin_src:
	iodma_md_complete(iodma_cmd_get_memory_descriptor(slot->src));
out_clear_dst:
	iodma_cmd_clear_memory_descriptor(slot->dst, false);
out_clear_src:
	iodma_cmd_clear_memory_descriptor(slot->src, false);
	return ret;
}

static int edu_slot_try_get(struct edu_dev *e)
{
	int i;

	for (i = 0; i < EDU_NR_SLOTS; i++) {
		if (!test_and_set_bit_lock(i, &e->slot_busy))
			return i;
	}
	return -1;
}

/*
 * Once the device is being removed no slot may be taken, even a free one:
 * the commands go away as soon as edu_remove() returns.  Once the engine is
 * broken, slots held by its unfinished requests never come back: stop
 * waiting for one.
 */
static bool edu_slot_ready(struct edu_dev *e, int *i)
{
	*i = -1;
	if (READ_ONCE(e->removing) || READ_ONCE(e->broken))
		return true;
	*i = edu_slot_try_get(e);
	return *i >= 0;
}

static struct edu_slot *edu_slot_get(struct edu_dev *e)
{
	int i;

	if (wait_event_interruptible(e->slot_wq, edu_slot_ready(e, &i)))
		return ERR_PTR(-ERESTARTSYS);
	if (i < 0)
		return ERR_PTR(READ_ONCE(e->removing) ? -ENODEV : -EIO);
	return &e->slots[i];
}

static void edu_slot_put(struct edu_dev *e, struct edu_slot *slot)
{
	clear_bit_unlock(slot - e->slots, &e->slot_busy);
	wake_up(&e->slot_wq);
}

static int edu_copy(struct edu_dev *e, struct iodma_edu_copy *req)
{
	struct edu_slot *slot;
	u64 off, n, bounced;
	int ret = 0;

	slot = edu_slot_get(e);
	if (IS_ERR(slot))
		return PTR_ERR(slot);
	bounced = edu_bytes_bounced(slot);
	for (off = 0; off < req->len && !ret; off += n) {
		n = min_t(u64, req->len - off, EDU_PIN_CHUNK);
		ret = edu_piece(e, slot, req->src + off, req->dst + off, n, req);
	}
	req->bytes_bounced = edu_bytes_bounced(slot) - bounced;
	/* A DMA the engine never finished keeps the slot, and the memory, wired. */
	if (ret == -ETIMEDOUT)
		return -EIO;
	edu_slot_put(e, slot);
	return ret;
}

static bool edu_overlap(u64 a, u64 b, u64 len)
{
	return a < b + len && b < a + len;
}

/*
 * Hold off unbind for a request: 0 with remove_sem held for reading, or
 * -EINTR, -ENODEV (the device is going) or -EIO (its engine is broken)
 * without it.
 */
static int edu_enter(struct edu_dev *e)
{
	int ret = 0;

	if (down_read_killable(&e->remove_sem))
		return -EINTR;
	if (READ_ONCE(e->removing))
		ret = -ENODEV;
	else if (READ_ONCE(e->broken))
		ret = -EIO;
	if (ret)
		up_read(&e->remove_sem);
	return ret;
}

static long edu_ioctl_copy(struct edu_file *f, struct iodma_edu_copy __user *ureq)
{
	struct edu_dev *e = f->e;
	struct iodma_edu_copy req;
	int ret;

	if (copy_from_user(&req, ureq, sizeof(req)))
		return -EFAULT;
	if (req.flags || !req.len || req.len > IODMA_EDU_MAX_LEN ||
	    req.src + req.len < req.src || req.dst + req.len < req.dst ||
	    edu_overlap(req.src, req.dst, req.len))
		return -EINVAL;
	req.transfers = 0;
	req.done = 0;
	req.bytes_bounced = 0;
	req.dma_ops = 0;

	ret = edu_enter(e);
	if (!ret) {
		ret = edu_copy(e, &req);
		up_read(&e->remove_sem);
	}

	atomic64_inc(&e->stats.requests);
	atomic64_add(req.transfers, &e->stats.transfers);
	atomic64_add(req.done, &e->stats.bytes);
	atomic64_add(req.bytes_bounced, &e->stats.bytes_bounced);
	atomic64_add(req.dma_ops, &e->stats.dma_ops);
	if (ret)
		atomic64_inc(&e->stats.errors);
	if (!f->detail) {
		req.bytes_bounced = 0;
		req.dma_ops = 0;
	}

	/*
	 * Nothing copied yet: let the syscall restart after a signal.  The
	 * outputs go back in any case: zeroed here, so that a caller without
	 * SA_RESTART does not take an earlier call's @done for this one's;
	 * after other errors they say what already reached the destination.
	 */
	if (ret == -EINTR && !req.done)
		ret = -ERESTARTSYS;
	if (copy_to_user(ureq, &req, sizeof(req)))
		return -EFAULT;
	return ret;
}

/* Ask iodma how a user buffer would go to the device; under remove_sem. */
static int edu_explain(struct edu_dev *e, struct iodma_edu_explain *req)
{
	struct iodma_explain ex;
	struct edu_slot *slot;
	struct iodma_md *md;
	int ret;

	md = iodma_md_from_user(req->addr, req->len,
				req->write ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
	if (IS_ERR(md))
		return PTR_ERR(md);
	slot = edu_slot_get(e);
	if (IS_ERR(slot)) {
		ret = PTR_ERR(slot);
		goto out_put_md;
	}
	ret = iodma_cmd_explain(req->write ? slot->dst : slot->src, md, 0, 0, &ex);
	edu_slot_put(e, slot);
	if (ret) {
		if (ret == -ENOSPC)
			ret = -EINVAL;
		goto out_put_md;
	}
	req->reason = ex.reason;
	req->nsegs = ex.nsegs;
	req->bad_offset = ex.bad_offset;
	req->flags = (ex.nsegs_estimated ? 1 : 0) | (ex.translated ? 2 : 0);
out_put_md:
	iodma_md_put(md);
	return ret;
}

/*
 * The slots' commands live only as long as the device is bound: like COPY,
 * EXPLAIN holds remove_sem for reading while it uses them.
 */
static long edu_ioctl_explain(struct edu_file *f, struct iodma_edu_explain __user *ureq)
{
	struct edu_dev *e = f->e;
	struct iodma_edu_explain req;
	int ret;

	if (!f->detail)
		return -EPERM;
	if (copy_from_user(&req, ureq, sizeof(req)))
		return -EFAULT;
	if (!req.len || req.len > EDU_MAX_TRANSFER || req.write > 1 || req.reserved)
		return -EINVAL;

	ret = edu_enter(e);
	if (ret)
		return ret;
	ret = edu_explain(e, &req);
	up_read(&e->remove_sem);
	if (ret)
		return ret;
	return copy_to_user(ureq, &req, sizeof(req)) ? -EFAULT : 0;
}

static long edu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct edu_file *f = file->private_data;

	switch (cmd) {
	case IODMA_EDU_IOC_COPY:
		return edu_ioctl_copy(f, (void __user *)arg);
	case IODMA_EDU_IOC_EXPLAIN:
		return edu_ioctl_explain(f, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

/* misc_open() has set private_data and holds misc_mtx against misc_deregister(). */
static int edu_open(struct inode *inode, struct file *file)
{
	struct edu_dev *e = container_of(file->private_data, struct edu_dev, misc);
	struct edu_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->e = e;
	f->detail = file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
	kref_get(&e->ref);
	file->private_data = f;
	return 0;
}

static int edu_file_release(struct inode *inode, struct file *file)
{
	struct edu_file *f = file->private_data;

	edu_put(f->e);
	kfree(f);
	return 0;
}

static const struct file_operations edu_fops = {
	.owner = THIS_MODULE,
	.open = edu_open,
	.release = edu_file_release,
	.unlocked_ioctl = edu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static int edu_stats_show(struct seq_file *m, void *unused)
{
	struct edu_dev *e = m->private;
	struct edu_stats *s = &e->stats;

	seq_printf(m, "requests: %lld\n", atomic64_read(&s->requests));
	seq_printf(m, "transfers: %lld\n", atomic64_read(&s->transfers));
	seq_printf(m, "bytes: %lld\n", atomic64_read(&s->bytes));
	seq_printf(m, "bytes_bounced: %lld\n", atomic64_read(&s->bytes_bounced));
	seq_printf(m, "dma_ops: %lld\n", atomic64_read(&s->dma_ops));
	seq_printf(m, "errors: %lld\n", atomic64_read(&s->errors));
	seq_printf(m, "irqs: %lld\n", atomic64_read(&s->irqs));
	seq_printf(m, "irq_type: %s\n", e->pdev->msi_enabled ? "MSI" : "INTx");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(edu_stats);

static void edu_debugfs_remove(void *data)
{
	struct edu_dev *e = data;

	debugfs_remove_recursive(e->debugfs);
}

static void edu_slots_destroy(void *data)
{
	struct edu_dev *e = data;
	int i;

	/*
	 * No ioctl can reach the slots any more (removing is set and remove
	 * has drained remove_sem); still leave nothing that points to freed
	 * commands, and no slot that looks free.
	 */
	for (i = 0; i < EDU_NR_SLOTS; i++) {
		set_bit(i, &e->slot_busy);
		if (e->slots[i].pinned) {
			iodma_md_complete(iodma_cmd_get_memory_descriptor(e->slots[i].src));
			iodma_md_complete(iodma_cmd_get_memory_descriptor(e->slots[i].dst));
		}
		iodma_cmd_clear_memory_descriptor(e->slots[i].src, true);
		iodma_cmd_clear_memory_descriptor(e->slots[i].dst, true);
		iodma_cmd_destroy(e->slots[i].src);
		iodma_cmd_destroy(e->slots[i].dst);
		e->slots[i].src = NULL;
		e->slots[i].dst = NULL;
	}
}

static int edu_slots_create(struct edu_dev *e)
{
	struct device *dev = &e->pdev->dev;
	struct edu_slot *s;
	int i, ret;

	for (i = 0; i < EDU_NR_SLOTS; i++) {
		s = &e->slots[i];
		s->src = iodma_cmd_create(dev, &edu_spec);
		if (IS_ERR(s->src)) {
			ret = PTR_ERR(s->src);
			goto err_destroy;
		}
		s->dst = iodma_cmd_create(dev, &edu_spec);
		if (IS_ERR(s->dst)) {
			ret = PTR_ERR(s->dst);
			iodma_cmd_destroy(s->src);
			goto err_destroy;
		}
	}
	return devm_add_action_or_reset(dev, edu_slots_destroy, e);

err_destroy:
	while (i--) {
		iodma_cmd_destroy(e->slots[i].src);
		iodma_cmd_destroy(e->slots[i].dst);
	}
	return ret;
}

static void edu_ida_free(void *data)
{
	struct edu_dev *e = data;

	ida_free(&edu_ida, e->id);
}

/* The identification register, and the liveness register that stores ~val. */
static int edu_identify(struct edu_dev *e)
{
	u32 id = readl(e->regs + EDU_REG_ID);

	if ((id & 0xff) != EDU_ID_MAGIC) {
		dev_err(&e->pdev->dev, "not an edu device (id %#010x)\n", id);
		return -ENODEV;
	}
	writel(EDU_LIVENESS_PATTERN, e->regs + EDU_REG_LIVENESS);
	if (readl(e->regs + EDU_REG_LIVENESS) != (u32)~EDU_LIVENESS_PATTERN) {
		dev_err(&e->pdev->dev, "liveness check failed\n");
		return -EIO;
	}
	dev_info(&e->pdev->dev, "edu %u.%u\n", id >> 24, (id >> 16) & 0xff);
	return 0;
}

/*
 * A DMA still running from an earlier binding (whose memory is unpinned by
 * now) must not resume into that memory once bus mastering is on again.
 * The edu engine has no reset: wait, with bus mastering off, for it to end.
 */
static int edu_engine_wait_idle(struct edu_dev *e)
{
	u64 cmd;
	int ret;

	ret = readq_poll_timeout(e->regs + EDU_REG_DMA_CMD, cmd, !(cmd & EDU_DMA_RUN),
				 USEC_PER_MSEC, EDU_DMA_TIMEOUT_MS * USEC_PER_MSEC);
	if (ret)
		dev_err(&e->pdev->dev, "DMA engine busy (cmd %#llx), refusing it\n", cmd);
	return ret ? -EBUSY : 0;
}

/*
 * Debug knob: make the device raise its DMA interrupt now, whether or not a
 * DMA has ended.  The driver must take it for what it is, a wake-up, and go
 * on waiting while the engine runs.
 */
static ssize_t edu_raise_irq_write(struct file *file, const char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	struct edu_dev *e = file->private_data;

	writel(EDU_IRQ_DMA, e->regs + EDU_REG_IRQ_RAISE);
	return count;
}

static const struct file_operations edu_raise_irq_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = edu_raise_irq_write,
	.llseek = noop_llseek,
};

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	struct device *dev = &pdev->dev;
	struct edu_dev *e;
	int ret;

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	kref_init(&e->ref);
	e->pdev = pdev;
	init_rwsem(&e->remove_sem);
	mutex_init(&e->engine_lock);
	init_waitqueue_head(&e->dma_wq);
	init_waitqueue_head(&e->slot_wq);
	/* Registered first, so released last: after the IRQ is freed. */
	ret = devm_add_action_or_reset(dev, edu_put, e);
	if (ret)
		return ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	e->regs = pcim_iomap_region(pdev, 0, KBUILD_MODNAME);
	if (IS_ERR(e->regs))
		return dev_err_probe(dev, PTR_ERR(e->regs), "cannot map BAR0\n");
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(EDU_ADDR_BITS));
	if (ret)
		return dev_err_probe(dev, ret, "no usable %d-bit DMA\n", EDU_ADDR_BITS);
	ret = edu_identify(e);
	if (ret)
		return ret;
	ret = edu_engine_wait_idle(e);
	if (ret)
		return ret;
	/* Without bus mastering a transfer "completes" and moves nothing. */
	pci_set_master(pdev);

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_INTX);
	if (ret < 0)
		return dev_err_probe(dev, ret, "no interrupt\n");
	writel(~0U, e->regs + EDU_REG_IRQ_ACK);
	ret = devm_request_irq(dev, pci_irq_vector(pdev, 0), edu_irq, IRQF_SHARED,
			       KBUILD_MODNAME, e);
	if (ret)
		return ret;

	ret = edu_slots_create(e);
	if (ret)
		return ret;

	e->id = ida_alloc(&edu_ida, GFP_KERNEL);
	if (e->id < 0)
		return e->id;
	ret = devm_add_action_or_reset(dev, edu_ida_free, e);
	if (ret)
		return ret;
	snprintf(e->name, sizeof(e->name), "iodma-edu%d", e->id);

	e->debugfs = debugfs_create_dir(pci_name(pdev), edu_debugfs_root);
	debugfs_create_file("stats", 0444, e->debugfs, e, &edu_stats_fops);
	debugfs_create_file("raise_irq", 0200, e->debugfs, e, &edu_raise_irq_fops);
	debugfs_create_bool("engine_stuck", 0600, e->debugfs, &e->fake_stuck);
	ret = devm_add_action_or_reset(dev, edu_debugfs_remove, e);
	if (ret)
		return ret;

	e->misc.minor = MISC_DYNAMIC_MINOR;
	e->misc.name = e->name;
	/* Root's only, unless an administrator says otherwise: see the uapi header. */
	e->misc.mode = 0600;
	e->misc.fops = &edu_fops;
	e->misc.parent = dev;
	ret = misc_register(&e->misc);
	if (ret)
		return ret;

	pci_set_drvdata(pdev, e);
	dev_info(dev, "/dev/%s, %s, iodma %s\n", e->name, pdev->msi_enabled ? "MSI" : "INTx",
		 iodma_version());
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_dev *e = pci_get_drvdata(pdev);

	misc_deregister(&e->misc);
	WRITE_ONCE(e->removing, true);
	wake_up_all(&e->slot_wq);
	/* Wait for the requests in flight; they stop at the next window. */
	down_write(&e->remove_sem);
	up_write(&e->remove_sem);
	/* A hung engine must not write the memory about to be unpinned. */
	if (READ_ONCE(e->broken))
		pci_clear_master(pdev);
	/* The rest goes with the managed resources, the state with its last file. */
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};

static int __init edu_init(void)
{
	int ret;

	edu_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = pci_register_driver(&edu_driver);
	if (ret)
		debugfs_remove_recursive(edu_debugfs_root);
	return ret;
}
module_init(edu_init);

static void __exit edu_exit(void)
{
	pci_unregister_driver(&edu_driver);
	debugfs_remove_recursive(edu_debugfs_root);
}
module_exit(edu_exit);

MODULE_DESCRIPTION("iodma demonstration driver for QEMU's edu device");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
