using System.Globalization;
using System.Net;

namespace Advisor.LoadTest;

/// <summary>What to run and how hard; parsed from the command line. Every loop it drives is bounded in time.</summary>
public sealed record LoadOptions
{
    public const string Usage = """
        Advisor load tool: drives a running (or self-started) Advisor server over loopback and reports
        throughput, latency percentiles and errors by status code.

          --target URL          server address (default http://127.0.0.1:5080); loopback only
          --server-dll PATH     start this Advisor.Server.dll itself on a free loopback port with a fresh database,
                                measure start-up to SERVING, and stop it at the end (replaces --target)
          --server-arg ARG      with --server-dll: one more server argument (repeatable), e.g. --server-arg
                                --Logging:LogLevel:Default --server-arg Information
          --server-env NAME=V   with --server-dll: an environment variable for the server (repeatable), e.g.
                                DOTNET_gcServer=1. The tool's own GC variables (DOTNET_GC*, COMPlus_GC*) are
                                not passed on to the server: give the server's here
          --server-pid N        the pid of a server (or bot) started elsewhere, to report its CPU per call
          --scenarios LIST      comma-separated, default all: health, classify-description,
                                classify-description-basic, classify-profile, classify-profile-basic, ask,
                                search-buyers, get-buyer, import (classify-*: ClassifyBuyer's full view, what callers
                                that set no view get; classify-*-basic: CLASSIFICATION_VIEW_BASIC)
          --connections N       HTTP/2 connections (default 4); Slack mode opens one HTTP/1.1 connection per
                                concurrent request instead
          --concurrency N       calls in flight at once (default 64)
          --rate N              open loop: N calls/s due on a fixed schedule, at most --concurrency in flight;
                                latency counts from when each call was due (default: closed loop, each worker
                                calls again as soon as its call returns, which measures the saturation point)
          --warmup S            seconds of unmeasured warm-up per scenario, all scenarios warmed before any is
                                measured (default 3)
          --duration S          measured seconds per scenario (default 10)
          --slice S             interleave: cut each scenario's --duration into slices of S seconds and run the
                                scenarios in rounds, each once per round for one slice, the order changing from
                                round to round (a balanced Latin square), so the machine's drift falls on every
                                scenario alike; each round also gives paired ratios (a view's rate over Health's in
                                the same round). Default 1 for a closed-loop run of two or more scenarios, else 0;
                                0 runs the scenarios back to back, each its whole --duration in one block.
                                Every slice ends by letting its calls in flight finish, counted in its time: for
                                long calls (import streams) prefer 0 or long slices (the report says the share)
          --repeat N            run everything N times and report the median of each figure (default 1)
          --import-batch N      interactions per ImportInteractions stream (default 100)
          --import-chunk N      interactions per stream message, 1 to 1,000 (default 1,000; 1 sends one message
                                per interaction, as clients did before chunks)
          --startup-runs N      with --server-dll: start the server N extra times and report start-up (default 0)
          --soak MINUTES        mixed load for MINUTES instead of the scenarios; reports errors and server RSS
          --slack URL           Slack mode: signed slash commands to the bot at URL (e.g. http://127.0.0.1:5090)
          --slack-secret S      the bot's Slack:SigningSecret (or env ADVISOR_LOADTEST_SLACK_SECRET)
          --markdown            print Markdown tables (for docs/benchmarks.md)
          --calls-file PREFIX   write every measured call to PREFIX.SCENARIO.csv: its send and end on the
                                monotonic clock (ns, the clock of .NET's EventPipe timestamps on Linux), latency
                                and whether the tool collected garbage meanwhile; to line calls up with a trace
                                of the server's GC pauses
          --help

        What one call does: a gRPC call through Grpc.Net.Client (one GrpcChannel per connection, generated
        request messages, a 30 s deadline, the run's cancellation token); its status is checked and counted
        (OK, or errors by status code). Health/Check's answer is parsed into the generated message and must
        say SERVING. ClassifyBuyer's requests are a fixed set made at start (each description and profile in
        each view), each encoded once. Its answer is not built into objects: a response marshaller checks that
        its bytes parse as advisor.v1.ClassifyBuyerResponse (every declared field read as its descriptor says,
        nested messages walked, strings valid UTF-8, unknown fields skipped as the generated parser skips
        them; lengths past the end, cut varints, field 0, groups fail) and that it carries a classification;
        anything else fails the call (INTERNAL). The first answer to each request that passes is kept; a later
        answer that is byte for byte the kept one but for its classification_id's value (same length, valid
        UTF-8) is proven by that comparison instead of the walk, any other is walked, and one that passes the
        walk but differs from the first answer beyond its id counts as an error ("answer differs from the
        first answer to the same request": the service is deterministic for a fixed rule set). Ask, SearchBuyers, GetBuyer and
        ImportInteractions answers are parsed into the generated messages. Latency runs from the send (open
        loop: from when the call was due) to the parsed answer; each worker records it in its own list.
        The report prints the tool's and the server's GC pauses (the server's by generation, both split into
        stopping the threads and collecting, with the bytes that survive each gen0 collection), bytes
        allocated per call on both sides and the server's most allocated types (sampled from its runtime's
        allocation events). For load runs,
        give the tool a large gen0 budget: DOTNET_GCgen0size=0x10000000 (docs/run-benchmarks.sh does).
        """;

