using Advisor.Server.Classification;

namespace Advisor.Server.Tests.Classification;

/// <summary>What the shipped rules read out of short phrases: negations, durations and frequencies.</summary>
public sealed class SignalExtractorTests
{
    private static readonly AdvisorSnapshot Snapshot = SnapshotLoader.LoadShipped();

    private static List<string> Signals(string text) =>
        Snapshot.Rules.Extractor.Extract(text).Select(h => h.Signal).ToList();

    [Fact]
    public void No_contract_is_no_agreement()
    {
        var signals = Signals("They buy from us with no contract.");

        signals.ShouldContain("no_agreement");
        signals.ShouldNotContain("agreement");
    }

    [Fact]
    public void Never_having_spoken_is_no_communication()
    {
        var signals = Signals("We've never spoken to them.");

        signals.ShouldContain("no_communication");
        signals.ShouldNotContain("two_way_communication");
    }

    [Fact]
    public void Not_wanting_advice_is_no_advice()
    {
        var signals = Signals("He doesn't want advice.");

        signals.ShouldContain("no_advice");
        signals.ShouldNotContain("advice");
    }

    [Fact]
    public void A_negated_contact_word_is_no_communication()
    {
        Signals("They haven't called us.").ShouldContain("no_communication");
    }

    [Fact]
    public void Contact_details_left_behind_are_not_a_conversation()
    {
        var signals = Signals("He left no phone number or email.");

        signals.ShouldNotContain("no_communication");
        signals.ShouldNotContain("two_way_communication");
    }

    [Fact]
    public void For_five_years_is_a_long_tenure()
    {
        Signals("They have worked with us for five years.").ShouldContain("long_tenure");
    }

    [Fact]
    public void Every_morning_is_frequent_purchases()
    {
        Signals("Buys a coffee every morning.").ShouldContain("frequent_purchases");
    }

    [Fact]
    public void Once_is_a_one_off()
    {
        Signals("Bought a kettle from us once.").ShouldContain("one_off");
    }

    [Fact]
    public void Once_a_month_is_not_a_one_off()
    {
        Signals("Buys a kettle descaler from us once a month.").ShouldNotContain("one_off");
    }

    [Fact]
    public void Signing_up_is_not_signing_a_contract()
    {
        Signals("Signed up for the newsletter.").ShouldNotContain("agreement");
    }

    [Fact]
    public void A_contract_template_is_a_standard_product_not_an_agreement()
    {
        var signals = Signals("Downloaded a contract template.");

        signals.ShouldContain("standard_offering");
        signals.ShouldNotContain("agreement");
    }

    [Fact]
    public void Designed_around_the_buyer_is_tailored_work()
    {
        Signals("The garden was designed around their needs.").ShouldContain("personalised");
    }

    [Fact]
    public void Synonyms_of_agreements_and_contacts_are_recognised()
    {
        Signals("Engagement letter signed.").ShouldContain("agreement");
        Signals("An MSA with a SOW for each phase.").ShouldContain("agreement");
        Signals("Their account manager runs a quarterly business review.").ShouldContain("dedicated_contact");
        Signals("Their account manager runs a quarterly business review.").ShouldContain("regular_reviews");
        Signals("On a monthly retainer.").ShouldContain("retainer");
    }
}
