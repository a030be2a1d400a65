using Advisor.Server.Classification;
using Advisor.Server.Storage;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// What every <see cref="IBuyerStore"/> must do, written once and run against each provider
/// (sealed subclasses at the end). Each test makes its own buyers, so the tests share one database.
/// </summary>
public abstract class BuyerStoreContractTests<TProvider>(TProvider provider)
    where TProvider : StoreProvider
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 9, 0, 0, TimeSpan.Zero);

    protected TProvider Provider { get; } = provider;

    private IBuyerStore Store => Provider.Get<IBuyerStore>();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Create_get_update_with_etag_and_delete()
    {
        var external = "crm-" + Unique();
        var created = await Store.CreateBuyerAsync(Ids.New("b"), Values("Acme " + Unique(), external, "Consulting", ["ACME Inc"]), null, T0, Ct);
        created.Status.ShouldBe(BuyerWriteStatus.Ok);
        var buyer = created.Buyer!;
        buyer.ExternalId.ShouldBe(external);
        buyer.Aliases.ShouldBe(["ACME Inc"]);
        buyer.CreateTime.ShouldBe(T0);
        buyer.Classification.ShouldBeNull();
        (await Store.GetBuyerAsync(buyer.Id, Ct))!.Etag.ShouldBe(buyer.Etag);

        (await Store.CreateBuyerAsync(Ids.New("b"), Values("Other", external), null, T0, Ct)).Status.ShouldBe(BuyerWriteStatus.ExternalIdTaken);

        var renamed = await Store.UpdateBuyerAsync(buyer.Id, Values("Acme Renamed", null, "law"), BuyerFields.DisplayName | BuyerFields.Industry, buyer.Etag, T0.AddHours(1), Ct);
        renamed.Status.ShouldBe(BuyerWriteStatus.Ok);
        renamed.Buyer!.DisplayName.ShouldBe("Acme Renamed");
        renamed.Buyer.Industry.ShouldBe("law");
        renamed.Buyer.ExternalId.ShouldBe(external, "fields outside the mask keep their values");
        renamed.Buyer.Etag.ShouldNotBe(buyer.Etag);
        renamed.Buyer.UpdateTime.ShouldBe(T0.AddHours(1));

        var stale = await Store.UpdateBuyerAsync(buyer.Id, Values("Lost update"), BuyerFields.DisplayName, buyer.Etag, T0, Ct);
        stale.Status.ShouldBe(BuyerWriteStatus.EtagMismatch);
        (await Store.GetBuyerAsync(buyer.Id, Ct))!.DisplayName.ShouldBe("Acme Renamed");

        (await Store.DeleteBuyerAsync(buyer.Id, buyer.Etag, Ct)).Status.ShouldBe(BuyerWriteStatus.EtagMismatch);
        (await Store.DeleteBuyerAsync(buyer.Id, renamed.Buyer.Etag, Ct)).Status.ShouldBe(BuyerWriteStatus.Ok);
        (await Store.GetBuyerAsync(buyer.Id, Ct)).ShouldBeNull();
        (await Store.DeleteBuyerAsync(buyer.Id, null, Ct)).Status.ShouldBe(BuyerWriteStatus.NotFound);
        (await Store.UpdateBuyerAsync(buyer.Id, Values("x"), BuyerFields.DisplayName, null, T0, Ct)).Status.ShouldBe(BuyerWriteStatus.NotFound);
    }

    [Fact]
    public async Task Create_with_a_request_id_is_stored_once_even_when_retried_concurrently()
    {
        var requestId = Guid.NewGuid().ToString();
        var name = "Retry " + Unique();
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Store.CreateBuyerAsync(Ids.New("b"), Values(name), requestId, T0, Ct)));
        results.ShouldAllBe(r => r.Status == BuyerWriteStatus.Ok);
        results.Select(r => r.Buyer!.Id).Distinct().Count().ShouldBe(1);
        (await Store.FindBuyersByNameAsync(name, 10, Ct)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Names_and_aliases_match_case_and_space_insensitively()
    {
        var tag = Unique();
        var buyer = (await Store.CreateBuyerAsync(Ids.New("b"), Values($"Northwind {tag} Traders", aliases: [$"NW {tag}"]), null, T0, Ct)).Buyer!;
        (await Store.FindBuyersByNameAsync($"  northwind   {tag.ToUpperInvariant()} traders ", 5, Ct)).Single().Id.ShouldBe(buyer.Id);
        (await Store.FindBuyersByNameAsync($"nw {tag}", 5, Ct)).Single().Id.ShouldBe(buyer.Id);
        (await Store.FindBuyersByNameAsync($"northwind {tag}", 5, Ct)).ShouldBeEmpty("matching is exact; fuzzy search is the name index's job");
    }

    [Fact]
    public async Task List_orders_by_name_pages_and_filters_by_industry_and_kind()
    {
        var industry = "industry-" + Unique();
        var names = new[] { "delta", "Alpha", "charlie", "Bravo", "echo" };
        var ids = new List<string>();
        foreach (var name in names)
        {
            ids.Add((await Store.CreateBuyerAsync(Ids.New("b"), Values(name, industry: industry.ToUpperInvariant()), null, T0, Ct)).Buyer!.Id);
        }

        var seen = new List<BuyerRecord>();
        string? token = null;
        do
        {
            var page = await Store.ListBuyersAsync(new BuyerFilter(null, industry), 2, token, Ct);
            page.TotalSize.ShouldBe(5);
            page.Items.Count.ShouldBeLessThanOrEqualTo(2);
            seen.AddRange(page.Items);
            token = page.NextPageToken.Length > 0 ? page.NextPageToken : null;
        }
        while (token is not null);

        seen.Select(b => b.DisplayName).ShouldBe(["Alpha", "Bravo", "charlie", "delta", "echo"]);

        await Store.SaveClassificationAsync(ids[0], Classified(Kind.Client), 0, Ct);
        var clients = await Store.ListBuyersAsync(new BuyerFilter(Kind.Client, industry), 10, null, Ct);
        clients.Items.Single().Id.ShouldBe(ids[0]);
        clients.TotalSize.ShouldBe(1);
        await Should.ThrowAsync<FormatException>(() => Store.ListBuyersAsync(new BuyerFilter(null, null), 10, "garbage!", Ct));
    }

    [Fact]
    public async Task Recorded_interactions_are_idempotent_by_request_id_and_by_key()
    {
        var buyer = await NewBuyerAsync();
        var first = await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Meeting, T0, key: "k1"), "req-" + buyer, Ct);
        first.Status.ShouldBe(InteractionWriteStatus.Created);

        var sameRequest = await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0.AddDays(1)), "req-" + buyer, Ct);
        sameRequest.Status.ShouldBe(InteractionWriteStatus.Duplicate);
        sameRequest.Interaction!.Id.ShouldBe(first.Interaction!.Id);

        var sameKey = await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0.AddDays(2), key: "k1"), null, Ct);
        sameKey.Status.ShouldBe(InteractionWriteStatus.Duplicate);
        sameKey.Interaction!.Id.ShouldBe(first.Interaction.Id);
        sameKey.Interaction.Type.ShouldBe(InteractionKind.Meeting);

        (await Store.RecordInteractionAsync(Interaction(Ids.New("b"), InteractionKind.Meeting, T0), null, Ct)).Status.ShouldBe(InteractionWriteStatus.BuyerNotFound);
        (await Store.GetBuyerAsync(buyer, Ct))!.InteractionCount.ShouldBe(1);
    }

    [Fact]
    public async Task Interactions_list_newest_first_across_pages_with_the_total()
    {
        var buyer = await NewBuyerAsync();
        for (var i = 0; i < 7; i++)
        {
            (await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0.AddDays(i % 3 == 0 ? 10 - i : i), amount: i), null, Ct)).Status.ShouldBe(InteractionWriteStatus.Created);
        }

        var seen = new List<InteractionRecord>();
        string? token = null;
        do
        {
            var page = (await Store.ListInteractionsAsync(buyer, 3, token, Ct))!;
            page.TotalSize.ShouldBe(7);
            seen.AddRange(page.Items);
            token = page.NextPageToken.Length > 0 ? page.NextPageToken : null;
        }
        while (token is not null);

        seen.Count.ShouldBe(7);
        seen.Select(i => i.Id).ShouldBeUnique();
        seen.Select(i => i.OccurredAt).ShouldBeInOrder(SortDirection.Descending);
        (await Store.ListInteractionsAsync(Ids.New("b"), 3, null, Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task An_import_batch_matches_or_creates_buyers_skips_duplicates_and_rejects_unknown_ids()
    {
        var existing = await NewBuyerAsync();
        var external = "ext-" + Unique();
        var name = "Fresh " + Unique();
        var items = new List<ImportItem>
        {
            Item(0, existing, null, null, InteractionKind.AgreementSigned, T0, "a"),
            Item(1, existing, null, null, InteractionKind.Meeting, T0.AddDays(3), "b"),
            Item(2, existing, null, null, InteractionKind.Meeting, T0.AddDays(1), "b"),
            Item(3, null, external, "Made By External", InteractionKind.Purchase, T0, "c", amount: 10),
            Item(4, null, external, null, InteractionKind.Purchase, T0.AddDays(5), "d", amount: 30),
            Item(5, null, null, name, InteractionKind.Consultation, T0, null),
            Item(6, null, null, name.ToUpperInvariant(), InteractionKind.Consultation, T0.AddDays(-2), null),
            Item(7, Ids.New("b"), null, null, InteractionKind.Meeting, T0, null),
        };
        var result = await Store.ImportBatchAsync(items, Ct);
        result.Items.Select(i => i.Status).ShouldBe([
            ImportItemStatus.Accepted, ImportItemStatus.Accepted, ImportItemStatus.Duplicate, ImportItemStatus.Accepted,
            ImportItemStatus.Accepted, ImportItemStatus.Accepted, ImportItemStatus.Accepted, ImportItemStatus.Rejected]);
        result.Items[7].Field.ShouldBe("interaction.buyer_id");
        result.Items[7].Reason.ShouldNotBeNullOrWhiteSpace();
        result.BuyersCreated.ShouldBe(2);

        var again = await Store.ImportBatchAsync([Item(0, existing, null, null, InteractionKind.AgreementSigned, T0, "a"), Item(1, null, external, null, InteractionKind.Purchase, T0, "c")], Ct);
        again.Items.ShouldAllBe(i => i.Status == ImportItemStatus.Duplicate);
        again.BuyersCreated.ShouldBe(0);

        var byExternal = (await Store.ListBuyersAsync(new BuyerFilter(null, null), 1000, null, Ct)).Items.Single(b => b.ExternalId == external);
        byExternal.DisplayName.ShouldBe("Made By External");
        byExternal.InteractionCount.ShouldBe(2);
        var profile = (await Store.GetProfileAsync(byExternal.Id, 5, Ct))!;
        var purchases = profile.Stats.Single();
        purchases.Type.ShouldBe(InteractionKind.Purchase);
        purchases.Count.ShouldBe(2);
        purchases.AmountTotal.ShouldBe(40);
        purchases.AmountCount.ShouldBe(2);
        purchases.FirstAt.ShouldBe(T0);
        purchases.LastAt.ShouldBe(T0.AddDays(5));
        purchases.LastInteractionId.ShouldBe(items[4].Interaction.Id);
        purchases.FirstInteractionId.ShouldBe(items[3].Interaction.Id);

        var byName = (await Store.FindBuyersByNameAsync(name, 5, Ct)).Single();
        byName.InteractionCount.ShouldBe(2);
        var consultations = (await Store.GetProfileAsync(byName.Id, 5, Ct))!.Stats.Single();
        consultations.FirstInteractionId.ShouldBe(items[6].Interaction.Id, "first is by occurred_at, not by arrival");
        consultations.LastInteractionId.ShouldBe(items[5].Interaction.Id);

        var toClassify = await Store.ListBuyersToReclassifyAsync(100_000, Ct);
        toClassify.ShouldContain(existing);
        toClassify.ShouldContain(byName.Id);
    }

    [Fact]
    public async Task An_import_batch_with_interleaved_buyers_keeps_each_buyers_stream_order_and_answers_in_input_order()
    {
        // A store may write a batch in another order than it arrived (SQLite writes it in buyer order); what a caller
        // sees must not change: results in input order, the first of two items with one idempotency key is the one
        // kept, and a buyer's interactions at the same time are listed newest-stored first, i.e. by arrival.
        var older = await NewBuyerAsync();
        var newer = await NewBuyerAsync();
        var items = new List<ImportItem>
        {
            Item(0, newer, null, null, InteractionKind.Meeting, T0, "same"),
            Item(1, older, null, null, InteractionKind.Meeting, T0, "x"),
            Item(2, newer, null, null, InteractionKind.Purchase, T0.AddDays(1), "same", amount: 5),
            Item(3, Ids.New("b"), null, null, InteractionKind.Meeting, T0, null),
            Item(4, older, null, null, InteractionKind.Meeting, T0, "y"),
            Item(5, newer, null, null, InteractionKind.Meeting, T0, null),
            Item(6, older, null, null, InteractionKind.Meeting, T0, "x"),
        };

        var result = await Store.ImportBatchAsync(items, Ct);

        result.Items.Select(i => i.Index).ShouldBe([0, 1, 2, 3, 4, 5, 6]);
        result.Items.Select(i => i.Status).ShouldBe([
            ImportItemStatus.Accepted, ImportItemStatus.Accepted, ImportItemStatus.Duplicate, ImportItemStatus.Rejected,
            ImportItemStatus.Accepted, ImportItemStatus.Accepted, ImportItemStatus.Duplicate]);
        (await Store.ListInteractionsAsync(newer, 10, null, Ct))!.Items.Select(i => i.Id)
            .ShouldBe([items[5].Interaction.Id, items[0].Interaction.Id]);
        (await Store.ListInteractionsAsync(older, 10, null, Ct))!.Items.Select(i => i.Id)
            .ShouldBe([items[4].Interaction.Id, items[1].Interaction.Id]);
        var meetings = (await Store.GetProfileAsync(newer, 5, Ct))!.Stats.Single();
        meetings.Type.ShouldBe(InteractionKind.Meeting);
        meetings.Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_bulk_batch_with_interleaved_buyers_keeps_each_buyers_stream_order_and_the_first_of_each_key()
    {
        // As above, with enough keyed items for PostgreSQL's write-first path (which also writes in buyer order).
        var buyers = new[] { await NewBuyerAsync(), await NewBuyerAsync(), await NewBuyerAsync() };
        var items = Enumerable.Range(0, 300)
            .Select(n => Item(n, buyers[(n * 7) % 3], null, null, InteractionKind.Message, T0.AddHours(n % 4), $"k{n % 120}"))
            .ToList();

        var result = await Store.ImportBatchAsync(items, Ct);

        var firstOfKey = items.GroupBy(i => (i.BuyerId, i.Interaction.IdempotencyKey)).Select(g => g.First().Index).ToHashSet();
        result.Items.Select(i => i.Index).ShouldBe(items.Select(i => i.Index));
        result.Items.Select(i => i.Status == ImportItemStatus.Accepted).ShouldBe(items.Select(i => firstOfKey.Contains(i.Index)));
        foreach (var buyer in buyers)
        {
            var expected = items.Where(i => i.BuyerId == buyer && firstOfKey.Contains(i.Index))
                .OrderByDescending(i => i.Interaction.OccurredAt).ThenByDescending(i => i.Index).Select(i => i.Interaction.Id).ToList();
            (await Store.ListInteractionsAsync(buyer, 500, null, Ct))!.Items.Select(i => i.Id).ShouldBe(expected);
        }
    }

    [Fact]
    public async Task Concurrent_import_batches_naming_the_same_new_buyers_create_each_buyer_once_and_keep_every_item()
    {
        // Four writers, each batch naming the same 30 new buyers (by external id, or by name only): however the
        // batches interleave, one of them creates each buyer and the others add to it.
        var run = Unique();
        var batches = Enumerable.Range(0, 4).Select(w => Enumerable.Range(0, 60).Select(n => n % 2 == 0
                ? Item(n, null, $"claim-{run}-{n % 30}", $"Claimed {run} {n % 30}", InteractionKind.Purchase, T0.AddMinutes(n), $"w{w}-{n}")
                : Item(n, null, null, $"Named {run} {n % 30}", InteractionKind.Meeting, T0.AddMinutes(n), $"w{w}-{n}"))
            .ToList()).ToList();

        var results = await Task.WhenAll(batches.Select(b => Task.Run(() => Store.ImportBatchAsync(b, Ct), Ct)));

        results.SelectMany(r => r.Items).ShouldAllBe(i => i.Status == ImportItemStatus.Accepted);
        results.Sum(r => r.BuyersCreated).ShouldBe(30);
        for (var k = 0; k < 30; k++)
        {
            var found = await Store.FindBuyersByNameAsync(k % 2 == 0 ? $"Claimed {run} {k}" : $"Named {run} {k}", 5, Ct);
            found.Count.ShouldBe(1);
            found[0].InteractionCount.ShouldBe(8, "each buyer: 2 items in each of 4 batches");
        }
    }

    [Fact]
    public async Task A_large_batch_sent_again_with_new_items_among_the_old_stores_only_the_new_ones()
    {
        // Large enough for PostgreSQL to write first and look the keys up only when the unique index objects.
        var buyers = new[] { await NewBuyerAsync(), await NewBuyerAsync() };
        List<ImportItem> Batch(int from, int count) => Enumerable.Range(from, count)
            .Select(n => Item(n - from, buyers[n % 2], null, null, (InteractionKind)(1 + (n % 5)), T0.AddMinutes(n), $"key-{n}", amount: n)).ToList();

        (await Store.ImportBatchAsync(Batch(0, 300), Ct)).Items.ShouldAllBe(i => i.Status == ImportItemStatus.Accepted);
        // Old keys first, then new ones; then new keys first and an old one last.
        var again = await Store.ImportBatchAsync(Batch(200, 200), Ct);
        var last = await Store.ImportBatchAsync([.. Batch(400, 150), .. Batch(10, 1).Select(i => i with { Index = 150 })], Ct);

        again.Items.Select(i => i.Index).ShouldBe(Enumerable.Range(0, 200).Select(n => (long)n));
        again.Items.Take(100).ShouldAllBe(i => i.Status == ImportItemStatus.Duplicate);
        again.Items.Skip(100).ShouldAllBe(i => i.Status == ImportItemStatus.Accepted);
        last.Items.Take(150).ShouldAllBe(i => i.Status == ImportItemStatus.Accepted);
        last.Items[150].Status.ShouldBe(ImportItemStatus.Duplicate);
        foreach (var buyer in buyers)
        {
            var profile = (await Store.GetProfileAsync(buyer, 1, Ct))!;
            profile.Buyer.InteractionCount.ShouldBe(275);
            profile.Stats.Sum(s => s.Count).ShouldBe(275);
            profile.Stats.Sum(s => s.AmountTotal).ShouldBe(Enumerable.Range(0, 550).Where(n => buyers[n % 2] == buyer).Sum(n => (double)n));
        }
    }

    [Fact]
    public async Task Import_sub_batches_are_stored_as_one_import_in_input_order_with_duplicates_and_new_buyers_seen_across_them()
    {
        // Three sub-batches in one list that the caller reuses (the store must be done with each before it asks for the
        // next): a buyer created by external id in the first is found again in the second, a key repeated in the third
        // is a duplicate of the first's item, and an unknown buyer id is rejected wherever it comes.
        var existing = await NewBuyerAsync();
        var external = "crm-sub-" + Unique();
        var name = "Sub Batch " + Unique();
        List<List<ImportItem>> parts =
        [
            [Item(0, null, external, name, InteractionKind.Purchase, T0, "s-0", amount: 10), Item(1, existing, null, null, InteractionKind.Message, T0, "s-1")],
            [Item(2, null, external, null, InteractionKind.Purchase, T0.AddMinutes(1), "s-2", amount: 5), Item(3, "b_missing" + Unique(), null, null, InteractionKind.Message, T0, "s-3")],
            [Item(4, existing, null, null, InteractionKind.Message, T0.AddMinutes(2), "s-1"), Item(5, null, external, null, InteractionKind.Refund, T0.AddMinutes(2), "s-0", amount: 1)],
        ];
        var list = new List<ImportItem>(parts[0]);
        var next = 1;
        IReadOnlyList<ImportItem>? Next()
        {
            if (next == parts.Count)
            {
                return null;
            }

            list.Clear();
            list.AddRange(parts[next++]);
            return list;
        }

        var result = await Store.ImportBatchesAsync(list, Next, Ct);

        result.Items.Select(i => i.Index).ShouldBe([0L, 1, 2, 3, 4, 5]);
        result.Items.Select(i => i.Status).ShouldBe([
            ImportItemStatus.Accepted, ImportItemStatus.Accepted, ImportItemStatus.Accepted, ImportItemStatus.Rejected, ImportItemStatus.Duplicate, ImportItemStatus.Duplicate]);
        result.Items[3].Field.ShouldBe("interaction.buyer_id");
        result.BuyersCreated.ShouldBe(1);
        var created = (await Store.FindBuyersByNameAsync(name, 5, Ct)).ShouldHaveSingleItem();
        created.ExternalId.ShouldBe(external);
        var profile = (await Store.GetProfileAsync(created.Id, 1, Ct))!;
        profile.Buyer.InteractionCount.ShouldBe(2);
        profile.Stats.Sum(s => s.AmountTotal).ShouldBe(15);
        (await Store.GetProfileAsync(existing, 1, Ct))!.Buyer.InteractionCount.ShouldBe(1);
    }

    [Fact]
    public async Task Concurrent_import_batches_with_the_same_keys_store_each_key_once_and_answer_each_batch_for_its_own_items()
    {
        // Eight writers over the same two buyers, every key sent by two of them: whatever runs together, each key is
        // stored once, and each writer's answer lists its own items, in its order, with its own indexes.
        var buyers = new[] { await NewBuyerAsync(), await NewBuyerAsync() };
        var batches = Enumerable.Range(0, 8).Select(w => Enumerable.Range(0, 100)
            .Select(n => Item(1000 * w + n, buyers[n % 2], null, null, InteractionKind.Purchase, T0.AddMinutes(n), $"k-{w / 2}-{n}")).ToList()).ToList();

        var results = await Task.WhenAll(batches.Select(b => Task.Run(() => Store.ImportBatchAsync(b, Ct), Ct)));

        for (var w = 0; w < batches.Count; w++)
        {
            results[w].Items.Select(i => i.Index).ShouldBe(batches[w].Select(i => i.Index));
            results[w].BuyersCreated.ShouldBe(0);
        }

        for (var pair = 0; pair < 4; pair++)
        {
            for (var n = 0; n < 100; n++)
            {
                new[] { results[2 * pair].Items[n].Status, results[(2 * pair) + 1].Items[n].Status }.Order().ToArray()
                    .ShouldBe([ImportItemStatus.Accepted, ImportItemStatus.Duplicate], $"key k-{pair}-{n}");
            }
        }

        foreach (var buyer in buyers)
        {
            (await Store.GetBuyerAsync(buyer, Ct))!.InteractionCount.ShouldBe(200);
        }
    }

    [Fact]
    public async Task An_import_batch_stores_every_value_exactly_long_non_ascii_and_empty_text_included()
    {
        // Enough rows to be sent in several pieces, and a note larger than a piece (PostgreSQL encodes the COPY itself).
        var buyer = await NewBuyerAsync();
        var notes = new[] { "", "ascii note", "Grüße, ĉu vi? 日本語の顧客 \t tab\ttab \\ back\\slash \"quoted\" 👍🏽", new string('é', 100_000) + "🙂" };
        var items = Enumerable.Range(0, 3000).Select(n => new ImportItem(
            n,
            buyer,
            null,
            null,
            new InteractionRecord(Ids.New("i"), "", (InteractionKind)(1 + (n % 13)), T0.AddMinutes(n), n % 4 == 0 ? null : -1234.5678 * n, n % 5 == 0 ? null : "EUR",
                n % 7 == 0 ? null : "channel " + n, n % 3 == 0 ? null : notes[n % notes.Length], n % 2 == 0 ? null : $"key-{n}-ключ", T0.AddSeconds(n)))).ToList();

        var result = await Store.ImportBatchAsync(items, Ct);

        result.Items.ShouldAllBe(i => i.Status == ImportItemStatus.Accepted);
        var stored = new List<InteractionRecord>();
        string? token = null;
        do
        {
            var page = (await Store.ListInteractionsAsync(buyer, 1000, token, Ct))!;
            stored.AddRange(page.Items);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        stored.Count.ShouldBe(items.Count);
        var byId = stored.ToDictionary(i => i.Id);
        foreach (var item in items)
        {
            byId[item.Interaction.Id].ShouldBe(item.Interaction with { BuyerId = buyer });
        }
    }

    [Fact]
    public async Task Interactions_with_and_without_notes_list_in_one_order_and_only_noted_ones_are_recent_notes()
    {
        // PostgreSQL keeps a buyer's interactions with and without a note in two ranges of one index (migration 006)
        // and merges them for a page: the order must be the same as one list sorted by time, ties by recording order.
        var buyer = await NewBuyerAsync();
        var recorded = new List<(string Id, DateTimeOffset At, string? Note)>();
        for (var i = 0; i < 12; i++)
        {
            var at = T0.AddHours(i % 5 == 0 ? 3 : i % 4);
            var note = i % 3 == 1 ? null : $"note {i}";
            var written = await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Message, at, note: note), null, Ct);
            recorded.Add((written.Interaction!.Id, at, note));
        }

        var expected = recorded.Select((r, n) => (r, n)).OrderByDescending(x => x.r.At).ThenByDescending(x => x.n).Select(x => x.r.Id).ToList();
        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = (await Store.ListInteractionsAsync(buyer, 2, token, Ct))!;
            seen.AddRange(page.Items.Select(i => i.Id));
            token = page.NextPageToken.Length > 0 ? page.NextPageToken : null;
        }
        while (token is not null);

        seen.ShouldBe(expected);
        var notes = (await Store.GetProfileAsync(buyer, 4, Ct))!.RecentNotes.Select(n => n.InteractionId).ToList();
        notes.ShouldBe(expected.Where(id => recorded.Single(r => r.Id == id).Note is not null).Take(4).ToList());
    }

    [Fact]
    public async Task Profiles_carry_totals_and_the_latest_notes_and_a_sequence_for_the_save()
    {
        var buyer = await NewBuyerAsync();
        await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Message, T0, note: "asked about the roadmap"), null, Ct);
        await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Message, T0.AddDays(2), note: "wants a quarterly review"), null, Ct);
        await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0.AddDays(1)), null, Ct);
        var profile = (await Store.GetProfileAsync(buyer, 1, Ct))!;
        profile.Buyer.Id.ShouldBe(buyer);
        profile.Stats.Select(s => (s.Type, s.Count)).ShouldBe([(InteractionKind.Purchase, 1L), (InteractionKind.Message, 2L)], ignoreOrder: true);
        profile.RecentNotes.Single().Note.ShouldBe("wants a quarterly review");
        profile.LastSequence.ShouldBeGreaterThan(0);
        (await Store.GetProfileAsync(Ids.New("b"), 1, Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task Saving_classifications_keeps_history_and_records_kind_changes_with_their_interactions()
    {
        var buyer = await NewBuyerAsync();
        var first = (await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0), null, Ct)).Interaction!;
        var profile = (await Store.GetProfileAsync(buyer, 0, Ct))!;
        var saved = await Store.SaveClassificationAsync(buyer, Classified(Kind.Customer), profile.LastSequence, Ct);
        saved.Found.ShouldBeTrue();
        saved.KindChanged.ShouldBeTrue();
        saved.Entry!.PreviousKind.ShouldBeNull();
        saved.Entry.InteractionIds.ShouldBe([first.Id]);
        (await Store.ListBuyersToReclassifyAsync(100_000, Ct)).ShouldNotContain(buyer);

        (await Store.SaveClassificationAsync(buyer, Classified(Kind.Customer), profile.LastSequence, Ct)).Entry.ShouldBeNull("an unchanged result adds no history");

        var signed = (await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.AgreementSigned, T0.AddDays(30)), null, Ct)).Interaction!;
        var meeting = (await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Meeting, T0.AddDays(31)), null, Ct)).Interaction!;
        (await Store.ListBuyersToReclassifyAsync(100_000, Ct)).ShouldContain(buyer);
        var later = (await Store.GetProfileAsync(buyer, 0, Ct))!;
        var change = await Store.SaveClassificationAsync(buyer, Classified(Kind.Client), later.LastSequence, Ct);
        change.KindChanged.ShouldBeTrue();
        change.Entry!.PreviousKind.ShouldBe(Kind.Customer);
        change.Entry.InteractionIds.ShouldBe([meeting.Id, signed.Id], ignoreOrder: true);
        (await Store.GetBuyerAsync(buyer, Ct))!.Classification!.Kind.ShouldBe(Kind.Client);

        var version = await Store.SaveClassificationAsync(buyer, Classified(Kind.Client) with { RuleSetVersion = "v2" }, later.LastSequence, Ct);
        version.KindChanged.ShouldBeFalse();
        version.Entry.ShouldNotBeNull("a new rule set version is history, not a change of kind");

        var history = await Store.ListClassificationHistoryAsync(buyer, 10, null, Ct);
        history.Items.Select(h => h.Kind).ShouldBe([Kind.Client, Kind.Client, Kind.Customer]);
        var changes = await Store.ListClassificationChangesAsync(buyer, 1, null, Ct);
        changes.Items.Single().Kind.ShouldBe(Kind.Client);
        var rest = await Store.ListClassificationChangesAsync(buyer, 1, changes.NextPageToken, Ct);
        rest.Items.Single().Kind.ShouldBe(Kind.Customer);
        rest.NextPageToken.ShouldBeEmpty();
        (await Store.ListClassificationChangesAsync(null, 1000, null, Ct)).Items.Count(c => c.BuyerId == buyer).ShouldBe(2);
    }

    [Fact]
    public async Task A_save_computed_before_newer_interactions_leaves_the_buyer_marked()
    {
        var buyer = await NewBuyerAsync();
        await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0), null, Ct);
        var profile = (await Store.GetProfileAsync(buyer, 0, Ct))!;
        await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0.AddDays(1)), null, Ct);
        await Store.SaveClassificationAsync(buyer, Classified(Kind.Customer), profile.LastSequence, Ct);
        (await Store.ListBuyersToReclassifyAsync(100_000, Ct)).ShouldContain(buyer);
    }

    [Fact]
    public async Task Deleting_a_buyer_removes_its_interactions_and_history()
    {
        var buyer = await NewBuyerAsync();
        await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0, key: "x"), null, Ct);
        await Store.SaveClassificationAsync(buyer, Classified(Kind.Customer), 0, Ct);
        (await Store.DeleteBuyerAsync(buyer, null, Ct)).Status.ShouldBe(BuyerWriteStatus.Ok);
        (await Store.GetProfileAsync(buyer, 5, Ct)).ShouldBeNull();
        (await Store.ListClassificationHistoryAsync(buyer, 10, null, Ct)).Items.ShouldBeEmpty();
        (await Store.RecordInteractionAsync(Interaction(buyer, InteractionKind.Purchase, T0, key: "x"), null, Ct)).Status.ShouldBe(InteractionWriteStatus.BuyerNotFound);
    }

    [Fact]
    public async Task The_change_feed_lists_creates_updates_and_deletes_in_order()
    {
        var start = await LatestSequenceAsync();
        var buyer = (await Store.CreateBuyerAsync(Ids.New("b"), Values("Feed " + Unique()), null, T0, Ct)).Buyer!;
        await Store.UpdateBuyerAsync(buyer.Id, Values("Feed Renamed", aliases: ["FR"]), BuyerFields.DisplayName | BuyerFields.Aliases, null, T0, Ct);
        var imported = await Store.ImportBatchAsync([Item(0, null, null, "Feed Import " + Unique(), InteractionKind.Purchase, T0, null)], Ct);
        imported.BuyersCreated.ShouldBe(1);
        await Store.DeleteBuyerAsync(buyer.Id, null, Ct);

        var changes = await Store.ListNameChangesAsync(start, 1000, Ct);
        changes.Select(c => c.Sequence).ShouldBeInOrder(SortDirection.Ascending);
        var mine = changes.Where(c => c.BuyerId == buyer.Id).ToList();
        mine.Count.ShouldBe(3);
        mine.ShouldAllBe(c => c.Deleted, "the buyer is gone now, so every entry reads as deleted");
        changes.ShouldContain(c => !c.Deleted && c.DisplayName!.StartsWith("Feed Import", StringComparison.Ordinal));
        (await Store.ListNameChangesAsync(changes[^1].Sequence, 10, Ct)).ShouldBeEmpty();
        (await Store.ListNameChangesAsync(start, 1, Ct)).Count.ShouldBe(1);
    }

    private async Task<long> LatestSequenceAsync()
    {
        long last = 0;
        while (true)
        {
            var page = await Store.ListNameChangesAsync(last, 10_000, Ct);
            if (page.Count == 0)
            {
                return last;
            }

            last = page[^1].Sequence;
        }
    }

    private async Task<string> NewBuyerAsync() =>
        (await Store.CreateBuyerAsync(Ids.New("b"), Values("Buyer " + Unique()), null, T0, Ct)).Buyer!.Id;

    private static string Unique() => Guid.NewGuid().ToString("N")[..10];

    private static BuyerValues Values(string name, string? externalId = null, string? industry = null, IReadOnlyList<string>? aliases = null) =>
        new(name, industry, MarketKind.Business, externalId, aliases ?? [], null);

    private static StoredClassification Classified(Kind kind) => new(kind, 0.8, kind == Kind.Client ? 3 : -3, "summary", "v1", T0.AddDays(40));

    private static InteractionRecord Interaction(string buyerId, InteractionKind type, DateTimeOffset at, string? key = null, double? amount = null, string? note = null) =>
        new(Ids.New("i"), buyerId, type, at, amount, amount is null ? null : "EUR", "email", note, key, DateTimeOffset.UtcNow);

    private static ImportItem Item(long index, string? buyerId, string? externalId, string? name, InteractionKind type, DateTimeOffset at, string? key, double? amount = null) =>
        new(index, buyerId, externalId, name, Interaction("", type, at, key, amount));
}

public sealed class SqliteBuyerStoreContractTests(SqliteProvider provider)
    : BuyerStoreContractTests<SqliteProvider>(provider), IClassFixture<SqliteProvider>;

public sealed class PostgresBuyerStoreContractTests(PostgresProvider provider)
    : BuyerStoreContractTests<PostgresProvider>(provider), IClassFixture<PostgresProvider>;
