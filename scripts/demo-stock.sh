#!/usr/bin/env bash
# The iodma_edu demo on Debian's stock 6.12 kernel (linux-image-6.12-amd64),
# unpacked in the cache, not installed (scripts/lib.sh): build iodma.ko and
# iodma_edu.ko against its headers in a copy of the sources under
# OUTDIR/build, boot its vmlinuz with them in each CONFIG and print the
# summaries (scripts/demo.sh). The stock kernel has no KUnit, kmemleak or
# DMA-API debug: only the end-to-end test runs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die

usage() {
	cat <<USAGE
usage: ${0##*/} [-t SECONDS] [-j JOBS] [-b TOOL] OUTDIR CONFIG...
  Run the iodma_edu demo on Debian's stock 6.12 kernel (fetched into the
  cache by scripts/lib.sh) in each CONFIG; results in OUTDIR/edu-CONFIG/.
  -t SEC     timeout per guest (default \$TIMEOUT or 300)
  -j JOBS    guests at once (default 2)
  -b FILE    the static iodma_edu_tool (default src/edu/iodma_edu_tool)
  -h         this help
USAGE
}

timeout_s=${TIMEOUT:-300}
tool=$top/src/edu/iodma_edu_tool
jobs=2
while getopts "t:j:b:h" opt; do
	case $opt in
	t) timeout_s=$OPTARG ;;
	j) jobs=$OPTARG ;;
	b) tool=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(($# >= 2)) || { usage >&2; exit 2; }
outdir=$1
shift

stock_kernel 6.12 || die "no stock 6.12 kernel"

mkdir -p "$outdir"
build=$(cd "$outdir" && pwd)/build
copy_sources "$top" "$build" Kbuild include src
log "building iodma.ko and iodma_edu.ko against $STOCK_KDIR"
make -s -C "$STOCK_KDIR" M="$build" modules
"$here/mkinitramfs.sh" -o "$outdir/initramfs.cpio.gz" -x "$here/demo-guest.sh" -b "$tool" \
	"$build/iodma.ko" "$build/iodma_edu.ko"
echo "== iodma_edu demo on Debian's stock kernel $STOCK_RELEASE ($STOCK_VMLINUZ) =="
"$here/demo.sh" -t "$timeout_s" -j "$jobs" -k "$STOCK_VMLINUZ" -i "$outdir/initramfs.cpio.gz" "$outdir" "$@"
