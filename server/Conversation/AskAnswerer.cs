using System.Text;
using Advisor.Server.Classification;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Conversation;

/// <summary>The answer to a question, before it is mapped to <c>AskResponse</c>.</summary>
public sealed record AskAnswer(
    QuestionIntent Intent,
    string Text,
    ClassifiedBuyer? Classification,
    IReadOnlyList<EngagementStrategy> Strategies,
    IReadOnlyList<KnowledgeTopic> Topics,
    IReadOnlyList<string> FollowUps,
    BuyerReference? Buyer,
    IReadOnlyList<BuyerReference> Candidates);

/// <summary>Composes answers from the knowledge base. Every sentence comes from data; this class only arranges them.</summary>
public sealed class AskAnswerer(IBuyerDirectory buyers)
{
    public const int MaxStrategies = 4;

    public async Task<AskAnswer> AnswerAsync(AdvisorSnapshot snapshot, string question, CancellationToken cancellationToken)
    {
        var reading = IntentDetector.Read(snapshot, question);
        var model = snapshot.Intents;
        var knowledge = snapshot.Knowledge;
        var followUps = model.FollowUpsFor(reading.Intent);

        switch (reading.Intent)
        {
            case QuestionIntent.Help:
                return Plain(reading.Intent, model.Answer("help"), [], followUps);

            case QuestionIntent.Classify:
                return Classified(reading, reading.Classification!, followUps, knowledge);

            case QuestionIntent.Define:
                return Define(reading, knowledge, model, followUps);

            case QuestionIntent.Compare:
                return Compare(knowledge, model, followUps);

            case QuestionIntent.Industry:
                return Industry(reading.Industry, knowledge, model, followUps);

            case QuestionIntent.Strategy:
                return Strategy(reading, snapshot, followUps);

            case QuestionIntent.BuyerLookup:
                var lookup = await buyers.LookupAsync(reading.BuyerName!, snapshot, cancellationToken);
                return Lookup(reading, lookup, model, knowledge, followUps);

            default:
                return Plain(QuestionIntent.Unknown, model.Answer("unknown"), [], followUps);
        }
    }

    private static AskAnswer Plain(QuestionIntent intent, string text, IReadOnlyList<KnowledgeTopic> topics, IReadOnlyList<string> followUps) =>
        new(intent, text, null, [], topics, followUps, null, []);

    private static AskAnswer Classified(QuestionReading reading, ClassifiedBuyer classified, IReadOnlyList<string> followUps, KnowledgeBase knowledge)
    {
        var result = classified.Result;
        var text = new StringBuilder(result.Summary);
        var reasons = result.Evidence.Where(e => e.Source != SignalHit.FromIndustry).Take(3).ToList();
        foreach (var reason in reasons)
        {
            text.AppendLine().Append("- ").Append(reason.Span is { } span ? $"\"{span.Text}\": " : "").Append(reason.Explanation);
        }

        foreach (var question in result.OpenQuestions)
        {
            text.AppendLine().Append("? ").Append(question);
        }

        var topics = new List<KnowledgeTopic>();
        AddTopic(topics, knowledge, result.Kind switch
        {
            Kind.Client => "definition-client",
            Kind.Customer => "definition-customer",
            Kind.Hybrid => "definition-hybrid-buyer",
            _ => null,
        });
        if (result.Industry is not null)
        {
            topics.Add(result.Industry);
        }

        return new AskAnswer(reading.Intent, text.ToString(), classified, classified.Strategies, topics, followUps, null, []);
    }

    private static AskAnswer Define(QuestionReading reading, KnowledgeBase knowledge, IntentModel model, IReadOnlyList<string> followUps)
    {
        var text = reading.Normalised;
        var wanted = new List<string>();
        if (text.Contains("client-based", StringComparison.Ordinal) || text.Contains("client based", StringComparison.Ordinal))
        {
            wanted.Add("definition-client-based-business");
        }
        else if (text.Contains("customer-based", StringComparison.Ordinal) || text.Contains("customer based", StringComparison.Ordinal))
        {
            wanted.Add("definition-customer-based-business");
        }
        else if (TextMatching.ContainsWord(text, "hybrid"))
        {
            wanted.Add("definition-hybrid-buyer");
        }
        else
        {
            var client = text.IndexOf("client", StringComparison.Ordinal);
            var customer = text.IndexOf("customer", StringComparison.Ordinal);
            if (client >= 0 && (customer < 0 || client < customer))
            {
                wanted.Add("definition-client");
            }

            if (customer >= 0)
            {
                wanted.Add("definition-customer");
            }

            if (client >= 0 && customer >= 0 && customer < client)
            {
                wanted.Add("definition-client");
            }
        }

        if (wanted.Count == 0)
        {
            wanted.AddRange(["definition-client", "definition-customer"]);
        }

        var topics = wanted.Select(knowledge.Find).OfType<KnowledgeTopic>().ToList();
        var answer = new StringBuilder();
        if (topics.Count > 1)
        {
            answer.AppendLine(model.Answer("define_both"));
        }

        foreach (var topic in topics)
        {
            answer.Append(topic.Title).Append(": ").AppendLine(topic.Body);
        }

        return Plain(QuestionIntent.Define, answer.ToString().TrimEnd(), topics, followUps);
    }

    private static AskAnswer Compare(KnowledgeBase knowledge, IntentModel model, IReadOnlyList<string> followUps)
    {
        var dimensions = knowledge.Topics.Where(t => t.Category == TopicKind.Dimension).ToList();
        var answer = new StringBuilder(model.Answer("compare_intro"));
        foreach (var dimension in dimensions)
        {
            answer.AppendLine().Append("- ").Append(dimension.Title).Append(": client: ").Append(dimension.ClientView)
                .Append(" Customer: ").Append(dimension.CustomerView);
        }

        var topics = new List<KnowledgeTopic>();
        AddTopic(topics, knowledge, "definition-client");
        AddTopic(topics, knowledge, "definition-customer");
        topics.AddRange(dimensions);
        return Plain(QuestionIntent.Compare, answer.ToString(), topics, followUps);
    }

