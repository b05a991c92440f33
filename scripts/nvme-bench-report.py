#!/usr/bin/env python3
"""make nvme-bench's report: Linux's nvme driver against iodma_nvme.

Reads the IODMA-NVMEBENCH lines of a guest's results.txt (scripts/
nvme-bench-guest.sh) and writes Markdown tables of the guest's busy and
elapsed nanoseconds per I/O (the median of the rounds) per operation and
size, for each driver, with iodma_nvme's relative to Linux's nvme.
"""

import argparse
import re
import statistics
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("results")
    ap.add_argument("-o", "--out", help="Markdown report (default: stdout only)")
    ap.add_argument("--title", default="iodma_nvme against Linux's nvme driver")
    args = ap.parse_args()

    samples = {}
    info = ""
    done = False
    with open(args.results, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("IODMA-NVMEBENCH "):
                continue
            kv = dict(re.findall(r"(\w+)=(\S+)", line))
            if "info" in kv:
                info = line.split("info=", 1)[1]
            if kv.get("test") == "done":
                done = kv.get("errors") == "0"
            if "busy_ns" in kv:
                key = (kv["op"], int(kv["size"]), kv["driver"])
                samples.setdefault(key, []).append((int(kv["busy_ns"]), int(kv["ns"])))
    drivers = sorted({k[2] for k in samples}, key=lambda d: (d != "nvme", d))
    rows = sorted({(k[0], k[1]) for k in samples}, key=lambda r: (r[0] != "write", r[1]))
    out = [f"# {args.title}", "",
           "O_DIRECT I/Os one at a time; the median of the rounds. QEMU TCG -icount "
           "shift=0: a guest nanosecond is a guest instruction.", ""]
    if info:
        out += [f"iodma_nvme: {info}", ""]
    for idx, what in ((0, "Busy guest ns per I/O (guest instructions; /proc/stat's "
                          "tick-sampled busy time of all CPUs, waits for the device left out)"),
                      (1, "Elapsed guest ns per I/O (with the device's time, which -icount's "
                          "sleep=on takes from the host: noisy)")):
        out += [f"## {what}", ""]
        head = "| op | size | " + " | ".join(drivers) + " | " + " | ".join(
            f"{d} / nvme" for d in drivers if d != "nvme") + " |"
        out += [head, "|" + " --- |" * (2 + 2 * len(drivers) - 1)]
        for op, size in rows:
            med = {d: statistics.median(x[idx] for x in samples[(op, size, d)])
                   for d in drivers if (op, size, d) in samples}
            cells = [f"{med[d]:.0f}" if d in med else "-" for d in drivers]
            ratios = [f"{med[d] / med['nvme']:.2f}" if d in med and med.get("nvme") else "-"
                      for d in drivers if d != "nvme"]
            out.append(f"| {op} | {size} | " + " | ".join(cells + ratios) + " |")
        out.append("")
    if not done:
        out += ["", "**The guest did not finish the benchmark cleanly.**"]
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0 if done and samples else 1


if __name__ == "__main__":
    sys.exit(main())
