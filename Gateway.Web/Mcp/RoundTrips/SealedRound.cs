using Gateway.Core.Pipeline;

namespace Gateway.Web.Mcp.RoundTrips;

/// <summary>
/// What the gateway seals into the <c>requestState</c> it gives an agent for a multi round-trip request: whose it is
/// (agent and the user it acts for, method, name as the agent called it, arguments), where it goes on (server, the upstream's own state), how
/// the call was decided and audited, when it expires, and a nonce so it is taken once; or, for a call that waits on this
/// instance for the agent's answers (<see cref="ParkedCall"/>), its id.
/// </summary>
internal sealed record SealedRound(
    long Agent,
    string Method,
    string Name,
    string? ArgumentsSha256,
    string Server,
    string? Upstream,
    string? CallId,
    int Round,
    string? Decision,
    string? Rule)
{
    /// <summary>
    /// Gets the user the agent acted for (an OAuth caller), or null for an agent with its own key: a state opens for
    /// the same agent acting for the same user only, never for another user of the same agent profile.
    /// </summary>
    public string? User { get; init; }

    /// <summary>Gets when it stops opening (set by <see cref="RequestStateSeal.Seal"/>).</summary>
    public DateTimeOffset Expires { get; init; }

    /// <summary>Gets what makes it open once (set by <see cref="RequestStateSeal.Seal"/>).</summary>
    public string Nonce { get; init; } = string.Empty;

    /// <summary>Gets the id of the call that waits on this instance for the agent's answers, if it is one (<see cref="ParkedCall"/>).</summary>
    public string? Parked { get; init; }

    /// <summary>Gets the instance the parked call waits on (set by <see cref="RequestStateSeal.Seal"/>), so another instance can say where it is.</summary>
    public string? ParkedOn { get; init; }

    /// <summary>Gets how a tool call goes on in the pipeline (null for prompts and resources, which are not audited as calls).</summary>
    public CallContinuation? Continuation => CallId is null ? null : new CallContinuation(CallId, Round, Decision ?? "allow", Rule);
}
