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
# iodma's tracepoints, enabled through tracefs for the whole run
T=/sys/kernel/tracing
if [ -d $T/events/iodma ]; then
	echo >$T/trace
	echo 1 >$T/events/iodma/enable
fi
# shellcheck disable=SC2086 # $args is a list of options
/bin/iodma_edu_tool -k -d "$dev" -b $expect ${args:-} >$R 2>/tmp/edu-summary
rc=$?
echo "IODMA-KTAP-END $S" >$R
[ -d $T/events/iodma ] && echo 0 >$T/events/iodma/enable

# A second suite: the records the run left in the trace buffer.
TS=iodma_trace_e2e
n=0
tap() { # tap RESULT NAME [diagnostic]
	n=$((n + 1))
	[ -n "${3:-}" ] && echo "    # $3"
	case $1 in
	ok) echo "    ok $n $2" ;;
	skip) echo "    ok $n $2 # SKIP ${3:-}" ;;
	*) echo "    not ok $n $2"; tfail=1 ;;
	esac
}
count() { grep -c " $1: cmd=" $T/trace 2>/dev/null || true; }
tfail=0
{
	printf 'KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: %s\n    1..4\n' $TS
	if [ ! -d $T/events/iodma ]; then
		tap fail events_in_tracefs "no $T/events/iodma"
	else
		ev=0
		for e in "$T"/events/iodma/iodma_*; do
			[ -d "$e" ] && ev=$((ev + 1))
		done
		[ "$ev" = 5 ] && r=ok || r=fail
		tap "$r" events_in_tracefs "$ev iodma events in tracefs"
	fi
	p=$(count iodma_prepare)
	grep -q " iodma_prepare: cmd=.* length=[0-9]* dir=[0-2] entries=[0-9]* bounce=[0-5] ret=" \
		$T/trace 2>/dev/null && [ "$p" -gt 0 ] && r=ok || r=fail
	tap "$r" prepare_records "$p iodma_prepare records"
	g=$(count iodma_gen)
	grep -q " iodma_gen: cmd=.* nsegs=[1-9]" $T/trace 2>/dev/null && r=ok || r=fail
	tap "$r" gen_records_with_segments "$g iodma_gen records"
	b=$(count iodma_bounce)
	case $expect in
	yes) [ "$b" -gt 0 ] && r=ok || r=fail ;;
	no) [ "$b" = 0 ] && r=ok || r=fail ;;
	*) r=skip ;;
	esac
	tap "$r" bounce_records_as_expected "$b iodma_bounce records, bounce expected: $expect"
	[ $tfail = 0 ] && echo "ok 1 $TS" || echo "not ok 1 $TS"
} >/tmp/trace-ktap
echo "IODMA-KTAP-BEGIN $TS" >$R
cat /tmp/trace-ktap >$R
echo "IODMA-KTAP-END $TS" >$R
[ $tfail = 0 ] || rc=1

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
