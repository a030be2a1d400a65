namespace Advisor.Server.Storage;

/// <summary>
/// Running totals of one interaction type for one buyer within an import batch, folded into the buyer's
/// aggregate row when the batch commits. First and last are by <c>occurred_at</c> (ISO text compares in
/// time order); both providers use this one definition so their aggregates agree.
/// </summary>
internal sealed class InteractionTypeTotals(string firstAt, long firstSeq)
{
    public long Count { get; private set; }

    public double AmountTotal { get; private set; }

    public long AmountCount { get; private set; }

    public string FirstAt { get; private set; } = firstAt;

    public long FirstSeq { get; private set; } = firstSeq;

    public string LastAt { get; private set; } = firstAt;

    public long LastSeq { get; private set; } = firstSeq;

    public void Add(string at, long seq, double? amount)
    {
        Count++;
        if (amount is { } a)
        {
            AmountTotal += a;
            AmountCount++;
        }

        if (string.CompareOrdinal(at, FirstAt) < 0)
        {
            FirstAt = at;
            FirstSeq = seq;
        }

        if (string.CompareOrdinal(at, LastAt) >= 0)
        {
            LastAt = at;
            LastSeq = seq;
        }
    }
}
