using System.CommandLine;
using Advisor.Bot.Terminal;

namespace Advisor.Bot.Hosting;

/// <summary>
/// Commands: none (web server for Slack and Discord), <c>chat</c>, <c>ask "question"</c>, <c>discord register [--guild ID]</c>.
/// Tokens the commands do not know (--urls, --Slack:SigningSecret …) are passed on as configuration.
/// </summary>
public static class BotProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Advisor chat bot: is a buyer a client or a customer? With no command, serves the Slack and Discord endpoints.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        root.SetAction((result, cancellationToken) => BotHost.RunWebAsync([.. result.UnmatchedTokens], cancellationToken));

        var chat = new Command("chat", "Chat with the advisor in the terminal.") { TreatUnmatchedTokensAsErrors = false };
        chat.SetAction((result, cancellationToken) => RunConsoleAsync(
            [.. result.UnmatchedTokens],
            (console, ct) => console.ChatAsync(Console.In, ct),
            cancellationToken));

        var question = new Argument<string>("question") { Description = "The question, in quotes." };
        var ask = new Command("ask", "Ask one question and print the answer (for scripts).") { TreatUnmatchedTokensAsErrors = false };
        ask.Arguments.Add(question);
        ask.SetAction((result, cancellationToken) => RunConsoleAsync(
            [.. result.UnmatchedTokens],
            (console, ct) => console.AskOnceAsync(result.GetValue(question) ?? "", ct),
            cancellationToken));

        root.Subcommands.Add(chat);
        root.Subcommands.Add(ask);
        root.Subcommands.Add(Discord.DiscordCommandLine.Create());
        return await root.Parse(args).InvokeAsync();
    }

    private static async Task<int> RunConsoleAsync(string[] configurationArgs, Func<ConsoleChat, CancellationToken, Task<int>> run, CancellationToken cancellationToken)
    {
        using var host = BotHost.BuildConsole(configurationArgs);
        await host.StartAsync(cancellationToken);
        try
        {
            return await run(host.Services.GetRequiredService<ConsoleChat>(), cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
