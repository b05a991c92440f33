#!/usr/bin/env python3
"""Summarise iodma test runs: KUnit results per suite and configuration, the
failed tests by name, and every debug-kernel report found in the guest logs.

Each argument is a configuration's output directory written by run-guest.sh
(results.txt, console.log, status), or a directory holding such directories.
Every leaf result counts (test cases, and the parameters of parameterised
cases); a report, crash or timeout counts as one failure. The last line
printed is always "N passed, N failed, N skipped"; the exit status is 1 when
anything failed or nothing ran.
"""

import argparse
import os
import re
import sys

RESULT_RE = re.compile(r"^(?P<indent>\s*)(?P<ok>ok|not ok)\s+(?P<num>\d+)\s*(?:-\s*)?"
                       r"(?P<name>[^#]*?)\s*(?:#\s*(?P<directive>.*))?$")
SUBTEST_RE = re.compile(r"^(?P<indent>\s*)#\s*Subtest:\s*(?P<name>\S+)")
PLAN_RE = re.compile(r"^(?P<indent>\s*)1\.\.(?P<n>\d+)\s*$")
TIMESTAMP_RE = re.compile(r"^\[\s*\d+\.\d+\]\s?")

# Debug-kernel reports in the console log: (regex, exclusion regex or None).
REPORT_PATTERNS = [
    (re.compile(r"BUG:"), None),
    (re.compile(r"WARNING:"), None),
    (re.compile(r"KASAN"), None),
    (re.compile(r"UBSAN:"), None),
    (re.compile(r"possible (circular|recursive) locking"), None),
    (re.compile(r"inconsistent lock state"), None),
    (re.compile(r"(^|: )INFO: "), None),
    (re.compile(r"DMA-API: "),
     re.compile(r"DMA-API: (preallocated \d+ debug entries|debugging enabled by kernel config"
                r"|dma_debug_entry pool grown)")),
    (re.compile(r"DMAR: (\[DMA (Read|Write)|DRHD: handling fault)"), None),
    (re.compile(r"Kernel panic"), None),
    (re.compile(r"Oops"), None),
    (re.compile(r"general protection fault"), None),
    (re.compile(r"Call Trace"), None),
    (re.compile(r"EDU: clamping"), None),
]
DMAR_FAULT_RE = re.compile(r"DMAR: (\[DMA (Read|Write)|DRHD: handling fault)")
# A report runs until one of these (or REPORT_MAX_LINES); matches inside it
# belong to the same report.
REPORT_END_RE = re.compile(r"---\[ end |^={20,}\s*$")
REPORT_MAX_LINES = 150
REPORT_DEFAULT_LINES = 60
CONTEXT_BEFORE = 3
PRINT_MAX_LINES = 40


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\r\n").replace("\r", "") for line in f]


class Leaf:
    def __init__(self, path, status, diag):
        self.path = path        # "suite.case[.param]"
        self.status = status    # "pass", "fail", "skip"
        self.diag = diag        # diagnostic lines printed before the result


def parse_ktap(lines):
    """Return (leaves, problems) for one suite's KTAP text."""
    results = []    # (indent, ok, name, directive, diag)
    names = {}      # indent -> subtest name in force at that indent
    plans = {}      # indent -> plan of the innermost open block
    counts = {}     # indent -> results seen in that block
    diag = []
    problems = []
    for line in lines:
        line = line.expandtabs(8)
        m = RESULT_RE.match(line)
        if m:
            indent = len(m.group("indent"))
            for d in [d for d in names if d > indent]:
                del names[d]
            for d in [d for d in plans if d > indent]:
                if counts.get(d, 0) != plans[d]:
                    problems.append(f"{'.'.join(path_at(names, d) or ['?'])}: plan 1..{plans[d]} "
                                    f"but {counts.get(d, 0)} results")
                del plans[d]
                counts.pop(d, None)
            counts[indent] = counts.get(indent, 0) + 1
            results.append((indent, m.group("ok") == "ok", m.group("name").strip(),
                            (m.group("directive") or "").strip(), diag, dict(names)))
            diag = []
            continue
        m = SUBTEST_RE.match(line)
        if m:
            names[len(m.group("indent"))] = m.group("name")
            continue
        m = PLAN_RE.match(line)
        if m:
            plans[len(m.group("indent"))] = int(m.group("n"))
            counts[len(m.group("indent"))] = 0
            continue
        if line.strip() and not line.strip().startswith("KTAP version"):
            diag.append(line.strip())
    if not results:
        problems.append("no test results")
    leaves = []
    for i, (indent, ok, name, directive, dlines, hdrs) in enumerate(results):
        # Children print before their parent: a result is a leaf unless the
        # result just before it is nested deeper.
        if i > 0 and results[i - 1][0] > indent:
            continue
        path = [hdrs[d] for d in sorted(hdrs) if d <= indent] + [name]
        if directive.upper().startswith("SKIP"):
            status = "skip"
        else:
            status = "pass" if ok else "fail"
        leaves.append(Leaf(".".join(path), status, dlines))
    return leaves, problems


