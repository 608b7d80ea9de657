using System.Globalization;
using System.Security.Claims;
using Gateway.Core.Agents;

namespace Gateway.Web.Authentication;

/// <summary>The identity of an authenticated agent, carrying the resolved <see cref="AgentIdentity"/> so MCP handlers need no lookup.</summary>
internal sealed class AgentClaimsIdentity : ClaimsIdentity
{
    public AgentClaimsIdentity(AgentIdentity agent, string keyHash)
        : this(agent, keyHash, null, GatewayAuthenticationDefaults.AgentScheme)
    {
    }

    /// <param name="agent">The agent profile the call acts as.</param>
    /// <param name="keyHash">The key's hash, or for an OAuth caller a credential of <see cref="AgentDirectory.OAuthCredentialPrefix"/>.</param>
    /// <param name="caller">The OAuth client and user, when a token (not a key) authenticated the request.</param>
    /// <param name="scheme">The scheme that authenticated the request.</param>
    public AgentClaimsIdentity(AgentIdentity agent, string keyHash, OAuth.OAuthCaller? caller, string scheme)
        : base(
            [
                // The MCP SDK binds 2025-11-25 sessions to NameIdentifier: another agent, or another user of the same
                // agent profile, reusing the session id gets 403.
                new Claim(ClaimTypes.NameIdentifier, "agent:" + agent.Id.ToString(CultureInfo.InvariantCulture) + (caller is null ? string.Empty : "/" + keyHash)),
                new Claim(ClaimTypes.Name, agent.Name),
            ],
            scheme)
    {
        Agent = agent;
        KeyHash = keyHash;
        Caller = caller;
    }

    public AgentIdentity Agent { get; }

    /// <summary>Gets the hash of the key this request presented (sessions end when it is revoked), or an OAuth caller's credential.</summary>
    public string KeyHash { get; }

    /// <summary>Gets the OAuth client and user, or <see langword="null"/> for an API key.</summary>
    public OAuth.OAuthCaller? Caller { get; }
}

/// <summary>Finds the agent on a principal.</summary>
internal static class AgentPrincipalExtensions
{
    public static AgentIdentity? GetAgent(this ClaimsPrincipal? principal) => principal.GetAgentIdentity()?.Agent;

    public static AgentClaimsIdentity? GetAgentIdentity(this ClaimsPrincipal? principal) =>
        principal?.Identities.OfType<AgentClaimsIdentity>().FirstOrDefault();
}
