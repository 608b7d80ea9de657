using Gateway.Core.Limits;

namespace Gateway.Web.Admin.Agents;

/// <summary>A change to an agent; a <see langword="null"/> field stays as it is.</summary>
/// <param name="Enabled">Enables or disables the agent.</param>
/// <param name="Grants">Replaces the grants.</param>
/// <param name="Tags">Replaces the tags.</param>
/// <param name="Limits">Replaces all three limits (each null field then takes the gateway default).</param>
/// <param name="Owner">Replaces the owner: an existing console user's name, or empty for no owner.</param>
/// <param name="Discovery">Replaces how the agent discovers its tools on <c>/mcp</c>: <c>list</c> or <c>search</c>.</param>
public sealed record AgentChange(bool? Enabled = null, IReadOnlyList<string>? Grants = null, IReadOnlyList<string>? Tags = null, AgentLimits? Limits = null, string? Owner = null, string? Discovery = null);
