using Advisor.Server.Classification;

namespace Advisor.Server.Storage;

// The buyer registry's store: buyers, their interactions, per-buyer aggregate facts, classification
// history and a change feed for the in-memory name index. Implementations: Sqlite/SqliteBuyerStore
// (migration 002_buyers) and Postgres. Both must pass tests/Advisor.Server.Tests/Storage/BuyerStoreContractTests.cs.
//
// Conventions shared by every member:
// - Times are stored as Ids.Timestamp text (UTC, sortable) and returned as UTC DateTimeOffset; SQLite keeps interaction
//   and per-type total times as integer .NET ticks instead (same order and precision, half the index size; migration 005).
// - Ids are created by the caller (Ids.New("b") for buyers, Ids.New("i") for interactions) unless a member says otherwise.
// - Page tokens are PageToken-encoded keyset positions; a token that does not decode throws FormatException.
// - Every write is one transaction and is committed (durable against kill -9) before the returned task completes.

/// <summary>
/// What happened in one interaction. The numbers equal <c>advisor.v1.InteractionType</c> and are what the
/// store keeps in its <c>type</c> column, so the API maps by value and no name table is needed.
/// </summary>
public enum InteractionKind
{
    Unspecified = 0,
    Purchase = 1,
    RepeatPurchase = 2,
    Refund = 3,
    Consultation = 4,
    Meeting = 5,
    Proposal = 6,
    AgreementSigned = 7,
    AgreementRenewed = 8,
    AgreementEnded = 9,
    SupportRequest = 10,
    Complaint = 11,
    Message = 12,
    ServiceDelivered = 13,
}

/// <summary>The latest classification kept on a buyer row (the light form ListBuyers returns and filters on).</summary>
public sealed record StoredClassification(
    Kind Kind,
    double Confidence,
    double Score,
    string Summary,
    string RuleSetVersion,
    DateTimeOffset Time);

/// <summary>A buyer as stored, with its latest classification (null until first classified) and interaction count.</summary>
public sealed record BuyerRecord(
    string Id,
    string DisplayName,
    string? Industry,
    MarketKind Market,
    string? ExternalId,
    IReadOnlyList<string> Aliases,
    string? Notes,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime,
    string Etag,
    StoredClassification? Classification,
    long InteractionCount);

/// <summary>The values of a new buyer, or the new values of an update (see <see cref="BuyerFields"/>).</summary>
public sealed record BuyerValues(
    string DisplayName,
    string? Industry,
    MarketKind Market,
    string? ExternalId,
    IReadOnlyList<string> Aliases,
    string? Notes);

/// <summary>Which fields an update changes (the API's field mask).</summary>
[Flags]
public enum BuyerFields
{
    None = 0,
    DisplayName = 1,
    Industry = 2,
    Market = 4,
    ExternalId = 8,
    Aliases = 16,
    Notes = 32,
}

public enum BuyerWriteStatus
{
    /// <summary>The write happened (or, for a retried create, had happened before).</summary>
    Ok,

    /// <summary>No buyer with that id.</summary>
    NotFound,

    /// <summary>The expected etag is not the buyer's current etag; nothing changed.</summary>
    EtagMismatch,

    /// <summary>Another buyer already has that external id; nothing changed.</summary>
    ExternalIdTaken,
}

/// <summary>The outcome of a buyer write: the buyer as it is after the write when <see cref="Status"/> is Ok.</summary>
public sealed record BuyerWriteResult(BuyerWriteStatus Status, BuyerRecord? Buyer);

/// <summary>ListBuyers filter; null members do not filter. Industry matches case-insensitively.</summary>
public sealed record BuyerFilter(Kind? Kind, string? Industry);

/// <summary>A page of buyers (ordered by display name case-insensitively, then id) with the count of all matches.</summary>
public sealed record BuyerPage(IReadOnlyList<BuyerRecord> Items, string NextPageToken, long TotalSize);

