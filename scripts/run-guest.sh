#!/usr/bin/env bash
# Boot the test kernel with an initramfs in QEMU (TCG) in one of the test
# configurations and save what the guest reported under OUTDIR/CONFIG/:
#   console.log   serial console (printk) and QEMU's own messages
#   results.txt   the results port (ttyS1): markers, KTAP, kmemleak
#   ktap/*.ktap   one KTAP file per KUnit suite, cut out of results.txt
#   kmemleak.txt  kmemleak's report after the modules were unloaded
#   status        qemu_rc=..., timeout=..., seconds=...
# Exit status: 0 when the guest reached IODMA-GUEST-DONE, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	cat <<USAGE
usage: ${0##*/} [-i INITRAMFS] [-k BZIMAGE] [-t SECONDS] [-a APPEND] [-e] [-n IMAGE [-N NAME]] [-v]
                CONFIG OUTDIR
  CONFIG is one of:
    direct   -M pc, 1 GiB (512 MiB of it above 4 GiB), dma-direct
    swiotlb  as direct, guest swiotlb=force
    iommu    -M q35 -device intel-iommu,caching-mode=on -device edu,
             guest intel_iommu=on iommu.strict=1
  -i FILE    initramfs (default OUTDIR/initramfs.cpio)
  -k FILE    kernel (default: the cached test kernel's bzImage)
  -t SEC     hard timeout for QEMU (default \$TIMEOUT or 300)
  -a ARGS    extra kernel command line arguments
  -e         edu run (the iodma_edu end-to-end test), saved in OUTDIR/edu-CONFIG:
             -device edu, -M q35 for direct and swiotlb too,
             -icount shift=auto,sleep=off (an edu DMA takes 100 ms of
             virtual time; idle guest time then passes at once)
  -n FILE    NVMe run (the iodma_nvme end-to-end test): QEMU's NVMe controller
             with the raw image FILE as its namespace, -M q35 for every
             CONFIG (no ACPI INTx routing delay), saved in OUTDIR/nvme-CONFIG;
             given again, one more controller for each
  -N NAME    the run's directory under OUTDIR instead (with -n)
  -v         also show the console on stdout while the guest runs
Environment: MEM (guest RAM, default 1G), LOWMEM (direct: RAM below 4 GiB,
default 512M), TCG_THREAD (single or multi: QEMU's TCG threading), TIMEOUT.
  -h         this help
USAGE
}

initrd=""
kernel=""
timeout_s=${TIMEOUT:-300}
append_extra=""
edu=0
nvme_imgs=()
run_name=""
verbose=0
while getopts "i:k:t:a:en:N:vh" opt; do
	case $opt in
	i) initrd=$OPTARG ;;
	k) kernel=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	a) append_extra=$OPTARG ;;
	e) edu=1 ;;
	n) nvme_imgs+=("$OPTARG") ;;
	N) run_name=$OPTARG ;;
	v) verbose=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(($# == 2)) || { usage >&2; exit 2; }
config=$1
outdir=$2
initrd=${initrd:-$outdir/initramfs.cpio}
if [[ -z $kernel ]]; then
	kernel="$("$here/build-test-kernel.sh" --print-dir --no-build)/arch/x86/boot/bzImage"
fi
[[ -r $kernel ]] || { echo "run-guest: no kernel $kernel (run scripts/build-test-kernel.sh)" >&2; exit 1; }
[[ -r $initrd ]] || { echo "run-guest: no initramfs $initrd" >&2; exit 1; }

# Oopses panic (CONFIG_PANIC_ON_OOPS, oops=panic), panics reboot at once
# (panic=-1) and -no-reboot turns that into QEMU exiting: a crash ends the run.
# no_timer_check: under TCG on a loaded host the IO-APIC timer check can fail
# and panic ("timer doesn't work through Interrupt-remapped IO-APIC").
append="console=ttyS0 loglevel=7 printk.time=1 panic=-1 oops=panic kunit.enable=1 no_timer_check"
# Boot time under TCG: no 256 legacy BSD ptys (1.4 s of initcalls)
append+=" pty.legacy_count=0"
# The direct guest has RAM above 4 GiB, so that the bounce tests find memory
# beyond 28, 30 and 32-bit reach (GFP_KERNEL prefers ZONE_NORMAL, which then
# lies above 4 GiB): 1 GiB, of which only LOWMEM (512 MiB) below 4 GiB
# (max-ram-below-4g). A small guest boots and kmemleak-scans twice as fast
# as a 4 GiB one with the same split.
# TCG_THREAD=single runs both vCPUs in one host thread: cheaper when more
# guests than host cores run at once (make kunit), less truly parallel.
accel=tcg${TCG_THREAD:+,thread=$TCG_THREAD}
qemu=(qemu-system-x86_64 -accel "$accel" -nodefaults -nographic -no-reboot -smp 2)
mem=${MEM:-1G}
machine=pc
machine_opts=""
case $config in
direct) machine_opts=",max-ram-below-4g=${LOWMEM:-512M}" ;;
swiotlb) append+=" swiotlb=force" ;;
iommu)
	machine=q35
	qemu+=(-device "intel-iommu,caching-mode=on" -device edu)
	append+=" intel_iommu=on iommu.strict=1"
	;;
