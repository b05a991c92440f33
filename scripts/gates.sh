#!/usr/bin/env bash
# shellcheck disable=SC2317 # the gate_* functions are called by name
# The kernel-quality gates: checkpatch.pl --strict, kernel-doc -Wall, gcc W=1,
# sparse (C=2) and the Sphinx documentation build (-W); and one of the host:
# no package scripts/install-deps.sh installs puts a file under /boot
# (no-boot). Each gate prints its
# findings and is one KTAP test in OUTDIR/ktap/iodma_gates.ktap, which
# scripts/ktap-summary.py reads as the configuration "gates". A gate with
# any finding fails. The tools come from the test kernel's source tree
# (scripts/build-test-kernel.sh), the builds use its build directory.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die
ALL_GATES="checkpatch kernel-doc gcc-w1 sparse docs no-boot"

usage() {
	cat <<USAGE
usage: ${0##*/} [-o OUTDIR] [-k KDIR] [-S SRCTREE] [-j N] [-h] [GATE...]
  Run the gates (default all: $ALL_GATES) over the sources of
  $top and write OUTDIR/ktap/iodma_gates.ktap, OUTDIR/<gate>.log, the
  module builds in OUTDIR/build and the HTML documentation in OUTDIR/html.
  Exit status 1 when a gate has findings.
  -o DIR   output directory (default results/gates)
  -k DIR   kernel build directory for W=1 and sparse (default: the test kernel's)
  -S DIR   kernel source tree for checkpatch.pl, kernel-doc and the Sphinx
           extension (default: the test kernel's, ~/.cache/iodma/linux-source-6.12)
  -j N     parallel jobs for the builds (default: nproc)
  -h       this help
USAGE
}

outdir=$top/results/gates
kdir=""
srctree=$IODMA_CACHE_DIR/linux-source-6.12
jobs=$(nproc)
while getopts "o:k:S:j:h" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	k) kdir=$OPTARG ;;
	S) srctree=$OPTARG ;;
	j) jobs=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
