#!/usr/bin/env bash
# Run the iodma benchmark (src/bench/iodma_bench.c) in QEMU in each of the
# given configurations, one guest at a time, and write the report:
#   OUTDIR/CONFIG/...      run-guest.sh's files for that guest
#   OUTDIR/bench.txt       every IODMA-BENCH / IODMA-DMAMAP line collected
#   OUTDIR/bench.md, .csv, .png   scripts/bench-report.py's table, data, plot
# Guests boot with -icount shift=0: the guest clock counts instructions (one
# per ns), so the numbers repeat from run to run and do not depend on the
# host's load; they are guest instructions, not host wall time.
# Exit status: 0 when every guest finished and reported, 1 otherwise.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die
ICOUNT="shift=0"

usage() {
	cat <<USAGE
usage: ${0##*/} [-o OUTDIR] [-t SECONDS] [-a APPEND] [-K test|stock] [-h] [CONFIG...]
  Boot a kernel with iodma.ko and iodma_bench.ko under QEMU TCG with
  -icount $ICOUNT in each CONFIG (default: direct swiotlb iommu; see
  scripts/run-guest.sh), collect the benchmark's lines from the results port,
  run the kernel's dma_map_benchmark once per guest, and write the report.
  The modules must be built (make bench builds them first).
  -o DIR     output directory (default: results/bench)
  -t SEC     timeout per guest (default \$TIMEOUT or 900)
  -a ARGS    extra kernel command line, e.g. "iodma_bench.iters=50"
  -K KERNEL  stock (default): Debian's linux-image-6.12-amd64, unpacked in
             the cache (scripts/lib.sh; no KASAN, lockdep or DMA-API debug:
             production costs), with iodma.ko and iodma_bench.ko built for it
             in OUTDIR/build (the walk probe and dma_map_benchmark need the
             test kernel and are left out); test: the debug test kernel, with
             the modules of the tree
  -h         this help
USAGE
}

outdir=$top/results/bench
timeout_s=${TIMEOUT:-900}
append=""
kernel=stock
while getopts "o:t:a:K:h" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	a) append=$OPTARG ;;
	K) kernel=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
configs=("$@")
((${#configs[@]})) || configs=(direct swiotlb iommu)

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
kdir=$("$here/build-test-kernel.sh" --print-dir)
guest_kernel=()
case $kernel in
test)
	mods=("$top/iodma.ko" "$top/iodma_bench.ko")
	kernel_name="the debug test kernel (KASAN, lockdep, DMA-API debug), so absolute numbers are far above production"
	;;
stock)
	stock_kernel 6.12 || die "no stock 6.12 kernel"
	build=$outdir/build
	copy_sources "$top" "$build" Kbuild include src
	log "building iodma.ko and iodma_bench.ko against $STOCK_KDIR"
	make -s -C "$STOCK_KDIR" M="$build" IODMA_BENCH=1 modules
	mods=("$build/iodma.ko" "$build/iodma_bench.ko")
	guest_kernel=(-k "$STOCK_VMLINUZ")
	kernel_name="Debian's stock $STOCK_RELEASE (no KASAN, lockdep or DMA-API debug): production costs"
	;;
*) log "unknown kernel '$kernel' (test or stock)"; usage >&2; exit 2 ;;
esac
for ko in "${mods[@]}"; do
	[[ -r $ko ]] || die "no $ko (run make bench)"
done

# The kernel's own user tool for dma_map_benchmark, from the test kernel's
# source; its header is not uapi, so it comes after the system headers.
tool=$outdir/dma_map_benchmark
tool_src=$kdir/source/tools/testing/selftests/dma/dma_map_benchmark.c
if [[ ! -x $tool || $tool_src -nt $tool ]]; then
	gcc -static -O2 -idirafter "$kdir/source/include" -o "$tool" "$tool_src"
fi

initrd=$outdir/initramfs.cpio.gz
"$here/mkinitramfs.sh" -o "$initrd" -x "$here/bench-guest.sh" -b "$tool" "${mods[@]}"

# run-guest.sh owns the configurations; -icount is added to its QEMU command
# line by a shim first in PATH, so that the guests are exactly its guests.
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
icount_shim "$shim" "$ICOUNT"

status=0
all=$outdir/bench.txt
: >"$all"
for c in "${configs[@]}"; do
	start=$(date +%s)
	PATH="$shim:$PATH" "$here/run-guest.sh" "${guest_kernel[@]}" -t "$timeout_s" -i "$initrd" \
		-a "iodma_bench.clock=icount-${ICOUNT/=/} $append" "$c" "$outdir" || status=1
	res=$outdir/$c/results.txt
	tr -d '\r' <"$res" | grep -E '^IODMA-(BENCH|DMAMAP) ' | sed "s/^/$c /" >>"$all" || true
	if ! tr -d '\r' <"$res" | grep -q '^IODMA-BENCH .*test=done errors=0 '; then
		log "$c: the benchmark did not finish cleanly (see $outdir/$c/console.log)"
		status=1
	fi
	# a benchmark of a kernel that warned measures the warning too
	if grep -qE 'WARNING:|BUG:|KASAN|Call Trace:|DMA-API: .*(error|ERROR)' \
		"$outdir/$c/console.log"; then
		log "$c: kernel reports in the console log; numbers are suspect"
		echo "$c IODMA-BENCH config=$c test=kernel-report" >>"$all"
		status=1
	fi
	log "$c: $(($(date +%s) - start)) s"
done

"$here/bench-report.py" --clock "QEMU TCG -icount $ICOUNT (guest ns = instructions)" \
	--kernel "$kernel_name" -o "$outdir" "$all"
exit $status
