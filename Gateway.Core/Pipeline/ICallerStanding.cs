using Gateway.Core.Agents;

namespace Gateway.Core.Pipeline;

/// <summary>
/// Whether the caller of an approved call may still act. A held call can wait minutes for its approval, and meanwhile
/// its key may be revoked, its agent disabled, or the user it acts for revoked (signed out by their identity provider,
/// disabled in the console): the approval is of the call, not of the caller, so the call is not forwarded then.
/// </summary>
public interface ICallerStanding
{
    /// <summary>Null while the caller may act; else what it is told (and the audit records) instead of the result.</summary>
    /// <param name="agent">The agent, with the user it acts for.</param>
    /// <param name="credential">The key hash, or the OAuth caller's credential, that authenticated the call (<see cref="ToolCall.Credential"/>).</param>
    string? RefusalFor(AgentIdentity agent, string? credential);
}
