#!/bin/sh
# The iodma_nvme end-to-end test, inside the test guest (scripts/nvme.sh).
# scripts/mkinitramfs.sh installs it as /extra.sh (with -x, and
# iodma_nvme_tool with -b); /init has loaded iodma.ko and iodma_nvme.ko with
# their default parameters.  This script reloads iodma_nvme with the
# parameters of the kernel command line (iodma_nvme.data_mode=,
# iodma_nvme.addr_bits=, iodma_nvme.use_intx=; busybox's insmod does not read them), runs
# iodma_nvme_tool on /dev/iodma-nvme0n1 (KTAP suite iodma_nvme_e2e, with
# the seed and extents the host checks the image against), then the suite
# iodma_nvme_driver: the probe's parameters, no NVMe error, the bounces
# iodma counted against what the configuration implies, an unbind under I/O
# followed by a rebind, and a request the controller never sees (debugfs
# drop_submissions): Abort, then a controller reset that fails the I/O,
# I/O that goes on after it, then an unbind.  Results are framed on the results port like the
# KUnit suites; IODMA-NVME lines carry the summary and the pools' counts.
# Kernel command line: iodma_nvme.seed=N (default 1).

R=/dev/ttyS1
[ -c $R ] || R=/dev/console
D=/sys/kernel/debug
DRV=/sys/bus/pci/drivers/iodma_nvme
DEV=/dev/iodma-nvme0n1

cmdline=" $(cat /proc/cmdline) "
param() { # param NAME DEFAULT: iodma_nvme.NAME= of the command line
	v=$(echo "$cmdline" | sed -n "s/.* iodma_nvme\.$1=\([^ ]*\) .*/\1/p")
	echo "${v:-$2}"
}
mode=$(param data_mode prp)
bits=$(param addr_bits 64)
intx=$(param use_intx 0)
seed=$(param seed 1)

wait_dev() { # wait_dev PRESENT(1|0): up to 20 s for $DEV to appear or go
	i=0
	while [ $i -lt 200 ]; do
		if [ -b $DEV ]; then [ "$1" = 1 ] && return 0; else [ "$1" = 0 ] && return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

rmmod iodma_nvme
insmod /modules/iodma_nvme.ko data_mode="$mode" addr_bits="$bits" use_intx="$intx"
echo "IODMA-NVME: iodma_nvme reloaded with data_mode=$mode addr_bits=$bits use_intx=$intx: $?" >$R
wait_dev 1

S=iodma_nvme_e2e
echo "IODMA-KTAP-BEGIN $S" >$R
if [ -b $DEV ]; then
	/bin/iodma_nvme_tool -d $DEV -s "$seed" >$R 2>/tmp/nvme-summary
	rc=$?
else
	printf 'KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: %s\n    1..1\n' $S >$R
	echo "    # no $DEV" >$R
	printf '    not ok 1 device_present\nnot ok 1 %s\n' $S >$R
	echo "no $DEV" >/tmp/nvme-summary
	rc=1
fi
echo "IODMA-KTAP-END $S" >$R

# The second suite: what the driver saw.
TS=iodma_nvme_driver
n=0
tfail=0
tap() { # tap ok|fail NAME [diagnostic]
	n=$((n + 1))
	[ -n "${3:-}" ] && echo "    # $3"
	if [ "$1" = ok ]; then echo "    ok $n $2"; else echo "    not ok $n $2"; tfail=1; fi
}
pools() { ls -d $D/iodma/iodma-nvme0-q* 2>/dev/null; }
sum() { # sum FIELD: over the pools' stats
	t=0
	for p in $(pools); do
		v=$(sed -n "s/^$1: //p" "$p/stats")
		t=$((t + ${v:-0}))
	done
	echo $t
}
case $cmdline in
*" swiotlb=force "*) cfg=swiotlb ;;
*" intel_iommu=on "*) cfg=iommu ;;
*) cfg=direct ;;
esac
# PRP: the tool's gapped and page-crossing buffers bounce in every
# configuration.  SGL takes any address and alignment: only addr_bits=32
# with memory above 4 GiB (direct; swiotlb's buffers are low, iommu's IOVAs
# are below 4 GiB) bounces.
if [ "$mode" = prp ]; then
	expect=yes
elif [ "$bits" -lt 64 ] && [ $cfg = direct ]; then
	expect=yes
elif [ "$bits" -lt 64 ]; then
	expect=any
else
	expect=no
fi
# Lines the driver logs for an NVMe error, a timeout or a bad completion.
nvme_errors() {
	dmesg | grep -c -e "NVMe status" -e "timed out" -e "iodma refused" \
		-e "disabling the controller" -e "completion of"
}

