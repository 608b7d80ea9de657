using System.Globalization;
using System.Security.Claims;
using Gateway.Core.Agents;

namespace Gateway.Web.Authentication;

/// <summary>The identity of an authenticated agent, carrying the resolved <see cref="AgentIdentity"/> so MCP handlers need no lookup.</summary>
internal sealed class AgentClaimsIdentity : ClaimsIdentity
{
    public AgentClaimsIdentity(AgentIdentity agent, string keyHash)
        : base(
            [
                // The MCP SDK binds 2025-11-25 sessions to NameIdentifier: another agent reusing the session id gets 403.
                new Claim(ClaimTypes.NameIdentifier, "agent:" + agent.Id.ToString(CultureInfo.InvariantCulture)),
                new Claim(ClaimTypes.Name, agent.Name),
            ],
            GatewayAuthenticationDefaults.AgentScheme)
    {
        Agent = agent;
        KeyHash = keyHash;
    }

    public AgentIdentity Agent { get; }

    /// <summary>Gets the hash of the key this request presented (sessions end when it is revoked).</summary>
    public string KeyHash { get; }
}

/// <summary>Finds the agent on a principal.</summary>
internal static class AgentPrincipalExtensions
{
    public static AgentIdentity? GetAgent(this ClaimsPrincipal? principal) => principal.GetAgentIdentity()?.Agent;

    public static AgentClaimsIdentity? GetAgentIdentity(this ClaimsPrincipal? principal) =>
        principal?.Identities.OfType<AgentClaimsIdentity>().FirstOrDefault();
}
