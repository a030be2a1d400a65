namespace Advisor.Server.Knowledge;

/// <summary>
/// A data file (knowledge or rules) that cannot be used. The message names the file,
/// the place in it and the problem, because it is what an operator sees when the server refuses to start.
/// </summary>
public sealed class DataFileException(string file, IReadOnlyList<DataFileProblem> problems)
    : Exception(Format(file, problems))
{
    public string File { get; } = file;

    public IReadOnlyList<DataFileProblem> Problems { get; } = problems;

    private static string Format(string file, IReadOnlyList<DataFileProblem> problems) =>
        $"{file} is not valid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):" + Environment.NewLine +
        string.Join(Environment.NewLine, problems.Select(p => "  " + p.ToString()));
}

/// <summary>One problem in a data file: a path such as <c>rules[3].weight</c>, its line when known, and what is wrong.</summary>
public sealed record DataFileProblem(string Location, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"line {Line}, {Location}: {Message}" : $"{Location}: {Message}";
}
