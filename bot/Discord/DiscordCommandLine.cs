using System.CommandLine;
using Advisor.Bot.Hosting;

namespace Advisor.Bot.Discord;

/// <summary><c>discord register [--guild ID]</c>.</summary>
public static class DiscordCommandLine
{
    public static Command Create()
    {
        var guild = new Option<string?>("--guild") { Description = "Register in one guild (instant, for testing) instead of globally." };
        var register = new Command("register", "Register the /advisor command with Discord (idempotent); prints what changed.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        register.Options.Add(guild);
        register.SetAction(async (result, cancellationToken) =>
        {
            using var host = BotHost.BuildConsole([.. result.UnmatchedTokens]);
            var registrar = host.Services.GetRequiredService<DiscordCommandRegistrar>();
            try
            {
                var changes = await registrar.RegisterAsync(result.GetValue(guild), cancellationToken);
                var scope = result.GetValue(guild) is { Length: > 0 } id ? $"guild {id}" : "global";
                Console.WriteLine(changes.Count == 0 ? $"Discord commands ({scope}) are up to date." : $"Discord commands ({scope}): {string.Join(", ", changes)}.");
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
            {
                await Console.Error.WriteLineAsync(e.Message);
                return 1;
            }
        });

        var discord = new Command("discord", "Discord tools.");
        discord.Subcommands.Add(register);
        return discord;
    }
}
