#!/usr/bin/env bash
# The differential fuzzer of segment generation (kunit/segfuzz/): builds it
# with the host compiler from the real src/segments.c and src/spec.c and the
# reference model (kunit/segments_model.c), runs it, and writes its KTAP to
# OUTDIR/ktap/iodma_segfuzz.ktap, which scripts/ktap-summary.py reads as the
# configuration named after OUTDIR.  Exit status 1 on a mismatch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")

usage() {
	cat <<USAGE
usage: ${0##*/} [-o OUTDIR] [-n CASES] [-s SEED] [-c CASE] [-h]
  Build and run the segment fuzzer: CASES random cases of each test
  (default 100000) from SEED (default 1); -c CASE replays one case.
  KTAP in OUTDIR/ktap/iodma_segfuzz.ktap (default results/segfuzz).
USAGE
}

outdir=$top/results/segfuzz
cases=100000
seed=1
only=()
while getopts "o:n:s:c:h" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	n) cases=$OPTARG ;;
	s) seed=$OPTARG ;;
	c) only=(-c "$OPTARG") ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

mkdir -p "$outdir/ktap"
bin=$outdir/segfuzz
ktap=$outdir/ktap/iodma_segfuzz.ktap
fuzz=$top/kunit/segfuzz
if ! "${CC:-cc}" -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror \
	-I"$fuzz/shim" -I"$top/include" -I"$top/kunit" \
	-o "$bin" "$fuzz/segfuzz.c" "$top/kunit/segments_model.c"; then
	printf 'KTAP version 1\n# Subtest: iodma_segfuzz\n1..1\nnot ok 1 build\n' >"$ktap"
	echo "segfuzz: the build failed" >&2
	exit 1
fi
rc=0
"$bin" -s "$seed" -n "$cases" "${only[@]}" >"$ktap.tmp" || rc=$?
mv "$ktap.tmp" "$ktap"
cat "$ktap"
exit "$rc"
