using System.Net.Sockets;
using System.Text;
using Advisor.Bot.Conversation;
using Advisor.Bot.Hosting;
using Advisor.Bot.Slack;
using Advisor.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NSec.Cryptography;

namespace Advisor.Bot.Tests.Infrastructure;

/// <summary>The real bot on a loopback port, wired to a fake platform API and to an advisory server.</summary>
public sealed class BotUnderTest : IAsyncDisposable
{
    public const string SigningSecret = "8f742231b10e8888abcd99yyyzzz85a5-test";
    public const string BotToken = "xoxb-test-token";
    public const string ApplicationId = "1000000000000000001";
    public const string DiscordBotToken = "discord-test-bot-token";

    private readonly WebApplication _app;
    private readonly Key _discordKey;

    private BotUnderTest(WebApplication app, FakePlatformApi api, Key discordKey)
    {
        _app = app;
        Api = api;
        _discordKey = discordKey;
        Http = new HttpClient { BaseAddress = app.GetListeningAddress(), Timeout = TimeSpan.FromSeconds(10) };
    }

    public FakePlatformApi Api { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a bot; pass "--Slack:AnswerBudget", "00:00:00" and the like to change its configuration.</summary>
    public static async Task<BotUnderTest> StartAsync(Uri advisorAddress, params string[] extra)
    {
        var api = await FakePlatformApi.StartAsync();
        var key = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var publicKey = Convert.ToHexStringLower(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        var apiBase = api.BaseAddress.ToString().TrimEnd('/');
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--Advisor:ServerAddress", advisorAddress.ToString(),
            "--Slack:SigningSecret", SigningSecret,
            "--Slack:BotToken", BotToken,
            "--Slack:ApiBaseUrl", apiBase + "/api",
            "--Discord:PublicKey", publicKey,
            "--Discord:ApplicationId", ApplicationId,
            "--Discord:BotToken", DiscordBotToken,
            "--Discord:ApiBaseUrl", apiBase + "/api/v10",
            .. extra,
        ];
        var app = BotHost.Build(args, builder => builder.Logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new BotUnderTest(app, api, key);
    }

    /// <summary>An address nothing listens on: an advisory service that is down.</summary>
    public static Uri UnusedAddress()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }

    public Reply Remember(Reply reply, ReplySubject subject) => Services.GetRequiredService<ReplyMemory>().Remember(reply, subject);

    public string ResponseUrl(string name) => new Uri(Api.BaseAddress, $"/response/{name}").ToString();

    // ---- Slack ----

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public Task<HttpResponseMessage> SlackAsync(string path, string body, string contentType, long? timestamp = null, string? signature = null, bool unsigned = false, int? retry = null)
    {
        var ts = (timestamp ?? Now).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (!unsigned)
        {
            request.Headers.Add("X-Slack-Request-Timestamp", ts);
            request.Headers.Add("X-Slack-Signature", signature ?? SlackSignature.Sign(SigningSecret, ts, Encoding.UTF8.GetBytes(body)));
        }

        if (retry is { } n)
        {
            request.Headers.Add("X-Slack-Retry-Num", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-Slack-Retry-Reason", "http_timeout");
        }

        return Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public Task<HttpResponseMessage> SlashCommandAsync(string text, string? responseUrl = null, string user = "U111") =>
        SlackAsync("/slack/commands", Form(
            ("token", "legacy"), ("team_id", "T1"), ("channel_id", "C1"), ("user_id", user), ("command", "/advisor"),
            ("text", text), ("response_url", responseUrl ?? ResponseUrl("cmd")), ("trigger_id", "1.2.3")), "application/x-www-form-urlencoded");

    public Task<HttpResponseMessage> SlackEventAsync(string json, int? retry = null) => SlackAsync("/slack/events", json, "application/json", retry: retry);

    public Task<HttpResponseMessage> SlackButtonAsync(string value, string responseUrl, string user = "U111")
    {
        var payload = new System.Text.Json.Nodes.JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new System.Text.Json.Nodes.JsonObject { ["id"] = user },
            ["channel"] = new System.Text.Json.Nodes.JsonObject { ["id"] = "C1" },
            ["response_url"] = responseUrl,
            ["actions"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["type"] = "button", ["action_id"] = value, ["value"] = value }),
        };
        return SlackAsync("/slack/interactions", Form(("payload", payload.ToJsonString())), "application/x-www-form-urlencoded");
    }

    public static string Form(params (string Name, string Value)[] fields) =>
        string.Join('&', fields.Select(f => Uri.EscapeDataString(f.Name) + "=" + Uri.EscapeDataString(f.Value)));

    // ---- Discord ----

    public Task<HttpResponseMessage> DiscordAsync(string json, bool forge = false, bool unsigned = false)
    {
        var timestamp = Now.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, "/discord/interactions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (!unsigned)
        {
            var signed = Encoding.UTF8.GetBytes(timestamp + (forge ? json + " " : json));
            request.Headers.Add("X-Signature-Ed25519", Convert.ToHexStringLower(SignatureAlgorithm.Ed25519.Sign(_discordKey, signed)));
            request.Headers.Add("X-Signature-Timestamp", timestamp);
        }

        return Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        await Api.DisposeAsync();
        _discordKey.Dispose();
    }
}