/// <summary>One stored interaction.</summary>
public sealed record InteractionRecord(
    string Id,
    string BuyerId,
    InteractionKind Type,
    DateTimeOffset OccurredAt,
    double? Amount,
    string? Currency,
    string? Channel,
    string? Note,
    string? IdempotencyKey,
    DateTimeOffset CreateTime);

/// <summary>A page of one buyer's interactions, newest <c>occurred_at</c> first, with the buyer's total count.</summary>
public sealed record InteractionPage(IReadOnlyList<InteractionRecord> Items, string NextPageToken, long TotalSize);

public enum InteractionWriteStatus
{
    /// <summary>Stored now.</summary>
    Created,

    /// <summary>Stored before (same request id, or same idempotency key for the same buyer); nothing stored now.</summary>
    Duplicate,

    /// <summary>No buyer with that id; nothing stored.</summary>
    BuyerNotFound,
}

/// <summary>The outcome of RecordInteraction: the stored interaction (the first one for a duplicate).</summary>
public sealed record InteractionWriteResult(InteractionWriteStatus Status, InteractionRecord? Interaction);

/// <summary>
/// One item of an import batch, already validated by the caller. The buyer is named by <see cref="BuyerId"/>,
/// or else by <see cref="BuyerExternalId"/>, or else by <see cref="BuyerDisplayName"/> (exact name, case-insensitive);
/// an unmatched external id or name creates the buyer (named by the display name, or the external id when no name is given).
/// <see cref="Interaction"/>'s BuyerId is ignored; its Id and CreateTime are used as given.
/// </summary>
public sealed record ImportItem(
    long Index,
    string? BuyerId,
    string? BuyerExternalId,
    string? BuyerDisplayName,
    InteractionRecord Interaction);

public enum ImportItemStatus
{
    Accepted,
    Duplicate,
    Rejected,
}

/// <summary>What happened to one import item; <see cref="Field"/> and <see cref="Reason"/> are set when rejected.</summary>
public sealed record ImportItemResult(long Index, ImportItemStatus Status, string? Field, string? Reason);

/// <summary>The outcome of one committed import batch: per-item results in input order and the buyers it created.</summary>
public sealed record ImportBatchResult(IReadOnlyList<ImportItemResult> Items, int BuyersCreated);

/// <summary>
/// Running totals of one interaction type for one buyer, kept current by every insert (never by scanning history).
/// First/Last are by <c>occurred_at</c>; the ids point at those interactions so evidence can cite them.
/// </summary>
public sealed record InteractionTypeStats(
    InteractionKind Type,
    long Count,
    double AmountTotal,
    long AmountCount,
    DateTimeOffset FirstAt,
    string FirstInteractionId,
    DateTimeOffset LastAt,
    string LastInteractionId);

/// <summary>An interaction's note, for classification.</summary>
public sealed record InteractionNote(string InteractionId, DateTimeOffset OccurredAt, string Note);

/// <summary>
/// Everything classification needs about one buyer, read without scanning its history: the buyer row,
/// the per-type totals, the latest notes, and the feed position (<see cref="LastSequence"/>, the highest
/// interaction sequence stored for the buyer) to hand back to <see cref="IBuyerStore.SaveClassificationAsync"/>.
/// </summary>
public sealed record BuyerProfileData(
    BuyerRecord Buyer,
    IReadOnlyList<InteractionTypeStats> Stats,
    IReadOnlyList<InteractionNote> RecentNotes,
    long LastSequence);

/// <summary>One entry of a buyer's classification history; <see cref="PreviousKind"/> is null for the first.</summary>
public sealed record ClassificationHistoryRecord(
    string Id,
    string BuyerId,
    Kind Kind,
    Kind? PreviousKind,
    double Confidence,
    double Score,
    string Summary,
    string RuleSetVersion,
    DateTimeOffset Time,
    IReadOnlyList<string> InteractionIds)
{
    /// <summary>True when this entry changed the buyer's kind (the first classification counts only when not undetermined).</summary>
    public bool KindChanged => PreviousKind is { } previous ? previous != Kind : Kind != Kind.Undetermined;
}

