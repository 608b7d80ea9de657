using System.Text.Json.Nodes;
using Gateway.Core.Pipeline;
using Gateway.Web.Hosting;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// Sends a tasks request to the upstream that runs the task, under the upstream's own task id: for an agent's request
/// (<see cref="TaskRequests"/>) and for the gateway's own polls (<see cref="TaskFollower"/>).
/// </summary>
internal sealed class TaskUpstream(UpstreamManager upstreams, IOptionsMonitor<GatewayOptions> options)
{
    /// <summary>What the gateway declares when it polls on its own: the extension, and nothing it could not answer.</summary>
    public static readonly ClientCapabilities GatewayCapabilities = new()
    {
        Extensions = new Dictionary<string, object> { [TasksProtocol.ExtensionId] = new JsonObject() },
    };

    /// <summary>Whether <paramref name="server"/> takes the calling user's token rather than its own credential (token exchange, per-user accounts).</summary>
    public bool ActsForUsers(string server) =>
        upstreams.TryGet(server, out var connection) && connection.Definition.ActsForUsers;

    /// <summary>
    /// Sends <paramref name="method"/> with <paramref name="parameters"/> (their taskId replaced by the upstream's);
    /// the upstream's answer or error comes back as is, a gateway failure as an internal error.
    /// </summary>
    public async Task<JsonNode?> SendAsync(TaskBinding binding, string method, JsonObject parameters, ClientCapabilities? capabilities, CancellationToken cancellationToken)
    {
        parameters[TasksProtocol.TaskIdParameter] = binding.UpstreamTaskId;
        var roundTrip = new UpstreamRoundTrip(binding.Server, null, null, capabilities, options.CurrentValue.Mcp.MaxRequestStateBytes);
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
                            Method = method,
                            Params = parameters,

                            // The Mcp-Name header the upstream checks against the taskId it gets.
                            Context = new JsonRpcMessageContext { RoutingName = binding.UpstreamTaskId },
                        },
                        ct);
                    return response.Result;
                },
                cancellationToken);
        }
        catch (Exception ex) when (UpstreamFailure.IsCallFailure(ex))
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InternalError);
        }
    }
}
