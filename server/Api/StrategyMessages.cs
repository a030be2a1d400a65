using System.Runtime.CompilerServices;
using Advisor.Server.Knowledge;

namespace Advisor.Server.Api;

/// <summary>
/// The <c>advisor.v1.Strategy</c> message of each strategy, built once per strategy instance instead of on every
/// answer. Strategies are immutable parts of a loaded knowledge base and every ClassifyBuyer answer carries up to
/// three of them (title, why, next steps, industries, sources): rebuilding them was a visible share of a call's
/// server CPU. Keyed by the strategy object itself, so a reloaded knowledge base gets fresh messages and the old
/// ones are collected with it. The messages are shared by concurrent responses and must never be changed after
/// they are built; responses only add them to their lists, which serialisation reads.
/// </summary>
public sealed class StrategyMessages
{
    private readonly ConditionalWeakTable<EngagementStrategy, V1.Strategy> _messages = [];

    public V1.Strategy For(EngagementStrategy strategy) =>
        _messages.TryGetValue(strategy, out var message) ? message : _messages.GetValue(strategy, static s => s.ToProto());
}
