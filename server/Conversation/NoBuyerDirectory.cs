using Advisor.Server.Classification;

namespace Advisor.Server.Conversation;

/// <summary>Used when no registry is wired: every name is honestly unknown.</summary>
public sealed class NoBuyerDirectory : IBuyerDirectory
{
    public Task<BuyerLookupResult> LookupAsync(string name, AdvisorSnapshot snapshot, CancellationToken cancellationToken) =>
        Task.FromResult(BuyerLookupResult.NotFound);
}
