namespace Advisor.Bot.Conversation;

/// <summary>
/// The plain-text command grammar shared by the console and Slack's /advisor:
/// "help", "compare", "classify &lt;description&gt;", "strategy &lt;kind&gt; [industry]", "buyer &lt;name&gt;", otherwise a question.
/// </summary>
public static class CommandGrammar
{
    public static ConversationRequest Parse(string text, IReadOnlyList<string> usage)
    {
        text = text.Trim();
        var space = text.IndexOfAny([' ', '\n', '\t']);
        var verb = (space < 0 ? text : text[..space]).ToLowerInvariant();
        var rest = space < 0 ? "" : text[(space + 1)..].Trim();
        switch (verb)
        {
            case "" or "help" or "/help" or "?":
                return new ShowHelp(usage);
            case "compare" or "/compare" when rest.Length == 0:
                return new CompareKinds();
            case "classify" or "/classify":
                return rest.Length == 0 ? new ShowHelp(usage) : new ClassifyDescription(rest);
            case "buyer" or "/buyer":
                return rest.Length == 0 ? new ShowHelp(usage) : new LookUpBuyer(rest);
            case "strategy" or "strategies" or "/strategy":
                var kindWord = rest.Split(' ', 2)[0].ToLowerInvariant();
                var industry = rest.Length > kindWord.Length ? rest[kindWord.Length..].Trim() : "";
                return ParseKind(kindWord) is { } kind ? new SuggestStrategiesFor(kind, industry) : new AskQuestion(text);
            default:
                return new AskQuestion(text);
        }
    }

    public static ReplyKind? ParseKind(string word) => word.Trim().ToLowerInvariant() switch
    {
        "client" or "clients" => ReplyKind.Client,
        "customer" or "customers" => ReplyKind.Customer,
        "hybrid" => ReplyKind.Hybrid,
        _ => null,
    };
}
