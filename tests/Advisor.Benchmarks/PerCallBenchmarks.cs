using Advisor.Server.Api;
using Advisor.Server.Classification;
using Advisor.V1;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Grpc.Core;

namespace Advisor.Benchmarks;

/// <summary>
/// The parts of a ClassifyBuyer(profile) call that are not the classification: the profile's text for the
/// classification log, and the answer's message (built and serialised). Each pair compares the way it was done
/// before with the way the server does it now, in-process, so it can be measured on a busy machine. The "written"
/// rows write the whole answer through the server's response marshaller (<see cref="PreEncodedResponses"/>), as the
/// server does for each call, into a reused buffer: from the domain answer (<see cref="ClassifyBuyerAnswer"/>), so
/// "built" is only that record.
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

    private const string Id = "c_0193b2f0a1b27c3d8e9f0a1b2c3d4e5f";

    private readonly StrategyMessages _strategies = new();
    private readonly EvidenceEncodings _evidence = new();
    private readonly BufferSerializationContext _buffer = new();
    private Marshaller<ClassifyBuyerAnswer> _marshaller = null!;
    private AdvisorSnapshot _snapshot = null!;
    private ClassifiedBuyer _classified = null!;
    private ClassifiedBuyer _described = null!;
    private ClassifiedBuyer _describedBasic = null!;
    private ClassifiedBuyer _classifiedBasic = null!;

    /// <summary>A description like the load tool's: its evidence items carry spans, so its full answer builds them per call.</summary>
    private const string Description = "Our law firm has advised them for years on a monthly retainer; we meet their partners every week and they trust our judgement.";

    [GlobalSetup]
    public void Setup()
    {
        _snapshot = SnapshotLoader.LoadShipped();
        _classified = BuyerClassifier.ClassifyFacts(_snapshot, _profile.ToDomain(), _profile.Industry);
        _described = BuyerClassifier.ClassifyText(_snapshot, Description, null);
        _describedBasic = BuyerClassifier.ClassifyText(_snapshot, Description, null, withStrategies: false, withSpans: false);
        _classifiedBasic = BuyerClassifier.ClassifyFacts(_snapshot, _profile.ToDomain(), _profile.Industry, withStrategies: false);
        _marshaller = new PreEncodedResponses(_strategies, _evidence).ClassifyBuyerAnswers;
    }

    [Benchmark(Description = "Profile log text, JsonFormatter (before)")]
    public string ProfileTextFormatter() => JsonFormatter.Default.Format(_profile);

    [Benchmark(Description = "Profile log text, hand-written (now)")]
    public string ProfileTextHandWritten() => ProfileLogText.Format(_profile);

    [Benchmark(Description = "Answer message built and serialised, strategies rebuilt (before)")]
    public int AnswerFresh() => new ClassifyBuyerResponse { Classification = _classified.ToProto("c_0193b2f0a1b27c3d8e9f0a1b2c3d4e5f") }.ToByteArray().Length;

    [Benchmark(Description = "Answer message built and serialised, strategies kept (now)")]
    public int AnswerCached() => new ClassifyBuyerResponse { Classification = _classified.ToProto("c_0193b2f0a1b27c3d8e9f0a1b2c3d4e5f", _strategies) }.ToByteArray().Length;

    [Benchmark(Description = "Description's full answer as the contract's message, generated serializer (for scale)")]
    public int DescriptionFullAnswerGenerated() => new ClassifyBuyerResponse { Classification = _described.ToProto(Id, _strategies) }.ToByteArray().Length;

    [Benchmark(Description = "Full answer built and written, evidence kept (now)")]
    public int FullAnswerWrittenEvidenceKept() => Write(new ClassifyBuyerAnswer(_classified, Id, Full: true, _snapshot.Rules));

    [Benchmark(Description = "Basic answer built and written, evidence kept (for scale)")]
    public int BasicAnswerWritten() => Write(new ClassifyBuyerAnswer(_classifiedBasic, Id, Full: false, _snapshot.Rules));

    [Benchmark(Description = "Description's full answer built and written (items with spans built per call)")]
    public int DescriptionFullAnswerWritten() => Write(new ClassifyBuyerAnswer(_described, Id, Full: true, _snapshot.Rules));

    [Benchmark(Description = "Description's basic answer built and written")]
    public int DescriptionBasicAnswerWritten() => Write(new ClassifyBuyerAnswer(_describedBasic, Id, Full: false, _snapshot.Rules));

    [Benchmark(Description = "Explained classification of the profile (for scale)")]
    public ClassifiedBuyer Classify() => BuyerClassifier.ClassifyFacts(_snapshot, _profile.ToDomain(), _profile.Industry);

    private int Write(ClassifyBuyerAnswer answer)
    {
        _buffer.Buffer.ResetWrittenCount();
        _marshaller.ContextualSerializer(answer, _buffer);
        return _buffer.Buffer.WrittenCount;
    }
}
