#!/bin/sh
# The iodma benchmark, inside the test guest. scripts/bench.sh has
# scripts/mkinitramfs.sh install it as /extra.sh (with -x, and the kernel's
# dma_map_benchmark tool with -b); the guest's /init runs it after loading
# iodma.ko and iodma_bench.ko. It sets the module's parameters from the kernel
# command line (iodma_bench.NAME=VALUE: busybox insmod does not read it),
# runs the measurement (a write to debugfs iodma_bench/run), copies the
# results (IODMA-BENCH lines) to the results port, then binds the kernel's
# dma_map_benchmark driver to the same device (driver_override) and runs it
# once for reference (IODMA-DMAMAP lines).
# Kernel command line: iodma_bench.dmamap_args="..." replaces the tool's options.

R=/dev/ttyS1
[ -c $R ] || R=/dev/console
D=/sys/kernel/debug
P=/sys/module/iodma_bench/parameters

cmdline=" $(cat /proc/cmdline) "
for w in $cmdline; do
	case $w in
	iodma_bench.dmamap_args=*) ;;
	iodma_bench.*=*)
		kv=${w#iodma_bench.}
		[ -w "$P/${kv%%=*}" ] && printf %s "${kv#*=}" >"$P/${kv%%=*}"
		;;
	esac
done
if [ -w $D/iodma_bench/run ] && echo 1 >$D/iodma_bench/run; then
	cat $D/iodma_bench/results >$R
	grep -h 'test=done' $D/iodma_bench/results
else
	echo "IODMA-BENCH test=error what=no-run err=0" | tee $R
fi

# Distribution kernels are built without CONFIG_DMA_MAP_BENCHMARK.
if [ ! -d /sys/bus/platform/drivers/dma_map_benchmark ] &&
	[ ! -d /sys/bus/pci/drivers/dma_map_benchmark ]; then
	echo "IODMA-DMAMAP skipped: this kernel has no dma_map_benchmark" | tee $R
	exit 0
fi

# The device iodma_bench measured: its own platform device, or the edu device.
if [ -d /sys/bus/platform/devices/iodma_bench ]; then
	bus=platform
	name=iodma_bench
else
	bus=pci
	name=""
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
			name=${d##*/}
			break
		fi
	done
fi
args=$(echo "$cmdline" | sed -n 's/.* iodma_bench.dmamap_args="\([^"]*\)".*/\1/p')
args=${args:--t 1 -s 1 -g 1 -b 64}
sysdev=/sys/bus/$bus/devices/$name
if [ -z "$name" ] || [ ! -d "$sysdev" ] || [ -e "$sysdev/driver" ]; then
	echo "IODMA-DMAMAP error: no free device to bind" | tee $R
	exit 1
fi
echo dma_map_benchmark >"$sysdev/driver_override"
echo "$name" >/sys/bus/$bus/drivers_probe
if [ ! -e $D/dma_map_benchmark ]; then
	echo "IODMA-DMAMAP error: dma_map_benchmark did not bind $bus/$name" | tee $R
	exit 1
fi
echo "IODMA-DMAMAP device=$bus/$name args=$args" | tee $R
# shellcheck disable=SC2086 # $args is a list of options
/bin/dma_map_benchmark $args >/tmp/dmamap 2>&1
rc=$?
sed 's/^/IODMA-DMAMAP /' /tmp/dmamap | tee $R
echo "IODMA-DMAMAP exit=$rc" | tee $R
echo "$name" >/sys/bus/$bus/drivers/dma_map_benchmark/unbind
echo >"$sysdev/driver_override"
exit $rc
