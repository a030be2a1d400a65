using Advisor.Server.Buyers;
using Advisor.Server.Storage;

namespace Advisor.Server.Tests.Buyers;

/// <summary>The name index's search order and typo tolerance, in-process (SearchBuyers and Ask resolve names with it).</summary>
public sealed class BuyerNameIndexTests
{
    [Fact]
    public void Search_puts_exact_names_before_prefixes_before_word_prefixes_before_typos()
    {
        using var index = new BuyerNameIndex();
        string[] names = ["Northwind Traders", "North Star Logistics", "Acme Corp", "Northwind", "Contoso Ltd", "Great North Foods"];
        index.Apply(names.Select((name, i) => new BuyerNameChange(i + 1, "b" + i, false, name, [])).ToList());

        index.Search("northwind", 10).Select(m => (m.DisplayName, m.Kind)).Take(2).ShouldBe(
            [("Northwind", NameMatchKind.Exact), ("Northwind Traders", NameMatchKind.Prefix)]);
        index.Search("north", 10).Select(m => m.DisplayName).Take(3).ShouldBe(["Northwind", "North Star Logistics", "Northwind Traders"], ignoreOrder: true);
        index.Search("north", 10).Single(m => m.DisplayName == "Great North Foods").Kind.ShouldBe(NameMatchKind.WordPrefix);
        index.Search("contsoo", 10)[0].DisplayName.ShouldBe("Contoso Ltd");
        index.Search("acme", 1).Single().DisplayName.ShouldBe("Acme Corp");
    }

    [Fact]
    public void Search_over_many_buyers_finds_the_buyer_among_thousands_sharing_its_trigrams()
    {
        using var index = new BuyerNameIndex();
        var changes = Enumerable.Range(0, 20_000).Select(i => new BuyerNameChange(i + 1, "b" + i, false, $"Nor{i % 97} Wind {i} Corp", [])).ToList();
        changes.Add(new BuyerNameChange(20_001, "target", false, "Norwind Corp", []));
        index.Apply(changes);

        index.Search("norwind corp", 10)[0].BuyerId.ShouldBe("target");
        index.Search("norwnd corp", 10).Select(m => m.BuyerId).ShouldContain("target");
    }
}
