using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Gateway.Core.Guardrails;
using ModelContextProtocol;

namespace Gateway.Web.Guardrails;

/// <summary>
/// Guards the questions a 2025-11-25 upstream asks an agent as requests on its session (elicitation, sampling) by the
/// server's modes before the agent sees them, as the questions of a 2026-07-28 <c>input_required</c> result are:
/// every string of the request's parameters (messages, system prompt, schema titles and descriptions). The agent gets
/// the rewritten question; a secret under <c>block</c> fails the question upstream (a JSON-RPC error the upstream's
/// tool reports) and the agent is never asked. The question is not an audit entry of its own (the call is), so its
/// findings are logged, kinds and places only, and recorded in the session's facts like a result's.
/// </summary>
internal sealed partial class QuestionGuard(ResultGuardStep guards, ILogger<QuestionGuard> logger)
{
    /// <summary>The question to ask the agent: <paramref name="parameters"/> itself when nothing was found in it.</summary>
    /// <exception cref="McpProtocolException">A secret under <c>block</c>: the upstream gets this error.</exception>
    public async ValueTask<TParams> InspectAsync<TParams>(string? sessionId, string server, string agent, string method, TParams parameters)
    {
        var type = (JsonTypeInfo<TParams>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(TParams));
        var call = guards.ForSession(sessionId);
        var serverGuard = call.Servers.For(server);
        var scan = new ResultScan();
        var rewritten = JsonTextGuard.Rewrite(JsonSerializer.SerializeToElement(parameters, type), "params", serverGuard, scan);
        await call.Session.RecordResultAsync(scan, serverGuard.Settings.Labels, CancellationToken.None);
        if (scan.Any)
        {
            LogFindings(method, server, agent, scan.ToAuditJson()!);
        }

        if (scan.BlockedBy is not null)
        {
            throw new McpProtocolException(
                scan.BlockedBy == ResultScan.FactsNotStored
                    ? $"The gateway withheld this {method} request from the agent: what it brought the session could not be stored for the other gateway instances' policy (the database failed)."
                    : $"The gateway withheld this {method} request from the agent: it contained a secret ({scan.BlockedBy[FindingKinds.SecretPrefix.Length..]}) and server '{server}' blocks secrets.",
                McpErrorCode.InternalError);
        }

        return rewritten is null ? parameters : rewritten.Deserialize(type) ?? parameters;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Result guard findings in an upstream's {Method} from {Server} to agent {Agent}: {Findings}")]
    private partial void LogFindings(string method, string server, string agent, string findings);
}
