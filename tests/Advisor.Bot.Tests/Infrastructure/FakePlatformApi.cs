using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Advisor.Bot.Tests.Infrastructure;

public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}

public sealed record FakeResponse(int Status, string Body, params (string Name, string Value)[] Headers);

/// <summary>
/// A fake Slack Web API and Discord API on loopback: records every request, answers like the real thing
/// (ok:true, stored command lists), and can be told to answer one matching request differently (a 429).
/// </summary>
public sealed class FakePlatformApi : IAsyncDisposable
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<(Func<RecordedRequest, bool> Match, FakeResponse Response)> _once = new();
    private readonly Lock _lock = new();
    private readonly WebApplication _app;
    private JsonArray _commands = [];

    private FakePlatformApi(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>The commands Discord "has" (set by tests, replaced by PUT).</summary>
    public JsonArray Commands
    {
        get
        {
            lock (_lock)
            {
                return (JsonArray)_commands.DeepClone();
            }
        }

        set
        {
            lock (_lock)
            {
                _commands = value;
            }
        }
    }

    public static async Task<FakePlatformApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakePlatformApi(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        fake.BaseAddress = new Uri(app.Urls.First());
        return fake;
    }

    public void RespondOnce(Func<RecordedRequest, bool> match, FakeResponse response) => _once.Enqueue((match, response));

    public async Task<RecordedRequest> WaitForAsync(Func<RecordedRequest, bool> match, TimeSpan? timeout = null) =>
        (await WaitForCountAsync(match, 1, timeout))[0];

    /// <summary>Waits until at least <paramref name="count"/> requests match (10 s at most), and returns them.</summary>
    public async Task<IReadOnlyList<RecordedRequest>> WaitForCountAsync(Func<RecordedRequest, bool> match, int count, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var found = Requests.Where(match).ToList();
            if (found.Count >= count)
            {
                return found;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Expected {count} matching request(s), saw {found.Count}. All: {string.Join(", ", Requests.Select(r => r.Method + " " + r.Path))}");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var request = new RecordedRequest(
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body);
        _requests.Enqueue(request);

        var response = TakeScripted(request) ?? Default(request);
        context.Response.StatusCode = response.Status;
        foreach (var (name, value) in response.Headers)
        {
            context.Response.Headers[name] = value;
        }

        context.Response.ContentType = response.Body.StartsWith('{') || response.Body.StartsWith('[') ? "application/json" : "text/plain";
        await context.Response.WriteAsync(response.Body, context.RequestAborted);
    }

    private FakeResponse? TakeScripted(RecordedRequest request)
    {
        lock (_lock)
        {
            var pending = _once.ToArray();
            for (var i = 0; i < pending.Length; i++)
            {
                if (pending[i].Match(request))
                {
                    _once.Clear();
                    foreach (var (item, index) in pending.Select((p, index) => (p, index)).Where(x => x.index != i))
                    {
                        _once.Enqueue(item);
                    }

                    return pending[i].Response;
                }
            }

            return null;
        }
    }

    private FakeResponse Default(RecordedRequest request)
    {
        if (request.Path.EndsWith("/chat.postMessage", StringComparison.Ordinal))
        {
            return new FakeResponse(200, """{"ok":true,"channel":"C1","ts":"1700000000.000200"}""");
        }

        if (request.Path.EndsWith("/commands", StringComparison.Ordinal) && request.Method == "GET")
        {
            return new FakeResponse(200, Commands.ToJsonString());
        }

        if (request.Path.EndsWith("/commands", StringComparison.Ordinal) && request.Method == "PUT")
        {
            var put = JsonNode.Parse(request.Body)!.AsArray();
            foreach (var command in put.OfType<JsonObject>())
            {
                // Discord adds its own fields; the bot must ignore them when comparing.
                command["id"] = "1100000000000000001";
                command["application_id"] = "1000000000000000001";
                command["version"] = "1100000000000000002";
                command["default_member_permissions"] = null;
            }

            Commands = put;
            return new FakeResponse(200, put.ToJsonString());
        }

        if (request.Path.StartsWith("/api/v10/webhooks/", StringComparison.Ordinal))
        {
            return new FakeResponse(200, """{"id":"1200000000000000001"}""");
        }

        return new FakeResponse(200, "ok");
    }
}
