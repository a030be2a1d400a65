using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Advisor.Server.Buyers;
using Spectre.Console;

namespace Advisor.Server.Cli;

public static partial class ToolCommands
{
    /// <summary>Exit codes of <c>import</c> and <c>seed-demo</c>.</summary>
    public static class ImportExitCodes
    {
        /// <summary>Every row was stored (or had been stored before: a duplicate).</summary>
        public const int Ok = 0;

        /// <summary>The import finished but some rows were rejected; they are in FILE.rejected.csv with the reasons.</summary>
        public const int SomeRejected = 1;

        /// <summary>Nothing was imported: no such file, an unreadable header, or invalid configuration.</summary>
        public const int CannotRun = 2;
    }

    /// <summary><c>import FILE</c>: interactions from CSV or JSON lines into the configured store.</summary>
    public static Command Import()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "CSV with a header row, or JSON lines (.jsonl): buyer_id, buyer_external_id, buyer_name, type, occurred_at, amount, currency, channel, note, idempotency_key." };
        var format = new Option<string?>("--format") { Description = "csv or jsonl; by default from the file name (.jsonl, .ndjson, .json are JSON lines)." };
        format.AcceptOnlyFromAmong("csv", "jsonl");
        var command = new Command(
            "import",
            "Import interactions for the buyer registry. Rows name their buyer by buyer_id, or buyer_external_id / buyer_name (matched, or created). " +
            "Rejected rows are written with their reasons to FILE.rejected.csv. Exit codes: 0 all stored or duplicates, 1 some rows rejected, 2 nothing imported (bad file or configuration).")
        {
            file,
            format,
        };
        command.SetAction((parse, ct) => RunWithServicesAsync(parse, (services, token) => ImportAsync(parse, services, parse.GetValue(file)!, parse.GetValue(format), token), ct));
        return command;
    }

    /// <summary><c>seed-demo</c>: the demo registry (samples/demo-registry.jsonl), so a new user can ask about named buyers at once.</summary>
    public static Command SeedDemo()
    {
        var command = new Command("seed-demo", "Load the demo buyer registry (Acme Corp, Contoso, Northwind Traders, ...). Safe to run twice. Exit codes: 0 done, 2 the file is missing or invalid.");
        command.SetAction((parse, ct) => RunWithServicesAsync(parse, async (services, token) =>
        {
            var demo = services.GetRequiredService<DemoRegistry>();
            try
            {
                var (buyers, interactions) = await demo.SeedAsync(token);
                await parse.InvocationConfiguration.Output.WriteLineAsync($"Demo registry loaded from {demo.FilePath}: {buyers} new buyers, {interactions} new interactions.");
                return ImportExitCodes.Ok;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("seed-demo: " + ex.Message);
                return ImportExitCodes.CannotRun;
            }
        }, ct));
        return command;
    }

    private static Task<int> RunWithServicesAsync(ParseResult parse, Func<IServiceProvider, CancellationToken, Task<int>> work, CancellationToken cancellationToken) =>
        ServerCommandLine.RunWithServicesAsync(parse, work, cancellationToken);

    private static async Task<int> ImportAsync(ParseResult parse, IServiceProvider services, FileInfo file, string? format, CancellationToken cancellationToken)
    {
        var error = parse.InvocationConfiguration.Error;
        if (!file.Exists)
        {
            await error.WriteLineAsync($"import: no file at {file.FullName}");
            return ImportExitCodes.CannotRun;
        }

        InteractionFile input;
        try
        {
            input = InteractionFile.Open(file.FullName, format);
        }
        catch (InvalidDataException ex)
        {
            await error.WriteLineAsync("import: " + ex.Message);
            return ImportExitCodes.CannotRun;
        }

        var importer = services.GetRequiredService<InteractionImporter>();
        var rowOfItem = new List<long>();
        var rejected = new SortedDictionary<long, (string Field, string Reason)>();
        long bytesRead = 0;
        var clock = Stopwatch.StartNew();
        ImportSummary? summary = null;
        var console = AnsiConsole.Console;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"Importing {file.Name}", maxValue: Math.Max(1, file.Length));
                summary = await importer.ImportAsync(
                    Items(input, rowOfItem, rejected, position => Interlocked.Exchange(ref bytesRead, position), cancellationToken),
                    r =>
                    {
                        lock (rejected)
                        {
                            // Name the file's column, not the message field: "interaction.buyer_display_name" → "buyer_name".
                            rejected[rowOfItem[(int)r.Index]] = (r.Field.Replace("interaction.", "", StringComparison.Ordinal).Replace("buyer_display_name", "buyer_name", StringComparison.Ordinal), r.Reason);
                        }
                    },
                    _ => task.Value = Interlocked.Read(ref bytesRead),
                    cancellationToken);
                task.Value = task.MaxValue;
            });

        var s = summary!;
        var unreadable = rejected.Count - (int)s.Rejected;
        var table = new Table().AddColumns("Rows", "Count");
        table.AddRow("Accepted", s.Accepted.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("Duplicates (stored before)", s.Duplicates.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("Rejected", rejected.Count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("Buyers created", s.BuyersCreated.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        console.Write(table);
        var total = s.Accepted + s.Duplicates + rejected.Count;
        console.MarkupLineInterpolated($"{total:N0} rows in {clock.Elapsed.TotalSeconds:F1} s ({total / Math.Max(0.001, clock.Elapsed.TotalSeconds):N0} rows/s); {unreadable:N0} of the rejected rows could not be read.");
        if (rejected.Count == 0)
        {
            return ImportExitCodes.Ok;
        }

        var rejectedPath = file.FullName + ".rejected.csv";
        await WriteRejectedAsync(input, rejected, rejectedPath, cancellationToken);
        console.MarkupLineInterpolated($"[yellow]Rejected rows and reasons: {rejectedPath}[/]");
        return ImportExitCodes.SomeRejected;
    }

    /// <summary>The readable rows as interactions; unreadable ones go straight to <paramref name="rejected"/>.</summary>
    private static async IAsyncEnumerable<V1.Interaction> Items(
        InteractionFile input, List<long> rowOfItem, SortedDictionary<long, (string, string)> rejected, Action<long> position, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var record in input.Read(position))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (record.Interaction is null)
            {
                lock (rejected)
                {
                    rejected[record.Number] = (record.Field!, record.Problem!);
                }

                continue;
            }

            lock (rejected)
            {
                rowOfItem.Add(record.Number);
            }

            yield return record.Interaction;
        }

        await Task.CompletedTask;
    }

    /// <summary>Reads the file again and writes the rejected rows, as they were, after their row number, field and reason.</summary>
    private static async Task WriteRejectedAsync(InteractionFile input, SortedDictionary<long, (string Field, string Reason)> rejected, string path, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false));
        var header = new[] { "row", "field", "reason" }.Concat(input.JsonLines ? ["record"] : input.Header);
        await writer.WriteLineAsync(string.Join(",", header.Select(InteractionFile.Quote)));
        foreach (var record in input.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (rejected.TryGetValue(record.Number, out var why))
            {
                var values = new[] { record.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), why.Field, why.Reason }.Concat(record.Values);
                await writer.WriteLineAsync(string.Join(",", values.Select(InteractionFile.Quote)));
            }
        }
    }
}
