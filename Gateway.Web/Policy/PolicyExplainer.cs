using System.Text.Json;
using Gateway.Core.Agents;
using Gateway.Core.Guardrails;
using Gateway.Core.Policy;
using Gateway.Web.Agents;
using Gateway.Web.Api;
using Gateway.Web.Upstreams;

namespace Gateway.Web.Policy;

/// <summary>
/// Answers "what would happen if this agent called this tool with these arguments" with the same grant check and
/// engine as a real call, without calling anything. Shared by the admin API and the console's tester.
/// </summary>
internal sealed class PolicyExplainer(AgentDirectoryProvider agents, IAgentStore agentStore, UpstreamManager upstreams, PolicyProvider provider, TimeProvider time)
{
    public async Task<(ExplainResponse? Answer, Dictionary<string, string[]> Errors)> ExplainAsync(ExplainRequest request, CancellationToken cancellationToken)
    {
        var record = request.Agent is null ? null : await agentStore.FindAsync(request.Agent, cancellationToken);
        var catalog = upstreams.Catalog;
        var errors = new Dictionary<string, string[]>();
        if (record is null)
        {
            errors["agent"] = [$"No agent named '{request.Agent}'."];
        }

        if (request.Tool is null || !catalog.Tools.TryResolve(request.Tool, out _))
        {
            errors["tool"] = [$"No connected tool named '{request.Tool}' (use the exposed name)."];
        }

        if (request.Arguments is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined) })
        {
            errors["arguments"] = ["Arguments must be a JSON object."];
        }
        else if (request.Arguments is { ValueKind: JsonValueKind.Object } given && Protocol.JsonArguments.FirstRepeatedName(given) is { } twice)
        {
            errors["arguments"] = [$"Arguments name '{twice}' twice."];
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        catalog.Tools.TryResolve(request.Tool!, out var entry);
        var identity = agents.Current.FindById(record!.Id);
        var granted = identity is not null && identity.Grants.Allows(entry.Server, entry.OriginalName, entry.Class, time.GetUtcNow());
        var arguments = request.Arguments?.ValueKind == JsonValueKind.Object
            ? request.Arguments.Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone())
            : null;
        // With the server's labels; as the first call of a fresh session (what a session received is not known here).
        var guard = upstreams.TryGet(entry.Server, out var connection) ? connection.Definition.Guard : ServerGuardSettings.Default;
        var labels = guard.Labels;
        var input = new PolicyInput(record.Name, record.Tags, entry.Server, entry.OriginalName, entry.Class, arguments, labels);
        var engine = provider.Current;
        var decision = granted ? engine.Evaluate(input) : new PolicyDecision(PolicyEffect.Block, null, "not granted: the agent cannot see or call this tool");
        return (new ExplainResponse(
            decision.Effect.Name(),
            decision.Rule,
            decision.Reason,
            granted,
            entry.Server,
            entry.OriginalName,
            entry.Class.Name(),
            [.. engine.Matching(input).Select(r => r.Name)],
            (decision.Secrets ?? guard.Secrets).Name(),
            decision.SecretsRule), errors);
    }
}
