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

/// <summary>One slice of a scenario's measured time (see <see cref="Schedule"/>).</summary>
/// <param name="Run">The run of --repeat it belongs to (0 first).</param>
/// <param name="Round">Its round in that run: slices of one round ran seconds apart, so their rates can be paired.</param>
/// <param name="Position">Its place in the round (0 first).</param>
/// <param name="Ok">Calls answered OK in it.</param>
/// <param name="Seconds">Its measured time: from its start until its last call's answer.</param>
/// <param name="DrainSeconds">Of <paramref name="Seconds"/>, the tail after its time was up, while the calls in flight finished.</param>
/// <param name="GapSeconds">Unmeasured time between the end of the slice before it and its start (taking readings, starting workers).</param>
public sealed record SliceRecord(int Run, int Round, int Position, long Ok, double Seconds, double DrainSeconds, double GapSeconds)
{
    public double CallsPerSecond => Seconds > 0 ? Ok / Seconds : 0;
}

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

    /// <summary>Each measured slice's own rate, in the order they ran (one for a back-to-back run); over every run after --repeat.</summary>
    public IReadOnlyList<SliceRecord> Slices { get; init; } = [];

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
            _ = await RunSliceAsync(new Tally([scenario], _concurrency, keepCalls: false), data, warmup, (0, 0, 0), null, null, cancellationToken);
        }

        return null;
    }

    /// <summary>Mixed load (soak): each call picks the next scenario in turn; <paramref name="onTick"/> runs every few seconds.</summary>
    public async Task<ScenarioResult> MeasureAsync(IReadOnlyList<Scenario> scenarios, SampleData data, TimeSpan duration, Func<TimeSpan, Task>? onTick, CancellationToken cancellationToken)
    {
        var tally = new Tally(scenarios, _concurrency, keepCalls: true);
        using var serverGcWatch = _serverPid is { } pid ? ServerGcWatch.Start(pid) : null;
        _ = await RunSliceAsync(tally, data, duration, (0, 0, 0), null, onTick, cancellationToken);
        return await SummariseAsync([tally], serverGcWatch) is [var result] ? result : throw new InvalidOperationException("one tally, one result");
    }

    /// <summary>
    /// Measures each scenario on its own, on <paramref name="rounds"/> (see <see cref="Schedule"/>): a slice runs one
    /// scenario's workers for its round's length, then lets their calls in flight finish (the closed loop drains) before
    /// the next slice starts, so no call of one scenario shares the machine with another's. Each scenario's figures are
    /// added up over its slices: calls, errors, measured time, CPU and GC, and its latencies into one distribution (its
    /// percentiles are over all its calls, never a median of slices). <paramref name="onRound"/> gets each finished
    /// round's slices, in the order they ran.
    /// </summary>
    /// <param name="run">Which run of --repeat this is (0 first), written into each slice's record.</param>
    /// <returns>One result per scenario, in the order of <paramref name="scenarios"/>.</returns>
    public async Task<IReadOnlyList<ScenarioResult>> MeasureScheduleAsync(IReadOnlyList<Scenario> scenarios, SampleData data, IReadOnlyList<ScheduleRound> rounds, int run, Action<int, IReadOnlyList<(Scenario Scenario, SliceRecord Slice)>>? onRound, CancellationToken cancellationToken)
    {
        var tallies = scenarios.Select(s => new Tally([s], _concurrency, keepCalls: true)).ToArray();

        // One trace of the server's GC for the whole schedule, not one per slice (that would start and stop the server's
        // event pipe every second): each pause and allocation goes to the slice whose time it falls in.
        using var serverGcWatch = _serverPid is { } pid ? ServerGcWatch.Start(pid) : null;
        long? previousEnd = null;
        for (var r = 0; r < rounds.Count; r++)
        {
            var slices = new List<(Scenario, SliceRecord)>();
            for (var p = 0; p < rounds[r].Order.Count; p++)
            {
                var tally = tallies[rounds[r].Order[p]];
                slices.Add((tally.Scenarios[0], await RunSliceAsync(tally, data, rounds[r].Length, (run, r, p), previousEnd, null, cancellationToken)));
                previousEnd = tally.Windows[^1].To;
            }

            onRound?.Invoke(r, slices);
        }

        return await SummariseAsync(tallies, serverGcWatch);
    }

    /// <summary>
    /// Runs the tally's workers for <paramref name="duration"/> and lets their calls in flight finish; adds what they did
    /// and what the tool and server spent meanwhile to the tally.
    /// </summary>
    /// <param name="previousEnd">When the slice before this one ended (Stopwatch ticks), to say how long the switch took; null for the first.</param>
    private async Task<SliceRecord> RunSliceAsync(Tally tally, SampleData data, TimeSpan duration, (int Run, int Round, int Position) place, long? previousEnd, Func<TimeSpan, Task>? onTick, CancellationToken cancellationToken)
    {
        var workers = tally.Workers;
        var scenarios = tally.Scenarios;
        var okBefore = workers.Sum(w => w.Ok);
        var serverCpu = _serverPid is { } pid ? ProcessCpu.Reading.Take(pid) : default;
        var toolCpu = ProcessCpu.Reading.Take(Environment.ProcessId);
        _toolGcWatch.Begin();
        var gcCount = GC.CollectionCount(0);
        var gen1Before = GC.CollectionCount(1);
        var gen2Before = GC.CollectionCount(2);
        var gcPause = GC.GetTotalPauseDuration();
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        // The call sequence runs on across a scenario's slices (it picks the sample data); the open loop's due times
        // count from this slice's first call.
        var sliceFirst = Interlocked.Read(ref tally.Sequence);

        // Stopwatch ticks between two due calls; 0 in closed loop.
        var interval = _rate is { } rate ? Stopwatch.Frequency / rate : 0;
        var tasks = workers.Select((worker, w) => Task.Run(async () =>
        {
            var channel = _channels[w % _channels.Length];
            while (Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref tally.Sequence);
                var scenario = scenarios[(int)(i % scenarios.Count)];
                var begin = Stopwatch.GetTimestamp();
                if (interval > 0)
                {
                    var due = started + (long)((i - sliceFirst - 1) * interval);
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
                catch (DifferentAnswerException)
                {
                    // A wrong answer is a failed call: counted under its own name, never as OK (see FirstAnswerCheck).
                    worker.Latencies.Add(Stopwatch.GetTimestamp() - begin);
                    worker.Error($"{scenario.Name}: {DifferentAnswerException.ErrorName}");
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
        var ended = Stopwatch.GetTimestamp();
        var elapsed = (ended - started) / (double)Stopwatch.Frequency;
        tally.ToolAllocated += GC.GetTotalAllocatedBytes(precise: false) - allocated;
        var (toolPauses, toolPromoted) = _toolGcWatch.End();
        tally.ToolPauses.AddRange(toolPauses);
        tally.ToolPromoted.AddRange(toolPromoted);
        tally.Collections += GC.CollectionCount(0) - gcCount;
        tally.Gen1 += GC.CollectionCount(1) - gen1Before;
        tally.Gen2 += GC.CollectionCount(2) - gen2Before;
        tally.ToolPause += GC.GetTotalPauseDuration() - gcPause;
        tally.ServerCpu += serverCpu.Used();
        tally.ToolCpu += toolCpu.Used();
        tally.Seconds += elapsed;
        tally.Windows.Add((started, ended));
        var slice = new SliceRecord(
            place.Run,
            place.Round,
            place.Position,
            workers.Sum(w => w.Ok) - okBefore,
            elapsed,
            Math.Max(0, ended - stopAt) / (double)Stopwatch.Frequency,
            previousEnd is { } end ? (started - end) / (double)Stopwatch.Frequency : 0);
        tally.Slices.Add(slice);
        return slice;
    }

    /// <summary>Each tally's figures over all its slices, lined up with the server's GC trace (stopped here) when there is one.</summary>
    private async Task<IReadOnlyList<ScenarioResult>> SummariseAsync(IReadOnlyList<Tally> tallies, ServerGcWatch? serverGcWatch)
    {
        var serverPauses = serverGcWatch is null ? null : await serverGcWatch.StopAsync();
        return [.. tallies.Select(t => Summarise(t, serverPauses, serverGcWatch))];
    }

    private ScenarioResult Summarise(Tally tally, IReadOnlyList<ServerPause>? serverPauses, ServerGcWatch? serverGcWatch)
    {
        var workers = tally.Workers;
        var scenarios = tally.Scenarios;
        var elapsed = tally.Seconds;
        var calls = workers.Sum(w => w.Ok + w.Errors.Values.Sum());
        var latencies = workers.SelectMany(w => w.Latencies).ToArray();
        Array.Sort(latencies);
        var errors = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (code, count) in workers.SelectMany(w => w.Errors))
        {
            errors[code] = errors.GetValueOrDefault(code) + count;
        }

        if (CallsFile is not null)
        {
            WriteCalls($"{CallsFile}.{(scenarios.Count == 1 ? scenarios[0].Name : "mixed")}.csv", workers);
        }

        var ok = workers.Sum(w => w.Ok);
        var duringGc = workers.SelectMany(w => w.DuringGc).ToArray();
        var p99 = latencies.Length == 0 ? 0 : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(0.99 * latencies.Length) - 1)];
        var slow = latencies.Length - LowerBound(latencies, p99);
        var serverGc = serverPauses is null || serverGcWatch is null ? null : LineUp(serverPauses, workers.SelectMany(w => w.Calls ?? []).ToList(), p99, tally.Windows) with
        {
            BytesPerCall = calls == 0 ? null : (double)serverGcWatch.AllocatedBytes(tally.Windows) / calls,
            TopTypes = [.. serverGcWatch.TopTypes(tally.Windows, 6) is var top && top.Total == 0 ? [] : top.Types.Select(t => (t.Type, (double)t.Bytes / top.Total))],
            PromotedPerGen0 = serverGcWatch.PromotedPerGen0(tally.Windows),
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
            ServerCpuUsPerCall = tally.ServerCpu is { } server && calls > 0 ? server.TotalMicroseconds / calls : null,
            ToolCpuUsPerCall = tally.ToolCpu is { } tool && calls > 0 ? tool.TotalMicroseconds / calls : null,
            ToolGc = new ToolGc(
                tally.Collections,
                tally.ToolPause.TotalMilliseconds,
                latencies.Length == 0 ? 0 : (double)duringGc.Length / latencies.Length,
                slow == 0 ? 0 : (double)duringGc.Count(l => l >= p99) / slow,
                calls == 0 ? 0 : (double)tally.ToolAllocated / calls)
            { Older = (tally.Gen1, tally.Gen2), Pauses = [.. tally.ToolPauses], PromotedPerGen0 = tally.ToolPromoted.Count == 0 ? null : tally.ToolPromoted.Average() },
            ServerGc = serverGc,
            Slices = [.. tally.Slices],
        };
    }

    /// <summary>
    /// Which calls had one of the server's GC pauses while in flight. Only the pauses that reach into one of the
    /// scenario's measured slices (from its start to its last call's end) are its own: those between slices, or in
    /// another scenario's, are left out.
    /// </summary>
    private static ServerGc LineUp(IReadOnlyList<ServerPause> pauses, List<(long Begin, long Latency, bool DuringGc)> calls, long p99, IReadOnlyList<(long From, long To)> windows)
    {
        var inWindow = pauses.Where(p => windows.Any(w => p.Restart >= w.From && p.Suspend <= w.To)).ToArray();
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

    /// <summary>
    /// One measured scenario (or the soak's mix) over all its slices: its workers, whose lists take every call of every
    /// slice, and the sums of what each slice's readings saw. The workers' lists are allocated here, before anything is
    /// read or timed: at 64 workers they are several MB of large objects, whose allocation can set off a full collection
    /// of the tool, which belongs to no call.
    /// </summary>
    private sealed class Tally(IReadOnlyList<Scenario> scenarios, int concurrency, bool keepCalls)
    {
        /// <summary>The calls issued so far over the tally's slices (read and advanced with Interlocked by every worker).</summary>
        public long Sequence;

        public IReadOnlyList<Scenario> Scenarios { get; } = scenarios;

        // Each call's send and end are kept while measuring, to line them up with the server's GC pauses.
        public Worker[] Workers { get; } = [.. Enumerable.Range(0, concurrency).Select(_ => new Worker { Calls = keepCalls ? new(4 * 1024) : null })];

        /// <summary>Each slice's start and end (its last call's answer), Stopwatch ticks.</summary>
        public List<(long From, long To)> Windows { get; } = [];

        public List<SliceRecord> Slices { get; } = [];

        public double Seconds { get; set; }

        /// <summary>The server's CPU time over the slices; null once one slice could not read it.</summary>
        public TimeSpan? ServerCpu { get; set; } = TimeSpan.Zero;

        public TimeSpan? ToolCpu { get; set; } = TimeSpan.Zero;

        public int Collections { get; set; }

        public int Gen1 { get; set; }

        public int Gen2 { get; set; }

        public TimeSpan ToolPause { get; set; }

        public long ToolAllocated { get; set; }

        public List<ToolPause> ToolPauses { get; } = [];

        public List<long> ToolPromoted { get; } = [];
    }

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
