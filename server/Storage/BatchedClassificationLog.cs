using System.Threading.Channels;

namespace Advisor.Server.Storage;

/// <summary>Writes and reads classification log rows; one per storage provider.</summary>
public interface IClassificationLogWriter
{
    Task WriteAsync(IReadOnlyList<ClassificationLogEntry> batch, CancellationToken cancellationToken);

    Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken);
}

/// <summary>
/// Queues classification log entries and writes them in batches, one transaction per batch,
/// so classifying never waits for the disk. When the queue is full the oldest entries are
/// dropped and counted rather than slowing requests down.
/// </summary>
public sealed partial class BatchedClassificationLog : BackgroundService, IClassificationLog
{
    private const int BatchSize = 512;
    private readonly IClassificationLogWriter _writer;
    private readonly ILogger<BatchedClassificationLog> _logger;
    private readonly Channel<ClassificationLogEntry> _queue;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private long _droppedCount;

    public BatchedClassificationLog(IClassificationLogWriter writer, ILogger<BatchedClassificationLog> logger)
    {
        _writer = writer;
        _logger = logger;
        _queue = Channel.CreateBounded<ClassificationLogEntry>(
            new BoundedChannelOptions(50_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _droppedCount));
    }

    /// <summary>Entries dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _droppedCount);

    public void Append(ClassificationLogEntry entry) => _queue.Writer.TryWrite(entry);

    public Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken) =>
        _writer.RecentAsync(count, cancellationToken);

    /// <summary>Returns once every entry appended before the call is written (or its write has failed and been logged).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken) => await DrainAsync(int.MaxValue, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
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
            var batch = new List<ClassificationLogEntry>(Math.Min(max, BatchSize));
            while (batch.Count < max && _queue.Reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }

            if (batch.Count > 0)
            {
                try
                {
                    await _writer.WriteAsync(batch, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogWriteFailed(_logger, ex, batch.Count);
                }
            }

            return batch.Count;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Could not write {Count} classification log entries")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count);
}
