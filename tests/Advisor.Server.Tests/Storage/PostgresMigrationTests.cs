using Advisor.Server.Storage;
using Advisor.Server.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// PostgreSQL migrations applied to a database that already holds data written by the older schema, on the
/// PostgreSQL server the tests start: what an organisation's existing database goes through on upgrade.
/// </summary>
public sealed class PostgresMigrationTests(PostgresInstance postgres)
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Buyer_keys_migration_keeps_interactions_totals_and_sequences_of_existing_buyers()
    {
        var connectionString = await postgres.CreateDatabaseAsync(Ct);
        await using var database = new PostgresDatabase(Options.Create(new StorageOptions { Provider = "postgres", ConnectionString = connectionString }));
        var migrator = new PostgresMigrator(database, NullLogger<PostgresMigrator>.Instance);
        (await migrator.MigrateAsync(4, Ct)).ShouldBe(4);

        // Two buyers with interactions, totals and a classification, written in the text-id schema of migrations 002-004.
        await using (var connection = await database.OpenAsync(Ct))
        {
            await ExecuteAsync(connection, """
                INSERT INTO buyers (id, display_name, name_key, create_time, update_time, etag, interaction_count, reclassify)
                VALUES ('b_old_a', 'Old A', 'old a', @t, @t, 'ea', 3, 1), ('b_old_b', 'Old B', 'old b', @t, @t, 'eb', 1, 1);
                INSERT INTO buyer_names (name_key, buyer_id) VALUES ('old a', 'b_old_a'), ('old b', 'b_old_b');
                INSERT INTO interactions (id, buyer_id, type, occurred_at, amount, currency, note, idempotency_key, create_time) VALUES
                    ('i_a1', 'b_old_a', 1, @t1, 100, 'EUR', NULL, 'ka-1', @t),
                    ('i_a2', 'b_old_a', 1, @t3, 50, 'EUR', 'second order', 'ka-2', @t),
                    ('i_a3', 'b_old_a', 4, @t2, NULL, NULL, 'a call', NULL, @t),
                    ('i_b1', 'b_old_b', 12, @t1, NULL, NULL, 'hello', 'kb-1', @t);
                UPDATE buyers b SET last_seq = (SELECT MAX(seq) FROM interactions i WHERE i.buyer_id = b.id);
                INSERT INTO buyer_interaction_stats (buyer_id, type, count, amount_total, amount_count, first_at, first_seq, last_at, last_seq)
                SELECT buyer_id, type, COUNT(*), COALESCE(SUM(amount), 0), COUNT(amount), MIN(occurred_at),
                    (array_agg(seq ORDER BY occurred_at))[1], MAX(occurred_at), (array_agg(seq ORDER BY occurred_at DESC))[1]
                FROM interactions GROUP BY buyer_id, type;
                """, new { t = Ids.Timestamp(T0), t1 = Ids.Timestamp(T0.AddDays(-3)), t2 = Ids.Timestamp(T0.AddDays(-2)), t3 = Ids.Timestamp(T0.AddDays(-1)) });
        }

        long oldMaxSeq;
        await using (var connection = await database.OpenAsync(Ct))
        {
            oldMaxSeq = await ScalarAsync<long>(connection, "SELECT MAX(seq) FROM interactions");
        }

        (await migrator.MigrateAsync(Ct)).ShouldBeGreaterThanOrEqualTo(1);
        await using (var connection = await database.OpenAsync(Ct))
        {
            (await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'interactions' AND column_name = 'buyer_id'")).ShouldBe(0);
            (await ScalarAsync<long>(connection, "SELECT COUNT(DISTINCT key) FROM buyers")).ShouldBe(2, "every existing buyer got its own key");
        }

        var store = new PostgresBuyerStore(database);
        var profile = (await store.GetProfileAsync("b_old_a", 5, Ct)).ShouldNotBeNull();
        profile.Buyer.InteractionCount.ShouldBe(3);
        profile.LastSequence.ShouldBe(oldMaxSeq - 4096, "b_old_a's last interaction was the third of four");
        var purchases = profile.Stats.Single(s => s.Type == InteractionKind.Purchase);
        purchases.Count.ShouldBe(2);
        purchases.AmountTotal.ShouldBe(150);
        purchases.FirstInteractionId.ShouldBe("i_a1");
        purchases.LastInteractionId.ShouldBe("i_a2");
        profile.Stats.Single(s => s.Type == InteractionKind.Consultation).FirstInteractionId.ShouldBe("i_a3");
        profile.RecentNotes.Select(n => n.InteractionId).ShouldBe(["i_a2", "i_a3"]);

        var page = (await store.ListInteractionsAsync("b_old_a", 2, null, Ct)).ShouldNotBeNull();
        page.Items.Select(i => i.Id).ShouldBe(["i_a2", "i_a3"]);
        page.Items.ShouldAllBe(i => i.BuyerId == "b_old_a");
        (await store.ListInteractionsAsync("b_old_a", 2, page.NextPageToken, Ct))!.Items.Select(i => i.Id).ShouldBe(["i_a1"]);

        // The idempotency keys came along (a repeat is a duplicate of the old row), and new interactions and imports
        // get sequences after every old one.
        var repeat = await store.RecordInteractionAsync(new InteractionRecord(Ids.New("i"), "b_old_b", InteractionKind.Message, T0, null, null, null, null, "kb-1", T0), null, Ct);
        repeat.Status.ShouldBe(InteractionWriteStatus.Duplicate);
        repeat.Interaction!.Id.ShouldBe("i_b1");
        var added = await store.RecordInteractionAsync(new InteractionRecord(Ids.New("i"), "b_old_b", InteractionKind.Meeting, T0, null, null, null, null, "kb-2", T0), null, Ct);
        added.Status.ShouldBe(InteractionWriteStatus.Created);
        (await store.GetProfileAsync("b_old_b", 0, Ct))!.LastSequence.ShouldBeGreaterThan(oldMaxSeq);
        var imported = await store.ImportBatchAsync(
            [
                new ImportItem(0, "b_old_a", null, null, new InteractionRecord(Ids.New("i"), "", InteractionKind.Purchase, T0, 25, "EUR", null, null, "ka-1", T0)),
                new ImportItem(1, null, null, "Old A", new InteractionRecord(Ids.New("i"), "", InteractionKind.Purchase, T0, 25, "EUR", null, null, "ka-3", T0)),
                new ImportItem(2, null, "crm-new", "New C", new InteractionRecord(Ids.New("i"), "", InteractionKind.Purchase, T0, 10, "EUR", null, null, "kc-1", T0)),
            ],
            Ct);
        imported.Items.Select(i => i.Status).ShouldBe([ImportItemStatus.Duplicate, ImportItemStatus.Accepted, ImportItemStatus.Accepted]);
        imported.BuyersCreated.ShouldBe(1);
        var after = (await store.GetProfileAsync("b_old_a", 0, Ct))!;
        after.Stats.Single(s => s.Type == InteractionKind.Purchase).Count.ShouldBe(3);
        after.Buyer.InteractionCount.ShouldBe(4);

        // Deleting an old buyer removes its interactions and totals through the key.
        (await store.DeleteBuyerAsync("b_old_a", null, Ct)).Status.ShouldBe(BuyerWriteStatus.Ok);
        await using (var connection = await database.OpenAsync(Ct))
        {
            (await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM portable_interactions WHERE buyer_id = 'b_old_a'")).ShouldBe(0);
            (await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM portable_buyer_interaction_stats WHERE buyer_id = 'b_old_a'")).ShouldBe(0);
            (await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM interactions")).ShouldBe(3, "b_old_b's two and the new buyer's one");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, object parameters) =>
        await Dapper.SqlMapper.ExecuteAsync(connection, new Dapper.CommandDefinition(sql, parameters, cancellationToken: Ct));

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql) =>
        (await Dapper.SqlMapper.ExecuteScalarAsync<T>(connection, new Dapper.CommandDefinition(sql, cancellationToken: Ct)))!;
}
