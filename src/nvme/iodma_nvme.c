// SPDX-License-Identifier: GPL-2.0-only
/*
 * iodma_nvme: a blk-mq NVMe driver whose every data byte goes through iodma.
 *
 * The worked example of porting a real driver's DMA to iodma.  Everything
 * but the data path is an ordinary small NVMe driver: controller disable and
 * enable, an admin queue, Identify, one I/O queue pair per CPU (as many as
 * the controller grants), MSI-X with an INTx fallback, READ, WRITE and
 * FLUSH, a gendisk per namespace (/dev/iodma-nvme<C>n<N>) and request
 * timeouts (Abort, then a controller reset that fails the I/O in flight;
 * a controller that does not come back, or is gone, is disabled).
 *
 * The data path has no mapping code of its own.  Each I/O queue has an
 * iodma pool of as many commands as the queue has tags; a request's bio_vec
 * entries are described in place in a pooled command
 * (iodma_cmd_set_bvecs()), prepared without sleeping
 * (iodma_cmd_prepare_nowait()) and the device is given what
 * iodma_cmd_gen_segments() emits.  The NVMe data pointer rules are the
 * iodma specification:
 *
 *  - PRP (data_mode=prp): the first entry dword aligned, every later one a
 *    whole controller page: alignment 4, virt_boundary_mask and segment
 *    boundary of the page, segments of at most a page, so that a segment is
 *    a PRP entry.  At most one PRP list page (512 entries) follows PRP1.
 *  - SGL (data_mode=sgl, if Identify Controller's SGLS says so): iodma's
 *    little-endian 64-bit segment is, for a length below 2^32, byte for byte
 *    an NVMe SGL Data Block descriptor; segments are generated straight
 *    into the request's descriptor list, which a Last Segment descriptor in
 *    the command points at (one segment goes in the command itself).
 *
 * Memory the rules or the addr_bits parameter do not allow is bounced by
 * iodma; the bounce counts are in iodma's debugfs, iodma/<pool>/stats, one
 * pool per I/O queue named iodma-nvme<C>-q<Q>.  The block layer's
 * virt_boundary_mask is not set: gapped requests reach the driver and
 * iodma bounces them (IODMA_BOUNCE_GAPS) instead of the block layer
 * splitting them, so that misaligned O_DIRECT memory exercises iodma.
 *
 * A range prepared with iodma_cmd_prepare_nowait() is completed without
 * sleeping, and clearing the command's own bio_vec descriptor and putting
 * the command back do not sleep either: requests are completed in the hard
 * interrupt handler, under the completion queue's spinlock, as
 * drivers/nvme/host/pci.c does, and queue_rq runs in atomic context.
 *
 * The driver binds QEMU's NVMe controller (1b36:0010) by its ID.  For any
 * other NVMe controller, hand it over explicitly:
 *
 *	echo iodma_nvme > /sys/bus/pci/devices/<BDF>/driver_override
 *	echo <BDF> > /sys/bus/pci/drivers/nvme/unbind
 *	echo <BDF> > /sys/bus/pci/drivers_probe
 */
#include <linux/blk-mq.h>
#include <linux/blk-mq-pci.h>
#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iodma.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#define NVME_PAGE_SHIFT		12
#define NVME_PAGE_SIZE		BIT(NVME_PAGE_SHIFT)
/* One PRP list page, never chained: PRP1 and 512 list entries. */
#define PRPS_PER_LIST		(NVME_PAGE_SIZE / sizeof(__le64))
#define PRP_MAX_SEGS		(1 + PRPS_PER_LIST)
/* One SGL segment of a page: 256 data block descriptors. */
#define SGLS_PER_LIST		(NVME_PAGE_SIZE / sizeof(struct nvme_sgl_desc))
/* The longest transfer: what one PRP list page maps. */
#define MAX_TRANSFER		(PRPS_PER_LIST * NVME_PAGE_SIZE)
/* bio_vec entries gathered per request (contiguous ones merged) */
#define MAX_BVECS		128
#define ADMIN_DEPTH		32
#define ADMIN_TIMEOUT		(10 * HZ)
/* SGLS bits 1:0 */
#define SGLS_SUPPORT_MASK	0x3
#define SGLS_BYTE_ALIGNED	0x1
#define SGLS_DWORD_ALIGNED	0x2

static_assert(sizeof(struct iodma_seg64_le) == sizeof(struct nvme_sgl_desc));

static char *data_mode = "prp";
module_param(data_mode, charp, 0444);
MODULE_PARM_DESC(data_mode, "data pointers: prp (default) or sgl");

static unsigned int addr_bits = 64;
module_param(addr_bits, uint, 0444);
MODULE_PARM_DESC(addr_bits, "address bits of the iodma specification (32..64, default 64)");

static unsigned int io_queue_depth = 32;
module_param(io_queue_depth, uint, 0444);
MODULE_PARM_DESC(io_queue_depth, "entries per I/O queue (2..1024, default 32)");

static unsigned int io_timeout = 30;
module_param(io_timeout, uint, 0444);
MODULE_PARM_DESC(io_timeout, "I/O timeout in seconds (default 30)");

static bool use_intx;
module_param(use_intx, bool, 0444);
MODULE_PARM_DESC(use_intx, "use the INTx interrupt, not MSI-X");

static bool phase_stats;
module_param(phase_stats, bool, 0444);
MODULE_PARM_DESC(phase_stats, "time each step of the data path (debugfs iodma_nvme/phases)");

static DEFINE_IDA(iodma_nvme_ida);
static struct dentry *iodma_nvme_debugfs;

/*
 * make nvme-bench's breakdown (phase_stats=1): the guest time of each step
 * of a request's data path, summed per CPU.  Under QEMU's -icount shift=0,
 * with no vCPU halting, a guest nanosecond is an instruction.  "clock" is
 * the cost of the clock read each step adds (two reads in a row).
 */
enum phase {
	PH_CLOCK, PH_GATHER, PH_GET, PH_SET, PH_PREPARE, PH_GEN,
	PH_COMPLETE, PH_CLEAR, PH_PUT, NR_PHASES
};

static const char * const phase_names[NR_PHASES] = {
	"clock", "gather", "get", "set_bvecs", "prepare_nowait", "gen_segments",
	"complete", "clear", "put",
};

struct phase_sums {
	u64 ns[NR_PHASES];
	u64 count[NR_PHASES];
};

static DEFINE_PER_CPU(struct phase_sums, phase_sums);

static u64 phase_start(void)
{
	return unlikely(phase_stats) ? ktime_get_ns() : 0;
}

/* Count the time since *@t as @ph and restart *@t. */
static void phase_end(enum phase ph, u64 *t)
{
	u64 now;

	if (likely(!phase_stats))
		return;
	now = ktime_get_ns();
	this_cpu_add(phase_sums.ns[ph], now - *t);
	this_cpu_inc(phase_sums.count[ph]);
	*t = now;
}

static int phases_show(struct seq_file *m, void *unused)
{
	unsigned int ph, cpu;

	for (ph = 0; ph < NR_PHASES; ph++) {
		u64 ns = 0, count = 0;

		for_each_possible_cpu(cpu) {
			ns += per_cpu(phase_sums.ns[ph], cpu);
			count += per_cpu(phase_sums.count[ph], cpu);
		}
		seq_printf(m, "%s %llu %llu\n", phase_names[ph], count, ns);
	}
	return 0;
}

static int phases_open(struct inode *inode, struct file *file)
{
	return single_open(file, phases_show, NULL);
}

/* Any write starts the sums again. */
static ssize_t phases_write(struct file *file, const char __user *buf, size_t len,
			    loff_t *ppos)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&phase_sums, cpu), 0, sizeof(struct phase_sums));
	return len;
}

static const struct file_operations phases_fops = {
	.owner = THIS_MODULE,
	.open = phases_open,
	.read = seq_read,
	.write = phases_write,
	.llseek = seq_lseek,
	.release = single_release,
};

struct iodma_nvme_ctrl;