gates=("$@")
((${#gates[@]})) || read -ra gates <<<"$ALL_GATES"
for g in "${gates[@]}"; do
	[[ " $ALL_GATES " == *" $g "* ]] || { log "unknown gate '$g'"; usage >&2; exit 2; }
done

mkdir -p "$outdir/ktap"
outdir=$(cd "$outdir" && pwd)
ktap=$outdir/ktap/iodma_gates.ktap

# Every C source and header of the project, kbuild's generated files and the
# fuzzer's userspace stand-ins for kernel headers (typedefs and one-line
# macros by nature) excluded.
mapfile -t sources < <(cd "$top" && find include src kunit -path kunit/segfuzz/shim -prune \
	-o -type f -name '*.[ch]' ! -name '*.mod.c' -print | LC_ALL=C sort)
# kernel-doc: the public header and the module's sources.
mapfile -t docsources < <(cd "$top" && ls include/linux/iodma.h src/*.c src/*.h)

need_srctree() {
	[[ -x $srctree/scripts/checkpatch.pl && -r $srctree/Documentation/sphinx/kerneldoc.py ]] && return
	echo "no kernel source tree at $srctree (run scripts/build-test-kernel.sh)"
	return 1
}

# The module built in a copy of the sources, so that the gates neither race
# with nor dirty the tree's own build; W=1 first, then sparse over the same
# objects (C=2 checks every file even when nothing is recompiled).
build_copy() {
	if [[ -z $kdir ]]; then
		kdir=$("$here/build-test-kernel.sh" --print-dir --no-build)
	fi
	[[ -r $kdir/Module.symvers ]] || { echo "no kernel build directory at '$kdir'"; return 1; }
	copy_sources "$top" "$outdir/build" Kbuild include src kunit
}

# Each gate writes its findings, one per line, on stdout; a non-zero status
# without findings (the tool itself failed) is a finding too.
# The compatibility headers, the library's and the edu client's, are the
# files whose job is testing the kernel version.
COMPAT=(src/iodma_compat.h src/edu/edu_compat.h)
gate_checkpatch() {
	local cp=("$srctree/scripts/checkpatch.pl" --strict --no-tree --file --terse --show-types
		  --no-summary)
	local others=() compat=()

	need_srctree || return 1
	for f in "${sources[@]}"; do
		if [[ " ${COMPAT[*]} " == *" $f "* ]]; then
			compat+=("$f")
		else
			others+=("$f")
		fi
	done
	(cd "$top" && "${cp[@]}" "${others[@]}") || true
	if ((${#compat[@]})); then
		(cd "$top" && "${cp[@]}" --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
			"${compat[@]}") || true
	fi
}

gate_kernel_doc() {
	need_srctree || return 1
	(cd "$top" && "$srctree/scripts/kernel-doc" -none -Wall "${docsources[@]}" 2>&1) || true
}

gate_gcc_w1() {
	build_copy || return 1
	make -s -j"$jobs" -C "$kdir" M="$outdir/build" W=1 modules 2>&1 |
		grep -E '(warning|error):|^ERROR|Error [0-9]' | sed "s|$outdir/build/||" || true
	# a failed build without a diagnostic line still counts
	[[ -s $outdir/build/iodma.ko ]] || echo "the W=1 build did not produce iodma.ko"
}

gate_sparse() {
	if [[ ! -s $outdir/build/iodma.ko ]]; then
		build_copy || return 1
		make -s -j"$jobs" -C "$kdir" M="$outdir/build" W=1 modules >/dev/null 2>&1 || true
	fi
	make -s -j"$jobs" -C "$kdir" M="$outdir/build" W=1 C=2 modules 2>&1 |
		grep -E '(warning|error):' | sed "s|$outdir/build/||" || true
}

gate_docs() {
	need_srctree || return 1
	command -v sphinx-build >/dev/null || { echo "sphinx-build missing (scripts/install-deps.sh)"; return 1; }
	rm -rf "$outdir/html" "$outdir/doctrees"
	IODMA_KERNEL_SRC=$srctree sphinx-build -q -W --keep-going -b html -d "$outdir/doctrees" \
		"$top/Documentation" "$outdir/html" 2>&1 || true
	[[ -s $outdir/html/index.html ]] || echo "sphinx-build produced no index.html"
}

# What installing scripts/install-deps.sh's packages installs (their
# dependencies, recursively) puts nothing under /boot: the host keeps its boot
# menu; the stock kernels the guests boot are unpacked in the cache
# (scripts/lib.sh). The file lists are dpkg's, of the installed packages;
# kernel images, initramfs generators and boot loaders (which write /boot
# from their maintainer scripts too) are findings by name, installed or not.
gate_no_boot() {
	local closure

	closure=$(apt-cache depends --recurse "${APT_DEPENDS_ONLY[@]}" \
		$("$here/install-deps.sh" -l) | grep -v '^[ <]' | sort -u)
	[[ -n $closure ]] || { echo "apt-cache depends listed no package"; return 1; }
	grep -E '^(linux-image-|initramfs-tools|dracut|grub)' <<<"$closure" |
		sed 's/$/: a kernel image, initramfs generator or boot loader/' || true
	# dpkg -S: "pkg[:arch][, pkg...]: /boot/path" per file
	dpkg -S '/boot/*' 2>/dev/null | awk -v list="$closure" '
		BEGIN { n = split(list, p, "\n"); for (i = 1; i <= n; i++) want[p[i]] = 1 }
		/: \/boot\// {
			i = index($0, ": /boot/"); path = substr($0, i + 2)
			n = split(substr($0, 1, i - 1), owners, ", ")
			for (j = 1; j <= n; j++) {
				sub(/:.*/, "", owners[j])
				if (owners[j] in want) print owners[j] ": " path
			}
		}' || true
}

declare -A result
failed=0
n=0
# The shape of a KUnit suite's results, as run-guest.sh saves them.
{
	echo "KTAP version 1"
	echo "1..1"
	echo "    KTAP version 1"
	echo "    # Subtest: iodma_gates"
	echo "    1..${#gates[@]}"
} >"$ktap.tmp"
for g in "${gates[@]}"; do
	n=$((n + 1))
	log=$outdir/$g.log
	start=$(date +%s)
	log "$g ..."
	rc=0
	"gate_${g//-/_}" >"$log" 2>&1 || rc=$?
	findings=$(grep -c . "$log" || true)
	if ((rc && findings == 0)); then
		echo "the gate could not run (status $rc)" >>"$log"
		findings=1
	fi
	secs=$(($(date +%s) - start))
	if ((findings)); then
		result[$g]="FAIL ($findings finding(s), ${secs} s)"
		failed=1
		echo "== $g: $findings finding(s) =="
		sed 's/^/    /' "$log"
		sed 's/^/    # /' "$log" >>"$ktap.tmp"
		echo "    not ok $n $g" >>"$ktap.tmp"
	else
		result[$g]="ok (${secs} s)"
		echo "    ok $n $g" >>"$ktap.tmp"
	fi
done
if ((failed)); then
	echo "not ok 1 iodma_gates" >>"$ktap.tmp"
else
	echo "ok 1 iodma_gates" >>"$ktap.tmp"
fi
mv "$ktap.tmp" "$ktap"

echo "== gates (KTAP: $ktap) =="
for g in "${gates[@]}"; do
	printf '  %-11s %s\n' "$g" "${result[$g]}"
done
exit $failed
