using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Core.Guardrails;
using Gateway.Core.Pipeline;
using Gateway.Core.Sessions;
using Gateway.Web.Guardrails;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// What the gateway does with a task's state as it relays it: the inlined result of a completed task goes through the
/// result guard like any call's result (every time it is relayed: a task must not be a way around the guard), and the
/// first time any instance sees a terminal status (relaying it to the agent, or following the task on its own) the audit
/// gets the call's end, under the call's id: which instance was first is decided in the shared database.
/// </summary>
internal sealed partial class TaskOutcomes(IAuditSink audit, ResultGuardStep guards, ISingleUseLedger ledger, TimeProvider time, ILogger<TaskOutcomes> logger)
{
    /// <summary>How long an end is remembered as recorded: as long as the gateway follows a task (a later read records it again).</summary>
    public static readonly TimeSpan Remembered = TimeSpan.FromDays(1);

    private const string LedgerPrefix = "taskEnded:";

    /// <summary>
    /// Guards and audits a DetailedTask (a tasks/get result, or a status notification) in place. Returns whether the
    /// task's end is settled: it is terminal and its end is in the audit (recorded now or before); false while it runs,
    /// or when the database could not say (a later look records it).
    /// </summary>
    public async ValueTask<bool> ObserveAsync(TaskBinding binding, JsonObject task, string? sessionId)
    {
        var status = task["status"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        string outcome;
        string? error = null, resultSha256 = null, findings = null;
        switch (status)
        {
            case "completed":
                (outcome, error, resultSha256, findings) = await GuardAsync(binding.Call, task, sessionId);
                break;
            case "failed":
                outcome = AuditOutcomes.Error;
                error = task["error"] is JsonObject e ? $"{e["message"]} ({e["code"]})" : "the task failed";
                break;
            case "cancelled":
                outcome = AuditOutcomes.Cancelled;
                break;
            default:
                return false;
        }

        bool first;
        try
        {
            first = await ledger.TryTakeAsync(LedgerPrefix + binding.Call.CallId, time.GetUtcNow() + Remembered, CancellationToken.None);
        }
        catch (DbException ex)
        {
            LogLedgerFailed(binding.Call.CallId, ex);
            return false;
        }

        if (first)
        {
            await audit.WriteAsync(binding.Call.Ended(outcome, time.GetUtcNow(), error, resultSha256, findings), CancellationToken.None);
        }

        return true;
    }

    private async ValueTask<(string Outcome, string? Error, string? ResultSha256, string? Findings)> GuardAsync(TaskedCall tasked, JsonObject task, string? sessionId)
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
        await call.Session.RecordResultAsync(scan, serverGuard.Settings.Labels, CancellationToken.None);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Whether the end of task call {CallId} is recorded could not be decided; it is recorded when next seen.")]
    private partial void LogLedgerFailed(string callId, Exception exception);
}
