using Advisor.Server.Tests.Infrastructure;
using Advisor.V1;
using Grpc.Core;
using Grpc.Health.V1;

namespace Advisor.Server.Tests.Api;

public sealed class AdvisorServiceTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Classifies_a_description_with_evidence_pointing_at_the_text()
    {
        const string text = "They pay us a monthly retainer and we meet every week to review their campaigns.";
        var response = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = text }, ServerFixture.Deadline());

        var c = response.Classification;
        c.Kind.ShouldBe(BuyerKind.Client);
        c.Confidence.ShouldBeInRange(0.7, 1.0);
        c.Score.ShouldBeGreaterThan(0);
        c.RuleSetVersion.ShouldNotBeNullOrEmpty();
        c.Summary.ShouldNotBeNullOrEmpty();
        c.ClassificationId.ShouldStartWith("c_");
        c.Strategies.ShouldNotBeEmpty();
        var retainer = c.Evidence.First(e => e.Signal == "retainer");
        retainer.Weight.ShouldBeGreaterThan(0);
        text[retainer.Span.Start..retainer.Span.End].ShouldBe(retainer.Span.Text);
        retainer.Explanation.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Classifies_a_typed_profile()
    {
        var profile = new BuyerProfile { PurchasesPerYear = 1, Agreement = AgreementStatus.None, Offering = Offering.Goods, PriceFocused = true, TwoWayCommunication = false };
        var response = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Profile = profile }, ServerFixture.Deadline());
        response.Classification.Kind.ShouldBe(BuyerKind.Customer);
        response.Classification.Evidence.ShouldAllBe(e => e.Source == "profile" || e.Source == "industry");
    }

    [Fact]
    public async Task Too_little_information_is_undetermined_with_open_questions()
    {
        var response = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "A company in Leeds." }, ServerFixture.Deadline());
        response.Classification.Kind.ShouldBe(BuyerKind.Undetermined);
        response.Classification.OpenQuestions.Count.ShouldBeGreaterThan(1);
    }

    [Fact]
    public async Task An_unknown_buyer_id_is_not_found()
    {
        var ex = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { BuyerId = "b_does_not_exist" }, ServerFixture.Deadline()).ResponseAsync);
        ex.StatusCode.ShouldBe(StatusCode.NotFound);
    }

    [Theory]
    [InlineData("", "description")]
    [InlineData("   \t ", "description")]
    public async Task Blank_descriptions_are_invalid(string description, string field)
    {
        var ex = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = description }, ServerFixture.Deadline()).ResponseAsync);
        ex.ShouldBeInvalidArgument(field);
    }

    [Fact]
    public async Task Oversized_text_unset_subject_and_bad_enums_are_invalid_and_name_their_fields()
    {
        var tooLong = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(
            new ClassifyBuyerRequest { Description = new string('a', 8193) }, ServerFixture.Deadline()).ResponseAsync);
        tooLong.ShouldBeInvalidArgument("description");

        var unset = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest(), ServerFixture.Deadline()).ResponseAsync);
        unset.ShouldBeInvalidArgument("subject");

        var badEnum = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(
            new ClassifyBuyerRequest { Profile = new BuyerProfile { Agreement = (AgreementStatus)42 }, Stage = (Stage)9 }, ServerFixture.Deadline()).ResponseAsync);
        var details = badEnum.ShouldBeInvalidArgument("profile.agreement");
        details.FieldViolations.Select(v => v.Field).ShouldContain("stage");

        var badRange = await Should.ThrowAsync<RpcException>(() => server.Advisor.ClassifyBuyerAsync(
            new ClassifyBuyerRequest { Profile = new BuyerProfile { PurchasesPerYear = -3 } }, ServerFixture.Deadline()).ResponseAsync);
        badRange.ShouldBeInvalidArgument("profile.purchases_per_year");
    }

    [Fact]
    public async Task Suggests_strategies_for_a_kind_industry_and_stage()
    {
        var response = await server.Advisor.SuggestStrategiesAsync(
            new SuggestStrategiesRequest { Kind = BuyerKind.Customer, Industry = "retail", Stage = Stage.Lapsed, MaxResults = 3 }, ServerFixture.Deadline());
        response.Strategies.Count.ShouldBeInRange(1, 3);
        response.Strategies.ShouldAllBe(s => s.Kind == BuyerKind.Customer && s.NextSteps.Count > 0 && s.Why.Length > 0);

        var ex = await Should.ThrowAsync<RpcException>(() => server.Advisor.SuggestStrategiesAsync(new SuggestStrategiesRequest(), ServerFixture.Deadline()).ResponseAsync);
        ex.ShouldBeInvalidArgument("kind");
    }

    [Theory]
    [InlineData("is this buyer a client? they pay a monthly retainer and we meet every week", Intent.Classify)]
    [InlineData("client vs customer?", Intent.Compare)]
    [InlineData("what does customer mean", Intent.Define)]
    [InlineData("how do I keep a one-off retail buyer coming back", Intent.Strategy)]
    [InlineData("is real estate client-based?", Intent.Industry)]
    [InlineData("are banks customer businesses?", Intent.Industry)]
    [InlineData("is Acme Corp a client?", Intent.BuyerLookup)]
    [InlineData("help", Intent.Help)]
    [InlineData("what's the weather like in Paris?", Intent.Unknown)]
    public async Task Ask_understands_how_people_phrase_things(string question, Intent intent)
    {
        var response = await server.Advisor.AskAsync(new AskRequest { Question = question }, ServerFixture.Deadline());
        response.Intent.ShouldBe(intent);
        response.Answer.ShouldNotBeNullOrWhiteSpace();
        response.FollowUpQuestions.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Ask_gives_each_kind_of_answer_its_content()
    {
        var classify = await server.Advisor.AskAsync(new AskRequest { Question = "is this buyer a client? they pay a monthly retainer and we meet every week" }, ServerFixture.Deadline());
        classify.Classification.Kind.ShouldBe(BuyerKind.Client);

        var compare = await server.Advisor.AskAsync(new AskRequest { Question = "client vs customer?" }, ServerFixture.Deadline());
        compare.Topics.Select(t => t.Name).ShouldContain("topics/dimension-relationship");
        compare.Answer.ShouldContain("Trust", Case.Insensitive);

        var industry = await server.Advisor.AskAsync(new AskRequest { Question = "is real estate client-based?" }, ServerFixture.Deadline());
        industry.Topics.Select(t => t.Name).ShouldContain("topics/industry-real-estate");

        var strategy = await server.Advisor.AskAsync(new AskRequest { Question = "how do I keep a one-off retail buyer coming back" }, ServerFixture.Deadline());
        strategy.Strategies.ShouldNotBeEmpty();
        strategy.Strategies.ShouldAllBe(s => s.Kind == BuyerKind.Customer);

        var lookup = await server.Advisor.AskAsync(new AskRequest { Question = "is Acme Corp a client?" }, ServerFixture.Deadline());
        lookup.Answer.ShouldContain("Acme Corp");
        lookup.Classification.ShouldBeNull();
    }

    [Fact]
    public async Task Ask_rejects_an_empty_question()
    {
        var ex = await Should.ThrowAsync<RpcException>(() => server.Advisor.AskAsync(new AskRequest { Question = " " }, ServerFixture.Deadline()).ResponseAsync);
        ex.ShouldBeInvalidArgument("question");
    }

    [Fact]
    public async Task Feedback_is_stored_once_per_request_id_and_listed_newest_first()
    {
        var request = new SubmitFeedbackRequest { ExpectedKind = BuyerKind.Client, ReportedKind = BuyerKind.Customer, Comment = "they have a retainer", Channel = "slack", User = "U1", RequestId = Guid.NewGuid().ToString() };
        var first = await server.Advisor.SubmitFeedbackAsync(request, ServerFixture.Deadline());
        var retry = await server.Advisor.SubmitFeedbackAsync(request, ServerFixture.Deadline());
        retry.Id.ShouldBe(first.Id);

        await server.Advisor.SubmitFeedbackAsync(new SubmitFeedbackRequest { ExpectedKind = BuyerKind.Customer }, ServerFixture.Deadline());
        var page = await server.Advisor.ListFeedbackAsync(new ListFeedbackRequest { PageSize = 1 }, ServerFixture.Deadline());
        page.Feedback.Count.ShouldBe(1);
        page.Feedback[0].ExpectedKind.ShouldBe(BuyerKind.Customer);
        page.NextPageToken.ShouldNotBeEmpty();
        var next = await server.Advisor.ListFeedbackAsync(new ListFeedbackRequest { PageSize = 10, PageToken = page.NextPageToken }, ServerFixture.Deadline());
        next.Feedback.Select(f => f.Id).ShouldContain(first.Id);

        var bad = await Should.ThrowAsync<RpcException>(() => server.Advisor.ListFeedbackAsync(new ListFeedbackRequest { PageToken = "%%%" }, ServerFixture.Deadline()).ResponseAsync);
        bad.ShouldBeInvalidArgument("page_token");
        var missingKind = await Should.ThrowAsync<RpcException>(() => server.Advisor.SubmitFeedbackAsync(new SubmitFeedbackRequest(), ServerFixture.Deadline()).ResponseAsync);
        missingKind.ShouldBeInvalidArgument("expected_kind");
    }

    [Fact]
    public async Task Health_reports_serving_once_started()
    {
        var health = new Health.HealthClient(server.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest { Service = "" }, ServerFixture.Deadline());
        response.Status.ShouldBe(HealthCheckResponse.Types.ServingStatus.Serving);
    }

    [Fact]
    public async Task Reflection_lists_the_services()
    {
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo(ServerFixture.Deadline());
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" }, TestContext.Current.CancellationToken);
        await call.RequestStream.CompleteAsync();
        (await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken)).ShouldBeTrue();
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        services.ShouldContain("advisor.v1.AdvisorService");
        services.ShouldContain("advisor.v1.KnowledgeService");
        services.ShouldContain("grpc.health.v1.Health");
    }

    [Fact]
    public async Task Classifications_are_logged_with_their_rule_set_version()
    {
        var response = await server.Advisor.ClassifyBuyerAsync(new ClassifyBuyerRequest { Description = "Bought a pair of trainers in the sale and left." }, ServerFixture.Deadline());
        var log = server.Services.GetRequiredService<Advisor.Server.Storage.IClassificationLog>();
        await log.FlushAsync(TestContext.Current.CancellationToken);
        var recent = await log.RecentAsync(50, TestContext.Current.CancellationToken);
        var entry = recent.Single(e => e.Id == response.Classification.ClassificationId);
        entry.RuleSetVersion.ShouldBe(response.Classification.RuleSetVersion);
        entry.Input.ShouldContain("trainers");
    }
}
