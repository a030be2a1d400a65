using Advisor.Server.Classification;
using BenchmarkDotNet.Attributes;

namespace Advisor.Benchmarks;

/// <summary>
/// The classification of a ClassifyBuyer(description) call, over the load tool's own descriptions
/// (tests/Advisor.LoadTest/Data/descriptions.txt, about 190 characters each), so the figures per call compare with the
/// load tool's server CPU per call: the whole classification in both views, and its two scans of the text alone.
/// Each benchmark classifies every description once; the figures are per description.
/// </summary>
[MemoryDiagnoser]
public class DescriptionCallBenchmarks
{
    private AdvisorSnapshot _snapshot = null!;
    private string[] _descriptions = [];

    /// <summary>The descriptions the load tool sends (its Data file, copied next to this binary).</summary>
    public const int Count = 8;

    [GlobalSetup]
    public void Setup()
    {
        _snapshot = SnapshotLoader.LoadShipped();
        _descriptions = LoadToolDescriptions.Read();
        if (_descriptions.Length != Count)
        {
            throw new InvalidOperationException($"expected {Count} descriptions, found {_descriptions.Length}");
        }
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "Classify description, full view (strategies)")]
    public int ClassifyFull()
    {
        var n = 0;
        foreach (var description in _descriptions)
        {
            n += BuyerClassifier.ClassifyText(_snapshot, description).Result.Evidence.Count;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "Classify description, basic view (no strategies)")]
    public int ClassifyBasic()
    {
        var n = 0;
        foreach (var description in _descriptions)
        {
            n += BuyerClassifier.ClassifyText(_snapshot, description, withStrategies: false, withSpans: false).Result.Evidence.Count;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "Signals only (the rule set's scan)")]
    public int ExtractOnly()
    {
        var n = 0;
        foreach (var description in _descriptions)
        {
            n += _snapshot.Rules.Extractor.Extract(description).Count;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = Count, Description = "Industry only (the knowledge's scan)")]
    public int IndustryOnly()
    {
        var n = 0;
        foreach (var description in _descriptions)
        {
            n += BuyerClassifier.FindIndustryInText(_snapshot.Knowledge, description) is null ? 0 : 1;
        }

        return n;
    }
}
