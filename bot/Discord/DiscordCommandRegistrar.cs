using System.Text.Json.Nodes;

namespace Advisor.Bot.Discord;

/// <summary>Registers the command tree: reads what Discord has, PUTs ours only if it differs, and says what changed.</summary>
public sealed class DiscordCommandRegistrar(DiscordApiClient discord)
{
    public async Task<IReadOnlyList<string>> RegisterAsync(string? guildId, CancellationToken cancellationToken)
    {
        var desired = DiscordCommandTree.Build();
        var existing = await discord.GetCommandsAsync(guildId, cancellationToken);
        var existingByName = existing.OfType<JsonObject>()
            .Where(c => c["name"] is not null)
            .ToDictionary(c => c["name"]!.GetValue<string>(), StringComparer.Ordinal);

        var changes = new List<string>();
        foreach (var command in desired.OfType<JsonObject>())
        {
            var name = command["name"]!.GetValue<string>();
            if (!existingByName.Remove(name, out var current))
            {
                changes.Add($"created /{name}");
            }
            else if (DiscordCommandTree.Canonical(current) != DiscordCommandTree.Canonical(command))
            {
                changes.Add($"updated /{name}");
            }
        }

        // PUT replaces the whole set: commands we do not define are removed.
        changes.AddRange(existingByName.Keys.Select(name => $"removed /{name}"));
        if (changes.Count > 0)
        {
            await discord.PutCommandsAsync(guildId, desired, cancellationToken);
        }

        return changes;
    }
}
