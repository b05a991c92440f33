#!/bin/sh
# make nvme-bench, inside the guest (scripts/nvme-bench.sh): two NVMe
# controllers with identical images; /init has loaded iodma.ko, Linux's
# nvme-core.ko and nvme.ko (which took both controllers) and iodma_nvme.ko.
# The second controller is handed to iodma_nvme (driver_override), then
# iodma_nvme_tool -B measures the same O_DIRECT workload on /dev/nvme0n1
# (Linux's driver) and /dev/iodma-nvme0n1, with data_mode=prp and then sgl,
# twice each, alternating; its IODMA-NVMEBENCH lines go to the results port.
# The 128 KiB jobs run on a hugetlb page (contig) and on 4 KiB pages no two
# of which are adjacent (scatter): vm.nr_hugepages is set here.
# Then the breakdown of iodma_nvme's data path, IODMA-NVMEPHASE lines.
# Kernel command line: iodma_nvme_bench.ios=N (default 1000).

R=/dev/ttyS1
[ -c $R ] || R=/dev/console
NV=/sys/bus/pci/drivers/nvme
ios=$(sed -n 's/.* iodma_nvme_bench\.ios=\([0-9]*\).*/\1/p' /proc/cmdline)
ios=${ios:-1000}

wait_dev() { # wait_dev DEV: up to 30 s for the block device
	i=0
	while [ ! -b "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -b "$1" ]
}

bound() { # the controllers bound to nvme, one per line, in order
	for d in "$NV"/0000:*; do
		[ -e "$d" ] && echo "${d##*/}"
	done
}
i=0
while [ "$(bound | wc -l)" -lt 2 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
bdf=$(bound | sort | sed -n 2p)
if [ -z "$bdf" ]; then
	echo "IODMA-NVMEBENCH error=no-second-controller" | tee $R
	exit 1
fi
# 63 tags per queue: queue depth 32 never waits for a tag (Linux's nvme has
# 1023; iodma_nvme's default of 31 would make the 32nd AIO sleep)
QD=io_queue_depth=64
rmmod iodma_nvme
insmod /modules/iodma_nvme.ko $QD
echo "$bdf" >$NV/unbind
echo iodma_nvme >"/sys/bus/pci/devices/$bdf/driver_override"
echo "$bdf" >/sys/bus/pci/drivers_probe
if ! wait_dev /dev/nvme0n1 || ! wait_dev /dev/iodma-nvme0n1; then
	echo "IODMA-NVMEBENCH error=no-disks $(echo /dev/*nvme*)" | tee $R
	exit 1
fi
echo "IODMA-NVMEBENCH info=$(dmesg | grep 'iodma_nvme .*I/O queues' | tail -n 1 | cut -c16-)" >$R

# hugetlb pages for the tool's physically contiguous buffers (one 2 MiB
# page per run), reserved before anything fragments memory; a kernel
# without CONFIG_HUGETLBFS (the debug test kernel) has none, and the
# tool then reports its contig jobs skipped
hp=/proc/sys/vm/nr_hugepages
if [ -w $hp ]; then
	echo 4 >$hp
	echo "IODMA-NVMEBENCH hugepages=$(cat $hp)" >$R
else
	echo "IODMA-NVMEBENCH hugepages=none" >$R
fi

rc=0
for mode in prp sgl; do
	if [ $mode = sgl ]; then
		echo "$bdf" >/sys/bus/pci/drivers/iodma_nvme/unbind
		rmmod iodma_nvme
		insmod /modules/iodma_nvme.ko data_mode=sgl $QD
		echo "$bdf" >/sys/bus/pci/drivers_probe
		wait_dev /dev/iodma-nvme0n1 || rc=1
	fi
	for round in 1 2; do
		/bin/iodma_nvme_tool -B "nvme" -d /dev/nvme0n1 -n "$ios" >$R || rc=1
		/bin/iodma_nvme_tool -B "iodma_nvme-$mode" -d /dev/iodma-nvme0n1 -n "$ios" >$R ||
			rc=1
		echo "IODMA-NVMEBENCH round=$round mode=$mode done" >$R
	done
done
# The breakdown: iodma_nvme again with phase_stats=1 (its clock reads cost
# instructions of their own: these runs are not in the comparison), one job
# at a time, with the guest time of each step of its data path.  Without
# the spinners (-S): the guest clock counts every vCPU's instructions, so a
# spinner running on the other vCPU inside a timed step would be counted
# in it; an idle vCPU executes nothing.
P=/sys/kernel/debug/iodma_nvme/phases
for mode in prp sgl; do
	echo "$bdf" >/sys/bus/pci/drivers/iodma_nvme/unbind
	rmmod iodma_nvme
	insmod /modules/iodma_nvme.ko data_mode=$mode phase_stats=1 $QD
	echo "$bdf" >/sys/bus/pci/drivers_probe
	wait_dev /dev/iodma-nvme0n1 || rc=1
	for job in randread-4k-qd1 randwrite-4k-qd1 randread-4k-qd32 randwrite-4k-qd32 \
		read-128k-qd1-contig write-128k-qd1-contig read-128k-qd1-scatter \
		write-128k-qd1-scatter; do
		echo 0 >$P
		/bin/iodma_nvme_tool -B "iodma_nvme-$mode-phases" -d /dev/iodma-nvme0n1 \
			-n "$ios" -j $job -S >$R || rc=1
		while read -r phase count ns; do
			echo "IODMA-NVMEPHASE mode=$mode job=$job phase=$phase count=$count ns=$ns"
		done <$P >$R
	done
done
echo "IODMA-NVMEBENCH test=done errors=$rc" | tee $R
exit $rc
