using Advisor.V1;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Health.V1;
using static Advisor.Server.Tests.Faults.Fuzz.FuzzInputs;

namespace Advisor.Server.Tests.Faults.Fuzz;

/// <summary>
/// Property-based fuzzing of every RPC of every service over a real server and channel: hostile text, lengths past
/// the limits, enum numbers outside the contract, unset oneofs, unknown field-mask paths, forged page tokens,
/// extreme numbers and times, repeated request ids, stale etags, and raw bytes that are not valid protobuf. No
/// answer may be INTERNAL or UNKNOWN, every call must be answered before its deadline, and the server must still
/// be serving afterwards. The suite runs <see cref="Fuzzer.DefaultCases"/> cases in all (ADVISOR_FUZZ_CASES
/// sets another total), shared out between the tests below.
/// </summary>
public sealed class RpcFuzzTests(FuzzServerFixture server) : IClassFixture<FuzzServerFixture>
{
    private FuzzWorld World => server.World;

    /// <summary>Request ids from a small pool, so retries with the same id and a different body happen often.</summary>
    private static readonly Gen<string> RequestId = Gen.Frequency((2, Gen.Const("")), (3, Gen.OneOf("dup-1", "dup-2", "dup-3")), (1, Text));

    private static Gen<T> Maybe<T>(Gen<T> gen)
        where T : class => Gen.Frequency((1, Gen.Const(() => (T)null!)), (5, gen));

    private static Gen<double?> OptionalNumber => Gen.Frequency((1, Gen.Const(() => (double?)null)), (2, Number.Select(n => (double?)n)));

    private static Gen<bool?> OptionalBool => Gen.OneOf<bool?>(null, true, false);

    [Fact]
    public Task AdvisorService_answers_every_input_with_a_proper_status() => Fuzzer.RunAsync(Gen.OneOf(Classify(), Suggest, Ask, Feedback(), ListFeedback()), server, 200);

    [Fact]
    public Task KnowledgeService_answers_every_input_with_a_proper_status() => Fuzzer.RunAsync(Gen.OneOf(ListTopics(), GetTopic()), server, 70);

    [Fact]
    public Task BuyerService_answers_every_input_with_a_proper_status() => Fuzzer.RunAsync(
        Gen.OneOf(CreateBuyer(), GetBuyer(), UpdateBuyer(), DeleteBuyer(), ListBuyers(), SearchBuyers(), RecordInteraction(), ListInteractions(), ListChanges()),
        server, 250);

    [Fact]
    public Task ImportInteractions_answers_every_stream_with_a_proper_status() => Fuzzer.RunAsync(Import(), server, 80);

    [Fact]
    public Task RulesService_answers_every_input_with_a_proper_status() => Fuzzer.RunAsync(
        Gen.Frequency((3, GetRuleSet()), (2, ListVersions()), (3, CreateDraft()), (4, Validate()), (1, Backtest()), (2, Publish()), (2, Rollback()), (2, ListAudit())),
        server, 170);

    [Fact]
    public Task ApiKeyService_answers_every_input_with_a_proper_status() => Fuzzer.RunAsync(Gen.OneOf(CreateKey, ListKeys(), RevokeKey()), server, 70);

    [Fact]
    public Task Health_check_answers_every_service_name() => Fuzzer.RunAsync(
        KnownOr(["", "advisor", "advisor.v1.AdvisorService", "grpc.health.v1.Health"]).Select(name => FuzzCall.Unary(
            "grpc.health.v1.Health/Check", new HealthCheckRequest { Service = name }, (i, o, r) => new Health.HealthClient(i).CheckAsync(r, o).ResponseAsync)),
        server, 40);

    [Fact]
    public Task Every_method_answers_malformed_protobuf_with_a_proper_status() => Fuzzer.RunAsync(WireCalls, server, 120);

    // --- AdvisorService

    private Gen<FuzzCall> Classify() =>
        from subject in Gen.Int[0, 3]
        from description in Text
        from profile in Profile
        from buyerId in KnownOr(World.BuyerIds)
        from industry in Text
        from stage in Enum<Stage>()
        select FuzzCall.Unary("AdvisorService/ClassifyBuyer", Subject(new ClassifyBuyerRequest { Industry = industry, Stage = stage }, subject, description, profile, buyerId),
            (i, o, r) => new AdvisorService.AdvisorServiceClient(i).ClassifyBuyerAsync(r, o).ResponseAsync);

