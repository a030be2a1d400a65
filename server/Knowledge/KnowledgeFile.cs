namespace Advisor.Server.Knowledge;

// The shape of Data/knowledge.yaml. Mutable only because the YAML reader fills it;
// nothing outside the loader sees these types.
#pragma warning disable CA2227 // collection setters are what the YAML reader needs

internal sealed class KnowledgeFile
{
    public string Version { get; set; } = "";

    public List<SourceEntry> Sources { get; set; } = [];

    public List<TopicEntry> Topics { get; set; } = [];

    public List<StrategyFileEntry> Strategies { get; set; } = [];
}

internal sealed class SourceEntry
{
    public string Id { get; set; } = "";

    public string Title { get; set; } = "";
}

internal sealed class TopicEntry
{
    public string Id { get; set; } = "";

    public string Category { get; set; } = "";

    public string Title { get; set; } = "";

    public string Summary { get; set; } = "";

    public string Body { get; set; } = "";

    public string? ClientView { get; set; }

    public string? CustomerView { get; set; }

    public string? Leaning { get; set; }

    public List<string> Keywords { get; set; } = [];

    public List<string> Related { get; set; } = [];

    public List<string> Sources { get; set; } = [];
}

internal sealed class StrategyFileEntry
{
    public string Id { get; set; } = "";

    public string Kind { get; set; } = "";

    public string Stage { get; set; } = "";

    public List<string> Industries { get; set; } = [];

    public string Title { get; set; } = "";

    public string Why { get; set; } = "";

    public List<string> NextSteps { get; set; } = [];

    public List<string> Sources { get; set; } = [];
}
