using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Policy;

namespace Gateway.Core.Pipeline;

/// <summary>Where an escalated call waits for a human decision.</summary>
public interface IApprovalGate
{
    /// <summary>Asks for approval; returns when decided, expired, held long enough, or the agent gave up (cancellation).</summary>
    ValueTask<ApprovalVerdict> RequestAsync(ApprovalRequest request, CancellationToken cancellationToken);
}

/// <summary>An escalated call, with what binds an approval to it.</summary>
public sealed record ApprovalRequest(
    AgentIdentity Agent,
    string Server,
    string Tool,
    string ToolDefinitionSha256,
    IDictionary<string, JsonElement>? Arguments,
    string ArgumentsSha256,
    PolicyDecision Decision,
    Func<string, ValueTask>? Heartbeat);

/// <summary>The outcome of an approval request.</summary>
/// <param name="Approved">Whether the call may go ahead.</param>
/// <param name="Message">What the agent is told when it may not.</param>
public readonly record struct ApprovalVerdict(bool Approved, string Message);

/// <summary>A gate for hosts without approvals: an escalated call is refused, saying it needs a human's approval.</summary>
public sealed class RefusingApprovalGate : IApprovalGate
{
    /// <inheritdoc/>
    public ValueTask<ApprovalVerdict> RequestAsync(ApprovalRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ApprovalVerdict(false, $"This call needs a human's approval ({request.Decision.Reason}), and this gateway has no approval workflow configured."));
}
