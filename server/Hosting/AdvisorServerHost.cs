using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.Memory;

namespace Advisor.Server.Hosting;

/// <summary>
/// Builds the advisory server. Used by <c>Program.cs</c>, by the bot when it hosts the
/// server in-process, and by tests, so all three run exactly the same composition.
/// </summary>
public static class AdvisorServerHost
{
    /// <summary>Loopback by default: a fresh server is never reachable from the network by accident.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // Data files and settings are found next to the binary, whatever the working directory.
            ContentRootPath = AppContext.BaseDirectory,
        });

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
            // gRPC over plain text needs HTTP/2 with prior knowledge, which Kestrel only offers on HTTP/2-only
            // endpoints; the optional metrics port is HTTP/1.1 for Prometheus.
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols =
                Telemetry.TelemetrySetup.IsMetricsPort(builder.Configuration, listen) ? HttpProtocols.Http1 : HttpProtocols.Http2));

        // ASP.NET Core starts an Activity (a W3C trace id, Activity.Current set and restored through the execution
        // context) and a log scope for every request whenever this category is enabled at any level, Critical included,
        // so that log lines could carry them; the console logger prints no scopes, and with traces on (OTLP) the trace
        // listener still has every request's activity started. The category only logs request start and end
        // (Information). Measured under the load tool: about a tenth of a Health/Check's server allocations
        // (docs/benchmarks.md, "Tail latency at 64 concurrent calls"). The bot's host does the same.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        // ASP.NET Core's routing logs "Executing endpoint" and "Executed endpoint" at Information for every call: two
        // lines that repeat the server's own request line. Under the load tool a server started with the defaults spent
        // 76-90 us of CPU per Health/Check with them and 67-87 us without (48-50 us with logging at Warning; docs/
        // benchmarks.md, quiet run after the ninth session). Warning is the usual template default for this category;
        // it goes in as the first configuration source, so appsettings, the environment and the command line still
        // set it (Logging:LogLevel:Microsoft.AspNetCore).
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new("Logging:LogLevel:Microsoft.AspNetCore", nameof(LogLevel.Warning))],
        });
        builder.AddAdvisorServer();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapAdvisorServer();
        return app;
    }

    /// <summary>The first address the server is listening on, once started (resolves port 0).</summary>
    public static Uri GetListeningAddress(this WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault(a => !Telemetry.TelemetrySetup.IsMetricsAddress(app.Services, new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)))) ?? throw new InvalidOperationException("The server is not listening yet.");
        return new Uri(first.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }
}
