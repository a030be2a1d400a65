using System.Security.Cryptography;
using System.Text;
using Advisor.Server.Classification;
using Advisor.Server.Storage;

namespace Advisor.Server.Hosting;

/// <summary>
/// Runs before the server accepts calls (hosted services start before Kestrel listens): applies
/// migrations, makes sure a rule set is live (the shipped one on a new database), and loads the
/// live rule set into the snapshot. Marks the server ready for the health check when done.
/// </summary>
public sealed partial class AdvisorInitializer(
    IStoreMigrator migrator,
    IRuleSetStore ruleSets,
    IKnowledgeVersionStore knowledgeVersions,
    SnapshotHolder snapshots,
    Readiness readiness,
    TimeProvider time,
    ILogger<AdvisorInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrator.MigrateAsync(cancellationToken);
        var snapshot = snapshots.Current;
        await knowledgeVersions.RecordAsync(snapshot.Knowledge.Version, Hash(snapshot.Knowledge.Version + snapshot.Knowledge.Topics.Count), cancellationToken);

        var live = await ruleSets.GetLiveAsync(cancellationToken);
        if (live is null)
        {
            var shipped = snapshot.Rules;
            await ruleSets.AddDraftAsync(new StoredRuleSet(
                shipped.Version, RuleSetState.Draft, shipped.SourceYaml, Hash(shipped.SourceYaml), "shipped", null,
                shipped.Rules.Count, null, null, time.GetUtcNow(), null), cancellationToken);
            await ruleSets.SetLiveAsync(shipped.Version, null,
                new AuditRecord(Ids.New("a"), time.GetUtcNow(), "server", "rules.publish", shipped.Version, null, "shipped rule set made live on a new database"),
                cancellationToken);
        }
        else if (live.RuleSet.Version != snapshot.Rules.Version || live.RuleSet.SourceYaml != snapshot.Rules.SourceYaml)
        {
            // The database's live version wins over the shipped file: rule owners published it.
            var compiled = RuleSetCompiler.CompileOrThrow(live.RuleSet.SourceYaml, $"rule set {live.RuleSet.Version} (database)", snapshot.Knowledge);
            snapshots.Publish(compiled);
        }

        readiness.MarkReady();
        LogLoaded(logger, snapshots.Current.Knowledge.Version, snapshots.Current.Knowledge.Topics.Count, snapshots.Current.Rules.Version, snapshots.Current.Rules.Rules.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Loaded knowledge {KnowledgeVersion} ({TopicCount} topics) and rule set {RuleSetVersion} ({RuleCount} rules)")]
    private static partial void LogLoaded(ILogger logger, string knowledgeVersion, int topicCount, string ruleSetVersion, int ruleCount);
}

/// <summary>Whether start-up has finished; read by the health check.</summary>
public sealed class Readiness
{
    private volatile bool _ready;

    public bool IsReady => _ready;

    public void MarkReady() => _ready = true;
}
