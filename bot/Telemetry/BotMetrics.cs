using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Advisor.Bot.Telemetry;

/// <summary>The bot's instruments (meter <see cref="MeterName"/>): rejected webhooks and calls to the advisory service.</summary>
public sealed class BotMetrics
{
    public const string MeterName = "Advisor.Bot";

    private readonly Counter<long> _verificationFailures;
    private readonly Counter<long> _answersRejected;
    private readonly Histogram<double> _upstream;

    public BotMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _verificationFailures = meter.CreateCounter<long>(
            "advisor.bot.webhook.verification_failures", "{request}", "Webhook requests rejected for a missing, invalid or expired signature, by platform.");
        _answersRejected = meter.CreateCounter<long>(
            "advisor.bot.answers.rejected", "{request}", "Questions answered with 'busy' because too many were waiting for a turn, by platform.");
        _upstream = meter.CreateHistogram<double>(
            "advisor.bot.upstream.duration",
            "s",
            "Time of each call from the bot to the advisory service, by method and status code.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    public void VerificationFailed(string platform) => _verificationFailures.Add(1, new KeyValuePair<string, object?>("platform", platform));

    public void AnswerRejected(string platform) => _answersRejected.Add(1, new KeyValuePair<string, object?>("platform", platform));

    /// <summary>Whether anything collects <see cref="UpstreamCall"/> (a metrics endpoint or OTLP is configured).</summary>
    public bool UpstreamTimed => _upstream.Enabled;

    public void UpstreamCall(string method, StatusCode status, TimeSpan elapsed) =>
        _upstream.Record(elapsed.TotalSeconds, new TagList { { "rpc.method", method }, { "rpc.grpc.status_code", status.ToString() } });
}

/// <summary>Times every unary call the bot makes to the advisory service, retries included, with its final status.</summary>
public sealed class UpstreamMetricsInterceptor(BotMetrics metrics) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        // Nothing collects the timings unless metrics are configured: then the call is not wrapped in a second task.
        if (!metrics.UpstreamTimed)
        {
            return continuation(request, context);
        }

        var started = Stopwatch.GetTimestamp();
        var call = continuation(request, context);
        return new AsyncUnaryCall<TResponse>(Timed(call.ResponseAsync, context.Method.FullName, started), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    private async Task<TResponse> Timed<TResponse>(Task<TResponse> response, string method, long started)
    {
        try
        {
            var result = await response;
            metrics.UpstreamCall(method, StatusCode.OK, Stopwatch.GetElapsedTime(started));
            return result;
        }
        catch (RpcException ex)
        {
            metrics.UpstreamCall(method, ex.StatusCode, Stopwatch.GetElapsedTime(started));
            throw;
        }
    }
}
