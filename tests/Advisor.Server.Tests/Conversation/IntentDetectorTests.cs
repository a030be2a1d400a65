using Advisor.Server.Classification;
using Advisor.Server.Conversation;

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
}
