using System.Globalization;
using Advisor.Server.Api;
using Advisor.Server.Classification;
using Grpc.Core;

namespace Advisor.Benchmarks;

/// <summary>
/// Process CPU and bytes allocated per ClassifyBuyer(description) answer written through the server's response marshaller
/// (<see cref="PreEncodedResponses"/>), over the load tool's descriptions classified once, written in a loop for a few
/// seconds. Why a run of its own: on the shared 2-core machine BenchmarkDotNet's times of this sub-microsecond write had
/// error bars of several times their means (docs/benchmarks.md), while process CPU over millions of writes moves by a few
/// percent between runs; run it with DOTNET_TieredPGO=0, as the server runs.
/// </summary>
public static class AnswerCpuRun
{
    /// <param name="args">The view ("basic" or "full", default full) and the seconds to run (default 4).</param>
    public static int Run(string[] args)
    {
        var full = args.Length == 0 || args[0] != "basic";
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        var snapshot = SnapshotLoader.LoadShipped();
        var answers = LoadToolDescriptions.Read()
            .Select((description, i) => new ClassifyBuyerAnswer(
                BuyerClassifier.ClassifyText(snapshot, description, withStrategies: full, withSpans: full),
                $"c_0193b2f0a1b27c3d8e9f0a1b2c3d{i:x4}",
                full,
                snapshot.Rules))
            .ToArray();
        var marshaller = new PreEncodedResponses(new StrategyMessages(), new EvidenceEncodings()).ClassifyBuyerAnswers;
        var context = new BufferSerializationContext();

        // The answers' size once, outside the measured loop: the same answers are written in every round.
        var answerBytes = answers.Sum(answer =>
        {
            context.Buffer.ResetWrittenCount();
            marshaller.ContextualSerializer(answer, context);
            return (long)context.Buffer.WrittenCount;
        });
        var measured = CpuLoop.Measure(() => Write(marshaller, context, answers), seconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(full ? "full" : "basic")} answers: {measured.Items:N0} written ({answerBytes / answers.Length:N0} B each), {measured.NanosecondsPerItem:N0} ns CPU and {measured.BytesPerItem:N0} bytes allocated per answer"));
        return 0;
    }

    private static long Write(Marshaller<ClassifyBuyerAnswer> marshaller, BufferSerializationContext context, ClassifyBuyerAnswer[] answers)
    {
        foreach (var answer in answers)
        {
            context.Buffer.ResetWrittenCount();
            marshaller.ContextualSerializer(answer, context);
        }

        return answers.Length;
    }
}
