using System.Text.RegularExpressions;

namespace Advisor.Server.Tests.Rules;

/// <summary>Rule set sources for tests: the shipped file, changed in small readable ways.</summary>
public static class RuleSources
{
    public const string ShippedVersion = "2026.11.1";

    public static string Shipped() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "rules.yaml"));

    public static string NewVersion(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The shipped rules under another version name.</summary>
    public static string WithVersion(string version) => WithVersion(Shipped(), version);

    public static string WithVersion(string source, string version) =>
        source.Replace($"version: \"{ShippedVersion}\"", $"version: \"{version}\"", StringComparison.Ordinal);

    /// <summary>The shipped rules with the retainer rule pointing the other way: retainers now lean customer.</summary>
    public static string RetainerFlipped(string version) =>
        WithVersion(version).Replace("signal: retainer, weight: 3.0,", "signal: retainer, weight: -3.0,", StringComparison.Ordinal);

    /// <summary>Adds a rule line right after <c>rules:</c>.</summary>
    public static string WithRule(string source, string ruleLine) =>
        Regex.Replace(source, "^rules:\n", "rules:\n  " + ruleLine + "\n", RegexOptions.Multiline, TimeSpan.FromSeconds(1));

    /// <summary>Adds an industry prior line right after <c>industry_priors:</c>.</summary>
    public static string WithPrior(string source, string priorLine) =>
        Regex.Replace(source, "^industry_priors:\n", "industry_priors:\n  " + priorLine + "\n", RegexOptions.Multiline, TimeSpan.FromSeconds(1));
}
