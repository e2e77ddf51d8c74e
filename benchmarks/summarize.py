#!/usr/bin/env python3
"""Turns BenchmarkDotNet's CSV reports (BenchmarkDotNet.Artifacts/results/*-report.csv) into the tables of
docs/benchmarks.md: ns/op with the ratio to ConcurrentDictionary, and bytes allocated per operation.
Usage: benchmarks/summarize.py [results-folder]"""
import csv
import glob
import os
import sys

PEERS = ["ConcurrentDictionary", "SyncMap", "NonBlockingDictionary", "DictionaryWithLock",
         "DictionaryWithReaderWriterLock", "CopyOnWriteImmutable"]
UNITS = {"ns": 1.0, "μs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}


def nanoseconds(text):
    value, unit = text.replace(",", "").split()
    return float(value) * UNITS[unit]


def bytes_per_op(text):
    if text in ("-", "0 B", ""):
        return 0.0
    value, unit = text.replace(",", "").split()
    return float(value) * {"B": 1, "KB": 1024, "MB": 1024 * 1024}[unit]


def load(folder):
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "*-report.csv"))):
        benchmark = os.path.basename(path).split("-report")[0].split(".")[-1]
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["Mean"] in ("NA", ""):
                    continue
                threads = row.get("Threads") or "all"
                rows[(benchmark, row["Method"], threads)] = (nanoseconds(row["Mean"]), bytes_per_op(row["Allocated"]))
    return rows


def fmt_ns(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def fmt_bytes(value):
    return "0" if value == 0 else (f"{value:.0f}" if value >= 1 else f"{value:.2f}")


def cell(rows, key, baseline):
    if key not in rows:
        return "n/a"
    mean = rows[key][0]
    return f"{fmt_ns(mean)} ({mean / baseline:.2f}x)" if baseline else fmt_ns(mean)


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "BenchmarkDotNet.Artifacts/results"
    rows = load(folder)
    workloads = sorted({b for (b, m, t) in rows if m in PEERS and t == "all"})

    print("### Go's workloads, all cores (ns/op, ratio to ConcurrentDictionary)\n")
    print("| Workload | " + " | ".join(PEERS) + " | SyncMap B/op | CD B/op |")
    print("|---|" + "---:|" * (len(PEERS) + 2))
    for workload in workloads:
        base = rows.get((workload, "ConcurrentDictionary", "all"), (0, 0))[0]
        cells = [cell(rows, (workload, peer, "all"), base) for peer in PEERS]
        sync_bytes = rows.get((workload, "SyncMap", "all"), (0, 0))[1]
        cd_bytes = rows.get((workload, "ConcurrentDictionary", "all"), (0, 0))[1]
        print(f"| {workload} | " + " | ".join(cells) + f" | {fmt_bytes(sync_bytes)} | {fmt_bytes(cd_bytes)} |")

    for benchmark, methods, title in [
        ("LoadMostlyHits", PEERS, "LoadMostlyHits by thread count (ns/op, ratio to ConcurrentDictionary)"),
        ("RegistryLookups", ["ConcurrentDictionary", "OrleansLru", "BitFasterConcurrentLru", "SyncMap", "SyncMapDirect", "SyncMapGrainDirectoryCache"],
         "Registry workload by thread count (ns/op, ratio to ConcurrentDictionary)"),
        ("TelemetryOverhead", ["NoTelemetry", "DefaultTelemetryListened", "ReadHitsCounted"],
         "Telemetry overhead on LoadMostlyHits (ns/op, ratio to no telemetry)"),
    ]:
        threads = sorted({t for (b, m, t) in rows if b == benchmark}, key=lambda t: int(t) if t.isdigit() else 0)
        if not threads:
            continue
        print(f"\n### {title}\n")
        print("| | " + " | ".join(f"{t} thread{'s' if t != '1' else ''}" for t in threads) + " | B/op |")
        print("|---|" + "---:|" * (len(threads) + 1))
        for method in methods:
            if not any((benchmark, method, t) in rows for t in threads):
                continue
            cells = []
            for t in threads:
                base = rows.get((benchmark, methods[0], t), (0, 0))[0]
                cells.append(cell(rows, (benchmark, method, t), base))
            allocated = max(rows.get((benchmark, method, t), (0, 0))[1] for t in threads)
            print(f"| {method} | " + " | ".join(cells) + f" | {fmt_bytes(allocated)} |")
        if benchmark == "RegistryLookups":
            print("\nThroughput multiple over Orleans' LRU (its ns/op over each cache's):\n")
            print("| | " + " | ".join(f"{t} thread{'s' if t != '1' else ''}" for t in threads) + " |")
            print("|---|" + "---:|" * len(threads))
            for method in methods:
                if not any((benchmark, method, t) in rows for t in threads):
                    continue
                cells = []
                for t in threads:
                    lru = rows.get((benchmark, "OrleansLru", t))
                    mine = rows.get((benchmark, method, t))
                    cells.append(f"{lru[0] / mine[0]:.2f}x" if lru and mine else "n/a")
                print(f"| {method} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
