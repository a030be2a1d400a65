using Advisor.Server.Classification;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Rules;

/// <summary>One labelled buyer description: what a person decided the buyer is.</summary>
public sealed record LabelledCase(string Id, string Text, string? Industry, Kind Expected);

/// <summary>
/// The project's labelled buyer descriptions (Data/labelled-buyers.yaml, shipped next to the binary).
/// Backtests measure a draft against it, and the accuracy test measures the shipped rules with the same file.
/// </summary>
public static class LabelledSet
{
    public const string DefaultFileName = "labelled-buyers.yaml";

    public static IReadOnlyList<LabelledCase> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFileException(path, [new DataFileProblem("(file)", 0, "the labelled set does not exist")]);
        }

        var document = YamlDocument.Parse<LabelledFile>(File.ReadAllText(path), path);
        var problems = new List<DataFileProblem>();
        var cases = new List<LabelledCase>();
        for (var i = 0; i < document.Value.Cases.Count; i++)
        {
            var c = document.Value.Cases[i];
            if (!Enum.TryParse<Kind>(c.Expected, ignoreCase: true, out var kind))
            {
                problems.Add(new DataFileProblem($"cases[{i}].expected", document.LineOf($"cases[{i}].expected"), $"unknown kind '{c.Expected}'"));
                continue;
            }

            cases.Add(new LabelledCase(c.Id, c.Text, string.IsNullOrWhiteSpace(c.Industry) ? null : c.Industry, kind));
        }

        return problems.Count > 0 ? throw new DataFileException(path, problems) : cases;
    }

#pragma warning disable CA2227 // filled by the YAML reader
    internal sealed class LabelledFile
    {
        public List<Entry> Cases { get; set; } = [];
    }

    internal sealed class Entry
    {
        public string Id { get; set; } = "";

        public string Text { get; set; } = "";

        public string? Industry { get; set; }

        public string Expected { get; set; } = "";
    }
#pragma warning restore CA2227
}
