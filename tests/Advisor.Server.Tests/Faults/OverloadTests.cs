using Advisor.Server.Api;
using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;

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
            try
            {
                await call.RequestStream.WriteAsync(Row("late-1"), TestContext.Current.CancellationToken);
            }
            catch (RpcException early) when (early.StatusCode == StatusCode.DeadlineExceeded)
            {
                // On a busy machine the deadline can pass before the row is even sent: the same case, checked below.
            }

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

/// <summary>Two calls run, one may wait: small enough that a test holds every place with open streams.</summary>
public sealed class TwoSlotsOneQueuedServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--Server:MaxConcurrentCalls", "2", "--Server:MaxQueuedCalls", "1"];
}

/// <summary>
/// Admission under overload, made deterministic: import streams left open hold the running slots and the queue
/// (the server's own counters, polled with bounded waits, say when they are held), so the next call has nowhere
/// to go. No sleeps stand in for synchronisation.
/// </summary>
public sealed class AdmissionTests(TwoSlotsOneQueuedServerFixture server) : IClassFixture<TwoSlotsOneQueuedServerFixture>
{
    private ConcurrencyLimitInterceptor Limit => server.Services.GetRequiredService<ConcurrencyLimitInterceptor>();

    private BuyerService.BuyerServiceClient Buyers => new(server.Channel);

    [Fact]
    public async Task A_call_past_the_slots_and_the_queue_is_refused_at_once_and_the_queued_call_runs_after()
    {
        using var first = await HoldAsync("first");
        using var second = await HoldAsync("second");
        await UntilAsync(() => Limit.Running == 2, "both streams hold a slot");

        // The third stream waits in the queue; its row is sent now and read once it is admitted.
        using var queued = Buyers.ImportInteractions(ServerFixture.Deadline(60));
        await queued.RequestStream.WriteAsync(Row("queued"), TestContext.Current.CancellationToken);
        await UntilAsync(() => Limit.Waiting == 1, "the third stream waits for a slot");

        // Health is never limited: a balancer must not take a busy server out of service.
        (await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline())).Status
            .ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);

        var refused = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(
            new ClassifyBuyerRequest { Description = "They pay a monthly retainer." }, ServerFixture.Deadline()).ResponseAsync);
        refused.StatusCode.ShouldBe(StatusCode.ResourceExhausted);
        refused.Status.Detail.ShouldContain("limit of concurrent calls");
        var retry = refused.GetRpcStatus()?.GetDetail<RetryInfo>();
        retry.ShouldNotBeNull("a refused caller is told when to retry");
        retry.RetryDelay.ToTimeSpan().ShouldBe(ConcurrencyLimitInterceptor.RetryAfter);

        // Releasing the held slots lets the queued stream in; every stream completes with its row accepted.
        (await FinishAsync(first)).Accepted.ShouldBe(1);
        (await FinishAsync(second)).Accepted.ShouldBe(1);
        (await FinishAsync(queued)).Accepted.ShouldBe(1);
        await UntilAsync(() => Limit.Running == 0 && Limit.Waiting == 0, "every slot is free again");
        (await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "They pay a monthly retainer." }, ServerFixture.Deadline()))
            .Classification.ShouldNotBeNull();
    }

    [Fact]
    public async Task A_queued_call_whose_deadline_passes_gets_deadline_exceeded_and_leaves_the_queue()
    {
        using var first = await HoldAsync("first");
        using var second = await HoldAsync("second");
        await UntilAsync(() => Limit.Running == 2, "both streams hold a slot");

        var late = server.Advisor.ClassifyBuyerAsync(
            new ClassifyBuyerRequest { Description = "They pay a monthly retainer." },
            new CallOptions(deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: TestContext.Current.CancellationToken));
        var ex = await Should.ThrowAsync<RpcException>(() => late.ResponseAsync);
        ex.StatusCode.ShouldBe(StatusCode.DeadlineExceeded);

        // The server dropped it from the queue: the queue's one place is free for the next caller.
        await UntilAsync(() => Limit.Waiting == 0, "the expired call left the queue");
        Limit.Running.ShouldBe(2);

        (await FinishAsync(first)).Accepted.ShouldBe(1);
        (await FinishAsync(second)).Accepted.ShouldBe(1);
        await UntilAsync(() => Limit.Running == 0, "every slot is free again");
    }

    /// <summary>Opens an import stream and sends one row, so the stream holds its slot until it is completed.</summary>
    private async Task<AsyncClientStreamingCall<ImportInteractionsRequest, ImportInteractionsResponse>> HoldAsync(string name)
    {
        var call = Buyers.ImportInteractions(ServerFixture.Deadline(60));
        await call.RequestStream.WriteAsync(Row(name), TestContext.Current.CancellationToken);
        return call;
    }

    private static async Task<ImportInteractionsResponse> FinishAsync(AsyncClientStreamingCall<ImportInteractionsRequest, ImportInteractionsResponse> call)
    {
        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }

    /// <summary>Polls the server's counters every 20 ms for at most 10 s; the condition describes what is awaited.</summary>
    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        throw new ShouldAssertException($"waited 10 s, but not true: {what}");
    }

    private static ImportInteractionsRequest Row(string name) => new()
    {
        Interaction = new Interaction
        {
            BuyerDisplayName = "Admission Buyer " + name,
            Type = InteractionType.Purchase,
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddDays(-1)),
            IdempotencyKey = name + Guid.NewGuid().ToString("N"),
        },
    };
}
