#!/bin/sh
# The iodma_edu end-to-end test, inside the test guest. scripts/mkinitramfs.sh
# installs it as /extra.sh (with -x, and iodma_edu_tool with -b); the guest's
# /init runs it after loading the modules. It frames the KTAP suite that
# `iodma_edu_tool -k` prints like the KUnit suites on the results port
# (IODMA-KTAP-BEGIN/END iodma_edu_e2e), and copies the tool's summary and the
# driver's statistics to the console and to the results port as IODMA-EDU
# lines. The expected bounce follows from the kernel command line.
# Kernel command line: iodma_edu.tool_args="..." replaces the tool's options.

R=/dev/ttyS1
[ -c $R ] || R=/dev/console
S=iodma_edu_e2e

cmdline=" $(cat /proc/cmdline) "
case $cmdline in
*" intel_iommu=on "*) expect=no ;;	# IOVAs below 2^28: nothing to bounce
*" swiotlb=force "*) expect=any ;;	# swiotlb bounces inside the DMA API
*) expect=yes ;;			# 1 GiB of RAM: user memory above 2^28
esac
args=$(echo "$cmdline" | sed -n 's/.* iodma_edu.tool_args="\([^"]*\)".*/\1/p')

dev=""
for d in /sys/bus/pci/drivers/iodma_edu/*/misc/*; do
	[ -e "$d" ] && dev=/dev/${d##*/} && break
done

echo "IODMA-KTAP-BEGIN $S" >$R
if [ -z "$dev" ] || [ ! -c "$dev" ]; then
	printf 'KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: %s\n    1..1\n' $S >$R
	echo "    # no device bound to iodma_edu (is there a -device edu?)" >$R
	printf '    not ok 1 device_bound\nnot ok 1 %s\n' $S >$R
	echo "IODMA-KTAP-END $S" >$R
	echo "iodma_edu: no device bound" | tee $R
	exit 1
fi
# shellcheck disable=SC2086 # $args is a list of options
/bin/iodma_edu_tool -k -d "$dev" -b $expect ${args:-} >$R 2>/tmp/edu-summary
rc=$?
echo "IODMA-KTAP-END $S" >$R

stats=""
for f in /sys/kernel/debug/iodma_edu/*/stats; do
	[ -r "$f" ] && stats=$f && break
done
{
	echo "iodma_edu_tool -k -b $expect ${args:-}: exit status $rc"
	cat /tmp/edu-summary
	[ -n "$stats" ] && echo "driver statistics ($stats):" && sed 's/^/  /' "$stats"
} >/tmp/edu-report
cat /tmp/edu-report
sed 's/^/IODMA-EDU: /' /tmp/edu-report >$R
exit $rc
