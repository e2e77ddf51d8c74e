#!/usr/bin/env bash
# Runs every benchmark once (BenchmarkDotNet's Dry job, in process, 1/256 of the operations) only to prove
# that each still builds and runs. It asserts no timing; it fails when a benchmark throws or reports no result.
# Usage (from .ci/run): benchmarks/quick.sh
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts="$(mktemp -d)"
trap 'rm -rf "$artifacts"' EXIT
dotnet run -c Release --project benchmarks/SyncMapRegistry.Benchmarks -- --quick --filter '*' --artifacts "$artifacts"
