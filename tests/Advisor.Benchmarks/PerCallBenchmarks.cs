using Advisor.Server.Api;
using Advisor.Server.Classification;
using Advisor.V1;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;

namespace Advisor.Benchmarks;

/// <summary>
/// The parts of a ClassifyBuyer(profile) call that are not the classification: the profile's text for the
/// classification log, and the answer's message (built and serialised). Each pair compares the way it was done
/// before with the way the server does it now, in-process, so it can be measured on a busy machine.
/// </summary>
[MemoryDiagnoser]
public class PerCallBenchmarks
{
    private readonly BuyerProfile _profile = new()
    {
        Agreement = AgreementStatus.Active,
        Retainer = true,
        Offering = Offering.Advice,
        TwoWayCommunication = true,
        RelationshipMonths = 40,
        PurchasesPerYear = 12,
        Industry = "law",
    };

    private readonly StrategyMessages _strategies = new();
    private AdvisorSnapshot _snapshot = null!;
    private ClassifiedBuyer _classified = null!;

    [GlobalSetup]
    public void Setup()
    {
        _snapshot = SnapshotLoader.LoadShipped();
        _classified = BuyerClassifier.ClassifyFacts(_snapshot, _profile.ToDomain(), _profile.Industry);
    }

    [Benchmark(Description = "Profile log text, JsonFormatter (before)")]
    public string ProfileTextFormatter() => JsonFormatter.Default.Format(_profile);

    [Benchmark(Description = "Profile log text, hand-written (now)")]
    public string ProfileTextHandWritten() => ProfileLogText.Format(_profile);

    [Benchmark(Description = "Answer message built and serialised, strategies rebuilt (before)")]
    public int AnswerFresh() => new ClassifyBuyerResponse { Classification = _classified.ToProto("c_0193b2f0a1b27c3d8e9f0a1b2c3d4e5f") }.ToByteArray().Length;

    [Benchmark(Description = "Answer message built and serialised, strategies kept (now)")]
    public int AnswerCached() => new ClassifyBuyerResponse { Classification = _classified.ToProto("c_0193b2f0a1b27c3d8e9f0a1b2c3d4e5f", _strategies) }.ToByteArray().Length;

    [Benchmark(Description = "Explained classification of the profile (for scale)")]
    public ClassifiedBuyer Classify() => BuyerClassifier.ClassifyFacts(_snapshot, _profile.ToDomain(), _profile.Industry);
}
