using Advisor.Server.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Advisor.Server.Hosting;

/// <summary>
/// SERVING once knowledge and rules are loaded and the store answers; what a load balancer should ask.
/// The store's answer is shared for <see cref="StoreAnswerLifetime"/>: balancers and probes may ask thousands of
/// times a second, and a database round trip per question made a health check cost more than a classification.
/// Concurrent checks wait for the same ping, so the store sees at most about one ping per lifetime.
/// </summary>
public sealed class ReadinessHealthCheck(Readiness readiness, IStoreHealth store, TimeProvider time) : IHealthCheck
{
    /// <summary>How long one store answer (healthy or not) stands for every check.</summary>
    public static readonly TimeSpan StoreAnswerLifetime = TimeSpan.FromSeconds(1);

    /// <summary>A ping that does not answer in this time counts as a store that is down.</summary>
    public static readonly TimeSpan StorePingTimeout = TimeSpan.FromSeconds(5);

    private StoreAnswer? _answer;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!readiness.IsReady)
        {
            return HealthCheckResult.Unhealthy("starting");
        }

        var now = time.GetTimestamp();
        var answer = Volatile.Read(ref _answer);
        if (answer is null || (answer.Result.IsCompleted && time.GetElapsedTime(answer.Started, now) >= StoreAnswerLifetime))
        {
            // One caller wins the swap and pings; the others use its answer.
            var fresh = new StoreAnswer(now);
            var seen = Interlocked.CompareExchange(ref _answer, fresh, answer);
            if (ReferenceEquals(seen, answer))
            {
                fresh.Start(PingAsync());
                answer = fresh;
            }
            else
            {
                answer = seen!;
            }
        }

        return await answer.Result.WaitAsync(cancellationToken);
    }

    /// <summary>Not tied to any one caller's cancellation: other checks wait for the same answer.</summary>
    private async Task<HealthCheckResult> PingAsync()
    {
        using var timeout = new CancellationTokenSource(StorePingTimeout, time);
        try
        {
            return await store.PingAsync(timeout.Token) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("store did not answer");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("store did not answer in time");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("store unavailable", ex);
        }
    }

    /// <summary>One store ping and when it started.</summary>
    private sealed class StoreAnswer(long started)
    {
        private readonly TaskCompletionSource<HealthCheckResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Started { get; } = started;

        public Task<HealthCheckResult> Result => _result.Task;

        public void Start(Task<HealthCheckResult> ping) => _ = ping.ContinueWith(
            static (done, state) => ((TaskCompletionSource<HealthCheckResult>)state!).SetResult(
                done.IsCompletedSuccessfully ? done.Result : HealthCheckResult.Unhealthy("store unavailable", done.Exception)),
            _result,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
