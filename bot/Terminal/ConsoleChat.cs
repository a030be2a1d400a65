using Advisor.Bot.Conversation;
using Spectre.Console;

namespace Advisor.Bot.Terminal;

/// <summary>The console front end: one answer for scripts (<c>ask</c>) or an interactive prompt (<c>chat</c>).</summary>
public sealed class ConsoleChat(ConversationCore core, IAnsiConsole console)
{
    private static readonly ConversationContext Context = new("console", Environment.UserName);

    public static readonly IReadOnlyList<string> Usage =
    [
        "any question, e.g. is a buyer on a yearly retainer a client?",
        "classify <description>: classify a described buyer",
        "compare: clients versus customers",
        "strategy <client|customer|hybrid> [industry]",
        "buyer <name>: look a buyer up in the registry",
        "help, exit",
    ];

    /// <summary>Answers one question; exit code 0, or 2 when the advisor could not answer.</summary>
    public async Task<int> AskOnceAsync(string question, CancellationToken cancellationToken)
    {
        var reply = await core.HandleAsync(Parse(question), Context, cancellationToken);
        ConsoleReplyRenderer.Render(console, reply, showActions: false);
        return reply.Status switch
        {
            ReplyStatus.Unavailable => 2,
            ReplyStatus.Invalid => 1,
            _ => 0,
        };
    }

    public async Task<int> ChatAsync(TextReader input, CancellationToken cancellationToken)
    {
        console.MarkupLine("[bold]Advisor[/]: ask whether a buyer is a client or a customer. Type [blue]help[/] for commands, [blue]exit[/] to leave.");
        Reply? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            console.Markup("[bold blue]> [/]");
            var line = await input.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                break;
            }

            line = line.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line is "exit" or "quit" or "/exit" or "/quit")
            {
                break;
            }

            var request = FromLastReply(line, last) ?? Parse(line);
            var reply = await core.HandleAsync(request, Context, cancellationToken);
            ConsoleReplyRenderer.Render(console, reply, showActions: true);
            if (reply.Buttons.Count > 0 || reply.FollowUps.Count > 0)
            {
                last = reply;
            }
        }

        return 0;
    }

    /// <summary>Console stand-ins for buttons: "evidence", "strategies", "wrong customer", or a follow-up's number.</summary>
    private static PressButton? FromLastReply(string line, Reply? last)
    {
        if (last is null)
        {
            return null;
        }

        var lower = line.ToLowerInvariant();
        ReplyAction? action = lower switch
        {
            "evidence" => new ReplyAction(ReplyActionKind.ShowEvidence, last.Id),
            "strategies" => new ReplyAction(ReplyActionKind.SuggestStrategies, last.Id),
            "wrong client" => new ReplyAction(ReplyActionKind.ReportWrong, last.Id, (int)ReplyKind.Client),
            "wrong customer" => new ReplyAction(ReplyActionKind.ReportWrong, last.Id, (int)ReplyKind.Customer),
            _ when int.TryParse(lower, out var n) && n >= 1 && n <= last.FollowUps.Count => new ReplyAction(ReplyActionKind.FollowUp, last.Id, n - 1),
            _ => null,
        };
        var available = action is not null && last.Buttons.Any(b => b.ActionId == action.Encode());
        return available ? new PressButton(action!.Encode()) : null;
    }

    /// <summary>The console and the Slack command share one small grammar; anything else is a question.</summary>
    public static ConversationRequest Parse(string text) => CommandGrammar.Parse(text, Usage);
}
