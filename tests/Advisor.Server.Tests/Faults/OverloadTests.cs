using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Core;
using Grpc.Health.V1;

namespace Advisor.Server.Tests.Faults;

/// <summary>A server that admits one call at a time and queues none, so a held call makes overload certain.</summary>
public sealed class OneSlotServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--Server:MaxConcurrentCalls", "1", "--Server:MaxQueuedCalls", "0"];
}

/// <summary>
/// Overload and deadlines. An import stream left open holds the only slot: other calls are refused with
/// RESOURCE_EXHAUSTED (never a crash, health still answers); a stream whose deadline passes ends on the
/// server too, which shows as the slot being free again.
/// </summary>
public sealed class OverloadTests(OneSlotServerFixture server) : IClassFixture<OneSlotServerFixture>
{
    private static readonly ClassifyBuyerRequest Classify = new() { Description = "They pay a monthly retainer and we meet every week." };

    [Fact]
    public async Task Calls_beyond_the_limit_get_resource_exhausted_and_the_server_stays_healthy()
    {
        await AdmittedAgainAsync();
        using var held = new BuyerService.BuyerServiceClient(server.Channel).ImportInteractions(ServerFixture.Deadline(30));
        await held.RequestStream.WriteAsync(Row("held-1"), TestContext.Current.CancellationToken);

        // Once the held stream is admitted every other call is refused; until then one may still get through.
        StatusCode? refused = null;
        for (var attempt = 0; attempt < 100 && refused is null; attempt++)
        {
            try
            {
                await server.Advisor.ClassifyBuyerAsync(Classify, ServerFixture.Deadline());
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
            catch (RpcException ex)
            {
                refused = ex.StatusCode;
            }
        }

        refused.ShouldBe(StatusCode.ResourceExhausted);
        var health = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline());
        health.Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);

        await held.RequestStream.CompleteAsync();
        (await held.ResponseAsync).Accepted.ShouldBe(1);
        await AdmittedAgainAsync();
    }

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
