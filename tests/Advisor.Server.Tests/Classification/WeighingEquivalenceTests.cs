using System.Text.RegularExpressions;
using Advisor.Server.Api;
using Advisor.Server.Classification;
using Advisor.Server.Knowledge;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using CsCheck;
using Google.Protobuf;

namespace Advisor.Server.Tests.Classification;

/// <summary>
/// <see cref="CompiledRuleSet"/> weighs hits into numbered items on the stack, orders them with its own copy of the
/// library sort's small cases, takes the prior's (and, without spans, the rules') evidence items made once, and writes the
/// summary from a template cut once per rule set. Each answer must be exactly the one the previous computation gave: a
/// list of evidence objects ordered by List.Sort, the summary filled by Contains and Replace per placeholder, the
/// questions in a list. That computation is kept here (<see cref="Previous"/>) and compared on generated descriptions
/// made of the shipped rules' words and noise, and on generated hit lists whose many ties in weight and position (and
/// more than sixteen items) test the order's tie-breaks; the basic view's span-less evidence must write the same bytes.
/// </summary>
public sealed class WeighingEquivalenceTests
{
    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    private static readonly string[] Words = Snapshot.Rules.Signals.Values
        .SelectMany(s => s.Patterns)
        .SelectMany(p => Regex.Matches(p, "[A-Za-z']{2,}").Select(m => m.Value))
        .Concat(Snapshot.Knowledge.IndustryKeywords.Select(k => k.Keyword))
        .Concat(["no", "not", "never", "didn't", "without", "but", "and", "they", "we", "the", "a", "2016", "12", "£40", "caf\u00e9", "\u212Aeep", "{reasons}", "x}"])
        .Distinct()
        .ToArray();

    private static readonly string[] Separators = [" ", " ", " ", ", ", ". ", "; ", "-", "'", "\n", "  "];

    private static readonly StrategyStage[] Stages = Enum.GetValues<StrategyStage>();

    private static readonly KnowledgeTopic?[] Industries = Snapshot.Knowledge.Industries.Select(i => (KnowledgeTopic?)i).Prepend(null).ToArray();

    private static readonly Gen<string> Texts =
        Gen.Select(
            Gen.Int[0, Words.Length - 1].Select(i => Words[i]).Select(Gen.Int[0, 3], (w, c) => c == 0 ? w.ToUpperInvariant() : w),
            Gen.Int[0, Separators.Length - 1].Select(i => Separators[i]))
        .Array[0, 120]
        .Select(parts => string.Concat(parts.Select(p => p.Item1 + p.Item2)));

    [Fact]
    public void A_description_is_classified_as_the_previous_computation_classified_it()
    {
        Gen.Select(Texts, Gen.Int[0, Industries.Length - 1], Gen.Int[0, Stages.Length - 1]).Sample((text, industry, stage) =>
        {
            var rules = Snapshot.Rules;
            var expected = Previous.Classify(rules, rules.Extractor.Extract(text), Industries[industry], Stages[stage]);

            Describe(rules.ClassifyText(text, Industries[industry], Stages[stage])).ShouldBe(expected, text);
            Describe(rules.Classify(rules.Extractor.Extract(text), Industries[industry], Stages[stage])).ShouldBe(expected, text);
        }, iter: 3000);
    }

    [Fact]
    public void Hit_lists_with_ties_interactions_and_many_items_are_classified_as_the_previous_computation_classified_them()
    {
        var rules = Snapshot.Rules;
        var signals = rules.Signals.Keys.Append("not_a_signal").ToArray();
        string[] sources = [SignalHit.FromDescription, SignalHit.FromHistory, SignalHit.FromProfile, SignalHit.FromIndustry];
        var hit = Gen.Select(Gen.Int[0, signals.Length - 1], Gen.Int[-1, 3], Gen.Int[0, sources.Length - 1], Gen.Int[0, 4].Array[0, 3],
            (signal, start, source, ids) => new SignalHit(
                signals[signal],
                start < 0 ? null : new Span(start * 5, (start * 5) + 3, "abc"),
                sources[source],
                [.. ids.Select(i => "i" + i)]));

        Gen.Select(hit.Array[0, 40], Gen.Int[0, Industries.Length - 1], Gen.Int[0, Stages.Length - 1]).Sample((hits, industry, stage) =>
        {
            var expected = Previous.Classify(rules, hits, Industries[industry], Stages[stage]);
            Describe(rules.Classify(hits, Industries[industry], Stages[stage])).ShouldBe(expected);
        }, iter: 3000);
    }

