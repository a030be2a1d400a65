namespace Advisor.Server.Classification;

/// <summary>Classifies a buyer from the registry by id. The buyer registry provides it.</summary>
public interface IRegisteredBuyerClassifier
{
    /// <summary>The buyer's classification, or null when there is no such buyer.</summary>
    Task<ClassifiedBuyer?> ClassifyAsync(string buyerId, AdvisorSnapshot snapshot, string? industryHint, Knowledge.StrategyStage stage, CancellationToken cancellationToken);
}

/// <summary>Used when no registry is wired: no buyer exists.</summary>
public sealed class NoRegisteredBuyers : IRegisteredBuyerClassifier
{
    public Task<ClassifiedBuyer?> ClassifyAsync(string buyerId, AdvisorSnapshot snapshot, string? industryHint, Knowledge.StrategyStage stage, CancellationToken cancellationToken) =>
        Task.FromResult<ClassifiedBuyer?>(null);
}
