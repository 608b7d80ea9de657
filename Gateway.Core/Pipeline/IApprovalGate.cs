using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Policy;

namespace Gateway.Core.Pipeline;

/// <summary>Where an escalated call waits for a human decision.</summary>
public interface IApprovalGate
{
    /// <summary>Asks for approval; returns when decided, expired, or the agent gave up.</summary>
    ValueTask<ApprovalVerdict> RequestAsync(AgentIdentity agent, string server, string tool, IDictionary<string, JsonElement>? arguments, string argumentsSha256, PolicyDecision decision, CancellationToken cancellationToken);
}

/// <summary>The outcome of an approval request.</summary>
/// <param name="Approved">Whether the call may go ahead.</param>
/// <param name="Message">What the agent is told when it may not.</param>
public readonly record struct ApprovalVerdict(bool Approved, string Message);

/// <summary>The gate until approvals exist: an escalated call is refused, saying it needs a human's approval.</summary>
public sealed class RefusingApprovalGate : IApprovalGate
{
    /// <inheritdoc/>
    public ValueTask<ApprovalVerdict> RequestAsync(AgentIdentity agent, string server, string tool, IDictionary<string, JsonElement>? arguments, string argumentsSha256, PolicyDecision decision, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ApprovalVerdict(false, $"This call needs a human's approval ({decision.Reason}), and this gateway has no approval workflow configured."));
}
