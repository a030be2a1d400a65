using System.Collections.Frozen;

namespace Advisor.Server.Security;

/// <summary>
/// The one table of who may call what. Health and reflection are open; every advisor.v1 method names the
/// least role that may call it; a method missing from the table needs admin, so a new RPC is never open by accident.
/// </summary>
public static class MethodPolicy
{
    private static readonly FrozenDictionary<string, Role> Table = new Dictionary<string, Role>(StringComparer.Ordinal)
    {
        // Answers: what every front end (the chat bot included) needs. Feedback is part of reading an answer.
        ["/advisor.v1.AdvisorService/ClassifyBuyer"] = Role.Reader,
        ["/advisor.v1.AdvisorService/SuggestStrategies"] = Role.Reader,
        ["/advisor.v1.AdvisorService/Ask"] = Role.Reader,
        ["/advisor.v1.AdvisorService/SubmitFeedback"] = Role.Reader,
        ["/advisor.v1.AdvisorService/ListFeedback"] = Role.Admin,
        ["/advisor.v1.KnowledgeService/ListTopics"] = Role.Reader,
        ["/advisor.v1.KnowledgeService/GetTopic"] = Role.Reader,

        // The buyer registry: reading for readers, changing for writers.
        ["/advisor.v1.BuyerService/GetBuyer"] = Role.Reader,
        ["/advisor.v1.BuyerService/ListBuyers"] = Role.Reader,
        ["/advisor.v1.BuyerService/SearchBuyers"] = Role.Reader,
        ["/advisor.v1.BuyerService/ListInteractions"] = Role.Reader,
        ["/advisor.v1.BuyerService/ListClassificationChanges"] = Role.Reader,
        ["/advisor.v1.BuyerService/CreateBuyer"] = Role.Writer,
        ["/advisor.v1.BuyerService/UpdateBuyer"] = Role.Writer,
        ["/advisor.v1.BuyerService/DeleteBuyer"] = Role.Writer,
        ["/advisor.v1.BuyerService/RecordInteraction"] = Role.Writer,
        ["/advisor.v1.BuyerService/ImportInteractions"] = Role.Writer,

        // Rule sets, the audit log and keys change how every answer is made, or who may ask: admin only.
        ["/advisor.v1.RulesService/GetRuleSet"] = Role.Admin,
        ["/advisor.v1.RulesService/ListRuleSetVersions"] = Role.Admin,
        ["/advisor.v1.RulesService/CreateRuleSetDraft"] = Role.Admin,
        ["/advisor.v1.RulesService/ValidateRuleSet"] = Role.Admin,
        ["/advisor.v1.RulesService/BacktestRuleSet"] = Role.Admin,
        ["/advisor.v1.RulesService/PublishRuleSet"] = Role.Admin,
        ["/advisor.v1.RulesService/RollbackRuleSet"] = Role.Admin,
        ["/advisor.v1.RulesService/ListAuditEntries"] = Role.Admin,
        ["/advisor.v1.ApiKeyService/CreateApiKey"] = Role.Admin,
        ["/advisor.v1.ApiKeyService/ListApiKeys"] = Role.Admin,
        ["/advisor.v1.ApiKeyService/RevokeApiKey"] = Role.Admin,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] OpenPrefixes = ["/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/"];

    /// <summary>Methods anyone may call without a key: health checks for load balancers, reflection for tools.</summary>
    public static bool IsOpen(string method)
    {
        // Every call asks this: a plain loop, so the check allocates nothing (a LINQ lambda here captured the method per call).
        foreach (var prefix in OpenPrefixes)
        {
            if (method.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The least role that may call <paramref name="method"/> (a gRPC path, "/package.Service/Method").</summary>
    public static Role Required(string method) => Table.TryGetValue(method, out var role) ? role : Role.Admin;

    /// <summary>Whether the table names the method (a test checks every method of the contract is named).</summary>
    public static bool Names(string method) => Table.ContainsKey(method);
}
