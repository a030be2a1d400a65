using System.Globalization;
using Advisor.Server.Storage.Sqlite;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Advisor.Server.Storage.Postgres;

/// <summary>Rows of one table on each side after a copy.</summary>
public sealed record TableCount(string Table, long SourceRows, long TargetRows)
{
    public bool Matches => SourceRows == TargetRows;
}

/// <summary>How a copy ended.</summary>
public enum CopyOutcome
{
    /// <summary>Every table was copied and every count matches.</summary>
    Copied,

    /// <summary>The target already has rows in tables the copy would fill; nothing was written.</summary>
    TargetNotEmpty,

    /// <summary>A table or column of the SQLite file has no place in the PostgreSQL schema; nothing was written.</summary>
    SchemaMismatch,

    /// <summary>The copy ran but the counts differ; the transaction was rolled back.</summary>
    CountsDiffer,
}

public sealed record CopyReport(CopyOutcome Outcome, IReadOnlyList<TableCount> Counts, IReadOnlyList<string> Problems);

/// <summary>
/// Copies every table of an Advisor SQLite database into an Advisor PostgreSQL database.
/// </summary>
/// <remarks>
/// Nothing here names a table: the tables, their columns and the order their foreign keys need are read
/// from the SQLite schema, and each column is written as the type the PostgreSQL migration gave it. A
/// feature that adds tables to both providers' migrations is copied without touching this class.
/// Both sides are migrated first, so they have the same tables. The SQLite side is read in one read
/// transaction (a consistent snapshot, even if a server is still writing); the PostgreSQL side is written
/// with binary COPY in one transaction and the row counts are compared before it commits, so a failed or
/// interrupted copy leaves the target as empty as it was and can simply be run again.
/// </remarks>
public sealed class SqliteToPostgresCopy(SqliteDatabase source, PostgresDatabase target, ILoggerFactory loggers)
{
    /// <summary>Bookkeeping of each side, not data: each side keeps its own.</summary>
    private static readonly HashSet<string> NotCopied = new(StringComparer.Ordinal) { "schema_migrations" };

    private const int ProgressEvery = 10_000;

