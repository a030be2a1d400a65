using Advisor.Server.Classification;
using Advisor.Server.Storage;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Rules;

/// <summary>How often each server checks the store for a rule set published elsewhere (section <c>Rules</c>).</summary>
public sealed class RuleSetWatchOptions
{
    public const string Section = "Rules";

    /// <summary>Polling interval; a publish on one server is live on every server within about this long.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Keeps this server's snapshot on the rule set that is live in the shared store. Several servers
/// behind a load balancer hold no rule state of their own: whichever one publishes, the others see
/// the new version within one polling interval. Polling one row keeps it provider-neutral.
/// </summary>
public sealed partial class LiveRuleSetWatcher(
    IRuleSetStore store,
    SnapshotHolder snapshots,
    IOptions<RuleSetWatchOptions> options,
    ILogger<LiveRuleSetWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SyncAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSyncFailed(logger, ex);
            }
        }
    }

    /// <summary>Loads the store's live rule set into the snapshot if it differs from the one in use.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var live = await store.GetLiveAsync(cancellationToken);
        var current = snapshots.Current;
        if (live is null || (live.RuleSet.Version == current.Rules.Version && live.RuleSet.SourceYaml == current.Rules.SourceYaml))
        {
            return;
        }

        var compiled = RuleSetCompiler.Compile(live.RuleSet.SourceYaml, $"rule set {live.RuleSet.Version}", current.Knowledge);
        if (compiled.RuleSet is null)
        {
            LogInvalidLive(logger, live.RuleSet.Version, compiled.Problems.Count);
            return;
        }

        snapshots.Publish(compiled.RuleSet);
        LogAdopted(logger, live.RuleSet.Version, current.Rules.Version);
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Rule set {Version} is live (was {Previous}), published through the shared store")]
    private static partial void LogAdopted(ILogger logger, string version, string previous);

    [LoggerMessage(EventId = 31, Level = LogLevel.Error, Message = "The live rule set {Version} in the store does not compile ({Count} problems); keeping the current one")]
    private static partial void LogInvalidLive(ILogger logger, string version, int count);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "Could not check the store for a newer rule set")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);
}
