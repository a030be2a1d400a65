using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Advisor.Bot.Tests.Infrastructure;

namespace Advisor.Bot.Tests.Telemetry;

/// <summary>The bot's metrics endpoint and the trace that runs from a Slack webhook through the gRPC call.</summary>
public sealed class BotTelemetryTests(AdvisorServerFixture server)
{
    [Fact]
    public async Task Scrape_shows_rejected_webhooks_and_upstream_call_latency()
    {
        var port = FreePort();
        await using var bot = await BotUnderTest.StartAsync(server.Address, "--Metrics:Url", $"http://127.0.0.1:{port}");

        (await bot.SlackAsync("/slack/commands", "text=help", "application/x-www-form-urlencoded", unsigned: true)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await bot.SlashCommandAsync("client vs customer?")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Series are per meter name across the process, so other tests' rejected requests may add to this one: present is what counts.
        // The answer may finish after the acknowledgement (at the response URL): scrape until its call is recorded, 20 s at most.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string[] lines = [];
        for (var attempt = 0; attempt < 100 && !lines.Any(l => l.StartsWith("advisor_bot_upstream_duration_seconds_count{", StringComparison.Ordinal)); attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 200, TestContext.Current.CancellationToken);
            lines = (await http.GetStringAsync($"http://127.0.0.1:{port}/metrics", TestContext.Current.CancellationToken)).Split('\n');
        }

        lines.ShouldContain(l => l.StartsWith("advisor_bot_webhook_verification_failures_total{", StringComparison.Ordinal)
            && l.Contains("platform=\"slack\"", StringComparison.Ordinal));
        lines.ShouldContain(l => l.StartsWith("advisor_bot_upstream_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("rpc_method=\"/advisor.v1.AdvisorService/Ask\"", StringComparison.Ordinal) && l.Contains("rpc_grpc_status_code=\"OK\"", StringComparison.Ordinal),
            string.Join('\n', lines.Where(l => l.StartsWith("advisor", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task A_webhook_and_the_grpc_call_it_makes_share_one_trace()
    {
        // Trace export is on (OTLP to a port nobody listens on); this listener sees the spans both hosts start.
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var bot = await BotUnderTest.StartAsync(server.Address, "--OTEL_EXPORTER_OTLP_ENDPOINT", $"http://127.0.0.1:{FreePort()}");

        var traceId = ActivityTraceId.CreateRandom();
        var parent = ActivitySpanId.CreateRandom();
        var body = BotUnderTest.Form(("team_id", "T1"), ("channel_id", "C1"), ("user_id", "U1"), ("command", "/advisor"), ("text", "client vs customer?"));
        var timestamp = BotUnderTest.Now.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/slack/commands") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
        request.Headers.Add("X-Slack-Signature", Advisor.Bot.Slack.SlackSignature.Sign(BotUnderTest.SigningSecret, timestamp, System.Text.Encoding.UTF8.GetBytes(body)));
        request.Headers.Add("traceparent", $"00-{traceId}-{parent}-01");
        var response = await bot.Http.SendAsync(request, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        // A span is reported when it stops, and the webhook's stops after its response has been sent: the client can
        // read the whole answer (it carries a Content-Length) a moment before the bot's span ends. Wait for it, 10 s at most.
        bool Complete(List<Activity> found) =>
            found.Any(s => s.ParentSpanId == parent)
            && found.Any(s => s.ParentSpanId != parent && (s.GetTagItem("url.path") as string ?? s.DisplayName).Contains("/advisor.v1.AdvisorService/Ask", StringComparison.Ordinal));
        var inTrace = spans.Where(s => s.TraceId == traceId).ToList();
        for (var attempt = 0; attempt < 100 && !Complete(inTrace); attempt++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            inTrace = spans.Where(s => s.TraceId == traceId).ToList();
        }

        inTrace.ShouldContain(s => s.ParentSpanId == parent, "the bot's webhook span continues the caller's trace");
        inTrace.ShouldContain(s => s.ParentSpanId != parent && (s.GetTagItem("url.path") as string ?? s.DisplayName).Contains("/advisor.v1.AdvisorService/Ask", StringComparison.Ordinal),
            "the server's span for the gRPC call is in the same trace");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
