#!/usr/bin/env bash
# Regenerates every figure in docs/benchmarks.md on this machine: builds in Release, runs the
# BenchmarkDotNet suites (engine vs RulesEngine, text classification) and the load tool against a
# server it starts itself on loopback, the bot's Slack endpoint under signed load, the buyer registry run
# (import, ClassifyBuyer by id, search, memory) and, where Debian's PostgreSQL is installed, the PostgreSQL
# import. Output goes to artifacts/benchmarks/; paste the tables into docs/benchmarks.md. Takes about
# 31 minutes (QUICK=1: about 14); run it on a quiet machine.
#   QUICK=1 docs/run-benchmarks.sh    shorter runs (BenchmarkDotNet short job, 5 s per load scenario,
#                                     200,000 interactions for the registry run, 150,000 for PostgreSQL)
#   ONLY="load bdn slack registry postgres" docs/run-benchmarks.sh    a subset
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/benchmarks
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build server -c Release
dotnet build tests/Advisor.LoadTest -c Release
dotnet build tests/Advisor.Benchmarks -c Release
dotnet build bot -c Release

only=" ${ONLY:-load bdn slack registry postgres} "
wants() { [[ "$only" == *" $1 "* ]]; }

job=()
load=(--warmup 3 --duration 10 --repeat 3)
slack=(--warmup 3 --duration 10)
slack_warm=(--warmup 10 --duration 10)
registry=(1000000 100000)
if [[ "${QUICK:-}" == 1 ]]; then
  job=(--job short)
  load=(--warmup 2 --duration 5 --repeat 1)
  slack=(--warmup 2 --duration 5)
  slack_warm=(--warmup 5 --duration 5)
  registry=(200000 20000)
fi

scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

# Waits (60 s at most) until a URL answers.
wait_for() {
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "$1 did not answer" >&2
  return 1
}

{ uptime; nproc; } > "$out/machine.txt"

if wants load; then
# gRPC load: every scenario against one server, start-up measured 5 extra times. ClassifyBuyer runs in both views:
# classify-description/-profile send no view (the full answer), classify-*-basic ask for CLASSIFICATION_VIEW_BASIC.
# Closed-loop runs of several scenarios are interleaved (the tool's default --slice 1: each scenario's 10 s in 1 s
# slices, the scenarios taking turns round by round), so the machine's drift falls on every scenario alike and the
# ClassifyBuyer/Health ratios come with their per-round pairs; --slice 0 runs them back to back as before 2026-11-29.
# The load tool runs with a 256 MB gen0 budget (one collection every second or two instead of several a second, each
# stopping every call it has in flight; docs/benchmarks.md "Tail latency at 64 concurrent calls"). The runtime reads
# this setting only from the environment; the tool does not pass its GC settings on to the server it starts.
export DOTNET_GCgen0size=0x10000000
dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
  --server-dll server/bin/Release/net10.0/Advisor.Server.dll --startup-runs 5 \
  --connections 4 --concurrency 64 "${load[@]}" --markdown | tee "$out/load.md"
# The same calls open loop: a fixed offered rate, at most 64 in flight, latency counted from when each call was
# due. Closed loop above finds the saturation point; this says what callers see below it.
for rate in 2500 5000 10000; do
  dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
    --server-dll server/bin/Release/net10.0/Advisor.Server.dll \
    --scenarios health,classify-description,classify-description-basic,classify-profile,classify-profile-basic \
    --connections 4 --concurrency 64 --rate "$rate" "${load[@]}" --markdown | tee "$out/load-rate-$rate.md"
done
# Tail latency A/B (docs/benchmarks.md "Tail latency: where the 64 calls wait"): the server with a 32 MB gen0 budget
# against the default, alternated twice, closed loop; the same budget in the open loop at 2,500 calls/s (compare with
# load-rate-2500.md); and 8 connections instead of 4. The budget reaches the server only through its environment.
tail_scenarios=health,classify-description,classify-profile-basic
tail=(--warmup 3 --duration 10)
[[ "${QUICK:-}" == 1 ]] && tail=(--warmup 2 --duration 5)
for round in 1 2; do
  for budget in default 0x2000000; do
    server_env=()
    [[ "$budget" != default ]] && server_env=(--server-env "DOTNET_GCgen0size=$budget")
    { uptime; dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
      --server-dll server/bin/Release/net10.0/Advisor.Server.dll "${server_env[@]}" --scenarios "$tail_scenarios" \
      --connections 4 --concurrency 64 "${tail[@]}" --markdown; } | tee "$out/tail-gen0-$budget-$round.md"
  done