/// <summary>The result of saving a classification: whether the kind changed, and the history entry when one was written.</summary>
public sealed record ClassificationSaveResult(bool Found, bool KindChanged, ClassificationHistoryRecord? Entry);

/// <summary>
/// One change-feed entry for the name index: the buyer's current names, or <see cref="Deleted"/>.
/// A buyer changed several times appears once per change; readers apply them in sequence order.
/// </summary>
public sealed record BuyerNameChange(long Sequence, string BuyerId, bool Deleted, string? DisplayName, IReadOnlyList<string> Aliases);

/// <summary>The buyer registry's store. See the conventions at the top of this file.</summary>
public interface IBuyerStore
{
    /// <summary>
    /// Creates a buyer with id <paramref name="id"/>. With a <paramref name="requestId"/> seen before (for a create),
    /// nothing is written and the buyer created then is returned as it is now (Ok), even when the values differ.
    /// ExternalIdTaken when another buyer has the external id. Appends a change-feed entry.
    /// Concurrent creates with the same request id create one buyer.
    /// </summary>
    Task<BuyerWriteResult> CreateBuyerAsync(string id, BuyerValues values, string? requestId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The buyer, or null.</summary>
    Task<BuyerRecord?> GetBuyerAsync(string id, CancellationToken cancellationToken);

    /// <summary>The buyers among <paramref name="ids"/> that exist, in the order of <paramref name="ids"/> (missing ones skipped).</summary>
    Task<IReadOnlyList<BuyerRecord>> GetBuyersAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken);

