using System.Diagnostics.Metrics;
using Advisor.Server.Telemetry;

namespace Advisor.Server.Storage;

/// <summary>Writes and reads classification log rows; one per storage provider.</summary>
public interface IClassificationLogWriter
{
    Task WriteAsync(IReadOnlyList<ClassificationLogEntry> batch, CancellationToken cancellationToken);

    Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken);
}

/// <summary>
/// A writer that stores the entries' queued bytes as they are. Why: SQLite keeps text as UTF-8, as the queue does, so
/// turning every entry back into an object and five strings only to encode them again for SQLite cost the log writer
/// CPU on every ClassifyBuyer call (docs/benchmarks.md, "The classification log's cost per row").
/// </summary>
internal interface IEncodedClassificationLogWriter
{
    Task WriteAsync(ClassificationLogBatch batch, CancellationToken cancellationToken);
}

/// <summary>
/// Queues classification log entries and writes them in batches, one transaction per batch,
/// so classifying never waits for the disk. When the queue is full the oldest entries are
/// dropped rather than slowing requests down; they are counted (metric <c>advisor.classification_log.dropped</c>) and a
/// warning says so at most once a minute, since a backtest that reads the log would otherwise miss them unseen. The writer lets a batch gather for up to
/// <see cref="GatherTime"/> before it writes (readers call <see cref="FlushAsync"/> first, so they never wait for it).
/// </summary>
public sealed partial class BatchedClassificationLog : BackgroundService, IClassificationLog
{
    /// <summary>
    /// Entries written per transaction at most. 2,048 was measured against it and cost no less per row
    /// (docs/benchmarks.md "ClassifyBuyer: full-view evidence kept"); the benchmark tool's classification-log run uses it.
    /// </summary>
    public const int BatchSize = 512;

    /// <summary>Entries that may wait to be written; past this the oldest are dropped.</summary>
    public const int QueueCapacity = 50_000;

    private static readonly TimeSpan DropWarningInterval = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long the writer waits for a batch to fill before writing what it has. Why: every write opens a pooled
    /// connection, sets its pragmas, begins, prepares and commits, and each commit rewrites the table's and the index's
    /// last pages into the WAL; draining as soon as one entry arrived gave batches of a few rows under load, and that
    /// fixed cost per batch made the log about a tenth of a ClassifyBuyer call's server CPU (profiled under the load
    /// tool). A row reaches the file at most this much later; it was never synchronous with the answer.
    /// </summary>
    public static readonly TimeSpan GatherTime = TimeSpan.FromMilliseconds(50);

    private readonly TimeProvider _time;
    private readonly IClassificationLogWriter _writer;
    private readonly ILogger<BatchedClassificationLog> _logger;
    private readonly PendingClassificationLog _queue = new(QueueCapacity);

    /// <summary>The batch an <see cref="IEncodedClassificationLogWriter"/> is given; used only while _writeLock is held.</summary>
    private readonly ClassificationLogBatch _encoded = new();

    /// <summary>Released when an entry arrives in an empty queue and no permit is waiting: wakes the writer.</summary>
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    // Written only while _writeLock is held.
    private long _droppedWarned;
    private DateTimeOffset _lastDropWarning = DateTimeOffset.MinValue;

    public BatchedClassificationLog(IClassificationLogWriter writer, ILogger<BatchedClassificationLog> logger, TimeProvider time, IMeterFactory meters)
    {
        _writer = writer;
        _time = time;
        _logger = logger;
        meters.Create(AdvisorMetrics.MeterName).CreateObservableCounter(
            "advisor.classification_log.dropped", () => Dropped, "{entry}", "Classification log entries dropped because the write queue was full.");
    }

    /// <summary>Entries dropped because the queue was full.</summary>
    public long Dropped => _queue.Dropped;

    public void Append(ClassificationLogEntry entry)
    {
        // One permit is enough to wake the writer. Under steady load the writer rarely waits, so releasing on every
        // empty-to-waiting change would pile up permits (one per batch, without bound) that it then spins through
        // when the load stops. A permit already there wakes it just as well; at worst two racing appends leave two.
        if (_queue.Add(entry) && _arrived.CurrentCount == 0)
        {
            _arrived.Release();
        }
    }

    public Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken) =>
        _writer.RecentAsync(count, cancellationToken);

    /// <summary>Returns once every entry appended before the call is written (or its write has failed and been logged).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken) => await DrainAsync(int.MaxValue, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // An entry arriving between this check and the wait has released the semaphore: the wait returns at once.
                if (_queue.Count == 0)
                {
                    await _arrived.WaitAsync(stoppingToken);
                    continue;
                }

                if (_queue.Count < BatchSize)
                {
                    await Task.Delay(GatherTime, _time, stoppingToken);
                }

                await DrainAsync(BatchSize, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync flushes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> entries and writes them, holding the lock from the take to the
    /// end of the write: a flush that gets the lock knows no taken entry is still on its way to the store.
    /// </summary>
    private async Task<int> DrainAsync(int max, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var count = 0;
            try
            {
                if (_writer is IEncodedClassificationLogWriter encoded)
                {
                    _queue.Take(max, _encoded);
                    count = _encoded.Count;
                    if (count > 0)
                    {
                        await encoded.WriteAsync(_encoded, cancellationToken);
                    }
                }
                else
                {
                    var batch = _queue.Take(max);
                    count = batch.Count;
                    if (count > 0)
                    {
                        await _writer.WriteAsync(batch, cancellationToken);
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWriteFailed(_logger, ex, count);
            }

            WarnOfDrops();
            return count;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Says how many entries were dropped since the last warning, at most once per <see cref="DropWarningInterval"/>.</summary>
    private void WarnOfDrops()
    {
        var dropped = Dropped;
        var now = _time.GetUtcNow();
        if (dropped > _droppedWarned && now - _lastDropWarning >= DropWarningInterval)
        {
            LogDropped(_logger, dropped - _droppedWarned, QueueCapacity);
            _droppedWarned = dropped;
            _lastDropWarning = now;
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Could not write {Count} classification log entries")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Dropped {Count} classification log entries: more than {Capacity} were waiting to be written")]
    private static partial void LogDropped(ILogger logger, long count, int capacity);
}
