using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Advisor.LoadTest;

/// <summary>The spread of paired ratios: how many, their extremes, 10th and 90th percentiles and median, and how many reached the target.</summary>
public sealed record RatioSpread(int Count, double Min, double P10, double Median, double P90, double Max, int AtOrAbove);

/// <summary>Writes results as aligned text or as Markdown tables for docs/benchmarks.md, with each target met or not.</summary>
public static class Report
{
    /// <summary>ClassifyBuyer must reach this share of Health/Check throughput on the same server and machine.</summary>
    public const double ThroughputRatioTarget = 0.85;

    public const double P99TargetMs = 5;

    public const double StartupTargetSeconds = 2;

    public static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    /// <summary>The median of each figure over repeated runs; errors are added up.</summary>
    public static ScenarioResult Median(IReadOnlyList<ScenarioResult> runs)
    {
        if (runs.Count == 1 || runs[0].NotAvailable is not null)
        {
            return runs[0];
        }

        double M(Func<ScenarioResult, double> f)
        {
            var values = runs.Select(f).Order().ToArray();
            return values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
        }

        double? MaybeM(Func<ScenarioResult, double?> f) => runs.All(r => f(r) is not null) ? M(r => f(r)!.Value) : null;

        var errors = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (code, count) in runs.SelectMany(r => r.Errors))
        {
            errors[code] = errors.GetValueOrDefault(code) + count;
        }

