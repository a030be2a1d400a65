using System.Text.Json;
using Advisor.Server.Classification;
using Advisor.Server.Storage.Sqlite;
using Dapper;
using Npgsql;

namespace Advisor.Server.Storage.Postgres;

/// <summary>
/// The buyer registry on PostgreSQL, shared by several servers. SQLite serialises every writer; here writers on
/// different servers run at once, so the store takes locks in one fixed order, which rules out lock cycles:
/// <list type="number">
/// <item>a request id's advisory lock (retries of one request take turns, and the second finds the first's result);</item>
/// <item>buyer rows, in id order (<c>FOR NO KEY UPDATE</c>: interactions of one buyer get their seq and commit in order;
/// <c>FOR UPDATE</c> for an etag-checked update or delete);</item>
/// <item>the change-feed lock, taken by every transaction that creates, changes or deletes a buyer, and held to
/// commit. It makes change-feed sequence order equal commit order (the feed's contract), serialises creates so an
/// import never makes the same buyer twice from two servers, and means only its holder writes external ids.</item>
/// </list>
/// A holder of a later lock never waits for an earlier one; an import that finds the world changed under it rolls
/// back and starts again. Deadlock and serialisation failures, which should not happen, are retried as well.
/// Interactions go in with binary COPY straight into the table: the buyers' row locks mean no other transaction can
/// add an interaction for them meanwhile, so the idempotency keys they already have are looked up first and the
/// duplicates left out, with no staging table. Buyers, names and totals are written as arrays (unnest) per batch.
/// Interactions and per-type totals refer to a buyer by its integer key (migration 005); the rows of COPYs are
/// encoded by <see cref="BinaryCopy"/>.
/// </summary>
public sealed class PostgresBuyerStore(PostgresDatabase database) : IBuyerStore
{
    /// <summary>The change-feed advisory lock (see the class remarks); fixed, distinct from the migration lock.</summary>
    public const long ChangeFeedLockKey = 0x4144564953_0002;

    private const string OpCreateBuyer = "buyers.create";
    private const string OpRecordInteraction = "interactions.record";
    private const int MaxAttempts = 8;

    /// <summary>The step of the interactions' seq sequence (migration 004_interaction_seq_blocks): values one nextval reserves.</summary>
    private const int SequenceBlock = 4096;

    /// <summary>From this many keyed interactions on, a batch writes first and looks keys up only if the unique index objects.</summary>
    private const int OptimisticKeys = 64;

    /// <summary>
    /// <see cref="InteractionRow"/>'s columns from <see cref="InteractionFrom"/>: interactions keep the buyer's integer
    /// key (migration 005), so the text id comes from the buyer row.
    /// </summary>
    private const string InteractionColumns =
        "i.seq AS Seq, i.id AS Id, b.id AS BuyerId, i.type AS Type, i.occurred_at AS OccurredAt, i.amount AS Amount, i.currency AS Currency, i.channel AS Channel, " +
        "i.note AS Note, i.idempotency_key AS IdempotencyKey, i.create_time AS CreateTime";

    private const string InteractionFrom = "interactions i JOIN buyers b ON b.key = i.buyer_key";

    /// <summary>A buyer's integer key, looked up once per statement (an InitPlan) from its text id.</summary>
    private const string KeyOf = "(SELECT key FROM buyers WHERE id = @buyerId)";

    /// <summary>
    /// The second column of the interactions_buyer_time index (migration 006): 1 for an interaction with a note, else 0.
    /// Written exactly as in the index so the planner matches it; an integer because PostgreSQL rewrites a boolean
    /// "= false" into "note IS NULL", which no longer matches the index.
    /// </summary>
    private const string HasNote = "(note IS NOT NULL)::int";

    private static readonly IReadOnlySet<string> NoBuyers = new HashSet<string>();

    private readonly ImportGroupCommit _importGroups = new();

