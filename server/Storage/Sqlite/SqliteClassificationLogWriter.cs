using Advisor.Server.Classification;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// The classification log on SQLite: the same rows as <see cref="SqlClassificationLogWriter"/>, inserted through one
/// <see cref="RawStatement"/> per batch. Why: every ClassifyBuyer and Ask classification writes a row, and with batches
/// gathered the per-row <see cref="Microsoft.Data.Sqlite.SqliteCommand"/> execution (a data reader per row, parameter
/// binding by type dispatch, a UTF-8 copy per text value) was the larger half of the writer's CPU, about 4 % of a
/// ClassifyBuyer call's server CPU under the load tool (perf, docs/benchmarks.md "ClassifyBuyer views"). Reads are the
/// shared SQL.
/// </summary>
public sealed class SqliteClassificationLogWriter(SqliteDatabase database) : IClassificationLogWriter
{
    private readonly SqlClassificationLogWriter _shared = new(database);

    public Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken) =>
        _shared.RecentAsync(count, cancellationToken);

    public Task WriteAsync(IReadOnlyList<ClassificationLogEntry> batch, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, _) =>
        {
            // The shared insert; its named parameters are numbered in the order they appear, which is the order bound below.
            using var insert = new RawStatement(connection, SqlClassificationLogWriter.Insert);
            foreach (var e in batch)
            {
                insert.Bind(1, e.Id);
                insert.Bind(2, Ids.Timestamp(e.Time));
                insert.Bind(3, e.Subject);
                insert.Bind(4, e.Input);
                insert.Bind(5, e.BuyerId);
                insert.Bind(6, e.Kind.Name());
                insert.Bind(7, e.Confidence);
                insert.Bind(8, e.Score);
                insert.Bind(9, e.RuleSetVersion);
                insert.Execute();
            }

            return Task.FromResult(batch.Count);
        }, cancellationToken);
}
