#!/usr/bin/env bash
# make nvme-bench (issue 17's head-to-head): per kernel, one guest of CONFIG
# with two of QEMU's NVMe controllers on identical zero-filled images, under
# -icount shift=0; Linux's nvme driver (nvme-core.ko and nvme.ko of that
# kernel) keeps the first, iodma_nvme gets the second
# (scripts/nvme-bench-guest.sh), and iodma_nvme_tool -B runs the same
# O_DIRECT jobs on each.  The kernels: the debug test kernel with the
# tree's modules, and Debian's stock 6.12 (its own nvme modules, iodma.ko
# and iodma_nvme.ko built against its headers in OUTDIR/build).  Report:
# OUTDIR/nvme-bench.md (scripts/nvme-bench-report.py).  Not a test: numbers.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die
ICOUNT="shift=0"

usage() {
	cat <<USAGE
usage: ${0##*/} [-o OUTDIR] [-t SECONDS] [-n IOS] [-K KERNELS] [-h] [CONFIG]
  Boot each kernel in CONFIG (default direct; see scripts/run-guest.sh)
  with two NVMe controllers under -icount $ICOUNT, one driven by Linux's
  nvme, one by iodma_nvme, and compare them.  The modules and the tool must
  be built (make nvme-bench builds them first).
  -o DIR     output directory (default: results/nvme-bench)
  -t SEC     timeout per guest (default \$TIMEOUT or 900)
  -n IOS     I/Os per job and round (default 1000 on the stock kernel, 200
             on the debug one, which is five to ten times slower)
  -K LIST    kernels, "test stock" (default): test is the debug test
             kernel, stock Debian's linux-image-6.12-amd64 (unpacked in
             the cache, scripts/lib.sh)
  -h         this help
USAGE
}

outdir=$top/results/nvme-bench
timeout_s=${TIMEOUT:-900}
ios=""
kernels="test stock"
while getopts "o:t:n:K:h" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	n) ios=$OPTARG ;;
	K) kernels=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(($# <= 1)) || { usage >&2; exit 2; }
config=${1:-direct}

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
kdir=$("$here/build-test-kernel.sh" --print-dir --no-build)
[[ -x $top/src/nvme/iodma_nvme_tool ]] ||
	die "no $top/src/nvme/iodma_nvme_tool (make nvme-bench builds it)"

# -icount is added to run-guest.sh's QEMU command line by a shim first in
# PATH (as scripts/bench.sh does), so that the guest is exactly its guest.
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
icount_shim "$shim" "$ICOUNT"

status=0
reports=()
for kernel in $kernels; do
	guest_kernel=()
	case $kernel in
	test)
		mods=("$top/iodma.ko" "$kdir/drivers/nvme/host/nvme-core.ko"
		      "$kdir/drivers/nvme/host/nvme.ko" "$top/iodma_nvme.ko")
		;;
	stock)
		stock_kernel 6.12 || die "no stock 6.12 kernel"
		build=$outdir/build
		copy_sources "$top" "$build" Kbuild include src
		log "building iodma.ko and iodma_nvme.ko against $STOCK_KDIR"
		make -s -C "$STOCK_KDIR" M="$build" modules
		mapfile -t mods < <(stock_modules "$build/stock-modules" nvme-core nvme)
		mods=("$build/iodma.ko" "${mods[@]}" "$build/iodma_nvme.ko")
		guest_kernel=(-k "$STOCK_VMLINUZ")
		;;
	*) log "unknown kernel '$kernel' (test or stock)"; usage >&2; exit 2 ;;
	esac
	for ko in "${mods[@]}"; do
		[[ -r $ko ]] || die "no $ko (make nvme-bench builds the modules)"
	done
	initrd=$outdir/initramfs-$kernel.cpio
	"$here/mkinitramfs.sh" -o "$initrd" -x "$here/nvme-bench-guest.sh" \
		-b "$top/src/nvme/iodma_nvme_tool" "${mods[@]}"
	imgs=()
	for i in 0 1; do
		imgs+=(-n "$outdir/nvme$i.img")
		rm -f "$outdir/nvme$i.img"
		truncate -s 64M "$outdir/nvme$i.img"
	done
	kios=${ios:-$([[ $kernel == stock ]] && echo 1000 || echo 200)}
	name=nvme-bench-$config-$kernel
	start=$(date +%s)
	TCG_THREAD="" PATH="$shim:$PATH" "$here/run-guest.sh" "${guest_kernel[@]}" \
		-t "$timeout_s" -i "$initrd" "${imgs[@]}" -N "$name" \
		-a "iodma_nvme_bench.ios=$kios" "$config" "$outdir" || status=1
	if grep -qE 'WARNING:|BUG:|KASAN|Call Trace:|DMA-API: .*(error|ERROR)' \
		"$outdir/$name/console.log"; then
		log "$kernel: kernel reports in the console log; numbers are suspect"
		status=1
	fi
	log "$kernel: $(($(date +%s) - start)) s"
	reports+=("$kernel=$outdir/$name/results.txt")
	rm -f "$outdir"/nvme[01].img
done
"$here/nvme-bench-report.py" -o "$outdir/nvme-bench.md" --release "${STOCK_RELEASE:-}" \
	--title "iodma_nvme against Linux's nvme driver ($config)" "${reports[@]}" || status=1
exit $status