/**
 * struct iodma_nvme_queue - a submission and completion queue pair
 * @ctrl: the controller
 * @qid: 0 for the admin queue
 * @depth: entries in each queue
 * @sqes: submission queue
 * @cqes: completion queue
 * @sq_dma: bus address of @sqes
 * @cq_dma: bus address of @cqes
 * @sq_db: submission queue tail doorbell
 * @cq_db: completion queue head doorbell
 * @sq_lock: protects @sq_tail and the submission queue
 * @sq_tail: next free submission entry
 * @cq_lock: protects @cq_head and @cq_phase (taken in the interrupt handler)
 * @cq_head: next completion entry to look at
 * @cq_phase: phase bit of a new completion entry
 * @vector: interrupt vector of the completion queue
 * @pool: iodma commands for the queue's requests (I/O queues only)
 */
struct iodma_nvme_queue {
	struct iodma_nvme_ctrl *ctrl;
	u16 qid;
	u16 depth;
	struct nvme_command *sqes;
	struct nvme_completion *cqes;
	dma_addr_t sq_dma;
	dma_addr_t cq_dma;
	u32 __iomem *sq_db;
	u32 __iomem *cq_db;
	spinlock_t sq_lock;	/* the submission queue */
	u16 sq_tail;
	spinlock_t cq_lock;	/* the completion queue */
	u16 cq_head;
	u8 cq_phase;
	u16 vector;
	struct iodma_pool *pool;
};

/**
 * struct iodma_nvme_ns - a namespace and its disk
 * @node: in the controller's list
 * @ctrl: the controller
 * @nsid: namespace ID
 * @lba_shift: log2 of the logical block size
 * @disk: the gendisk
 * @live: added and not being deleted: a failed controller marks it dead
 *	(under the controller's reset_lock)
 */
struct iodma_nvme_ns {
	struct list_head node;
	struct iodma_nvme_ctrl *ctrl;
	u32 nsid;
	u8 lba_shift;
	struct gendisk *disk;
	bool live;
};

/**
 * struct iodma_nvme_ctrl - a controller
 * @pdev: its PCI device
 * @bar: its registers
 * @cap: CAP register
 * @db_stride: doorbell stride in 32-bit words
 * @ready_timeout_ms: CAP.TO
 * @instance: <C> of the disk names
 * @queues: admin queue, then the I/O queues
 * @max_io_queues: the most I/O queues (online CPUs at probe)
 * @nr_io_queues: I/O queues
 * @nr_vecs: interrupt vectors
 * @nr_irqs: vectors with a handler (0 to @nr_irqs - 1)
 * @tagset: the I/O queues' tag set
 * @list_pool: PRP list and SGL segment pages, one per request
 * @spec: the iodma specification of the data pointers
 * @sgl: data_mode=sgl is in effect
 * @sgl_dword: the controller wants SGL data dword aligned
 * @vwc: a volatile write cache is present
 * @max_transfer: bytes per request (MDTS and one list page)
 * @admin_lock: one admin command at a time
 * @admin_done: the admin command completed
 * @admin_next_cid: command ID of the next admin command
 * @admin_cid: command ID of the admin command waited for, or U32_MAX (set
 *	under the admin completion queue's lock)
 * @admin_status: its status field
 * @admin_result: its result
 * @ident: Identify buffer
 * @ident_dma: bus address of @ident
 * @namespaces: the namespaces with a disk (changed under @reset_lock)
 * @reset_lock: serialises resetting and disabling the controller
 * @dead: the controller is disabled: I/O fails at once
 * @resetting: a reset is under way: admin commands are refused (under the
 *	admin completion queue's lock)
 * @debugfs: the controller's debugfs directory, iodma_nvme/<BDF>/
 * @drop_submissions: debugfs: I/O commands to drop instead of submitting
 *	(the controller never sees them: their requests time out)
 */
struct iodma_nvme_ctrl {
	struct pci_dev *pdev;
	void __iomem *bar;
	u64 cap;
	u32 db_stride;
	u32 ready_timeout_ms;
	int instance;
	struct iodma_nvme_queue *queues;
	unsigned int max_io_queues;
	unsigned int nr_io_queues;
	unsigned int nr_vecs;
	unsigned int nr_irqs;
	struct blk_mq_tag_set tagset;
	struct dma_pool *list_pool;
	struct iodma_spec spec;
	bool sgl;
	bool sgl_dword;
	bool vwc;
	u32 max_transfer;
	struct mutex admin_lock;	/* one admin command at a time */
	struct completion admin_done;
	u16 admin_next_cid;
	u32 admin_cid;
	u16 admin_status;
	u32 admin_result;
	void *ident;
	dma_addr_t ident_dma;
	struct list_head namespaces;
	struct mutex reset_lock;	/* resetting or disabling the controller */
	bool dead;
	bool resetting;
	struct dentry *debugfs;
	atomic_t drop_submissions;
};

/**
 * struct iodma_nvme_iod - per request driver data
 * @dma: the iodma command while the request is at the device, or NULL
 * @list: the request's PRP list or SGL segment (coherent, allocated once)
 * @list_dma: its bus address
 * @status: completion status
 * @done: the completion was seen (or the request cancelled)
 * @aborted: an Abort was sent for it
 * @gen: the generation in its command ID, one more at each start
 * @bvecs: the request's bio_vec entries, described by @dma in place
 */
struct iodma_nvme_iod {
	struct iodma_cmd *dma;
	void *list;
	dma_addr_t list_dma;
	blk_status_t status;
	bool done;
	bool aborted;
	u8 gen;
	struct bio_vec bvecs[MAX_BVECS];
};

/*
 * A command ID is the request's tag (depth at most 1024) and a 4-bit
 * generation, as Linux's nvme_cid() does it: a late or duplicate
 * completion of an earlier use of the tag is told from the current one.
 */
#define CID_TAG_BITS	12
#define CID_TAG_MASK	(BIT(CID_TAG_BITS) - 1)

static u16 rq_cid(struct request *rq)
{
	struct iodma_nvme_iod *iod = blk_mq_rq_to_pdu(rq);

	return (iod->gen & 0xf) << CID_TAG_BITS | rq->tag;
}

static struct device *ctrl_dev(struct iodma_nvme_ctrl *ctrl)
{
	return &ctrl->pdev->dev;
}

/* Registers and queues */

static int wait_csts(struct iodma_nvme_ctrl *ctrl, u32 mask, u32 val)
{
	u32 csts;
	int ret;

	ret = readl_poll_timeout(ctrl->bar + NVME_REG_CSTS, csts,
				 csts == ~0U || (csts & mask) == val, 1000,
				 ctrl->ready_timeout_ms * USEC_PER_MSEC);
	if (!ret && csts == ~0U)
		ret = -ENODEV;
	if (ret)
		dev_err(ctrl_dev(ctrl), "CSTS 0x%x: timed out waiting for 0x%x\n", csts, val);
	return ret;
}

