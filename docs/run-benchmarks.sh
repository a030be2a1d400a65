#!/usr/bin/env bash
# Regenerates every figure in docs/benchmarks.md on this machine: builds in Release, runs the
# BenchmarkDotNet suites (engine vs RulesEngine, text classification) and the load tool against a
# server it starts itself on loopback. Output goes to artifacts/benchmarks/; paste the tables into
# docs/benchmarks.md. Takes about 10 minutes; run it on a quiet machine.
#   QUICK=1 docs/run-benchmarks.sh    shorter runs (BenchmarkDotNet short job, 5 s per load scenario)
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/benchmarks
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build server -c Release
dotnet build tests/Advisor.LoadTest -c Release
dotnet build tests/Advisor.Benchmarks -c Release

job=()
load=(--warmup 3 --duration 10 --repeat 3)
if [[ "${QUICK:-}" == 1 ]]; then
  job=(--job short)
  load=(--warmup 2 --duration 5 --repeat 1)
fi

{ uptime; nproc; } > "$out/machine.txt"

# gRPC load: every scenario against one server, start-up measured 5 extra times.
dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
  --server-dll server/bin/Release/net10.0/Advisor.Server.dll --startup-runs 5 \
  --connections 4 --concurrency 64 "${load[@]}" --markdown | tee "$out/load.md"

# In-process benchmarks (Release, one core each, with allocations).
(cd tests/Advisor.Benchmarks && dotnet bin/Release/net10.0/Advisor.Benchmarks.dll \
  --filter '*EngineBenchmarks*' '*EngineFirstCallBenchmarks*' '*ClassificationBenchmarks*' \
  --memory --exporters github "${job[@]}" --artifacts "../../$out/bdn")

echo "Results in $out/ (load.md, bdn/results/*.md)."
