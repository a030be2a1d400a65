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
    /// <param name="args">The view ("basic" or "full", default basic) and the seconds to run (default 4).</param>
    public static int Run(string[] args)
    {
        var full = args.Length > 0 && args[0] == "full";
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        var snapshot = SnapshotLoader.LoadShipped();
        var descriptions = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "descriptions.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToArray();

        // Warm-up: the loop below should measure optimised code, not the JIT's tiers.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 2)
        {
            Classify(snapshot, descriptions, full);
        }

        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var bytesBefore = GC.GetAllocatedBytesForCurrentThread();
        long calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            calls += Classify(snapshot, descriptions, full);
        }

        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var bytes = GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(full ? "full" : "basic")} view: {calls:N0} classifications, {cpu.TotalMicroseconds * 1000 / calls:N0} ns CPU and {bytes / calls:N0} bytes allocated per classification"));
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
