using System.Runtime.InteropServices;
using System.Text.Json;
using Advisor.Server.Classification;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Advisor.Server.Storage.Sqlite;

/// <summary>
/// The buyer registry on SQLite. Ordinary calls use Dapper; the import path uses prepared commands reused
/// for every item of a batch, because at 100,000 items a second Dapper's per-call overhead is the bottleneck.
/// </summary>
public sealed class SqliteBuyerStore(SqliteDatabase database) : IBuyerStore
{
    private readonly ImportKeyCache _keys = new();

    private const string OpCreateBuyer = "buyers.create";

    /// <summary>
    /// Page cache of an import transaction (KiB): a batch dirties pages all over the per-buyer indexes, and a cache
    /// that holds them avoids spilling them to the WAL mid-transaction. Freed after each batch (see SqliteDatabase.WriteAsync).
    /// 128 MiB because a transaction takes several batches (<see cref="ImportBatchesAsync"/>): at 32 MiB the pages of a
    /// million-row import's indexes no longer fit, each batch spilled and rewrote them, and four batches per transaction
    /// cost what four transactions did (the store alone: 11.2-12.8 µs per item either way; 8.3-8.7 µs with this cache).
    /// </summary>
    private const int ImportCacheKibibytes = 131072;

    /// <summary>
    /// WAL size above which an import batch checkpoints (the import's transactions turn SQLite's automatic checkpoint off,
    /// see SqliteDatabase.WriteAsync). Why this large: with buyers in random order consecutive batches dirty mostly the
    /// same index and totals pages, and a checkpoint copies each page once however many batches rewrote it, so letting
    /// about three 16,384-item batches collect before copying saves most of the copy work (fsyncs, reads of the WAL,
    /// writes to the database file) that a checkpoint after every batch did on the writer's time.
    /// </summary>
    private const long WalCheckpointBytes = 64 * 1024 * 1024;

    /// <summary>
    /// <see cref="InteractionRow"/>'s columns from <see cref="InteractionFrom"/>: SQLite's interactions keep the buyer's
    /// integer key (migration 004), so the text id comes from the buyer row.
    /// </summary>
    private const string InteractionColumns =
        "i.seq AS Seq, i.id AS Id, b.id AS BuyerId, i.type AS Type, i.occurred_at AS OccurredAt, i.amount AS Amount, i.currency AS Currency, i.channel AS Channel, " +
        "i.note AS Note, i.idempotency_key AS IdempotencyKey, i.create_time AS CreateTime";

    /// <summary>SQLite keeps interaction and totals times as .NET ticks (migration 005); this is the one conversion back.</summary>
    internal static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    private const string InteractionFrom = "interactions i JOIN buyers b ON b.key = i.buyer_key";

    /// <summary>
    /// <see cref="BuyerRow"/>'s columns from <c>buyers</c>: since migration 005 imports leave the buyer row alone, so the
    /// interaction count and last sequence are the sum and maximum of the buyer's per-type totals (at most one row per
    /// type, adjacent in the WITHOUT ROWID table: one page read).
    /// </summary>
    private const string BuyerColumns =
        "id, display_name AS DisplayName, name_key AS NameKey, industry, market AS Market, external_id AS ExternalId, aliases, notes, " +
        "create_time AS CreateTime, update_time AS UpdateTime, etag, kind, confidence, score, summary, rule_set_version AS RuleSetVersion, classify_time AS ClassifyTime, " +
        "(SELECT COALESCE(SUM(s.count), 0) FROM buyer_interaction_stats s WHERE s.buyer_key = buyers.key) + " + PendingCountOfBuyers + " AS InteractionCount, " +
        "MAX((SELECT COALESCE(MAX(s.last_seq), 0) FROM buyer_interaction_stats s WHERE s.buyer_key = buyers.key), " + PendingLastSeqOfBuyers + ") AS LastSeq";

    /// <summary>
    /// Every interaction with a sequence up to this is in the per-type totals and the reclassification marks; the ones
    /// above it were imported and are folded in later by <see cref="FoldPendingAsync"/> (migration 006).
    /// </summary>
    private const string FoldedSeq = "(SELECT folded_seq FROM private_fold)";

    /// <summary>
    /// True while any interaction is not folded yet. Reads test it before they look for a buyer's pending rows, so that
    /// when everything is folded (the usual state) they cost what they cost before: two lookups, evaluated once per statement.
    /// </summary>
    private const string AnyPending = FoldedSeq + " < (SELECT COALESCE(MAX(seq), 0) FROM interactions)";

    /// <summary>
    /// The pending rows of one buyer, through the buyer's time index (the sequence is the rowid, which ends every index
    /// entry, so the filter needs no table row). INDEXED BY: a sequence range over the table would be the other plan, and
    /// it reads every pending row of every buyer.
    /// </summary>
    private const string PendingOfBuyers = "FROM interactions u INDEXED BY interactions_buyer_time WHERE u.buyer_key = buyers.key AND u.seq > " + FoldedSeq;

    private const string PendingCountOfBuyers = "CASE WHEN " + AnyPending + " THEN (SELECT COUNT(*) " + PendingOfBuyers + ") ELSE 0 END";

    private const string PendingLastSeqOfBuyers = "CASE WHEN " + AnyPending + " THEN (SELECT COALESCE(MAX(u.seq), 0) " + PendingOfBuyers + ") ELSE 0 END";
    private const string OpRecordInteraction = "interactions.record";