{
	printf 'KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: %s\n    1..9\n' $TS
	irq="MSI-X"
	[ "$intx" = 1 ] && irq=INTx
	dmesg | grep -q "iodma_nvme .* $irq vectors, data_mode=$mode, addr_bits=$bits," && r=ok || r=fail
	tap "$r" probe_with_parameters "$(dmesg | grep 'iodma_nvme .*I/O queues' | tail -n 1)"
	dmesg | grep -q "iodma-nvme0n1: [0-9]* blocks of 512 bytes" && r=ok || r=fail
	tap "$r" namespace_disk "$(dmesg | grep 'iodma-nvme0n1:' | tail -n 1)"
	errs=$(nvme_errors)
	[ "$errs" = 0 ] && r=ok || r=fail
	tap "$r" no_nvme_errors "$errs NVMe error lines"
	np=$(pools | wc -l)
	b=$(sum bounces)
	p=$(sum prepares)
	case $expect in
	yes) [ "$np" -gt 0 ] && [ "$b" -gt 0 ] && r=ok || r=fail ;;
	no) [ "$np" -gt 0 ] && [ "$b" = 0 ] && r=ok || r=fail ;;
	*) [ "$np" -gt 0 ] && r=ok || r=fail ;;
	esac
	tap "$r" bounces_as_expected "$np pools, $p prepares, $b bounces, $(sum bytes_bounced) bytes bounced; expected bounces: $expect"
	# an unbind while a reader is busy, then a rebind
	bdf=$(basename "$(readlink -f $DRV/0000:* 2>/dev/null | head -n 1)")
	dd if=$DEV of=/dev/null bs=1M 2>/dev/null &
	dd_pid=$!
	sleep 0.5
	echo "$bdf" >$DRV/unbind
	wait $dd_pid
	wait_dev 0 && [ ! -e $D/iodma/iodma-nvme0-q1 ] && r=ok || r=fail
	tap "$r" unbind_under_io "$bdf unbound, $DEV and the pools gone"
	echo "$bdf" >$DRV/bind
	# and still no NVMe error after the unbind under I/O and the rebind
	wait_dev 1 && [ "$(nvme_errors)" = 0 ] && r=ok || r=fail
	tap "$r" rebind "$(ls -l $DEV 2>&1); $(nvme_errors) NVMe error lines since boot"
	# a dropped request: timeout, Abort (QEMU's does not abort), timeout,
	# a controller reset that fails it, and I/O goes on
	rmmod iodma_nvme
	insmod /modules/iodma_nvme.ko data_mode="$mode" addr_bits="$bits" use_intx="$intx" \
		io_timeout=3
	wait_dev 1
	echo 1 >$D/iodma_nvme/"$bdf"/drop_submissions
	t0=$(date +%s)
	# O_DIRECT: the page cache would retry a failed read after the reset
	dd if=$DEV of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null && rd=succeeded ||
		rd=failed
	t=$(($(date +%s) - t0))
	ab=$(dmesg | grep -c "timed out: aborting")
	rs=$(dmesg | grep -c "controller reset: I/O goes on")
	dis=$(dmesg | grep -c "disabling the controller")
	[ "$rd" = failed ] && [ "$ab" = 1 ] && [ "$rs" = 1 ] && [ "$dis" = 0 ] && [ $t -le 30 ] &&
		r=ok || r=fail
	tap "$r" timeout_aborts_then_resets "read $rd after $t s; $ab Abort, $rs reset, $dis disable"
	# blocks no read has cached: the reset controller serves them
	dd if=$DEV of=/tmp/after-reset bs=4096 count=16 skip=4096 iflag=direct 2>/dev/null &&
		rd=succeeded || rd=failed
	[ "$rd" = succeeded ] && [ "$(wc -c </tmp/after-reset)" = 65536 ] && r=ok || r=fail
	tap "$r" io_after_reset "64 KiB read $rd"
	echo "$bdf" >$DRV/unbind
	wait_dev 0 && [ ! -e $D/iodma/iodma-nvme0-q1 ] && r=ok || r=fail
	tap "$r" unbind_after_reset "$bdf unbound, $DEV and the pools gone"
	[ $tfail = 0 ] && echo "ok 1 $TS" || echo "not ok 1 $TS"
} >/tmp/driver-ktap 2>&1
echo "IODMA-KTAP-BEGIN $TS" >$R
cat /tmp/driver-ktap >$R
echo "IODMA-KTAP-END $TS" >$R
[ $tfail = 0 ] || rc=1

{
	echo "iodma_nvme_tool (data_mode=$mode addr_bits=$bits seed=$seed): exit status $rc"
	cat /tmp/nvme-summary
	grep "^    # " /tmp/driver-ktap | grep -e bounces -e "I/O queues" | sed 's/^    # /driver: /'
} >/tmp/nvme-report
cat /tmp/nvme-report
sed 's/^/IODMA-NVME: /' /tmp/nvme-report >$R
exit $rc