/* CC.EN = 0 (after a normal shutdown if asked) and wait for CSTS.RDY = 0. */
static int disable_controller(struct iodma_nvme_ctrl *ctrl, bool shutdown)
{
	u32 cc = readl(ctrl->bar + NVME_REG_CC);

	if (shutdown && (cc & NVME_CC_ENABLE)) {
		writel((cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL, ctrl->bar + NVME_REG_CC);
		wait_csts(ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT);
		cc = readl(ctrl->bar + NVME_REG_CC);
	}
	writel(cc & ~(NVME_CC_ENABLE | NVME_CC_SHN_MASK), ctrl->bar + NVME_REG_CC);
	return wait_csts(ctrl, NVME_CSTS_RDY, 0);
}

static int enable_controller(struct iodma_nvme_ctrl *ctrl)
{
	u32 cc = NVME_CC_CSS_NVM | (NVME_PAGE_SHIFT - 12) << NVME_CC_MPS_SHIFT |
		 NVME_CC_AMS_RR | NVME_CC_SHN_NONE | NVME_CC_IOSQES | NVME_CC_IOCQES;

	writel(cc, ctrl->bar + NVME_REG_CC);
	writel(cc | NVME_CC_ENABLE, ctrl->bar + NVME_REG_CC);
	return wait_csts(ctrl, NVME_CSTS_RDY | NVME_CSTS_CFS, NVME_CSTS_RDY);
}

static struct lock_class_key admin_sq_key;

static int alloc_queue(struct iodma_nvme_ctrl *ctrl, u16 qid, u16 depth, u16 vector)
{
	struct iodma_nvme_queue *q = &ctrl->queues[qid];
	u32 __iomem *dbs = ctrl->bar + NVME_REG_DBS;

	q->sqes = dmam_alloc_coherent(ctrl_dev(ctrl), depth * sizeof(*q->sqes), &q->sq_dma,
				      GFP_KERNEL);
	q->cqes = dmam_alloc_coherent(ctrl_dev(ctrl), depth * sizeof(*q->cqes), &q->cq_dma,
				      GFP_KERNEL);
	if (!q->sqes || !q->cqes)
		return -ENOMEM;
	q->ctrl = ctrl;
	q->qid = qid;
	q->depth = depth;
	q->vector = vector;
	q->sq_db = dbs + 2 * qid * ctrl->db_stride;
	q->cq_db = dbs + (2 * qid + 1) * ctrl->db_stride;
	spin_lock_init(&q->sq_lock);
	/*
	 * The admin queue's is taken only under its completion queue's lock
	 * (admin_start()), interrupts off; the I/O queues' in queue_rq,
	 * interrupts on, never under a completion queue's lock.
	 */
	if (!qid)
		lockdep_set_class(&q->sq_lock, &admin_sq_key);
	spin_lock_init(&q->cq_lock);
	q->sq_tail = 0;
	q->cq_head = 0;
	q->cq_phase = 1;
	return 0;
}

static void submit(struct iodma_nvme_queue *q, const struct nvme_command *c)
{
	spin_lock(&q->sq_lock);
	memcpy(&q->sqes[q->sq_tail], c, sizeof(*c));
	if (++q->sq_tail == q->depth)
		q->sq_tail = 0;
	/* writel orders the entry's coherent memory write before the doorbell */
	writel(q->sq_tail, q->sq_db);
	spin_unlock(&q->sq_lock);
}

/* Admin commands */

/*
 * The admin command awaited: its ID (U32_MAX: none) is set, and the command
 * submitted, under the admin completion queue's lock, which admin_cqe()
 * runs under and admin_stop() takes: a late completion of a command that
 * timed out is ignored, and a reset or failure either comes first (the
 * command is refused) or ends the wait.
 */
static int admin_start(struct iodma_nvme_ctrl *ctrl, struct nvme_command *c)
{
	struct iodma_nvme_queue *aq = &ctrl->queues[0];
	int ret = 0;

	spin_lock_irq(&aq->cq_lock);
	if (ctrl->dead) {
		ret = -ENODEV;
	} else if (ctrl->resetting) {
		ret = -EAGAIN;
	} else {
		ctrl->admin_cid = c->common.command_id;
		ctrl->admin_status = 0;
		reinit_completion(&ctrl->admin_done);
		submit(aq, c);
	}
	spin_unlock_irq(&aq->cq_lock);
	return ret;
}

/*
 * A reset begins (@resetting) or ends, or the controller is failed: the
 * command awaited, if any, ends as aborted by the host.
 */
static void admin_stop(struct iodma_nvme_ctrl *ctrl, bool resetting)
{
	struct iodma_nvme_queue *aq = &ctrl->queues[0];

	spin_lock_irq(&aq->cq_lock);
	ctrl->resetting = resetting;
	if (ctrl->admin_cid != U32_MAX) {
		ctrl->admin_cid = U32_MAX;
		ctrl->admin_status = NVME_SC_HOST_ABORTED_CMD;
		complete(&ctrl->admin_done);
	}
	spin_unlock_irq(&aq->cq_lock);
}

static int admin_exec(struct iodma_nvme_ctrl *ctrl, struct nvme_command *c, u32 *result)
{
	struct iodma_nvme_queue *aq = &ctrl->queues[0];
	int ret;

	mutex_lock(&ctrl->admin_lock);
	/* a late completion of a command that timed out has an older ID */
	c->common.command_id = ctrl->admin_next_cid++;
	ret = admin_start(ctrl, c);
	if (ret)
		goto out;
	if (!wait_for_completion_timeout(&ctrl->admin_done, ADMIN_TIMEOUT)) {
		dev_err(ctrl_dev(ctrl), "admin opcode 0x%x timed out\n", c->common.opcode);
		ret = -ETIMEDOUT;
	} else if (READ_ONCE(ctrl->dead)) {
		ret = -ENODEV;
	} else if (ctrl->admin_status == NVME_SC_HOST_ABORTED_CMD) {
		ret = -ECANCELED;	/* a reset */
	} else if (ctrl->admin_status) {
		dev_err(ctrl_dev(ctrl), "admin opcode 0x%x: NVMe status 0x%x\n",
			c->common.opcode, ctrl->admin_status);
		ret = -EIO;
	} else if (result) {
		*result = ctrl->admin_result;
	}
out:
	spin_lock_irq(&aq->cq_lock);
	ctrl->admin_cid = U32_MAX;
	spin_unlock_irq(&aq->cq_lock);
	mutex_unlock(&ctrl->admin_lock);
	return ret;
}

/* Under the admin completion queue's lock (see admin_start()). */
static void admin_cqe(struct iodma_nvme_ctrl *ctrl, const struct nvme_completion *cqe)
{
	if (cqe->command_id != ctrl->admin_cid)
		return;	/* a command that timed out */
	ctrl->admin_status = le16_to_cpu(cqe->status) >> 1;
	ctrl->admin_result = le32_to_cpu(cqe->result.u32);
	complete(&ctrl->admin_done);
}

static int identify(struct iodma_nvme_ctrl *ctrl, u8 cns, u32 nsid)
{
	struct nvme_command c = {};

	c.identify.opcode = nvme_admin_identify;
	c.identify.nsid = cpu_to_le32(nsid);
	c.identify.dptr.prp1 = cpu_to_le64(ctrl->ident_dma);
	c.identify.cns = cns;
	return admin_exec(ctrl, &c, NULL);
}

static int create_queue_pair(struct iodma_nvme_queue *q)
{
	struct nvme_command c = {};
	int ret;

	c.create_cq.opcode = nvme_admin_create_cq;
	c.create_cq.prp1 = cpu_to_le64(q->cq_dma);
	c.create_cq.cqid = cpu_to_le16(q->qid);
	c.create_cq.qsize = cpu_to_le16(q->depth - 1);
	c.create_cq.cq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG | NVME_CQ_IRQ_ENABLED);
	c.create_cq.irq_vector = cpu_to_le16(q->vector);
	ret = admin_exec(q->ctrl, &c, NULL);
	if (ret)
		return ret;
	memset(&c, 0, sizeof(c));
	c.create_sq.opcode = nvme_admin_create_sq;
	c.create_sq.prp1 = cpu_to_le64(q->sq_dma);
	c.create_sq.sqid = cpu_to_le16(q->qid);
	c.create_sq.qsize = cpu_to_le16(q->depth - 1);
	c.create_sq.sq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG | NVME_SQ_PRIO_MEDIUM);
	c.create_sq.cqid = cpu_to_le16(q->qid);
	return admin_exec(q->ctrl, &c, NULL);
}

/* Completions */

/* Give the request's memory back to the CPU and its command to the pool. */
static void release_dma(struct iodma_nvme_queue *q, struct iodma_nvme_iod *iod, bool ok)
{
	struct iodma_cmd *cmd = iod->dma;
	u64 t;
	int ret;

	if (!cmd)
		return;
	iod->dma = NULL;
	t = phase_start();
	/*
	 * After a failure the memory keeps what it had: nothing is copied
	 * back.  The command is prepared once and its descriptor is its own:
	 * neither call can fail.
	 */
	if (ok)
		ret = iodma_cmd_complete(cmd, true, true);
	else
		ret = iodma_cmd_complete_partial(cmd, 0, false, false);
	WARN_ON_ONCE(ret);
	phase_end(PH_COMPLETE, &t);
	WARN_ON_ONCE(iodma_cmd_clear_memory_descriptor(cmd, true));
	phase_end(PH_CLEAR, &t);
	WARN_ON_ONCE(iodma_pool_put(q->pool, cmd));
	phase_end(PH_PUT, &t);
}

