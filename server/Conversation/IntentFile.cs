namespace Advisor.Server.Conversation;

#pragma warning disable CA2227 // collection setters are what the YAML reader needs

// The shape of Data/intents.yaml.
internal sealed class IntentFile
{
    public string Version { get; set; } = "";

    public List<string> Vocabulary { get; set; } = [];

    public double ClassifyMinEvidence { get; set; } = 2.0;

    public Dictionary<string, List<string>> Patterns { get; set; } = [];

    public LookupEntry Lookup { get; set; } = new();

    public Dictionary<string, List<string>> KindWords { get; set; } = [];

    public Dictionary<string, List<string>> StageWords { get; set; } = [];

    public Dictionary<string, string> Answers { get; set; } = [];

    public Dictionary<string, List<string>> FollowUps { get; set; } = [];
}

internal sealed class LookupEntry
{
    public List<string> Patterns { get; set; } = [];

    public List<string> NotNames { get; set; } = [];

    public List<string> StopWords { get; set; } = [];
}
