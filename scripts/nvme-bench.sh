#!/usr/bin/env bash
# make nvme-bench (issue 17's head-to-head): one guest of CONFIG with two of
# QEMU's NVMe controllers on identical zero-filled images, under -icount
# shift=0; Linux's nvme driver (nvme-core.ko and nvme.ko of the test
# kernel's build) keeps the first, iodma_nvme gets the second
# (scripts/nvme-bench-guest.sh), and iodma_nvme_tool -B runs the same
# O_DIRECT workload on each.  Report: OUTDIR/nvme-bench.md
# (scripts/nvme-bench-report.py).  Not a test: numbers.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die
ICOUNT="shift=0"

usage() {
	cat <<USAGE
usage: ${0##*/} [-o OUTDIR] [-t SECONDS] [-n IOS] [-h] [CONFIG]
  Boot the test kernel in CONFIG (default direct; see scripts/run-guest.sh)
  with two NVMe controllers under -icount $ICOUNT, one driven by Linux's
  nvme, one by iodma_nvme, and compare them.  The modules and the tool must
  be built (make nvme-bench builds them first).
  -o DIR     output directory (default: results/nvme-bench)
  -t SEC     timeout for the guest (default \$TIMEOUT or 900)
  -n IOS     I/Os per size, operation and round (default 1000)
  -h         this help
USAGE
}

outdir=$top/results/nvme-bench
timeout_s=${TIMEOUT:-900}
ios=1000
while getopts "o:t:n:h" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	n) ios=$OPTARG ;;
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
mods=("$top/iodma.ko" "$kdir/drivers/nvme/host/nvme-core.ko" "$kdir/drivers/nvme/host/nvme.ko"
      "$top/iodma_nvme.ko")
for ko in "${mods[@]}" "$top/src/nvme/iodma_nvme_tool"; do
	[[ -r $ko ]] || die "no $ko (make nvme-bench builds the modules and the tool)"
done
initrd=$outdir/initramfs.cpio
"$here/mkinitramfs.sh" -o "$initrd" -x "$here/nvme-bench-guest.sh" \
	-b "$top/src/nvme/iodma_nvme_tool" "${mods[@]}"
imgs=()
for i in 0 1; do
	imgs+=(-n "$outdir/nvme$i.img")
	rm -f "$outdir/nvme$i.img"
	truncate -s 64M "$outdir/nvme$i.img"
done

# -icount is added to run-guest.sh's QEMU command line by a shim first in
# PATH (as scripts/bench.sh does), so that the guest is exactly its guest.
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
qemu=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64"
printf '#!/bin/sh\nexec %q "$@" -icount %q\n' "$qemu" "$ICOUNT" >"$shim/qemu-system-x86_64"
chmod +x "$shim/qemu-system-x86_64"

name=nvme-bench-$config
status=0
TCG_THREAD="" PATH="$shim:$PATH" "$here/run-guest.sh" -t "$timeout_s" -i "$initrd" \
	"${imgs[@]}" -N "$name" -a "iodma_nvme_bench.ios=$ios" "$config" "$outdir" || status=1
if grep -qE 'WARNING:|BUG:|KASAN|Call Trace:|DMA-API: .*(error|ERROR)' \
	"$outdir/$name/console.log"; then
	log "kernel reports in the console log; numbers are suspect"
	status=1
fi
"$here/nvme-bench-report.py" -o "$outdir/nvme-bench.md" \
	--title "iodma_nvme against Linux's nvme driver ($config, the debug test kernel)" \
	"$outdir/$name/results.txt" || status=1
exit $status
