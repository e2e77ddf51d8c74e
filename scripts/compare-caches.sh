#!/usr/bin/env bash
# Runs the host's workload with SyncMapRegistry and with Orleans' default LRU directory cache, alternating, for N rounds,
# and prints one markdown table: the median of each figure per cache, the ratio syncmap / lru, and every round.
#
#   scripts/compare-caches.sh                 # 3 rounds x 2 caches x 20 s (after a 10 s warm-up), the host's default workload
#   ROUNDS=5 DURATION=30s scripts/compare-caches.sh --grains 5000 --read-ratio 0.9
#   ROUNDS=5 MODE=parallel scripts/compare-caches.sh --grains 100000 --popularity zipf:0.9 --cache-size 1000
#
# Besides speed and cost, each row carries the directory lookups the silos issued per 1,000 calls and the cache's
# hit ratio, both from Orleans' own counters (the host's summary lines 'directory lookups' and 'cache hit ratio'),
# so the two caches' policies compare on the same measure. The ratio row gives lookups as syncmap / lru and the
# hit ratio as the difference in points.
#
# Extra arguments go to every run (any host option but --directory-cache, --duration, --warm-up, --output and the ports).
# Environment: ROUNDS (3), DURATION (20s), WARMUP (10s: the workload runs this long, uncounted, before each measured run,
# so that the runtime's tiered JIT has compiled the hot paths and the runs compare steady states; 0 for none), CONFIGURATION (Release), SILO_PORT (11111), GATEWAY_PORT (30000),
# LOG_DIR (a temporary directory; each run's full output is kept there), and MODE:
#   alternate (the default)  each round runs one cache, then the other, back to back (which goes first alternates);
#   parallel                 each round runs both at once, on ports 100 apart, so that both see the same machine
#                            load: on a shared machine whose load drifts, the fairer pairing (each gets about half);
#                            which one starts first (and so ends its measured run first) alternates by round.
set -euo pipefail

rounds="${ROUNDS:-3}"
duration="${DURATION:-20s}"
warmup="${WARMUP:-10s}"
configuration="${CONFIGURATION:-Release}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
logs="${LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/compare-caches.XXXXXX")}"
mkdir -p "$logs"

echo "building the host ($configuration)" >&2
dotnet build "$root/src/Host/SyncMapRegistry.Host.csproj" -c "$configuration" -v quiet -nologo >&2
host="$root/src/Host/bin/$configuration/net10.0/SyncMapRegistry.Host.dll"

mode="${MODE:-alternate}"
silo_port="${SILO_PORT:-11111}"
gateway_port="${GATEWAY_PORT:-30000}"

# One run of the host, its output kept in $logs/ROUND-CACHE.txt; the second argument offsets its ports.
host_run() {
    local cache="$1" offset="$2" round="$3" log="$logs/$3-$1.txt"
    dotnet "$host" --directory-cache "$cache" --duration "$duration" --warm-up "$warmup" --output plain \
        --silo-port "$((silo_port + offset))" --gateway-port "$((gateway_port + offset))" "${@:4}" >"$log" 2>"$log.err" \
        || { echo "the $cache run failed; see $log and $log.err" >&2; return 1; }
}

