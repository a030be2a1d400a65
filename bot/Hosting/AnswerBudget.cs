namespace Advisor.Bot.Hosting;

/// <summary>
/// The 3-second rule, shared by the Slack and Discord adapters: wait up to the budget for an answer to reply
/// in the HTTP response, otherwise acknowledge and deliver it later. An answer that is already complete (help,
/// a remembered reply) always goes in the response; a zero budget otherwise never waits.
/// </summary>
public static class AnswerBudget
{
    /// <summary>True when <paramref name="answer"/> is complete now or finishes within <paramref name="budget"/>.</summary>
    public static async Task<bool> FinishedWithinAsync(Task answer, TimeSpan budget, CancellationToken cancellationToken)
    {
        if (answer.IsCompleted)
        {
            return true;
        }

        // A zero budget decides on what was complete at entry: asking again could see an answer that finished a
        // moment later, so whether it defers would depend on timing.
        if (budget <= TimeSpan.Zero)
        {
            return false;
        }

        try
        {
            await answer.WaitAsync(budget, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Still running: the caller defers.
        }

        return answer.IsCompleted;
    }
}
