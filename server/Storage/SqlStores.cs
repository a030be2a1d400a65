using System.Data;
using System.Data.Common;
using Advisor.Server.Classification;
using Dapper;

namespace Advisor.Server.Storage;

// The stores whose SQL is the same on SQLite and PostgreSQL (ON CONFLICT DO NOTHING and row-value comparisons exist in
// both); where it is not, ISqlDatabase.Dialect says how. The buyer stores stay provider-specific: their import paths
// use each engine's own bulk features.

public sealed class SqlClassificationLogWriter(ISqlDatabase database) : IClassificationLogWriter
{
    /// <summary>
    /// The log row's insert, also used by SQLite's own writer (<see cref="Sqlite.SqliteClassificationLogWriter"/>), which
    /// binds the parameters by position: SQLite numbers named parameters 1, 2, ... in order of first appearance.
    /// </summary>
    internal const string Insert =
        "INSERT INTO classification_log (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version) " +
        "VALUES (@id, @time, @subject, @input, @buyer_id, @kind, @confidence, @score, @rule_set_version) ON CONFLICT (id) DO NOTHING";

    public async Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(connection => connection.QueryAsync<ClassificationLogRow>(new CommandDefinition(
            ClassificationLogRow.SelectRecent, new { count }, cancellationToken: cancellationToken)), cancellationToken);
        return rows.Select(r => r.ToEntry()).ToList();
    }

    /// <summary>
    /// One prepared statement for the whole batch, its parameters created once and only their values set per row.
    /// Why not Dapper's list form: it rebuilds an anonymous parameter object and rebinds every parameter by name for
    /// each row; every ClassifyBuyer call pays for its log row here, so the per-row work is kept to the insert itself
    /// (profiled on SQLite: the Dapper path was about a quarter of the log's CPU).
    /// </summary>
    public Task WriteAsync(IReadOnlyList<ClassificationLogEntry> batch, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Insert;
            var id = Add(command, "id", DbType.String);
            var time = Add(command, "time", DbType.String);
            var subject = Add(command, "subject", DbType.String);
            var input = Add(command, "input", DbType.String);
            var buyerId = Add(command, "buyer_id", DbType.String);
            var kind = Add(command, "kind", DbType.String);
            var confidence = Add(command, "confidence", DbType.Double);
            var score = Add(command, "score", DbType.Double);
            var ruleSetVersion = Add(command, "rule_set_version", DbType.String);
            await command.PrepareAsync(cancellationToken);
            foreach (var e in batch)
            {
                id.Value = e.Id;
                time.Value = Ids.Timestamp(e.Time);
                subject.Value = e.Subject;
                input.Value = e.Input;
                buyerId.Value = (object?)e.BuyerId ?? DBNull.Value;
                kind.Value = e.Kind.Name();
                confidence.Value = e.Confidence;
                score.Value = e.Score;
                ruleSetVersion.Value = e.RuleSetVersion;
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            return batch.Count;
        }, cancellationToken);

    private static DbParameter Add(DbCommand command, string name, DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }
}

public sealed class SqlFeedbackStore(ISqlDatabase database) : IFeedbackStore
{
    public Task<FeedbackRecord> AddAsync(FeedbackRecord feedback, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            // A retry with the same request id inserts nothing and answers what the first call stored; on PostgreSQL a
            // concurrent retry on another server waits for the first insert, then sees it.
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
            $"SELECT {FeedbackRow.Columns} FROM feedback WHERE {SqlPaging.After("create_time", "id")} ORDER BY create_time DESC, id DESC LIMIT @limit",
            SqlPaging.Parameters(after, pageSize), cancellationToken: cancellationToken)), cancellationToken)).ToList();
        return SqlPaging.Page(rows, pageSize, r => r.ToRecord(), r => (r.CreateTime, r.Id));
    }
}

public sealed class SqlAuditLog(ISqlDatabase database) : IAuditLog
{
    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(AuditRow.Insert, AuditRow.Parameters(record), transaction, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<Page<AuditRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<AuditRow>(new CommandDefinition(
            $"SELECT id, time, actor, action, target, from_version AS FromVersion, detail FROM audit_log WHERE {SqlPaging.After("time", "id")} ORDER BY time DESC, id DESC LIMIT @limit",
            SqlPaging.Parameters(after, pageSize), cancellationToken: cancellationToken)), cancellationToken)).ToList();
        return SqlPaging.Page(rows, pageSize, r => r.ToRecord(), r => (r.Time, r.Id));
    }
}

public sealed class SqlKnowledgeVersionStore(ISqlDatabase database) : IKnowledgeVersionStore
{
    public Task RecordAsync(string version, string contentHash, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO knowledge_versions (version, content_hash, loaded_at) VALUES (@version, @contentHash, @now) ON CONFLICT DO NOTHING",
            new { version, contentHash, now = Ids.Timestamp(DateTimeOffset.UtcNow) }, transaction, cancellationToken: cancellationToken)), cancellationToken);
}

public sealed class SqlStoreHealth(ISqlDatabase database) : IStoreHealth
{
    public async Task<bool> PingAsync(CancellationToken cancellationToken) =>
        await database.ReadAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken)), cancellationToken) == 1;
}

