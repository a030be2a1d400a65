using Advisor.Bot.Conversation;
using Spectre.Console;

namespace Advisor.Bot.Terminal;

/// <summary>Renders a <see cref="Reply"/> for a terminal: kind and confidence, answer, top evidence, strategies, follow-ups.</summary>
public static class ConsoleReplyRenderer
{
    public static void Render(IAnsiConsole console, Reply reply, bool showActions)
    {
        var colour = reply.Status switch
        {
            ReplyStatus.Unavailable => "orange1",
            ReplyStatus.Invalid => "red",
            _ => KindColour(reply.Kind),
        };

        console.Write(new Rule($"[bold {colour}]{Markup.Escape(reply.Title)}[/]").LeftJustified());
        if (reply.Kind != ReplyKind.None && reply.Confidence is { } confidence)
        {
            console.MarkupLine($"[bold {colour}]{Markup.Escape(ReplyComposer.KindName(reply.Kind))}[/]  confidence [bold]{Markup.Escape(ReplyComposer.Percent(confidence))}[/]");
        }

        if (!string.IsNullOrWhiteSpace(reply.Text))
        {
            console.WriteLine(reply.Text);
        }

        var facts = reply.Facts.Where(f => f.Label is not ("Kind" or "Confidence")).ToList();
        if (facts.Count > 0)
        {
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            foreach (var fact in facts)
            {
                grid.AddRow($"[grey]{Markup.Escape(fact.Label)}[/]", Markup.Escape(fact.Value));
            }

            console.Write(grid);
        }

        foreach (var section in reply.Sections)
        {
            console.WriteLine();
            console.MarkupLine($"[bold]{Markup.Escape(section.Heading)}[/]");
            foreach (var item in section.Items)
            {
                console.MarkupLine($"  \u2022 {Markup.Escape(item)}");
            }
        }

        if (reply.FollowUps.Count > 0)
        {
            console.WriteLine();
            console.MarkupLine("[bold]You could ask next[/]");
            for (var i = 0; i < reply.FollowUps.Count; i++)
            {
                console.MarkupLine($"  [blue]{i + 1}[/]. {Markup.Escape(reply.FollowUps[i])}");
            }
        }

        if (showActions && reply.Buttons.Count > 0)
        {
            var hints = new List<string>();
            if (HasAction(reply, ReplyActionKind.ShowEvidence))
            {
                hints.Add("'evidence'");
            }

            if (HasAction(reply, ReplyActionKind.SuggestStrategies))
            {
                hints.Add("'strategies'");
            }

            if (HasAction(reply, ReplyActionKind.ReportWrong))
            {
                hints.Add("'wrong client' / 'wrong customer'");
            }

            if (reply.FollowUps.Count > 0)
            {
                hints.Add("a number to ask a follow-up");
            }

            if (hints.Count > 0)
            {
                console.MarkupLine($"[grey]Type {Markup.Escape(string.Join(", ", hints))}.[/]");
            }
        }

        console.WriteLine();
    }

    private static bool HasAction(Reply reply, ReplyActionKind kind) =>
        reply.Buttons.Any(b => ReplyAction.TryParse(b.ActionId, out var a) && a.Kind == kind);

    private static string KindColour(ReplyKind kind) => kind switch
    {
        ReplyKind.Client => "green",
        ReplyKind.Customer => "deepskyblue1",
        ReplyKind.Hybrid => "mediumpurple",
        ReplyKind.Undetermined => "grey",
        _ => "white",
    };
}