def path_at(names, indent):
    return [names[d] for d in sorted(names) if d <= indent]


class Config:
    def __init__(self, name, path):
        self.name = name
        self.path = path
        self.suites = {}        # suite -> [Leaf]
        self.findings = []      # (title, [context lines])


def split_results(lines):
    """Cut results.txt into suites, kmemleak and marker values."""
    suites, kmemleak, markers = {}, None, []
    cur = None
    for line in lines:
        if line.startswith("IODMA-KTAP-BEGIN "):
            cur = suites.setdefault(line.split(None, 1)[1].strip(), [])
        elif line.startswith("IODMA-KTAP-END"):
            cur = None
        elif line.startswith("IODMA-KMEMLEAK-BEGIN"):
            kmemleak = cur = []
        elif line.startswith("IODMA-KMEMLEAK-END"):
            cur = None
        elif cur is not None:
            cur.append(line)
        elif line.startswith("IODMA-"):
            markers.append(line)
    return suites, kmemleak, markers


def read_status(path):
    status = {}
    try:
        for line in read_lines(path):
            k, _, v = line.partition("=")
            status[k] = v
    except OSError:
        pass
    return status


def scan_console(lines):
    """Return [(title, context)] for the debug-kernel reports in a console log."""
    findings = []
    # A test that provokes an IOMMU fault on purpose frames it with marker
    # lines: DMAR lines are expected there (and required: one must appear).
    expect_dmar = None
    i = 0
    while i < len(lines):
        text = TIMESTAMP_RE.sub("", lines[i])
        if text.startswith("IODMA-EXPECT-DMAR-FAULT-BEGIN"):
            expect_dmar = [i, False]
        elif text.startswith("IODMA-EXPECT-DMAR-FAULT-END") and expect_dmar:
            if not expect_dmar[1]:
                findings.append(("an expected DMAR fault was not reported",
                                 [f"console.log:{expect_dmar[0] + 1}: {lines[expect_dmar[0]]}"]))
            expect_dmar = None
        if expect_dmar and DMAR_FAULT_RE.search(text):
            expect_dmar[1] = True
            i += 1
            continue
        if text.startswith("IODMA-") or "Kernel command line:" in text:
            i += 1
            continue
        hit = any(p.search(text) and not (x and x.search(text)) for p, x in REPORT_PATTERNS)
        if not hit:
            i += 1
            continue
        end = min(len(lines), i + REPORT_DEFAULT_LINES)
        for j in range(i + 1, min(len(lines), i + REPORT_MAX_LINES)):
            if REPORT_END_RE.search(lines[j]):
                end = j + 1
                break
        ctx = [f"console.log:{n + 1}: {lines[n]}"
               for n in range(max(0, i - CONTEXT_BEFORE), min(end, i + PRINT_MAX_LINES))]
        findings.append((text.strip(), ctx))
        i = end
    return findings


def load_config(path):
    cfg = Config(os.path.basename(os.path.normpath(path)), path)
    status = read_status(os.path.join(path, "status"))
    cfg.name = status.get("config", cfg.name)
    results_path = os.path.join(path, "results.txt")
    ktap_dir = os.path.join(path, "ktap")
    if not os.path.exists(results_path) and os.path.isdir(ktap_dir):
        return load_static(cfg, ktap_dir)
    if not os.path.exists(results_path):
        cfg.findings.append(("no results.txt: the configuration did not run", []))
        return cfg
    suites, kmemleak, markers = split_results(read_lines(results_path))
    for suite, lines in sorted(suites.items()):
        leaves, problems = parse_ktap(lines)
        cfg.suites[suite] = leaves
        for p in problems:
            cfg.findings.append((f"KTAP of suite {suite}: {p}", []))
    if not suites:
        cfg.findings.append(("zero KUnit suites found", []))
    for m in markers:
        if m.startswith(("IODMA-INSMOD-FAIL", "IODMA-RMMOD-FAIL", "IODMA-NO-RESULTS-PORT")):
            cfg.findings.append((m, []))
        elif m.startswith("IODMA-DMA-API-ERRORS"):
            count = m.split()[1] if len(m.split()) > 1 else "?"
            if count != "0":
                cfg.findings.append((f"DMA-API debug error_count is {count}", []))
    if kmemleak and any(line.strip() for line in kmemleak):
        n = sum(1 for line in kmemleak if line.startswith("unreferenced object"))
        cfg.findings.append((f"kmemleak: {n} suspected leak(s)", kmemleak[:PRINT_MAX_LINES]))
    console_path = os.path.join(path, "console.log")
    console = read_lines(console_path) if os.path.exists(console_path) else []
    if "IODMA-GUEST-DONE" not in markers:
        if status.get("timeout") == "1":
            title = f"TIMEOUT: guest killed after {status.get('timeout_limit', '?')} s"
        else:
            title = f"guest did not finish (crash?), qemu exit status {status.get('qemu_rc', '?')}"
        cfg.findings.append((title, [f"console.log: {line}" for line in console[-12:]]))
    cfg.findings.extend(scan_console(console))
    return cfg