    [Fact]
    public void Without_spans_a_description_gives_the_same_answer_and_the_same_basic_view_bytes()
    {
        var responses = new PreEncodedResponses(new StrategyMessages(), new EvidenceEncodings());
        Gen.Select(Texts, Gen.Int[0, Industries.Length - 1], Gen.Int[0, Stages.Length - 1]).Sample((text, industry, stage) =>
        {
            var withSpans = BuyerClassifier.ClassifyText(Snapshot, text, Industries[industry]?.Id, Stages[stage], withStrategies: false);
            var without = BuyerClassifier.ClassifyText(Snapshot, text, Industries[industry]?.Id, Stages[stage], withStrategies: false, withSpans: false);

            without.Result.Evidence.ShouldAllBe(e => e.Span == null);
            Describe(without.Result with { Evidence = [.. without.Result.Evidence.Select(e => e with { Span = null })] })
                .ShouldBe(Describe(withSpans.Result with { Evidence = [.. withSpans.Result.Evidence.Select(e => e with { Span = null })] }), text);

            var expected = new ClassifyBuyerResponse { Classification = withSpans.Result.ToBasicProto("c_1") }.ToByteArray();
            var context = new BufferSerializationContext();
            responses.ClassifyBuyerAnswers.ContextualSerializer(new ClassifyBuyerAnswer(without, "c_1", Full: false, Snapshot.Rules), context);
            context.Buffer.WrittenSpan.ToArray().ShouldBe(expected, text);
        }, iter: 1000);
    }

    [Fact]
    public void With_spans_a_descriptions_evidence_numbers_the_shared_items_and_writes_the_full_view_bytes_of_the_items_it_stands_for()
    {
        var responses = new PreEncodedResponses(new StrategyMessages(), new EvidenceEncodings());
        var described = 0;
        Gen.Select(Texts, Gen.Int[0, Industries.Length - 1], Gen.Int[0, Stages.Length - 1]).Sample((text, industry, stage) =>
        {
            var classified = BuyerClassifier.ClassifyText(Snapshot, text, Industries[industry]?.Id, Stages[stage]);
            var evidence = classified.Result.Evidence;
            if (evidence.Count > 0)
            {
                evidence.ShouldBeOfType<DescriptionEvidence>(text).Shared.ShouldBeSameAs(Snapshot.Rules.SharedEvidenceItems);
                described++;
            }

            // The same classification with an object per item (as the previous computation made them), written the same.
            var expected = new ClassifyBuyerAnswer(classified with { Result = classified.Result with { Evidence = [.. evidence] } }, "c_1", Full: true, Snapshot.Rules).ToResponse().ToByteArray();
            var context = new BufferSerializationContext();
            responses.ClassifyBuyerAnswers.ContextualSerializer(new ClassifyBuyerAnswer(classified, "c_1", Full: true, Snapshot.Rules), context);
            context.Buffer.WrittenSpan.ToArray().ShouldBe(expected, text);
        }, iter: 1000);

        described.ShouldBeGreaterThan(100);
    }