*) echo "run-guest: unknown config '$config'" >&2; usage >&2; exit 2 ;;
esac
name=$config
if ((edu)); then
	# q35: pc's ACPI _PRT method runs into ACPICA's 30 s loop timeout each
	# time a driver enables the device (its INTx routing); q35's is a static
	# table. Same memory and dma-direct or swiotlb otherwise: direct's RAM
	# above 4 GiB is where user pages come from, beyond the device's reach.
	name=edu-$config
	machine=q35
	[[ " ${qemu[*]} " == *" edu "* ]] || qemu+=(-device edu)
	qemu+=(-icount shift=auto,sleep=off)
	# -icount runs TCG in one thread anyway; thread=multi would be refused
	qemu[2]=tcg
fi
if ((${#nvme_imgs[@]})); then
	name=${run_name:-nvme-$config}
	machine=q35
	for i in "${!nvme_imgs[@]}"; do
		img=${nvme_imgs[$i]}
		[[ -w $img ]] || { echo "run-guest: no NVMe image $img" >&2; exit 1; }
		qemu+=(-drive "file=$img,if=none,id=nvm$i,format=raw"
		       -device "nvme,serial=iodma$i,drive=nvm$i")
	done
fi
qemu+=(-M "$machine$machine_opts" -m "$mem")
[[ -n $append_extra ]] && append+=" $append_extra"

dir="$outdir/$name"
rm -rf "$dir"
mkdir -p "$dir/ktap"
console="$dir/console.log"
results="$dir/results.txt"
: >"$results"
# ttyS0 on QEMU's stdout, so QEMU's own messages (e.g. "EDU: clamping") land
# in the console log too; ttyS1 is the results port.
qemu+=(-serial stdio -serial "file:$results" -kernel "$kernel" -initrd "$initrd" -append "$append")

echo "run-guest: $name: booting (timeout ${timeout_s} s)" >&2
start=$(date +%s)
rc=0
if ((verbose)); then
	timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$console" || rc=${PIPESTATUS[0]}
else
	timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$console" 2>&1 || rc=$?
fi
secs=$(($(date +%s) - start))
timed_out=0
((rc == 124 || rc == 137)) && timed_out=1
printf 'config=%s\nqemu_rc=%s\ntimeout=%s\ntimeout_limit=%s\nseconds=%s\n' \
	"$name" "$rc" "$timed_out" "$timeout_s" "$secs" >"$dir/status"

# Cut the per-suite KTAP and the kmemleak report out of the results port.
tr -d '\r' <"$results" | awk -v dir="$dir" '
	/^IODMA-KTAP-BEGIN / { f = dir "/ktap/" $2 ".ktap"; printf "" > f; next }
	/^IODMA-KTAP-END / { close(f); f = ""; next }
	/^IODMA-KMEMLEAK-BEGIN/ { f = dir "/kmemleak.txt"; printf "" > f; next }
	/^IODMA-KMEMLEAK-END/ { close(f); f = ""; next }
	f != "" { print > f }
'

suites=$(find "$dir/ktap" -name '*.ktap' | wc -l)
if grep -q '^IODMA-GUEST-DONE' "$results"; then
	echo "run-guest: $name: done in ${secs} s, $suites suite(s)" >&2
	exit 0
fi
if ((timed_out)); then
	echo "run-guest: $name: TIMEOUT after ${timeout_s} s (see $console)" >&2
else
	echo "run-guest: $name: guest did not finish (qemu rc $rc, see $console)" >&2
fi
exit 1
