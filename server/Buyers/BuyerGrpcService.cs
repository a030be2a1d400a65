using Advisor.Server.Classification;
using Advisor.Server.Errors;
using Advisor.Server.Storage;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Buyers;

/// <summary>advisor.v1.BuyerService: validates, maps, and hands over to the store, the importer and the classifier.</summary>
public sealed class BuyerGrpcService(
    IBuyerStore store,
    InteractionImporter importer,
    RegistryClassifier classifier,
    BuyerNameIndex index,
    NameIndexFeed feed,
    RegistryActivity activity,
    SnapshotHolder snapshots,
    Telemetry.AdvisorMetrics metrics,
    TimeProvider time) : BuyerService.BuyerServiceBase
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 1000;
    public const int MaxSearchResults = 25;

    /// <summary>
    /// Most import items in one stream message (<c>interaction</c> plus <c>interactions</c>): enough that per-message
    /// costs vanish (a typical item is 100-200 bytes), small enough that a chunk stays well inside the 4 MiB receive limit.
    /// </summary>
    public const int MaxImportItemsPerMessage = 1000;

    private static readonly Dictionary<string, BuyerFields> MaskPaths = new(StringComparer.Ordinal)
    {
        ["display_name"] = BuyerFields.DisplayName,
        ["industry"] = BuyerFields.Industry,
        ["market"] = BuyerFields.Market,
        ["external_id"] = BuyerFields.ExternalId,
        ["aliases"] = BuyerFields.Aliases,
        ["notes"] = BuyerFields.Notes,
    };

    private const BuyerFields AllFields = BuyerFields.DisplayName | BuyerFields.Industry | BuyerFields.Market | BuyerFields.ExternalId | BuyerFields.Aliases | BuyerFields.Notes;

    public override async Task<V1.Buyer> CreateBuyer(CreateBuyerRequest request, ServerCallContext context)
    {
        var violations = new Violations().OptionalText(request.RequestId, "request_id", BuyerInput.MaxIdLength);
        if (request.Buyer is null)
        {
            violations.Add("buyer", "is required");
        }
        else
        {
            violations.Buyer(request.Buyer, AllFields);
        }

        violations.ThrowIfAny();
        var result = await store.CreateBuyerAsync(Ids.New("b"), BuyerInput.ToValues(request.Buyer!), BuyerInput.Blank(request.RequestId), time.GetUtcNow(), context.CancellationToken);
        activity.Changed();
        return result.Status switch
        {
            BuyerWriteStatus.Ok => result.Buyer!.ToProto(),
            BuyerWriteStatus.ExternalIdTaken => throw new AlreadyExistsException($"Another buyer already has external id '{request.Buyer!.ExternalId}'."),
            _ => throw new NotFoundException("buyer", "created by request " + request.RequestId),
        };
    }

    public override async Task<V1.Buyer> GetBuyer(GetBuyerRequest request, ServerCallContext context)
    {
        new Violations().BuyerId(request.Id, "id").ThrowIfAny();
        var classified = await classifier.ClassifyProfileAsync(request.Id, snapshots.Current, null, Knowledge.StrategyStage.Any, context.CancellationToken)
            ?? throw new NotFoundException("buyer", request.Id);
        return classified.Profile.Buyer.ToProto(classified.Classified, time.GetUtcNow());
    }

    public override async Task<V1.Buyer> UpdateBuyer(UpdateBuyerRequest request, ServerCallContext context)
    {
        var violations = new Violations();
        if (request.Buyer is null)
        {
            violations.Add("buyer", "is required").ThrowIfAny();
        }

        var buyer = request.Buyer!;
        violations.BuyerId(buyer.Id, "buyer.id");
        var fields = BuyerFields.None;
        if (request.UpdateMask is null || request.UpdateMask.Paths.Count == 0)
        {
            // AIP-134: without a mask, every writable field is replaced.
            fields = AllFields;
        }
        else
        {
            foreach (var path in request.UpdateMask.Paths)
            {
                if (path == "*")
                {
                    fields = AllFields;
                }
                else if (MaskPaths.TryGetValue(path, out var field))
                {
                    fields |= field;
                }
                else
                {
                    violations.Add("update_mask", $"'{path}' is not a writable field (use {string.Join(", ", MaskPaths.Keys)})");
                }
            }
        }

        violations.Buyer(buyer, fields).ThrowIfAny();
        var result = await store.UpdateBuyerAsync(buyer.Id, BuyerInput.ToValues(buyer), fields, BuyerInput.Blank(buyer.Etag), time.GetUtcNow(), context.CancellationToken);
        activity.Changed();
        return result.Status switch
        {
            BuyerWriteStatus.Ok => result.Buyer!.ToProto(),
            BuyerWriteStatus.NotFound => throw new NotFoundException("buyer", buyer.Id),
            BuyerWriteStatus.EtagMismatch => throw new ConflictException("The buyer changed since it was read (etag mismatch); read it again and retry."),
            _ => throw new AlreadyExistsException($"Another buyer already has external id '{buyer.ExternalId}'."),
        };
    }

    public override async Task<DeleteBuyerResponse> DeleteBuyer(DeleteBuyerRequest request, ServerCallContext context)
    {
        new Violations().BuyerId(request.Id, "id").OptionalText(request.Etag, "etag", BuyerInput.MaxIdLength).ThrowIfAny();
        var result = await store.DeleteBuyerAsync(request.Id, BuyerInput.Blank(request.Etag), context.CancellationToken);
        return result.Status switch
        {
            BuyerWriteStatus.Ok => new DeleteBuyerResponse(),
            BuyerWriteStatus.NotFound => throw new NotFoundException("buyer", request.Id),
            _ => throw new ConflictException("The buyer changed since it was read (etag mismatch); read it again and retry."),
        };
    }

    public override async Task<ListBuyersResponse> ListBuyers(ListBuyersRequest request, ServerCallContext context)
    {
        new Violations()
            .PageSize(request.PageSize, MaxPageSize)
            .Enum(request.Kind, "kind")
            .OptionalText(request.Industry, "industry", BuyerInput.MaxIndustryLength)
            .ThrowIfAny();
        var filter = new BuyerFilter(request.Kind.ToDomainKind(), BuyerInput.Blank(request.Industry));
        var page = await PagedAsync(() => store.ListBuyersAsync(filter, PageSizeOf(request.PageSize), request.PageToken, context.CancellationToken));
        var response = new ListBuyersResponse { NextPageToken = page.NextPageToken, TotalSize = page.TotalSize };
        response.Buyers.AddRange(page.Items.Select(b => b.ToProto()));
        return response;
    }

    public override async Task<SearchBuyersResponse> SearchBuyers(SearchBuyersRequest request, ServerCallContext context)
    {
        var violations = new Violations().RequireText(request.Query, "query", BuyerInput.MaxNameLength);
        if (request.PageSize is < 0 or > MaxSearchResults)
        {
            violations.Add("page_size", $"must be between 0 and {MaxSearchResults}");
        }

        violations.ThrowIfAny();
        await feed.CatchUpAsync(context.CancellationToken);
        var matches = index.Search(request.Query, request.PageSize == 0 ? 10 : request.PageSize);
        var buyers = await store.GetBuyersAsync(matches.Select(m => m.BuyerId).ToList(), context.CancellationToken);
        var response = new SearchBuyersResponse();
        response.Buyers.AddRange(buyers.Select(b => b.ToProto()));
        return response;
    }

    public override async Task<V1.Interaction> RecordInteraction(RecordInteractionRequest request, ServerCallContext context)
    {
        var violations = new Violations().OptionalText(request.RequestId, "request_id", BuyerInput.MaxIdLength);
        var buyerId = request.BuyerId.Length > 0 ? request.BuyerId : request.Interaction?.BuyerId ?? "";
        violations.BuyerId(buyerId, "buyer_id");
        if (request.Interaction is null)
        {
            violations.Add("interaction", "is required");
        }
        else
        {
            if (request.BuyerId.Length > 0 && request.Interaction.BuyerId.Length > 0 && request.Interaction.BuyerId != request.BuyerId)
            {
                violations.Add("interaction.buyer_id", "must be empty or equal to buyer_id");
            }

            violations.Interaction(request.Interaction, time.GetUtcNow());
        }

        violations.ThrowIfAny();
        var record = BuyerInput.ToRecord(request.Interaction!, buyerId, time.GetUtcNow());
        var result = await store.RecordInteractionAsync(record, BuyerInput.Blank(request.RequestId), context.CancellationToken);
        activity.Changed();
        return result.Status switch
        {
            InteractionWriteStatus.BuyerNotFound => throw new NotFoundException("buyer", buyerId),
            _ => result.Interaction!.ToProto(),
        };
    }

    public override async Task<ImportInteractionsResponse> ImportInteractions(IAsyncStreamReader<ImportInteractionsRequest> requestStream, ServerCallContext context)
    {
        var summary = await importer.ImportAsync(Read(requestStream, context.CancellationToken), null, null, context.CancellationToken);
        metrics.RecordImportRows(summary.Accepted, summary.Duplicates, summary.Rejected);
        var response = new ImportInteractionsResponse
        {
            Accepted = summary.Accepted,
            Duplicates = summary.Duplicates,
            Rejected = summary.Rejected,
            BuyersCreated = summary.BuyersCreated,
        };
        response.Rejections.AddRange(summary.Rejections.Select(r => new ImportRejection { Index = r.Index, Field = r.Field, Reason = r.Reason }));
        return response;
    }

    public override async Task<ListInteractionsResponse> ListInteractions(ListInteractionsRequest request, ServerCallContext context)
    {
        new Violations().BuyerId(request.BuyerId, "buyer_id").PageSize(request.PageSize, MaxPageSize).ThrowIfAny();
        var page = await PagedAsync(() => store.ListInteractionsAsync(request.BuyerId, PageSizeOf(request.PageSize), request.PageToken, context.CancellationToken))
            ?? throw new NotFoundException("buyer", request.BuyerId);
        var response = new ListInteractionsResponse { NextPageToken = page.NextPageToken, TotalSize = page.TotalSize };
        response.Interactions.AddRange(page.Items.Select(i => i.ToProto()));
        return response;
    }

    public override async Task<ListClassificationChangesResponse> ListClassificationChanges(ListClassificationChangesRequest request, ServerCallContext context)
    {
        var violations = new Violations().PageSize(request.PageSize, MaxPageSize);
        if (request.BuyerId.Length > 0)
        {
            violations.BuyerId(request.BuyerId, "buyer_id");
        }

        violations.ThrowIfAny();
        var buyerId = BuyerInput.Blank(request.BuyerId);
        if (buyerId is not null && await store.GetBuyerAsync(buyerId, context.CancellationToken) is null)
        {
            throw new NotFoundException("buyer", buyerId);
        }

        var page = await PagedAsync(() => store.ListClassificationChangesAsync(buyerId, PageSizeOf(request.PageSize), request.PageToken, context.CancellationToken));
        var response = new ListClassificationChangesResponse { NextPageToken = page.NextPageToken };
        response.Changes.AddRange(page.Items.Select(c => c.ToChange()));
        return response;
    }

    private static int PageSizeOf(int requested) => requested == 0 ? DefaultPageSize : requested;

    private static async Task<T> PagedAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (FormatException)
        {
            throw RequestValidationException.For("page_token", "is not a token from a previous response");
        }
    }

    /// <summary>
    /// The stream's items in order: each message's <c>interaction</c>, then its <c>interactions</c>; a message with
    /// neither is one empty item (rejected like any incomplete item, as before chunks existed).
    /// </summary>
    private static async IAsyncEnumerable<V1.Interaction> Read(IAsyncStreamReader<ImportInteractionsRequest> stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await stream.MoveNext(cancellationToken))
        {
            var message = stream.Current;
            var chunk = message.Interactions;
            var items = chunk.Count + (message.Interaction is null ? 0 : 1);
            if (items > MaxImportItemsPerMessage)
            {
                // The whole call fails rather than the items being rejected one by one: a client sending this is
                // misconfigured, and every further message would be the same.
                throw RequestValidationException.For("interactions", $"a message may carry at most {MaxImportItemsPerMessage} interactions (got {items})");
            }

            if (message.Interaction is not null || chunk.Count == 0)
            {
                yield return message.Interaction ?? new V1.Interaction();
            }

            for (var i = 0; i < chunk.Count; i++)
            {
                yield return chunk[i];
            }
        }
    }
}

/// <summary>Kind filter mapping: unspecified means no filter.</summary>
internal static class KindFilter
{
    public static Kind? ToDomainKind(this BuyerKind kind) => kind == BuyerKind.Unspecified ? null : Api.ProtoMapping.ToDomain(kind);
}
