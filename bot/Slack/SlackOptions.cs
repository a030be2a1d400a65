using Microsoft.Extensions.Options;

namespace Advisor.Bot.Slack;

/// <summary>Section "Slack". A class, not a record, so the secrets never reach a log through ToString.</summary>
public sealed class SlackOptions
{
    public const string Section = "Slack";

    /// <summary>Verifies that requests come from Slack. Without it the Slack endpoints answer 404.</summary>
    public string? SigningSecret { get; set; }

    /// <summary>xoxb- token for chat.postMessage (answers to mentions and DMs).</summary>
    public string? BotToken { get; set; }

    public string ApiBaseUrl { get; set; } = "https://slack.com/api";

    /// <summary>How long a slash command waits for the answer before acknowledging and using response_url.</summary>
    public TimeSpan AnswerBudget { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Slash commands answered at once; the rest wait their turn, oldest first (see <see cref="Hosting.AnswerGate"/>).
    /// 16 on two cores: with 4 the cores idled between the hops of an answer (webhook, gRPC client, in-process
    /// server) and throughput fell in busy-machine A/B runs; with 16 it matched no limit while 84 of 100 requests in
    /// flight still queue in arrival order (docs/benchmarks.md, "Slack answer gate").
    /// </summary>
    public int ConcurrentAnswers { get; set; } = 16;

    /// <summary>Slash commands that may wait for a turn; beyond that the asker is told at once that the advisor is busy.</summary>
    public int QueuedAnswers { get; set; } = 1000;

    /// <summary>Requests signed further than this from now are replays and rejected.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    public bool IsEnabled => !string.IsNullOrEmpty(SigningSecret);
}

public sealed class SlackOptionsValidator : IValidateOptions<SlackOptions>
{
    public ValidateOptionsResult Validate(string? name, SlackOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.ApiBaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add("Slack:ApiBaseUrl must be an absolute http(s) address, e.g. https://slack.com/api.");
        }

        if (options.SigningSecret is { } secret && secret.Any(char.IsWhiteSpace))
        {
            failures.Add("Slack:SigningSecret must not contain whitespace.");
        }

        if (options.BotToken is { Length: > 0 } token && (token.Any(char.IsWhiteSpace) || !token.StartsWith("xox", StringComparison.Ordinal)))
        {
            failures.Add("Slack:BotToken must be a Slack token (xoxb-…).");
        }

        if (options.AnswerBudget < TimeSpan.Zero || options.AnswerBudget > TimeSpan.FromMilliseconds(2500))
        {
            failures.Add("Slack:AnswerBudget must be between 0 and 2.5 seconds (Slack waits 3).");
        }

        if (options.ConcurrentAnswers is < 1 or > 1024)
        {
            failures.Add("Slack:ConcurrentAnswers must be between 1 and 1024.");
        }

        if (options.QueuedAnswers is < 0 or > 100_000)
        {
            failures.Add("Slack:QueuedAnswers must be between 0 and 100000.");
        }

        if (options.MaxClockSkew <= TimeSpan.Zero || options.MaxClockSkew > TimeSpan.FromMinutes(5))
        {
            failures.Add("Slack:MaxClockSkew must be positive and at most 5 minutes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