    [Fact]
    public void A_summary_template_with_stray_braces_or_repeated_placeholders_is_filled_as_by_replacing_each_placeholder()
    {
        foreach (var template in new[]
        {
            "{reasons} and again {reasons}", "{customer{client_reasons}_reasons}", "{{reasons}}", "{industry}: {reasons}", "",
            "no placeholder", "{client_reasons}/{customer_reasons}/{industry}/{reasons}", "}{reasons}{",
        })
        {
            var (before, after) = (Snapshot.Rules.Summaries, new Dictionary<string, string> { ["client"] = template, ["customer"] = template, ["hybrid"] = template, ["undetermined"] = template });
            var rules = WithSummaries(after);
            foreach (var text in new[] { "They pay a monthly retainer and we meet every week.", "Bought a kettle once at the sale price, no contract.", "", "A law firm; retainer, but also walk-in purchases at the counter." })
            {
                foreach (var industry in Industries.Take(3))
                {
                    var hits = rules.Extractor.Extract(text);
                    Describe(rules.ClassifyText(text, industry)).ShouldBe(Previous.Classify(rules, hits, industry, StrategyStage.Any), $"{template} / {text}");
                }
            }

            before.ShouldNotBeSameAs(after);
        }
    }

    /// <summary>
    /// A summary kept as what fills its template is written by the answer straight in UTF-8 from the template's and labels'
    /// kept bytes (<see cref="SummaryTemplate.WriteUtf8"/>): those bytes must be its text's UTF-8 exactly, and the whole answer
    /// the generated serializer's, for the shipped templates and for templates with text past ASCII, placeholders side by side,
    /// none, or a surrogate pair (which must keep the summary as text: a pair cut across two pieces would encode otherwise).
    /// </summary>
    [Fact]
    public void A_summary_kept_as_its_template_fill_is_written_in_utf8_as_its_text_encodes()
    {
        var responses = new PreEncodedResponses(new StrategyMessages(), new EvidenceEncodings());
        var kept = 0;
        foreach (var template in new string?[]
        {
            null, "Kundin \u2014 {reasons} \u00b7 {industry} (caf\u00e9)", "{reasons}{client_reasons}{customer_reasons}{industry}", "", "no placeholder",
            "{client_reasons} / {customer_reasons}", "\U0001F642 {reasons}",
        })
        {
            var rules = template is null ? Snapshot.Rules : WithSummaries(new() { ["client"] = template, ["customer"] = template, ["hybrid"] = template, ["undetermined"] = template });
            Gen.Select(Texts, Gen.Int[0, Industries.Length - 1]).Sample((text, industry) =>
            {
                var result = rules.ClassifyText(text, Industries[industry], StrategyStage.Any, withSpans: true);
                if (result.TryGetSummaryFill(out var fill))
                {
                    kept++;
                    var bytes = new byte[SummaryTemplate.Utf8Length(fill)];
                    SummaryTemplate.WriteUtf8(fill, bytes).ShouldBe(bytes.Length);
                    bytes.ShouldBe(System.Text.Encoding.UTF8.GetBytes(result.Summary), $"{template} / {text}");
                }
                else
                {
                    (template ?? "").ShouldContain("\U0001F642", customMessage: $"only a template with a surrogate keeps its summary as text: {template} / {text}");
                }

                var answer = new ClassifyBuyerAnswer(new ClassifiedBuyer(result, []), "c_1", Full: true, rules);
                var context = new BufferSerializationContext();
                responses.ClassifyBuyerAnswers.ContextualSerializer(answer, context);
                context.Buffer.WrittenSpan.ToArray().ShouldBe(answer.ToResponse().ToByteArray(), $"{template} / {text}");
            }, iter: 200);
        }

        kept.ShouldBe(6 * 200, "every template without a surrogate keeps its summaries as their fill");
    }

    private static CompiledRuleSet WithSummaries(Dictionary<string, string> summaries)
    {
        // The shipped file with its summaries (its last block) replaced.
        var yaml = Snapshot.Rules.SourceYaml;
        var at = yaml.IndexOf("\nsummaries:", StringComparison.Ordinal);
        at.ShouldBeGreaterThan(0);
        var block = "\nsummaries:\n" + string.Concat(summaries.Select(s => $"  {s.Key}: \"{s.Value}\"\n"));
        return RuleSetCompiler.CompileOrThrow(yaml[..at] + block, "rules.yaml", Snapshot.Knowledge);
    }

