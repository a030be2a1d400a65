using System.Buffers;
using Advisor.LoadTest;
using Advisor.Server.Api;
using Advisor.Server.Classification;
using Advisor.V1;
using BenchmarkDotNet.Attributes;
using Grpc.Core;

namespace Advisor.Benchmarks;

/// <summary>
/// The load tool's check of a ClassifyBuyer answer (<see cref="WireCheck"/>), what it does for each full-view answer
/// it receives, over the full answers of the tool's own descriptions (written by the server's response marshaller, as
/// the server writes them). The tool shares the machine's cores with the server it measures, so this is CPU the
/// classify-description scenario's ratio to Health/Check pays and Health/Check does not. Figures per answer: the full
/// walk (a request's first answer, or one that is not its first answer but for the id) and the comparison with the
/// request's first answer that replaces it for every later answer (<see cref="FirstAnswerCheck"/>).
/// </summary>
[MemoryDiagnoser]
public class WireCheckBenchmarks
{
    private const string Id = "c_0193b2f0a1b27c3d8e9f0a1b2c3d4e5f";

    /// <summary>A later call's id: another id of the same length, as the server's log ids are.</summary>
    private const string LaterId = "c_0193b2f0a1b37d4e5f6a7b8c9d0e1f2a";

    private readonly WireSchema _schema = WireSchema.Of(ClassifyBuyerResponse.Descriptor);
    private byte[][] _answers = [];
    private byte[][] _laterAnswers = [];
    private FirstAnswerCheck[] _firstAnswers = [];

    [GlobalSetup]
    public void Setup()
    {
        var snapshot = SnapshotLoader.LoadShipped();
        var marshaller = new PreEncodedResponses(new StrategyMessages(), new EvidenceEncodings()).ClassifyBuyerAnswers;
        byte[] Written(ClassifyBuyerAnswer answer)
        {
            var buffer = new ArrayBufferWriter<byte>();
            marshaller.ContextualSerializer(answer, new BufferSerializationContext(buffer));
            return buffer.WrittenSpan.ToArray();
        }

        var classified = LoadToolDescriptions.Read().Select(description => BuyerClassifier.ClassifyText(snapshot, description)).ToArray();
        _answers = [.. classified.Select(c => Written(new ClassifyBuyerAnswer(c, Id, Full: true, snapshot.Rules)))];
        _laterAnswers = [.. classified.Select(c => Written(new ClassifyBuyerAnswer(c, LaterId, Full: true, snapshot.Rules)))];

        // Each description's request keeps its first answer, as the load tool's requests do after their first call.
        _firstAnswers = [.. _answers.Select(answer =>
        {
            var check = new FirstAnswerCheck(_schema);
            _ = check.Check(new ReadOnlySequence<byte>(answer));
            return check;
        })];
        if (_answers.Length != DescriptionCallBenchmarks.Count)
        {
            throw new InvalidOperationException($"expected {DescriptionCallBenchmarks.Count} descriptions, found {_answers.Length}");
        }
    }

    [Benchmark(OperationsPerInvoke = DescriptionCallBenchmarks.Count, Description = "Load tool's check of a description's full answer")]
    public int CheckFullAnswer()
    {
        var n = 0;
        foreach (var answer in _answers)
        {
            n += WireCheck.Check(new ReadOnlySequence<byte>(answer), _schema).Has(ClassifyBuyerResponse.ClassificationFieldNumber) ? 1 : 0;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = DescriptionCallBenchmarks.Count, Description = "Load tool's check of a later full answer by comparison with its request's first answer")]
    public int CompareWithFirstAnswer()
    {
        var n = 0;
        for (var i = 0; i < _laterAnswers.Length; i++)
        {
            n += _firstAnswers[i].Check(new ReadOnlySequence<byte>(_laterAnswers[i])).Has(ClassifyBuyerResponse.ClassificationFieldNumber) ? 1 : 0;
        }

        return n;
    }
}
