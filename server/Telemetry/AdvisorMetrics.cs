using System.Diagnostics;
using System.Diagnostics.Metrics;
using Advisor.Server.Classification;
using Grpc.Core;

namespace Advisor.Server.Telemetry;

/// <summary>
/// The server's own instruments (meter <see cref="MeterName"/>): calls and their latency per RPC and
/// status, classifications by kind and rule set version, and imported rows by outcome. One instance
/// per host (created through <see cref="IMeterFactory"/>), so parallel test servers never mix counts.
/// </summary>
public sealed class AdvisorMetrics
{
    public const string MeterName = "Advisor.Server";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _classifications;
    private readonly Counter<long> _importRows;

    public AdvisorMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("advisor.rpc.requests", "{request}", "gRPC calls handled, by method and status code.");
        _duration = meter.CreateHistogram<double>(
            "advisor.rpc.duration",
            "s",
            "Time to handle a gRPC call, by method and status code.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _classifications = meter.CreateCounter<long>("advisor.classifications", "{classification}", "Classifications made, by kind, rule set version and subject.");
        _importRows = meter.CreateCounter<long>("advisor.import.rows", "{row}", "Interaction rows received by imports, by outcome (accepted, duplicate, rejected).");
    }

    public void RecordCall(string method, StatusCode status, TimeSpan elapsed)
    {
        // Nothing listens unless metrics are exported: then building tags is all the call would cost.
        if (!_requests.Enabled && !_duration.Enabled)
        {
            return;
        }

        var tags = new TagList { { "rpc.method", method }, { "rpc.grpc.status_code", status.ToString() } };
        _requests.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
    }

    /// <param name="subject">What was classified: description, profile, buyer or question.</param>
    public void RecordClassification(Kind kind, string ruleSetVersion, string subject)
    {
        if (_classifications.Enabled)
        {
            _classifications.Add(1, new TagList { { "kind", kind.Name() }, { "rule_set_version", ruleSetVersion }, { "subject", subject } });
        }
    }

    /// <summary>For importers: counts rows once an import's outcome is known.</summary>
    public void RecordImportRows(long accepted, long duplicates, long rejected)
    {
        if (accepted > 0)
        {
            _importRows.Add(accepted, new KeyValuePair<string, object?>("outcome", "accepted"));
        }

        if (duplicates > 0)
        {
            _importRows.Add(duplicates, new KeyValuePair<string, object?>("outcome", "duplicate"));
        }

        if (rejected > 0)
        {
            _importRows.Add(rejected, new KeyValuePair<string, object?>("outcome", "rejected"));
        }
    }
}
