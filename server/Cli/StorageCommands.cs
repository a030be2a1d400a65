using System.CommandLine;
using System.Globalization;
using Advisor.Server.Hosting;
using Advisor.Server.Storage;
using Advisor.Server.Storage.Postgres;
using Advisor.Server.Storage.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Advisor.Server.Cli;

public static partial class ToolCommands
{
    /// <summary>Exit codes of <c>storage copy-to-postgres</c>, for scripts.</summary>
    public static class CopyExitCodes
    {
        public const int Copied = 0;
        public const int CountsDiffer = 1;
        public const int CannotRun = 2;
        public const int TargetNotEmpty = 3;
    }

    /// <summary><c>storage copy-to-postgres --target CONNSTR</c>: moves an embedded SQLite database to a shared PostgreSQL one.</summary>
    public static Command Storage()
    {
        var target = new Option<string>("--target")
        {
            Description = "Connection string of the PostgreSQL database to copy into (created and empty; the command applies the migrations).",
            Required = true,
        };
        var copy = new Command("copy-to-postgres", "Copy every table of the SQLite database (--Storage:Path) into an empty PostgreSQL database, then compare the row counts of every table.")
        {
            target,
        };
        copy.TreatUnmatchedTokensAsErrors = false;
        copy.SetAction((parse, cancellationToken) => CopyToPostgresAsync(parse, parse.GetValue(target)!, cancellationToken));
        return new Command("storage", "Storage tools.") { copy };
    }

    private static async Task<int> CopyToPostgresAsync(ParseResult parse, string targetConnectionString, CancellationToken cancellationToken)
    {
        // The server's own configuration sources (appsettings, environment, --Storage:Path ...) say where the SQLite file is.
        await using var app = AdvisorServerHost.Build([.. parse.UnmatchedTokens, "--Logging:LogLevel:Default", "Warning"]);
        var configured = app.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var path = Path.GetFullPath(configured.Path);
        if (!File.Exists(path))
        {
            await Console.Error.WriteLineAsync($"There is no SQLite database at {path}; say which one to copy with --Storage:Path.");
            return CopyExitCodes.CannotRun;
        }

        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(targetConnectionString);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync("--target is not a PostgreSQL connection string: " + ex.Message);
            return CopyExitCodes.CannotRun;
        }

        var sourceOptions = Options.Create(new StorageOptions { Provider = "sqlite", Path = path, Synchronous = configured.Synchronous, BusyTimeoutMs = configured.BusyTimeoutMs });
        var targetOptions = Options.Create(new StorageOptions { Provider = "postgres", ConnectionString = targetConnectionString });
        await using var targetDatabase = new PostgresDatabase(targetOptions);
        using var sourceDatabase = new SqliteDatabase(sourceOptions);
        var copier = new SqliteToPostgresCopy(sourceDatabase, targetDatabase, app.Services.GetRequiredService<ILoggerFactory>());
        // Only the host and database are shown: the connection string may hold a password.
        Console.WriteLine($"Copying {path} to PostgreSQL database '{parsed.Database}' on {parsed.Host}:{parsed.Port}");

        CopyReport report;
        try
        {
            report = await copier.RunAsync(new ConsoleProgress(), cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            await Console.Error.WriteLineAsync("The copy stopped and nothing was committed: " + ex.Message);
            return CopyExitCodes.CannotRun;
        }

        switch (report.Outcome)
        {
            case CopyOutcome.SchemaMismatch:
                await Console.Error.WriteLineAsync("The SQLite database does not fit the PostgreSQL schema; nothing was copied:");
                report.Problems.ToList().ForEach(p => Console.Error.WriteLine("  " + p));
                return CopyExitCodes.CannotRun;
            case CopyOutcome.TargetNotEmpty:
                await Console.Error.WriteLineAsync("The target database already has data, so nothing was copied (the copy only fills an empty database; a server started on it writes rows at once):");
                report.Problems.ToList().ForEach(p => Console.Error.WriteLine("  " + p));
                await Console.Error.WriteLineAsync("Create a new, empty database and run the copy before any server uses it.");
                return CopyExitCodes.TargetNotEmpty;
        }

        var width = Math.Max(5, report.Counts.Select(c => c.Table.Length).DefaultIfEmpty(0).Max());
        Console.WriteLine($"{"table".PadRight(width)}  {"sqlite",12}  {"postgres",12}");
        foreach (var count in report.Counts)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count.Table.PadRight(width)}  {count.SourceRows,12}  {count.TargetRows,12}{(count.Matches ? "" : "  DIFFERS")}"));
        }

        if (report.Outcome == CopyOutcome.CountsDiffer)
        {
            await Console.Error.WriteLineAsync("The row counts differ, so the copy was rolled back" + (report.Problems.Count > 0 ? ": " + string.Join("; ", report.Problems) : "."));
            return CopyExitCodes.CountsDiffer;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Copied {report.Counts.Sum(c => c.TargetRows)} rows in {report.Counts.Count} tables; every count matches."));
        return CopyExitCodes.Copied;
    }

    /// <summary>Writes a line per table as rows stream, so a long copy shows it is moving.</summary>
    private sealed class ConsoleProgress : IProgress<(string Table, long Rows)>
    {
        public void Report((string Table, long Rows) value) =>
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {value.Table}: {value.Rows} rows"));
    }
}
