using Advisor.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Advisor.LoadTest;

/// <summary>
/// One kind of call the tool measures. <see cref="PrepareAsync"/> probes the server once (and creates
/// what the calls need); a scenario whose RPC the server does not implement reports why instead of numbers.
/// </summary>
public sealed class Scenario
{
    public static readonly IReadOnlyList<string> AllNames =
        ["health", "classify-description", "classify-description-basic", "classify-profile", "classify-profile-basic", "ask", "search-buyers", "get-buyer", "import"];

    /// <summary>How long one call may take before the tool gives up on it (every call has a deadline).</summary>
    public static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(30);

    private Scenario(string name, string rpc, string unit, Func<GrpcChannel, SampleData, CancellationToken, Task<string?>> prepare, Func<GrpcChannel, SampleData, long, CancellationToken, Task<int>> call)
    {
        Name = name;
        Rpc = rpc;
        Unit = unit;
        PrepareAsync = prepare;
        CallAsync = call;
    }

    public string Name { get; }

    /// <summary>The gRPC method measured, as written in the report.</summary>
    public string Rpc { get; }

    /// <summary>What one call's returned count counts ("calls", or "rows" for imports).</summary>
    public string Unit { get; }

    /// <summary>Returns null when ready, or why the scenario cannot run against this server.</summary>
    public Func<GrpcChannel, SampleData, CancellationToken, Task<string?>> PrepareAsync { get; }

    /// <summary>One measured call; returns how many items it processed (1, or the rows of an import).</summary>
    public Func<GrpcChannel, SampleData, long, CancellationToken, Task<int>> CallAsync { get; }

    public static CallOptions Options(CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow.Add(CallDeadline), cancellationToken: cancellationToken);

    public static Scenario Create(string name) => name switch
    {
        "health" => new(name, "grpc.health.v1.Health/Check", "calls", Probe(Health), Health),
        // The full view is what the bot and every caller that sets no view get; the basic view (AIP-157) is the bulk
        // callers' choice. Both are measured: the basic figures never stand in for the full ones.
        "classify-description" => new(name, "AdvisorService/ClassifyBuyer (description, full view)", "calls", Probe(ClassifyDescription(ClassificationView.Unspecified)), ClassifyDescription(ClassificationView.Unspecified)),
        "classify-description-basic" => new(name, "AdvisorService/ClassifyBuyer (description, basic view)", "calls", Probe(ClassifyDescription(ClassificationView.Basic)), ClassifyDescription(ClassificationView.Basic)),
        "classify-profile" => new(name, "AdvisorService/ClassifyBuyer (profile, full view)", "calls", Probe(ClassifyProfile(ClassificationView.Unspecified)), ClassifyProfile(ClassificationView.Unspecified)),
        "classify-profile-basic" => new(name, "AdvisorService/ClassifyBuyer (profile, basic view)", "calls", Probe(ClassifyProfile(ClassificationView.Basic)), ClassifyProfile(ClassificationView.Basic)),
        "ask" => new(name, "AdvisorService/Ask", "calls", Probe(Ask), Ask),
        "search-buyers" => new(name, "BuyerService/SearchBuyers", "calls", PrepareBuyers, SearchBuyers),
        "get-buyer" => new(name, "BuyerService/GetBuyer", "calls", PrepareBuyers, GetBuyer),
        "import" => new(name, "BuyerService/ImportInteractions", "rows", Probe(Import), Import),
        _ => throw new ArgumentException($"unknown scenario '{name}'"),
    };

