using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

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
    private readonly List<(long Suspend, long Restart)> _pauses = [];
    private readonly Dictionary<string, long> _allocatedByType = new(StringComparer.Ordinal);
    private long _allocated;

    private ServerGcWatch(EventPipeSession session)
    {
        _session = session;
        var source = new EventPipeEventSource(session.EventStream);
        long? suspend = null;

        // The raw timestamp is what lines up with Stopwatch; TraceEvent marks it "discouraged" (not obsolete) because
        // most readers want times relative to the session.
#pragma warning disable CS0618
        source.Clr.GCSuspendEEStart += e => suspend = e.TimeStampQPC;
        source.Clr.GCRestartEEStop += e =>
        {
            if (suspend is { } s)
            {
                lock (_pauses)
                {
                    _pauses.Add((s, e.TimeStampQPC));
                }
            }

            suspend = null;
        };
#pragma warning restore CS0618

        // One event per ~100 KB the server allocates (the GC's sampling tick, verbose level), naming the type of the
        // object that crossed the mark: the sum is the server's allocation to within one tick, the types say where
        // most of it goes.
        source.Clr.GCAllocationTick += e =>
        {
            lock (_allocatedByType)
            {
                _allocated += e.AllocationAmount64;
                _allocatedByType[e.TypeName ?? "?"] = _allocatedByType.GetValueOrDefault(e.TypeName ?? "?") + e.AllocationAmount64;
            }
        };
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
    public async Task<IReadOnlyList<(long Suspend, long Restart)>> StopAsync()
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

    /// <summary>Bytes the server allocated while watched (read after <see cref="StopAsync"/>).</summary>
    public long AllocatedBytes
    {
        get
        {
            lock (_allocatedByType)
            {
                return _allocated;
            }
        }
    }

    /// <summary>The types whose objects crossed the most allocation ticks, with the bytes attributed to them, largest first.</summary>
    public IReadOnlyList<(string Type, long Bytes)> TopTypes(int count)
    {
        lock (_allocatedByType)
        {
            return [.. _allocatedByType.OrderByDescending(t => t.Value).Take(count).Select(t => (t.Key, t.Value))];
        }
    }

    public void Dispose() => _session.Dispose();
}