    private static AskAnswer Industry(KnowledgeTopic? industry, KnowledgeBase knowledge, IntentModel model, IReadOnlyList<string> followUps)
    {
        if (industry is null)
        {
            var topics = new List<KnowledgeTopic>();
            AddTopic(topics, knowledge, "definition-client-based-business");
            AddTopic(topics, knowledge, "definition-customer-based-business");
            return Plain(QuestionIntent.Industry, model.Answer("industry_unknown"), topics, followUps);
        }

        var leaning = industry.Leaning switch
        {
            Kind.Client => "mostly client-based",
            Kind.Customer => "mostly customer-based",
            _ => "a mix of both",
        };
        var answer = $"{industry.Title}: {leaning}. {industry.Body}\n- Clients: {industry.ClientView}\n- Customers: {industry.CustomerView}";
        return new AskAnswer(QuestionIntent.Industry, answer, null,
            knowledge.SuggestStrategies(industry.Leaning ?? Kind.Hybrid, industry.Id, StrategyStage.Any, 2),
            [industry], followUps, null, []);
    }

    private static AskAnswer Strategy(QuestionReading reading, AdvisorSnapshot snapshot, IReadOnlyList<string> followUps)
    {
        var model = snapshot.Intents;
        var text = reading.Normalised;
        var kind = FirstMatch(model.KindWords, text) ?? (reading.Industry?.Leaning ?? Kind.Client);
        var stage = FirstMatch(model.StageWords, text) ?? StrategyStage.Any;
        var strategies = snapshot.Knowledge.SuggestStrategies(kind, reading.Industry?.Id, stage, MaxStrategies);
        var intro = model.Answer("strategy_intro")
            .Replace("{kind}", kind switch { Kind.Client => "clients", Kind.Customer => "customers", _ => "hybrid buyers" }, StringComparison.Ordinal)
            .Replace("{industry}", reading.Industry is null ? "" : " in " + reading.Industry.Title.ToLowerInvariant(), StringComparison.Ordinal)
            .Replace("{stage}", stage == StrategyStage.Any ? "" : " (" + StageName(stage) + ")", StringComparison.Ordinal);
        var answer = new StringBuilder(intro);
        foreach (var strategy in strategies)
        {
            answer.AppendLine().Append("- ").Append(strategy.Title).Append(": ").Append(strategy.Why);
        }

        var topics = reading.Industry is null ? new List<KnowledgeTopic>() : [reading.Industry];
        return new AskAnswer(QuestionIntent.Strategy, answer.ToString(), null, strategies, topics, followUps, null, []);
    }

    private static AskAnswer Lookup(QuestionReading reading, BuyerLookupResult lookup, IntentModel model, KnowledgeBase knowledge, IReadOnlyList<string> followUps)
    {
        var name = reading.BuyerName!;
        switch (lookup.Outcome)
        {
            case BuyerLookupOutcome.Found when lookup.Classification is { } classified && classified.Result.Kind != Kind.Undetermined || lookup.Classification?.Result.Evidence.Count > 0:
                var answer = Classified(reading, lookup.Classification!, followUps, knowledge);
                return answer with { Text = $"{lookup.Buyer!.DisplayName}: {answer.Text}", Buyer = lookup.Buyer };
            case BuyerLookupOutcome.Found:
                return new AskAnswer(QuestionIntent.BuyerLookup, model.Answer("lookup_no_history").Replace("{name}", lookup.Buyer!.DisplayName, StringComparison.Ordinal),
                    lookup.Classification, [], [], followUps, lookup.Buyer, []);
            case BuyerLookupOutcome.Ambiguous:
                var candidates = string.Join(", ", lookup.Candidates.Select(c => c.DisplayName));
                return new AskAnswer(QuestionIntent.BuyerLookup,
                    model.Answer("lookup_ambiguous").Replace("{name}", name, StringComparison.Ordinal).Replace("{candidates}", candidates, StringComparison.Ordinal),
                    null, [], [], lookup.Candidates.Select(c => $"is {c.DisplayName} a client?").Take(3).ToList(), null, lookup.Candidates);
            default:
                return new AskAnswer(QuestionIntent.BuyerLookup, model.Answer("lookup_not_found").Replace("{name}", name, StringComparison.Ordinal),
                    null, [], [], followUps, null, []);
        }
    }

    private static T? FirstMatch<T>(IReadOnlyDictionary<T, IReadOnlyList<string>> words, string text)
        where T : struct
    {
        var best = -1;
        T? found = null;
        foreach (var (key, list) in words)
        {
            foreach (var word in list)
            {
                var at = TextMatching.IndexOfWord(text, word, 0);
                if (at >= 0 && (best < 0 || at < best))
                {
                    best = at;
                    found = key;
                }
            }
        }

        return found;
    }

    private static string StageName(StrategyStage stage) => stage switch
    {
        StrategyStage.New => "new",
        StrategyStage.Active => "active",
        StrategyStage.AtRisk => "at risk",
        StrategyStage.Lapsed => "lapsed",
        _ => "any stage",
    };

    private static void AddTopic(List<KnowledgeTopic> topics, KnowledgeBase knowledge, string? id)
    {
        if (id is not null && knowledge.Find(id) is { } topic)
        {
            topics.Add(topic);
        }
    }
}
