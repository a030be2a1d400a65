using System.Text.Json.Nodes;
using Advisor.Bot.Conversation;

namespace Advisor.Bot.Discord;

/// <summary>
/// An embed for a <see cref="Reply"/>: kind and confidence in the title, a colour per kind, evidence and strategies as
/// fields. Within Discord's limits (title 256, description 4,096, 25 fields of 256/1,024, 6,000 characters in all,
/// 5 rows of 5 buttons, custom_id 100); a longer reply is paged with a "More" button.
/// </summary>
public static class DiscordRenderer
{
    public const int MaxTitle = 256;
    public const int MaxDescription = 4096;
    public const int MaxFields = 25;
    public const int MaxFieldName = 256;
    public const int MaxFieldValue = 1024;
    public const int MaxEmbedTotal = 6000;
    public const int MaxButtonLabel = 80;
    public const int MaxCustomId = 100;
    public const int EphemeralFlag = 64;

    // Room for title and footer inside the 6,000 characters.
    private const int PageBudget = MaxEmbedTotal - MaxTitle - 64;
    private const int DescriptionChunk = 4000;

    private sealed record Unit(bool IsDescription, string Name, string Value, bool Inline)
    {
        public int Length => Name.Length + Value.Length;
    }

    public static JsonObject Render(Reply reply, int page = 0, bool ephemeral = false)
    {
        var pages = Paginate(Units(reply));
        page = Math.Clamp(page, 0, pages.Count - 1);
        var units = pages[page];

        var embed = new JsonObject
        {
            ["title"] = TextChunks.Trim(reply.Title.Length > 0 ? reply.Title : "Advisor", MaxTitle),
            ["color"] = Colour(reply),
        };
        if (units.FirstOrDefault() is { IsDescription: true } description)
        {
            embed["description"] = description.Value;
        }

        var fields = units.Where(u => !u.IsDescription)
            .Select(u => (JsonNode)new JsonObject { ["name"] = u.Name, ["value"] = u.Value, ["inline"] = u.Inline })
            .ToArray();
        if (fields.Length > 0)
        {
            embed["fields"] = new JsonArray(fields);
        }

        if (pages.Count > 1)
        {
            embed["footer"] = new JsonObject { ["text"] = $"Page {page + 1} of {pages.Count}" };
        }

        var buttons = page == 0 ? reply.Buttons.Where(b => b.ActionId.Length <= MaxCustomId).Take(24).ToList() : [];
        if (page < pages.Count - 1 && !string.IsNullOrEmpty(reply.Id))
        {
            buttons.Add(new ReplyButton("More", new ReplyAction(ReplyActionKind.More, reply.Id, page + 1).Encode(), ReplyButtonStyle.Primary));
        }

        var message = new JsonObject
        {
            ["embeds"] = new JsonArray(embed),
            ["components"] = new JsonArray([.. buttons.Chunk(5).Take(5).Select(Row)]),
            // Answers quote user text; never let it ping anyone.
            ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray() },
        };
        if (ephemeral)
        {
            message["flags"] = EphemeralFlag;
        }

        return message;
    }

    public static int Colour(Reply reply) => reply.Status switch
    {
        ReplyStatus.Unavailable => 0xE67E22,
        ReplyStatus.Invalid => 0xE74C3C,
        _ => reply.Kind switch
        {
            ReplyKind.Client => 0x2ECC71,
            ReplyKind.Customer => 0x3498DB,
            ReplyKind.Hybrid => 0x9B59B6,
            ReplyKind.Undetermined => 0x95A5A6,
            _ => 0x5865F2,
        },
    };

    private static List<Unit> Units(Reply reply)
    {
        var units = new List<Unit>();
        foreach (var chunk in TextChunks.Split(reply.Text, DescriptionChunk).Where(c => c.Length > 0))
        {
            units.Add(new Unit(true, "", chunk, false));
        }

        foreach (var fact in reply.Facts)
        {
            units.Add(new Unit(false, TextChunks.Trim(fact.Label, MaxFieldName), TextChunks.Trim(fact.Value.Length > 0 ? fact.Value : "-", MaxFieldValue), true));
        }

        foreach (var section in reply.Sections)
        {
            var text = string.Join('\n', section.Items.Select(i => "\u2022 " + i));
            var chunks = TextChunks.Split(text, MaxFieldValue);
            for (var i = 0; i < chunks.Count; i++)
            {
                var name = i == 0 ? section.Heading : $"{section.Heading} (continued)";
                units.Add(new Unit(false, TextChunks.Trim(name, MaxFieldName), chunks[i].Length > 0 ? chunks[i] : "-", false));
            }
        }

        return units;
    }

    private static List<List<Unit>> Paginate(List<Unit> units)
    {
        var pages = new List<List<Unit>>();
        var current = new List<Unit>();
        var size = 0;
        foreach (var unit in units)
        {
            var fits = size + unit.Length <= PageBudget
                && (unit.IsDescription ? current.Count == 0 : current.Count(u => !u.IsDescription) < MaxFields);
            if (!fits && current.Count > 0)
            {
                pages.Add(current);
                (current, size) = ([], 0);
            }

            current.Add(unit);
            size += unit.Length;
        }

        pages.Add(current);
        return pages;
    }

    private static JsonNode Row(ReplyButton[] buttons) => new JsonObject
    {
        ["type"] = 1,
        ["components"] = new JsonArray([.. buttons.Select(b => (JsonNode)new JsonObject
        {
            ["type"] = 2,
            ["style"] = b.Style switch { ReplyButtonStyle.Primary => 1, ReplyButtonStyle.Danger => 4, _ => 2 },
            ["label"] = TextChunks.Trim(b.Label, MaxButtonLabel),
            ["custom_id"] = b.ActionId,
        })]),
    };
}