    public Task<BuyerWriteResult> CreateBuyerAsync(string id, BuyerValues values, string? requestId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (requestId is not null)
            {
                await LockRequestAsync(connection, transaction, OpCreateBuyer, requestId, cancellationToken);
                var earlier = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                    "SELECT resource_id FROM request_ids WHERE operation = @op AND request_id = @requestId",
                    new { op = OpCreateBuyer, requestId }, transaction, cancellationToken: cancellationToken));
                if (earlier is not null)
                {
                    var existing = await GetBuyerAsync(connection, transaction, earlier, false, cancellationToken);
                    return existing is null ? new BuyerWriteResult(BuyerWriteStatus.NotFound, null) : new BuyerWriteResult(BuyerWriteStatus.Ok, existing);
                }
            }

            await LockChangeFeedAsync(connection, transaction, cancellationToken);
            var time = Ids.Timestamp(now);
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO buyers (id, display_name, name_key, industry, industry_key, market, external_id, aliases, notes, create_time, update_time, etag, reclassify)
                VALUES (@id, @DisplayName, @NameKey, @Industry, @IndustryKey, @Market, @ExternalId, @Aliases, @Notes, @time, @time, @etag, 1)
                ON CONFLICT DO NOTHING
                """,
                new
                {
                    id,
                    values.DisplayName,
                    NameKey = BuyerNames.Key(values.DisplayName),
                    values.Industry,
                    IndustryKey = values.Industry is null ? null : BuyerNames.Key(values.Industry),
                    Market = (long)values.Market,
                    values.ExternalId,
                    Aliases = JsonSerializer.Serialize(values.Aliases),
                    values.Notes,
                    time,
                    etag = NewEtag(),
                },
                transaction, cancellationToken: cancellationToken));
            if (inserted == 0)
            {
                // Ids are new UUIDv7s, so the only key that can clash is the external id.
                return new BuyerWriteResult(BuyerWriteStatus.ExternalIdTaken, null);
            }

            await WriteNamesAsync(connection, transaction, [(id, values.DisplayName, values.Aliases)], cancellationToken);
            await AppendChangesAsync(connection, transaction, [id], cancellationToken);
            if (requestId is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO request_ids (operation, request_id, resource_id, resource_seq, create_time) VALUES (@op, @requestId, @id, NULL, @time)",
                    new { op = OpCreateBuyer, requestId, id, time }, transaction, cancellationToken: cancellationToken));
            }

            return new BuyerWriteResult(BuyerWriteStatus.Ok, await GetBuyerAsync(connection, transaction, id, false, cancellationToken));
        }, cancellationToken);

    public Task<BuyerRecord?> GetBuyerAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => GetBuyerAsync(connection, null, id, false, cancellationToken), cancellationToken);

    public async Task<IReadOnlyList<BuyerRecord>> GetBuyersAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var rows = await database.ReadAsync(connection => connection.QueryAsync<BuyerRow>(new CommandDefinition(
            $"SELECT {BuyerRow.Columns} FROM buyers WHERE id = ANY(@ids)", new { ids = ids.ToArray() }, cancellationToken: cancellationToken)), cancellationToken);
        var byId = rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        return ids.Where(byId.ContainsKey).Select(id => byId[id].ToRecord()).ToList();
    }

    public async Task<BuyerWriteResult> UpdateBuyerAsync(string id, BuyerValues values, BuyerFields fields, string? expectedEtag, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync(async (connection, transaction) =>
            {
                // FOR UPDATE: the etag comparison and the write are one atomic step for every server.
                var current = await GetBuyerAsync(connection, transaction, id, true, cancellationToken);
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
                await LockChangeFeedAsync(connection, transaction, cancellationToken);
                if (next.ExternalId is not null && await ExternalIdOwnerAsync(connection, transaction, next.ExternalId, cancellationToken) is { } owner && owner != id)
                {
                    return new BuyerWriteResult(BuyerWriteStatus.ExternalIdTaken, current);
                }

                var reclassify = has(BuyerFields.Notes) || has(BuyerFields.Industry) || has(BuyerFields.Market);
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE buyers SET display_name = @DisplayName, name_key = @NameKey, industry = @Industry, industry_key = @IndustryKey, market = @Market,
                        external_id = @ExternalId, aliases = @Aliases, notes = @Notes, update_time = @time, etag = @etag,
                        reclassify = CASE WHEN @reclassify THEN 1 ELSE reclassify END
                    WHERE id = @id
                    """,
                    new
                    {
                        id,
                        next.DisplayName,
                        NameKey = BuyerNames.Key(next.DisplayName),
                        next.Industry,
                        IndustryKey = next.Industry is null ? null : BuyerNames.Key(next.Industry),
                        Market = (long)next.Market,
                        next.ExternalId,
                        Aliases = JsonSerializer.Serialize(next.Aliases),
                        next.Notes,
                        time = Ids.Timestamp(now),
                        etag = NewEtag(),
                        reclassify,
                    },
                    transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition("DELETE FROM buyer_names WHERE buyer_id = @id", new { id }, transaction, cancellationToken: cancellationToken));
                await WriteNamesAsync(connection, transaction, [(id, next.DisplayName, next.Aliases)], cancellationToken);
                await AppendChangesAsync(connection, transaction, [id], cancellationToken);
                return new BuyerWriteResult(BuyerWriteStatus.Ok, await GetBuyerAsync(connection, transaction, id, false, cancellationToken));
            }, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Only change-feed lock holders write external ids, so this is a safety net, not a path taken.
            return new BuyerWriteResult(BuyerWriteStatus.ExternalIdTaken, await GetBuyerAsync(id, cancellationToken));
        }
    }

    public Task<BuyerWriteResult> DeleteBuyerAsync(string id, string? expectedEtag, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var etag = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                "SELECT etag FROM buyers WHERE id = @id FOR UPDATE", new { id }, transaction, cancellationToken: cancellationToken));
            if (etag is null)
            {
                return new BuyerWriteResult(BuyerWriteStatus.NotFound, null);
            }

            if (expectedEtag is not null && expectedEtag != etag)
            {
                return new BuyerWriteResult(BuyerWriteStatus.EtagMismatch, null);
            }

            await LockChangeFeedAsync(connection, transaction, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                DELETE FROM interactions WHERE buyer_key = (SELECT key FROM buyers WHERE id = @id);
                DELETE FROM buyer_interaction_stats WHERE buyer_key = (SELECT key FROM buyers WHERE id = @id);
                DELETE FROM classification_history WHERE buyer_id = @id;
                DELETE FROM buyer_names WHERE buyer_id = @id;
                DELETE FROM buyers WHERE id = @id;
                """,
                new { id }, transaction, cancellationToken: cancellationToken));
            await AppendChangesAsync(connection, transaction, [id], cancellationToken);
            return new BuyerWriteResult(BuyerWriteStatus.Ok, null);
        }, cancellationToken);

    public async Task<BuyerPage> ListBuyersAsync(BuyerFilter filter, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        var parameters = new
        {
            kind = filter.Kind is { } k ? SqliteBuyerStore.KindText(k) : null,
            industry = filter.Industry is { } i ? BuyerNames.Key(i) : null,
            afterName = after?[0],
            afterId = after?[1],
            limit = pageSize + 1,
        };
        const string Where = "(@kind::text IS NULL OR kind = @kind::text) AND (@industry::text IS NULL OR industry_key = @industry::text)";
        return await database.ReadAsync(async connection =>
        {
            var rows = (await connection.QueryAsync<BuyerRow>(new CommandDefinition(
                $"SELECT {BuyerRow.Columns} FROM buyers WHERE {Where} AND (@afterName::text IS NULL OR (name_key, id) > (@afterName::text COLLATE \"C\", @afterId::text COLLATE \"C\")) ORDER BY name_key, id LIMIT @limit",
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
        var rows = await database.ReadAsync(connection => connection.QueryAsync<BuyerRow>(new CommandDefinition(
            $"SELECT {BuyerRow.Columns} FROM buyers WHERE id IN (SELECT buyer_id FROM buyer_names WHERE name_key = @key) ORDER BY create_time, id LIMIT @limit",
            new { key = BuyerNames.Key(name), limit }, cancellationToken: cancellationToken)), cancellationToken);
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public Task<InteractionWriteResult> RecordInteractionAsync(InteractionRecord interaction, string? requestId, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (requestId is not null)
            {
                await LockRequestAsync(connection, transaction, OpRecordInteraction, requestId, cancellationToken);
                var earlier = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                    "SELECT resource_seq FROM request_ids WHERE operation = @op AND request_id = @requestId",
                    new { op = OpRecordInteraction, requestId }, transaction, cancellationToken: cancellationToken));
                if (earlier is { } seq)
                {
                    var first = await connection.QuerySingleOrDefaultAsync<InteractionRow>(new CommandDefinition(
                        $"SELECT {InteractionColumns} FROM {InteractionFrom} WHERE i.seq = @seq", new { seq }, transaction, cancellationToken: cancellationToken));
                    return first is null
                        ? new InteractionWriteResult(InteractionWriteStatus.BuyerNotFound, null)
                        : new InteractionWriteResult(InteractionWriteStatus.Duplicate, first.ToRecord());
                }
            }

            // The row lock orders this buyer's interactions and keeps a concurrent delete from leaving an orphan.
            var locked = await LockBuyersAsync(connection, transaction, [interaction.BuyerId], cancellationToken);
            if (locked.Count == 0)
            {
                return new InteractionWriteResult(InteractionWriteStatus.BuyerNotFound, null);
            }

            var (stored, _) = await InsertInteractionsAsync(connection, transaction, [interaction], locked, NoBuyers, cancellationToken);
            if (stored.Count == 0)
            {
                var first = await connection.QuerySingleAsync<InteractionRow>(new CommandDefinition(
                    $"SELECT {InteractionColumns} FROM {InteractionFrom} WHERE i.buyer_key = @key AND i.idempotency_key = @IdempotencyKey",
                    new { key = locked[interaction.BuyerId], interaction.IdempotencyKey }, transaction, cancellationToken: cancellationToken));
                return new InteractionWriteResult(InteractionWriteStatus.Duplicate, first.ToRecord());
            }

            if (requestId is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO request_ids (operation, request_id, resource_id, resource_seq, create_time) VALUES (@op, @requestId, @id, @seq, @time)",
                    new { op = OpRecordInteraction, requestId, id = interaction.Id, seq = stored[interaction.Id], time = Ids.Timestamp(interaction.CreateTime) },
                    transaction, cancellationToken: cancellationToken));
            }

            return new InteractionWriteResult(InteractionWriteStatus.Created, interaction);
        }, cancellationToken);

    /// <summary>
    /// Batches that this server's import streams submit while another is being written are committed together, in
    /// arrival order (see <see cref="ImportGroupCommit"/>); each caller gets its own items' results after the commit.
    /// </summary>
    public Task<ImportBatchResult> ImportBatchAsync(IReadOnlyList<ImportItem> items, CancellationToken cancellationToken) =>
        _importGroups.ImportAsync(items, ImportGroupAsync, cancellationToken);

    private Task<ImportGroupCommit.GroupResult> ImportGroupAsync(IReadOnlyList<ImportItem> items, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            // 1. What exists now (no locks yet), then the same resolution SQLite makes item by item.
            var known = await KnownBuyersAsync(connection, transaction, items, cancellationToken);
            var plan = ImportPlan.Resolve(items, known);
            if (plan.NewBuyers.Count > 0)
            {
                // Claim the external ids and names of the buyers to create, then look again: a concurrent batch about to
                // create one of them holds its claim until it commits, so this one waits and then finds the buyer
                // instead of creating it too and having to start again after its COPY (consecutive batches of one
                // import share the buyer that straddles them, so two writers redid about every other batch).
                await ClaimNewBuyersAsync(connection, transaction, plan.NewBuyers, cancellationToken);
                known = await KnownBuyersAsync(connection, transaction, items, cancellationToken);
                plan = ImportPlan.Resolve(items, known);
            }

            // 2. Lock the existing buyers the batch touches, in id order; one deleted meanwhile means start again.
            var existing = plan.ExistingBuyers();
            var keys = existing.Count == 0 ? new Dictionary<string, long>(StringComparer.Ordinal) : await LockBuyersAsync(connection, transaction, existing, cancellationToken);
            if (keys.Count != existing.Count)
            {
                throw new RetryBatchException();
            }

            // The keys of the buyers the batch creates, drawn now: their interactions are written before their rows.
            if (plan.NewBuyers.Count > 0)
            {
                var drawn = (await connection.QueryAsync<long>(new CommandDefinition(
                    "SELECT nextval(pg_get_serial_sequence('buyers', 'key')) FROM generate_series(1, @count)",
                    new { count = plan.NewBuyers.Count }, transaction, cancellationToken: cancellationToken))).ToList();
                for (var n = 0; n < plan.NewBuyers.Count; n++)
                {
                    keys[plan.NewBuyers[n].Id] = drawn[n];
                }
            }

            // 3. The interactions, skipping idempotency keys the buyer already has (in the store or earlier in the batch).
            //    Buyers the batch creates get their rows in step 4; nothing refers to them before this transaction commits.
            var results = new ImportItemResult[items.Count];
            var toInsert = new List<InteractionRecord>(items.Count);
            // Keys by buyer: string sets hash without the randomised (Marvin) hash that a set of (buyer, key) tuples
            // pays for both strings of every item.
            var keysInBatch = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            var candidates = new List<int>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                var buyerId = plan.BuyerIds[i];
                if (buyerId is null)
                {
                    results[i] = new ImportItemResult(items[i].Index, ImportItemStatus.Rejected, "interaction.buyer_id", "No buyer has this id.");
                    continue;
                }

                var interaction = items[i].Interaction with { BuyerId = buyerId };
                if (interaction.IdempotencyKey is { } key && !KeysOf(keysInBatch, buyerId).Add(key))
                {
                    results[i] = new ImportItemResult(items[i].Index, ImportItemStatus.Duplicate, null, null);
                    continue;
                }

                toInsert.Add(interaction);
                candidates.Add(i);
            }

            var created = plan.NewBuyers.Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
            var (stored, totals) = await InsertInteractionsAsync(connection, transaction, toInsert, keys, created, cancellationToken);

            // 4. Buyers to create, last: under the change-feed lock (held to commit, so the shorter the better), and only
            //    if no other server created them since step 1. Their rows go in with their interaction counts already set.
            if (plan.NewBuyers.Count > 0)
            {
                await LockChangeFeedAsync(connection, transaction, cancellationToken);
                var recheck = await KnownBuyersAsync(connection, transaction, items, cancellationToken);
                if (!recheck.SameAs(known))
                {
                    throw new RetryBatchException();
                }

                await CreateImportedBuyersAsync(connection, transaction, plan.NewBuyers, keys, totals, cancellationToken);
            }

            foreach (var i in candidates)
            {
                results[i] = new ImportItemResult(items[i].Index, stored.ContainsKey(items[i].Interaction.Id) ? ImportItemStatus.Accepted : ImportItemStatus.Duplicate, null, null);
            }

            return new ImportGroupCommit.GroupResult(results, plan.NewBuyers.Select(b => b.Item).ToList());
        }, cancellationToken);

    /// <summary>
    /// One of ListInteractionsAsync's two ranges of the buyer's interactions (without, with a note), newest first: one
    /// index holds both (migration 006), so the page is a merge of two ordered index scans.
    /// </summary>
    private static string PageOf(bool hasNote) =>
        $"(SELECT * FROM interactions WHERE buyer_key = {KeyOf} AND {HasNote} = {(hasNote ? "1" : "0")} " +
        "AND (@afterTime::text IS NULL OR (occurred_at, seq) < (@afterTime::text COLLATE \"C\", @afterSeq)) ORDER BY occurred_at DESC, seq DESC LIMIT @limit)";

    public async Task<InteractionPage?> ListInteractionsAsync(string buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = PageToken.Decode(pageToken, 2);
        return await database.ReadAsync(async connection =>
        {
            var total = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                "SELECT interaction_count FROM buyers WHERE id = @buyerId", new { buyerId }, cancellationToken: cancellationToken));
            if (total is null)
            {
                return null;
            }

            var rows = (await connection.QueryAsync<InteractionRow>(new CommandDefinition(
                $"SELECT {InteractionColumns} FROM ({PageOf(false)} UNION ALL {PageOf(true)}) i JOIN buyers b ON b.key = i.buyer_key ORDER BY i.occurred_at DESC, i.seq DESC LIMIT @limit",
                new { buyerId, afterTime = after?[0], afterSeq = after is null ? 0 : PageToken.Number(after[1]), limit = pageSize + 1 },
                cancellationToken: cancellationToken))).ToList();
            var items = rows.Take(pageSize).ToList();
            var next = rows.Count > pageSize ? PageToken.Encode(items[^1].OccurredAt, items[^1].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)) : "";
            return new InteractionPage(items.Select(r => r.ToRecord()).ToList(), next, total.Value);
        }, cancellationToken);
    }

    public async Task<BuyerProfileData?> GetProfileAsync(string buyerId, int recentNotes, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // One snapshot for the row, the totals and the notes, as one consistent view.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<BuyerRow>(new CommandDefinition(
            $"SELECT {BuyerRow.Columns} FROM buyers WHERE id = @buyerId", new { buyerId }, transaction, cancellationToken: cancellationToken));
        if (row is null)
        {
            return null;
        }

        var stats = await connection.QueryAsync<StatsRow>(new CommandDefinition(
            "SELECT s.type, s.count, s.amount_total AS AmountTotal, s.amount_count AS AmountCount, s.first_at AS FirstAt, f.id AS FirstId, s.last_at AS LastAt, l.id AS LastId " +
            $"FROM buyer_interaction_stats s JOIN interactions f ON f.seq = s.first_seq JOIN interactions l ON l.seq = s.last_seq WHERE s.buyer_key = {KeyOf} ORDER BY s.type",
            new { buyerId }, transaction, cancellationToken: cancellationToken));
        var notes = recentNotes <= 0
            ? []
            : await connection.QueryAsync<(string Id, string OccurredAt, string Note)>(new CommandDefinition(
                $"SELECT id, occurred_at, note FROM interactions WHERE buyer_key = {KeyOf} AND {HasNote} = 1 ORDER BY occurred_at DESC, seq DESC LIMIT @recentNotes",
                new { buyerId, recentNotes }, transaction, cancellationToken: cancellationToken));
        var profile = new BuyerProfileData(
            row.ToRecord(),
            stats.Select(s => s.ToRecord()).ToList(),
            notes.Select(n => new InteractionNote(n.Id, Ids.ParseTimestamp(n.OccurredAt), n.Note)).ToList(),
            row.LastSeq);
        await transaction.CommitAsync(cancellationToken);
        return profile;
    }

    public Task<ClassificationSaveResult> SaveClassificationAsync(string buyerId, StoredClassification classification, long upToSequence, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            var current = await connection.QuerySingleOrDefaultAsync<(string? Kind, string? RuleSetVersion, long ClassifiedSeq)?>(new CommandDefinition(
                "SELECT kind, rule_set_version, classified_seq FROM buyers WHERE id = @buyerId FOR NO KEY UPDATE", new { buyerId }, transaction, cancellationToken: cancellationToken));
            if (current is null)
            {
                return new ClassificationSaveResult(false, false, null);
            }

            var previousKind = current.Value.Kind is null ? (Kind?)null : SqliteBuyerStore.ParseKind(current.Value.Kind);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE buyers SET kind = @kind, confidence = @Confidence, score = @Score, summary = @Summary, rule_set_version = @RuleSetVersion,
                    classify_time = @time, classified_seq = GREATEST(classified_seq, @upToSequence),
                    reclassify = CASE WHEN last_seq > @upToSequence THEN 1 ELSE 0 END
                WHERE id = @buyerId
                """,
                new { buyerId, kind = SqliteBuyerStore.KindText(classification.Kind), classification.Confidence, classification.Score, classification.Summary, classification.RuleSetVersion, time = Ids.Timestamp(classification.Time), upToSequence },
                transaction, cancellationToken: cancellationToken));
            if (previousKind == classification.Kind && current.Value.RuleSetVersion == classification.RuleSetVersion)
            {
                return new ClassificationSaveResult(true, false, null);
            }

            var kindChanged = previousKind is { } p ? p != classification.Kind : classification.Kind != Kind.Undetermined;
            IReadOnlyList<string> interactionIds = kindChanged
                ? (await connection.QueryAsync<string>(new CommandDefinition(
                    $"SELECT id FROM interactions WHERE buyer_key = {KeyOf} AND seq > @from AND seq <= @upToSequence ORDER BY seq DESC LIMIT 20",
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
                    kind = SqliteBuyerStore.KindText(entry.Kind),
                    previousKind = current.Value.Kind,
                    kindChanged = kindChanged ? 1L : 0L,
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

    public async Task<IReadOnlyList<string>> ListBuyersToReclassifyAsync(int limit, CancellationToken cancellationToken) =>
        (await database.ReadAsync(connection => connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM buyers WHERE reclassify = 1 LIMIT @limit", new { limit }, cancellationToken: cancellationToken)), cancellationToken)).ToList();

    public Task<Page<ClassificationHistoryRecord>> ListClassificationHistoryAsync(string buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        ListHistoryAsync("buyer_id = @buyerId", buyerId, pageSize, pageToken, cancellationToken);

    public Task<Page<ClassificationHistoryRecord>> ListClassificationChangesAsync(string? buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        ListHistoryAsync(buyerId is null ? "kind_changed = 1" : "buyer_id = @buyerId AND kind_changed = 1", buyerId, pageSize, pageToken, cancellationToken);

    public async Task<IReadOnlyList<BuyerNameChange>> ListNameChangesAsync(long afterSequence, int limit, CancellationToken cancellationToken)
    {
        // Safe to read without a lock: appends take the change-feed lock and draw their sequence under it, so
        // sequences become visible in order and a reader that saw S never later finds an entry below S.
        var rows = await database.ReadAsync(connection => connection.QueryAsync<(long Seq, string BuyerId, string? DisplayName, string? Aliases)>(new CommandDefinition(
            "SELECT c.seq, c.buyer_id, b.display_name, b.aliases FROM buyer_changes c LEFT JOIN buyers b ON b.id = c.buyer_id WHERE c.seq > @afterSequence ORDER BY c.seq LIMIT @limit",
            new { afterSequence, limit }, cancellationToken: cancellationToken)), cancellationToken);
        return rows.Select(r => new BuyerNameChange(r.Seq, r.BuyerId, r.DisplayName is null, r.DisplayName, r.Aliases is null ? [] : SqliteBuyerStore.ParseList(r.Aliases))).ToList();
    }

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

    /// <summary>One transaction, committed before returning; started again on a deadlock, a serialisation failure or a changed world.</summary>
    private async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await database.WriteAsync(work, cancellationToken);
            }
            catch (Exception ex) when (attempt < MaxAttempts && ex is RetryBatchException or PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure })
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), cancellationToken);
            }
        }
    }

    private static Task LockRequestAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string operation, string requestId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))", new { key = operation + "\n" + requestId }, transaction, cancellationToken: cancellationToken));

    private static Task LockChangeFeedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = ChangeFeedLockKey }, transaction, cancellationToken: cancellationToken));

    /// <summary>
    /// Transaction-scoped advisory locks on the external ids and names of buyers an import batch means to create, in
    /// hash order. Taken before any other lock of the batch (rows, change feed), and only by import batches, so they
    /// cannot close a circle of waits; a hash collision only makes an unrelated batch wait. Other writers (CreateBuyer)
    /// do not take them: the check under the change-feed lock still catches those, and the batch starts again.
    /// </summary>
    private static Task ClaimNewBuyersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<NewBuyer> buyers, CancellationToken cancellationToken)
    {
        var claims = new List<string>(buyers.Count * 2);
        foreach (var buyer in buyers)
        {
            if (buyer.ExternalId is not null)
            {
                claims.Add("import-ext\n" + buyer.ExternalId);
            }

            claims.Add("import-name\n" + BuyerNames.Key(buyer.DisplayName));
        }

        return connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(@claims::text[]) AS u (k) ORDER BY h) AS ordered",
            new { claims = claims.ToArray() }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Locks the rows of the given buyers in id order (so two lockers never wait on each other in a circle); returns
    /// the integer keys of those that exist, by id.
    /// </summary>
    private static async Task<Dictionary<string, long>> LockBuyersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<(string Id, long Key)>(new CommandDefinition(
            "SELECT id, key FROM buyers WHERE id = ANY(@ids) ORDER BY id FOR NO KEY UPDATE", new { ids = ids.ToArray() }, transaction, cancellationToken: cancellationToken)))
        .ToDictionary(r => r.Id, r => r.Key, StringComparer.Ordinal);

    private static async Task<BuyerRecord?> GetBuyerAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string id, bool forUpdate, CancellationToken cancellationToken) =>
        (await connection.QuerySingleOrDefaultAsync<BuyerRow>(new CommandDefinition(
            $"SELECT {BuyerRow.Columns} FROM buyers WHERE id = @id{(forUpdate ? " FOR UPDATE" : "")}", new { id }, transaction, cancellationToken: cancellationToken)))?.ToRecord();

    private static Task<string?> ExternalIdOwnerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string externalId, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT id FROM buyers WHERE external_id = @externalId", new { externalId }, transaction, cancellationToken: cancellationToken));

    private static async Task WriteNamesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<(string Id, string DisplayName, IReadOnlyList<string> Aliases)> buyers, CancellationToken cancellationToken)
    {
        var pairs = buyers
            .SelectMany(b => b.Aliases.Prepend(b.DisplayName).Select(BuyerNames.Key).Where(k => k.Length > 0).Distinct(StringComparer.Ordinal).Select(k => (Key: k, b.Id)))
            .ToList();
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO buyer_names (name_key, buyer_id) SELECT * FROM unnest(@keys::text[], @ids::text[]) ON CONFLICT DO NOTHING",
            new { keys = pairs.Select(p => p.Key).ToArray(), ids = pairs.Select(p => p.Id).ToArray() }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>Appends change-feed entries; the caller holds the change-feed lock, so the sequences commit in order.</summary>
    private static Task AppendChangesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO buyer_changes (buyer_id) SELECT id FROM unnest(@ids::text[]) WITH ORDINALITY AS u (id, n) ORDER BY n",
            new { ids = ids.ToArray() }, transaction, cancellationToken: cancellationToken));

    private static async Task<KnownBuyers> KnownBuyersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ImportItem> items, CancellationToken cancellationToken)
    {
        var ids = items.Where(i => !string.IsNullOrEmpty(i.BuyerId)).Select(i => i.BuyerId!).Distinct(StringComparer.Ordinal).ToArray();
        var externalIds = items.Where(i => string.IsNullOrEmpty(i.BuyerId) && !string.IsNullOrEmpty(i.BuyerExternalId)).Select(i => i.BuyerExternalId!).Distinct(StringComparer.Ordinal).ToArray();
        var names = items.Where(i => string.IsNullOrEmpty(i.BuyerId) && string.IsNullOrEmpty(i.BuyerExternalId) && !string.IsNullOrWhiteSpace(i.BuyerDisplayName))
            .Select(i => BuyerNames.Key(i.BuyerDisplayName!)).Distinct(StringComparer.Ordinal).ToArray();
        var found = ids.Length == 0 ? [] : await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM buyers WHERE id = ANY(@ids)", new { ids }, transaction, cancellationToken: cancellationToken));
        var byExternal = externalIds.Length == 0 ? [] : await connection.QueryAsync<(string ExternalId, string Id)>(new CommandDefinition(
            "SELECT external_id, id FROM buyers WHERE external_id = ANY(@externalIds)", new { externalIds }, transaction, cancellationToken: cancellationToken));
        // The oldest buyer of each name, as SQLite's lookup picks it; one index probe per name (LATERAL ... LIMIT 1),
        // where a join lets the planner hash the whole buyers table for every batch.
        var byName = names.Length == 0 ? [] : await connection.QueryAsync<(string Key, string Id)>(new CommandDefinition(
            """
            SELECT u.key, oldest.id FROM unnest(@names::text[]) AS u (key)
            CROSS JOIN LATERAL (SELECT b.id FROM buyer_names n JOIN buyers b ON b.id = n.buyer_id WHERE n.name_key = u.key ORDER BY b.create_time, b.id LIMIT 1) AS oldest
            """,
            new { names }, transaction, cancellationToken: cancellationToken));
        return new KnownBuyers(
            found.ToHashSet(StringComparer.Ordinal),
            byExternal.ToDictionary(r => r.ExternalId, r => r.Id, StringComparer.Ordinal),
            byName.ToDictionary(r => r.Key, r => r.Id, StringComparer.Ordinal));
    }

    /// <summary>
    /// Writes the rows of buyers an import creates, with their names and change-feed entries. The caller holds the
    /// change-feed lock and has checked that none of them exists, and their ids are new, so nothing can conflict: binary
    /// COPY, the cheapest way in, with the interaction counters the batch already knows.
    /// </summary>
    private static async Task CreateImportedBuyersAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<NewBuyer> buyers, Dictionary<string, long> buyerKeys, Dictionary<string, BuyerTotals> totals, CancellationToken cancellationToken)
    {
        var keys = buyers.Select(b => BuyerNames.Key(b.DisplayName)).ToArray();
        await using (var copy = await BinaryCopy.BeginAsync(
            connection,
            "COPY buyers (key, id, display_name, name_key, external_id, create_time, update_time, etag, interaction_count, last_seq, reclassify) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            for (var n = 0; n < buyers.Count; n++)
            {
                var buyer = buyers[n];
                var time = Ids.Timestamp(buyer.CreateTime);
                var t = totals.GetValueOrDefault(buyer.Id);
                await copy.StartRowAsync(11, cancellationToken);
                copy.Int64(buyerKeys[buyer.Id]);
                copy.Text(buyer.Id);
                copy.Text(buyer.DisplayName);
                copy.Text(keys[n]);
                copy.Text(buyer.ExternalId);
                copy.Text(time);
                copy.Text(time);
                copy.Text(NewEtag());
                copy.Int64(t.Count);
                copy.Int64(t.LastSeq);
                copy.Int64(1L);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await BinaryCopy.BeginAsync(connection, "COPY buyer_names (name_key, buyer_id) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            for (var n = 0; n < buyers.Count; n++)
            {
                if (keys[n].Length > 0)
                {
                    await copy.StartRowAsync(2, cancellationToken);
                    copy.Text(keys[n]);
                    copy.Text(buyers[n].Id);
                }
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await AppendChangesAsync(connection, transaction, buyers.Select(b => b.Id).ToList(), cancellationToken);
    }

    /// <summary>
    /// The interactions sorted by buyer key, each buyer's in list order (the sort is stable), as SQLite's import writes
    /// them. Why: both secondary indexes of interactions begin with the buyer, and an import names its buyers in any
    /// order, so list order sends consecutive inserts to leaf pages all over both indexes (the B-tree descent,
    /// <c>_bt_compare</c> and the buffer lookups, is most of PostgreSQL's time per imported row). In buyer order they
    /// land on the same or the next pages. Sequences are drawn in this order, so they still rise with list order within
    /// each buyer (the first of two items with one idempotency key is still the one kept), and nothing orders
    /// interactions of different buyers by sequence; the seq index still gets its values in ascending order.
    /// </summary>
    private static List<InteractionRecord> InBuyerOrder(IReadOnlyList<InteractionRecord> interactions, IReadOnlyDictionary<string, long> buyerKeys)
    {
        var order = new (long Key, int Position)[interactions.Count];
        for (var n = 0; n < order.Length; n++)
        {
            order[n] = (buyerKeys[interactions[n].BuyerId], n);
        }

        Array.Sort(order);
        var sorted = new List<InteractionRecord>(order.Length);
        foreach (var (_, position) in order)
        {
            sorted.Add(interactions[position]);
        }

        return sorted;
    }

    /// <summary>
    /// Inserts interactions in buyer order (see <see cref="InBuyerOrder"/>), skipping any whose idempotency key the buyer
    /// already has, and adds them to the per-type totals. The caller holds the row lock of every existing buyer among
    /// them; the others are in <paramref name="created"/>: buyers this transaction creates, which have no interactions
    /// yet and whose rows the caller writes with the returned totals. Existing buyers' rows get their counters here. <paramref name="buyerKeys"/>
    /// has the integer key of every buyer among them, existing or created.
    /// </summary>
    private static async Task<(Dictionary<string, long> Stored, Dictionary<string, BuyerTotals> Buyers)> InsertInteractionsAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<InteractionRecord> interactions,
        IReadOnlyDictionary<string, long> buyerKeys,
        IReadOnlySet<string> created,
        CancellationToken cancellationToken)
    {
        if (interactions.Count == 0)
        {
            return ([], []);
        }

        if (interactions.Count > 1)
        {
            interactions = InBuyerOrder(interactions, buyerKeys);
        }

        // Nobody else can add an interaction for these buyers until we commit (locked, or not yet visible), so keys
        // found absent now stay absent and the rows can go in with a plain binary COPY. Only existing buyers can have
        // keys already.
        var keyed = interactions.Where(i => i.IdempotencyKey is not null && !created.Contains(i.BuyerId)).ToList();
        List<InteractionRecord> fresh;
        long[] seqs;
        string[] ats;
        if (keyed.Count < OptimisticKeys)
        {
            fresh = Fresh(interactions, await TakenKeysAsync(connection, transaction, keyed, buyerKeys, cancellationToken));
            if (fresh.Count == 0)
            {
                return ([], []);
            }

            seqs = await DrawSequencesAsync(connection, transaction, fresh.Count, cancellationToken);
            ats = await CopyInteractionsAsync(connection, fresh, seqs, buyerKeys, cancellationToken);
        }
        else
        {
            // A bulk import's keys are almost always new, and looking each one up cost about a sixth of the COPY's own
            // time. So the rows go in at once, behind a savepoint, and the unique index finds a key the buyer already
            // has: then (a client sending a stream again, say) the COPY is undone, the keys are looked up, and the new
            // rows go in again with the sequences already drawn.
            // The caller leaves out keys repeated within the list; one it missed also ends in the unique index's objection.
            fresh = interactions as List<InteractionRecord> ?? [.. interactions];
            seqs = await DrawSequencesAsync(connection, transaction, fresh.Count, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition("SAVEPOINT import_copy", transaction: transaction, cancellationToken: cancellationToken));
            try
            {
                ats = await CopyInteractionsAsync(connection, fresh, seqs, buyerKeys, cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == "interactions_idempotency")
            {
                await connection.ExecuteAsync(new CommandDefinition("ROLLBACK TO SAVEPOINT import_copy", transaction: transaction, cancellationToken: cancellationToken));
                fresh = Fresh(interactions, await TakenKeysAsync(connection, transaction, keyed, buyerKeys, cancellationToken));
                if (fresh.Count == 0)
                {
                    return ([], []);
                }

                ats = await CopyInteractionsAsync(connection, fresh, seqs, buyerKeys, cancellationToken);
            }
        }

        var stored = new Dictionary<string, long>(fresh.Count, StringComparer.Ordinal);
        for (var n = 0; n < fresh.Count; n++)
        {
            stored[fresh[n].Id] = seqs[n];
        }

        var stats = new Dictionary<(long BuyerKey, long Type), InteractionTypeTotals<string, OrdinalTextOrder>>();
        var buyers = new Dictionary<string, BuyerTotals>(StringComparer.Ordinal);
        for (var n = 0; n < fresh.Count; n++)
        {
            var interaction = fresh[n];
            var seq = seqs[n];
            var key = (buyerKeys[interaction.BuyerId], (long)interaction.Type);
            if (!stats.TryGetValue(key, out var totals))
            {
                totals = new InteractionTypeTotals<string, OrdinalTextOrder>(ats[n], seq);
                stats[key] = totals;
            }

            totals.Add(ats[n], seq, interaction.Amount);
            var buyer = buyers.GetValueOrDefault(interaction.BuyerId);
            buyers[interaction.BuyerId] = new BuyerTotals(buyer.Count + 1, Math.Max(buyer.LastSeq, seq));
        }

        // New buyers' totals are plain inserts; only existing buyers can already have a row for a type.
        var createdKeys = created.Select(id => buyerKeys[id]).ToHashSet();
        await CopyNewStatsAsync(connection, stats.Where(s => createdKeys.Contains(s.Key.BuyerKey)).ToList(), cancellationToken);
        await UpsertStatsAsync(connection, transaction, stats.Where(s => !createdKeys.Contains(s.Key.BuyerKey)).ToList(), cancellationToken);
        var existing = buyers.Where(b => !created.Contains(b.Key)).ToList();
        if (existing.Count > 0)
        {
            // The repeated condition on b.id is what lets the planner fetch just these rows by primary key: with only
            // the join, it hashes the unnest and scans every buyer, so each batch would read the whole table.
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE buyers AS b SET interaction_count = b.interaction_count + u.count, last_seq = GREATEST(b.last_seq, u.seq), reclassify = 1
                FROM unnest(@ids::text[], @counts::bigint[], @seqs::bigint[]) AS u (id, count, seq)
                WHERE b.id = u.id AND b.id = ANY(@ids::text[])
                """,
                new { ids = existing.Select(b => b.Key).ToArray(), counts = existing.Select(b => b.Value.Count).ToArray(), seqs = existing.Select(b => b.Value.LastSeq).ToArray() },
                transaction, cancellationToken: cancellationToken));
        }

        return (stored, buyers);
    }

    /// <summary>
    /// <paramref name="count"/> new interaction sequences, ascending. The sequence steps by <see cref="SequenceBlock"/>
    /// (migration 004), so one <c>nextval</c> reserves a whole block: a batch costs one call per block, not per row.
    /// Drawn while the buyers are locked, so each buyer's interactions commit in seq order; unused values are gaps.
    /// </summary>
    private static async Task<long[]> DrawSequencesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int count, CancellationToken cancellationToken)
    {
        var blocks = (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT nextval(pg_get_serial_sequence('interactions', 'seq')) FROM generate_series(1, @blocks) ORDER BY 1",
            new { blocks = (count + SequenceBlock - 1) / SequenceBlock }, transaction, cancellationToken: cancellationToken))).ToArray();
        var seqs = new long[count];
        for (var n = 0; n < count; n++)
        {
            seqs[n] = blocks[n / SequenceBlock] + (n % SequenceBlock);
        }

        return seqs;
    }

    private static HashSet<string> KeysOf(Dictionary<string, HashSet<string>> keys, string buyerId)
    {
        if (!keys.TryGetValue(buyerId, out var set))
        {
            set = new HashSet<string>(StringComparer.Ordinal);
            keys[buyerId] = set;
        }

        return set;
    }

    /// <summary>
    /// The (buyer, key) pairs among <paramref name="keyed"/> that are stored already. LATERAL ... LIMIT 1 keeps this an
    /// index probe per key: as a join, the planner may hash the whole table instead, and then every batch reads every
    /// interaction ever stored.
    /// </summary>
    private static async Task<HashSet<(string, string)>> TakenKeysAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<InteractionRecord> keyed, IReadOnlyDictionary<string, long> buyerKeys, CancellationToken cancellationToken) =>
        keyed.Count == 0
            ? []
            : (await connection.QueryAsync<long>(new CommandDefinition(
                """
                SELECT u.n FROM unnest(@buyers::bigint[], @keys::text[]) WITH ORDINALITY AS u (buyer_key, idempotency_key, n)
                CROSS JOIN LATERAL (SELECT 1 FROM interactions i WHERE i.buyer_key = u.buyer_key AND i.idempotency_key = u.idempotency_key LIMIT 1) AS found
                """,
                new { buyers = keyed.Select(i => buyerKeys[i.BuyerId]).ToArray(), keys = keyed.Select(i => i.IdempotencyKey).ToArray() },
                transaction, cancellationToken: cancellationToken))).Select(n => (keyed[(int)n - 1].BuyerId, keyed[(int)n - 1].IdempotencyKey!)).ToHashSet();

    /// <summary>The interactions to write, in order: each (buyer, key) pair once, none of those in <paramref name="taken"/> (which this fills).</summary>
    private static List<InteractionRecord> Fresh(IReadOnlyList<InteractionRecord> interactions, HashSet<(string, string)> taken)
    {
        var fresh = new List<InteractionRecord>(interactions.Count);
        foreach (var interaction in interactions)
        {
            if (interaction.IdempotencyKey is not { } key || taken.Add((interaction.BuyerId, key)))
            {
                fresh.Add(interaction);
            }
        }

        return fresh;
    }

    /// <summary>Writes <paramref name="fresh"/> with the first of <paramref name="seqs"/> by binary COPY; returns their stored occurred_at texts.</summary>
    private static async Task<string[]> CopyInteractionsAsync(
        NpgsqlConnection connection, List<InteractionRecord> fresh, long[] seqs, IReadOnlyDictionary<string, long> buyerKeys, CancellationToken cancellationToken)
    {
        var ats = new string[fresh.Count];
        await using var copy = await BinaryCopy.BeginAsync(
            connection,
            "COPY interactions (seq, id, buyer_key, type, occurred_at, amount, currency, channel, note, idempotency_key, create_time) FROM STDIN (FORMAT BINARY)", cancellationToken);
        for (var n = 0; n < fresh.Count; n++)
        {
            var i = fresh[n];
            ats[n] = Ids.Timestamp(i.OccurredAt);
            await copy.StartRowAsync(11, cancellationToken);
            copy.Int64(seqs[n]);
            copy.Text(i.Id);
            copy.Int64(buyerKeys[i.BuyerId]);
            copy.Int64((long)i.Type);
            copy.Text(ats[n]);
            copy.Double(i.Amount);
            copy.Text(i.Currency);
            copy.Text(i.Channel);
            copy.Text(i.Note);
            copy.Text(i.IdempotencyKey);
            copy.Text(Ids.Timestamp(i.CreateTime));
        }

        await copy.CompleteAsync(cancellationToken);
        return ats;
    }

    /// <summary>Totals of buyers this transaction creates: nobody else can have rows for them, so a plain COPY.</summary>
    private static async Task CopyNewStatsAsync(
        NpgsqlConnection connection, IReadOnlyList<KeyValuePair<(long BuyerKey, long Type), InteractionTypeTotals<string, OrdinalTextOrder>>> stats, CancellationToken cancellationToken)
    {
        if (stats.Count == 0)
        {
            return;
        }

        await using var copy = await BinaryCopy.BeginAsync(
            connection,
            "COPY buyer_interaction_stats (buyer_key, type, count, amount_total, amount_count, first_at, first_seq, last_at, last_seq) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var ((buyerKey, type), t) in stats)
        {
            await copy.StartRowAsync(9, cancellationToken);
            copy.Int64(buyerKey);
            copy.Int64(type);
            copy.Int64(t.Count);
            copy.Double(t.AmountTotal);
            copy.Int64(t.AmountCount);
            copy.Text(t.FirstAt);
            copy.Int64(t.FirstSeq);
            copy.Text(t.LastAt);
            copy.Int64(t.LastSeq);
        }

        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>Totals of existing buyers (locked by the caller): added to their rows, or new rows for new types.</summary>
    private static Task UpsertStatsAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<KeyValuePair<(long BuyerKey, long Type), InteractionTypeTotals<string, OrdinalTextOrder>>> stats,
        CancellationToken cancellationToken) =>
        stats.Count == 0
            ? Task.CompletedTask
            : connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO buyer_interaction_stats AS s (buyer_key, type, count, amount_total, amount_count, first_at, first_seq, last_at, last_seq)
                SELECT * FROM unnest(@buyers::bigint[], @types::bigint[], @counts::bigint[], @totals::float8[], @amountCounts::bigint[], @firstAts::text[], @firstSeqs::bigint[], @lastAts::text[], @lastSeqs::bigint[])
                ON CONFLICT (buyer_key, type) DO UPDATE SET
                    count = s.count + excluded.count,
                    amount_total = s.amount_total + excluded.amount_total,
                    amount_count = s.amount_count + excluded.amount_count,
                    first_seq = CASE WHEN excluded.first_at < s.first_at THEN excluded.first_seq ELSE s.first_seq END,
                    first_at = LEAST(s.first_at, excluded.first_at),
                    last_seq = CASE WHEN excluded.last_at >= s.last_at THEN excluded.last_seq ELSE s.last_seq END,
                    last_at = GREATEST(s.last_at, excluded.last_at)
                """,
                new
                {
                    buyers = stats.Select(s => s.Key.BuyerKey).ToArray(),
                    types = stats.Select(s => s.Key.Type).ToArray(),
                    counts = stats.Select(s => s.Value.Count).ToArray(),
                    totals = stats.Select(s => s.Value.AmountTotal).ToArray(),
                    amountCounts = stats.Select(s => s.Value.AmountCount).ToArray(),
                    firstAts = stats.Select(s => s.Value.FirstAt).ToArray(),
                    firstSeqs = stats.Select(s => s.Value.FirstSeq).ToArray(),
                    lastAts = stats.Select(s => s.Value.LastAt).ToArray(),
                    lastSeqs = stats.Select(s => s.Value.LastSeq).ToArray(),
                },
                transaction, cancellationToken: cancellationToken));

    private static string NewEtag() => Guid.NewGuid().ToString("N")[..16];

    /// <summary>The import found the store changed between its look and its locks; the whole batch starts again.</summary>
    private sealed class RetryBatchException : Exception
    {
        public RetryBatchException()
            : base("The buyers an import batch refers to changed while it ran.")
        {
        }
    }

    /// <summary>What a batch adds to one buyer's row: its interactions and the highest seq among them.</summary>
    private readonly record struct BuyerTotals(long Count, long LastSeq);

    /// <summary>A buyer an import batch creates, for the item at position <paramref name="Item"/> of the batch.</summary>
    private sealed record NewBuyer(string Id, string DisplayName, string? ExternalId, DateTimeOffset CreateTime, int Item);

    /// <summary>The buyers of an import batch that exist: by id, by external id, and the oldest by each name.</summary>
    private sealed record KnownBuyers(HashSet<string> Ids, Dictionary<string, string> ByExternalId, Dictionary<string, string> ByName)
    {
        public bool SameAs(KnownBuyers other) =>
            Ids.SetEquals(other.Ids)
            && ByExternalId.Count == other.ByExternalId.Count && ByExternalId.All(p => other.ByExternalId.GetValueOrDefault(p.Key) == p.Value)
            && ByName.Count == other.ByName.Count && ByName.All(p => other.ByName.GetValueOrDefault(p.Key) == p.Value);
    }

    /// <summary>
    /// Which buyer each import item goes to, decided item by item exactly as the SQLite store does (a buyer created
    /// for an earlier item is found by a later one's external id or name), but from looked-up data, without queries.
    /// </summary>
    private sealed class ImportPlan
    {
        private ImportPlan(string?[] buyerIds, List<NewBuyer> newBuyers)
        {
            BuyerIds = buyerIds;
            NewBuyers = newBuyers;
        }

        /// <summary>Per item, the buyer id, or null for an item naming a buyer id that does not exist.</summary>
        public string?[] BuyerIds { get; }

        public IReadOnlyList<NewBuyer> NewBuyers { get; }

        public static ImportPlan Resolve(IReadOnlyList<ImportItem> items, KnownBuyers known)
        {
            var buyerIds = new string?[items.Count];
            var created = new List<NewBuyer>();
            var externalIds = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            string Create(string displayName, string? externalId, DateTimeOffset now, int item)
            {
                var buyer = new NewBuyer(Storage.Ids.New("b"), displayName.Trim(), externalId, now, item);
                created.Add(buyer);
                names.TryAdd(BuyerNames.Key(buyer.DisplayName), buyer.Id);
                return buyer.Id;
            }

            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                var now = item.Interaction.CreateTime;
                if (!string.IsNullOrEmpty(item.BuyerId))
                {
                    buyerIds[i] = known.Ids.Contains(item.BuyerId) ? item.BuyerId : null;
                }
                else if (!string.IsNullOrEmpty(item.BuyerExternalId))
                {
                    if (!externalIds.TryGetValue(item.BuyerExternalId, out var id))
                    {
                        id = known.ByExternalId.GetValueOrDefault(item.BuyerExternalId)
                            ?? Create(string.IsNullOrWhiteSpace(item.BuyerDisplayName) ? item.BuyerExternalId : item.BuyerDisplayName, item.BuyerExternalId, now, i);
                        externalIds[item.BuyerExternalId] = id;
                    }

                    buyerIds[i] = id;
                }
                else if (!string.IsNullOrWhiteSpace(item.BuyerDisplayName))
                {
                    var key = BuyerNames.Key(item.BuyerDisplayName);
                    if (!names.TryGetValue(key, out var id))
                    {
                        id = known.ByName.GetValueOrDefault(key) ?? Create(item.BuyerDisplayName, null, now, i);
                        names[key] = id;
                    }

                    buyerIds[i] = id;
                }
            }

            return new ImportPlan(buyerIds, created);
        }

        /// <summary>The existing buyers the batch writes to (not the ones it creates).</summary>
        public IReadOnlyCollection<string> ExistingBuyers()
        {
            var fresh = NewBuyers.Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
            return BuyerIds.OfType<string>().Where(id => !fresh.Contains(id)).Distinct(StringComparer.Ordinal).ToList();
        }
    }
}
