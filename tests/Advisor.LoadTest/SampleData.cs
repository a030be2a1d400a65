using Advisor.V1;
using Grpc.Net.Client;

namespace Advisor.LoadTest;

/// <summary>The inputs the scenarios send: texts from the Data folder, typed profiles, and buyers created for the run.</summary>
public sealed class SampleData : IDisposable
{
    public static readonly BuyerProfile[] Profiles =
    [
        new() { Agreement = AgreementStatus.Active, Retainer = true, Offering = Offering.Advice, TwoWayCommunication = true, RelationshipMonths = 40, PurchasesPerYear = 12 },
        new() { Agreement = AgreementStatus.None, Offering = Offering.Goods, PriceFocused = true, PurchasesPerYear = 1, TwoWayCommunication = false },
        new() { Offering = Offering.Mixed, Agreement = AgreementStatus.Active, PurchasesPerYear = 50, PriceFocused = true, DedicatedContact = true, Industry = "banking" },
        new() { Agreement = AgreementStatus.Ended, MonthsSinceLastContact = 30, RelationshipMonths = 60 },
        new() { Offering = Offering.ProfessionalService, PersonalisedWork = true, TrustBased = true, RelationshipMonths = 8, Market = Market.B2B },
        new() { Offering = Offering.StandardService, PurchasesPerYear = 4, PersonalisedWork = false, Market = Market.B2C },
    ];

    public static readonly string[] SearchQueries = ["Harbour", "Bakery 12", "Northwind", "Atelier", "Grene", "Load 7", "Consulting 3", "Marlow"];

    private static readonly string[] NameParts = ["Harbour", "Northwind", "Atelier", "Greene", "Marlow", "Bakery", "Consulting", "Partners"];

    private readonly SemaphoreSlim _buyersOnce = new(1, 1);

    // The ClassifyBuyer requests, made once for the whole run (warm-up and every measured slice send the same objects),
    // so each keeps its encoding and its first answer across them; a fixed set, so the kept answers stay bounded.
    private readonly Dictionary<ClassificationView, ClassifyCall[]> _descriptionCalls = [];
    private readonly Dictionary<ClassificationView, ClassifyCall[]> _profileCalls = [];
    private long _nextImport;

    public SampleData(int importBatch, int importChunk)
    {
        ImportBatch = importBatch;
        ImportChunk = importChunk;
        Descriptions = ReadLines("descriptions.txt");
        Questions = ReadLines("questions.txt");
        foreach (var view in (ClassificationView[])[ClassificationView.Unspecified, ClassificationView.Basic])
        {
            _descriptionCalls[view] = [.. Descriptions.Select(d => new ClassifyCall(new ClassifyBuyerRequest { Description = d, View = view }))];
            _profileCalls[view] = [.. Profiles.Select(p => new ClassifyCall(new ClassifyBuyerRequest { Profile = p, View = view }))];
        }
    }

    public IReadOnlyList<string> Descriptions { get; }

    public IReadOnlyList<string> Questions { get; }

    public int ImportBatch { get; }

    /// <summary>ClassifyBuyer of each description in <paramref name="view"/> (full: Unspecified, or Basic), in <see cref="Descriptions"/>' order.</summary>
    public IReadOnlyList<ClassifyCall> DescriptionCalls(ClassificationView view) => _descriptionCalls[view];

    /// <summary>ClassifyBuyer of each of <see cref="Profiles"/> in <paramref name="view"/> (full: Unspecified, or Basic).</summary>
    public IReadOnlyList<ClassifyCall> ProfileCalls(ClassificationView view) => _profileCalls[view];

    /// <summary>Interactions per message of an import stream (1: one message each).</summary>
    public int ImportChunk { get; }

    /// <summary>Keeps this run's imported rows and buyers apart from earlier runs against the same database.</summary>
    public string RunId { get; } = Guid.NewGuid().ToString("N")[..8];

    public List<string> BuyerIds { get; } = [];

    /// <summary>The first id of the next import stream's block of idempotency keys.</summary>
    public long NextImportBatch() => Interlocked.Add(ref _nextImport, ImportBatch) - ImportBatch;

    /// <summary>Creates 200 buyers the first time it is called; later calls return at once.</summary>
    public async Task EnsureBuyersAsync(GrpcChannel channel, CancellationToken cancellationToken)
    {
        await _buyersOnce.WaitAsync(cancellationToken);
        try
        {
            if (BuyerIds.Count > 0)
            {
                return;
            }

            var client = new BuyerService.BuyerServiceClient(channel);
            for (var i = 0; i < 200; i++)
            {
                var buyer = await client.CreateBuyerAsync(
                    new CreateBuyerRequest
                    {
                        Buyer = new Buyer
                        {
                            DisplayName = $"{NameParts[i % NameParts.Length]} {NameParts[(i / NameParts.Length) % NameParts.Length]} {i}",
                            Industry = i % 2 == 0 ? "consulting" : "retail",
                            ExternalId = $"load-buyer-{RunId}-{i}",
                            Notes = "Created by the load tool.",
                        },
                        RequestId = $"load-{RunId}-{i}",
                    },
                    Scenario.Options(cancellationToken));
                BuyerIds.Add(buyer.Id);
            }
        }
        finally
        {
            _buyersOnce.Release();
        }
    }

    public void Dispose() => _buyersOnce.Dispose();

    private static List<string> ReadLines(string file) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", file))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();
}
