namespace Advisor.Bot.Conversation;

/// <summary>Which kind of buyer a reply is about, independent of the wire contract.</summary>
public enum ReplyKind
{
    None,
    Client,
    Customer,
    Hybrid,
    Undetermined,
}

/// <summary>What sort of reply this is, so adapters can pick tone and visibility.</summary>
public enum ReplyStatus
{
    /// <summary>A real answer from the advisor.</summary>
    Answer,
    /// <summary>Usage help, composed by the bot itself.</summary>
    Help,
    /// <summary>A short acknowledgement (feedback recorded, and so on).</summary>
    Notice,
    /// <summary>The question was not usable (empty, too long, unknown buyer).</summary>
    Invalid,
    /// <summary>The advisory service could not answer in time; try again later.</summary>
    Unavailable,
}

public enum ReplyButtonStyle
{
    Default,
    Primary,
    Danger,
}

/// <summary>A labelled value shown next to the answer ("Kind: Client").</summary>
public sealed record ReplyFact(string Label, string Value);

/// <summary>A titled list ("Why", "Strategies").</summary>
public sealed record ReplySection(string Heading, IReadOnlyList<string> Items);

/// <summary>A button; <see cref="ActionId"/> is an encoded <see cref="ReplyAction"/>, at most 64 characters.</summary>
public sealed record ReplyButton(string Label, string ActionId, ReplyButtonStyle Style = ReplyButtonStyle.Default);

/// <summary>
/// The platform-neutral answer: adapters render it as Block Kit, embeds or console text.
/// Nothing in here knows about Slack or Discord.
/// </summary>
public sealed record Reply
{
    /// <summary>Short id under which the reply is remembered, for buttons that refer back to it.</summary>
    public string Id { get; init; } = "";
    public ReplyStatus Status { get; init; } = ReplyStatus.Answer;
    public string Title { get; init; } = "";
    /// <summary>The answer in plain text (newlines allowed, no markup).</summary>
    public string Text { get; init; } = "";
    public ReplyKind Kind { get; init; } = ReplyKind.None;
    public double? Confidence { get; init; }
    public IReadOnlyList<ReplyFact> Facts { get; init; } = [];
    public IReadOnlyList<ReplySection> Sections { get; init; } = [];
    public IReadOnlyList<ReplyButton> Buttons { get; init; } = [];
    public IReadOnlyList<string> FollowUps { get; init; } = [];

    /// <summary>Only the asker needs to see it (errors, help, acknowledgements).</summary>
    public bool IsPrivate => Status is not ReplyStatus.Answer;

    public static Reply Unavailable() => new()
    {
        Status = ReplyStatus.Unavailable,
        Title = "Advisor unavailable",
        Text = UnavailableText,
    };

    /// <summary>Too many questions are waiting already: said at once instead of leaving the asker without an answer.</summary>
    public static Reply Busy() => new()
    {
        Status = ReplyStatus.Unavailable,
        Title = "Advisor busy",
        Text = BusyText,
    };

    public static Reply Invalid(string text) => new() { Status = ReplyStatus.Invalid, Title = "Can't answer that", Text = text };

    public static Reply Notice(string title, string text) => new() { Status = ReplyStatus.Notice, Title = title, Text = text };

    public const string UnavailableText = "The advisor is unavailable, try again in a minute.";

    public const string BusyText = "The advisor is busy with other questions, try again in a minute.";
}
