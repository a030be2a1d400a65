using Advisor.Server.Classification;
using Advisor.Server.Hosting;
using Advisor.Server.Storage;
using Advisor.Server.Storage.Sqlite;
using Advisor.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// Upgrading a SQLite file that holds data: a database written in the schema of migrations 001-004 (text times, the
/// buyer row carrying the interaction count, last sequence and reclassify mark) is migrated by a starting server, and the
/// store reads back exactly what was there and keeps working on it.
/// </summary>
public sealed class SqliteMigrationTests : IAsyncLifetime
{
    private readonly ScratchDatabase _database = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Migrations_005_and_006_keep_interactions_totals_counts_and_reclassify_marks()
    {
        await WriteVersion4DatabaseAsync();

        await using var app = AdvisorServerHost.Build(["--Storage:Provider", "sqlite", "--Storage:Path", _database.Path, "--Logging:LogLevel:Default", "Warning"]);
        (await app.Services.GetRequiredService<IStoreMigrator>().MigrateAsync(Ct)).ShouldBe(4, "only migrations 005 to 008 were missing");
        var store = app.Services.GetRequiredService<IBuyerStore>();

        var acme = (await store.GetBuyerAsync("b_acme", Ct))!;
        acme.InteractionCount.ShouldBe(3);
        (await store.GetBuyerAsync("b_quiet", Ct))!.InteractionCount.ShouldBe(0);

        var page = (await store.ListInteractionsAsync("b_acme", 2, null, Ct))!;
        page.TotalSize.ShouldBe(3);
        page.Items.Select(i => i.Id).ShouldBe(["i_3", "i_2"]);
        page.Items[0].OccurredAt.ShouldBe(new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567));
        page.Items[0].CreateTime.ShouldBe(new DateTimeOffset(2024, 3, 2, 0, 0, 0, TimeSpan.Zero));
        page.Items[1].Note.ShouldBe("asked for advice");
        var rest = (await store.ListInteractionsAsync("b_acme", 2, page.NextPageToken, Ct))!;
        rest.Items.Select(i => i.Id).ShouldBe(["i_1"]);
        rest.Items[0].Amount.ShouldBe(120.5);

        var profile = (await store.GetProfileAsync("b_acme", 5, Ct))!;
        profile.LastSequence.ShouldBe(3);
        var purchases = profile.Stats.Single(s => s.Type == InteractionKind.Purchase);
        purchases.Count.ShouldBe(2);
        purchases.AmountTotal.ShouldBe(320.5);
        purchases.FirstInteractionId.ShouldBe("i_1");
        purchases.FirstAt.ShouldBe(new DateTimeOffset(2024, 1, 15, 8, 30, 0, TimeSpan.Zero));
        purchases.LastInteractionId.ShouldBe("i_3");
        profile.RecentNotes.Select(n => n.InteractionId).ShouldBe(["i_2"]);

        // The mark of the old reclassify column survived, and only for the marked buyer.
        (await store.ListBuyersToReclassifyAsync(10, Ct)).ShouldBe(["b_acme"]);