    private static Func<GrpcChannel, SampleData, CancellationToken, Task<string?>> Probe(Func<GrpcChannel, SampleData, long, CancellationToken, Task<int>> call) =>
        async (channel, data, ct) =>
        {
            try
            {
                await call(channel, data, 0, ct);
                return null;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
            {
                return "not available: the server does not implement this RPC (UNIMPLEMENTED)";
            }
        };

    private static async Task<int> Health(GrpcChannel channel, SampleData data, long i, CancellationToken ct)
    {
        var response = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), Options(ct));
        return response.Status == HealthCheckResponse.Types.ServingStatus.Serving
            ? 1
            : throw new RpcException(new Status(StatusCode.Unavailable, "health answered " + response.Status));
    }

    /// <param name="view">Unspecified for the full view: what a caller that never heard of views sends.</param>
    private static Func<GrpcChannel, SampleData, long, CancellationToken, Task<int>> ClassifyDescription(ClassificationView view) =>
        (channel, data, i, ct) =>
        {
            var calls = data.DescriptionCalls(view);
            return ClassifyAsync(channel, calls[(int)(i % calls.Count)], ct);
        };

    /// <param name="view">Unspecified for the full view: what a caller that never heard of views sends.</param>
    private static Func<GrpcChannel, SampleData, long, CancellationToken, Task<int>> ClassifyProfile(ClassificationView view) =>
        (channel, data, i, ct) =>
        {
            var calls = data.ProfileCalls(view);
            return ClassifyAsync(channel, calls[(int)(i % calls.Count)], ct);
        };

    /// <summary>
    /// ClassifyBuyer through Grpc.Net.Client with one of the run's fixed requests, its encoding kept, and a response
    /// marshaller that checks the answer's bytes parse as a <see cref="ClassifyBuyerResponse"/> instead of building it
    /// (<see cref="WireCheck"/>, or a comparison with the first answer to the same request that proves the same:
    /// <see cref="FirstAnswerCheck"/>). An answer without a classification counts as an error (INTERNAL); one that is
    /// well-formed but differs from the first answer to the same request beyond its id, as a wrong answer.
    /// </summary>
    private static async Task<int> ClassifyAsync(GrpcChannel channel, ClassifyCall call, CancellationToken ct)
    {
        var response = await channel.CreateCallInvoker().AsyncUnaryCall(call.Method, null, Options(ct), call.Request);
        if (response.DiffersFromFirst)
        {
            throw new DifferentAnswerException();
        }

        return response.Has(ClassifyBuyerResponse.ClassificationFieldNumber)
            ? 1
            : throw new RpcException(new Status(StatusCode.Internal, "ClassifyBuyer answered without a classification"));
    }

    private static async Task<int> Ask(GrpcChannel channel, SampleData data, long i, CancellationToken ct)
    {
        var request = new AskRequest { Question = data.Questions[(int)(i % data.Questions.Count)] };
        _ = await new AdvisorService.AdvisorServiceClient(channel).AskAsync(request, Options(ct));
        return 1;
    }

    /// <summary>Creates the buyers that search and get read (once per run, shared by both scenarios).</summary>
    private static async Task<string?> PrepareBuyers(GrpcChannel channel, SampleData data, CancellationToken ct)
    {
        try
        {
            await data.EnsureBuyersAsync(channel, ct);
            return null;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            return "not available: the server does not implement advisor.v1.BuyerService (UNIMPLEMENTED)";
        }
    }

    private static async Task<int> SearchBuyers(GrpcChannel channel, SampleData data, long i, CancellationToken ct)
    {
        var request = new SearchBuyersRequest { Query = SampleData.SearchQueries[(int)(i % SampleData.SearchQueries.Length)], PageSize = 10 };
        _ = await new BuyerService.BuyerServiceClient(channel).SearchBuyersAsync(request, Options(ct));
        return 1;
    }

    private static async Task<int> GetBuyer(GrpcChannel channel, SampleData data, long i, CancellationToken ct)
    {
        var request = new GetBuyerRequest { Id = data.BuyerIds[(int)(i % data.BuyerIds.Count)] };
        _ = await new BuyerService.BuyerServiceClient(channel).GetBuyerAsync(request, Options(ct));
        return 1;
    }

    /// <summary>
    /// One client stream of <see cref="SampleData.ImportBatch"/> new interactions (unique idempotency keys), sent in
    /// messages of <see cref="SampleData.ImportChunk"/> interactions each.
    /// </summary>
    private static async Task<int> Import(GrpcChannel channel, SampleData data, long i, CancellationToken ct)
    {
        using var call = new BuyerService.BuyerServiceClient(channel).ImportInteractions(Options(ct));
        var batch = data.NextImportBatch();
        var now = DateTime.UtcNow;
        var message = new ImportInteractionsRequest();
        for (var n = 0; n < data.ImportBatch; n++)
        {
            var interaction = new Interaction
            {
                BuyerExternalId = $"load-{data.RunId}-{(batch + n) % 500}",
                BuyerDisplayName = $"Load buyer {(batch + n) % 500}",
                Type = n % 3 == 0 ? InteractionType.RepeatPurchase : InteractionType.Purchase,
                OccurredAt = Timestamp.FromDateTime(now.AddMinutes(-n)),
                Amount = 10 + (n % 90),
                Currency = "EUR",
                Channel = "web",
                Note = "load test import",
                IdempotencyKey = $"load-{data.RunId}-{batch}-{n}",
            };
            if (data.ImportChunk == 1)
            {
                await call.RequestStream.WriteAsync(new ImportInteractionsRequest { Interaction = interaction }, ct);
                continue;
            }

            message.Interactions.Add(interaction);
            if (message.Interactions.Count == data.ImportChunk || n == data.ImportBatch - 1)
            {
                await call.RequestStream.WriteAsync(message, ct);
                message = new ImportInteractionsRequest();
            }
        }

        await call.RequestStream.CompleteAsync();
        var response = await call;
        return (int)response.Accepted;
    }
}
