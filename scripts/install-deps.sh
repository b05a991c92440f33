#!/usr/bin/env bash
# Install every Debian 12 package that iodma's build and test scripts use.
# This is the only script that installs packages, and none of them puts a
# file under /boot: Debian's stock kernels, which the demo, the benchmark and
# the DKMS test boot in QEMU, are downloaded into the cache and unpacked
# there, never installed (scripts/lib.sh). It is idempotent and returns at
# once when everything is already installed.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} [-u] [-n] [-d] [-l] [-h]
  Install the Debian packages needed to build iodma and run its tests in QEMU.
  -d  also dkms (scripts/dkms-test.sh)
  -l  list every package this script may install (with -d's), one a line, and exit
  -u  run 'apt-get update' first (otherwise only when apt has no package lists
      or an install fails)
  -n  dry run: print the missing packages and exit (status 1 if any are missing)
  -h  this help
USAGE
}

# Kernel build (make, gcc, flex, bison, bc, libelf, libssl, pahole from dwarves,
# perl via build-essential), Debian's kernel tarball, the guest (qemu, busybox,
# cpio, gzip, kmod), checks (sparse), documentation (python3-sphinx),
# summary (python3), plots (gnuplot-nox); gcc-12, the compiler Debian's
# stock kernel headers name; apt's download and dpkg-deb do the stock kernels.
PACKAGES=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
	xz-utils rsync gzip coreutils python3 sparse python3-sphinx gnuplot-nox
	busybox-static qemu-system-x86 linux-source-6.12 gcc-12
)

# The DKMS test (-d). Not linux-headers-*: the 6.12 ones depend on the image.
DKMS_PACKAGES=(dkms)

update=0
dry=0
while getopts "undlh" opt; do
	case $opt in
	u) update=1 ;;
	n) dry=1 ;;
	d) PACKAGES+=("${DKMS_PACKAGES[@]}") ;;
	l) printf '%s\n' "${PACKAGES[@]}" "${DKMS_PACKAGES[@]}"; exit 0 ;;
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