        // The old idempotency key still deduplicates; a new interaction counts on top of the migrated totals.
        var batch = await store.ImportBatchAsync(
            [
                new ImportItem(0, "b_acme", null, null, new InteractionRecord(Ids.New("i"), "", InteractionKind.Purchase, new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero), 1, "EUR", null, null, "key-1", DateTimeOffset.UtcNow)),
                new ImportItem(1, "b_acme", null, null, new InteractionRecord(Ids.New("i"), "", InteractionKind.Meeting, new DateTimeOffset(2024, 4, 2, 0, 0, 0, TimeSpan.Zero), null, null, null, null, "key-4", DateTimeOffset.UtcNow)),
            ],
            Ct);
        batch.Items.Select(i => i.Status).ShouldBe([ImportItemStatus.Duplicate, ImportItemStatus.Accepted]);
        (await store.GetBuyerAsync("b_acme", Ct))!.InteractionCount.ShouldBe(4);
        var after = (await store.GetProfileAsync("b_acme", 5, Ct))!;
        after.LastSequence.ShouldBe(4);
        // The imported meeting is not folded into the totals yet (migration 006) and is read with them all the same.
        after.Stats.Single(s => s.Type == InteractionKind.Meeting).Count.ShouldBe(1);
        after.Stats.Sum(s => s.Count).ShouldBe(4);

        // Saving a classification up to the last sequence clears the mark; the quiet buyer was never marked.
        await store.SaveClassificationAsync("b_acme", new StoredClassification(Kind.Client, 0.8, 3, "advice and purchases", "v1", DateTimeOffset.UtcNow), after.LastSequence, Ct);
        (await store.ListBuyersToReclassifyAsync(10, Ct)).ShouldBeEmpty();
        // Listing folded the meeting into the stored totals: the profile reads the same as before the fold.
        (await store.GetProfileAsync("b_acme", 5, Ct))!.Stats.ShouldBe(after.Stats);
    }

    [Fact]
    public async Task Migration_007_keeps_the_classification_log_and_still_refuses_an_unknown_subject()
    {
        await WriteVersion4DatabaseAsync();
        await using (var connection = new SqliteConnection($"Data Source={_database.Path}"))
        {
            await connection.OpenAsync(Ct);
            await ExecuteAsync(connection, """
                INSERT INTO classification_log (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version) VALUES
                    ('c_1', '2024-03-01T10:00:00.0000000Z', 'description', 'They buy once a year.', NULL, 'customer', 0.7, -3.5, 'v1'),
                    ('c_2', '2024-03-01T10:00:01.0000000Z', 'buyer', 'b_acme', 'b_acme', 'client', 0.9, 4, 'v1');
                """);
        }

        SqliteConnection.ClearAllPools();
        await using var app = AdvisorServerHost.Build(["--Storage:Provider", "sqlite", "--Storage:Path", _database.Path, "--Logging:LogLevel:Default", "Warning"]);
        await app.Services.GetRequiredService<IStoreMigrator>().MigrateAsync(Ct);

        var rows = await app.Services.GetRequiredService<IClassificationLogWriter>().RecentAsync(10, Ct);
        rows.Select(r => (r.Id, r.Subject, r.Input, r.BuyerId, r.Kind, r.Confidence, r.Score, r.RuleSetVersion)).ShouldBe(
        [
            ("c_2", "buyer", "b_acme", "b_acme", Kind.Client, 0.9, 4, "v1"),
            ("c_1", "description", "They buy once a year.", null, Kind.Customer, 0.7, -3.5, "v1"),
        ]);

        await using var check = new SqliteConnection($"Data Source={_database.Path}");
        await check.OpenAsync(Ct);
        foreach (var subject in new[] { "profile", "question" })
        {
            await ExecuteAsync(check, $"INSERT INTO classification_log (id, time, subject, input, kind, confidence, score, rule_set_version) VALUES ('c_{subject}', '2024-03-02T00:00:00.0000000Z', '{subject}', 'x', 'client', 1, 1, 'v1')");
        }

        var refused = await Should.ThrowAsync<SqliteException>(() => ExecuteAsync(check, "INSERT INTO classification_log (id, time, subject, input, kind, confidence, score, rule_set_version) VALUES ('c_other', '2024-03-02T00:00:00.0000000Z', 'other', 'x', 'client', 1, 1, 'v1')"));
        refused.Message.ShouldContain("CHECK constraint failed");
        await using var index = new SqliteCommand("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'classification_log_time' AND tbl_name = 'classification_log'", check);
        ((long)(await index.ExecuteScalarAsync(Ct))!).ShouldBe(1);
    }

    [Fact]
    public async Task Migration_008_keeps_every_log_row_with_its_exact_time_and_the_readers_see_them_in_the_same_order()
    {
        // A 001-007 file holding log rows in the text form: fractions to the 100 ns, two rows at the same time (ordered by
        // id), a row before 1970, and a row whose time another writer spelled differently.
        Directory.CreateDirectory(Path.GetDirectoryName(_database.Path)!);
        await using (var connection = new SqliteConnection($"Data Source={_database.Path}"))
        {
            await connection.OpenAsync(Ct);
            await ExecuteAsync(connection, "PRAGMA journal_mode = WAL; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);");
            foreach (var (version, name, sql) in SqliteMigrator.Migrations().Where(m => m.Version <= 7))
            {
                await ExecuteAsync(connection, sql);
                await ExecuteAsync(connection, $"INSERT INTO schema_migrations VALUES ({version}, '{name}', '2026-01-01T00:00:00Z')");
            }

            await ExecuteAsync(connection, """
                INSERT INTO classification_log (id, time, subject, input, buyer_id, kind, confidence, score, rule_set_version) VALUES
                    ('c_b', '2024-03-01T10:00:00.1234567Z', 'description', 'They buy once a year.', NULL, 'customer', 0.7, -3.5, 'v1'),
                    ('c_old', '1969-07-20T20:17:40.0000001Z', 'question', 'is the moon a client?', NULL, 'undetermined', 0, 0, 'v0'),
                    ('c_a', '2024-03-01T10:00:00.1234567Z', 'buyer', 'b_acme', 'b_acme', 'client', 0.9, 4, 'v1'),
                    ('c_late', '2026-11-29T09:30:00.9999999Z', 'profile', 'retainer', NULL, 'hybrid', 0.5, 0.25, 'v2'),
                    ('c_spelled', '2025-01-02 03:04:05.678', 'profile', 'weekly', NULL, 'client', 0.6, 1, 'v2');
                """);
        }

        SqliteConnection.ClearAllPools();
        await using var app = AdvisorServerHost.Build(["--Storage:Provider", "sqlite", "--Storage:Path", _database.Path, "--Logging:LogLevel:Default", "Warning"]);
        (await app.Services.GetRequiredService<IStoreMigrator>().MigrateAsync(Ct)).ShouldBe(1, "only migration 008 was missing");

        var log = app.Services.GetRequiredService<IClassificationLogWriter>();
        var rows = await log.RecentAsync(10, Ct);
        rows.Select(r => r.Id).ShouldBe(["c_late", "c_spelled", "c_b", "c_a", "c_old"]);
        rows.Select(r => r.Time).ShouldBe(
        [
            new DateTimeOffset(2026, 11, 29, 9, 30, 0, TimeSpan.Zero).AddTicks(9_999_999),
            new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero),
            new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1_234_567),
            new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1_234_567),
            new DateTimeOffset(1969, 7, 20, 20, 17, 40, TimeSpan.Zero).AddTicks(1),
        ]);
        rows.Select(r => r.Time.Offset).ShouldAllBe(o => o == TimeSpan.Zero);
        rows[2].ShouldBe(new ClassificationLogEntry("c_b", rows[2].Time, "description", "They buy once a year.", null, Kind.Customer, 0.7, -3.5, "v1"));
        rows[3].ShouldBe(new ClassificationLogEntry("c_a", rows[3].Time, "buyer", "b_acme", "b_acme", Kind.Client, 0.9, 4, "v1"));

        // Rows written after the upgrade sort among the old ones by their time; an id already there is still skipped.
        var between = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.FromHours(2));
        await log.WriteAsync(
        [
            new ClassificationLogEntry("c_new", between, "description", "new", null, Kind.Client, 1, 2, "v3"),
            new ClassificationLogEntry("c_a", DateTimeOffset.UtcNow, "description", "again", null, Kind.Client, 1, 2, "v3"),
        ], Ct);
        var after = await log.RecentAsync(10, Ct);
        after.Select(r => r.Id).ShouldBe(["c_late", "c_new", "c_spelled", "c_b", "c_a", "c_old"]);
        after[1].Time.ShouldBe(between);
        after[4].Input.ShouldBe("b_acme");

        // The copy to PostgreSQL reads the shared form: the time as the text the server writes.
        await using var check = new SqliteConnection($"Data Source={_database.Path}");
        await check.OpenAsync(Ct);
        await using (var portable = new SqliteCommand("SELECT id, time FROM portable_classification_log ORDER BY id", check))
        await using (var reader = await portable.ExecuteReaderAsync(Ct))
        {
            var texts = new List<(string, string)>();
            while (await reader.ReadAsync(Ct))
            {
                texts.Add((reader.GetString(0), reader.GetString(1)));
            }

            texts.ShouldBe(
            [
                ("c_a", "2024-03-01T10:00:00.1234567Z"),
                ("c_b", "2024-03-01T10:00:00.1234567Z"),
                ("c_late", "2026-11-29T09:30:00.9999999Z"),
                ("c_new", Ids.Timestamp(between)),
                ("c_old", "1969-07-20T20:17:40.0000001Z"),
                ("c_spelled", "2025-01-02T03:04:05.6780000Z"),
            ]);
        }

        var refused = await Should.ThrowAsync<SqliteException>(() => ExecuteAsync(check, "INSERT INTO classification_log (id, time, subject, input, kind, confidence, score, rule_set_version) VALUES ('c_other', 1, 'other', 'x', 'client', 1, 1, 'v1')"));
        refused.Message.ShouldContain("CHECK constraint failed");
        await using var index = new SqliteCommand("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'classification_log_time' AND tbl_name = 'classification_log'", check);
        ((long)(await index.ExecuteScalarAsync(Ct))!).ShouldBe(1);
    }

    /// <summary>Applies migrations 001-004 as a server of that time did, then writes rows in that schema's form.</summary>
    private async Task WriteVersion4DatabaseAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_database.Path)!);
        await using var connection = new SqliteConnection($"Data Source={_database.Path}");
        await connection.OpenAsync(Ct);
        await ExecuteAsync(connection, "PRAGMA journal_mode = WAL; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);");
        foreach (var (version, name, sql) in SqliteMigrator.Migrations().Where(m => m.Version <= 4))
        {
            await ExecuteAsync(connection, sql);
            await ExecuteAsync(connection, $"INSERT INTO schema_migrations VALUES ({version}, '{name}', '2026-01-01T00:00:00Z')");
        }

        await ExecuteAsync(connection, """
            INSERT INTO buyers (key, id, display_name, name_key, create_time, update_time, etag, interaction_count, last_seq, reclassify)
            VALUES (1, 'b_acme', 'Acme', 'acme', '2024-01-01T00:00:00.0000000Z', '2024-01-01T00:00:00.0000000Z', 'e1', 3, 3, 1),
                   (2, 'b_quiet', 'Quiet', 'quiet', '2024-01-01T00:00:00.0000000Z', '2024-01-01T00:00:00.0000000Z', 'e2', 0, 0, 0);
            INSERT INTO interactions (seq, id, buyer_key, type, occurred_at, amount, currency, channel, note, idempotency_key, create_time) VALUES
                (1, 'i_1', 1, 1, '2024-01-15T08:30:00.0000000Z', 120.5, 'EUR', 'shop', NULL, 'key-1', '2024-03-02T00:00:00.0000000Z'),
                (2, 'i_2', 1, 4, '2024-02-01T09:00:00.0000000Z', NULL, NULL, 'email', 'asked for advice', 'key-2', '2024-03-02T00:00:00.0000000Z'),
                (3, 'i_3', 1, 1, '2024-03-01T10:00:00.1234567Z', 200, 'EUR', 'shop', NULL, 'key-3', '2024-03-02T00:00:00.0000000Z');
            INSERT INTO buyer_interaction_stats (buyer_key, type, count, amount_total, amount_count, first_at, first_seq, last_at, last_seq) VALUES
                (1, 1, 2, 320.5, 2, '2024-01-15T08:30:00.0000000Z', 1, '2024-03-01T10:00:00.1234567Z', 3),
                (1, 4, 1, 0, 0, '2024-02-01T09:00:00.0000000Z', 2, '2024-02-01T09:00:00.0000000Z', 2);
            """);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = new SqliteCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _database.Dispose();
        return ValueTask.CompletedTask;
    }
}