done
{ uptime; dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
  --server-dll server/bin/Release/net10.0/Advisor.Server.dll --server-env DOTNET_GCgen0size=0x2000000 \
  --scenarios health,classify-description,classify-description-basic,classify-profile,classify-profile-basic \
  --connections 4 --concurrency 64 --rate 2500 "${load[@]}" --markdown; } | tee "$out/tail-gen0-0x2000000-rate-2500.md"
{ uptime; dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
  --server-dll server/bin/Release/net10.0/Advisor.Server.dll --scenarios "$tail_scenarios" \
  --connections 8 --concurrency 64 "${tail[@]}" --markdown; } | tee "$out/tail-connections-8.md"
# Whether a classification call's cost rises with the length of a run (docs/benchmarks.md "ClassifyBuyer: evidence
# kept for the full view"): one server, three 10 s runs of each in turn, every run's server CPU per call printed as a
# "run i/3" line; QUICK keeps this block's length, since its question is the length. Back to back (--slice 0): each
# run is one unbroken 10 s block, as the question needs.
{ uptime; dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
  --server-dll server/bin/Release/net10.0/Advisor.Server.dll --scenarios health,classify-profile-basic \
  --connections 4 --concurrency 64 --warmup 3 --duration 10 --repeat 3 --slice 0 --markdown; } | tee "$out/run-length.md"
unset DOTNET_GCgen0size
fi

if wants bdn; then
# In-process benchmarks (Release, one core each, with allocations).
(cd tests/Advisor.Benchmarks && dotnet bin/Release/net10.0/Advisor.Benchmarks.dll \
  --filter '*EngineBenchmarks*' '*EngineFirstCallBenchmarks*' '*ClassificationBenchmarks*' '*PerCallBenchmarks*' '*ClassificationLogAppendBenchmarks*' \
  --memory --exporters github "${job[@]}" --artifacts "../../$out/bdn")
# CPU and bytes per classification of the load tool's descriptions, tiered PGO off as the server runs (docs/benchmarks.md
# "ClassifyBuyer(description): the classification's own cost"; BenchmarkDotNet's times of these calls are too noisy here).
{ uptime; for view in basic full; do
  DOTNET_TieredPGO=0 dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll description-cpu "$view" 4
done; } | tee "$out/description-cpu.txt"
# What the classification log costs per row (SQLite writer, batches of 512) and the profile's log text per call.
{ uptime; dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll classification-log \
  "$([[ "${QUICK:-}" == 1 ]] && echo 3 || echo 6)" 150; } | tee "$out/classification-log.txt"
fi

