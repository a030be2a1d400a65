using Advisor.Server.Classification;

namespace Advisor.Server.Tests.Classification;

/// <summary>Decisions of the shipped rules on descriptions that pin down the product's definitions.</summary>
public sealed class BuyerClassifierTests
{
    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    private static ClassificationResult Classify(string text, string? industry = null) =>
        BuyerClassifier.ClassifyText(Snapshot, text, industry).Result;

    [Theory]
    [InlineData("Buys a coffee from us every morning.")]
    [InlineData("Comes into the shop most days for a newspaper.")]
    [InlineData("Orders printer paper from us several times a month.")]
    public void Frequent_repeat_purchases_alone_make_a_customer(string text)
    {
        Classify(text).Kind.ShouldBe(Kind.Customer);
    }

    [Fact]
    public void A_retainer_and_weekly_meetings_make_a_confident_client()
    {
        var result = Classify("They pay a monthly retainer and we meet every week.");

        result.Kind.ShouldBe(Kind.Client);
        result.Confidence.ShouldBeGreaterThan(0.7);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("The weather was nice on Tuesday.")]
    public void Empty_or_irrelevant_text_is_undetermined_with_open_questions(string text)
    {
        var result = Classify(text);

        result.Kind.ShouldBe(Kind.Undetermined);
        result.OpenQuestions.ShouldNotBeEmpty();
    }

    /// <summary>
    /// An undetermined or unsure answer asks up to four of the rule set's questions, in its order, about the groups of
    /// signals the text said nothing about; a confident answer asks none.
    /// </summary>
    [Theory]
    [InlineData("The weather was nice on Tuesday.")]
    [InlineData("They pay a monthly retainer.")]
    [InlineData("Bought a kettle from us once.")]
    [InlineData("No contract. We have never spoken to them.")]
    [InlineData("Comes in every week and we talk about the menu.")]
    [InlineData("They pay a monthly retainer and we meet every week.")]
    public void Open_questions_are_about_the_groups_nothing_was_said_about(string text)
    {
        var result = Classify(text);
        var rules = Snapshot.Rules;
        var said = Snapshot.Rules.Extractor.Extract(text).Select(h => rules.Signals.GetValueOrDefault(h.Signal)?.Group).OfType<string>().ToHashSet();
        var expected = result.Kind == Kind.Undetermined || result.Confidence < rules.Thresholds.UnsureConfidence
            ? rules.OpenQuestions.Where(q => !said.Contains(q.Group)).Select(q => q.Question).Take(4).ToList()
            : [];

        result.OpenQuestions.ShouldBe(expected);
    }

    /// <summary>The summary names up to three reasons per side, strongest first, joined as "a, b and c".</summary>
    [Theory]
    [InlineData("They pay a monthly retainer.", "Client, because of a retainer: the marks of an ongoing relationship built on trust.")]
    [InlineData("They pay a monthly retainer and we meet every week.", "Client, because of a retainer and regular two-way contact: the marks of an ongoing relationship built on trust.")]
    [InlineData(
        "They pay us a monthly retainer and we meet every week to review their campaigns. Our account manager runs a quarterly business review with their operations director, and the engagement letter was renewed for a fourth year.",
        "Client, because of a retainer, a formal agreement and a dedicated contact: the marks of an ongoing relationship built on trust.")]
    [InlineData(
        "We advise them under a retainer with monthly reviews, and they also buy standard licences from our web shop several times a month without talking to anyone.",
        "Hybrid: a client relationship (a retainer, advice and regular reviews) alongside plain transactions (little or no contact, a standard offering and buying goods).")]
    [InlineData("The weather was nice on Tuesday.", "Not enough to decide yet (nothing specific). The open questions would settle it.")]
    public void The_summary_names_the_strongest_reasons(string text, string summary)
    {
        Classify(text).Summary.ShouldBe(summary);
    }

    [Fact]
    public void The_same_input_gives_the_same_result()
    {
        const string text = "Signed an MSA last year; their account manager meets them monthly, and they also buy standard licences online.";

        var first = Classify(text);
        var second = Classify(text);

        second.Kind.ShouldBe(first.Kind);
        second.Confidence.ShouldBe(first.Confidence);
        second.Score.ShouldBe(first.Score);
        second.Summary.ShouldBe(first.Summary);
        second.Evidence.Select(e => (e.RuleId, e.Weight, e.Span)).ShouldBe(first.Evidence.Select(e => (e.RuleId, e.Weight, e.Span)));
        second.OpenQuestions.ShouldBe(first.OpenQuestions);
    }

    [Fact]
    public void An_industry_prior_never_decides_alone()
    {
        var result = Classify("A law firm's buyer.");

        result.Kind.ShouldBe(Kind.Undetermined);
        result.Industry.ShouldNotBeNull();
    }

    [Fact]
    public void Evidence_overrides_a_client_leaning_industry()
    {
        var result = Classify("Walked into our law firm to have one document notarised, paid the fixed fee and left.", "law");

        result.Kind.ShouldBe(Kind.Customer);
    }

    [Fact]
    public void Evidence_overrides_a_customer_leaning_business()
    {
        var result = Classify("Our bakery supplies a hotel under a yearly contract, with orders tailored to their breakfast menu and a call with their chef every week.");

        result.Kind.ShouldBe(Kind.Client);
    }

    [Fact]
    public void Two_distinct_ways_of_buying_make_a_hybrid()
    {
        var result = Classify("We advise them under a retainer with monthly reviews, and they also buy standard licences from our web shop several times a month without talking to anyone.");

        result.Kind.ShouldBe(Kind.Hybrid);
    }

    [Fact]
    public void An_agreement_that_ended_long_ago_is_not_a_client()
    {
        Classify("Had a consulting contract with us until 2016; it ended and there has been no contact since.").Kind.ShouldBe(Kind.Customer);
    }
}