        var first = runs[0];
        return first with
        {
            Calls = runs.Sum(r => r.Calls),
            Ok = runs.Sum(r => r.Ok),
            CallsPerSecond = M(r => r.CallsPerSecond),
            ItemsPerSecond = M(r => r.ItemsPerSecond),
            P50Ms = M(r => r.P50Ms),
            P90Ms = M(r => r.P90Ms),
            P99Ms = M(r => r.P99Ms),
            MaxMs = M(r => r.MaxMs),
            Errors = errors,
            ServerCpuUsPerCall = MaybeM(r => r.ServerCpuUsPerCall),
            ToolCpuUsPerCall = MaybeM(r => r.ToolCpuUsPerCall),
            // Counts and shares belong together: those of the run whose p99 is the middle one.
            ToolGc = runs.OrderBy(r => r.P99Ms).ElementAt(runs.Count / 2).ToolGc,
            ServerGc = runs.OrderBy(r => r.P99Ms).ElementAt(runs.Count / 2).ServerGc,
            // Every run's slices: the paired ratios are judged over all rounds of all runs.
            Slices = [.. runs.SelectMany(r => r.Slices)],
        };
    }

    /// <summary>
    /// For each round that both ran (matched by run and round), <paramref name="view"/>'s slice rate over
    /// <paramref name="baseline"/>'s: two rates measured seconds apart on the same machine, so the drift that moves both
    /// cancels in each ratio. A back-to-back run has one round: its one pair is the run's ratio of two 10 s blocks.
    /// </summary>
    public static IReadOnlyList<double> PairedRatios(ScenarioResult view, ScenarioResult baseline)
    {
        var baseRates = baseline.Slices.ToDictionary(s => (s.Run, s.Round), s => s.CallsPerSecond);
        return [.. view.Slices
            .Where(s => baseRates.GetValueOrDefault((s.Run, s.Round)) > 0)
            .Select(s => s.CallsPerSecond / baseRates[(s.Run, s.Round)])];
    }

    /// <summary>How spread <paramref name="ratios"/> are (percentiles by nearest rank, the median the middle value or the mean of the two middle ones), and how many reach <paramref name="target"/>; null for none.</summary>
    public static RatioSpread? Spread(IReadOnlyList<double> ratios, double target)
    {
        if (ratios.Count == 0)
        {
            return null;
        }

        var sorted = ratios.Order().ToArray();
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        return new RatioSpread(sorted.Length, sorted[0], Rank(0.10), median, Rank(0.90), sorted[^1], sorted.Count(r => r >= target));
    }

    public static string Write(LoadOptions options, IReadOnlyList<ScenarioResult> results, IReadOnlyList<TimeSpan> startups, IReadOnlyList<string> notes)
    {
        var md = options.Markdown;
        var text = new StringBuilder();
        string F(double v, string format = "0.00") => v.ToString(format, CultureInfo.InvariantCulture);
        text.AppendLine(md ? $"Machine: {Machine()}  " : $"Machine:     {Machine()}");
        var loop = options.Rate is { } rate ? $"open loop at {F(rate, "N0")} calls/s offered, at most {options.Concurrency} in flight" : $"closed loop, {options.Concurrency} concurrent calls";
        text.AppendLine(md
            ? $"Load: {options.Connections} HTTP/2 connections, {loop}, {F(options.Warmup.TotalSeconds, "0.#")} s warm-up, {F(options.Duration.TotalSeconds, "0.#")} s measured per scenario{Schedule(options, results)}, median of {options.Repeat} run(s)."
            : $"Load:        {options.Connections} connections, {loop}, warm-up {F(options.Warmup.TotalSeconds, "0.#")} s, {F(options.Duration.TotalSeconds, "0.#")} s per scenario{Schedule(options, results)}, median of {options.Repeat}");
        text.AppendLine();

        if (md)
        {
            text.AppendLine("| Scenario | RPC | calls/s | items/s | p50 ms | p90 ms | p99 ms | max ms | server CPU µs/call | tool CPU µs/call | errors |");
            text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        }
        else
        {
            text.AppendLine($"{"scenario",-27} {"calls/s",10} {"items/s",10} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"max ms",8} {"srv µs",7} {"tool µs",7}  errors");
        }

        foreach (var r in results)
        {
            var errors = r.Errors.Count == 0 ? "0" : string.Join(", ", r.Errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key}: {e.Value}"));
            var serverCpu = r.ServerCpuUsPerCall is { } s ? F(s, "0.0") : "";
            var toolCpu = r.ToolCpuUsPerCall is { } t ? F(t, "0.0") : "";
            if (r.NotAvailable is not null)
            {
                text.AppendLine(md ? $"| {r.Name} | {r.Rpc} | {r.NotAvailable} | | | | | | | | |" : $"{r.Name,-27} {r.NotAvailable}");
            }
            else if (md)
            {
                text.AppendLine($"| {r.Name} | {r.Rpc} | {F(r.CallsPerSecond, "N0")} | {(r.Unit == "calls" ? "" : F(r.ItemsPerSecond, "N0") + " " + r.Unit)} | {F(r.P50Ms)} | {F(r.P90Ms)} | {F(r.P99Ms)} | {F(r.MaxMs)} | {serverCpu} | {toolCpu} | {errors} |");
            }
            else
            {
                text.AppendLine($"{r.Name,-27} {F(r.CallsPerSecond, "N0"),10} {(r.Unit == "calls" ? "" : F(r.ItemsPerSecond, "N0")),10} {F(r.P50Ms),8} {F(r.P90Ms),8} {F(r.P99Ms),8} {F(r.MaxMs),8} {serverCpu,7} {toolCpu,7}  {errors}");
            }
        }

        // The tool's own collections stop every call it has in flight: the share of the slowest calls that saw one says how
        // much of the measured tail is the tool's, not the server's.
        var gcs = results.Where(r => r.NotAvailable is null && r.ToolGc is not null).ToList();
        if (gcs.Count > 0)
        {
            text.AppendLine();
            var budget = Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is { } size ? $"gen0 budget DOTNET_GCgen0size={size}" : "default gen0 budget";
            text.AppendLine(md ? $"Load tool's own GC while measuring (stops every call it has in flight; {budget}):" : $"Tool GC while measuring ({budget}):");
            foreach (var r in gcs)
            {
                var gc = r.ToolGc!;
                var split = gc.Pauses.Count == 0 ? "" :
                    $"; as its runtime's events saw them: {gc.Pauses.Count} pauses, mean {F(gc.Pauses.Average(p => p.Pause.TotalMilliseconds), "0.00")} ms (stopping threads {F(gc.Pauses.Average(p => p.Suspending.TotalMilliseconds), "0.00")}, collecting {F(gc.Pauses.Average(p => p.Collecting.TotalMilliseconds), "0.00")}), longest {F(gc.Pauses.Max(p => p.Pause.TotalMilliseconds), "0.00")}{(gc.PromotedPerGen0 is { } kept ? $", ~{F(kept / 1024, "N0")} KB survived each gen0 collection" : "")}";
                text.AppendLine($"{(md ? "- " : "  ")}{r.Name}: {gc.Collections} collections, {F(gc.PauseMs, "0.0")} ms paused, {F(gc.BytesPerCall, "N0")} bytes allocated per call{(gc.Collections == 0 ? "" : $" (mean pause {F(gc.PauseMs / gc.Collections, "0.00")} ms; {gc.Older.Gen1} of gen1, {gc.Older.Gen2} of gen2)")}; calls at or above p99 with a tool GC in flight {F(gc.SlowCallsShare * 100, "0")} % (all calls {F(gc.CallsShare * 100, "0.0")} %){split}");
            }
        }

        var serverGcs = results.Where(r => r.NotAvailable is null && r.ServerGc is not null).ToList();
        if (serverGcs.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(md ? "Server's GC pauses while measuring (its runtime's GC events, lined up with the calls):" : "Server GC while measuring:");
            foreach (var r in serverGcs)
            {
                var gc = r.ServerGc!;
                text.AppendLine($"{(md ? "- " : "  ")}{r.Name}: {gc.Collections} pauses, {F(gc.PauseMs, "0.0")} ms in all, longest {F(gc.MaxPauseMs, "0.00")} ms{(gc.BytesPerCall is { } bytes ? $", ~{F(bytes, "N0")} bytes allocated per call" : "")}; calls at or above p99 with a server pause in flight {F(gc.SlowCallsShare * 100, "0")} % (all calls {F(gc.CallsShare * 100, "0.0")} %)");
                if (gc.ByGeneration.Count > 0)
                {
                    var byGeneration = gc.ByGeneration.Select(g => $"{(g.Generation < 0 ? "no collection" : $"gen{g.Generation}")} {g.Count} × {F(g.PauseMs / g.Count, "0.00")} ms (longest {F(g.MaxPauseMs, "0.00")}, stopping threads {F(g.SuspendingMs / g.Count, "0.00")}, {g.Compacting} compacting)");
                    var promoted = gc.PromotedPerGen0 is { } p ? $"; ~{F(p / 1024, "N0")} KB survived each gen0 collection" : "";
                    text.AppendLine($"{(md ? "  - " : "    ")}pauses by generation: {string.Join(", ", byGeneration)}{promoted}");
                }

                if (gc.TopTypes.Count > 0)
                {
                    text.AppendLine($"{(md ? "  - " : "    ")}most allocated (sampled): {string.Join(", ", gc.TopTypes.Select(t => $"{ShortType(t.Type)} {F(t.Share * 100, "0")} %"))}");
                }
            }
        }

        // What interleaving cost: every switch lets the closed loop drain (the calls in flight finish, no new ones start)
        // and takes readings before the next slice; both should be small next to a slice.
        var slices = results.SelectMany(r => r.Slices).ToList();
        if (slices.Count > results.Count(r => r.Slices.Count > 0) * options.Repeat)
        {
            text.AppendLine();
            var measuredSeconds = slices.Sum(s => s.Seconds);
            // A scenario with long calls (an import stream) drains longer than the others: its share is named.
            var mostDrained = results.Where(r => r.Slices.Count > 0).MaxBy(r => r.Slices.Sum(s => s.DrainSeconds) / r.Slices.Sum(s => s.Seconds))!;
            text.AppendLine($"{(md ? "" : "Switching: ")}{slices.Count} slices; after each slice's time was up its calls in flight took mean {F(slices.Average(s => s.DrainSeconds) * 1000)} ms (longest {F(slices.Max(s => s.DrainSeconds) * 1000)}) to finish, {F(slices.Sum(s => s.DrainSeconds) / measuredSeconds * 100, "0.00")} % of the measured time (counted in it, as in a back-to-back run; most for {mostDrained.Name}, {F(mostDrained.Slices.Sum(s => s.DrainSeconds) / mostDrained.Slices.Sum(s => s.Seconds) * 100, "0.00")} % of its time); unmeasured between slices mean {F(slices.Where(s => s.GapSeconds > 0).DefaultIfEmpty().Average(s => s?.GapSeconds ?? 0) * 1000)} ms (readings, starting the workers).");
        }

        var verdicts = Verdicts(options, results, startups).ToList();
        if (verdicts.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(md ? "| Target | Measured | Met |\n|---|---|---|" : "Targets:");
            foreach (var (target, measured, met) in verdicts)
            {
                text.AppendLine(md ? $"| {target} | {measured} | {(met ? "met" : "**not met**")} |" : $"  {(met ? "met    " : "NOT MET")}  {target}: {measured}");
            }
        }

        foreach (var note in notes)
        {
            text.AppendLine();
            text.AppendLine(note);
        }

        return text.ToString();
    }

    /// <summary>How the scenarios took turns, for the Load line.</summary>
    private static string Schedule(LoadOptions options, IReadOnlyList<ScenarioResult> results)
    {
        var perRun = results.Select(r => r.Slices.Count).DefaultIfEmpty(0).Max() / options.Repeat;
        return perRun > 1
            ? $" in {perRun} slices of {options.SliceLength.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s, interleaved (one slice of each scenario per round, the order changing from round to round)"
            : options.Soak is null && options.Slack is null && results.Count > 1 ? ", back to back" : "";
    }

    /// <summary>A type name without its generic arguments' full names (an async state machine's name runs to 300 characters).</summary>
    private static string ShortType(string type)
    {
        var cut = type.IndexOf('[', StringComparison.Ordinal);
        var inner = cut < 0 ? "" : type[(cut + 1)..];
        // For an async state machine box, the interesting part is the method it runs (the last argument).
        if (type.StartsWith("AsyncStateMachineBox", StringComparison.Ordinal) && TopLevelComma(inner) is var comma and > 0)
        {
            var method = inner[(comma + 1)..];
            var end = method.IndexOf('[', StringComparison.Ordinal);
            return "async " + (end < 0 ? method.TrimEnd(']') : method[..end]);
        }

        return cut < 0 ? type : type[..cut];
    }

    private static int TopLevelComma(string text)
    {
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] == '[' ? 1 : text[i] == ']' ? -1 : 0;
            if (text[i] == ',' && depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    private static IEnumerable<(string Target, string Measured, bool Met)> Verdicts(LoadOptions options, IReadOnlyList<ScenarioResult> results, IReadOnlyList<TimeSpan> startups)
    {
        string F(double v, string format = "0.00") => v.ToString(format, CultureInfo.InvariantCulture);
        var health = results.FirstOrDefault(r => r.Name == "health" && r.NotAvailable is null);
        // The throughput and latency targets are judged at saturation (closed loop); an open-loop run offers a fixed
        // rate, so its throughput is the rate and its latency answers a different question.
        foreach (var classify in results.Where(r => options.Rate is null && r.Name.StartsWith("classify-", StringComparison.Ordinal) && r.NotAvailable is null))
        {
            // Named by its RPC label, which says the subject and the view ("ClassifyBuyer (profile, basic view)"), so a
            // verdict can never be read as another view's.
            var label = classify.Rpc.Replace("AdvisorService/", "", StringComparison.Ordinal);
            if (health is not null && health.CallsPerSecond > 0)
            {
                var ratio = classify.CallsPerSecond / health.CallsPerSecond;
                // The paired ratios are printed with the verdict, which stays on the accumulated throughputs: their spread
                // says how far the verdict can be trusted on this machine at this moment.
                var interleaved = health.Slices.Count > options.Repeat;
                var paired = interleaved && Spread(PairedRatios(classify, health), ThroughputRatioTarget) is { } p
                    ? $"; paired by round ({p.Count} rounds): median {F(p.Median)}×, min {F(p.Min)} / p10 {F(p.P10)} / p90 {F(p.P90)} / max {F(p.Max)}, ≥ {F(ThroughputRatioTarget)} in {p.AtOrAbove} of {p.Count}"
                    : "";
                yield return ($"{label} throughput ≥ {F(ThroughputRatioTarget)}× Health/Check", $"{F(ratio)}× ({F(classify.CallsPerSecond, "N0")} vs {F(health.CallsPerSecond, "N0")} calls/s){paired}", ratio >= ThroughputRatioTarget);
            }

            // In a closed loop every worker calls again as soon as its answer is in, so the mean latency is the
            // concurrency over the throughput (Little's law) whatever the server does with its time: the p99 can only be
            // under the target if the mean is, so the mean and the p99's multiple of it say which of the two is missing
            // (throughput, or a tight distribution). Printed with the p99 so no run is read without it.
            var mean = classify.CallsPerSecond > 0 ? options.Concurrency * 1000.0 / classify.CallsPerSecond : 0;
            var bound = mean > 0 ? $" (closed loop: mean {options.Concurrency} / calls/s = {F(mean)} ms, p99 {F(classify.P99Ms / mean, "0.0")}× the mean)" : "";
            yield return ($"{label} p99 < {F(P99TargetMs, "0")} ms at {options.Concurrency} concurrent calls", $"{F(classify.P99Ms)} ms{bound}", classify.P99Ms < P99TargetMs);
        }

        if (startups.Count > 0)
        {
            var sorted = startups.Order().ToArray();
            var median = sorted[sorted.Length / 2];
            yield return ($"start-up to SERVING < {F(StartupTargetSeconds, "0")} s", $"median {F(median.TotalSeconds)} s over {sorted.Length} start(s) (min {F(sorted[0].TotalSeconds)}, max {F(sorted[^1].TotalSeconds)})", median.TotalSeconds < StartupTargetSeconds);
        }
    }
}
