#!/usr/bin/env bash
# DKMS test: dkms add, build and install iodma (iodma.ko and the demo driver
# iodma_edu.ko, dkms.conf) for Debian's stock kernels, 6.12
# (linux-image-6.12-amd64) and 6.1 (linux-image-amd64), in a private DKMS
# tree under OUTDIR, against the kernels' headers unpacked in the cache
# (scripts/lib.sh): the host's /boot, /var/lib/dkms, /usr/src and
# /lib/modules are not touched. With -b, each stock kernel then boots in QEMU
# with the modules DKMS built and runs the demo's data-verifying copy
# (scripts/demo-guest.sh), once per configuration, one guest at a time.
# Writes OUTDIR/ktap/iodma_dkms.ktap (one test per kernel and step), which
# scripts/ktap-summary.py reads as the configuration "dkms".
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die

usage() {
	cat <<USAGE
usage: ${0##*/} [-o OUTDIR] [-s SRCDIR] [-b] [-c CONFIG]... [-t SECONDS] [-h] [KERNEL...]
  KERNEL is 6.12 or 6.1 (default: both): Debian's stock kernel of that series.
  -o DIR     output directory (default results/dkms)
  -s DIR     the iodma source tree to package (default $top)
  -b         also boot each kernel in QEMU and run the demo there
  -c CONFIG  demo configuration for -b (default: direct and iommu)
  -t SEC     timeout per guest (default \$TIMEOUT or 300)
  -h         this help
Needs dkms (scripts/install-deps.sh -d, as root).
USAGE
}

outdir=$top/results/dkms
src=$top
boot=0
configs=()
timeout_s=${TIMEOUT:-300}
while getopts "o:s:bc:t:h" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	s) src=$OPTARG ;;
	b) boot=1 ;;
	c) configs+=("$OPTARG") ;;
	t) timeout_s=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
