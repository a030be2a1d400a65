using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Advisor.Server.Tests.Api;

/// <summary>
/// ClassifyBuyer's views (AIP-157 partial responses), through the generated client against a real server: the basic
/// view gives the same decision as the full one without its text, and a caller that sets no view still gets everything.
/// </summary>
public sealed class ClassificationViewTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string LawFirmRetainer = "Our law firm has advised them for years on a monthly retainer; we meet their partners every week.";

    [Fact]
    public async Task The_basic_view_gives_the_full_views_decision_without_its_text()
    {
        var full = await ClassifyAsync(new ClassifyBuyerRequest { Description = LawFirmRetainer, View = ClassificationView.Full });
        var basic = await ClassifyAsync(new ClassifyBuyerRequest { Description = LawFirmRetainer, View = ClassificationView.Basic });

        full.Strategies.ShouldNotBeEmpty();
        full.Evidence.ShouldContain(e => e.Explanation.Length > 0 && e.Span != null);
        full.Industry.ShouldNotBeEmpty("the text names an industry, so its prior is part of the evidence in both views");

        basic.Kind.ShouldBe(full.Kind);
        basic.Confidence.ShouldBe(full.Confidence);
        basic.Score.ShouldBe(full.Score);
        basic.ClientWeight.ShouldBe(full.ClientWeight);
        basic.CustomerWeight.ShouldBe(full.CustomerWeight);
        basic.Summary.ShouldBe(full.Summary);
        basic.Industry.ShouldBe(full.Industry);
        basic.RuleSetVersion.ShouldBe(full.RuleSetVersion);
        basic.ClassificationId.ShouldStartWith("c_");
        basic.ClassificationId.ShouldNotBe(full.ClassificationId, "each call is its own entry in the classification log");
        basic.Evidence.Select(e => (e.Signal, e.RuleId, e.Weight, e.Source))
            .ShouldBe(full.Evidence.Select(e => (e.Signal, e.RuleId, e.Weight, e.Source)), "same evidence, same order");

        basic.Evidence.ShouldAllBe(e => e.Explanation.Length == 0 && e.Span == null && e.InteractionIds.Count == 0);
        basic.Strategies.ShouldBeEmpty();
        basic.OpenQuestions.ShouldBeEmpty();
        basic.CalculateSize().ShouldBeLessThan(full.CalculateSize() / 3, "the view exists to leave most of the bytes out");
    }

    [Fact]
    public async Task No_view_is_the_full_view()
    {
        var profile = new BuyerProfile { PurchasesPerYear = 1, Agreement = AgreementStatus.None, Offering = Offering.Goods, PriceFocused = true };
        var unset = await ClassifyAsync(new ClassifyBuyerRequest { Profile = profile });
        var full = await ClassifyAsync(new ClassifyBuyerRequest { Profile = profile, View = ClassificationView.Full });

        unset.Strategies.ShouldNotBeEmpty();
        unset.Evidence.ShouldAllBe(e => e.Explanation.Length > 0);
        unset.ClassificationId = full.ClassificationId;
        unset.ShouldBe(full);
    }

    [Fact]
    public async Task An_unsure_answer_in_the_basic_view_leaves_the_open_questions_out()
    {
        var full = await ClassifyAsync(new ClassifyBuyerRequest { Description = "A company in Leeds." });
        var basic = await ClassifyAsync(new ClassifyBuyerRequest { Description = "A company in Leeds.", View = ClassificationView.Basic });

        full.OpenQuestions.ShouldNotBeEmpty();
        basic.Kind.ShouldBe(BuyerKind.Undetermined);
        basic.Confidence.ShouldBe(full.Confidence);
        basic.OpenQuestions.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_registry_buyer_in_the_basic_view_has_its_evidence_without_interaction_ids()
    {
        var buyers = new BuyerService.BuyerServiceClient(server.Channel);
        var buyer = await buyers.CreateBuyerAsync(new CreateBuyerRequest { Buyer = new Buyer { DisplayName = "View test " + Guid.NewGuid().ToString("N"), Market = Market.B2B } }, ServerFixture.Deadline(30));
        foreach (var (type, days) in new[] { (InteractionType.AgreementSigned, 200), (InteractionType.Consultation, 120), (InteractionType.Meeting, 60), (InteractionType.Consultation, 10) })
        {
            await buyers.RecordInteractionAsync(new RecordInteractionRequest
            {
                BuyerId = buyer.Id,
                Interaction = new Interaction { Type = type, OccurredAt = Timestamp.FromDateTime(DateTime.UtcNow.AddDays(-days)), Note = "view test" },
            }, ServerFixture.Deadline(30));
        }

        var full = await ClassifyAsync(new ClassifyBuyerRequest { BuyerId = buyer.Id });
        var basic = await ClassifyAsync(new ClassifyBuyerRequest { BuyerId = buyer.Id, View = ClassificationView.Basic });

        full.Evidence.ShouldContain(e => e.InteractionIds.Count > 0);
        basic.Kind.ShouldBe(full.Kind);
        basic.Score.ShouldBe(full.Score);
        basic.Evidence.Select(e => e.Signal).ShouldBe(full.Evidence.Select(e => e.Signal));
        basic.Evidence.ShouldAllBe(e => e.InteractionIds.Count == 0 && e.Explanation.Length == 0);
        basic.Strategies.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_basic_view_classification_is_logged_like_any_other()
    {
        var basic = await ClassifyAsync(new ClassifyBuyerRequest { Description = "Bought a kettle online in the sale and never came back.", View = ClassificationView.Basic });
        var log = server.Services.GetRequiredService<Advisor.Server.Storage.IClassificationLog>();
        await log.FlushAsync(TestContext.Current.CancellationToken);
        var entry = (await log.RecentAsync(100, TestContext.Current.CancellationToken)).Single(e => e.Id == basic.ClassificationId);
        entry.Input.ShouldContain("kettle");
        entry.RuleSetVersion.ShouldBe(basic.RuleSetVersion);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    [InlineData(1000)]
    public async Task A_view_the_contract_does_not_define_is_invalid(int view)
    {
        var ex = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(
            new ClassifyBuyerRequest { Description = LawFirmRetainer, View = (ClassificationView)view }, ServerFixture.Deadline()).ResponseAsync);
        var details = ex.ShouldBeInvalidArgument("view");
        details.FieldViolations.Single(v => v.Field == "view").Description.ShouldContain(view.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<V1.Classification> ClassifyAsync(ClassifyBuyerRequest request) =>
        (await server.Advisor.ClassifyBuyerAsync(request, ServerFixture.Deadline(30))).Classification;
}