    private static ClassifyBuyerRequest Subject(ClassifyBuyerRequest request, int subject, string description, BuyerProfile? profile, string buyerId)
    {
        // Subject 0 leaves the oneof unset; a null profile sets nothing either.
        switch (subject)
        {
            case 1:
                request.Description = description;
                break;
            case 2 when profile is not null:
                request.Profile = profile;
                break;
            case 3:
                request.BuyerId = buyerId;
                break;
        }

        return request;
    }

    private static readonly Gen<BuyerProfile> Profile =
        from numbers in Gen.Select(OptionalNumber, OptionalNumber, OptionalNumber)
        from flags in Gen.Select(OptionalBool, OptionalBool, OptionalBool, OptionalBool)
        from more in Gen.Select(OptionalBool, OptionalBool, OptionalBool)
        from agreement in Enum<AgreementStatus>()
        from offering in Enum<Offering>()
        from market in Enum<Market>()
        from industry in Text
        select Build(numbers, flags, more, agreement, offering, market, industry);

    private static BuyerProfile Build((double?, double?, double?) numbers, (bool?, bool?, bool?, bool?) flags, (bool?, bool?, bool?) more, AgreementStatus agreement, Offering offering, Market market, string industry)
    {
        var profile = new BuyerProfile { Agreement = agreement, Offering = offering, Market = market, Industry = industry };
        if (numbers.Item1 is { } perYear)
        {
            profile.PurchasesPerYear = perYear;
        }

        if (numbers.Item2 is { } months)
        {
            profile.RelationshipMonths = months;
        }

        if (numbers.Item3 is { } since)
        {
            profile.MonthsSinceLastContact = since;
        }

        Set(flags.Item1, v => profile.Retainer = v);
        Set(flags.Item2, v => profile.PersonalisedWork = v);
        Set(flags.Item3, v => profile.TwoWayCommunication = v);
        Set(flags.Item4, v => profile.PriceFocused = v);
        Set(more.Item1, v => profile.DedicatedContact = v);
        Set(more.Item2, v => profile.TrustBased = v);
        return profile;

        static void Set(bool? value, Action<bool> set)
        {
            if (value is { } v)
            {
                set(v);
            }
        }
    }

    private static readonly Gen<FuzzCall> Suggest =
        from kind in Enum<BuyerKind>()
        from industry in Text
        from stage in Enum<Stage>()
        from max in PageSize
        select FuzzCall.Unary("AdvisorService/SuggestStrategies", new SuggestStrategiesRequest { Kind = kind, Industry = industry, Stage = stage, MaxResults = max },
            (i, o, r) => new AdvisorService.AdvisorServiceClient(i).SuggestStrategiesAsync(r, o).ResponseAsync);

