using System.Globalization;
using Advisor.LoadTest;
using Advisor.Server.Tests.Infrastructure;

namespace Advisor.Server.Tests.LoadTool;

/// <summary>
/// The load tool's interleaved run against a real server: the slices run in the schedule's order, and each scenario's
/// figures are its slices' added up: its calls, its time, and one latency distribution over every call of every slice
/// (read back from the tool's own per-call file), not a median of the slices' percentiles.
/// </summary>
public sealed class InterleavedRunTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Each_scenarios_figures_add_up_over_its_slices_in_the_order_the_schedule_gave()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var prefix = Path.Combine(folder, "calls");
        var scenarios = new[] { Scenario.Create("health"), Scenario.Create("classify-description") };
        var rounds = Schedule.Plan(scenarios.Length, TimeSpan.FromSeconds(0.6), TimeSpan.FromSeconds(0.2));
        var ran = new List<(int Round, string[] Names)>();
        using var data = new SampleData(10, 10);
        using var runner = new LoadRunner(server.Address, connections: 2, concurrency: 4) { CallsFile = prefix };
        foreach (var scenario in scenarios)
        {
            (await runner.PrepareAndWarmAsync(scenario, data, TimeSpan.Zero, ct)).ShouldBeNull();
        }

        var results = await runner.MeasureScheduleAsync(scenarios, data, rounds, run: 1, (round, slices) => ran.Add((round, [.. slices.Select(s => s.Scenario.Name)])), ct);

        ran.Select(r => r.Round).ShouldBe([0, 1, 2]);
        for (var r = 0; r < rounds.Count; r++)
        {
            ran[r].Names.ShouldBe(rounds[r].Order.Select(i => scenarios[i].Name), $"round {r} in the schedule's order");
        }

        results.Select(r => r.Name).ShouldBe(["health", "classify-description"]);
        foreach (var result in results)
        {
            result.Errors.ShouldBeEmpty();
            result.Slices.Select(s => (s.Run, s.Round)).ShouldBe([(1, 0), (1, 1), (1, 2)]);
            result.Slices.Select(s => s.Position).ShouldBe(Enumerable.Range(0, rounds.Count).Select(r => rounds[r].Order.ToList().IndexOf(result.Name == "health" ? 0 : 1)));
            result.Slices.ShouldAllBe(s => s.Ok > 0 && s.Seconds >= 0.2 && s.DrainSeconds <= s.Seconds);
            result.Ok.ShouldBe(result.Slices.Sum(s => s.Ok));
            result.Calls.ShouldBe(result.Ok);
            result.CallsPerSecond.ShouldBe(result.Ok / result.Slices.Sum(s => s.Seconds), result.CallsPerSecond * 1e-12);
            result.ToolCpuUsPerCall.ShouldNotBeNull();
            result.ToolGc.ShouldNotBeNull();

            // The tool's own record of every measured call: one line per call of every slice, and the report's
            // percentiles are those of all of them.
            var latencies = File.ReadLines($"{prefix}.{result.Name}.csv").Skip(1)
                .Select(l => long.Parse(l.Split(',')[2], CultureInfo.InvariantCulture) / 1e6).Order().ToArray();
            latencies.Length.ShouldBe((int)result.Ok);
            double Rank(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
            result.P50Ms.ShouldBe(Rank(0.50), 1e-3);
            result.P90Ms.ShouldBe(Rank(0.90), 1e-3);
            result.P99Ms.ShouldBe(Rank(0.99), 1e-3);
            result.MaxMs.ShouldBe(latencies[^1], 1e-3);
        }

        // The rounds pair up: one ratio per round.
        Report.PairedRatios(results[1], results[0]).Count.ShouldBe(rounds.Count);
        Directory.Delete(folder, recursive: true);
    }
}
