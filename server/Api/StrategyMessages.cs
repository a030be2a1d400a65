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

    /// <summary>The encoded bytes by strategy: one lookup per strategy per answer for the response writer, not two.</summary>
    private readonly ConditionalWeakTable<EngagementStrategy, ByteString> _bytes = [];

    public V1.Strategy For(EngagementStrategy strategy) =>
        _messages.TryGetValue(strategy, out var message) ? message : _messages.GetValue(strategy, s => Build(s));

    /// <summary>
    /// The encoded bytes of a message this class built (encoded once, with it), or of any other strategy message,
    /// encoded now: the same bytes either way (<c>StrategyMessagesTests</c>).
    /// </summary>
    public ByteString Encoded(V1.Strategy message) =>
        _encoded.TryGetValue(message, out var bytes) ? bytes : message.ToByteString();

    /// <summary>The encoded bytes of the strategy's message (built and encoded once per strategy).</summary>
    public ByteString Bytes(EngagementStrategy strategy) =>
        _bytes.TryGetValue(strategy, out var bytes) ? bytes : _bytes.GetValue(strategy, s => Encoded(For(s)));

    private V1.Strategy Build(EngagementStrategy strategy)
    {
        var message = strategy.ToProto();
        _encoded.AddOrUpdate(message, message.ToByteString());
        return message;
    }
}
