using System.Diagnostics;

namespace Advisor.Benchmarks;

/// <summary>What a <see cref="CpuLoop"/> measured: items done, the process's CPU and this thread's allocations over them.</summary>
internal sealed record CpuPerItem(long Items, TimeSpan Cpu, long AllocatedBytes)
{
    public double NanosecondsPerItem => Cpu.TotalMicroseconds * 1000 / Items;

    public long BytesPerItem => AllocatedBytes / Items;
}

/// <summary>
/// Runs one round of work again and again for a few seconds and reads process CPU and allocated bytes around the loop.
/// Why not BenchmarkDotNet: on the shared 2-core machine its times of sub-microsecond work had error bars of several times
/// their means, while process CPU over millions of items moved by a few percent between runs.
/// </summary>
internal static class CpuLoop
{
    /// <param name="round">One round of the work; returns how many items it did.</param>
    /// <param name="seconds">How long to measure, after a 2 s warm-up (so the loop measures optimised code, not the JIT's tiers).</param>
    public static CpuPerItem Measure(Func<long> round, double seconds)
    {
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 2)
        {
            round();
        }

        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var bytesBefore = GC.GetAllocatedBytesForCurrentThread();
        long items = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            items += round();
        }

        process.Refresh();
        return new CpuPerItem(items, process.TotalProcessorTime - cpuBefore, GC.GetAllocatedBytesForCurrentThread() - bytesBefore);
    }
}