    public Task<BuyerWriteResult> CreateBuyerAsync(string id, BuyerValues values, string? requestId, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (requestId is not null)
            {
                var earlier = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                    "SELECT resource_id FROM request_ids WHERE operation = @op AND request_id = @requestId",
                    new { op = OpCreateBuyer, requestId }, transaction, cancellationToken: cancellationToken));
                if (earlier is not null)
                {
                    var existing = await GetBuyerAsync(connection, transaction, earlier, cancellationToken);
                    return existing is null ? new BuyerWriteResult(BuyerWriteStatus.NotFound, null) : new BuyerWriteResult(BuyerWriteStatus.Ok, existing);
                }
            }

            if (values.ExternalId is not null && await ExternalIdOwnerAsync(connection, transaction, values.ExternalId, cancellationToken) is not null)
            {
                return new BuyerWriteResult(BuyerWriteStatus.ExternalIdTaken, null);
            }

            var time = Ids.Timestamp(now);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO buyers (id, display_name, name_key, industry, industry_key, market, external_id, aliases, notes, create_time, update_time, etag)
                VALUES (@id, @DisplayName, @NameKey, @Industry, @IndustryKey, @Market, @ExternalId, @Aliases, @Notes, @time, @time, @etag);
                INSERT INTO private_reclassify (buyer_key) VALUES (last_insert_rowid());
                """,
                new
                {
                    id,
                    values.DisplayName,
                    NameKey = BuyerNames.Key(values.DisplayName),
                    values.Industry,
                    IndustryKey = values.Industry is null ? null : BuyerNames.Key(values.Industry),
                    Market = (int)values.Market,
                    values.ExternalId,
                    Aliases = JsonSerializer.Serialize(values.Aliases),
                    values.Notes,
                    time,
                    etag = NewEtag(),
                },
                transaction, cancellationToken: cancellationToken));
            await WriteNamesAsync(connection, transaction, id, values.DisplayName, values.Aliases, cancellationToken);
            await AppendChangeAsync(connection, transaction, id, cancellationToken);
            if (requestId is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO request_ids (operation, request_id, resource_id, resource_seq, create_time) VALUES (@op, @requestId, @id, NULL, @time)",
                    new { op = OpCreateBuyer, requestId, id, time }, transaction, cancellationToken: cancellationToken));
            }

            return new BuyerWriteResult(BuyerWriteStatus.Ok, await GetBuyerAsync(connection, transaction, id, cancellationToken));
        }, cancellationToken);

    public Task<BuyerRecord?> GetBuyerAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => GetBuyerAsync(connection, null, id, cancellationToken), cancellationToken);

    public async Task<IReadOnlyList<BuyerRecord>> GetBuyersAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var rows = await database.ReadAsync(connection => connection.QueryAsync<SqliteBuyerRow>(new CommandDefinition(
            $"SELECT {BuyerColumns} FROM buyers WHERE id IN @ids", new { ids }, cancellationToken: cancellationToken)), cancellationToken);
        var byId = rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        return ids.Where(byId.ContainsKey).Select(id => byId[id].ToRecord()).ToList();
    }

    public Task<BuyerWriteResult> UpdateBuyerAsync(string id, BuyerValues values, BuyerFields fields, string? expectedEtag, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var current = await GetBuyerAsync(connection, transaction, id, cancellationToken);
            if (current is null)
            {
                return new BuyerWriteResult(BuyerWriteStatus.NotFound, null);
            }

            if (expectedEtag is not null && expectedEtag != current.Etag)
            {
                return new BuyerWriteResult(BuyerWriteStatus.EtagMismatch, current);
            }

            var has = (BuyerFields f) => (fields & f) != 0;
            var next = new BuyerValues(
                has(BuyerFields.DisplayName) ? values.DisplayName : current.DisplayName,
                has(BuyerFields.Industry) ? values.Industry : current.Industry,
                has(BuyerFields.Market) ? values.Market : current.Market,
                has(BuyerFields.ExternalId) ? values.ExternalId : current.ExternalId,
                has(BuyerFields.Aliases) ? values.Aliases : current.Aliases,
                has(BuyerFields.Notes) ? values.Notes : current.Notes);
            if (next.ExternalId is not null && await ExternalIdOwnerAsync(connection, transaction, next.ExternalId, cancellationToken) is { } owner && owner != id)
            {
                return new BuyerWriteResult(BuyerWriteStatus.ExternalIdTaken, current);
            }

            var reclassify = has(BuyerFields.Notes) || has(BuyerFields.Industry) || has(BuyerFields.Market);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE buyers SET display_name = @DisplayName, name_key = @NameKey, industry = @Industry, industry_key = @IndustryKey, market = @Market,
                    external_id = @ExternalId, aliases = @Aliases, notes = @Notes, update_time = @time, etag = @etag
                WHERE id = @id;
                INSERT OR IGNORE INTO private_reclassify (buyer_key) SELECT key FROM buyers WHERE id = @id AND @reclassify;
                """,
                new
                {
                    id,
                    next.DisplayName,
                    NameKey = BuyerNames.Key(next.DisplayName),
                    next.Industry,
                    IndustryKey = next.Industry is null ? null : BuyerNames.Key(next.Industry),
                    Market = (int)next.Market,
                    next.ExternalId,
                    Aliases = JsonSerializer.Serialize(next.Aliases),
                    next.Notes,
                    time = Ids.Timestamp(now),
                    etag = NewEtag(),
                    reclassify,
                },
                transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM buyer_names WHERE buyer_id = @id", new { id }, transaction, cancellationToken: cancellationToken));
            await WriteNamesAsync(connection, transaction, id, next.DisplayName, next.Aliases, cancellationToken);
            _keys.Clear();
            await AppendChangeAsync(connection, transaction, id, cancellationToken);
            return new BuyerWriteResult(BuyerWriteStatus.Ok, await GetBuyerAsync(connection, transaction, id, cancellationToken));
        }, cancellationToken);

    public Task<BuyerWriteResult> DeleteBuyerAsync(string id, string? expectedEtag, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var etag = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT etag FROM buyers WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));
            if (etag is null)
            {
                return new BuyerWriteResult(BuyerWriteStatus.NotFound, null);
            }

            if (expectedEtag is not null && expectedEtag != etag)
            {
                return new BuyerWriteResult(BuyerWriteStatus.EtagMismatch, null);
            }

            foreach (var table in new[] { "interactions", "buyer_interaction_stats", "private_reclassify" })
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM {table} WHERE buyer_key = (SELECT key FROM buyers WHERE id = @id)", new { id }, transaction, cancellationToken: cancellationToken));
            }

            foreach (var table in new[] { "classification_history", "buyer_names" })
            {
                await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM {table} WHERE buyer_id = @id", new { id }, transaction, cancellationToken: cancellationToken));
            }

            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM buyers WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));
            _keys.Clear();
            await AppendChangeAsync(connection, transaction, id, cancellationToken);
            return new BuyerWriteResult(BuyerWriteStatus.Ok, null);
        }, cancellationToken);

    public async Task<BuyerPage> ListBuyersAsync(BuyerFilter filter, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var parameters = new
        {
            kind = filter.Kind is { } k ? KindText(k) : null,
            industry = filter.Industry is { } i ? BuyerNames.Key(i) : null,
            afterName = after?[0],
            afterId = after?[1],
            limit = pageSize + 1,
        };
        const string Where = "(@kind IS NULL OR kind = @kind) AND (@industry IS NULL OR industry_key = @industry)";
        return await database.ReadAsync(async connection =>
        {
            var rows = (await connection.QueryAsync<SqliteBuyerRow>(new CommandDefinition(
                $"SELECT {BuyerColumns} FROM buyers WHERE {Where} AND (@afterName IS NULL OR (name_key, id) > (@afterName, @afterId)) ORDER BY name_key, id LIMIT @limit",
                parameters, cancellationToken: cancellationToken))).ToList();
            var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                $"SELECT COUNT(*) FROM buyers WHERE {Where}", parameters, cancellationToken: cancellationToken));
            var items = rows.Take(pageSize).ToList();
            var next = rows.Count > pageSize ? PageToken.Encode(items[^1].NameKey, items[^1].Id) : "";
            return new BuyerPage(items.Select(r => r.ToRecord()).ToList(), next, total);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<BuyerRecord>> FindBuyersByNameAsync(string name, int limit, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(connection => connection.QueryAsync<SqliteBuyerRow>(new CommandDefinition(
            $"SELECT {BuyerColumns} FROM buyers WHERE id IN (SELECT buyer_id FROM buyer_names WHERE name_key = @key) ORDER BY create_time, id LIMIT @limit",
            new { key = BuyerNames.Key(name), limit }, cancellationToken: cancellationToken)), cancellationToken);
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public Task<InteractionWriteResult> RecordInteractionAsync(InteractionRecord interaction, string? requestId, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (requestId is not null)
            {
                var earlier = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                    "SELECT resource_seq FROM request_ids WHERE operation = @op AND request_id = @requestId",
                    new { op = OpRecordInteraction, requestId }, transaction, cancellationToken: cancellationToken));
                if (earlier is { } seq)
                {
                    var first = await connection.QuerySingleOrDefaultAsync<SqliteInteractionRow>(new CommandDefinition(
                        $"SELECT {InteractionColumns} FROM {InteractionFrom} WHERE i.seq = @seq", new { seq }, transaction, cancellationToken: cancellationToken));
                    return first is null
                        ? new InteractionWriteResult(InteractionWriteStatus.BuyerNotFound, null)
                        : new InteractionWriteResult(InteractionWriteStatus.Duplicate, first.ToRecord());
                }
            }

            var buyerKey = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT key FROM buyers WHERE id = @BuyerId", new { interaction.BuyerId }, transaction, cancellationToken: cancellationToken));
            if (buyerKey is not { } key)
            {
                return new InteractionWriteResult(InteractionWriteStatus.BuyerNotFound, null);
            }

            using var writer = new InteractionWriter(connection, deferTotals: false);
            var stored = writer.TryInsert(interaction, key);
            if (stored is null)
            {
                var first = await connection.QuerySingleAsync<SqliteInteractionRow>(new CommandDefinition(
                    $"SELECT {InteractionColumns} FROM {InteractionFrom} WHERE i.buyer_key = @key AND i.idempotency_key = @IdempotencyKey",
                    new { key, interaction.IdempotencyKey }, transaction, cancellationToken: cancellationToken));
                return new InteractionWriteResult(InteractionWriteStatus.Duplicate, first.ToRecord());
            }

            writer.Flush();
            if (requestId is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO request_ids (operation, request_id, resource_id, resource_seq, create_time) VALUES (@op, @requestId, @id, @seq, @time)",
                    new { op = OpRecordInteraction, requestId, id = interaction.Id, seq = stored.Value, time = Ids.Timestamp(interaction.CreateTime) },
                    transaction, cancellationToken: cancellationToken));
            }

            return new InteractionWriteResult(InteractionWriteStatus.Created, interaction);
        }, cancellationToken);

    public Task<ImportBatchResult> ImportBatchAsync(IReadOnlyList<ImportItem> items, CancellationToken cancellationToken) =>
        ImportBatchesAsync(items, static () => null, cancellationToken);

    /// <summary>
    /// All the sub-batches in one transaction, each sorted into buyer order on its own. Why: a commit writes every page
    /// the transaction dirtied to the WAL (and the checkpoint copies it again), and with buyers in random order a batch
    /// dirties nearly every page of the per-buyer indexes whatever its size, so fewer, larger transactions write each
    /// page fewer times (the store alone: about 9.5 µs per item in 262,144-item transactions against 12.5-13.5 µs in
    /// 65,536-item ones, docs/benchmarks.md). Taking the items in sub-batches keeps that saving without holding a whole
    /// transaction's items in memory: a sub-batch's items are done with (only their results are kept) before the next.
    /// </summary>
    public async Task<ImportBatchResult> ImportBatchesAsync(IReadOnlyList<ImportItem> first, Func<IReadOnlyList<ImportItem>?> next, CancellationToken cancellationToken)
    {
        var (result, learned, generation) = await database.WriteAsync((connection, transaction) =>
        {
            // Read inside the write lock: an update or delete that committed before this batch has already cleared the cache.
            var generation = _keys.Generation;
            // The totals and marks are folded in later (migration 006, FoldPendingAsync): the rows alone here.
            using var writer = new InteractionWriter(connection, deferTotals: true);
            using var resolver = new BuyerResolver(connection, _keys);
            var results = new List<ImportItemResult>(first.Count);
            for (var items = first; items is not null; items = next())
            {
                ImportSubBatch(items, writer, resolver, results, cancellationToken);
            }

            writer.Flush();
            return Task.FromResult((new ImportBatchResult(results, resolver.Created), resolver.Learned, generation));
        }, ImportCacheKibibytes, cancellationToken);

        // Only committed buyers enter the shared cache: a rolled-back batch must not leave ids behind.
        _keys.Learn(learned, generation);
        // A batch writes thousands of pages; keep the WAL from growing batch after batch (see CheckpointAsync).
        // The batch is committed already, so a checkpoint that cannot finish now is simply tried after the next one.
        if (database.WalBytes > WalCheckpointBytes)
        {
            await database.CheckpointAsync(cancellationToken);
        }
        return result;
    }

    /// <summary>Stores one sub-batch of an import transaction, appending its results (in its input order) to <paramref name="results"/>.</summary>
    private static void ImportSubBatch(IReadOnlyList<ImportItem> items, InteractionWriter writer, BuyerResolver resolver, List<ImportItemResult> results, CancellationToken cancellationToken)
    {
        // Buyers first, then the rows in buyer order. Why: every per-buyer structure (the time, notes and idempotency
        // indexes, the per-type totals, the reclassification marks) is keyed by buyer first, and an import names its
        // buyers in random order, so stream order sends each insert to a random leaf page (a cache miss on every level
        // of the B-tree search, which profiled as the largest single cost of the import). In buyer order consecutive
        // inserts land on the same or the next page. The sort is stable (ties by position), so a buyer's interactions
        // keep their stream order: the first of two items with the same idempotency key is still the one accepted, and
        // sequences still follow arrival within each buyer (nothing orders interactions across buyers by sequence).
        var offset = results.Count;
        CollectionsMarshal.SetCount(results, offset + items.Count);
        var mine = CollectionsMarshal.AsSpan(results)[offset..];
        var order = new (long Key, int Position)[items.Count];
        var resolved = 0;
        for (var i = 0; i < items.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var item = items[i];
            if (resolver.Resolve(item, item.Interaction.CreateTime) is { } key)
            {
                order[resolved++] = (key, i);
            }
            else
            {
                mine[i] = new ImportItemResult(item.Index, ImportItemStatus.Rejected, "interaction.buyer_id", "No buyer has this id.");
            }
        }

        Array.Sort(order, 0, resolved);
        for (var n = 0; n < resolved; n++)
        {
            var (key, i) = order[n];
            var item = items[i];
            var stored = writer.TryInsert(item.Interaction, key);
            mine[i] = new ImportItemResult(item.Index, stored is null ? ImportItemStatus.Duplicate : ImportItemStatus.Accepted, null, null);
        }
    }

    public async Task<InteractionPage?> ListInteractionsAsync(string buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        return await database.ReadAsync(async connection =>
        {
            // One read transaction, so the total and the page agree.
            using var transaction = connection.BeginTransaction(deferred: true);
            var key = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT key FROM buyers WHERE id = @buyerId", new { buyerId }, transaction, cancellationToken: cancellationToken));
            if (key is null)
            {
                return null;
            }

            var found = (Key: key.Value, Total: await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT (SELECT COALESCE(SUM(s.count), 0) FROM buyer_interaction_stats s WHERE s.buyer_key = buyers.key) + " + PendingCountOfBuyers + " FROM buyers WHERE buyers.key = @key",
                new { key }, transaction, cancellationToken: cancellationToken)));

            var rows = (await connection.QueryAsync<SqliteInteractionRow>(new CommandDefinition(
                $"SELECT {InteractionColumns} FROM {InteractionFrom} WHERE i.buyer_key = @key AND (@afterTime IS NULL OR (i.occurred_at, i.seq) < (@afterTime, @afterSeq)) ORDER BY i.occurred_at DESC, i.seq DESC LIMIT @limit",
                new { key = found.Key, afterTime = after is null ? (long?)null : PageToken.Number(after[0]), afterSeq = after is null ? 0 : PageToken.Number(after[1]), limit = pageSize + 1 },
                transaction, cancellationToken: cancellationToken))).ToList();
            var items = rows.Take(pageSize).ToList();
            var next = rows.Count > pageSize
                ? PageToken.Encode(items[^1].OccurredAt.ToString(System.Globalization.CultureInfo.InvariantCulture), items[^1].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture))
                : "";
            return new InteractionPage(items.Select(r => r.ToRecord()).ToList(), next, found.Total);
        }, cancellationToken);
    }

    /// <summary>
    /// The buyer, its per-type totals and its latest notes, read in one transaction through statements kept prepared on
    /// the pooled connection (<see cref="SqliteDatabase.Prepared"/>): every question that names a buyer reads its profile,
    /// and preparing these three queries again each time was most of that read's cost.
    /// </summary>
    public Task<BuyerProfileData?> GetProfileAsync(string buyerId, int recentNotes, CancellationToken cancellationToken) =>
        database.ReadAsync(connection =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            // One read transaction, so the row, the totals and the notes are one consistent view.
            using var transaction = connection.BeginTransaction(deferred: true);
            var buyer = database.Prepared(connection, ProfileBuyerSql);
            buyer.Bind(1, buyerId);
            if (buyer.ReadAll(ReadBuyerRow) is not [var row])
            {
                return Task.FromResult<BuyerProfileData?>(null);
            }

            var statsQuery = database.Prepared(connection, ProfileStatsSql);
            statsQuery.Bind(1, buyerId);
            var stats = statsQuery.ReadAll(static s => new SqliteStatsRow(
                s.Int64(0), s.Int64(1), s.Double(2), s.Int64(3), s.Int64(4), s.Text(5)!, s.Int64(6), s.Text(7)!).ToRecord());

            if (database.Prepared(connection, AnyPendingSql).ScalarInt64() == 1)
            {
                var pendingQuery = database.Prepared(connection, ProfilePendingSql);
                pendingQuery.Bind(1, buyerId);
                var pending = new PendingTotals(stats);
                pendingQuery.ForEach(pending.Add);
                var idQuery = database.Prepared(connection, InteractionIdSql);
                stats = pending.ToList(seq =>
                {
                    idQuery.Bind(1, seq);
                    return idQuery.ReadAll(static s => s.Text(0)!) is [var id] ? id : throw new InvalidOperationException($"Interaction {seq} vanished in a read transaction.");
                });
            }

            List<InteractionNote> notes = [];
            if (recentNotes > 0)
            {
                var notesQuery = database.Prepared(connection, ProfileNotesSql);
                notesQuery.Bind(1, buyerId);
                notesQuery.Bind(2, recentNotes);
                notes = notesQuery.ReadAll(static s => new InteractionNote(s.Text(0)!, FromTicks(s.Int64(1)), s.Text(2)!));
            }

            return Task.FromResult<BuyerProfileData?>(new BuyerProfileData(row.ToRecord(), stats, notes, row.LastSeq));
        }, cancellationToken);

    private const string ProfileBuyerSql = $"SELECT {BuyerColumns} FROM buyers WHERE id = ?1";

    private const string ProfileStatsSql =
        "SELECT s.type, s.count, s.amount_total AS AmountTotal, s.amount_count AS AmountCount, s.first_at AS FirstAt, f.id AS FirstId, s.last_at AS LastAt, l.id AS LastId " +
        "FROM buyer_interaction_stats s JOIN interactions f ON f.seq = s.first_seq JOIN interactions l ON l.seq = s.last_seq WHERE s.buyer_key = (SELECT key FROM buyers WHERE id = ?1) ORDER BY s.type";

    private const string AnyPendingSql = "SELECT " + AnyPending;

    /// <summary>
    /// The buyer's interactions not folded into its totals yet (see <see cref="PendingTotals"/>), in the time index's
    /// order: no ORDER BY, because sorting a long pending history by sequence was a fifth of this read (a temporary
    /// B-tree of every row with its id). The sequence stands in for the id, which is read for the few firsts and lasts only.
    /// </summary>
    private const string ProfilePendingSql =
        "SELECT u.type, u.occurred_at, u.amount, u.seq FROM buyers JOIN interactions u INDEXED BY interactions_buyer_time ON u.buyer_key = buyers.key " +
        "WHERE buyers.id = ?1 AND u.seq > " + FoldedSeq;

    private const string InteractionIdSql = "SELECT id FROM interactions WHERE seq = ?1";

    /// <summary>
    /// The folded per-type totals with the pending interactions added, exactly as folding them would (first: the earliest
    /// time, the first stored among equals; last: the latest, the last stored among equals). Rows may come in any order:
    /// each is compared by (time, sequence), and every pending row was stored after every folded one, so a folded first
    /// or last carries sequence 0. Right after a large import a buyer may have a long pending history; a row costs no
    /// allocation, and the ids of the firsts and lasts that came from pending rows are read once at the end.
    /// </summary>
    private sealed class PendingTotals
    {
        private readonly SortedDictionary<InteractionKind, Totals> _byType = [];

        public PendingTotals(List<InteractionTypeStats> folded)
        {
            foreach (var s in folded)
            {
                _byType[s.Type] = new Totals
                {
                    Count = s.Count,
                    AmountTotal = s.AmountTotal,
                    AmountCount = s.AmountCount,
                    FirstAt = s.FirstAt.UtcTicks,
                    FirstId = s.FirstInteractionId,
                    LastAt = s.LastAt.UtcTicks,
                    LastId = s.LastInteractionId,
                };
            }
        }

        /// <summary>Adds one row of <see cref="ProfilePendingSql"/>.</summary>
        public void Add(RawStatement row)
        {
            var type = (InteractionKind)row.Int64(0);
            var at = row.Int64(1);
            var seq = row.Int64(3);
            if (!_byType.TryGetValue(type, out var t))
            {
                t = new Totals { FirstAt = at, FirstSeq = seq, LastAt = at, LastSeq = seq };
                _byType[type] = t;
            }
            else
            {
                if (at < t.FirstAt || (at == t.FirstAt && seq < t.FirstSeq))
                {
                    t.FirstAt = at;
                    t.FirstSeq = seq;
                    t.FirstId = null;
                }

                if (at > t.LastAt || (at == t.LastAt && seq > t.LastSeq))
                {
                    t.LastAt = at;
                    t.LastSeq = seq;
                    t.LastId = null;
                }
            }

            t.Count++;
            if (!row.IsNull(2))
            {
                t.AmountTotal += row.Double(2);
                t.AmountCount++;
            }
        }

        /// <summary>The totals, with the ids of pending firsts and lasts read by sequence through <paramref name="idOf"/>.</summary>
        public List<InteractionTypeStats> ToList(Func<long, string> idOf) =>
            _byType.Select(p => new InteractionTypeStats(p.Key, p.Value.Count, p.Value.AmountTotal, p.Value.AmountCount,
                FromTicks(p.Value.FirstAt), p.Value.FirstId ?? idOf(p.Value.FirstSeq), FromTicks(p.Value.LastAt), p.Value.LastId ?? idOf(p.Value.LastSeq))).ToList();

        private sealed class Totals
        {
            public long Count { get; set; }

            public double AmountTotal { get; set; }

            public long AmountCount { get; set; }

            public long FirstAt { get; set; }

            /// <summary>0 for a folded row: stored before every pending one.</summary>
            public long FirstSeq { get; set; }

            /// <summary>Null while the first is a pending row whose id has not been read.</summary>
            public string? FirstId { get; set; }

            public long LastAt { get; set; }

            public long LastSeq { get; set; }

            public string? LastId { get; set; }
        }
    }

    private const string ProfileNotesSql =
        "SELECT id, occurred_at, note FROM interactions WHERE buyer_key = (SELECT key FROM buyers WHERE id = ?1) AND note IS NOT NULL ORDER BY occurred_at DESC, seq DESC LIMIT ?2";

    /// <summary>
    /// A row of <see cref="BuyerColumns"/>, column by column as Dapper maps it to <see cref="SqliteBuyerRow"/>: a NULL
    /// leaves the property's default.
    /// </summary>
    private static SqliteBuyerRow ReadBuyerRow(RawStatement row) => new()
    {
        Id = row.Text(0) ?? "",
        DisplayName = row.Text(1) ?? "",
        NameKey = row.Text(2) ?? "",
        Industry = row.Text(3),
        Market = row.IsNull(4) ? 0 : row.Int64(4),
        ExternalId = row.Text(5),
        Aliases = row.Text(6) ?? "[]",
        Notes = row.Text(7),
        CreateTime = row.Text(8) ?? "",
        UpdateTime = row.Text(9) ?? "",
        Etag = row.Text(10) ?? "",
        Kind = row.Text(11),
        Confidence = row.IsNull(12) ? null : row.Double(12),
        Score = row.IsNull(13) ? null : row.Double(13),
        Summary = row.Text(14),
        RuleSetVersion = row.Text(15),
        ClassifyTime = row.Text(16),
        InteractionCount = row.IsNull(17) ? 0 : row.Int64(17),
        LastSeq = row.IsNull(18) ? 0 : row.Int64(18),
    };

    public Task<ClassificationSaveResult> SaveClassificationAsync(string buyerId, StoredClassification classification, long upToSequence, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var current = await connection.QuerySingleOrDefaultAsync<(string? Kind, string? RuleSetVersion, long ClassifiedSeq)?>(new CommandDefinition(
                "SELECT kind, rule_set_version, classified_seq FROM buyers WHERE id = @buyerId", new { buyerId }, transaction, cancellationToken: cancellationToken));
            if (current is null)
            {
                return new ClassificationSaveResult(false, false, null);
            }

            var previousKind = current.Value.Kind is null ? (Kind?)null : ParseKind(current.Value.Kind);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE buyers SET kind = @kind, confidence = @Confidence, score = @Score, summary = @Summary, rule_set_version = @RuleSetVersion,
                    classify_time = @time, classified_seq = MAX(classified_seq, @upToSequence)
                WHERE id = @buyerId;
                DELETE FROM private_reclassify WHERE buyer_key = (SELECT key FROM buyers WHERE id = @buyerId)
                    AND (SELECT COALESCE(MAX(s.last_seq), 0) FROM buyer_interaction_stats s WHERE s.buyer_key = private_reclassify.buyer_key) <= @upToSequence;
                """,
                new { buyerId, kind = KindText(classification.Kind), classification.Confidence, classification.Score, classification.Summary, classification.RuleSetVersion, time = Ids.Timestamp(classification.Time), upToSequence },
                transaction, cancellationToken: cancellationToken));
            if (previousKind == classification.Kind && current.Value.RuleSetVersion == classification.RuleSetVersion)
            {
                return new ClassificationSaveResult(true, false, null);
            }

            var kindChanged = previousKind is { } p ? p != classification.Kind : classification.Kind != Kind.Undetermined;
            IReadOnlyList<string> interactionIds = kindChanged
                ? (await connection.QueryAsync<string>(new CommandDefinition(
                    "SELECT id FROM interactions WHERE buyer_key = (SELECT key FROM buyers WHERE id = @buyerId) AND seq > @from AND seq <= @upToSequence ORDER BY seq DESC LIMIT 20",
                    new { buyerId, from = current.Value.ClassifiedSeq, upToSequence }, transaction, cancellationToken: cancellationToken))).ToList()
                : [];
            var entry = new ClassificationHistoryRecord(Ids.New("cc"), buyerId, classification.Kind, previousKind, classification.Confidence, classification.Score,
                classification.Summary, classification.RuleSetVersion, classification.Time, interactionIds);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO classification_history (id, buyer_id, kind, previous_kind, kind_changed, confidence, score, summary, rule_set_version, time, interaction_ids)
                VALUES (@Id, @BuyerId, @kind, @previousKind, @kindChanged, @Confidence, @Score, @Summary, @RuleSetVersion, @time, @ids)
                """,
                new
                {
                    entry.Id,
                    entry.BuyerId,
                    kind = KindText(entry.Kind),
                    previousKind = current.Value.Kind,
                    kindChanged = kindChanged ? 1 : 0,
                    entry.Confidence,
                    entry.Score,
                    entry.Summary,
                    entry.RuleSetVersion,
                    time = Ids.Timestamp(entry.Time),
                    ids = JsonSerializer.Serialize(interactionIds),
                },
                transaction, cancellationToken: cancellationToken));
            return new ClassificationSaveResult(true, kindChanged, entry);
        }, cancellationToken);

    public async Task<IReadOnlyList<string>> ListBuyersToReclassifyAsync(int limit, CancellationToken cancellationToken)
    {
        // The marks of imported interactions are set when they are folded (migration 006). A chunk is folded only while
        // fewer than `limit` buyers are marked, so the answer is what it would be with everything folded (all the marked
        // buyers, or `limit` of them), and a worker round during a long import folds at most one chunk.
        while (true)
        {
            var ids = (await database.ReadAsync(connection => connection.QueryAsync<string>(new CommandDefinition(
                "SELECT b.id FROM private_reclassify r JOIN buyers b ON b.key = r.buyer_key LIMIT @limit", new { limit }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
            if (ids.Count >= limit)
            {
                return ids;
            }

            var (folded, morePending) = await FoldPendingAsync(database, 1, cancellationToken);
            if (Interlocked.Add(ref _foldedSinceCompaction, folded) >= LargeFold && !morePending)
            {
                // As at the end of a large import (InteractionImporter): return the chunks' garbage to the system, a
                // one-off bulk load is not followed by another burst that would reuse it.
                Interlocked.Exchange(ref _foldedSinceCompaction, 0);
                Hosting.MemoryRelease.AfterBulkWork();
            }

            if (folded == 0)
            {
                return ids;
            }
        }
    }

    /// <summary>Rows folded since the last compacting collection (see <see cref="LargeFold"/>).</summary>
    private long _foldedSinceCompaction;

    /// <summary>Interactions folded per transaction by <see cref="FoldPendingAsync"/>: large, because a chunk rewrites most pages of the totals however many rows it holds.</summary>
    private const int FoldChunk = 65_536;

    /// <summary>
    /// Folds interactions above <c>private_fold.folded_seq</c> (at most <paramref name="maxChunks"/> chunks) into the per-type totals and the reclassification marks
    /// (migration 006), in chunks of <see cref="FoldChunk"/> in sequence order, one write transaction each. Called by the
    /// background reclassification worker (through <see cref="ListBuyersToReclassifyAsync"/>) and before a copy to
    /// PostgreSQL. Why not in the import's transaction: a batch's buyers are random, so its totals upserts and marks
    /// dirty most pages of both tables; folded later in chunks twice the import batch, after the import has acknowledged,
    /// that work is off the import's path and each page is written once per chunk. Reads add the pending rows, so the
    /// result of folding is never visible as a change.
    /// </summary>
    /// <returns>The rows folded, and whether any are still pending (when <paramref name="maxChunks"/> ran out).</returns>
    internal static async Task<(long Folded, bool MorePending)> FoldPendingAsync(SqliteDatabase database, int maxChunks, CancellationToken cancellationToken)
    {
        long folded = 0;
        for (var chunk = 0; ; chunk++)
        {
            if (!await database.ReadAsync(connection => Task.FromResult(database.Prepared(connection, AnyPendingSql).ScalarInt64() == 1), cancellationToken))
            {
                return (folded, false);
            }

            if (chunk == maxChunks)
            {
                return (folded, true);
            }

            folded += await database.WriteAsync((connection, _) =>
            {
                using var read = new RawStatement(connection,
                    "SELECT seq, buyer_key, type, occurred_at, amount FROM interactions WHERE seq > " + FoldedSeq + " ORDER BY seq LIMIT ?1");
                read.Bind(1, FoldChunk);
                var rows = read.ReadAll(static s => (Seq: s.Int64(0), Buyer: s.Int64(1), Type: (int)s.Int64(2), At: s.Int64(3), Amount: s.IsNull(4) ? (double?)null : s.Double(4)));
                if (rows.Count == 0)
                {
                    return Task.FromResult(0);
                }

                var totals = new TotalsWriter(connection);
                foreach (var (seq, buyer, type, at, amount) in rows)
                {
                    totals.Add(buyer, type, at, seq, amount);
                }

                totals.Write(rows[^1].Seq);
                return Task.FromResult(rows.Count);
            }, ImportCacheKibibytes, cancellationToken);
            // As after an import batch: the chunk's page cache went back to malloc, which keeps it resident unless trimmed.
            Hosting.MallocArenas.Trim();
            if (database.WalBytes > WalCheckpointBytes)
            {
                await database.CheckpointAsync(cancellationToken);
            }
        }
    }

    /// <summary>Folds of at least this many rows end with a compacting collection (as imports do after <c>Buyers:ImportCompactAfterItems</c>).</summary>
    private const long LargeFold = 100_000;

    public Task<Page<ClassificationHistoryRecord>> ListClassificationHistoryAsync(string buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        ListHistoryAsync("buyer_id = @buyerId", buyerId, pageSize, pageToken, cancellationToken);

    public Task<Page<ClassificationHistoryRecord>> ListClassificationChangesAsync(string? buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        ListHistoryAsync(buyerId is null ? "kind_changed = 1" : "buyer_id = @buyerId AND kind_changed = 1", buyerId, pageSize, pageToken, cancellationToken);

    public async Task<IReadOnlyList<BuyerNameChange>> ListNameChangesAsync(long afterSequence, int limit, CancellationToken cancellationToken)
    {
        // Every search and every question naming a buyer runs this first, mostly to find nothing new: a statement kept
        // prepared on the pooled connection (see GetProfileAsync).
        return await database.ReadAsync(connection =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var query = database.Prepared(connection, NameChangesSql);
            query.Bind(1, afterSequence);
            query.Bind(2, limit);
            var changes = query.ReadAll(static s =>
            {
                var displayName = s.Text(2);
                var aliases = s.Text(3);
                return new BuyerNameChange(s.Int64(0), s.Text(1)!, displayName is null, displayName, aliases is null ? [] : ParseList(aliases));
            });
            return Task.FromResult<IReadOnlyList<BuyerNameChange>>(changes);
        }, cancellationToken);
    }

    private const string NameChangesSql =
        "SELECT c.seq, c.buyer_id, b.display_name, b.aliases FROM buyer_changes c LEFT JOIN buyers b ON b.id = c.buyer_id WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2";

    private async Task<Page<ClassificationHistoryRecord>> ListHistoryAsync(string where, string? buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 1);
        var afterSeq = after is null ? long.MaxValue : PageToken.Number(after[0]);
        var rows = (await database.ReadAsync(connection => connection.QueryAsync<HistoryRow>(new CommandDefinition(
            $"SELECT seq, id, buyer_id AS BuyerId, kind, previous_kind AS PreviousKind, confidence, score, summary, rule_set_version AS RuleSetVersion, time, interaction_ids AS InteractionIds FROM classification_history WHERE {where} AND seq < @afterSeq ORDER BY seq DESC LIMIT @limit",
            new { buyerId, afterSeq, limit = pageSize + 1 }, cancellationToken: cancellationToken)), cancellationToken)).ToList();
        var items = rows.Take(pageSize).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(items[^1].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)) : "";
        return new Page<ClassificationHistoryRecord>(items.Select(r => r.ToRecord()).ToList(), next);
    }

    private static async Task<BuyerRecord?> GetBuyerAsync(SqliteConnection connection, SqliteTransaction? transaction, string id, CancellationToken cancellationToken) =>
        (await connection.QuerySingleOrDefaultAsync<SqliteBuyerRow>(new CommandDefinition(
            $"SELECT {BuyerColumns} FROM buyers WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken)))?.ToRecord();

    private static Task<string?> ExternalIdOwnerAsync(SqliteConnection connection, SqliteTransaction transaction, string externalId, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT id FROM buyers WHERE external_id = @externalId", new { externalId }, transaction, cancellationToken: cancellationToken));

    private static async Task WriteNamesAsync(SqliteConnection connection, SqliteTransaction transaction, string id, string displayName, IReadOnlyList<string> aliases, CancellationToken cancellationToken)
    {
        var keys = aliases.Prepend(displayName).Select(BuyerNames.Key).Where(k => k.Length > 0).Distinct(StringComparer.Ordinal);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT OR IGNORE INTO buyer_names (name_key, buyer_id) VALUES (@key, @id)", keys.Select(key => new { key, id }), transaction, cancellationToken: cancellationToken));
    }

    private static Task AppendChangeAsync(SqliteConnection connection, SqliteTransaction transaction, string id, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("INSERT INTO buyer_changes (buyer_id) VALUES (@id)", new { id }, transaction, cancellationToken: cancellationToken));

    private static string NewEtag() => Guid.NewGuid().ToString("N")[..16];

    internal static string KindText(Kind kind) => kind.ToString().ToLowerInvariant();

    internal static Kind ParseKind(string text) => Enum.Parse<Kind>(text, ignoreCase: true);

    internal static IReadOnlyList<string> ParseList(string json) => JsonSerializer.Deserialize<List<string>>(json) ?? [];

    /// <summary>
    /// Inserts interactions with prepared commands and accumulates the per-buyer and per-type totals in memory,
    /// writing them once per buyer (and type) in <see cref="Flush"/>, before the transaction commits.
    /// Sequences are assigned here: the writer runs inside the write transaction, so nobody else can take one.
    /// </summary>
    private sealed class InteractionWriter : IDisposable
    {
        private readonly RawStatement _insert;
        private readonly TotalsWriter? _totals;
        private long _nextSeq;

        /// <param name="deferTotals">
        /// Leave the totals and marks to <see cref="FoldPendingAsync"/> (imports). Otherwise they are written in this
        /// transaction when nothing older is pending (a fold must see rows in sequence order), and deferred when something is.
        /// </param>
        public InteractionWriter(SqliteConnection connection, bool deferTotals)
        {
            using (var max = new RawStatement(connection, "SELECT COALESCE(MAX(seq), 0), " + FoldedSeq + " FROM interactions"))
            {
                var (last, folded) = max.ReadAll(static s => (s.Int64(0), s.Int64(1)))[0];
                // Past folded_seq even when the newest rows were deleted: a sequence at or below it would never be folded.
                _nextSeq = Math.Max(last, folded) + 1;
                _totals = deferTotals || folded < last ? null : new TotalsWriter(connection);
            }

            _insert = new RawStatement(connection,
                "INSERT INTO interactions (seq, id, buyer_key, type, occurred_at, amount, currency, channel, note, idempotency_key, create_time) " +
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING");
        }

        /// <summary>Inserts the interaction for the buyer with key <paramref name="buyerKey"/> (its BuyerId is not read); its sequence, or null when the buyer already has its idempotency key.</summary>
        public long? TryInsert(InteractionRecord interaction, long buyerKey)
        {
            var seq = _nextSeq;
            var at = interaction.OccurredAt.UtcTicks;
            _insert.Bind(1, seq);
            _insert.Bind(2, interaction.Id);
            _insert.Bind(3, buyerKey);
            _insert.Bind(4, (int)interaction.Type);
            _insert.Bind(5, at);
            _insert.Bind(6, interaction.Amount);
            _insert.Bind(7, interaction.Currency);
            _insert.Bind(8, interaction.Channel);
            _insert.Bind(9, interaction.Note);
            _insert.Bind(10, interaction.IdempotencyKey);
            _insert.Bind(11, interaction.CreateTime.UtcTicks);
            if (_insert.Execute() == 0)
            {
                return null;
            }

            _nextSeq++;
            _totals?.Add(buyerKey, (int)interaction.Type, at, seq, interaction.Amount);
            return seq;
        }

        /// <summary>Writes the accumulated totals and marks (when they are not deferred).</summary>
        public void Flush() => _totals?.Write(_nextSeq - 1);

        public void Dispose() => _insert.Dispose();
    }

    /// <summary>
    /// Accumulates per-type totals and the buyers to mark for rows given in sequence order, and writes them with the
    /// fold position (<c>private_fold.folded_seq</c>) in <see cref="Write"/>.
    /// </summary>
    private sealed class TotalsWriter(SqliteConnection connection)
    {
        private readonly Dictionary<(long Buyer, int Type), InteractionTypeTotals<long, TicksOrder>> _stats = [];
        private readonly Dictionary<long, long> _buyers = [];

        public void Add(long buyerKey, int type, long at, long seq, double? amount)
        {
            var key = (buyerKey, type);
            if (!_stats.TryGetValue(key, out var stats))
            {
                stats = new InteractionTypeTotals<long, TicksOrder>(at, seq);
                _stats[key] = stats;
            }

            stats.Add(at, seq, amount);
            _buyers[buyerKey] = seq;
        }

        /// <summary>Writes the totals and marks, in buyer order (neighbouring pages), and records that every row up to <paramref name="foldedSeq"/> is in them.</summary>
        public void Write(long foldedSeq)
        {
            if (_stats.Count > 0)
            {
                using var upsert = new RawStatement(connection,
                    """
                    INSERT INTO buyer_interaction_stats (buyer_key, type, count, amount_total, amount_count, first_at, first_seq, last_at, last_seq)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                    ON CONFLICT (buyer_key, type) DO UPDATE SET
                        count = count + excluded.count,
                        amount_total = amount_total + excluded.amount_total,
                        amount_count = amount_count + excluded.amount_count,
                        first_seq = CASE WHEN excluded.first_at < first_at THEN excluded.first_seq ELSE first_seq END,
                        first_at = MIN(first_at, excluded.first_at),
                        last_seq = CASE WHEN excluded.last_at >= last_at THEN excluded.last_seq ELSE last_seq END,
                        last_at = MAX(last_at, excluded.last_at)
                    """);
                // Sorted with their totals, so a chunk's 65,536 rows are not looked up a second time.
                var entries = _stats.ToArray();
                Array.Sort(entries, static (a, b) => a.Key.CompareTo(b.Key));
                foreach (var ((buyer, type), s) in entries)
                {
                    upsert.Bind(1, buyer);
                    upsert.Bind(2, type);
                    upsert.Bind(3, s.Count);
                    upsert.Bind(4, s.AmountTotal);
                    upsert.Bind(5, s.AmountCount);
                    upsert.Bind(6, s.FirstAt);
                    upsert.Bind(7, s.FirstSeq);
                    upsert.Bind(8, s.LastAt);
                    upsert.Bind(9, s.LastSeq);
                    upsert.Execute();
                }

                _stats.Clear();
            }

            if (_buyers.Count > 0)
            {
                // The mark only: the count and last sequence are read from the totals (migration 005), so the wide
                // buyer row is not rewritten for every buyer a batch touches. A buyer already classified past its newest
                // folded row (ClassifyBuyer read the pending rows) needs no mark.
                using var mark = new RawStatement(connection, "INSERT OR IGNORE INTO private_reclassify (buyer_key) SELECT key FROM buyers WHERE key = ?1 AND classified_seq < ?2");
                var buyers = _buyers.ToArray();
                Array.Sort(buyers, static (a, b) => a.Key.CompareTo(b.Key));
                foreach (var (buyer, lastSeq) in buyers)
                {
                    mark.Bind(1, buyer);
                    mark.Bind(2, lastSeq);
                    mark.Execute();
                }

                _buyers.Clear();
            }

            using var fold = new RawStatement(connection, "UPDATE private_fold SET folded_seq = MAX(folded_seq, ?1)");
            fold.Bind(1, foldedSeq);
            fold.Execute();
        }
    }

    /// <summary>
    /// Finds or creates the buyer an import item names, with prepared commands and a cache for the batch
    /// (imports usually carry many interactions per buyer).
    /// </summary>
    private sealed class BuyerResolver : IDisposable
    {
        private readonly RawStatement _byId;
        private readonly RawStatement _byExternalId;
        private readonly RawStatement _byName;
        private readonly RawStatement _insertBuyer;
        private readonly RawStatement _insertName;
        private readonly RawStatement _insertChange;
        private readonly Dictionary<string, long?> _ids = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _externalIds = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _names = new(StringComparer.Ordinal);
        private readonly ImportKeyCache _shared;

        public BuyerResolver(SqliteConnection connection, ImportKeyCache shared)
        {
            _shared = shared;
            _byId = new RawStatement(connection, "SELECT key FROM buyers WHERE id = ?1");
            _byExternalId = new RawStatement(connection, "SELECT key FROM buyers WHERE external_id = ?1");
            _byName = new RawStatement(connection, "SELECT b.key FROM buyer_names n JOIN buyers b ON b.id = n.buyer_id WHERE n.name_key = ?1 ORDER BY b.create_time, b.id LIMIT 1");
            _insertBuyer = new RawStatement(connection,
                "INSERT INTO buyers (id, display_name, name_key, external_id, create_time, update_time, etag) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) RETURNING key");
            _insertName = new RawStatement(connection, "INSERT OR IGNORE INTO buyer_names (name_key, buyer_id) VALUES (?1, ?2)");
            _insertChange = new RawStatement(connection, "INSERT INTO buyer_changes (buyer_id) VALUES (?1)");
        }

        public int Created { get; private set; }

        /// <summary>What this batch learned (external id and name keys to buyer keys), for the shared cache after commit.</summary>
        public (Dictionary<string, long> ExternalIds, Dictionary<string, long> Names) Learned => (_externalIds, _names);

        /// <summary>The key of the buyer the item names (created when an external id or name matches nobody), or null for an unknown buyer id.</summary>
        public long? Resolve(ImportItem item, DateTimeOffset now)
        {
            if (!string.IsNullOrEmpty(item.BuyerId))
            {
                if (!_ids.TryGetValue(item.BuyerId, out var found))
                {
                    found = Scalar(_byId, item.BuyerId);
                    _ids[item.BuyerId] = found;
                }

                return found;
            }

            if (!string.IsNullOrEmpty(item.BuyerExternalId))
            {
                if (_externalIds.TryGetValue(item.BuyerExternalId, out var cached) || _shared.TryExternalId(item.BuyerExternalId, out cached))
                {
                    return cached;
                }

                var id = Scalar(_byExternalId, item.BuyerExternalId)
                    ?? Create(string.IsNullOrWhiteSpace(item.BuyerDisplayName) ? item.BuyerExternalId : item.BuyerDisplayName, item.BuyerExternalId, now);
                _externalIds[item.BuyerExternalId] = id;
                return id;
            }

            if (!string.IsNullOrWhiteSpace(item.BuyerDisplayName))
            {
                var key = BuyerNames.Key(item.BuyerDisplayName);
                if (_names.TryGetValue(key, out var cached) || _shared.TryName(key, out cached))
                {
                    return cached;
                }

                var id = Scalar(_byName, key) ?? Create(item.BuyerDisplayName, null, now);
                _names[key] = id;
                return id;
            }

            return null;
        }

        private long Create(string displayName, string? externalId, DateTimeOffset now)
        {
            var id = Ids.New("b");
            var name = displayName.Trim();
            var key = BuyerNames.Key(name);
            var time = Ids.Timestamp(now);
            _insertBuyer.Bind(1, id);
            _insertBuyer.Bind(2, name);
            _insertBuyer.Bind(3, key);
            _insertBuyer.Bind(4, externalId);
            _insertBuyer.Bind(5, time);
            _insertBuyer.Bind(6, NewEtag());
            var buyerKey = _insertBuyer.ScalarInt64()!.Value;
            _insertName.Bind(1, key);
            _insertName.Bind(2, id);
            _insertName.Execute();
            _insertChange.Bind(1, id);
            _insertChange.Execute();
            // Not cached under its name as well: the caller caches it under the key it was looked up by, and a later
            // lookup by name finds the buyer_names row this transaction wrote. One entry per buyer keeps the cache small.
            Created++;
            return buyerKey;
        }

        private static long? Scalar(RawStatement statement, string value)
        {
            statement.Bind(1, value);
            return statement.ScalarInt64();
        }

        public void Dispose()
        {
            foreach (var command in new[] { _byId, _byExternalId, _byName, _insertBuyer, _insertName, _insertChange })
            {
                command.Dispose();
            }
        }
    }
}

/// <summary>
/// External ids and names that imports resolved to buyers, kept across batches so an import with many interactions
/// per buyer looks each buyer up once. Valid because this process is the file's only writer (SQLite serves one
/// server); any update or delete of a buyer clears it. Bounded: cleared when full.
/// </summary>
internal sealed class ImportKeyCache
{
    private const int Capacity = 200_000;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _externalIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _names = new(StringComparer.Ordinal);
    private long _generation;

    /// <summary>Changes on every <see cref="Clear"/>; what a batch learned under an older generation may be stale.</summary>
    public long Generation
    {
        get
        {
            lock (_lock)
            {
                return _generation;
            }
        }
    }

    public bool TryExternalId(string externalId, out long key)
    {
        lock (_lock)
        {
            return _externalIds.TryGetValue(externalId, out key);
        }
    }

    public bool TryName(string nameKey, out long key)
    {
        lock (_lock)
        {
            return _names.TryGetValue(nameKey, out key);
        }
    }

    public void Learn((Dictionary<string, long> ExternalIds, Dictionary<string, long> Names) learned, long generation)
    {
        lock (_lock)
        {
            if (generation != _generation)
            {
                // A buyer was updated or deleted since the batch started: what it learned may name a buyer that is gone.
                return;
            }

            if (_externalIds.Count + _names.Count + learned.ExternalIds.Count + learned.Names.Count > Capacity)
            {
                _externalIds.Clear();
                _names.Clear();
            }

            foreach (var (key, id) in learned.ExternalIds)
            {
                _externalIds[key] = id;
            }

            foreach (var (key, id) in learned.Names)
            {
                _names[key] = id;
            }
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _generation++;
            _externalIds.Clear();
            _names.Clear();
        }
    }
}

/// <summary>A buyer row as stored. No CASTs: on an empty result SQLite reports a cast column as a blob, which breaks materialisation.</summary>
internal sealed record BuyerRow(
    string Id,
    string DisplayName,
    string NameKey,
    string? Industry,
    long Market,
    string? ExternalId,
    string Aliases,
    string? Notes,
    string CreateTime,
    string UpdateTime,
    string Etag,
    string? Kind,
    double? Confidence,
    double? Score,
    string? Summary,
    string? RuleSetVersion,
    string? ClassifyTime,
    long InteractionCount,
    long LastSeq)
{
    public const string Columns =
        "id, display_name AS DisplayName, name_key AS NameKey, industry, market AS Market, external_id AS ExternalId, aliases, notes, " +
        "create_time AS CreateTime, update_time AS UpdateTime, etag, kind, confidence, score, summary, rule_set_version AS RuleSetVersion, " +
        "classify_time AS ClassifyTime, interaction_count AS InteractionCount, last_seq AS LastSeq";

    public BuyerRecord ToRecord() => new(
        Id,
        DisplayName,
        Industry,
        (MarketKind)Market,
        ExternalId,
        SqliteBuyerStore.ParseList(Aliases),
        Notes,
        Ids.ParseTimestamp(CreateTime),
        Ids.ParseTimestamp(UpdateTime),
        Etag,
        Kind is null || ClassifyTime is null
            ? null
            : new StoredClassification(SqliteBuyerStore.ParseKind(Kind), Confidence ?? 0, Score ?? 0, Summary ?? "", RuleSetVersion ?? "", Ids.ParseTimestamp(ClassifyTime)),
        InteractionCount);
}

/// <summary>An interaction row of the SQLite store (times as ticks).</summary>
internal sealed record SqliteInteractionRow(long Seq, string Id, string BuyerId, long Type, long OccurredAt, double? Amount, string? Currency, string? Channel, string? Note, string? IdempotencyKey, long CreateTime)
{
    public InteractionRecord ToRecord() =>
        new(Id, BuyerId, (InteractionKind)Type, SqliteBuyerStore.FromTicks(OccurredAt), Amount, Currency, Channel, Note, IdempotencyKey, SqliteBuyerStore.FromTicks(CreateTime));
}

/// <summary>Per-type totals of the SQLite store (times as ticks).</summary>
internal sealed record SqliteStatsRow(long Type, long Count, double AmountTotal, long AmountCount, long FirstAt, string FirstId, long LastAt, string LastId)
{
    public InteractionTypeStats ToRecord() =>
        new((InteractionKind)Type, Count, AmountTotal, AmountCount, SqliteBuyerStore.FromTicks(FirstAt), FirstId, SqliteBuyerStore.FromTicks(LastAt), LastId);
}

/// <summary>
/// A buyer row of the SQLite store. A class with setters, not a positional record like <see cref="BuyerRow"/>: the count
/// and last sequence are subquery columns without a declared type, which SQLite reports as blobs on an empty result,
/// and Dapper matches a record's constructor to those types even when there is no row.
/// </summary>
internal sealed class SqliteBuyerRow
{
    public string Id { get; init; } = "";

    public string DisplayName { get; init; } = "";

    public string NameKey { get; init; } = "";

    public string? Industry { get; init; }

    public long Market { get; init; }

    public string? ExternalId { get; init; }

    public string Aliases { get; init; } = "[]";

    public string? Notes { get; init; }

    public string CreateTime { get; init; } = "";

    public string UpdateTime { get; init; } = "";

    public string Etag { get; init; } = "";

    public string? Kind { get; init; }

    public double? Confidence { get; init; }

    public double? Score { get; init; }

    public string? Summary { get; init; }

    public string? RuleSetVersion { get; init; }

    public string? ClassifyTime { get; init; }

    public long InteractionCount { get; init; }

    public long LastSeq { get; init; }

    public BuyerRecord ToRecord() =>
        new BuyerRow(Id, DisplayName, NameKey, Industry, Market, ExternalId, Aliases, Notes, CreateTime, UpdateTime, Etag, Kind, Confidence, Score, Summary, RuleSetVersion, ClassifyTime, InteractionCount, LastSeq).ToRecord();
}

/// <summary>An interaction row as stored.</summary>
internal sealed record InteractionRow(long Seq, string Id, string BuyerId, long Type, string OccurredAt, double? Amount, string? Currency, string? Channel, string? Note, string? IdempotencyKey, string CreateTime)
{
    public const string Columns =
        "seq AS Seq, id, buyer_id AS BuyerId, type AS Type, occurred_at AS OccurredAt, amount, currency, channel, note, idempotency_key AS IdempotencyKey, create_time AS CreateTime";

    public InteractionRecord ToRecord() =>
        new(Id, BuyerId, (InteractionKind)Type, Ids.ParseTimestamp(OccurredAt), Amount, Currency, Channel, Note, IdempotencyKey, Ids.ParseTimestamp(CreateTime));
}

internal sealed record StatsRow(long Type, long Count, double AmountTotal, long AmountCount, string FirstAt, string FirstId, string LastAt, string LastId)
{
    public InteractionTypeStats ToRecord() =>
        new((InteractionKind)Type, Count, AmountTotal, AmountCount, Ids.ParseTimestamp(FirstAt), FirstId, Ids.ParseTimestamp(LastAt), LastId);
}

internal sealed record HistoryRow(long Seq, string Id, string BuyerId, string Kind, string? PreviousKind, double Confidence, double Score, string Summary, string RuleSetVersion, string Time, string InteractionIds)
{
    public ClassificationHistoryRecord ToRecord() => new(
        Id,
        BuyerId,
        SqliteBuyerStore.ParseKind(Kind),
        PreviousKind is null ? null : SqliteBuyerStore.ParseKind(PreviousKind),
        Confidence,
        Score,
        Summary,
        RuleSetVersion,
        Ids.ParseTimestamp(Time),
        SqliteBuyerStore.ParseList(InteractionIds));
}
