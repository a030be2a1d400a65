using System.Text.Json;
using System.Text.Json.Nodes;

namespace Advisor.Bot.Discord;

/// <summary>The /advisor command with its subcommands, as registered with Discord.</summary>
public static class DiscordCommandTree
{
    public const string CommandName = "advisor";

    public static JsonArray Build() =>
    [
        new JsonObject
        {
            ["name"] = CommandName,
            ["type"] = 1,
            ["description"] = "Is a buyer a client or a customer? Ask the advisor.",
            ["options"] = new JsonArray
            {
                Sub("ask", "Ask a question in plain language", Text("question", "Your question, e.g. is a buyer on a yearly retainer a client?", required: true), Private()),
                Sub("classify", "Classify a buyer from a description", Text("description", "What you know about the buyer", required: true), Private()),
                Sub("buyer", "Look a buyer up in the registry", Text("name", "The buyer's name", required: true, autocomplete: true), Private()),
                Sub("compare", "Clients versus customers", Private()),
                Sub("strategy", "How to engage a kind of buyer", Kind(), Text("industry", "Your industry, e.g. law or retail", required: false), Private()),
                Sub("help", "What the advisor can do"),
            },
        },
    ];

    /// <summary>The fields this bot sets, from a command as Discord returns it (which adds ids, versions and defaults).</summary>
    public static string Canonical(JsonNode? command) => Normalise(command)?.ToJsonString() ?? "null";

    private static readonly HashSet<string> Compared = ["name", "type", "description", "options", "required", "autocomplete", "choices", "value", "max_length"];

    private static JsonNode? Normalise(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj
            .Where(p => Compared.Contains(p.Key) && !IsDefault(p.Value))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Normalise(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Normalise)]),
        _ => node?.DeepClone(),
    };

    private static bool IsDefault(JsonNode? value) => value switch
    {
        null => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.False => true,
        JsonArray { Count: 0 } => true,
        _ => false,
    };

    private static JsonObject Sub(string name, string description, params JsonObject[] options)
    {
        var sub = new JsonObject { ["type"] = 1, ["name"] = name, ["description"] = description };
        if (options.Length > 0)
        {
            sub["options"] = new JsonArray([.. options]);
        }

        return sub;
    }

    private static JsonObject Text(string name, string description, bool required, bool autocomplete = false)
    {
        var option = new JsonObject { ["type"] = 3, ["name"] = name, ["description"] = description, ["max_length"] = name == "industry" ? 100 : 2000 };
        if (required)
        {
            option["required"] = true;
        }

        if (autocomplete)
        {
            option["autocomplete"] = true;
            option["max_length"] = 200;
        }

        return option;
    }

    private static JsonObject Kind() => new()
    {
        ["type"] = 3,
        ["name"] = "kind",
        ["description"] = "Kind of buyer",
        ["required"] = true,
        ["choices"] = new JsonArray(
            new JsonObject { ["name"] = "client", ["value"] = "client" },
            new JsonObject { ["name"] = "customer", ["value"] = "customer" },
            new JsonObject { ["name"] = "hybrid", ["value"] = "hybrid" }),
    };

    private static JsonObject Private() => new()
    {
        ["type"] = 5,
        ["name"] = "private",
        ["description"] = "Only you see the answer",
    };
}
