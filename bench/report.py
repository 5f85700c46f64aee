#!/usr/bin/env python3
"""Turns the raw output of bench/run.sh into the benchmark table: median,
min and max wall time and peak RSS per tool and tree, the ratios keyward/rg
and peer/keyward, recall on the planted keys, the pre-commit timing, cost
per byte across tree sizes, and whether --threads 1 and 8 agree.

Recall: a planted key counts as found by a tool that reports its file and
line (keyward, git-secrets, detect-secrets); `rg -c` only prints per-file
counts, so for rg the file is enough.

usage: report.py OUTDIR BENCH_DIR [--write BENCHMARKS.md]
"""
import argparse
import json
import os
import re
import statistics
import sys
from collections import defaultdict

BEGIN = "<!-- bench:begin (written by bench/run.sh; edits here are overwritten) -->"
END = "<!-- bench:end -->"


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            if f not in (".planted", ".ignore"):
                total += os.path.getsize(os.path.join(root, f))
    return total


def planted(tree):
    rows = []
    with open(os.path.join(tree, ".planted")) as f:
        for line in f:
            kind, path, lineno, key = line.rstrip("\n").split("\t")
            rows.append((kind, path, int(lineno), key))
    return rows


def reported(tool, path):
    """(file, line) pairs a tool reported; line None where it gives none."""
    if not os.path.exists(path):
        return None
    hits = set()
    if tool == "keyward":
        with open(path) as f:
            doc = json.load(f)
        for x in doc["findings"]:
            hits.add((x["path"], x["line"]))
    elif tool == "detect-secrets":
        try:
            with open(path) as f:
                doc = json.load(f)
        except ValueError:
            return None
        for fname, items in doc.get("results", {}).items():
            for x in items:
                hits.add((os.path.normpath(fname), x["line_number"]))
    elif tool == "rg":
        with open(path, errors="replace") as f:
            for line in f:
                fname = line.rsplit(":", 1)[0]
                hits.add((os.path.normpath(fname), None))
    elif tool == "git-secrets":
        pat = re.compile(r"^(.+?):(\d+):")
        with open(path, errors="replace") as f:
            for line in f:
                m = pat.match(line)
                if m:
                    hits.add((os.path.normpath(m.group(1)), int(m.group(2))))
    return hits


def recall(tool, hits, plants):
    if hits is None:
        return None
    files = {h[0] for h in hits}
    found = []
    for kind, path, line, _ in plants:
        ok = path in files if tool == "rg" else (path, line) in hits
        found.append((kind, ok))
    return found


