using Gateway.Core.Pipeline;

namespace Gateway.Web.Mcp.RoundTrips;

/// <summary>
/// What the gateway seals into the <c>requestState</c> it gives an agent for a multi round-trip request: whose it is
/// (agent, method, name as the agent called it, arguments), where it goes on (server, the upstream's own state), how
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
    string? Rule,
    DateTimeOffset Expires,
    string Nonce,
    string? Parked = null)
{
    /// <summary>Gets how a tool call goes on in the pipeline (null for prompts and resources, which are not audited as calls).</summary>
    public CallContinuation? Continuation => CallId is null ? null : new CallContinuation(CallId, Round, Decision ?? "allow", Rule);
}