    /// <summary>
    /// Sets the <paramref name="fields"/> of the buyer from <paramref name="values"/> when <paramref name="expectedEtag"/>
    /// is null or equals the current etag; a new etag and update time are assigned, and a change-feed entry appended.
    /// Changing notes, industry or market marks the buyer for reclassification.
    /// </summary>
    Task<BuyerWriteResult> UpdateBuyerAsync(string id, BuyerValues values, BuyerFields fields, string? expectedEtag, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the buyer with its interactions, aggregate facts and classification history when
    /// <paramref name="expectedEtag"/> is null or matches (Ok with a null buyer); appends a deletion to the change feed.
    /// </summary>
    Task<BuyerWriteResult> DeleteBuyerAsync(string id, string? expectedEtag, CancellationToken cancellationToken);

    /// <summary>Buyers matching <paramref name="filter"/>, ordered by display name (case-insensitive) then id.</summary>
    Task<BuyerPage> ListBuyersAsync(BuyerFilter filter, int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>
    /// Buyers whose display name or one of whose aliases equals <paramref name="name"/> case-insensitively
    /// (after trimming and collapsing whitespace), oldest first, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<BuyerRecord>> FindBuyersByNameAsync(string name, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Stores one interaction for <see cref="InteractionRecord.BuyerId"/> and updates the buyer's aggregate facts
    /// and marks it for reclassification in the same transaction. Duplicate (returning the first interaction) when
    /// <paramref name="requestId"/> was used before for an interaction, or the buyer already has an interaction with the
    /// same idempotency key. BuyerNotFound when the buyer does not exist.
    /// </summary>
    Task<InteractionWriteResult> RecordInteractionAsync(InteractionRecord interaction, string? requestId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a batch of import items in ONE transaction, committed before the task completes: matches or creates
    /// buyers (see <see cref="ImportItem"/>), skips items whose idempotency key the buyer already has (also within the
    /// batch) as Duplicate, rejects items naming a buyer id that does not exist (field "interaction.buyer_id"),
    /// updates aggregate facts and marks buyers for reclassification. Results are in input order.
    /// </summary>
    Task<ImportBatchResult> ImportBatchAsync(IReadOnlyList<ImportItem> items, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="first"/> and then every sub-batch <paramref name="next"/> returns until it returns null, as
    /// <see cref="ImportBatchAsync"/> stores one batch; every item is committed before the task completes, and results
    /// are in input order across the sub-batches. The store is done with a sub-batch before it asks for the next one, so
    /// the caller may reuse its list, and <paramref name="next"/> must not wait (it is called inside the store's write).
    /// Why: a store may put all the sub-batches in one transaction (SQLite does), which writes each page the import
    /// dirties once per commit, while only one sub-batch of items is held in memory. This default stores each sub-batch
    /// in its own transaction (PostgreSQL, which already commits concurrent batches together).
    /// </summary>
    async Task<ImportBatchResult> ImportBatchesAsync(IReadOnlyList<ImportItem> first, Func<IReadOnlyList<ImportItem>?> next, CancellationToken cancellationToken)
    {
        var result = await ImportBatchAsync(first, cancellationToken);
        if (next() is not { } more)
        {
            return result;
        }

        var items = new List<ImportItemResult>(result.Items);
        var created = result.BuyersCreated;
        for (; more is not null; more = next())
        {
            var part = await ImportBatchAsync(more, cancellationToken);
            items.AddRange(part.Items);
            created += part.BuyersCreated;
        }

        return new ImportBatchResult(items, created);
    }

    /// <summary>The buyer's interactions, newest <c>occurred_at</c> first (then newest stored first), with the total count; null when the buyer does not exist.</summary>
    Task<InteractionPage?> ListInteractionsAsync(string buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>
    /// The buyer's classification inputs (row, per-type stats, up to <paramref name="recentNotes"/> latest interaction
    /// notes, newest first) or null. Must not scan the buyer's history: cost independent of the number of interactions.
    /// </summary>
    Task<BuyerProfileData?> GetProfileAsync(string buyerId, int recentNotes, CancellationToken cancellationToken);

    /// <summary>
    /// Saves <paramref name="classification"/> as the buyer's latest, computed from interactions up to
    /// <paramref name="upToSequence"/> (from <see cref="BuyerProfileData.LastSequence"/>). Clears the reclassify mark unless newer
    /// interactions arrived meanwhile. Writes a history entry when the kind or rule set version differs from the
    /// buyer's previous classification (or there was none); when the kind changed, the entry lists the interactions
    /// stored since the previous classification (at most 20, newest first). Found is false when the buyer is gone.
    /// </summary>
    Task<ClassificationSaveResult> SaveClassificationAsync(string buyerId, StoredClassification classification, long upToSequence, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> ids of buyers marked for reclassification (interactions or notes changed since their last classification).</summary>
    Task<IReadOnlyList<string>> ListBuyersToReclassifyAsync(int limit, CancellationToken cancellationToken);

    /// <summary>The buyer's classification history, newest first.</summary>
    Task<Page<ClassificationHistoryRecord>> ListClassificationHistoryAsync(string buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>History entries that changed a buyer's kind (<see cref="ClassificationHistoryRecord.KindChanged"/>), newest first; one buyer's or everyone's.</summary>
    Task<Page<ClassificationHistoryRecord>> ListClassificationChangesAsync(string? buyerId, int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>
    /// Change-feed entries with sequence greater than <paramref name="afterSequence"/>, ascending, at most <paramref name="limit"/>.
    /// Each create, update and delete of a buyer (including buyers created by imports) appends one entry.
    /// Contract: once an entry with sequence S has been returned, no entry with a sequence at or below S may become
    /// visible later (PostgreSQL: allocate sequences under a lock so commit order equals sequence order).
    /// </summary>
    Task<IReadOnlyList<BuyerNameChange>> ListNameChangesAsync(long afterSequence, int limit, CancellationToken cancellationToken);
}

/// <summary>Normalisation shared by every provider, so name matching and ordering agree across stores.</summary>
public static class BuyerNames
{
    /// <summary>The matching key of a name or industry: trimmed, whitespace runs collapsed to one space, lower-cased (invariant).</summary>
    public static string Key(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length);
        var space = false;
        foreach (var c in name.Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }
}
