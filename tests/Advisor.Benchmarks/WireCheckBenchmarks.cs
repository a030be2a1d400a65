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
/// classify-description scenario's ratio to Health/Check pays and Health/Check does not. Figures per answer.
/// </summary>
[MemoryDiagnoser]
public class WireCheckBenchmarks
{
    private const string Id = "c_0193b2f0a1b27c3d8e9f0a1b2c3d4e5f";

    private readonly WireSchema _schema = WireSchema.Of(ClassifyBuyerResponse.Descriptor);
    private byte[][] _answers = [];

    [GlobalSetup]
    public void Setup()
    {
        var snapshot = SnapshotLoader.LoadShipped();
        var marshaller = new PreEncodedResponses(new StrategyMessages(), new EvidenceEncodings()).ClassifyBuyerAnswers;
        _answers = [.. LoadToolDescriptions.Read()
            .Select(description =>
            {
                var answer = new ClassifyBuyerAnswer(BuyerClassifier.ClassifyText(snapshot, description), Id, Full: true, snapshot.Rules);
                var buffer = new ArrayBufferWriter<byte>();
                marshaller.ContextualSerializer(answer, new BufferSerializationContext(buffer));
                return buffer.WrittenSpan.ToArray();
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
}
