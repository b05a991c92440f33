#!/usr/bin/env bash
# Build the iodma test kernel: Debian's linux-source-6.12 with
# scripts/test-kernel.config applied, in a cache directory keyed by the
# fragment, the source package version and the recipe below. A complete build
# is marked by a stamp file; with the stamp present this script does nothing.
# A change to the module never rebuilds the kernel.
set -euo pipefail

# Bump when the way the kernel is built changes (not the fragment: it is hashed).
RECIPE="iodma-kernel-recipe-1"
SRC_PKG="linux-source-6.12"
TARBALL="/usr/src/${SRC_PKG}.tar.xz"
STAMP=".iodma-build-complete"

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die
FRAGMENT="$here/test-kernel.config"
CACHE=$IODMA_CACHE_DIR
# Seconds between progress lines of a cold build.
PROGRESS_INTERVAL=${PROGRESS_INTERVAL:-30}
# Objects a build of the fragment made when this was written, the estimate
# when no earlier build is in the cache to count.
OBJECTS_ESTIMATE=1400

usage() {
	cat <<USAGE
usage: ${0##*/} [--print-dir [--no-build]] [-j N] [-h]
  Build Debian's $SRC_PKG with scripts/test-kernel.config into
  \$IODMA_CACHE/kernel-<key> (IODMA_CACHE defaults to ~/.cache/iodma).
  --print-dir   print the build directory on stdout (build it first if needed)
  --no-build    with --print-dir: print the directory even if it is not built
  --print-key   print the cache key and exit
  -j N          parallel jobs (default: nproc)
  -h, --help    this help
USAGE
}

print_dir=0
no_build=0
print_key=0
jobs=$(nproc)
while (($#)); do
	case $1 in
	--print-dir) print_dir=1 ;;
	--no-build) no_build=1 ;;
	--print-key) print_key=1 ;;
	-j) jobs=${2:?-j needs a number}; shift ;;
	-j*) jobs=${1#-j} ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

pkg_version=$(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null || true)
[[ -n $pkg_version ]] || die "$SRC_PKG is not installed (run scripts/install-deps.sh)"
[[ -r $FRAGMENT ]] || die "missing $FRAGMENT"

key=$({ cat "$FRAGMENT"; echo "$pkg_version"; echo "$RECIPE"; } | sha256sum | cut -c1-12)
build="$CACHE/kernel-$key"
srcdir="$CACHE/$SRC_PKG"

if ((print_key)); then
	echo "$key"
	exit 0
fi
if ((print_dir)) && [[ -e $build/$STAMP || $no_build == 1 ]]; then
	echo "$build"
	exit 0
fi
if [[ -e $build/$STAMP ]]; then
	log "up to date: $build"
	exit 0
fi

start=$(date +%s)

# Source tree, re-extracted when the package version changes.
src_stamp="$srcdir/.iodma-extracted"
if [[ ! -e $src_stamp || $(cat "$src_stamp") != "$pkg_version" ]]; then
	[[ -r $TARBALL ]] || die "missing $TARBALL"
	log "extracting $TARBALL ($pkg_version)"
	rm -rf "$srcdir" "$srcdir.tmp"
	mkdir -p "$srcdir.tmp"
	tar -xJf "$TARBALL" -C "$srcdir.tmp"
	mv "$srcdir.tmp/$SRC_PKG" "$srcdir"
	rmdir "$srcdir.tmp"
	echo "$pkg_version" >"$src_stamp"
	log "extracted in $(($(date +%s) - start)) s"
fi

mkdir -p "$build"
kmake() { make -C "$srcdir" O="$build" "$@"; }

# Configure: the fragment as .config, then Kconfig fills in the defaults.
cp "$FRAGMENT" "$build/.config"
kmake olddefconfig >/dev/null

# Every line of the fragment must survive olddefconfig.
missing=()
while IFS= read -r line; do
	line=${line%%#*}
	line=${line//[[:space:]]/}
	[[ -n $line ]] || continue
	sym=${line%%=*}
	val=${line#*=}
	if [[ $val == n ]]; then
		grep -qx "$sym=.*" "$build/.config" && missing+=("$line (got: $(grep -x "$sym=.*" "$build/.config"))")
	else
		grep -qxF "$line" "$build/.config" ||
			missing+=("$line (got: $(grep -E "^$sym=|^# $sym is not set" "$build/.config" || echo absent))")
	fi
done <"$FRAGMENT"
if ((${#missing[@]})); then
	log "these fragment lines did not survive 'make olddefconfig' (missing dependency?):"
	printf '  %s\n' "${missing[@]}" >&2
	die "fix scripts/test-kernel.config"
fi

# The objects a build makes: the count an earlier complete build recorded
# in its stamp, or its objects counted, the newest first; else the estimate.
expected_objects() {
	local stamp n

	for stamp in $(ls -t "$CACHE"/kernel-*/"$STAMP" 2>/dev/null); do
		n=$(sed -n 's/^objects=//p' "$stamp")
		[[ -n $n ]] || n=$(find "$(dirname "$stamp")" -name '*.o' | wc -l)
		((n > 0)) && { echo "$n"; return; }
	done
	echo "$OBJECTS_ESTIMATE"
}

mmss() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

# progress DIR TOTAL START: every PROGRESS_INTERVAL seconds, the objects in
# DIR against TOTAL, the time since START and an estimate of what is left,
# until killed.
progress() {
	local dir=$1 total=$2 start=$3 n secs left pct

	while sleep "$PROGRESS_INTERVAL"; do
		n=$(find "$dir" -name '*.o' | wc -l)
		secs=$(($(date +%s) - start))
		if ((n == 0)); then
			left="not known yet"
		elif ((n >= total)); then
			left="linking"
		else
			left="about $(mmss $((secs * (total - n) / n))) left"
		fi
		pct=$((n >= total ? 100 : 100 * n / total))
		log "$n of about $total objects ($pct%), $(mmss "$secs") elapsed, $left"
	done
}

total=$(expected_objects)
log "building in $build with -j$jobs (a cold build takes 6-30 min; about $total objects)"
kstart=$(date +%s)
progress "$build" "$total" "$kstart" &
progress_pid=$!
trap 'kill "$progress_pid" 2>/dev/null || true' EXIT
rc=0
kmake -j"$jobs" all >"$build/build.log" 2>&1 || rc=$?
kill "$progress_pid" 2>/dev/null || true
wait "$progress_pid" 2>/dev/null || true
if ((rc)); then
	tail -n 40 "$build/build.log" >&2
	die "kernel build failed, log: $build/build.log"
fi
[[ -s $build/arch/x86/boot/bzImage && -s $build/Module.symvers ]] ||
	die "build finished without bzImage or Module.symvers"
printf 'key=%s\nversion=%s\nrecipe=%s\nbuilt=%s\nobjects=%s\n' "$key" "$pkg_version" "$RECIPE" \
	"$(date -u +%FT%TZ)" "$(find "$build" -name '*.o' | wc -l)" >"$build/$STAMP"
end=$(date +%s)
log "kernel built in $((end - kstart)) s (total $((end - start)) s): $build"
if ((print_dir)); then
	echo "$build"
fi
