using Advisor.Server.Buyers;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Advisor.Server.Tests.Buyers;

/// <summary>
/// ImportInteractions with chunked messages (<c>interactions</c>), alone and mixed with one-item messages, through the
/// generated client against a real server on loopback.
/// </summary>
public sealed class ImportChunkTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private BuyerService.BuyerServiceClient Buyers => new(server.Channel);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Mixed_single_and_chunked_messages_number_items_across_the_whole_stream()
    {
        var external = "chunk-" + Unique();
        var name = "Chunked " + Unique();
        var messages = new List<ImportInteractionsRequest>
        {
            // 0
            new() { Interaction = Item(InteractionType.AgreementSigned, external, name, "a") },
            // 1, 2 (future time), 3 (same key as 0)
            Chunk(Item(InteractionType.Meeting, external, null, "b"), Future(Item(InteractionType.Meeting, external, null, "c")), Item(InteractionType.Meeting, external, null, "a")),
            // 4 (interaction: no type), then 5, 6 (no buyer named)
            Both(Item(InteractionType.Unspecified, external, null, "d"), Item(InteractionType.Consultation, external, null, "e"), Item(InteractionType.Consultation, "", null, "f")),
            // 7: neither field set, one empty item as before chunks existed
            new(),
            // 8
            new() { Interaction = Item(InteractionType.ServiceDelivered, external, null, "g") },
        };

        var first = await ImportAsync(messages);
        first.Accepted.ShouldBe(4);
        first.Duplicates.ShouldBe(1);
        first.Rejected.ShouldBe(4);
        first.BuyersCreated.ShouldBe(1);
        first.Rejections.Select(r => (r.Index, r.Field)).ShouldBe(
        [
            (2L, "interaction.occurred_at"),
            (4L, "interaction.type"),
            (6L, "interaction.buyer_id"),
            (7L, "interaction.type"),
        ]);

        var buyer = (await Buyers.SearchBuyersAsync(new SearchBuyersRequest { Query = name }, ServerFixture.Deadline(30))).Buyers.First();
        buyer.ExternalId.ShouldBe(external);
        var stored = await Buyers.ListInteractionsAsync(new ListInteractionsRequest { BuyerId = buyer.Id }, ServerFixture.Deadline(30));
        stored.TotalSize.ShouldBe(4);
        stored.Interactions.Select(i => i.IdempotencyKey).Order().ShouldBe(["a", "b", "e", "g"]);

        // The same items again, all in one chunk this time: the keys match, so nothing is stored twice.
        var again = await ImportAsync([Chunk([.. messages.SelectMany(Items)])]);
        again.Accepted.ShouldBe(0);
        again.Duplicates.ShouldBe(5);
        again.Rejected.ShouldBe(4);
        again.Rejections.Select(r => r.Index).ShouldBe([2L, 4L, 6L, 7L]);
    }

    [Fact]
    public async Task A_chunk_at_the_limit_is_imported_whole()
    {
        var external = "full-" + Unique();
        var items = Enumerable.Range(0, BuyerGrpcService.MaxImportItemsPerMessage)
            .Select(i => Item(InteractionType.Message, external, "Full chunk " + external, "full-" + i))
            .ToArray();

        var response = await ImportAsync([Chunk(items)]);

        response.Accepted.ShouldBe(BuyerGrpcService.MaxImportItemsPerMessage);
        response.Rejected.ShouldBe(0);
        response.BuyersCreated.ShouldBe(1);
    }

    [Fact]
    public async Task A_message_over_the_limit_fails_the_call_with_invalid_argument()
    {
        var external = "over-" + Unique();
        var items = Enumerable.Range(0, BuyerGrpcService.MaxImportItemsPerMessage)
            .Select(i => Item(InteractionType.Message, external, "Over " + external, "over-" + i))
            .ToArray();

        // The limit counts `interaction` and `interactions` together: 1 + 1,000 is one too many.
        var over = Both(Item(InteractionType.Meeting, external, "Over " + external, "over-single"), items);
        var error = await Should.ThrowAsync<RpcException>(() => ImportAsync([over]));

        var badRequest = error.ShouldBeInvalidArgument("interactions");
        badRequest.FieldViolations.Single().Description.ShouldContain(BuyerGrpcService.MaxImportItemsPerMessage.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<ImportInteractionsResponse> ImportAsync(IEnumerable<ImportInteractionsRequest> messages)
    {
        using var call = Buyers.ImportInteractions(ServerFixture.Deadline(60));
        try
        {
            foreach (var message in messages)
            {
                await call.RequestStream.WriteAsync(message, Ct);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server ended the call early (an invalid message): its status is in the response below.
        }

        return await call.ResponseAsync;
    }

    private static IEnumerable<Interaction> Items(ImportInteractionsRequest message) =>
        message.Interaction is null && message.Interactions.Count == 0
            ? [new Interaction()]
            : (message.Interaction is null ? Enumerable.Empty<Interaction>() : [message.Interaction]).Concat(message.Interactions);

    private static ImportInteractionsRequest Chunk(params Interaction[] items)
    {
        var message = new ImportInteractionsRequest();
        message.Interactions.AddRange(items);
        return message;
    }

    private static ImportInteractionsRequest Both(Interaction single, params Interaction[] items)
    {
        var message = Chunk(items);
        message.Interaction = single;
        return message;
    }

    private static Interaction Item(InteractionType type, string external, string? name, string key) => new()
    {
        Type = type,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-30)),
        BuyerExternalId = external,
        BuyerDisplayName = name ?? "",
        IdempotencyKey = key,
    };

    private static Interaction Future(Interaction item)
    {
        item.OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(30));
        return item;
    }

    private static string Unique() => Guid.NewGuid().ToString("N")[..10];
}
