using System.Diagnostics;
using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;

namespace Advisor.LoadTest;

/// <summary>The load tool's own garbage collections during a measurement.</summary>
/// <param name="Collections">Collections of any generation.</param>
/// <param name="PauseMs">Time the tool's threads were stopped for them.</param>
/// <param name="CallsShare">Share of all measured calls that had a collection of the tool while in flight.</param>
/// <param name="SlowCallsShare">The same share among the calls at or above the p99 latency.</param>
/// <param name="BytesPerCall">Bytes the tool allocated per call (everything it allocated while measuring, over the calls).</param>
public sealed record ToolGc(int Collections, double PauseMs, double CallsShare, double SlowCallsShare, double BytesPerCall)
{
    /// <summary>Of <see cref="Collections"/>, those of generation 1 and of generation 2 (the rest were gen0 only).</summary>
    public (int Gen1, int Gen2) Older { get; init; }

    /// <summary>The pauses as the tool's runtime events saw them (stopping the threads against collecting); empty when not seen.</summary>
    public IReadOnlyList<ToolPause> Pauses { get; init; } = [];

    /// <summary>Mean bytes that survived each of the tool's gen0 collections; null when none was seen.</summary>
    public double? PromotedPerGen0 { get; init; }
}

/// <summary>The server's garbage-collection pauses during a measurement, from its runtime's GC events.</summary>
/// <param name="Collections">Pauses (one per collection that stopped the server's threads).</param>
/// <param name="PauseMs">Their total length.</param>
/// <param name="MaxPauseMs">The longest.</param>
/// <param name="CallsShare">Share of all measured calls that had a server pause while in flight.</param>
/// <param name="SlowCallsShare">The same share among the calls at or above the p99 latency.</param>
public sealed record ServerGc(int Collections, double PauseMs, double MaxPauseMs, double CallsShare, double SlowCallsShare)
{
    /// <summary>Bytes the server allocated per call, from its GC's allocation ticks (one per ~100 KB).</summary>
    public double? BytesPerCall { get; init; }

    /// <summary>The types that took most of the server's allocation ticks, with their share of the bytes.</summary>
    public IReadOnlyList<(string Type, double Share)> TopTypes { get; init; } = [];

    /// <summary>The pauses by the generation they collected (-1: a suspension without a collection), in generation order.</summary>
    public IReadOnlyList<GenerationPauses> ByGeneration { get; init; } = [];

    /// <summary>Mean bytes that survived each gen0 collection of the server (promoted to gen1); null when none was seen.</summary>
    public double? PromotedPerGen0 { get; init; }
}

/// <summary>The server's pauses for collections of one generation.</summary>
/// <param name="SuspendingMs">Of <paramref name="PauseMs"/>, the time spent stopping the server's threads.</param>
/// <param name="Compacting">How many of the collections compacted.</param>
public sealed record GenerationPauses(int Generation, int Count, double PauseMs, double MaxPauseMs, double SuspendingMs, int Compacting);

/// <summary>The measured outcome of one scenario run (or, after --repeat, the median of several).</summary>
public sealed record ScenarioResult(
    string Name,
    string Rpc,
    string? NotAvailable,
    long Calls,
    long Ok,
    double CallsPerSecond,
    double ItemsPerSecond,
    string Unit,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double MaxMs,
    IReadOnlyDictionary<string, long> Errors)
{
    /// <summary>CPU microseconds the server process used per call while measuring (null when its pid is unknown).</summary>
    public double? ServerCpuUsPerCall { get; init; }

    /// <summary>CPU microseconds this tool used per call while measuring (the client side of the same machine).</summary>
    public double? ToolCpuUsPerCall { get; init; }

    /// <summary>
    /// This tool's own garbage collections while measuring. A collection stops every thread of the tool, so each call in
    /// flight at that moment counts the pause as latency although the server was not involved.
    /// </summary>
    public ToolGc? ToolGc { get; init; }

    /// <summary>The server's garbage-collection pauses while measuring, lined up with the calls; null when not traced.</summary>
    public ServerGc? ServerGc { get; init; }

    public static ScenarioResult Unavailable(Scenario s, string reason) =>
        new(s.Name, s.Rpc, reason, 0, 0, 0, 0, s.Unit, 0, 0, 0, 0, new Dictionary<string, long>());
}

