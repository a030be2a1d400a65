using System.Threading.Channels;
using Advisor.Server.Errors;
using Advisor.Server.Storage;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Buyers;

/// <summary>One rejected import item.</summary>
public sealed record ImportRejectionInfo(long Index, string Field, string Reason);

/// <summary>The totals of an import; every accepted item is committed when this is returned.</summary>
public sealed record ImportSummary(long Accepted, long Duplicates, long Rejected, long BuyersCreated, IReadOnlyList<ImportRejectionInfo> Rejections);

/// <summary>
/// Imports a stream of interactions: validates each item as it arrives, and commits them in batches (one
/// transaction each) while the next batch is being read, so parsing and writing overlap. A batch is whatever
/// has arrived while the previous one was committing, up to <see cref="BuyerOptions.ImportBatchSize"/>: under
/// load batches grow and commits amortise; a trickle is committed at once. Reclassification is not done here:
/// the store marks the buyers and <see cref="ReclassificationWorker"/> follows.
/// </summary>
public sealed partial class InteractionImporter(
    IBuyerStore store, RegistryActivity activity, IOptions<BuyerOptions> options, TimeProvider time, ILogger<InteractionImporter> logger)
{
    public const int MaxReportedRejections = 1000;

    /// <summary>The batch list's first capacity: 8 KB of references, under the large object heap's 85,000 bytes.</summary>
    private const int InitialBatchCapacity = 1024;

    /// <param name="items">The interactions in stream order.</param>
    /// <param name="onRejected">Called for every rejected item (the summary keeps only the first 1,000).</param>
    /// <param name="onCommitted">Called after each committed batch with the number of items it settled.</param>
    public async Task<ImportSummary> ImportAsync(
        IAsyncEnumerable<V1.Interaction> items,
        Action<ImportRejectionInfo>? onRejected,
        Action<int>? onCommitted,
        CancellationToken cancellationToken)
    {
        var batchSize = options.Value.ImportBatchSize;
        // One batch may wait here while the previous one commits: enough for the next batch to fill up under load, and
        // no more, because every item held costs memory (see BuyerOptions.ImportBatchSize).
        var channel = Channel.CreateBounded<ImportItem>(new BoundedChannelOptions(batchSize) { SingleReader = true, SingleWriter = true });
        var rejections = new List<ImportRejectionInfo>();
        long rejected = 0;

        // Called by the reader (invalid items) and the writer (unknown buyers) at the same time.
        void Reject(long index, string field, string reason)
        {
            var info = new ImportRejectionInfo(index, field, reason);
            lock (rejections)
            {
                rejected++;
                if (rejections.Count < MaxReportedRejections)
                {
                    rejections.Add(info);
                }

                onRejected?.Invoke(info);
            }
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = WriteAsync(channel.Reader, batchSize, (index, field, reason) => Reject(index, field, reason), onCommitted, linked.Token);
        var ids = new IdSource("i");
        long position = 0;
        try
        {
            await foreach (var interaction in items.WithCancellation(cancellationToken))
            {
                var index = position++;
                var now = time.GetUtcNow();
                var violations = new Violations().Interaction(interaction, now).ImportBuyer(interaction);
                if (violations.Any)
                {
                    var first = violations.Items[0];
                    Reject(index, first.Field, first.Description);
                    continue;
                }

                var item = new ImportItem(
                    index,
                    BuyerInput.Blank(interaction.BuyerId),
                    BuyerInput.Blank(interaction.BuyerExternalId)?.Trim(),
                    BuyerInput.Blank(interaction.BuyerDisplayName)?.Trim(),
                    BuyerInput.ToRecord(interaction, "", now, ids.Next(now)));
                if (!channel.Writer.TryWrite(item))
                {
                    await channel.Writer.WriteAsync(item, cancellationToken);
                }
            }
        }
        catch
        {
            channel.Writer.TryComplete();
            await linked.CancelAsync();
            try
            {
                await writer;
            }
            catch (OperationCanceledException)
            {
            }

            throw;
        }

        channel.Writer.Complete();
        var (accepted, duplicates, created) = await writer;
        var compactAfter = options.Value.ImportCompactAfterItems;
        if (compactAfter > 0 && position >= compactAfter)
        {
            var started = time.GetTimestamp();
            var before = GC.GetGCMemoryInfo().TotalCommittedBytes;
            Hosting.MemoryRelease.AfterBulkWork();
            LogCompacted(logger, position, time.GetElapsedTime(started).TotalMilliseconds, before >> 20, GC.GetGCMemoryInfo().TotalCommittedBytes >> 20);
        }

        lock (rejections)
        {
            return new ImportSummary(accepted, duplicates, rejected, created, rejections.OrderBy(r => r.Index).ToList());
        }
    }

    private async Task<(long Accepted, long Duplicates, long Created)> WriteAsync(
        ChannelReader<ImportItem> reader, int batchSize, Action<long, string, string> reject, Action<int>? onCommitted, CancellationToken cancellationToken)
    {
        long accepted = 0, duplicates = 0, created = 0;
        var transactionItems = options.Value.ImportTransactionItems;
        // Starts small and grows with what actually arrives. Why: at the largest batch (65,536) the list's array is 512 KB,
        // a large-object-heap allocation on every stream, and each one spends the LOH's budget. Under a mixed load of small
        // imports (the soak's 100 interactions per stream) that made every one of the server's collections a full gen2
        // (1,015 of 1,015 in two minutes, 17 s paused, docs/benchmarks.md "Soak: imports"). A large import grows the list
        // to its batch size once per stream and reuses it for every transaction.
        var batch = new List<ImportItem>(Math.Min(InitialBatchCapacity, Math.Min(batchSize, transactionItems)));
        var taken = 0;

        // The next batch of the same transaction: items that have already arrived, never a wait (the store is writing).
        IReadOnlyList<ImportItem>? Next()
        {
            batch.Clear();
            while (batch.Count < batchSize && taken < transactionItems && reader.TryRead(out var item))
            {
                batch.Add(item);
                taken++;
            }

            return batch.Count == 0 ? null : batch;
        }

        while (await reader.WaitToReadAsync(cancellationToken))
        {
            taken = 0;
            Next();
            ImportBatchResult result;
            activity.ImportBatchStarted();
            try
            {
                result = await store.ImportBatchesAsync(batch, Next, cancellationToken);
            }
            finally
            {
                activity.ImportBatchEnded();
            }

            Hosting.MallocArenas.Trim();
            created += result.BuyersCreated;
            foreach (var r in result.Items)
            {
                switch (r.Status)
                {
                    case ImportItemStatus.Accepted:
                        accepted++;
                        break;
                    case ImportItemStatus.Duplicate:
                        duplicates++;
                        break;
                    default:
                        reject(r.Index, r.Field ?? "interaction", r.Reason ?? "rejected");
                        break;
                }
            }

            onCommitted?.Invoke(taken);
            batch.Clear();
        }

        return (accepted, duplicates, created);
    }

    [LoggerMessage(EventId = 44, Level = LogLevel.Debug, Message = "Import of {Items} items done; heap compacted in {Milliseconds:F0} ms, {BeforeMb} MB committed before, {AfterMb} MB after")]
    private static partial void LogCompacted(ILogger logger, long items, double milliseconds, long beforeMb, long afterMb);
}
