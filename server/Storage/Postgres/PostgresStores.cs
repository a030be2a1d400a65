using Dapper;
using Npgsql;

namespace Advisor.Server.Storage.Postgres;

public sealed class PostgresClassificationLogWriter(PostgresDatabase database) : IClassificationLogWriter
{
    public async Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(connection => connection.QueryAsync<ClassificationLogRow>(new CommandDefinition(
            ClassificationLogRow.SelectRecent, new { count }, cancellationToken: cancellationToken)), cancellationToken);
        return rows.Select(r => r.ToEntry()).ToList();
    }

    public Task WriteAsync(IReadOnlyList<ClassificationLogEntry> batch, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO classification_log (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version) VALUES (@Id, @Time, @Subject, @Input, @BuyerId, @Kind, @Confidence, @Score, @RuleSetVersion) ON CONFLICT (id) DO NOTHING",
            batch.Select(ClassificationLogRow.Parameters), transaction, cancellationToken: cancellationToken)), cancellationToken);
}

public sealed class PostgresFeedbackStore(PostgresDatabase database) : IFeedbackStore
{
    public Task<FeedbackRecord> AddAsync(FeedbackRecord feedback, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            // ON CONFLICT makes a concurrent retry on another server wait for the first insert, then see it.
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                FeedbackRow.Insert + " ON CONFLICT (request_id) DO NOTHING", FeedbackRow.Parameters(feedback), transaction, cancellationToken: cancellationToken));
            if (inserted == 1 || feedback.RequestId is null)
            {
                return feedback;
            }

            return (await connection.QuerySingleAsync<FeedbackRow>(new CommandDefinition(
                $"SELECT {FeedbackRow.Columns} FROM feedback WHERE request_id = @RequestId", new { feedback.RequestId }, transaction, cancellationToken: cancellationToken))).ToRecord();
        }, cancellationToken);

    public async Task<Page<FeedbackRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<FeedbackRow>(new CommandDefinition(
            $"SELECT {FeedbackRow.Columns} FROM feedback WHERE (@time::text IS NULL OR (create_time, id) < (@time::text, @id::text)) ORDER BY create_time DESC, id DESC LIMIT @limit",
            new { time = after?[0], id = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].CreateTime), items[^1].Id) : "";
        return new Page<FeedbackRecord>(items, next);
    }
}

public sealed class PostgresAuditLog(PostgresDatabase database) : IAuditLog
{
    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(AuditRow.Insert, AuditRow.Parameters(record), transaction, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<Page<AuditRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<AuditRow>(new CommandDefinition(
            "SELECT id, time, actor, action, target, from_version AS FromVersion, detail FROM audit_log WHERE (@time::text IS NULL OR (time, id) < (@time::text, @id::text)) ORDER BY time DESC, id DESC LIMIT @limit",
            new { time = after?[0], id = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].Time), items[^1].Id) : "";
        return new Page<AuditRecord>(items, next);
    }
}

public sealed class PostgresKnowledgeVersionStore(PostgresDatabase database) : IKnowledgeVersionStore
{
    public Task RecordAsync(string version, string contentHash, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO knowledge_versions (version, content_hash, loaded_at) VALUES (@version, @contentHash, @now) ON CONFLICT DO NOTHING",
            new { version, contentHash, now = Ids.Timestamp(DateTimeOffset.UtcNow) }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}

public sealed class PostgresStoreHealth(PostgresDatabase database) : IStoreHealth
{
    public async Task<bool> PingAsync(CancellationToken cancellationToken) =>
        await database.ReadAsync(connection => connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken)), cancellationToken) == 1;
}

public sealed class PostgresRuleSetStore(PostgresDatabase database) : IRuleSetStore
{
    public async Task<LiveRuleSetRecord?> GetLiveAsync(CancellationToken cancellationToken) =>
        await database.ReadAsync(async connection =>
        {
            var live = await connection.QuerySingleOrDefaultAsync<(string Version, string Etag)?>(new CommandDefinition(
                "SELECT version, etag FROM live_rule_set WHERE id = 1", cancellationToken: cancellationToken));
            if (live is null)
            {
                return null;
            }

            var row = await connection.QuerySingleAsync<RuleSetRow>(new CommandDefinition(
                $"SELECT {RuleSetRow.Columns} FROM rule_sets WHERE version = @version", new { version = live.Value.Version }, cancellationToken: cancellationToken));
            return new LiveRuleSetRecord(row.ToRecord(), live.Value.Etag);
        }, cancellationToken);

