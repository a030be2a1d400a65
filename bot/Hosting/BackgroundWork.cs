using System.Collections.Concurrent;

namespace Advisor.Bot.Hosting;

/// <summary>
/// Work that outlives the HTTP request that started it (answers delivered after the platform's 3-second
/// acknowledgement). Runs on the thread pool, logs failures, and is given the host's shutdown time to finish.
/// </summary>
public sealed class BackgroundWork(ILogger<BackgroundWork> logger) : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the host stops; pass it to work that must not be tied to a request.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public void Run(string what, Func<CancellationToken, Task> work)
    {
        var task = Task.Run(
            async () =>
            {
                try
                {
                    await work(_stopping.Token);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    logger.LogInformation("Background work {What} cancelled by shutdown", what);
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Background work {What} failed", what);
                }
            },
            CancellationToken.None);
        _running.TryAdd(task, 0);
        _ = task.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Let answers in flight be delivered, within the host's shutdown timeout.
            await Task.WhenAll(_running.Keys).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await _stopping.CancelAsync();
        }
    }

    public void Dispose() => _stopping.Dispose();
}
