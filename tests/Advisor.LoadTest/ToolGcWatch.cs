using System.Diagnostics.Tracing;

namespace Advisor.LoadTest;

/// <summary>
/// The load tool's own collections while a scenario is measured, from its runtime's GC events (an in-process
/// listener, a handful of events per collection): how long each pause took to stop the tool's threads and how long the
/// collection itself ran, and how many bytes survived each gen0 collection. A pause is both, and the two call for
/// different fixes: stopping threads that wait for a core is the machine's; the collection's own work grows with what
/// it has to look at.
/// </summary>
public sealed class ToolGcWatch : EventListener
{
    // Event ids of the runtime's GC events (Microsoft-Windows-DotNETRuntime, GC keyword, Informational level).
    private const int GcStart = 1;
    private const int GcEnd = 2;
    private const int RestartEEStop = 3;
    private const int HeapStats = 4;
    private const int SuspendEEStop = 8;
    private const int SuspendEEStart = 9;
    private const long GcKeyword = 0x1;

    private readonly Lock _lock = new();
    private readonly List<ToolPause> _pauses = [];
    private readonly List<long> _promotedFromGen0 = [];
    private DateTime? _suspend;
    private DateTime? _suspended;
    private DateTime? _gcStart;
    private TimeSpan _gcTime;
    private int _generation = -1;
    private bool _watching;

    /// <summary>Starts (or restarts) recording; pauses before this call are dropped.</summary>
    public void Begin()
    {
        lock (_lock)
        {
            _pauses.Clear();
            _promotedFromGen0.Clear();
            _watching = true;
        }
    }

    /// <summary>Stops recording and returns what was seen since <see cref="Begin"/>: the pauses and the bytes that survived each gen0 collection.</summary>
    public (IReadOnlyList<ToolPause> Pauses, IReadOnlyList<long> PromotedFromGen0) End()
    {
        lock (_lock)
        {
            _watching = false;
            return ([.. _pauses], [.. _promotedFromGen0]);
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        lock (_lock)
        {
            switch (eventData.EventId)
            {
                case SuspendEEStart:
                    _suspend = eventData.TimeStamp;
                    _suspended = null;
                    _gcTime = TimeSpan.Zero;
                    _generation = -1;
                    break;
                case SuspendEEStop:
                    _suspended = eventData.TimeStamp;
                    break;
                case GcStart:
                    _gcStart = eventData.TimeStamp;
                    _generation = eventData.Payload is [_, var depth, ..] ? Convert.ToInt32(depth, System.Globalization.CultureInfo.InvariantCulture) : -1;
                    break;
                case GcEnd when _gcStart is { } start:
                    _gcTime += eventData.TimeStamp - start;
                    _gcStart = null;
                    break;
                case HeapStats when _watching && _generation == 0 && eventData.Payload is [_, var promoted0, ..]:
                    _promotedFromGen0.Add(Convert.ToInt64(promoted0, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case RestartEEStop when _suspend is { } suspend:
                    if (_watching)
                    {
                        _pauses.Add(new ToolPause(_generation, eventData.TimeStamp - suspend, (_suspended ?? suspend) - suspend, _gcTime));
                    }

                    _suspend = null;
                    break;
            }
        }
    }
}

/// <summary>One stop of the tool's threads: the generation collected (-1: none), the whole pause, the part spent stopping the threads, and the collection's own time.</summary>
public readonly record struct ToolPause(int Generation, TimeSpan Pause, TimeSpan Suspending, TimeSpan Collecting);
