using Advisor.Bot.Discord;
using Advisor.Bot.Slack;
using Advisor.Server.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Advisor.Bot.Hosting;

/// <summary>Builds the bot. Used by <c>Program.cs</c> and by tests, so both run exactly the same composition.</summary>
public static class BotHost
{
    /// <summary>Loopback by default: put a TLS-terminating proxy or tunnel in front for Slack and Discord.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5090";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // Slack and Discord post plain HTTP/1.1 webhooks.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http1));

        // Per-request framework logs add nothing here; our own logs say what matters (never secrets).
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        SkipRequestActivities(builder.Logging);
        builder.Services.AddAdvisorBotCore(builder.Configuration);
        builder.Services.AddSlackAdapter(builder.Configuration);
        builder.Services.AddDiscordAdapter(builder.Configuration);
        builder.AddAdvisorTelemetry("advisor-bot", Telemetry.BotMetrics.MeterName);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapAdvisorMetrics();
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapSlackEndpoints();
        app.MapDiscordEndpoints();
        return app;
    }

    /// <summary>
    /// ASP.NET Core starts an <see cref="System.Diagnostics.Activity"/> and a log scope for every request whenever its
    /// hosting log category is enabled at any level, Critical included, so that log lines can carry a trace id; with
    /// traces on, it starts them for the trace listeners anyway. Here nothing reads them without traces: the bot's
    /// webhook then sends a traceparent to the advisory service, whose host starts a second activity from it, and the
    /// gRPC client starts a third. About 3 per cent of a slash command's CPU (docs/benchmarks.md, "Slack slash command:
    /// CPU per request"). The category only logs request start and end (Information, filtered out already) and start-up
    /// failures, which still fail the start and reach the console through the exception.
    /// </summary>
    public static void SkipRequestActivities(ILoggingBuilder logging) =>
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

    public static async Task<int> RunWebAsync(string[] args, CancellationToken cancellationToken)
    {
        await using var app = Build(args);
        await app.StartAsync(cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    /// <summary>A host without a web server, for the console commands; logs go to stderr so stdout stays the answer.</summary>
    public static IHost BuildConsole(string[] args, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddAdvisorBotCore(builder.Configuration);
        builder.Services.AddDiscordAdapter(builder.Configuration);
        configure?.Invoke(builder);
        return builder.Build();
    }
}
