using Dapper;

namespace Advisor.Server.Storage.Sqlite;

public sealed class SqliteClassificationLogWriter(SqliteDatabase database) : IClassificationLogWriter
{
    public async Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(connection => connection.QueryAsync<ClassificationLogRow>(new CommandDefinition(
            ClassificationLogRow.SelectRecent, new { count }, cancellationToken: cancellationToken)), cancellationToken);
        return rows.Select(r => r.ToEntry()).ToList();
    }

    public Task WriteAsync(IReadOnlyList<ClassificationLogEntry> batch, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => connection.ExecuteAsync(new CommandDefinition(
            "INSERT OR IGNORE INTO classification_log (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version) VALUES (@Id, @Time, @Subject, @Input, @BuyerId, @Kind, @Confidence, @Score, @RuleSetVersion)",
            batch.Select(ClassificationLogRow.Parameters), transaction, cancellationToken: cancellationToken)), cancellationToken);
}
