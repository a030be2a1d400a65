using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Advisor.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace Advisor.Server.Tests.Buyers;

/// <summary>
/// Acknowledged means committed: the real server runs as a child process on a SQLite file, imports stream in,
/// and the process is killed with SIGKILL at random moments. After each restart the interrupted batch is sent
/// again (as a client would retry); at the end every acknowledged interaction must be there exactly once.
/// ADVISOR_KILL_ROUNDS sets the number of kills (default 10).
/// </summary>
public sealed class KillDurabilityTests : IDisposable
{
    private const int BatchItems = 150;
    private const int Buyers = 5;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"));

    public KillDurabilityTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public async Task Every_acknowledged_interaction_survives_kill_9_exactly_once()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("ADVISOR_KILL_ROUNDS"), CultureInfo.InvariantCulture, out var r) && r > 0 ? r : 10;
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(20261128);
        var acknowledged = new HashSet<string>(StringComparer.Ordinal);
        var next = 0;
        List<Interaction>? unacknowledged = null;

        for (var round = 0; round < rounds; round++)
        {
            await using var server = await ChildServer.StartAsync(_folder, ct);
            var client = new BuyerService.BuyerServiceClient(server.Channel);

            // A client retries what it sent but never saw acknowledged; the keys make the retry safe.
            if (unacknowledged is not null)
            {
                await ImportAsync(client, unacknowledged, ct);
                acknowledged.UnionWith(unacknowledged.Select(i => i.IdempotencyKey));
            }

            var killAt = DateTime.UtcNow.AddMilliseconds(random.Next(150, 900));
            var killer = Task.Run(async () =>
            {
                var wait = killAt - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, ct);
                }

                server.Kill();
            }, ct);

            while (true)
            {
                var batch = Enumerable.Range(next, BatchItems).Select(Item).ToList();
                next += BatchItems;
                try
                {
                    await ImportAsync(client, batch, ct);
                    acknowledged.UnionWith(batch.Select(i => i.IdempotencyKey));
                }
                catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException)
                {
                    unacknowledged = batch;
                    break;
                }
            }

            await killer;
        }

        await using (var final = await ChildServer.StartAsync(_folder, ct))
        {
            var client = new BuyerService.BuyerServiceClient(final.Channel);
            var stored = new List<string>();
            var buyers = await client.ListBuyersAsync(new ListBuyersRequest { PageSize = 100 }, Deadline(ct));
            buyers.Buyers.Count.ShouldBe(Buyers, "buyers are matched by external id across crashes, never created twice");
            foreach (var buyer in buyers.Buyers)
            {
                string token = "";
                do
                {
                    var page = await client.ListInteractionsAsync(new ListInteractionsRequest { BuyerId = buyer.Id, PageSize = 1000, PageToken = token }, Deadline(ct));
                    stored.AddRange(page.Interactions.Select(i => i.IdempotencyKey));
                    token = page.NextPageToken;
                }
                while (token.Length > 0);
            }

            acknowledged.Count.ShouldBeGreaterThan(0);
            stored.Count.ShouldBe(stored.Distinct().Count(), "no interaction is stored twice");
            var missing = acknowledged.Except(stored).ToList();
            missing.ShouldBeEmpty($"{missing.Count} of {acknowledged.Count} acknowledged interactions were lost");
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static Interaction Item(int n) => new()
    {
        BuyerExternalId = "durable-" + (n % Buyers).ToString(CultureInfo.InvariantCulture),
        BuyerDisplayName = "Durable Buyer " + (n % Buyers).ToString(CultureInfo.InvariantCulture),
        Type = n % 3 == 0 ? InteractionType.Meeting : InteractionType.RepeatPurchase,
        OccurredAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(n)),
        IdempotencyKey = "key-" + n.ToString(CultureInfo.InvariantCulture),
    };

    private static async Task ImportAsync(BuyerService.BuyerServiceClient client, List<Interaction> batch, CancellationToken ct)
    {
        using var call = client.ImportInteractions(Deadline(ct));
        foreach (var item in batch)
        {
            await call.RequestStream.WriteAsync(new ImportInteractionsRequest { Interaction = item }, ct);
        }

        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;
        (response.Accepted + response.Duplicates).ShouldBe(batch.Count);
    }

    private static CallOptions Deadline(CancellationToken ct) => new(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ct);

    /// <summary>The server as its own process (<c>dotnet Advisor.Server.dll</c>), so SIGKILL is a real crash.</summary>
    private sealed class ChildServer : IAsyncDisposable
    {
        private readonly Process _process;

        private ChildServer(Process process, GrpcChannel channel)
        {
            _process = process;
            Channel = channel;
        }

        public GrpcChannel Channel { get; }

        public static async Task<ChildServer> StartAsync(string folder, CancellationToken ct)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[]
            {
                Path.Combine(AppContext.BaseDirectory, "Advisor.Server.dll"), "--urls", $"http://127.0.0.1:{port}",
                "--Storage:Path", Path.Combine(folder, "advisor.db"), "--Logging:LogLevel:Default", "Warning", "--Buyers:ImportBatchSize", "64",
            })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            var client = new BuyerService.BuyerServiceClient(channel);
            var giveUp = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    await client.ListBuyersAsync(new ListBuyersRequest { PageSize = 1 }, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct));
                    return new ChildServer(process, channel);
                }
                catch (RpcException) when (DateTime.UtcNow < giveUp && !process.HasExited)
                {
                    await Task.Delay(50, ct);
                }
            }
        }

        /// <summary>SIGKILL: no shutdown code runs, nothing is flushed.</summary>
        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
        }

        public async ValueTask DisposeAsync()
        {
            Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
            Channel.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