static void finish_request(struct iodma_nvme_queue *q, struct request *rq, blk_status_t status)
{
	struct iodma_nvme_iod *iod = blk_mq_rq_to_pdu(rq);

	if (iod->done)
		return;
	release_dma(q, iod, status == BLK_STS_OK);
	iod->status = status;
	WRITE_ONCE(iod->done, true);
	blk_mq_complete_request(rq);
}

static void io_cqe(struct iodma_nvme_queue *q, const struct nvme_completion *cqe)
{
	struct iodma_nvme_ctrl *ctrl = q->ctrl;
	u16 status = le16_to_cpu(cqe->status) >> 1;
	struct request *rq;

	if ((cqe->command_id & CID_TAG_MASK) >= ctrl->tagset.queue_depth) {
		dev_err(ctrl_dev(ctrl), "qid %u: completion of unknown command ID %u\n", q->qid,
			cqe->command_id);
		return;
	}
	rq = blk_mq_tag_to_rq(ctrl->tagset.tags[q->qid - 1], cqe->command_id & CID_TAG_MASK);
	/* a tag's request stays in the table after it ends: check it is this one */
	if (unlikely(!rq || !blk_mq_request_started(rq) || rq_cid(rq) != cqe->command_id)) {
		dev_err(ctrl_dev(ctrl), "qid %u: completion of idle or stale command ID %u\n",
			q->qid, cqe->command_id);
		return;
	}
	if (status)
		dev_err_ratelimited(ctrl_dev(ctrl), "qid %u cid %u: NVMe status 0x%x\n",
				    q->qid, cqe->command_id, status);
	finish_request(q, rq, status ? BLK_STS_IOERR : BLK_STS_OK);
}

/* Handle the queue's new completion entries; whether there were any. */
static bool process_cq(struct iodma_nvme_queue *q)
{
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&q->cq_lock, flags);
	for (;;) {
		struct nvme_completion *cqe = &q->cqes[q->cq_head];

		if ((le16_to_cpu(READ_ONCE(cqe->status)) & 1) != q->cq_phase)
			break;
		/* the entry's other fields are read after its phase bit */
		dma_rmb();
		if (q->qid)
			io_cqe(q, cqe);
		else
			admin_cqe(q->ctrl, cqe);
		if (++q->cq_head == q->depth) {
			q->cq_head = 0;
			q->cq_phase ^= 1;
		}
		found = true;
	}
	if (found)
		writel(q->cq_head, q->cq_db);
	spin_unlock_irqrestore(&q->cq_lock, flags);
	return found;
}

static irqreturn_t queue_irq(int irq, void *data)
{
	return process_cq(data) ? IRQ_HANDLED : IRQ_NONE;
}

/*
 * The only vector (INTx, or a single MSI-X vector): every queue.  A shared
 * INTx line is fine: the handler consumes every entry and writes the head
 * doorbells, which deasserts the controller's interrupt.
 */
static irqreturn_t ctrl_irq(int irq, void *data)
{
	struct iodma_nvme_ctrl *ctrl = data;
	unsigned int i, n = READ_ONCE(ctrl->nr_io_queues);
	bool found = false;

	for (i = 0; i <= n; i++)
		found |= process_cq(&ctrl->queues[i]);
	return found ? IRQ_HANDLED : IRQ_NONE;
}

static void *vector_data(struct iodma_nvme_ctrl *ctrl, u16 vector)
{
	return ctrl->nr_vecs == 1 ? (void *)ctrl : (void *)&ctrl->queues[vector];
}

/* Vectors are requested in order: 0 for the admin queue, then one per I/O queue. */
static int request_vector(struct iodma_nvme_ctrl *ctrl)
{
	u16 vector = ctrl->nr_irqs;
	int ret;

	ret = pci_request_irq(ctrl->pdev, vector, ctrl->nr_vecs == 1 ? ctrl_irq : queue_irq,
			      NULL, vector_data(ctrl, vector), "iodma-nvme%d-q%u", ctrl->instance,
			      vector);
	if (!ret)
		ctrl->nr_irqs++;
	return ret;
}

static void free_vectors(struct iodma_nvme_ctrl *ctrl)
{
	while (ctrl->nr_irqs) {
		ctrl->nr_irqs--;
		pci_free_irq(ctrl->pdev, ctrl->nr_irqs, vector_data(ctrl, ctrl->nr_irqs));
	}
}

/* Failure */

static bool cancel_request(struct request *rq, void *data)
{
	struct iodma_nvme_queue *q = data;

	if (rq->mq_hctx->queue_num != q->qid - 1)
		return true;
	finish_request(q, rq, BLK_STS_IOERR);
	return true;
}

/*
 * The controller is disabled: complete what it completed before, and fail
 * every other request it still has.
 */
static void cancel_io(struct iodma_nvme_ctrl *ctrl)
{
	unsigned int i;

	for (i = 1; ctrl->tagset.tags && i <= ctrl->nr_io_queues; i++) {
		struct iodma_nvme_queue *q = &ctrl->queues[i];

		process_cq(q);
		spin_lock_irq(&q->cq_lock);
		blk_mq_tagset_busy_iter(&ctrl->tagset, cancel_request, q);
		spin_unlock_irq(&q->cq_lock);
	}
}

/*
 * Disable the controller (shut it down first if @shutdown) and fail every
 * request it still has: after this no DMA is in flight and each iodma
 * command is back in its pool.  Later requests fail in queue_rq.
 */
static void __fail_controller(struct iodma_nvme_ctrl *ctrl, bool shutdown)
{
	lockdep_assert_held(&ctrl->reset_lock);
	/*
	 * A controller that does not stop (CSTS.RDY stays set) could still
	 * DMA into the memory of the requests cancelled below: cut its bus
	 * mastering first.  The controller is dead from here on anyway.
	 */
	disable_controller(ctrl, shutdown);
	pci_clear_master(ctrl->pdev);
	WRITE_ONCE(ctrl->dead, true);
	admin_stop(ctrl, false);
	cancel_io(ctrl);
}

/*
 * After the tag set is running again (queue_rq fails everything once
 * dead): marking a disk dead may wait for writeback.
 */
static void mark_disks_dead(struct iodma_nvme_ctrl *ctrl)
{
	struct iodma_nvme_ns *ns;

	lockdep_assert_held(&ctrl->reset_lock);
	list_for_each_entry(ns, &ctrl->namespaces, node)
		if (ns->live)
			blk_mark_disk_dead(ns->disk);
}

static void fail_controller(struct iodma_nvme_ctrl *ctrl, bool shutdown)
{
	mutex_lock(&ctrl->reset_lock);
	if (!ctrl->dead) {
		if (ctrl->tagset.tags)
			blk_mq_quiesce_tagset(&ctrl->tagset);
		__fail_controller(ctrl, shutdown);
		if (ctrl->tagset.tags) {
			blk_mq_unquiesce_tagset(&ctrl->tagset);
			mark_disks_dead(ctrl);
		}
	}
	mutex_unlock(&ctrl->reset_lock);
}

/* A queue pair as a controller reset leaves it: empty. */
static void reset_queue(struct iodma_nvme_queue *q)
{
	spin_lock_irq(&q->cq_lock);
	memset(q->cqes, 0, q->depth * sizeof(*q->cqes));
	q->cq_head = 0;
	q->cq_phase = 1;
	/* nothing submits: I/O is quiesced, admin commands refused (resetting) */
	q->sq_tail = 0;
	spin_unlock_irq(&q->cq_lock);
}

/* The admin queue's registers, then CC.EN = 1. */
static int start_controller(struct iodma_nvme_ctrl *ctrl)
{
	struct iodma_nvme_queue *aq = &ctrl->queues[0];

	writel((aq->depth - 1) | (aq->depth - 1) << 16, ctrl->bar + NVME_REG_AQA);
	lo_hi_writeq(aq->sq_dma, ctrl->bar + NVME_REG_ASQ);
	lo_hi_writeq(aq->cq_dma, ctrl->bar + NVME_REG_ACQ);
	return enable_controller(ctrl);
}

static int set_queue_count(struct iodma_nvme_ctrl *ctrl, unsigned int want);
static int create_queue_pair(struct iodma_nvme_queue *q);

