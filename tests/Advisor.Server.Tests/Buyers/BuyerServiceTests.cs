using Advisor.Server.Buyers;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Advisor.Server.Tests.Buyers;

/// <summary>BuyerService and the registry's answers, through the generated clients against a real server on loopback.</summary>
public sealed class BuyerServiceTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private BuyerService.BuyerServiceClient Buyers => new(server.Channel);

    private static CallOptions Deadline => ServerFixture.Deadline(30);

    [Fact]
    public async Task Create_get_update_with_mask_and_etag_then_delete()
    {
        var created = await Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = NewBuyer("Gamma " + Unique(), aliases: ["Gamma Co"]) }, Deadline);
        created.Id.ShouldStartWith("b_");
        created.Etag.ShouldNotBeEmpty();
        created.CreateTime.ShouldNotBeNull();
        created.Aliases.ShouldBe(["Gamma Co"]);

        var fetched = await Buyers.GetBuyerAsync(new GetBuyerRequest { Id = created.Id }, Deadline);
        fetched.DisplayName.ShouldBe(created.DisplayName);
        fetched.Classification.Kind.ShouldBe(BuyerKind.Undetermined, "no history and no notes: too little to go on");
        fetched.Classification.OpenQuestions.ShouldNotBeEmpty();

        var update = new UpdateBuyerRequest
        {
            Buyer = new Buyer { Id = created.Id, Industry = "law", DisplayName = "ignored, not in the mask", Etag = created.Etag },
            UpdateMask = new FieldMask { Paths = { "industry" } },
        };
        var updated = await Buyers.UpdateBuyerAsync(update, Deadline);
        updated.Industry.ShouldBe("law");
        updated.DisplayName.ShouldBe(created.DisplayName);
        updated.Etag.ShouldNotBe(created.Etag);

        var stale = await Should.ThrowAsync<RpcException>(() => Buyers.UpdateBuyerAsync(update, Deadline).ResponseAsync);
        stale.StatusCode.ShouldBe(StatusCode.Aborted);

        var badMask = await Should.ThrowAsync<RpcException>(() => Buyers.UpdateBuyerAsync(new UpdateBuyerRequest
        {
            Buyer = new Buyer { Id = created.Id },
            UpdateMask = new FieldMask { Paths = { "etag" } },
        }, Deadline).ResponseAsync);
        badMask.ShouldBeInvalidArgument("update_mask");

        await Buyers.DeleteBuyerAsync(new DeleteBuyerRequest { Id = created.Id, Etag = updated.Etag }, Deadline);
        (await Should.ThrowAsync<RpcException>(() => Buyers.GetBuyerAsync(new GetBuyerRequest { Id = created.Id }, Deadline).ResponseAsync)).StatusCode.ShouldBe(StatusCode.NotFound);
        (await Should.ThrowAsync<RpcException>(() => Buyers.DeleteBuyerAsync(new DeleteBuyerRequest { Id = created.Id }, Deadline).ResponseAsync)).StatusCode.ShouldBe(StatusCode.NotFound);
    }

    [Fact]
    public async Task A_created_buyer_is_found_by_every_search_that_starts_after_it_while_others_search_at_the_same_time()
    {
        // Searches share the index catch-up when they overlap; none may share one that began before its buyer existed.
        var ct = TestContext.Current.CancellationToken;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var background = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Buyers.SearchBuyersAsync(new SearchBuyersRequest { Query = "Quorvex" }, Deadline);
            }
        }, ct)).ToList();

        for (var round = 0; round < 15; round++)
        {
            var name = $"Quorvex {round} {Unique()}";
            var created = await Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = NewBuyer(name) }, Deadline);
            var searches = Enumerable.Range(0, 6).Select(_ => Buyers.SearchBuyersAsync(new SearchBuyersRequest { Query = name, PageSize = 5 }, Deadline).ResponseAsync);
            foreach (var found in await Task.WhenAll(searches))
            {
                found.Buyers.Select(b => b.Id).ShouldContain(created.Id, $"round {round}");
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(background);
    }

    [Fact]
    public async Task Retried_creates_and_records_are_stored_once_and_answered_the_same()
    {
        var request = new CreateBuyerRequest { Buyer = NewBuyer("Retry " + Unique()), RequestId = Guid.NewGuid().ToString() };
        var first = await Buyers.CreateBuyerAsync(request, Deadline);
        var second = await Buyers.CreateBuyerAsync(request, Deadline);
        second.Id.ShouldBe(first.Id);

        var record = new RecordInteractionRequest { BuyerId = first.Id, Interaction = Interaction(InteractionType.Meeting, days: 3), RequestId = Guid.NewGuid().ToString() };
        var one = await Buyers.RecordInteractionAsync(record, Deadline);
        var two = await Buyers.RecordInteractionAsync(record, Deadline);
        two.Id.ShouldBe(one.Id);
        var keyed = Interaction(InteractionType.Purchase, days: 2, key: "order-1");
        var three = await Buyers.RecordInteractionAsync(new RecordInteractionRequest { BuyerId = first.Id, Interaction = keyed }, Deadline);
        var four = await Buyers.RecordInteractionAsync(new RecordInteractionRequest { BuyerId = first.Id, Interaction = keyed }, Deadline);
        four.Id.ShouldBe(three.Id);

        var list = await Buyers.ListInteractionsAsync(new ListInteractionsRequest { BuyerId = first.Id }, Deadline);
        list.TotalSize.ShouldBe(2);
        list.Interactions.Select(i => i.Type).ShouldBe([InteractionType.Purchase, InteractionType.Meeting], "newest first");
    }

    [Fact]
    public async Task Bad_input_names_the_field_and_unknown_buyers_are_not_found()
    {
        (await Should.ThrowAsync<RpcException>(() => Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = new Buyer { DisplayName = " " } }, Deadline).ResponseAsync))
            .ShouldBeInvalidArgument("buyer.display_name");
        (await Should.ThrowAsync<RpcException>(() => Buyers.GetBuyerAsync(new GetBuyerRequest { Id = "acme" }, Deadline).ResponseAsync))
            .ShouldBeInvalidArgument("id");
        var missing = "b_" + Guid.NewGuid().ToString("N");
        (await Should.ThrowAsync<RpcException>(() => Buyers.RecordInteractionAsync(new RecordInteractionRequest { BuyerId = missing, Interaction = Interaction(InteractionType.Meeting, 1) }, Deadline).ResponseAsync))
            .StatusCode.ShouldBe(StatusCode.NotFound);
        (await Should.ThrowAsync<RpcException>(() => Buyers.ListInteractionsAsync(new ListInteractionsRequest { BuyerId = missing }, Deadline).ResponseAsync))
            .StatusCode.ShouldBe(StatusCode.NotFound);

        var buyer = await Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = NewBuyer("Bad " + Unique()) }, Deadline);
        var future = Interaction(InteractionType.Purchase, days: -30);
        future.Amount = -5;
        future.Type = (InteractionType)99;
        future.Currency = "euro";
        var ex = await Should.ThrowAsync<RpcException>(() => Buyers.RecordInteractionAsync(new RecordInteractionRequest { BuyerId = buyer.Id, Interaction = future }, Deadline).ResponseAsync);
        var bad = ex.ShouldBeInvalidArgument("interaction.occurred_at");
        bad.FieldViolations.Select(v => v.Field).ShouldBe(["interaction.type", "interaction.occurred_at", "interaction.amount", "interaction.currency"], ignoreOrder: true);
        (await Should.ThrowAsync<RpcException>(() => Buyers.ListBuyersAsync(new ListBuyersRequest { PageToken = "nonsense" }, Deadline).ResponseAsync))
            .ShouldBeInvalidArgument("page_token");
        (await Should.ThrowAsync<RpcException>(() => Buyers.SearchBuyersAsync(new SearchBuyersRequest { Query = "" }, Deadline).ResponseAsync))
            .ShouldBeInvalidArgument("query");
    }

    [Fact]
    public async Task Import_keeps_good_items_rejects_bad_ones_with_reasons_and_skips_duplicates()
    {
        var external = "crm-" + Unique();
        var name = "Imported " + Unique();
        var items = new List<Interaction>
        {
            ImportItem(InteractionType.AgreementSigned, 400, external, name, "k1"),
            ImportItem(InteractionType.Consultation, 300, external, null, "k2"),
            ImportItem(InteractionType.Meeting, 200, external, null, "k2"),
            ImportItem(InteractionType.Unspecified, 100, external, null, "k3"),
            ImportItem(InteractionType.Meeting, 100, "", "", "k4"),
            ImportItem(InteractionType.ServiceDelivered, 50, external, null, "k5"),
            ImportItem(InteractionType.Meeting, 20, external, null, "k6"),
        };
        var first = await ImportAsync(items);
        first.Accepted.ShouldBe(4);
        first.Duplicates.ShouldBe(1);
        first.Rejected.ShouldBe(2);
        first.BuyersCreated.ShouldBe(1);
        first.Rejections.Select(r => (r.Index, r.Field)).ShouldBe([(3L, "interaction.type"), (4L, "interaction.buyer_id")]);

        var again = await ImportAsync(items);
        again.Accepted.ShouldBe(0);
        again.Duplicates.ShouldBe(5);

        var buyer = (await Buyers.SearchBuyersAsync(new SearchBuyersRequest { Query = name }, Deadline)).Buyers.First();
        buyer.ExternalId.ShouldBe(external);
        buyer.InteractionCount.ShouldBe(4);

        // Classified from the registry by id, with evidence citing the interactions behind it.
        var classified = (await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { BuyerId = buyer.Id }, Deadline)).Classification;
        classified.Kind.ShouldBe(BuyerKind.Client);
        var interactionIds = (await Buyers.ListInteractionsAsync(new ListInteractionsRequest { BuyerId = buyer.Id }, Deadline)).Interactions.Select(i => i.Id).ToHashSet();
        var cited = classified.Evidence.SelectMany(e => e.InteractionIds).ToList();
        cited.ShouldNotBeEmpty();
        cited.ShouldAllBe(id => interactionIds.Contains(id));
        classified.Evidence.ShouldContain(e => e.Source == "history" && e.Signal == "agreement");
    }

    [Fact]
    public async Task A_customer_who_signs_an_agreement_is_recorded_as_a_change_of_kind()
    {
        var buyer = await Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = NewBuyer("Changer " + Unique(), market: Market.B2B) }, Deadline);
        for (var days = 400; days > 0; days -= 30)
        {
            await Buyers.RecordInteractionAsync(new RecordInteractionRequest { BuyerId = buyer.Id, Interaction = Interaction(InteractionType.RepeatPurchase, days, amount: 100) }, Deadline);
        }

        (await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { BuyerId = buyer.Id }, Deadline)).Classification.Kind.ShouldBe(BuyerKind.Customer);

        var signed = await Buyers.RecordInteractionAsync(new RecordInteractionRequest { BuyerId = buyer.Id, Interaction = Interaction(InteractionType.AgreementSigned, 5, note: "Signed a yearly advisory retainer") }, Deadline);
        foreach (var type in new[] { InteractionType.Consultation, InteractionType.Meeting, InteractionType.ServiceDelivered, InteractionType.Consultation, InteractionType.Consultation })
        {
            await Buyers.RecordInteractionAsync(new RecordInteractionRequest { BuyerId = buyer.Id, Interaction = Interaction(type, 2) }, Deadline);
        }

        (await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { BuyerId = buyer.Id }, Deadline)).Classification.Kind.ShouldNotBe(BuyerKind.Customer);
        var changes = await Buyers.ListClassificationChangesAsync(new ListClassificationChangesRequest { BuyerId = buyer.Id }, Deadline);
        var latest = changes.Changes[0];
        latest.PreviousKind.ShouldBe(BuyerKind.Customer);
        latest.InteractionIds.ShouldContain(signed.Id);
        changes.Changes.Count.ShouldBe(2, "first classification, then the change");
    }

    [Fact]
    public async Task Background_reclassification_records_changes_without_anyone_asking()
    {
        var external = "bg-" + Unique();
        await ImportAsync([
            ImportItem(InteractionType.AgreementSigned, 100, external, "Background " + Unique(), null),
            ImportItem(InteractionType.Consultation, 90, external, null, null),
            ImportItem(InteractionType.Meeting, 60, external, null, null),
            ImportItem(InteractionType.ServiceDelivered, 30, external, null, null)]);
        var worker = server.Services.GetRequiredService<ReclassificationWorker>();
        await worker.RunUntilIdleAsync(TestContext.Current.CancellationToken);
        var all = await Buyers.ListBuyersAsync(new ListBuyersRequest { Kind = BuyerKind.Client, PageSize = 1000 }, Deadline);
        var mine = all.Buyers.Single(b => b.ExternalId == external);
        mine.Classification.Kind.ShouldBe(BuyerKind.Client);
        var changes = await Buyers.ListClassificationChangesAsync(new ListClassificationChangesRequest { BuyerId = mine.Id }, Deadline);
        changes.Changes.Single().NewKind.ShouldBe(BuyerKind.Client);
    }

    [Fact]
    public async Task Lists_filter_by_kind_and_industry_and_page()
    {
        var industry = "industry-" + Unique();
        foreach (var name in new[] { "Carol", "alice", "Bob" })
        {
            await Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = NewBuyer(name, industry: industry) }, Deadline);
        }

        var page1 = await Buyers.ListBuyersAsync(new ListBuyersRequest { Industry = industry.ToUpperInvariant(), PageSize = 2 }, Deadline);
        page1.TotalSize.ShouldBe(3);
        page1.Buyers.Select(b => b.DisplayName).ShouldBe(["alice", "Bob"]);
        var page2 = await Buyers.ListBuyersAsync(new ListBuyersRequest { Industry = industry, PageSize = 2, PageToken = page1.NextPageToken }, Deadline);
        page2.Buyers.Select(b => b.DisplayName).ShouldBe(["Carol"]);
        page2.NextPageToken.ShouldBeEmpty();
        (await Buyers.ListBuyersAsync(new ListBuyersRequest { Industry = industry, Kind = BuyerKind.Client }, Deadline)).Buyers.ShouldBeEmpty();
    }

    [Fact]
    public async Task Search_tolerates_typos_and_prefixes_and_puts_the_best_first()
    {
        var tag = Unique()[..6];
        var target = await Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = NewBuyer($"Zebulon{tag} Logistics") }, Deadline);
        await Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = NewBuyer($"Zebulon{tag} Logistics Holdings International") }, Deadline);
        (await Search($"zebulon{tag} log"))[0].Id.ShouldBe(target.Id);
        (await Search($"zebulon{tag}")).Select(b => b.Id).ShouldContain(target.Id);
        (await Search($"zeblon{tag} logistics"))[0].Id.ShouldBe(target.Id, "one letter missing");
        (await Search($"zebulon{tag} logsitics"))[0].Id.ShouldBe(target.Id, "two letters swapped");
        (await Search("qqqqqqqq" + tag)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Ask_answers_about_registered_buyers_by_name()
    {
        var tag = new string(Unique().Where(char.IsLetter).Take(4).ToArray()).ToUpperInvariant().PadRight(4, 'Q');
        var name = $"Quor{tag.ToLowerInvariant()} Industries";
        var external = "ask-" + Unique();
        await ImportAsync([
            ImportItem(InteractionType.AgreementSigned, 300, external, name, null, note: "Signed a two-year consulting retainer"),
            ImportItem(InteractionType.Consultation, 250, external, null, null),
            ImportItem(InteractionType.Meeting, 120, external, null, null),
            ImportItem(InteractionType.ServiceDelivered, 60, external, null, null),
            ImportItem(InteractionType.Meeting, 10, external, null, null)]);

        var found = await server.Advisor.AskAsync(new AskRequest { Question = $"is {name} a client?" }, Deadline);
        found.Intent.ShouldBe(Intent.BuyerLookup);
        found.Buyer.DisplayName.ShouldBe(name);
        found.Classification.Kind.ShouldBe(BuyerKind.Client);
        found.Answer.ShouldContain(name);

        var shortName = await server.Advisor.AskAsync(new AskRequest { Question = $"what about Quor{tag.ToLowerInvariant()}?" }, Deadline);
        shortName.Buyer.DisplayName.ShouldBe(name);

        await Buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = NewBuyer($"Quor{tag.ToLowerInvariant()} Logistics") }, Deadline);
        var ambiguous = await server.Advisor.AskAsync(new AskRequest { Question = $"is Quor{tag.ToLowerInvariant()} a client?" }, Deadline);
        ambiguous.Intent.ShouldBe(Intent.BuyerLookup);
        ambiguous.Candidates.Select(c => c.DisplayName).ShouldBe([name, $"Quor{tag.ToLowerInvariant()} Logistics"], ignoreOrder: true);

        var unknown = await server.Advisor.AskAsync(new AskRequest { Question = "is Xylophonic Widgets a client?" }, Deadline);
        unknown.Intent.ShouldBe(Intent.BuyerLookup);
        unknown.Buyer.ShouldBeNull();
        unknown.Answer.ShouldContain("Describe them");
    }

    private async Task<IReadOnlyList<Buyer>> Search(string query) =>
        (await Buyers.SearchBuyersAsync(new SearchBuyersRequest { Query = query }, Deadline)).Buyers;

    private async Task<ImportInteractionsResponse> ImportAsync(IEnumerable<Interaction> items)
    {
        using var call = Buyers.ImportInteractions(Deadline);
        foreach (var item in items)
        {
            await call.RequestStream.WriteAsync(new ImportInteractionsRequest { Interaction = item }, TestContext.Current.CancellationToken);
        }

        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }

    private static string Unique() => Guid.NewGuid().ToString("N")[..10];

    private static Buyer NewBuyer(string name, string? industry = null, Market market = Market.Unspecified, IEnumerable<string>? aliases = null)
    {
        var buyer = new Buyer { DisplayName = name, Industry = industry ?? "", Market = market };
        buyer.Aliases.AddRange(aliases ?? []);
        return buyer;
    }

    private static Interaction Interaction(InteractionType type, double days, string? key = null, double amount = 0, string? note = null) => new()
    {
        Type = type,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-days)),
        Amount = amount,
        Currency = amount > 0 ? "EUR" : "",
        IdempotencyKey = key ?? "",
        Note = note ?? "",
    };

    private static Interaction ImportItem(InteractionType type, double days, string external, string? name, string? key, string? note = null)
    {
        var item = Interaction(type, days, key, note: note);
        item.BuyerExternalId = external;
        item.BuyerDisplayName = name ?? "";
        return item;
    }
}
