using System.Globalization;
using Advisor.Server.Classification;
using Advisor.Server.Hosting;
using Advisor.Server.Storage;
using Advisor.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// <c>storage copy-to-postgres</c>, run as the real executable against a SQLite file a real server wrote
/// and the PostgreSQL server the tests start.
/// </summary>
public sealed class CopyToPostgresTests(PostgresInstance postgres) : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The tables <see cref="FillSqliteAsync"/> writes rows to; tables added later are still compared, empty or not.</summary>
    private static readonly string[] FilledTables =
    [
        "rule_sets", "live_rule_set", "knowledge_versions", "classification_log", "feedback", "audit_log",
        "buyers", "buyer_names", "interactions", "buyer_interaction_stats", "request_ids", "classification_history", "buyer_changes",
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string SqlitePath => Path.Combine(_directory, "advisor.db");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task Copies_every_table_row_for_row_and_prints_matching_counts()
    {
        await FillSqliteAsync();
        var target = await postgres.CreateDatabaseAsync(Ct);

        var (exitCode, output, error) = await CopyAsync(target);

        exitCode.ShouldBe(0, error);
        var tables = await SqliteTablesAsync();
        tables.ShouldContain("feedback");
        tables.ShouldContain("live_rule_set");
        tables.ShouldContain("interactions");
        foreach (var table in tables)
        {
            var source = await SqliteRowsAsync(table);
            var copied = await PostgresRowsAsync(target, table, await SqliteColumnsAsync(table));
            copied.ShouldBe(source, $"table {table} holds the same rows on both sides");
            if (FilledTables.Contains(table))
            {
                source.ShouldNotBeEmpty($"the test fills {table}, so it is really copied");
            }

            output.ShouldMatch($@"(?m)^{table}\s+{source.Count}\s+{source.Count}\s*$");
        }

        output.ShouldContain("every count matches");
        output.ShouldNotContain("Password", Case.Insensitive);

        // A server started on the copy serves the same data: feedback pages and the live rule set.
        await using var server = AdvisorServerHost.Build(["--Storage:Provider", "postgres", "--Storage:ConnectionString", target, "--Logging:LogLevel:Default", "Warning"]);
        var live = await server.Services.GetRequiredService<IRuleSetStore>().GetLiveAsync(Ct);
        live.ShouldNotBeNull().RuleSet.State.ShouldBe(RuleSetState.Live);
        var feedback = await server.Services.GetRequiredService<IFeedbackStore>().ListAsync(5, null, Ct);
        feedback.Items.Count.ShouldBe(5);
        feedback.NextPageToken.ShouldNotBeEmpty();

        // Sequences continue after the copied rows: new interactions and change-feed entries come after the old ones.
        var buyers = server.Services.GetRequiredService<IBuyerStore>();
        var acme = (await buyers.FindBuyersByNameAsync("acme", 5, Ct)).ShouldHaveSingleItem();
        acme.Classification.ShouldNotBeNull().Kind.ShouldBe(Kind.Client);
        var feedBefore = await buyers.ListNameChangesAsync(0, 10_000, Ct);
        var added = await buyers.RecordInteractionAsync(new InteractionRecord(Ids.New("i"), acme.Id, InteractionKind.Meeting, DateTimeOffset.UtcNow, null, null, null, null, "after-copy", DateTimeOffset.UtcNow), null, Ct);
        added.Status.ShouldBe(InteractionWriteStatus.Created);
        (await buyers.GetProfileAsync(acme.Id, 0, Ct))!.LastSequence.ShouldBeGreaterThan((await SqliteRowsAsync("interactions")).Count);
        await buyers.UpdateBuyerAsync(acme.Id, new BuyerValues("Acme Copied", null, MarketKind.Business, null, [], null), BuyerFields.DisplayName, null, DateTimeOffset.UtcNow, Ct);
        var feedAfter = await buyers.ListNameChangesAsync(feedBefore[^1].Sequence, 10, Ct);
        feedAfter.ShouldHaveSingleItem().DisplayName.ShouldBe("Acme Copied");
    }

    [Fact]
    public async Task Refuses_a_target_that_already_has_rows_and_leaves_it_as_it_was()
    {
        await FillSqliteAsync();
        var target = await postgres.CreateDatabaseAsync(Ct);
        (await CopyAsync(target)).ExitCode.ShouldBe(0);
        var before = (await PostgresRowsAsync(target, "feedback", ["id"])).Count;

        // More rows in the source, then a second copy into the same database: refused, nothing written.
        await using (var connection = new SqliteConnection($"Data Source={SqlitePath}"))
        {
            await connection.OpenAsync(Ct);
            await using var insert = new SqliteCommand("INSERT INTO feedback (id, expected_kind, create_time) VALUES ('f_extra', 'client', '2026-01-01T00:00:00.0000000Z')", connection);
            await insert.ExecuteNonQueryAsync(Ct);
        }

        var (exitCode, _, error) = await CopyAsync(target);

        exitCode.ShouldBe(3);
        error.ShouldContain("table feedback already has rows");
        error.ShouldContain("empty database");
        (await PostgresRowsAsync(target, "feedback", ["id"])).Count.ShouldBe(before);
    }

    [Fact]
    public async Task A_table_the_postgres_schema_does_not_have_is_named_and_nothing_is_copied()
    {
        await FillSqliteAsync();
        await using (var connection = new SqliteConnection($"Data Source={SqlitePath}"))
        {
            await connection.OpenAsync(Ct);
            await using var create = new SqliteCommand("CREATE TABLE local_notes (id TEXT PRIMARY KEY, note TEXT); INSERT INTO local_notes VALUES ('n1', 'kept by hand')", connection);
            await create.ExecuteNonQueryAsync(Ct);
        }

        var target = await postgres.CreateDatabaseAsync(Ct);
        var (exitCode, _, error) = await CopyAsync(target);

        exitCode.ShouldBe(2);
        error.ShouldContain("table local_notes has no table in the PostgreSQL schema");
        (await PostgresRowsAsync(target, "feedback", ["id"])).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_missing_sqlite_file_or_a_malformed_target_is_a_usage_error()
    {
        var target = await postgres.CreateDatabaseAsync(Ct);
        var missing = await CopyAsync(target);
        missing.ExitCode.ShouldBe(2);
        missing.Error.ShouldContain("There is no SQLite database at");

        await FillSqliteAsync();
        var malformed = await CopyAsync("Hots=nowhere;Colour=blue");
        malformed.ExitCode.ShouldBe(2);
        malformed.Error.ShouldContain("--target is not a PostgreSQL connection string");
    }

    private Task<(int ExitCode, string Output, string Error)> CopyAsync(string target) =>
        ServerProcess.RunAsync(["storage", "copy-to-postgres", "--target", target, "--Storage:Path", SqlitePath], TimeSpan.FromMinutes(2), Ct);

    /// <summary>A SQLite database written by a real server: the shipped rule set live, plus feedback, drafts, audit and log rows.</summary>
    private async Task FillSqliteAsync()
    {
        await using var app = AdvisorServerHost.Build(["--urls", "http://127.0.0.1:0", "--Storage:Path", SqlitePath, "--Logging:LogLevel:Default", "Warning"]);
        await app.StartAsync(Ct);
        var feedback = app.Services.GetRequiredService<IFeedbackStore>();
        for (var i = 0; i < 300; i++)
        {
            await feedback.AddAsync(new FeedbackRecord(Ids.New("f"), i % 3 == 0 ? $"copy-{i}" : null, null, null, Kind.Client, i % 2 == 0 ? null : Kind.Customer,
                $"comment {i} with 'quotes', \"double\", tabs\tand ünïcödé", "tests", "U1", DateTimeOffset.UtcNow.AddSeconds(-i)), Ct);
        }

        var log = app.Services.GetRequiredService<IClassificationLog>();
        for (var i = 0; i < 700; i++)
        {
            log.Append(new ClassificationLogEntry(Ids.New("c"), DateTimeOffset.UtcNow, "description", $"input {i}", null, Kind.Hybrid, i / 700.0, -i * 0.25, "v1"));
        }

        await log.FlushAsync(Ct);
        var buyers = app.Services.GetRequiredService<IBuyerStore>();
        var acme = (await buyers.CreateBuyerAsync(Ids.New("b"), new BuyerValues("Acme Copy", "consulting", MarketKind.Business, "crm-1", ["ACME"], "weekly calls"), "create-acme", DateTimeOffset.UtcNow, Ct)).Buyer!;
        await buyers.RecordInteractionAsync(new InteractionRecord(Ids.New("i"), acme.Id, InteractionKind.AgreementSigned, DateTimeOffset.UtcNow.AddDays(-30), 1200.5, "EUR", "email", "signed the retainer", "k-1", DateTimeOffset.UtcNow), "record-1", Ct);
        await buyers.ImportBatchAsync(
            [.. Enumerable.Range(0, 400).Select(i => new ImportItem(i, null, $"ext-{i % 40}", $"Imported {i % 40}",
                new InteractionRecord(Ids.New("i"), "", (InteractionKind)(1 + (i % 12)), DateTimeOffset.UtcNow.AddHours(-i), i % 3 == 0 ? null : i, "EUR", "shop", null, $"imp-{i}", DateTimeOffset.UtcNow)))],
            Ct);
        var profile = (await buyers.GetProfileAsync(acme.Id, 5, Ct))!;
        await buyers.SaveClassificationAsync(acme.Id, new StoredClassification(Kind.Client, 0.9, 4, "retainer", "v1", DateTimeOffset.UtcNow), profile.LastSequence, Ct);
        var rules = app.Services.GetRequiredService<IRuleSetStore>();
        await rules.AddDraftAsync(new StoredRuleSet("copy-draft", RuleSetState.Draft, "version: copy-draft", "h", "tests", null, 0, "[]", null, DateTimeOffset.UtcNow, null), Ct);
        await app.StopAsync(Ct);
    }

    private async Task<List<string>> SqliteTablesAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={SqlitePath}");
        await connection.OpenAsync(Ct);
        await using var command = new SqliteCommand("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'private_%' AND name <> 'schema_migrations'", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var names = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>
    /// Every row of a table as text, sorted, so two databases can be compared value for value. A table whose SQLite
    /// form keeps an integer buyer key is read through its portable_ view (the text buyer id), as the copy reads it.
    /// </summary>
    private async Task<List<string>> SqliteRowsAsync(string table)
    {
        await using var connection = new SqliteConnection($"Data Source={SqlitePath}");
        await connection.OpenAsync(Ct);
        await using var view = new SqliteCommand("SELECT COUNT(*) FROM sqlite_master WHERE type = 'view' AND name = $name", connection);
        view.Parameters.AddWithValue("$name", "portable_" + table);
        var from = (long)(await view.ExecuteScalarAsync(Ct))! > 0 ? "portable_" + table : table;
        await using var command = new SqliteCommand($"SELECT * FROM {from}", connection);
        return await RowsAsync(await command.ExecuteReaderAsync(Ct));
    }

    /// <summary>The columns the copy reads from a SQLite table (its portable_ view's, when it has one).</summary>
    private async Task<List<string>> SqliteColumnsAsync(string table)
    {
        await using var connection = new SqliteConnection($"Data Source={SqlitePath}");
        await connection.OpenAsync(Ct);
        await using var command = new SqliteCommand(
            "SELECT name FROM pragma_table_info(CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = $view) THEN $view ELSE $table END)", connection);
        command.Parameters.AddWithValue("$view", "portable_" + table);
        command.Parameters.AddWithValue("$table", table);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var columns = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    /// <summary>
    /// The given columns of every row of a PostgreSQL table, as <see cref="RowsAsync"/> gives them. A table whose
    /// PostgreSQL form keeps an integer buyer key is read through its portable_ view; a column only PostgreSQL has
    /// (the buyers' integer key) is not compared.
    /// </summary>
    private static async Task<List<string>> PostgresRowsAsync(string connectionString, string table, IReadOnlyList<string> columns)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var view = new NpgsqlCommand("SELECT to_regclass(@view) IS NOT NULL", connection);
        view.Parameters.AddWithValue("view", "portable_" + table);
        var from = (bool)(await view.ExecuteScalarAsync(Ct))! ? "portable_" + table : table;
        await using var command = new NpgsqlCommand($"SELECT {string.Join(", ", columns.Select(c => $"\"{c}\""))} FROM {from}", connection);
        return await RowsAsync(await command.ExecuteReaderAsync(Ct));
    }

    private static async Task<List<string>> RowsAsync(System.Data.Common.DbDataReader reader)
    {
        await using (reader)
        {
            var rows = new List<string>();
            while (await reader.ReadAsync(Ct))
            {
                var values = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetName(i) + "=" + reader.GetValue(i) switch
                {
                    DBNull => "null",
                    double d => d.ToString("R", CultureInfo.InvariantCulture),
                    float f => ((double)f).ToString("R", CultureInfo.InvariantCulture),
                    IConvertible c => c.ToString(CultureInfo.InvariantCulture),
                    var other => other.ToString(),
                });
                rows.Add(string.Join("|", values.Order(StringComparer.Ordinal)));
            }

            rows.Sort(StringComparer.Ordinal);
            return rows;
        }
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