/*
 * A request the controller does not complete, even when aborted, or a
 * fatal controller status: disable the controller, fail every request it
 * had (it does no DMA once disabled), and enable it again with the same
 * queues; I/O goes on.  A controller that does not come back is failed.
 */
static void reset_controller(struct iodma_nvme_ctrl *ctrl, struct iodma_nvme_iod *iod)
{
	unsigned int i;
	int ret;

	mutex_lock(&ctrl->reset_lock);
	/* a reset or failure that ran meanwhile (another disk's timeout) ended it */
	if (ctrl->dead || READ_ONCE(iod->done)) {
		mutex_unlock(&ctrl->reset_lock);
		return;
	}
	dev_warn(ctrl_dev(ctrl), "resetting the controller\n");
	blk_mq_quiesce_tagset(&ctrl->tagset);
	/* an admin command awaited (another timeout's Abort) ends here */
	admin_stop(ctrl, true);
	ret = disable_controller(ctrl, false);
	if (!ret) {
		cancel_io(ctrl);
		for (i = 0; i <= ctrl->nr_io_queues; i++)
			reset_queue(&ctrl->queues[i]);
		ret = start_controller(ctrl);
	}
	if (!ret) {
		admin_stop(ctrl, false);
		ret = set_queue_count(ctrl, ctrl->nr_io_queues);
		if (ret >= 0)
			ret = ret == ctrl->nr_io_queues ? 0 : -ENODEV;
	}
	for (i = 1; !ret && i <= ctrl->nr_io_queues; i++)
		ret = create_queue_pair(&ctrl->queues[i]);
	if (ret) {
		dev_err(ctrl_dev(ctrl), "reset failed (%d): disabling the controller\n", ret);
		__fail_controller(ctrl, false);
	}
	blk_mq_unquiesce_tagset(&ctrl->tagset);
	if (ret)
		mark_disks_dead(ctrl);
	else
		dev_info(ctrl_dev(ctrl), "controller reset: I/O goes on\n");
	mutex_unlock(&ctrl->reset_lock);
}

/* blk-mq */

static int map_prps(struct iodma_cmd *cmd, struct iodma_nvme_iod *iod, u64 len,
		    struct nvme_command *c)
{
	struct iodma_seg64_le segs[16];
	__le64 *list = iod->list;
	unsigned int total = 0;
	u64 off = 0;
	u32 i, n;
	int ret;

	while (off < len) {
		n = ARRAY_SIZE(segs);
		ret = iodma_cmd_gen_segments(cmd, &off, segs, &n);
		if (ret)
			return ret;
		for (i = 0; i < n; i++, total++) {
			if (!total) {
				c->rw.dptr.prp1 = segs[i].addr;
				continue;
			}
			/* the specification promises this; a device must not see otherwise */
			if (WARN_ON_ONCE(total > PRPS_PER_LIST ||
					 (le64_to_cpu(segs[i].addr) & (NVME_PAGE_SIZE - 1))))
				return -EINVAL;
			list[total - 1] = segs[i].addr;
		}
	}
	if (total == 2)
		c->rw.dptr.prp2 = list[0];
	else if (total > 2)
		c->rw.dptr.prp2 = cpu_to_le64(iod->list_dma);
	return 0;
}

static int map_sgl(struct iodma_cmd *cmd, struct iodma_nvme_iod *iod, u64 len,
		   struct nvme_command *c)
{
	struct nvme_sgl_desc *sgl = &c->rw.dptr.sgl;
	u32 n = SGLS_PER_LIST;
	u64 off = 0;
	int ret;

	/* iodma_seg64_le is a data block descriptor: generated in place */
	ret = iodma_cmd_gen_segments(cmd, &off, iod->list, &n);
	if (ret)
		return ret;
	if (WARN_ON_ONCE(off != len))
		return -E2BIG;
	c->rw.flags = NVME_CMD_SGL_METABUF;
	if (n == 1) {
		memcpy(sgl, iod->list, sizeof(*sgl));
	} else {
		sgl->addr = cpu_to_le64(iod->list_dma);
		sgl->length = cpu_to_le32(n * sizeof(*sgl));
		sgl->type = NVME_SGL_FMT_LAST_SEG_DESC << 4;
	}
	return 0;
}

/* The request's bio_vec entries, physically contiguous ones merged. */
static int gather_bvecs(struct request *rq, struct bio_vec *bv)
{
	struct req_iterator iter;
	struct bio_vec b;
	int n = 0;

	rq_for_each_bvec(b, rq, iter) {
		if (n && bvec_phys(&bv[n - 1]) + bv[n - 1].bv_len == bvec_phys(&b)) {
			bv[n - 1].bv_len += b.bv_len;
			continue;
		}
		if (n == MAX_BVECS)
			return -E2BIG;
		bv[n++] = b;
	}
	return n;
}

static blk_status_t map_data(struct iodma_nvme_queue *q, struct request *rq,
			     struct nvme_command *c)
{
	struct iodma_nvme_iod *iod = blk_mq_rq_to_pdu(rq);
	enum dma_data_direction dir = rq_data_dir(rq) == WRITE ? DMA_TO_DEVICE :
								  DMA_FROM_DEVICE;
	struct iodma_cmd *cmd;
	u64 len, t = phase_start();
	int n, ret;

	phase_end(PH_CLOCK, &t);
	n = gather_bvecs(rq, iod->bvecs);
	if (WARN_ON_ONCE(n < 0))
		return BLK_STS_IOERR;
	phase_end(PH_GATHER, &t);
	cmd = iodma_pool_get(q->pool, GFP_NOWAIT);
	if (!cmd)
		return BLK_STS_RESOURCE;
	phase_end(PH_GET, &t);
	ret = iodma_cmd_set_bvecs(cmd, iod->bvecs, n, dir, false);
	if (ret)
		goto err_put;
	phase_end(PH_SET, &t);
	ret = iodma_cmd_prepare_nowait(cmd, 0, 0, true, true);
	if (ret)
		goto err_clear;
	phase_end(PH_PREPARE, &t);
	iodma_cmd_get_prepared_offset_and_length(cmd, NULL, &len);
	ret = q->ctrl->sgl ? map_sgl(cmd, iod, len, c) : map_prps(cmd, iod, len, c);
	if (ret)
		goto err_complete;
	phase_end(PH_GEN, &t);
	iod->dma = cmd;
	return BLK_STS_OK;

err_complete:
	iodma_cmd_complete_partial(cmd, 0, false, false);
err_clear:
	iodma_cmd_clear_memory_descriptor(cmd, false);
err_put:
	iodma_pool_put(q->pool, cmd);
	if (ret == -EAGAIN || ret == -ENOMEM)
		return BLK_STS_RESOURCE;
	dev_err_ratelimited(&q->ctrl->pdev->dev, "qid %u: iodma refused a request: %d\n",
			    q->qid, ret);
	return BLK_STS_IOERR;
}

static blk_status_t iodma_nvme_queue_rq(struct blk_mq_hw_ctx *hctx,
					const struct blk_mq_queue_data *bd)
{
	struct iodma_nvme_queue *q = hctx->driver_data;
	struct iodma_nvme_ns *ns = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct iodma_nvme_iod *iod = blk_mq_rq_to_pdu(rq);
	struct nvme_command c = {};
	blk_status_t st;

	if (READ_ONCE(q->ctrl->dead))
		return BLK_STS_IOERR;
	iod->dma = NULL;
	iod->done = false;
	iod->aborted = false;
	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		c.common.opcode = nvme_cmd_flush;
		break;
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		st = map_data(q, rq, &c);
		if (st)
			return st;
		c.rw.opcode = req_op(rq) == REQ_OP_WRITE ? nvme_cmd_write : nvme_cmd_read;
		c.rw.slba = cpu_to_le64(blk_rq_pos(rq) >> (ns->lba_shift - SECTOR_SHIFT));
		c.rw.length = cpu_to_le16((blk_rq_bytes(rq) >> ns->lba_shift) - 1);
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	iod->gen++;
	c.common.command_id = rq_cid(rq);
	c.common.nsid = cpu_to_le32(ns->nsid);
	blk_mq_start_request(rq);
	if (unlikely(atomic_dec_if_positive(&q->ctrl->drop_submissions) >= 0)) {
		dev_warn(ctrl_dev(q->ctrl), "qid %u cid %u: dropped (debugfs)\n", q->qid, rq->tag);
		return BLK_STS_OK;
	}
	submit(q, &c);
	return BLK_STS_OK;
}

