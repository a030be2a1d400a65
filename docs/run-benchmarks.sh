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
dotnet build bot -c Release

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

# Slack: signed /slack/commands to the bot (with its in-process server) at 100 and 16 concurrent requests,
# one connection per request; the bot's CPU per request is reported next to the latencies.
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
botdir=$(mktemp -d)
dotnet bot/bin/Release/net10.0/Advisor.Bot.dll --urls "http://127.0.0.1:$port" --Slack:SigningSecret "$secret" \
  --Storage:Path "$botdir/advisor.db" --Logging:LogLevel:Default Warning > "$out/bot.log" 2>&1 &
bot=$!
trap 'kill $bot 2>/dev/null || true; rm -rf "$botdir"' EXIT
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
: > "$out/slack.md"
for n in 100 16; do
  ADVISOR_LOADTEST_SLACK_SECRET=$secret dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
    --slack "http://127.0.0.1:$port" --server-pid "$bot" --concurrency "$n" "${load[@]}" --markdown | tee -a "$out/slack.md"
done
kill $bot; wait $bot 2>/dev/null || true

# In-process benchmarks (Release, one core each, with allocations).
(cd tests/Advisor.Benchmarks && dotnet bin/Release/net10.0/Advisor.Benchmarks.dll \
  --filter '*EngineBenchmarks*' '*EngineFirstCallBenchmarks*' '*ClassificationBenchmarks*' \
  --memory --exporters github "${job[@]}" --artifacts "../../$out/bdn")

echo "Results in $out/ (load.md, slack.md, bdn/results/*.md)."
