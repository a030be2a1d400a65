using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Advisor.Server.Telemetry;

/// <summary>Configuration section <c>Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>
    /// Where the Prometheus scrape endpoint (<c>/metrics</c>, HTTP/1.1) listens, e.g. http://127.0.0.1:9464.
    /// Empty (the default) turns it off. It is a port of its own, never the service port.
    /// </summary>
    public string? Url { get; set; }

    public Uri? Address => string.IsNullOrWhiteSpace(Url) ? null : new Uri(Url);
}

/// <summary>
/// OpenTelemetry for the server and the bot: the given meters and ASP.NET Core's, scraped by
/// Prometheus on <see cref="MetricsOptions.Url"/> and/or pushed over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (traces too, so a bot webhook and the gRPC call it makes
/// share one trace). With neither configured nothing is collected.
/// </summary>
public static class TelemetrySetup
{
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddAdvisorTelemetry(this WebApplicationBuilder builder, string serviceName, params string[] meters)
    {
        var options = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        if (!string.IsNullOrWhiteSpace(options.Url)
            && (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttp || url.IsDefaultPort || url.AbsolutePath != "/"))
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(
                MetricsOptions.Section, typeof(MetricsOptions), [$"Metrics:Url must be an http address with a port and no path, e.g. http://127.0.0.1:9464 (was '{options.Url}')."]);
        }

        builder.Services.AddSingleton(options);
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]);
        if (options.Address is { } address)
        {
            // The scrape port is one more listener; the host speaks HTTP/1.1 on it (see IsMetricsPort).
            var urls = builder.Configuration["urls"] ?? builder.Configuration["ASPNETCORE_URLS"];
            builder.WebHost.UseUrls([.. (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), address.GetLeftPart(UriPartial.Authority)]);
        }

        if (options.Address is null && !otlp)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService(serviceName));
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(meters).AddAspNetCoreInstrumentation();
            if (options.Address is not null)
            {
                metrics.AddPrometheusExporter();
            }

            if (otlp)
            {
                metrics.AddOtlpExporter();
            }
        });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddSource("Grpc.Net.Client").AddOtlpExporter());
        }

        return builder;
    }

    /// <summary>Serves /metrics on the metrics port only, when one is configured.</summary>
    public static WebApplication MapAdvisorMetrics(this WebApplication app)
    {
        if (app.Services.GetRequiredService<MetricsOptions>().Address is { } address)
        {
            app.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{address.Port}");
        }

        return app;
    }

    /// <summary>Whether a Kestrel endpoint is the metrics port, which speaks HTTP/1.1 whatever the host's other endpoints speak.</summary>
    public static bool IsMetricsPort(IConfiguration configuration, ListenOptions listen) =>
        Uri.TryCreate(configuration[MetricsOptions.Section + ":Url"], UriKind.Absolute, out var metrics) && listen.IPEndPoint?.Port == metrics.Port;

    /// <summary>Whether a listening address is the metrics port (so callers looking for the service port skip it).</summary>
    public static bool IsMetricsAddress(IServiceProvider services, Uri address) =>
        services.GetService<MetricsOptions>()?.Address is { } metrics && metrics.Port == address.Port;
}
