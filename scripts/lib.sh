# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Sourced by iodma's host scripts (bash), not run: their messages (log, die)
# and Debian 12's stock kernels, which the demo, the benchmark and the DKMS
# test boot in QEMU. A stock kernel is never installed on the host: its
# packages (the image, its headers, the common headers and kbuild the headers
# need) are fetched with 'apt-get download' and unpacked with 'dpkg-deb -x'
# into the cache, $IODMA_CACHE/stock/<release>/ (IODMA_CACHE defaults to
# ~/.cache/iodma, as for scripts/build-test-kernel.sh), so the host's /boot,
# /lib/modules, boot menu and init system stay as they were.
#
# Sets here (scripts/) and top (the tree) for the sourcing script, and
# IODMA_CACHE_DIR. Messages are prefixed with PROG, the sourcing script's
# name unless it sets PROG first.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
: "${PROG:=$(basename "$0" .sh)}"
IODMA_CACHE_DIR=${IODMA_CACHE:-${HOME:-/root}/.cache/iodma}

log() { echo "$PROG: $*" >&2; }
die() { log "error: $*"; exit 1; }

# copy_sources TREE DIR PATH...: a fresh copy in DIR of TREE's top-level
# PATHs (e.g. Kbuild include src) without build products, for a build that
# neither races with nor dirties the tree's own.
copy_sources() {
	local tree=$1 dir=$2
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$tree" && cp -r "$@" "$dir/")
	find "$dir" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.[co]' \
		-o -name '.*.cmd' -o -name iodma_edu_tool \) -delete
}

# stock_meta SERIES: the meta-package that follows Debian 12's stock kernel
# of SERIES, 6.12 or 6.1.
stock_meta() {
	case $1 in
	6.12) echo linux-image-6.12-amd64 ;;
	6.1) echo linux-image-amd64 ;;
	*) log "unknown stock kernel series '$1' (6.12 or 6.1)"; return 1 ;;
	esac
}

# apt-cache depends's options for what installing a package installs.
APT_DEPENDS_ONLY=(--no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces
		  --no-enhances)

# The packages that apt-cache says PKG depends on, one per line (each of
# alternatives too).
apt_depends() {
	apt-cache depends "${APT_DEPENDS_ONLY[@]}" "$1" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: \([^<> ]*\)$/\1/p'
}

