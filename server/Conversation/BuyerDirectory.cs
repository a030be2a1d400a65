using Advisor.Server.Classification;

namespace Advisor.Server.Conversation;

public enum BuyerLookupOutcome
{
    NotFound,
    Found,
    Ambiguous,
}

/// <summary>A buyer as Ask refers to it: id and name only; the API fills in the rest.</summary>
public sealed record BuyerReference(string Id, string DisplayName);

/// <summary>The answer to "which buyer is this name?", with the buyer's classification when found.</summary>
public sealed record BuyerLookupResult(
    BuyerLookupOutcome Outcome,
    BuyerReference? Buyer,
    ClassifiedBuyer? Classification,
    IReadOnlyList<BuyerReference> Candidates)
{
    public static readonly BuyerLookupResult NotFound = new(BuyerLookupOutcome.NotFound, null, null, []);
}

/// <summary>Resolves buyer names in questions. The registry provides the real one.</summary>
public interface IBuyerDirectory
{
    Task<BuyerLookupResult> LookupAsync(string name, AdvisorSnapshot snapshot, CancellationToken cancellationToken);
}
