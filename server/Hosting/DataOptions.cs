namespace Advisor.Server.Hosting;

/// <summary>Where the knowledge, rules and intent files are read from (configuration section <c>Data</c>).</summary>
public sealed class DataOptions
{
    public const string Section = "Data";

    /// <summary>Folder holding knowledge.yaml, rules.yaml and intents.yaml; defaults to Data/ next to the binary.</summary>
    public string Directory { get; set; } = Path.Combine(AppContext.BaseDirectory, "Data");
}
