using System.ComponentModel.DataAnnotations;

namespace Advisor.Server.Rules;

/// <summary>Rule set workflow settings (section <c>Rules</c>, shared with <see cref="RuleSetWatchOptions"/>).</summary>
public sealed class RuleSetOptions
{
    public const string Section = "Rules";

    /// <summary>When true, every publish must follow a backtest of exactly the draft's content, whatever the request says.</summary>
    public bool RequireBacktest { get; set; }

    /// <summary>The labelled set backtests run on; empty means Data/labelled-buyers.yaml next to the binary.</summary>
    public string? LabelledSetPath { get; set; }

    /// <summary>Most stored cases (buyers, logged descriptions) a backtest re-classifies.</summary>
    [Range(0, 100_000)]
    public int BacktestStoredLimit { get; set; } = 2000;

    public string ResolveLabelledSetPath(string dataDirectory) =>
        string.IsNullOrWhiteSpace(LabelledSetPath) ? Path.Combine(dataDirectory, LabelledSet.DefaultFileName) : LabelledSetPath;
}
