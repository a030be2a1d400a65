using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Advisor.Bot.Conversation;
using Advisor.Bot.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.Slack;

/// <summary>
/// Slack's three endpoints: verify the signature on the raw body first (401 and no work otherwise), acknowledge
/// within Slack's 3 seconds, and deliver the answer inline, to response_url or with chat.postMessage.
/// </summary>
public sealed partial class SlackAdapter(
    ConversationCore core,
    BackgroundWork background,
    [FromKeyedServices(SlackAdapter.GateKey)] AnswerGate gate,
    SlackApiClient slack,
    RecentIds seenEvents,
    IOptions<SlackOptions> options,
    TimeProvider timeProvider,
    Telemetry.BotMetrics metrics,
    ILogger<SlackAdapter> logger)
{
    public static readonly IReadOnlyList<string> Usage =
    [
        "/advisor <question>, e.g. /advisor is a buyer on a yearly retainer a client?",
        "/advisor classify <description of the buyer>",
        "/advisor compare",
        "/advisor buyer <name>",
        "/advisor strategy <client|customer|hybrid> [industry]",
        "/advisor help",
        "or mention @Advisor in a channel, or send it a direct message",
    ];

    /// <summary>The service key of the slash commands' <see cref="AnswerGate"/>.</summary>
    public const string GateKey = "slack-commands";

    private const string Channel = "slack";

    public async Task<IResult> CommandAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (await VerifiedBodyAsync(request, cancellationToken) is not { } body)
        {
            return Results.Unauthorized();
        }

        // A field left out of the form reads as empty (a missing response_url means: answer inline).
        var (text, userId, responseUrlText) = SlashCommandForm.Parse(Encoding.UTF8.GetString(body));
        var context = new ConversationContext(Channel, userId);
        Uri.TryCreate(responseUrlText, UriKind.Absolute, out var responseUrl);

        // The wait for a turn counts against the budget: a command still queued when it runs out is acknowledged and
        // answered through response_url like a slow one.
        var answer = AnswerInTurnAsync(CommandGrammar.Parse(text, Usage), context);
        if (await AnswerBudget.FinishedWithinAsync(answer, options.Value.AnswerBudget, cancellationToken) || responseUrl is null)
        {
            var (reply, turn) = await answer;
            // The turn ends once the answer is written, so that writing it is queued in order too.
            request.HttpContext.Response.RegisterForDispose(turn);
            return new JsonBody(writer => SlackRenderer.WriteCommandResponse(writer, reply));
        }

        background.Run("slack command answer", async stopping =>
        {
            JsonObject message;
            var (reply, turn) = await answer;
            using (turn)
            {
                message = SlackRenderer.CommandResponse(reply, viaResponseUrl: true);
            }

            await slack.PostToResponseUrlAsync(responseUrl, message, stopping);
        });
        return new JsonBody(new JsonObject { ["response_type"] = "ephemeral", ["text"] = "Thinking about it\u2026" });
    }

    public async Task<IResult> EventAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (await VerifiedBodyAsync(request, cancellationToken) is not { } body)
        {
            return Results.Unauthorized();
        }

        JsonObject? envelope;
        try
        {
            envelope = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }

        switch (Str(envelope, "type"))
        {
            case "url_verification":
                return new JsonBody(new JsonObject { ["challenge"] = Str(envelope, "challenge") });
            case "event_callback":
                break;
            default:
                return Results.Ok();
        }

        var eventId = Str(envelope, "event_id");
        if (eventId.Length > 0 && !seenEvents.TryAdd(eventId))
        {
            logger.LogInformation("Slack event {EventId} already handled (retry {Retry}); acknowledged only", eventId, request.Headers["X-Slack-Retry-Num"].ToString());
            return Results.Ok();
        }

        if (envelope?["event"] is not JsonObject ev || !ShouldAnswer(envelope, ev))
        {
            return Results.Ok();
        }

        var channel = Str(ev, "channel");
        var isMention = Str(ev, "type") == "app_mention";
        // A mention is answered in its thread; a DM in the conversation (or in its thread, if it came from one).
        var threadTs = isMention ? FirstNonEmpty(Str(ev, "thread_ts"), Str(ev, "ts")) : Str(ev, "thread_ts");
        var question = MentionPattern().Replace(Str(ev, "text"), " ").Trim();
        var context = new ConversationContext(Channel, Str(ev, "user"));

        background.Run("slack event answer", async stopping =>
        {
            var reply = await core.HandleAsync(CommandGrammar.Parse(question, Usage), context, stopping);
            await slack.PostMessageAsync(SlackRenderer.PostMessage(reply, channel, threadTs), stopping);
        });
        return Results.Ok();
    }

    public async Task<IResult> InteractionAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (await VerifiedBodyAsync(request, cancellationToken) is not { } body)
        {
            return Results.Unauthorized();
        }

        JsonObject? payload;
        try
        {
            payload = JsonNode.Parse(QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body))["payload"].ToString()) as JsonObject;
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }

        if (Str(payload, "type") != "block_actions"
            || payload?["actions"] is not JsonArray { Count: > 0 } actions
            || !Uri.TryCreate(Str(payload, "response_url"), UriKind.Absolute, out var responseUrl))
        {
            return Results.Ok();
        }

        var actionId = FirstNonEmpty(Str(actions[0], "value"), Str(actions[0], "action_id"));
        var context = new ConversationContext(Channel, Str(payload["user"], "id"));

        // Slack ignores the HTTP body of a block_actions acknowledgement: every answer goes to response_url.
        background.Run("slack button answer", async stopping =>
        {
            var reply = await core.HandleAsync(new PressButton(actionId), context, stopping);
            var page = ReplyAction.TryParse(actionId, out var action) && action.Kind == ReplyActionKind.More && reply.Status == ReplyStatus.Answer
                ? action.Argument
                : 0;
            await slack.PostToResponseUrlAsync(responseUrl, SlackRenderer.CommandResponse(reply, page, viaResponseUrl: true), stopping);
        });
        return Results.Ok();
    }

    /// <summary>
    /// The answer once the gate gives this command its turn, with the turn to end when the answer has been
    /// delivered; a busy reply (and no turn) when too many commands are waiting already.
    /// </summary>
    private Task<(Reply Reply, IDisposable Turn)> AnswerInTurnAsync(ConversationRequest question, ConversationContext context) =>
        gate.AnswerInTurnAsync(
            stopping => core.HandleAsync(question, context, stopping),
            () =>
            {
                metrics.AnswerRejected(Channel);
                logger.LogWarning("Slack command queue full ({Queued} waiting); told the asker the advisor is busy", options.Value.QueuedAnswers);
            },
            background.Stopping);

    /// <summary>The raw body if the signature is valid and fresh; null (and nothing else done) otherwise.</summary>
    private async Task<byte[]?> VerifiedBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RawBody.ReadAsync(request, cancellationToken);
        var valid = body is not null && SlackSignature.Verify(
            options.Value.SigningSecret ?? "",
            request.Headers["X-Slack-Request-Timestamp"].ToString(),
            request.Headers["X-Slack-Signature"].ToString(),
            body,
            timeProvider.GetUtcNow(),
            options.Value.MaxClockSkew);
        if (!valid)
        {
            metrics.VerificationFailed("slack");
            logger.LogWarning("Rejected a Slack request to {Path}: missing, invalid or expired signature", request.Path);
            return null;
        }

        return body;
    }

    /// <summary>Never answer a bot (ourselves included) or an edit/join/other subtype: that way lies an endless loop.</summary>
    private static bool ShouldAnswer(JsonObject? envelope, JsonObject ev)
    {
        if (ev["bot_id"] is not null || ev["bot_profile"] is not null || Str(ev, "subtype").Length > 0 || Str(ev, "user").Length == 0)
        {
            return false;
        }

        var ourUsers = envelope?["authorizations"] is JsonArray authorizations
            ? authorizations.Where(a => a?["is_bot"]?.GetValueKind() == JsonValueKind.True).Select(a => Str(a, "user_id")).ToHashSet()
            : [];
        if (ourUsers.Contains(Str(ev, "user")))
        {
            return false;
        }

        return Str(ev, "type") switch
        {
            "app_mention" => true,
            "message" => Str(ev, "channel_type") == "im",
            _ => false,
        };
    }

    private static string Str(JsonNode? node, string property) =>
        node is JsonObject obj && obj[property] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : "";

    private static string FirstNonEmpty(string first, string second) => first.Length > 0 ? first : second;

    [GeneratedRegex(@"<@[A-Z0-9]+(\|[^>]*)?>", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex MentionPattern();
}
