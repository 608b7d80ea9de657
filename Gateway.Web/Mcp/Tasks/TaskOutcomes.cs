using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Core.Guardrails;
using Gateway.Core.Pipeline;
using Gateway.Web.Guardrails;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// What the gateway does with a task's state as it relays it: the inlined result of a completed task goes through the
/// result guard like any call's result (every time it is relayed: a task must not be a way around the guard), and the
/// first time the gateway relays a terminal status the audit gets the call's end, under the call's id.
/// </summary>
internal sealed class TaskOutcomes(IAuditSink audit, ResultGuardStep guards, TimeProvider time)
{
    // Call ids whose end is recorded, until long after any task's time to live. Bounded: past the cap the expired are
    // swept, and when none is, an end may be recorded again (once too often rather than never).
    private const int MaxTracked = 100_000;
    private static readonly TimeSpan Remembered = TimeSpan.FromDays(1);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _recorded = new(StringComparer.Ordinal);

    /// <summary>Guards and audits a DetailedTask (a tasks/get result) in place.</summary>
    public async ValueTask ObserveAsync(TaskBinding binding, JsonObject task, string? sessionId)
    {
        var status = task["status"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        string outcome;
        string? error = null, resultSha256 = null, findings = null;
        switch (status)
        {
            case "completed":
                (outcome, error, resultSha256, findings) = Guard(binding.Call, task, sessionId);
                break;
            case "failed":
                outcome = AuditOutcomes.Error;
                error = task["error"] is JsonObject e ? $"{e["message"]} ({e["code"]})" : "the task failed";
                break;
            case "cancelled":
                outcome = AuditOutcomes.Cancelled;
                break;
            default:
                return;
        }

        if (Remember(binding.Call.CallId))
        {
            await audit.WriteAsync(binding.Call.Ended(outcome, time.GetUtcNow(), error, resultSha256, findings), CancellationToken.None);
        }
    }

    private (string Outcome, string? Error, string? ResultSha256, string? Findings) Guard(TaskedCall tasked, JsonObject task, string? sessionId)
    {
        var server = tasked.Server;
        if (task["result"] is not JsonObject raw || raw.Deserialize<CallToolResult>(McpJsonUtilities.DefaultOptions) is not { } result)
        {
            return (AuditOutcomes.Ok, null, null, null);
        }

        var call = guards.ForSession(sessionId);
        var serverGuard = call.Servers.For(server);
        var scan = new ResultScan();
        if (tasked.Secrets is { } mode)
        {
            // The mode the policy set for the call that created the task.
            scan.UseSecrets(mode, tasked.SecretsRule!);
        }

        call.Inspector.Inspect(result, serverGuard, scan);
        call.Session.Record(scan.BlockedBy is null ? serverGuard.Settings.Labels : [], scan.Kinds);
        if (scan.BlockedBy is not null)
        {
            var withheld = scan.BlockMessage(server);
            task["result"] = JsonSerializer.SerializeToNode(
                new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = withheld }] }, McpJsonUtilities.DefaultOptions);
            return (AuditOutcomes.Withheld, withheld, null, scan.ToAuditJson());
        }

        var node = JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions)!.AsObject();
        task["result"] = node;
        return (result.IsError == true ? AuditOutcomes.ToolError : AuditOutcomes.Ok, null, Gateway.Web.Protocol.ResultHash.Sha256(node), scan.ToAuditJson());
    }

    private bool Remember(string callId)
    {
        var now = time.GetUtcNow();
        if (_recorded.Count >= MaxTracked)
        {
            foreach (var (id, until) in _recorded)
            {
                if (until <= now)
                {
                    _recorded.TryRemove(id, out _);
                }
            }
        }

        if (_recorded.Count >= MaxTracked)
        {
            return true;
        }

        return _recorded.TryAdd(callId, now + Remembered);
    }
}
