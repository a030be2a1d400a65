using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Advisor.LoadTest;

/// <summary>
/// Slack mode: slash commands signed the way Slack signs them (HMAC-SHA256 over "v0:{timestamp}:{body}")
/// posted to the bot's /slack/commands, measured to the HTTP 200 that Slack waits for (3 s at most).
/// </summary>
/// <remarks>
/// The bot's webhook speaks HTTP/1.1, one request at a time per connection, as Slack's requests arrive; so the tool
/// opens one connection per concurrent request. (It used to share 4 connections among all of them: at 100
/// "concurrent" requests 96 waited in the tool's own connection queue, and that wait was reported as bot latency.)
/// </remarks>
public sealed class SlackLoad(Uri bot, string secret, int concurrency, int? botPid = null)
{
    public async Task<ScenarioResult> RunAsync(SampleData data, TimeSpan warmup, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = bot, Timeout = TimeSpan.FromSeconds(30) };
        if (warmup > TimeSpan.Zero)
        {
            _ = await MeasureAsync(http, data, warmup, cancellationToken);
        }

        return await MeasureAsync(http, data, duration, cancellationToken);
    }

    public static string Sign(string secret, string timestamp, string body) =>
        "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}")));

    private async Task<ScenarioResult> MeasureAsync(HttpClient http, SampleData data, TimeSpan duration, CancellationToken cancellationToken)
    {
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var botCpu = botPid is { } pid ? ProcessCpu.Reading.Take(pid) : default;
        var toolCpu = ProcessCpu.Reading.Take(Environment.ProcessId);
        var started = Stopwatch.GetTimestamp();
        long sequence = 0;
        var latencies = new List<long>[concurrency];
        var codes = new Dictionary<string, long>[concurrency];
        var tasks = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = [];
            var errors = codes[w] = new Dictionary<string, long>(StringComparer.Ordinal);
            while (Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref sequence);
                var text = data.Questions[(int)(i % data.Questions.Count)];
                var body = $"token=unused&team_id=T0LOAD&channel_id=C0LOAD&user_id=U{i % 50:D4}&command=%2Fadvisor&text={Uri.EscapeDataString(text)}&trigger_id=load.{i}";
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                using var request = new HttpRequestMessage(HttpMethod.Post, "/slack/commands")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
                };
                request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
                request.Headers.Add("X-Slack-Signature", Sign(secret, timestamp, body));
                var begin = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.SendAsync(request, cancellationToken);
                    _ = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    mine.Add(Stopwatch.GetTimestamp() - begin);
                    if ((int)response.StatusCode != 200)
                    {
                        errors["HTTP " + (int)response.StatusCode] = errors.GetValueOrDefault("HTTP " + (int)response.StatusCode) + 1;
                    }
                }
                catch (HttpRequestException ex)
                {
                    errors["transport: " + ex.HttpRequestError] = errors.GetValueOrDefault("transport: " + ex.HttpRequestError) + 1;
                }
            }
        }, cancellationToken));
        await Task.WhenAll(tasks);

        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        var merged = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (code, count) in codes.SelectMany(c => c))
        {
            merged[code] = merged.GetValueOrDefault(code) + count;
        }

        var ok = all.Length - merged.Where(e => e.Key.StartsWith("HTTP", StringComparison.Ordinal)).Sum(e => e.Value);
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        double P(double p) => all.Length == 0 ? 0 : Ms(all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)]);
        var transport = merged.Where(e => !e.Key.StartsWith("HTTP", StringComparison.Ordinal)).Sum(e => e.Value);
        return new ScenarioResult("slack-command", "POST /slack/commands (signed)", null, all.Length + transport, ok, ok / elapsed, ok / elapsed, "calls",
            P(0.5), P(0.9), P(0.99), all.Length == 0 ? 0 : Ms(all[^1]), merged)
        {
            ServerCpuUsPerCall = botPid is null ? null : botCpu.PerCallUs(all.Length + transport),
            ToolCpuUsPerCall = toolCpu.PerCallUs(all.Length + transport),
        };
    }
}
