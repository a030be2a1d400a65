using Advisor.Server.Classification;
using BenchmarkDotNet.Attributes;
using RulesEngine.Models;

namespace Advisor.Benchmarks;

/// <summary>
/// Advisor's compiled rule set against Microsoft RulesEngine 6.0.1 given the same rules (each
/// profile condition with its weight) over the same typed profiles. Both produce the weighted
/// evidence; Advisor also decides the kind, sorts the evidence and writes the summary.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private AdvisorSnapshot _snapshot = null!;
    private BuyerFacts[] _facts = [];
    private ProfileInput[] _inputs = [];
    private RulesEngine.RulesEngine _rulesEngine = null!;
    private int _next;

    public void Setup()
    {
        _snapshot = SnapshotLoader.LoadShipped();
        _facts =
        [
            new BuyerFacts { Agreement = AgreementState.Active, Retainer = true, Offering = OfferingKind.Advice, TwoWayCommunication = true, RelationshipMonths = 40, PurchasesPerYear = 12 },
            new BuyerFacts { Agreement = AgreementState.None, Offering = OfferingKind.Goods, PriceFocused = true, PurchasesPerYear = 1, TwoWayCommunication = false },
            new BuyerFacts { Offering = OfferingKind.Mixed, Agreement = AgreementState.Active, PurchasesPerYear = 50, PriceFocused = true, DedicatedContact = true },
            new BuyerFacts { Agreement = AgreementState.Ended, MonthsSinceLastContact = 30, RelationshipMonths = 60 },
            new BuyerFacts { Offering = OfferingKind.ProfessionalService, Personalised = true, TrustBased = true, RelationshipMonths = 8 },
            new BuyerFacts { Offering = OfferingKind.StandardService, PurchasesPerYear = 4, Personalised = false },
        ];
        _inputs = _facts.Select(ProfileInput.From).ToArray();

        // The same rules, written as RulesEngine expressions: one rule per profile condition that the
        // shipped rule set maps to a weighted signal, with the weight as the success event.
        var mapping = _snapshot.Rules.Profile;
        var rules = new List<RulesEngine.Models.Rule>();
        foreach (var (condition, expression) in ProfileInput.Expressions(mapping))
        {
            if (mapping.SignalFor(condition) is not { } signal)
            {
                continue;
            }

            foreach (var rule in _snapshot.Rules.Rules.Where(r => r.Signal == signal))
            {
                rules.Add(new RulesEngine.Models.Rule
                {
                    RuleName = condition + ":" + rule.Id,
                    Expression = expression,
                    SuccessEvent = rule.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
            }
        }

        _rulesEngine = new RulesEngine.RulesEngine([new Workflow { WorkflowName = "classify", Rules = rules }], new ReSettings());
    }

    /// <summary>Warms both so neither pays its first-call compile in the steady-state figures (EngineFirstCallBenchmarks measures that).</summary>
    [GlobalSetup]
    public void WarmSetup()
    {
        Setup();
        _ = RulesEngineScore().GetAwaiter().GetResult();
        _ = AdvisorDecide();
        _ = AdvisorExplain();
    }

    public double RulesEngineScoreCold() => RulesEngineScore().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public async Task<double> RulesEngineScore()
    {
        var input = _inputs[_next++ % _inputs.Length];
        var results = await _rulesEngine.ExecuteAllRulesAsync("classify", new RuleParameter("input1", input));
        double score = 0;
        foreach (var result in results)
        {
            if (result.IsSuccess)
            {
                score += double.Parse(result.Rule.SuccessEvent, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return score;
    }

    /// <summary>The per-evaluation path for a typed profile: weights from a table, summed, and the decision (kind, confidence, score).</summary>
    [Benchmark]
    public double AdvisorDecide()
    {
        var facts = _facts[_next++ % _facts.Length];
        return _snapshot.Rules.Decide(facts).Score;
    }

    /// <summary>The full answer the API returns for a profile: decision plus sorted evidence, open questions and summary.</summary>
    [Benchmark]
    public double AdvisorExplain()
    {
        var facts = _facts[_next++ % _facts.Length];
        var rules = _snapshot.Rules;
        return rules.Classify(FactSignals.From(facts, rules.Profile), null).Score;
    }
}

/// <summary>
/// The first evaluation after building each engine: RulesEngine compiles its expressions on first
/// use; Advisor's rule set is ready when built. Each iteration builds a fresh engine and times one call.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(BenchmarkDotNet.Engines.RunStrategy.ColdStart, iterationCount: 15)]
public class EngineFirstCallBenchmarks
{
    private readonly EngineBenchmarks _warm = new();

    [IterationSetup]
    public void Setup() => _warm.Setup();

    [Benchmark(Baseline = true)]
    public double RulesEngineFirstCall() => _warm.RulesEngineScoreCold();

    [Benchmark]
    public double AdvisorFirstCall() => _warm.AdvisorDecide();
}

/// <summary>A flat input for RulesEngine, which evaluates expressions over a typed object.</summary>
public sealed class ProfileInput
{
    public string Agreement { get; init; } = "";

    public string Offering { get; init; } = "";

    public int Retainer { get; init; }

    public int Personalised { get; init; }

    public int TwoWay { get; init; }

    public int PriceFocused { get; init; }

    public int DedicatedContact { get; init; }

    public int Trust { get; init; }

    public double PurchasesPerYear { get; init; } = -1;

    public double RelationshipMonths { get; init; } = -1;

    public double MonthsSinceLastContact { get; init; } = -1;

    public static ProfileInput From(BuyerFacts f) => new()
    {
        Agreement = f.Agreement.ToString(),
        Offering = f.Offering.ToString(),
        Retainer = Tri(f.Retainer),
        Personalised = Tri(f.Personalised),
        TwoWay = Tri(f.TwoWayCommunication),
        PriceFocused = Tri(f.PriceFocused),
        DedicatedContact = Tri(f.DedicatedContact),
        Trust = Tri(f.TrustBased),
        PurchasesPerYear = f.PurchasesPerYear ?? -1,
        RelationshipMonths = f.RelationshipMonths ?? -1,
        MonthsSinceLastContact = f.MonthsSinceLastContact ?? -1,
    };

    /// <summary>The RulesEngine expression for each profile condition Advisor knows.</summary>
    public static IEnumerable<(string Condition, string Expression)> Expressions(ProfileMapping m)
    {
        string N(double v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        yield return ("agreement_none", "input1.Agreement == \"None\"");
        yield return ("agreement_active", "input1.Agreement == \"Active\"");
        yield return ("agreement_ended", "input1.Agreement == \"Ended\"");
        yield return ("retainer_true", "input1.Retainer == 1");
        yield return ("offering_goods", "input1.Offering == \"Goods\"");
        yield return ("offering_standard_service", "input1.Offering == \"StandardService\"");
        yield return ("offering_professional_service", "input1.Offering == \"ProfessionalService\"");
        yield return ("offering_advice", "input1.Offering == \"Advice\"");
        yield return ("offering_mixed", "input1.Offering == \"Mixed\"");
        yield return ("personalised_true", "input1.Personalised == 1");
        yield return ("personalised_false", "input1.Personalised == 0");
        yield return ("two_way_true", "input1.TwoWay == 1");
        yield return ("two_way_false", "input1.TwoWay == 0");
        yield return ("price_focused_true", "input1.PriceFocused == 1");
        yield return ("dedicated_contact_true", "input1.DedicatedContact == 1");
        yield return ("trust_true", "input1.Trust == 1");
        yield return ("one_off_purchase", $"input1.PurchasesPerYear >= 0 && input1.PurchasesPerYear <= {N(m.OneOffPurchasesPerYear)}");
        yield return ("frequent_purchases", $"input1.PurchasesPerYear >= {N(m.FrequentPurchasesPerYear)}");
        yield return ("occasional_purchases", $"input1.PurchasesPerYear > {N(m.OneOffPurchasesPerYear)} && input1.PurchasesPerYear < {N(m.FrequentPurchasesPerYear)}");
        yield return ("long_tenure", $"input1.RelationshipMonths >= {N(m.LongTenureMonths)}");
        yield return ("short_tenure", $"input1.RelationshipMonths >= 0 && input1.RelationshipMonths <= {N(m.ShortTenureMonths)}");
        yield return ("lapsed", $"input1.MonthsSinceLastContact >= {N(m.LapsedAfterMonths)}");
        yield return ("at_risk", $"input1.MonthsSinceLastContact >= {N(m.AtRiskAfterMonths)} && input1.MonthsSinceLastContact < {N(m.LapsedAfterMonths)}");
    }

    private static int Tri(bool? value) => value is null ? -1 : value.Value ? 1 : 0;
}
