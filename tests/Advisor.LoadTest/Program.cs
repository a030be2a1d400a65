using System.Globalization;
using Advisor.LoadTest;

// dotnet run -c Release --project tests/Advisor.LoadTest -- --server-dll server/bin/Release/net10.0/Advisor.Server.dll --markdown
LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync("advisor-loadtest: " + ex.Message);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(LoadOptions.Usage);
    return 0;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var startups = new List<TimeSpan>();
var notes = new List<string>();
ServerProcess? server = null;
try
{
    var target = options.Target;
    var serverPid = options.ServerPid;
    if (options.ServerDll is { } dll)
    {
        for (var i = 0; i < options.StartupRuns; i++)
        {
            await using var probe = await ServerProcess.StartAsync(dll, options.ServerArguments, options.ServerEnvironment, cancel.Token);
            startups.Add(probe.Startup);
            Progress($"start-up {i + 1}/{options.StartupRuns}: {probe.Startup.TotalSeconds:0.000} s");
        }

        server = await ServerProcess.StartAsync(dll, options.ServerArguments, options.ServerEnvironment, cancel.Token);
        startups.Add(server.Startup);
        target = server.Address;
        serverPid = server.Id;
        Progress($"server pid {server.Id} at {target} SERVING after {server.Startup.TotalSeconds:0.000} s");
    }

    using var data = new SampleData(options.ImportBatch, options.ImportChunk);
    var results = new List<ScenarioResult>();
    if (options.Slack is { } slack)
    {
        var runs = new List<ScenarioResult>();
        for (var r = 0; r < options.Repeat; r++)
        {
            runs.Add(await new SlackLoad(slack, options.SlackSecret!, options.Concurrency, serverPid).RunAsync(data, options.Warmup, options.Duration, cancel.Token));
        }

        results.Add(Report.Median(runs));
    }
    else if (options.Soak is { } soak)
    {
        using var runner = new LoadRunner(target, options.Connections, options.Concurrency, serverPid, options.Rate);
        var scenarios = new List<Scenario>();
        foreach (var scenario in options.Scenarios.Select(Scenario.Create))
        {
            if (await scenario.PrepareAsync(runner.Channel, data, cancel.Token) is { } reason)
            {
                notes.Add($"{scenario.Name}: {reason}; left out of the soak mix.");
            }
            else
            {
                scenarios.Add(scenario);
            }
        }

        var rssStart = server?.RssMiB();
        var samples = new List<string>();
        var result = await runner.MeasureAsync(scenarios, data, soak, elapsed =>
        {
            var rss = server?.RssMiB();
            samples.Add($"{elapsed.TotalMinutes:0.0} min: {(rss is null ? "n/a" : rss.Value.ToString("0.0", CultureInfo.InvariantCulture) + " MiB")}");
            Progress("soak " + samples[^1]);
            return Task.CompletedTask;
        }, cancel.Token);
        var rssEnd = server?.RssMiB();
        results.Add(result);
        notes.Add(rssStart is null
            ? "Server RSS: not measured (start the server with --server-dll to sample it)."
            : $"Soak {soak.TotalMinutes:0.#} min: errors {result.Errors.Values.Sum()} (target 0); server RSS {rssStart:0.0} MiB after warm start, {rssEnd:0.0} MiB at the end (samples: {string.Join("; ", samples)}).");
    }
    else
    {
        var runs = options.Scenarios.ToDictionary(n => n, _ => new List<ScenarioResult>());
        using var runner = new LoadRunner(target, options.Connections, options.Concurrency, serverPid, options.Rate) { CallsFile = options.CallsFile };

        // Every scenario is warmed before any is measured: the server compiles and tiers up its code (JIT) while it
        // runs, and the first scenario measured straight after start-up was measuring the compiler, not the call.
        var unavailable = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in options.Scenarios)
        {
            if (await runner.PrepareAndWarmAsync(Scenario.Create(name), data, options.Warmup, cancel.Token) is { } reason)
            {
                unavailable[name] = reason;
            }

            Progress($"warm-up {name}: {unavailable.GetValueOrDefault(name) ?? "done"}");
        }

        // The scenarios that can run share one schedule; the others are reported with their reason.
        var measured = options.Scenarios.Where(n => !unavailable.ContainsKey(n)).Select(Scenario.Create).ToList();
        foreach (var (name, reason) in unavailable)
        {
            runs[name].AddRange(Enumerable.Repeat(ScenarioResult.Unavailable(Scenario.Create(name), reason), options.Repeat));
        }

        IReadOnlyList<ScheduleRound> rounds = measured.Count == 0 ? [] : Schedule.Plan(measured.Count, options.Duration, options.SliceLength);
        for (var r = 0; r < options.Repeat && measured.Count > 0; r++)
        {
            var run = r;
            var ofRun = await runner.MeasureScheduleAsync(measured, data, rounds, run, rounds.Count == 1 ? null : (round, slices) =>
                Progress($"run {run + 1}/{options.Repeat} round {round + 1}/{rounds.Count}: {string.Join(", ", slices.Select(s => $"{s.Scenario.Name} {s.Slice.CallsPerSecond:N0}"))} calls/s"), cancel.Token);
            foreach (var result in ofRun)
            {
                runs[result.Name].Add(result);
                Progress($"run {r + 1}/{options.Repeat} {result.Name}: {result.CallsPerSecond:N0} calls/s, p99 {result.P99Ms:0.00} ms, server CPU {result.ServerCpuUsPerCall:0.0} µs/call, errors {result.Errors.Values.Sum()}");
            }
        }

        results.AddRange(options.Scenarios.Select(n => Report.Median(runs[n])));
        if (server?.RssMiB() is { } rss)
        {
            notes.Add($"Server RSS after the run: {rss:0.0} MiB.");
        }
    }

    Console.WriteLine(Report.Write(options, results, startups, notes));
    return results.Any(r => r.Errors.Count > 0) ? 1 : 0;
}
catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or FileNotFoundException or OperationCanceledException)
{
    await Console.Error.WriteLineAsync("advisor-loadtest: " + ex.Message);
    return 2;
}
finally
{
    if (server is not null)
    {
        await server.DisposeAsync();
    }
}

static void Progress(string line) => Console.Error.WriteLine(line);