public sealed class SqlRuleSetStore(ISqlDatabase database) : IRuleSetStore
{
    private readonly string _columns = database.Dialect.RuleSetColumns;

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
                $"SELECT {_columns} FROM rule_sets WHERE version = @version", new { version = live.Value.Version }, cancellationToken: cancellationToken));
            return new LiveRuleSetRecord(row.ToRecord(), live.Value.Etag);
        }, cancellationToken);

    public async Task<StoredRuleSet?> GetAsync(string version, CancellationToken cancellationToken) =>
        (await database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<RuleSetRow>(new CommandDefinition(
            $"SELECT {_columns} FROM rule_sets WHERE version = @version", new { version }, cancellationToken: cancellationToken)), cancellationToken))?.ToRecord();

    public async Task<Page<StoredRuleSet>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<RuleSetRow>(new CommandDefinition(
            $"SELECT {_columns} FROM rule_sets WHERE {SqlPaging.After("create_time", "version")} ORDER BY create_time DESC, version DESC LIMIT @limit",
            SqlPaging.Parameters(after, pageSize), cancellationToken: cancellationToken)), cancellationToken)).ToList();
        return SqlPaging.Page(rows, pageSize, r => r.ToRecord(), r => (r.CreateTime, r.Version));
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
                // Concurrent publishers (on any server, for PostgreSQL) take turns on the one live row.
                var current = await connection.QuerySingleOrDefaultAsync<(string Version, string Etag)?>(new CommandDefinition(
                    "SELECT version, etag FROM live_rule_set WHERE id = 1" + database.Dialect.ForUpdate, transaction: transaction, cancellationToken: cancellationToken));
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
                    $"SELECT {_columns} FROM rule_sets WHERE version = @version", new { version }, transaction, cancellationToken: cancellationToken));
                return new LiveRuleSetRecord(row.ToRecord(), etag);
            }, cancellationToken);
        }
        catch (Exception ex) when (database.IsUniqueViolation(ex))
        {
            // Two servers made the first version live at once; the other one won.
            return null;
        }
    }
}

public sealed class SqlApiKeyStore(ISqlDatabase database) : IApiKeyStore
{
    public Task<bool> AddAsync(ApiKeyRecord key, AuditRecord audit, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            // ON CONFLICT without a target covers the partial unique index on active names: a taken name inserts nothing.
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                ApiKeyRow.Insert + " ON CONFLICT DO NOTHING", ApiKeyRow.Parameters(key), transaction, cancellationToken: cancellationToken));
            if (inserted == 1)
            {
                await connection.ExecuteAsync(new CommandDefinition(AuditRow.Insert, AuditRow.Parameters(audit), transaction, cancellationToken: cancellationToken));
            }

            return inserted == 1;
        }, cancellationToken);

    public async Task<ApiKeyRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
            $"SELECT {ApiKeyRow.Columns} FROM api_keys WHERE id = @id", new { id }, cancellationToken: cancellationToken)), cancellationToken))?.ToRecord();

    public async Task<Page<ApiKeyRecord>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<ApiKeyRow>(new CommandDefinition(
            $"SELECT {ApiKeyRow.Columns} FROM api_keys WHERE {SqlPaging.After("create_time", "id")} ORDER BY create_time DESC, id DESC LIMIT @limit",
            SqlPaging.Parameters(after, pageSize), cancellationToken: cancellationToken)), cancellationToken)).ToList();
        return SqlPaging.Page(rows, pageSize, r => r.ToRecord(), r => (r.CreateTime, r.Id));
    }

    public Task<ApiKeyRecord?> RevokeAsync(string idOrName, DateTimeOffset now, AuditRecord audit, CancellationToken cancellationToken) =>
        database.WriteAsync<ApiKeyRecord?>(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
                ApiKeyRow.SelectRevocable + database.Dialect.ForUpdate, new { key = idOrName }, transaction, cancellationToken: cancellationToken));
            if (row is null)
            {
                return null;
            }

            var time = Ids.Timestamp(now);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE api_keys SET revoke_time = @time WHERE id = @Id", new { time, row.Id }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(AuditRow.Insert, AuditRow.Parameters(audit with { Target = row.Name + " (" + row.Id + ")" }), transaction, cancellationToken: cancellationToken));
            return (row with { RevokeTime = time }).ToRecord();
        }, cancellationToken);

    public async Task<bool> AnyActiveAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        await database.ReadAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            ApiKeyRow.SelectAnyActive, new { now = Ids.Timestamp(now) }, cancellationToken: cancellationToken)), cancellationToken) > 0;
}

/// <summary>Keyset paging over (time, id) newest first, the same for every list in these stores.</summary>
internal static class SqlPaging
{
    /// <summary>
    /// The WHERE condition: every row when there is no token, else rows strictly before the token's (time, id). The
    /// parameters are cast so PostgreSQL knows their type even when they are NULL.
    /// </summary>
    public static string After(string timeColumn, string idColumn) =>
        $"(CAST(@time AS TEXT) IS NULL OR ({timeColumn}, {idColumn}) < (CAST(@time AS TEXT), CAST(@id AS TEXT)))";

    public static object Parameters(string[]? after, int pageSize) => new { time = after?[0], id = after?[1], limit = pageSize + 1 };

    /// <summary>One more row than the page was read: if it came, the page's last row is where the next page starts.</summary>
    public static Page<TRecord> Page<TRow, TRecord>(List<TRow> rows, int pageSize, Func<TRow, TRecord> toRecord, Func<TRecord, (DateTimeOffset Time, string Id)> key)
    {
        var items = rows.Take(pageSize).Select(toRecord).ToList();
        if (rows.Count <= pageSize)
        {
            return new Page<TRecord>(items, "");
        }

        var (time, id) = key(items[^1]);
        return new Page<TRecord>(items, PageToken.Encode(Ids.Timestamp(time), id));
    }
}
