using Advisor.Server.Api;
using Advisor.Server.Api.Wire;
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
    public void The_wire_messages_mirror_advisor_v1_field_for_field()
    {
        Shape(ClassifyBuyerResponseWire.Descriptor).ShouldBe(Shape(ClassifyBuyerResponse.Descriptor).Select(f => f with { Type = "wire" }).ToList(),
            "the response has one field, the classification, written as the wire classification");
        var mirrored = Shape(V1.Classification.Descriptor)
            .Select(f => f.Number == V1.Classification.StrategiesFieldNumber ? f with { Type = nameof(FieldType.Bytes) } : f)
            .ToList();
        Shape(ClassificationWire.Descriptor).ShouldBe(mirrored, "a field added to advisor.v1.Classification must be added to ClassificationWire (and copied in PreEncodedResponses.ToWire)");
        Shape(ClassifyBuyerResponseEncodedEvidenceWire.Descriptor).ShouldBe(Shape(ClassifyBuyerResponse.Descriptor).Select(f => f with { Type = "wire" }).ToList());
        Shape(ClassificationEncodedEvidenceWire.Descriptor).ShouldBe(
            mirrored.Select(f => f.Number == V1.Classification.EvidenceFieldNumber ? f with { Type = nameof(FieldType.Bytes) } : f).ToList(),
            "a field added to advisor.v1.Classification must be added to ClassificationEncodedEvidenceWire (and copied in PreEncodedResponses.ToEncodedEvidenceWire)");

        static List<FieldShape> Shape(MessageDescriptor message) =>
            [.. message.Fields.InFieldNumberOrder().Select(f => new FieldShape(
                f.FieldNumber,
                f.Name,
                f.FieldType == FieldType.Message && f.MessageType.FullName.StartsWith("advisor.wire.", StringComparison.Ordinal) ? "wire"
                    : f.FieldType is FieldType.Message or FieldType.Enum ? (f.FieldType == FieldType.Message ? f.MessageType.FullName : f.EnumType.FullName)
                    : f.FieldType.ToString(),
                f.IsRepeated))];
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
            responses.ToWire(response).ToByteArray().ShouldBe(expected, $"answer {i}");
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
        var encodedAnswers = 0;
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

                if (responses.ToEncodedEvidenceWire(response) is { } wire)
                {
                    wire.ToByteArray().ShouldBe(expected, $"{round} answer {i} as the encoded-evidence wire");
                    encodedAnswers++;
                }
            }
        }

        items.ShouldBeGreaterThan(0);
        encodedAnswers.ShouldBe(results.Count(r => r.Evidence.Count > 0) * 2, "every basic answer with evidence is written from the encoded items");

        // An answer with an item built elsewhere (the full view's, with its explanation and span) is written as before.
        var full = BuyerClassifier.ClassifyText(Snapshot, "Our law firm has advised them for years on a monthly retainer.");
        full.Result.Evidence.ShouldNotBeEmpty();
        var fullResponse = new ClassifyBuyerResponse { Classification = full.ToProto("c_full") };
        evidence.Encoded(fullResponse.Classification.Evidence[0]).ShouldBeNull("a message this class did not build has no kept bytes");
        responses.ToEncodedEvidenceWire(fullResponse).ShouldBeNull();
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
        var encodedAnswers = 0;
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

                if (response.Classification.Evidence.Count > 0)
                {
                    responses.ToEncodedEvidenceWire(response).ShouldNotBeNull("a profile's every item is kept").ToByteArray().ShouldBe(expected);
                    encodedAnswers++;
                }
            }

            withIndustryItem += classified.Result.Evidence.Count(e => e.Source == SignalHit.FromIndustry);
        }, iter: 2_000);

        encodedAnswers.ShouldBeGreaterThan(0);
        withIndustryItem.ShouldBeGreaterThan(0, "some answers carry the industry prior's item");

        // A description's full answer: its items with a span are built per call, so it is written as before, also when
        // its industry item (kept, no span) sorts first.
        var description = BuyerClassifier.ClassifyText(Snapshot, "Our law firm has advised them for years on a monthly retainer.", "law");
        var fullResponse = new ClassifyBuyerResponse { Classification = description.ToProto("c_full", strategies, evidence) };
        fullResponse.Classification.Evidence.ShouldContain(e => e.Span != null);
        fullResponse.Classification.Evidence.Where(e => e.Span != null).ShouldAllBe(e => evidence.Encoded(e) == null);
        responses.ToEncodedEvidenceWire(fullResponse).ShouldBeNull();
        Write(responses, fullResponse).ShouldBe(new ClassifyBuyerResponse { Classification = description.ToProto("c_full") }.ToByteArray());
        var industryFirst = new ClassifyBuyerResponse { Classification = description.ToProto("c_full", strategies, evidence) };
        var kept = industryFirst.Classification.Evidence.Single(e => e.Span == null);
        evidence.Encoded(kept).ShouldNotBeNull("the industry item is kept");
        industryFirst.Classification.Evidence.Remove(kept);
        industryFirst.Classification.Evidence.Insert(0, kept);
        responses.ToEncodedEvidenceWire(industryFirst).ShouldBeNull("a kept first item does not decide for the rest");
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
        var context = new BufferContext();
        responses.For(generated).ContextualSerializer(response, context);
        context.Completed.ShouldBeTrue();
        context.Length.ShouldBe(context.Buffer.WrittenCount, "the payload length announced first is the length written");
        return context.Buffer.WrittenSpan.ToArray();
    }

    private sealed record FieldShape(int Number, string Name, string Type, bool Repeated);

    /// <summary>A serialization context over a growing buffer, as the framework gives a marshaller.</summary>
    private sealed class BufferContext : SerializationContext
    {
        public System.Buffers.ArrayBufferWriter<byte> Buffer { get; } = new();

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
