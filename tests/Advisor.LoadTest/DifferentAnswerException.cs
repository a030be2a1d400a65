namespace Advisor.LoadTest;

/// <summary>
/// A well-formed answer that is not the first answer to the same request but for its per-call id: the service, which is
/// deterministic for a fixed rule set, answered the same request differently. The runner counts it as a failed call
/// under its own name (why: <see cref="FirstAnswerCheck"/>).
/// </summary>
public sealed class DifferentAnswerException : Exception
{
    /// <summary>The error's name in the report (after the scenario's).</summary>
    public const string ErrorName = "answer differs from the first answer to the same request";

    public DifferentAnswerException()
        : base(ErrorName)
    {
    }

    public DifferentAnswerException(string message)
        : base(message)
    {
    }

    public DifferentAnswerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
