using Gateway.Core.Guardrails;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Guardrails;

/// <summary>
/// The host's side of the pipeline's guard-result step: each server's guard comes from its live definition (so it
/// knows that server's stored credentials), results are walked by <see cref="CallToolResultInspector"/>, and the
/// session's facts come from the <see cref="SessionFactsRegistry"/>, kept in the database as well for a session other
/// instances may serve (<see cref="Mcp.SharedSessions"/>).
/// </summary>
/// <remarks>The shared sessions are absent from a host without the MCP endpoint (the console's component tests).</remarks>
internal sealed class ResultGuardStep(ResultGuard guard, UpstreamManager upstreams, SessionFactsRegistry sessions, Mcp.SharedSessions? shared = null, ISessionFactsStore? store = null) : IServerGuards
{
    /// <summary>The guard of one call of a session (or of a stateless request).</summary>
    public CallGuard<CallToolResult> ForSession(string? sessionId)
    {
        var facts = sessions.For(sessionId);
        if (sessionId is not null && !facts.IsShared && store is not null && shared?.IsShared(sessionId) == true)
        {
            facts.ShareThrough(store, sessionId);
        }

        return new(this, CallToolResultInspector.Instance, facts);
    }

    public ServerResultGuard For(string server) =>
        upstreams.TryGet(server, out var connection) ? guard.For(connection.Definition) : guard.Default;
}