def load_static(cfg, ktap_dir):
    """A configuration without a guest (scripts/gates.sh): only KTAP files."""
    for f in sorted(os.listdir(ktap_dir)):
        if not f.endswith(".ktap"):
            continue
        leaves, problems = parse_ktap(read_lines(os.path.join(ktap_dir, f)))
        # the suite is named by its "# Subtest:" line, the file name otherwise
        suite = leaves[0].path.split(".")[0] if leaves else f[:-len(".ktap")]
        cfg.suites[suite] = leaves
        for p in problems:
            cfg.findings.append((f"KTAP of {f}: {p}", []))
    if not cfg.suites:
        cfg.findings.append((f"no KTAP files in {ktap_dir}", []))
    return cfg


def expand(paths):
    dirs = []
    for p in paths:
        if os.path.exists(os.path.join(p, "results.txt")) or os.path.exists(os.path.join(p, "status")):
            dirs.append(p)
        elif os.path.isdir(p) and any(os.path.exists(os.path.join(p, d, "status"))
                                      for d in os.listdir(p)):
            order = {"direct": 0, "swiotlb": 1, "iommu": 2}
            subs = [d for d in os.listdir(p) if os.path.exists(os.path.join(p, d, "status"))]
            dirs += [os.path.join(p, d) for d in sorted(subs, key=lambda d: (order.get(d, 9), d))]
        else:
            dirs.append(p)      # reported as "did not run"
    return dirs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 usage="%(prog)s [-h] [-q] DIR...")
    ap.add_argument("dirs", nargs="+", metavar="DIR",
                    help="a run-guest.sh OUTDIR/CONFIG directory, or OUTDIR")
    ap.add_argument("-q", "--quiet", action="store_true", help="no context for reports")
    args = ap.parse_args()

    configs = [load_config(d) for d in expand(args.dirs)]
    suites = sorted({s for c in configs for s in c.suites})
    passed = failed = skipped = 0

    print("== KUnit results: passed/failed/skipped per suite and configuration ==")
    width = max([len("suite")] + [len(s) for s in suites])
    cols = [max(len(c.name), 11) for c in configs]
    print("  ".join(["suite".ljust(width)] + [c.name.rjust(w) for c, w in zip(configs, cols)]))
    for s in suites:
        row = [s.ljust(width)]
        for c, w in zip(configs, cols):
            leaves = c.suites.get(s)
            if leaves is None:
                row.append("-".rjust(w))
                continue
            n = {k: sum(1 for x in leaves if x.status == k) for k in ("pass", "fail", "skip")}
            row.append(f"{n['pass']}/{n['fail']}/{n['skip']}".rjust(w))
        print("  ".join(row))
    if not suites:
        print("(no suites)")

    failures = [(c, leaf) for c in configs for leaves in c.suites.values() for leaf in leaves
                if leaf.status == "fail"]
    for c in configs:
        for leaves in c.suites.values():
            for leaf in leaves:
                passed += leaf.status == "pass"
                failed += leaf.status == "fail"
                skipped += leaf.status == "skip"
    if failures:
        print("\n== Failed tests ==")
        for c, leaf in failures:
            print(f"FAIL [{c.name}] {leaf.path}")
            if not args.quiet:
                for d in leaf.diag[-12:]:
                    print(f"    {d}")

    reports = [(c, f) for c in configs for f in c.findings]
    if reports:
        print("\n== Reports (each counts as one failure) ==")
        for c, (title, ctx) in reports:
            print(f"REPORT [{c.name}] {title}")
            if not args.quiet:
                for line in ctx:
                    print(f"    {line}")
        failed += len(reports)

    print(f"\n== {len(configs)} configuration(s): {', '.join(c.name for c in configs)}; "
          f"logs in {', '.join(c.path for c in configs)} ==")
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
