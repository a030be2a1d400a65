using Advisor.Server.Classification;
using Advisor.Server.Conversation;
using CsCheck;

namespace Advisor.Server.Tests.Conversation;

/// <summary>The phrasings the product promises map to the right intent.</summary>
public sealed class IntentDetectorTests
{
    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    private static QuestionReading Read(string question) => IntentDetector.Read(Snapshot, question);

    [Theory]
    [InlineData("is this buyer a client? they pay a monthly retainer and we meet every week", QuestionIntent.Classify)]
    [InlineData("client vs customer?", QuestionIntent.Compare)]
    [InlineData("what does customer mean", QuestionIntent.Define)]
    [InlineData("how do I keep a one-off retail buyer coming back", QuestionIntent.Strategy)]
    [InlineData("is real estate client-based?", QuestionIntent.Industry)]
    [InlineData("are banks customer businesses?", QuestionIntent.Industry)]
    [InlineData("is Acme Corp a client?", QuestionIntent.BuyerLookup)]
    [InlineData("what about northwind?", QuestionIntent.BuyerLookup)]
    [InlineData("how should we treat Contoso?", QuestionIntent.BuyerLookup)]
    [InlineData("how do we keep Northwind?", QuestionIntent.BuyerLookup)]
    [InlineData("help", QuestionIntent.Help)]
    [InlineData("what's the weather like?", QuestionIntent.Unknown)]
    [InlineData("tell me a joke", QuestionIntent.Unknown)]
    public void Spec_phrasings_map_to_their_intent(string question, QuestionIntent expected)
    {
        Read(question).Intent.ShouldBe(expected);
    }

    [Theory]
    [InlineData("is Acme Corp a client?", "Acme Corp")]
    [InlineData("what about northwind?", "northwind")]
    [InlineData("how should we treat Contoso?", "Contoso")]
    [InlineData("how do we keep Northwind?", "Northwind")]
    [InlineData("has Stark Industries renewed their contract", "Stark Industries")]
    public void Lookups_name_the_buyer(string question, string name)
    {
        Read(question).BuyerName.ShouldBe(name);
    }

    [Fact]
    public void A_classify_question_carries_its_classification()
    {
        var reading = Read("is this buyer a client? they pay a monthly retainer and we meet every week");

        reading.Classification.ShouldNotBeNull();
        reading.Classification.Result.Kind.ShouldBe(Kind.Client);
    }

    [Theory]
    [InlineData("is a hair salon a client business or a customer business?")]
    [InlineData("are gyms client based?")]
    public void Industries_without_notes_are_still_industry_questions(string question)
    {
        Read(question).Intent.ShouldBe(QuestionIntent.Industry);
    }

    [Theory]
    [InlineData("how often should we check in with clients on a retainer?")]
    [InlineData("how can I turn customers into clients")]
    public void Questions_about_what_to_do_are_strategy_even_when_they_mention_signals(string question)
    {
        Read(question).Intent.ShouldBe(QuestionIntent.Strategy);
    }

    [Theory]
    [InlineData("what's the capital of France?")]
    [InlineData("What's 17 times 23?")]
    [InlineData("order me a pizza")]
    public void Unrelated_requests_are_unknown(string question)
    {
        Read(question).Intent.ShouldBe(QuestionIntent.Unknown);
    }

    [Theory]
    [InlineData("is this buyer a clinet?", "is this buyer a client?")]
    [InlineData("  Is   Acme  a CUSTMER?? ", "is acme a customer??")]
    [InlineData("client vs customer?", "client vs customer?")]
    public void Normalising_lower_cases_collapses_spaces_and_corrects_vocabulary(string question, string expected)
    {
        IntentDetector.Normalise(question, Snapshot.Intents.Vocabulary).ShouldBe(expected);
    }

    /// <summary>The three-row distance agrees with the full matrix it replaced, on short and long words.</summary>
    [Fact]
    public void Distance_matches_the_full_matrix()
    {
        var word = Gen.String[Gen.Char['a', 'e'], 0, 12];
        Gen.Select(word, word).Sample((a, b) => IntentDetector.Distance(a, b) == FullMatrixDistance(a, b), iter: 20_000);
        var longWord = new string('a', 150) + "bc";
        IntentDetector.Distance(longWord, new string('a', 150) + "cb").ShouldBe(1);
        IntentDetector.Distance(longWord, "").ShouldBe(152);
    }

    private static int FullMatrixDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
