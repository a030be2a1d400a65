using Advisor.Server.Classification;
using Dapper;

namespace Advisor.Server.Storage.Sqlite;

public sealed class SqliteFeedbackStore(SqliteDatabase database) : IFeedbackStore
{
    private const string Columns = "id, request_id AS RequestId, classification_id AS ClassificationId, buyer_id AS BuyerId, expected_kind AS ExpectedKind, reported_kind AS ReportedKind, comment, channel, user_name AS UserName, create_time AS CreateTime";

    public Task<FeedbackRecord> AddAsync(FeedbackRecord feedback, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (feedback.RequestId is not null)
            {
                var existing = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                    $"SELECT {Columns} FROM feedback WHERE request_id = @RequestId", new { feedback.RequestId }, transaction, cancellationToken: cancellationToken));
                if (existing is not null)
                {
                    return existing.ToRecord();
                }
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO feedback (id, request_id, classification_id, buyer_id, expected_kind, reported_kind, comment, channel, user_name, create_time) VALUES (@Id, @RequestId, @ClassificationId, @BuyerId, @ExpectedKind, @ReportedKind, @Comment, @Channel, @User, @CreateTime)",
                new
                {
                    feedback.Id,
                    feedback.RequestId,
                    feedback.ClassificationId,
                    feedback.BuyerId,
                    ExpectedKind = KindText(feedback.ExpectedKind),
                    ReportedKind = feedback.ReportedKind is { } k ? KindText(k) : null,
                    feedback.Comment,
                    feedback.Channel,
                    feedback.User,
                    CreateTime = Ids.Timestamp(feedback.CreateTime),
                },
                transaction, cancellationToken: cancellationToken));
            return feedback;
        }, cancellationToken);

    public async Task<Page<FeedbackRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM feedback WHERE (@time IS NULL OR (create_time, id) < (@time, @id)) ORDER BY create_time DESC, id DESC LIMIT @limit",
            new { time = after?[0], id = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].CreateTime), items[^1].Id) : "";
        return new Page<FeedbackRecord>(items, next);
    }

    internal static string KindText(Kind kind) => kind.ToString().ToLowerInvariant();

    private sealed record Row(string Id, string? RequestId, string? ClassificationId, string? BuyerId, string ExpectedKind, string? ReportedKind, string? Comment, string? Channel, string? UserName, string CreateTime)
    {
        public FeedbackRecord ToRecord() => new(Id, RequestId, ClassificationId, BuyerId, Enum.Parse<Kind>(ExpectedKind, true),
            ReportedKind is null ? null : Enum.Parse<Kind>(ReportedKind, true), Comment, Channel, UserName, Ids.ParseTimestamp(CreateTime));
    }
}

public sealed class SqliteAuditLog(SqliteDatabase database) : IAuditLog
{
    internal const string InsertSql = "INSERT INTO audit_log (id, time, actor, action, target, from_version, detail) VALUES (@Id, @Time, @Actor, @Action, @Target, @FromVersion, @Detail)";

    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(InsertSql, Parameters(record), transaction, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<Page<AuditRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT id, time, actor, action, target, from_version AS FromVersion, detail FROM audit_log WHERE (@time IS NULL OR (time, id) < (@time, @id)) ORDER BY time DESC, id DESC LIMIT @limit",
            new { time = after?[0], id = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => new AuditRecord(r.Id, Ids.ParseTimestamp(r.Time), r.Actor, r.Action, r.Target, r.FromVersion, r.Detail)).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].Time), items[^1].Id) : "";
        return new Page<AuditRecord>(items, next);
    }

    internal static object Parameters(AuditRecord r) => new { r.Id, Time = Ids.Timestamp(r.Time), r.Actor, r.Action, r.Target, r.FromVersion, r.Detail };

    private sealed record Row(string Id, string Time, string Actor, string Action, string? Target, string? FromVersion, string? Detail);
}

public sealed class SqliteKnowledgeVersionStore(SqliteDatabase database) : IKnowledgeVersionStore
{
    public Task RecordAsync(string version, string contentHash, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT OR IGNORE INTO knowledge_versions (version, content_hash, loaded_at) VALUES (@version, @contentHash, @now)",
            new { version, contentHash, now = Ids.Timestamp(DateTimeOffset.UtcNow) }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}

public sealed class SqliteStoreHealth(SqliteDatabase database) : IStoreHealth
{
    public async Task<bool> PingAsync(CancellationToken cancellationToken) =>
        await database.ReadAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken)), cancellationToken) == 1;
}
