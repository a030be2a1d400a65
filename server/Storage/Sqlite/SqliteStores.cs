using Dapper;

namespace Advisor.Server.Storage.Sqlite;

public sealed class SqliteFeedbackStore(SqliteDatabase database) : IFeedbackStore
{
    public Task<FeedbackRecord> AddAsync(FeedbackRecord feedback, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (feedback.RequestId is not null)
            {
                var existing = await connection.QuerySingleOrDefaultAsync<FeedbackRow>(new CommandDefinition(
                    $"SELECT {FeedbackRow.Columns} FROM feedback WHERE request_id = @RequestId", new { feedback.RequestId }, transaction, cancellationToken: cancellationToken));
                if (existing is not null)
                {
                    return existing.ToRecord();
                }
            }

            await connection.ExecuteAsync(new CommandDefinition(
                FeedbackRow.Insert,
                FeedbackRow.Parameters(feedback),
                transaction, cancellationToken: cancellationToken));
            return feedback;
        }, cancellationToken);

    public async Task<Page<FeedbackRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<FeedbackRow>(new CommandDefinition(
            $"SELECT {FeedbackRow.Columns} FROM feedback WHERE (@time IS NULL OR (create_time, id) < (@time, @id)) ORDER BY create_time DESC, id DESC LIMIT @limit",
            new { time = after?[0], id = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].CreateTime), items[^1].Id) : "";
        return new Page<FeedbackRecord>(items, next);
    }

}

public sealed class SqliteAuditLog(SqliteDatabase database) : IAuditLog
{
    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(AuditRow.Insert, AuditRow.Parameters(record), transaction, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<Page<AuditRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<AuditRow>(new CommandDefinition(
            "SELECT id, time, actor, action, target, from_version AS FromVersion, detail FROM audit_log WHERE (@time IS NULL OR (time, id) < (@time, @id)) ORDER BY time DESC, id DESC LIMIT @limit",
            new { time = after?[0], id = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].Time), items[^1].Id) : "";
        return new Page<AuditRecord>(items, next);
    }

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