    public async Task<StoredRuleSet?> GetAsync(string version, CancellationToken cancellationToken) =>
        (await database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<RuleSetRow>(new CommandDefinition(
            $"SELECT {RuleSetRow.Columns} FROM rule_sets WHERE version = @version", new { version }, cancellationToken: cancellationToken)), cancellationToken))?.ToRecord();

    public async Task<Page<StoredRuleSet>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<RuleSetRow>(new CommandDefinition(
            $"SELECT {RuleSetRow.Columns} FROM rule_sets WHERE (@time::text IS NULL OR (create_time, version) < (@time::text, @version::text)) ORDER BY create_time DESC, version DESC LIMIT @limit",
            new { time = after?[0], version = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].CreateTime), items[^1].Version) : "";
        return new Page<StoredRuleSet>(items, next);
    }

    public Task<bool> AddDraftAsync(StoredRuleSet draft, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO rule_sets (version, state, source_yaml, content_hash, author, base_version, rule_count, problems_json, backtest_hash, create_time, publish_time) VALUES (@Version, 'draft', @SourceYaml, @ContentHash, @Author, @BaseVersion, @RuleCount, @ProblemsJson, NULL, @CreateTime, NULL) ON CONFLICT (version) DO NOTHING",
                new { draft.Version, draft.SourceYaml, draft.ContentHash, draft.Author, draft.BaseVersion, draft.RuleCount, draft.ProblemsJson, CreateTime = Ids.Timestamp(draft.CreateTime) },
                transaction, cancellationToken: cancellationToken));
            return inserted == 1;
        }, cancellationToken);

    public Task RecordBacktestAsync(string version, string contentHash, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE rule_sets SET backtest_hash = @contentHash WHERE version = @version", new { version, contentHash }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<LiveRuleSetRecord?> SetLiveAsync(string version, string? expectedEtag, AuditRecord audit, CancellationToken cancellationToken)
    {
        try
        {
            return await database.WriteAsync<LiveRuleSetRecord?>(async (connection, transaction) =>
            {
                // FOR UPDATE makes concurrent publishers on any server take turns on the one live row.
                var current = await connection.QuerySingleOrDefaultAsync<(string Version, string Etag)?>(new CommandDefinition(
                    "SELECT version, etag FROM live_rule_set WHERE id = 1 FOR UPDATE", transaction: transaction, cancellationToken: cancellationToken));
                if (current?.Etag != expectedEtag)
                {
                    return null;
                }

                var now = Ids.Timestamp(DateTimeOffset.UtcNow);
                var etag = Guid.NewGuid().ToString("N");
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE rule_sets SET state = 'retired' WHERE state = 'live'", transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE rule_sets SET state = 'live', publish_time = @now WHERE version = @version", new { version, now }, transaction, cancellationToken: cancellationToken));
                // With no live row yet, a plain INSERT lets the unique key pick one winner among concurrent first publishers.
                await connection.ExecuteAsync(new CommandDefinition(
                    current is null
                        ? "INSERT INTO live_rule_set (id, version, etag, changed_at) VALUES (1, @version, @etag, @now)"
                        : "UPDATE live_rule_set SET version = @version, etag = @etag, changed_at = @now WHERE id = 1",
                    new { version, etag, now }, transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(AuditRow.Insert, AuditRow.Parameters(audit with { FromVersion = current?.Version }), transaction, cancellationToken: cancellationToken));
                var row = await connection.QuerySingleAsync<RuleSetRow>(new CommandDefinition(
                    $"SELECT {RuleSetRow.Columns} FROM rule_sets WHERE version = @version", new { version }, transaction, cancellationToken: cancellationToken));
                return new LiveRuleSetRecord(row.ToRecord(), etag);
            }, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Two servers made the first version live at once; the other one won.
            return null;
        }
    }
}
