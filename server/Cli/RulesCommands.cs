using System.CommandLine;
using System.Globalization;
using Advisor.Server.Classification;
using Advisor.Server.Errors;
using Advisor.Server.Rules;

namespace Advisor.Server.Cli;

public static partial class ToolCommands
{
    /// <summary>Exit codes of the <c>rules</c> commands, for scripts and CI.</summary>
    public static class RulesExitCodes
    {
        /// <summary>Valid / backtested / published.</summary>
        public const int Ok = 0;

        /// <summary>The rule set has problems (each is printed with its line and location); nothing was published.</summary>
        public const int Invalid = 1;

        /// <summary>The command could not run: no such file, bad configuration, storage unreachable.</summary>
        public const int CannotRun = 2;

        /// <summary>A conflict: the version exists with other content, is already live, or the live set changed during the publish.</summary>
        public const int Conflict = 3;
    }

    /// <summary><c>rules validate|backtest|publish FILE</c>: the rule set workflow for people who keep rules in git.</summary>
    public static Command Rules()
    {
        var rules = new Command("rules", "Validate, backtest and publish a rule set file (the format of server/Data/rules.yaml). " +
            "Exit codes: 0 done, 1 the rule set has problems, 2 the command could not run, 3 conflict (version taken by other content, already live, or the live set changed meanwhile).");

        var validateFile = FileArgument();
        var validate = new Command("validate", "Check the file and print every problem with its line and location; nothing is stored.") { validateFile };
        validate.SetAction((parse, ct) => RunRulesAsync(parse, parse.GetValue(validateFile)!, RulesMode.Validate, 0, ct));

        var backtestFile = FileArgument();
        var backtestMax = MaxChangesOption();
        var backtest = new Command("backtest", "Store the file as a draft, run it over the labelled set and the stored buyers, and print what would change against the live set.") { backtestFile, backtestMax };
        backtest.SetAction((parse, ct) => RunRulesAsync(parse, parse.GetValue(backtestFile)!, RulesMode.Backtest, parse.GetValue(backtestMax), ct));

        var publishFile = FileArgument();
        var publishMax = MaxChangesOption();
        var publish = new Command("publish", "Store, backtest (printing what changes) and publish the file; servers sharing the store switch to it within their poll interval.") { publishFile, publishMax };
        publish.SetAction((parse, ct) => RunRulesAsync(parse, parse.GetValue(publishFile)!, RulesMode.Publish, parse.GetValue(publishMax), ct));

        foreach (var command in new[] { validate, backtest, publish })
        {
            command.TreatUnmatchedTokensAsErrors = false;
            rules.Subcommands.Add(command);
        }

        return rules;
    }

    private enum RulesMode
    {
        Validate,
        Backtest,
        Publish,
    }

    private static Argument<FileInfo> FileArgument() => new("FILE") { Description = "The rule set YAML file." };

    private static Option<int> MaxChangesOption() => new("--max-changes")
    {
        Description = "Most changed cases to print (1-1000).",
        DefaultValueFactory = _ => 50,
    };

    private static async Task<int> RunRulesAsync(ParseResult parse, FileInfo file, RulesMode mode, int maxChanges, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        if (!file.Exists)
        {
            await error.WriteLineAsync($"There is no file {file.FullName}.");
            return RulesExitCodes.CannotRun;
        }

        var source = await File.ReadAllTextAsync(file.FullName, cancellationToken);
        return await ServerCommandLine.RunWithServicesAsync(parse, async (services, ct) =>
        {
            var rules = services.GetRequiredService<RuleSetService>();
            var validation = rules.Validate(source);
            if (!validation.IsValid)
            {
                foreach (var problem in validation.Problems)
                {
                    await output.WriteLineAsync(problem.Line > 0 ? $"{file.Name}:{problem.Line}: {problem.Location}: {problem.Message}" : $"{file.Name}: {problem.Location}: {problem.Message}");
                }

                await output.WriteLineAsync($"{validation.Problems.Count} problem(s); the rule set is not valid.");
                return RulesExitCodes.Invalid;
            }

            if (mode == RulesMode.Validate)
            {
                await output.WriteLineAsync($"{file.Name} is valid: {validation.RuleCount} rules.");
                return RulesExitCodes.Ok;
            }

            try
            {
                var live = await rules.GetAsync(null, ct);
                var draft = await rules.CreateDraftAsync(source, "cli", ct);
                var report = await rules.BacktestAsync(draft.RuleSet.Version, Math.Clamp(maxChanges, 1, 1000), "cli", ct);
                await output.WriteAsync(BacktestText.Render(report));
                if (mode == RulesMode.Backtest)
                {
                    return RulesExitCodes.Ok;
                }

                var published = await rules.PublishAsync(draft.RuleSet.Version, live.LiveEtag, requireBacktest: true, "cli", ct);
                await output.WriteLineAsync($"Published {published.RuleSet.Version} (was {live.RuleSet.Version}). Roll back with RollbackRuleSet to '{live.RuleSet.Version}'.");
                return RulesExitCodes.Ok;
            }
            catch (Exception ex) when (ex is AlreadyExistsException or ConflictException or PreconditionException)
            {
                await error.WriteLineAsync(ex.Message);
                return RulesExitCodes.Conflict;
            }
        }, cancellationToken);
    }
}

