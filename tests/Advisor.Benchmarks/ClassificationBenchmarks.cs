using Advisor.Server.Classification;
using Advisor.Server.Conversation;
using BenchmarkDotNet.Attributes;

namespace Advisor.Benchmarks;

/// <summary>Free-text extraction + classification at three description lengths, and Ask intent detection.</summary>
[MemoryDiagnoser]
public class ClassificationBenchmarks
{
    private static readonly string[] Sentences =
    [
        "They pay us a monthly retainer and we meet every week to review their campaigns.",
        "Bought a pair of trainers in the sale and left without a word.",
        "Our account manager runs a quarterly business review with their operations director.",
        "There is no contract; they order the cheapest standard items from the web shop when they run low.",
        "The engagement letter was renewed for a fourth year and the partner advises them on every acquisition.",
        "He also picks up a coffee every morning on his way in and pays by card.",
    ];

    private AdvisorSnapshot _snapshot = null!;
    private string _description = "";
    private readonly string[] _questions =
    [
        "client vs customer?",
        "is this buyer a client? they pay a monthly retainer and we meet every week",
        "how do I keep a one-off retail buyer coming back",
        "is real estate client-based?",
        "is Acme Corp a client?",
    ];

    [Params(100, 500, 4000)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _snapshot = SnapshotLoader.LoadShipped();
        var text = new System.Text.StringBuilder();
        for (var i = 0; text.Length < Length; i++)
        {
            text.Append(Sentences[i % Sentences.Length]).Append(' ');
        }

        _description = text.ToString(0, Length);
    }

    [Benchmark]
    public Kind ClassifyDescription() => BuyerClassifier.ClassifyText(_snapshot, _description).Result.Kind;

    [Benchmark]
    public int ExtractSignalsOnly() => _snapshot.Rules.Extractor.Extract(_description).Count;

    [Benchmark(OperationsPerInvoke = 5)]
    public QuestionIntent DetectIntent()
    {
        var last = QuestionIntent.Unknown;
        foreach (var question in _questions)
        {
            last = IntentDetector.Read(_snapshot, question).Intent;
        }

        return last;
    }
}