    private static string Describe(ClassificationResult r) =>
        $"{r.Kind} {r.Confidence} {r.Score} {r.ClientWeight} {r.CustomerWeight} {r.Summary} | {r.RuleSetVersion} {r.Industry?.Id} {r.Stage}\n"
        + string.Join("\n", r.Evidence.Select(e => $"{e.Signal} {e.RuleId} {e.Weight} {e.Span?.Start}-{e.Span?.End} '{e.Span?.Text}' {e.Explanation} {e.Source} [{string.Join(",", e.InteractionIds)}]"))
        + "\n? " + string.Join(" | ", r.OpenQuestions);

    /// <summary>The classification as <see cref="CompiledRuleSet"/> computed it before its weighing was numbered (kept as the reference).</summary>
    private static class Previous
    {
        public static string Classify(CompiledRuleSet rules, IReadOnlyList<SignalHit> hits, KnowledgeTopic? industry, StrategyStage requestedStage)
        {
            var rulesBySignal = rules.Rules.GroupBy(r => r.Signal, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
            var evidence = new List<EvidenceItem>();
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            var groups = new HashSet<string>(StringComparer.Ordinal);
            var stageFromSignals = StrategyStage.Any;
            foreach (var hit in hits)
            {
                if (!rules.Signals.TryGetValue(hit.Signal, out var definition))
                {
                    continue;
                }

                if (definition.Group is { } group)
                {
                    groups.Add(group);
                }

                if (definition.Stage is { } signalStage && StagePriority(signalStage) > StagePriority(stageFromSignals))
                {
                    stageFromSignals = signalStage;
                }

                if (seen.TryGetValue(hit.Signal, out var first))
                {
                    if (hit.InteractionIds.Count > 0)
                    {
                        for (var i = first; i < evidence.Count && evidence[i].Signal == hit.Signal; i++)
                        {
                            evidence[i] = evidence[i] with { InteractionIds = [.. evidence[i].InteractionIds.Concat(hit.InteractionIds).Distinct().Take(20)] };
                        }
                    }

                    continue;
                }

                seen[hit.Signal] = evidence.Count;
                foreach (var rule in rulesBySignal.GetValueOrDefault(hit.Signal) ?? [])
                {
                    evidence.Add(new EvidenceItem(hit.Signal, rule.Id, rule.Weight, hit.Span, rule.Explanation, hit.Source, hit.InteractionIds));
                }
            }

            double clientWeight = 0, customerWeight = 0;
            foreach (var item in evidence)
            {
                if (item.Weight > 0)
                {
                    clientWeight += item.Weight;
                }
                else
                {
                    customerWeight -= item.Weight;
                }
            }

            double prior = 0;
            if (industry is not null && rules.Priors.FirstOrDefault(p => p.IndustryId == industry.Id) is { } industryPrior)
            {
                prior = industryPrior.Weight;
                evidence.Add(new EvidenceItem("industry:" + industry.Id, "industry." + industry.Id, prior, null, industryPrior.Explanation, SignalHit.FromIndustry, []));
            }

            var t = rules.Thresholds;
            var (kind, confidence, score) = Decide(t, clientWeight, customerWeight, prior, t.HybridRequiresSignal is null || seen.ContainsKey(t.HybridRequiresSignal));
            var stage = requestedStage == StrategyStage.Any ? stageFromSignals : requestedStage;

            evidence.Sort(static (a, b) =>
            {
                var byWeight = Math.Abs(b.Weight).CompareTo(Math.Abs(a.Weight));
                return byWeight != 0 ? byWeight : (a.Span?.Start ?? int.MaxValue).CompareTo(b.Span?.Start ?? int.MaxValue);
            });

            var questions = new List<string>();
            if (kind == Kind.Undetermined || confidence < t.UnsureConfidence)
            {
                questions.AddRange(rules.OpenQuestions.Where(q => !groups.Contains(q.Group)).Select(q => q.Question).Take(4));
            }

            var result = new ClassificationResult(
                kind, confidence, Math.Round(score, 3), Math.Round(clientWeight, 3), Math.Round(customerWeight, 3),
                evidence, questions, Summarise(rules, kind, evidence, industry), rules.Version, industry, stage);
            return Describe(result);
        }

        private static (Kind Kind, double Confidence, double Score) Decide(DecisionThresholds t, double clientWeight, double customerWeight, double prior, bool hybridSignalPresent)
        {
            var mass = clientWeight + customerWeight;
            var score = clientWeight - customerWeight + prior;
            var minority = Math.Min(clientWeight, customerWeight);
            var majority = Math.Max(clientWeight, customerWeight);
            if (mass < t.MinEvidence)
            {
                return (Kind.Undetermined, Math.Round(0.4 * mass / t.MinEvidence, 2), score);
            }

            if (minority >= t.HybridMinSide && minority / majority >= t.HybridBalance && hybridSignalPresent)
            {
                return (Kind.Hybrid, Math.Round(Math.Min(0.95, 0.5 + (0.45 * (minority / majority) * (1 - Math.Exp(-minority / 3)))), 2), score);
            }

            if (Math.Abs(score) < t.DecisionMargin)
            {
                return (Kind.Undetermined, Math.Round(0.3 + (0.1 * Math.Abs(score) / t.DecisionMargin), 2), score);
            }

            var strength = 1 - Math.Exp(-Math.Abs(score) / t.ConfidenceScale);
            var agreement = majority > 0 ? 1 - (0.5 * minority / majority) : 1;
            return (score > 0 ? Kind.Client : Kind.Customer, Math.Round(Math.Clamp(0.5 + (0.49 * strength * agreement), 0.5, 0.99), 2), score);
        }

        private static int StagePriority(StrategyStage stage) => stage switch
        {
            StrategyStage.Lapsed => 4,
            StrategyStage.AtRisk => 3,
            StrategyStage.New => 2,
            StrategyStage.Active => 1,
            _ => 0,
        };

        private static string Summarise(CompiledRuleSet rules, Kind kind, List<EvidenceItem> evidence, KnowledgeTopic? industry)
        {
            var summary = rules.Summaries.GetValueOrDefault(kind.Name()) ?? "{reasons}";
            if (summary.Contains("{reasons}", StringComparison.Ordinal))
            {
                var reasons = Labels(rules, evidence, kind switch { Kind.Client => 1, Kind.Customer => -1, _ => 0 });
                summary = summary.Replace("{reasons}", reasons.Length > 0 ? reasons : "nothing specific", StringComparison.Ordinal);
            }

            if (summary.Contains("{client_reasons}", StringComparison.Ordinal))
            {
                summary = summary.Replace("{client_reasons}", Labels(rules, evidence, 1), StringComparison.Ordinal);
            }

            if (summary.Contains("{customer_reasons}", StringComparison.Ordinal))
            {
                summary = summary.Replace("{customer_reasons}", Labels(rules, evidence, -1), StringComparison.Ordinal);
            }

            return summary.Contains("{industry}", StringComparison.Ordinal)
                ? summary.Replace("{industry}", industry?.Title ?? "the industry", StringComparison.Ordinal)
                : summary;
        }

        private static string Labels(CompiledRuleSet rules, List<EvidenceItem> evidence, int side)
        {
            var labels = evidence
                .Where(item => item.Source != SignalHit.FromIndustry && !(side > 0 && item.Weight <= 0) && !(side < 0 && item.Weight >= 0))
                .Select(item => rules.Signals[item.Signal].Label)
                .Distinct(StringComparer.Ordinal)
                .Take(3)
                .ToList();
            return labels.Count switch
            {
                3 => $"{labels[0]}, {labels[1]} and {labels[2]}",
                2 => $"{labels[0]} and {labels[1]}",
                1 => labels[0],
                _ => "",
            };
        }
    }
}