def fmt_s(us):
    return f"{us / 1e6:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("bench_dir")
    ap.add_argument("--write")
    a = ap.parse_args()
    rows = defaultdict(list)
    status = defaultdict(set)
    order = []
    with open(os.path.join(a.out, "results.tsv")) as f:
        for line in f:
            tree, tool, us, rss, st = line.rstrip("\n").split("\t")
            if (tree, tool) not in rows:
                order.append((tree, tool))
            rows[(tree, tool)].append((int(us), int(rss)))
            status[(tree, tool)].add(st)
    lines = []
    with open(os.path.join(a.out, "machine")) as f:
        lines += [f"    {l.rstrip()}" for l in f]
    lines.append("")
    trees = []
    for tree, _ in order:
        if tree not in trees:
            trees.append(tree)
    sizes = {t: tree_bytes(os.path.join(a.bench_dir, t)) for t in trees}
    medians = {}
    for tree in trees:
        plants = planted(os.path.join(a.bench_dir, tree))
        n = tree.rsplit("-", 1)[-1]
        lines.append(f"#### Tree of {int(n):,} files, {sizes[tree] / 1e6:.0f} MB, {len(plants)} planted keys")
        lines.append("")
        lines.append("| tool | runs | median s | min s | max s | peak RSS MB | vs keyward | recall |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for t2, tool in order:
            if t2 != tree:
                continue
            r = rows[(tree, tool)]
            wall = [x[0] for x in r]
            med = statistics.median(wall)
            medians[(tree, tool)] = med
        for t2, tool in order:
            if t2 != tree:
                continue
            r = rows[(tree, tool)]
            wall = [x[0] for x in r]
            rss = max(x[1] for x in r)
            med = medians[(tree, tool)]
            kw = medians.get((tree, "keyward"))
            ratio = f"{med / kw:.2f}×" if kw else ""
            if tool == "keyward":
                ratio = "1.00×"
            bad = status[(tree, tool)] - {"ok"}
            note = f" ({', '.join(sorted(bad))})" if bad else ""
            rec = recall(tool, reported(tool, os.path.join(a.out, f"{tree}.{tool}")), plants)
            rtext = f"{sum(ok for _, ok in rec)}/{len(rec)}" if rec is not None else "n/a"
            lines.append(
                f"| {tool}{note} | {len(r)} | {fmt_s(med)} | {fmt_s(min(wall))} | {fmt_s(max(wall))} "
                f"| {rss / 1024:.0f} | {ratio} | {rtext} |"
            )
        kw, rg = medians.get((tree, "keyward")), medians.get((tree, "rg"))
        if kw and rg:
            lines.append("")
            lines.append(f"keyward/rg = **{kw / rg:.2f}** (target ≤ 1.5)")
        # Recall by how the key was written, for the tools with output kept.
        per_kind = {}
        for tool in ("keyward", "rg", "git-secrets", "detect-secrets"):
            rec = recall(tool, reported(tool, os.path.join(a.out, f"{tree}.{tool}")), plants)
            if rec is not None:
                per_kind[tool] = rec
        if per_kind:
            kinds = sorted({k for k, *_ in plants})
            tools = list(per_kind)
            lines.append("")
            lines.append("| planted as | " + " | ".join(tools) + " |")
            lines.append("|---|" + "---|" * len(tools))
            for k in kinds:
                cells = []
                for tool in tools:
                    sel = [ok for kind, ok in per_kind[tool] if kind == k]
                    cells.append(f"{sum(sel)}/{len(sel)}")
                lines.append(f"| {k} | " + " | ".join(cells) + " |")
        lines.append("")
    scal = [(sizes[t], medians[(t, "keyward")], medians.get((t, "rg"))) for t in trees if (t, "keyward") in medians]
    scal = [s for s in scal if s[0] > 20e6]
    if len(scal) > 1:
        lines.append("#### Cost against size (keyward, median wall)")
        lines.append("")
        lines.append("| tree MB | keyward s | ms per MB | rg s | rg ms per MB |")
        lines.append("|---|---|---|---|---|")
        for b, kw, rg in sorted(scal):
            rgc = f"{fmt_s(rg)} | {rg / 1e3 / (b / 1e6):.2f}" if rg else " | "
            lines.append(f"| {b / 1e6:.0f} | {fmt_s(kw)} | {kw / 1e3 / (b / 1e6):.2f} | {rgc} |")
        lines.append("")
    pc = os.path.join(a.out, "precommit.json")
    if os.path.exists(pc):
        with open(pc) as f:
            r = json.load(f)["results"][0]
        lines.append(
            f"Pre-commit case (one small file, hyperfine, {len(r['times'])} runs): mean "
            f"{r['mean'] * 1e3:.1f} ms ± {r['stddev'] * 1e3:.1f}, min {r['min'] * 1e3:.1f} ms, "
            f"max {r['max'] * 1e3:.1f} ms (target < 50 ms)."
        )
        lines.append("")
    th = os.path.join(a.out, "threads")
    if os.path.exists(th):
        with open(th) as f:
            lines.append(f"`--threads 1` and `--threads 8` JSON output on the main tree: {f.read().strip()}.")
        lines.append("")
    table = "\n".join(lines)
    print(table)
    if a.write:
        text = open(a.write).read() if os.path.exists(a.write) else f"{BEGIN}\n{END}\n"
        if BEGIN not in text or END not in text:
            sys.exit(f"{a.write} lacks the markers {BEGIN!r} and {END!r}")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(a.write, "w") as f:
            f.write(f"{head}{BEGIN}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    main()