    private static readonly Gen<FuzzCall> Ask =
        from question in Gen.Frequency(
            (3, Text),
            (2, Gen.OneOf("Is Fuzz Buyer 1 a client or a customer?", "what is a client", "compare client and customer", "strategies for lapsed buyers in law", "help", "who is FB2")
                .Select(Text, (q, noise) => q + noise)))
        select FuzzCall.Unary("AdvisorService/Ask", new AskRequest { Question = question }, (i, o, r) => new AdvisorService.AdvisorServiceClient(i).AskAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> Feedback() =>
        from classificationId in KnownOr(World.ClassificationIds)
        from buyerId in KnownOr(World.BuyerIds)
        from kinds in Gen.Select(Enum<BuyerKind>(), Enum<BuyerKind>())
        from texts in Gen.Select(Text, Text, Text)
        from requestId in RequestId
        select FuzzCall.Unary("AdvisorService/SubmitFeedback",
            new SubmitFeedbackRequest
            {
                ClassificationId = classificationId,
                BuyerId = buyerId,
                ExpectedKind = kinds.Item1,
                ReportedKind = kinds.Item2,
                Comment = texts.Item1,
                Channel = texts.Item2,
                User = texts.Item3,
                RequestId = requestId,
            },
            (i, o, r) => new AdvisorService.AdvisorServiceClient(i).SubmitFeedbackAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> ListFeedback() =>
        from size in PageSize
        from token in PageToken(World.PageTokens)
        select FuzzCall.Unary("AdvisorService/ListFeedback", new ListFeedbackRequest { PageSize = size, PageToken = token },
            (i, o, r) => new AdvisorService.AdvisorServiceClient(i).ListFeedbackAsync(r, o).ResponseAsync);

    // --- KnowledgeService

    private Gen<FuzzCall> ListTopics() =>
        from category in Enum<TopicCategory>()
        from size in PageSize
        from token in PageToken(World.PageTokens)
        select FuzzCall.Unary("KnowledgeService/ListTopics", new ListTopicsRequest { Category = category, PageSize = size, PageToken = token },
            (i, o, r) => new KnowledgeService.KnowledgeServiceClient(i).ListTopicsAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> GetTopic() =>
        from name in KnownOr(World.TopicNames)
        select FuzzCall.Unary("KnowledgeService/GetTopic", new GetTopicRequest { Name = name }, (i, o, r) => new KnowledgeService.KnowledgeServiceClient(i).GetTopicAsync(r, o).ResponseAsync);

    // --- BuyerService

    private static readonly string[] MaskPaths =
        ["display_name", "industry", "market", "external_id", "aliases", "notes", "*", "id", "etag", "classification", "create_time", "display_name.first", "", "DISPLAY_NAME", "aliases[0]", "buyer.notes"];

    private Gen<Buyer> BuyerMessage() =>
        from id in KnownOr(World.BuyerIds)
        from names in Gen.Select(KnownOr(World.Names), Text, KnownOr(World.ExternalIds))
        from market in Enum<Market>()
        from aliases in Gen.Frequency((4, Text.Array[0, 4]), (1, Gen.Const("alias").Array[200, 1200]))
        from notes in Text
        from etag in KnownOr(World.Etags)
        from times in Gen.Select(Time, Time)
        from count in Gen.Long
        select new Buyer
        {
            Id = id,
            DisplayName = names.Item1,
            Industry = names.Item2,
            ExternalId = names.Item3,
            Market = market,
            Aliases = { aliases },
            Notes = notes,
            Etag = etag,
            CreateTime = times.Item1,
            UpdateTime = times.Item2,
            InteractionCount = count,
        };

    private Gen<FuzzCall> CreateBuyer() =>
        from buyer in Maybe(BuyerMessage())
        from requestId in RequestId
        select FuzzCall.Unary("BuyerService/CreateBuyer", new CreateBuyerRequest { Buyer = buyer, RequestId = requestId },
            (i, o, r) => new BuyerService.BuyerServiceClient(i).CreateBuyerAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> GetBuyer() =>
        from id in KnownOr(World.BuyerIds)
        select FuzzCall.Unary("BuyerService/GetBuyer", new GetBuyerRequest { Id = id }, (i, o, r) => new BuyerService.BuyerServiceClient(i).GetBuyerAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> UpdateBuyer() =>
        from buyer in Maybe(BuyerMessage())
        from mask in Maybe(Gen.Frequency((3, Gen.OneOf(MaskPaths)), (1, Text)).Array[0, 5].Select(paths => new FieldMask { Paths = { paths } }))
        select FuzzCall.Unary("BuyerService/UpdateBuyer", new UpdateBuyerRequest { Buyer = buyer, UpdateMask = mask },
            (i, o, r) => new BuyerService.BuyerServiceClient(i).UpdateBuyerAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> DeleteBuyer() =>
        from id in Gen.Frequency((1, KnownOr(World.BuyerIds)), (3, Text))
        from etag in KnownOr(World.Etags)
        select FuzzCall.Unary("BuyerService/DeleteBuyer", new DeleteBuyerRequest { Id = id, Etag = etag },
            (i, o, r) => new BuyerService.BuyerServiceClient(i).DeleteBuyerAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> ListBuyers() =>
        from size in PageSize
        from token in PageToken(World.PageTokens)
        from kind in Enum<BuyerKind>()
        from industry in Text
        select FuzzCall.Unary("BuyerService/ListBuyers", new ListBuyersRequest { PageSize = size, PageToken = token, Kind = kind, Industry = industry },
            (i, o, r) => new BuyerService.BuyerServiceClient(i).ListBuyersAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> SearchBuyers() =>
        from query in KnownOr(World.Names)
        from size in PageSize
        select FuzzCall.Unary("BuyerService/SearchBuyers", new SearchBuyersRequest { Query = query, PageSize = size },
            (i, o, r) => new BuyerService.BuyerServiceClient(i).SearchBuyersAsync(r, o).ResponseAsync);

    private Gen<Interaction> InteractionMessage() =>
        from ids in Gen.Select(KnownOr(World.BuyerIds), KnownOr(World.ExternalIds), KnownOr(World.Names))
        from type in Enum<InteractionType>()
        from times in Gen.Select(Time, Time)
        from amount in Number
        from texts in Gen.Select(Gen.Frequency((2, Gen.OneOf("EUR", "USD", "eur", "", "XXX", "€")), (1, Text)), Text, Text)
        from keys in Gen.Select(Text, Gen.Frequency((2, Gen.Const("")), (2, Gen.OneOf("key-1", "key-2")), (1, Text)))
        select new Interaction
        {
            BuyerId = ids.Item1,
            BuyerExternalId = ids.Item2,
            BuyerDisplayName = ids.Item3,
            Type = type,
            OccurredAt = times.Item1,
            CreateTime = times.Item2,
            Amount = amount,
            Currency = texts.Item1,
            Channel = texts.Item2,
            Note = texts.Item3,
            Id = keys.Item1,
            IdempotencyKey = keys.Item2,
        };

    private Gen<FuzzCall> RecordInteraction() =>
        from buyerId in KnownOr(World.BuyerIds)
        from interaction in Maybe(InteractionMessage())
        from requestId in RequestId
        select FuzzCall.Unary("BuyerService/RecordInteraction", new RecordInteractionRequest { BuyerId = buyerId, Interaction = interaction, RequestId = requestId },
            (i, o, r) => new BuyerService.BuyerServiceClient(i).RecordInteractionAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> ListInteractions() =>
        from buyerId in KnownOr(World.BuyerIds)
        from size in PageSize
        from token in PageToken(World.PageTokens)
        select FuzzCall.Unary("BuyerService/ListInteractions", new ListInteractionsRequest { BuyerId = buyerId, PageSize = size, PageToken = token },
            (i, o, r) => new BuyerService.BuyerServiceClient(i).ListInteractionsAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> ListChanges() =>
        from buyerId in KnownOr(World.BuyerIds)
        from size in PageSize
        from token in PageToken(World.PageTokens)
        select FuzzCall.Unary("BuyerService/ListClassificationChanges", new ListClassificationChangesRequest { BuyerId = buyerId, PageSize = size, PageToken = token },
            (i, o, r) => new BuyerService.BuyerServiceClient(i).ListClassificationChangesAsync(r, o).ResponseAsync);

    // Messages with a single interaction, a chunk of them, both, or neither (chunks within the 1,000-item limit).
    private Gen<FuzzCall> Import() =>
        from rows in ImportMessage().Array[0, 6]
        select new FuzzCall("BuyerService/ImportInteractions", rows, (i, o) => ImportAsync(new BuyerService.BuyerServiceClient(i), o, rows));

    private Gen<ImportInteractionsRequest> ImportMessage() =>
        from single in Maybe(InteractionMessage())
        from chunk in InteractionMessage().Array[0, 4]
        select Message(single, chunk);

    private static ImportInteractionsRequest Message(Interaction? single, Interaction[] chunk)
    {
        var message = new ImportInteractionsRequest { Interaction = single };
        message.Interactions.AddRange(chunk);
        return message;
    }

    private static async Task ImportAsync(BuyerService.BuyerServiceClient client, CallOptions options, ImportInteractionsRequest[] rows)
    {
        using var call = client.ImportInteractions(options);
        await StreamAsync(call, rows, options.CancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="rows"/> and awaits the answer. A server that ends the call before reading every row makes
    /// the writes throw; that is no failure of the fuzz case: the status awaited at the end says why it ended.
    /// </summary>
    private static async Task StreamAsync<TRequest, TResponse>(AsyncClientStreamingCall<TRequest, TResponse> call, IEnumerable<TRequest> rows, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var row in rows)
            {
                await call.RequestStream.WriteAsync(row, cancellationToken);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // Ended early by the server; see the summary.
        }

        await call.ResponseAsync;
    }

    // --- RulesService

    /// <summary>Rule-set sources: hostile text, the live source cut or altered, and YAML built to be expensive.</summary>
    private Gen<string> Yaml()
    {
        var live = World.LiveYaml;
        var lines = live.Split('\n');
        var deep = Gen.Frequency((4, Gen.Int[1, 2000]), (1, Gen.Int[2000, 300_000])).Select(depth => new string('[', depth) + new string(']', depth));
        var nested = Gen.Int[1, 300].Select(depth => string.Concat(Enumerable.Range(0, depth).Select(d => new string(' ', d * 2) + "a:\n")) + new string(' ', depth * 2) + "b");
        var laughs = Gen.Int[1, 9].Select(levels => "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
            + string.Concat(Enumerable.Range(1, levels).Select(l => $"{(char)('a' + l)}: &{(char)('a' + l)} [{string.Join(",", Enumerable.Repeat("*" + (char)('a' + l - 1), 9))}]\n")));
        return Gen.Frequency(
            (3, Text),
            (1, Gen.Const(live)),
            (2, Gen.Int[0, lines.Length - 1].Select(drop => string.Join('\n', lines.Where((_, n) => n != drop)))),
            (2, Gen.Int[0, lines.Length - 1].Select(Text, (at, insert) => string.Join('\n', lines.Take(at).Append(insert).Concat(lines.Skip(at))))),
            (2, Gen.Int[0, Math.Max(0, live.Length - 1)].Select(Text, (at, insert) => live.Insert(at, insert))),
            (1, Gen.Int[0, Math.Max(0, live.Length - 1)].Select(cut => live[..cut])),
            (1, deep),
            (1, nested),
            (1, laughs));
    }

    private Gen<FuzzCall> GetRuleSet() =>
        from version in KnownOr(World.RuleVersions)
        select FuzzCall.Unary("RulesService/GetRuleSet", new GetRuleSetRequest { Version = version }, (i, o, r) => new RulesService.RulesServiceClient(i).GetRuleSetAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> ListVersions() =>
        from size in PageSize
        from token in PageToken(World.PageTokens)
        select FuzzCall.Unary("RulesService/ListRuleSetVersions", new ListRuleSetVersionsRequest { PageSize = size, PageToken = token },
            (i, o, r) => new RulesService.RulesServiceClient(i).ListRuleSetVersionsAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> CreateDraft() =>
        from source in Yaml()
        select FuzzCall.Unary("RulesService/CreateRuleSetDraft", new CreateRuleSetDraftRequest { SourceYaml = source },
            (i, o, r) => new RulesService.RulesServiceClient(i).CreateRuleSetDraftAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> Validate() =>
        from which in Gen.Int[0, 2]
        from source in Yaml()
        from version in KnownOr(World.RuleVersions)
        select FuzzCall.Unary("RulesService/ValidateRuleSet",
            which switch { 0 => new ValidateRuleSetRequest(), 1 => new ValidateRuleSetRequest { SourceYaml = source }, _ => new ValidateRuleSetRequest { Version = version } },
            (i, o, r) => new RulesService.RulesServiceClient(i).ValidateRuleSetAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> Backtest() =>
        from version in KnownOr(World.RuleVersions)
        from max in PageSize
        select FuzzCall.Unary("RulesService/BacktestRuleSet", new BacktestRuleSetRequest { Version = version, MaxChanges = max },
            (i, o, r) => new RulesService.RulesServiceClient(i).BacktestRuleSetAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> Publish() =>
        from version in KnownOr(World.RuleVersions)
        from etag in KnownOr(World.RuleEtags)
        from backtest in Gen.Bool
        select FuzzCall.Unary("RulesService/PublishRuleSet", new PublishRuleSetRequest { Version = version, Etag = etag, RequireBacktest = backtest },
            (i, o, r) => new RulesService.RulesServiceClient(i).PublishRuleSetAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> Rollback() =>
        from version in KnownOr(World.RuleVersions)
        from etag in KnownOr(World.RuleEtags)
        select FuzzCall.Unary("RulesService/RollbackRuleSet", new RollbackRuleSetRequest { Version = version, Etag = etag },
            (i, o, r) => new RulesService.RulesServiceClient(i).RollbackRuleSetAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> ListAudit() =>
        from size in PageSize
        from token in PageToken(World.PageTokens)
        select FuzzCall.Unary("RulesService/ListAuditEntries", new ListAuditEntriesRequest { PageSize = size, PageToken = token },
            (i, o, r) => new RulesService.RulesServiceClient(i).ListAuditEntriesAsync(r, o).ResponseAsync);

    // --- ApiKeyService

    private static readonly Gen<FuzzCall> CreateKey =
        from name in Text
        from role in Enum<ApiKeyRole>()
        from expires in Time
        select FuzzCall.Unary("ApiKeyService/CreateApiKey", new CreateApiKeyRequest { Name = name, Role = role, ExpireTime = expires },
            (i, o, r) => new ApiKeyService.ApiKeyServiceClient(i).CreateApiKeyAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> ListKeys() =>
        from size in PageSize
        from token in PageToken(World.PageTokens)
        select FuzzCall.Unary("ApiKeyService/ListApiKeys", new ListApiKeysRequest { PageSize = size, PageToken = token },
            (i, o, r) => new ApiKeyService.ApiKeyServiceClient(i).ListApiKeysAsync(r, o).ResponseAsync);

    private Gen<FuzzCall> RevokeKey() =>
        from key in KnownOr([.. World.KeyNames, .. World.KeyIds])
        select FuzzCall.Unary("ApiKeyService/RevokeApiKey", new RevokeApiKeyRequest { Key = key }, (i, o, r) => new ApiKeyService.ApiKeyServiceClient(i).RevokeApiKeyAsync(r, o).ResponseAsync);

    // --- Raw bytes on the wire

    /// <summary>Every method of every advisor.v1 service, and the health check.</summary>
    private static readonly Google.Protobuf.Reflection.MethodDescriptor[] Methods =
    [
        .. new[] { AdvisorReflection.Descriptor, KnowledgeReflection.Descriptor, BuyersReflection.Descriptor, RulesReflection.Descriptor, KeysReflection.Descriptor, HealthReflection.Descriptor }
            .SelectMany(file => file.Services).SelectMany(service => service.Methods).Where(method => !method.IsServerStreaming),
    ];

    /// <summary>
    /// Bytes a protobuf client would never send: invalid UTF-8 (and UTF-8-encoded surrogates) in string field 1, wrong
    /// wire types, lengths past the end, nested groups deeper than the parser allows, and plain noise.
    /// </summary>
    private static readonly Gen<byte[]> Malformed = Gen.Frequency(
        (3, Gen.Byte.Array[0, 64]),
        (3, Gen.OneOf<byte[]>([0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xE2, 0x82]).Array[1, 6]
            .Select(parts => Field1([.. parts.SelectMany(p => p)]))),
        (1, Gen.OneOf<byte[]>([0x0A, 0x7F, 0x61], [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x0D, 0x01], [0x0F], [0x00], [0x12, 0x02, 0x0A])),
        (1, Gen.Int[50, 5000].Select(depth => Enumerable.Repeat((byte)0x0B, depth).Concat(Enumerable.Repeat((byte)0x0C, depth)).ToArray())),
        (1, Gen.Int[50, 5000].Select(depth => Nested(depth))));

    private static byte[] Field1(byte[] value) => [0x0A, .. Varint(value.Length), .. value];

    /// <summary>Field 2 holding field 2 holding ... <paramref name="depth"/> levels down: deep message nesting.</summary>
    private static byte[] Nested(int depth)
    {
        byte[] inner = [];
        for (var i = 0; i < depth; i++)
        {
            inner = [0x12, .. Varint(inner.Length), .. inner];
        }

        return inner;
    }

    private static byte[] Varint(int value)
    {
        var bytes = new List<byte>();
        var v = (uint)value;
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }

        bytes.Add((byte)v);
        return [.. bytes];
    }

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    private static readonly Gen<FuzzCall> WireCalls =
        from method in Gen.OneOf(Methods)
        from payloads in Malformed.Array[1, 3]
        select new FuzzCall(method.Service.FullName + "/" + method.Name, payloads, (invoker, options) => SendRawAsync(invoker, options, method, payloads));

    private static async Task SendRawAsync(CallInvoker invoker, CallOptions options, Google.Protobuf.Reflection.MethodDescriptor method, byte[][] payloads)
    {
        if (!method.IsClientStreaming)
        {
            await invoker.AsyncUnaryCall(new Method<byte[], byte[]>(MethodType.Unary, method.Service.FullName, method.Name, Bytes, Bytes), null, options, payloads[0]);
            return;
        }

        using var call = invoker.AsyncClientStreamingCall(new Method<byte[], byte[]>(MethodType.ClientStreaming, method.Service.FullName, method.Name, Bytes, Bytes), null, options);
        await StreamAsync(call, payloads, options.CancellationToken);
    }
}