if wants slack; then
  # The bot with its in-process advisory server (its own data folder), signed /slack/commands at 100 and
  # 16 concurrent requests; the secret is made up for the run and never printed. Run twice: as configured (slash
  # commands take turns at the answer gate, Slack:ConcurrentAnswers 16) and with the gate wide open (1,000 at once,
  # i.e. every request runs as soon as it arrives, as before the gate), so the A/B is taken on the same machine.
  secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  slack_runs() {
    local suffix=$1; shift
    XDG_DATA_HOME="$scratch/bot-data$suffix" dotnet bot/bin/Release/net10.0/Advisor.Bot.dll --urls http://127.0.0.1:5190 \
      --Slack:SigningSecret "$secret" --Logging:LogLevel:Default Warning "$@" > "$out/bot$suffix.log" 2>&1 &
    pids+=($!)
    wait_for http://127.0.0.1:5190/healthz
    for concurrency in 100 16; do
      { uptime; ADVISOR_LOADTEST_SLACK_SECRET="$secret" dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
        --slack http://127.0.0.1:5190 --server-pid "${pids[-1]}" --concurrency "$concurrency" "${slack[@]}" --markdown; } | tee "$out/slack-$concurrency$suffix.md"
    done
    # 100 concurrent again, once the bot has served the two runs above and the tool has warmed up for longer:
    # right after start both processes are still compiling (a fresh tool spent ~500 µs of CPU per request in its
    # first seconds, ~90 µs after 20 s), and a Slack bot serves for days. Both rows go in docs/benchmarks.md.
    { uptime; ADVISOR_LOADTEST_SLACK_SECRET="$secret" dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll \
      --slack http://127.0.0.1:5190 --server-pid "${pids[-1]}" --concurrency 100 "${slack_warm[@]}" --markdown; } | tee "$out/slack-100-warm$suffix.md"
    kill "${pids[-1]}" 2>/dev/null || true
    wait "${pids[-1]}" 2>/dev/null || true
  }
  slack_runs ""
  slack_runs "-nogate" --Slack:ConcurrentAnswers 1000
fi

if wants registry; then
  # Import over gRPC into a fresh SQLite file, server RSS, SearchBuyers, ClassifyBuyer by id and the name index
  # (see "Registry"); then the store alone with 4,096- and 16,384-item batches (the batch-size A/B), and with one and
  # four 65,536-item batches per transaction.
  {
    uptime
    # Streams chunks of 1,000 interactions per message (the default), then the chunk A/B: the same import sent one
    # interaction per message (as clients did before chunks) and chunked, import only, with server and client CPU per item.
    dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll registry "${registry[@]}"
    for chunk in 1 1000; do
      dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll registry 200000 20000 "$chunk" import-only
    done
    for batch in 4096 16384; do
      dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll registry 200000 20000 store "$batch"
    done
    # The store alone at the registry's size, 65,536-item batches, one and four per transaction (the server's import
    # takes up to four per transaction; "SQLite import: several batches per transaction").
    for per in 1 4; do
      dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll registry "${registry[@]}" store 65536 "$per"
    done
  } | tee "$out/registry.txt"
fi

# PostgreSQL import (issue #9): a throwaway PostgreSQL (Debian's package; default durability, fsync and
# synchronous_commit on; the import settings of docs/deployment.md) on loopback; the store-level run with one and
# with two writers, then the same path through gRPC with a server on it. Skipped when the PostgreSQL server
# binaries are not installed.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if wants postgres && [[ -n "$pgbin" && -x "$pgbin/initdb" ]]; then
  pgroot=$(mktemp -d /tmp/advisor-bench-pg.XXXXXX)
  pgport=${PGPORT:-55439}
  as_pg=()
  if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$pgroot"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgroot/data" -U postgres --auth=trust -E UTF8 > /dev/null
  # docs/deployment.md's "PostgreSQL settings for heavy imports" (durability untouched: fsync, synchronous_commit and
  # full_page_writes stay on); PGSETTINGS replaces them, e.g. PGSETTINGS="-c shared_buffers=256MB" for the defaults.
  read -r -a pgsettings <<< "${PGSETTINGS:--c shared_buffers=256MB -c max_wal_size=8GB -c checkpoint_timeout=30min -c wal_buffers=64MB}"
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgroot/data" -l "$pgroot/log.txt" -w \
    -o "-p $pgport -k $pgroot -c listen_addresses=127.0.0.1 ${pgsettings[*]}" start > /dev/null
  stop_pg() { "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgroot/data" -m fast -w stop > /dev/null || true; rm -rf "$pgroot"; }
  trap 'stop_pg; cleanup' EXIT
  pg="Host=127.0.0.1;Port=$pgport;Username=postgres"
  n=300000
  if [[ "${QUICK:-}" == 1 ]]; then n=150000; fi
  for writers in 1 2; do
    "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres "advisor_import_$writers"
    # Tiered PGO off, as the server runs (its csproj turns it off): with it, a run this short measures the JIT's
    # instrumented tier as much as the store.
    DOTNET_TieredPGO=0 dotnet tests/Advisor.Benchmarks/bin/Release/net10.0/Advisor.Benchmarks.dll postgres-import \
      "$pg;Database=advisor_import_$writers" "$n" 4096 $((n / 10)) 10 "$writers"
  done | tee "$out/postgres-import.txt"

  "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres advisor_grpc
  dotnet server/bin/Release/net10.0/Advisor.Server.dll --urls http://127.0.0.1:5481 \
    --Storage:Provider postgres --Storage:ConnectionString "$pg;Database=advisor_grpc" \
    --Logging:LogLevel:Default Warning > "$out/postgres-server.log" 2>&1 &
  server=$!
  for _ in $(seq 120); do (exec 3<> /dev/tcp/127.0.0.1/5481) 2> /dev/null && break; sleep 0.5; done
  # Chunks of 1,000 interactions per message (what bulk clients send), then one interaction per message for comparison.
  # 15 s of warm-up whatever QUICK says: on a fresh server the JIT's tier-1 compiles were still about a third of the
  # server's CPU 12-20 s after start (perf, 2026-11-28 17:00), which a 2-5 s warm-up leaves inside the measurement;
  # the store-level run above warms up for the same reason.
  for chunk in 1000 1; do
    dotnet tests/Advisor.LoadTest/bin/Release/net10.0/Advisor.LoadTest.dll --target http://127.0.0.1:5481 --server-pid "$server" \
      --scenarios import --import-batch 10000 --import-chunk "$chunk" --connections 2 --concurrency 4 "${load[@]}" --warmup 15 --markdown
  done | tee "$out/postgres-grpc-import.md"
  kill "$server"
  wait "$server" || true
  stop_pg
  trap cleanup EXIT
fi

echo "Results in $out/ (load.md, bdn/results/*.md, slack-*.md (slack-100-warm.md: the warmed bot; *-nogate.md: the answer gate wide open), registry.txt, postgres-import.txt, postgres-grpc-import.md)."
