using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Advisor.LoadTest;

/// <summary>
/// The server's garbage-collection pauses while a scenario is measured, read from the runtime's own GC events over
/// EventPipe (the diagnostics channel every .NET process opens). A pause runs from the runtime's suspension of the
/// server's threads to their restart; every call in flight on the server waits through it. Times are on the
/// monotonic clock that both EventPipe and <see cref="System.Diagnostics.Stopwatch"/> read on Linux, so pauses can
/// be lined up with the tool's calls.
/// </summary>
public sealed class ServerGcWatch : IDisposable
{
    private readonly EventPipeSession _session;
    private readonly Task _reader;
    private readonly List<ServerPause> _pauses = [];
    private readonly List<(long At, long Bytes)> _promotedFromGen0 = [];

    // Each allocation tick with its time, so a schedule of interleaved slices can give each scenario the ticks of its own
    // slices (about 1,400 ticks a second at 45k calls/s).
    private readonly List<(long At, long Bytes, string Type)> _allocationTicks = [];

    private ServerGcWatch(EventPipeSession session)
    {
        _session = session;
        var source = new EventPipeEventSource(session.EventStream);
        long? suspend = null;
        long? suspended = null;
        int? generation = null;
        var compacting = false;

        // The raw timestamp is what lines up with Stopwatch; TraceEvent marks it "discouraged" (not obsolete) because
        // most readers want times relative to the session.
#pragma warning disable CS0618
        source.Clr.GCSuspendEEStart += e => suspend = e.TimeStampQPC;
        source.Clr.GCSuspendEEStop += e => suspended = e.TimeStampQPC;

        // The collection a pause ran for: its generation (depth) says whether a long pause was a gen0, a gen1 or a full
        // (gen2) collection; a suspension without a GCStart (the runtime stopping threads for something else) has none.
        source.Clr.GCStart += e => generation = e.Depth;

        // Whether the collection compacted (copied what survived) rather than swept: a compacting gen2 copies the whole
        // live heap, and conserve-memory asks for exactly that once enough of gen2 is free space.
        source.Clr.GCGlobalHeapHistory += e => compacting = (e.GlobalMechanisms & GCGlobalMechanisms.Compaction) != 0;
        source.Clr.GCRestartEEStop += e =>
        {
            if (suspend is { } s)
            {
                lock (_pauses)
                {
                    _pauses.Add(new ServerPause(s, e.TimeStampQPC, generation ?? -1, (suspended ?? s) - s, compacting));
                }
            }

            suspend = null;
            suspended = null;
            generation = null;
            compacting = false;
        };

        // Bytes that survived a gen0 collection (moved to gen1): what the server keeps alive across a collection is
        // what each gen0 collection has to mark and copy, and what later gen1 collections have to look at again.
        source.Clr.GCHeapStats += e =>
        {
            if (generation == 0)
            {
                lock (_pauses)
                {
                    _promotedFromGen0.Add((e.TimeStampQPC, e.TotalPromotedSize0));
                }
            }
        };

        // One event per ~100 KB the server allocates (the GC's sampling tick, verbose level), naming the type of the
        // object that crossed the mark: the sum is the server's allocation to within one tick, the types say where
        // most of it goes.
        source.Clr.GCAllocationTick += e =>
        {
            lock (_allocationTicks)
            {
                _allocationTicks.Add((e.TimeStampQPC, e.AllocationAmount64, e.TypeName ?? "?"));
            }
        };
#pragma warning restore CS0618
        _reader = Task.Run(() =>
        {
            try
            {
                source.Process();
            }
            catch (Exception ex) when (ex is FormatException or EndOfStreamException or IOException)
            {
                // The server went away mid-session: the pauses read so far stand.
            }
        });
    }

    /// <summary>Starts watching; null (with the reason on standard error) when the server's diagnostics channel cannot be used.</summary>
    public static ServerGcWatch? Start(int pid)
    {
        try
        {
            var providers = new[] { new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, (long)ClrTraceEventParser.Keywords.GC) };
            return new ServerGcWatch(new DiagnosticsClient(pid).StartEventPipeSession(providers, requestRundown: false));
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or UnsupportedCommandException or DiagnosticsClientException or TimeoutException or IOException)
        {
            Console.Error.WriteLine($"server GC pauses not traced: {ex.Message}");
            return null;
        }
    }

    /// <summary>Ends the session and returns the pauses seen, in order (monotonic clock ticks).</summary>
    public async Task<IReadOnlyList<ServerPause>> StopAsync()
    {
        try
        {
            await _session.StopAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or IOException or TimeoutException)
        {
            // Already gone: the stream has ended too.
        }

        try
        {
            await _reader.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // The stream did not end in time: the pauses read so far are still the measurement's.
            Console.Error.WriteLine("server GC trace did not end within 10 s; its pauses so far are used");
        }

        lock (_pauses)
        {
            return [.. _pauses.OrderBy(p => p.Suspend)];
        }
    }

    /// <summary>
    /// Mean bytes promoted out of gen0 per gen0 collection within <paramref name="windows"/> (monotonic clock ticks), read
    /// after <see cref="StopAsync"/>; null without one.
    /// </summary>
    public double? PromotedPerGen0(IReadOnlyList<(long From, long To)> windows)
    {
        lock (_pauses)
        {
            var within = _promotedFromGen0.Where(p => Within(windows, p.At)).ToList();
            return within.Count == 0 ? null : within.Average(p => p.Bytes);
        }
    }

    /// <summary>Bytes the server allocated within <paramref name="windows"/> (read after <see cref="StopAsync"/>).</summary>
    public long AllocatedBytes(IReadOnlyList<(long From, long To)> windows)
    {
        lock (_allocationTicks)
        {
            return _allocationTicks.Where(t => Within(windows, t.At)).Sum(t => t.Bytes);
        }
    }

    /// <summary>
    /// The types whose objects crossed the most allocation ticks within <paramref name="windows"/>, with the bytes
    /// attributed to them, largest first, and the bytes of all types there.
    /// </summary>
    public (IReadOnlyList<(string Type, long Bytes)> Types, long Total) TopTypes(IReadOnlyList<(long From, long To)> windows, int count)
    {
        lock (_allocationTicks)
        {
            var byType = _allocationTicks.Where(t => Within(windows, t.At)).GroupBy(t => t.Type, StringComparer.Ordinal).Select(g => (Type: g.Key, Bytes: g.Sum(t => t.Bytes))).ToList();
            return ([.. byType.OrderByDescending(t => t.Bytes).Take(count)], byType.Sum(t => t.Bytes));
        }
    }

    private static bool Within(IReadOnlyList<(long From, long To)> windows, long at) => windows.Any(w => at >= w.From && at <= w.To);

    public void Dispose() => _session.Dispose();
}

/// <summary>
/// One stop of the server's threads: from suspension to restart (monotonic clock ticks), the generation collected (-1:
/// none), the ticks it took to stop the threads (a thread that waits for a core answers the stop late), and whether the
/// collection compacted.
/// </summary>
public readonly record struct ServerPause(long Suspend, long Restart, int Generation, long Suspending, bool Compacting);
