using Advisor.Server.Classification;
using Advisor.Server.Storage;

namespace Advisor.Server.Tests.Storage;

/// <summary>
/// The classification log's waiting entries, kept as bytes: what the writer takes back is what was appended, in order,
/// whatever the text, across blocks and past the capacity.
/// </summary>
public sealed class PendingClassificationLogTests
{
    private static ClassificationLogEntry Entry(int n, string input, string? buyerId = null) =>
        new($"cls-{n:D6}", new DateTimeOffset(2026, 11, 29, 7, 50, n % 60, TimeSpan.FromHours(n % 3 - 1)), n % 2 == 0 ? "description" : "profile",
            input, buyerId, (Kind)(n % 4), 0.25 + n / 1e6, -3.5 + n, "rules-" + (n % 5));

    [Fact]
    public void Entries_come_back_as_they_went_in_and_in_order()
    {
        var pending = new PendingClassificationLog(capacity: 100);
        ClassificationLogEntry[] entries =
        [
            Entry(1, "Procurement team of a hospital chain, öffentliche Ausschreibung, 采购 — every quarter 🙂"),
            Entry(2, "", buyerId: "buyer-42"),
            Entry(3, "a retainer"),
        ];

        pending.Add(entries[0]).ShouldBeTrue();
        pending.Add(entries[1]).ShouldBeFalse();
        pending.Add(entries[2]).ShouldBeFalse();
        pending.Count.ShouldBe(3);

        pending.Take(2).ShouldBe(entries[..2]);
        pending.Take(10).ShouldBe(entries[2..]);
        pending.Count.ShouldBe(0);
        pending.Take(10).ShouldBeEmpty();
        pending.Add(entries[0]).ShouldBeTrue();
    }

    [Fact]
    public void Many_entries_span_blocks_and_an_input_longer_than_a_block_gets_its_own()
    {
        var pending = new PendingClassificationLog(capacity: 100_000);
        var text = new string('x', 3_000);
        var expected = new List<ClassificationLogEntry>();
        for (var round = 0; round < 3; round++)
        {
            for (var n = 0; n < 500; n++)
            {
                var entry = Entry((round * 1000) + n, n == 250 ? new string('é', PendingClassificationLog.BlockSize) : text + n);
                expected.Add(entry);
                pending.Add(entry);
            }

            // Taken in uneven bites, so blocks empty and are reused while others still hold entries.
            var taken = new List<ClassificationLogEntry>();
            while (pending.Count > 0)
            {
                taken.AddRange(pending.Take(77));
            }

            taken.ShouldBe(expected);
            expected.Clear();
        }
    }

    [Fact]
    public void Past_the_capacity_the_oldest_entries_are_dropped_and_counted()
    {
        var pending = new PendingClassificationLog(capacity: 1_000);
        for (var n = 0; n < 1_234; n++)
        {
            pending.Add(Entry(n, "described buyer " + n));
        }

        pending.Dropped.ShouldBe(234);
        pending.Count.ShouldBe(1_000);
        var taken = pending.Take(int.MaxValue);
        taken.Select(e => e.Id).ShouldBe(Enumerable.Range(234, 1_000).Select(n => $"cls-{n:D6}"));
    }
}
