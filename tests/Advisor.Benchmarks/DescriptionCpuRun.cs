using System.Diagnostics;
using System.Globalization;
using Advisor.Server.Classification;

namespace Advisor.Benchmarks;

/// <summary>
/// Process CPU and bytes allocated per classification of the load tool's descriptions (the work of
/// <see cref="DescriptionCallBenchmarks"/>), classified in a loop for a few seconds. Why a run of its own: on the shared
/// 2-core machine BenchmarkDotNet's times of these sub-5 µs calls had error bars larger than their means, while process CPU
/// per call over a few million calls moved by a few percent between runs; run it with DOTNET_TieredPGO=0, as the server runs.
/// </summary>
public static class DescriptionCpuRun
{
    /// <param name="args">
    /// The view ("basic" or "full", default basic), the seconds to run (default 4), and optionally "cold": before each
    /// classification a 1 MB buffer is read through, as the server's other work per call (HTTP/2, protobuf, logging) does,
    /// so the classification's data is read from further out than the first-level caches, and each classification is timed
    /// alone (wall clock, median per description). Why: under load the scan waited on reads of its tables that a hot loop hides.
    /// </param>
    public static int Run(string[] args)
    {
        var full = args.Length > 0 && args[0] == "full";
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        if (args.Length > 2 && args[2] == "cold")
        {
            return RunCold(full, seconds);
        }

        var snapshot = SnapshotLoader.LoadShipped();
        var descriptions = LoadToolDescriptions.Read();
        var measured = CpuLoop.Measure(() => Classify(snapshot, descriptions, full), seconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(full ? "full" : "basic")} view: {measured.Items:N0} classifications, {measured.NanosecondsPerItem:N0} ns CPU and {measured.BytesPerItem:N0} bytes allocated per classification"));
        return 0;
    }

    private static int RunCold(bool full, double seconds)
    {
        var snapshot = SnapshotLoader.LoadShipped();
        var descriptions = LoadToolDescriptions.Read();
        var other = new byte[1 << 20];
        var times = new List<long>();
        var sink = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds + 2)
        {
            foreach (var description in descriptions)
            {
                for (var i = 0; i < other.Length; i += 64)
                {
                    sink += other[i]++;
                }

                var start = Stopwatch.GetTimestamp();
                _ = BuyerClassifier.ClassifyText(snapshot, description, withStrategies: full);
                var elapsed = Stopwatch.GetTimestamp() - start;
                if (clock.Elapsed.TotalSeconds > 2)
                {
                    times.Add(elapsed);
                }
            }
        }

        // Per description the median of its calls (a busy machine's preemptions land in the slow tail), then their mean.
        GC.KeepAlive(sink);
        var perDescription = times
            .Select((t, i) => (t, i))
            .GroupBy(p => p.i % descriptions.Length, p => p.t)
            .Select(g => g.Order().ElementAt(g.Count() / 2) * 1e9 / Stopwatch.Frequency)
            .ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(full ? "full" : "basic")} view, cold: {perDescription.Average():N0} ns per classification (mean over the descriptions of each one's median time, {times.Count:N0} classifications, each after a 1 MB read)"));
        return 0;
    }

    private static int Classify(AdvisorSnapshot snapshot, string[] descriptions, bool full)
    {
        foreach (var description in descriptions)
        {
            _ = BuyerClassifier.ClassifyText(snapshot, description, withStrategies: full, withSpans: full);
        }

        return descriptions.Length;
    }
}
