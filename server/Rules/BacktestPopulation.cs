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
/// The stored population: the buyers in the registry (when the provider has one), then the distinct
/// descriptions and registered buyers this deployment classified recently, from the classification log.
/// Profiles are left out: the log keeps them only as text. Buyers are classified through the registry.
/// </summary>
public sealed class StoredPopulation(IClassificationLog log, IEnumerable<IBuyerStore> buyerStores) : IBacktestPopulation
{
    public const int BuyerPageSize = 200;

    public async Task<IReadOnlyList<StoredCase>> LoadAsync(int limit, CancellationToken cancellationToken)
    {
        if (limit == 0)
        {
            return [];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var cases = new List<StoredCase>();
        foreach (var store in buyerStores)
        {
            string? token = null;
            do
            {
                var page = await store.ListBuyersAsync(new BuyerFilter(null, null), Math.Min(BuyerPageSize, Math.Max(1, limit - cases.Count)), token, cancellationToken);
                foreach (var buyer in page.Items.Where(b => cases.Count < limit && seen.Add("buyer:" + b.Id)))
                {
                    cases.Add(new StoredCase(buyer.Id, buyer.DisplayName, null, buyer.Id));
                }

                token = page.NextPageToken.Length > 0 ? page.NextPageToken : null;
            }
            while (token is not null && cases.Count < limit);
        }

        if (cases.Count >= limit)
        {
            return cases;
        }

        // Pending entries are written first so a classification made just before the backtest counts.
        await log.FlushAsync(cancellationToken);
        var recent = await log.RecentAsync((limit - cases.Count) * 4, cancellationToken);
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
