using System.Runtime.CompilerServices;
using Advisor.Server.Knowledge;
using Google.Protobuf;

namespace Advisor.Server.Api;

/// <summary>
/// The <c>advisor.v1.Strategy</c> message of each strategy, built once per strategy instance instead of on every
/// answer, and its encoded bytes. Strategies are immutable parts of a loaded knowledge base and every full
/// ClassifyBuyer answer carries up to three of them (title, why, next steps, industries, sources): rebuilding them
/// was a visible share of a call's server CPU, and so was measuring and encoding their text on every answer (sized
/// three times, as a field of a field of the response). Keyed by the strategy object itself, so a reloaded knowledge
/// base gets fresh messages and the old ones are collected with it. The messages are shared by concurrent responses
/// and must never be changed after they are built; responses only add them to their lists, which serialisation reads.
/// </summary>
public sealed class StrategyMessages
{
    private readonly ConditionalWeakTable<EngagementStrategy, V1.Strategy> _messages = [];
    private readonly ConditionalWeakTable<V1.Strategy, ByteString> _encoded = [];

    /// <summary>
    /// A classification's strategies field by the list of strategies it names. Why by list: every list a classification
    /// names is one the knowledge base keeps per kind, industry and stage (<see cref="KnowledgeBase.SuggestStrategies"/>),
    /// so a full answer's ~2 KB of strategies is one lookup and one copy, not a weak-table lookup, a tag and a copy per
    /// strategy (perf, docs/benchmarks.md "ClassifyBuyer(description), full view: the answer's parts kept").
    /// </summary>
    private readonly ConditionalWeakTable<IReadOnlyList<EngagementStrategy>, byte[]> _fields = [];

    public V1.Strategy For(EngagementStrategy strategy) =>
        _messages.TryGetValue(strategy, out var message) ? message : _messages.GetValue(strategy, s => Build(s));

    /// <summary>
    /// The encoded bytes of a message this class built (encoded once, with it), or of any other strategy message,
    /// encoded now: the same bytes either way (<c>StrategyMessagesTests</c>).
    /// </summary>
    public ByteString Encoded(V1.Strategy message) =>
        _encoded.TryGetValue(message, out var bytes) ? bytes : message.ToByteString();

    /// <summary>
    /// The classification's strategies field (6) naming <paramref name="strategies"/> in order, each strategy as its tag,
    /// its length and its message's <see cref="Encoded"/> bytes, put together once per list object. The list must not
    /// change after it is first asked for (no list the classifier hands out ever does); an empty list is empty bytes.
    /// </summary>
    public byte[] Field(IReadOnlyList<EngagementStrategy> strategies) =>
        strategies.Count == 0 ? []
        : _fields.TryGetValue(strategies, out var field) ? field
        : _fields.GetValue(strategies, s => Encode(s));

    private byte[] Encode(IReadOnlyList<EngagementStrategy> strategies)
    {
        // Each strategy is encoded once (with its message), however many lists name it; a list only frames them.
        var encoded = strategies.Select(s => Encoded(For(s))).ToArray();
        var field = new byte[encoded.Sum(e => CodedOutputStream.ComputeTagSize(V1.Classification.StrategiesFieldNumber) + CodedOutputStream.ComputeLengthSize(e.Length) + e.Length)];
        var output = new CodedOutputStream(field);
        foreach (var bytes in encoded)
        {
            output.WriteTag(V1.Classification.StrategiesFieldNumber, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(bytes);
        }

        output.CheckNoSpaceLeft();
        return field;
    }

    private V1.Strategy Build(EngagementStrategy strategy)
    {
        var message = strategy.ToProto();
        _encoded.AddOrUpdate(message, message.ToByteString());
        return message;
    }
}
