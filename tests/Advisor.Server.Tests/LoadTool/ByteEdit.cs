namespace Advisor.Server.Tests.LoadTool;

/// <summary>
/// One random edit of an answer's bytes, as the answer-check tests make them: the byte at a position replaced, a byte
/// inserted there, or the byte there deleted. Shared so that the full walk's tests and the first-answer check's tests edit
/// answers the same way.
/// </summary>
internal static class ByteEdit
{
    /// <param name="kind">0 replaces, 1 inserts, anything else deletes.</param>
    /// <param name="at">Where, from 0 to <c>bytes.Count</c> (a replacement or deletion at the end does nothing).</param>
    public static void Apply(List<byte> bytes, int kind, int at, byte value)
    {
        if (kind == 0 && at < bytes.Count)
        {
            bytes[at] = value;
        }
        else if (kind == 1)
        {
            bytes.Insert(at, value);
        }
        else if (kind != 0 && at < bytes.Count)
        {
            bytes.RemoveAt(at);
        }
    }
}