/// <summary>
/// Closed-loop load by default: <c>concurrency</c> workers spread over <c>connections</c> HTTP/2 connections,
/// each issuing its next call as soon as the previous one returns, for a fixed time; latency is measured from
/// the send to the response. With a <c>rate</c> the load is open-loop instead: calls are due on a fixed
/// schedule (rate per second in all), a free worker takes the next due call, and latency is measured from
/// when the call was due, so a call that waited for a free worker counts its wait (no coordinated omission).
/// Errors are counted by gRPC status code.
/// </summary>
public sealed class LoadRunner : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly int _concurrency;
    private readonly int? _serverPid;
    private readonly double? _rate;
    private readonly ToolGcWatch _toolGcWatch = new();

    /// <param name="serverPid">The server's process id, to report its CPU per call; null when it is not known.</param>
    /// <param name="rate">Calls per second offered in all (open loop); null for closed loop.</param>
    public LoadRunner(Uri target, int connections, int concurrency, int? serverPid = null, double? rate = null)
    {
        _concurrency = concurrency;
        _serverPid = serverPid;
        _rate = rate;
        _channels = Enumerable.Range(0, connections).Select(_ => GrpcChannel.ForAddress(target, new GrpcChannelOptions
        {
            // One handler per channel and no extra connections: exactly `connections` HTTP/2 connections.
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = false,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            },
            HttpVersion = HttpVersion.Version20,
        })).ToArray();
    }

    public GrpcChannel Channel => _channels[0];

    /// <summary>When set, each measured scenario's calls are appended to <c>{CallsFile}.{scenario}.csv</c>.</summary>
    public string? CallsFile { get; init; }

    /// <summary>Probes the scenario and runs it unmeasured for <paramref name="warmup"/>; returns why it cannot run, or null.</summary>
    public async Task<string?> PrepareAndWarmAsync(Scenario scenario, SampleData data, TimeSpan warmup, CancellationToken cancellationToken)
    {
        if (await scenario.PrepareAsync(_channels[0], data, cancellationToken) is { } reason)
        {
            return reason;
        }

        if (warmup > TimeSpan.Zero)
        {
            _ = await MeasureAsync([scenario], data, warmup, null, warmingUp: true, cancellationToken);
        }

        return null;
    }

    /// <summary>Runs the workers for <paramref name="duration"/> and summarises what they recorded.</summary>
    public async Task<ScenarioResult> MeasureAsync(Scenario scenario, SampleData data, TimeSpan duration, CancellationToken cancellationToken) =>
        await MeasureAsync([scenario], data, duration, null, cancellationToken);

    /// <summary>Mixed load (soak): each call picks the next scenario in turn; <paramref name="onTick"/> runs every few seconds.</summary>
    public async Task<ScenarioResult> MeasureAsync(IReadOnlyList<Scenario> scenarios, SampleData data, TimeSpan duration, Func<TimeSpan, Task>? onTick, CancellationToken cancellationToken) =>
        await MeasureAsync(scenarios, data, duration, onTick, warmingUp: false, cancellationToken);

    /// <param name="warmingUp">True for the unmeasured warm-up: its calls are not written to <see cref="CallsFile"/>.</param>
    private async Task<ScenarioResult> MeasureAsync(IReadOnlyList<Scenario> scenarios, SampleData data, TimeSpan duration, Func<TimeSpan, Task>? onTick, bool warmingUp, CancellationToken cancellationToken)
    {
        // The workers' lists are allocated before anything is read or timed: at 64 workers they are several MB of large
        // objects, whose allocation can set off a full collection of the tool, which belongs to no call.
        var workers = new Worker[_concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            // Each call's send and end are kept while measuring, to line them up with the server's GC pauses.
            workers[w] = new Worker { Calls = warmingUp ? null : new(4 * 1024) };
        }

        var serverCpu = _serverPid is { } pid ? ProcessCpu.Reading.Take(pid) : default;
        using var serverGcWatch = warmingUp || _serverPid is not { } watched ? null : ServerGcWatch.Start(watched);
        var toolCpu = ProcessCpu.Reading.Take(Environment.ProcessId);
        _toolGcWatch.Begin();
        var gcCount = GC.CollectionCount(0);
        var gen1Before = GC.CollectionCount(1);
        var gen2Before = GC.CollectionCount(2);
        var gcPause = GC.GetTotalPauseDuration();
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long sequence = 0;

        // Stopwatch ticks between two due calls; 0 in closed loop.
        var interval = _rate is { } rate ? Stopwatch.Frequency / rate : 0;
        var tasks = workers.Select((worker, w) => Task.Run(async () =>
        {
            var channel = _channels[w % _channels.Length];
            while (Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref sequence);
                var scenario = scenarios[(int)(i % scenarios.Count)];
                var begin = Stopwatch.GetTimestamp();
                if (interval > 0)
                {
                    var due = started + (long)((i - 1) * interval);
                    if (due >= stopAt)
                    {
                        break;
                    }

                    if (due > begin)
                    {
                        // Early: wait for the call's time, and measure from the actual send (a late timer wake-up
                        // is the tool's, not the server's).
                        await Task.Delay(TimeSpan.FromSeconds((due - begin) / (double)Stopwatch.Frequency), cancellationToken);
                        begin = Stopwatch.GetTimestamp();
                    }
                    else
                    {
                        // Late: every worker was busy when this call fell due; its wait is part of its latency.
                        begin = due;
                    }
                }

                // Every collection (of any generation) counts in generation 0's count: a changed count means the tool
                // stopped for a collection while this call was in flight.
                var collections = GC.CollectionCount(0);
                try
                {
                    worker.Items += await scenario.CallAsync(channel, data, i, cancellationToken);
                    var latency = Stopwatch.GetTimestamp() - begin;
                    worker.Latencies.Add(latency);
                    var duringGc = GC.CollectionCount(0) != collections;
                    if (duringGc)
                    {
                        worker.DuringGc.Add(latency);
                    }

                    worker.Calls?.Add((begin, latency, duringGc));

                    worker.Ok++;
                }
                catch (RpcException ex)
                {
                    // In a mix, the scenario is part of the key: "301 INTERNAL" alone does not say where to look.
                    worker.Latencies.Add(Stopwatch.GetTimestamp() - begin);
                    worker.Error($"{scenario.Name}: {ex.StatusCode}");
                }
                catch (HttpRequestException ex)
                {
                    worker.Error($"{scenario.Name}: transport {ex.HttpRequestError}");
                }
            }
        }, cancellationToken)).ToList();

        if (onTick is not null)
        {
            var ticker = Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Max(1, duration.TotalSeconds / 10))), cancellationToken);
                    await onTick(Stopwatch.GetElapsedTime(started));
                }
            }, cancellationToken);
            tasks.Add(ticker);
        }

        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var toolAllocated = GC.GetTotalAllocatedBytes(precise: false) - allocated;
        var (toolPauses, toolPromoted) = _toolGcWatch.End();
        var serverPauses = serverGcWatch is null ? null : await serverGcWatch.StopAsync();
        var toolGcs = GC.CollectionCount(0) - gcCount;
        var gen1Count = GC.CollectionCount(1) - gen1Before;
        var gen2Count = GC.CollectionCount(2) - gen2Before;
        var toolGcPause = GC.GetTotalPauseDuration() - gcPause;
        var calls = workers.Sum(w => w.Ok + w.Errors.Values.Sum());
        var serverCpuPerCall = _serverPid is null ? null : serverCpu.PerCallUs(calls);
        var toolCpuPerCall = toolCpu.PerCallUs(calls);
        var latencies = workers.SelectMany(w => w.Latencies).ToArray();
        Array.Sort(latencies);
        var errors = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (code, count) in workers.SelectMany(w => w.Errors))
        {
            errors[code] = errors.GetValueOrDefault(code) + count;
        }

        if (CallsFile is not null && !warmingUp)
        {
            WriteCalls($"{CallsFile}.{(scenarios.Count == 1 ? scenarios[0].Name : "mixed")}.csv", workers);
        }

        var ok = workers.Sum(w => w.Ok);
        var duringGc = workers.SelectMany(w => w.DuringGc).ToArray();
        var p99 = latencies.Length == 0 ? 0 : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(0.99 * latencies.Length) - 1)];
        var slow = latencies.Length - LowerBound(latencies, p99);
        var serverGc = serverPauses is null || warmingUp ? null : LineUp(serverPauses, workers.SelectMany(w => w.Calls ?? []).ToList(), p99, started, stopAt) with
        {
            BytesPerCall = calls == 0 ? null : (double)serverGcWatch!.AllocatedBytes / calls,
            TopTypes = [.. serverGcWatch!.TopTypes(6).Select(t => (t.Type, serverGcWatch.AllocatedBytes == 0 ? 0 : (double)t.Bytes / serverGcWatch.AllocatedBytes))],
            PromotedPerGen0 = serverGcWatch.PromotedPerGen0,
        };
        var first = scenarios[0];
        return new ScenarioResult(
            scenarios.Count == 1 ? first.Name : "mixed",
            scenarios.Count == 1 ? first.Rpc : string.Join(" + ", scenarios.Select(s => s.Name)),
            null,
            ok + errors.Values.Sum(),
            ok,
            ok / elapsed,
            workers.Sum(w => w.Items) / elapsed,
            scenarios.Count == 1 ? first.Unit : "calls",
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.90),
            Percentile(latencies, 0.99),
            latencies.Length == 0 ? 0 : Ms(latencies[^1]),
            errors)
        {
            ServerCpuUsPerCall = serverCpuPerCall,
            ToolCpuUsPerCall = toolCpuPerCall,
            ToolGc = new ToolGc(
                toolGcs,
                toolGcPause.TotalMilliseconds,
                latencies.Length == 0 ? 0 : (double)duringGc.Length / latencies.Length,
                slow == 0 ? 0 : (double)duringGc.Count(l => l >= p99) / slow,
                calls == 0 ? 0 : (double)toolAllocated / calls)
            { Older = (gen1Count, gen2Count), Pauses = toolPauses, PromotedPerGen0 = toolPromoted },
            ServerGc = serverGc,
        };
    }

    /// <summary>Which calls had one of the server's GC pauses while in flight (pauses outside the measurement are left out).</summary>
    private static ServerGc LineUp(IReadOnlyList<ServerPause> pauses, List<(long Begin, long Latency, bool DuringGc)> calls, long p99, long from, long to)
    {
        var inWindow = pauses.Where(p => p.Restart >= from && p.Suspend <= to + (long)(Scenario.CallDeadline.TotalSeconds * Stopwatch.Frequency)).ToArray();
        var starts = inWindow.Select(p => p.Suspend).ToArray();
        bool Overlaps(long begin, long end)
        {
            // Pauses are sorted and never overlap each other: only the last one starting before the call ends can reach into it.
            var i = LowerBound(starts, end) - 1;
            return i >= 0 && inWindow[i].Restart > begin;
        }

        var all = 0;
        var slowAll = 0;
        var slowHit = 0;
        foreach (var (begin, latency, _) in calls)
        {
            var hit = Overlaps(begin, begin + latency);
            all += hit ? 1 : 0;
            if (latency >= p99)
            {
                slowAll++;
                slowHit += hit ? 1 : 0;
            }
        }

        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        return new ServerGc(
            inWindow.Length,
            inWindow.Sum(p => Ms(p.Restart - p.Suspend)),
            inWindow.Length == 0 ? 0 : inWindow.Max(p => Ms(p.Restart - p.Suspend)),
            calls.Count == 0 ? 0 : (double)all / calls.Count,
            slowAll == 0 ? 0 : (double)slowHit / slowAll)
        {
            ByGeneration = [.. inWindow.GroupBy(p => p.Generation).OrderBy(g => g.Key)
                .Select(g => new GenerationPauses(g.Key, g.Count(), g.Sum(p => Ms(p.Restart - p.Suspend)), g.Max(p => Ms(p.Restart - p.Suspend)), g.Sum(p => Ms(p.Suspending)), g.Count(p => p.Compacting)))],
        };
    }

    /// <summary>Appends one line per call: send and end (ns on Stopwatch's monotonic clock), latency in ns, tool GC meanwhile (0/1).</summary>
    private static void WriteCalls(string path, Worker[] workers)
    {
        var toNs = 1e9 / Stopwatch.Frequency;
        var header = !File.Exists(path);
        using var writer = new StreamWriter(path, append: true);
        if (header)
        {
            writer.WriteLine("send_ns,end_ns,latency_ns,tool_gc");
        }

        foreach (var (begin, latency, gc) in workers.SelectMany(w => w.Calls ?? []))
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(long)(begin * toNs)},{(long)((begin + latency) * toNs)},{(long)(latency * toNs)},{(gc ? 1 : 0)}"));
        }
    }

    /// <summary>The index of the first element not less than <paramref name="value"/> in a sorted array.</summary>
    private static int LowerBound(long[] sorted, long value)
    {
        var (lo, hi) = (0, sorted.Length);
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            (lo, hi) = sorted[mid] < value ? (mid + 1, hi) : (lo, mid);
        }

        return lo;
    }

    public void Dispose()
    {
        _toolGcWatch.Dispose();
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? 0 : Ms(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)]);

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>One worker's private tallies: no sharing, so recording costs nothing measurable.</summary>
    private sealed class Worker
    {
        public List<long> Latencies { get; } = new(16 * 1024);

        /// <summary>The latencies of the calls during which this tool ran a garbage collection.</summary>
        public List<long> DuringGc { get; } = [];

        /// <summary>Each call's send time, latency and whether a tool GC ran meanwhile, when they are to be written out.</summary>
        public List<(long Begin, long Latency, bool DuringGc)>? Calls { get; init; }

        public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

        public long Ok { get; set; }

        public long Items { get; set; }

        public void Error(string code) => Errors[code] = Errors.GetValueOrDefault(code) + 1;
    }
}
