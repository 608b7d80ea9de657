namespace Gateway.Core.Pipeline;

/// <summary>
/// Thrown by a forward delegate when the upstream answered a call with a multi round-trip result (2026-07-28's
/// <c>input_required</c>): it needs input from the agent (elicitation, sampling, roots) before it can answer. Not a
/// failure: the pipeline records the round and hands <see cref="Payload"/> back to the host, which relays it to the
/// agent and continues the call when the agent retries.
/// </summary>
public sealed class UpstreamInputRequiredException(object payload)
    : Exception("The upstream needs input from the agent before it can answer.")
{
    /// <summary>Gets the protocol's input-required result, opaque to Core.</summary>
    public object Payload { get; } = payload;
}
