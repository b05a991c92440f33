#!/usr/bin/env bash
# Install every Debian 12 package that iodma's build and test scripts use.
# This is the only script that talks to apt. It is idempotent and returns
# at once when everything is already installed.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-u] [-n] [-s] [-d] [-h]
  Install the Debian packages needed to build iodma and run its tests in QEMU.
  -s  also Debian's stock kernel and its headers, for the demo on it (make demo)
  -d  also dkms and Debian's stock 6.12 and 6.1 kernels and headers
      (scripts/dkms-test.sh)
  -u  run 'apt-get update' first (otherwise only when apt has no package lists
      or an install fails)
  -n  dry run: print the missing packages and exit (status 1 if any are missing)
  -h  this help
USAGE
}

# Kernel build (make, gcc, flex, bison, bc, libelf, libssl, pahole from dwarves,
# perl via build-essential), Debian's kernel tarball, the guest (qemu, busybox,
# cpio, gzip, kmod), checks (sparse), documentation (python3-sphinx),
# summary (python3), plots (gnuplot-nox).
PACKAGES=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
	xz-utils rsync gzip coreutils python3 sparse python3-sphinx gnuplot-nox
	busybox-static qemu-system-x86 linux-source-6.12
)

# The demo on a distribution kernel (-s): the image the guest boots, the
# headers iodma.ko and iodma_edu.ko are built against.
STOCK_PACKAGES=(linux-image-6.12-amd64 linux-headers-6.12-amd64)

# The DKMS test (-d): dkms, and Debian 12's two stock kernels, 6.12 and 6.1
# (linux-*-amd64), with their headers.
DKMS_PACKAGES=(dkms "${STOCK_PACKAGES[@]}" linux-image-amd64 linux-headers-amd64)

update=0
dry=0
while getopts "unsdh" opt; do
	case $opt in
	u) update=1 ;;
	n) dry=1 ;;
	s) PACKAGES+=("${STOCK_PACKAGES[@]}") ;;
	d) PACKAGES+=("${DKMS_PACKAGES[@]}") ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $status == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)) && ((update == 0)); then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
if ((dry)); then
	printf 'install-deps: missing: %s\n' "${missing[*]:-none}"
	((${#missing[@]} == 0))
	exit
fi
if ((EUID != 0)); then
	echo "install-deps: missing packages: ${missing[*]}; run as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
	apt-get install -y --no-install-recommends "$@"
}
if ((update)) || ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	apt-get update
fi
if ((${#missing[@]})); then
	echo "install-deps: installing: ${missing[*]}"
	if ! apt_install "${missing[@]}"; then
		echo "install-deps: install failed, retrying after apt-get update" >&2
		apt-get update
		apt_install "${missing[@]}"
	fi
fi