    public Uri Target { get; init; } = new("http://127.0.0.1:5080");

    public string? ServerDll { get; init; }

    public IReadOnlyList<string> ServerArguments { get; init; } = [];

    public IReadOnlyDictionary<string, string> ServerEnvironment { get; init; } = new Dictionary<string, string>();

    public int? ServerPid { get; init; }

    public IReadOnlyList<string> Scenarios { get; init; } = Scenario.AllNames;

    public int Connections { get; init; } = 4;

    public int Concurrency { get; init; } = 64;

    /// <summary>Calls per second offered in open loop; null for closed loop.</summary>
    public double? Rate { get; init; }

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The slice of the interleaved schedule as given (<c>--slice</c>); null for the default, see <see cref="SliceLength"/>.</summary>
    public TimeSpan? Slice { get; init; }

    /// <summary>
    /// The slice the scenarios' run uses (zero: back to back). Interleaving is the default wherever a ratio of two
    /// scenarios is judged, a closed-loop run of two or more; 1 s is 600 times the closed loop's drain at 64 calls in
    /// flight (~1.5 ms) and short next to the machine's drift (tens of seconds), and gives ten paired rounds per 10 s.
    /// </summary>
    public TimeSpan SliceLength => Slice ?? (Rate is null && Soak is null && Slack is null && Scenarios.Count > 1 ? TimeSpan.FromSeconds(1) : TimeSpan.Zero);

    public int Repeat { get; init; } = 1;

    public int ImportBatch { get; init; } = 100;

    public int ImportChunk { get; init; } = 1000;

    public int StartupRuns { get; init; }

    public TimeSpan? Soak { get; init; }

    public Uri? Slack { get; init; }

    public string? SlackSecret { get; init; }

    public bool Markdown { get; init; }

    /// <summary>Where to write each measured call (file name prefix); null to keep only the summary.</summary>
    public string? CallsFile { get; init; }

    public bool Help { get; init; }

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LoadOptions { SlackSecret = Environment.GetEnvironmentVariable("ADVISOR_LOADTEST_SLACK_SECRET") };
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Int(int min, int max)
            {
                var text = Value();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                    ? v
                    : throw new ArgumentException($"{name} must be a whole number from {min} to {max}, not '{text}'");
            }

            TimeSpan Seconds(double min, double max)
            {
                var text = Value();
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                    ? TimeSpan.FromSeconds(v)
                    : throw new ArgumentException($"{name} must be a number from {min} to {max}, not '{text}'");
            }

