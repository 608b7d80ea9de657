using System.Text.Json.Nodes;
using Gateway.Core.Pipeline;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// Relays the task handle an upstream answered a <c>tools/call</c> with. The call handler returns a CallToolResult, so
/// it leaves the task in the request's items (<see cref="Defer"/>) and this call-tool filter, which may answer with an
/// alternate result, sends the handle instead: the upstream's CreateTaskResult with its task id sealed to the agent.
/// From then on this instance follows the task to its end (<see cref="TaskFollower"/>).
/// </summary>
internal sealed class TaskRelay(TaskIdSeal seal, TaskFollower follower)
{
    private const string Item = "mcp-gateway/created-task";

    /// <summary>Hands the created task to the filter; what it returns is only seen if the filter is missing.</summary>
    public static CallToolResult Defer(RequestContext<CallToolRequestParams> request, CreatedTask task, Gateway.Core.Agents.AgentIdentity agent)
    {
        request.Items[Item] = (task, agent);
        return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = "The upstream started a task, which the gateway could not relay." }] };
    }

    /// <summary>The call-tool filter (<c>CallToolWithAlternateFilters</c>).</summary>
    public async ValueTask<ResultOrAlternate<CallToolResult>> FilterAsync(
        RequestContext<CallToolRequestParams> request,
        McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next,
        CancellationToken cancellationToken)
    {
        var result = await next(request, cancellationToken);
        if (result.IsAlternate || !request.Items.Remove(Item, out var deferred) || deferred is not (CreatedTask task, Gateway.Core.Agents.AgentIdentity agent))
        {
            return result;
        }

        var upstream = (JsonObject)task.Payload;
        var handle = (JsonObject)upstream.DeepClone();
        var binding = new TaskBinding(agent.Id, upstream["taskId"]!.GetValue<string>(), task.Call) { User = agent.User };
        var taskId = seal.Seal(binding);
        handle["taskId"] = taskId;
        follower.Follow(binding, taskId, upstream);

        // The gateway relays no upstream state unsealed (the tasks wire has none; a requestState here would be a stray).
        handle.Remove("requestState");
        return ResultOrAlternate<CallToolResult>.FromAlternate(new RelayedResult(handle), RelayedResult.TypeInfo);
    }
}
