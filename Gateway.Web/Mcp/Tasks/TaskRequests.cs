using System.Text.Json.Nodes;
using Gateway.Core.Agents;
using Gateway.Web.Authentication;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// <c>tasks/get</c>, <c>tasks/update</c> and <c>tasks/cancel</c>, routed to the upstream that runs the task: the
/// agent's task id opens (for that agent only) to the server and the upstream's own id, the request goes there as the
/// agent sent it with that id and the agent's declaration of the extension, and the answer comes back with the agent's
/// id in place of the upstream's. Registered with <c>taskId</c> as their Mcp-Name routing parameter, so the SDK checks
/// the header against it. The status notifications the upstream sends on a tasks/get's stream reach that agent's
/// tasks/get the same way: the agent's id in place of the upstream's, the result guarded, the end audited.
/// </summary>
internal sealed class TaskRequests(TaskUpstream upstream, TaskStatusRouter statuses, TaskIdSeal seal, TaskOutcomes outcomes, GatewayMcpHandlers handlers, TimeProvider time)
{
    public IEnumerable<McpServerRequestHandler> Handlers =>
    [
        new() { Method = TasksProtocol.Get, RoutingNameParameter = TasksProtocol.TaskIdParameter, Handler = GetAsync },
        new() { Method = TasksProtocol.Update, RoutingNameParameter = TasksProtocol.TaskIdParameter, Handler = UpdateAsync },
        new() { Method = TasksProtocol.Cancel, RoutingNameParameter = TasksProtocol.TaskIdParameter, Handler = CancelAsync },
    ];

    private async ValueTask<JsonNode?> GetAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        var (binding, agentTaskId) = Open(request);
        JsonNode? task;
        var owner = upstream.ActsForUsers(binding.Server) ? binding.User : null;
        using (var registration = statuses.Register(binding.Server, binding.UpstreamTaskId, owner, status => RelayStatusAsync(request, binding, agentTaskId, status)))
        {
            task = await ForwardAsync(request, binding, cancellationToken);

            // The statuses read before the answer reach the agent before it.
            await registration.DrainAsync(cancellationToken);
        }

        if (task is JsonObject detailed)
        {
            await AsAgentsAsync(detailed, binding, agentTaskId, request.Server.SessionId);
        }

        return task;
    }

    /// <summary>A status notification of the task, to the agent whose tasks/get it came on (best effort, as notifications are).</summary>
    private async ValueTask RelayStatusAsync(RequestContext<JsonNode?> request, TaskBinding binding, string agentTaskId, JsonObject status)
    {
        // The upstream's _meta may name its own task id (related-task); the agent gets none of it.
        status.Remove("_meta");
        await AsAgentsAsync(status, binding, agentTaskId, request.Server.SessionId);
        try
        {
            await request.Server.SendNotificationAsync(TasksProtocol.StatusNotification, status);
        }
        catch (Exception)
        {
            // The agent's request went away; it reads the state with its next tasks/get.
        }
    }

    /// <summary>A DetailedTask as the agent sees it: its own task id, no upstream state, the result guarded, the end audited.</summary>
    private async ValueTask AsAgentsAsync(JsonObject task, TaskBinding binding, string agentTaskId, string? sessionId)
    {
        task[TasksProtocol.TaskIdParameter] = agentTaskId;
        task.Remove("requestState");
        await outcomes.ObserveAsync(binding, task, sessionId);
    }

    // The acks carry nothing of the task; its new state is what the next tasks/get relays (and audits).
    private async ValueTask<JsonNode?> UpdateAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken) =>
        await ForwardAsync(request, Open(request).Binding, cancellationToken);

    private async ValueTask<JsonNode?> CancelAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken) =>
        await ForwardAsync(request, Open(request).Binding, cancellationToken);

    /// <summary>
    /// The task the request names, if it is this agent's: a request that did not declare the extension is refused as
    /// the extension says (-32021); an id that does not open, another agent's included, is unknown (-32602), as is one
    /// on a server the agent may no longer use.
    /// </summary>
    private (TaskBinding Binding, string AgentTaskId) Open(RequestContext<JsonNode?> request)
    {
        var agent = request.User.GetAgent() ?? throw new McpProtocolException("Not authenticated.", McpErrorCode.InvalidRequest);
        if (!TasksProtocol.Declared(request))
        {
            throw new MissingRequiredClientCapabilityException(
                new ClientCapabilities { Extensions = new Dictionary<string, object> { [TasksProtocol.ExtensionId] = new JsonObject() } },
                $"{request.JsonRpcRequest.Method} needs the {TasksProtocol.ExtensionId} extension: declare it in the request's client capabilities.");
        }

        if (request.Params?[TasksProtocol.TaskIdParameter] is not JsonValue value || !value.TryGetValue(out string? id))
        {
            throw new McpProtocolException($"{request.JsonRpcRequest.Method} needs a taskId.", McpErrorCode.InvalidParams);
        }

        return seal.Open(id, agent) is { } binding && Allowed(agent, binding)
            ? (binding, id)
            : throw new McpProtocolException(TaskIdSeal.Unknown, McpErrorCode.InvalidParams);
    }

    private bool Allowed(AgentIdentity agent, TaskBinding binding) => agent.Grants.AllowsAnyOf(binding.Server, time.GetUtcNow());

    /// <summary>The agent's request, its _meta cut to what may be forwarded, to the task's upstream with the upstream's task id.</summary>
    private Task<JsonNode?> ForwardAsync(RequestContext<JsonNode?> request, TaskBinding binding, CancellationToken cancellationToken)
    {
        var parameters = request.Params?.DeepClone() as JsonObject ?? [];
        if (GatewayMcpHandlers.ForwardableMeta(parameters["_meta"] as JsonObject) is { } meta)
        {
            parameters["_meta"] = meta;
        }
        else
        {
            parameters.Remove("_meta");
        }

        // With what the caller brings, as every other request of theirs: a per-user server gets the user's token (never
        // the server's own credential on a user's request) and the agent headers it forwards.
        return handlers.AsCallerAsync(
            request,
            binding.Server,
            ct => upstream.SendAsync(binding, request.JsonRpcRequest.Method, parameters, TasksProtocol.CapabilitiesOf(request), ct),
            cancellationToken);
    }
}
