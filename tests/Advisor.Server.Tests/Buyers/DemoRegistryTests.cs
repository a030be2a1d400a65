using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;

namespace Advisor.Server.Tests.Buyers;

/// <summary>A server started with --Demo:Seed=true, as the bot's console chat starts it.</summary>
public sealed class DemoServerFixture : ServerFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--Demo:Seed", "true"];
}

/// <summary>The demo registry answers the questions a new user asks first.</summary>
public sealed class DemoRegistryTests(DemoServerFixture server) : IClassFixture<DemoServerFixture>
{
    [Theory]
    [InlineData("is Acme a client?", "Acme Corp", BuyerKind.Client)]
    [InlineData("what about northwind?", "Northwind Traders", BuyerKind.Customer)]
    [InlineData("how should we treat Contoso?", "Contoso Ltd", BuyerKind.Client)]
    [InlineData("is Fabrikam Industries a client?", "Fabrikam Industries", BuyerKind.Hybrid)]
    public async Task Named_demo_buyers_are_answered_from_their_history(string question, string name, BuyerKind kind)
    {
        var answer = await server.Advisor.AskAsync(new AskRequest { Question = question }, ServerFixture.Deadline(30));
        answer.Intent.ShouldBe(Intent.BuyerLookup);
        answer.Buyer.DisplayName.ShouldBe(name);
        answer.Classification.Kind.ShouldBe(kind);
        answer.Classification.Evidence.ShouldContain(e => e.InteractionIds.Count > 0);
    }

    [Fact]
    public async Task Seeding_again_changes_nothing()
    {
        var buyers = new BuyerService.BuyerServiceClient(server.Channel);
        var before = await buyers.ListBuyersAsync(new ListBuyersRequest { PageSize = 100 }, ServerFixture.Deadline());
        var demo = server.Services.GetRequiredService<Advisor.Server.Buyers.DemoRegistry>();
        var (created, interactions) = await demo.SeedAsync(TestContext.Current.CancellationToken);
        created.ShouldBe(0);
        interactions.ShouldBe(0);
        var after = await buyers.ListBuyersAsync(new ListBuyersRequest { PageSize = 100 }, ServerFixture.Deadline());
        after.TotalSize.ShouldBe(before.TotalSize);
        before.TotalSize.ShouldBeGreaterThanOrEqualTo(10);
    }
}
