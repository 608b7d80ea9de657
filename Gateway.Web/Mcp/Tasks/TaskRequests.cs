using System.Text.Json.Nodes;
using Gateway.Core.Agents;
using Gateway.Core.Pipeline;
using Gateway.Web.Authentication;
using Gateway.Web.Hosting;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// <c>tasks/get</c>, <c>tasks/update</c> and <c>tasks/cancel</c>, routed to the upstream that runs the task: the
/// agent's task id opens (for that agent only) to the server and the upstream's own id, the request goes there as the
/// agent sent it with that id and the agent's declaration of the extension, and the answer comes back with the agent's
/// id in place of the upstream's. Registered with <c>taskId</c> as their Mcp-Name routing parameter, so the SDK checks
/// the header against it.
/// </summary>
internal sealed class TaskRequests(UpstreamManager upstreams, TaskIdSeal seal, TaskOutcomes outcomes, IOptionsMonitor<GatewayOptions> options, TimeProvider time)
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
        var task = await ForwardAsync(request, binding, cancellationToken);
        if (task is JsonObject detailed)
        {
            detailed[TasksProtocol.TaskIdParameter] = agentTaskId;
            detailed.Remove("requestState");
            await outcomes.ObserveAsync(binding, detailed, request.Server.SessionId);
        }

        return task;
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

        return seal.Open(id, agent.Id) is { } binding && Allowed(agent, binding)
            ? (binding, id)
            : throw new McpProtocolException(TaskIdSeal.Unknown, McpErrorCode.InvalidParams);
    }

    private bool Allowed(AgentIdentity agent, TaskBinding binding) => agent.Grants.AllowsAnyOf(binding.Server, time.GetUtcNow());

    /// <summary>Sends the agent's request to the task's upstream with the upstream's task id; its answer or error comes back as is.</summary>
    private async Task<JsonNode?> ForwardAsync(RequestContext<JsonNode?> request, TaskBinding binding, CancellationToken cancellationToken)
    {
        var parameters = request.Params?.DeepClone() as JsonObject ?? [];
        parameters[TasksProtocol.TaskIdParameter] = binding.UpstreamTaskId;
        if (GatewayMcpHandlers.ForwardableMeta(parameters["_meta"] as JsonObject) is { } meta)
        {
            parameters["_meta"] = meta;
        }
        else
        {
            parameters.Remove("_meta");
        }

        var roundTrip = new UpstreamRoundTrip(binding.Server, null, null, TasksProtocol.CapabilitiesOf(request), options.CurrentValue.Mcp.MaxRequestStateBytes);
        try
        {
            if (!upstreams.TryGet(binding.Server, out var connection))
            {
                throw new UpstreamUnavailableException(binding.Server);
            }

            return await connection.InvokeAsync(
                async (client, ct) =>
                {
                    roundTrip.AddTo(parameters, client);
                    var response = await client.SendRequestAsync(
                        new JsonRpcRequest
                        {
                            Method = request.JsonRpcRequest.Method,
                            Params = parameters,

                            // The Mcp-Name header the upstream checks against the taskId it gets.
                            Context = new JsonRpcMessageContext { RoutingName = binding.UpstreamTaskId },
                        },
                        ct);
                    return response.Result;
                },
                cancellationToken);
        }
        catch (Exception ex) when (ex is UpstreamUnavailableException or UpstreamTimeoutException or UpstreamResultTooLargeException)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InternalError);
        }
    }
}
