#!/usr/bin/env python3
"""Sorts the samples of a host profile (`perf script` output of scripts/profile-host.sh) into what the registry and
Orleans' cache could cost, and prints each category's share of the process's samples, self and inclusive, and what that
share is of the run's processor time per call (the host summary's 'cpu per call', when given).

    perf script -i perf.data -F comm,tid,ip,sym,dso | scripts/perf-categories.py [CPU_US_PER_CALL]

A sample is counted inclusively in every category one of its frames belongs to (so categories overlap), and by self
time in the category of its innermost frame that belongs to one (the frames below it are code it called).
"""
import re
import sys
from collections import Counter

# First match wins for self time; order from the most specific.
CATEGORIES = [
    ("registry: local-activation index", r"SyncMapRegistry\.LocalActivationIndex"),
    ("registry: maintenance service", r"SyncMapRegistry\.(SyncMapRegistryMaintenanceService|BackgroundWork|DeadSiloPurge)"),
    ("registry: eviction policy / sampler", r"SyncMapRegistry\.(WindowTinyLfuPolicy|HitSampler|FrequencySketch)"),
    ("registry: counters / telemetry", r"SyncMapRegistry\.(RegistryCounters|Telemetry\.|PerThreadCounter|SyncMapInstrumentation|SyncMapMetrics)"),
    ("registry: directory cache", r"SyncMapRegistry\.SyncMapGrainDirectoryCache"),
    ("SyncMap (the map)", r"\[SyncMapRegistry\.SyncMap\]"),
    ("Orleans' LRU cache (BitFaster)", r"LruGrainDirectoryCache|BitFaster"),
    ("Orleans directory (LocalGrainDirectory, resolver)", r"Orleans\.Runtime\.GrainDirectory\.|GrainLocator|GrainDirectoryResolver|DhtGrainLocator|CachedGrainLocator"),
    ("metrics listeners (System.Diagnostics.Metrics)", r"System\.Diagnostics\.Metrics\."),
    ("activities (System.Diagnostics.Activity)", r"System\.Diagnostics\.(Activity|DiagnosticSource)"),
    ("host: reporting / status", r"SyncMapRegistry\.Host\.(Reporting|Harness)"),
    ("host: workload driver", r"SyncMapRegistry\.Host\.Workload"),
    ("Orleans activation lifecycle (Catalog, ActivationData)", r"Orleans\.Runtime\.(Catalog|ActivationData|ActivationDirectory|ActivationCollector)"),
]
COMPILED = [(name, re.compile(pattern)) for name, pattern in CATEGORIES]


def samples(stream):
    thread, frames = None, []
    for line in stream:
        if not line.strip():
            if thread is not None:
                yield thread, frames
            thread, frames = None, []
        elif line[0] not in " \t":
            thread, frames = line.rsplit(None, 1)[0].strip(), []
        else:
            frames.append(line.strip())
    if thread is not None:
        yield thread, frames


def main():
    cpu_per_call = float(sys.argv[1]) if len(sys.argv) > 1 else None
    total = 0
    inclusive, self_time, threads, leaves = Counter(), Counter(), Counter(), Counter()
    for thread, frames in samples(sys.stdin):
        total += 1
        threads[re.sub(r"\s*\d+$", "", thread)] += 1
        leaf = frames[0] if frames else ""
        leaves["kernel" if "[kernel" in leaf else "libcoreclr (runtime, GC)" if "libcoreclr" in leaf
               else "JIT'd code" if "perf-" in leaf else "libc / other native"] += 1
        seen = set()
        first = None
        for frame in frames:
            for name, pattern in COMPILED:
                if pattern.search(frame):
                    seen.add(name)
                    if first is None:
                        first = name
                    break
        for name in seen:
            inclusive[name] += 1
        self_time[first or "(other)"] += 1

    def row(label, count):
        share = 100.0 * count / total
        us = f"{cpu_per_call * count / total:8.2f}" if cpu_per_call else "       -"
        print(f"| {label} | {count} | {share:.2f}% | {us.strip()} |")

    print(f"{total} samples" + (f"; {cpu_per_call} us of processor time per call" if cpu_per_call else ""))
    print("\n| inclusive: any frame in | samples | share | us/call |\n|---|---:|---:|---:|")
    for name, _ in CATEGORIES:
        row(name, inclusive[name])
    print("\n| self: innermost categorized frame | samples | share | us/call |\n|---|---:|---:|---:|")
    for name, count in self_time.most_common():
        row(name, count)
    print("\n| thread | samples | share | us/call |\n|---|---:|---:|---:|")
    for name, count in threads.most_common(12):
        row(name, count)
    print("\n| innermost frame in | samples | share | us/call |\n|---|---:|---:|---:|")
    for name, count in leaves.most_common():
        row(name, count)


main()
