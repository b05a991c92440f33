#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn the iodma benchmark's lines into a report.

Input: the lines scripts/bench.sh collected from the guests' results ports,
each "CONFIG IODMA-BENCH key=value ..." (src/bench/iodma_bench.c) or
"CONFIG IODMA-DMAMAP ..." (the kernel's dma_map_benchmark, for reference).
Output, in OUTDIR: bench.csv (every measurement), bench.md (the tables and
the targets, met or not), bench.png (gnuplot, if installed).
Python 3 standard library only.
"""
import argparse
import collections
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile

PHASES = ("prepare", "gen", "complete", "total")
CSV_FIELDS = ("config", "test", "size", "nents", "sg", "segs", "phase", "impl", "iters",
              "p50_ns", "p99_ns")
# The performance targets: iodma within 5% of the raw DMA API, segment
# generation linear in the segments, bouncing near memcpy. Reported, never
# asserted.
RATIO_MAX = 1.05
GEN_LINEAR_MAX = 17.0
BOUNCE_VS_MEMCPY_MIN = 0.9


def parse(path):
    """Return (bench records, dma_map_benchmark lines by config, other records)."""
    recs, dmamap, notes = [], collections.defaultdict(list), []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            parts = raw.strip().split(" ", 2)
            if len(parts) < 3:
                continue
            config, kind, rest = parts
            if kind == "IODMA-DMAMAP":
                dmamap[config].append(rest)
                continue
            if kind != "IODMA-BENCH":
                continue
            kv = dict(re.findall(r"(\w+)=(\S+)", rest))
            kv.setdefault("config", config)
            if "p50" in kv:
                recs.append(kv)
            else:
                notes.append(kv)
    return recs, dmamap, notes


def num(rec, key):
    return int(rec[key]) if key in rec else None


def us(ns):
    return "-" if ns is None else f"{ns / 1000:.1f}"


def size_name(size):
    size = int(size)
    if size >= 1 << 20:
        return f"{size >> 20} MiB"
    return f"{size >> 10} KiB"


def mibps(size, ns):
    return int(size) / (1 << 20) / (ns / 1e9) if ns else 0.0


def write_csv(path, recs):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CSV_FIELDS)
        for r in recs:
            w.writerow([r.get("config", ""), r.get("test", ""), r.get("size", ""),
                        r.get("nents", ""), r.get("sg", ""), r.get("segs", ""),
                        r.get("phase", ""), r.get("impl", ""), r.get("iters", ""),
                        r.get("p50", ""), r.get("p99", "")])


def index(recs):
    """(config, test, size-or-segs, nents, phase, impl) -> record."""
    idx = {}
    for r in recs:
        key = (r["config"], r.get("test"), r.get("size", r.get("segs")), r.get("nents"),
               r.get("phase"), r.get("impl"))
        idx[key] = r
    return idx


def ordered(values):
    return sorted(set(values), key=int)


def configs_of(recs):
    order = ["direct", "swiotlb", "iommu"]
    seen = {r["config"] for r in recs}
    return [c for c in order if c in seen] + sorted(seen - set(order))


def io_points(recs, config):
    pts = {(r["size"], r["nents"]) for r in recs
           if r["config"] == config and r.get("test") == "io"}
    return sorted(pts, key=lambda p: (int(p[0]), int(p[1])))


def io_tables(recs, idx, out):
    ratios = []  # (config, size, nents, ratio p50 total)
    out.append("## Pooled iodma I/O against the raw DMA API\n")
    out.append("Guest µs, p50 / p99 of each phase; iodma: get + set + prepare | "
               "gen_segments | complete + clear + put; raw: dma_map_sgtable | "
               "for_each_sgtable_dma_sg | dma_unmap_sgtable. Ratio: iodma / raw, total. "
               "raw-deep: the same raw I/O called through 4 more (noinline) frames, as deep "
               "as iodma calls the DMA API: a control for what call depth alone costs on "
               "this debug kernel (DMA-API debug saves a stack trace per mapping).\n")
    head = ["config", "size", "chunks", "sg"]
    for ph in PHASES:
        head += [f"{ph} iodma", f"{ph} raw"]
    head += ["ratio p50", "ratio p99", "iters", "raw-deep total", "iodma / raw-deep p50"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for c in configs_of(recs):
        for size, nents in io_points(recs, c):
            row = [c, size_name(size), nents]
            sg = "-"
            cells = {}
            for ph in PHASES:
                for impl in ("iodma", "raw"):
                    r = idx.get((c, "io", size, nents, ph, impl))
                    cells[(ph, impl)] = r
                    if r:
                        sg = r.get("sg", sg)
                    row.append("-" if not r else f"{us(num(r, 'p50'))} / {us(num(r, 'p99'))}")
            row.insert(3, sg)
            ti, tr = cells[("total", "iodma")], cells[("total", "raw")]
            td = idx.get((c, "io", size, nents, "total", "raw-deep"))
            if ti and tr:
                r50 = num(ti, "p50") / num(tr, "p50")
                r99 = num(ti, "p99") / num(tr, "p99")
                rd = num(ti, "p50") / num(td, "p50") if td else None
                ratios.append((c, size, nents, r50, rd))
                row += [f"{r50:.3f}", f"{r99:.3f}", ti.get("iters", "-")]
            else:
                rd = None
                row += ["-", "-", "-"]
            row += [f"{us(num(td, 'p50'))} / {us(num(td, 'p99'))}" if td else "-",
                    f"{rd:.3f}" if rd else "-"]
            out.append("| " + " | ".join(str(x) for x in row) + " |")
    out.append("")
    return ratios


def own_work_table(recs, idx, out):
    out.append("## Where iodma's prepare time goes\n")
    out.append("p50 guest µs. md_walk: one iodma_md_walk() of the descriptor (build_view() "
               "makes two: count, then fill). iterate: prepare of an ITERATE_ONLY command "
               "(wire + build_view, no map, no preflight). bypassed: BYPASSED (adds the "
               "preflight dry run, iodma_segments_check()). mapped: the MAPPED prepare "
               "measured above; raw: dma_map_sgtable. gen: gen_segments of the whole range "
               "(iodma) against the raw sg walk; the preflight costs about one gen.\n")
    head = ["config", "size", "chunks", "md_walk", "iterate prep", "bypassed prep",
            "mapped prep", "raw map", "mapped − raw", "gen iodma", "gen raw"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for c in configs_of(recs):
        for size, nents in io_points(recs, c):
            def p50(phase, impl):
                r = idx.get((c, "io", size, nents, phase, impl))
                return num(r, "p50") if r else None
            mp, rp = p50("prepare", "iodma"), p50("prepare", "raw")
            diff = us(mp - rp) if mp is not None and rp is not None else "-"
            out.append("| " + " | ".join([
                c, size_name(size), nents, us(p50("md_walk", "iodma")),
                us(p50("prepare", "iodma-iterate")), us(p50("prepare", "iodma-bypassed")),
                us(mp), us(rp), diff, us(p50("gen", "iodma")), us(p50("gen", "raw"))]) + " |")
    out.append("")


def bounce_table(recs, idx, out):
    res = []  # (config, size, vs memcpy, vs swiotlb or None)
    out.append("## Bounce copy bandwidth\n")
    out.append("A DMA_TO_DEVICE range 64 bytes into 64 KiB chunks, against a spec with "
               "128-byte alignment, so that prepare(synchronize) copies it into the "
               "command's copy buffer (set + prepare timed). memcpy: the same bytes into a "
               "vmalloc buffer. swiotlb: dma_map_sgtable of the same bytes under "
               "swiotlb=force (one mapping per entry of at most 256 KiB). MiB/s of guest "
               "time from p50; ratios are bandwidth ratios (higher is better for iodma).\n")
    head = ["config", "size", "iodma MiB/s", "memcpy MiB/s", "swiotlb MiB/s",
            "iodma / memcpy", "iodma / swiotlb", "iodma p50 / p99 µs"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for c in configs_of(recs):
        sizes = ordered(r["size"] for r in recs if r["config"] == c and r.get("test") == "bounce")
        for size in sizes:
            got = {impl: idx.get((c, "bounce", size, None, "bounce", impl))
                   for impl in ("iodma", "memcpy", "swiotlb")}
            bw = {k: mibps(size, num(v, "p50")) if v else None for k, v in got.items()}
            vm = bw["iodma"] / bw["memcpy"] if bw["iodma"] and bw["memcpy"] else None
            vs = bw["iodma"] / bw["swiotlb"] if bw["iodma"] and bw["swiotlb"] else None
            res.append((c, size, vm, vs))
            fmt = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
            ratio = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
            gi = got["iodma"]
            out.append("| " + " | ".join([
                c, size_name(size), fmt(bw["iodma"]), fmt(bw["memcpy"]), fmt(bw["swiotlb"]),
                ratio(vm), ratio(vs),
                f"{us(num(gi, 'p50'))} / {us(num(gi, 'p99'))}" if gi else "-"]) + " |")
    out.append("")
    return res


def gen_table(recs, idx, out):
    res = []  # (config, ratio 16Ki/1Ki, ratio batched)
    out.append("## gen_segments cost against the number of segments\n")
    out.append("An ITERATE_ONLY command over N page-long, non-adjacent physical ranges "
               "(iodma_md_from_phys), every range one segment. all: one call for all N; "
               "batch64: the driver loop with a 64-entry array.\n")
    head = ["config", "segments", "all p50 µs", "ns / segment", "batch64 p50 µs",
            "ns / segment (batch64)"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for c in configs_of(recs):
        counts = ordered(r["segs"] for r in recs if r["config"] == c and r.get("test") == "gen")
        cost = {}
        for n in counts:
            a = idx.get((c, "gen", n, None, "gen_all", "iodma"))
            b = idx.get((c, "gen", n, None, "gen_batch64", "iodma"))
            cost[n] = (num(a, "p50") if a else None, num(b, "p50") if b else None)
            out.append("| " + " | ".join([
                c, n, us(cost[n][0]),
                f"{cost[n][0] / int(n):.0f}" if cost[n][0] else "-", us(cost[n][1]),
                f"{cost[n][1] / int(n):.0f}" if cost[n][1] else "-"]) + " |")
        if len(counts) >= 2:
            lo, hi = counts[0], counts[-1]
            if all(cost[lo]) and all(cost[hi]):
                res.append((c, int(hi) // int(lo), cost[hi][0] / cost[lo][0],
                            cost[hi][1] / cost[lo][1]))
    out.append("")
    return res


def dmamap_table(dmamap, idx, out):
    out.append("## The kernel's dma_map_benchmark, for reference\n")
    out.append("One run per guest on the same device: 1 thread, 1 s of guest time, one "
               "page (granule 1), DMA_BIDIRECTIONAL, 64-bit mask; dma_map_single / "
               "dma_unmap_single, averages as the tool prints them (its unit is 100 ns). "
               "raw 4 KiB: this benchmark's dma_map_sgtable / dma_unmap_sgtable of one "
               "4 KiB entry, p50.\n")
    out.append("| config | device | map avg µs (stddev) | unmap avg µs (stddev) | "
               "raw 4 KiB map p50 µs | raw 4 KiB unmap p50 µs |")
    out.append("|---|---|---|---|---|---|")
    for c in sorted(dmamap, key=lambda x: ["direct", "swiotlb", "iommu"].index(x)
                    if x in ("direct", "swiotlb", "iommu") else 9):
        text = "\n".join(dmamap[c])
        dev = re.search(r"device=(\S+)", text)
        m = re.search(r"average map latency\(us\):([\d.]+) standard deviation:([\d.]+)", text)
        u = re.search(r"average unmap latency\(us\):([\d.]+) standard deviation:([\d.]+)", text)
        rp = idx.get((c, "io", "4096", "1", "prepare", "raw"))
        rc = idx.get((c, "io", "4096", "1", "complete", "raw"))
        out.append("| " + " | ".join([
            c, dev.group(1) if dev else "-",
            f"{m.group(1)} ({m.group(2)})" if m else "failed: see bench.txt",
            f"{u.group(1)} ({u.group(2)})" if u else "-",
            us(num(rp, "p50")) if rp else "-", us(num(rc, "p50")) if rc else "-"]) + " |")
    out.append("")


def targets(ratios, bounce, gens, out):
    out.append("## Targets (reported, not asserted)\n")
    if ratios:
        worst = max(ratios, key=lambda r: r[3])
        bad = [r for r in ratios if r[3] > RATIO_MAX]
        verdict = "met" if not bad else f"NOT met at {len(bad)} of {len(ratios)} points"
        out.append(f"- iodma ≤ {RATIO_MAX}× raw (total, p50) at every point: **{verdict}**; "
                   f"worst {worst[3]:.3f} ({worst[0]}, {size_name(worst[1])}, "
                   f"{worst[2]} chunks), best {min(r[3] for r in ratios):.3f}.")
        for c in sorted({r[0] for r in ratios}):
            rs = [r[3] for r in ratios if r[0] == c]
            ds = [r[4] for r in ratios if r[0] == c and r[4]]
            deep = (f"; against raw-deep (same call depth) {min(ds):.3f} … {max(ds):.3f}, "
                    f"{sum(1 for r in ds if r <= RATIO_MAX)}/{len(ds)} within" if ds else "")
            out.append(f"  - {c}: {min(rs):.3f} … {max(rs):.3f}, "
                       f"{sum(1 for r in rs if r <= RATIO_MAX)}/{len(rs)} points within{deep}.")
    for c, mult, r_all, r_batch in gens:
        ok = r_all <= GEN_LINEAR_MAX and r_batch <= GEN_LINEAR_MAX
        out.append(f"- gen_segments linear ({mult}× segments ≤ {GEN_LINEAR_MAX:g}× cost), "
                   f"{c}: **{'met' if ok else 'NOT met'}**: {r_all:.2f}× (one call), "
                   f"{r_batch:.2f}× (batches of 64).")
    if bounce:
        vm = [b for b in bounce if b[2] is not None]
        bad = [b for b in vm if b[2] < BOUNCE_VS_MEMCPY_MIN]
        if vm:
            out.append(f"- bounce ≥ {BOUNCE_VS_MEMCPY_MIN}× memcpy bandwidth: "
                       f"**{'met' if not bad else 'NOT met'}** "
                       f"({min(b[2] for b in vm):.2f} … {max(b[2] for b in vm):.2f}"
                       + ("; below at " + ", ".join(f"{b[0]} {size_name(b[1])}" for b in bad)
                          if bad else "") + ").")
        vs = [b for b in bounce if b[3] is not None]
        bad = [b for b in vs if b[3] < 1.0]
        if vs:
            out.append(f"- bounce ≥ swiotlb bandwidth (swiotlb config): "
                       f"**{'met' if not bad else 'NOT met'}** "
                       f"({min(b[3] for b in vs):.2f} … {max(b[3] for b in vs):.2f}"
                       + ("; below at " + ", ".join(size_name(b[1]) for b in bad)
                          if bad else "") + ").")
        else:
            out.append("- bounce ≥ swiotlb: no swiotlb measurement (run the swiotlb config).")
    out.append("")


def plot(outdir, recs, idx, ratios, bounce):
    gp = shutil.which("gnuplot")
    if not gp:
        print("bench-report: gnuplot not found, no bench.png (scripts/install-deps.sh)",
              file=sys.stderr)
        return False
    configs = configs_of(recs)
    with tempfile.TemporaryDirectory() as tmp:
        script = []
        for c in configs:
            with open(os.path.join(tmp, f"ratio-{c}.dat"), "w", encoding="utf-8") as f:
                for nents in ordered(r[2] for r in ratios if r[0] == c):
                    f.write(f"# chunks={nents}\n")
                    for _, size, n, r50, _ in sorted((r for r in ratios
                                                   if r[0] == c and r[2] == nents),
                                                  key=lambda r: int(r[1])):
                        f.write(f"{int(size) / 1024:g} {r50:.4f}\n")
                    f.write("\n\n")
            with open(os.path.join(tmp, f"bounce-{c}.dat"), "w", encoding="utf-8") as f:
                for cc, size, _, _ in bounce:
                    if cc != c:
                        continue
                    vals = []
                    for impl in ("iodma", "memcpy", "swiotlb"):
                        r = idx.get((c, "bounce", size, None, "bounce", impl))
                        vals.append(f"{mibps(size, num(r, 'p50')):.1f}" if r else "NaN")
                    f.write(f"{int(size) / 1024:g} " + " ".join(vals) + "\n")
        png = os.path.join(outdir, "bench.png")
        cairo = subprocess.run([gp, "-e", "set terminal pngcairo"],
                               capture_output=True).returncode == 0
        script += [
            "set terminal pngcairo size 1500,900 font ',10'" if cairo
            else "set terminal png size 1500,900",
            f"set output '{png}'",
            f"set multiplot layout 2,{len(configs)} title "
            "'iodma benchmark (guest time, QEMU -icount shift=0)'",
            "set logscale x 2", "set grid", "set key top left",
        ]
        for c in configs:
            nents = ordered(r[2] for r in ratios if r[0] == c)
            plots = [f"'{tmp}/ratio-{c}.dat' index {i} with linespoints title '{n} chunks'"
                     for i, n in enumerate(nents)]
            plots.append(f"{RATIO_MAX} with lines dashtype 2 lc 'red' title 'target'")
            script += [f"set title '{c}: iodma / raw, total p50'", "set xlabel 'size (KiB)'",
                       "set ylabel 'ratio'", "set yrange [0.5:*]",
                       "plot " + ", ".join(plots)]
        for c in configs:
            script += [f"set title '{c}: bounce bandwidth (p50)'", "set xlabel 'size (KiB)'",
                       "set ylabel 'MiB/s (guest time)'", "set yrange [0:*]",
                       f"plot '{tmp}/bounce-{c}.dat' using 1:2 with linespoints "
                       "title 'iodma bounce', "
                       f"'' using 1:3 with linespoints title 'memcpy', "
                       f"'' using 1:4 with linespoints title 'swiotlb=force map'"]
        script.append("unset multiplot")
        res = subprocess.run([gp], input="\n".join(script) + "\n", text=True,
                             capture_output=True)
        if res.returncode:
            print("bench-report: gnuplot failed:\n" + res.stderr, file=sys.stderr)
            return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", help="bench.txt from scripts/bench.sh")
    ap.add_argument("-o", "--outdir", default=".", help="where to write bench.{md,csv,png}")
    ap.add_argument("--clock", default="unknown", help="clock mode the guests used")
    ap.add_argument("--kernel", default="the debug test kernel (KASAN, lockdep, DMA-API "
                    "debug), so absolute numbers are far above production",
                    help="which kernel the guests ran, for the preamble")
    args = ap.parse_args()

    recs, dmamap, notes = parse(args.input)
    if not recs:
        print(f"bench-report: no IODMA-BENCH results in {args.input}", file=sys.stderr)
        return 1
    os.makedirs(args.outdir, exist_ok=True)
    write_csv(os.path.join(args.outdir, "bench.csv"), recs)
    idx = index(recs)

    clocks = sorted({r.get("clock", "?") for r in recs})
    out = ["# iodma benchmark\n",
           f"Clock: {args.clock}; the module's clock= says {', '.join(clocks)}. Times are "
           "guest nanoseconds (ktime_get_ns() in the guest), which under -icount are guest "
           "instructions: repeatable, independent of the host's load, and not host wall "
           f"time. Kernel: {args.kernel}; compare within a row.\n"]
    infos = [n for n in notes if n.get("test") == "info"]
    for n in infos:
        out.append(f"- {n['config']}: device {n.get('device')}, sg entries cut at "
                   f"{n.get('seg_cap')} bytes, iterations {n.get('min_iters')}..{n.get('iters')}"
                   f" per point, {n.get('point_ms')} ms of guest time per point.")
    for n in notes:
        if n.get("test") == "done":
            out.append(f"- {n['config']}: {n.get('errors')} errors, {n.get('guest_ms')} ms of "
                       "guest time.")
        elif n.get("test") in ("error", "kernel-report"):
            out.append(f"- {n['config']}: **{n.get('test')}** {n.get('what', '')} "
                       f"{n.get('err', '')}")
    out.append("")
    ratios = io_tables(recs, idx, out)
    own_work_table(recs, idx, out)
    bounce = bounce_table(recs, idx, out)
    gens = gen_table(recs, idx, out)
    dmamap_table(dmamap, idx, out)
    # the verdicts go first, after the preamble
    verdict = []
    targets(ratios, bounce, gens, verdict)
    pre = out.index("") + 1
    out[pre:pre] = verdict
    with open(os.path.join(args.outdir, "bench.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    plotted = plot(args.outdir, recs, idx, ratios, bounce)
    print(f"bench-report: {args.outdir}/bench.md, bench.csv"
          + (", bench.png" if plotted else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
