using Advisor.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.AdvisorClient;

/// <summary>
/// The typed gRPC client the conversation core uses: every call gets a deadline, the caller's cancellation and
/// the API key header. Retries happen in the channel's retry policy (see <see cref="AdvisorClientRegistration"/>).
/// </summary>
public sealed class AdvisorGateway(
    AdvisorService.AdvisorServiceClient advisor,
    BuyerService.BuyerServiceClient buyers,
    IOptions<AdvisorClientOptions> options,
    TimeProvider timeProvider)
{
    public async Task<AskResponse> AskAsync(string question, CancellationToken cancellationToken) =>
        await advisor.AskAsync(new AskRequest { Question = question }, Call(cancellationToken));

    public async Task<Classification> ClassifyDescriptionAsync(string description, CancellationToken cancellationToken) =>
        (await advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = description }, Call(cancellationToken))).Classification;

    public async Task<Classification> ClassifyBuyerAsync(string buyerId, CancellationToken cancellationToken) =>
        (await advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { BuyerId = buyerId }, Call(cancellationToken))).Classification;

    public async Task<IReadOnlyList<Strategy>> SuggestStrategiesAsync(BuyerKind kind, string industry, CancellationToken cancellationToken) =>
        (await advisor.SuggestStrategiesAsync(new SuggestStrategiesRequest { Kind = kind, Industry = industry, MaxResults = 5 }, Call(cancellationToken))).Strategies;

    public async Task<Feedback> SubmitFeedbackAsync(SubmitFeedbackRequest request, CancellationToken cancellationToken) =>
        await advisor.SubmitFeedbackAsync(request, Call(cancellationToken));

    public async Task<Buyer> GetBuyerAsync(string id, CancellationToken cancellationToken) =>
        await buyers.GetBuyerAsync(new GetBuyerRequest { Id = id }, Call(cancellationToken));

    /// <summary>For autocomplete: a short deadline, because the platform gives the whole round trip 3 seconds.</summary>
    public async Task<IReadOnlyList<Buyer>> SearchBuyersAsync(string query, int max, CancellationToken cancellationToken) =>
        (await buyers.SearchBuyersAsync(new SearchBuyersRequest { Query = query, PageSize = max }, Call(cancellationToken, options.Value.LookupTimeout))).Buyers;

    private CallOptions Call(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        Metadata? headers = null;
        if (!string.IsNullOrEmpty(options.Value.ApiKey))
        {
            headers = new Metadata { { "authorization", "Bearer " + options.Value.ApiKey } };
        }

        var deadline = timeProvider.GetUtcNow().UtcDateTime + (timeout ?? options.Value.Timeout);
        return new CallOptions(headers, deadline, cancellationToken);
    }
}
