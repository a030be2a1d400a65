using System.Text.Json;
using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;
using Advisor.Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Advisor.Bot.Discord;

/// <summary>
/// POST /discord/interactions: verify the Ed25519 signature on the raw body (401 and no work otherwise), then answer
/// PING, the /advisor subcommands, autocomplete and button presses within Discord's 3 seconds: type 4 when the
/// answer is ready within the budget, otherwise type 5 and a PATCH of @original when it is.
/// </summary>
public sealed class DiscordAdapter(
    ConversationCore core,
    BackgroundWork background,
    [FromKeyedServices(DiscordAdapter.GateKey)] AnswerGate gate,
    DiscordApiClient discord,
    DiscordSignature signature,
    IOptions<DiscordOptions> options,
    Telemetry.BotMetrics metrics,
    ILogger<DiscordAdapter> logger)
{
    public const int MaxChoices = 25;

    /// <summary>The service key of the commands' and buttons' <see cref="AnswerGate"/>.</summary>
    public const string GateKey = "discord-answers";
    private const string Channel = "discord";

    public static readonly IReadOnlyList<string> Usage =
    [
        "/advisor ask question:<text>",
        "/advisor classify description:<text>",
        "/advisor buyer name:<name> (suggests buyers as you type)",
        "/advisor compare",
        "/advisor strategy kind:<client|customer|hybrid> industry:<text>",
        "/advisor help",
        "add private:true to see the answer on your own",
    ];

    public async Task<IResult> InteractionAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RawBody.ReadAsync(request, cancellationToken);
        if (body is null || !signature.Verify(request.Headers["X-Signature-Timestamp"].ToString(), request.Headers["X-Signature-Ed25519"].ToString(), body))
        {
            metrics.VerificationFailed("discord");
            logger.LogWarning("Rejected a Discord request: missing or invalid signature");
            return Results.Unauthorized();
        }

        JsonObject interaction;
        try
        {
            if (JsonNode.Parse(body) is not JsonObject parsed)
            {
                return Results.BadRequest();
            }

            interaction = parsed;
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }

        return Int(interaction["type"]) switch
        {
            1 => new JsonBody(new JsonObject { ["type"] = 1 }),
            2 => await CommandAsync(interaction, cancellationToken),
            3 => await ComponentAsync(interaction, cancellationToken),
            4 => await AutocompleteAsync(interaction, cancellationToken),
            _ => Results.BadRequest(),
        };
    }

    private async Task<IResult> CommandAsync(JsonObject interaction, CancellationToken cancellationToken)
    {
        var subcommand = (interaction["data"]?["options"] as JsonArray)?.FirstOrDefault() as JsonObject;
        var values = Options(subcommand);
        var isPrivate = values.TryGetValue("private", out var p) && p.GetValueKind() == JsonValueKind.True;
        ConversationRequest request = Str(subcommand, "name") switch
        {
            "ask" => new AskQuestion(StrValue(values, "question")),
            "classify" => new ClassifyDescription(StrValue(values, "description")),
            "buyer" => new LookUpBuyer(StrValue(values, "name")),
            "compare" => new CompareKinds(),
            "strategy" => CommandGrammar.ParseKind(StrValue(values, "kind")) is { } kind
                ? new SuggestStrategiesFor(kind, StrValue(values, "industry"))
                : new ShowHelp(Usage),
            _ => new ShowHelp(Usage),
        };

        var answer = AnswerInTurnAsync(request, Context(interaction));
        return await RespondAsync(interaction, answer, page: _ => 0, isPrivate, cancellationToken);
    }

    private async Task<IResult> ComponentAsync(JsonObject interaction, CancellationToken cancellationToken)
    {
        var customId = Str(interaction["data"], "custom_id");
        var answer = AnswerInTurnAsync(new PressButton(customId), Context(interaction));
        int Page(Reply reply) => ReplyAction.TryParse(customId, out var action) && action.Kind == ReplyActionKind.More && reply.Status == ReplyStatus.Answer
            ? action.Argument
            : 0;
        return await RespondAsync(interaction, answer, Page, isPrivate: false, cancellationToken);
    }

    private async Task<IResult> AutocompleteAsync(JsonObject interaction, CancellationToken cancellationToken)
    {
        var subcommand = (interaction["data"]?["options"] as JsonArray)?.FirstOrDefault() as JsonObject;
        var focused = (subcommand?["options"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(o => o["focused"]?.GetValueKind() == JsonValueKind.True);
        var typed = focused?["value"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "";

        var buyers = await core.SuggestBuyersAsync(typed, MaxChoices, cancellationToken);
        var choices = buyers.Take(MaxChoices)
            .Select(b => (JsonNode)new JsonObject
            {
                ["name"] = TextChunks.Trim(b.Name.Length > 0 ? b.Name : b.Value, 100),
                ["value"] = b.Value.Length <= 100 ? b.Value : TextChunks.Trim(b.Name, 100),
            })
            .ToArray();
        return new JsonBody(new JsonObject { ["type"] = 8, ["data"] = new JsonObject { ["choices"] = new JsonArray(choices) } });
    }

    /// <summary>
    /// Type 4 when the answer (its wait for a turn included) is ready within the budget, otherwise type 5 and a PATCH of
    /// @original once it is. The turn ends when the answer is rendered.
    /// </summary>
    private async Task<IResult> RespondAsync(JsonObject interaction, Task<(Reply Reply, IDisposable Turn)> answer, Func<Reply, int> page, bool isPrivate, CancellationToken cancellationToken)
    {
        if (await AnswerBudget.FinishedWithinAsync(answer, options.Value.AnswerBudget, cancellationToken))
        {
            var (reply, turn) = await answer;
            using (turn)
            {
                return new JsonBody(new JsonObject
                {
                    ["type"] = 4,
                    ["data"] = DiscordRenderer.Render(reply, page(reply), ephemeral: isPrivate || reply.IsPrivate),
                });
            }
        }

        var applicationId = Str(interaction, "application_id") is { Length: > 0 } id ? id : options.Value.ApplicationId ?? "";
        var token = Str(interaction, "token");
        background.Run("discord deferred answer", async stopping =>
        {
            JsonObject message;
            var (reply, turn) = await answer;
            using (turn)
            {
                message = DiscordRenderer.Render(reply, page(reply));
            }

            await discord.EditOriginalAsync(applicationId, token, message, stopping);
        });

        var deferred = new JsonObject { ["type"] = 5 };
        if (isPrivate)
        {
            deferred["data"] = new JsonObject { ["flags"] = DiscordRenderer.EphemeralFlag };
        }

        return new JsonBody(deferred);
    }

    /// <summary>The answer after waiting for a turn at the gate (as Slack's commands do); busy when the queue is full.</summary>
    private Task<(Reply Reply, IDisposable Turn)> AnswerInTurnAsync(ConversationRequest question, ConversationContext context) =>
        gate.AnswerInTurnAsync(
            stopping => core.HandleAsync(question, context, stopping),
            () =>
            {
                metrics.AnswerRejected(Channel);
                logger.LogWarning("Discord answer queue full ({Queued} waiting); told the asker the advisor is busy", options.Value.QueuedAnswers);
            },
            background.Stopping);

    private static ConversationContext Context(JsonObject interaction) =>
        new(Channel, Str(interaction["member"]?["user"], "id") is { Length: > 0 } member ? member : Str(interaction["user"], "id"));

    private static Dictionary<string, JsonNode> Options(JsonObject? subcommand)
    {
        var values = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var option in (subcommand?["options"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            if (Str(option, "name") is { Length: > 0 } name && option["value"] is { } value)
            {
                values[name] = value;
            }
        }

        return values;
    }

    private static string StrValue(Dictionary<string, JsonNode> values, string name) =>
        values.TryGetValue(name, out var node) && node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : "";

    private static string Str(JsonNode? node, string property) =>
        node is JsonObject obj && obj[property] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : "";

    private static int Int(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var number) ? number : 0;
}
