using Advisor.Server.Api;
using Advisor.Server.Classification;
using Advisor.Server.Knowledge;
using Advisor.Server.Tests.Evaluation;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Advisor.Server.Tests.Api;

/// <summary>
/// ClassifyBuyer's answers are written with each strategy's bytes, and each basic-view evidence item's, encoded once
/// (<see cref="PreEncodedResponses"/>): the bytes must be exactly what the generated serializer writes for the same
/// answer, for every strategy, for every labelled description's basic answer and for answers built per call, and the
/// wire messages must keep mirroring advisor.v1's.
/// </summary>
public sealed class PreEncodedResponsesTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    [Fact]
    public void The_messages_written_by_hand_have_the_fields_the_writer_knows()
    {
        // PreEncodedResponses writes these four messages field by field: a field added to (or changed in) one of them
        // must be added to its writer, or answers would silently lose it.
        Shape(ClassifyBuyerResponse.Descriptor).ShouldBe([new(1, "classification", "advisor.v1.Classification", false)]);
        Shape(V1.Classification.Descriptor).ShouldBe(
        [
            new(1, "kind", "advisor.v1.BuyerKind", false),
            new(2, "confidence", nameof(FieldType.Double), false),
            new(3, "score", nameof(FieldType.Double), false),
            new(4, "evidence", "advisor.v1.Evidence", true),
            new(5, "open_questions", nameof(FieldType.String), true),
            new(6, "strategies", "advisor.v1.Strategy", true),
            new(7, "rule_set_version", nameof(FieldType.String), false),
            new(8, "summary", nameof(FieldType.String), false),
            new(9, "client_weight", nameof(FieldType.Double), false),
            new(10, "customer_weight", nameof(FieldType.Double), false),
            new(11, "industry", nameof(FieldType.String), false),
            new(12, "classification_id", nameof(FieldType.String), false),
        ]);
        Shape(Evidence.Descriptor).ShouldBe(
        [
            new(1, "signal", nameof(FieldType.String), false),
            new(2, "rule_id", nameof(FieldType.String), false),
            new(3, "weight", nameof(FieldType.Double), false),
            new(4, "span", "advisor.v1.TextSpan", false),
            new(5, "explanation", nameof(FieldType.String), false),
            new(6, "source", nameof(FieldType.String), false),
            new(7, "interaction_ids", nameof(FieldType.String), true),
        ]);
        Shape(TextSpan.Descriptor).ShouldBe(
        [
            new(1, "start", nameof(FieldType.Int32), false),
            new(2, "end", nameof(FieldType.Int32), false),
            new(3, "text", nameof(FieldType.String), false),
        ]);

        static List<FieldShape> Shape(MessageDescriptor message) =>
            [.. message.Fields.InFieldNumberOrder().Select(f => new FieldShape(
                f.FieldNumber,
                f.Name,
                f.FieldType == FieldType.Message ? f.MessageType.FullName : f.FieldType == FieldType.Enum ? f.EnumType.FullName : f.FieldType.ToString(),
                f.IsRepeated))];
    }

    /// <summary>Text a field may hold: empty, ASCII, accented, astral (surrogate pairs), and long enough for a two-byte length.</summary>
    private static readonly Gen<string> Texts = Gen.OneOf(
        Gen.Const(""),
        Gen.String[Gen.Char.AlphaNumeric, 1, 20],
        Gen.OneOf<string>(["Kanzlei für Ärzte", "法律事务所", "retainer 🤝 monthly", "\u00e9t\u00e9", "cut \uD83E pair"]),
        Gen.String[Gen.Char.AlphaNumeric, 100, 300]);

    /// <summary>Numbers around the edges of their encodings: zero (left out), negative zero, NaN, negative ints (ten-byte varints).</summary>
    private static readonly Gen<double> Doubles = Gen.OneOf(Gen.OneOf<double>([0D, -0D, double.NaN, 1.5, -2.25, double.MaxValue]), Gen.Double);

    private static readonly Gen<int> Offsets = Gen.OneOf(Gen.OneOf<int>([0, 1, 127, 128, 16_384, -1, int.MinValue, int.MaxValue]), Gen.Int);

    private static readonly Gen<Evidence> EvidenceItems = Gen.Select(
        Texts, Texts, Doubles, Gen.Bool, Offsets, Offsets, Texts, Gen.Select(Texts, Texts, Texts.Array[0, 3]),
        (signal, rule, weight, hasSpan, start, end, spanText, rest) =>
        {
            var (explanation, source, ids) = rest;
            var item = new Evidence { Signal = signal, RuleId = rule, Weight = weight, Explanation = explanation, Source = source };
            if (hasSpan)
            {
                item.Span = new TextSpan { Start = start, End = end, Text = spanText };
            }

            item.InteractionIds.AddRange(ids);
            return item;
        });

    [Fact]
    public void Any_answer_is_written_byte_for_byte_as_the_generated_serializer_writes_it()
    {
        var strategies = new StrategyMessages();
        var evidence = new EvidenceMessages();
        var responses = new PreEncodedResponses(strategies, evidence);
        var known = Snapshot.Knowledge.Strategies;
        Gen.Select(
            Gen.Enum<BuyerKind>(), Doubles, Doubles, EvidenceItems.Array[0, 8], Texts.Array[0, 3], Gen.Int[0, known.Count - 1].Array[0, 3],
            Gen.Select(Texts, Texts, Doubles, Doubles, Texts, Texts, Gen.Bool))
            .Sample((kind, confidence, score, items, questions, strategyIndexes, rest) =>
            {
                var (version, summary, client, customer, industry, id, keptItem) = rest;
                var c = new V1.Classification
                {
                    Kind = kind,
                    Confidence = confidence,
                    Score = score,
                    RuleSetVersion = version,
                    Summary = summary,
                    ClientWeight = client,
                    CustomerWeight = customer,
                    Industry = industry,
                    ClassificationId = id,
                };
                c.Evidence.AddRange(items);
                if (keptItem)
                {
                    // A kept item (its bytes copied) among the built ones.
                    c.Evidence.Insert(c.Evidence.Count / 2, evidence.For("retainer", "agreement.retainer", 2.5, "A retainer is a standing relationship.", "profile"));
                }

                c.OpenQuestions.AddRange(questions);
                c.Strategies.AddRange(strategyIndexes.Select(i => i % 2 == 0 ? strategies.For(known[i]) : known[i].ToProto()));
                var response = new ClassifyBuyerResponse { Classification = c };
                Write(responses, response).ShouldBe(response.ToByteArray());
            }, iter: 5_000);
    }

    [Fact]
    public void Every_strategy_is_encoded_as_its_message()
    {
        var messages = new StrategyMessages();
        Snapshot.Knowledge.Strategies.ShouldNotBeEmpty();
        foreach (var strategy in Snapshot.Knowledge.Strategies)
        {
            var shared = messages.For(strategy);
            messages.For(strategy).ShouldBeSameAs(shared, "built once per strategy");
            messages.Encoded(shared).ToByteArray().ShouldBe(strategy.ToProto().ToByteArray(), strategy.Id);
            V1.Strategy.Parser.ParseFrom(messages.Encoded(shared)).ShouldBe(strategy.ToProto(), strategy.Id);
        }

        var foreign = Snapshot.Knowledge.Strategies[0].ToProto();
        messages.Encoded(foreign).ToByteArray().ShouldBe(foreign.ToByteArray(), "a message built elsewhere is encoded when asked");
    }

    [Fact]
    public void Answers_built_per_call_are_written_byte_for_byte_as_the_generated_serializer_writes_them()
    {
        var messages = new StrategyMessages();
        var responses = new PreEncodedResponses(messages, new EvidenceMessages());
        var cases = 0;

        // Every labelled description, both ways it can be asked, and every kind, industry and stage a strategy can be
        // suggested for: every strategy appears in some answer, alone or with others, in every position.
        var answers = new List<ClassifiedBuyer>();
        foreach (var buyer in LabelledSets.Buyers())
        {
            answers.Add(BuyerClassifier.ClassifyText(Snapshot, buyer.Text, buyer.Industry));
        }

        foreach (var kind in new[] { Kind.Client, Kind.Customer, Kind.Hybrid })
        {
            foreach (var industry in Snapshot.Knowledge.Industries.Select(i => i.Id).Append(null))
            {
                foreach (var stage in Enum.GetValues<StrategyStage>())
                {
                    var strategies = Snapshot.Knowledge.SuggestStrategies(kind, industry, stage, BuyerClassifier.StrategiesPerClassification);
                    answers.Add(answers[cases++ % answers.Count] with { Strategies = strategies });
                }
            }
        }

        var covered = answers.SelectMany(a => a.Strategies).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        covered.ShouldBe(Snapshot.Knowledge.Strategies.Select(s => s.Id).ToHashSet(StringComparer.Ordinal), ignoreOrder: true, "every strategy is in some answer");
        foreach (var (answer, i) in answers.Select((a, i) => (a, i)))
        {
            var response = new ClassifyBuyerResponse { Classification = answer.ToProto($"c_{i}", messages) };
            var expected = response.ToByteArray();
            Write(responses, response).ShouldBe(expected, $"answer {i} through the marshaller");
            ClassifyBuyerResponse.Parser.ParseFrom(expected).ShouldBe(new ClassifyBuyerResponse { Classification = answer.ToProto($"c_{i}") });
        }

        Write(responses, new ClassifyBuyerResponse()).ShouldBe(new ClassifyBuyerResponse().ToByteArray(), "an empty answer");
    }

    [Fact]
    public void Basic_answers_are_written_from_evidence_encoded_once_byte_for_byte_as_the_generated_serializer_writes_them()
    {
        var evidence = new EvidenceMessages();
        var responses = new PreEncodedResponses(new StrategyMessages(), evidence);
        var items = 0;

        // Every labelled description, with and without its industry (the industry prior adds an evidence item of its
        // own), and then once more, when every item's message is already kept: both the first and the shared writing.
        var results = LabelledSets.Buyers()
            .SelectMany(b => new[] { BuyerClassifier.ClassifyText(Snapshot, b.Text, b.Industry), BuyerClassifier.ClassifyText(Snapshot, b.Text) })
            .Select(c => c.Result)
            .ToList();
        results.Count.ShouldBeGreaterThan(0);
        foreach (var round in new[] { "first", "second" })
        {
            foreach (var (result, i) in results.Select((r, i) => (r, i)))
            {
                var response = new ClassifyBuyerResponse { Classification = result.ToBasicProto($"c_{i}", evidence) };
                var expected = new ClassifyBuyerResponse { Classification = result.ToBasicProto($"c_{i}") }.ToByteArray();
                response.ToByteArray().ShouldBe(expected, $"{round} answer {i}: the shared messages are the ones built per call");
                Write(responses, response).ShouldBe(expected, $"{round} answer {i} through the marshaller");
                ClassifyBuyerResponse.Parser.ParseFrom(Write(responses, response)).ShouldBe(response, $"{round} answer {i}");
                foreach (var item in response.Classification.Evidence)
                {
                    evidence.Encoded(item).ShouldNotBeNull($"{round} answer {i}: {item.RuleId} was kept").ToByteArray().ShouldBe(item.ToByteArray(), item.RuleId);
                    items++;
                }

            }
        }

        items.ShouldBeGreaterThan(0);

        // An answer with an item built elsewhere (the full view's, with its explanation and span) is written as before.
        var full = BuyerClassifier.ClassifyText(Snapshot, "Our law firm has advised them for years on a monthly retainer.");
        full.Result.Evidence.ShouldNotBeEmpty();
        var fullResponse = new ClassifyBuyerResponse { Classification = full.ToProto("c_full") };
        evidence.Encoded(fullResponse.Classification.Evidence[0]).ShouldBeNull("a message this class did not build has no kept bytes");
        Write(responses, fullResponse).ShouldBe(fullResponse.ToByteArray());
    }

    /// <summary>Profiles a caller could send: every field set or left out, values in and around the rules' thresholds.</summary>
    private static readonly Gen<BuyerProfile> Profiles = Gen.Select(
        Gen.Double[-1, 60].Select(d => d < 0 ? (double?)null : Math.Round(d, 1)),
        Gen.Double[-10, 240].Select(d => d < 0 ? (double?)null : Math.Round(d)),
        Gen.Enum<AgreementStatus>(),
        Gen.Enum<Offering>(),
        Gen.Bool.Array[6],
        Gen.Bool.Array[6],
        Gen.OneOf<string>(["", "law", "retail", "accounting", "unknown trade"]),
        Gen.Enum<Market>(),
        (purchases, months, agreement, offering, has, flags, industry, market) =>
        {
            var p = new BuyerProfile { Agreement = agreement, Offering = offering, Industry = industry, Market = market };
            if (purchases is { } n)
            {
                p.PurchasesPerYear = n;
            }

            if (months is { } m)
            {
                p.RelationshipMonths = m;
                p.MonthsSinceLastContact = m / 4;
            }

            Action<bool>[] setters = [v => p.Retainer = v, v => p.PersonalisedWork = v, v => p.TwoWayCommunication = v, v => p.PriceFocused = v, v => p.DedicatedContact = v, v => p.TrustBased = v];
            for (var i = 0; i < setters.Length; i++)
            {
                if (has[i])
                {
                    setters[i](flags[i]);
                }
            }

            return p;
        });

    [Fact]
    public void Full_profile_answers_are_written_from_evidence_encoded_once_byte_for_byte_as_the_generated_serializer_writes_them()
    {
        var evidence = new EvidenceMessages();
        var strategies = new StrategyMessages();
        var responses = new PreEncodedResponses(strategies, evidence);
        var withEvidence = 0;
        var withIndustryItem = 0;

        // Each profile twice: the first answer builds and keeps its items, the second is written from the kept ones.
        Profiles.Sample(profile =>
        {
            var industry = profile.Industry.Length > 0 ? profile.Industry : null;
            var classified = BuyerClassifier.ClassifyFacts(Snapshot, profile.ToDomain(), industry, StrategyStage.Any, withStrategies: true);
            var expected = new ClassifyBuyerResponse { Classification = classified.ToProto("c_profile") }.ToByteArray();
            for (var round = 0; round < 2; round++)
            {
                var response = new ClassifyBuyerResponse { Classification = classified.ToProto("c_profile", strategies, evidence) };
                response.ToByteArray().ShouldBe(expected, "the shared messages are the ones built per call");
                Write(responses, response).ShouldBe(expected, "through the marshaller");
                foreach (var item in response.Classification.Evidence)
                {
                    evidence.Encoded(item).ShouldNotBeNull($"{item.RuleId} was kept").ToByteArray().ShouldBe(item.ToByteArray(), item.RuleId);
                }

                withEvidence += response.Classification.Evidence.Count > 0 ? 1 : 0;
            }

            withIndustryItem += classified.Result.Evidence.Count(e => e.Source == SignalHit.FromIndustry);
        }, iter: 2_000);

        withEvidence.ShouldBeGreaterThan(0);
        withIndustryItem.ShouldBeGreaterThan(0, "some answers carry the industry prior's item");

        // A description's full answer: its items with a span are built per call, so it is written as before, also when
        // its industry item (kept, no span) sorts first.
        var description = BuyerClassifier.ClassifyText(Snapshot, "Our law firm has advised them for years on a monthly retainer.", "law");
        var fullResponse = new ClassifyBuyerResponse { Classification = description.ToProto("c_full", strategies, evidence) };
        fullResponse.Classification.Evidence.ShouldContain(e => e.Span != null);
        fullResponse.Classification.Evidence.Where(e => e.Span != null).ShouldAllBe(e => evidence.Encoded(e) == null);
        Write(responses, fullResponse).ShouldBe(new ClassifyBuyerResponse { Classification = description.ToProto("c_full") }.ToByteArray());
        var industryFirst = new ClassifyBuyerResponse { Classification = description.ToProto("c_full", strategies, evidence) };
        var kept = industryFirst.Classification.Evidence.Single(e => e.Span == null);
        evidence.Encoded(kept).ShouldNotBeNull("the industry item is kept");
        industryFirst.Classification.Evidence.Remove(kept);
        industryFirst.Classification.Evidence.Insert(0, kept);
        Write(responses, industryFirst).ShouldBe(industryFirst.ToByteArray());
    }

    [Fact]
    public async Task A_full_profile_answer_over_grpc_is_the_answer_built_in_process()
    {
        var profile = new BuyerProfile { PurchasesPerYear = 2, RelationshipMonths = 48, Agreement = AgreementStatus.Active, Retainer = true, Offering = Offering.ProfessionalService, TrustBased = true, Industry = "law" };
        var client = new AdvisorService.AdvisorServiceClient(server.Channel);
        for (var i = 0; i < 2; i++)
        {
            var answer = (await client.ClassifyBuyerAsync(new ClassifyBuyerRequest { Profile = profile }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken)).Classification;
            answer.Evidence.ShouldNotBeEmpty();
            answer.ShouldBe(BuyerClassifier.ClassifyFacts(Snapshot, profile.ToDomain(), null, StrategyStage.Any, withStrategies: true).ToProto(answer.ClassificationId), $"call {i}");
        }
    }

    [Fact]
    public async Task A_basic_answer_over_grpc_is_the_basic_answer_built_in_process()
    {
        const string Text = "Our law firm has advised them for years on a monthly retainer; we meet their partners every week.";
        var client = new AdvisorService.AdvisorServiceClient(server.Channel);
        for (var i = 0; i < 2; i++)
        {
            var answer = (await client.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = Text, View = ClassificationView.Basic }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken)).Classification;
            answer.Evidence.ShouldNotBeEmpty();
            answer.ShouldBe(BuyerClassifier.ClassifyText(Snapshot, Text).Result.ToBasicProto(answer.ClassificationId), $"call {i}");
        }
    }

    [Fact]
    public async Task A_full_answer_over_grpc_is_the_answer_built_in_process()
    {
        const string Text = "Our law firm has advised them for years on a monthly retainer; we meet their partners every week.";
        var client = new AdvisorService.AdvisorServiceClient(server.Channel);
        var answer = (await client.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = Text }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: TestContext.Current.CancellationToken)).Classification;

        answer.Strategies.Count.ShouldBe(BuyerClassifier.StrategiesPerClassification);
        answer.ShouldBe(BuyerClassifier.ClassifyText(Snapshot, Text).ToProto(answer.ClassificationId));
    }

    private static byte[] Write(PreEncodedResponses responses, ClassifyBuyerResponse response)
    {
        var generated = new Marshaller<ClassifyBuyerResponse>((r, c) => c.Complete(r.ToByteArray()), c => ClassifyBuyerResponse.Parser.ParseFrom(c.PayloadAsNewBuffer()));

        // Into a buffer with room for the whole answer (written in place) and into one with a few bytes of room (written
        // aside and copied): the same bytes either way.
        var written = new List<byte[]>();
        foreach (var room in new[] { 64 * 1024, 8 })
        {
            var context = new BufferContext(room);
            responses.For(generated).ContextualSerializer(response, context);
            context.Completed.ShouldBeTrue();
            context.Length.ShouldBe(context.Buffer.WrittenCount, "the payload length announced first is the length written");
            written.Add(context.Buffer.WrittenSpan.ToArray());
        }

        written[1].ShouldBe(written[0], "written in place and written aside");
        return written[0];
    }

    private sealed record FieldShape(int Number, string Name, string Type, bool Repeated);

    /// <summary>A serialization context over a growing buffer, as the framework gives a marshaller.</summary>
    private sealed class BufferContext(int room) : SerializationContext
    {
        public System.Buffers.ArrayBufferWriter<byte> Buffer { get; } = new(room);

        public int Length { get; private set; } = -1;

        public bool Completed { get; private set; }

        public override void SetPayloadLength(int payloadLength) => Length = payloadLength;

        public override System.Buffers.IBufferWriter<byte> GetBufferWriter() => Buffer;

        public override void Complete() => Completed = true;

        public override void Complete(byte[] payload)
        {
            payload.CopyTo(Buffer.GetSpan(payload.Length));
            Buffer.Advance(payload.Length);
            Length = payload.Length;
            Completed = true;
        }
    }
}
