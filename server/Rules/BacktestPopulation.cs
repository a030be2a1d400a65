using Advisor.Server.Storage;

namespace Advisor.Server.Rules;

/// <summary>
/// One stored case a backtest re-classifies: a registered buyer (classified through the registry) or a
/// description someone classified earlier (from the classification log).
/// </summary>
public sealed record StoredCase(string Id, string DisplayName, string? Text, string? BuyerId);

/// <summary>The stored cases a backtest compares live and draft on, besides the labelled set.</summary>
public interface IBacktestPopulation
{
    Task<IReadOnlyList<StoredCase>> LoadAsync(int limit, CancellationToken cancellationToken);
}

/// <summary>
/// The classification log as the stored population: the distinct descriptions and registered buyers
/// this deployment has classified recently. Profiles are left out: the log keeps them only as text.
/// </summary>
public sealed class ClassificationLogPopulation(IClassificationLog log) : IBacktestPopulation
{
    public async Task<IReadOnlyList<StoredCase>> LoadAsync(int limit, CancellationToken cancellationToken)
    {
        if (limit == 0)
        {
            return [];
        }

        // Pending entries are written first so a classification made just before the backtest counts.
        await log.FlushAsync(cancellationToken);
        var recent = await log.RecentAsync(limit * 4, cancellationToken);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var cases = new List<StoredCase>();
        foreach (var entry in recent)
        {
            if (cases.Count >= limit)
            {
                break;
            }

            if (entry.Subject == "buyer" && entry.BuyerId is { } buyerId && seen.Add("buyer:" + buyerId))
            {
                cases.Add(new StoredCase(buyerId, buyerId, null, buyerId));
            }
            else if (entry.Subject == "description" && seen.Add("text:" + entry.Input))
            {
                cases.Add(new StoredCase(entry.Id, Shorten(entry.Input), entry.Input, null));
            }
        }

        return cases;
    }

    /// <summary>A readable handle for a logged description: its first words.</summary>
    public static string Shorten(string text)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 60 ? flat : flat[..57] + "...";
    }
}
