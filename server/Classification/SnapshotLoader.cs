using Advisor.Server.Conversation;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Classification;

/// <summary>Loads the shipped data files into a snapshot; any invalid file stops with a message naming it.</summary>
public static class SnapshotLoader
{
    public static AdvisorSnapshot LoadShipped(string? dataDirectory = null)
    {
        var directory = dataDirectory ?? Path.Combine(AppContext.BaseDirectory, "Data");
        var knowledge = KnowledgeLoader.LoadFile(Path.Combine(directory, KnowledgeLoader.DefaultFileName));
        var rulesPath = Path.Combine(directory, RuleSetCompiler.DefaultFileName);
        if (!File.Exists(rulesPath))
        {
            throw new DataFileException(rulesPath, [new DataFileProblem("(file)", 0, "the file does not exist")]);
        }

        var rules = RuleSetCompiler.CompileOrThrow(File.ReadAllText(rulesPath), rulesPath, knowledge);
        var intents = IntentModel.LoadFile(Path.Combine(directory, IntentModel.DefaultFileName));
        return new AdvisorSnapshot(knowledge, rules, intents);
    }
}
