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

# Buyer registry on SQLite (issue #4): gRPC import into a real server process, its RSS, SearchBuyers over gRPC,
# then ClassifyBuyer by id and the name index in-process; and the store alone with 4,096- and 16,384-item batches.
registry=(1000000 100000)
if [[ "${QUICK:-}" == 1 ]]; then registry=(200000 20000); fi
{
  uptime
  dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll registry "${registry[@]}"
  for batch in 4096 16384; do
    dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll registry 200000 20000 store "$batch"
  done
} | tee "$out/registry.txt"

# PostgreSQL import (issue #9): a throwaway PostgreSQL (Debian's package; default durability, fsync and
# synchronous_commit on) on loopback; the store-level run with one and with two writers, then the same path through
# gRPC with a server on it. Skipped when the PostgreSQL server binaries are not installed.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [[ -n "$pgbin" && -x "$pgbin/initdb" ]]; then
  pgroot=$(mktemp -d /tmp/advisor-bench-pg.XXXXXX)
  pgport=${PGPORT:-55439}
  as_pg=()
  if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$pgroot"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgroot/data" -U postgres --auth=trust -E UTF8 > /dev/null
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgroot/data" -l "$pgroot/log.txt" -w \
    -o "-p $pgport -k $pgroot -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" start > /dev/null
  stop_pg() { "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgroot/data" -m fast -w stop > /dev/null || true; rm -rf "$pgroot"; }
  trap stop_pg EXIT
  pg="Host=127.0.0.1;Port=$pgport;Username=postgres"
  n=300000
  if [[ "${QUICK:-}" == 1 ]]; then n=100000; fi
  for writers in 1 2; do
    "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres "advisor_import_$writers"
    dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll postgres-import \
      "$pg;Database=advisor_import_$writers" "$n" 4096 $((n / 10)) 10 "$writers"
  done | tee "$out/postgres-import.txt"

  "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres advisor_grpc
  dotnet server/bin/Release/net10.0/Advisor.Server.dll --urls http://127.0.0.1:5481 \
    --Storage:Provider postgres --Storage:ConnectionString "$pg;Database=advisor_grpc" \
    --Logging:LogLevel:Default Warning > "$out/postgres-server.log" 2>&1 &
  server=$!
  for _ in $(seq 120); do (exec 3<> /dev/tcp/127.0.0.1/5481) 2> /dev/null && break; sleep 0.5; done
  dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll --target http://127.0.0.1:5481 \
    --scenarios import --import-batch 10000 --connections 2 --concurrency 4 "${load[@]}" --markdown \
    | tee "$out/postgres-grpc-import.md"
  kill "$server"
  wait "$server" || true
  stop_pg
  trap - EXIT
fi

echo "Results in $out/ (load.md, bdn/results/*.md, registry.txt, postgres-import.txt, postgres-grpc-import.md)."
