using Advisor.Server.Conversation;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Classification;

/// <summary>
/// Everything a request needs to answer, frozen together: knowledge, the live rule set and the
/// intent vocabulary. A request reads <see cref="SnapshotHolder.Current"/> once and keeps it, so a
/// publish in the middle of the request cannot mix two versions.
/// </summary>
public sealed record AdvisorSnapshot(KnowledgeBase Knowledge, CompiledRuleSet Rules, IntentModel Intents);

/// <summary>Holds the live snapshot; swapping it is one reference write, so reads never lock.</summary>
public sealed class SnapshotHolder(AdvisorSnapshot initial)
{
    private AdvisorSnapshot _current = initial;

    public AdvisorSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Makes a new rule set live for every request that starts from now on.</summary>
    public AdvisorSnapshot Publish(CompiledRuleSet rules)
    {
        while (true)
        {
            var before = Current;
            var after = before with { Rules = rules };
            if (ReferenceEquals(Interlocked.CompareExchange(ref _current, after, before), before))
            {
                return after;
            }
        }
    }
}
