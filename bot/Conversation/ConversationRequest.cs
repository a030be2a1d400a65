namespace Advisor.Bot.Conversation;

/// <summary>Who is asking and from where; used for feedback attribution and logs (never secrets).</summary>
public sealed record ConversationContext(string Channel, string User);

/// <summary>What someone asked the bot, already separated from any platform syntax.</summary>
public abstract record ConversationRequest
{
    private protected ConversationRequest()
    {
    }
}

/// <summary>A question in plain language, answered by AdvisorService.Ask.</summary>
public sealed record AskQuestion(string Question) : ConversationRequest;

/// <summary>Classify a described buyer with AdvisorService.ClassifyBuyer.</summary>
public sealed record ClassifyDescription(string Description) : ConversationRequest;

/// <summary>Clients versus customers.</summary>
public sealed record CompareKinds : ConversationRequest;

/// <summary>Strategies for a kind of buyer, optionally in an industry.</summary>
public sealed record SuggestStrategiesFor(ReplyKind Kind, string Industry) : ConversationRequest;

/// <summary>A buyer in the registry: "id:{buyer id}" (from autocomplete) or a name.</summary>
public sealed record LookUpBuyer(string NameOrId) : ConversationRequest
{
    public const string IdPrefix = "id:";
}

/// <summary>What the bot can do; <paramref name="Usage"/> holds the platform's own syntax lines.</summary>
public sealed record ShowHelp(IReadOnlyList<string> Usage) : ConversationRequest;

/// <summary>A button press: the encoded action from <see cref="ReplyButton.ActionId"/>.</summary>
public sealed record PressButton(string ActionId) : ConversationRequest;
