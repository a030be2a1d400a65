namespace Advisor.LoadTest;

/// <summary>One round of a schedule: every scenario once, for <see cref="Length"/> each, in <see cref="Order"/> (indexes into the scenario list).</summary>
public sealed record ScheduleRound(TimeSpan Length, IReadOnlyList<int> Order);

/// <summary>
/// In what order and for how long the scenarios of a closed-loop run are measured. A shared machine's speed drifts over
/// tens of seconds (Health/Check alone drew 46.6k, 46.6k and 39.9k calls/s in three neighbouring 10 s blocks), so a
/// ratio of two scenarios measured one after the other moves with the drift as much as with the code. Interleaved, each
/// scenario's measured time is cut into slices and the scenarios take turns, a round at a time, so every scenario sees
/// the same stretch of the machine's drift, and each round gives a ratio of two rates measured seconds apart.
/// </summary>
public static class Schedule
{
    /// <summary>
    /// The rounds that give every one of <paramref name="scenarioCount"/> scenarios exactly <paramref name="duration"/>
    /// of measured time. A <paramref name="slice"/> of zero, or one at least as long as the duration, is the
    /// back-to-back schedule: one round, each scenario's whole duration in one block, in the order given. Otherwise
    /// each round runs every scenario for one slice (the last round for what is left), in an order from a balanced
    /// Latin square (Williams design) with each row followed by its reverse: every two rounds each scenario's mean
    /// position in the round is the same (a linear drift within rounds favours none), and over a cycle of 2n rounds every
    /// scenario follows every other one equally often (what one leaves behind, garbage or a cold cache, falls on each
    /// alike).
    /// </summary>
    public static IReadOnlyList<ScheduleRound> Plan(int scenarioCount, TimeSpan duration, TimeSpan slice)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scenarioCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(duration.Ticks);
        ArgumentOutOfRangeException.ThrowIfNegative(slice.Ticks);
        if (slice == TimeSpan.Zero || slice >= duration)
        {
            return [new ScheduleRound(duration, [.. Enumerable.Range(0, scenarioCount)])];
        }

        var count = (int)((duration.Ticks + slice.Ticks - 1) / slice.Ticks);
        return [.. Enumerable.Range(0, count).Select(r => new ScheduleRound(
            r < count - 1 ? slice : duration - (slice * (count - 1)),
            Order(scenarioCount, r)))];
    }

    /// <summary>
    /// Round <paramref name="round"/>'s order: Williams row <c>round / 2</c> (first row 0, 1, n-1, 2, n-2, …; row k adds k
    /// to each, modulo n), reversed in odd rounds.
    /// </summary>
    public static IReadOnlyList<int> Order(int scenarioCount, int round)
    {
        var first = new int[scenarioCount];
        for (var j = 0; j < scenarioCount; j++)
        {
            // 0, 1, n-1, 2, n-2, ...: odd places count up from 1, even places count down from n.
            first[j] = j == 0 ? 0 : j % 2 == 1 ? (j + 1) / 2 : scenarioCount - (j / 2);
        }

        var row = (round / 2) % scenarioCount;
        var order = first.Select(s => (s + row) % scenarioCount).ToArray();
        if (round % 2 == 1)
        {
            Array.Reverse(order);
        }

        return order;
    }
}
