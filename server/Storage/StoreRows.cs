using Advisor.Server.Classification;

namespace Advisor.Server.Storage;

// Rows as both providers store them. Times are ISO-8601 UTC text (Ids.Timestamp), which sorts
// correctly as text, so the same SQL and the same mapping serve SQLite and PostgreSQL.

internal sealed record FeedbackRow(string Id, string? RequestId, string? ClassificationId, string? BuyerId, string ExpectedKind, string? ReportedKind, string? Comment, string? Channel, string? UserName, string CreateTime)
{
    public const string Columns = "id, request_id AS RequestId, classification_id AS ClassificationId, buyer_id AS BuyerId, expected_kind AS ExpectedKind, reported_kind AS ReportedKind, comment, channel, user_name AS UserName, create_time AS CreateTime";

    public const string Insert = "INSERT INTO feedback (id, request_id, classification_id, buyer_id, expected_kind, reported_kind, comment, channel, user_name, create_time) VALUES (@Id, @RequestId, @ClassificationId, @BuyerId, @ExpectedKind, @ReportedKind, @Comment, @Channel, @User, @CreateTime)";

    public FeedbackRecord ToRecord() => new(Id, RequestId, ClassificationId, BuyerId, Enum.Parse<Kind>(ExpectedKind, true),
        ReportedKind is null ? null : Enum.Parse<Kind>(ReportedKind, true), Comment, Channel, UserName, Ids.ParseTimestamp(CreateTime));

    public static object Parameters(FeedbackRecord f) => new
    {
        f.Id,
        f.RequestId,
        f.ClassificationId,
        f.BuyerId,
        ExpectedKind = f.ExpectedKind.ToString().ToLowerInvariant(),
        ReportedKind = f.ReportedKind?.ToString().ToLowerInvariant(),
        f.Comment,
        f.Channel,
        f.User,
        CreateTime = Ids.Timestamp(f.CreateTime),
    };
}

internal sealed record AuditRow(string Id, string Time, string Actor, string Action, string? Target, string? FromVersion, string? Detail)
{
    public const string Insert = "INSERT INTO audit_log (id, time, actor, action, target, from_version, detail) VALUES (@Id, @Time, @Actor, @Action, @Target, @FromVersion, @Detail)";

    public AuditRecord ToRecord() => new(Id, Ids.ParseTimestamp(Time), Actor, Action, Target, FromVersion, Detail);

    public static object Parameters(AuditRecord r) => new { r.Id, Time = Ids.Timestamp(r.Time), r.Actor, r.Action, r.Target, r.FromVersion, r.Detail };
}

internal sealed record RuleSetRow(string Version, string State, string SourceYaml, string ContentHash, string Author, string? BaseVersion, long RuleCount, string? ProblemsJson, string? BacktestHash, string CreateTime, string? PublishTime)
{
    /// <summary>rule_count is cast so both providers return a 64-bit integer.</summary>
    public const string Columns = "version, state, source_yaml AS SourceYaml, content_hash AS ContentHash, author, base_version AS BaseVersion, CAST(rule_count AS BIGINT) AS RuleCount, problems_json AS ProblemsJson, backtest_hash AS BacktestHash, create_time AS CreateTime, publish_time AS PublishTime";

    /// <summary>
    /// The same for SQLite, whose INTEGER is 64-bit already. A CAST there has no declared type, so a query that finds
    /// no rows reports the column as a BLOB and Dapper cannot map it: an empty page failed with INTERNAL.
    /// </summary>
    public const string SqliteColumns = "version, state, source_yaml AS SourceYaml, content_hash AS ContentHash, author, base_version AS BaseVersion, rule_count AS RuleCount, problems_json AS ProblemsJson, backtest_hash AS BacktestHash, create_time AS CreateTime, publish_time AS PublishTime";

    public StoredRuleSet ToRecord() => new(Version, Enum.Parse<RuleSetState>(State, true), SourceYaml, ContentHash, Author, BaseVersion, (int)RuleCount,
        ProblemsJson, BacktestHash, Ids.ParseTimestamp(CreateTime), PublishTime is null ? null : Ids.ParseTimestamp(PublishTime));
}

/// <summary>A classification log row as both providers store it.</summary>
internal sealed record ClassificationLogRow(string Id, string Time, string Subject, string Input, string? BuyerId, string Kind, double Confidence, double Score, string RuleSetVersion)
{
    public const string SelectRecent =
        "SELECT id, time, subject, input, buyer_id AS BuyerId, kind, confidence, score, rule_set_version AS RuleSetVersion FROM classification_log ORDER BY time DESC, id DESC LIMIT @count";

    public ClassificationLogEntry ToEntry() =>
        new(Id, Ids.ParseTimestamp(Time), Subject, Input, BuyerId, Enum.Parse<Kind>(Kind, ignoreCase: true), Confidence, Score, RuleSetVersion);
}
