using Dapper;

namespace Advisor.Server.Storage.Sqlite;

public sealed class SqliteApiKeyStore(SqliteDatabase database) : IApiKeyStore
{
    public Task<bool> AddAsync(ApiKeyRecord key, AuditRecord audit, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            // OR IGNORE covers the partial unique index on active names: a taken name inserts nothing.
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                ApiKeyRow.Insert.Replace("INSERT INTO", "INSERT OR IGNORE INTO", StringComparison.Ordinal), ApiKeyRow.Parameters(key), transaction, cancellationToken: cancellationToken));
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
            $"SELECT {ApiKeyRow.Columns} FROM api_keys WHERE (@time IS NULL OR (create_time, id) < (@time, @id)) ORDER BY create_time DESC, id DESC LIMIT @limit",
            new { time = after?[0], id = after?[1], limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(Ids.Timestamp(items[^1].CreateTime), items[^1].Id) : "";
        return new Page<ApiKeyRecord>(items, next);
    }

    public Task<ApiKeyRecord?> RevokeAsync(string idOrName, DateTimeOffset now, AuditRecord audit, CancellationToken cancellationToken) =>
        database.WriteAsync<ApiKeyRecord?>(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<ApiKeyRow>(new CommandDefinition(
                ApiKeyRow.SelectRevocable, new { key = idOrName }, transaction, cancellationToken: cancellationToken));
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
