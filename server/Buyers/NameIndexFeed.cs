using Advisor.Server.Storage;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Buyers;

/// <summary>
/// Keeps <see cref="BuyerNameIndex"/> current from the store's change feed: searches call
/// <see cref="CatchUpAsync"/> first (one indexed query when nothing changed, shared by concurrent searches, so a
/// write is searchable at once), and a background loop follows changes made by other servers sharing the store.
/// </summary>
public sealed partial class NameIndexFeed(IBuyerStore store, BuyerNameIndex index, IOptions<BuyerOptions> options, ILogger<NameIndexFeed> logger) : BackgroundService
{
    private const int PageSize = 5000;
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Catch-ups are numbered as they start (under the gate); _completed is the number of the last one that finished.
    private long _started;
    private long _completed;

    /// <summary>
    /// Applies every change committed before this call. Concurrent callers share the work: a catch-up that started
    /// after this call arrived has read everything committed before it, so when one finished while this call waited for
    /// the gate there is nothing left to read. Why: every search and every named-buyer Ask calls this, and under load
    /// they used to queue for the gate only to run the same query one after another.
    /// </summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        var arrival = Volatile.Read(ref _started);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_completed > arrival)
            {
                return;
            }

            var ticket = Interlocked.Increment(ref _started);
            while (true)
            {
                var changes = await store.ListNameChangesAsync(index.Sequence, PageSize, cancellationToken);
                if (changes.Count > 0)
                {
                    index.Apply(changes);
                }

                if (changes.Count < PageSize)
                {
                    _completed = ticket;
                    return;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.NameIndexPollMs));
        do
        {
            try
            {
                await CatchUpAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Includes the first rounds before migrations have run: the next tick retries.
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Debug, Message = "Name index catch-up failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
