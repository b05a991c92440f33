#!/usr/bin/env bash
# The iodma_edu demo on Debian's stock kernel (linux-image-6.12-amd64): build
# iodma.ko and iodma_edu.ko against linux-headers-6.12-amd64 in a copy of the
# sources under OUTDIR/build, boot /boot/vmlinuz-<version> with them in each
# CONFIG and print the summaries (scripts/demo.sh). The stock kernel has no
# KUnit, kmemleak or DMA-API debug: only the end-to-end test runs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")

usage() {
	cat <<USAGE
usage: ${0##*/} [-t SECONDS] [-j JOBS] [-b TOOL] OUTDIR CONFIG...
  Run the iodma_edu demo on Debian's stock 6.12 kernel (installed by
  scripts/install-deps.sh -s) in each CONFIG; results in OUTDIR/edu-CONFIG/.
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

"$here/install-deps.sh" -s
# linux-image-6.12-amd64 depends on the versioned image, e.g.
# linux-image-6.12.117+deb12-amd64: its version names the headers and image.
release=$(dpkg-query -W -f='${Depends}' linux-image-6.12-amd64 |
	sed -n 's/.*linux-image-\(6\.12[^ ,]*-amd64\).*/\1/p')
kdir=/usr/src/linux-headers-$release
bzimage=/boot/vmlinuz-$release
[[ -n $release && -d $kdir && -r $bzimage ]] ||
	{ echo "demo-stock: no stock kernel or headers for '$release'" >&2; exit 1; }

build=$outdir/build
rm -rf "$build"
mkdir -p "$build"
cp -r "$top/Kbuild" "$top/src" "$top/include" "$build/"
find "$build" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \) -delete
echo "demo-stock: building iodma.ko and iodma_edu.ko against $kdir" >&2
make -s -C "$kdir" M="$(cd "$build" && pwd)" modules
"$here/mkinitramfs.sh" -o "$outdir/initramfs.cpio.gz" -x "$here/demo-guest.sh" -b "$tool" \
	"$build/iodma.ko" "$build/iodma_edu.ko"
echo "== iodma_edu demo on Debian's stock kernel $release =="
"$here/demo.sh" -t "$timeout_s" -j "$jobs" -k "$bzimage" -i "$outdir/initramfs.cpio.gz" "$outdir" "$@"
