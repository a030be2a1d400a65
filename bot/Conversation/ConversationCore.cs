using Advisor.Bot.AdvisorClient;
using Advisor.V1;
using Grpc.Core;

namespace Advisor.Bot.Conversation;

/// <summary>
/// Question in, <see cref="Reply"/> out. Knows the advisory service (through <see cref="AdvisorGateway"/>) and
/// nothing of Slack, Discord or the console. Never throws for a service failure: the reply says so instead.
/// </summary>
public sealed class ConversationCore(AdvisorGateway gateway, ReplyMemory memory, ILogger<ConversationCore> logger)
{
    public const int MaxQuestionLength = 8192;
    public const string CompareQuestion = "What is the difference between a client and a customer?";

    public async Task<Reply> HandleAsync(ConversationRequest request, ConversationContext context, CancellationToken cancellationToken)
    {
        try
        {
            return request switch
            {
                AskQuestion ask => await AskAsync(ask.Question, cancellationToken),
                ClassifyDescription classify => await ClassifyAsync(classify.Description, cancellationToken),
                CompareKinds => await AskAsync(CompareQuestion, cancellationToken),
                SuggestStrategiesFor strategies => await StrategiesAsync(strategies.Kind, strategies.Industry, cancellationToken),
                LookUpBuyer lookUp => await LookUpAsync(lookUp.NameOrId, cancellationToken),
                ShowHelp help => Help(help.Usage),
                PressButton press => await PressAsync(press.ActionId, context, cancellationToken),
                _ => Reply.Invalid("I don't know how to do that."),
            };
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.OutOfRange or StatusCode.FailedPrecondition)
        {
            return Reply.Invalid(string.IsNullOrWhiteSpace(e.Status.Detail) ? "The advisor could not use that question." : e.Status.Detail);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return Reply.Invalid(string.IsNullOrWhiteSpace(e.Status.Detail) ? "Not found." : e.Status.Detail);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            logger.LogError("The advisory service refused the bot ({Status}); check Advisor:ApiKey", e.StatusCode);
            return Reply.Unavailable();
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("The advisory service did not answer: {Status} {Detail}", e.StatusCode, e.Status.Detail);
            return Reply.Unavailable();
        }
    }

    /// <summary>Buyers whose name matches, for autocomplete; empty when the service is down or slow.</summary>
    public async Task<IReadOnlyList<(string Name, string Value)>> SuggestBuyersAsync(string partial, int max, CancellationToken cancellationToken)
    {
        partial = partial.Trim();
        if (partial.Length is 0 or > 200)
        {
            return [];
        }

        try
        {
            var buyers = await gateway.SearchBuyersAsync(partial, max, cancellationToken);
            return buyers.Take(max).Select(b => (b.DisplayName, LookUpBuyer.IdPrefix + b.Id)).ToList();
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Buyer search failed: {Status}", e.StatusCode);
            return [];
        }
    }

    public Reply Help(IReadOnlyList<string> usage) => new()
    {
        Status = ReplyStatus.Help,
        Title = "Advisor: client or customer?",
        Text = "I tell you whether a buyer is a client (comes back for professional service or advice, in a relationship "
            + "built on trust, usually under an agreement) or a customer (buys in a transaction and may never return), "
            + "why, and how to engage them.",
        Sections =
        [
            new ReplySection("Commands", usage),
            new ReplySection("Try asking",
            [
                "is a buyer on a yearly retainer a client?",
                "client vs customer?",
                "is Acme a client?",
                "how do I keep customers in retail?",
            ]),
        ],
    };

    private async Task<Reply> AskAsync(string question, CancellationToken cancellationToken)
    {
        question = question.Trim();
        if (Validate(question, "question") is { } invalid)
        {
            return invalid;
        }

        var response = await gateway.AskAsync(question, cancellationToken);
        var (reply, subject) = ReplyComposer.FromAsk(question, response);
        return Finish(reply, subject);
    }

    private async Task<Reply> ClassifyAsync(string description, CancellationToken cancellationToken)
    {
        description = description.Trim();
        if (Validate(description, "description") is { } invalid)
        {
            return invalid;
        }

        var classification = await gateway.ClassifyDescriptionAsync(description, cancellationToken);
        var (reply, subject) = ReplyComposer.FromClassification(description, classification);
        return Finish(reply, subject);
    }

    private async Task<Reply> LookUpAsync(string nameOrId, CancellationToken cancellationToken)
    {
        nameOrId = nameOrId.Trim();
        if (nameOrId.StartsWith(LookUpBuyer.IdPrefix, StringComparison.Ordinal) && nameOrId.Length > LookUpBuyer.IdPrefix.Length)
        {
            var id = nameOrId[LookUpBuyer.IdPrefix.Length..];
            var buyer = await gateway.GetBuyerAsync(id, cancellationToken);
            var classification = buyer.Classification ?? await gateway.ClassifyBuyerAsync(id, cancellationToken);
            var (reply, subject) = ReplyComposer.FromClassification($"Is {buyer.DisplayName} a client?", classification, buyer.DisplayName, buyer.Id);
            return Finish(reply, subject);
        }

        return await AskAsync($"Is {nameOrId} a client or a customer?", cancellationToken);
    }

