#!/usr/bin/env bash
# make check and make kunit: build the modules and initramfs images (make
# check-build or kunit-build), then run the tests and summarise them.
#
# make check runs the end-to-end guests (edu-CONFIG, the longest) first, the
# NVMe end-to-end runs (nvme-CONFIG-MODE, scripts/nvme.sh) next and the KUnit
# guests (CONFIG) after them, GUEST_JOBS at once; beside them the
# gates (scripts/gates.sh), the segment fuzzer (scripts/segfuzz.sh) and the
# DKMS test (scripts/dkms-test.sh), so that the host's cores stay busy while
# a guest waits. make kunit (-k) runs the KUnit guests only, all at once.
#
# Inputs: the options below (the Makefile passes its variables), the tree's
# modules and the cached test kernel. Outputs: RESULTS/<config>/ per guest,
# RESULTS/{gates,segfuzz,dkms}/, progress lines "check: ..." as each part
# starts and finishes, the outputs of the gates, fuzzer and DKMS test, then
# scripts/ktap-summary.py's table and closing line "N passed, N failed,
# N skipped". Exit status: the summary's (0 when nothing failed); a failed
# build ends with a closing line counting one failure, and status 1.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"	# here, top, log, die

usage() {
	cat <<USAGE
usage: ${0##*/} [-k] [-o RESULTS] [-c CONFIGS] [-e EDU_CONFIGS] [-V NVME_RUNS] [-t SECONDS]
                [-j JOBS] [-n CASES] [-D off|build|boot] [-h]
  Build, run the tests, print the summary (make check; -k: make kunit).
  -k          the quick loop: the KUnit guests only, all at once (no end-to-end
              guests, gates, fuzzer or DKMS), QEMU's TCG single-threaded
              unless TCG_THREAD says otherwise
  -o DIR      results directory (default $top/results)
  -c LIST     KUnit configurations (default "direct swiotlb iommu")
  -e LIST     end-to-end configurations (default: direct and iommu of -c)
  -V LIST     NVMe end-to-end runs, CONFIG:MODE[:intx] (scripts/nvme.sh; default none)
  -t SEC      timeout per guest (default 300)
  -j N        guests at once (default 2)
  -n N        the fuzzer's cases (default 100000)
  -D MODE     the DKMS test: off, build (DKMS only) or boot (default: DKMS,
              then the demo booted on each stock kernel)
  -h          this help
USAGE
}

kunit=0
results=$top/results
configs="direct swiotlb iommu"
edu_configs=unset
nvme_runs=""
timeout_s=300
jobs=2
cases=100000
dkms=boot
while getopts "ko:c:e:V:t:j:n:D:h" opt; do
	case $opt in
	k) kunit=1 ;;
	o) results=$OPTARG ;;
	c) configs=$OPTARG ;;
	e) edu_configs=$OPTARG ;;
	V) nvme_runs=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	j) jobs=$OPTARG ;;
	n) cases=$OPTARG ;;
	D) dkms=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
(($# == 0)) || { usage >&2; exit 2; }
case $dkms in off | build | boot) ;; *) usage >&2; exit 2 ;; esac
read -ra configs <<<"$configs"
if [[ $edu_configs == unset ]]; then
	edu_configs=()
	for c in "${configs[@]}"; do
		[[ $c == direct || $c == iommu ]] && edu_configs+=("$c")
	done
else
	read -ra edu_configs <<<"$edu_configs"
fi
read -ra nvme_runs <<<"$nvme_runs"
if ((kunit)); then
	PROG=kunit
	edu_configs=()
	nvme_runs=()
	jobs=${#configs[@]}
	export TCG_THREAD=${TCG_THREAD:-single}
fi

start=$(date +%s)
elapsed() { echo "$(($(date +%s) - $1)) s"; }

# What a finished part counted, from the summary's closing line.
counts() {
	"$here/ktap-summary.py" -q "$@" 2>/dev/null | tail -n 1 |
		sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1 passed, \2 failed/p'
}

# run NAME DIR CMD...: CMD in the background, its output in DIR/NAME.out,
# with a progress line when it starts and when it finishes.
run() {
	local name=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	log "started $name"
	(
		t=$(date +%s)
		"$@" >"$dir/$name.out" 2>&1 || true
		log "$name finished ($(counts "$dir")) after $(elapsed "$t")"
	) &
}

# guest ARGS... CONFIG: one run-guest.sh run, with its progress lines.
guest() {
	local name=${*: -1} t
	[[ $1 == -e ]] && name=edu-$name
	t=$(date +%s)
	log "started $name"
	"$here/run-guest.sh" -t "$timeout_s" "$@" "$results" || true
	log "$name finished ($(counts "$results/$name")) after $(elapsed "$t")"
}

# nvme RUN: one scripts/nvme.sh run (its image checked on the host), with
# its progress lines.
nvme() {
	local name=nvme-${1//:/-} t
	t=$(date +%s)
	log "started $name"
	"$here/nvme.sh" -t "$timeout_s" -i "$results/initramfs-nvme.cpio" "$results" "$1" \
		>"$results/$name.out" 2>&1 || true
	log "$name finished ($(counts "$results/$name")) after $(elapsed "$t")"
}

log "building"
target=check-build
((kunit)) && target=kunit-build
if ! make -C "$top" --no-print-directory "$target"; then
	echo "$PROG: the build failed, no test ran"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
log "built in $(elapsed "$start")"

dirs=()
for c in "${configs[@]}"; do dirs+=("$results/$c"); done
for c in "${edu_configs[@]}"; do dirs+=("$results/edu-$c"); done
for r in "${nvme_runs[@]}"; do dirs+=("$results/nvme-${r//:/-}"); done
rm -rf "${dirs[@]}"

parts=()
if ((!kunit)); then
	run gates "$results/gates" "$here/gates.sh" -o "$results/gates"
	run segfuzz "$results/segfuzz" "$here/segfuzz.sh" -o "$results/segfuzz" -n "$cases"
	parts+=(gates segfuzz)
	if [[ $dkms != off ]]; then
		boot=()
		[[ $dkms == boot ]] && boot=(-b)
		run dkms "$results/dkms" "$here/dkms-test.sh" "${boot[@]}" -t "$timeout_s" \
			-o "$results/dkms"
		parts+=(dkms)
	fi
fi

# The guests, the end-to-end ones (the longest) first, JOBS at once.
runs=()
for c in "${edu_configs[@]}"; do runs+=("-e -i $results/initramfs-edu.cpio $c"); done
for r in "${nvme_runs[@]}"; do runs+=("nvme $r"); done
for c in "${configs[@]}"; do runs+=("-i $results/initramfs.cpio $c"); done
declare -A running=()
for r in "${runs[@]}"; do
	if ((${#running[@]} >= jobs)); then
		wait -n -p finished "${!running[@]}" || true
		unset "running[$finished]"
	fi
	read -ra args <<<"$r"
	if [[ ${args[0]} == nvme ]]; then
		nvme "${args[1]}" &
	else
		guest "${args[@]}" &
	fi
	running[$!]=1
done
wait

# The background parts' own reports, in a fixed order.
for p in "${parts[@]}"; do
	case $p in
	segfuzz) tail -n 4 "$results/segfuzz/segfuzz.out" ;;
	*) cat "$results/$p/$p.out" ;;
	esac
done
log "built and ran in $(elapsed "$start")"
"$here/ktap-summary.py" "${dirs[@]}" "${parts[@]/#/$results/}"
