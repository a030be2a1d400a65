using System.Text;
using Advisor.Server.Classification;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// The classification log on SQLite: the same rows as <see cref="SqlClassificationLogWriter"/>, inserted through
/// statements prepared once per connection, <see cref="RowsPerStatement"/> rows to a statement, text bound as UTF-8.
/// Why: every ClassifyBuyer and classifying Ask writes a row, and that row is CPU that Health/Check never pays.
/// Written one row per statement with the text bound as UTF-16, a row cost about 9 µs of CPU (a scratch harness writing
/// batches of 512, docs/benchmarks.md "ClassifyBuyer: what the classification log costs per call"), about a seventh of a
/// profile ClassifyBuyer's server CPU under the load tool: each execution opened and closed cursors on the table and both
/// of its indexes and went through a dozen P/Invoke calls, and SQLite translated every UTF-16 value to UTF-8 itself, a
/// character at a time. Reads are the shared SQL.
/// </summary>
public sealed class SqliteClassificationLogWriter(SqliteDatabase database) : IClassificationLogWriter
{
    /// <summary>Rows per multi-row insert: 32 × 9 = 288 parameters, far below SQLite's limit of 32,766.</summary>
    internal const int RowsPerStatement = 32;

    private const int Columns = 9;

    /// <summary>The shared insert's column list, then <paramref name="rows"/> rows of positional parameters.</summary>
    private static string InsertRows(int rows)
    {
        var insert = SqlClassificationLogWriter.Insert;
        var sql = new StringBuilder(insert[..insert.IndexOf(" VALUES ", StringComparison.Ordinal)]).Append(" VALUES ");
        for (var r = 0; r < rows; r++)
        {
            sql.Append(r == 0 ? "(" : ", (").Append(string.Join(", ", Enumerable.Repeat("?", Columns))).Append(')');
        }

        return sql.Append(" ON CONFLICT (id) DO NOTHING").ToString();
    }

    private static readonly string InsertMany = InsertRows(RowsPerStatement);

    private static readonly string InsertOne = InsertRows(1);

    private readonly SqlClassificationLogWriter _shared = new(database);

    public Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken) =>
        _shared.RecentAsync(count, cancellationToken);

    public Task WriteAsync(IReadOnlyList<ClassificationLogEntry> batch, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, _) =>
        {
            var many = database.Prepared(connection, InsertMany);
            var n = 0;
            for (; n + RowsPerStatement <= batch.Count; n += RowsPerStatement)
            {
                for (var r = 0; r < RowsPerStatement; r++)
                {
                    Bind(many, r * Columns, batch[n + r]);
                }

                many.Execute();
            }

            if (n < batch.Count)
            {
                var one = database.Prepared(connection, InsertOne);
                for (; n < batch.Count; n++)
                {
                    Bind(one, 0, batch[n]);
                    one.Execute();
                }
            }

            return Task.FromResult(batch.Count);
        }, cancellationToken);

    /// <summary>Binds one entry's nine values from parameter <paramref name="offset"/> + 1 on, in the insert's column order.</summary>
    private static void Bind(RawStatement insert, int offset, ClassificationLogEntry e)
    {
        insert.Bind(offset + 1, e.Id);
        insert.Bind(offset + 2, Ids.Timestamp(e.Time));
        insert.Bind(offset + 3, e.Subject);
        insert.Bind(offset + 4, e.Input);
        insert.Bind(offset + 5, e.BuyerId);
        insert.Bind(offset + 6, e.Kind.Name());
        insert.Bind(offset + 7, e.Confidence);
        insert.Bind(offset + 8, e.Score);
        insert.Bind(offset + 9, e.RuleSetVersion);
    }
}
