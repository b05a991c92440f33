#!/usr/bin/env bash
# The iodma_edu demo: boot a guest with QEMU's edu device in each CONFIG
# (run-guest.sh -e), where the initramfs's /extra.sh (scripts/demo-guest.sh)
# runs iodma_edu_tool through /dev/iodma-edu0; then print each run's summary
# and the test summary of all runs (its closing line and exit status).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	cat <<USAGE
usage: ${0##*/} [-i INITRAMFS] [-k BZIMAGE] [-t SECONDS] [-j JOBS] OUTDIR CONFIG...
  Run the iodma_edu demo in each CONFIG (direct, swiotlb, iommu) and print
  the summaries. Results in OUTDIR/edu-CONFIG/.
  -i FILE    initramfs made by mkinitramfs.sh -x demo-guest.sh -b iodma_edu_tool
             (default OUTDIR/initramfs.cpio.gz)
  -k FILE    kernel (default: the cached test kernel)
  -t SEC     timeout per guest (default \$TIMEOUT or 300)
  -j JOBS    guests at once (default 2: an -icount guest uses one host CPU)
  -h         this help
USAGE
}

initrd=""
kernel=""
timeout_s=${TIMEOUT:-300}
jobs=2
while getopts "i:k:t:j:h" opt; do
	case $opt in
	i) initrd=$OPTARG ;;
	k) kernel=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	j) jobs=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(($# >= 2)) || { usage >&2; exit 2; }
outdir=$1
shift
initrd=${initrd:-$outdir/initramfs.cpio.gz}

describe() {
	case $1 in
	direct) echo "1 GiB, half of it above 4 GiB, dma-direct: user memory lies beyond the device's 28 bits, iodma bounces" ;;
	swiotlb) echo "1 GiB, swiotlb=force: the DMA API bounces" ;;
	iommu) echo "intel-iommu: IOVAs below 2^28, nothing to bounce" ;;
	*) echo "$1" ;;
	esac
}

kargs=()
[[ -n $kernel ]] && kargs=(-k "$kernel")
printf '%s\n' "$@" | xargs -P "$jobs" -I{} \
	"$here/run-guest.sh" -e -t "$timeout_s" -i "$initrd" "${kargs[@]}" {} "$outdir" || true

dirs=()
for config in "$@"; do
	dir=$outdir/edu-$config
	dirs+=("$dir")
	echo
	echo "== iodma_edu demo, $config: $(describe "$config") =="
	grep -h -e 'iodma .* loaded' -e 'iodma_edu .*/dev/' "$dir/console.log" 2>/dev/null | head -n 2 || true
	if ! tr -d '\r' <"$dir/results.txt" 2>/dev/null | sed -n 's/^IODMA-EDU: //p' | grep .; then
		echo "no summary from the guest (see $dir/console.log)"
	fi
done
echo
"$here/ktap-summary.py" -q "${dirs[@]}"
