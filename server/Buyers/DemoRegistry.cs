using System.Text.Json;
using System.Text.Json.Serialization;
using Advisor.Server.Classification;
using Advisor.Server.Storage;
using Microsoft.Extensions.Options;

namespace Advisor.Server.Buyers;

/// <summary>Reads interaction type names as people write them: "agreement_signed", "Agreement signed", "INTERACTION_TYPE_MEETING", "7".</summary>
public static class InteractionTypes
{
    public static InteractionKind? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var t = text.Trim();
        if (int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return number > 0 && Enum.IsDefined((InteractionKind)number) ? (InteractionKind)number : null;
        }

        if (t.StartsWith("INTERACTION_TYPE_", StringComparison.OrdinalIgnoreCase))
        {
            t = t["INTERACTION_TYPE_".Length..];
        }

        var compact = new string(t.Where(char.IsLetterOrDigit).ToArray());
        return Enum.TryParse<InteractionKind>(compact, ignoreCase: true, out var kind) && kind != InteractionKind.Unspecified && Enum.IsDefined(kind) ? kind : null;
    }

    /// <summary>The snake-case name of a type, as the CSV format writes it.</summary>
    public static string Name(InteractionKind kind) =>
        string.Concat(kind.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>
/// The demo registry: a small set of buyers with realistic histories (samples/demo-registry.jsonl, one buyer per
/// line), dated relative to today so a lapsed client stays lapsed. Loading is idempotent: buyers are created with a
/// request id and interactions carry idempotency keys, so seeding twice changes nothing.
/// </summary>
public sealed class DemoRegistry(IBuyerStore store, IOptions<DemoOptions> options, RegistryActivity activity, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, ReadCommentHandling = JsonCommentHandling.Skip };

    public string FilePath => Path.IsPathRooted(options.Value.File) ? options.Value.File : Path.Combine(AppContext.BaseDirectory, options.Value.File);

    /// <summary>Loads the file; returns (buyers created, interactions stored). Throws <see cref="InvalidDataException"/> naming the line at fault.</summary>
    public async Task<(int Buyers, long Interactions)> SeedAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var buyersCreated = 0;
        long stored = 0;
        var lineNumber = 0;
        foreach (var line in await File.ReadAllLinesAsync(FilePath, cancellationToken))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line.TrimStart().StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            DemoBuyer buyer;
            try
            {
                buyer = JsonSerializer.Deserialize<DemoBuyer>(line, Json) ?? throw new InvalidDataException("empty line");
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{FilePath}:{lineNumber}: {ex.Message}", ex);
            }

            if (string.IsNullOrWhiteSpace(buyer.ExternalId) || string.IsNullOrWhiteSpace(buyer.DisplayName))
            {
                throw new InvalidDataException($"{FilePath}:{lineNumber}: every demo buyer needs external_id and display_name");
            }

            var market = buyer.Market?.ToLowerInvariant() switch
            {
                "b2b" => MarketKind.Business,
                "b2c" => MarketKind.Consumer,
                _ => MarketKind.Unknown,
            };
            var values = new BuyerValues(buyer.DisplayName, buyer.Industry, market, buyer.ExternalId, buyer.Aliases ?? [], buyer.Notes);
            var before = (await store.FindBuyersByNameAsync(buyer.DisplayName, 1, cancellationToken)).Count;
            var created = await store.CreateBuyerAsync(Ids.New("b"), values, "demo:" + buyer.ExternalId, now, cancellationToken);
            if (created.Status != BuyerWriteStatus.Ok)
            {
                // Already there (seeded before under another request id, or the name's external id is taken): leave it alone.
                continue;
            }

            buyersCreated += before == 0 ? 1 : 0;
            var items = new List<ImportItem>();
            var n = 0;
            foreach (var i in buyer.Interactions ?? [])
            {
                var type = InteractionTypes.Parse(i.Type) ?? throw new InvalidDataException($"{FilePath}:{lineNumber}: unknown interaction type '{i.Type}'");
                items.Add(new ImportItem(n, created.Buyer!.Id, null, null, new InteractionRecord(
                    Ids.New("i"), created.Buyer.Id, type, now.AddDays(-i.DaysAgo), i.Amount, i.Amount is null ? null : i.Currency ?? "EUR",
                    i.Channel, i.Note, $"demo:{buyer.ExternalId}:{n}", now)));
                n++;
            }

            var result = await store.ImportBatchAsync(items, cancellationToken);
            stored += result.Items.Count(r => r.Status == ImportItemStatus.Accepted);
        }

        activity.Changed();
        return (buyersCreated, stored);
    }

    private sealed record DemoBuyer(
        string ExternalId,
        string DisplayName,
        string? Industry,
        string? Market,
        List<string>? Aliases,
        string? Notes,
        List<DemoInteraction>? Interactions);

    private sealed record DemoInteraction(
        string Type,
        [property: JsonPropertyName("days_ago")] double DaysAgo,
        double? Amount,
        string? Currency,
        string? Channel,
        string? Note);
}

/// <summary>Seeds the demo registry at start when <c>Demo:Seed</c> is true.</summary>
public sealed partial class DemoSeeder(DemoRegistry demo, IOptions<DemoOptions> options, ILogger<DemoSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Seed)
        {
            return;
        }

        var (buyers, interactions) = await demo.SeedAsync(cancellationToken);
        LogSeeded(logger, buyers, interactions, demo.FilePath);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 43, Level = LogLevel.Information, Message = "Demo registry: {Buyers} buyers and {Interactions} interactions added from {File}")]
    private static partial void LogSeeded(ILogger logger, int buyers, long interactions, string file);
}
