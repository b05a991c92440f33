#!/usr/bin/env python3
"""make nvme-bench's report: Linux's nvme driver against iodma_nvme.

Reads the IODMA-NVMEBENCH lines of the guests' results.txt files (scripts/
nvme-bench-guest.sh; one file per kernel) and writes a Markdown table per
kernel of the guest instructions per I/O of each job (the median of the
rounds) for each driver, with iodma_nvme's relative to Linux's nvme and
the issue's target (iodma_nvme <= 1.10x nvme on the stock kernel).  Rounds
that waited more than SLOW_NS guest ns per I/O (elapsed less work: the
device's time) are left out of a median when the job has faster ones.
"""

import argparse
import re
import statistics
import sys

TARGET = 1.10
SLOW_NS = 1000000  # guest ns per I/O of waiting beyond which a round is suspect


def wait(x):
    """A round's guest ns per I/O not spent executing its work: the device's."""
    return x[1] - x[0]


def parse(path):
    samples, phases, info, background, done = {}, {}, "", [], False
    skipped, hugepages = {}, None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith(("IODMA-NVMEBENCH ", "IODMA-NVMEPHASE ")):
                continue
            kv = dict(re.findall(r"(\w+)=(\S+)", line))
            if "info" in kv:
                info = line.split("info=", 1)[1]
            if kv.get("test") == "done":
                done = kv.get("errors") == "0"
            if "hugepages" in kv:
                hugepages = kv["hugepages"]
            if "background" in kv:
                background.append(float(kv["background"]))
            if line.startswith("IODMA-NVMEPHASE "):
                phases[(kv["mode"], kv["job"], kv["phase"])] = (int(kv["count"]), int(kv["ns"]))
                continue
            if "work" in kv and kv["driver"].endswith("-phases"):
                phases[(kv["driver"].split("-")[1], kv["job"], "ios")] = (int(kv["ios"]), 0)
                continue
            key = (kv.get("op"), int(kv.get("size", 0)), int(kv.get("qd", 0)),
                   kv.get("layout", "any"), kv.get("driver"))
            if ("skipped" in kv or "error" in kv) and "job" in kv and \
                    not kv["driver"].endswith("-phases"):
                skipped.setdefault(key, set()).add(kv.get("skipped") or
                                                   "error " + kv["error"])
            if "work" in kv:
                samples.setdefault(key, []).append((float(kv["work"]), int(kv["ns"])))
    return samples, phases, info, background, done, skipped, hugepages


def table(samples, skipped, stock):
    drivers = sorted({k[4] for k in list(samples) + list(skipped)},
                     key=lambda d: (d != "nvme", d))
    others = [d for d in drivers if d != "nvme"]
    order = {"randread": 0, "randwrite": 1, "read": 2, "write": 3}
    lorder = {"any": 0, "contig": 1, "scatter": 2}
    jobs = sorted({k[:4] for k in list(samples) + list(skipped)},
                  key=lambda j: (j[1], j[2], lorder.get(j[3], 9), order.get(j[0], 9)))
    head = ["job"] + drivers + [f"{d} / nvme" for d in others]
    if stock:
        head.append(f"target <= {TARGET:.2f}")
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    slow = set()
    for op, size, qd, layout in jobs:
        med = {}
        for d in drivers:
            xs = samples.get((op, size, qd, layout, d))
            if not xs:
                continue
            # rounds slowed down by the host come out low: leave them out if
            # the job has others
            fast = [x[0] for x in xs if wait(x) <= SLOW_NS]
            if not fast:
                slow.add((op, size, qd, layout, d))
            med[d] = statistics.median(fast or [x[0] for x in xs])
        cells = []
        for d in drivers:
            # a job skipped in any round is not a sample of its layout
            why = skipped.get((op, size, qd, layout, d))
            if why:
                med.pop(d, None)
            mark = "*" if (op, size, qd, layout, d) in slow else ""
            cells.append(f"{med[d]:,.0f}{mark}" if d in med else
                         "skipped: " + ", ".join(sorted(why)) if why else "-")
        ratios = {d: med[d] / med["nvme"] for d in others if d in med and med.get("nvme")}
        cells += [f"{ratios[d]:.2f}" if d in ratios else "-" for d in others]
        if stock:
            best = min(ratios.values()) if ratios else None
            cells.append("-" if best is None else
                         ("met" if best <= TARGET else "missed") + f" ({best:.2f})")
        name = f"{op} {size // 1024} KiB qd{qd}" + ("" if layout == "any" else f" {layout}")
        out.append("| " + " | ".join([name] + cells) + " |")
    if slow:
        out += ["", f"\\* every round of the job waited more than {SLOW_NS:,} guest ns "
                "per I/O for the device: a low figure (see below)."]
    return out


