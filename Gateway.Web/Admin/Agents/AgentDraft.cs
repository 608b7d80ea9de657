using Gateway.Core.Limits;

namespace Gateway.Web.Admin.Agents;

/// <summary>An agent to create.</summary>
/// <param name="Name">Its name (validated by <see cref="Gateway.Core.Names"/>).</param>
/// <param name="Grants">Its grants, <c>server/tool[:class][@expiry]</c>.</param>
/// <param name="Tags">Its tags, matched by policy rules as <c>tag:name</c>.</param>
/// <param name="Owner">The console user responsible for it.</param>
/// <param name="Limits">Its own limits; <see langword="null"/> takes the gateway defaults.</param>
/// <param name="Discovery">How it discovers its tools on <c>/mcp</c>: <c>list</c> (the default) or <c>search</c>.</param>
public sealed record AgentDraft(string? Name, IReadOnlyList<string>? Grants, IReadOnlyList<string>? Tags = null, string? Owner = null, AgentLimits? Limits = null, string? Discovery = null);
