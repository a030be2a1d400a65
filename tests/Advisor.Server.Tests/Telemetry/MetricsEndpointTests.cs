using System.Net;
using System.Net.Sockets;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Tests.Telemetry;

/// <summary>A server with Metrics:Url set, scraped by Prometheus on its own loopback port.</summary>
public sealed class MetricsServerFixture : ServerFixture
{
    public int MetricsPort { get; } = FreePort();

    protected override IEnumerable<string> ExtraArguments => ["--Metrics:Url", $"http://127.0.0.1:{MetricsPort}"];

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The Prometheus endpoint shows the server's counters after real calls.</summary>
public sealed class MetricsEndpointTests(MetricsServerFixture server) : IClassFixture<MetricsServerFixture>
{
    [Fact]
    public async Task Scrape_shows_calls_by_method_and_status_classifications_and_import_rows()
    {
        await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "They pay a monthly retainer and we meet every week." }, ServerFixture.Deadline());
        await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Profile = new BuyerProfile { Offering = Offering.Goods, PurchasesPerYear = 1 } }, ServerFixture.Deadline());
        var invalid = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest(), ServerFixture.Deadline()).ResponseAsync);
        invalid.StatusCode.ShouldBe(StatusCode.InvalidArgument);
        using (var import = new BuyerService.BuyerServiceClient(server.Channel).ImportInteractions(ServerFixture.Deadline()))
        {
            foreach (var key in new[] { "m1", "m2" })
            {
                await import.RequestStream.WriteAsync(new ImportInteractionsRequest
                {
                    Interaction = new Interaction
                    {
                        BuyerDisplayName = "Metrics Buyer",
                        Type = InteractionType.Purchase,
                        OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddDays(-1)),
                        IdempotencyKey = key,
                    },
                }, TestContext.Current.CancellationToken);
            }

            await import.RequestStream.CompleteAsync();
            (await import.ResponseAsync).Accepted.ShouldBe(2);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync($"http://127.0.0.1:{server.MetricsPort}/metrics", TestContext.Current.CancellationToken);

        var lines = text.Split('\n');
        lines.ShouldContain(l => l.StartsWith("advisor_rpc_requests_total{", StringComparison.Ordinal)
            && l.Contains("rpc_method=\"/advisor.v1.AdvisorService/ClassifyBuyer\"", StringComparison.Ordinal)
            && l.Contains("rpc_grpc_status_code=\"OK\"", StringComparison.Ordinal) && Value(l) >= 2);
        lines.ShouldContain(l => l.StartsWith("advisor_rpc_requests_total{", StringComparison.Ordinal) && l.Contains("rpc_grpc_status_code=\"InvalidArgument\"", StringComparison.Ordinal));
        lines.ShouldContain(l => l.StartsWith("advisor_rpc_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("ClassifyBuyer", StringComparison.Ordinal));
        lines.ShouldContain(l => l.StartsWith("advisor_classifications_total{", StringComparison.Ordinal)
            && l.Contains("kind=\"client\"", StringComparison.Ordinal) && l.Contains("rule_set_version=\"", StringComparison.Ordinal) && l.Contains("subject=\"description\"", StringComparison.Ordinal));
        lines.ShouldContain(l => l.StartsWith("advisor_classifications_total{", StringComparison.Ordinal) && l.Contains("subject=\"profile\"", StringComparison.Ordinal));
        lines.ShouldContain(l => l.StartsWith("advisor_import_rows_total{", StringComparison.Ordinal) && l.Contains("outcome=\"accepted\"", StringComparison.Ordinal) && Value(l) >= 2);
    }

    /// <summary>
    /// A sample's value. At least, not exactly: OpenTelemetry listens to meters by name across the
    /// process, so servers of other test classes running at the same time add to the same series.
    /// </summary>
    private static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_service_port_does_not_serve_metrics()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Address, "/metrics"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
