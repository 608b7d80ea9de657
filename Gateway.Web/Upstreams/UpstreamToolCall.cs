using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Sends <c>tools/call</c> upstream as a raw JSON-RPC request with an id the gateway chooses, so that a cancelled call
/// can be cancelled upstream too: the SDK client only aborts the HTTP request, which a 2025-11-25 session ignores
/// (modelcontextprotocol/csharp-sdk#1365). Arguments pass through as the agent sent them, without re-serialization.
/// </summary>
internal static class UpstreamToolCall
{
    private static long _nextId;

    /// <param name="client">The upstream's client (the shared one or a session's own).</param>
    /// <param name="direct">The shared client's direct way (<see cref="DirectToolCalls"/>), or null for the SDK client's.</param>
    public static async ValueTask<CallToolResult> CallAsync(
        McpClient client,
        DirectToolCalls? direct,
        string name,
        IDictionary<string, JsonElement>? arguments,
        JsonObject? meta,
        ProgressToken? progressToken,
        UpstreamRoundTrip? roundTrip,
        CancellationToken cancellationToken)
    {
        var parameters = new JsonObject { ["name"] = name };
        if (arguments is not null)
        {
            var args = new JsonObject();
            foreach (var (key, value) in arguments)
            {
                args[key] = JsonSerializer.SerializeToNode(value, McpJsonUtilities.DefaultOptions);
            }

            parameters["arguments"] = args;
        }

        if (meta is not null || progressToken is not null)
        {
            var m = meta ?? [];
            if (progressToken is { } token)
            {
                m["progressToken"] = JsonSerializer.SerializeToNode(token, McpJsonUtilities.DefaultOptions);
            }

            parameters["_meta"] = m;
        }

        roundTrip?.AddTo(parameters, client);
        var id = new RequestId("gw-" + Interlocked.Increment(ref _nextId));
        try
        {
            var request = new JsonRpcRequest { Id = id, Method = RequestMethods.ToolsCall, Params = parameters };
            var response = direct is not null
                ? await direct.SendAsync(request, client.SessionId, client.NegotiatedProtocolVersion, cancellationToken)
                : await client.SendRequestAsync(request, cancellationToken);
            if (InputRequiredPassThrough.TryTake(response.Result, out var inputRequired))
            {
                throw new Gateway.Core.Pipeline.UpstreamInputRequiredException(roundTrip?.Checked(inputRequired) ?? inputRequired);
            }

            if (UpstreamTaskResult.TryTake(response.Result, out var task))
            {
                throw new Gateway.Core.Pipeline.UpstreamTaskCreatedException(task);
            }

            return response.Result.Deserialize<CallToolResult>(McpJsonUtilities.DefaultOptions)
                ?? throw new McpProtocolException("The upstream returned an empty tools/call result.", McpErrorCode.InternalError);
        }
        catch (Exception ex) when (!ProtocolRevisions.IsPerRequest(client.NegotiatedProtocolVersion)
            && ((ex is OperationCanceledException && cancellationToken.IsCancellationRequested) || IsOversized(ex)))
        {
            // Tell the upstream; bounded and best effort, the caller has already given up (or the result was refused
            // for its size: the upstream may still be producing it).
            using var notify = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await client.SendNotificationAsync(
                    NotificationMethods.CancelledNotification,
                    new CancelledNotificationParams { RequestId = id, Reason = IsOversized(ex) ? "The result exceeded the gateway's size limit." : "The agent cancelled the call, or it timed out at the gateway." },
                    cancellationToken: notify.Token);
            }
            catch (Exception)
            {
                // The connection may be gone; the supervisor deals with that.
            }

            throw;
        }
    }

    private static bool IsOversized(Exception ex) =>
        ex is Gateway.Core.Pipeline.UpstreamResultTooLargeException or McpProtocolException { ErrorCode: (McpErrorCode)Limits.OversizedMessage.ErrorCode };
}
