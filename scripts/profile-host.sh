#!/usr/bin/env bash
# Takes a CPU profile of one host run with perf (a processor-clock sample of every thread of the process, JIT'd code
# named through the runtime's perf map), and prints where the processor time went: by module and by method (self time).
#
#   scripts/profile-host.sh syncmap            # the host's default workload, 15 s profiled after 5 s of running
#   PROFILE=20 scripts/profile-host.sh lru --grains 100000 --popularity zipf:0.9 --cache-size 1000
#
# Needs perf (linux-perf). W^X is off in the profiled run (DOTNET_EnableWriteXorExecute=0), else perf cannot name JIT'd code;
# WXORX=1 keeps the runtime's default (W^X on), for the runtime's and the kernel's side of it. Environment: PROFILE (seconds sampled, 15), SETTLE (seconds of the run before sampling, 5),
# FREQUENCY (samples/s, 999), CONFIGURATION (Release), TOP (methods listed, 60), SILO_PORT, GATEWAY_PORT, OUT (a folder
# for perf.data, the reports and the host's output; a temporary one by default).
# Extra arguments go to the host (any option but --directory-cache, --duration, --output and the ports).
set -euo pipefail

cache="${1:?usage: profile-host.sh syncmap|lru [host options]}"
shift
profile="${PROFILE:-15}"
settle="${SETTLE:-5}"
frequency="${FREQUENCY:-999}"
configuration="${CONFIGURATION:-Release}"
top="${TOP:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/profile-host.XXXXXX")}"
mkdir -p "$out"

dotnet build "$root/src/Host/SyncMapRegistry.Host.csproj" -c "$configuration" -v quiet -nologo >&2
host="$root/src/Host/bin/$configuration/net10.0/SyncMapRegistry.Host.dll"

# The run lasts the settling, the sample and a margin, so the sample ends before the run does.
duration=$((settle + profile + 5))
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute="${WXORX:-0}" dotnet "$host" --directory-cache "$cache" --duration "${duration}s" --output plain \
    --silo-port "${SILO_PORT:-11111}" --gateway-port "${GATEWAY_PORT:-30000}" "$@" >"$out/host.txt" 2>"$out/host.err" &
pid=$!
until grep -q "^running the workload" "$out/host.txt" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "the host ended before its run; see $out/host.txt and $out/host.err" >&2; exit 1; }
    sleep 0.5
done
sleep "$settle"
echo "sampling $cache for $profile s (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
perf record -F "$frequency" -e cpu-clock -g -p "$pid" -o "$out/perf.data" -- sleep "$profile" 2>"$out/perf-record.err" >/dev/null
wait "$pid"

# JIT'd methods: "[OptimizedTier1] Namespace.Type`2[...]::Method(...)"; keep the namespace and type, drop the tier.
perf report -i "$out/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' >"$out/modules.txt" || true
perf report -i "$out/perf.data" --no-children --sort sym --stdio -g none --percent-limit 0.05 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | sed -E 's/\[(OptimizedTier1|Optimized|Tier0|Tier1|QuickJitted|PreJIT|OptimizedTier1OSR|Instrumented Tier1|Instrumented Tier0|InstrumentedTier1|InstrumentedTier0)\] //' >"$out/methods.txt" || true
echo "== $cache: samples by module (self) =="
head -20 "$out/modules.txt"
echo "== $cache: top $top methods (self) =="
head -"$top" "$out/methods.txt"
grep -E '^(grain calls|cpu per call|allocated per call|gc collections|directory lookups) ' "$out/host.txt"
echo "profile and output: $out" >&2
