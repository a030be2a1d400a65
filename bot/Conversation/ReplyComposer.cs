using System.Globalization;
using Advisor.V1;

namespace Advisor.Bot.Conversation;

/// <summary>Turns advisor.v1 messages into the platform-neutral <see cref="Reply"/>.</summary>
public static class ReplyComposer
{
    private const int TopEvidence = 3;
    private const int TopStrategies = 3;
    private const int MaxFollowUps = 4;

    public static ReplyKind ToKind(BuyerKind kind) => kind switch
    {
        BuyerKind.Client => ReplyKind.Client,
        BuyerKind.Customer => ReplyKind.Customer,
        BuyerKind.Hybrid => ReplyKind.Hybrid,
        BuyerKind.Undetermined => ReplyKind.Undetermined,
        _ => ReplyKind.None,
    };

    public static BuyerKind ToProto(ReplyKind kind) => kind switch
    {
        ReplyKind.Client => BuyerKind.Client,
        ReplyKind.Customer => BuyerKind.Customer,
        ReplyKind.Hybrid => BuyerKind.Hybrid,
        ReplyKind.Undetermined => BuyerKind.Undetermined,
        _ => BuyerKind.Unspecified,
    };

    public static string KindName(ReplyKind kind) => kind switch
    {
        ReplyKind.Client => "Client",
        ReplyKind.Customer => "Customer",
        ReplyKind.Hybrid => "Hybrid",
        ReplyKind.Undetermined => "Undetermined",
        _ => "",
    };

