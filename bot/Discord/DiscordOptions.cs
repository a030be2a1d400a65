using Microsoft.Extensions.Options;

namespace Advisor.Bot.Discord;

/// <summary>Section "Discord". A class, not a record, so the bot token never reaches a log through ToString.</summary>
public sealed class DiscordOptions
{
    public const string Section = "Discord";

    /// <summary>The application's Ed25519 public key, hex (64 characters). Without it /discord/interactions answers 404.</summary>
    public string? PublicKey { get; set; }

    /// <summary>The application (client) id; needed to register commands.</summary>
    public string? ApplicationId { get; set; }

    /// <summary>Bot token; needed only to register commands (interaction replies use the interaction token).</summary>
    public string? BotToken { get; set; }

    public string ApiBaseUrl { get; set; } = "https://discord.com/api/v10";

    /// <summary>How long an interaction waits for the answer before deferring (type 5) and editing the reply later.</summary>
    public TimeSpan AnswerBudget { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Commands and button presses answered at once; the rest wait their turn, oldest first (see
    /// <see cref="Hosting.AnswerGate"/>; the same default as Slack's, for the same reasons). Autocomplete does not wait:
    /// Discord shows nothing for a late suggestion, and it cannot be deferred.
    /// </summary>
    public int ConcurrentAnswers { get; set; } = 16;

    /// <summary>Answers that may wait for a turn; beyond that the asker is told at once that the advisor is busy.</summary>
    public int QueuedAnswers { get; set; } = 1000;

    public bool IsEnabled => !string.IsNullOrEmpty(PublicKey);
}

public sealed class DiscordOptionsValidator : IValidateOptions<DiscordOptions>
{
    public ValidateOptionsResult Validate(string? name, DiscordOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.ApiBaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add("Discord:ApiBaseUrl must be an absolute http(s) address, e.g. https://discord.com/api/v10.");
        }

        if (options.PublicKey is { Length: > 0 } key && (key.Length != 64 || !key.All(Uri.IsHexDigit)))
        {
            failures.Add("Discord:PublicKey must be the application's public key: 64 hexadecimal characters.");
        }

        if (options.ApplicationId is { Length: > 0 } id && !id.All(char.IsAsciiDigit))
        {
            failures.Add("Discord:ApplicationId must be the numeric application id.");
        }

        if (options.BotToken is { } token && token.Any(char.IsWhiteSpace))
        {
            failures.Add("Discord:BotToken must not contain whitespace.");
        }

        if (options.AnswerBudget < TimeSpan.Zero || options.AnswerBudget > TimeSpan.FromMilliseconds(2500))
        {
            failures.Add("Discord:AnswerBudget must be between 0 and 2.5 seconds (Discord waits 3).");
        }

        if (options.ConcurrentAnswers is < 1 or > 1024)
        {
            failures.Add("Discord:ConcurrentAnswers must be between 1 and 1024.");
        }

        if (options.QueuedAnswers is < 0 or > 100_000)
        {
            failures.Add("Discord:QueuedAnswers must be between 0 and 100000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