    /// <summary>Runs the copy; <paramref name="progress"/> hears (table, rows so far) as rows stream.</summary>
    public async Task<CopyReport> RunAsync(IProgress<(string Table, long Rows)>? progress, CancellationToken cancellationToken)
    {
        await new SqliteMigrator(source, loggers.CreateLogger<SqliteMigrator>()).MigrateAsync(cancellationToken);
        // The portable_* views read the folded per-type totals and marks (SQLite migration 006): fold what an import left pending.
        await SqliteBuyerStore.FoldPendingAsync(source, int.MaxValue, cancellationToken);
        await new PostgresMigrator(target, loggers.CreateLogger<PostgresMigrator>()).MigrateAsync(cancellationToken);

        await using var sqlite = await source.OpenAsync(cancellationToken);
        // A deferred transaction takes no write lock; its first read fixes the snapshot every later read sees.
        await using var snapshot = sqlite.BeginTransaction(deferred: true);
        var tables = await SourceTablesAsync(sqlite, snapshot, cancellationToken);

        await using var postgres = await target.OpenAsync(cancellationToken);
        var targetColumns = await TargetColumnsAsync(postgres, cancellationToken);
        var problems = new List<string>();
        foreach (var table in tables)
        {
            if (!targetColumns.TryGetValue(Portable(table.Name), out var columns) && !targetColumns.TryGetValue(table.Name, out columns))
            {
                problems.Add($"table {table.Name} has no table in the PostgreSQL schema");
                continue;
            }

            problems.AddRange(table.Columns.Where(c => !columns.ContainsKey(c)).Select(c => $"column {table.Name}.{c} has no column in the PostgreSQL schema"));
            problems.AddRange(table.Columns.Where(columns.ContainsKey).Where(c => TypeOf(columns[c]) is null)
                .Select(c => $"column {table.Name}.{c} has PostgreSQL type {columns[c]}, which the copy cannot write"));
        }

        if (problems.Count > 0)
        {
            return new CopyReport(CopyOutcome.SchemaMismatch, [], problems);
        }

        await using var transaction = await postgres.BeginTransactionAsync(cancellationToken);
        foreach (var table in tables)
        {
            if (await postgres.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT EXISTS (SELECT 1 FROM {Quote(table.Name)})", transaction: transaction, cancellationToken: cancellationToken)))
            {
                problems.Add($"table {table.Name} already has rows");
            }
        }

        if (problems.Count > 0)
        {
            return new CopyReport(CopyOutcome.TargetNotEmpty, [], problems);
        }

        var counts = new List<TableCount>();
        // A table written through its PostgreSQL view looks up rows of other tables (a buyer's key), so it goes last.
        foreach (var table in tables.OrderBy(t => targetColumns.ContainsKey(Portable(t.Name))))
        {
            var into = targetColumns.ContainsKey(Portable(table.Name)) ? Portable(table.Name) : table.Name;
            var copied = await CopyTableAsync(sqlite, snapshot, postgres, table, into, targetColumns[into], progress, cancellationToken);
            await ResetSequencesAsync(postgres, transaction, table, targetColumns[table.Name], cancellationToken);
            var sourceRows = await sqlite.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM {Quote(table.Name)}", transaction: snapshot, cancellationToken: cancellationToken));
            var targetRows = await postgres.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM {Quote(table.Name)}", transaction: transaction, cancellationToken: cancellationToken));
            counts.Add(new TableCount(table.Name, sourceRows, targetRows));
            if (copied != sourceRows)
            {
                problems.Add($"table {table.Name}: read {copied} rows but the source has {sourceRows}");
            }
        }

        if (problems.Count > 0 || counts.Any(c => !c.Matches))
        {
            await transaction.RollbackAsync(cancellationToken);
            return new CopyReport(CopyOutcome.CountsDiffer, counts, problems);
        }

        await transaction.CommitAsync(cancellationToken);

        // Count again from a new session: what a server starting on this database will see.
        await using var check = await target.OpenAsync(cancellationToken);
        var committed = new List<TableCount>();
        foreach (var count in counts)
        {
            var rows = await check.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM {Quote(count.Table)}", cancellationToken: cancellationToken));
            committed.Add(count with { TargetRows = rows });
        }

        return new CopyReport(committed.All(c => c.Matches) ? CopyOutcome.Copied : CopyOutcome.CountsDiffer, committed, []);
    }

    /// <summary>A table to copy; its rows are read from <see cref="From"/>: the table, or its <c>portable_</c> view.</summary>
    private sealed record SourceTable(string Name, string From, IReadOnlyList<string> Columns, IReadOnlyList<string> References);

    /// <summary>The SQLite tables to copy, parents before the tables whose foreign keys point at them.</summary>
    private static async Task<IReadOnlyList<SourceTable>> SourceTablesAsync(SqliteConnection sqlite, SqliteTransaction snapshot, CancellationToken cancellationToken)
    {
        // 'table' leaves out views, virtual tables (full-text indexes) and their shadow tables: those are derived, and each provider builds its own.
        // private_* tables are one provider's bookkeeping whose contents the portable_ views carry in the shared form
        // (private_reclassify is portable_buyers.reclassify).
        var names = await sqlite.QueryAsync<string>(new CommandDefinition(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'private\\_%' ESCAPE '\\' ORDER BY name",
            transaction: snapshot, cancellationToken: cancellationToken));
        var tables = new List<SourceTable>();
        // A table whose SQLite form differs from the shared one (an integer buyer key where PostgreSQL keeps the text id)
        // has a view portable_<table> with the shared columns; its rows are read from there.
        var views = (await sqlite.QueryAsync<string>(new CommandDefinition(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'view' AND name LIKE 'portable\\_%' ESCAPE '\\'",
            transaction: snapshot, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names.Where(n => !NotCopied.Contains(n)))
        {
            var from = views.Contains("portable_" + name) ? "portable_" + name : name;
            var columns = await sqlite.QueryAsync<string>(new CommandDefinition(
                "SELECT name FROM pragma_table_xinfo(@from) WHERE hidden = 0 ORDER BY cid", new { from }, snapshot, cancellationToken: cancellationToken));
            var references = await sqlite.QueryAsync<string>(new CommandDefinition(
                "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(@name)", new { name }, snapshot, cancellationToken: cancellationToken));
            tables.Add(new SourceTable(name, from, columns.ToList(), references.Where(r => r != name).ToList()));
        }

        var ordered = new List<SourceTable>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        while (ordered.Count < tables.Count)
        {
            var ready = tables.Where(t => !placed.Contains(t.Name) && t.References.All(r => placed.Contains(r) || tables.All(o => o.Name != r))).ToList();
            if (ready.Count == 0)
            {
                // A cycle of foreign keys: copy the rest in name order and let the database say which row is missing.
                ready = tables.Where(t => !placed.Contains(t.Name)).ToList();
            }

            foreach (var table in ready)
            {
                ordered.Add(table);
                placed.Add(table.Name);
            }
        }

        return ordered;
    }

    /// <summary>Table → column → PostgreSQL type, for the columns a COPY may write (not generated ones).</summary>
    private static async Task<Dictionary<string, Dictionary<string, string>>> TargetColumnsAsync(NpgsqlConnection postgres, CancellationToken cancellationToken)
    {
        var rows = await postgres.QueryAsync<(string Table, string Column, string Type)>(new CommandDefinition(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND is_generated = 'NEVER'",
            cancellationToken: cancellationToken));
        return rows.GroupBy(r => r.Table, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToDictionary(r => r.Column, r => r.Type, StringComparer.Ordinal), StringComparer.Ordinal);
    }

    private static async Task<long> CopyTableAsync(
        SqliteConnection sqlite,
        SqliteTransaction snapshot,
        NpgsqlConnection postgres,
        SourceTable table,
        string into,
        Dictionary<string, string> targetTypes,
        IProgress<(string Table, long Rows)>? progress,
        CancellationToken cancellationToken)
    {
        var columnList = string.Join(", ", table.Columns.Select(Quote));
        var types = table.Columns.Select(c => TypeOf(targetTypes[c])!.Value).ToArray();
        await using var read = sqlite.CreateCommand();
        read.Transaction = snapshot;
        read.CommandText = $"SELECT {columnList} FROM {Quote(table.From)}";
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        await using var writer = await postgres.BeginBinaryImportAsync($"COPY {Quote(into)} ({columnList}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        long rows = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            await writer.StartRowAsync(cancellationToken);
            for (var i = 0; i < types.Length; i++)
            {
                if (await reader.IsDBNullAsync(i, cancellationToken))
                {
                    await writer.WriteNullAsync(cancellationToken);
                }
                else
                {
                    await WriteValueAsync(writer, reader, i, types[i], cancellationToken);
                }
            }

            if (++rows % ProgressEvery == 0)
            {
                progress?.Report((table.Name, rows));
            }
        }

        await writer.CompleteAsync(cancellationToken);
        progress?.Report((table.Name, rows));
        return rows;
    }

    /// <summary>SQLite hands back long, double, string or bytes; each becomes the value the PostgreSQL column holds.</summary>
    private static Task WriteValueAsync(NpgsqlBinaryImporter writer, SqliteDataReader reader, int i, NpgsqlDbType type, CancellationToken cancellationToken) => type switch
    {
        NpgsqlDbType.Text => writer.WriteAsync(Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!, type, cancellationToken),
        NpgsqlDbType.Jsonb or NpgsqlDbType.Json => writer.WriteAsync(reader.GetString(i), type, cancellationToken),
        NpgsqlDbType.Smallint => writer.WriteAsync(checked((short)reader.GetInt64(i)), type, cancellationToken),
        NpgsqlDbType.Integer => writer.WriteAsync(checked((int)reader.GetInt64(i)), type, cancellationToken),
        NpgsqlDbType.Bigint => writer.WriteAsync(reader.GetInt64(i), type, cancellationToken),
        NpgsqlDbType.Double => writer.WriteAsync(reader.GetDouble(i), type, cancellationToken),
        NpgsqlDbType.Real => writer.WriteAsync((float)reader.GetDouble(i), type, cancellationToken),
        NpgsqlDbType.Numeric => writer.WriteAsync(reader.GetDecimal(i), type, cancellationToken),
        NpgsqlDbType.Boolean => writer.WriteAsync(reader.GetInt64(i) != 0, type, cancellationToken),
        NpgsqlDbType.Bytea => writer.WriteAsync((byte[])reader.GetValue(i), type, cancellationToken),
        NpgsqlDbType.TimestampTz => writer.WriteAsync(Ids.ParseTimestamp(reader.GetString(i)).UtcDateTime, type, cancellationToken),
        _ => throw new InvalidOperationException($"No conversion to {type}."),
    };

    private static NpgsqlDbType? TypeOf(string postgresType) => postgresType switch
    {
        "text" or "character varying" or "character" => NpgsqlDbType.Text,
        "jsonb" => NpgsqlDbType.Jsonb,
        "json" => NpgsqlDbType.Json,
        "smallint" => NpgsqlDbType.Smallint,
        "integer" => NpgsqlDbType.Integer,
        "bigint" => NpgsqlDbType.Bigint,
        "double precision" => NpgsqlDbType.Double,
        "real" => NpgsqlDbType.Real,
        "numeric" => NpgsqlDbType.Numeric,
        "boolean" => NpgsqlDbType.Boolean,
        "bytea" => NpgsqlDbType.Bytea,
        "timestamp with time zone" => NpgsqlDbType.TimestampTz,
        _ => null,
    };

    /// <summary>Columns filled by a sequence continue after the copied values, so the next insert does not collide.</summary>
    private static async Task ResetSequencesAsync(
        NpgsqlConnection postgres, NpgsqlTransaction transaction, SourceTable table, Dictionary<string, string> tableColumns, CancellationToken cancellationToken)
    {
        // Only the table's own columns: one written through a view (buyer_id) is not a column of the table.
        foreach (var column in table.Columns.Where(tableColumns.ContainsKey))
        {
            var sequence = await postgres.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT pg_get_serial_sequence(@table, @column)", new { table = Quote(table.Name), column }, transaction, cancellationToken: cancellationToken));
            if (sequence is not null)
            {
                await postgres.ExecuteAsync(new CommandDefinition(
                    $"SELECT setval(@sequence, COALESCE((SELECT MAX({Quote(column)}) FROM {Quote(table.Name)}), 0) + 1, false)",
                    new { sequence }, transaction, cancellationToken: cancellationToken));
            }
        }
    }

    /// <summary>
    /// The PostgreSQL view a table is written through when its PostgreSQL form differs from the shared one (an integer
    /// buyer key where the shared form has the text id); its INSTEAD OF trigger stores each row in the table.
    /// </summary>
    private static string Portable(string table) => "portable_" + table;

    /// <summary>Names come from the SQLite schema the migrations wrote; quoting keeps them exact either way.</summary>
    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
