#!/usr/bin/env bash
# The iodma_nvme end-to-end test: for each RUN (CONFIG:MODE), a fresh 64 MiB
# zero-filled raw image becomes the namespace of QEMU's NVMe controller in a
# guest of CONFIG (run-guest.sh -n), where the initramfs's /extra.sh
# (scripts/nvme-guest.sh) reloads iodma_nvme with data_mode=MODE and runs
# iodma_nvme_tool; once the guest is off, the image is checked byte for byte
# against the extents and seed the tool reported (scripts/nvme-check.py),
# as the KTAP suite iodma_nvme_image appended to the run's results.txt.
# Then the summary of all runs (scripts/ktap-summary.py: also the kernel's
# reports, DMAR faults and DMA-API errors in the console logs).
#
# CONFIG is one of run-guest.sh's (direct, swiotlb, iommu) or direct32:
# direct (512 MiB of the guest's 1 GiB above 4 GiB) with iodma_nvme's
# addr_bits=32, so that user memory above 4 GiB bounces in iodma.  MODE is
# prp or sgl, and prp:intx or sgl:intx for the INTx interrupt (use_intx=1).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die

RUNS_DEFAULT="direct:prp swiotlb:prp iommu:prp direct32:prp"
RUNS_DEFAULT+=" direct:sgl swiotlb:sgl iommu:sgl direct32:sgl direct:prp:intx"

usage() {
	cat <<USAGE
usage: ${0##*/} [-i INITRAMFS] [-k BZIMAGE] [-t SECONDS] OUTDIR [CONFIG:MODE[:intx]...]
  Run the iodma_nvme end-to-end test in each CONFIG:MODE (default:
  $RUNS_DEFAULT), one guest at a time; results in OUTDIR/nvme-CONFIG-MODE/,
  images in OUTDIR/nvme-images/.
  -i FILE    initramfs made by mkinitramfs.sh -x nvme-guest.sh -b iodma_nvme_tool
             iodma.ko iodma_nvme.ko (default OUTDIR/initramfs.cpio)
  -k FILE    kernel (default: the cached test kernel)
  -t SEC     timeout per guest (default \$TIMEOUT or 300)
  -h         this help
USAGE
}

initrd=""
kernel=""
timeout_s=${TIMEOUT:-300}
while getopts "i:k:t:h" opt; do
	case $opt in
	i) initrd=$OPTARG ;;
	k) kernel=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(($# >= 1)) || { usage >&2; exit 2; }
outdir=$1
shift
read -ra runs <<<"${*:-$RUNS_DEFAULT}"
initrd=${initrd:-$outdir/initramfs.cpio}
kargs=()
[[ -n $kernel ]] && kargs=(-k "$kernel")
mkdir -p "$outdir/nvme-images"

# image_suite NAME IMAGE RESULTS: the host's check as a KTAP suite.
image_suite() {
	local out rc=0
	out=$("$here/nvme-check.py" "$2" "$3" 2>&1) || rc=1
	echo "IODMA-KTAP-BEGIN iodma_nvme_image"
	printf 'KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: iodma_nvme_image\n    1..1\n'
	echo "    # $out"
	if ((rc)); then echo "    not ok 1 image_matches_extents"; else echo "    ok 1 image_matches_extents"; fi
	if ((rc)); then echo "not ok 1 iodma_nvme_image"; else echo "ok 1 iodma_nvme_image"; fi
	echo "IODMA-KTAP-END iodma_nvme_image"
	echo "$1: $out" >&2
}

dirs=()
seed=0
for run in "${runs[@]}"; do
	IFS=: read -r config mode irq <<<"$run"
	[[ ($mode == prp || $mode == sgl) && (-z $irq || $irq == intx) ]] ||
		die "bad run '$run' (CONFIG:prp or CONFIG:sgl, then :intx or nothing)"
	intx=0
	[[ $irq == intx ]] && intx=1
	bits=64
	base=$config
	if [[ $config == direct32 ]]; then
		bits=32
		base=direct
	fi
	seed=$((seed + 1))
	name=nvme-$config-$mode${irq:+-$irq}
	img=$outdir/nvme-images/$name.img
	rm -f "$img"
	truncate -s 64M "$img"
	dirs+=("$outdir/$name")
	"$here/run-guest.sh" -t "$timeout_s" -i "$initrd" "${kargs[@]}" -n "$img" -N "$name" \
		-a "iodma_nvme.data_mode=$mode iodma_nvme.addr_bits=$bits iodma_nvme.use_intx=$intx iodma_nvme.seed=$seed" \
		"$base" "$outdir" || true
	if grep -q '^IODMA-GUEST-DONE' "$outdir/$name/results.txt" 2>/dev/null; then
		image_suite "$name" "$img" "$outdir/$name/results.txt" >"$outdir/$name/image.ktap"
		cat "$outdir/$name/image.ktap" >>"$outdir/$name/results.txt"
	fi
	tr -d '\r' <"$outdir/$name/results.txt" 2>/dev/null | sed -n 's/^IODMA-NVME: /  /p' || true
done
echo
"$here/ktap-summary.py" "${dirs[@]}"
