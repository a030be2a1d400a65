using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>Values a service attaches to the current call for the request log (rule set version).</summary>
public static class RequestTags
{
    private const string RuleSetVersionKey = "advisor.rule_set_version";

    public static void SetRuleSetVersion(ServerCallContext context, string version) =>
        context.GetHttpContext().Items[RuleSetVersionKey] = version;

    public static string? GetRuleSetVersion(ServerCallContext context) =>
        context.GetHttpContext().Items.TryGetValue(RuleSetVersionKey, out var value) ? value as string : null;
}
