using Advisor.Server.Classification;

namespace Advisor.Server.Storage;

// The store interfaces the domain needs. The SQLite implementations live in Storage/Sqlite;
// a server database implements the same interfaces and passes the same tests.

/// <summary>One classification, as kept in the classification log.</summary>
public sealed record ClassificationLogEntry(
    string Id,
    DateTimeOffset Time,
    string Subject,
    string Input,
    string? BuyerId,
    Kind Kind,
    double Confidence,
    double Score,
    string RuleSetVersion);

/// <summary>
/// The classification log. Appends are queued and written in batches off the request path:
/// a log line is diagnostic data, so a crash may lose the last few milliseconds of it, never a user's write.
/// </summary>
public interface IClassificationLog
{
    void Append(ClassificationLogEntry entry);

    Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken);

    /// <summary>Writes everything queued so far; returns once it is committed.</summary>
    Task FlushAsync(CancellationToken cancellationToken);
}

/// <summary>A person's judgement of a classification.</summary>
public sealed record FeedbackRecord(
    string Id,
    string? RequestId,
    string? ClassificationId,
    string? BuyerId,
    Kind ExpectedKind,
    Kind? ReportedKind,
    string? Comment,
    string? Channel,
    string? User,
    DateTimeOffset CreateTime);

public interface IFeedbackStore
{
    /// <summary>Stores feedback; a second call with the same request id returns the first record.</summary>
    Task<FeedbackRecord> AddAsync(FeedbackRecord feedback, CancellationToken cancellationToken);

    Task<Page<FeedbackRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken);
}

/// <summary>An entry of the audit log.</summary>
public sealed record AuditRecord(string Id, DateTimeOffset Time, string Actor, string Action, string? Target, string? FromVersion, string? Detail);

public interface IAuditLog
{
    Task AppendAsync(AuditRecord record, CancellationToken cancellationToken);

    Task<Page<AuditRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken);
}

public enum RuleSetState
{
    Draft,
    Live,
    Retired,
}

/// <summary>A stored rule set version.</summary>
public sealed record StoredRuleSet(
    string Version,
    RuleSetState State,
    string SourceYaml,
    string ContentHash,
    string Author,
    string? BaseVersion,
    int RuleCount,
    string? ProblemsJson,
    string? BacktestHash,
    DateTimeOffset CreateTime,
    DateTimeOffset? PublishTime);

/// <summary>The live rule set and the etag that guards changes to it.</summary>
public sealed record LiveRuleSetRecord(StoredRuleSet RuleSet, string Etag);

public interface IRuleSetStore
{
    Task<LiveRuleSetRecord?> GetLiveAsync(CancellationToken cancellationToken);

    Task<StoredRuleSet?> GetAsync(string version, CancellationToken cancellationToken);

    Task<Page<StoredRuleSet>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>Stores a new version as a draft; false when the version already exists.</summary>
    Task<bool> AddDraftAsync(StoredRuleSet draft, CancellationToken cancellationToken);

    Task RecordBacktestAsync(string version, string contentHash, CancellationToken cancellationToken);

    /// <summary>
    /// Makes <paramref name="version"/> live if the live etag is still <paramref name="expectedEtag"/>
    /// (null: only when nothing is live yet). Atomic; returns the new live record, or null when the etag did not match.
    /// </summary>
    Task<LiveRuleSetRecord?> SetLiveAsync(string version, string? expectedEtag, AuditRecord audit, CancellationToken cancellationToken);
}

/// <summary>Records which knowledge versions the server has served.</summary>
public interface IKnowledgeVersionStore
{
    Task RecordAsync(string version, string contentHash, CancellationToken cancellationToken);
}

/// <summary>Answers whether the store is reachable (for health checks).</summary>
public interface IStoreHealth
{
    Task<bool> PingAsync(CancellationToken cancellationToken);
}
