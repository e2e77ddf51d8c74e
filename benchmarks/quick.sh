#!/usr/bin/env bash
# Runs every benchmark once (BenchmarkDotNet's Dry job, in process, 1/256 of the operations) and every Stopwatch
# mode (hits, pauses, memory, hitratio, churn, pressure) with --quick (tiny sizes), only to prove that each still builds and
# runs; the read hit once more over 65,536 keys read in random order (the path past the CPU's caches), and again with
# each read waiting for the one before and int keys with grain-like hash codes; and churn
# once more with scattered keys and with keys whose hash codes look like grains'.
# It asserts no timing; it fails when a benchmark or a mode throws, reports no result, or a mode's own checks fail
# (a read that should hit misses, a map that does not promote).
# Usage (from .ci/run): benchmarks/quick.sh
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="$(mktemp -d)"
trap 'rm -rf "$artifacts"' EXIT
dotnet build -c Release benchmarks/SyncMapRegistry.Benchmarks
run() { dotnet run -c Release --no-build --project benchmarks/SyncMapRegistry.Benchmarks -- "$@"; }
run --quick --filter '*' --artifacts "$artifacts"
for mode in hits pauses memory hitratio churn pressure; do
  run "$mode" --quick
done
run hits --quick --keys 65536 --order shuffled
run hits --quick --keys 65536 --order shuffled --chase --int-keys mixed --cases int
run churn --quick --keys scattered
run churn --quick --keys mixed
