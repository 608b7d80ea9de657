using Gateway.Core.Limits;
using Gateway.Web.Authentication;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Limits;

/// <summary>
/// Bounds the requests other than <c>tools/call</c> an agent sends (lists, <c>resources/read</c>, <c>prompts/get</c>,
/// completion, <c>tasks/*</c>, subscriptions, <c>ping</c>, ...): at most <see cref="LimitOptions.OtherRequestsPerMinute"/>
/// per agent (per agent and user for a call made on a user's behalf: one agent profile may serve many users) in a
/// one-minute window from its first request, on each instance. Tool calls have their own limits (the
/// audit counts them); these requests are not audited, yet many reach an upstream with the gateway's credential, so
/// an agent looping on them would otherwise load the upstream without bound. A bound, not a quota: counted in memory,
/// never exchanged between instances, nothing per request beyond one lookup.
/// </summary>
internal sealed class OtherRequestRate
{
    /// <summary>The agents (and agent-user pairs) counted at once; a new one over it waits for ended windows to be swept (bounded memory).</summary>
    public const int MaxAgents = 100_000;

    /// <summary>The limit's name in <c>data.limit</c>.</summary>
    public const string LimitName = "otherRequestsPerMinute";

    private readonly AttemptThrottle? _throttle;
    private readonly int _limit;

    public OtherRequestRate(LimitOptions options, TimeProvider time)
    {
        _limit = options.OtherRequestsPerMinute;
        _throttle = _limit > 0 ? new AttemptThrottle(_limit, TimeSpan.FromMinutes(1), MaxAgents, time) : null;
    }

    /// <summary>
    /// Counts an agent's answer that costs the gateway a write (one relayed to another instance through the database)
    /// as one of its other requests; false when over the bound (the answer is then dropped: an answer gets no reply).
    /// </summary>
    public bool TakeAnswer(Gateway.Core.Agents.AgentIdentity agent) =>
        _throttle is null || _throttle.Take(agent.User is null ? agent.Name : agent.Name + "\n" + agent.User) is null;

    /// <summary>
    /// The incoming message filter: a request over the bound gets JSON-RPC <c>-32029</c> (as a tool call over its
    /// limit does) with <c>data.retryAfterSeconds</c> and <c>data.limit</c>, and goes no further. A tool call passes
    /// with one string comparison.
    /// </summary>
    public static McpMessageFilter Filter => next => (context, cancellationToken) =>
    {
        // Not an async lambda: every message, tool calls included, passes through here, and an await would add a
        // state machine to each (a refusal is a faulted task, as a throw in an async filter would be).
        if (context.JsonRpcMessage is JsonRpcRequest { Method: not RequestMethods.ToolsCall }
            && context.Services?.GetService<OtherRequestRate>() is { _throttle: { } throttle } rate
            && context.User.GetAgent() is { } agent
            && throttle.Take(agent.User is null ? agent.Name : agent.Name + "\n" + agent.User) is { } wait)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
            var who = agent.User is null ? $"agent '{agent.Name}'" : $"agent '{agent.Name}' for '{agent.User}'";
            return Task.FromException(LimitRefusal.Exception(
                $"Rate limit reached: {who} may send {rate._limit} requests other than tool calls per minute to this instance. Retry after {seconds} s.",
                TimeSpan.FromSeconds(seconds),
                LimitName));
        }

        return next(context, cancellationToken);
    };
}
