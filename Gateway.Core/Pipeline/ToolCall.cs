using System.Text.Json;
using Gateway.Core.Agents;

namespace Gateway.Core.Pipeline;

/// <summary>One <c>tools/call</c> as the agent made it: what the pipeline decides on (the agent side of the call).</summary>
/// <param name="Agent">The authenticated agent.</param>
/// <param name="ToolName">The tool as the agent named it.</param>
/// <param name="Arguments">The call's arguments (hashed for the audit, never stored).</param>
public readonly record struct ToolCall(AgentIdentity Agent, string ToolName, IDictionary<string, JsonElement>? Arguments)
{
    /// <summary>
    /// Gets a later round of a multi round-trip call: decided in its first round, so policy and approval are not asked
    /// again (the grant and limits are). Null for a first round.
    /// </summary>
    public CallContinuation? Continuing { get; init; }

    /// <summary>
    /// Gets the virtual server the call came through (<c>/mcp/{name}</c>), or null for <c>/mcp</c>. The audit names the
    /// tool <c>{virtual server}/{tool}</c>: tool names cannot hold a slash, so the two stay apart.
    /// </summary>
    public string? VirtualServer { get; init; }

    /// <summary>
    /// Gets what tells the agent, while the call waits for approval, that it is still waiting (clients that reset their
    /// timeout on progress keep waiting); null when the agent cannot be told (it gave no progress token).
    /// </summary>
    public Func<string, ValueTask>? Heartbeat { get; init; }

    /// <summary>
    /// Gets the key hash, or the OAuth caller's credential, that authenticated the call: asked about again when an
    /// approval wait ends (<see cref="ICallerStanding"/>). Null where the host has no such credential (the console).
    /// </summary>
    public string? Credential { get; init; }
}