            options = name switch
            {
                "--target" => options with { Target = LoopbackUri(Value(), name) },
                "--server-dll" => options with { ServerDll = Value() },
                "--server-arg" => options with { ServerArguments = [.. options.ServerArguments, Value()] },
                "--server-env" => options with { ServerEnvironment = WithVariable(options.ServerEnvironment, Value(), name) },
                "--server-pid" => options with { ServerPid = Int(1, int.MaxValue) },
                "--scenarios" => options with { Scenarios = ParseScenarios(Value()) },
                "--connections" => options with { Connections = Int(1, 64) },
                "--concurrency" => options with { Concurrency = Int(1, 4096) },
                "--rate" => options with { Rate = Int(1, 1_000_000) },
                "--warmup" => options with { Warmup = Seconds(0, 600) },
                "--duration" => options with { Duration = Seconds(0.1, 3600) },
                "--slice" => options with { Slice = Seconds(0, 3600) },
                "--repeat" => options with { Repeat = Int(1, 20) },
                "--import-batch" => options with { ImportBatch = Int(1, 10_000) },
                "--import-chunk" => options with { ImportChunk = Int(1, 1000) },
                "--startup-runs" => options with { StartupRuns = Int(0, 50) },
                "--soak" => options with { Soak = TimeSpan.FromMinutes(Seconds(0.01, 240).TotalSeconds) },
                "--slack" => options with { Slack = LoopbackUri(Value(), name) },
                "--slack-secret" => options with { SlackSecret = Value() },
                "--markdown" => options with { Markdown = true },
                "--calls-file" => options with { CallsFile = Value() },
                "--help" or "-h" => options with { Help = true },
                _ => throw new ArgumentException($"unknown option '{name}' (see --help)"),
            };
        }

        if (options.Slack is not null && string.IsNullOrEmpty(options.SlackSecret))
        {
            throw new ArgumentException("--slack needs the bot's signing secret (--slack-secret or ADVISOR_LOADTEST_SLACK_SECRET)");
        }

        if (options.Slack is not null && options.Rate is not null)
        {
            throw new ArgumentException("--rate is for the gRPC scenarios; Slack mode runs closed loop");
        }

        if (options.Slice is not null && (options.Slack is not null || options.Soak is not null))
        {
            throw new ArgumentException("--slice is for the scenarios' runs; Slack mode and --soak run as they are");
        }

        if (options.Connections > options.Concurrency)
        {
            options = options with { Connections = options.Concurrency };
        }

        return options;
    }

    /// <summary>
    /// The guard: load goes only to this machine. A name is accepted only when it is "localhost" or
    /// an address in the loopback range; nothing is resolved through DNS.
    /// </summary>
    public static Uri LoopbackUri(string text, string option)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{option} must be an http(s) address, not '{text}'");
        }

        if (!IsLoopback(uri.Host))
        {
            throw new ArgumentException($"{option} '{uri.Host}' is not a loopback address: this tool only sends load to this machine (127.0.0.0/8, ::1, localhost)");
        }

        return uri;
    }

    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static Dictionary<string, string> WithVariable(IReadOnlyDictionary<string, string> variables, string text, string option)
    {
        var cut = text.IndexOf('=', StringComparison.Ordinal);
        if (cut <= 0)
        {
            throw new ArgumentException($"{option} must be NAME=VALUE, not '{text}'");
        }

        return new Dictionary<string, string>(variables, StringComparer.Ordinal) { [text[..cut]] = text[(cut + 1)..] };
    }

    private static List<string> ParseScenarios(string text)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var name in names.Where(n => !Scenario.AllNames.Contains(n)))
        {
            throw new ArgumentException($"unknown scenario '{name}'; known: {string.Join(", ", Scenario.AllNames)}");
        }

        return names;
    }
}
