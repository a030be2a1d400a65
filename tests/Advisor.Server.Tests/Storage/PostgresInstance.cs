using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// A real PostgreSQL server for the tests, started from Debian's postgresql package (initdb and
/// pg_ctl) in a temporary directory on a free loopback port, and stopped at the end. As root (CI),
/// the server runs as the postgres user, which is what initdb requires.
/// </summary>
public sealed class PostgresInstance : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "advisor-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private string _bin = "";
    private int _databases;

    public int Port { get; private set; }

    /// <summary>Connection string to the maintenance database.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

    public async ValueTask InitializeAsync()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb"))) ?? ""
            : "";
        if (_bin.Length == 0)
        {
            throw new InvalidOperationException("PostgreSQL server binaries were not found under /usr/lib/postgresql; install Debian's 'postgresql' package (.ci/run does).");
        }

        Directory.CreateDirectory(_root);
        var data = Path.Combine(_root, "data");
        Port = FreePort();
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", $"-R postgres:postgres {_root}", asPostgres: false);
        }

        await RunAsync(Path.Combine(_bin, "initdb"), $"-D {data} -U postgres --auth=trust -E UTF8 --no-sync", asPostgres: true);
        await RunAsync(Path.Combine(_bin, "pg_ctl"),
            $"-D {data} -l {Path.Combine(_root, "log.txt")} -w -t 60 -o \"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=1000\" start",
            asPostgres: true);
    }

    /// <summary>A new, empty database; each test class gets its own so they never see each other's rows.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var name = $"advisor_test_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..6]}";
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name}";
    }

    public async ValueTask DisposeAsync()
    {
        if (_bin.Length > 0 && Directory.Exists(Path.Combine(_root, "data")))
        {
            try
            {
                await RunAsync(Path.Combine(_bin, "pg_ctl"), $"-D {Path.Combine(_root, "data")} -m immediate -w stop", asPostgres: true);
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string arguments, bool asPostgres)
    {
        var start = asPostgres && Environment.UserName == "root"
            ? new ProcessStartInfo("runuser", $"-u postgres -- {file} {arguments}")
            : new ProcessStartInfo(file, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({process.ExitCode}): {await output} {await error}");
        }
    }
}