/// <summary>A backtest report as text for a terminal or a CI log: what changed in the rules, then which cases change kind and why.</summary>
public static class BacktestText
{
    public static string Render(BacktestReport report)
    {
        var text = new System.Text.StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"Backtest of {report.Version} (content {report.ContentHash[..12]}) against live {report.LiveVersion}");
        text.AppendLine(c, $"Labelled set: {report.LabelledCases} cases, accuracy {report.DraftAccuracy:P1} (live {report.LiveAccuracy:P1})");
        text.AppendLine(c, $"Stored cases compared: {report.StoredCompared}");
        text.AppendLine();
        if (report.RuleChanges.Count == 0)
        {
            text.AppendLine("No differences in rules, signals, priors or thresholds.");
        }
        else
        {
            text.AppendLine(c, $"What changes in the rule set ({report.RuleChanges.Count}):");
            foreach (var change in report.RuleChanges)
            {
                var mark = change.Change switch { "added" => "+", "removed" => "-", _ => "~" };
                text.AppendLine(c, $"  {mark} {change.Item}");
                if (change.Before.Length > 0)
                {
                    text.AppendLine(c, $"      live:  {change.Before}");
                }

                if (change.After.Length > 0)
                {
                    text.AppendLine(c, $"      draft: {change.After}");
                }
            }
        }

        text.AppendLine();
        var shown = report.Changes.Count < report.ChangesTotal ? string.Create(c, $" (showing {report.Changes.Count})") : "";
        text.AppendLine(c, $"Cases that change kind: {report.ChangesTotal}{shown}");
        foreach (var change in report.Changes)
        {
            var expected = change.Expected is { } kind ? $", labelled {Name(kind)}" : "";
            text.AppendLine(c, $"  {change.SubjectId} [{change.Population}{expected}] {Name(change.LiveKind)} -> {Name(change.DraftKind)}: {change.DisplayName}");
            text.AppendLine(c, $"      why:   {change.Reason}");
            text.AppendLine(c, $"      live:  {Evidence(change.LiveEvidence)}");
            text.AppendLine(c, $"      draft: {Evidence(change.DraftEvidence)}");
        }

        text.AppendLine();
        text.AppendLine("Labelled kind (rows) against the draft's kind (columns):");
        Matrix(text, report.DraftVsLabels);
        text.AppendLine("Live kind (rows) against the draft's kind (columns), labelled and stored cases:");
        Matrix(text, report.DraftVsLive);
        return text.ToString();
    }

    private static string Name(Kind kind) => kind.ToString().ToLowerInvariant();

    private static string Evidence(IReadOnlyList<EvidenceItem> evidence) =>
        evidence.Count == 0 ? "(none)" : string.Join(", ", evidence.Select(e => $"{e.RuleId} {RuleSetDiff.Weight(e.Weight)}"));

    private static void Matrix(System.Text.StringBuilder text, ConfusionMatrix matrix)
    {
        text.Append(' ', 16);
        foreach (var kind in Backtester.KindOrder)
        {
            text.Append(Name(kind).PadLeft(14));
        }

        text.AppendLine();
        foreach (var kind in Backtester.KindOrder)
        {
            text.Append(("  " + Name(kind)).PadRight(16));
            foreach (var count in matrix.Rows[kind])
            {
                text.Append(count.ToString(CultureInfo.InvariantCulture).PadLeft(14));
            }

            text.AppendLine();
        }
    }
}