series=("$@")
((${#series[@]})) || series=(6.12 6.1)
((${#configs[@]})) || configs=(direct iommu)

"$here/install-deps.sh" -d

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$src/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")
modversion=$(sed -n 's/^#define IODMA_VERSION "\(.*\)"/\1/p' "$src/src/iodma_internal.h")

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
tree=$outdir/tree
rm -rf "$tree" "$outdir/ktap"
mkdir -p "$tree"/{dkms,src,install} "$outdir/ktap"
ktap=$outdir/ktap/iodma_dkms.ktap

tests=()	# "ok|not ok" and name, in order
note() { tests+=("$1 $2"); log "$1 $2"; }

if [[ $version != "$modversion" ]]; then
	note "not ok" "version: dkms.conf says $version, IODMA_VERSION is $modversion"
else
	note ok "version $version"
fi

# The package's source, as 'make dist' would ship it: no build products.
pkg=$tree/src/$name-$version
copy_sources "$src" "$pkg" dkms.conf Kbuild Makefile include src

dkms=(dkms --dkmstree "$tree/dkms" --sourcetree "$tree/src" --installtree "$tree/install")
# DKMS signs what it builds, with a key it creates in /var/lib/dkms unless
# told otherwise: a throwaway key of the private tree instead.
export mok_signing_key=$tree/mok.key mok_certificate=$tree/mok.pub
if "${dkms[@]}" add -m "$name" -v "$version" >"$outdir/add.log" 2>&1; then
	note ok "add"
else
	note "not ok" "add (see $outdir/add.log)"
fi

tool=$top/src/edu/iodma_edu_tool
for s in "${series[@]}"; do
	if ! stock_kernel "$s"; then
		note "not ok" "$s: no stock kernel of that series in the cache"
		continue
	fi
	kver=$STOCK_RELEASE
	logs=$outdir/$kver
	if ! "${dkms[@]}" build -m "$name" -v "$version" -k "$kver" \
		--kernelsourcedir "$STOCK_KDIR" >"$logs.build.log" 2>&1; then
		note "not ok" "$s: build for $kver"
		sed 's/^/# /' "$tree/dkms/$name/$version/$kver/x86_64/log/make.log" 2>/dev/null |
			grep -E 'error|ERROR|warning' | head -n 20 >&2 || true
		continue
	fi
	note ok "$s: build for $kver"
	mkdir -p "$tree/install/$kver"
	if ! "${dkms[@]}" install --no-depmod -m "$name" -v "$version" -k "$kver" \
		--kernelsourcedir "$STOCK_KDIR" >"$logs.install.log" 2>&1; then
		note "not ok" "$s: install for $kver (see $logs.install.log)"
		continue
	fi
	mods=()
	for m in iodma iodma_edu; do
		ko=$(find "$tree/install/$kver" -name "$m.ko*" | head -n 1)
		if [[ -n $ko && $(modinfo -F vermagic "$ko" | cut -d' ' -f1) == "$kver" ]]; then
			mods+=("$ko")
		fi
	done
	if ((${#mods[@]} != 2)); then
		note "not ok" "$s: install for $kver: iodma.ko and iodma_edu.ko with vermagic $kver"
		continue
	fi
	note ok "$s: install for $kver"
	((boot)) || continue

	# Boot the stock kernel with the installed modules and run the demo.
	[[ -x $tool ]] || make -s -C "$top" tool >/dev/null
	for ko in "${mods[@]}"; do
		case $ko in *.xz) xz -dkf "$ko" ;; *.zst) zstd -dqf "$ko" ;; esac
	done
	initrd=$outdir/boot-$kver/initramfs.cpio.gz
	"$here/mkinitramfs.sh" -o "$initrd" -x "$here/demo-guest.sh" -b "$tool" \
		"$(dirname "${mods[0]}")/iodma.ko" "$(dirname "${mods[1]}")/iodma_edu.ko" 2>/dev/null
	# One guest at a time. lpj= skips the delay-loop calibration, which
	# under TCG with -icount holds 6.1's second CPU for minutes.
	for c in "${configs[@]}"; do
		dir=$outdir/boot-$kver/edu-$c
		for attempt in 1 2; do
			"$here/run-guest.sh" -e -t "$timeout_s" -k "$STOCK_VMLINUZ" -i "$initrd" \
				-a "lpj=4000000" "$c" "$outdir/boot-$kver" 2>>"$logs.demo.log" || true
			# A stock guest that died before iodma.ko was loaded (TCG once
			# double-faulted in early boot) says nothing of iodma: boot it
			# once more.  Anything after the load counts.
			if grep -q "iodma .* loaded" "$dir/console.log" 2>/dev/null || ((attempt == 2)); then
				break
			fi
			echo "dkms-test: $kver, $c: the guest died before iodma was loaded; booting again" |
				tee -a "$logs.demo.log" >&2
		done
		echo "== iodma_edu demo on $kver, $c ==" >>"$logs.demo.log"
		tr -d '\r' <"$dir/results.txt" 2>/dev/null | sed -n 's/^IODMA-EDU: //p' \
			>>"$logs.demo.log" || true
		if "$here/ktap-summary.py" -q "$dir" >>"$logs.demo.log" 2>&1; then
			note ok "$s: demo on $kver, $c"
		else
			note "not ok" "$s: demo on $kver, $c (see $logs.demo.log, $dir)"
			tail -n 15 "$logs.demo.log" >&2
		fi
	done
done

# The private tree goes; the logs stay. The host's DKMS state is unchanged.
"${dkms[@]}" remove -m "$name" -v "$version" --all --no-depmod >/dev/null 2>&1 || true

failed=0
{
	echo "KTAP version 1"
	echo "1..1"
	echo "    KTAP version 1"
	echo "    # Subtest: iodma_dkms"
	echo "    1..${#tests[@]}"
	i=0
	for t in "${tests[@]}"; do
		i=$((i + 1))
		if [[ $t == "not ok "* ]]; then
			failed=1
			echo "    not ok $i ${t#not ok }"
		else
			echo "    ok $i ${t#ok }"
		fi
	done
	if ((failed)); then echo "not ok 1 iodma_dkms"; else echo "ok 1 iodma_dkms"; fi
} >"$ktap"

echo "== DKMS ($ktap) =="
printf '  %s\n' "${tests[@]}"
exit $failed
