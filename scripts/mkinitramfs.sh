#!/usr/bin/env bash
# Make the test guest's initramfs: busybox-static, the given modules and an
# /init that loads them in order, copies KUnit results, kmemleak's findings and
# DMA-API debug's error count to the results port (ttyS1), then powers off.
set -euo pipefail

usage() {
	cat <<USAGE
usage: ${0##*/} -o OUT.cpio[.gz] [-x EXTRA.sh] [-b PROGRAM]... MODULE.ko...
  Build a cpio initramfs with busybox and MODULE.ko... (loaded by /init in
  the order given, unloaded in reverse order).
  -o FILE    output file; gzip'd when its name ends in .gz (an uncompressed
             one is quicker to make and, under TCG, to unpack)
  -x FILE    extra script, installed as /extra.sh and run by /init after the
             modules are loaded and before they are unloaded
  -b FILE    a static program for the extra script, installed in /bin
  -h         this help
USAGE
}

out=""
extra=""
programs=()
while getopts "o:x:b:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	x) extra=$OPTARG ;;
	b) programs+=("$OPTARG") ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[[ -n $out ]] || { usage >&2; exit 2; }

BUSYBOX=/bin/busybox
if ! [[ -x $BUSYBOX ]] || ! "$BUSYBOX" --list-full >/dev/null 2>&1; then
	echo "mkinitramfs: $BUSYBOX missing (run scripts/install-deps.sh)" >&2
	exit 1
fi
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	echo "mkinitramfs: $BUSYBOX is not static (install busybox-static)" >&2
	exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,modules}
cp "$BUSYBOX" "$root/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
	[[ $applet == bin/busybox ]] && continue
	mkdir -p "$root/$(dirname "$applet")"
	ln -sf /bin/busybox "$root/$applet"
done

: >"$root/modules/order"
for ko in "$@"; do
	[[ -r $ko ]] || { echo "mkinitramfs: no such module: $ko" >&2; exit 1; }
	cp "$ko" "$root/modules/"
	basename "$ko" >>"$root/modules/order"
done
if [[ -n $extra ]]; then
	install -m 0755 "$extra" "$root/extra.sh"
fi
for prog in "${programs[@]}"; do
	if ! [[ -x $prog ]] || ldd "$prog" >/dev/null 2>&1; then
		echo "mkinitramfs: $prog is not a static executable" >&2
		exit 1
	fi
	install -m 0755 "$prog" "$root/bin/"
done

cat >"$root/init" <<'INIT'
#!/bin/sh
# iodma test guest. Console: ttyS0 (printk). Results: ttyS1 (markers + KTAP).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
[ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

R=/dev/ttyS1
if [ -c $R ]; then
	stty -F $R raw -echo 2>/dev/null
else
	echo "IODMA-NO-RESULTS-PORT"
	R=/dev/console
fi
out() { echo "$*" >$R; }
both() { echo "$*"; echo "$*" >$R; }
D=/sys/kernel/debug

both "IODMA-GUEST-START $(uname -r)"
[ -w $D/dma-api/num_errors ] && echo 1000000 >$D/dma-api/num_errors
[ -w $D/kmemleak ] && echo clear >$D/kmemleak
# Fault injection armed for tasks that ask for it (task-filter: only those
# with make-it-fail set, which KUnit's zero-allocation case sets on itself):
# every slab and page allocation of such a task fails, silently.
for f in failslab fail_page_alloc; do
	[ -d $D/$f ] || continue
	echo Y >$D/$f/task-filter
	echo 1 >$D/$f/interval
	echo -1 >$D/$f/times
	echo 0 >$D/$f/verbose
	echo N >$D/$f/ignore-gfp-wait
	echo 100 >$D/$f/probability
done
[ -w $D/fail_page_alloc/min-order ] && echo 0 >$D/fail_page_alloc/min-order
[ -w $D/fail_page_alloc/ignore-gfp-highmem ] && echo N >$D/fail_page_alloc/ignore-gfp-highmem

loaded=""
for ko in $(cat /modules/order); do
	name=${ko%.ko}
	insmod /modules/$ko
	rc=$?
	if [ $rc -ne 0 ]; then
		both "IODMA-INSMOD-FAIL $name $rc"
		continue
	fi
	loaded="$name $loaded"
	v=$(cat /sys/module/$name/version 2>/dev/null)
	[ -n "$v" ] && both "IODMA-MODVERSION $name $v"
done

# KUnit suites in modules ran synchronously at insmod.
for r in $D/kunit/*/results; do
	[ -r "$r" ] || continue
	s=${r%/results}
	s=${s##*/}
	out "IODMA-KTAP-BEGIN $s"
	cat "$r" >$R
	out "IODMA-KTAP-END $s"
done

if [ -x /extra.sh ]; then
	both "IODMA-EXTRA-BEGIN"
	/extra.sh
	both "IODMA-EXTRA-END $?"
fi

for name in $loaded; do
	rmmod $name || both "IODMA-RMMOD-FAIL $name $?"
done

if [ -w $D/kmemleak ]; then
	# kmemleak reports only objects older than 5 s. A second scan drops
	# transient false positives; it is only needed when the first found any.
	sleep 6
	echo scan >$D/kmemleak
	if [ -n "$(head -c 1 $D/kmemleak)" ]; then
		echo scan >$D/kmemleak
	fi
	out "IODMA-KMEMLEAK-BEGIN"
	cat $D/kmemleak >$R
	out "IODMA-KMEMLEAK-END"
fi
if [ -r $D/dma-api/error_count ]; then
	both "IODMA-DMA-API-ERRORS $(cat $D/dma-api/error_count)"
fi
both "IODMA-GUEST-DONE"
sync
poweroff -f
INIT
chmod 0755 "$root/init"

mkdir -p "$(dirname "$out")"
compress=(cat)
[[ $out == *.gz ]] && compress=(gzip -9n)
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) |
	"${compress[@]}" >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(du -k "$out" | cut -f1) KiB, modules: ${*:-none})" >&2
