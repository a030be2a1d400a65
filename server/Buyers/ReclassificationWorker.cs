using Advisor.Server.Classification;
using Advisor.Server.Storage;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Buyers;

/// <summary>
/// Tells the reclassification worker that buyers changed, and when the last import batch committed,
/// so the worker can stay out of a running import's way.
/// </summary>
public sealed class RegistryActivity(TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _lastImportTicks;
    private int _importBatchesWriting;

    /// <summary>When the last import batch ended (committed or failed).</summary>
    public DateTimeOffset LastImport => new(Interlocked.Read(ref _lastImportTicks), TimeSpan.Zero);

    /// <summary>
    /// True while an import batch is being written. Why the worker needs this besides <see cref="LastImport"/>: a batch
    /// of thousands of rows takes longer than the worker's quiet time, so "no commit for a while" was true in the middle
    /// of every batch of a running import, and the worker's reads and one-buyer saves were let in between the batches
    /// (each save waiting for the write gate, then checkpointing the batch's WAL while the importer waited for it).
    /// </summary>
    public bool ImportWriting => Volatile.Read(ref _importBatchesWriting) > 0;

    /// <summary>An import batch starts writing; pair with <see cref="ImportBatchEnded"/> in a finally.</summary>
    public void ImportBatchStarted() => Interlocked.Increment(ref _importBatchesWriting);

    /// <summary>An import batch committed or failed: the worker may follow once the import has been quiet long enough.</summary>
    public void ImportBatchEnded()
    {
        Interlocked.Exchange(ref _lastImportTicks, time.GetUtcNow().UtcTicks);
        Interlocked.Decrement(ref _importBatchesWriting);
        Changed();
    }

    /// <summary>
    /// How long the reclassification worker should still wait before its next round; zero means go now. It waits while
    /// an import batch is writing and until imports have been quiet for <paramref name="quiet"/>, so it never slows an
    /// import, but not for more than <paramref name="maxWait"/> since it began waiting (<paramref name="waitingSince"/>).
    /// Why the bound: a steady feed of imports (a CRM syncing all day) is never quiet, and without it the buyers it
    /// changed would keep their old classification, and their changes of kind would go unrecorded, until the feed stopped.
    /// </summary>
    public TimeSpan ReclassificationDelay(TimeSpan quiet, TimeSpan maxWait, DateTimeOffset waitingSince)
    {
        var now = time.GetUtcNow();
        var left = maxWait - (now - waitingSince);
        if (left <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var writing = ImportWriting;
        var quietFor = now - LastImport;
        if (!writing && quietFor >= quiet)
        {
            return TimeSpan.Zero;
        }

        var wait = writing ? quiet : quiet - quietFor;
        return wait < left ? wait : left;
    }

    public void Changed()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled; one wake-up covers every change so far.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _signal.Dispose();
}

/// <summary>
/// Reclassifies buyers whose history changed (marked by every interaction insert), off the write path so imports
/// run at full speed. Each save records the buyer's classification history and any change of kind. Marks are in
/// the database, so work interrupted by a crash is picked up after the restart.
/// </summary>
public sealed partial class ReclassificationWorker(
    IBuyerStore store,
    RegistryClassifier classifier,
    SnapshotHolder snapshots,
    RegistryActivity activity,
    IOptions<BuyerOptions> options,
    TimeProvider time,
    ILogger<ReclassificationWorker> logger) : BackgroundService
{
    /// <summary>Reclassifies every marked buyer now (used by tools and tests that need the registry settled).</summary>
    public async Task<int> RunUntilIdleAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var done = await RunRoundAsync(cancellationToken);
            total += done;
            if (done == 0)
            {
                return total;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        DateTimeOffset? waitingSince = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await activity.WaitAsync(TimeSpan.FromMilliseconds(o.ReclassifyIntervalMs), stoppingToken);
                waitingSince ??= time.GetUtcNow();
                var delay = activity.ReclassificationDelay(
                    TimeSpan.FromMilliseconds(o.ReclassifyQuietMs), TimeSpan.FromMilliseconds(o.ReclassifyMaxWaitMs), waitingSince.Value);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, time, stoppingToken);
                    activity.Changed();
                    continue;
                }

                waitingSince = null;
                if (await RunRoundAsync(stoppingToken) >= o.ReclassifyBatch)
                {
                    activity.Changed();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Before migrations have run, or a busy database: the next round retries.
                LogFailed(logger, ex);
            }
        }
    }

    private async Task<int> RunRoundAsync(CancellationToken cancellationToken)
    {
        var ids = await store.ListBuyersToReclassifyAsync(options.Value.ReclassifyBatch, cancellationToken);
        var snapshot = snapshots.Current;
        foreach (var id in ids)
        {
            var profile = await store.GetProfileAsync(id, options.Value.RecentNotes, cancellationToken);
            if (profile is null)
            {
                continue;
            }

            var classified = RegistryClassifier.Classify(profile, snapshot, null, Knowledge.StrategyStage.Any, time.GetUtcNow());
            if (await classifier.SaveAsync(id, classified.Result, profile.LastSequence, cancellationToken))
            {
                LogKindChanged(logger, id, profile.Buyer.Classification?.Kind, classified.Result.Kind);
            }
        }

        return ids.Count;
    }

    [LoggerMessage(EventId = 41, Level = LogLevel.Debug, Message = "Buyer {BuyerId} changed kind from {Previous} to {Current}")]
    private static partial void LogKindChanged(ILogger logger, string buyerId, Kind? previous, Kind current);

    [LoggerMessage(EventId = 42, Level = LogLevel.Warning, Message = "Reclassification round failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
