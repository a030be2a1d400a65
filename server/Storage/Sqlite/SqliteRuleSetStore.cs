using Dapper;

namespace Advisor.Server.Storage.Sqlite;

public sealed class SqliteRuleSetStore(SqliteDatabase database) : IRuleSetStore
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
                $"SELECT {RuleSetRow.SqliteColumns} FROM rule_sets WHERE version = @version", new { version = live.Value.Version }, cancellationToken: cancellationToken));
            return new LiveRuleSetRecord(row.ToRecord(), live.Value.Etag);
        }, cancellationToken);

    public async Task<StoredRuleSet?> GetAsync(string version, CancellationToken cancellationToken) =>
        (await database.ReadAsync(connection => connection.QuerySingleOrDefaultAsync<RuleSetRow>(new CommandDefinition(
            $"SELECT {RuleSetRow.SqliteColumns} FROM rule_sets WHERE version = @version", new { version }, cancellationToken: cancellationToken)), cancellationToken))?.ToRecord();

    public async Task<Page<StoredRuleSet>> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<RuleSetRow>(new CommandDefinition(
            $"SELECT {RuleSetRow.SqliteColumns} FROM rule_sets WHERE (@time IS NULL OR (create_time, version) < (@time, @version)) ORDER BY create_time DESC, version DESC LIMIT @limit",
            new { time = after?[0], version = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].CreateTime), items[^1].Version) : "";
        return new Page<StoredRuleSet>(items, next);
    }

    public Task<bool> AddDraftAsync(StoredRuleSet draft, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT OR IGNORE INTO rule_sets (version, state, source_yaml, content_hash, author, base_version, rule_count, problems_json, backtest_hash, create_time, publish_time) VALUES (@Version, 'draft', @SourceYaml, @ContentHash, @Author, @BaseVersion, @RuleCount, @ProblemsJson, NULL, @CreateTime, NULL)",
                new { draft.Version, draft.SourceYaml, draft.ContentHash, draft.Author, draft.BaseVersion, draft.RuleCount, draft.ProblemsJson, CreateTime = Ids.Timestamp(draft.CreateTime) },
                transaction, cancellationToken: cancellationToken));
            return inserted == 1;
        }, cancellationToken);

    public Task RecordBacktestAsync(string version, string contentHash, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "UPDATE rule_sets SET backtest_hash = @contentHash WHERE version = @version", new { version, contentHash }, transaction, cancellationToken: cancellationToken)), cancellationToken);

    public Task<LiveRuleSetRecord?> SetLiveAsync(string version, string? expectedEtag, AuditRecord audit, CancellationToken cancellationToken) =>
        database.WriteAsync<LiveRuleSetRecord?>(async (connection, transaction) =>
        {
            var current = await connection.QuerySingleOrDefaultAsync<(string Version, string Etag)?>(new CommandDefinition(
                "SELECT version, etag FROM live_rule_set WHERE id = 1", transaction: transaction, cancellationToken: cancellationToken));
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
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO live_rule_set (id, version, etag, changed_at) VALUES (1, @version, @etag, @now) ON CONFLICT (id) DO UPDATE SET version = excluded.version, etag = excluded.etag, changed_at = excluded.changed_at",
                new { version, etag, now }, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(AuditRow.Insert, AuditRow.Parameters(audit with { FromVersion = current?.Version }), transaction, cancellationToken: cancellationToken));
            var row = await connection.QuerySingleAsync<RuleSetRow>(new CommandDefinition(
                $"SELECT {RuleSetRow.SqliteColumns} FROM rule_sets WHERE version = @version", new { version }, transaction, cancellationToken: cancellationToken));
            return new LiveRuleSetRecord(row.ToRecord(), etag);
        }, cancellationToken);
}
