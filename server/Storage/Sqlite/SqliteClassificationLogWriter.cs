using System.Text;
using Advisor.Server.Classification;
using Dapper;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// The classification log on SQLite: the same rows as <see cref="SqlClassificationLogWriter"/>, inserted through
/// statements prepared once per connection, <see cref="RowsPerStatement"/> rows to a statement, text bound as UTF-8.
/// Why: every ClassifyBuyer and classifying Ask writes a row, and that row is CPU that Health/Check never pays.
/// Written one row per statement with the text bound as UTF-16, a row cost about 9 µs of CPU (a scratch harness writing
/// batches of 512, docs/benchmarks.md "ClassifyBuyer: what the classification log costs per call"), about a seventh of a
/// profile ClassifyBuyer's server CPU under the load tool: each execution opened and closed cursors on the table and both
/// of its indexes and went through a dozen P/Invoke calls, and SQLite translated every UTF-16 value to UTF-8 itself, a
/// character at a time. Reads are the shared SQL. The batched log hands it the entries' queued UTF-8 bytes
/// (<see cref="IEncodedClassificationLogWriter"/>), which are bound as they are.
/// </summary>
public sealed class SqliteClassificationLogWriter(SqliteDatabase database) : IClassificationLogWriter, IEncodedClassificationLogWriter
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

    /// <summary>The shared query (<see cref="ClassificationLogRow.SelectRecent"/>) over SQLite's integer time (migration 008).</summary>
    private const string SelectRecent =
        "SELECT id, time, subject, input, buyer_id AS BuyerId, kind, confidence, score, rule_set_version AS RuleSetVersion FROM classification_log ORDER BY time DESC, id DESC LIMIT @count";

    public async Task<IReadOnlyList<ClassificationLogEntry>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(connection => connection.QueryAsync<Row>(new CommandDefinition(
            SelectRecent, new { count }, cancellationToken: cancellationToken)), cancellationToken);
        return rows.Select(r => r.ToEntry()).ToList();
    }

    /// <summary>
    /// The time as SQLite keeps it (migration 008): 100 ns units since 1970-01-01 UTC. Why an integer: it is bound as it
    /// is, where the text was formatted per row, and its index entries are a few bytes instead of 28.
    /// </summary>
    internal static long StoredTime(long utcTicks) => utcTicks - DateTime.UnixEpoch.Ticks;

    private sealed record Row(string Id, long Time, string Subject, string Input, string? BuyerId, string Kind, double Confidence, double Score, string RuleSetVersion)
    {
        public ClassificationLogEntry ToEntry() =>
            new(Id, new DateTimeOffset(DateTime.UnixEpoch.Ticks + Time, TimeSpan.Zero), Subject, Input, BuyerId,
                Enum.Parse<Kind>(Kind, ignoreCase: true), Confidence, Score, RuleSetVersion);
    }

    /// <summary>Entries given as objects (not through the batched log) are encoded as the queue would keep them.</summary>
    public Task WriteAsync(IReadOnlyList<ClassificationLogEntry> batch, CancellationToken cancellationToken)
    {
        var encoded = new ClassificationLogBatch(batch.Sum(EncodedClassificationLogEntry.MaxEncodedSize));
        foreach (var entry in batch)
        {
            encoded.Add(entry);
        }

        return WriteAsync(encoded, cancellationToken);
    }

    Task IEncodedClassificationLogWriter.WriteAsync(ClassificationLogBatch batch, CancellationToken cancellationToken) =>
        WriteAsync(batch, cancellationToken);

    private Task WriteAsync(ClassificationLogBatch batch, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, _) =>
        {
            var many = database.Prepared(connection, InsertMany);
            var inMany = batch.Count / RowsPerStatement * RowsPerStatement;
            var n = 0;
            foreach (var entry in batch)
            {
                if (n < inMany)
                {
                    var row = n % RowsPerStatement;
                    Bind(many, row * Columns, entry);
                    if (row == RowsPerStatement - 1)
                    {
                        many.ExecuteAndClearBindings();
                    }
                }
                else
                {
                    var one = database.Prepared(connection, InsertOne);
                    Bind(one, 0, entry);
                    one.ExecuteAndClearBindings();
                }

                n++;
            }

            return Task.FromResult(batch.Count);
        }, cancellationToken);

    /// <summary>The kinds' names as UTF-8, by the kind's number, pinned for <see cref="RawStatement.BindPinned(int, ReadOnlySpan{byte})"/>.</summary>
    private static readonly byte[][] KindNames = Enum.GetValues<Kind>().OrderBy(k => (int)k).Select(k => Pinned(k.Name())).ToArray();

    private static byte[] Pinned(string text)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(Encoding.UTF8.GetByteCount(text), pinned: true);
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>
    /// Binds one entry's nine values from parameter <paramref name="offset"/> + 1 on, in the insert's column order. The
    /// texts are the batch's own bytes, which are pinned, and stay bound until the statement has run.
    /// </summary>
    private static void Bind(RawStatement insert, int offset, EncodedClassificationLogEntry e)
    {
        Text(insert, offset + 1, e.Id);
        insert.BindPinned(offset + 2, StoredTime(e.UtcTicks));
        Text(insert, offset + 3, e.Subject);
        Text(insert, offset + 4, e.Input);
        Text(insert, offset + 5, e.BuyerId);
        var kind = e.Kind;
        if ((uint)kind < (uint)KindNames.Length)
        {
            insert.BindPinned(offset + 6, KindNames[(int)kind]);
        }
        else
        {
            // A number Kind does not name (never written by the server): its text is bound as a copy.
            insert.Bind(offset + 6, kind.Name());
        }

        insert.BindPinned(offset + 7, e.Confidence);
        insert.BindPinned(offset + 8, e.Score);
        Text(insert, offset + 9, e.RuleSetVersion);
    }

    private static void Text(RawStatement insert, int index, EncodedClassificationLogEntry.Text text)
    {
        if (text.IsNull)
        {
            insert.BindPinnedNull(index);
        }
        else
        {
            insert.BindPinned(index, text.Utf8);
        }
    }
}