static void iodma_nvme_complete_rq(struct request *rq)
{
	struct iodma_nvme_iod *iod = blk_mq_rq_to_pdu(rq);

	blk_mq_end_request(rq, iod->status);
}

/*
 * A request timed out: look for its completion first, then Abort it; if it
 * times out again (QEMU's controller does not abort) or the Abort fails,
 * disable the controller and fail its I/O.
 */
static enum blk_eh_timer_return iodma_nvme_timeout(struct request *rq)
{
	struct iodma_nvme_queue *q = rq->mq_hctx->driver_data;
	struct iodma_nvme_iod *iod = blk_mq_rq_to_pdu(rq);
	struct iodma_nvme_ctrl *ctrl = q->ctrl;
	struct nvme_command c = {};
	u32 csts, result;

	process_cq(q);
	if (READ_ONCE(iod->done))
		return BLK_EH_DONE;
	csts = readl(ctrl->bar + NVME_REG_CSTS);
	if (csts == ~0U) {
		/* surprise removal: nothing will complete, fail everything now */
		dev_err(ctrl_dev(ctrl), "the controller is gone: failing its I/O\n");
		fail_controller(ctrl, false);
		return BLK_EH_DONE;
	}
	if (csts & NVME_CSTS_CFS) {
		dev_err(ctrl_dev(ctrl), "controller fatal status\n");
		reset_controller(ctrl, iod);
		return BLK_EH_DONE;
	}
	if (!READ_ONCE(ctrl->dead) && !iod->aborted) {
		iod->aborted = true;
		dev_warn(ctrl_dev(ctrl), "qid %u cid %u timed out: aborting it\n", q->qid, rq->tag);
		c.abort.opcode = nvme_admin_abort_cmd;
		c.abort.sqid = cpu_to_le16(q->qid);
		c.abort.cid = rq_cid(rq);
		/*
		 * Aborted or not (result bit 0 set: not), the command's own
		 * completion ends the request; without one by the next
		 * timeout, the controller is reset.
		 */
		if (!admin_exec(ctrl, &c, &result)) {
			dev_warn(ctrl_dev(ctrl), "qid %u cid %u: %s\n", q->qid, rq->tag,
				 result & 1 ? "the controller did not abort it" : "abort accepted");
			/* completed meanwhile, or ended by a reset: done */
			return READ_ONCE(iod->done) ? BLK_EH_DONE : BLK_EH_RESET_TIMER;
		}
		if (READ_ONCE(iod->done))
			return BLK_EH_DONE;
	}
	dev_err(ctrl_dev(ctrl), "qid %u cid %u not completed\n", q->qid, rq->tag);
	reset_controller(ctrl, iod);
	return BLK_EH_DONE;
}

static int iodma_nvme_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int idx)
{
	struct iodma_nvme_ctrl *ctrl = data;

	hctx->driver_data = &ctrl->queues[idx + 1];
	return 0;
}

static int iodma_nvme_init_request(struct blk_mq_tag_set *set, struct request *rq,
				   unsigned int hctx_idx, unsigned int numa_node)
{
	struct iodma_nvme_ctrl *ctrl = set->driver_data;
	struct iodma_nvme_iod *iod = blk_mq_rq_to_pdu(rq);

	iod->list = dma_pool_alloc(ctrl->list_pool, GFP_KERNEL, &iod->list_dma);
	return iod->list ? 0 : -ENOMEM;
}

static void iodma_nvme_exit_request(struct blk_mq_tag_set *set, struct request *rq,
				    unsigned int hctx_idx)
{
	struct iodma_nvme_ctrl *ctrl = set->driver_data;
	struct iodma_nvme_iod *iod = blk_mq_rq_to_pdu(rq);

	dma_pool_free(ctrl->list_pool, iod->list, iod->list_dma);
}

/*
 * Each CPU submits on the queue whose vector's interrupt is affine to it,
 * so that a completion wakes its submitter on the same CPU, as in Linux's
 * nvme; with one vector (INTx) or fewer queues than vectors, blk-mq's
 * spread.
 */
static void iodma_nvme_map_queues(struct blk_mq_tag_set *set)
{
	struct iodma_nvme_ctrl *ctrl = set->driver_data;
	struct blk_mq_queue_map *map = &set->map[HCTX_TYPE_DEFAULT];

	if (ctrl->nr_vecs > 1 && ctrl->nr_vecs - 1 == ctrl->nr_io_queues)
		blk_mq_pci_map_queues(map, ctrl->pdev, 1);
	else
		blk_mq_map_queues(map);
}

static const struct blk_mq_ops iodma_nvme_mq_ops = {
	.map_queues = iodma_nvme_map_queues,
	.queue_rq = iodma_nvme_queue_rq,
	.complete = iodma_nvme_complete_rq,
	.timeout = iodma_nvme_timeout,
	.init_hctx = iodma_nvme_init_hctx,
	.init_request = iodma_nvme_init_request,
	.exit_request = iodma_nvme_exit_request,
};

static const struct block_device_operations iodma_nvme_fops = {
	.owner = THIS_MODULE,
};

/* Setup */

static void set_spec(struct iodma_nvme_ctrl *ctrl)
{
	struct iodma_spec *s = &ctrl->spec;

	memset(s, 0, sizeof(*s));
	s->addr_bits = addr_bits;
	s->max_transfer_size = ctrl->max_transfer;
	s->output = IODMA_OUT_LITTLE64;
	s->map = IODMA_MAPPED;
	if (ctrl->sgl) {
		/* a data block descriptor's length has 32 bits */
		s->max_segment_size = ctrl->max_transfer;
		s->alignment = ctrl->sgl_dword ? 4 : 1;
		s->length_alignment = ctrl->sgl_dword ? 4 : 1;
		s->max_segments = SGLS_PER_LIST;
	} else {
		s->alignment = 4;
		s->max_segment_size = NVME_PAGE_SIZE;
		s->seg_boundary_mask = NVME_PAGE_SIZE - 1;
		s->virt_boundary_mask = NVME_PAGE_SIZE - 1;
		s->max_segments = PRP_MAX_SEGS;
	}
}

static int identify_controller(struct iodma_nvme_ctrl *ctrl)
{
	struct nvme_id_ctrl *id = ctrl->ident;
	u32 sgls;
	int ret;

	ret = identify(ctrl, NVME_ID_CNS_CTRL, 0);
	if (ret)
		return ret;
	ctrl->max_transfer = MAX_TRANSFER;
	/* MDTS is a power of two of the minimum page: beyond 2^62 it limits nothing */
	if (id->mdts && id->mdts + 12 + NVME_CAP_MPSMIN(ctrl->cap) < 63)
		ctrl->max_transfer = min_t(u64, MAX_TRANSFER,
					   1ULL << (id->mdts + 12 + NVME_CAP_MPSMIN(ctrl->cap)));
	ctrl->vwc = id->vwc & NVME_CTRL_VWC_PRESENT;
	sgls = le32_to_cpu(id->sgls) & SGLS_SUPPORT_MASK;
	if (!strcmp(data_mode, "sgl")) {
		if (!sgls) {
			dev_err(ctrl_dev(ctrl), "data_mode=sgl: the controller has no SGL support\n");
			return -EOPNOTSUPP;
		}
		ctrl->sgl = true;
		ctrl->sgl_dword = sgls == SGLS_DWORD_ALIGNED;
	} else if (strcmp(data_mode, "prp")) {
		dev_err(ctrl_dev(ctrl), "data_mode=%s: prp or sgl\n", data_mode);
		return -EINVAL;
	}
	set_spec(ctrl);
	return iodma_spec_validate(&ctrl->spec);
}