    private async Task<Reply> StrategiesAsync(ReplyKind kind, string industry, CancellationToken cancellationToken)
    {
        if (kind is not (ReplyKind.Client or ReplyKind.Customer or ReplyKind.Hybrid))
        {
            return Reply.Invalid("Strategies are for a client, a customer or a hybrid buyer.");
        }

        industry = industry.Trim();
        if (industry.Length > 100)
        {
            return Reply.Invalid("The industry can be at most 100 characters.");
        }

        var strategies = await gateway.SuggestStrategiesAsync(ReplyComposer.ToProto(kind), industry, cancellationToken);
        return memory.Remember(ReplyComposer.FromStrategies(kind, industry, strategies), new ReplySubject { Kind = kind, Industry = industry });
    }

    private async Task<Reply> PressAsync(string actionId, ConversationContext context, CancellationToken cancellationToken)
    {
        if (!ReplyAction.TryParse(actionId, out var action))
        {
            return Reply.Invalid("I don't recognise that button.");
        }

        if (memory.Recall(action.ReplyId) is not { } remembered)
        {
            return Reply.Notice("That answer has expired", "I no longer remember that answer; please ask again.");
        }

        var subject = remembered.Subject;
        switch (action.Kind)
        {
            case ReplyActionKind.ShowEvidence:
                return new Reply
                {
                    Id = remembered.Reply.Id,
                    Title = $"Evidence: {remembered.Reply.Title}",
                    Kind = subject.Kind,
                    Text = subject.Evidence.Count == 0 ? "No evidence was recorded for this answer." : $"Everything the advisor weighed, strongest first ({subject.Evidence.Count}).",
                    Sections = subject.Evidence.Count == 0 ? [] : [new ReplySection("Evidence", subject.Evidence)],
                };
            case ReplyActionKind.SuggestStrategies:
                return await StrategiesAsync(subject.Kind, subject.Industry, cancellationToken);
            case ReplyActionKind.FollowUp when action.Argument >= 0 && action.Argument < remembered.Reply.FollowUps.Count:
                return await AskAsync(remembered.Reply.FollowUps[action.Argument], cancellationToken);
            case ReplyActionKind.ReportWrong when Enum.IsDefined((ReplyKind)action.Argument) && (ReplyKind)action.Argument != ReplyKind.None:
                var expected = (ReplyKind)action.Argument;
                await gateway.SubmitFeedbackAsync(
                    new SubmitFeedbackRequest
                    {
                        ClassificationId = subject.ClassificationId,
                        BuyerId = subject.BuyerId,
                        ExpectedKind = ReplyComposer.ToProto(expected),
                        ReportedKind = ReplyComposer.ToProto(subject.Kind),
                        Comment = Truncate($"Marked wrong in {context.Channel}. Question: {subject.Question}", 2000),
                        Channel = context.Channel,
                        User = context.User,
                        // One press is one piece of feedback, however often the platform or our retry policy repeats it.
                        RequestId = $"{context.Channel}:{context.User}:{remembered.Reply.Id}:{action.Argument}",
                    },
                    cancellationToken);
                return Reply.Notice("Thanks for the feedback", $"Recorded: you expected {ReplyComposer.KindName(expected).ToLowerInvariant()}, not {ReplyComposer.KindName(subject.Kind).ToLowerInvariant()}. The rule owners will review it.");
            case ReplyActionKind.More:
                // The adapter renders the requested page of the remembered reply.
                return remembered.Reply;
            default:
                return Reply.Invalid("I don't recognise that button.");
        }
    }

    /// <summary>Remembers the reply and gives it the buttons that refer back to it.</summary>
    private Reply Finish(Reply reply, ReplySubject subject)
    {
        var id = ReplyMemory.NewId();
        var buttons = new List<ReplyButton>();
        if (subject.Evidence.Count > 0)
        {
            buttons.Add(new ReplyButton("Show evidence", new ReplyAction(ReplyActionKind.ShowEvidence, id).Encode()));
        }

        if (subject.Kind is ReplyKind.Client or ReplyKind.Customer or ReplyKind.Hybrid)
        {
            buttons.Add(new ReplyButton("Suggest strategies", new ReplyAction(ReplyActionKind.SuggestStrategies, id).Encode(), ReplyButtonStyle.Primary));
        }

        if (subject.Kind != ReplyKind.None)
        {
            foreach (var other in new[] { ReplyKind.Client, ReplyKind.Customer }.Where(k => k != subject.Kind))
            {
                var label = subject.Kind is ReplyKind.Client or ReplyKind.Customer
                    ? $"That's wrong (it's a {ReplyComposer.KindName(other).ToLowerInvariant()})"
                    : $"Wrong: it's a {ReplyComposer.KindName(other).ToLowerInvariant()}";
                buttons.Add(new ReplyButton(label, new ReplyAction(ReplyActionKind.ReportWrong, id, (int)other).Encode(), ReplyButtonStyle.Danger));
            }
        }

        for (var i = 0; i < reply.FollowUps.Count; i++)
        {
            buttons.Add(new ReplyButton(reply.FollowUps[i], new ReplyAction(ReplyActionKind.FollowUp, id, i).Encode()));
        }

        return memory.Remember(reply with { Id = id, Buttons = buttons }, subject);
    }

    private static Reply? Validate(string text, string what) => text.Length switch
    {
        0 => Reply.Invalid($"Please give a {what}."),
        > MaxQuestionLength => Reply.Invalid($"The {what} is too long: at most {MaxQuestionLength:N0} characters."),
        _ => null,
    };

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "\u2026";
}
