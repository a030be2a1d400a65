using System.Threading.RateLimiting;
using Advisor.Bot.Conversation;

namespace Advisor.Bot.Hosting;

/// <summary>
/// Admits answer work a few at a time, oldest first. With 100 webhooks in flight on two cores, every request used
/// to compete for the thread pool at once, and the pool's per-thread queues run the newest continuation first: most
/// requests finished near the mean, some waited several times as long (p99 4-5× p50). Letting only a few answers run
/// and queueing the rest in arrival order keeps the wait of each close to the mean. The wait counts against the
/// platform's answer budget like the work itself, so a request that queues too long is still acknowledged in time.
/// </summary>
public sealed class AnswerGate : IAsyncDisposable
{
    private readonly ConcurrencyLimiter _limiter;

    public AnswerGate(int concurrent, int queued)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrent, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queued);
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = concurrent,
            QueueLimit = queued,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>
    /// Waits for a turn. The lease is not acquired when the queue is full: the caller must then say it is busy,
    /// never drop the request. Dispose the lease when the work (and its response) is done.
    /// </summary>
    public ValueTask<RateLimitLease> EnterAsync(CancellationToken cancellationToken) => _limiter.AcquireAsync(1, cancellationToken);

    /// <summary>
    /// The answer once this request has its turn, with the turn to end when the answer has been delivered; a busy
    /// reply (and no turn) when too many requests are waiting already, after <paramref name="whenFull"/> has recorded it.
    /// </summary>
    public async Task<(Reply Reply, IDisposable Turn)> AnswerInTurnAsync(
        Func<CancellationToken, Task<Reply>> answer, Action whenFull, CancellationToken cancellationToken)
    {
        var turn = await EnterAsync(cancellationToken);
        if (!turn.IsAcquired)
        {
            turn.Dispose();
            whenFull();
            return (Reply.Busy(), turn);
        }

        try
        {
            return (await answer(cancellationToken), turn);
        }
        catch
        {
            turn.Dispose();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _limiter.DisposeAsync();
}
