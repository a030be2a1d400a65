namespace Advisor.Benchmarks;

/// <summary>
/// The load tool's descriptions (<c>tests/Advisor.LoadTest/Data/descriptions.txt</c>, linked into this project's output):
/// the benchmarks measure the texts the load runs send, so in-process and under-load figures speak of the same work.
/// </summary>
internal static class LoadToolDescriptions
{
    /// <summary>The descriptions, one per non-empty line that is not a <c>#</c> comment.</summary>
    public static string[] Read() =>
        [.. File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "descriptions.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))];
}
