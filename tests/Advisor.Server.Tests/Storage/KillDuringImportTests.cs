using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// Acknowledged means committed: a real server process importing a stream is killed with SIGKILL several times;
/// after each restart every item of every acknowledged import is there exactly once, and a full replay of
/// everything sent (acknowledged or not) leaves each item stored once.
/// </summary>
public sealed class KillDuringImportTests(PostgresInstance postgres)
{
    private const int Kills = 3;
    private const int ItemsPerCall = 400;
    private const int Buyers = 10;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("postgres")]
    [InlineData("sqlite")]
    public async Task Every_acknowledged_import_item_survives_kill_9_exactly_once(string provider)
    {
        var folder = Path.Combine(Path.GetTempPath(), "advisor-tests", Guid.NewGuid().ToString("N"));
        string[] storage = provider == "postgres"
            ? ["--Storage:Provider", "postgres", "--Storage:ConnectionString", await postgres.CreateDatabaseAsync(Ct)]
            : ["--Storage:Path", Path.Combine(folder, "advisor.db")];
        var tag = Guid.NewGuid().ToString("N")[..6];
        var acknowledged = new List<int>();
        var sent = 0;
        try
        {
            for (var round = 0; round <= Kills; round++)
            {
                await using var server = await StartAsync(storage);
                using var channel = GrpcChannel.ForAddress(server.Address);
                var client = new BuyerService.BuyerServiceClient(channel);

                // Every acknowledged call so far is fully there, once, after the restart.
                await AssertStoredOnceAsync(client, tag, acknowledged, sent);
                if (round == Kills)
                {
                    // Replay everything ever sent: only the items of unacknowledged calls may be new; none is stored twice.
                    for (var call = 0; call < sent; call++)
                    {
                        await ImportAsync(client, tag, call);
                    }

                    await AssertStoredOnceAsync(client, tag, [.. Enumerable.Range(0, sent)], sent);
                    break;
                }

                // Import until the kill lands: one call at a time, so at most one is in flight when the process dies.
                // The kill comes at a random moment after the round's first acknowledgement, so every round has
                // something to lose however slow a busy machine makes the first call.
                using var killer = new CancellationTokenSource();
                var firstAcknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var kill = Task.Run(async () =>
                {
                    await firstAcknowledged.Task.WaitAsync(Ct);
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, 1200)), Ct);
                    server.Process.KillHard();
                    await killer.CancelAsync();
                }, Ct);
                for (var calls = 0; calls < 10_000 && !killer.IsCancellationRequested; calls++)
                {
                    var call = sent++;
                    try
                    {
                        await ImportAsync(client, tag, call);
                        acknowledged.Add(call);
                        firstAcknowledged.TrySetResult();
                    }
                    catch (Exception e) when (e is RpcException or IOException)
                    {
                        // The process died during this call: not acknowledged. A kill that lands while the request
                        // stream is being written surfaces as the aborted write's IOException rather than an RpcException.
                        break;
                    }
                }

                // Had the first call already failed, the kill still comes.
                firstAcknowledged.TrySetResult();
                await kill;
                await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(30), Ct);
            }

            acknowledged.Count.ShouldBeGreaterThan(0, "some imports were acknowledged before the kills");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    /// <summary>One import call: <see cref="ItemsPerCall"/> interactions over <see cref="Buyers"/> buyers, keys unique to the call.</summary>
    private static async Task ImportAsync(BuyerService.BuyerServiceClient client, string tag, int call)
    {
        using var stream = client.ImportInteractions(ServerFixture.Deadline(60));
        for (var n = 0; n < ItemsPerCall; n++)
        {
            await stream.RequestStream.WriteAsync(new ImportInteractionsRequest
            {
                Interaction = new Interaction
                {
                    BuyerExternalId = $"kill-{tag}-{n % Buyers}",
                    Type = InteractionType.Purchase,
                    OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-n)),
                    IdempotencyKey = $"{call}-{n}",
                },
            }, Ct);
        }

        await stream.RequestStream.CompleteAsync();
        var response = await stream.ResponseAsync;
        (response.Accepted + response.Duplicates).ShouldBe(ItemsPerCall);
    }

    /// <summary>Every item of the <paramref name="acknowledged"/> calls is stored once; items of other calls at most once.</summary>
    private static async Task AssertStoredOnceAsync(BuyerService.BuyerServiceClient client, string tag, IReadOnlyList<int> acknowledged, int sent)
    {
        var keys = new List<string>();
        var buyers = (await client.ListBuyersAsync(new ListBuyersRequest { PageSize = 1000 }, ServerFixture.Deadline(30))).Buyers
            .Where(b => b.ExternalId.StartsWith($"kill-{tag}-", StringComparison.Ordinal)).ToList();
        buyers.Select(b => b.ExternalId).ShouldBeUnique("a buyer named by external id is created once, even across kills");
        foreach (var buyer in buyers)
        {
            var token = "";
            do
            {
                var page = await client.ListInteractionsAsync(new ListInteractionsRequest { BuyerId = buyer.Id, PageSize = 1000, PageToken = token }, ServerFixture.Deadline(30));
                keys.AddRange(page.Interactions.Select(i => i.IdempotencyKey));
                token = page.NextPageToken;
            }
            while (token.Length > 0);
        }

        keys.ShouldBeUnique("no item is stored twice");
        var stored = keys.ToHashSet(StringComparer.Ordinal);
        foreach (var call in acknowledged)
        {
            Enumerable.Range(0, ItemsPerCall).Count(n => !stored.Contains($"{call}-{n}")).ShouldBe(0, $"every item of acknowledged call {call} survives");
        }

        stored.ShouldAllBe(k => int.Parse(k.Split('-')[0], System.Globalization.CultureInfo.InvariantCulture) < sent);
    }

    private static async Task<RunningServer> StartAsync(string[] storage)
    {
        var port = ServerProcess.FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var process = ServerProcess.Start(["--urls", address.ToString().TrimEnd('/'), "--Security:RateLimit:Enabled", "false", "--Logging:LogLevel:Default", "Warning", .. storage]);
        using var channel = GrpcChannel.ForAddress(address);
        var health = new Health.HealthClient(channel);
        for (var attempt = 0; attempt < 600; attempt++)
        {
            process.HasExited.ShouldBeFalse($"the server stopped: {process.Error}");
            try
            {
                if ((await health.CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline(2))).Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return new RunningServer(process, address);
                }
            }
            catch (RpcException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, Ct);
        }

        throw new TimeoutException("The server did not become ready: " + process.Error);
    }

    private sealed record RunningServer(ServerProcess Process, Uri Address) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }
}
