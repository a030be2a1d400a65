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
/// ClassifyBuyer's answers are written from the domain answer by hand (<see cref="PreEncodedResponses"/>), with each
/// strategy's bytes and each rule's constant evidence fields encoded once: the bytes must be exactly what the generated
/// serializer writes for the same answer as the contract's message (<see cref="ClassifyBuyerAnswer.ToResponse"/>), for
/// any answer (generated), for every strategy, for every labelled description's full and basic answers, for profiles'
/// answers, and over gRPC; and the messages written by hand must keep the fields the writer knows.
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

    /// <summary>
    /// Text a field may hold: empty, ASCII, accented, astral (surrogate pairs), long enough for a two-byte length, and
    /// fewer than 128 characters whose UTF-8 needs a two-byte length (the writer encodes a text after room for a length
    /// of one byte per character, and moves it up when that was too little).
    /// </summary>
    private static readonly Gen<string> Texts = Gen.OneOf(
        Gen.Const(""),
        Gen.String[Gen.Char.AlphaNumeric, 1, 20],
        Gen.OneOf<string>(["Kanzlei für Ärzte", "法律事务所", "retainer 🤝 monthly", "\u00e9t\u00e9", "cut \uD83E pair", new string('é', 64), string.Concat(Enumerable.Repeat("法律", 30))]),
        Gen.String[Gen.Char.AlphaNumeric, 100, 300]);

    /// <summary>Numbers around the edges of their encodings: zero (left out), negative zero, NaN, negative ints (ten-byte varints).</summary>
    private static readonly Gen<double> Doubles = Gen.OneOf(Gen.OneOf<double>([0D, -0D, double.NaN, 1.5, -2.25, double.MaxValue]), Gen.Double);

    private static readonly Gen<int> Offsets = Gen.OneOf(Gen.OneOf<int>([0, 1, 127, 128, 16_384, -1, int.MinValue, int.MaxValue]), Gen.Int);

    /// <summary>A span cut from a longer text (its text read from the source) or made from its own text, at any offsets.</summary>
    private static readonly Gen<Span> Spans = Gen.Select(Offsets, Texts, Texts, Gen.Bool, (start, text, around, cut) =>
        cut && start >= 0 && start <= 1000
            ? Span.In(new string('x', start) + text + around, start, start + text.Length)
            : new Span(start, unchecked(start + text.Length), text));

    /// <summary>The sources the classifier names (their fields kept) and any other text.</summary>
    private static readonly Gen<string> Sources = Gen.OneOf(
        Gen.OneOf<string>([SignalHit.FromDescription, SignalHit.FromProfile, SignalHit.FromHistory, SignalHit.FromIndustry]), Texts);

    /// <summary>The shipped rule set's rules and industry priors, as the evidence items they give.</summary>
    private static readonly List<(string Signal, string RuleId, double Weight, string Explanation)> KeptItems =
        [.. Snapshot.Rules.Rules.Select(r => (r.Signal, r.Id, r.Weight, r.Explanation)), .. Snapshot.Rules.PriorEvidenceItems];

    /// <summary>
    /// Evidence items: a shipped rule's or industry prior's (its fields written from the bytes kept for the rule set), the
    /// same with another weight or explanation (not the rule's: written field by field), or made of any text.
    /// </summary>
    private static readonly Gen<EvidenceItem> EvidenceItems = Gen.Select(
        Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.Select(Texts, Texts, Doubles, Texts), Gen.Select(Gen.Bool, Spans, (has, span) => has ? span : (Span?)null), Sources, Texts.Array[0, 3],
        (shape, ruleIndex, values, span, source, ids) =>
        {
            var (signal, ruleId, weight, explanation) = values;
            var kept = KeptItems[ruleIndex % KeptItems.Count];
            return shape switch
            {
                0 => new EvidenceItem(kept.Signal, kept.RuleId, kept.Weight, span, kept.Explanation, source, ids),
                1 => new EvidenceItem(kept.Signal, kept.RuleId, weight, span, ruleIndex % 2 == 0 ? kept.Explanation : explanation, source, ids),
                _ => new EvidenceItem(signal, ruleId, weight, span, explanation, source, ids),
            };
        });

    [Fact]
    public void Any_answer_is_written_byte_for_byte_as_the_generated_serializer_writes_it()
    {
        var strategies = new StrategyMessages();
        var responses = new PreEncodedResponses(strategies, new EvidenceEncodings());
        var known = Snapshot.Knowledge.Strategies;
        var industries = Snapshot.Knowledge.Industries.ToList();
        Gen.Select(
            Gen.Enum<Kind>(), Doubles, Doubles, EvidenceItems.Array[0, 8], Texts.Array[0, 3], Gen.Int[0, known.Count - 1].Array[0, 3],
            Gen.Select(Texts, Texts, Doubles, Doubles, Gen.Int[-1, industries.Count - 1], Texts, Gen.Bool))
            .Sample((kind, confidence, score, items, questions, strategyIndexes, rest) =>
            {
                var (anyVersion, summary, client, customer, industry, id, full) = rest;
                // The rule set's own version half the time: its field is kept encoded for the rule set.
                var version = id.Length % 2 == 0 ? Snapshot.Rules.Version : anyVersion;
                var result = new ClassificationResult(
                    kind, confidence, score, client, customer, items, questions, summary, version, industry < 0 ? null : industries[industry], StrategyStage.Any);
                var answer = new ClassifyBuyerAnswer(new ClassifiedBuyer(result, [.. strategyIndexes.Select(i => known[i])]), id, full, Snapshot.Rules);
                Write(responses, answer).ShouldBe(answer.ToResponse().ToByteArray());
            }, iter: 5_000);
    }

    [Fact]
    public void Any_description_evidence_by_number_is_written_byte_for_byte_as_the_items_it_stands_for()
    {
        // A description's full-view evidence names the rule set's shared items by number with a span beside each; the
        // writer takes their bytes by number when they are the kept rule set's, and item by item when another rule set's
        // (a copy compiled from the same file: equal items, other objects). Either way the bytes of the items it stands for.
        var responses = new PreEncodedResponses(new StrategyMessages(), new EvidenceEncodings());
        var copy = RuleSetCompiler.CompileOrThrow(Snapshot.Rules.SourceYaml, "rules.yaml", Snapshot.Knowledge);
        // Spans anywhere in a description of any text (empty ones, at its start and end), or none (an industry prior's).
        // Plain-ASCII descriptions (whose spans the writer sizes by their length in characters) and others (by their
        // UTF-8), both counted below so that neither goes untested.
        var entries = Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[-1, 700], Gen.Int[0, 700], (number, start, length) => (number, start, length));
        var (ascii, other) = (0, 0);
        Gen.Select(entries.Array[1, 8], Gen.Bool, Gen.Bool, Texts.Array[1, 3]).Sample((items, ownRuleSet, full, texts) =>
        {
            var (text, summary) = (string.Concat(texts), texts[0]);
            _ = System.Text.Ascii.IsValid(text) ? ascii++ : other++;
            var shared = (ownRuleSet ? Snapshot.Rules : copy).SharedEvidenceItems;
            DescribedItem[] described = [.. items.Select(e => e.start < 0 || e.start > text.Length
                ? new DescribedItem(e.number % shared.Count, DescribedItem.NoSpan, DescribedItem.NoSpan)
                : new DescribedItem(e.number % shared.Count, e.start, e.start + Math.Min(e.length, text.Length - e.start)))];
            var evidence = new DescriptionEvidence(shared, text, described);
            evidence.Select(e => e.Span).ShouldBe(described.Select(e => e.Start < 0 ? (Span?)null : Span.In(text, e.Start, e.End)), "each item shows its entry's span");
            var result = new ClassificationResult(Kind.Client, 0.75, 2.5, 3, 0.5, evidence, [], summary, Snapshot.Rules.Version, null, StrategyStage.Any);
            var answer = new ClassifyBuyerAnswer(new ClassifiedBuyer(result, []), "c_1", full, Snapshot.Rules);
            var asItems = new ClassifyBuyerAnswer(new ClassifiedBuyer(result with { Evidence = [.. evidence] }, []), "c_1", full, Snapshot.Rules);

            var expected = answer.ToResponse().ToByteArray();
            Write(responses, answer).ShouldBe(expected);
            Write(responses, asItems).ShouldBe(expected, "the same items as objects");
        }, iter: 3_000, threads: 1);
        ascii.ShouldBeGreaterThan(100);
        other.ShouldBeGreaterThan(100);
    }

    [Fact]
    public void Every_rule_and_industry_prior_of_the_shipped_rules_is_kept_as_its_generated_bytes()
    {
        var kept = new EvidenceEncodings().For(Snapshot.Rules);
        KeptItems.Count.ShouldBeGreaterThan(Snapshot.Rules.Rules.Count, "the industry priors are among them");
        foreach (var (signal, ruleId, weight, explanation) in KeptItems)
        {
            var rule = kept.For(new EvidenceItem(signal, ruleId, weight, null, explanation, SignalHit.FromDescription, [])).ShouldNotBeNull(ruleId);
            rule.Head.ShouldBe(new Evidence { Signal = signal, RuleId = ruleId, Weight = weight }.ToByteArray(), ruleId);
            rule.ExplanationField.ShouldBe(new Evidence { Explanation = explanation }.ToByteArray(), ruleId);
            kept.For(new EvidenceItem(signal, ruleId, weight + 1, null, explanation, SignalHit.FromDescription, [])).ShouldBeNull($"{ruleId} with another weight is not the rule's");
            kept.For(new EvidenceItem(signal, ruleId, weight, null, explanation + ".", SignalHit.FromDescription, [])).ShouldBeNull($"{ruleId} with another explanation is not the rule's");
        }

        kept.For(new EvidenceItem("retainer", "no.such.rule", 1, null, "", SignalHit.FromProfile, [])).ShouldBeNull();
        new EvidenceEncodings().For(Snapshot.Rules).ShouldNotBeSameAs(kept, "kept per instance of the encodings");
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
    public void Every_list_of_strategies_the_knowledge_base_suggests_is_kept_as_its_generated_field()
    {
        // The writer copies a full answer's strategies as one field run kept per list object: it must be the generated
        // serializer's bytes for a classification naming those strategies in that order, for every list a classification
        // can name, and for a list made elsewhere (the same strategies in another list object, repeated, or reversed).
        var messages = new StrategyMessages();
        var lists = 0;
        foreach (var kind in new[] { Kind.Client, Kind.Customer, Kind.Hybrid })
        {
            foreach (var industry in Snapshot.Knowledge.Industries.Select(i => i.Id).Append(null))
            {
                foreach (var stage in Enum.GetValues<StrategyStage>())
                {
                    var strategies = Snapshot.Knowledge.SuggestStrategies(kind, industry, stage, BuyerClassifier.StrategiesPerClassification);
                    var field = messages.Field(strategies);
                    field.ShouldBe(Expected(strategies), $"{kind} {industry} {stage}");
                    messages.Field(strategies).ShouldBeSameAs(field, "kept per list");
                    foreach (var other in new List<EngagementStrategy>[] { [.. strategies], [.. strategies, .. strategies], [.. strategies.Reverse()] })
                    {
                        messages.Field(other).ShouldBe(Expected(other), $"{kind} {industry} {stage}, another list");
                    }

                    lists++;
                }
            }
        }

        lists.ShouldBeGreaterThan(0);
        messages.Field([]).ShouldBeEmpty("no strategies, no field");

        static byte[] Expected(IEnumerable<EngagementStrategy> strategies)
        {
            var classification = new V1.Classification();
            classification.Strategies.AddRange(strategies.Select(s => s.ToProto()));
            return classification.ToByteArray();
        }
    }

    [Fact]
    public void Answers_built_per_call_are_written_byte_for_byte_as_the_generated_serializer_writes_them()
    {
        var messages = new StrategyMessages();
        var evidence = new EvidenceEncodings();
        var responses = new PreEncodedResponses(messages, evidence);
        var kept = evidence.For(Snapshot.Rules);
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
        foreach (var (classified, i) in answers.Select((a, i) => (a, i)))
        {
            var answer = new ClassifyBuyerAnswer(classified, $"c_{i}", Full: true, Snapshot.Rules);
            var expected = answer.ToResponse(messages).ToByteArray();
            Write(responses, answer).ShouldBe(expected, $"answer {i} through the marshaller");
            ClassifyBuyerResponse.Parser.ParseFrom(expected).ShouldBe(answer.ToResponse());
            classified.Result.Evidence.ShouldAllBe(e => kept.For(e) != null, $"answer {i}: every item is written from its rule's kept fields");
        }

        answers.ShouldContain(a => a.Result.Evidence.Any(e => e.Span != null), "items with spans");
        answers.ShouldContain(a => a.Result.Evidence is DescriptionEvidence, "descriptions' evidence, by number with spans beside");
    }

    [Fact]
    public void Basic_answers_are_written_from_evidence_encoded_once_byte_for_byte_as_the_generated_serializer_writes_them()
    {
        var evidence = new EvidenceEncodings();
        var responses = new PreEncodedResponses(new StrategyMessages(), evidence);
        var items = 0;

        // Every labelled description, with and without its industry (the industry prior adds an evidence item of its
        // own), and then once more, when the rule set's fields are already kept: both the first and the shared writing.
        var answers = LabelledSets.Buyers()
            .SelectMany(b => new[] { BuyerClassifier.ClassifyText(Snapshot, b.Text, b.Industry, withStrategies: false), BuyerClassifier.ClassifyText(Snapshot, b.Text, withStrategies: false) })
            .ToList();
        answers.Count.ShouldBeGreaterThan(0);
        foreach (var round in new[] { "first", "second" })
        {
            foreach (var (classified, i) in answers.Select((r, i) => (r, i)))
            {
                var answer = new ClassifyBuyerAnswer(classified, $"c_{i}", Full: false, Snapshot.Rules);
                var expected = new ClassifyBuyerResponse { Classification = classified.Result.ToBasicProto($"c_{i}") }.ToByteArray();
                answer.ToResponse().ToByteArray().ShouldBe(expected);
                Write(responses, answer).ShouldBe(expected, $"{round} answer {i} through the marshaller");
                items += classified.Result.Evidence.Count;
            }
        }

        items.ShouldBeGreaterThan(0);
        answers.ShouldContain(a => a.Result.Evidence.Any(e => e.Source == SignalHit.FromIndustry), "answers with the industry prior's item");
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
    public void Profile_answers_are_written_from_evidence_encoded_once_byte_for_byte_as_the_generated_serializer_writes_them()
    {
        var evidence = new EvidenceEncodings();
        var strategies = new StrategyMessages();
        var responses = new PreEncodedResponses(strategies, evidence);
        var withEvidence = 0;
        var withIndustryItem = 0;

        // Each profile in both views, twice: the first answer keeps the rule set's fields, the second is written from them.
        Profiles.Sample(profile =>
        {
            var industry = profile.Industry.Length > 0 ? profile.Industry : null;
            var classified = BuyerClassifier.ClassifyFacts(Snapshot, profile.ToDomain(), industry, StrategyStage.Any, withStrategies: true);
            var full = new ClassifyBuyerAnswer(classified, "c_profile", Full: true, Snapshot.Rules);
            var basic = new ClassifyBuyerAnswer(classified with { Strategies = [] }, "c_profile", Full: false, Snapshot.Rules);
            var expectedFull = new ClassifyBuyerResponse { Classification = classified.ToProto("c_profile") }.ToByteArray();
            var expectedBasic = new ClassifyBuyerResponse { Classification = classified.Result.ToBasicProto("c_profile") }.ToByteArray();
            for (var round = 0; round < 2; round++)
            {
                Write(responses, full).ShouldBe(expectedFull, "the full view through the marshaller");
                Write(responses, basic).ShouldBe(expectedBasic, "the basic view through the marshaller");
                withEvidence += classified.Result.Evidence.Count > 0 ? 1 : 0;
            }

            withIndustryItem += classified.Result.Evidence.Count(e => e.Source == SignalHit.FromIndustry);
        }, iter: 2_000);

        withEvidence.ShouldBeGreaterThan(0);
        withIndustryItem.ShouldBeGreaterThan(0, "some answers carry the industry prior's item");
    }

    [Fact]
    public void A_registered_buyers_answer_with_interaction_ids_is_written_as_the_generated_serializer_writes_it()
    {
        var responses = new PreEncodedResponses(new StrategyMessages(), new EvidenceEncodings());
        var signal = Snapshot.Rules.Rules[0].Signal;
        var hits = new[]
        {
            new SignalHit(signal, null, SignalHit.FromHistory, ["i_1", "i_2"]),
            new SignalHit(signal, null, SignalHit.FromHistory, ["i_3"]),
        };
        var classified = BuyerClassifier.ClassifyHits(Snapshot, hits, Snapshot.Knowledge.FindIndustry("law"));
        classified.Result.Evidence.ShouldContain(e => e.InteractionIds.Count == 3, "later mentions add their interactions to the rule's item");
        foreach (var full in new[] { true, false })
        {
            var answer = new ClassifyBuyerAnswer(classified, "c_buyer", full, Snapshot.Rules);
            Write(responses, answer).ShouldBe(answer.ToResponse().ToByteArray(), full ? "full" : "basic");
        }
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

    private static byte[] Write(PreEncodedResponses responses, ClassifyBuyerAnswer answer)
    {
        // Into a buffer with room for the whole answer (written in place) and into one with a few bytes of room (written
        // aside and copied): the same bytes either way.
        var written = new List<byte[]>();
        foreach (var room in new[] { 64 * 1024, 8 })
        {
            var context = new BufferSerializationContext(room);
            responses.ClassifyBuyerAnswers.ContextualSerializer(answer, context);
            context.Completed.ShouldBeTrue();
            context.Length.ShouldBe(context.Buffer.WrittenCount, "the payload length announced first is the length written");
            written.Add(context.Buffer.WrittenSpan.ToArray());
        }

        written[1].ShouldBe(written[0], "written in place and written aside");
        return written[0];
    }

    private sealed record FieldShape(int Number, string Name, string Type, bool Repeated);
}
