using Advisor.Server.Storage;
using Advisor.Server.Storage.Sqlite;
using Advisor.Server.Tests.Infrastructure;
using Grpc.Health.V1;

namespace Advisor.Server.Tests.Hosting;

/// <summary>
/// grpc.health.v1 on the real server: SERVING once ready, and the store is pinged about once per
/// <see cref="Server.Hosting.ReadinessHealthCheck.StoreAnswerLifetime"/> however many checks arrive at once.
/// </summary>
public sealed class HealthCheckTests(HealthCheckTests.CountingFixture fixture) : IClassFixture<HealthCheckTests.CountingFixture>
{
    [Fact]
    public async Task Many_concurrent_checks_share_one_store_ping()
    {
        var health = new Health.HealthClient(fixture.Channel);
        (await health.CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline())).Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);

        var pingsBefore = fixture.Store.Pings;
        var started = DateTime.UtcNow;
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
            (await health.CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline())).Status));
        var elapsed = DateTime.UtcNow - started;

        answers.ShouldAllBe(s => s == HealthCheckResponse.Types.ServingStatus.Serving);
        // One ping per lifetime that passed (plus the one in progress), never one per check.
        var allowed = 1 + (int)Math.Ceiling(elapsed / Server.Hosting.ReadinessHealthCheck.StoreAnswerLifetime);
        (fixture.Store.Pings - pingsBefore).ShouldBeLessThanOrEqualTo(allowed);
    }

    [Fact]
    public async Task The_store_is_asked_again_after_the_lifetime()
    {
        var health = new Health.HealthClient(fixture.Channel);
        (await health.CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline())).Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);
        var pingsBefore = fixture.Store.Pings;

        await Task.Delay(Server.Hosting.ReadinessHealthCheck.StoreAnswerLifetime + TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);
        (await health.CheckAsync(new HealthCheckRequest(), ServerFixture.Deadline())).Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);

        fixture.Store.Pings.ShouldBeGreaterThan(pingsBefore);
    }

    /// <summary>The real server, its store health counted on the way to the real SQLite store.</summary>
    public sealed class CountingFixture : ServerFixture
    {
        public CountingStoreHealth Store { get; private set; } = null!;

        protected override void Configure(WebApplicationBuilder builder) =>
            builder.Services.AddSingleton<IStoreHealth>(sp => Store = new CountingStoreHealth(ActivatorUtilities.CreateInstance<SqlStoreHealth>(sp)));
    }

    /// <summary>Counts pings and passes each to the real store.</summary>
    public sealed class CountingStoreHealth(IStoreHealth inner) : IStoreHealth
    {
        private int _pings;

        public int Pings => Volatile.Read(ref _pings);

        public Task<bool> PingAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _pings);
            return inner.PingAsync(cancellationToken);
        }
    }
}
