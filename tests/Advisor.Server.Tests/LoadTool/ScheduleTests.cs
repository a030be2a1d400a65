using Advisor.LoadTest;

namespace Advisor.Server.Tests.LoadTool;

/// <summary>
/// The load tool's interleaved schedule (<see cref="Schedule"/>) and what the report makes of it: every scenario gets its
/// whole duration, each round runs every scenario once in an order that balances position and predecessor, and the
/// paired ratios (a view's slice rate over Health's in the same round) are matched by run and round and summarised.
/// </summary>
public sealed class ScheduleTests
{
    [Theory]
    [InlineData(3, 10.0, 1.0, 10)]
    [InlineData(3, 10.0, 3.0, 4)]
    [InlineData(2, 2.5, 1.0, 3)]
    [InlineData(5, 7.0, 0.5, 14)]
    [InlineData(1, 4.0, 1.0, 4)]
    public void Every_scenario_gets_its_whole_duration_once_per_round(int scenarios, double duration, double slice, int expectedRounds)
    {
        var rounds = Schedule.Plan(scenarios, TimeSpan.FromSeconds(duration), TimeSpan.FromSeconds(slice));

        rounds.Count.ShouldBe(expectedRounds);
        foreach (var round in rounds)
        {
            round.Order.Order().ShouldBe(Enumerable.Range(0, scenarios), "every scenario once a round");
            round.Length.ShouldBeGreaterThan(TimeSpan.Zero);
            round.Length.ShouldBeLessThanOrEqualTo(TimeSpan.FromSeconds(slice));
        }

        // Each scenario runs once per round for the round's length, so the rounds' lengths add up to its measured time.
        new TimeSpan(rounds.Sum(r => r.Length.Ticks)).ShouldBe(TimeSpan.FromSeconds(duration));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(10.0)]
    [InlineData(30.0)]
    public void A_zero_slice_or_one_as_long_as_the_duration_is_the_back_to_back_schedule(double slice)
    {
        var rounds = Schedule.Plan(4, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(slice));

        rounds.Count.ShouldBe(1);
        rounds[0].Length.ShouldBe(TimeSpan.FromSeconds(10));
        rounds[0].Order.ShouldBe([0, 1, 2, 3], "the scenarios in the order given, as before interleaving");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Over_a_cycle_every_scenario_sits_in_every_place_and_follows_every_other_equally_often(int n)
    {
        var cycle = Enumerable.Range(0, 2 * n).Select(r => Schedule.Order(n, r)).ToList();

        for (var scenario = 0; scenario < n; scenario++)
        {
            for (var place = 0; place < n; place++)
            {
                cycle.Count(order => order[place] == scenario).ShouldBe(2, $"scenario {scenario} in place {place}");
            }
        }

        var follows = cycle.SelectMany(order => order.Zip(order.Skip(1))).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        follows.Count.ShouldBe(n * (n - 1), "every ordered pair of different scenarios occurs");
        follows.Values.Distinct().ShouldBe([2], "and each as often");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Every_two_rounds_each_scenario_has_the_same_mean_place(int n)
    {
        // A drift within rounds (the machine slowing from the first slice to the last) then favours no scenario.
        for (var pair = 0; pair < 3 * n; pair++)
        {
            var first = Schedule.Order(n, 2 * pair);
            var second = Schedule.Order(n, (2 * pair) + 1);
            second.ShouldBe(first.Reverse(), $"round {(2 * pair) + 1} runs round {2 * pair} backwards");
            for (var scenario = 0; scenario < n; scenario++)
            {
                (first.ToList().IndexOf(scenario) + second.ToList().IndexOf(scenario)).ShouldBe(n - 1);
            }
        }
    }

    [Fact]
    public void Paired_ratios_match_slices_by_run_and_round()
    {
        var health = Result("health", (0, 0, 1000), (0, 1, 2000), (1, 0, 1000), (1, 1, 500));
        var view = Result("classify-description", (0, 0, 900), (0, 1, 1600), (1, 0, 1100), (1, 1, 450), (1, 2, 999));

        // (1, 2) has no Health slice: it pairs with nothing.
        Report.PairedRatios(view, health).ShouldBe([0.9, 0.8, 1.1, 0.9], tolerance: 1e-12);
    }

    [Fact]
    public void The_spread_gives_extremes_nearest_rank_percentiles_the_median_and_the_count_at_the_target()
    {
        var spread = Report.Spread([0.80, 0.84, 0.86, 0.88, 0.90, 0.92, 0.95, 1.00, 0.70, 0.99], 0.85)!;

        spread.Count.ShouldBe(10);
        spread.Min.ShouldBe(0.70);
        spread.P10.ShouldBe(0.70, "nearest rank: the 1st of 10");
        spread.Median.ShouldBe(0.89, 1e-12, "the mean of the 5th and 6th of 10");
        spread.P90.ShouldBe(0.99, "nearest rank: the 9th of 10");
        spread.Max.ShouldBe(1.00);
        spread.AtOrAbove.ShouldBe(7);
        Report.Spread([], 0.85).ShouldBeNull();
    }

    [Fact]
    public void The_median_over_runs_keeps_every_runs_slices_so_pairs_span_all_rounds()
    {
        var health = Report.Median([Result("health", (0, 0, 1000), (0, 1, 1000)), Result("health", (1, 0, 2000), (1, 1, 2000)), Result("health", (2, 0, 1500), (2, 1, 1500))]);
        var view = Report.Median([Result("classify-description", (0, 0, 900), (0, 1, 800)), Result("classify-description", (1, 0, 1800), (1, 1, 1800)), Result("classify-description", (2, 0, 1500), (2, 1, 1200))]);

        health.Slices.Count.ShouldBe(6);
        Report.PairedRatios(view, health).Order().ShouldBe([0.8, 0.8, 0.9, 0.9, 0.9, 1.0], tolerance: 1e-12);
    }

    [Fact]
    public void An_interleaved_report_prints_the_paired_ratios_with_the_verdict_and_what_switching_cost()
    {
        var options = LoadOptions.Parse(["--scenarios", "health,classify-description", "--duration", "2", "--slice", "1", "--markdown"]);
        var text = Report.Write(options, [Result("health", (0, 0, 1000), (0, 1, 1000)), Result("classify-description", (0, 0, 900), (0, 1, 800))], [], []);

        text.ShouldContain("2 s measured per scenario in 2 slices of 1 s, interleaved");
        text.ShouldContain("0.85× (850 vs 1,000 calls/s); paired by round (2 rounds): median 0.85×, min 0.80 / p10 0.80 / p90 0.90 / max 0.90, ≥ 0.85 in 1 of 2");
        text.ShouldContain("4 slices; after each slice's time was up its calls in flight took mean 2.00 ms (longest 2.00) to finish, 0.20 % of the measured time");
        text.ShouldContain("most for health, 0.20 % of its time); unmeasured between slices mean 1.00 ms");
    }

    [Fact]
    public void A_back_to_back_report_says_so_and_prints_no_pairs()
    {
        var options = LoadOptions.Parse(["--scenarios", "health,classify-description", "--duration", "1", "--slice", "0", "--markdown"]);
        var text = Report.Write(options, [Result("health", (0, 0, 1000)), Result("classify-description", (0, 0, 900))], [], []);

        text.ShouldContain("1 s measured per scenario, back to back");
        text.ShouldContain("0.90× (900 vs 1,000 calls/s) | met |");
        text.ShouldNotContain("paired by round");
        text.ShouldNotContain("slices; after each slice");
    }

    [Fact]
    public void Interleaving_is_the_default_for_closed_loop_runs_of_several_scenarios_only()
    {
        LoadOptions.Parse(["--scenarios", "health,classify-description"]).SliceLength.ShouldBe(TimeSpan.FromSeconds(1));
        LoadOptions.Parse(["--scenarios", "health,classify-description", "--slice", "0"]).SliceLength.ShouldBe(TimeSpan.Zero);
        LoadOptions.Parse(["--scenarios", "health,classify-description", "--slice", "2.5"]).SliceLength.ShouldBe(TimeSpan.FromSeconds(2.5));
        LoadOptions.Parse(["--scenarios", "health"]).SliceLength.ShouldBe(TimeSpan.Zero, "one scenario: nothing to pair");
        LoadOptions.Parse(["--scenarios", "health,classify-description", "--rate", "1000"]).SliceLength.ShouldBe(TimeSpan.Zero, "open loop: no throughput ratio to judge");
        LoadOptions.Parse(["--soak", "1"]).SliceLength.ShouldBe(TimeSpan.Zero);
        Should.Throw<ArgumentException>(() => LoadOptions.Parse(["--soak", "1", "--slice", "1"]));
    }

    /// <summary>A result whose slices (run, round, calls OK) each took one second, with 2 ms of it draining.</summary>
    private static ScenarioResult Result(string name, params (int Run, int Round, long Ok)[] slices)
    {
        var ok = slices.Sum(s => s.Ok);
        var perRun = slices.GroupBy(s => s.Run).Max(g => g.Count());
        return new ScenarioResult(name, Scenario.Create(name).Rpc, null, ok, ok, ok / (double)perRun / slices.Select(s => s.Run).Distinct().Count(), 0, "calls", 1, 2, 3, 4, new Dictionary<string, long>())
        {
            Slices = [.. slices.Select(s => new SliceRecord(s.Run, s.Round, 0, s.Ok, 1, 0.002, 0.001))],
        };
    }
}
