using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Grants;
using Gateway.Core.Guardrails;
using Gateway.Core.Pipeline;
using Gateway.Core.Policy;
using Gateway.Web.Guardrails;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Console;

/// <summary>What a console trial call came to: field errors (nothing was called), or the outcome and what to show.</summary>
/// <param name="Errors">Problems with the input, by field (<c>tool</c>, <c>arguments</c>).</param>
/// <param name="Outcome">
/// "ok", "tool error", "refused", "failed", or what the upstream answered instead of a result: "input required" (it
/// asked the caller for input) or "task started" (it runs the call as a long-running task); null when the input was refused.
/// </param>
/// <param name="Text">The result's text, or the refusal or failure message.</param>
/// <param name="Structured">The result's structured content, as JSON, when it has any.</param>
internal sealed record TrialResult(Dictionary<string, string[]> Errors, string? Outcome = null, string? Text = null, string? Structured = null);

/// <summary>
/// "Try it": an admin calls one exposed tool from the console, through the same pipeline as an agent's call: policy
/// decides (an escalated call waits for approval, a blocked one is refused), limits apply, the result is guarded, and
/// the call is audited. The caller is the console user, as the pseudo-agent <c>console:&lt;user&gt;</c>: the name the
/// audit gives the user's admin changes, so the trail shows who tried what; policy rules see that name (no tags), and
/// the user cannot approve their own escalated trial when self-approval is forbidden.
/// </summary>
/// <remarks>
/// The pseudo-agent holds one grant, to the tool tried, up to destructive: an admin may try any tool, but not around
/// policy. Its id is negative (stored agents' ids are positive), derived from the user name, so approvals and usage
/// counters are the user's own and never an agent's.
/// </remarks>
internal sealed class ToolTrial(UpstreamManager upstreams, ToolCallPipeline pipeline, ResultGuardStep guard, Microsoft.Extensions.Options.IOptionsMonitor<Gateway.Web.Hosting.GatewayOptions> options)
{
    /// <summary>The outcome of a trial the upstream answered by asking for input.</summary>
    public const string InputRequired = "input required";

    /// <summary>The outcome of a trial the upstream turned into a task.</summary>
    public const string TaskStarted = "task started";

    /// <summary>The audit actor (and policy agent name) of a console user's trial calls.</summary>
    public static string Actor(string user) => Gateway.Core.Audit.Admin.AuditActor.Console(user);

    /// <summary>Calls <paramref name="tool"/> (exposed name) with <paramref name="argumentsJson"/> as <paramref name="user"/>.</summary>
    public async Task<TrialResult> CallAsync(string user, string? tool, string? argumentsJson, CancellationToken cancellationToken)
    {
        var catalog = upstreams.Catalog;
        if (string.IsNullOrWhiteSpace(tool) || !catalog.Tools.TryResolve(tool, out var entry))
        {
            return new TrialResult(new() { ["tool"] = [$"No connected tool named '{tool}' (use the exposed name)."] });
        }

        var errors = new List<string>();
        var arguments = TrialArguments.Parse(argumentsJson, entry.Item.Upstream.InputSchema, errors);
        if (arguments is null)
        {
            return new TrialResult(new() { ["arguments"] = [.. errors] });
        }

        if (await TrialArguments.CheckSchemaAsync(arguments, entry.Item.Upstream.InputSchema, cancellationToken) is { Count: > 0 } schemaErrors)
        {
            return new TrialResult(new() { ["arguments"] = [.. schemaErrors] });
        }

        var caller = new AgentIdentity(IdOf(user), Actor(user), new GrantSet([new ToolGrant(new Glob(entry.Server), new Glob(entry.OriginalName), AccessClass.Destructive)]));
        ToolCallOutcome<CallToolResult> outcome;
        try
        {
            // The one call into the pipeline.
            outcome = await pipeline.RunAsync(new ToolCall(caller, tool, arguments), new Forwarder(this, catalog, arguments, guard.ForSession(null)), cancellationToken);
        }
        catch (Exception ex) when (UpstreamFailure.IsCallFailure(ex) || ex is McpException)
        {
            return new TrialResult([], "failed", ex.Message);
        }

        // Neither is a failure: the tool answered, with a question or a task. A trial can follow neither, so it says so.
        if (outcome.InputRequired is not null || outcome.Continuation is not null)
        {
            var asked = outcome.InputRequired is InputRequiredResult { InputRequests: { Count: > 0 } requests }
                ? string.Join(", ", requests.Values.Select(r => r.Method).Distinct(StringComparer.Ordinal))
                : "elicitation, sampling or roots";
            return new TrialResult([], InputRequired, $"The tool asked for input before it answers ({asked}). A console trial cannot give input: call it from an agent that can.");
        }

        if (outcome.Task is { } task)
        {
            return new TrialResult([], TaskStarted, $"The upstream runs the call as a long-running task (call id {task.Call.CallId} in the audit); its end is audited when an agent follows it. A console trial does not follow tasks.");
        }

        if (outcome.IsRefused)
        {
            return new TrialResult([], "refused", outcome.Message);
        }

        var result = outcome.Result!;
        var text = string.Join("\n", (result.Content ?? []).Select(c => c is TextContentBlock t ? t.Text : $"[{c.Type} content]"));
        var structured = result.StructuredContent is { } s ? s.GetRawText() : null;
        return new TrialResult([], result.IsError == true ? "tool error" : "ok", text, structured);
    }

    /// <summary>The trial's side of the pipeline's port: the catalog it resolved against, and the upstream call.</summary>
    private sealed class Forwarder(ToolTrial trial, GatewayCatalog catalog, Dictionary<string, JsonElement> arguments, CallGuard<CallToolResult>? guard)
        : IToolCallForwarder<ExposedTool, CallToolResult>
    {
        public Gateway.Core.Catalog.NamespacedCatalog<ExposedTool> Tools => catalog.Tools;

        public Gateway.Core.Catalog.NamespacedCatalog<ExposedTool> OfflineTools => catalog.OfflineTools;

        public CallGuard<CallToolResult>? Guard => guard;

        public ValueTask<CallToolResult> ForwardAsync(Gateway.Core.Catalog.CatalogEntry<ExposedTool> entry, CancellationToken cancellationToken) =>
            new(trial.ForwardAsync(entry.Server, entry.Item.Upstream.Name, arguments, cancellationToken));

        public bool IsToolError(CallToolResult result) => result.IsError == true;

        public string? ResultSha256(CallToolResult result) => Gateway.Web.Protocol.ResultHash.Sha256(result);

        public string DefinitionSha256(ExposedTool tool) => tool.DefinitionSha256;
    }

    // The trial declares every input capability so an upstream that needs input says so (input required) rather than
    // refusing the call for a missing capability: the admin learns what the tool would ask an agent.
    private static readonly ClientCapabilities AskAnything = new() { Elicitation = new(), Sampling = new(), Roots = new() };

    private Task<CallToolResult> ForwardAsync(string server, string originalName, Dictionary<string, JsonElement> arguments, CancellationToken cancellationToken) =>
        upstreams.TryGet(server, out var connection)
            ? connection.InvokeAsync((client, ct) => UpstreamToolCall.CallAsync(client, null, originalName, arguments, null, null, new UpstreamRoundTrip(server, null, null, AskAnything, options.CurrentValue.Mcp.MaxRequestStateBytes), ct), cancellationToken)
            : throw new UpstreamUnavailableException(server);

    private static long IdOf(string user) =>
        -1 - (BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(user))) & long.MaxValue);
}
