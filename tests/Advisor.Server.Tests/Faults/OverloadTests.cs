using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Tests.Faults;

/// <summary>A server that admits one call at a time and queues none, so a held call makes overload certain.</summary>
public sealed class OneSlotServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--Server:MaxConcurrentCalls", "1", "--Server:MaxQueuedCalls", "0"];
}

/// <summary>
/// Deadlines under the admission limit: a stream whose deadline passes ends on the server too, which
/// shows as the only slot being free again.
/// </summary>
public sealed class OverloadTests(OneSlotServerFixture server) : IClassFixture<OneSlotServerFixture>
{
    private static readonly ClassifyBuyerRequest Classify = new() { Description = "They pay a monthly retainer and we meet every week." };

    [Fact]
    public async Task A_deadline_shorter_than_the_work_ends_the_call_and_the_work()
    {
        using (var call = new BuyerService.BuyerServiceClient(server.Channel).ImportInteractions(
            new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(500), cancellationToken: TestContext.Current.CancellationToken)))
        {
            await call.RequestStream.WriteAsync(Row("late-1"), TestContext.Current.CancellationToken);

            // The client never completes the stream: the import cannot finish before the deadline.
            var ex = await Should.ThrowAsync<RpcException>(() => call.ResponseAsync);
            ex.StatusCode.ShouldBe(StatusCode.DeadlineExceeded);
        }

        // Had the server kept working on the import it would still hold the only slot.
        await AdmittedAgainAsync();
    }

    /// <summary>Waits (5 s at most) until a call is admitted: the server has let go of the earlier work.</summary>
    private async Task AdmittedAgainAsync()
    {
        RpcException? last = null;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                (await server.Advisor.ClassifyBuyerAsync(Classify, ServerFixture.Deadline())).Classification.ShouldNotBeNull();
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                last = ex;
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        throw new ShouldAssertException("the server still refused calls 5 s after the earlier call ended: " + last?.Status);
    }

    private static ImportInteractionsRequest Row(string key) => new()
    {
        Interaction = new Interaction
        {
            BuyerDisplayName = "Overload Buyer",
            Type = InteractionType.Purchase,
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddDays(-1)),
            IdempotencyKey = key + Guid.NewGuid().ToString("N"),
        },
    };
}