# stock_release SERIES: the release apt's candidate of SERIES's meta-package
# depends on, e.g. 6.12.117+deb12-amd64 (the package linux-image-<release>).
stock_release() {
	local meta rel

	meta=$(stock_meta "$1") || return 1
	rel=$(apt_depends "$meta" | sed -n 's/^linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	[[ -n $rel ]] || { log "apt knows no $meta (apt-get update?)"; return 1; }
	echo "$rel"
}

# stock_unpack ROOT RELEASE PACKAGE...: fetch the packages and unpack them
# into ROOT, unless ROOT holds these versions already.
stock_unpack() {
	local root=$1 rel=$2 want debs p
	shift 2

	want=$(apt-cache show --no-all-versions "$@" 2>/dev/null |
		sed -n 's/^Package: //p; s/^Version: //p' | paste -sd ' ')
	if [[ -e $root/.iodma-unpacked && $(cat "$root/.iodma-unpacked") == "$want" ]]; then
		return 0
	fi
	debs=$root.debs
	rm -rf "$root.tmp" "$debs"
	mkdir -p "$root.tmp" "$debs"
	log "fetching $* into $debs"
	# apt-get download writes into the current directory; as root it warns
	# that its sandbox user cannot read there.
	if ! (cd "$debs" && apt-get download "$@") >"$root.download.log" 2>&1; then
		tail -n 5 "$root.download.log" >&2
		log "apt-get download failed (apt-get update?), log: $root.download.log"
		return 1
	fi
	for p in "$debs"/*.deb; do
		dpkg-deb -x "$p" "$root.tmp"
	done
	# The packages point at where they would be installed: the headers'
	# Makefile includes the common headers' by their absolute path, and the
	# modules directory's build and source links are absolute.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" \
		"$root.tmp/usr/src/linux-headers-$rel/Makefile"
	for p in build source; do
		p=$root.tmp/lib/modules/$rel/$p
		[[ -L $p ]] && ln -sfn "$root$(readlink "$p")" "$p"
	done
	# The guests load iodma's modules only: the image's own are left out
	# (stock_modules keeps the few make nvme-bench needs elsewhere).
	rm -rf "$root.tmp/lib/modules/$rel/kernel"
	echo "$want" >"$root.tmp/.iodma-unpacked"
	rm -rf "$root"
	mv "$root.tmp" "$root"
	rm -rf "$debs" "$root.download.log"
	log "unpacked Debian's $rel in $root"
}

# stock_kernel SERIES: make sure the stock kernel of SERIES is unpacked in the
# cache and set STOCK_ROOT (where), STOCK_RELEASE, STOCK_VMLINUZ (the image QEMU boots) and
# STOCK_KDIR (the headers' build directory, for make -C and dkms -k).
# Downloads only when apt's candidate versions differ from those unpacked;
# concurrent callers wait for each other.
stock_kernel() {
	local rel root pkgs

	rel=$(stock_release "$1") || return 1
	root=$IODMA_CACHE_DIR/stock/$rel
	STOCK_ROOT=$root
	STOCK_RELEASE=$rel
	STOCK_VMLINUZ=$root/boot/vmlinuz-$rel
	STOCK_KDIR=$root/usr/src/linux-headers-$rel

	# The image and its headers, and the headers' common part and kbuild
	# (not their image dependency, nor the compiler: install-deps.sh's).
	pkgs=("linux-image-$rel" "linux-headers-$rel")
	mapfile -t -O 2 pkgs < <(apt_depends "linux-headers-$rel" |
		grep -E '^linux-(headers-.*-common|kbuild-)')
	mkdir -p "$IODMA_CACHE_DIR/stock"
	(flock 9 && stock_unpack "$root" "$rel" "${pkgs[@]}") 9>"$IODMA_CACHE_DIR/stock/.lock" ||
		return 1
	[[ -r $STOCK_VMLINUZ && -r $STOCK_KDIR/Makefile ]] ||
		{ log "no $STOCK_VMLINUZ or $STOCK_KDIR/Makefile in $root"; return 1; }
}

# stock_modules DIR NAME...: the stock kernel's (stock_kernel first) modules
# NAME (as modinfo names them, e.g. nvme-core) and the modules they depend
# on, decompressed into DIR; prints their paths in load order.  The image's
# modules under drivers/nvme/ are kept in the cache beside the unpacked
# kernel, in STOCK_ROOT.nvme-modules (stock_unpack drops the others).
stock_modules() {
	local dir=$1 name mods=$STOCK_ROOT.nvme-modules want tmp
	local -A seen=()
	shift
	want=$(cat "$STOCK_ROOT/.iodma-unpacked")
	if [[ ! -e $mods/.iodma-unpacked || $(cat "$mods/.iodma-unpacked") != "$want" ]]; then
		tmp=$mods.tmp
		rm -rf "$tmp"
		mkdir -p "$tmp/deb"
		log "fetching linux-image-$STOCK_RELEASE for its NVMe modules"
		if ! (cd "$tmp/deb" && apt-get download "linux-image-$STOCK_RELEASE") \
			>"$tmp/download.log" 2>&1; then
			tail -n 5 "$tmp/download.log" >&2
			return 1
		fi
		dpkg-deb --fsys-tarfile "$tmp"/deb/*.deb |
			tar -x -C "$tmp" --wildcards '*/kernel/drivers/nvme/*'
		rm -rf "$tmp/deb" "$tmp/download.log"
		echo "$want" >"$tmp/.iodma-unpacked"
		rm -rf "$mods"
		mv "$tmp" "$mods"
	fi
	mkdir -p "$dir"
	_stock_module() {
		local n=$1 src dep
		[[ -n ${seen[$n]:-} ]] && return 0
		seen[$n]=1
		src=$(find "$mods" \( -name "$n.ko*" -o -name "${n//_/-}.ko*" \) | head -n 1)
		[[ -n $src ]] || { log "no module $n in $mods"; return 1; }
		case $src in
		*.xz) xz -dc "$src" >"$dir/$n.ko" ;;
		*) cp "$src" "$dir/$n.ko" ;;
		esac
		for dep in $(modinfo -F depends "$dir/$n.ko" | tr ',' ' '); do
			_stock_module "$dep" || return 1
		done
		echo "$dir/$n.ko"
	}
	for name in "$@"; do
		_stock_module "$name" || return 1
	done
}

# icount_shim DIR ICOUNT: DIR/qemu-system-x86_64 runs QEMU with "-icount
# ICOUNT" added; with DIR first in PATH, run-guest.sh's guests are exactly
# its guests, counted in instructions (make bench, make nvme-bench).
icount_shim() {
	local qemu
	qemu=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64"
	printf '#!/bin/sh\nexec %q "$@" -icount %q\n' "$qemu" "$2" >"$1/qemu-system-x86_64"
	chmod +x "$1/qemu-system-x86_64"
}
