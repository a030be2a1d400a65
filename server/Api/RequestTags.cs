using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>
/// Values a service attaches to the current call for the request log (rule set version). Kept only while the request
/// log writes its line (<see cref="RequestLoggingInterceptor"/>, Information): storing the first value creates the
/// request's Items dictionary (a few hundred bytes and a hash insert per ClassifyBuyer), which nothing reads when that
/// line is off, as it is under the load tool and wherever the log level is Warning.
/// </summary>
public sealed class RequestTags(ILogger<RequestLoggingInterceptor> requestLog)
{
    private const string RuleSetVersionKey = "advisor.rule_set_version";

    public void SetRuleSetVersion(ServerCallContext context, string version)
    {
        if (requestLog.IsEnabled(LogLevel.Information))
        {
            context.GetHttpContext().Items[RuleSetVersionKey] = version;
        }
    }

    public static string? GetRuleSetVersion(ServerCallContext context) =>
        context.GetHttpContext().Items.TryGetValue(RuleSetVersionKey, out var value) ? value as string : null;
}
