using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Advisor.LoadTest;

/// <summary>
/// An Advisor server started by the tool as a child process: on a free loopback port, with a fresh
/// SQLite database in a temporary folder, quiet logs. Start-up is timed from process start to the
/// first SERVING answer of grpc.health.v1, which is what a load balancer would wait for.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private ServerProcess(Process process, string folder, Uri address, TimeSpan startup)
    {
        _process = process;
        _folder = folder;
        Address = address;
        Startup = startup;
    }

    public Uri Address { get; }

    /// <summary>From process start to the first SERVING health answer.</summary>
    public TimeSpan Startup { get; }

    public int Id => _process.Id;

    public static async Task<ServerProcess> StartAsync(string dll, IReadOnlyList<string> extraArguments, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"No server at '{dll}': build it first (dotnet build server -c Release).", dll);
        }

        var folder = Path.Combine(Path.GetTempPath(), "advisor-loadtest", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            dll, "--urls", address.ToString().TrimEnd('/'), "--Storage:Path", Path.Combine(folder, "advisor.db"),
            "--Logging:LogLevel:Default", "Warning",
        }.Concat(extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        // The tool's own garbage-collector settings (docs/run-benchmarks.sh gives it a large gen0 budget) are the tool's:
        // the server gets the runtime's defaults and its own runtimeconfig, plus what --server-env names.
        foreach (var inherited in start.Environment.Keys.Where(IsGcSetting).ToList())
        {
            start.Environment.Remove(inherited);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // The first attempts find nothing listening, and a channel waits out its reconnect backoff (a second, with
        // jitter) before it tries again: with the default, start-up read 1.3 s or 2.5-3 s depending on whether the
        // first connection attempt came before Kestrel listened. Short backoffs make the probe see SERVING within
        // milliseconds of the server answering it.
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(5),
            MaxReconnectBackoff = TimeSpan.FromMilliseconds(20),
        });
        var health = new Health.HealthClient(channel);
        var giveUp = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with code {process.ExitCode} during start-up:\n{output}");
            }

            if (DateTime.UtcNow > giveUp)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"the server did not answer SERVING within 60 s:\n{output}");
            }

            try
            {
                var response = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(1), cancellationToken: cancellationToken);
                if (response.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    break;
                }
            }
            catch (RpcException)
            {
                // Not listening yet, or still loading.
            }

            await Task.Delay(5, cancellationToken);
        }

        return new ServerProcess(process, folder, address, clock.Elapsed);
    }

    /// <summary>Resident set size of the server process (VmRSS), in MiB; null where /proc is not available.</summary>
    public double? RssMiB() => ReadRssMiB(_process.Id);

    public static double? ReadRssMiB(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return null;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kb = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return kb is null ? null : double.Parse(kb, CultureInfo.InvariantCulture) / 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Left to the temp cleaner.
        }
    }

    /// <summary>Whether an environment variable is a runtime GC setting (DOTNET_GCgen0size, DOTNET_gcServer, COMPlus_GC…).</summary>
    public static bool IsGcSetting(string name) =>
        name.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase) || name.StartsWith("COMPlus_GC", StringComparison.OrdinalIgnoreCase);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Append(System.Text.StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 20_000)
            {
                output.AppendLine(line);
            }
        }
    }
}