# One run's figures: cache calls_per_s p50 p99 p999 max cpu_us_per_call bytes_per_call gen0 gen1 gen2 failed
# directory_lookups_per_1000_calls cache_hit_percent
figures() {
    local cache="$1" log="$logs/$2-$1.txt"
    awk -v cache="$cache" '
        /^grain calls / { rate = $4; gsub(/[(\/s),]/, "", rate); failed = $6; gsub(/;/, "", failed) }
        /^latency ms /  { p50 = $4; p99 = $6; p999 = $8; max = $10 }
        /^cpu per call / { cpu = $4 }
        /^allocated per call / { bytes = $4 }
        /^gc collections / { g0 = $4; g1 = $6; g2 = $8; gsub(/,/, "", g0); gsub(/,/, "", g1) }
        /^directory lookups / { lookups = $4; gsub(/[(]/, "", lookups) }
        /^cache hit ratio / { hit = $4 }
        END { print cache, rate, p50, p99, p999, max, cpu, bytes, g0, g1, g2, failed, lookups, hit }' "$log"
}

results="$logs/results.txt"
: >"$results"
loads="$logs/loads.txt"
: >"$loads"
for ((round = 1; round <= rounds; round++)); do
    echo "round $round: load average $(cut -d' ' -f1-3 /proc/loadavg) at the start" >>"$loads"
    if [ "$mode" = parallel ]; then
        # The one started first also starts its measured run first and ends it first, with the machine to the other
        # for the last moments; so which one starts first alternates by round, as in alternate mode.
        if ((round % 2 == 1)); then order=(syncmap lru); else order=(lru syncmap); fi
        echo "round $round: ${order[0]} and ${order[1]} at once ($duration)" >&2
        host_run "${order[0]}" 0 "$round" "$@" & first=$!
        host_run "${order[1]}" 100 "$round" "$@" & second=$!
        wait "$first" && wait "$second" || exit 1
    else
        # Alternate which cache goes first, so neither always runs on a warmer (or more tired) machine.
        if ((round % 2 == 1)); then order=(syncmap lru); else order=(lru syncmap); fi
        for cache in "${order[@]}"; do
            echo "round $round: $cache ($duration)" >&2
            host_run "$cache" 0 "$round" "$@" || exit 1
        done
    fi
    for cache in "${order[@]}"; do echo "$round $(figures "$cache" "$round")" >>"$results"; done
done

# The machine's load can drift between rounds, so each round's two runs (back to back) are compared with each other:
# the headline ratio is the median of the rounds' ratios, not the ratio of the two medians.
awk -v rounds="$rounds" -v duration="$duration" '
    function median(v, n,    i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    function row(label, x, r) {
        printf "| %s | %.0f | %.3f | %.3f | %.3f | %.3f | %.1f | %.0f | %.2f | %.2f | %s/%s/%s | %s |\n", label,
            f[x,r,1], f[x,r,2], f[x,r,3], f[x,r,4], f[x,r,5], f[x,r,6], f[x,r,7], f[x,r,12], f[x,r,13],
            f[x,r,8], f[x,r,9], f[x,r,10], f[x,r,11]
    }
    function ratios(label, r,    k) {
        printf "| %s |", label
        for (k = 1; k <= 7; k++) printf " %.3fx |", ratio[r,k]
        printf " %.3fx | %+.2f pt | | |\n", ratio[r,12], ratio[r,13]
    }
    { for (k = 3; k <= NF; k++) f[$2, $1, k - 2] = $k }
    END {
        printf "| run | calls/s | p50 ms | p99 ms | p99.9 ms | max ms | CPU us/call | B/call | dir lookups /1k calls | cache hit %% | GC gen0/1/2 | failed |\n"
        printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for (r = 1; r <= rounds; r++) {
            row("round " r ": syncmap", "syncmap", r)
            row("round " r ": lru", "lru", r)
            for (k = 1; k <= 12; k++) ratio[r,k] = f["lru",r,k] ? f["syncmap",r,k] / f["lru",r,k] : 0
            ratio[r,13] = f["syncmap",r,13] - f["lru",r,13]
            ratios("round " r ": syncmap / lru", r)
        }
        for (k = 1; k <= 13; k++) {
            for (r = 1; r <= rounds; r++) { a[r] = f["syncmap",r,k]; b[r] = f["lru",r,k]; c[r] = ratio[r,k] }
            f["syncmap",0,k] = median(a, rounds); f["lru",0,k] = median(b, rounds)
            if (k <= 7 || k >= 12) ratio[0,k] = median(c, rounds)
        }
        row("**syncmap**, median of " rounds " x " duration, "syncmap", 0)
        row("**lru**, median of " rounds " x " duration, "lru", 0)
        ratios("**syncmap / lru**, median of the rounds ratios", 0)
        printf "| syncmap / lru, min-max of the rounds |"
        for (k = 1; k <= 13; k++) {
            if (k > 7 && k < 12) continue
            lo = hi = ratio[1,k]
            for (r = 2; r <= rounds; r++) { if (ratio[r,k] < lo) lo = ratio[r,k]; if (ratio[r,k] > hi) hi = ratio[r,k] }
            printf(k == 13 ? " %+.2f to %+.2f pt |" : " %.3f-%.3fx |", lo, hi)
        }
        printf " | |\n"
    }' "$results"
echo "end: load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$loads"
echo
echo "$(nproc) processors; load average (1, 5, 15 min) by round:"
sed 's/^/- /' "$loads"
echo "each run's output: $logs" >&2
