using Advisor.Server.Classification;
using Advisor.Server.Conversation;
using Advisor.Server.Errors;
using Advisor.Server.Storage;
using Advisor.Server.Telemetry;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Server.Api;

/// <summary>
/// advisor.v1.AdvisorService: validates, maps, and hands over to the classifier and the answerer. One instance serves
/// every call (registered as a singleton, as all its dependencies are): it holds no per-call state, and gRPC would
/// otherwise build it and resolve its eight dependencies on every call.
/// </summary>
public sealed class AdvisorGrpcService(
    SnapshotHolder snapshots,
    AskAnswerer answerer,
    IRegisteredBuyerClassifier registeredBuyers,
    IClassificationLog classificationLog,
    IFeedbackStore feedback,
    AdvisorMetrics metrics,
    StrategyMessages strategyMessages,
    RequestTags requestTags,
    TimeProvider time) : AdvisorService.AdvisorServiceBase
{
    public const int MaxIndustryLength = 100;
    public const int MaxCommentLength = 2000;
    public const int MaxIdLength = 200;

    /// <summary>Classification ids, drawn from a buffered secure source rather than a system call per id (see <see cref="SharedIdSource"/>).</summary>
    private readonly SharedIdSource _classificationIds = new("c");

    /// <summary>
    /// The contract's method, answered as the message. Over gRPC, ClassifyBuyer is bound to <see cref="AnswerClassifyBuyer"/>
    /// instead (<see cref="GuardedServiceMethodProvider{TService}"/>), whose answer is written as these same bytes.
    /// </summary>
    public override async Task<ClassifyBuyerResponse> ClassifyBuyer(ClassifyBuyerRequest request, ServerCallContext context) =>
        (await AnswerClassifyBuyer(request, context)).ToResponse(strategyMessages);

    /// <summary>ClassifyBuyer as bound over gRPC: the domain answer, written straight to the wire by <see cref="PreEncodedResponses"/>.</summary>
    public async Task<ClassifyBuyerAnswer> AnswerClassifyBuyer(ClassifyBuyerRequest request, ServerCallContext context)
    {
        var violations = new Violations()
            .OptionalText(request.Industry, "industry", MaxIndustryLength)
            .Enum(request.Stage, "stage")
            .Enum(request.View, "view");
        switch (request.SubjectCase)
        {
            case ClassifyBuyerRequest.SubjectOneofCase.Description:
                violations.RequireText(request.Description, "description");
                break;
            case ClassifyBuyerRequest.SubjectOneofCase.Profile:
                ValidateProfile(request.Profile, violations);
                break;
            case ClassifyBuyerRequest.SubjectOneofCase.BuyerId:
                violations.RequireText(request.BuyerId, "buyer_id", MaxIdLength);
                break;
            default:
                violations.Add("subject", "set one of description, profile or buyer_id");
                break;
        }

        violations.ThrowIfAny();

        var snapshot = snapshots.Current;
        requestTags.SetRuleSetVersion(context, snapshot.Rules.Version);
        var industry = string.IsNullOrWhiteSpace(request.Industry) ? null : request.Industry;
        var stage = request.Stage.ToDomain();
        var full = request.View != ClassificationView.Basic;
        ClassifiedBuyer classified;
        string subject;
        string input;
        switch (request.SubjectCase)
        {
            case ClassifyBuyerRequest.SubjectOneofCase.Description:
                classified = BuyerClassifier.ClassifyText(snapshot, request.Description, industry, stage, withStrategies: full, withSpans: full);
                (subject, input) = ("description", request.Description);
                break;
            case ClassifyBuyerRequest.SubjectOneofCase.Profile:
                classified = BuyerClassifier.ClassifyFacts(snapshot, request.Profile.ToDomain(), industry, stage, withStrategies: full);
                (subject, input) = ("profile", ProfileLogText.Format(request.Profile));
                break;
            default:
                classified = await registeredBuyers.ClassifyAsync(request.BuyerId, snapshot, industry, stage, context.CancellationToken)
                    ?? throw new NotFoundException("buyer", request.BuyerId);
                (subject, input) = ("buyer", request.BuyerId);
                break;
        }

        var id = Log(classified, subject, input, request.SubjectCase == ClassifyBuyerRequest.SubjectOneofCase.BuyerId ? request.BuyerId : null);
        return new ClassifyBuyerAnswer(classified, id, full, snapshot.Rules);
    }

    public override Task<SuggestStrategiesResponse> SuggestStrategies(SuggestStrategiesRequest request, ServerCallContext context)
    {
        var violations = new Violations()
            .OptionalText(request.Industry, "industry", MaxIndustryLength)
            .Enum(request.Stage, "stage")
            .Enum(request.Kind, "kind", allowUnspecified: false);
        if (request.Kind == BuyerKind.Undetermined)
        {
            violations.Add("kind", "strategies exist for client, customer and hybrid buyers");
        }

        if (request.MaxResults is < 0 or > 50)
        {
            violations.Add("max_results", "must be between 0 and 50");
        }

        violations.ThrowIfAny();
        var knowledge = snapshots.Current.Knowledge;
        var industry = knowledge.FindIndustry(request.Industry);
        var strategies = knowledge.SuggestStrategies(request.Kind.ToDomain()!.Value, industry?.Id, request.Stage.ToDomain(), request.MaxResults == 0 ? 10 : request.MaxResults);
        var response = new SuggestStrategiesResponse();
        response.Strategies.AddRange(strategies.Select(strategyMessages.For));
        return Task.FromResult(response);
    }

    public override async Task<AskResponse> Ask(AskRequest request, ServerCallContext context)
    {
        new Violations().RequireText(request.Question, "question").ThrowIfAny();
        var snapshot = snapshots.Current;
        requestTags.SetRuleSetVersion(context, snapshot.Rules.Version);
        var answer = await answerer.AnswerAsync(snapshot, request.Question, context.CancellationToken);
        var response = new AskResponse
        {
            Intent = answer.Intent.ToProto(),
            Answer = answer.Text,
        };
        if (answer.Classification is { } classified)
        {
            var id = Log(classified, answer.Buyer is null ? "question" : "buyer", answer.Buyer?.Id ?? request.Question, answer.Buyer?.Id);
            response.Classification = classified.ToProto(id, strategyMessages);
        }

        response.Strategies.AddRange((answer.Strategies.Count > 0 ? answer.Strategies : answer.Classification?.Strategies ?? []).Select(strategyMessages.For));
        response.Topics.AddRange(answer.Topics.Select(t => t.ToReference()));
        response.FollowUpQuestions.AddRange(answer.FollowUps);
        if (answer.Buyer is { } buyer)
        {
            response.Buyer = new Buyer { Id = buyer.Id, DisplayName = buyer.DisplayName };
        }

        response.Candidates.AddRange(answer.Candidates.Select(c => new Buyer { Id = c.Id, DisplayName = c.DisplayName }));
        return response;
    }

    public override async Task<V1.Feedback> SubmitFeedback(SubmitFeedbackRequest request, ServerCallContext context)
    {
        new Violations()
            .Enum(request.ExpectedKind, "expected_kind", allowUnspecified: false)
            .Enum(request.ReportedKind, "reported_kind")
            .OptionalText(request.Comment, "comment", MaxCommentLength)
            .OptionalText(request.ClassificationId, "classification_id", MaxIdLength)
            .OptionalText(request.BuyerId, "buyer_id", MaxIdLength)
            .OptionalText(request.Channel, "channel", 50)
            .OptionalText(request.User, "user", MaxIdLength)
            .OptionalText(request.RequestId, "request_id", MaxIdLength)
            .ThrowIfAny();

        var stored = await feedback.AddAsync(new FeedbackRecord(
            Ids.New("f"),
            Blank(request.RequestId),
            Blank(request.ClassificationId),
            Blank(request.BuyerId),
            request.ExpectedKind.ToDomain()!.Value,
            request.ReportedKind.ToDomain(),
            Blank(request.Comment),
            Blank(request.Channel),
            Blank(request.User),
            time.GetUtcNow()), context.CancellationToken);
        return ToProto(stored);
    }

    public override async Task<ListFeedbackResponse> ListFeedback(ListFeedbackRequest request, ServerCallContext context)
    {
        new Violations().PageSize(request.PageSize, 1000).ThrowIfAny();
        Page<FeedbackRecord> page;
        try
        {
            page = await feedback.ListAsync(request.PageSize == 0 ? 50 : request.PageSize, request.PageToken, context.CancellationToken);
        }
        catch (FormatException)
        {
            throw RequestValidationException.For("page_token", "is not a token from a previous response");
        }

        var response = new ListFeedbackResponse { NextPageToken = page.NextPageToken };
        response.Feedback.AddRange(page.Items.Select(ToProto));
        return response;
    }

    private static void ValidateProfile(BuyerProfile profile, Violations violations)
    {
        violations
            .Enum(profile.Agreement, "profile.agreement")
            .Enum(profile.Offering, "profile.offering")
            .Enum(profile.Market, "profile.market")
            .OptionalText(profile.Industry, "profile.industry", MaxIndustryLength);
        if (profile.HasPurchasesPerYear)
        {
            violations.Range(profile.PurchasesPerYear, 0, 100_000, "profile.purchases_per_year");
        }

        if (profile.HasRelationshipMonths)
        {
            violations.Range(profile.RelationshipMonths, 0, 1200, "profile.relationship_months");
        }

        if (profile.HasMonthsSinceLastContact)
        {
            violations.Range(profile.MonthsSinceLastContact, 0, 1200, "profile.months_since_last_contact");
        }
    }

    private string Log(ClassifiedBuyer classified, string subject, string input, string? buyerId)
    {
        var now = time.GetUtcNow();
        var id = _classificationIds.Next(now);
        var r = classified.Result;
        classificationLog.Append(new ClassificationLogEntry(id, now, subject, input, buyerId, r.Kind, r.Confidence, r.Score, r.RuleSetVersion));
        metrics.RecordClassification(r.Kind, r.RuleSetVersion, subject);
        return id;
    }

    private static string? Blank(string value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static V1.Feedback ToProto(FeedbackRecord f) => new()
    {
        Id = f.Id,
        ClassificationId = f.ClassificationId ?? "",
        BuyerId = f.BuyerId ?? "",
        ExpectedKind = f.ExpectedKind.ToProto(),
        ReportedKind = f.ReportedKind?.ToProto() ?? BuyerKind.Unspecified,
        Comment = f.Comment ?? "",
        Channel = f.Channel ?? "",
        User = f.User ?? "",
        CreateTime = f.CreateTime.ToTimestamp(),
    };
}
