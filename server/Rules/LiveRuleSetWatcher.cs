using Advisor.Server.Classification;
using Advisor.Server.Hosting;
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
/// <remarks>
/// Compiling a rule set generates and jits its pattern matchers, which takes seconds; done at the moment of
/// the switch it would keep the other servers on the old version that long. So a second loop compiles the
/// newest drafts ahead of time (a draft is stored, backtested, then published), and the switch to a prepared
/// version is a dictionary lookup and one reference swap.
/// </remarks>
public sealed partial class LiveRuleSetWatcher(
    IRuleSetStore store,
    SnapshotHolder snapshots,
    IOptions<RuleSetWatchOptions> options,
    ILogger<LiveRuleSetWatcher> logger) : BackgroundService
{
    /// <summary>Drafts older than this are not compiled ahead: they are unlikely to be published now.</summary>
    private static readonly TimeSpan DraftAge = TimeSpan.FromDays(1);

    private const int PreparedLimit = 4;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CompiledRuleSet> _prepared = new(StringComparer.Ordinal);
    private long _compiledAtSwitch;

    /// <summary>How many switches had to compile the new version first (it had not been prepared as a draft).</summary>
    public long CompiledAtSwitch => Interlocked.Read(ref _compiledAtSwitch);

    /// <summary>Whether the rule set with this source is compiled and ready for an instant switch.</summary>
    public bool IsPrepared(string sourceYaml) => _prepared.ContainsKey(AdvisorInitializer.Hash(sourceYaml));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var prepare = Task.Run(() => PrepareLoopAsync(stoppingToken), stoppingToken);
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

        await prepare;
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

        if (!_prepared.TryRemove(AdvisorInitializer.Hash(live.RuleSet.SourceYaml), out var ready))
        {
            Interlocked.Increment(ref _compiledAtSwitch);
            var compiled = RuleSetCompiler.Compile(live.RuleSet.SourceYaml, $"rule set {live.RuleSet.Version}", current.Knowledge);
            if (compiled.RuleSet is null)
            {
                LogInvalidLive(logger, live.RuleSet.Version, compiled.Problems.Count);
                return;
            }

            ready = compiled.RuleSet;
        }

        snapshots.Publish(ready);
        LogAdopted(logger, live.RuleSet.Version, current.Rules.Version);
    }

    /// <summary>Compiles the newest drafts that are not compiled yet, so publishing one switches at once.</summary>
    public async Task PrepareDraftsAsync(CancellationToken cancellationToken)
    {
        var recent = await store.ListAsync(PreparedLimit, null, cancellationToken);
        foreach (var draft in recent.Items.Where(r => r.State == RuleSetState.Draft && r.CreateTime > DateTimeOffset.UtcNow - DraftAge))
        {
            var key = AdvisorInitializer.Hash(draft.SourceYaml);
            if (_prepared.ContainsKey(key))
            {
                continue;
            }

            var compiled = RuleSetCompiler.Compile(draft.SourceYaml, $"rule set {draft.Version}", snapshots.Current.Knowledge);
            if (compiled.RuleSet is null)
            {
                continue;
            }

            if (_prepared.Count >= PreparedLimit)
            {
                _prepared.Clear();
            }

            _prepared[key] = compiled.RuleSet;
        }
    }

    private async Task PrepareLoopAsync(CancellationToken stoppingToken)
    {
        // Every few polls: drafts wait through a backtest before they are published, so this is early enough.
        using var timer = new PeriodicTimer(options.Value.PollInterval * 4);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await PrepareDraftsAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPrepareFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Rule set {Version} is live (was {Previous}), published through the shared store")]
    private static partial void LogAdopted(ILogger logger, string version, string previous);

    [LoggerMessage(EventId = 31, Level = LogLevel.Error, Message = "The live rule set {Version} in the store does not compile ({Count} problems); keeping the current one")]
    private static partial void LogInvalidLive(ILogger logger, string version, int count);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "Could not check the store for a newer rule set")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 33, Level = LogLevel.Warning, Message = "Could not compile the newest drafts ahead of publishing")]
    private static partial void LogPrepareFailed(ILogger logger, Exception exception);
}
