using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Advisor.Server.Api;

/// <summary>
/// <c>advisor.v1.Evidence</c> messages built and encoded once per distinct (signal, rule, weight, explanation, source)
/// instead of on every answer: every item of ClassifyBuyer's basic view (which carries no explanation), and every item
/// of the full view that has no span and no interaction ids (a profile's facts and the industry prior, whose
/// explanation is the rule's own text). Such an item carries nothing else, so every answer naming the same rule for
/// the same signal and source carries the same message; writing each answer's evidence (measured three times and
/// encoded once by the generated serializer, as a field of a field of the response) was most of the basic answer's
/// writing. <see cref="PreEncodedResponses"/> copies the bytes kept here. Items with a span or interaction ids (a
/// description's, a registered buyer's) differ per answer and are built per call.
/// The messages are shared by concurrent responses and must never be changed after they are built.
/// </summary>
public sealed class EvidenceMessages
{
    /// <summary>
    /// Distinct items kept at most: the shipped rule set has a few hundred (signals × rules × sources); a larger
    /// number means rule sets were reloaded many times, and items past it are built per answer as before, so the
    /// table cannot grow without bound.
    /// </summary>
    public const int MaxKept = 8192;

    private readonly ConcurrentDictionary<Key, V1.Evidence> _messages = new();
    private readonly ConditionalWeakTable<V1.Evidence, ByteString> _encoded = [];

    /// <summary>The basic-view evidence message for these values: a shared one, or a fresh one once the table is full.</summary>
    public V1.Evidence For(string signal, string ruleId, double weight, string source) => For(signal, ruleId, weight, "", source);

    /// <summary>
    /// The evidence message for an item with these values and no span or interaction ids (a full-view item of a
    /// profile, or the industry prior): a shared one, or a fresh one once the table is full.
    /// </summary>
    public V1.Evidence For(string signal, string ruleId, double weight, string explanation, string source)
    {
        var key = new Key(signal, ruleId, weight, explanation, source);
        if (_messages.TryGetValue(key, out var kept))
        {
            return kept;
        }

        var message = new V1.Evidence { Signal = signal, RuleId = ruleId, Weight = weight, Explanation = explanation, Source = source };
        if (_messages.Count >= MaxKept)
        {
            return message;
        }

        // Encoded before it is published, so a message handed out by this method always has its bytes.
        _encoded.AddOrUpdate(message, message.ToByteString());
        return _messages.GetOrAdd(key, message);
    }

    /// <summary>
    /// The encoded bytes of a message this class built and kept, or <c>null</c> for any other evidence message
    /// (which the caller then writes as a message).
    /// </summary>
    public ByteString? Encoded(V1.Evidence message) => _encoded.TryGetValue(message, out var bytes) ? bytes : null;

    /// <summary>
    /// The values a kept evidence item is made of (the explanation empty in the basic view). The weight is compared by
    /// its bits, as it is encoded.
    /// </summary>
    private readonly record struct Key(string Signal, string RuleId, double Weight, string Explanation, string Source)
    {
        public bool Equals(Key other) =>
            string.Equals(Signal, other.Signal, StringComparison.Ordinal)
            && string.Equals(RuleId, other.RuleId, StringComparison.Ordinal)
            && BitConverter.DoubleToInt64Bits(Weight) == BitConverter.DoubleToInt64Bits(other.Weight)
            && string.Equals(Explanation, other.Explanation, StringComparison.Ordinal)
            && string.Equals(Source, other.Source, StringComparison.Ordinal);

        public override int GetHashCode() =>
            HashCode.Combine(string.GetHashCode(RuleId, StringComparison.Ordinal), string.GetHashCode(Signal, StringComparison.Ordinal), BitConverter.DoubleToInt64Bits(Weight), string.GetHashCode(Source, StringComparison.Ordinal));
    }
}