    public static string Percent(double confidence) =>
        Math.Round(Math.Clamp(confidence, 0, 1) * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    public static (Reply Reply, ReplySubject Subject) FromAsk(string question, AskResponse response)
    {
        var sections = new List<ReplySection>();
        var facts = new List<ReplyFact>();
        var subject = new ReplySubject { Question = question };
        var title = response.Intent switch
        {
            Intent.Compare => "Client vs customer",
            Intent.Define => "Definition",
            Intent.Strategy => "Strategies",
            Intent.Industry => "Industry",
            Intent.Help => "What I can do",
            _ => "Advisor",
        };
        var kind = ReplyKind.None;
        double? confidence = null;

        if (response.Buyer is { } buyer && !string.IsNullOrEmpty(buyer.DisplayName))
        {
            facts.Add(new ReplyFact("Buyer", buyer.DisplayName));
            subject = subject with { BuyerId = buyer.Id };
        }

        if (response.Classification is { } classification)
        {
            (kind, confidence) = (ToKind(classification.Kind), classification.Confidence);
            title = ClassificationTitle(response.Buyer?.DisplayName, classification);
            AddClassification(classification, facts, sections);
            subject = subject with
            {
                Kind = kind,
                Industry = classification.Industry,
                ClassificationId = classification.ClassificationId,
                Evidence = classification.Evidence.Select(DescribeEvidence).ToList(),
            };
        }

        if (response.Candidates.Count > 0)
        {
            sections.Add(new ReplySection("Did you mean", response.Candidates.Select(c => c.DisplayName).ToList()));
        }

        var strategies = response.Strategies.Count > 0 ? response.Strategies : response.Classification?.Strategies;
        if (strategies is { Count: > 0 } && sections.All(s => s.Heading != "Strategies"))
        {
            sections.Add(new ReplySection("Strategies", strategies.Take(TopStrategies).Select(DescribeStrategy).ToList()));
        }

        if (response.Topics.Count > 0)
        {
            sections.Add(new ReplySection("Sources", response.Topics.Select(t => t.Title).Where(t => t.Length > 0).ToList()));
        }

        var reply = new Reply
        {
            Title = title,
            Text = string.IsNullOrWhiteSpace(response.Answer) ? response.Classification?.Summary ?? "" : response.Answer,
            Kind = kind,
            Confidence = confidence,
            Facts = facts,
            Sections = sections.Where(s => s.Items.Count > 0).ToList(),
            FollowUps = response.FollowUpQuestions.Where(q => !string.IsNullOrWhiteSpace(q)).Take(MaxFollowUps).ToList(),
        };
        return (reply, subject);
    }

    public static (Reply Reply, ReplySubject Subject) FromClassification(string question, Classification classification, string? buyerName = null, string buyerId = "")
    {
        var facts = new List<ReplyFact>();
        var sections = new List<ReplySection>();
        if (!string.IsNullOrEmpty(buyerName))
        {
            facts.Add(new ReplyFact("Buyer", buyerName));
        }

        AddClassification(classification, facts, sections);
        var kind = ToKind(classification.Kind);
        var reply = new Reply
        {
            Title = ClassificationTitle(buyerName, classification),
            Text = classification.Summary,
            Kind = kind,
            Confidence = classification.Confidence,
            Facts = facts,
            Sections = sections.Where(s => s.Items.Count > 0).ToList(),
            FollowUps = classification.OpenQuestions.Where(q => !string.IsNullOrWhiteSpace(q)).Take(MaxFollowUps).ToList(),
        };
        var subject = new ReplySubject
        {
            Question = question,
            Kind = kind,
            Industry = classification.Industry,
            ClassificationId = classification.ClassificationId,
            BuyerId = buyerId,
            Evidence = classification.Evidence.Select(DescribeEvidence).ToList(),
        };
        return (reply, subject);
    }

    public static Reply FromStrategies(ReplyKind kind, string industry, IReadOnlyList<Strategy> strategies)
    {
        var forWhom = kind switch
        {
            ReplyKind.Client => "clients",
            ReplyKind.Customer => "customers",
            ReplyKind.Hybrid => "hybrid buyers",
            _ => "buyers",
        };
        var title = string.IsNullOrWhiteSpace(industry) ? $"Strategies for {forWhom}" : $"Strategies for {forWhom} in {industry}";
        if (strategies.Count == 0)
        {
            return new Reply { Title = title, Kind = kind, Text = "The advisor has no strategies for that yet." };
        }

        return new Reply
        {
            Title = title,
            Kind = kind,
            Text = $"{strategies.Count} way{(strategies.Count == 1 ? "" : "s")} to engage {forWhom}, best fit first.",
            Sections = strategies.Select(s => new ReplySection(
                s.Title,
                [s.Why, .. s.NextSteps.Select((step, i) => $"{i + 1}. {step}")])).ToList(),
        };
    }

    public static string DescribeEvidence(Evidence evidence)
    {
        var weight = evidence.Weight.ToString("+0.0;-0.0;0", CultureInfo.InvariantCulture);
        var toward = evidence.Weight > 0 ? "client" : evidence.Weight < 0 ? "customer" : "neutral";
        var found = evidence.Span is { Text.Length: > 0 } span ? $" (\u201c{span.Text}\u201d)" : "";
        var why = string.IsNullOrWhiteSpace(evidence.Explanation) ? "" : $": {evidence.Explanation}";
        return $"{Humanise(evidence.Signal)}{found}{why} [{weight} {toward}]";
    }

    public static string DescribeStrategy(Strategy strategy) =>
        string.IsNullOrWhiteSpace(strategy.Why) ? strategy.Title : $"{strategy.Title}: {strategy.Why}";

    private static string ClassificationTitle(string? buyerName, Classification classification)
    {
        var kind = KindName(ToKind(classification.Kind));
        var text = $"{kind} ({Percent(classification.Confidence)} confidence)";
        return string.IsNullOrEmpty(buyerName) ? text : $"{buyerName}: {text}";
    }

    private static void AddClassification(Classification classification, List<ReplyFact> facts, List<ReplySection> sections)
    {
        facts.Add(new ReplyFact("Kind", KindName(ToKind(classification.Kind))));
        facts.Add(new ReplyFact("Confidence", Percent(classification.Confidence)));
        if (!string.IsNullOrEmpty(classification.Industry))
        {
            facts.Add(new ReplyFact("Industry", classification.Industry));
        }

        sections.Add(new ReplySection("Why", classification.Evidence.Take(TopEvidence).Select(DescribeEvidence).ToList()));
        if (classification.OpenQuestions.Count > 0 && ToKind(classification.Kind) == ReplyKind.Undetermined)
        {
            sections.Add(new ReplySection("To decide, tell me", classification.OpenQuestions.ToList()));
        }

        if (classification.Strategies.Count > 0)
        {
            sections.Add(new ReplySection("Strategies", classification.Strategies.Take(TopStrategies).Select(DescribeStrategy).ToList()));
        }
    }

    private static string Humanise(string signal) =>
        string.IsNullOrEmpty(signal) ? "Signal" : char.ToUpperInvariant(signal[0]) + signal[1..].Replace('_', ' ');
}
