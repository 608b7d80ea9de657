using Gateway.Core.Agents;
using Gateway.Core.Guardrails;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

internal sealed partial class GatewayMcpHandlers
{
    /// <summary>
    /// Guards what a <c>resources/read</c> or <c>prompts/get</c> brings back from an upstream (its result or its
    /// questions) by the server's modes, like a tool result, and records the findings in the session's facts. These
    /// requests are not audited, so the findings are logged (kind and place, never the text). A withheld answer is a
    /// JSON-RPC error naming the finding kind.
    /// </summary>
    private async ValueTask GuardExchangeAsync(MessageContext request, AgentIdentity agent, string method, string name, string server, Action<ServerResultGuard, ResultScan> inspect, string? sentCredential = null)
    {
        var call = guard.ForSession(request.Server.SessionId);
        var serverGuard = call.Servers.For(server);
        var scan = new ResultScan { SentCredential = sentCredential };
        inspect(serverGuard, scan);
        await call.Session.RecordResultAsync(scan, serverGuard.Settings.Labels, CancellationToken.None);
        if (scan.Any)
        {
            LogExchangeFindings(method, name, server, agent.Name, VirtualServerPath() is { } virtualServer ? "/mcp/" + virtualServer : "/mcp", scan.ToAuditJson()!);
        }

        if (scan.BlockedBy is not null)
        {
            throw new McpProtocolException(scan.BlockMessage(server), McpErrorCode.InternalError);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Result guard findings in {Method} of '{Name}' from {Server} for agent {Agent} on {Endpoint}: {Findings}")]
    private partial void LogExchangeFindings(string method, string name, string server, string agent, string endpoint, string findings);
}