static int set_queue_count(struct iodma_nvme_ctrl *ctrl, unsigned int want)
{
	struct nvme_command c = {};
	u32 result;
	int ret;

	c.features.opcode = nvme_admin_set_features;
	c.features.fid = cpu_to_le32(NVME_FEAT_NUM_QUEUES);
	c.features.dword11 = cpu_to_le32((want - 1) | (want - 1) << 16);
	ret = admin_exec(ctrl, &c, &result);
	if (ret)
		return ret;
	return min(want, min(result & 0xffff, result >> 16) + 1);
}

static void free_io_pools(struct iodma_nvme_ctrl *ctrl)
{
	unsigned int i;

	for (i = 1; i <= ctrl->nr_io_queues; i++)
		iodma_pool_destroy(ctrl->queues[i].pool);
}

static int setup_io_queues(struct iodma_nvme_ctrl *ctrl)
{
	u16 depth = clamp(io_queue_depth, 2U, min(1024U, (u32)NVME_CAP_MQES(ctrl->cap) + 1));
	unsigned int i, nr = ctrl->max_io_queues;
	char name[32];
	int ret;

	if (ctrl->nr_vecs > 1)
		nr = min(nr, ctrl->nr_vecs - 1);
	ret = set_queue_count(ctrl, nr);
	if (ret < 0)
		return ret;
	nr = ret;
	for (i = 1; i <= nr; i++) {
		struct iodma_nvme_queue *q = &ctrl->queues[i];

		ret = alloc_queue(ctrl, i, depth, ctrl->nr_vecs > 1 ? i : 0);
		if (ret)
			return ret;
		snprintf(name, sizeof(name), "iodma-nvme%d-q%u", ctrl->instance, i);
		/* a command for each tag: the pool is never empty in queue_rq */
		q->pool = iodma_pool_create(ctrl_dev(ctrl), &ctrl->spec, depth - 1, name);
		if (IS_ERR(q->pool)) {
			ret = PTR_ERR(q->pool);
			q->pool = NULL;
			return ret;
		}
		ctrl->nr_io_queues = i;
		ret = create_queue_pair(q);
		if (ret)
			return ret;
		if (ctrl->nr_vecs > 1) {
			ret = request_vector(ctrl);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int setup_tagset(struct iodma_nvme_ctrl *ctrl)
{
	struct blk_mq_tag_set *set = &ctrl->tagset;

	set->ops = &iodma_nvme_mq_ops;
	set->nr_hw_queues = ctrl->nr_io_queues;
	set->queue_depth = ctrl->queues[1].depth - 1;
	set->numa_node = dev_to_node(ctrl_dev(ctrl));
	set->cmd_size = sizeof(struct iodma_nvme_iod);
	set->flags = BLK_MQ_F_NO_SCHED_BY_DEFAULT;
	set->timeout = io_timeout * HZ;
	set->driver_data = ctrl;
	return blk_mq_alloc_tag_set(set);
}

static int add_namespace(struct iodma_nvme_ctrl *ctrl, u32 nsid)
{
	struct nvme_id_ns *id = ctrl->ident;
	struct queue_limits lim = {};
	struct iodma_nvme_ns *ns;
	struct nvme_lbaf *lbaf;
	int ret;

	ret = identify(ctrl, NVME_ID_CNS_NS, nsid);
	if (ret)
		return ret;
	if (!id->ncap)
		return 0;
	if ((id->flbas & NVME_NS_FLBAS_LBA_MASK) > id->nlbaf) {
		dev_warn(ctrl_dev(ctrl), "namespace %u: LBA format %u of %u\n", nsid,
			 id->flbas & NVME_NS_FLBAS_LBA_MASK, id->nlbaf + 1);
		return 0;
	}
	lbaf = &id->lbaf[id->flbas & NVME_NS_FLBAS_LBA_MASK];
	if (lbaf->ms || lbaf->ds < SECTOR_SHIFT || lbaf->ds > PAGE_SHIFT) {
		dev_warn(ctrl_dev(ctrl), "namespace %u: LBA format (%u, metadata %u) not supported\n",
			 nsid, lbaf->ds, le16_to_cpu(lbaf->ms));
		return 0;
	}
	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	ns->ctrl = ctrl;
	ns->nsid = nsid;
	ns->lba_shift = lbaf->ds;

	lim.logical_block_size = 1U << ns->lba_shift;
	lim.physical_block_size = lim.logical_block_size;
	lim.max_hw_sectors = ctrl->max_transfer >> SECTOR_SHIFT;
	lim.max_segments = MAX_BVECS;
	/*
	 * As low as the data pointers allow: iodma bounces what the
	 * specification refuses.  (0 would mean the default, 511.)
	 */
	lim.dma_alignment = ctrl->sgl && !ctrl->sgl_dword ? 1 : 3;
	if (ctrl->vwc)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	/*
	 * The request queue is made under reset_lock, so that a reset
	 * quiesces and unquiesces it or comes after; add_disk() does I/O (a
	 * partition scan) and a timeout of it resets: not under the lock.
	 */
	mutex_lock(&ctrl->reset_lock);
	ns->disk = blk_mq_alloc_disk(&ctrl->tagset, &lim, ns);
	if (!IS_ERR(ns->disk))
		list_add_tail(&ns->node, &ctrl->namespaces);
	mutex_unlock(&ctrl->reset_lock);
	if (IS_ERR(ns->disk)) {
		ret = PTR_ERR(ns->disk);
		goto err_free;
	}
	ns->disk->fops = &iodma_nvme_fops;
	ns->disk->private_data = ns;
	snprintf(ns->disk->disk_name, DISK_NAME_LEN, "iodma-nvme%dn%u", ctrl->instance, nsid);
	set_capacity(ns->disk, le64_to_cpu(id->nsze) << (ns->lba_shift - SECTOR_SHIFT));
	ret = add_disk(ns->disk);
	mutex_lock(&ctrl->reset_lock);
	if (ret)
		list_del(&ns->node);
	else
		ns->live = true;
	mutex_unlock(&ctrl->reset_lock);
	if (ret)
		goto err_put;
	dev_info(ctrl_dev(ctrl), "%s: %llu blocks of %u bytes\n", ns->disk->disk_name,
		 le64_to_cpu(id->nsze), 1U << ns->lba_shift);
	return 0;

err_put:
	put_disk(ns->disk);
err_free:
	kfree(ns);
	return ret;
}

static int scan_namespaces(struct iodma_nvme_ctrl *ctrl)
{
	__le32 *list;
	unsigned int i;
	int ret;

	list = kmalloc(NVME_IDENTIFY_DATA_SIZE, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	ret = identify(ctrl, NVME_ID_CNS_NS_ACTIVE_LIST, 0);
	if (!ret)
		memcpy(list, ctrl->ident, NVME_IDENTIFY_DATA_SIZE);
	for (i = 0; !ret && i < NVME_IDENTIFY_DATA_SIZE / sizeof(*list) && list[i]; i++)
		ret = add_namespace(ctrl, le32_to_cpu(list[i]));
	kfree(list);
	return ret;
}

static void remove_namespaces(struct iodma_nvme_ctrl *ctrl)
{
	struct iodma_nvme_ns *ns;

	list_for_each_entry(ns, &ctrl->namespaces, node) {
		/*
		 * Marked first, under the lock fail_controller() takes: a
		 * timeout of another disk's I/O while this one is being
		 * deleted must not mark it dead.
		 */
		mutex_lock(&ctrl->reset_lock);
		ns->live = false;
		mutex_unlock(&ctrl->reset_lock);
		/* del_gendisk() waits for the disk's I/O */
		del_gendisk(ns->disk);
	}
}

static void free_namespaces(struct iodma_nvme_ctrl *ctrl)
{
	struct iodma_nvme_ns *ns, *next;

	list_for_each_entry_safe(ns, next, &ctrl->namespaces, node) {
		list_del(&ns->node);
		put_disk(ns->disk);
		kfree(ns);
	}
}

/* Everything after the vectors, in the reverse order of probe. */
static void teardown(struct iodma_nvme_ctrl *ctrl)
{
	debugfs_remove_recursive(ctrl->debugfs);
	fail_controller(ctrl, true);
	/* no completion handler may run once the tag set is gone */
	free_vectors(ctrl);
	free_namespaces(ctrl);
	if (ctrl->tagset.tags)
		blk_mq_free_tag_set(&ctrl->tagset);
	free_io_pools(ctrl);
	pci_free_irq_vectors(ctrl->pdev);
	dma_pool_destroy(ctrl->list_pool);
	ida_free(&iodma_nvme_ida, ctrl->instance);
}

static int setup_admin(struct iodma_nvme_ctrl *ctrl)
{
	int ret;

	ret = alloc_queue(ctrl, 0, ADMIN_DEPTH, 0);
	if (ret)
		return ret;
	ret = request_vector(ctrl);
	if (ret)
		return ret;
	ret = start_controller(ctrl);
	if (ret)
		free_vectors(ctrl);
	return ret;
}

static int iodma_nvme_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct iodma_nvme_ctrl *ctrl;
	unsigned int flags = use_intx ? PCI_IRQ_INTX : PCI_IRQ_ALL_TYPES;
	struct irq_affinity affd = { .pre_vectors = 1 };
	resource_size_t bar_len;
	u64 bar_qpairs;
	int ret;

	if (addr_bits < 32 || addr_bits > 64)
		return dev_err_probe(dev, -EINVAL, "addr_bits=%u: 32..64\n", addr_bits);
	ctrl = devm_kzalloc(dev, sizeof(*ctrl), GFP_KERNEL);
	if (!ctrl)
		return -ENOMEM;
	ctrl->pdev = pdev;
	mutex_init(&ctrl->admin_lock);
	mutex_init(&ctrl->reset_lock);
	init_completion(&ctrl->admin_done);
	ctrl->admin_cid = U32_MAX;
	INIT_LIST_HEAD(&ctrl->namespaces);
	pci_set_drvdata(pdev, ctrl);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	/*
	 * swiotlb keeps a buffer's offset in its controller page, as the PRP
	 * rules need: otherwise iodma would find the DMA API's bounce slots
	 * breaking the gap rule and bounce once more.
	 */
	dma_set_min_align_mask(dev, NVME_PAGE_SIZE - 1);
	/* the registers and at least the admin queue's two doorbells */
	bar_len = pci_resource_len(pdev, 0);
	if (bar_len < NVME_REG_DBS + 2 * sizeof(u32))
		return dev_err_probe(dev, -ENODEV, "BAR 0 of %llu bytes is too small\n",
				     (u64)bar_len);
	ctrl->bar = pcim_iomap_region(pdev, 0, KBUILD_MODNAME);
	if (IS_ERR(ctrl->bar))
		return PTR_ERR(ctrl->bar);
	ctrl->cap = lo_hi_readq(ctrl->bar + NVME_REG_CAP);
	ctrl->db_stride = 1U << NVME_CAP_STRIDE(ctrl->cap);
	/* queue pairs whose doorbells lie in BAR 0, the admin queue's included */
	bar_qpairs = (bar_len - NVME_REG_DBS) / (2 * sizeof(u32) * ctrl->db_stride);
	if (bar_qpairs < 2)
		return dev_err_probe(dev, -ENODEV, "BAR 0 of %llu bytes: no I/O queue doorbell\n",
				     (u64)bar_len);
	ctrl->ready_timeout_ms = (NVME_CAP_TIMEOUT(ctrl->cap) + 1) * 500;
	if (NVME_CAP_MPSMIN(ctrl->cap) > NVME_PAGE_SHIFT - 12 ||
	    !(NVME_CAP_CSS(ctrl->cap) & NVME_CAP_CSS_NVM))
		return dev_err_probe(dev, -ENODEV, "no 4 KiB pages or no NVM command set\n");
	ctrl->ident = dmam_alloc_coherent(dev, NVME_IDENTIFY_DATA_SIZE, &ctrl->ident_dma,
					  GFP_KERNEL);
	/* read once: CPUs going on or off line later change nothing here */
	ctrl->max_io_queues = min_t(u64, num_online_cpus(), bar_qpairs - 1);
	ctrl->queues = devm_kcalloc(dev, ctrl->max_io_queues + 1, sizeof(*ctrl->queues),
				    GFP_KERNEL);
	if (!ctrl->ident || !ctrl->queues)
		return -ENOMEM;
	ret = disable_controller(ctrl, false);
	if (ret)
		return ret;
	ret = ida_alloc(&iodma_nvme_ida, GFP_KERNEL);
	if (ret < 0)
		return ret;
	ctrl->instance = ret;
	ctrl->list_pool = dma_pool_create("iodma_nvme_list", dev, NVME_PAGE_SIZE,
					  NVME_PAGE_SIZE, 0);
	if (!ctrl->list_pool) {
		ret = -ENOMEM;
		goto err_ida;
	}
	/* the I/O queues' vectors spread over the CPUs (map_queues), the admin's apart */
	ret = pci_alloc_irq_vectors_affinity(pdev, 1, ctrl->max_io_queues + 1,
					     flags | PCI_IRQ_AFFINITY, &affd);
	if (ret < 0)
		goto err_pool;
	ctrl->nr_vecs = ret;
	ret = setup_admin(ctrl);
	if (ret)
		goto err_vectors;

	/* From here the controller is live: teardown() undoes everything. */
	ret = identify_controller(ctrl);
	if (!ret)
		ret = setup_io_queues(ctrl);
	if (!ret)
		ret = setup_tagset(ctrl);
	if (ret) {
		ctrl->tagset.tags = NULL;
		goto err_teardown;
	}
	dev_info(dev, "%u I/O queues of %u, %s, %u %s vectors, data_mode=%s, addr_bits=%u, max transfer %u KiB\n",
		 ctrl->nr_io_queues, ctrl->tagset.queue_depth,
		 ctrl->vwc ? "write cache" : "no write cache", ctrl->nr_vecs,
		 pdev->msix_enabled ? "MSI-X" : pdev->msi_enabled ? "MSI" : "INTx",
		 ctrl->sgl ? "sgl" : "prp", addr_bits, ctrl->max_transfer / SZ_1K);
	ctrl->debugfs = debugfs_create_dir(pci_name(pdev), iodma_nvme_debugfs);
	debugfs_create_atomic_t("drop_submissions", 0600, ctrl->debugfs, &ctrl->drop_submissions);
	ret = scan_namespaces(ctrl);
	if (ret)
		goto err_namespaces;
	return 0;

err_namespaces:
	remove_namespaces(ctrl);
err_teardown:
	teardown(ctrl);
	return ret;
err_vectors:
	pci_free_irq_vectors(pdev);
err_pool:
	dma_pool_destroy(ctrl->list_pool);
err_ida:
	ida_free(&iodma_nvme_ida, ctrl->instance);
	return ret;
}

static void iodma_nvme_remove(struct pci_dev *pdev)
{
	struct iodma_nvme_ctrl *ctrl = pci_get_drvdata(pdev);

	remove_namespaces(ctrl);
	teardown(ctrl);
}

static void iodma_nvme_shutdown(struct pci_dev *pdev)
{
	fail_controller(pci_get_drvdata(pdev), true);
}

static const struct pci_device_id iodma_nvme_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT, 0x0010) },	/* QEMU's NVMe controller */
	{ }
};
MODULE_DEVICE_TABLE(pci, iodma_nvme_ids);

static struct pci_driver iodma_nvme_driver = {
	.name = KBUILD_MODNAME,
	.id_table = iodma_nvme_ids,
	.probe = iodma_nvme_probe,
	.remove = iodma_nvme_remove,
	.shutdown = iodma_nvme_shutdown,
};

static int __init iodma_nvme_init(void)
{
	int ret;

	iodma_nvme_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("phases", 0600, iodma_nvme_debugfs, NULL, &phases_fops);
	ret = pci_register_driver(&iodma_nvme_driver);
	if (ret)
		debugfs_remove_recursive(iodma_nvme_debugfs);
	return ret;
}
module_init(iodma_nvme_init);

static void __exit iodma_nvme_exit(void)
{
	pci_unregister_driver(&iodma_nvme_driver);
	debugfs_remove_recursive(iodma_nvme_debugfs);
}
module_exit(iodma_nvme_exit);

MODULE_DESCRIPTION("NVMe driver whose data DMA goes through iodma");
MODULE_LICENSE("GPL");