def spread(samples):
    """The largest spread between the rounds of a job (those not slowed down by
    the host) of each driver, and its job."""
    worst = {}
    for (op, size, qd, layout, d), xs in samples.items():
        work = [x[0] for x in xs if wait(x) <= SLOW_NS]
        if len(work) < 2 or not statistics.median(work):
            continue
        sp = (max(work) - min(work)) / statistics.median(work)
        name = f"{op}-{size // 1024}k-qd{qd}" + ("" if layout == "any" else f"-{layout}")
        if sp > worst.get(d, (-1, ""))[0]:
            worst[d] = (sp, name)
    return "; ".join(f"{d} at most {sp * 100:.1f} % ({name})"
                     for d, (sp, name) in sorted(worst.items())) or "one round only"


def phase_table(phases):
    """iodma_nvme's data path, step by step: instructions per I/O."""
    modes = sorted({k[0] for k in phases})
    jobs = []
    for k in phases:
        if k[1] not in jobs:
            jobs.append(k[1])
    steps = [p for p in ("gather", "get", "set_bvecs", "prepare_nowait", "gen_segments",
                         "complete", "clear", "put")
             if any(k[2] == p for k in phases)]
    cols = [(m, j) for j in jobs for m in modes if (m, j, "ios") in phases]
    if not cols:
        return []
    out = ["| step | " + " | ".join(f"{j} {m.upper()}" for m, j in cols) + " |",
           "|" + " --- |" * (len(cols) + 1)]
    totals = [0.0] * len(cols)
    for step in steps:
        cells = []
        for i, (m, j) in enumerate(cols):
            ios = phases[(m, j, "ios")][0]
            count, ns = phases.get((m, j, step), (0, 0))
            clk_n, clk_ns = phases.get((m, j, "clock"), (0, 0))
            clock = clk_ns / clk_n if clk_n else 0.0
            per_io = (ns - count * clock) / ios if ios else 0.0
            totals[i] += per_io
            cells.append(f"{per_io:,.0f}")
        out.append(f"| {step} | " + " | ".join(cells) + " |")
    out.append("| **all steps** | " + " | ".join(f"**{t:,.0f}**" for t in totals) + " |")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("results", nargs="+", help="KERNEL=results.txt, KERNEL test or stock")
    ap.add_argument("--release", default="", help="the stock kernel's release")
    ap.add_argument("-o", "--out", help="Markdown report (default: stdout only)")
    ap.add_argument("--title", default="iodma_nvme against Linux's nvme driver")
    args = ap.parse_args()

    out = [f"# {args.title}", "",
           "Guest instructions per I/O (QEMU TCG -icount shift=0), the median of the rounds: "
           "the elapsed guest time of each job less the turns of a spinner per CPU that "
           "keeps the CPUs from halting (so the device's time is left out) and the "
           "background measured with the spinners alone (scripts/nvme-bench.sh). "
           "O_DIRECT from page-aligned buffers on the first half of each disk; queue "
           "depth 1 with pread/pwrite, 32 with Linux AIO. The 128 KiB jobs run on two "
           "buffer layouts: contig, one hugetlb page (one bio_vec per I/O), and scatter, "
           "4 KiB pages no two of which are physically adjacent (32 bio_vecs).", ""]
    ok = True
    for arg in args.results:
        kernel, _, path = arg.partition("=")
        samples, phases, info, background, done, skipped, hugepages = parse(path)
        title = {"test": "The debug test kernel (KASAN, lockdep, DMA-API debug)",
                 "stock": f"Debian's stock {args.release or 'kernel'} (production costs)"}
        out += [f"## {title.get(kernel, kernel)}", ""]
        if info:
            out += [f"iodma_nvme: {info}", ""]
        if background:
            out += [f"Background: {min(background):.4f} to {max(background):.4f} "
                    "instructions per guest ns outside the spinners.", ""]
        if hugepages is not None:
            out += [f"hugetlb pages reserved for the contig buffers: {hugepages}.", ""]
        if samples or skipped:
            out += table(samples, skipped, kernel == "stock")
            out += ["", "Spread: (max - min) / median of each job's rounds of at most "
                    f"{SLOW_NS:,} ns of waiting per I/O, per driver: "
                    + spread(samples)]
            slow = max((wait(x) for xs in samples.values() for x in xs), default=0)
            if slow > SLOW_NS:
                n = sum(wait(x) > SLOW_NS for xs in samples.values() for x in xs)
                out += ["", f"**{n} rounds waited more than {SLOW_NS:,} and up to "
                        f"{slow:,.0f} guest ns per I/O for the device** (long when the "
                        "host is loaded): their work figures come out low, by about 0.0005 "
                        "instructions per ns (Documentation/nvme.rst), and the medians "
                        "above leave them out where the job has faster rounds."]
        if phases:
            out += ["", "iodma_nvme's data path step by step (a separate run with "
                    "phase_stats=1; guest instructions per I/O, the clock reads taken out): "
                    "gather is the driver's own rq_for_each_bvec(), gen_segments includes "
                    "writing the PRP list or SGL, complete/clear/put run in the interrupt "
                    "handler.", ""]
            out += phase_table(phases)
        if not done or not samples:
            out += ["", "**The guest did not finish the benchmark cleanly.**"]
            ok = False
        out.append("")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
